/*
 * ubevent.c — libunbound's pluggable event base (struct ub_event_base_vmt /
 * ub_event_vmt of unbound-event.h) over one epoll fd and one timerq heap.
 *
 * Sockets: a table indexed by fd holds, per fd, the list of added events on it,
 * the interest registered with epoll (the union of theirs) and a generation,
 * bumped whenever the fd leaves epoll. epoll_data carries fd and generation, so
 * a readiness report for an fd that left epoll earlier in the same round (and
 * may be a new socket by now) is dropped instead of being handed to the wrong
 * event: level-triggered epoll reports it again next round if it is real.
 *
 * Lifetime: libunbound deletes and frees events from inside callbacks (a
 * comm_point closed on answer, a timer killed by another query's answer).
 * While a round runs (depth > 0) a freed event is only marked dead and parked
 * on a list; the memory goes when the outermost round ends. Every reference the
 * round holds (the per-fd snapshot, the timer heap) is checked against "dead"
 * and "still added on this fd" before use.
 */
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/time.h>
#include <unistd.h>

#include <unbound-event.h>

#include "codes.h"
#include "timerq.h"
#include "ubevent.h"

#define MAX_READY   512     /* epoll events taken per round */
#define MAX_WAIT_MS 3600000 /* caa_ubev_timeout_ms() cap */
#define SNAP_INLINE 8       /* events per fd snapshotted without malloc */

typedef struct uev uev_t;

struct uev {
	struct ub_event super; /* first: what libunbound holds */
	caa_ubev_t *base;
	int fd;
	short bits; /* UB_EV_* */
	void (*cb)(int fd, short bits, void *arg);
	void *arg;
	bool added;
	bool dead;  /* freed inside a round: memory kept until the round ends */
	bool owner; /* an owner fd (caa_ubev_add_fd), not libunbound's */
	bool timed; /* has a timeout (tmo_us), re-armed on activation if PERSIST */
	uint64_t tmo_us;
	caa_timer_t timer;
	int linked_fd; /* fd slot whose list holds it, -1 none */
	uev_t *fd_prev, *fd_next;
	uev_t *dead_next;
	void (*owner_cb)(void *arg);
	void *owner_arg;
};

typedef struct fdslot {
	uev_t *head;
	uint32_t mask; /* EPOLLIN/EPOLLOUT registered with epoll; 0 = not in epoll */
	uint32_t gen;
} fdslot_t;

struct caa_ubev {
	struct ub_event_base super; /* first: what libunbound holds */
	int epfd;
	caa_timerq_t timers;
	void *timer_arg;
	fdslot_t *slots;
	size_t nslots;
	size_t nlinked; /* events in fd slots */
	size_t nevents; /* libunbound's events allocated */
	unsigned depth; /* rounds running (nested if a callback runs one) */
	uev_t *graveyard;
	bool exit;
};

static inline uev_t *as_uev(struct ub_event *e)
{
	return (uev_t *)(void *)e; /* super is the first member */
}

static inline caa_ubev_t *as_base(struct ub_event_base *b)
{
	return (caa_ubev_t *)(void *)b;
}

static uint64_t tv_us(const struct timeval *tv)
{
	if (tv->tv_sec < 0 || tv->tv_usec < 0)
		return 0;
	return (uint64_t)tv->tv_sec * 1000000u + (uint64_t)tv->tv_usec;
}

/* ---- fd slots and epoll ---- */

static int slot_grow(caa_ubev_t *b, int fd)
{
	if ((size_t)fd < b->nslots)
		return 0;
	size_t n = b->nslots ? b->nslots : 64;
	while (n <= (size_t)fd)
		n *= 2;
	fdslot_t *s = realloc(b->slots, n * sizeof(*s));
	if (s == NULL)
		return -1;
	memset(s + b->nslots, 0, (n - b->nslots) * sizeof(*s));
	b->slots = s;
	b->nslots = n;
	return 0;
}

