/*
 * grpc_call.h — one unary gRPC call with the C core API, returning the status
 * and the response bytes: the client side of the server tests, and the seed
 * of a load generator. Protobuf encoding is the caller's business.
 */
#ifndef GRPC_CALL_H
#define GRPC_CALL_H

#include <stddef.h>
#include <stdint.h>

#include <grpc/grpc.h>
#include <grpc/grpc_security.h>

/* TLS for a channel: PEM texts (not paths); key/cert NULL = no client cert. */
typedef struct gc_tls {
	const char *ca;
	const char *cert, *key;
	const char *server_name; /* expected name in the server certificate */
} gc_tls_t;

/* A channel to target ("127.0.0.1:1234"); tls NULL = plaintext. */
grpc_channel *gc_channel(const char *target, const gc_tls_t *tls);

typedef struct gc_result {
	grpc_status_code status;
	char *details; /* status message, "" when none */
	uint8_t *data; /* response message, NULL when none came */
	size_t len;
	double elapsed_ms;
} gc_result_t;

/*
 * Call method ("/caa.v1.CAA/Check") with req[0..len) (req NULL: send no
 * message at all), waiting at most timeout_ms. Returns 0 with *out filled
 * (a non-OK status is still 0), -1 when the call could not be made: then
 * out->status is UNKNOWN, never OK.
 */
int gc_call(grpc_channel *ch, const char *method, const void *req, size_t len, int timeout_ms,
            gc_result_t *out);
/* The same, cancelled by the client after cancel_after_ms (RST_STREAM). */
int gc_call_cancel(grpc_channel *ch, const char *method, const void *req, size_t len,
                   int cancel_after_ms, gc_result_t *out);
void gc_result_free(gc_result_t *r);

/* The name of a status code ("DEADLINE_EXCEEDED"). */
const char *gc_status_name(grpc_status_code code);

#endif
