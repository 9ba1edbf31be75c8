/*
 * test_mpic.c — the multi-perspective core (mpic.c) as tables: the BR schedule
 * at the second before and at each date, the quorum table with every §9
 * problem text, the early decision (against the final answer over every
 * arrival order), and the accountURIID.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "codes.h"
#include "mpic.h"
#include "problem.h"

#define DAY 86400

/* A UTC midnight computed independently of mpic.c's table. */
static int64_t utc(int y, int m, int d)
{
	struct tm tm = {.tm_year = y - 1900, .tm_mon = m - 1, .tm_mday = d};
	return (int64_t)timegm(&tm);
}

/* ---- the schedule ---- */

static void test_schedule_boundaries(void **state)
{
	(void)state;
	static const struct {
		int y, m, d;
		unsigned before, at;
	} t[] = {
	    {2025, 3, 15, 0, 2},
	    {2026, 3, 15, 2, 3},
	    {2026, 6, 15, 3, 4},
	    {2026, 12, 15, 4, 5},
	};
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		int64_t at = utc(t[i].y, t[i].m, t[i].d);
		assert_int_equal(caa_mpic_min_remotes_br(at - 1), t[i].before);
		assert_int_equal(caa_mpic_min_remotes_br(at), t[i].at);
		assert_int_equal(caa_mpic_min_remotes_br(at + DAY - 1), t[i].at);

		/* The second before a date, the next rise is that date; at it, the following one.
		 */
		caa_mpic_step_t s;
		char date[16];
		snprintf(date, sizeof(date), "%04d-%02d-%02d", t[i].y, t[i].m, t[i].d);
		assert_true(caa_mpic_next_rise_br(at - 1, &s));
		assert_int_equal(s.from_unix_s, at);
		assert_int_equal(s.min_remotes, t[i].at);
		assert_string_equal(s.date, date);
		if (i + 1 < sizeof(t) / sizeof(t[0])) {
			assert_true(caa_mpic_next_rise_br(at, &s));
			assert_int_equal(s.from_unix_s, utc(t[i + 1].y, t[i + 1].m, t[i + 1].d));
		} else {
			assert_false(caa_mpic_next_rise_br(at, &s));
		}
	}
	assert_int_equal(caa_mpic_min_remotes_br(INT64_MIN), 0);
	assert_int_equal(caa_mpic_min_remotes_br(0), 0);
	assert_int_equal(caa_mpic_min_remotes_br(INT64_MAX), 5);
	assert_false(caa_mpic_next_rise_br(INT64_MAX, NULL));
	assert_true(caa_mpic_next_rise_br(INT64_MIN, NULL));
}

static void test_schedule_warn(void **state)
{
	(void)state;
	static const struct {
		size_t listed;
		int y, m, d;    /* the day the warning is about */
		int64_t offset; /* seconds from it */
		bool warn;
		unsigned min;
	} t[] = {
	    /* 30 days ahead, inclusive; the second before that, silent; once in force, silent. */
	    {4, 2026, 12, 15, -30 * DAY - 1, false, 0},
	    {4, 2026, 12, 15, -30 * DAY, true, 5},
	    {4, 2026, 12, 15, -1, true, 5},
	    {4, 2026, 12, 15, 0, false, 0},
	    {5, 2026, 12, 15, -1, false, 0},
	    {5, 2026, 12, 15, -30 * DAY, false, 0},
	    {3, 2026, 6, 15, -30 * DAY - 1, false, 0},
	    {3, 2026, 6, 15, -30 * DAY, true, 4},
	    {3, 2026, 6, 15, 0, false, 0}, /* in force: 3 < 4 fails checks; 5 is 6 months away */
	    {3, 2026, 12, 15, -30 * DAY, true, 5},
	    {2, 2026, 3, 15, -30 * DAY, true, 3},
	    {2, 2026, 3, 15, -31 * DAY, false, 0},
	    {0, 2025, 3, 15, -30 * DAY, true, 2},
	    {1, 2025, 3, 15, -1, true, 2},
	    /* Listed enough for the next rise, not the one after (more than 30 days off). */
	    {4, 2026, 6, 15, -1, false, 0},
	    {64, 2026, 12, 15, -1, false, 0},
	};
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		caa_mpic_step_t s = {0};
		int64_t now = utc(t[i].y, t[i].m, t[i].d) + t[i].offset;
		bool w = caa_mpic_warn_br(t[i].listed, now, &s);
		if (w != t[i].warn)
			fail_msg("row %zu: warn %d, expected %d", i, w, t[i].warn);
		if (w)
			assert_int_equal(s.min_remotes, t[i].min);
	}
}

