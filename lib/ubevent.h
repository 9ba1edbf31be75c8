/*
 * Issue 10 (docs/benchmarks.md, "Event base: caad's own vs libevent"): this
 * base and libevent's event_base (ub_ctx_create_event) were measured under the
 * same libunbound load, bench/run-eventbase, 10 back-to-back pairs per point.
 * libevent is within 10 % everywhere: 0.92-1.13 of this base's queries/s,
 * 0.85-1.06 of its CPU per query (5-6 % more per cache miss at 128-1024 in
 * flight, 15 % less per cache hit at 1); the event base is 1-2.5 % of a miss's
 * CPU either way. By the rule libevent should replace ubevent.c and
 * timerq's heap (what changes is listed there). Not done yet, and one thing to
 * settle first: libevent 2.1 exposes neither its backend fd nor its next
 * timeout, so the public caa_ctx_fd() / caa_ctx_timeout_ms() embedding would
 * need a thread or a changed API.
 */
/*
 * ubevent.h — libunbound's pluggable event base (unbound-event.h) on caad's own
 * loop primitives: one epoll fd for sockets, one timerq heap for timeouts. A
 * libunbound context made with
 *
 *     ub_ctx_create_ub_event(caa_ubev_base(ev))
 *
 * and fed with ub_resolve_event() then does all its I/O, timers and callbacks on
 * the thread that calls caa_ubev_process() / caa_ubev_wait(): no helper thread,
 * no pipe, no context switch per answer (thread mode, ub_ctx_async(1) +
 * ub_process(), crosses a pipe for every answer).
 *
 * Embedding: the owner's loop watches caa_ubev_fd() (readable when a socket
 * event is ready) and sleeps at most caa_ubev_timeout_ms(); then it calls
 * caa_ubev_process(). caa_ubev_wait() does both for a loop of its own. The
 * owner may add its own fds (caa_ubev_add_fd, e.g. an eventfd) and its own
 * timers (caa_ubev_timers) to the same loop.
 *
 * Threads: none of its own. One base, and every libunbound context on it, is
 * used by one thread at a time (ub_resolve_event() included).
 *
 * libunbound 1.17 in event mode, what a caller must know (each point checked by
 * tests/lab/test_ubevent.c against the lab):
 *  - The callback can run INSIDE ub_resolve_event(), before it returns: every
 *    answer from libunbound's caches (positive, NODATA, NXDOMAIN, and cached
 *    SERVFAIL and bogus answers while they are cached) and local data complete
 *    synchronously (ub_resolve_event() sets the time "in case answer comes
 *    from cache" and runs the mesh). So: set up everything the callback needs
 *    before the call, hold no lock the callback takes, and do not count on
 *    "submitted, called back later". Only answers that need the network come
 *    later, from caa_ubev_process().
 *  - The packet given to the callback lives in libunbound's worker buffer: a
 *    ub_resolve_event() made from inside a callback overwrites it (seen: the
 *    outer packet changes when a nested cache hit is answered). Parse or copy
 *    the packet first; better, queue new queries and submit them after
 *    caa_ubev_process() returns (re-entering the mesh from a mesh callback is
 *    not a path unbound itself takes).
 *  - Callback arguments: rcode != 0 (SERVFAIL) means no packet (NULL, 0). A
 *    cached failure comes back as rcode 0 with a packet whose RCODE is
 *    SERVFAIL, and a bogus answer as rcode 0, the (bogus) packet, sec == 1 and
 *    why_bogus: always read the packet's RCODE and sec.
 *  - ub_cancel() is safe here: ub_ctx_create_ub_event() sets dothread = 1, so
 *    ub_cancel() takes the branch that only marks the query cancelled, and
 *    libworker_event_done_cb() drops its answer without calling back (the
 *    other branch, for forked workers, frees the query and writes to a pipe:
 *    never call ub_ctx_async() on an event context). The query itself keeps
 *    running (sockets, timers) until libunbound is done with it. Cancelling an
 *    id that already completed returns UB_NOID.
 *  - ub_ctx_delete() with queries in flight CALLS THEM BACK before it returns
 *    (mesh_delete: rcode 2, packet NULL, len 0, sec 0), except cancelled ones
 *    (thread mode does not: its answers only come from ub_process()). Their
 *    mydata must still be valid then: cancel them first, or let the callbacks
 *    find the caller shutting down. It frees every event it made
 *    (caa_ubev_nevents() is 0 afterwards), never the base.
 *
 * Event semantics (libevent's, which libunbound is written against):
 *  - an event has an fd (or -1), interest bits UB_EV_READ / UB_EV_WRITE,
 *    UB_EV_PERSIST, a callback cb(fd, bits, arg) and, once added with a
 *    timeval, a timeout; add() with tv == NULL keeps an already armed timeout;
 *  - a non-PERSIST event is deactivated before its callback runs (fd ready or
 *    timed out), and may re-add itself there; a PERSIST event stays, and its
 *    timeout re-arms (now + tv) at each activation;
 *  - bits given to the callback: UB_EV_READ and/or UB_EV_WRITE as ready, or
 *    UB_EV_TIMEOUT; EPOLLERR / EPOLLHUP are given as READ|WRITE masked by the
 *    event's interest, so libunbound reads the error (ICMP unreachable on a
 *    connected UDP socket, a TCP reset or a failed connect);
 *  - level-triggered: an fd not drained is reported again next round;
 *  - add_bits / del_bits / set_fd work on an added event too (re-registered);
 *  - events freed from inside callbacks (libunbound does that all the time)
 *    stay allocated, marked dead, until the dispatch round ends; socket
 *    readiness carries a per-fd generation so a report for an fd that was
 *    removed (and perhaps reused) in the same round is dropped;
 *  - signals are refused (new_signal returns NULL; libunbound's library mode
 *    uses none), winsock hooks are no-ops, base free is a no-op (the owner
 *    frees with caa_ubev_free), dispatch runs until loopexit or until nothing
 *    is registered (libunbound does not call either in event mode).
 * Several events may share one fd (the epoll interest is their union). As with
 * libevent, an fd must leave its events (del or free) before it is closed;
 * libunbound does so ("close fd after removing from event lists, or epoll..
 * is messed up", netevent.c).
 */
