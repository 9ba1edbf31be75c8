/*
 * pbjson.c — the proto3 JSON mapping over protobuf-c descriptors (pbjson.h).
 * Decoding builds the message the way protobuf_c_message_unpack does (every
 * string, array and sub-message malloc'ed, counts raised only once an
 * element is complete), so protobuf_c_message_free_unpacked frees a message
 * left half-built by an error as well as a whole one.
 */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pbjson.h"

#define TIMESTAMP "google.protobuf.Timestamp"

/* ---- names ---- */

int caad_pbjson_name(const char *proto_name, char *buf, size_t size)
{
	size_t n = 0;
	bool up = false;
	for (const char *p = proto_name; *p; p++) {
		if (*p == '_') {
			up = true;
			continue;
		}
		if (n + 1 >= size)
			return 0;
		buf[n++] = up && *p >= 'a' && *p <= 'z' ? (char)(*p - 'a' + 'A') : *p;
		up = false;
	}
	if (n >= size)
		return 0;
	buf[n] = '\0';
	return 1;
}

/* ---- field access ---- */

#define MEMBER(type, m, off) (*(type *)(void *)((char *)(m) + (off)))

static size_t elem_size(ProtobufCType t)
{
	switch (t) {
	case PROTOBUF_C_TYPE_INT32:
	case PROTOBUF_C_TYPE_SINT32:
	case PROTOBUF_C_TYPE_SFIXED32: return sizeof(int32_t);
	case PROTOBUF_C_TYPE_UINT32:
	case PROTOBUF_C_TYPE_FIXED32: return sizeof(uint32_t);
	case PROTOBUF_C_TYPE_INT64:
	case PROTOBUF_C_TYPE_SINT64:
	case PROTOBUF_C_TYPE_SFIXED64: return sizeof(int64_t);
	case PROTOBUF_C_TYPE_UINT64:
	case PROTOBUF_C_TYPE_FIXED64: return sizeof(uint64_t);
	case PROTOBUF_C_TYPE_FLOAT: return sizeof(float);
	case PROTOBUF_C_TYPE_DOUBLE: return sizeof(double);
	case PROTOBUF_C_TYPE_BOOL: return sizeof(protobuf_c_boolean);
	case PROTOBUF_C_TYPE_ENUM: return sizeof(int);
	case PROTOBUF_C_TYPE_STRING: return sizeof(char *);
	case PROTOBUF_C_TYPE_BYTES: return sizeof(ProtobufCBinaryData);
	case PROTOBUF_C_TYPE_MESSAGE: return sizeof(ProtobufCMessage *);
	}
	return 0;
}

/* Whether a singular field is there to be written (proto3: not default). */
static bool present(const ProtobufCMessage *m, const ProtobufCFieldDescriptor *f)
{
	const void *v = (const char *)m + f->offset;
	if (f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF)
		return MEMBER(uint32_t, m, f->quantifier_offset) == f->id;
	if (f->label == PROTOBUF_C_LABEL_OPTIONAL && f->type != PROTOBUF_C_TYPE_STRING &&
	    f->type != PROTOBUF_C_TYPE_MESSAGE)
		return MEMBER(protobuf_c_boolean, m, f->quantifier_offset);
	if (f->label == PROTOBUF_C_LABEL_REQUIRED)
		return true;
	switch (f->type) {
	case PROTOBUF_C_TYPE_STRING: {
		const char *s = *(char *const *)v;
		return s != NULL && (f->label == PROTOBUF_C_LABEL_OPTIONAL || s[0] != '\0');
	}
	case PROTOBUF_C_TYPE_MESSAGE: return *(ProtobufCMessage *const *)v != NULL;
	case PROTOBUF_C_TYPE_BYTES: return ((const ProtobufCBinaryData *)v)->len > 0;
	case PROTOBUF_C_TYPE_FLOAT: return *(const float *)v != 0 || signbit(*(const float *)v);
	case PROTOBUF_C_TYPE_DOUBLE: return *(const double *)v != 0 || signbit(*(const double *)v);
	default: break;
	}
	/* the integer kinds, bool and enum: any octet set */
	const unsigned char *b = v;
	for (size_t i = 0; i < elem_size(f->type); i++)
		if (b[i] != 0)
			return true;
	return false;
}

/* ---- base64 ---- */