static void test_schedule_check(void **state)
{
	(void)state;
	static const struct {
		size_t listed;
		int y, m, d;
		int64_t offset;
		const char *detail; /* NULL: enough */
	} t[] = {
	    {0, 2025, 3, 15, -1, NULL},
	    {0, 2025, 3, 15, 0,
	     "During secondary validation: 0 remote perspectives configured, the Baseline "
	     "Requirements require 2 from 2025-03-15"},
	    {1, 2025, 3, 15, 0,
	     "During secondary validation: 1 remote perspectives configured, the Baseline "
	     "Requirements require 2 from 2025-03-15"},
	    {2, 2026, 3, 15, -1, NULL},
	    {2, 2026, 3, 15, 0,
	     "During secondary validation: 2 remote perspectives configured, the Baseline "
	     "Requirements require 3 from 2026-03-15"},
	    {3, 2026, 6, 15, -1, NULL},
	    {3, 2026, 6, 15, 0,
	     "During secondary validation: 3 remote perspectives configured, the Baseline "
	     "Requirements require 4 from 2026-06-15"},
	    {4, 2026, 12, 15, -1, NULL},
	    {4, 2026, 12, 15, 0,
	     "During secondary validation: 4 remote perspectives configured, the Baseline "
	     "Requirements require 5 from 2026-12-15"},
	    {3, 2026, 12, 15, 0,
	     "During secondary validation: 3 remote perspectives configured, the Baseline "
	     "Requirements require 5 from 2026-12-15"},
	    {5, 2026, 12, 15, 0, NULL},
	    {6, 2030, 1, 1, 0, NULL},
	};
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		caa_problem_t *p = (caa_problem_t *)&p; /* must be overwritten */
		int64_t now = utc(t[i].y, t[i].m, t[i].d) + t[i].offset;
		assert_int_equal(caa_mpic_schedule_check(t[i].listed, now, &p), CAA_EOK);
		if (t[i].detail == NULL) {
			assert_null(p);
			continue;
		}
		assert_non_null(p);
		assert_int_equal(p->type, CAA_PROB_SERVER_INTERNAL);
		assert_int_equal(p->status, 500);
		assert_string_equal(p->detail, t[i].detail);
		assert_int_equal(caa_mpic_verdict(p), CAA_LOOKUP_FAILED);
		caa_problem_free(p);
	}
	assert_int_equal(caa_mpic_schedule_check(1, 0, NULL), CAA_EINVAL);
}

/* ---- the quorum ---- */

#define MAXR  8
#define IDENT "example.com"

static const char *rir_of(char c)
{
	switch (c) {
	case 'A': return "ARIN";
	case 'R': return "RIPE";
	case 'P': return "APNIC";
	case 'L': return "LACNIC";
	case 'F': return "AFRINIC";
	default: return "";
	}
}

static const char *const names[MAXR] = {"r0", "r1", "r2", "r3", "r4", "r5", "r6", "r7"};

typedef struct fixture {
	caa_mpic_remote_t remotes[MAXR];
	caa_mpic_outcome_t outcomes[MAXR];
	caa_problem_t *caa, *dns, *srv;
	size_t n;
} fixture_t;

