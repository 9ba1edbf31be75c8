/*
 * zone.h — the zone a label's query counts against for dns.max_per_zone: the
 * label's registered domain under the ICANN section of the Public Suffix List
 * (libpsl), so names under co.uk get one cap per registered domain instead of
 * sharing one (docs/semantics.md, "The climb").
 */
#ifndef CAA_ZONE_H
#define CAA_ZONE_H

#include <libpsl.h>

#include "name.h"

/*
 * The process's Public Suffix List: loaded on the first call (from any
 * thread, once), then shared read-only (libpsl's lookups are thread-safe).
 * NULL when none could be loaded: said once on stderr, and every zone is
 * then the last two labels. Never freed.
 */
const psl_ctx_t *caa_zone_psl(void);

/*
 * The zone of name (presentation form, any case, one trailing dot allowed):
 * its registered domain (the public suffix it is under plus one label), or
 * name itself when it is a public suffix. A name under no listed suffix (the
 * lab's "lab", test TLDs) falls to the list's default rule "*": its last two
 * labels. With psl NULL: the last two labels. Written lowercase, without the
 * trailing dot, into out; returns out.
 */
const char *caa_zone_of(const psl_ctx_t *psl, const char *name, char out[CAA_NAME_MAX + 1]);

/*
 * The same zone, remembering what the list says about each name's parent:
 * a scan's names are mostly unique, their parents are not (every
 * <i>.order.lab asks about order.lab and lab), and a libpsl lookup costs
 * about 1 µs. One libpsl lookup per name (is the name itself public?) plus a
 * table lookup for its parent; the result is caa_zone_of()'s, exactly. At
 * most max_entries parents are kept (then forgotten at once and learnt
 * again). Not thread-safe: one per thread (the climb's loop). NULL without
 * memory; caa_zone_memo_of() then falls back to caa_zone_of().
 */
typedef struct caa_zone_memo caa_zone_memo_t;

caa_zone_memo_t *caa_zone_memo_new(const psl_ctx_t *psl, size_t max_entries);
void caa_zone_memo_free(caa_zone_memo_t *m);
const char *caa_zone_memo_of(caa_zone_memo_t *m, const psl_ctx_t *psl, const char *name,
                             char out[CAA_NAME_MAX + 1]);

#endif
