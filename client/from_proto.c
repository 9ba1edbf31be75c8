/*
 * from_proto.c — caa.v1 CheckResponse / Problem into caa_result_t /
 * caa_problem_t (from_proto.h). Everything is copied: the protobuf-c message
 * can be freed right after. Texts that name enum values (notes, outcomes,
 * flags, problem URNs) are matched against libcaa's own tables, so both sides
 * stay in step by construction.
 */
#include <stdlib.h>
#include <string.h>

#include "codes.h"
#include "from_proto.h"
#include "json.h"

/* A copy of s ("" for NULL). */
static char *dup_text(const char *s)
{
	return strdup(s != NULL ? s : "");
}

/* Presentation text (RFC 1035 §5.1: \DDD and \X) back to octets. */
static char *unescape(const char *s)
{
	if (s == NULL)
		s = "";
	char *out = malloc(strlen(s) + 1), *o = out;
	if (out == NULL)
		return NULL;
	while (*s != '\0') {
		if (s[0] == '\\' && s[1] >= '0' && s[1] <= '2' && s[2] >= '0' && s[2] <= '9' &&
		    s[3] >= '0' && s[3] <= '9') {
			int v = (s[1] - '0') * 100 + (s[2] - '0') * 10 + (s[3] - '0');
			if (v <= 255) {
				*o++ = (char)v;
				s += 4;
				continue;
			}
		}
		if (s[0] == '\\' && s[1] != '\0')
			s++;
		*o++ = *s++;
	}
	*o = '\0';
	return out;
}

static caa_note_t note_of(const char *text)
{
	if (text == NULL || text[0] == '\0')
		return CAA_NOTE_NONE;
	for (int n = CAA_NOTE_NONE + 1; n <= CAA_NOTE_MALFORMED_RDATA; n++)
		if (strcmp(caa_note_text((caa_note_t)n), text) == 0)
			return (caa_note_t)n;
	return CAA_NOTE_NONE; /* a note this client does not know: not shown */
}

static caa_outcome_t outcome_of(const char *text)
{
	for (int o = CAA_OUT_PENDING; o <= CAA_OUT_BOGUS; o++)
		if (text != NULL && strcmp(caa_json_outcome_name((caa_outcome_t)o), text) == 0)
			return (caa_outcome_t)o;
	return CAA_OUT_SERVFAIL; /* an outcome we do not know is a failure */
}

static unsigned flags_of(char **names, size_t n)
{
	unsigned flags = 0;
	for (size_t i = 0; i < n; i++)
		for (unsigned bit = 1; bit != 0 && caa_result_flag_name(bit) != NULL; bit <<= 1)
			if (strcmp(caa_result_flag_name(bit), names[i]) == 0)
				flags |= bit;
	return flags;
}

static caa_problem_type_t problem_type_of(const char *urn)
{
	for (int t = CAA_PROB_CAA; t <= CAA_PROB_REJECTED_IDENTIFIER; t++)
		if (urn != NULL && strcmp(caa_problem_urn((caa_problem_type_t)t), urn) == 0)
			return (caa_problem_type_t)t;
	/* caad sends only these types; anything else is reported as a server fault */
	return CAA_PROB_SERVER_INTERNAL;
}

static uint32_t ms_to_us(double ms)
{
	if (!(ms > 0))
		return 0;
	double us = ms * 1000.0 + 0.5;
	return us >= 4294967295.0 ? UINT32_MAX : (uint32_t)us;
}

static int problem_into(caa_problem_t *p, const Caa__V1__Problem *m)
{
	p->type = problem_type_of(m->type);
	p->status = m->status;
	p->detail = dup_text(m->detail);
	if (p->detail == NULL)
		return CAA_ENOMEM;
	if (m->identifier != NULL && m->identifier->value != NULL &&
	    m->identifier->value[0] != '\0' &&
	    (p->identifier = strdup(m->identifier->value)) == NULL)
		return CAA_ENOMEM;
	if (m->n_subproblems == 0)
		return CAA_EOK;
	p->subproblems = calloc(m->n_subproblems, sizeof(*p->subproblems));
	if (p->subproblems == NULL)
		return CAA_ENOMEM;
	p->n_subproblems = m->n_subproblems;
	for (size_t i = 0; i < m->n_subproblems; i++)
		if (problem_into(&p->subproblems[i], m->subproblems[i]) != CAA_EOK)
			return CAA_ENOMEM;
	return CAA_EOK;
}

int from_proto_problem(const Caa__V1__Problem *msg, caa_problem_t **out)
{
	caa_problem_t *p = calloc(1, sizeof(*p));
	*out = NULL;
	if (p == NULL)
		return CAA_ENOMEM;
	if (problem_into(p, msg) != CAA_EOK) {
		caa_problem_free(p);
		return CAA_ENOMEM;
	}
	*out = p;
	return CAA_EOK;
}

/* records[] of an RRset; *decided gets the index of the deciding record (-1). */
static int records_into(Caa__V1__Record **m, size_t n, caa_record_t **out, size_t *n_out,
                        int *decided)
{
	*decided = -1;
	if (n == 0)
		return CAA_EOK;
	caa_record_t *recs = calloc(n, sizeof(*recs));
	if (recs == NULL)
		return CAA_ENOMEM;
	*out = recs;
	*n_out = n;
	for (size_t i = 0; i < n; i++) {
		recs[i].flags = (uint8_t)m[i]->flags;
		recs[i].malformed = m[i]->malformed;
		recs[i].note = note_of(m[i]->note);
		recs[i].tag = unescape(m[i]->tag);
		recs[i].value = unescape(m[i]->value);
		if (recs[i].tag == NULL || recs[i].value == NULL)
			return CAA_ENOMEM;
		if (m[i]->decided && *decided < 0)
			*decided = (int)i;
	}
	return CAA_EOK;
}

