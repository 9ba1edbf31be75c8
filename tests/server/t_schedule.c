/*
 * t_schedule.c — the BR schedule of remote perspectives (docs/semantics.md §9) in a real
 * caad: under perspective.min_remotes "br" too few remotes for the date is a
 * start error naming the keys, the number and the date; enough starts; from
 * 30 days before the minimum rises above what is listed caad warns
 * (--check-config, a log line, gauges); an integer min_remotes overrides;
 * without remotes no schedule applies. The date comes from the test clock
 * CAAD_SCHEDULE_NOW (set before caad starts; it runs on from there).
 *
 * The remotes' addresses are loopback ports nobody listens on: neither
 * --check-config nor the start connects to them.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cases.h"

/* UTC midnights of the schedule's last two steps (date -u -d 2026-06-15 +%s) */
#define JUN15        1781481600LL /* 4 remotes from here */
#define DEC15        1797292800LL /* 5 remotes from here */
#define DAY          86400LL
#define DEC14_235958 (DEC15 - 2)

/* The lab's config with n remotes (unused loopback ports) and min_remotes
 * (stolen; NULL leaves the default, "br"). New reference. */
static json_t *config(size_t n, json_t *min_remotes)
{
	static const char *const rirs[] = {"RIPE", "APNIC", "LACNIC", "AFRINIC", "ARIN"};
	json_t *cfg = h_lab_config();
	json_t *remotes = json_array();
	for (size_t i = 0; i < n; i++) {
		char name[16], addr[32];
		snprintf(name, sizeof(name), "r%zu", i + 1);
		snprintf(addr, sizeof(addr), "127.0.0.1:%zu", 9 + i);
		json_array_append_new(remotes, json_pack("{s:s, s:s, s:s}", "name", name, "rir",
		                                         rirs[i % 5], "address", addr));
	}
	json_t *persp =
	    json_pack("{s:s, s:s, s:o}", "name", "primary", "rir", "ARIN", "remotes", remotes);
	if (min_remotes != NULL)
		json_object_set_new(persp, "min_remotes", min_remotes);
	json_object_set_new(cfg, "perspective", persp);
	return cfg;
}

static void set_clock(long long unix_s)
{
	char v[32];
	snprintf(v, sizeof(v), "%lld", unix_s);
	setenv("CAAD_SCHEDULE_NOW", v, 1);
}

/* caad --check-config on cfg (consumed) at the test clock now (-1: the real
 * clock); its exit status, and what it printed into out. */
static int check_config(json_t *cfg, long long now, char *out, size_t len)
{
	char args[600];
	if (now >= 0)
		set_clock(now);
	else
		unsetenv("CAAD_SCHEDULE_NOW");
	snprintf(args, sizeof(args), "--check-config '%s'", h_write_config(cfg, "schedule.json"));
	json_decref(cfg);
	int st = caad_cmd(args, out, len);
	unsetenv("CAAD_SCHEDULE_NOW");
	return st;
}

static bool has(const char *out, const char *piece)
{
	return strstr(out, piece) != NULL;
}

