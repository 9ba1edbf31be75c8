/*
 * test_records.c — records files (records.h): one table row per syntax rule.
 * A good row gives the text, a name, and the labels from the full name up to
 * the TLD rendered compactly; a bad row gives the error code and a substring
 * of the message (which always names the line).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "codes.h"
#include "records.h"

typedef struct {
	const char *what;
	const char *text;
	const char *name; /* good rows: the name whose labels are rendered */
	const char *want; /* good rows: rendered labels, full name first, " | " between */
} good_row_t;

typedef struct {
	const char *what;
	const char *text;
	int code;
	const char *err; /* substring of the message */
} bad_row_t;

/*
 * Rendering: NODATA, NXDOMAIN, NODATA-NO-SOA, SERVFAIL, ... as in the file;
 * a reason as ("why"); a present RRset as CAA[flags tag "value", ...] with
 * '"', '\' and unprintable octets escaped as in the file; a malformed record
 * as !malformed(flags). A dnssec state other than the expected one (BOGUS for
 * BOGUS, INDETERMINATE otherwise) shows as ?dnssec.
 */
static const char *outcome_word(caa_outcome_t o)
{
	switch (o) {
	case CAA_OUT_PENDING: return "PENDING";
	case CAA_OUT_PRESENT: return "CAA";
	case CAA_OUT_EMPTY: return "NODATA";
	case CAA_OUT_NODATA_NOSOA: return "NODATA-NO-SOA";
	case CAA_OUT_NXDOMAIN: return "NXDOMAIN";
	case CAA_OUT_SERVFAIL: return "SERVFAIL";
	case CAA_OUT_REFUSED: return "REFUSED";
	case CAA_OUT_NOTIMP: return "NOTIMP";
	case CAA_OUT_FORMERR: return "FORMERR";
	case CAA_OUT_TIMEOUT: return "TIMEOUT";
	case CAA_OUT_NETWORK: return "NETWORK";
	case CAA_OUT_BOGUS: return "BOGUS";
	}
	return "?";
}

static void put_escaped(char **o, const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c == '"' || c == '\\')
			*o += sprintf(*o, "\\%c", c);
		else if (c < 0x20 || c > 0x7e)
			*o += sprintf(*o, "\\%03u", c);
		else
			*(*o)++ = (char)c;
	}
	**o = '\0';
}

static void render(const caa_label_t *labels, size_t n, char *buf)
{
	char *o = buf;
	*o = '\0';
	for (size_t i = 0; i < n; i++) {
		const caa_label_t *l = &labels[i];
		if (i > 0)
			o += sprintf(o, " | ");
		o += sprintf(o, "%s", outcome_word(l->outcome));
		if (l->outcome == CAA_OUT_PRESENT) {
			*o++ = '[';
			for (size_t j = 0; j < l->n_rrs; j++) {
				const caa_rr_t *rr = &l->rrs[j];
				if (j > 0)
					o += sprintf(o, ", ");
				if (rr->malformed) {
					o += sprintf(o, "!malformed(%u)", rr->flags);
					continue;
				}
				o += sprintf(o, "%u ", rr->flags);
				put_escaped(&o, rr->tag, rr->tag_len);
				o += sprintf(o, " \"");
				put_escaped(&o, rr->value, rr->value_len);
				*o++ = '"';
			}
			*o++ = ']';
			*o = '\0';
		} else if (l->n_rrs != 0 || l->rrs != NULL) {
			o += sprintf(o, "?rrs");
		}
		if (l->why != NULL) {
			o += sprintf(o, "(\"");
			put_escaped(&o, l->why, strlen(l->why));
			o += sprintf(o, "\")");
		}
		caa_dnssec_t want =
		    l->outcome == CAA_OUT_BOGUS ? CAA_DNSSEC_BOGUS : CAA_DNSSEC_INDETERMINATE;
		if (l->dnssec != want)
			o += sprintf(o, "?dnssec");
		if (l->retries != 0 || l->elapsed_us != 0)
			o += sprintf(o, "?timing");
	}
}

#define SHOP "shop.example"