/*
 * rirs: one letter per remote (A ARIN, R RIPE, P APNIC, L LACNIC, F AFRINIC).
 * states: C corroborated, F a caa problem, D a dns problem, S a serverInternal
 * problem, U unreachable, T timeout (5 s), t timeout (250 ms), M mismatched
 * name, m mismatched RIR, . pending.
 */
static void outcome_of(fixture_t *f, size_t i, char c)
{
	caa_mpic_outcome_t *o = &f->outcomes[i];
	memset(o, 0, sizeof(*o));
	switch (c) {
	case '.': o->state = CAA_MPIC_PENDING; break;
	case 'C': caa_mpic_classify(&f->remotes[i], names[i], f->remotes[i].rir, NULL, o); break;
	case 'F': caa_mpic_classify(&f->remotes[i], names[i], f->remotes[i].rir, f->caa, o); break;
	case 'D': caa_mpic_classify(&f->remotes[i], names[i], f->remotes[i].rir, f->dns, o); break;
	case 'S': caa_mpic_classify(&f->remotes[i], names[i], f->remotes[i].rir, f->srv, o); break;
	case 'U':
		o->state = CAA_MPIC_UNREACHABLE;
		o->error = "UNAVAILABLE: failed to connect to all addresses";
		break;
	case 'T':
		o->state = CAA_MPIC_TIMEOUT;
		o->timeout_ms = 5000;
		break;
	case 't':
		o->state = CAA_MPIC_TIMEOUT;
		o->timeout_ms = 250;
		break;
	/* A mismatch wins over what the answer says: it carries a caa problem here. */
	case 'M': caa_mpic_classify(&f->remotes[i], "r9", f->remotes[i].rir, f->caa, o); break;
	case 'm': caa_mpic_classify(&f->remotes[i], names[i], "AFRINIC", NULL, o); break;
	default: fail_msg("bad state %c", c);
	}
}

static void fixture_init(fixture_t *f, const char *rirs, const char *states)
{
	memset(f, 0, sizeof(*f));
	f->n = strlen(rirs);
	assert_int_equal(strlen(states), f->n);
	assert_true(f->n <= MAXR);
	f->caa = caa_problem_forbidden(IDENT, IDENT);
	f->dns = caa_problem_dns(IDENT, "SERVFAIL", IDENT,
	                         "the domain's nameservers may be malfunctioning");
	f->srv = caa_problem_new(CAA_PROB_SERVER_INTERNAL, NULL, "remote broke");
	assert_non_null(f->caa);
	assert_non_null(f->dns);
	assert_non_null(f->srv);
	for (size_t i = 0; i < f->n; i++) {
		f->remotes[i].name = names[i];
		f->remotes[i].rir = rir_of(rirs[i]);
		outcome_of(f, i, states[i]);
	}
}

static void fixture_deinit(fixture_t *f)
{
	caa_problem_free(f->caa);
	caa_problem_free(f->dns);
	caa_problem_free(f->srv);
}

#define SV "During secondary validation: "
#define CAA_DETAIL                                                                                 \
	SV "While processing CAA for example.com: CAA record for example.com prevents issuance"
#define DNS_DETAIL                                                                                 \
	SV "While processing CAA for example.com: DNS problem: SERVFAIL looking up CAA for "       \
	   "example.com - the domain's nameservers may be malfunctioning"
#define UNREACH(r)                                                                                 \
	SV "remote perspective " r " unreachable: UNAVAILABLE: failed to connect to all addresses"
#define TIMEOUT(r) SV "remote perspective " r " did not answer within 5s"

typedef struct row {
	const char *rirs, *states;
	bool decided, ok;
	size_t passed, failed;
	int reported; /* -1: none */
	caa_verdict_t verdict;
	caa_problem_type_t type;
	int status;
	const char *detail;
} row_t;

