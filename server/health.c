/*
 * health.c — grpc.health.v1.Health/Check: SERVING for the whole server ("")
 * and for the services caad serves, NOT_SERVING once draining, NOT_FOUND for
 * anything else. Watch is not offered (UNIMPLEMENTED, as the protocol allows).
 */
#include <string.h>

#include "caad.h"
#include "grpc/health/v1/health.pb-c.h"

static const char *const services[] = {"", "caa.v1.CAA", "va.CAA", "grpc.health.v1.Health"};

void caad_handle_health(caad_call_t *call, void *arg)
{
	caad_t *d = arg;
	caad_arena_t *a = caad_call_arena(call);
	const uint8_t *data;
	size_t len;
	Grpc__Health__V1__HealthCheckRequest *m = NULL;
	if (caad_call_payload(call, &data, &len) == 0)
		m = grpc__health__v1__health_check_request__unpack(&a->pb, len, data);
	if (m == NULL) {
		caad_call_fail(call, GRPC_STATUS_INVALID_ARGUMENT,
		               "request: not a valid grpc.health.v1.HealthCheckRequest message");
		return;
	}
	bool known = false;
	for (size_t i = 0; i < sizeof(services) / sizeof(services[0]); i++)
		known = known || strcmp(m->service, services[i]) == 0;
	if (!known) {
		caad_call_fail(call, GRPC_STATUS_NOT_FOUND, "unknown service \"%.64s\"",
		               m->service);
		return;
	}
	Grpc__Health__V1__HealthCheckResponse r = GRPC__HEALTH__V1__HEALTH_CHECK_RESPONSE__INIT;
	r.status = atomic_load(d->draining)
	               ? GRPC__HEALTH__V1__HEALTH_CHECK_RESPONSE__SERVING_STATUS__NOT_SERVING
	               : GRPC__HEALTH__V1__HEALTH_CHECK_RESPONSE__SERVING_STATUS__SERVING;
	caad_call_reply(call, &r.base);
}
