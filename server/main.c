/*
 * main.c — caad: load the config, check everything that can be checked
 * before serving (TLS files, resolver setup, metrics address), then run:
 * signals blocked before gRPC starts its threads, N completion-queue
 * threads, one resolver thread driving libcaa, an optional metrics thread,
 * and main waiting in sigtimedwait(), waking once a day (and when a date of
 * the BR schedule comes) to log the schedule's warnings. SIGHUP reloads
 * the config and the TLS files (reload.h); SIGTERM/SIGINT drain and exit 0.
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
#include "httpapi.h"
#include "job.h"
#include "log.h"
#include "reload.h"
#include "remote.h"
#include "schedule.h"
#include "tls.h"
#include "webhook.h"
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

/* A route's handler, run under the config generation current when the
 * call starts (held until the call ends). */
typedef struct route_arg {
	struct daemon *dm;
	caad_handler_fn handle;
} route_arg_t;

/* The method table from the protos' service descriptors: "/" package.Service "/" Method. */
typedef struct routing {
	caad_method_t methods[N_ROUTES];
	route_arg_t args[N_ROUTES];
	/* the gRPC routes', then the HTTP/JSON API's (httpapi.h) */
	const char *metric_names[N_ROUTES + CAAD_HTTPAPI_METHODS];
	char paths[N_ROUTES][128];
} routing_t;

