/*
 * remote.c — DoCAA calls to the remote perspectives (remote.h).
 *
 * Channel arguments, and why:
 * - keepalive every 330 s while calls are in flight: a dead connection is
 *   found under load, and 330 s stays above the 5 min minimum ping interval
 *   that gRPC servers enforce by default (Go's and gRPC core's), which
 *   answer more frequent pings with GOAWAY "too_many_pings". No pings on an
 *   idle connection: servers allow those only every 2 h unless configured
 *   to; a connection that died while idle costs the next call a reconnect;
 * - reconnect backoff 250 ms .. 10 s (the default grows to 120 s, far too
 *   long for a perspective that restarted); a connection attempt keeps its
 *   default 20 s, so a remote that accepts and stays silent is a call that
 *   runs out of remote_timeout (TIMEOUT), as it should be;
 * - answers larger than 64 KiB are refused (a DoCAA answer is a few hundred
 *   octets): a hostile remote cannot make the primary buffer megabytes;
 * - no wait-for-ready: a call on a channel that cannot connect fails at
 *   once (UNAVAILABLE), and that remote is a non-corroboration.
 * What a remote sends is bounded before it goes further: the problem detail
 * to 1024 octets, the perspective name and RIR to 64.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/prctl.h>

#include <grpc/byte_buffer.h>
#include <grpc/byte_buffer_reader.h>
#include <grpc/grpc_security.h>
#include <grpc/slice.h>
#include <grpc/support/alloc.h>
#include <grpc/support/time.h>

#include "codes.h"
#include "grpc_unary.h"
#include "grpc_status.h"
#include "remote.h"
#include "tls.h"
#include "va/va.pb-c.h"
#include "util.h"

#define KEEPALIVE_MS      330000
#define KEEPALIVE_WAIT_MS 20000
#define BACKOFF_FIRST_MS  250
#define BACKOFF_MAX_MS    10000
#define MAX_ANSWER        (64 * 1024)
#define MAX_ERROR         256

struct caad_ask {
	caad_remotes_t *rs;
	grpc_call *call;
	grpc_byte_buffer *send; /* kept until the call ends, as gRPC core documents */
	caa_grpc_unary_t u;
	uint64_t start_us; /* caa_now_us() when asked */
	uint64_t timeout_ms;
	caad_answer_fn fn;
	void *arg;
};

struct caad_remotes {
	const caa_config_t *cfg;
	grpc_channel **channels;
	void **docaa; /* per channel: /va.CAA/DoCAA registered once, not interned per call */
	size_t n;
	grpc_completion_queue *cq;
	pthread_t thread;
	bool thread_started;
};

static uint32_t elapsed_us(uint64_t since_us)
{
	uint64_t us = caa_now_us() - since_us;
	return us > UINT32_MAX ? UINT32_MAX : (uint32_t)us;
}

/* s cut to at most max octets (into buf), NULL as "". */
static const char *bounded(char *buf, size_t size, const char *s)
{
	snprintf(buf, size, "%s", s != NULL ? s : "");
	return buf;
}

/* The remote's problem into *p (borrowing buf for the detail). */
static void read_problem(const Core__ProblemDetails *m, caa_problem_t *p, char *buf, size_t size)
{
	caa_problem_type_t type;
	memset(p, 0, sizeof(*p));
	if (caa_problem_type_from_short(m->problemtype, &type)) {
		p->type = type;
		/* its status is kept when it is an error status at all */
		p->status = m->httpstatus >= 400 && m->httpstatus <= 599 ? m->httpstatus
		                                                         : caa_problem_status(type);
		bounded(buf, size, m->detail);
	} else {
		/* a type caad does not know: serverInternal, with the remote's type named */
		p->type = CAA_PROB_SERVER_INTERNAL;
		p->status = caa_problem_status(p->type);
		char type_text[CAAD_ANSWER_MAX_NAME + 1];
		snprintf(buf, size, "%s: %s", bounded(type_text, sizeof(type_text), m->problemtype),
		         m->detail ? m->detail : "");
	}
	p->detail = buf;
}

void caad_remote_read(const uint8_t *data, size_t len, caad_answer_t *ans, caad_answer_buf_t *buf)
{
	Va__IsCAAValidResponse *m = va__is_caavalid_response__unpack(NULL, len, data);
	ans->perspective = ans->rir = NULL;
	ans->problem = NULL;
	if (m == NULL) {
		ans->status = GRPC_STATUS_INTERNAL;
		ans->error = "INTERNAL: the answer is not an IsCAAValidResponse";
		return;
	}
	ans->status = GRPC_STATUS_OK;
	ans->perspective = bounded(buf->name, sizeof(buf->name), m->perspective);
	ans->rir = bounded(buf->rir, sizeof(buf->rir), m->rir);
	if (m->problem != NULL) {
		read_problem(m->problem, &buf->problem, buf->detail, sizeof(buf->detail));
		ans->problem = &buf->problem;
	}
	va__is_caavalid_response__free_unpacked(m, NULL);
}

