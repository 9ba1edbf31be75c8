/*
 * fuzz_value.c — caa_rr_issue_value_parse against a second, differently
 * built reading of RFC 8659 §4.2 (split on ';' and '=', trim WSP, check each
 * piece), plus the invariants of caa_rr_methods_next. Aborts on disagreement.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "codes.h"
#include "rr.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(c)                                                                                   \
	do {                                                                                       \
		if (!(c)) {                                                                        \
			abort();                                                                   \
		}                                                                                  \
	} while (0)

typedef struct {
	const char *p;
	size_t n;
} span_t;

static bool ref_alnum(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static bool ref_wsp(char c)
{
	return c == ' ' || c == '\t';
}

static span_t trim(span_t s)
{
	while (s.n > 0 && ref_wsp(s.p[0])) {
		s.p++;
		s.n--;
	}
	while (s.n > 0 && ref_wsp(s.p[s.n - 1])) {
		s.n--;
	}
	return s;
}

/* The whole span is one label. */
static bool ref_label(span_t s)
{
	if (s.n == 0 || !ref_alnum(s.p[0]) || !ref_alnum(s.p[s.n - 1])) {
		return false;
	}
	for (size_t i = 0; i < s.n; i++) {
		if (!ref_alnum(s.p[i]) && s.p[i] != '-') {
			return false;
		}
	}
	return true;
}

/* A validationmethods label (docs/semantics.md §5, as Boulder): [A-Za-z0-9-]+. */
static bool ref_method_label(span_t s)
{
	if (s.n == 0) {
		return false;
	}
	for (size_t i = 0; i < s.n; i++) {
		if (!ref_alnum(s.p[i]) && s.p[i] != '-') {
			return false;
		}
	}
	return true;
}

/* The whole span is a sep-separated list of labels (at least one), each
 * accepted by is_label. */
static bool ref_labels(span_t s, char sep, bool (*is_label)(span_t))
{
	for (;;) {
		const char *e = memchr(s.p, sep, s.n);
		span_t l = {s.p, e != NULL ? (size_t)(e - s.p) : s.n};
		if (!is_label(l)) {
			return false;
		}
		if (e == NULL) {
			return true;
		}
		s.n -= l.n + 1;
		s.p = e + 1;
	}
}

static bool ieq(span_t s, const char *lit)
{
	size_t n = strlen(lit);
	if (s.n != n) {
		return false;
	}
	for (size_t i = 0; i < n; i++) {
		char c = s.p[i];
		if (c >= 'A' && c <= 'Z') {
			c = (char)(c - 'A' + 'a');
		}
		if (c != lit[i]) {
			return false;
		}
	}
	return true;
}

typedef struct {
	span_t issuer;
	unsigned n_acc, n_m;
	span_t acc, m;
	bool malformed;
} ref_t;

static bool ref_param(span_t piece, ref_t *r)
{
	piece = trim(piece);
	const char *eq = memchr(piece.p, '=', piece.n);
	if (piece.n == 0 || eq == NULL) {
		return false;
	}
	span_t tag = trim((span_t){piece.p, (size_t)(eq - piece.p)});
	span_t val = trim((span_t){eq + 1, piece.n - (size_t)(eq - piece.p) - 1});
	if (tag.p != piece.p || !ref_label(tag)) {
		return false;
	}
	for (size_t i = 0; i < val.n; i++) {
		unsigned char c = (unsigned char)val.p[i];
		if (c <= ' ' || c >= 0x7f || c == ';') {
			return false;
		}
	}
	if (ieq(tag, "accounturi") && r->n_acc++ == 0) {
		r->acc = val;
	}
	if (ieq(tag, "validationmethods")) {
		if (r->n_m++ == 0) {
			r->m = val;
		}
		if (val.n > 0 && !ref_labels(val, ',', ref_method_label)) {
			r->malformed = true;
		}
	}
	return true;
}

