/*
 * t_ops.c — caad as an operator and an attacker see it: the reuse window,
 * policy profiles, hostile input, mTLS, back-pressure, deadlines, draining
 * on SIGTERM, metrics, the command line, and a second gRPC implementation.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "cases.h"
#include "codes.h"
#include "name.h"

#define WINDOW_MS (7 * 3600 * 1000LL) /* the lab config's recheck_window (default) */

static void free_resp(Caa__V1__CheckResponse *m)
{
	if (m != NULL)
		protobuf_c_message_free_unpacked(&m->base, NULL);
}

void case_reuse(void)
{
	caad_proc_t p;
	grpc_channel *ch;
	t_start(&p, h_lab_config(), &ch);
	creq_t r;
	Caa__V1__CheckResponse *m;

	/* validated_at decides alone: inside the window no DNS at all (even for
	 * a name whose records forbid), outside it a real check */
	int64_t inside = unix_ms() - WINDOW_MS + 60000, outside = unix_ms() - WINDOW_MS - 60000;
	creq(&r, "www.issue-deny.lab");
	creq_validated(&r, inside);
	m = t_check(ch, &r);
	CHECK(m && m->verdict == CAA__V1__VERDICT__PERMITTED && m->reused && m->queries == 0,
	      "inside the window: reused without DNS");
	CHECK(m && m->checked_at && m->checked_at->seconds == inside / 1000,
	      "checked_at is the validation time");
	free_resp(m);
	creq(&r, "www.issue-deny.lab");
	creq_validated(&r, outside);
	m = t_check(ch, &r);
	CHECK(m && m->verdict == CAA__V1__VERDICT__FORBIDDEN && !m->reused && m->queries > 0,
	      "outside the window: checked");
	free_resp(m);

	/* a permitted result is kept; the second ask is answered from it */
	creq(&r, "issue-permit.lab");
	m = t_check(ch, &r);
	CHECK(m && !m->reused, "first check not reused");
	free_resp(m);
	m = t_check(ch, &r);
	CHECK(m && m->reused && m->verdict == CAA__V1__VERDICT__PERMITTED &&
	          m->reason == CAA__V1__REASON__AUTHORIZED && m->queries == 0,
	      "second check reused");
	free_resp(m);
	/* ...only for the same account, method and policy */
	creq(&r, "issue-permit.lab");
	r.m.account_uri = "https://ca.example/acme/acct/9";
	m = t_check(ch, &r);
	CHECK(m && !m->reused, "other account reused");
	free_resp(m);
	creq(&r, "issue-permit.lab");
	r.m.policy = "strict-critical";
	m = t_check(ch, &r);
	CHECK(m && !m->reused, "other policy reused");
	free_resp(m);

	/* the account is keyed as the check used it: a permission earned through
	 * account_id 1 (acct.lab's accounturi is prefix + "1") is none for the
	 * account URI "1", which the record does not name */
	creq(&r, "acct.lab");
	r.m.account_uri = "";
	r.m.account_id = 1;
	m = t_check(ch, &r);
	CHECK(m && m->verdict == CAA__V1__VERDICT__PERMITTED && !m->reused,
	      "account_id 1 on acct.lab");
	free_resp(m);
	creq(&r, "acct.lab");
	r.m.account_uri = "1";
	m = t_check(ch, &r);
	CHECK(m && m->verdict == CAA__V1__VERDICT__FORBIDDEN && !m->reused,
	      "account_uri \"1\" answered with account_id 1's permission");
	free_resp(m);
	/* a URI and an id naming different accounts are refused, naming both */
	creq(&r, "acct.lab");
	r.m.account_id = 2;
	gc_result_t bad;
	m = (Caa__V1__CheckResponse *)t_call(ch, M_CHECK, &r.m.base,
	                                     &caa__v1__check_response__descriptor, CALL_MS, &bad);
	CHECK(m == NULL && bad.status == GRPC_STATUS_INVALID_ARGUMENT &&
	          strstr(bad.details, "account_uri") && strstr(bad.details, "account_id"),
	      "account_uri and account_id of different accounts: %s %s", gc_status_name(bad.status),
	      bad.details ? bad.details : "");
	free_resp(m);
	gc_result_free(&bad);
	creq(&r, "acct.lab"); /* ACCOUNT_1 is prefix + "1": one account */
	r.m.account_id = 1;
	m = t_check(ch, &r);
	CHECK(m && m->verdict == CAA__V1__VERDICT__PERMITTED,
	      "account_uri and account_id agreeing");
	free_resp(m);

	/* forbidden and failed results are never reused */
	for (int i = 0; i < 2; i++) {
		creq(&r, "www.issue-deny.lab");
		m = t_check(ch, &r);
		CHECK(m && m->verdict == CAA__V1__VERDICT__FORBIDDEN && !m->reused,
		      "forbidden reused (%d)", i);
		free_resp(m);
		creq(&r, "a.servfail.lab");
		m = t_check(ch, &r);
		CHECK(m && m->verdict == CAA__V1__VERDICT__LOOKUP_FAILED && !m->reused,
		      "failure reused (%d)", i);
		free_resp(m);
	}

	/* an order mixes reused and checked identifiers, in request order */
	Caa__V1__CheckOrderRequest req = CAA__V1__CHECK_ORDER_REQUEST__INIT;
	creq_t o[2];
	Caa__V1__CheckRequest *list[2] = {&o[0].m, &o[1].m};
	creq(&o[0], "www.nocaa.lab");
	creq(&o[1], "issue-permit.lab");
	req.n_authorizations = 2;
	req.authorizations = list;
	gc_result_t res;
	Caa__V1__CheckOrderResponse *om = (Caa__V1__CheckOrderResponse *)t_call(
	    ch, M_ORDER, &req.base, &caa__v1__check_order_response__descriptor, CALL_MS, &res);
	CHECK(om && om->n_results == 2 && !om->results[0]->reused && om->results[1]->reused &&
	          strcmp(om->results[1]->identifier->value, "issue-permit.lab") == 0 &&
	          om->problem == NULL,
	      "order with a reused identifier");
	if (om)
		protobuf_c_message_free_unpacked(&om->base, NULL);
	gc_result_free(&res);

	json_t *l = h_log_find(&p, "check", "identifier", "www.issue-deny.lab", 2000);
	CHECK(l && json_is_true(json_object_get(l, "reused")) &&
	          json_is_string(json_object_get(l, "validated_at")),
	      "reused audit line");
	json_decref(l);
	/* the generation its reuse entries are keyed with, for comparing replicas */
	l = h_log_find(&p, "listening", NULL, NULL, 2000);
	const char *gen = l ? json_string_value(json_object_get(l, "config_generation")) : NULL;
	CHECK(gen && strlen(gen) == 64 && strspn(gen, "0123456789abcdef") == 64,
	      "config_generation in the listening line");
	json_decref(l);
	t_stop(&p, ch);
}

