/*
 * timerq.h — a binary min-heap of deadlines (monotonic microseconds) for the
 * climb's per-query timeouts, retry back-offs and per-check deadlines. A timer
 * is embedded in its owner; the heap stores pointers.
 */
#ifndef CAA_TIMERQ_H
#define CAA_TIMERQ_H

#include <stddef.h>
#include <stdint.h>

typedef struct caa_timer {
	uint64_t when_us;
	size_t idx; /* position in the heap + 1; 0 = not armed */
	void (*fire)(struct caa_timer *t, void *arg);
} caa_timer_t;

typedef struct caa_timerq {
	caa_timer_t **heap;
	size_t n, cap;
} caa_timerq_t;

void caa_timerq_init(caa_timerq_t *q);
void caa_timerq_deinit(caa_timerq_t *q);
/* Arm (or re-arm) t at when_us. Returns CAA_EOK or CAA_ENOMEM. */
int caa_timerq_arm(caa_timerq_t *q, caa_timer_t *t, uint64_t when_us);
/* Disarm t if armed. */
void caa_timerq_disarm(caa_timerq_t *q, caa_timer_t *t);
/* The earliest armed timer, or NULL. */
caa_timer_t *caa_timerq_first(const caa_timerq_t *q);
/* Fire (disarmed first) every timer due at now_us, in order. */
void caa_timerq_run(caa_timerq_t *q, uint64_t now_us, void *arg);

/* Deadlines are caa_now_us() values (util.h). */
#include "util.h"

#endif
