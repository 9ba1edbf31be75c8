/*
 * ubconf.h — configure a libunbound context from caad's config, the same way
 * for every context libcaa makes (the climb's, the diagnosis'): QNAME
 * minimisation off, do-not-query-localhost on unless dns.unbound_conf turns
 * it off, dns.unbound_conf, trust anchor; and read back which server
 * addresses that configuration forbids, for the queries caad sends itself.
 */
#ifndef CAA_UBCONF_H
#define CAA_UBCONF_H

#include <stdbool.h>
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
 * dns.trust_anchor_file names one). Then the settings that would let bogus
 * answers through as insecure or secure are read back and refused:
 * val-permissive-mode other than no, harden-dnssec-stripped other than yes,
 * val-override-date other than 0. Returns CAA_EOK, CAA_EDNS (libunbound could
 * not be set up) or CAA_ECONFIG (a refused setting), with a message naming
 * the key in err.
 */
int caa_ubconf_apply(struct ub_ctx *ub, const caa_config_t *cfg, char *err, size_t errlen);

/*
 * What the validator of a configured context can prove (docs/semantics.md §1, §6): an
 * answer it did not find secure or bogus is Insecure (RFC 4035 §4.3) only
 * when it validated from the root and the name is not exempted by
 * domain-insecure. With validation off, or only non-root anchors, nothing is
 * proven: such answers are INDETERMINATE.
 */
typedef struct caa_ubconf_val {
	bool validating; /* the validator module runs and a root trust anchor is set */
	char **insecure; /* domain-insecure names (lowercase, no trailing dot) */
	size_t n_insecure;
} caa_ubconf_val_t;

/* Read it from ub after caa_ubconf_apply(). Returns CAA_EOK or CAA_ENOMEM. */
int caa_ubconf_validation(struct ub_ctx *ub, caa_ubconf_val_t *out);
void caa_ubconf_val_deinit(caa_ubconf_val_t *v);

/* True when an unsigned answer for name (no trailing dot) proves Insecure. */
bool caa_ubconf_proves_insecure(const caa_ubconf_val_t *v, const char *name);

/* Does anchor text (a trust anchor file's content, or one trust-anchor
 * string) hold a DS or DNSKEY for the root? Zone-file lines (";" comments)
 * and BIND trusted-keys / trust-anchors blocks ("\".\"" owner) are read. */
bool caa_ubconf_text_has_root_anchor(const char *text);

/*
 * The addresses ub (configured by caa_ubconf_apply) will not query, as a
 * filter for caad's own queries (donotquery.h): do-not-query-localhost and
 * do-not-query-address as libunbound reads them. Returns CAA_EOK, CAA_ENOMEM
 * or CAA_EDNS with a message in err.
 */
int caa_ubconf_donotquery(struct ub_ctx *ub, caa_dnq_t **out, char *err, size_t errlen);

#endif
