/*
 * test_schedule.c — server/schedule.c in-process: what applies when (under
 * "br" with remotes only), the check before a corroboration, the start
 * check's text, the gauges, and when main's wait wakes (daily, when the
 * warnings start, when the minimum rises). The clock is the test clock
 * (CAAD_SCHEDULE_NOW), set anew for each case; it runs on from there, so
 * times are compared with a few seconds' slack.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "codes.h"
#include "config.h"
#include "mpic.h"
#include "schedule.h"

#define JUN15 1781481600LL
#define DEC15 1797292800LL
#define DAY   86400LL
#define SLACK 5 /* seconds the clock may run on during a case */

static void set_clock(long long s)
{
	char v[32], err[256];
	snprintf(v, sizeof(v), "%lld", s);
	setenv(CAAD_SCHEDULE_ENV, v, 1);
	if (caad_schedule_init(err, sizeof(err)) != CAA_EOK)
		fail_msg("%s", err);
}

/* A config with n remotes and min_remotes (JSON text; NULL: the default). */
static caa_config_t *config(size_t n, const char *min_remotes)
{
	char json[2048], err[256];
	size_t len = (size_t)snprintf(json, sizeof(json), "{\"perspective\": {%s%s%s\"remotes\": [",
	                              min_remotes ? "\"min_remotes\": " : "",
	                              min_remotes ? min_remotes : "", min_remotes ? ", " : "");
	for (size_t i = 0; i < n; i++)
		len += (size_t)snprintf(
		    json + len, sizeof(json) - len,
		    "%s{\"name\": \"r%zu\", \"rir\": \"RIPE\", \"address\": \"a:%zu\"}",
		    i ? ", " : "", i, i + 1);
	snprintf(json + len, sizeof(json) - len, "]}}");
	caa_config_t *cfg;
	if (caa_config_parse(json, strlen(json), &cfg, err, sizeof(err)) != CAA_EOK)
		fail_msg("%s: %s", json, err);
	return cfg;
}

static void test_clock(void **state)
{
	(void)state;
	char err[256];
	set_clock(DEC15);
	int64_t base = 0;
	assert_true(caad_schedule_test_clock(&base));
	assert_int_equal(base, DEC15);
	int64_t now = caad_schedule_now_s();
	assert_true(now >= DEC15 && now <= DEC15 + SLACK);
	static const char *const bad[] = {
	    "", "x", "-5", "+5", " 5", "5 ", "1e9", "253402300800", "99999999999999999999999"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		setenv(CAAD_SCHEDULE_ENV, bad[i], 1);
		if (caad_schedule_init(err, sizeof(err)) != CAA_ECONFIG)
			fail_msg("CAAD_SCHEDULE_NOW=\"%s\" accepted", bad[i]);
		assert_non_null(strstr(err, "CAAD_SCHEDULE_NOW: expected Unix seconds"));
		assert_false(caad_schedule_test_clock(NULL));
	}
	unsetenv(CAAD_SCHEDULE_ENV);
	assert_int_equal(caad_schedule_init(err, sizeof(err)), CAA_EOK);
	assert_false(caad_schedule_test_clock(NULL));
	assert_true(caad_schedule_now_s() > JUN15); /* this machine's real clock is past 2026-06 */
}

static void test_check(void **state)
{
	(void)state;
	caa_problem_t *p = (caa_problem_t *)1;
	char err[512];
	caa_config_t *four = config(4, NULL), *br = config(4, "\"br\""), *two = config(2, "2"),
	             *none = config(0, NULL);

	set_clock(DEC15 - 60);
	assert_int_equal(caad_schedule_check(four, &p), CAA_EOK);
	assert_null(p);
	assert_int_equal(caad_schedule_start_check(four, "c.json", err, sizeof(err)), CAA_EOK);

	set_clock(DEC15);
	/* "br" spelled out or by default: short from 2026-12-15 */
	caa_config_t *const short_ones[] = {four, br};
	for (size_t i = 0; i < 2; i++) {
		assert_int_equal(caad_schedule_check(short_ones[i], &p), CAA_EOK);
		assert_non_null(p);
		assert_int_equal(p->type, CAA_PROB_SERVER_INTERNAL);
		assert_int_equal(p->status, 500);
		assert_string_equal(p->detail,
		                    "During secondary validation: 4 remote perspectives "
		                    "configured, the Baseline Requirements require 5 from "
		                    "2026-12-15");
		caa_problem_free(p);
		assert_int_equal(
		    caad_schedule_start_check(short_ones[i], "c.json", err, sizeof(err)),
		    CAA_ECONFIG);
		assert_string_equal(err,
		                    "c.json: perspective.remotes: 4 listed; "
		                    "perspective.min_remotes \"br\" requires 5, the Baseline "
		                    "Requirements' minimum from 2026-12-15 (list more remotes, or "
		                    "set an integer perspective.min_remotes for a lab or a private "
		                    "CA)");
	}
	/* an override and single-perspective: never */
	caa_config_t *const never[] = {two, none};
	for (size_t i = 0; i < 2; i++) {
		p = (caa_problem_t *)1;
		assert_int_equal(caad_schedule_check(never[i], &p), CAA_EOK);
		assert_null(p);
		assert_int_equal(caad_schedule_start_check(never[i], "c.json", err, sizeof(err)),
		                 CAA_EOK);
	}
	assert_int_equal(caad_schedule_check(NULL, &p), CAA_EINVAL);
	assert_int_equal(caad_schedule_check(four, NULL), CAA_EINVAL);
	caa_config_free(four);
	caa_config_free(br);
	caa_config_free(two);
	caa_config_free(none);
}

