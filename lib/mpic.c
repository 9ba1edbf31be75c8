/* mpic.c — the BR schedule, the quorum and the accountURIID of docs/semantics.md §9. */
#include "mpic.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "codes.h"

#define PREFIX "During secondary validation: "

/* BR §3.2.2.9, UTC midnights (date -u -d 2025-03-15 +%s). */
static const caa_mpic_step_t br_steps[] = {
    {1741996800, 2, "2025-03-15"},
    {1773532800, 3, "2026-03-15"},
    {1781481600, 4, "2026-06-15"},
    {1797292800, 5, "2026-12-15"},
};
#define N_STEPS (sizeof(br_steps) / sizeof(br_steps[0]))

/* The step in force at now, NULL before the first. */
static const caa_mpic_step_t *step_in_force(int64_t now)
{
	const caa_mpic_step_t *in = NULL;
	for (size_t i = 0; i < N_STEPS && br_steps[i].from_unix_s <= now; i++)
		in = &br_steps[i];
	return in;
}

unsigned caa_mpic_min_remotes_br(int64_t now_unix_s)
{
	const caa_mpic_step_t *s = step_in_force(now_unix_s);
	return s == NULL ? 0 : s->min_remotes;
}

bool caa_mpic_next_rise_br(int64_t now_unix_s, caa_mpic_step_t *out)
{
	for (size_t i = 0; i < N_STEPS; i++) {
		if (br_steps[i].from_unix_s > now_unix_s) {
			if (out != NULL)
				*out = br_steps[i];
			return true;
		}
	}
	return false;
}

bool caa_mpic_warn_br(size_t n_remotes, int64_t now_unix_s, caa_mpic_step_t *out)
{
	for (size_t i = 0; i < N_STEPS; i++) {
		const caa_mpic_step_t *s = &br_steps[i];
		if (s->from_unix_s <= now_unix_s || s->min_remotes <= n_remotes)
			continue;
		/* The first future step above what is listed; later ones are further away. */
		if (s->from_unix_s - now_unix_s > CAA_MPIC_WARN_AHEAD_S)
			return false;
		if (out != NULL)
			*out = *s;
		return true;
	}
	return false;
}

int caa_mpic_schedule_check(size_t n_remotes, int64_t now_unix_s, caa_problem_t **out)
{
	if (out == NULL)
		return CAA_EINVAL;
	*out = NULL;
	const caa_mpic_step_t *s = step_in_force(now_unix_s);
	if (s == NULL || n_remotes >= s->min_remotes)
		return CAA_EOK;
	*out = caa_problem_new(CAA_PROB_SERVER_INTERNAL, NULL,
	                       PREFIX "%zu remote perspectives configured, the Baseline "
	                              "Requirements require %u from %s",
	                       n_remotes, s->min_remotes, s->date);
	return *out == NULL ? CAA_ENOMEM : CAA_EOK;
}

/* ---- the quorum ---- */

static bool str_eq(const char *a, const char *b)
{
	return strcmp(a != NULL ? a : "", b != NULL ? b : "") == 0;
}

void caa_mpic_classify(const caa_mpic_remote_t *r, const char *reported_name,
                       const char *reported_rir, const caa_problem_t *problem,
                       caa_mpic_outcome_t *out)
{
	memset(out, 0, sizeof(*out));
	if (!str_eq(r->name, reported_name) || !str_eq(r->rir, reported_rir)) {
		out->state = CAA_MPIC_MISMATCH;
		out->name = reported_name;
		out->rir = reported_rir;
	} else if (problem != NULL) {
		out->state = CAA_MPIC_PROBLEM;
		out->problem = problem;
	} else {
		out->state = CAA_MPIC_CORROBORATED;
	}
}

size_t caa_mpic_allowed_failures(size_t n)
{
	return n < 2 ? 0 : n <= 5 ? 1 : 2;
}

