/* dnsmsg.c — the DNS message layer: bounds-checked reading, and writing. */
#include <stdio.h>
#include <string.h>

#include "codes.h"
#include "dnsmsg.h"

static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void put32(uint8_t *p, uint32_t v)
{
	put16(p, (uint16_t)(v >> 16));
	put16(p + 2, (uint16_t)v);
}

static uint8_t lower(uint8_t c)
{
	return c >= 'A' && c <= 'Z' ? (uint8_t)(c - 'A' + 'a') : c;
}

/* ---- mnemonics ---- */

const char *caa_dns_type_str(uint16_t type, char buf[CAA_DNS_MNEMONIC_MAX])
{
	static const struct {
		uint16_t type;
		const char *name;
	} tab[] = {
	    {CAA_DNS_T_A, "A"},
	    {CAA_DNS_T_NS, "NS"},
	    {CAA_DNS_T_CNAME, "CNAME"},
	    {CAA_DNS_T_SOA, "SOA"},
	    {CAA_DNS_T_PTR, "PTR"},
	    {CAA_DNS_T_MX, "MX"},
	    {CAA_DNS_T_TXT, "TXT"},
	    {CAA_DNS_T_AAAA, "AAAA"},
	    {CAA_DNS_T_SRV, "SRV"},
	    {CAA_DNS_T_DNAME, "DNAME"},
	    {CAA_DNS_T_OPT, "OPT"},
	    {CAA_DNS_T_DS, "DS"},
	    {CAA_DNS_T_RRSIG, "RRSIG"},
	    {CAA_DNS_T_NSEC, "NSEC"},
	    {CAA_DNS_T_DNSKEY, "DNSKEY"},
	    {CAA_DNS_T_NSEC3, "NSEC3"},
	    {CAA_DNS_T_NSEC3PARAM, "NSEC3PARAM"},
	    {CAA_DNS_T_SVCB, "SVCB"},
	    {CAA_DNS_T_HTTPS, "HTTPS"},
	    {CAA_DNS_T_ANY, "ANY"},
	    {CAA_DNS_T_CAA, "CAA"},
	};
	for (size_t i = 0; i < sizeof(tab) / sizeof(tab[0]); i++)
		if (tab[i].type == type)
			return tab[i].name;
	snprintf(buf, CAA_DNS_MNEMONIC_MAX, "TYPE%u", (unsigned)type);
	return buf;
}

const char *caa_dns_rcode_str(unsigned rcode, char buf[CAA_DNS_MNEMONIC_MAX])
{
	static const char *const names[] = {"NOERROR", "FORMERR", "SERVFAIL", "NXDOMAIN",
	                                    "NOTIMP",  "REFUSED", "YXDOMAIN", "YXRRSET",
	                                    "NXRRSET", "NOTAUTH", "NOTZONE"};
	if (rcode < sizeof(names) / sizeof(names[0]))
		return names[rcode];
	if (rcode == CAA_DNS_R_BADVERS)
		return "BADVERS";
	snprintf(buf, CAA_DNS_MNEMONIC_MAX, "RCODE%u", rcode & 0xfffu);
	return buf;
}

/* ---- the header ---- */

int caa_dns_hdr_read(const uint8_t *pkt, size_t len, caa_dns_hdr_t *h)
{
	memset(h, 0, sizeof(*h));
	if (pkt == NULL || len < CAA_DNS_HDR_LEN)
		return CAA_EMSG;
	h->id = get16(pkt);
	h->qr = (pkt[2] & 0x80) != 0;
	h->opcode = (pkt[2] >> 3) & 0x0f;
	h->aa = (pkt[2] & 0x04) != 0;
	h->tc = (pkt[2] & 0x02) != 0;
	h->rd = (pkt[2] & 0x01) != 0;
	h->ra = (pkt[3] & 0x80) != 0;
	h->ad = (pkt[3] & 0x20) != 0;
	h->cd = (pkt[3] & 0x10) != 0;
	h->rcode = pkt[3] & 0x0f;
	for (int i = 0; i < 4; i++)
		h->count[i] = get16(pkt + 4 + 2 * i);
	return CAA_EOK;
}

