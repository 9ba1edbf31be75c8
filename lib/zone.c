/*
 * zone.c — dns.max_per_zone's zone: the registered domain (zone.h).
 *
 * psl_latest(NULL), not psl_builtin(): it takes the newer of the copy built
 * into libpsl and Debian's publicsuffix package (/usr/share/publicsuffix),
 * which is updated on its own; psl_builtin() would keep the list of the day
 * libpsl was built. Loading costs about 0.1 ms, once per process; a name
 * about 1 µs (0.3-0.6 µs per suffix the walk asks), against 40 ns for the
 * last two labels (docs/benchmarks.md, "The per-zone cap's zone").
 *
 * The ICANN section only (PSL_TYPE_ICANN), not psl_registrable_domain()'s
 * private one as well: the cap spares a zone's servers, and a private entry
 * (github.io, *.compute.amazonaws.com) is one operator whose servers answer
 * for every customer's name under it; each customer its own cap would let a
 * burst of such names flood them. The walk is libpsl's own, with that type.
 */
#include <ctype.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "codes.h"
#include "hmap.h"
#include "zone.h"

static pthread_once_t psl_once = PTHREAD_ONCE_INIT;
static psl_ctx_t *psl_list;

static void psl_load(void)
{
	psl_list = psl_latest(NULL);
	if (psl_list == NULL)
		fprintf(stderr,
		        "libcaa: warning: no Public Suffix List (%s, nor one built into "
		        "libpsl): dns.max_per_zone counts each name's last two labels\n",
		        psl_dist_filename());
}

const psl_ctx_t *caa_zone_psl(void)
{
	pthread_once(&psl_once, psl_load);
	return psl_list;
}

/* The last two labels of name (the whole name if it has fewer). */
static const char *two_labels(const char *name)
{
	const char *p = strrchr(name, '.');
	if (p == NULL)
		return name;
	while (p > name && p[-1] != '.')
		p--;
	return p;
}

/* From the left, the first suffix that is public: the zone is the suffix
 * one label longer (or name itself, when name is public). */
static const char *registered(const psl_ctx_t *psl, const char *name)
{
	const char *zone = name, *p = name;
	while (psl_is_public_suffix2(psl, p, PSL_TYPE_ICANN) == 0) {
		const char *dot = strchr(p, '.');
		if (dot == NULL)
			break; /* a single label the list does not match: no "*" rule */
		zone = p;
		p = dot + 1;
	}
	return zone;
}

/* name lowercased, without its trailing dot, bounded, into out. */
static void lower_into(const char *name, char out[CAA_NAME_MAX + 1])
{
	size_t len = strlen(name);
	if (len > 0 && name[len - 1] == '.')
		len--;
	if (len > CAA_NAME_MAX) { /* no DNS name: keep the key bounded */
		name += len - CAA_NAME_MAX;
		len = CAA_NAME_MAX;
	}
	for (size_t i = 0; i < len; i++) /* libpsl wants lowercase; A-labels are ASCII */
		out[i] = (char)tolower((unsigned char)name[i]);
	out[len] = '\0';
}

static const char *zone_out(char out[CAA_NAME_MAX + 1], const char *zone)
{
	memmove(out, zone, strlen(zone) + 1);
	return out;
}

const char *caa_zone_of(const psl_ctx_t *psl, const char *name, char out[CAA_NAME_MAX + 1])
{
	lower_into(name, out);
	return zone_out(out, psl != NULL ? registered(psl, out) : two_labels(out));
}

/* ---- the memo ---- */

/* What registered() finds for a name N once it knows N is not public, from
 * N's parent P alone: N itself when P is public or a single label (the walk
 * stops at P), else registered(P), a suffix of P (its offset: zoff). */
typedef struct memo_ent {
	struct memo_ent *next;
	int zoff;   /* -1: the zone is the name itself */
	char key[]; /* the parent */
} memo_ent_t;

struct caa_zone_memo {
	caa_hmap_t *map;
	memo_ent_t *all;
	size_t n, max;
};

caa_zone_memo_t *caa_zone_memo_new(const psl_ctx_t *psl, size_t max_entries)
{
	if (psl == NULL)
		return NULL; /* the last two labels cost nothing to find */
	caa_zone_memo_t *m = calloc(1, sizeof(*m));
	if (m == NULL || (m->map = caa_hmap_new()) == NULL) {
		free(m);
		return NULL;
	}
	m->max = max_entries ? max_entries : 1;
	return m;
}

static void memo_clear(caa_zone_memo_t *m)
{
	while (m->all != NULL) {
		memo_ent_t *e = m->all;
		m->all = e->next;
		caa_hmap_del(m->map, e->key);
		free(e);
	}
	m->n = 0;
}

void caa_zone_memo_free(caa_zone_memo_t *m)
{
	if (m == NULL)
		return;
	memo_clear(m);
	caa_hmap_free(m->map);
	free(m);
}

const char *caa_zone_memo_of(caa_zone_memo_t *m, const psl_ctx_t *psl, const char *name,
                             char out[CAA_NAME_MAX + 1])
{
	if (m == NULL || psl == NULL)
		return caa_zone_of(psl, name, out);
	lower_into(name, out);
	const char *dot = strchr(out, '.');
	if (dot == NULL || psl_is_public_suffix2(psl, out, PSL_TYPE_ICANN) != 0)
		return out; /* registered() stops at once: the name itself */
	const char *parent = dot + 1;
	memo_ent_t *e = caa_hmap_get(m->map, parent);
	if (e == NULL) {
		size_t len = strlen(parent) + 1;
		if (m->n >= m->max)
			memo_clear(m);
		if ((e = malloc(sizeof(*e) + len)) == NULL)
			return zone_out(out, registered(psl, out));
		memcpy(e->key, parent, len);
		if (psl_is_public_suffix2(psl, e->key, PSL_TYPE_ICANN) != 0 ||
		    strchr(e->key, '.') == NULL)
			e->zoff = -1;
		else
			e->zoff = (int)(registered(psl, e->key) - e->key);
		if (caa_hmap_put(m->map, e->key, e) != CAA_EOK) {
			int zoff = e->zoff;
			free(e);
			return zoff < 0 ? out : zone_out(out, parent + zoff);
		}
		e->next = m->all;
		m->all = e;
		m->n++;
	}
	return e->zoff < 0 ? out : zone_out(out, parent + e->zoff);
}
