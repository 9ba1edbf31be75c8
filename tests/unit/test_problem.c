/* test_problem.c — problem documents and order aggregation (problem.c), as tables. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "codes.h"
#include "problem.h"

/*
 * Allocation failure injection: without ASan (which owns malloc) and on glibc,
 * this executable interposes malloc and friends, fails the k-th allocation and
 * counts live blocks, so every failure path is shown to free what it built.
 */
#if defined(__SANITIZE_ADDRESS__)
#define HAVE_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define HAVE_ASAN 1
#endif
#endif

#if !defined(HAVE_ASAN) && defined(__GLIBC__)
#define FAULT_INJECTION 1

extern void *__libc_malloc(size_t size);
extern void *__libc_calloc(size_t n, size_t size);
extern void *__libc_realloc(void *p, size_t size);
extern void __libc_free(void *p);

/* volatile: compilers assume malloc touches no globals and move plain stores. */
static volatile bool fi_on;   /* counting and failing */
static volatile long fi_left; /* allocations that succeed before one fails */
static volatile long fi_live; /* blocks allocated minus blocks freed while on */

static bool fi_fail(void)
{
	return fi_on && fi_left-- == 0;
}

void *malloc(size_t size)
{
	if (fi_fail()) {
		return NULL;
	}
	void *p = __libc_malloc(size);
	fi_live += fi_on && p != NULL;
	return p;
}

void *calloc(size_t n, size_t size)
{
	if (fi_fail()) {
		return NULL;
	}
	void *p = __libc_calloc(n, size);
	fi_live += fi_on && p != NULL;
	return p;
}

void *realloc(void *old, size_t size)
{
	if (fi_fail()) {
		return NULL;
	}
	void *p = __libc_realloc(old, size);
	fi_live += fi_on && old == NULL && p != NULL;
	return p;
}

void free(void *p)
{
	fi_live -= fi_on && p != NULL;
	__libc_free(p);
}
#endif

/* Fixtures: one problem of each kind an order meets. */
static caa_problem_t *fx_forbidden(const char *ident)
{
	return caa_problem_forbidden(ident, "example.com");
}

static caa_problem_t *fx_dns(const char *ident)
{
	return caa_problem_dns(ident, "SERVFAIL", "example.net",
	                       "the domain's nameservers may be malfunctioning");
}

struct type_row {
	caa_problem_type_t type;
	const char *urn;
	const char *shortname;
	int status;
};

/* clang-format off */
static const struct type_row type_rows[] = {
	{ CAA_PROB_CAA, "urn:ietf:params:acme:error:caa", "caa", 403 },
	{ CAA_PROB_DNS, "urn:ietf:params:acme:error:dns", "dns", 400 },
	{ CAA_PROB_SERVER_INTERNAL, "urn:ietf:params:acme:error:serverInternal",
	  "serverInternal", 500 },
	{ CAA_PROB_MALFORMED, "urn:ietf:params:acme:error:malformed", "malformed", 400 },
	{ CAA_PROB_REJECTED_IDENTIFIER, "urn:ietf:params:acme:error:rejectedIdentifier",
	  "rejectedIdentifier", 400 },
	/* an unknown type fails closed */
	{ (caa_problem_type_t)0, "urn:ietf:params:acme:error:serverInternal",
	  "serverInternal", 500 },
	{ (caa_problem_type_t)99, "urn:ietf:params:acme:error:serverInternal",
	  "serverInternal", 500 },
};
/* clang-format on */

static void test_problem_types(void **state)
{
	(void)state;
	for (size_t r = 0; r < sizeof(type_rows) / sizeof(type_rows[0]); r++) {
		const struct type_row *row = &type_rows[r];
		assert_string_equal(caa_problem_urn(row->type), row->urn);
		assert_string_equal(caa_problem_short(row->type), row->shortname);
		assert_int_equal(caa_problem_status(row->type), row->status);

		caa_problem_t *p = caa_problem_new(row->type, "x.example", "n=%d", 7);
		assert_non_null(p);
		assert_int_equal(p->status, row->status);
		assert_string_equal(p->detail, "n=7");
		assert_string_equal(p->identifier, "x.example");
		assert_null(p->subproblems);
		assert_int_equal(p->n_subproblems, 0);
		caa_problem_free(p);
	}
}

