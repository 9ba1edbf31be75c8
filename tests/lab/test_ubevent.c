/*
 * test_ubevent.c — lib/ubevent: libunbound's pluggable event base on caad's
 * loop, first on its own (the ub_event_vmt semantics on pipes, sockets and
 * timers), then under libunbound against the DNS lab:
 *
 *   vmt       one-shot and PERSIST events, timeouts, free/delete from inside
 *             callbacks, fd reuse within a round, set_fd on an added event,
 *             EPOLLERR as READ (ICMP port unreachable), owner fds and timers,
 *             2000 events at once
 *   lab       the lab's names through ub_resolve_event(): rcode, DNSSEC state,
 *             CAA count, TCP fallback, SERVFAIL, and silent servers that must
 *             not hang the loop (the test's own deadline) nor spin it
 *   sync      does a cache hit call back inside ub_resolve_event()? does a
 *             ub_resolve_event() from a callback overwrite the packet?
 *   cancel    ub_cancel() of in-flight queries in event mode (ASan: no
 *             use-after-free, no callback)
 *   wildcard  1000 unique names under *.wc.lab at once
 *   bench     resolutions/s, N unique names at K in flight: this event base vs
 *             a thread-mode context (ub_ctx_async(1) + ub_process) on the same
 *             lab; then the same names again, cache hits/s (as long as N
 *             answers fit the default message cache: N = 1000 does, 5000 does
 *             not); CPU time (user/sys) of each
 *
 *   test_ubevent [--bench N] [--inflight K] [--only PART] LABDIR
 *
 * The lab must be up (tests/lab/run.sh brings it up and down around this and
 * appends LABDIR). At the end every context is deleted with queries still in
 * flight (the silent servers) and the base freed: ASan/LSan must stay quiet.
 */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include <unbound-event.h>
#include <unbound.h>

#include "codes.h"
#include "dnsmsg.h"
#include "timerq.h"
#include "ubevent.h"

/* Bounds that only catch hangs: every check waits for what it expects (an
 * answer, a firing) and asserts what happened and in which order, never how
 * fast; a slow machine (ASan, ctest -j) only makes the waits longer. */
#define LAB_DEADLINE_MS 30000u /* answering scenarios answer in well under 1 s */
#define HANG_MS         20000u /* a timer or fd event that does not come within this never will */

static int failures, passes;

#define CHECK(cond, ...)                                                                           \
	do {                                                                                       \
		if (cond) {                                                                        \
			passes++;                                                                  \
		} else {                                                                           \
			printf("FAIL %s:%d: ", __func__, __LINE__);                                \
			printf(__VA_ARGS__);                                                       \
			printf("\n");                                                              \
			failures++;                                                                \
		}                                                                                  \
	} while (0)

static uint64_t now_ms(void)
{
	return caa_now_us() / 1000u;
}

/* ================= vmt: the event semantics, no libunbound ================= */

typedef struct probe {
	int calls;
	short last_bits;
	int fd;
	struct ub_event *self, *other; /* freed by the callback when set */
	bool free_self, free_other;
	int seq; /* order of the last call among all probes */
} probe_t;

static int probe_seq;

static void probe_cb(int fd, short bits, void *arg)
{
	probe_t *p = arg;
	p->calls++;
	p->seq = ++probe_seq;
	p->last_bits = bits;
	p->fd = fd;
	if (p->free_other && p->other != NULL) {
		p->other->vmt->del(p->other);
		p->other->vmt->free(p->other);
		p->other = NULL;
	}
	if (p->free_self && p->self != NULL) {
		p->self->vmt->free(p->self);
		p->self = NULL;
	}
}

static struct ub_event *new_ev(caa_ubev_t *ev, int fd, short bits, probe_t *p)
{
	struct ub_event_base *b = caa_ubev_base(ev);
	return b->vmt->new_event(b, fd, bits, probe_cb, p);
}

static void pipe_nb(int p[2])
{
	if (pipe(p) != 0) {
		perror("pipe");
		exit(1);
	}
	fcntl(p[0], F_SETFL, O_NONBLOCK);
	fcntl(p[1], F_SETFL, O_NONBLOCK);
}

static void put(int fd)
{
	ssize_t w = write(fd, "x", 1);
	(void)w;
}

static void drain(int fd)
{
	char buf[64];
	while (read(fd, buf, sizeof(buf)) > 0) {
	}
}

/* Run rounds for ms milliseconds. */
static int spin(caa_ubev_t *ev, unsigned ms)
{
	uint64_t end = now_ms() + ms;
	int ran = 0;
	for (uint64_t t; (t = now_ms()) < end;) {
		int r = caa_ubev_wait(ev, (int)(end - t));
		if (r > 0)
			ran += r;
	}
	return ran;
}

/* Run rounds until *calls reaches want (true), or the hang bound (false). */
static bool wait_calls(caa_ubev_t *ev, const int *calls, int want)
{
	uint64_t end = now_ms() + HANG_MS;
	while (*calls < want && now_ms() < end)
		caa_ubev_wait(ev, 100);
	return *calls >= want;
}

typedef struct reuse {
	caa_ubev_t *ev;
	struct ub_event *a, *d;
	int pa[2], pd[2];
	probe_t dp;
	int calls_c;
} reuse_t;

static void reuse_c_cb(int fd, short bits, void *arg)
{
	(void)fd, (void)bits;
	reuse_t *r = arg;
	r->calls_c++;
	if (r->a == NULL)
		return;
	r->a->vmt->del(r->a);
	r->a->vmt->free(r->a);
	r->a = NULL;
	close(r->pa[0]);
	pipe_nb(r->pd); /* the lowest free number: pa[0]'s */
	r->d = new_ev(r->ev, r->pd[0], UB_EV_READ, &r->dp);
	r->d->vmt->add(r->d, NULL);
}

static void owner_fd_cb(void *arg)
{
	int *fdp = arg;
	uint64_t v;
	ssize_t r = read(fdp[0], &v, sizeof(v));
	(void)r;
	fdp[1]++;
}

typedef struct owner_timer {
	caa_timer_t t;
	void *got_arg;
	int fired;
} owner_timer_t;

