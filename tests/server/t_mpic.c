/*
 * t_mpic.c — multi-perspective corroboration (docs/semantics.md §9) with real caads
 * over sockets: remote caads (each its own process and resolver), stand-ins
 * for remotes that refuse connections or never answer, and a primary whose
 * perspective.remotes lists them. What each case pins is in its comment.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "cases.h"
#include "va/va.pb-c.h"

#define MAX_REMOTES 8
#define TIMEOUT     "1s" /* remote_timeout of the primaries here */

/* What stands at a configured remote's address. */
typedef enum kind {
	CAAD,     /* a caad answering as configured */
	REFUSED,  /* nothing listens: connection refused */
	SILENT,   /* accepts, never answers */
	OTHER,    /* a caad answering under another name (MISMATCH) */
	OTHER_RIR /* a caad answering under another RIR */
} kind_t;

typedef struct remote {
	const char *name, *rir;
	kind_t kind;
	const char *unbound_conf; /* NULL: the lab's own view */
	bool mtls;                /* serves mTLS (h_tmp's server cert, client_ca, client_names) */
	const char *client;       /* the primary's client cert for it (h_tmp/<client>.pem);
	                           * with mtls, NULL = TLS without a client cert */
	caad_proc_t p;
	int fd; /* SILENT: the listening socket */
	int port;
	bool running;
} remote_t;

typedef struct topo {
	remote_t r[MAX_REMOTES];
	size_t n;
	caad_proc_t primary;
	grpc_channel *ch;
} topo_t;

/* A loopback port nothing listens on (bound, then closed) or, keep, a
 * listening socket that never accepts: the kernel completes the handshake
 * and the client's HTTP/2 preface goes unanswered. */
static int loopback_port(bool keep, int *fd_out)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t len = sizeof(a);
	if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof(a)) != 0 ||
	    getsockname(fd, (struct sockaddr *)&a, &len) != 0 || (keep && listen(fd, 64) != 0)) {
		fprintf(stderr, "FAIL: no loopback socket\n");
		exit(1);
	}
	if (keep)
		*fd_out = fd;
	else
		close(fd);
	return ntohs(a.sin_port);
}

static void remote_start(remote_t *r)
{
	r->fd = -1;
	if (r->kind == REFUSED || r->kind == SILENT) {
		r->port = loopback_port(r->kind == SILENT, &r->fd);
		return;
	}
	json_t *cfg = h_lab_config();
	const char *name = r->kind == OTHER ? "impostor" : r->name;
	const char *rir =
	    r->kind == OTHER_RIR ? (strcmp(r->rir, "AFRINIC") ? "AFRINIC" : "ARIN") : r->rir;
	json_object_set_new(cfg, "perspective", json_pack("{s:s, s:s}", "name", name, "rir", rir));
	if (r->unbound_conf != NULL)
		json_object_set_new(json_object_get(cfg, "dns"), "unbound_conf",
		                    json_string(r->unbound_conf));
	if (r->mtls) {
		char cert[512], key[512], ca[512];
		snprintf(cert, sizeof(cert), "%s/server.pem", h_tmp);
		snprintf(key, sizeof(key), "%s/server.key", h_tmp);
		snprintf(ca, sizeof(ca), "%s/ca.pem", h_tmp);
		json_object_set_new(cfg, "tls",
		                    json_pack("{s:s, s:s, s:s, s:[s]}", "cert", cert, "key", key,
		                              "client_ca", ca, "client_names",
		                              "primary.ca.example"));
	}
	if (h_start(&r->p, cfg) != 0) {
		fprintf(stderr, "FAIL: remote caad %s did not start\n", r->name);
		exit(1);
	}
	json_decref(cfg);
	r->port = r->p.port;
	r->running = true;
}

/* The primary's config over t's remotes (in order), with min_remotes = n. */
static json_t *primary_config(const topo_t *t)
{
	json_t *list = json_array();
	for (size_t i = 0; i < t->n; i++) {
		char addr[32];
		snprintf(addr, sizeof(addr), "127.0.0.1:%d", t->r[i].port);
		json_t *r = json_pack("{s:s, s:s, s:s}", "name", t->r[i].name, "rir", t->r[i].rir,
		                      "address", addr);
		if (t->r[i].mtls) {
			char ca[512], cert[512], key[512];
			snprintf(ca, sizeof(ca), "%s/ca.pem", h_tmp);
			json_t *tls = json_pack("{s:s, s:s}", "ca", ca, "server_name", "localhost");
			if (t->r[i].client != NULL) {
				snprintf(cert, sizeof(cert), "%s/%s.pem", h_tmp, t->r[i].client);
				snprintf(key, sizeof(key), "%s/%s.key", h_tmp, t->r[i].client);
				json_object_set_new(tls, "cert", json_string(cert));
				json_object_set_new(tls, "key", json_string(key));
			}
			json_object_set_new(r, "tls", tls);
		}
		json_array_append_new(list, r);
	}
	json_t *cfg = h_lab_config();
	json_object_set_new(cfg, "metrics_listen", json_string("127.0.0.1:0"));
	json_object_set_new(cfg, "perspective",
	                    json_pack("{s:s, s:s, s:o, s:I, s:s}", "name", "primary", "rir", "ARIN",
	                              "remotes", list, "min_remotes", (json_int_t)t->n,
	                              "remote_timeout", TIMEOUT));
	return cfg;
}