void caa_dns_hdr_write(const caa_dns_hdr_t *h, uint8_t out[CAA_DNS_HDR_LEN])
{
	put16(out, h->id);
	out[2] = (uint8_t)((h->qr ? 0x80 : 0) | (h->opcode & 0x0f) << 3 | (h->aa ? 0x04 : 0) |
	                   (h->tc ? 0x02 : 0) | (h->rd ? 0x01 : 0));
	out[3] = (uint8_t)((h->ra ? 0x80 : 0) | (h->ad ? 0x20 : 0) | (h->cd ? 0x10 : 0) |
	                   (h->rcode & 0x0f));
	for (int i = 0; i < 4; i++)
		put16(out + 4 + 2 * i, h->count[i]);
}

/* ---- names ---- */

/* Every pointer must point before the first octet read so far, so no octet
 * is read twice and no chain of pointers can loop; CAA_DNS_PTR_MAX bounds
 * the hops on top. */
static int name_read(const uint8_t *pkt, size_t len, size_t off, uint8_t *out, size_t *next,
                     bool canon)
{
	size_t pos = off, floor = off, end = 0, o = 0;
	unsigned hops = 0;
	bool jumped = false;
	if (pkt == NULL)
		return CAA_EMSG;
	for (;;) {
		if (pos >= len)
			return CAA_EMSG;
		uint8_t c = pkt[pos];
		if ((c & 0xc0) == 0xc0) {
			if (pos + 1 >= len || ++hops > CAA_DNS_PTR_MAX)
				return CAA_EMSG;
			size_t ptr = (size_t)(c & 0x3f) << 8 | pkt[pos + 1];
			if (ptr >= floor)
				return CAA_EMSG; /* forward, or into what was read: a loop in
				                    waiting */
			if (!jumped)
				end = pos + 2;
			jumped = true;
			pos = floor = ptr;
			continue;
		}
		if ((c & 0xc0) != 0)
			return CAA_EMSG; /* extended (01) and reserved (10) label types */
		if (c == 0) {
			if (out != NULL)
				out[o] = 0;
			o++;
			if (!jumped)
				end = pos + 1;
			break;
		}
		if (pos + 1 + c > len || o + c + 2 > CAA_DNS_NAME_MAX)
			return CAA_EMSG;
		if (out != NULL) {
			out[o] = c;
			for (size_t i = 0; i < c; i++)
				out[o + 1 + i] = canon ? lower(pkt[pos + 1 + i]) : pkt[pos + 1 + i];
		}
		o += 1u + c;
		pos += 1u + c;
	}
	if (next != NULL)
		*next = end;
	return (int)o;
}

int caa_dns_name_read(const uint8_t *pkt, size_t len, size_t off, uint8_t *out, size_t *next)
{
	return name_read(pkt, len, off, out, next, true);
}

int caa_dns_name_read_raw(const uint8_t *pkt, size_t len, size_t off, uint8_t *out, size_t *next)
{
	return name_read(pkt, len, off, out, next, false);
}

size_t caa_dns_name_len(const uint8_t *name, size_t max)
{
	size_t o = 0;
	if (name == NULL)
		return 0;
	if (max > CAA_DNS_NAME_MAX)
		max = CAA_DNS_NAME_MAX;
	while (o < max) {
		uint8_t c = name[o];
		if (c == 0)
			return o + 1;
		if (c > CAA_DNS_LABEL_MAX)
			return 0;
		o += 1u + c;
	}
	return 0;
}

int caa_dns_name_str(const uint8_t *name, char *out, size_t cap, unsigned flags)
{
	size_t n = caa_dns_name_len(name, CAA_DNS_NAME_MAX), o = 0;
	if (n == 0)
		return CAA_EMSG;
	if (n == 1) {
		if (cap < 2)
			return CAA_ELIMIT;
		out[0] = '.';
		out[1] = '\0';
		return 1;
	}
	for (size_t p = 0; name[p] != 0; p += 1u + name[p]) {
		if (p > 0) {
			if (o + 1 >= cap)
				return CAA_ELIMIT;
			out[o++] = '.';
		}
		for (size_t i = 1; i <= name[p]; i++) {
			uint8_t ch = lower(name[p + i]);
			bool esc = ch == '.' || ch == '\\' || ch < 0x21 || ch > 0x7e;
			if (o + (esc ? 4 : 1) >= cap)
				return CAA_ELIMIT;
			if (esc) {
				out[o++] = '\\';
				out[o++] = (char)('0' + ch / 100);
				out[o++] = (char)('0' + ch / 10 % 10);
				out[o++] = (char)('0' + ch % 10);
			} else {
				out[o++] = (char)ch;
			}
		}
	}
	if (flags & CAA_DNS_STR_ABSOLUTE) {
		if (o + 1 >= cap)
			return CAA_ELIMIT;
		out[o++] = '.';
	}
	out[o] = '\0';
	return (int)o;
}

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

