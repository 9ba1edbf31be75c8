/*
 * schedule.h — the BR §3.2.2.9 schedule of remote perspectives (docs/semantics.md §9) as
 * caad applies it: its clock, the check at start, the check before every
 * corroboration, the warnings and the gauges. The dates and minimums
 * themselves are include/caa/mpic.h's.
 *
 * The schedule applies when remotes are listed and perspective.min_remotes
 * is "br" (0 in caa_config_t). An integer min_remotes is an override the
 * parser already checked; with no remotes caad is single-perspective. In
 * both cases nothing here ever fails or warns.
 *
 * The primary calls caad_schedule_check() before asking the remotes, for
 * every multi-perspective check: a problem there is the check's answer
 * (serverInternal 500, LOOKUP_FAILED, never PERMITTED), and no remote is
 * asked. That is how a date that passes while caad runs shows.
 */
#ifndef CAAD_SCHEDULE_H
#define CAAD_SCHEDULE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "problem.h"

/* The test clock's environment variable: Unix seconds at start. */
#define CAAD_SCHEDULE_ENV "CAAD_SCHEDULE_NOW"

/*
 * Read CAAD_SCHEDULE_NOW once, at start, before any thread. Unset: the real
 * clock. Set: the schedule's clock starts at that time and runs on from it
 * (monotonic). CAA_EOK, or CAA_ECONFIG with a message in err when it is set to anything but
 * a decimal Unix time (0 to 253402300799). Not thread-safe; call once.
 */
int caad_schedule_init(char *err, size_t errlen);

/* True when the test clock is in use; *base (may be NULL) = the time it was set to. */
bool caad_schedule_test_clock(int64_t *base);

/* The schedule's clock in Unix seconds: real time, or the test clock. Any thread. */
int64_t caad_schedule_now_s(void);

/*
 * For every multi-perspective check, before any remote is asked: CAA_EOK with
 * *out NULL when the listed remotes meet the minimum now (always under an
 * integer min_remotes, and with no remotes); CAA_EOK with *out the §9
 * serverInternal problem ("During secondary validation: <n> remote
 * perspectives configured, the Baseline Requirements require <m> from
 * <date>", identifier NULL) when they do not; CAA_EINVAL; CAA_ENOMEM.
 * Any thread.
 */
int caad_schedule_check(const caa_config_t *cfg, caa_problem_t **out);

/*
 * At start and for --check-config: CAA_EOK when the listed remotes meet the
 * minimum now; CAA_ECONFIG with err "<path>: perspective.remotes: <n> listed;
 * perspective.min_remotes \"br\" requires <m> from <date> ..." otherwise.
 */
int caad_schedule_start_check(const caa_config_t *cfg, const char *path, char *err, size_t errlen);

/* What the schedule looks like at now (the gauges of metrics.h). */
typedef struct caad_schedule_state {
	size_t remotes;       /* listed */
	unsigned min_remotes; /* in force: BR's, or the integer override; 0 without remotes */
	int64_t rise_s;       /* seconds until the BR minimum rises above what is listed; 0: none */
	bool warning;         /* that rise is within CAA_MPIC_WARN_AHEAD_S (30 days) */
} caad_schedule_state_t;
void caad_schedule_state(const caa_config_t *cfg, int64_t now_s, caad_schedule_state_t *out);

/* The warning, when state has one: "perspective.remotes: 4 listed; the Baseline
 * Requirements require 5 from 2026-12-15 (...)". False (buf "") otherwise. */
bool caad_schedule_warning(const caa_config_t *cfg, int64_t now_s, char *buf, size_t len);

/*
 * The log lines, for main's thread only: "schedule not met" when the listed
 * remotes fall short now (every multi-perspective check fails), else
 * "schedule warning" when a rise is within 30 days, else nothing. Called at
 * start and whenever caad_schedule_sleep_s() has run out.
 */
void caad_schedule_log(const caa_config_t *cfg);

/*
 * How long main may wait (seconds, at least 1) before calling
 * caad_schedule_log() again: a day after the last call, or sooner when the
 * warnings start or the minimum rises. -1 when the schedule does not apply.
 */
int64_t caad_schedule_sleep_s(const caa_config_t *cfg);

#endif
