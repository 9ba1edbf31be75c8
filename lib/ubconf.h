/*
 * ubconf.h — configure a libunbound context from caad's config, the same way
 * for every context libcaa makes (the climb's, the diagnosis'): QNAME
 * minimisation off, do-not-query-localhost on unless dns.unbound_conf turns
 * it off, dns.unbound_conf, trust anchor; and read back which server
 * addresses that configuration forbids, for the queries caad sends itself.
 */
#ifndef CAA_UBCONF_H
#define CAA_UBCONF_H

#include <stddef.h>

#include "config.h"
#include "donotquery.h"

struct ub_ctx;

/* Without dns.unbound_conf or dns.trust_anchor_file: the system's root key. */
#define CAA_DEFAULT_TRUST_ANCHOR "/usr/share/dns/root.key"

/*
 * Apply cfg->dns to ub: qname-minimisation off (the climb asks every label
 * itself; an unbound.conf may turn it back on), do-not-query-localhost yes
 * (unbound's default; libunbound's is no), ub_ctx_config(unbound_conf),
 * and the trust anchor file (with an unbound.conf, its anchors rule unless
 * dns.trust_anchor_file names one). Returns CAA_EOK or CAA_EDNS with a message
 * naming the key in err.
 */
int caa_ubconf_apply(struct ub_ctx *ub, const caa_config_t *cfg, char *err, size_t errlen);

/*
 * The addresses ub (configured by caa_ubconf_apply) will not query, as a
 * filter for caad's own queries (donotquery.h): do-not-query-localhost and
 * do-not-query-address as libunbound reads them. Returns CAA_EOK, CAA_ENOMEM
 * or CAA_EDNS with a message in err.
 */
int caa_ubconf_donotquery(struct ub_ctx *ub, caa_dnq_t **out, char *err, size_t errlen);

#endif
