/*
 * bench_climb.c — throughput and latency of the in-process climb (climb.h)
 * against the DNS lab (deploy/lab/caa-lab), through libcaa exactly as caad
 * uses it: one context, one loop thread, checks submitted with
 * caa_check_async() / caa_order_async().
 *
 * Scenarios, each a closed loop (a completion submits the next) at N checks
 * in flight for D seconds after a warm-up:
 *   miss   unique names <tag><seq>.<zone> under a DNS wildcard: the name's own
 *          label is a cache miss, its parents are in libunbound's cache (the
 *          zone must be unsigned, or signed with NSEC3: under an NSEC-signed
 *          wildcard libunbound synthesises the answers from its cache)
 *   hit    a fixed set of -k names (default 2048, more than the checks in
 *          flight), all cached by the warm-up: every label is a cache hit
 *   hot    16 names: concurrent checks of one name also share its label query
 *   order  100-name orders h001..h100.<fresh parent>.<order zone>, a fresh
 *          parent per order; queries per distinct label from caa_ctx_stats and,
 *          with -q, from the fault server's query log
 * then, for miss, hit and hot, an open loop at a fixed arrival rate (default half
 * the closed-loop peak of this invocation) for the tail latency; latency in
 * the open loop counts from the scheduled arrival (no coordinated omission).
 *   blackhole  memory per waiting check: -b checks (default 100,000) of unique
 *          names under a silent zone (-Z, default drop.lab) with a -T second
 *          deadline (default 60) are started at once; the process's RSS
 *          before and after, with libunbound's outstanding queries and the
 *          climb's waiting labels, give bytes per waiting check. The miss
 *          scenario at the first -n level runs for -d seconds before them and
 *          again while they wait: an answering zone's latency with and
 *          without the silent load. -m overrides dns.max_outstanding.
 *
 *   bench_climb -c LAB/caa.json [-s miss,hit,hot,order] [-n 1,16,128,1024] [-N 1,4]
 *               [-d SECONDS] [-w SECONDS] [-z ZONE] [-o ZONE] [-q QUERYLOG]
 *               [-k NAMES] [-r RATE] [-O] [-p MAX_PER_ZONE] [-j]
 *               [-b WAITING] [-Z SILENT_ZONE] [-T SECONDS] [-m MAX_OUTSTANDING]
 *
 * -r RATE sets the open loop's arrivals per second (0: none); -O runs only
 * the open loop (needs -r); -p overrides dns.max_per_zone; -q names the fault
 * server's query log; -k the size of the hit set.
 *
 * Prints a markdown table and one JSON line per run ("bench":
 * "climb"); -j prints only the JSON lines. bench/run-climb runs it with the
 * lab, raw_ub and dnsperf. Never used by tests: timings are not assertions.
 */
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <event2/event.h>
#include <time.h>
#include <unistd.h>

#include "benchutil.h"
#include "climb.h"
#include "config.h"
#include "result.h"

#define MAX_LEVELS 16
#define ORDER_SIZE 100
#define DRAIN_US   15000000u /* longer than any check's deadline */

#define HOT_NAMES 16

typedef enum { SC_MISS, SC_HIT, SC_HOT, SC_ORDER } scenario_t;
#define N_SC 4
static const char *const sc_names[] = {"miss", "hit", "hot", "order"};

typedef struct opts {
	const char *config;
	bool sc[N_SC];
	unsigned levels[MAX_LEVELS], n_levels;
	unsigned olevels[MAX_LEVELS], n_olevels;
	double seconds, warmup;
	const char *zone, *order_zone, *query_log;
	unsigned hit_names;
	double rate; /* < 0: half the peak; 0: no open loop */
	unsigned max_per_zone;
	bool json_only, open_only;
	bool blackhole;
	unsigned bh_checks, max_outstanding;
	const char *bh_zone;
	double bh_seconds;
} opts_t;

/* Latencies in microseconds, kept whole for exact percentiles. */
typedef struct lat {
	uint32_t *v;
	size_t n, cap;
} lat_t;

typedef struct run {
	const opts_t *o;
	caa_ctx_t *ctx;
	scenario_t sc;
	bool open;       /* open loop (fixed arrival rate) */
	unsigned target; /* closed loop: checks (orders) in flight */
	char tag[24];    /* names of this run: <tag><seq> */
	uint64_t seq;
	size_t inflight;
	bool stopping;  /* no more submissions */
	bool warming;   /* warm-up: the open loop runs closed */
	bool recording; /* completions count */
	uint64_t win_end_us;
	lat_t lat;
	uint64_t done, names_done, busy, errors, submit_errors;
	uint64_t verdict[4];  /* by caa_verdict_t; [0] = no result */
	uint64_t res_queries; /* sum of caa_result_t.queries */
	uint64_t started;     /* orders started while measuring */
} run_t;