int caa_dns_name_from_str(const char *text, uint8_t out[CAA_DNS_NAME_MAX])
{
	const char *s = text;
	size_t o = 0;
	if (text == NULL)
		return CAA_EINVAL;
	if (strcmp(text, ".") == 0 || *text == '\0') {
		out[0] = 0;
		return 1;
	}
	/* Every octet but the root's goes below index CAA_DNS_NAME_MAX - 1. */
	while (*s != '\0') {
		size_t lenpos = o++, l = 0;
		if (o >= CAA_DNS_NAME_MAX - 1)
			return CAA_EINVAL;
		while (*s != '\0' && *s != '.') {
			unsigned ch = (unsigned char)*s++;
			if (ch == '\\') {
				if (is_digit(s[0]) && is_digit(s[1]) && is_digit(s[2])) {
					ch = (unsigned)((s[0] - '0') * 100 + (s[1] - '0') * 10 +
					                (s[2] - '0'));
					if (ch > 255)
						return CAA_EINVAL;
					s += 3;
				} else if (*s != '\0' && !is_digit(*s)) {
					ch = (unsigned char)*s++; /* \X: X itself */
				} else {
					return CAA_EINVAL;
				}
			}
			if (++l > CAA_DNS_LABEL_MAX || o >= CAA_DNS_NAME_MAX - 1)
				return CAA_EINVAL;
			out[o++] = lower((uint8_t)ch);
		}
		if (l == 0)
			return CAA_EINVAL; /* empty label */
		out[lenpos] = (uint8_t)l;
		if (*s == '.')
			s++; /* a trailing dot ends the loop here */
	}
	out[o++] = 0;
	return (int)o;
}

bool caa_dns_name_eq(const uint8_t *a, const uint8_t *b)
{
	size_t la = caa_dns_name_len(a, CAA_DNS_NAME_MAX),
	       lb = caa_dns_name_len(b, CAA_DNS_NAME_MAX);
	if (la == 0 || la != lb)
		return false;
	for (size_t i = 0; i < la; i++)
		if (lower(a[i]) != lower(b[i]))
			return false; /* length octets are <= 63: lower() leaves them alone */
	return true;
}

bool caa_dns_str_is_sub(const char *child, const char *parent)
{
	size_t cl = strlen(child), pl = strlen(parent);
	if (strcmp(parent, ".") == 0)
		return true;
	if (cl < pl || strcmp(child + cl - pl, parent) != 0)
		return false;
	return cl == pl || child[cl - pl - 1] == '.';
}

/* ---- a whole message ---- */

