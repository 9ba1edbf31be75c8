/*
 * cases.h — what the test cases share: method paths, request builders, a
 * call that packs and unpacks with protobuf-c, calls in parallel threads,
 * and hand-packed protobuf for Boulder's wire format (written from Boulder's
 * field numbers, not from our own .proto, so a drift would show).
 */
#ifndef CASES_H
#define CASES_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "caa/v1/caa.pb-c.h"
#include "grpc/health/v1/health.pb-c.h"
#include "grpc_call.h"
#include "harness.h"

#define M_CHECK    "/caa.v1.CAA/Check"
#define M_ORDER    "/caa.v1.CAA/CheckOrder"
#define M_EVALUATE "/caa.v1.CAA/Evaluate"
#define M_DOCAA    "/va.CAA/DoCAA"
#define M_HEALTH   "/grpc.health.v1.Health/Check"
#define M_WATCH    "/grpc.health.v1.Health/Watch"

#define CALL_MS   20000 /* default client deadline */
#define ACCOUNT_1 "https://ca.example/acme/acct/1"

/* A CheckRequest with its identifier and timestamp on the stack. */
typedef struct creq {
	Caa__V1__CheckRequest m;
	Caa__V1__Identifier id;
	Google__Protobuf__Timestamp at;
} creq_t;
void creq(creq_t *r, const char *ident);
void creq_validated(creq_t *r, int64_t unix_ms);
int64_t unix_ms(void);

/* Pack req, call, and unpack an OK answer with desc (NULL: don't). The
 * answer (free with protobuf_c_message_free_unpacked) or NULL. */
ProtobufCMessage *t_call(grpc_channel *ch, const char *method, const ProtobufCMessage *req,
                         const ProtobufCMessageDescriptor *desc, int timeout_ms, gc_result_t *res);
/* Start caad on cfg (consumed) with a plaintext channel to it; exit(1) if it
 * does not start. Stop it with SIGTERM expecting exit status 0. */
void t_start(caad_proc_t *p, json_t *cfg, grpc_channel **ch);
void t_stop(caad_proc_t *p, grpc_channel *ch);
/* A Check expected to succeed (status OK and an answer are asserted: NULL
 * always comes with a recorded failure). */
Caa__V1__CheckResponse *t_check(grpc_channel *ch, creq_t *r);
/* Status of a call with raw bytes (req NULL = no message); details into msg. */
grpc_status_code t_raw(grpc_channel *ch, const char *method, const void *req, size_t len, char *msg,
                       size_t msglen);
/* Health/Check of service: the serving status, or -1 on a gRPC error. */
int t_health(grpc_channel *ch, const char *service);

/* t_ops.c: a test CA (h_tmp/ca.pem, .key), another (evil-ca), a server
 * certificate for localhost, a client (CN=ra-client, no SAN) and a client of
 * the other CA (evil). Before grpc_init. t_pem: a file of h_tmp, exit(1) when
 * absent. */
void t_make_certs(void);
char *t_pem(const char *name);
/* t_ops.c: run caad with args (a shell command line's tail), its stdout and
 * stderr into out; its exit status. Forks: before grpc_init only. */
int caad_cmd(const char *args, char *out, size_t outlen);
/* t_ops.c: the value of the metric line "name value" in a page; -1 when absent. */
double metric(const char *page, const char *name);

/* One call on its own thread. */
typedef struct pcall {
	grpc_channel *ch;
	const char *method;
	uint8_t *req;
	size_t len;
	int timeout_ms;
	gc_result_t res;
	int done_seq; /* completion order among all pcalls of the process (0 first) */
	pthread_t th;
} pcall_t;
void pcall_start(pcall_t *c, grpc_channel *ch, const char *method, const ProtobufCMessage *req,
                 int timeout_ms);
void pcall_join(pcall_t *c);

/* ---- hand-packed protobuf ---- */
typedef struct pbw {
	uint8_t buf[4096];
	size_t len;
} pbw_t;
void pbw_str(pbw_t *w, unsigned field, const char *s);
void pbw_bytes(pbw_t *w, unsigned field, const void *p, size_t n); /* NULs and all */
void pbw_int(pbw_t *w, unsigned field, int64_t v);
void pbw_msg(pbw_t *w, unsigned field, const pbw_t *inner);

/* Next field of data[*off..len): its number, wire type and value (varint in
 * *v, length-delimited in *p and *n). false at the end or on malformed input. */
bool pbr_next(const uint8_t *data, size_t len, size_t *off, unsigned *field, unsigned *wt,
              uint64_t *v, const uint8_t **p, size_t *n);

/* The test cases: each asserts with CHECK and returns. */
void case_check(void);
void case_order(void);
void case_evaluate(void);
void case_docaa(void);
void case_health(void);
void case_unknown_method(void);
void case_reuse(void);
void case_profiles(void);
void case_bad_input(void);
void case_mtls_prepare(void);
void case_mtls(void);
void case_backpressure(void);
void case_deadline(void);
void case_cancel(void);
void case_drain(void);
void case_drain_bound(void);
void case_metrics(void);
void case_cli(void);
void case_grpcjs(void);
void case_bench_evaluate(void);
/* t_wire.c: bad input is refused, never reinterpreted */
void case_wire_strings(void);
void case_wire_methods(void);
void case_wire_docaa(void);
void case_wire_ip_literal(void);
void case_wire_metrics_http(void);
void case_http_abuse(void);
void case_metrics_families(void);
void case_prometheus_prepare(void);
void case_prometheus(void);
/* t_diag.c */
void case_deadline_load(void);
void case_diag_explain(void);
/* t_mpic.c: multi-perspective corroboration with real remote caads */
void case_mpic_quorum(void);
void case_mpic_rir(void);
void case_mpic_timeout(void);
void case_mpic_mismatch(void);
void case_mpic_request(void);
void case_mpic_order(void);
void case_mpic_metrics(void);
void case_mpic_tls_prepare(void);
void case_mpic_tls(void);
void case_mpic_deadline(void);
void case_mpic_views(void);
/* t_redis.c: replicas sharing a reuse cache on a real redis-server */
void case_redis_shared(void);
void case_redis_kill(void);
void case_redis_tls_prepare(void);
void case_redis_tls(void);
/* t_clientnames.c: tls.client_names refuses strangers */
void case_clientnames_prepare(void);
void case_clientnames(void);
/* t_docaa.c: DoCAA takes DNS identifiers only, as Boulder */
void case_docaa_ident_type(void);
/* t_schedule.c: the BR schedule of remote perspectives (test clock CAAD_SCHEDULE_NOW) */
/* t_reload.c: SIGHUP */
void case_reload_prepare(void);
void case_reload(void);
/* t_audit.c: the audit line as evidence */
/* Every log line of p so far valid against docs/audit.schema.json (written to h_tmp/name). */
void t_audit_validate(caad_proc_t *p, const char *name);
void case_audit_full_prepare(void);
void case_audit_full(void);
void case_audit_rotate(void);
void case_audit_rfc3597(void);
void case_audit_unanswered(void);
void case_audit_schema(void);
void case_schedule_config(void);
void case_schedule_start(void);
void case_schedule_running_prepare(void);
void case_schedule_running(void);
/* t_anchor.c: interop with Boulder's own DoCAA (skipped without the anchor) */
void case_anchor_prepare(void);
void case_anchor_remotes_prepare(void);
void case_anchor_remotes(void);
void case_anchor_loadgen(void);

#endif