static bool ref_parse(span_t s, ref_t *r)
{
	memset(r, 0, sizeof(*r));
	const char *semi = memchr(s.p, ';', s.n);
	span_t head = trim((span_t){s.p, semi != NULL ? (size_t)(semi - s.p) : s.n});
	if (head.n > 0 && !ref_labels(head, '.', ref_label)) {
		return false;
	}
	r->issuer = head;
	if (semi == NULL) {
		return true;
	}
	span_t rest = {semi + 1, s.n - (size_t)(semi - s.p) - 1};
	if (trim(rest).n == 0) {
		return true;
	}
	for (;;) {
		const char *e = memchr(rest.p, ';', rest.n);
		span_t piece = {rest.p, e != NULL ? (size_t)(e - rest.p) : rest.n};
		if (!ref_param(piece, r)) {
			return false;
		}
		if (e == NULL) {
			return true;
		}
		rest.n -= piece.n + 1;
		rest.p = e + 1;
	}
}

static bool span_eq(const char *p, size_t n, span_t s)
{
	return n == s.n && (n == 0 || p == s.p);
}

static void check_methods(const caa_issue_value_t *v)
{
	size_t pos = 0, iter = 0, joined = 0;
	const char *l;
	size_t ll;
	while (caa_rr_methods_next(v, &pos, &l, &ll)) {
		CHECK(++iter <= v->methods_len + 1);
		CHECK(l >= v->methods && l + ll <= v->methods + v->methods_len);
		CHECK(pos <= v->methods_len);
		if (!v->methods_malformed) {
			CHECK(ref_method_label((span_t){l, ll}));
			/* labels and commas tile the list exactly */
			CHECK(l == v->methods + joined);
			joined += ll + (joined + ll < v->methods_len ? 1 : 0);
		}
	}
	if (!v->methods_malformed) {
		CHECK(joined == v->methods_len);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *s = (const char *)data;
	caa_issue_value_t v, w;
	ref_t r;

	int ret = caa_rr_issue_value_parse(s, size, &v);
	bool ok = ref_parse((span_t){s, size}, &r);
	CHECK(ret == (ok ? CAA_EOK : CAA_ERR_VALUE));

	CHECK(caa_rr_issue_value_parse(s, size, &w) == ret);
	CHECK(v.issuer == w.issuer && v.issuer_len == w.issuer_len);
	CHECK(v.n_accounturi == w.n_accounturi && v.accounturi == w.accounturi);
	CHECK(v.accounturi_len == w.accounturi_len && v.n_methods == w.n_methods);
	CHECK(v.methods == w.methods && v.methods_len == w.methods_len);
	CHECK(v.methods_malformed == w.methods_malformed);

	if (ret != CAA_EOK) {
		CHECK(v.issuer == NULL && v.issuer_len == 0);
		CHECK(v.n_accounturi == 0 && v.accounturi == NULL && v.accounturi_len == 0);
		CHECK(v.n_methods == 0 && v.methods == NULL && v.methods_len == 0);
		CHECK(!v.methods_malformed);
		check_methods(&v);
		return 0;
	}
	CHECK(v.issuer != NULL);
	CHECK(v.issuer >= s && v.issuer + v.issuer_len <= s + size);
	CHECK(span_eq(v.issuer, v.issuer_len, r.issuer));
	CHECK(v.n_accounturi == r.n_acc);
	CHECK(v.n_methods == r.n_m);
	CHECK(v.methods_malformed == r.malformed);
	if (v.n_accounturi > 0) {
		CHECK(v.accounturi >= s && v.accounturi + v.accounturi_len <= s + size);
		CHECK(span_eq(v.accounturi, v.accounturi_len, r.acc));
	} else {
		CHECK(v.accounturi == NULL && v.accounturi_len == 0);
	}
	if (v.n_methods > 0) {
		CHECK(v.methods >= s && v.methods + v.methods_len <= s + size);
		CHECK(span_eq(v.methods, v.methods_len, r.m));
	} else {
		CHECK(v.methods == NULL && v.methods_len == 0 && !v.methods_malformed);
	}
	check_methods(&v);
	return 0;
}
