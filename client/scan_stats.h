/*
 * scan_stats.h — what `caa scan` keeps besides the rows (scan.c): a string
 * set/counter, one name's results under every profile (the first from the
 * climb, the others decided from the same labels), and the summary of a run.
 * No DNS here, so tests/cli/test_scan_stats.c drives it with made-up labels.
 */
#ifndef CAA_CLI_SCAN_STATS_H
#define CAA_CLI_SCAN_STATS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "policy.h"
#include "result.h"

#define SCAN_PROFILES_MAX 16

/* Strings with a count each (open addressing; keys owned). */
typedef struct scan_map {
	char **keys;
	uint64_t *counts;
	size_t cap, n;
} scan_map_t;
typedef scan_map_t scan_set_t;

/* Add key (count += by). Returns 1 when new, 0 when present, -1 out of memory. */
int scan_map_add(scan_map_t *m, const char *key, uint64_t by);
int scan_set_add(scan_set_t *m, const char *key);
bool scan_set_has(const scan_set_t *m, const char *key);
void scan_set_free(scan_set_t *m);

/* One name under every profile. res[0] is the climb's; res[p] (p >= 1) was
 * decided under profile p from res[0]'s labels; undecided[p]: a label that
 * profile needs was not looked up (the result then fails closed). error_class
 * is the reason of a lookup failure ("DNS_SERVFAIL"), "BAD_NAME" or
 * "INTERNAL" (no result), NULL otherwise. */
typedef struct scan_row {
	caa_result_t *res[SCAN_PROFILES_MAX];
	bool undecided[SCAN_PROFILES_MAX];
	const char *error_class;
	int error_rc;
} scan_row_t;

/*
 * Fill row from the climb's result res (taken over) under pols[0], and decide
 * every other profile from res->trace (caa_evaluate over the same labels) for
 * the request base (account, method; its identifier and policy are replaced).
 * Returns CAA_EOK or CAA_ENOMEM (row->res[p] NULL for the rest: INTERNAL).
 */
int scan_row_decide(scan_row_t *row, caa_result_t *res, const caa_request_t *base,
                    const caa_policy_t *const *pols, size_t n_profiles);
/* "PERMITTED", "FORBIDDEN", "LOOKUP_FAILED", or "ERROR" (no result). */
const char *scan_row_verdict(const scan_row_t *row, size_t p);
/* The reason's name, or error_class when there is no result. */
const char *scan_row_reason(const scan_row_t *row, size_t p);
void scan_row_clear(scan_row_t *row, size_t n_profiles);

typedef struct scan_stats {
	size_t n_profiles;
	uint64_t names, skipped, failures; /* failures: LOOKUP_FAILED and ERROR rows */
	uint64_t with_rrset;               /* names with a relevant CAA RRset */
	uint64_t records, malformed_records, names_malformed;
	uint64_t accounturi_names, validationmethods_names;
	scan_map_t verdicts, issuers, critical_tags, errors, dnssec;
	/* per profile p >= 1, against profile 0 */
	uint64_t differ[SCAN_PROFILES_MAX], undecided[SCAN_PROFILES_MAX];
	scan_map_t transitions[SCAN_PROFILES_MAX];
	char *examples[SCAN_PROFILES_MAX][3];
} scan_stats_t;

int scan_stats_init(scan_stats_t *st, size_t n_profiles);
/* Count one row. Returns 0, or -1 out of memory (the counts may be short). */
int scan_stats_add(scan_stats_t *st, const char *name, const scan_row_t *row);
/* The summary as text (docs/cli.md "caa scan") or as one JSON object. */
void scan_stats_print(FILE *out, const scan_stats_t *st, const char *const *profiles,
                      size_t n_profiles, unsigned top, bool json);
void scan_stats_free(scan_stats_t *st, size_t n_profiles);

#endif