/* Every outcome known: the quorum table, the RIR rule and every problem text. */
/* clang-format off */
static const row_t final_rows[] = {
    /* 2 remotes: 1 failure allowed, but the one corroborating is then a single RIR. */
    {"AR", "CC", true, true, 2, 0, -1, CAA_PERMITTED, 0, 0, NULL},
    {"AR", "CU", true, false, 1, 1, 1, CAA_LOOKUP_FAILED, CAA_PROB_SERVER_INTERNAL, 500, UNREACH("r1")},
    {"AR", "FD", true, false, 0, 2, 0, CAA_FORBIDDEN, CAA_PROB_CAA, 403, CAA_DETAIL},
    /* 3 remotes */
    {"ARP", "CCC", true, true, 3, 0, -1, CAA_PERMITTED, 0, 0, NULL},
    {"ARP", "CCT", true, true, 2, 1, -1, CAA_PERMITTED, 0, 0, NULL},
    {"ARP", "CTD", true, false, 1, 2, 1, CAA_LOOKUP_FAILED, CAA_PROB_SERVER_INTERNAL, 500, TIMEOUT("r1")},
    {"ARP", "DUF", true, false, 0, 3, 0, CAA_LOOKUP_FAILED, CAA_PROB_DNS, 400, DNS_DETAIL},
    /* 4 remotes */
    {"ARPL", "CCCC", true, true, 4, 0, -1, CAA_PERMITTED, 0, 0, NULL},
    {"ARPL", "CFCC", true, true, 3, 1, -1, CAA_PERMITTED, 0, 0, NULL},
    {"ARPL", "CCFD", true, false, 2, 2, 2, CAA_FORBIDDEN, CAA_PROB_CAA, 403, CAA_DETAIL},
    {"ARPL", "UCDF", true, false, 1, 3, 0, CAA_LOOKUP_FAILED, CAA_PROB_SERVER_INTERNAL, 500, UNREACH("r0")},
    /* 5 remotes */
    {"ARPLF", "CCCCC", true, true, 5, 0, -1, CAA_PERMITTED, 0, 0, NULL},
    {"ARPLF", "CCCCF", true, true, 4, 1, -1, CAA_PERMITTED, 0, 0, NULL},
    {"ARPLF", "CDCFC", true, false, 3, 2, 1, CAA_LOOKUP_FAILED, CAA_PROB_DNS, 400, DNS_DETAIL},
    {"ARPLF", "CCFUT", true, false, 2, 3, 2, CAA_FORBIDDEN, CAA_PROB_CAA, 403, CAA_DETAIL},
    /* 6 remotes: 2 failures allowed */
    {"ARPLFA", "CCCCCC", true, true, 6, 0, -1, CAA_PERMITTED, 0, 0, NULL},
    {"ARPLFA", "UCCCCC", true, true, 5, 1, -1, CAA_PERMITTED, 0, 0, NULL},
    {"ARPLFA", "CFCCCT", true, true, 4, 2, -1, CAA_PERMITTED, 0, 0, NULL},
    {"ARPLFA", "CCCTFD", true, false, 3, 3, 3, CAA_LOOKUP_FAILED, CAA_PROB_SERVER_INTERNAL, 500, TIMEOUT("r3")},
    /* 7 remotes */
    {"ARPLFAR", "CCDCCUC", true, true, 5, 2, -1, CAA_PERMITTED, 0, 0, NULL},
    {"ARPLFAR", "CCDCCUF", true, false, 4, 3, 2, CAA_LOOKUP_FAILED, CAA_PROB_DNS, 400, DNS_DETAIL},
    /* The RIR rule: all corroborating in one RIR fails, with no failure at all. */
    {"AAAA", "CCCC", true, false, 4, 0, -1, CAA_LOOKUP_FAILED, CAA_PROB_SERVER_INTERNAL, 500,
     SV "corroborating perspectives span fewer than 2 RIRs (ARIN)"},
    {"RRRRRR", "CCCCCC", true, false, 6, 0, -1, CAA_LOOKUP_FAILED, CAA_PROB_SERVER_INTERNAL, 500,
     SV "corroborating perspectives span fewer than 2 RIRs (RIPE)"},
    {"A", "C", true, false, 1, 0, -1, CAA_LOOKUP_FAILED, CAA_PROB_SERVER_INTERNAL, 500,
     SV "corroborating perspectives span fewer than 2 RIRs (ARIN)"},
    {"AAAAR", "CCCCC", true, true, 5, 0, -1, CAA_PERMITTED, 0, 0, NULL},
    /* The other RIR is the failing one: failing remotes are reported first (§9). */
    {"AAAAR", "CCCCF", true, false, 4, 1, 4, CAA_FORBIDDEN, CAA_PROB_CAA, 403, CAA_DETAIL},
    {"AAARR", "CCCUU", true, false, 3, 2, 3, CAA_LOOKUP_FAILED, CAA_PROB_SERVER_INTERNAL, 500, UNREACH("r3")},
    /* Every text of a remote without a problem, and a remote's own serverInternal. */
    {"ARPLF", "CCCtT", true, false, 3, 2, 3, CAA_LOOKUP_FAILED, CAA_PROB_SERVER_INTERNAL, 500,
     SV "remote perspective r3 did not answer within 250ms"},
    {"ARPLF", "CMCCU", true, false, 3, 2, 1, CAA_LOOKUP_FAILED, CAA_PROB_SERVER_INTERNAL, 500,
     SV "remote perspective r1 reported r9 (RIPE), expected r1 (RIPE)"},
    {"ARPLF", "CCmCU", true, false, 3, 2, 2, CAA_LOOKUP_FAILED, CAA_PROB_SERVER_INTERNAL, 500,
     SV "remote perspective r2 reported r2 (AFRINIC), expected r2 (APNIC)"},
    {"ARPLF", "SCCCU", true, false, 3, 2, 0, CAA_LOOKUP_FAILED, CAA_PROB_SERVER_INTERNAL, 500,
     SV "remote broke"},
};