static void primary_start(topo_t *t)
{
	t_start(&t->primary, primary_config(t), &t->ch);
}

static void primary_stop(topo_t *t)
{
	t_stop(&t->primary, t->ch);
	t->ch = NULL;
}

/* Start remotes given as {name, rir, kind} and a primary over them. */
static void topo_up(topo_t *t, const remote_t *spec, size_t n)
{
	memset(t, 0, sizeof(*t));
	t->n = n;
	for (size_t i = 0; i < n; i++) {
		t->r[i] = spec[i];
		remote_start(&t->r[i]);
	}
	primary_start(t);
}

static void topo_down(topo_t *t)
{
	if (t->ch != NULL)
		primary_stop(t);
	for (size_t i = 0; i < t->n; i++) {
		if (t->r[i].running) {
			int st = h_stop(&t->r[i].p, SIGTERM, 15000);
			CHECK(st == 0, "remote %s exit status %d", t->r[i].name, st);
			if (h_failures)
				h_log_dump(&t->r[i].p);
			h_free(&t->r[i].p);
		}
		if (t->r[i].fd >= 0)
			close(t->r[i].fd);
	}
}

static const char *outcome(const Caa__V1__CheckResponse *m, size_t i)
{
	return i < m->n_perspectives ? m->perspectives[i]->outcome : NULL;
}

/* The perspectives list names every remote, in configured order. */
static void check_listed(const topo_t *t, const Caa__V1__CheckResponse *m)
{
	CHECK(m->n_perspectives == t->n, "%zu perspectives, want %zu", m->n_perspectives, t->n);
	for (size_t i = 0; i < t->n && i < m->n_perspectives; i++) {
		CHECK_STR(m->perspectives[i]->name, t->r[i].name);
		CHECK_STR(m->perspectives[i]->rir, t->r[i].rir);
	}
}

static size_t corroborated(const Caa__V1__CheckResponse *m)
{
	size_t k = 0;
	for (size_t i = 0; i < m->n_perspectives; i++)
		k += h_str_eq(m->perspectives[i]->outcome, "CORROBORATED");
	return k;
}

static Caa__V1__CheckResponse *check(topo_t *t, const char *ident)
{
	creq_t r;
	creq(&r, ident);
	return t_check(t->ch, &r);
}

static bool starts_with(const char *s, const char *prefix)
{
	return s != NULL && strncmp(s, prefix, strlen(prefix)) == 0;
}

/* A failed quorum: not PERMITTED, reason NOT_CORROBORATED, serverInternal
 * (500) with the detail starting as want. */
static void check_failed(const Caa__V1__CheckResponse *m, const char *want)
{
	CHECK(m->verdict == CAA__V1__VERDICT__LOOKUP_FAILED, "verdict %d", m->verdict);
	CHECK(m->reason == CAA__V1__REASON__NOT_CORROBORATED, "reason %d", m->reason);
	CHECK(m->problem != NULL, "no problem");
	if (m->problem == NULL)
		return;
	CHECK_STR(m->problem->type, "urn:ietf:params:acme:error:serverInternal");
	CHECK(m->problem->status == 500, "status %d", m->problem->status);
	CHECK(starts_with(m->problem->detail, want), "detail \"%s\", want \"%s...\"",
	      m->problem->detail, want);
}

/* clang-format off */
#define SPEC(n_, rir_, k_) {.name = (n_), .rir = (rir_), .kind = (k_)}
/* clang-format on */

/* The quorum table: 2-5 remotes allow 1 non-corroboration, 6+ allow 2; the
 * corroborating remotes must span 2 RIRs; the first failing remote in
 * configured order gives the problem. */
