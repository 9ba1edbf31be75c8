/*
 * test_rr.c — rr.c: RDATA parsing, tag classification, the RFC 8659 §4.2
 * issue-value grammar and RFC 8657 parameters. Table-driven: one row per rule
 * or tricky case; every row is its own cmocka test so a failure names it.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "codes.h"
#include "rr.h"

/* A string literal with its length, embedded NULs included. */
#define BYTES(s) s, sizeof(s) - 1

/* ---- caa_rr_parse ---- */

typedef struct {
	const char *name;
	const char *rdata;
	size_t len;
	int ret;
	uint8_t flags;
	const char *tag; /* expected tag bytes (ret == CAA_EOK) */
	const char *value;
	size_t value_len;
	caa_tag_t kind;
} rr_row_t;

/* clang-format off: one row per line reads better */
#define OK(n, rd, fl, t, v, k)                                                                     \
	{                                                                                          \
		n, BYTES(rd), CAA_EOK, fl, t, BYTES(v), k                                          \
	}
#define BAD(n, rd, e, fl)                                                                          \
	{                                                                                          \
		n, BYTES(rd), e, fl, "", BYTES(""), CAA_TAG_UNKNOWN                                \
	}

static const rr_row_t rr_rows[] = {
    OK("issue", "\x00\x05issueletsencrypt.org", 0, "issue", "letsencrypt.org", CAA_TAG_ISSUE),
    OK("flags 128 kept", "\x80\x05issueca.example", 128, "issue", "ca.example", CAA_TAG_ISSUE),
    OK("flags 1 kept", "\x01\x05issueca.example", 1, "issue", "ca.example", CAA_TAG_ISSUE),
    OK("flags 255 kept", "\xff\x03tbsx", 255, "tbs", "x", CAA_TAG_UNKNOWN),
    OK("empty value", "\x00\x05issue", 0, "issue", "", CAA_TAG_ISSUE),
    OK("one-char tag, empty value",
       "\x00\x01"
       "a",
       0, "a", "", CAA_TAG_UNKNOWN),
    OK("tag case IsSuE", "\x00\x05IsSuE;", 0, "IsSuE", ";", CAA_TAG_ISSUE),
    OK("issuewild", "\x00\x09issuewild;", 0, "issuewild", ";", CAA_TAG_ISSUEWILD),
    OK("ISSUEWILD", "\x00\x09ISSUEWILDca", 0, "ISSUEWILD", "ca", CAA_TAG_ISSUEWILD),
    OK("iodef", "\x80\x05iodefmailto:a@b", 128, "iodef", "mailto:a@b", CAA_TAG_IODEF),
    OK("issuemail", "\x00\x09issuemailca", 0, "issuemail", "ca", CAA_TAG_ISSUEMAIL),
    OK("issuevmc", "\x00\x08issuevmcca", 0, "issuevmc", "ca", CAA_TAG_ISSUEVMC),
    OK("contactemail",
       "\x00\x0c"
       "contactemaila@b",
       0, "contactemail", "a@b", CAA_TAG_CONTACTEMAIL),
    OK("ContactPhone",
       "\x00\x0c"
       "ContactPhone+1",
       0, "ContactPhone", "+1", CAA_TAG_CONTACTPHONE),
    OK("unknown tbs", "\x80\x03tbsUnknown", 128, "tbs", "Unknown", CAA_TAG_UNKNOWN),
    OK("unknown issuer (6)", "\x00\x06issuerx", 0, "issuer", "x", CAA_TAG_UNKNOWN),
    OK("digit tag",
       "\x00\x03"
       "123x",
       0, "123", "x", CAA_TAG_UNKNOWN),
    OK("NUL and high bytes in value", "\x00\x05issue\x00\xff\x80;", 0, "issue", "\x00\xff\x80;",
       CAA_TAG_ISSUE),
    OK("tag length splits letters", "\x00\x04issuewild", 0, "issu", "ewild", CAA_TAG_UNKNOWN),
    BAD("len 0", "", CAA_ERR_SHORT, 0),
    BAD("len 1 keeps flags", "\x80", CAA_ERR_SHORT, 128),
    BAD("len 2 taglen 0", "\x01\x00", CAA_ERR_TAGLEN0, 1),
    BAD("len 2 taglen 5", "\x00\x05", CAA_ERR_TAGLEN, 0),
    BAD("taglen 0 with value", "\x80\x00issue", CAA_ERR_TAGLEN0, 128),
    BAD("taglen past end by one", "\x00\x06issue", CAA_ERR_TAGLEN, 0),
    BAD("taglen 255", "\xff\xffissue", CAA_ERR_TAGLEN, 255),
    BAD("tag with '-'", "\x00\x05is-ue", CAA_ERR_TAGCHAR, 0),
    BAD("tag with '_'", "\x00\x05is_ue", CAA_ERR_TAGCHAR, 0),
    BAD("tag with NUL", "\x00\x05issu\x00", CAA_ERR_TAGCHAR, 0),
    BAD("tag with high byte", "\x00\x05issu\xc5", CAA_ERR_TAGCHAR, 0),
    BAD("tag with space", "\x00\x06issue x", CAA_ERR_TAGCHAR, 0),
    BAD("tag with dot", "\x00\x01.x", CAA_ERR_TAGCHAR, 0),
};
/* clang-format on */

