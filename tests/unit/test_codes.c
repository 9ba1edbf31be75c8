/*
 * test_codes.c — caa_strerror() and the enum names of codes.c, against the
 * sources that define them: every code declared in include/caa/codes.h has a text of
 * its own (non-empty, one line, distinct from every other code's and from the
 * text of an unknown code), codes not declared there are "unknown error", and
 * caa_verdict_name / caa_reason_name / caa_dnssec_name spell every value of
 * proto/caa/v1/caa.proto exactly. Reading the headers (CAA_SOURCE_DIR) means a
 * code or enum value added without its text fails here.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "types.h"
#include "codes.h"

#define MAX_ITEMS    128
#define UNKNOWN_TEXT "unknown error"

typedef struct {
	char name[64];
	long value;
} item_t;

static char *read_source(const char *rel)
{
	const char *dir = getenv("CAA_SOURCE_DIR");
	char path[1024];
	if (dir == NULL)
		fail_msg("CAA_SOURCE_DIR is not set (ctest sets it)");
	snprintf(path, sizeof(path), "%s/%s", dir, rel);
	FILE *f = fopen(path, "r");
	if (f == NULL)
		fail_msg("cannot open %s", path);
	static char buf[65536];
	size_t n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	char *copy = strdup(buf);
	assert_non_null(copy);
	return copy;
}

/* "NAME = VALUE" pairs inside the block that starts at the first occurrence of
 * `open` and ends at the next '}'; names must start with prefix (if given). */
static size_t parse_enum(const char *text, const char *open, const char *prefix, item_t *out)
{
	const char *p = strstr(text, open);
	if (p == NULL)
		fail_msg("no \"%s\" in the source", open);
	const char *end = strchr(p, '}');
	assert_non_null(end);
	size_t n = 0;
	p = strchr(p, '{');
	assert_non_null(p);
	while (p < end) {
		/* skip comments and whitespace */
		if (p[0] == '/' && p[1] == '*') {
			p = strstr(p + 2, "*/");
			assert_non_null(p);
			p += 2;
			continue;
		}
		if (p[0] == '/' && p[1] == '/') {
			p = strchr(p, '\n');
			assert_non_null(p);
			continue;
		}
		if (!isalpha((unsigned char)*p) && *p != '_') {
			p++;
			continue;
		}
		const char *s = p;
		while (isalnum((unsigned char)*p) || *p == '_')
			p++;
		size_t len = (size_t)(p - s);
		while (*p == ' ' || *p == '\t')
			p++;
		if (*p != '=')
			continue;
		p++;
		char *after;
		long v = strtol(p, &after, 10);
		assert_true(after != p);
		p = after;
		if (prefix != NULL && strncmp(s, prefix, strlen(prefix)) != 0)
			continue;
		assert_true(n < MAX_ITEMS);
		assert_true(len < sizeof(out[n].name));
		memcpy(out[n].name, s, len);
		out[n].name[len] = '\0';
		out[n].value = v;
		n++;
	}
	return n;
}

static bool declared(const item_t *items, size_t n, long v)
{
	for (size_t i = 0; i < n; i++)
		if (items[i].value == v)
			return true;
	return false;
}

static void test_strerror_every_code(void **state)
{
	(void)state;
	char *src = read_source("include/caa/codes.h");
	item_t codes[MAX_ITEMS];
	size_t n = parse_enum(src, "enum caa_code", "CAA_", codes);
	free(src);
	/* the header has some 35 codes; a parse that finds few is broken */
	assert_true(n >= 30);

	for (size_t i = 0; i < n; i++) {
		const char *t = caa_strerror((int)codes[i].value);
		if (t == NULL || t[0] == '\0')
			fail_msg("%s (%ld) has no text", codes[i].name, codes[i].value);
		if (strcmp(t, UNKNOWN_TEXT) == 0)
			fail_msg("%s (%ld) has no text of its own (\"%s\")", codes[i].name,
			         codes[i].value, t);
		if (strchr(t, '\n') != NULL || strlen(t) > 100 || isspace((unsigned char)t[0]) ||
		    isspace((unsigned char)t[strlen(t) - 1]))
			fail_msg("%s: \"%s\" is not one short line", codes[i].name, t);
		/* a constant: the same text every time */
		assert_ptr_equal(t, caa_strerror((int)codes[i].value));
		for (size_t j = 0; j < i; j++)
			if (codes[j].value != codes[i].value &&
			    strcmp(t, caa_strerror((int)codes[j].value)) == 0)
				fail_msg("%s and %s share the text \"%s\"", codes[i].name,
				         codes[j].name, t);
		/* functions return 0 or a negative code (codes.h) */
		assert_true(codes[i].value <= 0);
		for (size_t j = 0; j < i; j++)
			if (codes[j].value == codes[i].value)
				fail_msg("%s and %s have the same value %ld", codes[i].name,
				         codes[j].name, codes[i].value);
	}
	assert_string_equal(caa_strerror(CAA_EOK), "ok");
}

