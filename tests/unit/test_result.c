/*
 * test_result.c — caa_evaluate() end to end without DNS: identifier →
 * labels → verdict, reason, relevant domain, DNSSEC state and the exact
 * problem document of docs/semantics.md §8, plus order aggregation.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "result.h"

#define ACCT "https://ca.example/acme/acct/1"
#define HINT " - the domain's nameservers may be malfunctioning"
/* Boulder's bdns rcodeExplanations for NXDOMAIN (docs/semantics.md §8) */
#define NXHINT " - check that a DNS record exists for this domain"

/* A label spec: outcome letter, optional "/S" (secure) "/I" (insecure), optional
 * "+" (retried once), then ":" and records "flags tag value" separated by '|'. */
typedef struct {
	const char *what;
	const char *ident;
	const char *labels[8]; /* full name first; NULL = not given (pending) */
	int knobs;             /* 1: tld_nxdomain empty, 2: nodata_without_soa error,
	                        * 4: insecure_lookup_failure_permits */
	const char *method;
	caa_verdict_t verdict;
	caa_reason_t reason;
	const char *relevant;
	caa_dnssec_t dnssec;
	caa_problem_type_t ptype; /* 0: no problem */
	const char *detail;
} row_t;

#define P   CAA_PERMITTED
#define F   CAA_FORBIDDEN
#define L   CAA_LOOKUP_FAILED
#define SEC CAA_DNSSEC_SECURE
#define INS CAA_DNSSEC_INSECURE
#define IND CAA_DNSSEC_INDETERMINATE
#define BOG CAA_DNSSEC_BOGUS

