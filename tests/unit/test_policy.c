/*
 * test_policy.c — the decision of docs/semantics.md §1–§5, one table row per clause or
 * known tricky case. Each row states the RRset, the request, the policy knobs
 * and the exact verdict, reason and deciding record.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "policy.h"

#define MAXRR 8
#define ACCT  "https://ca.example/acme/acct/1"

typedef struct {
	int flags; /* -1 ends the list; 256 = malformed RDATA */
	const char *tag;
	const char *value;
} rec_t;

enum knob { K_NONE = 0, K_UNSUPPORTED = 1, K_FLAG1_OFF = 2, K_MAP = 4, K_NO_ISSUERS = 8 };

typedef struct {
	const char *what;
	rec_t rrs[MAXRR];
	bool wildcard;
	const char *account_uri;
	int64_t account_id;
	const char *method;
	int knobs;
	caa_verdict_t verdict;
	caa_reason_t reason;
	int decided_by;
} eval_row_t;

/* clang-format off */
#define END {-1, NULL, NULL}
#define P CAA_PERMITTED
#define F CAA_FORBIDDEN

static const eval_row_t eval_rows[] = {
	/* §3.1 no relevant RRset */
	{"empty RRset", {END}, false, ACCT, 0, "dns-01", 0, P, CAA_R_NO_CAA, -1},
	/* §3.5 issue */
	{"issue names us", {{0, "issue", "ca.example"}, END}, false, ACCT, 0, "dns-01", 0, P, CAA_R_AUTHORIZED, 0},
	{"issue names another CA", {{0, "issue", "other-ca.example"}, END}, false, ACCT, 0, "dns-01", 0, F, CAA_R_NOT_AUTHORIZED, 0},
	{"second issue names us", {{0, "issue", "other-ca.example"}, {0, "issue", "ca.example"}, END}, false, ACCT, 0, "dns-01", 0, P, CAA_R_AUTHORIZED, 1},
	{"issuer compared case-insensitively", {{0, "issue", "CA.Example"}, END}, false, ACCT, 0, "dns-01", 0, P, CAA_R_AUTHORIZED, 0},
	{"trailing dot does not parse", {{0, "issue", "ca.example."}, END}, false, ACCT, 0, "dns-01", 0, F, CAA_R_MALFORMED_PROPERTY, 0},
	{"issuer is a suffix only", {{0, "issue", "example"}, END}, false, ACCT, 0, "dns-01", 0, F, CAA_R_NOT_AUTHORIZED, 0},
	{"issuer longer than ours", {{0, "issue", "sub.ca.example"}, END}, false, ACCT, 0, "dns-01", 0, F, CAA_R_NOT_AUTHORIZED, 0},
	{"';' alone forbids", {{0, "issue", ";"}, END}, false, ACCT, 0, "dns-01", 0, F, CAA_R_NOT_AUTHORIZED, 0},
	{"empty value forbids", {{0, "issue", ""}, END}, false, ACCT, 0, "dns-01", 0, F, CAA_R_NOT_AUTHORIZED, 0},
	{"%%%%% forbids as malformed", {{0, "issue", "%%%%%"}, END}, false, ACCT, 0, "dns-01", 0, F, CAA_R_MALFORMED_PROPERTY, 0},
	{"malformed and other CA: the specific reason", {{0, "issue", "%%%%%"}, {0, "issue", "other.example"}, END}, false, ACCT, 0, "dns-01", 0, F, CAA_R_NOT_AUTHORIZED, 1},
	{"whitespace and trailing ';'", {{0, "issue", "  ca.example ; "}, END}, false, ACCT, 0, "dns-01", 0, P, CAA_R_AUTHORIZED, 0},
	{"tags compare case-insensitively", {{0, "IsSuE", "ca.example"}, END}, false, ACCT, 0, "dns-01", 0, P, CAA_R_AUTHORIZED, 0},
	{"uppercase ISSUE naming another CA", {{0, "ISSUE", "other.example"}, END}, false, ACCT, 0, "dns-01", 0, F, CAA_R_NOT_AUTHORIZED, 0},
	{"unknown parameter ignored", {{0, "issue", "ca.example; foo=bar"}, END}, false, ACCT, 0, "dns-01", 0, P, CAA_R_AUTHORIZED, 0},
	{"no issuer domains configured", {{0, "issue", "ca.example"}, END}, false, ACCT, 0, "dns-01", K_NO_ISSUERS, F, CAA_R_NOT_AUTHORIZED, 0},
	/* §2 non-restricting RRsets */
	{"iodef-only RRset", {{0, "iodef", "mailto:sec@example.com"}, END}, false, ACCT, 0, "dns-01", 0, P, CAA_R_NO_RESTRICTING_PROPERTY, -1},
	{"unknown non-critical tag", {{0, "tbs", "x"}, END}, false, ACCT, 0, "dns-01", 0, P, CAA_R_NO_RESTRICTING_PROPERTY, -1},
	{"contactemail only", {{0, "contactemail", "a@example.com"}, END}, false, ACCT, 0, "dns-01", 0, P, CAA_R_NO_RESTRICTING_PROPERTY, -1},
	{"issuemail does not restrict TLS", {{0, "issuemail", "other.example"}, END}, false, ACCT, 0, "dns-01", 0, P, CAA_R_NO_RESTRICTING_PROPERTY, -1},
	{"issuevmc does not restrict TLS", {{0, "issuevmc", "other.example"}, END}, false, ACCT, 0, "dns-01", 0, P, CAA_R_NO_RESTRICTING_PROPERTY, -1},
	/* §2 critical flag */
	{"critical unknown tag blocks", {{128, "tbs", "x"}, {0, "issue", "ca.example"}, END}, false, ACCT, 0, "dns-01", 0, F, CAA_R_CRITICAL_TAG, 0},
	{"critical unknown blocks before authorising issue", {{0, "issue", "ca.example"}, {128, "future", "x"}, END}, false, ACCT, 0, "dns-01", 0, F, CAA_R_CRITICAL_TAG, 1},
	{"flag 1 is critical by default", {{1, "tbs", "x"}, {0, "issue", "ca.example"}, END}, false, ACCT, 0, "dns-01", 0, F, CAA_R_CRITICAL_TAG, 0},
	{"flag 1 ignored when flag1_is_critical off", {{1, "tbs", "x"}, {0, "issue", "ca.example"}, END}, false, ACCT, 0, "dns-01", K_FLAG1_OFF, P, CAA_R_AUTHORIZED, 1},
	{"other flag bits ignored", {{64, "tbs", "x"}, {0, "issue", "ca.example"}, END}, false, ACCT, 0, "dns-01", 0, P, CAA_R_AUTHORIZED, 1},
	{"128 iodef under 'unknown': no block", {{128, "iodef", "mailto:a@example.com"}, {0, "issue", "ca.example"}, END}, false, ACCT, 0, "dns-01", 0, P, CAA_R_AUTHORIZED, 1},
	{"128 iodef under 'unknown-or-unsupported': blocks", {{128, "iodef", "mailto:a@example.com"}, {0, "issue", "ca.example"}, END}, false, ACCT, 0, "dns-01", K_UNSUPPORTED, F, CAA_R_CRITICAL_TAG, 0},
	{"128 iodef alone under 'unknown'", {{128, "iodef", ""}, END}, false, ACCT, 0, "dns-01", 0, P, CAA_R_NO_RESTRICTING_PROPERTY, -1},
	{"128 issue \"\" forbids, not a critical block", {{128, "issue", ""}, END}, false, ACCT, 0, "dns-01", K_UNSUPPORTED, F, CAA_R_NOT_AUTHORIZED, 0},
	{"128 issue us permits under both readings", {{128, "issue", "ca.example"}, END}, false, ACCT, 0, "dns-01", K_UNSUPPORTED, P, CAA_R_AUTHORIZED, 0},
	{"128 issuemail blocks under unsupported", {{128, "issuemail", "x.example"}, {0, "issue", "ca.example"}, END}, false, ACCT, 0, "dns-01", K_UNSUPPORTED, F, CAA_R_CRITICAL_TAG, 0},
	{"128 contactphone: no block under unknown", {{128, "contactphone", "+1"}, {0, "issue", "ca.example"}, END}, false, ACCT, 0, "dns-01", 0, P, CAA_R_AUTHORIZED, 1},
	{"critical tag case-insensitive: 128 IODEF is recognised", {{128, "IODEF", "x"}, END}, false, ACCT, 0, "dns-01", 0, P, CAA_R_NO_RESTRICTING_PROPERTY, -1},
	/* §3.3 issuewild */
	{"wildcard, issuewild names us", {{0, "issue", "other.example"}, {0, "issuewild", "ca.example"}, END}, true, ACCT, 0, "dns-01", 0, P, CAA_R_AUTHORIZED, 1},
	{"wildcard, issuewild forbids, issue allows", {{0, "issue", "ca.example"}, {0, "issuewild", ";"}, END}, true, ACCT, 0, "dns-01", 0, F, CAA_R_NOT_AUTHORIZED, 1},
	{"wildcard without issuewild uses issue", {{0, "issue", "ca.example"}, END}, true, ACCT, 0, "dns-01", 0, P, CAA_R_AUTHORIZED, 0},
	{"wildcard without issuewild, issue other", {{0, "issue", "other.example"}, END}, true, ACCT, 0, "dns-01", 0, F, CAA_R_NOT_AUTHORIZED, 0},
	{"issuewild ignored for non-wildcard", {{0, "issue", "ca.example"}, {0, "issuewild", ";"}, END}, false, ACCT, 0, "dns-01", 0, P, CAA_R_AUTHORIZED, 0},
	{"issuewild only, non-wildcard: not restricting", {{0, "issuewild", ";"}, END}, false, ACCT, 0, "dns-01", 0, P, CAA_R_NO_RESTRICTING_PROPERTY, -1},
	{"issuewild only, wildcard, names us", {{0, "issuewild", "ca.example"}, END}, true, ACCT, 0, "dns-01", 0, P, CAA_R_AUTHORIZED, 0},
	{"IssueWild case, wildcard", {{0, "IssueWild", "other.example"}, {0, "issue", "ca.example"}, END}, true, ACCT, 0, "dns-01", 0, F, CAA_R_NOT_AUTHORIZED, 0},
	/* §5 accounturi */
	{"accounturi matches", {{0, "issue", "ca.example; accounturi=" ACCT}, END}, false, ACCT, 0, "dns-01", 0, P, CAA_R_AUTHORIZED, 0},
	{"accounturi other account", {{0, "issue", "ca.example; accounturi=https://ca.example/acme/acct/2"}, END}, false, ACCT, 0, "dns-01", 0, F, CAA_R_ACCOUNT_URI_MISMATCH, 0},
	{"accounturi, request has no account", {{0, "issue", "ca.example; accounturi=" ACCT}, END}, false, NULL, 0, "dns-01", 0, F, CAA_R_ACCOUNT_URI_MISMATCH, 0},
	{"accounturi compared exactly (case)", {{0, "issue", "ca.example; accounturi=HTTPS://ca.example/acme/acct/1"}, END}, false, ACCT, 0, "dns-01", 0, F, CAA_R_ACCOUNT_URI_MISMATCH, 0},
	{"two accounturi never authorise", {{0, "issue", "ca.example; accounturi=" ACCT "; accounturi=" ACCT}, END}, false, ACCT, 0, "dns-01", 0, F, CAA_R_ACCOUNT_URI_MISMATCH, 0},
	{"AccountURI parameter tag is case-insensitive", {{0, "issue", "ca.example; AccountURI=https://ca.example/acme/acct/2"}, END}, false, ACCT, 0, "dns-01", 0, F, CAA_R_ACCOUNT_URI_MISMATCH, 0},
	{"account id via prefix matches", {{0, "issue", "ca.example; accounturi=" ACCT}, END}, false, NULL, 1, "dns-01", 0, P, CAA_R_AUTHORIZED, 0},
	{"account id via prefix, other id", {{0, "issue", "ca.example; accounturi=" ACCT}, END}, false, NULL, 12, "dns-01", 0, F, CAA_R_ACCOUNT_URI_MISMATCH, 0},
	{"account id is not a digit prefix", {{0, "issue", "ca.example; accounturi=https://ca.example/acme/acct/10"}, END}, false, NULL, 1, "dns-01", 0, F, CAA_R_ACCOUNT_URI_MISMATCH, 0},
	{"account id second prefix", {{0, "issue", "ca.example; accounturi=https://acme.ca.example/acct/7"}, END}, false, NULL, 7, "dns-01", 0, P, CAA_R_AUTHORIZED, 0},
	{"one record per account: second matches", {{0, "issue", "ca.example; accounturi=https://ca.example/acme/acct/2"}, {0, "issue", "ca.example; accounturi=" ACCT}, END}, false, ACCT, 0, "dns-01", 0, P, CAA_R_AUTHORIZED, 1},
	/* §5 validationmethods */
	{"validationmethods includes method", {{0, "issue", "ca.example; validationmethods=http-01,dns-01"}, END}, false, ACCT, 0, "dns-01", 0, P, CAA_R_AUTHORIZED, 0},
	{"validationmethods excludes method", {{0, "issue", "ca.example; validationmethods=http-01"}, END}, false, ACCT, 0, "dns-01", 0, F, CAA_R_VALIDATION_METHOD_MISMATCH, 0},
	{"validationmethods, request has no method", {{0, "issue", "ca.example; validationmethods=dns-01"}, END}, false, ACCT, 0, NULL, 0, F, CAA_R_VALIDATION_METHOD_MISMATCH, 0},
	{"validationmethods case-insensitive", {{0, "issue", "ca.example; validationmethods=DNS-01"}, END}, false, ACCT, 0, "dns-01", 0, P, CAA_R_AUTHORIZED, 0},
	{"malformed validationmethods never authorise", {{0, "issue", "ca.example; validationmethods=dns-01,,http-01"}, END}, false, ACCT, 0, "dns-01", 0, F, CAA_R_VALIDATION_METHOD_MISMATCH, 0},
	{"validationmethods with underscore", {{0, "issue", "ca.example; validationmethods=dns_01"}, END}, false, ACCT, 0, "dns-01", 0, F, CAA_R_VALIDATION_METHOD_MISMATCH, 0},
	{"two validationmethods never authorise", {{0, "issue", "ca.example; validationmethods=dns-01; validationmethods=dns-01"}, END}, false, ACCT, 0, "dns-01", 0, F, CAA_R_VALIDATION_METHOD_MISMATCH, 0},
	{"ca-tbr-7 means dns-01", {{0, "issue", "ca.example; validationmethods=ca-tbr-7"}, END}, false, ACCT, 0, "dns-01", 0, P, CAA_R_AUTHORIZED, 0},
	{"ca-tbr-7 means dns-account-01", {{0, "issue", "ca.example; validationmethods=ca-tbr-7"}, END}, false, ACCT, 0, "dns-account-01", 0, P, CAA_R_AUTHORIZED, 0},
	{"ca-tbr-7 is not http-01", {{0, "issue", "ca.example; validationmethods=ca-tbr-7"}, END}, false, ACCT, 0, "http-01", 0, F, CAA_R_VALIDATION_METHOD_MISMATCH, 0},
	{"ca-tbr-19 means http-01", {{0, "issue", "ca.example; validationmethods=CA-TBR-19"}, END}, false, ACCT, 0, "http-01", 0, P, CAA_R_AUTHORIZED, 0},
	{"ca-tbr-20 means tls-alpn-01", {{0, "issue", "ca.example; validationmethods=ca-tbr-20"}, END}, false, ACCT, 0, "tls-alpn-01", 0, P, CAA_R_AUTHORIZED, 0},
	{"method_labels overrides the mapping", {{0, "issue", "ca.example; validationmethods=ca-tbr-7"}, END}, false, ACCT, 0, "dns-01", K_MAP, F, CAA_R_VALIDATION_METHOD_MISMATCH, 0},
	{"method_labels custom label", {{0, "issue", "ca.example; validationmethods=ca-tbr-7"}, END}, false, ACCT, 0, "http-01", K_MAP, P, CAA_R_AUTHORIZED, 0},
	{"unknown well-formed label skipped", {{0, "issue", "ca.example; validationmethods=future-99,dns-01"}, END}, false, ACCT, 0, "dns-01", 0, P, CAA_R_AUTHORIZED, 0},
	{"unknown label with a trailing hyphen skipped", {{0, "issue", "ca.example; validationmethods=foo-,dns-01"}, END}, false, ACCT, 0, "dns-01", 0, P, CAA_R_AUTHORIZED, 0},
	{"unknown label with a leading hyphen skipped", {{0, "issue", "ca.example; validationmethods=-foo,http-01"}, END}, false, ACCT, 0, "http-01", 0, P, CAA_R_AUTHORIZED, 0},
	{"hyphenated unknown label alone", {{0, "issue", "ca.example; validationmethods=foo-"}, END}, false, ACCT, 0, "dns-01", 0, F, CAA_R_VALIDATION_METHOD_MISMATCH, 0},
	{"label with a dot still malformed", {{0, "issue", "ca.example; validationmethods=dns.01,dns-01"}, END}, false, ACCT, 0, "dns-01", 0, F, CAA_R_VALIDATION_METHOD_MISMATCH, 0},
	{"ValidationMethods tag case-insensitive", {{0, "issue", "ca.example; ValidationMethods=http-01"}, END}, false, ACCT, 0, "dns-01", 0, F, CAA_R_VALIDATION_METHOD_MISMATCH, 0},
	/* most specific reason */
	{"method beats account beats issuer", {{0, "issue", "other.example"}, {0, "issue", "ca.example; accounturi=x"}, {0, "issue", "ca.example; validationmethods=http-01"}, END}, false, ACCT, 0, "dns-01", 0, F, CAA_R_VALIDATION_METHOD_MISMATCH, 2},
	{"account beats issuer", {{0, "issue", "other.example"}, {0, "issue", "ca.example; accounturi=x"}, END}, false, ACCT, 0, "dns-01", 0, F, CAA_R_ACCOUNT_URI_MISMATCH, 1},
	{"account mismatch checked before methods", {{0, "issue", "ca.example; accounturi=x; validationmethods=http-01"}, END}, false, ACCT, 0, "dns-01", 0, F, CAA_R_ACCOUNT_URI_MISMATCH, 0},
	/* malformed RDATA fails closed */
	{"malformed RDATA blocks", {{256, NULL, NULL}, {0, "issue", "ca.example"}, END}, false, ACCT, 0, "dns-01", 0, F, CAA_R_MALFORMED_PROPERTY, 0},
	{"malformed critical RDATA is a critical block", {{256 | 128, NULL, NULL}, END}, false, ACCT, 0, "dns-01", 0, F, CAA_R_CRITICAL_TAG, 0},
	{"mixed: iodef, issuewild (ignored), issue us", {{0, "iodef", "mailto:x@y"}, {0, "issuewild", ";"}, {0, "issue", "ca.example"}, END}, false, ACCT, 0, "dns-01", 0, P, CAA_R_AUTHORIZED, 2},
};
/* clang-format on */

