/*
 * json.c — caa_result_t and problems as the proto3 JSON mapping of caa.v1
 * (json.h). Field order follows the proto's field numbers, so the output reads
 * like the message definition.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "json.h"
#include "name.h"

const char *caa_json_outcome_name(caa_outcome_t outcome)
{
	switch (outcome) {
	case CAA_OUT_PENDING: return "NOT_NEEDED";
	case CAA_OUT_PRESENT: return "PRESENT";
	case CAA_OUT_EMPTY: return "NODATA";
	case CAA_OUT_NODATA_NOSOA: return "NODATA_WITHOUT_SOA";
	case CAA_OUT_NXDOMAIN: return "NXDOMAIN";
	case CAA_OUT_SERVFAIL: return "SERVFAIL";
	case CAA_OUT_REFUSED: return "REFUSED";
	case CAA_OUT_NOTIMP: return "NOTIMP";
	case CAA_OUT_FORMERR: return "FORMERR";
	case CAA_OUT_TIMEOUT: return "TIMEOUT";
	case CAA_OUT_NETWORK: return "NETWORK";
	case CAA_OUT_BOGUS: return "BOGUS";
	}
	return "SERVFAIL"; /* an outcome we do not know is a failure */
}

size_t caa_json_escape(char *dst, size_t size, const char *src, size_t len, bool quoted)
{
	size_t o = 0;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)src[i];
		char esc[5];
		size_t n;
		if (c == '\\' || (quoted && c == '"')) {
			esc[0] = '\\';
			esc[1] = (char)c;
			n = 2;
		} else if (c < 0x20 || c > 0x7e) {
			esc[0] = '\\';
			esc[1] = (char)('0' + c / 100);
			esc[2] = (char)('0' + c / 10 % 10);
			esc[3] = (char)('0' + c % 10);
			n = 4;
		} else {
			esc[0] = (char)c;
			n = 1;
		}
		for (size_t k = 0; k < n; k++, o++)
			if (o + 1 < size)
				dst[o] = esc[k];
	}
	if (size > 0)
		dst[o < size ? o : size - 1] = '\0';
	return o;
}

/* ---- builders: each returns 0 or -1; a -1 anywhere drops the whole object ---- */

static json_t *escaped(const char *s, size_t len)
{
	size_t n = caa_json_escape(NULL, 0, s, len, false);
	char *buf = malloc(n + 1);
	if (buf == NULL)
		return NULL;
	caa_json_escape(buf, n + 1, s, len, false);
	json_t *j = json_stringn(buf, n);
	free(buf);
	return j;
}

/* Free text: as it is when it is UTF-8, escaped when not. */
static json_t *text(const char *s)
{
	json_t *j = json_string(s);
	return j != NULL ? j : escaped(s, strlen(s));
}

static int set(json_t *obj, const char *key, json_t *value)
{
	return value != NULL ? json_object_set_new(obj, key, value) : -1;
}

static int set_text(json_t *obj, const char *key, const char *s)
{
	return (s == NULL || s[0] == '\0') ? 0 : set(obj, key, text(s));
}

static int set_uint(json_t *obj, const char *key, json_int_t v)
{
	return v == 0 ? 0 : set(obj, key, json_integer(v));
}

static int set_bool(json_t *obj, const char *key, bool v)
{
	return v ? set(obj, key, json_true()) : 0;
}

static int set_ms(json_t *obj, const char *key, uint32_t us)
{
	return us == 0 ? 0 : set(obj, key, json_real(us / 1000.0));
}

/* An enum by name; the zero value (unspecified) is omitted. */
static int set_enum(json_t *obj, const char *key, int v, const char *name)
{
	return v == 0 ? 0 : set(obj, key, json_string(name));
}

/* Identifier {type, value}: "ip" for address literals, else "dns". */
static json_t *identifier(const char *value)
{
	json_t *j = json_object();
	if (j == NULL)
		return NULL;
	const char *type = caa_name_is_ip(value, strlen(value)) ? "ip" : "dns";
	if (set(j, "type", json_string(type)) != 0 || set_text(j, "value", value) != 0) {
		json_decref(j);
		return NULL;
	}
	return j;
}

