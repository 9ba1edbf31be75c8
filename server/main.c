/*
 * main.c — caad: load the config, check everything that can be checked
 * before serving (TLS files, resolver setup, metrics address), then run:
 * signals blocked before gRPC starts its threads, N completion-queue
 * threads, one resolver thread driving libcaa, an optional metrics thread,
 * and main waiting in sigtimedwait(), waking once a day (and when a date of
 * the BR schedule comes) to log the schedule's warnings. SIGTERM/SIGINT
 * drain and exit 0.
 *
 *   caad --config FILE          serve
 *   caad --check-config FILE    validate and exit (0 "config OK", 2 error)
 *
 * Exit status: 0 after a signal, 2 for usage, config and startup errors,
 * 1 for a failure while running.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/prctl.h>

#include <grpc/grpc.h>

#include "codes.h"
#include "caa/v1/caa.pb-c.h"
#include "audit.h"
#include "caad.h"
#include "grpc/health/v1/health.pb-c.h"
#include "http.h"
#include "job.h"
#include "log.h"
#include "remote.h"
#include "schedule.h"
#include "tls.h"
#include "va/va.pb-c.h"
#include "util.h"

#ifndef CAAD_VERSION
#define CAAD_VERSION "dev"
#endif

#define EXIT_STARTUP 2
#define DRAIN_MS     5000 /* calls in flight get this long after a signal */
#define MAX_THREADS  8

static const struct route {
	const ProtobufCServiceDescriptor *service;
	const char *method;
	caad_handler_fn handle;
	const char *metric;
	bool open; /* answered whoever asks: tls.client_names does not apply */
} routes[] = {
    {&caa__v1__caa__descriptor, "Check", caad_handle_check, "Check", false},
    {&caa__v1__caa__descriptor, "CheckOrder", caad_handle_order, "CheckOrder", false},
    {&caa__v1__caa__descriptor, "Evaluate", caad_handle_evaluate, "Evaluate", false},
    {&va__caa__descriptor, "DoCAA", caad_handle_docaa, "DoCAA", false},
    /* a load balancer or orchestrator probes health with a certificate of its
     * own; the answer says nothing about any domain */
    {&grpc__health__v1__health__descriptor, "Check", caad_handle_health, "Health.Check", true},
};
#define N_ROUTES (sizeof(routes) / sizeof(routes[0]))

typedef struct daemon {
	caad_t d;
	caa_config_t *cfg;
	caad_rpc_t *rpc; /* set while serving: the metrics thread reads its call count */
	caad_http_t *http;
	int metrics_port;
	pthread_t dns_thread;
	atomic_bool dns_stop;
} daemon_t;

static int usage(FILE *out, int status)
{
	fprintf(out, "usage: caad --config FILE        serve (JSON config, docs/config.md)\n"
	             "       caad --check-config FILE  check the config and exit\n"
	             "       caad --version\n");
	return status;
}

static int startup_error(const char *msg)
{
	fprintf(stderr, "caad: %s\n", msg);
	return EXIT_STARTUP;
}

/* libunbound says "syntax error" (and logs on stderr) for a file it cannot
 * open: name the key and the system's reason first. */
static int readable(const char *key, const char *path, char *err, size_t errlen)
{
	if (path == NULL || access(path, R_OK) == 0)
		return CAA_EOK;
	caa_set_err(err, errlen, "%s: %s: %s", key, path, strerror(errno));
	return CAA_EIO;
}

/* Everything that needs no gRPC: config, TLS files, resolver, cache.
 * CAA_EOK, or a code with one line in err. */
static int prepare(daemon_t *dm, const char *path, char *err, size_t errlen)
{
	int rc;
	if ((rc = caa_config_load(path, &dm->cfg, err, errlen)) != CAA_EOK ||
	    /* "br": the minimum on the date is the clock's business, not the parser's */
	    (rc = caad_schedule_start_check(dm->cfg, path, err, errlen)) != CAA_EOK ||
	    (rc = caad_tls_check(dm->cfg, err, errlen)) != CAA_EOK ||
	    (rc = readable("dns.unbound_conf", dm->cfg->dns.unbound_conf, err, errlen)) !=
	        CAA_EOK ||
	    (rc = readable("dns.trust_anchor_file", dm->cfg->dns.trust_anchor_file, err, errlen)) !=
	        CAA_EOK ||
	    (rc = caa_ctx_new(dm->cfg, &dm->d.dns, err, errlen)) != CAA_EOK ||
	    (rc = caa_cache_new(dm->cfg, &dm->d.cache, err, errlen)) != CAA_EOK)
		return rc;
	dm->d.cfg = dm->cfg;
	return CAA_EOK;
}

