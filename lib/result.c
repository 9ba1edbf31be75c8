/*
 * result.c — turn per-label lookup outcomes into a complete, explained
 * answer: relevant RRset selection, the decision, the problem document and,
 * on request, the trace. Shared by the climb and by what-if evaluation.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "result.h"
#include "util.h"

static char *dup_n(const char *s, size_t n)
{
	char *d = malloc(n + 1);
	if (d != NULL) {
		if (n > 0)
			memcpy(d, s, n);
		d[n] = '\0';
	}
	return d;
}

static char *dup_s(const char *s)
{
	return dup_n(s ? s : "", s ? strlen(s) : 0);
}

/* Weakest DNSSEC state over labels[0..n): one insecure link makes the answer insecure. */
static caa_dnssec_t weakest(const caa_label_t *labels, size_t n)
{
	static const int rank[] = {
	    [CAA_DNSSEC_SECURE] = 3,
	    [CAA_DNSSEC_INSECURE] = 2,
	    [CAA_DNSSEC_INDETERMINATE] = 1,
	    [CAA_DNSSEC_BOGUS] = 0,
	};
	caa_dnssec_t w = CAA_DNSSEC_SECURE;
	if (n == 0)
		return CAA_DNSSEC_INDETERMINATE;
	for (size_t i = 0; i < n; i++) {
		caa_dnssec_t d = labels[i].dnssec;
		if (d < CAA_DNSSEC_SECURE || d > CAA_DNSSEC_INDETERMINATE)
			d = CAA_DNSSEC_INDETERMINATE;
		if (rank[d] < rank[w])
			w = d;
	}
	return w;
}

static int copy_records(const caa_rr_t *rrs, size_t n, const caa_note_t *notes, caa_record_t **out,
                        size_t *n_out)
{
	*out = NULL;
	*n_out = 0;
	if (n == 0)
		return CAA_EOK;
	caa_record_t *recs = calloc(n, sizeof(*recs));
	if (recs == NULL)
		return CAA_ENOMEM;
	*out = recs;
	for (size_t i = 0; i < n; i++) {
		recs[i].flags = rrs[i].flags;
		recs[i].malformed = rrs[i].malformed;
		recs[i].note = notes ? notes[i] : CAA_NOTE_NONE;
		recs[i].tag = dup_n(rrs[i].tag, rrs[i].tag_len);
		recs[i].value = dup_n(rrs[i].value, rrs[i].value_len);
		*n_out = i + 1;
		if (recs[i].tag == NULL || recs[i].value == NULL)
			return CAA_ENOMEM;
		if (rrs[i].malformed && rrs[i].rdata != NULL) {
			recs[i].rdata = malloc(rrs[i].rdata_len ? rrs[i].rdata_len : 1);
			if (recs[i].rdata == NULL)
				return CAA_ENOMEM;
			if (rrs[i].rdata_len > 0)
				memcpy(recs[i].rdata, rrs[i].rdata, rrs[i].rdata_len);
			recs[i].rdata_len = rrs[i].rdata_len;
		}
	}
	return CAA_EOK;
}

static void free_records(caa_record_t *recs, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(recs[i].tag);
		free(recs[i].value);
		free(recs[i].rdata);
	}
	free(recs);
}

