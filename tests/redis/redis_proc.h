/*
 * redis_proc.h — a redis-server for a test: started on 127.0.0.1 on a free
 * port (or a given one, to restart it where it was), without persistence,
 * waited for until it answers PING, and stopped by its PID. posix_spawn, no
 * fork: safe after grpc_init.
 */
#ifndef REDIS_PROC_H
#define REDIS_PROC_H

#include <stdbool.h>
#include <sys/types.h>

typedef struct redis_proc {
	pid_t pid;
	int port;
} redis_proc_t;

/* true when redis-server is on PATH (else the test exits 77). */
bool redis_available(void);

/* Start on port (0: a free one) with dir as its working directory; wait up
 * to 10 s for PING. 0 or -1. */
int redis_start(redis_proc_t *r, int port, const char *dir);

/* Send sig (SIGTERM, SIGKILL, SIGSTOP, SIGCONT); for a signal that ends it,
 * reap it (SIGKILL after 10 s). */
void redis_signal(redis_proc_t *r, int sig);

/* One inline command ("SET k v\r\n") and the first line of the reply into
 * out; 0 or -1. */
int redis_cmd(const redis_proc_t *r, const char *cmd, char *out, size_t outlen);

#endif