/* clang-format off */
static const good_row_t good_rows[] = {
	/* the dig line and its variants */
	{"dig line", "shop.example.\t300\tIN\tCAA\t0 issue \"ca.example\"\n", "www.shop.example",
	 "NODATA | CAA[0 issue \"ca.example\"] | NODATA"},
	{"no TTL, no class", "shop.example CAA 0 issue \"ca.example\"", "www.shop.example",
	 "NODATA | CAA[0 issue \"ca.example\"] | NODATA"},
	{"class before TTL", "shop.example. IN 300 CAA 0 issue \"ca.example\"", SHOP,
	 "CAA[0 issue \"ca.example\"] | NODATA"},
	{"class only", "shop.example. IN CAA 0 issue \"ca.example\"", SHOP,
	 "CAA[0 issue \"ca.example\"] | NODATA"},
	{"TTL only", "shop.example. 86400 CAA 0 issue \"ca.example\"", SHOP,
	 "CAA[0 issue \"ca.example\"] | NODATA"},
	{"TTL with units", "shop.example. 1h30m CAA 0 issue \"ca.example\"", SHOP,
	 "CAA[0 issue \"ca.example\"] | NODATA"},
	{"RFC 3597 class and type", "shop.example. 60 CLASS1 TYPE257 0 issue \"ca.example\"", SHOP,
	 "CAA[0 issue \"ca.example\"] | NODATA"},
	{"case: owner lowered, tag and value kept", "Shop.EXAMPLE. in caa 0 ISSUE \"CA.Example\"",
	 SHOP, "CAA[0 ISSUE \"CA.Example\"] | NODATA"},
	{"query name case and trailing dot do not matter", "shop.example CAA 0 issue \"x\"",
	 "WWW.Shop.Example.", "NODATA | CAA[0 issue \"x\"] | NODATA"},
	{"trailing dot optional: one owner", "shop.example. CAA 0 issue \"a\"\nshop.example CAA 0 issue \"b\"",
	 SHOP, "CAA[0 issue \"a\", 0 issue \"b\"] | NODATA"},
	{"critical flag and unknown tag", "shop.example CAA 128 tbs \"Unknown\"", SHOP,
	 "CAA[128 tbs \"Unknown\"] | NODATA"},
	{"flags 255", "shop.example CAA 255 issue \";\"", SHOP, "CAA[255 issue \";\"] | NODATA"},
	{"flags with leading zeros", "shop.example CAA 007 issue \";\"", SHOP,
	 "CAA[7 issue \";\"] | NODATA"},

	/* values */
	{"parameters inside quotes",
	 "shop.example CAA 0 issue \"ca.example; accounturi=https://ca.example/acme/acct/1\"", SHOP,
	 "CAA[0 issue \"ca.example; accounturi=https://ca.example/acme/acct/1\"] | NODATA"},
	{"empty value", "shop.example CAA 0 issue \"\"", SHOP, "CAA[0 issue \"\"] | NODATA"},
	{"unquoted value", "shop.example CAA 0 issue ca.example", SHOP,
	 "CAA[0 issue \"ca.example\"] | NODATA"},
	{"unquoted value, then a comment", "shop.example CAA 0 issue ca.example;accounturi=x", SHOP,
	 "CAA[0 issue \"ca.example\"] | NODATA"},
	{"escaped quote and backslash", "shop.example CAA 0 issue \"a\\\"b\\\\c\"", SHOP,
	 "CAA[0 issue \"a\\\"b\\\\c\"] | NODATA"},
	{"\\DDD and \\X escapes", "shop.example CAA 0 issue \"ca\\046example\\059\\ x\\q\"", SHOP,
	 "CAA[0 issue \"ca.example; xq\"] | NODATA"},
	{"\\000 and \\255 octets", "shop.example CAA 0 iodef \"\\000\\255\\127\"", SHOP,
	 "CAA[0 iodef \"\\000\\255\\127\"] | NODATA"},
	{"escapes in an unquoted value", "shop.example CAA 0 issue ca\\059\\032x", SHOP,
	 "CAA[0 issue \"ca; x\"] | NODATA"},
	{"';' inside quotes is not a comment", "shop.example CAA 0 issue \";\" ; comment", SHOP,
	 "CAA[0 issue \";\"] | NODATA"},
	{"raw UTF-8 and tab in a quoted value", "shop.example CAA 0 contactemail \"\xc3\xa9\tx\"", SHOP,
	 "CAA[0 contactemail \"\\195\\169\\009x\"] | NODATA"},

	/* generic RDATA goes through caa_rr_parse, malformed or not */
	{"generic RDATA", "shop.example CAA \\# 17 0005 6973737565 63612e6578616d706c65", SHOP,
	 "CAA[0 issue \"ca.example\"] | NODATA"},
	{"generic RDATA, upper-case hex, empty value", "shop.example CAA \\# 3 80014A", SHOP,
	 "CAA[128 J \"\"] | NODATA"},
	{"generic RDATA: tag length 0 kept as malformed", "shop.example CAA \\# 3 000041", SHOP,
	 "CAA[!malformed(0)] | NODATA"},
	{"generic RDATA: tag past the end kept as malformed", "shop.example CAA \\# 3 800541", SHOP,
	 "CAA[!malformed(128)] | NODATA"},
	{"generic RDATA: one octet", "shop.example CAA \\# 1 80", SHOP,
	 "CAA[!malformed(128)] | NODATA"},
	{"generic RDATA: empty", "shop.example TYPE257 \\# 0", SHOP, "CAA[!malformed(0)] | NODATA"},
	{"tag character outside [A-Za-z0-9] kept as malformed",
	 "shop.example CAA 0 is-sue \"ca.example\"", SHOP, "CAA[!malformed(0)] | NODATA"},
	{"malformed next to good records",
	 "shop.example CAA 0 issue \"ca.example\"\nshop.example CAA \\# 2 0000\n"
	 "shop.example CAA 0 iodef \"mailto:x@shop.example\"",
	 SHOP, "CAA[0 issue \"ca.example\", !malformed(0), 0 iodef \"mailto:x@shop.example\"] | NODATA"},

	/* status lines */
	{"SERVFAIL above", "example. SERVFAIL", "www.shop.example", "NODATA | NODATA | SERVFAIL"},
	{"status with TTL, class and reason", "shop.example. 300 IN REFUSED \"lame delegation\"",
	 "www.shop.example", "NODATA | REFUSED(\"lame delegation\") | NODATA"},
	{"status words are case-insensitive", "shop.example timeout", SHOP, "TIMEOUT | NODATA"},
	{"unquoted reason", "shop.example BOGUS expired", SHOP, "BOGUS(\"expired\") | NODATA"},
	{"BOGUS is DNSSEC bogus", "shop.example. BOGUS \"signature expired\"", "a.shop.example",
	 "NODATA | BOGUS(\"signature expired\") | NODATA"},
	{"every status word",
	 "a.b.c.d.e.f.g.h.i.j.k NODATA\nb.c.d.e.f.g.h.i.j.k NXDOMAIN\nc.d.e.f.g.h.i.j.k NODATA-NO-SOA\n"
	 "d.e.f.g.h.i.j.k SERVFAIL\ne.f.g.h.i.j.k REFUSED\nf.g.h.i.j.k NOTIMP\ng.h.i.j.k FORMERR\n"
	 "h.i.j.k TIMEOUT\ni.j.k NETWORK\nj.k BOGUS\n",
	 "a.b.c.d.e.f.g.h.i.j.k",
	 "NODATA | NXDOMAIN | NODATA-NO-SOA | SERVFAIL | REFUSED | NOTIMP | FORMERR | TIMEOUT | "
	 "NETWORK | BOGUS | NODATA"},
	{"the JSON trace name of NODATA-NO-SOA", "shop.example NODATA_WITHOUT_SOA", SHOP,
	 "NODATA-NO-SOA | NODATA"},
	{"NXDOMAIN at the TLD", "example NXDOMAIN", SHOP, "NODATA | NXDOMAIN"},
	{"escapes in a reason", "example SERVFAIL \"EDE 22: \\\"No Reachable Authority\\\"\"", SHOP,
	 "NODATA | SERVFAIL(\"EDE 22: \\\"No Reachable Authority\\\"\")"},

	/* layout */
	{"empty text", "", SHOP, "NODATA | NODATA"},
	{"comments, blank lines, CRLF",
	 "; a comment\r\n\r\n   \t\r\n  ; indented comment\r\nshop.example CAA 0 issue \"x\" ; why\r\n", SHOP,
	 "CAA[0 issue \"x\"] | NODATA"},
	{"no newline at the end", "shop.example SERVFAIL", SHOP, "SERVFAIL | NODATA"},
	{"records of one owner on lines apart",
	 "shop.example CAA 0 issue \"a\"\nexample SERVFAIL\nshop.example CAA 0 iodef \"b\"", SHOP,
	 "CAA[0 issue \"a\", 0 iodef \"b\"] | SERVFAIL"},
	{"a leading blank continues the owner",
	 "shop.example. 300 IN CAA 0 issue \"a\"\n        300 IN CAA 0 iodef \"b\"", SHOP,
	 "CAA[0 issue \"a\", 0 iodef \"b\"] | NODATA"},
	{"$TTL ignored, $ORIGIN and @",
	 "$TTL 3600\n$ORIGIN example.\n@ SERVFAIL\nshop CAA 0 issue \"x\"\nother.test. CAA 0 issue \"y\"\n",
	 "www.shop.example", "NODATA | CAA[0 issue \"x\"] | SERVFAIL"},
	{"absolute names after $ORIGIN", "$ORIGIN example.\nother.test. CAA 0 issue \"y\"\n",
	 "other.test", "CAA[0 issue \"y\"] | NODATA"},
	{"wildcard request: labels of the base name", "shop.example CAA 0 issuewild \";\"",
	 "*.shop.example", "CAA[0 issuewild \";\"] | NODATA"},
	{"names not under the query are ignored", "other.example SERVFAIL\nshop.test CAA 0 issue x",
	 SHOP, "NODATA | NODATA"},
	{"explicit NODATA", "shop.example NODATA", SHOP, "NODATA | NODATA"},
	{"xn-- owner", "xn--bcher-kva.example CAA 0 issue \"x\"", "www.xn--bcher-kva.example",
	 "NODATA | CAA[0 issue \"x\"] | NODATA"},
};