caa_verdict_t caa_mpic_verdict(const caa_problem_t *p)
{
	return p != NULL && p->type == CAA_PROB_CAA ? CAA_FORBIDDEN : CAA_LOOKUP_FAILED;
}

static void quorum_closed(caa_mpic_quorum_t *q)
{
	q->decided = false;
	q->ok = false;
	q->reported = SIZE_MAX;
	q->verdict = CAA_LOOKUP_FAILED;
	q->problem = NULL;
}

void caa_mpic_quorum_deinit(caa_mpic_quorum_t *q)
{
	if (q == NULL)
		return;
	caa_problem_free(q->problem);
	quorum_closed(q);
}

static const char *or_empty(const char *s)
{
	return s != NULL ? s : "";
}

/* A "name (RIR)" for the mismatch text; an empty RIR shows as "no RIR". */
#define RIR_SHOWN(r) ((r) != NULL && (r)[0] != '\0' ? (r) : "no RIR")

/* The problem remote i contributes (docs/semantics.md §9), NULL on allocation failure. */
static caa_problem_t *remote_problem(const caa_mpic_remote_t *r, const caa_mpic_outcome_t *o,
                                     const char *identifier)
{
	const char *name = or_empty(r->name);
	switch (o->state) {
	case CAA_MPIC_PROBLEM: {
		caa_problem_t *p = calloc(1, sizeof(*p));
		if (p == NULL)
			return NULL;
		if (caa_problem_copy(p, o->problem) != CAA_EOK) {
			free(p);
			return NULL;
		}
		const char *d = or_empty(o->problem->detail);
		size_t len = strlen(PREFIX) + strlen(d) + 1;
		char *detail = malloc(len);
		if (detail == NULL || (p->identifier == NULL && identifier != NULL &&
		                       (p->identifier = strdup(identifier)) == NULL)) {
			free(detail);
			caa_problem_free(p);
			return NULL;
		}
		snprintf(detail, len, "%s%s", PREFIX, d);
		free(p->detail);
		p->detail = detail;
		return p;
	}
	case CAA_MPIC_UNREACHABLE:
		return caa_problem_new(CAA_PROB_SERVER_INTERNAL, identifier,
		                       PREFIX "remote perspective %s unreachable: %s", name,
		                       or_empty(o->error));
	case CAA_MPIC_TIMEOUT:
		if (o->timeout_ms % 1000 == 0)
			return caa_problem_new(CAA_PROB_SERVER_INTERNAL, identifier,
			                       PREFIX "remote perspective %s did not answer within "
			                              "%llus",
			                       name, (unsigned long long)(o->timeout_ms / 1000));
		return caa_problem_new(CAA_PROB_SERVER_INTERNAL, identifier,
		                       PREFIX "remote perspective %s did not answer within %llums",
		                       name, (unsigned long long)o->timeout_ms);
	case CAA_MPIC_MISMATCH:
		return caa_problem_new(CAA_PROB_SERVER_INTERNAL, identifier,
		                       PREFIX "remote perspective %s reported %s (%s), expected %s "
		                              "(%s)",
		                       name, or_empty(o->name), RIR_SHOWN(o->rir), name,
		                       RIR_SHOWN(r->rir));
	default: return NULL;
	}
}

const char *caa_mpic_state_name(caa_mpic_state_t s)
{
	switch (s) {
	case CAA_MPIC_PENDING: return "NOT_NEEDED";
	case CAA_MPIC_CORROBORATED: return "CORROBORATED";
	case CAA_MPIC_PROBLEM: return "PROBLEM";
	case CAA_MPIC_UNREACHABLE: return "UNREACHABLE";
	case CAA_MPIC_TIMEOUT: return "TIMEOUT";
	case CAA_MPIC_MISMATCH: return "MISMATCH";
	}
	return "UNKNOWN";
}