void case_schedule_config(void)
{
	char out[4096];
	int st;

	/* too few under "br": refused, naming both keys, the number and the date */
	st = check_config(config(3, NULL), JUN15, out, sizeof(out));
	CHECK(st == 2 && has(out, "perspective.remotes: 3 listed") &&
	          has(out, "perspective.min_remotes \"br\" requires 4") && has(out, "2026-06-15"),
	      "3 remotes on 2026-06-15: %d %s", st, out);
	CHECK(!has(out, "config OK"), "refused yet OK: %s", out);
	st = check_config(config(4, json_string("br")), DEC15, out, sizeof(out));
	CHECK(st == 2 && has(out, "perspective.remotes: 4 listed") &&
	          has(out, "perspective.min_remotes \"br\" requires 5") && has(out, "2026-12-15"),
	      "4 remotes on 2026-12-15: %d %s", st, out);
	st = check_config(config(4, NULL), DEC15 + 365 * DAY, out, sizeof(out));
	CHECK(st == 2 && has(out, "requires 5"), "4 remotes a year later: %d %s", st, out);
	/* any date since the first step: one remote is never enough */
	st = check_config(config(1, NULL), -1, out, sizeof(out));
	CHECK(st == 2 && has(out, "perspective.remotes: 1 listed"), "1 remote, real clock: %d %s",
	      st, out);

	/* enough: OK; the test clock always says it is on */
	st = check_config(config(4, NULL), JUN15, out, sizeof(out));
	CHECK(st == 0 && has(out, "config OK\n") &&
	          has(out, "caad: warning: CAAD_SCHEDULE_NOW is set") &&
	          has(out, "2026-06-15T00:00:00.000Z"),
	      "4 remotes on 2026-06-15: %d %s", st, out);
	CHECK(!has(out, "Baseline Requirements require"), "a warning 183 days ahead: %s", out);
	st = check_config(config(5, NULL), DEC15, out, sizeof(out));
	CHECK(st == 0 && has(out, "config OK\n") && !has(out, "Baseline Requirements"),
	      "5 remotes on 2026-12-15: %d %s", st, out);
	st = check_config(config(6, NULL), DEC15 + 3650 * DAY, out, sizeof(out));
	CHECK(st == 0 && has(out, "config OK\n") && !has(out, "Baseline Requirements"),
	      "6 remotes in 2036: %d %s", st, out);

	/* the warning window: from 30 days before the rise above what is listed, exit 0 */
	st = check_config(config(4, NULL), DEC15 - 30 * DAY - 1, out, sizeof(out));
	CHECK(st == 0 && !has(out, "Baseline Requirements"), "31 days ahead: %d %s", st, out);
	st = check_config(config(4, NULL), DEC15 - 30 * DAY, out, sizeof(out));
	CHECK(st == 0 && has(out, "config OK\n") &&
	          has(out, "caad: warning: perspective.remotes: 4 listed; the Baseline "
	                   "Requirements require 5 from 2026-12-15 (00:00 UTC, in 30 days)"),
	      "30 days ahead: %d %s", st, out);
	st = check_config(config(4, NULL), DEC14_235958, out, sizeof(out));
	CHECK(st == 0 && has(out, "config OK\n") &&
	          has(out, "require 5 from 2026-12-15 (00:00 UTC, in less than a day)"),
	      "2 s ahead: %d %s", st, out);
	st = check_config(config(3, NULL), JUN15 - 1, out, sizeof(out));
	CHECK(st == 0 && has(out, "3 listed; the Baseline Requirements require 4 from 2026-06-15"),
	      "3 remotes, 1 s before 2026-06-15: %d %s", st, out);
	/* 3 remotes fall short of both steps: the first is the one to warn about */
	CHECK(!has(out, "require 5"), "warned about the later step: %s", out);

	/* an integer overrides the schedule (labs, private CAs): no error, no warning */
	st = check_config(config(2, json_integer(2)), DEC15, out, sizeof(out));
	CHECK(st == 0 && has(out, "config OK\n") && !has(out, "Baseline Requirements"),
	      "min_remotes 2, 2 remotes, 2026-12-15: %d %s", st, out);
	st = check_config(config(4, json_integer(1)), DEC15 - DAY, out, sizeof(out));
	CHECK(st == 0 && !has(out, "Baseline Requirements"), "min_remotes 1, a day ahead: %d %s",
	      st, out);
	/* ... and its own check is the parser's, whatever the date */
	st = check_config(config(2, json_integer(3)), -1, out, sizeof(out));
	CHECK(st == 2 && has(out, "perspective.min_remotes: 3 remotes required, 2 listed"),
	      "min_remotes 3, 2 remotes: %d %s", st, out);
	st = check_config(config(5, json_string("BR")), -1, out, sizeof(out));
	CHECK(st == 2 && has(out, "perspective.min_remotes: expected \"br\" or an integer"),
	      "min_remotes \"BR\": %d %s", st, out);

	/* no remotes: single-perspective, no schedule */
	st = check_config(config(0, NULL), DEC15, out, sizeof(out));
	CHECK(st == 0 && has(out, "config OK\n") && !has(out, "Baseline Requirements"),
	      "no remotes: %d %s", st, out);

	/* a test clock that is not a time is refused, naming the variable */
	json_t *cfg = config(5, NULL);
	char args[600];
	snprintf(args, sizeof(args), "--check-config '%s'", h_write_config(cfg, "schedule.json"));
	json_decref(cfg);
	static const char *const bad[] = {"", "tomorrow", "-1", "1797292800s", "99999999999999"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		setenv("CAAD_SCHEDULE_NOW", bad[i], 1);
		st = caad_cmd(args, out, sizeof(out));
		CHECK(st == 2 && has(out, "caad: CAAD_SCHEDULE_NOW: expected Unix seconds"),
		      "CAAD_SCHEDULE_NOW=\"%s\": %d %s", bad[i], st, out);
	}
	unsetenv("CAAD_SCHEDULE_NOW");
}

