/* donotquery.c — addresses caad must not query (donotquery.h). */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "codes.h"
#include "donotquery.h"
#include "util.h"

#define ENTRY_TEXT 64 /* an address/len as written, NUL included */

/* One block. IPv4 is kept in its mapped form (::ffff:a.b.c.d, plen + 96), so
 * one comparison serves both families. */
typedef struct block {
	uint8_t a[16];
	unsigned plen;
	char text[ENTRY_TEXT];
} block_t;

struct caa_dnq {
	bool localhost_ok;
	block_t *user; /* do-not-query-address */
	size_t n_user;
};

/* The special-purpose ranges no setting opens (IANA's special-purpose
 * registries, RFC 6890 and successors), loopback apart. */
static const struct {
	const char *net;
	unsigned plen;
	const char *why;
} fixed[] = {
    {"0.0.0.0", 8, "\"this network\" (0.0.0.0/8)"},
    {"10.0.0.0", 8, "private (RFC 1918)"},
    {"100.64.0.0", 10, "shared address space (RFC 6598)"},
    {"169.254.0.0", 16, "link-local"},
    {"172.16.0.0", 12, "private (RFC 1918)"},
    {"192.0.0.0", 24, "IETF protocol assignments (192.0.0.0/24)"},
    {"192.0.2.0", 24, "documentation (TEST-NET-1)"},
    {"192.88.99.0", 24, "6to4 relay anycast (deprecated)"},
    {"192.168.0.0", 16, "private (RFC 1918)"},
    {"198.18.0.0", 15, "benchmarking (RFC 2544)"},
    {"198.51.100.0", 24, "documentation (TEST-NET-2)"},
    {"203.0.113.0", 24, "documentation (TEST-NET-3)"},
    {"224.0.0.0", 4, "multicast"},
    {"240.0.0.0", 4, "reserved (240.0.0.0/4, broadcast included)"},
    {"::", 128, "unspecified (::)"},
    {"::", 96, "IPv4-compatible (::/96, deprecated)"},
    {"64:ff9b:1::", 48, "local-use NAT64 (RFC 8215)"},
    {"100::", 64, "discard-only (RFC 6666)"},
    {"2001:2::", 48, "benchmarking (RFC 5180)"},
    {"2001:db8::", 32, "documentation (2001:db8::/32)"},
    {"fc00::", 7, "unique-local (fc00::/7)"},
    {"fe80::", 10, "link-local"},
    {"fec0::", 10, "site-local (deprecated)"},
    {"ff00::", 8, "multicast"},
};