/* Make epoll's interest in fd the union of its events' interests. */
static int slot_sync(caa_ubev_t *b, int fd)
{
	fdslot_t *s = &b->slots[fd];
	uint32_t want = 0;
	for (uev_t *e = s->head; e != NULL; e = e->fd_next) {
		if (e->bits & UB_EV_READ)
			want |= EPOLLIN;
		if (e->bits & UB_EV_WRITE)
			want |= EPOLLOUT;
	}
	if (want == s->mask)
		return 0;
	if (want == 0) {
		/* EBADF/ENOENT: closed before deleted; epoll forgot it already. */
		(void)epoll_ctl(b->epfd, EPOLL_CTL_DEL, fd, NULL);
		s->mask = 0;
		s->gen++;
		return 0;
	}
	struct epoll_event pe = {.events = want};
	pe.data.u64 = (uint64_t)s->gen << 32 | (uint32_t)fd;
	int rc;
	if (s->mask == 0) {
		rc = epoll_ctl(b->epfd, EPOLL_CTL_ADD, fd, &pe);
		if (rc != 0 && errno == EEXIST)
			rc = epoll_ctl(b->epfd, EPOLL_CTL_MOD, fd, &pe);
	} else {
		rc = epoll_ctl(b->epfd, EPOLL_CTL_MOD, fd, &pe);
		if (rc != 0 && errno == ENOENT) /* closed and reused under us */
			rc = epoll_ctl(b->epfd, EPOLL_CTL_ADD, fd, &pe);
	}
	if (rc != 0)
		return -1;
	s->mask = want;
	return 0;
}

static void unlink_fd(uev_t *e)
{
	caa_ubev_t *b = e->base;
	int fd = e->linked_fd;
	fdslot_t *s = &b->slots[fd];
	if (e->fd_prev != NULL)
		e->fd_prev->fd_next = e->fd_next;
	else
		s->head = e->fd_next;
	if (e->fd_next != NULL)
		e->fd_next->fd_prev = e->fd_prev;
	e->fd_prev = e->fd_next = NULL;
	e->linked_fd = -1;
	b->nlinked--;
	(void)slot_sync(b, fd); /* only removes interest: cannot fail */
}

static int link_fd(uev_t *e)
{
	caa_ubev_t *b = e->base;
	if (slot_grow(b, e->fd) != 0)
		return -1;
	fdslot_t *s = &b->slots[e->fd];
	e->fd_prev = NULL;
	e->fd_next = s->head;
	if (s->head != NULL)
		s->head->fd_prev = e;
	s->head = e;
	e->linked_fd = e->fd;
	b->nlinked++;
	return 0;
}

/* Make the epoll registration match (added, fd, bits). 0 or -1 (then e is
 * not in epoll). */
static int reregister(uev_t *e)
{
	bool want = e->added && e->fd >= 0 && (e->bits & (UB_EV_READ | UB_EV_WRITE));
	if (e->linked_fd >= 0 && (!want || e->linked_fd != e->fd))
		unlink_fd(e);
	if (!want)
		return 0;
	if (e->linked_fd < 0 && link_fd(e) != 0)
		return -1;
	if (slot_sync(e->base, e->fd) != 0) {
		unlink_fd(e);
		return -1;
	}
	return 0;
}

/* ---- activation ---- */

static void deactivate(uev_t *e)
{
	e->added = false;
	if (e->linked_fd >= 0)
		unlink_fd(e);
	caa_timerq_disarm(&e->base->timers, &e->timer);
}

static int arm(uev_t *e)
{
	return caa_timerq_arm(&e->base->timers, &e->timer, caa_now_us() + e->tmo_us) == CAA_EOK
	           ? 0
	           : -1;
}

/* libevent: a non-PERSIST event is deleted before its callback; a PERSIST
 * event's timeout restarts at each activation. */
static void activate(uev_t *e, short bits)
{
	if (!(e->bits & UB_EV_PERSIST))
		deactivate(e);
	else if (e->timed)
		(void)arm(e); /* ENOMEM: the heap keeps its size, cannot happen on re-arm */
	e->cb(e->fd, bits, e->arg);
}

static void timer_fire(caa_timer_t *t, void *arg)
{
	(void)arg;
	uev_t *e = (uev_t *)(void *)((char *)t - offsetof(uev_t, timer));
	activate(e, UB_EV_TIMEOUT);
}

/* ---- struct ub_event_vmt ---- */

static void ev_add_bits(struct ub_event *ue, short bits)
{
	uev_t *e = as_uev(ue);
	e->bits |= bits;
	if (e->added && reregister(e) != 0)
		deactivate(e);
}

