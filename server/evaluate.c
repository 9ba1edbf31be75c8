/*
 * evaluate.c — caa.v1.CAA/Evaluate: decide from RRsets the client gives, no
 * DNS, answered on the completion-queue thread. Each given record is turned
 * back into CAA RDATA and parsed by the same parser the climb uses, so a
 * what-if answer is exactly the answer DNS with those records would give.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "convert.h"
#include "name.h"
#include "request.h"

#define RDATA_MAX 65535

typedef struct ectx {
	caad_arena_t *a;
	char err[512];
} ectx_t;

static bool fail(ectx_t *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static bool fail(ectx_t *e, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(e->err, sizeof(e->err), fmt, ap);
	va_end(ap);
	return false;
}

/* Presentation text (\DDD and \X escapes) into out (at least strlen(in)
 * octets); *len gets the octets. false on a bad escape. */
static bool unescape(const char *in, uint8_t *out, size_t *len)
{
	size_t o = 0;
	for (const char *p = in; *p; p++) {
		if (*p != '\\') {
			out[o++] = (uint8_t)*p;
			continue;
		}
		p++;
		if (p[0] >= '0' && p[0] <= '9') {
			if (!(p[1] >= '0' && p[1] <= '9' && p[2] >= '0' && p[2] <= '9'))
				return false;
			int v = (p[0] - '0') * 100 + (p[1] - '0') * 10 + (p[2] - '0');
			if (v > 255)
				return false;
			out[o++] = (uint8_t)v;
			p += 2;
		} else if (*p != '\0') {
			out[o++] = (uint8_t)*p;
		} else {
			return false;
		}
	}
	*len = o;
	return true;
}

/* One given record as RDATA, parsed like an answer from DNS. */
static bool record(ectx_t *e, const char *where, const Caa__V1__Record *r, caa_rr_t *rr)
{
	size_t tl = strlen(r->tag), vl = strlen(r->value), tlen, vlen;
	uint8_t *rdata = caad_arena_alloc(e->a, 2 + tl + vl);
	if (rdata == NULL)
		return fail(e, "out of memory");
	if (r->flags > 255)
		return fail(e, "%s.flags: %u is not 0..255", where, r->flags);
	if (!unescape(r->tag, rdata + 2, &tlen))
		return fail(e, "%s.tag: bad \\DDD escape", where);
	if (tlen > 255)
		return fail(e, "%s.tag: %zu octets, at most 255", where, tlen);
	if (!unescape(r->value, rdata + 2 + tlen, &vlen))
		return fail(e, "%s.value: bad \\DDD escape", where);
	if (2 + tlen + vlen > RDATA_MAX)
		return fail(e, "%s: RDATA of %zu octets, at most %d", where, 2 + tlen + vlen,
		            RDATA_MAX);
	rdata[0] = (uint8_t)r->flags;
	rdata[1] = (uint8_t)tlen;
	(void)caa_rr_parse(rdata, 2 + tlen + vlen, rr); /* malformed stays, flagged */
	if (r->malformed) { /* asked for: a record whose RDATA did not parse */
		rr->malformed = true;
		rr->tag = rr->value = "";
		rr->tag_len = 0;
		rr->value_len = 0;
	}
	return true;
}

static const struct {
	const char *name;
	caa_outcome_t outcome;
} errors[] = {
    {"", CAA_OUT_EMPTY},
    {"NODATA", CAA_OUT_EMPTY},
    {"NXDOMAIN", CAA_OUT_NXDOMAIN},
    {"NODATA_WITHOUT_SOA", CAA_OUT_NODATA_NOSOA},
    {"SERVFAIL", CAA_OUT_SERVFAIL},
    {"REFUSED", CAA_OUT_REFUSED},
    {"NOTIMP", CAA_OUT_NOTIMP},
    {"FORMERR", CAA_OUT_FORMERR},
    {"TIMEOUT", CAA_OUT_TIMEOUT},
    {"NETWORK", CAA_OUT_NETWORK},
    {"BOGUS", CAA_OUT_BOGUS},
};

