/*
 * t_clientnames.c — tls.client_names: over mTLS, a client whose certificate
 * (signed by tls.client_ca) carries none of the listed SAN DNS names or URIs
 * is refused with PERMISSION_DENIED and a "refused" audit line, on caa.v1
 * and va.CAA alike, before any check; the health check still answers it.
 * DNS names match DNS SANs case-insensitively, URIs match URI SANs exactly;
 * the subject, IP and e-mail SANs never match.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "cases.h"

#define ALLOWED_DNS "ra.ca.example"
#define ALLOWED_URI "spiffe://ca.example/primary"

void case_clientnames_prepare(void)
{
	t_make_certs();
	/* leaves of the same CA as the allowed client, differing only in SANs */
	int rc = h_run(
	    "set -e; cd '%s'; exec 2>>openssl.log\n"
	    "leaf() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out $1.key;"
	    " openssl req -new -key $1.key -out $1.csr -subj \"$2\";"
	    " printf 'extendedKeyUsage=clientAuth\\nsubjectAltName=%%s\\n' \"$3\" >$1.ext;"
	    " openssl x509 -req -in $1.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out $1.pem"
	    " -days 2 -extfile $1.ext; }\n"
	    "leaf ra '/CN=ra' 'DNS:RA.CA.Example'\n"
	    "leaf spiffe '/CN=primary' 'URI:" ALLOWED_URI "'\n"
	    /* the allowed names in every place that must not count */
	    "leaf stranger '/CN=" ALLOWED_DNS "' "
	    "'DNS:stranger.ca.example,URI:spiffe://ca.example/other,URI:" ALLOWED_URI "/x,"
	    "DNS:" ALLOWED_DNS ".evil,email:" ALLOWED_DNS ",IP:127.0.0.1'\n",
	    h_tmp);
	if (rc != 0) {
		fprintf(stderr, "FAIL: openssl could not make the client certificates\n");
		h_run("cat '%s/openssl.log' >&2", h_tmp);
		exit(1);
	}
}

static grpc_channel *channel(const caad_proc_t *p, const char *ca, const char *cert,
                             const char *key)
{
	gc_tls_t tls = {.ca = ca, .cert = cert, .key = key, .server_name = "localhost"};
	return gc_channel(p->target, &tls);
}

static grpc_status_code check(grpc_channel *ch, const char *ident, char *msg, size_t len)
{
	creq_t r;
	gc_result_t res;
	creq(&r, ident);
	t_call(ch, M_CHECK, &r.m.base, NULL, CALL_MS, &res);
	grpc_status_code code = res.status;
	snprintf(msg, len, "%s", res.details);
	gc_result_free(&res);
	return code;
}

/* Boulder's IsCAAValidRequest, packed by field number (t_docaa.c). */
static grpc_status_code docaa(grpc_channel *ch, const char *ident, char *msg, size_t len)
{
	pbw_t w = {.len = 0}, id = {.len = 0};
	pbw_str(&id, 1, "dns");
	pbw_str(&id, 2, ident);
	pbw_msg(&w, 5, &id);
	pbw_str(&w, 2, "dns-01");
	pbw_int(&w, 3, 1);
	return t_raw(ch, M_DOCAA, w.buf, w.len, msg, len);
}

/* The count of msg lines once it reaches want (the log is read as caad
 * writes it), or what it is after a generous bound. */
static size_t count_lines(caad_proc_t *p, const char *msg, size_t want)
{
	size_t n = h_log_count(p, msg);
	for (int i = 0; i < 500 && n < want; i++) {
		usleep(10000);
		n = h_log_count(p, msg);
	}
	return n;
}

/* Whether the "refused" line of rpc lists san among the peer's SANs. */
static bool refused_lists(caad_proc_t *p, const char *rpc, const char *san)
{
	json_t *l = h_log_find(p, "refused", "rpc", rpc, 5000);
	bool found = false;
	size_t i;
	json_t *v;
	json_array_foreach(l ? json_object_get(l, "sans") : NULL, i, v)
	{
		found |= strcmp(json_string_value(v), san) == 0;
	}
	json_decref(l);
	return found;
}

