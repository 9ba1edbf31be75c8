/*
 * harness.h — run caad as a child process for a test: write its config,
 * start it on 127.0.0.1 port 0, read the bound ports from its "listening"
 * log line, keep every log line it writes, stop it by PID and report its
 * exit status. Plus the assertions the test cases use.
 */
#ifndef HARNESS_H
#define HARNESS_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include <jansson.h>

typedef struct caad_proc {
	pid_t pid;
	int port, metrics_port;
	char target[64];
	int errfd;
	pthread_t reader;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	char **lines;
	size_t n_lines, cap;
	bool eof;
} caad_proc_t;

/* Set by main from the command line. */
extern const char *h_caad;   /* the caad binary */
extern const char *h_lab;    /* lab directory (caa-lab up DIR) */
extern const char *h_source; /* source tree (proto/, tests/server/node) */
extern const char *h_tmp;    /* this test's temporary directory */
extern const char *h_skip;   /* set by a case: why it cannot run here (exit 77, ctest SKIP) */

/* The lab's caa.json with listen "127.0.0.1:0". New reference. */
json_t *h_lab_config(void);

/* Write cfg (not consumed) to h_tmp/name and return the path (static buffer per call). */
const char *h_write_config(json_t *cfg, const char *name);

/* Start caad --config on cfg; wait for its "listening" line. 0 or -1. */
int h_start(caad_proc_t *p, json_t *cfg);
/* Send sig, wait (at most wait_ms) for the exit; the exit status, or -1
 * (killed/timeout: then SIGKILL). Frees the log lines unless keep. */
int h_stop(caad_proc_t *p, int sig, int wait_ms);
void h_free(caad_proc_t *p);

/* The first log line (parsed) with "msg" == msg and, if key, key == value
 * (string) — waiting up to wait_ms for it. New reference or NULL. */
json_t *h_log_find(caad_proc_t *p, const char *msg, const char *key, const char *value,
                   int wait_ms);
/* How many log lines have "msg" == msg. */
size_t h_log_count(caad_proc_t *p, const char *msg);
void h_log_dump(caad_proc_t *p);

/* Run a command and return its exit status (before grpc_init only: forks). */
int h_run(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Spawn argv (PATH searched, no shell; safe after grpc_init), wait, return
 * its exit status. */
int h_spawn_wait(char *const argv[]);

/* Read a whole file (NUL-terminated, malloc'ed), NULL on error. */
char *h_slurp(const char *path);

/* An HTTP/1.0 GET (answered as HTTP/1.1) to 127.0.0.1:port path; the whole response or NULL. */
char *h_http_get(int port, const char *path);
/* The request head req as it is (no Host added); the whole response or NULL. */
char *h_http_raw(int port, const char *req);
/* The same, then the end of the client's stream (shutdown SHUT_WR): a head
 * that never ends is answered or closed at once, not at the idle timeout. */
char *h_http_raw_eof(int port, const char *req);

double h_now_ms(void);

/* ---- assertions ---- */
extern int h_failures;
#define CHECK(cond, ...)                                                                           \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			h_failures++;                                                              \
			fprintf(stderr, "FAIL %s:%d: %s: ", __FILE__, __LINE__, #cond);            \
			fprintf(stderr, __VA_ARGS__);                                              \
			fprintf(stderr, "\n");                                                     \
		}                                                                                  \
	} while (0)
/* got may be NULL (a missing field): that never equals want */
bool h_str_eq(const char *got, const char *want);
const char *h_str(const char *s); /* s, or "(null)" */
#define CHECK_STR(got, want)                                                                       \
	CHECK(h_str_eq((got), (want)), "got \"%s\", want \"%s\"", h_str(got), (want))

#endif
