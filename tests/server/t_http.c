/*
 * t_http.c — the HTTP server (server/http.c) against what the gRPC port
 * survives: many connections held open, slow heads, garbage, oversized heads
 * and bodies. Each abuser talks from its own loopback address (127.0.0.2-5),
 * so the per-address limit is what stops it; /metrics from 127.0.0.1 and
 * gRPC checks must keep answering meanwhile, and caad must exit cleanly.
 * And the page against docs/metrics.md: every family on the page under load
 * is documented there, and every family documented is on the page.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "cases.h"

double metric(const char *page, const char *name); /* t_ops.c */

/* A non-blocking connection from 127.0.0.<src> to the port; -1 if refused. */
static int connect_from(int src, int port)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -1;
	struct sockaddr_in from = {.sin_family = AF_INET,
	                           .sin_addr.s_addr = htonl(0x7f000000u | (unsigned)src)};
	struct sockaddr_in to = {.sin_family = AF_INET,
	                         .sin_port = htons((uint16_t)port),
	                         .sin_addr.s_addr = htonl(0x7f000001)};
	if (bind(fd, (struct sockaddr *)&from, sizeof(from)) != 0 ||
	    (connect(fd, (struct sockaddr *)&to, sizeof(to)) != 0 && errno != EINPROGRESS)) {
		close(fd);
		return -1;
	}
	return fd;
}

static void send_some(int fd, const void *p, size_t n)
{
	ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
	(void)w; /* the server may have closed it: that is what limits do */
}

/* What a whole connection got back (read until EOF, bounded by the server's
 * idle timeout), from a blocking socket. */
static char *read_all(int fd)
{
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
	size_t cap = 4096, len = 0;
	char *buf = malloc(cap);
	ssize_t r;
	while (buf && (r = recv(fd, buf + len, cap - len - 1, 0)) > 0) {
		len += (size_t)r;
		if (cap - len < 2)
			buf = realloc(buf, cap *= 2);
	}
	if (buf)
		buf[len] = '\0';
	return buf;
}

/* /metrics from 127.0.0.1 and a Check over gRPC both answer. */
static void still_serving(caad_proc_t *p, grpc_channel *ch, const char *when)
{
	char *page = h_http_get(p->metrics_port, "/metrics");
	CHECK(page && strncmp(page, "HTTP/1.1 200", 12) == 0 &&
	          strstr(page, "caad_calls_in_flight"),
	      "/metrics %s: %.60s", when, page ? page : "(no answer)");
	free(page);
	creq_t r;
	creq(&r, "issue-permit.lab");
	Caa__V1__CheckResponse *resp = t_check(ch, &r);
	CHECK(resp && resp->verdict == CAA__V1__VERDICT__PERMITTED, "Check %s", when);
	if (resp)
		protobuf_c_message_free_unpacked(&resp->base, NULL);
}

#define HELD 1000
#define SLOW 64

void case_http_abuse(void)
{
	caad_proc_t p;
	grpc_channel *ch;
	json_t *cfg = h_lab_config();
	json_object_set_new(cfg, "metrics_listen", json_string("127.0.0.1:0"));
	t_start(&p, cfg, &ch);
	int port = p.metrics_port;

	/* 1000 connections opened and held, silent */
	static int held[HELD];
	size_t n_held = 0;
	for (size_t i = 0; i < HELD; i++)
		if ((held[i] = connect_from(2, port)) >= 0)
			n_held++;
	CHECK(n_held == HELD, "opened %zu of %d", n_held, HELD);
	still_serving(&p, ch, "with 1000 connections held");

	/* slowloris: heads that never end, a byte at a time */
	static const char head[] = "GET /metrics HTTP/1.1\r\nHost: x\r\nX-Slow: ";
	int slow[SLOW];
	for (size_t i = 0; i < SLOW; i++) {
		slow[i] = connect_from(3, port);
		if (slow[i] >= 0)
			send_some(slow[i], head, sizeof(head) - 1);
	}
	for (int round = 0; round < 20; round++) {
		for (size_t i = 0; i < SLOW; i++)
			if (slow[i] >= 0)
				send_some(slow[i], "a", 1);
		usleep(20000);
	}
	still_serving(&p, ch, "under slowloris");

	/* garbage: binary bytes, then an end of head */
	int g = connect_from(4, port);
	unsigned char junk[2048];
	for (size_t i = 0; i < sizeof(junk); i++)
		junk[i] = (unsigned char)(i * 131u + 7u);
	send_some(g, junk, sizeof(junk));
	send_some(g, "\r\n\r\n", 4);
	char *got = g >= 0 ? read_all(g) : NULL;
	CHECK(got && !strstr(got, " 200 "), "garbage answered with a page: %.40s", got ? got : "");
	free(got);
	if (g >= 0)
		close(g);

	/* a head over the limit: a 64 KiB header */
	g = connect_from(5, port);
	size_t big = 65536;
	char *hdr = malloc(big + 64);
	int n = snprintf(hdr, 64, "GET /metrics HTTP/1.1\r\nX-Big: ");
	memset(hdr + n, 'b', big);
	memcpy(hdr + n + big, "\r\n\r\n", 4);
	send_some(g, hdr, (size_t)n + big + 4);
	free(hdr);
	got = g >= 0 ? read_all(g) : NULL;
	CHECK(got && !strstr(got, " 200 "), "oversized head answered with a page: %.40s",
	      got ? got : "");
	free(got);
	if (g >= 0)
		close(g);

	/* a body where none is taken, and a method the path does not serve */
	char *page = h_http_raw(port, "GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
	                              "Content-Length: 100000\r\n\r\n");
	CHECK(page && strncmp(page, "HTTP/1.1 413", 12) == 0, "body on GET: %.40s",
	      page ? page : "");
	free(page);
	page = h_http_raw(port, "POST /metrics HTTP/1.0\r\nContent-Length: 0\r\n\r\n");
	CHECK(page && strncmp(page, "HTTP/1.1 405", 12) == 0, "POST: %.40s", page ? page : "");
	free(page);

	still_serving(&p, ch, "after garbage");
	for (size_t i = 0; i < HELD; i++)
		if (held[i] >= 0)
			close(held[i]);
	for (size_t i = 0; i < SLOW; i++)
		if (slow[i] >= 0)
			close(slow[i]);
	still_serving(&p, ch, "after the abusers left");
	t_stop(&p, ch); /* exit status 0 asserted */
}