/* Some outcomes pending: what is certain already. */
static const row_t early_rows[] = {
    {"ARPLF", ".....", false, false, 0, 0, -1, CAA_LOOKUP_FAILED, 0, 0, NULL},
    {"ARPLF", "CC...", false, false, 2, 0, -1, CAA_LOOKUP_FAILED, 0, 0, NULL},
    {"ARPLF", "CCC.C", true, true, 4, 0, -1, CAA_PERMITTED, 0, 0, NULL},
    {"ARPLF", ".CCCC", true, true, 4, 0, -1, CAA_PERMITTED, 0, 0, NULL},
    {"ARPLF", "UCCC.", false, false, 3, 1, -1, CAA_LOOKUP_FAILED, 0, 0, NULL},
    /* Enough corroborations, one RIR, the pending one in another: wait for it. */
    {"AAAAR", "CCCC.", false, false, 4, 0, -1, CAA_LOOKUP_FAILED, 0, 0, NULL},
    /* Enough corroborations, one RIR, the pending one too: it fails, but the pending
     * remote may still fail and then its problem is the one reported. */
    {"AAAAA", "CCCC.", false, false, 4, 0, -1, CAA_LOOKUP_FAILED, 0, 0, NULL},
    /* Too many failures, but a pending remote comes first in configured order. */
    {"ARPLF", "..UU.", false, false, 0, 2, -1, CAA_LOOKUP_FAILED, 0, 0, NULL},
    {"ARPLF", ".CUU.", false, false, 1, 2, -1, CAA_LOOKUP_FAILED, 0, 0, NULL},
    {"ARPLF", "CCUD.", true, false, 2, 2, 2, CAA_LOOKUP_FAILED, CAA_PROB_SERVER_INTERNAL, 500, UNREACH("r2")},
    {"ARPLF", "F.U..", true, false, 0, 2, 0, CAA_FORBIDDEN, CAA_PROB_CAA, 403, CAA_DETAIL},
    {"ARPLF", "U....", false, false, 0, 1, -1, CAA_LOOKUP_FAILED, 0, 0, NULL},
    {"ARPLFA", "UU....", false, false, 0, 2, -1, CAA_LOOKUP_FAILED, 0, 0, NULL},
    {"ARPLFA", "UUT...", true, false, 0, 3, 0, CAA_LOOKUP_FAILED, CAA_PROB_SERVER_INTERNAL, 500, UNREACH("r0")},
    /* The RIR rule cannot hold any more: the first failure decides once nobody precedes it. */
    {"AAAA", "U...", true, false, 0, 1, 0, CAA_LOOKUP_FAILED, CAA_PROB_SERVER_INTERNAL, 500, UNREACH("r0")},
    {"AAAA", ".U..", false, false, 0, 1, -1, CAA_LOOKUP_FAILED, 0, 0, NULL},
    {"AR", "U.", true, false, 0, 1, 0, CAA_LOOKUP_FAILED, CAA_PROB_SERVER_INTERNAL, 500, UNREACH("r0")},
    {"AR", ".U", false, false, 0, 1, -1, CAA_LOOKUP_FAILED, 0, 0, NULL},
};
/* clang-format on */

