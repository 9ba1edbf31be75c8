/*
 * fuzz_request.c — libFuzzer target for caad's request decoding: whatever
 * bytes arrive over the wire must be refused with a message or decided,
 * never crash, leak or hang. The first octet picks the message (Check,
 * CheckOrder, Evaluate, DoCAA); the rest is the protobuf the client sent.
 * Evaluate goes all the way to a packed EvaluateResponse.
 */
#include <stdint.h>
#include <stdlib.h>

#include "caad.h"
#include "request.h"

static const char config[] =
	"{\"issuer_domains\": [\"ca.example\"],"
	" \"account_uri_prefixes\": [\"https://ca.example/acme/acct/\"],"
	" \"profiles\": {\"strict\": {\"critical\": \"unknown-or-unsupported\"}}}";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static caa_config_t *cfg;
	if (cfg == NULL && caa_config_parse(config, sizeof(config) - 1, &cfg, NULL, 0) != CAA_EOK)
		abort();
	if (size < 1)
		return 0;
	unsigned kind = data[0] % 4;
	data++;
	size--;
	caad_arena_t a;
	caad_arena_init(&a);
	caa_request_t req;
	switch (kind) {
	case 0: {
		Caa__V1__CheckRequest *m = caa__v1__check_request__unpack(&a.pb, size, data);
		if (m != NULL)
			(void)caad_request_check(&a, cfg, "", m, &req);
		break;
	}
	case 1: {
		Caa__V1__CheckOrderRequest *m;
		if (caad_request_order(&a, data, size, &m) == NULL) {
			caa_request_t *reqs = caad_arena_array(&a, m->n_authorizations, sizeof(*reqs));
			bool *explain = caad_arena_array(&a, m->n_authorizations, sizeof(*explain));
			if (reqs && explain)
				(void)caad_request_order_entries(&a, cfg, m, reqs, explain);
		}
		break;
	}
	case 2: {
		Caa__V1__EvaluateResponse *r;
		char msg[512];
		if (caad_evaluate(&a, cfg, data, size, &r, msg, sizeof(msg)) == GRPC_STATUS_OK) {
			uint8_t *out = malloc(protobuf_c_message_get_packed_size(&r->base) + 1);
			if (out != NULL)
				protobuf_c_message_pack(&r->base, out);
			free(out);
		}
		break;
	}
	default: {
		Va__IsCAAValidRequest *m = va__is_caavalid_request__unpack(&a.pb, size, data);
		if (m != NULL)
			(void)caad_request_docaa(&a, cfg, m, &req);
		break;
	}
	}
	caad_arena_deinit(&a);
	return 0;
}
