/*
 * remote.h — the primary's gRPC client to its remote perspectives (docs/semantics.md
 * §9): one long-lived channel per configured remote (keepalive, reconnect
 * with backoff, the remote's own TLS), unary va.CAA/DoCAA calls on one
 * completion queue served by one thread, each bounded by its own deadline
 * and cancellable. What the answers mean is corroborate.c's business.
 */
#ifndef CAAD_REMOTE_H
#define CAAD_REMOTE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <grpc/grpc.h>

#include "config.h"
#include "problem.h"

typedef struct caad_remotes caad_remotes_t;
typedef struct caad_ask caad_ask_t;

/* The question, as Boulder's primary VA asks it; borrowed strings. */
typedef struct caad_question {
	const char *identifier; /* "*." kept */
	const char *method;
	int64_t account_id; /* accountURIID */
	int64_t authz_id;
} caad_question_t;

/* How one call ended; everything borrowed for the callback's duration. */
typedef struct caad_answer {
	grpc_status_code status; /* OK: perspective, rir and problem are the remote's */
	const char *error;       /* not OK: "UNAVAILABLE: failed to connect ..." */
	bool timed_out;          /* not OK because our deadline for it ran out */
	uint64_t timeout_ms;     /* that deadline */
	const char *perspective;
	const char *rir;
	const caa_problem_t *problem; /* NULL: the remote corroborates */
	uint32_t elapsed_us;
} caad_answer_t;

/* What a remote sent, bounded: names and RIR to 64 octets, the detail to 1024. */
#define CAAD_ANSWER_MAX_NAME   64
#define CAAD_ANSWER_MAX_DETAIL 1024
typedef struct caad_answer_buf {
	char name[CAAD_ANSWER_MAX_NAME + 1];
	char rir[CAAD_ANSWER_MAX_NAME + 1];
	char detail[CAAD_ANSWER_MAX_DETAIL + 1];
	caa_problem_t problem; /* detail points into detail[] */
} caad_answer_buf_t;

/* Read an IsCAAValidResponse's octets into ans (status OK, perspective,
 * rir, problem), or ans->status INTERNAL with error when they do not parse.
 * The texts live in buf. A problem type caad does not know becomes
 * serverInternal, the remote's type named in the detail; an HTTP status
 * outside 400-599 becomes the type's own. (Fuzzed: fuzz_answer.) */
void caad_remote_read(const uint8_t *data, size_t len, caad_answer_t *ans, caad_answer_buf_t *buf);

/* Called exactly once per call that caad_remotes_ask() started, on the
 * remotes' thread. Must not block. */
typedef void (*caad_answer_fn)(void *arg, const caad_answer_t *ans);

/* Channels to every remote of cfg (which must outlive them) and the thread.
 * After grpc_init(). CAA_EOK, or a code (CAA_ENOMEM, CAA_ECONFIG: a remote's
 * files or address, CAA_ETHREAD) with one line naming the remote in err. */
int caad_remotes_new(const caa_config_t *cfg, caad_remotes_t **out, char *err, size_t errlen);

/* Ask remote r (configured index) q, answering within timeout_ms. The call
 * handle, valid until fn returns; NULL when the call could not start (out of
 * memory, shutting down): then fn is never called. */
caad_ask_t *caad_remotes_ask(caad_remotes_t *rs, size_t r, const caad_question_t *q,
                             uint64_t timeout_ms, caad_answer_fn fn, void *arg);

/* Cancel a call whose fn has not returned yet (it still gets fn, status
 * CANCELLED). Any thread. */
void caad_ask_cancel(caad_ask_t *a);

/* After every call ended (the server drained): stop the thread, close the
 * channels. NULL is fine. */
void caad_remotes_free(caad_remotes_t *rs);

#endif