static void owner_timer_fire(caa_timer_t *t, void *arg)
{
	owner_timer_t *o = (owner_timer_t *)(void *)t;
	o->got_arg = arg;
	o->fired++;
}

static void test_vmt(void)
{
	caa_ubev_t *ev = caa_ubev_new();
	CHECK(ev != NULL, "caa_ubev_new");
	if (ev == NULL)
		return;
	struct ub_event_base *b = caa_ubev_base(ev);
	CHECK(b->magic == UB_EVENT_MAGIC, "base magic");
	CHECK(caa_ubev_timeout_ms(ev) == -1, "no timer: -1");
	CHECK(b->vmt->new_signal(b, 15, probe_cb, NULL) == NULL, "signals refused");

	/* One-shot READ: fires once, then is no longer added. */
	int p1[2], p2[2];
	pipe_nb(p1);
	pipe_nb(p2);
	probe_t a = {0};
	struct ub_event *ea = new_ev(ev, p1[0], UB_EV_READ, &a);
	CHECK(ea != NULL && ea->magic == UB_EVENT_MAGIC && caa_ubev_nevents(ev) == 1, "new_event");
	CHECK(ea->vmt->add(ea, NULL) == 0, "add");
	put(p1[1]);
	caa_ubev_wait(ev, 200);
	CHECK(a.calls == 1 && a.last_bits == UB_EV_READ && a.fd == p1[0],
	      "one-shot: %d calls bits %d", a.calls, a.last_bits);
	spin(ev, 30);
	CHECK(a.calls == 1, "one-shot stays off although still readable: %d calls", a.calls);

	/* PERSIST: level-triggered, each round while readable; its timeout re-arms. */
	a.calls = 0;
	ea->vmt->add_bits(ea, UB_EV_PERSIST);
	struct timeval tv = {0, 40000};
	CHECK(ea->vmt->add(ea, &tv) == 0, "add persist");
	caa_ubev_process(ev);
	caa_ubev_process(ev);
	CHECK(a.calls == 2 && a.last_bits == UB_EV_READ, "persist, level: %d calls", a.calls);
	drain(p1[0]);
	a.calls = 0;
	uint64_t t0 = now_ms();
	bool rearmed = wait_calls(ev, &a.calls, 3);
	uint64_t took = now_ms() - t0;
	/* it keeps firing (re-armed at each activation), as TIMEOUT, and never
	 * before its 40 ms: a held-up loop only makes it fire later */
	CHECK(rearmed && a.last_bits == UB_EV_TIMEOUT && (uint64_t)a.calls <= took / 40 + 2,
	      "persist timeout re-arms every 40 ms: %d in %llu ms", a.calls,
	      (unsigned long long)took);
	CHECK(ea->vmt->del(ea) == 0, "del");
	a.calls = 0;
	spin(ev, 60);
	CHECK(a.calls == 0, "deleted: %d calls", a.calls);

	/* A one-shot timeout on an fd event: TIMEOUT, then off. */
	ea->vmt->del_bits(ea, UB_EV_PERSIST);
	tv.tv_usec = 10000;
	ea->vmt->add(ea, &tv);
	bool fired = wait_calls(ev, &a.calls, 1);
	spin(ev, 60); /* a second firing would show here */
	CHECK(fired && a.calls == 1 && a.last_bits == UB_EV_TIMEOUT, "one-shot timeout: %d",
	      a.calls);

	/* add(NULL) on an added event keeps its timeout (libevent). */
	a.calls = 0;
	tv.tv_usec = 30000;
	ea->vmt->add(ea, &tv);
	ea->vmt->add(ea, NULL);
	fired = wait_calls(ev, &a.calls, 1); /* a dropped timeout never fires: the bound ends it */
	spin(ev, 60);
	CHECK(fired && a.calls == 1 && a.last_bits == UB_EV_TIMEOUT,
	      "add(NULL) keeps the timeout: %d", a.calls);

	/* set_fd on an added event moves it. */
	a.calls = 0;
	ea->vmt->add_bits(ea, UB_EV_PERSIST);
	ea->vmt->add(ea, NULL);
	ea->vmt->set_fd(ea, p2[0]);
	put(p1[1]);
	spin(ev, 20);
	CHECK(a.calls == 0, "old fd no longer watched: %d", a.calls);
	put(p2[1]);
	caa_ubev_wait(ev, 100);
	CHECK(a.calls == 1 && a.fd == p2[0], "set_fd on an added event: %d calls fd %d", a.calls,
	      a.fd);
	drain(p1[0]);
	drain(p2[0]);
	ea->vmt->free(ea);
	CHECK(caa_ubev_nevents(ev) == 0, "freed: %zu events", caa_ubev_nevents(ev));

	/* Two ready events, each callback frees both: exactly one runs (the other
	 * is dead before its turn), and ASan sees no use after free. */
	probe_t x = {0}, y = {0};
	struct ub_event *ex = new_ev(ev, p1[0], UB_EV_READ | UB_EV_PERSIST, &x);
	struct ub_event *ey = new_ev(ev, p2[0], UB_EV_READ | UB_EV_PERSIST, &y);
	x.self = ex, x.other = ey, x.free_self = x.free_other = true;
	y.self = ey, y.other = ex, y.free_self = y.free_other = true;
	ex->vmt->add(ex, NULL);
	ey->vmt->add(ey, NULL);
	put(p1[1]);
	put(p2[1]);
	caa_ubev_wait(ev, 100);
	CHECK(x.calls + y.calls == 1 && caa_ubev_nevents(ev) == 0,
	      "freed from a callback in the same round: %d + %d calls, %zu left", x.calls, y.calls,
	      caa_ubev_nevents(ev));
	drain(p1[0]);
	drain(p2[0]);

	/* Two events on one fd (READ and WRITE): the epoll interest is the union. */
	int sp[2];
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sp) != 0) {
		perror("socketpair");
		exit(1);
	}
	probe_t r = {0}, w = {0};
	struct ub_event *er = new_ev(ev, sp[0], UB_EV_READ | UB_EV_PERSIST, &r);
	struct ub_event *ew = new_ev(ev, sp[0], UB_EV_WRITE, &w);
	er->vmt->add(er, NULL);
	ew->vmt->add(ew, NULL);
	caa_ubev_wait(ev, 100);
	CHECK(w.calls == 1 && w.last_bits == UB_EV_WRITE && r.calls == 0, "shared fd, write: %d/%d",
	      w.calls, r.calls);
	put(sp[1]);
	caa_ubev_wait(ev, 100);
	CHECK(r.calls == 1 && r.last_bits == UB_EV_READ && w.calls == 1, "shared fd, read: %d/%d",
	      r.calls, w.calls);
	er->vmt->free(er);
	ew->vmt->free(ew);
	/* Two events on one fd, each callback frees both: one runs, the other is
	 * dead (not freed) when its turn in the same round comes. */
	probe_t s1 = {0}, s2 = {0};
	struct ub_event *es1 = new_ev(ev, sp[0], UB_EV_READ | UB_EV_PERSIST, &s1);
	struct ub_event *es2 = new_ev(ev, sp[0], UB_EV_READ | UB_EV_PERSIST, &s2);
	s1.self = es1, s1.other = es2, s1.free_self = s1.free_other = true;
	s2.self = es2, s2.other = es1, s2.free_self = s2.free_other = true;
	es1->vmt->add(es1, NULL);
	es2->vmt->add(es2, NULL);
	caa_ubev_wait(ev, 100); /* sp[0] is still readable */
	CHECK(s1.calls + s2.calls == 1 && caa_ubev_nevents(ev) == 0,
	      "same fd, freed by the other's callback: %d + %d calls", s1.calls, s2.calls);
	close(sp[0]);
	close(sp[1]);

	/* fd reuse within a round: C's callback deletes A, closes A's fd and opens
	 * a pipe on the same number with a new event D; the report for A's old fd
	 * (later in the same round: A became ready after C) must reach neither A
	 * nor D, whose pipe is empty. */
	{
		reuse_t ru = {.ev = ev};
		int pc[2];
		pipe_nb(ru.pa);
		pipe_nb(pc);
		probe_t ap = {0};
		ru.a = new_ev(ev, ru.pa[0], UB_EV_READ | UB_EV_PERSIST, &ap);
		struct ub_event_base *bb = caa_ubev_base(ev);
		struct ub_event *ec = bb->vmt->new_event(bb, pc[0], UB_EV_READ, reuse_c_cb, &ru);
		ru.a->vmt->add(ru.a, NULL);
		ec->vmt->add(ec, NULL);
		put(pc[1]); /* C first in epoll's ready list */
		put(ru.pa[1]);
		int old = ru.pa[0];
		caa_ubev_wait(ev, 100);
		printf("     fd %d closed and reused as %d in one round\n", old, ru.pd[0]);
		CHECK(ru.calls_c == 1 && ap.calls == 0 && ru.d != NULL && ru.dp.calls == 0,
		      "fd %d reused as %d within a round: C %d, A %d, D %d calls", old, ru.pd[0],
		      ru.calls_c, ap.calls, ru.dp.calls);
		spin(ev, 20);
		CHECK(ru.dp.calls == 0, "D quiet: %d", ru.dp.calls);
		if (ru.d != NULL)
			ru.d->vmt->free(ru.d);
		ec->vmt->free(ec);
		close(ru.pa[1]);
		close(ru.pd[0]);
		close(ru.pd[1]);
		close(pc[0]);
		close(pc[1]);
	}

	/* Timers: add_timer fires in deadline order; del_timer cancels. */
	probe_t t1 = {0}, t2 = {0}, t3 = {0};
	struct ub_event *et1 = new_ev(ev, -1, UB_EV_TIMEOUT, &t1);
	struct ub_event *et2 = new_ev(ev, -1, UB_EV_TIMEOUT, &t2);
	struct ub_event *et3 = new_ev(ev, -1, UB_EV_TIMEOUT, &t3);
	struct timeval v1 = {0, 30000}, v2 = {0, 10000}, v3 = {0, 20000};
	CHECK(et1->vmt->add_timer(et1, b, probe_cb, &t1, &v1) == 0, "add_timer");
	et2->vmt->add_timer(et2, b, probe_cb, &t2, &v2);
	et3->vmt->add_timer(et3, b, probe_cb, &t3, &v3);
	int ms = caa_ubev_timeout_ms(ev);
	uint64_t after_us = caa_now_us();
	const caa_timer_t *first = caa_timerq_first(caa_ubev_timers(ev));
	/* at most the 10 ms to the first timer, rounded up: never 0 while that
	 * timer is not due (a held-up test may find it due already) */
	CHECK(ms <= 10 && (ms >= 1 || (first != NULL && first->when_us <= after_us)),
	      "timeout_ms rounds up: %d", ms);
	et3->vmt->del_timer(et3);
	int waits = 0;
	while (t1.calls == 0 && waits++ < 10)
		caa_ubev_wait(ev, -1);
	CHECK(t1.calls == 1 && t2.calls == 1 && t2.seq < t1.seq && t3.calls == 0 &&
	          t1.last_bits == UB_EV_TIMEOUT && t1.fd == -1,
	      "timers in deadline order, the deleted one never: %d %d %d", t1.calls, t2.calls,
	      t3.calls);
	CHECK(waits <= 3, "wait(-1) sleeps until the next timer: %d rounds for 2 timers", waits);
	CHECK(caa_ubev_timeout_ms(ev) == -1, "no timer left");
	et1->vmt->free(et1);
	et2->vmt->free(et2);
	et3->vmt->free(et3);

	/* EPOLLERR as READ: a connected UDP socket gets ICMP port unreachable. */
	{
		struct sockaddr_in sa = {.sin_family = AF_INET,
		                         .sin_addr.s_addr = htonl(0x7f000001)};
		socklen_t sl = sizeof(sa);
		int s0 = socket(AF_INET, SOCK_DGRAM, 0);
		bind(s0, (struct sockaddr *)&sa, sizeof(sa));
		getsockname(s0, (struct sockaddr *)&sa, &sl);
		close(s0); /* nothing listens on sa now */
		int s = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
		connect(s, (struct sockaddr *)&sa, sizeof(sa));
		probe_t u = {0};
		struct ub_event *eu = new_ev(ev, s, UB_EV_READ | UB_EV_PERSIST, &u);
		eu->vmt->add(eu, NULL);
		ssize_t sent = send(s, "q", 1, 0);
		caa_ubev_wait(ev, 500);
		char c;
		ssize_t got = recv(s, &c, 1, 0);
		int e = errno;
		CHECK(sent == 1 && u.calls == 1 && (u.last_bits & UB_EV_READ) && got < 0 &&
		          e == ECONNREFUSED,
		      "ICMP unreachable as READ: %d calls, bits %d, recv %s", u.calls, u.last_bits,
		      strerror(e));
		eu->vmt->free(eu);
		close(s);
	}

	/* Owner fd and owner timer share the loop. */
	int efd[2] = {eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC), 0};
	CHECK(caa_ubev_add_fd(ev, efd[0], owner_fd_cb, efd) == CAA_EOK, "add_fd");
	CHECK(caa_ubev_add_fd(ev, efd[0], owner_fd_cb, efd) == CAA_EINVAL, "add_fd twice");
	uint64_t one = 1;
	ssize_t wr = write(efd[0], &one, sizeof(one));
	(void)wr;
	caa_ubev_wait(ev, 100);
	CHECK(efd[1] == 1, "owner fd callback: %d", efd[1]);
	owner_timer_t ot = {.t = {.fire = owner_timer_fire}};
	int marker;
	caa_ubev_set_timer_arg(ev, &marker);
	caa_timerq_arm(caa_ubev_timers(ev), &ot.t, caa_now_us() + 5000);
	fired = wait_calls(ev, &ot.fired, 1);
	CHECK(fired && ot.fired == 1 && ot.got_arg == &marker, "owner timer fires with its arg");
	CHECK(caa_ubev_del_fd(ev, efd[0]) == CAA_EOK && caa_ubev_del_fd(ev, efd[0]) == CAA_EINVAL,
	      "del_fd");
	wr = write(efd[0], &one, sizeof(one));
	spin(ev, 20);
	CHECK(efd[1] == 1, "deleted owner fd is quiet: %d", efd[1]);
	/* left registered on purpose: caa_ubev_free releases owner fds */
	CHECK(caa_ubev_add_fd(ev, efd[0], owner_fd_cb, efd) == CAA_EOK, "add_fd again");

	/* 2000 one-shot events with timeouts at once: each fires exactly once,
	 * as READ when written, else TIMEOUT. The written ones' timeouts (60 s)
	 * lie beyond the hang bound, so which comes first never depends on how
	 * long the setup takes. */
	enum { MANY = 2000 };
	int(*pp)[2] = calloc(MANY, sizeof(*pp));
	probe_t *pr = calloc(MANY, sizeof(*pr));
	struct ub_event **ee = calloc(MANY, sizeof(*ee));
	for (int i = 0; i < MANY; i++) {
		pipe_nb(pp[i]);
		ee[i] = new_ev(ev, pp[i][0], UB_EV_READ, &pr[i]);
		struct timeval tt = {i % 2 == 0 ? 60 : 0,
		                     i % 2 == 0 ? 0 : 300000 + (i % 50) * 1000};
		ee[i]->vmt->add(ee[i], &tt);
		if (i % 2 == 0)
			put(pp[i][1]);
	}
	CHECK(caa_ubev_nevents(ev) == MANY, "%zu events", caa_ubev_nevents(ev));
	uint64_t many_end = now_ms() + HANG_MS;
	for (;;) {
		int done = 0;
		for (int i = 0; i < MANY; i++)
			done += pr[i].calls > 0;
		if (done == MANY || now_ms() >= many_end)
			break;
		caa_ubev_wait(ev, 100);
	}
	spin(ev, 20); /* a second firing would show here */
	int reads = 0, touts = 0, wrong = 0;
	for (int i = 0; i < MANY; i++) {
		if (pr[i].calls != 1)
			wrong++;
		else if (pr[i].last_bits == UB_EV_READ && i % 2 == 0)
			reads++;
		else if (pr[i].last_bits == UB_EV_TIMEOUT && i % 2 == 1)
			touts++;
		ee[i]->vmt->free(ee[i]);
		close(pp[i][0]);
		close(pp[i][1]);
	}
	CHECK(reads == MANY / 2 && touts == MANY / 2 && wrong == 0,
	      "%d events: %d READ, %d TIMEOUT, %d wrong", MANY, reads, touts, wrong);
	free(pp);
	free(pr);
	free(ee);

	close(p1[0]);
	close(p1[1]);
	close(p2[0]);
	close(p2[1]);
	CHECK(caa_ubev_nevents(ev) == 0, "%zu events left", caa_ubev_nevents(ev));
	caa_ubev_free(ev);
	close(efd[0]);
}

