/*
 * climb.h — CAA lookups in real DNS: the relevant-RRset tree climb over
 * libunbound's asynchronous API (RFC 8659 §3, docs/semantics.md §1, §6).
 *
 * One context owns one libunbound context (event mode, DNSSEC-validating)
 * on one libevent event_base: its own (caa_ctx_new) or yours
 * (caa_ctx_new_event). Every label from the name to the TLD is queried in
 * parallel; a label in flight is shared by every check that needs it; a check
 * decides as soon as its answer is certain and cancels what it no longer
 * needs; queries per zone are capped, and so are the queries libunbound holds
 * at once (the rest wait in small FIFOs); each query has its own deadline
 * inside the check's; SERVFAIL, timeouts and network errors are retried with
 * jitter.
 *
 * Threads: caa_check_async(), caa_order_async() and caa_cancel() may be called
 * from any thread. Everything else, and every callback, runs on the one thread
 * that drives the loop (caa_ctx_run() or caa_ctx_wait(); your own libevent
 * loop with caa_ctx_new_event(); or the synchronous wrappers when nobody else
 * does). docs/libcaa.md says how to embed it in another kind of loop.
 */
#ifndef CAA_CLIMB_H
#define CAA_CLIMB_H

#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "result.h"
#include "export.h"

typedef struct caa_ctx caa_ctx_t;
struct event_base; /* libevent's (<event2/event.h>); only for caa_ctx_new_event */

/*
 * New context from cfg (dns.unbound_conf, dns.trust_anchor_file, timeouts,
 * retries, max_per_zone; the policies of cfg are used by name). cfg must
 * outlive the context. On error writes a one-line message into err.
 */
CAA_EXPORT int caa_ctx_new(const caa_config_t *cfg, caa_ctx_t **out, char *err, size_t errlen);

/*
 * The same on base, a libevent 2.1 event_base the caller runs (its own loop
 * thread: event_base_dispatch() or caa_ctx_wait()). The context borrows base
 * (free the context first, never the base before it); its events, timers and
 * callbacks run from base's loop. CAA_EINVAL when base is NULL.
 */
CAA_EXPORT int caa_ctx_new_event(const caa_config_t *cfg, struct event_base *base, caa_ctx_t **out,
                                 char *err, size_t errlen);

/* Free the context; checks still running complete with CAA_ESHUTDOWN. Call on
 * the loop thread, after caa_ctx_run() returned. */
CAA_EXPORT void caa_ctx_free(caa_ctx_t *ctx);

/* Called once per check with rc CAA_EOK and a result the callee owns (free it
 * with caa_result_free), or a negative rc (CAA_ECANCELED, CAA_ESHUTDOWN,
 * CAA_ENOMEM) and NULL. */
typedef void (*caa_check_cb)(void *arg, int rc, caa_result_t *res);

/* Called once per order: results[i] answers reqs[i]; aggregate is the order's
 * problem (NULL when all permitted). The callee owns results (the array and
 * each result) and aggregate. */
typedef void (*caa_order_cb)(void *arg, int rc, caa_result_t **results, size_t n,
                             caa_problem_t *aggregate);

/*
 * Start a check. timeout_ms bounds the whole check (0 = dns.timeout). The
 * request is copied. Returns CAA_EOK (cb will be called, on the loop thread),
 * a CAA_ENAME_* code for a bad identifier, CAA_ECONFIG for an unknown policy
 * profile, CAA_EMETHOD or CAA_EACCOUNT for a request the CA cannot mean
 * (caa_request_validate), CAA_EBUSY beyond max_in_flight, CAA_ENOMEM. *id
 * (may be NULL) names the check for caa_cancel().
 */
CAA_EXPORT int caa_check_async(caa_ctx_t *ctx, const caa_request_t *req, uint64_t timeout_ms,
                               caa_check_cb cb, void *arg, uint64_t *id);

/* Start an order: all identifiers at once, shared labels looked up once.
 * Fails as a whole (nothing started) if any identifier is bad; *bad (may be
 * NULL) gets its index. */
CAA_EXPORT int caa_order_async(caa_ctx_t *ctx, const caa_request_t *reqs, size_t n,
                               uint64_t timeout_ms, caa_order_cb cb, void *arg, uint64_t *id,
                               size_t *bad);

/* Cancel a check or order by id: its callback runs with CAA_ECANCELED (unless it
 * already completed) and its queries nobody else needs are cancelled. */
CAA_EXPORT void caa_cancel(caa_ctx_t *ctx, uint64_t id);

/* ---- driving the loop ---- */

/* These run the context's event_base (with caa_ctx_new_event: the caller's,
 * and everything on it); never from inside one of its callbacks (libevent's
 * loop does not nest: CAA_EIO). They return CAA_EOK, CAA_EIO (the backend
 * failed) or CAA_ENOMEM. */
/* Do whatever is ready, without blocking (EVLOOP_NONBLOCK). */
CAA_EXPORT int caa_ctx_process(caa_ctx_t *ctx);
/* Wait up to max_ms (-1: until something happens) for work, then process it. */
CAA_EXPORT int caa_ctx_wait(caa_ctx_t *ctx, int max_ms);
/* Run the loop on this thread until caa_ctx_stop() (from any thread). */
CAA_EXPORT int caa_ctx_run(caa_ctx_t *ctx);
CAA_EXPORT void caa_ctx_stop(caa_ctx_t *ctx);
/* The context's event_base, for the loop thread to add its own events (the
 * caller's own base with caa_ctx_new_event). */
CAA_EXPORT struct event_base *caa_ctx_event_base(caa_ctx_t *ctx);

/* Checks and orders in flight (approximate outside the loop thread). */
CAA_EXPORT size_t caa_ctx_in_flight(const caa_ctx_t *ctx);

/* Counters since the context was made. cancelled_queries: queries whose
 * answer nobody wanted any more by the time it came. Then the outstanding cap
 * (dns.max_outstanding): queries libunbound holds now and at most so far,
 * labels that had to wait for one of its slots, waiting now and at most. */
typedef struct caa_ctx_stats {
	uint64_t checks, orders, queries, retries, shared, timeouts, cancelled_queries;
	uint64_t outstanding, outstanding_peak, queued, waiting, waiting_peak;
} caa_ctx_stats_t;
CAA_EXPORT void caa_ctx_stats(const caa_ctx_t *ctx, caa_ctx_stats_t *out);

/* ---- synchronous wrappers (only when no other thread drives the loop) ---- */

CAA_EXPORT int caa_check(caa_ctx_t *ctx, const caa_request_t *req, caa_result_t **out);
CAA_EXPORT int caa_order(caa_ctx_t *ctx, const caa_request_t *reqs, size_t n,
                         caa_result_t ***results, caa_problem_t **aggregate, size_t *bad);

#endif
