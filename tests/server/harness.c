/*
 * harness.c — caad as a child process (harness.h). posix_spawn, not fork:
 * the test process runs gRPC client threads.
 */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"

extern char **environ;

const char *h_caad, *h_lab, *h_source, *h_tmp, *h_skip;
int h_failures;

/* Tests do not continue without memory. */
static void *xrealloc(void *p, size_t n)
{
	void *q = realloc(p, n);
	if (q == NULL) {
		fprintf(stderr, "out of memory\n");
		abort();
	}
	return q;
}

bool h_str_eq(const char *got, const char *want)
{
	return got != NULL && strcmp(got, want) == 0;
}

const char *h_str(const char *s)
{
	return s ? s : "(null)";
}

double h_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

char *h_slurp(const char *path)
{
	FILE *f = fopen(path, "rb");
	if (f == NULL)
		return NULL;
	size_t cap = 4096, n = 0;
	char *buf = xrealloc(NULL, cap);
	size_t r;
	while ((r = fread(buf + n, 1, cap - n - 1, f)) > 0) {
		n += r;
		if (cap - n < 2)
			buf = xrealloc(buf, cap *= 2);
	}
	fclose(f);
	buf[n] = '\0';
	return buf;
}

json_t *h_lab_config(void)
{
	char path[512];
	snprintf(path, sizeof(path), "%s/caa.json", h_lab);
	json_error_t e;
	json_t *cfg = json_load_file(path, 0, &e);
	if (cfg == NULL) {
		fprintf(stderr, "cannot read %s: %s (is the lab up?)\n", path, e.text);
		exit(1);
	}
	json_object_set_new(cfg, "listen", json_string("127.0.0.1:0"));
	return cfg;
}

const char *h_write_config(json_t *cfg, const char *name)
{
	static char path[8][512];
	static int next;
	char *p = path[next++ % 8];
	snprintf(p, 512, "%s/%s", h_tmp, name);
	json_dump_file(cfg, p, JSON_INDENT(2));
	return p;
}

static void *reader(void *arg)
{
	caad_proc_t *p = arg;
	FILE *f = fdopen(p->errfd, "r");
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	while (f != NULL && (n = getline(&line, &cap, f)) > 0) {
		if (line[n - 1] == '\n')
			line[n - 1] = '\0';
		if (getenv("CAAD_TEST_VERBOSE"))
			fprintf(stderr, "caad| %s\n", line);
		pthread_mutex_lock(&p->lock);
		if (p->n_lines == p->cap) {
			p->cap = p->cap ? p->cap * 2 : 64;
			p->lines = xrealloc(p->lines, p->cap * sizeof(*p->lines));
		}
		p->lines[p->n_lines++] = strdup(line);
		pthread_cond_broadcast(&p->cond);
		pthread_mutex_unlock(&p->lock);
	}
	free(line);
	if (f != NULL)
		fclose(f);
	pthread_mutex_lock(&p->lock);
	p->eof = true;
	pthread_cond_broadcast(&p->cond);
	pthread_mutex_unlock(&p->lock);
	return NULL;
}

static bool line_matches(const char *line, const char *msg, const char *key, const char *value,
                         json_t **out)
{
	json_t *j = json_loads(line, 0, NULL);
	if (j == NULL)
		return false;
	const char *m = json_string_value(json_object_get(j, "msg"));
	bool ok = m && strcmp(m, msg) == 0;
	if (ok && key != NULL) {
		const char *v = json_string_value(json_object_get(j, key));
		ok = v && strcmp(v, value) == 0;
	}
	if (ok && out)
		*out = j;
	else
		json_decref(j);
	return ok;
}

json_t *h_log_find(caad_proc_t *p, const char *msg, const char *key, const char *value, int wait_ms)
{
	double end = h_now_ms() + wait_ms;
	size_t seen = 0;
	json_t *found = NULL;
	pthread_mutex_lock(&p->lock);
	for (;;) {
		for (; seen < p->n_lines && found == NULL; seen++)
			line_matches(p->lines[seen], msg, key, value, &found);
		if (found != NULL || p->eof || h_now_ms() >= end)
			break;
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_nsec += 50 * 1000000L;
		if (ts.tv_nsec >= 1000000000L) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000L;
		}
		pthread_cond_timedwait(&p->cond, &p->lock, &ts);
	}
	pthread_mutex_unlock(&p->lock);
	return found;
}

size_t h_log_count(caad_proc_t *p, const char *msg)
{
	size_t n = 0;
	pthread_mutex_lock(&p->lock);
	for (size_t i = 0; i < p->n_lines; i++)
		n += line_matches(p->lines[i], msg, NULL, NULL, NULL);
	pthread_mutex_unlock(&p->lock);
	return n;
}

