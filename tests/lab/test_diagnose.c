/*
 * test_diagnose.c — lib/diagnose against the DNS lab: for each fault server the
 * sentence must name the cause and the server's address; a healthy name must
 * get the "answer NOERROR" sentence. Also the API: bad names, the queue,
 * shutdown with diagnoses pending.
 *
 *   test_diagnose LABDIR
 *
 * The lab must be up (tests/lab/run.sh brings it up and down around this and
 * appends LABDIR). Addresses come from LABDIR/lab.json, so any CAA_LAB_NET works.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

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
	bool optional;      /* skipped when the lab has no such server */
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
     true,
     CAA_DIAG_LAME,
     0,
     "lame-upward.lab",
     {"ns.lame-upward.lab (@) is not authoritative for lame-upward.lab", "upward referral to .",
      "lame delegation from lab"}},
    {"lame-delegation-noaa",
     "a.lame-noaa.lab",
     "lame-noaa",
     true,
     CAA_DIAG_LAME,
     ANY_RCODE,
     "lame-noaa.lab",
     {"ns.lame-noaa.lab (@) is not authoritative for lame-noaa.lab", "without AA",
      "lame delegation from lab"}},
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

	/* A budget too small for anything: inconclusive, on time. */
	uint64_t t1 = now_ms();
	rc = caa_diag_run(d, "a.drop.lab", 1, &res);
	CHECK(rc == CAA_EOK && res != NULL && now_ms() - t1 < 500, "1 ms budget: %s in %llu ms",
	      caa_strerror(rc), (unsigned long long)(now_ms() - t1));
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

	/* Shutdown with a slow diagnosis running and more queued: every callback
	 * runs with NULL, and promptly. */
	counter_t s = {0};
	for (size_t i = 0; i < 5; i++)
		CHECK(caa_diag_start(d, "a.drop.lab", TIMEOUT_MS, count_cb, &s) == CAA_EOK,
		      "start drop %zu", i);
	struct timespec ts = {0, 300 * 1000000};
	nanosleep(&ts, NULL);
	t0 = now_ms();
	caa_diag_free(d);
	uint64_t took = now_ms() - t0;
	CHECK(atomic_load(&s.calls) == 5 && atomic_load(&s.nulls) == 5,
	      "shutdown: %d calls, %d NULL (want 5, 5)", atomic_load(&s.calls),
	      atomic_load(&s.nulls));
	CHECK(took < 1000, "shutdown took %llu ms", (unsigned long long)took);

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
	CHECK(busy >= 9 && ok + busy == CAA_DIAG_MAX_QUEUE + 10, "queue bound: %d ok, %d busy", ok,
	      busy);
	CHECK(atomic_load(&q.calls) == ok, "every accepted diagnosis called back: %d of %d",
	      atomic_load(&q.calls), ok);
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: test_diagnose [CASE...] LABDIR\n");
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
	caa_config_free(cfg);
	json_decref(manifest);
	printf("%d passed, %d failed, %d skipped\n", passes, failures, skips);
	return failures == 0 ? 0 : 1;
}
