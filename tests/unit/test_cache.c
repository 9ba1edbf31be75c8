/*
 * test_cache.c — the reuse window (docs/semantics.md §7): both edges of the window to the
 * millisecond, for validated_at and for stored results; what is never stored;
 * key separation; the digest against the SipHash reference vectors; LRU order
 * and eviction; the memory backend against a reference model; eight threads on
 * overlapping keys; and memory per entry at 1M entries (printed).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <malloc.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <cmocka.h>

#include "cache.h"
#include "codes.h"
#include "config.h"

#define NOW  INT64_C(1763900000000) /* 2025-11-23, Unix ms */
#define W    (INT64_C(7) * 3600 * 1000)
#define SKEW ((int64_t)CAA_CACHE_SKEW_MS)
#define ACCT "https://ca.example/acme/acct/1"

#if defined(__SANITIZE_ADDRESS__)
#define SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SANITIZED 1
#endif
#endif

static caa_cache_t *new_cache(size_t max_entries, uint64_t window_ms)
{
	caa_config_t *cfg;
	caa_cache_t *c;
	char err[200];

	assert_int_equal(caa_config_default(&cfg), CAA_EOK);
	cfg->cache.max_entries = max_entries;
	cfg->recheck_window_ms = window_ms;
	assert_int_equal(caa_cache_new(cfg, &c, err, sizeof(err)), CAA_EOK);
	caa_config_free(cfg); /* the cache keeps nothing of it */
	return c;
}

static caa_request_t req_of(const char *ident, const char *acct, const char *method,
                            const char *policy, int64_t validated_at)
{
	caa_request_t r = {.identifier = ident,
	                   .account_uri = acct,
	                   .method = method,
	                   .policy = policy,
	                   .validated_at_ms = validated_at};
	return r;
}

static caa_result_t result_of(caa_verdict_t v, caa_reason_t reason, int64_t at, bool reused)
{
	caa_result_t r = {.verdict = v,
	                  .reason = reason,
	                  .checked_at_ms = at,
	                  .reused = reused,
	                  .decided_by = -1};
	return r;
}

/* Reuse req at now: true/false, and the result freed after its fields are checked. */
static bool reuse_at(caa_cache_t *c, const caa_request_t *req, int64_t now, int64_t *at,
                     caa_reason_t *reason)
{
	caa_result_t *res = (caa_result_t *)1;
	bool ok = caa_cache_reuse(c, req, now, &res);
	if (!ok) {
		assert_null(res);
		return false;
	}
	assert_non_null(res);
	assert_int_equal(res->verdict, CAA_PERMITTED);
	assert_true(res->reused);
	assert_int_equal(res->dnssec, CAA_DNSSEC_INDETERMINATE);
	assert_null(res->problem);
	assert_string_equal(res->relevant_domain, "");
	assert_int_equal(res->n_records, 0);
	assert_int_equal(res->decided_by, -1);
	assert_int_equal(res->queries, 0);
	assert_int_equal(res->n_trace, 0);
	assert_string_equal(res->policy, req->policy ? req->policy : "");
	if (at != NULL)
		*at = res->checked_at_ms;
	if (reason != NULL)
		*reason = res->reason;
	caa_result_free(res);
	return true;
}

/* --- the digest -------------------------------------------------------------------------- */

static void hex16(const char *hex, uint8_t out[16])
{
	for (int i = 0; i < 16; i++) {
		unsigned b;
		assert_int_equal(sscanf(hex + 2 * i, "%2x", &b), 1);
		out[i] = (uint8_t)b;
	}
}

/* veorq/SipHash vectors.h, vectors_sip128: key 00..0f, message 00..len-1. */
static void test_siphash_vectors(void **state)
{
	/* clang-format off */
	static const struct {
		size_t len;
		const char *hex;
	} v[] = {
		{0, "a3817f04ba25a8e66df67214c7550293"},  {1, "da87c1d86b99af44347659119b22fc45"},
		{7, "a1f1ebbed8dbc153c0b84aa61ff08239"},  {8, "3b62a9ba6258f5610f83e264f31497b4"},
		{9, "264499060ad9baabc47f8b02bb6d71ed"},  {15, "5493e99933b0a8117e08ec0f97cfc3d9"},
		{16, "6ee2a4ca67b054bbfd3315bf85230577"}, {63, "5150d1772f50834a503e069a973fbd7c"},
	};
	/* clang-format on */
	uint8_t key[16], msg[64], want[16], got[16];
	(void)state;
	for (int i = 0; i < 16; i++)
		key[i] = (uint8_t)i;
	for (int i = 0; i < 64; i++)
		msg[i] = (uint8_t)i;
	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		hex16(v[i].hex, want);
		caa_cache_siphash128(key, msg, v[i].len, got);
		assert_memory_equal(got, want, 16);
	}
}

/* The key digest is SipHash-128 of the config generation, then identifier \0
 * uri:U \0 id:N \0 method \0 policy, identifier normalised, absent parts "". */
static void test_digest_layout(void **state)
{
	static const uint8_t key[17] = "0123456789abcdef"; /* 16 used */
	static const char tail[] = "*.example.com\0uri:" ACCT "\0id:7\0dns-01\0strict";
	static const char empty_tail[] = "example.com\0\0\0\0";
	caa_cache_key_t k = {"*.Example.COM.", ACCT, 7, "dns-01", "strict"};
	caa_cache_key_t empty = {"example.com", NULL, 0, NULL, NULL};
	uint8_t flat[CAA_CONFIG_GENERATION_LEN + sizeof(tail)], want[16], got[16];
	caa_config_t *cfg;
	void *impl;
	caa_cache_t *c;
	(void)state;

	assert_int_equal(caa_config_default(&cfg), CAA_EOK);
	assert_int_equal(caa_config_generation(cfg, flat), CAA_EOK);
	assert_int_equal(caa_cache_memory_new(10, &impl), CAA_EOK);
	assert_int_equal(caa_cache_new_backend(&caa_cache_memory_backend, impl, cfg, key, &c),
	                 CAA_EOK);
	memcpy(flat + CAA_CONFIG_GENERATION_LEN, tail, sizeof(tail) - 1);
	caa_cache_siphash128(key, flat, CAA_CONFIG_GENERATION_LEN + sizeof(tail) - 1, want);
	assert_int_equal(caa_cache_digest(c, &k, got), CAA_EOK);
	assert_memory_equal(got, want, 16);

	memcpy(flat + CAA_CONFIG_GENERATION_LEN, empty_tail, sizeof(empty_tail) - 1);
	caa_cache_siphash128(key, flat, CAA_CONFIG_GENERATION_LEN + sizeof(empty_tail) - 1, want);
	assert_int_equal(caa_cache_digest(c, &empty, got), CAA_EOK);
	assert_memory_equal(got, want, 16);
	k.account_id = -7; /* the decision reads it as none */
	k.account_uri = "";
	k.method = NULL;
	k.policy = "";
	k.identifier = "example.com";
	assert_int_equal(caa_cache_digest(c, &k, got), CAA_EOK);
	assert_memory_equal(got, want, 16);

	k.identifier = "exa mple.com";
	assert_int_equal(caa_cache_digest(c, &k, got), CAA_ENAME_CHAR);
	caa_cache_free(c);
	caa_config_free(cfg);
}

/* Two caches draw different keys: digests are not predictable across processes. */
static void test_random_key(void **state)
{
	caa_cache_t *a = new_cache(10, W), *b = new_cache(10, W);
	caa_cache_key_t k = {"example.com", ACCT, 0, "dns-01", ""};
	uint8_t da[16], db[16];
	(void)state;
	assert_int_equal(caa_cache_digest(a, &k, da), CAA_EOK);
	assert_int_equal(caa_cache_digest(b, &k, db), CAA_EOK);
	assert_memory_not_equal(da, db, 16);
	caa_cache_free(a);
	caa_cache_free(b);
}

/* --- the window -------------------------------------------------------------------------- */

typedef struct {
	const char *what;
	int64_t age; /* now - time reused from */
	bool reuse;
} edge_t;

