/*
 * config.c — the JSON config of docs/config.md: parse, check, apply defaults.
 *
 * Every string and array of a config lives in one pool (cfg->priv) so that
 * caa_config_free() and every error path release everything the same way.
 * Keys are checked against a table per object before any value is read, and
 * values are read in a fixed order, so the first error reported does not
 * depend on key order in the file.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>
#include <openssl/evp.h>

#include "codes.h"
#include "config.h"

#define MS_S UINT64_C(1000)
#define MS_M (60 * MS_S)
#define MS_H (60 * MS_M)

/* Bounds. Upper bounds keep values inside what the server converts them to
 * (int milliseconds, unsigned counts) and catch unit slips ("10h" for "10s"). */
#define MAX_TIMEOUT_MS       MS_H
#define MAX_RECHECK_MS       (8 * MS_H) /* BR §3.2.2.8: reuse CAA for at most 8 h */
#define MAX_IN_FLIGHT        10000000
#define MAX_RETRIES          10
#define MAX_PER_ZONE         1024
#define MAX_OUTSTANDING      65536
#define MAX_CACHE_ENTRIES    1000000000
#define MAX_KEY_PREFIX       64
#define MAX_REDIS_TIMEOUT_MS (60 * 1000)
#define MAX_REDIS_DB         1000
#define MAX_MIN_REMOTES      64
#define MAX_ISSUER_DOMAINS   256
#define MAX_PREFIXES         256
#define MAX_CLIENT_NAMES     256
#define MAX_PROFILES         256
#define MAX_METHOD_LABELS    256
#define MAX_METHODS          32
#define MAX_REMOTES          64
#define MAX_WEBHOOKS         32
#define MAX_NAME_LEN         64 /* profile, perspective and remote names */
#define PATH_LEN             256
#define SEG_LEN              64 /* a user-chosen key shown in a path or message */
#define GOT_LEN              80

/* ---- the pool ---- */

typedef struct cfg_pool {
	void **blocks;
	size_t n, cap;
} cfg_pool_t;

static void *pool_alloc(cfg_pool_t *p, size_t n, size_t size)
{
	if (size != 0 && n > SIZE_MAX / size) {
		return NULL;
	}
	if (p->n == p->cap) {
		size_t cap = p->cap ? 2 * p->cap : 32;
		void **b = realloc(p->blocks, cap * sizeof(*b));
		if (b == NULL) {
			return NULL;
		}
		p->blocks = b;
		p->cap = cap;
	}
	void *block = calloc(n ? n : 1, size ? size : 1);
	if (block != NULL) {
		p->blocks[p->n++] = block;
	}
	return block;
}

static char *pool_strdup(cfg_pool_t *p, const char *s)
{
	size_t len = strlen(s);
	char *d = pool_alloc(p, len + 1, 1);
	if (d != NULL) {
		memcpy(d, s, len + 1);
	}
	return d;
}

static void pool_free(cfg_pool_t *p)
{
	for (size_t i = 0; i < p->n; i++) {
		free(p->blocks[i]);
	}
	free(p->blocks);
	free(p);
}

/* ---- durations ---- */

int caa_duration_parse(const char *text, uint64_t *ms)
{
	if (text == NULL || ms == NULL || !isdigit((unsigned char)*text)) {
		return CAA_EINVAL;
	}
	uint64_t n = 0;
	const char *p = text;
	for (; isdigit((unsigned char)*p); p++) {
		unsigned d = (unsigned)(*p - '0');
		if (n > (UINT64_MAX - d) / 10) {
			return CAA_EINVAL;
		}
		n = n * 10 + d;
	}
	uint64_t unit;
	if (strcmp(p, "ms") == 0) {
		unit = 1;
	} else if (strcmp(p, "s") == 0) {
		unit = MS_S;
	} else if (strcmp(p, "m") == 0) {
		unit = MS_M;
	} else if (strcmp(p, "h") == 0) {
		unit = MS_H;
	} else {
		return CAA_EINVAL;
	}
	if (n > UINT64_MAX / unit) {
		return CAA_EINVAL;
	}
	*ms = n * unit;
	return CAA_EOK;
}

/* The largest unit that divides ms exactly, for messages ("8h", "1500ms"). */
static void duration_fmt(uint64_t ms, char *buf, size_t size)
{
	if (ms != 0 && ms % MS_H == 0) {
		snprintf(buf, size, "%" PRIu64 "h", ms / MS_H);
	} else if (ms != 0 && ms % MS_M == 0) {
		snprintf(buf, size, "%" PRIu64 "m", ms / MS_M);
	} else if (ms % MS_S == 0) {
		snprintf(buf, size, "%" PRIu64 "s", ms / MS_S);
	} else {
		snprintf(buf, size, "%" PRIu64 "ms", ms);
	}
}

/* ---- messages ---- */

typedef struct parser {
	caa_config_t *cfg;
	cfg_pool_t *pool;
	char *err;
	size_t errlen;
} parser_t;

