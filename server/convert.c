/*
 * convert.c — results into messages (convert.h). protobuf-c strings are
 * NUL-terminated char *; an absent one must be protobuf_c_empty_string
 * (the INIT macros set it), never NULL.
 */
#include <string.h>

#include "convert.h"
#include "json.h"

size_t caad_utf8_next(const unsigned char *s, size_t left, uint32_t *cp)
{
	unsigned char c = s[0];
	size_t n;
	uint32_t v;
	if (c < 0x80) {
		*cp = c;
		return 1;
	} else if (c >= 0xc2 && c <= 0xdf) {
		n = 2;
		v = c & 0x1f;
	} else if (c >= 0xe0 && c <= 0xef) {
		n = 3;
		v = c & 0x0f;
	} else if (c >= 0xf0 && c <= 0xf4) {
		n = 4;
		v = c & 0x07;
	} else {
		return 0;
	}
	if (left < n)
		return 0;
	for (size_t i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		v = v << 6 | (s[i] & 0x3f);
	}
	if (v > 0x10ffff || (v >= 0xd800 && v <= 0xdfff) || (n == 3 && v < 0x800) ||
	    (n == 4 && v < 0x10000))
		return 0;
	*cp = v;
	return n;
}

static bool valid_utf8(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t left = strlen(s);
	while (left > 0) {
		uint32_t cp;
		size_t n = caad_utf8_next(p, left, &cp);
		if (n == 0)
			return false;
		p += n;
		left -= n;
	}
	return true;
}

/* Presentation text: '\' and non-printable octets escaped (json.h does it). */
static char *presentation(caad_arena_t *a, const char *s)
{
	size_t len = strlen(s), n = caa_json_escape(NULL, 0, s, len, false);
	char *d = caad_arena_alloc(a, n + 1);
	if (d != NULL)
		caa_json_escape(d, n + 1, s, len, false);
	return d;
}

char *caad_convert_text(caad_arena_t *a, const char *s)
{
	if (s == NULL)
		return caad_arena_strdup(a, "");
	if (valid_utf8(s))
		return caad_arena_strdup(a, s);
	return presentation(a, s);
}

static Caa__V1__Identifier *identifier(caad_arena_t *a, const char *type, const char *value)
{
	Caa__V1__Identifier *id = caad_arena_alloc(a, sizeof(*id));
	if (id == NULL)
		return NULL;
	caa__v1__identifier__init(id);
	id->type = caad_arena_strdup(a, type);
	id->value = caad_convert_text(a, value);
	return id->type && id->value ? id : NULL;
}

static bool problem_into(caad_arena_t *a, Caa__V1__Problem *m, const caa_problem_t *p)
{
	caa__v1__problem__init(m);
	m->type = (char *)caa_problem_urn(p->type);
	m->status = p->status;
	m->detail = caad_convert_text(a, p->detail);
	if (m->detail == NULL)
		return false;
	if (p->identifier != NULL && !(m->identifier = identifier(a, "dns", p->identifier)))
		return false;
	if (p->n_subproblems == 0)
		return true;
	m->subproblems = caad_arena_array(a, p->n_subproblems, sizeof(*m->subproblems));
	Caa__V1__Problem *subs = caad_arena_array(a, p->n_subproblems, sizeof(*subs));
	if (m->subproblems == NULL || subs == NULL)
		return false;
	m->n_subproblems = p->n_subproblems;
	for (size_t i = 0; i < p->n_subproblems; i++) {
		m->subproblems[i] = &subs[i];
		if (!problem_into(a, &subs[i], &p->subproblems[i]))
			return false;
	}
	return true;
}

Caa__V1__Problem *caad_convert_problem(caad_arena_t *a, const caa_problem_t *p)
{
	Caa__V1__Problem *m = caad_arena_alloc(a, sizeof(*m));
	return m && problem_into(a, m, p) ? m : NULL;
}

Core__ProblemDetails *caad_convert_boulder_problem(caad_arena_t *a, const caa_problem_t *p)
{
	Core__ProblemDetails *m = caad_arena_alloc(a, sizeof(*m));
	if (m == NULL)
		return NULL;
	core__problem_details__init(m);
	m->problemtype = (char *)caa_problem_short(p->type);
	m->detail = caad_convert_text(a, p->detail);
	m->httpstatus = p->status;
	return m->detail ? m : NULL;
}

/* records[0..n) as Record messages; decided = index of the deciding one, -1. */
static Caa__V1__Record **records(caad_arena_t *a, const caa_record_t *recs, size_t n, int decided)
{
	Caa__V1__Record **out = caad_arena_array(a, n, sizeof(*out));
	Caa__V1__Record *ms = caad_arena_array(a, n, sizeof(*ms));
	if (out == NULL || ms == NULL)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		Caa__V1__Record *m = out[i] = &ms[i];
		caa__v1__record__init(m);
		m->flags = recs[i].flags;
		m->malformed = recs[i].malformed;
		m->authorizes = recs[i].note == CAA_NOTE_AUTHORIZES;
		m->decided = (int)i == decided;
		if (recs[i].note != CAA_NOTE_NONE)
			m->note = (char *)caa_note_text(recs[i].note);
		m->tag = presentation(a, recs[i].tag ? recs[i].tag : "");
		m->value = presentation(a, recs[i].value ? recs[i].value : "");
		if (m->tag == NULL || m->value == NULL)
			return NULL;
	}
	return out;
}