static void check_row(const row_t *r, size_t i)
{
	fixture_t f;
	fixture_init(&f, r->rirs, r->states);
	caa_mpic_quorum_t q;
	assert_int_equal(caa_mpic_quorum(f.remotes, f.outcomes, f.n, IDENT, &q), CAA_EOK);
	if (q.decided != r->decided || q.ok != r->ok)
		fail_msg("row %zu (%s %s): decided %d ok %d", i, r->rirs, r->states, q.decided,
		         q.ok);
	assert_int_equal(q.passed, r->passed);
	assert_int_equal(q.failed, r->failed);
	assert_int_equal(q.total, f.n);
	assert_int_equal(q.pending, f.n - r->passed - r->failed);
	assert_int_equal(q.reported, r->reported < 0 ? SIZE_MAX : (size_t)r->reported);
	assert_int_equal(q.verdict, r->verdict);
	if (r->detail == NULL) {
		assert_null(q.problem);
	} else {
		assert_non_null(q.problem);
		assert_int_equal(q.problem->type, r->type);
		assert_int_equal(q.problem->status, r->status);
		if (strcmp(q.problem->detail, r->detail) != 0)
			fail_msg("row %zu: detail \"%s\"", i, q.problem->detail);
		assert_string_equal(q.problem->identifier, IDENT);
		assert_int_equal(caa_mpic_verdict(q.problem), r->verdict);
	}
	caa_mpic_quorum_deinit(&q);
	assert_false(q.decided);
	assert_null(q.problem);
	assert_int_equal(q.verdict, CAA_LOOKUP_FAILED);
	fixture_deinit(&f);
}

static void test_quorum_final(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(final_rows) / sizeof(final_rows[0]); i++)
		check_row(&final_rows[i], i);
}

static void test_quorum_early(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(early_rows) / sizeof(early_rows[0]); i++)
		check_row(&early_rows[i], i);
}

/* Next permutation of p[0..n) in lexicographic order; false after the last. */
static bool next_perm(size_t *p, size_t n)
{
	if (n < 2)
		return false;
	size_t i = n - 1;
	while (i > 0 && p[i - 1] >= p[i])
		i--;
	if (i == 0)
		return false;
	size_t j = n - 1;
	while (p[j] <= p[i - 1])
		j--;
	size_t t = p[i - 1];
	p[i - 1] = p[j];
	p[j] = t;
	for (size_t a = i, b = n - 1; a < b; a++, b--) {
		t = p[a];
		p[a] = p[b];
		p[b] = t;
	}
	return true;
}

/*
 * Whatever order the remotes answer in, the first decision taken early is the
 * decision with every outcome known (same pass, same reported remote, same
 * text), and once decided it stays decided.
 */
