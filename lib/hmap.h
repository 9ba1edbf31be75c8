/*
 * hmap.h — a small string-keyed hash map (chained, power-of-two buckets) for
 * the climb's in-flight labels and per-zone counters. Keys are borrowed: the
 * value must own its key and outlive its entry. Hashed with SipHash under a
 * random key per map, so nobody outside can choose keys that collide.
 */
#ifndef CAA_HMAP_H
#define CAA_HMAP_H

#include <stddef.h>

typedef struct caa_hmap caa_hmap_t;

/* NULL without memory or without a random key. */
caa_hmap_t *caa_hmap_new(void);
void caa_hmap_free(caa_hmap_t *m);
/* NULL when absent. */
void *caa_hmap_get(const caa_hmap_t *m, const char *key);
/* Insert (key must be absent). Returns CAA_EOK or CAA_ENOMEM. */
int caa_hmap_put(caa_hmap_t *m, const char *key, void *val);
/* Remove; returns the value or NULL. */
void *caa_hmap_del(caa_hmap_t *m, const char *key);
size_t caa_hmap_count(const caa_hmap_t *m);
/* The longest bucket chain (tests, statistics): O(buckets + entries). */
size_t caa_hmap_max_chain(const caa_hmap_t *m);

#endif