static void answer(caad_ask_t *a, bool ok)
{
	caad_answer_t ans = {.status = a->u.status, .timeout_ms = a->timeout_ms};
	char error[MAX_ERROR + 64];
	caad_answer_buf_t buf;
	ans.elapsed_us = elapsed_us(a->start_us);
	if (!ok) /* the batch itself failed: nothing was received */
		ans.status = GRPC_STATUS_UNAVAILABLE;
	if (ans.status == GRPC_STATUS_OK) {
		grpc_byte_buffer_reader rd;
		grpc_slice all = grpc_empty_slice();
		if (a->u.recv != NULL && grpc_byte_buffer_reader_init(&rd, a->u.recv)) {
			all = grpc_byte_buffer_reader_readall(&rd);
			grpc_byte_buffer_reader_destroy(&rd);
		}
		caad_remote_read(GRPC_SLICE_START_PTR(all), GRPC_SLICE_LENGTH(all), &ans, &buf);
		grpc_slice_unref(all);
	} else {
		char *d = grpc_slice_to_c_string(a->u.details);
		char text[MAX_ERROR + 1];
		snprintf(error, sizeof(error), "%s: %s", caa_grpc_status_name((int)ans.status),
		         bounded(text, sizeof(text), d));
		gpr_free(d);
		ans.error = error;
		/* our deadline, not a status the remote chose to send */
		ans.timed_out = ans.status == GRPC_STATUS_DEADLINE_EXCEEDED &&
		                ans.elapsed_us / 1000 + 5 >= a->timeout_ms;
	}
	a->fn(a->arg, &ans);
}

static void ask_free(caad_ask_t *a)
{
	if (a->call != NULL)
		grpc_call_unref(a->call);
	caa_grpc_unary_deinit(&a->u);
	if (a->send != NULL)
		grpc_byte_buffer_destroy(a->send);
	free(a);
}

static void *loop(void *arg)
{
	caad_remotes_t *rs = arg;
	prctl(PR_SET_NAME, "caad-remotes");
	for (;;) {
		grpc_event ev =
		    grpc_completion_queue_next(rs->cq, gpr_inf_future(GPR_CLOCK_MONOTONIC), NULL);
		if (ev.type == GRPC_QUEUE_SHUTDOWN)
			break;
		if (ev.type != GRPC_OP_COMPLETE)
			continue;
		caad_ask_t *a = ev.tag;
		answer(a, ev.success != 0);
		ask_free(a);
	}
	return NULL;
}

static grpc_channel *channel_new(const caa_remote_config_t *r, char *err, size_t errlen)
{
	grpc_channel_credentials *creds = caad_tls_remote_creds(r, err, errlen);
	if (creds == NULL)
		return NULL;
	grpc_arg args[8];
	size_t n = 0;
#define INT_ARG(k, v)                                                                              \
	args[n++] = (grpc_arg){.type = GRPC_ARG_INTEGER, .key = (char *)(k), .value.integer = (v)}
	INT_ARG(GRPC_ARG_KEEPALIVE_TIME_MS, KEEPALIVE_MS);
	INT_ARG(GRPC_ARG_KEEPALIVE_TIMEOUT_MS, KEEPALIVE_WAIT_MS);
	INT_ARG(GRPC_ARG_KEEPALIVE_PERMIT_WITHOUT_CALLS, 0);
	INT_ARG(GRPC_ARG_HTTP2_MAX_PINGS_WITHOUT_DATA, 0);
	INT_ARG(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, BACKOFF_FIRST_MS);
	INT_ARG(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, BACKOFF_MAX_MS);
	INT_ARG(GRPC_ARG_MAX_RECEIVE_MESSAGE_LENGTH, MAX_ANSWER);
#undef INT_ARG
	if (r->tls.server_name != NULL)
		args[n++] = (grpc_arg){.type = GRPC_ARG_STRING,
		                       .key = (char *)GRPC_SSL_TARGET_NAME_OVERRIDE_ARG,
		                       .value.string = r->tls.server_name};
	grpc_channel_args ca = {.num_args = n, .args = args};
	grpc_channel *ch = grpc_channel_create(r->address, creds, &ca);
	grpc_channel_credentials_release(creds);
	if (ch == NULL) {
		caa_set_err(err, errlen, "perspective.remotes %s: address %s: gRPC cannot use it",
		            r->name, r->address);
		return NULL;
	}
	/* connect now, so the first check does not pay for it */
	grpc_channel_check_connectivity_state(ch, 1);
	return ch;
}

