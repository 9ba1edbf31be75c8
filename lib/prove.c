/* prove.c — proving a failed label's zone Insecure with validated DS lookups (prove.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <unbound-event.h>
#include <unbound.h>

#include "codes.h"
#include "prove.h"
#include "dnsmsg.h"

/* ---- one answer ---- */

/* Is type set in an NSEC type bitmap (RFC 4034 §4.1.2)? */
static bool bitmap_has(const uint8_t *p, size_t len, unsigned type)
{
	size_t off = 0;
	while (off + 2 <= len) {
		unsigned window = p[off], n = p[off + 1];
		if (n == 0 || n > 32 || off + 2 + n > len)
			return false;
		if (window == type >> 8) {
			unsigned bit = type & 0xff;
			return bit / 8 < n && (p[off + 2 + bit / 8] & (0x80 >> (bit % 8))) != 0;
		}
		off += 2 + n;
	}
	return false;
}

/* An NSEC RDATA (next name, uncompressed, then the bitmap) proving an
 * unsigned delegation: NS without DS and SOA. */
static bool nsec_unsigned_cut(const uint8_t *rd, size_t len)
{
	size_t off = 0;
	while (off < len && rd[off] != 0) {
		if (rd[off] & 0xc0)
			return false; /* the next name is never compressed */
		off += 1u + rd[off];
	}
	if (off >= len)
		return false;
	off++;
	const uint8_t *bm = rd + off;
	size_t n = len - off;
	return bitmap_has(bm, n, CAA_DNS_T_NS) && !bitmap_has(bm, n, CAA_DNS_T_DS) &&
	       !bitmap_has(bm, n, CAA_DNS_T_SOA);
}

caa_prove_step_t caa_prove_ds_answer(const char *qname, int cb_rcode, const uint8_t *packet,
                                     size_t len, int sec, bool unsigned_proves, const char **why)
{
	caa_dns_msg_t m;
	caa_dns_iter_t it;
	caa_dns_rr_t rr;
	uint8_t want[CAA_DNS_NAME_MAX], owner[CAA_DNS_NAME_MAX];
	if (sec == 1) {
		*why = "the DS answer is bogus";
		return CAA_PROVE_NOT;
	}
	if (cb_rcode != 0 || caa_dns_msg_parse(&m, packet, len, NULL) != CAA_EOK ||
	    (m.rcode != CAA_DNS_R_NOERROR && m.rcode != CAA_DNS_R_NXDOMAIN) || m.hdr.tc) {
		*why = "no answer for DS";
		return CAA_PROVE_UP;
	}
	if (sec != 2) {
		*why = unsigned_proves ? "the validated DS answer is insecure"
		                       : "the DS answer is not validated";
		return unsigned_proves ? CAA_PROVE_INSECURE : CAA_PROVE_NOT;
	}
	if (m.rcode == CAA_DNS_R_NXDOMAIN) {
		*why = "a signed zone denies the name";
		return CAA_PROVE_NOT;
	}
	caa_dns_iter_init(&it, &m, CAA_DNS_ANSWER);
	if (caa_dns_iter_next(&it, &rr)) {
		/* a DS (signed delegation), or an alias: not a denial */
		*why = rr.type == CAA_DNS_T_DS ? "the name has a validated DS: signed"
		                               : "the DS answer is not a denial";
		return CAA_PROVE_NOT;
	}
	bool cut = false;
	if (caa_dns_name_from_str(qname, want) > 0) {
		caa_dns_iter_init(&it, &m, CAA_DNS_AUTHORITY);
		while (!cut && caa_dns_iter_next(&it, &rr))
			cut = rr.type == CAA_DNS_T_NSEC && caa_dns_rr_owner(&m, &rr, owner) > 0 &&
			      caa_dns_name_eq(owner, want) && nsec_unsigned_cut(rr.rdata, rr.rdlen);
	}
	*why = cut ? "a validated NSEC proves an unsigned delegation"
	           : "a signed zone holds the name and no unsigned delegation is proven";
	return cut ? CAA_PROVE_INSECURE : CAA_PROVE_NOT;
}

/* ---- proofs on the loop ---- */

typedef struct proof {
	caa_timer_t timer; /* first: the query's deadline, or now once it answered */
	caa_prover_t *pv;
	struct proof *prev, *next;
	const char *cand; /* the name asked about: name or one of its parents */
	uint64_t deadline_us;
	int async_id;
	bool started, in_ub, answered;
	caa_prove_step_t step;
	const char *why;
	caa_prove_cb cb;
	void *arg;
	char name[]; /* the failed label */
} proof_t;

struct caa_prover {
	struct ub_ctx *ub;
	struct event_base *base;
	const caa_ubconf_val_t *val;
	uint64_t query_timeout_us;
	proof_t *active;
};

