/*
 * bench_eventbase.c — caad's own event base (lib/ubevent.c + lib/timerq.c on
 * epoll) against libevent's event_base, both driving libunbound in event mode
 * on the caller's thread for the same load (issue 10, docs/benchmarks.md
 * "Event base: caad's own vs libevent"). Nothing else differs between the two:
 *
 *   caad      ub_ctx_create_ub_event(caa_ubev_base(ev)), rounds of
 *             caa_ubev_wait(ev, -1) / caa_ubev_process(ev) (as lib/climb.c)
 *   libevent  ub_ctx_create_event(event_base_new()), rounds of
 *             event_base_loop(eb, EVLOOP_ONCE) / EVLOOP_NONBLOCK (libevent's
 *             epoll backend, the Linux default)
 *
 * The same unbound.conf, trust anchor and options (qname-minimisation off, as
 * raw_ub and caa_ctx_new), the same callback (counts the answer, queues the
 * next query), the same closed loop: N CAA queries in flight for D seconds
 * after a warm-up, new queries sent after the round (never from inside
 * libunbound's callback, as the climb does). A fresh context per measurement;
 * the two bases are measured back to back for each point, in alternating order
 * (caad first in even runs, libevent first in odd ones).
 *
 *   miss  one CAA query per unique name <tag><seq>.<zone> (the zone's own
 *         labels cached by the warm-up): socket I/O and timers every query
 *   hit   a fixed set of -k names (default 2048), all asked in the warm-up:
 *         answered from libunbound's cache inside ub_resolve_event(); the loop
 *         only polls
 *
 *   bench_eventbase -u LAB/unbound.conf [-t LAB/root.key] [-m miss,hit]
 *          [-n 1,16,128,1024] [-r RUNS] [-d SECONDS] [-w SECONDS] [-z ZONE]
 *          [-k NAMES] [-b caad|libevent]
 *
 * -b measures one base only (no table): for profiling one side (strace -c,
 * perf) under the same load.
 * Prints one JSON line per measurement ("bench":"eventbase"), then a markdown
 * table of medians over the runs, the libevent/caad ratios taken per run (the
 * two measured back to back), then their median. Run by bench/run-eventbase;
 * never by tests.
 */
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <unistd.h>

#include <event2/event.h>
#include <unbound-event.h>
#include <unbound.h>

#include "benchutil.h"
#include "timerq.h"
#include "ubevent.h"

#define MAX_LEVELS 16
#define MAX_RUNS   32

enum { B_CAAD, B_LIBEVENT, N_BASES };
static const char *const base_names[N_BASES] = {"caad", "libevent"};
enum { M_MISS, M_HIT, N_MODES };
static const char *const mode_names[N_MODES] = {"miss", "hit"};

typedef struct opts {
	const char *conf, *ta, *zone;
	bool mode[N_MODES];
	unsigned levels[MAX_LEVELS], n_levels;
	unsigned runs, hit_names;
	double seconds, warmup;
} opts_t;

typedef struct run {
	const opts_t *o;
	int base, mode;
	caa_ubev_t *ev;        /* caad */
	struct event_base *eb; /* libevent */
	struct ub_ctx *ub;
	char tag[24];
	uint64_t seq;
	size_t inflight, to_start;
	bool stopping, recording;
	uint64_t done, bad; /* answered in the window; of which not NOERROR/NXDOMAIN */
} run_t;

/* One measurement's outcome. */
typedef struct point {
	double qps, cpu_us; /* queries answered per second; CPU microseconds per query */
	uint64_t bad;
} point_t;

static void die(const char *msg)
{
	fprintf(stderr, "bench_eventbase: %s\n", msg);
	exit(1);
}

