/* ubconf.c — one way to configure libunbound from caad's config. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <unbound.h>

#include "codes.h"
#include "ubconf.h"

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
	/* libunbound calls an unreadable file a "syntax error": say what it is. */
	if (conf != NULL && access(conf, R_OK) != 0) {
		snprintf(err, errlen, "dns.unbound_conf: %s: %s", conf, strerror(errno));
		return CAA_EDNS;
	}
	if (conf != NULL && (rc = ub_ctx_config(ub, conf)) != 0) {
		snprintf(err, errlen, "dns.unbound_conf: %s: %s", conf, ub_strerror(rc));
		return CAA_EDNS;
	}
	const char *ta = cfg->dns.trust_anchor_file;
	if (ta == NULL && conf == NULL)
		ta = CAA_DEFAULT_TRUST_ANCHOR;
	if (ta != NULL && (rc = ub_ctx_add_ta_file(ub, ta)) != 0) {
		snprintf(err, errlen, "dns.trust_anchor_file: %s: %s", ta,
		         rc == UB_READFILE ? "cannot read the file" : ub_strerror(rc));
		return CAA_EDNS;
	}
	return CAA_EOK;
}
