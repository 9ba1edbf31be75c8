/*
 * climb.c — the relevant-RRset climb over libunbound (docs/semantics.md §1, §6).
 *
 * A check asks for the CAA RRset of every suffix of its name at once. Labels
 * live in one table while in flight, so concurrent checks (an order's names,
 * or other orders) share one query per label. A label query waits for a slot
 * in its zone (at most dns.max_per_zone in flight per registered domain under
 * the Public Suffix List: zone.h), has its own deadline, and is retried with
 * jittered back-off on SERVFAIL, timeout and network errors. After every
 * answer each waiting check re-runs caa_policy_select(); once it is decided it
 * builds its result and lets go of the labels it no longer needs (cancelled
 * when nobody else waits for them).
 *
 * At most dns.max_outstanding queries are in libunbound at once (16-32 KiB of
 * its state each): beyond that, labels wait in a FIFO of their own (a few
 * hundred bytes each) until a query ends. A query counts until libunbound
 * calls it back, also when nobody wants its answer any more: ub_cancel()
 * would only drop the callback, the query and its memory run on
 * (docs/platform.md#libunbound), so the climb never cancels and lets the
 * answer free the label instead.
 *
 * libunbound runs in event mode on the context's libevent event_base
 * (ub_ctx_create_event): its sockets and timers, our timers and the
 * submissions' eventfd share the base, answers arrive on the loop thread
 * without a helper thread or a pipe. An answer only records what it says (the
 * packet belongs to libunbound, and a cache hit answers inside
 * ub_resolve_event()); the label is processed from the ready list by an event
 * of its own (ctx->after_ev) outside libunbound's callbacks, where sending
 * more queries is safe.
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <event2/event.h>
#include <unbound-event.h>
#include <unbound.h>

#include "climb.h"
#include "climb_reply.h"
#include "diagnose.h"
#include "dnsmsg.h"
#include "hmap.h"
#include "prove.h"
#include "timer.h"
#include "ubconf.h"
#include "zone.h"
#include "util.h"

#define RETRY_BASE_US 50000u /* first back-off; doubles per retry, ±50% jitter */
#define ZONE_MEMO_MAX 4096u  /* parents whose zone the loop remembers (zone.h) */

typedef struct check check_t;
typedef struct order order_t;
typedef struct zone zone_t;

/* LS_PROVE: failed; a check under insecure_lookup_failure_permits waits for
 * the proof that the zone is Insecure (prove.h). */
typedef enum { LS_NEW, LS_QUEUED, LS_FLIGHT, LS_ANSWERED, LS_RETRY, LS_PROVE, LS_DONE } lstate_t;

/* Labels waiting for a slot: a zone's (max_per_zone) or the context's
 * (max_outstanding). Doubly linked, so a label nobody waits for leaves at
 * once: what waits is what checks in flight still need. */
typedef struct lq {
	struct lbl *head, *tail;
	size_t n;
} lq_t;

typedef struct waiter {
	check_t *chk;
	unsigned idx;
} waiter_t;

/* One label's CAA lookup, shared by every check waiting for it. */
typedef struct lbl {
	caa_timer_t timer; /* query deadline (FLIGHT) or retry time (RETRY) */
	caa_ctx_t *ctx;
	zone_t *zone; /* set while queued or holding a slot */
	lq_t *q;      /* the FIFO it waits in (LS_QUEUED), or NULL */
	struct lbl *qprev, *qnext;
	struct lbl *rnext; /* ready list */
	lstate_t state;
	int async_id;
	bool in_ub; /* libunbound holds a query with our pointer: calls back */
	bool zslot; /* holds a slot of its zone */
	bool uslot; /* holds one of the max_outstanding slots */
	bool in_table;
	bool proved;          /* the Insecure proof ran (once per label) */
	bool proven_insecure; /* ... and succeeded: told to the checks that asked */
	char *proof_why;      /* what the proof found, added to why on delivery */
	bool diagnosing;      /* delivered; a diagnosis of its failure is running (holds a ref) */
	unsigned refs;
	unsigned retries, queries;
	uint64_t first_us;
	waiter_t *w;
	size_t nw, capw;
	caa_outcome_t outcome;
	caa_dnssec_t dnssec;
	char *why;
	uint8_t *rdata;
	caa_rr_t *rrs;
	size_t n_rrs;
	uint32_t elapsed_us;
	char name[]; /* in the same allocation */
} lbl_t;

struct zone {
	char *key;
	unsigned inflight;
	bool pending;       /* on ctx->pumps: slots_pump() has yet to look at it */
	struct zone *pnext; /* ctx->pumps */
	lq_t q;
};

struct check {
	caa_timer_t deadline;
	check_t *prev, *next; /* active list */
	caa_ctx_t *ctx;
	uint64_t id;
	order_t *order;
	size_t order_idx;
	caa_check_cb cb;
	void *arg;
	caa_request_t req; /* strings in the check's own allocation */
	const caa_policy_t *pol;
	bool not_applicable;
	struct lbl *diag_wait; /* explaining, decided by this label's failure: waits for its
	                        * diagnosis (NULL: does not wait) */
	uint64_t start_us, timeout_us;
	unsigned queries;
	unsigned n;
	caa_label_t *labels; /* n of each, after the struct; then the strings */
	lbl_t **lbls;
	unsigned *wpos; /* wpos[i]: this check's place in lbls[i]->w */
	bool ended;     /* ended inside a delivery; freed when it is over */
};

struct order {
	uint64_t id;
	size_t n, left;
	check_t **checks;
	caa_result_t **results;
	caa_order_cb cb;
	void *arg;
	bool boulder_types;
};

/* Submissions from any thread to the loop thread. */
typedef struct sub {
	struct sub *next;
	check_t *chk;         /* a single check, or */
	order_t *order;       /* an order, or */
	struct lbl *diag_lbl; /* a finished diagnosis (diag_res may be NULL), or */
	caa_diag_result_t *diag_res;
	uint64_t cancel_id; /* a cancellation */
} sub_t;

struct caa_ctx {
	const caa_config_t *cfg;
	struct ub_ctx *ub;
	caa_diag_t *diag;        /* made on first need: explaining checks after a failure */
	caa_ubconf_val_t val;    /* what the validator can prove (INSECURE or not) */
	caa_prover_t *prover;    /* made on first need: the BR carve-out (prove.h) */
	struct event_base *base; /* the loop: libunbound's events, our timers, wake_ev */
	bool own_base;           /* caa_ctx_new made it (caa_ctx_new_event: borrowed) */
	struct event *wake_ev;   /* evfd readable: submissions (or a stop) wait */
	struct event *after_ev;  /* due at once when labels are ready (after_soon) */
	struct event *wait_ev;   /* caa_ctx_wait's max_ms */
	int evfd;
	caa_hmap_t *labels, *zones;
	const psl_ctx_t *psl;       /* the zones' Public Suffix List (NULL: last two labels) */
	caa_zone_memo_t *zmemo;     /* the parents' zones, for the loop (NULL: none) */
	lbl_t *ready, **ready_tail; /* answered labels, processed after the event round */
	lq_t waiting;               /* labels with a zone slot, waiting for max_outstanding */
	unsigned outstanding;
	zone_t *pumps;       /* zones whose slots came free, for the running slots_pump() */
	bool pumping;        /* slots_pump() runs: it does not nest */
	bool closing;        /* ub_ctx_delete() calls back: send nothing more */
	unsigned delivering; /* lbl_deliver() depth */
	check_t *ended;      /* checks ended meanwhile (linked through next) */
	check_t *active;
	pthread_mutex_t lock;
	sub_t *subs, **subs_tail;
	atomic_size_t in_flight;
	atomic_uint_fast64_t next_id;
	atomic_bool stop;
	unsigned rand_state;
	caa_ctx_stats_t stats;
};

static void lbl_finish(lbl_t *l);
static void lbl_unref(lbl_t *l);
static void check_progress(check_t *chk);
static void check_complete(check_t *chk);
static void check_free(check_t *chk);

