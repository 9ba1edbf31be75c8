/*
 * httpapi.h — the HTTP/JSON API (docs/api.md#http): POST /v1/check,
 * /v1/check-order and /v1/evaluate take the proto3 JSON of CheckRequest,
 * CheckOrderRequest and EvaluateRequest and answer the JSON of the response
 * messages. Each request becomes a local call (rpc.h caad_call_local_new) of
 * the same handler the gRPC method has — same validation, DNS path, audit lines
 * and errors — whose gRPC status is answered as an HTTP status with
 * {"code": "INVALID_ARGUMENT", "message": "..."}. The HTTP server's thread
 * never waits for DNS: the connection is suspended until the answer.
 */
#ifndef CAAD_HTTPAPI_H
#define CAAD_HTTPAPI_H

#include <stddef.h>

#include "http.h"
#include "metrics.h"
#include "reload.h"
#include "rpc.h"

#define CAAD_HTTPAPI_METHODS  3
#define CAAD_HTTPAPI_MAX_BODY (1024 * 1024)   /* octets of one JSON request */
#define CAAD_HTTPAPI_MAX_MS   (24 * 3600000L) /* the largest Request-Timeout */

/* The metric labels of the three routes: "HTTP.Check", "HTTP.CheckOrder",
 * "HTTP.Evaluate" (caad_rpc_requests_total's method). */
extern const char *const caad_httpapi_metric_names[CAAD_HTTPAPI_METHODS];

typedef struct caad_httpapi caad_httpapi_t;
struct caad_httpapi_route {
	caad_httpapi_t *api;
	size_t i;
};
struct caad_httpapi {
	caad_gens_t *gens; /* calls run under the generation current at their start */
	caad_metrics_t *metrics;
	size_t metric_base; /* index of "HTTP.Check" among the metrics' methods */
	struct caad_httpapi_route routes[CAAD_HTTPAPI_METHODS]; /* private */
};

/* Serve the routes of api (which must outlive h) on h, before
 * caad_http_start. CAA_EOK or caad_http_handle's code. */
int caad_httpapi_register(caad_http_t *h, caad_httpapi_t *api);

/* The HTTP status for a gRPC status (Google's mapping: INVALID_ARGUMENT
 * 400, RESOURCE_EXHAUSTED 429, UNAVAILABLE 503, DEADLINE_EXCEEDED 504, ...). */
unsigned caad_httpapi_status(grpc_status_code code);

#endif