static const char *const issuers[] = {"ca.example", "other-name.example"};
static const char *const prefixes[] = {"https://ca.example/acme/acct/",
                                       "https://acme.ca.example/acct/"};
static const char *const custom_http[] = {"http-01"};
static const caa_method_label_t custom_map[] = {{"ca-tbr-7", custom_http, 1}};

static void make_policy(caa_policy_t *pol, int knobs)
{
	caa_policy_init(pol);
	pol->issuer_domains = issuers;
	pol->n_issuer_domains = (knobs & K_NO_ISSUERS) ? 0 : 2;
	pol->account_uri_prefixes = prefixes;
	pol->n_account_uri_prefixes = 2;
	if (knobs & K_UNSUPPORTED)
		pol->critical = CAA_CRITICAL_UNKNOWN_OR_UNSUPPORTED;
	if (knobs & K_FLAG1_OFF)
		pol->flag1_is_critical = false;
	if (knobs & K_MAP) {
		pol->method_labels = custom_map;
		pol->n_method_labels = 1;
	}
}

static size_t make_rrs(const rec_t *in, caa_rr_t *out)
{
	size_t n = 0;
	for (; n < MAXRR && in[n].flags >= 0; n++) {
		memset(&out[n], 0, sizeof(out[n]));
		out[n].flags = (uint8_t)(in[n].flags & 0xff);
		if (in[n].flags & 256) {
			out[n].malformed = true;
			continue;
		}
		out[n].tag = in[n].tag;
		out[n].tag_len = (uint8_t)strlen(in[n].tag);
		out[n].value = in[n].value;
		out[n].value_len = (uint16_t)strlen(in[n].value);
	}
	return n;
}