int caa_prover_new(struct ub_ctx *ub, struct event_base *base, const caa_ubconf_val_t *val,
                   uint64_t query_timeout_us, caa_prover_t **out)
{
	caa_prover_t *pv = calloc(1, sizeof(*pv));
	*out = NULL;
	if (pv == NULL)
		return CAA_ENOMEM;
	pv->ub = ub;
	pv->base = base;
	pv->val = val;
	pv->query_timeout_us = query_timeout_us;
	*out = pv;
	return CAA_EOK;
}

static void proof_end(proof_t *p, bool insecure, const char *why)
{
	caa_prover_t *pv = p->pv;
	caa_timer_disarm(&p->timer);
	if (p->in_ub) {
		/* event mode: a cancelled query never calls back (docs/platform.md) */
		ub_cancel(pv->ub, p->async_id);
		p->in_ub = false;
	}
	if (p->prev)
		p->prev->next = p->next;
	else
		pv->active = p->next;
	if (p->next)
		p->next->prev = p->prev;
	p->cb(p->arg, insecure, why);
	free(p);
}

/* From libunbound (perhaps inside ub_resolve_event()): note the answer and
 * act on it from the timer, where a new query may be sent. */
static void on_ds(void *data, int rcode, void *packet, int len, int sec, char *why_bogus,
                  int ratelimited)
{
	proof_t *p = data;
	(void)why_bogus;
	(void)ratelimited;
	p->in_ub = false;
	p->answered = true;
	p->step = caa_prove_ds_answer(p->cand, rcode, packet, len > 0 ? (size_t)len : 0, sec,
	                              caa_ubconf_proves_insecure(p->pv->val, p->cand), &p->why);
	/* armed already (the query's deadline): re-arming never allocates */
	(void)caa_timer_arm(&p->timer, caa_now_us());
}

static void proof_send(proof_t *p)
{
	caa_prover_t *pv = p->pv;
	uint64_t now = caa_now_us(), until = now + pv->query_timeout_us;
	if (now >= p->deadline_us) {
		proof_end(p, false, "no time left to prove the zone insecure");
		return;
	}
	if (until > p->deadline_us)
		until = p->deadline_us;
	p->answered = false;
	p->in_ub = true;
	if (caa_timer_arm(&p->timer, until) != CAA_EOK) {
		p->in_ub = false;
		proof_end(p, false, "out of memory");
		return;
	}
	int rc =
	    ub_resolve_event(pv->ub, p->cand, CAA_DNS_T_DS, CAA_DNS_C_IN, p, on_ds, &p->async_id);
	if (rc != 0) {
		p->in_ub = false;
		proof_end(p, false, ub_strerror(rc));
	}
}

static void on_proof_timer(caa_timer_t *t, void *arg)
{
	proof_t *p = (proof_t *)t; /* the timer is the first member */
	(void)arg;
	if (!p->started) {
		p->started = true;
		proof_send(p);
		return;
	}
	if (!p->answered) {
		/* this query's time is up: a silent zone, so ask its parent */
		if (p->in_ub) {
			ub_cancel(p->pv->ub, p->async_id);
			p->in_ub = false;
		}
		p->step = CAA_PROVE_UP;
		p->why = "no answer for DS in time";
	}
	if (p->step != CAA_PROVE_UP) {
		char why[384];
		snprintf(why, sizeof(why), "DS %s: %s", p->cand, p->why);
		proof_end(p, p->step == CAA_PROVE_INSECURE, why);
	} else {
		const char *dot = strchr(p->cand, '.');
		if (dot == NULL) {
			proof_end(p, false, "no DS answer up to the TLD");
			return;
		}
		p->cand = dot + 1;
		proof_send(p);
	}
}

int caa_prove_start(caa_prover_t *pv, const char *name, uint64_t deadline_us, caa_prove_cb cb,
                    void *arg)
{
	size_t n = strlen(name);
	proof_t *p = calloc(1, sizeof(*p) + n + 1);
	if (p == NULL)
		return CAA_ENOMEM;
	memcpy(p->name, name, n + 1);
	p->pv = pv;
	p->cand = p->name;
	p->deadline_us = deadline_us;
	p->cb = cb;
	p->arg = arg;
	caa_timer_init(&p->timer, pv->base, on_proof_timer, p);
	/* the first query goes out from the timer: cb never runs inside this call */
	if (caa_timer_arm(&p->timer, caa_now_us()) != CAA_EOK) {
		free(p);
		return CAA_ENOMEM;
	}
	p->next = pv->active;
	if (pv->active)
		pv->active->prev = p;
	pv->active = p;
	return CAA_EOK;
}

void caa_prover_free(caa_prover_t *pv)
{
	if (pv == NULL)
		return;
	/* proof_end unlinks from p->pv, which is pv: the analyzer cannot know */
	while (pv->active != NULL)
		proof_end(pv->active, false, "shutting down"); // NOLINT(clang-analyzer-unix.Malloc)
	free(pv);
}