void case_profiles(void)
{
	caad_proc_t p;
	grpc_channel *ch;
	t_start(&p, h_lab_config(), &ch);
	creq_t r;
	Caa__V1__CheckResponse *m;
	creq(&r, "crit-iodef.lab");
	m = t_check(ch, &r);
	CHECK(m && m->verdict == CAA__V1__VERDICT__PERMITTED && strcmp(m->policy, "") == 0,
	      "default profile");
	free_resp(m);
	creq(&r, "crit-iodef.lab");
	r.m.policy = "strict-critical";
	m = t_check(ch, &r);
	CHECK(m && m->verdict == CAA__V1__VERDICT__FORBIDDEN &&
	          m->reason == CAA__V1__REASON__CRITICAL_TAG &&
	          strcmp(m->policy, "strict-critical") == 0,
	      "strict-critical profile");
	free_resp(m);
	creq(&r, "www.shop.nosuchtld");
	r.m.policy = "tld-nxdomain-empty";
	m = t_check(ch, &r);
	CHECK(m && m->verdict == CAA__V1__VERDICT__PERMITTED, "tld-nxdomain-empty profile");
	free_resp(m);

	creq(&r, "crit-iodef.lab");
	r.m.policy = "nope";
	char msg[256];
	size_t len = protobuf_c_message_get_packed_size(&r.m.base);
	uint8_t buf[512];
	protobuf_c_message_pack(&r.m.base, buf);
	grpc_status_code code = t_raw(ch, M_CHECK, buf, len, msg, sizeof(msg));
	CHECK(code == GRPC_STATUS_INVALID_ARGUMENT, "unknown profile: %s", gc_status_name(code));
	CHECK_STR(msg, "policy: unknown profile \"nope\"");
	t_stop(&p, ch);
}

/* A Check with this identifier must be refused INVALID_ARGUMENT naming why. */
static void refused_name(grpc_channel *ch, const char *type, const char *value, const char *want)
{
	creq_t r;
	creq(&r, value);
	r.id.type = (char *)type;
	gc_result_t res;
	t_call(ch, M_CHECK, &r.m.base, NULL, CALL_MS, &res);
	CHECK(res.status == GRPC_STATUS_INVALID_ARGUMENT && res.details &&
	          strstr(res.details, want) != NULL,
	      "%.40s: %s \"%s\" (want \"%s\")", value, gc_status_name(res.status),
	      res.details ? res.details : "", want);
	gc_result_free(&res);
}

/* A name the library rejects: the message carries caa_strerror's text. */
static void refused_dns_name(grpc_channel *ch, const char *value)
{
	caa_name_t n;
	int rc = caa_name_parse(value, strlen(value), &n);
	CHECK(rc != CAA_EOK && rc != CAA_ENOTAPPLICABLE, "%.40s is a valid name", value);
	refused_name(ch, "dns", value, caa_strerror(rc));
}