/* ---- small helpers ---- */

static unsigned rnd(caa_ctx_t *ctx)
{
	/* xorshift: jitter only, no security role */
	unsigned x = ctx->rand_state;
	x ^= x << 13;
	x ^= x >> 17;
	x ^= x << 5;
	return ctx->rand_state = x;
}

/* ---- answers ---- */

static bool is_caa(const caa_dns_rr_t *rr)
{
	return rr->type == CAA_DNS_T_CAA && rr->rclass == CAA_DNS_C_IN;
}

/* The CAA records of the answer section: after any CNAME/DNAME chain the
 * resolver followed, they belong to the queried label (docs/semantics.md §1). */
static size_t count_caa(const caa_dns_msg_t *m, size_t *octets)
{
	caa_dns_iter_t it;
	caa_dns_rr_t rr;
	size_t n = 0;
	*octets = 0;
	caa_dns_iter_init(&it, m, CAA_DNS_ANSWER);
	while (caa_dns_iter_next(&it, &rr))
		if (is_caa(&rr)) {
			n++;
			*octets += rr.rdlen;
		}
	return n;
}

/* Does a NOERROR answer without data carry an SOA in its authority section?
 * RFC 2308 asks for one; sloppy servers omit it (docs/failures.md 2, 5). */
static bool has_authority_soa(const caa_dns_msg_t *m)
{
	caa_dns_iter_t it;
	caa_dns_rr_t rr;
	caa_dns_iter_init(&it, m, CAA_DNS_AUTHORITY);
	while (caa_dns_iter_next(&it, &rr))
		if (rr.type == CAA_DNS_T_SOA)
			return true;
	return false;
}

/* Copy the CAA records of the answer section into l. */
static int take_records(lbl_t *l, const caa_dns_msg_t *m)
{
	caa_dns_iter_t it;
	caa_dns_rr_t rr;
	size_t total, n = count_caa(m, &total);
	free(l->rdata);
	free(l->rrs);
	l->rdata = NULL;
	l->rrs = NULL;
	l->n_rrs = 0;
	if (n == 0)
		return CAA_EOK;
	l->rdata = malloc(total ? total : 1);
	l->rrs = calloc(n, sizeof(*l->rrs));
	if (l->rdata == NULL || l->rrs == NULL)
		return CAA_ENOMEM;
	size_t off = 0;
	caa_dns_iter_init(&it, m, CAA_DNS_ANSWER);
	while (caa_dns_iter_next(&it, &rr) && l->n_rrs < n) {
		if (!is_caa(&rr))
			continue;
		memcpy(l->rdata + off, rr.rdata, rr.rdlen);
		/* malformed RDATA stays in the RRset, flagged: it fails closed */
		(void)caa_rr_parse(l->rdata + off, rr.rdlen, &l->rrs[l->n_rrs++]);
		off += rr.rdlen;
	}
	return CAA_EOK;
}

static void set_why(lbl_t *l, const char *why)
{
	free(l->why);
	l->why = why ? strdup(why) : NULL;
}

caa_outcome_t caa_climb_reply(int rcode, const caa_dns_msg_t *m, int sec, bool provable,
                              const char *why_bogus, caa_dnssec_t *dnssec, const char **why)
{
	size_t octets;
	*dnssec = CAA_DNSSEC_INDETERMINATE;
	*why = NULL;
	/* The callback's rcode is 0 for any reply it built, an error reply
	 * included: the reply's own header says what happened. No readable
	 * reply fails closed, as SERVFAIL. */
	if (rcode == 0)
		rcode = m != NULL ? (int)m->rcode : CAA_DNS_R_SERVFAIL;
	if (sec == 1) {
		*dnssec = CAA_DNSSEC_BOGUS;
		*why = why_bogus ? why_bogus : "validation failure";
		return CAA_OUT_BOGUS;
	}
	/* A truncated reply is not the whole answer: neither its records nor
	 * their absence may decide (RFC 2181 §9). libunbound retries over TCP
	 * itself, so a final reply with TC fails, as SERVFAIL (retried). */
	if (m != NULL && m->hdr.tc) {
		*why = "the reply is truncated (TC set), also after the retry over TCP: "
		       "it does not hold the whole answer";
		return CAA_OUT_SERVFAIL;
	}
	/* Only an answer (data, NODATA, NXDOMAIN) has a DNSSEC state; an error
	 * proves nothing either way. An unsigned answer is Insecure only when
	 * the validator could have proven it (provable: validation from the
	 * root, name not domain-insecure); otherwise it is INDETERMINATE. */
	if ((rcode == CAA_DNS_R_NOERROR || rcode == CAA_DNS_R_NXDOMAIN) && sec == 2)
		*dnssec = CAA_DNSSEC_SECURE;
	else if ((rcode == CAA_DNS_R_NOERROR || rcode == CAA_DNS_R_NXDOMAIN) && provable)
		*dnssec = CAA_DNSSEC_INSECURE;
	switch (rcode) {
	case CAA_DNS_R_NOERROR:
		if (count_caa(m, &octets) > 0)
			return CAA_OUT_PRESENT;
		if (sec != 2 && !has_authority_soa(m)) {
			/* A signed NODATA proves itself with NSEC; only unsigned
			 * answers can be missing the SOA that makes them negative. */
			*why = "NOERROR without CAA and without SOA in the authority section "
			       "(NODATA without SOA)";
			return CAA_OUT_NODATA_NOSOA;
		}
		return CAA_OUT_EMPTY;
	case CAA_DNS_R_NXDOMAIN: return CAA_OUT_NXDOMAIN;
	case CAA_DNS_R_REFUSED: return CAA_OUT_REFUSED;
	case CAA_DNS_R_NOTIMP: return CAA_OUT_NOTIMP;
	case CAA_DNS_R_FORMERR: return CAA_OUT_FORMERR;
	default:
		*why = "the resolver answered SERVFAIL (libunbound reports an upstream SERVFAIL, "
		       "REFUSED, NOTIMP, FORMERR or an unusable answer all as SERVFAIL)";
		return CAA_OUT_SERVFAIL;
	}
}

/* Record what an answer says. packet is libunbound's (valid only now);
 * sec: 0 insecure or unchecked, 1 bogus, 2 secure. */
static void classify(lbl_t *l, int rcode, const uint8_t *packet, size_t len, int sec,
                     const char *why_bogus)
{
	caa_dns_msg_t m;
	const char *why;
	bool readable = packet != NULL && caa_dns_msg_parse(&m, packet, len, NULL) == CAA_EOK;
	bool provable = caa_ubconf_proves_insecure(&l->ctx->val, l->name);
	l->outcome = caa_climb_reply(rcode, readable ? &m : NULL, sec, provable, why_bogus,
	                             &l->dnssec, &why);
	set_why(l, why);
	if (l->outcome == CAA_OUT_PRESENT && take_records(l, &m) != CAA_EOK) {
		l->outcome = CAA_OUT_NETWORK;
		set_why(l, "out of memory");
	}
}

/* ---- scheduling: per-zone cap, then the outstanding cap ---- */

static void lbl_send(lbl_t *l);

static void lq_push(lq_t *q, lbl_t *l)
{
	l->q = q;
	l->qnext = NULL;
	l->qprev = q->tail;
	if (q->tail)
		q->tail->qnext = l;
	else
		q->head = l;
	q->tail = l;
	q->n++;
}

static void lq_remove(lbl_t *l)
{
	lq_t *q = l->q;
	if (l->qprev)
		l->qprev->qnext = l->qnext;
	else
		q->head = l->qnext;
	if (l->qnext)
		l->qnext->qprev = l->qprev;
	else
		q->tail = l->qprev;
	q->n--;
	l->q = NULL;
	l->qprev = l->qnext = NULL;
}