static void error_set(parser_t *ps, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void error_set(parser_t *ps, const char *fmt, ...)
{
	if (ps->errlen == 0) {
		return;
	}
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(ps->err, ps->errlen, fmt, ap);
	va_end(ap);
	/* one line of plain ASCII whatever the input held */
	for (char *c = ps->err; *c != '\0'; c++) {
		if ((unsigned char)*c < 0x20 || (unsigned char)*c >= 0x7f) {
			*c = '?';
		}
	}
}

/* Set the message and evaluate to code (a macro, so analysers see the code). */
#define FAIL(ps, code, ...) (error_set((ps), __VA_ARGS__), (code))

static int fail_nomem(parser_t *ps)
{
	return FAIL(ps, CAA_ENOMEM, "out of memory");
}

/* Append s to buf (size octets, NUL-terminated) escaping what is not printable
 * ASCII and cutting it at SEG_LEN, so a hostile key cannot make a message
 * multi-line or huge. */
static void seg_append(char *buf, size_t size, const char *s)
{
	size_t len = strlen(buf);
	for (size_t i = 0; s[i] != '\0' && len + 1 < size; i++) {
		unsigned char c = (unsigned char)s[i];
		if (i == SEG_LEN) {
			snprintf(buf + len, size - len, "...");
			return;
		}
		if (c < 0x20 || c >= 0x7f || c == '"' || c == '\\') {
			snprintf(buf + len, size - len, "\\x%02x", c);
		} else {
			buf[len] = (char)c;
			buf[len + 1] = '\0';
		}
		len = strlen(buf);
	}
}

/* Paths are cut at PATH_LEN: the start of a path is what names the key. */
static void path_key(char *buf, size_t size, const char *parent, const char *key)
{
	int n = snprintf(buf, size, "%s%s", parent, parent[0] ? "." : "");
	if (n >= 0 && (size_t)n < size) {
		seg_append(buf, size, key);
	}
}

static void path_index(char *buf, size_t size, const char *parent, size_t i)
{
	int n = snprintf(buf, size, "%s[%zu]", parent, i);
	if (n < 0 || (size_t)n >= size) {
		buf[size - 1] = '\0';
	}
}

/* A short description of a JSON value for "got ..." */
static const char *describe(const json_t *v, char *buf, size_t size)
{
	switch (json_typeof(v)) {
	case JSON_OBJECT: return "an object";
	case JSON_ARRAY: return "an array";
	case JSON_TRUE: return "true";
	case JSON_FALSE: return "false";
	case JSON_NULL: return "null";
	case JSON_INTEGER:
		snprintf(buf, size, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
		return buf;
	case JSON_REAL:
		/* keep it a real: "got 1" for 1.0 would read as a valid integer */
		snprintf(buf, size, "%.17g", json_real_value(v));
		if (strpbrk(buf, ".eEn") == NULL && strlen(buf) + 2 < size) {
			strcat(buf, ".0");
		}
		return buf;
	case JSON_STRING:
		snprintf(buf, size, "\"");
		seg_append(buf, size - 1, json_string_value(v));
		strcat(buf, "\"");
		return buf;
	}
	return "?";
}

/* ---- checks ---- */

static size_t edit_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	size_t row[SEG_LEN + 1];
	if (la > SEG_LEN || lb > SEG_LEN) {
		return SIZE_MAX;
	}
	for (size_t j = 0; j <= lb; j++) {
		row[j] = j;
	}
	for (size_t i = 1; i <= la; i++) {
		size_t diag = row[0];
		row[0] = i;
		for (size_t j = 1; j <= lb; j++) {
			size_t up = row[j];
			size_t best = diag + (a[i - 1] != b[j - 1]);
			if (up + 1 < best) {
				best = up + 1;
			}
			if (row[j - 1] + 1 < best) {
				best = row[j - 1] + 1;
			}
			row[j] = best;
			diag = up;
		}
	}
	return row[lb];
}

/* obj must be an object whose keys are all in keys (NULL-terminated). */
static int check_object(parser_t *ps, const json_t *obj, const char *path, const char *const *keys)
{
	char got[GOT_LEN];
	if (!json_is_object(obj)) {
		return FAIL(ps, CAA_ECONFIG, "%s: expected an object, got %s",
		            path[0] ? path : "config", describe(obj, got, sizeof(got)));
	}
	const char *key;
	json_t *v;
	json_object_foreach((json_t *)obj, key, v)
	{
		const char *near = NULL;
		for (size_t i = 0; keys[i] != NULL; i++) {
			if (strcmp(key, keys[i]) == 0) {
				near = key;
				break;
			}
			if (near == NULL && strlen(key) > 2 && edit_distance(key, keys[i]) <= 2) {
				near = keys[i];
			}
		}
		if (near == key) {
			continue;
		}
		char kp[PATH_LEN];
		path_key(kp, sizeof(kp), path, key);
		if (near == NULL) {
			return FAIL(ps, CAA_ECONFIG, "unknown key \"%s\"", kp);
		}
		char np[PATH_LEN];
		path_key(np, sizeof(np), path, near);
		return FAIL(ps, CAA_ECONFIG, "unknown key \"%s\" (did you mean \"%s\"?)", kp, np);
	}
	return CAA_EOK;
}

static int get_string(parser_t *ps, const json_t *v, const char *path, char **out)
{
	char got[GOT_LEN];
	if (!json_is_string(v) || json_string_length(v) == 0) {
		return FAIL(ps, CAA_ECONFIG, "%s: expected a non-empty string, got %s", path,
		            describe(v, got, sizeof(got)));
	}
	*out = pool_strdup(ps->pool, json_string_value(v));
	return *out != NULL ? CAA_EOK : fail_nomem(ps);
}

static int get_bool(parser_t *ps, const json_t *v, const char *path, bool *out)
{
	char got[GOT_LEN];
	if (!json_is_boolean(v)) {
		return FAIL(ps, CAA_ECONFIG, "%s: expected true or false, got %s", path,
		            describe(v, got, sizeof(got)));
	}
	*out = json_is_true(v);
	return CAA_EOK;
}

static int get_uint(parser_t *ps, const json_t *v, const char *path, uint64_t lo, uint64_t hi,
                    uint64_t *out)
{
	char got[GOT_LEN];
	if (!json_is_integer(v) || json_integer_value(v) < 0 ||
	    (uint64_t)json_integer_value(v) < lo || (uint64_t)json_integer_value(v) > hi) {
		return FAIL(ps, CAA_ECONFIG,
		            "%s: expected an integer from %" PRIu64 " to %" PRIu64 ", got %s", path,
		            lo, hi, describe(v, got, sizeof(got)));
	}
	*out = (uint64_t)json_integer_value(v);
	return CAA_EOK;
}

static int get_duration(parser_t *ps, const json_t *v, const char *path, uint64_t lo, uint64_t hi,
                        uint64_t *out)
{
	char got[GOT_LEN], bound[32];
	uint64_t ms;
	if (!json_is_string(v) || caa_duration_parse(json_string_value(v), &ms) != CAA_EOK) {
		return FAIL(ps, CAA_ECONFIG, "%s: expected a duration like \"10s\", got %s", path,
		            describe(v, got, sizeof(got)));
	}
	if (ms < lo) {
		duration_fmt(lo, bound, sizeof(bound));
		return FAIL(ps, CAA_ECONFIG, "%s: must be at least %s, got %s", path, bound,
		            describe(v, got, sizeof(got)));
	}
	if (ms > hi) {
		duration_fmt(hi, bound, sizeof(bound));
		return FAIL(ps, CAA_ECONFIG, "%s: must be at most %s, got %s", path, bound,
		            describe(v, got, sizeof(got)));
	}
	*out = ms;
	return CAA_EOK;
}

/* One of names (n of them, exact match) → *idx. */
static int get_enum(parser_t *ps, const json_t *v, const char *path, const char *const *names,
                    size_t n, size_t *idx)
{
	char got[GOT_LEN], want[160] = "";
	if (json_is_string(v)) {
		for (size_t i = 0; i < n; i++) {
			if (strcmp(json_string_value(v), names[i]) == 0) {
				*idx = i;
				return CAA_EOK;
			}
		}
	}
	for (size_t i = 0; i < n; i++) {
		size_t len = strlen(want);
		snprintf(want + len, sizeof(want) - len, "%s\"%s\"",
		         i == 0 ? "" : (i + 1 == n ? (n == 2 ? " or " : ", or ") : ", "), names[i]);
	}
	return FAIL(ps, CAA_ECONFIG, "%s: expected %s%s, got %s", path, n > 2 ? "one of " : "",
	            want, describe(v, got, sizeof(got)));
}

/* host:port, [v6]:port or unix:path, as gRPC's server and the metrics listener take it. */
static bool listen_valid(const char *s)
{
	if (strncmp(s, "unix:", 5) == 0) {
		return s[5] != '\0';
	}
	const char *colon = strrchr(s, ':');
	if (colon == NULL || colon == s || colon[1] == '\0' || strlen(colon + 1) > 5) {
		return false;
	}
	for (const char *c = s; c < colon; c++) {
		if (!isgraph((unsigned char)*c)) {
			return false;
		}
	}
	if (s[0] == '[' && colon[-1] != ']') {
		return false;
	}
	unsigned long port = 0;
	for (const char *c = colon + 1; *c != '\0'; c++) {
		if (!isdigit((unsigned char)*c)) {
			return false;
		}
		port = port * 10 + (unsigned long)(*c - '0');
	}
	return port <= 65535;
}

static int get_listen(parser_t *ps, const json_t *v, const char *path, char **out)
{
	int ret = get_string(ps, v, path, out);
	if (ret == CAA_EOK && !listen_valid(*out)) {
		char got[GOT_LEN];
		return FAIL(ps, CAA_ECONFIG, "%s: expected \"host:port\" or \"unix:path\", got %s",
		            path, describe(v, got, sizeof(got)));
	}
	return ret;
}

/* A printable name without spaces: it shows up in logs, metrics and problem details. */
static bool name_valid(const char *s)
{
	size_t len = strlen(s);
	if (len == 0 || len > MAX_NAME_LEN) {
		return false;
	}
	for (; *s != '\0'; s++) {
		if (!isalnum((unsigned char)*s) && *s != '-' && *s != '_' && *s != '.') {
			return false;
		}
	}
	return true;
}

static int get_name(parser_t *ps, const json_t *v, const char *path, char **out)
{
	int ret = get_string(ps, v, path, out);
	if (ret == CAA_EOK && !name_valid(*out)) {
		char got[GOT_LEN];
		return FAIL(ps, CAA_ECONFIG,
		            "%s: expected 1-%d letters, digits, '-', '_' or '.', got %s", path,
		            MAX_NAME_LEN, describe(v, got, sizeof(got)));
	}
	return ret;
}

/* Letters, digits and '-' (validationmethods labels and ACME method names). */
static bool ldh_token(const char *s)
{
	if (*s == '\0') {
		return false;
	}
	for (; *s != '\0'; s++) {
		if (!isalnum((unsigned char)*s) && *s != '-') {
			return false;
		}
	}
	return true;
}

/*
 * An issuer-domain-name as RFC 8659 §4.2 writes it: labels of letters and
 * digits with inner hyphens, at most 63 octets each and 253 in all. Lowercases
 * s in place. Returns NULL or what is wrong.
 */
static const char *issuer_domain_check(char *s)
{
	size_t len = strlen(s);
	if (len > 253) {
		return "is longer than 253 octets";
	}
	if (s[len - 1] == '.') {
		return "has a trailing dot; write it without";
	}
	size_t label = 0;
	for (size_t i = 0; i <= len; i++) {
		char c = s[i];
		if (c == '.' || c == '\0') {
			if (label == 0) {
				return "has an empty label";
			}
			if (s[i - 1] == '-') {
				return "has a label ending with '-'";
			}
			label = 0;
			continue;
		}
		if (c == '-') {
			if (label == 0) {
				return "has a label starting with '-'";
			}
		} else if (!isalnum((unsigned char)c)) {
			return "is not a hostname (letters, digits, '-' and '.')";
		}
		s[i] = (char)tolower((unsigned char)c);
		if (++label > 63) {
			return "has a label longer than 63 octets";
		}
	}
	return NULL;
}

/* A URI: scheme ":" and then printable ASCII without spaces. */
static bool uri_valid(const char *s)
{
	if (!isalpha((unsigned char)*s)) {
		return false;
	}
	const char *c = s + 1;
	while (isalnum((unsigned char)*c) || *c == '+' || *c == '-' || *c == '.') {
		c++;
	}
	if (*c != ':' || c[1] == '\0') {
		return false;
	}
	for (; *c != '\0'; c++) {
		if (!isgraph((unsigned char)*c)) {
			return false;
		}
	}
	return true;
}

/*
 * An array of at most max non-empty strings, each checked by check (which may
 * rewrite it and returns NULL or what is wrong), none repeated.
 */
static int get_string_array(parser_t *ps, const json_t *v, const char *path, size_t max,
                            const char *(*check)(char *), char ***out, size_t *n_out)
{
	char got[GOT_LEN], ip[PATH_LEN];
	if (!json_is_array(v)) {
		return FAIL(ps, CAA_ECONFIG, "%s: expected an array of strings, got %s", path,
		            describe(v, got, sizeof(got)));
	}
	size_t n = json_array_size(v);
	if (n > max) {
		return FAIL(ps, CAA_ECONFIG, "%s: at most %zu entries, got %zu", path, max, n);
	}
	char **arr = pool_alloc(ps->pool, n, sizeof(*arr));
	if (arr == NULL) {
		return fail_nomem(ps);
	}
	for (size_t i = 0; i < n; i++) {
		path_index(ip, sizeof(ip), path, i);
		int ret = get_string(ps, json_array_get(v, i), ip, &arr[i]);
		if (ret != CAA_EOK) {
			return ret;
		}
		const char *why = check(arr[i]);
		if (why != NULL) {
			return FAIL(ps, CAA_ECONFIG, "%s: %s %s", ip,
			            describe(json_array_get(v, i), got, sizeof(got)), why);
		}
		for (size_t j = 0; j < i; j++) {
			if (strcmp(arr[i], arr[j]) == 0) {
				return FAIL(ps, CAA_ECONFIG, "%s: %s repeats %s[%zu]", ip,
				            describe(json_array_get(v, i), got, sizeof(got)), path,
				            j);
			}
		}
	}
	*out = arr;
	*n_out = n;
	return CAA_EOK;
}

static const char *prefix_check(char *s)
{
	return uri_valid(s) ? NULL : "is not a URI (scheme:..., no spaces)";
}

/* A client name: a URI when it has a colon (a DNS name never does), else a
 * DNS name, lowercased. No wildcards: a certificate's SAN must equal it. */
static const char *client_name_check(char *s)
{
	if (strchr(s, ':') != NULL) {
		return uri_valid(s) ? NULL
		                    : "is neither a DNS name nor a URI (scheme:..., no spaces)";
	}
	return issuer_domain_check(s);
}

/* No prefix may start another: account id 23 under ".../acct/1" would be
 * account 123 under ".../acct/", and a record for one would authorise the other. */
static int prefixes_disjoint(parser_t *ps, const char *path, char *const *p, size_t n)
{
	for (size_t j = 1; j < n; j++) {
		size_t lj = strlen(p[j]);
		for (size_t i = 0; i < j; i++) {
			size_t li = strlen(p[i]);
			if (strncmp(p[i], p[j], li < lj ? li : lj) == 0) {
				return FAIL(
				    ps, CAA_ECONFIG,
				    "%s[%zu]: \"%s\" overlaps %s[%zu] \"%s\": one is a prefix "
				    "of the other, so an account id under one could name "
				    "another account under the other",
				    path, j, p[j], path, i, p[i]);
			}
		}
	}
	return CAA_EOK;
}

/* ---- policy ---- */

/* docs/semantics.md §5: the mapping policy_eval uses when a policy has none. Copied here
 * because a config's method_labels override it label by label. */
static const char *const tbr7_methods[] = {"dns-01", "dns-account-01"};
static const char *const tbr19_methods[] = {"http-01"};
static const char *const tbr20_methods[] = {"tls-alpn-01"};
static const caa_method_label_t default_labels[] = {
    {"ca-tbr-7", tbr7_methods, 2},
    {"ca-tbr-19", tbr19_methods, 1},
    {"ca-tbr-20", tbr20_methods, 1},
};

static int get_methods(parser_t *ps, const json_t *v, const char *path, caa_method_label_t *ml)
{
	char got[GOT_LEN], ip[PATH_LEN];
	if (!json_is_array(v)) {
		return FAIL(ps, CAA_ECONFIG, "%s: expected an array of strings, got %s", path,
		            describe(v, got, sizeof(got)));
	}
	size_t n = json_array_size(v);
	if (n > MAX_METHODS) {
		return FAIL(ps, CAA_ECONFIG, "%s: at most %d methods, got %zu", path, MAX_METHODS,
		            n);
	}
	const char **methods = pool_alloc(ps->pool, n, sizeof(*methods));
	if (methods == NULL) {
		return fail_nomem(ps);
	}
	for (size_t i = 0; i < n; i++) {
		const json_t *m = json_array_get(v, i);
		path_index(ip, sizeof(ip), path, i);
		if (!json_is_string(m) || !ldh_token(json_string_value(m))) {
			return FAIL(ps, CAA_ECONFIG,
			            "%s: expected an ACME method like \"dns-01\", got %s", ip,
			            describe(m, got, sizeof(got)));
		}
		if ((methods[i] = pool_strdup(ps->pool, json_string_value(m))) == NULL) {
			return fail_nomem(ps);
		}
	}
	ml->methods = methods;
	ml->n_methods = n;
	return CAA_EOK;
}

/*
 * method_labels: each label named replaces that label of the mapping the
 * policy already has (the default one when it has none); the others stay.
 */
static int get_method_labels(parser_t *ps, const json_t *v, const char *path, caa_policy_t *pol)
{
	char got[GOT_LEN], lp[PATH_LEN];
	if (!json_is_object(v)) {
		return FAIL(ps, CAA_ECONFIG, "%s: expected an object of label: [methods], got %s",
		            path, describe(v, got, sizeof(got)));
	}
	const caa_method_label_t *base = pol->method_labels;
	size_t n_base = pol->n_method_labels;
	if (base == NULL) {
		base = default_labels;
		n_base = sizeof(default_labels) / sizeof(default_labels[0]);
	}
	size_t n_new = json_object_size(v);
	if (n_new > MAX_METHOD_LABELS) {
		return FAIL(ps, CAA_ECONFIG, "%s: at most %d labels, got %zu", path,
		            MAX_METHOD_LABELS, n_new);
	}
	caa_method_label_t *out = pool_alloc(ps->pool, n_base + n_new, sizeof(*out));
	if (out == NULL) {
		return fail_nomem(ps);
	}
	memcpy(out, base, n_base * sizeof(*out));
	size_t n = n_base;

	/* labels compare case-insensitively: "CA-TBR-7" and "ca-tbr-7" in one
	 * object name the same label twice */
	const char **seen = pool_alloc(ps->pool, n_new, sizeof(*seen));
	if (seen == NULL) {
		return fail_nomem(ps);
	}
	size_t n_seen = 0;
	const char *label;
	json_t *methods;
	json_object_foreach((json_t *)v, label, methods)
	{
		path_key(lp, sizeof(lp), path, label);
		if (!ldh_token(label) || strlen(label) > 63) {
			return FAIL(ps, CAA_ECONFIG, "%s: a label is 1-63 letters, digits and '-'",
			            lp);
		}
		for (size_t i = 0; i < n_seen; i++) {
			if (strcasecmp(seen[i], label) == 0) {
				return FAIL(ps, CAA_ECONFIG,
				            "%s: same label as \"%s\" (labels ignore case)", lp,
				            seen[i]);
			}
		}
		seen[n_seen++] = label;

		caa_method_label_t ml = {.label = pool_strdup(ps->pool, label)};
		if (ml.label == NULL) {
			return fail_nomem(ps);
		}
		int ret = get_methods(ps, methods, lp, &ml);
		if (ret != CAA_EOK) {
			return ret;
		}
		size_t i = 0;
		while (i < n && strcasecmp(out[i].label, label) != 0) {
			i++;
		}
		out[i] = ml;
		n += (i == n);
	}
	pol->method_labels = out;
	pol->n_method_labels = n;
	return CAA_EOK;
}

/*
 * The parse_* functions below share locals ret, obj, path, v and kp. KEY(name)
 * is true when no error came before and obj has name: v is then its value and
 * kp its path. Keys are read in the order the function lists them.
 */
#define KEY(name)                                                                                  \
	(ret == CAA_EOK && (v = json_object_get(obj, (name))) != NULL &&                           \
	 (path_key(kp, sizeof(kp), path, (name)), true))

/* The keys of obj (a "policy" or a profile) override the knobs already in *pol. */
static int parse_policy(parser_t *ps, const json_t *obj, const char *path, caa_policy_t *pol)
{
	static const char *const keys[] = {"critical",
	                                   "flag1_is_critical",
	                                   "tld_nxdomain",
	                                   "nodata_without_soa",
	                                   "insecure_lookup_failure_permits",
	                                   "boulder_recheck_types",
	                                   "method_labels",
	                                   NULL};
	static const char *const critical[] = {"unknown", "unknown-or-unsupported"};
	static const char *const error_empty[] = {"error", "empty"};
	static const char *const empty_error[] = {"empty", "error"};
	char kp[PATH_LEN];
	const json_t *v;
	size_t idx;
	int ret = check_object(ps, obj, path, keys);

	if (KEY("critical") && (ret = get_enum(ps, v, kp, critical, 2, &idx)) == CAA_EOK) {
		pol->critical =
		    idx == 0 ? CAA_CRITICAL_UNKNOWN : CAA_CRITICAL_UNKNOWN_OR_UNSUPPORTED;
	}
	if (KEY("flag1_is_critical")) {
		ret = get_bool(ps, v, kp, &pol->flag1_is_critical);
	}
	if (KEY("tld_nxdomain") && (ret = get_enum(ps, v, kp, error_empty, 2, &idx)) == CAA_EOK) {
		pol->tld_nxdomain_error = idx == 0;
	}
	if (KEY("nodata_without_soa") &&
	    (ret = get_enum(ps, v, kp, empty_error, 2, &idx)) == CAA_EOK) {
		pol->nodata_without_soa_error = idx == 1;
	}
	if (KEY("insecure_lookup_failure_permits")) {
		ret = get_bool(ps, v, kp, &pol->insecure_lookup_failure_permits);
	}
	if (KEY("boulder_recheck_types")) {
		ret = get_bool(ps, v, kp, &pol->boulder_recheck_types);
	}
	if (KEY("method_labels")) {
		ret = get_method_labels(ps, v, kp, pol);
	}
	return ret;
}

/* Each profile starts as a copy of the finished default policy. */
static int parse_profiles(parser_t *ps, const json_t *obj, const char *path)
{
	caa_config_t *cfg = ps->cfg;
	char got[GOT_LEN], kp[PATH_LEN];
	if (!json_is_object(obj)) {
		return FAIL(ps, CAA_ECONFIG, "%s: expected an object of name: {policy}, got %s",
		            path, describe(obj, got, sizeof(got)));
	}
	size_t n = json_object_size(obj);
	if (n > MAX_PROFILES) {
		return FAIL(ps, CAA_ECONFIG, "%s: at most %d profiles, got %zu", path, MAX_PROFILES,
		            n);
	}
	cfg->profiles = pool_alloc(ps->pool, n, sizeof(*cfg->profiles));
	if (cfg->profiles == NULL) {
		return fail_nomem(ps);
	}
	const char *name;
	json_t *v;
	json_object_foreach((json_t *)obj, name, v)
	{
		path_key(kp, sizeof(kp), path, name);
		if (!name_valid(name)) {
			return FAIL(ps, CAA_ECONFIG,
			            "%s: a profile name is 1-%d letters, digits, '-', '_' or '.'",
			            kp, MAX_NAME_LEN);
		}
		caa_policy_t *pol = &cfg->profiles[cfg->n_profiles];
		*pol = cfg->policy;
		if ((pol->name = pool_strdup(ps->pool, name)) == NULL) {
			return fail_nomem(ps);
		}
		int ret = parse_policy(ps, v, kp, pol);
		if (ret != CAA_EOK) {
			return ret;
		}
		cfg->n_profiles++;
	}
	return CAA_EOK;
}

/* The server's tls (cert, key, client_ca, client_names) or a remote's (cert, key, ca,
 * server_name). */
static int parse_tls(parser_t *ps, const json_t *obj, const char *path, caa_tls_config_t *tls,
                     bool remote)
{
	static const char *const server_keys[] = {"cert", "key", "client_ca", "client_names", NULL};
	static const char *const remote_keys[] = {"cert", "key", "ca", "server_name", NULL};
	char kp[PATH_LEN];
	const json_t *v;
	int ret = CAA_EOK;

	if (remote && KEY("client_ca")) {
		return FAIL(ps, CAA_ECONFIG,
		            "%s: a remote has no clients; \"ca\" verifies the remote's certificate",
		            kp);
	}
	if (remote && KEY("client_names")) {
		return FAIL(ps, CAA_ECONFIG,
		            "%s: a remote has no clients; client_names belongs in the top-level "
		            "tls of the caad that is called",
		            kp);
	}
	ret = check_object(ps, obj, path, remote ? remote_keys : server_keys);
	if (KEY("cert")) {
		ret = get_string(ps, v, kp, &tls->cert);
	}
	if (KEY("key")) {
		ret = get_string(ps, v, kp, &tls->key);
	}
	if (KEY("client_ca")) {
		ret = get_string(ps, v, kp, &tls->client_ca);
	}
	if (KEY("ca")) {
		ret = get_string(ps, v, kp, &tls->ca);
	}
	if (KEY("server_name")) {
		ret = get_string(ps, v, kp, &tls->server_name);
	}
	tls->set = remote;
	if (KEY("client_names")) {
		ret = get_string_array(ps, v, kp, MAX_CLIENT_NAMES, client_name_check,
		                       &tls->client_names, &tls->n_client_names);
		if (ret == CAA_EOK && tls->n_client_names == 0) {
			/* an empty list would refuse every client: almost surely a mistake */
			ret = FAIL(ps, CAA_ECONFIG,
			           "%s: empty; list at least one name, or leave the key out to "
			           "admit every client certificate %s.client_ca signed",
			           kp, path);
		}
		if (ret == CAA_EOK && tls->client_ca == NULL) {
			ret = FAIL(ps, CAA_ECONFIG,
			           "%s: needs %s.client_ca (only a client certificate verified "
			           "against it names its holder)",
			           kp, path);
		}
	}
	if (ret != CAA_EOK) {
		return ret;
	}
	if (tls->key != NULL && tls->cert == NULL) {
		return FAIL(ps, CAA_ECONFIG, "%s.key: set without %s.cert", path, path);
	}
	if (tls->cert != NULL && tls->key == NULL) {
		return FAIL(ps, CAA_ECONFIG, "%s.cert: set without %s.key", path, path);
	}
	if (tls->client_ca != NULL && tls->cert == NULL) {
		return FAIL(ps, CAA_ECONFIG, "%s.client_ca: mTLS needs %s.cert and %s.key too",
		            path, path, path);
	}
	return CAA_EOK;
}

static int parse_dns(parser_t *ps, const json_t *obj, const char *path)
{
	static const char *const keys[] = {
	    "unbound_conf",      "timeout",      "query_timeout",   "retries",
	    "trust_anchor_file", "max_per_zone", "max_outstanding", NULL};
	caa_config_t *cfg = ps->cfg;
	char kp[PATH_LEN];
	const json_t *v;
	uint64_t u;
	int ret = check_object(ps, obj, path, keys);

	if (KEY("unbound_conf")) {
		ret = get_string(ps, v, kp, &cfg->dns.unbound_conf);
	}
	if (KEY("timeout")) {
		ret = get_duration(ps, v, kp, 1, MAX_TIMEOUT_MS, &cfg->dns.timeout_ms);
	}
	if (KEY("query_timeout")) {
		ret = get_duration(ps, v, kp, 1, MAX_TIMEOUT_MS, &cfg->dns.query_timeout_ms);
		if (ret == CAA_EOK && cfg->dns.query_timeout_ms > cfg->dns.timeout_ms) {
			char q[32], t[32];
			duration_fmt(cfg->dns.query_timeout_ms, q, sizeof(q));
			duration_fmt(cfg->dns.timeout_ms, t, sizeof(t));
			ret = FAIL(ps, CAA_ECONFIG, "%s: %s is longer than %s.timeout %s", kp, q,
			           path, t);
		}
	} else if (cfg->dns.query_timeout_ms > cfg->dns.timeout_ms) {
		/* a short overall timeout alone shortens the per-query default with it */
		cfg->dns.query_timeout_ms = cfg->dns.timeout_ms;
	}
	if (KEY("retries") && (ret = get_uint(ps, v, kp, 0, MAX_RETRIES, &u)) == CAA_EOK) {
		cfg->dns.retries = (unsigned)u;
	}
	if (KEY("trust_anchor_file")) {
		ret = get_string(ps, v, kp, &cfg->dns.trust_anchor_file);
	}
	if (KEY("max_per_zone") && (ret = get_uint(ps, v, kp, 1, MAX_PER_ZONE, &u)) == CAA_EOK) {
		cfg->dns.max_per_zone = (unsigned)u;
	}
	if (KEY("max_outstanding") &&
	    (ret = get_uint(ps, v, kp, 1, MAX_OUTSTANDING, &u)) == CAA_EOK) {
		cfg->dns.max_outstanding = (unsigned)u;
	}
	/* A zone whose servers went silent keeps its max_per_zone queries in
	 * libunbound until libunbound gives up on them (climb.c): at most half
	 * of the outstanding slots, so the other zones always keep the rest. */
	if (ret == CAA_EOK && cfg->dns.max_per_zone > cfg->dns.max_outstanding / 2) {
		ret = FAIL(ps, CAA_ECONFIG,
		           "%s.max_per_zone: %u is more than half of %s.max_outstanding %u: one "
		           "silent zone could hold the query slots every other zone needs",
		           path, cfg->dns.max_per_zone, path, cfg->dns.max_outstanding);
	}
	return ret;
}

static int parse_cache_redis(parser_t *ps, const json_t *obj, const char *path)
{
	static const char *const keys[] = {
	    "address", "key_file", "password_file", "tls", "key_prefix", "timeout", "db", NULL};
	caa_config_t *cfg = ps->cfg;
	char got[GOT_LEN], kp[PATH_LEN];
	const json_t *v;
	uint64_t u;
	int ret = check_object(ps, obj, path, keys);

	if (KEY("address")) {
		ret = get_listen(ps, v, kp, &cfg->cache.redis.address);
	}
	if (KEY("key_file")) {
		ret = get_string(ps, v, kp, &cfg->cache.redis.key_file);
	}
	if (KEY("password_file")) {
		ret = get_string(ps, v, kp, &cfg->cache.redis.password_file);
	}
	/* hiredis 0.14 (Debian 12) has no TLS: refused rather than sent in clear;
	 * the message names the tunnel recipe (docs/operations.md, "Redis over TLS") */
	if (KEY("tls") && !json_is_false(v)) {
		ret = FAIL(ps, CAA_ECONFIG,
		           "%s: TLS to Redis is not supported by this build (hiredis 0.14 has "
		           "none): set false and point address at a local stunnel to Redis's "
		           "tls-port (docs/operations.md \"Redis over TLS\", deploy/redis-tls/), "
		           "got %s",
		           kp, describe(v, got, sizeof(got)));
	}
	if (KEY("key_prefix")) {
		ret = get_string(ps, v, kp, &cfg->cache.redis.key_prefix);
		if (ret == CAA_EOK && strlen(cfg->cache.redis.key_prefix) > MAX_KEY_PREFIX) {
			ret = FAIL(ps, CAA_ECONFIG, "%s: at most %d octets, got %s", kp,
			           MAX_KEY_PREFIX, describe(v, got, sizeof(got)));
		}
	}
	if (KEY("timeout")) {
		ret =
		    get_duration(ps, v, kp, 1, MAX_REDIS_TIMEOUT_MS, &cfg->cache.redis.timeout_ms);
	}
	if (KEY("db") && (ret = get_uint(ps, v, kp, 0, MAX_REDIS_DB, &u)) == CAA_EOK) {
		cfg->cache.redis.db = (unsigned)u;
	}
	for (size_t i = 0; ret == CAA_EOK && i < 2; i++) {
		if (json_object_get(obj, keys[i]) == NULL) {
			path_key(kp, sizeof(kp), path, keys[i]);
			ret = FAIL(ps, CAA_ECONFIG,
			           "%s: missing (required with cache.backend \"redis\")", kp);
		}
	}
	return ret;
}

static int parse_cache(parser_t *ps, const json_t *obj, const char *path)
{
	static const char *const keys[] = {"backend", "max_entries", "redis", NULL};
	caa_config_t *cfg = ps->cfg;
	char got[GOT_LEN], kp[PATH_LEN];
	const json_t *v;
	uint64_t u;
	int ret = check_object(ps, obj, path, keys);
	bool redis = false;

	if (KEY("backend")) {
		if (!json_is_string(v) || (strcmp(json_string_value(v), "memory") != 0 &&
		                           strcmp(json_string_value(v), "redis") != 0)) {
			return FAIL(ps, CAA_ECONFIG, "%s: expected \"memory\" or \"redis\", got %s",
			            kp, describe(v, got, sizeof(got)));
		}
		redis = strcmp(json_string_value(v), "redis") == 0;
		if ((cfg->cache.backend = pool_strdup(ps->pool, json_string_value(v))) == NULL) {
			return fail_nomem(ps);
		}
	}
	if (KEY("max_entries") &&
	    (ret = get_uint(ps, v, kp, 1, MAX_CACHE_ENTRIES, &u)) == CAA_EOK) {
		cfg->cache.max_entries = (size_t)u;
	}
	if (KEY("redis")) {
		if (!redis) {
			return FAIL(ps, CAA_ECONFIG, "%s: only with %s.backend \"redis\"", kp,
			            path);
		}
		ret = parse_cache_redis(ps, v, kp);
	} else if (ret == CAA_EOK && redis) {
		path_key(kp, sizeof(kp), path, "redis");
		ret = FAIL(ps, CAA_ECONFIG, "%s: missing (required with %s.backend \"redis\")", kp,
		           path);
	}
	return ret;
}

static const char *const rirs[] = {"ARIN", "RIPE", "APNIC", "LACNIC", "AFRINIC"};
#define N_RIRS (sizeof(rirs) / sizeof(rirs[0]))

static int parse_remote(parser_t *ps, const json_t *obj, const char *path, void *elem)
{
	caa_remote_config_t *r = elem;
	static const char *const keys[] = {"name", "rir", "address", "tls", NULL};
	char kp[PATH_LEN], got[GOT_LEN];
	const json_t *v;
	size_t idx;
	int ret = check_object(ps, obj, path, keys);

	for (size_t i = 0; ret == CAA_EOK && i < 3; i++) {
		if (json_object_get(obj, keys[i]) == NULL) {
			path_key(kp, sizeof(kp), path, keys[i]);
			return FAIL(ps, CAA_ECONFIG, "%s: missing", kp);
		}
	}
	if (KEY("name")) {
		ret = get_name(ps, v, kp, &r->name);
	}
	if (KEY("rir") && (ret = get_enum(ps, v, kp, rirs, N_RIRS, &idx)) == CAA_EOK) {
		r->rir = pool_strdup(ps->pool, rirs[idx]);
		ret = r->rir != NULL ? CAA_EOK : fail_nomem(ps);
	}
	/* a gRPC target ("host:port", "dns:///host:port", ...): only its shape is ours to check */
	if (KEY("address") && (ret = get_string(ps, v, kp, &r->address)) == CAA_EOK) {
		for (const char *c = r->address; *c != '\0'; c++) {
			if (!isgraph((unsigned char)*c)) {
				return FAIL(ps, CAA_ECONFIG,
				            "%s: expected a gRPC target like \"host:port\", got %s",
				            kp, describe(v, got, sizeof(got)));
			}
		}
	}
	if (KEY("tls")) {
		ret = parse_tls(ps, v, kp, &r->tls, true);
	}
	return ret;
}

/* An array of at most max objects at path ("remotes", "webhooks" in errors),
 * each parsed by elem into one of *n elements of size octets at *out (from
 * the pool), whose names (the char * at name_at) must all differ. */
static int parse_named_objects(parser_t *ps, const json_t *obj, const char *path, size_t max,
                               const char *what, size_t size, size_t name_at,
                               int (*elem)(parser_t *, const json_t *, const char *, void *),
                               void **out, size_t *n)
{
	char got[GOT_LEN], kp[PATH_LEN];
	if (!json_is_array(obj)) {
		return FAIL(ps, CAA_ECONFIG, "%s: expected an array of objects, got %s", path,
		            describe(obj, got, sizeof(got)));
	}
	size_t count = json_array_size(obj);
	if (count > max) {
		return FAIL(ps, CAA_ECONFIG, "%s: at most %zu %s, got %zu", path, max, what, count);
	}
	char *base = pool_alloc(ps->pool, count, size);
	if (base == NULL) {
		return fail_nomem(ps);
	}
	*out = base;
	for (size_t i = 0; i < count; i++) {
		char *e = base + i * size;
		path_index(kp, sizeof(kp), path, i);
		int ret = elem(ps, json_array_get(obj, i), kp, e);
		if (ret != CAA_EOK) {
			return ret;
		}
		const char *name = *(char *const *)(void *)(e + name_at);
		for (size_t j = 0; j < i; j++) {
			if (strcmp(name, *(char *const *)(void *)(base + j * size + name_at)) ==
			    0) {
				return FAIL(ps, CAA_ECONFIG, "%s.name: \"%s\" is also %s[%zu].name",
				            kp, name, path, j);
			}
		}
		(*n)++;
	}
	return CAA_EOK;
}

static int parse_remotes(parser_t *ps, const json_t *obj, const char *path)
{
	caa_config_t *cfg = ps->cfg;
	void *remotes = NULL;
	/* a remote answers as its name: the quorum could not tell two apart */
	int ret =
	    parse_named_objects(ps, obj, path, MAX_REMOTES, "remotes", sizeof(caa_remote_config_t),
	                        offsetof(caa_remote_config_t, name), parse_remote, &remotes,
	                        &cfg->perspective.n_remotes);
	cfg->perspective.remotes = remotes;
	for (size_t i = 0; ret == CAA_EOK && i < cfg->perspective.n_remotes; i++) {
		if (strcmp(cfg->perspective.remotes[i].name, cfg->perspective.name) == 0) {
			return FAIL(ps, CAA_ECONFIG,
			            "%s[%zu].name: \"%s\" is this perspective's own name", path, i,
			            cfg->perspective.name);
		}
	}
	return ret;
}

/* perspective.min_remotes: "br" (0: the BR schedule by date) or an integer override. */
static int get_min_remotes(parser_t *ps, const json_t *v, const char *path, unsigned *out)
{
	char got[GOT_LEN];
	if (json_is_string(v) && strcmp(json_string_value(v), "br") == 0) {
		*out = 0;
		return CAA_EOK;
	}
	if (!json_is_integer(v) || json_integer_value(v) < 1 ||
	    json_integer_value(v) > MAX_MIN_REMOTES) {
		return FAIL(ps, CAA_ECONFIG,
		            "%s: expected \"br\" or an integer from 1 to %d, got %s", path,
		            MAX_MIN_REMOTES, describe(v, got, sizeof(got)));
	}
	*out = (unsigned)json_integer_value(v);
	return CAA_EOK;
}

static int parse_perspective(parser_t *ps, const json_t *obj, const char *path)
{
	static const char *const keys[] = {"name",           "rir", "remotes", "min_remotes",
	                                   "remote_timeout", NULL};
	static const char *const rir_or_none[] = {"", "ARIN", "RIPE", "APNIC", "LACNIC", "AFRINIC"};
	caa_config_t *cfg = ps->cfg;
	char kp[PATH_LEN];
	const json_t *v;
	size_t idx;
	int ret = check_object(ps, obj, path, keys);

	if (KEY("name")) {
		ret = get_name(ps, v, kp, &cfg->perspective.name);
	}
	if (KEY("rir") && (ret = get_enum(ps, v, kp, rir_or_none, 6, &idx)) == CAA_EOK) {
		cfg->perspective.rir = pool_strdup(ps->pool, rir_or_none[idx]);
		ret = cfg->perspective.rir != NULL ? CAA_EOK : fail_nomem(ps);
	}
	if (KEY("min_remotes")) {
		ret = get_min_remotes(ps, v, kp, &cfg->perspective.min_remotes);
	}
	if (KEY("remote_timeout")) {
		ret =
		    get_duration(ps, v, kp, 1, MAX_TIMEOUT_MS, &cfg->perspective.remote_timeout_ms);
	}
	if (KEY("remotes")) {
		ret = parse_remotes(ps, v, kp);
	}
	/* BR §3.2.2.9: too few remotes is an error at start, not a surprise per
	 * check; under "br" (0) the minimum depends on the date, which caad checks
	 * at start against its clock (server/schedule.h), not the pure parser */
	size_t n = cfg->perspective.n_remotes;
	if (ret == CAA_EOK && n > 0 && n < cfg->perspective.min_remotes) {
		ret = FAIL(ps, CAA_ECONFIG, "%s.min_remotes: %u remotes required, %zu listed", path,
		           cfg->perspective.min_remotes, n);
	}
	return ret;
}

static int parse_audit(parser_t *ps, const json_t *obj, const char *path)
{
	static const char *const keys[] = {"file", "required", NULL};
	caa_config_t *cfg = ps->cfg;
	char kp[PATH_LEN];
	const json_t *v;
	int ret = check_object(ps, obj, path, keys);

	if (KEY("file")) {
		ret = get_string(ps, v, kp, &cfg->audit.file);
	}
	if (KEY("required")) {
		ret = get_bool(ps, v, kp, &cfg->audit.required);
	}
	return ret;
}

/* The HTTP(S) listener: listen, and tls as the gRPC listener's (client_names
 * is not served here yet). */
static int parse_http(parser_t *ps, const json_t *obj, const char *path)
{
	static const char *const keys[] = {"listen", "tls", NULL};
	caa_config_t *cfg = ps->cfg;
	char kp[PATH_LEN];
	const json_t *v;
	int ret = check_object(ps, obj, path, keys);

	if (ret == CAA_EOK && json_object_get(obj, "listen") == NULL) {
		path_key(kp, sizeof(kp), path, "listen");
		return FAIL(ps, CAA_ECONFIG, "%s: missing", kp);
	}
	if (KEY("listen")) {
		ret = get_listen(ps, v, kp, &cfg->http.listen);
	}
	if (KEY("tls")) {
		const json_t *names = json_object_get(v, "client_names");
		if (names != NULL) {
			char np[PATH_LEN];
			path_key(np, sizeof(np), kp, "client_names");
			return FAIL(ps, CAA_ECONFIG,
			            "%s: not supported on the http listener; every client "
			            "certificate %s.client_ca signed is admitted",
			            np, kp);
		}
		ret = parse_tls(ps, v, kp, &cfg->http.tls, false);
	}
	return ret;
}

static int parse_webhook(parser_t *ps, const json_t *obj, const char *path, void *elem)
{
	caa_webhook_config_t *w = elem;
	static const char *const keys[] = {
	    "name", "secret_file", "policy", "validation_method", "account_uri", NULL};
	char kp[PATH_LEN];
	const json_t *v;
	int ret = check_object(ps, obj, path, keys);

	for (size_t i = 0; ret == CAA_EOK && i < 2; i++) {
		if (json_object_get(obj, keys[i]) == NULL) {
			path_key(kp, sizeof(kp), path, keys[i]);
			return FAIL(ps, CAA_ECONFIG, "%s: missing", kp);
		}
	}
	if (KEY("name")) {
		ret = get_name(ps, v, kp, &w->name);
	}
	if (KEY("secret_file")) {
		ret = get_string(ps, v, kp, &w->secret_file);
	}
	if (KEY("policy") && (ret = get_string(ps, v, kp, &w->policy)) == CAA_EOK &&
	    caa_config_policy(ps->cfg, w->policy) == NULL) {
		return FAIL(ps, CAA_ECONFIG, "%s: no profile named \"%s\"", kp, w->policy);
	}
	if (KEY("validation_method") &&
	    (ret = get_string(ps, v, kp, &w->validation_method)) == CAA_EOK &&
	    w->validation_method[0] != '\0' && !ldh_token(w->validation_method)) {
		return FAIL(ps, CAA_ECONFIG,
		            "%s: expected an ACME method name like \"dns-01\", got \"%s\"", kp,
		            w->validation_method);
	}
	if (KEY("account_uri")) {
		ret = get_string(ps, v, kp, &w->account_uri);
	}
	if (ret != CAA_EOK) {
		return ret;
	}
	const char *empty = "";
	w->policy = w->policy ? w->policy : (char *)empty;
	w->validation_method = w->validation_method ? w->validation_method : (char *)empty;
	w->account_uri = w->account_uri ? w->account_uri : (char *)empty;
	return CAA_EOK;
}

static int parse_webhooks(parser_t *ps, const json_t *obj, const char *path)
{
	caa_config_t *cfg = ps->cfg;
	void *webhooks = NULL;
	int ret = parse_named_objects(
	    ps, obj, path, MAX_WEBHOOKS, "webhooks", sizeof(caa_webhook_config_t),
	    offsetof(caa_webhook_config_t, name), parse_webhook, &webhooks, &cfg->n_webhooks);
	cfg->webhooks = webhooks;
	if (ret == CAA_EOK && cfg->n_webhooks > 0 && cfg->http.listen == NULL) {
		return FAIL(ps, CAA_ECONFIG, "%s: needs http.listen to be served on", path);
	}
	return ret;
}

static int parse_top(parser_t *ps, const json_t *obj)
{
	static const char *const keys[] = {"listen",
	                                   "tls",
	                                   "metrics_listen",
	                                   "http",
	                                   "webhooks",
	                                   "issuer_domains",
	                                   "account_uri_prefixes",
	                                   "recheck_window",
	                                   "max_in_flight",
	                                   "dns",
	                                   "policy",
	                                   "profiles",
	                                   "cache",
	                                   "perspective",
	                                   "audit",
	                                   NULL};
	caa_config_t *cfg = ps->cfg;
	const char *path = "";
	char kp[PATH_LEN];
	const json_t *v;
	uint64_t u;
	int ret = check_object(ps, obj, path, keys);

	if (KEY("listen")) {
		ret = get_listen(ps, v, kp, &cfg->listen);
	}
	if (KEY("tls")) {
		ret = parse_tls(ps, v, kp, &cfg->tls, false);
	}
	if (KEY("metrics_listen")) {
		ret = get_listen(ps, v, kp, &cfg->metrics_listen);
	}
	if (KEY("http")) {
		ret = parse_http(ps, v, kp);
	}
	if (KEY("issuer_domains")) {
		ret = get_string_array(ps, v, kp, MAX_ISSUER_DOMAINS, issuer_domain_check,
		                       &cfg->issuer_domains, &cfg->n_issuer_domains);
	}
	if (KEY("account_uri_prefixes")) {
		ret = get_string_array(ps, v, kp, MAX_PREFIXES, prefix_check,
		                       &cfg->account_uri_prefixes, &cfg->n_account_uri_prefixes);
		if (ret == CAA_EOK) {
			ret = prefixes_disjoint(ps, kp, cfg->account_uri_prefixes,
			                        cfg->n_account_uri_prefixes);
		}
	}
	if (KEY("recheck_window")) {
		ret = get_duration(ps, v, kp, 0, MAX_RECHECK_MS, &cfg->recheck_window_ms);
	}
	if (KEY("max_in_flight") && (ret = get_uint(ps, v, kp, 1, MAX_IN_FLIGHT, &u)) == CAA_EOK) {
		cfg->max_in_flight = (size_t)u;
	}
	if (KEY("dns")) {
		ret = parse_dns(ps, v, kp);
	}
	/* the policies borrow the CA identity; profiles copy the default policy */
	cfg->policy.issuer_domains = (const char *const *)cfg->issuer_domains;
	cfg->policy.n_issuer_domains = cfg->n_issuer_domains;
	cfg->policy.account_uri_prefixes = (const char *const *)cfg->account_uri_prefixes;
	cfg->policy.n_account_uri_prefixes = cfg->n_account_uri_prefixes;
	if (KEY("policy")) {
		ret = parse_policy(ps, v, kp, &cfg->policy);
	}
	if (KEY("profiles")) {
		ret = parse_profiles(ps, v, kp);
	}
	if (KEY("cache")) {
		ret = parse_cache(ps, v, kp);
	}
	if (KEY("perspective")) {
		ret = parse_perspective(ps, v, kp);
	}
	if (KEY("audit")) {
		ret = parse_audit(ps, v, kp);
	}
	/* after profiles: a webhook names one */
	if (KEY("webhooks")) {
		ret = parse_webhooks(ps, v, kp);
	}
	return ret;
}

#undef KEY

/* ---- public ---- */

static int config_new(caa_config_t **out)
{
	caa_config_t *cfg = calloc(1, sizeof(*cfg));
	cfg_pool_t *pool = calloc(1, sizeof(*pool));
	if (cfg == NULL || pool == NULL) {
		free(cfg);
		free(pool);
		return CAA_ENOMEM;
	}
	cfg->priv = pool;
	cfg->listen = pool_strdup(pool, "127.0.0.1:8053");
	cfg->cache.backend = pool_strdup(pool, "memory");
	cfg->perspective.name = pool_strdup(pool, "primary");
	cfg->perspective.rir = pool_strdup(pool, "");
	cfg->cache.redis.key_prefix = pool_strdup(pool, "caa:");
	if (cfg->listen == NULL || cfg->cache.backend == NULL || cfg->perspective.name == NULL ||
	    cfg->perspective.rir == NULL || cfg->cache.redis.key_prefix == NULL) {
		caa_config_free(cfg);
		return CAA_ENOMEM;
	}
	cfg->recheck_window_ms = 7 * MS_H;
	cfg->max_in_flight = 10000;
	cfg->dns.timeout_ms = 10 * MS_S;
	cfg->dns.query_timeout_ms = 3 * MS_S;
	cfg->dns.retries = 2;
	cfg->dns.max_per_zone = 16;
	cfg->dns.max_outstanding = 1024;
	caa_policy_init(&cfg->policy);
	cfg->cache.max_entries = 1000000;
	cfg->cache.redis.timeout_ms = 100;
	cfg->perspective.min_remotes = 0; /* "br" */
	cfg->perspective.remote_timeout_ms = 5 * MS_S;
	cfg->audit.required = true;
	*out = cfg;
	return CAA_EOK;
}

int caa_config_default(caa_config_t **out)
{
	if (out == NULL) {
		return CAA_EINVAL;
	}
	return config_new(out);
}

int caa_config_parse(const char *json, size_t len, caa_config_t **out, char *err, size_t errlen)
{
	parser_t ps = {.err = err, .errlen = err != NULL ? errlen : 0};
	if (ps.errlen > 0) {
		err[0] = '\0';
	}
	if (json == NULL || out == NULL) {
		return FAIL(&ps, CAA_EINVAL, "invalid argument");
	}
	if (len > CAA_CONFIG_MAX_SIZE) {
		return FAIL(&ps, CAA_ELIMIT, "config is larger than %d octets",
		            CAA_CONFIG_MAX_SIZE);
	}
	size_t i = 0;
	while (i < len && isspace((unsigned char)json[i])) {
		i++;
	}
	if (i == len) {
		return FAIL(&ps, CAA_ECONFIG, "config is empty: expected a JSON object");
	}

	json_error_t jerr;
	json_t *root = json_loadb(json, len, JSON_REJECT_DUPLICATES, &jerr);
	if (root == NULL) {
		if (json_error_code(&jerr) == json_error_out_of_memory) {
			return fail_nomem(&ps);
		}
		/* a duplicate key is valid JSON syntax, so say which rule broke */
		bool dup = json_error_code(&jerr) == json_error_duplicate_key;
		return FAIL(&ps, CAA_ECONFIG, "%s at line %d:%d: %s",
		            dup ? "JSON error" : "JSON syntax error", jerr.line, jerr.column,
		            jerr.text);
	}
	int ret = config_new(&ps.cfg);
	if (ret != CAA_EOK) {
		json_decref(root);
		return fail_nomem(&ps);
	}
	ps.pool = ps.cfg->priv;
	ret = parse_top(&ps, root);
	json_decref(root);
	if (ret != CAA_EOK) {
		caa_config_free(ps.cfg);
		return ret;
	}
	*out = ps.cfg;
	return CAA_EOK;
}

int caa_config_load(const char *path, caa_config_t **out, char *err, size_t errlen)
{
	parser_t ps = {.err = err, .errlen = err != NULL ? errlen : 0};
	if (path == NULL || out == NULL) {
		return FAIL(&ps, CAA_EINVAL, "invalid argument");
	}
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		return FAIL(&ps, CAA_EIO, "%s: %s", path, strerror(errno));
	}
	/* read to EOF rather than trust st_size: pipes and /dev/fd paths work too */
	char *buf = malloc(CAA_CONFIG_MAX_SIZE + 1);
	if (buf == NULL) {
		close(fd);
		return fail_nomem(&ps);
	}
	size_t len = 0;
	int ret = CAA_EOK;
	while (len <= CAA_CONFIG_MAX_SIZE) {
		ssize_t r = read(fd, buf + len, CAA_CONFIG_MAX_SIZE + 1 - len);
		if (r < 0 && errno == EINTR) {
			continue;
		}
		if (r < 0) {
			ret = FAIL(&ps, CAA_EIO, "%s: %s", path, strerror(errno));
			break;
		}
		if (r == 0) {
			break;
		}
		len += (size_t)r;
	}
	close(fd);
	if (ret == CAA_EOK && len > CAA_CONFIG_MAX_SIZE) {
		ret = FAIL(&ps, CAA_ELIMIT, "%s: larger than %d octets", path, CAA_CONFIG_MAX_SIZE);
	}
	if (ret == CAA_EOK) {
		ret = caa_config_parse(buf, len, out, err, errlen);
		/* name the file in front of the key, as compilers do */
		if (ret != CAA_EOK && ps.errlen > 0) {
			char *msg = strdup(err);
			if (msg != NULL) {
				error_set(&ps, "%s: %s", path, msg);
				free(msg);
			}
		}
	}
	free(buf);
	return ret;
}