typedef struct daemon {
	caad_t d;          /* the first generation's parts, then only the shared ones */
	caa_config_t *cfg; /* the config caad started with: listeners, metric labels */
	const char *config_path;
	caad_gens_t *gens; /* set while serving */
	caad_tls_rotor_t *rotor;
	caad_rpc_t *rpc; /* set while serving: the metrics thread reads its call count */
	caad_http_t *http;
	int metrics_port;
	caad_http_t *api; /* the http listener: webhooks (docs/caad.md "The http listener") */
	int http_port;
	caad_httpapi_t jsonapi; /* the HTTP/JSON API's routes on api */
	atomic_uint_fast64_t next_call;
	atomic_bool draining;
	routing_t rt;
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

/* A reuse-cache backend's error line (the backend rate-limits them). */
static void cache_log(void *arg, const char *backend, const char *error, uint64_t errors,
                      uint64_t unlogged)
{
	(void)arg;
	caad_log("reuse cache error: a miss, the check goes to DNS",
	         json_pack("{s:s,s:s,s:I,s:I}", "backend", backend, "error", error, "errors",
	                   (json_int_t)errors, "unlogged", (json_int_t)unlogged));
}

/* Everything of a generation that needs no gRPC: the config, its TLS files,
 * resolver and cache, into *cfg and d. CAA_EOK, or a code with one line in
 * err (what was made is in *cfg and d for the caller to free). */
static int load(const char *path, caa_config_t **cfg, caad_t *d, char *err, size_t errlen)
{
	int rc;
	if ((rc = caa_config_load(path, cfg, err, errlen)) != CAA_EOK ||
	    /* "br": the minimum on the date is the clock's business, not the parser's */
	    (rc = caad_schedule_start_check(*cfg, path, err, errlen)) != CAA_EOK ||
	    (rc = caad_tls_check(*cfg, err, errlen)) != CAA_EOK ||
	    (rc = caad_webhook_check(*cfg, err, errlen)) != CAA_EOK ||
	    (rc = readable("dns.unbound_conf", (*cfg)->dns.unbound_conf, err, errlen)) != CAA_EOK ||
	    (rc = readable("dns.trust_anchor_file", (*cfg)->dns.trust_anchor_file, err, errlen)) !=
	        CAA_EOK ||
	    (rc = caa_ctx_new(*cfg, &d->dns, err, errlen)) != CAA_EOK ||
	    (rc = caa_cache_new(*cfg, &d->cache, err, errlen)) != CAA_EOK)
		return rc;
	caa_cache_set_log(d->cache, cache_log, NULL);
	d->cfg = *cfg;
	return CAA_EOK;
}

/* A generation's parts that were never installed. */
static void unload(caad_t *d)
{
	caad_remotes_free(d->remotes);
	caa_ctx_free(d->dns);
	caa_cache_free(d->cache);
	d->remotes = NULL;
	d->dns = NULL;
	d->cache = NULL;
}

static void release(daemon_t *dm)
{
	caad_http_free(dm->api);
	caad_http_free(dm->http);
	caad_metrics_free(dm->d.metrics);
	unload(&dm->d);
	caa_config_free(dm->cfg);
	caad_gens_free(dm->gens);
}

static void gauges(void *arg, caad_gauges_t *g)
{
	daemon_t *dm = arg;
	caad_t *d = dm->gens ? caad_gens_acquire(dm->gens) : NULL;
	if (d != NULL) {
		g->checks_in_flight = caa_ctx_in_flight(d->dns);
		g->cache_entries = caa_cache_count(d->cache);
		g->cache_backend = caa_cache_backend_name(d->cache);
		g->cache_errors = caa_cache_errors(d->cache);
		caad_schedule_state(d->cfg, caad_schedule_now_s(), &g->schedule);
		caad_gens_release(d);
	}
	g->calls_in_flight = dm->rpc ? caad_rpc_calls(dm->rpc) : 0;
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

/* The config generation as hex, for the log: replicas sharing reuse
 * entries must show the same one. */
static void generation_hex(const caa_cache_t *cache, char hex[2 * CAA_CONFIG_GENERATION_LEN + 1])
{
	const uint8_t *gen = caa_cache_generation(cache);
	for (size_t i = 0; i < CAA_CONFIG_GENERATION_LEN; i++)
		snprintf(hex + 2 * i, 3, "%02x", gen[i]);
}

/* Two optional strings are the same. */
static bool same(const char *a, const char *b)
{
	return (a == NULL) == (b == NULL) && (a == NULL || strcmp(a, b) == 0);
}

/* What a reload cannot change (docs/caad.md#reload): the listeners, and
 * whether they ask for TLS and client certificates; the http listener's
 * client CA (libmicrohttpd reads it at start only). */
static int same_listeners(const caa_config_t *was, const caa_config_t *now, char *err,
                          size_t errlen)
{
	const char *key = NULL;
	if (strcmp(was->listen, now->listen) != 0)
		key = "listen";
	else if (!same(was->http.listen, now->http.listen))
		key = "http.listen";
	else if ((was->http.tls.cert == NULL) != (now->http.tls.cert == NULL))
		key = "http.tls.cert";
	else if (!same(was->http.tls.client_ca, now->http.tls.client_ca))
		key = "http.tls.client_ca";
	else if ((was->metrics_listen == NULL) != (now->metrics_listen == NULL) ||
	         (was->metrics_listen && strcmp(was->metrics_listen, now->metrics_listen) != 0))
		key = "metrics_listen";
	else if ((was->tls.cert == NULL) != (now->tls.cert == NULL))
		key = "tls.cert";
	else if ((was->tls.client_ca == NULL) != (now->tls.client_ca == NULL))
		key = "tls.client_ca";
	if (key == NULL)
		return CAA_EOK;
	caa_set_err(err, errlen, "%s: cannot change on reload (restart caad)", key);
	return CAA_ECONFIG;
}

/* The http listener's next certificate and key, read and checked (NULL
 * in *cred when it serves no TLS). */
static int http_tls_load(const daemon_t *dm, const caa_config_t *cfg, caad_http_cred_t **cred,
                         char *err, size_t errlen)
{
	const caa_tls_config_t *t = &cfg->http.tls;
	*cred = NULL;
	if (dm->api == NULL || t->cert == NULL)
		return CAA_EOK;
	int rc = caad_http_tls_same_trust(dm->api, "http.tls", t->client_ca, err, errlen);
	if (rc == CAA_EOK &&
	    (*cred = caad_http_cred_load("http.tls", t->cert, t->key, err, errlen)) == NULL)
		rc = CAA_EIO;
	return rc;
}

/* A new generation from the config file, checked whole, or nothing:
 * CAA_EOK with d installed and the listeners' next certificates staged. */
static int load_generation(daemon_t *dm, char *err, size_t errlen)
{
	caad_t d = dm->d; /* the shared parts */
	d.dns = NULL;
	d.cache = NULL;
	d.remotes = NULL;
	caa_config_t *cfg = NULL;
	caad_http_cred_t *http_cred = NULL;
	int rc = load(dm->config_path, &cfg, &d, err, errlen);
	if (rc == CAA_EOK)
		rc = same_listeners(dm->cfg, cfg, err, errlen);
	if (rc == CAA_EOK)
		rc = http_tls_load(dm, cfg, &http_cred, err, errlen);
	if (rc == CAA_EOK && cfg->perspective.n_remotes > 0)
		rc = caad_remotes_new(cfg, &d.remotes, err, errlen);
	if (rc == CAA_EOK)
		rc = caad_tls_rotor_stage(dm->rotor, cfg, err, errlen);
	if (rc == CAA_EOK && (rc = caad_gens_install(dm->gens, &d, true)) != CAA_EOK)
		caa_set_err(err, errlen, "%s", caa_strerror(rc));
	if (rc != CAA_EOK) {
		caad_http_cred_free(http_cred);
		unload(&d);
		caa_config_free(cfg);
		return rc;
	}
	if (http_cred != NULL)
		caad_http_tls_swap(dm->api, http_cred);
	return rc;
}

/* SIGHUP: swap in the config file's new generation, or keep the old one. */
static void reload(daemon_t *dm)
{
	char err[512];
	int rc = load_generation(dm, err, sizeof(err));
	uint64_t n = caad_gens_number(dm->gens);
	caad_metrics_reload(dm->d.metrics, rc == CAA_EOK);
	if (rc != CAA_EOK) {
		caad_log("reload rejected", json_pack("{s:s, s:s, s:I}", "config", dm->config_path,
		                                      "error", err, "generation", (json_int_t)n));
		return;
	}
	caad_metrics_generation(dm->d.metrics, n, (int64_t)time(NULL));
	char hex[2 * CAA_CONFIG_GENERATION_LEN + 1];
	caad_t *d = caad_gens_acquire(dm->gens);
	generation_hex(d->cache, hex);
	caad_log("reloaded",
	         json_pack("{s:s, s:I, s:s, s:s, s:I}", "config", dm->config_path, "generation",
	                   (json_int_t)n, "config_generation", hex, "tls", caad_tls_mode(d->cfg),
	                   "remotes", (json_int_t)d->cfg->perspective.n_remotes));
	caad_gens_release(d);
}

/* Seconds until the current generation's BR schedule next wants its
 * warnings logged (-1: never); with log, log them first. */
static int64_t schedule_tick(daemon_t *dm, bool log)
{
	caad_t *d = caad_gens_acquire(dm->gens);
	if (log)
		caad_schedule_log(d->cfg);
	int64_t s = caad_schedule_sleep_s(d->cfg);
	caad_gens_release(d);
	return s;
}

/* Wait for SIGTERM or SIGINT, reloading on SIGHUP and reopening the audit
 * file on SIGUSR1; meanwhile, log the BR
 * schedule's warnings daily (no thread of its own: main has nothing else
 * to do). */
static int wait_signal(daemon_t *dm, const sigset_t *sigs)
{
	int64_t sleep_s = schedule_tick(dm, false);
	for (;;) {
		int sig;
		if (sleep_s < 0) {
			sig = sigwait(sigs, &sig) == 0 ? sig : -1;
		} else {
			struct timespec ts = {.tv_sec = (time_t)sleep_s, .tv_nsec = 0};
			sig = sigtimedwait(sigs, NULL, &ts);
			if (sig < 0 && errno == EAGAIN) {
				sleep_s = schedule_tick(dm, true);
				continue;
			}
		}
		if (sig == SIGUSR1) { /* logrotate moved the audit file */
			caad_audit_reopen();
		} else if (sig == SIGHUP) {
			reload(dm);
			sleep_s = schedule_tick(dm, false);
		} else if (sig > 0) {
			return sig;
		}
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

/* Every call runs under the generation current when it starts. */
static void handle_in_generation(caad_call_t *c, void *arg)
{
	const route_arg_t *ra = arg;
	caad_t *d = caad_gens_acquire(ra->dm->gens);
	if (d == NULL) { /* cannot happen: the last one goes after the calls */
		caad_call_fail(c, GRPC_STATUS_UNAVAILABLE, "caad is shutting down");
		return;
	}
	caad_call_on_end(c, caad_gens_release, d);
	ra->handle(c, d);
}

static int build_routes(daemon_t *dm, routing_t *rt)
{
	for (size_t i = 0; i < N_ROUTES; i++) {
		if (!protobuf_c_service_descriptor_get_method_by_name(routes[i].service,
		                                                      routes[i].method))
			return -1;
		snprintf(rt->paths[i], sizeof(rt->paths[i]), "/%s/%s", routes[i].service->name,
		         routes[i].method);
		rt->args[i] = (route_arg_t){dm, routes[i].handle};
		rt->methods[i] = (caad_method_t){rt->paths[i], handle_in_generation, &rt->args[i],
		                                 routes[i].open};
		rt->metric_names[i] = routes[i].metric;
	}
	for (size_t i = 0; i < CAAD_HTTPAPI_METHODS; i++)
		rt->metric_names[N_ROUTES + i] = caad_httpapi_metric_names[i];
	return 0;
}

/* tls.client_names (of the generation current now): a client whose
 * certificate names none of them is refused before anything else happens
 * (no DNS, no check, no cache). */
static bool admit(void *arg, caad_call_t *c, size_t method)
{
	const daemon_t *dm = arg;
	caad_t *d = caad_gens_acquire(dm->gens);
	char **sans;
	bool ok = d == NULL || caad_call_client_allowed(c, &d->cfg->tls, &sans);
	caad_gens_release(d);
	if (ok)
		return true;
	static const char why[] = "client certificate names none of tls.client_names";
	caad_audit_refused(method < N_ROUTES ? routes[method].metric : "unknown", caad_call_peer(c),
	                   caad_call_identity(c), sans, why);
	caad_tls_sans_free(sans);
	caad_call_fail(c, GRPC_STATUS_PERMISSION_DENIED, "%s", why);
	return false;
}

/* A finished gRPC call for the metrics: an unknown method (N_ROUTES) is
 * counted after the HTTP/JSON API's methods. */
static void grpc_status(void *metrics, size_t method, grpc_status_code code)
{
	caad_metrics_rpc(metrics, method < N_ROUTES ? method : N_ROUTES + CAAD_HTTPAPI_METHODS,
	                 code);
}

/* The http listener (docs/config.md "http") and its routes. */
static int api_prepare(daemon_t *dm, char *err, size_t errlen)
{
	const caa_config_t *cfg = dm->cfg;
	int rc;
	if (cfg->http.listen == NULL)
		return CAA_EOK;
	if (!(dm->api =
	          caad_http_listen("http.listen", cfg->http.listen, &dm->http_port, err, errlen)))
		return CAA_ECONFIG;
	if (cfg->http.tls.cert != NULL &&
	    (rc = caad_http_tls(dm->api, "http.tls", cfg->http.tls.cert, cfg->http.tls.key,
	                        cfg->http.tls.client_ca, err, errlen)) != CAA_EOK)
		return rc;
	dm->jsonapi =
	    (caad_httpapi_t){.gens = dm->gens, .metrics = dm->d.metrics, .metric_base = N_ROUTES};
	if ((rc = caad_webhook_register(dm->api, dm->gens)) != CAA_EOK ||
	    (rc = caad_httpapi_register(dm->api, &dm->jsonapi)) != CAA_EOK) {
		caa_set_err(err, errlen, "http: %s", caa_strerror(rc));
		return rc;
	}
	return CAA_EOK;
}

/* Routes, metrics and the metrics listener: before any thread. */
static int serve_prepare(daemon_t *dm, char *err, size_t errlen)
{
	if (build_routes(dm, &dm->rt) != 0) {
		caa_set_err(err, errlen, "internal: a route names a method the protos lack");
		return CAA_EINTERNAL;
	}
	dm->d.next_call = &dm->next_call;
	dm->d.draining = &dm->draining;
	dm->d.metrics =
	    caad_metrics_new(dm->rt.metric_names, N_ROUTES + CAAD_HTTPAPI_METHODS, gauges, dm);
	if ((dm->gens = caad_gens_new()) == NULL || dm->d.metrics == NULL ||
	    caad_metrics_remotes(dm->d.metrics, dm->cfg) != CAA_EOK) {
		caa_set_err(err, errlen, "%s", caa_strerror(CAA_ENOMEM));
		return CAA_ENOMEM;
	}
	int rc = caad_audit_open(dm->cfg->audit.file, dm->cfg->audit.required, dm->d.metrics, err,
	                         errlen);
	if (rc != CAA_EOK)
		return rc;
	if (dm->cfg->metrics_listen != NULL &&
	    !(dm->http = caad_http_listen("metrics_listen", dm->cfg->metrics_listen,
	                                  &dm->metrics_port, err, errlen)))
		return CAA_ECONFIG;
	return api_prepare(dm, err, errlen);
}

/* gRPC from grpc_init to a started server with the first generation
 * installed; on failure gRPC is shut down again. */
static int grpc_start(daemon_t *dm, unsigned threads, int *port, char *err, size_t errlen)
{
	caad_log_grpc_init();
	grpc_init();
	int rc = CAA_ECONFIG;
	grpc_server_credentials *creds = caad_tls_server_creds(dm->cfg, &dm->rotor, err, errlen);
	if (creds == NULL)
		goto fail;
	caad_rpc_opts_t opts = {.listen = dm->cfg->listen,
	                        .creds = creds,
	                        .threads = threads,
	                        .max_message = CAAD_MAX_MESSAGE,
	                        .methods = dm->rt.methods,
	                        .n_methods = N_ROUTES,
	                        .on_status = grpc_status,
	                        .status_arg = dm->d.metrics,
	                        .admit = admit,
	                        .admit_arg = dm};
	/* the remotes' channels start connecting now, before the first check */
	if ((dm->cfg->perspective.n_remotes > 0 &&
	     (rc = caad_remotes_new(dm->cfg, &dm->d.remotes, err, errlen)) != CAA_EOK) ||
	    /* as many completion workers as completion-queue threads */
	    (rc = caad_done_start(&dm->d, threads)) != CAA_EOK) {
		if (rc != CAA_ECONFIG)
			caa_set_err(err, errlen, "%s", caa_strerror(rc));
		goto fail;
	}
	/* the boot config stays the daemon's (listeners, metric labels) */
	if ((rc = caad_gens_install(dm->gens, &dm->d, false)) != CAA_EOK) {
		caa_set_err(err, errlen, "%s", caa_strerror(rc));
		goto fail;
	}
	dm->d.dns = NULL; /* the generation's now */
	dm->d.cache = NULL;
	dm->d.remotes = NULL;
	if ((rc = caad_rpc_start(&opts, &dm->rpc, port, err, errlen)) == CAA_EOK) {
		grpc_server_credentials_release(creds);
		return CAA_EOK;
	}
	caad_gens_stop(dm->gens);
fail:
	caad_done_stop(&dm->d);
	unload(&dm->d);
	if (creds != NULL)
		grpc_server_credentials_release(creds);
	grpc_shutdown_blocking();
	caad_tls_rotor_free(dm->rotor);
	dm->rotor = NULL;
	return rc;
}

/* The "listening" line: what runs, where, under which config. */
static void log_listening(daemon_t *dm, int port, unsigned threads)
{
	const caa_config_t *cfg = dm->cfg;
	char addr[300];
	bound_address(cfg->listen, port, addr, sizeof(addr));
	json_t *f = json_pack("{s:s, s:s, s:i, s:s, s:i, s:I, s:s, s:s}", "version", CAAD_VERSION,
	                      "address", addr, "port", port, "tls", caad_tls_mode(cfg), "threads",
	                      (int)threads, "max_in_flight", (json_int_t)cfg->max_in_flight,
	                      "perspective", cfg->perspective.name ? cfg->perspective.name : "",
	                      "config", dm->config_path);
	if (f == NULL)
		return;
	json_object_set_new(f, "rir", json_string(cfg->perspective.rir));
	json_object_set_new(f, "remotes", json_integer((json_int_t)cfg->perspective.n_remotes));
	if (dm->http != NULL)
		json_object_set_new(f, "metrics_port", json_integer(dm->metrics_port));
	if (dm->api != NULL) {
		json_object_set_new(f, "http_port", json_integer(dm->http_port));
		json_object_set_new(f, "http_tls",
		                    json_string(!cfg->http.tls.cert       ? "none"
		                                : cfg->http.tls.client_ca ? "mtls"
		                                                          : "tls"));
	}
	char hex[2 * CAA_CONFIG_GENERATION_LEN + 1];
	caad_t *d = caad_gens_acquire(dm->gens);
	generation_hex(d->cache, hex);
	caad_gens_release(d);
	json_object_set_new(f, "config_generation", json_string(hex));
	caad_schedule_log(cfg);         /* the schedule's warning, before "listening" */
	caad_audit_log("listening", f); /* the audit file's too: who writes what follows */
}

/* After SIGTERM/SIGINT: drain the calls, then stop everything in the order
 * docs/platform.md gives. */
static void drain_and_stop(daemon_t *dm, int sig)
{
	atomic_store(&dm->draining, true);
	caad_log("draining",
	         json_pack("{s:s, s:I, s:I, s:i}", "signal", sig == SIGINT ? "SIGINT" : "SIGTERM",
	                   "calls", (json_int_t)caad_rpc_calls(dm->rpc), "http_calls",
	                   (json_int_t)caad_http_due(dm->api), "drain_ms", DRAIN_MS));
	size_t cancelled = caad_rpc_drain(dm->rpc, DRAIN_MS);
	/* the http listener's answers due come first: their checks need the resolvers */
	caad_http_free(dm->api);
	dm->api = NULL;

	/* No call is held any more: the generations' resolvers end with them. */
	caad_gens_stop(dm->gens);
	caad_done_stop(&dm->d);   /* after the resolvers: their last rounds are queued */
	caad_http_free(dm->http); /* its page reads the server's call count */
	dm->http = NULL;
	caad_rpc_free(dm->rpc);
	dm->rpc = NULL;
	grpc_shutdown_blocking();
	caad_tls_rotor_free(dm->rotor); /* gRPC's fetcher is gone with the listener */
	dm->rotor = NULL;
	sigset_t pending;
	if (sigpending(&pending) == 0 && sigismember(&pending, SIGHUP))
		caad_log("reload ignored", json_pack("{s:s}", "why", "caad was draining"));
	caad_log("stopped", json_pack("{s:I}", "cancelled", (json_int_t)cancelled));
	caad_audit_close();
}

static int serve(daemon_t *dm)
{
	char err[512];
	if (serve_prepare(dm, err, sizeof(err)) != CAA_EOK)
		return startup_error(err);
	/* gRPC starts threads in grpc_init: they must inherit the blocked set,
	 * so that only sigwait() below sees SIGTERM, SIGINT, SIGHUP and SIGUSR1. */
	sigset_t sigs;
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGHUP);
	sigaddset(&sigs, SIGUSR1);
	pthread_sigmask(SIG_BLOCK, &sigs, NULL);
	signal(SIGPIPE, SIG_IGN);

	unsigned threads = cq_threads();
	int port = 0;
	if (grpc_start(dm, threads, &port, err, sizeof(err)) != CAA_EOK)
		return startup_error(err);
	if ((dm->http != NULL && caad_http_start(dm->http, dm->d.metrics) != CAA_EOK) ||
	    (dm->api != NULL && caad_http_start(dm->api, NULL) != CAA_EOK)) {
		/* cannot happen short of resource exhaustion; exit hard */
		fprintf(stderr, "caad: %s\n", caa_strerror(CAA_ETHREAD));
		_exit(1);
	}
	caad_metrics_generation(dm->d.metrics, 1, (int64_t)time(NULL));
	log_listening(dm, port, threads);
	caad_log_grpc_quiet(false);
	drain_and_stop(dm, wait_signal(dm, &sigs));
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
	atomic_init(&dm.next_call, 1);
	atomic_init(&dm.draining, false);
	dm.config_path = argv[2];
	char err[512];
	int status;
	if (caad_schedule_init(err, sizeof(err)) != CAA_EOK) {
		status = startup_error(err);
	} else {
		announce_test_clock(check_only);
		if (load(argv[2], &dm.cfg, &dm.d, err, sizeof(err)) != CAA_EOK)
			status = startup_error(err);
		else if (check_only)
			status = config_ok(dm.cfg);
		else
			status = serve(&dm);
	}
	release(&dm);
	return status;
}