static zone_t *zone_get(caa_ctx_t *ctx, const char *name)
{
	char buf[CAA_NAME_MAX + 1];
	const char *key = caa_zone_memo_of(ctx->zmemo, ctx->psl, name, buf);
	zone_t *z = caa_hmap_get(ctx->zones, key);
	if (z != NULL)
		return z;
	z = calloc(1, sizeof(*z));
	if (z == NULL || (z->key = strdup(key)) == NULL ||
	    caa_hmap_put(ctx->zones, z->key, z) != CAA_EOK) {
		if (z)
			free(z->key);
		free(z);
		return NULL;
	}
	return z;
}

/* Forget z once nothing holds or waits for one of its slots, and no pump
 * has it still to do. */
static void zone_idle(caa_ctx_t *ctx, zone_t *z)
{
	if (z->inflight == 0 && z->q.head == NULL && !z->pending) {
		caa_hmap_del(ctx->zones, z->key);
		free(z->key);
		free(z);
	}
}

static void lbl_free(lbl_t *l)
{
	free(l->proof_why);
	free(l->w);
	free(l->why);
	free(l->rdata);
	free(l->rrs);
	free(l);
}

/* l holds a slot of its zone: send it, or queue it for an outstanding slot
 * (behind those already waiting). */
static void lbl_launch(lbl_t *l)
{
	caa_ctx_t *ctx = l->ctx;
	if (ctx->waiting.head == NULL && ctx->outstanding < ctx->cfg->dns.max_outstanding) {
		lbl_send(l);
		return;
	}
	l->state = LS_QUEUED;
	lq_push(&ctx->waiting, l);
	ctx->stats.queued++;
	if (ctx->waiting.n > ctx->stats.waiting_peak)
		ctx->stats.waiting_peak = ctx->waiting.n;
}

/* Slots came free in z: labels waiting for an outstanding slot go first
 * (they hold their zone's already), then z's own FIFO. A send that fails at
 * once gives its slots back from inside the loop (lbl_release), and so does
 * a check it completes: such a call only notes its zone for the pump that
 * runs, so pumps never nest (nor deepen the stack per failed send), and no
 * zone is freed while a pump still looks at it. */
static void slots_pump(caa_ctx_t *ctx, zone_t *z)
{
	if (!z->pending) {
		z->pending = true;
		z->pnext = ctx->pumps;
		ctx->pumps = z;
	}
	if (ctx->pumping)
		return;
	ctx->pumping = true;
	while ((z = ctx->pumps) != NULL) {
		ctx->pumps = z->pnext;
		z->pending = false;
		while (!ctx->closing && ctx->waiting.head != NULL &&
		       ctx->outstanding < ctx->cfg->dns.max_outstanding) {
			lbl_t *l = ctx->waiting.head;
			lq_remove(l);
			lbl_send(l);
		}
		while (!ctx->closing && z->q.head != NULL &&
		       z->inflight < ctx->cfg->dns.max_per_zone) {
			lbl_t *l = z->q.head;
			lq_remove(l);
			z->inflight++;
			l->zslot = true;
			lbl_launch(l);
		}
		zone_idle(ctx, z);
	}
	ctx->pumping = false;
}

/* Give back whatever slots l holds (its query ended, or never started). */
static void lbl_release(lbl_t *l)
{
	caa_ctx_t *ctx = l->ctx;
	zone_t *z = l->zone;
	if (l->uslot) {
		l->uslot = false;
		ctx->outstanding--;
	}
	if (z == NULL)
		return;
	l->zone = NULL;
	if (l->zslot) {
		l->zslot = false;
		z->inflight--;
	}
	slots_pump(ctx, z);
}

static void lbl_submit(lbl_t *l)
{
	caa_ctx_t *ctx = l->ctx;
	if (l->in_ub) {
		/* A retry while libunbound still works on the last query would
		 * only join it: wait for that one again. */
		lbl_send(l);
		return;
	}
	zone_t *z = zone_get(ctx, l->name);
	if (z == NULL) {
		l->outcome = CAA_OUT_NETWORK;
		set_why(l, "out of memory");
		lbl_finish(l);
		return;
	}
	l->zone = z;
	if (z->inflight < ctx->cfg->dns.max_per_zone) {
		z->inflight++;
		l->zslot = true;
		lbl_launch(l);
		return;
	}
	l->state = LS_QUEUED;
	lq_push(&z->q, l);
}

static void on_answer(void *data, int rcode, void *packet, int len, int sec, char *why_bogus,
                      int ratelimited);

/* Process the ready labels from the base's next round: a timer due at once,
 * not event_active(), which would run in this round and, with every answer
 * from the cache starting the next check, keep one loop pass going for ever
 * (caa_ctx_wait would not return). Without memory for the timer, at once. */
static void after_soon(caa_ctx_t *ctx)
{
	static const struct timeval now = {0, 0};
	if (ctx->after_ev == NULL || evtimer_pending(ctx->after_ev, NULL))
		return;
	if (evtimer_add(ctx->after_ev, &now) != 0)
		event_active(ctx->after_ev, EV_TIMEOUT, 0);
}

/* Send (l holds its zone slot), or wait again for the query libunbound still
 * holds. A cached answer comes back before ub_resolve_event() returns: the
 * state is set up first. */
static void lbl_send(lbl_t *l)
{
	caa_ctx_t *ctx = l->ctx;
	l->queries++;
	ctx->stats.queries++;
	for (size_t i = 0; i < l->nw; i++)
		l->w[i].chk->queries++;
	l->state = LS_FLIGHT;
	int rc = caa_timer_arm(&l->timer, caa_now_us() + ctx->cfg->dns.query_timeout_ms * 1000u);
	if (rc != CAA_EOK) {
		/* without its deadline the query could wait for ever: fail it */
		l->outcome = CAA_OUT_NETWORK;
		set_why(l, "out of memory");
		if (!l->in_ub)
			lbl_release(l);
		lbl_finish(l);
		return;
	}
	if (l->in_ub)
		return;
	l->in_ub = true;
	l->uslot = true;
	if (++ctx->outstanding > ctx->stats.outstanding_peak)
		ctx->stats.outstanding_peak = ctx->outstanding;
	rc = ub_resolve_event(ctx->ub, l->name, CAA_DNS_T_CAA, CAA_DNS_C_IN, l, on_answer,
	                      &l->async_id);
	if (rc != 0) {
		l->in_ub = false;
		caa_timer_disarm(&l->timer);
		l->outcome = CAA_OUT_NETWORK;
		set_why(l, ub_strerror(rc));
		lbl_release(l);
		lbl_finish(l);
	}
}

static bool retryable(caa_outcome_t o)
{
	return o == CAA_OUT_SERVFAIL || o == CAA_OUT_TIMEOUT || o == CAA_OUT_NETWORK;
}

/* Retry if the policy allows and some waiting check has time left for it. */
static bool maybe_retry(lbl_t *l)
{
	caa_ctx_t *ctx = l->ctx;
	if (!retryable(l->outcome) || l->retries >= ctx->cfg->dns.retries || l->refs == 0)
		return false;
	uint64_t backoff = (uint64_t)RETRY_BASE_US << l->retries;
	backoff = backoff / 2 + rnd(ctx) % (backoff + 1);
	uint64_t at = caa_now_us() + backoff, latest = 0;
	for (size_t i = 0; i < l->nw; i++)
		if (l->w[i].chk->deadline.when_us > latest)
			latest = l->w[i].chk->deadline.when_us;
	if (at >= latest)
		return false;
	l->retries++;
	ctx->stats.retries++;
	l->state = LS_RETRY;
	if (caa_timer_arm(&l->timer, at) != CAA_EOK) {
		l->state = LS_ANSWERED;
		return false;
	}
	return true;
}

/* From libunbound (inside the event round, or inside ub_resolve_event for a
 * cached answer): record the answer if a check still waits for it; the label
 * gives back its slots and is processed after the round. */
