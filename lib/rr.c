/*
 * rr.c — CAA RDATA parsing, tag classification and the issue/issuewild value
 * grammar (RFC 8659 §4.1, §4.2; RFC 8657 §3, §4).
 *
 * Everything is a single forward scan over caller memory: no allocation, no
 * locale (ctype.h would make "I" and "i" depend on LC_CTYPE), O(n).
 */
#include <string.h>

#include "codes.h"
#include "rr.h"

/* RDLENGTH is 16 bits: longer "RDATA" cannot come from DNS and would not fit
 * value_len. */
#define RDATA_MAX 65535

/*
 * Byte classes of RFC 8659 §4.2, looked up once per byte: the scan loops then
 * cost one load and test per octet (about a third faster than comparisons on
 * a 125-octet value). Bytes 0x80-0xff are in no class.
 */
enum { C_ALNUM = 1, C_LDH = 2, C_WSP = 4, C_PVALUE = 8 };

#define A (C_ALNUM | C_LDH | C_PVALUE) /* ALPHA / DIGIT */
#define H (C_LDH | C_PVALUE)           /* '-' */
#define P C_PVALUE                     /* value = *(%x21-3A / %x3C-7E) */
#define W C_WSP                        /* WSP = SP / HTAB */
/* clang-format off */
static const uint8_t cls[256] = {
	0, 0, 0, 0, 0, 0, 0, 0, 0, W, 0, 0, 0, 0, 0, 0, /* 0x00 */
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, /* 0x10 */
	W, P, P, P, P, P, P, P, P, P, P, P, P, H, P, P, /* 0x20  !"#$%&'()*+,-./ */
	A, A, A, A, A, A, A, A, A, A, P, 0, P, P, P, P, /* 0x30 0-9:;<=>? */
	P, A, A, A, A, A, A, A, A, A, A, A, A, A, A, A, /* 0x40 @A-O */
	A, A, A, A, A, A, A, A, A, A, A, P, P, P, P, P, /* 0x50 P-Z[\]^_ */
	P, A, A, A, A, A, A, A, A, A, A, A, A, A, A, A, /* 0x60 `a-o */
	A, A, A, A, A, A, A, A, A, A, A, P, P, P, P, 0, /* 0x70 p-z{|}~ DEL */
};
/* clang-format on */
#undef A
#undef H
#undef P
#undef W

static inline bool is_alnum(unsigned char c)
{
	return cls[c] & C_ALNUM;
}

/* letter, digit or hyphen */
static inline bool is_ldh(unsigned char c)
{
	return cls[c] & C_LDH;
}

static inline bool is_wsp(unsigned char c)
{
	return cls[c] & C_WSP;
}

static inline bool is_pvalue(unsigned char c)
{
	return cls[c] & C_PVALUE;
}

/* ASCII case-insensitive compare of s against lowercase letters lit.
 * (c | 0x20) == l holds only for c in {l, l - 0x20} when l is a lowercase
 * letter, so any other byte, high-bit or NUL, cannot match. */
static inline bool eq_lower(const char *s, const char *lit, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (((unsigned char)s[i] | 0x20) != (unsigned char)lit[i]) {
			return false;
		}
	}
	return true;
}

int caa_rr_parse(const uint8_t *rdata, size_t len, caa_rr_t *out)
{
	/* Empty but printable views, so "%.*s" and memcmp never see NULL. */
	*out = (caa_rr_t){.malformed = true, .tag = "", .value = ""};
	if (len <= RDATA_MAX) { /* evidence of what did not parse */
		out->rdata = rdata;
		out->rdata_len = (uint16_t)len;
	}
	if (len >= 1) {
		out->flags = rdata[0];
	}
	if (len < 2) {
		return CAA_ERR_SHORT;
	}
	if (len > RDATA_MAX) {
		return CAA_ELIMIT;
	}
	size_t tag_len = rdata[1];
	if (tag_len == 0) {
		return CAA_ERR_TAGLEN0;
	}
	if (tag_len > len - 2) {
		return CAA_ERR_TAGLEN;
	}
	const uint8_t *tag = rdata + 2;
	for (size_t i = 0; i < tag_len; i++) {
		if (!is_alnum(tag[i])) {
			return CAA_ERR_TAGCHAR;
		}
	}

	out->malformed = false;
	out->rdata = NULL;
	out->rdata_len = 0;
	out->tag_len = (uint8_t)tag_len;
	out->tag = (const char *)tag;
	out->value = (const char *)tag + tag_len;
	out->value_len = (uint16_t)(len - 2 - tag_len);
	return CAA_EOK;
}