static const bad_row_t bad_rows[] = {
	/* record fields */
	{"flags above 255", "shop.example CAA 256 issue \"x\"", CAA_ERECORDS,
	 "line 1: bad flags \"256\": expected a number from 0 to 255"},
	{"negative flags", "shop.example CAA -1 issue \"x\"", CAA_ERECORDS, "line 1: bad flags \"-1\""},
	{"flags not a number", "shop.example CAA issue \"x\"", CAA_ERECORDS,
	 "line 1: bad flags \"issue\""},
	{"missing flags", "shop.example CAA", CAA_ERECORDS, "line 1: missing flags"},
	{"missing tag", "shop.example CAA 0", CAA_ERECORDS, "line 1: missing tag"},
	{"missing tag before a comment", "shop.example CAA 0 ; issue", CAA_ERECORDS,
	 "line 1: missing tag"},
	{"missing value", "shop.example CAA 0 issue", CAA_ERECORDS, "line 1: missing value"},
	{"quoted tag", "shop.example CAA 0 \"issue\" x", CAA_ERECORDS, "tag \"issue\" is quoted"},
	{"tag longer than 255 octets",
	 "shop.example CAA 0 "
	 "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	 "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	 "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	 "bb x",
	 CAA_ERECORDS, "line 1: tag must be 1 to 255 octets, not 256"},
	{"unterminated quote", "shop.example CAA 0 issue \"ca.example", CAA_ERECORDS,
	 "line 1: unterminated quoted string"},
	{"unterminated quote ending in an escaped quote", "shop.example CAA 0 issue \"ca.example\\\"",
	 CAA_ERECORDS, "line 1: unterminated quoted string"},
	{"quote does not run over lines", "shop.example CAA 0 issue \"a\nb\"", CAA_ERECORDS,
	 "line 1: unterminated quoted string"},
	{"text after the value", "shop.example CAA 0 issue \"x\" extra", CAA_ERECORDS,
	 "line 1: unexpected \"extra\" after the value"},
	{"unquoted value with a blank", "shop.example CAA 0 issue ca.example accounturi=1",
	 CAA_ERECORDS, "unexpected \"accounturi=1\" after the value"},
	{"escape above 255", "shop.example CAA 0 issue \"\\256\"", CAA_ERECORDS,
	 "line 1: bad escape \\256: above 255"},
	{"escape with two digits", "shop.example CAA 0 issue \"\\25x\"", CAA_ERECORDS,
	 "line 1: bad escape: \\DDD needs three decimal digits"},
	{"escape at the end", "shop.example CAA 0 issue ca\\", CAA_ERECORDS,
	 "line 1: backslash at the end"},
	{"parentheses", "shop.example CAA ( 0 issue \"x\" )", CAA_ERECORDS,
	 "line 1: parentheses (multi-line records) are not supported"},

	/* generic RDATA */
	{"bad hex", "shop.example CAA \\# 3 00zz41", CAA_ERECORDS, "line 1: bad hex \"00zz41\""},
	{"odd hex", "shop.example CAA \\# 2 000", CAA_ERECORDS,
	 "line 1: bad hex \"000\": odd number of digits"},
	{"hex shorter than the length", "shop.example CAA \\# 3 0000", CAA_ERECORDS,
	 "line 1: generic RDATA length is 3 but the hex has 2 octets"},
	{"hex longer than the length", "shop.example CAA \\# 1 0000", CAA_ERECORDS,
	 "generic RDATA length is 1 but the hex has 2 octets"},
	{"length not a number", "shop.example CAA \\# x 00", CAA_ERECORDS,
	 "line 1: generic RDATA length \"x\" is not a number from 0 to 65535"},
	{"length above 65535", "shop.example CAA \\# 65536 00", CAA_ERECORDS,
	 "generic RDATA length \"65536\""},
	{"missing length", "shop.example CAA \\#", CAA_ERECORDS, "missing RDATA length"},

	/* owners */
	{"character outside LDH", "sh_op.example CAA 0 issue \"x\"", CAA_ERECORDS,
	 "line 1: owner name \"sh_op.example\": identifier has a character other than"},
	{"empty label", "shop..example SERVFAIL", CAA_ERECORDS,
	 "line 1: owner name \"shop..example\": identifier has an empty label"},
	{"wildcard owner", "*.shop.example CAA 0 issue \"x\"", CAA_ERECORDS,
	 "line 1: owner name \"*.shop.example\": wildcard owners are not expanded"},
	{"IP owner", "192.0.2.1 CAA 0 issue \"x\"", CAA_ERECORDS,
	 "line 1: owner name \"192.0.2.1\": CAA does not apply"},
	{"quoted owner", "\"shop.example\" CAA 0 issue \"x\"", CAA_ERECORDS,
	 "owner name \"shop.example\" is quoted"},
	{"root", ". SERVFAIL", CAA_ERECORDS, "line 1: owner name \".\""},
	{"missing owner", "CAA 0 issue \"x\"", CAA_ERECORDS, "line 1: missing owner name before CAA"},
	{"blank owner without a previous owner", "   CAA 0 issue \"x\"", CAA_ERECORDS,
	 "line 1: line starts with a blank but no owner name came before it"},
	{"@ without $ORIGIN", "@ SERVFAIL", CAA_ERECORDS, "line 1: \"@\" needs a $ORIGIN line"},
	{"relative name too long with $ORIGIN",
	 "$ORIGIN aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa."
	 "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa."
	 "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.example.\n"
	 "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb SERVFAIL",
	 CAA_ERECORDS, "line 2: owner name \"bbbb"},

	/* types, classes, statuses */
	{"missing type", "shop.example", CAA_ERECORDS,
	 "line 1: missing type (CAA) or status word after shop.example"},
	{"missing type after TTL and class", "shop.example 300 IN", CAA_ERECORDS,
	 "line 1: missing type"},
	{"unknown status word", "shop.example SERVFLAP", CAA_ERECORDS,
	 "line 1: unknown type or status word \"SERVFLAP\""},
	{"other RR type", "www.shop.example. 300 IN CNAME shop.example.", CAA_ERECORDS,
	 "line 1: type CNAME: a records file holds only CAA records and status lines"},
	{"RRSIG from dig +dnssec", "shop.example. 300 IN RRSIG CAA 13 2 300 x", CAA_ERECORDS,
	 "line 1: type RRSIG"},
	{"generic other type", "shop.example TYPE1 \\# 4 7f000001", CAA_ERECORDS,
	 "line 1: type TYPE1"},
	{"class CH", "shop.example CH CAA 0 issue \"x\"", CAA_ERECORDS,
	 "line 1: class CH: only IN is read"},
	{"class CLASS3", "shop.example 300 CLASS3 CAA 0 issue \"x\"", CAA_ERECORDS,
	 "line 1: class CLASS3"},
	{"bad TTL", "shop.example 300x CAA 0 issue \"x\"", CAA_ERECORDS, "line 1: bad TTL \"300x\""},
	{"two TTLs", "shop.example 300 300 CAA 0 issue \"x\"", CAA_ERECORDS,
	 "unknown type or status word \"300\""},
	{"text after the reason", "shop.example SERVFAIL \"a\" \"b\"", CAA_ERECORDS,
	 "line 1: unexpected \"b\" after the reason"},
	{"records then a status", "shop.example CAA 0 issue \"x\"\nshop.example. SERVFAIL",
	 CAA_ERECORDS, "line 2: shop.example has both CAA records (line 1) and a status"},
	{"a status then records", "\nshop.example NODATA\nSHOP.example CAA 0 issue \"x\"",
	 CAA_ERECORDS, "line 3: shop.example has both CAA records and a status (line 2)"},
	{"two statuses", "shop.example SERVFAIL\nshop.example SERVFAIL", CAA_ERECORDS,
	 "line 2: shop.example already has a status (line 1)"},

	/* directives */
	{"$INCLUDE", "$INCLUDE other.zone", CAA_ERECORDS,
	 "line 1: unsupported directive \"$INCLUDE\""},
	{"$ORIGIN without a name", "$ORIGIN", CAA_ERECORDS, "line 1: missing name after $ORIGIN"},
	{"$TTL without a value", "$TTL ; none", CAA_ERECORDS, "line 1: missing TTL after $TTL"},
	{"bad $ORIGIN", "$ORIGIN bad_name.", CAA_ERECORDS, "line 1: owner name \"bad_name.\""},

	/* the line number counts every line */
	{"line number", "; c\n\n$TTL 60\nshop.example CAA 0 issue \"x\"\n\nshop.example CAA 999 x y\n",
	 CAA_ERECORDS, "line 6: bad flags \"999\""},
	{"line number with CRLF", "; c\r\n\r\nshop.example FOO\r\n", CAA_ERECORDS,
	 "line 3: unknown type or status word \"FOO\""},
};
/* clang-format on */

