/*
 * arena.h — per-call bump allocation. A call decodes its request, builds its
 * response messages and formats its texts in one arena, and frees it all at
 * once when the call ends: no per-field free, no leak on an error path.
 */
#ifndef CAAD_ARENA_H
#define CAAD_ARENA_H

#include <stddef.h>

#include <protobuf-c/protobuf-c.h>

typedef struct caad_chunk caad_chunk_t;

typedef struct caad_arena {
	caad_chunk_t *head;
	ProtobufCAllocator pb; /* protobuf-c allocator over this arena (free is a no-op) */
} caad_arena_t;

void caad_arena_init(caad_arena_t *a);
/* Free every allocation; the arena can be used again. */
void caad_arena_deinit(caad_arena_t *a);

/* n octets, zeroed, aligned for any type; NULL when out of memory. */
void *caad_arena_alloc(caad_arena_t *a, size_t n);
/* An array of n elements of size sz (overflow-checked), zeroed. */
void *caad_arena_array(caad_arena_t *a, size_t n, size_t sz);
char *caad_arena_strdup(caad_arena_t *a, const char *s);
char *caad_arena_printf(caad_arena_t *a, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

#endif
