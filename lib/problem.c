/*
 * problem.c — ACME problem documents with Boulder's exact URNs, statuses and
 * detail strings (docs/semantics.md §8), and an order's aggregate with sub-problems.
 *
 * Decisions the RFCs leave open (docs/semantics.md §8):
 * - An unknown type maps to serverInternal (500): fail closed, never 2xx.
 * - NULL strings given to the detail builders print as "" rather than crash.
 * - caa_problem_order() with one failure returns a copy of it; under
 *   boulder_types it is typed caa (403) like the sub-problems of a larger
 *   order, its detail kept (docs/semantics.md §8).
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "codes.h"
#include "problem.h"

#define URN_PREFIX "urn:ietf:params:acme:error:"

static const char *or_empty(const char *s)
{
	return s != NULL ? s : "";
}

const char *caa_problem_urn(caa_problem_type_t type)
{
	switch (type) {
	case CAA_PROB_CAA: return URN_PREFIX "caa";
	case CAA_PROB_DNS: return URN_PREFIX "dns";
	case CAA_PROB_SERVER_INTERNAL: return URN_PREFIX "serverInternal";
	case CAA_PROB_MALFORMED: return URN_PREFIX "malformed";
	case CAA_PROB_REJECTED_IDENTIFIER: return URN_PREFIX "rejectedIdentifier";
	}
	return URN_PREFIX "serverInternal";
}

const char *caa_problem_short(caa_problem_type_t type)
{
	/* The URN without its prefix: one table to keep in step. */
	return caa_problem_urn(type) + strlen(URN_PREFIX);
}

bool caa_problem_type_from_short(const char *s, caa_problem_type_t *out)
{
	for (int t = CAA_PROB_CAA; s != NULL && t <= CAA_PROB_REJECTED_IDENTIFIER; t++) {
		if (strcmp(caa_problem_short((caa_problem_type_t)t), s) == 0) {
			*out = (caa_problem_type_t)t;
			return true;
		}
	}
	return false;
}

int caa_problem_status(caa_problem_type_t type)
{
	switch (type) {
	case CAA_PROB_CAA: return 403;
	case CAA_PROB_DNS: return 400;
	case CAA_PROB_SERVER_INTERNAL: return 500;
	case CAA_PROB_MALFORMED: return 400;
	case CAA_PROB_REJECTED_IDENTIFIER: return 400;
	}
	return 500;
}

__attribute__((format(printf, 1, 0))) static char *vformat(const char *fmt, va_list ap)
{
	va_list ap2;
	va_copy(ap2, ap);
	int len = vsnprintf(NULL, 0, fmt, ap2);
	va_end(ap2);
	if (len < 0) {
		return NULL;
	}
	char *s = malloc((size_t)len + 1);
	if (s == NULL) {
		return NULL;
	}
	if (vsnprintf(s, (size_t)len + 1, fmt, ap) != len) {
		free(s);
		return NULL;
	}
	return s;
}

caa_problem_t *caa_problem_new(caa_problem_type_t type, const char *identifier, const char *fmt,
                               ...)
{
	caa_problem_t *p = calloc(1, sizeof(*p));
	if (p == NULL) {
		return NULL;
	}
	p->type = type;
	p->status = caa_problem_status(type);

	if (fmt == NULL) {
		p->detail = strdup("");
	} else {
		va_list ap;
		va_start(ap, fmt);
		p->detail = vformat(fmt, ap);
		va_end(ap);
	}
	if (p->detail == NULL) {
		free(p);
		return NULL;
	}
	if (identifier != NULL) {
		p->identifier = strdup(identifier);
		if (p->identifier == NULL) {
			caa_problem_free(p);
			return NULL;
		}
	}
	return p;
}

caa_problem_t *caa_problem_forbidden(const char *ident, const char *relevant)
{
	return caa_problem_new(CAA_PROB_CAA, ident,
	                       "While processing CAA for %s: CAA record for %s prevents issuance",
	                       or_empty(ident), or_empty(relevant));
}

