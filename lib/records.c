/*
 * records.c — records files (records.h, docs/records-file.md): dig-style CAA
 * lines and status lines, read into per-owner RRsets that caa_records_labels()
 * hands to the decision exactly as a climb would.
 *
 * Every record, including the presentation form, is encoded to wire RDATA and
 * read back with caa_rr_parse(), so a file and a DNS answer can never be read
 * differently (a tag length 0 record stays a malformed record, not an error).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "codes.h"
#include "records.h"
#include "rr.h"
#include "util.h"

#define RDATA_MAX 65535

/* One owner name and what its lookup answered. */
typedef struct owner {
	char name[CAA_NAME_MAX + 1]; /* normalised: lowercase, no trailing dot */
	unsigned line;               /* first line naming it, for messages */
	caa_outcome_t outcome;       /* PRESENT, or the status of a status line */
	const char *why;             /* status reason (in the arena), NULL if none */
	caa_rr_t *rrs;               /* views into the arena */
	size_t n_rrs, cap_rrs;
} owner_t;

struct caa_records {
	owner_t *owners;
	size_t n_owners, cap_owners;
	size_t *slots;  /* open addressing over owners: index + 1, 0 = free */
	size_t n_slots; /* a power of two, at least twice n_owners */
	/* RDATA and reasons. Sized once from the text, since nothing decoded
	 * is longer than the line it came from: the views never move. */
	char *arena;
	size_t arena_used, arena_size;
};

/* A token of the current line: raw text (inside the quotes when quoted). */
typedef struct token {
	const char *s;
	size_t len;
	bool quoted;
} token_t;

typedef struct parser {
	caa_records_t *recs;
	const char *p, *end; /* rest of the current line */
	unsigned line;
	char origin[CAA_NAME_MAX + 1]; /* $ORIGIN, "" = none: every name is absolute */
	size_t last;                   /* owner of the previous entry, for blank owners */
	bool have_last;
	char *err;
	size_t errlen;
} parser_t;

static const struct {
	const char *word;
	caa_outcome_t outcome;
} status_words[] = {
    {"NODATA", CAA_OUT_EMPTY},
    {"NXDOMAIN", CAA_OUT_NXDOMAIN},
    {"NODATA-NO-SOA", CAA_OUT_NODATA_NOSOA},
    {"NODATA_WITHOUT_SOA", CAA_OUT_NODATA_NOSOA}, /* the JSON trace's name, pasted back */
    {"SERVFAIL", CAA_OUT_SERVFAIL},
    {"REFUSED", CAA_OUT_REFUSED},
    {"NOTIMP", CAA_OUT_NOTIMP},
    {"FORMERR", CAA_OUT_FORMERR},
    {"TIMEOUT", CAA_OUT_TIMEOUT},
    {"NETWORK", CAA_OUT_NETWORK},
    {"BOGUS", CAA_OUT_BOGUS},
};

/* Types that show up in dig output next to CAA: named in the error so the
 * user knows the line was understood, just not wanted. */
static const char *const other_types[] = {
    "A",    "AAAA",  "NS",   "CNAME",  "DNAME",   "SOA",  "MX",    "TXT",
    "PTR",  "SRV",   "DS",   "DNSKEY", "RRSIG",   "NSEC", "NSEC3", "NSEC3PARAM",
    "TLSA", "HTTPS", "SVCB", "CDS",    "CDNSKEY", "OPT",  "HINFO", "SSHFP",
};

static bool is_blank(char c)
{
	return c == ' ' || c == '\t';
}

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static char lower(char c)
{
	return (c >= 'A' && c <= 'Z') ? (char)(c + 32) : c;
}

static bool tok_ieq(const token_t *t, const char *word)
{
	size_t n = strlen(word);
	if (t->quoted || t->len != n)
		return false;
	for (size_t i = 0; i < n; i++)
		if (lower(t->s[i]) != lower(word[i]))
			return false;
	return true;
}

/* Decimal number of digits only, at most max. */
static bool tok_number(const token_t *t, unsigned long max, unsigned long *out)
{
	unsigned long v = 0;
	if (t->quoted || t->len == 0 || t->len > 10)
		return false;
	for (size_t i = 0; i < t->len; i++) {
		if (!is_digit(t->s[i]))
			return false;
		v = v * 10 + (unsigned long)(t->s[i] - '0');
	}
	if (v > max)
		return false;
	*out = v;
	return true;
}

