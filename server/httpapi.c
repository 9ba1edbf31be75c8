/*
 * httpapi.c — the HTTP/JSON API (httpapi.h). A request is checked for what
 * only HTTP has (Content-Type, Request-Timeout), its JSON decoded into the
 * request message (pbjson.h) and packed, and from there it is a call like
 * any gRPC one: a local call (caad_call_local_new) runs the gRPC method's
 * handler on it under the current config generation, which
 * validates, checks and answers; the answer (or the status) is encoded
 * here and handed back to the HTTP server, from whichever thread gave it.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "caad.h"
#include "codes.h"
#include "grpc_status.h"
#include "httpapi.h"
#include "pbjson.h"

const char *const caad_httpapi_metric_names[CAAD_HTTPAPI_METHODS] = {
    "HTTP.Check", "HTTP.CheckOrder", "HTTP.Evaluate"};

/* rpc: the audit lines' "rpc" (docs/audit.schema.json) */
static const struct {
	const char *path, *rpc;
	const ProtobufCMessageDescriptor *request;
	caad_handler_fn handle;
} methods[CAAD_HTTPAPI_METHODS] = {
    {"/v1/check", "HTTP.Check", &caa__v1__check_request__descriptor, caad_handle_check},
    {"/v1/check-order", "HTTP.CheckOrder", &caa__v1__check_order_request__descriptor,
     caad_handle_order},
    {"/v1/evaluate", "HTTP.Evaluate", &caa__v1__evaluate_request__descriptor, caad_handle_evaluate},
};

static const char mime_json[] = "application/json";

unsigned caad_httpapi_status(grpc_status_code code)
{
	switch (code) {
	case GRPC_STATUS_OK: return 200;
	case GRPC_STATUS_CANCELLED: return 499;
	case GRPC_STATUS_INVALID_ARGUMENT:
	case GRPC_STATUS_FAILED_PRECONDITION:
	case GRPC_STATUS_OUT_OF_RANGE: return 400;
	case GRPC_STATUS_DEADLINE_EXCEEDED: return 504;
	case GRPC_STATUS_NOT_FOUND: return 404;
	case GRPC_STATUS_ALREADY_EXISTS:
	case GRPC_STATUS_ABORTED: return 409;
	case GRPC_STATUS_PERMISSION_DENIED: return 403;
	case GRPC_STATUS_UNAUTHENTICATED: return 401;
	case GRPC_STATUS_RESOURCE_EXHAUSTED: return 429;
	case GRPC_STATUS_UNIMPLEMENTED: return 501;
	case GRPC_STATUS_UNAVAILABLE: return 503;
	default: return 500; /* UNKNOWN, INTERNAL, DATA_LOSS */
	}
}

/* One request in flight: where its answer goes. */
typedef struct inflight {
	const struct caad_httpapi_route *route;
	caad_http_reply_t *ans;
} inflight_t;

/* Answer with j (taken) as the body, counting the status like gRPC's. */
static void answer_json(const struct caad_httpapi_route *rt, caad_http_reply_t *ans,
                        unsigned status, grpc_status_code code, json_t *j)
{
	const caad_httpapi_t *api = rt->api;
	caad_metrics_rpc(api->metrics, api->metric_base + rt->i, code);
	char *text = j != NULL ? json_dumps(j, JSON_COMPACT | JSON_REAL_PRECISION(15)) : NULL;
	json_decref(j);
	if (text == NULL) {
		static const char oom[] =
		    "{\"code\":\"RESOURCE_EXHAUSTED\",\"message\":\"out of memory\"}\n";
		caad_http_answer(ans, 429, mime_json, strdup(oom), sizeof(oom) - 1);
		return;
	}
	size_t len = strlen(text);
	char *body = realloc(text, len + 2);
	if (body == NULL) {
		body = text; /* without the newline */
	} else {
		body[len++] = '\n';
		body[len] = '\0';
	}
	caad_http_answer(ans, status, mime_json, body, len);
}

/* The JSON error body: {"code": "INVALID_ARGUMENT", "message": "..."}. */
static void answer_error(const struct caad_httpapi_route *rt, caad_http_reply_t *ans,
                         unsigned status, grpc_status_code code, const char *msg)
{
	answer_json(rt, ans, status, code,
	            json_pack("{s:s, s:s}", "code", caa_grpc_status_name(code), "message", msg));
}

