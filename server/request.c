/*
 * request.c — decode-side validation (request.h). Names are checked with the
 * same parser the climb uses, so a name accepted here is a name the climb
 * can look up, and the error text is caa_strerror()'s.
 */
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "convert.h"
#include "name.h"
#include "request.h"

#define QUOTE_MAX 64

/* s[0..len) quoted (NULs and all): a rejected string is shown as it came. */
static const char *quote_n(caad_arena_t *a, const char *s, size_t len)
{
	size_t cut = len > QUOTE_MAX ? QUOTE_MAX : len;
	char buf[QUOTE_MAX * 4 + 8];
	size_t o = 0;
	buf[o++] = '"';
	for (size_t i = 0; i < cut; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c == '"' || c == '\\') {
			buf[o++] = '\\';
			buf[o++] = (char)c;
		} else if (c < 0x20 || c > 0x7e) {
			o += (size_t)snprintf(buf + o, sizeof(buf) - o, "\\%03u", c);
		} else {
			buf[o++] = (char)c;
		}
	}
	buf[o++] = '"';
	if (cut < len) {
		memcpy(buf + o, "...", 3);
		o += 3;
	}
	buf[o] = '\0';
	const char *q = caad_arena_strdup(a, buf);
	return q ? q : "\"\"";
}

const char *caad_quote(caad_arena_t *a, const char *s)
{
	return quote_n(a, s, strlen(s));
}

