/*
 * diagnose.c — the real cause of a SERVFAIL: our own RD=0 queries to the
 * zone's authoritative servers, one sentence out (method in diagnose.h).
 *
 * Layout: reading a response into a compact view (through dnsmsg.h, the
 * one DNS message layer), UDP and TCP exchanges with deadlines, libunbound
 * lookups with deadlines, the iteration and its classification, and the
 * queue + workers.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <unbound.h>

#include "codes.h"
#include "diagnose.h"
#include "dnsmsg.h"
#include "donotquery.h"
#include "ubconf.h"
#include "util.h"

#define MAX_RRS      64    /* RRs kept per section; later ones are read past, not kept */
#define MAX_NS       8     /* NS names taken from one delegation */
#define MAX_ADDRS    6     /* server addresses asked per zone */
#define MAX_HOPS     10    /* referrals followed */
#define MAX_ALIASES  4     /* CNAME targets diagnosed in turn */
#define MAX_FAILS    3     /* failing servers named in one sentence */
#define CHAIN_MAX    16    /* CNAMEs followed inside one answer */
#define TRY_MS       1000u /* one UDP try, one TCP exchange */
#define UDP_TRIES    2u
#define UB_BUDGET_MS 1500u /* one libunbound lookup */
#define PKT_MAX      65535
#define PART_MAX     480 /* one server's part of a sentence */
#define START_MIN_MS 50  /* a job with less left when a worker takes it is not started */

/* Short names for dnsmsg.h's constants. */

/* ------------------------------------------------------------------------ */
/* small helpers */

/* Write / append to a fixed buffer of cap octets: sentences are cut short
 * rather than overflow (intended, so through these, not snprintf). */