/* ---- the generation ---- */

/*
 * The hash input is a sequence of tagged fields: a tag and its NUL, then a
 * number as 8 octets big-endian, or a string as its length and octets (NULL
 * as length 2^64 - 1), or a set as its members in order, each after a 0x01,
 * and a 0x00. Sets (issuer domains, prefixes, methods, labels, profiles,
 * remotes) are hashed sorted, so their order in the file does not count;
 * what the decision compares without case is hashed lowercased.
 */
typedef struct gen {
	EVP_MD_CTX *md;
	bool ok;
	unsigned files; /* files read so far (gen_file) */
} gen_t;

static void gen_bytes(gen_t *g, const void *p, size_t n)
{
	if (g->ok && EVP_DigestUpdate(g->md, p, n) != 1) {
		g->ok = false;
	}
}

static void gen_u64(gen_t *g, uint64_t v)
{
	uint8_t b[8];
	for (int i = 0; i < 8; i++) {
		b[i] = (uint8_t)(v >> (56 - 8 * i));
	}
	gen_bytes(g, b, sizeof(b));
}

static void gen_tag(gen_t *g, const char *tag)
{
	gen_bytes(g, tag, strlen(tag) + 1);
}

static void gen_num(gen_t *g, const char *tag, uint64_t v)
{
	gen_tag(g, tag);
	gen_u64(g, v);
}

