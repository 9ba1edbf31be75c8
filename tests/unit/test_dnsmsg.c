/* test_dnsmsg.c — the DNS message layer: names, whole messages, sections,
 * iteration, writing; malformed input of every kind, table-driven. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "codes.h"
#include "dnsmsg.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

/* Bytes from "0c 01 'x' ..." style text: hex pairs, 'c' characters, and
 * "L63x" (a 63-octet label of 'x': length octet and content) for long names. */
static size_t bytes(const char *text, uint8_t *out, size_t cap)
{
	size_t n = 0;
	for (const char *s = text; *s != '\0';) {
		unsigned v, len;
		char c;
		int used;
		if (*s == ' ') {
			s++;
		} else if (*s == '\'') {
			assert_true(n < cap);
			out[n++] = (uint8_t)s[1];
			s += 3;
		} else if (sscanf(s, "L%u%c%n", &len, &c, &used) == 2) {
			assert_true(n + 1 + len <= cap);
			out[n++] = (uint8_t)len;
			memset(out + n, c, len);
			n += len;
			s += used;
		} else {
			assert_int_equal(sscanf(s, "%2x", &v), 1);
			assert_true(n < cap);
			out[n++] = (uint8_t)v;
			s += 2;
		}
	}
	return n;
}

/* ---- names in a message ---- */

static const struct {
	const char *what;
	const char *pkt; /* the name is read at offset off */
	size_t off;
	int want;         /* wire length, or CAA_EMSG */
	const char *text; /* presentation form */
	size_t next;
} name_cases[] = {
    {"plain", "01 'x' 07 'e' 'x' 'a' 'm' 'p' 'l' 'e' 00", 0, 11, "x.example", 11},
    {"root", "00", 0, 1, ".", 1},
    {"uppercase is canonicalised", "02 'W' 'w' 00", 0, 4, "ww", 4},
    {"a pointer backwards", "01 'a' 00 01 'b' c0 00", 3, 5, "b.a", 7},
    {"a pointer to a pointer", "01 'a' 00 c0 00 01 'b' c0 03", 5, 5, "b.a", 9},
    {"escapes", "04 '.' 5c 20 ff 00", 0, 6, "\\046\\092\\032\\255", 6},
    {"a pointer to itself", "c0 00", 0, CAA_EMSG, NULL, 0},
    {"a forward pointer", "c0 02 01 'a' 00", 0, CAA_EMSG, NULL, 0},
    {"a pointer into the name itself", "01 'a' c0 00", 0, CAA_EMSG, NULL, 0},
    {"a loop through two pointers", "00 01 'a' c0 05 01 'b' c0 01", 5, CAA_EMSG, NULL, 0},
    {"a pointer beyond the message", "01 'a' c0 40", 0, CAA_EMSG, NULL, 0},
    {"half a pointer", "01 'a' c0", 0, CAA_EMSG, NULL, 0},
    {"label length 64 (type 01)", "40 00", 0, CAA_EMSG, NULL, 0},
    {"label type 10", "80 00", 0, CAA_EMSG, NULL, 0},
    {"a label past the end", "05 'a' 'b' 00", 0, CAA_EMSG, NULL, 0},
    {"no root octet", "01 'a'", 0, CAA_EMSG, NULL, 0},
    {"offset past the end", "00", 1, CAA_EMSG, NULL, 0},
    {"255 octets", "L63a L63b L63c L61d 00", 0, 255, NULL, 255},
    {"256 octets", "L63a L63b L63c L62d 00", 0, CAA_EMSG, NULL, 0},
    {"257 octets through a pointer", "L63a L63b 00 L63c L63d c0 00", 129, CAA_EMSG, NULL, 0},
};

static void test_name_read(void **state)
{
	(void)state;
	for (size_t i = 0; i < N(name_cases); i++) {
		uint8_t pkt[600], wire[CAA_DNS_NAME_MAX];
		char text[CAA_DNS_NAME_STR_MAX];
		size_t len = bytes(name_cases[i].pkt, pkt, sizeof(pkt)), next = 0;
		print_message("name: %s\n", name_cases[i].what);
		int n = caa_dns_name_read(pkt, len, name_cases[i].off, wire, &next);
		assert_int_equal(n, name_cases[i].want);
		assert_int_equal(caa_dns_name_read(pkt, len, name_cases[i].off, NULL, NULL), n);
		if (n < 0)
			continue;
		assert_int_equal(next, name_cases[i].next);
		assert_int_equal(caa_dns_name_len(wire, sizeof(wire)), (size_t)n);
		assert_true(caa_dns_name_str(wire, text, sizeof(text), 0) > 0);
		if (name_cases[i].text != NULL)
			assert_string_equal(text, name_cases[i].text);
		/* presentation form back to the same canonical wire form */
		uint8_t again[CAA_DNS_NAME_MAX];
		assert_int_equal(caa_dns_name_from_str(text, again), n);
		assert_memory_equal(again, wire, (size_t)n);
		assert_true(caa_dns_name_eq(again, wire));
	}
}