/* clang-format off */
static const row_t rows[] = {
	{"no CAA anywhere", "www.shop.example", {"e", "e", "e"}, 0, "dns-01", P, CAA_R_NO_CAA, "", IND, 0, NULL},
	{"permitted at the parent", "www.shop.example", {"e", "p:0 issue ca.example", "e"}, 0, "dns-01", P, CAA_R_AUTHORIZED, "shop.example", IND, 0, NULL},
	{"forbidden at the parent", "www.shop.example", {"e", "p:0 issue other-ca.example|0 iodef mailto:sec@shop.example", NULL}, 0, "dns-01", F, CAA_R_NOT_AUTHORIZED, "shop.example", IND, CAA_PROB_CAA,
	 "While processing CAA for www.shop.example: CAA record for shop.example prevents issuance"},
	{"uppercase and trailing dot normalised", "WWW.Shop.Example.", {"e", "p:0 issue other-ca.example", NULL}, 0, "dns-01", F, CAA_R_NOT_AUTHORIZED, "shop.example", IND, CAA_PROB_CAA,
	 "While processing CAA for www.shop.example: CAA record for shop.example prevents issuance"},
	{"wildcard keeps '*.' in the detail", "*.shop.example", {"p:0 issue ca.example|0 issuewild ;", "e"}, 0, "dns-01", F, CAA_R_NOT_AUTHORIZED, "shop.example", IND, CAA_PROB_CAA,
	 "While processing CAA for *.shop.example: CAA record for shop.example prevents issuance"},
	{"wildcard without issuewild", "*.shop.example", {"p:0 issue ca.example", "e"}, 0, "dns-01", P, CAA_R_AUTHORIZED, "shop.example", IND, 0, NULL},
	{"critical tag", "crit.example", {"p:128 tbs x|0 issue ca.example", "e"}, 0, "dns-01", F, CAA_R_CRITICAL_TAG, "crit.example", IND, CAA_PROB_CAA,
	 "While processing CAA for crit.example: CAA record for crit.example prevents issuance"},
	{"SERVFAIL at the name", "a.broken.example", {"s", "p:0 issue ca.example", "e"}, 0, "dns-01", L, CAA_R_DNS_SERVFAIL, "", IND, CAA_PROB_DNS,
	 "While processing CAA for a.broken.example: DNS problem: SERVFAIL looking up CAA for a.broken.example" HINT},
	{"SERVFAIL above the relevant RRset is irrelevant", "a.ok.example", {"p:0 issue ca.example", "s", "s"}, 0, "dns-01", P, CAA_R_AUTHORIZED, "a.ok.example", IND, 0, NULL},
	{"timeout at the TLD", "www.example.me", {"e", "e", "t"}, 0, "dns-01", L, CAA_R_DNS_TIMEOUT, "", IND, CAA_PROB_DNS,
	 "While processing CAA for www.example.me: DNS problem: query timed out looking up CAA for me"},
	{"network error", "x.example", {"w", NULL}, 0, "dns-01", L, CAA_R_DNS_NETWORK, "", IND, CAA_PROB_DNS,
	 "While processing CAA for x.example: DNS problem: networking error looking up CAA for x.example"},
	{"REFUSED", "x.example", {"r", NULL}, 0, "dns-01", L, CAA_R_DNS_REFUSED, "", IND, CAA_PROB_DNS,
	 "While processing CAA for x.example: DNS problem: REFUSED looking up CAA for x.example"},
	{"DNSSEC bogus", "x.bogus.example", {"b:signature expired", NULL}, 0, "dns-01", L, CAA_R_DNSSEC_BOGUS, "", BOG, CAA_PROB_DNS,
	 "While processing CAA for x.bogus.example: DNS problem: DNSSEC: signature expired looking up CAA for x.bogus.example"},
	{"TLD NXDOMAIN fails by default", "www.nosuchtld", {"n", "n"}, 0, "dns-01", L, CAA_R_DNS_NXDOMAIN_TLD, "", IND, CAA_PROB_DNS,
	 "While processing CAA for www.nosuchtld: DNS problem: NXDOMAIN looking up CAA for nosuchtld" NXHINT},
	{"TLD NXDOMAIN under tld_nxdomain empty", "www.corp", {"n", "n"}, 1, "dns-01", P, CAA_R_NO_CAA, "", IND, 0, NULL},
	{"NODATA without SOA is empty", "a.sloppy.example", {"o", "p:0 issue ca.example", "e"}, 0, "dns-01", P, CAA_R_AUTHORIZED, "sloppy.example", IND, 0, NULL},
	{"NODATA without SOA under the strict reading", "a.sloppy.example", {"o", "p:0 issue ca.example", "e"}, 2, "dns-01", L, CAA_R_DNS_NODATA_WITHOUT_SOA, "", IND, CAA_PROB_DNS,
	 "While processing CAA for a.sloppy.example: DNS problem: SERVFAIL looking up CAA for a.sloppy.example" HINT},
	{"secure chain", "www.signed.example", {"e/S", "p/S:0 issue ca.example", "e/S"}, 0, "dns-01", P, CAA_R_AUTHORIZED, "signed.example", SEC, 0, NULL},
	{"an insecure label below makes it insecure", "www.signed.example", {"e/I", "p/S:0 issue ca.example", NULL}, 0, "dns-01", P, CAA_R_AUTHORIZED, "signed.example", INS, 0, NULL},
	{"labels above the relevant RRset do not count", "signed.example", {"p/S:0 issue ca.example", "e/I"}, 0, "dns-01", P, CAA_R_AUTHORIZED, "signed.example", SEC, 0, NULL},
	{"pending label below: fails closed", "a.b.example", {NULL}, 0, "dns-01", L, CAA_R_INTERNAL, "", IND, CAA_PROB_SERVER_INTERNAL,
	 "While processing CAA for a.b.example: internal error: the lookup did not complete"},
	{"validation method mismatch", "m.example", {"p:0 issue ca.example; validationmethods=http-01", NULL}, 0, "dns-01", F, CAA_R_VALIDATION_METHOD_MISMATCH, "m.example", IND, CAA_PROB_CAA,
	 "While processing CAA for m.example: CAA record for m.example prevents issuance"},
	/* BR 3.2.2.8 carve-out (docs/semantics.md §6.1): an upstream failure, retried, in a
	 * zone proven Insecure */
	{"carve-out: retried SERVFAIL in a proven-insecure zone is empty", "a.broken.example", {"s/I+", "e/I", "e/S"}, 4, "dns-01", P, CAA_R_NO_CAA, "", INS, 0, NULL},
	{"carve-out: a timeout too", "a.broken.example", {"t/I+", "e/I", "e/S"}, 4, "dns-01", P, CAA_R_NO_CAA, "", INS, 0, NULL},
	{"carve-out: records above still decide", "a.broken.example", {"s/I+", "p/I:0 issue other-ca.example", NULL}, 4, "dns-01", F, CAA_R_NOT_AUTHORIZED, "broken.example", INS, CAA_PROB_CAA,
	 "While processing CAA for a.broken.example: CAA record for broken.example prevents issuance"},
	{"carve-out needs a retry", "a.broken.example", {"s/I", "e/I", "e/S"}, 4, "dns-01", L, CAA_R_DNS_SERVFAIL, "", INS, CAA_PROB_DNS,
	 "While processing CAA for a.broken.example: DNS problem: SERVFAIL looking up CAA for a.broken.example" HINT},
	{"carve-out needs a proven-insecure zone", "a.broken.example", {"s+", "e/I", "e/S"}, 4, "dns-01", L, CAA_R_DNS_SERVFAIL, "", IND, CAA_PROB_DNS,
	 "While processing CAA for a.broken.example: DNS problem: SERVFAIL looking up CAA for a.broken.example" HINT},
	{"carve-out off by default", "a.broken.example", {"s/I+", "e/I", "e/S"}, 0, "dns-01", L, CAA_R_DNS_SERVFAIL, "", INS, CAA_PROB_DNS,
	 "While processing CAA for a.broken.example: DNS problem: SERVFAIL looking up CAA for a.broken.example" HINT},
	{"carve-out never covers a network error", "a.broken.example", {"w/I+", "e/I", "e/S"}, 4, "dns-01", L, CAA_R_DNS_NETWORK, "", INS, CAA_PROB_DNS,
	 "While processing CAA for a.broken.example: DNS problem: networking error looking up CAA for a.broken.example"},
	{"onion not applicable", "abc.onion", {NULL}, 0, "dns-01", P, CAA_R_NOT_APPLICABLE, "", IND, 0, NULL},
};
/* clang-format on */