static void test_rr_row(void **state)
{
	const rr_row_t *r = *state;
	const uint8_t *rd = (const uint8_t *)r->rdata;
	caa_rr_t rr;
	memset(&rr, 0x5a, sizeof(rr));

	int ret = caa_rr_parse(rd, r->len, &rr);
	assert_int_equal(ret, r->ret);
	assert_int_equal(rr.flags, r->flags);
	assert_non_null(rr.tag);
	assert_non_null(rr.value);
	if (ret != CAA_EOK) {
		assert_true(rr.malformed);
		assert_int_equal(rr.tag_len, 0);
		assert_int_equal(rr.value_len, 0);
		return;
	}
	assert_false(rr.malformed);
	assert_int_equal(rr.tag_len, strlen(r->tag));
	assert_memory_equal(rr.tag, r->tag, rr.tag_len);
	assert_ptr_equal(rr.tag, r->rdata + 2);
	assert_int_equal(rr.value_len, r->value_len);
	if (r->value_len > 0) {
		assert_memory_equal(rr.value, r->value, r->value_len);
	}
	assert_ptr_equal(rr.value + rr.value_len, r->rdata + r->len);
	assert_int_equal(caa_rr_tag(rr.tag, rr.tag_len), r->kind);
}

/* Edges that need buffers bigger than a literal. */
static void test_rr_sizes(void **state)
{
	(void)state;
	static uint8_t buf[65536 + 1];
	caa_rr_t rr;

	memset(buf, 'a', sizeof(buf));
	buf[0] = 0x80;
	buf[1] = 255;
	/* 255-octet tag ending exactly at the end of RDATA */
	assert_int_equal(caa_rr_parse(buf, 257, &rr), CAA_EOK);
	assert_int_equal(rr.tag_len, 255);
	assert_int_equal(rr.value_len, 0);
	assert_int_equal(caa_rr_parse(buf, 256, &rr), CAA_ERR_TAGLEN);

	/* largest RDATA: 65535 - 2 - 255 value octets */
	assert_int_equal(caa_rr_parse(buf, 65535, &rr), CAA_EOK);
	assert_int_equal(rr.value_len, 65535 - 2 - 255);
	buf[1] = 1;
	assert_int_equal(caa_rr_parse(buf, 65535, &rr), CAA_EOK);
	assert_int_equal(rr.value_len, 65532);

	/* cannot come from DNS and would not fit value_len */
	assert_int_equal(caa_rr_parse(buf, 65536, &rr), CAA_ELIMIT);
	assert_true(rr.malformed);
	assert_int_equal(rr.flags, 0x80);
	assert_int_equal(rr.value_len, 0);
}

/* ---- caa_rr_tag ---- */

typedef struct {
	const char *name;
	const char *tag;
	size_t len;
	caa_tag_t kind;
} tag_row_t;

