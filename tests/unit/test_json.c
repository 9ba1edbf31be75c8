/*
 * test_json.c — the proto3 JSON mapping of caa.v1 (json.h): results built by
 * hand, compared as exact text. Each case pins field names, field order,
 * omitted defaults, enum names, nested problems and the escaping of RDATA.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "json.h"

/* 2026-11-23T13:45:01.123Z */
#define CHECKED_AT 1795441501123LL

static void assert_json(json_t *j, const char *want)
{
	assert_non_null(j);
	char *got = json_dumps(j, CAA_JSON_DUMP_FLAGS);
	assert_non_null(got);
	if (strcmp(got, want) != 0)
		print_error("want %s\ngot  %s\n", want, got);
	assert_string_equal(got, want);
	free(got);
	json_decref(j);
}

static caa_result_t base_result(void)
{
	return (caa_result_t){
	    .identifier = "www.shop.example",
	    .policy = "",
	    .verdict = CAA_PERMITTED,
	    .reason = CAA_R_NO_CAA,
	    .relevant_domain = "",
	    .decided_by = -1,
	    .dnssec = CAA_DNSSEC_INDETERMINATE,
	};
}

static void test_defaults_omitted(void **state)
{
	(void)state;
	caa_result_t res = base_result();
	assert_json(
	    caa_result_json(&res),
	    "{\"identifier\":{\"type\":\"dns\",\"value\":\"www.shop.example\"},"
	    "\"verdict\":\"PERMITTED\",\"reason\":\"NO_CAA\",\"dnssec\":\"INDETERMINATE\"}");

	/* Zero enums are the proto's *_UNSPECIFIED: omitted too. */
	caa_result_t zero = {.decided_by = -1};
	assert_json(caa_result_json(&zero), "{}");
}

static void test_forbidden(void **state)
{
	(void)state;
	caa_record_t recs[] = {
	    {.flags = 0,
	     .tag = "issue",
	     .value = "other-ca.example",
	     .note = CAA_NOTE_OTHER_ISSUER},
	    {.flags = 0,
	     .tag = "iodef",
	     .value = "mailto:sec@shop.example",
	     .note = CAA_NOTE_NOT_RESTRICTING},
	};
	caa_problem_t prob = {
	    .type = CAA_PROB_CAA,
	    .status = 403,
	    .detail = "While processing CAA for www.shop.example: CAA record for shop.example "
	              "prevents issuance",
	    .identifier = "www.shop.example",
	};
	caa_result_t res = base_result();
	res.verdict = CAA_FORBIDDEN;
	res.reason = CAA_R_NOT_AUTHORIZED;
	res.relevant_domain = "shop.example";
	res.records = recs;
	res.n_records = 2;
	res.decided_by = 0;
	res.dnssec = CAA_DNSSEC_INSECURE;
	res.problem = &prob;
	res.checked_at_ms = CHECKED_AT;
	res.queries = 3;
	res.elapsed_us = 1500;
	res.policy = "strict-2023";
	assert_json(caa_result_json(&res),
	            "{\"identifier\":{\"type\":\"dns\",\"value\":\"www.shop.example\"},"
	            "\"verdict\":\"FORBIDDEN\",\"reason\":\"NOT_AUTHORIZED\","
	            "\"relevantDomain\":\"shop.example\","
	            "\"records\":[{\"tag\":\"issue\",\"value\":\"other-ca.example\","
	            "\"note\":\"names another CA\",\"decided\":true},"
	            "{\"tag\":\"iodef\",\"value\":\"mailto:sec@shop.example\","
	            "\"note\":\"not restricting\"}],"
	            "\"dnssec\":\"INSECURE\","
	            "\"problem\":{\"type\":\"urn:ietf:params:acme:error:caa\","
	            "\"detail\":\"While processing CAA for www.shop.example: CAA record for "
	            "shop.example prevents issuance\",\"status\":403,"
	            "\"identifier\":{\"type\":\"dns\",\"value\":\"www.shop.example\"}},"
	            "\"checkedAt\":\"2026-11-23T13:45:01.123Z\","
	            "\"queries\":3,\"elapsedMs\":1.5,\"policy\":\"strict-2023\"}");
}

