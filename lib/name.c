/*
 * name.c — normalise and validate DNS identifiers (docs/semantics.md §1) and list the
 * labels the climb queries. No allocations: everything lives in caa_name_t
 * or on the stack.
 *
 * Decisions the RFCs leave open (docs/semantics.md §1.1 states them):
 * - The 253-octet limit counts the identifier as requested, after stripping
 *   the one trailing dot but before taking off "*.": a wildcard identifier is
 *   itself a name ("*" is a label) and must fit a certificate's dNSName.
 * - Errors are reported in this order: empty input, IP literal (not
 *   applicable), nothing left after the trailing dot (empty label), too long,
 *   then label by label from the left, the first problem of the first bad
 *   label: a bad octet (non-ASCII, '*', other non-LDH, in octet order), empty,
 *   longer than 63, leading/trailing hyphen, "--" at 3-4 (RLDH or IDN); then
 *   an all-numeric last label; then ".onion" (not applicable).
 * - An IP literal must be exactly that: "192.0.2.1." (trailing dot) is a name
 *   with a numeric TLD. "[v6]" is accepted, "[v4]" is not an IP literal.
 * - A .onion name is validated like any other name first (an invalid one gets
 *   its own error); a valid one is filled in as a normal name (wildcard flag,
 *   labels) and answered CAA_ENOTAPPLICABLE. An IP literal's text is the input
 *   lowercased, with no labels.
 * - On any other error out is left zeroed.
 */
#include <arpa/inet.h>
#include <string.h>

#include "codes.h"
#include "name.h"

#define LABEL_MAX 63

/* RFC 3492 §5 parameters for IDNA. */
#define PUNY_BASE   36
#define PUNY_TMIN   1
#define PUNY_TMAX   26
#define PUNY_SKEW   38
#define PUNY_DAMP   700
#define PUNY_BIAS   72
#define PUNY_N      0x80
#define PUNY_MAXINT UINT32_MAX

/* The punycode after "xn--" is at most 59 octets: at most 59 code points. */
#define PUNY_OUT_MAX LABEL_MAX

static char lower(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : (char)c;
}

static bool is_ldh(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '-';
}

static uint32_t puny_adapt(uint32_t delta, uint32_t numpoints, bool firsttime)
{
	uint32_t k = 0;

	delta = firsttime ? delta / PUNY_DAMP : delta / 2;
	delta += delta / numpoints;
	while (delta > ((PUNY_BASE - PUNY_TMIN) * PUNY_TMAX) / 2) {
		delta /= PUNY_BASE - PUNY_TMIN;
		k += PUNY_BASE;
	}
	return k + (PUNY_BASE - PUNY_TMIN + 1) * delta / (delta + PUNY_SKEW);
}

static uint32_t puny_threshold(uint32_t k, uint32_t bias)
{
	if (k <= bias) {
		return PUNY_TMIN;
	}
	if (k >= bias + PUNY_TMAX) {
		return PUNY_TMAX;
	}
	return k - bias;
}

/* Digit value of a lowercase punycode octet, PUNY_BASE if it is none. */
static uint32_t puny_digit(char c)
{
	if (c >= 'a' && c <= 'z') {
		return (uint32_t)(c - 'a');
	}
	if (c >= '0' && c <= '9') {
		return (uint32_t)(c - '0' + 26);
	}
	return PUNY_BASE;
}

static char puny_char(uint32_t d)
{
	return d < 26 ? (char)('a' + d) : (char)('0' + d - 26);
}

/* RFC 3492 §6.2 decoder with its overflow checks. Returns false when in is not
 * decodable or decodes to more than max code points. */
static bool puny_decode(const char *in, size_t len, uint32_t *out, size_t *out_len, size_t max)
{
	uint32_t n = PUNY_N, i = 0, bias = PUNY_BIAS;
	size_t b = 0, pos = 0, count = 0;

	for (size_t j = 0; j < len; j++) {
		if (in[j] == '-') {
			b = j;
		}
	}
	if (b > max) {
		return false;
	}
	for (size_t j = 0; j < b; j++) {
		out[count++] = (unsigned char)in[j];
	}
	pos = b > 0 ? b + 1 : 0;

	while (pos < len) {
		uint32_t oldi = i, w = 1;
		for (uint32_t k = PUNY_BASE;; k += PUNY_BASE) {
			if (pos >= len) {
				return false;
			}
			uint32_t digit = puny_digit(in[pos++]);
			if (digit >= PUNY_BASE || digit > (PUNY_MAXINT - i) / w) {
				return false;
			}
			i += digit * w;
			uint32_t t = puny_threshold(k, bias);
			if (digit < t) {
				break;
			}
			if (w > PUNY_MAXINT / (PUNY_BASE - t)) {
				return false;
			}
			w *= PUNY_BASE - t;
		}
		uint32_t points = (uint32_t)count + 1;
		bias = puny_adapt(i - oldi, points, oldi == 0);
		if (i / points > PUNY_MAXINT - n) {
			return false;
		}
		n += i / points;
		i %= points;
		if (count >= max) {
			return false;
		}
		memmove(out + i + 1, out + i, (count - i) * sizeof(*out));
		out[i++] = n;
		count++;
	}
	*out_len = count;
	return true;
}