static void put(char *buf, size_t cap, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void put(char *buf, size_t cap, const char *fmt, ...)
{
	va_list ap;
	if (cap == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(buf, cap, fmt, ap);
	va_end(ap);
}

/* Append to a fixed buffer of cap octets; truncates, always NUL-terminated. */
static void add(char *buf, size_t cap, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void add(char *buf, size_t cap, const char *fmt, ...)
{
	size_t len = strnlen(buf, cap);
	va_list ap;
	if (len + 1 >= cap)
		return;
	va_start(ap, fmt);
	vsnprintf(buf + len, cap - len, fmt, ap);
	va_end(ap);
}

static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static const char *rcode_name(int rc)
{
	static _Thread_local char other[CAA_DNS_MNEMONIC_MAX];
	return rc < 0 ? "no answer" : caa_dns_rcode_str((unsigned)rc, other);
}

/* ------------------------------------------------------------------------ */
/* messages: names are kept in dnsmsg.h's presentation form without the
 * trailing dot ("." for the root), where '.' only ever separates labels */

typedef caa_dns_rr_t rr_t;

/* A response, and its first MAX_RRS records per section. */
typedef struct msg {
	caa_dns_msg_t d;
	const uint8_t *p;
	size_t len;
	uint16_t id;
	bool aa, tc, ra;
	int rcode; /* with the EDNS extension */
	char qname[CAA_DNS_NAME_STR_MAX];
	uint16_t qtype, qclass;
	rr_t an[MAX_RRS], ns[MAX_RRS], ar[MAX_RRS];
	size_t n_an, n_ns, n_ar;
} msg_t;

static size_t build_query(uint8_t *q, size_t cap, uint16_t id, const char *qname, uint16_t qtype,
                          bool edns)
{
	uint8_t name[CAA_DNS_NAME_MAX];
	int n;
	if (caa_dns_name_from_str(qname, name) < 0)
		return 0;
	/* RD=0: we ask the authoritative servers themselves */
	n = caa_dns_query_write(q, cap, id, name, qtype, CAA_DNS_C_IN, false,
	                        edns ? CAA_DNS_EDNS_UDP : 0);
	return n > 0 ? (size_t)n : 0;
}

static void keep_section(msg_t *m, caa_dns_section_t s, rr_t *rrs, size_t *n)
{
	caa_dns_iter_t it;
	*n = 0;
	caa_dns_iter_init(&it, &m->d, s);
	while (*n < MAX_RRS && caa_dns_iter_next(&it, &rrs[*n]))
		(*n)++;
}

/* Parse a response. Returns 0, or -1 with a reason in why. */
static int parse_msg(const uint8_t *p, size_t len, msg_t *m, const char **why)
{
	uint8_t qname[CAA_DNS_NAME_MAX];
	m->n_an = m->n_ns = m->n_ar = 0;
	if (caa_dns_msg_parse(&m->d, p, len, why) != CAA_EOK)
		return -1;
	*why = "not a response";
	if (!m->d.hdr.qr)
		return -1;
	*why = "no question section";
	if (m->d.hdr.count[CAA_DNS_QUESTION] != 1)
		return -1;
	*why = "a malformed question";
	if (caa_dns_name_read(p, len, m->d.qname, qname, NULL) < 0 ||
	    caa_dns_name_str(qname, m->qname, sizeof(m->qname), 0) < 0)
		return -1;
	m->p = p;
	m->len = len;
	m->id = m->d.hdr.id;
	m->aa = m->d.hdr.aa;
	m->tc = m->d.hdr.tc;
	m->ra = m->d.hdr.ra;
	m->rcode = (int)m->d.rcode;
	m->qtype = m->d.qtype;
	m->qclass = m->d.qclass;
	keep_section(m, CAA_DNS_ANSWER, m->an, &m->n_an);
	keep_section(m, CAA_DNS_AUTHORITY, m->ns, &m->n_ns);
	keep_section(m, CAA_DNS_ADDITIONAL, m->ar, &m->n_ar);
	return 0;
}

static bool msg_matches(const msg_t *m, uint16_t id, const char *qname, uint16_t qtype)
{
	return m->id == id && m->qtype == qtype && m->qclass == CAA_DNS_C_IN &&
	       strcmp(m->qname, qname) == 0;
}

static int rr_owner(const msg_t *m, const rr_t *r, char *out, size_t cap)
{
	uint8_t name[CAA_DNS_NAME_MAX];
	if (caa_dns_rr_owner(&m->d, r, name) < 0 || caa_dns_name_str(name, out, cap, 0) < 0)
		return -1;
	return 0;
}

/* The domain name in the RDATA of an NS or CNAME: it must start inside the
 * RDATA and its uncompressed part must stay there. */
static int rr_target(const msg_t *m, const rr_t *r, char *out, size_t cap)
{
	uint8_t name[CAA_DNS_NAME_MAX];
	if (caa_dns_rr_name(&m->d, r, 0, name, NULL) < 0 || caa_dns_name_str(name, out, cap, 0) < 0)
		return -1;
	return 0;
}

/* ------------------------------------------------------------------------ */
/* the context */

typedef struct job {
	struct job *next;
	char *name;
	uint64_t timeout_ms;
	uint64_t queued_us, deadline_us; /* the budget runs from caa_diag_start() */
	caa_diag_cb cb;
	void *arg;
} job_t;

/* One libunbound lookup. Heap-allocated so that a callback arriving after a
 * failed ub_cancel() still writes into live memory (kept on d->orphans). */
typedef struct ubq {
	struct ubq *next;
	bool done, orphan;
	int err;
	struct ub_result *res;
} ubq_t;

/* One diagnosis thread with its own libunbound context (a context's answers
 * are read by one thread: ub_process() runs every callback of the context). */
typedef struct worker {
	caa_diag_t *d;
	struct ub_ctx *ub;
	pthread_t thread;
	bool started;
	ubq_t *orphans; /* this worker's thread only */
} worker_t;

struct caa_diag {
	const caa_config_t *cfg;
	caa_dnq_t *dnq; /* addresses our own queries never go to */
	int wakefd;     /* written once by caa_diag_free(): every wait then returns */
	pthread_mutex_t lock;
	pthread_cond_t cond;
	job_t *head, **tail;
	size_t pending; /* queued and running, under lock */
	bool stopping;  /* under lock */
	atomic_bool stop;
	worker_t workers[CAA_DIAG_WORKERS];
};

/* ------------------------------------------------------------------------ */
/* one diagnosis */

typedef struct server {
	char ns[CAA_DNS_NAME_STR_MAX]; /* "" if unknown */
	char addr[INET6_ADDRSTRLEN];
	struct sockaddr_storage sa;
	socklen_t salen;
} server_t;

typedef struct zoneset {
	char zone[CAA_DNS_NAME_STR_MAX];
	char parent[CAA_DNS_NAME_STR_MAX]; /* the zone that delegated it, "" if unknown */
	char ns[MAX_NS][CAA_DNS_NAME_STR_MAX];
	bool glued[MAX_NS];
	size_t n_ns;
	server_t srv[MAX_ADDRS];
	size_t n_srv;
	char noaddr[PART_MAX];    /* why the last address lookup failed */
	char forbidden[PART_MAX]; /* server addresses we must not query, and why */
	size_t n_forbidden;
} zoneset_t;

typedef enum { XR_OK, XR_TIMEOUT, XR_UNREACH, XR_NETERR, XR_MALFORMED, XR_ABORT, XR_NOTIME } xres_t;
typedef enum { P_GOOD, P_REFERRAL, P_FAIL, P_ABORT, P_NOTIME } pres_t;

/* One server's failure: its part of the sentence and what it was. */
typedef struct fail {
	char text[PART_MAX];
	caa_diag_kind_t kind;
	int rcode;
	const server_t *srv;
} fail_t;

typedef struct run {
	caa_diag_t *d;
	worker_t *w;
	uint64_t start_us, deadline_us, timeout_ms;
	bool out_of_time;
	char doing[CAA_DNS_NAME_STR_MAX +
	           64];           /* what the diagnosis was doing, for "ran out of time" */
	char bogus[320];          /* the first why_bogus one of our lookups met */
	char side[PART_MAX + 64]; /* a failing server met at a zone that referred */
	fail_t fails[MAX_FAILS];
	char chain[MAX_ALIASES + 1][CAA_DNS_NAME_STR_MAX]; /* CNAME targets diagnosed so far */
	size_t n_chain;
	uint8_t q[512];
	uint8_t buf[PKT_MAX + 1];
	msg_t m;
	zoneset_t cur, next;
} run_t;

static bool aborted(const run_t *r)
{
	return atomic_load(&r->d->stop);
}

static uint64_t left_ms(const run_t *r)
{
	uint64_t now = caa_now_us();
	return now >= r->deadline_us ? 0 : (r->deadline_us - now) / 1000u;
}

static unsigned min_ms(uint64_t a, uint64_t b)
{
	uint64_t m = a < b ? a : b;
	return m > 0x7FFFFFFFu ? 0x7FFFFFFFu : (unsigned)m;
}

static uint16_t new_id(void)
{
	uint16_t id;
	if (getrandom(&id, sizeof(id), GRND_NONBLOCK) != (ssize_t)sizeof(id))
		id = (uint16_t)(caa_now_us() * 2654435761u >> 7);
	return id;
}

/* Checked again at every socket: no path reaches a forbidden address, even
 * one that forgot add_server(). */
static bool may_query(const run_t *r, const server_t *s)
{
	char why[160];
	return caa_dnq_refuses(r->d->dnq, (const struct sockaddr *)&s->sa, why, sizeof(why)) ==
	       NULL;
}

/* Wait for fd (events) or the wake fd for at most ms. Returns 1 ready, 0
 * timeout (or poll() failed: callers then stop waiting), -1 aborted. */
static int wait_fd(run_t *r, int fd, short events, unsigned ms)
{
	struct pollfd pf[2] = {{.fd = fd, .events = events},
	                       {.fd = r->d->wakefd, .events = POLLIN}};
	uint64_t until = caa_now_us() + (uint64_t)ms * 1000u;
	for (;;) {
		uint64_t now = caa_now_us();
		int t = now >= until ? 0 : (int)((until - now + 999) / 1000);
		int n = poll(pf, 2, t);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return 0;
		if (pf[1].revents != 0 || aborted(r))
			return -1;
		if (n > 0)
			return 1;
		if (caa_now_us() >= until)
			return 0;
	}
}

/* ---- UDP ---- */

/* Send q (with id, asking qname qtype) to s up to tries times, each try
 * waiting try_ms for a matching answer; answers with another id or question
 * are ignored. On XR_OK r->m holds the answer. *tries_done counts sends. */
static xres_t udp_exchange(run_t *r, const server_t *s, size_t qlen, uint16_t id, const char *qname,
                           uint16_t qtype, unsigned tries, unsigned try_ms, int *err,
                           unsigned *tries_done)
{
	xres_t res = XR_TIMEOUT;
	*tries_done = 0;
	if (!may_query(r, s)) {
		*err = EACCES;
		return XR_NETERR;
	}
	int fd = socket(s->sa.ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (const struct sockaddr *)&s->sa, s->salen) != 0) {
		*err = errno;
		if (fd >= 0)
			close(fd);
		return *err == ECONNREFUSED ? XR_UNREACH : XR_NETERR;
	}
	for (unsigned t = 0; t < tries && res == XR_TIMEOUT; t++) {
		unsigned ms = min_ms(try_ms, left_ms(r));
		if (ms == 0) {
			res = t == 0 ? XR_NOTIME : XR_TIMEOUT;
			break;
		}
		if (send(fd, r->q, qlen, 0) < 0) {
			*err = errno;
			res = *err == ECONNREFUSED ? XR_UNREACH : XR_NETERR;
			break;
		}
		(*tries_done)++;
		uint64_t until = caa_now_us() + (uint64_t)ms * 1000u;
		for (;;) {
			uint64_t now = caa_now_us();
			if (now >= until)
				break;
			int w = wait_fd(r, fd, POLLIN, (unsigned)((until - now + 999) / 1000));
			if (w == -1) {
				res = XR_ABORT;
				break;
			}
			if (w == 0)
				break;
			ssize_t n = recv(fd, r->buf, PKT_MAX, 0);
			if (n < 0) {
				if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
					continue;
				*err = errno;
				res = *err == ECONNREFUSED ? XR_UNREACH : XR_NETERR;
				break;
			}
			const char *why;
			if (parse_msg(r->buf, (size_t)n, &r->m, &why) != 0) {
				if (n >= 2 && get16(r->buf) == id) {
					res = XR_MALFORMED;
					break;
				}
				continue;
			}
			if (msg_matches(&r->m, id, qname, qtype)) {
				res = XR_OK;
				break;
			}
		}
	}
	close(fd);
	return res;
}

/* ---- TCP ---- */

static xres_t tcp_io(run_t *r, int fd, bool writing, uint8_t *p, size_t n, uint64_t until,
                     char *why, size_t whylen)
{
	size_t done = 0;
	while (done < n) {
		ssize_t k = writing ? send(fd, p + done, n - done, MSG_NOSIGNAL)
		                    : recv(fd, p + done, n - done, 0);
		if (k > 0) {
			done += (size_t)k;
			continue;
		}
		if (k == 0) {
			put(why, whylen, "connection closed before an answer");
			return XR_NETERR;
		}
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN && errno != EWOULDBLOCK) {
			int e = errno;
			put(why, whylen, "%s",
			    e == ECONNRESET || e == EPIPE ? "connection reset"
			    : e == ECONNREFUSED           ? "connection refused"
			                                  : strerror(e));
			return XR_NETERR;
		}
		uint64_t now = caa_now_us();
		int w = now >= until ? 0
		                     : wait_fd(r, fd, writing ? POLLOUT : POLLIN,
		                               (unsigned)((until - now + 999) / 1000));
		if (w == -1)
			return XR_ABORT;
		if (w == 0)
			return XR_TIMEOUT; /* the caller words it */
	}
	return XR_OK;
}

/* One query over TCP (2-octet length framing) within ms. On XR_OK r->m holds
 * the answer; otherwise why says what went wrong. */
static xres_t tcp_exchange(run_t *r, const server_t *s, size_t qlen, uint16_t id, const char *qname,
                           uint16_t qtype, unsigned ms, char *why, size_t whylen)
{
	uint8_t len2[2];
	uint64_t until = caa_now_us() + (uint64_t)ms * 1000u;
	xres_t res;
	if (!may_query(r, s)) {
		put(why, whylen, "the address may not be queried");
		return XR_NETERR;
	}
	int fd = socket(s->sa.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		put(why, whylen, "%s", strerror(errno));
		return XR_NETERR;
	}
	if (connect(fd, (const struct sockaddr *)&s->sa, s->salen) != 0 && errno != EINPROGRESS) {
		int e = errno;
		put(why, whylen, "%s", e == ECONNREFUSED ? "connection refused" : strerror(e));
		close(fd);
		return XR_NETERR;
	}
	int w = wait_fd(r, fd, POLLOUT, ms);
	if (w != 1) {
		close(fd);
		if (w == -1)
			return XR_ABORT;
		put(why, whylen, "no connection within %u ms", ms);
		return XR_TIMEOUT;
	}
	int soerr = 0;
	socklen_t sl = sizeof(soerr);
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) != 0 || soerr != 0) {
		put(why, whylen, "%s",
		    soerr == ECONNREFUSED ? "connection refused"
		    : soerr == ECONNRESET ? "connection reset"
		                          : strerror(soerr != 0 ? soerr : errno));
		close(fd);
		return XR_NETERR;
	}
	uint8_t out[2 + sizeof(r->q)];
	put16(out, (uint16_t)qlen);
	memcpy(out + 2, r->q, qlen);
	res = tcp_io(r, fd, true, out, qlen + 2, until, why, whylen);
	if (res == XR_OK)
		res = tcp_io(r, fd, false, len2, 2, until, why, whylen);
	size_t n = res == XR_OK ? get16(len2) : 0;
	if (res == XR_OK)
		res = tcp_io(r, fd, false, r->buf, n, until, why, whylen);
	close(fd);
	if (res == XR_TIMEOUT)
		put(why, whylen, "no answer within %u ms", ms);
	if (res != XR_OK)
		return res;
	const char *perr;
	if (parse_msg(r->buf, n, &r->m, &perr) != 0) {
		put(why, whylen, "the answer is malformed (%s)", perr);
		return XR_MALFORMED;
	}
	if (!msg_matches(&r->m, id, qname, qtype)) {
		put(why, whylen, "the answer does not match the query");
		return XR_MALFORMED;
	}
	return XR_OK;
}

