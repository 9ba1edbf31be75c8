/*
 * test_diagnose.c — lib/diagnose against the DNS lab: for each fault server the
 * sentence must name the cause and the server's address; a healthy name must
 * get the "answer NOERROR" sentence. Also the API: bad names, the queue,
 * shutdown with diagnoses pending, a burst larger than the workers; and that
 * a server address the configuration forbids never gets a packet.
 *
 * And in the climb: a check that did not ask to explain never waits for the
 * diagnosis of a failure it shares with one that did.
 *
 *   test_diagnose [CASE... | api | forbidden | burst | climb] LABDIR
 *
 * The lab must be up (tests/lab/run.sh brings it up and down around this and
 * appends LABDIR). Addresses come from LABDIR/lab.json, so any CAA_LAB_NET works.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "climb.h"
#include "codes.h"
#include "config.h"
#include "diagnose.h"

#define TIMEOUT_MS 8000u
#define SLACK_MS   1500u

#define ANY_RCODE (-2)

typedef struct tcase {
	const char *name;   /* the scenario of deploy/lab/scenarios.json it follows */
	const char *qname;  /* the label whose CAA lookup SERVFAILs in the climb */
	const char *server; /* lab server the result names (its address is "@") */
	bool optional;      /* skipped when the lab has no such server; otherwise that fails */
	caa_diag_kind_t kind;
	int rcode;           /* ANY_RCODE: not checked */
	const char *zone;    /* the zone whose servers were asked last */
	const char *want[4]; /* substrings of the sentence */
} tcase_t;

/* The lab's refused server refuses everything, SOA of its own zone included,
 * exactly like the lame server that serves no zone: on the wire the two are
 * the same, so both come out as LAME with rcode REFUSED (docs/diagnosis.md). */