static void test_name_raw_keeps_case(void **state)
{
	static const uint8_t pkt[] = {2, 'W', 'w', 0};
	uint8_t raw[CAA_DNS_NAME_MAX], canon[CAA_DNS_NAME_MAX];
	(void)state;
	assert_int_equal(caa_dns_name_read_raw(pkt, sizeof(pkt), 0, raw, NULL), 4);
	assert_memory_equal(raw, pkt, 4);
	assert_int_equal(caa_dns_name_read(pkt, sizeof(pkt), 0, canon, NULL), 4);
	assert_memory_equal(canon, "\x02ww", 4);
	assert_true(caa_dns_name_eq(raw, canon));
}

/* A chain of 128 pointers, each to the one before, ends at the root. */
static void test_name_pointer_hops(void **state)
{
	uint8_t pkt[2 + 2 * 130];
	(void)state;
	pkt[0] = 0;
	for (size_t k = 0; k < 130; k++) {
		size_t at = 1 + 2 * k, to = k == 0 ? 0 : at - 2;
		pkt[at] = (uint8_t)(0xc0 | to >> 8);
		pkt[at + 1] = (uint8_t)to;
	}
	/* CAA_DNS_PTR_MAX (127) pointers are followed, 128 are not */
	assert_int_equal(caa_dns_name_read(pkt, sizeof(pkt), 1 + 2 * 126, NULL, NULL), 1);
	assert_int_equal(caa_dns_name_read(pkt, sizeof(pkt), 1 + 2 * 127, NULL, NULL), CAA_EMSG);
}

static const struct {
	const char *text;
	int want;         /* wire length or CAA_EINVAL */
	const char *back; /* presentation again (NULL: text) */
} str_cases[] = {
    {".", 1, NULL},
    {"", 1, "."},
    {"example.com", 13, NULL},
    {"example.com.", 13, "example.com"},
    {"Example.COM", 13, "example.com"},
    {"a\\.b.c", 7, "a\\046b.c"},
    {"a\\046b.c", 7, NULL},
    {"a\\\\b", 5, "a\\092b"},
    {"a..b", CAA_EINVAL, NULL},
    {".a", CAA_EINVAL, NULL},
    {"a..", CAA_EINVAL, NULL},
    {"a\\256", CAA_EINVAL, NULL},
    {"a\\", CAA_EINVAL, NULL},
    {"a\\25", CAA_EINVAL, NULL},
};

static void test_name_from_str(void **state)
{
	(void)state;
	for (size_t i = 0; i < N(str_cases); i++) {
		uint8_t wire[CAA_DNS_NAME_MAX];
		char text[CAA_DNS_NAME_STR_MAX];
		print_message("from_str: \"%s\"\n", str_cases[i].text);
		int n = caa_dns_name_from_str(str_cases[i].text, wire);
		assert_int_equal(n, str_cases[i].want);
		if (n < 0)
			continue;
		const char *back = str_cases[i].back ? str_cases[i].back : str_cases[i].text;
		assert_int_equal(caa_dns_name_str(wire, text, sizeof(text), 0), (int)strlen(back));
		assert_string_equal(text, back);
	}
	/* label and name lengths at and beyond the limits */
	char big[400];
	uint8_t wire[CAA_DNS_NAME_MAX];
	memset(big, 'a', 63);
	big[63] = '\0';
	assert_int_equal(caa_dns_name_from_str(big, wire), 65);
	big[63] = 'a';
	big[64] = '\0';
	assert_int_equal(caa_dns_name_from_str(big, wire), CAA_EINVAL);
	/* 127 one-octet labels: 254 octets + root = 255; one more label: 257 */
	for (size_t k = 0; k < 128; k++) {
		big[2 * k] = 'a';
		big[2 * k + 1] = '.';
	}
	big[2 * 127 - 1] = '\0';
	assert_int_equal(caa_dns_name_from_str(big, wire), 255);
	big[2 * 127 - 1] = '.';
	big[2 * 128 - 1] = '\0';
	assert_int_equal(caa_dns_name_from_str(big, wire), CAA_EINVAL);
}

