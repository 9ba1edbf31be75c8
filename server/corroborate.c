/*
 * corroborate.c — asking the remotes and deciding each result's quorum
 * (corroborate.h).
 *
 * One corr_t per job, malloc'ed (not in the call's arena): calls cancelled
 * once a quorum is certain may come back after the job has been answered.
 * It holds a reference for the job and one per call in flight; the last one
 * frees it. Locks: the call's lock (its cancel hook runs under it) is taken
 * before corr_t's, never after: the job is handed back with neither held.
 */
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "corroborate.h"
#include "remote.h"
#include "schedule.h"
#include "util.h"

typedef struct corr corr_t;

/* One remote's call for one result. */
typedef struct slot {
	corr_t *c;
	size_t item, remote;
	caad_ask_t *ask; /* in flight */
	caa_mpic_state_t state;
	char *error, *name, *rir; /* owned copies of what the remote said */
	caa_problem_t *problem;
	uint64_t timeout_ms;
	uint32_t elapsed_us;
} slot_t;

/* One result to corroborate. */
typedef struct item {
	size_t idx; /* into job->results */
	caad_question_t q;
	bool decided;
	slot_t *slots; /* one per remote */
} item_t;

struct corr {
	pthread_mutex_t lock;
	size_t refs;     /* the job's, and one per call in flight */
	caad_job_t *job; /* NULL once handed back */
	caad_t *d;
	size_t n_remotes, n_items, open; /* open: items not decided yet */
	item_t *items;
	caa_mpic_remote_t *remotes;
	size_t *next, *busy; /* per remote: the next item to ask, calls in flight */
	int64_t deadline_ms; /* monotonic; -1: only remote_timeout bounds a call */
	int64_t start_us;    /* monotonic: the corroboration's share of elapsed */
	bool cancelled;      /* by the client: ask nobody more */
	bool failed;         /* some quorum failed: rebuild the order's aggregate */
	bool nomem;          /* a result lacks its problem: the call fails (ENOMEM) */
};

static void corr_free(corr_t *c)
{
	for (size_t i = 0; c->items && i < c->n_items; i++) {
		for (size_t r = 0; c->items[i].slots && r < c->n_remotes; r++) {
			slot_t *s = &c->items[i].slots[r];
			free(s->error);
			free(s->name);
			free(s->rir);
			caa_problem_free(s->problem);
		}
		free(c->items[i].slots);
	}
	free(c->items);
	free(c->remotes);
	free(c->next);
	free(c->busy);
	pthread_mutex_destroy(&c->lock);
	free(c);
}

/* Drop one reference (c->lock not held). */
static void corr_unref(corr_t *c)
{
	pthread_mutex_lock(&c->lock);
	bool last = --c->refs == 0;
	pthread_mutex_unlock(&c->lock);
	if (last)
		corr_free(c);
}

/* Result i failed corroboration with p (owned; NULL: out of memory). A
 * result without its problem must never reach a client (DoCAA says
 * "permitted" by leaving the problem out): then the whole call fails. */
static void fail_result(corr_t *c, caa_result_t *res, caa_problem_t *p)
{
	caa_problem_free(res->problem);
	res->problem = p;
	res->verdict = caa_mpic_verdict(p);
	res->reason = p != NULL ? CAA_R_NOT_CORROBORATED : CAA_R_INTERNAL;
	c->failed = true;
	c->nomem |= p == NULL;
}

/* Item it is decided by q (NULL: a failure before anybody was asked, problem p). */
static void decide(corr_t *c, item_t *it, caa_mpic_quorum_t *q, caa_problem_t *p)
{
	caa_result_t *res = c->job->results[it->idx];
	it->decided = true;
	c->open--;
	/* the check's time includes the remotes' */
	int64_t total = (int64_t)res->elapsed_us + ((int64_t)caa_now_us() - c->start_us);
	res->elapsed_us = total > UINT32_MAX ? UINT32_MAX : (uint32_t)total;
	if (q == NULL) {
		fail_result(c, res, p);
		return;
	}
	caad_metrics_quorum(c->d->metrics, q->ok);
	res->perspectives = calloc(c->n_remotes, sizeof(*res->perspectives));
	bool nomem = res->perspectives == NULL;
	for (size_t r = 0; !nomem && r < c->n_remotes; r++) {
		const slot_t *s = &it->slots[r];
		caa_mpic_outcome_t o = {.state = s->state,
		                        .problem = s->problem,
		                        .error = s->error,
		                        .timeout_ms = s->timeout_ms,
		                        .name = s->name,
		                        .rir = s->rir};
		nomem = caa_perspective_set(&res->perspectives[r], &c->remotes[r], &o,
		                            res->identifier, s->elapsed_us) != CAA_EOK;
		res->n_perspectives += !nomem;
	}
	if (nomem) {
		fail_result(c, res, NULL);
	} else if (!q->ok) {
		fail_result(c, res, q->problem);
		q->problem = NULL;
	}
	/* the outcome is certain: the rest need not answer */
	for (size_t r = 0; r < c->n_remotes; r++)
		if (it->slots[r].ask != NULL)
			caad_ask_cancel(it->slots[r].ask);
}