/* ---- libunbound with a deadline ---- */

static void ub_done(void *arg, int err, struct ub_result *res)
{
	ubq_t *q = arg;
	q->done = true;
	q->err = err;
	if (q->orphan)
		ub_resolve_free(res);
	else
		q->res = res;
}

typedef enum { L_OK, L_ERR, L_TIMEOUT, L_ABORT } lres_t;

/* Resolve name/type through the context's libunbound within ms. On L_OK *out
 * is a result the caller frees; L_ERR writes the libunbound error into why. */
static lres_t ub_lookup(run_t *r, const char *name, int type, unsigned ms, struct ub_result **out,
                        char *why, size_t whylen)
{
	worker_t *wk = r->w;
	*out = NULL;
	/* Forget orphans that have been answered meanwhile. */
	for (ubq_t **pp = &wk->orphans; *pp != NULL;) {
		ubq_t *o = *pp;
		if (o->done) {
			*pp = o->next;
			free(o);
		} else {
			pp = &o->next;
		}
	}
	ubq_t *q = calloc(1, sizeof(*q));
	int id = 0, rc;
	if (q == NULL) {
		put(why, whylen, "out of memory");
		return L_ERR;
	}
	if ((rc = ub_resolve_async(wk->ub, name, type, CAA_DNS_C_IN, q, ub_done, &id)) != 0) {
		put(why, whylen, "%s", ub_strerror(rc));
		free(q);
		return L_ERR;
	}
	uint64_t until = caa_now_us() + (uint64_t)ms * 1000u;
	lres_t res = L_TIMEOUT;
	while (!q->done) {
		uint64_t now = caa_now_us();
		int w = now >= until ? 0
		                     : wait_fd(r, ub_fd(wk->ub), POLLIN,
		                               (unsigned)((until - now + 999) / 1000));
		if (w == 1) {
			ub_process(wk->ub);
			continue;
		}
		res = w == -1 ? L_ABORT : L_TIMEOUT;
		break;
	}
	if (!q->done) {
		if (ub_cancel(wk->ub, id) != 0) {
			q->orphan = true; /* a late callback frees the result */
			q->next = wk->orphans;
			wk->orphans = q;
		} else {
			free(q);
		}
		return res;
	}
	if (q->err != 0) {
		put(why, whylen, "%s", ub_strerror(q->err));
		free(q);
		return L_ERR;
	}
	*out = q->res;
	free(q);
	return L_OK;
}

static unsigned ub_budget(const run_t *r)
{
	return min_ms(UB_BUDGET_MS, left_ms(r) / 2);
}

/* ------------------------------------------------------------------------ */
/* finding servers */

static void server_label(const server_t *s, char *out, size_t cap)
{
	if (s->ns[0] != '\0')
		put(out, cap, "%s (%s)", s->ns, s->addr);
	else
		put(out, cap, "%s", s->addr);
}

/* Add an address of ns to z, unless the configuration forbids it (then it
 * is only named in z->forbidden). Returns false when z is full. */
static bool add_server(const run_t *r, zoneset_t *z, const char *ns, int family, const void *addr)
{
	if (z->n_srv >= MAX_ADDRS)
		return false;
	server_t *s = &z->srv[z->n_srv];
	memset(&s->sa, 0, sizeof(s->sa));
	if (family == AF_INET) {
		struct sockaddr_in *in = (struct sockaddr_in *)&s->sa;
		in->sin_family = AF_INET;
		in->sin_port = htons(53);
		memcpy(&in->sin_addr, addr, 4);
		s->salen = sizeof(*in);
	} else {
		struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&s->sa;
		in6->sin6_family = AF_INET6;
		in6->sin6_port = htons(53);
		memcpy(&in6->sin6_addr, addr, 16);
		s->salen = sizeof(*in6);
	}
	for (size_t i = 0; i < z->n_srv; i++)
		if (z->srv[i].salen == s->salen && memcmp(&z->srv[i].sa, &s->sa, s->salen) == 0)
			return true; /* one address, several names: ask it once */
	char why[160], text[INET6_ADDRSTRLEN];
	if (caa_dnq_refuses(r->d->dnq, (const struct sockaddr *)&s->sa, why, sizeof(why)) != NULL) {
		/* Glue and NS names come from the applicant: never aim at us. */
		inet_ntop(family, addr, text, sizeof(text));
		if (z->n_forbidden++ < MAX_FAILS)
			add(z->forbidden, sizeof(z->forbidden), "%s%s (%s): %s",
			    z->n_forbidden > 1 ? "; " : "", ns, text, why);
		return true;
	}
	inet_ntop(family, addr, s->addr, sizeof(s->addr));
	put(s->ns, sizeof(s->ns), "%s", ns);
	z->n_srv++;
	return true;
}

/* Addresses of z's NS names that came without glue, via libunbound: A for
 * all, AAAA only if no address at all. Returns -1 if aborted. */
static int resolve_servers(run_t *r, zoneset_t *z)
{
	static const int types[2] = {CAA_DNS_T_A, CAA_DNS_T_AAAA};
	for (int t = 0; t < 2 && (t == 0 || z->n_srv == 0); t++) {
		for (size_t i = 0; i < z->n_ns && z->n_srv < MAX_ADDRS; i++) {
			if (z->glued[i])
				continue;
			struct ub_result *res;
			char why[128] = "";
			unsigned ms = ub_budget(r);
			put(r->doing, sizeof(r->doing), "looking up the address of %s", z->ns[i]);
			if (ms == 0) {
				r->out_of_time = true;
				return 0;
			}
			lres_t lr = ub_lookup(r, z->ns[i], types[t], ms, &res, why, sizeof(why));
			if (lr == L_ABORT)
				return -1;
			if (lr != L_OK) {
				put(z->noaddr, sizeof(z->noaddr), "%s %s: %s", z->ns[i],
				    t == 0 ? "A" : "AAAA",
				    lr == L_TIMEOUT ? "no answer in time" : why);
				continue;
			}
			size_t want = types[t] == CAA_DNS_T_A ? 4 : 16;
			for (int k = 0; res->havedata && res->data[k] != NULL; k++)
				if ((size_t)res->len[k] == want)
					add_server(r, z, z->ns[i],
					           types[t] == CAA_DNS_T_A ? AF_INET : AF_INET6,
					           res->data[k]);
			if (!res->havedata)
				put(z->noaddr, sizeof(z->noaddr), "%s %s: %s", z->ns[i],
				    t == 0 ? "A" : "AAAA",
				    res->rcode == 0 ? "no such record" : rcode_name(res->rcode));
			ub_resolve_free(res);
		}
	}
	return 0;
}

/* NS names for owner from a libunbound NS answer into z. */
static void take_ns_answer(const struct ub_result *res, const char *owner, zoneset_t *z)
{
	msg_t *m = malloc(sizeof(*m));
	const char *why;
	z->n_ns = 0;
	if (m == NULL || res->answer_packet == NULL ||
	    parse_msg(res->answer_packet, (size_t)res->answer_len, m, &why) != 0) {
		free(m);
		return;
	}
	char name[CAA_DNS_NAME_STR_MAX];
	for (size_t i = 0; i < m->n_an && z->n_ns < MAX_NS; i++) {
		if (m->an[i].type != CAA_DNS_T_NS ||
		    rr_owner(m, &m->an[i], name, sizeof(name)) != 0 || strcmp(name, owner) != 0)
			continue;
		if (rr_target(m, &m->an[i], z->ns[z->n_ns], CAA_DNS_NAME_STR_MAX) == 0)
			z->glued[z->n_ns++] = false;
	}
	free(m);
}

