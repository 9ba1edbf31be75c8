/*
 * timer.c — caa_timer_t on libevent evtimers (timer.h).
 */
#include "timer.h"

#include "codes.h"

static void on_event(evutil_socket_t fd, short what, void *arg)
{
	caa_timer_t *t = arg;
	(void)fd;
	(void)what;
	t->armed = false;
	t->fire(t, t->arg);
}

void caa_timer_init(caa_timer_t *t, struct event_base *base,
                    void (*fire)(caa_timer_t *t, void *arg), void *arg)
{
	t->armed = false;
	t->fire = fire;
	t->arg = arg;
	/* cannot fail: a valid base, no fd, no signal */
	(void)evtimer_assign(&t->ev, base, on_event, t);
}

int caa_timer_arm(caa_timer_t *t, uint64_t when_us)
{
	uint64_t now = caa_now_us(), wait = when_us > now ? when_us - now : 0;
	struct timeval tv = {.tv_sec = (time_t)(wait / 1000000u),
	                     .tv_usec = (suseconds_t)(wait % 1000000u)};
	t->when_us = when_us;
	if (evtimer_add(&t->ev, &tv) != 0) {
		/* libevent's timer heap could not grow; t stays as it was */
		return CAA_ENOMEM;
	}
	t->armed = true;
	return CAA_EOK;
}

void caa_timer_disarm(caa_timer_t *t)
{
	if (!t->armed)
		return;
	t->armed = false;
	(void)evtimer_del(&t->ev);
}