static void test_quorum_arrival_order(void **state)
{
	(void)state;
	static const struct {
		const char *rirs, *states;
	} t[] = {
	    {"ARPLF", "CDCFC"},   {"ARPLF", "CCFUT"},   {"ARPLF", "CCCCF"}, {"ARPLF", "UCCCC"},
	    {"AAAAR", "CCCCF"},   {"AAAAA", "CCCCC"},   {"AAAAA", "CCCCU"}, {"ARPLFA", "CFCCCT"},
	    {"ARPLFA", "CCCTFD"}, {"ARPLFA", "TCCCUD"}, {"AR", "CU"},       {"AR", "UC"},
	    {"ARP", "DUF"},       {"AAR", "CCU"},
	};
	for (size_t k = 0; k < sizeof(t) / sizeof(t[0]); k++) {
		fixture_t fin;
		fixture_init(&fin, t[k].rirs, t[k].states);
		caa_mpic_quorum_t want;
		assert_int_equal(caa_mpic_quorum(fin.remotes, fin.outcomes, fin.n, IDENT, &want),
		                 CAA_EOK);
		assert_true(want.decided);

		size_t perm[MAXR];
		for (size_t i = 0; i < fin.n; i++)
			perm[i] = i;
		do {
			fixture_t f;
			char pend[MAXR + 1];
			memset(pend, '.', fin.n);
			pend[fin.n] = '\0';
			fixture_init(&f, t[k].rirs, pend);
			bool seen = false;
			for (size_t a = 0; a < fin.n; a++) {
				f.outcomes[perm[a]] = fin.outcomes[perm[a]];
				caa_mpic_quorum_t q;
				assert_int_equal(
				    caa_mpic_quorum(f.remotes, f.outcomes, f.n, IDENT, &q),
				    CAA_EOK);
				if (seen)
					assert_true(q.decided);
				if (q.decided) {
					seen = true;
					if (q.ok != want.ok || q.reported != want.reported)
						fail_msg("%s %s: arrival %zu: ok %d reported %zu",
						         t[k].rirs, t[k].states, a, q.ok,
						         q.reported);
					assert_int_equal(q.verdict, want.verdict);
					if (want.problem != NULL)
						assert_string_equal(q.problem->detail,
						                    want.problem->detail);
				} else {
					assert_int_equal(q.verdict, CAA_LOOKUP_FAILED);
				}
				caa_mpic_quorum_deinit(&q);
			}
			assert_true(seen);
			fixture_deinit(&f);
		} while (next_perm(perm, fin.n));
		caa_mpic_quorum_deinit(&want);
		fixture_deinit(&fin);
	}
}

static void test_quorum_invalid(void **state)
{
	(void)state;
	fixture_t f;
	fixture_init(&f, "AR", "CC");
	caa_mpic_quorum_t q;
	assert_int_equal(caa_mpic_quorum(f.remotes, f.outcomes, 0, IDENT, &q), CAA_EINVAL);
	assert_false(q.decided);
	assert_int_equal(q.verdict, CAA_LOOKUP_FAILED);
	assert_int_equal(caa_mpic_quorum(NULL, f.outcomes, 2, IDENT, &q), CAA_EINVAL);
	assert_int_equal(caa_mpic_quorum(f.remotes, f.outcomes, 2, IDENT, NULL), CAA_EINVAL);
	/* A problem state without its problem, and an unknown state: a caller bug, never a pass. */
	f.outcomes[1].state = CAA_MPIC_PROBLEM;
	f.outcomes[1].problem = NULL;
	assert_int_equal(caa_mpic_quorum(f.remotes, f.outcomes, 2, IDENT, &q), CAA_EINVAL);
	assert_false(q.ok);
	assert_int_equal(q.verdict, CAA_LOOKUP_FAILED);
	f.outcomes[1].state = (caa_mpic_state_t)77;
	assert_int_equal(caa_mpic_quorum(f.remotes, f.outcomes, 2, IDENT, &q), CAA_EINVAL);
	assert_int_equal(q.verdict, CAA_LOOKUP_FAILED);
	fixture_deinit(&f);

	assert_int_equal(caa_mpic_allowed_failures(1), 0);
	assert_int_equal(caa_mpic_allowed_failures(2), 1);
	assert_int_equal(caa_mpic_allowed_failures(5), 1);
	assert_int_equal(caa_mpic_allowed_failures(6), 2);
	assert_int_equal(caa_mpic_allowed_failures(64), 2);
	assert_int_equal(caa_mpic_verdict(NULL), CAA_LOOKUP_FAILED);
}

