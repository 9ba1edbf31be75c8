/*
 * bench_decide.c — the pure decision's cost: parse CAA RDATA (wire form) and
 * decide, for typical 1–5 record RRsets, single-threaded. Reports the median
 * of several runs in evaluations/s and the heap allocations per evaluation
 * (counted by wrapping malloc/calloc/realloc at link time), for the hot path
 * (caa_rr_parse + caa_policy_eval) and for the full result (caa_result_build).
 *
 *   bench_decide [seconds-per-run] [runs]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "benchutil.h"
#include "result.h"

static unsigned long n_allocs;
void *__real_malloc(size_t n);
void *__real_calloc(size_t n, size_t m);
void *__real_realloc(void *p, size_t n);
void *__wrap_malloc(size_t n);
void *__wrap_calloc(size_t n, size_t m);
void *__wrap_realloc(void *p, size_t n);
void *__wrap_malloc(size_t n)
{
	n_allocs++;
	return __real_malloc(n);
}
void *__wrap_calloc(size_t n, size_t m)
{
	n_allocs++;
	return __real_calloc(n, m);
}
void *__wrap_realloc(void *p, size_t n)
{
	n_allocs++;
	return __real_realloc(p, n);
}

typedef struct {
	const char *name;
	const char *recs[5]; /* "flags tag value" */
	size_t n;
	size_t len[5];
	uint8_t wire[5][300];
} rrset_t;

/* clang-format off */
static rrset_t sets[] = {
	{"1 issue (ours)", {"0 issue ca.example"}, 1, {0}, {{0}}},
	{"2: issue other + ours", {"0 issue other-ca.example", "0 issue ca.example"}, 2, {0}, {{0}}},
	{"3: issue+accounturi, issuewild, iodef",
	 {"0 issue ca.example; accounturi=https://ca.example/acme/acct/1", "0 issuewild ;",
	  "0 iodef mailto:security@example.com"}, 3, {0}, {{0}}},
	{"5: mixed, forbidden",
	 {"0 iodef mailto:a@example.com", "0 issue other-ca.example", "0 issue third.example; validationmethods=dns-01",
	  "0 issuewild ;", "0 issue ca.example; accounturi=https://ca.example/acme/acct/2"}, 5, {0}, {{0}}},
};
/* clang-format on */

static void encode(rrset_t *s)
{
	for (size_t i = 0; i < s->n; i++) {
		char buf[300];
		snprintf(buf, sizeof(buf), "%s", s->recs[i]);
		char *sp1 = strchr(buf, ' '), *sp2 = strchr(sp1 + 1, ' ');
		*sp1 = *sp2 = '\0';
		size_t tl = strlen(sp1 + 1), vl = strlen(sp2 + 1);
		s->wire[i][0] = (uint8_t)atoi(buf);
		s->wire[i][1] = (uint8_t)tl;
		memcpy(&s->wire[i][2], sp1 + 1, tl);
		memcpy(&s->wire[i][2 + tl], sp2 + 1, vl);
		s->len[i] = 2 + tl + vl;
	}
}

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static const char *const issuers[] = {"ca.example"};
static const char *const prefixes[] = {"https://ca.example/acme/acct/"};

/* One hot-path evaluation: parse every record, decide. Returns the verdict. */
static int eval_once(const caa_policy_t *pol, const caa_query_t *q, const rrset_t *s)
{
	caa_rr_t rrs[5];
	caa_note_t notes[5];
	caa_decision_t d;
	for (size_t i = 0; i < s->n; i++)
		caa_rr_parse(s->wire[i], s->len[i], &rrs[i]);
	caa_policy_eval(pol, q, rrs, s->n, &d, notes);
	return (int)d.verdict;
}

int main(int argc, char **argv)
{
	double secs = argc > 1 ? atof(argv[1]) : 1.0;
	int runs = argc > 2 ? atoi(argv[2]) : 5;
	caa_policy_t pol;
	caa_policy_init(&pol);
	pol.issuer_domains = issuers;
	pol.n_issuer_domains = 1;
	pol.account_uri_prefixes = prefixes;
	pol.n_account_uri_prefixes = 1;
	caa_query_t q = {.account_uri = "https://ca.example/acme/acct/1", .method = "dns-01"};
	caa_name_t name;
	caa_name_parse("www.shop.example", 16, &name);
	caa_request_t req = {
	    .identifier = "www.shop.example", .account_uri = q.account_uri, .method = "dns-01"};

	printf("%-40s %14s %10s %14s %12s\n", "RRset", "hot evals/s", "allocs", "result evals/s",
	       "allocs");
	for (size_t k = 0; k < sizeof(sets) / sizeof(sets[0]); k++) {
		rrset_t *s = &sets[k];
		encode(s);
		double hot[32], full[32];
		unsigned long hot_allocs = 0, full_allocs = 0, hot_n = 0, full_n = 0;
		volatile int sink = 0;
		for (int r = 0; r < runs && r < 32; r++) {
			/* hot path */
			unsigned long before = n_allocs, iters = 0;
			double t0 = now(), t;
			do {
				for (int i = 0; i < 1000; i++)
					sink += eval_once(&pol, &q, s);
				iters += 1000;
			} while ((t = now()) - t0 < secs);
			hot[r] = (double)iters / (t - t0);
			hot_allocs += n_allocs - before;
			hot_n += iters;

			/* full result: selection, decision, problem, owned copies */
			caa_rr_t rrs[5];
			for (size_t i = 0; i < s->n; i++)
				caa_rr_parse(s->wire[i], s->len[i], &rrs[i]);
			caa_label_t labels[3] = {
			    {.name = "www.shop.example", .outcome = CAA_OUT_EMPTY},
			    {.name = "shop.example",
			     .outcome = CAA_OUT_PRESENT,
			     .rrs = rrs,
			     .n_rrs = s->n},
			    {.name = "example", .outcome = CAA_OUT_PENDING},
			};
			before = n_allocs;
			iters = 0;
			t0 = now();
			do {
				for (int i = 0; i < 1000; i++) {
					caa_result_t *res;
					caa_result_build(&pol, &req, &name, labels, 3, false, &res);
					sink += (int)res->verdict;
					caa_result_free(res);
				}
				iters += 1000;
			} while ((t = now()) - t0 < secs);
			full[r] = (double)iters / (t - t0);
			full_allocs += n_allocs - before;
			full_n += iters;
		}
		qsort(hot, (size_t)runs, sizeof(double), bench_cmp_double);
		qsort(full, (size_t)runs, sizeof(double), bench_cmp_double);
		printf("%-40s %14.0f %10.2f %14.0f %12.2f\n", s->name, hot[runs / 2],
		       (double)hot_allocs / (double)hot_n, full[runs / 2],
		       (double)full_allocs / (double)full_n);
		(void)sink;
	}
	printf("(median of %d runs of %.1f s each; one core; allocs = heap allocations per "
	       "evaluation)\n",
	       runs, secs);
	return 0;
}
