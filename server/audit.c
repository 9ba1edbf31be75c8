/*
 * audit.c — audit lines (audit.h). The relevant records go in as
 * presentation text, and a failure names the label that failed, so the line
 * alone answers "why was this refused".
 *
 * The line is formatted straight into a buffer, byte for byte what
 * caad_log() (jansson: compact, insertion order, 15 significant digits,
 * ASCII only) used to make of the same fields: strings escaped as jansson
 * does (\" \\ \b \f \n \r \t, other controls and every non-ASCII code point
 * as \uXXXX, surrogate pairs above the BMP); a string that is not UTF-8 goes
 * through caa_json_escape() first, as before. No JSON objects, no per-line
 * allocation in the common case, one write(2) per flush.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/stat.h>

#include "audit.h"
#include "codes.h"
#include "convert.h"
#include "json.h"
#include "log.h"
#include "util.h"

#define FLUSH_AT (64 * 1024) /* an order's lines are written in pieces of about this */

/* ---- the sink ---- */

/* One lock orders the lines and the reopen: a line goes wholly to the old
 * file or wholly to the new one, never to neither. */
static pthread_mutex_t sink_lock = PTHREAD_MUTEX_INITIALIZER;
static int sink_fd = -1; /* -1: stderr, through caad_log_write() */
static char *sink_path;
static bool sink_required = true;
static caad_metrics_t *sink_metrics;

static int open_file(const char *path)
{
	return open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOCTTY, 0640);
}

int caad_audit_open(const char *path, bool required, caad_metrics_t *m, char *err, size_t errlen)
{
	sink_required = required;
	sink_metrics = m;
	if (path == NULL)
		return CAA_EOK;
	int fd = open_file(path);
	if (fd < 0 || (sink_path = strdup(path)) == NULL) {
		caa_set_err(err, errlen, "audit.file: cannot open %s: %s", path,
		            strerror(fd < 0 ? errno : ENOMEM));
		if (fd >= 0)
			close(fd);
		return CAA_EIO;
	}
	sink_fd = fd;
	return CAA_EOK;
}

void caad_audit_close(void)
{
	pthread_mutex_lock(&sink_lock);
	if (sink_fd >= 0)
		close(sink_fd);
	sink_fd = -1;
	free(sink_path);
	sink_path = NULL;
	pthread_mutex_unlock(&sink_lock);
}

bool caad_audit_required(void)
{
	return sink_required;
}

/* Under sink_lock. */
static int reopen_locked(void)
{
	int fd = open_file(sink_path);
	if (fd < 0)
		return -1;
	close(sink_fd);
	sink_fd = fd;
	return 0;
}

void caad_audit_reopen(void)
{
	if (sink_path == NULL)
		return; /* stderr: nothing to reopen */
	pthread_mutex_lock(&sink_lock);
	int rc = reopen_locked(), e = errno;
	pthread_mutex_unlock(&sink_lock);
	if (rc == 0)
		caad_log("audit reopened", json_pack("{s:s}", "file", sink_path));
	else
		caad_log("audit reopen failed",
		         json_pack("{s:s, s:s}", "file", sink_path, "error", strerror(e)));
}

/* Write text (whole lines) to the file, under sink_lock. A line that went
 * out in part is cut off again, so the file never holds half a line; a file
 * removed under us (its lines would be read by nobody) is opened again by
 * its path and the lines written there. */
static int file_write(const char *text, size_t len)
{
	size_t written;
	int rc = caad_write_all(sink_fd, text, len, &written);
	if (rc != 0) {
		int e = errno;
		off_t end = lseek(sink_fd, 0, SEEK_END);
		if (written > 0 && end >= (off_t)written &&
		    ftruncate(sink_fd, end - (off_t)written) != 0) {
			/* the half line stays: the next line still starts on its own */
			(void)caad_write_all(sink_fd, "\n", 1, NULL);
		}
		errno = e;
		return -1;
	}
	struct stat st;
	if (fstat(sink_fd, &st) == 0 && st.st_nlink == 0) {
		if (reopen_locked() != 0)
			return -1;
		return caad_write_all(sink_fd, text, len, NULL);
	}
	return 0;
}

