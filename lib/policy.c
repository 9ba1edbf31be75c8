/*
 * policy.c — the CAA decision (docs/semantics.md §1–§5) as pure functions: which label's
 * RRset is relevant, and what that RRset says about a request. No DNS, no
 * allocation: the climb and `caa evaluate` both end here.
 */
#include <string.h>

#include "policy.h"

void caa_policy_init(caa_policy_t *pol)
{
	memset(pol, 0, sizeof(*pol));
	pol->name = "";
	pol->critical = CAA_CRITICAL_UNKNOWN;
	pol->flag1_is_critical = true;
	pol->tld_nxdomain_error = true;
	pol->nodata_without_soa_error = false;
}

/* ---- relevant RRset selection ---- */

bool caa_policy_upstream_failure(caa_outcome_t outcome)
{
	switch (outcome) {
	case CAA_OUT_SERVFAIL:
	case CAA_OUT_REFUSED:
	case CAA_OUT_NOTIMP:
	case CAA_OUT_FORMERR:
	case CAA_OUT_TIMEOUT: return true;
	default: return false;
	}
}

bool caa_policy_label_failed(const caa_label_t *labels, size_t n, size_t i, const caa_policy_t *pol)
{
	const caa_label_t *l = &labels[i];

	switch (l->outcome) {
	case CAA_OUT_PENDING:
	case CAA_OUT_PRESENT:
	case CAA_OUT_EMPTY: return false;
	case CAA_OUT_NXDOMAIN:
		/* NXDOMAIN below the TLD is an empty answer; at the TLD it usually
		 * means a broken resolver path, unless a private PKI says otherwise. */
		return i == n - 1 && pol->tld_nxdomain_error;
	case CAA_OUT_NODATA_NOSOA: return pol->nodata_without_soa_error;
	case CAA_OUT_SERVFAIL:
	case CAA_OUT_REFUSED:
	case CAA_OUT_NOTIMP:
	case CAA_OUT_FORMERR:
	case CAA_OUT_TIMEOUT:
		/* BR 3.2.2.8 carve-out: an upstream failure in a zone proven
		 * insecure, retried at least once, may be taken as permission. */
		if (pol->insecure_lookup_failure_permits &&
		    caa_policy_upstream_failure(l->outcome) && l->dnssec == CAA_DNSSEC_INSECURE &&
		    l->retries >= 1)
			return false;
		return true;
	case CAA_OUT_NETWORK:
	case CAA_OUT_BOGUS: return true;
	}
	return true; /* an outcome we do not know fails closed */
}

caa_select_t caa_policy_select(const caa_label_t *labels, size_t n, const caa_policy_t *pol,
                               size_t *idx)
{
	/* Walk up from the full name. Labels above the first present one can
	 * never matter, so the walk stops there even if they are pending. */
	for (size_t i = 0; i < n; i++) {
		const caa_label_t *l = &labels[i];
		if (l->outcome == CAA_OUT_PENDING)
			return CAA_SEL_UNDECIDED;
		if (caa_policy_label_failed(labels, n, i, pol)) {
			*idx = i;
			return CAA_SEL_ERROR;
		}
		if (l->outcome == CAA_OUT_PRESENT && l->n_rrs > 0) {
			*idx = i;
			return CAA_SEL_RELEVANT;
		}
	}
	return CAA_SEL_NONE;
}

/* ---- evaluating the relevant RRset ---- */

const char *caa_note_text(caa_note_t note)
{
	switch (note) {
	case CAA_NOTE_NONE: return "";
	case CAA_NOTE_AUTHORIZES: return "authorizes this CA";
	case CAA_NOTE_OTHER_ISSUER: return "names another CA";
	case CAA_NOTE_NO_ISSUER: return "no issuer: forbids every CA";
	case CAA_NOTE_MALFORMED_VALUE: return "value does not parse: authorizes nobody";
	case CAA_NOTE_ACCOUNT_MISMATCH: return "names this CA, accounturi is another account";
	case CAA_NOTE_ACCOUNT_DUPLICATE: return "names this CA, more than one accounturi";
	case CAA_NOTE_METHOD_MISMATCH:
		return "names this CA, validationmethods excludes the method";
	case CAA_NOTE_METHODS_MALFORMED:
		return "names this CA, validationmethods malformed or repeated";
	case CAA_NOTE_NOT_RESTRICTING: return "not restricting";
	case CAA_NOTE_ISSUEWILD_IGNORED: return "issuewild: ignored for a non-wildcard name";
	case CAA_NOTE_ISSUE_SHADOWED: return "issue: ignored, issuewild governs wildcards";
	case CAA_NOTE_CRITICAL_BLOCKS: return "critical tag not understood: blocks issuance";
	case CAA_NOTE_MALFORMED_RDATA: return "record does not parse: blocks issuance";
	}
	return "";
}