static void test_name_str_limits(void **state)
{
	uint8_t wire[CAA_DNS_NAME_MAX];
	char text[CAA_DNS_NAME_STR_MAX];
	(void)state;
	assert_int_equal(caa_dns_name_from_str("ab.c", wire), 6);
	assert_int_equal(caa_dns_name_str(wire, text, sizeof(text), CAA_DNS_STR_ABSOLUTE), 5);
	assert_string_equal(text, "ab.c.");
	assert_int_equal(caa_dns_name_str(wire, text, 5, 0), 4);
	assert_int_equal(caa_dns_name_str(wire, text, 4, 0), CAA_ELIMIT);
	assert_int_equal(caa_dns_name_str(wire, text, 5, CAA_DNS_STR_ABSOLUTE), CAA_ELIMIT);
	/* the longest presentation form fits CAA_DNS_NAME_STR_MAX */
	uint8_t worst[CAA_DNS_NAME_MAX];
	worst[0] = 63;
	memset(worst + 1, 0xff, 63);
	memcpy(worst + 64, worst, 64);
	memcpy(worst + 128, worst, 64);
	worst[192] = 61;
	memset(worst + 193, 0xff, 61);
	worst[254] = 0;
	assert_int_equal(caa_dns_name_str(worst, text, sizeof(text), CAA_DNS_STR_ABSOLUTE),
	                 4 * 250 + 4);
	/* not a wire name */
	static const uint8_t bad[] = {0x40, 0};
	assert_int_equal(caa_dns_name_str(bad, text, sizeof(text), 0), CAA_EMSG);
	assert_int_equal(caa_dns_name_len(bad, sizeof(bad)), 0);
}

static void test_str_is_sub(void **state)
{
	(void)state;
	assert_true(caa_dns_str_is_sub("a.b.lab", "b.lab"));
	assert_true(caa_dns_str_is_sub("b.lab", "b.lab"));
	assert_true(caa_dns_str_is_sub("b.lab.", "."));
	assert_true(caa_dns_str_is_sub("x.b.lab.", "b.lab."));
	assert_false(caa_dns_str_is_sub("ab.lab", "b.lab"));
	assert_false(caa_dns_str_is_sub("lab", "b.lab"));
	/* an escaped dot is no label boundary */
	assert_false(caa_dns_str_is_sub("a\\046b.lab", "b.lab"));
}

/* ---- whole messages ---- */

/* x.example. CAA? → CNAME y.example., CAA 0 issue "ca", CAA 128 tbs "";
 * authority: example. SOA (rdata abbreviated) */
/* clang-format off */
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
/* clang-format on */

