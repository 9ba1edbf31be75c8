/*
 * metrics.c — counters and the Prometheus text exposition format 0.0.4
 * (metrics.h). Label depth: 1 is the TLD, 2 the registered domain under a
 * one-label suffix, and so on; an operator sees "TLD lookups are failing"
 * (docs/failures.md 5) as caad_label_errors_total{depth="1",...} rising.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "codes.h"
#include "json.h"
#include "grpc_status.h"
#include "metrics.h"

#define N_VERDICTS 4  /* caa_verdict_t 1..3 */
#define N_REASONS  21 /* caa_reason_t 1..20 */
#define N_OUTCOMES 12 /* caa_outcome_t */
#define MAX_DEPTH  6  /* depths above are counted as "6+" */
#define N_CODES    17 /* grpc_status_code 0..16 */
#define N_STATES   (CAA_MPIC_MISMATCH + 1)

static const double buckets_ms[] = {1, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000};
#define N_BUCKETS (sizeof(buckets_ms) / sizeof(buckets_ms[0]))

typedef atomic_uint_fast64_t counter_t;

struct caad_metrics {
	const char *const *methods;
	size_t n_methods;
	caad_gauges_fn gauges;
	void *gauges_arg;
	counter_t checks[N_VERDICTS][N_REASONS];
	counter_t reused;
	counter_t label_errors[MAX_DEPTH + 1][N_OUTCOMES];
	counter_t failed_at[MAX_DEPTH + 1];
	counter_t latency[N_BUCKETS + 1];
	counter_t latency_sum_us, latency_count;
	counter_t *rpc; /* [n_methods + 1][N_CODES] */
	pthread_mutex_t dns_lock;
	caa_ctx_stats_t dns;
	/* remote perspectives, configured order (caad_metrics_remotes) */
	const caa_remote_config_t *remotes;
	size_t n_remotes;
	struct remote_counters {
		counter_t outcomes[N_STATES];
		counter_t latency[N_BUCKETS + 1];
		counter_t latency_sum_us, latency_count;
	} * remote;
	counter_t quorum[2];      /* failed, passed */
	counter_t audit_failures; /* audit lines that could not be written */
};

static void inc(counter_t *c, uint64_t by)
{
	atomic_fetch_add_explicit(c, by, memory_order_relaxed);
}

static uint64_t get(counter_t *c)
{
	return atomic_load_explicit(c, memory_order_relaxed);
}

caad_metrics_t *caad_metrics_new(const char *const *methods, size_t n_methods,
                                 caad_gauges_fn gauges, void *gauges_arg)
{
	caad_metrics_t *m = calloc(1, sizeof(*m));
	if (m == NULL)
		return NULL;
	m->rpc = calloc((n_methods + 1) * N_CODES, sizeof(*m->rpc));
	if (m->rpc == NULL) {
		free(m);
		return NULL;
	}
	m->methods = methods;
	m->n_methods = n_methods;
	m->gauges = gauges;
	m->gauges_arg = gauges_arg;
	pthread_mutex_init(&m->dns_lock, NULL);
	return m;
}

int caad_metrics_remotes(caad_metrics_t *m, const caa_config_t *cfg)
{
	size_t n = cfg->perspective.n_remotes;
	if (n == 0)
		return CAA_EOK;
	if ((m->remote = calloc(n, sizeof(*m->remote))) == NULL)
		return CAA_ENOMEM;
	m->remotes = cfg->perspective.remotes;
	m->n_remotes = n;
	return CAA_EOK;
}

/* The bucket of a latency in µs. */
static size_t bucket_of(uint32_t us)
{
	double ms = us / 1000.0;
	size_t b = 0;
	while (b < N_BUCKETS && ms > buckets_ms[b])
		b++;
	return b;
}

void caad_metrics_perspective(caad_metrics_t *m, size_t remote, caa_mpic_state_t state,
                              uint32_t elapsed_us)
{
	if (remote >= m->n_remotes || (unsigned)state >= N_STATES)
		return;
	struct remote_counters *rc = &m->remote[remote];
	inc(&rc->outcomes[state], 1);
	inc(&rc->latency[bucket_of(elapsed_us)], 1);
	inc(&rc->latency_sum_us, elapsed_us);
	inc(&rc->latency_count, 1);
}

void caad_metrics_quorum(caad_metrics_t *m, bool passed)
{
	inc(&m->quorum[passed], 1);
}

void caad_metrics_audit_failure(caad_metrics_t *m)
{
	if (m != NULL)
		inc(&m->audit_failures, 1);
}

