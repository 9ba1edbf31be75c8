/*
 * bench_zone.c — dns.max_per_zone's zone (lib/zone.c): what loading the
 * Public Suffix List costs (psl_latest, once per process, and psl_builtin for
 * comparison), which data each holds, and caa_zone_of() per call with the
 * list and with the two-label fallback, over names of 2 to 6 labels.
 *
 *   bench_zone [seconds-per-run]
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "zone.h"

static const char *const names[] = {
    "www.issue-deny.lab", "a1.issue-permit.lab", "issue-permit.lab", "lab",
    "a.example.co.uk",    "x.a.example.co.uk",   "example.co.uk",    "co.uk",
    "www.example.com",    "a.b.c.d.example.org", "b.xn--55qx5d.cn",  "x.city.kawasaki.jp",
};
#define N_NAMES (sizeof(names) / sizeof(names[0]))

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* ns per caa_zone_of() call, over seconds of calls cycling through names */
static double per_call(const psl_ctx_t *psl, double seconds)
{
	char out[CAA_NAME_MAX + 1];
	size_t calls = 0, sink = 0;
	double t0 = now_s(), t;
	do {
		for (size_t i = 0; i < 1000; i++)
			sink += (size_t)caa_zone_of(psl, names[(calls + i) % N_NAMES], out)[0];
		calls += 1000;
	} while ((t = now_s()) - t0 < seconds);
	if (sink == 0)
		printf("(no zones)\n");
	return (t - t0) * 1e9 / (double)calls;
}

int main(int argc, char **argv)
{
	double seconds = argc > 1 ? atof(argv[1]) : 2.0;
	double t0 = now_s();
	psl_ctx_t *latest = psl_latest(NULL);
	double t1 = now_s();
	const psl_ctx_t *builtin = psl_builtin();
	time_t bt = psl_builtin_file_time();
	printf("psl_latest(NULL): %s, %.3f ms to load (dist file %s)\n", latest ? "loaded" : "none",
	       (t1 - t0) * 1e3, psl_dist_filename());
	printf("psl_builtin(): %s, %d rules, from %s of %s", builtin ? "present" : "none",
	       builtin ? psl_suffix_count(builtin) : 0, psl_builtin_filename(), ctime(&bt));
	psl_free(latest);
	t0 = now_s();
	const psl_ctx_t *psl = caa_zone_psl();
	t1 = now_s();
	printf("caa_zone_psl(): %.3f ms (the process's one load)\n", (t1 - t0) * 1e3);
	double with = per_call(psl, seconds), without = per_call(NULL, seconds);
	printf("caa_zone_of(): %.0f ns per call with the list, %.0f ns with the last two labels "
	       "(%zu names of 1-6 labels)\n",
	       with, without, N_NAMES);
	return 0;
}