static void release(daemon_t *dm)
{
	caad_http_free(dm->http);
	caad_metrics_free(dm->d.metrics);
	caa_ctx_free(dm->d.dns);
	caa_cache_free(dm->d.cache);
	caa_config_free(dm->cfg);
}

/* The resolver thread: the libcaa loop, handing the checks each round
 * finished to the completion workers, plus a copy of its counters after
 * every round (the counters belong to this thread). */
static void *dns_thread(void *arg)
{
	daemon_t *dm = arg;
	prctl(PR_SET_NAME, "caad-resolver"); /* for top -H and perf */
	bool reported = false;
	while (!atomic_load(&dm->dns_stop)) {
		int rc = caa_ctx_wait(dm->d.dns, -1);
		caad_done_flush(&dm->d); /* the round's finished checks, to the workers */
		if (rc != CAA_EOK && rc != CAA_EIO && !reported) {
			caad_log("resolver error", json_pack("{s:s}", "error", caa_strerror(rc)));
			reported = true;
		}
		caa_ctx_stats_t s;
		caa_ctx_stats(dm->d.dns, &s);
		caad_metrics_dns(dm->d.metrics, &s);
	}
	return NULL;
}

static void gauges(void *arg, caad_gauges_t *g)
{
	daemon_t *dm = arg;
	g->checks_in_flight = caa_ctx_in_flight(dm->d.dns);
	g->cache_entries = caa_cache_count(dm->d.cache);
	g->calls_in_flight = dm->rpc ? caad_rpc_calls(dm->rpc) : 0;
	caad_schedule_state(dm->cfg, caad_schedule_now_s(), &g->schedule);
}

/* The test clock is for tests only: whoever runs caad must see it is on —
 * first thing, next to whatever the clock decides after it. */
static void announce_test_clock(bool check_only)
{
	int64_t base;
	char at[32], text[256];
	if (!caad_schedule_test_clock(&base))
		return;
	caad_log_time(at, sizeof(at), (long long)base * 1000);
	snprintf(text, sizeof(text),
	         "%s is set: the BR schedule of remote perspectives reads a test clock that "
	         "started at %s, not the real time",
	         CAAD_SCHEDULE_ENV, at);
	if (check_only)
		fprintf(stderr, "caad: warning: %s\n", text);
	else
		caad_log("test clock", json_pack("{s:s}", "warning", text));
}

/* --check-config: the schedule's warning on stderr, "config OK" on stdout. */
static int config_ok(const caa_config_t *cfg)
{
	char text[512];
	if (caad_schedule_warning(cfg, caad_schedule_now_s(), text, sizeof(text)))
		fprintf(stderr, "caad: warning: %s\n", text);
	printf("config OK\n");
	return 0;
}

/* Wait for SIGTERM or SIGINT; meanwhile, reopen the audit file on SIGUSR1
 * and log the BR schedule's warnings daily (no thread of its own: main has
 * nothing else to do). */
static int wait_signal(const sigset_t *sigs, const caa_config_t *cfg)
{
	for (;;) {
		int64_t sleep_s = caad_schedule_sleep_s(cfg);
		int sig;
		if (sleep_s < 0) {
			if (sigwait(sigs, &sig) != 0)
				continue;
		} else {
			struct timespec ts = {.tv_sec = (time_t)sleep_s, .tv_nsec = 0};
			sig = sigtimedwait(sigs, NULL, &ts);
		}
		if (sig == SIGUSR1) { /* logrotate moved the audit file */
			caad_audit_reopen();
			continue;
		}
		if (sig > 0)
			return sig;
		if (errno == EAGAIN)
			caad_schedule_log(cfg);
	}
}

static unsigned cq_threads(void)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);
	return n < 1 ? 1 : n > MAX_THREADS ? MAX_THREADS : (unsigned)n;
}

/* "127.0.0.1:0" → "127.0.0.1:41234" for the log. */
static void bound_address(const char *listen, int port, char *buf, size_t size)
{
	const char *colon = strrchr(listen, ':');
	if (strncmp(listen, "unix:", 5) == 0 || colon == NULL)
		snprintf(buf, size, "%s", listen);
	else
		snprintf(buf, size, "%.*s:%d", (int)(colon - listen), listen, port);
}