static int set_identifier(json_t *obj, const char *key, const char *value)
{
	return (value == NULL || value[0] == '\0') ? 0 : set(obj, key, identifier(value));
}

/* "2026-11-23T13:45:01.123Z" */
static json_t *timestamp(int64_t ms)
{
	int64_t ms_part = ms % 1000, secs = ms / 1000;
	if (ms_part < 0) {
		ms_part += 1000;
		secs--;
	}
	time_t t = (time_t)secs;
	struct tm tm;
	char buf[64];
	if (gmtime_r(&t, &tm) == NULL)
		return NULL;
	size_t n = strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%S", &tm);
	if (n == 0)
		return NULL;
	snprintf(buf + n, sizeof(buf) - n, ".%03dZ", (int)ms_part);
	return json_string(buf);
}

static json_t *record(const caa_record_t *r, bool decided)
{
	json_t *j = json_object();
	int rc = 0;
	if (j == NULL)
		return NULL;
	rc |= set_uint(j, "flags", r->flags);
	if (r->tag != NULL && r->tag[0] != '\0')
		rc |= set(j, "tag", escaped(r->tag, strlen(r->tag)));
	if (r->value != NULL && r->value[0] != '\0')
		rc |= set(j, "value", escaped(r->value, strlen(r->value)));
	rc |= set_bool(j, "authorizes", r->note == CAA_NOTE_AUTHORIZES);
	rc |= set_text(j, "note", caa_note_text(r->note));
	rc |= set_bool(j, "malformed", r->malformed);
	rc |= set_bool(j, "decided", decided);
	if (rc != 0) {
		json_decref(j);
		return NULL;
	}
	return j;
}

/* Records array; decided_by marks the deciding record (-1: none). */
static int set_records(json_t *obj, const caa_record_t *recs, size_t n, int decided_by)
{
	if (n == 0)
		return 0;
	json_t *arr = json_array();
	if (arr == NULL)
		return -1;
	for (size_t i = 0; i < n; i++) {
		if (json_array_append_new(arr, record(&recs[i], decided_by == (int)i)) != 0) {
			json_decref(arr);
			return -1;
		}
	}
	return json_object_set_new(obj, "records", arr);
}

json_t *caa_problem_json(const caa_problem_t *p)
{
	json_t *j = json_object();
	int rc = 0;
	if (j == NULL)
		return NULL;
	rc |= set(j, "type", json_string(caa_problem_urn(p->type)));
	rc |= set_text(j, "detail", p->detail);
	rc |= set_uint(j, "status", p->status);
	rc |= set_identifier(j, "identifier", p->identifier);
	if (p->n_subproblems > 0) {
		json_t *arr = json_array();
		rc |= set(j, "subproblems", arr);
		for (size_t i = 0; arr != NULL && i < p->n_subproblems; i++)
			rc |= json_array_append_new(arr, caa_problem_json(&p->subproblems[i]));
	}
	if (rc != 0) {
		json_decref(j);
		return NULL;
	}
	return j;
}

static json_t *trace_label(const caa_trace_t *t, int decided_by)
{
	json_t *j = json_object();
	int rc = 0;
	if (j == NULL)
		return NULL;
	rc |= set_text(j, "name", t->name);
	rc |= set(j, "outcome", json_string(caa_json_outcome_name(t->outcome)));
	rc |= set_records(j, t->records, t->n_records, t->relevant ? decided_by : -1);
	rc |= set_enum(j, "dnssec", t->dnssec, caa_dnssec_name(t->dnssec));
	rc |= set_text(j, "why", t->why);
	rc |= set_ms(j, "elapsedMs", t->elapsed_us);
	rc |= set_uint(j, "retries", t->retries);
	rc |= set_bool(j, "relevant", t->relevant);
	if (rc != 0) {
		json_decref(j);
		return NULL;
	}
	return j;
}