typedef struct job {
	run_t *run;
	uint64_t t0_us;
} job_t;

/* What one run measured. */
typedef struct report {
	double wall_s, per_s, names_per_s, p50_ms, p99_ms, max_ms, q_per_check, cpu_cores,
	    loop_cpu_cores, q_per_label, srv_q_per_label, rate;
	uint64_t done, errors, busy, lookup_failed, srv_queries, permitted, forbidden;
	double runq_wait;  /* share of the window the process's threads waited for a CPU */
	double max_gap_ms; /* open loop: the longest time between two loop iterations */
} report_t;

static uint64_t now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static double cpu_s(int who)
{
	struct rusage ru;
	getrusage(who, &ru);
	return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
	       (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

static double thread_cpu_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void die(const char *msg)
{
	fprintf(stderr, "bench_climb: %s\n", msg);
	exit(1);
}

/*
 * CPU time and run-queue wait of every thread of this process, in ns
 * (/proc/self/task/N/schedstat): on a shared machine the wait says how long
 * the process was ready to run but had no CPU.
 */
static void sched_ns(uint64_t *run, uint64_t *wait)
{
	*run = *wait = 0;
	DIR *d = opendir("/proc/self/task");
	if (d == NULL)
		return;
	struct dirent *e;
	while ((e = readdir(d)) != NULL) {
		char path[300];
		unsigned long long r, w;
		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/proc/self/task/%s/schedstat", e->d_name);
		FILE *f = fopen(path, "r");
		if (f == NULL)
			continue;
		if (fscanf(f, "%llu %llu", &r, &w) == 2) {
			*run += r;
			*wait += w;
		}
		fclose(f);
	}
	closedir(d);
}

static void lat_add(lat_t *l, uint64_t us)
{
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 65536;
		uint32_t *v = realloc(l->v, cap * sizeof(*v));
		if (v == NULL)
			die("out of memory");
		l->v = v;
		l->cap = cap;
	}
	l->v[l->n++] = us > UINT32_MAX ? UINT32_MAX : (uint32_t)us;
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	return x < y ? -1 : x > y;
}

/* Percentile q (0..1) in ms of sorted latencies; nearest rank. */
static double pct_ms(const lat_t *l, double q)
{
	if (l->n == 0)
		return 0;
	size_t rank = (size_t)(q * (double)l->n + 0.999999);
	if (rank < 1)
		rank = 1;
	if (rank > l->n)
		rank = l->n;
	return l->v[rank - 1] / 1000.0;
}

static void random_tag(char *out, size_t len, const char *prefix)
{
	unsigned v = 0;
	FILE *f = fopen("/dev/urandom", "rb");
	if (f == NULL || fread(&v, sizeof(v), 1, f) != 1)
		v = (unsigned)now_us() ^ (unsigned)getpid();
	if (f)
		fclose(f);
	/* a prefix plus 6 hex digits and a closing 'x': no run's tag is a prefix of another's */
	snprintf(out, len, "%s%06xx", prefix, v & 0xffffffu);
}

static caa_request_t base_request(const char *ident)
{
	caa_request_t req = {0};
	req.type = "dns";
	req.identifier = ident;
	req.account_uri = "https://ca.example/acme/acct/1";
	req.method = "dns-01";
	return req;
}

/* ---- checks ---- */

static void account(run_t *r, uint64_t t0, int rc, caa_verdict_t verdict, unsigned queries,
                    uint64_t names)
{
	uint64_t now = now_us();
	if (!r->recording || now > r->win_end_us)
		return;
	r->done++;
	r->names_done += names;
	lat_add(&r->lat, now - t0);
	if (rc != CAA_EOK) {
		r->errors++;
		r->verdict[0]++;
		return;
	}
	r->verdict[verdict <= CAA_LOOKUP_FAILED ? verdict : 0]++;
	r->res_queries += queries;
}

static void start_one(run_t *r, uint64_t t0);

static void on_check(void *arg, int rc, caa_result_t *res)
{
	job_t *j = arg;
	run_t *r = j->run;
	r->inflight--;
	account(r, j->t0_us, rc, res ? res->verdict : 0, res ? res->queries : 0, 1);
	caa_result_free(res);
	free(j);
	if ((!r->open || r->warming) && !r->stopping)
		start_one(r, now_us());
}

static void on_order(void *arg, int rc, caa_result_t **results, size_t n, caa_problem_t *agg)
{
	job_t *j = arg;
	run_t *r = j->run;
	r->inflight--;
	uint64_t now = now_us();
	if (r->recording && now <= r->win_end_us) {
		r->done++;
		r->names_done += n;
		lat_add(&r->lat, now - j->t0_us);
		if (rc != CAA_EOK) {
			r->errors++;
			r->verdict[0] += ORDER_SIZE;
		}
		for (size_t i = 0; i < n; i++) {
			caa_verdict_t v = results[i]->verdict;
			r->verdict[v <= CAA_LOOKUP_FAILED ? v : 0]++;
			r->res_queries += results[i]->queries;
		}
	}
	for (size_t i = 0; i < n; i++)
		caa_result_free(results[i]);
	free(results);
	caa_problem_free(agg);
	free(j);
	if (!r->stopping)
		start_one(r, now_us());
}

static void start_one(run_t *r, uint64_t t0)
{
	job_t *j = malloc(sizeof(*j));
	if (j == NULL)
		die("out of memory");
	j->run = r;
	j->t0_us = t0;
	int rc;
	if (r->sc == SC_ORDER) {
		static caa_request_t reqs[ORDER_SIZE];
		static char names[ORDER_SIZE][200];
		uint64_t s = r->seq++;
		for (unsigned i = 0; i < ORDER_SIZE; i++) {
			snprintf(names[i], sizeof(names[i]), "h%03u.%s%" PRIu64 ".%s", i + 1,
			         r->tag, s, r->o->order_zone);
			reqs[i] = base_request(names[i]);
		}
		rc = caa_order_async(r->ctx, reqs, ORDER_SIZE, 0, on_order, j, NULL, NULL);
		if (rc == CAA_EOK && r->recording)
			r->started++;
	} else {
		char name[200];
		if (r->sc == SC_MISS)
			snprintf(name, sizeof(name), "%s%" PRIu64 ".%s", r->tag, r->seq++,
			         r->o->zone);
		else if (r->sc == SC_HIT)
			snprintf(name, sizeof(name), "hit%04" PRIu64 ".%s",
			         r->seq++ % r->o->hit_names, r->o->zone);
		else
			snprintf(name, sizeof(name), "hot%02" PRIu64 ".%s", r->seq++ % HOT_NAMES,
			         r->o->zone);
		caa_request_t req = base_request(name);
		rc = caa_check_async(r->ctx, &req, 0, on_check, j, NULL);
	}
	if (rc != CAA_EOK) {
		free(j);
		if (rc == CAA_EBUSY)
			r->busy++;
		else
			r->submit_errors++;
		return;
	}
	r->inflight++;
}

/* Run the loop until until_us. */
static void drive_until(run_t *r, uint64_t until_us)
{
	for (uint64_t now = now_us(); now < until_us; now = now_us())
		caa_ctx_wait(r->ctx, (int)((until_us - now + 999) / 1000));
}

/* The open loop's arrivals (-O): due ones start, then the timer waits for
 * the next (or for the window's end). gap: the longest time between two
 * firings, how late the loop came round. */
typedef struct arrivals {
	run_t *r;
	struct event *ev;
	uint64_t t0, k, prev, gap;
	double interval;
	bool done;
} arrivals_t;

static void on_arrival(evutil_socket_t fd, short what, void *arg)
{
	arrivals_t *a = arg;
	(void)fd;
	(void)what;
	uint64_t now = now_us();
	if (now - a->prev > a->gap)
		a->gap = now - a->prev;
	a->prev = now;
	if (now >= a->r->win_end_us) {
		a->done = true;
		return;
	}
	uint64_t next;
	while ((next = a->t0 + (uint64_t)((double)a->k * a->interval)) <= now) {
		start_one(a->r, next);
		a->k++;
	}
	if (next > a->r->win_end_us)
		next = a->r->win_end_us;
	struct timeval tv = {.tv_sec = (time_t)((next - now) / 1000000u),
	                     .tv_usec = (suseconds_t)((next - now) % 1000000u)};
	if (evtimer_add(a->ev, &tv) != 0)
		die("evtimer_add failed");
}

static bool drain(run_t *r)
{
	r->stopping = true;
	uint64_t end = now_us() + DRAIN_US;
	while (r->inflight > 0 && now_us() < end)
		caa_ctx_wait(r->ctx, 100);
	return r->inflight == 0;
}

/* Queries in the fault server's log (from offset) for names containing tag. */
static uint64_t log_count(const char *path, long offset, const char *tag)
{
	FILE *f = fopen(path, "r");
	if (f == NULL)
		return 0;
	uint64_t n = 0;
	char line[1024];
	if (fseek(f, offset, SEEK_SET) == 0)
		while (fgets(line, sizeof(line), f) != NULL)
			if (strstr(line, tag) != NULL)
				n++;
	fclose(f);
	return n;
}

static long log_size(const char *path)
{
	FILE *f = fopen(path, "r");
	if (f == NULL)
		return 0;
	fseek(f, 0, SEEK_END);
	long n = ftell(f);
	fclose(f);
	return n < 0 ? 0 : n;
}

static unsigned count_labels(const char *name)
{
	unsigned n = 1;
	for (; *name; name++)
		n += *name == '.';
	return n;
}

/*
 * One run: a fresh context, a warm-up, then D seconds measured. Closed loop
 * at target in flight, or (rate > 0) open loop at rate arrivals per second.
 */
static void run_one(const opts_t *o, caa_config_t *cfg, scenario_t sc, unsigned target, double rate,
                    report_t *rep)
{
	run_t r = {0};
	char err[256];
	r.o = o;
	r.sc = sc;
	r.target = target;
	r.open = rate > 0;
	memset(rep, 0, sizeof(*rep));
	if (caa_ctx_new(cfg, &r.ctx, err, sizeof(err)) != CAA_EOK)
		die(err);

	/* Warm-up, closed loop, with other unique names: parents get cached; for
	 * hit and hot, until every name of the set was asked once. */
	random_tag(r.tag, sizeof(r.tag), "w");
	uint64_t t = now_us();
	unsigned warm_n = r.open ? 16 : target;
	uint64_t set = sc == SC_HIT ? o->hit_names : sc == SC_HOT ? HOT_NAMES : 0;
	r.warming = true;
	for (unsigned i = 0; i < warm_n; i++)
		start_one(&r, t);
	drive_until(&r, t + (uint64_t)(o->warmup * 1e6));
	while (r.seq < set + warm_n)
		caa_ctx_wait(r.ctx, 100);
	r.warming = false;
	if (sc == SC_ORDER || r.open) {
		/* orders: measure whole orders only; open loop: start from idle */
		if (!drain(&r))
			die("warm-up did not drain");
		r.stopping = false;
	}

	random_tag(r.tag, sizeof(r.tag), sc == SC_ORDER ? "o" : "b");
	if (sc == SC_MISS || sc == SC_ORDER)
		r.seq = 0;
	long log_off = o->query_log ? log_size(o->query_log) : 0;
	caa_ctx_stats_t s0, s1;
	caa_ctx_stats(r.ctx, &s0);
	double c0 = cpu_s(RUSAGE_SELF), l0 = thread_cpu_s();
	uint64_t run0, wait0, run1, wait1;
	sched_ns(&run0, &wait0);
	uint64_t t0 = now_us();
	r.win_end_us = t0 + (uint64_t)(o->seconds * 1e6);
	r.recording = true;
	if (!r.open) {
		for (unsigned i = r.inflight; i < target; i++)
			start_one(&r, now_us());
		drive_until(&r, r.win_end_us);
	} else {
		/* Arrivals at t0 + k/rate from a timer on the context's own
		 * event_base (microsecond timevals; caa_ctx_wait's are ms). */
		arrivals_t a = {.r = &r, .t0 = t0, .prev = t0, .interval = 1e6 / rate};
		a.ev = evtimer_new(caa_ctx_event_base(r.ctx), on_arrival, &a);
		if (a.ev == NULL)
			die("evtimer_new failed");
		on_arrival(-1, 0, &a);
		while (!a.done)
			if (caa_ctx_wait(r.ctx, -1) != CAA_EOK)
				die("caa_ctx_wait failed");
		event_free(a.ev);
		uint64_t gap = a.gap;
		rep->rate = rate;
		rep->max_gap_ms = (double)gap / 1000.0;
	}
	uint64_t t1 = now_us();
	double c1 = cpu_s(RUSAGE_SELF), l1 = thread_cpu_s();
	sched_ns(&run1, &wait1);
	caa_ctx_stats(r.ctx, &s1);
	r.recording = false;
	bool drained = drain(&r);
	if (sc == SC_ORDER)
		caa_ctx_stats(r.ctx, &s1); /* every measured order, to its end */
	caa_ctx_free(r.ctx);
	if (!drained)
		fprintf(stderr, "bench_climb: %zu still in flight after the drain\n", r.inflight);

	rep->wall_s = (double)(t1 - t0) / 1e6;
	rep->done = r.done;
	rep->per_s = (double)r.done / rep->wall_s;
	rep->names_per_s = (double)r.names_done / rep->wall_s;
	qsort(r.lat.v, r.lat.n, sizeof(*r.lat.v), cmp_u32);
	rep->p50_ms = pct_ms(&r.lat, 0.50);
	rep->p99_ms = pct_ms(&r.lat, 0.99);
	rep->max_ms = r.lat.n ? r.lat.v[r.lat.n - 1] / 1000.0 : 0;
	rep->cpu_cores = (c1 - c0) / rep->wall_s;
	rep->runq_wait = (double)(wait1 - wait0) / 1e9 / rep->wall_s;
	rep->loop_cpu_cores = (l1 - l0) / rep->wall_s;
	rep->errors = r.errors + r.submit_errors + r.verdict[0];
	rep->busy = r.busy;
	rep->lookup_failed = r.verdict[CAA_LOOKUP_FAILED];
	rep->permitted = r.verdict[CAA_PERMITTED];
	rep->forbidden = r.verdict[CAA_FORBIDDEN];
	if (sc == SC_ORDER) {
		/* distinct labels of one order: the names, the fresh parent, the zone's labels */
		unsigned distinct = ORDER_SIZE + 1 + count_labels(o->order_zone);
		uint64_t orders = r.started ? r.started : 1;
		rep->q_per_check =
		    (double)(s1.queries - s0.queries) / (double)(orders * ORDER_SIZE);
		rep->q_per_label = (double)(s1.queries - s0.queries) / (double)(orders * distinct);
		if (o->query_log) {
			/* the server sees only the labels not cached: names and fresh parent */
			rep->srv_queries = log_count(o->query_log, log_off, r.tag);
			rep->srv_q_per_label =
			    (double)rep->srv_queries / (double)(orders * (ORDER_SIZE + 1));
		}
	} else {
		uint64_t checks = s1.checks - s0.checks;
		rep->q_per_check = checks ? (double)(s1.queries - s0.queries) / (double)checks : 0;
	}
	free(r.lat.v);
}

/* ---- blackhole: memory per waiting check ---- */

typedef struct bh {
	size_t left;
	uint64_t verdict[4], errors;
} bh_t;

static void on_bh(void *arg, int rc, caa_result_t *res)
{
	bh_t *b = arg;
	b->left--;
	if (rc != CAA_EOK)
		b->errors++;
	else
		b->verdict[res->verdict <= CAA_LOOKUP_FAILED ? res->verdict : 0]++;
	caa_result_free(res);
}

/* VmRSS of this process in bytes. */
static uint64_t rss_bytes(void)
{
	FILE *f = fopen("/proc/self/status", "r");
	char line[256];
	unsigned long long kb = 0;
	if (f == NULL)
		return 0;
	while (fgets(line, sizeof(line), f) != NULL)
		if (sscanf(line, "VmRSS: %llu kB", &kb) == 1)
			break;
	fclose(f);
	return (uint64_t)kb * 1024u;
}

/* The miss scenario, closed loop at target in flight for o->seconds on ctx. */
static void bh_misses(const opts_t *o, caa_ctx_t *ctx, unsigned target, report_t *rep)
{
	run_t r = {0};
	r.o = o;
	r.ctx = ctx;
	r.sc = SC_MISS;
	r.target = target;
	random_tag(r.tag, sizeof(r.tag), "b");
	uint64_t t0 = now_us();
	r.win_end_us = t0 + (uint64_t)(o->seconds * 1e6);
	r.recording = true;
	for (unsigned i = 0; i < target; i++)
		start_one(&r, now_us());
	drive_until(&r, r.win_end_us);
	uint64_t t1 = now_us();
	r.recording = false;
	drain(&r);
	memset(rep, 0, sizeof(*rep));
	rep->wall_s = (double)(t1 - t0) / 1e6;
	rep->done = r.done;
	rep->per_s = (double)r.done / rep->wall_s;
	qsort(r.lat.v, r.lat.n, sizeof(*r.lat.v), cmp_u32);
	rep->p50_ms = pct_ms(&r.lat, 0.50);
	rep->p99_ms = pct_ms(&r.lat, 0.99);
	rep->max_ms = r.lat.n ? r.lat.v[r.lat.n - 1] / 1000.0 : 0;
	rep->errors = r.errors + r.submit_errors + r.verdict[0];
	rep->lookup_failed = r.verdict[CAA_LOOKUP_FAILED];
	rep->permitted = r.verdict[CAA_PERMITTED];
	free(r.lat.v);
}

static void run_blackhole(const opts_t *o, caa_config_t *cfg)
{
	char err[256], tag[24];
	caa_ctx_t *ctx;
	unsigned n = o->bh_checks, target = o->levels[0];
	size_t max_in_flight = cfg->max_in_flight;
	cfg->max_in_flight = (size_t)n + target + 16;
	if (caa_ctx_new(cfg, &ctx, err, sizeof(err)) != CAA_EOK)
		die(err);
	/* warm libunbound's cache (root, lab., the zones' delegations) and the
	 * allocator, then the answering zone alone */
	report_t before, during;
	bh_misses(o, ctx, target, &before);
	bh_misses(o, ctx, target, &before);

	bh_t b = {0};
	random_tag(tag, sizeof(tag), "s");
	char name[200];
	caa_request_t req = base_request(name);
	uint64_t rss0 = rss_bytes(), t0 = now_us();
	for (unsigned i = 0; i < n; i++) {
		snprintf(name, sizeof(name), "%s%u.%s", tag, i, o->bh_zone);
		if (caa_check_async(ctx, &req, (uint64_t)(o->bh_seconds * 1000), on_bh, &b, NULL) !=
		    CAA_EOK)
			die("cannot start a waiting check");
		b.left++;
	}
	/* let the loop take them all and send what the caps allow */
	drive_until(&(run_t){.ctx = ctx}, now_us() + 2000000u);
	uint64_t rss1 = rss_bytes();
	caa_ctx_stats_t s1;
	caa_ctx_stats(ctx, &s1);
	bh_misses(o, ctx, target, &during);
	uint64_t rss2 = rss_bytes();
	caa_ctx_stats_t s2;
	caa_ctx_stats(ctx, &s2);
	double waited_s = (double)(now_us() - t0) / 1e6;
	size_t waiting = b.left;
	caa_ctx_free(ctx); /* the rest end with CAA_ESHUTDOWN */
	cfg->max_in_flight = max_in_flight;

	double per = (double)((int64_t)rss1 - (int64_t)rss0) / (double)n;
	if (!o->json_only) {
		printf("\nblackhole: %u checks under %s (deadline %.0f s), max_per_zone %u, "
		       "max_outstanding %u\n",
		       n, o->bh_zone, o->bh_seconds, cfg->dns.max_per_zone,
		       cfg->dns.max_outstanding);
		printf(
		    "  RSS %.1f -> %.1f MiB after 2 s (%.0f B per waiting check), %.1f MiB after "
		    "%.1f s; %zu still waiting then\n",
		    rss0 / 1048576.0, rss1 / 1048576.0, per, rss2 / 1048576.0, waited_s, waiting);
		printf("  libunbound outstanding %" PRIu64 " (peak %" PRIu64
		       "), labels waiting for "
		       "a slot %" PRIu64 " (peak %" PRIu64 ")\n",
		       s2.outstanding, s2.outstanding_peak, s2.waiting, s2.waiting_peak);
		printf("  silent checks ended meanwhile: %" PRIu64 " LOOKUP_FAILED, %" PRIu64
		       " PERMITTED, %" PRIu64 " errors\n",
		       b.verdict[CAA_LOOKUP_FAILED], b.verdict[CAA_PERMITTED], b.errors);
		printf("  %s misses at %u in flight: alone %.0f checks/s p50 %.2f p99 %.2f max "
		       "%.2f ms;"
		       " beside the silent load %.0f checks/s p50 %.2f p99 %.2f max %.2f ms "
		       "(%" PRIu64 " + %" PRIu64 " not permitted)\n",
		       o->zone, target, before.per_s, before.p50_ms, before.p99_ms, before.max_ms,
		       during.per_s, during.p50_ms, during.p99_ms, during.max_ms,
		       before.errors + before.lookup_failed, during.errors + during.lookup_failed);
	}
	printf("{\"bench\":\"climb\",\"scenario\":\"blackhole\",\"checks\":%u,\"zone\":\"%s\","
	       "\"max_per_zone\":%u,\"max_outstanding\":%u,\"rss0\":%" PRIu64 ",\"rss1\":%" PRIu64
	       ",\"rss2\":%" PRIu64 ",\"bytes_per_waiting_check\":%.1f,\"outstanding\":%" PRIu64
	       ",\"outstanding_peak\":%" PRIu64 ",\"waiting\":%" PRIu64 ",\"waiting_peak\":%" PRIu64
	       ",\"silent_permitted\":%" PRIu64 ",\"miss_inflight\":%u,\"alone_per_s\":%.1f,"
	       "\"alone_p50_ms\":%.3f,\"alone_p99_ms\":%.3f,\"beside_per_s\":%.1f,"
	       "\"beside_p50_ms\":%.3f,\"beside_p99_ms\":%.3f,\"beside_max_ms\":%.3f}\n",
	       n, o->bh_zone, cfg->dns.max_per_zone, cfg->dns.max_outstanding, rss0, rss1, rss2,
	       per, s2.outstanding, s2.outstanding_peak, s2.waiting, s2.waiting_peak,
	       b.verdict[CAA_PERMITTED], target, before.per_s, before.p50_ms, before.p99_ms,
	       during.per_s, during.p50_ms, during.p99_ms, during.max_ms);
	fflush(stdout);
	(void)s1;
}

static void print_header(void)
{
	printf("| scenario | in flight | rate/s | done | checks/s | names/s | p50 ms | p99 ms "
	       "| max ms | queries/check | queries/label (ctx / server) | CPU cores (loop) "
	       "| errors |\n");
	printf("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n");
}

static void print_report(const opts_t *o, scenario_t sc, unsigned target, const report_t *p)
{
	char rate[32] = "-", ql[64] = "-", srv[32] = "-";
	if (p->rate > 0)
		snprintf(rate, sizeof(rate), "%.0f", p->rate);
	if (o->query_log)
		snprintf(srv, sizeof(srv), "%.3f", p->srv_q_per_label);
	if (sc == SC_ORDER)
		snprintf(ql, sizeof(ql), "%.3f / %s", p->q_per_label, srv);
	if (!o->json_only)
		printf("| %s%s | %u%s | %s | %" PRIu64 " | %.0f | %.0f | %.2f | %.2f | %.2f | %.2f "
		       "| %s | %.2f (%.2f) | %" PRIu64 " |\n",
		       sc_names[sc], p->rate > 0 ? " open" : "", target,
		       sc == SC_ORDER ? " orders" : "", rate, p->done, p->per_s, p->names_per_s,
		       p->p50_ms, p->p99_ms, p->max_ms, p->q_per_check, ql, p->cpu_cores,
		       p->loop_cpu_cores, p->errors + p->lookup_failed);
	printf("{\"bench\":\"climb\",\"scenario\":\"%s\",\"loop\":\"%s\",\"inflight\":%u,"
	       "\"rate\":%.0f,\"max_per_zone\":%u,\"seconds\":%.3f,\"done\":%" PRIu64
	       ",\"per_s\":%.1f,\"names_per_s\":%.1f,\"p50_ms\":%.3f,\"p99_ms\":%.3f,"
	       "\"max_ms\":%.3f,\"queries_per_check\":%.4f,\"queries_per_label\":%.4f,"
	       "\"server_queries\":%" PRIu64 ",\"server_queries_per_label\":%.4f,"
	       "\"cpu_cores\":%.3f,\"loop_cpu_cores\":%.3f,\"runq_wait\":%.3f,"
	       "\"max_gap_ms\":%.3f,\"errors\":%" PRIu64 ",\"lookup_failed\":%" PRIu64
	       ",\"permitted\":%" PRIu64 ",\"forbidden\":%" PRIu64 ",\"busy\":%" PRIu64 "}\n",
	       sc_names[sc], p->rate > 0 ? "open" : "closed", target, p->rate, o->max_per_zone,
	       p->wall_s, p->done, p->per_s, p->names_per_s, p->p50_ms, p->p99_ms, p->max_ms,
	       p->q_per_check, p->q_per_label, p->srv_queries, p->srv_q_per_label, p->cpu_cores,
	       p->loop_cpu_cores, p->runq_wait, p->max_gap_ms, p->errors, p->lookup_failed,
	       p->permitted, p->forbidden, p->busy);
	fflush(stdout);
}

static void usage(void)
{
	fputs("usage: bench_climb -c LAB/caa.json [-s miss,hit,hot,order] [-n 1,16,128,1024] "
	      "[-N 1,4]\n"
	      "       [-d SECONDS] [-w SECONDS] [-z ZONE] [-o ORDER_ZONE] [-q QUERYLOG] "
	      "[-k NAMES]\n"
	      "       [-r RATE] [-O] [-p MAX_PER_ZONE] [-j]\n"
	      "       [-b WAITING] [-Z SILENT_ZONE] [-T SECONDS] [-m MAX_OUTSTANDING]\n",
	      stderr);
	exit(2);
}

int main(int argc, char **argv)
{
	opts_t o = {0};
	const char *scen = "miss,hit,hot,order";
	o.n_levels = bench_levels("bench_climb", "1,16,128,1024", o.levels, MAX_LEVELS);
	o.n_olevels = bench_levels("bench_climb", "1,4", o.olevels, MAX_LEVELS);
	o.seconds = 5;
	o.warmup = 1;
	o.zone = "order.lab";
	o.order_zone = "order.lab";
	o.hit_names = 2048;
	o.rate = -1;
	o.bh_checks = 100000;
	o.bh_zone = "drop.lab";
	o.bh_seconds = 60;
	int c;
	while ((c = getopt(argc, argv, "c:s:n:N:d:w:z:o:q:k:r:p:jOb:Z:T:m:")) != -1) {
		switch (c) {
		case 'c': o.config = optarg; break;
		case 's': scen = optarg; break;
		case 'n':
			o.n_levels = bench_levels("bench_climb", optarg, o.levels, MAX_LEVELS);
			break;
		case 'N':
			o.n_olevels = bench_levels("bench_climb", optarg, o.olevels, MAX_LEVELS);
			break;
		case 'd': o.seconds = atof(optarg); break;
		case 'w': o.warmup = atof(optarg); break;
		case 'z': o.zone = optarg; break;
		case 'o': o.order_zone = optarg; break;
		case 'q': o.query_log = optarg; break;
		case 'k': o.hit_names = (unsigned)atoi(optarg); break;
		case 'r': o.rate = atof(optarg); break;
		case 'p': o.max_per_zone = (unsigned)atoi(optarg); break;
		case 'j': o.json_only = true; break;
		case 'O': o.open_only = true; break;
		case 'b': o.bh_checks = (unsigned)atoi(optarg); break;
		case 'Z': o.bh_zone = optarg; break;
		case 'T': o.bh_seconds = atof(optarg); break;
		case 'm': o.max_outstanding = (unsigned)atoi(optarg); break;
		default: usage();
		}
	}
	if (o.config == NULL || o.seconds <= 0 || o.hit_names == 0 || o.hit_names > 10000 ||
	    (o.open_only && o.rate <= 0) || o.bh_checks == 0 || o.bh_seconds <= 0)
		usage();
	for (unsigned i = 0; i < N_SC; i++)
		o.sc[i] = strstr(scen, sc_names[i]) != NULL;
	o.blackhole = strstr(scen, "blackhole") != NULL;

	caa_config_t *cfg;
	char err[512];
	if (caa_config_load(o.config, &cfg, err, sizeof(err)) != CAA_EOK)
		die(err);
	if (o.max_per_zone)
		cfg->dns.max_per_zone = o.max_per_zone;
	o.max_per_zone = cfg->dns.max_per_zone;
	if (o.max_outstanding)
		cfg->dns.max_outstanding = o.max_outstanding;

	if (!o.json_only)
		print_header();
	for (int sc = SC_MISS; sc <= SC_ORDER; sc++) {
		if (!o.sc[sc])
			continue;
		const unsigned *lv = sc == SC_ORDER ? o.olevels : o.levels;
		unsigned nlv = sc == SC_ORDER ? o.n_olevels : o.n_levels;
		double peak = 0;
		for (unsigned i = 0; i < nlv && !o.open_only; i++) {
			report_t rep;
			run_one(&o, cfg, (scenario_t)sc, lv[i], 0, &rep);
			print_report(&o, (scenario_t)sc, lv[i], &rep);
			if (rep.per_s > peak)
				peak = rep.per_s;
		}
		double rate = o.rate < 0 ? peak / 2 : o.rate;
		if (sc != SC_ORDER && rate > 0) {
			report_t rep;
			run_one(&o, cfg, (scenario_t)sc, 0, rate, &rep);
			print_report(&o, (scenario_t)sc, 0, &rep);
		}
	}
	if (o.blackhole)
		run_blackhole(&o, cfg);
	caa_config_free(cfg);
	return 0;
}
