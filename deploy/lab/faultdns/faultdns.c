/*
 * faultdns.c — caa-faultdns, the DNS lab's fault-injecting authoritative server.
 *
 * One process, one poll loop, UDP and TCP on many addresses. Each address is a
 * "server" with its own zones and an ordered list of rules saying how to misbehave
 * (first match wins): answer normally, SERVFAIL, REFUSED, NOTIMP, FORMERR, drop,
 * truncate (TC over UDP, reset over TCP), flap between SERVFAIL and a good answer,
 * refer upwards to the root (the lame server resolvers recognise),
 * answer without the SOA in NODATA or without the AA bit, after a delay, and
 * REFUSED beyond N queries in progress. Real servers (NSD) serve the well-behaved
 * zones; this one serves what no real server will.
 *
 * The configuration is JSON written by deploy/lab/labgen.py from the scenario
 * catalogue: names as absolute presentation strings, RDATA as hex wire format, so
 * this program needs no zone-file parser. Every query is logged as one line:
 *
 *   <unix time.usec> <server address> <udp|tcp> <qname> <qtype> <result> [key=value ...]
 *
 * result is an RCODE name, DROP or RESET; keys: aa tc an ns ar, busy=1 (REFUSED for
 * being over max_inflight), health=1, delay (ms), inflight (answers waiting for their
 * delay when the query arrived), rule (index of the matching rule, -1: none), client.
 *
 * A CHAOS TXT query for health.caa-faultdns. is answered on every address whatever
 * its rules say, so `caa-lab up` can see that a dropping server is alive.
 *
 *   caa-faultdns -c faultdns.json [-p PIDFILE] [-l QUERYLOG] [--check]
 *
 * SIGTERM/SIGINT stop it (removing the pidfile), SIGHUP reopens the query log.
 *
 * Queries are read and replies written with libcaa's DNS message layer
 * (lib/dnsmsg.h), the same code caad reads replies with.
 */
#define _GNU_SOURCE /* ppoll */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "codes.h"
#include "dnsmsg.h"

#define MAX_CONNS    512
#define TCP_IDLE_MS  10000
#define MAX_PENDING  65536
#define FLAP_BUCKETS 1024

/* Short names for dnsmsg.h's constants. */

enum action {
	ACT_ANSWER,
	ACT_SERVFAIL,
	ACT_REFUSED,
	ACT_NOTIMP,
	ACT_FORMERR,
	ACT_DROP,
	ACT_TC,
	ACT_RESET,
	ACT_FLAP,
	ACT_UPWARD
};

static const char *const action_names[] = {
    [ACT_ANSWER] = "answer", [ACT_SERVFAIL] = "servfail", [ACT_REFUSED] = "refused",
    [ACT_NOTIMP] = "notimp", [ACT_FORMERR] = "formerr",   [ACT_DROP] = "drop",
    [ACT_TC] = "tc",         [ACT_RESET] = "reset",       [ACT_FLAP] = "flap",
    [ACT_UPWARD] = "upward",
};

enum proto { P_ANY = 0, P_UDP = 1, P_TCP = 2 };

struct rr {
	char *owner; /* lowercase, absolute, trailing dot */
	uint8_t owner_wire[CAA_DNS_NAME_MAX];
	uint16_t type;
	uint32_t ttl;
	uint8_t *rdata;
	uint16_t rdlen;
};

struct zone {
	char *origin;
	struct rr *rrs;
	size_t n_rrs;
	const struct rr *soa;
};

struct rule {
	char *qname; /* exact match, or NULL */
	char *under; /* qname at or below this name, or NULL */
	int qtype;   /* -1: any */
	enum proto proto;
	enum action action;
	int delay_ms;    /* -1: the server's */
	bool aa;         /* answer: set AA */
	bool ra;         /* set RA: with aa false, a recursive server answering for a zone
	                  * it was delegated but does not serve (lame, RFC 1912 §2.8) */
	bool nodata_soa; /* answer: put the SOA in NODATA responses */
};

struct server {
	char *name;
	char addr_str[INET6_ADDRSTRLEN + 8];
	struct sockaddr_storage addr;
	socklen_t addrlen;
	int udp_fd, tcp_fd;
	int delay_ms;
	int max_inflight; /* 0: unlimited */
	int inflight;     /* answers waiting for their delay */
	struct rule *rules;
	size_t n_rules;
	struct zone *zones;
	size_t n_zones;
	uint32_t flap[FLAP_BUCKETS];
};

struct conn {
	int fd; /* -1: free slot */
	size_t srv;
	unsigned gen;
	uint8_t *in;
	size_t inlen;
	uint8_t *out;
	size_t outlen, outcap;
	int64_t last_ms;
};

struct pending {
	int64_t due_ms;
	size_t srv;
	enum proto proto;
	/* UDP */
	struct sockaddr_storage peer;
	socklen_t peerlen;
	/* TCP */
	size_t conn;
	unsigned gen;
	uint8_t *msg;
	size_t len;
};

static struct server *servers;
static size_t n_servers;
static struct conn conns[MAX_CONNS];
static struct pending *heap[MAX_PENDING];
static size_t n_heap;
static int log_fd = -1;
static char *log_path;
static char *pid_path;
static volatile sig_atomic_t got_term, got_hup;

/* ---- small utilities ---- */

__attribute__((format(printf, 1, 2), noreturn)) static void die(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fputs("caa-faultdns: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	exit(2);
}

__attribute__((format(printf, 1, 2))) static void warnmsg(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fputs("caa-faultdns: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
}

static void *xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);
	if (p == NULL)
		die("out of memory");
	return p;
}

static void *xcalloc(size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size ? size : 1);
	if (p == NULL)
		die("out of memory");
	return p;
}

static char *xstrdup(const char *s)
{
	char *d = strdup(s);
	if (d == NULL)
		die("out of memory");
	return d;
}

static int64_t mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)((p[0] << 8) | p[1]);
}

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static uint32_t get32(const uint8_t *p)
{
	return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
}

/* ---- names ----
 * Names are handled as absolute presentation strings in dnsmsg.h's form
 * ("www.x.lab.", "."): lowercase, '.', '\\' and unprintable octets as \DDD,
 * so '.' only ever separates labels and a suffix comparison at a '.' boundary
 * (caa_dns_str_is_sub) is a subdomain test. */

/* The name at off in msg (compression followed) in presentation form.
 * Returns 0 or -1. */
static int name_str_at(const uint8_t *msg, size_t len, size_t off, char *out, size_t outsz)
{
	uint8_t w[CAA_DNS_NAME_MAX];
	if (caa_dns_name_read(msg, len, off, w, NULL) < 0 ||
	    caa_dns_name_str(w, out, outsz, CAA_DNS_STR_ABSOLUTE) < 0)
		return -1;
	return 0;
}

/* The parent of a name ("x.lab." → "lab.", "lab." → "."), NULL for the root. */
static const char *parent(const char *name)
{
	if (strcmp(name, ".") == 0)
		return NULL;
	const char *dot = strchr(name, '.');
	return dot[1] ? dot + 1 : ".";
}