void case_bad_input(void)
{
	caad_proc_t p;
	grpc_channel *ch;
	t_start(&p, h_lab_config(), &ch);
	char msg[512];
	grpc_status_code code;
	static const char *const methods[] = {M_CHECK, M_ORDER, M_EVALUATE, M_DOCAA, M_HEALTH};
	static const uint8_t garbage[] = {0xff, 0xff, 0xff, 0xff, 0x0f, 0x0a, 0x80};
	for (size_t i = 0; i < 5; i++) {
		code = t_raw(ch, methods[i], garbage, sizeof(garbage), msg, sizeof(msg));
		CHECK(code == GRPC_STATUS_INVALID_ARGUMENT, "garbage to %s: %s", methods[i],
		      gc_status_name(code));
		code = t_raw(ch, methods[i], NULL, 0, msg, sizeof(msg));
		CHECK(code == GRPC_STATUS_INVALID_ARGUMENT, "no message to %s: %s", methods[i],
		      gc_status_name(code));
		if (i < 4) { /* an empty message has no identifier */
			code = t_raw(ch, methods[i], "", 0, msg, sizeof(msg));
			CHECK(code == GRPC_STATUS_INVALID_ARGUMENT, "empty message to %s: %s",
			      methods[i], gc_status_name(code));
		}
	}
	code = t_raw(ch, M_CHECK, "", 0, msg, sizeof(msg));
	CHECK_STR(msg, "identifier: missing");

	refused_name(ch, "dns", "", "identifier.value: identifier is empty");
	refused_name(ch, "email", "a@b.lab", "identifier.type");
	refused_name(ch, "ip", "not-an-ip", "is not an IPv4 or IPv6 address");
	static const char *const bad[] = {
	    "a..b.lab",           "-a.lab",     "*.*.lab",   "a*.lab",  "a_b.lab", "exa mple.lab",
	    "\xc3\xbcnicode.lab", "ab--cd.lab", "xn--a.lab", "lab.123", ".lab",    "a.lab.."};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		refused_dns_name(ch, bad[i]);
	char *huge = malloc(100001);
	memset(huge, 'a', 100000);
	huge[100000] = '\0';
	refused_dns_name(ch, huge);
	char label[80];
	memset(label, 'b', 64);
	strcpy(label + 64, ".lab");
	refused_dns_name(ch, label);

	creq_t r;
	creq(&r, "issue-permit.lab");
	r.m.account_id = -5;
	gc_result_t res;
	t_call(ch, M_CHECK, &r.m.base, NULL, CALL_MS, &res);
	CHECK(res.status == GRPC_STATUS_INVALID_ARGUMENT && strstr(res.details, "account_id"),
	      "negative account_id");
	gc_result_free(&res);
	creq(&r, "issue-permit.lab");
	creq_validated(&r, unix_ms());
	r.at.nanos = 2000000000;
	t_call(ch, M_CHECK, &r.m.base, NULL, CALL_MS, &res);
	CHECK(res.status == GRPC_STATUS_INVALID_ARGUMENT && strstr(res.details, "validated_at"),
	      "bad validated_at");
	gc_result_free(&res);
	creq(&r, "issue-permit.lab");
	r.m.account_uri = huge;
	t_call(ch, M_CHECK, &r.m.base, NULL, CALL_MS, &res);
	CHECK(res.status == GRPC_STATUS_INVALID_ARGUMENT && strstr(res.details, "account_uri"),
	      "huge account_uri: %s", gc_status_name(res.status));
	gc_result_free(&res);

	/* orders: the size limit, a bad entry named by index */
	size_t big = 10000;
	creq_t *many = calloc(big, sizeof(*many));
	Caa__V1__CheckRequest **list = calloc(big, sizeof(*list));
	for (size_t i = 0; i < big; i++) {
		creq(&many[i], "issue-permit.lab");
		list[i] = &many[i].m;
	}
	Caa__V1__CheckOrderRequest o = CAA__V1__CHECK_ORDER_REQUEST__INIT;
	o.authorizations = list;
	o.n_authorizations = big;
	t_call(ch, M_ORDER, &o.base, NULL, CALL_MS, &res);
	CHECK(res.status == GRPC_STATUS_INVALID_ARGUMENT && strstr(res.details, "at most 1000"),
	      "10000 identifiers: %s %s", gc_status_name(res.status), res.details);
	gc_result_free(&res);
	o.n_authorizations = 1001;
	t_call(ch, M_ORDER, &o.base, NULL, CALL_MS, &res);
	CHECK(res.status == GRPC_STATUS_INVALID_ARGUMENT, "1001 identifiers");
	gc_result_free(&res);
	o.n_authorizations = 3;
	many[1].id.value = "a..b.lab";
	t_call(ch, M_ORDER, &o.base, NULL, CALL_MS, &res);
	CHECK(res.status == GRPC_STATUS_INVALID_ARGUMENT &&
	          strstr(res.details, "authorizations[1].identifier.value"),
	      "bad entry: %s", res.details);
	gc_result_free(&res);
	free(list);
	free(many);

	/* over the message size limit: gRPC refuses it before caad sees it */
	size_t blen = 5 * 1024 * 1024;
	uint8_t *blob = calloc(1, blen);
	code = t_raw(ch, M_CHECK, blob, blen, msg, sizeof(msg));
	CHECK(code == GRPC_STATUS_RESOURCE_EXHAUSTED, "5 MiB: %s", gc_status_name(code));
	free(blob);
	free(huge);

	CHECK(t_health(ch, "") == 1, "not healthy after bad input");
	CHECK(h_log_count(&p, "check") == 0, "a refused request reached the checker");
	t_stop(&p, ch);
}

/* ---- TLS ---- */

void t_make_certs(void)
{
	int rc = h_run(
	    "set -e; cd '%s'; exec 2>openssl.log\n"
	    "key() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out $1; }\n"
	    "ca() { key $1.key; openssl req -x509 -new -key $1.key -out $1.pem -days 2 "
	    "-subj \"/CN=$2\"; }\n"
	    "leaf() { key $1.key; openssl req -new -key $1.key -out $1.csr -subj \"$3\";"
	    " printf '%%s\\n' \"$4\" >$1.ext;"
	    " openssl x509 -req -in $1.csr -CA $2.pem -CAkey $2.key -CAcreateserial -out $1.pem"
	    " -days 2 -extfile $1.ext; }\n"
	    "ca ca 'caad test CA'; ca evil-ca 'another CA'\n"
	    "leaf server ca /CN=localhost 'subjectAltName=DNS:localhost,IP:127.0.0.1'\n"
	    "leaf client ca '/O=ca.example/CN=ra-client' 'extendedKeyUsage=clientAuth'\n"
	    "leaf evil evil-ca '/O=ca.example/CN=ra-client' 'extendedKeyUsage=clientAuth'\n",
	    h_tmp);
	if (rc != 0) {
		fprintf(stderr, "FAIL: openssl could not make the test certificates\n");
		h_run("cat '%s/openssl.log' >&2", h_tmp);
		exit(1);
	}
}