void case_mpic_quorum(void)
{
	static const struct row {
		const char *what;
		size_t n;
		kind_t kinds[MAX_REMOTES];
		bool permitted;
		size_t first_failed; /* configured index whose problem is reported */
	} rows[] = {
	    {"3 remotes, all answer", 3, {CAAD, CAAD, CAAD}, true, 0},
	    {"3 remotes, 1 refuses", 3, {CAAD, REFUSED, CAAD}, true, 0},
	    {"3 remotes, 2 refuse", 3, {CAAD, REFUSED, REFUSED}, false, 1},
	    {"2 remotes, 1 refuses: 1 RIR left", 2, {REFUSED, CAAD}, false, 0},
	    {"5 remotes, 1 refuses", 5, {CAAD, CAAD, CAAD, CAAD, REFUSED}, true, 0},
	    {"5 remotes, 2 refuse", 5, {REFUSED, CAAD, CAAD, REFUSED, CAAD}, false, 0},
	    {"6 remotes, 2 refuse", 6, {CAAD, REFUSED, CAAD, CAAD, REFUSED, CAAD}, true, 0},
	    {"6 remotes, 3 refuse", 6, {CAAD, CAAD, REFUSED, REFUSED, CAAD, REFUSED}, false, 2},
	};
	static const char *const rirs[] = {"ARIN", "RIPE", "APNIC", "LACNIC", "AFRINIC", "RIPE"};
	static const char *const names[] = {"r1", "r2", "r3", "r4", "r5", "r6"};
	/* six caads serve every row; a refusing remote is a closed port */
	remote_t live[6];
	for (size_t i = 0; i < 6; i++) {
		live[i] = (remote_t)SPEC(names[i], rirs[i], CAAD);
		remote_start(&live[i]);
	}
	for (size_t k = 0; k < sizeof(rows) / sizeof(rows[0]); k++) {
		const struct row *row = &rows[k];
		topo_t t;
		memset(&t, 0, sizeof(t));
		t.n = row->n;
		for (size_t i = 0; i < row->n; i++) {
			t.r[i] = live[i];
			t.r[i].running = false; /* stopped below, not per row */
			t.r[i].fd = -1;
			if (row->kinds[i] == REFUSED)
				t.r[i].port = loopback_port(false, NULL);
		}
		primary_start(&t);
		Caa__V1__CheckResponse *m = check(&t, "issue-permit.lab");
		if (m != NULL) {
			check_listed(&t, m);
			if (row->permitted) {
				CHECK(m->verdict == CAA__V1__VERDICT__PERMITTED,
				      "%s: verdict %d (%s)", row->what, m->verdict,
				      m->problem ? m->problem->detail : "");
				CHECK(m->problem == NULL, "%s: a problem", row->what);
				/* only live remotes corroborate, and enough of them did */
				size_t live_n = 0;
				for (size_t i = 0; i < row->n; i++)
					live_n += row->kinds[i] != REFUSED;
				size_t allowed = row->n >= 6 ? 2 : 1;
				CHECK(corroborated(m) <= live_n &&
				          corroborated(m) + allowed >= row->n,
				      "%s: %zu corroborated of %zu live", row->what,
				      corroborated(m), live_n);
				for (size_t i = 0; i < row->n; i++)
					if (row->kinds[i] == REFUSED)
						CHECK(!h_str_eq(outcome(m, i), "CORROBORATED"),
						      "%s: a refusing remote corroborated",
						      row->what);
				/* every refusing remote that was not cancelled is UNREACHABLE */
				for (size_t i = 0; i < row->n; i++)
					if (row->kinds[i] == REFUSED)
						CHECK(h_str_eq(outcome(m, i), "UNREACHABLE") ||
						          h_str_eq(outcome(m, i), "NOT_NEEDED"),
						      "%s: remote %zu outcome %s", row->what, i,
						      h_str(outcome(m, i)));
			} else {
				char want[128];
				snprintf(want, sizeof(want),
				         "During secondary validation: remote perspective %s "
				         "unreachable: "
				         "UNAVAILABLE",
				         names[row->first_failed]);
				check_failed(m, want);
				CHECK_STR(outcome(m, row->first_failed), "UNREACHABLE");
				CHECK(m->problem == NULL ||
				          h_str_eq(m->problem->identifier
				                       ? m->problem->identifier->value
				                       : NULL,
				                   "issue-permit.lab"),
				      "%s: the problem names no identifier", row->what);
			}
			caa__v1__check_response__free_unpacked(m, NULL);
		}
		/* the audit line has every perspective and the quorum */
		json_t *line = h_log_find(&t.primary, "check", NULL, NULL, 5000);
		CHECK(line != NULL && json_is_string(json_object_get(line, "quorum")) &&
		          json_array_size(json_object_get(line, "perspectives")) == row->n,
		      "%s: the audit line lacks perspectives or quorum", row->what);
		json_decref(line);
		t_audit_validate(&t.primary, "primary.log");
		primary_stop(&t);
		if (h_failures) {
			fprintf(stderr, "after row: %s\n", row->what);
			break;
		}
	}
	for (size_t i = 0; i < 6; i++) {
		CHECK(h_stop(&live[i].p, SIGTERM, 15000) == 0, "remote exit status");
		t_audit_validate(&live[i].p, "remote.log"); /* DoCAA lines */
		h_free(&live[i].p);
	}
}

/* All corroborating remotes in one RIR: the quorum fails with the RIR text. */
void case_mpic_rir(void)
{
	static const remote_t spec[] = {SPEC("r1", "RIPE", CAAD), SPEC("r2", "RIPE", CAAD),
	                                SPEC("r3", "RIPE", CAAD)};
	topo_t t;
	topo_up(&t, spec, 3);
	Caa__V1__CheckResponse *m = check(&t, "issue-permit.lab");
	if (m != NULL) {
		check_listed(&t, m);
		check_failed(m,
		             "During secondary validation: corroborating perspectives span fewer "
		             "than 2 RIRs (RIPE)");
		CHECK(corroborated(m) == 3, "%zu corroborated", corroborated(m));
		caa__v1__check_response__free_unpacked(m, NULL);
	}
	topo_down(&t);
}

