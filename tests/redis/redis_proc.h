/*
 * redis_proc.h — a redis-server for a test: started on 127.0.0.1 on a free
 * port (or a given one, to restart it where it was), without persistence,
 * waited for until it answers PING, and stopped by its PID. Or with TLS only,
 * reached through a stunnel client tunnel (docs/operations.md, "Redis over
 * TLS"). posix_spawn, no fork: safe after grpc_init.
 */
#ifndef REDIS_PROC_H
#define REDIS_PROC_H

#include <stdbool.h>
#include <sys/types.h>

typedef struct redis_proc {
	pid_t pid;
	int port;
	char path[108]; /* a unix socket (a tunnel's accept): redis_cmd goes there */
} redis_proc_t;

/* true when redis-server is on PATH (else the test exits 77). */
bool redis_available(void);

/* Start on port (0: a free one) with dir as its working directory; wait up
 * to 10 s for PING. 0 or -1. */
int redis_start(redis_proc_t *r, int port, const char *dir);

/* Start with TLS only: no plaintext port, tls-port on tls_port (0: a free
 * one, into r->port), cert/key its certificate, and clients must present one
 * chaining to ca (tls-auth-clients yes). Not waited for: a plaintext PING
 * cannot reach it (tunnel_start waits through the tunnel). 0 or -1. */
int redis_start_tls(redis_proc_t *r, int tls_port, const char *dir, const char *cert,
                    const char *key, const char *ca);

/* true when stunnel (Debian's stunnel4) is on PATH. */
bool tunnel_available(void);

/* stunnel in the foreground on conf, accepting on the unix socket path (a
 * stale one from a killed stunnel is removed first); wait up to 10 s for PING
 * answered through it. Stop it with redis_signal. 0 or -1. */
int tunnel_start(redis_proc_t *t, const char *conf, const char *path);

/* Send sig (SIGTERM, SIGKILL, SIGSTOP, SIGCONT); for a signal that ends it,
 * reap it (SIGKILL after 10 s). */
void redis_signal(redis_proc_t *r, int sig);

/* One inline command ("SET k v\r\n") and the first line of the reply into
 * out; 0 or -1. */
int redis_cmd(const redis_proc_t *r, const char *cmd, char *out, size_t outlen);

#endif
