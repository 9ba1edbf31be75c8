/*
 * test_pbjson.c — the proto3 JSON codec (server/pbjson.c), in-process: every
 * caa.v1 message, each field filled with a value that is not its default,
 * goes to JSON and back to the same protobuf octets; names, numbers, enums,
 * timestamps and null as the mapping says; every refusal names the field.
 */
#include <math.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "caa/v1/caa.pb-c.h"
#include "pbjson.h"

#define MEMBER(type, m, off) (*(type *)(void *)((char *)(m) + (off)))

/* A message of d with every field set (repeated: two elements), nested
 * messages down to depth levels; values vary with seed. */
static ProtobufCMessage *fill(const ProtobufCMessageDescriptor *d, unsigned depth, unsigned seed);

static void fill_value(const ProtobufCFieldDescriptor *f, void *slot, unsigned depth, unsigned seed)
{
	char buf[64];
	switch (f->type) {
	case PROTOBUF_C_TYPE_INT32:
	case PROTOBUF_C_TYPE_SINT32:
	case PROTOBUF_C_TYPE_SFIXED32: *(int32_t *)slot = -(int32_t)(seed + 7); break;
	case PROTOBUF_C_TYPE_UINT32:
	case PROTOBUF_C_TYPE_FIXED32: *(uint32_t *)slot = 4000000000u - seed; break;
	case PROTOBUF_C_TYPE_INT64:
	case PROTOBUF_C_TYPE_SINT64:
	case PROTOBUF_C_TYPE_SFIXED64:
		/* Timestamp.seconds must stay in 0001..9999 */
		*(int64_t *)slot = strcmp(f->name, "seconds") == 0 ? 1790000000 + (int64_t)seed
		                                                   : INT64_MIN + (int64_t)seed;
		break;
	case PROTOBUF_C_TYPE_UINT64:
	case PROTOBUF_C_TYPE_FIXED64: *(uint64_t *)slot = UINT64_MAX - seed; break;
	case PROTOBUF_C_TYPE_FLOAT: *(float *)slot = 0.25f + (float)seed; break;
	case PROTOBUF_C_TYPE_DOUBLE: *(double *)slot = 1234.5678 + seed; break;
	case PROTOBUF_C_TYPE_BOOL: *(protobuf_c_boolean *)slot = 1; break;
	case PROTOBUF_C_TYPE_ENUM: {
		const ProtobufCEnumDescriptor *ed = f->descriptor;
		*(int *)slot = ed->values[ed->n_values - 1 - seed % ed->n_values].value;
		if (*(int *)slot == 0)
			*(int *)slot = ed->values[1].value;
		break;
	}
	case PROTOBUF_C_TYPE_STRING:
		snprintf(buf, sizeof(buf), "%s-%u \"q\" \\ é", f->name, seed);
		*(char **)slot = strdup(buf);
		break;
	case PROTOBUF_C_TYPE_BYTES: break;
	case PROTOBUF_C_TYPE_MESSAGE:
		*(ProtobufCMessage **)slot = fill(f->descriptor, depth + 1, seed + 1);
		break;
	}
	if (strcmp(f->name, "nanos") == 0)
		*(int32_t *)slot = 123000000 + (int32_t)seed;
}

static ProtobufCMessage *fill(const ProtobufCMessageDescriptor *d, unsigned depth, unsigned seed)
{
	ProtobufCMessage *m = calloc(1, d->sizeof_message);
	assert_non_null(m);
	d->message_init(m);
	for (unsigned i = 0; i < d->n_fields; i++) {
		const ProtobufCFieldDescriptor *f = &d->fields[i];
		if (f->type == PROTOBUF_C_TYPE_MESSAGE && depth >= 2)
			continue; /* Problem.subproblems recurses */
		if (f->label == PROTOBUF_C_LABEL_REPEATED) {
			/* caa.v1 repeats only strings and messages */
			assert_true(f->type == PROTOBUF_C_TYPE_STRING ||
			            f->type == PROTOBUF_C_TYPE_MESSAGE);
			size_t es = sizeof(void *);
			char *arr = calloc(2, es);
			assert_non_null(arr);
			for (unsigned k = 0; k < 2; k++)
				fill_value(f, arr + k * es, depth, seed + k);
			MEMBER(char *, m, f->offset) = arr;
			MEMBER(size_t, m, f->quantifier_offset) = 2;
		} else {
			fill_value(f, (char *)m + f->offset, depth, seed);
		}
	}
	return m;
}

static uint8_t *packed(const ProtobufCMessage *m, size_t *len)
{
	*len = protobuf_c_message_get_packed_size(m);
	uint8_t *b = malloc(*len + 1);
	assert_non_null(b);
	protobuf_c_message_pack(m, b);
	return b;
}