static void test_authorized_record(void **state)
{
	(void)state;
	caa_record_t recs[] = {
	    {.flags = 128,
	     .tag = "issue",
	     .value = "ca.example; accounturi=https://ca.example/acme/acct/1",
	     .note = CAA_NOTE_AUTHORIZES},
	    {.flags = 1, .malformed = true, .tag = "", .value = "", .note = CAA_NOTE_NONE},
	};
	caa_result_t res = base_result();
	res.reason = CAA_R_AUTHORIZED;
	res.relevant_domain = "shop.example";
	res.records = recs;
	res.n_records = 2;
	res.decided_by = 0;
	res.dnssec = CAA_DNSSEC_SECURE;
	res.reused = true;
	res.checked_at_ms = 1;
	assert_json(caa_result_json(&res),
	            "{\"identifier\":{\"type\":\"dns\",\"value\":\"www.shop.example\"},"
	            "\"verdict\":\"PERMITTED\",\"reason\":\"AUTHORIZED\","
	            "\"relevantDomain\":\"shop.example\","
	            "\"records\":[{\"flags\":128,\"tag\":\"issue\","
	            "\"value\":\"ca.example; accounturi=https://ca.example/acme/acct/1\","
	            "\"authorizes\":true,\"note\":\"authorizes this CA\",\"decided\":true},"
	            "{\"flags\":1,\"malformed\":true}],"
	            "\"dnssec\":\"SECURE\",\"checkedAt\":\"1970-01-01T00:00:00.001Z\","
	            "\"reused\":true}");
}

static void test_trace(void **state)
{
	(void)state;
	caa_record_t relevant[] = {
	    {.flags = 0, .tag = "issue", .value = "ca.example", .note = CAA_NOTE_AUTHORIZES},
	};
	caa_trace_t trace[] = {
	    {.name = "a.www.shop.example",
	     .outcome = CAA_OUT_NODATA_NOSOA,
	     .dnssec = CAA_DNSSEC_INSECURE,
	     .elapsed_us = 400},
	    {.name = "www.shop.example",
	     .outcome = CAA_OUT_EMPTY,
	     .dnssec = CAA_DNSSEC_INSECURE,
	     .retries = 2,
	     .elapsed_us = 12345,
	     .why = "EDE 22: No Reachable Authority"},
	    {.name = "shop.example",
	     .outcome = CAA_OUT_PRESENT,
	     .dnssec = CAA_DNSSEC_INSECURE,
	     .records = relevant,
	     .n_records = 1,
	     .relevant = true},
	    {.name = "example", .outcome = CAA_OUT_PENDING},
	};
	caa_result_t res = base_result();
	res.identifier = "a.www.shop.example";
	res.reason = CAA_R_AUTHORIZED;
	res.relevant_domain = "shop.example";
	res.records = relevant;
	res.n_records = 1;
	res.decided_by = 0;
	res.dnssec = CAA_DNSSEC_INSECURE;
	res.trace = trace;
	res.n_trace = 4;
	res.queries = 3;
	assert_json(
	    caa_result_json(&res),
	    "{\"identifier\":{\"type\":\"dns\",\"value\":\"a.www.shop.example\"},"
	    "\"verdict\":\"PERMITTED\",\"reason\":\"AUTHORIZED\","
	    "\"relevantDomain\":\"shop.example\","
	    "\"records\":[{\"tag\":\"issue\",\"value\":\"ca.example\",\"authorizes\":true,"
	    "\"note\":\"authorizes this CA\",\"decided\":true}],"
	    "\"dnssec\":\"INSECURE\","
	    "\"trace\":["
	    "{\"name\":\"a.www.shop.example\",\"outcome\":\"NODATA_WITHOUT_SOA\","
	    "\"dnssec\":\"INSECURE\",\"elapsedMs\":0.4},"
	    "{\"name\":\"www.shop.example\",\"outcome\":\"NODATA\",\"dnssec\":\"INSECURE\","
	    "\"why\":\"EDE 22: No Reachable Authority\",\"elapsedMs\":12.345,\"retries\":2},"
	    "{\"name\":\"shop.example\",\"outcome\":\"PRESENT\","
	    "\"records\":[{\"tag\":\"issue\",\"value\":\"ca.example\",\"authorizes\":true,"
	    "\"note\":\"authorizes this CA\",\"decided\":true}],"
	    "\"dnssec\":\"INSECURE\",\"relevant\":true},"
	    "{\"name\":\"example\",\"outcome\":\"NOT_NEEDED\"}],"
	    "\"queries\":3}");
}