static void gen_text(gen_t *g, const char *s, bool fold)
{
	if (s == NULL) {
		gen_u64(g, UINT64_MAX);
		return;
	}
	size_t n = strlen(s);
	gen_u64(g, n);
	if (!fold) {
		gen_bytes(g, s, n);
		return;
	}
	for (size_t i = 0; i < n; i++) {
		uint8_t c = (uint8_t)tolower((unsigned char)s[i]);
		gen_bytes(g, &c, 1);
	}
}

static void gen_str(gen_t *g, const char *tag, const char *s)
{
	gen_tag(g, tag);
	gen_text(g, s, false);
}

/* Visit the n items of a in the order of their keys, each distinct key once:
 * next(prev) is the index of the least key above prev's, or n. Sets here hold
 * at most a few hundred items, so this O(n^2) walk allocates nothing. */
typedef const char *(*gen_key_fn)(const void *a, size_t i);

static size_t gen_next(const void *a, size_t n, gen_key_fn key, bool fold, size_t prev)
{
	int (*cmp)(const char *, const char *) = fold ? strcasecmp : strcmp;
	size_t best = n;
	for (size_t i = 0; i < n; i++) {
		if (prev < n && cmp(key(a, i), key(a, prev)) <= 0) {
			continue;
		}
		if (best == n || cmp(key(a, i), key(a, best)) < 0) {
			best = i;
		}
	}
	return best;
}

