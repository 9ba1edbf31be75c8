/*
 * audit.h — the audit line of one check: a CA's evidence of what was asked,
 * by whom, what DNS said and what was decided. One JSON line ("msg":"check")
 * per identifier, also for reused answers and for checks that ended without
 * a result (cancelled, deadline).
 */
#ifndef CAAD_AUDIT_H
#define CAAD_AUDIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "metrics.h"
#include "result.h"

typedef struct caad_audit {
	const char *rpc;    /* "Check", "CheckOrder", "DoCAA" */
	uint64_t call;      /* call number, shared by the lines of one order */
	const char *peer;   /* "ipv4:127.0.0.1:5555" */
	const char *client; /* client certificate identity; NULL without */
	size_t index, size; /* position in the order (size 1 for one check) */
	int64_t authz_id;   /* Boulder authzID; 0 = none */
	bool answered;      /* the answer goes to the client (false: error says why not) */
} caad_audit_t;

/* Lines collected before one write: an inline buffer, the heap beyond it. */
typedef struct caad_audit_buf {
	char *p;
	size_t len, cap;
	bool failed; /* the line being built ran out of memory */
	int werr;    /* sticky: a line was lost (CAA_EIO, CAA_ENOMEM); caad_audit_flush says */
	char small[2048];
} caad_audit_buf_t;

void caad_audit_buf_init(caad_audit_buf_t *b);
void caad_audit_buf_free(caad_audit_buf_t *b);

/* Add the line of one check to b (written out by itself once b is large);
 * res may be NULL (then error says why: "cancelled", "deadline exceeded", ...). */
void caad_audit_append(caad_audit_buf_t *b, const caad_audit_t *who, const caa_request_t *req,
                       const caa_result_t *res, const char *error);
/* Write what b holds to the audit sink and empty it: CAA_EOK when every
 * line added since the last flush reached the log, else CAA_EIO or
 * CAA_ENOMEM (and the failure is counted). */
int caad_audit_flush(caad_audit_buf_t *b);

/* The audit sink: path (audit.file) appended to, or stderr with the log when
 * NULL. Failures are counted in m (may be NULL). At start, before any line;
 * CAA_EOK, or CAA_EIO with a message naming audit.file. */
int caad_audit_open(const char *path, bool required, caad_metrics_t *m, char *err, size_t errlen);
/* SIGUSR1 (logrotate): open audit.file again by its path and write there
 * from the next line on; a file that cannot be opened keeps the old one
 * (logged). Never called from a signal handler: main's sigwait loop. */
void caad_audit_reopen(void);
void caad_audit_close(void);
/* audit.required: a check whose line cannot be written fails (UNAVAILABLE). */
bool caad_audit_required(void);

/* A log line (caad_log()) that also goes to the audit file when there is
 * one: "listening", so the file says which caad wrote what follows. */
void caad_audit_log(const char *msg, json_t *fields);

/* One line, written at once: as caad_audit_flush(). */
int caad_audit_check(const caad_audit_t *who, const caa_request_t *req, const caa_result_t *res,
                     const char *error);

/* The line of a call refused before its handler ("msg":"refused"): the rpc
 * asked for, the peer, its certificate's identity and its DNS and URI SANs
 * (NULL-terminated, may be NULL), and why. */
int caad_audit_refused(const char *rpc, const char *peer, const char *client, char *const *sans,
                       const char *error);

#endif