int caa_perspective_set(caa_perspective_t *p, const caa_mpic_remote_t *r,
                        const caa_mpic_outcome_t *o, const char *identifier, uint32_t elapsed_us)
{
	memset(p, 0, sizeof(*p));
	p->state = o->state;
	p->elapsed_us = elapsed_us;
	p->name = strdup(or_empty(r->name));
	p->rir = strdup(or_empty(r->rir));
	if (p->name == NULL || p->rir == NULL)
		goto nomem;
	if (o->state == CAA_MPIC_CORROBORATED) {
		p->verdict = CAA_PERMITTED;
	} else if (o->state != CAA_MPIC_PENDING) {
		if ((p->problem = remote_problem(r, o, identifier)) == NULL)
			goto nomem;
		/* a remote's own problem keeps its verdict; no answer is a failed lookup */
		p->verdict =
		    o->state == CAA_MPIC_PROBLEM ? caa_mpic_verdict(o->problem) : CAA_LOOKUP_FAILED;
	}
	return CAA_EOK;
nomem:
	caa_perspective_deinit(p);
	return CAA_ENOMEM;
}

void caa_perspective_deinit(caa_perspective_t *p)
{
	free(p->name);
	free(p->rir);
	caa_problem_free(p->problem);
	memset(p, 0, sizeof(*p));
}

size_t caa_perspectives_passed(const caa_perspective_t *p, size_t n)
{
	size_t passed = 0;
	for (size_t i = 0; i < n; i++)
		passed += p[i].state == CAA_MPIC_CORROBORATED;
	return passed;
}

/* Distinct RIRs of the remotes in the given states, counted up to 2. */
static size_t rirs_span(const caa_mpic_remote_t *remotes, const caa_mpic_outcome_t *outcomes,
                        size_t n, bool with_pending)
{
	const char *first = NULL;
	for (size_t i = 0; i < n; i++) {
		caa_mpic_state_t st = outcomes[i].state;
		if (st != CAA_MPIC_CORROBORATED && !(with_pending && st == CAA_MPIC_PENDING))
			continue;
		const char *rir = or_empty(remotes[i].rir);
		if (first == NULL)
			first = rir;
		else if (strcmp(first, rir) != 0)
			return 2;
	}
	return first == NULL ? 0 : 1;
}

/* "serverInternal: ... span fewer than 2 RIRs (ARIN, RIPE)": the corroborating remotes' RIRs,
 * each once, in configured order. */
static caa_problem_t *rir_problem(const caa_mpic_remote_t *remotes,
                                  const caa_mpic_outcome_t *outcomes, size_t n,
                                  const char *identifier)
{
	size_t cap = 1;
	for (size_t i = 0; i < n; i++)
		cap += strlen(or_empty(remotes[i].rir)) + 2;
	char *list = malloc(cap);
	if (list == NULL)
		return NULL;
	size_t len = 0;
	list[0] = '\0';
	for (size_t i = 0; i < n; i++) {
		if (outcomes[i].state != CAA_MPIC_CORROBORATED)
			continue;
		const char *rir = or_empty(remotes[i].rir);
		bool seen = false;
		for (size_t j = 0; j < i && !seen; j++)
			seen = outcomes[j].state == CAA_MPIC_CORROBORATED &&
			       strcmp(or_empty(remotes[j].rir), rir) == 0;
		if (seen)
			continue;
		if (len > 0) {
			memcpy(list + len, ", ", 2);
			len += 2;
		}
		memcpy(list + len, rir, strlen(rir) + 1);
		len += strlen(rir);
	}
	caa_problem_t *p = caa_problem_new(CAA_PROB_SERVER_INTERNAL, identifier,
	                                   PREFIX "corroborating perspectives span fewer than 2 "
	                                          "RIRs (%s)",
	                                   list);
	free(list);
	return p;
}