/* Decide item it if its quorum is certain now. */
static void evaluate(corr_t *c, item_t *it)
{
	caa_mpic_outcome_t o[c->n_remotes];
	for (size_t r = 0; r < c->n_remotes; r++) {
		const slot_t *s = &it->slots[r];
		o[r] = (caa_mpic_outcome_t){.state = s->state,
		                            .problem = s->problem,
		                            .error = s->error,
		                            .timeout_ms = s->timeout_ms,
		                            .name = s->name,
		                            .rir = s->rir};
	}
	caa_mpic_quorum_t q;
	const char *ident = c->job->results[it->idx]->identifier;
	if (caa_mpic_quorum(c->remotes, o, c->n_remotes, ident, &q) != CAA_EOK) {
		decide(c, it, NULL, NULL); /* out of memory: fails closed */
	} else if (q.decided) {
		decide(c, it, &q, NULL);
	}
	caa_mpic_quorum_deinit(&q);
}

/* A slot that ended without an answer: state with error text. */
static void slot_end(corr_t *c, slot_t *s, caa_mpic_state_t state, const char *error)
{
	s->state = state;
	if (error != NULL && (s->error = strdup(error)) == NULL)
		s->error = NULL; /* the text is lost, the non-corroboration is not */
	/* the metrics count the remotes caad started with, by name */
	caad_metrics_perspective(
	    c->d->metrics, caad_metrics_remote_index(c->d->metrics, c->remotes[s->remote].name),
	    state, s->elapsed_us);
	evaluate(c, &c->items[s->item]);
}

static void on_answer(void *arg, const caad_answer_t *ans);

/* Start remote r's next calls, up to CAAD_CORR_PER_REMOTE in flight. */
static void pump(corr_t *c, size_t r)
{
	while (c->busy[r] < CAAD_CORR_PER_REMOTE && c->next[r] < c->n_items) {
		item_t *it = &c->items[c->next[r]++];
		if (it->decided)
			continue;
		slot_t *s = &it->slots[r];
		uint64_t timeout = c->d->cfg->perspective.remote_timeout_ms;
		if (c->deadline_ms >= 0) {
			int64_t left = c->deadline_ms - (int64_t)(caa_now_us() / 1000u);
			if (left < (int64_t)timeout)
				timeout = left > 0 ? (uint64_t)left : 0;
		}
		s->timeout_ms = timeout;
		if (c->cancelled) {
			slot_end(c, s, CAA_MPIC_UNREACHABLE, "CANCELLED: the call was cancelled");
			continue;
		}
		if (timeout == 0) {
			slot_end(c, s, CAA_MPIC_TIMEOUT, NULL);
			continue;
		}
		s->ask = caad_remotes_ask(c->d->remotes, r, &it->q, timeout, on_answer, s);
		if (s->ask == NULL) {
			slot_end(
			    c, s, CAA_MPIC_UNREACHABLE,
			    "INTERNAL: the call could not start (out of memory or shutting down)");
			continue;
		}
		c->refs++;
		c->busy[r]++;
	}
}

/* With c->lock held: when every item is decided, take the job back (NULL
 * while some are open, or after it was taken). */
static caad_job_t *take_job(corr_t *c)
{
	if (c->open > 0 || c->job == NULL)
		return NULL;
	caad_job_t *job = c->job;
	c->job = NULL;
	return job;
}

static void noop_cancel(void *arg, uint64_t id)
{
	(void)arg;
	(void)id;
}

/* Every item decided: the job goes on (neither lock held). */
static void hand_back(corr_t *c, caad_job_t *job)
{
	/* from now on the client's cancel has nothing to reach */
	caad_call_hold_next(job->call, noop_cancel, NULL, 0);
	int rc = c->cancelled ? CAA_ECANCELED : c->nomem ? CAA_ENOMEM : CAA_EOK;
	bool failed = c->failed;
	corr_unref(c);
	if (failed && rc == CAA_EOK && job->order && caad_job_aggregate(job) != CAA_EOK)
		rc = CAA_ENOMEM;
	caad_job_resume(job, rc);
}

