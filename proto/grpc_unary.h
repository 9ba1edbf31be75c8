/* grpc_unary.h — the one batch of a unary client call with gRPC core: send
 * the message and close, receive the initial metadata, the answer and the
 * status. A non-OK status is a successful batch: it arrives in status. The
 * client of caad (`caa`), its remote perspectives (server/remote.c) and the
 * load generator all start their calls with it. */
#ifndef CAA_GRPC_UNARY_H
#define CAA_GRPC_UNARY_H

#include <grpc/grpc.h>

typedef struct caa_grpc_unary {
	grpc_metadata_array initial_md, trailing_md;
	grpc_byte_buffer *recv; /* the answer; NULL when none came */
	grpc_status_code status;
	grpc_slice details;
	const char *error_string; /* gRPC core's own account of a failure, or NULL */
} caa_grpc_unary_t;

void caa_grpc_unary_init(caa_grpc_unary_t *u);
/* Start the batch on call with tag; send is copied by gRPC (the caller still
 * owns it). */
grpc_call_error caa_grpc_unary_start(grpc_call *call, grpc_byte_buffer *send, caa_grpc_unary_t *u,
                                     void *tag);
void caa_grpc_unary_deinit(caa_grpc_unary_t *u);

#endif