/* The local call's end (any thread). */
static void on_done(void *arg, grpc_status_code code, const char *details,
                    const ProtobufCMessage *reply)
{
	inflight_t *f = arg;
	if (code == GRPC_STATUS_OK)
		answer_json(f->route, f->ans, 200, code, caad_pbjson_encode(reply));
	else
		answer_error(f->route, f->ans, caad_httpapi_status(code), code, details);
	free(f);
}

/* The local call of f's route under the current generation: it answers
 * through on_done, also when it fails here. */
static void start(const struct caad_httpapi_route *rt, const caad_http_req_t *req,
                  const uint8_t *pb, size_t len, int64_t timeout, inflight_t *f)
{
	caad_t *d = caad_gens_acquire(rt->api->gens);
	if (d == NULL) {
		on_done(f, GRPC_STATUS_UNAVAILABLE, "caad is shutting down", NULL);
		return;
	}
	caad_call_t *call = caad_call_local_new(methods[rt->i].rpc, pb, len, req->peer,
	                                        req->identity, timeout, on_done, f);
	if (call == NULL) {
		caad_gens_release(d);
		on_done(f, GRPC_STATUS_RESOURCE_EXHAUSTED, "out of memory", NULL);
		return;
	}
	caad_call_local_gone(call, caad_http_gone, f->ans);
	/* the call holds the generation to its end, as a gRPC call does */
	caad_call_on_end(call, caad_gens_release, d);
	methods[rt->i].handle(call, d);
	caad_call_release(call); /* the handler's reference */
}

/* Request-Timeout: milliseconds in 0..CAAD_HTTPAPI_MAX_MS; -1 when absent,
 * -2 when malformed. */
static int64_t timeout_of(const caad_http_req_t *req)
{
	const char *v = caad_http_header(req, "Request-Timeout");
	if (v == NULL)
		return -1;
	char *end;
	errno = 0;
	long long ms = strtoll(v, &end, 10);
	if (v[0] < '0' || v[0] > '9' || *end != '\0' || errno != 0 || ms > CAAD_HTTPAPI_MAX_MS)
		return -2;
	return ms;
}

static bool is_json(const char *ct)
{
	size_t n = sizeof(mime_json) - 1;
	return ct != NULL && strncasecmp(ct, mime_json, n) == 0 &&
	       (ct[n] == '\0' || ct[n] == ';' || ct[n] == ' ' || ct[n] == '\t');
}

static void on_request(void *arg, const caad_http_req_t *req, caad_http_reply_t *ans)
{
	const struct caad_httpapi_route *rt = arg;
	char err[512];
	if (!is_json(caad_http_header(req, "Content-Type"))) {
		answer_error(rt, ans, 415, GRPC_STATUS_INVALID_ARGUMENT,
		             "Content-Type: not application/json");
		return;
	}
	int64_t timeout = timeout_of(req);
	if (timeout == -2) {
		snprintf(err, sizeof(err), "Request-Timeout: not milliseconds in 0..%ld",
		         CAAD_HTTPAPI_MAX_MS);
		answer_error(rt, ans, 400, GRPC_STATUS_INVALID_ARGUMENT, err);
		return;
	}
	ProtobufCMessage *m;
	const char *e = caad_pbjson_decode(methods[rt->i].request, req->body ? req->body : "",
	                                   req->body_len, &m, err, sizeof(err));
	if (e != NULL) {
		answer_error(rt, ans, 400, GRPC_STATUS_INVALID_ARGUMENT, e);
		return;
	}
	/* from here on the request is the gRPC method's: its octets, its handler */
	size_t len = protobuf_c_message_get_packed_size(m);
	uint8_t *pb = malloc(len ? len : 1);
	inflight_t *f = malloc(sizeof(*f));
	if (pb != NULL)
		protobuf_c_message_pack(m, pb);
	protobuf_c_message_free_unpacked(m, NULL);
	if (pb == NULL || f == NULL) {
		free(pb);
		free(f);
		answer_error(rt, ans, 429, GRPC_STATUS_RESOURCE_EXHAUSTED, "out of memory");
		return;
	}
	*f = (inflight_t){rt, ans};
	start(rt, req, pb, len, timeout, f);
	free(pb);
}

int caad_httpapi_register(caad_http_t *h, caad_httpapi_t *api)
{
	for (size_t i = 0; i < CAAD_HTTPAPI_METHODS; i++) {
		api->routes[i] = (struct caad_httpapi_route){api, i};
		int rc = caad_http_handle_async(h, "POST", methods[i].path, CAAD_HTTPAPI_MAX_BODY,
		                                on_request, &api->routes[i]);
		if (rc != CAA_EOK)
			return rc;
	}
	return CAA_EOK;
}
