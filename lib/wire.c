/* wire.c — bounds-checked reading of DNS messages. */
#include "codes.h"
#include "wire.h"

static uint16_t u16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

/* Skip a (possibly compressed) owner name: labels, then a root octet or a
 * two-octet pointer. The name itself is never followed. */
static bool skip_name(caa_wire_t *w)
{
	while (w->off < w->len) {
		uint8_t c = w->pkt[w->off];
		if (c == 0) {
			w->off++;
			return true;
		}
		if ((c & 0xc0) == 0xc0) {
			w->off += 2;
			return w->off <= w->len;
		}
		if (c & 0xc0)
			return false; /* extended label types: not in use */
		w->off += 1u + c;
	}
	return false;
}

int caa_wire_open(caa_wire_t *w, const uint8_t *pkt, size_t len)
{
	w->pkt = pkt;
	w->len = len;
	w->off = 12;
	if (pkt == NULL || len < 12)
		return CAA_EINVAL;
	w->rcode = pkt[3] & 0x0f;
	w->aa = (pkt[2] & 0x04) != 0;
	w->tc = (pkt[2] & 0x02) != 0;
	for (int i = 0; i < 4; i++)
		w->count[i] = u16(pkt + 4 + 2 * i);
	for (unsigned i = 0; i < w->count[0]; i++) {
		if (!skip_name(w) || w->off + 4 > len)
			return CAA_EINVAL;
		w->off += 4;
	}
	w->section = CAA_WIRE_ANSWER;
	w->left = w->count[1];
	return CAA_EOK;
}

bool caa_wire_next(caa_wire_t *w, caa_wire_rr_t *rr)
{
	while (w->left == 0) {
		if (w->section >= CAA_WIRE_ADDITIONAL)
			return false;
		w->section++;
		w->left = w->count[w->section];
	}
	rr->owner = w->off;
	if (!skip_name(w) || w->off + 10 > w->len)
		return false;
	const uint8_t *p = w->pkt + w->off;
	rr->section = (int)w->section;
	rr->type = u16(p);
	rr->rclass = u16(p + 2);
	rr->ttl = (uint32_t)u16(p + 4) << 16 | u16(p + 6);
	rr->rdlen = u16(p + 8);
	if (w->off + 10 + rr->rdlen > w->len)
		return false;
	rr->rdata = p + 10;
	w->off += 10u + rr->rdlen;
	w->left--;
	return true;
}

static uint8_t lower(uint8_t c)
{
	return c >= 'A' && c <= 'Z' ? (uint8_t)(c + 32) : c;
}

bool caa_wire_name_equals(const caa_wire_t *w, size_t off, const char *name)
{
	const uint8_t *t = (const uint8_t *)name;
	unsigned hops = 0;
	for (;;) {
		if (off >= w->len)
			return false;
		uint8_t c = w->pkt[off];
		if ((c & 0xc0) == 0xc0) {
			/* a pointer; the hop bound ends loops */
			if (off + 1 >= w->len || ++hops > 127)
				return false;
			off = (size_t)(c & 0x3f) << 8 | w->pkt[off + 1];
			continue;
		}
		if (c & 0xc0)
			return false;
		if (c == 0)
			return *t == '\0';
		if (off + 1 + c > w->len)
			return false;
		/* one label of the text: up to the next dot */
		if (t != (const uint8_t *)name && *t++ != '.')
			return false;
		for (uint8_t i = 0; i < c; i++, t++)
			if (*t == '\0' || *t == '.' || lower(*t) != lower(w->pkt[off + 1 + i]))
				return false;
		off += 1u + c;
	}
}
