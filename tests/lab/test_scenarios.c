/*
 * test_scenarios.c — every scenario of the lab catalogue
 * (deploy/lab/scenarios.json) through the real climb: libunbound against the
 * lab's NSD and fault servers on loopback. Asserts verdict, reason, relevant
 * domain, DNSSEC state, the exact problem (type, status, detail) and, for
 * orders, every result and the sub-problems in order; for scenarios with a
 * "queries" budget, counts the CAA queries the lab's server saw. Scenarios with
 * per-perspective "views" are then checked through each view of the lab
 * (DIR/views/<view>/caa.json: the view's unbound.conf), each view in a
 * libunbound context of its own, against that view's expectation.
 *
 *   test_scenarios CATALOGUE [NAME...] LABDIR
 *
 * The lab must be up (tests/lab/run.sh brings it up and down around this and
 * appends LABDIR).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "climb.h"

typedef struct sc {
	const char *name;
	char *label; /* "scenario@view" for a view's pass */
	json_t *j;
	json_t *expect;
	caa_request_t *reqs;
	size_t n;
	bool is_order;
	bool done;
	int rc;
	caa_result_t *res;      /* single check */
	caa_result_t **results; /* order */
	caa_problem_t *agg;
	long log_offset; /* query log size before the scenario ran */
} sc_t;

static int failures, passes, permitted_when_failing;
static const char *labdir;

#define FAIL(sc, ...)                                                                              \
	do {                                                                                       \
		printf("FAIL %s: ", (sc)->name);                                                   \
		printf(__VA_ARGS__);                                                               \
		printf("\n");                                                                      \
		bad = true;                                                                        \
	} while (0)

static const char *js(json_t *o, const char *k)
{
	json_t *v = json_object_get(o, k);
	return json_is_string(v) ? json_string_value(v) : NULL;
}

static bool starts_with(const char *s, const char *p)
{
	return strncmp(s, p, strlen(p)) == 0;
}

static bool ends_with(const char *s, const char *p)
{
	size_t a = strlen(s), b = strlen(p);
	return a >= b && strcmp(s + a - b, p) == 0;
}

/* Compare a problem with its expectation ({type,status,detail|detail_prefix+suffix,
 * identifier?, subproblems?}); "null" means none. */
static bool problem_matches(const caa_problem_t *p, json_t *e, char *why, size_t whylen)
{
	if (e == NULL || json_is_null(e)) {
		if (p != NULL)
			snprintf(why, whylen, "unexpected problem \"%s\"", p->detail);
		return p == NULL;
	}
	if (p == NULL) {
		snprintf(why, whylen, "no problem, expected one");
		return false;
	}
	const char *type = js(e, "type"), *detail = js(e, "detail");
	const char *prefix = js(e, "detail_prefix"), *suffix = js(e, "detail_suffix");
	if (type && strcmp(type, caa_problem_urn(p->type)) != 0) {
		snprintf(why, whylen, "problem type %s, expected %s", caa_problem_urn(p->type),
		         type);
		return false;
	}
	json_t *st = json_object_get(e, "status");
	if (st && json_integer_value(st) != p->status) {
		snprintf(why, whylen, "problem status %d, expected %lld", p->status,
		         (long long)json_integer_value(st));
		return false;
	}
	if ((detail && strcmp(detail, p->detail) != 0) ||
	    (prefix && !starts_with(p->detail, prefix)) ||
	    (suffix && !ends_with(p->detail, suffix))) {
		snprintf(why, whylen, "problem detail \"%s\"", p->detail);
		return false;
	}
	const char *ident = js(e, "identifier");
	if (ident && (p->identifier == NULL || strcmp(ident, p->identifier) != 0)) {
		snprintf(why, whylen, "problem identifier %s, expected %s",
		         p->identifier ? p->identifier : "(none)", ident);
		return false;
	}
	json_t *subs = json_object_get(e, "subproblems");
	if (subs != NULL) {
		if (json_array_size(subs) != p->n_subproblems) {
			snprintf(why, whylen, "%zu sub-problems, expected %zu", p->n_subproblems,
			         json_array_size(subs));
			return false;
		}
		for (size_t i = 0; i < p->n_subproblems; i++)
			if (!problem_matches(&p->subproblems[i], json_array_get(subs, i), why,
			                     whylen))
				return false;
	}
	return true;
}