/* The NS set in tmp becomes zone s in z; the zone found before (parent, or
 * the root when none was) holds its delegation. */
static void enter_zone(zoneset_t *z, const zoneset_t *tmp, const char *s, bool found)
{
	put(z->parent, sizeof(z->parent), "%s", found ? z->zone : ".");
	put(z->zone, sizeof(z->zone), "%s", s);
	for (size_t i = 0; i < tmp->n_ns; i++) {
		memcpy(z->ns[i], tmp->ns[i], CAA_DNS_NAME_STR_MAX);
		z->glued[i] = false;
	}
	z->n_ns = tmp->n_ns;
}

/* Walk down qname from the TLD, asking the resolver for each suffix's NS
 * set, while it answers; the deepest set goes into r->cur. A failure that
 * stops the walk is described in failed. Returns 1 found, 0 nothing, -1
 * aborted. */
static int walk_from_tld(run_t *r, const char *qname, char *failed, size_t failed_cap)
{
	size_t starts[128], n = 0, len = strlen(qname);
	char why[128];
	zoneset_t *z = &r->cur;
	zoneset_t *tmp = &r->next; /* free until the iteration starts */
	bool found = false;
	starts[n++] = 0;
	for (size_t i = 0; i < len && n < 128; i++)
		if (qname[i] == '.') /* never escaped (dnsmsg.h) */
			starts[n++] = i + 1;
	for (size_t k = n; k-- > 0;) { /* the TLD first */
		const char *s = qname + starts[k];
		unsigned ms = ub_budget(r);
		put(r->doing, sizeof(r->doing), "asking the resolver for NS %s", s);
		if (ms == 0) {
			r->out_of_time = true;
			break;
		}
		struct ub_result *res;
		lres_t lr = ub_lookup(r, s, CAA_DNS_T_NS, ms, &res, why, sizeof(why));
		if (lr == L_ABORT)
			return -1;
		if (lr != L_OK) {
			put(failed, failed_cap, "NS %s: %s", s,
			    lr == L_TIMEOUT ? "no answer in time" : why);
			break;
		}
		bool go_on = false;
		if (res->bogus) {
			if (r->bogus[0] == '\0')
				put(r->bogus, sizeof(r->bogus), "libunbound: NS %s is bogus: %s", s,
				    res->why_bogus != NULL ? res->why_bogus : "no reason given");
		} else if (res->rcode == CAA_DNS_R_NOERROR && res->havedata) {
			take_ns_answer(res, s, tmp);
			if (tmp->n_ns > 0) {
				enter_zone(z, tmp, s, found);
				found = go_on = true;
			}
		} else if (res->rcode == CAA_DNS_R_NOERROR) {
			go_on = true; /* NODATA: no zone cut here, look further down */
		}
		ub_resolve_free(res);
		if (!go_on)
			break;
	}
	return found ? 1 : 0;
}

/* Nothing below the root: the root's servers, from the resolver, into
 * r->cur. Returns 1 found, 0 nothing (sentence in out, with failed from the
 * walk), -1 aborted. */
static int start_at_root(run_t *r, const char *qname, const char *failed, char *out, size_t cap)
{
	char why[128];
	zoneset_t *z = &r->cur;
	unsigned ms = ub_budget(r);
	struct ub_result *res = NULL;
	lres_t lr =
	    ms == 0 ? L_TIMEOUT : ub_lookup(r, ".", CAA_DNS_T_NS, ms, &res, why, sizeof(why));
	if (lr == L_ABORT)
		return -1;
	if (lr == L_OK) {
		if (!res->bogus && res->rcode == CAA_DNS_R_NOERROR && res->havedata)
			take_ns_answer(res, ".", z);
		ub_resolve_free(res);
	}
	if (z->n_ns > 0) {
		put(z->zone, sizeof(z->zone), ".");
		return 1;
	}
	put(out, cap,
	    "no diagnosis: the resolver gives the servers of no zone above %s (%s%sNS .: %s)",
	    qname, failed, failed[0] != '\0' ? "; " : "",
	    lr == L_TIMEOUT ? "no answer in time"
	    : lr == L_ERR   ? why
	                    : "no NS set");
	return 0;
}

/* Step 1: the deepest zone libunbound can give the NS set of, walking down
 * from the TLD. Returns 1 found (into r->cur), 0 nothing (sentence in out),
 * -1 aborted. */
static int find_start(run_t *r, const char *qname, char *out, size_t cap)
{
	char failed[PART_MAX] = "";
	memset(&r->cur, 0, sizeof(r->cur));
	int walked = walk_from_tld(r, qname, failed, sizeof(failed));
	if (walked != 0)
		return walked;
	if (r->out_of_time) {
		put(out, cap, "no diagnosis within %llu ms: ran out of time %s",
		    (unsigned long long)r->timeout_ms, r->doing);
		return 0;
	}
	return start_at_root(r, qname, failed, out, cap);
}

/* ------------------------------------------------------------------------ */
/* asking one server */

static const char *lame_from(const zoneset_t *z, char *buf, size_t cap)
{
	if (z->parent[0] != '\0')
		put(buf, cap, "lame delegation from %s", z->parent);
	else
		put(buf, cap, "lame delegation of %s", z->zone);
	return buf;
}

/* The SOA of z at s, one try: 1 authoritative answer, 0 otherwise with the
 * rcode in *rcode (-1: no answer), -1 aborted. */
static int probe_soa(run_t *r, const zoneset_t *z, const server_t *s, int *rcode)
{
	uint16_t id = new_id();
	int err = 0;
	unsigned tries;
	*rcode = -1;
	size_t ql = build_query(r->q, sizeof(r->q), id, z->zone, CAA_DNS_T_SOA, true);
	if (ql == 0)
		return 0;
	xres_t x = udp_exchange(r, s, ql, id, z->zone, CAA_DNS_T_SOA, 1, min_ms(TRY_MS, left_ms(r)),
	                        &err, &tries);
	if (x == XR_ABORT)
		return -1;
	if (x != XR_OK)
		return 0;
	*rcode = r->m.rcode;
	if (r->m.rcode != CAA_DNS_R_NOERROR || !r->m.aa)
		return 0;
	for (size_t i = 0; i < r->m.n_an; i++)
		if (r->m.an[i].type == CAA_DNS_T_SOA)
			return 1;
	return 0;
}

typedef struct verdict {
	int rcode;                         /* of a good answer */
	char target[CAA_DNS_NAME_STR_MAX]; /* a CNAME chain in a good answer ends here ("" none) */
} verdict_t;

static pres_t failed(fail_t *f, caa_diag_kind_t kind, int rcode)
{
	f->kind = kind;
	f->rcode = rcode;
	return P_FAIL;
}

/* A good (AA, NOERROR/NXDOMAIN) answer: follow its CNAME chain; NODATA without
 * SOA and CNAME loops are failures. */