struct detail_row {
	bool dns; /* caa_problem_dns() rather than caa_problem_forbidden() */
	const char *ident;
	const char *a; /* relevant domain, or what */
	const char *label;
	const char *hint;
	caa_problem_type_t type;
	int status;
	const char *detail;
};

/* clang-format off */
static const struct detail_row detail_rows[] = {
	{ false, "www.example.com", "example.com", NULL, NULL, CAA_PROB_CAA, 403,
	  "While processing CAA for www.example.com: CAA record for example.com prevents "
	  "issuance" },
	{ false, "*.example.com", "example.com", NULL, NULL, CAA_PROB_CAA, 403,
	  "While processing CAA for *.example.com: CAA record for example.com prevents issuance" },
	{ true, "www.example.com", "SERVFAIL", "example.com",
	  "the domain's nameservers may be malfunctioning", CAA_PROB_DNS, 400,
	  "While processing CAA for www.example.com: DNS problem: SERVFAIL looking up CAA for "
	  "example.com - the domain's nameservers may be malfunctioning" },
	{ true, "www.example.com", "query timed out", "www.example.com", NULL, CAA_PROB_DNS, 400,
	  "While processing CAA for www.example.com: DNS problem: query timed out looking up CAA "
	  "for www.example.com" },
	{ true, "a.example", "NXDOMAIN", "example", NULL, CAA_PROB_DNS, 400,
	  "While processing CAA for a.example: DNS problem: NXDOMAIN looking up CAA for example" },
	{ true, "a.example", "NXDOMAIN", "example", "check that a DNS record exists for this domain",
	  CAA_PROB_DNS, 400,
	  "While processing CAA for a.example: DNS problem: NXDOMAIN looking up CAA for example - "
	  "check that a DNS record exists for this domain" },
	{ true, "a.example", "DNSSEC: signature expired", "a.example", NULL, CAA_PROB_DNS, 400,
	  "While processing CAA for a.example: DNS problem: DNSSEC: signature expired looking up "
	  "CAA for a.example" },
	{ true, "a.example", "networking error", "a.example", "", CAA_PROB_DNS, 400,
	  "While processing CAA for a.example: DNS problem: networking error looking up CAA for "
	  "a.example - " },
};
/* clang-format on */

static void test_problem_details(void **state)
{
	(void)state;
	for (size_t r = 0; r < sizeof(detail_rows) / sizeof(detail_rows[0]); r++) {
		const struct detail_row *row = &detail_rows[r];
		caa_problem_t *p = row->dns
		                       ? caa_problem_dns(row->ident, row->a, row->label, row->hint)
		                       : caa_problem_forbidden(row->ident, row->a);
		assert_non_null(p);
		if (strcmp(p->detail, row->detail) != 0) {
			fail_msg("row %zu: detail \"%s\", want \"%s\"", r, p->detail, row->detail);
		}
		assert_int_equal(p->type, row->type);
		assert_int_equal(p->status, row->status);
		assert_string_equal(p->identifier, row->ident);
		assert_int_equal(p->n_subproblems, 0);
		caa_problem_free(p);
	}
}

/* An order's failing identifiers, by fixture kind: 'f' forbidden, 'd' dns. */
struct order_row {
	const char *kinds;
	bool boulder_types;
	const char *detail; /* NULL: the one failure itself */
};

static const char *const order_idents[] = {"a.example", "b.example", "c.example"};

