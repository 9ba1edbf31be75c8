/*
 * test_caad.c — gRPC tests of a running caad (tests/server/CMakeLists.txt
 * registers one ctest per case). Each case starts its own caad on
 * 127.0.0.1 port 0 against the DNS lab, talks to it over a real socket, and
 * stops it by PID, expecting exit status 0.
 *
 *   test_caad CASE --caad BIN --lab DIR --source DIR
 */
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include <grpc/support/time.h>

#include "cases.h"

void creq(creq_t *r, const char *ident)
{
	caa__v1__check_request__init(&r->m);
	caa__v1__identifier__init(&r->id);
	google__protobuf__timestamp__init(&r->at);
	r->id.type = "dns";
	r->id.value = (char *)ident;
	r->m.identifier = &r->id;
	r->m.account_uri = ACCOUNT_1;
	r->m.validation_method = "dns-01";
}

int64_t unix_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void creq_validated(creq_t *r, int64_t ms)
{
	r->at.seconds = ms / 1000;
	r->at.nanos = (int32_t)(ms % 1000) * 1000000;
	r->m.validated_at = &r->at;
}

ProtobufCMessage *t_call(grpc_channel *ch, const char *method, const ProtobufCMessage *req,
                         const ProtobufCMessageDescriptor *desc, int timeout_ms, gc_result_t *res)
{
	size_t len = protobuf_c_message_get_packed_size(req);
	uint8_t *buf = malloc(len ? len : 1);
	protobuf_c_message_pack(req, buf);
	int rc = gc_call(ch, method, buf, len, timeout_ms, res);
	free(buf);
	if (rc != 0 || res->status != GRPC_STATUS_OK || desc == NULL)
		return NULL;
	ProtobufCMessage *m = protobuf_c_message_unpack(desc, NULL, res->len, res->data);
	CHECK(m != NULL, "%s: the answer does not unpack", method);
	return m;
}

Caa__V1__CheckResponse *t_check(grpc_channel *ch, creq_t *r)
{
	gc_result_t res;
	ProtobufCMessage *m =
	    t_call(ch, M_CHECK, &r->m.base, &caa__v1__check_response__descriptor, CALL_MS, &res);
	CHECK(res.status == GRPC_STATUS_OK, "Check %s: %s %s", r->id.value,
	      gc_status_name(res.status), res.details ? res.details : "");
	/* a NULL answer is a failure here, so `if ((m = t_check(..)))` cannot skip quietly */
	CHECK(m != NULL, "Check %s: no answer", r->id.value);
	gc_result_free(&res);
	return (Caa__V1__CheckResponse *)m;
}

grpc_status_code t_raw(grpc_channel *ch, const char *method, const void *req, size_t len, char *msg,
                       size_t msglen)
{
	gc_result_t res;
	if (gc_call(ch, method, req, len, CALL_MS, &res) != 0)
		return GRPC_STATUS_UNKNOWN;
	grpc_status_code code = res.status;
	if (msg != NULL)
		snprintf(msg, msglen, "%s", res.details);
	gc_result_free(&res);
	return code;
}

int t_health(grpc_channel *ch, const char *service)
{
	Grpc__Health__V1__HealthCheckRequest req = GRPC__HEALTH__V1__HEALTH_CHECK_REQUEST__INIT;
	req.service = (char *)service;
	gc_result_t res;
	Grpc__Health__V1__HealthCheckResponse *m = (Grpc__Health__V1__HealthCheckResponse *)t_call(
	    ch, M_HEALTH, &req.base, &grpc__health__v1__health_check_response__descriptor, 5000,
	    &res);
	int st = m ? (int)m->status : -1;
	if (m)
		protobuf_c_message_free_unpacked(&m->base, NULL);
	gc_result_free(&res);
	return st;
}

static atomic_int pcall_done; /* completion order of pcalls */

static void *pcall_thread(void *arg)
{
	pcall_t *c = arg;
	gc_call(c->ch, c->method, c->req, c->len, c->timeout_ms, &c->res);
	c->done_seq = atomic_fetch_add(&pcall_done, 1);
	return NULL;
}