static pres_t classify_good(run_t *r, const char *who, const char *qname, verdict_t *v, fail_t *f)
{
	const msg_t *m = &r->m;
	char owner[CAA_DNS_NAME_STR_MAX], tgt[CAA_DNS_NAME_STR_MAX];
	char(*chain)[CAA_DNS_NAME_STR_MAX] = malloc(CHAIN_MAX * sizeof(*chain));
	size_t n = 1;
	bool has_data = false, has_soa = false;
	if (chain == NULL) {
		put(f->text, PART_MAX, "out of memory");
		return failed(f, CAA_DIAG_INCONCLUSIVE, -1);
	}
	put(chain[0], CAA_DNS_NAME_STR_MAX, "%s", qname);
	for (bool moved = true; moved;) {
		moved = false;
		for (size_t i = 0; i < m->n_an && !moved; i++) {
			const rr_t *a = &m->an[i];
			if (rr_owner(m, a, owner, sizeof(owner)) != 0 ||
			    strcmp(owner, chain[n - 1]) != 0)
				continue;
			if (a->type == CAA_DNS_T_CAA)
				has_data = true;
			if (a->type != CAA_DNS_T_CNAME || rr_target(m, a, tgt, sizeof(tgt)) != 0)
				continue;
			for (size_t k = 0; k < n; k++) {
				if (strcmp(chain[k], tgt) != 0)
					continue;
				put(f->text, PART_MAX, "%s answers with a CNAME loop: %s", who,
				    chain[0]);
				for (size_t j = 1; j < n; j++)
					add(f->text, PART_MAX, " -> %s", chain[j]);
				add(f->text, PART_MAX, " -> %s", tgt);
				free(chain);
				return failed(f, CAA_DIAG_CNAME_LOOP, m->rcode);
			}
			if (n == CHAIN_MAX)
				break;
			memcpy(chain[n++], tgt, CAA_DNS_NAME_STR_MAX);
			has_data = false;
			moved = true;
		}
	}
	for (size_t i = 0; i < m->n_ns; i++)
		if (m->ns[i].type == CAA_DNS_T_SOA)
			has_soa = true;
	v->rcode = m->rcode;
	v->target[0] = '\0';
	if (n > 1 && !has_data) {
		/* The chain leaves the answer: diagnose where it ends. */
		memcpy(v->target, chain[n - 1], CAA_DNS_NAME_STR_MAX);
	} else if (m->rcode == CAA_DNS_R_NOERROR && !has_data && !has_soa) {
		put(f->text, PART_MAX,
		    "%s answered NOERROR without CAA records and without an SOA record to CAA %s "
		    "(NODATA without SOA, RFC 2308)",
		    who, chain[n - 1]);
		free(chain);
		return failed(f, CAA_DIAG_NODATA_WITHOUT_SOA, CAA_DNS_R_NOERROR);
	}
	free(chain);
	return P_GOOD;
}

/* The referral in r->m, if it is one for a zone strictly below z and above
 * qname: fills next (zone, NS names, glue). Returns 1 referral, 0 an NS set
 * that is no downward referral (name in *owner_out), -1 no NS set. */
static int take_referral(run_t *r, const zoneset_t *z, const char *qname, zoneset_t *next,
                         char *owner_out, size_t cap)
{
	const msg_t *m = &r->m;
	char owner[CAA_DNS_NAME_STR_MAX], name[CAA_DNS_NAME_STR_MAX];
	bool any = false;
	next->n_ns = next->n_srv = next->n_forbidden = 0;
	next->noaddr[0] = next->forbidden[0] = '\0';
	for (size_t i = 0; i < m->n_ns; i++) {
		if (m->ns[i].type != CAA_DNS_T_NS ||
		    rr_owner(m, &m->ns[i], owner, sizeof(owner)) != 0)
			continue;
		if (!any)
			put(owner_out, cap, "%s", owner);
		any = true;
		if (strcmp(owner, z->zone) == 0 || !caa_dns_str_is_sub(owner, z->zone) ||
		    !caa_dns_str_is_sub(qname, owner))
			continue;
		if (next->n_ns == 0)
			put(next->zone, sizeof(next->zone), "%s", owner);
		else if (strcmp(next->zone, owner) != 0)
			continue;
		if (next->n_ns < MAX_NS &&
		    rr_target(m, &m->ns[i], next->ns[next->n_ns], CAA_DNS_NAME_STR_MAX) == 0)
			next->glued[next->n_ns++] = false;
	}
	if (next->n_ns == 0)
		return any ? 0 : -1;
	put(next->parent, sizeof(next->parent), "%s", z->zone);
	/* Glue: addresses of the NS names, and only of them. */
	for (size_t i = 0; i < m->n_ar; i++) {
		const rr_t *a = &m->ar[i];
		if ((a->type != CAA_DNS_T_A || a->rdlen != 4) &&
		    (a->type != CAA_DNS_T_AAAA || a->rdlen != 16))
			continue;
		if (rr_owner(m, a, name, sizeof(name)) != 0)
			continue;
		for (size_t k = 0; k < next->n_ns; k++) {
			if (strcmp(next->ns[k], name) != 0)
				continue;
			if (add_server(r, next, name, a->type == CAA_DNS_T_A ? AF_INET : AF_INET6,
			               m->p + a->rdoff))
				next->glued[k] = true;
		}
	}
	return 1;
}

/* After a failing rcode to the CAA query: what the server says to SOA of the
 * zone turns "it fails" into "only this query fails" or "the whole zone". */
static pres_t explain_rcode(run_t *r, const zoneset_t *z, const server_t *s, const char *who,
                            const char *qname, int rc, fail_t *f)
{
	char lame[CAA_DNS_NAME_STR_MAX + 32];
	int soa_rc = -1, soa = 0;
	if ((rc == CAA_DNS_R_REFUSED || rc == CAA_DNS_R_SERVFAIL || rc == CAA_DNS_R_NOTIMP) &&
	    left_ms(r) > 0)
		soa = probe_soa(r, z, s, &soa_rc);
	if (soa < 0)
		return P_ABORT;
	const char *name = rcode_name(rc);
	if (soa == 1) {
		put(f->text, PART_MAX,
		    "%s answered %s to CAA %s (RD=0), though it answers SOA %s%s", who, name, qname,
		    z->zone,
		    rc == CAA_DNS_R_NOTIMP    ? ": it does not implement type CAA (257)"
		    : rc == CAA_DNS_R_REFUSED ? ": it refuses this query only"
		                              : ": only this name or type fails");
	} else if (soa_rc == rc && rc == CAA_DNS_R_REFUSED) {
		put(f->text, PART_MAX,
		    "%s answered REFUSED to CAA %s (RD=0) and to SOA %s: it is not authoritative "
		    "for %s (%s) or it refuses this client",
		    who, qname, z->zone, z->zone, lame_from(z, lame, sizeof(lame)));
	} else if (soa_rc == rc && rc == CAA_DNS_R_SERVFAIL) {
		put(f->text, PART_MAX,
		    "%s answered SERVFAIL to CAA %s (RD=0) and to SOA %s: it fails for the whole "
		    "zone (not loaded, or expired?)",
		    who, qname, z->zone);
	} else if (soa_rc == rc) {
		put(f->text, PART_MAX, "%s answered %s to CAA %s (RD=0) and to SOA %s", who, name,
		    qname, z->zone);
	} else {
		put(f->text, PART_MAX, "%s answered %s to CAA %s (RD=0)", who, name, qname);
	}
	return failed(f, soa_rc == rc && rc == CAA_DNS_R_REFUSED ? CAA_DIAG_LAME : CAA_DIAG_RCODE,
	              rc);
}

/* Classify an answer of s (in r->m) for qname CAA at zone z. */
static pres_t classify(run_t *r, const zoneset_t *z, const server_t *s, const char *who,
                       const char *qname, verdict_t *v, fail_t *f)
{
	const msg_t *m = &r->m;
	char lame[CAA_DNS_NAME_STR_MAX + 32], owner[CAA_DNS_NAME_STR_MAX] = "";
	if (m->rcode != CAA_DNS_R_NOERROR && m->rcode != CAA_DNS_R_NXDOMAIN)
		return explain_rcode(r, z, s, who, qname, m->rcode, f);
	if (m->aa)
		return classify_good(r, who, qname, v, f);
	if (m->rcode == CAA_DNS_R_NOERROR && m->n_an == 0) {
		int ref = take_referral(r, z, qname, &r->next, owner, sizeof(owner));
		if (ref == 1)
			return P_REFERRAL;
		if (ref == 0) {
			put(f->text, PART_MAX,
			    "%s is not authoritative for %s (answered with %s referral to %s, AA "
			    "clear): %s",
			    who, z->zone,
			    caa_dns_str_is_sub(z->zone, owner) ? "an upward" : "a sideways", owner,
			    lame_from(z, lame, sizeof(lame)));
			return failed(f, CAA_DIAG_LAME, CAA_DNS_R_NOERROR);
		}
	}
	put(f->text, PART_MAX, "%s is not authoritative for %s (answered %s without AA%s): %s", who,
	    z->zone, rcode_name(m->rcode), m->ra ? ", RA set" : "",
	    lame_from(z, lame, sizeof(lame)));
	return failed(f, CAA_DIAG_LAME, m->rcode);
}

/* One CAA question to one server, as probe sends it (the query is in r->q). */
typedef struct {
	const server_t *s;
	const char *qname;
	const char *who; /* the server, for sentences */
	size_t ql;
	uint16_t id;
} ask_t;

/* Explain a UDP exchange that brought no answer. A timeout is tried once
 * over TCP: UDP filtered but TCP working is a cause of its own. */