/* Normalise a configured name: dnsmsg.h's presentation form, absolute. */
static char *norm_name(const char *s, const char *where)
{
	uint8_t w[CAA_DNS_NAME_MAX];
	char text[CAA_DNS_NAME_STR_MAX];
	if (*s == '\0' || caa_dns_name_from_str(s, w) < 0 ||
	    caa_dns_name_str(w, text, sizeof(text), CAA_DNS_STR_ABSOLUTE) < 0)
		die("%s: bad name \"%s\"", where, s);
	return xstrdup(text);
}

static const char *type_name(uint16_t t, char *buf)
{
	return caa_dns_type_str(t, buf);
}

static const char *rcode_name(int rc)
{
	static char buf[CAA_DNS_MNEMONIC_MAX];
	return caa_dns_rcode_str((unsigned)rc, buf);
}

/* ---- configuration ---- */

static const char *jstr(json_t *obj, const char *key, const char *where, bool required)
{
	json_t *v = json_object_get(obj, key);
	if (v == NULL || json_is_null(v)) {
		if (required)
			die("%s: missing \"%s\"", where, key);
		return NULL;
	}
	if (!json_is_string(v))
		die("%s.%s: must be a string", where, key);
	return json_string_value(v);
}

static long jint(json_t *obj, const char *key, const char *where, long dflt, long lo, long hi)
{
	json_t *v = json_object_get(obj, key);
	if (v == NULL || json_is_null(v))
		return dflt;
	if (!json_is_integer(v))
		die("%s.%s: must be an integer", where, key);
	long x = (long)json_integer_value(v);
	if (x < lo || x > hi)
		die("%s.%s: %ld is outside %ld..%ld", where, key, x, lo, hi);
	return x;
}

static bool jbool(json_t *obj, const char *key, const char *where, bool dflt)
{
	json_t *v = json_object_get(obj, key);
	if (v == NULL || json_is_null(v))
		return dflt;
	if (!json_is_boolean(v))
		die("%s.%s: must be true or false", where, key);
	return json_is_true(v);
}

static void check_keys(json_t *obj, const char *where, const char *const *allowed)
{
	const char *key;
	json_t *v;
	if (!json_is_object(obj))
		die("%s: must be an object", where);
	json_object_foreach(obj, key, v)
	{
		bool ok = false;
		for (const char *const *a = allowed; *a; a++)
			ok = ok || strcmp(*a, key) == 0;
		if (!ok)
			die("%s: unknown key \"%s\"", where, key);
	}
}

static int hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static void load_zone(struct zone *z, json_t *jz, const char *where)
{
	static const char *const zkeys[] = {"origin", "records", NULL};
	static const char *const rkeys[] = {"owner", "type", "ttl", "rdata", NULL};
	char w[1024];

	check_keys(jz, where, zkeys);
	z->origin = norm_name(jstr(jz, "origin", where, true), where);
	json_t *recs = json_object_get(jz, "records");
	if (!json_is_array(recs))
		die("%s.records: must be an array", where);
	z->n_rrs = json_array_size(recs);
	z->rrs = xcalloc(z->n_rrs, sizeof(*z->rrs));
	for (size_t i = 0; i < z->n_rrs; i++) {
		json_t *jr = json_array_get(recs, i);
		struct rr *r = &z->rrs[i];
		snprintf(w, sizeof(w), "%s.records[%zu]", where, i);
		check_keys(jr, w, rkeys);
		r->owner = norm_name(jstr(jr, "owner", w, true), w);
		if (caa_dns_name_from_str(r->owner, r->owner_wire) < 0)
			die("%s: bad owner %s", w, r->owner);
		if (!caa_dns_str_is_sub(r->owner, z->origin))
			die("%s: owner %s is outside zone %s", w, r->owner, z->origin);
		if (json_object_get(jr, "type") == NULL)
			die("%s: missing \"type\"", w);
		r->type = (uint16_t)jint(jr, "type", w, 0, 1, 65535);
		r->ttl = (uint32_t)jint(jr, "ttl", w, 300, 0, 2147483647L);
		const char *hex = jstr(jr, "rdata", w, true);
		size_t hl = strlen(hex);
		if (hl % 2 != 0 || hl / 2 > 65535)
			die("%s.rdata: odd or oversized hex", w);
		r->rdlen = (uint16_t)(hl / 2);
		r->rdata = xmalloc(r->rdlen);
		for (size_t k = 0; k < r->rdlen; k++) {
			int hi = hexval(hex[2 * k]), lo = hexval(hex[2 * k + 1]);
			if (hi < 0 || lo < 0)
				die("%s.rdata: not hex", w);
			r->rdata[k] = (uint8_t)(hi << 4 | lo);
		}
		if (r->type == CAA_DNS_T_SOA && strcmp(r->owner, z->origin) == 0) {
			if (r->rdlen < 22)
				die("%s: SOA RDATA too short", w);
			z->soa = r;
		}
	}
	if (z->soa == NULL)
		die("%s: zone %s has no SOA at its apex", where, z->origin);
}

static enum action parse_action(const char *s, const char *where)
{
	for (size_t i = 0; i < sizeof(action_names) / sizeof(action_names[0]); i++)
		if (strcmp(s, action_names[i]) == 0)
			return (enum action)i;
	die("%s.action: unknown action \"%s\"", where, s);
}

static void load_rule(struct rule *r, json_t *jr, const char *where)
{
	static const char *const keys[] = {"qname",      "under",    "qtype", "proto",
	                                   "action",     "delay_ms", "aa",    "ra",
	                                   "nodata_soa", "comment",  NULL};
	check_keys(jr, where, keys);
	const char *s = jstr(jr, "qname", where, false);
	r->qname = s ? norm_name(s, where) : NULL;
	s = jstr(jr, "under", where, false);
	r->under = s ? norm_name(s, where) : NULL;
	r->qtype = (int)jint(jr, "qtype", where, -1, 0, 65535);
	s = jstr(jr, "proto", where, false);
	if (s == NULL)
		r->proto = P_ANY;
	else if (strcmp(s, "udp") == 0)
		r->proto = P_UDP;
	else if (strcmp(s, "tcp") == 0)
		r->proto = P_TCP;
	else
		die("%s.proto: \"udp\" or \"tcp\"", where);
	r->action = parse_action(jstr(jr, "action", where, true), where);
	r->delay_ms = (int)jint(jr, "delay_ms", where, -1, 0, 600000);
	r->aa = jbool(jr, "aa", where, true);
	r->ra = jbool(jr, "ra", where, false);
	r->nodata_soa = jbool(jr, "nodata_soa", where, true);
}