/* ---- the account ---- */

static void test_account_id(void **state)
{
	(void)state;
	static const char *const prefixes[] = {
	    "https://acme-v02.api.letsencrypt.org/acme/acct/",
	    "https://acme-staging-v02.api.letsencrypt.org/acme/acct/",
	};
	const caa_policy_t pol = {.account_uri_prefixes = prefixes, .n_account_uri_prefixes = 2};
	static const struct {
		const char *uri;
		int ret;
		int64_t id;
	} t[] = {
	    {NULL, CAA_EOK, 0},
	    {"", CAA_EOK, 0},
	    {"https://acme-v02.api.letsencrypt.org/acme/acct/12345", CAA_EOK, 12345},
	    {"https://acme-staging-v02.api.letsencrypt.org/acme/acct/7", CAA_EOK, 7},
	    {"https://acme-v02.api.letsencrypt.org/acme/acct/9223372036854775807", CAA_EOK,
	     INT64_MAX},
	    {"https://acme-v02.api.letsencrypt.org/acme/acct/9223372036854775808",
	     CAA_EACCOUNT_PREFIX, 0},
	    {"https://acme-v02.api.letsencrypt.org/acme/acct/99999999999999999999",
	     CAA_EACCOUNT_PREFIX, 0},
	    {"https://acme-v02.api.letsencrypt.org/acme/acct/", CAA_EACCOUNT_PREFIX, 0},
	    {"https://acme-v02.api.letsencrypt.org/acme/acct/0", CAA_EACCOUNT_PREFIX, 0},
	    {"https://acme-v02.api.letsencrypt.org/acme/acct/012", CAA_EACCOUNT_PREFIX, 0},
	    {"https://acme-v02.api.letsencrypt.org/acme/acct/12a", CAA_EACCOUNT_PREFIX, 0},
	    {"https://acme-v02.api.letsencrypt.org/acme/acct/-1", CAA_EACCOUNT_PREFIX, 0},
	    {"https://acme-v02.api.letsencrypt.org/acme/acct/1/", CAA_EACCOUNT_PREFIX, 0},
	    {"https://other.example/acme/acct/1", CAA_EACCOUNT_PREFIX, 0},
	    {"https://acme-v02.api.letsencrypt.org/acme/acc", CAA_EACCOUNT_PREFIX, 0},
	};
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		int64_t id = -1;
		int ret = caa_mpic_account_id(&pol, t[i].uri, &id);
		if (ret != t[i].ret)
			fail_msg("row %zu: %s", i, caa_strerror(ret));
		assert_int_equal(id, t[i].id);
		/* What is sent names the account the policy matches the URI to. */
		if (ret == CAA_EOK && id > 0)
			assert_true(caa_policy_account_agrees(&pol, t[i].uri, id));
	}
	int64_t id = -1;
	assert_int_equal(caa_mpic_account_id(NULL, "https://x/1", &id), CAA_EACCOUNT_PREFIX);
	assert_int_equal(id, 0);
	assert_int_equal(caa_mpic_account_id(&pol, "https://x/1", NULL), CAA_EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_schedule_boundaries), cmocka_unit_test(test_schedule_warn),
	    cmocka_unit_test(test_schedule_check),      cmocka_unit_test(test_quorum_final),
	    cmocka_unit_test(test_quorum_early),        cmocka_unit_test(test_quorum_arrival_order),
	    cmocka_unit_test(test_quorum_invalid),      cmocka_unit_test(test_account_id),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
