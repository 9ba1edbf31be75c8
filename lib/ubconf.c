/* ubconf.c — one way to configure libunbound from caad's config. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <unbound.h>

#include "codes.h"
#include "donotquery.h"
#include "ubconf.h"

int caa_ubconf_apply(struct ub_ctx *ub, const caa_config_t *cfg, char *err, size_t errlen)
{
	const char *conf = cfg->dns.unbound_conf;
	int rc;

	ub_ctx_set_option(ub, "qname-minimisation:", "no");
	/* libunbound's own default is "no" (it expects a forwarder on localhost);
	 * unbound's is "yes", and so is ours: an applicant's delegation must not
	 * reach the CA's loopback unless the config says so (the lab does). */
	ub_ctx_set_option(ub, "do-not-query-localhost:", "yes");
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

int caa_ubconf_donotquery(struct ub_ctx *ub, caa_dnq_t **out, char *err, size_t errlen)
{
	char *local = NULL, *list = NULL;
	int rc = CAA_EDNS;
	*out = NULL;
	if (ub_ctx_get_option(ub, "do-not-query-localhost", &local) != 0 ||
	    ub_ctx_get_option(ub, "do-not-query-address", &list) != 0) {
		snprintf(err, errlen, "dns.unbound_conf: cannot read do-not-query-localhost / "
		                      "do-not-query-address back from libunbound");
	} else {
		char why[160] = "";
		rc = caa_dnq_new(local != NULL && strcmp(local, "no") == 0, list, out, why,
		                 sizeof(why));
		if (rc == CAA_ECONFIG) {
			snprintf(err, errlen, "dns.unbound_conf: %s", why);
			rc = CAA_EDNS;
		}
	}
	free(local);
	free(list);
	return rc;
}