/* clang-format off */
static const edge_t edges[] = {
	{"just checked", 0, true},
	{"1 ms old", 1, true},
	{"window - 1 ms", W - 1, true},
	{"exactly the window: recheck", W, false},
	{"window + 1 ms", W + 1, false},
	{"a day old", 24 * 3600 * 1000, false},
	{"1 ms in the future", -1, true},
	{"skew in the future", -SKEW, true},
	{"skew + 1 ms in the future", -SKEW - 1, false},
	{"a year in the future", -INT64_C(365) * 24 * 3600 * 1000, false},
};
/* clang-format on */
#define N_EDGES (sizeof(edges) / sizeof(edges[0]))

static void test_validated_at_edges(void **state)
{
	caa_cache_t *c = new_cache(100, W);
	(void)state;
	for (size_t i = 0; i < N_EDGES; i++) {
		caa_request_t r =
		    req_of("*.WWW.Example.com.", ACCT, "dns-01", "strict", NOW - edges[i].age);
		caa_result_t *res = NULL;
		bool ok = caa_cache_reuse(c, &r, NOW, &res);
		print_message("validated_at %-28s → %s\n", edges[i].what, ok ? "reuse" : "recheck");
		assert_int_equal(ok, edges[i].reuse);
		if (!ok)
			continue;
		assert_int_equal(res->reason, CAA_R_AUTHORIZED);
		assert_int_equal(res->checked_at_ms, NOW - edges[i].age);
		assert_string_equal(res->identifier, "*.www.example.com");
		assert_string_equal(res->policy, "strict");
		caa_result_free(res);
		assert_true(reuse_at(c, &r, NOW, NULL, NULL));
	}
	assert_int_equal(caa_cache_count(c), 0); /* validated_at stores nothing */
	caa_cache_free(c);
}

static void test_stored_edges(void **state)
{
	caa_cache_t *c = new_cache(100, W);
	caa_request_t r = req_of("www.example.com", ACCT, "dns-01", NULL, 0);
	caa_result_t res = result_of(CAA_PERMITTED, CAA_R_NO_CAA, NOW, false);
	(void)state;

	assert_int_equal(caa_cache_put_request(c, &r, &res), CAA_EOK);
	assert_int_equal(caa_cache_count(c), 1);
	for (size_t i = 0; i < N_EDGES; i++) {
		int64_t at = 0;
		caa_reason_t reason = 0;
		bool ok = reuse_at(c, &r, NOW + edges[i].age, &at, &reason);
		print_message("stored %-28s → %s\n", edges[i].what, ok ? "reuse" : "recheck");
		assert_int_equal(ok, edges[i].reuse);
		if (ok) {
			assert_int_equal(at, NOW);
			assert_int_equal(reason, CAA_R_NO_CAA);
		}
	}
	caa_cache_free(c);
}

/* validated_at decides alone: a fresh stored entry does not rescue an old
 * validation, and none is needed for a recent one. */
static void test_validated_at_alone(void **state)
{
	caa_cache_t *c = new_cache(100, W);
	caa_request_t r = req_of("example.com", ACCT, "dns-01", "", 0);
	caa_result_t res = result_of(CAA_PERMITTED, CAA_R_NO_RESTRICTING_PROPERTY, NOW, false);
	int64_t at;
	(void)state;

	assert_int_equal(caa_cache_put_request(c, &r, &res), CAA_EOK);
	r.validated_at_ms = NOW - W;
	assert_false(reuse_at(c, &r, NOW, NULL, NULL));
	r.validated_at_ms = -1; /* nonsense: recheck */
	assert_false(reuse_at(c, &r, NOW, NULL, NULL));
	r.validated_at_ms = 0;
	assert_true(reuse_at(c, &r, NOW, &at, NULL));
	assert_int_equal(at, NOW);
	r.identifier = "other.example";
	r.validated_at_ms = NOW - 5;
	assert_true(reuse_at(c, &r, NOW, &at, NULL));
	assert_int_equal(at, NOW - 5);
	caa_cache_free(c);
}

static void test_window_zero(void **state)
{
	caa_cache_t *c = new_cache(100, 0);
	caa_request_t r = req_of("example.com", ACCT, "dns-01", "", 0);
	caa_result_t res = result_of(CAA_PERMITTED, CAA_R_AUTHORIZED, NOW, false);
	(void)state;
	assert_int_equal(caa_cache_put_request(c, &r, &res), CAA_EOK);
	assert_false(reuse_at(c, &r, NOW, NULL, NULL));
	r.validated_at_ms = NOW;
	assert_false(reuse_at(c, &r, NOW, NULL, NULL));
	r.validated_at_ms = NOW + 1;
	assert_false(reuse_at(c, &r, NOW, NULL, NULL));
	caa_cache_free(c);
}

/* --- what is stored ---------------------------------------------------------------------- */

/* Only a permission from DNS with a storable reason is ever reused. The other
 * answers from DNS are kept as refusals; reused and NOT_APPLICABLE results
 * leave nothing. */
static void test_never_reused(void **state)
{
	/* clang-format off */
	static const struct {
		const char *what;
		caa_verdict_t verdict;
		caa_reason_t reason;
		bool reused;
		size_t kept;
	} rows[] = {
		{"forbidden", CAA_FORBIDDEN, CAA_R_NOT_AUTHORIZED, false, 1},
		{"forbidden, critical tag", CAA_FORBIDDEN, CAA_R_CRITICAL_TAG, false, 1},
		{"lookup failed", CAA_LOOKUP_FAILED, CAA_R_DNS_SERVFAIL, false, 1},
		{"lookup failed, bogus", CAA_LOOKUP_FAILED, CAA_R_DNSSEC_BOGUS, false, 1},
		{"internal error", CAA_LOOKUP_FAILED, CAA_R_INTERNAL, false, 1},
		{"permitted with a failure reason", CAA_PERMITTED, CAA_R_DNS_TIMEOUT, false, 1},
		{"not applicable (IP, .onion)", CAA_PERMITTED, CAA_R_NOT_APPLICABLE, false, 0},
		{"reused authorized", CAA_PERMITTED, CAA_R_AUTHORIZED, true, 0},
		{"reused no CAA", CAA_PERMITTED, CAA_R_NO_CAA, true, 0},
	};
	/* clang-format on */
	caa_request_t r = req_of("example.com", ACCT, "dns-01", "", 0);
	caa_cache_key_t k = {"example.com", ACCT, 0, "dns-01", ""};
	(void)state;

	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		caa_cache_t *c = new_cache(100, W);
		caa_result_t res = result_of(rows[i].verdict, rows[i].reason, NOW, rows[i].reused);
		print_message("never reused: %s\n", rows[i].what);
		assert_int_equal(caa_cache_put_request(c, &r, &res), CAA_EOK);
		assert_int_equal(caa_cache_put(c, &k, &res), CAA_EOK);
		assert_int_equal(caa_cache_count(c), rows[i].kept);
		assert_false(reuse_at(c, &r, NOW + 1, NULL, NULL));
		caa_cache_free(c);
	}
}

/* Storing a reused result again would restart its window each time it is
 * reused: permission for ever from one DNS check. */
static void test_reused_not_restored(void **state)
{
	caa_cache_t *c = new_cache(100, W);
	caa_request_t r = req_of("example.com", ACCT, "dns-01", "", 0);
	caa_result_t first = result_of(CAA_PERMITTED, CAA_R_AUTHORIZED, NOW, false);
	caa_result_t *again = NULL;
	(void)state;

	assert_int_equal(caa_cache_put_request(c, &r, &first), CAA_EOK);
	assert_true(caa_cache_reuse(c, &r, NOW + W - 1, &again));
	assert_int_equal(again->checked_at_ms, NOW);
	/* a careless caller stamps it with the time it answered, then stores it */
	again->checked_at_ms = NOW + W - 1;
	assert_int_equal(caa_cache_put_request(c, &r, again), CAA_EOK);
	caa_result_free(again);
	assert_false(reuse_at(c, &r, NOW + W, NULL, NULL));

	/* a fresh DNS check does move the window */
	first.checked_at_ms = NOW + W - 1;
	assert_int_equal(caa_cache_put_request(c, &r, &first), CAA_EOK);
	assert_true(reuse_at(c, &r, NOW + W, NULL, NULL));
	/* ... but an older one finishing late does not move it back */
	first.checked_at_ms = NOW;
	assert_int_equal(caa_cache_put_request(c, &r, &first), CAA_EOK);
	assert_true(reuse_at(c, &r, NOW + W, NULL, NULL));
	caa_cache_free(c);
}