/* clang-format off */
static const tag_row_t tag_rows[] = {
	{ "issue", BYTES("issue"), CAA_TAG_ISSUE },
	{ "ISSUE", BYTES("ISSUE"), CAA_TAG_ISSUE },
	{ "iSsUeWiLd", BYTES("iSsUeWiLd"), CAA_TAG_ISSUEWILD },
	{ "IODEF", BYTES("IODEF"), CAA_TAG_IODEF },
	{ "IssueMail", BYTES("IssueMail"), CAA_TAG_ISSUEMAIL },
	{ "ISSUEVMC", BYTES("ISSUEVMC"), CAA_TAG_ISSUEVMC },
	{ "CONTACTEMAIL", BYTES("CONTACTEMAIL"), CAA_TAG_CONTACTEMAIL },
	{ "contactphone", BYTES("contactphone"), CAA_TAG_CONTACTPHONE },
	{ "prefix of a longer buffer", "issuewild", 5, CAA_TAG_ISSUE },
	{ "empty", "", 0, CAA_TAG_UNKNOWN },
	{ "NULL, 0", NULL, 0, CAA_TAG_UNKNOWN },
	{ "issu", BYTES("issu"), CAA_TAG_UNKNOWN },
	{ "issue + NUL", BYTES("issue\0"), CAA_TAG_UNKNOWN },
	{ "issuf", BYTES("issuf"), CAA_TAG_UNKNOWN },
	{ "issuewilx", BYTES("issuewilx"), CAA_TAG_UNKNOWN },
	{ "issuexmail", BYTES("issuexmail"), CAA_TAG_UNKNOWN },
	{ "contactfaxes", BYTES("contactfaxes"), CAA_TAG_UNKNOWN },
	{ "high-bit I", BYTES("\xc9ssue"), CAA_TAG_UNKNOWN },
	{ "TAB for 'i'", BYTES("\x09ssue"), CAA_TAG_UNKNOWN },
	{ "tbs", BYTES("tbs"), CAA_TAG_UNKNOWN },
};
/* clang-format on */

static void test_tag_row(void **state)
{
	const tag_row_t *r = *state;
	assert_int_equal(caa_rr_tag(r->tag, r->len), r->kind);
}

/* ---- caa_rr_issue_value_parse ---- */

typedef struct {
	const char *name;
	const char *in;
	size_t len;
	int ret;
	const char *issuer;
	unsigned n_acc;
	const char *acc; /* NULL: no accounturi */
	unsigned n_m;
	bool malformed;
	const char *methods; /* raw list, NULL: no validationmethods */
	const char *labels;  /* what caa_rr_methods_next yields, joined with '|' */
} val_row_t;

/* clang-format off */
#define V(n, in, iss) { n, BYTES(in), CAA_EOK, iss, 0, NULL, 0, false, NULL, "" }
#define VA(n, in, iss, na, a) { n, BYTES(in), CAA_EOK, iss, na, a, 0, false, NULL, "" }
#define VM(n, in, nm, mal, m, l) { n, BYTES(in), CAA_EOK, "ca.example", 0, NULL, nm, mal, m, l }
#define VX(n, in) { n, BYTES(in), CAA_ERR_VALUE, "", 0, NULL, 0, false, NULL, "" }