static void test_lookup_failed_bogus(void **state)
{
	(void)state;
	caa_problem_t prob = {
	    .type = CAA_PROB_DNS,
	    .status = 400,
	    .detail = "While processing CAA for *.shop.example: DNS problem: DNSSEC: signature "
	              "expired looking up CAA for shop.example",
	    .identifier = "*.shop.example",
	};
	caa_trace_t trace[] = {
	    {.name = "shop.example",
	     .outcome = CAA_OUT_BOGUS,
	     .dnssec = CAA_DNSSEC_BOGUS,
	     .why = "signature expired",
	     .relevant = true},
	    {.name = "example", .outcome = CAA_OUT_SERVFAIL, .dnssec = CAA_DNSSEC_INDETERMINATE},
	};
	caa_result_t res = base_result();
	res.identifier = "*.shop.example";
	res.verdict = CAA_LOOKUP_FAILED;
	res.reason = CAA_R_DNSSEC_BOGUS;
	res.dnssec = CAA_DNSSEC_BOGUS;
	res.problem = &prob;
	res.trace = trace;
	res.n_trace = 2;
	assert_json(
	    caa_result_json(&res),
	    "{\"identifier\":{\"type\":\"dns\",\"value\":\"*.shop.example\"},"
	    "\"verdict\":\"LOOKUP_FAILED\",\"reason\":\"DNSSEC_BOGUS\",\"dnssec\":\"BOGUS\","
	    "\"problem\":{\"type\":\"urn:ietf:params:acme:error:dns\","
	    "\"detail\":\"While processing CAA for *.shop.example: DNS problem: DNSSEC: "
	    "signature expired looking up CAA for shop.example\",\"status\":400,"
	    "\"identifier\":{\"type\":\"dns\",\"value\":\"*.shop.example\"}},"
	    "\"trace\":[{\"name\":\"shop.example\",\"outcome\":\"BOGUS\",\"dnssec\":\"BOGUS\","
	    "\"why\":\"signature expired\",\"relevant\":true},"
	    "{\"name\":\"example\",\"outcome\":\"SERVFAIL\",\"dnssec\":\"INDETERMINATE\"}]}");
}

static void test_not_applicable_ip(void **state)
{
	(void)state;
	caa_result_t res = base_result();
	res.identifier = "2001:db8::1";
	res.reason = CAA_R_NOT_APPLICABLE;
	assert_json(caa_result_json(&res),
	            "{\"identifier\":{\"type\":\"ip\",\"value\":\"2001:db8::1\"},"
	            "\"verdict\":\"PERMITTED\",\"reason\":\"NOT_APPLICABLE\","
	            "\"dnssec\":\"INDETERMINATE\"}");
}

/* RDATA is any octets: presentation escapes keep JSON valid and lossless. */
static void test_escaping(void **state)
{
	(void)state;
	caa_record_t recs[] = {
	    {.flags = 0,
	     .tag = "issue",
	     .value = "a\\b\"c\td\xff\xc3\xa9",
	     .note = CAA_NOTE_MALFORMED_VALUE},
	};
	caa_trace_t trace[] = {
	    {.name = "shop.example",
	     .outcome = CAA_OUT_SERVFAIL,
	     .why = "bad \xff octet, caf\xc3\xa9"},
	};
	caa_result_t res = base_result();
	res.records = recs;
	res.n_records = 1;
	res.trace = trace;
	res.n_trace = 1;
	assert_json(caa_result_json(&res),
	            "{\"identifier\":{\"type\":\"dns\",\"value\":\"www.shop.example\"},"
	            "\"verdict\":\"PERMITTED\",\"reason\":\"NO_CAA\","
	            "\"records\":[{\"tag\":\"issue\",\"value\":"
	            "\"a\\\\\\\\b\\\"c\\\\009d\\\\255\\\\195\\\\169\","
	            "\"note\":\"value does not parse: authorizes nobody\"}],"
	            "\"dnssec\":\"INDETERMINATE\","
	            "\"trace\":[{\"name\":\"shop.example\",\"outcome\":\"SERVFAIL\","
	            "\"why\":\"bad \\\\255 octet, caf\\\\195\\\\169\"}]}");

	/* Valid UTF-8 free text stays as it is. */
	trace[0].why = "caf\xc3\xa9";
	res.n_records = 0;
	assert_json(caa_result_json(&res),
	            "{\"identifier\":{\"type\":\"dns\",\"value\":\"www.shop.example\"},"
	            "\"verdict\":\"PERMITTED\",\"reason\":\"NO_CAA\",\"dnssec\":\"INDETERMINATE\","
	            "\"trace\":[{\"name\":\"shop.example\",\"outcome\":\"SERVFAIL\","
	            "\"why\":\"caf\xc3\xa9\"}]}");
}