static const char *gen_key_str(const void *a, size_t i)
{
	return ((const char *const *)a)[i];
}

static void gen_strings(gen_t *g, const char *tag, const char *const *a, size_t n, bool fold)
{
	gen_tag(g, tag);
	for (size_t i = gen_next(a, n, gen_key_str, fold, n); i < n;
	     i = gen_next(a, n, gen_key_str, fold, i)) {
		gen_bytes(g, "\x01", 1);
		gen_text(g, a[i], fold);
	}
	gen_bytes(g, "", 1);
}

static const char *gen_key_label(const void *a, size_t i)
{
	return ((const caa_method_label_t *)a)[i].label;
}

static void gen_policy(gen_t *g, const caa_policy_t *pol)
{
	gen_str(g, "profile", pol->name);
	gen_num(g, "critical", (uint64_t)pol->critical);
	gen_num(g, "flag1_is_critical", pol->flag1_is_critical);
	gen_num(g, "tld_nxdomain_error", pol->tld_nxdomain_error);
	gen_num(g, "nodata_without_soa_error", pol->nodata_without_soa_error);
	gen_num(g, "insecure_lookup_failure_permits", pol->insecure_lookup_failure_permits);
	gen_num(g, "boulder_recheck_types", pol->boulder_recheck_types);
	/* no mapping is the default one: spell it out, so that writing the
	 * defaults down changes nothing */
	const caa_method_label_t *ml = pol->method_labels;
	size_t n = pol->n_method_labels;
	if (ml == NULL) {
		ml = default_labels;
		n = sizeof(default_labels) / sizeof(default_labels[0]);
	}
	gen_tag(g, "method_labels");
	for (size_t i = gen_next(ml, n, gen_key_label, true, n); i < n;
	     i = gen_next(ml, n, gen_key_label, true, i)) {
		gen_bytes(g, "\x01", 1);
		gen_text(g, ml[i].label, true);
		gen_strings(g, "methods", ml[i].methods, ml[i].n_methods, true);
	}
	gen_bytes(g, "", 1);
}