/* A newer FORBIDDEN or failure for the key ends the reuse of its permission,
 * and stays as a refusal. */
static void test_forbidden_drops(void **state)
{
	caa_request_t r = req_of("example.com", ACCT, "dns-01", "", 0);
	caa_result_t ok = result_of(CAA_PERMITTED, CAA_R_AUTHORIZED, NOW, false);
	caa_result_t fail = result_of(CAA_LOOKUP_FAILED, CAA_R_DNS_SERVFAIL, NOW + 1, false);
	caa_result_t no = result_of(CAA_FORBIDDEN, CAA_R_NOT_AUTHORIZED, NOW + 2, false);
	(void)state;

	for (int i = 0; i < 2; i++) {
		caa_cache_t *c = new_cache(100, W);
		assert_int_equal(caa_cache_put_request(c, &r, &ok), CAA_EOK);
		assert_true(reuse_at(c, &r, NOW + 3, NULL, NULL));
		assert_int_equal(caa_cache_put_request(c, &r, i == 0 ? &no : &fail), CAA_EOK);
		assert_int_equal(caa_cache_count(c), 1);
		assert_false(reuse_at(c, &r, NOW + 3, NULL, NULL));
		caa_cache_free(c);
	}
}

/*
 * Completions arrive out of order (the workers run in parallel): the newest
 * checked_at decides, whether it permitted or not. A permission checked
 * before a refusal and stored after it must never be reused; one checked
 * after it may be.
 */
static void test_newest_wins(void **state)
{
	caa_cache_t *c = new_cache(100, W);
	caa_request_t r = req_of("example.com", ACCT, "dns-01", "", 0);
	caa_result_t ok = result_of(CAA_PERMITTED, CAA_R_AUTHORIZED, NOW, false);
	caa_result_t no = result_of(CAA_FORBIDDEN, CAA_R_NOT_AUTHORIZED, NOW + 10, false);
	int64_t at;
	(void)state;

	assert_int_equal(caa_cache_put_request(c, &r, &ok), CAA_EOK);
	assert_int_equal(caa_cache_put_request(c, &r, &no), CAA_EOK);
	ok.checked_at_ms = NOW + 5; /* checked before the refusal, finished after it */
	assert_int_equal(caa_cache_put_request(c, &r, &ok), CAA_EOK);
	assert_false(reuse_at(c, &r, NOW + 20, NULL, NULL));
	ok.checked_at_ms = NOW + 10; /* the same time: the refusal wins */
	assert_int_equal(caa_cache_put_request(c, &r, &ok), CAA_EOK);
	assert_false(reuse_at(c, &r, NOW + 20, NULL, NULL));

	ok.checked_at_ms = NOW + 11; /* checked after it: reusable */
	assert_int_equal(caa_cache_put_request(c, &r, &ok), CAA_EOK);
	assert_true(reuse_at(c, &r, NOW + 20, &at, NULL));
	assert_int_equal(at, NOW + 11);
	no.checked_at_ms = NOW + 8; /* an older refusal finishing late changes nothing */
	assert_int_equal(caa_cache_put_request(c, &r, &no), CAA_EOK);
	assert_true(reuse_at(c, &r, NOW + 20, &at, NULL));
	assert_int_equal(at, NOW + 11);

	/* a newer failure is no permission either: the newest check did not earn one */
	caa_result_t fail = result_of(CAA_LOOKUP_FAILED, CAA_R_DNS_SERVFAIL, NOW + 12, false);
	assert_int_equal(caa_cache_put_request(c, &r, &fail), CAA_EOK);
	assert_false(reuse_at(c, &r, NOW + 20, NULL, NULL));
	ok.checked_at_ms = NOW + 11;
	assert_int_equal(caa_cache_put_request(c, &r, &ok), CAA_EOK);
	assert_false(reuse_at(c, &r, NOW + 20, NULL, NULL));
	caa_cache_free(c);
}

/*
 * Threads race permissions, refusals and reuses on one key. A refusal at F is
 * published (last_forbid) only after its put returned; a reader that has seen
 * it must never be handed a permission checked at or before F. Permitters put
 * stale permissions (checked before the last refusal, finishing late) and
 * fresh ones. After each refusal the forbidder waits until a permission has
 * been put and a reuse has started after it, so every round interleaves
 * (no timing involved). noise > 0 adds threads filling a small cache with
 * other keys, so that the refusals themselves are evicted.
 */
#define RACE_ROUNDS 2000

typedef struct {
	caa_cache_t *c;
	_Atomic int64_t last_forbid; /* checked_at of the newest refusal stored */
	atomic_bool stop;
	atomic_ulong permits, attempts, reuses, stale;
} race_t;

static caa_request_t race_req(void)
{
	return req_of("race.example", ACCT, "dns-01", "", 0);
}

static void wait_past(atomic_ulong *counter, unsigned long n)
{
	while (atomic_load(counter) < n)
		sched_yield();
}

static void *race_forbid(void *arg)
{
	race_t *rc = arg;
	caa_request_t r = race_req();
	for (int64_t i = 1; i <= RACE_ROUNDS; i++) {
		caa_result_t no =
		    result_of(CAA_FORBIDDEN, CAA_R_NOT_AUTHORIZED, NOW + 4 * i, false);
		if (caa_cache_put_request(rc->c, &r, &no) != CAA_EOK)
			break;
		atomic_store(&rc->last_forbid, NOW + 4 * i);
		/* a permission put after this refusal, then a reuse begun after that
		 * (two readers: the third completion began after we looked) */
		wait_past(&rc->permits, atomic_load(&rc->permits) + 1);
		wait_past(&rc->attempts, atomic_load(&rc->attempts) + 3);
	}
	atomic_store(&rc->stop, true);
	return NULL;
}

static void *race_permit(void *arg)
{
	race_t *rc = arg;
	caa_request_t r = race_req();
	for (unsigned i = 0; !atomic_load(&rc->stop); i++) {
		int64_t lf = atomic_load(&rc->last_forbid);
		/* stale: checked before the newest refusal; fresh: after it */
		int64_t at = i % 4 == 3 ? lf + 1 + i % 3 : (lf > NOW ? lf - (int64_t)(i % 5) : NOW);
		caa_result_t ok = result_of(CAA_PERMITTED, CAA_R_AUTHORIZED, at, false);
		if (caa_cache_put_request(rc->c, &r, &ok) != CAA_EOK)
			return "permit failed";
		atomic_fetch_add(&rc->permits, 1);
		sched_yield();
	}
	return NULL;
}

static void *race_reuse(void *arg)
{
	race_t *rc = arg;
	caa_request_t r = race_req();
	while (!atomic_load(&rc->stop)) {
		int64_t lf = atomic_load(&rc->last_forbid);
		caa_result_t *res = NULL;
		if (caa_cache_reuse(rc->c, &r, NOW + 4 * RACE_ROUNDS + 10, &res)) {
			atomic_fetch_add(&rc->reuses, 1);
			if (res->checked_at_ms <= lf)
				atomic_fetch_add(&rc->stale, 1);
			caa_result_free(res);
		}
		atomic_fetch_add(&rc->attempts, 1);
		sched_yield();
	}
	return NULL;
}

static void *race_noise(void *arg)
{
	race_t *rc = arg;
	char name[32];
	for (unsigned i = 0; !atomic_load(&rc->stop); i++) {
		snprintf(name, sizeof(name), "n%u.example", i % 1000);
		caa_request_t r = req_of(name, ACCT, "dns-01", "", 0);
		caa_result_t ok = result_of(CAA_PERMITTED, CAA_R_NO_CAA, NOW + 1, false);
		if (caa_cache_put_request(rc->c, &r, &ok) != CAA_EOK)
			return "noise put failed";
	}
	return NULL;
}

