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

#include "result.h"

typedef struct caad_audit {
	const char *rpc;    /* "Check", "CheckOrder", "DoCAA" */
	uint64_t call;      /* call number, shared by the lines of one order */
	const char *peer;   /* "ipv4:127.0.0.1:5555" */
	const char *client; /* client certificate identity; NULL without */
	size_t index, size; /* position in the order (size 1 for one check) */
	int64_t authz_id;   /* Boulder authzID; 0 = none */
} caad_audit_t;

/* Lines collected before one write: an inline buffer, the heap beyond it. */
typedef struct caad_audit_buf {
	char *p;
	size_t len, cap;
	bool failed;
	char small[2048];
} caad_audit_buf_t;

void caad_audit_buf_init(caad_audit_buf_t *b);
void caad_audit_buf_free(caad_audit_buf_t *b);

/* Add the line of one check to b (written out by itself once b is large);
 * res may be NULL (then error says why: "cancelled", "deadline exceeded", ...). */
void caad_audit_append(caad_audit_buf_t *b, const caad_audit_t *who, const caa_request_t *req,
                       const caa_result_t *res, const char *error);
/* Write what b holds with one caad_log_write() and empty it. */
void caad_audit_flush(caad_audit_buf_t *b);

/* One line, written at once. */
void caad_audit_check(const caad_audit_t *who, const caa_request_t *req, const caa_result_t *res,
                      const char *error);

/* The line of a call refused before its handler ("msg":"refused"): the rpc
 * asked for, the peer, its certificate's identity and its DNS and URI SANs
 * (NULL-terminated, may be NULL), and why. */
void caad_audit_refused(const char *rpc, const char *peer, const char *client, char *const *sans,
                        const char *error);

#endif