static void test_strerror_unknown(void **state)
{
	(void)state;
	char *src = read_source("include/caa/codes.h");
	item_t codes[MAX_ITEMS];
	size_t n = parse_enum(src, "enum caa_code", "CAA_", codes);
	free(src);
	/* every value not declared, around and between the declared ones */
	for (long v = -200; v <= 200; v++) {
		if (declared(codes, n, v))
			continue;
		const char *t = caa_strerror((int)v);
		if (t == NULL || strcmp(t, UNKNOWN_TEXT) != 0)
			fail_msg("undeclared code %ld has text \"%s\"", v, t ? t : "(null)");
	}
	const int extremes[] = {1, 2, -1000, 1000, 2147483647, -2147483647 - 1};
	for (size_t i = 0; i < sizeof(extremes) / sizeof(extremes[0]); i++) {
		if (declared(codes, n, extremes[i]))
			continue;
		assert_string_equal(caa_strerror(extremes[i]), UNKNOWN_TEXT);
	}
	/* errno values are not codes: positive numbers are unknown */
	assert_string_equal(caa_strerror(12 /* ENOMEM */), UNKNOWN_TEXT);
}

typedef const char *(*name_fn)(int v);

static const char *verdict_name(int v)
{
	return caa_verdict_name((caa_verdict_t)v);
}

static const char *reason_name(int v)
{
	return caa_reason_name((caa_reason_t)v);
}

static const char *dnssec_name(int v)
{
	return caa_dnssec_name((caa_dnssec_t)v);
}

/* Every value of a proto enum has its exact name; 0 and values the proto does
 * not declare give the enum's UNSPECIFIED name. */
static void check_proto_enum(const char *proto, const char *open, const char *unspec, name_fn fn,
                             const char *cprefix)
{
	item_t items[MAX_ITEMS];
	size_t n = parse_enum(proto, open, NULL, items);
	assert_true(n >= 4);
	for (size_t i = 0; i < n; i++) {
		const char *got = fn((int)items[i].value);
		if (got == NULL || strcmp(got, items[i].name) != 0)
			fail_msg("%s value %ld: \"%s\", proto says %s", open, items[i].value,
			         got ? got : "(null)", items[i].name);
	}
	assert_true(declared(items, n, 0));
	assert_string_equal(fn(0), unspec);
	for (int v = -5; v <= 64; v++)
		if (!declared(items, n, v))
			assert_string_equal(fn(v), unspec);

	/* and include/caa/types.h declares exactly the proto's non-zero values */
	char *hdr = read_source("include/caa/types.h");
	item_t cvals[MAX_ITEMS];
	size_t m = parse_enum(hdr, cprefix, NULL, cvals);
	free(hdr);
	size_t nonzero = 0;
	for (size_t i = 0; i < n; i++)
		nonzero += items[i].value != 0;
	assert_int_equal(m, nonzero);
	for (size_t i = 0; i < m; i++)
		if (!declared(items, n, cvals[i].value) || cvals[i].value == 0)
			fail_msg("%s = %ld in include/caa/types.h is not in the proto",
			         cvals[i].name, cvals[i].value);
}

static void test_enum_names(void **state)
{
	(void)state;
	char *proto = read_source("proto/caa/v1/caa.proto");
	check_proto_enum(proto, "enum Verdict", "VERDICT_UNSPECIFIED", verdict_name,
	                 "typedef enum caa_verdict");
	check_proto_enum(proto, "enum Reason", "REASON_UNSPECIFIED", reason_name,
	                 "typedef enum caa_reason");
	check_proto_enum(proto, "enum Dnssec", "DNSSEC_UNSPECIFIED", dnssec_name,
	                 "typedef enum caa_dnssec");
	free(proto);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_strerror_every_code),
	    cmocka_unit_test(test_strerror_unknown),
	    cmocka_unit_test(test_enum_names),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