/* A remote that never answers is a TIMEOUT after remote_timeout; the
 * problem is the first failing remote's in configured order even when a
 * later one failed first (the refusal arrives at once, the silence after
 * 1 s). A remote whose answer is not needed is cancelled: NOT_NEEDED. */
void case_mpic_timeout(void)
{
	static const remote_t spec[] = {SPEC("quiet", "ARIN", SILENT),
	                                SPEC("closed", "RIPE", REFUSED),
	                                SPEC("fine", "APNIC", CAAD)};
	topo_t t;
	topo_up(&t, spec, 3);
	Caa__V1__CheckResponse *m = check(&t, "issue-permit.lab");
	if (m != NULL) {
		check_listed(&t, m);
		check_failed(m, "During secondary validation: remote perspective quiet did not "
		                "answer within 1s");
		CHECK_STR(outcome(m, 0), "TIMEOUT");
		CHECK_STR(outcome(m, 1), "UNREACHABLE");
		caa__v1__check_response__free_unpacked(m, NULL);
	}
	topo_down(&t);

	static const remote_t spec2[] = {SPEC("a", "ARIN", CAAD), SPEC("b", "RIPE", CAAD),
	                                 SPEC("quiet", "APNIC", SILENT)};
	topo_up(&t, spec2, 3);
	m = check(&t, "issue-permit.lab");
	if (m != NULL) {
		CHECK(m->verdict == CAA__V1__VERDICT__PERMITTED, "verdict %d", m->verdict);
		CHECK_STR(outcome(m, 2), "NOT_NEEDED");
		CHECK(m->perspectives[2]->verdict == CAA__V1__VERDICT__VERDICT_UNSPECIFIED &&
		          m->perspectives[2]->problem == NULL,
		      "a cancelled remote has a verdict or problem");
		caa__v1__check_response__free_unpacked(m, NULL);
	}
	topo_down(&t);
}

/* A remote answering under another name or RIR is not that perspective. */
void case_mpic_mismatch(void)
{
	static const remote_t spec[] = {SPEC("r1", "ARIN", CAAD), SPEC("r2", "RIPE", OTHER),
	                                SPEC("r3", "APNIC", OTHER_RIR)};
	topo_t t;
	topo_up(&t, spec, 3);
	Caa__V1__CheckResponse *m = check(&t, "issue-permit.lab");
	if (m != NULL) {
		check_failed(m, "During secondary validation: remote perspective r2 reported "
		                "impostor (RIPE), expected r2 (RIPE)");
		CHECK_STR(outcome(m, 1), "MISMATCH");
		CHECK_STR(outcome(m, 2), "MISMATCH");
		CHECK(m->n_perspectives == 3 && m->perspectives[2]->problem != NULL &&
		          strstr(m->perspectives[2]->problem->detail,
		                 "reported r3 (AFRINIC), expected r3 (APNIC)") != NULL,
		      "r3's problem does not name the RIRs");
		caa__v1__check_response__free_unpacked(m, NULL);
	}
	topo_down(&t);
}

/* How many check lines a remote wrote. */
static size_t asked(topo_t *t, size_t i)
{
	return t->r[i].running ? h_log_count(&t->r[i].p, "check") : 0;
}

/* A check that fails locally asks nobody; a reused permission asks nobody;
 * the question reaches the remotes unchanged (wildcard, method, account as
 * accountURIID); a request without an account cannot be corroborated. */