static pres_t udp_failed(run_t *r, const zoneset_t *z, const ask_t *a, xres_t x, int err,
                         unsigned tries, unsigned try_ms, fail_t *f)
{
	char why[160] = "";
	switch (x) {
	case XR_ABORT: return P_ABORT;
	case XR_NOTIME: return P_NOTIME;
	case XR_UNREACH:
		put(f->text, PART_MAX,
		    "%s: no server (ICMP port unreachable / connection refused on UDP port 53)",
		    a->who);
		if (z->parent[0] != '\0')
			add(f->text, PART_MAX,
			    ": the delegation of %s from %s points where nothing listens", z->zone,
			    z->parent);
		return failed(f, CAA_DIAG_UNREACHABLE, -1);
	case XR_NETERR:
		put(f->text, PART_MAX, "%s: cannot be asked: %s", a->who, strerror(err));
		return failed(f, CAA_DIAG_NETWORK, -1);
	case XR_MALFORMED:
		put(f->text, PART_MAX, "%s answered CAA %s with a malformed message", a->who,
		    a->qname);
		return failed(f, CAA_DIAG_MALFORMED, -1);
	case XR_TIMEOUT:
	case XR_OK: break;
	}
	put(f->text, PART_MAX, "%s did not answer within %u ms (UDP), %u %s", a->who, try_ms, tries,
	    tries == 1 ? "try" : "tries");
	unsigned ms = min_ms(TRY_MS, left_ms(r));
	if (ms == 0)
		return failed(f, CAA_DIAG_TIMEOUT, -1);
	x = tcp_exchange(r, a->s, a->ql, a->id, a->qname, CAA_DNS_T_CAA, ms, why, sizeof(why));
	if (x == XR_ABORT)
		return P_ABORT;
	if (x == XR_OK)
		add(f->text, PART_MAX, "; over TCP it answers %s%s", rcode_name(r->m.rcode),
		    r->m.aa ? " (AA)" : " without AA");
	else
		add(f->text, PART_MAX, "; TCP: %s", why);
	return failed(f, CAA_DIAG_TIMEOUT, -1);
}

/* A truncated UDP answer: ask again over TCP. True when r->m then holds a
 * whole answer; false with the outcome in *p. */
static bool refetch_truncated(run_t *r, const ask_t *a, fail_t *f, pres_t *p)
{
	char why[160] = "";
	unsigned ms = min_ms(TRY_MS, left_ms(r));
	xres_t x = ms == 0 ? XR_TIMEOUT
	                   : tcp_exchange(r, a->s, a->ql, a->id, a->qname, CAA_DNS_T_CAA, ms, why,
	                                  sizeof(why));
	if (x == XR_ABORT) {
		*p = P_ABORT;
		return false;
	}
	if (x != XR_OK) {
		put(f->text, PART_MAX, "%s answered truncated (TC) over UDP and TCP failed: %s",
		    a->who, ms == 0 ? "no time left to try" : why);
		*p = failed(f, CAA_DIAG_TRUNCATED, -1);
		return false;
	}
	if (r->m.tc) {
		put(f->text, PART_MAX, "%s answered truncated (TC) over UDP and over TCP", a->who);
		*p = failed(f, CAA_DIAG_TRUNCATED, -1);
		return false;
	}
	return true;
}

/* FORMERR to an EDNS query: an EDNS-intolerant server? Ask the old way once;
 * either way the server fails. */
static pres_t formerr_without_edns(run_t *r, const ask_t *a, fail_t *f)
{
	int err = 0;
	unsigned tries = 0;
	uint16_t id = new_id();
	size_t ql = build_query(r->q, sizeof(r->q), id, a->qname, CAA_DNS_T_CAA, false);
	xres_t x = udp_exchange(r, a->s, ql, id, a->qname, CAA_DNS_T_CAA, 1,
	                        min_ms(TRY_MS, left_ms(r)), &err, &tries);
	if (x == XR_ABORT)
		return P_ABORT;
	if (x != XR_OK || r->m.rcode == CAA_DNS_R_FORMERR) {
		put(f->text, PART_MAX, "%s answered FORMERR to CAA %s (RD=0)%s", a->who, a->qname,
		    x == XR_OK ? ", with and without EDNS" : "");
		return failed(f, CAA_DIAG_RCODE, CAA_DNS_R_FORMERR);
	}
	put(f->text, PART_MAX,
	    "%s answered FORMERR to CAA %s with EDNS; without EDNS it answers %s", a->who, a->qname,
	    rcode_name(r->m.rcode));
	return failed(f, CAA_DIAG_RCODE, CAA_DNS_R_FORMERR);
}

/* Ask s for qname CAA and classify (see diagnose.h). */
static pres_t probe(run_t *r, const zoneset_t *z, const server_t *s, const char *qname,
                    verdict_t *v, fail_t *f)
{
	char who[CAA_DNS_NAME_STR_MAX + 64];
	int err = 0;
	unsigned tries = 0;
	ask_t a = {.s = s, .qname = qname, .who = who, .id = new_id()};
	server_label(s, who, sizeof(who));
	put(r->doing, sizeof(r->doing), "asking %s", who);
	a.ql = build_query(r->q, sizeof(r->q), a.id, qname, CAA_DNS_T_CAA, true);
	if (a.ql == 0) {
		put(f->text, PART_MAX, "cannot build a query for %s", qname);
		return failed(f, CAA_DIAG_INCONCLUSIVE, -1);
	}
	unsigned try_ms = min_ms(TRY_MS, left_ms(r));
	xres_t x =
	    udp_exchange(r, s, a.ql, a.id, qname, CAA_DNS_T_CAA, UDP_TRIES, try_ms, &err, &tries);
	if (x != XR_OK)
		return udp_failed(r, z, &a, x, err, tries, try_ms, f);
	pres_t p;
	if (r->m.tc && !refetch_truncated(r, &a, f, &p))
		return p;
	if (r->m.rcode == CAA_DNS_R_FORMERR)
		return formerr_without_edns(r, &a, f);
	return classify(r, z, s, who, qname, v, f);
}

/* ------------------------------------------------------------------------ */
/* the iteration */

static int diagnose_name(run_t *r, const char *qname, caa_diag_result_t *res);

static void inconclusive(const run_t *r, caa_diag_result_t *res)
{
	res->kind = CAA_DIAG_INCONCLUSIVE;
	put(res->cause, sizeof(res->cause), "no diagnosis within %llu ms: ran out of time %s",
	    (unsigned long long)r->timeout_ms, r->doing);
}

/* A CNAME chain leaving the answer: diagnose its target in turn. */
static int follow_alias(run_t *r, const char *qname, const char *target, caa_diag_result_t *res)
{
	char *sub;
	for (size_t i = 0; i < r->n_chain; i++) {
		if (strcmp(r->chain[i], target) != 0)
			continue;
		res->kind = CAA_DIAG_CNAME_LOOP;
		put(res->cause, sizeof(res->cause), "CNAME loop across zones: %s", r->chain[0]);
		for (size_t k = 1; k < r->n_chain; k++)
			add(res->cause, sizeof(res->cause), " -> %s", r->chain[k]);
		add(res->cause, sizeof(res->cause), " -> %s", target);
		return 0;
	}
	if (r->n_chain > MAX_ALIASES) {
		res->kind = CAA_DIAG_INCONCLUSIVE;
		put(res->cause, sizeof(res->cause),
		    "%s is an alias (CNAME) of %s; more than %d aliases in a row", qname, target,
		    MAX_ALIASES);
		return 0;
	}
	put(r->chain[r->n_chain++], CAA_DNS_NAME_STR_MAX, "%s", target);
	char prefix[2 * CAA_DNS_NAME_STR_MAX + 40];
	put(prefix, sizeof(prefix), "%s is an alias (CNAME) of %s: ", qname, target);
	if (diagnose_name(r, r->chain[r->n_chain - 1], res) != 0)
		return -1;
	if ((sub = strdup(res->cause)) == NULL)
		return -1;
	put(res->cause, sizeof(res->cause), "%s%s", prefix, sub);
	free(sub);
	return 0;
}