void caad_metrics_free(caad_metrics_t *m)
{
	if (m == NULL)
		return;
	free(m->remote);
	pthread_mutex_destroy(&m->dns_lock);
	free(m->rpc);
	free(m);
}

void caad_metrics_rpc(void *arg, size_t method, grpc_status_code code)
{
	caad_metrics_t *m = arg;
	if (method > m->n_methods)
		method = m->n_methods;
	if ((unsigned)code >= N_CODES)
		code = GRPC_STATUS_UNKNOWN;
	inc(&m->rpc[method * N_CODES + (size_t)code], 1);
}

static unsigned depth_of(const char *name)
{
	unsigned d = 1;
	for (; *name; name++)
		d += *name == '.';
	return d > MAX_DEPTH ? MAX_DEPTH : d;
}

/* Lookups that failed (NXDOMAIN only at the TLD, where it is an error). */
static bool label_error(caa_outcome_t o, unsigned depth)
{
	switch (o) {
	case CAA_OUT_NXDOMAIN: return depth == 1;
	case CAA_OUT_NODATA_NOSOA:
	case CAA_OUT_SERVFAIL:
	case CAA_OUT_REFUSED:
	case CAA_OUT_NOTIMP:
	case CAA_OUT_FORMERR:
	case CAA_OUT_TIMEOUT:
	case CAA_OUT_NETWORK:
	case CAA_OUT_BOGUS: return true;
	default: return false;
	}
}

void caad_metrics_check(caad_metrics_t *m, const caa_result_t *res)
{
	unsigned v = (unsigned)res->verdict, r = (unsigned)res->reason;
	inc(&m->checks[v < N_VERDICTS ? v : 0][r < N_REASONS ? r : 0], 1);
	if (res->reused) {
		inc(&m->reused, 1);
		return;
	}
	for (size_t i = 0; i < res->n_trace; i++) {
		const caa_trace_t *t = &res->trace[i];
		unsigned d = depth_of(t->name);
		if ((unsigned)t->outcome < N_OUTCOMES && label_error(t->outcome, d))
			inc(&m->label_errors[d][t->outcome], 1);
		if (t->relevant && res->verdict == CAA_LOOKUP_FAILED)
			inc(&m->failed_at[d], 1);
	}
	inc(&m->latency[bucket_of(res->elapsed_us)], 1);
	inc(&m->latency_sum_us, res->elapsed_us);
	inc(&m->latency_count, 1);
}

void caad_metrics_dns(caad_metrics_t *m, const caa_ctx_stats_t *stats)
{
	pthread_mutex_lock(&m->dns_lock);
	m->dns = *stats;
	pthread_mutex_unlock(&m->dns_lock);
}

static const char *depth_label(unsigned d)
{
	static const char *const names[] = {"0", "1", "2", "3", "4", "5", "6+"};
	return names[d];
}

static void render_checks(caad_metrics_t *m, FILE *out)
{
	fputs("# HELP caad_checks_total CAA checks answered, by verdict and reason.\n"
	      "# TYPE caad_checks_total counter\n",
	      out);
	for (unsigned v = 1; v < N_VERDICTS; v++)
		for (unsigned r = 1; r < N_REASONS; r++) {
			uint64_t n = get(&m->checks[v][r]);
			if (n > 0)
				fprintf(
				    out, "caad_checks_total{verdict=\"%s\",reason=\"%s\"} %llu\n",
				    caa_verdict_name(v), caa_reason_name(r), (unsigned long long)n);
		}
	fprintf(out,
	        "# HELP caad_reuse_hits_total Checks answered from the reuse window, without DNS.\n"
	        "# TYPE caad_reuse_hits_total counter\ncaad_reuse_hits_total %llu\n",
	        (unsigned long long)get(&m->reused));
	fputs("# HELP caad_label_errors_total Failed CAA lookups of one label, by label depth "
	      "(1 = TLD) and outcome, counted per check that needed the label.\n"
	      "# TYPE caad_label_errors_total counter\n",
	      out);
	for (unsigned d = 1; d <= MAX_DEPTH; d++)
		for (unsigned o = 0; o < N_OUTCOMES; o++) {
			uint64_t n = get(&m->label_errors[d][o]);
			if (n > 0)
				fprintf(
				    out,
				    "caad_label_errors_total{depth=\"%s\",outcome=\"%s\"} %llu\n",
				    depth_label(d), caa_json_outcome_name(o),
				    (unsigned long long)n);
		}
	fputs("# HELP caad_lookup_failed_total Checks that failed (LOOKUP_FAILED), by the depth of "
	      "the label whose failure decided (1 = TLD).\n"
	      "# TYPE caad_lookup_failed_total counter\n",
	      out);
	for (unsigned d = 1; d <= MAX_DEPTH; d++)
		fprintf(out, "caad_lookup_failed_total{depth=\"%s\"} %llu\n", depth_label(d),
		        (unsigned long long)get(&m->failed_at[d]));
}

