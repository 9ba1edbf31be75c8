/*
 * arena.c — per-call bump allocation (arena.h). Chunks grow geometrically up
 * to 64 KiB; a request larger than a chunk gets a chunk of its own.
 */
#include <stdarg.h>
#include <stdalign.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arena.h"

#define CHUNK_MIN 2048
#define CHUNK_MAX 65536

struct caad_chunk {
	caad_chunk_t *next;
	size_t size, used;
	alignas(max_align_t) unsigned char data[];
};

static void *pb_alloc(void *data, size_t size)
{
	return caad_arena_alloc(data, size);
}

static void pb_free(void *data, void *ptr)
{
	(void)data;
	(void)ptr; /* everything goes when the arena goes */
}

void caad_arena_init(caad_arena_t *a)
{
	a->head = NULL;
	a->pb.alloc = pb_alloc;
	a->pb.free = pb_free;
	a->pb.allocator_data = a;
}

void caad_arena_deinit(caad_arena_t *a)
{
	caad_chunk_t *c = a->head;
	while (c != NULL) {
		caad_chunk_t *next = c->next;
		free(c);
		c = next;
	}
	a->head = NULL;
}

void *caad_arena_alloc(caad_arena_t *a, size_t n)
{
	const size_t align = alignof(max_align_t);
	if (n == 0)
		n = 1;
	if (n > SIZE_MAX - align)
		return NULL;
	n = (n + align - 1) & ~(align - 1);
	caad_chunk_t *c = a->head;
	if (c == NULL || c->size - c->used < n) {
		size_t size = c ? c->size * 2 : CHUNK_MIN;
		if (size > CHUNK_MAX)
			size = CHUNK_MAX;
		if (size < n)
			size = n;
		caad_chunk_t *fresh = malloc(sizeof(*fresh) + size);
		if (fresh == NULL)
			return NULL;
		fresh->size = size;
		fresh->used = 0;
		if (c != NULL && size == n && c->size - c->used >= 256) {
			/* A big one-off: keep filling the current chunk afterwards. */
			fresh->next = c->next;
			c->next = fresh;
		} else {
			fresh->next = c;
			a->head = fresh;
		}
		c = fresh;
	}
	void *p = c->data + c->used;
	c->used += n;
	memset(p, 0, n);
	return p;
}

void *caad_arena_array(caad_arena_t *a, size_t n, size_t sz)
{
	if (sz != 0 && n > SIZE_MAX / sz)
		return NULL;
	return caad_arena_alloc(a, n * sz);
}

char *caad_arena_strdup(caad_arena_t *a, const char *s)
{
	size_t len = strlen(s);
	char *d = caad_arena_alloc(a, len + 1);
	if (d != NULL)
		memcpy(d, s, len + 1);
	return d;
}

char *caad_arena_printf(caad_arena_t *a, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		return NULL;
	char *d = caad_arena_alloc(a, (size_t)n + 1);
	if (d == NULL)
		return NULL;
	va_start(ap, fmt);
	vsnprintf(d, (size_t)n + 1, fmt, ap);
	va_end(ap);
	return d;
}
