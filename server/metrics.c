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
#include "problem.h"

#define N_VERDICTS 4  /* caa_verdict_t 1..3 */
#define N_REASONS  21 /* caa_reason_t 1..20 */
#define N_OUTCOMES 12 /* caa_outcome_t */
#define MAX_DEPTH  6  /* depths above are counted as "6+" */
#define N_CODES    17 /* grpc_status_code 0..16 */
#define N_STATES   (CAA_MPIC_MISMATCH + 1)

static const double buckets_ms[] = {1, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000};
#define N_BUCKETS (sizeof(buckets_ms) / sizeof(buckets_ms[0]))

/* Boulder's metrics.InternetFacingBuckets (seconds), for its own names */
static const double boulder_buckets_ms[] = {100, 500, 1000, 5000, 10000, 30000, 45000};
#define N_BBUCKETS (sizeof(boulder_buckets_ms) / sizeof(boulder_buckets_ms[0]))

/* validation_latency's challenge_type: the methods Boulder names; anything
 * else (or none) is "" so a client cannot grow the label set */
static const char *const challenge_types[] = {"", "http-01", "dns-01", "tls-alpn-01",
                                              "dns-account-01"};
#define N_CHALLENGES (sizeof(challenge_types) / sizeof(challenge_types[0]))
#define N_PROBLEMS   (CAA_PROB_REJECTED_IDENTIFIER + 1) /* 0 = none (pass) */

/* caa_sets_processed's results, Boulder's words (va/caa.go validateCAA) */
static const char *const set_results[] = {"no records", "record with unknown critical directive",
                                          "no relevant records", "authorized", "unauthorized"};
#define N_SET_RESULTS (sizeof(set_results) / sizeof(set_results[0]))

/* dns_* result: the rcode a stub would have seen; "failed" when none came */
static const char *const dns_results[] = {"NOERROR", "NXDOMAIN", "SERVFAIL", "REFUSED",
                                          "NOTIMP",  "FORMERR",  "failed"};
#define N_DNS_RESULTS (sizeof(dns_results) / sizeof(dns_results[0]))
#define MAX_ATTEMPTS  5 /* attempts above are counted as 5 */

typedef struct bhist {
	atomic_uint_fast64_t b[N_BBUCKETS + 1], sum_us, count;
} bhist_t;

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
	counter_t quorum[2]; /* failed, passed */
	/* Boulder's names */
	const char *perspective; /* validation_latency's: this perspective, or "all" */
	bhist_t validation[N_CHALLENGES][N_PROBLEMS];
	counter_t sets[N_SET_RESULTS];
	bhist_t dns_query[N_DNS_RESULTS];
	bhist_t dns_lookup[N_DNS_RESULTS][MAX_ATTEMPTS + 1];
	counter_t dns_timeout[2]; /* isTLD false, true */
	const char *cache_backend;
	counter_t reuse[2]; /* miss, hit */
	/* counters and gauges registered by name (caad_metrics_counter/_gauge) */
	pthread_mutex_t reg_lock;
	struct caad_metric {
		const char *name, *help, *labels;
		bool gauge;
		atomic_int_fast64_t v;
	} reg[CAAD_METRICS_MAX_REGISTERED];
	size_t n_reg;
	counter_t reloads[2];                    /* error, ok (caad_metrics_reload) */
	counter_t generation, generation_time_s; /* the config generation serving now */
	counter_t audit_failures;                /* audit lines that could not be written */
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
	pthread_mutex_init(&m->reg_lock, NULL);
	m->perspective = "";
	m->cache_backend = "memory";
	return m;
}

