/*
 * caa-load.c — the project's gRPC load generator for CAA checkers: caad (caa.v1
 * Check / CheckOrder, va.CAA/DoCAA) and anything else that serves Boulder's
 * /va.CAA/DoCAA (Boulder's anchor). Written on gRPC core so that the client
 * costs little of a shared machine; one JSON line on stdout, one human line on
 * stderr.
 *
 *   closed loop: -c C jobs in flight over -k K channels, -d D seconds after
 *                --warmup W seconds (or -n N jobs)
 *   open loop:   --rate R jobs per second for D seconds (latency counted from
 *                each job's scheduled time, so a stall is not hidden)
 *
 * A job is one call, or with --order N an order of N names under one fresh
 * parent: one CheckOrder call (--rpc CheckOrder) or N concurrent DoCAA/Check
 * calls (as Boulder's RA does and the anchor's loadgen -order does).
 *
 * With --pid PID (the server) it reads /proc/PID/stat and /proc/PID/status
 * around the measured window: CPU ms per check, VmRSS idle (before any load),
 * under load (the largest sample, every 100 ms) and after, VmHWM, and memory
 * per check in flight = (RSS under load - RSS idle) / checks in flight.
 * --lab-pid PID (repeatable) adds the CPU of the lab's DNS servers.
 */
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include <grpc/byte_buffer.h>
#include <grpc/byte_buffer_reader.h>
#include <grpc/grpc.h>
#include <grpc/grpc_security.h>
#include <grpc/support/alloc.h>
#include <grpc/support/time.h>

#include "grpc_status.h"
#include "grpc_unary.h"
#include "caa/v1/caa.pb-c.h"
#include "va/va.pb-c.h"

#define MAX_THREADS  16
#define MAX_CHANNELS 64
#define MAX_PIDS     64
#define MAX_PROBLEMS 16
#define NAME_MAX_LEN 256
#define SAMPLE_LEN   240
#define PROBLEM_URN  "urn:ietf:params:acme:error:"
#define N_CODES      CAA_GRPC_STATUS_COUNT /* grpc_status_code 0..16 */
#define ERR_DECODE   N_CODES               /* the reply did not decode */
#define ERR_BATCH    (N_CODES + 1)         /* the batch itself failed */
#define N_ERRS       (N_CODES + 2)

enum rpc_kind { RPC_DOCAA, RPC_CHECK, RPC_ORDER };
enum phase { PH_WARMUP, PH_RECORD, PH_DRAIN };
enum seg_kind { SEG_LIT, SEG_RAND, SEG_SEQ, SEG_I, SEG_MOD };

static const char *const rpc_paths[] = {"/va.CAA/DoCAA", "/caa.v1.CAA/Check",
                                        "/caa.v1.CAA/CheckOrder"};
/* Error classes: gRPC status codes, then the load generator's own. */
static const char *err_name(int e)
{
	if (e < CAA_GRPC_STATUS_COUNT)
		return caa_grpc_status_name(e);
	return e == CAA_GRPC_STATUS_COUNT ? "DECODE" : "BATCH_FAILED";
}

/* ---------------------------------------------------------------- options */

typedef struct seg {
	enum seg_kind kind;
	const char *lit; /* SEG_LIT: points into the pattern */
	size_t len;
	uint64_t mod;
} seg_t;

static struct {
	const char *target;
	enum rpc_kind rpc;
	int conc;
	int channels;
	int threads;
	double duration, warmup, rate, timeout;
	long total;
	int max_in_flight;
	char *pattern;
	int order;
	const char *account_uri;
	int64_t account_id;
	const char *method;
	const char *wire; /* both | new | old */
	bool validated, probe, explain;
	int64_t validated_off_ms;
	const char *policy;
	const char *label;
	int pids[MAX_PIDS], n_pids;
	int lab_pids[MAX_PIDS], n_lab_pids;
	seg_t segs[32];
	int n_segs;
	char *seg_text; /* the pattern the segments point into */
	char nonce[8];
} opt = {.target = "127.0.0.1:8053",
         .rpc = RPC_DOCAA,
         .conc = 16,
         .channels = 1,
         .threads = 1,
         .duration = 10,
         .warmup = 1,
         .timeout = 20,
         .max_in_flight = 100000,
         .order = 1,
         .account_id = 1,
         .method = "dns-01",
         .wire = "both",
         .policy = "",
         .label = ""};

/* ---------------------------------------------------------------- state */

typedef struct problem_count {
	char type[48];
	uint64_t n;
} problem_count_t;

/* Per worker thread: its completion queue and what it recorded. Only the
 * thread itself writes its statistics. */
typedef struct worker {
	pthread_t thread;
	grpc_completion_queue *cq;
	uint32_t *lat_us; /* one per recorded call */
	size_t n_lat, cap_lat;
	uint64_t errs[N_ERRS];
	problem_count_t problems[MAX_PROBLEMS];
	int n_problems;
	uint64_t valid, reused, checks;
	char sample_err[SAMPLE_LEN], sample_problem[SAMPLE_LEN];
} worker_t;

typedef struct job job_t;

typedef struct call_ctx {
	job_t *job;
	grpc_call *call;
	caa_grpc_unary_t u;
	char name[NAME_MAX_LEN];
} call_ctx_t;

/* A unit of work: one call, or the N calls of an order. */
struct job {
	worker_t *w;
	int channel;
	bool reuse; /* closed loop: start again when done */
	atomic_int pending;
	int64_t t0_ns; /* send time (closed loop) or scheduled time (open loop) */
	int n_calls;
	call_ctx_t calls[];
};

static struct {
	grpc_channel *ch[MAX_CHANNELS];
	void *reg[MAX_CHANNELS]; /* registered method handle per channel */
	worker_t workers[MAX_THREADS];
	atomic_int phase;
	atomic_uint_fast64_t seq;
	atomic_long issued;   /* jobs started in the record phase (-n) */
	atomic_int jobs_live; /* jobs not yet finished */
	atomic_uint_fast64_t orders_done, skipped;
	atomic_int_fast64_t last_done_ns;
	atomic_uint rr; /* open loop: round robin over workers */
	bool started;   /* worker threads running */
} g;

/* ---------------------------------------------------------------- helpers */

static void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static void die(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fputs("caa-load: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	exit(2);
}

static int64_t mono_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void sleep_until_ns(int64_t t)
{
	struct timespec ts = {.tv_sec = t / 1000000000, .tv_nsec = t % 1000000000};
	while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR)
		;
}

static void *xcalloc(size_t n, size_t size)
{
	void *p = calloc(n, size);
	if (p == NULL)
		die("out of memory");
	return p;
}

static char *xstrdup(const char *s)
{
	char *p = strdup(s);
	if (p == NULL)
		die("out of memory");
	return p;
}

