/*
 * dnsmsg.h — the one DNS message layer of libcaa (RFC 1035 §3-4, RFC 6891):
 * named constants, the header, names, a parse that checks a whole message
 * before anything is read from it, iteration over a section's records, and a
 * writer for queries and replies. The climb reads libunbound's replies with
 * it, the diagnosis its own queries and the servers' replies, and the lab's
 * fault server (deploy/lab/faultdns) queries and its replies.
 *
 * Nothing here allocates, and no count, length or pointer in a message is
 * trusted: every read is bounded by the message (and RDATA names by their
 * RDATA), a compression pointer must point before every octet already read
 * for the name (no octet is read twice, no chain can loop) and at most
 * CAA_DNS_PTR_MAX are followed per name, labels are at most 63 octets and
 * names at most 255, extended label types are refused.
 * tests/fuzz/fuzz_dnsmsg.c runs every reader over arbitrary bytes.
 *
 * Names have three forms:
 *   - in a message: possibly compressed (read with caa_dns_name_read);
 *   - wire form: uncompressed, root octet included, at most CAA_DNS_NAME_MAX
 *     octets; "canonical" when ASCII letters are lowercase (RFC 4034 §6.2);
 *   - presentation form (caa_dns_name_str): lowercase, labels joined by '.',
 *     the octets '.', '\\' and those outside 0x21..0x7e written as \DDD, so a
 *     '.' only ever separates labels and suffixes compare as strings; the
 *     root is "."; a trailing dot only with CAA_DNS_STR_ABSOLUTE.
 */
#ifndef CAA_DNSMSG_H
#define CAA_DNSMSG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CAA_DNS_HDR_LEN      12
#define CAA_DNS_NAME_MAX     255  /* octets in wire form */
#define CAA_DNS_LABEL_MAX    63   /* octets in one label */
#define CAA_DNS_PTR_MAX      127  /* compression pointers followed in one name */
#define CAA_DNS_NAME_STR_MAX 1024 /* presentation form of any name, NUL included */
#define CAA_DNS_MNEMONIC_MAX 16   /* "TYPE65535", "RCODE4095" and NUL */
#define CAA_DNS_EDNS_UDP     1232 /* the EDNS buffer size we offer (DNS flag day 2020) */

/* Message sections; caa_dns_hdr_t.count is indexed by them. */
typedef enum caa_dns_section {
	CAA_DNS_QUESTION = 0,
	CAA_DNS_ANSWER = 1,
	CAA_DNS_AUTHORITY = 2,
	CAA_DNS_ADDITIONAL = 3,
} caa_dns_section_t;

/* RR types (IANA DNS parameters) this code names. */
enum caa_dns_type {
	CAA_DNS_T_A = 1,
	CAA_DNS_T_NS = 2,
	CAA_DNS_T_CNAME = 5,
	CAA_DNS_T_SOA = 6,
	CAA_DNS_T_PTR = 12,
	CAA_DNS_T_MX = 15,
	CAA_DNS_T_TXT = 16,
	CAA_DNS_T_AAAA = 28,
	CAA_DNS_T_SRV = 33,
	CAA_DNS_T_DNAME = 39,
	CAA_DNS_T_OPT = 41,
	CAA_DNS_T_DS = 43,
	CAA_DNS_T_RRSIG = 46,
	CAA_DNS_T_NSEC = 47,
	CAA_DNS_T_DNSKEY = 48,
	CAA_DNS_T_NSEC3 = 50,
	CAA_DNS_T_NSEC3PARAM = 51,
	CAA_DNS_T_SVCB = 64,
	CAA_DNS_T_HTTPS = 65,
	CAA_DNS_T_ANY = 255,
	CAA_DNS_T_CAA = 257,
};

enum caa_dns_class {
	CAA_DNS_C_IN = 1,
	CAA_DNS_C_CH = 3,
	CAA_DNS_C_ANY = 255,
};

/* RCODEs; values above 15 need the EDNS extension (RFC 6891 §6.1.3). */
enum caa_dns_rcode {
	CAA_DNS_R_NOERROR = 0,
	CAA_DNS_R_FORMERR = 1,
	CAA_DNS_R_SERVFAIL = 2,
	CAA_DNS_R_NXDOMAIN = 3,
	CAA_DNS_R_NOTIMP = 4,
	CAA_DNS_R_REFUSED = 5,
	CAA_DNS_R_YXDOMAIN = 6,
	CAA_DNS_R_YXRRSET = 7,
	CAA_DNS_R_NXRRSET = 8,
	CAA_DNS_R_NOTAUTH = 9,
	CAA_DNS_R_NOTZONE = 10,
	CAA_DNS_R_BADVERS = 16,
};

