/* ubconf.c — one way to configure libunbound from caad's config. */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <unbound.h>

#include "codes.h"
#include "donotquery.h"
#include "ubconf.h"
#include "util.h"

/*
 * Settings under which libunbound hands over what failed validation as if it
 * had not (unbound.conf(5)): the answer comes back with sec 0 (insecure) or 2
 * (secure) instead of bogus and no SERVFAIL, so a forged CAA RRset would be
 * taken as the zone's. A CA never validates that loosely (docs/semantics.md §6).
 */
static const struct {
	const char *opt;  /* as ub_ctx_get_option() names it */
	const char *safe; /* the only value accepted */
	const char *why;
} bogus_passing[] = {
    {"val-permissive-mode", "no", "bogus answers are handed over as indeterminate"},
    {"harden-dnssec-stripped", "yes",
     "a trust anchor whose key set is missing or fails to validate makes everything "
     "below it insecure instead of bogus (a downgrade)"},
    {"val-override-date", "0",
     "signatures are checked against another date than now (expired ones validate)"},
};

static int refuse_bogus_passing(struct ub_ctx *ub, const char *conf, char *err, size_t errlen)
{
	for (size_t i = 0; i < sizeof(bogus_passing) / sizeof(bogus_passing[0]); i++) {
		char *val = NULL;
		int rc = ub_ctx_get_option(ub, bogus_passing[i].opt, &val);
		bool ok = rc == 0 && val != NULL && strcmp(val, bogus_passing[i].safe) == 0;
		if (!ok && rc != 0)
			caa_set_err(err, errlen,
			            "dns.unbound_conf: cannot read %s back from libunbound",
			            bogus_passing[i].opt);
		else if (!ok)
			caa_set_err(err, errlen,
			            "dns.unbound_conf: %s: %s: %s is refused: %s; a CA validates "
			            "strictly (remove it)",
			            conf != NULL ? conf : "(none)", bogus_passing[i].opt,
			            val != NULL ? val : "", bogus_passing[i].why);
		free(val);
		if (!ok)
			return CAA_ECONFIG;
	}
	return CAA_EOK;
}

int caa_ubconf_apply(struct ub_ctx *ub, const caa_config_t *cfg, char *err, size_t errlen)
{
	const char *conf = cfg->dns.unbound_conf;
	int rc;

	ub_ctx_set_option(ub, "qname-minimisation:", "no");
	/* libunbound's library default is 16 UDP ports (config_create_forlib):
	 * 16 queries to silent servers hold them all and every other query
	 * waits for one. A port per query dns.max_outstanding lets in, and room
	 * for libunbound's own (NS addresses, DNSSEC keys); unbound_conf may
	 * still say otherwise. */
	char ports[16];
	snprintf(ports, sizeof(ports), "%u", cfg->dns.max_outstanding + 64u);
	ub_ctx_set_option(ub, "outgoing-range:", ports);
	/* Its TCP default is 2 connections: two servers that stall or answer
	 * TC over TCP (an applicant's zone can) hold them, and every other
	 * large RRset's retry over TCP fails as SERVFAIL. */
	ub_ctx_set_option(ub, "outgoing-num-tcp:", "64");
	/* libunbound's own default is "no" (it expects a forwarder on localhost);
	 * unbound's is "yes", and so is ours: an applicant's delegation must not
	 * reach the CA's loopback unless the config says so (the lab does). */
	ub_ctx_set_option(ub, "do-not-query-localhost:", "yes");
	/* libunbound calls an unreadable file a "syntax error": say what it is. */
	if (conf != NULL && access(conf, R_OK) != 0) {
		caa_set_err(err, errlen, "dns.unbound_conf: %s: %s", conf, strerror(errno));
		return CAA_EDNS;
	}
	if (conf != NULL && (rc = ub_ctx_config(ub, conf)) != 0) {
		caa_set_err(err, errlen, "dns.unbound_conf: %s: %s", conf, ub_strerror(rc));
		return CAA_EDNS;
	}
	const char *ta = cfg->dns.trust_anchor_file;
	if (ta == NULL && conf == NULL)
		ta = CAA_DEFAULT_TRUST_ANCHOR;
	if (ta != NULL && (rc = ub_ctx_add_ta_file(ub, ta)) != 0) {
		caa_set_err(err, errlen, "dns.trust_anchor_file: %s: %s", ta,
		            rc == UB_READFILE ? "cannot read the file" : ub_strerror(rc));
		return CAA_EDNS;
	}
	return refuse_bogus_passing(ub, conf, err, errlen);
}

/* ---- what the validator can prove ---- */

/* The next whitespace-separated token of line (quotes kept), or NULL. */
static const char *next_token(const char **p, size_t *len)
{
	const char *s = *p;
	while (*s == ' ' || *s == '\t' || *s == '{')
		s++;
	if (*s == '\0' || *s == ';' || *s == '#' || *s == '\n' || *s == '\r')
		return NULL;
	const char *e = s;
	while (*e != '\0' && !isspace((unsigned char)*e))
		e++;
	*p = e;
	*len = (size_t)(e - s);
	return s;
}