/* m → JSON text → message: the same octets. */
static void round_trip(const ProtobufCMessage *m)
{
	json_t *j = caad_pbjson_encode(m);
	assert_non_null(j);
	char *text = json_dumps(j, JSON_COMPACT);
	json_decref(j);
	assert_non_null(text);
	ProtobufCMessage *back;
	char err[256];
	const char *e =
	    caad_pbjson_decode(m->descriptor, text, strlen(text), &back, err, sizeof(err));
	if (e != NULL)
		fail_msg("%s: %s\n%s", m->descriptor->name, e, text);
	size_t la, lb;
	uint8_t *a = packed(m, &la), *b = packed(back, &lb);
	if (la != lb || memcmp(a, b, la) != 0)
		fail_msg("%s: round trip differs\n%s", m->descriptor->name, text);
	free(a);
	free(b);
	free(text);
	protobuf_c_message_free_unpacked(back, NULL);
}

static const ProtobufCMessageDescriptor *const all[] = {
    &caa__v1__identifier__descriptor,
    &caa__v1__check_request__descriptor,
    &caa__v1__record__descriptor,
    &caa__v1__problem__descriptor,
    &caa__v1__perspective__descriptor,
    &caa__v1__trace_label__descriptor,
    &caa__v1__check_response__descriptor,
    &caa__v1__check_order_request__descriptor,
    &caa__v1__check_order_response__descriptor,
    &caa__v1__label_rrset__descriptor,
    &caa__v1__evaluate_request__descriptor,
    &caa__v1__evaluate_response__descriptor,
};

static void test_round_trip_all(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++) {
		ProtobufCMessage *m = fill(all[i], 0, (unsigned)i);
		round_trip(m);
		protobuf_c_message_free_unpacked(m, NULL);
		/* and the all-default message: {} */
		ProtobufCMessage *e = calloc(1, all[i]->sizeof_message);
		all[i]->message_init(e);
		json_t *j = caad_pbjson_encode(e);
		assert_non_null(j);
		assert_int_equal(json_object_size(j), 0);
		json_decref(j);
		round_trip(e);
		free(e);
	}
}

/* text decoded as a CheckRequest: NULL or the error. */
static Caa__V1__CheckRequest *check_req(const char *text, char *err, size_t errlen, const char **e)
{
	ProtobufCMessage *m;
	*e = caad_pbjson_decode(&caa__v1__check_request__descriptor, text, strlen(text), &m, err,
	                        errlen);
	return (Caa__V1__CheckRequest *)m;
}

static void test_names_and_values(void **state)
{
	(void)state;
	char err[256];
	const char *e;
	/* both names; int64 as a string or a number; a Timestamp with an offset */
	Caa__V1__CheckRequest *m =
	    check_req("{\"identifier\": {\"type\": \"dns\", \"value\": \"a.example\"},"
	              " \"accountUri\": \"https://ca/1\", \"validation_method\": \"dns-01\","
	              " \"account_id\": \"9007199254740993\", \"explain\": true,"
	              " \"validatedAt\": \"2026-01-02T04:04:05.5+01:00\", \"policy\": null}",
	              err, sizeof(err), &e);
	assert_null(e);
	assert_string_equal(m->identifier->value, "a.example");
	assert_string_equal(m->account_uri, "https://ca/1");
	assert_string_equal(m->validation_method, "dns-01");
	assert_int_equal(m->account_id, 9007199254740993LL);
	assert_true(m->explain);
	assert_string_equal(m->policy, "");
	assert_int_equal(m->validated_at->seconds, 1767323045); /* 2026-01-02T03:04:05Z */
	assert_int_equal(m->validated_at->nanos, 500000000);
	json_t *j = caad_pbjson_encode(&m->base);
	assert_string_equal(json_string_value(json_object_get(j, "validatedAt")),
	                    "2026-01-02T03:04:05.500Z");
	assert_string_equal(json_string_value(json_object_get(j, "accountId")), "9007199254740993");
	assert_non_null(json_object_get(j, "validationMethod"));
	assert_null(json_object_get(j, "policy")); /* default: left out */
	json_decref(j);
	protobuf_c_message_free_unpacked(&m->base, NULL);

	m = check_req("{\"accountId\": 42}", err, sizeof(err), &e);
	assert_null(e);
	assert_int_equal(m->account_id, 42);
	protobuf_c_message_free_unpacked(&m->base, NULL);

	/* enums by name or number, unknown numbers kept (open enums) */
	ProtobufCMessage *r;
	static const char resp[] =
	    "{\"verdict\": \"FORBIDDEN\", \"reason\": 4, \"dnssec\": 77,"
	    " \"elapsedMs\": \"NaN\", \"queries\": 3.0, \"flags\": [\"A\", \"B\"]}";
	e = caad_pbjson_decode(&caa__v1__check_response__descriptor, resp, strlen(resp), &r, err,
	                       sizeof(err));
	assert_null(e);
	Caa__V1__CheckResponse *cr = (Caa__V1__CheckResponse *)r;
	assert_int_equal(cr->verdict, CAA__V1__VERDICT__FORBIDDEN);
	assert_int_equal(cr->reason, CAA__V1__REASON__NOT_AUTHORIZED);
	assert_int_equal(cr->dnssec, 77);
	assert_true(isnan(cr->elapsed_ms));
	assert_int_equal(cr->queries, 3);
	assert_int_equal(cr->n_flags, 2);
	j = caad_pbjson_encode(r);
	assert_string_equal(json_string_value(json_object_get(j, "reason")), "NOT_AUTHORIZED");
	assert_int_equal(json_integer_value(json_object_get(j, "dnssec")), 77);
	assert_string_equal(json_string_value(json_object_get(j, "elapsedMs")), "NaN");
	json_decref(j);
	protobuf_c_message_free_unpacked(r, NULL);
}