static const val_row_t val_rows[] = {
	/* accepted issuers */
	V("plain", "ca.example", "ca.example"),
	V("trailing ';' after issuer", "ca.example;", "ca.example"),
	V("spaces around", "  ca.example  ;  a = b ; c=d  ", "ca.example"),
	V("leading WSP", "  ca.example", "ca.example"),
	V("trailing WSP", "ca.example \t ", "ca.example"),
	V("HTAB everywhere", "\tca.example\t;\ta\t=\tb\t;\tc=d\t", "ca.example"),
	V("';' alone", ";", ""),
	V("empty", "", ""),
	V("WSP only", " \t ", ""),
	V("';' in WSP", "  ;  ", ""),
	V("single label", "ca", "ca"),
	V("single char", "a", "a"),
	V("digits", "123.456", "123.456"),
	V("inner hyphens", "my--ca.ex-ample", "my--ca.ex-ample"),
	V("A-label", "xn--bcher-kva.example", "xn--bcher-kva.example"),
	V("case kept", "CA.Example", "CA.Example"),
	V("unknown parameter ignored", "ca.example; foo=bar", "ca.example"),
	V("empty parameter value", "ca.example; a=", "ca.example"),
	V("empty value then more", "ca.example; a= ;b=c", "ca.example"),
	V("'=' inside a value", "ca.example; a==b=c", "ca.example"),
	V("quotes and symbols in value", "ca.example; a=\"x\",{}[]!~", "ca.example"),
	V("hyphenated parameter tag", "ca.example; x-y=1", "ca.example"),
	V("no spaces at all", "ca.example;a=b;c=d", "ca.example"),
	V("WSP before ';'", "ca.example ;a=b", "ca.example"),

	/* accounturi */
	VA("accounturi", "ca.example; accounturi=https://x/1", "ca.example", 1, "https://x/1"),
	VA("empty issuer with params", "; accounturi=x", "", 1, "x"),
	VA("WSP around '='", "ca.example ; accounturi = x", "ca.example", 1, "x"),
	VA("AccountURI case", "ca.example; AccountURI=https://acme/acct/1", "ca.example", 1,
	   "https://acme/acct/1"),
	VA("two accounturi", "ca.example;accounturi=a;accounturi=b", "ca.example", 2, "a"),
	VA("accounturi + AccountUri", "ca.example; accounturi=a; AccountUri=b", "ca.example", 2,
	   "a"),
	VA("empty accounturi", "ca.example; accounturi=", "ca.example", 1, ""),
	VA("accounturi after unknown", "ca.example; x=1; accounturi=u", "ca.example", 1, "u"),
	VA("accounturi-ish tag ignored", "ca.example; accounturis=u", "ca.example", 0, NULL),

	/* validationmethods */
	VM("one method", "ca.example; validationmethods=dns-01", 1, false, "dns-01", "dns-01"),
	VM("ValidationMethods case", "ca.example; ValidationMethods=dns-01", 1, false, "dns-01",
	   "dns-01"),
	VM("two methods", "ca.example; validationmethods=dns-01,http-01", 1, false,
	   "dns-01,http-01", "dns-01|http-01"),
	VM("ca-tbr-7", "ca.example; validationmethods=ca-tbr-7", 1, false, "ca-tbr-7", "ca-tbr-7"),
	VM("label case kept", "ca.example; validationmethods=DNS-01,Http-01", 1, false,
	   "DNS-01,Http-01", "DNS-01|Http-01"),
	VM("empty list is well formed", "ca.example; validationmethods=", 1, false, "", ""),
	VM("empty label", "ca.example; validationmethods=dns-01,,http-01", 1, true,
	   "dns-01,,http-01", "dns-01||http-01"),
	VM("underscore", "ca.example; validationmethods=dns_01", 1, true, "dns_01", "dns_01"),
	VM("leading comma", "ca.example; validationmethods=,dns-01", 1, true, ",dns-01",
	   "|dns-01"),
	VM("trailing comma", "ca.example; validationmethods=dns-01,", 1, true, "dns-01,",
	   "dns-01"),
	VM("comma only", "ca.example; validationmethods=,", 1, true, ",", ""),
	/* RFC 8657 §4 label = 1*(ALPHA / DIGIT / "-"), as Boulder: hyphens anywhere */
	VM("leading hyphen", "ca.example; validationmethods=-dns-01", 1, false, "-dns-01",
	   "-dns-01"),
	VM("trailing hyphen", "ca.example; validationmethods=dns-01-", 1, false, "dns-01-",
	   "dns-01-"),
	VM("unknown label foo-", "ca.example; validationmethods=foo-,dns-01", 1, false,
	   "foo-,dns-01", "foo-|dns-01"),
	VM("hyphens only", "ca.example; validationmethods=--", 1, false, "--", "--"),
	VM("dot in label", "ca.example; validationmethods=dns.01", 1, true, "dns.01", "dns.01"),
	VM("two validationmethods", "ca.example; validationmethods=dns-01; validationmethods=http-01",
	   2, false, "dns-01", "dns-01"),
	VM("second copy malformed",
	   "ca.example; validationmethods=dns-01; validationmethods=x_y", 2, true, "dns-01",
	   "dns-01"),
	{ "methods and accounturi", BYTES(" ca.example ; accounturi=u ; validationmethods=http-01 "),
	  CAA_EOK, "ca.example", 1, "u", 1, false, "http-01", "http-01" },

	/* rejected */
	VX("%%%%%", "%%%%%"),
	VX("trailing dot", "ca.example."),
	VX("leading dot", ".ca.example"),
	VX("empty label", "ca..example"),
	VX("leading hyphen", "-ca.example"),
	VX("label ends in hyphen", "ca-.example"),
	VX("last label ends in hyphen", "ca.example-"),
	VX("underscore", "ca_example"),
	VX("wildcard", "*.ca.example"),
	VX("port", "ca.example:443"),
	VX("path", "ca.example/x"),
	VX("quoted", "\"ca.example\""),
	VX("space inside issuer", "ca example"),
	VX("missing ';'", "ca.example a=b"),
	VX("no tag", "ca.example; =x"),
	VX("no '='", "ca.example; a"),
	VX("no '=' in last", "ca.example;a=b;c"),
	VX("space in value", "ca.example; a=b c"),
	VX("space in tag", "ca.example; a b=c"),
	VX("two params without ';'", "ca.example; a=b c=d"),
	VX("space in methods list", "ca.example; validationmethods=dns-01 ,http-01"),
	VX("';;' after issuer", "ca.example;;"),
	VX("';;' then param", "ca.example;; a=b"),
	VX("';;' after param", "ca.example; a=b;;"),
	VX("';;' between params", "ca.example; a=b;; c=d"),
	/* ABNF: every ';' after a parameter must be followed by another one. */
	VX("trailing ';' after param", "ca.example; a=b;"),
	VX("trailing '; ' after param", "ca.example; a=b; "),
	VX("';;' alone", ";;"),
	VX("'; ;'", "; ;"),
	VX("tag starts with hyphen", "ca.example; -a=b"),
	VX("tag ends with hyphen", "ca.example; a-=b"),
	VX("tag with underscore", "ca.example; _a=b"),
	VX("non-ASCII in issuer", "ca.ex\xc3\xa4mple"),
	VX("non-ASCII in value", "ca.example; a=\xc3\xa4"),
	VX("DEL in value", "ca.example; a=\x7f"),
	VX("NUL after issuer", "ca.example\0"),
	VX("NUL in value", "ca.example; a=b\0c"),
	VX("NUL only", "\0"),
	VX("CR LF is not WSP", "ca.example\r\n"),
	VX("LF is not WSP", "ca.example\n"),
	VX("VT is not WSP", "\vca.example"),
};
/* clang-format on */