caa_tag_t caa_rr_tag(const char *tag, size_t len)
{
	/* Dispatch on length; shared prefixes ("issue", "contact") compare once. */
	switch (len) {
	case 5:
		if (eq_lower(tag, "issue", 5)) {
			return CAA_TAG_ISSUE;
		}
		if (eq_lower(tag, "iodef", 5)) {
			return CAA_TAG_IODEF;
		}
		break;
	case 8:
		if (eq_lower(tag, "issuevmc", 8)) {
			return CAA_TAG_ISSUEVMC;
		}
		break;
	case 9:
		if (!eq_lower(tag, "issue", 5)) {
			break;
		}
		if (eq_lower(tag + 5, "wild", 4)) {
			return CAA_TAG_ISSUEWILD;
		}
		if (eq_lower(tag + 5, "mail", 4)) {
			return CAA_TAG_ISSUEMAIL;
		}
		break;
	case 12:
		if (!eq_lower(tag, "contact", 7)) {
			break;
		}
		if (eq_lower(tag + 7, "email", 5)) {
			return CAA_TAG_CONTACTEMAIL;
		}
		if (eq_lower(tag + 7, "phone", 5)) {
			return CAA_TAG_CONTACTPHONE;
		}
		break;
	default: break;
	}
	return CAA_TAG_UNKNOWN;
}

/* A cursor over the value text. */
typedef struct {
	const unsigned char *s;
	size_t len;
	size_t pos;
} scan_t;

static inline void skip_wsp(scan_t *sc)
{
	while (sc->pos < sc->len && is_wsp(sc->s[sc->pos])) {
		sc->pos++;
	}
}

/*
 * label = (ALPHA / DIGIT) *( *("-") (ALPHA / DIGIT)), i.e. [A-Za-z0-9-]+ that
 * starts and ends alphanumeric. Consuming the longest [A-Za-z0-9-] run is
 * exact: in every context a label is followed by '.', ',', '=', WSP, ';' or
 * the end, never by '-' or an alphanumeric, so no shorter match could succeed.
 */
static bool scan_label(scan_t *sc)
{
	size_t start = sc->pos;
	if (start >= sc->len || !is_alnum(sc->s[start])) {
		return false;
	}
	while (sc->pos < sc->len && is_ldh(sc->s[sc->pos])) {
		sc->pos++;
	}
	return sc->s[sc->pos - 1] != '-';
}

/* issuer-domain-name = label *("." label): no empty label, no trailing dot. */
static bool scan_domain(scan_t *sc)
{
	if (!scan_label(sc)) {
		return false;
	}
	while (sc->pos < sc->len && sc->s[sc->pos] == '.') {
		sc->pos++;
		if (!scan_label(sc)) {
			return false;
		}
	}
	return true;
}

/* RFC 8657 §4: value = [*(label ",") label], label = 1*(ALPHA / DIGIT / "-")
 * ([A-Za-z0-9-]+, as Boulder: hyphens anywhere, so "foo-" is a well-formed
 * unknown label that is skipped). An empty list is well formed (it permits no
 * method); an empty label or any other character is not. */
static bool methods_wellformed(const unsigned char *m, size_t len)
{
	size_t run = 0; /* octets in the current label */
	for (size_t i = 0; i < len; i++) {
		if (m[i] == ',') {
			if (run == 0) {
				return false;
			}
			run = 0;
		} else if (is_ldh(m[i])) {
			run++;
		} else {
			return false;
		}
	}
	return len == 0 || run > 0;
}

/* Record one parameter. Duplicates are counted, not merged: the first value
 * is kept, and a count above 1 makes the property unusable downstream. */
