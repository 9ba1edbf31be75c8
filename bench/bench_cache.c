/*
 * bench_cache.c — the reuse cache under load: fill a memory-backend cache to N
 * entries (default 1 000 000), report bytes per entry (the backend's arrays,
 * the heap growth by mallinfo2, and the RSS growth), then caa_cache_reuse()
 * lookups/s on 1 and 2 threads over random stored keys (the full path: parse
 * the identifier, SipHash the key, look up, build and free the result), and
 * the backend's get/s on precomputed digests (the lock and the table alone).
 *
 *   bench_cache [entries] [seconds-per-run]
 *   bench_cache --redis ADDRESS KEY_FILE [entries] [seconds-per-run]
 *
 * With --redis, the same reuse lookups through the "redis" backend on a
 * running Redis (docs/reuse-window.md, "The Redis backend"), on 1 to 8
 * threads (its pool holds 8 connections).
 */
#include <malloc.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cache.h"

#define NOW   INT64_C(1763900000000)
#define ACCT  "https://ca.example/acme/acct/123456"
#define NAMEW 64 /* "h<number>.shop<number>.example" fits */
#define MAX_T 8

static size_t n_entries = 1000000;
static double seconds = 2.0;
static char *names;      /* n_entries identifiers, NAMEW octets apart */
static uint8_t *digests; /* n_entries digests for the backend run */

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static size_t heap_in_use(void)
{
	struct mallinfo2 mi = mallinfo2();
	return mi.uordblks + mi.hblkhd;
}

static size_t rss_bytes(void)
{
	unsigned long size = 0, resident = 0;
	FILE *f = fopen("/proc/self/statm", "r");
	if (f != NULL) {
		if (fscanf(f, "%lu %lu", &size, &resident) != 2)
			resident = 0;
		fclose(f);
	}
	return (size_t)resident * (size_t)sysconf(_SC_PAGESIZE);
}

/* xorshift64*: a cheap per-thread random key index */
static uint64_t next_rand(uint64_t *s)
{
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * UINT64_C(2685821657736338717);
}

/* A permission as a check leaves it: what the reused result will show (its
 * relevant domain, the deciding record, the DNSSEC state) included. */
static caa_result_t permission(const char *name)
{
	static caa_record_t rec = {.tag = "issue", .value = "ca.example; accounturi=" ACCT};
	caa_result_t ok = {.verdict = CAA_PERMITTED,
	                   .reason = CAA_R_AUTHORIZED,
	                   .checked_at_ms = NOW,
	                   .dnssec = CAA_DNSSEC_SECURE,
	                   .relevant_domain = (char *)name,
	                   .records = &rec,
	                   .n_records = 1,
	                   .decided_by = 0};
	return ok;
}

typedef struct {
	caa_cache_t *c; /* reuse run */
	void *impl;     /* backend run */
	unsigned id;
	volatile const int *stop;
	unsigned long ops, hits;
} worker_t;

static void *reuse_worker(void *arg)
{
	worker_t *w = arg;
	uint64_t s = 0x9e3779b97f4a7c15ULL * (w->id + 1);
	caa_request_t r = {.account_uri = ACCT, .method = "dns-01", .policy = ""};
	while (!*w->stop) {
		for (int i = 0; i < 256; i++) {
			caa_result_t *res;
			r.identifier = names + (next_rand(&s) % n_entries) * NAMEW;
			if (caa_cache_reuse(w->c, &r, NOW + 1000, &res)) {
				w->hits++;
				caa_result_free(res);
			}
		}
		w->ops += 256;
	}
	return NULL;
}

static void *get_worker(void *arg)
{
	worker_t *w = arg;
	uint64_t s = 0x9e3779b97f4a7c15ULL * (w->id + 1);
	while (!*w->stop) {
		for (int i = 0; i < 256; i++) {
			caa_cache_entry_t e;
			const uint8_t *d = digests + (next_rand(&s) % n_entries) * 16;
			w->hits += caa_cache_memory_backend.get(w->impl, d, &e);
		}
		w->ops += 256;
	}
	return NULL;
}

/* ops/s over threads for seconds; hits must equal ops (every key is stored). */
static double run(void *(*fn)(void *), caa_cache_t *c, void *impl, unsigned threads)
{
	pthread_t t[MAX_T];
	worker_t w[MAX_T];
	volatile int stop = 0;
	unsigned long ops = 0, hits = 0;
	double t0 = now_s(), t1;

	for (unsigned i = 0; i < threads; i++) {
		w[i] = (worker_t){.c = c, .impl = impl, .id = i, .stop = &stop};
		if (pthread_create(&t[i], NULL, fn, &w[i]) != 0) {
			perror("pthread_create");
			exit(1);
		}
	}
	while (now_s() - t0 < seconds)
		usleep(10000);
	stop = 1;
	for (unsigned i = 0; i < threads; i++) {
		pthread_join(t[i], NULL);
		ops += w[i].ops;
		hits += w[i].hits;
	}
	t1 = now_s();
	if (hits != ops)
		fprintf(stderr, "warning: %lu of %lu lookups missed\n", ops - hits, ops);
	return (double)ops / (t1 - t0);
}