static void test_sections(void **state)
{
	caa_dns_msg_t m;
	caa_dns_iter_t it;
	caa_dns_rr_t rr;
	uint8_t name[CAA_DNS_NAME_MAX];
	char text[CAA_DNS_NAME_STR_MAX];
	(void)state;
	assert_int_equal(caa_dns_msg_parse(&m, answer, sizeof(answer), NULL), CAA_EOK);
	assert_int_equal(m.hdr.id, 0x1234);
	assert_true(m.hdr.qr && m.hdr.aa);
	assert_false(m.hdr.tc || m.hdr.rd || m.hdr.ra || m.hdr.ad || m.hdr.cd);
	assert_int_equal(m.rcode, 0);
	assert_int_equal(m.qtype, CAA_DNS_T_CAA);
	assert_int_equal(m.qclass, CAA_DNS_C_IN);
	assert_int_equal(m.sec[4], sizeof(answer));
	assert_false(m.edns);

	static const struct {
		caa_dns_section_t s;
		uint16_t type;
		const char *owner;
	} want[] = {{CAA_DNS_ANSWER, CAA_DNS_T_CNAME, "x.example"},
	            {CAA_DNS_ANSWER, CAA_DNS_T_CAA, "y.example"},
	            {CAA_DNS_ANSWER, CAA_DNS_T_CAA, "y.example"},
	            {CAA_DNS_AUTHORITY, CAA_DNS_T_SOA, "example"}};
	size_t k = 0;
	for (int s = CAA_DNS_QUESTION; s <= CAA_DNS_ADDITIONAL; s++) {
		caa_dns_iter_init(&it, &m, (caa_dns_section_t)s);
		while (caa_dns_iter_next(&it, &rr)) {
			if (s == CAA_DNS_QUESTION) {
				assert_int_equal(rr.type, CAA_DNS_T_CAA);
				assert_null(rr.rdata);
				continue;
			}
			assert_true(k < N(want));
			assert_int_equal(rr.section, want[k].s);
			assert_int_equal(rr.type, want[k].type);
			assert_true(caa_dns_rr_owner(&m, &rr, name) > 0);
			assert_int_equal(caa_dns_name_str(name, text, sizeof(text), 0) > 0, 1);
			assert_string_equal(text, want[k].owner);
			k++;
		}
	}
	assert_int_equal(k, N(want));

	/* the CNAME's target, compressed inside its RDATA */
	caa_dns_iter_init(&it, &m, CAA_DNS_ANSWER);
	assert_true(caa_dns_iter_next(&it, &rr));
	size_t next;
	assert_int_equal(caa_dns_rr_name(&m, &rr, 0, name, &next), 11);
	assert_int_equal(next, rr.rdlen);
	assert_int_equal(caa_dns_rr_name(&m, &rr, rr.rdlen, name, NULL), CAA_EMSG);

	/* a name that starts in its RDATA but runs past it */
	uint8_t pkt[64];
	size_t len = bytes("0000 8000 0000 0001 0000 0000 00 0005 0001 00000000 0002 01 'y' 00",
	                   pkt, sizeof(pkt));
	assert_int_equal(caa_dns_msg_parse(&m, pkt, len, NULL), CAA_EOK);
	caa_dns_iter_init(&it, &m, CAA_DNS_ANSWER);
	assert_true(caa_dns_iter_next(&it, &rr));
	assert_int_equal(caa_dns_rr_name(&m, &rr, 0, name, NULL), CAA_EMSG);
}

static const struct {
	const char *what;
	const char *pkt;
	int want;
	const char *why; /* a part of the reason */
} msg_cases[] = {
    {"a header", "0000 8000 0000 0000 0000 0000", CAA_EOK, NULL},
    {"11 octets", "0000 8000 0000 0000 0000 00", CAA_EMSG, "header"},
    {"NXDOMAIN", "0000 8183 0000 0000 0000 0000", CAA_EOK, NULL},
    {"trailing octets are ignored", "0000 8000 0000 0000 0000 0000 ffff", CAA_EOK, NULL},
    {"a question count beyond the message", "0000 8000 0002 0000 0000 0000 00 0001 0001", CAA_EMSG,
     "question"},
    {"a question without type and class", "0000 8000 0001 0000 0000 0000 00 0001", CAA_EMSG,
     "question"},
    {"an answer count beyond the message",
     "0000 8000 0000 0003 0000 0000 00 0001 0001 00000000 0000", CAA_EMSG, "record"},
    {"an authority count beyond the message", "0000 8000 0000 0000 0001 0000", CAA_EMSG, "record"},
    {"an additional count beyond the message",
     "0000 8000 0000 0000 0000 0002 00 0001 0001 00000000 0000", CAA_EMSG, "record"},
    {"RDLENGTH beyond the end", "0000 8000 0000 0001 0000 0000 00 0001 0001 00000000 0005 01020304",
     CAA_EMSG, "past the end"},
    {"RDLENGTH to the end", "0000 8000 0000 0001 0000 0000 00 0001 0001 00000000 0004 01020304",
     CAA_EOK, NULL},
    {"fixed fields cut short", "0000 8000 0000 0001 0000 0000 00 0001 0001 0000", CAA_EMSG,
     "record"},
    {"an owner pointer loop", "0000 8000 0000 0001 0000 0000 c00c 0001 0001 00000000 0000",
     CAA_EMSG, "record"},
    {"a forward owner pointer", "0000 8000 0000 0001 0000 0000 c00e 0001 0001 00000000 0000",
     CAA_EMSG, "record"},
    {"a label over 63 in the question", "0000 8000 0001 0000 0000 0000 41 00 0001 0001", CAA_EMSG,
     "question"},
    {"OPT", "0000 8000 0000 0000 0000 0001 00 0029 04d0 01008000 0000", CAA_EOK, NULL},
    {"two OPT records",
     "0000 8000 0000 0000 0000 0002 00 0029 04d0 00000000 0000 00 0029 04d0 00000000 0000",
     CAA_EMSG, "two OPT"},
    {"OPT in the answer section", "0000 8000 0000 0001 0000 0000 00 0029 04d0 00000000 0000",
     CAA_EMSG, "OPT"},
    {"OPT not at the root", "0000 8000 0000 0000 0000 0001 01 'a' 00 0029 04d0 00000000 0000",
     CAA_EMSG, "OPT"},
};

