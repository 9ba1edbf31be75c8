/*
 * job.c — reuse, DNS, and the end of a check (job.h).
 *
 * The resolver gets the client's remaining time minus a margin to answer in,
 * so a check that cannot finish before the client gives up ends on our side
 * first, with its audit line. Such a check is answered DEADLINE_EXCEEDED:
 * the client's deadline, not the DNS, stopped it.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "audit.h"
#include "job.h"

#define MARGIN_MIN_MS 5 /* left to encode and send the answer */
#define MARGIN_MAX_MS 200

static int64_t mono_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

int64_t caad_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

caad_job_t *caad_job_new(caad_t *d, caad_call_t *call, const char *rpc, size_t n,
                         caad_job_reply_fn reply)
{
	caad_arena_t *a = caad_call_arena(call);
	caad_job_t *job = caad_arena_alloc(a, sizeof(*job));
	if (job == NULL)
		return NULL;
	job->d = d;
	job->call = call;
	job->rpc = rpc;
	job->reply = reply;
	job->n = n;
	job->reqs = caad_arena_array(a, n, sizeof(*job->reqs));
	job->explain = caad_arena_array(a, n, sizeof(*job->explain));
	job->results = caad_arena_array(a, n, sizeof(*job->results));
	job->dns_idx = caad_arena_array(a, n, sizeof(*job->dns_idx));
	if (!job->reqs || !job->explain || !job->results || !job->dns_idx)
		return NULL;
	job->call_no = atomic_fetch_add(&d->next_call, 1);
	return job;
}

static void audit(caad_job_t *job, size_t i, const char *error)
{
	caad_audit_t who = {.rpc = job->rpc,
	                    .call = job->call_no,
	                    .peer = caad_call_peer(job->call),
	                    .client = caad_call_identity(job->call),
	                    .index = i,
	                    .size = job->n,
	                    .authz_id = job->authz_id};
	caad_audit_check(&who, &job->reqs[i], job->results[i], error);
}

/* Did the client's deadline (rather than the DNS timeout) end this check? */
static bool hit_client_deadline(const caad_job_t *job, const caa_result_t *res)
{
	return job->client_bound && !res->reused && res->reason == CAA_R_DNS_TIMEOUT &&
	       mono_us() - job->start_us >= (int64_t)job->timeout_ms * 1000;
}

static void job_free(caad_job_t *job)
{
	for (size_t i = 0; i < job->n; i++)
		caa_result_free(job->results[i]);
	caa_problem_free(job->aggregate);
}

/* All results are in (rc CAA_EOK), or the DNS part ended with rc. */
static void finish(caad_job_t *job, int rc)
{
	const char *error = NULL;
	grpc_status_code code = GRPC_STATUS_OK;
	if (rc == CAA_ECANCELED) {
		error = atomic_load(&job->d->draining) ? "cancelled: caad is shutting down"
		                                       : "cancelled by the client";
		code = GRPC_STATUS_CANCELLED;
	} else if (rc == CAA_ESHUTDOWN) {
		error = "caad is shutting down";
		code = GRPC_STATUS_UNAVAILABLE;
	} else if (rc != CAA_EOK) {
		error = caa_strerror(rc);
		code = rc == CAA_ENOMEM ? GRPC_STATUS_RESOURCE_EXHAUSTED : GRPC_STATUS_INTERNAL;
	}
	for (size_t i = 0; i < job->n; i++) {
		caa_result_t *res = job->results[i];
		const char *why = res ? NULL : error;
		if (res != NULL) {
			if (hit_client_deadline(job, res)) {
				why = "deadline exceeded: the client's deadline ended the lookup";
				if (code == GRPC_STATUS_OK)
					code = GRPC_STATUS_DEADLINE_EXCEEDED;
			}
			/* the cache keeps permissions and drops them on FORBIDDEN */
			if (!res->reused)
				caa_cache_put_request(job->d->cache, &job->reqs[i], res);
			caad_metrics_check(job->d->metrics, res);
		}
		audit(job, i, why);
	}
	if (code == GRPC_STATUS_OK)
		job->reply(job);
	else if (code == GRPC_STATUS_DEADLINE_EXCEEDED)
		caad_call_fail(job->call, code,
		               "deadline exceeded: the DNS lookup did not finish within the call's "
		               "deadline (%" PRIu64 " ms given to DNS)",
		               job->timeout_ms);
	else
		caad_call_fail(job->call, code, "%s", error);
	job_free(job);
}

