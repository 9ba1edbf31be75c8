/* test_climb_reply.c — how the climb reads one reply of libunbound
 * (caa_climb_reply): every kind of final answer, table-driven, replies built
 * with the message writer. A reply with TC set is a failure, never "empty"
 * nor records: what a truncated reply holds is not the whole RRset. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include <event2/event.h>

#include "climb.h"
#include "climb_reply.h"
#include "codes.h"
#include "dnsmsg.h"

enum { NO_SOA = 0, SOA = 1 };

typedef struct reply {
	const char *what;
	int cb_rcode;   /* the callback's */
	unsigned rcode; /* the reply's */
	bool tc;
	unsigned n_caa; /* CAA records in the answer */
	int soa;        /* SOA in the authority section */
	int sec;        /* 0 insecure, 1 bogus, 2 secure */
	bool unreadable;
	caa_outcome_t want;
	caa_dnssec_t dnssec;
} reply_t;

static const reply_t cases[] = {
    {"CAA records", 0, 0, false, 2, NO_SOA, 2, false, CAA_OUT_PRESENT, CAA_DNSSEC_SECURE},
    {"NODATA with SOA", 0, 0, false, 0, SOA, 0, false, CAA_OUT_EMPTY, CAA_DNSSEC_INSECURE},
    {"NODATA without SOA", 0, 0, false, 0, NO_SOA, 0, false, CAA_OUT_NODATA_NOSOA,
     CAA_DNSSEC_INSECURE},
    {"signed NODATA without SOA", 0, 0, false, 0, NO_SOA, 2, false, CAA_OUT_EMPTY,
     CAA_DNSSEC_SECURE},
    {"NXDOMAIN", 0, 3, false, 0, SOA, 0, false, CAA_OUT_NXDOMAIN, CAA_DNSSEC_INSECURE},
    {"REFUSED", 0, 5, false, 0, NO_SOA, 0, false, CAA_OUT_REFUSED, CAA_DNSSEC_INDETERMINATE},
    {"SERVFAIL", 0, 2, false, 0, NO_SOA, 0, false, CAA_OUT_SERVFAIL, CAA_DNSSEC_INDETERMINATE},
    {"bogus", 0, 0, false, 1, NO_SOA, 1, false, CAA_OUT_BOGUS, CAA_DNSSEC_BOGUS},
    {"no readable reply", 0, 0, false, 0, SOA, 0, true, CAA_OUT_SERVFAIL, CAA_DNSSEC_INDETERMINATE},
    {"a libunbound error", -2, 0, false, 0, SOA, 0, false, CAA_OUT_SERVFAIL,
     CAA_DNSSEC_INDETERMINATE},
    /* TC: never what it seems to say */
    {"TC, NODATA with SOA", 0, 0, true, 0, SOA, 0, false, CAA_OUT_SERVFAIL,
     CAA_DNSSEC_INDETERMINATE},
    {"TC, signed NODATA", 0, 0, true, 0, NO_SOA, 2, false, CAA_OUT_SERVFAIL,
     CAA_DNSSEC_INDETERMINATE},
    {"TC, NODATA without SOA", 0, 0, true, 0, NO_SOA, 0, false, CAA_OUT_SERVFAIL,
     CAA_DNSSEC_INDETERMINATE},
    {"TC, some CAA records", 0, 0, true, 1, NO_SOA, 2, false, CAA_OUT_SERVFAIL,
     CAA_DNSSEC_INDETERMINATE},
    {"TC, NXDOMAIN", 0, 3, true, 0, SOA, 0, false, CAA_OUT_SERVFAIL, CAA_DNSSEC_INDETERMINATE},
};