static void parse_addr(struct server *s, const char *addr, long port, const char *where)
{
	memset(&s->addr, 0, sizeof(s->addr));
	struct sockaddr_in *a4 = (struct sockaddr_in *)&s->addr;
	struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)&s->addr;
	if (inet_pton(AF_INET, addr, &a4->sin_addr) == 1) {
		a4->sin_family = AF_INET;
		a4->sin_port = htons((uint16_t)port);
		s->addrlen = sizeof(*a4);
	} else if (inet_pton(AF_INET6, addr, &a6->sin6_addr) == 1) {
		a6->sin6_family = AF_INET6;
		a6->sin6_port = htons((uint16_t)port);
		s->addrlen = sizeof(*a6);
	} else {
		die("%s.address: \"%s\" is not an IP address", where, addr);
	}
	snprintf(s->addr_str, sizeof(s->addr_str), "%s", addr);
}

static void load_config(const char *path)
{
	static const char *const top_keys[] = {"log", "pidfile", "servers", "comment", NULL};
	static const char *const srv_keys[] = {"name",     "address",      "port",
	                                       "delay_ms", "max_inflight", "rules",
	                                       "zones",    "comment",      NULL};
	json_error_t err;
	json_t *root = json_load_file(path, 0, &err);
	char w[512];

	if (root == NULL)
		die("%s:%d: %s", path, err.line, err.text);
	check_keys(root, path, top_keys);
	const char *s = jstr(root, "log", path, false);
	if (s && !log_path)
		log_path = xstrdup(s);
	s = jstr(root, "pidfile", path, false);
	if (s && !pid_path)
		pid_path = xstrdup(s);

	json_t *js = json_object_get(root, "servers");
	if (!json_is_array(js) || json_array_size(js) == 0)
		die("%s: \"servers\" must be a non-empty array", path);
	n_servers = json_array_size(js);
	servers = xcalloc(n_servers, sizeof(*servers));
	for (size_t i = 0; i < n_servers; i++) {
		json_t *jv = json_array_get(js, i);
		struct server *sv = &servers[i];
		snprintf(w, sizeof(w), "servers[%zu]", i);
		check_keys(jv, w, srv_keys);
		sv->name = xstrdup(jstr(jv, "name", w, true));
		snprintf(w, sizeof(w), "servers[%zu] (%s)", i, sv->name);
		parse_addr(sv, jstr(jv, "address", w, true), jint(jv, "port", w, 53, 1, 65535), w);
		sv->delay_ms = (int)jint(jv, "delay_ms", w, 0, 0, 600000);
		sv->max_inflight = (int)jint(jv, "max_inflight", w, 0, 0, MAX_PENDING);
		sv->udp_fd = sv->tcp_fd = -1;

		json_t *jr = json_object_get(jv, "rules");
		if (jr != NULL && !json_is_array(jr))
			die("%s.rules: must be an array", w);
		sv->n_rules = jr ? json_array_size(jr) : 0;
		sv->rules = xcalloc(sv->n_rules, sizeof(*sv->rules));
		for (size_t k = 0; k < sv->n_rules; k++) {
			char wr[600];
			snprintf(wr, sizeof(wr), "%s.rules[%zu]", w, k);
			load_rule(&sv->rules[k], json_array_get(jr, k), wr);
		}

		json_t *jz = json_object_get(jv, "zones");
		if (jz != NULL && !json_is_array(jz))
			die("%s.zones: must be an array", w);
		sv->n_zones = jz ? json_array_size(jz) : 0;
		sv->zones = xcalloc(sv->n_zones, sizeof(*sv->zones));
		for (size_t k = 0; k < sv->n_zones; k++) {
			char wz[600];
			snprintf(wz, sizeof(wz), "%s.zones[%zu]", w, k);
			load_zone(&sv->zones[k], json_array_get(jz, k), wz);
		}
	}
	for (size_t i = 0; i < n_servers; i++)
		for (size_t k = i + 1; k < n_servers; k++)
			if (servers[i].addrlen == servers[k].addrlen &&
			    memcmp(&servers[i].addr, &servers[k].addr, servers[i].addrlen) == 0)
				die("servers %s and %s use the same address and port",
				    servers[i].name, servers[k].name);
	json_decref(root);
}

/* ---- the query log ---- */

