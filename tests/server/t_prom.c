/*
 * t_prom.c — caad scraped by a real Prometheus (Debian's prometheus, 2.42):
 * started on 127.0.0.1 on a free port with a scrape config for caad's
 * metrics port (1 s interval, TSDB in the test's temporary directory),
 * stopped by PID. Under load from this process, the HTTP query API must show
 * the caad job up and Boulder's and caad's series present and moving.
 * Every query of the Grafana dashboard (deploy/grafana/caad.json) must be
 * accepted by it too. Bounded waits only. SKIP (77) without a prometheus binary
 * ($CAAD_PROMETHEUS, else prometheus on PATH).
 */
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cases.h"

extern char **environ;

static char prom_bin[512];

void case_prometheus_prepare(void)
{
	const char *env = getenv("CAAD_PROMETHEUS");
	if (env != NULL && *env) {
		snprintf(prom_bin, sizeof(prom_bin), "%s", env);
	} else {
		const char *path = getenv("PATH");
		char *copy = strdup(path ? path : "/usr/bin:/bin");
		for (char *save = NULL, *d = strtok_r(copy, ":", &save); d && !*prom_bin;
		     d = strtok_r(NULL, ":", &save)) {
			char cand[512];
			snprintf(cand, sizeof(cand), "%s/prometheus", d);
			if (access(cand, X_OK) == 0)
				snprintf(prom_bin, sizeof(prom_bin), "%s", cand);
		}
		free(copy);
	}
	if (!*prom_bin || access(prom_bin, X_OK) != 0)
		h_skip =
		    "no prometheus binary (apt-get install prometheus, or set CAAD_PROMETHEUS)";
}

/* A port free on 127.0.0.1 now (the kernel's pick; closed again). */
static int free_port(void)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(0x7f000001)};
	socklen_t sl = sizeof(sa);
	int port = -1;
	if (fd >= 0 && bind(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0 &&
	    getsockname(fd, (struct sockaddr *)&sa, &sl) == 0)
		port = ntohs(sa.sin_port);
	if (fd >= 0)
		close(fd);
	return port;
}

/* One number from an instant query (URL-encoded), or -1 (no answer, no
 * sample). The first sample of the vector. */
static double query(int port, const char *q)
{
	char path[1024];
	snprintf(path, sizeof(path), "/api/v1/query?query=%s", q);
	char *resp = h_http_get(port, path);
	const char *body = resp ? strstr(resp, "\r\n\r\n") : NULL;
	double v = -1;
	json_t *j = body ? json_loads(body + 4, 0, NULL) : NULL;
	json_t *r0 = json_array_get(json_object_get(json_object_get(j, "data"), "result"), 0);
	const char *s = json_string_value(json_array_get(json_object_get(r0, "value"), 1));
	if (s != NULL)
		v = atof(s);
	json_decref(j);
	free(resp);
	return v;
}

/* s with "$__rate_interval" as 10s and "$job" as caad, URL-encoded. */
static void dashboard_query(const char *s, char *out, size_t size)
{
	size_t n = 0;
	while (*s && n + 8 < size) {
		const char *sub = NULL;
		if (strncmp(s, "$__rate_interval", 16) == 0) {
			sub = "10s";
			s += 16;
		} else if (strncmp(s, "$job", 4) == 0) {
			sub = "caad";
			s += 4;
		}
		for (const char *c = sub ? sub : s; *c && (sub || c == s) && n + 8 < size; c++) {
			unsigned char u = (unsigned char)*c;
			if ((u >= 'a' && u <= 'z') || (u >= 'A' && u <= 'Z') ||
			    (u >= '0' && u <= '9') || u == '_' || u == '.')
				out[n++] = (char)u;
			else
				n += (size_t)snprintf(out + n, size - n, "%%%02X", u);
		}
		if (!sub)
			s++;
	}
	out[n] = '\0';
}

/* Every query of deploy/grafana/caad.json is one this Prometheus accepts. */
static void check_dashboard(int port)
{
	char path[512];
	snprintf(path, sizeof(path), "%s/deploy/grafana/caad.json", h_source);
	json_t *dash = json_load_file(path, 0, NULL);
	CHECK(dash != NULL, "%s does not load", path);
	size_t i, k, n = 0;
	json_t *panel, *target;
	json_array_foreach(json_object_get(dash, "panels"), i, panel)
	{
		json_array_foreach(json_object_get(panel, "targets"), k, target)
		{
			const char *expr = json_string_value(json_object_get(target, "expr"));
			/* a head of its own: h_http_get's path is short */
			char q[2048], head[2200];
			dashboard_query(expr ? expr : "", q, sizeof(q));
			snprintf(head, sizeof(head), "GET /api/v1/query?query=%s HTTP/1.0\r\n\r\n",
			         q);
			char *resp = h_http_raw(port, head);
			CHECK(resp && strstr(resp, "\"status\":\"success\""),
			      "dashboard query %s: %.300s", expr ? expr : "(none)",
			      resp ? resp : "(no answer)");
			free(resp);
			n++;
		}
	}
	CHECK(n > 10, "%zu dashboard queries", n);
	json_decref(dash);
}