/* ================= libunbound in event mode against the lab ================= */

typedef struct query {
	char name[256];
	int rc; /* of ub_resolve_event */
	int async_id;
	bool in_call; /* inside ub_resolve_event() */
	bool done, sync;
	int calls;
	int rcode; /* the callback's */
	int pkt_rcode, ancount, ncaa, sec;
	bool tc;
	char why[512];
	uint64_t t0, t1;
	int *counter; /* decremented on completion (benchmarks) */
} query_t;

static void take_answer(query_t *q, int rcode, const uint8_t *pkt, int len, int sec,
                        const char *why)
{
	q->calls++;
	q->done = true;
	q->sync = q->in_call;
	q->t1 = now_ms();
	q->rcode = rcode;
	q->sec = sec;
	q->pkt_rcode = q->ancount = q->ncaa = -1;
	snprintf(q->why, sizeof(q->why), "%s", why != NULL ? why : "");
	caa_dns_msg_t m;
	if (rcode == 0 && pkt != NULL && caa_dns_msg_parse(&m, pkt, (size_t)len, NULL) == CAA_EOK) {
		q->pkt_rcode = (int)m.rcode;
		q->ancount = (int)m.hdr.count[CAA_DNS_ANSWER];
		q->tc = m.hdr.tc;
		q->ncaa = 0;
		caa_dns_iter_t it;
		caa_dns_rr_t rr;
		caa_dns_iter_init(&it, &m, CAA_DNS_ANSWER);
		while (caa_dns_iter_next(&it, &rr))
			if (rr.type == CAA_DNS_T_CAA)
				q->ncaa++;
	}
	if (q->counter != NULL)
		(*q->counter)--;
}

