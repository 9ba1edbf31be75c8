/*
 * fuzz_dnsmsg.c — every reader of the DNS message layer (lib/dnsmsg.h) over
 * arbitrary bytes: the header, names at every offset, the whole-message
 * parse, iteration over every section, names inside RDATA, CAA RDATA through
 * caa_rr_parse. Invariants (any break aborts):
 *   - nothing reads outside the input (ASan), a reader either succeeds or
 *     fails the same way twice;
 *   - a name read has 1..255 octets, is a valid wire name, ends inside the
 *     input, and its presentation form reads back to the same canonical name;
 *   - a parsed message yields exactly its header's counts, records inside
 *     the message, in order, each section starting where the last ended;
 *   - a parsed message written again with the writer (names uncompressed)
 *     parses again to the same records.
 * Seed corpus: tests/fuzz/corpus/dnsmsg, real replies from the lab
 * (tests/fuzz/capture_dnsmsg.py).
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "codes.h"
#include "dnsmsg.h"
#include "rr.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(c)                                                                                   \
	do {                                                                                       \
		if (!(c)) {                                                                        \
			abort();                                                                   \
		}                                                                                  \
	} while (0)

#define NAME_OFFSETS 64 /* names at the first offsets too (the parse reads the others) */

static uint8_t out[65535];

/* A name read at off: its invariants; returns its length or CAA_EMSG. */
static int check_name(const uint8_t *data, size_t size, size_t off, uint8_t name[CAA_DNS_NAME_MAX])
{
	uint8_t raw[CAA_DNS_NAME_MAX], again[CAA_DNS_NAME_MAX];
	char text[CAA_DNS_NAME_STR_MAX];
	size_t next = 0, next2 = 0;
	int n = caa_dns_name_read(data, size, off, name, &next);
	CHECK(caa_dns_name_read(data, size, off, NULL, &next2) == n);
	CHECK(caa_dns_name_read_raw(data, size, off, raw, NULL) == n);
	if (n < 0) {
		CHECK(n == CAA_EMSG);
		return n;
	}
	CHECK(n >= 1 && n <= CAA_DNS_NAME_MAX);
	CHECK(next == next2 && next > off && next <= size);
	CHECK(caa_dns_name_len(name, CAA_DNS_NAME_MAX) == (size_t)n);
	CHECK(caa_dns_name_eq(name, raw));
	int tl = caa_dns_name_str(name, text, sizeof(text), 0);
	CHECK(tl > 0 && (size_t)tl == strlen(text));
	CHECK(caa_dns_name_from_str(text, again) == n);
	CHECK(memcmp(again, name, (size_t)n) == 0);
	CHECK(caa_dns_str_is_sub(text, "."));
	return n;
}

static void check_caa(const caa_dns_rr_t *rr)
{
	caa_rr_t a, b;
	int rc = caa_rr_parse(rr->rdata, rr->rdlen, &a);
	CHECK(caa_rr_parse(rr->rdata, rr->rdlen, &b) == rc);
	CHECK(a.malformed == (rc != CAA_EOK));
	if (rc == CAA_EOK)
		CHECK((const uint8_t *)a.value + a.value_len == rr->rdata + rr->rdlen);
}

/* Names in RDATA: the first name of every type that starts with one. */
static void check_rdata_name(const caa_dns_msg_t *m, const caa_dns_rr_t *rr)
{
	uint8_t name[CAA_DNS_NAME_MAX];
	size_t next = 0;
	int n = caa_dns_rr_name(m, rr, 0, name, &next);
	if (n < 0)
		return;
	CHECK(n <= CAA_DNS_NAME_MAX && next >= 1 && next <= rr->rdlen);
	CHECK(caa_dns_name_len(name, CAA_DNS_NAME_MAX) == (size_t)n);
}

/* Write m again (owners uncompressed, RDATA as is) and read it back. */
static void check_rewrite(const caa_dns_msg_t *m)
{
	caa_dns_wr_t w;
	caa_dns_msg_t m2;
	caa_dns_iter_t it, it2;
	caa_dns_rr_t rr, rr2;
	uint8_t name[CAA_DNS_NAME_MAX], name2[CAA_DNS_NAME_MAX];
	caa_dns_wr_init(&w, out, sizeof(out), &m->hdr);
	for (int s = CAA_DNS_QUESTION; s <= CAA_DNS_ADDITIONAL; s++) {
		caa_dns_iter_init(&it, m, (caa_dns_section_t)s);
		while (caa_dns_iter_next(&it, &rr)) {
			CHECK(caa_dns_rr_owner(m, &rr, name) > 0);
			int rc = s == CAA_DNS_QUESTION
			             ? caa_dns_wr_question(&w, name, rr.type, rr.rclass)
			             : caa_dns_wr_rr(&w, (caa_dns_section_t)s, name, rr.type,
			                             rr.rclass, rr.ttl, rr.rdata, rr.rdlen);
			CHECK(rc == CAA_EOK || (rc == CAA_ELIMIT && w.overflow));
		}
	}
	size_t len = caa_dns_wr_finish(&w);
	CHECK(len <= sizeof(out));
	if (w.overflow)
		return; /* decompressed, it no longer fits 64 KiB */
	/* A second OPT or a misplaced one was refused by the first parse. */
	CHECK(caa_dns_msg_parse(&m2, out, len, NULL) == CAA_EOK);
	CHECK(m2.rcode == m->rcode && m2.edns == m->edns && m2.edns_udp == m->edns_udp);
	CHECK(m2.hdr.id == m->hdr.id && m2.hdr.tc == m->hdr.tc && m2.hdr.aa == m->hdr.aa);
	CHECK(m2.hdr.rd == m->hdr.rd && m2.hdr.cd == m->hdr.cd && m2.hdr.opcode == m->hdr.opcode);
	for (int s = CAA_DNS_QUESTION; s <= CAA_DNS_ADDITIONAL; s++) {
		CHECK(m2.hdr.count[s] == m->hdr.count[s]);
		caa_dns_iter_init(&it, m, (caa_dns_section_t)s);
		caa_dns_iter_init(&it2, &m2, (caa_dns_section_t)s);
		while (caa_dns_iter_next(&it, &rr)) {
			CHECK(caa_dns_iter_next(&it2, &rr2));
			CHECK(rr.type == rr2.type && rr.rclass == rr2.rclass && rr.ttl == rr2.ttl);
			CHECK(rr.rdlen == rr2.rdlen);
			CHECK(rr.rdlen == 0 || memcmp(rr.rdata, rr2.rdata, rr.rdlen) == 0);
			CHECK(caa_dns_rr_owner(m, &rr, name) > 0 &&
			      caa_dns_rr_owner(&m2, &rr2, name2) > 0);
			CHECK(caa_dns_name_eq(name, name2));
		}
		CHECK(!caa_dns_iter_next(&it2, &rr2));
	}
}

