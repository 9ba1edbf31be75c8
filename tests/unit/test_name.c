/* test_name.c — identifier normalisation and validation (name.c), as tables. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "codes.h"
#include "name.h"

/* Long labels and names, built from literals so rows stay data. */
#define L10  "abcdefghij"
#define L50  L10 L10 L10 L10 L10
#define L59  L50 "abcdefghi"
#define L60  L50 L10
#define L61  L60 "a"
#define L62  L60 "ab"
#define L63  L60 "abc"
#define L64  L60 "abcd"
#define U63  "ABCDEFGHIJABCDEFGHIJABCDEFGHIJABCDEFGHIJABCDEFGHIJABCDEFGHIJABC"
#define N253 L63 "." L63 "." L63 "." L61 /* 253 octets */
#define N254 L63 "." L63 "." L63 "." L62 /* 254 octets */
#define W251 L63 "." L63 "." L63 "." L59 /* "*." + 251 = 253 octets */
#define W252 L63 "." L63 "." L63 "." L60 /* "*." + 252 = 254 octets */
#define A5   "a.a.a.a.a."
#define A25  A5 A5 A5 A5 A5
#define A125 A25 A25 A25 A25 A25
#define A127 A125 "a.a"   /* 127 labels, 253 octets */
#define A128 A125 "a.a.a" /* 128 labels, 255 octets */

struct name_row {
	const char *in;
	size_t len; /* 0: strlen(in) */
	int code;
	const char *text; /* expected text; NULL: out zeroed */
	bool wildcard;
	unsigned n_labels;
	const char *suffixes; /* space-separated, full name first; NULL: not listed */
};