static const tcase_t cases[] = {
    {"servfail",
     "a.servfail.lab",
     "servfail",
     false,
     CAA_DIAG_RCODE,
     2,
     "servfail.lab",
     {"ns.servfail.lab (@)", "answered SERVFAIL to CAA a.servfail.lab (RD=0)"}},
    {"error-below-relevant",
     "www.sub.rec.lab",
     "servfail",
     false,
     CAA_DIAG_RCODE,
     2,
     "sub.rec.lab",
     {"ns.sub.rec.lab (@)", "answered SERVFAIL to CAA www.sub.rec.lab"}},
    {"error-above-no-caa",
     "above.lab",
     "apex-servfail",
     false,
     CAA_DIAG_RCODE,
     2,
     "above.lab",
     {"ns.above.lab (@) answered SERVFAIL to CAA above.lab", "though it answers SOA above.lab"}},
    {"refused",
     "a.refused.lab",
     "refused",
     false,
     CAA_DIAG_LAME,
     5,
     "refused.lab",
     {"ns.refused.lab (@) answered REFUSED to CAA a.refused.lab (RD=0)"}},
    {"notimp",
     "a.notimp.lab",
     "notimp",
     false,
     CAA_DIAG_RCODE,
     4,
     "notimp.lab",
     {"ns.notimp.lab (@) answered NOTIMP to CAA a.notimp.lab (RD=0)"}},
    {"formerr",
     "a.formerr.lab",
     "formerr",
     false,
     CAA_DIAG_RCODE,
     1,
     "formerr.lab",
     {"ns.formerr.lab (@) answered FORMERR to CAA a.formerr.lab (RD=0)", "with and without EDNS"}},
    {"drop",
     "a.drop.lab",
     "drop",
     false,
     CAA_DIAG_TIMEOUT,
     -1,
     "drop.lab",
     {"ns.drop.lab (@) did not answer within 1000 ms (UDP), 2 tries"}},
    {"tld-timeout",
     "labme",
     "tld-apex-drop",
     false,
     CAA_DIAG_TIMEOUT,
     -1,
     "labme",
     {"ns.labme (@) did not answer within", "(UDP), 2 tries"}},
    {"truncated-no-tcp",
     "tc.lab",
     "tc",
     false,
     CAA_DIAG_TRUNCATED,
     -1,
     "tc.lab",
     {"ns.tc.lab (@) answered truncated (TC) over UDP and TCP failed: connection reset"}},
    {"lame-delegation",
     "a.lame.lab",
     "lame",
     false,
     CAA_DIAG_LAME,
     5,
     "lame.lab",
     {"ns.lame.lab (@) answered REFUSED", "not authoritative for lame.lab",
      "lame delegation from lab"}},
    {"lame-delegation-upward",
     "a.lame-upward.lab",
     "lame-upward",
     false,
     CAA_DIAG_LAME,
     0,
     "lame-upward.lab",
     {"ns.lame-upward.lab (@) is not authoritative for lame-upward.lab", "upward referral to .",
      "lame delegation from lab"}},
    {"lame-delegation-noaa",
     "a.lame-noaa.lab",
     "lame-noaa",
     false,
     CAA_DIAG_LAME,
     0,
     "lame-noaa.lab",
     {"ns.lame-noaa.lab (@) is not authoritative for lame-noaa.lab", "without AA",
      "lame delegation from lab", "answered NOERROR without AA, RA set"}},
    {"unreachable",
     "a.noserver.lab",
     "unreachable",
     false,
     CAA_DIAG_UNREACHABLE,
     -1,
     "noserver.lab",
     {"ns.noserver.lab (@): no server (ICMP port unreachable",
      "the delegation of noserver.lab from lab points where nothing listens"}},
    {"nodata-without-soa-strict",
     "a.nosoa.lab",
     "nosoa",
     false,
     CAA_DIAG_NODATA_WITHOUT_SOA,
     0,
     "nosoa.lab",
     {"ns.nosoa.lab (@) answered NOERROR without CAA records and without an SOA",
      "NODATA without SOA"}},
    {"no-caa (healthy)",
     "www.nocaa.lab",
     "tld",
     false,
     CAA_DIAG_ANSWERS,
     0,
     "lab",
     {"the authoritative servers of lab (ns.lab @) answer NOERROR to CAA www.nocaa.lab",
      "the failure is in DNSSEC validation or in the resolver"}},
    {"nxdomain-below-tld (healthy)",
     "www.missing.lab",
     "tld",
     false,
     CAA_DIAG_ANSWERS,
     3,
     "lab",
     {"answer NXDOMAIN to CAA www.missing.lab", "DNSSEC validation or in the resolver"}},
    {"dnssec-missing-signatures",
     "nosig.lab",
     "zones",
     false,
     CAA_DIAG_ANSWERS,
     0,
     "nosig.lab",
     {"the authoritative servers of nosig.lab (ns.nosig.lab @) answer NOERROR",
      "DNSSEC validation or in the resolver", "is bogus"}},
    {"cname-loop",
     "loop.alias.lab",
     "zones",
     false,
     CAA_DIAG_CNAME_LOOP,
     0,
     "alias.lab",
     {"CNAME loop", "loop.alias.lab -> loop2.alias.lab -> loop.alias.lab"}},
};

static json_t *manifest;
static int failures, passes, skips;

static uint64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static const char *server_addr(const char *name)
{
	size_t i;
	json_t *s;
	json_array_foreach(json_object_get(manifest, "servers"), i, s)
	{
		const char *n = json_string_value(json_object_get(s, "name"));
		if (n != NULL && strcmp(n, name) == 0)
			return json_string_value(json_object_get(s, "address"));
	}
	return NULL;
}

/* want with "@" replaced by addr */
static void expand(const char *want, const char *addr, char *out, size_t cap)
{
	const char *at = strchr(want, '@');
	if (at == NULL || addr == NULL)
		snprintf(out, cap, "%s", want);
	else
		snprintf(out, cap, "%.*s%s%s", (int)(at - want), want, addr, at + 1);
}