/* RFC 3492 §6.3 encoder with its overflow checks, lowercase output. Returns
 * false on overflow or when the result would not fit max octets. */
static bool puny_encode(const uint32_t *in, size_t len, char *out, size_t *out_len, size_t max)
{
	uint32_t n = PUNY_N, delta = 0, bias = PUNY_BIAS, h, b = 0;
	size_t o = 0;

	for (size_t j = 0; j < len; j++) {
		if (in[j] < 0x80) {
			if (o >= max) {
				return false;
			}
			out[o++] = (char)in[j];
			b++;
		}
	}
	h = b;
	if (b > 0) {
		if (o >= max) {
			return false;
		}
		out[o++] = '-';
	}
	while (h < len) {
		uint32_t m = PUNY_MAXINT;
		for (size_t j = 0; j < len; j++) {
			if (in[j] >= n && in[j] < m) {
				m = in[j];
			}
		}
		if (m - n > (PUNY_MAXINT - delta) / (h + 1)) {
			return false;
		}
		delta += (m - n) * (h + 1);
		n = m;
		for (size_t j = 0; j < len; j++) {
			if (in[j] < n && ++delta == 0) {
				return false;
			}
			if (in[j] != n) {
				continue;
			}
			uint32_t q = delta;
			for (uint32_t k = PUNY_BASE;; k += PUNY_BASE) {
				uint32_t t = puny_threshold(k, bias);
				if (q < t) {
					break;
				}
				if (o >= max) {
					return false;
				}
				out[o++] = puny_char(t + (q - t) % (PUNY_BASE - t));
				q = (q - t) / (PUNY_BASE - t);
			}
			if (o >= max) {
				return false;
			}
			out[o++] = puny_char(q);
			bias = puny_adapt(delta, h + 1, h == b);
			delta = 0;
			h++;
		}
		delta++;
		n++;
	}
	*out_len = o;
	return true;
}

/* Code points no U-label may hold. Not the IDNA2008 tables (RFC 5892): only
 * what is never a character — C1 controls, surrogates, noncharacters and
 * values past Unicode. */
static bool cp_forbidden(uint32_t cp)
{
	return (cp >= 0x80 && cp <= 0x9f) || (cp >= 0xd800 && cp <= 0xdfff) ||
	       (cp >= 0xfdd0 && cp <= 0xfdef) || (cp & 0xfffe) == 0xfffe || cp > 0x10ffff;
}

/*
 * An xn-- label (lowercase LDH) is accepted when its tail decodes as RFC 3492
 * punycode, the result is not empty and holds at least one non-ASCII code
 * point, none of them is forbidden (cp_forbidden), the U-label has no
 * leading/trailing hyphen nor "--" at 3-4 (RFC 5891 §4.2.3.1), and encoding
 * it again gives the same tail (no alternative spellings of one U-label).
 * No NFC, bidi or contextual rules: those need Unicode tables.
 */
static bool alabel_valid(const char *label, size_t len)
{
	uint32_t cps[PUNY_OUT_MAX];
	char again[LABEL_MAX];
	size_t n_cps = 0, again_len = 0;
	bool non_ascii = false;

	label += 4;
	len -= 4;
	if (len == 0 || !puny_decode(label, len, cps, &n_cps, PUNY_OUT_MAX) || n_cps == 0) {
		return false;
	}
	for (size_t i = 0; i < n_cps; i++) {
		if (cp_forbidden(cps[i])) {
			return false;
		}
		non_ascii = non_ascii || cps[i] >= 0x80;
	}
	if (!non_ascii || cps[0] == '-' || cps[n_cps - 1] == '-' ||
	    (n_cps >= 4 && cps[2] == '-' && cps[3] == '-')) {
		return false;
	}
	return puny_encode(cps, n_cps, again, &again_len, sizeof(again)) && again_len == len &&
	       memcmp(again, label, len) == 0;
}

/* Structure of one lowercase label whose octets are already known to be LDH. */
static int label_check(const char *label, size_t len)
{
	if (len == 0) {
		return CAA_ENAME_EMPTYLABEL;
	}
	if (len > LABEL_MAX) {
		return CAA_ENAME_LABELLEN;
	}
	if (label[0] == '-' || label[len - 1] == '-') {
		return CAA_ENAME_HYPHEN;
	}
	if (len >= 4 && label[2] == '-' && label[3] == '-') {
		if (label[0] != 'x' || label[1] != 'n') {
			return CAA_ENAME_RLDH;
		}
		if (!alabel_valid(label, len)) {
			return CAA_ENAME_IDN;
		}
	}
	return CAA_EOK;
}

static bool all_digits(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9') {
			return false;
		}
	}
	return true;
}

static int parse_fail(caa_name_t *out, int code)
{
	memset(out, 0, sizeof(*out));
	return code;
}