/* The reason and the "<what>" / hint of docs/semantics.md §8 for a failed label. */
static caa_reason_t failure_reason(const caa_label_t *l, const char **what, const char **hint)
{
	/* Boulder's hints (bdns rcodeExplanations), word for word. */
	static const char servfail_hint[] = "the domain's nameservers may be malfunctioning";
	static const char nxdomain_hint[] = "check that a DNS record exists for this domain";
	*hint = NULL;
	switch (l->outcome) {
	case CAA_OUT_NXDOMAIN:
		*what = "NXDOMAIN";
		*hint = nxdomain_hint;
		return CAA_R_DNS_NXDOMAIN_TLD;
	case CAA_OUT_NODATA_NOSOA:
		/* The strict (unbound 1.18) reading: what users saw was SERVFAIL. */
		*what = "SERVFAIL";
		*hint = servfail_hint;
		return CAA_R_DNS_NODATA_WITHOUT_SOA;
	case CAA_OUT_SERVFAIL:
		*what = "SERVFAIL";
		*hint = servfail_hint;
		return CAA_R_DNS_SERVFAIL;
	case CAA_OUT_REFUSED: *what = "REFUSED"; return CAA_R_DNS_REFUSED;
	case CAA_OUT_NOTIMP: *what = "NOTIMP"; return CAA_R_DNS_NOTIMP;
	case CAA_OUT_FORMERR: *what = "FORMERR"; return CAA_R_DNS_FORMERR;
	case CAA_OUT_TIMEOUT: *what = "query timed out"; return CAA_R_DNS_TIMEOUT;
	case CAA_OUT_NETWORK: *what = "networking error"; return CAA_R_DNS_NETWORK;
	case CAA_OUT_BOGUS:
		*what = NULL; /* "DNSSEC: <why>", built by the caller */
		return CAA_R_DNSSEC_BOGUS;
	default: *what = "SERVFAIL"; return CAA_R_INTERNAL;
	}
}

static caa_problem_t *failure_problem(const char *ident, const caa_label_t *l, caa_reason_t *reason)
{
	const char *what, *hint;
	*reason = failure_reason(l, &what, &hint);
	if (*reason != CAA_R_DNSSEC_BOGUS)
		return caa_problem_dns(ident, what, l->name, hint);
	const char *why = (l->why && l->why[0]) ? l->why : "validation failure";
	size_t len = strlen("DNSSEC: ") + strlen(why) + 1;
	char *buf = malloc(len);
	if (buf == NULL)
		return NULL;
	strcpy(buf, "DNSSEC: ");
	strcat(buf, why);
	caa_problem_t *p = caa_problem_dns(ident, buf, l->name, NULL);
	free(buf);
	return p;
}

static int build_trace(caa_result_t *res, const caa_label_t *labels, size_t n, size_t decisive,
                       bool have_decisive, const caa_note_t *notes)
{
	res->trace = calloc(n, sizeof(*res->trace));
	if (res->trace == NULL)
		return CAA_ENOMEM;
	res->n_trace = n;
	for (size_t i = 0; i < n; i++) {
		caa_trace_t *t = &res->trace[i];
		const caa_label_t *l = &labels[i];
		bool relevant = have_decisive && i == decisive;
		t->name = dup_s(l->name);
		t->outcome = l->outcome;
		t->dnssec = l->dnssec;
		t->retries = l->retries;
		t->elapsed_us = l->elapsed_us;
		t->relevant = relevant;
		t->why = l->why ? dup_s(l->why) : NULL;
		if (t->name == NULL || (l->why && t->why == NULL))
			return CAA_ENOMEM;
		if (l->outcome == CAA_OUT_PRESENT) {
			int rc = copy_records(l->rrs, l->n_rrs, relevant ? notes : NULL,
			                      &t->records, &t->n_records);
			if (rc != CAA_EOK)
				return rc;
		}
	}
	return CAA_EOK;
}

static char *display_identifier(const caa_name_t *name)
{
	char *s = malloc((size_t)name->len + 3);
	if (s != NULL) {
		strcpy(s, name->wildcard ? "*." : "");
		strcat(s, name->text);
	}
	return s;
}

const char *caa_result_flag_name(unsigned flag)
{
	switch (flag) {
	case CAA_RESULT_NODATA_WITHOUT_SOA: return "NODATA_WITHOUT_SOA";
	case CAA_RESULT_RETRIED: return "RETRIED";
	case CAA_RESULT_INSECURE_LOOKUP_FAILURE: return "INSECURE_LOOKUP_FAILURE";
	}
	return NULL;
}

/* Flags over the labels that were read to decide (labels[0..n)). */
static unsigned label_flags(const caa_label_t *labels, size_t n, const caa_policy_t *pol)
{
	unsigned f = 0;
	for (size_t i = 0; i < n; i++) {
		/* a failure that did not fail the check: the BR carve-out took it */
		if (caa_policy_upstream_failure(labels[i].outcome) &&
		    !caa_policy_label_failed(labels, n, i, pol))
			f |= CAA_RESULT_INSECURE_LOOKUP_FAILURE;
		if (labels[i].outcome == CAA_OUT_NODATA_NOSOA)
			f |= CAA_RESULT_NODATA_WITHOUT_SOA;
		if (labels[i].retries > 0)
			f |= CAA_RESULT_RETRIED;
	}
	return f;
}