static void ev_del_bits(struct ub_event *ue, short bits)
{
	uev_t *e = as_uev(ue);
	e->bits &= (short)~bits;
	if (e->added)
		(void)reregister(e); /* fewer bits: only removes interest */
}

static void ev_set_fd(struct ub_event *ue, int fd)
{
	uev_t *e = as_uev(ue);
	e->fd = fd;
	if (e->added && reregister(e) != 0)
		deactivate(e);
}

static void uev_release(uev_t *e)
{
	caa_ubev_t *b = e->base;
	deactivate(e);
	if (!e->owner)
		b->nevents--;
	if (b->depth > 0) {
		e->dead = true;
		e->dead_next = b->graveyard;
		b->graveyard = e;
	} else {
		free(e);
	}
}

static void ev_free(struct ub_event *ue)
{
	if (ue != NULL)
		uev_release(as_uev(ue));
}

static int ev_add(struct ub_event *ue, struct timeval *tv)
{
	uev_t *e = as_uev(ue);
	bool keep_timer = tv == NULL && e->added && e->timer.idx != 0;
	e->added = true;
	if (reregister(e) != 0) {
		deactivate(e);
		return -1;
	}
	if (tv != NULL) {
		e->timed = true;
		e->tmo_us = tv_us(tv);
		if (arm(e) != 0) {
			deactivate(e);
			return -1;
		}
	} else if (!keep_timer) {
		e->timed = false;
		caa_timerq_disarm(&e->base->timers, &e->timer);
	}
	return 0;
}

static int ev_del(struct ub_event *ue)
{
	deactivate(as_uev(ue));
	return 0;
}

static int ev_add_timer(struct ub_event *ue, struct ub_event_base *ub,
                        void (*cb)(int, short, void *), void *arg, struct timeval *tv)
{
	uev_t *e = as_uev(ue);
	if (ub == NULL || as_base(ub) != e->base || cb == NULL)
		return -1;
	deactivate(e);
	/* libevent's evtimer_set(): fd -1, timeout only */
	e->fd = -1;
	e->bits = UB_EV_TIMEOUT;
	e->cb = cb;
	e->arg = arg;
	return ev_add(ue, tv);
}

static int ev_signal_refused(struct ub_event *ue, struct timeval *tv)
{
	(void)ue;
	(void)tv;
	return -1;
}

static int ev_del_signal(struct ub_event *ue)
{
	(void)ue;
	return -1;
}

static void ev_winsock_unregister(struct ub_event *ue)
{
	(void)ue;
}

static void ev_winsock_wouldblock(struct ub_event *ue, int bits)
{
	(void)ue;
	(void)bits;
}

static struct ub_event_vmt uev_vmt = {
    .add_bits = ev_add_bits,
    .del_bits = ev_del_bits,
    .set_fd = ev_set_fd,
    .free = ev_free,
    .add = ev_add,
    .del = ev_del,
    .add_timer = ev_add_timer,
    .del_timer = ev_del,
    .add_signal = ev_signal_refused,
    .del_signal = ev_del_signal,
    .winsock_unregister_wsaevent = ev_winsock_unregister,
    .winsock_tcp_wouldblock = ev_winsock_wouldblock,
};

/* ---- struct ub_event_base_vmt ---- */

static uev_t *uev_new(caa_ubev_t *b, int fd, short bits, void (*cb)(int, short, void *), void *arg)
{
	uev_t *e = calloc(1, sizeof(*e));
	if (e == NULL)
		return NULL;
	e->super.magic = UB_EVENT_MAGIC;
	e->super.vmt = &uev_vmt;
	e->base = b;
	e->fd = fd;
	e->bits = bits;
	e->cb = cb;
	e->arg = arg;
	e->linked_fd = -1;
	e->timer.fire = timer_fire;
	return e;
}

static struct ub_event *base_new_event(struct ub_event_base *ub, int fd, short bits,
                                       void (*cb)(int, short, void *), void *arg)
{
	if (ub == NULL || cb == NULL)
		return NULL;
	caa_ubev_t *b = as_base(ub);
	uev_t *e = uev_new(b, fd, bits, cb, arg);
	if (e == NULL)
		return NULL;
	b->nevents++;
	return &e->super;
}

