/*
 * raw_ub.c — the ceiling of one libunbound context on the DNS lab: the same
 * unbound.conf and trust anchor the climb loads, the same options the climb
 * sets (qname-minimisation off), asynchronous CAA queries from one thread,
 * N in flight for D seconds after a warm-up, nothing else.
 *
 * Two of libunbound's asynchronous APIs:
 *   thread  (default) what lib/climb.c uses: ub_ctx_async(ctx, 1), a resolver
 *           thread inside libunbound, ub_resolve_async() + ub_process() on
 *           ub_fd(); every query and every answer crosses a pipe between the
 *           two threads
 *   event   (-e) ub_ctx_create_event() + ub_resolve_event(): the resolver runs
 *           in the caller's libevent loop, on the caller's thread, no pipe
 *
 * Modes:
 *   miss   one CAA query per unique name <tag><seq>.<zone> (a cache miss; the
 *          zone's own labels are cached by the warm-up)
 *   hit    CAA queries for a fixed set of -k names (default 2048, as
 *          bench_climb), all asked once by the warm-up (cache hits)
 *   check  a check-equivalent: the unique name and every parent up to the TLD
 *          queried at once, done when all have answered (what the climb asks
 *          libunbound for one check when no other check shares its labels,
 *          with nothing of the climb's own work); N units in flight
 *
 *   raw_ub -u LAB/unbound.conf [-t LAB/root.key] [-e] [-m miss,hit,check]
 *          [-n 1,16,128,1024] [-d SECONDS] [-w SECONDS] [-z ZONE] [-k NAMES] [-j]
 *
 * Prints a table and one JSON line per run ("bench":"raw_ub"). Used by
 * bench/run-climb; never by tests.
 */
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>
#include <unbound-event.h>
#include <unbound.h>

#include "benchutil.h"

#define MAX_LEVELS 16

typedef enum { M_MISS, M_HIT, M_CHECK } bmode_t;
static const char *const mode_names[] = {"miss", "hit", "check"};

typedef struct opts {
	const char *conf, *ta, *zone;
	bool mode[3];
	bool event; /* ub_resolve_event instead of ub_resolve_async */
	unsigned levels[MAX_LEVELS], n_levels;
	double seconds, warmup;
	unsigned hit_names;
	bool json_only;
} opts_t;

typedef struct run run_t;

/* One unit: a query (miss, hit) or a check-equivalent (all labels of a name). */
typedef struct unit {
	run_t *run;
	uint64_t t0_us;
	unsigned left;
	char name[200];
} unit_t;

struct run {
	const opts_t *o;
	struct ub_ctx *ub;
	struct event_base *eb; /* event API only */
	struct event *tick;    /* ends a blocking round (one timer, re-armed) */
	bmode_t mode;
	char tag[24];
	uint64_t seq;
	size_t inflight;
	size_t to_start; /* event API: units to start once back in the loop */
	bool stopping, recording;
	uint64_t win_end_us;
	uint32_t *lat;
	size_t n_lat, cap_lat;
	uint64_t done, queries, answers, secure, bogus, servfail, nxdomain, errors;
};