static void check_msg(const uint8_t *data, size_t size)
{
	caa_dns_msg_t m, again;
	caa_dns_iter_t it;
	caa_dns_rr_t rr;
	const char *why = NULL;
	uint8_t name[CAA_DNS_NAME_MAX];
	int rc = caa_dns_msg_parse(&m, data, size, &why);
	CHECK(caa_dns_msg_parse(&again, data, size, NULL) == rc);
	if (rc != CAA_EOK) {
		CHECK(rc == CAA_EMSG && why != NULL);
		return;
	}
	CHECK(why == NULL);
	CHECK(m.rcode >> 4 == 0 || m.edns);
	CHECK((m.rcode & 0xf) == m.hdr.rcode);
	size_t pos = CAA_DNS_HDR_LEN;
	for (int s = CAA_DNS_QUESTION; s <= CAA_DNS_ADDITIONAL; s++) {
		unsigned n = 0;
		CHECK(m.sec[s] == pos);
		caa_dns_iter_init(&it, &m, (caa_dns_section_t)s);
		while (caa_dns_iter_next(&it, &rr)) {
			size_t next;
			CHECK(rr.section == (caa_dns_section_t)s);
			CHECK(rr.owner == pos);
			int nl = check_name(data, size, rr.owner, name);
			CHECK(nl > 0 && caa_dns_rr_owner(&m, &rr, name) == nl);
			CHECK(caa_dns_name_read(data, size, rr.owner, NULL, &next) == nl);
			if (s == CAA_DNS_QUESTION) {
				CHECK(rr.rdata == NULL && rr.rdlen == 0);
				if (n == 0)
					CHECK(m.qname == rr.owner && m.qtype == rr.type &&
					      m.qclass == rr.rclass);
				pos = next + 4;
			} else {
				CHECK(rr.rdoff == next + 10 && rr.rdata == data + rr.rdoff);
				CHECK(rr.rdoff + rr.rdlen <= size);
				if (rr.type == CAA_DNS_T_CAA)
					check_caa(&rr);
				check_rdata_name(&m, &rr);
				CHECK(rr.type != CAA_DNS_T_OPT ||
				      (s == CAA_DNS_ADDITIONAL && nl == 1 && m.edns));
				pos = rr.rdoff + rr.rdlen;
			}
			n++;
		}
		CHECK(n == m.hdr.count[s]);
	}
	CHECK(m.sec[4] == pos && pos <= size);
	check_rewrite(&m);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	caa_dns_hdr_t h;
	uint8_t name[CAA_DNS_NAME_MAX];
	int rc = caa_dns_hdr_read(data, size, &h);
	CHECK(rc == (size >= CAA_DNS_HDR_LEN ? CAA_EOK : CAA_EMSG));
	if (rc == CAA_EOK) {
		uint8_t back[CAA_DNS_HDR_LEN];
		caa_dns_hdr_write(&h, back);
		/* every bit but Z (0x40 of the fourth octet) survives */
		CHECK(memcmp(back, data, 3) == 0 && back[3] == (data[3] & 0xbf));
		CHECK(memcmp(back + 4, data + 4, 8) == 0);
	}
	for (size_t off = 0; off < size && off < NAME_OFFSETS; off++)
		if (check_name(data, size, off, name) > 0) {
			/* a query for it reads back */
			caa_dns_msg_t q;
			uint8_t got[CAA_DNS_NAME_MAX];
			int ql = caa_dns_query_write(out, sizeof(out), 1, name, CAA_DNS_T_CAA,
			                             CAA_DNS_C_IN, false, CAA_DNS_EDNS_UDP);
			CHECK(ql > 0);
			CHECK(caa_dns_msg_parse(&q, out, (size_t)ql, NULL) == CAA_EOK);
			CHECK(caa_dns_name_read(out, (size_t)ql, q.qname, got, NULL) > 0);
			CHECK(caa_dns_name_eq(got, name));
		}
	check_msg(data, size);
	return 0;
}