static bool has_flag(const caa_result_t *r, const char *flag)
{
	for (unsigned bit = 1; bit != 0; bit <<= 1) {
		const char *name = caa_result_flag_name(bit);
		if (name != NULL && strcmp(name, flag) == 0)
			return (r->flags & bit) != 0;
	}
	return false;
}

/* Compare one result with an expectation object; alt is the "diagnosed"
 * alternative (reason/detail a diagnosing checker may give instead). */
static bool result_matches(const caa_result_t *r, json_t *e, char *why, size_t whylen)
{
	const char *v = js(e, "verdict"), *reason = js(e, "reason");
	const char *rel = js(e, "relevant_domain"), *dnssec = js(e, "dnssec");
	if (v && strcmp(v, caa_verdict_name(r->verdict)) != 0) {
		snprintf(why, whylen, "verdict %s/%s, expected %s/%s (%s)",
		         caa_verdict_name(r->verdict), caa_reason_name(r->reason), v,
		         reason ? reason : "", r->problem ? r->problem->detail : "no problem");
		return false;
	}
	if (reason && strcmp(reason, caa_reason_name(r->reason)) != 0) {
		json_t *alt = json_object_get(e, "diagnosed");
		if (alt && js(alt, "reason") &&
		    strcmp(js(alt, "reason"), caa_reason_name(r->reason)) == 0) {
			const char *d = js(alt, "detail");
			if (d == NULL || (r->problem && strcmp(d, r->problem->detail) == 0))
				return true;
		}
		snprintf(why, whylen, "reason %s, expected %s (%s)", caa_reason_name(r->reason),
		         reason, r->problem ? r->problem->detail : "no problem");
		return false;
	}
	if (rel && strcmp(rel, r->relevant_domain) != 0) {
		snprintf(why, whylen, "relevant domain \"%s\", expected \"%s\"", r->relevant_domain,
		         rel);
		return false;
	}
	if (dnssec && strcmp(dnssec, caa_dnssec_name(r->dnssec)) != 0) {
		snprintf(why, whylen, "dnssec %s, expected %s", caa_dnssec_name(r->dnssec), dnssec);
		return false;
	}
	json_t *flags = json_object_get(e, "flags");
	size_t i;
	json_t *f;
	json_array_foreach(flags, i, f)
	{
		if (!has_flag(r, json_string_value(f))) {
			snprintf(why, whylen, "flag %s missing", json_string_value(f));
			return false;
		}
	}
	if (json_object_get(e, "problem") != NULL || r->verdict == CAA_PERMITTED)
		return problem_matches(r->problem, json_object_get(e, "problem"), why, whylen);
	return true;
}

/* ---- query counting from the fault server's log ---- */

static long log_size(void)
{
	char path[512];
	snprintf(path, sizeof(path), "%s/faultdns-queries.log", labdir);
	FILE *f = fopen(path, "r");
	if (f == NULL)
		return 0;
	fseek(f, 0, SEEK_END);
	long n = ftell(f);
	fclose(f);
	return n;
}

/* Count log lines after offset whose fields contain qtype and a qname under
 * `under`; refused_busy counts answers the busy server refused. */
static void count_queries(long offset, const char *qtype, const char *under, long *total,
                          long *refused)
{
	char path[512], line[1024];
	snprintf(path, sizeof(path), "%s/faultdns-queries.log", labdir);
	*total = *refused = 0;
	FILE *f = fopen(path, "r");
	if (f == NULL)
		return;
	fseek(f, offset, SEEK_SET);
	while (fgets(line, sizeof(line), f)) {
		char *tok[16];
		int nt = 0;
		for (char *t = strtok(line, " \t\n"); t && nt < 16; t = strtok(NULL, " \t\n"))
			tok[nt++] = t;
		bool type_ok = false, name_ok = false, refused_busy = false;
		for (int i = 0; i < nt; i++) {
			if (strcmp(tok[i], qtype) == 0)
				type_ok = true;
			size_t tl = strlen(tok[i]);
			char n[300];
			snprintf(n, sizeof(n), "%s", tok[i]);
			if (tl > 0 && n[tl - 1] == '.')
				n[tl - 1] = '\0';
			if (strcmp(n, under) == 0 ||
			    (ends_with(n, under) && n[strlen(n) - strlen(under) - 1] == '.'))
				name_ok = true;
			if (strstr(tok[i], "busy") != NULL)
				refused_busy = true;
		}
		if (type_ok && name_ok) {
			(*total)++;
			if (refused_busy)
				(*refused)++;
		}
	}
	fclose(f);
}