static void run_race(size_t max_entries, unsigned noise)
{
	race_t rc = {.c = new_cache(max_entries, W)};
	pthread_t t[8];
	unsigned n = 0;
	atomic_init(&rc.last_forbid, 0);
	atomic_init(&rc.stop, false);
	atomic_init(&rc.permits, 0);
	atomic_init(&rc.attempts, 0);
	atomic_init(&rc.reuses, 0);
	atomic_init(&rc.stale, 0);

	assert_int_equal(pthread_create(&t[n++], NULL, race_forbid, &rc), 0);
	for (int i = 0; i < 2; i++)
		assert_int_equal(pthread_create(&t[n++], NULL, race_permit, &rc), 0);
	for (int i = 0; i < 2; i++)
		assert_int_equal(pthread_create(&t[n++], NULL, race_reuse, &rc), 0);
	for (unsigned i = 0; i < noise; i++)
		assert_int_equal(pthread_create(&t[n++], NULL, race_noise, &rc), 0);
	for (unsigned i = 0; i < n; i++) {
		void *why;
		assert_int_equal(pthread_join(t[i], &why), 0);
		if (why != NULL)
			fail_msg("thread %u: %s", i, (const char *)why);
	}
	print_message("race, max %zu, %u noise: %lu reuses, %lu after a newer refusal\n",
	              max_entries, noise, atomic_load(&rc.reuses), atomic_load(&rc.stale));
	assert_int_equal(atomic_load(&rc.stale), 0);
	caa_cache_free(rc.c);
}

static void test_forbid_race(void **state)
{
	(void)state;
	run_race(100, 0);
	run_race(8, 2); /* the refusals are evicted all the time */
}

/* A reused result says what it reuses: the check's DNSSEC state, relevant
 * domain and deciding record; what does not fit in CAA_CACHE_META_MAX is left
 * out whole (the record, then the domain), never cut. */
static void test_reused_meta(void **state)
{
	caa_cache_t *c = new_cache(100, W);
	caa_request_t r = req_of("www.example.com", ACCT, "dns-01", "", 0);
	caa_record_t recs[2] = {
	    {.flags = 0, .tag = "issue", .value = "other.example"},
	    {.flags = 128, .tag = "issue", .value = "ca.example; accounturi=" ACCT}};
	caa_result_t ok = result_of(CAA_PERMITTED, CAA_R_AUTHORIZED, NOW, false);
	caa_result_t *res;
	char big[300];
	(void)state;

	ok.dnssec = CAA_DNSSEC_SECURE;
	ok.relevant_domain = "example.com";
	ok.records = recs;
	ok.n_records = 2;
	ok.decided_by = 1;
	assert_int_equal(caa_cache_put_request(c, &r, &ok), CAA_EOK);
	assert_true(caa_cache_reuse(c, &r, NOW + 1, &res));
	assert_true(res->reused);
	assert_int_equal(res->checked_at_ms, NOW);
	assert_int_equal(res->dnssec, CAA_DNSSEC_SECURE);
	assert_string_equal(res->relevant_domain, "example.com");
	assert_int_equal(res->n_records, 1);
	assert_int_equal(res->decided_by, 0);
	assert_int_equal(res->records[0].flags, 128);
	assert_string_equal(res->records[0].tag, "issue");
	assert_string_equal(res->records[0].value, "ca.example; accounturi=" ACCT);
	caa_result_free(res);

	/* a record too long to keep: the domain and the state still are */
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	recs[1].value = big;
	ok.checked_at_ms = NOW + 1;
	ok.dnssec = CAA_DNSSEC_INSECURE;
	assert_int_equal(caa_cache_put_request(c, &r, &ok), CAA_EOK);
	assert_true(caa_cache_reuse(c, &r, NOW + 2, &res));
	assert_int_equal(res->dnssec, CAA_DNSSEC_INSECURE);
	assert_string_equal(res->relevant_domain, "example.com");
	assert_int_equal(res->n_records, 0);
	assert_int_equal(res->decided_by, -1);
	caa_result_free(res);

	/* NO_CAA: no relevant domain, the state alone */
	ok = result_of(CAA_PERMITTED, CAA_R_NO_CAA, NOW + 2, false);
	ok.dnssec = CAA_DNSSEC_SECURE;
	ok.relevant_domain = "";
	assert_int_equal(caa_cache_put_request(c, &r, &ok), CAA_EOK);
	assert_true(caa_cache_reuse(c, &r, NOW + 3, &res));
	assert_int_equal(res->reason, CAA_R_NO_CAA);
	assert_int_equal(res->dnssec, CAA_DNSSEC_SECURE);
	assert_string_equal(res->relevant_domain, "");
	assert_int_equal(res->n_records, 0);
	caa_result_free(res);
	caa_cache_free(c);
}

static void test_put_errors(void **state)
{
	caa_cache_t *c = new_cache(100, W);
	caa_cache_key_t k = {"exa mple.com", ACCT, 0, "dns-01", ""};
	caa_result_t ok = result_of(CAA_PERMITTED, CAA_R_AUTHORIZED, NOW, false);
	caa_result_t untimed = result_of(CAA_PERMITTED, CAA_R_AUTHORIZED, 0, false);
	caa_result_t far = result_of(CAA_PERMITTED, CAA_R_AUTHORIZED, CAA_CACHE_AT_MAX + 1, false);
	caa_result_t untimed_no = result_of(CAA_FORBIDDEN, CAA_R_NOT_AUTHORIZED, 0, false);
	caa_request_t r = req_of("example.com", ACCT, "dns-01", "", 0);
	(void)state;

	assert_int_equal(caa_cache_put(c, &k, &ok), CAA_ENAME_CHAR);
	k.identifier = "192.0.2.1";
	assert_int_equal(caa_cache_put(c, &k, &ok), CAA_ENAME_DNS_IP);
	k.identifier = "example.com";
	assert_int_equal(caa_cache_put(c, &k, &untimed), CAA_EINVAL);
	assert_int_equal(caa_cache_put(NULL, &k, &ok), CAA_EINVAL);
	assert_int_equal(caa_cache_put(c, NULL, &ok), CAA_EINVAL);
	assert_int_equal(caa_cache_put(c, &k, NULL), CAA_EINVAL);
	assert_int_equal(caa_cache_put(c, &k, &far), CAA_EINVAL);
	assert_int_equal(caa_cache_count(c), 0);
	/* a refusal without a time still refuses: as checked now, it beats a
	 * permission checked a moment ago */
	ok.checked_at_ms = (int64_t)time(NULL) * 1000 - 1000;
	assert_int_equal(caa_cache_put(c, &k, &untimed_no), CAA_EOK);
	assert_int_equal(caa_cache_put_request(c, &r, &ok), CAA_EOK);
	assert_false(reuse_at(c, &r, ok.checked_at_ms + 1, NULL, NULL));
	assert_int_equal(caa_cache_count(c), 1);
	caa_cache_free(c);
}

/* --- keys -------------------------------------------------------------------------------- */