static void on_event(void *mydata, int rcode, void *packet, int len, int sec, char *why,
                     int was_ratelimited)
{
	(void)was_ratelimited;
	take_answer(mydata, rcode, packet, len, sec, why);
}

static int submit(struct ub_ctx *ub, query_t *q)
{
	q->t0 = now_ms();
	q->in_call = true;
	q->rc = ub_resolve_event(ub, q->name, CAA_DNS_T_CAA, 1, q, on_event, &q->async_id);
	q->in_call = false;
	return q->rc;
}

/* The options every context here gets. The benchmark turns aggressive NSEC
 * (aggressive-nsec, on by default) off: with it, once the wildcard's NSEC
 * proof is cached, libunbound synthesises every further *.wc.lab answer from
 * its cache (RFC 8198) and "unique names" would measure cache hits. */
static void common_options(struct ub_ctx *ub, const char *labdir, bool bench)
{
	char conf[4096];
	snprintf(conf, sizeof(conf), "%s/unbound.conf", labdir);
	ub_ctx_set_option(ub, "qname-minimisation:", "no");
	if (bench && ub_ctx_set_option(ub, "aggressive-nsec:", "no") != 0) {
		fprintf(stderr, "aggressive-nsec: not accepted\n");
		exit(1);
	}
	int rc = ub_ctx_config(ub, conf);
	if (rc != 0) {
		fprintf(stderr, "ub_ctx_config %s: %s\n", conf, ub_strerror(rc));
		exit(1);
	}
}