/* Lines to the sink: CAA_EOK or CAA_EIO (counted, and logged on stderr). */
static int sink_write(const char *text, size_t len)
{
	int rc;
	if (sink_fd < 0) {
		rc = caad_log_write(text, len);
	} else {
		pthread_mutex_lock(&sink_lock);
		rc = sink_fd >= 0 ? file_write(text, len) : caad_log_write(text, len);
		pthread_mutex_unlock(&sink_lock);
	}
	if (rc == 0)
		return CAA_EOK;
	caad_metrics_audit_failure(sink_metrics);
	return CAA_EIO;
}

void caad_audit_log(const char *msg, json_t *fields)
{
	size_t len;
	char *text = caad_log_text(msg, fields, &len);
	if (text == NULL)
		return;
	caad_log_write(text, len);
	if (sink_path != NULL)
		(void)sink_write(text, len);
	free(text);
}

void caad_audit_buf_init(caad_audit_buf_t *b)
{
	b->p = b->small;
	b->len = 0;
	b->cap = sizeof(b->small);
	b->failed = false;
	b->werr = CAA_EOK;
}

void caad_audit_buf_free(caad_audit_buf_t *b)
{
	if (b->p != b->small)
		free(b->p);
	caad_audit_buf_init(b);
}

static bool reserve(caad_audit_buf_t *b, size_t more)
{
	if (b->failed)
		return false;
	if (b->cap - b->len >= more)
		return true;
	size_t cap = b->cap * 2;
	while (cap - b->len < more)
		cap *= 2;
	char *p = b->p == b->small ? malloc(cap) : realloc(b->p, cap);
	if (p == NULL) {
		b->failed = true;
		return false;
	}
	if (b->p == b->small)
		memcpy(p, b->small, b->len);
	b->p = p;
	b->cap = cap;
	return true;
}

static void put(caad_audit_buf_t *b, const char *s, size_t n)
{
	if (reserve(b, n)) {
		memcpy(b->p + b->len, s, n);
		b->len += n;
	}
}

#define PUT_LIT(b, lit) put((b), (lit), sizeof(lit) - 1)

/* ,"key": (every key but the line's first, "time", follows another) */
static void key(caad_audit_buf_t *b, const char *k)
{
	size_t n = strlen(k);
	if (reserve(b, n + 4)) {
		char *o = b->p + b->len;
		*o++ = ',';
		*o++ = '"';
		// NOLINTNEXTLINE(bugprone-not-null-terminated-result): b counts its length
		memcpy(o, k, n);
		o += n;
		*o++ = '"';
		*o++ = ':';
		b->len += n + 4;
	}
}

static const char hex[] = "0123456789ABCDEF";

static char *u_escape(char *o, uint32_t cp)
{
	*o++ = '\\';
	*o++ = 'u';
	*o++ = hex[cp >> 12 & 0xf];
	*o++ = hex[cp >> 8 & 0xf];
	*o++ = hex[cp >> 4 & 0xf];
	*o++ = hex[cp & 0xf];
	return o;
}

/* "s" escaped; false (nothing written) when s is not UTF-8 or memory ran out. */
static bool jstr(caad_audit_buf_t *b, const char *s, size_t len)
{
	/* worst case: every octet a 6-octet \u00XX; 4 octets → 12 */
	if (!reserve(b, len * 6 + 2))
		return false;
	const unsigned char *in = (const unsigned char *)s, *end = in + len;
	char *o = b->p + b->len;
	*o++ = '"';
	while (in < end) {
		unsigned char c = *in;
		if (c >= 0x20 && c < 0x80 && c != '"' && c != '\\') {
			*o++ = (char)c;
			in++;
			continue;
		}
		if (c < 0x80) {
			*o++ = '\\';
			switch (c) {
			case '"': *o++ = '"'; break;
			case '\\': *o++ = '\\'; break;
			case '\b': *o++ = 'b'; break;
			case '\f': *o++ = 'f'; break;
			case '\n': *o++ = 'n'; break;
			case '\r': *o++ = 'r'; break;
			case '\t': *o++ = 't'; break;
			default: o = u_escape(o - 1, c); break;
			}
			in++;
			continue;
		}
		uint32_t cp;
		size_t n = caad_utf8_next(in, (size_t)(end - in), &cp);
		if (n == 0)
			return false; /* b->len untouched: the caller decides */
		if (cp < 0x10000) {
			o = u_escape(o, cp);
		} else {
			cp -= 0x10000;
			o = u_escape(o, 0xd800 | (cp >> 10 & 0x3ff));
			o = u_escape(o, 0xdc00 | (cp & 0x3ff));
		}
		in += n;
	}
	*o++ = '"';
	b->len = (size_t)(o - b->p);
	return true;
}

