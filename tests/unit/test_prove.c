/*
 * test_prove.c — what one DS answer proves about a failed label's zone
 * (prove.h, docs/semantics.md §6): validated Insecure, a validated NSEC denial of DS at
 * an unsigned delegation, and everything that must not count as proof.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "codes.h"
#include "dnsmsg.h"
#include "prove.h"

typedef struct {
	uint8_t b[512];
	size_t n;
} msg_t;

static void put8(msg_t *m, unsigned v)
{
	assert_true(m->n < sizeof(m->b));
	m->b[m->n++] = (uint8_t)v;
}

static void put16(msg_t *m, unsigned v)
{
	put8(m, v >> 8);
	put8(m, v & 0xff);
}

static void put_name(msg_t *m, const char *name)
{
	while (*name) {
		const char *dot = strchr(name, '.');
		size_t len = dot ? (size_t)(dot - name) : strlen(name);
		put8(m, (unsigned)len);
		for (size_t i = 0; i < len; i++)
			put8(m, (unsigned char)name[i]);
		name += len + (dot != NULL);
	}
	put8(m, 0);
}

/* Header (flags: QR RD RA, rcode; TC when tc) and the question qname DS. */
static void start(msg_t *m, const char *qname, unsigned rcode, unsigned an, unsigned ns, bool tc)
{
	m->n = 0;
	put16(m, 0x1234);
	put8(m, 0x81 | (tc ? 0x02 : 0));
	put8(m, 0x80 | rcode);
	put16(m, 1);
	put16(m, an);
	put16(m, ns);
	put16(m, 0);
	put_name(m, qname);
	put16(m, 43);
	put16(m, 1);
}

/* An RR with owner (NULL: a pointer to the question name at offset 12). */
static size_t rr_head(msg_t *m, const char *owner, unsigned type)
{
	if (owner == NULL) {
		put8(m, 0xc0);
		put8(m, 12);
	} else {
		put_name(m, owner);
	}
	put16(m, type);
	put16(m, 1);
	put16(m, 0);
	put16(m, 300);
	size_t at = m->n;
	put16(m, 0); /* rdlength, set by rr_end */
	return at;
}

static void rr_end(msg_t *m, size_t at)
{
	size_t len = m->n - at - 2;
	m->b[at] = (uint8_t)(len >> 8);
	m->b[at + 1] = (uint8_t)len;
}

/* NSEC at owner: next name, then a window-0 bitmap of the given types (< 256). */
static void put_nsec(msg_t *m, const char *owner, const unsigned *types, size_t nt)
{
	size_t at = rr_head(m, owner, 47);
	put_name(m, "zzz.lab");
	uint8_t bm[32] = {0};
	unsigned hi = 0;
	for (size_t i = 0; i < nt; i++) {
		bm[types[i] / 8] |= (uint8_t)(0x80 >> (types[i] % 8));
		if (types[i] / 8 + 1 > hi)
			hi = types[i] / 8 + 1;
	}
	put8(m, 0);
	put8(m, hi);
	for (unsigned i = 0; i < hi; i++)
		put8(m, bm[i]);
	rr_end(m, at);
}

static caa_prove_step_t ask(const msg_t *m, const char *qname, int sec, bool unsigned_proves)
{
	const char *why = NULL;
	caa_prove_step_t st = caa_prove_ds_answer(qname, 0, m->b, m->n, sec, unsigned_proves, &why);
	assert_non_null(why);
	assert_true(why[0] != '\0');
	return st;
}

static const unsigned NS_ONLY[] = {2, 46, 47};   /* NS RRSIG NSEC: unsigned cut */
static const unsigned NS_DS[] = {2, 43, 46, 47}; /* signed cut */
static const unsigned NS_SOA[] = {2, 6, 46, 47}; /* a zone apex */
static const unsigned A_ONLY[] = {1, 46, 47};    /* a name inside the zone */

static void test_failures_ask_the_parent(void **state)
{
	(void)state;
	msg_t m;
	const char *why;
	/* no packet (libunbound's own SERVFAIL), garbage, SERVFAIL, REFUSED, TC */
	assert_int_equal(caa_prove_ds_answer("a.lab", 2, NULL, 0, 0, true, &why), CAA_PROVE_UP);
	assert_int_equal(caa_prove_ds_answer("a.lab", 0, (const uint8_t *)"xx", 2, 0, true, &why),
	                 CAA_PROVE_UP);
	start(&m, "a.lab", 2, 0, 0, false);
	assert_int_equal(ask(&m, "a.lab", 0, true), CAA_PROVE_UP);
	start(&m, "a.lab", 5, 0, 0, false);
	assert_int_equal(ask(&m, "a.lab", 2, true), CAA_PROVE_UP);
	start(&m, "a.lab", 0, 0, 0, true);
	assert_int_equal(ask(&m, "a.lab", 0, true), CAA_PROVE_UP);
}

static void test_unsigned_answers(void **state)
{
	(void)state;
	msg_t m;
	/* a validated unsigned answer is Insecure: NODATA and NXDOMAIN alike */
	start(&m, "a.lab-insecure", 0, 0, 0, false);
	assert_int_equal(ask(&m, "a.lab-insecure", 0, true), CAA_PROVE_INSECURE);
	start(&m, "a.lab-insecure", 3, 0, 0, false);
	assert_int_equal(ask(&m, "a.lab-insecure", 0, true), CAA_PROVE_INSECURE);
	/* but not without validation (or under domain-insecure) */
	start(&m, "a.lab-insecure", 0, 0, 0, false);
	assert_int_equal(ask(&m, "a.lab-insecure", 0, false), CAA_PROVE_NOT);
	/* bogus never proves anything, and stops the walk */
	assert_int_equal(ask(&m, "a.lab-insecure", 1, true), CAA_PROVE_NOT);
	start(&m, "a.lab-insecure", 2, 0, 0, false);
	assert_int_equal(ask(&m, "a.lab-insecure", 1, true), CAA_PROVE_NOT);
}