int caad_remotes_new(const caa_config_t *cfg, caad_remotes_t **out, char *err, size_t errlen)
{
	caad_remotes_t *rs = calloc(1, sizeof(*rs));
	size_t n = cfg->perspective.n_remotes;
	*out = NULL;
	if (rs == NULL || (rs->channels = calloc(n ? n : 1, sizeof(*rs->channels))) == NULL ||
	    (rs->docaa = calloc(n ? n : 1, sizeof(*rs->docaa))) == NULL) {
		if (rs != NULL)
			free(rs->channels);
		free(rs);
		caa_set_err(err, errlen, "perspective.remotes: %s", caa_strerror(CAA_ENOMEM));
		return CAA_ENOMEM;
	}
	rs->cfg = cfg;
	rs->cq = grpc_completion_queue_create_for_next(NULL);
	int rc = CAA_ECONFIG;
	for (; rs->n < n; rs->n++) {
		rs->channels[rs->n] = channel_new(&cfg->perspective.remotes[rs->n], err, errlen);
		if (rs->channels[rs->n] == NULL)
			goto fail;
		rs->docaa[rs->n] =
		    grpc_channel_register_call(rs->channels[rs->n], "/va.CAA/DoCAA", NULL, NULL);
	}
	if (pthread_create(&rs->thread, NULL, loop, rs) != 0) {
		caa_set_err(err, errlen, "perspective.remotes: cannot start a thread");
		rc = CAA_ETHREAD;
		goto fail;
	}
	rs->thread_started = true;
	*out = rs;
	return CAA_EOK;
fail:
	caad_remotes_free(rs);
	return rc;
}

caad_ask_t *caad_remotes_ask(caad_remotes_t *rs, size_t r, const caad_question_t *q,
                             uint64_t timeout_ms, caad_answer_fn fn, void *arg)
{
	if (r >= rs->n)
		return NULL;
	caad_ask_t *a = calloc(1, sizeof(*a));
	if (a == NULL)
		return NULL;
	a->rs = rs;
	a->fn = fn;
	a->arg = arg;
	a->timeout_ms = timeout_ms;
	caa_grpc_unary_init(&a->u);

	Core__Identifier ident = CORE__IDENTIFIER__INIT;
	ident.type = "dns";
	ident.value = (char *)q->identifier;
	Va__IsCAAValidRequest m = VA__IS_CAAVALID_REQUEST__INIT;
	m.identifier = &ident;
	m.validationmethod = (char *)(q->method ? q->method : "");
	m.accounturiid = q->account_id;
	m.authzid = q->authz_id;
	size_t len = va__is_caavalid_request__get_packed_size(&m);
	grpc_slice slice = grpc_slice_malloc(len);
	va__is_caavalid_request__pack(&m, GRPC_SLICE_START_PTR(slice));
	a->send = grpc_raw_byte_buffer_create(&slice, 1);
	grpc_slice_unref(slice);

	a->start_us = caa_now_us();
	gpr_timespec deadline = gpr_time_add(
	    gpr_now(GPR_CLOCK_MONOTONIC), gpr_time_from_millis((int64_t)timeout_ms, GPR_TIMESPAN));
	a->call = grpc_channel_create_registered_call(
	    rs->channels[r], NULL, GRPC_PROPAGATE_DEFAULTS, rs->cq, rs->docaa[r], deadline, NULL);
	grpc_call_error e =
	    a->call != NULL ? caa_grpc_unary_start(a->call, a->send, &a->u, a) : GRPC_CALL_ERROR;
	if (e != GRPC_CALL_OK) {
		ask_free(a);
		return NULL;
	}
	return a;
}

void caad_ask_cancel(caad_ask_t *a)
{
	grpc_call_cancel(a->call, NULL);
}

void caad_remotes_free(caad_remotes_t *rs)
{
	if (rs == NULL)
		return;
	if (rs->cq != NULL) {
		grpc_completion_queue_shutdown(rs->cq);
		if (rs->thread_started) {
			pthread_join(rs->thread, NULL);
		} else {
			while (grpc_completion_queue_next(rs->cq,
			                                  gpr_inf_future(GPR_CLOCK_MONOTONIC), NULL)
			           .type != GRPC_QUEUE_SHUTDOWN)
				;
		}
	}
	for (size_t i = 0; i < rs->n; i++)
		grpc_channel_destroy(rs->channels[i]);
	if (rs->cq != NULL)
		grpc_completion_queue_destroy(rs->cq);
	free(rs->channels);
	free(rs->docaa);
	free(rs);
}
