/*
 * test_cache_redis.c — the "redis" backend (lib/cache_redis.c) against a real
 * redis-server on loopback: store and reuse, two caches (two replicas)
 * sharing entries, the newest check winning across them in both orders and
 * racing, garbage in a key read as a miss, a stopped or killed Redis a miss
 * within the timeout, a refusal lost with Redis never letting an older
 * permission back, and reuse resuming after a restart. Exit 77 without
 * redis-server.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pthread.h>
#include <signal.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "cache.h"
#include "codes.h"
#include "config.h"
#include "redis_proc.h"

#define ACCT   "https://ca.example/acme/acct/1"
#define W      (INT64_C(3600) * 1000)
#define SECRET "0123456789abcdef-fleet-secret"

static redis_proc_t redis;
static char dir[] = "/tmp/caa-redis.XXXXXX";

static int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static double mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1000 + (double)ts.tv_nsec / 1e6;
}

static void write_file(const char *name, const char *text)
{
	char path[256];
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

/* A cache on the test's Redis; extra is more of cache.redis's keys. */
static caa_cache_t *new_cache(const char *perspective, const char *key_file, const char *extra)
{
	char json[1024], err[256];
	caa_config_t *cfg;
	caa_cache_t *c;
	snprintf(json, sizeof(json),
	         "{\"recheck_window\": \"1h\", \"perspective\": {\"name\": \"%s\"}, "
	         "\"cache\": {\"backend\": \"redis\", \"redis\": {\"address\": \"127.0.0.1:%d\", "
	         "\"key_file\": \"%s/%s\", \"timeout\": \"200ms\"%s}}}",
	         perspective, redis.port, dir, key_file, extra);
	if (caa_config_parse(json, strlen(json), &cfg, err, sizeof(err)) != CAA_EOK)
		fail_msg("config: %s", err);
	if (caa_cache_new(cfg, &c, err, sizeof(err)) != CAA_EOK)
		fail_msg("cache: %s", err);
	caa_config_free(cfg);
	assert_string_equal(caa_cache_backend_name(c), "redis");
	return c;
}

static caa_request_t req_of(const char *ident)
{
	caa_request_t r = {
	    .identifier = ident, .account_uri = ACCT, .method = "dns-01", .policy = ""};
	return r;
}

static void put(caa_cache_t *c, const char *ident, bool permit, int64_t at)
{
	caa_request_t r = req_of(ident);
	caa_result_t res = {.verdict = permit ? CAA_PERMITTED : CAA_FORBIDDEN,
	                    .reason = permit ? CAA_R_AUTHORIZED : CAA_R_NOT_AUTHORIZED,
	                    .checked_at_ms = at,
	                    .decided_by = -1};
	assert_int_equal(caa_cache_put_request(c, &r, &res), CAA_EOK);
}

/* Reused now? *at is the time reused from. */
static bool reused(caa_cache_t *c, const char *ident, int64_t *at)
{
	caa_request_t r = req_of(ident);
	caa_result_t *res = NULL;
	bool ok = caa_cache_reuse(c, &r, now_ms(), &res);
	if (ok) {
		assert_int_equal(res->verdict, CAA_PERMITTED);
		assert_true(res->reused);
		if (at != NULL)
			*at = res->checked_at_ms;
	}
	caa_result_free(res);
	return ok;
}

/* The Redis key of ident under c, as the backend names it. */
static void key_of(caa_cache_t *c, const char *ident, char *out, size_t outlen)
{
	caa_cache_key_t k = {
	    .identifier = ident, .account_uri = ACCT, .method = "dns-01", .policy = ""};
	uint8_t d[16];
	int n;
	assert_int_equal(caa_cache_digest(c, &k, d), CAA_EOK);
	n = snprintf(out, outlen, "caa:primary:");
	for (size_t i = 0; i < 16; i++)
		n += snprintf(out + n, outlen - (size_t)n, "%02x", d[i]);
}

__attribute__((format(printf, 1, 2))) static void cmd(const char *fmt, ...)
{
	char line[512], out[256];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	assert_int_equal(redis_cmd(&redis, line, out, sizeof(out)), 0);
}

static void test_put_get(void **state)
{
	caa_cache_t *c = new_cache("primary", "key", "");
	int64_t t = now_ms() - 1000, at;
	(void)state;
	assert_false(reused(c, "put-get.example", NULL));
	put(c, "put-get.example", true, t);
	assert_true(reused(c, "put-get.example", &at));
	assert_int_equal(at, t);
	assert_int_equal(caa_cache_errors(c), 0);
	caa_cache_free(c);
}

