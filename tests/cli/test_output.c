/*
 * test_output.c — a caad's remote perspectives as `caa check --server` shows
 * them: a caa.v1.CheckResponse packed and unpacked as it crosses the wire,
 * mapped back by from_proto_result (the state from Perspective.outcome, or
 * derived when empty or unknown), then printed by the same output code as
 * every result: the human lines (with and without --explain) and the JSON.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "codes.h"
#include "from_proto.h"
#include "output.h"

#define NAME "issue-permit.lab"

static Caa__V1__Identifier ident = {PROTOBUF_C_MESSAGE_INIT(&caa__v1__identifier__descriptor),
                                    "dns", NAME};

/* A remote's problem as the primary reports it (docs/semantics.md §9 texts). */
static Caa__V1__Problem remote_caa = {PROTOBUF_C_MESSAGE_INIT(&caa__v1__problem__descriptor),
                                      "urn:ietf:params:acme:error:caa",
                                      "During secondary validation: While processing CAA for " NAME
                                      ": CAA record for " NAME " prevents issuance",
                                      403,
                                      &ident,
                                      0,
                                      NULL};
static Caa__V1__Problem remote_unreachable = {
    PROTOBUF_C_MESSAGE_INIT(&caa__v1__problem__descriptor),
    "urn:ietf:params:acme:error:serverInternal",
    "During secondary validation: remote perspective r3 unreachable: UNAVAILABLE",
    500,
    &ident,
    0,
    NULL};

static Caa__V1__Perspective perspective(const char *name, const char *rir, Caa__V1__Verdict verdict,
                                        Caa__V1__Problem *problem, double elapsed_ms,
                                        const char *outcome)
{
	Caa__V1__Perspective p;
	caa__v1__perspective__init(&p);
	p.name = (char *)name;
	p.rir = (char *)rir;
	p.verdict = verdict;
	p.problem = problem;
	p.elapsed_ms = elapsed_ms;
	p.outcome = (char *)outcome;
	return p;
}

/* msg packed and unpacked (what remote.c receives), then mapped back. */
static caa_result_t *over_the_wire(const Caa__V1__CheckResponse *msg)
{
	size_t len = caa__v1__check_response__get_packed_size(msg);
	uint8_t *buf = malloc(len ? len : 1);
	assert_non_null(buf);
	caa__v1__check_response__pack(msg, buf);
	Caa__V1__CheckResponse *got = caa__v1__check_response__unpack(NULL, len, buf);
	free(buf);
	assert_non_null(got);
	caa_result_t *res = NULL;
	assert_int_equal(from_proto_result(got, &res), CAA_EOK);
	caa__v1__check_response__free_unpacked(got, NULL);
	assert_non_null(res);
	return res;
}

/* What a print function wrote, as one string (free it). */
typedef struct capture {
	char *text;
	size_t len;
	FILE *f;
} capture_t;

static void capture_start(capture_t *c)
{
	c->text = NULL;
	c->f = open_memstream(&c->text, &c->len);
	assert_non_null(c->f);
}

static char *capture_end(capture_t *c)
{
	assert_int_equal(fclose(c->f), 0);
	return c->text;
}

static void assert_text(char *got, const char *want)
{
	if (strcmp(got, want) != 0)
		print_error("want:\n%s\ngot:\n%s\n", want, got);
	assert_string_equal(got, want);
	free(got);
}

/* A failed quorum: every outcome text caad sends, in configured order. */
static void base_response(Caa__V1__CheckResponse *m, Caa__V1__Perspective **ptrs,
                          Caa__V1__Perspective *ps, size_t n)
{
	caa__v1__check_response__init(m);
	m->identifier = &ident;
	m->verdict = CAA__V1__VERDICT__FORBIDDEN;
	m->reason = CAA__V1__REASON__NOT_CORROBORATED;
	m->relevant_domain = NAME;
	m->dnssec = CAA__V1__DNSSEC__SECURE;
	m->problem = &remote_caa;
	for (size_t i = 0; i < n; i++)
		ptrs[i] = &ps[i];
	m->perspectives = ptrs;
	m->n_perspectives = n;
}