static void test_msg_parse(void **state)
{
	(void)state;
	for (size_t i = 0; i < N(msg_cases); i++) {
		uint8_t pkt[512];
		caa_dns_msg_t m;
		const char *why = "unset";
		size_t len = bytes(msg_cases[i].pkt, pkt, sizeof(pkt));
		print_message("message: %s\n", msg_cases[i].what);
		assert_int_equal(caa_dns_msg_parse(&m, pkt, len, &why), msg_cases[i].want);
		if (msg_cases[i].want == CAA_EOK) {
			assert_null(why);
			assert_true(m.sec[4] <= len);
		} else {
			assert_non_null(why);
			assert_non_null(strstr(why, msg_cases[i].why));
		}
	}
	assert_int_equal(caa_dns_msg_parse(&(caa_dns_msg_t){0}, NULL, 0, NULL), CAA_EMSG);
}

static void test_edns_rcode(void **state)
{
	uint8_t pkt[64];
	caa_dns_msg_t m;
	char buf[CAA_DNS_MNEMONIC_MAX];
	(void)state;
	/* header rcode 0, OPT extended rcode 1: BADVERS (16); DO set; version 1 */
	size_t len =
	    bytes("0000 8000 0000 0000 0000 0001 00 0029 04d0 01018000 0000", pkt, sizeof(pkt));
	assert_int_equal(caa_dns_msg_parse(&m, pkt, len, NULL), CAA_EOK);
	assert_true(m.edns && m.edns_do);
	assert_int_equal(m.edns_udp, 1232);
	assert_int_equal(m.edns_version, 1);
	assert_int_equal(m.rcode, CAA_DNS_R_BADVERS);
	assert_string_equal(caa_dns_rcode_str(m.rcode, buf), "BADVERS");
	assert_string_equal(caa_dns_rcode_str(3, buf), "NXDOMAIN");
	assert_string_equal(caa_dns_rcode_str(23, buf), "RCODE23");
	assert_string_equal(caa_dns_type_str(257, buf), "CAA");
	assert_string_equal(caa_dns_type_str(65280, buf), "TYPE65280");
}

/* Every prefix of a message parses or is refused, and what it yields stays
 * inside it. */
static void test_truncated_everywhere(void **state)
{
	(void)state;
	for (size_t len = 0; len < sizeof(answer); len++) {
		uint8_t copy[sizeof(answer)];
		caa_dns_msg_t m;
		memcpy(copy, answer, len);
		assert_int_equal(caa_dns_msg_parse(&m, copy, len, NULL), CAA_EMSG);
	}
}

/* ---- writing ---- */

static void test_query_write(void **state)
{
	uint8_t q[512], name[CAA_DNS_NAME_MAX], got[CAA_DNS_NAME_MAX];
	caa_dns_msg_t m;
	(void)state;
	assert_int_equal(caa_dns_name_from_str("www.Example.com", name), 17);
	int n = caa_dns_query_write(q, sizeof(q), 0xbeef, name, CAA_DNS_T_CAA, CAA_DNS_C_IN, false,
	                            CAA_DNS_EDNS_UDP);
	assert_int_equal(n, 12 + 17 + 4 + 11);
	assert_int_equal(caa_dns_msg_parse(&m, q, (size_t)n, NULL), CAA_EOK);
	assert_int_equal(m.hdr.id, 0xbeef);
	assert_false(m.hdr.qr || m.hdr.rd);
	assert_int_equal(m.hdr.count[CAA_DNS_QUESTION], 1);
	assert_int_equal(m.hdr.count[CAA_DNS_ADDITIONAL], 1);
	assert_true(m.edns && !m.edns_do);
	assert_int_equal(m.edns_udp, CAA_DNS_EDNS_UDP);
	assert_int_equal(caa_dns_name_read(q, (size_t)n, m.qname, got, NULL), 17);
	assert_true(caa_dns_name_eq(got, name));
	/* without EDNS, with RD; too small a buffer; not a name */
	n = caa_dns_query_write(q, sizeof(q), 1, name, CAA_DNS_T_NS, CAA_DNS_C_IN, true, 0);
	assert_int_equal(n, 12 + 17 + 4);
	assert_int_equal(q[2], 0x01);
	assert_int_equal(caa_dns_query_write(q, 12 + 17 + 3, 1, name, 1, 1, false, 0), CAA_ELIMIT);
	assert_int_equal(caa_dns_query_write(q, 11, 1, name, 1, 1, false, 0), CAA_ELIMIT);
	static const uint8_t bad[] = {0x41, 0};
	assert_int_equal(caa_dns_query_write(q, sizeof(q), 1, bad, 1, 1, false, 0), CAA_EINVAL);
}