static void test_good_rows(void **state)
{
	int failed = 0;
	(void)state;
	for (size_t r = 0; r < sizeof(good_rows) / sizeof(good_rows[0]); r++) {
		const good_row_t *row = &good_rows[r];
		caa_records_t *recs = NULL;
		caa_name_t name;
		caa_label_t labels[CAA_LABELS_MAX];
		char err[256], got[4096];

		int rc = caa_records_parse(row->text, strlen(row->text), &recs, err, sizeof(err));
		if (rc != CAA_EOK) {
			print_error("row \"%s\": parse failed (%d): %s\n", row->what, rc, err);
			failed++;
			continue;
		}
		rc = caa_name_parse(row->name, strlen(row->name), &name);
		assert_int_equal(rc, CAA_EOK);
		caa_records_labels(recs, &name, labels);
		render(labels, name.n_labels, got);
		for (unsigned i = 0; i < name.n_labels; i++)
			if (strcmp(labels[i].name, caa_name_suffix(&name, i)) != 0)
				strcat(got, " ?name");
		if (strcmp(got, row->want) != 0) {
			print_error("row \"%s\":\n  want %s\n  got  %s\n", row->what, row->want,
			            got);
			failed++;
		}
		caa_records_free(recs);
	}
	assert_int_equal(failed, 0);
}

