/*
 * rpc.h — gRPC core plumbing for unary methods: one completion queue served
 * by N threads, pre-posted request slots for every registered method plus
 * generic slots that answer unknown methods UNIMPLEMENTED at once, per-call
 * lifetime (refcounted), cancellation hooks for asynchronous work, and the
 * shutdown order docs/platform.md spells out. No caa.v1 knowledge in here.
 *
 * Threads: handlers run on completion-queue threads. caad_call_reply(),
 * caad_call_fail() and caad_call_release() may be called from any thread
 * (grpc_call_start_batch is thread-safe), once a call is held.
 */
#ifndef CAAD_RPC_H
#define CAAD_RPC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <grpc/grpc.h>
#include <grpc/grpc_security.h>
#include <protobuf-c/protobuf-c.h>

#include "arena.h"
#include "config.h"

typedef struct caad_rpc caad_rpc_t;
typedef struct caad_call caad_call_t;

/* Handle a call: decode it, then reply at once or hold it (caad_call_hold)
 * and reply later from any thread. Exactly one reply or fail per call. */
typedef void (*caad_handler_fn)(caad_call_t *call, void *arg);

typedef struct caad_method {
	const char *path; /* "/caa.v1.CAA/Check" */
	caad_handler_fn handle;
	void *arg;
	bool open; /* answered without asking admit (the health check) */
} caad_method_t;

/* Decide whether a call may reach its handler (method as for caad_status_fn).
 * On false it must have failed the call itself. */
typedef bool (*caad_admit_fn)(void *arg, caad_call_t *call, size_t method);

/* Called once per finished call with the method index (n_methods = unknown
 * method) and the status sent. Any thread. */
typedef void (*caad_status_fn)(void *arg, size_t method, grpc_status_code code);

typedef struct caad_rpc_opts {
	const char *listen;             /* "host:port", "[v6]:port", "unix:/path" */
	grpc_server_credentials *creds; /* borrowed; released by the caller after start */
	unsigned threads;               /* completion-queue threads, >= 1 */
	int max_message;                /* octets a request may have */
	const caad_method_t *methods;   /* borrowed, must outlive the server */
	size_t n_methods;
	caad_status_fn on_status; /* may be NULL */
	void *status_arg;
	caad_admit_fn admit; /* NULL = every call; else asked first for all but open methods,
	                      * unknown ones included */
	void *admit_arg;
} caad_rpc_opts_t;

/*
 * Create, bind and start the server and its threads. *port gets the bound
 * port (listen port 0 picks one). CAA_EOK; on failure a code (CAA_ENOMEM,
 * CAA_ECONFIG: cannot listen, CAA_ETHREAD, CAA_EINTERNAL) with one line in
 * err and nothing left running. Call after grpc_init().
 */
int caad_rpc_start(const caad_rpc_opts_t *opts, caad_rpc_t **out, int *port, char *err,
                   size_t errlen);

/* Calls alive now (received, not yet finished). */
size_t caad_rpc_calls(caad_rpc_t *r);

/*
 * Stop accepting calls and wait for the ones in progress, at most drain_ms;
 * then cancel what is left (their asynchronous work gets its cancel hook)
 * and wait until no call is held. Returns the number of calls cancelled.
 */
size_t caad_rpc_drain(caad_rpc_t *r, unsigned drain_ms);

/* After caad_rpc_drain() and after the asynchronous workers stopped: shut the
 * completion queue down, join its threads, destroy everything. */
void caad_rpc_free(caad_rpc_t *r);

/* ---- inside a handler ---- */

/* The request message: 0 and the bytes (owned by the call), or -1 when the
 * client sent no message at all. A zero-length message is an all-default one. */
int caad_call_payload(caad_call_t *c, const uint8_t **data, size_t *len);

/* The call's arena: freed when the call ends. */
caad_arena_t *caad_call_arena(caad_call_t *c);

/* Milliseconds left before the client's deadline (0 when passed), or -1 when
 * the client set none. Computed on the monotonic clock. */
int64_t caad_call_time_left_ms(const caad_call_t *c);

/* Why an answer sent now would reach nobody: "deadline exceeded before the
 * answer" (the client's deadline has passed), "cancelled by the client"
 * (gRPC reported the call over), or NULL while the client still waits. */
const char *caad_call_gone(caad_call_t *c);

/* The peer address ("ipv4:127.0.0.1:5555") and, over TLS with a client
 * certificate, its identity ("CN=ra,O=ca.example"; NULL without). Owned by
 * the call. */
const char *caad_call_peer(caad_call_t *c);
const char *caad_call_identity(caad_call_t *c);

/* caad_tls_client_allowed() for this call's client certificate. */
bool caad_call_client_allowed(caad_call_t *c, const caa_tls_config_t *t, char ***sans);

/* Answer OK with msg (packed now), or fail with code and a message. */
void caad_call_reply(caad_call_t *c, const ProtobufCMessage *msg);
void caad_call_fail(caad_call_t *c, grpc_status_code code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* fn(arg) once the call is over and freed (any thread): what the call
 * borrowed for its whole life (its config generation) is given back. One
 * per call, set from its handler. */
void caad_call_on_end(caad_call_t *c, void (*fn)(void *arg), void *arg);

/*
 * Asynchronous work: hold the call before starting it; give its id once
 * known; release after the reply (or when starting failed). While held, a
 * call the client cancels (or whose deadline passes) gets cancel(arg, id)
 * once, from any thread.
 */
void caad_call_hold(caad_call_t *c, void (*cancel)(void *arg, uint64_t id), void *arg);
void caad_call_held_id(caad_call_t *c, uint64_t id);
void caad_call_release(caad_call_t *c);
/* The held call's work moves on to its next stage: from now on a cancel
 * reaches cancel(arg, id) — at once when the client cancelled already. */
void caad_call_hold_next(caad_call_t *c, void (*cancel)(void *arg, uint64_t id), void *arg,
                         uint64_t id);

/*
 * A call that did not come over gRPC (the HTTP listener's routes): the same
 * handlers, job path, audit lines and metrics, with the request message given
 * as packed bytes and the answer handed to done(arg, code, message, reply) —
 * reply is the response message (NULL unless code is GRPC_STATUS_OK), valid
 * only during done — exactly once, from any thread. peer and identity (NULL
 * when none) are copied; deadline_ms is the time from now the caller gives
 * the call (-1: none); rpc names it in audit lines instead of the handler's
 * method ("webhook/caa"). The handler's reference is the caller's: release it
 * with caad_call_release after the handler returned. No cancellation.
 */
typedef void (*caad_call_done_fn)(void *arg, grpc_status_code code, const char *message,
                                  const ProtobufCMessage *reply);
caad_call_t *caad_call_local_new(const char *rpc, const uint8_t *payload, size_t len,
                                 const char *peer, const char *identity, int64_t deadline_ms,
                                 caad_call_done_fn done, void *arg);
/* For a local call: gone(arg) tells caad_call_gone that the caller's client
 * left (its connection closed), so no verdict is recorded as answered. */
void caad_call_local_gone(caad_call_t *c, bool (*gone)(void *arg), void *arg);
/* A local call's rpc name; NULL for a gRPC call. */
const char *caad_call_local_rpc(const caad_call_t *c);

#endif