static void on_check(void *arg, int rc, caa_result_t *res)
{
	caad_job_t *job = arg;
	job->results[job->dns_idx[0]] = res;
	finish(job, rc);
	caad_call_release(job->call);
}

static void on_order(void *arg, int rc, caa_result_t **results, size_t n, caa_problem_t *agg)
{
	caad_job_t *job = arg;
	for (size_t k = 0; k < n && k < job->n_dns; k++)
		job->results[job->dns_idx[k]] = results[k];
	free(results);
	job->aggregate = agg;
	finish(job, rc);
	caad_call_release(job->call);
}

static void cancel(void *ctx, uint64_t id)
{
	caa_cancel(ctx, id);
}

/* The resolver's budget: dns.timeout, or less when the client's deadline is
 * nearer. false when there is no time left at all. */
static bool budget(caad_job_t *job)
{
	job->timeout_ms = job->d->cfg->dns.timeout_ms;
	int64_t left = caad_call_time_left_ms(job->call);
	if (left < 0)
		return true;
	int64_t margin = left / 10;
	margin = margin < MARGIN_MIN_MS   ? MARGIN_MIN_MS
	         : margin > MARGIN_MAX_MS ? MARGIN_MAX_MS
	                                  : margin;
	if (left - margin < 1)
		return false;
	if ((uint64_t)(left - margin) < job->timeout_ms) {
		job->timeout_ms = (uint64_t)(left - margin);
		job->client_bound = true;
	}
	return true;
}

static void start_dns(caad_job_t *job)
{
	caad_t *d = job->d;
	if (!budget(job)) {
		caad_call_fail(job->call, GRPC_STATUS_DEADLINE_EXCEEDED,
		               "deadline exceeded before the DNS lookup could start");
		job_free(job);
		return;
	}
	/* The trace is always kept: the audit line names a failing label and
	 * the metrics count failures by depth; the client gets it if asked. */
	caa_request_t one, *reqs = &one;
	if (job->n_dns > 1 || job->order) {
		reqs = caad_arena_array(caad_call_arena(job->call), job->n_dns, sizeof(*reqs));
		if (reqs == NULL) {
			caad_call_fail(job->call, GRPC_STATUS_RESOURCE_EXHAUSTED, "out of memory");
			job_free(job);
			return;
		}
	}
	for (size_t k = 0; k < job->n_dns; k++) {
		reqs[k] = job->reqs[job->dns_idx[k]];
		reqs[k].explain = true;
	}
	caad_call_hold(job->call, cancel, d->dns);
	job->start_us = mono_us();
	uint64_t id = 0;
	int rc;
	if (job->order)
		rc = caa_order_async(d->dns, reqs, job->n_dns, job->timeout_ms, on_order, job, &id,
		                     NULL);
	else
		rc = caa_check_async(d->dns, reqs, job->timeout_ms, on_check, job, &id);
	if (rc == CAA_EOK) {
		caad_call_held_id(job->call, id);
		return;
	}
	if (rc == CAA_EBUSY)
		caad_call_fail(job->call, GRPC_STATUS_RESOURCE_EXHAUSTED,
		               "too many checks in flight (max_in_flight %zu): retry later",
		               d->cfg->max_in_flight);
	else if (rc == CAA_ENOMEM)
		caad_call_fail(job->call, GRPC_STATUS_RESOURCE_EXHAUSTED, "out of memory");
	else /* the request passed validation: anything else is a bug */
		caad_call_fail(job->call, GRPC_STATUS_INTERNAL, "cannot start the check: %s",
		               caa_strerror(rc));
	job_free(job);
	caad_call_release(job->call);
}

void caad_job_run(caad_job_t *job)
{
	int64_t now = caad_now_ms();
	job->n_dns = 0;
	for (size_t i = 0; i < job->n; i++) {
		if (!caa_cache_reuse(job->d->cache, &job->reqs[i], now, &job->results[i]))
			job->dns_idx[job->n_dns++] = i;
	}
	if (job->n_dns == 0)
		finish(job, CAA_EOK);
	else
		start_dns(job);
}