/* ---- the page against docs/metrics.md ---- */

/* Names after "# TYPE " on the page, or in "| `name` |" rows of the doc;
 * at most max, each malloc'ed. */
static size_t names_in(const char *text, bool doc, char **out, size_t max)
{
	size_t n = 0;
	const char *key = doc ? "\n| `" : "\n# TYPE ";
	for (const char *at = strstr(text, key); at && n < max; at = strstr(at + 1, key)) {
		const char *s = at + strlen(key);
		size_t len = strcspn(s, doc ? "`" : " ");
		bool dup = false;
		for (size_t i = 0; i < n && !dup; i++)
			dup = strlen(out[i]) == len && strncmp(out[i], s, len) == 0;
		if (!dup)
			out[n++] = strndup(s, len);
	}
	return n;
}

static bool listed(char *const *names, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(names[i], name) == 0)
			return true;
	return false;
}

void case_metrics_families(void)
{
	caad_proc_t p;
	grpc_channel *ch;
	json_t *cfg = h_lab_config();
	json_object_set_new(cfg, "metrics_listen", json_string("127.0.0.1:0"));
	t_start(&p, cfg, &ch);
	/* some load: permissions (one reused), a refusal */
	static const char *const names[] = {"issue-permit.lab", "www.issue-deny.lab",
	                                    "issue-permit.lab", "issue-permit.lab"};
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		creq_t r;
		creq(&r, names[i]);
		Caa__V1__CheckResponse *resp = t_check(ch, &r);
		if (resp)
			protobuf_c_message_free_unpacked(&resp->base, NULL);
	}
	char *page = h_http_get(p.metrics_port, "/metrics");
	char path[512];
	snprintf(path, sizeof(path), "%s/docs/metrics.md", h_source);
	char *doc = h_slurp(path);
	CHECK(page && doc, "page %p, %s", (void *)page, path);
	if (page && doc) {
		char *on_page[256], *in_doc[256];
		size_t np = names_in(page, false, on_page, 256);
		size_t nd = names_in(doc, true, in_doc, 256);
		CHECK(np > 20 && nd > 20, "%zu families on the page, %zu in the doc", np, nd);
		for (size_t i = 0; i < np; i++)
			CHECK(listed(in_doc, nd, on_page[i]), "%s is not in docs/metrics.md",
			      on_page[i]);
		for (size_t i = 0; i < nd; i++)
			CHECK(listed(on_page, np, in_doc[i]),
			      "docs/metrics.md lists %s, the page lacks it", in_doc[i]);
		/* the load moved Boulder's names */
		CHECK(metric(page, "caa_sets_processed{result=\"authorized\"}") == 1,
		      "authorized sets %g",
		      metric(page, "caa_sets_processed{result=\"authorized\"}"));
		CHECK(metric(page, "caa_sets_processed{result=\"unauthorized\"}") == 1,
		      "unauthorized sets");
		CHECK(metric(page, "caad_reuse_lookups_total{backend=\"memory\",result=\"hit\"}") ==
		          2,
		      "reuse hits");
		CHECK(metric(page,
		             "caad_reuse_lookups_total{backend=\"memory\",result=\"miss\"}") == 2,
		      "reuse misses");
		CHECK(strstr(page,
		             "validation_latency_count{operation=\"caa\",perspective=\"primary\","
		             "challenge_type=\"dns-01\",problem_type=\"caa\",result=\"fail\"} 1"),
		      "validation_latency of the refusal");
		CHECK(strstr(page, "\ndns_query_time_count{qtype=\"CAA\",result=\"NOERROR\""),
		      "dns_query_time");
		for (size_t i = 0; i < np; i++)
			free(on_page[i]);
		for (size_t i = 0; i < nd; i++)
			free(in_doc[i]);
	}
	free(page);
	free(doc);
	t_stop(&p, ch);
}