void case_mpic_request(void)
{
	static const remote_t spec[] = {SPEC("r1", "ARIN", CAAD), SPEC("r2", "RIPE", CAAD)};
	topo_t t;
	topo_up(&t, spec, 2);

	/* refused locally: nobody asked */
	Caa__V1__CheckResponse *m = check(&t, "www.issue-deny.lab");
	if (m != NULL) {
		CHECK(m->verdict == CAA__V1__VERDICT__FORBIDDEN, "verdict %d", m->verdict);
		CHECK(m->n_perspectives == 0, "%zu perspectives after a local refusal",
		      m->n_perspectives);
		caa__v1__check_response__free_unpacked(m, NULL);
	}
	CHECK(asked(&t, 0) == 0 && asked(&t, 1) == 0, "a remote was asked after a local refusal");

	/* the wildcard, method and account reach both remotes as they were */
	creq_t r;
	creq(&r, "*.wild1.lab");
	r.m.validation_method = "http-01";
	m = t_check(t.ch, &r);
	if (m != NULL) {
		CHECK(m->n_perspectives == 2, "%zu perspectives", m->n_perspectives);
		caa__v1__check_response__free_unpacked(m, NULL);
	}
	for (size_t i = 0; i < 2; i++) {
		json_t *line = h_log_find(&t.r[i].p, "check", "rpc", "DoCAA", 5000);
		CHECK(line != NULL, "remote %zu: no DoCAA line", i);
		if (line != NULL) {
			CHECK_STR(json_string_value(json_object_get(line, "identifier")),
			          "*.wild1.lab");
			CHECK_STR(json_string_value(json_object_get(line, "validation_method")),
			          "http-01");
			CHECK(json_integer_value(json_object_get(line, "account_id")) == 1,
			      "remote %zu: account_id", i);
		}
		json_decref(line);
	}

	/* reused within the window: no remote asked again */
	size_t before = asked(&t, 0) + asked(&t, 1);
	creq(&r, "issue-permit.lab");
	m = t_check(t.ch, &r);
	caa__v1__check_response__free_unpacked(m, NULL);
	usleep(300 * 1000); /* the remotes' log lines are read by another thread */
	size_t between = asked(&t, 0) + asked(&t, 1);
	creq_validated(&r, unix_ms());
	m = t_check(t.ch, &r);
	if (m != NULL) {
		CHECK(m->reused, "not reused");
		CHECK(m->n_perspectives == 0, "a reused answer lists perspectives");
		caa__v1__check_response__free_unpacked(m, NULL);
	}
	usleep(300 * 1000);
	CHECK(asked(&t, 0) + asked(&t, 1) == between && between == before + 2,
	      "remotes asked %zu, %zu, %zu times", before, between, asked(&t, 0) + asked(&t, 1));

	/* no account, or one no prefix matches: cannot be sent, fails closed */
	static const char *const accounts[] = {"", "https://elsewhere.example/acct/1"};
	static const char *const details[] = {
	    "During secondary validation: the request names no account",
	    "During secondary validation: account_uri matches no account_uri_prefixes entry"};
	for (size_t k = 0; k < 2; k++) {
		creq(&r, "issue-permit.lab");
		r.m.account_uri = (char *)accounts[k];
		m = t_check(t.ch, &r);
		if (m != NULL) {
			check_failed(m, details[k]);
			CHECK(m->n_perspectives == 0, "perspectives without asking");
			caa__v1__check_response__free_unpacked(m, NULL);
		}
	}

	/* a profile cannot travel over DoCAA: the remotes would judge under another policy */
	creq(&r, "issue-permit.lab");
	r.m.policy = "strict-critical";
	m = t_check(t.ch, &r);
	if (m != NULL) {
		check_failed(m,
		             "During secondary validation: profile \"strict-critical\" cannot be "
		             "sent to the remote perspectives");
		caa__v1__check_response__free_unpacked(m, NULL);
	}

	/* r2 goes away: a failed corroboration is not stored as a permission, and a
	 * corroborated one stored before is still reused without asking anybody */
	CHECK(h_stop(&t.r[1].p, SIGTERM, 15000) == 0, "r2 exit status");
	h_free(&t.r[1].p);
	t.r[1].running = false;
	for (int k = 0; k < 2; k++) { /* the second time from the cache, if it were there */
		creq(&r, "wild5.lab");
		m = t_check(t.ch, &r);
		if (m != NULL) {
			check_failed(
			    m, "During secondary validation: remote perspective r2 unreachable");
			CHECK(!m->reused, "a failed corroboration was reused");
			caa__v1__check_response__free_unpacked(m, NULL);
		}
	}
	creq(&r, "issue-permit.lab"); /* no validated_at: the stored permission */
	m = t_check(t.ch, &r);
	if (m != NULL) {
		CHECK(m->verdict == CAA__V1__VERDICT__PERMITTED && m->reused &&
		          m->n_perspectives == 0,
		      "the corroborated permission was not reused: verdict %d reused %d",
		      m->verdict, m->reused);
		caa__v1__check_response__free_unpacked(m, NULL);
	}
	topo_down(&t);
}

/* An order's identifiers are corroborated together; the aggregate problem
 * is rebuilt from the corroborated results. DoCAA through the primary is
 * corroborated too. */