/* Storage for the records a row's specs produce. */
typedef struct {
	caa_rr_t rrs[8][8];
	char text[8][512];
} store_t;

static caa_label_t make_label(const char *name, const char *spec, caa_rr_t *rrs, char *text)
{
	caa_label_t l = {.name = name, .dnssec = CAA_DNSSEC_INDETERMINATE};
	if (spec == NULL)
		return l; /* pending */
	switch (spec[0]) {
	case 'p': l.outcome = CAA_OUT_PRESENT; break;
	case 'e': l.outcome = CAA_OUT_EMPTY; break;
	case 's': l.outcome = CAA_OUT_SERVFAIL; break;
	case 'r': l.outcome = CAA_OUT_REFUSED; break;
	case 't': l.outcome = CAA_OUT_TIMEOUT; break;
	case 'w': l.outcome = CAA_OUT_NETWORK; break;
	case 'n': l.outcome = CAA_OUT_NXDOMAIN; break;
	case 'o': l.outcome = CAA_OUT_NODATA_NOSOA; break;
	case 'b':
		l.outcome = CAA_OUT_BOGUS;
		l.dnssec = CAA_DNSSEC_BOGUS;
		break;
	default: fail_msg("bad spec %s", spec);
	}
	const char *p = spec + 1;
	if (*p == '/') {
		l.dnssec = p[1] == 'S' ? CAA_DNSSEC_SECURE : CAA_DNSSEC_INSECURE;
		p += 2;
	}
	if (*p == '+') {
		l.retries = 1;
		p++;
	}
	if (*p != ':')
		return l;
	snprintf(text, 512, "%s", p + 1);
	if (l.outcome == CAA_OUT_BOGUS) {
		l.why = text;
		return l;
	}
	/* "flags tag value|flags tag value" */
	size_t n = 0;
	for (char *rec = strtok(text, "|"); rec && n < 8; rec = strtok(NULL, "|")) {
		char *sp1 = strchr(rec, ' ');
		char *sp2 = strchr(sp1 + 1, ' ');
		*sp1 = *sp2 = '\0';
		rrs[n] = (caa_rr_t){.flags = (uint8_t)atoi(rec),
		                    .tag = sp1 + 1,
		                    .tag_len = (uint8_t)strlen(sp1 + 1),
		                    .value = sp2 + 1,
		                    .value_len = (uint16_t)strlen(sp2 + 1)};
		n++;
	}
	l.rrs = rrs;
	l.n_rrs = n;
	return l;
}

static const char *const issuers[] = {"ca.example"};
static const char *const prefixes[] = {"https://ca.example/acme/acct/"};

static void policy(caa_policy_t *pol, int knobs)
{
	caa_policy_init(pol);
	pol->issuer_domains = issuers;
	pol->n_issuer_domains = 1;
	pol->account_uri_prefixes = prefixes;
	pol->n_account_uri_prefixes = 1;
	pol->tld_nxdomain_error = !(knobs & 1);
	pol->nodata_without_soa_error = (knobs & 2) != 0;
	pol->insecure_lookup_failure_permits = (knobs & 4) != 0;
}