static void test_eval_table(void **state)
{
	(void)state;
	int failures = 0;
	for (size_t i = 0; i < sizeof(eval_rows) / sizeof(eval_rows[0]); i++) {
		const eval_row_t *r = &eval_rows[i];
		caa_policy_t pol;
		caa_rr_t rrs[MAXRR];
		caa_note_t notes[MAXRR];
		caa_decision_t d;
		make_policy(&pol, r->knobs);
		size_t n = make_rrs(r->rrs, rrs);
		caa_query_t q = {.wildcard = r->wildcard,
		                 .account_uri = r->account_uri,
		                 .account_id = r->account_id,
		                 .method = r->method};
		caa_policy_eval(&pol, &q, rrs, n, &d, notes);
		if (d.verdict != r->verdict || d.reason != r->reason ||
		    d.decided_by != r->decided_by) {
			print_error("row %zu \"%s\": got %s/%s by %d, want %s/%s by %d\n", i,
			            r->what, caa_verdict_name(d.verdict), caa_reason_name(d.reason),
			            d.decided_by, caa_verdict_name(r->verdict),
			            caa_reason_name(r->reason), r->decided_by);
			failures++;
		}
		/* Without a notes array the decision must be the same. */
		caa_decision_t d2;
		caa_policy_eval(&pol, &q, rrs, n, &d2, NULL);
		if (d2.verdict != d.verdict || d2.reason != d.reason ||
		    d2.decided_by != d.decided_by) {
			print_error("row %zu \"%s\": decision differs without notes\n", i, r->what);
			failures++;
		}
		/* The deciding record's note agrees with the verdict. */
		if (d.decided_by >= 0 && d.verdict == CAA_PERMITTED &&
		    notes[d.decided_by] != CAA_NOTE_AUTHORIZES) {
			print_error("row %zu \"%s\": deciding note %d\n", i, r->what,
			            notes[d.decided_by]);
			failures++;
		}
	}
	assert_int_equal(failures, 0);
}