static void join_labels(const caa_issue_value_t *v, char *buf, size_t size)
{
	size_t pos = 0, n = 0, guard = 0;
	const char *label;
	size_t len;

	buf[0] = '\0';
	while (caa_rr_methods_next(v, &pos, &label, &len)) {
		assert_true(++guard <= v->methods_len + 1);
		assert_true(label >= v->methods && label + len <= v->methods + v->methods_len);
		int w =
		    snprintf(buf + n, size - n, "%s%.*s", guard > 1 ? "|" : "", (int)len, label);
		assert_true(w >= 0 && (size_t)w < size - n);
		n += (size_t)w;
	}
}

static void assert_view(const char *p, size_t len, const char *want, const val_row_t *r)
{
	if (want == NULL) {
		assert_null(p);
		assert_int_equal(len, 0);
		return;
	}
	assert_non_null(p);
	assert_true(p >= r->in && p + len <= r->in + r->len);
	assert_int_equal(len, strlen(want));
	assert_memory_equal(p, want, len);
}

static void test_value_row(void **state)
{
	const val_row_t *r = *state;
	caa_issue_value_t v;
	char labels[256];
	memset(&v, 0x5a, sizeof(v));

	int ret = caa_rr_issue_value_parse(r->in, r->len, &v);
	assert_int_equal(ret, r->ret);
	if (ret != CAA_EOK) {
		assert_null(v.issuer);
		assert_null(v.accounturi);
		assert_null(v.methods);
		assert_int_equal(v.issuer_len, 0);
		assert_int_equal(v.n_accounturi, 0);
		assert_int_equal(v.accounturi_len, 0);
		assert_int_equal(v.n_methods, 0);
		assert_false(v.methods_malformed);
		assert_int_equal(v.methods_len, 0);
		size_t pos = 0;
		const char *l;
		size_t ll;
		assert_false(caa_rr_methods_next(&v, &pos, &l, &ll));
		return;
	}
	assert_view(v.issuer, v.issuer_len, r->issuer, r);
	assert_int_equal(v.n_accounturi, r->n_acc);
	assert_view(v.accounturi, v.accounturi_len, r->acc, r);
	assert_int_equal(v.n_methods, r->n_m);
	assert_int_equal(v.methods_malformed, r->malformed);
	assert_view(v.methods, v.methods_len, r->methods, r);
	join_labels(&v, labels, sizeof(labels));
	assert_string_equal(labels, r->labels);
}

