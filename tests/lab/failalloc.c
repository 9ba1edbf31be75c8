/*
 * failalloc.c — see failalloc.h. One counter for all threads (atomic): the
 * sweeps drive libcaa on one thread, but a diagnosis thread may allocate.
 */
#include <errno.h>
#include <stdatomic.h>
#include <stddef.h>
#include <string.h>

#include <unbound-event.h>
#include <unbound.h>

#include "dnsmsg.h"
#include "failalloc.h"

void *__real_malloc(size_t n);
void *__real_calloc(size_t n, size_t m);
void *__real_realloc(void *p, size_t n);
void *__wrap_malloc(size_t n);
void *__wrap_calloc(size_t n, size_t m);
void *__wrap_realloc(void *p, size_t n);
char *__wrap_strdup(const char *s);
int __real_ub_resolve_event(struct ub_ctx *ctx, const char *name, int rrtype, int rrclass,
                            void *mydata, ub_event_callback_type cb, int *async_id);
int __wrap_ub_resolve_event(struct ub_ctx *ctx, const char *name, int rrtype, int rrclass,
                            void *mydata, ub_event_callback_type cb, int *async_id);

static atomic_bool armed;
static atomic_ulong count, nth;
static atomic_bool fired;

void failalloc_arm(unsigned long n)
{
	atomic_store(&count, 0);
	atomic_store(&nth, n);
	atomic_store(&fired, false);
	atomic_store(&armed, true);
}

void failalloc_disarm(void)
{
	atomic_store(&armed, false);
}

unsigned long failalloc_count(void)
{
	return atomic_load(&count);
}

bool failalloc_fired(void)
{
	return atomic_load(&fired);
}

/* Is this allocation the one to fail? */
static bool fail_now(void)
{
	if (!atomic_load(&armed))
		return false;
	unsigned long k = atomic_fetch_add(&count, 1) + 1;
	if (k != atomic_load(&nth))
		return false;
	atomic_store(&fired, true);
	errno = ENOMEM;
	return true;
}

void *__wrap_malloc(size_t n)
{
	return fail_now() ? NULL : __real_malloc(n);
}

void *__wrap_calloc(size_t n, size_t m)
{
	return fail_now() ? NULL : __real_calloc(n, m);
}

void *__wrap_realloc(void *p, size_t n)
{
	return fail_now() ? NULL : __real_realloc(p, n);
}

char *__wrap_strdup(const char *s)
{
	if (fail_now())
		return NULL;
	size_t len = strlen(s) + 1;
	char *d = __real_malloc(len);
	if (d != NULL)
		memcpy(d, s, len);
	return d;
}

/* ---- CAA queries that fail to start ---- */

static atomic_ulong ub_count, ub_nth;
static atomic_bool ub_fired;

void failalloc_ub_arm(unsigned long n)
{
	atomic_store(&ub_count, 0);
	atomic_store(&ub_fired, false);
	atomic_store(&ub_nth, n);
}

void failalloc_ub_disarm(void)
{
	atomic_store(&ub_nth, 0);
}

bool failalloc_ub_fired(void)
{
	return atomic_load(&ub_fired);
}

int __wrap_ub_resolve_event(struct ub_ctx *ctx, const char *name, int rrtype, int rrclass,
                            void *mydata, ub_event_callback_type cb, int *async_id)
{
	unsigned long n = atomic_load(&ub_nth);
	if (n != 0 && rrtype == CAA_DNS_T_CAA && atomic_fetch_add(&ub_count, 1) + 1 >= n) {
		atomic_store(&ub_fired, true);
		return UB_NOMEM;
	}
	return __real_ub_resolve_event(ctx, name, rrtype, rrclass, mydata, cb, async_id);
}
