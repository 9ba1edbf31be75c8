/*
 * local.c — `caa check` / `caa order` in-process (--config): one libcaa climb
 * context from the config; the checks of `check` run concurrently
 * (caa_check_async), an order is one caa_order_async; this thread drives the
 * loop until every callback has run. --validated-at goes through the reuse
 * window exactly as caad applies it (caa_cache_reuse): inside the window the
 * result is reused without DNS.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "cache.h"
#include "check.h"
#include "climb.h"
#include "cli.h"
#include "output.h"
#include "util.h"

typedef struct local {
	const check_run_t *run;
	check_answer_t *ans;
	size_t pending;
} local_t;

typedef struct slot {
	local_t *l;
	size_t i;
} slot_t;

typedef struct order_state {
	local_t *l;
	const size_t *index; /* sub-request k answers run->reqs[index[k]] */
	bool done;
	int rc;
	caa_problem_t *aggregate;
} order_state_t;

static void not_answered(local_t *l, size_t i, int rc)
{
	fprintf(stderr, "%s: %s: %s\n", l->run->prog, l->run->reqs[i].identifier, caa_strerror(rc));
	l->ans->error_status = CLI_EXIT_LOOKUP;
}

static void on_check(void *arg, int rc, caa_result_t *res)
{
	slot_t *s = arg;
	s->l->pending--;
	if (rc != CAA_EOK || res == NULL) {
		caa_result_free(res);
		not_answered(s->l, s->i, rc != CAA_EOK ? rc : CAA_EINTERNAL);
		return;
	}
	s->l->ans->results[s->i] = res;
}

static void on_order(void *arg, int rc, caa_result_t **results, size_t n, caa_problem_t *aggregate)
{
	order_state_t *o = arg;
	o->done = true;
	o->rc = rc;
	o->aggregate = aggregate;
	for (size_t k = 0; k < n; k++)
		o->l->ans->results[o->index[k]] = results[k];
	free(results);
}

/* Results from the reuse window for requests that carry validated_at. */
static int reuse(local_t *l, const caa_config_t *cfg, bool *all_reused)
{
	const check_run_t *run = l->run;
	caa_cache_t *cache = NULL;
	void *impl = NULL;
	*all_reused = false;
	if (run->n == 0 || run->reqs[0].validated_at_ms <= 0)
		return CAA_EOK; /* no --validated-at: every request climbs */
	/* A fresh process has stored nothing: only validated_at can decide, so
	 * the smallest memory cache will do. */
	int rc = caa_cache_memory_new(1, &impl);
	if (rc == CAA_EOK)
		rc = caa_cache_new_backend(&caa_cache_memory_backend, impl, cfg, NULL, &cache);
	if (rc != CAA_EOK)
		return rc;
	int64_t now = caa_wall_ms();
	size_t reused = 0;
	for (size_t i = 0; i < run->n; i++)
		if (caa_cache_reuse(cache, &run->reqs[i], now, &l->ans->results[i]))
			reused++;
	caa_cache_free(cache);
	*all_reused = reused == run->n;
	return CAA_EOK;
}

static void run_checks(local_t *l, caa_ctx_t *ctx)
{
	const check_run_t *run = l->run;
	slot_t *slots = calloc(run->n, sizeof(*slots));
	if (slots == NULL) {
		for (size_t i = 0; i < run->n; i++)
			if (l->ans->results[i] == NULL)
				not_answered(l, i, CAA_ENOMEM);
		return;
	}
	for (size_t i = 0; i < run->n; i++) {
		if (l->ans->results[i] != NULL)
			continue; /* reused */
		slots[i] = (slot_t){l, i};
		int rc;
		/* Beyond max_in_flight, let some finish first. */
		while ((rc = caa_check_async(ctx, &run->reqs[i], run->timeout_ms, on_check,
		                             &slots[i], NULL)) == CAA_EBUSY)
			caa_ctx_wait(ctx, 100);
		if (rc != CAA_EOK)
			not_answered(l, i, rc);
		else
			l->pending++;
	}
	while (l->pending > 0)
		caa_ctx_wait(ctx, -1);
	free(slots);
}

/* The order's problem over results in request order, as the climb makes it. */
static int aggregate(check_answer_t *ans, const caa_policy_t *pol)
{
	const caa_problem_t **probs = calloc(ans->n, sizeof(*probs));
	size_t k = 0;
	if (probs == NULL)
		return CAA_ENOMEM;
	for (size_t i = 0; i < ans->n; i++)
		if (ans->results[i] != NULL && ans->results[i]->problem != NULL)
			probs[k++] = ans->results[i]->problem;
	caa_problem_free(ans->aggregate);
	ans->aggregate = k > 0 ? caa_problem_order(probs, k, pol->boulder_recheck_types) : NULL;
	free(probs);
	return k > 0 && ans->aggregate == NULL ? CAA_ENOMEM : CAA_EOK;
}