static void test_escape_function(void **state)
{
	char buf[8];
	(void)state;
	assert_int_equal(caa_json_escape(NULL, 0, "a\"b", 3, true), 4);
	assert_int_equal(caa_json_escape(buf, sizeof(buf), "a\"b", 3, true), 4);
	assert_string_equal(buf, "a\\\"b");
	assert_int_equal(caa_json_escape(buf, sizeof(buf), "a\"b", 3, false), 3);
	assert_string_equal(buf, "a\"b");
	/* truncated like snprintf, still terminated */
	assert_int_equal(caa_json_escape(buf, sizeof(buf), "\x01\x02\x03", 3, false), 12);
	assert_string_equal(buf, "\\001\\00");
	assert_int_equal(caa_json_escape(buf, sizeof(buf), "\0x", 2, false), 5);
	assert_string_equal(buf, "\\000x");
}

static void test_timestamps(void **state)
{
	(void)state;
	caa_result_t zero = {.decided_by = -1};
	zero.checked_at_ms = -1;
	assert_json(caa_result_json(&zero), "{\"checkedAt\":\"1969-12-31T23:59:59.999Z\"}");
	zero.checked_at_ms = 4102444800000LL; /* 2100-01-01 */
	assert_json(caa_result_json(&zero), "{\"checkedAt\":\"2100-01-01T00:00:00.000Z\"}");
}

static caa_problem_t dns_sub = {
    .type = CAA_PROB_DNS,
    .status = 400,
    .detail = "While processing CAA for b.example: DNS problem: SERVFAIL looking up CAA for "
              "example - the domain's nameservers may be malfunctioning",
    .identifier = "b.example",
};

static void test_problem_subproblems(void **state)
{
	(void)state;
	caa_problem_t subs[2] = {
	    {.type = CAA_PROB_CAA,
	     .status = 403,
	     .detail = "While processing CAA for a.example: CAA record for a.example prevents "
	               "issuance",
	     .identifier = "a.example"},
	    dns_sub,
	};
	caa_problem_t agg = {
	    .type = CAA_PROB_CAA,
	    .status = 403,
	    .detail = "Rechecking CAA for \"a.example\" and 1 more identifiers failed. Refer to "
	              "sub-problems for more information",
	    .subproblems = subs,
	    .n_subproblems = 2,
	};
	assert_json(
	    caa_problem_json(&agg),
	    "{\"type\":\"urn:ietf:params:acme:error:caa\","
	    "\"detail\":\"Rechecking CAA for \\\"a.example\\\" and 1 more identifiers failed. "
	    "Refer to sub-problems for more information\",\"status\":403,"
	    "\"subproblems\":["
	    "{\"type\":\"urn:ietf:params:acme:error:caa\",\"detail\":\"While processing CAA "
	    "for a.example: CAA record for a.example prevents issuance\",\"status\":403,"
	    "\"identifier\":{\"type\":\"dns\",\"value\":\"a.example\"}},"
	    "{\"type\":\"urn:ietf:params:acme:error:dns\",\"detail\":\"While processing CAA "
	    "for b.example: DNS problem: SERVFAIL looking up CAA for example - the domain's "
	    "nameservers may be malfunctioning\",\"status\":400,"
	    "\"identifier\":{\"type\":\"dns\",\"value\":\"b.example\"}}]}");

	caa_problem_t internal = {.type = CAA_PROB_SERVER_INTERNAL, .status = 500, .detail = "x"};
	assert_json(caa_problem_json(&internal),
	            "{\"type\":\"urn:ietf:params:acme:error:serverInternal\",\"detail\":\"x\","
	            "\"status\":500}");
}

