/*
 * metrics.h — caad's counters and their Prometheus text form: checks by
 * verdict and reason, reuse hits, failing label lookups by depth (1 = TLD),
 * RPCs by method and status, check latency, and the resolver's own counters.
 * Counters are atomics, updated from any thread; the page is rendered on
 * request (http.h serves it).
 */
#ifndef CAAD_METRICS_H
#define CAAD_METRICS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <grpc/grpc.h>

#include "climb.h"
#include "config.h"
#include "mpic.h"
#include "schedule.h"

typedef struct caad_metrics caad_metrics_t;

/* Gauges read when the page is rendered. */
typedef struct caad_gauges {
	size_t checks_in_flight, calls_in_flight, cache_entries;
	const char *cache_backend;      /* "memory", "redis" */
	uint64_t cache_errors;          /* reuse-cache calls failed (each a miss) */
	caad_schedule_state_t schedule; /* the BR schedule of remote perspectives */
} caad_gauges_t;
typedef void (*caad_gauges_fn)(void *arg, caad_gauges_t *out);

/* methods[i] names RPC method i ("Check"); index n_methods counts unknown ones. */
caad_metrics_t *caad_metrics_new(const char *const *methods, size_t n_methods,
                                 caad_gauges_fn gauges, void *gauges_arg);
void caad_metrics_free(caad_metrics_t *m);

/* One finished RPC (a caad_status_fn). */
void caad_metrics_rpc(void *m, size_t method, grpc_status_code code);
/* One check's result (with its trace, when kept) for req (may be NULL). */
void caad_metrics_check(caad_metrics_t *m, const caa_request_t *req, const caa_result_t *res);
/* One reuse-window lookup: hit (answered without DNS) or miss. */
void caad_metrics_reuse(caad_metrics_t *m, bool hit);
/* The resolver's counters, as last seen on the resolver thread. */
void caad_metrics_dns(caad_metrics_t *m, const caa_ctx_stats_t *stats);

/* Count the remote perspectives of cfg (which must outlive m). CAA_EOK or CAA_ENOMEM. */
int caad_metrics_remotes(caad_metrics_t *m, const caa_config_t *cfg);
/* One call to remote perspective `remote` ended in state after elapsed_us. */
void caad_metrics_perspective(caad_metrics_t *m, size_t remote, caa_mpic_state_t state,
                              uint32_t elapsed_us);
/* The index of remote `name` among the remotes counted, SIZE_MAX when it
 * is not one of them (added by a reload: counted from the next start). */
size_t caad_metrics_remote_index(const caad_metrics_t *m, const char *name);
/* One reload (SIGHUP) ended, ok or rejected. */
void caad_metrics_reload(caad_metrics_t *m, bool ok);
/* Config generation `generation` (1 at start), loaded at loaded_s (Unix
 * time), serves from now on. */
void caad_metrics_generation(caad_metrics_t *m, uint64_t generation, int64_t loaded_s);
/* One quorum decided. */
void caad_metrics_quorum(caad_metrics_t *m, bool passed);

/* A counter or gauge of a part's own, by name (docs/metrics.md lists each):
 * name, help and labels (`backend="redis"`, or NULL/"" for none) are
 * borrowed and must outlive m; the same name with other labels is another
 * series of one family. Registering a name + labels again returns the same
 * metric. Thread-safe; NULL when CAAD_METRICS_MAX_REGISTERED are taken (then
 * the updates below do nothing). */
#define CAAD_METRICS_MAX_REGISTERED 32
typedef struct caad_metric caad_metric_t;
caad_metric_t *caad_metrics_counter(caad_metrics_t *m, const char *name, const char *help,
                                    const char *labels);
caad_metric_t *caad_metrics_gauge(caad_metrics_t *m, const char *name, const char *help,
                                  const char *labels);
void caad_metric_add(caad_metric_t *counter, uint64_t by);
void caad_metric_set(caad_metric_t *gauge, int64_t value);
/* An audit write failed (audit.h); NULL m is fine. */
void caad_metrics_audit_failure(caad_metrics_t *m);

/* Render the page. */
void caad_metrics_render(caad_metrics_t *m, FILE *out);

#endif