/* What a reused result shows comes through Redis whole. */
static void test_meta(void **state)
{
	caa_cache_t *a = new_cache("primary", "key", ""), *b = new_cache("primary", "key", "");
	caa_request_t r = req_of("meta.example");
	caa_record_t rec = {.flags = 0, .tag = "issue", .value = "ca.example; accounturi=" ACCT};
	caa_result_t ok = {.verdict = CAA_PERMITTED,
	                   .reason = CAA_R_AUTHORIZED,
	                   .checked_at_ms = now_ms() - 1000,
	                   .dnssec = CAA_DNSSEC_SECURE,
	                   .relevant_domain = "meta.example",
	                   .records = &rec,
	                   .n_records = 1,
	                   .decided_by = 0};
	caa_result_t *res = NULL;
	(void)state;
	assert_int_equal(caa_cache_put_request(a, &r, &ok), CAA_EOK);
	assert_true(caa_cache_reuse(b, &r, now_ms(), &res));
	assert_int_equal(res->checked_at_ms, ok.checked_at_ms);
	assert_int_equal(res->dnssec, CAA_DNSSEC_SECURE);
	assert_string_equal(res->relevant_domain, "meta.example");
	assert_int_equal(res->n_records, 1);
	assert_int_equal(res->decided_by, 0);
	assert_string_equal(res->records[0].tag, "issue");
	assert_string_equal(res->records[0].value, rec.value);
	caa_result_free(res);
	caa_cache_free(a);
	caa_cache_free(b);
}

/* Two caches on one Redis are two replicas: one's permission is the other's. */
static void test_shared(void **state)
{
	caa_cache_t *a = new_cache("primary", "key", ""), *b = new_cache("primary", "key", "");
	caa_cache_t *other_key = new_cache("primary", "key2", "");
	caa_cache_t *other_persp = new_cache("ripe-1", "key", "");
	(void)state;
	put(a, "shared.example", true, now_ms() - 1000);
	assert_true(reused(b, "shared.example", NULL));
	/* another secret or another perspective finds nothing */
	assert_false(reused(other_key, "shared.example", NULL));
	assert_false(reused(other_persp, "shared.example", NULL));
	caa_cache_free(a);
	caa_cache_free(b);
	caa_cache_free(other_key);
	caa_cache_free(other_persp);
}

/* cache.h's order across replicas, the completions in both orders. */
static void test_newest_wins(void **state)
{
	caa_cache_t *a = new_cache("primary", "key", ""), *b = new_cache("primary", "key", "");
	int64_t t = now_ms() - 10000, at;
	(void)state;

	/* a permission on A, then a refusal checked after it on B */
	put(a, "order1.example", true, t);
	put(b, "order1.example", false, t + 10);
	assert_false(reused(a, "order1.example", NULL));
	/* the refusal first, then a permission checked before it finishing late */
	put(b, "order2.example", false, t + 10);
	put(a, "order2.example", true, t + 5);
	assert_false(reused(a, "order2.example", NULL));
	assert_false(reused(b, "order2.example", NULL));
	put(a, "order2.example", true, t + 10); /* a tie: the refusal wins */
	assert_false(reused(b, "order2.example", NULL));
	put(a, "order2.example", true, t + 11); /* checked after it: reusable */
	assert_true(reused(b, "order2.example", &at));
	assert_int_equal(at, t + 11);
	put(b, "order2.example", false, t + 8); /* an older refusal changes nothing */
	assert_true(reused(a, "order2.example", &at));
	assert_int_equal(at, t + 11);
	caa_cache_free(a);
	caa_cache_free(b);
}

typedef struct race {
	caa_cache_t *c;
	bool permit;
	int64_t t;
	int n;
} race_t;

static void *race_run(void *arg)
{
	race_t *r = arg;
	char name[64];
	for (int i = 0; i < r->n; i++) {
		snprintf(name, sizeof(name), "race-%d.example", i);
		put(r->c, name, r->permit, r->permit ? r->t : r->t + 1);
	}
	return NULL;
}

/* A's permissions and B's newer refusals on the same keys at the same time,
 * in whatever order they land: none is reusable after. */
static void test_race(void **state)
{
	race_t ra = {
	    .c = new_cache("primary", "key", ""), .permit = true, .t = now_ms() - 5000, .n = 300};
	race_t rb = {.c = new_cache("primary", "key", ""), .permit = false, .t = ra.t, .n = 300};
	pthread_t ta, tb;
	char name[64];
	unsigned stale = 0;
	(void)state;
	assert_int_equal(pthread_create(&ta, NULL, race_run, &ra), 0);
	assert_int_equal(pthread_create(&tb, NULL, race_run, &rb), 0);
	pthread_join(ta, NULL);
	pthread_join(tb, NULL);
	for (int i = 0; i < ra.n; i++) {
		snprintf(name, sizeof(name), "race-%d.example", i);
		stale += reused(ra.c, name, NULL) || reused(rb.c, name, NULL);
	}
	assert_int_equal(stale, 0);
	assert_int_equal(caa_cache_errors(ra.c) + caa_cache_errors(rb.c), 0);
	caa_cache_free(ra.c);
	caa_cache_free(rb.c);
}