static void on_answer(void *data, int rcode, void *packet, int len, int sec, char *why_bogus,
                      int ratelimited)
{
	lbl_t *l = data;
	caa_ctx_t *ctx = l->ctx;
	(void)ratelimited;

	l->in_ub = false;
	if (l->refs > 0 && (l->state == LS_FLIGHT || l->state == LS_RETRY)) {
		/* LS_RETRY: the query that timed out answered after all */
		caa_timer_disarm(&l->timer);
		classify(l, rcode, packet, len > 0 ? (size_t)len : 0, sec, why_bogus);
		l->state = LS_ANSWERED;
	}
	l->refs++; /* held while on the ready list */
	l->rnext = NULL;
	*ctx->ready_tail = l;
	ctx->ready_tail = &l->rnext;
	after_soon(ctx);
}

/* After the event round: answered labels give back their slots (which may
 * send queued queries), then retry or finish. */
static void process_ready(caa_ctx_t *ctx)
{
	while (ctx->ready != NULL) {
		lbl_t *l = ctx->ready;
		ctx->ready = l->rnext;
		if (ctx->ready == NULL)
			ctx->ready_tail = &ctx->ready;
		l->rnext = NULL;
		lbl_release(l);
		if (l->state == LS_ANSWERED && l->refs > 1) {
			if (!maybe_retry(l))
				lbl_finish(l);
		} else if (l->state == LS_ANSWERED) {
			l->state = LS_DONE; /* nobody waits any more */
		}
		lbl_unref(l);
	}
}

static void on_lbl_timer(caa_timer_t *t, void *arg)
{
	lbl_t *l = (lbl_t *)t; /* the timer is the first member */
	(void)arg;
	if (l->state == LS_RETRY) {
		lbl_submit(l);
		return;
	}
	/* Query deadline: libunbound has no per-query timeout of its own. Its
	 * query runs on, holding its slots, until it calls back. */
	l->ctx->stats.timeouts++;
	l->outcome = CAA_OUT_TIMEOUT;
	char why[96];
	snprintf(why, sizeof(why), "no answer within the query timeout (%llu ms)",
	         (unsigned long long)l->ctx->cfg->dns.query_timeout_ms);
	set_why(l, why);
	if (!maybe_retry(l))
		lbl_finish(l);
}

/* Add "; more" to l->why (kept as it is without memory). */
static void append_why(lbl_t *l, const char *more)
{
	size_t len = (l->why ? strlen(l->why) + 2 : 0) + strlen(more) + 1;
	char *text = malloc(len);
	if (text == NULL)
		return;
	snprintf(text, len, "%s%s%s", l->why ? l->why : "", l->why ? "; " : "", more);
	free(l->why);
	l->why = text;
}

/* The label has its final outcome: hand it to every waiting check. */
static void lbl_deliver(lbl_t *l)
{
	caa_ctx_t *ctx = l->ctx;
	if (l->proof_why != NULL) {
		/* after the diagnosis, which rewrites why */
		append_why(l, l->proof_why);
		free(l->proof_why);
		l->proof_why = NULL;
	}
	l->state = LS_DONE;
	if (l->in_table) {
		/* Later checks ask libunbound's cache, not us. */
		caa_hmap_del(ctx->labels, l->name);
		l->in_table = false;
	}
	l->refs++; /* waiters may let go (and free l) while we notify them */
	/* and end checks: those stay allocated (marked ended) until the
	 * outermost delivery is over, as the snapshot may still name them */
	ctx->delivering++;
	size_t nw = l->nw;
	waiter_t small[16], *snap = nw <= 16 ? small : malloc(nw * sizeof(*snap));
	if (snap == NULL) {
		/* Cannot snapshot: notify through the live array from its end,
		 * which detaching waiters only shrinks. */
		snap = small;
		nw = 0;
		while (l->nw > 0) {
			waiter_t wt = l->w[l->nw - 1];
			caa_label_t *cl = &wt.chk->labels[wt.idx];
			cl->outcome = CAA_OUT_NETWORK;
			cl->why = "out of memory";
			check_complete(wt.chk);
		}
	}
	memcpy(snap, l->w, nw * sizeof(*snap));
	for (size_t i = 0; i < nw; i++) {
		check_t *chk = snap[i].chk;
		unsigned idx = snap[i].idx;
		if (chk->ended || chk->lbls[idx] != l)
			continue; /* ended by an earlier waiter's completion */
		caa_label_t *cl = &chk->labels[idx];
		cl->outcome = l->outcome;
		/* a failure is INSECURE only for checks that asked for the proof:
		 * the others' results do not depend on who shared the label */
		cl->dnssec = l->proven_insecure && chk->pol->insecure_lookup_failure_permits
		                 ? CAA_DNSSEC_INSECURE
		                 : l->dnssec;
		cl->rrs = l->rrs;
		cl->n_rrs = l->n_rrs;
		cl->why = l->why;
		cl->retries = l->retries;
		cl->elapsed_us = l->elapsed_us;
		check_progress(chk);
	}
	if (snap != small)
		free(snap);
	if (--ctx->delivering == 0)
		while (ctx->ended != NULL) {
			check_t *chk = ctx->ended;
			ctx->ended = chk->next;
			check_free(chk);
		}
	lbl_unref(l);
}

static void submit(caa_ctx_t *ctx, sub_t *s);

/* On the diagnosis thread: hand the result to the loop, in the submission
 * lbl_diagnose() made for it (nothing to allocate here, so nothing to fail:
 * the label's ref always comes back). */
static void on_diagnosis(void *arg, caa_diag_result_t *res)
{
	sub_t *s = arg;
	s->diag_res = res;
	submit(s->diag_lbl->ctx, s);
}

/* An explaining check wants to know why the resolver failed (libunbound
 * reports REFUSED, NOTIMP, lame servers... all as SERVFAIL): ask the zone's
 * servers ourselves, off the loop thread, within the explaining waiters'
 * time. Only a check that asked to explain, and that this failure decides,
 * waits for it (check_progress); every other waiter has the label now. */
static void lbl_diagnose(lbl_t *l)
{
	caa_ctx_t *ctx = l->ctx;
	if (l->outcome != CAA_OUT_SERVFAIL && l->outcome != CAA_OUT_TIMEOUT &&
	    l->outcome != CAA_OUT_NETWORK)
		return;
	uint64_t latest = 0;
	for (size_t i = 0; i < l->nw; i++)
		if (l->w[i].chk->req.explain && l->w[i].chk->deadline.when_us > latest)
			latest = l->w[i].chk->deadline.when_us;
	uint64_t now = caa_now_us();
	/* leave a tenth of the time (at least 100 ms) to answer */
	if (latest <= now + 200000)
		return;
	uint64_t budget_ms = (latest - now) / 1000;
	budget_ms -= budget_ms / 10 > 100 ? budget_ms / 10 : 100;
	char err[256];
	if (ctx->diag == NULL && caa_diag_new(ctx->cfg, &ctx->diag, err, sizeof(err)) != CAA_EOK)
		return;
	sub_t *s = calloc(1, sizeof(*s));
	if (s == NULL)
		return;
	s->diag_lbl = l;
	l->refs++; /* held until the diagnosis comes back */
	/* CAA_EBUSY (a burst): no diagnosis, the answer does not wait */
	if (caa_diag_start(ctx->diag, l->name, budget_ms, on_diagnosis, s) != CAA_EOK) {
		l->refs--;
		free(s);
		return;
	}
	l->diagnosing = true;
}

static void on_proved(void *arg, bool insecure, const char *why);

/* BR 3.2.2.8 carve-out (docs/semantics.md §6): an upstream failure, retried, may count
 * as empty for a check whose policy allows it, if the zone is proven
 * Insecure. The failure itself proves nothing: ask for the zone's DS. */
static bool lbl_prove(lbl_t *l)
{
	caa_ctx_t *ctx = l->ctx;
	if (l->proved || l->retries < 1 || !caa_policy_upstream_failure(l->outcome) ||
	    !caa_ubconf_proves_insecure(&ctx->val, l->name))
		return false;
	bool wanted = false;
	uint64_t latest = 0;
	for (size_t i = 0; i < l->nw; i++) {
		wanted = wanted || l->w[i].chk->pol->insecure_lookup_failure_permits;
		if (l->w[i].chk->deadline.when_us > latest)
			latest = l->w[i].chk->deadline.when_us;
	}
	if (!wanted)
		return false;
	l->proved = true;
	if (ctx->prover == NULL &&
	    caa_prover_new(ctx->ub, ctx->base, &ctx->val, ctx->cfg->dns.query_timeout_ms * 1000u,
	                   &ctx->prover) != CAA_EOK)
		return false;
	l->refs++; /* held until the proof comes back */
	if (caa_prove_start(ctx->prover, l->name, latest, on_proved, l) != CAA_EOK) {
		l->refs--;
		return false;
	}
	l->state = LS_PROVE;
	return true;
}