/* clang-format off */
static const struct name_row name_rows[] = {
	/* valid names and normalisation */
	{ "example.com", 0, CAA_EOK, "example.com", false, 2, "example.com com" },
	{ "A.B.Example.CO.uk.", 0, CAA_EOK, "a.b.example.co.uk", false, 5,
	  "a.b.example.co.uk b.example.co.uk example.co.uk co.uk uk" },
	{ "example.com.", 0, CAA_EOK, "example.com", false, 2, "example.com com" },
	{ "EXAMPLE.COM", 0, CAA_EOK, "example.com", false, 2, "example.com com" },
	{ "*.Example.com", 0, CAA_EOK, "example.com", true, 2, "example.com com" },
	{ "*.example.com.", 0, CAA_EOK, "example.com", true, 2, "example.com com" },
	{ "*.com", 0, CAA_EOK, "com", true, 1, "com" },
	{ "com", 0, CAA_EOK, "com", false, 1, "com" },
	{ "a", 0, CAA_EOK, "a", false, 1, "a" },
	{ "a-b.example", 0, CAA_EOK, "a-b.example", false, 2, "a-b.example example" },
	{ "a--b.example", 0, CAA_EOK, "a--b.example", false, 2, "a--b.example example" },
	{ "abc--d.example", 0, CAA_EOK, "abc--d.example", false, 2, "abc--d.example example" },
	{ "xn-a.example", 0, CAA_EOK, "xn-a.example", false, 2, "xn-a.example example" },
	{ "1.2.3.example", 0, CAA_EOK, "1.2.3.example", false, 4,
	  "1.2.3.example 2.3.example 3.example example" },
	{ "x.1a", 0, CAA_EOK, "x.1a", false, 2, "x.1a 1a" },
	{ "x.1-2", 0, CAA_EOK, "x.1-2", false, 2, "x.1-2 1-2" },
	{ "foo.onion.example", 0, CAA_EOK, "foo.onion.example", false, 3,
	  "foo.onion.example onion.example example" },
	{ "onions", 0, CAA_EOK, "onions", false, 1, "onions" },
	{ L63 ".example", 0, CAA_EOK, L63 ".example", false, 2, L63 ".example example" },
	{ U63 ".example", 0, CAA_EOK, L63 ".example", false, 2, L63 ".example example" },
	{ N253, 0, CAA_EOK, N253, false, 4, NULL },
	{ N253 ".", 0, CAA_EOK, N253, false, 4, NULL },
	{ "*." W251, 0, CAA_EOK, W251, true, 4, NULL },
	{ A127, 0, CAA_EOK, A127, false, 127, NULL },
	/* IDN A-labels */
	{ "xn--bcher-kva.example", 0, CAA_EOK, "xn--bcher-kva.example", false, 2,
	  "xn--bcher-kva.example example" },
	{ "XN--BCHER-KVA.Example", 0, CAA_EOK, "xn--bcher-kva.example", false, 2, NULL },
	{ "xn--mnchen-3ya.de", 0, CAA_EOK, "xn--mnchen-3ya.de", false, 2, "xn--mnchen-3ya.de de" },
	{ "xn--e1afmkfd.xn--p1ai", 0, CAA_EOK, "xn--e1afmkfd.xn--p1ai", false, 2,
	  "xn--e1afmkfd.xn--p1ai xn--p1ai" },
	{ "*.xn--p1ai", 0, CAA_EOK, "xn--p1ai", true, 1, "xn--p1ai" },

	/* CAA_ENAME_EMPTY */
	{ "", 0, CAA_ENAME_EMPTY, NULL, false, 0, NULL },
	/* CAA_ENAME_EMPTYLABEL */
	{ ".", 0, CAA_ENAME_EMPTYLABEL, NULL, false, 0, NULL },
	{ "..", 0, CAA_ENAME_EMPTYLABEL, NULL, false, 0, NULL },
	{ ".example.com", 0, CAA_ENAME_EMPTYLABEL, NULL, false, 0, NULL },
	{ "a..example", 0, CAA_ENAME_EMPTYLABEL, NULL, false, 0, NULL },
	{ "example.com..", 0, CAA_ENAME_EMPTYLABEL, NULL, false, 0, NULL },
	{ "*..", 0, CAA_ENAME_EMPTYLABEL, NULL, false, 0, NULL },
	{ "*..example", 0, CAA_ENAME_EMPTYLABEL, NULL, false, 0, NULL },
	/* CAA_ENAME_TOOLONG: 253 counted after the trailing dot, with "*." */
	{ N254, 0, CAA_ENAME_TOOLONG, NULL, false, 0, NULL },
	{ N254 ".", 0, CAA_ENAME_TOOLONG, NULL, false, 0, NULL },
	{ "*." W252, 0, CAA_ENAME_TOOLONG, NULL, false, 0, NULL },
	{ A128, 0, CAA_ENAME_TOOLONG, NULL, false, 0, NULL },
	{ N254 "_", 0, CAA_ENAME_TOOLONG, NULL, false, 0, NULL },
	/* CAA_ENAME_LABELLEN */
	{ L64 ".example", 0, CAA_ENAME_LABELLEN, NULL, false, 0, NULL },
	{ "example." L64, 0, CAA_ENAME_LABELLEN, NULL, false, 0, NULL },
	{ "*." L64 ".example", 0, CAA_ENAME_LABELLEN, NULL, false, 0, NULL },
	/* CAA_ENAME_CHAR */
	{ "exa_mple.com", 0, CAA_ENAME_CHAR, NULL, false, 0, NULL },
	{ "_acme-challenge.example", 0, CAA_ENAME_CHAR, NULL, false, 0, NULL },
	{ "a b.example", 0, CAA_ENAME_CHAR, NULL, false, 0, NULL },
	{ "a/b.example", 0, CAA_ENAME_CHAR, NULL, false, 0, NULL },
	{ "exa\0mple.com", 12, CAA_ENAME_CHAR, NULL, false, 0, NULL },
	{ "example.com\0", 12, CAA_ENAME_CHAR, NULL, false, 0, NULL },
	{ "[192.0.2.1]", 0, CAA_ENAME_CHAR, NULL, false, 0, NULL },
	{ "fe80::1%eth0", 0, CAA_ENAME_CHAR, NULL, false, 0, NULL },
	{ "bad_.onion", 0, CAA_ENAME_CHAR, NULL, false, 0, NULL },
	/* CAA_ENAME_UNICODE */
	{ "\xc3\xa9.example", 0, CAA_ENAME_UNICODE, NULL, false, 0, NULL },
	{ "b\xc3\xbc"
	  "cher.example",
	  0, CAA_ENAME_UNICODE, NULL, false, 0, NULL },
	{ "example.\xff", 0, CAA_ENAME_UNICODE, NULL, false, 0, NULL },
	/* CAA_ENAME_HYPHEN */
	{ "-a.example", 0, CAA_ENAME_HYPHEN, NULL, false, 0, NULL },
	{ "a-.example", 0, CAA_ENAME_HYPHEN, NULL, false, 0, NULL },
	{ "example.com-", 0, CAA_ENAME_HYPHEN, NULL, false, 0, NULL },
	{ "-", 0, CAA_ENAME_HYPHEN, NULL, false, 0, NULL },
	{ "ab--.example", 0, CAA_ENAME_HYPHEN, NULL, false, 0, NULL },
	{ "xn--.example", 0, CAA_ENAME_HYPHEN, NULL, false, 0, NULL },
	{ "xn--bcher-.example", 0, CAA_ENAME_HYPHEN, NULL, false, 0, NULL },
	/* CAA_ENAME_WILDCARD */
	{ "*", 0, CAA_ENAME_WILDCARD, NULL, false, 0, NULL },
	{ "*.", 0, CAA_ENAME_WILDCARD, NULL, false, 0, NULL },
	{ "**.example", 0, CAA_ENAME_WILDCARD, NULL, false, 0, NULL },
	{ "*x.example", 0, CAA_ENAME_WILDCARD, NULL, false, 0, NULL },
	{ "x*.example", 0, CAA_ENAME_WILDCARD, NULL, false, 0, NULL },
	{ "a.*.example", 0, CAA_ENAME_WILDCARD, NULL, false, 0, NULL },
	{ "*.*.example", 0, CAA_ENAME_WILDCARD, NULL, false, 0, NULL },
	{ "example.*", 0, CAA_ENAME_WILDCARD, NULL, false, 0, NULL },
	/* CAA_ENAME_RLDH */
	{ "ab--c.example", 0, CAA_ENAME_RLDH, NULL, false, 0, NULL },
	{ "XY--z.example", 0, CAA_ENAME_RLDH, NULL, false, 0, NULL },
	{ "example.qq--1", 0, CAA_ENAME_RLDH, NULL, false, 0, NULL },
	/* CAA_ENAME_IDN: each a different way to be a bad A-label (controls,
	 * surrogates, noncharacters, past U+10FFFF, bad U-label hyphens) */
	{ "xn--a.example", 0, CAA_ENAME_IDN, NULL, false, 0, NULL }, /* U+0080 */
	{ "xn--zzzzzzzz.example", 0, CAA_ENAME_IDN, NULL, false, 0, NULL }, /* never ends */
	{ "xn--bcher-kv.example", 0, CAA_ENAME_IDN, NULL, false, 0, NULL }, /* truncated */
	{ "xn---abc.example", 0, CAA_ENAME_IDN, NULL, false, 0, NULL }, /* '-' is no digit */
	{ "xn--99999999a.example", 0, CAA_ENAME_IDN, NULL, false, 0, NULL }, /* overflows 32 bits */
	{ "xn--99999a.example", 0, CAA_ENAME_IDN, NULL, false, 0, NULL }, /* U+48A3C1 */
	{ "xn--ib9b.example", 0, CAA_ENAME_IDN, NULL, false, 0, NULL }, /* U+D800 */
	{ "xn--266c.example", 0, CAA_ENAME_IDN, NULL, false, 0, NULL }, /* U+FDD0 */
	{ "xn--a-s10i.example", 0, CAA_ENAME_IDN, NULL, false, 0, NULL }, /* U+FFFE */
	{ "xn----bga.example", 0, CAA_ENAME_IDN, NULL, false, 0, NULL }, /* U-label "-é" */
	{ "xn----9fa.example", 0, CAA_ENAME_IDN, NULL, false, 0, NULL }, /* U-label "é-" */
	{ "xn--ab---epa.example", 0, CAA_ENAME_IDN, NULL, false, 0, NULL }, /* U-label "ab--é" */
	{ "example.xn--zz", 0, CAA_ENAME_IDN, NULL, false, 0, NULL },
	/* CAA_ENAME_NUMERIC_TLD */
	{ "1.2.3.4.5", 0, CAA_ENAME_NUMERIC_TLD, NULL, false, 0, NULL },
	{ "x.123", 0, CAA_ENAME_NUMERIC_TLD, NULL, false, 0, NULL },
	{ "123", 0, CAA_ENAME_NUMERIC_TLD, NULL, false, 0, NULL },
	{ "*.example.0", 0, CAA_ENAME_NUMERIC_TLD, NULL, false, 0, NULL },
	{ "192.0.2.1.", 0, CAA_ENAME_NUMERIC_TLD, NULL, false, 0, NULL },
	{ "256.0.0.1", 0, CAA_ENAME_NUMERIC_TLD, NULL, false, 0, NULL },
	{ "192.0.2.01", 0, CAA_ENAME_NUMERIC_TLD, NULL, false, 0, NULL },
	/* CAA_ENOTAPPLICABLE: IP literals keep the input lowercased, no labels */
	{ "192.0.2.1", 0, CAA_ENOTAPPLICABLE, "192.0.2.1", false, 0, NULL },
	{ "::1", 0, CAA_ENOTAPPLICABLE, "::1", false, 0, NULL },
	{ "2001:db8::1", 0, CAA_ENOTAPPLICABLE, "2001:db8::1", false, 0, NULL },
	{ "2001:DB8::A", 0, CAA_ENOTAPPLICABLE, "2001:db8::a", false, 0, NULL },
	{ "[::1]", 0, CAA_ENOTAPPLICABLE, "[::1]", false, 0, NULL },
	{ "::ffff:192.0.2.1", 0, CAA_ENOTAPPLICABLE, "::ffff:192.0.2.1", false, 0, NULL },
	/* ... and .onion names are parsed as names */
	{ "foo.onion", 0, CAA_ENOTAPPLICABLE, "foo.onion", false, 2, "foo.onion onion" },
	{ "*.foo.onion", 0, CAA_ENOTAPPLICABLE, "foo.onion", true, 2, "foo.onion onion" },
	{ "WWW.Foo.ONION.", 0, CAA_ENOTAPPLICABLE, "www.foo.onion", false, 3,
	  "www.foo.onion foo.onion onion" },
	{ "onion", 0, CAA_ENOTAPPLICABLE, "onion", false, 1, "onion" },
};
/* clang-format on */