static void render_latency(caad_metrics_t *m, FILE *out)
{
	fputs("# HELP caad_check_duration_seconds Time of checks that looked at DNS.\n"
	      "# TYPE caad_check_duration_seconds histogram\n",
	      out);
	uint64_t cum = 0;
	for (size_t b = 0; b < N_BUCKETS; b++) {
		cum += get(&m->latency[b]);
		fprintf(out, "caad_check_duration_seconds_bucket{le=\"%g\"} %llu\n",
		        buckets_ms[b] / 1000.0, (unsigned long long)cum);
	}
	cum += get(&m->latency[N_BUCKETS]);
	fprintf(out, "caad_check_duration_seconds_bucket{le=\"+Inf\"} %llu\n",
	        (unsigned long long)cum);
	fprintf(out,
	        "caad_check_duration_seconds_sum %.6f\ncaad_check_duration_seconds_count %llu\n",
	        get(&m->latency_sum_us) / 1e6, (unsigned long long)get(&m->latency_count));
}

static void render_remotes(caad_metrics_t *m, FILE *out)
{
	if (m->n_remotes == 0)
		return;
	fprintf(out,
	        "# HELP caad_corroborations_total Quorums decided over the remote perspectives "
	        "(docs/semantics.md §9), by result.\n"
	        "# TYPE caad_corroborations_total counter\n"
	        "caad_corroborations_total{result=\"passed\"} %llu\n"
	        "caad_corroborations_total{result=\"failed\"} %llu\n",
	        (unsigned long long)get(&m->quorum[1]), (unsigned long long)get(&m->quorum[0]));
	fputs("# HELP caad_perspective_calls_total DoCAA calls to each remote perspective, by "
	      "outcome.\n"
	      "# TYPE caad_perspective_calls_total counter\n",
	      out);
	for (size_t r = 0; r < m->n_remotes; r++)
		for (unsigned st = CAA_MPIC_CORROBORATED; st < N_STATES; st++)
			fprintf(out,
			        "caad_perspective_calls_total{perspective=\"%s\",rir=\"%s\","
			        "outcome=\"%s\"} %llu\n",
			        m->remotes[r].name, m->remotes[r].rir, caa_mpic_state_name(st),
			        (unsigned long long)get(&m->remote[r].outcomes[st]));
	fputs("# HELP caad_perspective_duration_seconds Time each remote perspective took to "
	      "answer (or fail).\n"
	      "# TYPE caad_perspective_duration_seconds histogram\n",
	      out);
	for (size_t r = 0; r < m->n_remotes; r++) {
		struct remote_counters *rc = &m->remote[r];
		const char *name = m->remotes[r].name;
		uint64_t cum = 0;
		for (size_t b = 0; b <= N_BUCKETS; b++) {
			cum += get(&rc->latency[b]);
			char le[16];
			snprintf(le, sizeof(le), "%g", b < N_BUCKETS ? buckets_ms[b] / 1000.0 : 0);
			fprintf(out,
			        "caad_perspective_duration_seconds_bucket{perspective=\"%s\",le=\"%"
			        "s\"} "
			        "%llu\n",
			        name, b < N_BUCKETS ? le : "+Inf", (unsigned long long)cum);
		}
		fprintf(out,
		        "caad_perspective_duration_seconds_sum{perspective=\"%s\"} %.6f\n"
		        "caad_perspective_duration_seconds_count{perspective=\"%s\"} %llu\n",
		        name, get(&rc->latency_sum_us) / 1e6, name,
		        (unsigned long long)get(&rc->latency_count));
	}
}

static void render_rpc(caad_metrics_t *m, FILE *out)
{
	fputs("# HELP caad_rpc_total gRPC calls answered, by method and status.\n"
	      "# TYPE caad_rpc_total counter\n",
	      out);
	for (size_t i = 0; i <= m->n_methods; i++)
		for (size_t c = 0; c < N_CODES; c++) {
			uint64_t n = get(&m->rpc[i * N_CODES + c]);
			if (n > 0)
				fprintf(out, "caad_rpc_total{method=\"%s\",code=\"%s\"} %llu\n",
				        i < m->n_methods ? m->methods[i] : "unknown",
				        caa_grpc_status_name((int)c), (unsigned long long)n);
		}
}

