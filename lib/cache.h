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
	/* true and *at_ms/*reason when an entry exists (any age) */
	bool (*get)(void *impl, const uint8_t digest[16], int64_t *at_ms, caa_reason_t *reason);
	int (*put)(void *impl, const uint8_t digest[16], int64_t at_ms, caa_reason_t reason);
	size_t (*count)(void *impl);
	void (*free)(void *impl);
} caa_cache_backend_t;

/* New cache from cfg->cache (backend, max_entries) and cfg->recheck_window_ms. */
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

#endif