static void lbl_finish(lbl_t *l)
{
	l->elapsed_us = (uint32_t)(caa_now_us() - l->first_us);
	if (lbl_prove(l))
		return; /* on_proved finishes it */
	lbl_diagnose(l);
	lbl_deliver(l);
}

/* From the prover's timer: the zone is Insecure, or the failure stays. */
static void on_proved(void *arg, bool insecure, const char *why)
{
	lbl_t *l = arg;
	l->proven_insecure = insecure;
	size_t len = strlen(why) + 32;
	if ((l->proof_why = malloc(len)) != NULL)
		snprintf(l->proof_why, len, "zone %s insecure: %s",
		         insecure ? "proven" : "not proven", why);
	if (l->nw > 0)
		lbl_finish(l);
	else
		l->state = LS_DONE;
	lbl_unref(l);
}

/* Back on the loop: the diagnosis names the cause in the explanation, and
 * the checks that waited for it complete. */
static void diag_done(lbl_t *l, caa_diag_result_t *res)
{
	if (res != NULL && l->nw > 0) {
		size_t len = strlen(res->cause) + (l->why ? strlen(l->why) : 0) + 32;
		char *why = malloc(len);
		if (why != NULL) {
			snprintf(why, len, "%s; diagnosis: %s",
			         l->outcome == CAA_OUT_SERVFAIL
			             ? "resolver answered SERVFAIL"
			             : (l->why ? l->why : "lookup failed"),
			         res->cause);
			free(l->why);
			l->why = why;
		}
	}
	free(res);
	l->diagnosing = false;
	/* The waiters borrow l->why: the old text is gone. */
	for (size_t i = 0; i < l->nw; i++)
		l->w[i].chk->labels[l->w[i].idx].why = l->why;
	/* Only the checks that wait for this label's diagnosis go on (another
	 * label of theirs may still be diagnosed, but not the one that decides).
	 * Completing a check detaches it (and, for a failed order, others):
	 * look again from the start after each. l stays: the diagnosis' ref. */
	for (bool again = true; again;) {
		again = false;
		for (size_t i = 0; i < l->nw; i++) {
			check_t *chk = l->w[i].chk;
			if (chk->diag_wait != l)
				continue;
			chk->diag_wait = NULL;
			check_progress(chk);
			again = true;
			break;
		}
	}
	lbl_unref(l);
}

static lbl_t *lbl_new(caa_ctx_t *ctx, const char *name)
{
	size_t len = strlen(name) + 1;
	lbl_t *l = calloc(1, sizeof(*l) + len);
	if (l == NULL)
		return NULL;
	memcpy(l->name, name, len);
	l->ctx = ctx;
	caa_timer_init(&l->timer, ctx->base, on_lbl_timer, ctx);
	l->first_us = caa_now_us();
	if (caa_hmap_put(ctx->labels, l->name, l) != CAA_EOK) {
		lbl_free(l);
		return NULL;
	}
	l->in_table = true;
	return l;
}

static int lbl_attach(lbl_t *l, check_t *chk, unsigned idx)
{
	if (l->nw == l->capw) {
		size_t cap = l->capw ? l->capw * 2 : 1; /* most labels: one check */
		waiter_t *w = realloc(l->w, cap * sizeof(*w));
		if (w == NULL)
			return CAA_ENOMEM;
		l->w = w;
		l->capw = cap;
	}
	chk->wpos[idx] = (unsigned)l->nw;
	l->w[l->nw++] = (waiter_t){chk, idx};
	l->refs++;
	chk->lbls[idx] = l;
	return CAA_EOK;
}

static void lbl_unref(lbl_t *l)
{
	if (--l->refs > 0)
		return;
	caa_ctx_t *ctx = l->ctx;
	if (l->in_table) {
		caa_hmap_del(ctx->labels, l->name);
		l->in_table = false;
	}
	caa_timer_disarm(&l->timer);
	if (l->q != NULL)
		lq_remove(l); /* waited for a slot: leaves the FIFO now */
	if (l->in_ub) {
		/* freed when libunbound calls back, which gives back its slots */
		if (l->state == LS_FLIGHT)
			ctx->stats.cancelled_queries++;
		l->state = LS_DONE;
		return;
	}
	lbl_release(l);
	lbl_free(l);
}

static void lbl_detach(check_t *chk, unsigned idx)
{
	lbl_t *l = chk->lbls[idx];
	if (l == NULL)
		return;
	chk->lbls[idx] = NULL;
	/* O(1): a label shared by many checks is left by each of them */
	unsigned i = chk->wpos[idx];
	l->w[i] = l->w[--l->nw];
	if (i < l->nw)
		l->w[i].chk->wpos[l->w[i].idx] = i;
	lbl_unref(l);
}

/* ---- checks and orders ---- */

static void check_free(check_t *chk)
{
	free(chk); /* labels and strings included */
}

static void order_free(order_t *o, bool free_results)
{
	if (free_results)
		for (size_t i = 0; i < o->n; i++)
			caa_result_free(o->results[i]);
	free(o->results);
	free(o->checks);
	free(o);
}

/* Free an ended check, or (inside a delivery) mark it ended for later. */
static void check_retire(caa_ctx_t *ctx, check_t *chk)
{
	if (ctx->delivering == 0) {
		check_free(chk);
		return;
	}
	chk->ended = true;
	chk->next = ctx->ended;
	ctx->ended = chk;
}

static void active_unlink(caa_ctx_t *ctx, check_t *chk)
{
	if (chk->prev)
		chk->prev->next = chk->next;
	else if (ctx->active == chk)
		ctx->active = chk->next;
	if (chk->next)
		chk->next->prev = chk->prev;
	chk->prev = chk->next = NULL;
}

static void order_deliver(caa_ctx_t *ctx, order_t *o)
{
	const caa_problem_t *probs[o->n ? o->n : 1];
	size_t k = 0;
	for (size_t i = 0; i < o->n; i++)
		if (o->results[i]->problem != NULL)
			probs[k++] = o->results[i]->problem;
	caa_problem_t *agg = k ? caa_problem_order(probs, k, o->boulder_types) : NULL;
	atomic_fetch_sub(&ctx->in_flight, 1);
	if (k > 0 && agg == NULL) {
		o->cb(o->arg, CAA_ENOMEM, NULL, 0, NULL);
		order_free(o, true);
		return;
	}
	caa_result_t **results = o->results;
	size_t n = o->n;
	o->results = NULL;
	o->cb(o->arg, CAA_EOK, results, n, agg);
	order_free(o, false);
}

/* End a check: rc CAA_EOK hands res to its caller (or order). */
static void check_end(check_t *chk, int rc, caa_result_t *res)
{
	caa_ctx_t *ctx = chk->ctx;
	caa_timer_disarm(&chk->deadline);
	for (unsigned i = 0; i < chk->n; i++)
		lbl_detach(chk, i);
	active_unlink(ctx, chk);
	order_t *o = chk->order;
	if (o == NULL) {
		atomic_fetch_sub(&ctx->in_flight, 1);
		chk->cb(chk->arg, rc, res);
	} else if (rc != CAA_EOK) {
		/* An order fails as a whole: stop its other checks, report once. */
		o->checks[chk->order_idx] = NULL;
		for (size_t i = 0; i < o->n; i++) {
			check_t *other = o->checks[i];
			if (other == NULL)
				continue;
			o->checks[i] = NULL;
			caa_timer_disarm(&other->deadline);
			for (unsigned j = 0; j < other->n; j++)
				lbl_detach(other, j);
			active_unlink(ctx, other);
			check_retire(ctx, other);
		}
		atomic_fetch_sub(&ctx->in_flight, 1);
		o->cb(o->arg, rc, NULL, 0, NULL);
		order_free(o, true);
	} else {
		o->checks[chk->order_idx] = NULL;
		o->results[chk->order_idx] = res;
		if (--o->left == 0)
			order_deliver(ctx, o);
	}
	check_retire(ctx, chk);
}