static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static json_t *base64_encode(const uint8_t *p, size_t n)
{
	char *s = malloc((n + 2) / 3 * 4 + 1);
	if (s == NULL)
		return NULL;
	size_t o = 0;
	for (size_t i = 0; i < n; i += 3) {
		uint32_t w = (uint32_t)p[i] << 16 | (i + 1 < n ? (uint32_t)p[i + 1] << 8 : 0) |
		             (i + 2 < n ? p[i + 2] : 0);
		s[o++] = b64[w >> 18 & 63];
		s[o++] = b64[w >> 12 & 63];
		s[o++] = i + 1 < n ? b64[w >> 6 & 63] : '=';
		s[o++] = i + 2 < n ? b64[w & 63] : '=';
	}
	s[o] = '\0';
	json_t *j = json_stringn(s, o);
	free(s);
	return j;
}

static int b64_value(char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+' || c == '-')
		return 62;
	if (c == '/' || c == '_')
		return 63;
	return -1;
}

bool caad_pbjson_base64(const char *s, size_t n, uint8_t **out, size_t *len)
{
	while (n > 0 && s[n - 1] == '=')
		n--;
	if (n % 4 == 1)
		return false;
	uint8_t *d = malloc(n / 4 * 3 + 3);
	if (d == NULL)
		return false;
	size_t o = 0;
	uint32_t acc = 0;
	unsigned bits = 0;
	for (size_t i = 0; i < n; i++) {
		int v = b64_value(s[i]);
		if (v < 0) {
			free(d);
			return false;
		}
		acc = acc << 6 | (uint32_t)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			d[o++] = (uint8_t)(acc >> bits);
		}
	}
	*out = d;
	*len = o;
	return true;
}

static bool base64_decode(const char *s, size_t n, ProtobufCBinaryData *out)
{
	return caad_pbjson_base64(s, n, &out->data, &out->len);
}

/* ---- timestamps (RFC 3339, UTC) ---- */

/* Days since 1970-01-01 of a proleptic Gregorian date (Hinnant's algorithm). */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
	y -= m <= 2;
	const int64_t era = (y >= 0 ? y : y - 399) / 400;
	const unsigned yoe = (unsigned)(y - era * 400);
	const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (int64_t)doe - 719468;
}

static void civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d)
{
	z += 719468;
	const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
	const unsigned doe = (unsigned)(z - era * 146097);
	const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	const unsigned mp = (5 * doy + 2) / 153;
	*d = doy - (153 * mp + 2) / 5 + 1;
	*m = mp < 10 ? mp + 3 : mp - 9;
	*y = (int64_t)yoe + era * 400 + (*m <= 2);
}

/* The range proto3 allows: 0001-01-01T00:00:00Z .. 9999-12-31T23:59:59Z. */
#define TS_MIN (-62135596800LL)
#define TS_MAX 253402300799LL

static const ProtobufCFieldDescriptor *ts_field(const ProtobufCMessageDescriptor *d,
                                                const char *name)
{
	return protobuf_c_message_descriptor_get_field_by_name(d, name);
}

static json_t *timestamp_encode(const ProtobufCMessage *m)
{
	const ProtobufCFieldDescriptor *fs = ts_field(m->descriptor, "seconds"),
	                               *fn = ts_field(m->descriptor, "nanos");
	int64_t s = MEMBER(int64_t, m, fs->offset);
	int32_t ns = MEMBER(int32_t, m, fn->offset);
	if (s < TS_MIN || s > TS_MAX || ns < 0 || ns > 999999999)
		return json_string("invalid timestamp"); /* never built by caad */
	int64_t days = s >= 0 ? s / 86400 : -((-s + 86399) / 86400);
	int64_t sec = s - days * 86400, y;
	unsigned mo, d;
	civil_from_days(days, &y, &mo, &d);
	char buf[48];
	int n = snprintf(buf, sizeof(buf), "%04d-%02u-%02uT%02d:%02d:%02d", (int)y, mo, d,
	                 (int)(sec / 3600), (int)(sec / 60 % 60), (int)(sec % 60));
	if (ns % 1000000 == 0 && ns != 0)
		n += snprintf(buf + n, sizeof(buf) - (size_t)n, ".%03d", ns / 1000000);
	else if (ns % 1000 == 0 && ns != 0)
		n += snprintf(buf + n, sizeof(buf) - (size_t)n, ".%06d", ns / 1000);
	else if (ns != 0)
		n += snprintf(buf + n, sizeof(buf) - (size_t)n, ".%09d", ns);
	snprintf(buf + n, sizeof(buf) - (size_t)n, "Z");
	return json_string(buf);
}