static json_t *perspective(const caa_perspective_t *p)
{
	json_t *j = json_object();
	int rc = 0;
	if (j == NULL)
		return NULL;
	rc |= set_text(j, "name", p->name);
	rc |= set_text(j, "rir", p->rir);
	rc |= set_enum(j, "verdict", p->verdict, caa_verdict_name(p->verdict));
	if (p->problem != NULL)
		rc |= set(j, "problem", caa_problem_json(p->problem));
	rc |= set_ms(j, "elapsedMs", p->elapsed_us);
	rc |= set(j, "outcome", json_string(caa_mpic_state_name(p->state)));
	if (rc != 0) {
		json_decref(j);
		return NULL;
	}
	return j;
}

/* perspectives[] and, beside it, "quorum": "passed/total" (not a proto field: the
 * count a reader would otherwise make, as the audit line carries it). */
static int set_perspectives(json_t *obj, const caa_result_t *res)
{
	if (res->n_perspectives == 0)
		return 0;
	json_t *arr = json_array();
	int rc = set(obj, "perspectives", arr);
	for (size_t i = 0; arr != NULL && i < res->n_perspectives; i++)
		rc |= json_array_append_new(arr, perspective(&res->perspectives[i]));
	char quorum[48];
	snprintf(quorum, sizeof(quorum), "%zu/%zu",
	         caa_perspectives_passed(res->perspectives, res->n_perspectives),
	         res->n_perspectives);
	return rc | set(obj, "quorum", json_string(quorum));
}

json_t *caa_result_json(const caa_result_t *res)
{
	json_t *j = json_object();
	int rc = 0;
	if (j == NULL)
		return NULL;
	rc |= set_identifier(j, "identifier", res->identifier);
	rc |= set_enum(j, "verdict", res->verdict, caa_verdict_name(res->verdict));
	rc |= set_enum(j, "reason", res->reason, caa_reason_name(res->reason));
	rc |= set_text(j, "relevantDomain", res->relevant_domain);
	rc |= set_records(j, res->records, res->n_records, res->decided_by);
	rc |= set_enum(j, "dnssec", res->dnssec, caa_dnssec_name(res->dnssec));
	if (res->problem != NULL)
		rc |= set(j, "problem", caa_problem_json(res->problem));
	if (res->checked_at_ms != 0)
		rc |= set(j, "checkedAt", timestamp(res->checked_at_ms));
	rc |= set_bool(j, "reused", res->reused);
	rc |= set_perspectives(j, res);
	if (res->n_trace > 0) {
		json_t *arr = json_array();
		rc |= set(j, "trace", arr);
		for (size_t i = 0; arr != NULL && i < res->n_trace; i++)
			rc |= json_array_append_new(arr,
			                            trace_label(&res->trace[i], res->decided_by));
	}
	rc |= set_uint(j, "queries", res->queries);
	rc |= set_ms(j, "elapsedMs", res->elapsed_us);
	rc |= set_text(j, "policy", res->policy);
	if (res->flags != 0) {
		json_t *arr = json_array();
		rc |= set(j, "flags", arr);
		for (unsigned bit = 1; arr != NULL && bit != 0 && bit <= res->flags; bit <<= 1) {
			const char *name = (res->flags & bit) ? caa_result_flag_name(bit) : NULL;
			if (name != NULL)
				rc |= json_array_append_new(arr, json_string(name));
		}
	}
	if (rc != 0) {
		json_decref(j);
		return NULL;
	}
	return j;
}

json_t *caa_order_json(caa_result_t *const *results, size_t n, const caa_problem_t *aggregate)
{
	json_t *j = json_object();
	int rc = 0;
	if (j == NULL)
		return NULL;
	if (n > 0) {
		json_t *arr = json_array();
		rc |= set(j, "results", arr);
		for (size_t i = 0; arr != NULL && i < n; i++)
			rc |= json_array_append_new(arr, caa_result_json(results[i]));
	}
	if (aggregate != NULL)
		rc |= set(j, "problem", caa_problem_json(aggregate));
	if (rc != 0) {
		json_decref(j);
		return NULL;
	}
	return j;
}
