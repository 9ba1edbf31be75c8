/*
 * job.c — reuse, DNS, and the end of a check (job.h).
 *
 * The resolver gets the client's remaining time minus a margin to answer in,
 * so a check that cannot finish before the client gives up ends on our side
 * first and is answered with its problem (LOOKUP_FAILED, "query timed out"),
 * as a check bounded by dns.timeout is: the CA sees the DNS problem, not an
 * error of the call. The margin grows with the deadline and with the checks
 * in flight, since their answers may all leave at once.
 *
 * The resolver thread is the one serial stage, so it only records a finished
 * job (its results, owned by the job now) in the round's batch; after the
 * round, caad_done_flush() hands the batch to the completion workers with one
 * lock and at most one wakeup per idle worker. A worker does the rest —
 * cache, metrics, audit lines, reply batch — and releases the call.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/prctl.h>

#include "codes.h"
#include "audit.h"
#include "corroborate.h"
#include "job.h"
#include "util.h"

/* Kept from the client's time to finish, encode and send the answer: a tenth
 * of it plus MARGIN_PER_CHECK_US per check in flight, within [MIN, MAX] and
 * never more than half of it. */
#define MARGIN_MIN_MS       20
#define MARGIN_MAX_MS       1000
#define MARGIN_PER_CHECK_US 500

caad_job_t *caad_job_new(caad_t *d, caad_call_t *call, const char *rpc, size_t n,
                         caad_job_reply_fn reply)
{
	caad_arena_t *a = caad_call_arena(call);
	caad_job_t *job = caad_arena_alloc(a, sizeof(*job));
	if (job == NULL)
		return NULL;
	job->d = d;
	job->call = call;
	const char *local = caad_call_local_rpc(call); /* e.g. "webhook/caa" */
	job->rpc = local != NULL ? local : rpc;
	job->reply = reply;
	job->n = n;
	job->reqs = caad_arena_array(a, n, sizeof(*job->reqs));
	job->explain = caad_arena_array(a, n, sizeof(*job->explain));
	job->results = caad_arena_array(a, n, sizeof(*job->results));
	job->dns_idx = caad_arena_array(a, n, sizeof(*job->dns_idx));
	if (!job->reqs || !job->explain || !job->results || !job->dns_idx)
		return NULL;
	job->call_no = atomic_fetch_add(d->next_call, 1);
	return job;
}

static void audit(caad_audit_buf_t *b, caad_job_t *job, size_t i, const char *error)
{
	caad_audit_t who = {.rpc = job->rpc,
	                    .call = job->call_no,
	                    .peer = caad_call_peer(job->call),
	                    .client = caad_call_identity(job->call),
	                    .index = i,
	                    .size = job->n,
	                    .authz_id = job->authz_id,
	                    .answered = error == NULL};
	/* no verdict in the line of an answer the client never gets */
	caad_audit_append(b, &who, &job->reqs[i], error ? NULL : job->results[i], error);
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
		error = atomic_load(job->d->draining) ? "cancelled: caad is shutting down"
		                                      : "cancelled by the client";
		code = GRPC_STATUS_CANCELLED;
	} else if (rc == CAA_ESHUTDOWN) {
		error = "caad is shutting down";
		code = GRPC_STATUS_UNAVAILABLE;
	} else if (rc != CAA_EOK) {
		error = caa_strerror(rc);
		code = rc == CAA_ENOMEM ? GRPC_STATUS_RESOURCE_EXHAUSTED : GRPC_STATUS_INTERNAL;
	}
	/* a client that is gone (deadline, cancel) gets no verdict: the line
	 * says so rather than record one nobody saw */
	const char *gone = code == GRPC_STATUS_OK ? caad_call_gone(job->call) : NULL;
	if (gone != NULL) {
		error = gone;
		code = GRPC_STATUS_DEADLINE_EXCEEDED;
	}
	caad_audit_buf_t lines;
	caad_audit_buf_init(&lines);
	for (size_t i = 0; i < job->n; i++) {
		caa_result_t *res = job->results[i];
		if (res != NULL) {
			/* under the result's checked_at: a permission to reuse, or a
			 * refusal that beats every permission checked before it */
			if (!res->reused && rc == CAA_EOK)
				caa_cache_put_request(job->d->cache, &job->reqs[i], res);
			caad_metrics_check(job->d->metrics, &job->reqs[i], res);
		}
		/* a result the client never gets (cancelled, out of memory) says why */
		audit(&lines, job, i, error);
	}
	/* the evidence is written before the answer leaves; without it, no answer */
	int wrc = caad_audit_flush(&lines);
	caad_audit_buf_free(&lines);
	if (wrc != CAA_EOK && caad_audit_required()) {
		caad_call_fail(job->call, GRPC_STATUS_UNAVAILABLE,
		               "the audit line could not be written (%s): no answer without it",
		               caa_strerror(wrc));
	} else if (code == GRPC_STATUS_OK) {
		job->reply(job);
	} else {
		caad_call_fail(job->call, code, "%s", error);
	}
	job_free(job);
}