/* The label index of a given name (no trailing dot, any case), or -1. */
static int label_index(const caa_name_t *name, const char *given, char *norm, size_t size)
{
	size_t len = strlen(given);
	if (len > 0 && given[len - 1] == '.')
		len--;
	if (len >= size)
		return -1;
	for (size_t i = 0; i < len; i++)
		norm[i] = (char)((given[i] >= 'A' && given[i] <= 'Z') ? given[i] + 32 : given[i]);
	norm[len] = '\0';
	for (unsigned i = 0; i < name->n_labels; i++)
		if (strcmp(caa_name_suffix(name, i), norm) == 0)
			return (int)i;
	return -1;
}

static bool one_label(ectx_t *e, size_t li, const Caa__V1__LabelRRset *g, const caa_name_t *name,
                      caa_label_t *labels, bool *seen)
{
	char norm[CAA_NAME_MAX + 2];
	int i = label_index(name, g->name, norm, sizeof(norm));
	if (i < 0)
		return fail(e, "labels[%zu].name %s: not %s or one of its parent labels", li,
		            caad_quote(e->a, g->name), name->text);
	if (seen[i])
		return fail(e, "labels[%zu].name %s: given twice", li, caad_quote(e->a, g->name));
	seen[i] = true;
	caa_label_t *l = &labels[i];
	size_t k = 0;
	while (k < sizeof(errors) / sizeof(errors[0]) && strcmp(errors[k].name, g->error) != 0)
		k++;
	if (k == sizeof(errors) / sizeof(errors[0]))
		return fail(e,
		            "labels[%zu].error %s: expected \"\", NXDOMAIN, NODATA_WITHOUT_SOA, "
		            "SERVFAIL, REFUSED, NOTIMP, FORMERR, TIMEOUT, NETWORK or BOGUS",
		            li, caad_quote(e->a, g->error));
	if (k > 1 && g->n_records > 0)
		return fail(e, "labels[%zu]: records and error %s together", li, g->error);
	if (g->n_records > CAAD_MAX_RECORDS)
		return fail(e, "labels[%zu].records: %zu, at most %d", li, g->n_records,
		            CAAD_MAX_RECORDS);
	if ((unsigned)g->dnssec > CAA_DNSSEC_INDETERMINATE)
		return fail(e, "labels[%zu].dnssec: unknown value %d", li, (int)g->dnssec);
	l->outcome = g->n_records > 0 ? CAA_OUT_PRESENT : errors[k].outcome;
	l->dnssec = g->dnssec != 0                ? (caa_dnssec_t)g->dnssec
	            : l->outcome == CAA_OUT_BOGUS ? CAA_DNSSEC_BOGUS
	                                          : CAA_DNSSEC_INDETERMINATE;
	l->why = g->why[0] ? g->why : NULL;
	if (g->n_records == 0)
		return true;
	caa_rr_t *rrs = caad_arena_array(e->a, g->n_records, sizeof(*rrs));
	if (rrs == NULL)
		return fail(e, "out of memory");
	for (size_t r = 0; r < g->n_records; r++) {
		char where[64];
		snprintf(where, sizeof(where), "labels[%zu].records[%zu]", li, r);
		if (!record(e, where, g->records[r], &rrs[r]))
			return false;
	}
	l->rrs = rrs;
	l->n_rrs = g->n_records;
	return true;
}

/* The per-label outcomes of the request; every label not given is NODATA. */
static bool build_labels(ectx_t *e, const Caa__V1__EvaluateRequest *m, const caa_name_t *name,
                         caa_label_t *labels)
{
	bool seen[CAA_LABELS_MAX] = {false};
	for (unsigned i = 0; i < name->n_labels; i++) {
		labels[i].name = caa_name_suffix(name, i);
		labels[i].outcome = CAA_OUT_EMPTY;
		labels[i].dnssec = CAA_DNSSEC_INDETERMINATE;
	}
	for (size_t li = 0; li < m->n_labels; li++)
		if (!one_label(e, li, m->labels[li], name, labels, seen))
			return false;
	return true;
}

