/*
 * remote.c — `caa check` / `caa order` through a caad (--server): gRPC core's
 * C client, unary calls to /caa.v1.CAA/Check (one per identifier, all in
 * flight at once) or one /caa.v1.CAA/CheckOrder, protobuf-c messages, one
 * deadline (--timeout, default 30 s). Answers are mapped back to caa_result_t
 * (from_proto.c). Any non-OK status — including "could not connect", which
 * gRPC reports as UNAVAILABLE at once — is exit status 3 with the status name
 * and the server's details.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <grpc/byte_buffer.h>
#include <grpc/byte_buffer_reader.h>
#include <grpc/grpc.h>
#include <grpc/grpc_security.h>
#include <grpc/slice.h>
#include <grpc/support/alloc.h>
#include <grpc/support/time.h>

#include "grpc_status.h"
#include "grpc_unary.h"
#include "check.h"
#include "cli.h"
#include "from_proto.h"

#define MAX_RECEIVE_OCTETS (64 * 1024 * 1024) /* a 1000-name order with --explain fits */
#define PEM_MAX_OCTETS     (1024 * 1024)

/* One unary call and everything gRPC fills in for it. */
typedef struct rcall {
	grpc_call *call;
	grpc_byte_buffer *send;
	caa_grpc_unary_t u;
	bool started, done;
} rcall_t;

typedef struct remote {
	const check_run_t *run;
	char *roots, *cert, *key; /* PEM texts */
	grpc_channel_credentials *creds;
	grpc_channel *channel;
	grpc_completion_queue *cq;
	rcall_t *calls;
	size_t n_calls;
	char path_check[64], path_order[64];
	/* the first error printed, to fold repeats of it into one line */
	grpc_status_code first_status;
	char *first_details;
	size_t repeats;
} remote_t;

static const char *status_name(grpc_status_code s)
{
	return caa_grpc_status_name((int)s);
}

/* The whole of a PEM file, NUL-terminated; NULL with a message on stderr. */
static char *read_pem(const check_run_t *run, const char *option, const char *path)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	size_t len = 0;
	if (f != NULL && (buf = malloc(PEM_MAX_OCTETS + 1)) != NULL) {
		len = fread(buf, 1, PEM_MAX_OCTETS + 1, f);
		if (ferror(f) || len > PEM_MAX_OCTETS) {
			free(buf);
			buf = NULL;
			errno = ferror(f) ? EIO : EFBIG;
		}
	}
	if (buf == NULL) {
		fprintf(stderr, "%s: %s %s: %s\n", run->prog, option, path, strerror(errno));
		if (f != NULL)
			fclose(f);
		return NULL;
	}
	fclose(f);
	buf[len] = '\0';
	if (strstr(buf, "-----BEGIN ") == NULL) {
		fprintf(stderr, "%s: %s %s: not a PEM file\n", run->prog, option, path);
		free(buf);
		return NULL;
	}
	return buf;
}

/* "/caa.v1.CAA/Check" from the service descriptor: no stubs, no typos. */
static void method_path(char *buf, size_t size, const char *method)
{
	snprintf(buf, size, "/%s/%s", caa__v1__caa__descriptor.name, method);
}

static int open_channel(remote_t *r)
{
	const check_run_t *run = r->run;
	if (run->tls) {
		if (run->ca != NULL && (r->roots = read_pem(run, "--ca", run->ca)) == NULL)
			return CLI_EXIT_USAGE;
		if (run->tls_cert != NULL &&
		    ((r->cert = read_pem(run, "--tls-cert", run->tls_cert)) == NULL ||
		     (r->key = read_pem(run, "--tls-key", run->tls_key)) == NULL))
			return CLI_EXIT_USAGE;
		grpc_ssl_pem_key_cert_pair pair = {.private_key = r->key, .cert_chain = r->cert};
		r->creds =
		    grpc_ssl_credentials_create(r->roots, r->cert ? &pair : NULL, NULL, NULL);
	} else {
		r->creds = grpc_insecure_credentials_create();
	}
	grpc_arg args[2];
	size_t n_args = 0;
	args[n_args].type = GRPC_ARG_INTEGER;
	args[n_args].key = (char *)GRPC_ARG_MAX_RECEIVE_MESSAGE_LENGTH;
	args[n_args++].value.integer = MAX_RECEIVE_OCTETS;
	if (run->server_name != NULL) {
		args[n_args].type = GRPC_ARG_STRING;
		args[n_args].key = (char *)GRPC_SSL_TARGET_NAME_OVERRIDE_ARG;
		args[n_args++].value.string = (char *)run->server_name;
	}
	grpc_channel_args channel_args = {.num_args = n_args, .args = args};
	r->channel = r->creds ? grpc_channel_create(run->server, r->creds, &channel_args) : NULL;
	r->cq = grpc_completion_queue_create_for_next(NULL);
	if (r->channel == NULL || r->cq == NULL) {
		fprintf(stderr, "%s: --server %s: could not set up a gRPC channel\n", run->prog,
		        run->server);
		return CLI_EXIT_UNREACHABLE;
	}
	return -1;
}