static void test_bad_rows(void **state)
{
	int failed = 0;
	(void)state;
	for (size_t r = 0; r < sizeof(bad_rows) / sizeof(bad_rows[0]); r++) {
		const bad_row_t *row = &bad_rows[r];
		caa_records_t *recs = (caa_records_t *)&failed; /* must be reset to NULL */
		char err[256];

		int rc = caa_records_parse(row->text, strlen(row->text), &recs, err, sizeof(err));
		if (rc != row->code || recs != NULL || strstr(err, row->err) == NULL) {
			print_error("row \"%s\":\n  want %d \"%s\"\n  got  %d \"%s\"\n", row->what,
			            row->code, row->err, rc, err);
			failed++;
		}
		if (rc == CAA_EOK)
			caa_records_free(recs);
	}
	assert_int_equal(failed, 0);
}

/* Text built in memory: n lines of line(i). */
static char *repeat_lines(size_t n, bool same_owner)
{
	size_t cap = n * 64 + 1, len = 0;
	char *text = malloc(cap);
	assert_non_null(text);
	for (size_t i = 0; i < n; i++) {
		if (same_owner)
			len += (size_t)snprintf(text + len, cap - len,
			                        "shop.example CAA 0 iodef \"%zu\"\n", i);
		else
			len += (size_t)snprintf(text + len, cap - len,
			                        "n%zu.example CAA 0 issue \"ca.example\"\n", i);
	}
	return text;
}