void case_clientnames(void)
{
	char *ca = t_pem("ca.pem");
	char *ra = t_pem("ra.pem"), *ra_key = t_pem("ra.key");
	char *sp = t_pem("spiffe.pem"), *sp_key = t_pem("spiffe.key");
	char *st = t_pem("stranger.pem"), *st_key = t_pem("stranger.key");
	char *plain = t_pem("client.pem"), *plain_key = t_pem("client.key");
	char path[3][512];
	snprintf(path[0], sizeof(path[0]), "%s/server.pem", h_tmp);
	snprintf(path[1], sizeof(path[1]), "%s/server.key", h_tmp);
	snprintf(path[2], sizeof(path[2]), "%s/ca.pem", h_tmp);
	json_t *cfg = h_lab_config();
	json_object_set_new(cfg, "tls",
	                    json_pack("{s:s, s:s, s:s, s:[s,s]}", "cert", path[0], "key", path[1],
	                              "client_ca", path[2], "client_names", ALLOWED_DNS,
	                              ALLOWED_URI));
	caad_proc_t p;
	CHECK(h_start(&p, cfg) == 0, "caad with client_names did not start");
	json_decref(cfg);
	char msg[512];
	grpc_status_code code;

	/* the listed clients get answers */
	grpc_channel *ch = channel(&p, ca, ra, ra_key);
	code = check(ch, "issue-permit.lab", msg, sizeof(msg));
	CHECK(code == GRPC_STATUS_OK, "DNS SAN (other case) Check: %s %s", gc_status_name(code),
	      msg);
	code = docaa(ch, "issue-permit.lab", msg, sizeof(msg));
	CHECK(code == GRPC_STATUS_OK, "DNS SAN DoCAA: %s %s", gc_status_name(code), msg);
	grpc_channel_destroy(ch);
	ch = channel(&p, ca, sp, sp_key);
	code = check(ch, "issue-permit.lab", msg, sizeof(msg));
	CHECK(code == GRPC_STATUS_OK, "URI SAN Check: %s %s", gc_status_name(code), msg);
	grpc_channel_destroy(ch);

	/* a stranger of the same CA: refused on every service but health */
	ch = channel(&p, ca, st, st_key);
	code = check(ch, "stranger.issue-permit.lab", msg, sizeof(msg));
	CHECK(code == GRPC_STATUS_PERMISSION_DENIED && strstr(msg, "tls.client_names"),
	      "stranger Check: %s %s", gc_status_name(code), msg);
	code = docaa(ch, "stranger.issue-permit.lab", msg, sizeof(msg));
	CHECK(code == GRPC_STATUS_PERMISSION_DENIED, "stranger DoCAA: %s %s", gc_status_name(code),
	      msg);
	code = t_raw(ch, M_ORDER, "", 0, msg, sizeof(msg));
	CHECK(code == GRPC_STATUS_PERMISSION_DENIED, "stranger CheckOrder: %s %s",
	      gc_status_name(code), msg);
	code = t_raw(ch, M_EVALUATE, "", 0, msg, sizeof(msg));
	CHECK(code == GRPC_STATUS_PERMISSION_DENIED, "stranger Evaluate: %s %s",
	      gc_status_name(code), msg);
	code = t_raw(ch, "/caa.v1.CAA/Nope", "", 0, msg, sizeof(msg));
	CHECK(code == GRPC_STATUS_PERMISSION_DENIED, "stranger unknown method: %s %s",
	      gc_status_name(code), msg);
	CHECK(t_health(ch, "") == 1, "health refused to a stranger");
	grpc_channel_destroy(ch);

	/* a client certificate without SANs: its subject does not count */
	ch = channel(&p, ca, plain, plain_key);
	code = check(ch, "plain.issue-permit.lab", msg, sizeof(msg));
	CHECK(code == GRPC_STATUS_PERMISSION_DENIED, "client without SANs: %s %s",
	      gc_status_name(code), msg);
	grpc_channel_destroy(ch);

	/* the audit says who was refused and for what */
	CHECK(refused_lists(&p, "Check", "DNS:stranger.ca.example") &&
	          refused_lists(&p, "Check", "URI:spiffe://ca.example/other"),
	      "refused Check line lists the stranger's SANs");
	CHECK(refused_lists(&p, "DoCAA", "DNS:" ALLOWED_DNS ".evil"), "refused DoCAA line");
	json_t *l = h_log_find(&p, "refused", "rpc", "Check", 0);
	const char *client = l ? json_string_value(json_object_get(l, "client")) : NULL;
	CHECK(client && strstr(client, "CN=" ALLOWED_DNS), "client identity: %s",
	      client ? client : "(none)");
	json_decref(l);
	size_t n = count_lines(&p, "refused", 6);
	CHECK(n == 6, "%zu refused lines, want 6", n);
	/* nothing else happened for them: only the three answered calls checked */
	n = count_lines(&p, "check", 3);
	CHECK(n == 3, "%zu check lines, want 3", n);

	CHECK(h_stop(&p, SIGTERM, 15000) == 0, "exit status");
	if (h_failures)
		h_log_dump(&p);
	h_free(&p);
	free(ca);
	free(ra);
	free(ra_key);
	free(sp);
	free(sp_key);
	free(st);
	free(st_key);
	free(plain);
	free(plain_key);
}
