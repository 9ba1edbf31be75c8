/*
 * cache_memory.c — the "memory" backend of the reuse cache: a bounded map from
 * 128-bit digests to entries (time, reason, refused) with LRU eviction, safe
 * for many threads. A put keeps the newer of the held and the offered entry
 * under the shard lock (caa_cache_entry_newer).
 *
 * Layout, chosen for memory per entry and lock contention:
 * - The digests are SipHash outputs under a secret key, so their bits are
 *   uniform: one word picks the shard, the other the home slot. No rehashing.
 * - 16 shards (1 for small caches, so that LRU order is exact there), each
 *   with its own mutex, on its own cache lines. Every operation takes one
 *   lock; only an insertion also touches the shared entry counter.
 * - The bound is global: an atomic count of entries never passes max_entries.
 *   When the cache is full, an insertion evicts the least recently used
 *   entry of its own shard. Keys spread evenly, so that is close to the
 *   oldest-used of the whole cache, and the cache fills to exactly max_entries
 *   (fixed per-shard quotas would leave it short, shards filling unevenly).
 * - A shard keeps its entries dense in one array (40 octets each: the digest,
 *   time, refused and reason packed in one word, the LRU links as 32-bit
 *   indices, and a pointer to a permission's meta, on the heap: what the
 *   reused result shows, up to CAA_CACHE_META_MAX) and an open-addressing
 *   index of 32-bit entry numbers, linear probing, at most half full, emptied
 *   by backward shift. That is 40 + about 8 octets per entry plus the meta,
 *   plus doubling slack; both arrays grow on demand, so a large bound costs
 *   nothing until used.
 * - Entries are never deleted (a refusal is an entry); eviction reuses the
 *   least recently used entry in place, so the array stays dense.
 * - An evicted refusal, one replaced by a newer permission, or one that found
 *   no room, raises its shard's floor to its time: no permission checked at
 *   or before the floor is stored in that shard again, so forgetting a refusal never revives what
 * it beat. Refusals evicted are the least recently used, so the floor trails the clock by about the
 * time the cache takes to turn over; a permission finishing later than that is only a miss.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "cache.h"
#include "codes.h"

#define NIL        UINT32_MAX
#define SHARDS     16
#define SHARD_BITS 4
/* Below this many entries per shard, one shard: exact LRU, no contention worth splitting. */
#define SHARD_MIN 1024
#define MIN_SLOTS 16
#define SHARD_MAX ((size_t)1 << 30)
/* at_ms << 9 | refused << 8 | reason: times up to CAA_CACHE_AT_MAX fit. */
#define STAMP(at, refused, reason) ((uint64_t)(at) << 9 | (uint64_t)(refused) << 8 | (reason))
_Static_assert(CAA_CACHE_AT_MAX < (INT64_C(1) << 55), "a time fits a stamp");

typedef struct mem_entry {
	uint64_t d[2];
	uint64_t stamp;      /* STAMP(at_ms, refused, reason) */
	uint32_t prev, next; /* toward the most / the least recently used; NIL at the ends */
	uint8_t *meta;       /* a permission's meta: NULL, or its length and octets */
} mem_entry_t;

_Static_assert(sizeof(mem_entry_t) == 40, "an entry is 40 octets");

typedef struct mem_shard {
	_Alignas(64) pthread_mutex_t lock;
	mem_entry_t *e; /* e[0..n) in use, room for cap */
	uint32_t *slot; /* entry number + 1; 0 = empty; mask + 1 of them */
	uint32_t n, cap;
	uint32_t mask;
	uint32_t head, tail; /* most / least recently used entry, NIL when empty */
	int64_t floor;       /* newest refusal forgotten; -1 = none */
} mem_shard_t;

typedef struct mem {
	mem_shard_t *shards;
	unsigned n_shards;
	size_t max;                       /* max_entries, over all shards */
	_Alignas(64) atomic_size_t total; /* entries over all shards, never above max */
} mem_t;

static caa_cache_entry_t entry_of(uint64_t stamp)
{
	caa_cache_entry_t e = {.at_ms = (int64_t)(stamp >> 9),
	                       .refused = (stamp >> 8 & 1) != 0,
	                       .reason = (caa_reason_t)(stamp & 0xff)};
	return e;
}