void case_mtls_prepare(void)
{
	t_make_certs();
}

char *t_pem(const char *name)
{
	char path[512];
	snprintf(path, sizeof(path), "%s/%s", h_tmp, name);
	char *s = h_slurp(path);
	if (s == NULL) {
		fprintf(stderr, "FAIL: no %s\n", path);
		exit(1);
	}
	return s;
}

static json_t *tls_config(bool mutual)
{
	json_t *cfg = h_lab_config();
	char c[512], k[512], ca[512];
	snprintf(c, sizeof(c), "%s/server.pem", h_tmp);
	snprintf(k, sizeof(k), "%s/server.key", h_tmp);
	snprintf(ca, sizeof(ca), "%s/ca.pem", h_tmp);
	json_t *tls = json_pack("{s:s, s:s}", "cert", c, "key", k);
	if (mutual)
		json_object_set_new(tls, "client_ca", json_string(ca));
	json_object_set_new(cfg, "tls", tls);
	return cfg;
}

/* Health over a fresh channel with these credentials: 1 SERVING, -1 refused. */
static int tls_health(const char *target, const char *cert, const char *key, const char *ca)
{
	gc_tls_t tls = {.ca = ca, .cert = cert, .key = key, .server_name = "localhost"};
	grpc_channel *ch = gc_channel(target, ca ? &tls : NULL);
	int st = t_health(ch, "");
	grpc_channel_destroy(ch);
	return st;
}

void case_mtls(void)
{
	char *ca = t_pem("ca.pem"), *cert = t_pem("client.pem"), *key = t_pem("client.key");
	char *evil = t_pem("evil.pem"), *evil_key = t_pem("evil.key");
	caad_proc_t p;
	json_t *cfg = tls_config(true);
	CHECK(h_start(&p, cfg) == 0, "caad with mTLS did not start");
	json_decref(cfg);
	json_t *l = h_log_find(&p, "listening", NULL, NULL, 0);
	CHECK(l && strcmp(json_string_value(json_object_get(l, "tls")), "mtls") == 0, "tls mode");
	json_decref(l);

	CHECK(tls_health(p.target, cert, key, ca) == 1, "the right client certificate refused");
	CHECK(tls_health(p.target, NULL, NULL, ca) == -1, "accepted without a client certificate");
	CHECK(tls_health(p.target, evil, evil_key, ca) == -1,
	      "accepted a client certificate of another CA");
	CHECK(tls_health(p.target, NULL, NULL, NULL) == -1, "accepted plaintext");

	/* the identity goes into the audit line */
	gc_tls_t tls = {.ca = ca, .cert = cert, .key = key, .server_name = "localhost"};
	grpc_channel *ch = gc_channel(p.target, &tls);
	creq_t r;
	creq(&r, "issue-permit.lab");
	free_resp(t_check(ch, &r));
	grpc_channel_destroy(ch);
	l = h_log_find(&p, "check", "identifier", "issue-permit.lab", 2000);
	const char *client = l ? json_string_value(json_object_get(l, "client")) : NULL;
	CHECK(client && strstr(client, "CN=ra-client"), "client identity in the audit line: %s",
	      client ? client : "(none)");
	json_decref(l);
	CHECK(h_stop(&p, SIGTERM, 15000) == 0, "exit status");
	if (h_failures)
		h_log_dump(&p);
	h_free(&p);

	/* TLS without client certificates */
	cfg = tls_config(false);
	CHECK(h_start(&p, cfg) == 0, "caad with TLS did not start");
	json_decref(cfg);
	CHECK(tls_health(p.target, NULL, NULL, ca) == 1, "TLS without a client certificate");
	CHECK(tls_health(p.target, NULL, NULL, NULL) == -1, "plaintext to a TLS listener");
	CHECK(h_stop(&p, SIGTERM, 15000) == 0, "exit status");
	h_free(&p);
	free(ca);
	free(cert);
	free(key);
	free(evil);
	free(evil_key);
}

/* ---- load, deadlines, draining ---- */