caa_problem_t *caa_problem_dns(const char *ident, const char *what, const char *label,
                               const char *hint)
{
	return caa_problem_new(
	    CAA_PROB_DNS, ident,
	    "While processing CAA for %s: DNS problem: %s looking up CAA for %s%s%s",
	    or_empty(ident), or_empty(what), or_empty(label), hint != NULL ? " - " : "",
	    or_empty(hint));
}

int caa_problem_copy(caa_problem_t *dst, const caa_problem_t *src)
{
	if (dst == NULL || src == NULL) {
		return CAA_EINVAL;
	}
	memset(dst, 0, sizeof(*dst));
	dst->type = src->type;
	dst->status = src->status;
	if (src->detail != NULL && (dst->detail = strdup(src->detail)) == NULL) {
		goto fail;
	}
	if (src->identifier != NULL && (dst->identifier = strdup(src->identifier)) == NULL) {
		goto fail;
	}
	if (src->n_subproblems > 0 && src->subproblems != NULL) {
		dst->subproblems = calloc(src->n_subproblems, sizeof(*dst->subproblems));
		if (dst->subproblems == NULL) {
			goto fail;
		}
		/* n_subproblems counts the copied ones, so a failure frees exactly those. */
		for (size_t i = 0; i < src->n_subproblems; i++) {
			if (caa_problem_copy(&dst->subproblems[i], &src->subproblems[i]) !=
			    CAA_EOK) {
				goto fail;
			}
			dst->n_subproblems++;
		}
	}
	return CAA_EOK;
fail:
	caa_problem_deinit(dst);
	return CAA_ENOMEM;
}

static caa_problem_t *problem_dup(const caa_problem_t *src)
{
	caa_problem_t *p = calloc(1, sizeof(*p));
	if (p == NULL) {
		return NULL;
	}
	if (caa_problem_copy(p, src) != CAA_EOK) {
		free(p);
		return NULL;
	}
	return p;
}

caa_problem_t *caa_problem_order(const caa_problem_t *const *failed, size_t n, bool boulder_types)
{
	if (failed == NULL || n == 0) {
		return NULL;
	}
	for (size_t i = 0; i < n; i++) {
		if (failed[i] == NULL) {
			return NULL;
		}
	}
	if (n == 1) {
		caa_problem_t *one = problem_dup(failed[0]);
		if (one != NULL && boulder_types) {
			one->type = CAA_PROB_CAA;
			one->status = caa_problem_status(CAA_PROB_CAA);
		}
		return one;
	}

	caa_problem_t *agg = caa_problem_new(CAA_PROB_CAA, NULL,
	                                     "Rechecking CAA for \"%s\" and %zu more identifiers "
	                                     "failed. Refer to sub-problems for more information",
	                                     or_empty(failed[0]->identifier), n - 1);
	if (agg == NULL) {
		return NULL;
	}
	agg->subproblems = calloc(n, sizeof(*agg->subproblems));
	if (agg->subproblems == NULL) {
		caa_problem_free(agg);
		return NULL;
	}
	for (size_t i = 0; i < n; i++) {
		caa_problem_t *sub = &agg->subproblems[i];
		if (caa_problem_copy(sub, failed[i]) != CAA_EOK) {
			caa_problem_free(agg);
			return NULL;
		}
		agg->n_subproblems++;
		if (boulder_types) {
			sub->type = CAA_PROB_CAA;
			sub->status = caa_problem_status(CAA_PROB_CAA);
		}
	}
	return agg;
}

void caa_problem_deinit(caa_problem_t *p)
{
	if (p == NULL) {
		return;
	}
	for (size_t i = 0; i < p->n_subproblems; i++) {
		caa_problem_deinit(&p->subproblems[i]);
	}
	free(p->subproblems);
	free(p->detail);
	free(p->identifier);
	memset(p, 0, sizeof(*p));
}

void caa_problem_free(caa_problem_t *p)
{
	if (p == NULL) {
		return;
	}
	caa_problem_deinit(p);
	free(p);
}