int caa_dns_msg_parse(caa_dns_msg_t *m, const uint8_t *pkt, size_t len, const char **why)
{
	const char *dummy;
	size_t pos = CAA_DNS_HDR_LEN, next;
	if (why == NULL)
		why = &dummy;
	memset(m, 0, sizeof(*m));
	m->pkt = pkt;
	m->len = len;
	*why = "shorter than a DNS header";
	if (caa_dns_hdr_read(pkt, len, &m->hdr) != CAA_EOK)
		return CAA_EMSG;
	m->rcode = m->hdr.rcode;
	m->sec[CAA_DNS_QUESTION] = pos;
	*why = "a malformed question";
	for (unsigned i = 0; i < m->hdr.count[CAA_DNS_QUESTION]; i++) {
		if (caa_dns_name_read(pkt, len, pos, NULL, &next) < 0 || next + 4 > len)
			return CAA_EMSG;
		if (i == 0) {
			m->qname = pos;
			m->qtype = get16(pkt + next);
			m->qclass = get16(pkt + next + 2);
		}
		pos = next + 4;
	}
	for (int s = CAA_DNS_ANSWER; s <= CAA_DNS_ADDITIONAL; s++) {
		m->sec[s] = pos;
		for (unsigned i = 0; i < m->hdr.count[s]; i++) {
			int nl = caa_dns_name_read(pkt, len, pos, NULL, &next);
			*why = "a malformed record";
			if (nl < 0 || next + 10 > len)
				return CAA_EMSG;
			uint16_t type = get16(pkt + next), rdlen = get16(pkt + next + 8);
			*why = "a record runs past the end of the message";
			if (next + 10 + rdlen > len)
				return CAA_EMSG;
			if (type == CAA_DNS_T_OPT) {
				*why = "an OPT record outside the additional section or not at the "
				       "root";
				if (s != CAA_DNS_ADDITIONAL || nl != 1)
					return CAA_EMSG;
				*why = "two OPT records";
				if (m->edns)
					return CAA_EMSG;
				uint32_t ttl = get32(pkt + next + 4);
				m->edns = true;
				m->edns_udp = get16(pkt + next + 2);
				m->edns_version = (uint8_t)(ttl >> 16);
				m->edns_do = (ttl & 0x8000u) != 0;
				m->rcode |= (ttl >> 24) << 4;
			}
			pos = next + 10 + rdlen;
		}
	}
	m->sec[4] = pos;
	*why = NULL;
	return CAA_EOK;
}

void caa_dns_iter_init(caa_dns_iter_t *it, const caa_dns_msg_t *m, caa_dns_section_t section)
{
	it->m = m;
	it->section = section;
	it->off = m->sec[section];
	it->left = m->hdr.count[section];
}

bool caa_dns_iter_next(caa_dns_iter_t *it, caa_dns_rr_t *rr)
{
	const caa_dns_msg_t *m = it->m;
	size_t next;
	if (it->left == 0)
		return false;
	/* The parse checked all this; checked again so a misused iterator
	 * still cannot read past the message. */
	bool q = it->section == CAA_DNS_QUESTION;
	if (caa_dns_name_read(m->pkt, m->len, it->off, NULL, &next) < 0 ||
	    next + (q ? 4u : 10u) > m->len) {
		it->left = 0;
		return false;
	}
	const uint8_t *p = m->pkt + next;
	memset(rr, 0, sizeof(*rr));
	rr->section = it->section;
	rr->owner = it->off;
	rr->type = get16(p);
	rr->rclass = get16(p + 2);
	if (q) {
		it->off = next + 4;
	} else {
		rr->ttl = get32(p + 4);
		rr->rdlen = get16(p + 8);
		rr->rdoff = next + 10;
		if (rr->rdoff + rr->rdlen > m->len) {
			it->left = 0;
			return false;
		}
		rr->rdata = m->pkt + rr->rdoff;
		it->off = rr->rdoff + rr->rdlen;
	}
	it->left--;
	return true;
}

int caa_dns_rr_owner(const caa_dns_msg_t *m, const caa_dns_rr_t *rr, uint8_t out[CAA_DNS_NAME_MAX])
{
	return caa_dns_name_read(m->pkt, m->len, rr->owner, out, NULL);
}

int caa_dns_rr_name(const caa_dns_msg_t *m, const caa_dns_rr_t *rr, size_t at,
                    uint8_t out[CAA_DNS_NAME_MAX], size_t *next)
{
	size_t end;
	if (rr->rdata == NULL || at >= rr->rdlen)
		return CAA_EMSG;
	int n = caa_dns_name_read(m->pkt, m->len, rr->rdoff + at, out, &end);
	if (n < 0 || end > rr->rdoff + rr->rdlen)
		return CAA_EMSG;
	if (next != NULL)
		*next = end - rr->rdoff;
	return n;
}

/* ---- writing ---- */

void caa_dns_wr_init(caa_dns_wr_t *w, uint8_t *buf, size_t cap, const caa_dns_hdr_t *hdr)
{
	memset(w, 0, sizeof(*w));
	w->buf = buf;
	w->cap = cap;
	if (hdr != NULL)
		w->hdr = *hdr;
	memset(w->hdr.count, 0, sizeof(w->hdr.count));
	w->section = CAA_DNS_QUESTION;
	w->overflow = buf == NULL || cap < CAA_DNS_HDR_LEN;
	w->len = w->qend = w->overflow ? 0 : CAA_DNS_HDR_LEN;
}