void case_backpressure(void)
{
	caad_proc_t p;
	grpc_channel *ch;
	json_t *cfg = h_lab_config();
	json_object_set_new(cfg, "max_in_flight", json_integer(2));
	/* the two admitted checks wait this long for a dropping server */
	json_object_set_new(json_object_get(cfg, "dns"), "timeout", json_string("5s"));
	t_start(&p, cfg, &ch);
	CHECK(t_health(ch, "") == 1, "not serving");
	enum { N = 5 };
	pcall_t c[N];
	creq_t r[N];
	char names[N][32];
	for (int i = 0; i < N; i++) {
		snprintf(names[i], sizeof(names[i]), "bp%d.drop.lab", i);
		creq(&r[i], names[i]);
		pcall_start(&c[i], ch, M_CHECK, &r[i].m.base, CALL_MS);
	}
	int exhausted = 0, answered = 0, last_refused = -1, first_answered = N * 1000;
	for (int i = 0; i < N; i++) {
		pcall_join(&c[i]);
		if (c[i].res.status == GRPC_STATUS_RESOURCE_EXHAUSTED) {
			exhausted++;
			if (c[i].done_seq > last_refused)
				last_refused = c[i].done_seq;
			CHECK(strstr(c[i].res.details, "max_in_flight 2"), "message: %s",
			      c[i].res.details);
		} else if (c[i].res.status == GRPC_STATUS_OK) {
			Caa__V1__CheckResponse *m =
			    caa__v1__check_response__unpack(NULL, c[i].res.len, c[i].res.data);
			CHECK(m && m->verdict == CAA__V1__VERDICT__LOOKUP_FAILED, "a dropped name "
			                                                          "passed");
			free_resp(m);
			answered++;
			if (c[i].done_seq < first_answered)
				first_answered = c[i].done_seq;
		}
		gc_result_free(&c[i].res);
	}
	CHECK(exhausted == N - 2 && answered == 2, "%d refused, %d answered (want %d, 2)",
	      exhausted, answered, N - 2);
	/* refused at once, not queued: every refusal came back while the two
	 * admitted checks still waited for DNS */
	CHECK(last_refused < first_answered, "a refusal (#%d) came after an answer (#%d)",
	      last_refused, first_answered);
	/* the slots are free again */
	creq_t ok;
	creq(&ok, "issue-permit.lab");
	Caa__V1__CheckResponse *m = t_check(ch, &ok);
	CHECK(m && m->verdict == CAA__V1__VERDICT__PERMITTED, "check after the burst");
	free_resp(m);
	t_stop(&p, ch);
}

/* The value of a metric line ("name{labels} value"), -1 when absent. */
double metric(const char *page, const char *name)
{
	char key[256];
	snprintf(key, sizeof(key), "\n%s ", name);
	const char *at = page ? strstr(page, key) : NULL;
	return at ? atof(at + strlen(key)) : -1;
}

void case_deadline(void)
{
	caad_proc_t p;
	grpc_channel *ch;
	json_t *cfg = h_lab_config();
	json_object_set_new(json_object_get(cfg, "dns"), "timeout", json_string("10s"));
	json_object_set_new(cfg, "metrics_listen", json_string("127.0.0.1:0"));
	t_start(&p, cfg, &ch);
	/* connected first: the deadline's time is caad's to spend, not the
	 * handshake's (2 s: room for a slow ASan build under ctest -j) */
	CHECK(t_health(ch, "") == 1, "not healthy at start");
	creq_t r;
	for (int i = 0; i < 3; i++) {
		char name[32];
		snprintf(name, sizeof(name), "dl%d.drop.lab", i);
		creq(&r, name);
		gc_result_t res;
		/* bounded by the client's deadline: answered before it, with the problem */
		Caa__V1__CheckResponse *dm = (Caa__V1__CheckResponse *)t_call(
		    ch, M_CHECK, &r.m.base, &caa__v1__check_response__descriptor, 2000, &res);
		CHECK(res.status == GRPC_STATUS_OK && dm &&
		          dm->verdict == CAA__V1__VERDICT__LOOKUP_FAILED,
		      "%s: %s", name, gc_status_name(res.status));
		free_resp(dm);
		gc_result_free(&res);
	}
	/* caad ended the lookups itself, with audit lines, and holds nothing */
	json_t *l = h_log_find(&p, "check", "identifier", "dl2.drop.lab", 30000);
	const char *reason = l ? json_string_value(json_object_get(l, "reason")) : NULL;
	CHECK(h_str_eq(reason, "DNS_TIMEOUT"), "audit line: %s", h_str(reason));
	json_decref(l);
	char *page = NULL;
	for (int i = 0; i < 300; i++) {
		free(page);
		page = h_http_get(p.metrics_port, "/metrics");
		if (metric(page, "caad_checks_in_flight") == 0 &&
		    metric(page, "caad_calls_in_flight") == 0)
			break;
		usleep(100000);
	}
	CHECK(metric(page, "caad_checks_in_flight") == 0, "checks still in flight");
	free(page);
	CHECK(t_health(ch, "") == 1, "not healthy after deadlines");
	creq(&r, "issue-permit.lab");
	Caa__V1__CheckResponse *m = t_check(ch, &r);
	CHECK(m && m->verdict == CAA__V1__VERDICT__PERMITTED, "check after deadlines");
	free_resp(m);
	t_stop(&p, ch);
}

/* The lab's unbound.conf without its fail-fast settings: libunbound then
 * waits for a dropping server far longer than the drain bound. */
static const char *patient_unbound_conf(void)
{
	static char path[512];
	char src[512];
	snprintf(src, sizeof(src), "%s/unbound.conf", h_lab);
	snprintf(path, sizeof(path), "%s/patient-unbound.conf", h_tmp);
	char *text = h_slurp(src);
	FILE *f = fopen(path, "w");
	if (text == NULL || f == NULL) {
		fprintf(stderr, "FAIL: cannot write %s from %s\n", path, src);
		exit(1);
	}
	for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n"))
		if (!strstr(line, "infra-cache-max-rtt") && !strstr(line, "outbound-msg-retry"))
			fprintf(f, "%s\n", line);
	fclose(f);
	free(text);
	return path;
}