/* A token for an error message: at most 40 octets, unprintables as '?'. */
static const char *tok_show(const token_t *t, char buf[48])
{
	size_t n = t->len > 40 ? 40 : t->len, o = 0;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)t->s[i];
		buf[o++] = (c >= 0x20 && c < 0x7f) ? (char)c : '?';
	}
	if (n < t->len) {
		memcpy(buf + o, "...", 3);
		o += 3;
	}
	buf[o] = '\0';
	return buf;
}

static int fail(parser_t *ps, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static int fail(parser_t *ps, int code, const char *fmt, ...)
{
	if (ps->errlen > 0) {
		int n = snprintf(ps->err, ps->errlen, "line %u: ", ps->line);
		if (n >= 0 && (size_t)n < ps->errlen) {
			va_list ap;
			va_start(ap, fmt);
			vsnprintf(ps->err + n, ps->errlen - (size_t)n, fmt, ap);
			va_end(ap);
		}
	}
	return code;
}

/*
 * Next token of the line: a "quoted string" or a run up to a blank, ';' or
 * '"' (backslash escapes the next character in both). Returns 0 with len 0 at
 * the end of the line or at a comment, 1 for a token, or an error code.
 */
static int next_token(parser_t *ps, token_t *t)
{
	const char *p = ps->p, *end = ps->end;

	while (p < end && is_blank(*p))
		p++;
	*t = (token_t){.s = p, .len = 0, .quoted = false};
	if (p == end || *p == ';') {
		ps->p = end;
		return 0;
	}
	if (*p == '(' || *p == ')')
		return fail(ps, CAA_ERECORDS,
		            "parentheses (multi-line records) are not supported: "
		            "write each record on one line");
	if (*p == '"') {
		const char *s = ++p;
		while (p < end && *p != '"')
			p += (*p == '\\' && p + 1 < end) ? 2 : 1;
		if (p >= end)
			return fail(ps, CAA_ERECORDS, "unterminated quoted string");
		*t = (token_t){.s = s, .len = (size_t)(p - s), .quoted = true};
		ps->p = p + 1;
		return 1;
	}
	const char *s = p;
	while (p < end && !is_blank(*p) && *p != ';' && *p != '"')
		p += (*p == '\\' && p + 1 < end) ? 2 : 1;
	*t = (token_t){.s = s, .len = (size_t)(p - s), .quoted = false};
	ps->p = p;
	return 1;
}

/* Required token; what names it in the error. */
static int need_token(parser_t *ps, token_t *t, const char *what)
{
	int rc = next_token(ps, t);
	if (rc == 0)
		return fail(ps, CAA_ERECORDS, "missing %s", what);
	return rc < 0 ? rc : CAA_EOK;
}

/* Nothing but blanks and a comment may follow; after names what came last. */
static int end_of_line(parser_t *ps, const char *after)
{
	token_t t;
	char show[48];
	int rc = next_token(ps, &t);
	if (rc < 0)
		return rc;
	if (rc > 0)
		return fail(ps, CAA_ERECORDS,
		            "unexpected \"%s\" after the %s (quote text with blanks or ';')",
		            tok_show(&t, show), after);
	return CAA_EOK;
}

/* Decode \X and \DDD (RFC 1035 §5.1) of t into dst (t->len octets room). */
static int unescape(parser_t *ps, const token_t *t, char *dst, size_t *out_len)
{
	size_t o = 0;
	for (size_t i = 0; i < t->len; i++) {
		char c = t->s[i];
		if (c != '\\') {
			dst[o++] = c;
			continue;
		}
		if (++i == t->len) {
			char show[48];
			return fail(ps, CAA_ERECORDS, "backslash at the end of \"%s\"",
			            tok_show(t, show));
		}
		if (!is_digit(t->s[i])) {
			dst[o++] = t->s[i];
			continue;
		}
		if (i + 2 >= t->len || !is_digit(t->s[i + 1]) || !is_digit(t->s[i + 2]))
			return fail(ps, CAA_ERECORDS,
			            "bad escape: \\DDD needs three decimal digits");
		int v = (t->s[i] - '0') * 100 + (t->s[i + 1] - '0') * 10 + (t->s[i + 2] - '0');
		if (v > 255)
			return fail(ps, CAA_ERECORDS, "bad escape \\%.3s: above 255", t->s + i);
		dst[o++] = (char)v;
		i += 2;
	}
	*out_len = o;
	return CAA_EOK;
}

static char *arena_reserve(caa_records_t *recs, size_t n)
{
	if (n > recs->arena_size - recs->arena_used)
		return NULL;
	return recs->arena + recs->arena_used;
}

/* ---- owners ---- */

static uint32_t hash_name(const char *s)
{
	uint32_t h = 2166136261u; /* FNV-1a */
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 16777619u;
	return h;
}

static owner_t *find_owner(const caa_records_t *recs, const char *name)
{
	if (recs->n_slots == 0)
		return NULL;
	for (size_t i = hash_name(name) & (recs->n_slots - 1);; i = (i + 1) & (recs->n_slots - 1)) {
		size_t v = recs->slots[i];
		if (v == 0)
			return NULL;
		if (strcmp(recs->owners[v - 1].name, name) == 0)
			return &recs->owners[v - 1];
	}
}

static void slot_insert(caa_records_t *recs, size_t idx)
{
	size_t i = hash_name(recs->owners[idx].name) & (recs->n_slots - 1);
	while (recs->slots[i] != 0)
		i = (i + 1) & (recs->n_slots - 1);
	recs->slots[i] = idx + 1;
}

/* The owner called name, created (outcome PENDING) on first sight. */
static owner_t *get_owner(parser_t *ps, const char *name)
{
	caa_records_t *recs = ps->recs;
	owner_t *o = find_owner(recs, name);
	if (o != NULL)
		return o;

	if (recs->n_owners == recs->cap_owners) {
		size_t cap = recs->cap_owners ? recs->cap_owners * 2 : 16;
		owner_t *n = realloc(recs->owners, cap * sizeof(*n));
		if (n == NULL)
			return NULL;
		recs->owners = n;
		recs->cap_owners = cap;
	}
	if (2 * (recs->n_owners + 1) > recs->n_slots) {
		size_t n_slots = recs->n_slots ? recs->n_slots * 2 : 32;
		size_t *slots = calloc(n_slots, sizeof(*slots));
		if (slots == NULL)
			return NULL;
		free(recs->slots);
		recs->slots = slots;
		recs->n_slots = n_slots;
		for (size_t i = 0; i < recs->n_owners; i++)
			slot_insert(recs, i);
	}
	o = &recs->owners[recs->n_owners];
	*o = (owner_t){.line = ps->line, .outcome = CAA_OUT_PENDING};
	strcpy(o->name, name);
	slot_insert(recs, recs->n_owners++);
	return o;
}

/* Normalise an owner token into name: "@" and relative names use $ORIGIN. */
static int owner_name(parser_t *ps, const token_t *t, char name[CAA_NAME_MAX + 1])
{
	char buf[2 * (CAA_NAME_MAX + 2)], show[48];
	size_t len = t->len;
	caa_name_t n;

	if (t->quoted)
		return fail(ps, CAA_ERECORDS, "owner name \"%s\" is quoted", tok_show(t, show));
	if (len > CAA_NAME_MAX + 1)
		return fail(ps, CAA_ERECORDS, "owner name \"%s\": %s", tok_show(t, show),
		            caa_strerror(CAA_ENAME_TOOLONG));
	if (len == 1 && t->s[0] == '@') {
		if (ps->origin[0] == '\0')
			return fail(ps, CAA_ERECORDS, "\"@\" needs a $ORIGIN line before it");
		strcpy(name, ps->origin);
		return CAA_EOK;
	}
	memcpy(buf, t->s, len);
	if (ps->origin[0] != '\0' && t->s[len - 1] != '.') {
		buf[len++] = '.';
		strcpy(buf + len, ps->origin);
		len += strlen(ps->origin);
	}
	int rc = caa_name_parse(buf, len, &n);
	if (rc == CAA_EOK && n.wildcard)
		return fail(ps, CAA_ERECORDS,
		            "owner name \"%s\": wildcard owners are not expanded; "
		            "write the name that was queried",
		            tok_show(t, show));
	if (rc != CAA_EOK)
		return fail(ps, CAA_ERECORDS, "owner name \"%s\": %s", tok_show(t, show),
		            caa_strerror(rc));
	memcpy(name, n.text, (size_t)n.len + 1);
	return CAA_EOK;
}

/* ---- lines ---- */

static int directive(parser_t *ps)
{
	token_t t, arg;
	char show[48];
	int rc = next_token(ps, &t);
	if (rc < 0)
		return rc;
	if (tok_ieq(&t, "$TTL")) {
		if ((rc = need_token(ps, &arg, "TTL after $TTL")) != CAA_EOK)
			return rc;
		return end_of_line(ps, "$TTL value");
	}
	if (tok_ieq(&t, "$ORIGIN")) {
		if ((rc = need_token(ps, &arg, "name after $ORIGIN")) != CAA_EOK)
			return rc;
		char name[CAA_NAME_MAX + 1];
		ps->origin[0] = '\0'; /* the argument itself is absolute */
		if ((rc = owner_name(ps, &arg, name)) != CAA_EOK)
			return rc;
		strcpy(ps->origin, name);
		return end_of_line(ps, "$ORIGIN name");
	}
	return fail(ps, CAA_ERECORDS, "unsupported directive \"%s\" (only $TTL and $ORIGIN)",
	            tok_show(&t, show));
}

/* Skip an optional TTL and class, in either order. */
static int skip_ttl_class(parser_t *ps, token_t *t)
{
	bool ttl = false, cls = false;
	char show[48];
	for (;;) {
		int rc = next_token(ps, t);
		if (rc <= 0)
			return rc;
		if (!ttl && !t->quoted && is_digit(t->s[0])) {
			for (size_t i = 0; i < t->len; i++)
				if (!is_digit(t->s[i]) && !strchr("smhdwSMHDW", t->s[i]))
					return fail(ps, CAA_ERECORDS, "bad TTL \"%s\"",
					            tok_show(t, show));
			ttl = true;
			continue;
		}
		if (!cls && (tok_ieq(t, "IN") || tok_ieq(t, "CLASS1"))) {
			cls = true;
			continue;
		}
		if (!cls && (tok_ieq(t, "CH") || tok_ieq(t, "HS") || tok_ieq(t, "CS") ||
		             tok_ieq(t, "ANY") ||
		             (t->len > 5 && tok_ieq(&(token_t){t->s, 5, false}, "CLASS"))))
			return fail(ps, CAA_ERECORDS, "class %s: only IN is read",
			            tok_show(t, show));
		return 1;
	}
}

static int add_rr(parser_t *ps, const char *name, const char *rdata, size_t len)
{
	owner_t *o = get_owner(ps, name);
	if (o == NULL)
		return CAA_ENOMEM;
	if (o->outcome != CAA_OUT_PENDING && o->outcome != CAA_OUT_PRESENT)
		return fail(ps, CAA_ERECORDS, "%s has both CAA records and a status (line %u)",
		            name, o->line);
	if (o->n_rrs == CAA_RECORDS_MAX_PER_OWNER)
		return fail(ps, CAA_ELIMIT, "more than %d CAA records for %s",
		            CAA_RECORDS_MAX_PER_OWNER, name);
	if (o->n_rrs == o->cap_rrs) {
		size_t cap = o->cap_rrs ? o->cap_rrs * 2 : 4;
		caa_rr_t *n = realloc(o->rrs, cap * sizeof(*n));
		if (n == NULL)
			return CAA_ENOMEM;
		o->rrs = n;
		o->cap_rrs = cap;
	}
	/* Errors leave a malformed record, kept like one from DNS. */
	(void)caa_rr_parse((const uint8_t *)rdata, len, &o->rrs[o->n_rrs++]);
	if (o->outcome == CAA_OUT_PENDING)
		o->line = ps->line;
	o->outcome = CAA_OUT_PRESENT;
	return CAA_EOK;
}

static int hexval(char c)
{
	if (is_digit(c))
		return c - '0';
	c = lower(c);
	return (c >= 'a' && c <= 'f') ? c - 'a' + 10 : -1;
}

/* CAA \# <len> <hex>...: RFC 3597 generic RDATA, as it is, malformed or not. */
static int generic_rdata(parser_t *ps, const char *name)
{
	token_t t;
	unsigned long want;
	char show[48];
	int rc;

	if ((rc = need_token(ps, &t, "RDATA length after \\#")) != CAA_EOK)
		return rc;
	if (!tok_number(&t, RDATA_MAX, &want))
		return fail(ps, CAA_ERECORDS,
		            "generic RDATA length \"%s\" is not a number from 0 to 65535",
		            tok_show(&t, show));
	/* Hex is two characters an octet, so half the rest of the line bounds it. */
	char *dst = arena_reserve(ps->recs, (size_t)(ps->end - ps->p) / 2);
	if (dst == NULL)
		return fail(ps, CAA_EINTERNAL, "internal error: record storage");
	size_t n = 0;
	while ((rc = next_token(ps, &t)) > 0) {
		if (t.quoted)
			return fail(ps, CAA_ERECORDS, "bad hex: quoted text in generic RDATA");
		if (t.len % 2 != 0)
			return fail(ps, CAA_ERECORDS, "bad hex \"%s\": odd number of digits",
			            tok_show(&t, show));
		for (size_t i = 0; i < t.len; i += 2) {
			int hi = hexval(t.s[i]), lo = hexval(t.s[i + 1]);
			if (hi < 0 || lo < 0)
				return fail(ps, CAA_ERECORDS, "bad hex \"%s\"", tok_show(&t, show));
			dst[n++] = (char)(hi << 4 | lo);
		}
	}
	if (rc < 0)
		return rc;
	if (n != want)
		return fail(ps, CAA_ERECORDS,
		            "generic RDATA length is %lu but the hex has %zu octets", want, n);
	ps->recs->arena_used += n;
	return add_rr(ps, name, dst, n);
}

/* CAA <flags> <tag> <value>, encoded to wire RDATA. */
static int caa_record(parser_t *ps, const char *name)
{
	token_t flags_t, tag_t, value_t;
	unsigned long flags;
	size_t tag_len, value_len;
	char show[48];
	int rc;

	if ((rc = need_token(ps, &flags_t, "flags after CAA")) != CAA_EOK)
		return rc;
	if (!flags_t.quoted && flags_t.len == 2 && memcmp(flags_t.s, "\\#", 2) == 0)
		return generic_rdata(ps, name);
	if (!tok_number(&flags_t, 255, &flags))
		return fail(ps, CAA_ERECORDS, "bad flags \"%s\": expected a number from 0 to 255",
		            tok_show(&flags_t, show));
	if ((rc = need_token(ps, &tag_t, "tag after the flags")) != CAA_EOK)
		return rc;
	if (tag_t.quoted)
		return fail(ps, CAA_ERECORDS, "tag \"%s\" is quoted", tok_show(&tag_t, show));
	if ((rc = need_token(ps, &value_t, "value after the tag (\"\" for an empty one)")) !=
	    CAA_EOK)
		return rc;
	if ((rc = end_of_line(ps, "value")) != CAA_EOK)
		return rc;

	char *dst = arena_reserve(ps->recs, 2 + tag_t.len + value_t.len);
	if (dst == NULL)
		return fail(ps, CAA_EINTERNAL, "internal error: record storage");
	if ((rc = unescape(ps, &tag_t, dst + 2, &tag_len)) != CAA_EOK)
		return rc;
	if (tag_len == 0 || tag_len > 255)
		return fail(ps, CAA_ERECORDS, "tag must be 1 to 255 octets, not %zu", tag_len);
	if ((rc = unescape(ps, &value_t, dst + 2 + tag_len, &value_len)) != CAA_EOK)
		return rc;
	if (2 + tag_len + value_len > RDATA_MAX)
		return fail(ps, CAA_ERECORDS, "record longer than 65535 octets");
	dst[0] = (char)flags;
	dst[1] = (char)tag_len;
	ps->recs->arena_used += 2 + tag_len + value_len;
	return add_rr(ps, name, dst, 2 + tag_len + value_len);
}

/* <status word> ["reason"] */
static int status_line(parser_t *ps, const char *name, caa_outcome_t outcome)
{
	token_t t;
	const char *why = NULL;
	int rc = next_token(ps, &t);
	if (rc < 0)
		return rc;
	if (rc > 0) {
		char *dst = arena_reserve(ps->recs, t.len + 1);
		size_t n;
		if (dst == NULL)
			return fail(ps, CAA_EINTERNAL, "internal error: record storage");
		if ((rc = unescape(ps, &t, dst, &n)) != CAA_EOK)
			return rc;
		dst[n] = '\0';
		if ((rc = end_of_line(ps, "reason")) != CAA_EOK)
			return rc;
		ps->recs->arena_used += n + 1;
		why = dst;
	}

	owner_t *o = get_owner(ps, name);
	if (o == NULL)
		return CAA_ENOMEM;
	if (o->outcome == CAA_OUT_PRESENT)
		return fail(ps, CAA_ERECORDS, "%s has both CAA records (line %u) and a status",
		            name, o->line);
	if (o->outcome != CAA_OUT_PENDING)
		return fail(ps, CAA_ERECORDS, "%s already has a status (line %u)", name, o->line);
	o->outcome = outcome;
	o->why = why;
	o->line = ps->line;
	return CAA_EOK;
}

#define N_OF(a) (sizeof(a) / sizeof((a)[0]))

/* A word that is neither CAA nor a status: say which of the two it is not. */
static int unknown_word(parser_t *ps, const token_t *t)
{
	char show[48];
	bool rr_type = t->len > 4 && tok_ieq(&(token_t){t->s, 4, false}, "TYPE");
	for (size_t j = 0; j < N_OF(other_types); j++)
		rr_type = rr_type || tok_ieq(t, other_types[j]);
	if (rr_type)
		return fail(ps, CAA_ERECORDS,
		            "type %s: a records file holds only CAA records and status lines "
		            "(list the CAA RRset under the name that was queried)",
		            tok_show(t, show));
	return fail(ps, CAA_ERECORDS,
	            "unknown type or status word \"%s\" (expected CAA, NODATA, NXDOMAIN, "
	            "NODATA-NO-SOA, SERVFAIL, REFUSED, NOTIMP, FORMERR, TIMEOUT, NETWORK or BOGUS)",
	            tok_show(t, show));
}

static int entry(parser_t *ps, bool blank_owner)
{
	char name[CAA_NAME_MAX + 1];
	token_t t;
	int rc;

	if (blank_owner) {
		/* Zone-file rule: a line starting with a blank continues the last owner. */
		if (!ps->have_last)
			return fail(ps, CAA_ERECORDS,
			            "line starts with a blank but no owner name came before it");
		strcpy(name, ps->recs->owners[ps->last].name);
	} else {
		if ((rc = next_token(ps, &t)) < 0)
			return rc;
		if (tok_ieq(&t, "CAA"))
			return fail(ps, CAA_ERECORDS, "missing owner name before CAA");
		if ((rc = owner_name(ps, &t, name)) != CAA_EOK)
			return rc;
	}

	rc = skip_ttl_class(ps, &t);
	if (rc < 0)
		return rc;
	if (rc == 0)
		return fail(ps, CAA_ERECORDS, "missing type (CAA) or status word after %s", name);

	if (tok_ieq(&t, "CAA") || tok_ieq(&t, "TYPE257")) {
		rc = caa_record(ps, name);
	} else {
		size_t i = 0;
		while (i < N_OF(status_words) && !tok_ieq(&t, status_words[i].word))
			i++;
		if (i == N_OF(status_words))
			return unknown_word(ps, &t);
		rc = status_line(ps, name, status_words[i].outcome);
	}
	if (rc != CAA_EOK)
		return rc;
	ps->last = (size_t)(find_owner(ps->recs, name) - ps->recs->owners);
	ps->have_last = true;
	return CAA_EOK;
}

static int parse_line(parser_t *ps)
{
	const char *p = ps->p;
	while (p < ps->end && is_blank(*p))
		p++;
	if (p == ps->end || *p == ';')
		return CAA_EOK; /* blank or comment */
	if (ps->p[0] == '$')
		return directive(ps);
	return entry(ps, p != ps->p);
}

int caa_records_parse(const char *text, size_t len, caa_records_t **out, char *err, size_t errlen)
{
	parser_t ps = {.err = err, .errlen = errlen};
	int rc = CAA_EOK;

	*out = NULL;
	if (errlen > 0)
		err[0] = '\0';
	if (text == NULL && len > 0)
		return CAA_EINVAL;
	if (len > CAA_RECORDS_MAX_SIZE) {
		if (errlen > 0)
			caa_set_err(err, errlen, "records text is larger than %d octets",
			            CAA_RECORDS_MAX_SIZE);
		return CAA_ELIMIT;
	}
	ps.recs = calloc(1, sizeof(*ps.recs));
	if (ps.recs == NULL)
		return CAA_ENOMEM;
	ps.recs->arena_size = len;
	ps.recs->arena = malloc(len + 1);
	if (ps.recs->arena == NULL) {
		caa_records_free(ps.recs);
		return CAA_ENOMEM;
	}

	const char *p = text, *end = text + len;
	while (p < end && rc == CAA_EOK) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *eol = nl ? nl : end;
		ps.line++;
		ps.p = p;
		ps.end = (eol > p && eol[-1] == '\r') ? eol - 1 : eol;
		rc = parse_line(&ps);
		p = nl ? nl + 1 : end;
	}
	if (rc == CAA_ENOMEM && errlen > 0)
		caa_set_err(err, errlen, "line %u: %s", ps.line, caa_strerror(rc));
	if (rc != CAA_EOK) {
		caa_records_free(ps.recs);
		return rc;
	}
	*out = ps.recs;
	return CAA_EOK;
}