/* "1.5", "250ms", "10s", "2m", "1h" -> seconds; -1 on error */
static double parse_duration(const char *s)
{
	char *end;
	errno = 0;
	double v = strtod(s, &end);
	if (errno != 0 || end == s || v < 0)
		return -1;
	if (*end == '\0' || strcmp(end, "s") == 0)
		return v;
	if (strcmp(end, "ms") == 0)
		return v / 1000;
	if (strcmp(end, "m") == 0)
		return v * 60;
	if (strcmp(end, "h") == 0)
		return v * 3600;
	return -1;
}

static long parse_long(const char *s, const char *what, long min)
{
	char *end;
	errno = 0;
	long v = strtol(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || v < min)
		die("%s: \"%s\" is not a number >= %ld", what, s, min);
	return v;
}

/* ---------------------------------------------------------------- /proc */

/* utime + stime of a process (all its threads), in seconds; -1 if gone */
static double proc_cpu_s(int pid)
{
	char path[64], buf[1024];
	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	FILE *f = fopen(path, "r");
	if (f == NULL)
		return -1;
	size_t n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	const char *p = strrchr(buf, ')'); /* comm may hold spaces */
	if (p == NULL)
		return -1;
	unsigned long long ut = 0, st = 0;
	/* after ")": state(3) ppid pgrp session tty tpgid flags minflt cminflt majflt
	 * cmajflt utime(14) stime(15) */
	if (sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &ut, &st) != 2)
		return -1;
	return (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
}

static double cpu_sum(const int *pids, int n)
{
	double t = 0;
	for (int i = 0; i < n; i++) {
		double c = proc_cpu_s(pids[i]);
		if (c > 0)
			t += c;
	}
	return t;
}

/* VmRSS or VmHWM of a process in KiB; -1 if unknown */
static long proc_status_kb(int pid, const char *key)
{
	char path[64], line[256];
	snprintf(path, sizeof(path), "/proc/%d/status", pid);
	FILE *f = fopen(path, "r");
	if (f == NULL)
		return -1;
	long kb = -1;
	size_t klen = strlen(key);
	while (fgets(line, sizeof(line), f) != NULL) {
		if (strncmp(line, key, klen) == 0 && line[klen] == ':') {
			kb = strtol(line + klen + 1, NULL, 10);
			break;
		}
	}
	fclose(f);
	return kb;
}

static long mem_sum_kb(const char *key)
{
	long t = 0;
	for (int i = 0; i < opt.n_pids; i++) {
		long kb = proc_status_kb(opt.pids[i], key);
		if (kb < 0)
			return -1;
		t += kb;
	}
	return opt.n_pids ? t : -1;
}