static size_t build(const reply_t *r, uint8_t *buf, size_t cap)
{
	static const uint8_t caa[] = {0, 5, 'i', 's', 's', 'u', 'e', 'c', 'a'};
	static const uint8_t soa[22] = {0};
	uint8_t name[CAA_DNS_NAME_MAX], zone[CAA_DNS_NAME_MAX];
	caa_dns_hdr_t h = {
	    .id = 1, .qr = true, .rd = true, .ra = true, .tc = r->tc, .rcode = (uint8_t)r->rcode};
	caa_dns_wr_t w;
	assert_true(caa_dns_name_from_str("www.example.com", name) > 0);
	assert_true(caa_dns_name_from_str("example.com", zone) > 0);
	caa_dns_wr_init(&w, buf, cap, &h);
	assert_int_equal(caa_dns_wr_question(&w, name, CAA_DNS_T_CAA, CAA_DNS_C_IN), CAA_EOK);
	for (unsigned i = 0; i < r->n_caa; i++)
		assert_int_equal(caa_dns_wr_rr(&w, CAA_DNS_ANSWER, name, CAA_DNS_T_CAA,
		                               CAA_DNS_C_IN, 60, caa, sizeof(caa)),
		                 CAA_EOK);
	if (r->soa)
		assert_int_equal(caa_dns_wr_rr(&w, CAA_DNS_AUTHORITY, zone, CAA_DNS_T_SOA,
		                               CAA_DNS_C_IN, 60, soa, sizeof(soa)),
		                 CAA_EOK);
	return caa_dns_wr_finish(&w);
}

static void test_replies(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const reply_t *r = &cases[i];
		uint8_t buf[512];
		caa_dns_msg_t m;
		caa_dnssec_t dnssec;
		const char *why;
		print_message("reply: %s\n", r->what);
		size_t len = build(r, buf, sizeof(buf));
		if (r->unreadable)
			len = CAA_DNS_HDR_LEN + 3; /* the question cut short */
		bool ok = caa_dns_msg_parse(&m, buf, len, NULL) == CAA_EOK;
		assert_int_equal(ok, !r->unreadable);
		caa_outcome_t o =
		    caa_climb_reply(r->cb_rcode, ok ? &m : NULL, r->sec, true, NULL, &dnssec, &why);
		assert_int_equal(o, r->want);
		assert_int_equal(dnssec, r->dnssec);
		/* where nothing could prove it, an unsigned answer is never INSECURE */
		const char *why2;
		caa_outcome_t o2 = caa_climb_reply(r->cb_rcode, ok ? &m : NULL, r->sec, false, NULL,
		                                   &dnssec, &why2);
		assert_int_equal(o2, o);
		assert_int_equal(dnssec, r->dnssec == CAA_DNSSEC_INSECURE ? CAA_DNSSEC_INDETERMINATE
		                                                          : r->dnssec);
		if (o != CAA_OUT_PRESENT && o != CAA_OUT_EMPTY && o != CAA_OUT_NXDOMAIN &&
		    o != CAA_OUT_REFUSED)
			assert_non_null(why);
		if (r->tc)
			assert_non_null(strstr(why, "truncated"));
	}
}

static void never_called(void *arg, int rc, caa_result_t *res)
{
	(void)arg, (void)rc, (void)res;
	fail_msg("a refused check was called back");
}

static void never_called_order(void *arg, int rc, caa_result_t **results, size_t n,
                               caa_problem_t *aggregate)
{
	(void)arg, (void)rc, (void)results, (void)n, (void)aggregate;
	fail_msg("a refused order was called back");
}

/* The climb refuses what caa_evaluate refuses (caa_request_validate) before
 * it asks anything: here an account URI and an id of different accounts. */
static void test_request_refused(void **state)
{
	(void)state;
	static const char json[] = "{\"issuer_domains\": [\"ca.example\"], "
	                           "\"account_uri_prefixes\": [\"https://ca.example/acct/\"]}";
	caa_config_t *cfg = NULL;
	caa_ctx_t *ctx = NULL;
	char err[256];
	assert_int_equal(caa_config_parse(json, sizeof(json) - 1, &cfg, err, sizeof(err)), CAA_EOK);
	assert_int_equal(caa_ctx_new(cfg, &ctx, err, sizeof(err)), CAA_EOK);
	caa_request_t reqs[2] = {
	    {.identifier = "a.example",
	     .account_uri = "https://ca.example/acct/1",
	     .account_id = 1},
	    {.identifier = "b.example",
	     .account_uri = "https://ca.example/acct/1",
	     .account_id = 2},
	};
	assert_int_equal(caa_check_async(ctx, &reqs[1], 1000, never_called, NULL, NULL),
	                 CAA_EACCOUNT);
	reqs[1].method = "dns-02";
	assert_int_equal(caa_check_async(ctx, &reqs[1], 1000, never_called, NULL, NULL),
	                 CAA_EMETHOD);
	reqs[1].method = NULL;
	size_t bad = 99;
	assert_int_equal(caa_order_async(ctx, reqs, 2, 1000, never_called_order, NULL, NULL, &bad),
	                 CAA_EACCOUNT);
	assert_int_equal(bad, 1);
	caa_ctx_free(ctx);
	caa_config_free(cfg);
}