static struct ub_ctx *event_ctx(caa_ubev_t *ev, const char *labdir, bool bench)
{
	struct ub_ctx *ub = ub_ctx_create_ub_event(caa_ubev_base(ev));
	if (ub == NULL) {
		fprintf(stderr, "ub_ctx_create_ub_event failed\n");
		exit(1);
	}
	common_options(ub, labdir, bench);
	return ub;
}

/* Drive ev until every query in qs[0..n) with !may_pend[i] is done, or
 * deadline. Returns the rounds run. */
static int drive(caa_ubev_t *ev, query_t *qs, const bool *may_pend, size_t n, uint64_t deadline)
{
	int rounds = 0;
	for (;;) {
		bool open = false;
		for (size_t i = 0; i < n && !open; i++)
			open = !qs[i].done && (may_pend == NULL || !may_pend[i]);
		uint64_t t = now_ms();
		if (!open || t >= deadline)
			return rounds;
		caa_ubev_wait(ev, (int)(deadline - t));
		rounds++;
	}
}

#define ANY (-9)

typedef struct lcase {
	const char *name;
	int rcode, pkt_rcode, ncaa, sec;
	bool why;      /* why_bogus must be set */
	bool may_pend; /* a silent server: not done by the deadline is right */
} lcase_t;

static const lcase_t lab_cases[] = {
    {"issue-permit.lab", 0, 0, 1, 2, false, false},
    {"www.nocaa.lab", 0, 0, 0, 2, false, false},   /* NODATA */
    {"www.missing.lab", 0, 3, 0, 2, false, false}, /* NXDOMAIN */
    {"secure.lab", 0, 0, 1, 2, false, false},
    {"www.secure.lab", 0, 0, 0, 2, false, false},
    {"shop.lab-insecure", 0, 0, 1, 0, false, false}, /* unsigned TLD */
    {"expired.lab", ANY, ANY, ANY, 1, true, false},  /* bogus */
    {"www.expired.lab", ANY, ANY, ANY, 1, true, false},
    {"big.lab", 0, 0, 41, 2, false, false}, /* TC over UDP, then TCP */
    {"a.servfail.lab", 2, ANY, ANY, ANY, false, false},
    {"a.refused.lab", 2, ANY, ANY, ANY, false, false},
    {"tc.lab", 2, ANY, ANY, ANY, false, false},        /* TC, TCP reset */
    {"slow.lab", 0, 0, 1, 0, false, false},            /* 300 ms late */
    {"a.drop.lab", 2, ANY, ANY, ANY, false, true},     /* silent: ~17 s */
    {"a.noserver.lab", 2, ANY, ANY, ANY, false, true}, /* ICMP unreachable */
};
#define NLAB (sizeof(lab_cases) / sizeof(lab_cases[0]))

static void check_case(const lcase_t *c, const query_t *q)
{
	if (!q->done) {
		CHECK(c->may_pend, "%s: no answer", c->name);
		printf("     %-20s pending at the deadline%s\n", c->name,
		       c->may_pend ? " (silent server: right)" : "");
		return;
	}
	printf("     %-20s rcode %d pkt_rcode %d an %d caa %d sec %d%s%s in %llu ms%s\n", c->name,
	       q->rcode, q->pkt_rcode, q->ancount, q->ncaa, q->sec, q->why[0] ? " why: " : "",
	       q->why, (unsigned long long)(q->t1 - q->t0), q->sync ? " (sync)" : "");
	CHECK(q->calls == 1, "%s: %d callbacks", c->name, q->calls);
	CHECK(c->rcode == ANY || q->rcode == c->rcode, "%s: rcode %d, want %d", c->name, q->rcode,
	      c->rcode);
	CHECK(c->pkt_rcode == ANY || q->pkt_rcode == c->pkt_rcode, "%s: packet rcode %d, want %d",
	      c->name, q->pkt_rcode, c->pkt_rcode);
	CHECK(c->ncaa == ANY || q->ncaa == c->ncaa, "%s: %d CAA, want %d", c->name, q->ncaa,
	      c->ncaa);
	CHECK(c->sec == ANY || q->sec == c->sec, "%s: sec %d, want %d", c->name, q->sec, c->sec);
	CHECK(!c->why || q->why[0] != '\0', "%s: no why_bogus", c->name);
	CHECK(!q->sync, "%s: a network answer came back inside ub_resolve_event", c->name);
}