/* Fail with code and a message (printf); returns code. */
static grpc_status_code refuse(char *msg, size_t msglen, grpc_status_code code, const char *fmt,
                               ...) __attribute__((format(printf, 4, 5)));
static grpc_status_code refuse(char *msg, size_t msglen, grpc_status_code code, const char *fmt,
                               ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, msglen, fmt, ap);
	va_end(ap);
	return code;
}

grpc_status_code caad_evaluate(caad_arena_t *a, const caa_config_t *cfg, const uint8_t *data,
                               size_t len, Caa__V1__EvaluateResponse **out, char *msg,
                               size_t msglen)
{
	*out = NULL;
	size_t nl = caad_pb_count(data, len, 8);
	if (nl > CAAD_MAX_LABELS)
		return refuse(msg, msglen, GRPC_STATUS_INVALID_ARGUMENT, "labels: %zu, at most %d",
		              nl, CAAD_MAX_LABELS);
	Caa__V1__EvaluateRequest *m;
	const char *err = caad_request_unpack(a, &caa__v1__evaluate_request__descriptor, data, len,
	                                      (ProtobufCMessage **)&m);
	if (err != NULL)
		return refuse(msg, msglen, GRPC_STATUS_INVALID_ARGUMENT, "%s", err);
	caa_request_t req = {0};
	err = m->identifier == NULL ? "identifier: missing" : NULL;
	if (err == NULL)
		err = caad_request_ident(a, "", m->identifier->type, m->identifier->value, &req);
	if (err == NULL)
		err = caad_request_common(a, cfg, "", m->account_uri, m->account_id,
		                          m->validation_method, m->policy, &req);
	if (err != NULL)
		return refuse(msg, msglen, GRPC_STATUS_INVALID_ARGUMENT, "%s", err);
	req.explain = m->explain;
	caa_name_t name = {0};
	caa_label_t labels[CAA_LABELS_MAX];
	memset(labels, 0, sizeof(labels));
	ectx_t e = {.a = a};
	int rc = caa_name_parse_typed(req.type, req.identifier, strlen(req.identifier), &name);
	if (rc == CAA_EOK && !build_labels(&e, m, &name, labels))
		return refuse(msg, msglen, GRPC_STATUS_INVALID_ARGUMENT, "%s", e.err);
	caa_result_t *res = NULL;
	rc = caa_evaluate(caa_config_policy(cfg, req.policy), &req, labels,
	                  rc == CAA_EOK ? name.n_labels : 0, req.explain, &res);
	if (rc != CAA_EOK)
		return refuse(msg, msglen,
		              rc == CAA_ENOMEM ? GRPC_STATUS_RESOURCE_EXHAUSTED
		                               : GRPC_STATUS_INVALID_ARGUMENT,
		              "identifier.value: %s", caa_strerror(rc));
	Caa__V1__EvaluateResponse *r = caad_arena_alloc(a, sizeof(*r));
	if (r != NULL) {
		caa__v1__evaluate_response__init(r);
		r->result = caad_convert_result(a, res, req.type, req.explain);
	}
	caa_result_free(res);
	if (r == NULL || r->result == NULL)
		return refuse(msg, msglen, GRPC_STATUS_RESOURCE_EXHAUSTED, "out of memory");
	*out = r;
	return GRPC_STATUS_OK;
}

void caad_handle_evaluate(caad_call_t *call, void *arg)
{
	caad_t *d = arg;
	const uint8_t *data;
	size_t len;
	if (caad_call_payload(call, &data, &len) != 0) {
		caad_call_fail(call, GRPC_STATUS_INVALID_ARGUMENT, "request: no EvaluateRequest");
		return;
	}
	Caa__V1__EvaluateResponse *r;
	char msg[512];
	grpc_status_code code =
	    caad_evaluate(caad_call_arena(call), d->cfg, data, len, &r, msg, sizeof(msg));
	if (code == GRPC_STATUS_OK)
		caad_call_reply(call, &r->base);
	else
		caad_call_fail(call, code, "%s", msg);
}
