/*
 * diagnose.h — the real cause of a SERVFAIL: after libunbound answers SERVFAIL
 * for `<name> CAA`, ask the zone's authoritative servers ourselves and say why
 * in one sentence (docs/failures.md 2 and 5; docs/platform.md#libunbound:
 * upstream SERVFAIL, REFUSED, FORMERR, NOTIMP, a truncated answer without TCP
 * and a silent server all reach us as rcode 2).
 *
 * Method, per diagnosis (bounded by its timeout_ms; docs/diagnosis.md):
 *  1. Closest enclosing zone the resolver can see: ask libunbound (the module's
 *     own context, same dns.unbound_conf and trust anchor as the climb,
 *     QNAME minimisation off) for the NS RRset of each suffix of the name,
 *     TOP-DOWN from the TLD, each lookup cancelled after min(1.5 s, half the
 *     time left). NODATA goes on down, NXDOMAIN stops (nothing exists below),
 *     SERVFAIL, bogus or no answer stops: the zone being diagnosed is usually
 *     the first suffix that fails, and its parent resolves fine. (Bottom-up
 *     would start with the broken zone and, for a silent server, spend
 *     libunbound's ~10 s give-up time before learning anything.) Nothing found
 *     down to the TLD: start at the root (NS "." from the resolver, never a
 *     built-in address).
 *  2. Addresses of that zone's servers: A (then AAAA if no A) via libunbound.
 *  3. Iterate down ourselves: `<name> CAA`, RD=0, EDNS0 (1232 octets), plain
 *     UDP on a connected socket (so an ICMP port unreachable reads as
 *     ECONNREFUSED), 2 tries of min(1000 ms, time left) each, at most 6
 *     addresses per zone and 10 referrals. A referral (NOERROR, AA clear, NS
 *     of a zone strictly below the current one and above the name) is followed
 *     with its in-bailiwick glue, other NS names are resolved via libunbound.
 *     At the zone that does not refer, every address is asked and classified:
 *       - rcode REFUSED / SERVFAIL / NOTIMP: one more query, SOA of the zone,
 *         tells "only this query fails" from "the whole zone fails"; REFUSED to
 *         both is a lame delegation (or an ACL against us: the two are the
 *         same on the wire, and the sentence says so);
 *       - FORMERR: asked again without EDNS;
 *       - TC: asked again over TCP (2-octet length framing), else "TCP failed:
 *         connection reset / refused / closed / no answer";
 *       - no UDP answer: one TCP try if time is left (UDP filtered, TCP works?);
 *       - ECONNREFUSED: nothing listens at the delegated address;
 *       - AA clear without a downward referral (upward referral, recursive
 *         answer): not authoritative, lame delegation from the parent;
 *       - NOERROR, AA, no CAA and no SOA: NODATA without SOA;
 *       - NOERROR/NXDOMAIN with AA: the servers are fine; the failure is in
 *         DNSSEC validation (libunbound's why_bogus is appended when one of our
 *         own lookups met it) or in the resolver. A CNAME in a good answer is
 *         followed (at most 4 aliases, loops named).
 *     Failures seen at a zone that did refer (one of several servers broken)
 *     are mentioned after a healthy verdict ("on the way: ...").
 * Only addresses that libunbound or a delegation names are ever contacted,
 * and never one that the configuration forbids (donotquery.h: loopback unless
 * do-not-query-localhost is "no", do-not-query-address, and the special-
 * purpose ranges — private, link-local, multicast, ...): glue and NS names
 * come from the applicant, and must not aim our queries at the CA's network.
 * A zone whose servers are all forbidden is CAA_DIAG_FORBIDDEN.
 *
 * Threads: CAA_DIAG_WORKERS diagnosis threads per context take the queue in
 * order, each with its own libunbound context. A diagnosis' budget runs from
 * caa_diag_start(): time spent waiting for a worker counts, and a job whose
 * budget is (nearly) gone when a worker takes it ends INCONCLUSIVE at once,
 * so a burst never holds a caller past its budget. caa_diag_start() may be
 * called from any thread, caa_diag_run() from any thread but a diagnosis
 * thread (not from a callback).
 *
 * A result carries one sentence for people (match on it only in tests) and,
 * for programs, what the first failing server did, its rcode and address:
 * kind CAA_DIAG_RCODE or CAA_DIAG_LAME with rcode REFUSED lets a caller report
 * "REFUSED" where libunbound said SERVFAIL.
 */
#ifndef CAA_DIAGNOSE_H
#define CAA_DIAGNOSE_H

#include <stddef.h>
#include <stdint.h>

#include "config.h"

typedef struct caa_diag caa_diag_t;

#define CAA_DIAG_WORKERS        4      /* diagnoses running at once */
#define CAA_DIAG_MAX_QUEUE      256    /* accepted, unfinished diagnoses before CAA_EBUSY */
#define CAA_DIAG_MAX_TIMEOUT_MS 60000u /* longer timeouts are cut to this */
#define CAA_DIAG_CAUSE_MAX      1024   /* a sentence is at most this long, NUL included */
#define CAA_DIAG_NAME_MAX       1024   /* a zone name in presentation form, NUL included */
#define CAA_DIAG_ADDR_MAX       46     /* an IPv4 or IPv6 address as text, NUL included */