static void check_complete(check_t *chk)
{
	caa_result_t *res = NULL;
	int rc;
	if (chk->not_applicable) {
		rc = caa_result_not_applicable(&chk->req, &res);
	} else {
		caa_name_t name; /* parsed at submission: the same name again */
		const char *ident = chk->req.identifier ? chk->req.identifier : "";
		rc = caa_name_parse_typed(chk->req.type ? chk->req.type : "dns", ident,
		                          strlen(ident), &name);
		if (rc == CAA_EOK)
			rc = caa_result_build(chk->pol, &chk->req, &name, chk->labels, chk->n,
			                      chk->req.explain || chk->req.trace, &res);
	}
	if (res != NULL) {
		res->queries = chk->queries;
		res->elapsed_us = (uint32_t)(caa_now_us() - chk->start_us);
	}
	check_end(chk, rc, res);
}

static void check_progress(check_t *chk)
{
	size_t idx;
	caa_select_t sel = caa_policy_select(chk->labels, chk->n, chk->pol, &idx);
	if (sel == CAA_SEL_UNDECIDED)
		return;
	/* Decided by a failure whose diagnosis is running: a check that asked
	 * to explain waits for it (diag_done), at most until its deadline. */
	if (sel == CAA_SEL_ERROR && chk->req.explain && idx < chk->n && chk->lbls[idx] != NULL &&
	    chk->lbls[idx]->diagnosing) {
		chk->diag_wait = chk->lbls[idx];
		return;
	}
	check_complete(chk);
}

/* The check's own deadline: whatever is still pending timed out. */
static void on_check_deadline(caa_timer_t *t, void *arg)
{
	check_t *chk = (check_t *)t; /* the timer is the first member */
	(void)arg;
	for (unsigned i = 0; i < chk->n; i++) {
		caa_label_t *cl = &chk->labels[i];
		if (cl->outcome != CAA_OUT_PENDING)
			continue;
		lbl_t *l = chk->lbls[i];
		if (l != NULL && l->state == LS_PROVE) {
			/* answered; only the Insecure proof is late: not proven,
			 * so the failure stays */
			cl->outcome = l->outcome;
			cl->dnssec = l->dnssec;
			cl->why = l->why;
			cl->retries = l->retries;
			cl->elapsed_us = l->elapsed_us;
			continue;
		}
		cl->outcome = CAA_OUT_TIMEOUT;
		cl->why = "the check's overall deadline ran out while this label was pending";
		if (chk->lbls[i] != NULL) {
			cl->retries = chk->lbls[i]->retries;
			cl->elapsed_us = (uint32_t)(caa_now_us() - chk->lbls[i]->first_us);
		}
	}
	check_complete(chk);
}

/* On the loop thread: look every label up (or join a lookup in flight). */
static void check_start(caa_ctx_t *ctx, check_t *chk)
{
	chk->next = ctx->active;
	if (ctx->active)
		ctx->active->prev = chk;
	ctx->active = chk;
	chk->start_us = caa_now_us();
	caa_timer_init(&chk->deadline, ctx->base, on_check_deadline, ctx);
	ctx->stats.checks++;
	if (chk->not_applicable) {
		check_complete(chk);
		return;
	}
	if (caa_timer_arm(&chk->deadline, chk->start_us + chk->timeout_us) != CAA_EOK) {
		/* no deadline, no check: it fails closed now */
		for (unsigned i = 0; i < chk->n; i++) {
			chk->labels[i].outcome = CAA_OUT_NETWORK;
			chk->labels[i].why = "out of memory";
		}
		check_complete(chk);
		return;
	}
	/* Attach to every label first, then send: a label answered at once
	 * (an error) must find all its waiters in place. Hold the fresh labels
	 * while sending: the check may complete (and let go) on the way. */
	lbl_t *fresh[CAA_LABELS_MAX];
	unsigned nfresh = 0;
	for (unsigned i = 0; i < chk->n; i++) {
		const char *name = chk->labels[i].name;
		lbl_t *l = caa_hmap_get(ctx->labels, name);
		bool is_new = false;
		if (l != NULL) {
			ctx->stats.shared++;
			chk->queries += l->queries;
		} else if ((l = lbl_new(ctx, name)) != NULL) {
			is_new = true;
		}
		if (l != NULL && lbl_attach(l, chk, i) == CAA_EOK) {
			if (is_new)
				fresh[nfresh++] = l;
			continue;
		}
		if (is_new) {
			l->refs = 1;
			lbl_unref(l);
		}
		/* Without memory for the lookup the label fails, closed. */
		chk->labels[i].outcome = CAA_OUT_NETWORK;
		chk->labels[i].why = "out of memory";
	}
	for (unsigned i = 0; i < nfresh; i++)
		fresh[i]->refs++;
	for (unsigned i = 0; i < nfresh; i++)
		if (fresh[i]->nw > 0 && fresh[i]->state == LS_NEW)
			lbl_submit(fresh[i]);
	for (unsigned i = 0; i < nfresh; i++)
		lbl_unref(fresh[i]);
}

static size_t req_strlen(const char *s)
{
	return s ? strlen(s) + 1 : 0;
}

static char *req_copy(char **p, const char *s)
{
	if (s == NULL)
		return NULL;
	char *d = *p;
	strcpy(d, s);
	*p += strlen(s) + 1;
	return d;
}

/* Validate and copy a request (any thread). The check, its labels and its
 * strings are one allocation, and the name is kept as its text only: that is
 * most of what a waiting check costs (it is parsed again to complete). */
static int check_new(caa_ctx_t *ctx, const caa_request_t *req, uint64_t timeout_ms, check_t **out)
{
	*out = NULL;
	const caa_policy_t *pol = caa_config_policy(ctx->cfg, req->policy);
	if (pol == NULL)
		return CAA_ECONFIG;
	int rc = caa_request_validate(pol, req);
	if (rc != CAA_EOK)
		return rc;
	caa_name_t name;
	const char *ident = req->identifier ? req->identifier : "";
	rc = caa_name_parse_typed(req->type ? req->type : "dns", ident, strlen(ident), &name);
	bool not_applicable = rc == CAA_ENOTAPPLICABLE;
	if (rc != CAA_EOK && !not_applicable)
		return rc;
	unsigned n = not_applicable ? 0 : name.n_labels;
	size_t len = req_strlen(req->type) + req_strlen(req->identifier) +
	             req_strlen(req->account_uri) + req_strlen(req->method) +
	             req_strlen(req->policy) + (not_applicable ? 0 : (size_t)name.len + 1);
	check_t *chk = calloc(
	    1, sizeof(*chk) + n * (sizeof(caa_label_t) + sizeof(lbl_t *) + sizeof(unsigned)) + len);
	if (chk == NULL)
		return CAA_ENOMEM;
	chk->ctx = ctx;
	chk->pol = pol;
	chk->not_applicable = not_applicable;
	chk->n = n;
	chk->labels = (caa_label_t *)(void *)(chk + 1);
	chk->lbls = (lbl_t **)(void *)(chk->labels + n);
	chk->wpos = (unsigned *)(void *)(chk->lbls + n);
	char *p = (char *)(chk->wpos + n);
	chk->req = *req;
	chk->req.type = req_copy(&p, req->type);
	chk->req.identifier = req_copy(&p, req->identifier);
	chk->req.account_uri = req_copy(&p, req->account_uri);
	chk->req.method = req_copy(&p, req->method);
	chk->req.policy = req_copy(&p, req->policy);
	for (unsigned i = 0; i < n; i++) {
		chk->labels[i].name = p + (caa_name_suffix(&name, i) - name.text);
		chk->labels[i].dnssec = CAA_DNSSEC_INDETERMINATE;
	}
	if (n > 0)
		memcpy(p, name.text, (size_t)name.len + 1);
	chk->timeout_us = (timeout_ms ? timeout_ms : ctx->cfg->dns.timeout_ms) * 1000u;
	*out = chk;
	return CAA_EOK;
}

