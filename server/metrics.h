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
	caad_schedule_state_t schedule; /* the BR schedule of remote perspectives */
} caad_gauges_t;
typedef void (*caad_gauges_fn)(void *arg, caad_gauges_t *out);

/* methods[i] names RPC method i ("Check"); index n_methods counts unknown ones. */
caad_metrics_t *caad_metrics_new(const char *const *methods, size_t n_methods,
                                 caad_gauges_fn gauges, void *gauges_arg);
void caad_metrics_free(caad_metrics_t *m);

/* One finished RPC (a caad_status_fn). */
void caad_metrics_rpc(void *m, size_t method, grpc_status_code code);
/* One check's result (with its trace, when kept). */
void caad_metrics_check(caad_metrics_t *m, const caa_result_t *res);
/* The resolver's counters, as last seen on the resolver thread. */
void caad_metrics_dns(caad_metrics_t *m, const caa_ctx_stats_t *stats);

/* Count the remote perspectives of cfg (which must outlive m). CAA_EOK or CAA_ENOMEM. */
int caad_metrics_remotes(caad_metrics_t *m, const caa_config_t *cfg);
/* One call to remote perspective `remote` ended in state after elapsed_us. */
void caad_metrics_perspective(caad_metrics_t *m, size_t remote, caa_mpic_state_t state,
                              uint32_t elapsed_us);
/* One quorum decided. */
void caad_metrics_quorum(caad_metrics_t *m, bool passed);

/* An audit write failed (audit.h); NULL m is fine. */
void caad_metrics_audit_failure(caad_metrics_t *m);

/* Render the page. */
void caad_metrics_render(caad_metrics_t *m, FILE *out);

#endif
