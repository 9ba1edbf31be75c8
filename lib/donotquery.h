/*
 * donotquery.h — which server addresses caad may send its own queries to.
 *
 * The diagnosis (diagnose.c) follows NS names and glue that applicants
 * control; without a check it can be aimed at the CA's own network. An
 * address is refused when it is
 *  - loopback (127.0.0.0/8, ::1), unless do-not-query-localhost is "no" —
 *    the same setting, read from the same dns.unbound_conf, that libunbound
 *    obeys (ubconf.c makes "yes" the default, as in unbound itself);
 *  - on do-not-query-address (addr or addr/len, as unbound reads them);
 *  - in a special-purpose range that is never a public DNS server: this
 *    network, RFC 1918 and RFC 6598 space, link-local, unique-local,
 *    site-local, multicast, IETF protocol assignments, documentation,
 *    benchmarking, reserved and broadcast, the unspecified address, the
 *    deprecated IPv4-compatible ::/96 and 6to4 relay anycast, local-use NAT64
 *    and discard-only (the list is in donotquery.c; no setting allows them).
 *    libunbound has no such list: the climb's queries avoid these ranges only
 *    when do-not-query-address names them.
 * IPv4-mapped (::ffff:0:0/96), NAT64 (64:ff9b::/96) and 6to4 (2002::/16)
 * addresses are judged by the IPv4 address they carry.
 */
#ifndef CAA_DONOTQUERY_H
#define CAA_DONOTQUERY_H

#include <stdbool.h>
#include <stddef.h>

struct sockaddr;

typedef struct caa_dnq caa_dnq_t;

/*
 * New filter. localhost_ok: do-not-query-localhost is "no". list: the
 * do-not-query-address entries separated by newlines (or NULL), each an IPv4
 * or IPv6 address with an optional /prefix length. Returns CAA_EOK,
 * CAA_ENOMEM, or CAA_ECONFIG with the entry that does not parse in err.
 */
int caa_dnq_new(bool localhost_ok, const char *list, caa_dnq_t **out, char *err, size_t errlen);
void caa_dnq_free(caa_dnq_t *q);

/* NULL when sa (AF_INET or AF_INET6) may be queried; otherwise why not, in
 * buf ("loopback (do-not-query-localhost)", "private (RFC 1918)", "on
 * do-not-query-address 10.0.0.0/8", ...). Other families are refused. */
const char *caa_dnq_refuses(const caa_dnq_t *q, const struct sockaddr *sa, char *buf, size_t cap);

#endif