/* Whatever else is in the key reads as a miss (and an error), never a permission. */
static void test_garbage(void **state)
{
	caa_cache_t *c = new_cache("primary", "key", "");
	char key[128];
	int64_t t = now_ms() - 1000;
	/* "T" stands for a recent time */
	static const char *const values[] = {
	    "garbage", "1:0",    "x:0:3",   "T:2:3:",
	    "T:0:3",   "T:0:3x", "T:0:99:", "9007199254740992:0:3:",
	    "T:0:",    "-1:0:3:"};
	(void)state;
	key_of(c, "garbage.example", key, sizeof(key));
	for (size_t i = 0; i < sizeof(values) / sizeof(values[0]); i++) {
		char v[64];
		uint64_t before = caa_cache_errors(c);
		if (values[i][0] == 'T')
			snprintf(v, sizeof(v), "%lld%s", (long long)t, values[i] + 1);
		else
			snprintf(v, sizeof(v), "%s", values[i]);
		cmd("SET %s %s\r\n", key, v);
		assert_false(reused(c, "garbage.example", NULL));
		assert_true(caa_cache_errors(c) > before);
	}
	/* the right encoding reads (the key is the backend's) */
	cmd("SET %s %lld:0:3:\r\n", key, (long long)t);
	assert_true(reused(c, "garbage.example", NULL));
	/* what the reused result would show, when it does not read: a miss too */
	cmd("SET %s %lld:0:3:9\r\n", key, (long long)t);
	assert_false(reused(c, "garbage.example", NULL));
	cmd("SET %s \"%lld:0:3:1 example.com x\"\r\n", key, (long long)t);
	assert_false(reused(c, "garbage.example", NULL));
	cmd("SET %s \"%lld:0:3:1 example.com 0 issue ca.example; x=1\"\r\n", key, (long long)t);
	assert_true(reused(c, "garbage.example", NULL));
	/* another type: a miss, and a put cannot store over it */
	cmd("DEL %s\r\n", key);
	cmd("LPUSH %s 1\r\n", key);
	assert_false(reused(c, "garbage.example", NULL));
	put(c, "garbage.example", true, t);
	assert_false(reused(c, "garbage.example", NULL));
	cmd("DEL %s\r\n", key);
	caa_cache_free(c);
}

/* Stopped: every call a miss within the timeout (bounds here only catch hangs). */
static void test_stopped(void **state)
{
	caa_cache_t *c = new_cache("primary", "key", "");
	int64_t t = now_ms() - 1000;
	(void)state;
	put(c, "stopped.example", true, t);
	assert_true(reused(c, "stopped.example", NULL));
	redis_signal(&redis, SIGSTOP);
	double t0 = mono_ms();
	for (int i = 0; i < 5; i++)
		assert_false(reused(c, "stopped.example", NULL));
	put(c, "stopped.example", false, t + 1); /* lost: a floor in the process */
	double took = mono_ms() - t0;
	print_message("6 calls on a stopped Redis: %.0f ms\n", took);
	assert_true(took < 30000);
	assert_true(caa_cache_errors(c) >= 6);
	redis_signal(&redis, SIGCONT);
	caa_cache_free(c);
}

/* Killed and restarted empty: the refusal it lost still holds here, and
 * permissions checked after the restart are reused again. */
static void test_restart(void **state)
{
	caa_cache_t *c = new_cache("primary", "key", "");
	int64_t t = now_ms() - 1000;
	(void)state;
	put(c, "restart.example", true, t);
	assert_true(reused(c, "restart.example", NULL));
	redis_signal(&redis, SIGKILL);
	assert_false(reused(c, "restart.example", NULL));
	put(c, "restart.example", false, t + 1); /* lost with Redis down */
	assert_int_equal(redis_start(&redis, redis.port, dir), 0);
	/* the permission it beat, finishing late, is neither stored nor reused */
	for (int i = 0; i < 100; i++) { /* until the backoff lets a connection through */
		uint64_t before = caa_cache_errors(c);
		assert_false(reused(c, "restart.example", NULL));
		if (caa_cache_errors(c) == before)
			break;
		usleep(100 * 1000);
	}
	put(c, "restart.example", true, t);
	assert_false(reused(c, "restart.example", NULL));
	/* a check started after the reconnection is */
	usleep(2000);
	int64_t t2 = now_ms();
	put(c, "restart.example", true, t2);
	int64_t at = 0;
	assert_true(reused(c, "restart.example", &at));
	assert_int_equal(at, t2);
	caa_cache_free(c);
}