static uint64_t now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static double cpu_s(void)
{
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
	       (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

static void die(const char *msg)
{
	fprintf(stderr, "raw_ub: %s\n", msg);
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

static void random_tag(char *out, size_t len, const char *prefix)
{
	unsigned v = 0;
	FILE *f = fopen("/dev/urandom", "rb");
	if (f == NULL || fread(&v, sizeof(v), 1, f) != 1)
		v = (unsigned)now_us() ^ (unsigned)getpid();
	if (f)
		fclose(f);
	snprintf(out, len, "%s%06xx", prefix, v & 0xffffffu);
}

static void start_unit(run_t *r);

/* One answer of unit u (either API). */
static void answered(unit_t *u, bool ok, int rcode, bool secure, bool bogus)
{
	run_t *r = u->run;
	if (r->recording) {
		r->answers++;
		r->errors += !ok;
		r->secure += ok && secure;
		r->bogus += ok && bogus;
		r->servfail += ok && rcode == 2;
		r->nxdomain += ok && rcode == 3;
	}
	if (--u->left > 0)
		return;
	r->inflight--;
	uint64_t now = now_us();
	if (r->recording && now <= r->win_end_us) {
		r->done++;
		if (r->n_lat == r->cap_lat) {
			size_t cap = r->cap_lat ? r->cap_lat * 2 : 65536;
			uint32_t *v = realloc(r->lat, cap * sizeof(*v));
			if (v == NULL)
				die("out of memory");
			r->lat = v;
			r->cap_lat = cap;
		}
		uint64_t us = now - u->t0_us;
		r->lat[r->n_lat++] = us > UINT32_MAX ? UINT32_MAX : (uint32_t)us;
	}
	free(u);
	if (r->stopping)
		return;
	if (r->eb != NULL)
		r->to_start++; /* ub_resolve_event may answer from inside itself */
	else
		start_unit(r);
}

static void on_answer(void *data, int err, struct ub_result *res)
{
	bool ok = err == 0 && res != NULL;
	answered(data, ok, ok ? res->rcode : 2, ok && res->secure, ok && res->bogus);
	ub_resolve_free(res);
}

static void on_event(void *data, int rcode, void *pkt, int len, int sec, char *why_bogus,
                     int ratelimited)
{
	(void)pkt;
	(void)len;
	(void)why_bogus;
	(void)ratelimited;
	answered(data, true, rcode, sec == 2, sec == 1);
}

static void send_query(run_t *r, unit_t *u, const char *name)
{
	int id, rc;
	u->left++;
	if (r->recording)
		r->queries++;
	if (r->eb != NULL)
		rc = ub_resolve_event(r->ub, name, 257, 1, u, on_event, &id);
	else
		rc = ub_resolve_async(r->ub, name, 257, 1, u, on_answer, &id);
	if (rc != 0) {
		fprintf(stderr, "raw_ub: resolve: %s\n", ub_strerror(rc));
		exit(1);
	}
}

static void start_unit(run_t *r)
{
	unit_t *u = calloc(1, sizeof(*u));
	if (u == NULL)
		die("out of memory");
	u->run = r;
	u->t0_us = now_us();
	if (r->mode == M_HIT)
		snprintf(u->name, sizeof(u->name), "hit%04" PRIu64 ".%s",
		         r->seq++ % r->o->hit_names, r->o->zone);
	else
		snprintf(u->name, sizeof(u->name), "%s%" PRIu64 ".%s", r->tag, r->seq++,
		         r->o->zone);
	r->inflight++;
	/* Hold the unit while sending: with the event API an answer may come back
	 * from inside ub_resolve_event(). */
	u->left = 1;
	if (r->mode == M_CHECK) {
		for (const char *p = u->name; p != NULL;) {
			send_query(r, u, p);
			p = strchr(p, '.');
			if (p != NULL)
				p++;
		}
	} else {
		send_query(r, u, u->name);
	}
	answered(u, true, 0, false, false); /* let go of the hold */
	if (r->recording)
		r->answers--; /* the hold is not an answer */
}

static void on_tick(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	(void)arg; /* only wakes event_base_loop() up */
}

static void process(run_t *r, int max_ms)
{
	if (r->eb != NULL) {
		if (r->to_start > 0) {
			event_base_loop(r->eb, EVLOOP_NONBLOCK);
		} else {
			struct timeval tv = {.tv_sec = max_ms / 1000,
			                     .tv_usec = (max_ms % 1000) * 1000};
			evtimer_add(r->tick, &tv); /* re-arming moves it: no timers pile up */
			event_base_loop(r->eb, EVLOOP_ONCE);
		}
		/* Only those pending now: a cache hit answers inside
		 * ub_resolve_event() and asks for the next start at once. */
		for (size_t n = r->to_start; n > 0; n--) {
			r->to_start--;
			if (!r->stopping)
				start_unit(r);
		}
		return;
	}
	struct pollfd pfd = {.fd = ub_fd(r->ub), .events = POLLIN};
	if (poll(&pfd, 1, max_ms) < 0 && errno != EINTR)
		die("poll failed");
	if (ub_process(r->ub) != 0)
		die("ub_process failed");
}

static void drive_until(run_t *r, uint64_t until_us)
{
	for (uint64_t now = now_us(); now < until_us; now = now_us())
		process(r, (int)((until_us - now + 999) / 1000));
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	return x < y ? -1 : x > y;
}

static double pct_ms(const run_t *r, double q)
{
	if (r->n_lat == 0)
		return 0;
	size_t rank = (size_t)(q * (double)r->n_lat + 0.999999);
	if (rank < 1)
		rank = 1;
	if (rank > r->n_lat)
		rank = r->n_lat;
	return r->lat[rank - 1] / 1000.0;
}

static void new_ctx(const opts_t *o, run_t *r)
{
	int rc = 0;
	if (o->event) {
		if ((r->eb = event_base_new()) == NULL ||
		    (r->tick = evtimer_new(r->eb, on_tick, NULL)) == NULL ||
		    (r->ub = ub_ctx_create_event(r->eb)) == NULL)
			die("cannot create an event-based context");
	} else {
		if ((r->ub = ub_ctx_create()) == NULL)
			die("ub_ctx_create failed");
		/* threads, as caa_ctx_new() (lib/climb.c) */
		rc = ub_ctx_async(r->ub, 1);
	}
	/* the rest exactly as caa_ctx_new() */
	if (rc != 0 || (rc = ub_ctx_set_option(r->ub, "qname-minimisation:", "no")) != 0 ||
	    (rc = ub_ctx_config(r->ub, o->conf)) != 0 ||
	    (o->ta != NULL && (rc = ub_ctx_add_ta_file(r->ub, o->ta)) != 0)) {
		fprintf(stderr, "raw_ub: %s\n", ub_strerror(rc));
		exit(1);
	}
}

static void run_one(const opts_t *o, bmode_t mode, unsigned n)
{
	run_t r = {0};
	r.o = o;
	r.mode = mode;
	new_ctx(o, &r);
	random_tag(r.tag, sizeof(r.tag), "w");
	uint64_t t = now_us();
	for (unsigned i = 0; i < n; i++)
		start_unit(&r);
	drive_until(&r, t + (uint64_t)(o->warmup * 1e6));
	while (mode == M_HIT && r.seq < o->hit_names + n)
		process(&r, 100); /* every name of the hit set asked once */
	/* back to n in flight, with fresh unique names */
	r.stopping = true;
	while (r.inflight > n)
		process(&r, 100);
	r.stopping = false;
	random_tag(r.tag, sizeof(r.tag), "r");
	double c0 = cpu_s();
	uint64_t run0, wait0, run1, wait1;
	sched_ns(&run0, &wait0);
	uint64_t t0 = now_us();
	r.win_end_us = t0 + (uint64_t)(o->seconds * 1e6);
	r.recording = true;
	for (size_t i = r.inflight; i < n; i++)
		start_unit(&r);
	drive_until(&r, r.win_end_us);
	uint64_t t1 = now_us();
	double c1 = cpu_s();
	sched_ns(&run1, &wait1);
	r.recording = false;
	r.stopping = true;
	uint64_t end = now_us() + 15000000u;
	while (r.inflight > 0 && now_us() < end)
		process(&r, 100);
	ub_ctx_delete(r.ub);
	if (r.eb != NULL) {
		event_free(r.tick);
		event_base_free(r.eb);
	}

	double wall = (double)(t1 - t0) / 1e6;
	qsort(r.lat, r.n_lat, sizeof(*r.lat), cmp_u32);
	unsigned labels = 2; /* the unique label and the zone's first */
	for (const char *p = o->zone; *p; p++)
		labels += *p == '.';
	unsigned per_unit = mode == M_CHECK ? labels : 1;
	double per_s = (double)r.done / wall, qps = (double)r.queries / wall;
	double cores = (c1 - c0) / wall;
	double runq_wait = (double)(wait1 - wait0) / 1e9 / wall;
	double maxms = r.n_lat ? r.lat[r.n_lat - 1] / 1000.0 : 0;
	const char *api = o->event ? "event" : "thread";
	if (!o->json_only)
		printf("| %s | %s | %u | %" PRIu64
		       " | %.0f | %.0f | %.2f | %.2f | %.2f | %u | %.2f "
		       "| %.0f | %" PRIu64 " |\n",
		       mode_names[mode], api, n, r.done, per_s, qps, pct_ms(&r, 0.5),
		       pct_ms(&r, 0.99), maxms, per_unit, cores, cores > 0 ? qps / cores : 0,
		       r.errors + r.bogus + r.servfail);
	printf("{\"bench\":\"raw_ub\",\"mode\":\"%s\",\"api\":\"%s\",\"inflight\":%u,"
	       "\"seconds\":%.3f,\"done\":%" PRIu64 ",\"per_s\":%.1f,\"queries_per_s\":%.1f,"
	       "\"p50_ms\":%.3f,\"p99_ms\":%.3f,\"max_ms\":%.3f,\"labels\":%u,\"cpu_cores\":%.3f,"
	       "\"runq_wait\":%.3f,\"secure\":%" PRIu64 ",\"nxdomain\":%" PRIu64
	       ",\"servfail\":%" PRIu64 ",\"bogus\":%" PRIu64 ",\"errors\":%" PRIu64 "}\n",
	       mode_names[mode], api, n, wall, r.done, per_s, qps, pct_ms(&r, 0.5),
	       pct_ms(&r, 0.99), maxms, per_unit, cores, runq_wait, r.secure, r.nxdomain,
	       r.servfail, r.bogus, r.errors);
	fflush(stdout);
	free(r.lat);
}

static void usage(void)
{
	fputs("usage: raw_ub -u LAB/unbound.conf [-t LAB/root.key] [-e] [-m miss,hit,check]\n"
	      "       [-n 1,16,128,1024] [-d SECONDS] [-w SECONDS] [-z ZONE] [-k NAMES] [-j]\n",
	      stderr);
	exit(2);
}

int main(int argc, char **argv)
{
	opts_t o = {0};
	const char *modes = "miss,hit,check";
	o.n_levels = bench_levels("raw_ub", "1,16,128,1024", o.levels, MAX_LEVELS);
	o.seconds = 5;
	o.warmup = 1;
	o.zone = "order.lab";
	o.hit_names = 2048;
	int c;
	while ((c = getopt(argc, argv, "u:t:em:n:d:w:z:k:j")) != -1) {
		switch (c) {
		case 'u': o.conf = optarg; break;
		case 't': o.ta = optarg; break;
		case 'e': o.event = true; break;
		case 'm': modes = optarg; break;
		case 'n': o.n_levels = bench_levels("raw_ub", optarg, o.levels, MAX_LEVELS); break;
		case 'd': o.seconds = atof(optarg); break;
		case 'w': o.warmup = atof(optarg); break;
		case 'z': o.zone = optarg; break;
		case 'k': o.hit_names = (unsigned)atoi(optarg); break;
		case 'j': o.json_only = true; break;
		default: usage();
		}
	}
	if (o.conf == NULL || o.seconds <= 0 || o.hit_names == 0)
		usage();
	for (unsigned i = 0; i < 3; i++)
		o.mode[i] = strstr(modes, mode_names[i]) != NULL;
	if (!o.json_only) {
		printf("| mode | API | in flight | done | units/s | queries/s | p50 ms | p99 ms | "
		       "max ms "
		       "| queries/unit | CPU cores | queries per CPU-s | errors |\n");
		printf("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n");
	}
	for (int m = M_MISS; m <= M_CHECK; m++)
		if (o.mode[m])
			for (unsigned i = 0; i < o.n_levels; i++)
				run_one(&o, (bmode_t)m, o.levels[i]);
	return 0;
}
