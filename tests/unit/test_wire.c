/* test_wire.c — DNS message reading: sections, compression, bounds. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "codes.h"
#include "wire.h"

/* x.example. CAA? → CNAME y.example., CAA 0 issue "ca", CAA 128 tbs "";
 * authority: example. SOA (rdata abbreviated) */
static const uint8_t answer[] = {
	0x12, 0x34, 0x84, 0x00, 0, 1, 0, 3, 0, 1, 0, 0,
	/* question x.example. CAA IN */
	1, 'x', 7, 'e', 'x', 'a', 'm', 'p', 'l', 'e', 0, 0x01, 0x01, 0, 1,
	/* CNAME: owner pointer to 12, target y.<ptr to 14> */
	0xc0, 12, 0, 5, 0, 1, 0, 0, 0, 60, 0, 4, 1, 'y', 0xc0, 14,
	/* CAA at y.example (pointer to the CNAME target at 39) */
	0xc0, 39, 0x01, 0x01, 0, 1, 0, 0, 0, 60, 0, 9, 0, 5, 'i', 's', 's', 'u', 'e', 'c', 'a',
	0xc0, 39, 0x01, 0x01, 0, 1, 0, 0, 0, 60, 0, 5, 128, 3, 't', 'b', 's',
	/* authority SOA at example. */
	0xc0, 14, 0, 6, 0, 1, 0, 0, 0, 60, 0, 2, 0, 0,
};

static void test_sections(void **state)
{
	(void)state;
	caa_wire_t w;
	caa_wire_rr_t rr;
	assert_int_equal(caa_wire_open(&w, answer, sizeof(answer)), CAA_EOK);
	assert_int_equal(w.rcode, 0);
	assert_true(w.aa);
	assert_false(w.tc);
	int types[8], sections[8], n = 0;
	while (n < 8 && caa_wire_next(&w, &rr)) {
		types[n] = rr.type;
		sections[n++] = rr.section;
		if (rr.type == 257 && rr.rdata[0] == 0) {
			assert_int_equal(rr.rdlen, 9);
			assert_memory_equal(rr.rdata + 2, "issueca", 7);
		}
	}
	assert_int_equal(n, 4);
	assert_int_equal(types[0], 5);
	assert_int_equal(types[1], 257);
	assert_int_equal(types[2], 257);
	assert_int_equal(types[3], 6);
	assert_int_equal(sections[2], CAA_WIRE_ANSWER);
	assert_int_equal(sections[3], CAA_WIRE_AUTHORITY);
}

static void test_truncated_everywhere(void **state)
{
	(void)state;
	/* Every prefix of the message reads safely and never past its end. */
	for (size_t len = 0; len < sizeof(answer); len++) {
		uint8_t copy[sizeof(answer)];
		memcpy(copy, answer, len);
		caa_wire_t w;
		caa_wire_rr_t rr;
		if (caa_wire_open(&w, copy, len) != CAA_EOK)
			continue;
		int n = 0;
		while (caa_wire_next(&w, &rr)) {
			assert_true(rr.rdata + rr.rdlen <= copy + len);
			n++;
		}
		assert_true(n < 4);
	}
}

static void test_rcode_and_bad_header(void **state)
{
	(void)state;
	uint8_t nx[12] = {0, 0, 0x81, 0x83, 0, 0, 0, 0, 0, 0, 0, 0};
	caa_wire_t w;
	caa_wire_rr_t rr;
	assert_int_equal(caa_wire_open(&w, nx, sizeof(nx)), CAA_EOK);
	assert_int_equal(w.rcode, 3);
	assert_false(caa_wire_next(&w, &rr));
	assert_int_equal(caa_wire_open(&w, nx, 11), CAA_EINVAL);
	assert_int_equal(caa_wire_open(&w, NULL, 0), CAA_EINVAL);
	/* a question count the message does not hold */
	uint8_t qd[12] = {0, 0, 0x81, 0x80, 0, 2, 0, 0, 0, 0, 0, 0};
	assert_int_equal(caa_wire_open(&w, qd, sizeof(qd)), CAA_EINVAL);
}

/* Owner names, compressed or not, compare with dotted text. */
static void test_owner_names(void **state)
{
	(void)state;
	caa_wire_t w;
	caa_wire_rr_t rr;
	const char *owners[4] = {"x.example", "y.example", "y.example", "example"};
	assert_int_equal(caa_wire_open(&w, answer, sizeof(answer)), CAA_EOK);
	for (int i = 0; i < 4; i++) {
		assert_true(caa_wire_next(&w, &rr));
		assert_true(caa_wire_name_equals(&w, rr.owner, owners[i]));
	}
	assert_int_equal(caa_wire_open(&w, answer, sizeof(answer)), CAA_EOK);
	assert_true(caa_wire_next(&w, &rr)); /* x.example, a pointer to the question */
	assert_true(caa_wire_name_equals(&w, rr.owner, "X.EXAMPLE"));
	const char *not_it[] = {"", "x", "example", "x.example.com", "xx.example", "x.exampl",
	                        "x.example.", ".x.example", "x..example", "y.example"};
	for (size_t i = 0; i < sizeof(not_it) / sizeof(not_it[0]); i++)
		if (caa_wire_name_equals(&w, rr.owner, not_it[i]))
			fail_msg("x.example equals \"%s\"", not_it[i]);

	/* the root, a pointer loop, a pointer out of the message, a label past the end */
	uint8_t m[] = {0, 0, 0x81, 0x80, 0, 0, 0, 0, 0, 0, 0, 0,
	               0,             /* 12: the root */
	               0xc0, 13,      /* 13: points at itself */
	               0xc0, 0xff,    /* 15: out of the message */
	               5, 'a', 'b'};  /* 17: label longer than what is left */
	assert_int_equal(caa_wire_open(&w, m, sizeof(m)), CAA_EOK);
	assert_true(caa_wire_name_equals(&w, 12, ""));
	assert_false(caa_wire_name_equals(&w, 12, "a"));
	assert_false(caa_wire_name_equals(&w, 13, ""));
	assert_false(caa_wire_name_equals(&w, 15, ""));
	assert_false(caa_wire_name_equals(&w, 17, "ab"));
	assert_false(caa_wire_name_equals(&w, sizeof(m), ""));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sections),
		cmocka_unit_test(test_truncated_everywhere),
		cmocka_unit_test(test_rcode_and_bad_header),
		cmocka_unit_test(test_owner_names),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