/* Scenario names, concurrently; then the loop must idle (not spin) while only
 * the silent servers are left. The queries stay allocated: those still in
 * flight are called back from ub_ctx_delete() (see main). */
static query_t *test_lab(caa_ubev_t *ev, struct ub_ctx *ub)
{
	query_t *qs = calloc(NLAB, sizeof(*qs));
	bool pend[NLAB];
	for (size_t i = 0; i < NLAB; i++) {
		snprintf(qs[i].name, sizeof(qs[i].name), "%s", lab_cases[i].name);
		pend[i] = lab_cases[i].may_pend;
		CHECK(submit(ub, &qs[i]) == 0, "ub_resolve_event %s: %s", qs[i].name,
		      ub_strerror(qs[i].rc));
	}
	uint64_t t0 = now_ms();
	int rounds = drive(ev, qs, pend, NLAB, t0 + LAB_DEADLINE_MS);
	printf("     answering scenarios done in %llu ms, %d rounds, %zu events alive\n",
	       (unsigned long long)(now_ms() - t0), rounds, caa_ubev_nevents(ev));
	/* Only silent servers left: libunbound's retransmit timers, no spinning. */
	uint64_t t1 = now_ms();
	int idle = drive(ev, qs, NULL, NLAB, t1 + 1500);
	CHECK(idle < 100, "idle with silent servers pending: %d rounds in 1.5 s", idle);
	printf("     1.5 s with only silent servers pending: %d rounds\n", idle);
	for (size_t i = 0; i < NLAB; i++)
		check_case(&lab_cases[i], &qs[i]);
	return qs;
}

/* ---- sync: cache hits inside ub_resolve_event; a nested resolve and the packet ---- */

typedef struct nest {
	struct ub_ctx *ub;
	query_t inner;
	uint8_t copy[65536];
	int len;
	bool clobbered, inner_sync, called;
} nest_t;

static void on_outer(void *mydata, int rcode, void *packet, int len, int sec, char *why,
                     int was_ratelimited)
{
	(void)rcode, (void)sec, (void)why, (void)was_ratelimited;
	nest_t *n = mydata;
	n->called = true;
	n->len = len;
	memcpy(n->copy, packet, (size_t)len);
	snprintf(n->inner.name, sizeof(n->inner.name), "%s", "shop.lab-insecure");
	submit(n->ub, &n->inner);
	n->inner_sync = n->inner.sync;
	n->clobbered = memcmp(n->copy, packet, (size_t)len) != 0;
}

static void resolve_wait(caa_ubev_t *ev, struct ub_ctx *ub, const char *name)
{
	query_t q = {0};
	snprintf(q.name, sizeof(q.name), "%s", name);
	submit(ub, &q);
	drive(ev, &q, NULL, 1, now_ms() + LAB_DEADLINE_MS);
	CHECK(q.done, "%s: no answer", name);
}

static void test_sync(caa_ubev_t *ev, struct ub_ctx *ub)
{
	const char *names[] = {"issue-permit.lab", "www.nocaa.lab",  "www.missing.lab",
	                       "expired.lab",      "a.servfail.lab", "secure.lab",
	                       "shop.lab-insecure"};
	const size_t n = sizeof(names) / sizeof(names[0]);
	for (size_t i = 0; i < n; i++)
		resolve_wait(ev, ub, names[i]); /* (cached already after "lab") */
	for (size_t i = 0; i < n; i++) {
		query_t q = {0};
		snprintf(q.name, sizeof(q.name), "%s", names[i]);
		submit(ub, &q);
		if (!q.done)
			drive(ev, &q, NULL, 1, now_ms() + LAB_DEADLINE_MS);
		printf("     again %-18s answered %s (rcode %d, packet rcode %d, sec %d)\n",
		       names[i], q.sync ? "INSIDE ub_resolve_event()" : "later, from the loop",
		       q.rcode, q.pkt_rcode, q.sec);
		/* SERVFAIL and bogus answers are cached too (for a while), but that
		 * is libunbound's policy, not this module's: checked for the others. */
		if (i != 3 && i != 4)
			CHECK(q.done && q.sync, "cached %s: callback inside ub_resolve_event",
			      names[i]);
	}
	/* A resolve from inside a callback, both names cached: the inner answer
	 * is built in the same worker buffer as the outer packet. */
	nest_t *nest = calloc(1, sizeof(*nest));
	nest->ub = ub;
	int id;
	int rc = ub_resolve_event(ub, "secure.lab", CAA_DNS_T_CAA, 1, nest, on_outer, &id);
	CHECK(rc == 0 && nest->called && nest->inner.done, "nested resolve ran synchronously");
	printf("     ub_resolve_event() from a callback: inner answer %s, the outer packet "
	       "(%d octets) %s\n",
	       nest->inner_sync ? "synchronous" : "later", nest->len,
	       nest->clobbered ? "OVERWRITTEN" : "intact");
	free(nest);
}

/* ---- cancel ---- */