/* ---- running ---- */

static void on_check(void *arg, int rc, caa_result_t *res)
{
	sc_t *sc = arg;
	sc->done = true;
	sc->rc = rc;
	sc->res = res;
}

static void on_order(void *arg, int rc, caa_result_t **results, size_t n, caa_problem_t *agg)
{
	sc_t *sc = arg;
	(void)n;
	sc->done = true;
	sc->rc = rc;
	sc->results = results;
	sc->agg = agg;
}

static void fill_request(caa_request_t *r, json_t *cat, json_t *s, const char *ident)
{
	json_t *ca = json_object_get(cat, "ca"), *req = json_object_get(s, "request");
	memset(r, 0, sizeof(*r));
	r->identifier = ident;
	r->type = js(s, "identifier_type");
	r->account_uri = js(ca, "account_uri");
	r->method = js(ca, "method");
	r->explain = true;
	if (req) {
		if (js(req, "account_uri"))
			r->account_uri = js(req, "account_uri");
		if (js(req, "method"))
			r->method = js(req, "method");
		r->policy = js(req, "policy");
	}
}

static bool check_scenario(sc_t *sc)
{
	char why[1024];
	bool bad = false;
	if (sc->rc != CAA_EOK) {
		FAIL(sc, "rc %d (%s)", sc->rc, caa_strerror(sc->rc));
		return false;
	}
	if (!sc->is_order) {
		if (!result_matches(sc->res, sc->expect, why, sizeof(why)))
			FAIL(sc, "%s", why);
		const char *v = js(sc->expect, "verdict");
		if (v && strcmp(v, "PERMITTED") != 0 && sc->res->verdict == CAA_PERMITTED)
			permitted_when_failing++;
		return !bad;
	}
	json_t *each = json_object_get(sc->expect, "each");
	json_t *by = json_object_get(sc->expect, "by_identifier");
	for (size_t i = 0; i < sc->n; i++) {
		caa_result_t *r = sc->results[i];
		json_t *e = by ? json_object_get(by, sc->reqs[i].identifier) : NULL;
		if (e == NULL)
			e = each;
		if (strcmp(r->identifier, sc->reqs[i].identifier) != 0)
			FAIL(sc, "result %zu is %s, expected %s (request order)", i, r->identifier,
			     sc->reqs[i].identifier);
		if (e != NULL && !result_matches(r, e, why, sizeof(why)))
			FAIL(sc, "%s: %s", sc->reqs[i].identifier, why);
		const char *v = e ? js(e, "verdict") : NULL;
		if (v && strcmp(v, "PERMITTED") != 0 && r->verdict == CAA_PERMITTED)
			permitted_when_failing++;
	}
	if (json_object_get(sc->expect, "problem") &&
	    !problem_matches(sc->agg, json_object_get(sc->expect, "problem"), why, sizeof(why)))
		FAIL(sc, "order problem: %s", why);
	json_t *q = json_object_get(sc->j, "queries");
	if (q != NULL) {
		long total, refused;
		const char *under = js(q, "under") ? js(q, "under") : "";
		count_queries(sc->log_offset, js(q, "qtype") ? js(q, "qtype") : "CAA", under,
		              &total, &refused);
		long max = (long)json_integer_value(json_object_get(q, "max"));
		json_t *rb = json_object_get(q, "refused_busy");
		printf("INFO %s: %ld CAA queries under %s seen by the server (budget %ld), %ld "
		       "refused as busy\n",
		       sc->name, total, under, max, refused);
		if (total == 0)
			FAIL(sc,
			     "the server saw no queries: is the query log at "
			     "%s/faultdns-queries.log?",
			     labdir);
		if (total > max)
			FAIL(sc, "%ld queries, budget %ld", total, max);
		if (rb && refused > json_integer_value(rb))
			FAIL(sc, "%ld queries refused as busy, expected at most %lld", refused,
			     (long long)json_integer_value(rb));
	}
	return !bad;
}

