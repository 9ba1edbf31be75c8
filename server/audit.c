/*
 * audit.c — audit lines (audit.h). The relevant records go in as
 * presentation text, and a failure names the label that failed, so the line
 * alone answers "why was this refused".
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit.h"
#include "json.h"
#include "log.h"

static json_t *str(const char *s)
{
	json_t *j = json_string(s ? s : "");
	if (j == NULL && s != NULL) { /* not UTF-8: escape */
		size_t n = caa_json_escape(NULL, 0, s, strlen(s), false);
		char *buf = malloc(n + 1);
		if (buf != NULL) {
			caa_json_escape(buf, n + 1, s, strlen(s), false);
			j = json_string(buf);
			free(buf);
		}
	}
	return j;
}

static json_t *records(const caa_result_t *res)
{
	json_t *arr = json_array();
	for (size_t i = 0; arr && i < res->n_records; i++) {
		const caa_record_t *r = &res->records[i];
		const char *tag = r->tag ? r->tag : "", *val = r->value ? r->value : "";
		size_t n = caa_json_escape(NULL, 0, val, strlen(val), true);
		char *text = malloc(strlen(tag) + n + 16);
		if (text == NULL)
			continue;
		int k = sprintf(text, "%u %s \"", r->flags, tag);
		caa_json_escape(text + k, n + 1, val, strlen(val), true);
		strcat(text, "\"");
		json_array_append_new(arr, str(text));
		free(text);
	}
	return arr;
}

/* The label whose failure decided a LOOKUP_FAILED result (from the trace). */
static const char *failed_label(const caa_result_t *res)
{
	if (res->verdict != CAA_LOOKUP_FAILED)
		return NULL;
	for (size_t i = 0; i < res->n_trace; i++)
		if (res->trace[i].relevant)
			return res->trace[i].name;
	return NULL;
}

static void add_result(json_t *o, const caa_result_t *res)
{
	json_object_set_new(o, "verdict", json_string(caa_verdict_name(res->verdict)));
	json_object_set_new(o, "reason", json_string(caa_reason_name(res->reason)));
	json_object_set_new(o, "relevant_domain", str(res->relevant_domain));
	const char *failed = failed_label(res);
	if (failed != NULL)
		json_object_set_new(o, "failed_label", str(failed));
	json_object_set_new(o, "records", records(res));
	json_object_set_new(o, "dnssec", json_string(caa_dnssec_name(res->dnssec)));
	if (res->problem != NULL)
		json_object_set_new(
		    o, "problem",
		    json_pack("{s:s, s:o, s:i}", "type", caa_problem_urn(res->problem->type),
		              "detail", str(res->problem->detail), "status", res->problem->status));
	json_object_set_new(o, "reused", json_boolean(res->reused));
	char at[40];
	caad_log_time(at, sizeof(at), (long long)res->checked_at_ms);
	json_object_set_new(o, "checked_at", json_string(at));
	json_object_set_new(o, "elapsed_ms", json_real(res->elapsed_us / 1000.0));
	json_object_set_new(o, "queries", json_integer(res->queries));
	json_t *flags = json_array();
	for (unsigned b = 0; flags && b < 32; b++)
		if ((res->flags >> b & 1u) && caa_result_flag_name(1u << b))
			json_array_append_new(flags, json_string(caa_result_flag_name(1u << b)));
	json_object_set_new(o, "flags", flags);
}

void caad_audit_check(const caad_audit_t *who, const caa_request_t *req, const caa_result_t *res,
                      const char *error)
{
	json_t *o = json_object();
	if (o == NULL)
		return;
	json_object_set_new(o, "call", json_integer((json_int_t)who->call));
	json_object_set_new(o, "rpc", json_string(who->rpc));
	json_object_set_new(o, "peer", str(who->peer));
	if (who->client != NULL)
		json_object_set_new(o, "client", str(who->client));
	if (who->size > 1 || strcmp(who->rpc, "CheckOrder") == 0)
		json_object_set_new(o, "order",
		                    json_pack("{s:I, s:I}", "index", (json_int_t)who->index, "size",
		                              (json_int_t)who->size));
	if (who->authz_id != 0)
		json_object_set_new(o, "authz_id", json_integer(who->authz_id));
	json_object_set_new(o, "identifier", str(req->identifier));
	if (req->type != NULL && strcmp(req->type, "dns") != 0)
		json_object_set_new(o, "identifier_type", str(req->type));
	if (req->account_uri != NULL)
		json_object_set_new(o, "account_uri", str(req->account_uri));
	if (req->account_id != 0)
		json_object_set_new(o, "account_id", json_integer(req->account_id));
	json_object_set_new(o, "validation_method", str(req->method));
	json_object_set_new(o, "policy", str(req->policy));
	if (req->validated_at_ms != 0) {
		char at[40];
		caad_log_time(at, sizeof(at), (long long)req->validated_at_ms);
		json_object_set_new(o, "validated_at", json_string(at));
	}
	if (res != NULL)
		add_result(o, res);
	if (error != NULL)
		json_object_set_new(o, "error", json_string(error));
	caad_log("check", o);
}
