/*
 * problem.h — ACME problem documents (RFC 8555 §6.7, RFC 7807) with the exact
 * Boulder-compatible type URNs, HTTP statuses and detail strings of docs/semantics.md §8,
 * and the aggregation of an order's failures into sub-problems.
 */
#ifndef CAA_PROBLEM_H
#define CAA_PROBLEM_H

#include <stdbool.h>
#include <stddef.h>
#include "export.h"

typedef enum caa_problem_type {
	CAA_PROB_CAA = 1,             /* urn:ietf:params:acme:error:caa, 403 */
	CAA_PROB_DNS,                 /* urn:ietf:params:acme:error:dns, 400 */
	CAA_PROB_SERVER_INTERNAL,     /* urn:ietf:params:acme:error:serverInternal, 500 */
	CAA_PROB_MALFORMED,           /* urn:ietf:params:acme:error:malformed, 400 */
	CAA_PROB_REJECTED_IDENTIFIER, /* urn:ietf:params:acme:error:rejectedIdentifier, 400 */
} caa_problem_type_t;

typedef struct caa_problem {
	caa_problem_type_t type;
	int status;                      /* HTTP status */
	char *detail;                    /* owned */
	char *identifier;                /* owned; may be NULL for an order's aggregate */
	struct caa_problem *subproblems; /* owned array */
	size_t n_subproblems;
} caa_problem_t;

/* "urn:ietf:params:acme:error:caa" etc. */
CAA_EXPORT const char *caa_problem_urn(caa_problem_type_t type);
/* Boulder's short form without the URN prefix: "caa", "dns", "serverInternal". */
CAA_EXPORT const char *caa_problem_short(caa_problem_type_t type);
/* The type whose short form is s ("caa"), false (out untouched) for any other text. */
CAA_EXPORT bool caa_problem_type_from_short(const char *s, caa_problem_type_t *out);
/* The HTTP status of a type: 403 for caa, 400 for dns/malformed/rejectedIdentifier, 500. */
CAA_EXPORT int caa_problem_status(caa_problem_type_t type);

/*
 * New problem with printf-style detail; identifier may be NULL.
 * Returns NULL on allocation failure. Free with caa_problem_free().
 */
CAA_EXPORT caa_problem_t *caa_problem_new(caa_problem_type_t type, const char *identifier,
                                          const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* FORBIDDEN: "While processing CAA for <ident>: CAA record for <relevant> prevents issuance". */
CAA_EXPORT caa_problem_t *caa_problem_forbidden(const char *ident, const char *relevant);

/*
 * LOOKUP_FAILED: "While processing CAA for <ident>: DNS problem: <what> looking up CAA for
 * <label>[ - <hint>]". what is e.g. "SERVFAIL", "query timed out", "DNSSEC: <why>";
 * hint may be NULL.
 */
CAA_EXPORT caa_problem_t *caa_problem_dns(const char *ident, const char *what, const char *label,
                                          const char *hint);

/*
 * Aggregate an order: failed[i] are the problems of the failing identifiers in
 * request order (n >= 1). One failure → a deep copy of it. Two or more → type
 * caa, 403, detail "Rechecking CAA for \"<first>\" and <n-1> more identifiers
 * failed. Refer to sub-problems for more information", with deep copies of the
 * problems as sub-problems. boulder_types turns each sub-problem's type into
 * caa (403) as Boulder's RA does, and so the one problem of a one-failure
 * order too; details are kept. Returns NULL on allocation failure.
 */
CAA_EXPORT caa_problem_t *caa_problem_order(const caa_problem_t *const *failed, size_t n,
                                            bool boulder_types);

/* Deep copy into *dst (dst's previous content is not freed). Returns CAA_EOK or CAA_ENOMEM. */
CAA_EXPORT int caa_problem_copy(caa_problem_t *dst, const caa_problem_t *src);

/* Free p and everything it owns; NULL is fine. */
CAA_EXPORT void caa_problem_free(caa_problem_t *p);
/* Free what an embedded problem owns (for elements of a subproblems array). */
CAA_EXPORT void caa_problem_deinit(caa_problem_t *p);

#endif