bool caa_ubconf_text_has_root_anchor(const char *text)
{
	for (const char *line = text; line != NULL && *line != '\0';) {
		const char *nl = strchr(line, '\n');
		const char *p = line;
		size_t len;
		const char *owner = next_token(&p, &len);
		if (owner != NULL && ((len == 1 && owner[0] == '.') ||
		                      (len == 3 && memcmp(owner, "\".\"", 3) == 0))) {
			/* BIND blocks have the key right after the owner: no type word */
			if (owner[0] == '"')
				return true;
			const char *t;
			for (int i = 0; i < 4 && (t = next_token(&p, &len)) != NULL; i++)
				if ((len == 2 && strncasecmp(t, "DS", 2) == 0) ||
				    (len == 6 && strncasecmp(t, "DNSKEY", 6) == 0))
					return true;
		}
		line = nl != NULL ? nl + 1 : NULL;
	}
	return false;
}

static bool file_has_root_anchor(const char *path)
{
	FILE *f = fopen(path, "r");
	if (f == NULL)
		return false;
	char line[8192];
	bool found = false;
	while (!found && fgets(line, sizeof(line), f) != NULL)
		found = caa_ubconf_text_has_root_anchor(line);
	fclose(f);
	return found;
}

/* Call fn on every line of a collated option (one item a line). */
static bool any_item(struct ub_ctx *ub, const char *opt, bool (*fn)(const char *item))
{
	char *all = NULL;
	bool found = false;
	if (ub_ctx_get_option(ub, opt, &all) != 0 || all == NULL) {
		free(all);
		return false;
	}
	for (char *save = NULL, *it = strtok_r(all, "\n", &save); it != NULL && !found;
	     it = strtok_r(NULL, "\n", &save))
		found = fn(it);
	free(all);
	return found;
}

static int add_insecure(caa_ubconf_val_t *v, const char *item)
{
	size_t n = strlen(item);
	while (n > 0 && item[n - 1] == '.')
		n--;
	char **grown = realloc(v->insecure, (v->n_insecure + 1) * sizeof(*grown));
	if (grown == NULL)
		return CAA_ENOMEM;
	v->insecure = grown;
	char *d = malloc(n + 1);
	if (d == NULL)
		return CAA_ENOMEM;
	for (size_t i = 0; i < n; i++)
		d[i] = (char)tolower((unsigned char)item[i]);
	d[n] = '\0';
	v->insecure[v->n_insecure++] = d;
	return CAA_EOK;
}

int caa_ubconf_validation(struct ub_ctx *ub, caa_ubconf_val_t *out)
{
	memset(out, 0, sizeof(*out));
	char *modules = NULL;
	bool validator = ub_ctx_get_option(ub, "module-config", &modules) == 0 && modules != NULL &&
	                 strstr(modules, "validator") != NULL;
	free(modules);
	/* ub_ctx_add_ta_file() puts dns.trust_anchor_file in the same list as an
	 * unbound.conf's trust-anchor-file: one place to look. */
	bool root = any_item(ub, "trust-anchor", caa_ubconf_text_has_root_anchor) ||
	            any_item(ub, "trust-anchor-file", file_has_root_anchor) ||
	            any_item(ub, "auto-trust-anchor-file", file_has_root_anchor) ||
	            any_item(ub, "trusted-keys-file", file_has_root_anchor);
	out->validating = validator && root;

	char *all = NULL;
	if (ub_ctx_get_option(ub, "domain-insecure", &all) == 0 && all != NULL) {
		for (char *save = NULL, *it = strtok_r(all, "\n", &save); it != NULL;
		     it = strtok_r(NULL, "\n", &save))
			if (add_insecure(out, it) != CAA_EOK) {
				free(all);
				caa_ubconf_val_deinit(out);
				return CAA_ENOMEM;
			}
	}
	free(all);
	return CAA_EOK;
}

void caa_ubconf_val_deinit(caa_ubconf_val_t *v)
{
	for (size_t i = 0; i < v->n_insecure; i++)
		free(v->insecure[i]);
	free(v->insecure);
	memset(v, 0, sizeof(*v));
}

bool caa_ubconf_proves_insecure(const caa_ubconf_val_t *v, const char *name)
{
	if (!v->validating)
		return false;
	size_t n = strlen(name);
	for (size_t i = 0; i < v->n_insecure; i++) {
		const char *d = v->insecure[i];
		size_t dn = strlen(d);
		/* the root (""), the name itself, or a parent of it */
		if (dn == 0 || (dn == n && strcasecmp(name, d) == 0) ||
		    (dn < n && name[n - dn - 1] == '.' && strcasecmp(name + n - dn, d) == 0))
			return false;
	}
	return true;
}

int caa_ubconf_donotquery(struct ub_ctx *ub, caa_dnq_t **out, char *err, size_t errlen)
{
	char *local = NULL, *list = NULL;
	int rc = CAA_EDNS;
	*out = NULL;
	if (ub_ctx_get_option(ub, "do-not-query-localhost", &local) != 0 ||
	    ub_ctx_get_option(ub, "do-not-query-address", &list) != 0) {
		caa_set_err(err, errlen,
		            "dns.unbound_conf: cannot read do-not-query-localhost / "
		            "do-not-query-address back from libunbound");
	} else {
		char why[160] = "";
		rc = caa_dnq_new(local != NULL && strcmp(local, "no") == 0, list, out, why,
		                 sizeof(why));
		if (rc == CAA_ECONFIG) {
			caa_set_err(err, errlen, "dns.unbound_conf: %s", why);
			rc = CAA_EDNS;
		}
	}
	free(local);
	free(list);
	return rc;
}
