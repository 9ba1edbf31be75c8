/*
 * http.h — caad's HTTP server (libmicrohttpd): the metrics endpoint, and the
 * http listener's JSON API and webhooks, registered as method + path
 * handlers. One listening socket, a pool of CAAD_HTTP_THREADS epoll threads;
 * bounded connections (in total and per client address), idle timeout,
 * request head and body sizes
 * (docs/caad.md "The metrics endpoint"), so slow clients, many connections
 * and garbage cost caad a refused connection, never a stall.
 */
#ifndef CAAD_HTTP_H
#define CAAD_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "metrics.h"

typedef struct caad_http caad_http_t;

/* The server's limits (fixed; docs/caad.md lists them). */
#define CAAD_HTTP_MAX_CONNECTIONS 256u   /* open connections in total */
#define CAAD_HTTP_MAX_PER_ADDRESS 16u    /* open connections from one client address */
#define CAAD_HTTP_IDLE_TIMEOUT_S  10u    /* a connection silent this long is closed */
#define CAAD_HTTP_MAX_HEAD        16384u /* request line + headers (and MHD's buffers) */
#define CAAD_HTTP_MAX_ROUTES      16u
/* Threads serving connections (each its own epoll; a connection stays on
 * one): a handler's start (JSON, validation, reuse lookups that may wait on
 * Redis up to cache.redis.timeout each) holds only its thread's clients. */
#define CAAD_HTTP_THREADS 4u

/* One request as a handler sees it. path has no query string; body is
 * NUL-terminated (NULL when there was none). */
typedef struct caad_http_req {
	const char *method, *path;
	const char *body;
	size_t body_len;
	const char *peer;     /* "ipv4:127.0.0.1:5555", "ipv6:[::1]:5555" */
	const char *identity; /* over mTLS: the client certificate's DN; else NULL */
	void *conn;           /* private: caad_http_header */
} caad_http_req_t;

/* A request header's value (name case-insensitive), NULL when absent. */
const char *caad_http_header(const caad_http_req_t *req, const char *name);

/* A handler writes its answer's body to out, may set *content_type (default
 * "text/plain; charset=utf-8") and returns the HTTP status. It runs on the
 * server's thread: keep it short and never wait on the network. */
typedef unsigned (*caad_http_handler_fn)(void *arg, const caad_http_req_t *req, FILE *out,
                                         const char **content_type);

/* An asynchronous handler: it starts the work and returns; the work answers
 * exactly once, from any thread (or at once from the handler), with
 * caad_http_answer(reply, ...). req and what it points to stay valid until
 * then. A server with such answers due waits for all of them when freed
 * (a request arriving meanwhile on an open connection gets 503). */
typedef struct caad_http_reply caad_http_reply_t;
typedef void (*caad_http_async_fn)(void *arg, const caad_http_req_t *req, caad_http_reply_t *reply);
/* Whether the client of reply (a caad_http_reply_t) has closed its connection
 * while its answer is due: seen on the socket (hang-up) without reading from
 * it. For caad_call_local_gone; valid until caad_http_answer. */
bool caad_http_gone(void *reply);
/* Answer with status and body (len octets, malloc'ed: taken, also on failure). */
void caad_http_answer(caad_http_reply_t *reply, unsigned status, const char *content_type,
                      char *body, size_t len);

/* Bind and listen on addr ("host:port", "[v6]:port"); *port gets the bound
 * port. key names the config key in errors ("metrics_listen", "http.listen").
 * NULL with one line in err on failure. Nothing runs yet. */
caad_http_t *caad_http_listen(const char *key, const char *addr, int *port, char *err,
                              size_t errlen);

/* Serve HTTPS: the PEM files cert (chain, leaf first), pkey (its key) and
 * client_ca (mTLS: a client without a certificate client_ca verifies is
 * refused, 403; NULL: none) are read now; key names the section in errors
 * ("http.tls"). Before caad_http_start. CAA_EOK, CAA_EIO (a file unreadable
 * or not what it should be) or CAA_ECONFIG (no TLS in this libmicrohttpd),
 * with one line in err. */
int caad_http_tls(caad_http_t *h, const char *key, const char *cert, const char *pkey,
                  const char *client_ca, char *err, size_t errlen);

/* A certificate chain and its key, read from PEM files and checked (the key
 * is the leaf's): what caad_http_tls_swap installs on reload. NULL with one
 * line in err. */
typedef struct caad_http_cred caad_http_cred_t;
caad_http_cred_t *caad_http_cred_load(const char *key, const char *cert, const char *pkey,
                                      char *err, size_t errlen);
void caad_http_cred_free(caad_http_cred_t *c);

/* Install c (taken over) on an HTTPS listener, running or not: every TLS
 * handshake from now on hands out c's certificate; connections already up
 * keep theirs. The one before is freed. */
void caad_http_tls_swap(caad_http_t *h, caad_http_cred_t *c);

/* The client CA cannot change while the listener runs (libmicrohttpd reads
 * it once): CAA_EOK when client_ca's contents are those read at start (or
 * either side has none), else CAA_ECONFIG / CAA_EIO with one line in err. */
int caad_http_tls_same_trust(const caad_http_t *h, const char *key, const char *client_ca,
                             char *err, size_t errlen);

/* Serve method ("GET", "POST"; a GET route answers HEAD too) on path (exact
 * match; a path ending in '/' matches every longer path under it). A body longer than max_body is
 * refused (413); 0 refuses any body. Before caad_http_start only. CAA_EOK, CAA_EINVAL (bad or
 * duplicate route) or CAA_ENOMEM (table full). */
int caad_http_handle(caad_http_t *h, const char *method, const char *path, size_t max_body,
                     caad_http_handler_fn fn, void *arg);

/* The same for an asynchronous handler. */
int caad_http_handle_async(caad_http_t *h, const char *method, const char *path, size_t max_body,
                           caad_http_async_fn fn, void *arg);

/* What a request line maps to: the route's index (>= 0), or -404 (no such
 * path) or -405 (the path exists, not for this method). */
int caad_http_match(const caad_http_t *h, const char *method, const char *path);

/* Add GET /metrics (rendered from m; NULL: no metrics page) and serve on a
 * thread of libmicrohttpd's own. CAA_EOK, or CAA_ETHREAD when the server does
 * not start. */
int caad_http_start(caad_http_t *h, caad_metrics_t *m);

/* Asynchronous answers not given yet (0 for NULL): the http calls in flight. */
unsigned caad_http_due(caad_http_t *h);

/* Stop the server (if started), close the socket, free. */
void caad_http_free(caad_http_t *h);

#endif