/* caad at the test clock now with cfg (consumed) and a metrics endpoint; exit(1) if it does not
 * start. */
static void start(caad_proc_t *p, json_t *cfg, long long now)
{
	json_object_set_new(cfg, "metrics_listen", json_string("127.0.0.1:0"));
	set_clock(now);
	int rc = h_start(p, cfg);
	unsetenv("CAAD_SCHEDULE_NOW");
	json_decref(cfg);
	if (rc != 0) {
		h_log_dump(p);
		fprintf(stderr, "FAIL: caad did not start\n");
		exit(1);
	}
}

static void stop(caad_proc_t *p)
{
	int st = h_stop(p, SIGTERM, 15000);
	CHECK(st == 0, "caad exit status %d after SIGTERM", st);
	if (h_failures)
		h_log_dump(p);
	h_free(p);
}

typedef struct gauges {
	double remotes, min_remotes, rise_s, warning;
} gauges_t;

static gauges_t scrape(const caad_proc_t *p)
{
	char *page = h_http_get(p->metrics_port, "/metrics");
	gauges_t g = {metric(page, "caad_perspective_remotes"),
	              metric(page, "caad_perspective_min_remotes"),
	              metric(page, "caad_perspective_schedule_rise_seconds"),
	              metric(page, "caad_perspective_schedule_warning")};
	free(page);
	return g;
}

void case_schedule_start(void)
{
	caad_proc_t p;

	/* 14 days before the rise to 5, with 4: starts, warns in the log and the gauges */
	start(&p, config(4, NULL), DEC15 - 14 * DAY);
	json_t *l = h_log_find(&p, "test clock", NULL, NULL, 0);
	CHECK(l != NULL, "no \"test clock\" line");
	json_decref(l);
	l = h_log_find(&p, "schedule warning", NULL, NULL, 0);
	CHECK(l != NULL, "no \"schedule warning\" line at start");
	if (l != NULL) {
		const char *w = json_string_value(json_object_get(l, "warning"));
		CHECK(w &&
		          strstr(w, "4 listed; the Baseline Requirements require 5 from 2026-12-15 "
		                    "(00:00 UTC, in 14 days)"),
		      "warning \"%s\"", h_str(w));
		CHECK(json_integer_value(json_object_get(l, "remotes")) == 4 &&
		          json_integer_value(json_object_get(l, "required")) == 5 &&
		          h_str_eq(json_string_value(json_object_get(l, "from")), "2026-12-15"),
		      "fields of the warning line");
	}
	json_decref(l);
	gauges_t g = scrape(&p);
	/* the rise is 14 days away less the seconds caad has run (a generous hour) */
	CHECK(g.remotes == 4 && g.min_remotes == 4 && g.warning == 1 && g.rise_s <= 14 * DAY &&
	          g.rise_s > 14 * DAY - 3600,
	      "gauges %g %g %g %g", g.remotes, g.min_remotes, g.rise_s, g.warning);
	stop(&p);

	/* 2026-12-14T23:59:58Z with 4: starts, warns; two seconds later the minimum
	 * is 5, and caad says so in its log without waiting for the next day */
	start(&p, config(4, NULL), DEC14_235958);
	l = h_log_find(&p, "schedule warning", NULL, NULL, 0);
	CHECK(l != NULL, "no \"schedule warning\" line at start");
	if (l != NULL) {
		const char *w = json_string_value(json_object_get(l, "warning"));
		CHECK(w && strstr(w, "require 5 from 2026-12-15 (00:00 UTC, in less than a day)"),
		      "warning \"%s\"", h_str(w));
	}
	json_decref(l);
	/* before the date the gauges warn; after it they show the shortfall: which
	 * of the two this scrape sees depends on how fast this machine is */
	g = scrape(&p);
	CHECK(g.remotes == 4 &&
	          ((g.min_remotes == 4 && g.warning == 1 && g.rise_s >= 1 && g.rise_s <= 2) ||
	           (g.min_remotes == 5 && g.warning == 0 && g.rise_s == 0)),
	      "gauges %g %g %g %g", g.remotes, g.min_remotes, g.rise_s, g.warning);
	l = h_log_find(&p, "schedule not met", NULL, NULL, 30000);
	CHECK(l != NULL, "no \"schedule not met\" line once 2026-12-15 passed");
	if (l != NULL) {
		CHECK_STR(json_string_value(json_object_get(l, "error")),
		          "During secondary validation: 4 remote perspectives configured, the "
		          "Baseline Requirements require 5 from 2026-12-15");
		CHECK(json_integer_value(json_object_get(l, "required")) == 5, "required");
	}
	json_decref(l);
	g = scrape(&p);
	CHECK(g.remotes == 4 && g.min_remotes == 5 && g.warning == 0 && g.rise_s == 0,
	      "gauges after the date %g %g %g %g", g.remotes, g.min_remotes, g.rise_s, g.warning);
	stop(&p);

	/* 5 remotes: nothing ahead; an integer override: the integer, no schedule */
	start(&p, config(5, NULL), DEC14_235958);
	g = scrape(&p);
	CHECK(g.remotes == 5 && (g.min_remotes == 4 || g.min_remotes == 5) && g.warning == 0 &&
	          g.rise_s == 0,
	      "5 remotes: gauges %g %g %g %g", g.remotes, g.min_remotes, g.rise_s, g.warning);
	CHECK(h_log_count(&p, "schedule warning") == 0, "5 remotes warned");
	stop(&p);
	start(&p, config(2, json_integer(2)), DEC15 - DAY);
	g = scrape(&p);
	CHECK(g.remotes == 2 && g.min_remotes == 2 && g.warning == 0 && g.rise_s == 0,
	      "min_remotes 2: gauges %g %g %g %g", g.remotes, g.min_remotes, g.rise_s, g.warning);
	CHECK(h_log_count(&p, "schedule warning") == 0, "an override warned");
	stop(&p);
	/* single-perspective */
	start(&p, config(0, NULL), DEC15 - DAY);
	g = scrape(&p);
	CHECK(g.remotes == 0 && g.min_remotes == 0 && g.warning == 0 && g.rise_s == 0,
	      "no remotes: gauges %g %g %g %g", g.remotes, g.min_remotes, g.rise_s, g.warning);
	stop(&p);
}

