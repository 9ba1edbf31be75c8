/*
 * json.h — results as the proto3 JSON mapping of caa.v1 (proto/caa/v1/caa.proto):
 * CheckResponse, Problem and CheckOrderResponse, with lowerCamelCase field
 * names, enums by name, and default values (false, 0, "", empty lists, absent
 * messages) omitted as proto3 JSON printers do. `caa --json` prints these.
 *
 * Record tags and values are presentation text: '\' and octets outside
 * printable ASCII are written \DDD-style (RFC 1035 §5.1), so any RDATA is
 * valid UTF-8 and reads back unchanged. Free text (why, detail) that is not
 * valid UTF-8 is written the same way.
 */
#ifndef CAA_JSON_H
#define CAA_JSON_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include "result.h"

/* json_dumps()/json_dumpf() flags for these objects: one line, and elapsed
 * times (doubles in ms) as short decimals ("0.4", not "0.40000000000000002"). */
#define CAA_JSON_DUMP_FLAGS (JSON_COMPACT | JSON_REAL_PRECISION(15))

/* CheckResponse of res. New reference, NULL on allocation failure. With remote
 * perspectives it adds, after "perspectives" ({name, rir, verdict, problem,
 * elapsedMs, outcome} each; outcome caa_mpic_state_name()), "quorum": "passed/total"
 * (corroborations / remotes asked) — the one field that is no caa.v1 field. */
json_t *caa_result_json(const caa_result_t *res);

/* Problem {type, detail, status, identifier, subproblems}. New reference or NULL. */
json_t *caa_problem_json(const caa_problem_t *p);

/* CheckOrderResponse {results, problem}; aggregate may be NULL (all permitted). */
json_t *caa_order_json(caa_result_t *const *results, size_t n, const caa_problem_t *aggregate);

/* TraceLabel.outcome text: "PRESENT", "NODATA", "NODATA_WITHOUT_SOA", "NXDOMAIN",
 * "SERVFAIL", ..., "BOGUS"; PENDING (not looked up) is "NOT_NEEDED". */
const char *caa_json_outcome_name(caa_outcome_t outcome);

/*
 * Presentation text of len octets of src into dst (size octets, NUL-terminated
 * when size > 0, truncated like snprintf): '\' as "\\", octets below 0x20 or
 * above 0x7e as \DDD, and '"' as \" when quoted. Returns the full length
 * (without the NUL), so a first call with size 0 measures.
 */
size_t caa_json_escape(char *dst, size_t size, const char *src, size_t len, bool quoted);

#endif