enum caa_dns_opcode {
	CAA_DNS_OP_QUERY = 0,
};

/* The mnemonic of a type or rcode, or "TYPEn" / "RCODEn" written into buf. */
const char *caa_dns_type_str(uint16_t type, char buf[CAA_DNS_MNEMONIC_MAX]);
const char *caa_dns_rcode_str(unsigned rcode, char buf[CAA_DNS_MNEMONIC_MAX]);

/* ---- the header ---- */

typedef struct caa_dns_hdr {
	uint16_t id;
	uint8_t opcode; /* 4 bits */
	uint8_t rcode;  /* the header's 4 bits (caa_dns_msg_t.rcode adds EDNS's 8) */
	bool qr, aa, tc, rd, ra, ad, cd;
	uint16_t count[4]; /* QDCOUNT .. ARCOUNT, indexed by caa_dns_section_t */
} caa_dns_hdr_t;

/* Read the 12-octet header. Returns CAA_EOK or CAA_EMSG (too short). */
int caa_dns_hdr_read(const uint8_t *pkt, size_t len, caa_dns_hdr_t *out);
/* Write h (all fields, counts included) into out. */
void caa_dns_hdr_write(const caa_dns_hdr_t *h, uint8_t out[CAA_DNS_HDR_LEN]);

/* ---- names ---- */

/*
 * Read the name at off in the message pkt of len octets: out (may be NULL to
 * check only) gets its canonical wire form (caa_dns_name_read_raw: case as
 * sent), *next (may be NULL) the offset after the name where it starts.
 * Returns the wire length (1..255) or CAA_EMSG (beyond the message, a pointer
 * not before what was read or beyond CAA_DNS_PTR_MAX, label type 01/10, longer
 * than 255 octets).
 */
int caa_dns_name_read(const uint8_t *pkt, size_t len, size_t off, uint8_t *out, size_t *next);
int caa_dns_name_read_raw(const uint8_t *pkt, size_t len, size_t off, uint8_t *out, size_t *next);

/* Presentation form of the wire name (see the top). flags: CAA_DNS_STR_*.
 * Returns its length, CAA_ELIMIT when cap is too small, or CAA_EMSG when
 * name is not a valid wire name. */
#define CAA_DNS_STR_ABSOLUTE 1u /* "example.com." rather than "example.com" */
int caa_dns_name_str(const uint8_t *name, char *out, size_t cap, unsigned flags);

/* Canonical wire form of a presentation name (trailing dot optional, "." or
 * "" the root, \X and \DDD escapes). Returns the wire length or CAA_EINVAL
 * (empty label, label > 63, name > 255, bad escape). */
int caa_dns_name_from_str(const char *text, uint8_t out[CAA_DNS_NAME_MAX]);

/* Length of a valid wire name; 0 when it is not one within max octets. */
size_t caa_dns_name_len(const uint8_t *name, size_t max);
/* Equal as DNS names (ASCII case-insensitive); both valid wire names. */
bool caa_dns_name_eq(const uint8_t *a, const uint8_t *b);
/* child is parent or below it; both in presentation form, both with or both
 * without the trailing dot. */
bool caa_dns_str_is_sub(const char *child, const char *parent);

/* ---- a whole message ---- */

typedef struct caa_dns_msg {
	const uint8_t *pkt;
	size_t len;
	caa_dns_hdr_t hdr;
	unsigned rcode; /* 12 bits: the header's and the OPT record's */
	size_t qname;   /* offset of the first question's name (QDCOUNT >= 1) */
	uint16_t qtype, qclass;
	size_t sec[5];     /* where each section starts; sec[4]: after the last record */
	bool edns;         /* an OPT record (RFC 6891) */
	uint16_t edns_udp; /* its payload size */
	uint8_t edns_version;
	bool edns_do;
} caa_dns_msg_t;