static void test_key_separation(void **state)
{
	/* clang-format off */
	static const struct {
		const char *what;
		const char *type, *ident, *acct;
		int64_t acct_id;
		const char *method, *policy;
		bool reuse;
	} rows[] = {
		{"the same request", NULL, "www.example.com", ACCT, 0, "dns-01", "", true},
		{"type dns spelled out", "dns", "www.example.com", ACCT, 0, "dns-01", "", true},
		{"case and trailing dot", NULL, "WWW.Example.COM.", ACCT, 0, "dns-01", "", true},
		{"policy NULL is the default", NULL, "www.example.com", ACCT, 0, "dns-01", NULL, true},
		{"the URI and an id", NULL, "www.example.com", ACCT, 7, "dns-01", "", false},
		{"a negative id is none", NULL, "www.example.com", ACCT, -7, "dns-01", "", true},
		{"another account", NULL, "www.example.com", ACCT "0", 0, "dns-01", "", false},
		{"the account id instead of the URI", NULL, "www.example.com", NULL, 1, "dns-01", "", false},
		{"no account", NULL, "www.example.com", NULL, 0, "dns-01", "", false},
		{"another method", NULL, "www.example.com", ACCT, 0, "http-01", "", false},
		{"no method", NULL, "www.example.com", ACCT, 0, NULL, "", false},
		{"another policy", NULL, "www.example.com", ACCT, 0, "dns-01", "strict", false},
		{"wildcard", NULL, "*.www.example.com", ACCT, 0, "dns-01", "", false},
		{"the parent", NULL, "example.com", ACCT, 0, "dns-01", "", false},
		{"a child", NULL, "a.www.example.com", ACCT, 0, "dns-01", "", false},
		{"type ip", "ip", "www.example.com", ACCT, 0, "dns-01", "", false},
		{"unknown type", "email", "www.example.com", ACCT, 0, "dns-01", "", false},
	};
	/* clang-format on */
	caa_cache_t *c = new_cache(100, W);
	caa_request_t base = req_of("www.example.com", ACCT, "dns-01", "", 0);
	caa_result_t ok = result_of(CAA_PERMITTED, CAA_R_AUTHORIZED, NOW, false);
	(void)state;

	assert_int_equal(caa_cache_put_request(c, &base, &ok), CAA_EOK);
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		caa_request_t r =
		    req_of(rows[i].ident, rows[i].acct, rows[i].method, rows[i].policy, 0);
		r.type = rows[i].type;
		r.account_id = rows[i].acct_id;
		print_message("key: %s\n", rows[i].what);
		assert_int_equal(reuse_at(c, &r, NOW + 1, NULL, NULL), rows[i].reuse);
	}
	caa_cache_free(c);
}

/* A key built by hand meets the request it describes; both put paths agree,
 * and a URI spelled like a tagged id is still a URI. */
static void test_account_id(void **state)
{
	caa_cache_t *c = new_cache(100, W);
	caa_cache_key_t k = {"*.example.com", NULL, INT64_C(1234567890123), "http-01", "strict"};
	caa_request_t r = req_of("*.EXAMPLE.com", NULL, "http-01", "strict", 0);
	caa_result_t ok = result_of(CAA_PERMITTED, CAA_R_AUTHORIZED, NOW, false);
	(void)state;

	r.account_id = INT64_C(1234567890123);
	assert_int_equal(caa_cache_put(c, &k, &ok), CAA_EOK);
	assert_true(reuse_at(c, &r, NOW + 1, NULL, NULL));
	r.account_uri = ""; /* empty URI reads as none */
	assert_true(reuse_at(c, &r, NOW + 1, NULL, NULL));
	r.account_id = 1234567890124;
	assert_false(reuse_at(c, &r, NOW + 1, NULL, NULL));
	r.account_id = 0;
	r.account_uri = "1234567890123";
	assert_false(reuse_at(c, &r, NOW + 1, NULL, NULL));
	r.account_uri = "id:1234567890123";
	assert_false(reuse_at(c, &r, NOW + 1, NULL, NULL));

	k.account_uri = ACCT; /* both forms: only a request with both */
	assert_int_equal(caa_cache_put(c, &k, &ok), CAA_EOK);
	r.account_uri = ACCT;
	r.account_id = INT64_C(1234567890123);
	assert_true(reuse_at(c, &r, NOW + 1, NULL, NULL));
	r.account_id = 0;
	assert_false(reuse_at(c, &r, NOW + 1, NULL, NULL));
	caa_cache_free(c);
}

/*
 * The account is keyed as the decision used it: a URI, a Boulder id, or both,
 * each in its own namespace. A permission earned through account_id 1 (any
 * prefix + "1") says nothing about account_uri "1", and one earned by a
 * request carrying both (matched through either) nothing about either alone.
 */
static void test_account_forms(void **state)
{
	caa_cache_t *c = new_cache(100, W);
	caa_result_t ok = result_of(CAA_PERMITTED, CAA_R_AUTHORIZED, NOW, false);
	caa_request_t id1 = req_of("example.com", NULL, "dns-01", "", 0);
	caa_request_t uri1 = req_of("example.com", "1", "dns-01", "", 0);
	caa_request_t both = req_of("example.com", ACCT, "dns-01", "", 0);
	caa_request_t uri = req_of("example.com", ACCT, "dns-01", "", 0);
	(void)state;

	id1.account_id = 1;
	both.account_id = 1;
	assert_int_equal(caa_cache_put_request(c, &id1, &ok), CAA_EOK);
	assert_true(reuse_at(c, &id1, NOW + 1, NULL, NULL));
	assert_false(reuse_at(c, &uri1, NOW + 1, NULL, NULL));

	assert_int_equal(caa_cache_put_request(c, &both, &ok), CAA_EOK);
	assert_true(reuse_at(c, &both, NOW + 1, NULL, NULL));
	assert_false(reuse_at(c, &uri, NOW + 1, NULL, NULL));
	caa_cache_free(c);

	c = new_cache(100, W);
	assert_int_equal(caa_cache_put_request(c, &uri, &ok), CAA_EOK);
	assert_false(reuse_at(c, &both, NOW + 1, NULL, NULL));
	assert_false(reuse_at(c, &id1, NOW + 1, NULL, NULL));
	assert_int_equal(caa_cache_put_request(c, &uri1, &ok), CAA_EOK);
	assert_false(reuse_at(c, &id1, NOW + 1, NULL, NULL));
	caa_cache_free(c);
}

static void test_bad_identifiers(void **state)
{
	static const char *const bad[] = {
	    "",      "exa mple.com",       "*.*.example.com", "a..example",  "-a.example",
	    "x.123", "ex\xc3\xa4mple.com", "192.0.2.1",       "2001:db8::1", "hidden.onion",
	};
	caa_cache_t *c = new_cache(100, W);
	caa_request_t r = req_of(NULL, ACCT, "dns-01", "", NOW);
	caa_result_t *res = NULL;
	(void)state;

	assert_false(caa_cache_reuse(c, &r, NOW, &res)); /* NULL identifier */
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		r.identifier = bad[i];
		r.validated_at_ms = NOW;
		assert_false(caa_cache_reuse(c, &r, NOW, &res));
		assert_null(res);
		r.validated_at_ms = 0;
		assert_false(caa_cache_reuse(c, &r, NOW, &res));
	}
	r.identifier = "example.com";
	r.type = "ip";
	r.validated_at_ms = NOW;
	assert_false(caa_cache_reuse(c, &r, NOW, &res));
	r.type = NULL;
	assert_false(caa_cache_reuse(c, &r, 0, &res)); /* no clock */
	assert_false(caa_cache_reuse(NULL, &r, NOW, &res));
	assert_false(caa_cache_reuse(c, NULL, NOW, &res));
	assert_false(caa_cache_reuse(c, &r, NOW, NULL));
	caa_cache_free(c);
}

/* --- config ------------------------------------------------------------------------------ */

static void test_config(void **state)
{
	caa_config_t *cfg;
	caa_cache_t *c = (caa_cache_t *)1;
	char *memory, disk[] = "disk";
	char err[200];
	(void)state;

	assert_int_equal(caa_config_default(&cfg), CAA_EOK);
	memory = cfg->cache.backend; /* the config's storage owns it: put it back */
	cfg->cache.backend = disk;
	assert_int_equal(caa_cache_new(cfg, &c, err, sizeof(err)), CAA_ECONFIG);
	assert_null(c);
	assert_non_null(strstr(err, "cache.backend"));
	assert_non_null(strstr(err, "disk"));
	print_message("%s\n", err);
	assert_int_equal(caa_cache_new(cfg, &c, NULL, 0), CAA_ECONFIG);
	cfg->cache.backend = memory;

	cfg->cache.max_entries = 0;
	assert_int_equal(caa_cache_new(cfg, &c, err, sizeof(err)), CAA_ECONFIG);
	assert_non_null(strstr(err, "cache.max_entries"));
	print_message("%s\n", err);

	cfg->cache.max_entries = 5;
	assert_int_equal(caa_cache_new(cfg, &c, err, sizeof(err)), CAA_EOK);
	assert_int_equal(caa_cache_count(c), 0);
	caa_cache_free(c);
	caa_cache_free(NULL);
	caa_config_free(cfg);
}

/*
 * The configuration is part of the key: two caches over one backend under
 * one secret key (two replicas sharing Redis, or one caad before and after a
 * reload) reuse each other's permissions only when their configs decide
 * alike. The backend below shares one memory backend and frees nothing.
 */