static Caa__V1__TraceLabel **trace(caad_arena_t *a, const caa_result_t *res)
{
	size_t n = res->n_trace;
	Caa__V1__TraceLabel **out = caad_arena_array(a, n, sizeof(*out));
	Caa__V1__TraceLabel *ms = caad_arena_array(a, n, sizeof(*ms));
	if (out == NULL || ms == NULL)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		const caa_trace_t *t = &res->trace[i];
		Caa__V1__TraceLabel *m = out[i] = &ms[i];
		caa__v1__trace_label__init(m);
		m->name = caad_convert_text(a, t->name);
		m->outcome = (char *)caa_json_outcome_name(t->outcome);
		m->dnssec = (Caa__V1__Dnssec)t->dnssec;
		m->why = caad_convert_text(a, t->why);
		m->elapsed_ms = t->elapsed_us / 1000.0;
		m->retries = t->retries;
		m->relevant = t->relevant;
		if (m->name == NULL || m->why == NULL)
			return NULL;
		if (t->n_records > 0) {
			m->records = records(a, t->records, t->n_records, -1);
			if (m->records == NULL)
				return NULL;
			m->n_records = t->n_records;
		}
	}
	return out;
}

static Caa__V1__Perspective **perspectives(caad_arena_t *a, const caa_result_t *res)
{
	size_t n = res->n_perspectives;
	Caa__V1__Perspective **out = caad_arena_array(a, n, sizeof(*out));
	Caa__V1__Perspective *ms = caad_arena_array(a, n, sizeof(*ms));
	if (out == NULL || ms == NULL)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		const caa_perspective_t *p = &res->perspectives[i];
		Caa__V1__Perspective *m = out[i] = &ms[i];
		caa__v1__perspective__init(m);
		m->name = caad_convert_text(a, p->name);
		m->rir = caad_convert_text(a, p->rir);
		m->verdict = (Caa__V1__Verdict)p->verdict;
		m->elapsed_ms = p->elapsed_us / 1000.0;
		m->outcome = (char *)caa_mpic_state_name(p->state);
		if (m->name == NULL || m->rir == NULL ||
		    (p->problem != NULL && !(m->problem = caad_convert_problem(a, p->problem))))
			return NULL;
	}
	return out;
}

static bool flags(caad_arena_t *a, Caa__V1__CheckResponse *m, unsigned bits)
{
	size_t n = 0;
	for (unsigned b = 0; b < 32; b++)
		n += (bits >> b & 1u) && caa_result_flag_name(1u << b) != NULL;
	if (n == 0)
		return true;
	m->flags = caad_arena_array(a, n, sizeof(*m->flags));
	if (m->flags == NULL)
		return false;
	for (unsigned b = 0; b < 32; b++)
		if ((bits >> b & 1u) && caa_result_flag_name(1u << b) != NULL)
			m->flags[m->n_flags++] = (char *)caa_result_flag_name(1u << b);
	return true;
}

Caa__V1__CheckResponse *caad_convert_result(caad_arena_t *a, const caa_result_t *res,
                                            const char *type, bool explain)
{
	Caa__V1__CheckResponse *m = caad_arena_alloc(a, sizeof(*m));
	Google__Protobuf__Timestamp *at = caad_arena_alloc(a, sizeof(*at));
	if (m == NULL || at == NULL)
		return NULL;
	caa__v1__check_response__init(m);
	google__protobuf__timestamp__init(at);
	m->identifier = identifier(a, type && type[0] ? type : "dns", res->identifier);
	m->verdict = (Caa__V1__Verdict)res->verdict;
	m->reason = (Caa__V1__Reason)res->reason;
	m->relevant_domain = caad_convert_text(a, res->relevant_domain);
	m->dnssec = (Caa__V1__Dnssec)res->dnssec;
	m->reused = res->reused;
	m->queries = res->queries;
	m->elapsed_ms = res->elapsed_us / 1000.0;
	m->policy = caad_convert_text(a, res->policy);
	at->seconds = res->checked_at_ms / 1000;
	at->nanos = (int32_t)(res->checked_at_ms % 1000) * 1000000;
	m->checked_at = at;
	if (m->identifier == NULL || m->relevant_domain == NULL || m->policy == NULL ||
	    !flags(a, m, res->flags))
		return NULL;
	if (res->n_records > 0) {
		m->records = records(a, res->records, res->n_records, res->decided_by);
		if (m->records == NULL)
			return NULL;
		m->n_records = res->n_records;
	}
	if (res->problem != NULL && !(m->problem = caad_convert_problem(a, res->problem)))
		return NULL;
	if (res->n_perspectives > 0) {
		if ((m->perspectives = perspectives(a, res)) == NULL)
			return NULL;
		m->n_perspectives = res->n_perspectives;
	}
	if (explain && res->n_trace > 0) {
		m->trace = trace(a, res);
		if (m->trace == NULL)
			return NULL;
		m->n_trace = res->n_trace;
	}
	return m;
}