void case_cancel(void)
{
	caad_proc_t p;
	grpc_channel *ch;
	json_t *cfg = h_lab_config();
	json_t *dns = json_object_get(cfg, "dns");
	json_object_set_new(dns, "timeout", json_string("30s"));
	json_object_set_new(dns, "query_timeout", json_string("30s"));
	json_object_set_new(dns, "unbound_conf", json_string(patient_unbound_conf()));
	json_object_set_new(cfg, "metrics_listen", json_string("127.0.0.1:0"));
	t_start(&p, cfg, &ch);
	creq_t r;
	creq(&r, "gone.drop.lab");
	uint8_t buf[512];
	size_t len = protobuf_c_message_pack(&r.m.base, buf);
	gc_result_t res;
	gc_call_cancel(ch, M_CHECK, buf, len, 300, &res);
	CHECK(res.status == GRPC_STATUS_CANCELLED, "status %s", gc_status_name(res.status));
	gc_result_free(&res);
	/* caad cancels the lookup: an audit line at once, nothing left in flight */
	json_t *l = h_log_find(&p, "check", "identifier", "gone.drop.lab", 30000);
	const char *err = l ? json_string_value(json_object_get(l, "error")) : NULL;
	CHECK_STR(err, "cancelled by the client");
	json_decref(l);
	char *page = NULL;
	for (int i = 0; i < 30 && metric(page, "caad_calls_in_flight") != 0; i++) {
		free(page);
		usleep(i ? 100000 : 0);
		page = h_http_get(p.metrics_port, "/metrics");
	}
	CHECK(metric(page, "caad_checks_in_flight") == 0 &&
	          metric(page, "caad_calls_in_flight") == 0,
	      "in flight after a cancel");
	free(page);
	CHECK(t_health(ch, "") == 1, "not healthy after a cancel");
	t_stop(&p, ch);
}

void case_drain(void)
{
	caad_proc_t p;
	grpc_channel *ch;
	t_start(&p, h_lab_config(), &ch);
	CHECK(t_health(ch, "") == 1, "not serving"); /* the connection is up */
	enum { N = 3 };
	pcall_t c[N];
	creq_t r[N];
	char names[N][32];
	for (int i = 0; i < N; i++) {
		/* the slow server answers after 300 ms: in flight when SIGTERM comes */
		snprintf(names[i], sizeof(names[i]), "drain%d.slow.lab", i);
		creq(&r[i], names[i]);
		pcall_start(&c[i], ch, M_CHECK, &r[i].m.base, CALL_MS);
	}
	usleep(150000);
	kill(p.pid, SIGTERM);
	for (int i = 0; i < N; i++) {
		pcall_join(&c[i]);
		Caa__V1__CheckResponse *m =
		    c[i].res.status == GRPC_STATUS_OK
		        ? caa__v1__check_response__unpack(NULL, c[i].res.len, c[i].res.data)
		        : NULL;
		CHECK(m && m->verdict == CAA__V1__VERDICT__PERMITTED, "%s: %s %s", names[i],
		      gc_status_name(c[i].res.status), c[i].res.details);
		free_resp(m);
		gc_result_free(&c[i].res);
	}
	int st = h_stop(&p, SIGTERM, 30000);
	CHECK(st == 0, "exit status %d", st);
	json_t *d = h_log_find(&p, "draining", NULL, NULL, 0);
	CHECK(d && json_integer_value(json_object_get(d, "calls")) >= 1, "calls in flight at "
	                                                                 "SIGTERM");
	json_decref(d);
	json_t *s = h_log_find(&p, "stopped", NULL, NULL, 0);
	CHECK(s && json_integer_value(json_object_get(s, "cancelled")) == 0, "stopped line");
	json_decref(s);
	grpc_channel_destroy(ch);
	if (h_failures)
		h_log_dump(&p);
	h_free(&p);
}

void case_drain_bound(void)
{
	caad_proc_t p;
	grpc_channel *ch;
	json_t *cfg = h_lab_config();
	json_t *dns = json_object_get(cfg, "dns");
	json_object_set_new(dns, "timeout", json_string("30s"));
	json_object_set_new(dns, "query_timeout", json_string("30s"));
	json_object_set_new(dns, "unbound_conf", json_string(patient_unbound_conf()));
	t_start(&p, cfg, &ch);
	CHECK(t_health(ch, "") == 1, "not serving");
	creq_t r;
	creq(&r, "stuck.drop.lab");
	pcall_t c;
	pcall_start(&c, ch, M_CHECK, &r.m.base, 60000);
	usleep(300000);
	kill(p.pid, SIGTERM);
	/* The check would wait 30 s for DNS; the drain bound (5 s) ends it
	 * first: the call is cancelled, caad says so and exits 0. Only a hang
	 * is timed (h_stop's bound, well under the 30 s a missing bound takes
	 * as a whole). */
	pcall_join(&c);
	CHECK(c.res.status != GRPC_STATUS_OK, "a stuck check answered OK");
	gc_result_free(&c.res);
	int st = h_stop(&p, SIGTERM, 20000);
	CHECK(st == 0, "exit status %d", st);
	json_t *d = h_log_find(&p, "draining", NULL, NULL, 0);
	CHECK(d && json_integer_value(json_object_get(d, "calls")) == 1 &&
	          json_integer_value(json_object_get(d, "drain_ms")) == 5000,
	      "draining line: one call, a 5 s bound");
	json_decref(d);
	json_t *s = h_log_find(&p, "stopped", NULL, NULL, 0);
	CHECK(s && json_integer_value(json_object_get(s, "cancelled")) == 1, "one call cancelled");
	json_decref(s);
	json_t *l = h_log_find(&p, "check", "identifier", "stuck.drop.lab", 0);
	CHECK(l && json_is_string(json_object_get(l, "error")), "audit line of the cancelled "
	                                                        "check");
	json_decref(l);
	grpc_channel_destroy(ch);
	if (h_failures)
		h_log_dump(&p);
	h_free(&p);
}