/* Start one unary call carrying len packed octets; the call's tag is c. */
static int start_call(remote_t *r, rcall_t *c, const char *path, const uint8_t *buf, size_t len,
                      gpr_timespec deadline)
{
	caa_grpc_unary_init(&c->u);
	c->call =
	    grpc_channel_create_call(r->channel, NULL, GRPC_PROPAGATE_DEFAULTS, r->cq,
	                             grpc_slice_from_static_string(path), NULL, deadline, NULL);
	if (c->call == NULL)
		return -1;
	grpc_slice payload = grpc_slice_from_copied_buffer((const char *)buf, len);
	c->send = grpc_raw_byte_buffer_create(&payload, 1);
	grpc_slice_unref(payload);

	/* a non-OK status is a successful batch: it arrives in c->u */
	if (caa_grpc_unary_start(c->call, c->send, &c->u, c) != GRPC_CALL_OK)
		return -1;
	c->started = true;
	return 0;
}

static void free_call(rcall_t *c)
{
	if (c->call == NULL)
		return;
	grpc_call_unref(c->call);
	grpc_byte_buffer_destroy(c->send);
	caa_grpc_unary_deinit(&c->u);
}

/* Wait until every started call has its status (deadlines bound this). */
static void wait_calls(remote_t *r)
{
	size_t pending = 0;
	for (size_t i = 0; i < r->n_calls; i++)
		pending += r->calls[i].started;
	while (pending > 0) {
		grpc_event ev =
		    grpc_completion_queue_next(r->cq, gpr_inf_future(GPR_CLOCK_MONOTONIC), NULL);
		if (ev.type != GRPC_OP_COMPLETE)
			break;
		rcall_t *c = ev.tag;
		c->done = true;
		if (!ev.success && c->u.status == GRPC_STATUS_OK)
			c->u.status = GRPC_STATUS_UNKNOWN; /* the batch itself failed */
		pending--;
	}
}

/* Print a failed call once (what: the identifier of a Check, NULL for the
 * order); identical failures of later calls are only counted. */
static void call_failed(remote_t *r, const char *what, grpc_status_code status, const char *details)
{
	if (r->first_details != NULL && status == r->first_status &&
	    strcmp(details, r->first_details) == 0) {
		r->repeats++;
		return;
	}
	fprintf(stderr, "%s: %s%sserver %s: %s%s%s\n", r->run->prog, what ? what : "",
	        what ? ": " : "", r->run->server, status_name(status), details[0] ? ": " : "",
	        details);
	if (r->first_details == NULL) {
		r->first_status = status;
		r->first_details = strdup(details);
	}
}

/* The response octets of a finished call, or NULL after reporting why not. */
static grpc_slice *response_of(remote_t *r, rcall_t *c, const char *what, grpc_slice *out)
{
	if (!c->started) {
		call_failed(r, what, GRPC_STATUS_INTERNAL, "the call could not be started");
		return NULL;
	}
	if (c->u.status != GRPC_STATUS_OK) {
		char *details = grpc_slice_to_c_string(c->u.details);
		call_failed(r, what, c->u.status, details ? details : "");
		if (r->run->verbose && c->u.error_string != NULL)
			fprintf(stderr, "%s: %s%s%s\n", r->run->prog, what ? what : "",
			        what ? ": " : "", c->u.error_string);
		gpr_free(details);
		return NULL;
	}
	if (c->u.recv == NULL) {
		call_failed(r, what, GRPC_STATUS_INTERNAL, "OK without a response message");
		return NULL;
	}
	grpc_byte_buffer_reader reader;
	if (!grpc_byte_buffer_reader_init(&reader, c->u.recv)) {
		call_failed(r, what, GRPC_STATUS_INTERNAL, "unreadable response message");
		return NULL;
	}
	*out = grpc_byte_buffer_reader_readall(&reader);
	grpc_byte_buffer_reader_destroy(&reader);
	return out;
}