/* Notes explain every record of a mixed RRset. */
static void test_notes(void **state)
{
	(void)state;
	caa_policy_t pol;
	make_policy(&pol, 0);
	const rec_t in[] = {{0, "iodef", "mailto:x@y"},
	                    {0, "issuewild", ";"},
	                    {0, "issue", "other.example"},
	                    {0, "issue", "ca.example; accounturi=nope"},
	                    {0, "issue", "%%"},
	                    END};
	caa_rr_t rrs[MAXRR];
	caa_note_t notes[MAXRR];
	caa_decision_t d;
	size_t n = make_rrs(in, rrs);
	caa_query_t q = {.account_uri = ACCT, .method = "dns-01"};
	caa_policy_eval(&pol, &q, rrs, n, &d, notes);
	assert_int_equal(d.reason, CAA_R_ACCOUNT_URI_MISMATCH);
	assert_int_equal(notes[0], CAA_NOTE_NOT_RESTRICTING);
	assert_int_equal(notes[1], CAA_NOTE_ISSUEWILD_IGNORED);
	assert_int_equal(notes[2], CAA_NOTE_OTHER_ISSUER);
	assert_int_equal(notes[3], CAA_NOTE_ACCOUNT_MISMATCH);
	assert_int_equal(notes[4], CAA_NOTE_MALFORMED_VALUE);
	q.wildcard = true;
	caa_policy_eval(&pol, &q, rrs, n, &d, notes);
	assert_int_equal(d.reason, CAA_R_NOT_AUTHORIZED);
	assert_int_equal(d.decided_by, 1);
	assert_int_equal(notes[1], CAA_NOTE_NO_ISSUER);
	assert_int_equal(notes[2], CAA_NOTE_ISSUE_SHADOWED);
	assert_string_equal(caa_note_text(CAA_NOTE_OTHER_ISSUER), "names another CA");
}

