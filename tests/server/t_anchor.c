/*
 * t_anchor.c — interop with Boulder (docs/semantics.md §9): Boulder's own
 * single-perspective DoCAA, the anchor binary (boulder-caa-anchor: what each
 * Boulder remote VA serves), as the remote
 * perspectives of a caad primary; and a caad in remote mode read by Boulder's
 * generated client (the anchor's caa-loadgen -probe).
 *
 * The anchors resolve through the lab's validating unbound daemon, which the
 * server tests' lab fixture does not start (lab.sh resolver starts it here;
 * this case stops it again if it started it). Every anchor and caad runs on
 * 127.0.0.1 port 0 and is stopped by PID.
 *
 * The anchor is an optional tool from outside this repository (Boulder's CAA
 * service built on its own, docs/benchmarks.md): CAAD_BOULDER_ANCHOR names it;
 * without that variable, a checkout beside the source tree is tried,
 * SOURCE/../shared/anchors/boulder/bin/boulder-caa-anchor. caa-loadgen is taken
 * from the same directory. Without the anchor the cases SKIP (exit 77). anchor_remotes also reports
 * SKIP (after testing the anchors alone) while caad refuses perspective.remotes.
 */
#include <fcntl.h>
#include <libgen.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cases.h"

extern char **environ;

#define ISSUER_OTHER "other-ca.example"
#define TYPE_CAA     "urn:ietf:params:acme:error:caa"
#define TYPE_SERVER  "urn:ietf:params:acme:error:serverInternal"
#define SECONDARY    "During secondary validation: "

static char anchor_bin[1024], loadgen_bin[1024];
static char resolver[64];      /* the lab resolver, host:port */
static pid_t resolver_started; /* its pid when this case started it */
static bool no_primary;        /* caad refuses perspective.remotes (no primary mode yet) */

/* One anchor process: how the primary is configured for it, and what it says. */
typedef struct anchor {
	const char *name, *rir; /* configured at the primary */
	const char *says_name;  /* -perspective, if not name */
	const char *says_rir;   /* -rir, if not rir */
	const char *issuer;     /* -issuer-domain, if not the lab CA's */
	pid_t pid;
	char addr[64];
} anchor_t;

static anchor_t anchors[] = {
    {.name = "remote-1", .rir = "ARIN"},
    {.name = "remote-2", .rir = "RIPE"},
    {.name = "remote-3", .rir = "APNIC"},
    {.name = "remote-4", .rir = "RIPE"},
    {.name = "remote-5", .rir = "LACNIC"},
    /* answers under another perspective name */
    {.name = "remote-6", .rir = "ARIN", .says_name = "someone-else"},
    /* answers under another RIR */
    {.name = "remote-7", .rir = "APNIC", .says_rir = "AFRINIC"},
    /* a CA the lab's records do not name: refuses what the primary permits */
    {.name = "remote-8", .rir = "ARIN", .issuer = ISSUER_OTHER},
    {.name = "remote-9", .rir = "RIPE", .issuer = ISSUER_OTHER},
};
#define N_ANCHORS (sizeof(anchors) / sizeof(anchors[0]))

static bool executable(const char *path)
{
	return access(path, X_OK) == 0;
}

/* The anchor and its load generator, or h_skip. */
static void find_binaries(void)
{
	const char *env = getenv("CAAD_BOULDER_ANCHOR");
	if (env != NULL && *env != '\0')
		snprintf(anchor_bin, sizeof(anchor_bin), "%s", env);
	else /* optional, outside the repository: see the top of this file */
		snprintf(anchor_bin, sizeof(anchor_bin),
		         "%s/../shared/anchors/boulder/bin/boulder-caa-anchor", h_source);
	char dir[1024];
	snprintf(dir, sizeof(dir), "%s", anchor_bin);
	snprintf(loadgen_bin, sizeof(loadgen_bin), "%s/caa-loadgen", dirname(dir));
	static char why[1200];
	if (!executable(anchor_bin)) {
		snprintf(why, sizeof(why), "no Boulder anchor at %s (set CAAD_BOULDER_ANCHOR)",
		         anchor_bin);
		h_skip = why;
	} else if (!executable(loadgen_bin)) {
		snprintf(why, sizeof(why), "no caa-loadgen next to the anchor: %s", loadgen_bin);
		h_skip = why;
	}
}

