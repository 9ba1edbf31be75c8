/*
 * test_enomem.c — the climb under allocation failure (failalloc.h): the Nth
 * allocation made by libcaa fails, for every N an order through the climb
 * makes, against the DNS lab. Every run must end (its callback called once,
 * within a hang-catching bound), ASan/LSan-clean, and never answer PERMITTED
 * where the run without failures did not — nor with another reason or
 * relevant domain: a PERMITTED that came from a failure is a wrong one.
 *
 *   warm   one context, the order's answers in libunbound's cache: every
 *          label answers inside ub_resolve_event(), in one order
 *   cold   a fresh context per N (made before arming): real queries to the
 *          lab, libunbound's events and timers on caad's loop
 *   check  single checks of the order's names, warm
 *
 *   test_enomem LABDIR
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "climb.h"
#include "failalloc.h"

#define HANG_US 60000000u /* a run that takes this long hangs */
#define MAX_N   20000u    /* no sweep gets near: the order makes a few hundred */

static int failures;

#define FAIL(...)                                                                          \
	do {                                                                               \
		printf("FAIL ");                                                           \
		printf(__VA_ARGS__);                                                       \
		printf("\n");                                                              \
		failures++;                                                                \
	} while (0)

/* Two names decided by one shared label (issue-permit.lab): the second
 * check's waiter follows the first's in that label's waiter list. */
static const char *const names[] = {"a1.issue-permit.lab", "a2.issue-permit.lab",
                                    "www.issue-deny.lab", "w2.issue-deny.lab",
                                    "www.nocaa.lab"};
#define N_NAMES (sizeof(names) / sizeof(names[0]))

typedef struct expect {
	caa_verdict_t verdict;
	caa_reason_t reason;
	char relevant[64];
} expect_t;

static expect_t base[N_NAMES];
static caa_request_t reqs[N_NAMES];

typedef struct done {
	bool called;
	unsigned calls;
	int rc;
	caa_result_t **results;
	caa_result_t *res;
	size_t n;
	caa_problem_t *agg;
} done_t;

static void on_order(void *arg, int rc, caa_result_t **results, size_t n, caa_problem_t *agg)
{
	done_t *d = arg;
	d->called = true;
	d->calls++;
	d->rc = rc;
	d->results = results;
	d->n = n;
	d->agg = agg;
}

static void on_check(void *arg, int rc, caa_result_t *res)
{
	done_t *d = arg;
	d->called = true;
	d->calls++;
	d->rc = rc;
	d->res = res;
}

static uint64_t now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static bool drive(caa_ctx_t *ctx, done_t *d)
{
	uint64_t end = now_us() + HANG_US;
	while (!d->called && now_us() < end)
		caa_ctx_wait(ctx, 100);
	return d->called;
}

/* A result under injected failure: anything but PERMITTED fails closed; a
 * PERMITTED must be the one the run without failures gave. */
static void judge(const char *sweep, unsigned long n, size_t i, const caa_result_t *r)
{
	if (r == NULL) {
		FAIL("%s N=%lu: %s: CAA_EOK without a result", sweep, n, names[i]);
		return;
	}
	if (r->verdict != CAA_PERMITTED)
		return;
	if (base[i].verdict != CAA_PERMITTED || r->reason != base[i].reason ||
	    strcmp(r->relevant_domain, base[i].relevant) != 0)
		FAIL("%s N=%lu: %s PERMITTED (reason %d, relevant \"%s\") where the run without "
		     "failures said verdict %d reason %d relevant \"%s\"",
		     sweep, n, names[i], (int)r->reason, r->relevant_domain, (int)base[i].verdict,
		     (int)base[i].reason, base[i].relevant);
}

/* One order with the nth allocation failing (0: none). Returns whether the
 * injected failure happened. */
static bool order_once(caa_ctx_t *ctx, const char *sweep, unsigned long n, bool record)
{
	done_t d = {0};
	failalloc_arm(n);
	int rc = caa_order_async(ctx, reqs, N_NAMES, 0, on_order, &d, NULL, NULL);
	bool started = rc == CAA_EOK;
	if (started && !drive(ctx, &d))
		FAIL("%s N=%lu: the order did not end within %u s", sweep, n, HANG_US / 1000000u);
	failalloc_disarm();
	bool fired = failalloc_fired();
	if (!started) {
		if (rc != CAA_ENOMEM)
			FAIL("%s N=%lu: caa_order_async: %d", sweep, n, rc);
		return fired;
	}
	if (d.calls != 1)
		FAIL("%s N=%lu: callback called %u times", sweep, n, d.calls);
	if (d.rc != CAA_EOK) {
		if (d.rc != CAA_ENOMEM || d.results != NULL)
			FAIL("%s N=%lu: order rc %d (results %p)", sweep, n, d.rc,
			     (void *)d.results);
		if (!fired)
			FAIL("%s N=%lu: order failed (%d) without an injected failure", sweep, n,
			     d.rc);
	} else {
		if (d.n != N_NAMES)
			FAIL("%s N=%lu: %zu results", sweep, n, d.n);
		for (size_t i = 0; i < d.n; i++) {
			const caa_result_t *r = d.results[i];
			if (record && r != NULL) {
				base[i].verdict = r->verdict;
				base[i].reason = r->reason;
				snprintf(base[i].relevant, sizeof(base[i].relevant), "%s",
				         r->relevant_domain);
			} else {
				judge(sweep, n, i, r);
			}
		}
	}
	for (size_t i = 0; i < d.n; i++)
		caa_result_free(d.results[i]);
	free(d.results);
	caa_problem_free(d.agg);
	return fired;
}