/*
 * schedule_running — NOT registered in tests/server/CMakeLists.txt yet: it
 * needs primary mode (the corroboration path calls caad_schedule_check()
 * before asking the remotes). The lead enables it after the merge.
 *
 * caad starts at 2026-12-14T23:59:58Z with 4 remotes (nobody listening);
 * once 2026-12-15 has passed, a check that permits locally fails with the §9
 * serverInternal problem — never PERMITTED — and no remote is asked; a
 * check that the local DNS forbids is FORBIDDEN as before. (DoCAA and
 * CheckOrder take the same path; t_rpc.c's boulder_decode reads DoCAA's
 * answer if the lead wants them here too.)
 */
void case_schedule_running_prepare(void)
{
	set_clock(DEC14_235958); /* before grpc_init: its threads read the environment */
}

void case_schedule_running(void)
{
	caad_proc_t p;
	grpc_channel *ch;
	json_t *cfg = config(4, NULL);
	t_start(&p, cfg, &ch);
	json_t *l = h_log_find(&p, "schedule not met", NULL, NULL, 30000);
	CHECK(l != NULL, "no \"schedule not met\" line once 2026-12-15 passed");
	json_decref(l);

	static const char detail[] = "During secondary validation: 4 remote perspectives "
	                             "configured, the Baseline Requirements require 5 from "
	                             "2026-12-15";
	creq_t r;
	creq(&r, "issue-permit.lab");
	Caa__V1__CheckResponse *m = t_check(ch, &r);
	if (m != NULL) {
		CHECK(m->verdict == CAA__V1__VERDICT__LOOKUP_FAILED, "verdict %d", (int)m->verdict);
		CHECK(m->problem != NULL, "no problem");
		if (m->problem != NULL) {
			CHECK_STR(m->problem->type, "urn:ietf:params:acme:error:serverInternal");
			CHECK(m->problem->status == 500, "status %d", (int)m->problem->status);
			CHECK_STR(m->problem->detail, detail);
		}
		protobuf_c_message_free_unpacked(&m->base, NULL);
	}
	/* the local check decides first: a refusal is the local refusal */
	creq(&r, "www.issue-deny.lab");
	m = t_check(ch, &r);
	if (m != NULL) {
		CHECK(m->verdict == CAA__V1__VERDICT__FORBIDDEN, "verdict %d", (int)m->verdict);
		protobuf_c_message_free_unpacked(&m->base, NULL);
	}
	t_stop(&p, ch);
}
