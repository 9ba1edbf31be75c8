/*
 * siphash.h — SipHash-2-4 (Aumasson & Bernstein), the one keyed hash of
 * libcaa: the reuse cache's digests (128-bit output) and the hash tables
 * over applicant-chosen names (64-bit output). Streaming, no allocation.
 *
 * Why keyed: names and account URIs come from applicants; with an unkeyed
 * hash they can choose inputs that collide (long hash chains on the resolver
 * thread, or one cache key answering for another). Under a random key that
 * never leaves the process, collisions cannot be aimed for.
 */
#ifndef CAA_SIPHASH_H
#define CAA_SIPHASH_H

#include <stddef.h>
#include <stdint.h>

#define CAA_SIPHASH_KEY_LEN 16

typedef struct caa_siphash {
	uint64_t v0, v1, v2, v3;
	uint64_t tail; /* octets not yet absorbed, little-endian */
	size_t len;    /* octets so far */
	unsigned outlen;
} caa_siphash_t;

/* Start a hash with outlen 8 or 16 octets (the reference's two variants). */
void caa_siphash_init(caa_siphash_t *s, const uint8_t key[CAA_SIPHASH_KEY_LEN], unsigned outlen);
void caa_siphash_update(caa_siphash_t *s, const void *in, size_t len);
/* Write outlen octets (little-endian, as the reference) to out. */
void caa_siphash_final(caa_siphash_t *s, uint8_t *out);

/* One-shot forms. */
void caa_siphash128(const uint8_t key[CAA_SIPHASH_KEY_LEN], const void *in, size_t len,
                    uint8_t out[16]);
uint64_t caa_siphash64(const uint8_t key[CAA_SIPHASH_KEY_LEN], const void *in, size_t len);

/* A fresh random key from getrandom(). Returns CAA_EOK or CAA_EINTERNAL. */
int caa_siphash_key(uint8_t key[CAA_SIPHASH_KEY_LEN]);

#endif
