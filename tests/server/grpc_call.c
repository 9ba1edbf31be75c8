/*
 * grpc_call.c — one unary call (grpc_call.h): a pluck completion queue per
 * call and one batch with every op; a non-OK status is a successful batch
 * whose RECV_STATUS_ON_CLIENT says what happened.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <grpc/byte_buffer_reader.h>
#include <grpc/support/alloc.h>
#include <grpc/support/time.h>

#include "grpc_call.h"
#include "grpc_status.h"

grpc_channel *gc_channel(const char *target, const gc_tls_t *tls)
{
	grpc_channel_credentials *creds;
	grpc_arg args[1];
	grpc_channel_args chargs = {.num_args = 0, .args = args};
	if (tls == NULL) {
		creds = grpc_insecure_credentials_create();
	} else {
		grpc_ssl_pem_key_cert_pair pair = {.private_key = tls->key,
		                                   .cert_chain = tls->cert};
		creds =
		    grpc_ssl_credentials_create_ex(tls->ca, tls->cert ? &pair : NULL, NULL, NULL);
		if (tls->server_name != NULL) {
			args[0].type = GRPC_ARG_STRING;
			args[0].key = GRPC_SSL_TARGET_NAME_OVERRIDE_ARG;
			args[0].value.string = (char *)tls->server_name;
			chargs.num_args = 1;
		}
	}
	grpc_channel *ch = grpc_channel_create(target, creds, &chargs);
	grpc_channel_credentials_release(creds);
	return ch;
}

static double now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* The call; cancel_after_ms >= 0 cancels it from the client side then. */
static int one_call(grpc_channel *ch, const char *method, const void *req, size_t len,
                    int timeout_ms, int cancel_after_ms, gc_result_t *out)
{
	memset(out, 0, sizeof(*out));
	double t0 = now_ms();
	grpc_completion_queue *cq = grpc_completion_queue_create_for_pluck(NULL);
	gpr_timespec deadline = gpr_time_add(gpr_now(GPR_CLOCK_REALTIME),
	                                     gpr_time_from_millis(timeout_ms, GPR_TIMESPAN));
	grpc_slice path = grpc_slice_from_static_string(method);
	grpc_call *call = grpc_channel_create_call(ch, NULL, GRPC_PROPAGATE_DEFAULTS, cq, path,
	                                           NULL, deadline, NULL);
	grpc_byte_buffer *send = NULL, *recv = NULL;
	if (req != NULL) {
		grpc_slice s = grpc_slice_from_copied_buffer(req, len);
		send = grpc_raw_byte_buffer_create(&s, 1);
		grpc_slice_unref(s);
	}
	grpc_metadata_array initial, trailing;
	grpc_metadata_array_init(&initial);
	grpc_metadata_array_init(&trailing);
	grpc_slice details = grpc_empty_slice();
	grpc_op ops[6];
	size_t n = 0;
	memset(ops, 0, sizeof(ops));
	ops[n++].op = GRPC_OP_SEND_INITIAL_METADATA;
	if (send != NULL) {
		ops[n].op = GRPC_OP_SEND_MESSAGE;
		ops[n++].data.send_message.send_message = send;
	}
	ops[n++].op = GRPC_OP_SEND_CLOSE_FROM_CLIENT;
	ops[n].op = GRPC_OP_RECV_INITIAL_METADATA;
	ops[n++].data.recv_initial_metadata.recv_initial_metadata = &initial;
	ops[n].op = GRPC_OP_RECV_MESSAGE;
	ops[n++].data.recv_message.recv_message = &recv;
	ops[n].op = GRPC_OP_RECV_STATUS_ON_CLIENT;
	ops[n].data.recv_status_on_client.trailing_metadata = &trailing;
	ops[n].data.recv_status_on_client.status = &out->status;
	ops[n++].data.recv_status_on_client.status_details = &details;
	int rc = -1;
	if (grpc_call_start_batch(call, ops, n, (void *)1, NULL) == GRPC_CALL_OK) {
		grpc_event ev = {.type = GRPC_QUEUE_TIMEOUT};
		if (cancel_after_ms >= 0) {
			gpr_timespec at =
			    gpr_time_add(gpr_now(GPR_CLOCK_REALTIME),
			                 gpr_time_from_millis(cancel_after_ms, GPR_TIMESPAN));
			ev = grpc_completion_queue_pluck(cq, (void *)1, at, NULL);
			if (ev.type == GRPC_QUEUE_TIMEOUT)
				grpc_call_cancel(call, NULL);
		}
		if (ev.type == GRPC_QUEUE_TIMEOUT)
			ev = grpc_completion_queue_pluck(cq, (void *)1,
			                                 gpr_inf_future(GPR_CLOCK_REALTIME), NULL);
		rc = ev.type == GRPC_OP_COMPLETE && ev.success ? 0 : -1;
	}
	if (rc == 0) {
		size_t dl = GRPC_SLICE_LENGTH(details);
		out->details = malloc(dl + 1);
		memcpy(out->details, GRPC_SLICE_START_PTR(details), dl);
		out->details[dl] = '\0';
		if (recv != NULL) {
			grpc_byte_buffer_reader rd;
			grpc_byte_buffer_reader_init(&rd, recv);
			grpc_slice all = grpc_byte_buffer_reader_readall(&rd);
			grpc_byte_buffer_reader_destroy(&rd);
			out->len = GRPC_SLICE_LENGTH(all);
			out->data = malloc(out->len ? out->len : 1);
			memcpy(out->data, GRPC_SLICE_START_PTR(all), out->len);
			grpc_slice_unref(all);
		}
	}
	if (rc != 0) {
		/* no status came: never leave OK (0) behind for a call that failed */
		out->status = GRPC_STATUS_UNKNOWN;
		free(out->details);
		out->details =
		    strdup("the call itself failed (batch not started or not completed)");
	}
	out->elapsed_ms = now_ms() - t0;
	if (recv)
		grpc_byte_buffer_destroy(recv);
	if (send)
		grpc_byte_buffer_destroy(send);
	grpc_slice_unref(details);
	grpc_metadata_array_destroy(&initial);
	grpc_metadata_array_destroy(&trailing);
	grpc_call_unref(call);
	grpc_completion_queue_shutdown(cq);
	while (
	    grpc_completion_queue_pluck(cq, NULL, gpr_inf_future(GPR_CLOCK_REALTIME), NULL).type !=
	    GRPC_QUEUE_SHUTDOWN)
		;
	grpc_completion_queue_destroy(cq);
	return rc;
}

int gc_call(grpc_channel *ch, const char *method, const void *req, size_t len, int timeout_ms,
            gc_result_t *out)
{
	return one_call(ch, method, req, len, timeout_ms, -1, out);
}

int gc_call_cancel(grpc_channel *ch, const char *method, const void *req, size_t len,
                   int cancel_after_ms, gc_result_t *out)
{
	return one_call(ch, method, req, len, 60000, cancel_after_ms, out);
}

void gc_result_free(gc_result_t *r)
{
	free(r->details);
	free(r->data);
	memset(r, 0, sizeof(*r));
}

const char *gc_status_name(grpc_status_code code)
{
	return caa_grpc_status_name((int)code);
}
