/*
 * t_redis.c — caads sharing a reuse cache on a real redis-server
 * (docs/reuse-window.md, "The Redis backend"): one replica's permission
 * reused by another with what it reuses, Redis killed under load (no wrong
 * answer, no crash, answers from DNS), and reuse resuming after a restart.
 * And Redis over TLS only, through the stunnel tunnel deploy/redis-tls/
 * ships (docs/operations.md, "Redis over TLS").
 */
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "cases.h"
#include "redis_proc.h"

static redis_proc_t redis;

static void free_resp(Caa__V1__CheckResponse *m)
{
	if (m != NULL)
		protobuf_c_message_free_unpacked(&m->base, NULL);
}

/* The lab config with the Redis backend at addr; a secret shared by the replicas. */
static json_t *redis_config_at(const char *addr)
{
	char path[512];
	json_t *cfg = h_lab_config();
	snprintf(path, sizeof(path), "%s/cache.key", h_tmp);
	FILE *f = fopen(path, "w");
	if (f == NULL) {
		perror(path);
		exit(1);
	}
	fputs("a secret the replicas share, 32+ octets\n", f);
	fclose(f);
	json_object_set_new(cfg, "metrics_listen", json_string("127.0.0.1:0"));
	json_object_set_new(cfg, "cache",
	                    json_pack("{s:s,s:{s:s,s:s,s:s}}", "backend", "redis", "redis",
	                              "address", addr, "key_file", path, "timeout", "200ms"));
	return cfg;
}

/* The lab config with the Redis backend on redis. */
static json_t *redis_config(void)
{
	char addr[64];
	snprintf(addr, sizeof(addr), "127.0.0.1:%d", redis.port);
	return redis_config_at(addr);
}

/* false (and the case is skipped) without redis-server */
static bool start_redis(void)
{
	if (!redis_available()) {
		h_skip = "no redis-server";
		return false;
	}
	if (redis_start(&redis, 0, h_tmp) != 0) {
		CHECK(false, "redis-server did not start");
		return false;
	}
	return true;
}

void case_redis_shared(void)
{
	caad_proc_t a, b;
	grpc_channel *cha, *chb;
	creq_t r;
	Caa__V1__CheckResponse *m;

	if (!start_redis())
		return;
	t_start(&a, redis_config(), &cha);
	t_start(&b, redis_config(), &chb);

	/* a permission earned on A is reused on B, without DNS, saying what it
	 * reuses: A's check time, relevant domain, DNSSEC state, deciding record */
	creq(&r, "issue-permit.lab");
	Caa__V1__CheckResponse *first = t_check(cha, &r);
	CHECK(first && first->verdict == CAA__V1__VERDICT__PERMITTED && !first->reused, "A checks");
	creq(&r, "issue-permit.lab");
	m = t_check(chb, &r);
	CHECK(m && m->verdict == CAA__V1__VERDICT__PERMITTED && m->reused && m->queries == 0,
	      "B reuses A's permission");
	if (first != NULL && m != NULL) {
		CHECK(m->checked_at && first->checked_at &&
		          m->checked_at->seconds == first->checked_at->seconds &&
		          m->checked_at->nanos == first->checked_at->nanos,
		      "from A's check time");
		CHECK_STR(m->relevant_domain, first->relevant_domain);
		CHECK(m->dnssec == first->dnssec && m->dnssec != CAA__V1__DNSSEC__INDETERMINATE,
		      "dnssec %d, A's %d", m->dnssec, first->dnssec);
		const Caa__V1__Record *want = NULL, *got = NULL;
		for (size_t i = 0; i < first->n_records; i++)
			if (first->records[i]->decided)
				want = first->records[i];
		for (size_t i = 0; i < m->n_records; i++)
			if (m->records[i]->decided)
				got = m->records[i];
		CHECK(want && got && got->flags == want->flags && h_str_eq(got->tag, want->tag) &&
		          h_str_eq(got->value, want->value) && got->authorizes,
		      "the deciding record reused");
	}
	free_resp(first);
	free_resp(m);
	/* a forbidden name is never reused, on either */
	for (int i = 0; i < 2; i++) {
		creq(&r, "www.issue-deny.lab");
		m = t_check(i == 0 ? cha : chb, &r);
		CHECK(m && m->verdict == CAA__V1__VERDICT__FORBIDDEN && !m->reused,
		      "forbidden on %s", i == 0 ? "A" : "B");
		free_resp(m);
	}
	char *page = h_http_get(b.metrics_port, "/metrics");
	CHECK(page && strstr(page, "caad_cache_errors_total{backend=\"redis\"} 0"),
	      "no cache errors on B");
	free(page);

	t_stop(&a, cha);
	t_stop(&b, chb);
	redis_signal(&redis, SIGTERM);
}