static void *shared_impl;
static bool shared_get(void *impl, const uint8_t d[16], caa_cache_entry_t *out)
{
	(void)impl;
	return caa_cache_memory_backend.get(shared_impl, d, out);
}
static int shared_put(void *impl, const uint8_t d[16], const caa_cache_entry_t *e)
{
	(void)impl;
	return caa_cache_memory_backend.put(shared_impl, d, e);
}
static size_t shared_count(void *impl)
{
	(void)impl;
	return caa_cache_memory_backend.count(shared_impl);
}
static void shared_free(void *impl)
{
	(void)impl;
}
static const caa_cache_backend_t shared_backend = {.name = "shared",
                                                   .get = shared_get,
                                                   .put = shared_put,
                                                   .count = shared_count,
                                                   .free = shared_free};

static caa_cache_t *cache_under(const char *json)
{
	static const uint8_t key[17] = "fleet-shared-key"; /* 16 used */
	caa_config_t *cfg;
	caa_cache_t *c;
	char err[256];
	if (caa_config_parse(json, strlen(json), &cfg, err, sizeof(err)) != CAA_EOK)
		fail_msg("%s: %s", json, err);
	assert_int_equal(caa_cache_new_backend(&shared_backend, NULL, cfg, key, &c), CAA_EOK);
	caa_config_free(cfg);
	return c;
}

static void test_config_in_key(void **state)
{
	/* clang-format off */
#define STRICT "\"profiles\": {\"strict\": {}}"
	static const struct {
		const char *what, *json;
		bool reuse;
	} rows[] = {
		{"the same config", "{\"issuer_domains\": [\"ca.example\"], " STRICT "}", true},
		{"another listen address and window", "{\"issuer_domains\": [\"ca.example\"], " STRICT
		 ", \"listen\": \"127.0.0.1:9\", \"recheck_window\": \"1h\", \"max_in_flight\": 5}", true},
		{"another issuer", "{\"issuer_domains\": [\"ca.example\", \"other.example\"], " STRICT "}",
		 false},
		{"a prefix added", "{\"issuer_domains\": [\"ca.example\"], " STRICT
		 ", \"account_uri_prefixes\": [\"https://ca.example/a/\"]}", false},
		{"another method mapping", "{\"issuer_domains\": [\"ca.example\"], " STRICT
		 ", \"policy\": {\"method_labels\": {\"ca-tbr-7\": [\"dns-01\"]}}}", false},
		{"critical flags", "{\"issuer_domains\": [\"ca.example\"], " STRICT
		 ", \"policy\": {\"flag1_is_critical\": false}}", false},
		{"the profile redefined", "{\"issuer_domains\": [\"ca.example\"], "
		 "\"profiles\": {\"strict\": {\"critical\": \"unknown-or-unsupported\"}}}", false},
	};
#undef STRICT
	/* clang-format on */
	caa_request_t r = req_of("example.com", ACCT, "dns-01", "strict", 0);
	caa_result_t ok = result_of(CAA_PERMITTED, CAA_R_AUTHORIZED, NOW, false);
	(void)state;

	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		assert_int_equal(caa_cache_memory_new(100, &shared_impl), CAA_EOK);
		caa_cache_t *a = cache_under(rows[0].json);
		caa_cache_t *b = cache_under(rows[i].json);
		print_message("config in the key: %s\n", rows[i].what);
		assert_int_equal(caa_cache_put_request(a, &r, &ok), CAA_EOK);
		assert_true(reuse_at(a, &r, NOW + 1, NULL, NULL));
		assert_int_equal(reuse_at(b, &r, NOW + 1, NULL, NULL), rows[i].reuse);
		caa_cache_free(a);
		caa_cache_free(b);
		caa_cache_memory_backend.free(shared_impl);
	}
}

/* --- LRU --------------------------------------------------------------------------------- */

static void put_name(caa_cache_t *c, const char *ident, int64_t at)
{
	caa_request_t r = req_of(ident, ACCT, "dns-01", "", 0);
	caa_result_t ok = result_of(CAA_PERMITTED, CAA_R_AUTHORIZED, at, false);
	assert_int_equal(caa_cache_put_request(c, &r, &ok), CAA_EOK);
}

static bool has_name(caa_cache_t *c, const char *ident)
{
	caa_request_t r = req_of(ident, ACCT, "dns-01", "", 0);
	return reuse_at(c, &r, NOW + 1, NULL, NULL);
}

static void test_lru(void **state)
{
	caa_cache_t *c = new_cache(3, W);
	(void)state;

	put_name(c, "a.example", NOW);
	put_name(c, "b.example", NOW);
	put_name(c, "c.example", NOW);
	assert_true(has_name(c, "a.example")); /* a is now the most recently used */
	put_name(c, "d.example", NOW);         /* b, the oldest used, goes */
	assert_int_equal(caa_cache_count(c), 3);
	assert_false(has_name(c, "b.example"));
	assert_true(has_name(c, "c.example"));
	assert_true(has_name(c, "a.example"));
	assert_true(has_name(c, "d.example"));
	/* order now c, a, d (oldest first); storing c again refreshes it */
	put_name(c, "c.example", NOW);
	put_name(c, "e.example", NOW); /* a goes */
	assert_false(has_name(c, "a.example"));
	assert_true(has_name(c, "c.example"));
	assert_true(has_name(c, "d.example"));
	assert_true(has_name(c, "e.example"));
	assert_int_equal(caa_cache_count(c), 3);
	caa_cache_free(c);
}

/* --- the memory backend against a model -------------------------------------------------- */

static const caa_cache_backend_t *const be = &caa_cache_memory_backend;

/* A digest for id. clustered: the home slot bits repeat every 5 ids, so probe
 * runs are long and deletions shift them. */
static void digest_of(uint64_t id, bool clustered, uint8_t out[16])
{
	static const uint8_t key[17] = "model-key-000000"; /* 16 used */
	uint64_t d[2];
	caa_cache_siphash128(key, &id, sizeof(id), out);
	if (clustered) {
		memcpy(d, out, sizeof(d));
		d[0] = (d[0] & ~(uint64_t)0xffffffff) | (id % 5);
		memcpy(out, d, sizeof(d));
	}
}

/* Offer an entry to the backend. */
static int be_put(void *impl, const uint8_t d[16], int64_t at, bool refused, caa_reason_t reason)
{
	caa_cache_entry_t e = {.at_ms = at, .refused = refused, .reason = reason};
	return be->put(impl, d, &e);
}

#define MODEL_IDS 300

/* What the memory backend must do, written the slow way: entries ordered
 * by (time, refused), LRU eviction, and the floor an evicted (or superseded)
 * refusal leaves (one shard, or a cache that never fills). */
typedef struct {
	bool in[MODEL_IDS];
	caa_cache_entry_t e[MODEL_IDS];
	uint64_t used[MODEL_IDS];
	uint64_t clock;
	int64_t floors[16]; /* per shard: 16 from 16 x 1024 entries on, else one */
	int64_t *floor;     /* the floor of the entry being put */
	size_t n, max;
} model_t;

/* The shard a digest lands in (cache_memory.c: the top 4 bits of its second
 * word, when the cache has 16 shards). */
static void model_shard(model_t *m, const uint8_t d[16])
{
	uint64_t w;
	memcpy(&w, d + 8, sizeof(w));
	m->floor = &m->floors[m->max >= 16 * 1024 ? w >> 60 : 0];
}

static void model_put(model_t *m, unsigned id, const caa_cache_entry_t *e)
{
	if (!e->refused && e->at_ms <= *m->floor)
		return;
	if (!m->in[id] && m->n == m->max) {
		unsigned lru = MODEL_IDS;
		for (unsigned i = 0; i < MODEL_IDS; i++)
			if (m->in[i] && (lru == MODEL_IDS || m->used[i] < m->used[lru]))
				lru = i;
		if (m->e[lru].refused && m->e[lru].at_ms > *m->floor)
			*m->floor = m->e[lru].at_ms; /* one shard when it fills */
		m->in[lru] = false;
		m->n--;
	}
	if (!m->in[id]) {
		m->in[id] = true;
		m->e[id] = *e;
		m->n++;
	} else if (!caa_cache_entry_newer(&m->e[id], e)) {
		/* a refusal a newer permission replaces leaves its floor too */
		if (m->e[id].refused && !e->refused && m->e[id].at_ms > *m->floor)
			*m->floor = m->e[id].at_ms;
		m->e[id] = *e;
	}
	m->used[id] = ++m->clock;
}

