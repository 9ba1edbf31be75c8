/*
 * reload.h — config generations: everything a check reads from the config
 * (the config itself with its profiles and limits, the resolver context and
 * its thread, the reuse cache, the remotes' channels) as one refcounted
 * caad_t. A call takes the current generation when it starts and gives it
 * back when it ends (caad_call_on_end), so a reload (SIGHUP) swaps the
 * current one without touching calls in flight; a generation nobody holds
 * any more stops its resolver thread and frees itself (docs/caad.md#reload).
 */
#ifndef CAAD_RELOAD_H
#define CAAD_RELOAD_H

#include <stdbool.h>
#include <stdint.h>

#include "caad.h"

typedef struct caad_gens caad_gens_t;

/* An empty set (no current generation yet). NULL when out of memory. */
caad_gens_t *caad_gens_new(void);

/*
 * Make d the current generation: a copy of d (cfg, dns, cache, remotes and
 * the shared pointers set) whose cfg, dns, cache and remotes it owns from
 * now on (the cfg only with own_cfg), with a resolver thread of its own. The one it replaces ends
 * when its last call does. CAA_EOK, or CAA_ENOMEM / CAA_ETHREAD with nothing taken (the caller
 * still owns d's parts).
 */
int caad_gens_install(caad_gens_t *gs, const caad_t *d, bool own_cfg);

/* The current generation, held until caad_gens_release (never NULL once
 * one is installed and before caad_gens_stop). Any thread. */
caad_t *caad_gens_acquire(caad_gens_t *gs);
void caad_gens_release(void *d); /* a caad_t from caad_gens_acquire */

/* Generations installed so far (1 after the first). */
uint64_t caad_gens_number(caad_gens_t *gs);

/* Drop the current generation and wait until every generation has ended
 * (their calls released, resolver threads stopped). Then free with
 * caad_gens_free. */
void caad_gens_stop(caad_gens_t *gs);
void caad_gens_free(caad_gens_t *gs);

#endif