void case_mpic_order(void)
{
	static const remote_t spec[] = {SPEC("r1", "ARIN", CAAD), SPEC("r2", "RIPE", CAAD),
	                                SPEC("r3", "APNIC", REFUSED)};
	topo_t t;
	topo_up(&t, spec, 3);
	static const char *const idents[] = {"issue-permit.lab", "www.issue-deny.lab",
	                                     "*.wild1.lab"};
	creq_t r[3];
	Caa__V1__CheckRequest *auths[3];
	for (size_t i = 0; i < 3; i++) {
		creq(&r[i], idents[i]);
		auths[i] = &r[i].m;
	}
	Caa__V1__CheckOrderRequest o = CAA__V1__CHECK_ORDER_REQUEST__INIT;
	o.authorizations = auths;
	o.n_authorizations = 3;
	gc_result_t res;
	Caa__V1__CheckOrderResponse *m = (Caa__V1__CheckOrderResponse *)t_call(
	    t.ch, M_ORDER, &o.base, &caa__v1__check_order_response__descriptor, CALL_MS, &res);
	CHECK(m != NULL && m->n_results == 3, "order: %s", gc_status_name(res.status));
	if (m != NULL && m->n_results == 3) {
		CHECK(m->results[0]->verdict == CAA__V1__VERDICT__PERMITTED &&
		          m->results[0]->n_perspectives == 3,
		      "order result 0");
		CHECK(m->results[1]->verdict == CAA__V1__VERDICT__FORBIDDEN &&
		          m->results[1]->n_perspectives == 0,
		      "order result 1");
		CHECK(m->results[2]->verdict == CAA__V1__VERDICT__PERMITTED &&
		          m->results[2]->n_perspectives == 3,
		      "order result 2");
		CHECK(m->problem != NULL &&
		          strstr(m->problem->detail, "www.issue-deny.lab") != NULL,
		      "aggregate");
	}
	if (m != NULL)
		caa__v1__check_order_response__free_unpacked(m, NULL);
	gc_result_free(&res);
	primary_stop(&t);

	/* r2 refuses as well: the two permitted identifiers fail corroboration */
	t.r[1].port = loopback_port(false, NULL);
	primary_start(&t);
	m = (Caa__V1__CheckOrderResponse *)t_call(
	    t.ch, M_ORDER, &o.base, &caa__v1__check_order_response__descriptor, CALL_MS, &res);
	CHECK(m != NULL && m->n_results == 3, "order: %s", gc_status_name(res.status));
	if (m != NULL && m->n_results == 3) {
		check_failed(m->results[0], "During secondary validation: remote perspective r2 "
		                            "unreachable");
		check_failed(m->results[2], "During secondary validation: remote perspective r2 "
		                            "unreachable");
		CHECK(m->problem != NULL && m->problem->n_subproblems == 3,
		      "aggregate with %zu subproblems", m->problem ? m->problem->n_subproblems : 0);
	}
	if (m != NULL)
		caa__v1__check_order_response__free_unpacked(m, NULL);
	gc_result_free(&res);

	/* DoCAA through the primary: Boulder's answer carries the quorum's problem */
	Core__Identifier id = CORE__IDENTIFIER__INIT;
	id.type = "dns";
	id.value = "issue-permit.lab";
	Va__IsCAAValidRequest d = VA__IS_CAAVALID_REQUEST__INIT;
	d.identifier = &id;
	d.validationmethod = "dns-01";
	d.accounturiid = 1;
	Va__IsCAAValidResponse *v = (Va__IsCAAValidResponse *)t_call(
	    t.ch, M_DOCAA, &d.base, &va__is_caavalid_response__descriptor, CALL_MS, &res);
	CHECK(v != NULL && v->problem != NULL &&
	          h_str_eq(v->problem->problemtype, "serverInternal") &&
	          starts_with(v->problem->detail, "During secondary validation: remote "
	                                          "perspective r2 unreachable"),
	      "DoCAA through a primary with 2 of 3 remotes down");
	if (v != NULL)
		va__is_caavalid_response__free_unpacked(v, NULL);
	gc_result_free(&res);
	topo_down(&t);
}

/* Metrics per perspective and per quorum outcome. */
void case_mpic_metrics(void)
{
	static const remote_t spec[] = {SPEC("r1", "ARIN", CAAD), SPEC("r2", "RIPE", CAAD),
	                                SPEC("r3", "APNIC", REFUSED)};
	topo_t t;
	topo_up(&t, spec, 3);
	Caa__V1__CheckResponse *m = check(&t, "issue-permit.lab");
	CHECK(m != NULL && m->verdict == CAA__V1__VERDICT__PERMITTED,
	      "the check was not permitted");
	caa__v1__check_response__free_unpacked(m, NULL);
	char *page = h_http_get(t.primary.metrics_port, "/metrics");
	CHECK(page != NULL &&
	          strstr(page, "caad_corroborations_total{result=\"passed\"} 1") != NULL,
	      "no passed corroboration counted");
	CHECK(page != NULL && strstr(page, "caad_perspective_calls_total{perspective=\"r1\",rir="
	                                   "\"ARIN\",outcome=\"CORROBORATED\"} 1") != NULL,
	      "r1's corroboration not counted");
	CHECK(page != NULL && strstr(page, "caad_perspective_duration_seconds_count{perspective="
	                                   "\"r2\"} 1") != NULL,
	      "r2's latency not counted");
	free(page);
	topo_down(&t);
}

/* mTLS between perspectives: the primary's per-remote client certificate,
 * the remote's client_ca and client_names. A client the remote does not
 * list is refused (PERMISSION_DENIED, a "refused" audit line there), one
 * without a certificate never gets through the handshake: both are
 * non-corroborations. */
