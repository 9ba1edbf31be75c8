/*
 * test_outstanding.c — dns.max_outstanding against the DNS lab: libunbound
 * never holds more queries than the cap (caa_ctx_stats), labels beyond it
 * wait in the climb's FIFO and are answered from there, and a check whose
 * deadline passes while its labels wait fails closed with its problem.
 *
 *   answered   cap 2, 40 checks at once (permitted and forbidden names, three
 *              zones): every one answered as without a cap, labels queued
 *   deadline   cap 2 held by queries to a silent zone (drop.lab: libunbound
 *              keeps them for seconds after caad stops waiting), then checks
 *              of answering zones with a 1.5 s deadline: they wait, and end
 *              LOOKUP_FAILED / DNS_TIMEOUT at their deadline, never PERMITTED
 *   shutdown   the context is freed with those queries still in libunbound:
 *              they are called back and freed (ASan/LSan)
 *
 *   test_outstanding LABDIR
 */
#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "climb.h"

#define CAP     2
#define HANG_US 60000000u /* generous: catches hangs, not speed */
#define N_ANS   40
#define N_LATE  6

static int failures;

#define CHECK(cond, ...)                                                                           \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			printf("FAIL ");                                                           \
			printf(__VA_ARGS__);                                                       \
			printf("\n");                                                              \
			failures++;                                                                \
		}                                                                                  \
	} while (0)

typedef struct job {
	char name[96];
	caa_verdict_t want;
	bool done;
	int rc;
	caa_result_t *res;
} job_t;

static size_t pending;

static void on_check(void *arg, int rc, caa_result_t *res)
{
	job_t *j = arg;
	CHECK(!j->done, "%s: called back twice", j->name);
	j->done = true;
	j->rc = rc;
	j->res = res;
	pending--;
}

static uint64_t now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static void start(caa_ctx_t *ctx, job_t *j, uint64_t timeout_ms)
{
	caa_request_t req = {.type = "dns",
	                     .identifier = j->name,
	                     .account_uri = "https://ca.example/acme/acct/1",
	                     .method = "dns-01"};
	int rc = caa_check_async(ctx, &req, timeout_ms, on_check, j, NULL);
	CHECK(rc == CAA_EOK, "%s: caa_check_async %d", j->name, rc);
	if (rc == CAA_EOK)
		pending++;
}

static bool drive(caa_ctx_t *ctx)
{
	uint64_t end = now_us() + HANG_US;
	while (pending > 0 && now_us() < end)
		caa_ctx_wait(ctx, 100);
	return pending == 0;
}

static caa_ctx_t *ctx_make(const caa_config_t *cfg)
{
	char err[256];
	caa_ctx_t *ctx;
	if (caa_ctx_new(cfg, &ctx, err, sizeof(err)) != CAA_EOK) {
		fprintf(stderr, "test_outstanding: %s\n", err);
		exit(1);
	}
	return ctx;
}

static void answered(const caa_config_t *cfg)
{
	static job_t jobs[N_ANS];
	caa_ctx_t *ctx = ctx_make(cfg);
	for (unsigned i = 0; i < N_ANS; i++) {
		job_t *j = &jobs[i];
		static const char *const zones[] = {"order.lab", "issue-permit.lab",
		                                    "issue-deny.lab"};
		snprintf(j->name, sizeof(j->name), "q%u.%s", i, zones[i % 3]);
		j->want = i % 3 == 2 ? CAA_FORBIDDEN : CAA_PERMITTED;
		start(ctx, j, 0);
	}
	CHECK(drive(ctx), "answered: %zu checks still pending", pending);
	for (unsigned i = 0; i < N_ANS; i++) {
		job_t *j = &jobs[i];
		CHECK(j->done && j->rc == CAA_EOK && j->res != NULL, "answered: %s rc %d", j->name,
		      j->rc);
		if (j->res != NULL)
			CHECK(j->res->verdict == j->want, "answered: %s verdict %d, want %d",
			      j->name, (int)j->res->verdict, (int)j->want);
		caa_result_free(j->res);
	}
	caa_ctx_stats_t st;
	caa_ctx_stats(ctx, &st);
	printf("answered: queries %" PRIu64 ", outstanding peak %" PRIu64 ", labels queued %" PRIu64
	       ", waiting peak %" PRIu64 "\n",
	       st.queries, st.outstanding_peak, st.queued, st.waiting_peak);
	CHECK(st.outstanding_peak <= CAP, "answered: %" PRIu64 " outstanding, cap %u",
	      st.outstanding_peak, CAP);
	CHECK(st.outstanding_peak == CAP, "answered: the cap was never reached (%" PRIu64 ")",
	      st.outstanding_peak);
	CHECK(st.queued > 0 && st.waiting_peak > 0, "answered: no label ever waited for the cap");
	caa_ctx_free(ctx);
}