static void test_secure_answers(void **state)
{
	(void)state;
	msg_t m;
	/* NSEC at the name: NS without DS and SOA is an unsigned delegation */
	start(&m, "servfail.lab", 0, 0, 1, false);
	put_nsec(&m, "servfail.lab", NS_ONLY, 3);
	assert_int_equal(ask(&m, "servfail.lab", 2, true), CAA_PROVE_INSECURE);
	/* the same with the owner compressed, and in another case */
	start(&m, "servfail.lab", 0, 0, 1, false);
	put_nsec(&m, NULL, NS_ONLY, 3);
	assert_int_equal(ask(&m, "ServFail.LAB", 2, true), CAA_PROVE_INSECURE);
	/* a signed delegation, a zone apex, a name inside the signed zone */
	start(&m, "servfail.lab", 0, 0, 1, false);
	put_nsec(&m, "servfail.lab", NS_DS, 4);
	assert_int_equal(ask(&m, "servfail.lab", 2, true), CAA_PROVE_NOT);
	start(&m, "servfail.lab", 0, 0, 1, false);
	put_nsec(&m, "servfail.lab", NS_SOA, 4);
	assert_int_equal(ask(&m, "servfail.lab", 2, true), CAA_PROVE_NOT);
	start(&m, "www.secure.lab", 0, 0, 1, false);
	put_nsec(&m, "www.secure.lab", A_ONLY, 3);
	assert_int_equal(ask(&m, "www.secure.lab", 2, true), CAA_PROVE_NOT);
	/* an unsigned delegation's NSEC at another name proves nothing here */
	start(&m, "b.lab", 0, 0, 1, false);
	put_nsec(&m, "a.lab", NS_ONLY, 3);
	assert_int_equal(ask(&m, "b.lab", 2, true), CAA_PROVE_NOT);
	start(&m, "x.a.lab", 0, 0, 1, false);
	put_nsec(&m, "a.lab", NS_ONLY, 3);
	assert_int_equal(ask(&m, "x.a.lab", 2, true), CAA_PROVE_NOT);
	/* no denial at all, a Secure NXDOMAIN, a DS in the answer */
	start(&m, "servfail.lab", 0, 0, 0, false);
	assert_int_equal(ask(&m, "servfail.lab", 2, true), CAA_PROVE_NOT);
	start(&m, "servfail.lab", 3, 0, 1, false);
	put_nsec(&m, "servfail.lab", NS_ONLY, 3);
	assert_int_equal(ask(&m, "servfail.lab", 2, true), CAA_PROVE_NOT);
	start(&m, "secure.lab", 0, 1, 0, false);
	size_t at = rr_head(&m, NULL, 43);
	put16(&m, 1234);
	put8(&m, 13);
	put8(&m, 2);
	for (int i = 0; i < 32; i++)
		put8(&m, 0xab);
	rr_end(&m, at);
	assert_int_equal(ask(&m, "secure.lab", 2, true), CAA_PROVE_NOT);
}

/* NSEC RDATA that runs short or is malformed never proves a delegation. */
static void test_malformed_nsec(void **state)
{
	(void)state;
	msg_t m;
	start(&m, "servfail.lab", 0, 0, 1, false);
	put_nsec(&m, "servfail.lab", NS_ONLY, 3);
	size_t full = m.n;
	/* every shorter RDATA: cut the bitmap and the next name from the end */
	for (size_t cut = 1; cut < 12; cut++) {
		msg_t t = m;
		t.n = full - cut;
		size_t rdlen_at = full - (3 + 1 + 1 + 9) - 2; /* bitmap 3+2, next name 9 */
		unsigned len = (unsigned)(t.b[rdlen_at] << 8 | t.b[rdlen_at + 1]);
		t.b[rdlen_at] = (uint8_t)((len - cut) >> 8);
		t.b[rdlen_at + 1] = (uint8_t)(len - cut);
		/* cut inside the next name, the message no longer parses: no answer */
		caa_dns_msg_t pm;
		bool parses = caa_dns_msg_parse(&pm, t.b, t.n, NULL) == CAA_EOK;
		assert_int_equal(ask(&t, "servfail.lab", 2, true),
		                 parses ? CAA_PROVE_NOT : CAA_PROVE_UP);
	}
	/* a compressed next name is not NSEC */
	msg_t t = m;
	size_t next_at = full - (3 + 2) - 9;
	t.b[next_at] = 0xc0;
	t.b[next_at + 1] = 12;
	assert_int_equal(ask(&t, "servfail.lab", 2, true), CAA_PROVE_NOT);
	/* every prefix of the message reads safely */
	for (size_t len = 0; len < full; len++) {
		const char *why;
		(void)caa_prove_ds_answer("servfail.lab", 0, m.b, len, 2, true, &why);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_failures_ask_the_parent),
	    cmocka_unit_test(test_unsigned_answers),
	    cmocka_unit_test(test_secure_answers),
	    cmocka_unit_test(test_malformed_nsec),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
