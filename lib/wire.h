/*
 * wire.h — reading DNS messages (RFC 1035 §4): the header and the resource
 * records of each section, bounds-checked, without allocation. Enough for the
 * climb to take CAA records and the negative-answer SOA out of an answer.
 */
#ifndef CAA_WIRE_H
#define CAA_WIRE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CAA_WIRE_ANSWER 1
#define CAA_WIRE_AUTHORITY 2
#define CAA_WIRE_ADDITIONAL 3

/* One resource record; rdata points into the message. */
typedef struct caa_wire_rr {
	int section; /* CAA_WIRE_ANSWER .. CAA_WIRE_ADDITIONAL */
	size_t owner; /* offset of the (possibly compressed) owner name in the message */
	uint16_t type, rclass;
	uint32_t ttl;
	const uint8_t *rdata;
	uint16_t rdlen;
} caa_wire_rr_t;

/* A cursor over a message. */
typedef struct caa_wire {
	const uint8_t *pkt;
	size_t len, off;
	unsigned rcode; /* header RCODE (4 bits) */
	bool tc, aa;
	unsigned count[4]; /* QD, AN, NS, AR */
	unsigned section, left;
} caa_wire_t;

/* Read the header and skip the question section. Returns CAA_EOK or
 * CAA_EINVAL for a message too short or malformed. */
int caa_wire_open(caa_wire_t *w, const uint8_t *pkt, size_t len);

/* The next record of the answer, authority and additional sections in order.
 * Returns false at the end or when the rest of the message is malformed. */
bool caa_wire_next(caa_wire_t *w, caa_wire_rr_t *rr);

/* Is the name at offset off of the message (compression followed, at most
 * 127 pointers) equal to name, dotted text without a trailing dot ("" is the
 * root), ASCII case-insensitively? A malformed name equals nothing. */
bool caa_wire_name_equals(const caa_wire_t *w, size_t off, const char *name);

#endif