/* A string field as audit lines always had it: NULL as "", text that is not
 * UTF-8 in caa_json_escape()'s presentation form. */
static void str(caad_audit_buf_t *b, const char *s)
{
	if (s == NULL)
		s = "";
	size_t len = strlen(s);
	if (jstr(b, s, len) || b->failed)
		return;
	size_t n = caa_json_escape(NULL, 0, s, len, false);
	char small[256], *tmp = n < sizeof(small) ? small : malloc(n + 1);
	if (tmp == NULL) {
		b->failed = true;
		return;
	}
	caa_json_escape(tmp, n + 1, s, len, false);
	if (!jstr(b, tmp, n))
		b->failed = true; /* cannot happen: the escape is ASCII */
	if (tmp != small)
		free(tmp);
}

static void str_field(caad_audit_buf_t *b, const char *k, const char *s)
{
	key(b, k);
	str(b, s);
}

/* A field whose value was a plain json_string(): left out when s is NULL or
 * not UTF-8, as jansson did. */
static void name_field(caad_audit_buf_t *b, const char *k, const char *s)
{
	if (s == NULL)
		return;
	size_t mark = b->len;
	key(b, k);
	if (!jstr(b, s, strlen(s)) && !b->failed)
		b->len = mark;
}

/* The rule for optional fields (docs/caad.md#audit): left out when they
 * have no value, never written as "". */
static void opt_field(caad_audit_buf_t *b, const char *k, const char *s)
{
	if (s != NULL && s[0] != '\0')
		str_field(b, k, s);
}

static void int_field(caad_audit_buf_t *b, const char *k, long long v)
{
	char num[24];
	int n = snprintf(num, sizeof(num), "%lld", v);
	key(b, k);
	put(b, num, (size_t)n);
}

/* jansson's real with JSON_REAL_PRECISION(15): %.15g, ".0" when it looks
 * like an integer, no '+' or leading zeros in the exponent. */
static void real_field(caad_audit_buf_t *b, const char *k, double v)
{
	char num[64];
	int n = snprintf(num, sizeof(num), "%.15g", v);
	if (n < 0 || (size_t)n >= sizeof(num) - 3)
		return;
	size_t len = (size_t)n;
	if (strchr(num, '.') == NULL && strchr(num, 'e') == NULL) {
		num[len++] = '.';
		num[len++] = '0';
		num[len] = '\0';
	}
	char *start = strchr(num, 'e');
	if (start != NULL) {
		start++;
		char *end = start + 1;
		if (*start == '-')
			start++;
		while (*end == '0')
			end++;
		if (end != start) {
			memmove(start, end, len - (size_t)(end - num) + 1);
			len -= (size_t)(end - start);
		}
	}
	key(b, k);
	put(b, num, len);
}

static void time_value(caad_audit_buf_t *b, int64_t unix_ms)
{
	char at[40];
	caad_log_time(at, sizeof(at), (long long)unix_ms);
	put(b, "\"", 1);
	put(b, at, strlen(at));
	put(b, "\"", 1);
}

/* A record that did not parse, as RFC 3597 generic RDATA: "\\# 5 0000616263"
 * (the octets as they came, which the tag and value cannot show). */
static void generic_rdata(caad_audit_buf_t *b, const caa_record_t *r)
{
	static const char lhex[] = "0123456789abcdef";
	char head[32];
	int k = snprintf(head, sizeof(head), "\"\\\\# %zu", r->rdata_len);
	put(b, head, (size_t)k);
	if (r->rdata_len > 0 && reserve(b, 1 + 2 * r->rdata_len)) {
		char *o = b->p + b->len;
		*o++ = ' ';
		for (size_t i = 0; i < r->rdata_len; i++) {
			*o++ = lhex[r->rdata[i] >> 4];
			*o++ = lhex[r->rdata[i] & 0xf];
		}
		b->len = (size_t)(o - b->p);
	}
	put(b, "\"", 1);
}