static void test_records_per_owner_limit(void **state)
{
	caa_records_t *recs = NULL;
	char err[256];
	(void)state;

	char *text = repeat_lines(CAA_RECORDS_MAX_PER_OWNER, true);
	assert_int_equal(caa_records_parse(text, strlen(text), &recs, err, sizeof(err)), CAA_EOK);
	caa_name_t name;
	caa_label_t labels[2];
	assert_int_equal(caa_name_parse(SHOP, strlen(SHOP), &name), CAA_EOK);
	caa_records_labels(recs, &name, labels);
	assert_int_equal(labels[0].n_rrs, CAA_RECORDS_MAX_PER_OWNER);
	assert_memory_equal(labels[0].rrs[1023].value, "1023", 4);
	caa_records_free(recs);
	free(text);

	text = repeat_lines(CAA_RECORDS_MAX_PER_OWNER + 1, true);
	assert_int_equal(caa_records_parse(text, strlen(text), &recs, err, sizeof(err)),
	                 CAA_ELIMIT);
	assert_null(recs);
	assert_non_null(strstr(err, "line 1025: more than 1024 CAA records for shop.example"));
	free(text);
}

/* Many owners: the owner index grows and every owner is still found. */
static void test_many_owners(void **state)
{
	caa_records_t *recs = NULL;
	char err[256], name_text[64];
	(void)state;

	char *text = repeat_lines(5000, false);
	assert_int_equal(caa_records_parse(text, strlen(text), &recs, err, sizeof(err)), CAA_EOK);
	for (size_t i = 0; i < 5000; i += 7) {
		caa_name_t name;
		caa_label_t labels[3];
		snprintf(name_text, sizeof(name_text), "www.n%zu.example", i);
		assert_int_equal(caa_name_parse(name_text, strlen(name_text), &name), CAA_EOK);
		caa_records_labels(recs, &name, labels);
		assert_int_equal(labels[0].outcome, CAA_OUT_EMPTY);
		assert_int_equal(labels[1].outcome, CAA_OUT_PRESENT);
		assert_int_equal(labels[1].n_rrs, 1);
		assert_int_equal(labels[2].outcome, CAA_OUT_EMPTY);
	}
	caa_records_free(recs);
	free(text);
}