/* The verdict on the zone that did not refer, from its servers' outcomes. */
static int conclude(run_t *r, const char *qname, size_t nf, size_t ngood, size_t asked,
                    const server_t *good_srv, const verdict_t *good, caa_diag_result_t *res)
{
	const zoneset_t *z = &r->cur;
	char *out = res->cause, first_good[CAA_DNS_NAME_STR_MAX + 64] = "";
	size_t cap = sizeof(res->cause);
	if (good_srv != NULL)
		server_label(good_srv, first_good, sizeof(first_good));
	put(res->zone, sizeof(res->zone), "%s", z->zone);
	res->failed = (unsigned)nf;
	res->asked = (unsigned)asked;
	out[0] = '\0';
	if (nf > 0) {
		res->kind = r->fails[0].kind;
		res->rcode = r->fails[0].rcode;
		put(res->server, sizeof(res->server), "%s", r->fails[0].srv->addr);
		for (size_t i = 0; i < nf && i < MAX_FAILS; i++)
			add(out, cap, "%s%s", i > 0 ? "; " : "", r->fails[i].text);
		if (ngood > 0)
			add(out, cap, "; %zu of %zu servers of %s %s, %s answers %s", nf, asked,
			    z->zone, nf == 1 ? "fails" : "fail", first_good,
			    rcode_name(good->rcode));
		else if (asked == 2)
			add(out, cap, " (both servers of %s fail)", z->zone);
		else if (asked > 2)
			add(out, cap, " (all %zu servers of %s asked fail)", asked, z->zone);
		if (asked < z->n_srv)
			add(out, cap, "; ran out of time before asking the other %zu servers",
			    z->n_srv - asked);
		if (z->n_forbidden > 0)
			add(out, cap, "; not asked: %s", z->forbidden);
		return 0;
	}
	if (ngood == 0) {
		inconclusive(r, res);
		return 0;
	}
	if (good->target[0] != '\0')
		return follow_alias(r, qname, good->target, res);
	res->kind = CAA_DIAG_ANSWERS;
	res->rcode = good->rcode;
	put(res->server, sizeof(res->server), "%s", good_srv->addr);
	put(out, cap,
	    "the authoritative servers of %s (%s %s%s) answer %s to CAA %s: the failure is in "
	    "DNSSEC validation or in the resolver",
	    z->zone, good_srv->ns[0] != '\0' ? good_srv->ns : "at", good_srv->addr,
	    ngood > 1 ? " and the others" : "", rcode_name(good->rcode), qname);
	if (r->bogus[0] != '\0')
		add(out, cap, " (%s)", r->bogus);
	if (r->side[0] != '\0')
		add(out, cap, "; on the way, %s", r->side);
	if (z->n_forbidden > 0)
		add(out, cap, "; not asked: %s", z->forbidden);
	return 0;
}

static void no_address(const zoneset_t *z, caa_diag_result_t *res)
{
	if (z->n_forbidden > 0) {
		res->kind = CAA_DIAG_FORBIDDEN;
		put(res->zone, sizeof(res->zone), "%s", z->zone);
		put(res->cause, sizeof(res->cause),
		    "not asked: every server address of %s is one caad must not query (%s)",
		    z->zone, z->forbidden);
		if (z->noaddr[0] != '\0')
			add(res->cause, sizeof(res->cause), "; %s", z->noaddr);
		return;
	}
	res->kind = CAA_DIAG_NO_ADDRESS;
	put(res->zone, sizeof(res->zone), "%s", z->zone);
	put(res->cause, sizeof(res->cause), "no address for any server of %s (", z->zone);
	for (size_t i = 0; i < z->n_ns; i++)
		add(res->cause, sizeof(res->cause), "%s%s", i > 0 ? ", " : "", z->ns[i]);
	add(res->cause, sizeof(res->cause), "): no glue from %s and the lookups failed (%s)",
	    z->parent[0] != '\0' ? z->parent : "the parent", z->noaddr);
}

/* Diagnose qname CAA from scratch (steps 1-3) into res. Returns 0, or -1
 * when aborted. */
static int diagnose_name(run_t *r, const char *qname, caa_diag_result_t *res)
{
	int st = find_start(r, qname, res->cause, sizeof(res->cause));
	res->kind = CAA_DIAG_INCONCLUSIVE;
	res->rcode = -1;
	res->failed = res->asked = 0;
	res->zone[0] = res->server[0] = '\0';
	if (st <= 0)
		return st;
	for (unsigned hop = 0; hop <= MAX_HOPS; hop++) {
		zoneset_t *z = &r->cur;
		if (resolve_servers(r, z) < 0)
			return -1;
		if (z->n_srv == 0) {
			if (r->out_of_time)
				inconclusive(r, res);
			else
				no_address(z, res);
			return 0;
		}
		size_t nf = 0, ngood = 0, asked = 0;
		const server_t *good_srv = NULL;
		verdict_t good = {0}, v;
		fail_t f;
		bool referred = false;
		for (size_t i = 0; i < z->n_srv && !referred; i++) {
			memset(&v, 0, sizeof(v));
			memset(&f, 0, sizeof(f));
			f.srv = &z->srv[i];
			pres_t p = probe(r, z, &z->srv[i], qname, &v, &f);
			if (p == P_ABORT)
				return -1;
			if (p == P_NOTIME) {
				r->out_of_time = true;
				break;
			}
			asked++;
			if (p == P_REFERRAL) {
				referred = true;
			} else if (p == P_FAIL) {
				if (nf < MAX_FAILS)
					r->fails[nf] = f;
				nf++;
			} else if (ngood++ == 0) {
				good_srv = &z->srv[i];
				good = v;
			}
		}
		if (!referred)
			return conclude(r, qname, nf, ngood, asked, good_srv, &good, res);
		if (nf > 0 && r->side[0] == '\0')
			put(r->side, sizeof(r->side), "%s", r->fails[0].text);
		if (hop == MAX_HOPS)
			break;
		memcpy(&r->cur, &r->next, sizeof(r->cur));
	}
	put(res->cause, sizeof(res->cause),
	    "more than %d referrals below the zone the resolver found for %s", MAX_HOPS, qname);
	return 0;
}

static caa_diag_result_t *run_job(worker_t *w, const job_t *j)
{
	run_t *r = calloc(1, sizeof(*r));
	caa_diag_result_t *res = calloc(1, sizeof(*res));
	if (r == NULL || res == NULL) {
		free(r);
		free(res);
		return NULL;
	}
	r->d = w->d;
	r->w = w;
	r->timeout_ms = j->timeout_ms;
	r->start_us = caa_now_us();
	r->deadline_us = j->deadline_us;
	if (left_ms(r) < START_MIN_MS) {
		/* Its time went by in the queue: say so rather than start late. */
		res->kind = CAA_DIAG_INCONCLUSIVE;
		res->rcode = -1;
		put(res->cause, sizeof(res->cause),
		    "no diagnosis within %llu ms: it waited %llu ms for one of the %d diagnosis "
		    "workers, all busy",
		    (unsigned long long)j->timeout_ms,
		    (unsigned long long)((r->start_us - j->queued_us) / 1000u), CAA_DIAG_WORKERS);
		free(r);
		return res;
	}
	put(r->chain[r->n_chain++], CAA_DNS_NAME_STR_MAX, "%s", j->name);
	int rc = diagnose_name(r, j->name, res);
	free(r);
	if (rc != 0) {
		free(res);
		return NULL;
	}
	return res;
}

const char *caa_diag_kind_name(caa_diag_kind_t kind)
{
	switch (kind) {
	case CAA_DIAG_INCONCLUSIVE: return "INCONCLUSIVE";
	case CAA_DIAG_ANSWERS: return "ANSWERS";
	case CAA_DIAG_RCODE: return "RCODE";
	case CAA_DIAG_LAME: return "LAME";
	case CAA_DIAG_TIMEOUT: return "TIMEOUT";
	case CAA_DIAG_UNREACHABLE: return "UNREACHABLE";
	case CAA_DIAG_NETWORK: return "NETWORK";
	case CAA_DIAG_TRUNCATED: return "TRUNCATED";
	case CAA_DIAG_MALFORMED: return "MALFORMED";
	case CAA_DIAG_NODATA_WITHOUT_SOA: return "NODATA_WITHOUT_SOA";
	case CAA_DIAG_CNAME_LOOP: return "CNAME_LOOP";
	case CAA_DIAG_NO_ADDRESS: return "NO_ADDRESS";
	case CAA_DIAG_FORBIDDEN: return "FORBIDDEN";
	}
	return "UNKNOWN";
}

/* ------------------------------------------------------------------------ */
/* the queue and the thread */

static void *diag_thread(void *arg)
{
	worker_t *w = arg;
	caa_diag_t *d = w->d;
	pthread_mutex_lock(&d->lock);
	for (;;) {
		while (d->head == NULL && !d->stopping)
			pthread_cond_wait(&d->cond, &d->lock);
		job_t *j = d->head;
		if (j == NULL)
			break; /* stopping, nothing left */
		d->head = j->next;
		if (d->head == NULL)
			d->tail = &d->head;
		bool stopping = d->stopping;
		pthread_mutex_unlock(&d->lock);
		caa_diag_result_t *res = stopping ? NULL : run_job(w, j);
		j->cb(j->arg, res);
		free(j->name);
		free(j);
		pthread_mutex_lock(&d->lock);
		d->pending--;
	}
	pthread_mutex_unlock(&d->lock);
	return NULL;
}