/* The method table from the protos' service descriptors: "/" package.Service "/" Method. */
typedef struct routing {
	caad_method_t methods[N_ROUTES];
	const char *metric_names[N_ROUTES];
	char paths[N_ROUTES][128];
} routing_t;

static int build_routes(daemon_t *dm, routing_t *rt)
{
	for (size_t i = 0; i < N_ROUTES; i++) {
		if (!protobuf_c_service_descriptor_get_method_by_name(routes[i].service,
		                                                      routes[i].method))
			return -1;
		snprintf(rt->paths[i], sizeof(rt->paths[i]), "/%s/%s", routes[i].service->name,
		         routes[i].method);
		rt->methods[i] =
		    (caad_method_t){rt->paths[i], routes[i].handle, &dm->d, routes[i].open};
		rt->metric_names[i] = routes[i].metric;
	}
	return 0;
}

/* tls.client_names: a client whose certificate names none of them is refused
 * before anything else happens (no DNS, no check, no cache). */
static bool admit(void *arg, caad_call_t *c, size_t method)
{
	const daemon_t *dm = arg;
	char **sans;
	if (caad_call_client_allowed(c, &dm->cfg->tls, &sans))
		return true;
	static const char why[] = "client certificate names none of tls.client_names";
	caad_audit_refused(method < N_ROUTES ? routes[method].metric : "unknown", caad_call_peer(c),
	                   caad_call_identity(c), sans, why);
	caad_tls_sans_free(sans);
	caad_call_fail(c, GRPC_STATUS_PERMISSION_DENIED, "%s", why);
	return false;
}