void case_anchor_prepare(void)
{
	find_binaries();
}

/* The lab's resolver address from its manifest (lab.json). */
static void read_resolver(void)
{
	char path[512];
	snprintf(path, sizeof(path), "%s/lab.json", h_lab);
	json_t *m = json_load_file(path, 0, NULL);
	size_t i;
	json_t *s;
	json_array_foreach(json_object_get(m, "servers"), i, s)
	{
		if (h_str_eq(json_string_value(json_object_get(s, "kind")), "resolver"))
			snprintf(resolver, sizeof(resolver), "%s:53",
			         json_string_value(json_object_get(s, "address")));
	}
	json_decref(m);
}

static pid_t resolver_pid(void)
{
	char path[512];
	snprintf(path, sizeof(path), "%s/resolver.pid", h_lab);
	char *t = h_slurp(path);
	pid_t pid = t ? (pid_t)atoi(t) : 0;
	free(t);
	return pid > 0 && kill(pid, 0) == 0 ? pid : 0;
}

static json_t *remotes_json(const size_t *idx, size_t n)
{
	json_t *a = json_array();
	for (size_t i = 0; i < n; i++) {
		const anchor_t *r = &anchors[idx[i]];
		json_array_append_new(a,
		                      json_pack("{s:s, s:s, s:s}", "name", r->name, "rir", r->rir,
		                                "address", r->addr[0] ? r->addr : "127.0.0.1:1"));
	}
	return a;
}

static json_t *primary_config(const size_t *idx, size_t n)
{
	json_t *cfg = h_lab_config();
	json_object_set_new(cfg, "perspective",
	                    json_pack("{s:s, s:s, s:o, s:s}", "name", "primary", "rir", "ARIN",
	                              "remotes", remotes_json(idx, n), "remote_timeout", "5s"));
	return cfg;
}

void case_anchor_remotes_prepare(void)
{
	find_binaries();
	if (h_skip != NULL)
		return;
	read_resolver();
	if (resolver[0] == '\0') {
		fprintf(stderr, "FAIL: the lab names no resolver (%s/lab.json)\n", h_lab);
		exit(1);
	}
	pid_t before = resolver_pid();
	if (h_run("'%s/tests/server/lab.sh' resolver '%s' >'%s/resolver.out' 2>&1", h_source, h_lab,
	          h_tmp) != 0) {
		fprintf(stderr, "FAIL: the lab's resolver did not start\n");
		h_run("cat '%s/resolver.out' >&2", h_tmp);
		exit(1);
	}
	if (before == 0)
		resolver_started = resolver_pid();
	/* Until primary mode lands, caad refuses remotes at start with this text. */
	static const size_t five[] = {0, 1, 2, 3, 4};
	json_t *cfg = primary_config(five, 5);
	const char *path = h_write_config(cfg, "primary-check.json");
	json_decref(cfg);
	no_primary =
	    h_run("'%s' --check-config '%s' 2>&1 | grep -q 'not supported by this caad yet'",
	          h_caad, path) == 0;
}