/* n decimal digits at p into *v; false if any is not a digit. */
static bool digits(const char *p, int n, int *v)
{
	*v = 0;
	for (int i = 0; i < n; i++) {
		if (p[i] < '0' || p[i] > '9')
			return false;
		*v = *v * 10 + (p[i] - '0');
	}
	return true;
}

bool caad_pbjson_time(const char *s, int64_t *secs, int32_t *nanos)
{
	int y, mo, d, h, mi, se;
	size_t n = strlen(s);
	if (n < 20 || !digits(s, 4, &y) || s[4] != '-' || !digits(s + 5, 2, &mo) || s[7] != '-' ||
	    !digits(s + 8, 2, &d) || (s[10] != 'T' && s[10] != 't') || !digits(s + 11, 2, &h) ||
	    s[13] != ':' || !digits(s + 14, 2, &mi) || s[16] != ':' || !digits(s + 17, 2, &se))
		return false;
	static const unsigned mdays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
	if (y < 1 || mo < 1 || mo > 12 || d < 1 || (unsigned)d > mdays[mo - 1] ||
	    (mo == 2 && d == 29 && !leap) || h > 23 || mi > 59 || se > 59)
		return false;
	const char *p = s + 19;
	int32_t ns = 0;
	if (*p == '.') {
		int k = 0;
		for (p++; *p >= '0' && *p <= '9'; p++, k++) {
			if (k >= 9)
				return false;
			ns = ns * 10 + (*p - '0');
		}
		if (k == 0)
			return false;
		for (; k < 9; k++)
			ns *= 10;
	}
	int64_t off = 0;
	if (*p == 'Z' || *p == 'z') {
		p++;
	} else if (*p == '+' || *p == '-') {
		int oh, om;
		if (!digits(p + 1, 2, &oh) || p[3] != ':' || !digits(p + 4, 2, &om) || oh > 23 ||
		    om > 59)
			return false;
		off = (int64_t)(oh * 3600 + om * 60) * (*p == '-' ? -1 : 1);
		p += 6;
	} else {
		return false;
	}
	if (*p != '\0')
		return false;
	int64_t t =
	    days_from_civil(y, (unsigned)mo, (unsigned)d) * 86400 + h * 3600 + mi * 60 + se - off;
	if (t < TS_MIN || t > TS_MAX)
		return false;
	*secs = t;
	*nanos = ns;
	return true;
}

/* ---- encoding ---- */

static json_t *encode_message(const ProtobufCMessage *m);

static json_t *real(double d)
{
	if (isnan(d))
		return json_string("NaN");
	if (isinf(d))
		return json_string(d > 0 ? "Infinity" : "-Infinity");
	return json_real(d);
}

static json_t *decimal(bool neg, uint64_t v)
{
	char buf[24];
	snprintf(buf, sizeof(buf), "%s%" PRIu64, neg ? "-" : "", v);
	return json_string(buf);
}