/*
 * Files named by path count by content (read when the generation is
 * computed): a file is its path, then 'R' and its lines (each after a 0x01)
 * and a 0x00, or 'U' when it cannot be read as a regular file (a context
 * fails on it anyway), 'D' beyond GEN_FILE_DEPTH nested includes, 'L'
 * beyond GEN_FILE_MAX files. In an unbound.conf (depth >= 0), the files it
 * names for libunbound to read follow the line naming them, each after a
 * 0x02: include:/include-toplevel: (globbed, read as unbound.conf text
 * themselves), trust anchors, root hints, zone files.
 */
#define GEN_FILE_DEPTH 8
#define GEN_FILE_MAX   256

static const char *const gen_conf_files[] = {
    "include:",           "include-toplevel:", "trust-anchor-file:", "auto-trust-anchor-file:",
    "trusted-keys-file:", "root-hints:",       "zonefile:",
};

static void gen_file(gen_t *g, const char *path, int depth);

/* The next token of an unbound.conf line from *p (quotes removed, into tok),
 * or false at its end or a comment. */
static bool gen_conf_token(const char **p, char *tok, size_t size)
{
	const char *s = *p;
	while (*s == ' ' || *s == '\t' || *s == '\r' || *s == '\n') {
		s++;
	}
	if (*s == '\0' || *s == '#') {
		return false;
	}
	size_t n = 0;
	char quote = (*s == '"' || *s == '\'') ? *s++ : '\0';
	while (*s != '\0' && (quote ? *s != quote : !isspace((unsigned char)*s) && *s != '#')) {
		if (n + 1 < size) {
			tok[n++] = *s;
		}
		s++;
	}
	if (quote && *s == quote) {
		s++;
	}
	tok[n] = '\0';
	*p = s;
	return true;
}

