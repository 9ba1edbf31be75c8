/*
 * t_reload.c — SIGHUP (docs/caad.md#reload): 200 checks in flight while the
 * certificate and the profiles are swapped, none fails; a new connection
 * sees the new certificate; a profile only the new config has is refused
 * before and served after; a config that does not load, or one that moves
 * the listener, is rejected whole and the old one keeps serving.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "cases.h"

#define IN_FLIGHT 200

/* t_make_certs' CA and server, plus a second server certificate of the same
 * CA that only names reloaded.localhost: a handshake expecting that name
 * succeeds with it alone. */
void case_reload_prepare(void)
{
	t_make_certs();
	int rc =
	    h_run("set -e; cd '%s'; exec 2>>openssl.log\n"
	          "openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out next.key\n"
	          "openssl req -new -key next.key -out next.csr -subj /CN=reloaded\n"
	          "printf 'subjectAltName=DNS:reloaded.localhost\\n' >next.ext\n"
	          "openssl x509 -req -in next.csr -CA ca.pem -CAkey ca.key -CAcreateserial "
	          "-out next.pem -days 2 -extfile next.ext\n"
	          "cp server.pem live.pem; cp server.key live.key\n",
	          h_tmp);
	if (rc != 0) {
		fprintf(stderr, "FAIL: openssl could not make the second certificate\n");
		h_run("cat '%s/openssl.log' >&2", h_tmp);
		exit(1);
	}
}

/* The lab config over TLS from live.pem/live.key; with_profile: plus the
 * profile "reloaded". */
static json_t *reload_config(bool with_profile)
{
	json_t *cfg = h_lab_config();
	char c[512], k[512];
	snprintf(c, sizeof(c), "%s/live.pem", h_tmp);
	snprintf(k, sizeof(k), "%s/live.key", h_tmp);
	json_object_set_new(cfg, "tls", json_pack("{s:s, s:s}", "cert", c, "key", k));
	json_object_set_new(cfg, "metrics_listen", json_string("127.0.0.1:0"));
	/* all 200 lookups at the slow server at once */
	json_object_set_new(json_object_get(cfg, "dns"), "max_per_zone", json_integer(256));
	if (with_profile)
		json_object_set_new(json_object_get(cfg, "profiles"), "reloaded",
		                    json_pack("{s:s}", "critical", "unknown-or-unsupported"));
	return cfg;
}

/* A Check of crit-iodef.lab under profile "reloaded": its status. */
static grpc_status_code check_profile(grpc_channel *ch)
{
	creq_t r;
	creq(&r, "crit-iodef.lab");
	r.m.policy = "reloaded";
	uint8_t buf[512];
	size_t len = protobuf_c_message_pack(&r.m.base, buf);
	char msg[256];
	return t_raw(ch, M_CHECK, buf, len, msg, sizeof(msg));
}

/* Health over a new connection expecting `name` in the server certificate:
 * 1 SERVING, -1 when the handshake (or the call) failed. */
static int health_as(const caad_proc_t *p, const char *ca, const char *name)
{
	gc_tls_t tls = {.ca = ca, .server_name = name};
	grpc_channel *ch = gc_channel(p->target, &tls);
	int st = t_health(ch, "");
	grpc_channel_destroy(ch);
	return st;
}

/* The n-th (1 = first) log line with "msg" == msg, parsed; NULL if none yet. */
static json_t *nth_line(caad_proc_t *p, const char *msg, size_t n)
{
	json_t *found = NULL;
	pthread_mutex_lock(&p->lock);
	for (size_t i = 0, k = 0; i < p->n_lines && found == NULL; i++) {
		json_t *l = json_loads(p->lines[i], 0, NULL);
		if (l && h_str_eq(json_string_value(json_object_get(l, "msg")), msg) && ++k == n)
			found = json_incref(l);
		json_decref(l);
	}
	pthread_mutex_unlock(&p->lock);
	return found;
}

/* SIGHUP, then the n-th line msg (waiting for it). */
static json_t *hup(caad_proc_t *p, const char *msg, size_t n)
{
	kill(p->pid, SIGHUP);
	json_t *l = NULL;
	for (int i = 0; i < 300 && (l = nth_line(p, msg, n)) == NULL; i++)
		usleep(100000);
	return l;
}

/* Copy h_tmp/from to h_tmp/to whole: written aside, then renamed, as an
 * operator's tooling should (a reload never sees half a file). */
static void install_file(const char *from, const char *to)
{
	char src[512], tmp[512], dst[512];
	snprintf(src, sizeof(src), "%s/%s", h_tmp, from);
	snprintf(tmp, sizeof(tmp), "%s/%s.tmp", h_tmp, to);
	snprintf(dst, sizeof(dst), "%s/%s", h_tmp, to);
	char *text = h_slurp(src);
	FILE *f = fopen(tmp, "w");
	CHECK(text && f && fputs(text, f) >= 0 && fclose(f) == 0 && rename(tmp, dst) == 0,
	      "cannot install %s as %s", from, to);
	free(text);
}

