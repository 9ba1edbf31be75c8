/*
 * fuzz_name.c — libFuzzer target for caa_name_parse(): arbitrary octets in,
 * abort() when a parsed name breaks an invariant of name.h.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "codes.h"
#include "name.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond)                                                                                \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			abort();                                                                   \
		}                                                                                  \
	} while (0)

static bool lower_ldh(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
}

/* The label structure: offsets, lengths, octets, hyphens, suffixes. */
static void check_labels(const caa_name_t *n)
{
	size_t dots = 0, prev_len = (size_t)n->len + 1;

	CHECK(n->len >= 1 && n->len <= CAA_NAME_MAX && strlen(n->text) == n->len);
	CHECK(n->n_labels >= 1 && n->n_labels <= CAA_LABELS_MAX);
	CHECK(n->label_off[0] == 0);
	for (size_t i = 0; i < n->len; i++) {
		CHECK(n->text[i] == '.' || lower_ldh(n->text[i]));
		dots += n->text[i] == '.';
	}
	CHECK(dots + 1 == n->n_labels);
	for (unsigned i = 0; i < n->n_labels; i++) {
		size_t off = n->label_off[i];
		size_t end = i + 1 < n->n_labels ? (size_t)n->label_off[i + 1] - 1 : n->len;
		const char *l = n->text + off;
		size_t len = end - off;
		CHECK(i == 0 || (off > n->label_off[i - 1] && n->text[off - 1] == '.'));
		CHECK(end <= n->len && len >= 1 && len <= 63);
		CHECK(memchr(l, '.', len) == NULL);
		CHECK(l[0] != '-' && l[len - 1] != '-');
		CHECK(len < 4 || l[2] != '-' || l[3] != '-' || (l[0] == 'x' && l[1] == 'n'));

		const char *s = caa_name_suffix(n, i);
		size_t slen = strlen(s);
		CHECK(s == l && slen < prev_len && slen == n->len - off);
		prev_len = slen;
	}
	CHECK(caa_name_suffix(n, n->n_labels) == NULL);
}

/* Parsing what came out gives the same name, in every spelling of it. */
static void check_fixed_point(const caa_name_t *n)
{
	char buf[2 + CAA_NAME_MAX + 2];
	caa_name_t again;
	int want = CAA_EOK;
	const char *tld = caa_name_suffix(n, n->n_labels - 1u);

	if (strcmp(tld, "onion") == 0) {
		want = CAA_ENOTAPPLICABLE;
	}
	size_t pre = n->wildcard ? 2 : 0;
	memcpy(buf, "*.", pre);
	memcpy(buf + pre, n->text, n->len);

	CHECK(caa_name_parse(buf, pre + n->len, &again) == want);
	CHECK(memcmp(&again, n, sizeof(again)) == 0);

	buf[pre + n->len] = '.';
	CHECK(caa_name_parse(buf, pre + n->len + 1, &again) == want);
	CHECK(memcmp(&again, n, sizeof(again)) == 0);

	for (size_t i = pre; i < pre + n->len; i++) {
		if (buf[i] >= 'a' && buf[i] <= 'z') {
			buf[i] = (char)(buf[i] - 'a' + 'A');
		}
	}
	CHECK(caa_name_parse(buf, pre + n->len, &again) == want);
	CHECK(memcmp(&again, n, sizeof(again)) == 0);

	/* Without "*." it is the same name, not a wildcard. */
	CHECK(caa_name_parse(n->text, n->len, &again) == want);
	CHECK(!again.wildcard && again.len == n->len && strcmp(again.text, n->text) == 0);
}

/* text is the input lowercased, less one trailing dot and a leading "*.". */
static void check_derived(const uint8_t *data, size_t size, const caa_name_t *n)
{
	if (size > 0 && data[size - 1] == '.') {
		size--;
	}
	CHECK(size <= CAA_NAME_MAX);
	if (n->wildcard) {
		CHECK(size >= 2 && data[0] == '*' && data[1] == '.');
		data += 2;
		size -= 2;
	}
	CHECK(size == n->len);
	for (size_t i = 0; i < size; i++) {
		uint8_t c = data[i];
		CHECK(c < 0x80);
		if (c >= 'A' && c <= 'Z') {
			c = (uint8_t)(c - 'A' + 'a');
		}
		CHECK((char)c == n->text[i]);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	caa_name_t n, again;
	caa_name_t zero;
	const char *in = (const char *)data;

	memset(&zero, 0, sizeof(zero));
	int ret = caa_name_parse(in, size, &n);
	CHECK(caa_name_parse(in, size, &again) == ret);
	CHECK(memcmp(&again, &n, sizeof(n)) == 0);

	switch (ret) {
	case CAA_EOK:
		check_labels(&n);
		check_derived(data, size, &n);
		check_fixed_point(&n);
		CHECK(strcmp(caa_name_suffix(&n, n.n_labels - 1u), "onion") != 0);
		CHECK(!caa_name_is_ip(in, size));
		break;
	case CAA_ENOTAPPLICABLE:
		CHECK(n.len <= CAA_NAME_MAX && strlen(n.text) == n.len);
		if (n.n_labels == 0) {
			CHECK(caa_name_is_ip(in, size) && !n.wildcard);
		} else {
			check_labels(&n);
			check_derived(data, size, &n);
			check_fixed_point(&n);
			CHECK(strcmp(caa_name_suffix(&n, n.n_labels - 1u), "onion") == 0);
		}
		break;
	default:
		CHECK(ret <= CAA_ENAME_EMPTY && ret >= CAA_ENAME_NUMERIC_TLD);
		CHECK(memcmp(&n, &zero, sizeof(n)) == 0);
		break;
	}
	return 0;
}
