/*
 * boulder.c — va.CAA/DoCAA with Boulder's wire format, so Boulder's VA (or
 * a primary caad) can use this caad as a CAA checker or remote perspective.
 * The identifier comes from field 5, or from the older `domain` (field 1);
 * accountURIID is matched through account_uri_prefixes by the policy. A
 * request without identifier, validationMethod or accountURIID, or with an
 * identifier whose type is not "dns", is refused as Boulder refuses it. A
 * permitted check answers with no problem; the answer names this
 * perspective and its RIR.
 */
#include "convert.h"
#include "job.h"
#include "request.h"
#include "va/va.pb-c.h"

static void reply_docaa(caad_job_t *job)
{
	caad_arena_t *a = caad_call_arena(job->call);
	Va__IsCAAValidResponse m = VA__IS_CAAVALID_RESPONSE__INIT;
	const caa_config_t *cfg = job->d->cfg;
	m.perspective = cfg->perspective.name ? cfg->perspective.name : "";
	m.rir = cfg->perspective.rir ? cfg->perspective.rir : "";
	const caa_result_t *res = job->results[0];
	if (res->problem != NULL && !(m.problem = caad_convert_boulder_problem(a, res->problem))) {
		caad_call_fail(job->call, GRPC_STATUS_RESOURCE_EXHAUSTED, "out of memory");
		return;
	}
	caad_call_reply(job->call, &m.base);
}

void caad_handle_docaa(caad_call_t *call, void *arg)
{
	caad_t *d = arg;
	caad_arena_t *a = caad_call_arena(call);
	const uint8_t *data;
	size_t len;
	if (caad_call_payload(call, &data, &len) != 0) {
		caad_call_fail(call, GRPC_STATUS_INVALID_ARGUMENT, "request: no IsCAAValidRequest");
		return;
	}
	Va__IsCAAValidRequest *m;
	const char *err = caad_request_unpack(a, &va__is_caavalid_request__descriptor, data, len,
	                                      (ProtobufCMessage **)&m);
	if (err != NULL) {
		caad_call_fail(call, GRPC_STATUS_INVALID_ARGUMENT, "%s", err);
		return;
	}
	caad_job_t *job = caad_job_new(d, call, "DoCAA", 1, reply_docaa);
	if (job == NULL) {
		caad_call_fail(call, GRPC_STATUS_RESOURCE_EXHAUSTED, "out of memory");
		return;
	}
	err = caad_request_docaa(a, d->cfg, m, &job->reqs[0]);
	if (err != NULL) {
		caad_call_fail(call, GRPC_STATUS_INVALID_ARGUMENT, "%s", err);
		return;
	}
	job->authz_id = m->authzid;
	caad_job_run(job);
}