int caa_mpic_quorum(const caa_mpic_remote_t *remotes, const caa_mpic_outcome_t *outcomes, size_t n,
                    const char *identifier, caa_mpic_quorum_t *out)
{
	if (out == NULL)
		return CAA_EINVAL;
	memset(out, 0, sizeof(*out));
	quorum_closed(out);
	if (remotes == NULL || outcomes == NULL || n == 0)
		return CAA_EINVAL;

	size_t first_failure = SIZE_MAX;
	bool pending_before_failure = false;
	for (size_t i = 0; i < n; i++) {
		switch (outcomes[i].state) {
		case CAA_MPIC_PENDING:
			out->pending++;
			if (first_failure == SIZE_MAX)
				pending_before_failure = true;
			break;
		case CAA_MPIC_CORROBORATED: out->passed++; break;
		case CAA_MPIC_PROBLEM:
			if (outcomes[i].problem == NULL)
				return CAA_EINVAL;
			/* fallthrough */
		case CAA_MPIC_UNREACHABLE:
		case CAA_MPIC_TIMEOUT:
		case CAA_MPIC_MISMATCH:
			out->failed++;
			if (first_failure == SIZE_MAX)
				first_failure = i;
			break;
		default: return CAA_EINVAL;
		}
	}
	out->total = n;

	size_t allowed = caa_mpic_allowed_failures(n);
	/* Certain pass: pending remotes can only add failures, and too few to matter. */
	if (out->passed >= n - allowed && rirs_span(remotes, outcomes, n, false) >= 2) {
		out->decided = true;
		out->ok = true;
		out->verdict = CAA_PERMITTED;
		return CAA_EOK;
	}
	/* Can the pending remotes still make it hold? Then wait for them. */
	bool can_pass = out->failed <= allowed && rirs_span(remotes, outcomes, n, true) >= 2;
	if (can_pass && out->pending > 0)
		return CAA_EOK;
	/* It fails (or nothing is pending and it did not pass). The problem is the first failing
	 * remote's in configured order: known only once nobody before it is pending. */
	if (first_failure != SIZE_MAX) {
		if (pending_before_failure)
			return CAA_EOK;
		out->problem =
		    remote_problem(&remotes[first_failure], &outcomes[first_failure], identifier);
		out->reported = first_failure;
	} else {
		/* No failing remote: a pending one may yet fail and be reported instead. */
		if (out->pending > 0)
			return CAA_EOK;
		out->problem = rir_problem(remotes, outcomes, n, identifier);
	}
	if (out->problem == NULL) {
		quorum_closed(out);
		return CAA_ENOMEM;
	}
	out->decided = true;
	out->verdict = caa_mpic_verdict(out->problem);
	return CAA_EOK;
}

/* ---- the account ---- */

int caa_mpic_account_id(const caa_policy_t *pol, const char *account_uri, int64_t *id)
{
	if (id == NULL)
		return CAA_EINVAL;
	*id = 0;
	if (account_uri == NULL || account_uri[0] == '\0')
		return CAA_EOK;
	for (size_t i = 0; pol != NULL && i < pol->n_account_uri_prefixes; i++) {
		const char *prefix = pol->account_uri_prefixes[i];
		size_t plen = strlen(prefix);
		if (strncmp(account_uri, prefix, plen) != 0)
			continue;
		/* config.c keeps the prefixes disjoint: the first match is the only one. */
		const char *d = account_uri + plen;
		if (d[0] < '1' || d[0] > '9')
			return CAA_EACCOUNT_PREFIX;
		uint64_t v = 0;
		for (; *d != '\0'; d++) {
			if (*d < '0' || *d > '9')
				return CAA_EACCOUNT_PREFIX;
			uint64_t digit = (uint64_t)(*d - '0');
			if (v > ((uint64_t)INT64_MAX - digit) / 10)
				return CAA_EACCOUNT_PREFIX;
			v = v * 10 + digit;
		}
		*id = (int64_t)v;
		return CAA_EOK;
	}
	return CAA_EACCOUNT_PREFIX;
}