void case_mpic_tls_prepare(void)
{
	t_make_certs();
	int rc = h_run(
	    "set -e; cd '%s'; exec 2>>openssl.log\n"
	    "openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out primary.key\n"
	    "openssl req -new -key primary.key -out primary.csr -subj /CN=primary\n"
	    "printf 'extendedKeyUsage=clientAuth\\nsubjectAltName=DNS:primary.ca.example\\n' "
	    ">primary.ext\n"
	    "openssl x509 -req -in primary.csr -CA ca.pem -CAkey ca.key -CAcreateserial "
	    "-out primary.pem -days 2 -extfile primary.ext\n",
	    h_tmp);
	if (rc != 0) {
		fprintf(stderr, "FAIL: openssl could not make the primary's certificate\n");
		h_run("cat '%s/openssl.log' >&2", h_tmp);
		exit(1);
	}
}

void case_mpic_tls(void)
{
	remote_t spec[] = {SPEC("r1", "ARIN", CAAD), SPEC("r2", "RIPE", CAAD)};
	for (size_t i = 0; i < 2; i++) {
		spec[i].mtls = true;
		spec[i].client = "primary";
	}
	topo_t t;
	topo_up(&t, spec, 2);
	Caa__V1__CheckResponse *m = check(&t, "issue-permit.lab");
	if (m != NULL) {
		CHECK(m->verdict == CAA__V1__VERDICT__PERMITTED, "over mTLS: verdict %d (%s)",
		      m->verdict, m->problem ? m->problem->detail : "");
		CHECK(corroborated(m) == 2, "%zu corroborated over mTLS", corroborated(m));
		caa__v1__check_response__free_unpacked(m, NULL);
	}
	primary_stop(&t);

	/* r2 gets a certificate of the right CA that names nobody it lists */
	t.r[1].client = "client";
	primary_start(&t);
	m = check(&t, "issue-permit.lab");
	if (m != NULL) {
		check_failed(m, "During secondary validation: remote perspective r2 unreachable: "
		                "PERMISSION_DENIED: client certificate names none of "
		                "tls.client_names");
		caa__v1__check_response__free_unpacked(m, NULL);
	}
	json_t *line = h_log_find(&t.r[1].p, "refused", NULL, NULL, 5000);
	CHECK(line != NULL && h_str_eq(json_string_value(json_object_get(line, "rpc")), "DoCAA"),
	      "r2 wrote no refused line for DoCAA");
	json_decref(line);
	primary_stop(&t);

	/* no client certificate at all: the handshake fails */
	t.r[1].client = NULL;
	primary_start(&t);
	m = check(&t, "issue-permit.lab");
	if (m != NULL) {
		check_failed(m, "During secondary validation: remote perspective r2 unreachable: "
		                "UNAVAILABLE");
		caa__v1__check_response__free_unpacked(m, NULL);
	}
	topo_down(&t);
}

/* A client deadline shorter than remote_timeout bounds the remotes' calls:
 * the answer comes inside the deadline, a TIMEOUT naming the time it had. */
void case_mpic_deadline(void)
{
	static const remote_t spec[] = {SPEC("quiet", "ARIN", SILENT), SPEC("r2", "RIPE", CAAD)};
	topo_t t;
	topo_up(&t, spec, 2);
	creq_t r;
	gc_result_t res;
	creq(&r, "issue-permit.lab");
	Caa__V1__CheckResponse *m = (Caa__V1__CheckResponse *)t_call(
	    t.ch, M_CHECK, &r.m.base, &caa__v1__check_response__descriptor, 600, &res);
	CHECK(res.status == GRPC_STATUS_OK, "status %s: %s", gc_status_name(res.status),
	      res.details);
	if (m != NULL) {
		check_failed(m, "During secondary validation: remote perspective quiet did not "
		                "answer within ");
		CHECK(m->problem != NULL && strstr(m->problem->detail, "within 1s") == NULL,
		      "the remote had remote_timeout, not what was left of the deadline: %s",
		      m->problem ? m->problem->detail : "");
		CHECK_STR(outcome(m, 0), "TIMEOUT");
		caa__v1__check_response__free_unpacked(m, NULL);
	}
	gc_result_free(&res);

	/* the client cancels while the remotes run: CANCELLED, and no remote is
	 * blamed for it (no UNREACHABLE or TIMEOUT counted, no quorum counted) */
	creq(&r, "issue-permit.lab");
	size_t len = protobuf_c_message_get_packed_size(&r.m.base);
	uint8_t *buf = malloc(len ? len : 1);
	protobuf_c_message_pack(&r.m.base, buf);
	gc_call_cancel(t.ch, M_CHECK, buf, len, 200, &res);
	free(buf);
	CHECK(res.status == GRPC_STATUS_CANCELLED, "status %s", gc_status_name(res.status));
	gc_result_free(&res);
	json_t *line = h_log_find(&t.primary, "check", "error", "cancelled by the client", 5000);
	CHECK(line != NULL, "no audit line for the cancelled check");
	json_decref(line);
	char *page = h_http_get(t.primary.metrics_port, "/metrics");
	CHECK(page != NULL && strstr(page, "caad_corroborations_total{result=\"failed\"} 1\n") &&
	          strstr(page, "outcome=\"TIMEOUT\"} 1\n") &&
	          !strstr(page, "outcome=\"UNREACHABLE\"} 1"),
	      "the cancel was counted against a remote:\n%s", page ? page : "");
	free(page);
	topo_down(&t);
}