static struct ub_event *base_new_signal(struct ub_event_base *ub, int fd,
                                        void (*cb)(int, short, void *), void *arg)
{
	/* Only unbound's daemon takes signals through its event base. */
	(void)ub;
	(void)fd;
	(void)cb;
	(void)arg;
	return NULL;
}

static struct ub_event *base_winsock_register(struct ub_event_base *ub, void *wsaevent,
                                              void (*cb)(int, short, void *), void *arg)
{
	(void)ub;
	(void)wsaevent;
	(void)cb;
	(void)arg;
	return NULL;
}

static void base_free(struct ub_event_base *ub)
{
	(void)ub; /* the owner's: caa_ubev_free() */
}

static int base_dispatch(struct ub_event_base *ub)
{
	caa_ubev_t *b = as_base(ub);
	b->exit = false;
	while (!b->exit && (b->nlinked > 0 || b->timers.n > 0)) {
		if (caa_ubev_wait(b, -1) < 0)
			return -1;
	}
	return 0;
}

static int base_loopexit(struct ub_event_base *ub, struct timeval *tv)
{
	(void)tv;
	as_base(ub)->exit = true;
	return 0;
}

static struct ub_event_base_vmt base_vmt = {
    .free = base_free,
    .dispatch = base_dispatch,
    .loopexit = base_loopexit,
    .new_event = base_new_event,
    .new_signal = base_new_signal,
    .winsock_register_wsaevent = base_winsock_register,
};

/* ---- the owner's API ---- */

caa_ubev_t *caa_ubev_new(void)
{
	caa_ubev_t *b = calloc(1, sizeof(*b));
	if (b == NULL)
		return NULL;
	b->super.magic = UB_EVENT_MAGIC;
	b->super.vmt = &base_vmt;
	b->timer_arg = b;
	caa_timerq_init(&b->timers);
	b->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (b->epfd < 0) {
		free(b);
		return NULL;
	}
	return b;
}

static void reap(caa_ubev_t *b)
{
	while (b->graveyard != NULL) {
		uev_t *e = b->graveyard;
		b->graveyard = e->dead_next;
		free(e);
	}
}

void caa_ubev_free(caa_ubev_t *ev)
{
	if (ev == NULL)
		return;
	for (size_t fd = 0; fd < ev->nslots; fd++) {
		uev_t *e = ev->slots[fd].head;
		while (e != NULL) {
			uev_t *next = e->fd_next;
			if (e->owner)
				uev_release(e);
			e = next;
		}
	}
	reap(ev);
	close(ev->epfd);
	free(ev->slots);
	caa_timerq_deinit(&ev->timers);
	free(ev);
}

struct ub_event_base *caa_ubev_base(caa_ubev_t *ev)
{
	return &ev->super;
}

int caa_ubev_fd(const caa_ubev_t *ev)
{
	return ev->epfd;
}

static void owner_trampoline(int fd, short bits, void *arg)
{
	(void)fd;
	(void)bits;
	uev_t *e = arg;
	e->owner_cb(e->owner_arg);
}

static uev_t *owner_find(caa_ubev_t *ev, int fd)
{
	if (fd < 0 || (size_t)fd >= ev->nslots)
		return NULL;
	for (uev_t *e = ev->slots[fd].head; e != NULL; e = e->fd_next)
		if (e->owner)
			return e;
	return NULL;
}

int caa_ubev_add_fd(caa_ubev_t *ev, int fd, void (*cb)(void *arg), void *arg)
{
	if (fd < 0 || cb == NULL || owner_find(ev, fd) != NULL)
		return CAA_EINVAL;
	uev_t *e = uev_new(ev, fd, UB_EV_READ | UB_EV_PERSIST, owner_trampoline, NULL);
	if (e == NULL || slot_grow(ev, fd) != 0) {
		free(e);
		return CAA_ENOMEM;
	}
	e->arg = e;
	e->owner = true;
	e->owner_cb = cb;
	e->owner_arg = arg;
	e->added = true;
	if (reregister(e) != 0) {
		free(e);
		return CAA_EIO;
	}
	return CAA_EOK;
}

