/*
 * check.c — caa.v1.CAA/Check and /CheckOrder: decode and validate, then the
 * shared DNS path (job.h); encode CheckResponse / CheckOrderResponse.
 */
#include "convert.h"
#include "job.h"
#include "request.h"

static void reply_check(caad_job_t *job)
{
	caad_arena_t *a = caad_call_arena(job->call);
	Caa__V1__CheckResponse *m =
	    caad_convert_result(a, job->results[0], job->reqs[0].type, job->explain[0]);
	if (m == NULL)
		caad_call_fail(job->call, GRPC_STATUS_RESOURCE_EXHAUSTED, "out of memory");
	else
		caad_call_reply(job->call, &m->base);
}

static void reply_order(caad_job_t *job)
{
	caad_arena_t *a = caad_call_arena(job->call);
	Caa__V1__CheckOrderResponse m = CAA__V1__CHECK_ORDER_RESPONSE__INIT;
	m.results = caad_arena_array(a, job->n, sizeof(*m.results));
	bool ok = m.results != NULL;
	for (size_t i = 0; ok && i < job->n; i++) {
		m.results[i] =
		    caad_convert_result(a, job->results[i], job->reqs[i].type, job->explain[i]);
		ok = m.results[i] != NULL;
	}
	m.n_results = job->n;
	if (ok && job->aggregate != NULL)
		ok = (m.problem = caad_convert_problem(a, job->aggregate)) != NULL;
	if (!ok)
		caad_call_fail(job->call, GRPC_STATUS_RESOURCE_EXHAUSTED, "out of memory");
	else
		caad_call_reply(job->call, &m.base);
}

/* The request bytes, or NULL after failing the call. */
static const uint8_t *payload(caad_call_t *call, size_t *len, const char *what)
{
	const uint8_t *data;
	if (caad_call_payload(call, &data, len) != 0) {
		caad_call_fail(call, GRPC_STATUS_INVALID_ARGUMENT, "request: no %s message", what);
		return NULL;
	}
	return data;
}

void caad_handle_check(caad_call_t *call, void *arg)
{
	caad_t *d = arg;
	caad_arena_t *a = caad_call_arena(call);
	size_t len;
	const uint8_t *data = payload(call, &len, "CheckRequest");
	if (data == NULL)
		return;
	Caa__V1__CheckRequest *m;
	const char *err = caad_request_unpack(a, &caa__v1__check_request__descriptor, data, len,
	                                      (ProtobufCMessage **)&m);
	if (err != NULL) {
		caad_call_fail(call, GRPC_STATUS_INVALID_ARGUMENT, "%s", err);
		return;
	}
	caad_job_t *job = caad_job_new(d, call, "Check", 1, reply_check);
	if (job == NULL) {
		caad_call_fail(call, GRPC_STATUS_RESOURCE_EXHAUSTED, "out of memory");
		return;
	}
	err = caad_request_check(a, d->cfg, "", m, &job->reqs[0]);
	if (err != NULL) {
		caad_call_fail(call, GRPC_STATUS_INVALID_ARGUMENT, "%s", err);
		return;
	}
	job->explain[0] = m->explain;
	caad_job_run(job);
}

void caad_handle_order(caad_call_t *call, void *arg)
{
	caad_t *d = arg;
	caad_arena_t *a = caad_call_arena(call);
	size_t len;
	const uint8_t *data = payload(call, &len, "CheckOrderRequest");
	if (data == NULL)
		return;
	Caa__V1__CheckOrderRequest *m;
	const char *err = caad_request_order(a, data, len, &m);
	if (err != NULL) {
		caad_call_fail(call, GRPC_STATUS_INVALID_ARGUMENT, "%s", err);
		return;
	}
	caad_job_t *job = caad_job_new(d, call, "CheckOrder", m->n_authorizations, reply_order);
	if (job == NULL) {
		caad_call_fail(call, GRPC_STATUS_RESOURCE_EXHAUSTED, "out of memory");
		return;
	}
	job->order = true;
	if ((err = caad_request_order_entries(a, d->cfg, m, job->reqs, job->explain)) != NULL) {
		caad_call_fail(call, GRPC_STATUS_INVALID_ARGUMENT, "%s", err);
		return;
	}
	caad_job_run(job);
}