/* Records of a relevant RRset are few; notes beyond this fall back to the heap. */
#define NOTES_ON_STACK 64

/* A relevant RRset at labels[idx]: the policy decides from its records.
 * notes holds labels[idx].n_rrs entries; the trace reads them later. */
static int fill_relevant(caa_result_t *res, const caa_policy_t *pol, const caa_request_t *req,
                         const caa_name_t *name, const caa_label_t *labels, size_t idx,
                         caa_note_t *notes)
{
	const caa_label_t *l = &labels[idx];
	caa_query_t q = {.wildcard = name->wildcard,
	                 .account_uri = req->account_uri,
	                 .account_id = req->account_id,
	                 .method = req->method};
	caa_decision_t d;
	caa_policy_eval(pol, &q, l->rrs, l->n_rrs, &d, notes);
	res->verdict = d.verdict;
	res->reason = d.reason;
	res->decided_by = d.decided_by;
	res->dnssec = weakest(labels, idx + 1);
	res->flags = label_flags(labels, idx + 1, pol);
	if (!(res->relevant_domain = dup_s(l->name)))
		return CAA_ENOMEM;
	if (copy_records(l->rrs, l->n_rrs, notes, &res->records, &res->n_records) != CAA_EOK)
		return CAA_ENOMEM;
	if (d.verdict != CAA_PERMITTED &&
	    !(res->problem = caa_problem_forbidden(res->identifier, l->name)))
		return CAA_ENOMEM;
	return CAA_EOK;
}

/* No CAA anywhere up to the TLD: issuance is permitted. */
static int fill_none(caa_result_t *res, const caa_policy_t *pol, const caa_label_t *labels,
                     size_t n)
{
	res->verdict = CAA_PERMITTED;
	res->reason = CAA_R_NO_CAA;
	res->dnssec = weakest(labels, n);
	res->flags = label_flags(labels, n, pol);
	if (!(res->relevant_domain = dup_s("")))
		return CAA_ENOMEM;
	return CAA_EOK;
}

/* The lookup of labels[idx] failed and that fails the check. */
static int fill_error(caa_result_t *res, const caa_policy_t *pol, const caa_label_t *labels,
                      size_t idx)
{
	res->verdict = CAA_LOOKUP_FAILED;
	res->dnssec =
	    labels[idx].outcome == CAA_OUT_BOGUS ? CAA_DNSSEC_BOGUS : weakest(labels, idx + 1);
	res->flags = label_flags(labels, idx + 1, pol);
	if (!(res->relevant_domain = dup_s("")))
		return CAA_ENOMEM;
	if (!(res->problem = failure_problem(res->identifier, &labels[idx], &res->reason)))
		return CAA_ENOMEM;
	return CAA_EOK;
}

/* The climb hands over only decided label sets; anything else is a bug,
 * and bugs fail closed. */
static int fill_undecided(caa_result_t *res)
{
	res->verdict = CAA_LOOKUP_FAILED;
	res->reason = CAA_R_INTERNAL;
	res->dnssec = CAA_DNSSEC_INDETERMINATE;
	res->relevant_domain = dup_s("");
	res->problem = caa_problem_new(CAA_PROB_SERVER_INTERNAL, res->identifier,
	                               "While processing CAA for %s: internal error: the "
	                               "lookup did not complete",
	                               res->identifier);
	if (res->relevant_domain == NULL || res->problem == NULL)
		return CAA_ENOMEM;
	return CAA_EOK;
}

