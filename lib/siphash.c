/* siphash.c — SipHash-2-4 with 64- or 128-bit output, streaming. */
#include <errno.h>
#include <sys/random.h>

#include "codes.h"
#include "siphash.h"

#define ROTL(x, b) (uint64_t)(((x) << (b)) | ((x) >> (64 - (b))))

static void sip_round(caa_siphash_t *s)
{
	s->v0 += s->v1;
	s->v1 = ROTL(s->v1, 13);
	s->v1 ^= s->v0;
	s->v0 = ROTL(s->v0, 32);
	s->v2 += s->v3;
	s->v3 = ROTL(s->v3, 16);
	s->v3 ^= s->v2;
	s->v0 += s->v3;
	s->v3 = ROTL(s->v3, 21);
	s->v3 ^= s->v0;
	s->v2 += s->v1;
	s->v1 = ROTL(s->v1, 17);
	s->v1 ^= s->v2;
	s->v2 = ROTL(s->v2, 32);
}

static uint64_t load_le64(const uint8_t *p)
{
	uint64_t v = 0;
	for (int i = 7; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

static void store_le64(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

void caa_siphash_init(caa_siphash_t *s, const uint8_t key[CAA_SIPHASH_KEY_LEN], unsigned outlen)
{
	uint64_t k0 = load_le64(key), k1 = load_le64(key + 8);
	s->outlen = outlen == 16 ? 16 : 8;
	s->v0 = k0 ^ 0x736f6d6570736575ULL;
	s->v1 = k1 ^ 0x646f72616e646f6dULL;
	s->v2 = k0 ^ 0x6c7967656e657261ULL;
	s->v3 = k1 ^ 0x7465646279746573ULL;
	if (s->outlen == 16)
		s->v1 ^= 0xee;
	s->tail = 0;
	s->len = 0;
}

static void sip_block(caa_siphash_t *s, uint64_t m)
{
	s->v3 ^= m;
	sip_round(s);
	sip_round(s);
	s->v0 ^= m;
}

static void absorb_byte(caa_siphash_t *s, uint8_t b)
{
	s->tail |= (uint64_t)b << (8 * (s->len % 8));
	if (++s->len % 8 == 0) {
		sip_block(s, s->tail);
		s->tail = 0;
	}
}

void caa_siphash_update(caa_siphash_t *s, const void *in, size_t len)
{
	const uint8_t *p = in;
	for (; len > 0 && s->len % 8 != 0; len--)
		absorb_byte(s, *p++);
	for (; len >= 8; len -= 8, p += 8) { /* whole blocks */
		sip_block(s, load_le64(p));
		s->len += 8;
	}
	for (; len > 0; len--)
		absorb_byte(s, *p++);
}

void caa_siphash_final(caa_siphash_t *s, uint8_t *out)
{
	sip_block(s, s->tail | (uint64_t)s->len << 56);
	s->v2 ^= s->outlen == 16 ? 0xee : 0xff;
	for (int i = 0; i < 4; i++)
		sip_round(s);
	store_le64(out, s->v0 ^ s->v1 ^ s->v2 ^ s->v3);
	if (s->outlen == 8)
		return;
	s->v1 ^= 0xdd;
	for (int i = 0; i < 4; i++)
		sip_round(s);
	store_le64(out + 8, s->v0 ^ s->v1 ^ s->v2 ^ s->v3);
}

void caa_siphash128(const uint8_t key[CAA_SIPHASH_KEY_LEN], const void *in, size_t len,
                    uint8_t out[16])
{
	caa_siphash_t s;
	caa_siphash_init(&s, key, 16);
	caa_siphash_update(&s, in, len);
	caa_siphash_final(&s, out);
}

uint64_t caa_siphash64(const uint8_t key[CAA_SIPHASH_KEY_LEN], const void *in, size_t len)
{
	caa_siphash_t s;
	uint8_t out[8];
	caa_siphash_init(&s, key, 8);
	caa_siphash_update(&s, in, len);
	caa_siphash_final(&s, out);
	return load_le64(out);
}

int caa_siphash_key(uint8_t key[CAA_SIPHASH_KEY_LEN])
{
	ssize_t got;
	/* 16 octets: one call, blocks only until the kernel pool is seeded */
	do {
		got = getrandom(key, CAA_SIPHASH_KEY_LEN, 0);
	} while (got < 0 && errno == EINTR);
	return got == CAA_SIPHASH_KEY_LEN ? CAA_EOK : CAA_EINTERNAL;
}