/* ---- relevant RRset selection (docs/semantics.md §1) ---- */

typedef struct {
	const char *what;
	const char *outcomes; /* one letter per label, full name first: see outcome_of() */
	int knobs;
	caa_select_t sel;
	int idx;
} sel_row_t;

enum { S_TLD_EMPTY = 1, S_NOSOA_ERROR = 2, S_CARVE = 4 };

static caa_outcome_t outcome_of(char c)
{
	switch (c) {
	case 'p': return CAA_OUT_PRESENT;
	case 'e': return CAA_OUT_EMPTY;
	case 's': return CAA_OUT_SERVFAIL;
	case 'r': return CAA_OUT_REFUSED;
	case 't': return CAA_OUT_TIMEOUT;
	case 'n': return CAA_OUT_NXDOMAIN;
	case 'o': return CAA_OUT_NODATA_NOSOA;
	case 'b': return CAA_OUT_BOGUS;
	case 'w': return CAA_OUT_NETWORK;
	case 'i': return CAA_OUT_NOTIMP;
	case 'f': return CAA_OUT_FORMERR;
	default: return CAA_OUT_PENDING; /* '.' */
	}
}

/* clang-format off */
static const sel_row_t sel_rows[] = {
	{"all empty: no relevant RRset", "eee", 0, CAA_SEL_NONE, 0},
	{"present at the name", "pee", 0, CAA_SEL_RELEVANT, 0},
	{"present at the parent", "epe", 0, CAA_SEL_RELEVANT, 1},
	{"present at the TLD", "eep", 0, CAA_SEL_RELEVANT, 2},
	{"error below the relevant RRset fails", "spe", 0, CAA_SEL_ERROR, 0},
	{"error above the relevant RRset is irrelevant", "pse", 0, CAA_SEL_RELEVANT, 0},
	{"error at the TLD above records is irrelevant", "eps", 0, CAA_SEL_RELEVANT, 1},
	{"timeout before anything present fails", "etp", 0, CAA_SEL_ERROR, 1},
	{"bogus fails", "be", 0, CAA_SEL_ERROR, 0},
	{"network error fails", "ew", 0, CAA_SEL_ERROR, 1},
	{"REFUSED fails", "re", 0, CAA_SEL_ERROR, 0},
	{"NOTIMP fails", "ei", 0, CAA_SEL_ERROR, 1},
	{"FORMERR fails", "fe", 0, CAA_SEL_ERROR, 0},
	{"NXDOMAIN below the TLD is empty", "nne", 0, CAA_SEL_NONE, 0},
	{"NXDOMAIN at the TLD fails by default", "nn", 0, CAA_SEL_ERROR, 1},
	{"NXDOMAIN at the TLD, tld_nxdomain empty", "nn", S_TLD_EMPTY, CAA_SEL_NONE, 0},
	{"single-label name NXDOMAIN", "n", 0, CAA_SEL_ERROR, 0},
	{"NODATA without SOA counts as empty", "oep", 0, CAA_SEL_RELEVANT, 2},
	{"NODATA without SOA under the strict reading", "oep", S_NOSOA_ERROR, CAA_SEL_ERROR, 0},
	{"pending at the name: undecided", ".pe", 0, CAA_SEL_UNDECIDED, 0},
	{"pending above present: decided", "p..", 0, CAA_SEL_RELEVANT, 0},
	{"pending above an error: decided", "s..", 0, CAA_SEL_ERROR, 0},
	{"pending between: undecided", "e.p", 0, CAA_SEL_UNDECIDED, 0},
	{"empty then pending TLD: undecided", "ee.", 0, CAA_SEL_UNDECIDED, 0},
	{"carve-out: insecure SERVFAIL retried permits", "se", S_CARVE, CAA_SEL_NONE, 0},
	{"carve-out never for bogus", "be", S_CARVE, CAA_SEL_ERROR, 0},
	{"carve-out never for network errors", "we", S_CARVE, CAA_SEL_ERROR, 0},
};
/* clang-format on */