static void test_cancel(caa_ubev_t *ev, struct ub_ctx *ub)
{
	query_t q[4];
	memset(q, 0, sizeof(q));
	for (int i = 0; i < 4; i++) {
		snprintf(q[i].name, sizeof(q[i].name), "cancel%d.slow.lab", i);
		CHECK(submit(ub, &q[i]) == 0 && !q[i].done && q[i].async_id != 0, "submit %s",
		      q[i].name);
	}
	int rc0 = ub_cancel(ub, q[0].async_id); /* at once */
	spin(ev, 100);                          /* the others are on the wire */
	/* (a loop held up past 300 ms would see these answered: not cancellable) */
	int rc1 = q[1].done ? UB_NOERROR : ub_cancel(ub, q[1].async_id);
	int rc2 = q[2].done ? UB_NOERROR : ub_cancel(ub, q[2].async_id);
	int late = q[1].done + q[2].done;
	CHECK(rc0 == UB_NOERROR && rc1 == UB_NOERROR && rc2 == UB_NOERROR, "ub_cancel: %s, %s, %s",
	      ub_strerror(rc0), ub_strerror(rc1), ub_strerror(rc2));
	drive(ev, &q[3], NULL, 1, now_ms() + LAB_DEADLINE_MS);
	spin(ev, 300); /* a cancelled query calling back would show here */
	CHECK(q[3].done && q[3].calls == 1, "the uncancelled one completes");
	CHECK(q[0].calls == 0 && q[1].calls + q[2].calls == late,
	      "cancelled queries never call back: %d %d %d", q[0].calls, q[1].calls, q[2].calls);
	int rc3 = ub_cancel(ub, q[3].async_id);
	CHECK(rc3 == UB_NOID, "cancel after completion: %s", ub_strerror(rc3));
	printf(
	    "     ub_cancel in event mode: in flight %s/%s/%s, no callback, after the answer %s\n",
	    ub_strerror(rc0), ub_strerror(rc1), ub_strerror(rc2), ub_strerror(rc3));
	/* The context still works. */
	query_t again = {0};
	snprintf(again.name, sizeof(again.name), "%s", "cancel9.slow.lab");
	submit(ub, &again);
	drive(ev, &again, NULL, 1, now_ms() + LAB_DEADLINE_MS);
	CHECK(again.done && again.rcode == 0, "resolves after cancels: rcode %d", again.rcode);
}

/* ---- 1000 unique names at once ---- */

static void test_wildcard(caa_ubev_t *ev, struct ub_ctx *ub, int n)
{
	query_t *qs = calloc((size_t)n, sizeof(*qs));
	size_t peak = 0;
	uint64_t t0 = now_ms();
	for (int i = 0; i < n; i++) {
		snprintf(qs[i].name, sizeof(qs[i].name), "w%d.wc.lab", i);
		submit(ub, &qs[i]);
	}
	for (;;) {
		size_t e = caa_ubev_nevents(ev);
		peak = e > peak ? e : peak;
		int open = 0;
		for (int i = 0; i < n; i++)
			open += !qs[i].done;
		if (open == 0 || now_ms() - t0 > 30000)
			break;
		caa_ubev_wait(ev, 1000);
	}
	int ok = 0, calls = 0;
	for (int i = 0; i < n; i++) {
		calls += qs[i].calls;
		if (qs[i].done && qs[i].rcode == 0 && qs[i].pkt_rcode == 0 && qs[i].ncaa == 1 &&
		    qs[i].sec == 2)
			ok++;
	}
	CHECK(ok == n && calls == n, "%d names at once: %d right, %d callbacks", n, ok, calls);
	printf("     %d unique names at once: %d right in %llu ms, peak %zu events\n", n, ok,
	       (unsigned long long)(now_ms() - t0), peak);
	free(qs);
}

/* ---- benchmark: event base vs thread mode ---- */

typedef struct cpu {
	uint64_t wall_us, user_us, sys_us;
} cpu_t;

static cpu_t cpu_now(void)
{
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	cpu_t c = {caa_now_us(),
	           (uint64_t)ru.ru_utime.tv_sec * 1000000u + (uint64_t)ru.ru_utime.tv_usec,
	           (uint64_t)ru.ru_stime.tv_sec * 1000000u + (uint64_t)ru.ru_stime.tv_usec};
	return c;
}

static void report(const char *what, int n, int ok, cpu_t a, cpu_t b)
{
	double s = (double)(b.wall_us - a.wall_us) / 1e6;
	printf("     %-34s %5d/%d ok  %8.0f /s  %7.1f ms  cpu user %6.1f ms sys %6.1f ms\n", what,
	       ok, n, n / s, s * 1000, (double)(b.user_us - a.user_us) / 1000,
	       (double)(b.sys_us - a.sys_us) / 1000);
}

static int count_ok(const query_t *qs, int n)
{
	int ok = 0;
	for (int i = 0; i < n; i++)
		ok += qs[i].done && qs[i].rcode == 0 && qs[i].ncaa == 1 && qs[i].sec == 2;
	return ok;
}

static void bench_event(caa_ubev_t *ev, struct ub_ctx *ub, int n, int k, const char *tag)
{
	query_t *qs = calloc((size_t)n, sizeof(*qs));
	for (int pass = 0; pass < 2; pass++) {
		memset(qs, 0, (size_t)n * sizeof(*qs));
		int inflight = 0, next = 0, nsync = 0;
		cpu_t a = cpu_now();
		while (next < n || inflight > 0) {
			while (inflight < k && next < n) {
				query_t *q = &qs[next];
				snprintf(q->name, sizeof(q->name), "%s%d.wc.lab", tag, next++);
				q->counter = &inflight;
				inflight++;
				submit(ub, q);
				nsync += q->sync;
			}
			if (inflight > 0)
				caa_ubev_wait(ev, 1000);
		}
		cpu_t b = cpu_now();
		int ok = count_ok(qs, n);
		report(pass == 0 ? "event base, unique names" : "event base, cache hits", n, ok, a,
		       b);
		CHECK(ok == n, "event bench pass %d: %d of %d", pass, ok, n);
		printf("     %-34s %5d answered inside ub_resolve_event (from the cache)\n", "",
		       nsync);
		/* 1000 answers fit libunbound's default message cache; many more
		 * do not, and the second pass then resolves again. */
		if (pass == 0)
			CHECK(nsync == 0, "unique names answered from the network: %d synchronous",
			      nsync);
		else if (n <= 1000)
			CHECK(nsync == n, "cache hits all synchronous: %d of %d", nsync, n);
	}
	free(qs);
}

static void on_thread(void *mydata, int err, struct ub_result *r)
{
	query_t *q = mydata;
	if (err != 0 || r == NULL) {
		take_answer(q, 2, NULL, 0, 0, ub_strerror(err));
	} else {
		take_answer(q, r->rcode == 2 ? 2 : 0, r->answer_packet, r->answer_len,
		            r->secure  ? 2
		            : r->bogus ? 1
		                       : 0,
		            r->why_bogus);
	}
	ub_resolve_free(r);
}

