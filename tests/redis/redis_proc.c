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
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "redis_proc.h"

extern char **environ;

bool redis_available(void)
{
	char *const argv[] = {"sh", "-c", "command -v redis-server >/dev/null", NULL};
	pid_t pid;
	int st;
	if (posix_spawnp(&pid, "sh", NULL, NULL, argv, environ) != 0 || waitpid(pid, &st, 0) != pid)
		return false;
	return WIFEXITED(st) && WEXITSTATUS(st) == 0;
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
	struct timeval tv = {.tv_sec = 2};
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	size_t got = 0;
	if (fd < 0)
		return -1;
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0 ||
	    write(fd, cmd, strlen(cmd)) != (ssize_t)strlen(cmd)) {
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

int redis_start(redis_proc_t *r, int port, const char *dir)
{
	char p[16], log[512];
	r->port = port != 0 ? port : free_port();
	if (r->port <= 0)
		return -1;
	snprintf(p, sizeof(p), "%d", r->port);
	snprintf(log, sizeof(log), "%s/redis.log", dir);
	snprintf(log, sizeof(log), "%s/redis.log", dir);
	char *const argv[] = {"redis-server",
	                      "--bind",
	                      "127.0.0.1",
	                      "--port",
	                      p,
	                      "--save",
	                      "",
	                      "--appendonly",
	                      "no",
	                      "--dir",
	                      (char *)dir,
	                      "--loglevel",
	                      "warning",
	                      "--logfile",
	                      log,
	                      "--daemonize",
	                      "no",
	                      NULL};
	if (posix_spawnp(&r->pid, "redis-server", NULL, NULL, argv, environ) != 0)
		return -1;
	for (int i = 0; i < 200; i++) { /* 10 s */
		char out[64];
		if (redis_cmd(r, "PING\r\n", out, sizeof(out)) == 0 && strcmp(out, "+PONG") == 0)
			return 0;
		struct timespec ts = {.tv_nsec = 50 * 1000 * 1000};
		nanosleep(&ts, NULL);
	}
	redis_signal(r, SIGKILL);
	return -1;
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
