/*
 * redis_proc.c — a redis-server for a test (redis_proc.h).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "redis_proc.h"

extern char **environ;

static bool on_path(const char *prog)
{
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "command -v %s >/dev/null", prog);
	char *const argv[] = {"sh", "-c", cmd, NULL};
	pid_t pid;
	int st;
	if (posix_spawnp(&pid, "sh", NULL, NULL, argv, environ) != 0 || waitpid(pid, &st, 0) != pid)
		return false;
	return WIFEXITED(st) && WEXITSTATUS(st) == 0;
}

bool redis_available(void)
{
	return on_path("redis-server");
}

bool tunnel_available(void)
{
	return on_path("stunnel4");
}

static int free_port(void)
{
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(0x7f000001)};
	socklen_t len = sizeof(sa);
	int fd = socket(AF_INET, SOCK_STREAM, 0), port = -1;
	if (fd < 0)
		return -1;
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0 &&
	    getsockname(fd, (struct sockaddr *)&sa, &len) == 0)
		port = ntohs(sa.sin_port);
	close(fd);
	return port;
}

int redis_cmd(const redis_proc_t *r, const char *cmd, char *out, size_t outlen)
{
	struct sockaddr_in sa = {.sin_family = AF_INET,
	                         .sin_port = htons((uint16_t)r->port),
	                         .sin_addr.s_addr = htonl(0x7f000001)};
	struct sockaddr_un su = {.sun_family = AF_UNIX};
	struct timeval tv = {.tv_sec = 2};
	bool un = r->path[0] != '\0';
	int fd = socket(un ? AF_UNIX : AF_INET, SOCK_STREAM, 0);
	size_t got = 0;
	if (fd < 0)
		return -1;
	snprintf(su.sun_path, sizeof(su.sun_path), "%s", r->path);
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	if ((un ? connect(fd, (struct sockaddr *)&su, sizeof(su))
	        : connect(fd, (struct sockaddr *)&sa, sizeof(sa))) != 0 ||
	    /* no SIGPIPE: a tunnel closes at once when its TLS handshake fails */
	    send(fd, cmd, strlen(cmd), MSG_NOSIGNAL) != (ssize_t)strlen(cmd)) {
		close(fd);
		return -1;
	}
	while (got + 1 < outlen) {
		ssize_t n = read(fd, out + got, 1);
		if (n <= 0)
			break;
		if (out[got] == '\n')
			break;
		got++;
	}
	close(fd);
	if (got > 0 && out[got - 1] == '\r')
		got--;
	out[got] = '\0';
	return got > 0 ? 0 : -1;
}

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Wait up to 10 s for PING answered on r (its port or its path); SIGKILL it if not. */
static int wait_pong(redis_proc_t *r)
{
	for (double end = now_s() + 10; now_s() < end;) {
		char out[64];
		if (redis_cmd(r, "PING\r\n", out, sizeof(out)) == 0 && strcmp(out, "+PONG") == 0)
			return 0;
		struct timespec ts = {.tv_nsec = 50 * 1000 * 1000};
		nanosleep(&ts, NULL);
	}
	redis_signal(r, SIGKILL);
	return -1;
}

/* redis-server on 127.0.0.1 without persistence, its log in dir, then the
 * listening arguments (NULL-terminated, at most 16). */
static int spawn_redis(redis_proc_t *r, const char *dir, char *const *listen)
{
	char log[512];
	char *argv[40] = {"redis-server", "--bind",    "127.0.0.1", "--save",      "",
	                  "--appendonly", "no",        "--dir",     (char *)dir,   "--loglevel",
	                  "warning",      "--logfile", log,         "--daemonize", "no"};
	size_t n = 15;
	snprintf(log, sizeof(log), "%s/redis.log", dir);
	for (size_t i = 0; listen[i] != NULL && n + 1 < sizeof(argv) / sizeof(argv[0]); i++)
		argv[n++] = listen[i];
	argv[n] = NULL;
	return posix_spawnp(&r->pid, "redis-server", NULL, NULL, argv, environ) == 0 ? 0 : -1;
}

int redis_start(redis_proc_t *r, int port, const char *dir)
{
	char p[16];
	r->port = port != 0 ? port : free_port();
	if (r->port <= 0)
		return -1;
	snprintf(p, sizeof(p), "%d", r->port);
	char *const listen[] = {"--port", p, NULL};
	if (spawn_redis(r, dir, listen) != 0)
		return -1;
	return wait_pong(r);
}

int redis_start_tls(redis_proc_t *r, int tls_port, const char *dir, const char *cert,
                    const char *key, const char *ca)
{
	char p[16];
	r->port = tls_port != 0 ? tls_port : free_port();
	if (r->port <= 0)
		return -1;
	snprintf(p, sizeof(p), "%d", r->port);
	char *const listen[] = {"--port",
	                        "0",
	                        "--tls-port",
	                        p,
	                        "--tls-cert-file",
	                        (char *)cert,
	                        "--tls-key-file",
	                        (char *)key,
	                        "--tls-ca-cert-file",
	                        (char *)ca,
	                        "--tls-auth-clients",
	                        "yes",
	                        NULL};
	return spawn_redis(r, dir, listen);
}

int tunnel_start(redis_proc_t *t, const char *conf, const char *path)
{
	char log[512];
	posix_spawn_file_actions_t fa;
	char *const argv[] = {"stunnel4", (char *)conf, NULL};
	int rc;

	snprintf(t->path, sizeof(t->path), "%s", path);
	t->port = 0;
	unlink(path); /* a killed stunnel leaves its socket: bind would fail */
	snprintf(log, sizeof(log), "%s.log", conf);
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 1, log, O_WRONLY | O_CREAT | O_APPEND, 0600);
	posix_spawn_file_actions_adddup2(&fa, 1, 2);
	rc = posix_spawnp(&t->pid, "stunnel4", &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	if (rc != 0)
		return -1;
	return wait_pong(t);
}

void redis_signal(redis_proc_t *r, int sig)
{
	if (r->pid <= 0)
		return;
	kill(r->pid, sig);
	if (sig == SIGSTOP || sig == SIGCONT)
		return;
	for (int i = 0; i < 200; i++) {
		if (waitpid(r->pid, NULL, WNOHANG) == r->pid) {
			r->pid = 0;
			return;
		}
		struct timespec ts = {.tv_nsec = 50 * 1000 * 1000};
		nanosleep(&ts, NULL);
	}
	kill(r->pid, SIGKILL);
	waitpid(r->pid, NULL, 0);
	r->pid = 0;
}