static void test_failed_quorum(void **state)
{
	(void)state;
	Caa__V1__Perspective ps[] = {
	    perspective("r1", "ARIN", CAA__V1__VERDICT__PERMITTED, NULL, 7.25, "CORROBORATED"),
	    perspective("r2", "RIPE", CAA__V1__VERDICT__FORBIDDEN, &remote_caa, 12.5, "PROBLEM"),
	    perspective("r3", "APNIC", CAA__V1__VERDICT__LOOKUP_FAILED, &remote_unreachable, 0.4,
	                "UNREACHABLE"),
	    perspective("r4", "LACNIC", CAA__V1__VERDICT__LOOKUP_FAILED, NULL, 2000, "TIMEOUT"),
	    perspective("r5", "AFRINIC", CAA__V1__VERDICT__LOOKUP_FAILED, NULL, 1, "MISMATCH"),
	    perspective("r6", "ARIN", CAA__V1__VERDICT__VERDICT_UNSPECIFIED, NULL, 0, "NOT_NEEDED"),
	};
	Caa__V1__Perspective *ptrs[6];
	Caa__V1__CheckResponse m;
	base_response(&m, ptrs, ps, 6);
	caa_result_t *res = over_the_wire(&m);

	assert_int_equal(res->reason, CAA_R_NOT_CORROBORATED);
	assert_int_equal(res->n_perspectives, 6);
	static const caa_mpic_state_t want[] = {
	    CAA_MPIC_CORROBORATED, CAA_MPIC_PROBLEM,  CAA_MPIC_UNREACHABLE,
	    CAA_MPIC_TIMEOUT,      CAA_MPIC_MISMATCH, CAA_MPIC_PENDING,
	};
	for (size_t i = 0; i < 6; i++)
		assert_int_equal(res->perspectives[i].state, want[i]);
	assert_string_equal(res->perspectives[2].name, "r3");
	assert_string_equal(res->perspectives[2].rir, "APNIC");
	assert_int_equal(res->perspectives[2].verdict, CAA_LOOKUP_FAILED);
	assert_int_equal(res->perspectives[2].elapsed_us, 400);
	assert_int_equal(res->perspectives[2].problem->type, CAA_PROB_SERVER_INTERNAL);
	assert_null(res->perspectives[0].problem);

	capture_t c;
	capture_start(&c);
	output_result_human(c.f, res, NULL, false);
	assert_text(capture_end(&c),
	            "FORBIDDEN  " NAME "  relevant " NAME "  NOT_CORROBORATED  dnssec secure\n"
	            "  urn:ietf:params:acme:error:caa (403) During secondary validation: While "
	            "processing CAA for " NAME ": CAA record for " NAME " prevents issuance\n"
	            "  perspectives 1/6 corroborated\n");

	capture_start(&c);
	output_result_human(c.f, res, NULL, true);
	assert_text(capture_end(&c),
	            "FORBIDDEN  " NAME "  relevant " NAME "  NOT_CORROBORATED  dnssec secure\n"
	            "  urn:ietf:params:acme:error:caa (403) During secondary validation: While "
	            "processing CAA for " NAME ": CAA record for " NAME " prevents issuance\n"
	            "  perspectives 1/6 corroborated\n"
	            "    perspective r1 (ARIN)      CORROBORATED   PERMITTED          7.2 ms\n"
	            "    perspective r2 (RIPE)      PROBLEM        FORBIDDEN         12.5 ms\n"
	            "      urn:ietf:params:acme:error:caa (403) During secondary validation: While "
	            "processing CAA for " NAME ": CAA record for " NAME " prevents issuance\n"
	            "    perspective r3 (APNIC)     UNREACHABLE    LOOKUP_FAILED      0.4 ms\n"
	            "      urn:ietf:params:acme:error:serverInternal (500) During secondary "
	            "validation: remote perspective r3 unreachable: UNAVAILABLE\n"
	            "    perspective r4 (LACNIC)    TIMEOUT        LOOKUP_FAILED   2000.0 ms\n"
	            "    perspective r5 (AFRINIC)   MISMATCH       LOOKUP_FAILED      1.0 ms\n"
	            "    perspective r6 (ARIN)      NOT_NEEDED\n");

	/* The JSON is libcaa's (caa_result_json): outcome by name, quorum passed/total. */
	capture_start(&c);
	assert_int_equal(output_result_json(c.f, res), 0);
	char *json = capture_end(&c);
	assert_non_null(strstr(json, "\"perspectives\":[{\"name\":\"r1\",\"rir\":\"ARIN\","
	                             "\"verdict\":\"PERMITTED\",\"elapsedMs\":7.25,"
	                             "\"outcome\":\"CORROBORATED\"},"));
	assert_non_null(strstr(json,
	                       "{\"name\":\"r6\",\"rir\":\"ARIN\",\"outcome\":\"NOT_NEEDED\"}],"
	                       "\"quorum\":\"1/6\""));
	assert_non_null(strstr(json, "\"reason\":\"NOT_CORROBORATED\""));
	free(json);
	caa_result_free(res);
}