static bool ascii_ieq(const char *a, size_t alen, const char *b, size_t blen)
{
	if (alen != blen)
		return false;
	for (size_t i = 0; i < alen; i++) {
		unsigned char x = (unsigned char)a[i], y = (unsigned char)b[i];
		if (x >= 'A' && x <= 'Z')
			x += 32;
		if (y >= 'A' && y <= 'Z')
			y += 32;
		if (x != y)
			return false;
	}
	return true;
}

static bool cstr_ieq(const char *a, size_t alen, const char *b)
{
	return b != NULL && ascii_ieq(a, alen, b, strlen(b));
}

static bool is_critical(const caa_policy_t *pol, uint8_t flags)
{
	return (flags & CAA_FLAG_CRITICAL) || (pol->flag1_is_critical && (flags & CAA_FLAG_ONE));
}

/* A critical tag blocks when caad does not understand it under the policy:
 * caad acts on issue and issuewild only; iodef, issuemail, issuevmc and
 * contact* are recognised but not acted on. */
static bool critical_blocks(const caa_policy_t *pol, caa_tag_t tag)
{
	if (tag == CAA_TAG_UNKNOWN)
		return true;
	if (pol->critical == CAA_CRITICAL_UNKNOWN_OR_UNSUPPORTED)
		return tag != CAA_TAG_ISSUE && tag != CAA_TAG_ISSUEWILD;
	return false;
}

static bool issuer_is_ours(const caa_policy_t *pol, const caa_issue_value_t *v)
{
	for (size_t i = 0; i < pol->n_issuer_domains; i++)
		if (cstr_ieq(v->issuer, v->issuer_len, pol->issuer_domains[i]))
			return true;
	return false;
}

/* Does value equal prefix followed by the decimal account id? */
static bool uri_is_prefix_id(const char *value, size_t len, const char *prefix, int64_t id)
{
	size_t plen = strlen(prefix);
	if (len <= plen || memcmp(value, prefix, plen) != 0)
		return false;
	char digits[24];
	size_t nd = 0;
	uint64_t u = (uint64_t)id;
	do {
		digits[nd++] = (char)('0' + u % 10);
		u /= 10;
	} while (u > 0);
	if (len - plen != nd)
		return false;
	for (size_t i = 0; i < nd; i++)
		if (value[plen + i] != digits[nd - 1 - i])
			return false;
	return true;
}

static bool account_matches(const caa_policy_t *pol, const caa_query_t *q,
                            const caa_issue_value_t *v)
{
	if (q->account_uri != NULL && q->account_uri[0] != '\0') {
		size_t ulen = strlen(q->account_uri);
		if (ulen == v->accounturi_len && memcmp(q->account_uri, v->accounturi, ulen) == 0)
			return true;
	}
	if (q->account_id > 0)
		for (size_t i = 0; i < pol->n_account_uri_prefixes; i++)
			if (uri_is_prefix_id(v->accounturi, v->accounturi_len,
			                     pol->account_uri_prefixes[i], q->account_id))
				return true;
	return false;
}

bool caa_policy_account_agrees(const caa_policy_t *pol, const char *account_uri, int64_t account_id)
{
	if (account_uri == NULL || account_uri[0] == '\0' || account_id <= 0)
		return true;
	size_t len = strlen(account_uri);
	for (size_t i = 0; pol != NULL && i < pol->n_account_uri_prefixes; i++)
		if (uri_is_prefix_id(account_uri, len, pol->account_uri_prefixes[i], account_id))
			return true;
	return false;
}

/* BR 4.2.2.1.2 / SC-098 labels naming BR 3.2.2.4.N methods. */
static const char *const tbr7[] = {"dns-01", "dns-account-01"};
static const char *const tbr19[] = {"http-01"};
static const char *const tbr20[] = {"tls-alpn-01"};
static const caa_method_label_t default_method_labels[] = {
    {"ca-tbr-7", tbr7, 2},
    {"ca-tbr-19", tbr19, 1},
    {"ca-tbr-20", tbr20, 1},
};