/* The API edges that are not grammar rows. */
static void test_value_api(void **state)
{
	(void)state;
	caa_issue_value_t v;

	assert_int_equal(caa_rr_issue_value_parse(NULL, 0, &v), CAA_EOK);
	assert_int_equal(v.issuer_len, 0);
	assert_int_equal(caa_rr_issue_value_parse(NULL, 3, &v), CAA_EINVAL);
	assert_null(v.issuer);

	/* the length bounds the parse, not a NUL */
	assert_int_equal(caa_rr_issue_value_parse("ca.example.", 10, &v), CAA_EOK);
	assert_int_equal(v.issuer_len, 10);

	/* an RDATA value parses in place */
	static const uint8_t rd[] = "\x00\x05issueca.example; accounturi=u";
	caa_rr_t rr;
	assert_int_equal(caa_rr_parse(rd, sizeof(rd) - 1, &rr), CAA_EOK);
	assert_int_equal(caa_rr_issue_value_parse(rr.value, rr.value_len, &v), CAA_EOK);
	assert_int_equal(v.issuer_len, 10);
	assert_ptr_equal(v.issuer, (const char *)rd + 7);
	assert_int_equal(v.accounturi_len, 1);
}

static void test_methods_next_api(void **state)
{
	(void)state;
	caa_issue_value_t v = {0};
	size_t pos = 0;
	const char *l = NULL;
	size_t ll = 7;

	/* no list: nothing, outputs untouched */
	assert_false(caa_rr_methods_next(&v, &pos, &l, &ll));
	assert_null(l);
	assert_int_equal(ll, 7);

	/* a position past the end is the end */
	v.methods = "dns-01";
	v.methods_len = 6;
	pos = 99;
	assert_false(caa_rr_methods_next(&v, &pos, &l, &ll));

	/* the list length bounds it, not a NUL or a later comma */
	v.methods = "a,bc,d";
	v.methods_len = 4;
	pos = 0;
	assert_true(caa_rr_methods_next(&v, &pos, &l, &ll));
	assert_int_equal(ll, 1);
	assert_true(caa_rr_methods_next(&v, &pos, &l, &ll));
	assert_int_equal(ll, 2);
	assert_memory_equal(l, "bc", 2);
	assert_false(caa_rr_methods_next(&v, &pos, &l, &ll));
	assert_false(caa_rr_methods_next(&v, &pos, &l, &ll));
}

/* Every octet in every position a class decides, against the ABNF spelled
 * out with comparisons. */