int caad_metrics_remotes(caad_metrics_t *m, const caa_config_t *cfg)
{
	size_t n = cfg->perspective.n_remotes;
	/* with remotes, a check's time includes theirs: Boulder's primary calls that "all" */
	m->perspective = n > 0 ? "all" : cfg->perspective.name ? cfg->perspective.name : "";
	m->cache_backend = cfg->cache.backend ? cfg->cache.backend : "memory";
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

static void bobserve(bhist_t *h, uint32_t us)
{
	size_t b = 0;
	while (b < N_BBUCKETS && us / 1000.0 > boulder_buckets_ms[b])
		b++;
	inc(&h->b[b], 1);
	inc(&h->sum_us, us);
	inc(&h->count, 1);
}

static caad_metric_t *reg_add(caad_metrics_t *m, const char *name, const char *help,
                              const char *labels, bool gauge)
{
	caad_metric_t *r = NULL;
	pthread_mutex_lock(&m->reg_lock);
	for (size_t i = 0; i < m->n_reg && r == NULL; i++)
		if (strcmp(m->reg[i].name, name) == 0 && strcmp(m->reg[i].labels, labels) == 0)
			r = &m->reg[i];
	if (r == NULL && m->n_reg < CAAD_METRICS_MAX_REGISTERED) {
		r = &m->reg[m->n_reg++];
		*r = (caad_metric_t){.name = name, .help = help, .labels = labels, .gauge = gauge};
	}
	pthread_mutex_unlock(&m->reg_lock);
	return r;
}

caad_metric_t *caad_metrics_counter(caad_metrics_t *m, const char *name, const char *help,
                                    const char *labels)
{
	return reg_add(m, name, help, labels ? labels : "", false);
}

caad_metric_t *caad_metrics_gauge(caad_metrics_t *m, const char *name, const char *help,
                                  const char *labels)
{
	return reg_add(m, name, help, labels ? labels : "", true);
}

void caad_metric_add(caad_metric_t *c, uint64_t by)
{
	if (c != NULL)
		atomic_fetch_add_explicit(&c->v, (int_fast64_t)by, memory_order_relaxed);
}

void caad_metric_set(caad_metric_t *g, int64_t v)
{
	if (g != NULL)
		atomic_store_explicit(&g->v, v, memory_order_relaxed);
}

void caad_metrics_reuse(caad_metrics_t *m, bool hit)
{
	inc(&m->reuse[hit], 1);
}

size_t caad_metrics_remote_index(const caad_metrics_t *m, const char *name)
{
	for (size_t i = 0; i < m->n_remotes; i++)
		if (strcmp(m->remotes[i].name, name) == 0)
			return i;
	return SIZE_MAX;
}

void caad_metrics_reload(caad_metrics_t *m, bool ok)
{
	inc(&m->reloads[ok], 1);
}

void caad_metrics_generation(caad_metrics_t *m, uint64_t generation, int64_t loaded_s)
{
	atomic_store(&m->generation, generation);
	atomic_store(&m->generation_time_s, (uint64_t)loaded_s);
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
	pthread_mutex_destroy(&m->reg_lock);
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

/* caa_sets_processed's result for a reason, or -1 when no set was judged
 * (DNS failed, CAA does not apply, the remotes decided) */
static int set_result(caa_reason_t r)
{
	switch (r) {
	case CAA_R_NO_CAA: return 0;
	case CAA_R_CRITICAL_TAG: return 1;
	case CAA_R_NO_RESTRICTING_PROPERTY: return 2;
	case CAA_R_AUTHORIZED: return 3;
	case CAA_R_NOT_AUTHORIZED:
	case CAA_R_ACCOUNT_URI_MISMATCH:
	case CAA_R_VALIDATION_METHOD_MISMATCH:
	case CAA_R_MALFORMED_PROPERTY: return 4;
	default: return -1;
	}
}

/* dns_results' index for a lookup's outcome, or -1 (not asked) */
static int dns_result(caa_outcome_t o)
{
	switch (o) {
	case CAA_OUT_PRESENT:
	case CAA_OUT_EMPTY:
	case CAA_OUT_NODATA_NOSOA: return 0;
	case CAA_OUT_NXDOMAIN: return 1;
	case CAA_OUT_SERVFAIL:
	case CAA_OUT_BOGUS: return 2; /* a validating resolver's answer to a stub */
	case CAA_OUT_REFUSED: return 3;
	case CAA_OUT_NOTIMP: return 4;
	case CAA_OUT_FORMERR: return 5;
	case CAA_OUT_TIMEOUT:
	case CAA_OUT_NETWORK: return 6;
	default: return -1;
	}
}

static size_t challenge_of(const char *method)
{
	for (size_t i = 1; method != NULL && i < N_CHALLENGES; i++)
		if (strcmp(method, challenge_types[i]) == 0)
			return i;
	return 0;
}

void caad_metrics_check(caad_metrics_t *m, const caa_request_t *req, const caa_result_t *res)
{
	unsigned v = (unsigned)res->verdict, r = (unsigned)res->reason;
	inc(&m->checks[v < N_VERDICTS ? v : 0][r < N_REASONS ? r : 0], 1);
	if (res->reused) {
		inc(&m->reused, 1);
		return;
	}
	/* Boulder's VA never sees a reused answer (its RA reuses): neither do its names */
	unsigned prob = res->problem ? (unsigned)res->problem->type : 0;
	if (res->verdict != CAA_PERMITTED && prob == 0)
		prob = CAA_PROB_SERVER_INTERNAL; /* a failure always names a problem */
	bobserve(
	    &m->validation[challenge_of(req ? req->method : NULL)][prob < N_PROBLEMS ? prob : 0],
	    res->elapsed_us);
	int set = set_result(res->reason);
	if (set >= 0)
		inc(&m->sets[set], 1);
	for (size_t i = 0; i < res->n_trace; i++) {
		const caa_trace_t *t = &res->trace[i];
		unsigned d = depth_of(t->name);
		int dr = dns_result(t->outcome);
		if (dr >= 0) {
			unsigned attempts =
			    t->retries + 1 > MAX_ATTEMPTS ? MAX_ATTEMPTS : t->retries + 1;
			bobserve(&m->dns_query[dr], t->elapsed_us);
			bobserve(&m->dns_lookup[dr][attempts], t->elapsed_us);
			if (t->outcome == CAA_OUT_TIMEOUT)
				inc(&m->dns_timeout[strchr(t->name, '.') == NULL], 1);
		}
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

static void family(FILE *out, const char *name, const char *type, const char *help)
{
	fprintf(out, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void render_remotes(caad_metrics_t *m, FILE *out)
{
	if (m->n_remotes == 0) {
		/* the families are there (empty) on every caad: one list in docs/metrics.md */
		family(out, "caad_corroborations_total", "counter",
		       "Quorums decided over the remote perspectives (docs/semantics.md §9), by "
		       "result.");
		family(out, "caad_perspective_calls_total", "counter",
		       "DoCAA calls to each remote perspective, by outcome.");
		family(out, "caad_perspective_duration_seconds", "histogram",
		       "Time each remote perspective took to answer (or fail).");
		return;
	}
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

/* One series of a Boulder-bucketed histogram; labels without braces. */
static void render_bhist(FILE *out, const char *name, const char *labels, bhist_t *h)
{
	uint64_t cum = 0;
	for (size_t b = 0; b <= N_BBUCKETS; b++) {
		cum += get(&h->b[b]);
		if (b < N_BBUCKETS)
			fprintf(out, "%s_bucket{%s,le=\"%g\"} %llu\n", name, labels,
			        boulder_buckets_ms[b] / 1000.0, (unsigned long long)cum);
		else
			fprintf(out, "%s_bucket{%s,le=\"+Inf\"} %llu\n", name, labels,
			        (unsigned long long)cum);
	}
	fprintf(out, "%s_sum{%s} %.6f\n%s_count{%s} %llu\n", name, labels, get(&h->sum_us) / 1e6,
	        name, labels, (unsigned long long)get(&h->count));
}

/* The names Boulder's VA and DNS client export (va/va.go, va/caa.go,
 * bdns/dns.go), so its dashboards and alerts read caad too. */
static void render_boulder(caad_metrics_t *m, FILE *out)
{
	char labels[256];
	family(out, "validation_latency", "histogram",
	       "Time of CAA checks that looked at DNS (with the remote perspectives' time under "
	       "perspective all), seconds.");
	for (size_t c = 0; c < N_CHALLENGES; c++)
		for (unsigned p = 0; p < N_PROBLEMS; p++) {
			bhist_t *h = &m->validation[c][p];
			if (get(&h->count) == 0)
				continue;
			snprintf(labels, sizeof(labels),
			         "operation=\"caa\",perspective=\"%s\",challenge_type=\"%s\","
			         "problem_type=\"%s\",result=\"%s\"",
			         m->perspective, challenge_types[c],
			         p ? caa_problem_short((caa_problem_type_t)p) : "",
			         p ? "fail" : "pass");
			render_bhist(out, "validation_latency", labels, h);
		}
	family(out, "caa_sets_processed", "counter",
	       "CAA RRsets judged, by what they said for this CA.");
	for (size_t i = 0; i < N_SET_RESULTS; i++)
		fprintf(out, "caa_sets_processed{result=\"%s\"} %llu\n", set_results[i],
		        (unsigned long long)get(&m->sets[i]));
	family(out, "dns_query_time", "histogram",
	       "Time of one label's CAA lookup (libunbound's retries included), seconds.");
	for (size_t r = 0; r < N_DNS_RESULTS; r++) {
		if (get(&m->dns_query[r].count) == 0)
			continue;
		snprintf(labels, sizeof(labels), "qtype=\"CAA\",result=\"%s\",resolver=\"unbound\"",
		         dns_results[r]);
		render_bhist(out, "dns_query_time", labels, &m->dns_query[r]);
	}
	family(out, "dns_total_lookup_time", "histogram",
	       "Time of one label's CAA lookup including all retried queries, seconds.");
	for (size_t r = 0; r < N_DNS_RESULTS; r++)
		for (unsigned a = 1; a <= MAX_ATTEMPTS; a++) {
			if (get(&m->dns_lookup[r][a].count) == 0)
				continue;
			snprintf(labels, sizeof(labels),
			         "qtype=\"CAA\",result=\"%s\",resolver=\"unbound\",attempts=\"%u\"",
			         dns_results[r], a);
			render_bhist(out, "dns_total_lookup_time", labels, &m->dns_lookup[r][a]);
		}
	family(out, "dns_timeout", "counter", "CAA lookups that timed out after every retry.");
	for (unsigned tld = 0; tld < 2; tld++)
		fprintf(out,
		        "dns_timeout{qtype=\"CAA\",result=\"out of retries\",resolver=\"unbound\","
		        "isTLD=\"%s\"} %llu\n",
		        tld ? "true" : "false", (unsigned long long)get(&m->dns_timeout[tld]));
}

static void render_reuse(caad_metrics_t *m, FILE *out)
{
	family(out, "caad_reuse_lookups_total", "counter",
	       "Reuse-window lookups, by cache backend and result (hit: answered without DNS).");
	for (unsigned hit = 0; hit < 2; hit++)
		fprintf(out, "caad_reuse_lookups_total{backend=\"%s\",result=\"%s\"} %llu\n",
		        m->cache_backend, hit ? "hit" : "miss",
		        (unsigned long long)get(&m->reuse[hit]));
}

/* The registered ones, one family per name (its series together). */
static void render_registered(caad_metrics_t *m, FILE *out)
{
	pthread_mutex_lock(&m->reg_lock);
	for (size_t i = 0; i < m->n_reg; i++) {
		bool first = true;
		for (size_t j = 0; j < i && first; j++)
			first = strcmp(m->reg[j].name, m->reg[i].name) != 0;
		if (!first)
			continue;
		family(out, m->reg[i].name, m->reg[i].gauge ? "gauge" : "counter", m->reg[i].help);
		for (size_t j = i; j < m->n_reg; j++) {
			const caad_metric_t *r = &m->reg[j];
			if (strcmp(r->name, m->reg[i].name) != 0)
				continue;
			fprintf(out, "%s%s%s%s %lld\n", r->name, *r->labels ? "{" : "", r->labels,
			        *r->labels ? "}" : "",
			        (long long)atomic_load_explicit(&r->v, memory_order_relaxed));
		}
	}
	pthread_mutex_unlock(&m->reg_lock);
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
	fprintf(out,
	        "# HELP caad_cache_errors_total Reuse-cache calls that failed, timed out or read "
	        "a value that is no entry; each was a miss (the check went to DNS).\n"
	        "# TYPE caad_cache_errors_total counter\n"
	        "caad_cache_errors_total{backend=\"%s\"} %llu\n",
	        g.cache_backend != NULL ? g.cache_backend : "memory",
	        (unsigned long long)g.cache_errors);
	render_schedule(&g.schedule, out);
	render_boulder(m, out);
	render_reuse(m, out);
	render_registered(m, out);
	fprintf(out,
	        "# HELP caad_config_reloads_total Reloads (SIGHUP) by outcome.\n"
	        "# TYPE caad_config_reloads_total counter\n"
	        "caad_config_reloads_total{result=\"ok\"} %llu\n"
	        "caad_config_reloads_total{result=\"error\"} %llu\n"
	        "# HELP caad_config_generation Config generations loaded: 1 at start, +1 per "
	        "reload that took.\n"
	        "# TYPE caad_config_generation gauge\ncaad_config_generation %llu\n"
	        "# HELP caad_config_load_time_seconds When the config serving now was loaded "
	        "(Unix time).\n"
	        "# TYPE caad_config_load_time_seconds gauge\ncaad_config_load_time_seconds %llu\n",
	        (unsigned long long)get(&m->reloads[1]), (unsigned long long)get(&m->reloads[0]),
	        (unsigned long long)get(&m->generation),
	        (unsigned long long)get(&m->generation_time_s));
	fprintf(out,
	        "# HELP caad_audit_write_failures_total Audit writes that failed "
	        "(docs/caad.md#audit).\n"
	        "# TYPE caad_audit_write_failures_total counter\ncaad_audit_write_failures_total "
	        "%llu\n",
	        (unsigned long long)get(&m->audit_failures));
}