static void test_writer(void **state)
{
	uint8_t buf[100], owner[CAA_DNS_NAME_MAX];
	caa_dns_wr_t w;
	caa_dns_msg_t m;
	caa_dns_hdr_t h = {.id = 7, .qr = true, .aa = true, .rcode = CAA_DNS_R_NXDOMAIN};
	(void)state;
	assert_int_equal(caa_dns_name_from_str("a.lab", owner), 7);
	caa_dns_wr_init(&w, buf, sizeof(buf), &h);
	assert_int_equal(caa_dns_wr_question(&w, owner, CAA_DNS_T_CAA, CAA_DNS_C_IN), CAA_EOK);
	assert_int_equal(caa_dns_wr_rr(&w, CAA_DNS_AUTHORITY, owner, CAA_DNS_T_SOA, CAA_DNS_C_IN,
	                               60, (const uint8_t *)"\0\0", 2),
	                 CAA_EOK);
	/* sections only go forward; no question after records */
	assert_int_equal(caa_dns_wr_rr(&w, CAA_DNS_ANSWER, owner, 1, 1, 0, NULL, 0), CAA_EINVAL);
	assert_int_equal(caa_dns_wr_question(&w, owner, 1, 1), CAA_EINVAL);
	assert_int_equal(caa_dns_wr_opt(&w, 1232, 0, true), CAA_EOK);
	/* a record that does not fit is dropped, and so is every later one */
	uint8_t big[60] = {0};
	assert_int_equal(caa_dns_wr_rr(&w, CAA_DNS_ADDITIONAL, owner, 1, 1, 0, big, sizeof(big)),
	                 CAA_ELIMIT);
	assert_true(w.overflow);
	assert_int_equal(caa_dns_wr_rr(&w, CAA_DNS_ADDITIONAL, owner, 1, 1, 0, NULL, 0),
	                 CAA_ELIMIT);
	size_t len = caa_dns_wr_finish(&w);
	assert_int_equal(len, 12 + 7 + 4 + 7 + 10 + 2 + 11);
	assert_int_equal(caa_dns_msg_parse(&m, buf, len, NULL), CAA_EOK);
	assert_int_equal(m.rcode, CAA_DNS_R_NXDOMAIN);
	assert_int_equal(m.hdr.count[CAA_DNS_AUTHORITY], 1);
	assert_int_equal(m.hdr.count[CAA_DNS_ADDITIONAL], 1);
	assert_true(m.edns && m.edns_do && m.hdr.aa && !m.hdr.tc);

	/* truncation keeps the question, drops the records, sets TC */
	caa_dns_wr_truncate(&w);
	assert_int_equal(caa_dns_wr_opt(&w, 1232, 0, false), CAA_EOK);
	len = caa_dns_wr_finish(&w);
	assert_int_equal(caa_dns_msg_parse(&m, buf, len, NULL), CAA_EOK);
	assert_true(m.hdr.tc);
	assert_int_equal(m.hdr.count[CAA_DNS_QUESTION], 1);
	assert_int_equal(m.hdr.count[CAA_DNS_AUTHORITY], 0);
	assert_int_equal(m.hdr.count[CAA_DNS_ADDITIONAL], 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_name_read),         cmocka_unit_test(test_name_raw_keeps_case),
	    cmocka_unit_test(test_name_pointer_hops), cmocka_unit_test(test_name_from_str),
	    cmocka_unit_test(test_name_str_limits),   cmocka_unit_test(test_str_is_sub),
	    cmocka_unit_test(test_sections),          cmocka_unit_test(test_msg_parse),
	    cmocka_unit_test(test_edns_rcode),        cmocka_unit_test(test_truncated_everywhere),
	    cmocka_unit_test(test_query_write),       cmocka_unit_test(test_writer),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
