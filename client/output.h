/*
 * output.h — how caa prints results: the human form of docs/cli.md (a verdict
 * line, the problem, and with explain the climb label by label) and the
 * one-line proto3 JSON form (lib/json.h). Shared by every subcommand and by
 * both ways of checking (in-process and through caad).
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
 * was decided under (its issuer domains explain "names another CA"). Remote
 * perspectives, when a caad asked any, add a "perspectives P/N corroborated"
 * line below the problem. explain prints res->trace when the result kept one,
 * the flags, each perspective, and the queries sent.
 */
void output_result_human(FILE *out, const caa_result_t *res, const caa_policy_t *pol, bool explain);

/*
 * Human output of an order: a verdict line per identifier (with explain the
 * whole result as output_result_human prints it), then a summary line and the
 * aggregated problem with its sub-problems in order. results[i] may be NULL
 * (not answered; skipped). Without explain, an identifier whose result has
 * perspectives keeps its "perspectives P/N corroborated" line.
 */
void output_order_human(FILE *out, caa_result_t *const *results, size_t n,
                        const caa_problem_t *aggregate, const caa_policy_t *pol, bool explain);

/*
 * A request libcaa refuses under pol (caa_request_validate), said on err in
 * the options' terms: "caa check: --method dns-02: not a validation method
 * ...", "caa check: --account-uri U and --account-id N: the account URI and
 * the account id name different accounts ...". Returns the code; CAA_EOK
 * says nothing. Both ways of checking refuse these before anything is asked.
 */
int output_request_refusal(FILE *err, const char *prog, const caa_policy_t *pol,
                           const caa_request_t *req);

/* A problem as "  <type URN> (<status>) <detail>", sub-problems indented below. */
void output_problem_human(FILE *out, const caa_problem_t *p, int indent);

/* One CheckResponse JSON object (caa_result_json) and a newline.
 * Returns 0, or -1 when out of memory. */
int output_result_json(FILE *out, const caa_result_t *res);

/* One CheckOrderResponse JSON object (caa_order_json) and a newline. results[i]
 * must not be NULL. Returns 0, or -1 when out of memory. */
int output_order_json(FILE *out, caa_result_t *const *results, size_t n,
                      const caa_problem_t *aggregate);

#endif