/*
 * Check the whole message and index it: header, every question, every
 * record (owner name, fixed fields, RDATA within the message), at most one
 * OPT record, in the additional section with the root as owner. Octets after
 * the last record are ignored. Returns CAA_EOK, or CAA_EMSG with a static
 * reason in *why (why may be NULL). Keeps pointers into pkt.
 */
int caa_dns_msg_parse(caa_dns_msg_t *m, const uint8_t *pkt, size_t len, const char **why);

/* One record of a parsed message. */
typedef struct caa_dns_rr {
	caa_dns_section_t section;
	size_t owner; /* offset of the owner name */
	uint16_t type, rclass;
	uint32_t ttl;         /* 0 in the question section */
	const uint8_t *rdata; /* NULL in the question section */
	size_t rdoff;         /* offset of the RDATA */
	uint16_t rdlen;
} caa_dns_rr_t;

typedef struct caa_dns_iter {
	const caa_dns_msg_t *m;
	size_t off;
	unsigned left;
	caa_dns_section_t section;
} caa_dns_iter_t;

/* Iterate over the records of one section of a parsed message. */
void caa_dns_iter_init(caa_dns_iter_t *it, const caa_dns_msg_t *m, caa_dns_section_t section);
/* The next record into rr; false at the end of the section. */
bool caa_dns_iter_next(caa_dns_iter_t *it, caa_dns_rr_t *rr);

/* The owner name of rr, canonical (see caa_dns_name_read). */
int caa_dns_rr_owner(const caa_dns_msg_t *m, const caa_dns_rr_t *rr, uint8_t out[CAA_DNS_NAME_MAX]);
/* The name at offset at inside rr's RDATA (NS, CNAME, DNAME targets, SOA's
 * MNAME...): it may be compressed, but what is written in place must end
 * inside the RDATA. *next (may be NULL) gets the RDATA offset after it.
 * Returns the wire length or CAA_EMSG. */
int caa_dns_rr_name(const caa_dns_msg_t *m, const caa_dns_rr_t *rr, size_t at,
                    uint8_t out[CAA_DNS_NAME_MAX], size_t *next);

/* ---- writing ---- */

/*
 * A message writer: header, the question, then records in section order.
 * Names are written uncompressed. A record that does not fit sets overflow;
 * it and every later one are dropped (the header's counts stay true to what
 * was written).
 */
typedef struct caa_dns_wr {
	uint8_t *buf;
	size_t cap, len;
	caa_dns_hdr_t hdr; /* caller's to change until caa_dns_wr_finish() (counts: the writer's) */
	size_t qend;       /* end of the question section */
	caa_dns_section_t section; /* of the last thing written */
	bool overflow;
} caa_dns_wr_t;

/* Start a message in buf (cap octets) with header hdr (counts ignored). */
void caa_dns_wr_init(caa_dns_wr_t *w, uint8_t *buf, size_t cap, const caa_dns_hdr_t *hdr);
/* A question; only before any record. Returns CAA_EOK, CAA_ELIMIT (no room),
 * CAA_EINVAL (not a wire name, or records were written). */
int caa_dns_wr_question(caa_dns_wr_t *w, const uint8_t *name, uint16_t type, uint16_t rclass);
/* A record in section s (never before the last one's section). */
int caa_dns_wr_rr(caa_dns_wr_t *w, caa_dns_section_t s, const uint8_t *owner, uint16_t type,
                  uint16_t rclass, uint32_t ttl, const uint8_t *rdata, size_t rdlen);
/* The OPT record (additional section): payload size, the rcode's upper 8
 * bits, version 0, the DO bit. */
int caa_dns_wr_opt(caa_dns_wr_t *w, uint16_t udp, uint8_t ext_rcode, bool dnssec_ok);
/* Drop every record (the question stays) and set TC: a reply that did not fit. */
void caa_dns_wr_truncate(caa_dns_wr_t *w);
/* Write the header with the counts; returns the message length. */
size_t caa_dns_wr_finish(caa_dns_wr_t *w);

/*
 * A query for qname (wire form) qtype/qclass into buf: id, RD as asked, and
 * an OPT record offering edns_udp octets unless it is 0. Returns the length,
 * or CAA_ELIMIT / CAA_EINVAL.
 */
int caa_dns_query_write(uint8_t *buf, size_t cap, uint16_t id, const uint8_t *qname, uint16_t qtype,
                        uint16_t qclass, bool rd, uint16_t edns_udp);

#endif