static void log_open(void)
{
	if (log_path == NULL)
		return;
	int fd = open(log_path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
	if (fd < 0) {
		warnmsg("cannot open query log %s: %s", log_path, strerror(errno));
		return;
	}
	if (log_fd >= 0)
		close(log_fd);
	log_fd = fd;
}

static void format_peer(const struct sockaddr_storage *ss, char *buf, size_t sz)
{
	char ip[INET6_ADDRSTRLEN] = "?";
	unsigned port = 0;
	if (ss->ss_family == AF_INET) {
		const struct sockaddr_in *a = (const struct sockaddr_in *)ss;
		inet_ntop(AF_INET, &a->sin_addr, ip, sizeof(ip));
		port = ntohs(a->sin_port);
	} else if (ss->ss_family == AF_INET6) {
		const struct sockaddr_in6 *a = (const struct sockaddr_in6 *)ss;
		inet_ntop(AF_INET6, &a->sin6_addr, ip, sizeof(ip));
		port = ntohs(a->sin6_port);
	}
	snprintf(buf, sz, "%s:%u", ip, port);
}

/* What happened to one query, for the log line. */
struct outcome {
	const char *result; /* RCODE name, DROP, RESET */
	bool aa, tc, busy, health;
	unsigned an, ns, ar;
	int delay_ms;
	int inflight;
	int rule; /* index of the matching rule, -1: none */
};

static void log_query(const struct server *sv, enum proto proto, const char *qname, int qtype,
                      const struct sockaddr_storage *peer, const struct outcome *o)
{
	if (log_fd < 0)
		return;
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	char line[CAA_DNS_NAME_STR_MAX + 512], tbuf[CAA_DNS_MNEMONIC_MAX],
	    pbuf[INET6_ADDRSTRLEN + 8];
	format_peer(peer, pbuf, sizeof(pbuf));
	int n = snprintf(
	    line, sizeof(line), "%lld.%06ld %s %s %s %s %s aa=%d tc=%d an=%u ns=%u ar=%u",
	    (long long)ts.tv_sec, ts.tv_nsec / 1000, sv->addr_str, proto == P_TCP ? "tcp" : "udp",
	    qname, qtype < 0 ? "-" : type_name((uint16_t)qtype, tbuf), o->result, o->aa, o->tc,
	    o->an, o->ns, o->ar);
	if (n < 0 || (size_t)n >= sizeof(line))
		return;
	size_t len = (size_t)n;
	int m = snprintf(line + len, sizeof(line) - len,
	                 "%s%s delay=%d inflight=%d rule=%d client=%s\n", o->busy ? " busy=1" : "",
	                 o->health ? " health=1" : "", o->delay_ms, o->inflight, o->rule, pbuf);
	if (m < 0 || (size_t)m >= sizeof(line) - len)
		return;
	len += (size_t)m;
	/* One write per line with O_APPEND: lines never interleave, and a reader
	 * (or `: > log` truncation) sees whole lines. */
	if (write(log_fd, line, len) < 0) {
		/* nothing useful to do: the answer matters more than the log */
	}
}

/* ---- building responses ---- */

struct msgbuf {
	uint8_t b[65535];
	caa_dns_wr_t w;
};

/* A record from a zone in section s; owner_wire replaces its owner (wildcards,
 * the query name as asked). */
static void mb_zone_rr(struct msgbuf *m, caa_dns_section_t s, const struct rr *r,
                       const uint8_t *owner_wire, uint32_t ttl_cap)
{
	uint32_t ttl = r->ttl < ttl_cap ? r->ttl : ttl_cap;
	/* a record that does not fit sets overflow: the answer goes out truncated */
	(void)caa_dns_wr_rr(&m->w, s, owner_wire ? owner_wire : r->owner_wire, r->type,
	                    CAA_DNS_C_IN, ttl, r->rdata, r->rdlen);
}

/* The parsed query. */
struct query {
	caa_dns_hdr_t hdr;
	char qname[CAA_DNS_NAME_STR_MAX];
	uint8_t qwire[CAA_DNS_NAME_MAX]; /* the name as asked (case kept) */
	int qtype, qclass;
	bool edns;
	uint16_t edns_size;
	bool edns_do;
};

/* Parse a query. Returns 0, or an RCODE to answer with (FORMERR, NOTIMP), or -1
 * to ignore the packet entirely (not a query, too short to answer). */
static int parse_query(const uint8_t *pkt, size_t len, struct query *q)
{
	caa_dns_msg_t m;
	size_t next;
	memset(q, 0, sizeof(*q));
	q->qtype = q->qclass = -1;
	strcpy(q->qname, "-");
	if (caa_dns_hdr_read(pkt, len, &q->hdr) != CAA_EOK || q->hdr.qr)
		return -1; /* too short, or a response: never answer those */
	if (q->hdr.count[CAA_DNS_QUESTION] != 1)
		return CAA_DNS_R_FORMERR;
	if (caa_dns_name_read_raw(pkt, len, CAA_DNS_HDR_LEN, q->qwire, &next) < 0 ||
	    next + 4 > len ||
	    caa_dns_name_str(q->qwire, q->qname, sizeof(q->qname), CAA_DNS_STR_ABSOLUTE) < 0) {
		strcpy(q->qname, "-");
		return CAA_DNS_R_FORMERR;
	}
	q->qtype = get16(pkt + next);
	q->qclass = get16(pkt + next + 2);
	if (q->hdr.opcode != CAA_DNS_OP_QUERY)
		return CAA_DNS_R_NOTIMP;
	/* The rest (normally an OPT record alone): well-formed, one OPT at most. */
	if (caa_dns_msg_parse(&m, pkt, len, NULL) != CAA_EOK)
		return CAA_DNS_R_FORMERR;
	q->edns = m.edns;
	q->edns_size = m.edns_udp;
	q->edns_do = m.edns_do;
	return 0;
}

/* Header and question of a response: QR, the query's opcode, RD and CD. */
static void mb_start(struct msgbuf *m, const struct query *q, int rcode, bool aa)
{
	caa_dns_hdr_t h = {.id = q->hdr.id,
	                   .qr = true,
	                   .opcode = q->hdr.opcode,
	                   .aa = aa,
	                   .rd = q->hdr.rd,
	                   .cd = q->hdr.cd,
	                   .rcode = (uint8_t)rcode};
	caa_dns_wr_init(&m->w, m->b, sizeof(m->b), &h);
	if (q->qtype >= 0)
		(void)caa_dns_wr_question(&m->w, q->qwire, (uint16_t)q->qtype, (uint16_t)q->qclass);
}

static void mb_finish(struct msgbuf *m, const struct query *q)
{
	if (q->edns)
		(void)caa_dns_wr_opt(&m->w, CAA_DNS_EDNS_UDP, 0, false);
	caa_dns_wr_finish(&m->w);
}

/* ---- authoritative lookup ---- */

static const struct zone *find_zone(const struct server *sv, const char *qname)
{
	const struct zone *best = NULL;
	for (size_t i = 0; i < sv->n_zones; i++)
		if (caa_dns_str_is_sub(qname, sv->zones[i].origin) &&
		    (best == NULL || strlen(sv->zones[i].origin) > strlen(best->origin)))
			best = &sv->zones[i];
	return best;
}

static bool has_type(const struct zone *z, const char *owner, int type)
{
	for (size_t i = 0; i < z->n_rrs; i++)
		if ((type < 0 || z->rrs[i].type == type) && strcmp(z->rrs[i].owner, owner) == 0)
			return true;
	return false;
}

/* Does the name exist (own records, or an empty non-terminal above some)? */
static bool name_exists(const struct zone *z, const char *name)
{
	for (size_t i = 0; i < z->n_rrs; i++)
		if (caa_dns_str_is_sub(z->rrs[i].owner, name))
			return true;
	return false;
}

static uint32_t soa_negative_ttl(const struct zone *z)
{
	uint32_t minimum = get32(z->soa->rdata + z->soa->rdlen - 4);
	return z->soa->ttl < minimum ? z->soa->ttl : minimum;
}

static void add_soa(struct msgbuf *m, const struct zone *z)
{
	mb_zone_rr(m, CAA_DNS_AUTHORITY, z->soa, NULL, soa_negative_ttl(z));
}

static void add_rrset(struct msgbuf *m, caa_dns_section_t s, const struct zone *z,
                      const char *owner, int type, const uint8_t *owner_wire)
{
	for (size_t i = 0; i < z->n_rrs; i++)
		if (strcmp(z->rrs[i].owner, owner) == 0 &&
		    (type == CAA_DNS_T_ANY || z->rrs[i].type == type))
			mb_zone_rr(m, s, &z->rrs[i], owner_wire, UINT32_MAX);
}

/* Glue for the NS RRset at owner: A/AAAA of targets inside the zone. */
static void add_glue(struct msgbuf *m, const struct zone *z, const char *owner)
{
	for (size_t i = 0; i < z->n_rrs; i++) {
		const struct rr *ns = &z->rrs[i];
		if (ns->type != CAA_DNS_T_NS || strcmp(ns->owner, owner) != 0)
			continue;
		char target[CAA_DNS_NAME_STR_MAX];
		if (name_str_at(ns->rdata, ns->rdlen, 0, target, sizeof(target)) < 0)
			continue;
		if (!caa_dns_str_is_sub(target, z->origin))
			continue;
		for (size_t k = 0; k < z->n_rrs; k++)
			if ((z->rrs[k].type == CAA_DNS_T_A || z->rrs[k].type == CAA_DNS_T_AAAA) &&
			    strcmp(z->rrs[k].owner, target) == 0)
				mb_zone_rr(m, CAA_DNS_ADDITIONAL, &z->rrs[k], NULL, UINT32_MAX);
	}
}

/* DNAME (RFC 6672) at n, above the query name: the DNAME, and a CNAME
 * synthesised for qname. Returns the RCODE. */
static int answer_dname(const struct zone *z, const char *n, const struct query *q,
                        struct msgbuf *m)
{
	const struct rr *dn = NULL;
	for (size_t i = 0; i < z->n_rrs && !dn; i++)
		if (z->rrs[i].type == CAA_DNS_T_DNAME && strcmp(z->rrs[i].owner, n) == 0)
			dn = &z->rrs[i];
	mb_zone_rr(m, CAA_DNS_ANSWER, dn, NULL, UINT32_MAX);
	char target[CAA_DNS_NAME_STR_MAX], synth[2 * CAA_DNS_NAME_STR_MAX];
	if (name_str_at(dn->rdata, dn->rdlen, 0, target, sizeof(target)) < 0)
		return CAA_DNS_R_SERVFAIL;
	size_t keep = strlen(q->qname) - strlen(n); /* "www." of www.<owner> */
	snprintf(synth, sizeof(synth), "%.*s%s", (int)keep, q->qname,
	         strcmp(target, ".") == 0 ? "" : target);
	uint8_t sw[CAA_DNS_NAME_MAX];
	int wl = caa_dns_name_from_str(synth, sw);
	if (wl < 0)
		return CAA_DNS_R_YXDOMAIN; /* the synthesised name would be too long */
	(void)caa_dns_wr_rr(&m->w, CAA_DNS_ANSWER, q->qwire, CAA_DNS_T_CNAME, CAA_DNS_C_IN, dn->ttl,
	                    sw, (size_t)wl);
	return CAA_DNS_R_NOERROR;
}

/* Answer from the server's zones (RFC 1034 §4.3.2, minus in-zone CNAME chasing,
 * which resolvers do themselves). Returns the RCODE; sets *aa. */
static int lookup(const struct server *sv, const struct rule *rule, const struct query *q,
                  struct msgbuf *m, bool *aa)
{
	const struct zone *z = find_zone(sv, q->qname);
	const uint8_t *qwire = q->qwire;
	caa_dns_wr_t *w = &m->w;

	*aa = false;
	if (z == NULL)
		return CAA_DNS_R_REFUSED; /* not ours: what a lame server says */

	/* Walk down from just below the apex: a delegation or a DNAME on the way wins. */
	const char *labels[128] = {NULL}; /* a name has at most 127 labels */
	size_t depth = 0;
	for (const char *n = q->qname; n && strcmp(n, z->origin) != 0; n = parent(n))
		if (depth < 128)
			labels[depth++] = n;
	for (size_t d = depth; d-- > 0;) {
		const char *n = labels[d];
		bool at_qname = (d == 0);
		if (has_type(z, n, CAA_DNS_T_NS) && !(at_qname && q->qtype == CAA_DNS_T_DS)) {
			/* Referral: the child's NS set, glue, no AA. */
			add_rrset(m, CAA_DNS_AUTHORITY, z, n, CAA_DNS_T_NS, NULL);
			add_glue(m, z, n);
			return CAA_DNS_R_NOERROR;
		}
		if (!at_qname && has_type(z, n, CAA_DNS_T_DNAME)) {
			*aa = rule->aa;
			return answer_dname(z, n, q, m);
		}
	}

	*aa = rule->aa;
	const char *owner = q->qname;
	if (!has_type(z, owner, -1)) {
		if (name_exists(z, owner)) {
			/* empty non-terminal: NODATA */
			if (rule->nodata_soa)
				add_soa(m, z);
			return CAA_DNS_R_NOERROR;
		}
		/* Wildcard at the closest encloser (RFC 4592). */
		const char *ce = parent(owner);
		while (ce && !name_exists(z, ce) && strcmp(ce, z->origin) != 0)
			ce = parent(ce);
		static char wild[CAA_DNS_NAME_STR_MAX + 2];
		snprintf(wild, sizeof(wild), "*.%s", ce && strcmp(ce, ".") != 0 ? ce : "");
		if (ce == NULL || !has_type(z, wild, -1)) {
			add_soa(m, z);
			return CAA_DNS_R_NXDOMAIN;
		}
		owner = wild; /* synthesised records carry the query name */
	}
	if (q->qtype != CAA_DNS_T_CNAME && has_type(z, owner, CAA_DNS_T_CNAME)) {
		add_rrset(m, CAA_DNS_ANSWER, z, owner, CAA_DNS_T_CNAME, qwire);
		return CAA_DNS_R_NOERROR;
	}
	add_rrset(m, CAA_DNS_ANSWER, z, owner, q->qtype, qwire);
	if (w->hdr.count[CAA_DNS_ANSWER] == 0 && rule->nodata_soa)
		add_soa(m, z);
	return CAA_DNS_R_NOERROR;
}

/* ---- deciding what to do with a query ---- */

static const struct rule default_rule = {NULL, NULL, -1, P_ANY, ACT_ANSWER, -1, true, false, true};

static const struct rule *match_rule(const struct server *sv, const struct query *q,
                                     enum proto proto, int *index)
{
	for (size_t i = 0; i < sv->n_rules; i++) {
		const struct rule *r = &sv->rules[i];
		if (r->proto != P_ANY && r->proto != proto)
			continue;
		if (r->qtype >= 0 && r->qtype != q->qtype)
			continue;
		if (r->qname && strcmp(r->qname, q->qname) != 0)
			continue;
		if (r->under && !caa_dns_str_is_sub(q->qname, r->under))
			continue;
		*index = (int)i;
		return r;
	}
	*index = -1;
	return &default_rule;
}

static uint32_t fnv1a(const char *s, int qtype)
{
	uint32_t h = 2166136261u;
	for (; *s; s++)
		h = (h ^ (uint8_t)*s) * 16777619u;
	h = (h ^ (uint8_t)qtype) * 16777619u;
	return (h ^ (uint8_t)(qtype >> 8)) * 16777619u;
}

/* The health probe (CH TXT health.caa-faultdns.): bypasses every rule. */
static bool is_health_probe(const struct query *q)
{
	return q->qclass == CAA_DNS_C_CH && q->qtype == CAA_DNS_T_TXT &&
	       strcmp(q->qname, "health.caa-faultdns.") == 0;
}

static void answer_health(const struct server *sv, const struct query *q, struct msgbuf *m,
                          struct outcome *o)
{
	uint8_t txt[256];
	int tl = snprintf((char *)txt + 1, sizeof(txt) - 1, "ok %s", sv->name);
	txt[0] = (uint8_t)(tl > 254 ? 254 : tl);
	mb_start(m, q, CAA_DNS_R_NOERROR, true);
	(void)caa_dns_wr_rr(&m->w, CAA_DNS_ANSWER, q->qwire, CAA_DNS_T_TXT, CAA_DNS_C_CH, 0, txt,
	                    (size_t)txt[0] + 1);
	mb_finish(m, q);
	o->result = "NOERROR";
	o->aa = o->health = true;
	o->an = 1;
}

/* The rule's action for this query; a flapping rule picks one per query. */
static enum action rule_action(struct server *sv, const struct rule *r, const struct query *q)
{
	if (r->action != ACT_FLAP)
		return r->action;
	/* Per (qname, qtype): first SERVFAIL, then a good answer, and so on, so
	 * one resolver retry sees the good answer whatever else is asked. */
	uint32_t *c = &sv->flap[fnv1a(q->qname, q->qtype) % FLAP_BUCKETS];
	return ((*c)++ % 2 == 0) ? ACT_SERVFAIL : ACT_ANSWER;
}

/* Lame: not authoritative, "ask the root" (NS at or above the delegation
 * point, AA clear), which resolvers classify as a lame answer. */
static void answer_upward(struct msgbuf *m, const struct query *q)
{
	static const uint8_t root = 0;
	uint8_t target[CAA_DNS_NAME_MAX];
	int tl = caa_dns_name_from_str("a.root-servers.lab-root.", target);
	mb_start(m, q, CAA_DNS_R_NOERROR, false);
	(void)caa_dns_wr_rr(&m->w, CAA_DNS_AUTHORITY, &root, CAA_DNS_T_NS, CAA_DNS_C_IN, 86400,
	                    target, (size_t)tl);
	mb_finish(m, q);
}

/* An honest answer from the server's zones, truncated (TC) when it does not
 * fit the transport. Returns the RCODE. */
static int answer_from_zones(const struct server *sv, const struct rule *r, const struct query *q,
                             enum proto proto, struct msgbuf *m, struct outcome *o)
{
	bool aa = false;
	mb_start(m, q, CAA_DNS_R_NOERROR, false);
	int rc = lookup(sv, r, q, m, &aa);
	if (rc == CAA_DNS_R_REFUSED) {
		mb_start(m, q, rc, false);
	} else {
		m->w.hdr.aa = aa;
		m->w.hdr.rcode = (uint8_t)rc;
	}
	if (r->ra)
		m->w.hdr.ra = true;
	mb_finish(m, q);
	size_t limit = 65535;
	if (proto == P_UDP) {
		limit = q->edns ? (q->edns_size < 512 ? 512 : q->edns_size) : 512;
		if (limit > CAA_DNS_EDNS_UDP)
			limit = CAA_DNS_EDNS_UDP;
	}
	if (m->w.overflow || m->w.len > limit) {
		caa_dns_wr_truncate(&m->w);
		mb_finish(m, q);
		o->tc = true;
	}
	return rc;
}

/* The answer act calls for (anything but drop and reset). Returns the RCODE. */
static int answer_action(const struct server *sv, const struct rule *r, enum action act,
                         const struct query *q, enum proto proto, struct msgbuf *m,
                         struct outcome *o)
{
	int rc;
	bool aa = false;
	switch (act) {
	case ACT_SERVFAIL: rc = CAA_DNS_R_SERVFAIL; break;
	case ACT_REFUSED: rc = CAA_DNS_R_REFUSED; break;
	case ACT_NOTIMP: rc = CAA_DNS_R_NOTIMP; break;
	case ACT_FORMERR: rc = CAA_DNS_R_FORMERR; break;
	case ACT_TC:
		rc = CAA_DNS_R_NOERROR;
		aa = true;
		break;
	case ACT_UPWARD: rc = CAA_DNS_R_NOERROR; break;
	default: rc = -1; break;
	}
	if (act == ACT_UPWARD) {
		answer_upward(m, q);
	} else if (rc >= 0) {
		mb_start(m, q, rc, aa);
		if (act == ACT_TC) {
			/* TC=1 and nothing else, on whichever transport the rule matches
			 * (over TCP no honest server does this). */
			m->w.hdr.tc = true;
			o->tc = true;
		}
		mb_finish(m, q);
	} else if (q->qclass != CAA_DNS_C_IN) {
		rc = CAA_DNS_R_REFUSED;
		mb_start(m, q, rc, false);
		mb_finish(m, q);
	} else {
		rc = answer_from_zones(sv, r, q, proto, m, o);
	}
	return rc;
}

/* Build the answer to one query into m. Returns false when nothing is to be
 * sent (drop, reset); o says what happened. */
static bool handle_query(struct server *sv, const uint8_t *pkt, size_t len, enum proto proto,
                         const struct sockaddr_storage *peer, struct msgbuf *m, struct outcome *o)
{
	struct query q;
	int prc = parse_query(pkt, len, &q);

	memset(o, 0, sizeof(*o));
	o->rule = -1;
	o->inflight = sv->inflight;
	if (prc < 0) {
		o->result = "DROP";
		log_query(sv, proto, q.qname, q.qtype, peer, o);
		return false;
	}
	if (prc > 0) {
		mb_start(m, &q, prc, false);
		mb_finish(m, &q);
		o->result = rcode_name(prc);
		log_query(sv, proto, q.qname, q.qtype, peer, o);
		return true;
	}
	if (is_health_probe(&q)) {
		answer_health(sv, &q, m, o);
		log_query(sv, proto, q.qname, q.qtype, peer, o);
		return true;
	}

	const struct rule *r = match_rule(sv, &q, proto, &o->rule);
	enum action act = rule_action(sv, r, &q);
	o->delay_ms = r->delay_ms >= 0 ? r->delay_ms : sv->delay_ms;

	if (act == ACT_DROP || (act == ACT_RESET && proto == P_UDP)) {
		o->result = "DROP";
		log_query(sv, proto, q.qname, q.qtype, peer, o);
		return false;
	}
	if (act == ACT_RESET) {
		o->result = "RESET";
		log_query(sv, proto, q.qname, q.qtype, peer, o);
		return false;
	}
	if (sv->max_inflight > 0 && o->delay_ms > 0 && sv->inflight >= sv->max_inflight) {
		/* Flood protection: beyond N queries in progress, refuse at once. */
		mb_start(m, &q, CAA_DNS_R_REFUSED, false);
		mb_finish(m, &q);
		o->result = "REFUSED";
		o->busy = true;
		o->delay_ms = 0;
		log_query(sv, proto, q.qname, q.qtype, peer, o);
		return true;
	}

	int rc = answer_action(sv, r, act, &q, proto, m, o);
	o->result = rcode_name(rc);
	o->aa = m->w.hdr.aa;
	o->an = m->w.hdr.count[CAA_DNS_ANSWER];
	o->ns = m->w.hdr.count[CAA_DNS_AUTHORITY];
	o->ar = m->w.hdr.count[CAA_DNS_ADDITIONAL];
	log_query(sv, proto, q.qname, q.qtype, peer, o);
	return true;
}

/* ---- delayed answers: a binary min-heap on due time ---- */

static void heap_push(struct pending *p)
{
	size_t i = n_heap++;
	heap[i] = p;
	while (i > 0 && heap[(i - 1) / 2]->due_ms > heap[i]->due_ms) {
		struct pending *t = heap[i];
		heap[i] = heap[(i - 1) / 2];
		heap[(i - 1) / 2] = t;
		i = (i - 1) / 2;
	}
}

static struct pending *heap_pop(void)
{
	struct pending *top = heap[0];
	heap[0] = heap[--n_heap];
	size_t i = 0;
	for (;;) {
		size_t l = 2 * i + 1, r = l + 1, s = i;
		if (l < n_heap && heap[l]->due_ms < heap[s]->due_ms)
			s = l;
		if (r < n_heap && heap[r]->due_ms < heap[s]->due_ms)
			s = r;
		if (s == i)
			break;
		struct pending *t = heap[i];
		heap[i] = heap[s];
		heap[s] = t;
		i = s;
	}
	return top;
}

/* ---- TCP connections ---- */

static void conn_close(size_t ci, bool reset)
{
	struct conn *c = &conns[ci];
	if (c->fd < 0)
		return;
	if (reset) {
		/* SO_LINGER 0: close sends RST, as a server that gave up on TCP would. */
		struct linger lg = {1, 0};
		setsockopt(c->fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
	}
	close(c->fd);
	free(c->in);
	free(c->out);
	c->fd = -1;
	c->in = c->out = NULL;
	c->inlen = c->outlen = c->outcap = 0;
	c->gen++;
}

static void conn_flush(size_t ci)
{
	struct conn *c = &conns[ci];
	while (c->outlen > 0) {
		ssize_t w = send(c->fd, c->out, c->outlen, MSG_NOSIGNAL);
		if (w < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
				return;
			conn_close(ci, false);
			return;
		}
		memmove(c->out, c->out + w, c->outlen - (size_t)w);
		c->outlen -= (size_t)w;
	}
}

static void conn_send(size_t ci, const uint8_t *msg, size_t len)
{
	struct conn *c = &conns[ci];
	if (c->fd < 0)
		return;
	if (c->outlen + len + 2 > c->outcap) {
		size_t cap = (c->outlen + len + 2) * 2;
		uint8_t *nb = realloc(c->out, cap);
		if (nb == NULL) {
			conn_close(ci, true);
			return;
		}
		c->out = nb;
		c->outcap = cap;
	}
	put16(c->out + c->outlen, (uint16_t)len);
	memcpy(c->out + c->outlen + 2, msg, len);
	c->outlen += len + 2;
	conn_flush(ci);
}

/* ---- dispatch ---- */

static void answer(size_t si, enum proto proto, const uint8_t *pkt, size_t len,
                   const struct sockaddr_storage *peer, socklen_t peerlen, size_t ci)
{
	static struct msgbuf m;
	struct outcome o;
	struct server *sv = &servers[si];

	if (!handle_query(sv, pkt, len, proto, peer, &m, &o)) {
		if (proto == P_TCP && strcmp(o.result, "RESET") == 0)
			conn_close(ci, true);
		return;
	}
	if (o.delay_ms > 0 && n_heap < MAX_PENDING) {
		struct pending *p = xcalloc(1, sizeof(*p));
		p->due_ms = mono_ms() + o.delay_ms;
		p->srv = si;
		p->proto = proto;
		p->peer = *peer;
		p->peerlen = peerlen;
		p->conn = ci;
		p->gen = proto == P_TCP ? conns[ci].gen : 0;
		p->msg = xmalloc(m.w.len);
		memcpy(p->msg, m.b, m.w.len);
		p->len = m.w.len;
		heap_push(p);
		sv->inflight++;
		return;
	}
	if (proto == P_UDP)
		sendto(sv->udp_fd, m.b, m.w.len, 0, (const struct sockaddr *)peer, peerlen);
	else
		conn_send(ci, m.b, m.w.len);
}

static void fire_due(void)
{
	int64_t now = mono_ms();
	while (n_heap > 0 && heap[0]->due_ms <= now) {
		struct pending *p = heap_pop();
		struct server *sv = &servers[p->srv];
		sv->inflight--;
		if (p->proto == P_UDP)
			sendto(sv->udp_fd, p->msg, p->len, 0, (const struct sockaddr *)&p->peer,
			       p->peerlen);
		else if (conns[p->conn].fd >= 0 && conns[p->conn].gen == p->gen)
			conn_send(p->conn, p->msg, p->len);
		free(p->msg);
		free(p);
	}
}

static void udp_readable(size_t si)
{
	static uint8_t buf[65536];
	for (int i = 0; i < 64; i++) { /* bounded, so TCP and timers are not starved */
		struct sockaddr_storage peer;
		socklen_t pl = sizeof(peer);
		ssize_t n = recvfrom(servers[si].udp_fd, buf, sizeof(buf), 0,
		                     (struct sockaddr *)&peer, &pl);
		if (n < 0)
			return;
		answer(si, P_UDP, buf, (size_t)n, &peer, pl, 0);
	}
}

static void tcp_accept(size_t si)
{
	for (;;) {
		int fd = accept4(servers[si].tcp_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0)
			return;
		size_t ci = 0;
		while (ci < MAX_CONNS && conns[ci].fd >= 0)
			ci++;
		if (ci == MAX_CONNS) {
			close(fd);
			continue;
		}
		struct conn *c = &conns[ci];
		c->fd = fd;
		c->srv = si;
		c->in = xmalloc(65537);
		c->inlen = 0;
		c->last_ms = mono_ms();
	}
}

static void tcp_readable(size_t ci)
{
	struct conn *c = &conns[ci];
	ssize_t n = recv(c->fd, c->in + c->inlen, 65537 - c->inlen, 0);
	if (n <= 0) {
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			return;
		conn_close(ci, false);
		return;
	}
	c->inlen += (size_t)n;
	c->last_ms = mono_ms();
	while (c->fd >= 0 && c->inlen >= 2) {
		size_t ml = get16(c->in);
		if (c->inlen < ml + 2)
			break;
		struct sockaddr_storage peer;
		socklen_t pl = sizeof(peer);
		memset(&peer, 0, sizeof(peer));
		getpeername(c->fd, (struct sockaddr *)&peer, &pl);
		answer(c->srv, P_TCP, c->in + 2, ml, &peer, pl, ci);
		if (c->fd < 0)
			return; /* reset by a rule */
		memmove(c->in, c->in + ml + 2, c->inlen - ml - 2);
		c->inlen -= ml + 2;
	}
}

/* ---- sockets and the loop ---- */

static int open_socket(const struct server *sv, int type)
{
	int fd = socket(sv->addr.ss_family, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	/* TCP only: rebinding over TIME_WAIT after a restart. On UDP it would let a
	 * second lab silently share (and steal) this address. */
	int one = 1;
	if (type == SOCK_STREAM)
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (const struct sockaddr *)&sv->addr, sv->addrlen) < 0 ||
	    (type == SOCK_STREAM && listen(fd, 128) < 0)) {
		int e = errno;
		close(fd);
		errno = e;
		return -1;
	}
	return fd;
}

static void on_signal(int sig)
{
	if (sig == SIGHUP)
		got_hup = 1;
	else
		got_term = 1;
}

static void write_pidfile(void)
{
	if (pid_path == NULL)
		return;
	char tmp[4096];
	snprintf(tmp, sizeof(tmp), "%s.tmp", pid_path);
	FILE *f = fopen(tmp, "w");
	if (f == NULL || fprintf(f, "%ld\n", (long)getpid()) < 0 || fclose(f) != 0 ||
	    rename(tmp, pid_path) != 0)
		die("cannot write pidfile %s: %s", pid_path, strerror(errno));
}

static void usage(void)
{
	fputs("usage: caa-faultdns -c CONFIG.json [-p PIDFILE] [-l QUERYLOG] [--check]\n", stderr);
	exit(2);
}

/* Bind every server's UDP and TCP socket. Returns false (after a warning)
 * when one cannot be bound. */
static bool open_sockets(void)
{
	for (size_t i = 0; i < n_servers; i++) {
		struct server *sv = &servers[i];
		sv->udp_fd = open_socket(sv, SOCK_DGRAM);
		sv->tcp_fd = sv->udp_fd >= 0 ? open_socket(sv, SOCK_STREAM) : -1;
		if (sv->udp_fd < 0 || sv->tcp_fd < 0) {
			warnmsg("server %s: cannot bind %s port %u: %s", sv->name, sv->addr_str,
			        ntohs(((struct sockaddr_in *)&sv->addr)->sin_port),
			        strerror(errno));
			return false;
		}
	}
	return true;
}

/* Signals are blocked except inside ppoll, so a signal can never slip in
 * between checking the flags and going to sleep; waitmask is the mask for
 * ppoll. */
static void setup_signals(sigset_t *waitmask)
{
	sigset_t block;
	sigemptyset(&block);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGHUP);
	sigprocmask(SIG_BLOCK, &block, waitmask);
	sigdelset(waitmask, SIGTERM);
	sigdelset(waitmask, SIGINT);
	sigdelset(waitmask, SIGHUP);
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
}