static void test_select_table(void **state)
{
	(void)state;
	int failures = 0;
	for (size_t i = 0; i < sizeof(sel_rows) / sizeof(sel_rows[0]); i++) {
		const sel_row_t *r = &sel_rows[i];
		caa_label_t labels[8];
		caa_rr_t rr = {.tag = "issue", .tag_len = 5, .value = "x", .value_len = 1};
		size_t n = 0;
		for (const char *c = r->outcomes; *c && n < 8; c++) {
			memset(&labels[n], 0, sizeof(labels[n]));
			labels[n].name = "l";
			labels[n].outcome = outcome_of(*c);
			labels[n].dnssec =
			    (r->knobs & S_CARVE) ? CAA_DNSSEC_INSECURE : CAA_DNSSEC_SECURE;
			labels[n].retries = 1;
			if (labels[n].outcome == CAA_OUT_PRESENT) {
				labels[n].rrs = &rr;
				labels[n].n_rrs = 1;
			}
			n++;
		}
		caa_policy_t pol;
		make_policy(&pol, 0);
		pol.tld_nxdomain_error = !(r->knobs & S_TLD_EMPTY);
		pol.nodata_without_soa_error = (r->knobs & S_NOSOA_ERROR) != 0;
		pol.insecure_lookup_failure_permits = (r->knobs & S_CARVE) != 0;
		size_t idx = 99;
		caa_select_t sel = caa_policy_select(labels, n, &pol, &idx);
		bool idx_ok =
		    (sel != CAA_SEL_RELEVANT && sel != CAA_SEL_ERROR) || idx == (size_t)r->idx;
		if (sel != r->sel || !idx_ok) {
			print_error("row %zu \"%s\": got sel %d idx %zu, want %d idx %d\n", i,
			            r->what, sel, idx, r->sel, r->idx);
			failures++;
		}
	}
	assert_int_equal(failures, 0);
}

/* The carve-out needs all three conditions. */
static void test_carve_out_conditions(void **state)
{
	(void)state;
	caa_policy_t pol;
	make_policy(&pol, 0);
	pol.insecure_lookup_failure_permits = true;
	caa_label_t l = {
	    .name = "x", .outcome = CAA_OUT_SERVFAIL, .dnssec = CAA_DNSSEC_INSECURE, .retries = 1};
	assert_false(caa_policy_label_failed(&l, 1, 0, &pol));
	l.retries = 0;
	assert_true(caa_policy_label_failed(&l, 1, 0, &pol));
	l.retries = 1;
	l.dnssec = CAA_DNSSEC_SECURE;
	assert_true(caa_policy_label_failed(&l, 1, 0, &pol));
	l.dnssec = CAA_DNSSEC_INDETERMINATE;
	assert_true(caa_policy_label_failed(&l, 1, 0, &pol));
	pol.insecure_lookup_failure_permits = false;
	l.dnssec = CAA_DNSSEC_INSECURE;
	assert_true(caa_policy_label_failed(&l, 1, 0, &pol));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_eval_table),
	    cmocka_unit_test(test_notes),
	    cmocka_unit_test(test_select_table),
	    cmocka_unit_test(test_carve_out_conditions),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