void case_metrics(void)
{
	caad_proc_t p;
	grpc_channel *ch;
	json_t *cfg = h_lab_config();
	json_object_set_new(cfg, "metrics_listen", json_string("127.0.0.1:0"));
	/* our own per-query timeout, shorter than libunbound's give-up time:
	 * the TLD's dropped query ends as TIMEOUT */
	json_object_set_new(json_object_get(cfg, "dns"), "timeout", json_string("1500ms"));
	json_object_set_new(json_object_get(cfg, "dns"), "query_timeout", json_string("100ms"));
	t_start(&p, cfg, &ch);
	static const char *const names[] = {"issue-permit.lab", "www.issue-deny.lab",
	                                    "issue-permit.lab", "www.reg.labme"};
	for (size_t i = 0; i < 4; i++) {
		creq_t r;
		creq(&r, names[i]);
		free_resp(t_check(ch, &r));
	}
	char *page = h_http_get(p.metrics_port, "/metrics");
	CHECK(page && strncmp(page, "HTTP/1.1 200", 12) == 0, "GET /metrics");
	static const struct {
		const char *name;
		double want;
	} rows[] = {
	    {"caad_checks_total{verdict=\"PERMITTED\",reason=\"AUTHORIZED\"}", 2},
	    {"caad_checks_total{verdict=\"FORBIDDEN\",reason=\"NOT_AUTHORIZED\"}", 1},
	    {"caad_checks_total{verdict=\"LOOKUP_FAILED\",reason=\"DNS_TIMEOUT\"}", 1},
	    {"caad_reuse_hits_total", 1},
	    {"caad_label_errors_total{depth=\"1\",outcome=\"TIMEOUT\"}", 1},
	    {"caad_lookup_failed_total{depth=\"1\"}", 1},
	    {"caad_lookup_failed_total{depth=\"2\"}", 0},
	    {"caad_rpc_total{method=\"Check\",code=\"OK\"}", 4},
	    {"caad_checks_in_flight", 0},
	};
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++)
		CHECK(metric(page, rows[i].name) == rows[i].want, "%s = %g, want %g", rows[i].name,
		      metric(page, rows[i].name), rows[i].want);
	CHECK(metric(page, "caad_dns_queries_total") > 0, "queries counted");
	CHECK(metric(page, "caad_check_duration_seconds_count") == 3, "latency count");
	free(page);
	page = h_http_get(p.metrics_port, "/other");
	CHECK(page && strncmp(page, "HTTP/1.1 404", 12) == 0, "GET /other");
	free(page);
	t_stop(&p, ch);
}

/* ---- the command line (no gRPC in this process) ---- */

int caad_cmd(const char *args, char *out, size_t outlen)
{
	int st = h_run("'%s' %s >'%s/out' 2>&1", h_caad, args, h_tmp);
	char path[512];
	snprintf(path, sizeof(path), "%s/out", h_tmp);
	char *s = h_slurp(path);
	snprintf(out, outlen, "%s", s ? s : "");
	free(s);
	return st;
}

static bool one_line(const char *s)
{
	const char *nl = strchr(s, '\n');
	return nl != NULL && nl[1] == '\0';
}

void case_cli(void)
{
	char out[2048], args[1024];
	t_make_certs();
	json_t *cfg = h_lab_config();
	snprintf(args, sizeof(args), "--check-config '%s'", h_write_config(cfg, "good.json"));
	CHECK(caad_cmd(args, out, sizeof(out)) == 0 && strcmp(out, "config OK\n") == 0,
	      "good config: %s", out);
	CHECK(caad_cmd("--version", out, sizeof(out)) == 0, "--version");
	CHECK(caad_cmd("", out, sizeof(out)) == 2, "no arguments");
	CHECK(caad_cmd("--bogus x", out, sizeof(out)) == 2, "unknown option");
	CHECK(caad_cmd("--check-config /nonexistent.json", out, sizeof(out)) == 2 &&
	          one_line(out) && strstr(out, "/nonexistent.json"),
	      "missing file: %s", out);

	static const struct {
		const char *json, *want;
	} bad[] = {
	    {"{\"listen\": 5}", "listen"},
	    {"{\"dns\": {\"timeot\": \"1s\"}}", "dns.timeot"},
	    {"{\"tls\": {\"cert\": \"/nonexistent.pem\", \"key\": \"/nonexistent.key\"}}",
	     "tls.cert"},
	    {"{\"dns\": {\"unbound_conf\": \"/nonexistent.conf\"}}", "dns.unbound_conf"},
	    /* one remote under "br": short of the BR minimum on any date since 2025-03-15 */
	    {"{\"perspective\": {\"remotes\": [{\"name\": \"r\", \"rir\": "
	     "\"RIPE\", \"address\": \"127.0.0.1:1\"}]}}",
	     "perspective.remotes"},
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		json_error_t e;
		json_t *j = json_loads(bad[i].json, 0, &e);
		snprintf(args, sizeof(args), "--check-config '%s'", h_write_config(j, "bad.json"));
		json_decref(j);
		int st = caad_cmd(args, out, sizeof(out));
		CHECK(st == 2 && one_line(out) && strncmp(out, "caad: ", 6) == 0 &&
		          strstr(out, bad[i].want),
		      "%s: status %d, \"%s\"", bad[i].json, st, out);
	}
	/* a key that is not the certificate's */
	json_t *tls =
	    json_pack("{s:s+, s:s+}", "cert", h_tmp, "/server.pem", "key", h_tmp, "/client.key");
	json_object_set_new(cfg, "tls", tls);
	snprintf(args, sizeof(args), "--check-config '%s'", h_write_config(cfg, "bad.json"));
	CHECK(caad_cmd(args, out, sizeof(out)) == 2 && strstr(out, "does not belong"),
	      "mismatched key: %s", out);
	json_object_del(cfg, "tls");

	/* ports in use: a running caad holds one */
	caad_proc_t p;
	CHECK(h_start(&p, cfg) == 0, "caad did not start");
	char addr[64];
	snprintf(addr, sizeof(addr), "127.0.0.1:%d", p.port);
	json_object_set_new(cfg, "listen", json_string(addr));
	snprintf(args, sizeof(args), "--config '%s'", h_write_config(cfg, "taken.json"));
	int st = caad_cmd(args, out, sizeof(out));
	CHECK(st == 2 && one_line(out) && strstr(out, "listen"), "listen in use: %d %s", st, out);
	json_object_set_new(cfg, "listen", json_string("127.0.0.1:0"));
	json_object_set_new(cfg, "metrics_listen", json_string(addr));
	snprintf(args, sizeof(args), "--config '%s'", h_write_config(cfg, "taken.json"));
	st = caad_cmd(args, out, sizeof(out));
	CHECK(st == 2 && one_line(out) && strstr(out, "metrics_listen"), "metrics in use: %d %s",
	      st, out);
	CHECK(h_stop(&p, SIGTERM, 15000) == 0, "exit status");
	h_free(&p);
	json_decref(cfg);
}