static void on_answer(void *arg, const caad_answer_t *ans)
{
	slot_t *s = arg;
	corr_t *c = s->c;
	pthread_mutex_lock(&c->lock);
	s->ask = NULL;
	c->busy[s->remote]--;
	c->refs--; /* the job's reference keeps c alive while it is held */
	caad_job_t *job = NULL;
	if (c->job != NULL && !c->items[s->item].decided) {
		s->elapsed_us = ans->elapsed_us;
		if (ans->status == GRPC_STATUS_OK) {
			caa_mpic_outcome_t o;
			caa_mpic_classify(&c->remotes[s->remote], ans->perspective, ans->rir,
			                  ans->problem, &o);
			s->name = strdup(ans->perspective ? ans->perspective : "");
			s->rir = strdup(ans->rir ? ans->rir : "");
			if (o.state == CAA_MPIC_PROBLEM &&
			    (s->problem = calloc(1, sizeof(*s->problem))) &&
			    caa_problem_copy(s->problem, ans->problem) != CAA_EOK) {
				free(s->problem);
				s->problem = NULL;
			}
			if (s->name == NULL || s->rir == NULL ||
			    (o.state == CAA_MPIC_PROBLEM && s->problem == NULL))
				slot_end(c, s, CAA_MPIC_UNREACHABLE, NULL); /* out of memory */
			else
				slot_end(c, s, o.state, NULL);
		} else {
			slot_end(c, s, ans->timed_out ? CAA_MPIC_TIMEOUT : CAA_MPIC_UNREACHABLE,
			         ans->error);
		}
	}
	if (c->job != NULL)
		pump(c, s->remote);
	job = take_job(c);
	bool last = c->refs == 0;
	pthread_mutex_unlock(&c->lock);
	if (job != NULL)
		hand_back(c, job);
	else if (last)
		corr_free(c);
}

/* The client cancelled (under the call's lock): stop the calls in flight;
 * their answers come back CANCELLED and decide the rest. */
static void on_cancel(void *arg, uint64_t id)
{
	corr_t *c = arg;
	(void)id;
	pthread_mutex_lock(&c->lock);
	if (c->job != NULL) {
		c->cancelled = true;
		for (size_t i = 0; i < c->n_items; i++) {
			item_t *it = &c->items[i];
			if (it->decided)
				continue;
			for (size_t r = 0; r < c->n_remotes; r++)
				if (it->slots[r].ask != NULL)
					caad_ask_cancel(it->slots[r].ask);
			/* the remotes did nothing wrong: no outcome, no metric; an open
			 * item keeps an ask in flight, whose answer hands the job back */
			decide(c, it, NULL,
			       caa_problem_new(
			           CAA_PROB_SERVER_INTERNAL, c->job->results[it->idx]->identifier,
			           "During secondary validation: the call was cancelled "
			           "before the quorum was decided"));
		}
	}
	pthread_mutex_unlock(&c->lock);
}

/* The problem that keeps the request from the remotes; NULL when none (or out of memory). */
static caa_problem_t *why_unaskable(corr_t *c, const caa_request_t *req, const caa_result_t *res,
                                    caad_question_t *q)
{
	const caa_policy_t *pol = caa_config_policy(c->d->cfg, "");
	if (req->policy != NULL && req->policy[0] != '\0') /* DoCAA carries no profile */
		return caa_problem_new(
		    CAA_PROB_SERVER_INTERNAL, res->identifier,
		    "During secondary validation: profile \"%s\" cannot be sent "
		    "to the remote perspectives, which decide under their default "
		    "policy (DoCAA carries no profile)",
		    req->policy);
	if (q->account_id == 0 && pol != NULL &&
	    caa_mpic_account_id(pol, req->account_uri, &q->account_id) != CAA_EOK)
		return caa_problem_new(CAA_PROB_SERVER_INTERNAL, res->identifier,
		                       "During secondary validation: account_uri matches no "
		                       "account_uri_prefixes entry, so the remote perspectives "
		                       "cannot be sent its accountURIID");
	if (q->account_id == 0)
		return caa_problem_new(CAA_PROB_SERVER_INTERNAL, res->identifier,
		                       "During secondary validation: the request names no account, "
		                       "and the remote perspectives need its accountURIID");
	if (q->method == NULL || q->method[0] == '\0')
		return caa_problem_new(CAA_PROB_SERVER_INTERNAL, res->identifier,
		                       "During secondary validation: the request names no "
		                       "validation method, and the remote perspectives need it");
	return NULL;
}

/* Whether result i cannot be asked of the remotes at all, with why in *why
 * (NULL when out of memory); fills the question when it can. */