/* The files one unbound.conf line names, as gen_file() hashes them. */
static void gen_conf_line(gen_t *g, const char *line, int depth)
{
	char tok[4096];
	const char *p = line;
	size_t n = sizeof(gen_conf_files) / sizeof(gen_conf_files[0]);
	while (gen_conf_token(&p, tok, sizeof(tok))) {
		size_t k = 0;
		while (k < n && strcmp(tok, gen_conf_files[k]) != 0) {
			k++;
		}
		if (k == n || !gen_conf_token(&p, tok, sizeof(tok))) {
			continue;
		}
		bool include = k < 2;
		/* libunbound globs include: patterns; no match is no file */
		glob_t gl;
		if (include && strpbrk(tok, "*?[") != NULL) {
			if (glob(tok, 0, NULL, &gl) == 0) {
				for (size_t i = 0; i < gl.gl_pathc; i++) {
					gen_bytes(g, "\x02", 1);
					gen_file(g, gl.gl_pathv[i], depth + 1);
				}
			}
			globfree(&gl);
			continue;
		}
		gen_bytes(g, "\x02", 1);
		gen_file(g, tok, include ? depth + 1 : -1);
	}
}

static void gen_file(gen_t *g, const char *path, int depth)
{
	gen_text(g, path, false);
	if (path == NULL) {
		return;
	}
	if (depth > GEN_FILE_DEPTH || g->files >= GEN_FILE_MAX) {
		gen_bytes(g, depth > GEN_FILE_DEPTH ? "D" : "L", 1);
		return;
	}
	g->files++;
	/* non-blocking: a FIFO or a device is neither read nor waited for */
	int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	struct stat st;
	FILE *f = NULL;
	if (fd < 0 || fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) ||
	    (f = fdopen(fd, "r")) == NULL) {
		if (fd >= 0) {
			close(fd);
		}
		gen_bytes(g, "U", 1);
		return;
	}
	gen_bytes(g, "R", 1);
	char *line = NULL;
	size_t cap = 0;
	ssize_t len;
	while ((len = getline(&line, &cap, f)) >= 0) {
		gen_bytes(g, "\x01", 1);
		gen_u64(g, (uint64_t)len);
		gen_bytes(g, line, (size_t)len);
		if (depth >= 0) {
			gen_conf_line(g, line, depth);
		}
	}
	if (ferror(f)) {
		g->ok = false; /* a file read in part has no generation */
	}
	free(line);
	fclose(f);
	gen_bytes(g, "", 1);
}