/* ---- Redis killed under load ---- */

#define LOAD_THREADS 6
#define LOAD_CALLS   400

typedef struct load {
	grpc_channel *ch;
	int id;
	atomic_int *done;
	atomic_int *wrong, *failed, *reused;
} load_t;

static void *load_thread(void *arg)
{
	load_t *l = arg;
	for (int j = 0; j < LOAD_CALLS; j++) {
		bool deny = (j + l->id) % 2 == 0;
		char acct[96];
		creq_t r;
		gc_result_t res;
		snprintf(acct, sizeof(acct), "https://ca.example/acme/acct/%d", j % 10);
		creq(&r, deny ? "www.issue-deny.lab" : "issue-permit.lab");
		r.m.account_uri = acct;
		Caa__V1__CheckResponse *m = (Caa__V1__CheckResponse *)t_call(
		    l->ch, M_CHECK, &r.m.base, &caa__v1__check_response__descriptor, CALL_MS, &res);
		if (m == NULL || res.status != GRPC_STATUS_OK)
			atomic_fetch_add(l->failed, 1);
		else if (deny && m->verdict == CAA__V1__VERDICT__PERMITTED)
			atomic_fetch_add(l->wrong, 1); /* the one answer that must never happen */
		else if (!deny && m->verdict != CAA__V1__VERDICT__PERMITTED)
			atomic_fetch_add(l->failed, 1); /* the lab permits it: DNS failed */
		else if (m->reused)
			atomic_fetch_add(l->reused, 1);
		free_resp(m);
		gc_result_free(&res);
		atomic_fetch_add(l->done, 1);
	}
	return NULL;
}

void case_redis_kill(void)
{
	caad_proc_t p;
	grpc_channel *ch;
	atomic_int done = 0, wrong = 0, failed = 0, reused = 0;
	load_t l[LOAD_THREADS];
	pthread_t t[LOAD_THREADS];

	if (!start_redis())
		return;
	t_start(&p, redis_config(), &ch);
	for (int i = 0; i < LOAD_THREADS; i++) {
		l[i] = (load_t){ch, i, &done, &wrong, &failed, &reused};
		pthread_create(&t[i], NULL, load_thread, &l[i]);
	}
	/* SIGKILL with about a third of the calls answered */
	for (int i = 0; i < 60000 && atomic_load(&done) < LOAD_THREADS * LOAD_CALLS / 3; i++)
		usleep(500);
	redis_signal(&redis, SIGKILL);
	int at_kill = atomic_load(&done);
	CHECK(at_kill < LOAD_THREADS * LOAD_CALLS, "the load was over before the kill");
	for (int i = 0; i < LOAD_THREADS; i++)
		pthread_join(t[i], NULL);
	printf("redis killed after %d of %d calls: %d reused, %d forbidden names permitted, %d "
	       "failed\n",
	       at_kill, LOAD_THREADS * LOAD_CALLS, atomic_load(&reused), atomic_load(&wrong),
	       atomic_load(&failed));
	CHECK(atomic_load(&wrong) == 0, "%d wrong verdicts", atomic_load(&wrong));
	CHECK(atomic_load(&failed) == 0, "%d failed calls", atomic_load(&failed));
	CHECK(atomic_load(&reused) > 0, "nothing was reused through Redis before the kill");
	CHECK(t_health(ch, "") == 1, "caad not serving after the kill");
	char *page = h_http_get(p.metrics_port, "/metrics");
	const char *e = page ? strstr(page, "caad_cache_errors_total{backend=\"redis\"} ") : NULL;
	CHECK(e && atof(e + strlen("caad_cache_errors_total{backend=\"redis\"} ")) > 0,
	      "errors counted");
	free(page);
	json_t *line =
	    h_log_find(&p, "reuse cache error: a miss, the check goes to DNS", NULL, NULL, 5000);
	CHECK(line != NULL, "the error logged");
	json_decref(line);

	/* restarted (empty, same port): reuse resumes once caad reconnects */
	CHECK(redis_start(&redis, redis.port, h_tmp) == 0, "redis-server did not restart");
	bool resumed = false;
	for (int i = 0; i < 100 && !resumed; i++) { /* the backoff is at most 5 s */
		creq_t r;
		creq(&r, "issue-permit.lab");
		r.m.account_uri = "https://ca.example/acme/acct/77";
		Caa__V1__CheckResponse *m = t_check(ch, &r);
		free_resp(m);
		m = t_check(ch, &r);
		resumed = m != NULL && m->reused && m->queries == 0;
		free_resp(m);
		if (!resumed)
			usleep(100 * 1000);
	}
	CHECK(resumed, "reuse did not resume after the restart");
	size_t lines = h_log_count(&p, "reuse cache error: a miss, the check goes to DNS");
	printf("%zu error lines for %d calls without Redis\n", lines,
	       LOAD_THREADS * LOAD_CALLS - at_kill);
	CHECK(lines <= 3, "error lines are not rate-limited: %zu", lines);

	t_stop(&p, ch);
	redis_signal(&redis, SIGTERM);
}

