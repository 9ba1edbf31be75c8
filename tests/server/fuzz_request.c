/*
 * fuzz_request.c — libFuzzer target for caad's request decoding, through the
 * same calls the handlers make (caad_request_unpack, caad_request_check,
 * caad_request_order, caad_request_docaa, caad_evaluate). Whatever bytes
 * arrive over the wire are either refused with a message or decided — never
 * both, never neither — and never crash, leak or hang. A decided request
 * holds only what the door promises: a valid identifier of its type, strings
 * that are UTF-8 without NUL or control characters, a known profile, a
 * method the CA can mean (and for DoCAA an account). A refusal is one line
 * of printable ASCII naming what is wrong. The first octet picks the message
 * (0 Check, 1 CheckOrder, 2 Evaluate, 3 DoCAA, modulo 4); the rest is the
 * protobuf the client sent. Evaluate goes all the way to a packed
 * EvaluateResponse.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "caad.h"
#include "convert.h"
#include "name.h"
#include "request.h"

static const char config[] =
    "{\"issuer_domains\": [\"ca.example\"],"
    " \"account_uri_prefixes\": [\"https://ca.example/acme/acct/\"],"
    " \"profiles\": {\"strict\": {\"critical\": \"unknown-or-unsupported\"},"
    "   \"persist\": {\"method_labels\": {\"ca-tbr-22\": [\"dns-persist-01\"]}}}}";

static caa_config_t *cfg;

/* A broken promise: say which and stop (libFuzzer keeps the input). */
#define PROMISE(cond, ...)                                                                         \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			fprintf(stderr, "fuzz_request: broken promise: %s: ", #cond);              \
			fprintf(stderr, __VA_ARGS__);                                              \
			fputc('\n', stderr);                                                       \
			abort();                                                                   \
		}                                                                                  \
	} while (0)

/* A refusal: a message, one line of printable ASCII. */
static void refused(const char *err)
{
	PROMISE(err != NULL && err[0] != '\0', "refused without a message");
	for (const char *p = err; *p; p++)
		PROMISE(*p >= 0x20 && *p <= 0x7e, "refusal with octet %u: %s", (unsigned char)*p,
		        err);
}

/* A decided string: NULL, or UTF-8 without control characters. */
static void clean(const char *what, const char *s)
{
	if (s == NULL)
		return;
	const unsigned char *p = (const unsigned char *)s;
	size_t left = strlen(s);
	while (left > 0) {
		uint32_t cp;
		size_t n = caad_utf8_next(p, left, &cp);
		PROMISE(n > 0, "%s is not UTF-8", what);
		PROMISE(cp >= 0x20 && !(cp >= 0x7f && cp <= 0x9f), "%s has U+%04X", what,
		        (unsigned)cp);
		p += n;
		left -= n;
	}
}

static const uint8_t *wire;
static size_t wire_len;

/* Does a varint of value n end just before wire[end]? Protobuf lets a
 * sender pad a varint (0x83 0x00 is 3), so every encoding counts. */
static bool length_before(size_t end, size_t n)
{
	for (size_t k = 1; k <= 10 && k <= end; k++) {
		const uint8_t *p = wire + end - k;
		if (p[k - 1] & 0x80)
			return false; /* not the last octet of a varint */
		uint64_t v = 0;
		bool ok = true;
		for (size_t j = 0; j < k && ok; j++) {
			ok = j == k - 1 || (p[j] & 0x80);
			v |= (uint64_t)(p[j] & 0x7f) << (7 * j);
		}
		if (ok && v == n)
			return true;
	}
	return false;
}

/* s came as it is: its octets, with their length just before them, are in
 * the input (a string cut at a NUL has a longer length on the wire). */
static bool on_wire(const char *s)
{
	if (s == NULL || s[0] == '\0')
		return true;
	size_t n = strlen(s);
	for (size_t i = 1; i + n <= wire_len; i++)
		if (memcmp(wire + i, s, n) == 0 && length_before(i, n))
			return true;
	return false;
}