/* Not applicable identifiers keep their text for display (lowercased, when it fits). */
static void fill_raw(const char *in, size_t len, caa_name_t *out)
{
	if (len > CAA_NAME_MAX || memchr(in, '\0', len) != NULL) {
		return;
	}
	for (size_t i = 0; i < len; i++) {
		out->text[i] = lower((unsigned char)in[i]);
	}
	out->text[len] = '\0';
	out->len = (uint8_t)len;
}

int caa_name_parse(const char *in, size_t len, caa_name_t *out)
{
	size_t start = 0;
	unsigned n = 0;

	if (out == NULL || (in == NULL && len > 0)) {
		return CAA_EINVAL;
	}
	memset(out, 0, sizeof(*out));
	if (len == 0) {
		return CAA_ENAME_EMPTY;
	}
	if (caa_name_is_ip(in, len)) {
		fill_raw(in, len, out);
		return CAA_ENOTAPPLICABLE;
	}
	if (in[len - 1] == '.') {
		len--;
	}
	if (len == 0) {
		return CAA_ENAME_EMPTYLABEL;
	}
	if (len > CAA_NAME_MAX) {
		return CAA_ENAME_TOOLONG;
	}
	if (len >= 2 && in[0] == '*' && in[1] == '.') {
		out->wildcard = true;
		in += 2;
		len -= 2;
	}

	/* One pass: copy lowercased octets, check each label as it ends. */
	for (size_t pos = 0; pos <= len; pos++) {
		if (pos < len && in[pos] != '.') {
			unsigned char c = (unsigned char)in[pos];
			if (c >= 0x80) {
				return parse_fail(out, CAA_ENAME_UNICODE);
			}
			if (c == '*') {
				return parse_fail(out, CAA_ENAME_WILDCARD);
			}
			if (!is_ldh(c)) {
				return parse_fail(out, CAA_ENAME_CHAR);
			}
			out->text[pos] = lower(c);
			continue;
		}
		int ret = label_check(out->text + start, pos - start);
		if (ret != CAA_EOK) {
			return parse_fail(out, ret);
		}
		if (n >= CAA_LABELS_MAX) { /* unreachable within 253 octets */
			return parse_fail(out, CAA_ENAME_TOOLONG);
		}
		out->label_off[n++] = (uint8_t)start;
		out->text[pos] = pos < len ? '.' : '\0';
		start = pos + 1;
	}
	out->len = (uint8_t)len;
	out->n_labels = (uint8_t)n;

	const char *tld = out->text + out->label_off[n - 1];
	size_t tld_len = len - out->label_off[n - 1];
	if (all_digits(tld, tld_len)) {
		return parse_fail(out, CAA_ENAME_NUMERIC_TLD);
	}
	if (tld_len == 5 && memcmp(tld, "onion", 5) == 0) {
		return CAA_ENOTAPPLICABLE;
	}
	return CAA_EOK;
}

int caa_name_parse_typed(const char *type, const char *value, size_t len, caa_name_t *out)
{
	if (type == NULL || out == NULL || (value == NULL && len > 0)) {
		return CAA_EINVAL;
	}
	if (strcmp(type, "dns") == 0) {
		/* An address is never a DNS name: checking it as "not applicable"
		 * would answer for an identifier nobody asked about. */
		if (caa_name_is_ip(value, len)) {
			memset(out, 0, sizeof(*out));
			return CAA_ENAME_DNS_IP;
		}
		return caa_name_parse(value, len, out);
	}
	memset(out, 0, sizeof(*out));
	if (strcmp(type, "ip") == 0) {
		/* CAA does not apply to an IP identifier, but it must be one. */
		if (!caa_name_is_ip(value, len)) {
			return CAA_ENAME_IP;
		}
		fill_raw(value, len, out);
		return CAA_ENOTAPPLICABLE;
	}
	return CAA_ENAME_TYPE;
}

const char *caa_name_suffix(const caa_name_t *name, unsigned i)
{
	if (name == NULL || i >= name->n_labels) {
		return NULL;
	}
	return name->text + name->label_off[i];
}

bool caa_name_is_ip(const char *in, size_t len)
{
	/* The longest textual IPv6 address is 45 octets; leave room. */
	char buf[64];
	unsigned char addr[sizeof(struct in6_addr)];
	bool bracketed = false;

	if (in == NULL) {
		return false;
	}
	if (len >= 2 && in[0] == '[' && in[len - 1] == ']') {
		bracketed = true;
		in++;
		len -= 2;
	}
	if (len == 0 || len >= sizeof(buf) || memchr(in, '\0', len) != NULL) {
		return false;
	}
	/* Every textual IPv6 address has a colon and no IPv4 address has one:
	 * ask inet_pton for the one family that can match (a scan asks this
	 * several times per name; most names are neither). */
	bool colon = memchr(in, ':', len) != NULL;
	if (!colon && (bracketed || in[0] < '0' || in[0] > '9')) {
		return false;
	}
	memcpy(buf, in, len);
	buf[len] = '\0';
	if (!colon) {
		return inet_pton(AF_INET, buf, addr) == 1;
	}
	return inet_pton(AF_INET6, buf, addr) == 1;
}