static void test_all_octets(void **state)
{
	(void)state;
	for (int i = 0; i < 256; i++) {
		unsigned char c = (unsigned char)i;
		bool alnum =
		    (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
		bool wsp = c == ' ' || c == '\t';
		bool pvalue = c >= 0x21 && c <= 0x7e && c != ';';
		caa_issue_value_t v;
		caa_rr_t rr;
		char buf[32];

		/* RDATA tag character */
		uint8_t rd[3] = {0, 1, c};
		assert_int_equal(caa_rr_parse(rd, 3, &rr), alnum ? CAA_EOK : CAA_ERR_TAGCHAR);

		/* tag letter folding */
		memcpy(buf, "issu", 4);
		buf[4] = (char)c;
		assert_int_equal(caa_rr_tag(buf, 5),
		                 c == 'e' || c == 'E' ? CAA_TAG_ISSUE : CAA_TAG_UNKNOWN);

		/* the issuer alone: a label, or WSP / ';' around an empty issuer */
		buf[0] = (char)c;
		int ret = caa_rr_issue_value_parse(buf, 1, &v);
		assert_int_equal(ret, alnum || wsp || c == ';' ? CAA_EOK : CAA_ERR_VALUE);
		assert_int_equal(v.issuer_len, alnum ? 1 : 0);

		/* inside an issuer: letters, digits, '-' and '.' */
		memcpy(buf, "aXb", 3);
		buf[1] = (char)c;
		ret = caa_rr_issue_value_parse(buf, 3, &v);
		assert_int_equal(ret, alnum || c == '-' || c == '.' ? CAA_EOK : CAA_ERR_VALUE);
		assert_int_equal(v.issuer_len, ret == CAA_EOK ? 3 : 0);

		/* a parameter value: %x21-3A / %x3C-7E, or trailing WSP */
		memcpy(buf, "a;accounturi=X", 14);
		buf[13] = (char)c;
		ret = caa_rr_issue_value_parse(buf, 14, &v);
		assert_int_equal(ret, pvalue || wsp ? CAA_EOK : CAA_ERR_VALUE);
		assert_int_equal(v.accounturi_len, pvalue ? 1 : 0);

		/* a parameter tag character ("a;a=b=1" is tag a, value "b=1") */
		memcpy(buf, "a;aXb=1", 7);
		buf[3] = (char)c;
		ret = caa_rr_issue_value_parse(buf, 7, &v);
		assert_int_equal(ret, alnum || c == '-' || c == '=' ? CAA_EOK : CAA_ERR_VALUE);
	}
}

#define N(a) (sizeof(a) / sizeof((a)[0]))

/* One cmocka test per row, named "<group>: <row>". */
static struct CMUnitTest row_test(const char *group, const char *name, const void *row,
                                  CMUnitTestFunction fn)
{
	size_t len = strlen(group) + strlen(name) + 3;
	char *full = malloc(len);
	assert_non_null(full);
	snprintf(full, len, "%s: %s", group, name);
	return (struct CMUnitTest){full, fn, NULL, NULL, (void *)row};
}

int main(void)
{
	size_t n = N(rr_rows) + N(tag_rows) + N(val_rows) + 4;
	struct CMUnitTest *tests = calloc(n, sizeof(*tests));
	if (tests == NULL) {
		return 1;
	}
	struct CMUnitTest *t = tests;
	for (size_t i = 0; i < N(rr_rows); i++) {
		*t++ = row_test("rr", rr_rows[i].name, &rr_rows[i], test_rr_row);
	}
	for (size_t i = 0; i < N(tag_rows); i++) {
		*t++ = row_test("tag", tag_rows[i].name, &tag_rows[i], test_tag_row);
	}
	for (size_t i = 0; i < N(val_rows); i++) {
		*t++ = row_test("value", val_rows[i].name, &val_rows[i], test_value_row);
	}
	*t++ = (struct CMUnitTest)cmocka_unit_test(test_rr_sizes);
	*t++ = (struct CMUnitTest)cmocka_unit_test(test_value_api);
	*t++ = (struct CMUnitTest)cmocka_unit_test(test_methods_next_api);
	*t++ = (struct CMUnitTest)cmocka_unit_test(test_all_octets);
	printf("rr rows %zu, tag rows %zu, value rows %zu\n", N(rr_rows), N(tag_rows), N(val_rows));

	int failed = _cmocka_run_group_tests("rr", tests, (size_t)(t - tests), NULL, NULL);
	for (size_t i = 0; i < N(rr_rows) + N(tag_rows) + N(val_rows); i++) {
		free((void *)tests[i].name);
	}
	free(tests);
	return failed;
}