/* The poll loop: listening sockets, TCP connections (idle ones closed) and
 * the delayed answers' due times, until SIGTERM/SIGINT. */
static void serve(const sigset_t *waitmask)
{
	size_t cap = 2 * n_servers + MAX_CONNS;
	struct pollfd *pfd = xcalloc(cap, sizeof(*pfd));
	size_t *who = xcalloc(cap, sizeof(*who)); /* index into servers or conns */
	while (!got_term) {
		if (got_hup) {
			got_hup = 0;
			log_open();
		}
		size_t np = 0;
		for (size_t i = 0; i < n_servers; i++) {
			pfd[np] = (struct pollfd){servers[i].udp_fd, POLLIN, 0};
			who[np++] = i;
			pfd[np] = (struct pollfd){servers[i].tcp_fd, POLLIN, 0};
			who[np++] = i;
		}
		int64_t now = mono_ms();
		int64_t wake = now + 1000;
		for (size_t i = 0; i < MAX_CONNS; i++) {
			if (conns[i].fd < 0)
				continue;
			if (now - conns[i].last_ms > TCP_IDLE_MS && conns[i].outlen == 0) {
				conn_close(i, false);
				continue;
			}
			pfd[np] = (struct pollfd){
			    conns[i].fd, (short)(POLLIN | (conns[i].outlen ? POLLOUT : 0)), 0};
			who[np++] = i;
		}
		if (n_heap > 0 && heap[0]->due_ms < wake)
			wake = heap[0]->due_ms;
		int64_t wait = wake > now ? wake - now : 0;
		struct timespec to = {(time_t)(wait / 1000), (long)(wait % 1000) * 1000000L};
		int rc = ppoll(pfd, np, &to, waitmask);
		if (rc < 0 && errno != EINTR) {
			warnmsg("poll: %s", strerror(errno));
			break;
		}
		fire_due();
		if (rc <= 0)
			continue;
		for (size_t k = 0; k < np; k++) {
			if (pfd[k].revents == 0)
				continue;
			if (k < 2 * n_servers) {
				if (k % 2 == 0)
					udp_readable(who[k]);
				else
					tcp_accept(who[k]);
				continue;
			}
			size_t ci = who[k];
			if (conns[ci].fd != pfd[k].fd)
				continue; /* closed and maybe reused during this round */
			if (pfd[k].revents & POLLOUT)
				conn_flush(ci);
			if (conns[ci].fd >= 0 && (pfd[k].revents & (POLLIN | POLLHUP | POLLERR)))
				tcp_readable(ci);
		}
		fire_due();
	}
	free(pfd);
	free(who);
}