/* An entry leaves the shard: a refusal leaves its time behind as the floor. */
static void forget(mem_shard_t *sh, uint64_t stamp)
{
	caa_cache_entry_t e = entry_of(stamp);
	if (e.refused && e.at_ms > sh->floor)
		sh->floor = e.at_ms;
}

static mem_shard_t *shard_of(mem_t *m, const uint64_t d[2])
{
	return m->n_shards == 1 ? &m->shards[0] : &m->shards[d[1] >> (64 - SHARD_BITS)];
}

static uint32_t home_of(const mem_shard_t *sh, const uint64_t d[2])
{
	return (uint32_t)d[0] & sh->mask;
}

/* The slot holding d (*found) or the empty slot where it would go. */
static uint32_t probe(const mem_shard_t *sh, const uint64_t d[2], bool *found)
{
	uint32_t i = home_of(sh, d);
	for (;;) {
		uint32_t s = sh->slot[i];
		if (s == 0) {
			*found = false;
			return i;
		}
		const mem_entry_t *e = &sh->e[s - 1];
		if (e->d[0] == d[0] && e->d[1] == d[1]) {
			*found = true;
			return i;
		}
		i = (i + 1) & sh->mask;
	}
}

/* Empty slot i, shifting later members of its probe run back (Knuth's algorithm R). */
static void slot_remove(mem_shard_t *sh, uint32_t i)
{
	uint32_t j = i;
	for (;;) {
		j = (j + 1) & sh->mask;
		uint32_t s = sh->slot[j];
		if (s == 0)
			break;
		uint32_t h = home_of(sh, sh->e[s - 1].d);
		/* s may move to i unless its home lies cyclically in (i, j] */
		bool stays = i < j ? (i < h && h <= j) : (i < h || h <= j);
		if (!stays) {
			sh->slot[i] = s;
			i = j;
		}
	}
	sh->slot[i] = 0;
}

static void lru_unlink(mem_shard_t *sh, uint32_t x)
{
	mem_entry_t *e = &sh->e[x];
	if (e->prev != NIL)
		sh->e[e->prev].next = e->next;
	else
		sh->head = e->next;
	if (e->next != NIL)
		sh->e[e->next].prev = e->prev;
	else
		sh->tail = e->prev;
}

static void lru_push_front(mem_shard_t *sh, uint32_t x)
{
	mem_entry_t *e = &sh->e[x];
	e->prev = NIL;
	e->next = sh->head;
	if (sh->head != NIL)
		sh->e[sh->head].prev = x;
	else
		sh->tail = x;
	sh->head = x;
}

static void lru_touch(mem_shard_t *sh, uint32_t x)
{
	if (sh->head != x) {
		lru_unlink(sh, x);
		lru_push_front(sh, x);
	}
}

/* Room for one more entry: the array doubles up to limit, the index stays half empty. */
static int shard_grow(mem_shard_t *sh, size_t limit)
{
	if (sh->n == sh->cap) {
		uint32_t cap = sh->cap >= limit / 2 ? (uint32_t)limit : sh->cap * 2;
		mem_entry_t *e = realloc(sh->e, (size_t)cap * sizeof(*e));
		if (e == NULL)
			return CAA_ENOMEM;
		sh->e = e;
		sh->cap = cap;
	}
	if ((uint64_t)(sh->n + 1) * 2 > (uint64_t)sh->mask + 1) {
		size_t slots = ((size_t)sh->mask + 1) * 2;
		uint32_t *slot = calloc(slots, sizeof(*slot));
		if (slot == NULL)
			return CAA_ENOMEM;
		free(sh->slot);
		sh->slot = slot;
		sh->mask = (uint32_t)(slots - 1);
		for (uint32_t x = 0; x < sh->n; x++) {
			bool found;
			sh->slot[probe(sh, sh->e[x].d, &found)] = x + 1;
		}
	}
	return CAA_EOK;
}

/* Count one more entry unless the cache is full. */
static bool reserve(mem_t *m)
{
	size_t n = atomic_load_explicit(&m->total, memory_order_relaxed);
	do {
		if (n >= m->max)
			return false;
	} while (!atomic_compare_exchange_weak_explicit(&m->total, &n, n + 1, memory_order_relaxed,
	                                                memory_order_relaxed));
	return true;
}

