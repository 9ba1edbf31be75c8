/* test_ubconf_dnq.c — what a libunbound context configured by caa_ubconf_apply()
 * forbids, read back for caad's own queries: loopback unless the config says
 * do-not-query-localhost: no (libunbound alone would allow it), and
 * do-not-query-address. No network: nothing is resolved. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <cmocka.h>

#include <unbound.h>

#include "codes.h"
#include "config.h"
#include "donotquery.h"
#include "ubconf.h"

static char dir[] = "/tmp/caa-test-ubconf.XXXXXX";

/* The filter for a config whose unbound.conf holds body ("" : none given). */
static caa_dnq_t *filter_for(const char *body, int *rc_out, char *err, size_t errlen)
{
	char conf[256], ta[256], json[1024];
	snprintf(ta, sizeof(ta), "%s/root.key", dir);
	FILE *f = fopen(ta, "w");
	assert_non_null(f);
	fputs(
	    ". IN DS 20326 8 2 E06D44B80B8F1D39A95C0B0D7C65D08458E880409BBC683457104237C7F8EC8D\n",
	    f);
	fclose(f);
	if (body != NULL) {
		snprintf(conf, sizeof(conf), "%s/unbound.conf", dir);
		f = fopen(conf, "w");
		assert_non_null(f);
		fputs(body, f);
		fclose(f);
		snprintf(
		    json, sizeof(json),
		    "{\"issuer_domains\": [\"ca.example\"], \"dns\": {\"unbound_conf\": \"%s\", "
		    "\"trust_anchor_file\": \"%s\"}}",
		    conf, ta);
	} else {
		snprintf(json, sizeof(json),
		         "{\"issuer_domains\": [\"ca.example\"], \"dns\": {\"trust_anchor_file\": "
		         "\"%s\"}}",
		         ta);
	}
	caa_config_t *cfg;
	assert_int_equal(caa_config_parse(json, strlen(json), &cfg, err, errlen), CAA_EOK);
	struct ub_ctx *ub = ub_ctx_create();
	assert_non_null(ub);
	caa_dnq_t *q = NULL;
	int rc = caa_ubconf_apply(ub, cfg, err, errlen);
	if (rc == CAA_EOK)
		rc = caa_ubconf_donotquery(ub, &q, err, errlen);
	*rc_out = rc;
	ub_ctx_delete(ub);
	caa_config_free(cfg);
	return q;
}

static bool refused(const caa_dnq_t *q, const char *v4)
{
	struct sockaddr_in in = {.sin_family = AF_INET};
	char buf[128];
	assert_int_equal(inet_pton(AF_INET, v4, &in.sin_addr), 1);
	return caa_dnq_refuses(q, (const struct sockaddr *)&in, buf, sizeof(buf)) != NULL;
}

static void test_default_refuses_loopback(void **state)
{
	(void)state;
	char err[256] = "";
	int rc;
	caa_dnq_t *q = filter_for(NULL, &rc, err, sizeof(err));
	assert_int_equal(rc, CAA_EOK);
	assert_true(refused(q, "127.0.0.1"));
	assert_false(refused(q, "8.8.8.8"));
	caa_dnq_free(q);
	/* an unbound.conf that says nothing about it: still refused */
	q = filter_for("server:\n    verbosity: 0\n", &rc, err, sizeof(err));
	assert_int_equal(rc, CAA_EOK);
	assert_true(refused(q, "127.0.0.1"));
	caa_dnq_free(q);
}

static void test_conf_allows_loopback(void **state)
{
	(void)state;
	char err[256] = "";
	int rc;
	caa_dnq_t *q = filter_for("server:\n    do-not-query-localhost: no\n"
	                          "    do-not-query-address: 127.9.3.1\n"
	                          "    do-not-query-address: 8.8.4.0/24\n",
	                          &rc, err, sizeof(err));
	assert_int_equal(rc, CAA_EOK);
	assert_false(refused(q, "127.0.0.1"));
	assert_false(refused(q, "127.9.3.2"));
	assert_true(refused(q, "127.9.3.1"));
	assert_true(refused(q, "8.8.4.4"));
	assert_true(refused(q, "10.0.0.1")); /* special ranges: no setting opens them */
	caa_dnq_free(q);
}

/* Enough TCP connections that servers which stall or answer TC over TCP (an
 * applicant's zone can) do not hold them all: libunbound's library default
 * is 2, and then other names' large RRsets fail as SERVFAIL (lab.scenarios:
 * large-rrset-tcp beside truncated-no-tcp and truncated-over-tcp). */
static void test_tcp_connections(void **state)
{
	(void)state;
	char err[256] = "", json[512], *val = NULL;
	snprintf(json, sizeof(json), "{\"issuer_domains\": [\"ca.example\"]}");
	caa_config_t *cfg;
	assert_int_equal(caa_config_parse(json, strlen(json), &cfg, err, sizeof(err)), CAA_EOK);
	struct ub_ctx *ub = ub_ctx_create();
	assert_non_null(ub);
	assert_int_equal(caa_ubconf_apply(ub, cfg, err, sizeof(err)), CAA_EOK);
	assert_int_equal(ub_ctx_get_option(ub, "outgoing-num-tcp", &val), 0);
	assert_non_null(val);
	assert_true(atoi(val) >= 64);
	free(val);
	ub_ctx_delete(ub);
	caa_config_free(cfg);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_default_refuses_loopback),
	    cmocka_unit_test(test_conf_allows_loopback),
	    cmocka_unit_test(test_tcp_connections),
	};
	if (mkdtemp(dir) == NULL)
		return 1;
	int rc = cmocka_run_group_tests(tests, NULL, NULL);
	char path[256];
	snprintf(path, sizeof(path), "%s/unbound.conf", dir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/root.key", dir);
	unlink(path);
	rmdir(dir);
	return rc;
}