static void take_param(caa_issue_value_t *out, const char *tag, size_t tag_len, const char *val,
                       size_t val_len)
{
	if (tag_len == 10 && eq_lower(tag, "accounturi", 10)) {
		if (out->n_accounturi++ == 0) {
			out->accounturi = val;
			out->accounturi_len = val_len;
		}
	} else if (tag_len == 17 && eq_lower(tag, "validationmethods", 17)) {
		if (out->n_methods++ == 0) {
			out->methods = val;
			out->methods_len = val_len;
		}
		/* Any malformed copy taints the property, even a second one. */
		if (!methods_wellformed((const unsigned char *)val, val_len)) {
			out->methods_malformed = true;
		}
	}
	/* Unknown parameters are ignored (RFC 8659 §4.2). */
}

/*
 * issue-value = *WSP [issuer-domain-name *WSP] [";" *WSP [parameters *WSP]]
 * parameters  = (parameter *WSP ";" *WSP parameters) / parameter
 * parameter   = tag *WSP "=" *WSP value
 *
 * So ';' may end the text only straight after the (possibly empty) issuer:
 * "ca.example;" parses, "ca.example; a=b;" and "ca.example;;" do not, because
 * every ';' between parameters must be followed by another parameter.
 */
static bool scan_issue_value(scan_t *sc, caa_issue_value_t *out)
{
	const char *base = (const char *)sc->s;

	skip_wsp(sc);
	size_t start = sc->pos;
	if (sc->pos < sc->len && is_alnum(sc->s[sc->pos])) {
		if (!scan_domain(sc)) {
			return false;
		}
	}
	out->issuer = base + start;
	out->issuer_len = sc->pos - start;
	skip_wsp(sc);

	if (sc->pos == sc->len) {
		return true;
	}
	if (sc->s[sc->pos] != ';') {
		return false;
	}
	sc->pos++;
	skip_wsp(sc);
	if (sc->pos == sc->len) {
		return true;
	}

	for (;;) {
		size_t tag = sc->pos;
		if (!scan_label(sc)) {
			return false;
		}
		size_t tag_len = sc->pos - tag;
		skip_wsp(sc);
		if (sc->pos == sc->len || sc->s[sc->pos] != '=') {
			return false;
		}
		sc->pos++;
		skip_wsp(sc);
		size_t val = sc->pos;
		while (sc->pos < sc->len && is_pvalue(sc->s[sc->pos])) {
			sc->pos++;
		}
		take_param(out, base + tag, tag_len, base + val, sc->pos - val);

		skip_wsp(sc);
		if (sc->pos == sc->len) {
			return true;
		}
		if (sc->s[sc->pos] != ';') {
			return false;
		}
		sc->pos++;
		skip_wsp(sc);
		/* scan_label() fails at the end, rejecting a trailing ';'. */
	}
}

int caa_rr_issue_value_parse(const char *value, size_t len, caa_issue_value_t *out)
{
	*out = (caa_issue_value_t){0};
	if (value == NULL) {
		if (len != 0) {
			return CAA_EINVAL;
		}
		value = ""; /* keep pointer arithmetic off NULL */
	}
	scan_t sc = {(const unsigned char *)value, len, 0};
	if (!scan_issue_value(&sc, out)) {
		*out = (caa_issue_value_t){0};
		return CAA_ERR_VALUE;
	}
	return CAA_EOK;
}

bool caa_rr_methods_next(const caa_issue_value_t *v, size_t *pos, const char **label,
                         size_t *label_len)
{
	size_t p = *pos;
	if (v->methods == NULL || p >= v->methods_len) {
		return false;
	}
	const char *m = v->methods;
	const char *comma = memchr(m + p, ',', v->methods_len - p);
	size_t end = comma != NULL ? (size_t)(comma - m) : v->methods_len;
	*label = m + p;
	*label_len = end - p;
	/* Always advances by at least one, so iteration ends even on
	 * malformed lists like ",,,". */
	*pos = comma != NULL ? end + 1 : end;
	return true;
}