static void test_order(void **state)
{
	(void)state;
	caa_result_t a = base_result(), b = base_result();
	a.identifier = "a.example";
	b.identifier = "b.example";
	b.verdict = CAA_LOOKUP_FAILED;
	b.reason = CAA_R_DNS_SERVFAIL;
	b.problem = &dns_sub;
	caa_result_t *results[] = {&a, &b};
	assert_json(
	    caa_order_json(results, 2, &dns_sub),
	    "{\"results\":["
	    "{\"identifier\":{\"type\":\"dns\",\"value\":\"a.example\"},"
	    "\"verdict\":\"PERMITTED\",\"reason\":\"NO_CAA\",\"dnssec\":\"INDETERMINATE\"},"
	    "{\"identifier\":{\"type\":\"dns\",\"value\":\"b.example\"},"
	    "\"verdict\":\"LOOKUP_FAILED\",\"reason\":\"DNS_SERVFAIL\","
	    "\"dnssec\":\"INDETERMINATE\",\"problem\":{\"type\":\"urn:ietf:params:acme:error:dns\","
	    "\"detail\":\"While processing CAA for b.example: DNS problem: SERVFAIL looking up "
	    "CAA for example - the domain's nameservers may be malfunctioning\",\"status\":400,"
	    "\"identifier\":{\"type\":\"dns\",\"value\":\"b.example\"}}}],"
	    "\"problem\":{\"type\":\"urn:ietf:params:acme:error:dns\","
	    "\"detail\":\"While processing CAA for b.example: DNS problem: SERVFAIL looking up "
	    "CAA for example - the domain's nameservers may be malfunctioning\",\"status\":400,"
	    "\"identifier\":{\"type\":\"dns\",\"value\":\"b.example\"}}}");
	assert_json(caa_order_json(NULL, 0, NULL), "{}");
}

/* Remote perspectives (docs/semantics.md §9): configured order, outcome by name (PENDING once
 * decided is NOT_NEEDED), verdict/problem/elapsedMs only when set, then
 * "quorum": "passed/total" counting CORROBORATED only; before trace and queries. */