static int serve(daemon_t *dm, const char *config_path)
{
	char err[512];
	routing_t rt;
	if (build_routes(dm, &rt) != 0)
		return startup_error("internal: a route names a method the protos lack");
	dm->d.metrics = caad_metrics_new(rt.metric_names, N_ROUTES, gauges, dm);
	if (dm->d.metrics == NULL || caad_metrics_remotes(dm->d.metrics, dm->cfg) != CAA_EOK)
		return startup_error(caa_strerror(CAA_ENOMEM));
	if (caad_audit_open(dm->cfg->audit.file, dm->cfg->audit.required, dm->d.metrics, err,
	                    sizeof(err)) != CAA_EOK)
		return startup_error(err);
	if (dm->cfg->metrics_listen != NULL &&
	    !(dm->http =
	          caad_http_listen(dm->cfg->metrics_listen, &dm->metrics_port, err, sizeof(err))))
		return startup_error(err);

	/* gRPC starts threads in grpc_init: they must inherit the blocked set,
	 * so that only sigwait() below sees SIGTERM and SIGINT. */
	sigset_t sigs;
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGUSR1);
	pthread_sigmask(SIG_BLOCK, &sigs, NULL);
	signal(SIGPIPE, SIG_IGN);

	caad_log_grpc_init();
	grpc_init();
	grpc_server_credentials *creds = caad_tls_server_creds(dm->cfg, err, sizeof(err));
	if (creds == NULL) {
		grpc_shutdown_blocking();
		return startup_error(err);
	}
	caad_rpc_opts_t opts = {.listen = dm->cfg->listen,
	                        .creds = creds,
	                        .threads = cq_threads(),
	                        .max_message = CAAD_MAX_MESSAGE,
	                        .methods = rt.methods,
	                        .n_methods = N_ROUTES,
	                        .on_status = caad_metrics_rpc,
	                        .status_arg = dm->d.metrics,
	                        .admit = dm->cfg->tls.n_client_names > 0 ? admit : NULL,
	                        .admit_arg = dm};
	/* the remotes' channels start connecting now, before the first check */
	if (dm->cfg->perspective.n_remotes > 0 &&
	    caad_remotes_new(dm->cfg, &dm->d.remotes, err, sizeof(err)) != CAA_EOK) {
		grpc_server_credentials_release(creds);
		grpc_shutdown_blocking();
		return startup_error(err);
	}
	/* as many completion workers as completion-queue threads */
	int rc = caad_done_start(&dm->d, opts.threads);
	if (rc != CAA_EOK) {
		caad_remotes_free(dm->d.remotes);
		grpc_server_credentials_release(creds);
		grpc_shutdown_blocking();
		return startup_error(caa_strerror(rc));
	}
	int port = 0;
	rc = caad_rpc_start(&opts, &dm->rpc, &port, err, sizeof(err));
	grpc_server_credentials_release(creds);
	if (rc != CAA_EOK) {
		caad_done_stop(&dm->d);
		caad_remotes_free(dm->d.remotes);
		grpc_shutdown_blocking();
		return startup_error(err);
	}
	atomic_init(&dm->dns_stop, false);
	if (pthread_create(&dm->dns_thread, NULL, dns_thread, dm) != 0 ||
	    (dm->http != NULL && caad_http_start(dm->http, dm->d.metrics) != CAA_EOK)) {
		/* cannot happen short of resource exhaustion; exit hard */
		fprintf(stderr, "caad: %s\n", caa_strerror(CAA_ETHREAD));
		_exit(1);
	}

	char addr[300];
	bound_address(dm->cfg->listen, port, addr, sizeof(addr));
	json_t *f = json_pack(
	    "{s:s, s:s, s:i, s:s, s:i, s:I, s:s, s:s}", "version", CAAD_VERSION, "address", addr,
	    "port", port, "tls", caad_tls_mode(dm->cfg), "threads", (int)opts.threads,
	    "max_in_flight", (json_int_t)dm->cfg->max_in_flight, "perspective",
	    dm->cfg->perspective.name ? dm->cfg->perspective.name : "", "config", config_path);
	if (f != NULL) {
		json_object_set_new(f, "rir", json_string(dm->cfg->perspective.rir));
		json_object_set_new(f, "remotes",
		                    json_integer((json_int_t)dm->cfg->perspective.n_remotes));
	}
	if (f != NULL && dm->http != NULL)
		json_object_set_new(f, "metrics_port", json_integer(dm->metrics_port));
	/* replicas sharing reuse entries must show the same generation */
	const uint8_t *gen = caa_cache_generation(dm->d.cache);
	char hex[2 * CAA_CONFIG_GENERATION_LEN + 1];
	if (f != NULL) {
		for (size_t i = 0; i < CAA_CONFIG_GENERATION_LEN; i++)
			snprintf(hex + 2 * i, 3, "%02x", gen[i]);
		json_object_set_new(f, "config_generation", json_string(hex));
	}
	caad_schedule_log(dm->cfg);     /* the schedule's warning, before "listening" */
	caad_audit_log("listening", f); /* the audit file's too: who writes what follows */
	caad_log_grpc_quiet(false);

	int sig = wait_signal(&sigs, dm->cfg);
	atomic_store(&dm->d.draining, true);
	caad_log("draining",
	         json_pack("{s:s, s:I, s:i}", "signal", sig == SIGINT ? "SIGINT" : "SIGTERM",
	                   "calls", (json_int_t)caad_rpc_calls(dm->rpc), "drain_ms", DRAIN_MS));
	size_t cancelled = caad_rpc_drain(dm->rpc, DRAIN_MS);

	/* No call is held any more: the resolver has nobody left to answer. */
	atomic_store(&dm->dns_stop, true);
	caa_ctx_stop(dm->d.dns);
	pthread_join(dm->dns_thread, NULL);
	caad_done_stop(&dm->d);           /* after the resolver: its last round is queued */
	caad_remotes_free(dm->d.remotes); /* no call is held: none of theirs is in flight */
	dm->d.remotes = NULL;
	caad_http_free(dm->http); /* its page reads the server's call count */
	dm->http = NULL;
	caad_rpc_free(dm->rpc);
	dm->rpc = NULL;
	grpc_shutdown_blocking();
	caad_log("stopped", json_pack("{s:I}", "cancelled", (json_int_t)cancelled));
	caad_audit_close();
	return 0;
}

int main(int argc, char **argv)
{
	if (argc == 2 && strcmp(argv[1], "--version") == 0) {
		printf("caad %s\n", CAAD_VERSION);
		return 0;
	}
	if (argc == 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0))
		return usage(stdout, 0);
	bool check_only = argc == 3 && strcmp(argv[1], "--check-config") == 0;
	if (!(check_only || (argc == 3 && strcmp(argv[1], "--config") == 0)))
		return usage(stderr, EXIT_STARTUP);

	daemon_t dm;
	memset(&dm, 0, sizeof(dm));
	atomic_init(&dm.d.next_call, 1);
	atomic_init(&dm.d.draining, false);
	char err[512];
	int status;
	if (caad_schedule_init(err, sizeof(err)) != CAA_EOK) {
		status = startup_error(err);
	} else {
		announce_test_clock(check_only);
		if (prepare(&dm, argv[2], err, sizeof(err)) != CAA_EOK)
			status = startup_error(err);
		else if (check_only)
			status = config_ok(dm.cfg);
		else
			status = serve(&dm, argv[2]);
	}
	release(&dm);
	return status;
}