void pcall_start(pcall_t *c, grpc_channel *ch, const char *method, const ProtobufCMessage *req,
                 int timeout_ms)
{
	memset(c, 0, sizeof(*c));
	c->ch = ch;
	c->method = method;
	c->timeout_ms = timeout_ms;
	c->len = protobuf_c_message_get_packed_size(req);
	c->req = malloc(c->len ? c->len : 1);
	protobuf_c_message_pack(req, c->req);
	pthread_create(&c->th, NULL, pcall_thread, c);
}

void pcall_join(pcall_t *c)
{
	pthread_join(c->th, NULL);
	free(c->req);
	c->req = NULL;
}

static void pbw_varint(pbw_t *w, uint64_t v)
{
	do {
		uint8_t b = v & 0x7f;
		v >>= 7;
		w->buf[w->len++] = (uint8_t)(b | (v ? 0x80 : 0));
	} while (v);
}

void pbw_str(pbw_t *w, unsigned field, const char *s)
{
	pbw_bytes(w, field, s, strlen(s));
}

void pbw_bytes(pbw_t *w, unsigned field, const void *p, size_t n)
{
	pbw_varint(w, (uint64_t)field << 3 | 2);
	pbw_varint(w, n);
	memcpy(w->buf + w->len, p, n);
	w->len += n;
}

void pbw_int(pbw_t *w, unsigned field, int64_t v)
{
	pbw_varint(w, (uint64_t)field << 3 | 0);
	pbw_varint(w, (uint64_t)v);
}

void pbw_msg(pbw_t *w, unsigned field, const pbw_t *inner)
{
	pbw_varint(w, (uint64_t)field << 3 | 2);
	pbw_varint(w, inner->len);
	memcpy(w->buf + w->len, inner->buf, inner->len);
	w->len += inner->len;
}

static bool pbr_varint(const uint8_t *d, size_t len, size_t *off, uint64_t *v)
{
	*v = 0;
	for (unsigned shift = 0; shift < 64 && *off < len; shift += 7) {
		uint8_t b = d[(*off)++];
		*v |= (uint64_t)(b & 0x7f) << shift;
		if (!(b & 0x80))
			return true;
	}
	return false;
}

bool pbr_next(const uint8_t *data, size_t len, size_t *off, unsigned *field, unsigned *wt,
              uint64_t *v, const uint8_t **p, size_t *n)
{
	uint64_t key;
	if (*off >= len || !pbr_varint(data, len, off, &key))
		return false;
	*field = (unsigned)(key >> 3);
	*wt = (unsigned)(key & 7);
	if (*wt == 0)
		return pbr_varint(data, len, off, v);
	if (*wt != 2 || !pbr_varint(data, len, off, v) || *v > len - *off)
		return false;
	*p = data + *off;
	*n = (size_t)*v;
	*off += *n;
	return true;
}

void t_start(caad_proc_t *p, json_t *cfg, grpc_channel **ch)
{
	if (h_start(p, cfg) != 0) {
		fprintf(stderr, "FAIL: caad did not start\n");
		exit(1);
	}
	json_decref(cfg);
	*ch = gc_channel(p->target, NULL);
}

void t_stop(caad_proc_t *p, grpc_channel *ch)
{
	grpc_channel_destroy(ch);
	int st = h_stop(p, SIGTERM, 15000);
	CHECK(st == 0, "caad exit status %d after SIGTERM", st);
	if (h_failures)
		h_log_dump(p);
	h_free(p);
}

