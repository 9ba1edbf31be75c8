/*
 * fuzz_rr.c — caa_rr_parse and caa_rr_tag against a naive reference; the
 * value of every record also goes through caa_rr_issue_value_parse. Any
 * disagreement or broken invariant aborts.
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

static bool ref_alnum(uint8_t c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static int ref_parse(const uint8_t *d, size_t n)
{
	if (n < 2) {
		return CAA_ERR_SHORT;
	}
	if (n > 65535) {
		return CAA_ELIMIT;
	}
	if (d[1] == 0) {
		return CAA_ERR_TAGLEN0;
	}
	if (d[1] > n - 2) {
		return CAA_ERR_TAGLEN;
	}
	for (size_t i = 0; i < d[1]; i++) {
		if (!ref_alnum(d[2 + i])) {
			return CAA_ERR_TAGCHAR;
		}
	}
	return CAA_EOK;
}

static caa_tag_t ref_tag(const char *t, size_t n)
{
	static const struct {
		const char *name;
		caa_tag_t kind;
	} tags[] = {
	    {"issue", CAA_TAG_ISSUE},
	    {"issuewild", CAA_TAG_ISSUEWILD},
	    {"iodef", CAA_TAG_IODEF},
	    {"issuemail", CAA_TAG_ISSUEMAIL},
	    {"issuevmc", CAA_TAG_ISSUEVMC},
	    {"contactemail", CAA_TAG_CONTACTEMAIL},
	    {"contactphone", CAA_TAG_CONTACTPHONE},
	};
	char low[256];
	if (n >= sizeof(low)) {
		return CAA_TAG_UNKNOWN;
	}
	for (size_t i = 0; i < n; i++) {
		char c = t[i];
		low[i] = (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
	}
	for (size_t k = 0; k < sizeof(tags) / sizeof(tags[0]); k++) {
		if (strlen(tags[k].name) == n && memcmp(low, tags[k].name, n) == 0) {
			return tags[k].kind;
		}
	}
	return CAA_TAG_UNKNOWN;
}

static bool inside(const char *p, size_t len, const char *lo, size_t n)
{
	return p >= lo && len <= n && p <= lo + n - len;
}

static void check_value(const char *val, size_t n)
{
	caa_issue_value_t v, w;
	int ret = caa_rr_issue_value_parse(val, n, &v);
	CHECK(ret == CAA_EOK || ret == CAA_ERR_VALUE);
	CHECK(caa_rr_issue_value_parse(val, n, &w) == ret);
	CHECK(v.issuer == w.issuer && v.issuer_len == w.issuer_len);
	CHECK(v.n_accounturi == w.n_accounturi && v.n_methods == w.n_methods);
	CHECK(v.methods_malformed == w.methods_malformed);
	if (ret != CAA_EOK) {
		CHECK(v.issuer == NULL && v.issuer_len == 0 && v.n_accounturi == 0);
		CHECK(v.n_methods == 0 && v.methods == NULL && !v.methods_malformed);
		return;
	}
	CHECK(inside(v.issuer, v.issuer_len, val, n));
	if (v.n_accounturi > 0) {
		CHECK(inside(v.accounturi, v.accounturi_len, val, n));
	}
	if (v.n_methods > 0) {
		CHECK(inside(v.methods, v.methods_len, val, n));
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	caa_rr_t rr, again;
	int ret = caa_rr_parse(data, size, &rr);
	CHECK(ret == ref_parse(data, size));
	CHECK(caa_rr_parse(data, size, &again) == ret);
	CHECK(rr.flags == again.flags && rr.tag == again.tag && rr.value == again.value);
	CHECK(rr.tag_len == again.tag_len && rr.value_len == again.value_len);
	CHECK(rr.flags == (size > 0 ? data[0] : 0));
	CHECK(rr.tag != NULL && rr.value != NULL);

	if (ret != CAA_EOK) {
		CHECK(rr.malformed && rr.tag_len == 0 && rr.value_len == 0);
		return 0;
	}
	const char *d = (const char *)data;
	CHECK(!rr.malformed);
	CHECK(rr.tag == d + 2 && rr.tag_len == data[1]);
	CHECK(rr.value == rr.tag + rr.tag_len);
	CHECK(rr.value + rr.value_len == d + size);

	caa_tag_t kind = caa_rr_tag(rr.tag, rr.tag_len);
	CHECK(kind == ref_tag(rr.tag, rr.tag_len));
	/* Any value, not only issue's: the grammar must hold up to all bytes. */
	check_value(rr.value, rr.value_len);
	return 0;
}