static bool method_label_matches(const caa_policy_t *pol, const char *label, size_t len,
                                 const char *method)
{
	if (cstr_ieq(label, len, method))
		return true;
	const caa_method_label_t *map = pol->method_labels;
	size_t n = pol->n_method_labels;
	if (map == NULL) {
		map = default_method_labels;
		n = sizeof(default_method_labels) / sizeof(default_method_labels[0]);
	}
	size_t mlen = strlen(method);
	for (size_t i = 0; i < n; i++) {
		if (!cstr_ieq(label, len, map[i].label))
			continue;
		for (size_t j = 0; j < map[i].n_methods; j++)
			if (cstr_ieq(method, mlen, map[i].methods[j]))
				return true;
	}
	return false;
}

bool caa_policy_method_known(const caa_policy_t *pol, const char *method)
{
	/* RFC 8555 §8.3, §8.4, RFC 8737, draft-ietf-acme-dns-account-label */
	static const char *const acme[] = {"http-01", "dns-01", "tls-alpn-01", "dns-account-01"};
	if (method == NULL)
		return false;
	for (size_t i = 0; i < sizeof(acme) / sizeof(acme[0]); i++)
		if (strcmp(method, acme[i]) == 0)
			return true;
	for (size_t i = 0; pol != NULL && i < pol->n_method_labels; i++)
		for (size_t j = 0; j < pol->method_labels[i].n_methods; j++)
			if (strcmp(method, pol->method_labels[i].methods[j]) == 0)
				return true;
	return false;
}

static bool method_matches(const caa_policy_t *pol, const caa_query_t *q,
                           const caa_issue_value_t *v)
{
	if (q->method == NULL || q->method[0] == '\0')
		return false;
	size_t pos = 0, len;
	const char *label;
	while (caa_rr_methods_next(v, &pos, &label, &len))
		if (method_label_matches(pol, label, len, q->method))
			return true;
	return false;
}

/* What one issue/issuewild property says about the request (docs/semantics.md §3.6, §5). */
static caa_note_t judge_property(const caa_policy_t *pol, const caa_query_t *q, const caa_rr_t *rr)
{
	caa_issue_value_t v;
	if (caa_rr_issue_value_parse(rr->value, rr->value_len, &v) != CAA_EOK)
		return CAA_NOTE_MALFORMED_VALUE;
	if (v.issuer_len == 0)
		return CAA_NOTE_NO_ISSUER;
	if (!issuer_is_ours(pol, &v))
		return CAA_NOTE_OTHER_ISSUER;
	if (v.n_accounturi > 1)
		return CAA_NOTE_ACCOUNT_DUPLICATE;
	if (v.n_accounturi == 1 && !account_matches(pol, q, &v))
		return CAA_NOTE_ACCOUNT_MISMATCH;
	if (v.n_methods > 1 || (v.n_methods == 1 && v.methods_malformed))
		return CAA_NOTE_METHODS_MALFORMED;
	if (v.n_methods == 1 && !method_matches(pol, q, &v))
		return CAA_NOTE_METHOD_MISMATCH;
	return CAA_NOTE_AUTHORIZES;
}

/* How specific a refusal is: the decision reports the most specific one. */
static int note_rank(caa_note_t note, caa_reason_t *reason)
{
	switch (note) {
	case CAA_NOTE_METHOD_MISMATCH:
	case CAA_NOTE_METHODS_MALFORMED: *reason = CAA_R_VALIDATION_METHOD_MISMATCH; return 4;
	case CAA_NOTE_ACCOUNT_MISMATCH:
	case CAA_NOTE_ACCOUNT_DUPLICATE: *reason = CAA_R_ACCOUNT_URI_MISMATCH; return 3;
	case CAA_NOTE_OTHER_ISSUER:
	case CAA_NOTE_NO_ISSUER: *reason = CAA_R_NOT_AUTHORIZED; return 2;
	case CAA_NOTE_MALFORMED_VALUE: *reason = CAA_R_MALFORMED_PROPERTY; return 1;
	default: return 0;
	}
}

static void decide(caa_decision_t *out, caa_verdict_t verdict, caa_reason_t reason, int by)
{
	out->verdict = verdict;
	out->reason = reason;
	out->decided_by = by;
}

/* Pass 1: records that block whatever else the RRset says (the first
 * critical-and-blocking record, else the first malformed one), and whether
 * an issuewild property is present. Returns true with *out decided when a
 * record blocks. */
