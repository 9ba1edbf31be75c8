/* test_donotquery.c — which addresses caad's own queries may go to. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <cmocka.h>

#include "codes.h"
#include "donotquery.h"

/* NULL when text may be queried, else the reason. */
static const char *judge(const caa_dnq_t *q, const char *text, char *buf, size_t cap)
{
	struct sockaddr_storage ss;
	memset(&ss, 0, sizeof(ss));
	struct sockaddr_in *in = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&ss;
	if (inet_pton(AF_INET, text, &in->sin_addr) == 1) {
		in->sin_family = AF_INET;
	} else {
		assert_int_equal(inet_pton(AF_INET6, text, &in6->sin6_addr), 1);
		in6->sin6_family = AF_INET6;
	}
	return caa_dnq_refuses(q, (const struct sockaddr *)&ss, buf, cap);
}

static void expect_refused(const caa_dnq_t *q, const char *addr, const char *part)
{
	char buf[160];
	const char *why = judge(q, addr, buf, sizeof(buf));
	if (why == NULL || strstr(why, part) == NULL)
		fail_msg("%s: want refused as \"%s\", got %s", addr, part, why ? why : "allowed");
}

static void expect_allowed(const caa_dnq_t *q, const char *addr)
{
	char buf[160];
	const char *why = judge(q, addr, buf, sizeof(buf));
	if (why != NULL)
		fail_msg("%s: want allowed, got refused: %s", addr, why);
}

/* The special-purpose ranges, whatever the settings. */
/* clang-format off */
static const struct {
	const char *addr, *why;
} special[] = {
    {"0.0.0.0", "this network"},         {"0.1.2.3", "this network"},
    {"10.0.0.1", "RFC 1918"},            {"10.255.255.255", "RFC 1918"},
    {"172.16.0.1", "RFC 1918"},          {"172.31.255.254", "RFC 1918"},
    {"192.168.1.1", "RFC 1918"},         {"100.64.0.1", "RFC 6598"},
    {"100.127.255.255", "RFC 6598"},     {"169.254.169.254", "link-local"},
    {"192.0.0.8", "IETF protocol"},      {"192.0.2.1", "documentation"},
    {"198.51.100.7", "documentation"},   {"203.0.113.9", "documentation"},
    {"198.18.0.1", "benchmarking"},      {"198.19.255.1", "benchmarking"},
    {"224.0.0.251", "multicast"},        {"239.255.255.250", "multicast"},
    {"240.0.0.1", "reserved"},           {"255.255.255.255", "reserved"},
    {"192.88.99.1", "6to4 relay"},       {"::", "unspecified"},
    {"::10.0.0.1", "IPv4-compatible"},   {"fc00::1", "unique-local"},
    {"fd12:3456::1", "unique-local"},    {"fe80::1", "link-local"},
    {"febf::1", "link-local"},           {"fec0::1", "site-local"},
    {"ff02::1", "multicast"},            {"2001:db8::53", "documentation"},
    {"100::1", "discard-only"},          {"2001:2::1", "benchmarking"},
    {"64:ff9b:1::1", "local-use NAT64"},
    /* IPv4 in IPv6 clothing is judged as IPv4 */
    {"::ffff:10.1.2.3", "RFC 1918"},     {"::ffff:169.254.0.1", "link-local"},
    {"64:ff9b::192.168.0.1", "NAT64 form"}, {"64:ff9b::a9fe:a9fe", "link-local"},
    {"2002:c0a8:0101::1", "6to4 form"},  {"2002:0a00:0001::", "RFC 1918"},
};

/* Public addresses next to the ranges' edges. */
static const char *const public[] = {
    "1.1.1.1",      "9.255.255.255", "11.0.0.0",       "100.63.255.255", "100.128.0.0",
    "126.255.255.255", "128.0.0.1",  "169.253.255.255", "172.15.255.255", "172.32.0.0",
    "192.0.1.255",  "192.0.3.0",     "192.167.255.255", "192.169.0.0",   "198.17.255.255",
    "198.20.0.0",   "223.255.255.255", "8.8.8.8",       "2001:4860:4860::8888",
    "2606:4700::1111", "fbff::1",    "fe00::1",        "::ffff:8.8.8.8", "64:ff9b::808:808",
    "2002:0808:0808::1", "2001:db9::1",
};
/* clang-format on */

