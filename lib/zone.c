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
#include <string.h>

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

const char *caa_zone_of(const psl_ctx_t *psl, const char *name, char out[CAA_NAME_MAX + 1])
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
	const char *zone = psl != NULL ? registered(psl, out) : two_labels(out);
	memmove(out, zone, strlen(zone) + 1);
	return out;
}
