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
 * Then with dns.max_per_zone 1, so a name's labels wait in their zone's FIFO
 * and are sent from it as slots come free (a send that fails there gives a
 * slot back inside the pump that sent it):
 *
 *   zone-ub     a fresh context per N, a multi-label name, every CAA query
 *               from the Nth on failing to start (ub_resolve_event UB_NOMEM)
 *   zone-alloc  the same name, the Nth allocation failing, cold
 *   explain     an explaining check of a SERVFAIL zone (a diagnosis runs and
 *               comes back through a submission), the Nth allocation failing
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

#include "labcheck.h"

/* Two names decided by one shared label (issue-permit.lab): the second
 * check's waiter follows the first's in that label's waiter list. */
static const char *const names[] = {"a1.issue-permit.lab", "a2.issue-permit.lab",
                                    "www.issue-deny.lab", "w2.issue-deny.lab", "www.nocaa.lab"};
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
static void judge(const char *sweep, unsigned long n, const char *name, const expect_t *want,
                  const caa_result_t *r)
{
	if (r == NULL) {
		FAIL("%s N=%lu: %s: CAA_EOK without a result", sweep, n, name);
		return;
	}
	if (r->verdict != CAA_PERMITTED)
		return;
	if (want->verdict != CAA_PERMITTED || r->reason != want->reason ||
	    strcmp(r->relevant_domain, want->relevant) != 0)
		FAIL("%s N=%lu: %s PERMITTED (reason %d, relevant \"%s\") where the run without "
		     "failures said verdict %d reason %d relevant \"%s\"",
		     sweep, n, name, (int)r->reason, r->relevant_domain, (int)want->verdict,
		     (int)want->reason, want->relevant);
}

static void record_result(expect_t *e, const caa_result_t *r)
{
	e->verdict = r->verdict;
	e->reason = r->reason;
	snprintf(e->relevant, sizeof(e->relevant), "%s", r->relevant_domain);
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
			if (record && r != NULL)
				record_result(&base[i], r);
			else
				judge(sweep, n, names[i], &base[i], r);
		}
	}
	for (size_t i = 0; i < d.n; i++)
		caa_result_free(d.results[i]);
	free(d.results);
	caa_problem_free(d.agg);
	return fired;
}

/* One check with the nth allocation failing (alloc), or every CAA query from
 * the nth on failing to start (!alloc); n 0: nothing fails. With rec, the
 * result becomes the expectation want; else it is judged against it.
 * Returns whether the injected failure happened. */
static bool check_run(caa_ctx_t *ctx, const char *sweep, const caa_request_t *req, unsigned long n,
                      bool alloc, expect_t *want, bool rec)
{
	done_t d = {0};
	if (alloc)
		failalloc_arm(n);
	else
		failalloc_ub_arm(n);
	int rc = caa_check_async(ctx, req, 0, on_check, &d, NULL);
	bool started = rc == CAA_EOK;
	if (started && !drive(ctx, &d))
		FAIL("%s N=%lu: %s did not end", sweep, n, req->identifier);
	failalloc_disarm();
	failalloc_ub_disarm();
	bool fired = alloc ? failalloc_fired() : failalloc_ub_fired();
	if (!started) {
		if (rc != CAA_ENOMEM || !alloc)
			FAIL("%s N=%lu: caa_check_async: %d", sweep, n, rc);
		return fired;
	}
	if (d.calls != 1)
		FAIL("%s N=%lu: callback called %u times", sweep, n, d.calls);
	if (d.rc == CAA_EOK && rec && d.res != NULL)
		record_result(want, d.res);
	else if (d.rc == CAA_EOK)
		judge(sweep, n, req->identifier, want, d.res);
	else if (d.rc != CAA_ENOMEM || d.res != NULL || !alloc || !fired)
		FAIL("%s N=%lu: %s rc %d", sweep, n, req->identifier, d.rc);
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
	setvbuf(stdout, NULL, _IOLBF, 0); /* what ran before a sanitizer ends the run */
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
	} sw[6] = {{"warm", 0, 0},    {"cold", 0, 0},       {"check", 0, 0},
	           {"zone-ub", 0, 0}, {"zone-alloc", 0, 0}, {"explain", 0, 0}};

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
			if (!check_run(warm, "check", &reqs[i], n, true, &base[i], false))
				break;
			sw[2].fired++;
		}
	caa_ctx_free(warm);

	/* One slot per zone: a.b.nocaa.lab's three labels in zone nocaa.lab go
	 * one after the other, each sent from the pump when the last ends. */
	cfg->dns.max_per_zone = 1;
	caa_request_t deep = reqs[0], expl = reqs[0];
	deep.identifier = "a.b.nocaa.lab";
	expl.identifier = "a.servfail.lab";
	expl.explain = true;
	expect_t deep_want, expl_want;
	caa_ctx_t *ctx = ctx_make(cfg);
	check_run(ctx, "baseline", &deep, 0, true, &deep_want, true);
	caa_ctx_free(ctx);
	if (deep_want.verdict != CAA_PERMITTED)
		FAIL("baseline: %s verdict %d, want PERMITTED", deep.identifier,
		     (int)deep_want.verdict);
	for (int alloc = 0; alloc < 2; alloc++)
		for (unsigned long n = 1; n < MAX_N; n++) {
			ctx = ctx_make(cfg);
			sw[3 + alloc].runs++;
			bool fired =
			    check_run(ctx, sw[3 + alloc].name, &deep, n, alloc, &deep_want, false);
			caa_ctx_free(ctx);
			if (!fired)
				break;
			sw[3 + alloc].fired++;
		}
	ctx = ctx_make(cfg);
	check_run(ctx, "baseline", &expl, 0, true, &expl_want, true);
	if (expl_want.verdict == CAA_PERMITTED)
		FAIL("baseline: %s PERMITTED", expl.identifier);
	for (unsigned long n = 1; n < MAX_N; n++) {
		sw[5].runs++;
		if (!check_run(ctx, "explain", &expl, n, true, &expl_want, false))
			break;
		sw[5].fired++;
	}
	caa_ctx_free(ctx);
	caa_config_free(cfg);

	for (int i = 0; i < 6; i++) {
		printf("%s: %lu runs, %lu with an injected failure\n", sw[i].name, sw[i].runs,
		       sw[i].fired);
		if (sw[i].fired == 0)
			FAIL("sweep %s injected nothing: are the allocator and "
			     "ub_resolve_event wrapped?",
			     sw[i].name);
	}
	printf("%s test_enomem (%d failures)\n", failures ? "FAIL" : "PASS", failures);
	return failures ? 1 : 0;
}