static void run_case(caa_diag_t *d, const tcase_t *c)
{
	const char *addr = server_addr(c->server);
	if (addr == NULL) {
		printf("%s %s: the lab has no server \"%s\"\n", c->optional ? "SKIP" : "FAIL",
		       c->name, c->server);
		if (c->optional)
			skips++;
		else
			failures++;
		return;
	}
	caa_diag_result_t *res = NULL;
	uint64_t t0 = now_ms();
	int rc = caa_diag_run(d, c->qname, TIMEOUT_MS, &res);
	uint64_t took = now_ms() - t0;
	bool bad = false;
	if (rc != CAA_EOK || res == NULL) {
		printf("FAIL %s: caa_diag_run: %s\n", c->name, caa_strerror(rc));
		failures++;
		return;
	}
	for (size_t i = 0; i < 4 && c->want[i] != NULL; i++) {
		char w[512];
		expand(c->want[i], addr, w, sizeof(w));
		if (strstr(res->cause, w) == NULL) {
			printf("FAIL %s: sentence lacks \"%s\"\n", c->name, w);
			bad = true;
		}
	}
	if (res->kind != c->kind || (c->rcode != ANY_RCODE && res->rcode != c->rcode)) {
		printf("FAIL %s: kind %s rcode %d, want %s rcode %d\n", c->name,
		       caa_diag_kind_name(res->kind), res->rcode, caa_diag_kind_name(c->kind),
		       c->rcode);
		bad = true;
	}
	if (strcmp(res->server, addr) != 0 || strcmp(res->zone, c->zone) != 0) {
		printf("FAIL %s: server \"%s\" zone \"%s\", want \"%s\" \"%s\"\n", c->name,
		       res->server, res->zone, addr, c->zone);
		bad = true;
	}
	if (res->asked < 1 || res->failed > res->asked ||
	    (c->kind != CAA_DIAG_ANSWERS && res->failed < 1)) {
		printf("FAIL %s: %u failed of %u asked\n", c->name, res->failed, res->asked);
		bad = true;
	}
	if (took > TIMEOUT_MS + SLACK_MS) {
		printf("FAIL %s: took %llu ms (timeout %u ms)\n", c->name, (unsigned long long)took,
		       TIMEOUT_MS);
		bad = true;
	}
	printf("%s %s (%s CAA, %llu ms) %s/%d: %s\n", bad ? "    " : "ok  ", c->name, c->qname,
	       (unsigned long long)took, caa_diag_kind_name(res->kind), res->rcode, res->cause);
	if (bad)
		failures++;
	else
		passes++;
	free(res);
}

/* ---- the API ---- */

typedef struct counter {
	atomic_int calls, nulls;
} counter_t;

static void count_cb(void *arg, caa_diag_result_t *res)
{
	counter_t *c = arg;
	atomic_fetch_add(&c->calls, 1);
	if (res == NULL)
		atomic_fetch_add(&c->nulls, 1);
	free(res);
}

#define CHECK(cond, ...)                                                                           \
	do {                                                                                       \
		if (cond) {                                                                        \
			passes++;                                                                  \
		} else {                                                                           \
			printf("FAIL api: ");                                                      \
			printf(__VA_ARGS__);                                                       \
			printf("\n");                                                              \
			failures++;                                                                \
		}                                                                                  \
	} while (0)

