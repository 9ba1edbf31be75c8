/*
 * fuzz_config.c — caa_config_parse on arbitrary bytes. A config that parses
 * must hold what config.h promises (its generation included); one that does not must say why in one
 * non-empty, NUL-terminated line. ASan/LSan catch leaks on every error path.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "codes.h"
#include "config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_config(const caa_config_t *cfg)
{
	if (caa_config_policy(cfg, NULL) != &cfg->policy ||
	    caa_config_policy(cfg, "") != &cfg->policy) {
		abort();
	}
	for (size_t i = 0; i < cfg->n_issuer_domains; i++) {
		const char *d = cfg->issuer_domains[i];
		size_t len = strlen(d);
		if (len == 0 || d[len - 1] == '.') {
			abort();
		}
		for (; *d != '\0'; d++) {
			if (*d >= 'A' && *d <= 'Z') {
				abort();
			}
		}
	}
	for (size_t i = 0; i < cfg->n_profiles; i++) {
		const caa_policy_t *p = &cfg->profiles[i];
		if (caa_config_policy(cfg, p->name) != p || p->name[0] == '\0' ||
		    p->issuer_domains != cfg->policy.issuer_domains ||
		    p->n_issuer_domains != cfg->n_issuer_domains) {
			abort();
		}
		for (size_t j = 0; j < p->n_method_labels; j++) {
			if (p->method_labels[j].label[0] == '\0') {
				abort();
			}
		}
	}
	if (cfg->dns.query_timeout_ms == 0 || cfg->dns.query_timeout_ms > cfg->dns.timeout_ms ||
	    cfg->max_in_flight == 0 || cfg->cache.max_entries == 0 || cfg->dns.retries > 10) {
		abort();
	}
	/* one silent zone holds at most half of libunbound's slots */
	if (cfg->dns.max_per_zone == 0 || cfg->dns.max_per_zone > cfg->dns.max_outstanding / 2) {
		abort();
	}
	/* min_remotes: 0 is "br" (caad checks the date), 1..64 an override the parser checked */
	if (cfg->perspective.min_remotes > 64 ||
	    (cfg->perspective.n_remotes > 0 &&
	     cfg->perspective.n_remotes < cfg->perspective.min_remotes)) {
		abort();
	}
	/* no account URI prefix starts another */
	for (size_t i = 0; i < cfg->n_account_uri_prefixes; i++) {
		for (size_t j = 0; j < cfg->n_account_uri_prefixes; j++) {
			const char *a = cfg->account_uri_prefixes[i],
			           *b = cfg->account_uri_prefixes[j];
			if (i != j && strncmp(a, b, strlen(a)) == 0) {
				abort();
			}
		}
	}
	/* the generation is a function of the config */
	uint8_t g1[CAA_CONFIG_GENERATION_LEN], g2[CAA_CONFIG_GENERATION_LEN];
	if (caa_config_generation(cfg, g1) != CAA_EOK ||
	    caa_config_generation(cfg, g2) != CAA_EOK || memcmp(g1, g2, sizeof(g1)) != 0) {
		abort();
	}
}

static void check_error(const char *err, size_t errlen)
{
	const char *nul = memchr(err, '\0', errlen);
	if (nul == NULL || nul == err || memchr(err, '\n', (size_t)(nul - err)) != NULL) {
		abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	caa_config_t *cfg = NULL;
	char err[512];
	memset(err, 'x', sizeof(err));
	int ret = caa_config_parse((const char *)data, size, &cfg, err, sizeof(err));
	if (ret == CAA_EOK) {
		if (cfg == NULL) {
			abort();
		}
		check_config(cfg);
		caa_config_free(cfg);
		return 0;
	}
	if (cfg != NULL || (ret != CAA_ECONFIG && ret != CAA_ENOMEM && ret != CAA_ELIMIT)) {
		abort();
	}
	check_error(err, sizeof(err));

	/* a short buffer truncates, still terminated */
	char small[7];
	memset(small, 'x', sizeof(small));
	if (caa_config_parse((const char *)data, size, &cfg, small, sizeof(small)) != ret) {
		abort();
	}
	check_error(small, sizeof(small));
	return 0;
}