static json_t *encode_value(const ProtobufCFieldDescriptor *f, const void *v)
{
	switch (f->type) {
	case PROTOBUF_C_TYPE_INT32:
	case PROTOBUF_C_TYPE_SINT32:
	case PROTOBUF_C_TYPE_SFIXED32: return json_integer(*(const int32_t *)v);
	case PROTOBUF_C_TYPE_UINT32:
	case PROTOBUF_C_TYPE_FIXED32: return json_integer(*(const uint32_t *)v);
	case PROTOBUF_C_TYPE_INT64:
	case PROTOBUF_C_TYPE_SINT64:
	case PROTOBUF_C_TYPE_SFIXED64: {
		int64_t i = *(const int64_t *)v;
		return decimal(i < 0, i < 0 ? 0 - (uint64_t)i : (uint64_t)i);
	}
	case PROTOBUF_C_TYPE_UINT64:
	case PROTOBUF_C_TYPE_FIXED64: return decimal(false, *(const uint64_t *)v);
	case PROTOBUF_C_TYPE_FLOAT: return real(*(const float *)v);
	case PROTOBUF_C_TYPE_DOUBLE: return real(*(const double *)v);
	case PROTOBUF_C_TYPE_BOOL: return json_boolean(*(const protobuf_c_boolean *)v);
	case PROTOBUF_C_TYPE_ENUM: {
		int e = *(const int *)v;
		const ProtobufCEnumValue *ev =
		    protobuf_c_enum_descriptor_get_value(f->descriptor, e);
		return ev != NULL ? json_string(ev->name) : json_integer(e);
	}
	case PROTOBUF_C_TYPE_STRING: {
		const char *s = *(char *const *)v;
		return json_string(s != NULL ? s : "");
	}
	case PROTOBUF_C_TYPE_BYTES: {
		const ProtobufCBinaryData *b = v;
		return base64_encode(b->data, b->len);
	}
	case PROTOBUF_C_TYPE_MESSAGE: {
		const ProtobufCMessage *sub = *(ProtobufCMessage *const *)v;
		if (sub == NULL) /* an element of a repeated field: the empty message */
			return json_object();
		return encode_message(sub);
	}
	}
	return NULL;
}

static json_t *encode_message(const ProtobufCMessage *m)
{
	const ProtobufCMessageDescriptor *d = m->descriptor;
	if (strcmp(d->name, TIMESTAMP) == 0)
		return timestamp_encode(m);
	json_t *o = json_object();
	for (unsigned i = 0; o != NULL && i < d->n_fields; i++) {
		const ProtobufCFieldDescriptor *f = &d->fields[i];
		char name[128];
		if (!caad_pbjson_name(f->name, name, sizeof(name)))
			goto fail;
		json_t *v;
		if (f->label == PROTOBUF_C_LABEL_REPEATED) {
			size_t n = MEMBER(size_t, m, f->quantifier_offset);
			if (n == 0)
				continue;
			const char *arr = MEMBER(const char *, m, f->offset);
			if ((v = json_array()) == NULL)
				goto fail;
			for (size_t k = 0; k < n; k++)
				if (json_array_append_new(
				        v, encode_value(f, arr + k * elem_size(f->type))) != 0) {
					json_decref(v);
					goto fail;
				}
		} else {
			if (!present(m, f))
				continue;
			v = encode_value(f, (const char *)m + f->offset);
		}
		if (json_object_set_new(o, name, v) != 0) /* NULL v fails too */
			goto fail;
	}
	return o;
fail:
	json_decref(o);
	return NULL;
}

json_t *caad_pbjson_encode(const ProtobufCMessage *m)
{
	return encode_message(m);
}

/* ---- decoding ---- */

typedef struct dec {
	char *err;
	size_t errlen;
	char path[512];
} dec_t;

