/*
 * cache.h — the reuse window (CAA.md §7): a permitted result for
 * (identifier, account, method, policy) may be reused for recheck_window
 * without DNS. Forbidden and failed results are never stored.
 *
 * The cache is an interface with backends: "memory" (bounded, LRU eviction,
 * thread-safe) now; another process-shared backend (e.g. Redis) can implement
 * caa_cache_backend_t later without touching callers.
 */
#ifndef CAA_CACHE_H
#define CAA_CACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "result.h"

typedef struct caa_cache caa_cache_t;

/* What identifies a reusable result. account is the account URI, or the
 * decimal Boulder account id when there is no URI. NULLs read as "". */
typedef struct caa_cache_key {
	const char *identifier; /* normalised, "*." kept */
	const char *account;
	const char *method;
	const char *policy;
} caa_cache_key_t;

/* A backend: get/put/free over a 128-bit digest of the key. */
typedef struct caa_cache_backend {
	const char *name;
	/* true, with *at_ms and *reason, when an entry exists (any age) */
	bool (*get)(void *impl, const uint8_t digest[16], int64_t *at_ms, caa_reason_t *reason);
	int (*put)(void *impl, const uint8_t digest[16], int64_t at_ms, caa_reason_t reason);
	size_t (*count)(void *impl);
	void (*free)(void *impl);
	/* remove the entry if there is one (a newer FORBIDDEN result for the key) */
	void (*del)(void *impl, const uint8_t digest[16]);
} caa_cache_backend_t;

/* A stored or validated_at time up to this far in the future (clock skew between
 * the RA and caad) reads as "now"; further in the future is never reused. */
#define CAA_CACHE_SKEW_MS (5 * 60 * 1000)

/* New cache from cfg->cache (backend, max_entries) and cfg->recheck_window_ms.
 * cfg is not kept. CAA_ECONFIG (err names cache.backend or cache.max_entries),
 * CAA_ENOMEM, CAA_EINTERNAL (no randomness for the digest key). */
int caa_cache_new(const caa_config_t *cfg, caa_cache_t **out, char *err, size_t errlen);
void caa_cache_free(caa_cache_t *c);

/* Store a permitted result (others are ignored). Thread-safe. */
int caa_cache_put(caa_cache_t *c, const caa_cache_key_t *k, const caa_result_t *res);

/*
 * Reuse: if req->validated_at_ms is set, it alone decides (inside the window
 * → reuse; outside → no). Otherwise a stored permitted result younger than the
 * window is reused. On reuse returns true and *out is a PERMITTED result with
 * reused = true (reason of the stored result, or AUTHORIZED for validated_at),
 * checked_at = the time reused from. now_ms is the current Unix time in ms.
 */
bool caa_cache_reuse(caa_cache_t *c, const caa_request_t *req, int64_t now_ms,
                     caa_result_t **out);

/* Entries held. */
size_t caa_cache_count(const caa_cache_t *c);

/*
 * Store res under the key derived from req exactly as caa_cache_reuse() derives
 * it (normalised identifier, account_uri or decimal account_id, method, policy),
 * so that callers need not build a caa_cache_key_t. Thread-safe.
 */
int caa_cache_put_request(caa_cache_t *c, const caa_request_t *req, const caa_result_t *res);

/*
 * A cache over any backend: be is borrowed (static), impl is owned (freed with
 * be->free, also when this fails). key is the 16-octet SipHash key of the
 * digests; NULL draws a random one (getrandom). A backend shared by several
 * processes (Redis) needs them all to use the same secret key.
 * window_ms 0 never reuses. Returns CAA_EOK, CAA_EINVAL, CAA_ENOMEM, or
 * CAA_EINTERNAL when no randomness is available.
 */
int caa_cache_new_backend(const caa_cache_backend_t *be, void *impl, uint64_t window_ms,
                          const uint8_t key[16], caa_cache_t **out);

/*
 * The 128-bit digest of k under c's key: SipHash-2-4-128 of
 * identifier \0 account \0 method \0 policy, identifier normalised first.
 * Returns CAA_EOK, CAA_EINVAL, or the CAA_ENAME_* code of a bad identifier.
 */
int caa_cache_digest(const caa_cache_t *c, const caa_cache_key_t *k, uint8_t out[16]);

/* SipHash-2-4 with 128-bit output (Aumasson & Bernstein's reference "siphash"
 * with outlen 16) of len octets at in under a 16-octet key. */
void caa_cache_siphash128(const uint8_t key[16], const void *in, size_t len, uint8_t out[16]);

/*
 * The "memory" backend: at most max_entries (1 .. 2^34 - 1), LRU eviction,
 * 16 lock shards (one shard when max_entries is small, so LRU is exact),
 * 32 octets per entry plus a half-full index table (about 40 per entry).
 * Returns CAA_EOK with *impl for caa_cache_memory_backend, CAA_EINVAL, CAA_ENOMEM.
 */
extern const caa_cache_backend_t caa_cache_memory_backend;
int caa_cache_memory_new(size_t max_entries, void **impl);

/* Octets the memory backend holds on the heap (entries and index tables). */
size_t caa_cache_memory_bytes(void *impl);

#endif
