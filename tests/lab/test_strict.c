/*
 * test_strict.c — caad never runs a validator that lets bogus answers
 * through (ubconf.h): the lab's unbound.conf with one of
 * val-permissive-mode: yes, harden-dnssec-stripped: no or val-override-date
 * set makes caa_ctx_new() fail with CAA_ECONFIG naming dns.unbound_conf and
 * the setting. Should a context start anyway, the scenario that setting
 * opens is checked and reported: a forged or expired permission must never
 * come back PERMITTED (harden-dnssec-stripped: no is shown with a root key
 * set that fails against the anchor: libunbound then treats the whole tree
 * as unsigned). The same file with the strict values written out starts,
 * and still fails those scenarios closed.
 *
 *   test_strict LABDIR
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "climb.h"

#include "labcheck.h"

/* The Internet's root DS: not the lab root's, so the lab root's DNSKEYs fail
 * against it (a forged key set, as far as this validator can tell). */
#define WRONG_ROOT_DS                                                                              \
	"trust-anchor: \". IN DS 20326 8 2 "                                                       \
	"E06D44B80B8F1D39A95C0B0D7C65D08458E880409BBC683457104237C7F8EC8D\""

/* A setting, the lab name whose bogus answer it would let through
 * (deploy/lab/scenarios.json: LOOKUP_FAILED DNSSEC_BOGUS there), and whether
 * the lab's own trust anchor is replaced by WRONG_ROOT_DS. */
static const struct {
	const char *line, *opt, *name;
	bool wrong_anchor;
} loose[] = {
    {"val-permissive-mode: yes", "val-permissive-mode", "tampered.lab", false},
    /* the root's key set fails: the whole tree becomes insecure, not bogus */
    {"harden-dnssec-stripped: no", "harden-dnssec-stripped", "tampered.lab", true},
    {"val-override-date: -1", "val-override-date", "expired.lab", false},
    {"val-override-date: \"20200101000000\"", "val-override-date", "expired.lab", false},
};
#define N_LOOSE (sizeof(loose) / sizeof(loose[0]))

/* DIR/strict-N.conf: the lab's unbound.conf (without its trust anchor when
 * wrong_anchor: WRONG_ROOT_DS instead, and dns.trust_anchor_file goes too),
 * then extra in a server clause. */
static char *write_conf(const char *labdir, int n, const char *extra, bool wrong_anchor)
{
	char src[4096], *dst = malloc(4096);
	snprintf(src, sizeof(src), "%s/unbound.conf", labdir);
	snprintf(dst, 4096, "%s/strict-%d.conf", labdir, n);
	FILE *in = fopen(src, "r"), *out = fopen(dst, "w");
	if (in == NULL || out == NULL) {
		fprintf(stderr, "test_strict: cannot copy %s to %s\n", src, dst);
		exit(1);
	}
	char line[4096];
	while (fgets(line, sizeof(line), in) != NULL)
		if (!wrong_anchor || strstr(line, "trust-anchor") == NULL)
			fputs(line, out);
	fprintf(out, "\nserver:\n\t%s\n%s%s\n", extra, wrong_anchor ? "\t" : "",
	        wrong_anchor ? WRONG_ROOT_DS : "");
	fclose(in);
	fclose(out);
	return dst;
}

/* Check name on ctx: anything but PERMITTED fails closed. */
static void check_closed(caa_ctx_t *ctx, const char *what, const char *name)
{
	caa_request_t req = {.type = "dns",
	                     .identifier = name,
	                     .account_uri = "https://ca.example/acme/acct/1",
	                     .method = "dns-01"};
	caa_result_t *res = NULL;
	int rc = caa_check(ctx, &req, &res);
	if (rc == CAA_EOK && res != NULL && res->verdict == CAA_PERMITTED)
		FAIL("%s: %s PERMITTED (dnssec %s): a bogus answer was taken", what, name,
		     caa_dnssec_name(res->dnssec));
	else if (rc != CAA_EOK || res == NULL)
		FAIL("%s: %s: check rc %d", what, name, rc);
	caa_result_free(res);
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: test_strict LABDIR\n");
		return 2;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	char path[4096], err[512];
	snprintf(path, sizeof(path), "%s/caa.json", argv[1]);
	caa_config_t *cfg;
	if (caa_config_load(path, &cfg, err, sizeof(err)) != CAA_EOK) {
		fprintf(stderr, "test_strict: %s\n", err);
		return 1;
	}
	/* the config's own strings: put back before freeing */
	char *lab_conf = cfg->dns.unbound_conf, *lab_ta = cfg->dns.trust_anchor_file;
	for (size_t i = 0; i < N_LOOSE; i++) {
		char *conf = write_conf(argv[1], (int)i, loose[i].line, loose[i].wrong_anchor);
		caa_ctx_t *ctx = NULL;
		cfg->dns.unbound_conf = conf;
		cfg->dns.trust_anchor_file = loose[i].wrong_anchor ? NULL : lab_ta;
		err[0] = '\0';
		int rc = caa_ctx_new(cfg, &ctx, err, sizeof(err));
		if (rc == CAA_EOK) {
			FAIL("%s: the context started", loose[i].line);
			check_closed(ctx, loose[i].line, loose[i].name);
			caa_ctx_free(ctx);
		} else if (rc != CAA_ECONFIG || strstr(err, "dns.unbound_conf") == NULL ||
		           strstr(err, loose[i].opt) == NULL) {
			FAIL("%s: rc %d, \"%s\": want CAA_ECONFIG naming dns.unbound_conf and %s",
			     loose[i].line, rc, err, loose[i].opt);
		} else {
			printf("ok   %s: refused: %s\n", loose[i].line, err);
		}
		free(conf);
	}

	/* The strict values written out: a context, and the bogus answers fail. */
	char *conf = write_conf(argv[1], (int)N_LOOSE,
	                        "val-permissive-mode: no\n\tharden-dnssec-stripped: yes\n"
	                        "\tval-override-date: 0",
	                        false);
	caa_ctx_t *ctx = NULL;
	cfg->dns.unbound_conf = conf;
	cfg->dns.trust_anchor_file = lab_ta;
	if (caa_ctx_new(cfg, &ctx, err, sizeof(err)) != CAA_EOK) {
		FAIL("strict values written out: %s", err);
	} else {
		for (size_t i = 0; i < N_LOOSE; i++)
			check_closed(ctx, "strict", loose[i].name);
		caa_ctx_free(ctx);
	}
	free(conf);
	cfg->dns.unbound_conf = lab_conf;
	cfg->dns.trust_anchor_file = lab_ta;
	caa_config_free(cfg);
	printf("%s test_strict (%d failures)\n", failures ? "FAIL" : "PASS", failures);
	return failures ? 1 : 0;
}
