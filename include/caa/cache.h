/*
 * cache.h — the reuse window (docs/semantics.md §7): a permitted result for
 * (identifier, account, method, policy, configuration) may be reused for
 * recheck_window without DNS. Forbidden and failed results are never reused:
 * they are kept as refusals, so that a permission checked before them and
 * finishing after them is not reused either.
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
#include "export.h"

typedef struct caa_cache caa_cache_t;

/*
 * What identifies a reusable result: the request as the decision used it.
 * The account is keyed in the forms the request carried, each in its own
 * namespace: a URI, a Boulder account id, or both (a permission matched
 * through either of two forms is none for one of them alone). NULLs read as "".
 */
typedef struct caa_cache_key {
	const char *identifier;  /* normalised, "*." kept */
	const char *account_uri; /* NULL or "" = none */
	int64_t account_id;      /* Boulder accountURIID; <= 0 = none (as the decision reads it) */
	const char *method;
	const char *policy;
} caa_cache_key_t;

/* Times a backend holds: Unix ms from 0 to 2^53 - 1 (exact in a double, as
 * Lua numbers are; about the year 287 000). */
#define CAA_CACHE_AT_MAX ((INT64_C(1) << 53) - 1)

/*
 * What a backend holds for one key: the newest DNS answer for it. A refusal
 * (FORBIDDEN, a lookup failure, or a permission not worth reusing) is a
 * tombstone: it is never reused, and it beats any permission checked before
 * it, whenever that one finishes.
 */
/* Octets of what a permission reuses (caa_cache_entry_t.meta). */
#define CAA_CACHE_META_MAX 176

typedef struct caa_cache_entry {
	int64_t at_ms;       /* the answer's checked_at, 0 .. CAA_CACHE_AT_MAX */
	caa_reason_t reason; /* of a permission: AUTHORIZED, NO_CAA or NO_RESTRICTING_PROPERTY */
	bool refused;        /* the answer earned no permission */
	/* What a permission reuses, for the reused result: the DNSSEC state, the
	 * relevant domain and the deciding record, encoded by cache.c
	 * (docs/reuse-window.md, "What a reused result says"). Backends keep
	 * meta[0..meta_len) as it is; 0 for a refusal. */
	uint8_t meta_len;
	char meta[CAA_CACHE_META_MAX];
} caa_cache_entry_t;

/* The order every backend keeps: a is newer than b when it was checked later,
 * or at the same time and a refuses while b permits (a refusal wins a tie). */
CAA_EXPORT bool caa_cache_entry_newer(const caa_cache_entry_t *a, const caa_cache_entry_t *b);

/*
 * A backend maps 128-bit digests of keys (caa_cache_digest) to entries.
 *
 * put offers an entry: it replaces the one held unless that one is newer
 * (caa_cache_entry_newer), and the compare and the store are one atomic step
 * (completions of one key arrive in parallel and in any order). get returns
 * what is held, at any age: the window is decided in cache.c, for every
 * backend alike.
 *
 * A backend may forget entries (a bound, LRU eviction, expiry) under one
 * rule: it must never afterwards accept a permission that a forgotten refusal
 * would have beaten. Forgetting permissions is always safe (a miss checks
 * DNS). A refusal may be forgotten once at_ms + the window has passed (what
 * it beats is outside the window by then), so an expiry that long is safe;
 * a refusal evicted earlier, or replaced by a newer permission (which may
 * itself be evicted), must leave a floor behind: the memory backend
 * keeps, per shard, the newest refusal it forgot and stores no permission
 * checked at or before it. A put that cannot store a refusal must do the same.
 */
/* An error line from a backend (rate-limited by it): its name, what failed,
 * its errors so far, and how many errors since the last line went unlogged. */
typedef void (*caa_cache_log_fn)(void *arg, const char *backend, const char *error, uint64_t errors,
                                 uint64_t unlogged);