static void run_model(size_t max, bool clustered, unsigned ops, unsigned seed)
{
	model_t *m = calloc(1, sizeof(*m));
	void *impl;
	uint8_t d[16];

	assert_non_null(m);
	m->max = max;
	for (size_t i = 0; i < 16; i++)
		m->floors[i] = -1;
	assert_int_equal(caa_cache_memory_new(max, &impl), CAA_EOK);
	srand(seed);
	for (unsigned op = 0; op < ops; op++) {
		unsigned id = (unsigned)rand() % MODEL_IDS;
		/* times grow slowly, so a refusal often meets older and newer permissions */
		caa_cache_entry_t e = {.at_ms = 1 + op / 8 + rand() % 200,
		                       .reason = CAA_R_NO_CAA + rand() % 2};
		caa_cache_entry_t got;
		digest_of(id, clustered, d);
		switch (rand() % 8) {
		case 0:
			e.refused = true;
			e.reason = CAA_R_NOT_AUTHORIZED;
			/* fall through */
		case 1:
		case 2:
		case 3:
			assert_int_equal(be->put(impl, d, &e), CAA_EOK);
			model_shard(m, d);
			model_put(m, id, &e);
			break;
		default:
			assert_int_equal(be->get(impl, d, &got), m->in[id]);
			if (m->in[id]) {
				assert_int_equal(got.at_ms, m->e[id].at_ms);
				assert_int_equal(got.refused, m->e[id].refused);
				assert_int_equal(got.reason, m->e[id].reason);
				m->used[id] = ++m->clock;
			}
		}
		assert_int_equal(be->count(impl), m->n);
	}
	/* everything the model holds is there, nothing else */
	for (unsigned id = 0; id < MODEL_IDS; id++) {
		caa_cache_entry_t got;
		digest_of(id, clustered, d);
		assert_int_equal(be->get(impl, d, &got), m->in[id]);
	}
	be->free(impl);
	free(m);
}

static void test_memory_model(void **state)
{
	(void)state;
	run_model(1, false, 5000, 1);
	run_model(7, true, 50000, 2);
	run_model(64, false, 100000, 3);
	run_model(64, true, 100000, 4);
	run_model(250, true, 100000, 5);
	run_model(1000, true, 50000, 6);   /* never full: growth only */
	run_model(20000, true, 100000, 7); /* 16 shards, never full */
	run_model(20000, false, 100000, 8);
}

/* An evicted refusal leaves its time as the shard's floor: the permission it
 * beat, finishing later, is not stored, and neither is any other permission
 * of that shard checked at or before it. One checked after it is. */
/* A refusal replaced by a newer permission is forgotten as if evicted: when
 * that permission goes in turn, a permission older than the refusal (a check
 * that finished late) must not land. unit.cache test_forbid_race found it. */
static void test_superseded_refusal(void **state)
{
	void *impl;
	uint8_t a[16], b[16], c[16];
	caa_cache_entry_t got;
	(void)state;

	digest_of(1, false, a);
	digest_of(2, false, b);
	digest_of(3, false, c);
	assert_int_equal(caa_cache_memory_new(2, &impl), CAA_EOK);
	assert_int_equal(be_put(impl, a, NOW + 10, true, CAA_R_NOT_AUTHORIZED), CAA_EOK);
	assert_int_equal(be_put(impl, a, NOW + 12, false, CAA_R_AUTHORIZED), CAA_EOK);
	assert_int_equal(be_put(impl, b, NOW + 20, false, CAA_R_NO_CAA), CAA_EOK);
	assert_int_equal(be_put(impl, c, NOW + 20, false, CAA_R_NO_CAA), CAA_EOK); /* a goes */
	assert_false(be->get(impl, a, &got));
	/* checked before the refusal, finishing now */
	assert_int_equal(be_put(impl, a, NOW + 9, false, CAA_R_AUTHORIZED), CAA_EOK);
	assert_false(be->get(impl, a, &got));
	/* checked after it: stored */
	assert_int_equal(be_put(impl, a, NOW + 11, false, CAA_R_AUTHORIZED), CAA_EOK);
	assert_true(be->get(impl, a, &got));
	assert_int_equal(got.at_ms, NOW + 11);
	be->free(impl);
}

static void test_evicted_refusal(void **state)
{
	void *impl;
	uint8_t a[16], b[16], c[16], x[16];
	caa_cache_entry_t got;
	(void)state;

	digest_of(1, false, a);
	digest_of(2, false, b);
	digest_of(3, false, c);
	digest_of(4, false, x);
	assert_int_equal(caa_cache_memory_new(2, &impl), CAA_EOK);
	assert_int_equal(be_put(impl, a, NOW + 10, true, CAA_R_NOT_AUTHORIZED), CAA_EOK);
	assert_int_equal(be_put(impl, b, NOW, false, CAA_R_NO_CAA), CAA_EOK);
	assert_int_equal(be_put(impl, c, NOW, false, CAA_R_NO_CAA), CAA_EOK); /* a goes */
	assert_false(be->get(impl, a, &got));
	assert_int_equal(be_put(impl, a, NOW + 9, false, CAA_R_AUTHORIZED), CAA_EOK);
	assert_false(be->get(impl, a, &got));
	assert_int_equal(be_put(impl, a, NOW + 10, false, CAA_R_AUTHORIZED), CAA_EOK);
	assert_false(be->get(impl, a, &got));
	assert_int_equal(be_put(impl, x, NOW + 5, false, CAA_R_AUTHORIZED), CAA_EOK);
	assert_false(be->get(impl, x, &got));
	/* held entries below the floor stay; an older permission offered for them does not land */
	assert_true(be->get(impl, b, &got));
	assert_int_equal(be_put(impl, b, NOW + 1, false, CAA_R_NO_CAA), CAA_EOK);
	assert_true(be->get(impl, b, &got));
	assert_int_equal(got.at_ms, NOW);
	assert_int_equal(be_put(impl, a, NOW + 11, false, CAA_R_AUTHORIZED), CAA_EOK);
	assert_true(be->get(impl, a, &got));
	assert_int_equal(got.at_ms, NOW + 11);
	assert_false(got.refused);
	/* refusals are stored below the floor too */
	assert_int_equal(be_put(impl, x, NOW + 1, true, CAA_R_NOT_AUTHORIZED), CAA_EOK);
	assert_true(be->get(impl, x, &got));
	assert_true(got.refused);
	assert_int_equal(be->count(impl), 2);
	be->free(impl);
}

/* A digest in a chosen shard (the top 4 bits of the second word). */
static void digest_in_shard(uint64_t id, unsigned shard, uint8_t out[16])
{
	uint64_t d[2];
	digest_of(id, false, out);
	memcpy(d, out, sizeof(d));
	d[1] = (d[1] & ~((uint64_t)0xf << 60)) | (uint64_t)shard << 60;
	memcpy(out, d, sizeof(d));
}

/* With 16 shards the bound is global: one shard may hold them all; when full,
 * an insertion evicts its own shard's oldest-used, or is dropped when its
 * shard has nothing to give. */
static void test_global_bound(void **state)
{
	const size_t max = 16 * 1024; /* the smallest sharded cache */
	void *impl;
	uint8_t d[16];
	caa_cache_entry_t got;
	(void)state;

	assert_int_equal(caa_cache_memory_new(max, &impl), CAA_EOK);
	for (uint64_t i = 0; i < max; i++) {
		digest_in_shard(i, 0, d);
		assert_int_equal(be_put(impl, d, NOW, false, CAA_R_NO_CAA), CAA_EOK);
	}
	assert_int_equal(be->count(impl), max);
	digest_in_shard(max, 3, d); /* shard 3 is empty: not stored */
	assert_int_equal(be_put(impl, d, NOW, false, CAA_R_NO_CAA), CAA_EOK);
	assert_false(be->get(impl, d, &got));
	assert_int_equal(be->count(impl), max);

	digest_in_shard(0, 0, d); /* touch 0: 1 is now the oldest-used */
	assert_true(be->get(impl, d, &got));
	digest_in_shard(max + 1, 0, d);
	assert_int_equal(be_put(impl, d, NOW, false, CAA_R_NO_CAA), CAA_EOK);
	assert_true(be->get(impl, d, &got));
	assert_int_equal(be->count(impl), max);
	digest_in_shard(1, 0, d);
	assert_false(be->get(impl, d, &got));
	digest_in_shard(0, 0, d);
	assert_true(be->get(impl, d, &got));

	be->free(impl);
}

