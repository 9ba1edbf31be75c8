/* grpc_unary.c — one unary call's batch (grpc_unary.h). */
#include <string.h>

#include <grpc/byte_buffer.h>
#include <grpc/slice.h>
#include <grpc/support/alloc.h>

#include "grpc_unary.h"

void caa_grpc_unary_init(caa_grpc_unary_t *u)
{
	memset(u, 0, sizeof(*u));
	grpc_metadata_array_init(&u->initial_md);
	grpc_metadata_array_init(&u->trailing_md);
	u->details = grpc_empty_slice();
}

grpc_call_error caa_grpc_unary_start(grpc_call *call, grpc_byte_buffer *send, caa_grpc_unary_t *u,
                                     void *tag)
{
	grpc_op ops[6];
	memset(ops, 0, sizeof(ops));
	ops[0].op = GRPC_OP_SEND_INITIAL_METADATA;
	ops[1].op = GRPC_OP_SEND_MESSAGE;
	ops[1].data.send_message.send_message = send;
	ops[2].op = GRPC_OP_SEND_CLOSE_FROM_CLIENT;
	ops[3].op = GRPC_OP_RECV_INITIAL_METADATA;
	ops[3].data.recv_initial_metadata.recv_initial_metadata = &u->initial_md;
	ops[4].op = GRPC_OP_RECV_MESSAGE;
	ops[4].data.recv_message.recv_message = &u->recv;
	ops[5].op = GRPC_OP_RECV_STATUS_ON_CLIENT;
	ops[5].data.recv_status_on_client.trailing_metadata = &u->trailing_md;
	ops[5].data.recv_status_on_client.status = &u->status;
	ops[5].data.recv_status_on_client.status_details = &u->details;
	ops[5].data.recv_status_on_client.error_string = &u->error_string;
	return grpc_call_start_batch(call, ops, 6, tag, NULL);
}

void caa_grpc_unary_deinit(caa_grpc_unary_t *u)
{
	if (u->recv != NULL)
		grpc_byte_buffer_destroy(u->recv);
	grpc_metadata_array_destroy(&u->initial_md);
	grpc_metadata_array_destroy(&u->trailing_md);
	grpc_slice_unref(u->details);
	gpr_free((void *)u->error_string);
	memset(u, 0, sizeof(*u));
}