static void deadline(const caa_config_t *cfg)
{
	static job_t silent[2], late[N_LATE];
	caa_ctx_t *ctx = ctx_make(cfg);
	/* Two labels of drop.lab take both slots and keep them: libunbound
	 * goes on trying the silent server long after these checks end. */
	for (unsigned i = 0; i < 2; i++) {
		snprintf(silent[i].name, sizeof(silent[i].name), "s%u.drop.lab", i);
		start(ctx, &silent[i], 1500);
	}
	CHECK(drive(ctx), "deadline: silent checks still pending");
	for (unsigned i = 0; i < 2; i++) {
		CHECK(silent[i].rc == CAA_EOK && silent[i].res != NULL &&
		          silent[i].res->verdict == CAA_LOOKUP_FAILED,
		      "deadline: %s not LOOKUP_FAILED", silent[i].name);
		caa_result_free(silent[i].res);
	}
	caa_ctx_stats_t st;
	caa_ctx_stats(ctx, &st);
	CHECK(st.outstanding == CAP,
	      "deadline: %" PRIu64 " queries held, want %u (the silent ones)", st.outstanding, CAP);
	for (unsigned i = 0; i < N_LATE; i++) {
		job_t *j = &late[i];
		snprintf(j->name, sizeof(j->name), "l%u.%s", i,
		         i % 2 ? "issue-permit.lab" : "order.lab");
		start(ctx, j, 1500);
	}
	CHECK(drive(ctx), "deadline: %zu queued checks never ended", pending);
	for (unsigned i = 0; i < N_LATE; i++) {
		job_t *j = &late[i];
		const caa_result_t *r = j->res;
		CHECK(j->rc == CAA_EOK && r != NULL, "deadline: %s rc %d", j->name, j->rc);
		if (r == NULL)
			continue;
		CHECK(r->verdict == CAA_LOOKUP_FAILED && r->reason == CAA_R_DNS_TIMEOUT,
		      "deadline: %s verdict %d reason %d, want LOOKUP_FAILED DNS_TIMEOUT", j->name,
		      (int)r->verdict, (int)r->reason);
		CHECK(r->problem != NULL && strstr(r->problem->detail, "timed out") != NULL,
		      "deadline: %s problem \"%s\"", j->name,
		      r->problem ? r->problem->detail : "(none)");
		caa_result_free(j->res);
	}
	caa_ctx_stats(ctx, &st);
	printf("deadline: outstanding %" PRIu64 " (peak %" PRIu64 "), labels queued %" PRIu64
	       ", waiting now %" PRIu64 "\n",
	       st.outstanding, st.outstanding_peak, st.queued, st.waiting);
	CHECK(st.outstanding_peak <= CAP, "deadline: %" PRIu64 " outstanding, cap %u",
	      st.outstanding_peak, CAP);
	CHECK(st.queued >= N_LATE, "deadline: only %" PRIu64 " labels waited", st.queued);
	CHECK(st.waiting == 0, "deadline: %" PRIu64 " labels still wait after their checks ended",
	      st.waiting);
	/* shutdown with the silent queries still in libunbound */
	caa_ctx_free(ctx);
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: test_outstanding LABDIR\n");
		return 2;
	}
	char path[4096], err[512];
	snprintf(path, sizeof(path), "%s/caa.json", argv[1]);
	caa_config_t *cfg;
	if (caa_config_load(path, &cfg, err, sizeof(err)) != CAA_EOK) {
		fprintf(stderr, "test_outstanding: %s\n", err);
		return 1;
	}
	cfg->dns.max_outstanding = CAP;
	answered(cfg);
	deadline(cfg);
	caa_config_free(cfg);
	printf("%s test_outstanding (%d failures)\n", failures ? "FAIL" : "PASS", failures);
	return failures ? 1 : 0;
}