typedef struct caa_cache_backend {
	const char *name;
	/* true with *out when an entry is held for digest (any age) */
	bool (*get)(void *impl, const uint8_t digest[16], caa_cache_entry_t *out);
	/* offer e (see above); CAA_EOK also when e is older and dropped, CAA_EINVAL
	 * for a time outside 0 .. CAA_CACHE_AT_MAX, CAA_ENOMEM */
	int (*put)(void *impl, const uint8_t digest[16], const caa_cache_entry_t *e);
	/* entries held, refusals included */
	size_t (*count)(void *impl);
	void (*free)(void *impl);
	/* optional (NULL): calls that failed, timed out or read garbage so far */
	uint64_t (*errors)(void *impl);
	/* optional (NULL): where the backend reports errors */
	void (*set_log)(void *impl, caa_cache_log_fn fn, void *arg);
} caa_cache_backend_t;

/* A stored or validated_at time up to this far in the future (clock skew between
 * the RA and caad) reads as "now"; further in the future is never reused. */
#define CAA_CACHE_SKEW_MS (5 * 60 * 1000)

/* New cache from cfg->cache (backend, max_entries) and cfg->recheck_window_ms,
 * keyed under cfg's generation (caa_config_generation). cfg is not kept.
 * CAA_ECONFIG (err names cache.backend or cache.max_entries), CAA_ENOMEM,
 * CAA_EINTERNAL (no randomness for the digest key). */
CAA_EXPORT int caa_cache_new(const caa_config_t *cfg, caa_cache_t **out, char *err, size_t errlen);
CAA_EXPORT void caa_cache_free(caa_cache_t *c);

/*
 * Record a DNS result for the key. Thread-safe. A PERMITTED result with reason
 * AUTHORIZED, NO_CAA or NO_RESTRICTING_PROPERTY is stored for reuse under its
 * checked_at (CAA_EINVAL without one); any other result from DNS (FORBIDDEN,
 * LOOKUP_FAILED, another PERMITTED) is stored as a refusal under its
 * checked_at (without one: as checked now). Whichever was checked last wins
 * (checked_at is the wall clock: a clock stepped back by d lets a permission
 * checked up to d before a refusal win). Reused and NOT_APPLICABLE results
 * are ignored.
 */
CAA_EXPORT int caa_cache_put(caa_cache_t *c, const caa_cache_key_t *k, const caa_result_t *res);

/*
 * Reuse: if req->validated_at_ms is set, it alone decides (inside the window
 * → reuse; outside → no). Otherwise a stored permitted result younger than the
 * window is reused, unless a refusal checked at the same time or later has
 * been recorded for the key. On reuse returns true and *out is a PERMITTED result with
 * reused = true (reason of the stored result, or AUTHORIZED for validated_at),
 * checked_at = the time reused from. now_ms is the current Unix time in ms.
 */
CAA_EXPORT bool caa_cache_reuse(caa_cache_t *c, const caa_request_t *req, int64_t now_ms,
                                caa_result_t **out);

/* Entries held. */
CAA_EXPORT size_t caa_cache_count(const caa_cache_t *c);

/* The backend's name ("memory", "redis") and its errors so far (0 for a
 * backend that cannot fail). */
CAA_EXPORT const char *caa_cache_backend_name(const caa_cache_t *c);
CAA_EXPORT uint64_t caa_cache_errors(const caa_cache_t *c);

/* Send the backend's error lines to fn (rate-limited by the backend; none
 * before this is called). Call before the cache is shared between threads. */
CAA_EXPORT void caa_cache_set_log(caa_cache_t *c, caa_cache_log_fn fn, void *arg);

/* The config generation c keys its entries under (caa_config_generation of
 * the config it was made with), for logs: replicas sharing entries must show
 * the same. */
CAA_EXPORT const uint8_t *caa_cache_generation(const caa_cache_t *c);

/*
 * caa_cache_put() under the key derived from req exactly as caa_cache_reuse()
 * derives it (identifier, account_uri and account_id, method, policy), so that
 * callers need not build a caa_cache_key_t. Thread-safe.
 */