static int trace_into(caa_result_t *res, const Caa__V1__CheckResponse *msg)
{
	if (msg->n_trace == 0)
		return CAA_EOK;
	res->trace = calloc(msg->n_trace, sizeof(*res->trace));
	if (res->trace == NULL)
		return CAA_ENOMEM;
	res->n_trace = msg->n_trace;
	for (size_t i = 0; i < msg->n_trace; i++) {
		const Caa__V1__TraceLabel *m = msg->trace[i];
		caa_trace_t *t = &res->trace[i];
		int ignored;
		t->outcome = outcome_of(m->outcome);
		t->dnssec = (caa_dnssec_t)m->dnssec;
		t->retries = m->retries;
		t->elapsed_us = ms_to_us(m->elapsed_ms);
		t->relevant = m->relevant;
		if ((t->name = dup_text(m->name)) == NULL)
			return CAA_ENOMEM;
		if (m->why != NULL && m->why[0] != '\0' && (t->why = strdup(m->why)) == NULL)
			return CAA_ENOMEM;
		if (records_into(m->records, m->n_records, &t->records, &t->n_records, &ignored) !=
		    CAA_EOK)
			return CAA_ENOMEM;
	}
	return CAA_EOK;
}

/* Perspective.outcome back to the state. Empty (a caad from before the field) or a
 * text this client does not know: derived from what the perspective says —
 * PERMITTED is CORROBORATED, a problem is PROBLEM, neither is NOT_NEEDED. Only the
 * display depends on it: the verdict is the response's own. */
static caa_mpic_state_t perspective_state(const Caa__V1__Perspective *m)
{
	for (int st = CAA_MPIC_PENDING; m->outcome != NULL && st <= CAA_MPIC_MISMATCH; st++)
		if (strcmp(caa_mpic_state_name((caa_mpic_state_t)st), m->outcome) == 0)
			return (caa_mpic_state_t)st;
	if ((caa_verdict_t)m->verdict == CAA_PERMITTED)
		return CAA_MPIC_CORROBORATED;
	return m->problem != NULL ? CAA_MPIC_PROBLEM : CAA_MPIC_PENDING;
}

static int perspectives_into(caa_result_t *res, const Caa__V1__CheckResponse *msg)
{
	if (msg->n_perspectives == 0)
		return CAA_EOK;
	res->perspectives = calloc(msg->n_perspectives, sizeof(*res->perspectives));
	if (res->perspectives == NULL)
		return CAA_ENOMEM;
	res->n_perspectives = msg->n_perspectives;
	for (size_t i = 0; i < msg->n_perspectives; i++) {
		const Caa__V1__Perspective *m = msg->perspectives[i];
		caa_perspective_t *p = &res->perspectives[i];
		p->state = perspective_state(m);
		p->verdict = (caa_verdict_t)m->verdict;
		p->elapsed_us = ms_to_us(m->elapsed_ms);
		if ((p->name = dup_text(m->name)) == NULL || (p->rir = dup_text(m->rir)) == NULL)
			return CAA_ENOMEM;
		if (m->problem != NULL && from_proto_problem(m->problem, &p->problem) != CAA_EOK)
			return CAA_ENOMEM;
	}
	return CAA_EOK;
}

static int result_into(caa_result_t *res, const Caa__V1__CheckResponse *msg)
{
	res->verdict = (caa_verdict_t)msg->verdict;
	res->reason = (caa_reason_t)msg->reason;
	res->dnssec = (caa_dnssec_t)msg->dnssec;
	res->reused = msg->reused;
	res->queries = msg->queries;
	res->elapsed_us = ms_to_us(msg->elapsed_ms);
	res->flags = flags_of(msg->flags, msg->n_flags);
	res->decided_by = -1;
	if (msg->checked_at != NULL)
		res->checked_at_ms =
		    msg->checked_at->seconds * 1000 + msg->checked_at->nanos / 1000000;
	const char *ident = msg->identifier != NULL ? msg->identifier->value : NULL;
	if ((res->identifier = dup_text(ident)) == NULL ||
	    (res->policy = dup_text(msg->policy)) == NULL ||
	    (res->relevant_domain = dup_text(msg->relevant_domain)) == NULL)
		return CAA_ENOMEM;
	if (records_into(msg->records, msg->n_records, &res->records, &res->n_records,
	                 &res->decided_by) != CAA_EOK)
		return CAA_ENOMEM;
	if (msg->problem != NULL && from_proto_problem(msg->problem, &res->problem) != CAA_EOK)
		return CAA_ENOMEM;
	if (perspectives_into(res, msg) != CAA_EOK)
		return CAA_ENOMEM;
	return trace_into(res, msg);
}

int from_proto_result(const Caa__V1__CheckResponse *msg, caa_result_t **out)
{
	caa_result_t *res = calloc(1, sizeof(*res));
	*out = NULL;
	if (res == NULL)
		return CAA_ENOMEM;
	if (result_into(res, msg) != CAA_EOK) {
		caa_result_free(res);
		return CAA_ENOMEM;
	}
	*out = res;
	return CAA_EOK;
}