static void submit(caa_ctx_t *ctx, sub_t *s)
{
	pthread_mutex_lock(&ctx->lock);
	/* A non-empty queue has a wake-up pending already: the loop takes the
	 * whole queue after every round. */
	bool wake = ctx->subs == NULL;
	*ctx->subs_tail = s;
	ctx->subs_tail = &s->next;
	pthread_mutex_unlock(&ctx->lock);
	if (!wake)
		return;
	uint64_t one = 1;
	ssize_t w = write(ctx->evfd, &one, sizeof(one));
	(void)w; /* a full counter already means "wake up" */
}

static bool reserve_slot(caa_ctx_t *ctx)
{
	size_t cur = atomic_fetch_add(&ctx->in_flight, 1);
	if (cur >= ctx->cfg->max_in_flight) {
		atomic_fetch_sub(&ctx->in_flight, 1);
		return false;
	}
	return true;
}

int caa_check_async(caa_ctx_t *ctx, const caa_request_t *req, uint64_t timeout_ms, caa_check_cb cb,
                    void *arg, uint64_t *id)
{
	check_t *chk;
	int rc = check_new(ctx, req, timeout_ms, &chk);
	if (rc != CAA_EOK)
		return rc;
	sub_t *s = calloc(1, sizeof(*s));
	if (s == NULL) {
		check_free(chk);
		return CAA_ENOMEM;
	}
	if (!reserve_slot(ctx)) {
		free(s);
		check_free(chk);
		return CAA_EBUSY;
	}
	chk->cb = cb;
	chk->arg = arg;
	chk->id = atomic_fetch_add(&ctx->next_id, 1);
	if (id)
		*id = chk->id;
	s->chk = chk;
	submit(ctx, s);
	return CAA_EOK;
}

int caa_order_async(caa_ctx_t *ctx, const caa_request_t *reqs, size_t n, uint64_t timeout_ms,
                    caa_order_cb cb, void *arg, uint64_t *id, size_t *bad)
{
	if (n == 0)
		return CAA_EINVAL;
	order_t *o = calloc(1, sizeof(*o));
	sub_t *s = calloc(1, sizeof(*s));
	int rc = CAA_ENOMEM;
	if (o == NULL || s == NULL)
		goto fail;
	o->n = o->left = n;
	o->cb = cb;
	o->arg = arg;
	o->checks = calloc(n, sizeof(*o->checks));
	o->results = calloc(n, sizeof(*o->results));
	if (o->checks == NULL || o->results == NULL)
		goto fail;
	for (size_t i = 0; i < n; i++) {
		rc = check_new(ctx, &reqs[i], timeout_ms, &o->checks[i]);
		if (rc != CAA_EOK) {
			if (bad)
				*bad = i;
			goto fail;
		}
		o->checks[i]->order = o;
		o->checks[i]->order_idx = i;
	}
	o->boulder_types = o->checks[0]->pol->boulder_recheck_types;
	if (!reserve_slot(ctx)) {
		rc = CAA_EBUSY;
		goto fail;
	}
	o->id = atomic_fetch_add(&ctx->next_id, 1);
	for (size_t i = 0; i < n; i++)
		o->checks[i]->id = o->id;
	if (id)
		*id = o->id;
	s->order = o;
	submit(ctx, s);
	return CAA_EOK;
fail:
	if (o != NULL && o->checks != NULL)
		for (size_t i = 0; i < n; i++)
			check_free(o->checks[i]);
	if (o != NULL)
		order_free(o, false);
	free(s);
	return rc;
}

void caa_cancel(caa_ctx_t *ctx, uint64_t id)
{
	sub_t *s = calloc(1, sizeof(*s));
	if (s == NULL)
		return; /* the check will still end by its deadline */
	s->cancel_id = id;
	submit(ctx, s);
}

static void do_cancel(caa_ctx_t *ctx, uint64_t id)
{
	for (check_t *chk = ctx->active; chk != NULL; chk = chk->next)
		if (chk->id == id) {
			check_end(chk, CAA_ECANCELED, NULL); /* ends the whole order too */
			return;
		}
}

static void take_submissions(caa_ctx_t *ctx)
{
	pthread_mutex_lock(&ctx->lock);
	sub_t *s = ctx->subs;
	ctx->subs = NULL;
	ctx->subs_tail = &ctx->subs;
	pthread_mutex_unlock(&ctx->lock);
	while (s != NULL) {
		sub_t *next = s->next;
		if (s->chk != NULL) {
			check_start(ctx, s->chk);
		} else if (s->diag_lbl != NULL) {
			diag_done(s->diag_lbl, s->diag_res);
		} else if (s->order != NULL) {
			order_t *o = s->order;
			ctx->stats.orders++;
			/* Start all first so shared labels are joined, not repeated;
			 * a check may complete (and free o) inside check_start only
			 * once every other check of o has started. */
			for (size_t i = 0, n = o->n; i < n; i++) {
				check_t *chk = o->checks[i];
				if (chk != NULL)
					check_start(ctx, chk);
			}
		} else {
			do_cancel(ctx, s->cancel_id);
		}
		free(s);
		s = next;
	}
}

/* ---- the loop ---- */

/* What follows libunbound's callbacks: new submissions, then answered labels
 * (both may send queries, which must not happen inside those callbacks). */
static void after_round(caa_ctx_t *ctx)
{
	take_submissions(ctx);
	process_ready(ctx);
}

/* The eventfd: submissions (or a stop) are waiting. */
static void on_wakeup(evutil_socket_t fd, short what, void *arg)
{
	caa_ctx_t *ctx = arg;
	uint64_t v;
	(void)what;
	ssize_t r = read(fd, &v, sizeof(v));
	(void)r;
	after_round(ctx);
}

/* Labels are ready (on_answer): a callback of its own, outside libunbound's. */
static void on_after(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	after_round(arg);
}

/* caa_ctx_wait's max_ms ran out: it only ends the loop pass. */
static void on_wait(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	(void)arg;
}

/* One pass of the base: event_base_loop() is -1 on a backend error (or when
 * called from inside one of the base's callbacks: it does not nest). */
static int loop_pass(caa_ctx_t *ctx, int flags)
{
	int rc = event_base_loop(ctx->base, flags);
	after_round(ctx); /* normally done by the events already: then a no-op */
	return rc < 0 ? CAA_EIO : CAA_EOK;
}

int caa_ctx_process(caa_ctx_t *ctx)
{
	/* one round: NONBLOCK alone runs rounds while any event is active */
	return loop_pass(ctx, EVLOOP_NONBLOCK | EVLOOP_ONCE);
}

int caa_ctx_wait(caa_ctx_t *ctx, int max_ms)
{
	if (ctx->ready != NULL || max_ms == 0)
		return caa_ctx_process(ctx);
	if (max_ms > 0) {
		struct timeval tv = {.tv_sec = max_ms / 1000, .tv_usec = (max_ms % 1000) * 1000};
		if (evtimer_add(ctx->wait_ev, &tv) != 0)
			return CAA_ENOMEM;
	}
	/* EVLOOP_ONCE: block until an event is active, run what is active */
	int rc = loop_pass(ctx, EVLOOP_ONCE);
	(void)evtimer_del(ctx->wait_ev);
	return rc;
}

int caa_ctx_run(caa_ctx_t *ctx)
{
	while (!atomic_load(&ctx->stop)) {
		int rc = caa_ctx_wait(ctx, -1);
		if (rc != CAA_EOK && rc != CAA_EIO)
			return rc;
	}
	return CAA_EOK;
}