static bool check_once(caa_ctx_t *ctx, size_t i, unsigned long n)
{
	done_t d = {0};
	failalloc_arm(n);
	int rc = caa_check_async(ctx, &reqs[i], 0, on_check, &d, NULL);
	bool started = rc == CAA_EOK;
	if (started && !drive(ctx, &d))
		FAIL("check N=%lu: %s did not end", n, names[i]);
	failalloc_disarm();
	bool fired = failalloc_fired();
	if (!started) {
		if (rc != CAA_ENOMEM)
			FAIL("check N=%lu: caa_check_async: %d", n, rc);
		return fired;
	}
	if (d.calls != 1)
		FAIL("check N=%lu: callback called %u times", n, d.calls);
	if (d.rc == CAA_EOK)
		judge("check", n, i, d.res);
	else if (d.rc != CAA_ENOMEM || d.res != NULL || !fired)
		FAIL("check N=%lu: %s rc %d", n, names[i], d.rc);
	caa_result_free(d.res);
	return fired;
}

static caa_ctx_t *ctx_make(const caa_config_t *cfg)
{
	char err[256];
	caa_ctx_t *ctx;
	if (caa_ctx_new(cfg, &ctx, err, sizeof(err)) != CAA_EOK) {
		fprintf(stderr, "test_enomem: %s\n", err);
		exit(1);
	}
	return ctx;
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: test_enomem LABDIR\n");
		return 2;
	}
	char path[4096], err[512];
	snprintf(path, sizeof(path), "%s/caa.json", argv[1]);
	caa_config_t *cfg;
	if (caa_config_load(path, &cfg, err, sizeof(err)) != CAA_EOK) {
		fprintf(stderr, "test_enomem: %s\n", err);
		return 1;
	}
	for (size_t i = 0; i < N_NAMES; i++) {
		reqs[i].type = "dns";
		reqs[i].identifier = names[i];
		reqs[i].account_uri = "https://ca.example/acme/acct/1";
		reqs[i].method = "dns-01";
	}

	/* The run without failures, twice: the second from the cache. */
	caa_ctx_t *warm = ctx_make(cfg);
	order_once(warm, "baseline", 0, true);
	order_once(warm, "baseline", 0, true);
	static const caa_verdict_t want[N_NAMES] = {CAA_PERMITTED, CAA_PERMITTED, CAA_FORBIDDEN,
	                                            CAA_FORBIDDEN, CAA_PERMITTED};
	for (size_t i = 0; i < N_NAMES; i++)
		if (base[i].verdict != want[i])
			FAIL("baseline: %s verdict %d, want %d", names[i], (int)base[i].verdict,
			     (int)want[i]);
	if (failures) {
		printf("FAIL test_enomem: the lab does not answer as expected\n");
		return 1;
	}

	struct {
		const char *name;
		unsigned long runs, fired;
	} sw[3] = {{"warm", 0, 0}, {"cold", 0, 0}, {"check", 0, 0}};

	for (unsigned long n = 1; n < MAX_N; n++) {
		sw[0].runs++;
		if (!order_once(warm, "warm", n, false))
			break;
		sw[0].fired++;
	}
	for (unsigned long n = 1; n < MAX_N; n++) {
		caa_ctx_t *ctx = ctx_make(cfg);
		sw[1].runs++;
		bool fired = order_once(ctx, "cold", n, false);
		caa_ctx_free(ctx);
		if (!fired)
			break;
		sw[1].fired++;
	}
	for (size_t i = 0; i < N_NAMES; i++)
		for (unsigned long n = 1; n < MAX_N; n++) {
			sw[2].runs++;
			if (!check_once(warm, i, n))
				break;
			sw[2].fired++;
		}
	caa_ctx_free(warm);
	caa_config_free(cfg);

	for (int i = 0; i < 3; i++)
		printf("%s: %lu runs, %lu with an injected failure\n", sw[i].name, sw[i].runs,
		       sw[i].fired);
	if (sw[0].fired == 0 || sw[1].fired == 0 || sw[2].fired == 0)
		FAIL("a sweep injected nothing: is the allocator wrapped?");
	printf("%s test_enomem (%d failures)\n", failures ? "FAIL" : "PASS", failures);
	return failures ? 1 : 0;
}