int caa_ubev_del_fd(caa_ubev_t *ev, int fd)
{
	uev_t *e = owner_find(ev, fd);
	if (e == NULL)
		return CAA_EINVAL;
	uev_release(e);
	return CAA_EOK;
}

int caa_ubev_timeout_ms(const caa_ubev_t *ev)
{
	const caa_timer_t *t = caa_timerq_first(&ev->timers);
	if (t == NULL)
		return -1;
	uint64_t now = caa_now_us();
	if (t->when_us <= now)
		return 0;
	uint64_t ms = (t->when_us - now + 999) / 1000;
	return ms > MAX_WAIT_MS ? MAX_WAIT_MS : (int)ms;
}

caa_timerq_t *caa_ubev_timers(caa_ubev_t *ev)
{
	return &ev->timers;
}

void caa_ubev_set_timer_arg(caa_ubev_t *ev, void *arg)
{
	ev->timer_arg = arg;
}

size_t caa_ubev_nevents(const caa_ubev_t *ev)
{
	return ev->nevents;
}

/* Run the callbacks of one epoll report: every event added on fd whose
 * interest meets what is ready, as long as fd stays the registration the
 * report was for. */
static int dispatch_fd(caa_ubev_t *b, const struct epoll_event *pe)
{
	int fd = (int)(uint32_t)pe->data.u64;
	uint32_t gen = (uint32_t)(pe->data.u64 >> 32);
	if ((size_t)fd >= b->nslots || b->slots[fd].gen != gen || b->slots[fd].mask == 0)
		return 0;
	short ready = 0;
	if (pe->events & EPOLLIN)
		ready |= UB_EV_READ;
	if (pe->events & EPOLLOUT)
		ready |= UB_EV_WRITE;
	if (pe->events & (EPOLLERR | EPOLLHUP))
		ready |= UB_EV_READ | UB_EV_WRITE; /* libevent's epoll backend does the same */

	/* Callbacks may free, delete or add events on this fd: snapshot first. */
	uev_t *inl[SNAP_INLINE], **snap = inl;
	size_t n = 0, cap = SNAP_INLINE;
	for (uev_t *e = b->slots[fd].head; e != NULL; e = e->fd_next) {
		if (n == cap) {
			uev_t **bigger = malloc(2 * cap * sizeof(*bigger));
			if (bigger == NULL)
				break; /* the rest stay ready: next round */
			memcpy(bigger, snap, n * sizeof(*snap));
			if (snap != inl)
				free(snap);
			snap = bigger;
			cap *= 2;
		}
		snap[n++] = e;
	}
	int ran = 0;
	for (size_t i = 0; i < n; i++) {
		uev_t *e = snap[i];
		if (e->dead || !e->added || e->linked_fd != fd || b->slots[fd].gen != gen)
			continue;
		short fire = ready & e->bits & (UB_EV_READ | UB_EV_WRITE);
		if (fire == 0)
			continue;
		activate(e, fire);
		ran++;
	}
	if (snap != inl)
		free(snap);
	return ran;
}

static int run_timers(caa_ubev_t *b)
{
	uint64_t now = caa_now_us();
	int ran = 0;
	caa_timer_t *t;
	while ((t = caa_timerq_first(&b->timers)) != NULL && t->when_us <= now) {
		caa_timerq_disarm(&b->timers, t);
		t->fire(t, b->timer_arg);
		ran++;
	}
	return ran;
}

static int round_run(caa_ubev_t *b, int timeout_ms)
{
	struct epoll_event pe[MAX_READY];
	int n = epoll_wait(b->epfd, pe, MAX_READY, timeout_ms);
	if (n < 0) {
		if (errno != EINTR)
			return CAA_EIO;
		n = 0;
	}
	int ran = 0;
	b->depth++;
	for (int i = 0; i < n; i++)
		ran += dispatch_fd(b, &pe[i]);
	ran += run_timers(b);
	if (--b->depth == 0)
		reap(b);
	return ran;
}

int caa_ubev_process(caa_ubev_t *ev)
{
	return round_run(ev, 0);
}

int caa_ubev_wait(caa_ubev_t *ev, int max_ms)
{
	int t = caa_ubev_timeout_ms(ev);
	if (max_ms >= 0 && (t < 0 || max_ms < t))
		t = max_ms;
	return round_run(ev, t);
}