/* Evaluate a row; the caller frees the result. */
static caa_result_t *run_row(const row_t *r, bool trace)
{
	static store_t st;
	caa_label_t labels[8];
	caa_name_t name;
	caa_policy_t pol;
	caa_result_t *res = NULL;
	size_t n = 0;

	policy(&pol, r->knobs);
	if (caa_name_parse(r->ident, strlen(r->ident), &name) == CAA_EOK) {
		for (; n < name.n_labels && n < 8; n++)
			labels[n] = make_label(caa_name_suffix(&name, (unsigned)n), r->labels[n],
			                       st.rrs[n], st.text[n]);
	}
	caa_request_t req = {.identifier = r->ident, .account_uri = ACCT, .method = r->method};
	assert_int_equal(caa_evaluate(&pol, &req, labels, n, trace, &res), CAA_EOK);
	return res;
}

static void test_rows(void **state)
{
	(void)state;
	int failures = 0;
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		const row_t *r = &rows[i];
		caa_result_t *res = run_row(r, i % 2 == 0);
		bool ok = res->verdict == r->verdict && res->reason == r->reason &&
		          strcmp(res->relevant_domain, r->relevant) == 0 &&
		          res->dnssec == r->dnssec;
		if (r->ptype == 0) {
			ok = ok && res->problem == NULL;
		} else {
			ok = ok && res->problem != NULL && res->problem->type == r->ptype &&
			     res->problem->status == caa_problem_status(r->ptype) &&
			     strcmp(res->problem->detail, r->detail) == 0;
		}
		if (!ok) {
			print_error(
			    "row %zu \"%s\": got %s/%s relevant \"%s\" dnssec %s problem \"%s\"\n",
			    i, r->what, caa_verdict_name(res->verdict),
			    caa_reason_name(res->reason), res->relevant_domain,
			    caa_dnssec_name(res->dnssec),
			    res->problem ? res->problem->detail : "(none)");
			failures++;
		}
		caa_result_free(res);
	}
	assert_int_equal(failures, 0);
}

/* The result names the deciding record and copies the relevant RRset with notes. */
static void test_records_and_trace(void **state)
{
	(void)state;
	caa_result_t *res = run_row(&rows[2], true);
	assert_int_equal(res->n_records, 2);
	assert_string_equal(res->records[0].tag, "issue");
	assert_string_equal(res->records[0].value, "other-ca.example");
	assert_int_equal(res->records[0].note, CAA_NOTE_OTHER_ISSUER);
	assert_int_equal(res->records[1].note, CAA_NOTE_NOT_RESTRICTING);
	assert_int_equal(res->decided_by, 0);
	assert_int_equal(res->n_trace, 3);
	assert_string_equal(res->trace[0].name, "www.shop.example");
	assert_int_equal(res->trace[0].outcome, CAA_OUT_EMPTY);
	assert_true(res->trace[1].relevant);
	assert_int_equal(res->trace[1].n_records, 2);
	assert_int_equal(res->trace[2].outcome, CAA_OUT_PENDING); /* not needed */
	assert_true(res->checked_at_ms > 1700000000000LL);
	caa_result_free(res);
}

static void test_bad_names(void **state)
{
	(void)state;
	caa_policy_t pol;
	caa_result_t *res = (caa_result_t *)1;
	policy(&pol, 0);
	const char *bad[] = {"", "a..b", "*.*.x", "a_b.example", "-a.example", "b\xc3\xbc.example"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		caa_request_t req = {.identifier = bad[i]};
		int rc = caa_evaluate(&pol, &req, NULL, 0, false, &res);
		assert_true(rc < 0);
		assert_null(res);
		res = (caa_result_t *)1;
	}
	caa_request_t req = {.type = "email", .identifier = "a.example"};
	assert_int_equal(caa_evaluate(&pol, &req, NULL, 0, false, &res), CAA_ENAME_TYPE);
	caa_request_t ip = {.type = "ip", .identifier = "2001:db8::1"};
	assert_int_equal(caa_evaluate(&pol, &ip, NULL, 0, false, &res), CAA_EOK);
	assert_int_equal(res->reason, CAA_R_NOT_APPLICABLE);
	caa_result_free(res);
	/* an address is no DNS name: type "dns" (or none) is refused, not "not applicable" */
	static const char *const ips[] = {"192.0.2.1", "2001:db8::1", "[::1]"};
	for (size_t i = 0; i < sizeof(ips) / sizeof(ips[0]); i++) {
		caa_request_t dns = {.type = i ? "dns" : NULL, .identifier = ips[i]};
		res = (caa_result_t *)1;
		assert_int_equal(caa_evaluate(&pol, &dns, NULL, 0, false, &res), CAA_ENAME_DNS_IP);
		assert_null(res);
	}
}