static void render_dns(caad_metrics_t *m, FILE *out)
{
	pthread_mutex_lock(&m->dns_lock);
	caa_ctx_stats_t s = m->dns;
	pthread_mutex_unlock(&m->dns_lock);
	const struct {
		const char *name, *help;
		uint64_t v;
	} rows[] = {
	    {"caad_dns_queries_total", "CAA queries sent to the resolver.", s.queries},
	    {"caad_dns_retries_total", "Queries retried after SERVFAIL, timeout or network error.",
	     s.retries},
	    {"caad_dns_shared_total", "Label lookups joined while already in flight.", s.shared},
	    {"caad_dns_timeouts_total", "Queries that hit the per-query timeout.", s.timeouts},
	    {"caad_dns_cancelled_total", "Queries whose answer no check needed any more.",
	     s.cancelled_queries},
	    {"caad_dns_checks_total", "Checks started on the resolver.", s.checks},
	    {"caad_dns_queued_total", "Lookups that waited for a dns.max_outstanding slot.",
	     s.queued},
	};
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++)
		fprintf(out, "# HELP %s %s\n# TYPE %s counter\n%s %llu\n", rows[i].name,
		        rows[i].help, rows[i].name, rows[i].name, (unsigned long long)rows[i].v);
	fprintf(
	    out,
	    "# HELP caad_dns_outstanding Queries libunbound holds (dns.max_outstanding caps it).\n"
	    "# TYPE caad_dns_outstanding gauge\ncaad_dns_outstanding %llu\n"
	    "# HELP caad_dns_waiting Lookups waiting for a dns.max_outstanding slot.\n"
	    "# TYPE caad_dns_waiting gauge\ncaad_dns_waiting %llu\n",
	    (unsigned long long)s.outstanding, (unsigned long long)s.waiting);
}

/* The BR schedule (schedule.h): alert on remotes < min_remotes (checks are
 * failing) and on schedule_warning (a rise within 30 days). */
static void render_schedule(const caad_schedule_state_t *s, FILE *out)
{
	fprintf(
	    out,
	    "# HELP caad_perspective_remotes Remote perspectives listed (perspective.remotes).\n"
	    "# TYPE caad_perspective_remotes gauge\ncaad_perspective_remotes %zu\n"
	    "# HELP caad_perspective_min_remotes Remote perspectives required now: the BR "
	    "schedule's minimum under \"br\", else perspective.min_remotes; 0 without remotes.\n"
	    "# TYPE caad_perspective_min_remotes gauge\ncaad_perspective_min_remotes %u\n"
	    "# HELP caad_perspective_schedule_rise_seconds Seconds until the BR minimum rises "
	    "above the remotes listed; 0 when no such rise is ahead.\n"
	    "# TYPE caad_perspective_schedule_rise_seconds gauge\n"
	    "caad_perspective_schedule_rise_seconds %lld\n"
	    "# HELP caad_perspective_schedule_warning 1 while that rise is 30 days away or "
	    "less (caad warns), else 0.\n"
	    "# TYPE caad_perspective_schedule_warning gauge\n"
	    "caad_perspective_schedule_warning %d\n",
	    s->remotes, s->min_remotes, (long long)s->rise_s, s->warning ? 1 : 0);
}

void caad_metrics_render(caad_metrics_t *m, FILE *out)
{
	render_checks(m, out);
	render_latency(m, out);
	render_remotes(m, out);
	render_rpc(m, out);
	render_dns(m, out);
	caad_gauges_t g = {0};
	if (m->gauges)
		m->gauges(m->gauges_arg, &g);
	fprintf(out,
	        "# HELP caad_checks_in_flight Checks and orders waiting for DNS.\n"
	        "# TYPE caad_checks_in_flight gauge\ncaad_checks_in_flight %zu\n"
	        "# HELP caad_calls_in_flight gRPC calls being served.\n"
	        "# TYPE caad_calls_in_flight gauge\ncaad_calls_in_flight %zu\n"
	        "# HELP caad_reuse_entries Entries in the reuse cache: permissions and refusals.\n"
	        "# TYPE caad_reuse_entries gauge\ncaad_reuse_entries %zu\n",
	        g.checks_in_flight, g.calls_in_flight, g.cache_entries);
	render_schedule(&g.schedule, out);
	fprintf(out,
	        "# HELP caad_audit_write_failures_total Audit writes that failed "
	        "(docs/caad.md#audit).\n"
	        "# TYPE caad_audit_write_failures_total counter\ncaad_audit_write_failures_total "
	        "%llu\n",
	        (unsigned long long)get(&m->audit_failures));
}