static void test_perspectives(void **state)
{
	(void)state;
	caa_problem_t remote_caa = {
	    .type = CAA_PROB_CAA,
	    .status = 403,
	    .detail = "During secondary validation: While processing CAA for www.shop.example: "
	              "CAA record for shop.example prevents issuance",
	    .identifier = "www.shop.example",
	};
	caa_problem_t unreachable = {
	    .type = CAA_PROB_SERVER_INTERNAL,
	    .status = 500,
	    .detail = "During secondary validation: remote perspective r3 unreachable: UNAVAILABLE",
	    .identifier = "www.shop.example",
	};
	caa_perspective_t ps[] = {
	    {.name = "r1",
	     .rir = "ARIN",
	     .state = CAA_MPIC_CORROBORATED,
	     .verdict = CAA_PERMITTED,
	     .elapsed_us = 7250},
	    {.name = "r2",
	     .rir = "RIPE",
	     .state = CAA_MPIC_PROBLEM,
	     .verdict = CAA_FORBIDDEN,
	     .problem = &remote_caa,
	     .elapsed_us = 1000},
	    {.name = "r3",
	     .rir = "APNIC",
	     .state = CAA_MPIC_UNREACHABLE,
	     .verdict = CAA_LOOKUP_FAILED,
	     .problem = &unreachable,
	     .elapsed_us = 400},
	    {.name = "r4", .rir = "LACNIC", .state = CAA_MPIC_PENDING},
	};
	caa_result_t res = base_result();
	res.verdict = CAA_FORBIDDEN;
	res.reason = CAA_R_NOT_CORROBORATED;
	res.problem = &remote_caa;
	res.perspectives = ps;
	res.n_perspectives = 4;
	res.queries = 3;
	const char *problem_json =
	    "{\"type\":\"urn:ietf:params:acme:error:caa\",\"detail\":\"During secondary "
	    "validation: While processing CAA for www.shop.example: CAA record for shop.example "
	    "prevents issuance\",\"status\":403,"
	    "\"identifier\":{\"type\":\"dns\",\"value\":\"www.shop.example\"}}";
	char want[2048];
	snprintf(want, sizeof(want),
	         "{\"identifier\":{\"type\":\"dns\",\"value\":\"www.shop.example\"},"
	         "\"verdict\":\"FORBIDDEN\",\"reason\":\"NOT_CORROBORATED\","
	         "\"dnssec\":\"INDETERMINATE\",\"problem\":%s,"
	         "\"perspectives\":["
	         "{\"name\":\"r1\",\"rir\":\"ARIN\",\"verdict\":\"PERMITTED\",\"elapsedMs\":7.25,"
	         "\"outcome\":\"CORROBORATED\"},"
	         "{\"name\":\"r2\",\"rir\":\"RIPE\",\"verdict\":\"FORBIDDEN\",\"problem\":%s,"
	         "\"elapsedMs\":1.0,\"outcome\":\"PROBLEM\"},"
	         "{\"name\":\"r3\",\"rir\":\"APNIC\",\"verdict\":\"LOOKUP_FAILED\","
	         "\"problem\":{\"type\":\"urn:ietf:params:acme:error:serverInternal\","
	         "\"detail\":\"During secondary validation: remote perspective r3 unreachable: "
	         "UNAVAILABLE\",\"status\":500,"
	         "\"identifier\":{\"type\":\"dns\",\"value\":\"www.shop.example\"}},"
	         "\"elapsedMs\":0.4,\"outcome\":\"UNREACHABLE\"},"
	         "{\"name\":\"r4\",\"rir\":\"LACNIC\",\"outcome\":\"NOT_NEEDED\"}],"
	         "\"quorum\":\"1/4\",\"queries\":3}",
	         problem_json, problem_json);
	assert_json(caa_result_json(&res), want);

	/* The remaining outcomes by name; a permitted quorum counts its corroborations. */
	caa_perspective_t ok[] = {
	    {.name = "a", .rir = "ARIN", .state = CAA_MPIC_CORROBORATED, .verdict = CAA_PERMITTED},
	    {.name = "b", .rir = "RIPE", .state = CAA_MPIC_CORROBORATED, .verdict = CAA_PERMITTED},
	    {.name = "c", .rir = "APNIC", .state = CAA_MPIC_TIMEOUT, .verdict = CAA_LOOKUP_FAILED},
	    {.name = "d", .rir = "", .state = CAA_MPIC_MISMATCH, .verdict = CAA_LOOKUP_FAILED},
	};
	caa_result_t permitted = {.perspectives = ok, .n_perspectives = 4, .decided_by = -1};
	assert_json(caa_result_json(&permitted),
	            "{\"perspectives\":["
	            "{\"name\":\"a\",\"rir\":\"ARIN\",\"verdict\":\"PERMITTED\","
	            "\"outcome\":\"CORROBORATED\"},"
	            "{\"name\":\"b\",\"rir\":\"RIPE\",\"verdict\":\"PERMITTED\","
	            "\"outcome\":\"CORROBORATED\"},"
	            "{\"name\":\"c\",\"rir\":\"APNIC\",\"verdict\":\"LOOKUP_FAILED\","
	            "\"outcome\":\"TIMEOUT\"},"
	            "{\"name\":\"d\",\"verdict\":\"LOOKUP_FAILED\",\"outcome\":\"MISMATCH\"}],"
	            "\"quorum\":\"2/4\"}");

	/* In an order each result carries its own. */
	caa_result_t *results[] = {&permitted};
	json_t *order = caa_order_json(results, 1, NULL);
	assert_non_null(order);
	json_t *first = json_array_get(json_object_get(order, "results"), 0);
	assert_string_equal(json_string_value(json_object_get(first, "quorum")), "2/4");
	assert_int_equal(json_array_size(json_object_get(first, "perspectives")), 4);
	json_decref(order);
}

static void test_outcome_names(void **state)
{
	(void)state;
	static const char *const want[] = {
	    "NOT_NEEDED", "PRESENT",  "NODATA",  "NODATA_WITHOUT_SOA",
	    "NXDOMAIN",   "SERVFAIL", "REFUSED", "NOTIMP",
	    "FORMERR",    "TIMEOUT",  "NETWORK", "BOGUS",
	};
	for (int o = CAA_OUT_PENDING; o <= CAA_OUT_BOGUS; o++)
		assert_string_equal(caa_json_outcome_name((caa_outcome_t)o), want[o]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_defaults_omitted),
	    cmocka_unit_test(test_forbidden),
	    cmocka_unit_test(test_authorized_record),
	    cmocka_unit_test(test_trace),
	    cmocka_unit_test(test_lookup_failed_bogus),
	    cmocka_unit_test(test_not_applicable_ip),
	    cmocka_unit_test(test_escaping),
	    cmocka_unit_test(test_escape_function),
	    cmocka_unit_test(test_timestamps),
	    cmocka_unit_test(test_problem_subproblems),
	    cmocka_unit_test(test_order),
	    cmocka_unit_test(test_perspectives),
	    cmocka_unit_test(test_outcome_names),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