static const char *code_name(int code)
{
	static char buf[16];
	snprintf(buf, sizeof(buf), "%d", code);
	return buf;
}

/* Checks row r; on mismatch fails naming the row and what differed. */
static void check_name(size_t r, const struct name_row *row, int code, const caa_name_t *n)
{
	const char *in = row->in;
	char want[300];

	if (code != row->code) {
		fail_msg("row %zu \"%s\": code %d (%s), want %s", r, in, code, caa_strerror(code),
		         code_name(row->code));
	}
	if (row->text == NULL) {
		caa_name_t zero;
		memset(&zero, 0, sizeof(zero));
		if (memcmp(n, &zero, sizeof(zero)) != 0) {
			fail_msg("row %zu \"%s\": out not zeroed on error", r, in);
		}
		return;
	}
	if (strcmp(n->text, row->text) != 0 || n->len != strlen(row->text)) {
		fail_msg("row %zu \"%s\": text \"%s\" (len %u), want \"%s\"", r, in, n->text,
		         n->len, row->text);
	}
	if (n->wildcard != row->wildcard || n->n_labels != row->n_labels) {
		fail_msg("row %zu \"%s\": wildcard %d labels %u, want %d %u", r, in, n->wildcard,
		         n->n_labels, row->wildcard, row->n_labels);
	}
	/* Every suffix starts a label and ends the name; past the TLD there is none. */
	for (unsigned i = 0; i < n->n_labels; i++) {
		const char *s = caa_name_suffix(n, i);
		if (s != n->text + n->label_off[i] || (i > 0 && s[-1] != '.')) {
			fail_msg("row %zu \"%s\": suffix %u at a wrong offset", r, in, i);
		}
	}
	if (caa_name_suffix(n, n->n_labels) != NULL) {
		fail_msg("row %zu \"%s\": a suffix past the TLD", r, in);
	}
	if (row->suffixes == NULL) {
		return;
	}
	want[0] = '\0';
	for (unsigned i = 0; i < n->n_labels; i++) {
		if (i > 0) {
			strcat(want, " ");
		}
		strcat(want, caa_name_suffix(n, i));
	}
	if (strcmp(want, row->suffixes) != 0) {
		fail_msg("row %zu \"%s\": suffixes \"%s\", want \"%s\"", r, in, want,
		         row->suffixes);
	}
}