/* Orderly exit: leak checkers (ASan in CI) see every allocation returned. */
static void free_all(void)
{
	for (size_t i = 0; i < MAX_CONNS; i++)
		conn_close(i, false);
	while (n_heap > 0) {
		struct pending *p = heap_pop();
		free(p->msg);
		free(p);
	}
	for (size_t i = 0; i < n_servers; i++) {
		struct server *sv = &servers[i];
		close(sv->udp_fd);
		close(sv->tcp_fd);
		for (size_t k = 0; k < sv->n_rules; k++) {
			free(sv->rules[k].qname);
			free(sv->rules[k].under);
		}
		for (size_t k = 0; k < sv->n_zones; k++) {
			for (size_t r = 0; r < sv->zones[k].n_rrs; r++) {
				free(sv->zones[k].rrs[r].owner);
				free(sv->zones[k].rrs[r].rdata);
			}
			free(sv->zones[k].rrs);
			free(sv->zones[k].origin);
		}
		free(sv->rules);
		free(sv->zones);
		free(sv->name);
	}
	free(servers);
	if (log_fd >= 0)
		close(log_fd);
	if (pid_path)
		unlink(pid_path);
	free(pid_path);
	free(log_path);
}

int main(int argc, char **argv)
{
	const char *config = NULL;
	bool check_only = false;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "-c") == 0 && i + 1 < argc)
			config = argv[++i];
		else if (strcmp(argv[i], "-p") == 0 && i + 1 < argc)
			pid_path = xstrdup(argv[++i]);
		else if (strcmp(argv[i], "-l") == 0 && i + 1 < argc)
			log_path = xstrdup(argv[++i]);
		else if (strcmp(argv[i], "--check") == 0)
			check_only = true;
		else
			usage();
	}
	if (config == NULL)
		usage();
	load_config(config);
	if (check_only) {
		printf("caa-faultdns: %s: %zu servers OK\n", config, n_servers);
		return 0;
	}
	if (!open_sockets())
		return 1;
	for (size_t i = 0; i < MAX_CONNS; i++)
		conns[i].fd = -1;
	log_open();

	sigset_t waitmask;
	setup_signals(&waitmask);
	write_pidfile();
	fprintf(stderr, "caa-faultdns: pid %ld serving %zu addresses\n", (long)getpid(), n_servers);
	serve(&waitmask);
	free_all();
	return 0;
}