static bool screen_blocking(const caa_policy_t *pol, const caa_rr_t *rrs, size_t n,
                            caa_decision_t *out, caa_note_t *notes, bool *any_issuewild)
{
	caa_note_t scratch = CAA_NOTE_NONE; /* the note sink when the caller keeps none */
	int critical_at = -1, malformed_at = -1;

	*any_issuewild = false;
	for (size_t i = 0; i < n; i++) {
		caa_note_t *note = notes ? &notes[i] : &scratch;
		const caa_rr_t *rr = &rrs[i];
		caa_tag_t tag = rr->malformed ? CAA_TAG_UNKNOWN : caa_rr_tag(rr->tag, rr->tag_len);

		*note = CAA_NOTE_NONE;
		if (is_critical(pol, rr->flags) && critical_blocks(pol, tag)) {
			*note = CAA_NOTE_CRITICAL_BLOCKS;
			if (critical_at < 0)
				critical_at = (int)i;
		} else if (rr->malformed) {
			*note = CAA_NOTE_MALFORMED_RDATA;
			if (malformed_at < 0)
				malformed_at = (int)i;
		} else if (tag == CAA_TAG_ISSUEWILD) {
			*any_issuewild = true;
		}
	}
	if (critical_at >= 0) {
		decide(out, CAA_FORBIDDEN, CAA_R_CRITICAL_TAG, critical_at);
		return true;
	}
	if (malformed_at >= 0) {
		/* A record we cannot read may be an issue property: fail closed. */
		decide(out, CAA_FORBIDDEN, CAA_R_MALFORMED_PROPERTY, malformed_at);
		return true;
	}
	return false;
}

/* Pass 2: judge the properties of the governing tag; the first that
 * authorizes wins, else the highest-ranked refusal. */
static void judge_governing(const caa_policy_t *pol, const caa_query_t *q, const caa_rr_t *rrs,
                            size_t n, caa_tag_t governing, caa_decision_t *out, caa_note_t *notes)
{
	caa_note_t scratch = CAA_NOTE_NONE; /* the note sink when the caller keeps none */
	int authorized_at = -1, refusal_at = -1, best_rank = 0;
	caa_reason_t best_reason = CAA_R_NOT_AUTHORIZED;
	bool any_restricting = false;

	for (size_t i = 0; i < n; i++) {
		caa_note_t *note = notes ? &notes[i] : &scratch;
		const caa_rr_t *rr = &rrs[i];
		caa_tag_t tag = caa_rr_tag(rr->tag, rr->tag_len);

		if (tag != governing) {
			if (tag == CAA_TAG_ISSUEWILD)
				*note = CAA_NOTE_ISSUEWILD_IGNORED;
			else if (tag == CAA_TAG_ISSUE)
				*note = CAA_NOTE_ISSUE_SHADOWED;
			else
				*note = CAA_NOTE_NOT_RESTRICTING;
			continue;
		}
		any_restricting = true;
		*note = judge_property(pol, q, rr);
		if (*note == CAA_NOTE_AUTHORIZES) {
			if (authorized_at < 0)
				authorized_at = (int)i;
			continue;
		}
		caa_reason_t reason = CAA_R_NOT_AUTHORIZED;
		int rank = note_rank(*note, &reason);
		if (rank > best_rank) {
			best_rank = rank;
			best_reason = reason;
			refusal_at = (int)i;
		}
	}

	if (!any_restricting)
		decide(out, CAA_PERMITTED, CAA_R_NO_RESTRICTING_PROPERTY, -1);
	else if (authorized_at >= 0)
		decide(out, CAA_PERMITTED, CAA_R_AUTHORIZED, authorized_at);
	else
		decide(out, CAA_FORBIDDEN, best_reason, refusal_at);
}

void caa_policy_eval(const caa_policy_t *pol, const caa_query_t *q, const caa_rr_t *rrs, size_t n,
                     caa_decision_t *out, caa_note_t *notes)
{
	bool any_issuewild;

	if (n == 0) {
		decide(out, CAA_PERMITTED, CAA_R_NO_CAA, -1);
		return;
	}
	if (screen_blocking(pol, rrs, n, out, notes, &any_issuewild))
		return;
	/* issuewild governs a wildcard request when the RRset has one. */
	caa_tag_t governing = (q->wildcard && any_issuewild) ? CAA_TAG_ISSUEWILD : CAA_TAG_ISSUE;
	judge_governing(pol, q, rrs, n, governing, out, notes);
}
