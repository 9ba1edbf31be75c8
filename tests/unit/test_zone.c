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

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_table),
	    cmocka_unit_test(test_long),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