/* A validation method the CA cannot mean is a request error, never a mismatch. */
static void test_unknown_method(void **state)
{
	(void)state;
	caa_policy_t pol;
	caa_result_t *res = (caa_result_t *)1;
	policy(&pol, 0);
	static const char *const bad[] = {"dns-02", "DNS-01", "dns-01 ", "ca-tbr-7", "foo"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		caa_request_t req = {.identifier = "example.com", .method = bad[i]};
		assert_int_equal(caa_evaluate(&pol, &req, NULL, 0, false, &res), CAA_EMETHOD);
		assert_null(res);
	}
	/* what policy.method_labels maps a label to is one the CA can mean */
	static const char *const persist[] = {"dns-persist-01"};
	const caa_method_label_t labels[] = {{"ca-tbr-22", persist, 1}};
	pol.method_labels = labels;
	pol.n_method_labels = 1;
	caa_request_t req = {.type = "ip", .identifier = "192.0.2.1", .method = "dns-persist-01"};
	assert_int_equal(caa_evaluate(&pol, &req, NULL, 0, false, &res), CAA_EOK);
	caa_result_free(res);
	assert_true(caa_policy_method_known(&pol, "dns-01"));
	assert_false(caa_policy_method_known(&pol, "dns-persist-02"));
	assert_false(caa_policy_method_known(NULL, "dns-persist-01"));
	assert_true(caa_policy_method_known(NULL, "dns-account-01"));
	assert_false(caa_policy_method_known(NULL, ""));
	assert_false(caa_policy_method_known(NULL, NULL));
}

/* A failure the carve-out took is flagged; one it did not take is not. */
static void test_carve_out_flag(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		if (strncmp(rows[i].what, "carve-out", 9) != 0)
			continue;
		caa_result_t *res = run_row(&rows[i], false);
		bool took = res->verdict != CAA_LOOKUP_FAILED;
		if (((res->flags & CAA_RESULT_INSECURE_LOOKUP_FAILURE) != 0) != took)
			fail_msg("row \"%s\": flags %#x", rows[i].what, res->flags);
		if (took)
			assert_string_equal(
			    caa_result_flag_name(CAA_RESULT_INSECURE_LOOKUP_FAILURE),
			    "INSECURE_LOOKUP_FAILURE");
		caa_result_free(res);
	}
}

/* An account URI and an id naming different accounts are a request error:
 * either form alone could be authorised, and no answer would say which. */