static bool unaskable(corr_t *c, const caa_request_t *req, const caa_result_t *res,
                      caad_question_t *q, caa_problem_t **why)
{
	q->identifier = res->identifier;
	q->method = req->method;
	q->authz_id = c->job->authz_id;
	q->account_id = req->account_id;
	*why = why_unaskable(c, req, res, q);
	/* no problem for an unaskable request: out of memory, still unaskable */
	return *why != NULL || (req->policy != NULL && req->policy[0] != '\0') ||
	       q->account_id == 0 || q->method == NULL || q->method[0] == '\0';
}

static bool askable(const caa_result_t *res)
{
	return res != NULL && !res->reused && res->verdict == CAA_PERMITTED &&
	       res->reason != CAA_R_NOT_APPLICABLE;
}

bool caad_corr_needed(const caad_job_t *job)
{
	if (job->d->remotes == NULL || job->rc != CAA_EOK)
		return false;
	for (size_t i = 0; i < job->n; i++)
		if (askable(job->results[i]))
			return true;
	return false;
}

static corr_t *corr_new(caad_job_t *job)
{
	const caa_config_t *cfg = job->d->cfg;
	size_t n = cfg->perspective.n_remotes, k = 0;
	for (size_t i = 0; i < job->n; i++)
		k += askable(job->results[i]);
	corr_t *c = calloc(1, sizeof(*c));
	if (c == NULL)
		return NULL;
	pthread_mutex_init(&c->lock, NULL);
	c->job = job;
	c->d = job->d;
	c->n_remotes = n;
	c->refs = 1;
	c->items = calloc(k, sizeof(*c->items));
	c->remotes = calloc(n, sizeof(*c->remotes));
	c->next = calloc(n, sizeof(*c->next));
	c->busy = calloc(n, sizeof(*c->busy));
	if (!c->items || !c->remotes || !c->next || !c->busy) {
		corr_free(c);
		return NULL;
	}
	for (size_t r = 0; r < n; r++)
		c->remotes[r] = (caa_mpic_remote_t){.name = cfg->perspective.remotes[r].name,
		                                    .rir = cfg->perspective.remotes[r].rir};
	for (size_t i = 0; i < job->n; i++) {
		if (!askable(job->results[i]))
			continue;
		item_t *it = &c->items[c->n_items++];
		it->idx = i;
		if ((it->slots = calloc(n, sizeof(*it->slots))) == NULL) {
			corr_free(c);
			return NULL;
		}
		for (size_t r = 0; r < n; r++)
			it->slots[r] = (slot_t){.c = c, .item = c->n_items - 1, .remote = r};
	}
	c->open = c->n_items;
	return c;
}

void caad_corr_start(caad_job_t *job)
{
	corr_t *c = corr_new(job);
	if (c == NULL) {
		for (size_t i = 0; i < job->n; i++)
			if (askable(job->results[i])) {
				caa_result_t *res = job->results[i];
				caa_problem_free(res->problem);
				res->problem = NULL;
				res->verdict = CAA_LOOKUP_FAILED;
				res->reason = CAA_R_INTERNAL;
			}
		caad_job_resume(job, CAA_ENOMEM);
		return;
	}
	c->start_us = (int64_t)caa_now_us();
	int64_t left = caad_job_time_left_ms(job);
	c->deadline_ms = left < 0 ? -1 : (int64_t)(caa_now_us() / 1000u) + left;
	/* the client's cancel reaches the calls from now on (at once if it came already) */
	caad_call_hold_next(job->call, on_cancel, c, 0);

	pthread_mutex_lock(&c->lock);
	caa_problem_t *sched = NULL;
	int rc = caad_schedule_check(c->d->cfg, &sched);
	for (size_t i = 0; i < c->n_items; i++) {
		item_t *it = &c->items[i];
		caa_problem_t *p = NULL;
		if (rc != CAA_EOK || sched != NULL) { /* the BR minimum is not met: ask nobody */
			if (sched != NULL)
				p = caa_problem_new(sched->type, job->results[it->idx]->identifier,
				                    "%s", sched->detail);
			decide(c, it, NULL, p); /* p NULL: out of memory, the call fails */
		} else if (unaskable(c, &job->reqs[it->idx], job->results[it->idx], &it->q, &p)) {
			decide(c, it, NULL, p);
		}
	}
	caa_problem_free(sched);
	for (size_t r = 0; r < c->n_remotes; r++)
		pump(c, r);
	caad_job_t *back = take_job(c);
	pthread_mutex_unlock(&c->lock);
	if (back != NULL)
		hand_back(c, back);
}