static void free_scenario(sc_t *sc)
{
	caa_result_free(sc->res);
	if (sc->results)
		for (size_t i = 0; i < sc->n; i++)
			caa_result_free(sc->results[i]);
	free(sc->results);
	caa_problem_free(sc->agg);
	free(sc->reqs);
	free(sc->label);
}

/* One scenario to run against an expectation (its own, or a view's). */
static void setup_scenario(sc_t *sc, json_t *cat, json_t *s, json_t *expect)
{
	sc->name = js(s, "name");
	sc->j = s;
	sc->expect = expect;
	json_t *order = json_object_get(s, "order");
	if (order != NULL) {
		sc->is_order = true;
		sc->n = json_array_size(order);
		sc->reqs = calloc(sc->n, sizeof(*sc->reqs));
		for (size_t j = 0; j < sc->n; j++)
			fill_request(&sc->reqs[j], cat, s,
			             json_string_value(json_array_get(order, j)));
	} else {
		sc->n = 1;
		sc->reqs = calloc(1, sizeof(*sc->reqs));
		fill_request(sc->reqs, cat, s, js(s, "identifier"));
	}
}

static void report(sc_t *sc)
{
	if (check_scenario(sc)) {
		passes++;
		printf("ok   %s\n", sc->name);
	} else {
		failures++;
	}
	free_scenario(sc);
}

static bool has_tag(json_t *s, const char *tag)
{
	size_t i;
	json_t *t;
	json_array_foreach(json_object_get(s, "tags"), i, t)
	{
		if (json_is_string(t) && strcmp(json_string_value(t), tag) == 0)
			return true;
	}
	return false;
}

static bool wanted(const char *name, int argc, char **argv)
{
	if (argc <= 3)
		return true;
	for (int i = 2; i < argc - 1; i++)
		if (strcmp(argv[i], name) == 0)
			return true;
	return false;
}

/* Run a batch of scenarios concurrently and wait for all. */
static void run_batch(caa_ctx_t *ctx, sc_t *scs, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		sc_t *sc = &scs[i];
		sc->log_offset = log_size();
		int rc = sc->is_order
		             ? caa_order_async(ctx, sc->reqs, sc->n, 0, on_order, sc, NULL, NULL)
		             : caa_check_async(ctx, sc->reqs, 0, on_check, sc, NULL);
		if (rc != CAA_EOK) {
			sc->done = true;
			sc->rc = rc;
		}
	}
	for (;;) {
		bool all = true;
		for (size_t i = 0; i < n; i++)
			all = all && scs[i].done;
		if (all)
			break;
		caa_ctx_wait(ctx, 100);
	}
}

/* Every scenario with "views", through each view of the lab: the real view
 * against "expect", the others against views.<view>. A view whose zone never
 * answers costs one query deadline (its checks run concurrently). */
static int run_views(json_t *cat, json_t *list, int argc, char **argv)
{
	size_t iv;
	json_t *view;
	json_array_foreach(json_object_get(cat, "views"), iv, view)
	{
		const char *vname = js(view, "name");
		bool real = strcmp(vname, "real") == 0;
		size_t n = json_array_size(list), k = 0;
		sc_t *scs = calloc(n, sizeof(*scs));
		for (size_t i = 0; i < n; i++) {
			json_t *s = json_array_get(list, i);
			json_t *views = json_object_get(s, "views");
			json_t *e =
			    real ? json_object_get(s, "expect") : json_object_get(views, vname);
			if (views == NULL || e == NULL || !wanted(js(s, "name"), argc, argv))
				continue;
			sc_t *sc = &scs[k++];
			setup_scenario(sc, cat, s, e);
			size_t len = strlen(sc->name) + strlen(vname) + 2;
			sc->label = malloc(len);
			snprintf(sc->label, len, "%s@%s", sc->name, vname);
			sc->name = sc->label;
		}
		char path[512], err[512];
		snprintf(path, sizeof(path), "%s/views/%s/caa.json", labdir, vname);
		caa_config_t *cfg;
		caa_ctx_t *ctx;
		if (k > 0 && (caa_config_load(path, &cfg, err, sizeof(err)) != CAA_EOK ||
		              caa_ctx_new(cfg, &ctx, err, sizeof(err)) != CAA_EOK)) {
			fprintf(stderr, "view %s: %s\n", vname, err);
			free(scs);
			return -1;
		}
		if (k > 0) {
			run_batch(ctx, scs, k);
			caa_ctx_free(ctx);
			caa_config_free(cfg);
		}
		for (size_t i = 0; i < k; i++)
			report(&scs[i]);
		free(scs);
	}
	return 0;
}