/* ---- an independent gRPC implementation: grpc-js ---- */

void case_grpcjs(void)
{
	char dir[512];
	snprintf(dir, sizeof(dir), "%s/tests/server/node", h_source);
	caad_proc_t p;
	grpc_channel *ch;
	t_start(&p, h_lab_config(), &ch);
	char script[600], protos[600];
	snprintf(script, sizeof(script), "%s/client.js", dir);
	snprintf(protos, sizeof(protos), "%s/proto", h_source);
	char *argv[] = {"node", script, p.target, protos, NULL};
	int st = h_spawn_wait(argv);
	CHECK(st == 0, "node client.js exited %d", st);
	t_stop(&p, ch);
}

/* ---- numbers: Evaluate calls/s at 16 in flight (not a test) ---- */

typedef struct bench {
	grpc_channel *ch;
	uint8_t *req;
	size_t len;
	double until;
	long calls, errors;
	pthread_t th;
} bench_t;

static void *bench_thread(void *arg)
{
	bench_t *b = arg;
	while (h_now_ms() < b->until) {
		gc_result_t res;
		if (gc_call(b->ch, M_EVALUATE, b->req, b->len, 5000, &res) != 0 ||
		    res.status != GRPC_STATUS_OK)
			b->errors++;
		else
			b->calls++;
		gc_result_free(&res);
	}
	return NULL;
}

void case_bench_evaluate(void)
{
	caad_proc_t p;
	grpc_channel *ch;
	t_start(&p, h_lab_config(), &ch);
	const char *env = getenv("CAAD_BENCH_INFLIGHT");
	int n = env ? atoi(env) : 16;
	double secs = getenv("CAAD_BENCH_SECONDS") ? atof(getenv("CAAD_BENCH_SECONDS")) : 5;
	Caa__V1__EvaluateRequest req = CAA__V1__EVALUATE_REQUEST__INIT;
	Caa__V1__Identifier id = CAA__V1__IDENTIFIER__INIT;
	Caa__V1__LabelRRset l = CAA__V1__LABEL_RRSET__INIT, *lp = &l;
	Caa__V1__Record rec = CAA__V1__RECORD__INIT, *rp = &rec;
	id.value = "www.shop.example";
	l.name = "shop.example";
	rec.tag = "issue";
	rec.value = "ca.example; accounturi=" ACCOUNT_1;
	l.records = &rp;
	l.n_records = 1;
	req.identifier = &id;
	req.account_uri = ACCOUNT_1;
	req.labels = &lp;
	req.n_labels = 1;
	size_t len = protobuf_c_message_get_packed_size(&req.base);
	uint8_t *buf = malloc(len);
	protobuf_c_message_pack(&req.base, buf);
	bench_t *b = calloc((size_t)n, sizeof(*b));
	double t0 = h_now_ms();
	for (int i = 0; i < n; i++) {
		b[i] = (bench_t){.ch = ch, .req = buf, .len = len, .until = t0 + secs * 1000};
		pthread_create(&b[i].th, NULL, bench_thread, &b[i]);
	}
	long calls = 0, errors = 0;
	for (int i = 0; i < n; i++) {
		pthread_join(b[i].th, NULL);
		calls += b[i].calls;
		errors += b[i].errors;
	}
	double took = (h_now_ms() - t0) / 1000;
	printf("Evaluate: %d in flight, %.1f s: %ld calls, %.0f calls/s, %ld errors\n", n, took,
	       calls, calls / took, errors);
	free(b);
	free(buf);
	t_stop(&p, ch);
}