/* An empty outcome (a caad from before the field) or one this client does not know
 * (a newer caad): derived from verdict and problem, never counted as corroborated
 * unless the perspective says PERMITTED. */
static void test_outcome_derived(void **state)
{
	(void)state;
	Caa__V1__Perspective ps[] = {
	    perspective("a", "ARIN", CAA__V1__VERDICT__PERMITTED, NULL, 1, ""),
	    perspective("b", "RIPE", CAA__V1__VERDICT__FORBIDDEN, &remote_caa, 1, ""),
	    perspective("c", "APNIC", CAA__V1__VERDICT__LOOKUP_FAILED, &remote_unreachable, 1,
	                "SOMETHING_NEW"),
	    perspective("d", "LACNIC", CAA__V1__VERDICT__VERDICT_UNSPECIFIED, NULL, 0, ""),
	    perspective("e", "AFRINIC", CAA__V1__VERDICT__PERMITTED, NULL, 1, "corroborated"),
	    perspective("f", "ARIN", CAA__V1__VERDICT__LOOKUP_FAILED, NULL, 1, "SOMETHING_NEW"),
	};
	Caa__V1__Perspective *ptrs[6];
	Caa__V1__CheckResponse m;
	base_response(&m, ptrs, ps, 6);
	caa_result_t *res = over_the_wire(&m);
	static const caa_mpic_state_t want[] = {
	    CAA_MPIC_CORROBORATED, CAA_MPIC_PROBLEM,      CAA_MPIC_PROBLEM,
	    CAA_MPIC_PENDING,      CAA_MPIC_CORROBORATED, CAA_MPIC_PENDING,
	};
	assert_int_equal(res->n_perspectives, 6);
	for (size_t i = 0; i < 6; i++)
		assert_int_equal(res->perspectives[i].state, want[i]);
	assert_int_equal(caa_perspectives_passed(res->perspectives, res->n_perspectives), 2);
	caa_result_free(res);
}

/* No remotes asked (single perspective, a local failure, a reused result): no
 * perspectives line, no JSON fields. */
static void test_no_perspectives(void **state)
{
	(void)state;
	Caa__V1__CheckResponse m;
	base_response(&m, NULL, NULL, 0);
	m.verdict = CAA__V1__VERDICT__PERMITTED;
	m.reason = CAA__V1__REASON__AUTHORIZED;
	m.problem = NULL;
	caa_result_t *res = over_the_wire(&m);
	assert_int_equal(res->n_perspectives, 0);
	assert_null(res->perspectives);

	capture_t c;
	capture_start(&c);
	output_result_human(c.f, res, NULL, true);
	assert_text(capture_end(&c),
	            "PERMITTED  " NAME "  relevant " NAME "  AUTHORIZED  dnssec secure\n");
	capture_start(&c);
	assert_int_equal(output_result_json(c.f, res), 0);
	char *json = capture_end(&c);
	assert_null(strstr(json, "perspectives"));
	assert_null(strstr(json, "quorum"));
	free(json);
	caa_result_free(res);
}

/* An order without --explain: each identifier's verdict line keeps its
 * corroboration line; the problems are the aggregate's. */
static void test_order_lines(void **state)
{
	(void)state;
	Caa__V1__Perspective ps[] = {
	    perspective("r1", "ARIN", CAA__V1__VERDICT__PERMITTED, NULL, 1, "CORROBORATED"),
	    perspective("r2", "RIPE", CAA__V1__VERDICT__PERMITTED, NULL, 1, "CORROBORATED"),
	};
	Caa__V1__Perspective *ptrs[2];
	Caa__V1__CheckResponse m;
	base_response(&m, ptrs, ps, 2);
	m.verdict = CAA__V1__VERDICT__PERMITTED;
	m.reason = CAA__V1__REASON__AUTHORIZED;
	m.problem = NULL;
	caa_result_t *ok = over_the_wire(&m);
	caa_result_t *results[] = {ok};

	capture_t c;
	capture_start(&c);
	output_order_human(c.f, results, 1, NULL, NULL, false);
	assert_text(capture_end(&c),
	            "PERMITTED  " NAME "  relevant " NAME "  AUTHORIZED  dnssec secure\n"
	            "  perspectives 2/2 corroborated\n"
	            "ORDER  1 identifier  all permitted\n");
	caa_result_free(ok);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_failed_quorum),
	    cmocka_unit_test(test_outcome_derived),
	    cmocka_unit_test(test_no_perspectives),
	    cmocka_unit_test(test_order_lines),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