/* ---- completion workers ---- */

struct caad_done {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	caad_job_t *head, **tail; /* finished jobs, oldest first */
	unsigned idle;            /* workers waiting on cond */
	bool stop;
	atomic_bool accepting; /* false before start and after stop: finish inline */
	pthread_t *threads;
	unsigned n_threads;
};

/* The resolver thread's batch of the current round: only that thread. */
static _Thread_local bool on_resolver;
static _Thread_local caad_job_t *batch, *batch_last;
static _Thread_local size_t n_batch;

static void complete(caad_job_t *job)
{
	caad_call_t *call = job->call; /* the job lives in the call's arena */
	if (!job->corroborated) {
		job->corroborated = true;
		if (caad_corr_needed(job)) {
			caad_corr_start(job); /* comes back through caad_job_resume() */
			return;
		}
	}
	finish(job, job->rc);
	caad_call_release(call);
}

/* Queue jobs first..*last (k of them) and wake up to k idle workers. */
static void push(caad_done_t *p, caad_job_t *first, caad_job_t **last_next, size_t k)
{
	pthread_mutex_lock(&p->lock);
	*p->tail = first;
	p->tail = last_next;
	*last_next = NULL;
	if (p->idle > 0) {
		if (k >= p->idle)
			pthread_cond_broadcast(&p->cond);
		else
			for (size_t i = 0; i < k; i++)
				pthread_cond_signal(&p->cond);
	}
	pthread_mutex_unlock(&p->lock);
}

/* A job's DNS part ended (rc, results stored): hand it over. */
static void done(caad_job_t *job, int rc)
{
	caad_done_t *p = job->d->done;
	job->rc = rc;
	job->next = NULL;
	if (p == NULL || !atomic_load_explicit(&p->accepting, memory_order_acquire)) {
		complete(job); /* no workers (yet, or any more): here */
	} else if (on_resolver) {
		if (batch == NULL)
			batch = job;
		else
			batch_last->next = job;
		batch_last = job;
		n_batch++;
	} else {
		push(p, job, &job->next, 1);
	}
}

void caad_job_resume(caad_job_t *job, int rc)
{
	done(job, rc);
}

int caad_job_aggregate(caad_job_t *job)
{
	const caa_problem_t *probs[job->n ? job->n : 1];
	size_t k = 0;
	for (size_t i = 0; i < job->n; i++)
		if (job->results[i] != NULL && job->results[i]->problem != NULL)
			probs[k++] = job->results[i]->problem;
	const caa_policy_t *pol = caa_config_policy(job->d->cfg, job->reqs[0].policy);
	caa_problem_t *agg =
	    k ? caa_problem_order(probs, k, pol != NULL && pol->boulder_recheck_types) : NULL;
	if (k > 0 && agg == NULL)
		return CAA_ENOMEM;
	caa_problem_free(job->aggregate);
	job->aggregate = agg;
	return CAA_EOK;
}

void caad_done_flush(caad_t *d)
{
	on_resolver = true;
	if (batch == NULL)
		return;
	caad_job_t *first = batch, **last_next = &batch_last->next;
	size_t k = n_batch;
	batch = batch_last = NULL;
	n_batch = 0;
	if (d->done == NULL) { /* cannot happen: done() finishes inline then */
		for (caad_job_t *j = first, *next; j != NULL; j = next) {
			next = j->next;
			complete(j);
		}
		return;
	}
	push(d->done, first, last_next, k);
}

static void *worker(void *arg)
{
	caad_done_t *p = arg;
	prctl(PR_SET_NAME, "caad-done"); /* for top -H and perf */
	pthread_mutex_lock(&p->lock);
	for (;;) {
		while (p->head == NULL && !p->stop) {
			p->idle++;
			pthread_cond_wait(&p->cond, &p->lock);
			p->idle--;
		}
		caad_job_t *job = p->head;
		if (job == NULL)
			break; /* stopping, nothing left */
		p->head = job->next;
		if (p->head == NULL)
			p->tail = &p->head;
		pthread_mutex_unlock(&p->lock);
		complete(job);
		pthread_mutex_lock(&p->lock);
	}
	pthread_mutex_unlock(&p->lock);
	return NULL;
}