static void bench_thread(const char *labdir, int n, int k, const char *tag)
{
	struct ub_ctx *ub = ub_ctx_create();
	ub_ctx_async(ub, 1);
	common_options(ub, labdir, true);
	query_t *qs = calloc((size_t)n + 1, sizeof(*qs));
	/* warm the delegation and keys of lab. like the event context had */
	query_t *w = &qs[n];
	snprintf(w->name, sizeof(w->name), "%swarm.wc.lab", tag);
	ub_resolve_async(ub, w->name, CAA_DNS_T_CAA, 1, w, on_thread, NULL);
	while (!w->done) {
		struct pollfd pfd = {.fd = ub_fd(ub), .events = POLLIN};
		poll(&pfd, 1, 1000);
		ub_process(ub);
	}
	for (int pass = 0; pass < 2; pass++) {
		memset(qs, 0, (size_t)n * sizeof(*qs));
		int inflight = 0, next = 0;
		cpu_t a = cpu_now();
		while (next < n || inflight > 0) {
			while (inflight < k && next < n) {
				query_t *q = &qs[next];
				snprintf(q->name, sizeof(q->name), "%s%d.wc.lab", tag, next++);
				q->counter = &inflight;
				inflight++;
				q->t0 = now_ms();
				ub_resolve_async(ub, q->name, CAA_DNS_T_CAA, 1, q, on_thread, NULL);
			}
			struct pollfd pfd = {.fd = ub_fd(ub), .events = POLLIN};
			poll(&pfd, 1, 1000);
			ub_process(ub);
		}
		cpu_t b = cpu_now();
		int ok = count_ok(qs, n);
		report(pass == 0 ? "thread mode, unique names" : "thread mode, cache hits", n, ok,
		       a, b);
		CHECK(ok == n, "thread bench pass %d: %d of %d", pass, ok, n);
	}
	ub_ctx_delete(ub);
	free(qs);
}

int main(int argc, char **argv)
{
	int nbench = 1000, inflight = 100;
	const char *only = NULL;
	int i = 1;
	for (; i < argc - 1; i++) {
		if (strcmp(argv[i], "--bench") == 0 && i + 1 < argc - 1)
			nbench = atoi(argv[++i]);
		else if (strcmp(argv[i], "--inflight") == 0 && i + 1 < argc - 1)
			inflight = atoi(argv[++i]);
		else if (strcmp(argv[i], "--only") == 0 && i + 1 < argc - 1)
			only = argv[++i];
		else
			break;
	}
	if (argc < 2 || i != argc - 1 || nbench < 1 || inflight < 1) {
		fprintf(stderr,
		        "usage: test_ubevent [--bench N] [--inflight K] [--only PART] LABDIR\n");
		return 2;
	}
	const char *labdir = argv[argc - 1];
	setvbuf(stdout, NULL, _IOLBF, 0);
#define PART(p) (only == NULL || strcmp(only, p) == 0)

	if (PART("vmt")) {
		printf("vmt\n");
		test_vmt();
	}
	caa_ubev_t *ev = caa_ubev_new();
	struct ub_ctx *ub = event_ctx(ev, labdir, false);
	query_t *labq = NULL;
	if (PART("lab")) {
		printf("lab\n");
		labq = test_lab(ev, ub);
	}
	if (PART("sync")) {
		printf("sync\n");
		test_sync(ev, ub);
	}
	if (PART("cancel")) {
		printf("cancel\n");
		test_cancel(ev, ub);
	}
	if (PART("wildcard")) {
		printf("wildcard\n");
		test_wildcard(ev, ub, 1000);
	}
	if (PART("bench")) {
		printf("bench: %d unique names under *.wc.lab, %d in flight, then the same again "
		       "(cache hits)\n",
		       nbench, inflight);
		/* a fresh event context, warmed like the thread one */
		struct ub_ctx *ub2 = event_ctx(ev, labdir, true);
		query_t w = {0};
		snprintf(w.name, sizeof(w.name), "%s", "bevwarm.wc.lab");
		submit(ub2, &w);
		drive(ev, &w, NULL, 1, now_ms() + 5000);
		bench_event(ev, ub2, nbench, inflight, "bev");
		ub_ctx_delete(ub2);
		bench_thread(labdir, nbench, inflight, "bth");
	}
	/* Queries to the silent servers are still in flight here: ub_ctx_delete()
	 * calls them back, SERVFAIL without a packet, before it returns. */
	query_t dq = {0}; /* in flight and cancelled: not called back by the delete */
	snprintf(dq.name, sizeof(dq.name), "%s", "cancelled.drop.lab");
	submit(ub, &dq);
	int dq_rc = ub_cancel(ub, dq.async_id);
	size_t alive = caa_ubev_nevents(ev);
	int pending = 0;
	for (size_t k = 0; labq != NULL && k < NLAB; k++)
		pending += !labq[k].done;
	ub_ctx_delete(ub);
	CHECK(caa_ubev_nevents(ev) == 0, "ub_ctx_delete left %zu events (had %zu)",
	      caa_ubev_nevents(ev), alive);
	for (size_t k = 0; labq != NULL && k < NLAB; k++) {
		if (lab_cases[k].may_pend && labq[k].t1 >= labq[k].t0 && labq[k].calls == 1 &&
		    labq[k].rcode == 2 && labq[k].pkt_rcode == -1)
			pending--;
	}
	if (labq != NULL) {
		printf("ub_ctx_delete with %zu events alive: every pending query called back "
		       "(rcode 2, no packet) from inside it: %s\n",
		       alive, pending == 0 ? "yes" : "NO");
		CHECK(pending == 0, "%d pending queries not called back once by ub_ctx_delete",
		      pending);
	}
	free(labq);
	CHECK(dq_rc == UB_NOERROR && dq.calls == 0,
	      "a cancelled query in flight at ub_ctx_delete: cancel %s, %d callbacks",
	      ub_strerror(dq_rc), dq.calls);
	caa_ubev_free(ev);
	printf("%d passed, %d failed\n", passes, failures);
	return failures == 0 ? 0 : 1;
}