static pid_t spawn_logged(char *const argv[], const char *out, const char *err)
{
	posix_spawn_file_actions_t fa;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_addopen(&fa, 1, out, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	posix_spawn_file_actions_addopen(&fa, 2, err, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	pid_t pid;
	int rc = posix_spawn(&pid, argv[0], &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	if (rc != 0) {
		fprintf(stderr, "cannot run %s: %s\n", argv[0], strerror(rc));
		return -1;
	}
	return pid;
}

/* SIGTERM (the anchor stops gracefully within 5 s), SIGKILL after 10 s. */
static void stop_anchor(anchor_t *a)
{
	if (a->pid <= 0)
		return;
	kill(a->pid, SIGTERM);
	double end = h_now_ms() + 10000;
	while (waitpid(a->pid, NULL, WNOHANG) == 0) {
		if (h_now_ms() > end) {
			kill(a->pid, SIGKILL);
			waitpid(a->pid, NULL, 0);
			break;
		}
		usleep(10000);
	}
	a->pid = 0;
	a->addr[0] = '\0';
}

/* On any exit (t_start exits on a caad that does not start): no anchor outlives the test. */
static void kill_anchors(void)
{
	for (size_t i = 0; i < N_ANCHORS; i++)
		if (anchors[i].pid > 0)
			kill(anchors[i].pid, SIGKILL);
}

static void start_anchor(anchor_t *a)
{
	char out[512], err[512];
	snprintf(out, sizeof(out), "%s/%s.out", h_tmp, a->name);
	snprintf(err, sizeof(err), "%s/%s.err", h_tmp, a->name);
	char *argv[] = {anchor_bin,
	                "-perspective",
	                (char *)(a->says_name ? a->says_name : a->name),
	                "-rir",
	                (char *)(a->says_rir ? a->says_rir : a->rir),
	                "-listen",
	                "127.0.0.1:0",
	                "-resolver",
	                resolver,
	                "-issuer-domain",
	                (char *)(a->issuer ? a->issuer : "ca.example"),
	                "-account-uri-prefix",
	                "https://ca.example/acme/acct/",
	                "-dns-timeout",
	                "5s",
	                NULL};
	a->pid = spawn_logged(argv, out, err);
	static const char mark[] = "serving va.CAA on ";
	for (double end = h_now_ms() + 20000; a->pid > 0 && h_now_ms() < end; usleep(20000)) {
		char *t = h_slurp(err);
		const char *at = t ? strstr(t, mark) : NULL;
		if (at != NULL && sscanf(at + strlen(mark), "%63s", a->addr) == 1) {
			free(t);
			return;
		}
		free(t);
		if (waitpid(a->pid, NULL, WNOHANG) == a->pid) {
			a->pid = 0;
			break;
		}
	}
	fprintf(stderr, "FAIL: anchor %s did not start; its stderr:\n", a->name);
	h_run("cat '%s' >&2", err);
	exit(1);
}

/* caa-loadgen -probe: one DoCAA through Boulder's generated client; its JSON
 * answer ({"has_problem", "problem_type", "detail", "http_status",
 * "perspective", "rir"}, or {"code", "message"} on an RPC error), or NULL. */
static json_t *probe(const char *target, const char *name, const char *account, const char *wire)
{
	char out[512], err[512];
	snprintf(out, sizeof(out), "%s/probe.out", h_tmp);
	snprintf(err, sizeof(err), "%s/probe.err", h_tmp);
	char *argv[] = {loadgen_bin, "-target",    (char *)target, "-probe",
	                "-pattern",  (char *)name, "-account",     (char *)account,
	                "-wire",     (char *)wire, "-timeout",     "15s",
	                NULL};
	pid_t pid = spawn_logged(argv, out, err);
	if (pid < 0)
		return NULL;
	waitpid(pid, NULL, 0); /* bounded by -timeout */
	json_t *j = json_load_file(out, JSON_DISABLE_EOF_CHECK, NULL);
	if (j == NULL) {
		fprintf(stderr, "caa-loadgen -probe %s %s gave no JSON:\n", target, name);
		h_run("cat '%s' '%s' >&2", out, err);
	}
	return j;
}

static const char *jstr(const json_t *j, const char *key)
{
	return json_string_value(json_object_get(j, key));
}

/* The probe's answer names its perspective and RIR, and permits or refuses. */
static void expect_probe(const char *target, const char *name, const char *account,
                         const char *wire, const char *persp, const char *rir, bool permitted)
{
	json_t *j = probe(target, name, account, wire);
	CHECK(j != NULL && jstr(j, "code") == NULL, "probe %s %s (wire %s): %s %s", target, name,
	      wire, h_str(jstr(j, "code")), h_str(jstr(j, "message")));
	if (j == NULL)
		return;
	CHECK(json_is_true(json_object_get(j, "has_problem")) == !permitted,
	      "probe %s %s: has_problem %s, want %s (%s)", target, name,
	      json_is_true(json_object_get(j, "has_problem")) ? "true" : "false",
	      permitted ? "false" : "true", h_str(jstr(j, "detail")));
	CHECK(h_str_eq(jstr(j, "perspective"), persp) && h_str_eq(jstr(j, "rir"), rir),
	      "probe %s %s: perspective %s rir %s, want %s %s", target, name,
	      h_str(jstr(j, "perspective")), h_str(jstr(j, "rir")), persp, rir);
	json_decref(j);
}

/* ---- caad in remote mode, read by Boulder's client ---- */

void case_anchor_loadgen(void)
{
	caad_proc_t p;
	grpc_channel *ch;
	json_t *cfg = h_lab_config();
	json_object_set_new(cfg, "perspective",
	                    json_pack("{s:s, s:s}", "name", "caad-east", "rir", "RIPE"));
	t_start(&p, cfg, &ch);
	static const char *const wires[] = {"both", "new", "old"};
	for (size_t w = 0; w < 3; w++) {
		expect_probe(p.target, "issue-permit.lab", "1", wires[w], "caad-east", "RIPE",
		             true);
		expect_probe(p.target, "*.wild1.lab", "1", wires[w], "caad-east", "RIPE", true);
	}
	/* accountURIID: acct.lab names .../acct/1 */
	expect_probe(p.target, "acct.lab", "1", "new", "caad-east", "RIPE", true);
	expect_probe(p.target, "acct.lab", "2", "new", "caad-east", "RIPE", false);

	/* a refusal as Boulder's RA reads it: short type, status, Boulder's detail */
	json_t *j = probe(p.target, "www.issue-deny.lab", "1", "both");
	CHECK(j && json_is_true(json_object_get(j, "has_problem")) &&
	          h_str_eq(jstr(j, "problem_type"), "caa") &&
	          json_integer_value(json_object_get(j, "http_status")) == 403 &&
	          h_str_eq(jstr(j, "detail"), "While processing CAA for www.issue-deny.lab: CAA "
	                                      "record for issue-deny.lab prevents issuance") &&
	          h_str_eq(jstr(j, "perspective"), "caad-east") && h_str_eq(jstr(j, "rir"), "RIPE"),
	      "refusal: %s %s \"%s\"", h_str(jstr(j, "problem_type")),
	      h_str(jstr(j, "perspective")), h_str(jstr(j, "detail")));
	json_decref(j);
	j = probe(p.target, "a.servfail.lab", "1", "both");
	CHECK(j && h_str_eq(jstr(j, "problem_type"), "dns") &&
	          json_integer_value(json_object_get(j, "http_status")) == 400 &&
	          h_str_eq(jstr(j, "perspective"), "caad-east"),
	      "servfail: %s \"%s\"", h_str(jstr(j, "problem_type")), h_str(jstr(j, "detail")));
	json_decref(j);
	t_stop(&p, ch);
}

/* ---- a caad primary with anchor remotes ---- */

static Caa__V1__CheckResponse *check_as(grpc_channel *ch, const char *name, const char *account)
{
	creq_t r;
	creq(&r, name);
	if (account != NULL)
		r.m.account_uri = (char *)account;
	return t_check(ch, &r);
}

/* The response lists the primary's remotes in configured order. */
static bool expect_names(const Caa__V1__CheckResponse *m, const size_t *idx, size_t n,
                         const char *what)
{
	CHECK(m->n_perspectives == n, "%s: %zu perspectives, want %zu", what, m->n_perspectives, n);
	if (m->n_perspectives != n)
		return false;
	for (size_t i = 0; i < n; i++) {
		const Caa__V1__Perspective *pp = m->perspectives[i];
		CHECK(h_str_eq(pp->name, anchors[idx[i]].name) &&
		          h_str_eq(pp->rir, anchors[idx[i]].rir),
		      "%s: perspectives[%zu] %s %s, want %s %s", what, i, h_str(pp->name),
		      h_str(pp->rir), anchors[idx[i]].name, anchors[idx[i]].rir);
	}
	return true;
}

static void expect_corroborated(grpc_channel *ch, const char *name, const size_t *idx, size_t n)
{
	Caa__V1__CheckResponse *m = check_as(ch, name, NULL);
	if (m == NULL)
		return;
	CHECK(m->verdict == CAA__V1__VERDICT__PERMITTED && m->problem == NULL, "%s: verdict %d %s",
	      name, m->verdict, m->problem ? h_str(m->problem->detail) : "");
	/* Every anchor that answered corroborated; the quorum (n - 1 of 2-5) can
	 * be certain before the last answers, which is then not needed (no verdict). */
	if (expect_names(m, idx, n, name)) {
		size_t ok = 0;
		for (size_t i = 0; i < n; i++) {
			const Caa__V1__Perspective *pp = m->perspectives[i];
			ok += pp->verdict == CAA__V1__VERDICT__PERMITTED;
			CHECK((pp->verdict == CAA__V1__VERDICT__PERMITTED ||
			       pp->verdict == CAA__V1__VERDICT__VERDICT_UNSPECIFIED) &&
			          pp->problem == NULL,
			      "%s: %s verdict %d %s", name, pp->name, pp->verdict,
			      pp->problem ? h_str(pp->problem->detail) : "");
		}
		CHECK(ok >= n - 1, "%s: %zu of %zu corroborated", name, ok, n);
	}
	protobuf_c_message_free_unpacked(&m->base, NULL);
}

/* Refused locally: nobody else was asked. */
static void expect_local_refusal(grpc_channel *ch, const char *name, const char *account)
{
	Caa__V1__CheckResponse *m = check_as(ch, name, account);
	if (m == NULL)
		return;
	CHECK(m->verdict == CAA__V1__VERDICT__FORBIDDEN && m->problem &&
	          h_str_eq(m->problem->type, TYPE_CAA) && m->n_perspectives == 0,
	      "%s: verdict %d, %zu perspectives (want FORBIDDEN locally, none)", name, m->verdict,
	      m->n_perspectives);
	protobuf_c_message_free_unpacked(&m->base, NULL);
}

/* A remote's own answer: a caa refusal as Boulder gives it (type "caa", no
 * httpStatus) reaches the response as the full URN with 403. */
static void expect_remote_refusal(const Caa__V1__Perspective *pp, const char *ident)
{
	char want[256];
	snprintf(want, sizeof(want),
	         "While processing CAA for %s: CAA record for %s prevents issuance", ident, ident);
	CHECK(pp->verdict == CAA__V1__VERDICT__FORBIDDEN && pp->problem &&
	          h_str_eq(pp->problem->type, TYPE_CAA) && pp->problem->status == 403 &&
	          strstr(h_str(pp->problem->detail), want) != NULL,
	      "%s: verdict %d problem %s %d \"%s\" (want FORBIDDEN %s 403 \"...%s\")",
	      h_str(pp->name), pp->verdict, pp->problem ? h_str(pp->problem->type) : "-",
	      pp->problem ? pp->problem->status : 0, pp->problem ? h_str(pp->problem->detail) : "",
	      TYPE_CAA, want);
}

/* A remote that answered as someone else: serverInternal naming both. */
static void expect_mismatch(const Caa__V1__Problem *pr, const char *remote, const char *said,
                            const char *configured, const char *what)
{
	char who[128];
	snprintf(who, sizeof(who), "remote perspective %s ", remote);
	const char *d = pr ? h_str(pr->detail) : "";
	CHECK(pr && h_str_eq(pr->type, TYPE_SERVER) && pr->status == 500 && strstr(d, who) &&
	          strstr(d, "reported") && strstr(d, said) && strstr(d, configured),
	      "%s: problem %s %d \"%s\" (want %s 500 naming %s, %s and %s)", what,
	      pr ? h_str(pr->type) : "-", pr ? pr->status : 0, d, TYPE_SERVER, remote, said,
	      configured);
}

static void start_primary(caad_proc_t *p, grpc_channel **ch, const size_t *idx, size_t n)
{
	t_start(p, primary_config(idx, n), ch);
}

static void primary_cases(void);

void case_anchor_remotes(void)
{
	atexit(kill_anchors);
	for (size_t i = 0; i < N_ANCHORS; i++)
		start_anchor(&anchors[i]);

	/* The anchors alone (Boulder's client, Boulder's server, the lab's resolver):
	 * each answers as it was told to, and the lab's names as the lab says. */
	for (size_t i = 0; i < N_ANCHORS; i++) {
		const anchor_t *a = &anchors[i];
		expect_probe(a->addr, "issue-permit.lab", "1", "both",
		             a->says_name ? a->says_name : a->name,
		             a->says_rir ? a->says_rir : a->rir, a->issuer == NULL);
	}
	expect_probe(anchors[0].addr, "www.issue-deny.lab", "1", "new", "remote-1", "ARIN", false);
	expect_probe(anchors[0].addr, "*.wild1.lab", "1", "new", "remote-1", "ARIN", true);
	expect_probe(anchors[0].addr, "acct.lab", "1", "new", "remote-1", "ARIN", true);
	expect_probe(anchors[0].addr, "acct.lab", "2", "new", "remote-1", "ARIN", false);

	if (!no_primary && h_failures == 0)
		primary_cases();

	for (size_t i = 0; i < N_ANCHORS; i++)
		stop_anchor(&anchors[i]);
	if (resolver_started > 0) {
		kill(resolver_started, SIGTERM);
		for (int i = 0; i < 500 && kill(resolver_started, 0) == 0; i++)
			usleep(10000);
		char path[512];
		snprintf(path, sizeof(path), "%s/resolver.pid", h_lab);
		unlink(path);
	}
	if (no_primary)
		h_skip = "caad refuses perspective.remotes (no primary mode yet): only the anchors "
		         "were tested";
}

static void primary_cases(void)
{
	caad_proc_t p;
	grpc_channel *ch;
	Caa__V1__CheckResponse *m;

	/* Five honest anchors in four RIRs: every one corroborates. The wildcard
	 * (wild1.lab allows issuewild only) and the account (acct.lab names
	 * .../acct/1) reach them unchanged, or they would refuse. */
	static const size_t honest[] = {0, 1, 2, 3, 4};
	start_primary(&p, &ch, honest, 5);
	expect_corroborated(ch, "issue-permit.lab", honest, 5);
	expect_corroborated(ch, "*.wild1.lab", honest, 5);
	expect_corroborated(ch, "acct.lab", honest, 5);
	expect_local_refusal(ch, "www.issue-deny.lab", NULL);
	expect_local_refusal(ch, "acct.lab", "https://ca.example/acme/acct/2");

	/* Two anchors gone: the quorum fails closed, with the first of them in
	 * configured order (unreachable or past remote_timeout: either text).
	 * A name not asked before: a corroborated one is answered from the reuse
	 * cache without remotes. */
	stop_anchor(&anchors[3]);
	stop_anchor(&anchors[1]);
	m = check_as(ch, "a.b.issue-permit.lab", NULL);
	if (m) {
		CHECK(m->verdict == CAA__V1__VERDICT__LOOKUP_FAILED && m->problem &&
		          h_str_eq(m->problem->type, TYPE_SERVER) && m->problem->status == 500 &&
		          strncmp(h_str(m->problem->detail),
		                  SECONDARY "remote perspective remote-2 ",
		                  strlen(SECONDARY "remote perspective remote-2 ")) == 0,
		      "two remotes down: verdict %d \"%s\"", m->verdict,
		      m->problem ? h_str(m->problem->detail) : "");
		if (expect_names(m, honest, 5, "two remotes down"))
			CHECK(m->perspectives[1]->verdict != CAA__V1__VERDICT__PERMITTED &&
			          m->perspectives[3]->verdict != CAA__V1__VERDICT__PERMITTED,
			      "stopped remotes corroborated");
		protobuf_c_message_free_unpacked(&m->base, NULL);
	}
	t_stop(&p, ch);
	start_anchor(&anchors[1]);
	start_anchor(&anchors[3]);

	/* One Boulder refusal among five is tolerated (2-5 remotes: 1). */
	static const size_t one_refuses[] = {0, 1, 2, 3, 7};
	start_primary(&p, &ch, one_refuses, 5);
	m = check_as(ch, "issue-permit.lab", NULL);
	if (m) {
		CHECK(m->verdict == CAA__V1__VERDICT__PERMITTED,
		      "one refusal of five: verdict %d %s", m->verdict,
		      m->problem ? h_str(m->problem->detail) : "");
		expect_names(m, one_refuses, 5, "one refusal of five");
		protobuf_c_message_free_unpacked(&m->base, NULL);
	}
	t_stop(&p, ch);

	/* Two refusals: FORBIDDEN with the first refusing remote's problem in
	 * configured order (remote-8), its detail prefixed, type and status kept. */
	static const size_t two_refuse[] = {0, 7, 1, 8, 2};
	start_primary(&p, &ch, two_refuse, 5);
	m = check_as(ch, "issue-permit.lab", NULL);
	if (m) {
		CHECK(m->verdict == CAA__V1__VERDICT__FORBIDDEN && m->problem &&
		          h_str_eq(m->problem->type, TYPE_CAA) && m->problem->status == 403 &&
		          h_str_eq(m->problem->detail, SECONDARY
		                   "While processing CAA for issue-permit.lab: CAA record "
		                   "for issue-permit.lab prevents issuance"),
		      "two refusals: verdict %d %s %d \"%s\"", m->verdict,
		      m->problem ? h_str(m->problem->type) : "-",
		      m->problem ? m->problem->status : 0,
		      m->problem ? h_str(m->problem->detail) : "");
		if (expect_names(m, two_refuse, 5, "two refusals")) {
			expect_remote_refusal(m->perspectives[1], "issue-permit.lab");
			expect_remote_refusal(m->perspectives[3], "issue-permit.lab");
		}
		protobuf_c_message_free_unpacked(&m->base, NULL);
	}
	t_stop(&p, ch);

	/* An anchor answering under another name, then under another RIR (each
	 * beside a refusal, so that its answer decides): the mismatch is that
	 * perspective's problem and, first in configured order, the response's. */
	static const size_t name_mismatch[] = {0, 5, 1, 8, 2};
	static const size_t rir_mismatch[] = {0, 6, 1, 8, 2};
	static const struct {
		const size_t *idx;
		const char *said, *configured, *what;
	} mm[] = {
	    {name_mismatch, "someone-else", "remote-6", "name mismatch"},
	    {rir_mismatch, "AFRINIC", "APNIC", "RIR mismatch"},
	};
	for (size_t k = 0; k < 2; k++) {
		start_primary(&p, &ch, mm[k].idx, 5);
		m = check_as(ch, "issue-permit.lab", NULL);
		if (m) {
			const char *remote = anchors[mm[k].idx[1]].name;
			CHECK(m->verdict == CAA__V1__VERDICT__LOOKUP_FAILED, "%s: verdict %d",
			      mm[k].what, m->verdict);
			expect_mismatch(m->problem, remote, mm[k].said, mm[k].configured,
			                mm[k].what);
			CHECK(m->problem && strncmp(h_str(m->problem->detail), SECONDARY,
			                            strlen(SECONDARY)) == 0,
			      "%s: \"%s\" lacks the prefix", mm[k].what,
			      m->problem ? h_str(m->problem->detail) : "");
			if (expect_names(m, mm[k].idx, 5, mm[k].what)) {
				const Caa__V1__Perspective *pp = m->perspectives[1];
				CHECK(pp->verdict == CAA__V1__VERDICT__LOOKUP_FAILED,
				      "%s: %s verdict %d", mm[k].what, remote, pp->verdict);
				expect_mismatch(pp->problem, remote, mm[k].said, mm[k].configured,
				                mm[k].what);
				expect_remote_refusal(m->perspectives[3], "issue-permit.lab");
			}
			protobuf_c_message_free_unpacked(&m->base, NULL);
		}
		t_stop(&p, ch);
	}
}