static void test_size_limit(void **state)
{
	caa_records_t *recs = NULL;
	char err[256];
	(void)state;

	/* Exactly at the limit is read (comments), one octet more is refused. */
	char *text = malloc(CAA_RECORDS_MAX_SIZE + 1);
	assert_non_null(text);
	memset(text, ';', CAA_RECORDS_MAX_SIZE + 1);
	assert_int_equal(caa_records_parse(text, CAA_RECORDS_MAX_SIZE, &recs, err, sizeof(err)),
	                 CAA_EOK);
	caa_records_free(recs);
	assert_int_equal(caa_records_parse(text, CAA_RECORDS_MAX_SIZE + 1, &recs, err, sizeof(err)),
	                 CAA_ELIMIT);
	assert_null(recs);
	assert_non_null(strstr(err, "larger than 1048576 octets"));
	free(text);
}

/* No records (NULL): every label answered NODATA; names point into name. */
static void test_labels_without_records(void **state)
{
	caa_name_t name;
	caa_label_t labels[3];
	(void)state;
	assert_int_equal(caa_name_parse("a.b.example", 11, &name), CAA_EOK);
	caa_records_labels(NULL, &name, labels);
	assert_int_equal(labels[0].outcome, CAA_OUT_EMPTY);
	assert_string_equal(labels[2].name, "example");
	assert_null(labels[1].rrs);
}

