/*
 * test_ubconf.c — what the validator of a configured libunbound context can
 * prove (ubconf.h, docs/semantics.md §1, §6): INSECURE needs validation from the root;
 * without a trust anchor, with only non-root anchors, without the validator
 * module, or under domain-insecure, an unsigned answer proves nothing; and
 * an unbound.conf that would let bogus answers through is refused.
 * No network: contexts are configured, never asked anything.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <unbound.h>

#include "codes.h"
#include "ubconf.h"

#define ROOT_DS ". IN DS 20326 8 2 E06D44B80B8F1D39A95C0B0D7C65D08458E880409BBC683457104237C7F8EC8D"
#define COM_DS                                                                                     \
	"com. IN DS 19718 13 2 8ACBB0CD28F41250A80A491389424D341522D946B0DA0C0291F2D3D771D7805A"

struct text_row {
	const char *what;
	const char *text;
	bool root;
};

/* clang-format off */
static const struct text_row text_rows[] = {
	{"zone-file DS", ROOT_DS "\n", true},
	{"zone-file DNSKEY with TTL", ". 172800 IN DNSKEY 257 3 8 AwEAAaz/tAm8 ; keytag 20326\n", true},
	{"after comments and blank lines", "; trust anchor\n\n;; more\n" ROOT_DS "\n", true},
	{"leading whitespace", "   " ROOT_DS, true},
	{"lowercase type", ". IN ds 20326 8 2 E06D", true},
	{"BIND trusted-keys", "trusted-keys {\n\t\".\" 257 3 8 \"AwEAAaz\";\n};\n", true},
	{"a TLD anchor only", COM_DS "\n", false},
	{"commented out", "; " ROOT_DS "\n", false},
	{"root NS is no anchor", ". IN NS a.root-servers.net.\n", false},
	{"empty", "", false},
	{"dot inside a name", "example. IN DS 1 2 3 AA\n", false},
	{"two anchors, one root", COM_DS "\n" ROOT_DS "\n", true},
};
/* clang-format on */

static void test_root_anchor_text(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(text_rows) / sizeof(text_rows[0]); i++)
		if (caa_ubconf_text_has_root_anchor(text_rows[i].text) != text_rows[i].root)
			fail_msg("\"%s\": want %s", text_rows[i].what,
			         text_rows[i].root ? "a root anchor" : "none");
}

static char tmpdir[64];