/* clang-format off */
static const struct order_row order_rows[] = {
	{ "f", false, NULL },
	{ "d", false, NULL },
	{ "d", true, NULL }, /* one failure: its detail, typed caa/403 (docs/semantics.md §8) */
	{ "f", true, NULL },
	{ "fd", false,
	  "Rechecking CAA for \"a.example\" and 1 more identifiers failed. Refer to sub-problems "
	  "for more information" },
	{ "df", false,
	  "Rechecking CAA for \"a.example\" and 1 more identifiers failed. Refer to sub-problems "
	  "for more information" },
	{ "dfd", false,
	  "Rechecking CAA for \"a.example\" and 2 more identifiers failed. Refer to sub-problems "
	  "for more information" },
	{ "dfd", true,
	  "Rechecking CAA for \"a.example\" and 2 more identifiers failed. Refer to sub-problems "
	  "for more information" },
	{ "fff", true,
	  "Rechecking CAA for \"a.example\" and 2 more identifiers failed. Refer to sub-problems "
	  "for more information" },
};
/* clang-format on */

static void build_failed(const char *kinds, caa_problem_t **failed)
{
	for (size_t i = 0; kinds[i] != '\0'; i++) {
		failed[i] =
		    kinds[i] == 'f' ? fx_forbidden(order_idents[i]) : fx_dns(order_idents[i]);
		assert_non_null(failed[i]);
	}
}

static void test_problem_order(void **state)
{
	(void)state;
	for (size_t r = 0; r < sizeof(order_rows) / sizeof(order_rows[0]); r++) {
		const struct order_row *row = &order_rows[r];
		size_t n = strlen(row->kinds);
		caa_problem_t *failed[3];
		caa_problem_t want[3];

		/* Keep copies to compare with, then free the inputs: the aggregate
		 * must not point into them (ASan reads it after the free). */
		build_failed(row->kinds, failed);
		for (size_t i = 0; i < n; i++) {
			assert_int_equal(caa_problem_copy(&want[i], failed[i]), CAA_EOK);
		}
		caa_problem_t *agg =
		    caa_problem_order((const caa_problem_t *const *)failed, n, row->boulder_types);
		assert_non_null(agg);
		for (size_t i = 0; i < n; i++) {
			caa_problem_free(failed[i]);
		}

		if (row->detail == NULL) {
			caa_problem_type_t type = row->boulder_types ? CAA_PROB_CAA : want[0].type;
			assert_int_equal(agg->type, type);
			assert_int_equal(agg->status, caa_problem_status(type));
			assert_string_equal(agg->detail, want[0].detail);
			assert_string_equal(agg->identifier, want[0].identifier);
			assert_int_equal(agg->n_subproblems, 0);
		} else {
			assert_int_equal(agg->type, CAA_PROB_CAA);
			assert_int_equal(agg->status, 403);
			if (strcmp(agg->detail, row->detail) != 0) {
				fail_msg("row %zu: detail \"%s\", want \"%s\"", r, agg->detail,
				         row->detail);
			}
			assert_null(agg->identifier);
			assert_int_equal(agg->n_subproblems, n);
			for (size_t i = 0; i < n; i++) {
				const caa_problem_t *sub = &agg->subproblems[i];
				caa_problem_type_t type =
				    row->boulder_types ? CAA_PROB_CAA : want[i].type;
				assert_int_equal(sub->type, type);
				assert_int_equal(sub->status, caa_problem_status(type));
				assert_string_equal(sub->identifier, order_idents[i]);
				assert_string_equal(sub->detail, want[i].detail);
				assert_int_equal(sub->n_subproblems, 0);
			}
		}
		for (size_t i = 0; i < n; i++) {
			caa_problem_deinit(&want[i]);
		}
		caa_problem_free(agg);
	}
}

static void test_problem_order_args(void **state)
{
	caa_problem_t *p = fx_dns("a.example");
	const caa_problem_t *with_null[] = {p, NULL};
	(void)state;
	assert_null(caa_problem_order(NULL, 1, false));
	assert_null(caa_problem_order((const caa_problem_t *const *)&p, 0, false));
	assert_null(caa_problem_order(with_null, 2, false));
	caa_problem_free(p);
	caa_problem_free(NULL);
	caa_problem_deinit(NULL);
}