static void load(grpc_channel *ch, int n)
{
	static const char *const names[] = {"issue-permit.lab", "www.issue-deny.lab"};
	for (int i = 0; i < n; i++) {
		creq_t r;
		creq(&r, names[i % 2]);
		Caa__V1__CheckResponse *resp = t_check(ch, &r);
		if (resp)
			protobuf_c_message_free_unpacked(&resp->base, NULL);
	}
}

/* URL-encoded instant queries and what their value must exceed */
static const struct {
	const char *what, *q;
	double above;
} wants[] = {
    {"up{job=\"caad\"} == 1", "up%7Bjob%3D%22caad%22%7D", 0.5},
    {"increase(caa_sets_processed[20s])", "sum(increase(caa_sets_processed%5B20s%5D))", 0},
    {"increase(validation_latency_count[20s])",
     "sum(increase(validation_latency_count%7Boperation%3D%22caa%22%7D%5B20s%5D))", 0},
    {"increase(dns_query_time_count[20s])", "sum(increase(dns_query_time_count%5B20s%5D))", 0},
    {"increase(caad_rpc_total[20s])", "sum(increase(caad_rpc_total%5B20s%5D))", 0},
    {"caad_reuse_lookups_total present", "count(caad_reuse_lookups_total)", 0},
    {"caad_calls_in_flight present", "count(caad_calls_in_flight)", 0},
};
#define N_WANTS (sizeof(wants) / sizeof(wants[0]))

void case_prometheus(void)
{
	caad_proc_t p;
	grpc_channel *ch;
	json_t *cfg = h_lab_config();
	json_object_set_new(cfg, "metrics_listen", json_string("127.0.0.1:0"));
	json_object_set_new(cfg, "recheck_window", json_string("0s")); /* every check asks DNS */
	t_start(&p, cfg, &ch);

	int port = free_port();
	char conf[512], data[512], listen[64], log[512], cfgarg[600], dataarg[600], listenarg[100];
	snprintf(conf, sizeof(conf), "%s/prometheus.yml", h_tmp);
	snprintf(data, sizeof(data), "%s/tsdb", h_tmp);
	snprintf(log, sizeof(log), "%s/prometheus.log", h_tmp);
	snprintf(listen, sizeof(listen), "127.0.0.1:%d", port);
	FILE *f = fopen(conf, "w");
	CHECK(f != NULL, "%s", conf);
	if (f == NULL) {
		t_stop(&p, ch);
		return;
	}
	fprintf(f,
	        "global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n"
	        "scrape_configs:\n  - job_name: caad\n    static_configs:\n"
	        "      - targets: ['127.0.0.1:%d']\n",
	        p.metrics_port);
	fclose(f);
	snprintf(cfgarg, sizeof(cfgarg), "--config.file=%s", conf);
	snprintf(dataarg, sizeof(dataarg), "--storage.tsdb.path=%s", data);
	snprintf(listenarg, sizeof(listenarg), "--web.listen-address=%s", listen);
	char *argv[] = {prom_bin, cfgarg, dataarg, listenarg, NULL};
	posix_spawn_file_actions_t fa;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 1, log, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	posix_spawn_file_actions_adddup2(&fa, 1, 2);
	pid_t prom = -1;
	int rc = posix_spawn(&prom, prom_bin, &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	CHECK(rc == 0, "spawn %s: %s", prom_bin, strerror(rc));

	/* every wanted value over its bound, checked between rounds of load;
	 * at most 90 s (a bound on a hang, not a timing assertion) */
	bool seen[N_WANTS] = {false};
	size_t n_seen = 0;
	double end = h_now_ms() + 90000;
	while (rc == 0 && n_seen < N_WANTS && h_now_ms() < end) {
		load(ch, 10);
		for (size_t i = 0; i < N_WANTS; i++)
			if (!seen[i] && query(port, wants[i].q) > wants[i].above) {
				seen[i] = true;
				n_seen++;
			}
		usleep(200000);
	}
	for (size_t i = 0; i < N_WANTS; i++)
		CHECK(seen[i], "never saw %s (last %g)", wants[i].what, query(port, wants[i].q));
	if (rc == 0)
		check_dashboard(port);

	if (prom > 0) {
		kill(prom, SIGTERM);
		int st;
		waitpid(prom, &st, 0);
	}
	if (n_seen < N_WANTS) {
		char *l = h_slurp(log);
		fprintf(stderr, "---- prometheus log\n%s\n----\n", l ? l : "");
		free(l);
	}
	t_stop(&p, ch);
}
