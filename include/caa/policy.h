/*
 * policy.h — the CAA decision as a pure function (docs/semantics.md §1–§5): selecting the
 * relevant RRset from per-label lookup outcomes, and evaluating it for a
 * request under a set of policy knobs. No DNS, no allocation.
 */
#ifndef CAA_POLICY_H
#define CAA_POLICY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "types.h"
#include "rr.h"
#include "export.h"

/* Which critical tags block issuance (docs/semantics.md §2). */
typedef enum caa_critical_mode {
	CAA_CRITICAL_UNKNOWN = 0,            /* only unrecognised tags (default) */
	CAA_CRITICAL_UNKNOWN_OR_UNSUPPORTED, /* also recognised tags caad does not act on */
} caa_critical_mode_t;

/* A validationmethods label (e.g. "ca-tbr-7") and the ACME methods it stands for. */
typedef struct caa_method_label {
	const char *label;
	const char *const *methods;
	size_t n_methods;
} caa_method_label_t;

/* The policy knobs, and the CA identity the decision needs. Strings are borrowed
 * (owned by the config that made the policy). */
typedef struct caa_policy {
	const char *name;                  /* profile name; "" for the default */
	const char *const *issuer_domains; /* lowercase, no trailing dot */
	size_t n_issuer_domains;
	const char *const *account_uri_prefixes;
	size_t n_account_uri_prefixes;
	caa_critical_mode_t critical;
	bool flag1_is_critical;               /* default true */
	bool tld_nxdomain_error;              /* tld_nxdomain "error" (default) vs "empty" */
	bool nodata_without_soa_error;        /* nodata_without_soa "error" vs "empty" (default) */
	bool insecure_lookup_failure_permits; /* BR carve-out, default false */
	bool boulder_recheck_types;           /* order sub-problems all typed caa */
	const caa_method_label_t *method_labels; /* NULL/0 = the default ca-tbr mapping */
	size_t n_method_labels;
} caa_policy_t;

/* Defaults as docs/semantics.md states them (no issuer domains). */
CAA_EXPORT void caa_policy_init(caa_policy_t *pol);

/* ---- relevant RRset selection (docs/semantics.md §1) ---- */

/* Outcome of one label's CAA lookup. */
typedef enum caa_outcome {
	CAA_OUT_PENDING = 0,  /* not answered (yet) */
	CAA_OUT_PRESENT,      /* NOERROR with >= 1 CAA record */
	CAA_OUT_EMPTY,        /* NOERROR without CAA (NODATA, alias chain ending empty) */
	CAA_OUT_NODATA_NOSOA, /* NOERROR, no CAA and no SOA in authority: empty unless policy says
	                         error */
	CAA_OUT_NXDOMAIN,     /* empty, except at the TLD under tld_nxdomain "error" */
	CAA_OUT_SERVFAIL,
	CAA_OUT_REFUSED,
	CAA_OUT_NOTIMP,
	CAA_OUT_FORMERR,
	CAA_OUT_TIMEOUT,
	CAA_OUT_NETWORK,
	CAA_OUT_BOGUS, /* DNSSEC validation failed; why holds the reason */
} caa_outcome_t;

/* One label's lookup, as the climb (or a records file) saw it. Borrowed pointers. */
typedef struct caa_label {
	const char *name; /* e.g. "shop.example" (no trailing dot) */
	caa_outcome_t outcome;
	caa_dnssec_t dnssec;
	const caa_rr_t *rrs; /* outcome PRESENT */
	size_t n_rrs;
	const char *why;     /* why_bogus, EDE text or a diagnosed cause; may be NULL */
	unsigned retries;    /* retries spent on this label */
	uint32_t elapsed_us; /* time from first query to final answer */
} caa_label_t;

typedef enum caa_select {
	CAA_SEL_UNDECIDED = 0, /* a label that matters is still pending */
	CAA_SEL_RELEVANT,      /* *idx is the label holding the relevant RRset */
	CAA_SEL_NONE,          /* no relevant RRset: every label answered empty */
	CAA_SEL_ERROR,         /* *idx is the failing label that decides: LOOKUP_FAILED */
} caa_select_t;

/*
 * Select the relevant RRset from labels[0] (the full name) to labels[n-1] (the
 * TLD): walking up, an error before the first present label fails the check;
 * the first present label is relevant and errors further up are irrelevant.
 * Applies tld_nxdomain and nodata_without_soa. Returns UNDECIDED while a label
 * that could still change the answer is pending, so a climb can decide early.
 */
CAA_EXPORT caa_select_t caa_policy_select(const caa_label_t *labels, size_t n,
                                          const caa_policy_t *pol, size_t *idx);