CAA_EXPORT int caa_cache_put_request(caa_cache_t *c, const caa_request_t *req,
                                     const caa_result_t *res);

/*
 * A cache over any backend, for the decisions of cfg: the window is
 * cfg->recheck_window_ms (0 never reuses) and every digest carries cfg's
 * generation, so a permission decided under one configuration (issuers,
 * prefixes, method labels, profile contents, DNS settings) is never reused
 * under another: after a reload, or by another replica sharing the backend.
 * cfg is not kept. be is borrowed (static), impl is owned (freed with
 * be->free, also when this fails). key is the 16-octet SipHash key of the
 * digests; NULL draws a random one (getrandom). A backend shared by several
 * processes (Redis) needs them all to use the same secret key. Returns
 * CAA_EOK, CAA_EINVAL, CAA_ENOMEM, or CAA_EINTERNAL when no randomness or
 * hash is available.
 */
CAA_EXPORT int caa_cache_new_backend(const caa_cache_backend_t *be, void *impl,
                                     const caa_config_t *cfg, const uint8_t key[16],
                                     caa_cache_t **out);

/*
 * The 128-bit digest of k under c's key: SipHash-2-4-128 of
 *   generation identifier \0 ["uri:" account_uri] \0 ["id:" account_id] \0 method \0 policy
 * (the 32-octet config generation, then NUL-separated fields; C strings hold
 * no NUL, so distinct keys are distinct inputs), identifier normalised first,
 * the account id in decimal, absent forms empty.
 * Returns CAA_EOK, CAA_EINVAL, or the CAA_ENAME_* code of a bad identifier.
 */
CAA_EXPORT int caa_cache_digest(const caa_cache_t *c, const caa_cache_key_t *k, uint8_t out[16]);

/* SipHash-2-4 with 128-bit output (Aumasson & Bernstein's reference "siphash"
 * with outlen 16) of len octets at in under a 16-octet key. */
CAA_EXPORT void caa_cache_siphash128(const uint8_t key[16], const void *in, size_t len,
                                     uint8_t out[16]);

/*
 * The "memory" backend: at most max_entries (1 .. 2^34 - 1), LRU eviction,
 * 16 lock shards (one shard when max_entries is small, so LRU is exact),
 * 32 octets per entry plus a half-full index table (about 40 per entry).
 * Refusals are entries like permissions; an evicted refusal leaves its time
 * as the shard's floor (see caa_cache_backend_t).
 * Returns CAA_EOK with *impl for caa_cache_memory_backend, CAA_EINVAL, CAA_ENOMEM.
 */
CAA_EXPORT extern const caa_cache_backend_t caa_cache_memory_backend;
CAA_EXPORT int caa_cache_memory_new(size_t max_entries, void **impl);

/*
 * The "redis" backend (docs/reuse-window.md, "The Redis backend"): entries in
 * a Redis shared by the replicas of cfg's perspective, from cfg->cache.redis
 * (address, key_file, password_file, key_prefix, timeout, db) and
 * cfg->perspective.name; keys are key_prefix perspective ":" hex digest, with
 * a TTL of the window plus CAA_CACHE_SKEW_MS. Writes the digest key derived
 * from key_file into key (pass it to caa_cache_new_backend). Does not connect:
 * an unreachable Redis is a miss, not an error. CAA_EOK with *impl for
 * caa_cache_redis_backend, CAA_ECONFIG (err names the key), CAA_ENOMEM,
 * CAA_EINTERNAL.
 */
CAA_EXPORT extern const caa_cache_backend_t caa_cache_redis_backend;
CAA_EXPORT int caa_cache_redis_new(const caa_config_t *cfg, void **impl, uint8_t key[16], char *err,
                                   size_t errlen);

/* Octets the memory backend holds on the heap (entries and index tables). */
CAA_EXPORT size_t caa_cache_memory_bytes(void *impl);

#endif
