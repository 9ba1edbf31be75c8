/*
 * hmap.c — string-keyed hash map: SipHash-2-4 under a random key per map,
 * chaining, doubles at load 1. Keys are names applicants choose: with an
 * unkeyed hash (FNV-1a before) they could pick thousands of names in one
 * bucket and make every lookup on the resolver thread walk them all.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "codes.h"
#include "hmap.h"
#include "siphash.h"

typedef struct node {
	struct node *next;
	const char *key;
	uint64_t hash;
	void *val;
} node_t;

struct caa_hmap {
	node_t **b;
	size_t nb, count;
	uint8_t key[CAA_SIPHASH_KEY_LEN];
};

static uint64_t hash(const caa_hmap_t *m, const char *s)
{
	return caa_siphash64(m->key, s, strlen(s));
}

caa_hmap_t *caa_hmap_new(void)
{
	caa_hmap_t *m = calloc(1, sizeof(*m));
	if (m == NULL)
		return NULL;
	m->nb = 64;
	m->b = calloc(m->nb, sizeof(*m->b));
	if (m->b == NULL || caa_siphash_key(m->key) != CAA_EOK) {
		free(m->b);
		free(m);
		return NULL;
	}
	return m;
}

void caa_hmap_free(caa_hmap_t *m)
{
	if (m == NULL)
		return;
	for (size_t i = 0; i < m->nb; i++)
		for (node_t *n = m->b[i], *next; n; n = next) {
			next = n->next;
			free(n);
		}
	free(m->b);
	free(m);
}

void *caa_hmap_get(const caa_hmap_t *m, const char *key)
{
	uint64_t h = hash(m, key);
	for (node_t *n = m->b[h & (m->nb - 1)]; n; n = n->next)
		if (n->hash == h && strcmp(n->key, key) == 0)
			return n->val;
	return NULL;
}

static void grow(caa_hmap_t *m)
{
	size_t nb = m->nb * 2;
	node_t **b = calloc(nb, sizeof(*b));
	if (b == NULL)
		return; /* keep working with longer chains */
	for (size_t i = 0; i < m->nb; i++)
		for (node_t *n = m->b[i], *next; n; n = next) {
			next = n->next;
			n->next = b[n->hash & (nb - 1)];
			b[n->hash & (nb - 1)] = n;
		}
	free(m->b);
	m->b = b;
	m->nb = nb;
}

int caa_hmap_put(caa_hmap_t *m, const char *key, void *val)
{
	node_t *n = malloc(sizeof(*n));
	if (n == NULL)
		return CAA_ENOMEM;
	if (m->count >= m->nb)
		grow(m);
	n->key = key;
	n->hash = hash(m, key);
	n->val = val;
	n->next = m->b[n->hash & (m->nb - 1)];
	m->b[n->hash & (m->nb - 1)] = n;
	m->count++;
	return CAA_EOK;
}

void *caa_hmap_del(caa_hmap_t *m, const char *key)
{
	uint64_t h = hash(m, key);
	for (node_t **pp = &m->b[h & (m->nb - 1)]; *pp; pp = &(*pp)->next) {
		node_t *n = *pp;
		if (n->hash == h && strcmp(n->key, key) == 0) {
			void *val = n->val;
			*pp = n->next;
			free(n);
			m->count--;
			return val;
		}
	}
	return NULL;
}

size_t caa_hmap_count(const caa_hmap_t *m)
{
	return m->count;
}

size_t caa_hmap_max_chain(const caa_hmap_t *m)
{
	size_t max = 0;
	for (size_t i = 0; i < m->nb; i++) {
		size_t len = 0;
		for (const node_t *n = m->b[i]; n; n = n->next)
			len++;
		if (len > max)
			max = len;
	}
	return max;
}
