/*
 * log.h — caad's log: one JSON object per line on stderr, written whole
 * under a lock so lines from different threads never interleave. Every line
 * has "time" (RFC 3339, UTC, ms) and "msg"; audit lines (audit.h) are "check".
 */
#ifndef CAAD_LOG_H
#define CAAD_LOG_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

/* Write fields (an object; its reference is stolen, NULL is fine) with msg as
 * one line. Never fails loudly: a line that cannot be built is dropped. */
void caad_log(const char *msg, json_t *fields);

/* Write whole lines (each ending in '\n') already built, under the log's
 * lock, with write(2) on stderr: never interleaved with another line.
 * 0, or -1 with errno when not all of it was written. */
int caad_log_write(const char *text, size_t len);

/* write(2) all of text to fd, through short writes and EINTR: 0, or -1
 * with errno (a write of 0 octets is ENOSPC); *written (may be NULL) says
 * how much went out either way. */
int caad_write_all(int fd, const char *text, size_t len, size_t *written);

/* The line caad_log() writes, ending in '\n' (no NUL counted in *len);
 * fields as there. free() it; NULL when it cannot be built. */
char *caad_log_text(const char *msg, json_t *fields, size_t *len);

/* Route gRPC core's own log messages through caad_log ("grpc" lines). They
 * start quiet: a startup failure is reported once, as caad's own line. */
void caad_log_grpc_init(void);
void caad_log_grpc_quiet(bool quiet);

/* Current time as RFC 3339 with milliseconds into buf (at least 32 octets). */
void caad_log_time(char *buf, size_t size, long long unix_ms);

#endif
