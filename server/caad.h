/*
 * caad.h — the daemon's shared state and its RPC handlers. main.c builds one
 * caad_t; each handler gets it as its argument.
 *
 * One caad_t per config generation (reload.h): a call keeps the one it
 * started under to its end.
 *
 * Data flows one way (docs/design.md): decode + validate (request.h) → reuse
 * window → DNS on the resolver thread (job.h) → audit line, metrics, cache →
 * response (convert.h). Handlers never block: what needs no DNS is answered
 * on the completion-queue thread, the rest from a completion worker once the
 * resolver thread hands the finished check over.
 */
#ifndef CAAD_CAAD_H
#define CAAD_CAAD_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "caa/v1/caa.pb-c.h"
#include "cache.h"
#include "climb.h"
#include "config.h"
#include "metrics.h"
#include "rpc.h"

/* Documented limits (docs/caad.md). */
#define CAAD_MAX_MESSAGE (4 * 1024 * 1024) /* octets of one request */
#define CAAD_MAX_ORDER   1000              /* identifiers in one CheckOrder */
#define CAAD_MAX_FIELD   2048              /* octets of account_uri and other strings */
#define CAAD_MAX_LABELS  128               /* EvaluateRequest.labels */
#define CAAD_MAX_RECORDS 1024              /* records of one label in Evaluate */

typedef struct caad_done caad_done_t;       /* completion workers (job.h) */
typedef struct caad_remotes caad_remotes_t; /* remote perspectives (remote.h) */

typedef struct caad {
	const caa_config_t *cfg;
	caa_ctx_t *dns;
	caa_cache_t *cache;
	caad_metrics_t *metrics;
	/* shared by every config generation (reload.h) */
	atomic_uint_fast64_t *next_call; /* numbers calls in the audit log */
	atomic_bool *draining;           /* health answers NOT_SERVING */
	caad_done_t *done;               /* NULL: finish jobs where they end */
	caad_remotes_t *remotes;         /* NULL: single perspective */
} caad_t;

/* caa.v1.CAA */
void caad_handle_check(caad_call_t *call, void *caad);
void caad_handle_order(caad_call_t *call, void *caad);
void caad_handle_evaluate(caad_call_t *call, void *caad);
/* Evaluate without the call: decode and validate the EvaluateRequest in
 * data[0..len), decide, and build the response in a. GRPC_STATUS_OK with
 * *out, or the status to answer with and its message. (Fuzzed directly.) */
grpc_status_code caad_evaluate(caad_arena_t *a, const caa_config_t *cfg, const uint8_t *data,
                               size_t len, Caa__V1__EvaluateResponse **out, char *msg,
                               size_t msglen);
/* va.CAA/DoCAA (Boulder's wire format) */
void caad_handle_docaa(caad_call_t *call, void *caad);
/* grpc.health.v1.Health/Check */
void caad_handle_health(caad_call_t *call, void *caad);

#endif
