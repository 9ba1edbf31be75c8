/*
 * from_proto.h — a caad's caa.v1 answers back into libcaa's types, so that
 * `caa check --server` prints exactly what an in-process check prints (the
 * output code takes caa_result_t). The inverse of server/convert.c.
 */
#ifndef CAA_CLI_FROM_PROTO_H
#define CAA_CLI_FROM_PROTO_H

#include "caa/v1/caa.pb-c.h"
#include "problem.h"
#include "result.h"

/*
 * A caa_result_t from a CheckResponse (free it with caa_result_free), remote
 * perspectives included: each one's state is its outcome text; an empty or
 * unknown one is derived (verdict PERMITTED: CORROBORATED, else a problem:
 * PROBLEM, else NOT_NEEDED). Record tags and values come back from
 * presentation text (\DDD, \\) to their octets; notes, trace outcomes, flags
 * and problem types are matched by their text.
 * Returns CAA_EOK, or CAA_ENOMEM with nothing allocated.
 */
int from_proto_result(const Caa__V1__CheckResponse *msg, caa_result_t **out);

/* A caa_problem_t (free with caa_problem_free) from a Problem. CAA_EOK or CAA_ENOMEM. */
int from_proto_problem(const Caa__V1__Problem *msg, caa_problem_t **out);

#endif