/* text as a d message must fail: the error (static). */
static const char *refused(const ProtobufCMessageDescriptor *d, const char *text)
{
	static char err[256];
	ProtobufCMessage *m;
	const char *e = caad_pbjson_decode(d, text, strlen(text), &m, err, sizeof(err));
	assert_non_null(e);
	assert_null(m);
	return e;
}

/* Each refusal: the error names the field (as the client spelt it). */
static void test_refusals(void **state)
{
	(void)state;
	static const struct {
		const char *text, *want;
	} cases[] = {
	    {"{\"identifer\": {}}", "identifer: unknown field"},
	    {"{\"identifier\": {\"valu\": \"x\"}}", "identifier.valu: unknown field"},
	    {"{\"identifier\": \"x\"}", "identifier: expected an object"},
	    {"{\"explain\": \"yes\"}", "explain: expected true or false, got a string"},
	    {"{\"explain\": 1}", "explain: expected true or false, got a number"},
	    {"{\"accountUri\": 5}", "accountUri: expected a string, got a number"},
	    {"{\"accountId\": \"12x\"}", "accountId: \"12x\" is not a decimal integer"},
	    {"{\"accountId\": 1.5}", "accountId: 1.5 is not an integer"},
	    {"{\"account_id\": \"9223372036854775808\"}", "account_id: integer out of range"},
	    {"{\"accountId\": [1]}", "accountId: expected an integer, got an array"},
	    {"{\"validatedAt\": \"2026-02-30T00:00:00Z\"}", "validatedAt: \"2026-02-30T00:00:00Z\" "
	                                                    "is not an RFC 3339 timestamp"},
	    {"{\"validatedAt\": \"2026-01-01T00:00:00\"}",
	     "validatedAt: \"2026-01-01T00:00:00\" is "
	     "not an RFC 3339"},
	    {"{\"validatedAt\": 5}", "validatedAt: expected an RFC 3339 timestamp string"},
	    {"{\"accountUri\": \"a\", \"account_uri\": \"b\"}", "account_uri: given twice"},
	    {"{\"policy\": \"a\", \"policy\": \"b\"}", "request: not JSON: duplicate object key"},
	    {"[1]", "request: expected an object"},
	    {"{\"identifier\": ", "request: not JSON"},
	    {"", "request: not JSON"},
	    /* protobuf-c packs a string up to its NUL: it would be checked as "a.example" */
	    {"{\"identifier\": {\"value\": \"a.example\\u0000.b.example\"}}",
	     "identifier.value: has a NUL (\\u0000) at octet 9"},
	    {"{\"accountUri\": \"\\u0000\"}", "accountUri: has a NUL"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char err[256];
		const char *e;
		Caa__V1__CheckRequest *m = check_req(cases[i].text, err, sizeof(err), &e);
		if (e == NULL || strncmp(e, cases[i].want, strlen(cases[i].want)) != 0)
			fail_msg("%s: got \"%s\", want \"%s...\"", cases[i].text, e ? e : "(ok)",
			         cases[i].want);
		assert_null(m);
	}
	/* deep in an order: the element's index */
	assert_string_equal(refused(&caa__v1__check_order_request__descriptor,
	                            "{\"authorizations\": [{\"identifier\": {\"value\": \"a\"}},"
	                            " {\"identifier\": {\"value\": \"b\", \"kind\": 1}}]}"),
	                    "authorizations[1].identifier.kind: unknown field");
	assert_string_equal(
	    refused(&caa__v1__check_order_request__descriptor, "{\"authorizations\": [{}, null]}"),
	    "authorizations[1]: null in an array");
	assert_string_equal(
	    refused(&caa__v1__check_response__descriptor, "{\"verdict\": \"MAYBE\"}"),
	    "verdict: \"MAYBE\" is not a value of caa.v1.Verdict");
	assert_string_equal(refused(&caa__v1__record__descriptor, "{\"flags\": -1}"),
	                    "flags: integer out of range");
	assert_string_equal(refused(&caa__v1__record__descriptor, "{\"flags\": 4294967296}"),
	                    "flags: integer out of range");
}

static void test_names(void **state)
{
	(void)state;
	char buf[32];
	assert_true(caad_pbjson_name("account_uri", buf, sizeof(buf)));
	assert_string_equal(buf, "accountUri");
	assert_true(caad_pbjson_name("accountURIID", buf, sizeof(buf)));
	assert_string_equal(buf, "accountURIID");
	assert_true(caad_pbjson_name("elapsed_ms", buf, sizeof(buf)));
	assert_string_equal(buf, "elapsedMs");
	assert_false(caad_pbjson_name("a_very_long_field_name_indeed_yes", buf, 8));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_round_trip_all),
	    cmocka_unit_test(test_names_and_values),
	    cmocka_unit_test(test_refusals),
	    cmocka_unit_test(test_names),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
