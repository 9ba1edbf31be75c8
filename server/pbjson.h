/*
 * pbjson.h — protobuf-c messages to and from the proto3 JSON mapping, driven
 * by the message descriptors alone (one codec for every caa.v1 message):
 * lowerCamelCase names on output, either that name or the .proto name on
 * input; 64-bit integers as decimal strings (numbers accepted); enums by
 * name (numbers accepted); bytes as base64; google.protobuf.Timestamp as RFC
 * 3339; fields with default values left out; null is the default. Input is
 * strict, like caad's config: an unknown field, a value of the wrong JSON
 * type or out of range is an error naming the field
 * (`authorizations[1].identifier.valu: unknown field`). docs/api.md#http.
 */
#ifndef CAAD_PBJSON_H
#define CAAD_PBJSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>
#include <protobuf-c/protobuf-c.h>

/* m as a JSON object (a new reference); NULL when out of memory. */
json_t *caad_pbjson_encode(const ProtobufCMessage *m);

/*
 * The JSON text[0..len) as a desc message into *out (malloc'ed: free it
 * with protobuf_c_message_free_unpacked(*out, NULL)). NULL, or the error
 * (one line in err, naming the field) with *out NULL.
 */
const char *caad_pbjson_decode(const ProtobufCMessageDescriptor *desc, const char *text, size_t len,
                               ProtobufCMessage **out, char *err, size_t errlen);

/* The same from a parsed JSON value. */
const char *caad_pbjson_decode_value(const ProtobufCMessageDescriptor *desc, const json_t *v,
                                     ProtobufCMessage **out, char *err, size_t errlen);

/* An RFC 3339 time ("1972-01-01T10:00:20.021Z", "...+01:00"; what Go's
 * time.Time marshals to) as seconds since the epoch and nanoseconds; false
 * when s is not one, to the letter, or is out of Timestamp's range. */
bool caad_pbjson_time(const char *s, int64_t *secs, int32_t *nanos);

/* Base64 as proto3 JSON's bytes accept it (standard or URL-safe alphabet,
 * padding optional) of s[0..n) into *out (malloc'ed; *len octets). false
 * when s is not base64, or out of memory. */
bool caad_pbjson_base64(const char *s, size_t n, uint8_t **out, size_t *len);

/* The lowerCamelCase JSON name of a .proto field name ("account_uri" →
 * "accountUri") into buf; false when it does not fit. */
int caad_pbjson_name(const char *proto_name, char *buf, size_t size);

#endif