static double cpu_s(void)
{
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
	       (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

/* SERVFAIL (no packet), or a packet whose RCODE is neither NOERROR nor
 * NXDOMAIN (a cached failure comes back that way). */
static bool failed(int rcode, const void *pkt, int len)
{
	if (rcode != 0 || pkt == NULL || len < 4)
		return true;
	int wire_rcode = ((const uint8_t *)pkt)[3] & 0x0f;
	return wire_rcode != 0 && wire_rcode != 3;
}

/* The same callback on both bases: count, and queue the next query for after
 * the round (a cache hit calls back from inside ub_resolve_event()). */
static void on_answer(void *data, int rcode, void *pkt, int len, int sec, char *why_bogus,
                      int ratelimited)
{
	run_t *r = data;
	(void)sec;
	(void)why_bogus;
	(void)ratelimited;
	r->inflight--;
	if (r->recording) {
		r->done++;
		r->bad += failed(rcode, pkt, len);
	}
	if (!r->stopping)
		r->to_start++;
}

static void start_query(run_t *r)
{
	char name[256];
	if (r->mode == M_HIT)
		snprintf(name, sizeof(name), "hit%04" PRIu64 ".%s", r->seq++ % r->o->hit_names,
		         r->o->zone);
	else
		snprintf(name, sizeof(name), "%s%" PRIu64 ".%s", r->tag, r->seq++, r->o->zone);
	int id;
	r->inflight++;
	int rc = ub_resolve_event(r->ub, name, 257, 1, r, on_answer, &id);
	if (rc != 0) {
		fprintf(stderr, "bench_eventbase: resolve: %s\n", ub_strerror(rc));
		exit(1);
	}
}

/* One round of the loop: block for an event unless queries wait to be sent,
 * then send those that were waiting when the round ended. */
static void round_once(run_t *r)
{
	bool block = r->to_start == 0;
	if (r->base == B_CAAD) {
		if ((block ? caa_ubev_wait(r->ev, -1) : caa_ubev_process(r->ev)) < 0)
			die("caa_ubev round failed");
	} else {
		if (event_base_loop(r->eb, block ? EVLOOP_ONCE : EVLOOP_NONBLOCK) < 0)
			die("event_base_loop failed");
	}
	for (size_t n = r->to_start; n > 0; n--) {
		r->to_start--;
		if (!r->stopping)
			start_query(r);
	}
}

static void ctx_new(run_t *r)
{
	if (r->base == B_CAAD) {
		if ((r->ev = caa_ubev_new()) == NULL ||
		    (r->ub = ub_ctx_create_ub_event(caa_ubev_base(r->ev))) == NULL)
			die("cannot create a context on caad's event base");
	} else {
		if ((r->eb = event_base_new()) == NULL ||
		    (r->ub = ub_ctx_create_event(r->eb)) == NULL)
			die("cannot create a context on a libevent base");
	}
	int rc;
	if ((rc = ub_ctx_set_option(r->ub, "qname-minimisation:", "no")) != 0 ||
	    (rc = ub_ctx_config(r->ub, r->o->conf)) != 0 ||
	    (r->o->ta != NULL && (rc = ub_ctx_add_ta_file(r->ub, r->o->ta)) != 0)) {
		fprintf(stderr, "bench_eventbase: %s\n", ub_strerror(rc));
		exit(1);
	}
}

static void ctx_free(run_t *r)
{
	ub_ctx_delete(r->ub); /* calls back what is still in flight (none by now) */
	if (r->base == B_CAAD)
		caa_ubev_free(r->ev);
	else
		event_base_free(r->eb);
}

static void random_tag(char *out, size_t len, const char *prefix)
{
	unsigned v = 0;
	FILE *f = fopen("/dev/urandom", "rb");
	if (f == NULL || fread(&v, sizeof(v), 1, f) != 1)
		v = (unsigned)caa_now_us() ^ (unsigned)getpid();
	if (f)
		fclose(f);
	snprintf(out, len, "%s%06xx", prefix, v & 0xffffffu);
}

/* Stop sending, and let what is in flight come back (bounded). */
static void drain(run_t *r, size_t down_to)
{
	r->stopping = true;
	uint64_t end = caa_now_us() + 15000000u;
	while (r->inflight > down_to && caa_now_us() < end)
		round_once(r);
	if (r->inflight > down_to)
		die("queries did not come back within 15 s");
	r->to_start = 0;
	r->stopping = false;
}

static point_t measure(const opts_t *o, int base, int mode, unsigned n)
{
	run_t r = {.o = o, .base = base, .mode = mode};
	ctx_new(&r);
	random_tag(r.tag, sizeof(r.tag), "w");
	for (unsigned i = 0; i < n; i++)
		start_query(&r);
	for (uint64_t end = caa_now_us() + (uint64_t)(o->warmup * 1e6); caa_now_us() < end;)
		round_once(&r);
	while (mode == M_HIT && r.seq < o->hit_names + n)
		round_once(&r); /* every name of the hit set asked once */
	drain(&r, 0);

	random_tag(r.tag, sizeof(r.tag), "r");
	r.recording = true;
	double c0 = cpu_s();
	uint64_t t0 = caa_now_us(), win_end = t0 + (uint64_t)(o->seconds * 1e6), t1;
	for (unsigned i = 0; i < n; i++)
		start_query(&r);
	while ((t1 = caa_now_us()) < win_end)
		round_once(&r);
	double c1 = cpu_s();
	r.recording = false;
	drain(&r, 0);
	ctx_free(&r);

	double wall = (double)(t1 - t0) / 1e6;
	point_t p = {.qps = (double)r.done / wall,
	             .cpu_us = r.done ? (c1 - c0) * 1e6 / (double)r.done : 0,
	             .bad = r.bad};
	printf("{\"bench\":\"eventbase\",\"base\":\"%s\",\"mode\":\"%s\",\"inflight\":%u,"
	       "\"seconds\":%.3f,\"queries\":%" PRIu64 ",\"queries_per_s\":%.1f,"
	       "\"cpu_us_per_query\":%.3f,\"cpu_cores\":%.3f,\"bad\":%" PRIu64 "}\n",
	       base_names[base], mode_names[mode], n, wall, r.done, p.qps, p.cpu_us,
	       (c1 - c0) / wall, r.bad);
	fflush(stdout);
	return p;
}

static void usage(void)
{
	fputs("usage: bench_eventbase -u LAB/unbound.conf [-t LAB/root.key] [-m miss,hit]\n"
	      "       [-n 1,16,128,1024] [-r RUNS] [-d SECONDS] [-w SECONDS] [-z ZONE] "
	      "[-k NAMES]\n       [-b caad|libevent]\n",
	      stderr);
	exit(2);
}

int main(int argc, char **argv)
{
	opts_t o = {.zone = "order.lab", .runs = 3, .hit_names = 2048, .seconds = 5, .warmup = 1};
	const char *modes = "miss,hit";
	int only = -1; /* -b: one base only */
	o.n_levels = bench_levels("bench_eventbase", "1,16,128,1024", o.levels, MAX_LEVELS);
	int c;
	while ((c = getopt(argc, argv, "u:t:m:n:r:d:w:z:k:b:")) != -1) {
		switch (c) {
		case 'u': o.conf = optarg; break;
		case 't': o.ta = optarg; break;
		case 'm': modes = optarg; break;
		case 'n':
			o.n_levels = bench_levels("bench_eventbase", optarg, o.levels, MAX_LEVELS);
			break;
		case 'r': o.runs = (unsigned)atoi(optarg); break;
		case 'd': o.seconds = atof(optarg); break;
		case 'w': o.warmup = atof(optarg); break;
		case 'z': o.zone = optarg; break;
		case 'k': o.hit_names = (unsigned)atoi(optarg); break;
		case 'b':
			only = strcmp(optarg, base_names[B_CAAD]) == 0       ? B_CAAD
			       : strcmp(optarg, base_names[B_LIBEVENT]) == 0 ? B_LIBEVENT
			                                                     : -2;
			if (only == -2)
				usage();
			break;
		default: usage();
		}
	}
	if (o.conf == NULL || o.seconds <= 0 || o.hit_names == 0 || o.runs == 0 ||
	    o.runs > MAX_RUNS)
		usage();
	for (int m = 0; m < N_MODES; m++)
		o.mode[m] = strstr(modes, mode_names[m]) != NULL;

	/* [mode][level][run][base] */
	static point_t res[N_MODES][MAX_LEVELS][MAX_RUNS][N_BASES];
	for (unsigned run = 0; run < o.runs; run++)
		for (int m = 0; m < N_MODES; m++)
			for (unsigned i = 0; o.mode[m] && i < o.n_levels; i++)
				for (int k = 0; k < N_BASES; k++) {
					int b = (int)((run + (unsigned)k) % N_BASES);
					if (only < 0 || b == only)
						res[m][i][run][b] = measure(&o, b, m, o.levels[i]);
				}
	if (only >= 0)
		return 0;

	printf("\n| mode | in flight | caad q/s | libevent q/s | libevent / caad q/s "
	       "| caad CPU µs/q | libevent CPU µs/q | libevent / caad CPU | not NOERROR |\n");
	printf("|---|---:|---:|---:|---:|---:|---:|---:|---:|\n");
	for (int m = 0; m < N_MODES; m++) {
		for (unsigned i = 0; o.mode[m] && i < o.n_levels; i++) {
			double v[N_BASES][2][MAX_RUNS], ratio[2][MAX_RUNS];
			uint64_t bad = 0;
			for (unsigned run = 0; run < o.runs; run++) {
				const point_t *p = res[m][i][run];
				for (int b = 0; b < N_BASES; b++) {
					v[b][0][run] = p[b].qps;
					v[b][1][run] = p[b].cpu_us;
					bad += p[b].bad;
				}
				ratio[0][run] =
				    p[B_CAAD].qps > 0 ? p[B_LIBEVENT].qps / p[B_CAAD].qps : 0;
				ratio[1][run] = p[B_CAAD].cpu_us > 0
				                    ? p[B_LIBEVENT].cpu_us / p[B_CAAD].cpu_us
				                    : 0;
			}
			printf("| %s | %u | %.0f | %.0f | %.3f | %.2f | %.2f | %.3f | %" PRIu64
			       " |\n",
			       mode_names[m], o.levels[i], bench_median(v[B_CAAD][0], o.runs),
			       bench_median(v[B_LIBEVENT][0], o.runs),
			       bench_median(ratio[0], o.runs), bench_median(v[B_CAAD][1], o.runs),
			       bench_median(v[B_LIBEVENT][1], o.runs),
			       bench_median(ratio[1], o.runs), bad);
		}
	}
	return 0;
}
