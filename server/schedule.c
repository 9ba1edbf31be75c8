/* schedule.c — the BR schedule of remote perspectives as caad applies it (schedule.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "codes.h"
#include "log.h"
#include "mpic.h"
#include "schedule.h"
#include "util.h"

#define DAY_S      86400
#define MAX_TEST_S 253402300799LL /* 9999-12-31T23:59:59Z */

/* Set once by caad_schedule_init() before any thread; read-only after. */
static bool test_clock;
static int64_t test_base_s;
static uint64_t mono_start_us;

/* main's thread only: when caad_schedule_log() last ran (schedule clock). */
static int64_t last_log_s;

int caad_schedule_init(char *err, size_t errlen)
{
	const char *v = getenv(CAAD_SCHEDULE_ENV);
	test_clock = false;
	if (v == NULL)
		return CAA_EOK;
	char *end;
	errno = 0;
	long long s = strtoll(v, &end, 10);
	if (v[0] < '0' || v[0] > '9' || *end != '\0' || errno != 0 || s > MAX_TEST_S) {
		caa_set_err(err, errlen,
		            "%s: expected Unix seconds from 0 to %lld (the BR schedule's test "
		            "clock), got \"%.40s\"",
		            CAAD_SCHEDULE_ENV, MAX_TEST_S, v);
		return CAA_ECONFIG;
	}
	mono_start_us = caa_now_us();
	test_base_s = s;
	test_clock = true;
	return CAA_EOK;
}

bool caad_schedule_test_clock(int64_t *base)
{
	if (test_clock && base != NULL)
		*base = test_base_s;
	return test_clock;
}

int64_t caad_schedule_now_s(void)
{
	if (!test_clock)
		return caa_wall_ms() / 1000;
	return test_base_s + (int64_t)((caa_now_us() - mono_start_us) / 1000000u);
}

/* Does the date-based minimum apply: remotes listed under "br"? */
static bool applies(const caa_config_t *cfg)
{
	return cfg->perspective.n_remotes > 0 && cfg->perspective.min_remotes == 0;
}

/* The first step after now whose minimum exceeds n. */
static bool next_rise_above(size_t n, int64_t now, caa_mpic_step_t *out)
{
	caa_mpic_step_t s;
	for (int64_t t = now; caa_mpic_next_rise_br(t, &s); t = s.from_unix_s) {
		if (s.min_remotes > n) {
			*out = s;
			return true;
		}
	}
	return false;
}

int caad_schedule_check(const caa_config_t *cfg, caa_problem_t **out)
{
	if (cfg == NULL || out == NULL)
		return CAA_EINVAL;
	*out = NULL;
	if (!applies(cfg))
		return CAA_EOK;
	return caa_mpic_schedule_check(cfg->perspective.n_remotes, caad_schedule_now_s(), out);
}

/* The step in force at now: the last that has started (now >= its date). */
static bool step_in_force(int64_t now, caa_mpic_step_t *out)
{
	bool found = false;
	caa_mpic_step_t s;
	for (int64_t t = INT64_MIN; caa_mpic_next_rise_br(t, &s) && s.from_unix_s <= now;
	     t = s.from_unix_s) {
		*out = s;
		found = true;
	}
	return found;
}

int caad_schedule_start_check(const caa_config_t *cfg, const char *path, char *err, size_t errlen)
{
	if (!applies(cfg))
		return CAA_EOK;
	size_t n = cfg->perspective.n_remotes;
	int64_t now = caad_schedule_now_s();
	caa_mpic_step_t s;
	if (!step_in_force(now, &s) || n >= s.min_remotes)
		return CAA_EOK;
	caa_set_err(
	    err, errlen,
	    "%s: perspective.remotes: %zu listed; perspective.min_remotes \"br\" requires %u, "
	    "the Baseline Requirements' minimum from %s (list more remotes, or set an "
	    "integer perspective.min_remotes for a lab or a private CA)",
	    path, n, s.min_remotes, s.date);
	return CAA_ECONFIG;
}

void caad_schedule_state(const caa_config_t *cfg, int64_t now_s, caad_schedule_state_t *out)
{
	memset(out, 0, sizeof(*out));
	out->remotes = cfg->perspective.n_remotes;
	if (out->remotes == 0)
		return;
	if (!applies(cfg)) {
		out->min_remotes = cfg->perspective.min_remotes;
		return;
	}
	out->min_remotes = caa_mpic_min_remotes_br(now_s);
	caa_mpic_step_t s;
	if (next_rise_above(out->remotes, now_s, &s))
		out->rise_s = s.from_unix_s - now_s;
	out->warning = caa_mpic_warn_br(out->remotes, now_s, NULL);
}

bool caad_schedule_warning(const caa_config_t *cfg, int64_t now_s, char *buf, size_t len)
{
	caa_mpic_step_t s;
	if (len > 0)
		buf[0] = '\0';
	if (!applies(cfg) || !caa_mpic_warn_br(cfg->perspective.n_remotes, now_s, &s))
		return false;
	int64_t left = s.from_unix_s - now_s;
	char in[32];
	if (left >= 2 * DAY_S)
		snprintf(in, sizeof(in), "in %lld days", (long long)(left / DAY_S));
	else
		snprintf(in, sizeof(in), "%s", left >= DAY_S ? "in 1 day" : "in less than a day");
	snprintf(buf, len,
	         "perspective.remotes: %zu listed; the Baseline Requirements require %u from %s "
	         "(00:00 UTC, %s): list more remotes before then, or every multi-perspective "
	         "check fails and caad refuses to start",
	         cfg->perspective.n_remotes, s.min_remotes, s.date, in);
	return true;
}

void caad_schedule_log(const caa_config_t *cfg)
{
	int64_t now = caad_schedule_now_s();
	last_log_s = now;
	if (!applies(cfg))
		return;
	size_t n = cfg->perspective.n_remotes;
	caa_mpic_step_t s;
	caa_problem_t *p = NULL;
	if (caa_mpic_schedule_check(n, now, &p) == CAA_EOK && p != NULL && step_in_force(now, &s)) {
		caad_log("schedule not met",
		         json_pack("{s:s, s:I, s:i, s:s}", "error", p->detail, "remotes",
		                   (json_int_t)n, "required", (int)s.min_remotes, "from", s.date));
		caa_problem_free(p);
		return;
	}
	caa_problem_free(p);
	char text[400];
	if (caad_schedule_warning(cfg, now, text, sizeof(text)) && caa_mpic_warn_br(n, now, &s)) {
		caad_log("schedule warning",
		         json_pack("{s:s, s:I, s:i, s:s, s:I}", "warning", text, "remotes",
		                   (json_int_t)n, "required", (int)s.min_remotes, "from", s.date,
		                   "seconds", (json_int_t)(s.from_unix_s - now)));
	}
}

int64_t caad_schedule_sleep_s(const caa_config_t *cfg)
{
	if (!applies(cfg))
		return -1;
	int64_t now = caad_schedule_now_s();
	/* a day after the last log, and never more than a day ahead (a clock set back) */
	int64_t wake = (last_log_s < now ? last_log_s : now) + DAY_S;
	caa_mpic_step_t s;
	if (next_rise_above(cfg->perspective.n_remotes, now, &s)) {
		/* a second late, so that the clock has surely passed the moment */
		int64_t warn_from = s.from_unix_s - CAA_MPIC_WARN_AHEAD_S + 1;
		if (warn_from > now && warn_from < wake)
			wake = warn_from;
		if (s.from_unix_s + 1 < wake)
			wake = s.from_unix_s + 1;
	}
	return wake - now < 1 ? 1 : wake - now;
}
