/*
 * result.h — a check's complete answer (what caa.v1.CheckResponse carries) and
 * caa_evaluate(): normalise the identifier, select the relevant RRset, decide,
 * and build the problem document. The climb calls the same code, so DNS and
 * what-if evaluation can never disagree.
 */
#ifndef CAA_RESULT_H
#define CAA_RESULT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "types.h"
#include "mpic.h"
#include "name.h"
#include "policy.h"
#include "problem.h"
#include "export.h"

/* One CAA record, owned copy, with what it contributed to the decision. */
typedef struct caa_record {
	uint8_t flags;
	bool malformed;
	char *tag;
	char *value;
	caa_note_t note;
	uint8_t *rdata; /* malformed: the RDATA as it came, so it can be shown (RFC 3597) */
	size_t rdata_len;
} caa_record_t;

/* One label of the climb, for explanations. */
typedef struct caa_trace {
	char *name;
	caa_outcome_t outcome; /* PENDING: not needed, decided below */
	caa_dnssec_t dnssec;
	caa_record_t *records;
	size_t n_records;
	char *why; /* why_bogus, EDE text, diagnosed cause; NULL if none */
	unsigned retries;
	uint32_t elapsed_us;
	bool relevant; /* this label's RRset (or error) decided */
} caa_trace_t;

/* Things worth a flag in an explanation (caa_result_t.flags). */
enum caa_result_flag {
	CAA_RESULT_NODATA_WITHOUT_SOA =
	    1 << 0,                  /* a label counted as empty answered NODATA without SOA */
	CAA_RESULT_RETRIED = 1 << 1, /* some label needed retries */
	/* a failed lookup counted as empty: insecure_lookup_failure_permits, zone proven Insecure
	 */
	CAA_RESULT_INSECURE_LOOKUP_FAILURE = 1 << 2,
};

/* Name of one flag bit ("NODATA_WITHOUT_SOA"), NULL for unknown bits. */
CAA_EXPORT const char *caa_result_flag_name(unsigned flag);

typedef struct caa_result {
	char *identifier; /* as requested, normalised; "*.x" keeps its "*." */
	char *policy;     /* profile name, "" for the default */
	caa_verdict_t verdict;
	caa_reason_t reason;
	char *relevant_domain; /* "" when no relevant RRset */
	caa_record_t *records; /* the relevant RRset */
	size_t n_records;
	int decided_by; /* index into records of the deciding record, -1 */
	caa_dnssec_t dnssec;
	caa_problem_t *problem; /* NULL when permitted */
	int64_t checked_at_ms;  /* Unix time, ms */
	bool reused;            /* answered from the reuse window, no DNS */
	caa_trace_t *trace;     /* every label, full name first; n_trace 0 when not kept */
	size_t n_trace;
	unsigned flags;   /* enum caa_result_flag bits */
	unsigned queries; /* DNS queries sent for this check */
	uint32_t elapsed_us;
	/* every configured remote in configured order when they were asked (docs/semantics.md §9);
	 * n_perspectives 0 when nobody was (single perspective, local failure, reuse) */
	caa_perspective_t *perspectives;
	size_t n_perspectives;
} caa_result_t;

/* A check request as callers give it. Borrowed strings. */
typedef struct caa_request {
	const char *type;        /* "dns" (NULL means "dns") or "ip" */
	const char *identifier;  /* e.g. "www.example.com", "*.example.com" */
	const char *account_uri; /* may be NULL */
	int64_t account_id;      /* Boulder accountURIID, 0 = none */
	const char *method;      /* e.g. "dns-01"; may be NULL */
	const char *policy;      /* profile name; NULL/"" = default */
	int64_t validated_at_ms; /* authorization's validation time (Unix ms), 0 = none */
	bool explain;            /* keep the trace; a lookup failure that decides is diagnosed
	                          * (docs/diagnosis.md), within the check's deadline */
	bool trace;              /* keep the trace only: no diagnosis, no wait (caad's audit) */
} caa_request_t;

/*
 * Is req one the CA can mean under pol, apart from its identifier (which
 * caa_name_parse_typed judges)? CAA_EMETHOD for a validation method the CA
 * cannot mean (caa_policy_method_known), CAA_EACCOUNT for an account_uri and
 * an account_id naming different accounts (caa_policy_account_agrees: a
 * permission could come through either form), else CAA_EOK. Every way a
 * request enters libcaa (caa_evaluate, the climb) refuses it with this code.
 */
CAA_EXPORT int caa_request_validate(const caa_policy_t *pol, const caa_request_t *req);

/*
 * Decide for req under pol from per-label outcomes: labels[i] must be the
 * lookup of caa_name_suffix(name, i), n = name->n_labels (a shorter list is
 * read as "the rest is pending" and fails closed). keep_trace copies every
 * label into result->trace.
 * Returns CAA_EOK with *out set; a CAA_ENAME_* code for a bad identifier,
 * CAA_EMETHOD or CAA_EACCOUNT for a request the CA cannot mean
 * (caa_request_validate; no result); CAA_ENOMEM. IP identifiers (type "ip") and .onion names give a
 * PERMITTED / NOT_APPLICABLE result without looking at labels.
 */
CAA_EXPORT int caa_evaluate(const caa_policy_t *pol, const caa_request_t *req,
                            const caa_label_t *labels, size_t n, bool keep_trace,
                            caa_result_t **out);

/* Build the result from a parsed name and labels (used by the climb). */
CAA_EXPORT int caa_result_build(const caa_policy_t *pol, const caa_request_t *req,
                                const caa_name_t *name, const caa_label_t *labels, size_t n,
                                bool keep_trace, caa_result_t **out);

/* A result for an identifier that CAA does not apply to (IP, .onion). */
CAA_EXPORT int caa_result_not_applicable(const caa_request_t *req, caa_result_t **out);

CAA_EXPORT void caa_result_free(caa_result_t *res);

#endif