/* The caa.v1 form of one request; ident and ts are storage for its parts. */
static void to_proto(const caa_request_t *q, Caa__V1__CheckRequest *m, Caa__V1__Identifier *ident,
                     Google__Protobuf__Timestamp *ts)
{
	caa__v1__check_request__init(m);
	caa__v1__identifier__init(ident);
	google__protobuf__timestamp__init(ts);
	ident->type = (char *)(q->type ? q->type : "dns");
	ident->value = (char *)q->identifier;
	m->identifier = ident;
	m->account_uri = (char *)(q->account_uri ? q->account_uri : "");
	m->validation_method = (char *)(q->method ? q->method : "");
	m->policy = (char *)(q->policy ? q->policy : "");
	m->explain = q->explain;
	m->account_id = q->account_id;
	if (q->validated_at_ms > 0) {
		ts->seconds = q->validated_at_ms / 1000;
		ts->nanos = (int32_t)(q->validated_at_ms % 1000) * 1000000;
		m->validated_at = ts;
	}
}

static gpr_timespec deadline_of(const check_run_t *run)
{
	uint64_t ms = run->timeout_ms ? run->timeout_ms : CHECK_SERVER_TIMEOUT_MS;
	return gpr_time_add(gpr_now(GPR_CLOCK_MONOTONIC),
	                    gpr_time_from_millis((int64_t)ms, GPR_TIMESPAN));
}

/* Pack msg and start a call with it. */
static int send_message(remote_t *r, rcall_t *c, const char *path, const ProtobufCMessage *msg,
                        gpr_timespec deadline)
{
	size_t len = protobuf_c_message_get_packed_size(msg);
	uint8_t *buf = malloc(len ? len : 1);
	if (buf == NULL)
		return -1;
	protobuf_c_message_pack(msg, buf);
	int rc = start_call(r, c, path, buf, len, deadline);
	free(buf);
	return rc;
}

static int unexpected(remote_t *r, const char *what, const char *why)
{
	call_failed(r, what, GRPC_STATUS_INTERNAL, why);
	return -1;
}

static void run_checks(remote_t *r, check_answer_t *ans)
{
	const check_run_t *run = r->run;
	gpr_timespec deadline = deadline_of(run);
	for (size_t i = 0; i < run->n; i++) {
		Caa__V1__CheckRequest m;
		Caa__V1__Identifier ident;
		Google__Protobuf__Timestamp ts;
		to_proto(&run->reqs[i], &m, &ident, &ts);
		send_message(r, &r->calls[i], r->path_check, &m.base, deadline);
	}
	wait_calls(r);
	for (size_t i = 0; i < run->n; i++) {
		const char *what = run->reqs[i].identifier;
		grpc_slice s;
		if (response_of(r, &r->calls[i], what, &s) == NULL)
			continue;
		Caa__V1__CheckResponse *resp = caa__v1__check_response__unpack(
		    NULL, GRPC_SLICE_LENGTH(s), GRPC_SLICE_START_PTR(s));
		grpc_slice_unref(s);
		if (resp == NULL)
			unexpected(r, what, "the answer is not a caa.v1.CheckResponse");
		else if (from_proto_result(resp, &ans->results[i]) != CAA_EOK)
			unexpected(r, what, caa_strerror(CAA_ENOMEM));
		caa__v1__check_response__free_unpacked(resp, NULL);
	}
}

static int order_into(remote_t *r, const Caa__V1__CheckOrderResponse *resp, check_answer_t *ans)
{
	const char *what = NULL; /* the order as a whole */
	if (resp->n_results != ans->n) {
		char why[96];
		snprintf(why, sizeof(why), "%zu results for %zu identifiers", resp->n_results,
		         ans->n);
		return unexpected(r, what, why);
	}
	for (size_t i = 0; i < ans->n; i++)
		if (from_proto_result(resp->results[i], &ans->results[i]) != CAA_EOK)
			return unexpected(r, what, caa_strerror(CAA_ENOMEM));
	if (resp->problem != NULL && from_proto_problem(resp->problem, &ans->aggregate) != CAA_EOK)
		return unexpected(r, what, caa_strerror(CAA_ENOMEM));
	return 0;
}