static void test_err_buffer(void **state)
{
	caa_records_t *recs = NULL;
	char small[12];
	const char *text = "shop.example CAA 256 issue x";
	(void)state;
	/* Truncated, still NUL-terminated; and errlen 0 writes nothing. */
	assert_int_equal(caa_records_parse(text, strlen(text), &recs, small, sizeof(small)),
	                 CAA_ERECORDS);
	assert_string_equal(small, "line 1: bad");
	assert_int_equal(caa_records_parse(text, strlen(text), &recs, NULL, 0), CAA_ERECORDS);
	/* text with an embedded NUL is only what len says */
	assert_int_equal(caa_records_parse("x.example SERVFAIL\0junk", 18, &recs, small, 0),
	                 CAA_EOK);
	caa_records_free(recs);
}

static void test_load(void **state)
{
	caa_records_t *recs = NULL;
	char err[512], path[4096];
	const char *src = getenv("CAA_SOURCE_DIR");
	(void)state;

	assert_int_equal(caa_records_load("/nonexistent/x.records", &recs, err, sizeof(err)),
	                 CAA_EIO);
	assert_null(recs);
	assert_string_equal(err, "/nonexistent/x.records: No such file or directory");

	if (src == NULL)
		skip();
	snprintf(path, sizeof(path), "%s/deploy/examples/forbidden.records", src);
	assert_int_equal(caa_records_load(path, &recs, err, sizeof(err)), CAA_EOK);
	caa_records_free(recs);

	/* Errors carry the path before the line. */
	char tmp[] = "/tmp/test_records.XXXXXX";
	int fd = mkstemp(tmp);
	assert_true(fd >= 0);
	FILE *f = fdopen(fd, "w");
	fputs("; ok\nshop.example CAA 0\n", f);
	fclose(f);
	assert_int_equal(caa_records_load(tmp, &recs, err, sizeof(err)), CAA_ERECORDS);
	unlink(tmp);
	char want[128];
	snprintf(want, sizeof(want), "%s: line 2: missing tag after the flags", tmp);
	assert_string_equal(err, want);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_good_rows),
	    cmocka_unit_test(test_bad_rows),
	    cmocka_unit_test(test_records_per_owner_limit),
	    cmocka_unit_test(test_many_owners),
	    cmocka_unit_test(test_size_limit),
	    cmocka_unit_test(test_labels_without_records),
	    cmocka_unit_test(test_err_buffer),
	    cmocka_unit_test(test_load),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