static const char *fail(dec_t *x, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static const char *fail(dec_t *x, const char *fmt, ...)
{
	char what[256];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	snprintf(x->err, x->errlen, "%s: %s", x->path[0] ? x->path : "request", what);
	/* one line of printable ASCII whatever the client's keys and values hold */
	for (char *p = x->err; *p; p++)
		if (*p < 0x20 || *p > 0x7e)
			*p = '?';
	return x->err;
}

static const char *jtype(const json_t *v)
{
	switch (json_typeof(v)) {
	case JSON_OBJECT: return "an object";
	case JSON_ARRAY: return "an array";
	case JSON_STRING: return "a string";
	case JSON_INTEGER:
	case JSON_REAL: return "a number";
	case JSON_TRUE:
	case JSON_FALSE: return "a boolean";
	case JSON_NULL: return "null";
	}
	return "?";
}

/* An integer from a JSON number (integral) or a decimal string, within [lo, hi]
 * (signed) or [0, uhi] (unsigned). */
static const char *integer(dec_t *x, const json_t *v, bool is_signed, int64_t lo, int64_t hi,
                           uint64_t uhi, int64_t *sv, uint64_t *uv)
{
	bool neg = false;
	uint64_t mag;
	if (json_is_integer(v)) {
		json_int_t i = json_integer_value(v);
		neg = i < 0;
		mag = neg ? 0 - (uint64_t)i : (uint64_t)i;
	} else if (json_is_real(v)) {
		double dv = json_real_value(v);
		if (dv != floor(dv) || fabs(dv) >= 18446744073709551616.0)
			return fail(x, "%g is not an integer in range", dv);
		neg = dv < 0;
		mag = (uint64_t)fabs(dv);
	} else if (json_is_string(v)) {
		const char *s = json_string_value(v), *p = s;
		neg = *p == '-';
		p += neg;
		if (*p < '0' || *p > '9' || json_string_length(v) > 21)
			return fail(x, "\"%.32s\" is not a decimal integer", s);
		char *end;
		errno = 0;
		mag = strtoull(p, &end, 10);
		if (*end != '\0' || errno == ERANGE)
			return fail(x, "\"%.32s\" is not a decimal integer in range", s);
	} else {
		return fail(x, "expected an integer, got %s", jtype(v));
	}
	if (is_signed) {
		bool ok = neg ? mag <= (uint64_t)INT64_MAX + 1 && (int64_t)(0 - mag) >= lo
		              : mag <= (uint64_t)hi;
		if (!ok)
			return fail(x, "integer out of range");
		*sv = neg ? (int64_t)(0 - mag) : (int64_t)mag;
	} else {
		if ((neg && mag != 0) || mag > uhi)
			return fail(x, "integer out of range");
		*uv = mag;
	}
	return NULL;
}

static const char *floating(dec_t *x, const json_t *v, bool single, double *out)
{
	if (json_is_number(v)) {
		*out = json_number_value(v);
	} else if (json_is_string(v)) {
		const char *s = json_string_value(v);
		if (strcmp(s, "NaN") == 0) {
			*out = NAN;
		} else if (strcmp(s, "Infinity") == 0) {
			*out = INFINITY;
		} else if (strcmp(s, "-Infinity") == 0) {
			*out = -INFINITY;
		} else {
			char *end;
			errno = 0;
			*out = strtod(s, &end);
			if (s[0] == '\0' || *end != '\0' || errno == ERANGE || !isfinite(*out))
				return fail(x, "\"%.32s\" is not a number", s);
		}
	} else {
		return fail(x, "expected a number, got %s", jtype(v));
	}
	if (single && isfinite(*out) && fabs(*out) > 3.4028234663852886e38)
		return fail(x, "number out of range for a float");
	return NULL;
}

static const char *decode_message(dec_t *x, const ProtobufCMessageDescriptor *d, const json_t *v,
                                  ProtobufCMessage **out);

/* One value of field f from v into slot (an element or the singular member). */
static const char *decode_value(dec_t *x, const ProtobufCFieldDescriptor *f, const json_t *v,
                                void *slot)
{
	int64_t sv = 0;
	uint64_t uv = 0;
	double dv = 0;
	const char *e;
	switch (f->type) {
	case PROTOBUF_C_TYPE_INT32:
	case PROTOBUF_C_TYPE_SINT32:
	case PROTOBUF_C_TYPE_SFIXED32:
		if ((e = integer(x, v, true, INT32_MIN, INT32_MAX, 0, &sv, &uv)) != NULL)
			return e;
		*(int32_t *)slot = (int32_t)sv;
		return NULL;
	case PROTOBUF_C_TYPE_UINT32:
	case PROTOBUF_C_TYPE_FIXED32:
		if ((e = integer(x, v, false, 0, 0, UINT32_MAX, &sv, &uv)) != NULL)
			return e;
		*(uint32_t *)slot = (uint32_t)uv;
		return NULL;
	case PROTOBUF_C_TYPE_INT64:
	case PROTOBUF_C_TYPE_SINT64:
	case PROTOBUF_C_TYPE_SFIXED64:
		if ((e = integer(x, v, true, INT64_MIN, INT64_MAX, 0, &sv, &uv)) != NULL)
			return e;
		*(int64_t *)slot = sv;
		return NULL;
	case PROTOBUF_C_TYPE_UINT64:
	case PROTOBUF_C_TYPE_FIXED64:
		if ((e = integer(x, v, false, 0, 0, UINT64_MAX, &sv, &uv)) != NULL)
			return e;
		*(uint64_t *)slot = uv;
		return NULL;
	case PROTOBUF_C_TYPE_FLOAT:
		if ((e = floating(x, v, true, &dv)) != NULL)
			return e;
		*(float *)slot = (float)dv;
		return NULL;
	case PROTOBUF_C_TYPE_DOUBLE:
		if ((e = floating(x, v, false, &dv)) != NULL)
			return e;
		*(double *)slot = dv;
		return NULL;
	case PROTOBUF_C_TYPE_BOOL:
		if (!json_is_boolean(v))
			return fail(x, "expected true or false, got %s", jtype(v));
		*(protobuf_c_boolean *)slot = json_is_true(v);
		return NULL;
	case PROTOBUF_C_TYPE_ENUM: {
		const ProtobufCEnumDescriptor *ed = f->descriptor;
		if (json_is_string(v)) {
			const ProtobufCEnumValue *ev =
			    protobuf_c_enum_descriptor_get_value_by_name(ed, json_string_value(v));
			if (ev == NULL)
				return fail(x, "\"%.64s\" is not a value of %s",
				            json_string_value(v), ed->name);
			*(int *)slot = ev->value;
			return NULL;
		}
		if (!json_is_number(v))
			return fail(x, "expected a %s name, got %s", ed->name, jtype(v));
		if ((e = integer(x, v, true, INT32_MIN, INT32_MAX, 0, &sv, &uv)) != NULL)
			return e;
		*(int *)slot = (int)sv; /* proto3 enums are open: any int32 */
		return NULL;
	}
	case PROTOBUF_C_TYPE_STRING: {
		if (!json_is_string(v))
			return fail(x, "expected a string, got %s", jtype(v));
		size_t n = json_string_length(v);
		/* a \u0000 cannot reach the door: protobuf-c packs a string up to
		 * its first NUL, so "a.example\u0000b" would be checked as "a.example" */
		size_t k = strlen(json_string_value(v));
		if (k != n)
			return fail(x, "has a NUL (\\u0000) at octet %zu", k);
		char *s = malloc(n + 1);
		if (s == NULL)
			return fail(x, "out of memory");
		memcpy(s, json_string_value(v), n + 1);
		*(char **)slot = s;
		return NULL;
	}
	case PROTOBUF_C_TYPE_BYTES:
		if (!json_is_string(v))
			return fail(x, "expected a base64 string, got %s", jtype(v));
		if (!base64_decode(json_string_value(v), json_string_length(v), slot))
			return fail(x, "not base64");
		return NULL;
	case PROTOBUF_C_TYPE_MESSAGE: return decode_message(x, f->descriptor, v, slot);
	}
	return fail(x, "unsupported field type");
}

/* A field from v (a name given twice is refused, so a singular member only
 * ever replaces its default). */
static const char *decode_field(dec_t *x, ProtobufCMessage *m, const ProtobufCFieldDescriptor *f,
                                const json_t *v)
{
	if (json_is_null(v))
		return NULL; /* null is the default */
	if (f->label != PROTOBUF_C_LABEL_REPEATED) {
		void *slot = (char *)m + f->offset;
		const char *e = decode_value(x, f, v, slot);
		if (e != NULL)
			return e;
		if (f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF)
			MEMBER(uint32_t, m, f->quantifier_offset) = f->id;
		else if (f->label == PROTOBUF_C_LABEL_OPTIONAL &&
		         f->type != PROTOBUF_C_TYPE_STRING && f->type != PROTOBUF_C_TYPE_MESSAGE)
			MEMBER(protobuf_c_boolean, m, f->quantifier_offset) = 1;
		return NULL;
	}
	if (!json_is_array(v))
		return fail(x, "expected an array, got %s", jtype(v));
	size_t n = json_array_size(v), es = elem_size(f->type);
	if (n == 0)
		return NULL;
	char *arr = calloc(n, es);
	if (arr == NULL)
		return fail(x, "out of memory");
	/* the count covers each element before it is filled: a zeroed element is
	 * freeable, so an error anywhere leaves the message freeable */
	MEMBER(char *, m, f->offset) = arr;
	size_t plen = strlen(x->path);
	for (size_t i = 0; i < n; i++) {
		const json_t *el = json_array_get(v, i);
		snprintf(x->path + plen, sizeof(x->path) - plen, "[%zu]", i);
		if (json_is_null(el))
			return fail(x, "null in an array");
		MEMBER(size_t, m, f->quantifier_offset) = i + 1;
		const char *e = decode_value(x, f, el, arr + i * es);
		if (e != NULL)
			return e;
	}
	x->path[plen] = '\0';
	return NULL;
}

static const ProtobufCFieldDescriptor *field_by_json(const ProtobufCMessageDescriptor *d,
                                                     const char *key)
{
	for (unsigned i = 0; i < d->n_fields; i++) {
		char name[128];
		if (strcmp(d->fields[i].name, key) == 0 ||
		    (caad_pbjson_name(d->fields[i].name, name, sizeof(name)) &&
		     strcmp(name, key) == 0))
			return &d->fields[i];
	}
	return NULL;
}

static const char *decode_timestamp(dec_t *x, const ProtobufCMessageDescriptor *d, const json_t *v,
                                    ProtobufCMessage *m)
{
	if (!json_is_string(v))
		return fail(x, "expected an RFC 3339 timestamp string, got %s", jtype(v));
	int64_t s;
	int32_t ns;
	if (!caad_pbjson_time(json_string_value(v), &s, &ns))
		return fail(x,
		            "\"%.40s\" is not an RFC 3339 timestamp (0001-9999, e.g. "
		            "\"2026-01-02T03:04:05Z\")",
		            json_string_value(v));
	MEMBER(int64_t, m, ts_field(d, "seconds")->offset) = s;
	MEMBER(int32_t, m, ts_field(d, "nanos")->offset) = ns;
	return NULL;
}

static const char *decode_message(dec_t *x, const ProtobufCMessageDescriptor *d, const json_t *v,
                                  ProtobufCMessage **out)
{
	bool ts = strcmp(d->name, TIMESTAMP) == 0;
	if (!ts && !json_is_object(v))
		return fail(x, "expected an object (%s), got %s", d->name, jtype(v));
	ProtobufCMessage *m = malloc(d->sizeof_message);
	if (m == NULL)
		return fail(x, "out of memory");
	d->message_init(m);
	*out = m; /* the parent frees it on error */
	if (ts)
		return decode_timestamp(x, d, v, m);
	size_t plen = strlen(x->path);
	const char *key;
	json_t *val;
	uint8_t seen[64] = {0}; /* by field index: a field given under both names */
	json_object_foreach((json_t *)v, key, val)
	{
		snprintf(x->path + plen, sizeof(x->path) - plen, "%s%s", plen ? "." : "", key);
		const ProtobufCFieldDescriptor *f = field_by_json(d, key);
		if (f == NULL)
			return fail(x, "unknown field");
		size_t idx = (size_t)(f - d->fields);
		if (idx < sizeof(seen) * 8) {
			if (seen[idx / 8] & (1u << idx % 8))
				return fail(x, "given twice (as %s and its other name)", key);
			seen[idx / 8] |= (uint8_t)(1u << idx % 8);
		}
		if ((f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) && !json_is_null(val) &&
		    MEMBER(uint32_t, m, f->quantifier_offset) != 0)
			return fail(x, "a second member of one oneof");
		const char *e = decode_field(x, m, f, val);
		if (e != NULL)
			return e;
	}
	x->path[plen] = '\0';
	return NULL;
}

const char *caad_pbjson_decode_value(const ProtobufCMessageDescriptor *desc, const json_t *v,
                                     ProtobufCMessage **out, char *err, size_t errlen)
{
	dec_t x = {.err = err, .errlen = errlen};
	*out = NULL;
	ProtobufCMessage *m = NULL;
	const char *e = decode_message(&x, desc, v, &m);
	if (e != NULL) {
		if (m != NULL)
			protobuf_c_message_free_unpacked(m, NULL);
		return e;
	}
	*out = m;
	return NULL;
}

const char *caad_pbjson_decode(const ProtobufCMessageDescriptor *desc, const char *text, size_t len,
                               ProtobufCMessage **out, char *err, size_t errlen)
{
	*out = NULL;
	json_error_t je;
	/* duplicate keys are refused like the config's; a \u0000 is refused
	 * by name (decode_value), not as "not JSON" */
	json_t *v = json_loadb(text, len, JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL, &je);
	if (v == NULL) {
		dec_t x = {.err = err, .errlen = errlen};
		return fail(&x, "not JSON: %s (line %d, column %d)", je.text, je.line, je.column);
	}
	const char *e = caad_pbjson_decode_value(desc, v, out, err, errlen);
	json_decref(v);
	return e;
}