static void run_order(remote_t *r, check_answer_t *ans)
{
	const check_run_t *run = r->run;
	Caa__V1__CheckRequest *m = calloc(run->n, sizeof(*m));
	Caa__V1__CheckRequest **ptrs = calloc(run->n, sizeof(*ptrs));
	Caa__V1__Identifier *idents = calloc(run->n, sizeof(*idents));
	Google__Protobuf__Timestamp *ts = calloc(run->n, sizeof(*ts));
	if (m != NULL && ptrs != NULL && idents != NULL && ts != NULL) {
		Caa__V1__CheckOrderRequest order;
		caa__v1__check_order_request__init(&order);
		for (size_t i = 0; i < run->n; i++) {
			to_proto(&run->reqs[i], &m[i], &idents[i], &ts[i]);
			ptrs[i] = &m[i];
		}
		order.n_authorizations = run->n;
		order.authorizations = ptrs;
		send_message(r, &r->calls[0], r->path_order, &order.base, deadline_of(run));
	}
	free(m);
	free(ptrs);
	free(idents);
	free(ts);
	wait_calls(r);

	grpc_slice s;
	if (response_of(r, &r->calls[0], NULL, &s) == NULL)
		return;
	Caa__V1__CheckOrderResponse *resp = caa__v1__check_order_response__unpack(
	    NULL, GRPC_SLICE_LENGTH(s), GRPC_SLICE_START_PTR(s));
	grpc_slice_unref(s);
	if (resp == NULL) {
		unexpected(r, NULL, "the answer is not a caa.v1.CheckOrderResponse");
		return;
	}
	if (order_into(r, resp, ans) != 0) {
		for (size_t i = 0; i < ans->n; i++) {
			caa_result_free(ans->results[i]);
			ans->results[i] = NULL;
		}
		caa_problem_free(ans->aggregate);
		ans->aggregate = NULL;
	}
	caa__v1__check_order_response__free_unpacked(resp, NULL);
}

static void close_remote(remote_t *r)
{
	for (size_t i = 0; r->calls != NULL && i < r->n_calls; i++)
		free_call(&r->calls[i]);
	free(r->calls);
	if (r->cq != NULL) {
		grpc_completion_queue_shutdown(r->cq);
		while (grpc_completion_queue_next(r->cq, gpr_inf_future(GPR_CLOCK_MONOTONIC), NULL)
		           .type != GRPC_QUEUE_SHUTDOWN)
			;
		grpc_completion_queue_destroy(r->cq);
	}
	if (r->channel != NULL)
		grpc_channel_destroy(r->channel);
	if (r->creds != NULL)
		grpc_channel_credentials_release(r->creds);
	free(r->roots);
	free(r->cert);
	free(r->key);
	free(r->first_details);
}

int check_remote(const check_run_t *run, check_answer_t *ans)
{
	remote_t r = {.run = run};
	method_path(r.path_check, sizeof(r.path_check), "Check");
	method_path(r.path_order, sizeof(r.path_order), "CheckOrder");

	/* gRPC core logs to stderr on its own; a person wants our one line. */
	if (!run->verbose)
		setenv("GRPC_VERBOSITY", "NONE", 1);
	else if (getenv("GRPC_VERBOSITY") == NULL)
		setenv("GRPC_VERBOSITY", "INFO", 1);
	grpc_init();

	*ans = (check_answer_t){.n = run->n};
	r.n_calls = run->order ? 1 : run->n;
	ans->results = calloc(run->n ? run->n : 1, sizeof(*ans->results));
	r.calls = calloc(r.n_calls ? r.n_calls : 1, sizeof(*r.calls));
	int rc = -1;
	if (ans->results == NULL || r.calls == NULL) {
		fprintf(stderr, "%s: %s\n", run->prog, caa_strerror(CAA_ENOMEM));
		rc = CLI_EXIT_USAGE;
	}
	if (rc < 0)
		rc = open_channel(&r);
	if (rc < 0) {
		if (run->order)
			run_order(&r, ans);
		else
			run_checks(&r, ans);
		if (r.first_details != NULL) {
			ans->error_status = CLI_EXIT_UNREACHABLE;
			if (r.repeats > 0)
				fprintf(stderr, "%s: (%zu more calls failed the same way)\n",
				        run->prog, r.repeats);
		}
	}
	close_remote(&r);
	grpc_shutdown();
	return rc;
}