/* ---- Redis over TLS only, through the tunnel deploy/redis-tls/ ships ---- */

static redis_proc_t tunnel;

void case_redis_tls_prepare(void)
{
	if (!tunnel_available()) {
		h_skip = "no stunnel4";
		return;
	}
	if (!redis_available()) {
		h_skip = "no redis-server";
		return;
	}
	t_make_certs();
}

/* deploy/redis-tls/caad-redis-tunnel.conf as shipped, with only its
 * addresses and file paths made this test's (host: what checkHost expects);
 * the path of the copy. */
static const char *tunnel_config(const char *name, const char *sock, const char *host)
{
	static char path[512];
	char src[512], line[512], key[32];
	int replaced = 0;
	snprintf(src, sizeof(src), "%s/deploy/redis-tls/caad-redis-tunnel.conf", h_source);
	snprintf(path, sizeof(path), "%s/%s", h_tmp, name);
	FILE *in = fopen(src, "r"), *out = fopen(path, "w");
	if (in == NULL || out == NULL) {
		perror(in == NULL ? src : path);
		exit(1);
	}
	while (fgets(line, sizeof(line), in) != NULL) {
		if (line[0] == ';' || sscanf(line, "%31s =", key) != 1) {
			fputs(line, out);
			continue;
		}
		replaced++;
		if (strcmp(key, "accept") == 0)
			fprintf(out, "accept = %s\n", sock);
		else if (strcmp(key, "connect") == 0)
			fprintf(out, "connect = 127.0.0.1:%d\n", redis.port);
		else if (strcmp(key, "CAfile") == 0)
			fprintf(out, "CAfile = %s/ca.pem\n", h_tmp);
		else if (strcmp(key, "checkHost") == 0)
			fprintf(out, "checkHost = %s\n", host);
		else if (strcmp(key, "cert") == 0)
			fprintf(out, "cert = %s/client.pem\n", h_tmp);
		else if (strcmp(key, "key") == 0)
			fprintf(out, "key = %s/client.key\n", h_tmp);
		else {
			replaced--;
			fputs(line, out);
		}
	}
	fclose(in);
	fclose(out);
	CHECK(replaced == 6, "the shipped tunnel config lost a setting the test replaces: %d of 6",
	      replaced);
	return path;
}

/* redis-cli with TLS to redis, verifying it with the test CA, plus args; its
 * output (stdout and stderr) in a malloc'ed string, or NULL. */
static char *tls_cli(const char *args)
{
	char cmd[2048], out[512];
	snprintf(out, sizeof(out), "%s/redis-cli.out", h_tmp);
	snprintf(cmd, sizeof(cmd),
	         "redis-cli --tls --cacert '%s/ca.pem' -h 127.0.0.1 -p %d %s >'%s' 2>&1", h_tmp,
	         redis.port, args, out);
	char *const argv[] = {"sh", "-c", cmd, NULL};
	h_spawn_wait(argv);
	return h_slurp(out);
}

static double cache_errors(const caad_proc_t *p)
{
	char *page = h_http_get(p->metrics_port, "/metrics");
	double v = page ? metric(page, "caad_cache_errors_total{backend=\"redis\"}") : -1;
	free(page);
	return v;
}

/* A permission checked then reused through the cache, within 10 s of tries
 * (caad's reconnection backoff is at most 5 s). */
static bool reuse_resumes(grpc_channel *ch)
{
	for (int i = 0; i < 100; i++) {
		creq_t r;
		creq(&r, "issue-permit.lab");
		r.m.account_uri = "https://ca.example/acme/acct/77";
		Caa__V1__CheckResponse *m = t_check(ch, &r);
		free_resp(m);
		m = t_check(ch, &r);
		bool reused = m != NULL && m->reused && m->queries == 0;
		free_resp(m);
		if (reused)
			return true;
		usleep(100 * 1000);
	}
	return false;
}

