/*
 * timer.h — the climb's timers (per-query deadlines, retry back-offs, per-check
 * deadlines, the prover's DS timer) as libevent evtimers on the context's
 * event_base, the base libunbound runs on (ub_ctx_create_event).
 *
 * Why libevent (issue 10): caad had its own base (ubevent.c, a timerq heap on
 * epoll); measured under the same libunbound load, libevent was within 10 %
 * of it on every point (docs/benchmarks.md, "Event base: caad's own vs
 * libevent"), so the one event loop is libevent's. The cost: libevent 2.1
 * exposes neither its backend fd nor its next timeout, so the public API lost
 * caa_ctx_fd()/caa_ctx_timeout_ms() and gained caa_ctx_new_event()
 * (docs/libcaa.md, "Asynchronously, and the loop").
 *
 * Deadlines are caa_now_us() values (util.h), the project's one clock: arming
 * turns when_us into a relative timeval, so libevent's own clock only measures
 * the wait. A timer is embedded in its owner (struct event inside, no
 * allocation per timer); arming allocates only when the base's timer heap
 * must grow, and then may fail (CAA_ENOMEM): the caller fails closed.
 */
#ifndef CAA_TIMER_H
#define CAA_TIMER_H

#include <stdbool.h>
#include <stdint.h>

#include <event2/event.h>
#include <event2/event_struct.h>

#include "util.h"

typedef struct caa_timer {
	struct event ev;
	uint64_t when_us; /* the deadline last armed (kept after it fires) */
	bool armed;
	void (*fire)(struct caa_timer *t, void *arg);
	void *arg;
} caa_timer_t;

/* Attach t to base with its callback; t is not armed. fire(t, arg) runs on the
 * loop thread, t disarmed first (it may re-arm itself). */
void caa_timer_init(caa_timer_t *t, struct event_base *base,
                    void (*fire)(caa_timer_t *t, void *arg), void *arg);
/* Arm (or re-arm) t at when_us (caa_now_us() clock; past means at once).
 * Re-arming an armed timer never allocates. CAA_EOK or CAA_ENOMEM. */
int caa_timer_arm(caa_timer_t *t, uint64_t when_us);
/* Disarm t if armed; a timer never initialised is fine (zeroed). */
void caa_timer_disarm(caa_timer_t *t);

#endif