/* The lab's per-perspective views (docs/lab.md): what Boulder's tests fake
 * with caaHijackedDNS / caaBrokenDNS, here real resolvers seeing other
 * servers. One hijacked remote of five: still PERMITTED. Two: FORBIDDEN
 * with the first hijacked remote's caa problem. SERVFAIL and silence: the
 * first in configured order gives its problem. */
void case_mpic_views(void)
{
	char view[4][512];
	static const char *const names[] = {"real", "hijacked", "servfail", "silent"};
	for (size_t i = 0; i < 4; i++)
		snprintf(view[i], sizeof(view[i]), "%s/views/%s/unbound.conf", h_lab, names[i]);
	remote_t spec[] = {SPEC("r1", "ARIN", CAAD), SPEC("r2", "RIPE", CAAD),
	                   SPEC("r3", "APNIC", CAAD), SPEC("r4", "LACNIC", CAAD),
	                   SPEC("r5", "RIPE", CAAD)};
	spec[2].unbound_conf = view[1];
	topo_t t;
	topo_up(&t, spec, 5);
	Caa__V1__CheckResponse *m = check(&t, "permit.mpic.lab");
	if (m != NULL) {
		CHECK(m->verdict == CAA__V1__VERDICT__PERMITTED, "one hijacked of 5: verdict %d",
		      m->verdict);
		CHECK(corroborated(m) == 4, "%zu corroborated", corroborated(m));
		CHECK(h_str_eq(outcome(m, 2), "PROBLEM") || h_str_eq(outcome(m, 2), "NOT_NEEDED"),
		      "the hijacked remote: %s", h_str(outcome(m, 2)));
		if (h_str_eq(outcome(m, 2), "PROBLEM"))
			CHECK(m->perspectives[2]->verdict == CAA__V1__VERDICT__FORBIDDEN,
			      "the hijacked remote's verdict %d", m->perspectives[2]->verdict);
		caa__v1__check_response__free_unpacked(m, NULL);
	}
	topo_down(&t);

	spec[1].unbound_conf = view[1];
	topo_up(&t, spec, 5);
	m = check(&t, "permit.mpic.lab");
	if (m != NULL) {
		CHECK(m->verdict == CAA__V1__VERDICT__FORBIDDEN, "two hijacked: verdict %d",
		      m->verdict);
		CHECK(m->reason == CAA__V1__REASON__NOT_CORROBORATED, "reason %d", m->reason);
		CHECK(m->problem != NULL && m->problem->status == 403 &&
		          h_str_eq(m->problem->type, "urn:ietf:params:acme:error:caa") &&
		          h_str_eq(
		              m->problem->detail,
		              "During secondary validation: While processing CAA for "
		              "permit.mpic.lab: CAA record for permit.mpic.lab prevents issuance"),
		      "problem: %s", m->problem ? m->problem->detail : "(none)");
		CHECK_STR(outcome(m, 1), "PROBLEM");
		caa__v1__check_response__free_unpacked(m, NULL);
	}
	topo_down(&t);

	spec[0].unbound_conf = view[2];
	spec[1].unbound_conf = NULL;
	spec[2].unbound_conf = NULL;
	spec[3].unbound_conf = view[3];
	topo_up(&t, spec, 5);
	m = check(&t, "1.bench.mpic.lab");
	if (m != NULL) {
		CHECK(m->verdict == CAA__V1__VERDICT__LOOKUP_FAILED,
		      "servfail + silent: verdict %d", m->verdict);
		CHECK(m->problem != NULL && m->problem->status == 400 &&
		          h_str_eq(m->problem->type, "urn:ietf:params:acme:error:dns") &&
		          starts_with(m->problem->detail, "During secondary validation: While "
		                                          "processing CAA for 1.bench.mpic.lab"),
		      "problem: %s", m->problem ? m->problem->detail : "(none)");
		CHECK_STR(outcome(m, 0), "PROBLEM");
		/* the silent view's remote gets the primary's deadline with the call: its
		 * own DNS gives up first (a dns "timed out" problem), or the call does */
		CHECK(h_str_eq(outcome(m, 3), "TIMEOUT") ||
		          (h_str_eq(outcome(m, 3), "PROBLEM") &&
		           strstr(m->perspectives[3]->problem->detail, "timed out") != NULL),
		      "the silent remote: %s", h_str(outcome(m, 3)));
		caa__v1__check_response__free_unpacked(m, NULL);
	}
	topo_down(&t);
}