void caa_ctx_stop(caa_ctx_t *ctx)
{
	atomic_store(&ctx->stop, true);
	uint64_t one = 1;
	ssize_t w = write(ctx->evfd, &one, sizeof(one));
	(void)w;
}

struct event_base *caa_ctx_event_base(caa_ctx_t *ctx)
{
	return ctx->base;
}

size_t caa_ctx_in_flight(const caa_ctx_t *ctx)
{
	return atomic_load(&((caa_ctx_t *)ctx)->in_flight);
}

void caa_ctx_stats(const caa_ctx_t *ctx, caa_ctx_stats_t *out)
{
	*out = ctx->stats;
	out->outstanding = ctx->outstanding;
	out->waiting = ctx->waiting.n;
}

/* ---- context ---- */

/* The context on base (made here when base is NULL, then owned). */
static int ctx_new(const caa_config_t *cfg, struct event_base *base, caa_ctx_t **out, char *err,
                   size_t errlen)
{
	caa_ctx_t *ctx = calloc(1, sizeof(*ctx));
	int rc;
	*out = NULL;
	if (ctx == NULL)
		return CAA_ENOMEM;
	ctx->cfg = cfg;
	ctx->evfd = -1;
	ctx->subs_tail = &ctx->subs;
	ctx->ready_tail = &ctx->ready;
	ctx->rand_state = (unsigned)caa_now_us() | 1u;
	ctx->psl = caa_zone_psl(); /* loaded here, not inside a check */
	ctx->zmemo = caa_zone_memo_new(ctx->psl, ZONE_MEMO_MAX); /* NULL: asks libpsl */
	atomic_init(&ctx->in_flight, 0);
	atomic_init(&ctx->next_id, 1);
	atomic_init(&ctx->stop, false);
	pthread_mutex_init(&ctx->lock, NULL);
	ctx->labels = caa_hmap_new();
	ctx->zones = caa_hmap_new();
	ctx->own_base = base == NULL;
	ctx->base = base != NULL ? base : event_base_new();
	ctx->evfd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (ctx->base != NULL && ctx->evfd >= 0) {
		ctx->wake_ev =
		    event_new(ctx->base, ctx->evfd, EV_READ | EV_PERSIST, on_wakeup, ctx);
		ctx->after_ev = evtimer_new(ctx->base, on_after, ctx);
		ctx->wait_ev = evtimer_new(ctx->base, on_wait, NULL);
	}
	if (ctx->labels == NULL || ctx->zones == NULL || ctx->wake_ev == NULL ||
	    ctx->after_ev == NULL || ctx->wait_ev == NULL || event_add(ctx->wake_ev, NULL) != 0) {
		caa_set_err(err, errlen, "cannot set up the resolver loop: %s",
		            ctx->evfd < 0 ? strerror(errno) : "out of memory");
		caa_ctx_free(ctx);
		return CAA_ENOMEM;
	}
	/* libunbound on our base: no helper thread, no pipe. */
	ctx->ub = ub_ctx_create_event(ctx->base);
	if (ctx->ub == NULL) {
		caa_set_err(err, errlen, "cannot create the resolver context");
		caa_ctx_free(ctx);
		return CAA_ENOMEM;
	}
	/* QNAME minimisation off: it would add an A query per label to the
	 * servers the climb already asks (docs/failures.md 1). */
	if ((rc = caa_ubconf_apply(ctx->ub, cfg, err, errlen)) != CAA_EOK) {
		caa_ctx_free(ctx);
		return rc;
	}
	if ((rc = caa_ubconf_validation(ctx->ub, &ctx->val)) != CAA_EOK) {
		caa_set_err(err, errlen, "cannot read the resolver's DNSSEC settings: %s",
		            caa_strerror(rc));
		caa_ctx_free(ctx);
		return rc;
	}
	*out = ctx;
	return CAA_EOK;
}

int caa_ctx_new(const caa_config_t *cfg, caa_ctx_t **out, char *err, size_t errlen)
{
	return ctx_new(cfg, NULL, out, err, errlen);
}

int caa_ctx_new_event(const caa_config_t *cfg, struct event_base *base, caa_ctx_t **out, char *err,
                      size_t errlen)
{
	*out = NULL;
	if (base == NULL) {
		caa_set_err(err, errlen, "no event base");
		return CAA_EINVAL;
	}
	return ctx_new(cfg, base, out, err, errlen);
}

void caa_ctx_free(caa_ctx_t *ctx)
{
	if (ctx == NULL)
		return;
	/* Pending diagnoses come back (empty) as submissions; then
	 * submissions never started end, then running checks. */
	caa_diag_free(ctx->diag);
	ctx->diag = NULL;
	if (ctx->labels != NULL && ctx->ub != NULL) {
		take_submissions(ctx); /* starts them; they end below */
		/* check_end unlinks it from ctx->active: the analyzer cannot know */
		while (ctx->active != NULL)
			// NOLINTNEXTLINE(clang-analyzer-unix.Malloc)
			check_end(ctx->active, CAA_ESHUTDOWN, NULL);
		process_ready(ctx); /* answered labels nobody wants any more */
	}
	/* proofs end (not proven) and let go of their labels; their DS
	 * queries are cancelled, so ub_ctx_delete() calls none of them back */
	caa_prover_free(ctx->prover);
	ctx->prover = NULL;
	/* Queries still running are called back now (never cancelled): their
	 * labels are freed, nothing more is sent. */
	ctx->closing = true;
	if (ctx->ub != NULL) {
		ub_ctx_delete(ctx->ub); /* frees its events */
		process_ready(ctx);
	}
	caa_hmap_free(ctx->labels);
	caa_hmap_free(ctx->zones);
	caa_zone_memo_free(ctx->zmemo);
	caa_ubconf_val_deinit(&ctx->val);
	pthread_mutex_destroy(&ctx->lock);
	/* after ub_ctx_delete (which frees libunbound's events, never the base)
	 * and after every label, check and proof let go of its timer */
	if (ctx->wake_ev != NULL)
		event_free(ctx->wake_ev);
	if (ctx->after_ev != NULL)
		event_free(ctx->after_ev);
	if (ctx->wait_ev != NULL)
		event_free(ctx->wait_ev);
	if (ctx->own_base && ctx->base != NULL)
		event_base_free(ctx->base);
	if (ctx->evfd >= 0)
		close(ctx->evfd);
	free(ctx);
}

/* ---- synchronous wrappers ---- */

typedef struct sync_state {
	bool done;
	int rc;
	caa_result_t *res;
	caa_result_t **results;
	size_t n;
	caa_problem_t *agg;
} sync_state_t;

static void sync_check_cb(void *arg, int rc, caa_result_t *res)
{
	sync_state_t *s = arg;
	s->done = true;
	s->rc = rc;
	s->res = res;
}

static void sync_order_cb(void *arg, int rc, caa_result_t **results, size_t n, caa_problem_t *agg)
{
	sync_state_t *s = arg;
	s->done = true;
	s->rc = rc;
	s->results = results;
	s->n = n;
	s->agg = agg;
}

int caa_check(caa_ctx_t *ctx, const caa_request_t *req, caa_result_t **out)
{
	sync_state_t s = {0};
	*out = NULL;
	int rc = caa_check_async(ctx, req, 0, sync_check_cb, &s, NULL);
	if (rc != CAA_EOK)
		return rc;
	while (!s.done)
		caa_ctx_wait(ctx, -1);
	*out = s.res;
	return s.rc;
}

int caa_order(caa_ctx_t *ctx, const caa_request_t *reqs, size_t n, caa_result_t ***results,
              caa_problem_t **aggregate, size_t *bad)
{
	sync_state_t s = {0};
	*results = NULL;
	*aggregate = NULL;
	int rc = caa_order_async(ctx, reqs, n, 0, sync_order_cb, &s, NULL, bad);
	if (rc != CAA_EOK)
		return rc;
	while (!s.done)
		caa_ctx_wait(ctx, -1);
	*results = s.results;
	*aggregate = s.agg;
	return s.rc;
}