static void test_api(const caa_config_t *cfg)
{
	caa_diag_t *d;
	char err[256];
	caa_diag_result_t *res = NULL;
	int rc = caa_diag_new(cfg, &d, err, sizeof(err));
	CHECK(rc == CAA_EOK, "caa_diag_new: %s", err);
	if (rc != CAA_EOK)
		return;
	static const char *const bad_names[] = {"",      ".",       "a..lab",  ".lab",
	                                        "a lab", "a\\.lab", "a.lab..", "x\x01.lab"};
	for (size_t i = 0; i < sizeof(bad_names) / sizeof(bad_names[0]); i++) {
		rc = caa_diag_run(d, bad_names[i], 1000, &res);
		CHECK(rc == CAA_EINVAL && res == NULL, "bad name \"%s\": %s", bad_names[i],
		      caa_strerror(rc));
	}
	char longname[300];
	memset(longname, 'a', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	CHECK(caa_diag_run(d, longname, 1000, &res) == CAA_EINVAL, "a 299-octet name");
	CHECK(caa_diag_run(d, "a.lab", 1000, NULL) == CAA_EINVAL, "NULL out");
	counter_t c = {0};
	CHECK(caa_diag_start(d, "a.lab", 1000, NULL, NULL) == CAA_EINVAL, "NULL callback");

	/* A trailing dot and upper case are fine; the sentence uses the lowercase name. */
	rc = caa_diag_run(d, "A.Servfail.LAB.", TIMEOUT_MS, &res);
	CHECK(rc == CAA_EOK && res != NULL && strstr(res->cause, "CAA a.servfail.lab") != NULL,
	      "normalised name: %s", res != NULL ? res->cause : "(null)");
	free(res);

	/* A budget too small for anything: inconclusive (the bound only catches a
	 * hang: a dropping server would take seconds to diagnose). */
	uint64_t t1 = now_ms();
	rc = caa_diag_run(d, "a.drop.lab", 1, &res);
	CHECK(rc == CAA_EOK && res != NULL && res->kind == CAA_DIAG_INCONCLUSIVE &&
	          now_ms() - t1 < TIMEOUT_MS,
	      "1 ms budget: %s, %s in %llu ms", caa_strerror(rc),
	      res != NULL ? caa_diag_kind_name(res->kind) : "no result",
	      (unsigned long long)(now_ms() - t1));
	if (res != NULL)
		printf("     1 ms budget: %s: %s\n", caa_diag_kind_name(res->kind), res->cause);
	free(res);

	/* The queue: several at once complete, each exactly once. */
	const char *names[] = {"a.servfail.lab", "a.refused.lab", "www.nocaa.lab", "tc.lab"};
	for (size_t i = 0; i < 4; i++)
		CHECK(caa_diag_start(d, names[i], TIMEOUT_MS, count_cb, &c) == CAA_EOK, "start %s",
		      names[i]);
	uint64_t t0 = now_ms();
	while (atomic_load(&c.calls) < 4 && now_ms() - t0 < 4 * (TIMEOUT_MS + SLACK_MS)) {
		struct timespec ts = {0, 20 * 1000000};
		nanosleep(&ts, NULL);
	}
	CHECK(atomic_load(&c.calls) == 4 && atomic_load(&c.nulls) == 0,
	      "queued diagnoses: %d calls, %d NULL", atomic_load(&c.calls), atomic_load(&c.nulls));

	/* Shutdown with slow diagnoses running (on every worker) and more queued:
	 * every callback runs with NULL — the running ones were stopped, not run
	 * to their end (which gives a result) — and nothing hangs. */
	counter_t s = {0};
	for (size_t i = 0; i < CAA_DIAG_WORKERS + 2; i++)
		CHECK(caa_diag_start(d, "a.drop.lab", TIMEOUT_MS, count_cb, &s) == CAA_EOK,
		      "start drop %zu", i);
	struct timespec ts = {0, 300 * 1000000};
	nanosleep(&ts, NULL);
	t0 = now_ms();
	caa_diag_free(d);
	uint64_t took = now_ms() - t0;
	CHECK(atomic_load(&s.calls) == CAA_DIAG_WORKERS + 2 &&
	          atomic_load(&s.nulls) == CAA_DIAG_WORKERS + 2,
	      "shutdown: %d calls, %d NULL (want %d, %d)", atomic_load(&s.calls),
	      atomic_load(&s.nulls), CAA_DIAG_WORKERS + 2, CAA_DIAG_WORKERS + 2);
	CHECK(took < TIMEOUT_MS, "shutdown took %llu ms", (unsigned long long)took);

	/* Queue bound. */
	rc = caa_diag_new(cfg, &d, err, sizeof(err));
	CHECK(rc == CAA_EOK, "caa_diag_new again: %s", err);
	if (rc != CAA_EOK)
		return;
	counter_t q = {0};
	int busy = 0, ok = 0;
	for (size_t i = 0; i < CAA_DIAG_MAX_QUEUE + 10; i++) {
		rc = caa_diag_start(d, "a.drop.lab", TIMEOUT_MS, count_cb, &q);
		if (rc == CAA_EOK)
			ok++;
		else if (rc == CAA_EBUSY)
			busy++;
	}
	caa_diag_free(d);
	/* running ones count against the bound too */
	CHECK(busy == 10 && ok == CAA_DIAG_MAX_QUEUE, "queue bound: %d ok, %d busy", ok, busy);
	CHECK(atomic_load(&q.calls) == ok, "every accepted diagnosis called back: %d of %d",
	      atomic_load(&q.calls), ok);
}

/* ---- the climb: only an explaining check waits ---- */

typedef struct cdone {
	bool done;
	int rc, round;
	caa_result_t *res;
} cdone_t;

static int climb_round;

static void climb_cb(void *arg, int rc, caa_result_t *res)
{
	cdone_t *c = arg;
	c->done = true;
	c->rc = rc;
	c->round = climb_round;
	c->res = res;
}

/* Two checks of one failing name share its lookup; the one that asked to
 * explain waits for the diagnosis, which comes back to the loop in a later
 * round than the failure: the other must have its answer in an earlier round,
 * not with the diagnosis. */
static void test_climb(const caa_config_t *cfg)
{
	caa_ctx_t *ctx;
	char err[256];
	int rc = caa_ctx_new(cfg, &ctx, err, sizeof(err));
	CHECK(rc == CAA_EOK, "caa_ctx_new: %s", err);
	if (rc != CAA_EOK)
		return;
	caa_request_t plain = {.identifier = "a.refused.lab", .method = "dns-01"};
	caa_request_t expl = plain;
	expl.explain = true;
	cdone_t a = {0}, b = {0};
	CHECK(caa_check_async(ctx, &plain, TIMEOUT_MS, climb_cb, &a, NULL) == CAA_EOK, "plain");
	CHECK(caa_check_async(ctx, &expl, TIMEOUT_MS, climb_cb, &b, NULL) == CAA_EOK, "explain");
	uint64_t t0 = now_ms();
	for (climb_round = 1; !(a.done && b.done) && now_ms() - t0 < 2 * TIMEOUT_MS; climb_round++)
		caa_ctx_wait(ctx, 100);
	const char *why = NULL;
	for (size_t i = 0; b.res != NULL && i < b.res->n_trace; i++)
		if (b.res->trace[i].relevant)
			why = b.res->trace[i].why;
	printf("     climb: plain answered in round %d, explaining in round %d: %s\n", a.round,
	       b.round, why ? why : "(no why)");
	CHECK(a.done && b.done && a.res != NULL && b.res != NULL &&
	          a.res->verdict == CAA_LOOKUP_FAILED && b.res->verdict == CAA_LOOKUP_FAILED,
	      "climb: both LOOKUP_FAILED");
	CHECK(a.round < b.round,
	      "climb: the plain check answered in round %d, not before the "
	      "explaining one (round %d)",
	      a.round, b.round);
	CHECK(why != NULL && strstr(why, "diagnosis: ") != NULL &&
	          strstr(why, "answered REFUSED to CAA a.refused.lab") != NULL,
	      "climb: the explaining check's why: %s", why ? why : "(none)");
	caa_result_free(a.res);
	caa_result_free(b.res);

	/* Two failing labels, a name and its zone's apex (REFUSED), each diagnosed:
	 * the check waits for the diagnosis of the lower one, which decides, even
	 * when the apex's comes back first. A plain check of the apex just before
	 * leaves its failure in libunbound's cache, so that the apex often fails,
	 * and is diagnosed, first (the retries' jitter decides: before the fix
	 * this failed in about half of the runs). */
	for (int k = 0; k < 12; k++) {
		char name[64], want[96];
		snprintf(name, sizeof(name), "d%d.refused.lab", k);
		caa_request_t apex = {.identifier = "refused.lab", .method = "dns-01"};
		caa_request_t r = {.identifier = name, .method = "dns-01", .explain = true};
		cdone_t p = {0}, c = {0};
		CHECK(caa_check_async(ctx, &apex, TIMEOUT_MS, climb_cb, &p, NULL) == CAA_EOK,
		      "apex");
		t0 = now_ms();
		while (!p.done && now_ms() - t0 < 2 * TIMEOUT_MS)
			caa_ctx_wait(ctx, 100);
		caa_result_free(p.res);
		CHECK(caa_check_async(ctx, &r, TIMEOUT_MS, climb_cb, &c, NULL) == CAA_EOK, "%s",
		      name);
		t0 = now_ms();
		while (!c.done && now_ms() - t0 < 2 * TIMEOUT_MS)
			caa_ctx_wait(ctx, 100);
		why = NULL;
		for (size_t i = 0; c.res != NULL && i < c.res->n_trace; i++)
			if (c.res->trace[i].relevant)
				why = c.res->trace[i].why;
		snprintf(want, sizeof(want), "to CAA %s (RD=0)", name);
		CHECK(c.res != NULL && c.res->verdict == CAA_LOOKUP_FAILED && why != NULL &&
		          strstr(why, "diagnosis: ") != NULL && strstr(why, want) != NULL,
		      "climb: %s: the deciding label's why: %s", name, why ? why : "(none)");
		caa_result_free(c.res);
	}
	caa_ctx_free(ctx);
}

/* ---- a burst: more diagnoses than workers ---- */

#define BURST_N  (3 * CAA_DIAG_WORKERS)
#define BURST_MS 2000u

typedef struct burst {
	pthread_mutex_t lock;
	int calls, nulls, waited;
} burst_t;

static void burst_cb(void *arg, caa_diag_result_t *res)
{
	burst_t *b = arg;
	pthread_mutex_lock(&b->lock);
	b->calls++;
	if (res == NULL)
		b->nulls++;
	else if (strstr(res->cause, "diagnosis workers, all busy") != NULL)
		b->waited++;
	pthread_mutex_unlock(&b->lock);
	free(res);
}

/* Each diagnosis of a dropping server uses its whole budget, so the ones
 * queued behind the workers must end when their budget (counted from
 * caa_diag_start) is gone, saying they waited, not start late and keep their
 * caller waiting for another budget. */
static void test_burst(const caa_config_t *cfg)
{
	caa_diag_t *d;
	char err[256];
	burst_t b = {.lock = PTHREAD_MUTEX_INITIALIZER};
	int rc = caa_diag_new(cfg, &d, err, sizeof(err));
	CHECK(rc == CAA_EOK, "caa_diag_new: %s", err);
	if (rc != CAA_EOK)
		return;
	for (int i = 0; i < BURST_N; i++) {
		char name[64];
		snprintf(name, sizeof(name), "b%d.drop.lab", i);
		CHECK(caa_diag_start(d, name, BURST_MS, burst_cb, &b) == CAA_EOK, "start %s", name);
	}
	uint64_t t0 = now_ms();
	int calls = 0;
	while (calls < BURST_N && now_ms() - t0 < BURST_N * (BURST_MS + SLACK_MS)) {
		struct timespec ts = {0, 20 * 1000000};
		nanosleep(&ts, NULL);
		pthread_mutex_lock(&b.lock);
		calls = b.calls;
		pthread_mutex_unlock(&b.lock);
	}
	caa_diag_free(d);
	printf("     burst: %d diagnoses of %u ms on %d workers: %d answered, %d waited too long, "
	       "%llu ms\n",
	       BURST_N, BURST_MS, CAA_DIAG_WORKERS, b.calls, b.waited,
	       (unsigned long long)(now_ms() - t0));
	CHECK(b.calls == BURST_N && b.nulls == 0, "burst: %d calls, %d NULL", b.calls, b.nulls);
	CHECK(b.waited >= 1 && b.waited <= BURST_N - CAA_DIAG_WORKERS,
	      "burst: %d ended for having waited (want 1..%d)", b.waited,
	      BURST_N - CAA_DIAG_WORKERS);
}

/* ---- a forbidden server address gets nothing ---- */

/* A UDP or TCP socket on addr port 53, non-blocking; -1 on error. */
static int listen_at(const char *addr, int type)
{
	struct sockaddr_in in = {.sin_family = AF_INET, .sin_port = htons(53)};
	int one = 1, fd = socket(AF_INET, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0 || inet_pton(AF_INET, addr, &in.sin_addr) != 1 ||
	    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) != 0 ||
	    bind(fd, (struct sockaddr *)&in, sizeof(in)) != 0 ||
	    (type == SOCK_STREAM && listen(fd, 16) != 0)) {
		printf("     cannot listen on %s:53: %s\n", addr, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return fd;
}

/* Datagrams and connections that reached the two sockets so far. */
static int arrivals(int udp, int tcp)
{
	uint8_t buf[2048];
	int n = 0, c;
	while (recv(udp, buf, sizeof(buf), MSG_DONTWAIT) >= 0)
		n++;
	while ((c = accept(tcp, NULL, NULL)) >= 0) {
		n++;
		close(c);
	}
	return n;
}

/* The lab's config with `do-not-query-address: addr` added to its unbound.conf. */
static caa_config_t *forbidding_config(const char *labdir, const char *addr)
{
	char path[4096], conf[4096], err[512];
	snprintf(path, sizeof(path), "%s/unbound.conf", labdir);
	snprintf(conf, sizeof(conf), "%s/unbound-forbid.conf", labdir);
	FILE *in = fopen(path, "r"), *out = fopen(conf, "w");
	int ch;
	if (in == NULL || out == NULL) {
		if (in)
			fclose(in);
		if (out)
			fclose(out);
		return NULL;
	}
	while ((ch = fgetc(in)) != EOF)
		fputc(ch, out);
	fprintf(out, "\nserver:\n    do-not-query-address: %s\n", addr);
	fclose(in);
	fclose(out);
	json_error_t jerr;
	snprintf(path, sizeof(path), "%s/caa.json", labdir);
	json_t *j = json_load_file(path, 0, &jerr);
	if (j == NULL)
		return NULL;
	json_object_set_new(json_object_get(j, "dns"), "unbound_conf", json_string(conf));
	char *text = json_dumps(j, 0);
	json_decref(j);
	caa_config_t *cfg = NULL;
	if (text == NULL || caa_config_parse(text, strlen(text), &cfg, err, sizeof(err)) != CAA_EOK)
		printf("     forbidding config: %s\n", err);
	free(text);
	return cfg;
}

/* noserver.lab is delegated (with glue) to the lab's "unreachable" address,
 * where nothing listens: we listen there. With that address on
 * do-not-query-address, diagnosing a.noserver.lab must send it nothing (and
 * say why); with the lab's own config the same diagnosis does reach it, which
 * shows the listener would have seen a packet. */
static void test_forbidden(const char *labdir)
{
	const char *addr = server_addr("unreachable");
	CHECK(addr != NULL, "the lab has no server \"unreachable\"");
	if (addr == NULL)
		return;
	int udp = listen_at(addr, SOCK_DGRAM), tcp = listen_at(addr, SOCK_STREAM);
	CHECK(udp >= 0 && tcp >= 0, "listening on %s:53", addr);
	caa_config_t *cfg = udp >= 0 && tcp >= 0 ? forbidding_config(labdir, addr) : NULL;
	caa_diag_t *d = NULL;
	char err[256];
	if (cfg != NULL) {
		int rc = caa_diag_new(cfg, &d, err, sizeof(err));
		CHECK(rc == CAA_EOK, "caa_diag_new (forbidding %s): %s", addr, err);
	}
	if (d != NULL) {
		caa_diag_result_t *res = NULL;
		int rc = caa_diag_run(d, "a.noserver.lab", TIMEOUT_MS, &res);
		caa_diag_free(d);
		struct timespec ts = {0, 200 * 1000000}; /* anything sent has arrived by now */
		nanosleep(&ts, NULL);
		int n = arrivals(udp, tcp);
		char want[128];
		snprintf(want, sizeof(want), "ns.noserver.lab (%s): on do-not-query-address %s",
		         addr, addr);
		CHECK(rc == CAA_EOK && res != NULL, "forbidden: caa_diag_run: %s",
		      caa_strerror(rc));
		CHECK(n == 0, "forbidden: %d packets or connections reached %s", n, addr);
		if (res != NULL) {
			printf("     forbidden: %s: %s\n", caa_diag_kind_name(res->kind),
			       res->cause);
			CHECK(strcmp(caa_diag_kind_name(res->kind), "FORBIDDEN") == 0 &&
			          strstr(res->cause, want) != NULL &&
			          strcmp(res->zone, "noserver.lab") == 0,
			      "forbidden: %s in zone \"%s\": %s (want FORBIDDEN naming \"%s\")",
			      caa_diag_kind_name(res->kind), res->zone, res->cause, want);
		}
		free(res);
	}
	caa_config_free(cfg);
	/* The control: the lab's config lets the same diagnosis through. */
	snprintf(err, sizeof(err), "%s/caa.json", labdir);
	if (udp >= 0 && tcp >= 0 && caa_config_load(err, &cfg, err, sizeof(err)) == CAA_EOK) {
		caa_diag_result_t *res = NULL;
		if (caa_diag_new(cfg, &d, err, sizeof(err)) == CAA_EOK) {
			caa_diag_run(d, "a.noserver.lab", 3000, &res);
			caa_diag_free(d);
		}
		int n = arrivals(udp, tcp);
		CHECK(n > 0, "control: nothing reached %s with the lab's config (%s)", addr,
		      res != NULL ? res->cause : "no result");
		free(res);
		caa_config_free(cfg);
	}
	if (udp >= 0)
		close(udp);
	if (tcp >= 0)
		close(tcp);
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr,
		        "usage: test_diagnose [CASE... | api | forbidden | burst] LABDIR\n");
		return 2;
	}
	const char *labdir = argv[argc - 1];
	char path[4096], err[512];
	json_error_t jerr;
	snprintf(path, sizeof(path), "%s/lab.json", labdir);
	manifest = json_load_file(path, 0, &jerr);
	if (manifest == NULL) {
		fprintf(stderr, "%s: %s\n", path, jerr.text);
		return 1;
	}
	caa_config_t *cfg;
	snprintf(path, sizeof(path), "%s/caa.json", labdir);
	if (caa_config_load(path, &cfg, err, sizeof(err)) != CAA_EOK) {
		fprintf(stderr, "%s\n", err);
		json_decref(manifest);
		return 1;
	}
	caa_diag_t *d;
	if (caa_diag_new(cfg, &d, err, sizeof(err)) != CAA_EOK) {
		fprintf(stderr, "caa_diag_new: %s\n", err);
		caa_config_free(cfg);
		json_decref(manifest);
		return 1;
	}
	bool all = argc == 2;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		bool wanted = all;
		for (int k = 1; k < argc - 1; k++)
			wanted = wanted || strcmp(argv[k], cases[i].name) == 0;
		if (wanted)
			run_case(d, &cases[i]);
	}
	caa_diag_free(d);
	if (all || (argc == 3 && strcmp(argv[1], "api") == 0))
		test_api(cfg);
	if (all || (argc == 3 && strcmp(argv[1], "burst") == 0))
		test_burst(cfg);
	if (all || (argc == 3 && strcmp(argv[1], "climb") == 0))
		test_climb(cfg);
	/* last: it listens where the "unreachable" case expects nothing */
	if (all || (argc == 3 && strcmp(argv[1], "forbidden") == 0))
		test_forbidden(labdir);
	caa_config_free(cfg);
	json_decref(manifest);
	printf("%d passed, %d failed, %d skipped (optional)\n", passes, failures, skips);
	return failures == 0 ? 0 : 1;
}