/* A copy of e's meta (NULL for none), made before the shard lock is taken. */
static int meta_new(const caa_cache_entry_t *e, uint8_t **out)
{
	*out = NULL;
	if (e->meta_len == 0 || e->refused)
		return CAA_EOK;
	if (e->meta_len > CAA_CACHE_META_MAX)
		return CAA_EINVAL;
	if ((*out = malloc((size_t)e->meta_len + 1)) == NULL)
		return CAA_ENOMEM;
	(*out)[0] = e->meta_len;
	memcpy(*out + 1, e->meta, e->meta_len);
	return CAA_EOK;
}

/* Entry x takes *meta (and *meta is NULL after); its old meta goes. */
static void meta_set(mem_entry_t *x, uint8_t **meta)
{
	free(x->meta);
	x->meta = *meta;
	*meta = NULL;
}

/* The shard's least recently used entry becomes d. */
static void evict_into(mem_shard_t *sh, const uint64_t d[2], uint64_t stamp, uint8_t **meta)
{
	uint32_t x = sh->tail;
	bool found;
	forget(sh, sh->e[x].stamp);
	slot_remove(sh, probe(sh, sh->e[x].d, &found));
	sh->e[x].d[0] = d[0];
	sh->e[x].d[1] = d[1];
	sh->e[x].stamp = stamp;
	meta_set(&sh->e[x], meta);
	sh->slot[probe(sh, d, &found)] = x + 1;
	lru_touch(sh, x);
}

static bool mem_get(void *impl, const uint8_t digest[16], caa_cache_entry_t *out)
{
	uint64_t d[2];
	bool found;

	memcpy(d, digest, sizeof(d));
	mem_shard_t *sh = shard_of(impl, d);
	pthread_mutex_lock(&sh->lock);
	uint32_t i = probe(sh, d, &found);
	if (found) {
		uint32_t x = sh->slot[i] - 1;
		*out = entry_of(sh->e[x].stamp);
		if (sh->e[x].meta != NULL) {
			out->meta_len = sh->e[x].meta[0];
			memcpy(out->meta, sh->e[x].meta + 1, out->meta_len);
		}
		lru_touch(sh, x);
	}
	pthread_mutex_unlock(&sh->lock);
	return found;
}

static int mem_put(void *impl, const uint8_t digest[16], const caa_cache_entry_t *e)
{
	uint64_t d[2], stamp;
	uint8_t *meta;
	bool found;
	int rc;

	/* a refusal's reason is only informative: one that does not fit reads as 0 */
	unsigned reason = (unsigned)e->reason <= 0xff ? (unsigned)e->reason : 0;
	if (e->at_ms < 0 || e->at_ms > CAA_CACHE_AT_MAX ||
	    (!e->refused && reason != (unsigned)e->reason))
		return CAA_EINVAL;
	stamp = STAMP(e->at_ms, e->refused, reason);
	if ((rc = meta_new(e, &meta)) != CAA_EOK)
		return rc;
	memcpy(d, digest, sizeof(d));
	mem_t *m = impl;
	mem_shard_t *sh = shard_of(m, d);
	pthread_mutex_lock(&sh->lock);
	uint32_t i = probe(sh, d, &found);
	if (!e->refused && e->at_ms <= sh->floor) {
		/* a refusal this shard forgot may have beaten it: not stored */
	} else if (found) {
		/* Checks of one key finish out of order: keep the newest. */
		uint32_t x = sh->slot[i] - 1;
		caa_cache_entry_t held = entry_of(sh->e[x].stamp);
		if (!caa_cache_entry_newer(&held, e)) {
			/* a refusal replaced (by a newer permission) is forgotten too:
			 * once that permission is evicted, nothing else would stop a
			 * permission older than the refusal */
			if (!e->refused)
				forget(sh, sh->e[x].stamp);
			sh->e[x].stamp = stamp;
			meta_set(&sh->e[x], &meta);
		}
		lru_touch(sh, x);
	} else if (sh->n < SHARD_MAX - 1 && reserve(m)) {
		if ((rc = shard_grow(sh, m->max < SHARD_MAX ? m->max : SHARD_MAX)) == CAA_EOK) {
			uint32_t x = sh->n++;
			sh->e[x].d[0] = d[0];
			sh->e[x].d[1] = d[1];
			sh->e[x].stamp = stamp;
			sh->e[x].meta = NULL;
			meta_set(&sh->e[x], &meta);
			sh->slot[probe(sh, d, &found)] = x + 1; /* grow may have rehashed */
			lru_push_front(sh, x);
		} else {
			atomic_fetch_sub_explicit(&m->total, 1, memory_order_relaxed);
			forget(sh, stamp);
		}
	} else if (sh->n > 0) {
		/* Full: this shard's least recently used entry makes room. Keys
		 * spread evenly over the shards, so that is nearly the oldest-used
		 * of the whole cache (exactly, with one shard). */
		evict_into(sh, d, stamp, &meta);
	} else {
		/* Full, and this shard has nothing to give up: not stored. A later
		 * lookup misses and checks DNS, which is never wrong; a refusal
		 * still raises the floor. */
		forget(sh, stamp);
	}
	pthread_mutex_unlock(&sh->lock);
	free(meta); /* not taken: older than what is held, or not stored */
	return rc;
}