static const uint8_t mapped_prefix[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
static const uint8_t nat64_prefix[12] = {0, 0x64, 0xff, 0x9b, 0, 0, 0, 0, 0, 0, 0, 0};

static bool in_block(const uint8_t a[16], const uint8_t net[16], unsigned plen)
{
	unsigned full = plen / 8, rest = plen % 8;
	if (memcmp(a, net, full) != 0)
		return false;
	if (rest == 0)
		return true;
	uint8_t mask = (uint8_t)(0xFF << (8 - rest));
	return (a[full] & mask) == (net[full] & mask);
}

/* "a.b.c.d" or an IPv6 address into the 16-octet form; plen gets +96 for
 * IPv4. Returns 0 or -1. */
static int parse_addr(const char *text, uint8_t a[16], unsigned *plen_add)
{
	struct in_addr v4;
	if (inet_pton(AF_INET, text, &v4) == 1) {
		memcpy(a, mapped_prefix, 12);
		memcpy(a + 12, &v4, 4);
		*plen_add = 96;
		return 0;
	}
	*plen_add = 0;
	return inet_pton(AF_INET6, text, a) == 1 ? 0 : -1;
}

/* One do-not-query-address entry, "addr" or "addr/len". */
static int parse_entry(const char *s, size_t len, block_t *b)
{
	char text[ENTRY_TEXT];
	unsigned add, plen = 0;
	if (len == 0 || len >= sizeof(text))
		return -1;
	memcpy(text, s, len);
	text[len] = '\0';
	snprintf(b->text, sizeof(b->text), "%s", text);
	char *slash = strchr(text, '/');
	if (slash != NULL) {
		char *end;
		*slash = '\0';
		unsigned long v = strtoul(slash + 1, &end, 10);
		if (slash[1] < '0' || slash[1] > '9' || *end != '\0' || v > 128)
			return -1;
		plen = (unsigned)v;
	}
	if (parse_addr(text, b->a, &add) != 0)
		return -1;
	if (slash == NULL)
		plen = add == 96 ? 32 : 128;
	if (plen + add > 128)
		return -1;
	b->plen = plen + add;
	return 0;
}

int caa_dnq_new(bool localhost_ok, const char *list, caa_dnq_t **out, char *err, size_t errlen)
{
	caa_dnq_t *q = calloc(1, sizeof(*q));
	*out = NULL;
	if (q == NULL)
		return CAA_ENOMEM;
	q->localhost_ok = localhost_ok;
	size_t n = 0;
	for (const char *p = list; p != NULL && *p != '\0'; p++)
		n += *p == '\n';
	q->user = calloc(n + 1, sizeof(*q->user));
	if (q->user == NULL) {
		free(q);
		return CAA_ENOMEM;
	}
	for (const char *p = list; p != NULL && *p != '\0';) {
		size_t len = strcspn(p, "\n");
		size_t b = 0, e = len; /* trim blanks */
		while (b < e && (p[b] == ' ' || p[b] == '\t'))
			b++;
		while (e > b && (p[e - 1] == ' ' || p[e - 1] == '\t' || p[e - 1] == '\r'))
			e--;
		if (e > b && parse_entry(p + b, e - b, &q->user[q->n_user]) != 0) {
			if (errlen > 0)
				caa_set_err(err, errlen,
				            "do-not-query-address: \"%.*s\" is not an "
				            "address or address/length",
				            (int)(e - b > 64 ? 64 : e - b), p + b);
			caa_dnq_free(q);
			return CAA_ECONFIG;
		}
		if (e > b)
			q->n_user++;
		p += len;
		if (*p == '\n')
			p++;
	}
	*out = q;
	return CAA_EOK;
}

void caa_dnq_free(caa_dnq_t *q)
{
	if (q == NULL)
		return;
	free(q->user);
	free(q);
}

/* The fixed and loopback rules for a (16-octet form). */
static const char *refuses_special(const caa_dnq_t *q, const uint8_t a[16], char *buf, size_t cap)
{
	static const uint8_t v6_loop[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
	bool v4 = memcmp(a, mapped_prefix, 12) == 0;
	if ((v4 && a[12] == 127) || memcmp(a, v6_loop, 16) == 0) {
		if (q->localhost_ok)
			return NULL;
		snprintf(buf, cap, "loopback (do-not-query-localhost)");
		return buf;
	}
	for (size_t i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++) {
		uint8_t net[16];
		unsigned add;
		if (parse_addr(fixed[i].net, net, &add) == 0 &&
		    in_block(a, net, fixed[i].plen + add)) {
			snprintf(buf, cap, "%s", fixed[i].why);
			return buf;
		}
	}
	return NULL;
}

const char *caa_dnq_refuses(const caa_dnq_t *q, const struct sockaddr *sa, char *buf, size_t cap)
{
	uint8_t a[16];
	if (sa->sa_family == AF_INET) {
		memcpy(a, mapped_prefix, 12);
		memcpy(a + 12, &((const struct sockaddr_in *)(const void *)sa)->sin_addr, 4);
	} else if (sa->sa_family == AF_INET6) {
		memcpy(a, &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr, 16);
	} else {
		snprintf(buf, cap, "not an IP address");
		return buf;
	}
	for (size_t i = 0; i < q->n_user; i++)
		if (in_block(a, q->user[i].a, q->user[i].plen)) {
			snprintf(buf, cap, "on do-not-query-address %s", q->user[i].text);
			return buf;
		}
	const char *why = refuses_special(q, a, buf, cap);
	if (why != NULL)
		return why;
	/* An IPv4 address carried in NAT64 or 6to4 form reaches that address. */
	uint8_t inner[16];
	memcpy(inner, mapped_prefix, 12);
	if (memcmp(a, nat64_prefix, 12) == 0)
		memcpy(inner + 12, a + 12, 4);
	else if (a[0] == 0x20 && a[1] == 0x02)
		memcpy(inner + 12, a + 2, 4);
	else
		return NULL;
	for (size_t i = 0; i < q->n_user; i++)
		if (in_block(inner, q->user[i].a, q->user[i].plen)) {
			snprintf(buf, cap,
			         "the %s form of an IPv4 address on do-not-query-address %s",
			         a[0] == 0x20 ? "6to4" : "NAT64", q->user[i].text);
			return buf;
		}
	char inner_why[96];
	if (refuses_special(q, inner, inner_why, sizeof(inner_why)) == NULL)
		return NULL;
	snprintf(buf, cap, "the %s form of an IPv4 address that is %s",
	         a[0] == 0x20 ? "6to4" : "NAT64", inner_why);
	return buf;
}