static void test_special_default(void **state)
{
	(void)state;
	caa_dnq_t *q;
	char err[128];
	assert_int_equal(caa_dnq_new(false, NULL, &q, err, sizeof(err)), CAA_EOK);
	for (size_t i = 0; i < sizeof(special) / sizeof(special[0]); i++)
		expect_refused(q, special[i].addr, special[i].why);
	for (size_t i = 0; i < sizeof(public) / sizeof(public[0]); i++)
		expect_allowed(q, public[i]);
	caa_dnq_free(q);
}

/* Loopback follows do-not-query-localhost, in every form; nothing else does. */
static void test_localhost(void **state)
{
	(void)state;
	static const char *const loop[] = {
	    "127.0.0.1",        "127.56.3.1",      "127.255.255.254",  "::1",
	    "::ffff:127.0.0.1", "64:ff9b::7f00:1", "2002:7f00:0001::1"};
	caa_dnq_t *no, *yes;
	char err[128];
	assert_int_equal(caa_dnq_new(false, "", &no, err, sizeof(err)), CAA_EOK);
	assert_int_equal(caa_dnq_new(true, NULL, &yes, err, sizeof(err)), CAA_EOK);
	for (size_t i = 0; i < sizeof(loop) / sizeof(loop[0]); i++) {
		expect_refused(no, loop[i], "loopback");
		expect_allowed(yes, loop[i]);
	}
	for (size_t i = 0; i < sizeof(special) / sizeof(special[0]); i++)
		expect_refused(yes, special[i].addr, special[i].why);
	caa_dnq_free(no);
	caa_dnq_free(yes);
}

/* do-not-query-address as libunbound returns it: newline-separated. */
static void test_user_list(void **state)
{
	(void)state;
	caa_dnq_t *q;
	char err[128];
	assert_int_equal(caa_dnq_new(true,
	                             "10.0.0.0/8\n127.56.3.1\n 2001:4860::/32 \n8.8.4.0/24\n\n", &q,
	                             err, sizeof(err)),
	                 CAA_EOK);
	expect_refused(q, "127.56.3.1", "do-not-query-address 127.56.3.1");
	expect_allowed(q, "127.56.3.2");
	expect_refused(q, "::ffff:127.56.3.1", "do-not-query-address 127.56.3.1");
	expect_refused(q, "2001:4860:4860::8888", "do-not-query-address 2001:4860::/32");
	expect_refused(q, "8.8.4.4", "do-not-query-address 8.8.4.0/24");
	expect_refused(q, "64:ff9b::808:404", "do-not-query-address 8.8.4.0/24");
	expect_allowed(q, "8.8.8.8");
	expect_refused(q, "10.9.9.9", "do-not-query-address 10.0.0.0/8");
	caa_dnq_free(q);

	static const char *const bad[] = {"10.0.0.0/33", "10.0.0.0/",  "10.0.0.0/x",  "nonsense",
	                                  "::1/129",     "1.2.3.4/-1", "10.0.0.0/8/8"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		q = NULL;
		assert_int_equal(caa_dnq_new(false, bad[i], &q, err, sizeof(err)), CAA_ECONFIG);
		assert_null(q);
		assert_non_null(strstr(err, "do-not-query-address"));
	}
}

static void test_other_family(void **state)
{
	(void)state;
	caa_dnq_t *q;
	char err[64], buf[64];
	assert_int_equal(caa_dnq_new(true, NULL, &q, err, sizeof(err)), CAA_EOK);
	struct sockaddr sa = {.sa_family = AF_UNIX};
	assert_non_null(caa_dnq_refuses(q, &sa, buf, sizeof(buf)));
	caa_dnq_free(q);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_special_default),
	    cmocka_unit_test(test_localhost),
	    cmocka_unit_test(test_user_list),
	    cmocka_unit_test(test_other_family),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