/* A worker's libunbound context, configured as the climb's. */
static int worker_ub(caa_diag_t *d, worker_t *w, char *err, size_t errlen)
{
	int rc;
	w->d = d;
	if ((w->ub = ub_ctx_create()) == NULL) {
		caa_set_err(err, errlen, "cannot create the diagnosis resolver context");
		return CAA_ENOMEM;
	}
	/* As the climb's context (climb.c): threads, not a forked helper. */
	if ((rc = ub_ctx_async(w->ub, 1)) != 0) {
		caa_set_err(err, errlen, "dns: ub_ctx_async: %s", ub_strerror(rc));
		return CAA_EDNS;
	}
	/* Same resolver settings as the climb's (minimisation off: it would only
	 * add queries to the very servers we suspect). */
	return caa_ubconf_apply(w->ub, d->cfg, err, errlen);
}

int caa_diag_new(const caa_config_t *cfg, caa_diag_t **out, char *err, size_t errlen)
{
	int rc;
	if (out == NULL)
		return CAA_EINVAL;
	*out = NULL;
	if (cfg == NULL) {
		caa_set_err(err, errlen, "no config");
		return CAA_EINVAL;
	}
	caa_diag_t *d = calloc(1, sizeof(*d));
	if (d == NULL) {
		caa_set_err(err, errlen, "out of memory");
		return CAA_ENOMEM;
	}
	d->cfg = cfg;
	d->tail = &d->head;
	d->wakefd = -1;
	atomic_init(&d->stop, false);
	pthread_mutex_init(&d->lock, NULL);
	pthread_cond_init(&d->cond, NULL);
	d->wakefd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (d->wakefd < 0) {
		caa_set_err(err, errlen, "cannot create the diagnosis wake-up: %s",
		            strerror(errno));
		caa_diag_free(d);
		return CAA_ENOMEM;
	}
	for (size_t i = 0; i < CAA_DIAG_WORKERS; i++) {
		if ((rc = worker_ub(d, &d->workers[i], err, errlen)) != CAA_EOK) {
			caa_diag_free(d);
			return rc;
		}
	}
	/* What the configuration forbids libunbound, our own queries obey too. */
	if ((rc = caa_ubconf_donotquery(d->workers[0].ub, &d->dnq, err, errlen)) != CAA_EOK) {
		caa_diag_free(d);
		return rc;
	}
	for (size_t i = 0; i < CAA_DIAG_WORKERS; i++) {
		worker_t *w = &d->workers[i];
		if ((rc = pthread_create(&w->thread, NULL, diag_thread, w)) != 0) {
			caa_set_err(err, errlen, "cannot start a diagnosis thread: %s",
			            strerror(rc));
			caa_diag_free(d);
			return CAA_ENOMEM;
		}
		w->started = true;
	}
	*out = d;
	return CAA_EOK;
}

void caa_diag_free(caa_diag_t *d)
{
	if (d == NULL)
		return;
	pthread_mutex_lock(&d->lock);
	d->stopping = true;
	atomic_store(&d->stop, true);
	pthread_cond_broadcast(&d->cond);
	pthread_mutex_unlock(&d->lock);
	if (d->wakefd >= 0) {
		uint64_t one = 1;
		ssize_t n = write(d->wakefd, &one, sizeof(one));
		(void)n; /* a full eventfd is readable anyway */
	}
	for (size_t i = 0; i < CAA_DIAG_WORKERS; i++)
		if (d->workers[i].started)
			pthread_join(d->workers[i].thread, NULL);
	for (size_t i = 0; i < CAA_DIAG_WORKERS; i++) {
		worker_t *w = &d->workers[i];
		if (w->ub != NULL)
			ub_ctx_delete(w->ub); /* no callback after this */
		while (w->orphans != NULL) {
			ubq_t *o = w->orphans;
			w->orphans = o->next;
			free(o); /* an orphan never holds a result: its callback frees it */
		}
	}
	caa_dnq_free(d->dnq);
	if (d->wakefd >= 0)
		close(d->wakefd);
	pthread_cond_destroy(&d->cond);
	pthread_mutex_destroy(&d->lock);
	free(d);
}

/* Copy name lowercased without the trailing dot, if it looks like a domain
 * name: 1-253 octets, labels of 1-63 printable ASCII characters. */
static char *copy_name(const char *name)
{
	size_t len = name != NULL ? strlen(name) : 0;
	if (len > 1 && name[len - 1] == '.')
		len--;
	if (len == 0 || len > 253)
		return NULL;
	size_t label = 0;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)name[i];
		if (c <= 0x20 || c >= 0x7F || c == '\\')
			return NULL;
		if (c == '.') {
			if (label == 0)
				return NULL;
			label = 0;
		} else if (++label > 63) {
			return NULL;
		}
	}
	if (label == 0)
		return NULL;
	char *s = malloc(len + 1);
	if (s == NULL)
		return NULL;
	for (size_t i = 0; i < len; i++)
		s[i] = (char)(name[i] >= 'A' && name[i] <= 'Z' ? name[i] - 'A' + 'a' : name[i]);
	s[len] = '\0';
	return s;
}

int caa_diag_start(caa_diag_t *d, const char *name, uint64_t timeout_ms, caa_diag_cb cb, void *arg)
{
	if (d == NULL || cb == NULL || name == NULL)
		return CAA_EINVAL;
	job_t *j = calloc(1, sizeof(*j));
	if (j == NULL)
		return CAA_ENOMEM;
	j->name = copy_name(name);
	if (j->name == NULL) {
		free(j);
		return CAA_EINVAL;
	}
	if (timeout_ms == 0)
		timeout_ms = d->cfg->dns.timeout_ms;
	if (timeout_ms == 0 || timeout_ms > CAA_DIAG_MAX_TIMEOUT_MS)
		timeout_ms = CAA_DIAG_MAX_TIMEOUT_MS;
	j->timeout_ms = timeout_ms;
	j->queued_us = caa_now_us();
	j->deadline_us = j->queued_us + timeout_ms * 1000u;
	j->cb = cb;
	j->arg = arg;
	int rc = CAA_EOK;
	pthread_mutex_lock(&d->lock);
	if (d->stopping)
		rc = CAA_ESHUTDOWN;
	else if (d->pending >= CAA_DIAG_MAX_QUEUE)
		rc = CAA_EBUSY;
	if (rc == CAA_EOK) {
		*d->tail = j;
		d->tail = &j->next;
		d->pending++;
		pthread_cond_signal(&d->cond);
	}
	pthread_mutex_unlock(&d->lock);
	if (rc != CAA_EOK) {
		free(j->name);
		free(j);
	}
	return rc;
}

typedef struct sync_wait {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	bool done;
	caa_diag_result_t *res;
} sync_wait_t;

static void sync_cb(void *arg, caa_diag_result_t *res)
{
	sync_wait_t *w = arg;
	pthread_mutex_lock(&w->lock);
	w->res = res;
	w->done = true;
	pthread_cond_signal(&w->cond);
	pthread_mutex_unlock(&w->lock);
}

int caa_diag_run(caa_diag_t *d, const char *name, uint64_t timeout_ms, caa_diag_result_t **out)
{
	if (out == NULL)
		return CAA_EINVAL;
	*out = NULL;
	if (d == NULL)
		return CAA_EINVAL;
	for (size_t i = 0; i < CAA_DIAG_WORKERS; i++)
		if (d->workers[i].started && pthread_equal(pthread_self(), d->workers[i].thread))
			return CAA_EINVAL; /* would wait for itself */
	sync_wait_t w = {.done = false, .res = NULL};
	pthread_mutex_init(&w.lock, NULL);
	pthread_cond_init(&w.cond, NULL);
	int rc = caa_diag_start(d, name, timeout_ms, sync_cb, &w);
	if (rc == CAA_EOK) {
		pthread_mutex_lock(&w.lock);
		while (!w.done)
			pthread_cond_wait(&w.cond, &w.lock);
		pthread_mutex_unlock(&w.lock);
		*out = w.res;
		if (w.res == NULL)
			rc = atomic_load(&d->stop) ? CAA_ESHUTDOWN : CAA_ENOMEM;
	}
	pthread_cond_destroy(&w.cond);
	pthread_mutex_destroy(&w.lock);
	return rc;
}