static const char *write_file(const char *name, const char *text)
{
	static char path[8][128];
	static int next;
	char *p = path[next++ % 8];
	snprintf(p, 128, "%s/%s", tmpdir, name);
	FILE *f = fopen(p, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
	return p;
}

/* A context set up the way the climb does it (caa_ubconf_apply). */
static void validation_of(const char *unbound_conf, const char *ta_file, caa_ubconf_val_t *v)
{
	caa_config_t cfg;
	char err[256];
	memset(&cfg, 0, sizeof(cfg));
	cfg.dns.unbound_conf = (char *)unbound_conf;
	cfg.dns.trust_anchor_file = (char *)ta_file;
	struct ub_ctx *ub = ub_ctx_create();
	assert_non_null(ub);
	if (caa_ubconf_apply(ub, &cfg, err, sizeof(err)) != CAA_EOK)
		fail_msg("apply: %s", err);
	assert_int_equal(caa_ubconf_validation(ub, v), CAA_EOK);
	ub_ctx_delete(ub);
}

static void test_validation(void **state)
{
	(void)state;
	const char *root = write_file("root.key", "; lab\n" ROOT_DS "\n");
	const char *tld = write_file("com.key", COM_DS "\n");
	char text[1024];
	caa_ubconf_val_t v;

	/* dns.trust_anchor_file with the root: validating */
	validation_of(NULL, root, &v);
	assert_true(v.validating);
	assert_true(caa_ubconf_proves_insecure(&v, "www.example.com"));
	caa_ubconf_val_deinit(&v);

	/* an unbound.conf without any anchor: validation off, nothing proven */
	const char *plain = write_file("plain.conf", "server:\n  verbosity: 0\n");
	validation_of(plain, NULL, &v);
	assert_false(v.validating);
	assert_false(caa_ubconf_proves_insecure(&v, "www.example.com"));
	caa_ubconf_val_deinit(&v);

	/* only a TLD anchor: nothing outside it could be proven, so nothing is */
	validation_of(NULL, tld, &v);
	assert_false(v.validating);
	caa_ubconf_val_deinit(&v);

	/* the root anchor from the unbound.conf (file, inline), not dns.trust_anchor_file */
	snprintf(text, sizeof(text), "server:\n  trust-anchor-file: \"%s\"\n", root);
	validation_of(write_file("ta-file.conf", text), NULL, &v);
	assert_true(v.validating);
	caa_ubconf_val_deinit(&v);
	validation_of(write_file("ta-inline.conf", "server:\n  trust-anchor: \"" ROOT_DS "\"\n"),
	              NULL, &v);
	assert_true(v.validating);
	caa_ubconf_val_deinit(&v);

	/* the validator module off: anchors or not, nothing is validated */
	snprintf(text, sizeof(text), "server:\n  module-config: \"iterator\"\n");
	validation_of(write_file("noval.conf", text), root, &v);
	assert_false(v.validating);
	caa_ubconf_val_deinit(&v);

	/* domain-insecure exempts names from validation: they prove nothing */
	snprintf(text, sizeof(text),
	         "server:\n  domain-insecure: \"Corp.\"\n  domain-insecure: lab\n");
	validation_of(write_file("dom-insecure.conf", text), root, &v);
	assert_true(v.validating);
	assert_int_equal(v.n_insecure, 2);
	assert_false(caa_ubconf_proves_insecure(&v, "corp"));
	assert_false(caa_ubconf_proves_insecure(&v, "a.b.CORP"));
	assert_false(caa_ubconf_proves_insecure(&v, "x.lab"));
	assert_true(caa_ubconf_proves_insecure(&v, "xcorp"));
	assert_true(caa_ubconf_proves_insecure(&v, "lab.example"));
	assert_true(caa_ubconf_proves_insecure(&v, "example"));
	caa_ubconf_val_deinit(&v);

	/* domain-insecure "." covers everything */
	validation_of(write_file("all-insecure.conf", "server:\n  domain-insecure: \".\"\n"), root,
	              &v);
	assert_false(caa_ubconf_proves_insecure(&v, "example"));
	caa_ubconf_val_deinit(&v);
	caa_ubconf_val_deinit(&v); /* twice is fine */
}

/* Settings that let bogus answers through are refused (ubconf.h): the error
 * names dns.unbound_conf and the setting; the strict values written out, and
 * settings that let nothing bogus through, are accepted. */
static void test_refuse_bogus_passing(void **state)
{
	(void)state;
	static const struct {
		const char *line, *opt;
	} bad[] = {
	    {"val-permissive-mode: yes", "val-permissive-mode"},
	    {"harden-dnssec-stripped: no", "harden-dnssec-stripped"},
	    {"val-override-date: -1", "val-override-date"},
	    {"val-override-date: \"20200101000000\"", "val-override-date"},
	    {"val-override-date: 1577836800", "val-override-date"},
	};
	static const char *const good[] = {
	    "val-permissive-mode: no\n  harden-dnssec-stripped: yes\n  val-override-date: 0",
	    "val-override-date: \"\"",
	    "trust-anchor-signaling: no\n  root-key-sentinel: no",
	    "harden-algo-downgrade: no\n  val-sig-skew-max: 172800\n  val-clean-additional: no",
	};
	char text[512], err[512];
	caa_config_t cfg;
	memset(&cfg, 0, sizeof(cfg));
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(text, sizeof(text), "server:\n  %s\n", bad[i].line);
		cfg.dns.unbound_conf = (char *)write_file("loose.conf", text);
		struct ub_ctx *ub = ub_ctx_create();
		assert_non_null(ub);
		err[0] = '\0';
		int rc = caa_ubconf_apply(ub, &cfg, err, sizeof(err));
		ub_ctx_delete(ub);
		if (rc != CAA_ECONFIG || strstr(err, "dns.unbound_conf") == NULL ||
		    strstr(err, bad[i].opt) == NULL)
			fail_msg("\"%s\": rc %d \"%s\": want CAA_ECONFIG naming dns.unbound_conf "
			         "and %s",
			         bad[i].line, rc, err, bad[i].opt);
	}
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		snprintf(text, sizeof(text), "server:\n  %s\n", good[i]);
		cfg.dns.unbound_conf = (char *)write_file("strict.conf", text);
		struct ub_ctx *ub = ub_ctx_create();
		assert_non_null(ub);
		int rc = caa_ubconf_apply(ub, &cfg, err, sizeof(err));
		ub_ctx_delete(ub);
		if (rc != CAA_EOK)
			fail_msg("\"%s\": rc %d \"%s\": want accepted", good[i], rc, err);
	}
	/* no unbound.conf at all: libunbound's defaults are strict */
	cfg.dns.unbound_conf = NULL;
	cfg.dns.trust_anchor_file = (char *)write_file("root.key", ROOT_DS "\n");
	struct ub_ctx *ub = ub_ctx_create();
	assert_non_null(ub);
	assert_int_equal(caa_ubconf_apply(ub, &cfg, err, sizeof(err)), CAA_EOK);
	ub_ctx_delete(ub);
}

static int setup(void **state)
{
	(void)state;
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/caa-ubconf.XXXXXX");
	return mkdtemp(tmpdir) != NULL ? 0 : -1;
}

static int teardown(void **state)
{
	char cmd[128];
	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	return system(cmd) == 0 ? 0 : -1;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_root_anchor_text),
	    cmocka_unit_test(test_validation),
	    cmocka_unit_test(test_refuse_bogus_passing),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