static void test_name_table(void **state)
{
	(void)state;
	for (size_t r = 0; r < sizeof(name_rows) / sizeof(name_rows[0]); r++) {
		const struct name_row *row = &name_rows[r];
		size_t len = row->len != 0 ? row->len : strlen(row->in);
		caa_name_t n;
		memset(&n, 0xa5, sizeof(n)); /* parse must overwrite everything */
		int code = caa_name_parse(row->in, len, &n);
		check_name(r, row, code, &n);
	}
}

/* Every code name.c can return for an identifier appears in the table. */
static void test_name_table_covers_codes(void **state)
{
	static const int codes[] = {
	    CAA_EOK,
	    CAA_ENAME_EMPTY,
	    CAA_ENAME_TOOLONG,
	    CAA_ENAME_LABELLEN,
	    CAA_ENAME_EMPTYLABEL,
	    CAA_ENAME_CHAR,
	    CAA_ENAME_HYPHEN,
	    CAA_ENAME_WILDCARD,
	    CAA_ENAME_IDN,
	    CAA_ENAME_RLDH,
	    CAA_ENAME_UNICODE,
	    CAA_ENAME_NUMERIC_TLD,
	    CAA_ENOTAPPLICABLE,
	};
	(void)state;
	for (size_t c = 0; c < sizeof(codes) / sizeof(codes[0]); c++) {
		bool seen = false;
		for (size_t r = 0; r < sizeof(name_rows) / sizeof(name_rows[0]); r++) {
			seen = seen || name_rows[r].code == codes[c];
		}
		if (!seen) {
			fail_msg("no row for code %d", codes[c]);
		}
	}
}