static void records(caad_audit_buf_t *b, const caa_result_t *res)
{
	key(b, "records");
	put(b, "[", 1);
	bool first = true;
	char small[512];
	for (size_t i = 0; i < res->n_records; i++) {
		const caa_record_t *r = &res->records[i];
		if (r->malformed && r->rdata != NULL) {
			if (!first)
				put(b, ",", 1);
			first = false;
			generic_rdata(b, r);
			continue;
		}
		const char *tag = r->tag ? r->tag : "", *val = r->value ? r->value : "";
		size_t vlen = strlen(val);
		size_t n = caa_json_escape(NULL, 0, val, vlen, true);
		size_t need = strlen(tag) + n + 16;
		char *text = need <= sizeof(small) ? small : malloc(need);
		if (text == NULL) {
			b->failed = true; /* a line without its record is not the evidence */
			continue;
		}
		int k = snprintf(text, need, "%u %s \"", r->flags, tag);
		caa_json_escape(text + k, n + 1, val, vlen, true);
		text[(size_t)k + n] = '"';
		text[(size_t)k + n + 1] = '\0';
		if (!first)
			put(b, ",", 1);
		first = false;
		str(b, text);
		if (text != small)
			free(text);
	}
	put(b, "]", 1);
}

/* The label whose failure decided a LOOKUP_FAILED result (from the trace). */
static const char *failed_label(const caa_result_t *res)
{
	if (res->verdict != CAA_LOOKUP_FAILED || res->reason == CAA_R_NOT_CORROBORATED)
		return NULL;
	for (size_t i = 0; i < res->n_trace; i++)
		if (res->trace[i].relevant)
			return res->trace[i].name;
	return NULL;
}

static void problem_value(caad_audit_buf_t *b, const caa_problem_t *p)
{
	const char *urn = caa_problem_urn(p->type);
	PUT_LIT(b, "{\"type\":");
	jstr(b, urn, strlen(urn));
	PUT_LIT(b, ",\"detail\":");
	str(b, p->detail);
	int_field(b, "status", p->status);
	put(b, "}", 1);
}

/* Every remote's part and the quorum as "passed/total" (BR §5.4.1). */
static void perspectives(caad_audit_buf_t *b, const caa_result_t *res)
{
	key(b, "perspectives");
	put(b, "[", 1);
	for (size_t i = 0; i < res->n_perspectives; i++) {
		const caa_perspective_t *p = &res->perspectives[i];
		if (i > 0)
			put(b, ",", 1);
		PUT_LIT(b, "{\"name\":");
		str(b, p->name);
		str_field(b, "rir", p->rir);
		name_field(b, "outcome", caa_mpic_state_name(p->state));
		if (p->verdict != 0)
			name_field(b, "verdict", caa_verdict_name(p->verdict));
		if (p->problem != NULL) {
			key(b, "problem");
			problem_value(b, p->problem);
		}
		real_field(b, "elapsed_ms", p->elapsed_us / 1000.0);
		put(b, "}", 1);
	}
	put(b, "]", 1);
	char q[48];
	snprintf(q, sizeof(q), "%zu/%zu",
	         caa_perspectives_passed(res->perspectives, res->n_perspectives),
	         res->n_perspectives);
	str_field(b, "quorum", q);
}

static void add_result(caad_audit_buf_t *b, const caa_result_t *res)
{
	name_field(b, "verdict", caa_verdict_name(res->verdict));
	name_field(b, "reason", caa_reason_name(res->reason));
	str_field(b, "relevant_domain", res->relevant_domain);
	const char *failed = failed_label(res);
	if (failed != NULL)
		str_field(b, "failed_label", failed);
	records(b, res);
	name_field(b, "dnssec", caa_dnssec_name(res->dnssec));
	if (res->problem != NULL) {
		key(b, "problem");
		problem_value(b, res->problem);
	}
	if (res->n_perspectives > 0)
		perspectives(b, res);
	key(b, "reused");
	if (res->reused)
		PUT_LIT(b, "true");
	else
		PUT_LIT(b, "false");
	key(b, "checked_at");
	time_value(b, res->checked_at_ms);
	real_field(b, "elapsed_ms", res->elapsed_us / 1000.0);
	int_field(b, "queries", (long long)res->queries);
	key(b, "flags");
	put(b, "[", 1);
	bool first = true;
	for (unsigned bit = 0; bit < 32; bit++) {
		const char *name =
		    (res->flags >> bit & 1u) ? caa_result_flag_name(1u << bit) : NULL;
		if (name == NULL)
			continue;
		if (!first)
			put(b, ",", 1);
		first = false;
		jstr(b, name, strlen(name));
	}
	put(b, "]", 1);
}

