/*
 * fuzz_answer.c — libFuzzer target for what a remote perspective sends back
 * (caad_remote_read), through what the primary does with it: classify it
 * against the configured remote, build the perspective a response carries,
 * and put it into a quorum with a second, corroborating remote. Whatever a
 * hostile remote sends, the primary never crashes, never keeps more than the
 * bounds say, and never counts an answer as corroborating unless it came
 * under the configured name and RIR without a problem.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mpic.h"
#include "remote.h"

#define PROMISE(cond)                                                                              \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			fprintf(stderr, "fuzz_answer: broken promise: %s\n", #cond);               \
			abort();                                                                   \
		}                                                                                  \
	} while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	static const caa_mpic_remote_t remotes[2] = {{"r1", "RIPE"}, {"r2", "ARIN"}};
	caad_answer_t ans = {0};
	caad_answer_buf_t buf;
	caad_remote_read(data, len, &ans, &buf);
	if (ans.status != GRPC_STATUS_OK) {
		PROMISE(ans.error != NULL && ans.perspective == NULL && ans.problem == NULL);
		return 0;
	}
	PROMISE(strlen(ans.perspective) <= CAAD_ANSWER_MAX_NAME);
	PROMISE(strlen(ans.rir) <= CAAD_ANSWER_MAX_NAME);
	if (ans.problem != NULL) {
		PROMISE(ans.problem->type >= CAA_PROB_CAA &&
		        ans.problem->type <= CAA_PROB_REJECTED_IDENTIFIER);
		PROMISE(ans.problem->status >= 400 && ans.problem->status <= 599);
		PROMISE(strlen(ans.problem->detail) <= CAAD_ANSWER_MAX_DETAIL);
	}
	caa_mpic_outcome_t o[2];
	caa_mpic_classify(&remotes[0], ans.perspective, ans.rir, ans.problem, &o[0]);
	if (o[0].state == CAA_MPIC_CORROBORATED)
		PROMISE(ans.problem == NULL && strcmp(ans.perspective, "r1") == 0 &&
		        strcmp(ans.rir, "RIPE") == 0);
	caa_perspective_t p;
	if (caa_perspective_set(&p, &remotes[0], &o[0], "x.example", 1) == CAA_EOK) {
		PROMISE((p.verdict == CAA_PERMITTED) == (o[0].state == CAA_MPIC_CORROBORATED));
		PROMISE((p.problem == NULL) == (o[0].state == CAA_MPIC_CORROBORATED));
		caa_perspective_deinit(&p);
	}
	o[1] = (caa_mpic_outcome_t){.state = CAA_MPIC_CORROBORATED};
	caa_mpic_quorum_t q;
	if (caa_mpic_quorum(remotes, o, 2, "x.example", &q) == CAA_EOK) {
		PROMISE(q.decided);
		PROMISE(q.ok == (o[0].state == CAA_MPIC_CORROBORATED));
		PROMISE(q.ok == (q.verdict == CAA_PERMITTED));
		caa_mpic_quorum_deinit(&q);
	}
	return 0;
}