int main(int argc, char **argv)
{
	if (argc < 3) {
		fprintf(stderr, "usage: test_scenarios CATALOGUE [NAME...] LABDIR\n");
		return 2;
	}
	labdir = argv[argc - 1];
	json_error_t jerr;
	json_t *cat = json_load_file(argv[1], 0, &jerr);
	if (cat == NULL) {
		fprintf(stderr, "%s:%d: %s\n", argv[1], jerr.line, jerr.text);
		return 2;
	}
	char cfgpath[512], err[512];
	snprintf(cfgpath, sizeof(cfgpath), "%s/caa.json", labdir);
	caa_config_t *cfg;
	caa_ctx_t *ctx;
	if (caa_config_load(cfgpath, &cfg, err, sizeof(err)) != CAA_EOK ||
	    caa_ctx_new(cfg, &ctx, err, sizeof(err)) != CAA_EOK) {
		fprintf(stderr, "%s\n", err);
		return 2;
	}

	json_t *list = json_object_get(cat, "scenarios");
	size_t n = json_array_size(list), k = 0;
	sc_t *scs = calloc(n, sizeof(*scs));
	for (size_t i = 0; i < n; i++) {
		json_t *s = json_array_get(list, i);
		if (!wanted(js(s, "name"), argc, argv))
			continue;
		setup_scenario(&scs[k++], cat, s, json_object_get(s, "expect"));
	}
	/* Scenarios that count queries run alone, so the count is theirs, and
	 * those tagged fresh-context get a libunbound context of their own
	 * (unbound marks a silent server's address down for a minute), as do
	 * those tagged no-validation (one without a trust anchor,
	 * caa-novalidate.json); the rest run concurrently, as a busy CA's checks
	 * would. */
	size_t m = 0;
	for (size_t i = 0; i < k; i++)
		if (json_object_get(scs[i].j, "queries") == NULL &&
		    !has_tag(scs[i].j, "fresh-context") && !has_tag(scs[i].j, "no-validation")) {
			sc_t t = scs[m];
			scs[m++] = scs[i];
			scs[i] = t;
		}
	run_batch(ctx, scs, m);
	caa_config_t *novalidate = NULL;
	for (size_t i = m; i < k; i++) {
		caa_ctx_t *own = ctx;
		const caa_config_t *c = cfg;
		if (has_tag(scs[i].j, "no-validation")) {
			snprintf(cfgpath, sizeof(cfgpath), "%s/caa-novalidate.json", labdir);
			if (novalidate == NULL &&
			    caa_config_load(cfgpath, &novalidate, err, sizeof(err)) != CAA_EOK) {
				fprintf(stderr, "%s\n", err);
				return 2;
			}
			c = novalidate;
		}
		if ((c != cfg || has_tag(scs[i].j, "fresh-context")) &&
		    caa_ctx_new(c, &own, err, sizeof(err)) != CAA_EOK) {
			fprintf(stderr, "%s\n", err);
			return 2;
		}
		run_batch(own, &scs[i], 1);
		if (own != ctx)
			caa_ctx_free(own);
	}
	caa_config_free(novalidate);

	for (size_t i = 0; i < k; i++)
		report(&scs[i]);
	free(scs);
	if (run_views(cat, list, argc, argv) != 0)
		return 2;
	caa_ctx_stats_t st;
	caa_ctx_stats(ctx, &st);
	printf("INFO climb: %llu checks, %llu queries, %llu shared, %llu retries, %llu timeouts\n",
	       (unsigned long long)st.checks, (unsigned long long)st.queries,
	       (unsigned long long)st.shared, (unsigned long long)st.retries,
	       (unsigned long long)st.timeouts);
	if (permitted_when_failing > 0)
		printf("FAIL %d scenarios that must fail were PERMITTED\n", permitted_when_failing);
	printf("%d passed, %d failed\n", passes, failures + (permitted_when_failing > 0));
	caa_ctx_free(ctx);
	caa_config_free(cfg);
	json_decref(cat);
	return failures || permitted_when_failing ? 1 : 0;
}