static double page_metric(const caad_proc_t *p, const char *name)
{
	char *page = h_http_get(p->metrics_port, "/metrics");
	double v = metric(page, name);
	free(page);
	return v;
}

/* 200 checks at the slow server, SIGHUP in the middle: every one answered. */
static void reload_under_load(caad_proc_t *p, grpc_channel *ch)
{
	static pcall_t c[IN_FLIGHT];
	static creq_t r[IN_FLIGHT];
	static char names[IN_FLIGHT][32];
	for (int i = 0; i < IN_FLIGHT; i++) {
		snprintf(names[i], sizeof(names[i]), "hup%d.slow.lab", i);
		creq(&r[i], names[i]);
		pcall_start(&c[i], ch, M_CHECK, &r[i].m.base, CALL_MS);
	}
	usleep(150000); /* the slow server answers after 300 ms: in flight now */
	install_file("next.pem", "live.pem");
	install_file("next.key", "live.key");
	json_t *cfg = reload_config(true);
	h_write_config(cfg, "caad.json");
	json_decref(cfg);
	json_t *l = hup(p, "reloaded", 1);
	CHECK(l && json_integer_value(json_object_get(l, "generation")) == 2, "no reload");
	json_decref(l);
	int failed = 0;
	for (int i = 0; i < IN_FLIGHT; i++) {
		pcall_join(&c[i]);
		Caa__V1__CheckResponse *m =
		    c[i].res.status == GRPC_STATUS_OK
		        ? caa__v1__check_response__unpack(NULL, c[i].res.len, c[i].res.data)
		        : NULL;
		if (!(m && m->verdict == CAA__V1__VERDICT__PERMITTED)) {
			failed++;
			fprintf(stderr, "%s: %s %s\n", names[i], gc_status_name(c[i].res.status),
			        c[i].res.details);
		}
		if (m)
			protobuf_c_message_free_unpacked(&m->base, NULL);
		gc_result_free(&c[i].res);
	}
	CHECK(failed == 0, "%d of %d calls failed across the reload", failed, IN_FLIGHT);
	CHECK(h_log_count(p, "check") >= IN_FLIGHT, "audit lines: %zu", h_log_count(p, "check"));
}

void case_reload(void)
{
	char *ca = t_pem("ca.pem");
	caad_proc_t p;
	json_t *cfg = reload_config(false);
	CHECK(h_start(&p, cfg) == 0, "caad did not start");
	json_decref(cfg);
	gc_tls_t tls = {.ca = ca, .server_name = "localhost"};
	grpc_channel *ch = gc_channel(p.target, &tls);
	CHECK(t_health(ch, "") == 1, "not serving over TLS");
	CHECK(health_as(&p, ca, "reloaded.localhost") == -1, "the next certificate already");
	CHECK(check_profile(ch) == GRPC_STATUS_INVALID_ARGUMENT, "profile before the reload");

	reload_under_load(&p, ch);
	/* new connections get the new certificate; the old one stays up */
	CHECK(health_as(&p, ca, "reloaded.localhost") == 1, "new connection, old certificate");
	CHECK(health_as(&p, ca, "localhost") == -1, "new connection still gets the old one");
	CHECK(t_health(ch, "") == 1, "the connection from before the reload broke");
	CHECK(check_profile(ch) == GRPC_STATUS_OK, "profile after the reload");
	CHECK(page_metric(&p, "caad_config_reloads_total{result=\"ok\"}") == 1, "ok counter");
	CHECK(page_metric(&p, "caad_config_generation") == 2, "generation gauge");

	/* a config that does not load: rejected whole, the old one serves */
	char path[512];
	snprintf(path, sizeof(path), "%s/caad.json", h_tmp);
	FILE *f = fopen(path, "w");
	CHECK(f != NULL, "cannot rewrite the config");
	if (f != NULL) {
		fputs("{\"listen\": ", f);
		fclose(f);
	}
	json_t *l = hup(&p, "reload rejected", 1);
	CHECK(l && json_is_string(json_object_get(l, "error")), "no rejection line");
	json_decref(l);
	CHECK(check_profile(ch) == GRPC_STATUS_OK, "the old config went with the bad one");
	CHECK(page_metric(&p, "caad_config_reloads_total{result=\"error\"}") == 1, "error "
	                                                                           "counter");
	CHECK(page_metric(&p, "caad_config_generation") == 2, "generation moved");

	/* the listener cannot move: the key is named */
	cfg = reload_config(false);
	json_object_set_new(cfg, "listen", json_string("127.0.0.1:1"));
	h_write_config(cfg, "caad.json");
	json_decref(cfg);
	l = hup(&p, "reload rejected", 2);
	const char *err = l ? json_string_value(json_object_get(l, "error")) : NULL;
	CHECK(err && strstr(err, "listen: cannot change on reload"), "listen: %s", h_str(err));
	json_decref(l);
	CHECK(check_profile(ch) == GRPC_STATUS_OK, "rejected listen change took the profile");
	CHECK(page_metric(&p, "caad_config_reloads_total{result=\"error\"}") == 2, "error "
	                                                                           "counter");
	t_stop(&p, ch);
	free(ca);
}
