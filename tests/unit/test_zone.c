/* test_zone.c — dns.max_per_zone's zone (zone.c): the registered domain under
 * the ICANN section of the Public Suffix List, as a table; the last two
 * labels without a list. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "zone.h"

typedef struct row {
	const char *name, *psl, *two; /* the zone with the list, and without */
} row_t;

static const row_t rows[] = {
    /* co.uk: one cap per registered domain, shared below it */
    {"a.example.co.uk", "example.co.uk", "co.uk"},
    {"b.example.co.uk", "example.co.uk", "co.uk"},
    {"x.a.example.co.uk", "example.co.uk", "co.uk"},
    {"y.a.example.co.uk", "example.co.uk", "co.uk"},
    {"example.co.uk", "example.co.uk", "co.uk"},
    {"other.co.uk", "other.co.uk", "co.uk"},
    /* a public suffix counts against itself */
    {"co.uk", "co.uk", "co.uk"},
    {"uk", "uk", "uk"},
    {"kawasaki.jp", "kawasaki.jp", "kawasaki.jp"},
    {"b.kawasaki.jp", "b.kawasaki.jp", "kawasaki.jp"}, /* "*.kawasaki.jp" */
    {"x.a.b.kawasaki.jp", "a.b.kawasaki.jp", "kawasaki.jp"},
    {"x.city.kawasaki.jp", "city.kawasaki.jp", "kawasaki.jp"}, /* "!city.kawasaki.jp" */
    /* the lab's TLD and test TLDs: the default rule "*", as without a list */
    {"www.issue-deny.lab", "issue-deny.lab", "issue-deny.lab"},
    {"a.b.c.lab", "c.lab", "c.lab"},
    {"c.lab", "c.lab", "c.lab"},
    {"lab", "lab", "lab"},
    {"1s.order.lab", "order.lab", "order.lab"},
    {"2s.order.lab", "order.lab", "order.lab"},
    {"order.lab", "order.lab", "order.lab"},
    {"a.foo.test", "foo.test", "foo.test"},
    {"a.b.example", "b.example", "b.example"},
    /* IDN: the climb's names are A-labels */
    {"a.b.xn--55qx5d.cn", "b.xn--55qx5d.cn", "xn--55qx5d.cn"}, /* 公司.cn */
    {"xn--55qx5d.cn", "xn--55qx5d.cn", "xn--55qx5d.cn"},
    {"www.xn--bcher-kva.example.xn--fiqs8s", "example.xn--fiqs8s", "example.xn--fiqs8s"}, /* 中国 */
    {"a.xn--bcher-kva.xn--zf0ao64a.tw", "xn--bcher-kva.xn--zf0ao64a.tw",
     "xn--zf0ao64a.tw"}, /* 個人.tw */
    {"xn--bcher-kva.de", "xn--bcher-kva.de", "xn--bcher-kva.de"},
    /* trailing dot and case: one key per zone */
    {"a.example.co.uk.", "example.co.uk", "co.uk"},
    {"co.uk.", "co.uk", "co.uk"},
    {"A.Example.CO.UK", "example.co.uk", "co.uk"},
    {"www.Issue-Deny.LAB.", "issue-deny.lab", "issue-deny.lab"},
    /* private entries share their operator's cap (ICANN section only) */
    {"a.b.github.io", "github.io", "github.io"},
    {"x.y.eu-west-1.compute.amazonaws.com", "amazonaws.com", "amazonaws.com"},
};

static void test_table(void **state)
{
	(void)state;
	const psl_ctx_t *psl = caa_zone_psl();
	assert_non_null(psl);
	assert_ptr_equal(caa_zone_psl(), psl); /* loaded once */
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		char out[CAA_NAME_MAX + 1];
		const char *z = caa_zone_of(psl, rows[i].name, out);
		if (strcmp(z, rows[i].psl) != 0)
			fail_msg("%s: zone %s, want %s", rows[i].name, z, rows[i].psl);
		z = caa_zone_of(NULL, rows[i].name, out);
		if (strcmp(z, rows[i].two) != 0)
			fail_msg("%s: without a list, zone %s, want %s", rows[i].name, z,
			         rows[i].two);
	}
}

/* The key is bounded by the buffer whatever comes in. */
static void test_long(void **state)
{
	(void)state;
	char in[600], out[CAA_NAME_MAX + 1];
	memset(in, 'a', sizeof(in) - 1);
	for (size_t i = 63; i < sizeof(in) - 1; i += 64)
		in[i] = '.';
	in[sizeof(in) - 1] = '\0';
	assert_true(strlen(caa_zone_of(caa_zone_psl(), in, out)) <= CAA_NAME_MAX);
	assert_true(strlen(caa_zone_of(NULL, in, out)) <= CAA_NAME_MAX);
	assert_string_equal(caa_zone_of(caa_zone_psl(), "", out), "");
	assert_string_equal(caa_zone_of(NULL, ".", out), "");
}

/* The memo answers as caa_zone_of() does, whichever names came before (its
 * parents' entries, learnt and forgotten again when full). */
static void test_memo(void **state)
{
	(void)state;
	const psl_ctx_t *psl = caa_zone_psl();
	const size_t n = sizeof(rows) / sizeof(rows[0]);
	size_t caps[] = {1, 2, 5, 4096};
	for (size_t c = 0; c < sizeof(caps) / sizeof(caps[0]); c++) {
		caa_zone_memo_t *m = caa_zone_memo_new(psl, caps[c]);
		assert_non_null(m);
		for (size_t pass = 0; pass < 3; pass++)
			for (size_t k = 0; k < n; k++) {
				/* forwards, backwards, then strided */
				size_t i = pass == 0 ? k : pass == 1 ? n - 1 - k : (k * 7) % n;
				char want[CAA_NAME_MAX + 1], got[CAA_NAME_MAX + 1];
				caa_zone_of(psl, rows[i].name, want);
				const char *z = caa_zone_memo_of(m, psl, rows[i].name, got);
				assert_ptr_equal(z, got);
				if (strcmp(z, want) != 0)
					fail_msg("memo %zu, %s: zone %s, want %s", caps[c],
					         rows[i].name, z, want);
			}
		caa_zone_memo_free(m);
	}
	/* no list, or no memo: caa_zone_of() itself */
	char out[CAA_NAME_MAX + 1];
	assert_null(caa_zone_memo_new(NULL, 16));
	assert_string_equal(caa_zone_memo_of(NULL, NULL, "a.example.co.uk", out), "co.uk");
	assert_string_equal(caa_zone_memo_of(NULL, psl, "a.example.co.uk", out), "example.co.uk");
	caa_zone_memo_t *m = caa_zone_memo_new(psl, 16);
	assert_string_equal(caa_zone_memo_of(m, psl, "", out), "");
	assert_string_equal(caa_zone_memo_of(m, psl, ".", out), "");
	assert_string_equal(caa_zone_memo_of(m, psl, "X.A.B.Kawasaki.JP.", out), "a.b.kawasaki.jp");
	caa_zone_memo_free(m);
	caa_zone_memo_free(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_table),
	    cmocka_unit_test(test_long),
	    cmocka_unit_test(test_memo),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