/* A decided request: what the door promises the checker. */
static void decided(const caa_request_t *req, bool docaa)
{
	PROMISE(on_wire(req->identifier) && on_wire(req->account_uri) && on_wire(req->method) &&
	            on_wire(req->policy),
	        "a decided string is not what came on the wire");
	PROMISE(req->identifier != NULL && req->identifier[0] != '\0', "no identifier");
	PROMISE(req->type != NULL &&
	            (strcmp(req->type, "dns") == 0 || strcmp(req->type, "ip") == 0),
	        "type %s", req->type ? req->type : "(null)");
	caa_name_t name;
	int rc = caa_name_parse_typed(req->type, req->identifier, strlen(req->identifier), &name);
	PROMISE(rc == CAA_EOK || rc == CAA_ENOTAPPLICABLE, "identifier: %s", caa_strerror(rc));
	clean("identifier", req->identifier);
	clean("account_uri", req->account_uri);
	clean("method", req->method);
	clean("policy", req->policy);
	const caa_policy_t *pol = caa_config_policy(cfg, req->policy);
	PROMISE(pol != NULL, "unknown profile");
	PROMISE(req->method == NULL || caa_policy_method_known(pol, req->method), "method %s",
	        req->method);
	PROMISE(req->account_id >= 0, "account_id %lld", (long long)req->account_id);
	PROMISE(caa_request_validate(pol, req) == CAA_EOK, "decided, libcaa refuses it: %s",
	        caa_strerror(caa_request_validate(pol, req)));
	if (docaa)
		PROMISE(req->method != NULL && req->account_id > 0, "incomplete DoCAA decided");
	if (docaa)
		PROMISE(strcmp(req->type, "dns") == 0, "DoCAA decided type %s", req->type);
}

/* err (refused) or req (decided): exactly one. */
static void one_of(const char *err, const caa_request_t *req, bool docaa)
{
	if (err != NULL)
		refused(err);
	else
		decided(req, docaa);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (cfg == NULL && caa_config_parse(config, sizeof(config) - 1, &cfg, NULL, 0) != CAA_EOK)
		abort();
	if (size < 1)
		return 0;
	unsigned kind = data[0] % 4;
	data++;
	size--;
	wire = data;
	wire_len = size;
	caad_arena_t a;
	caad_arena_init(&a);
	caa_request_t req;
	switch (kind) {
	case 0: {
		Caa__V1__CheckRequest *m;
		const char *err = caad_request_unpack(&a, &caa__v1__check_request__descriptor, data,
		                                      size, (ProtobufCMessage **)&m);
		if (err == NULL)
			err = caad_request_check(&a, cfg, "", m, &req);
		one_of(err, &req, false);
		break;
	}
	case 1: {
		Caa__V1__CheckOrderRequest *m;
		const char *err = caad_request_order(&a, data, size, &m);
		caa_request_t *reqs = NULL;
		if (err == NULL) {
			PROMISE(m != NULL && m->n_authorizations > 0 &&
			            m->n_authorizations <= CAAD_MAX_ORDER,
			        "an order of %zu", m ? m->n_authorizations : 0);
			reqs = caad_arena_array(&a, m->n_authorizations, sizeof(*reqs));
			bool *explain = caad_arena_array(&a, m->n_authorizations, sizeof(*explain));
			if (reqs == NULL || explain == NULL)
				err = "out of memory"; /* the server: RESOURCE_EXHAUSTED */
			else
				err = caad_request_order_entries(&a, cfg, m, reqs, explain);
		}
		if (err != NULL) {
			refused(err);
		} else {
			for (size_t i = 0; i < m->n_authorizations; i++)
				decided(&reqs[i], false);
		}
		break;
	}
	case 2: {
		Caa__V1__EvaluateResponse *r = (Caa__V1__EvaluateResponse *)1;
		char msg[512] = "";
		grpc_status_code code = caad_evaluate(&a, cfg, data, size, &r, msg, sizeof(msg));
		if (code == GRPC_STATUS_OK) {
			PROMISE(r != NULL && r->result != NULL && msg[0] == '\0',
			        "answered and refused: %s", msg);
			PROMISE(r->result->verdict != CAA__V1__VERDICT__VERDICT_UNSPECIFIED,
			        "no verdict");
			uint8_t *out = malloc(protobuf_c_message_get_packed_size(&r->base) + 1);
			if (out != NULL)
				protobuf_c_message_pack(&r->base, out);
			free(out);
		} else {
			PROMISE(r == NULL, "refused with an answer");
			refused(msg);
		}
		break;
	}
	default: {
		Va__IsCAAValidRequest *m;
		const char *err = caad_request_unpack(&a, &va__is_caavalid_request__descriptor,
		                                      data, size, (ProtobufCMessage **)&m);
		if (err == NULL)
			err = caad_request_docaa(&a, cfg, m, &req);
		one_of(err, &req, true);
		break;
	}
	}
	caad_arena_deinit(&a);
	return 0;
}
