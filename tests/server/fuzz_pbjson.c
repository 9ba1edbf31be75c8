/*
 * fuzz_pbjson.c — libFuzzer target for the proto3 JSON codec's input side
 * (server/pbjson.c caad_pbjson_decode), the first thing an HTTP/JSON request
 * meets. Whatever text arrives is either refused with one line of printable
 * ASCII naming the field, or decoded into a message that protobuf-c packs,
 * that encodes to JSON and decodes again to the same octets — never both,
 * never neither, and never a crash, leak or hang. The first octet picks the
 * caa.v1 message (modulo their number); the rest is the JSON.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "caa/v1/caa.pb-c.h"
#include "pbjson.h"

static const ProtobufCMessageDescriptor *const all[] = {
    &caa__v1__check_request__descriptor,
    &caa__v1__check_order_request__descriptor,
    &caa__v1__evaluate_request__descriptor,
    &caa__v1__check_response__descriptor,
    &caa__v1__check_order_response__descriptor,
    &caa__v1__evaluate_response__descriptor,
    &caa__v1__identifier__descriptor,
    &caa__v1__record__descriptor,
    &caa__v1__problem__descriptor,
    &caa__v1__perspective__descriptor,
    &caa__v1__trace_label__descriptor,
    &caa__v1__label_rrset__descriptor,
};

#define PROMISE(cond, what)                                                                        \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			fprintf(stderr, "fuzz_pbjson: broken promise: %s: %s\n", #cond, what);     \
			abort();                                                                   \
		}                                                                                  \
	} while (0)

static uint8_t *packed(const ProtobufCMessage *m, size_t *len)
{
	*len = protobuf_c_message_get_packed_size(m);
	uint8_t *b = malloc(*len ? *len : 1);
	if (b != NULL)
		protobuf_c_message_pack(m, b);
	return b;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	const ProtobufCMessageDescriptor *d = all[data[0] % (sizeof(all) / sizeof(all[0]))];
	char err[256];
	ProtobufCMessage *m;
	const char *e =
	    caad_pbjson_decode(d, (const char *)data + 1, size - 1, &m, err, sizeof(err));
	if (e != NULL) {
		PROMISE(m == NULL, e);
		PROMISE(e[0] != '\0', "refused without a message");
		for (const char *p = e; *p; p++)
			PROMISE(*p >= 0x20 && *p <= 0x7e, e);
		return 0;
	}
	PROMISE(m != NULL, "neither decoded nor refused");
	json_t *j = caad_pbjson_encode(m);
	char *text = j ? json_dumps(j, JSON_COMPACT | JSON_ALLOW_NUL) : NULL;
	json_decref(j);
	if (text != NULL) {
		ProtobufCMessage *back;
		e = caad_pbjson_decode(d, text, strlen(text), &back, err, sizeof(err));
		PROMISE(e == NULL, e);
		size_t la, lb;
		uint8_t *a = packed(m, &la), *b = packed(back, &lb);
		PROMISE(a && b && la == lb && memcmp(a, b, la) == 0, text);
		free(a);
		free(b);
		protobuf_c_message_free_unpacked(back, NULL);
		free(text);
	}
	protobuf_c_message_free_unpacked(m, NULL);
	return 0;
}