static double self_cpu_s(void)
{
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
	       (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

/* ---------------------------------------------------------------- names */

static void parse_pattern(char *pat)
{
	char *p = pat;
	opt.n_segs = 0;
	while (*p != '\0') {
		if (opt.n_segs == (int)(sizeof(opt.segs) / sizeof(opt.segs[0])))
			die("--pattern: too many parts");
		seg_t *s = &opt.segs[opt.n_segs++];
		if (*p == '{') {
			char *close = strchr(p, '}');
			if (close == NULL)
				die("--pattern: \"{\" without \"}\"");
			size_t len = (size_t)(close - p + 1);
			if (len == 6 && strncmp(p, "{rand}", 6) == 0) {
				s->kind = SEG_RAND;
			} else if (len == 5 && strncmp(p, "{seq}", 5) == 0) {
				s->kind = SEG_SEQ;
			} else if (len == 3 && strncmp(p, "{i}", 3) == 0) {
				s->kind = SEG_I;
			} else if (strncmp(p, "{mod:", 5) == 0) {
				char *end;
				s->kind = SEG_MOD;
				s->mod = strtoull(p + 5, &end, 10);
				if (end != close || s->mod == 0)
					die("--pattern: {mod:K} needs K > 0");
			} else {
				die("--pattern: unknown placeholder %.*s", (int)len, p);
			}
			p = close + 1;
		} else {
			s->kind = SEG_LIT;
			s->lit = p;
			while (*p != '\0' && *p != '{')
				p++;
			s->len = (size_t)(p - s->lit);
		}
	}
}

static size_t put_u64(char *out, uint64_t v, unsigned base)
{
	char tmp[24];
	size_t n = 0;
	do {
		tmp[n++] = "0123456789abcdefghijklmnopqrstuvwxyz"[v % base];
		v /= base;
	} while (v != 0);
	for (size_t i = 0; i < n; i++)
		out[i] = tmp[n - 1 - i];
	return n;
}

/* The name of call i of job seq. */
static void make_name(char *out, uint64_t seq, int i)
{
	size_t n = 0;
	for (int k = 0; k < opt.n_segs; k++) {
		const seg_t *s = &opt.segs[k];
		if (n + 64 >= NAME_MAX_LEN)
			break;
		switch (s->kind) {
		case SEG_LIT: {
			size_t len = s->len < NAME_MAX_LEN - 1 - n ? s->len : NAME_MAX_LEN - 1 - n;
			memcpy(out + n, s->lit, len);
			n += len;
			break;
		}
		case SEG_RAND:
			memcpy(out + n, opt.nonce, strlen(opt.nonce));
			n += strlen(opt.nonce);
			out[n++] = '-';
			n += put_u64(out + n, seq, 36);
			break;
		case SEG_SEQ: n += put_u64(out + n, seq, 10); break;
		case SEG_I: n += put_u64(out + n, (uint64_t)i, 10); break;
		case SEG_MOD: n += put_u64(out + n, seq % s->mod, 10); break;
		}
	}
	out[n] = '\0';
}

/* ---------------------------------------------------------------- requests */

static void set_now(Google__Protobuf__Timestamp *ts)
{
	struct timespec now;
	clock_gettime(CLOCK_REALTIME, &now);
	int64_t ms = (int64_t)now.tv_sec * 1000 + now.tv_nsec / 1000000 - opt.validated_off_ms;
	ts->seconds = ms / 1000;
	ts->nanos = (int32_t)(ms % 1000) * 1000000;
}

static void fill_check(Caa__V1__CheckRequest *r, Caa__V1__Identifier *id,
                       Google__Protobuf__Timestamp *ts, char *name)
{
	id->type = "dns";
	id->value = name;
	r->identifier = id;
	r->account_uri = (char *)opt.account_uri;
	r->validation_method = (char *)opt.method;
	r->account_id = opt.account_id;
	r->policy = (char *)opt.policy;
	r->explain = opt.explain;
	if (opt.validated) {
		set_now(ts);
		r->validated_at = ts;
	}
}

static grpc_byte_buffer *pack(const ProtobufCMessage *m)
{
	size_t len = protobuf_c_message_get_packed_size(m);
	grpc_slice s = grpc_slice_malloc(len);
	protobuf_c_message_pack(m, GRPC_SLICE_START_PTR(s));
	grpc_byte_buffer *bb = grpc_raw_byte_buffer_create(&s, 1);
	grpc_slice_unref(s);
	return bb;
}

/* The request of call i of job number seq (names already made, except an
 * order's, made here). */
static grpc_byte_buffer *encode(job_t *job, int i, uint64_t seq)
{
	uint64_t authz = 1000 + seq * (uint64_t)job->n_calls + (uint64_t)i;
	switch (opt.rpc) {
	case RPC_DOCAA: {
		Va__IsCAAValidRequest r = VA__IS_CAAVALID_REQUEST__INIT;
		Core__Identifier id = CORE__IDENTIFIER__INIT;
		if (strcmp(opt.wire, "new") != 0)
			r.domain = job->calls[i].name;
		if (strcmp(opt.wire, "old") != 0) {
			id.type = "dns";
			id.value = job->calls[i].name;
			r.identifier = &id;
			r.authzid = (int64_t)authz;
		}
		r.validationmethod = (char *)opt.method;
		r.accounturiid = opt.account_id;
		return pack(&r.base);
	}
	case RPC_CHECK: {
		Caa__V1__CheckRequest r = CAA__V1__CHECK_REQUEST__INIT;
		Caa__V1__Identifier id = CAA__V1__IDENTIFIER__INIT;
		Google__Protobuf__Timestamp ts = GOOGLE__PROTOBUF__TIMESTAMP__INIT;
		fill_check(&r, &id, &ts, job->calls[i].name);
		return pack(&r.base);
	}
	case RPC_ORDER: break;
	}
	int n = opt.order;
	Caa__V1__CheckRequest *rs = xcalloc((size_t)n, sizeof(*rs));
	Caa__V1__CheckRequest **rp = xcalloc((size_t)n, sizeof(*rp));
	Caa__V1__Identifier *ids = xcalloc((size_t)n, sizeof(*ids));
	Google__Protobuf__Timestamp *tss = xcalloc((size_t)n, sizeof(*tss));
	char(*names)[NAME_MAX_LEN] = xcalloc((size_t)n, NAME_MAX_LEN);
	for (int k = 0; k < n; k++) {
		Caa__V1__CheckRequest r0 = CAA__V1__CHECK_REQUEST__INIT;
		Caa__V1__Identifier i0 = CAA__V1__IDENTIFIER__INIT;
		Google__Protobuf__Timestamp t0 = GOOGLE__PROTOBUF__TIMESTAMP__INIT;
		rs[k] = r0;
		ids[k] = i0;
		tss[k] = t0;
		make_name(names[k], seq, k);
		fill_check(&rs[k], &ids[k], &tss[k], names[k]);
		rp[k] = &rs[k];
	}
	Caa__V1__CheckOrderRequest o = CAA__V1__CHECK_ORDER_REQUEST__INIT;
	o.n_authorizations = (size_t)n;
	o.authorizations = rp;
	grpc_byte_buffer *bb = pack(&o.base);
	free(rs);
	free(rp);
	free(ids);
	free(tss);
	free(names);
	return bb;
}

/* ---------------------------------------------------------------- calls */

static void job_done(job_t *job);
static void start_job(job_t *job, int64_t t0_ns);

static void start_call(job_t *job, int i, uint64_t seq)
{
	call_ctx_t *cc = &job->calls[i];
	gpr_timespec deadline =
	    gpr_time_add(gpr_now(GPR_CLOCK_MONOTONIC),
	                 gpr_time_from_millis((int64_t)(opt.timeout * 1000), GPR_TIMESPAN));
	cc->job = job;
	caa_grpc_unary_init(&cc->u);
	cc->call =
	    grpc_channel_create_registered_call(g.ch[job->channel], NULL, GRPC_PROPAGATE_DEFAULTS,
	                                        job->w->cq, g.reg[job->channel], deadline, NULL);
	grpc_byte_buffer *send = encode(job, i, seq);
	grpc_call_error e = caa_grpc_unary_start(cc->call, send, &cc->u, cc);
	/* the message is copied into the call (or never used on failure) */
	grpc_byte_buffer_destroy(send);
	if (e != GRPC_CALL_OK)
		die("grpc_call_start_batch: error %d", (int)e); /* a bug here, not the server */
}

static void start_job(job_t *job, int64_t t0_ns)
{
	uint64_t seq = atomic_fetch_add(&g.seq, 1);
	job->t0_ns = t0_ns ? t0_ns : mono_ns();
	/* +1: the starter's own reference, so a job whose calls all finish
	 * before the last one is started is not finished twice */
	atomic_store(&job->pending, job->n_calls + 1);
	for (int i = 0; i < job->n_calls; i++) {
		if (opt.rpc != RPC_ORDER)
			make_name(job->calls[i].name, seq, i);
		else
			snprintf(job->calls[i].name, NAME_MAX_LEN, "order %" PRIu64, seq);
		start_call(job, i, seq);
	}
	if (atomic_fetch_sub(&job->pending, 1) == 1)
		job_done(job);
}

/* May this closed-loop job start another round? */
static bool may_continue(void)
{
	if (atomic_load(&g.phase) == PH_DRAIN)
		return false;
	if (opt.total > 0 && atomic_load(&g.phase) == PH_RECORD &&
	    atomic_fetch_add(&g.issued, 1) >= opt.total)
		return false;
	return true;
}

static void job_done(job_t *job)
{
	atomic_store(&g.last_done_ns, mono_ns());
	if (job->n_calls > 1 && atomic_load(&g.phase) == PH_RECORD)
		atomic_fetch_add(&g.orders_done, 1);
	if (job->reuse && may_continue()) {
		start_job(job, 0);
		return;
	}
	free(job);
	atomic_fetch_sub(&g.jobs_live, 1);
}

static void add_problem(worker_t *w, const char *type, const char *name, const char *detail)
{
	if (strncmp(type, PROBLEM_URN, strlen(PROBLEM_URN)) == 0)
		type += strlen(PROBLEM_URN);
	int k;
	for (k = 0; k < w->n_problems; k++)
		if (strcmp(w->problems[k].type, type) == 0)
			break;
	if (k == w->n_problems) {
		if (k == MAX_PROBLEMS)
			k--; /* the last slot collects the rest */
		else
			w->n_problems++;
		snprintf(w->problems[k].type, sizeof(w->problems[k].type), "%s",
		         k == MAX_PROBLEMS - 1 ? "other" : type);
	}
	w->problems[k].n++;
	if (w->sample_problem[0] == '\0')
		snprintf(w->sample_problem, SAMPLE_LEN, "%.100s: %.30s: %.100s", name, type,
		         detail);
}

static void count_check(worker_t *w, const Caa__V1__CheckResponse *r, const char *name)
{
	w->checks++;
	if (r->reused)
		w->reused++;
	if (r->problem != NULL)
		add_problem(w, r->problem->type, name, r->problem->detail);
	else
		w->valid++;
}

/* Decode a reply and count its checks; false if it does not decode. */
static bool count_reply(worker_t *w, call_ctx_t *cc)
{
	if (cc->u.recv == NULL)
		return false;
	grpc_byte_buffer_reader rd;
	if (!grpc_byte_buffer_reader_init(&rd, cc->u.recv))
		return false;
	grpc_slice s = grpc_byte_buffer_reader_readall(&rd);
	grpc_byte_buffer_reader_destroy(&rd);
	const uint8_t *p = GRPC_SLICE_START_PTR(s);
	size_t len = GRPC_SLICE_LENGTH(s);
	bool ok = true;
	switch (opt.rpc) {
	case RPC_DOCAA: {
		Va__IsCAAValidResponse *r = va__is_caavalid_response__unpack(NULL, len, p);
		if ((ok = r != NULL)) {
			w->checks++;
			if (r->problem != NULL)
				add_problem(w, r->problem->problemtype, cc->name,
				            r->problem->detail);
			else
				w->valid++;
			va__is_caavalid_response__free_unpacked(r, NULL);
		}
		break;
	}
	case RPC_CHECK: {
		Caa__V1__CheckResponse *r = caa__v1__check_response__unpack(NULL, len, p);
		if ((ok = r != NULL)) {
			count_check(w, r, cc->name);
			caa__v1__check_response__free_unpacked(r, NULL);
		}
		break;
	}
	case RPC_ORDER: {
		Caa__V1__CheckOrderResponse *r =
		    caa__v1__check_order_response__unpack(NULL, len, p);
		if ((ok = r != NULL && r->n_results == (size_t)opt.order)) {
			for (size_t k = 0; k < r->n_results; k++)
				count_check(w, r->results[k], cc->name);
		}
		if (r != NULL)
			caa__v1__check_order_response__free_unpacked(r, NULL);
		break;
	}
	}
	grpc_slice_unref(s);
	return ok;
}

static void add_error(worker_t *w, int code, const char *name, const char *detail)
{
	w->errs[code]++;
	if (w->sample_err[0] == '\0')
		snprintf(w->sample_err, SAMPLE_LEN, "%.100s: %s: %.100s", name, err_name((int)code),
		         detail);
}

static void finish_call(worker_t *w, call_ctx_t *cc, bool success)
{
	job_t *job = cc->job;
	int64_t t = mono_ns();
	if (atomic_load(&g.phase) == PH_RECORD) {
		if (w->n_lat == w->cap_lat) {
			w->cap_lat = w->cap_lat ? w->cap_lat * 2 : 65536;
			w->lat_us = realloc(w->lat_us, w->cap_lat * sizeof(*w->lat_us));
			if (w->lat_us == NULL)
				die("out of memory");
		}
		int64_t us = (t - job->t0_ns) / 1000;
		w->lat_us[w->n_lat++] = us > UINT32_MAX ? UINT32_MAX : (uint32_t)us;
		if (!success) {
			add_error(w, ERR_BATCH, cc->name, "the batch failed");
		} else if (cc->u.status != GRPC_STATUS_OK) {
			char *d = grpc_slice_to_c_string(cc->u.details);
			add_error(w,
			          (int)cc->u.status < N_CODES ? (int)cc->u.status
			                                      : GRPC_STATUS_UNKNOWN,
			          cc->name, d);
			gpr_free(d);
		} else if (!count_reply(w, cc)) {
			add_error(w, ERR_DECODE, cc->name, "the reply does not decode");
		}
	}
	caa_grpc_unary_deinit(&cc->u);
	grpc_call_unref(cc->call);
	cc->call = NULL;
	if (atomic_fetch_sub(&job->pending, 1) == 1)
		job_done(job);
}

static void *worker_main(void *arg)
{
	worker_t *w = arg;
	for (;;) {
		grpc_event ev =
		    grpc_completion_queue_next(w->cq, gpr_inf_future(GPR_CLOCK_MONOTONIC), NULL);
		if (ev.type == GRPC_QUEUE_SHUTDOWN)
			break;
		if (ev.type == GRPC_OP_COMPLETE)
			finish_call(w, ev.tag, ev.success != 0);
	}
	return NULL;
}

static job_t *new_job(int idx, bool reuse)
{
	int n = opt.rpc == RPC_ORDER ? 1 : opt.order;
	job_t *job = calloc(1, sizeof(*job) + (size_t)n * sizeof(call_ctx_t));
	if (job == NULL)
		return NULL;
	job->n_calls = n;
	job->w = &g.workers[idx % opt.threads];
	job->channel = idx % opt.channels;
	job->reuse = reuse;
	atomic_fetch_add(&g.jobs_live, 1);
	return job;
}

/* ---------------------------------------------------------------- setup */

static void wait_connected(void)
{
	grpc_completion_queue *cq = grpc_completion_queue_create_for_next(NULL);
	gpr_timespec until =
	    gpr_time_add(gpr_now(GPR_CLOCK_MONOTONIC), gpr_time_from_millis(10000, GPR_TIMESPAN));
	for (int c = 0; c < opt.channels; c++) {
		for (;;) {
			grpc_connectivity_state st =
			    grpc_channel_check_connectivity_state(g.ch[c], 1);
			if (st == GRPC_CHANNEL_READY)
				break;
			if (gpr_time_cmp(gpr_now(GPR_CLOCK_MONOTONIC), until) > 0)
				die("%s: not connected after 10 s", opt.target);
			grpc_channel_watch_connectivity_state(g.ch[c], st, until, cq, NULL);
			grpc_completion_queue_next(cq, gpr_inf_future(GPR_CLOCK_MONOTONIC), NULL);
		}
	}
	grpc_completion_queue_shutdown(cq);
	while (grpc_completion_queue_next(cq, gpr_inf_future(GPR_CLOCK_MONOTONIC), NULL).type !=
	       GRPC_QUEUE_SHUTDOWN)
		;
	grpc_completion_queue_destroy(cq);
}

/* --target A,B,...: channel c connects to the (c mod n)-th, so jobs (bound to
 * channels round-robin) are split evenly over the servers (replicas). */
static int n_targets(void)
{
	int n = 1;
	for (const char *p = opt.target; *p != '\0'; p++)
		n += *p == ',';
	return n;
}

static const char *target_of(int c, char *buf, size_t cap)
{
	const char *p = opt.target;
	for (int i = c % n_targets(); i > 0; i--)
		p = strchr(p, ',') + 1;
	size_t len = strcspn(p, ",");
	if (len == 0 || len >= cap)
		die("--target: bad address list \"%s\"", opt.target);
	memcpy(buf, p, len);
	buf[len] = '\0';
	return buf;
}

static void setup(void)
{
	grpc_channel_credentials *creds = grpc_insecure_credentials_create();
	if (!opt.probe && opt.channels % n_targets() != 0)
		die("--channels %d: not a multiple of the %d targets", opt.channels, n_targets());
	for (int c = 0; c < opt.channels; c++) {
		char target[256];
		/* a local subchannel pool: each channel gets its own connection */
		grpc_arg args[2];
		args[0].type = GRPC_ARG_INTEGER;
		args[0].key = GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL;
		args[0].value.integer = 1;
		args[1].type = GRPC_ARG_INTEGER;
		args[1].key = "caa_load.channel";
		args[1].value.integer = c;
		grpc_channel_args ca = {.num_args = 2, .args = args};
		g.ch[c] = grpc_channel_create(target_of(c, target, sizeof(target)), creds, &ca);
		g.reg[c] = grpc_channel_register_call(g.ch[c], rpc_paths[opt.rpc], NULL, NULL);
	}
	grpc_channel_credentials_release(creds);
	for (int t = 0; t < opt.threads; t++)
		g.workers[t].cq = grpc_completion_queue_create_for_next(NULL);
}

static void start_workers(void)
{
	for (int t = 0; t < opt.threads; t++)
		if (pthread_create(&g.workers[t].thread, NULL, worker_main, &g.workers[t]) != 0)
			die("pthread_create failed");
	g.started = true;
}

static void teardown(void)
{
	for (int t = 0; t < opt.threads; t++) {
		grpc_completion_queue *cq = g.workers[t].cq;
		grpc_completion_queue_shutdown(cq);
		if (g.started)
			pthread_join(g.workers[t].thread, NULL);
		else
			while (grpc_completion_queue_next(cq, gpr_inf_future(GPR_CLOCK_MONOTONIC),
			                                  NULL)
			           .type != GRPC_QUEUE_SHUTDOWN)
				;
		grpc_completion_queue_destroy(cq);
	}
	for (int c = 0; c < opt.channels; c++)
		grpc_channel_destroy(g.ch[c]);
}

/* ---------------------------------------------------------------- probe */

static void json_str(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s != '\0'; s++) {
		unsigned char c = (unsigned char)*s;
		if (c == '"' || c == '\\')
			fprintf(f, "\\%c", c);
		else if (c < 0x20)
			fprintf(f, "\\u%04x", c);
		else
			fputc(c, f);
	}
	fputc('"', f);
}

/* One call, its decoded reply on stdout; exit 0, or 1 on a gRPC error. No
 * worker thread runs: this thread polls the completion queue itself. */
static int probe(void)
{
	job_t *job = new_job(0, false);
	if (job == NULL)
		die("out of memory");
	worker_t *w = job->w;
	call_ctx_t *cc = &job->calls[0];
	if (opt.rpc == RPC_ORDER)
		snprintf(cc->name, NAME_MAX_LEN, "order 0");
	else
		make_name(cc->name, 0, 0);
	start_call(job, 0, 0);
	grpc_event ev =
	    grpc_completion_queue_next(w->cq, gpr_inf_future(GPR_CLOCK_MONOTONIC), NULL);
	int rc = 1;
	printf("{\"name\":");
	json_str(stdout, cc->name);
	if (ev.type != GRPC_OP_COMPLETE || !ev.success) {
		printf(",\"code\":\"BATCH_FAILED\"}\n");
	} else if (cc->u.status != GRPC_STATUS_OK) {
		char *d = grpc_slice_to_c_string(cc->u.details);
		printf(",\"code\":\"%s\",\"message\":", caa_grpc_status_name((int)cc->u.status));
		json_str(stdout, d);
		printf("}\n");
		gpr_free(d);
	} else if (!count_reply(w, cc)) {
		printf(",\"code\":\"DECODE\"}\n");
	} else {
		printf(",\"code\":\"OK\",\"checks\":%" PRIu64 ",\"valid\":%" PRIu64
		       ",\"reused\":%" PRIu64 ",\"problem\":",
		       w->checks, w->valid, w->reused);
		json_str(stdout, w->sample_problem);
		printf("}\n");
		rc = 0;
	}
	caa_grpc_unary_deinit(&cc->u);
	grpc_call_unref(cc->call);
	free(job);
	return rc;
}

/* ---------------------------------------------------------------- load */

static void *pacer_main(void *arg)
{
	(void)arg;
	int64_t period = (int64_t)(1e9 / opt.rate);
	int64_t next = mono_ns();
	while (atomic_load(&g.phase) != PH_DRAIN) {
		int64_t now = mono_ns();
		while (next <= now && atomic_load(&g.phase) != PH_DRAIN) {
			if (atomic_load(&g.jobs_live) >= opt.max_in_flight) {
				if (atomic_load(&g.phase) == PH_RECORD)
					atomic_fetch_add(&g.skipped, 1);
			} else {
				job_t *job =
				    new_job((int)(atomic_fetch_add(&g.rr, 1) % 1000003u), false);
				if (job == NULL)
					die("out of memory");
				start_job(job, next);
			}
			next += period;
		}
		sleep_until_ns(next);
	}
	return NULL;
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	return x < y ? -1 : x > y;
}

static double pct_ms(const uint32_t *v, size_t n, double p)
{
	if (n == 0)
		return 0;
	size_t idx = (size_t)(p / 100 * (double)n + 0.999999);
	idx = idx == 0 ? 0 : idx - 1;
	if (idx >= n)
		idx = n - 1;
	return v[idx] / 1000.0;
}

typedef struct window {
	double seconds;
	double srv_cpu, lab_cpu, self_cpu;
	long rss_idle, rss_load, rss_end, hwm;
} window_t;

static void report(const window_t *win)
{
	uint64_t errs[N_ERRS] = {0}, valid = 0, reused = 0, checks = 0;
	problem_count_t probs[MAX_PROBLEMS * MAX_THREADS];
	int n_probs = 0;
	size_t n_lat = 0;
	const char *sample_err = "", *sample_problem = "";
	for (int t = 0; t < opt.threads; t++)
		n_lat += g.workers[t].n_lat;
	uint32_t *lat = xcalloc(n_lat ? n_lat : 1, sizeof(*lat));
	size_t at = 0;
	double sum = 0;
	for (int t = 0; t < opt.threads; t++) {
		worker_t *w = &g.workers[t];
		memcpy(lat + at, w->lat_us, w->n_lat * sizeof(*lat));
		at += w->n_lat;
		for (int e = 0; e < N_ERRS; e++)
			errs[e] += w->errs[e];
		valid += w->valid;
		reused += w->reused;
		checks += w->checks;
		for (int k = 0; k < w->n_problems; k++) {
			int j;
			for (j = 0; j < n_probs; j++)
				if (strcmp(probs[j].type, w->problems[k].type) == 0)
					break;
			if (j == n_probs)
				probs[n_probs++] = w->problems[k];
			else
				probs[j].n += w->problems[k].n;
		}
		if (sample_err[0] == '\0')
			sample_err = w->sample_err;
		if (sample_problem[0] == '\0')
			sample_problem = w->sample_problem;
	}
	qsort(lat, n_lat, sizeof(*lat), cmp_u32);
	for (size_t i = 0; i < n_lat; i++)
		sum += lat[i];
	uint64_t n_errs = 0;
	for (int e = 1; e < N_ERRS; e++)
		n_errs += errs[e];
	/* checks the server answered plus those that ended in an error */
	uint64_t per_call = opt.rpc == RPC_ORDER ? (uint64_t)opt.order : 1;
	uint64_t all_checks = checks + n_errs * per_call;
	double secs = win->seconds > 0 ? win->seconds : 1;
	int in_flight = opt.rate > 0 ? 0 : opt.conc * opt.order;
	double mem_per = -1;
	if (win->rss_idle >= 0 && win->rss_load >= 0 && in_flight > 0)
		mem_per = (double)(win->rss_load - win->rss_idle) * 1024.0 / in_flight;
	double srv_ms = opt.n_pids && checks ? win->srv_cpu * 1000 / (double)checks : -1;
	double lab_ms = opt.n_lab_pids && checks ? win->lab_cpu * 1000 / (double)checks : -1;
	double self_ms = checks ? win->self_cpu * 1000 / (double)checks : -1;

	FILE *f = stdout;
	fprintf(f, "{\"label\":");
	json_str(f, opt.label);
	fprintf(f, ",\"target\":");
	json_str(f, opt.target);
	fprintf(f, ",\"rpc\":\"%s\",\"pattern\":", rpc_paths[opt.rpc]);
	json_str(f, opt.pattern);
	fprintf(f,
	        ",\"wire\":\"%s\",\"mode\":\"%s\",\"concurrency\":%d,\"order\":%d,"
	        "\"in_flight\":%d,\"channels\":%d,\"threads\":%d,\"rate\":%.1f,"
	        "\"validated_at\":%s,\"seconds\":%.3f,\"calls\":%zu,\"checks\":%" PRIu64
	        ",\"valid\":%" PRIu64 ",\"reused\":%" PRIu64 ",\"orders\":%" PRIu64
	        ",\"skipped\":%" PRIu64,
	        opt.rpc == RPC_DOCAA ? opt.wire : "-", opt.rate > 0 ? "open" : "closed", opt.conc,
	        opt.order, in_flight, opt.channels, opt.threads, opt.rate,
	        opt.validated ? "true" : "false", win->seconds, n_lat, all_checks, valid, reused,
	        (uint64_t)atomic_load(&g.orders_done), (uint64_t)atomic_load(&g.skipped));
	fprintf(f, ",\"errors\":{");
	bool first = true;
	for (int e = 1; e < N_ERRS; e++) {
		if (errs[e] == 0)
			continue;
		fprintf(f, "%s\"%s\":%" PRIu64, first ? "" : ",", err_name((int)e), errs[e]);
		first = false;
	}
	fprintf(f, "},\"problems\":{");
	for (int j = 0; j < n_probs; j++) {
		fprintf(f, "%s", j ? "," : "");
		json_str(f, probs[j].type);
		fprintf(f, ":%" PRIu64, probs[j].n);
	}
	fprintf(f,
	        "},\"checks_per_s\":%.1f,\"calls_per_s\":%.1f,\"orders_per_s\":%.1f,"
	        "\"latency_ms\":{\"mean\":%.3f,\"p50\":%.3f,\"p90\":%.3f,\"p99\":%.3f,"
	        "\"max\":%.3f}",
	        (double)all_checks / secs, (double)n_lat / secs,
	        (double)atomic_load(&g.orders_done) / secs, n_lat ? sum / (double)n_lat / 1000 : 0,
	        pct_ms(lat, n_lat, 50), pct_ms(lat, n_lat, 90), pct_ms(lat, n_lat, 99),
	        n_lat ? lat[n_lat - 1] / 1000.0 : 0);
	if (opt.n_pids) {
		fprintf(f,
		        ",\"server_cpu_s\":%.3f,\"server_cpu_cores\":%.3f,"
		        "\"server_cpu_ms_per_check\":%.4f,\"rss_idle_kb\":%ld,\"rss_load_kb\":%ld,"
		        "\"rss_end_kb\":%ld,\"hwm_kb\":%ld",
		        win->srv_cpu, win->srv_cpu / secs, srv_ms, win->rss_idle, win->rss_load,
		        win->rss_end, win->hwm);
		fprintf(f, ",\"mem_per_inflight_bytes\":%.1f", mem_per);
	}
	if (opt.n_lab_pids)
		fprintf(f, ",\"lab_cpu_s\":%.3f,\"lab_cpu_ms_per_check\":%.4f", win->lab_cpu,
		        lab_ms);
	fprintf(f, ",\"loadgen_cpu_ms_per_check\":%.4f,\"sample_error\":", self_ms);
	json_str(f, sample_err);
	fprintf(f, ",\"sample_problem\":");
	json_str(f, sample_problem);
	fprintf(f, "}\n");
	fflush(f);

	fprintf(stderr,
	        "caa-load: %s%s%s c=%d%s k=%d %.1fs: %" PRIu64 " checks, %.0f checks/s, "
	        "p50 %.2f p90 %.2f p99 %.2f max %.1f ms, %" PRIu64 " errors, %" PRIu64 " problems",
	        opt.label, opt.label[0] ? " " : "", rpc_paths[opt.rpc], opt.conc,
	        opt.order > 1 ? " order" : "", opt.channels, win->seconds, all_checks,
	        (double)all_checks / secs, pct_ms(lat, n_lat, 50), pct_ms(lat, n_lat, 90),
	        pct_ms(lat, n_lat, 99), n_lat ? lat[n_lat - 1] / 1000.0 : 0, n_errs,
	        checks - valid);
	if (opt.n_pids)
		fprintf(stderr,
		        "; server %.3f ms CPU/check, RSS %.1f -> %.1f MiB (%.0f B/check in flight)",
		        srv_ms, win->rss_idle / 1024.0, win->rss_load / 1024.0, mem_per);
	if (opt.n_lab_pids)
		fprintf(stderr, "; lab %.3f ms CPU/check", lab_ms);
	fprintf(stderr, "\n");
	free(lat);
}

static int run(void)
{
	window_t win = {.rss_idle = mem_sum_kb("VmRSS")};
	start_workers();
	bool closed = opt.rate <= 0;
	pthread_t pacer;
	if (opt.total > 0 && opt.warmup <= 0)
		atomic_store(&g.phase, PH_RECORD);
	if (closed) {
		for (int i = 0; i < opt.conc; i++) {
			if (opt.total > 0 && atomic_load(&g.phase) == PH_RECORD &&
			    atomic_fetch_add(&g.issued, 1) >= opt.total)
				break;
			job_t *job = new_job(i, true);
			if (job == NULL)
				die("out of memory");
			start_job(job, 0);
		}
	} else if (pthread_create(&pacer, NULL, pacer_main, NULL) != 0) {
		die("pthread_create failed");
	}
	if (atomic_load(&g.phase) == PH_WARMUP) {
		sleep_until_ns(mono_ns() + (int64_t)(opt.warmup * 1e9));
		atomic_store(&g.phase, PH_RECORD);
	}
	int64_t t0 = mono_ns();
	double c_srv = cpu_sum(opt.pids, opt.n_pids), c_lab = cpu_sum(opt.lab_pids, opt.n_lab_pids);
	double c_self = self_cpu_s();
	win.rss_load = -1;
	int64_t t_end = opt.total > 0 ? INT64_MAX : t0 + (int64_t)(opt.duration * 1e9);
	for (;;) {
		long rss = mem_sum_kb("VmRSS");
		if (rss > win.rss_load)
			win.rss_load = rss;
		int64_t now = mono_ns();
		if (now >= t_end)
			break;
		if (opt.total > 0 && atomic_load(&g.jobs_live) == 0)
			break;
		int64_t next = now + 100000000;
		sleep_until_ns(next < t_end ? next : t_end);
	}
	if (opt.total == 0)
		atomic_store(&g.phase, PH_DRAIN);
	int64_t t1 = opt.total > 0 ? atomic_load(&g.last_done_ns) : mono_ns();
	win.srv_cpu = cpu_sum(opt.pids, opt.n_pids) - c_srv;
	win.lab_cpu = cpu_sum(opt.lab_pids, opt.n_lab_pids) - c_lab;
	win.self_cpu = self_cpu_s() - c_self;
	win.seconds = (double)(t1 - t0) / 1e9;
	atomic_store(&g.phase, PH_DRAIN);
	if (!closed)
		pthread_join(pacer, NULL);
	/* let what is in flight finish (each call ends by its deadline) */
	int64_t give_up = mono_ns() + (int64_t)((opt.timeout + 5) * 1e9);
	while (atomic_load(&g.jobs_live) > 0 && mono_ns() < give_up)
		sleep_until_ns(mono_ns() + 5000000);
	if (atomic_load(&g.jobs_live) > 0)
		fprintf(stderr, "caa-load: %d jobs still in flight at exit\n",
		        atomic_load(&g.jobs_live));
	win.rss_end = mem_sum_kb("VmRSS");
	win.hwm = mem_sum_kb("VmHWM");
	report(&win);
	uint64_t bad = 0;
	for (int t = 0; t < opt.threads; t++)
		for (int e = 1; e < N_ERRS; e++)
			bad += g.workers[t].errs[e];
	return bad ? 1 : 0;
}

/* ---------------------------------------------------------------- main */

static void usage(void)
{
	fputs(
	    "usage: caa-load --target HOST:PORT[,HOST:PORT...] [options]\n"
	    "  --target A,B                  several servers (replicas): channel c goes to the\n"
	    "                                (c mod n)-th, so -k must be a multiple of n\n"
	    "  --rpc DoCAA|Check|CheckOrder   method (default DoCAA)\n"
	    "  -c, --concurrency C           jobs in flight, closed loop (default 16)\n"
	    "  -k, --channels K              gRPC channels (connections), jobs spread over them "
	    "(1)\n"
	    "  -t, --threads T               completion-queue threads (1)\n"
	    "  -d, --duration S              measured seconds (10); -n N: N jobs instead\n"
	    "  --warmup S                    unmeasured seconds first (1)\n"
	    "  --rate R                      open loop: R jobs/s (latency from the scheduled "
	    "time)\n"
	    "  --max-in-flight M             open loop: skip sends beyond M jobs in flight "
	    "(100000)\n"
	    "  --pattern P                   names: {rand} unique per job, {seq}, {i} index in an\n"
	    "                                order, {mod:K} a fixed set of K (default\n"
	    "                                {rand}.bench.lab)\n"
	    "  --order N                     N names per job under one parent: one CheckOrder, or\n"
	    "                                N concurrent DoCAA/Check calls (\"n{i}.\" is "
	    "prefixed\n"
	    "                                when the pattern has no {i})\n"
	    "  --account-id N, --account-uri URI, --method M (dns-01), --policy NAME\n"
	    "  --wire both|new|old           DoCAA: identifier (5), domain (1), or both (both)\n"
	    "  --validated-at now[-DUR]      Check/CheckOrder: send validated_at (reuse window)\n"
	    "  --explain                     Check/CheckOrder: ask for the trace (and diagnosis)\n"
	    "  --timeout S                   per-call deadline (20)\n"
	    "  --pid PID                     the server: CPU per check, VmRSS, VmHWM (repeatable)\n"
	    "  --lab-pid PID                 lab DNS servers: their CPU per check (repeatable)\n"
	    "  --label L                     copied into the JSON\n"
	    "  --probe                       one call, print the decoded reply, exit 1 on error\n",
	    stderr);
	exit(2);
}

static void add_pid(int *pids, int *n, const char *s)
{
	char *copy = xstrdup(s), *save = NULL;
	for (char *tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		if (*n == MAX_PIDS)
			die("too many PIDs");
		pids[(*n)++] = (int)parse_long(tok, "--pid", 1);
	}
	free(copy);
}

static void parse_args(int argc, char **argv)
{
	enum {
		O_RPC = 256,
		O_WARMUP,
		O_RATE,
		O_MAXIF,
		O_PATTERN,
		O_ORDER,
		O_ACCT_ID,
		O_ACCT_URI,
		O_METHOD,
		O_POLICY,
		O_WIRE,
		O_VALIDATED,
		O_TIMEOUT,
		O_PID,
		O_LABPID,
		O_LABEL,
		O_PROBE,
		O_EXPLAIN,
		O_TARGET
	};
	static const struct option lo[] = {{"target", required_argument, NULL, O_TARGET},
	                                   {"rpc", required_argument, NULL, O_RPC},
	                                   {"concurrency", required_argument, NULL, 'c'},
	                                   {"channels", required_argument, NULL, 'k'},
	                                   {"threads", required_argument, NULL, 't'},
	                                   {"duration", required_argument, NULL, 'd'},
	                                   {"calls", required_argument, NULL, 'n'},
	                                   {"warmup", required_argument, NULL, O_WARMUP},
	                                   {"rate", required_argument, NULL, O_RATE},
	                                   {"max-in-flight", required_argument, NULL, O_MAXIF},
	                                   {"pattern", required_argument, NULL, O_PATTERN},
	                                   {"order", required_argument, NULL, O_ORDER},
	                                   {"account-id", required_argument, NULL, O_ACCT_ID},
	                                   {"account-uri", required_argument, NULL, O_ACCT_URI},
	                                   {"method", required_argument, NULL, O_METHOD},
	                                   {"policy", required_argument, NULL, O_POLICY},
	                                   {"wire", required_argument, NULL, O_WIRE},
	                                   {"validated-at", required_argument, NULL, O_VALIDATED},
	                                   {"timeout", required_argument, NULL, O_TIMEOUT},
	                                   {"pid", required_argument, NULL, O_PID},
	                                   {"lab-pid", required_argument, NULL, O_LABPID},
	                                   {"label", required_argument, NULL, O_LABEL},
	                                   {"probe", no_argument, NULL, O_PROBE},
	                                   {"explain", no_argument, NULL, O_EXPLAIN},
	                                   {"help", no_argument, NULL, 'h'},
	                                   {NULL, 0, NULL, 0}};
	const char *pattern = "{rand}.bench.lab";
	int ch;
	while ((ch = getopt_long(argc, argv, "c:k:t:d:n:h", lo, NULL)) != -1) {
		switch (ch) {
		case O_TARGET: opt.target = optarg; break;
		case O_RPC:
			if (strcasecmp(optarg, "DoCAA") == 0)
				opt.rpc = RPC_DOCAA;
			else if (strcasecmp(optarg, "Check") == 0)
				opt.rpc = RPC_CHECK;
			else if (strcasecmp(optarg, "CheckOrder") == 0)
				opt.rpc = RPC_ORDER;
			else
				die("--rpc: DoCAA, Check or CheckOrder, not \"%s\"", optarg);
			break;
		case 'c': opt.conc = (int)parse_long(optarg, "--concurrency", 1); break;
		case 'k':
			opt.channels = (int)parse_long(optarg, "--channels", 1);
			if (opt.channels > MAX_CHANNELS)
				die("--channels: at most %d", MAX_CHANNELS);
			break;
		case 't':
			opt.threads = (int)parse_long(optarg, "--threads", 1);
			if (opt.threads > MAX_THREADS)
				die("--threads: at most %d", MAX_THREADS);
			break;
		case 'd':
			if ((opt.duration = parse_duration(optarg)) <= 0)
				die("--duration: \"%s\" is not a duration", optarg);
			break;
		case 'n': opt.total = parse_long(optarg, "--calls", 1); break;
		case O_WARMUP:
			if ((opt.warmup = parse_duration(optarg)) < 0)
				die("--warmup: \"%s\" is not a duration", optarg);
			break;
		case O_RATE:
			opt.rate = strtod(optarg, NULL);
			if (!(opt.rate > 0))
				die("--rate: \"%s\" is not a positive rate", optarg);
			break;
		case O_MAXIF:
			opt.max_in_flight = (int)parse_long(optarg, "--max-in-flight", 1);
			break;
		case O_PATTERN: pattern = optarg; break;
		case O_ORDER: opt.order = (int)parse_long(optarg, "--order", 1); break;
		case O_ACCT_ID: opt.account_id = parse_long(optarg, "--account-id", 0); break;
		case O_ACCT_URI: opt.account_uri = optarg; break;
		case O_METHOD: opt.method = optarg; break;
		case O_POLICY: opt.policy = optarg; break;
		case O_WIRE:
			if (strcmp(optarg, "both") && strcmp(optarg, "new") &&
			    strcmp(optarg, "old"))
				die("--wire: both, new or old");
			opt.wire = optarg;
			break;
		case O_VALIDATED:
			if (strncmp(optarg, "now", 3) != 0 ||
			    (optarg[3] != '\0' && optarg[3] != '-'))
				die("--validated-at: now or now-DURATION (e.g. now-1h)");
			opt.validated = true;
			if (optarg[3] == '-') {
				double s = parse_duration(optarg + 4);
				if (s < 0)
					die("--validated-at: bad duration \"%s\"", optarg + 4);
				opt.validated_off_ms = (int64_t)(s * 1000);
			}
			break;
		case O_TIMEOUT:
			if ((opt.timeout = parse_duration(optarg)) <= 0)
				die("--timeout: \"%s\" is not a duration", optarg);
			break;
		case O_PID: add_pid(opt.pids, &opt.n_pids, optarg); break;
		case O_LABPID: add_pid(opt.lab_pids, &opt.n_lab_pids, optarg); break;
		case O_LABEL: opt.label = optarg; break;
		case O_PROBE: opt.probe = true; break;
		case O_EXPLAIN: opt.explain = true; break;
		default: usage();
		}
	}
	if (optind != argc)
		usage();
	if (opt.rpc == RPC_DOCAA && opt.validated)
		die("--validated-at: DoCAA has no such field");
	if (opt.rpc == RPC_DOCAA && opt.explain)
		die("--explain: DoCAA has no such field");
	size_t plen = strlen(pattern) + 8;
	opt.pattern = xcalloc(1, plen);
	if (opt.order > 1 && strstr(pattern, "{i}") == NULL)
		snprintf(opt.pattern, plen, "n{i}.%s", pattern);
	else
		snprintf(opt.pattern, plen, "%s", pattern);
	/* the segments point into a copy that lives as long as the process */
	opt.seg_text = xstrdup(opt.pattern);
	parse_pattern(opt.seg_text);
	if (opt.account_uri == NULL)
		opt.account_uri = "";
	if (opt.probe) {
		opt.threads = 1;
		opt.channels = 1;
	}
	/* a run-unique token for {rand}: names never repeat across runs */
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	uint64_t r =
	    (uint64_t)ts.tv_nsec * 2654435761u ^ (uint64_t)getpid() << 20 ^ (uint64_t)ts.tv_sec;
	for (int i = 0; i < 6; i++, r /= 36)
		opt.nonce[i] = "abcdefghijklmnopqrstuvwxyz0123456789"[r % 36];
}

int main(int argc, char **argv)
{
	parse_args(argc, argv);
	grpc_init();
	setup();
	wait_connected();
	int rc = opt.probe ? probe() : run();
	teardown();
	grpc_shutdown();
	return rc;
}