/* The error text, or a fixed one when even that cannot be allocated. */
static const char *err_text(caad_arena_t *a, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static const char *err_text(caad_arena_t *a, const char *fmt, ...)
{
	char buf[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	const char *e = caad_arena_strdup(a, buf);
	return e ? e : "request: out of memory";
}

/* The identifier, its fields named tfield and vfield in errors. */
static const char *ident_named(caad_arena_t *a, const char *tfield, const char *vfield,
                               const char *type, const char *value, caa_request_t *req)
{
	if (type[0] == '\0')
		type = "dns";
	if (strcmp(type, "dns") != 0 && strcmp(type, "ip") != 0)
		return err_text(a, "%s %s: %s", tfield, caad_quote(a, type),
		                caa_strerror(CAA_ENAME_TYPE));
	if (value[0] == '\0')
		return err_text(a, "%s: %s", vfield, caa_strerror(CAA_ENAME_EMPTY));
	caa_name_t name;
	int rc = caa_name_parse_typed(type, value, strlen(value), &name);
	if (rc != CAA_EOK && rc != CAA_ENOTAPPLICABLE)
		return err_text(a, "%s %s: %s", vfield, caad_quote(a, value), caa_strerror(rc));
	req->type = type;
	req->identifier = value;
	return NULL;
}

const char *caad_request_ident(caad_arena_t *a, const char *prefix, const char *type,
                               const char *value, caa_request_t *req)
{
	char tfield[80], vfield[80];
	snprintf(tfield, sizeof(tfield), "%sidentifier.type", prefix);
	snprintf(vfield, sizeof(vfield), "%sidentifier.value", prefix);
	return ident_named(a, tfield, vfield, type, value, req);
}

/* A validation method ("" = not given) the CA can mean under pol. */
static const char *check_method(caad_arena_t *a, const caa_policy_t *pol, const char *prefix,
                                const char *field, const char *method)
{
	if (method[0] == '\0' || caa_policy_method_known(pol, method))
		return NULL;
	return err_text(a, "%s%s %s: %s", prefix, field, caad_quote(a, method),
	                caa_strerror(CAA_EMETHOD));
}

static const char *check_len(caad_arena_t *a, const char *prefix, const char *field, const char *s)
{
	size_t len = strlen(s);
	if (len > CAAD_MAX_FIELD)
		return err_text(a, "%s%s: %zu octets, at most %d", prefix, field, len,
		                CAAD_MAX_FIELD);
	return NULL;
}

const char *caad_request_common(caad_arena_t *a, const caa_config_t *cfg, const char *prefix,
                                const char *account_uri, int64_t account_id, const char *method,
                                const char *policy, caa_request_t *req)
{
	const char *e;
	if ((e = check_len(a, prefix, "account_uri", account_uri)) ||
	    (e = check_len(a, prefix, "validation_method", method)) ||
	    (e = check_len(a, prefix, "policy", policy)))
		return e;
	if (account_id < 0)
		return err_text(a, "%saccount_id: must not be negative, got %lld", prefix,
		                (long long)account_id);
	const caa_policy_t *pol = caa_config_policy(cfg, policy);
	if (pol == NULL)
		return err_text(a, "%spolicy: unknown profile %s", prefix, caad_quote(a, policy));
	req->account_uri = account_uri[0] ? account_uri : NULL;
	req->account_id = account_id;
	req->method = method[0] ? method : NULL;
	req->policy = policy;
	/* libcaa's own rules (it refuses the same at caa_evaluate and the
	 * climb), here with the fields named */
	int rc = caa_request_validate(pol, req);
	if (rc == CAA_EACCOUNT) /* a permission could come through either form */
		return err_text(a, "%saccount_uri %s and %saccount_id %lld: %s", prefix,
		                caad_quote(a, account_uri), prefix, (long long)account_id,
		                caa_strerror(rc));
	if (rc != CAA_EOK)
		return err_text(a, "%svalidation_method %s: %s", prefix, caad_quote(a, method),
		                caa_strerror(rc));
	return NULL;
}

const char *caad_request_check(caad_arena_t *a, const caa_config_t *cfg, const char *prefix,
                               const Caa__V1__CheckRequest *m, caa_request_t *req)
{
	const char *e;
	memset(req, 0, sizeof(*req));
	if (m->identifier == NULL)
		return err_text(a, "%sidentifier: missing", prefix);
	if ((e = caad_request_ident(a, prefix, m->identifier->type, m->identifier->value, req)) ||
	    (e = caad_request_common(a, cfg, prefix, m->account_uri, m->account_id,
	                             m->validation_method, m->policy, req)))
		return e;
	if (m->validated_at != NULL) {
		const Google__Protobuf__Timestamp *t = m->validated_at;
		/* 0001-01-01 .. 9999-12-31, as the Timestamp spec allows; 0 means "none" */
		if (t->seconds <= 0 || t->seconds > 253402300799LL || t->nanos < 0 ||
		    t->nanos > 999999999)
			return err_text(
			    a,
			    "%svalidated_at: not a valid time after 1970 (seconds %lld, "
			    "nanos %d)",
			    prefix, (long long)t->seconds, t->nanos);
		/* a time ahead of ours is the reuse window's to judge (clock skew) */
		req->validated_at_ms = t->seconds * 1000 + t->nanos / 1000000;
	}
	req->explain = m->explain;
	return NULL;
}

const char *caad_request_order(caad_arena_t *a, const uint8_t *data, size_t len,
                               Caa__V1__CheckOrderRequest **m)
{
	/* a 4 MiB order of empty entries would cost ~100 times that unpacked */
	size_t n = caad_pb_count(data, len, 1);
	*m = NULL;
	if (n > CAAD_MAX_ORDER)
		return err_text(a, "authorizations: %zu identifiers, at most %d in one CheckOrder",
		                n, CAAD_MAX_ORDER);
	const char *e = caad_request_unpack(a, &caa__v1__check_order_request__descriptor, data, len,
	                                    (ProtobufCMessage **)m);
	if (e != NULL)
		return e;
	/* unpack sets *m or returns an error; the analyzer does not follow err_text's varargs */
	if ((*m)->n_authorizations == 0) // NOLINT(clang-analyzer-core.NullDereference)
		return "authorizations: empty";
	return NULL;
}

const char *caad_request_order_entries(caad_arena_t *a, const caa_config_t *cfg,
                                       const Caa__V1__CheckOrderRequest *m, caa_request_t *reqs,
                                       bool *explain)
{
	for (size_t i = 0; i < m->n_authorizations; i++) {
		char prefix[48];
		snprintf(prefix, sizeof(prefix), "authorizations[%zu].", i);
		const char *e = caad_request_check(a, cfg, prefix, m->authorizations[i], &reqs[i]);
		if (e != NULL)
			return e;
		explain[i] = m->authorizations[i]->explain;
	}
	return NULL;
}

const char *caad_request_docaa(caad_arena_t *a, const caa_config_t *cfg,
                               const Va__IsCAAValidRequest *m, caa_request_t *req)
{
	const char *e;
	memset(req, 0, sizeof(*req));
	bool ident = m->identifier != NULL && m->identifier->value[0] != '\0';
	/* Boulder's DoCAA refuses these the same way (IsAnyNilOrZero) */
	if (!ident && m->domain[0] == '\0')
		return "incomplete IsCAAValid request: identifier missing (neither identifier "
		       "(field 5) nor domain (field 1) is set)";
	if (m->validationmethod[0] == '\0')
		return "incomplete IsCAAValid request: validationMethod missing";
	if (m->accounturiid == 0)
		return "incomplete IsCAAValid request: accountURIID missing";
	if (m->accounturiid < 0)
		return err_text(a, "accountURIID: must not be negative, got %lld",
		                (long long)m->accounturiid);
	/* Boulder's VA checks CAA for DNS identifiers only: any other type ("ip",
	 * and "" too, which caa.v1 reads as "dns") is its MalformedError */
	if (ident && strcmp(m->identifier->type, "dns") != 0)
		return err_text(a, "identifier.type %s: Identifier type for CAA check was not DNS",
		                caad_quote(a, m->identifier->type));
	if (ident)
		e = caad_request_ident(a, "", m->identifier->type, m->identifier->value, req);
	else
		e = ident_named(a, "domain", "domain", "dns", m->domain, req);
	if (e == NULL)
		e = check_method(a, caa_config_policy(cfg, ""), "", "validationMethod",
		                 m->validationmethod);
	if (e == NULL)
		e = caad_request_common(a, cfg, "", "", m->accounturiid, m->validationmethod, "",
		                        req);
	return e;
}

/* Read a base-128 varint at *p (< end). */
static bool varint(const uint8_t **p, const uint8_t *end, uint64_t *v)
{
	*v = 0;
	for (unsigned shift = 0; shift < 64 && *p < end; shift += 7) {
		uint8_t b = *(*p)++;
		*v |= (uint64_t)(b & 0x7f) << shift;
		if (!(b & 0x80))
			return true;
	}
	return false;
}

/* The next field at *p (< end): its number, wire type, and for a
 * length-delimited one its body. false on malformed input (groups too: not
 * in proto3). */
static bool pb_field(const uint8_t **p, const uint8_t *end, uint64_t *num, unsigned *wt,
                     const uint8_t **body, size_t *blen)
{
	uint64_t key, v;
	if (!varint(p, end, &key))
		return false;
	*num = key >> 3;
	*wt = (unsigned)(key & 7);
	switch (*wt) {
	case 0: /* varint */ return varint(p, end, &v);
	case 1: /* 64-bit */
		if (end - *p < 8)
			return false;
		*p += 8;
		return true;
	case 2: /* length-delimited */
		if (!varint(p, end, &v) || v > (uint64_t)(end - *p))
			return false;
		*body = *p;
		*blen = (size_t)v;
		*p += v;
		return true;
	case 5: /* 32-bit */
		if (end - *p < 4)
			return false;
		*p += 4;
		return true;
	default: return false;
	}
}

size_t caad_pb_count(const uint8_t *data, size_t len, uint32_t field)
{
	const uint8_t *p = data, *end = data + len, *body;
	size_t n = 0, blen;
	uint64_t num;
	unsigned wt;
	while (p < end) {
		if (!pb_field(&p, end, &num, &wt, &body, &blen))
			return 0;
		if (num == field)
			n++;
	}
	return n;
}

/* ---- strings as they came on the wire ---- */

#define PATH_MAX_LEN 192 /* "authorizations[999].identifier.value" and deeper */
#define WIRE_DEPTH   8   /* request messages nest 3 deep */

/* What is wrong with the octets of string field path, or NULL. */
static const char *string_octets(caad_arena_t *a, const char *path, const uint8_t *s, size_t n)
{
	for (size_t i = 0; i < n;) {
		uint32_t cp;
		size_t k = caad_utf8_next(s + i, n - i, &cp);
		if (k == 0)
			return err_text(a, "%s %s: not valid UTF-8 (at octet %zu)", path,
			                quote_n(a, (const char *)s, n), i);
		if (cp == 0)
			return err_text(a, "%s %s: has a NUL octet (at octet %zu)", path,
			                quote_n(a, (const char *)s, n), i);
		if (cp < 0x20 || (cp >= 0x7f && cp <= 0x9f))
			return err_text(a, "%s %s: has control character U+%04X (at octet %zu)",
			                path, quote_n(a, (const char *)s, n), (unsigned)cp, i);
		i += k;
	}
	return NULL;
}

/*
 * Every string field of a desc message in data[0..len), at any depth: path
 * holds the names down to this message (plen octets). Fields the descriptor
 * does not know are skipped, and malformed input is left to the unpack.
 */
static const char *wire_strings(caad_arena_t *a, const ProtobufCMessageDescriptor *desc,
                                const uint8_t *data, size_t len, char *path, size_t plen,
                                unsigned depth)
{
	const uint8_t *p = data, *end = data + len, *body = NULL;
	size_t *seen = caad_arena_array(a, desc->n_fields, sizeof(*seen)); /* repeated indexes */
	if (seen == NULL)
		return "request: out of memory";
	while (p < end) {
		uint64_t num;
		unsigned wt;
		size_t blen = 0;
		if (!pb_field(&p, end, &num, &wt, &body, &blen))
			return NULL;
		const ProtobufCFieldDescriptor *f =
		    num <= UINT32_MAX ? protobuf_c_message_descriptor_get_field(desc, (unsigned)num)
		                      : NULL;
		if (wt != 2 || f == NULL ||
		    (f->type != PROTOBUF_C_TYPE_STRING && f->type != PROTOBUF_C_TYPE_MESSAGE))
			continue;
		int n =
		    snprintf(path + plen, PATH_MAX_LEN - plen, "%s%s", plen ? "." : "", f->name);
		if (f->label == PROTOBUF_C_LABEL_REPEATED && n > 0 &&
		    plen + (size_t)n < PATH_MAX_LEN)
			n += snprintf(path + plen + n, PATH_MAX_LEN - plen - (size_t)n, "[%zu]",
			              seen[f - desc->fields]++);
		size_t flen = n < 0 ? plen : plen + (size_t)n;
		if (flen >= PATH_MAX_LEN)
			flen = PATH_MAX_LEN - 1;
		const char *e = NULL;
		if (f->type == PROTOBUF_C_TYPE_STRING)
			e = string_octets(a, path, body, blen);
		else if (depth < WIRE_DEPTH)
			e = wire_strings(a, f->descriptor, body, blen, path, flen, depth + 1);
		path[plen] = '\0';
		if (e != NULL)
			return e;
	}
	return NULL;
}

const char *caad_request_unpack(caad_arena_t *a, const ProtobufCMessageDescriptor *desc,
                                const uint8_t *data, size_t len, ProtobufCMessage **m)
{
	*m = protobuf_c_message_unpack(desc, &a->pb, len, data);
	if (*m == NULL)
		return err_text(a, "request: not a valid %s message", desc->name);
	char path[PATH_MAX_LEN] = "";
	const char *e = wire_strings(a, desc, data, len, path, 0, 0);
	if (e != NULL)
		*m = NULL;
	return e;
}