/* A valid name parses to itself: text, "*."+text and text+"." are fixed points. */
static void test_name_idempotent(void **state)
{
	(void)state;
	for (size_t r = 0; r < sizeof(name_rows) / sizeof(name_rows[0]); r++) {
		const struct name_row *row = &name_rows[r];
		size_t len = row->len != 0 ? row->len : strlen(row->in);
		caa_name_t a, b;
		char buf[2 + CAA_NAME_MAX + 2];

		if (caa_name_parse(row->in, len, &a) != CAA_EOK) {
			continue;
		}
		snprintf(buf, sizeof(buf), "%s%s", a.wildcard ? "*." : "", a.text);
		assert_int_equal(caa_name_parse(buf, strlen(buf), &b), CAA_EOK);
		assert_memory_equal(&a, &b, sizeof(a));
		snprintf(buf, sizeof(buf), "%s%s.", a.wildcard ? "*." : "", a.text);
		assert_int_equal(caa_name_parse(buf, strlen(buf), &b), CAA_EOK);
		assert_memory_equal(&a, &b, sizeof(a));
	}
}

struct typed_row {
	const char *type;
	const char *value;
	int code;
	const char *text;
	bool wildcard;
};

/* clang-format off */
static const struct typed_row typed_rows[] = {
	{ "dns", "Example.COM.", CAA_EOK, "example.com", false },
	{ "dns", "*.example.com", CAA_EOK, "example.com", true },
	{ "dns", "exa_mple.com", CAA_ENAME_CHAR, "", false },
	{ "dns", "192.0.2.1", CAA_ENAME_DNS_IP, "", false },
	{ "dns", "2001:db8::1", CAA_ENAME_DNS_IP, "", false },
	{ "dns", "[::1]", CAA_ENAME_DNS_IP, "", false },
	{ "dns", "192.0.2.1.", CAA_ENAME_NUMERIC_TLD, "", false },
	{ "dns", "hidden.onion", CAA_ENOTAPPLICABLE, "hidden.onion", false },
	{ "ip", "[::1]", CAA_ENOTAPPLICABLE, "[::1]", false },
	{ "dns", "", CAA_ENAME_EMPTY, "", false },
	{ "ip", "192.0.2.1", CAA_ENOTAPPLICABLE, "192.0.2.1", false },
	{ "ip", "2001:DB8::1", CAA_ENOTAPPLICABLE, "2001:db8::1", false },
	{ "ip", "", CAA_ENAME_IP, "", false },
	{ "ip", "example.com", CAA_ENAME_IP, "", false },
	{ "ip", "192.0.2.300", CAA_ENAME_IP, "", false },
	{ "DNS", "example.com", CAA_ENAME_TYPE, "", false },
	{ "IP", "192.0.2.1", CAA_ENAME_TYPE, "", false },
	{ "email", "a@example.com", CAA_ENAME_TYPE, "", false },
	{ "", "example.com", CAA_ENAME_TYPE, "", false },
};
/* clang-format on */