static const struct tcase {
	const char *name;
	void (*prepare)(void); /* before grpc_init: may run commands */
	void (*run)(void);
} cases[] = {
    {"check", NULL, case_check},
    {"order", NULL, case_order},
    {"evaluate", NULL, case_evaluate},
    {"docaa", NULL, case_docaa},
    {"health", NULL, case_health},
    {"unknown_method", NULL, case_unknown_method},
    {"reuse", NULL, case_reuse},
    {"profiles", NULL, case_profiles},
    {"bad_input", NULL, case_bad_input},
    {"mtls", case_mtls_prepare, case_mtls},
    {"clientnames", case_clientnames_prepare, case_clientnames},
    {"backpressure", NULL, case_backpressure},
    {"deadline", NULL, case_deadline},
    {"cancel", NULL, case_cancel},
    {"drain", NULL, case_drain},
    {"drain_bound", NULL, case_drain_bound},
    {"metrics", NULL, case_metrics},
    {"cli", case_cli, NULL},
    {"grpcjs", NULL, case_grpcjs},
    {"bench-evaluate", NULL, case_bench_evaluate},
    {"wire_strings", NULL, case_wire_strings},
    {"wire_methods", NULL, case_wire_methods},
    {"wire_docaa", NULL, case_wire_docaa},
    {"wire_ip_literal", NULL, case_wire_ip_literal},
    {"wire_metrics_http", NULL, case_wire_metrics_http},
    {"http_abuse", NULL, case_http_abuse},
    {"metrics_families", NULL, case_metrics_families},
    {"prometheus", case_prometheus_prepare, case_prometheus},
    {"deadline_load", NULL, case_deadline_load},
    {"diag_explain", NULL, case_diag_explain},
    {"docaa_ident_type", NULL, case_docaa_ident_type},
    {"mpic_quorum", NULL, case_mpic_quorum},
    {"mpic_rir", NULL, case_mpic_rir},
    {"mpic_timeout", NULL, case_mpic_timeout},
    {"mpic_mismatch", NULL, case_mpic_mismatch},
    {"mpic_request", NULL, case_mpic_request},
    {"mpic_order", NULL, case_mpic_order},
    {"mpic_metrics", NULL, case_mpic_metrics},
    {"mpic_tls", case_mpic_tls_prepare, case_mpic_tls},
    {"mpic_deadline", NULL, case_mpic_deadline},
    {"mpic_views", NULL, case_mpic_views},
    {"reload", case_reload_prepare, case_reload},
    {"redis_shared", NULL, case_redis_shared},
    {"redis_kill", NULL, case_redis_kill},
    {"redis_tls", case_redis_tls_prepare, case_redis_tls},
    {"audit_full", case_audit_full_prepare, case_audit_full},
    {"audit_rotate", NULL, case_audit_rotate},
    {"audit_rfc3597", NULL, case_audit_rfc3597},
    {"audit_unanswered", NULL, case_audit_unanswered},
    {"audit_schema", NULL, case_audit_schema},
    {"schedule_config", case_schedule_config, NULL},
    {"schedule_start", case_schedule_start, NULL},
    {"schedule_running", case_schedule_running_prepare, case_schedule_running},
    {"anchor_remotes", case_anchor_remotes_prepare, case_anchor_remotes},
    {"anchor_loadgen", case_anchor_prepare, case_anchor_loadgen},
};

int main(int argc, char **argv)
{
	const char *name = argc > 1 ? argv[1] : "";
	for (int i = 2; i + 1 < argc; i += 2) {
		if (strcmp(argv[i], "--caad") == 0)
			h_caad = argv[i + 1];
		else if (strcmp(argv[i], "--lab") == 0)
			h_lab = argv[i + 1];
		else if (strcmp(argv[i], "--source") == 0)
			h_source = argv[i + 1];
	}
	const struct tcase *tc = NULL;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		if (strcmp(cases[i].name, name) == 0)
			tc = &cases[i];
	if (tc == NULL || h_caad == NULL || h_lab == NULL || h_source == NULL) {
		fprintf(stderr, "usage: test_caad CASE --caad BIN --lab DIR --source DIR\n");
		return 2;
	}
	char tmp[] = "/tmp/caad-test.XXXXXX";
	if (mkdtemp(tmp) == NULL) {
		perror("mkdtemp");
		return 2;
	}
	h_tmp = tmp;
	if (tc->prepare)
		tc->prepare();
	if (tc->run && h_skip == NULL) {
		grpc_init();
		tc->run();
		grpc_shutdown_blocking();
	}
	if (h_failures == 0 || getenv("CAAD_TEST_KEEP") == NULL)
		h_run("rm -rf '%s'", tmp);
	if (h_failures == 0 && h_skip != NULL) {
		printf("%s: SKIP (%s)\n", name, h_skip);
		return 77;
	}
	printf("%s: %s (%d failures)\n", name, h_failures ? "FAIL" : "PASS", h_failures);
	return h_failures ? 1 : 0;
}
