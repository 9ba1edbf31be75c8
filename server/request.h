/*
 * request.h — caa.v1 requests into libcaa requests, validated at the door:
 * every error is one line naming the field and what is wrong with it
 * (INVALID_ARGUMENT), e.g. `authorizations[2].identifier.value "a..b":
 * identifier has an empty label`. A request that passes here can only fail
 * in DNS. Bad input is refused, never reinterpreted: a string is taken only
 * when all of its octets are valid UTF-8 without NUL or control characters
 * (caad_request_unpack), a validation method only when the CA can mean it,
 * an identifier of type "dns" only when it is a DNS name.
 */
#ifndef CAAD_REQUEST_H
#define CAAD_REQUEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "arena.h"
#include "caa/v1/caa.pb-c.h"
#include "caad.h"
#include "va/va.pb-c.h"

/*
 * The fields every check has. prefix names the message in errors ("" or
 * "authorizations[3]."). Fills req (strings borrowed from the message) and
 * returns NULL, or returns the error text (in a).
 */
const char *caad_request_ident(caad_arena_t *a, const char *prefix, const char *type,
                               const char *value, caa_request_t *req);
const char *caad_request_common(caad_arena_t *a, const caa_config_t *cfg, const char *prefix,
                                const char *account_uri, int64_t account_id, const char *method,
                                const char *policy, caa_request_t *req);

/*
 * Unpack a desc message from data[0..len) and check every string field in it,
 * at any depth, as it came on the wire: protobuf-c hands strings over
 * NUL-terminated, so "name\0.evil.example" would otherwise be read as
 * "name". Refused: an embedded NUL, invalid UTF-8 (overlong, surrogate, cut
 * short, past U+10FFFF) and control characters (U+0000-U+001F, U+007F-U+009F),
 * naming the field ("authorizations[1].identifier.value ..."). NULL with *m
 * (in a), or the error text.
 */
const char *caad_request_unpack(caad_arena_t *a, const ProtobufCMessageDescriptor *desc,
                                const uint8_t *data, size_t len, ProtobufCMessage **m);

/* A whole CheckRequest (identifier, account, method, policy, validated_at, explain). */
const char *caad_request_check(caad_arena_t *a, const caa_config_t *cfg, const char *prefix,
                               const Caa__V1__CheckRequest *m, caa_request_t *req);

/* A CheckOrderRequest from data[0..len): the identifier limit counted on the
 * wire before anything is unpacked, then unpacked (caad_request_unpack); an
 * empty order is an error. NULL with *m, or the error text. */
const char *caad_request_order(caad_arena_t *a, const uint8_t *data, size_t len,
                               Caa__V1__CheckOrderRequest **m);
/* Every authorization of m into reqs[] and explain[] (m->n_authorizations each);
 * errors name the entry ("authorizations[3].identifier.value ..."). */
const char *caad_request_order_entries(caad_arena_t *a, const caa_config_t *cfg,
                                       const Caa__V1__CheckOrderRequest *m, caa_request_t *reqs,
                                       bool *explain);

/* Boulder's IsCAAValidRequest: identifier (field 5), else the older domain
 * (field 1); accountURIID as the account id. As Boulder, a request without
 * identifier, validationMethod or accountURIID is refused ("incomplete
 * IsCAAValid request: validationMethod missing"). */
const char *caad_request_docaa(caad_arena_t *a, const caa_config_t *cfg,
                               const Va__IsCAAValidRequest *m, caa_request_t *req);

/*
 * How many times top-level field `field` occurs in the protobuf message
 * data[0..len), without unpacking it: a 4 MiB order of empty entries would
 * otherwise cost ~100 times its size in memory before the limit is checked.
 * Malformed input gives 0 (the unpack that follows rejects it).
 */
size_t caad_pb_count(const uint8_t *data, size_t len, uint32_t field);

/* s as a short quoted, escaped text for an error message ("\"a..b\"", cut
 * after 64 octets with "..."). */
const char *caad_quote(caad_arena_t *a, const char *s);

#endif