static void run_order(local_t *l, caa_ctx_t *ctx, const caa_policy_t *pol)
{
	const check_run_t *run = l->run;
	caa_request_t *sub = calloc(run->n, sizeof(*sub));
	size_t *index = calloc(run->n, sizeof(*index));
	size_t m = 0;
	int rc = CAA_ENOMEM;
	if (sub == NULL || index == NULL)
		goto out;
	for (size_t i = 0; i < run->n; i++) {
		if (l->ans->results[i] != NULL)
			continue; /* reused */
		index[m] = i;
		sub[m++] = run->reqs[i];
	}
	order_state_t o = {.l = l, .index = index};
	size_t bad = 0;
	while ((rc = caa_order_async(ctx, sub, m, run->timeout_ms, on_order, &o, NULL, &bad)) ==
	       CAA_EBUSY)
		caa_ctx_wait(ctx, 100);
	if (rc == CAA_EOK) {
		while (!o.done)
			caa_ctx_wait(ctx, -1);
		rc = o.rc;
	}
	if (rc == CAA_EOK && m == run->n) {
		l->ans->aggregate = o.aggregate; /* nothing reused: the climb's own */
	} else {
		caa_problem_free(o.aggregate);
		if (rc == CAA_EOK)
			rc = aggregate(l->ans, pol);
	}
out:
	if (rc != CAA_EOK) {
		fprintf(stderr, "%s: the order could not be checked: %s\n", run->prog,
		        caa_strerror(rc));
		l->ans->error_status = CLI_EXIT_LOOKUP;
		for (size_t i = 0; i < run->n; i++) {
			caa_result_free(l->ans->results[i]);
			l->ans->results[i] = NULL;
		}
	}
	free(sub);
	free(index);
}

int check_config(const check_run_t *run, caa_config_t **cfg, const char **what, char *err,
                 size_t errlen)
{
	if (run->config != NULL) {
		*what = run->config;
		return caa_config_load(run->config, cfg, err, errlen);
	}
	*what = "the built-in defaults";
	/* {"issuer_domains": [...], "dns": {...}}: every other key keeps its
	 * default (docs/config.md), and the parser judges the domains and paths
	 * exactly as in a file */
	json_t *issuers = json_array(), *dns = json_object();
	json_t *root = json_pack("{s:o, s:o}", "issuer_domains", issuers, "dns", dns);
	int rc = root != NULL ? CAA_EOK : CAA_ENOMEM;
	for (size_t i = 0; rc == CAA_EOK && i < run->n_issuers; i++)
		if (json_array_append_new(issuers, json_string(run->issuers[i])) != 0)
			rc = CAA_ENOMEM;
	if (rc == CAA_EOK && run->unbound_conf != NULL &&
	    json_object_set_new(dns, "unbound_conf", json_string(run->unbound_conf)) != 0)
		rc = CAA_ENOMEM;
	if (rc == CAA_EOK && run->trust_anchor != NULL &&
	    json_object_set_new(dns, "trust_anchor_file", json_string(run->trust_anchor)) != 0)
		rc = CAA_ENOMEM;
	char *text = rc == CAA_EOK ? json_dumps(root, JSON_COMPACT) : NULL;
	json_decref(root);
	if (text == NULL) {
		caa_set_err(err, errlen, "%s", caa_strerror(CAA_ENOMEM));
		return CAA_ENOMEM;
	}
	rc = caa_config_parse(text, strlen(text), cfg, err, errlen);
	free(text);
	return rc;
}

int check_local(const check_run_t *run, check_answer_t *ans)
{
	caa_config_t *cfg = NULL;
	caa_ctx_t *ctx = NULL;
	char err[1024];
	const char *profile = run->n > 0 ? run->reqs[0].policy : NULL;
	const char *what;

	if (check_config(run, &cfg, &what, err, sizeof(err)) != CAA_EOK) {
		fprintf(stderr, "%s: %s\n", run->prog, err);
		return CLI_EXIT_USAGE;
	}
	const caa_policy_t *pol = caa_config_policy(cfg, profile);
	if (pol == NULL) {
		fprintf(stderr, "%s: --policy %s: no such profile in %s\n", run->prog, profile,
		        what);
		caa_config_free(cfg);
		return CLI_EXIT_USAGE;
	}
	/* the options every request shares: refused before any reuse or DNS */
	if (run->n > 0 &&
	    output_request_refusal(stderr, run->prog, pol, &run->reqs[0]) != CAA_EOK) {
		caa_config_free(cfg);
		return CLI_EXIT_USAGE;
	}
	if (pol->n_issuer_domains == 0) {
		fprintf(stderr, "%s: %s has no \"issuer_domains\": every name would be forbidden\n",
		        run->prog, what);
		caa_config_free(cfg);
		return CLI_EXIT_USAGE;
	}
	if (cfg->perspective.n_remotes > 0) /* say so: this is not what the CA's caad answers */
		fprintf(stderr,
		        "%s: warning: %s lists %zu remote perspectives; an in-process check is "
		        "single-perspective and corroborates nothing (use --server with the "
		        "primary caad)\n",
		        run->prog, what, cfg->perspective.n_remotes);
	*ans = (check_answer_t){.cfg = cfg, .pol = pol, .n = run->n};
	ans->results = calloc(run->n ? run->n : 1, sizeof(*ans->results));
	if (ans->results == NULL) {
		fprintf(stderr, "%s: %s\n", run->prog, caa_strerror(CAA_ENOMEM));
		return CLI_EXIT_USAGE;
	}

	local_t l = {.run = run, .ans = ans};
	bool all_reused;
	int rc = reuse(&l, cfg, &all_reused);
	if (rc != CAA_EOK) {
		fprintf(stderr, "%s: the reuse window: %s\n", run->prog, caa_strerror(rc));
		return CLI_EXIT_USAGE;
	}
	if (all_reused)
		return -1; /* no DNS at all; an order of reused results has no problem */

	if (caa_ctx_new(cfg, &ctx, err, sizeof(err)) != CAA_EOK) {
		fprintf(stderr, "%s: %s: %s\n", run->prog, what, err);
		return CLI_EXIT_USAGE;
	}
	if (run->order)
		run_order(&l, ctx, pol);
	else
		run_checks(&l, ctx);
	caa_ctx_free(ctx);
	return -1;
}