static size_t mem_count(void *impl)
{
	mem_t *m = impl;
	return atomic_load_explicit(&m->total, memory_order_relaxed);
}

size_t caa_cache_memory_bytes(void *impl)
{
	mem_t *m = impl;
	size_t bytes = sizeof(*m) + m->n_shards * sizeof(mem_shard_t);
	for (unsigned s = 0; s < m->n_shards; s++) {
		mem_shard_t *sh = &m->shards[s];
		pthread_mutex_lock(&sh->lock);
		bytes += (size_t)sh->cap * sizeof(mem_entry_t) +
		         ((size_t)sh->mask + 1) * sizeof(uint32_t);
		pthread_mutex_unlock(&sh->lock);
	}
	return bytes;
}

static void mem_free(void *impl)
{
	mem_t *m = impl;
	if (m == NULL)
		return;
	for (unsigned s = 0; s < m->n_shards; s++) {
		pthread_mutex_destroy(&m->shards[s].lock);
		for (uint32_t x = 0; x < m->shards[s].n; x++)
			free(m->shards[s].e[x].meta);
		free(m->shards[s].e);
		free(m->shards[s].slot);
	}
	free(m->shards);
	free(m);
}

const caa_cache_backend_t caa_cache_memory_backend = {
    .name = "memory",
    .get = mem_get,
    .put = mem_put,
    .count = mem_count,
    .free = mem_free,
};

int caa_cache_memory_new(size_t max_entries, void **impl)
{
	unsigned n_shards = max_entries >= (size_t)SHARDS * SHARD_MIN ? SHARDS : 1;
	mem_t *m;

	if (impl == NULL)
		return CAA_EINVAL;
	*impl = NULL;
	/* entry numbers and slot counts are 32-bit: at most 2^30 entries a shard */
	if (max_entries == 0 || max_entries / n_shards >= SHARD_MAX)
		return CAA_EINVAL;
	if ((m = aligned_alloc(_Alignof(mem_t), sizeof(*m))) == NULL)
		return CAA_ENOMEM;
	memset(m, 0, sizeof(*m));
	m->max = max_entries;
	atomic_init(&m->total, 0);
	m->shards = aligned_alloc(_Alignof(mem_shard_t), n_shards * sizeof(mem_shard_t));
	if (m->shards == NULL) {
		free(m);
		return CAA_ENOMEM;
	}
	memset(m->shards, 0, n_shards * sizeof(mem_shard_t));
	for (unsigned s = 0; s < n_shards; s++) {
		mem_shard_t *sh = &m->shards[s];
		sh->head = sh->tail = NIL;
		sh->floor = -1;
		sh->mask = MIN_SLOTS - 1;
		sh->cap = max_entries < MIN_SLOTS / 2 ? (uint32_t)max_entries : MIN_SLOTS / 2;
		pthread_mutex_init(&sh->lock, NULL);
		m->n_shards = s + 1;
		sh->e = malloc((size_t)sh->cap * sizeof(*sh->e));
		sh->slot = calloc(MIN_SLOTS, sizeof(*sh->slot));
		if (sh->e == NULL || sh->slot == NULL) {
			mem_free(m);
			return CAA_ENOMEM;
		}
	}
	*impl = m;
	return CAA_EOK;
}