int caa_records_load(const char *path, caa_records_t **out, char *err, size_t errlen)
{
	char *buf = NULL;
	size_t len = 0;
	int rc;
	FILE *f = fopen(path, "rb");

	*out = NULL;
	if (f == NULL)
		goto io_error;
	/* One octet more than the limit tells "too large" from "exactly at it". */
	buf = malloc(CAA_RECORDS_MAX_SIZE + 1);
	if (buf == NULL) {
		fclose(f);
		return CAA_ENOMEM;
	}
	len = fread(buf, 1, CAA_RECORDS_MAX_SIZE + 1, f);
	if (ferror(f)) {
		fclose(f);
		goto io_error;
	}
	fclose(f);
	if (len > CAA_RECORDS_MAX_SIZE) {
		free(buf);
		if (errlen > 0)
			caa_set_err(err, errlen, "%s: larger than %d octets", path,
			            CAA_RECORDS_MAX_SIZE);
		return CAA_ELIMIT;
	}

	char inner[512];
	rc = caa_records_parse(buf, len, out, inner, sizeof(inner));
	free(buf);
	if (rc != CAA_EOK && errlen > 0)
		caa_set_err(err, errlen, "%s: %s", path, inner);
	return rc;

io_error:
	if (errlen > 0)
		caa_set_err(err, errlen, "%s: %s", path, strerror(errno));
	free(buf);
	return CAA_EIO;
}

void caa_records_labels(const caa_records_t *recs, const caa_name_t *name, caa_label_t *labels)
{
	for (unsigned i = 0; i < name->n_labels; i++) {
		caa_label_t *l = &labels[i];
		const owner_t *o = recs ? find_owner(recs, caa_name_suffix(name, i)) : NULL;

		*l = (caa_label_t){.name = caa_name_suffix(name, i),
		                   .outcome = CAA_OUT_EMPTY,
		                   .dnssec = CAA_DNSSEC_INDETERMINATE};
		if (o == NULL || o->outcome == CAA_OUT_PENDING)
			continue;
		l->outcome = o->outcome;
		l->why = o->why;
		l->rrs = o->rrs;
		l->n_rrs = o->n_rrs;
		if (o->outcome == CAA_OUT_BOGUS)
			l->dnssec = CAA_DNSSEC_BOGUS;
	}
}

void caa_records_free(caa_records_t *recs)
{
	if (recs == NULL)
		return;
	for (size_t i = 0; i < recs->n_owners; i++)
		free(recs->owners[i].rrs);
	free(recs->owners);
	free(recs->slots);
	free(recs->arena);
	free(recs);
}