static bool wr_room(caa_dns_wr_t *w, size_t n, caa_dns_section_t s)
{
	if (w->overflow || n > w->cap - w->len || w->hdr.count[s] == UINT16_MAX) {
		w->overflow = true;
		return false;
	}
	return true;
}

int caa_dns_wr_question(caa_dns_wr_t *w, const uint8_t *name, uint16_t type, uint16_t rclass)
{
	size_t nl = caa_dns_name_len(name, CAA_DNS_NAME_MAX);
	if (nl == 0 || w->section != CAA_DNS_QUESTION || w->qend != w->len)
		return CAA_EINVAL;
	if (!wr_room(w, nl + 4, CAA_DNS_QUESTION))
		return CAA_ELIMIT;
	memcpy(w->buf + w->len, name, nl);
	put16(w->buf + w->len + nl, type);
	put16(w->buf + w->len + nl + 2, rclass);
	w->len += nl + 4;
	w->qend = w->len;
	w->hdr.count[CAA_DNS_QUESTION]++;
	return CAA_EOK;
}

int caa_dns_wr_rr(caa_dns_wr_t *w, caa_dns_section_t s, const uint8_t *owner, uint16_t type,
                  uint16_t rclass, uint32_t ttl, const uint8_t *rdata, size_t rdlen)
{
	size_t nl = caa_dns_name_len(owner, CAA_DNS_NAME_MAX);
	if (nl == 0 || s == CAA_DNS_QUESTION || s > CAA_DNS_ADDITIONAL || s < w->section ||
	    rdlen > UINT16_MAX || (rdlen > 0 && rdata == NULL))
		return CAA_EINVAL;
	if (!wr_room(w, nl + 10 + rdlen, s))
		return CAA_ELIMIT;
	uint8_t *p = w->buf + w->len;
	memcpy(p, owner, nl);
	p += nl;
	put16(p, type);
	put16(p + 2, rclass);
	put32(p + 4, ttl);
	put16(p + 8, (uint16_t)rdlen);
	if (rdlen > 0)
		memcpy(p + 10, rdata, rdlen);
	w->len += nl + 10 + rdlen;
	w->section = s;
	w->hdr.count[s]++;
	return CAA_EOK;
}

int caa_dns_wr_opt(caa_dns_wr_t *w, uint16_t udp, uint8_t ext_rcode, bool dnssec_ok)
{
	static const uint8_t root = 0;
	uint32_t ttl = (uint32_t)ext_rcode << 24 | (dnssec_ok ? 0x8000u : 0); /* version 0 */
	return caa_dns_wr_rr(w, CAA_DNS_ADDITIONAL, &root, CAA_DNS_T_OPT, udp, ttl, NULL, 0);
}

void caa_dns_wr_truncate(caa_dns_wr_t *w)
{
	if (w->buf == NULL || w->cap < CAA_DNS_HDR_LEN)
		return;
	w->len = w->qend;
	for (int s = CAA_DNS_ANSWER; s <= CAA_DNS_ADDITIONAL; s++)
		w->hdr.count[s] = 0;
	w->section = CAA_DNS_QUESTION;
	w->overflow = false;
	w->hdr.tc = true;
}

size_t caa_dns_wr_finish(caa_dns_wr_t *w)
{
	if (w->buf == NULL || w->cap < CAA_DNS_HDR_LEN)
		return 0;
	caa_dns_hdr_write(&w->hdr, w->buf);
	return w->len;
}

int caa_dns_query_write(uint8_t *buf, size_t cap, uint16_t id, const uint8_t *qname, uint16_t qtype,
                        uint16_t qclass, bool rd, uint16_t edns_udp)
{
	caa_dns_hdr_t h = {.id = id, .opcode = CAA_DNS_OP_QUERY, .rd = rd};
	caa_dns_wr_t w;
	int rc;
	caa_dns_wr_init(&w, buf, cap, &h);
	if ((rc = caa_dns_wr_question(&w, qname, qtype, qclass)) != CAA_EOK)
		return rc;
	if (edns_udp != 0 && (rc = caa_dns_wr_opt(&w, edns_udp, 0, false)) != CAA_EOK)
		return rc;
	if (w.overflow)
		return CAA_ELIMIT;
	return (int)caa_dns_wr_finish(&w);
}