/* The reuse run through Redis: fill, then lookups on 1, 2, 4, 8 threads. */
static int redis_main(const char *address, const char *key_file)
{
	char json[1024], err[256];
	caa_config_t *cfg;
	caa_cache_t *c;

	snprintf(json, sizeof(json),
	         "{\"cache\": {\"backend\": \"redis\", \"redis\": {\"address\": \"%s\", "
	         "\"key_file\": \"%s\", \"timeout\": \"1s\"}}}",
	         address, key_file);
	if (caa_config_parse(json, strlen(json), &cfg, err, sizeof(err)) != CAA_EOK ||
	    caa_cache_new(cfg, &c, err, sizeof(err)) != CAA_EOK) {
		fprintf(stderr, "%s\n", err);
		return 1;
	}
	double t0 = now_s();
	for (size_t i = 0; i < n_entries; i++) {
		caa_request_t r = {.identifier = names + i * NAMEW,
		                   .account_uri = ACCT,
		                   .method = "dns-01",
		                   .policy = ""};
		caa_result_t ok = permission(names + i * NAMEW);
		if (caa_cache_put_request(c, &r, &ok) != CAA_EOK)
			return 1;
	}
	printf("redis puts, 1 thread  %.0f/s (%zu entries)\n", (double)n_entries / (now_s() - t0),
	       n_entries);
	for (unsigned t = 1; t <= MAX_T; t *= 2)
		printf("redis reuse, %u thread%s %.0f lookups/s\n", t, t > 1 ? "s" : " ",
		       run(reuse_worker, c, NULL, t));
	printf("errors             %llu\n", (unsigned long long)caa_cache_errors(c));
	caa_cache_free(c);
	caa_config_free(cfg);
	return 0;
}

int main(int argc, char **argv)
{
	caa_config_t *cfg;
	caa_cache_t *c;
	void *impl;
	char err[256];
	size_t heap0, rss0, heap1, rss1;
	unsigned max_threads = 2;
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);

	const char *redis_address = NULL, *redis_key = NULL;
	if (argc > 3 && strcmp(argv[1], "--redis") == 0) {
		redis_address = argv[2];
		redis_key = argv[3];
		argv += 3;
		argc -= 3;
		n_entries = 100000;
	}
	if (argc > 1)
		n_entries = strtoul(argv[1], NULL, 10);
	if (argc > 2)
		seconds = atof(argv[2]);
	if (n_entries == 0 || seconds <= 0) {
		fprintf(stderr, "usage: bench_cache [entries] [seconds-per-run]\n");
		return 2;
	}
	if (cpus > 2)
		max_threads = cpus >= 4 ? 4 : 2;

	names = malloc(n_entries * NAMEW);
	digests = malloc(n_entries * 16);
	if (names == NULL || digests == NULL)
		return 1;
	for (size_t i = 0; i < n_entries; i++)
		snprintf(names + i * NAMEW, NAMEW, "h%zu.shop%zu.example", i, i % 997);

	if (redis_address != NULL) {
		int rc = redis_main(redis_address, redis_key);
		free(names);
		free(digests);
		return rc;
	}
	if (caa_config_default(&cfg) != CAA_EOK)
		return 1;
	cfg->cache.max_entries = n_entries;

	/* the full cache: memory measured around creating and filling it */
	heap0 = heap_in_use();
	rss0 = rss_bytes();
	if (caa_cache_new(cfg, &c, err, sizeof(err)) != CAA_EOK) {
		fprintf(stderr, "%s\n", err);
		return 1;
	}
	for (size_t i = 0; i < n_entries; i++) {
		caa_request_t r = {.identifier = names + i * NAMEW,
		                   .account_uri = ACCT,
		                   .method = "dns-01",
		                   .policy = ""};
		caa_result_t ok = permission(names + i * NAMEW);
		if (caa_cache_put_request(c, &r, &ok) != CAA_EOK)
			return 1;
	}
	heap1 = heap_in_use();
	rss1 = rss_bytes();
	printf("entries            %zu (count %zu)\n", n_entries, caa_cache_count(c));
	printf("heap (mallinfo2)   %.1f bytes/entry\n",
	       (double)(heap1 - heap0) / (double)n_entries);
	printf("RSS growth         %.1f bytes/entry\n", (double)(rss1 - rss0) / (double)n_entries);

	/* the backend alone, filled with the same number of digests */
	if (caa_cache_memory_new(n_entries, &impl) != CAA_EOK)
		return 1;
	for (size_t i = 0; i < n_entries; i++) {
		uint64_t k = i;
		static const uint8_t key[17] = "bench-cache-key!"; /* 16 used */
		caa_cache_siphash128(key, &k, sizeof(k), digests + i * 16);
		caa_cache_entry_t e = {.at_ms = NOW, .reason = CAA_R_AUTHORIZED};
		caa_cache_memory_backend.put(impl, digests + i * 16, &e);
	}
	printf("backend arrays     %.1f bytes/entry\n",
	       (double)caa_cache_memory_bytes(impl) / (double)n_entries);

	for (unsigned t = 1; t <= max_threads; t *= 2)
		printf("reuse, %u thread%s   %.0f lookups/s\n", t, t > 1 ? "s" : " ",
		       run(reuse_worker, c, NULL, t));
	for (unsigned t = 1; t <= max_threads; t *= 2)
		printf("backend get, %u thr %.0f lookups/s\n", t, run(get_worker, NULL, impl, t));

	caa_cache_memory_backend.free(impl);
	caa_cache_free(c);
	caa_config_free(cfg);
	free(names);
	free(digests);
	return 0;
}