/* key_prefix, db and the TTL: a refusal lives at least the window. */
static void test_keys(void **state)
{
	caa_cache_t *c = new_cache("primary", "key", ", \"key_prefix\": \"x:\", \"db\": 2");
	char out[64];
	(void)state;
	put(c, "keys.example", false, now_ms());
	assert_int_equal(redis_cmd(&redis, "SELECT 2\r\n", out, sizeof(out)), 0);
	/* one connection per command in redis_cmd: ask through a script instead */
	assert_int_equal(
	    redis_cmd(&redis,
	              "EVAL \"redis.call('SELECT',2) local k=redis.call('KEYS','x:primary:*') "
	              "return redis.call('PTTL',k[1])\" 0\r\n",
	              out, sizeof(out)),
	    0);
	assert_true(out[0] == ':');
	long long ttl = atoll(out + 1);
	print_message("TTL of a refusal: %lld ms (window 1h)\n", ttl);
	assert_true(ttl > W && ttl <= W + CAA_CACHE_SKEW_MS);
	caa_cache_free(c);
}

/* Config errors name the key; a missing key file is refused at start. */
static void test_setup_errors(void **state)
{
	char json[512], err[256];
	caa_config_t *cfg;
	caa_cache_t *c;
	(void)state;
	snprintf(json, sizeof(json),
	         "{\"cache\": {\"backend\": \"redis\", \"redis\": {\"address\": \"127.0.0.1:1\", "
	         "\"key_file\": \"%s/none\"}}}",
	         dir);
	assert_int_equal(caa_config_parse(json, strlen(json), &cfg, err, sizeof(err)), CAA_EOK);
	assert_int_equal(caa_cache_new(cfg, &c, err, sizeof(err)), CAA_ECONFIG);
	assert_non_null(strstr(err, "cache.redis.key_file"));
	caa_config_free(cfg);
	write_file("short", "0123456789\n");
	snprintf(json, sizeof(json),
	         "{\"cache\": {\"backend\": \"redis\", \"redis\": {\"address\": \"127.0.0.1:1\", "
	         "\"key_file\": \"%s/short\"}}}",
	         dir);
	assert_int_equal(caa_config_parse(json, strlen(json), &cfg, err, sizeof(err)), CAA_EOK);
	assert_int_equal(caa_cache_new(cfg, &c, err, sizeof(err)), CAA_ECONFIG);
	assert_non_null(strstr(err, "at least 16"));
	caa_config_free(cfg);
	/* Redis not there at all: a cache that misses, not an error */
	snprintf(json, sizeof(json),
	         "{\"cache\": {\"backend\": \"redis\", \"redis\": {\"address\": \"127.0.0.1:1\", "
	         "\"key_file\": \"%s/key\"}}}",
	         dir);
	assert_int_equal(caa_config_parse(json, strlen(json), &cfg, err, sizeof(err)), CAA_EOK);
	assert_int_equal(caa_cache_new(cfg, &c, err, sizeof(err)), CAA_EOK);
	caa_config_free(cfg);
	put(c, "nowhere.example", true, now_ms());
	assert_false(reused(c, "nowhere.example", NULL));
	assert_true(caa_cache_errors(c) > 0);
	caa_cache_free(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_put_get), cmocka_unit_test(test_shared),
	    cmocka_unit_test(test_meta),    cmocka_unit_test(test_newest_wins),
	    cmocka_unit_test(test_race),    cmocka_unit_test(test_garbage),
	    cmocka_unit_test(test_keys),    cmocka_unit_test(test_setup_errors),
	    cmocka_unit_test(test_stopped), cmocka_unit_test(test_restart),
	};
	int rc;
	if (!redis_available()) {
		fprintf(stderr, "SKIP: no redis-server\n");
		return 77;
	}
	if (mkdtemp(dir) == NULL)
		return 1;
	write_file("key", SECRET "\n");
	write_file("key2", SECRET "-other\n");
	if (redis_start(&redis, 0, dir) != 0) {
		fprintf(stderr, "cannot start redis-server\n");
		return 1;
	}
	rc = cmocka_run_group_tests(tests, NULL, NULL);
	redis_signal(&redis, SIGCONT);
	redis_signal(&redis, SIGTERM);
	char rm[300];
	snprintf(rm, sizeof(rm), "rm -rf '%s'", dir);
	if (system(rm) != 0)
		rc = rc != 0 ? rc : 1;
	return rc;
}