static void test_state(void **state)
{
	(void)state;
	caa_config_t *three = config(3, NULL), *five = config(5, NULL), *two = config(2, "2"),
	             *none = config(0, NULL);
	caad_schedule_state_t s;
	char text[512];

	/* 3 listed on 2026-05-16: 3 in force, 4 comes in 30 days → warning */
	caad_schedule_state(three, JUN15 - 30 * DAY, &s);
	assert_int_equal(s.remotes, 3);
	assert_int_equal(s.min_remotes, 3);
	assert_int_equal(s.rise_s, 30 * DAY);
	assert_true(s.warning);
	assert_true(caad_schedule_warning(three, JUN15 - 30 * DAY, text, sizeof(text)));
	assert_string_equal(text, "perspective.remotes: 3 listed; the Baseline Requirements "
	                          "require 4 from 2026-06-15 (00:00 UTC, in 30 days): list more "
	                          "remotes before then, or every multi-perspective check fails "
	                          "and caad refuses to start");
	/* a second earlier: no warning yet, the rise still counted */
	caad_schedule_state(three, JUN15 - 30 * DAY - 1, &s);
	assert_int_equal(s.rise_s, 30 * DAY + 1);
	assert_false(s.warning);
	assert_false(caad_schedule_warning(three, JUN15 - 30 * DAY - 1, text, sizeof(text)));
	assert_string_equal(text, "");
	/* from 2026-06-15: short (4 in force); the next rise above 3 is to 5 */
	caad_schedule_state(three, JUN15, &s);
	assert_int_equal(s.min_remotes, 4);
	assert_int_equal(s.rise_s, DEC15 - JUN15);
	assert_false(s.warning);
	/* the days in the text */
	assert_true(caad_schedule_warning(three, DEC15 - DAY, text, sizeof(text)));
	assert_non_null(strstr(text, "require 5 from 2026-12-15 (00:00 UTC, in 1 day)"));
	assert_true(caad_schedule_warning(three, DEC15 - 2 * DAY, text, sizeof(text)));
	assert_non_null(strstr(text, "(00:00 UTC, in 2 days)"));
	assert_true(caad_schedule_warning(three, DEC15 - 1, text, sizeof(text)));
	assert_non_null(strstr(text, "(00:00 UTC, in less than a day)"));

	/* 5 listed: nothing ahead, ever */
	caad_schedule_state(five, DEC15 - DAY, &s);
	assert_int_equal(s.min_remotes, 4);
	assert_int_equal(s.rise_s, 0);
	assert_false(s.warning);
	/* an override: its integer; no remotes: nothing */
	caad_schedule_state(two, DEC15 - DAY, &s);
	assert_int_equal(s.remotes, 2);
	assert_int_equal(s.min_remotes, 2);
	assert_int_equal(s.rise_s, 0);
	assert_false(s.warning);
	assert_false(caad_schedule_warning(two, DEC15 - DAY, text, sizeof(text)));
	caad_schedule_state(none, DEC15 - DAY, &s);
	assert_int_equal(s.remotes, 0);
	assert_int_equal(s.min_remotes, 0);
	assert_int_equal(s.rise_s, 0);
	caa_config_free(three);
	caa_config_free(five);
	caa_config_free(two);
	caa_config_free(none);
}

static void assert_between(int64_t v, int64_t lo, int64_t hi)
{
	if (v < lo || v > hi)
		fail_msg("%lld not in [%lld, %lld]", (long long)v, (long long)lo, (long long)hi);
}

/* When main's wait ends: a day after the last log, or sooner for what the schedule brings. */
static void test_sleep(void **state)
{
	(void)state;
	caa_config_t *four = config(4, NULL), *five = config(5, NULL), *two = config(2, "2"),
	             *none = config(0, NULL);

	/* 14 days before 5: the daily repeat */
	set_clock(DEC15 - 14 * DAY);
	caad_schedule_log(four);
	assert_between(caad_schedule_sleep_s(four), DAY - SLACK, DAY);
	/* 100 s before the warnings start: then (a second late) */
	set_clock(DEC15 - 30 * DAY - 100);
	caad_schedule_log(four);
	assert_between(caad_schedule_sleep_s(four), 101 - SLACK, 101);
	/* 2 s before the rise: then (a second late), to log the shortfall at once */
	set_clock(DEC15 - 2);
	caad_schedule_log(four);
	assert_between(caad_schedule_sleep_s(four), 1, 3);
	/* short already: daily */
	set_clock(DEC15 + 10);
	caad_schedule_log(four);
	assert_between(caad_schedule_sleep_s(four), DAY - SLACK, DAY);
	/* nothing ahead: daily too (cheap; says nothing) */
	caad_schedule_log(five);
	assert_between(caad_schedule_sleep_s(five), DAY - SLACK, DAY);
	/* no schedule: main just waits for a signal */
	assert_int_equal(caad_schedule_sleep_s(two), -1);
	assert_int_equal(caad_schedule_sleep_s(none), -1);
	caa_config_free(four);
	caa_config_free(five);
	caa_config_free(two);
	caa_config_free(none);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_clock),
	    cmocka_unit_test(test_check),
	    cmocka_unit_test(test_state),
	    cmocka_unit_test(test_sleep),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