void caad_audit_append(caad_audit_buf_t *b, const caad_audit_t *who, const caa_request_t *req,
                       const caa_result_t *res, const char *error)
{
	size_t mark = b->len;
	b->failed = false;
	PUT_LIT(b, "{\"time\":");
	time_value(b, caa_wall_ms());
	PUT_LIT(b, ",\"msg\":\"check\"");
	int_field(b, "call", (long long)who->call);
	name_field(b, "rpc", who->rpc);
	str_field(b, "peer", who->peer);
	opt_field(b, "client", who->client);
	if (who->size > 1 || strcmp(who->rpc, "CheckOrder") == 0) {
		key(b, "order");
		PUT_LIT(b, "{\"index\":");
		char num[48];
		int n = snprintf(num, sizeof(num), "%lld,\"size\":%lld}", (long long)who->index,
		                 (long long)who->size);
		put(b, num, (size_t)n);
	}
	if (who->authz_id != 0)
		int_field(b, "authz_id", (long long)who->authz_id);
	key(b, "answered");
	if (who->answered)
		PUT_LIT(b, "true");
	else
		PUT_LIT(b, "false");
	str_field(b, "identifier", req->identifier);
	str_field(b, "identifier_type", req->type != NULL && req->type[0] ? req->type : "dns");
	opt_field(b, "account_uri", req->account_uri);
	if (req->account_id != 0)
		int_field(b, "account_id", (long long)req->account_id);
	opt_field(b, "validation_method", req->method);
	opt_field(b, "policy", req->policy);
	if (req->validated_at_ms != 0) {
		key(b, "validated_at");
		time_value(b, req->validated_at_ms);
	}
	if (res != NULL)
		add_result(b, res);
	if (error != NULL)
		name_field(b, "error", error);
	PUT_LIT(b, "}\n");
	if (b->failed) { /* out of memory: this line is lost, the flush says so */
		b->len = mark;
		b->failed = false;
		if (b->werr == CAA_EOK)
			b->werr = CAA_ENOMEM;
		caad_metrics_audit_failure(sink_metrics);
	}
	if (b->len >= FLUSH_AT)
		b->werr = caad_audit_flush(b); /* keeps an earlier loss */
}

int caad_audit_flush(caad_audit_buf_t *b)
{
	int rc = b->werr;
	if (b->len > 0) {
		int w = sink_write(b->p, b->len);
		if (rc == CAA_EOK)
			rc = w;
	}
	b->len = 0;
	b->werr = CAA_EOK;
	return rc;
}

int caad_audit_check(const caad_audit_t *who, const caa_request_t *req, const caa_result_t *res,
                     const char *error)
{
	caad_audit_buf_t b;
	caad_audit_buf_init(&b);
	caad_audit_append(&b, who, req, res, error);
	int rc = caad_audit_flush(&b);
	caad_audit_buf_free(&b);
	return rc;
}

int caad_audit_refused(const char *rpc, const char *peer, const char *client, char *const *sans,
                       const char *error)
{
	caad_audit_buf_t b;
	caad_audit_buf_init(&b);
	PUT_LIT(&b, "{\"time\":");
	time_value(&b, caa_wall_ms());
	PUT_LIT(&b, ",\"msg\":\"refused\"");
	str_field(&b, "rpc", rpc);
	str_field(&b, "peer", peer);
	opt_field(&b, "client", client);
	key(&b, "sans");
	put(&b, "[", 1);
	for (size_t i = 0; sans != NULL && sans[i] != NULL; i++) {
		if (i > 0)
			put(&b, ",", 1);
		str(&b, sans[i]);
	}
	put(&b, "]", 1);
	str_field(&b, "error", error);
	PUT_LIT(&b, "}\n");
	int rc = CAA_ENOMEM; /* out of memory: no line rather than half of one */
	if (!b.failed)
		rc = caad_audit_flush(&b);
	else
		caad_metrics_audit_failure(sink_metrics);
	caad_audit_buf_free(&b);
	return rc;
}