static void count_end(void *arg, int rc, caa_result_t *res)
{
	(*(unsigned *)arg)++;
	assert_int_equal(rc, CAA_ESHUTDOWN);
	assert_null(res);
}

/* A forwarder on loopback that never answers: a bound UDP socket. */
typedef struct silent {
	int fd;
	char conf[32];
} silent_t;

static void silent_up(silent_t *s)
{
	s->fd = socket(AF_INET, SOCK_DGRAM, 0);
	assert_true(s->fd >= 0);
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t salen = sizeof(sa);
	assert_int_equal(bind(s->fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(getsockname(s->fd, (struct sockaddr *)&sa, &salen), 0);
	snprintf(s->conf, sizeof(s->conf), "/tmp/caa-test-silent-XXXXXX");
	int cfd = mkstemp(s->conf);
	assert_true(cfd >= 0);
	FILE *f = fdopen(cfd, "w");
	assert_non_null(f);
	fprintf(f,
	        "server:\n  do-not-query-localhost: no\n  module-config: \"iterator\"\n"
	        "forward-zone:\n  name: \".\"\n  forward-addr: 127.0.0.1@%u\n",
	        ntohs(sa.sin_port));
	assert_int_equal(fclose(f), 0);
}

static void silent_down(silent_t *s)
{
	unlink(s->conf);
	close(s->fd);
}

/* dns.max_per_zone counts per registered domain under the Public Suffix
 * List (zone.h): with a cap of 1 and a forwarder on loopback that never
 * answers, the queries libunbound holds are one per zone. a.one.co.uk and
 * a.two.co.uk: one.co.uk, two.co.uk, co.uk and uk (the last two labels made
 * that co.uk and uk); x.a.one.co.uk adds none, nor c.lab's second name. */
static void test_zone_caps(void **state)
{
	(void)state;
	silent_t s;
	silent_up(&s);
	char json[256];
	snprintf(json, sizeof(json),
	         "{\"issuer_domains\": [\"ca.example\"], \"dns\": {\"unbound_conf\": \"%s\", "
	         "\"max_per_zone\": 1}}",
	         s.conf);
	caa_config_t *cfg = NULL;
	caa_ctx_t *ctx = NULL;
	char err[256];
	assert_int_equal(caa_config_parse(json, strlen(json), &cfg, err, sizeof(err)), CAA_EOK);
	assert_int_equal(caa_ctx_new(cfg, &ctx, err, sizeof(err)), CAA_EOK);
	static const char *const names[] = {"a.one.co.uk", "a.two.co.uk", "x.a.one.co.uk",
	                                    "a.c.lab", "b.c.lab"};
	unsigned ended = 0;
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		caa_request_t req = {.identifier = names[i]};
		assert_int_equal(caa_check_async(ctx, &req, 60000, count_end, &ended, NULL),
		                 CAA_EOK);
	}
	assert_int_equal(caa_ctx_process(ctx), CAA_EOK);
	caa_ctx_stats_t st;
	caa_ctx_stats(ctx, &st);
	/* one.co.uk, two.co.uk, co.uk, uk; c.lab, lab */
	assert_int_equal(st.outstanding, 6);
	caa_ctx_free(ctx);
	assert_int_equal(ended, sizeof(names) / sizeof(names[0]));
	caa_config_free(cfg);
	silent_down(&s);
}

typedef struct embed {
	struct event_base *base;
	int rc;
	caa_result_t *res;
} embed_t;

static void embed_done(void *arg, int rc, caa_result_t *res)
{
	embed_t *e = arg;
	e->rc = rc;
	e->res = res;
	event_base_loopbreak(e->base);
}

/* caa_ctx_new_event: the context on the caller's event_base, driven by the
 * caller's own event_base_dispatch(). A check against a silent server ends by
 * its deadline (a timer on that base) and fails closed; the context leaves
 * no event behind on the base it borrowed. */
static void test_event_base(void **state)
{
	(void)state;
	silent_t s;
	silent_up(&s);
	char json[256];
	snprintf(json, sizeof(json),
	         "{\"issuer_domains\": [\"ca.example\"], \"dns\": {\"unbound_conf\": \"%s\"}}",
	         s.conf);
	caa_config_t *cfg = NULL;
	caa_ctx_t *ctx = NULL;
	char err[256];
	assert_int_equal(caa_config_parse(json, strlen(json), &cfg, err, sizeof(err)), CAA_EOK);
	assert_int_equal(caa_ctx_new_event(cfg, NULL, &ctx, err, sizeof(err)), CAA_EINVAL);
	assert_null(ctx);
	embed_t e = {.base = event_base_new(), .rc = 1};
	assert_non_null(e.base);
	assert_int_equal(caa_ctx_new_event(cfg, e.base, &ctx, err, sizeof(err)), CAA_EOK);
	assert_ptr_equal(caa_ctx_event_base(ctx), e.base);
	/* nothing to do: max_ms ends the wait */
	assert_int_equal(caa_ctx_wait(ctx, 10), CAA_EOK);
	caa_request_t req = {.identifier = "a.example"};
	assert_int_equal(caa_check_async(ctx, &req, 300, embed_done, &e, NULL), CAA_EOK);
	assert_int_equal(event_base_dispatch(e.base), 0);
	assert_int_equal(e.rc, CAA_EOK);
	assert_non_null(e.res);
	assert_int_not_equal(e.res->verdict, CAA_PERMITTED);
	caa_result_free(e.res);
	caa_ctx_free(ctx);
	assert_int_equal(
	    event_base_get_num_events(e.base, EVENT_BASE_COUNT_ADDED | EVENT_BASE_COUNT_ACTIVE), 0);
	event_base_free(e.base);
	caa_config_free(cfg);
	silent_down(&s);
}

typedef struct chain {
	caa_ctx_t *ctx;
	unsigned done, limit, failed;
} chain_t;

/* Each completed check starts the next, as a busy server's would. */
static void chain_next(void *arg, int rc, caa_result_t *res)
{
	chain_t *c = arg;
	c->done++;
	if (rc != CAA_EOK)
		c->failed++;
	caa_result_free(res);
	if (c->done < c->limit) {
		caa_request_t req = {.identifier = "x.test"};
		if (caa_check_async(c->ctx, &req, 60000, chain_next, c, NULL) != CAA_EOK)
			c->failed++;
	}
}

/* One caa_ctx_wait() is one round of the loop, also when every answer comes
 * from inside libunbound (test. is a built-in local zone: answered inside
 * ub_resolve_event) and each callback starts the next check: it returns after
 * a bounded part of the chain, so a caller's own deadlines and stop flag are
 * seen. (It once ran the whole chain in one call.) */
static void test_wait_returns(void **state)
{
	(void)state;
	silent_t s;
	silent_up(&s);
	char json[256];
	snprintf(json, sizeof(json),
	         "{\"issuer_domains\": [\"ca.example\"], \"dns\": {\"unbound_conf\": \"%s\"}}",
	         s.conf);
	caa_config_t *cfg = NULL;
	char err[256];
	assert_int_equal(caa_config_parse(json, strlen(json), &cfg, err, sizeof(err)), CAA_EOK);
	chain_t c = {.limit = 100000};
	assert_int_equal(caa_ctx_new(cfg, &c.ctx, err, sizeof(err)), CAA_EOK);
	caa_request_t req = {.identifier = "x.test"};
	assert_int_equal(caa_check_async(c.ctx, &req, 60000, chain_next, &c, NULL), CAA_EOK);
	unsigned waits = 0;
	while (c.done < 10) {
		assert_int_equal(caa_ctx_wait(c.ctx, 1000), CAA_EOK);
		waits++;
	}
	assert_int_equal(c.failed, 0);
	assert_true(c.done < 1000); /* not the whole chain */
	assert_true(waits > 1);
	c.limit = 0; /* the check in flight ends (CAA_ESHUTDOWN), starting none */
	caa_ctx_free(c.ctx);
	caa_config_free(cfg);
	silent_down(&s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_replies),      cmocka_unit_test(test_request_refused),
	    cmocka_unit_test(test_zone_caps),    cmocka_unit_test(test_event_base),
	    cmocka_unit_test(test_wait_returns),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