/* What the first failing server of the zone did (servers are asked in order;
 * the sentence names up to three). */
typedef enum caa_diag_kind {
	CAA_DIAG_INCONCLUSIVE = 0, /* out of time, or no enclosing zone's servers found */
	CAA_DIAG_ANSWERS,          /* every server asked answers with AA, NOERROR or NXDOMAIN: the
	                            * failure is in DNSSEC validation or in the resolver */
	CAA_DIAG_RCODE,            /* it answered rcode (SERVFAIL, REFUSED, NOTIMP, FORMERR, ...) */
	CAA_DIAG_LAME,             /* not authoritative: REFUSED to the zone's SOA as well (rcode
	                            * REFUSED; an ACL against us looks the same), an upward or
	                            * sideways referral, or an answer without AA (NOERROR/NXDOMAIN) */
	CAA_DIAG_TIMEOUT,          /* no answer over UDP (tries x per-try timeout) */
	CAA_DIAG_UNREACHABLE,      /* ICMP port unreachable / connection refused: nothing listens */
	CAA_DIAG_NETWORK,          /* the query could not be sent (no route, ...) */
	CAA_DIAG_TRUNCATED,        /* TC over UDP, and TCP failed */
	CAA_DIAG_MALFORMED,        /* an answer that does not parse */
	CAA_DIAG_NODATA_WITHOUT_SOA, /* NOERROR, AA, no CAA and no SOA (RFC 2308) */
	CAA_DIAG_CNAME_LOOP,         /* the alias chain of the name loops */
	CAA_DIAG_NO_ADDRESS,         /* no address for any of the zone's servers */
	CAA_DIAG_FORBIDDEN,          /* the zone's servers are only at addresses the
	                              * configuration forbids us to query: not asked */
} caa_diag_kind_t;

/* One diagnosis: a single allocation, free() it. */
typedef struct caa_diag_result {
	caa_diag_kind_t kind;
	int rcode; /* the server's rcode (RCODE, LAME, ANSWERS, NODATA_WITHOUT_SOA), else -1 */
	unsigned failed;                /* servers of the zone that failed ... */
	unsigned asked;                 /* ... of those asked */
	char zone[CAA_DIAG_NAME_MAX];   /* the zone whose servers were asked last ("" if none) */
	char server[CAA_DIAG_ADDR_MAX]; /* the first failing server's address (ANSWERS: the first
	                                 * answering one; "" if none) */
	char cause[CAA_DIAG_CAUSE_MAX]; /* one sentence */
} caa_diag_result_t;

/* A constant name for kind ("RCODE", "LAME", ...); never NULL. */
const char *caa_diag_kind_name(caa_diag_kind_t kind);

/*
 * New context: starts the diagnosis threads and creates their libunbound
 * contexts from cfg (dns.unbound_conf, dns.trust_anchor_file as caa_ctx_new()
 * reads them, and the do-not-query settings in it; dns.timeout is the default
 * diagnosis timeout). cfg must outlive the context. Returns CAA_EOK,
 * CAA_ENOMEM, CAA_EINVAL (NULL argument) or CAA_EDNS with a one-line message
 * in err (errlen octets, may be 0).
 */
int caa_diag_new(const caa_config_t *cfg, caa_diag_t **out, char *err, size_t errlen);

/*
 * Stop: the diagnoses in progress end at their next network wait, they and
 * every queued one get cb(arg, NULL) on a diagnosis thread, then the threads
 * are joined and everything freed. Not from a callback. NULL is a no-op.
 */
void caa_diag_free(caa_diag_t *d);

/* Called once per caa_diag_start(), on a diagnosis thread, with a result
 * the callee owns (free() it), or NULL (shutdown, out of memory). */
typedef void (*caa_diag_cb)(void *arg, caa_diag_result_t *res);

/*
 * Queue a diagnosis of `name CAA`. name: presentation form, ASCII, a trailing
 * dot allowed (copied; lowercased). timeout_ms bounds the whole diagnosis from
 * now, the wait for a free worker included (0 = dns.timeout; at most
 * CAA_DIAG_MAX_TIMEOUT_MS): out of time is CAA_DIAG_INCONCLUSIVE or what the
 * servers asked so far showed; cb runs within about timeout_ms (plus one
 * network wait's rounding). Returns CAA_EOK (cb will run exactly once),
 * CAA_EINVAL (bad name or NULL cb), CAA_EBUSY (CAA_DIAG_MAX_QUEUE accepted and
 * not finished), CAA_ESHUTDOWN (caa_diag_free() has begun) or CAA_ENOMEM; on
 * error cb never runs.
 */
int caa_diag_start(caa_diag_t *d, const char *name, uint64_t timeout_ms, caa_diag_cb cb, void *arg);

/*
 * Synchronous form (tests, the CLI): queue and wait. On CAA_EOK *out is a
 * result the caller frees. Errors as caa_diag_start(), plus CAA_EINVAL when
 * called on a diagnosis thread and CAA_ESHUTDOWN / CAA_ENOMEM when the
 * diagnosis ended without a result. *out is NULL on error.
 */
int caa_diag_run(caa_diag_t *d, const char *name, uint64_t timeout_ms, caa_diag_result_t **out);

#endif