static void test_name_parse_typed(void **state)
{
	(void)state;
	for (size_t r = 0; r < sizeof(typed_rows) / sizeof(typed_rows[0]); r++) {
		const struct typed_row *row = &typed_rows[r];
		caa_name_t n;
		memset(&n, 0xa5, sizeof(n));
		int code = caa_name_parse_typed(row->type, row->value, strlen(row->value), &n);
		if (code != row->code || strcmp(n.text, row->text) != 0 ||
		    n.wildcard != row->wildcard) {
			fail_msg("typed row %zu (%s, \"%s\"): code %d text \"%s\" wildcard %d", r,
			         row->type, row->value, code, n.text, n.wildcard);
		}
	}
}

struct ip_row {
	const char *in;
	bool ip;
};

/* clang-format off */
static const struct ip_row ip_rows[] = {
	{ "192.0.2.1", true },
	{ "0.0.0.0", true },
	{ "::", true },
	{ "::1", true },
	{ "2001:db8::1", true },
	{ "2001:DB8:0:0:0:0:0:1", true },
	{ "::ffff:192.0.2.1", true },
	{ "[::1]", true },
	{ "[2001:db8::1]", true },
	{ "0000:0000:0000:0000:0000:ffff:255.255.255.255", true },
	{ "[192.0.2.1]", false },
	{ "192.0.2.1.", false },
	{ "192.0.2", false },
	{ "192.0.2.256", false },
	{ "192.0.2.01", false },
	{ "0x7f.0.0.1", false },
	{ "[::1", false },
	{ "::1]", false },
	{ "[]", false },
	{ "", false },
	{ "example.com", false },
	{ "fe80::1%eth0", false },
	{ "2001:db8::g", false },
	{ "123s.order.lab", false },
	{ "1.2.3.4.example", false },
	{ "abcd::1", true },
	{ "[abcd::1]", true },
};
/* clang-format on */

static void test_name_is_ip(void **state)
{
	(void)state;
	for (size_t r = 0; r < sizeof(ip_rows) / sizeof(ip_rows[0]); r++) {
		if (caa_name_is_ip(ip_rows[r].in, strlen(ip_rows[r].in)) != ip_rows[r].ip) {
			fail_msg("ip row %zu \"%s\": want %d", r, ip_rows[r].in, ip_rows[r].ip);
		}
	}
	/* Length bounds the octets read: no NUL terminator needed, none honoured. */
	assert_true(caa_name_is_ip("192.0.2.1xyz", 9));
	assert_false(caa_name_is_ip("::1\0", 4));
	assert_false(caa_name_is_ip(NULL, 0));
}

static void test_name_args(void **state)
{
	caa_name_t n;
	(void)state;
	assert_int_equal(caa_name_parse(NULL, 1, &n), CAA_EINVAL);
	assert_int_equal(caa_name_parse("a", 1, NULL), CAA_EINVAL);
	assert_int_equal(caa_name_parse(NULL, 0, &n), CAA_ENAME_EMPTY);
	assert_int_equal(caa_name_parse_typed(NULL, "a", 1, &n), CAA_EINVAL);
	/* The length, not a NUL, ends the input. */
	assert_int_equal(caa_name_parse("example.comXYZ", 11, &n), CAA_EOK);
	assert_string_equal(n.text, "example.com");
	assert_null(caa_name_suffix(NULL, 0));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_name_table),      cmocka_unit_test(test_name_table_covers_codes),
	    cmocka_unit_test(test_name_idempotent), cmocka_unit_test(test_name_parse_typed),
	    cmocka_unit_test(test_name_is_ip),      cmocka_unit_test(test_name_args),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
