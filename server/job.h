/*
 * job.h — the DNS path shared by Check, CheckOrder and DoCAA: the reuse
 * window first, then one caa_check_async / caa_order_async for what is left,
 * bounded by the client's deadline; then, on a completion worker (not the
 * resolver thread), the cache, metrics and audit lines, and the reply the RPC
 * encodes (reply_fn).
 */
#ifndef CAAD_JOB_H
#define CAAD_JOB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "caad.h"

typedef struct caad_job caad_job_t;

/* Encode results[] (and aggregate) and send them with caad_call_reply(). */
typedef void (*caad_job_reply_fn)(caad_job_t *job);

struct caad_job {
	caad_t *d;
	caad_call_t *call;
	const char *rpc; /* for the audit log: "Check", "CheckOrder", "DoCAA" */
	caad_job_reply_fn reply;
	bool order;       /* CheckOrder: one caa_order_async, aggregate problem */
	int64_t authz_id; /* DoCAA: for the audit log */
	size_t n;
	caa_request_t *reqs;      /* n, filled by the handler (strings borrowed) */
	bool *explain;            /* n: the client asked for the trace */
	caa_result_t **results;   /* n, set by caad_job_run(); owned by the job */
	caa_problem_t *aggregate; /* order: the aggregated problem, NULL if none */

	/* private to job.c and corroborate.c */
	bool corroborated; /* the remotes were asked (or had no part) */
	size_t *dns_idx, n_dns;
	uint64_t timeout_ms, call_no;
	int rc;           /* how the DNS part ended */
	caad_job_t *next; /* in the completion queue */
};

/* A job for n identifiers, in the call's arena. NULL when out of memory. */
caad_job_t *caad_job_new(caad_t *d, caad_call_t *call, const char *rpc, size_t n,
                         caad_job_reply_fn reply);

/* Run it: replies exactly once — now, or later from a completion worker. */
void caad_job_run(caad_job_t *job);

/* For corroborate.c: the job's asynchronous part ended with rc (results
 * stored); any thread. */
void caad_job_resume(caad_job_t *job, int rc);
/* Rebuild an order's aggregate problem from its results. CAA_EOK or CAA_ENOMEM. */
int caad_job_aggregate(caad_job_t *job);
/* Milliseconds the job may still spend before answering (the client's
 * deadline minus the answer's margin), 0 when none are left, -1 when the
 * client set no deadline. */
int64_t caad_job_time_left_ms(const caad_job_t *job);

/*
 * Completion workers: `threads` threads that finish jobs whose DNS ended.
 * Start before calls arrive; stop after the resolver thread stopped (the
 * queue is drained first). Without them (before start, after stop) a job is
 * finished on the thread its callback runs on.
 */
int caad_done_start(caad_t *d, unsigned threads); /* CAA_EOK, CAA_ENOMEM or CAA_ETHREAD */
void caad_done_stop(caad_t *d);
/* On the resolver thread after every round (caa_ctx_wait): hand the round's
 * finished jobs to the workers. The first call marks the calling thread as
 * the resolver thread. */
void caad_done_flush(caad_t *d);

#endif