/* An upstream failure the BR 3.2.2.8 carve-out may cover (SERVFAIL, REFUSED,
 * NOTIMP, FORMERR, timeout); never a network error (possibly the CA's own
 * side) or a bogus answer. */
CAA_EXPORT bool caa_policy_upstream_failure(caa_outcome_t outcome);

/* True when labels[i] counts as an error under pol (see caa_policy_select).
 * Under insecure_lookup_failure_permits, an upstream failure (not NETWORK, not
 * BOGUS) on a label proven INSECURE and retried at least once does not count. */
CAA_EXPORT bool caa_policy_label_failed(const caa_label_t *labels, size_t n, size_t i,
                                        const caa_policy_t *pol);

/* ---- evaluating the relevant RRset (docs/semantics.md §2–§5) ---- */

/* The request as the decision sees it. */
typedef struct caa_query {
	bool wildcard;           /* identifier was "*.name" */
	const char *account_uri; /* may be NULL or "" */
	int64_t account_id; /* Boulder accountURIID, 0 = none: matched via account_uri_prefixes */
	const char *method; /* ACME validation method, may be NULL or "" */
} caa_query_t;

/* True when method is one the CA can mean, spelled exactly: an ACME method
 * (http-01, dns-01, tls-alpn-01, dns-account-01) or one that pol's
 * method_labels map a label to. Anything else is a request error
 * (CAA_EMETHOD), never a method that merely fails to match. */
CAA_EXPORT bool caa_policy_method_known(const caa_policy_t *pol, const char *method);

/* What one record contributed. */
typedef enum caa_note {
	CAA_NOTE_NONE = 0,          /* not examined */
	CAA_NOTE_AUTHORIZES,        /* names us; parameters pass */
	CAA_NOTE_OTHER_ISSUER,      /* names another CA */
	CAA_NOTE_NO_ISSUER,         /* ";" or "": nobody may issue */
	CAA_NOTE_MALFORMED_VALUE,   /* value does not parse: authorises nobody */
	CAA_NOTE_ACCOUNT_MISMATCH,  /* names us, accounturi is another account */
	CAA_NOTE_ACCOUNT_DUPLICATE, /* names us, more than one accounturi */
	CAA_NOTE_METHOD_MISMATCH,   /* names us, method not in validationmethods */
	CAA_NOTE_METHODS_MALFORMED, /* names us, validationmethods malformed or repeated */
	CAA_NOTE_NOT_RESTRICTING,   /* iodef, contact*, issuemail, issuevmc, unknown non-critical */
	CAA_NOTE_ISSUEWILD_IGNORED, /* issuewild on a non-wildcard request */
	CAA_NOTE_ISSUE_SHADOWED,    /* issue ignored: wildcard request and issuewild present */
	CAA_NOTE_CRITICAL_BLOCKS,   /* critical and not understood under the policy */
	CAA_NOTE_MALFORMED_RDATA,   /* the record itself did not parse */
} caa_note_t;

/* Short English text of a note, for explanations. */
CAA_EXPORT const char *caa_note_text(caa_note_t note);

typedef struct caa_decision {
	caa_verdict_t verdict;
	caa_reason_t reason;
	int decided_by; /* index of the deciding record, -1 when none */
} caa_decision_t;

/*
 * Decide for the relevant RRset rrs[0..n) (n = 0: no relevant RRset → NO_CAA).
 * notes, when not NULL, gets n entries: what each record contributed.
 * Order (docs/semantics.md §3): malformed RDATA or a blocking critical tag → FORBIDDEN
 * first; then issuewild/issue selection; empty → NO_RESTRICTING_PROPERTY; any
 * authorising property → AUTHORIZED; else the most specific reason
 * (VALIDATION_METHOD_MISMATCH > ACCOUNT_URI_MISMATCH > NOT_AUTHORIZED > MALFORMED_PROPERTY).
 */
CAA_EXPORT void caa_policy_eval(const caa_policy_t *pol, const caa_query_t *q, const caa_rr_t *rrs,
                                size_t n, caa_decision_t *out, caa_note_t *notes);

/*
 * Do a request's two account forms name one account? True when either is
 * absent (account_uri NULL or "", account_id <= 0), or when account_uri is one
 * of pol's account_uri_prefixes followed by account_id in decimal. A request
 * whose forms disagree could be authorised through either: callers refuse it
 * (caad: INVALID_ARGUMENT).
 */
CAA_EXPORT bool caa_policy_account_agrees(const caa_policy_t *pol, const char *account_uri,
                                          int64_t account_id);

#endif