int caa_result_build(const caa_policy_t *pol, const caa_request_t *req, const caa_name_t *name,
                     const caa_label_t *labels, size_t n, bool keep_trace, caa_result_t **out)
{
	caa_note_t stack_notes[NOTES_ON_STACK], *notes = stack_notes;
	caa_result_t *res = calloc(1, sizeof(*res));
	int rc = CAA_ENOMEM;
	size_t idx = 0;

	*out = NULL;
	if (res == NULL)
		return CAA_ENOMEM;
	res->decided_by = -1;
	res->checked_at_ms = caa_wall_ms();
	res->identifier = display_identifier(name);
	res->policy = dup_s(pol->name);
	if (res->identifier == NULL || res->policy == NULL)
		goto fail;

	caa_select_t sel = caa_policy_select(labels, n, pol, &idx);
	/* A short label list can never prove "no CAA": the TLD was not asked. */
	if (sel == CAA_SEL_NONE && n < name->n_labels)
		sel = CAA_SEL_UNDECIDED;

	int filled;
	switch (sel) {
	case CAA_SEL_RELEVANT:
		if (labels[idx].n_rrs > NOTES_ON_STACK &&
		    !(notes = malloc(labels[idx].n_rrs * sizeof(*notes))))
			goto fail;
		filled = fill_relevant(res, pol, req, name, labels, idx, notes);
		break;
	case CAA_SEL_NONE: filled = fill_none(res, pol, labels, n); break;
	case CAA_SEL_ERROR: filled = fill_error(res, pol, labels, idx); break;
	case CAA_SEL_UNDECIDED:
	default: filled = fill_undecided(res); break;
	}
	if (filled != CAA_EOK)
		goto fail;

	if (keep_trace &&
	    build_trace(res, labels, n, idx, sel == CAA_SEL_RELEVANT || sel == CAA_SEL_ERROR,
	                notes) != CAA_EOK)
		goto fail;
	if (notes != stack_notes)
		free(notes);
	*out = res;
	return CAA_EOK;
fail:
	if (notes != stack_notes)
		free(notes);
	caa_result_free(res);
	return rc;
}

int caa_result_not_applicable(const caa_request_t *req, caa_result_t **out)
{
	caa_result_t *res = calloc(1, sizeof(*res));
	*out = NULL;
	if (res == NULL)
		return CAA_ENOMEM;
	res->verdict = CAA_PERMITTED;
	res->reason = CAA_R_NOT_APPLICABLE;
	res->dnssec = CAA_DNSSEC_INDETERMINATE;
	res->decided_by = -1;
	res->checked_at_ms = caa_wall_ms();
	res->identifier = dup_s(req->identifier);
	res->policy = dup_s(req->policy);
	res->relevant_domain = dup_s("");
	if (!res->identifier || !res->policy || !res->relevant_domain) {
		caa_result_free(res);
		return CAA_ENOMEM;
	}
	*out = res;
	return CAA_EOK;
}

int caa_request_validate(const caa_policy_t *pol, const caa_request_t *req)
{
	if (req->method != NULL && req->method[0] != '\0' &&
	    !caa_policy_method_known(pol, req->method))
		return CAA_EMETHOD;
	if (!caa_policy_account_agrees(pol, req->account_uri, req->account_id))
		return CAA_EACCOUNT;
	return CAA_EOK;
}

int caa_evaluate(const caa_policy_t *pol, const caa_request_t *req, const caa_label_t *labels,
                 size_t n, bool keep_trace, caa_result_t **out)
{
	caa_name_t name;
	const char *ident = req->identifier ? req->identifier : "";
	int rc = caa_name_parse_typed(req->type ? req->type : "dns", ident, strlen(ident), &name);

	*out = NULL;
	int bad = caa_request_validate(pol, req);
	if (bad != CAA_EOK)
		return bad;
	if (rc == CAA_ENOTAPPLICABLE)
		return caa_result_not_applicable(req, out);
	if (rc != CAA_EOK)
		return rc;
	return caa_result_build(pol, req, &name, labels, n, keep_trace, out);
}

void caa_result_free(caa_result_t *res)
{
	if (res == NULL)
		return;
	free(res->identifier);
	free(res->policy);
	free(res->relevant_domain);
	free_records(res->records, res->n_records);
	caa_problem_free(res->problem);
	for (size_t i = 0; i < res->n_trace; i++) {
		free(res->trace[i].name);
		free(res->trace[i].why);
		free_records(res->trace[i].records, res->trace[i].n_records);
	}
	free(res->trace);
	for (size_t i = 0; i < res->n_perspectives; i++)
		caa_perspective_deinit(&res->perspectives[i]);
	free(res->perspectives);
	free(res);
}