static const char *gen_key_profile(const void *a, size_t i)
{
	return ((const caa_policy_t *)a)[i].name;
}

static const char *gen_key_remote(const void *a, size_t i)
{
	return ((const caa_remote_config_t *)a)[i].name;
}

int caa_config_generation(const caa_config_t *cfg, uint8_t out[CAA_CONFIG_GENERATION_LEN])
{
	if (cfg == NULL || out == NULL) {
		return CAA_EINVAL;
	}
	gen_t g = {.md = EVP_MD_CTX_new(), .ok = true};
	if (g.md == NULL) {
		return CAA_ENOMEM;
	}
	g.ok = EVP_DigestInit_ex(g.md, EVP_sha256(), NULL) == 1;
	gen_tag(&g, "caa config generation 2");
	gen_strings(&g, "issuer_domains", (const char *const *)cfg->issuer_domains,
	            cfg->n_issuer_domains, true);
	gen_strings(&g, "account_uri_prefixes", (const char *const *)cfg->account_uri_prefixes,
	            cfg->n_account_uri_prefixes, false);
	gen_tag(&g, "dns.unbound_conf");
	gen_file(&g, cfg->dns.unbound_conf, 0);
	gen_tag(&g, "dns.trust_anchor_file");
	gen_file(&g, cfg->dns.trust_anchor_file, -1);
	gen_num(&g, "dns.timeout", cfg->dns.timeout_ms);
	gen_num(&g, "dns.query_timeout", cfg->dns.query_timeout_ms);
	gen_num(&g, "dns.retries", cfg->dns.retries);
	gen_policy(&g, &cfg->policy);
	gen_tag(&g, "profiles");
	size_t n = cfg->n_profiles;
	for (size_t i = gen_next(cfg->profiles, n, gen_key_profile, false, n); i < n;
	     i = gen_next(cfg->profiles, n, gen_key_profile, false, i)) {
		gen_bytes(&g, "\x01", 1);
		gen_policy(&g, &cfg->profiles[i]);
	}
	gen_bytes(&g, "", 1);
	gen_num(&g, "perspective.min_remotes", cfg->perspective.min_remotes); /* 0: "br" */
	gen_num(&g, "perspective.remote_timeout", cfg->perspective.remote_timeout_ms);
	gen_tag(&g, "perspective.remotes");
	n = cfg->perspective.n_remotes;
	for (size_t i = gen_next(cfg->perspective.remotes, n, gen_key_remote, false, n); i < n;
	     i = gen_next(cfg->perspective.remotes, n, gen_key_remote, false, i)) {
		const caa_remote_config_t *r = &cfg->perspective.remotes[i];
		gen_bytes(&g, "\x01", 1);
		gen_str(&g, "name", r->name);
		gen_str(&g, "rir", r->rir);
		gen_str(&g, "address", r->address);
		gen_num(&g, "tls", r->tls.set);
	}
	gen_bytes(&g, "", 1);
	unsigned int len = 0;
	if (g.ok) {
		g.ok = EVP_DigestFinal_ex(g.md, out, &len) == 1 && len == CAA_CONFIG_GENERATION_LEN;
	}
	EVP_MD_CTX_free(g.md);
	return g.ok ? CAA_EOK : CAA_EINTERNAL;
}

const caa_policy_t *caa_config_policy(const caa_config_t *cfg, const char *profile)
{
	if (cfg == NULL) {
		return NULL;
	}
	if (profile == NULL || profile[0] == '\0') {
		return &cfg->policy;
	}
	for (size_t i = 0; i < cfg->n_profiles; i++) {
		if (strcmp(cfg->profiles[i].name, profile) == 0) {
			return &cfg->profiles[i];
		}
	}
	return NULL;
}

void caa_config_free(caa_config_t *cfg)
{
	if (cfg == NULL) {
		return;
	}
	if (cfg->priv != NULL) {
		pool_free(cfg->priv);
	}
	free(cfg);
}