static void test_memory_backend_args(void **state)
{
	void *impl = (void *)1;
	uint8_t d[16] = {1};
	(void)state;
	assert_int_equal(caa_cache_memory_new(0, &impl), CAA_EINVAL);
	assert_null(impl);
	assert_int_equal(caa_cache_memory_new((size_t)1 << 34, &impl), CAA_EINVAL);
	assert_int_equal(caa_cache_memory_new(10, NULL), CAA_EINVAL);
	assert_int_equal(caa_cache_memory_new(10, &impl), CAA_EOK);
	assert_int_equal(be_put(impl, d, -1, false, CAA_R_NO_CAA), CAA_EINVAL);
	assert_int_equal(be_put(impl, d, INT64_MAX, false, CAA_R_NO_CAA), CAA_EINVAL);
	assert_int_equal(be_put(impl, d, CAA_CACHE_AT_MAX + 1, true, CAA_R_NO_CAA), CAA_EINVAL);
	assert_int_equal(be_put(impl, d, NOW, false, (caa_reason_t)256), CAA_EINVAL);
	assert_int_equal(be->count(impl), 0);
	assert_int_equal(be_put(impl, d, CAA_CACHE_AT_MAX, true, CAA_R_NO_CAA), CAA_EOK);
	assert_int_equal(be->count(impl), 1);
	assert_string_equal(be->name, "memory");
	be->free(impl);
}

/* --- threads ----------------------------------------------------------------------------- */

#define THREADS    8
#define THREAD_OPS 100000

typedef struct {
	caa_cache_t *c;
	unsigned id, keys;
	bool evicts;
	unsigned long hits, misses;
} worker_t;

static void *worker(void *arg)
{
	worker_t *w = arg;
	char name[64];
	for (unsigned i = 0; i < THREAD_OPS; i++) {
		/* threads walk the same key space from different places */
		unsigned k = (i * 7 + w->id * 977) % w->keys;
		caa_request_t r = req_of(name, ACCT, "dns-01", "", 0);
		caa_result_t ok = result_of(CAA_PERMITTED, CAA_R_AUTHORIZED, NOW + i % 100, false);
		caa_result_t *res = NULL;
		snprintf(name, sizeof(name), "h%u.example.com", k);
		if (caa_cache_put_request(w->c, &r, &ok) != CAA_EOK)
			return "put failed";
		if (caa_cache_reuse(w->c, &r, NOW + 100, &res)) {
			bool good = res->reused && res->verdict == CAA_PERMITTED &&
			            res->checked_at_ms >= NOW && res->checked_at_ms < NOW + 100 &&
			            strcmp(res->identifier, name) == 0;
			caa_result_free(res);
			if (!good)
				return "bad reused result";
			w->hits++;
		} else {
			w->misses++;
			if (!w->evicts)
				return "a key just stored was not found";
		}
	}
	return NULL;
}

static void run_threads(size_t max_entries, unsigned keys, bool evicts)
{
	caa_cache_t *c = new_cache(max_entries, W);
	pthread_t t[THREADS];
	worker_t w[THREADS];
	unsigned long hits = 0, misses = 0;

	for (unsigned i = 0; i < THREADS; i++) {
		w[i] = (worker_t){.c = c, .id = i, .keys = keys, .evicts = evicts};
		assert_int_equal(pthread_create(&t[i], NULL, worker, &w[i]), 0);
	}
	for (unsigned i = 0; i < THREADS; i++) {
		void *why;
		assert_int_equal(pthread_join(t[i], &why), 0);
		if (why != NULL)
			fail_msg("thread %u: %s", i, (const char *)why);
		hits += w[i].hits;
		misses += w[i].misses;
	}
	assert_int_equal(hits + misses, (unsigned long)THREADS * THREAD_OPS);
	print_message("%u threads x %u put+reuse, %u keys, max %zu: %lu hits, %lu misses, %zu "
	              "entries\n",
	              THREADS, THREAD_OPS, keys, max_entries, hits, misses, caa_cache_count(c));
	/* every key stored: all of them fit, or every shard is full */
	assert_int_equal(caa_cache_count(c), keys < max_entries ? keys : max_entries);
	caa_cache_free(c);
}

static void test_threads(void **state)
{
	(void)state;
	run_threads(1000000, 5000, false); /* 16 shards, no eviction: every reuse hits */
	run_threads(20000, 60000, true);   /* 16 shards, evicting all the time */
	run_threads(1000, 3000, true);     /* one shard, every thread on one lock */
}

/* --- memory per entry -------------------------------------------------------------------- */

static size_t heap_in_use(void)
{
	struct mallinfo2 mi = mallinfo2();
	return mi.uordblks + mi.hblkhd;
}

static void test_memory_per_entry(void **state)
{
	const size_t n = 1000000;
	size_t before, after, structural;
	void *impl;
	uint8_t d[16];
	(void)state;

	before = heap_in_use();
	assert_int_equal(caa_cache_memory_new(n, &impl), CAA_EOK);
	for (uint64_t i = 0; i < n; i++) {
		digest_of(i, false, d);
		assert_int_equal(be_put(impl, d, NOW, false, CAA_R_AUTHORIZED), CAA_EOK);
	}
	assert_int_equal(be->count(impl), n);
	after = heap_in_use();
	structural = caa_cache_memory_bytes(impl);
	print_message("memory backend at %zu entries: %.1f bytes/entry held (arrays)\n", n,
	              (double)structural / (double)n);
	assert_true(structural / n <= 256);
#ifndef SANITIZED /* ASan's allocator does not feed mallinfo2 */
	print_message("memory backend at %zu entries: %.1f bytes/entry heap (mallinfo2)\n", n,
	              (double)(after - before) / (double)n);
	assert_true((after - before) / n <= 256);
#else
	(void)before;
	(void)after;
#endif
	/* one more evicts one: still n */
	digest_of(n, false, d);
	assert_int_equal(be_put(impl, d, NOW, false, CAA_R_AUTHORIZED), CAA_EOK);
	assert_int_equal(be->count(impl), n);
	be->free(impl);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_siphash_vectors),
	    cmocka_unit_test(test_digest_layout),
	    cmocka_unit_test(test_random_key),
	    cmocka_unit_test(test_validated_at_edges),
	    cmocka_unit_test(test_stored_edges),
	    cmocka_unit_test(test_validated_at_alone),
	    cmocka_unit_test(test_window_zero),
	    cmocka_unit_test(test_never_reused),
	    cmocka_unit_test(test_reused_not_restored),
	    cmocka_unit_test(test_forbidden_drops),
	    cmocka_unit_test(test_newest_wins),
	    cmocka_unit_test(test_reused_meta),
	    cmocka_unit_test(test_forbid_race),
	    cmocka_unit_test(test_superseded_refusal),
	    cmocka_unit_test(test_account_forms),
	    cmocka_unit_test(test_put_errors),
	    cmocka_unit_test(test_key_separation),
	    cmocka_unit_test(test_account_id),
	    cmocka_unit_test(test_bad_identifiers),
	    cmocka_unit_test(test_config),
	    cmocka_unit_test(test_config_in_key),
	    cmocka_unit_test(test_lru),
	    cmocka_unit_test(test_memory_model),
	    cmocka_unit_test(test_evicted_refusal),
	    cmocka_unit_test(test_memory_backend_args),
	    cmocka_unit_test(test_global_bound),
	    cmocka_unit_test(test_threads),
	    cmocka_unit_test(test_memory_per_entry),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