void case_redis_tls(void)
{
	caad_proc_t p;
	grpc_channel *ch;
	creq_t r;
	Caa__V1__CheckResponse *m;
	char cert[512], key[512], ca[512], sock[128], addr[160], out[64], args[1200];

	snprintf(cert, sizeof(cert), "%s/server.pem", h_tmp);
	snprintf(key, sizeof(key), "%s/server.key", h_tmp);
	snprintf(ca, sizeof(ca), "%s/ca.pem", h_tmp);
	snprintf(sock, sizeof(sock), "%s/redis.sock", h_tmp);
	CHECK(redis_start_tls(&redis, 0, h_tmp, cert, key, ca) == 0, "redis-server did not start");

	/* the tunnel verifies the name in Redis's certificate: a wrong one never passes */
	CHECK(tunnel_start(&tunnel, tunnel_config("wrong-host.conf", sock, "redis.elsewhere.test"),
	                   sock) != 0,
	      "a tunnel expecting another host name reached Redis");
	redis_signal(&tunnel, SIGTERM);
	const char *conf = tunnel_config("tunnel.conf", sock, "localhost");
	if (tunnel_start(&tunnel, conf, sock) != 0) {
		CHECK(false, "no PING through the tunnel (stunnel: %s.log)", conf);
		redis_signal(&redis, SIGTERM);
		return;
	}

	/* Redis speaks TLS only, and only to a client certificate of the CA */
	redis_proc_t plain = {.port = redis.port};
	CHECK(redis_cmd(&plain, "PING\r\n", out, sizeof(out)) != 0 || strcmp(out, "+PONG") != 0,
	      "plaintext PING answered on the tls-port");
	char *s = tls_cli("PING");
	CHECK(s && strstr(s, "PONG") == NULL, "Redis answered without a client certificate: %s",
	      h_str(s));
	free(s);

	snprintf(addr, sizeof(addr), "unix:%s", sock);
	t_start(&p, redis_config_at(addr), &ch);

	/* a permission stored in Redis through the tunnel, and reused */
	creq(&r, "issue-permit.lab");
	m = t_check(ch, &r);
	CHECK(m && m->verdict == CAA__V1__VERDICT__PERMITTED && !m->reused, "the first check");
	free_resp(m);
	creq(&r, "issue-permit.lab");
	m = t_check(ch, &r);
	CHECK(m && m->verdict == CAA__V1__VERDICT__PERMITTED && m->reused && m->queries == 0,
	      "the second check reuses it");
	free_resp(m);
	snprintf(args, sizeof(args),
	         "--cert '%s/client.pem' --key '%s/client.key' --scan --pattern 'caa:*'", h_tmp,
	         h_tmp);
	s = tls_cli(args);
	CHECK(s && strncmp(s, "caa:", 4) == 0, "no caa: key in Redis: %s", h_str(s));
	free(s);
	CHECK(cache_errors(&p) == 0, "cache errors with the tunnel up");

	/* the tunnel killed: every check answers from DNS, nothing reused, nothing
	 * permitted that DNS did not permit */
	redis_signal(&tunnel, SIGKILL);
	for (int i = 0; i < 2; i++) {
		creq(&r, "issue-permit.lab");
		m = t_check(ch, &r);
		CHECK(m && m->verdict == CAA__V1__VERDICT__PERMITTED && !m->reused &&
		          m->queries > 0,
		      "permit from DNS without the tunnel (%d)", i);
		free_resp(m);
	}
	creq(&r, "www.issue-deny.lab");
	m = t_check(ch, &r);
	CHECK(m && m->verdict == CAA__V1__VERDICT__FORBIDDEN && !m->reused,
	      "deny without the tunnel");
	free_resp(m);
	creq(&r, "a.servfail.lab");
	m = t_check(ch, &r);
	CHECK(m && m->verdict == CAA__V1__VERDICT__LOOKUP_FAILED && !m->reused,
	      "a failed lookup without the tunnel");
	free_resp(m);
	CHECK(cache_errors(&p) > 0, "the misses without the tunnel not counted");
	CHECK(t_health(ch, "") == 1, "caad not serving without the tunnel");

	/* the tunnel back: reuse resumes once caad reconnects (backoff at most 5 s) */
	CHECK(tunnel_start(&tunnel, conf, sock) == 0, "the tunnel did not restart");
	CHECK(reuse_resumes(ch), "reuse did not resume with the tunnel back");

	/* SIGHUP (rotation, docs/operations.md: stunnel re-reads its config and
	 * files, re-binding its socket): through it again, and reuse goes on */
	kill(tunnel.pid, SIGHUP);
	bool back = false;
	for (double end = h_now_ms() + 10000; !back && h_now_ms() < end;) {
		back = redis_cmd(&tunnel, "PING\r\n", out, sizeof(out)) == 0 &&
		       strcmp(out, "+PONG") == 0;
		if (!back)
			usleep(50 * 1000);
	}
	CHECK(back, "no PING through the tunnel after SIGHUP");
	CHECK(reuse_resumes(ch), "no reuse after the tunnel's SIGHUP");

	t_stop(&p, ch);
	redis_signal(&tunnel, SIGTERM);
	redis_signal(&redis, SIGTERM);
}