#ifndef CAA_UBEVENT_H
#define CAA_UBEVENT_H

#include <stddef.h>

#include "timerq.h"

struct ub_event_base;

typedef struct caa_ubev caa_ubev_t;

/* A new event base: an epoll fd and an empty timer heap. NULL when out of
 * memory or out of fds. */
caa_ubev_t *caa_ubev_new(void);

/* Free the base, its epoll fd and the owner's fds registered with
 * caa_ubev_add_fd (not closed: they are the owner's). Only after
 * ub_ctx_delete() of every libunbound context using it: libunbound frees its
 * own events then, and an event freed later would touch a freed base. The
 * owner's timers must be disarmed (or simply not used) afterwards. NULL is a
 * no-op. */
void caa_ubev_free(caa_ubev_t *ev);

/* The libunbound event base, for ub_ctx_create_ub_event(). Owned by ev. */
struct ub_event_base *caa_ubev_base(caa_ubev_t *ev);

/* The epoll fd: readable when a socket event (libunbound's or an owner fd)
 * is ready. Put it in the owner's poll/epoll set; never read it. */
int caa_ubev_fd(const caa_ubev_t *ev);

/* Watch the owner's fd (level-triggered, readable; EPOLLERR/EPOLLHUP also
 * count): cb(arg) runs from caa_ubev_process() while it is readable, so cb
 * must drain it. One registration per fd. Returns CAA_EOK, CAA_EINVAL (fd < 0
 * or already watched by the owner), CAA_ENOMEM, or CAA_EIO (epoll_ctl failed). */
int caa_ubev_add_fd(caa_ubev_t *ev, int fd, void (*cb)(void *arg), void *arg);

/* Stop watching an owner fd (before closing it). Safe from inside any
 * callback. CAA_EOK or CAA_EINVAL (not watched). */
int caa_ubev_del_fd(caa_ubev_t *ev, int fd);

/* Milliseconds until the earliest timer is due, rounded up (so a loop that
 * sleeps this long finds it due), 0 when overdue, -1 when no timer is armed.
 * At most 3600000. */
int caa_ubev_timeout_ms(const caa_ubev_t *ev);

/* The timer heap: the owner may arm its own caa_timer_t's in it; they fire from
 * caa_ubev_process() with fire(t, timer_arg) (timer_arg is ev unless set with
 * caa_ubev_set_timer_arg). Use caa_now_us() deadlines. */
caa_timerq_t *caa_ubev_timers(caa_ubev_t *ev);

/* The arg the owner's timers fire with (default: ev itself). libunbound's own
 * timers do not use it. */
void caa_ubev_set_timer_arg(caa_ubev_t *ev, void *arg);

/* One round without blocking: dispatch every ready fd (epoll_wait with timeout
 * 0, up to 512 fds; more stay ready for the next round) and every due timer.
 * Returns the number of callbacks run (>= 0) or CAA_EIO if epoll_wait failed
 * (errno other than EINTR). Re-entrant from a callback, though nothing needs
 * that. */
int caa_ubev_process(caa_ubev_t *ev);

/* Block until an fd is ready, the earliest timer is due, or max_ms passed
 * (max_ms < 0: no limit of its own; with no timer and no fd events that is
 * forever), then run the round as caa_ubev_process() does. Same returns. */
int caa_ubev_wait(caa_ubev_t *ev, int max_ms);

/* libunbound events currently allocated on ev (0 after ub_ctx_delete() of
 * every context using it); for tests and leak checks. */
size_t caa_ubev_nevents(const caa_ubev_t *ev);

#endif
