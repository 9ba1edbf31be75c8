/*
 * prove.h — proving that a failed label's zone is Insecure (RFC 4035 §4.3),
 * for the BR 3.2.2.8 carve-out (docs/semantics.md §6, policy
 * insecure_lookup_failure_permits).
 *
 * libunbound gives an error answer (SERVFAIL, timeout) no DNSSEC state, so the
 * failed CAA lookup proves nothing by itself. The proof asks libunbound, with
 * validation, for the DS RRset of the failed name, then of each parent in turn
 * while those lookups fail too (the failing servers answer for names inside
 * their zone; a zone cut's DS is answered by the parent). The first answer
 * decides:
 *  - validated Insecure (the validator proved an unsigned delegation at or
 *    above the zone that answered): every zone below it is unsigned: proven;
 *  - Secure, NODATA, and a validated NSEC at that very name with NS and
 *    without DS and SOA: an unsigned delegation at the name: proven;
 *  - anything else (a DS, a Secure NXDOMAIN, NSEC3 without opt-out, a Secure
 *    name that is no delegation, bogus): not proven.
 * Not proven fails closed: the label stays a lookup failure.
 */
#ifndef CAA_PROVE_H
#define CAA_PROVE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "timer.h"
#include "ubconf.h"

struct ub_ctx;

typedef enum caa_prove_step {
	CAA_PROVE_NOT = 0,  /* signed, bogus or unclear: stop, not proven */
	CAA_PROVE_INSECURE, /* proven: qname's zone (and all below) is unsigned */
	CAA_PROVE_UP,       /* no usable answer for qname: ask about its parent */
} caa_prove_step_t;

/*
 * What one DS answer for qname (no trailing dot) says. cb_rcode, packet and
 * sec are libunbound's callback arguments (sec: 0 unsigned, 1 bogus,
 * 2 secure); unsigned_proves: an unsigned answer for qname is Insecure
 * (caa_ubconf_proves_insecure). *why gets a constant text saying why.
 */
caa_prove_step_t caa_prove_ds_answer(const char *qname, int cb_rcode, const uint8_t *packet,
                                     size_t len, int sec, bool unsigned_proves, const char **why);

typedef struct caa_prover caa_prover_t;

/* insecure: the proof succeeded; why: what decided (valid during the call). */
typedef void (*caa_prove_cb)(void *arg, bool insecure, const char *why);

/*
 * Proofs run on base, the event_base ub runs on (the climb's): DS queries
 * with ub_resolve_event(), each bounded by query_timeout_us, all by the
 * deadline given to caa_prove_start(). val must outlive the prover.
 */
int caa_prover_new(struct ub_ctx *ub, struct event_base *base, const caa_ubconf_val_t *val,
                   uint64_t query_timeout_us, caa_prover_t **out);

/*
 * Prove name's zone Insecure before deadline_us (monotonic). cb is called
 * exactly once, from a timer of the loop, never inside this call. Returns
 * CAA_EOK, or CAA_ENOMEM (then cb is never called).
 */
int caa_prove_start(caa_prover_t *pv, const char *name, uint64_t deadline_us, caa_prove_cb cb,
                    void *arg);

/* End every proof in progress (its query cancelled, cb called: not proven),
 * then free. Call before ub_ctx_delete(). NULL is fine. */
void caa_prover_free(caa_prover_t *pv);

#endif
