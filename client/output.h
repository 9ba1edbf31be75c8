/*
 * output.h — how caa prints results: the human form of API.md §3 (a verdict
 * line, the problem, and with explain the climb label by label) and the
 * one-line proto3 JSON form (lib/json.h). Shared by every subcommand.
 */
#ifndef CAA_OUTPUT_H
#define CAA_OUTPUT_H

#include <stdbool.h>
#include <stdio.h>

#include "policy.h"
#include "problem.h"
#include "result.h"

/*
 * Human output of one result. pol, when not NULL, is the policy the result
 * was decided under (its issuer domains explain "names another CA").
 * explain prints res->trace when the result kept one.
 */
void output_result_human(FILE *out, const caa_result_t *res, const caa_policy_t *pol,
                         bool explain);

/* A problem as "  <type URN> (<status>) <detail>", sub-problems indented below. */
void output_problem_human(FILE *out, const caa_problem_t *p, int indent);

/* One CheckResponse JSON object and a newline. Returns 0, or -1 when out of memory. */
int output_result_json(FILE *out, const caa_result_t *res);

#endif