static void test_accounts_disagree(void **state)
{
	(void)state;
	caa_policy_t pol;
	policy(&pol, 0);
	static const char *const rdata_v = "ca.example; accounturi=https://ca.example/acme/acct/1";
	caa_rr_t rr = {
	    .tag = "issue", .tag_len = 5, .value = rdata_v, .value_len = (uint16_t)strlen(rdata_v)};
	caa_label_t l = {.name = "example.com", .outcome = CAA_OUT_PRESENT, .rrs = &rr, .n_rrs = 1};
	static const struct {
		const char *uri;
		int64_t id;
		int want;
	} forms[] = {
	    {"https://ca.example/acme/acct/1", 2, CAA_EACCOUNT},
	    {"https://other.example/acct/1", 1, CAA_EACCOUNT},
	    {"1", 1, CAA_EACCOUNT},
	    {"https://ca.example/acme/acct/12", 1, CAA_EACCOUNT},
	    {"https://ca.example/acme/acct/1", 1, CAA_EOK},
	    {"https://ca.example/acme/acct/1", 0, CAA_EOK},
	    {NULL, 2, CAA_EOK},
	    {"", 2, CAA_EOK},
	};
	for (size_t i = 0; i < sizeof(forms) / sizeof(forms[0]); i++) {
		caa_request_t req = {.identifier = "example.com",
		                     .account_uri = forms[i].uri,
		                     .account_id = forms[i].id,
		                     .method = "dns-01"};
		caa_result_t *res = (caa_result_t *)1;
		assert_int_equal(caa_request_validate(&pol, &req), forms[i].want);
		assert_int_equal(caa_evaluate(&pol, &req, &l, 1, false, &res), forms[i].want);
		if (forms[i].want != CAA_EOK) {
			assert_null(res);
			continue;
		}
		assert_non_null(res);
		caa_result_free(res);
	}
	/* an IP identifier too: the request is refused, not "not applicable" */
	caa_request_t ip = {.type = "ip",
	                    .identifier = "192.0.2.1",
	                    .account_uri = "https://ca.example/acme/acct/1",
	                    .account_id = 2};
	caa_result_t *res = (caa_result_t *)1;
	assert_int_equal(caa_evaluate(&pol, &ip, NULL, 0, false, &res), CAA_EACCOUNT);
	assert_null(res);
	/* without prefixes no id names a URI: both forms together never agree */
	pol.n_account_uri_prefixes = 0;
	caa_request_t both = {.identifier = "example.com",
	                      .account_uri = "https://ca.example/acme/acct/1",
	                      .account_id = 1};
	assert_int_equal(caa_request_validate(&pol, &both), CAA_EACCOUNT);
	assert_string_not_equal(caa_strerror(CAA_EACCOUNT), "unknown error");
}

/* An order: 2 vs 3 failing identifiers (docs/semantics.md §8). */
static void test_order_aggregate(void **state)
{
	(void)state;
	caa_result_t *a = run_row(&rows[2], false); /* caa, www.shop.example */
	caa_result_t *b = run_row(&rows[7], false); /* dns, a.broken.example */
	caa_result_t *c = run_row(&rows[9], false); /* dns, www.example.me */
	const caa_problem_t *two[] = {a->problem, b->problem};
	const caa_problem_t *three[] = {a->problem, b->problem, c->problem};

	caa_problem_t *p = caa_problem_order(two, 2, false);
	assert_non_null(p);
	assert_int_equal(p->type, CAA_PROB_CAA);
	assert_int_equal(p->status, 403);
	assert_string_equal(p->detail,
	                    "Rechecking CAA for \"www.shop.example\" and 1 more identifiers "
	                    "failed. Refer to sub-problems for more information");
	assert_int_equal(p->n_subproblems, 2);
	assert_string_equal(p->subproblems[1].identifier, "a.broken.example");
	assert_int_equal(p->subproblems[1].type, CAA_PROB_DNS);
	assert_int_equal(p->subproblems[1].status, 400);
	caa_problem_free(p);

	p = caa_problem_order(three, 3, true);
	assert_non_null(p);
	assert_string_equal(p->detail,
	                    "Rechecking CAA for \"www.shop.example\" and 2 more identifiers "
	                    "failed. Refer to sub-problems for more information");
	assert_int_equal(p->n_subproblems, 3);
	assert_string_equal(p->subproblems[2].identifier, "www.example.me");
	assert_int_equal(p->subproblems[2].type, CAA_PROB_CAA); /* boulder_recheck_types */
	assert_string_equal(p->subproblems[2].detail, c->problem->detail);
	caa_problem_free(p);

	p = caa_problem_order(&three[1], 1, false);
	assert_int_equal(p->type, CAA_PROB_DNS);
	assert_string_equal(p->detail, b->problem->detail);
	assert_int_equal(p->n_subproblems, 0);
	caa_problem_free(p);

	/* boulder_recheck_types: one failure is that caa/403 problem too (docs/semantics.md §8) */
	p = caa_problem_order(&three[1], 1, true);
	assert_int_equal(p->type, CAA_PROB_CAA);
	assert_int_equal(p->status, 403);
	assert_string_equal(p->detail, b->problem->detail);
	assert_string_equal(p->identifier, "a.broken.example");
	assert_int_equal(p->n_subproblems, 0);
	caa_problem_free(p);

	caa_result_free(a);
	caa_result_free(b);
	caa_result_free(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_rows),
	    cmocka_unit_test(test_records_and_trace),
	    cmocka_unit_test(test_bad_names),
	    cmocka_unit_test(test_unknown_method),
	    cmocka_unit_test(test_accounts_disagree),
	    cmocka_unit_test(test_order_aggregate),
	    cmocka_unit_test(test_carve_out_flag),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