void h_log_dump(caad_proc_t *p)
{
	pthread_mutex_lock(&p->lock);
	fprintf(stderr, "---- caad log (%zu lines)\n", p->n_lines);
	for (size_t i = 0; i < p->n_lines; i++)
		fprintf(stderr, "%s\n", p->lines[i]);
	fprintf(stderr, "----\n");
	pthread_mutex_unlock(&p->lock);
}

int h_start(caad_proc_t *p, json_t *cfg)
{
	memset(p, 0, sizeof(*p));
	pthread_mutex_init(&p->lock, NULL);
	pthread_cond_init(&p->cond, NULL);
	const char *path = h_write_config(cfg, "caad.json");
	int fds[2];
	if (pipe(fds) != 0)
		return -1;
	/* only the dup2 onto fd 2 reaches the child; no other caad inherits it */
	fcntl(fds[0], F_SETFD, FD_CLOEXEC);
	fcntl(fds[1], F_SETFD, FD_CLOEXEC);
	posix_spawn_file_actions_t fa;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, fds[1], 2);
	posix_spawn_file_actions_addclose(&fa, fds[0]);
	posix_spawn_file_actions_addclose(&fa, fds[1]);
	char *argv[] = {(char *)h_caad, "--config", (char *)path, NULL};
	int rc = posix_spawn(&p->pid, h_caad, &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	close(fds[1]);
	if (rc != 0) {
		close(fds[0]);
		fprintf(stderr, "cannot start %s: %s\n", h_caad, strerror(rc));
		return -1;
	}
	p->errfd = fds[0];
	pthread_create(&p->reader, NULL, reader, p);
	/* ASan builds start slowly; 20 s covers a loaded CI machine */
	json_t *l = h_log_find(p, "listening", NULL, NULL, 20000);
	if (l == NULL) {
		fprintf(stderr, "caad did not start\n");
		h_log_dump(p);
		h_stop(p, SIGKILL, 5000);
		return -1;
	}
	p->port = (int)json_integer_value(json_object_get(l, "port"));
	p->metrics_port = (int)json_integer_value(json_object_get(l, "metrics_port"));
	snprintf(p->target, sizeof(p->target), "127.0.0.1:%d", p->port);
	json_decref(l);
	return 0;
}

int h_stop(caad_proc_t *p, int sig, int wait_ms)
{
	if (p->pid <= 0)
		return -1;
	kill(p->pid, sig);
	double end = h_now_ms() + wait_ms;
	int status = 0;
	pid_t r;
	while ((r = waitpid(p->pid, &status, WNOHANG)) == 0 && h_now_ms() < end)
		usleep(10000);
	if (r == 0) {
		fprintf(stderr, "caad (pid %d) did not exit within %d ms: killing it\n",
		        (int)p->pid, wait_ms);
		kill(p->pid, SIGKILL);
		waitpid(p->pid, &status, 0);
		status = -1;
	} else {
		status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
	}
	p->pid = 0;
	pthread_join(p->reader, NULL);
	return status;
}

void h_free(caad_proc_t *p)
{
	for (size_t i = 0; i < p->n_lines; i++)
		free(p->lines[i]);
	free(p->lines);
	pthread_mutex_destroy(&p->lock);
	pthread_cond_destroy(&p->cond);
	memset(p, 0, sizeof(*p));
}

int h_run(const char *fmt, ...)
{
	char cmd[4096];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	int st = system(cmd);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

int h_spawn_wait(char *const argv[])
{
	pid_t pid;
	int rc = posix_spawnp(&pid, argv[0], NULL, NULL, argv, environ);
	if (rc != 0) {
		fprintf(stderr, "cannot run %s: %s\n", argv[0], strerror(rc));
		return -1;
	}
	int st;
	waitpid(pid, &st, 0);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

char *h_http_get(int port, const char *path)
{
	char req[256];
	snprintf(req, sizeof(req), "GET %s HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n", path);
	return h_http_raw(port, req);
}

static char *http_raw(int port, const char *req, bool eof);

char *h_http_raw(int port, const char *req)
{
	return http_raw(port, req, false);
}

char *h_http_raw_eof(int port, const char *req)
{
	return http_raw(port, req, true);
}

static char *http_raw(int port, const char *req, bool eof)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in sa = {.sin_family = AF_INET,
	                         .sin_port = htons((uint16_t)port),
	                         .sin_addr.s_addr = htonl(0x7f000001)};
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
		if (fd >= 0)
			close(fd);
		return NULL;
	}
	ssize_t n = (ssize_t)strlen(req);
	if (write(fd, req, (size_t)n) != n) {
		close(fd);
		return NULL;
	}
	if (eof)
		shutdown(fd, SHUT_WR);
	size_t cap = 65536, len = 0;
	char *buf = xrealloc(NULL, cap);
	ssize_t r;
	while ((r = read(fd, buf + len, cap - len - 1)) > 0) {
		len += (size_t)r;
		if (cap - len < 2)
			buf = xrealloc(buf, cap *= 2);
	}
	close(fd);
	buf[len] = '\0';
	return buf;
}