/* An aggregate without identifiers still says something, and deep copies nest. */
static void test_problem_copy_nested(void **state)
{
	caa_problem_t *a = caa_problem_new(CAA_PROB_SERVER_INTERNAL, NULL, "x");
	caa_problem_t *b = fx_dns("b.example");
	const caa_problem_t *in[] = {a, b};
	caa_problem_t copy;
	(void)state;

	caa_problem_t *agg = caa_problem_order(in, 2, false);
	assert_non_null(agg);
	assert_string_equal(agg->detail, "Rechecking CAA for \"\" and 1 more identifiers failed. "
	                                 "Refer to sub-problems for more information");
	assert_null(agg->subproblems[0].identifier);
	assert_int_equal(agg->subproblems[0].status, 500);

	assert_int_equal(caa_problem_copy(&copy, agg), CAA_EOK);
	caa_problem_free(agg);
	caa_problem_free(a);
	caa_problem_free(b);
	assert_int_equal(copy.n_subproblems, 2);
	assert_string_equal(copy.subproblems[1].identifier, "b.example");
	assert_int_equal(copy.subproblems[1].type, CAA_PROB_DNS);
	assert_null(copy.identifier);
	caa_problem_deinit(&copy);
	assert_null(copy.detail);
	assert_int_equal(caa_problem_copy(NULL, &copy), CAA_EINVAL);
	assert_int_equal(caa_problem_copy(&copy, NULL), CAA_EINVAL);
}

#ifdef FAULT_INJECTION
/* What each failure path builds: returns the result to free, or NULL. */
static caa_problem_t *fi_build(int what, caa_problem_t *const *in)
{
	switch (what) {
	case 0: return fx_forbidden("a.example");
	case 1: return fx_dns("a.example");
	case 2: return caa_problem_new(CAA_PROB_CAA, NULL, "%s", "x");
	case 3: return caa_problem_order((const caa_problem_t *const *)in, 1, false);
	case 4: return caa_problem_order((const caa_problem_t *const *)in, 3, false);
	case 5: return caa_problem_order((const caa_problem_t *const *)in, 3, true);
	case 6: return caa_problem_order((const caa_problem_t *const *)in, 1, true);
	}
	return NULL;
}
#endif

static void test_problem_alloc_failures(void **state)
{
	(void)state;
#ifdef FAULT_INJECTION
	/* Under valgrind (or any other malloc replacement) ours is not called. */
	fi_on = true;
	fi_left = 0;
	void *(*volatile probe_malloc)(size_t) = malloc;
	void *volatile probe = probe_malloc(1);
	fi_on = false;
	if (probe != NULL) {
		free(probe);
		skip();
		return;
	}
	caa_problem_t *in[3] = {fx_dns("a.example"), fx_forbidden("b.example"), NULL};
	in[2] = caa_problem_order((const caa_problem_t *const *)in, 2, false); /* nested */
	assert_non_null(in[2]);

	for (int what = 0; what <= 6; what++) {
		long k;
		for (k = 0;; k++) {
			fi_live = 0;
			fi_left = k;
			fi_on = true;
			caa_problem_t *p = fi_build(what, in);
			bool built = p != NULL;
			caa_problem_free(p);
			fi_on = false;
			if (fi_live != 0) {
				fail_msg("build %d, allocation %ld failing: %ld blocks leaked",
				         what, k, fi_live);
			}
			if (built) {
				break;
			}
		}
		assert_true(k > 0); /* at least one failure was exercised */
	}
	for (int i = 0; i < 3; i++) {
		caa_problem_free(in[i]);
	}
#else
	skip();
#endif
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_problem_types),
	    cmocka_unit_test(test_problem_details),
	    cmocka_unit_test(test_problem_order),
	    cmocka_unit_test(test_problem_order_args),
	    cmocka_unit_test(test_problem_copy_nested),
	    cmocka_unit_test(test_problem_alloc_failures),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