int caad_done_start(caad_t *d, unsigned threads)
{
	caad_done_t *p = calloc(1, sizeof(*p));
	if (p == NULL)
		return CAA_ENOMEM;
	p->threads = calloc(threads ? threads : 1, sizeof(*p->threads));
	if (p->threads == NULL) {
		free(p);
		return CAA_ENOMEM;
	}
	pthread_mutex_init(&p->lock, NULL);
	pthread_cond_init(&p->cond, NULL);
	p->tail = &p->head;
	atomic_init(&p->accepting, false);
	d->done = p;
	for (unsigned i = 0; i < (threads ? threads : 1); i++) {
		if (pthread_create(&p->threads[i], NULL, worker, p) != 0)
			break;
		p->n_threads++;
	}
	if (p->n_threads == 0) {
		caad_done_stop(d);
		return CAA_ETHREAD;
	}
	atomic_store_explicit(&p->accepting, true, memory_order_release);
	return CAA_EOK;
}

void caad_done_stop(caad_t *d)
{
	caad_done_t *p = d->done;
	if (p == NULL)
		return;
	pthread_mutex_lock(&p->lock);
	p->stop = true;
	pthread_cond_broadcast(&p->cond);
	pthread_mutex_unlock(&p->lock);
	/* workers finish what is queued first */
	for (unsigned i = 0; i < p->n_threads; i++)
		pthread_join(p->threads[i], NULL);
	atomic_store(&p->accepting, false);
	d->done = NULL;
	pthread_cond_destroy(&p->cond);
	pthread_mutex_destroy(&p->lock);
	free(p->threads);
	free(p);
}

static void on_check(void *arg, int rc, caa_result_t *res)
{
	caad_job_t *job = arg;
	job->results[job->dns_idx[0]] = res;
	done(job, rc);
}

static void on_order(void *arg, int rc, caa_result_t **results, size_t n, caa_problem_t *agg)
{
	caad_job_t *job = arg;
	for (size_t k = 0; k < n && k < job->n_dns; k++)
		job->results[job->dns_idx[k]] = results[k];
	free(results);
	job->aggregate = agg;
	done(job, rc);
}

static void cancel(void *ctx, uint64_t id)
{
	caa_cancel(ctx, id);
}

/* The margin kept from left ms for the answer (MARGIN_* above). */
static int64_t margin_ms(int64_t left, size_t in_flight)
{
	int64_t m = left / 10 + (int64_t)(in_flight * MARGIN_PER_CHECK_US / 1000);
	m = m < MARGIN_MIN_MS ? MARGIN_MIN_MS : m > MARGIN_MAX_MS ? MARGIN_MAX_MS : m;
	return m > left / 2 ? left / 2 : m;
}

int64_t caad_job_time_left_ms(const caad_job_t *job)
{
	int64_t left = caad_call_time_left_ms(job->call);
	if (left < 0)
		return -1;
	int64_t margin = margin_ms(left, caa_ctx_in_flight(job->d->dns));
	return left - margin < 1 ? 0 : left - margin;
}

/* The resolver's budget: dns.timeout, or less when the client's deadline is
 * nearer. false when there is no time left at all. */
static bool budget(caad_job_t *job)
{
	job->timeout_ms = job->d->cfg->dns.timeout_ms;
	int64_t left = caad_job_time_left_ms(job);
	if (left < 0)
		return true;
	if (left == 0)
		return false;
	/* a permission still needs its remotes: keep them their time, up to half */
	if (job->d->remotes != NULL) {
		int64_t keep = (int64_t)job->d->cfg->perspective.remote_timeout_ms;
		left -= keep < left / 2 ? keep : left / 2;
		if (left < 1)
			return false;
	}
	if ((uint64_t)left < job->timeout_ms)
		job->timeout_ms = (uint64_t)left;
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
	 * the metrics count failures by depth; the client gets it if asked.
	 * Only a client that asked to explain has a failure diagnosed (and
	 * waits for that, within its deadline): nobody else's answer waits. */
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
		reqs[k].trace = true;
	}
	caad_call_hold(job->call, cancel, d->dns);
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
	int64_t now = caa_wall_ms();
	job->n_dns = 0;
	for (size_t i = 0; i < job->n; i++) {
		bool hit = caa_cache_reuse(job->d->cache, &job->reqs[i], now, &job->results[i]);
		caad_metrics_reuse(job->d->metrics, hit);
		if (!hit)
			job->dns_idx[job->n_dns++] = i;
	}
	if (job->n_dns == 0)
		finish(job, CAA_EOK);
	else
		start_dns(job);
}
