/*
 * rpc.c — gRPC core plumbing (rpc.h). Every event on the completion queue
 * carries a caad_tag_t whose done() knows what completed: a request slot
 * (a new call), a call's RECV_CLOSE_ON_SERVER (the call is over; cancelled or
 * not), a call's reply batch, or the server's shutdown.
 *
 * A call holds one reference per owner: the handler while it runs, the close
 * batch, the reply batch, and asynchronous work between hold and release.
 * The last one frees it, whatever order they finish in.
 */
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/prctl.h>

#include <grpc/byte_buffer_reader.h>
#include <grpc/support/alloc.h>
#include <grpc/support/string_util.h>
#include <grpc/support/time.h>

#include "codes.h"
#include "log.h"
#include "rpc.h"
#include "tls.h"
#include "util.h"

#define SLOTS_PER_METHOD 32 /* calls the server can match at once per method */
#define SLOTS_GENERIC    8  /* for unknown methods */

typedef struct caad_tag {
	void (*done)(struct caad_tag *t, bool ok);
} caad_tag_t;

#define CONTAINER(ptr, type, member) ((type *)(void *)((char *)(ptr)-offsetof(type, member)))

/* A pre-posted request for the next call of one method (or of any unknown one). */
typedef struct slot {
	caad_tag_t tag;
	caad_rpc_t *rpc;
	size_t method; /* index, or n_methods for the generic slot */
	void *registered;
	grpc_call *call;
	gpr_timespec deadline;
	grpc_metadata_array md;
	grpc_byte_buffer *payload;
	grpc_call_details details;
} slot_t;

struct caad_call {
	caad_tag_t close_tag, send_tag;
	caad_rpc_t *rpc;
	size_t method;
	grpc_call *call;
	gpr_timespec deadline;
	grpc_byte_buffer *payload;
	grpc_slice payload_slice;
	bool have_slice;
	char *unknown_path; /* generic calls: the method asked for */
	int cancelled;      /* RECV_CLOSE_ON_SERVER writes it */
	atomic_int refs;

	pthread_mutex_t lock; /* the fields of asynchronous work below */
	bool held, cancel_asked, have_id, cancel_sent;
	uint64_t id;
	void (*cancel)(void *arg, uint64_t id);
	void *cancel_arg;

	atomic_bool replied;
	grpc_byte_buffer *reply;
	grpc_slice status_details;
	bool have_details;
	grpc_status_code status;

	char *peer;     /* gpr_malloc'ed */
	char *identity; /* malloc'ed */
	bool identity_done;
	caad_arena_t arena;
	void (*on_end)(void *arg); /* caad_call_on_end */
	void *on_end_arg;

	caad_call_done_fn local_done; /* a local call (no gRPC): its answer goes here */
	void *local_arg;
	bool (*local_gone)(void *arg); /* caad_call_local_gone */
	void *local_gone_arg;
	uint8_t *local_payload;
	size_t local_len;
};

struct caad_rpc {
	caad_rpc_opts_t opts;
	grpc_server *server;
	grpc_completion_queue *cq;
	pthread_t *threads;
	unsigned n_threads;
	slot_t *slots;
	size_t n_slots;
	atomic_bool stopping;

	pthread_mutex_t lock; /* live, slots_out, shutdown_done */
	pthread_cond_t cond;
	size_t live, slots_out;
	bool shutdown_done;
	caad_tag_t shutdown_tag;
};

/* ---- calls ---- */

static void call_ref(caad_call_t *c)
{
	atomic_fetch_add(&c->refs, 1);
}

static void call_unref(caad_call_t *c)
{
	if (atomic_fetch_sub(&c->refs, 1) != 1)
		return;
	caad_rpc_t *r = c->rpc;
	if (c->have_slice)
		grpc_slice_unref(c->payload_slice);
	if (c->have_details)
		grpc_slice_unref(c->status_details);
	if (c->payload)
		grpc_byte_buffer_destroy(c->payload);
	if (c->reply)
		grpc_byte_buffer_destroy(c->reply);
	if (c->call != NULL)
		grpc_call_unref(c->call);
	gpr_free(c->peer);
	free(c->identity);
	free(c->unknown_path);
	free(c->local_payload);
	caad_arena_deinit(&c->arena);
	pthread_mutex_destroy(&c->lock);
	if (c->on_end != NULL)
		c->on_end(c->on_end_arg);
	free(c);
	if (r == NULL)
		return; /* a local call */

	pthread_mutex_lock(&r->lock);
	r->live--;
	pthread_cond_broadcast(&r->cond);
	pthread_mutex_unlock(&r->lock);
}

static void on_send_done(caad_tag_t *t, bool ok)
{
	caad_call_t *c = CONTAINER(t, caad_call_t, send_tag);
	(void)ok; /* a client gone before the reply is not our error */
	call_unref(c);
}

static void on_close_done(caad_tag_t *t, bool ok)
{
	caad_call_t *c = CONTAINER(t, caad_call_t, close_tag);
	(void)ok;
	if (c->cancelled) {
		pthread_mutex_lock(&c->lock);
		c->cancel_asked = true;
		if (c->held && c->have_id && !c->cancel_sent) {
			c->cancel_sent = true;
			c->cancel(c->cancel_arg, c->id);
		}
		pthread_mutex_unlock(&c->lock);
	}
	call_unref(c);
}

/* Start the reply batch: initial metadata, the message (if any), the status. */
static void send_reply(caad_call_t *c, grpc_status_code code, const char *details)
{
	if (atomic_exchange(&c->replied, true)) {
		caad_log("bug", json_pack("{s:s}", "what", "second reply to one call"));
		return;
	}
	grpc_op ops[3];
	size_t n = 0;
	memset(ops, 0, sizeof(ops));
	ops[n].op = GRPC_OP_SEND_INITIAL_METADATA;
	ops[n].data.send_initial_metadata.count = 0;
	n++;
	if (c->reply != NULL) {
		ops[n].op = GRPC_OP_SEND_MESSAGE;
		ops[n].data.send_message.send_message = c->reply;
		n++;
	}
	c->status = code;
	ops[n].op = GRPC_OP_SEND_STATUS_FROM_SERVER;
	ops[n].data.send_status_from_server.status = code;
	ops[n].data.send_status_from_server.trailing_metadata_count = 0;
	if (details != NULL) {
		c->status_details = grpc_slice_from_copied_string(details);
		c->have_details = true;
		ops[n].data.send_status_from_server.status_details = &c->status_details;
	}
	n++;
	caad_rpc_t *r = c->rpc;
	if (r->opts.on_status)
		r->opts.on_status(r->opts.status_arg, c->method, code);
	call_ref(c);
	grpc_call_error e = grpc_call_start_batch(c->call, ops, n, &c->send_tag, NULL);
	if (e != GRPC_CALL_OK) {
		caad_log("bug", json_pack("{s:s, s:i}", "what", "reply batch refused",
		                          "grpc_call_error", (int)e));
		call_unref(c);
	}
}

void caad_call_reply(caad_call_t *c, const ProtobufCMessage *msg)
{
	if (c->local_done != NULL) {
		if (!atomic_exchange(&c->replied, true))
			c->local_done(c->local_arg, GRPC_STATUS_OK, NULL, msg);
		return;
	}
	size_t len = protobuf_c_message_get_packed_size(msg);
	uint8_t *buf = malloc(len ? len : 1);
	if (buf == NULL) {
		send_reply(c, GRPC_STATUS_RESOURCE_EXHAUSTED, "out of memory");
		return;
	}
	protobuf_c_message_pack(msg, buf);
	grpc_slice s = grpc_slice_new(buf, len, free);
	c->reply = grpc_raw_byte_buffer_create(&s, 1);
	grpc_slice_unref(s);
	send_reply(c, GRPC_STATUS_OK, NULL);
}

void caad_call_fail(caad_call_t *c, grpc_status_code code, const char *fmt, ...)
{
	char msg[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (c->local_done != NULL) {
		if (!atomic_exchange(&c->replied, true))
			c->local_done(c->local_arg, code, msg, NULL);
		return;
	}
	send_reply(c, code, msg);
}

int caad_call_payload(caad_call_t *c, const uint8_t **data, size_t *len)
{
	if (c->local_done != NULL) {
		*data = c->local_payload;
		*len = c->local_len;
		return 0;
	}
	if (!c->have_slice) {
		grpc_byte_buffer_reader rd;
		if (c->payload == NULL || !grpc_byte_buffer_reader_init(&rd, c->payload))
			return -1;
		/* readall: a message may arrive in several slices */
		c->payload_slice = grpc_byte_buffer_reader_readall(&rd);
		grpc_byte_buffer_reader_destroy(&rd);
		c->have_slice = true;
	}
	*data = GRPC_SLICE_START_PTR(c->payload_slice);
	*len = GRPC_SLICE_LENGTH(c->payload_slice);
	return 0;
}

caad_arena_t *caad_call_arena(caad_call_t *c)
{
	return &c->arena;
}

int64_t caad_call_time_left_ms(const caad_call_t *c)
{
	if (c->deadline.tv_sec == INT64_MAX)
		return -1;
	/* The deadline arrives on the realtime clock; time left is monotonic. */
	gpr_timespec d = gpr_convert_clock_type(c->deadline, GPR_CLOCK_MONOTONIC);
	gpr_timespec left = gpr_time_sub(d, gpr_now(GPR_CLOCK_MONOTONIC));
	if (left.tv_sec < 0)
		return 0;
	if (left.tv_sec > 86400 * 365)
		return -1;
	return (int64_t)left.tv_sec * 1000 + left.tv_nsec / 1000000;
}

const char *caad_call_gone(caad_call_t *c)
{
	pthread_mutex_lock(&c->lock);
	bool cancelled = c->cancel_asked; /* set when RECV_CLOSE completed cancelled */
	pthread_mutex_unlock(&c->lock);
	if (caad_call_time_left_ms(c) == 0)
		return "deadline exceeded before the answer";
	if (c->local_gone != NULL && c->local_gone(c->local_gone_arg))
		return "the client closed the connection before the answer";
	return cancelled ? "cancelled by the client" : NULL;
}

const char *caad_call_peer(caad_call_t *c)
{
	if (c->peer == NULL && c->call != NULL)
		c->peer = grpc_call_get_peer(c->call);
	return c->peer ? c->peer : "";
}

const char *caad_call_identity(caad_call_t *c)
{
	if (!c->identity_done && c->call != NULL) {
		c->identity = caad_tls_peer_identity(c->call);
		c->identity_done = true;
	}
	return c->identity;
}

bool caad_call_client_allowed(caad_call_t *c, const caa_tls_config_t *t, char ***sans)
{
	if (c->call == NULL)
		return false; /* a local call's listener admits its own clients */
	return caad_tls_client_allowed(c->call, t, sans);
}

void caad_call_on_end(caad_call_t *c, void (*fn)(void *arg), void *arg)
{
	c->on_end = fn;
	c->on_end_arg = arg;
}

void caad_call_hold(caad_call_t *c, void (*cancel)(void *arg, uint64_t id), void *arg)
{
	call_ref(c);
	pthread_mutex_lock(&c->lock);
	c->held = true;
	c->cancel = cancel;
	c->cancel_arg = arg;
	pthread_mutex_unlock(&c->lock);
}

void caad_call_held_id(caad_call_t *c, uint64_t id)
{
	pthread_mutex_lock(&c->lock);
	c->id = id;
	c->have_id = true;
	/* Cancelled before the work even had its id: cancel it now. */
	if (c->held && c->cancel_asked && !c->cancel_sent) {
		c->cancel_sent = true;
		c->cancel(c->cancel_arg, id);
	}
	pthread_mutex_unlock(&c->lock);
}

void caad_call_hold_next(caad_call_t *c, void (*cancel)(void *arg, uint64_t id), void *arg,
                         uint64_t id)
{
	pthread_mutex_lock(&c->lock);
	c->cancel = cancel;
	c->cancel_arg = arg;
	c->id = id;
	c->have_id = true;
	/* a cancel the previous stage got (or was too late for) reaches this one too */
	c->cancel_sent = c->held && c->cancel_asked;
	if (c->cancel_sent)
		cancel(arg, id);
	pthread_mutex_unlock(&c->lock);
}

void caad_call_release(caad_call_t *c)
{
	pthread_mutex_lock(&c->lock);
	c->held = false;
	pthread_mutex_unlock(&c->lock);
	call_unref(c);
}

void caad_call_local_gone(caad_call_t *c, bool (*gone)(void *arg), void *arg)
{
	c->local_gone = gone;
	c->local_gone_arg = arg;
}

const char *caad_call_local_rpc(const caad_call_t *c)
{
	return c->local_done != NULL ? c->unknown_path : NULL;
}

caad_call_t *caad_call_local_new(const char *rpc, const uint8_t *payload, size_t len,
                                 const char *peer, const char *identity, int64_t deadline_ms,
                                 caad_call_done_fn done, void *arg)
{
	caad_call_t *c = calloc(1, sizeof(*c));
	if (c == NULL)
		return NULL;
	c->local_payload = malloc(len ? len : 1);
	c->peer = gpr_strdup(peer ? peer : "");
	c->identity = identity ? strdup(identity) : NULL;
	c->unknown_path = strdup(rpc); /* a local call has no method: its name lives here */
	if (c->local_payload == NULL || c->peer == NULL || (identity && c->identity == NULL) ||
	    c->unknown_path == NULL) {
		free(c->unknown_path);
		free(c->local_payload);
		gpr_free(c->peer);
		free(c->identity);
		free(c);
		return NULL;
	}
	if (len > 0)
		memcpy(c->local_payload, payload, len);
	c->local_len = len;
	c->identity_done = true;
	c->local_done = done;
	c->local_arg = arg;
	c->deadline = deadline_ms < 0
	                  ? gpr_inf_future(GPR_CLOCK_REALTIME)
	                  : gpr_time_add(gpr_now(GPR_CLOCK_REALTIME),
	                                 gpr_time_from_millis(deadline_ms, GPR_TIMESPAN));
	atomic_init(&c->refs, 1);
	atomic_init(&c->replied, false);
	pthread_mutex_init(&c->lock, NULL);
	caad_arena_init(&c->arena);
	return c;
}

/* ---- slots ---- */

static void on_slot(caad_tag_t *t, bool ok);

static bool slot_post(slot_t *s)
{
	caad_rpc_t *r = s->rpc;
	grpc_call_error e;
	s->call = NULL;
	s->payload = NULL;
	grpc_metadata_array_init(&s->md);
	if (s->registered != NULL) {
		e = grpc_server_request_registered_call(r->server, s->registered, &s->call,
		                                        &s->deadline, &s->md, &s->payload, r->cq,
		                                        r->cq, &s->tag);
	} else {
		grpc_call_details_init(&s->details);
		e = grpc_server_request_call(r->server, &s->call, &s->details, &s->md, r->cq, r->cq,
		                             &s->tag);
	}
	if (e != GRPC_CALL_OK) {
		grpc_metadata_array_destroy(&s->md);
		if (s->registered == NULL)
			grpc_call_details_destroy(&s->details);
		return false;
	}
	return true;
}

/* A slot is no longer posted: count it out (drain waits for all of them). */
static void slot_retire(slot_t *s)
{
	caad_rpc_t *r = s->rpc;
	pthread_mutex_lock(&r->lock);
	r->slots_out--;
	pthread_cond_broadcast(&r->cond);
	pthread_mutex_unlock(&r->lock);
}

static void unimplemented(caad_call_t *c, void *arg)
{
	(void)arg;
	caad_call_fail(c, GRPC_STATUS_UNIMPLEMENTED, "unknown method %s",
	               c->unknown_path ? c->unknown_path : "");
}

/* The request parts a slot's completion leaves behind (metadata, and the
 * details of an unregistered method): not used past the call's creation. */
static void slot_release_request(slot_t *s)
{
	grpc_metadata_array_destroy(&s->md);
	if (s->registered == NULL)
		grpc_call_details_destroy(&s->details);
}

/* The call a completed slot holds, with one reference for its handler, or
 * NULL when there is no memory for it: then the call is refused rather
 * than left hanging. */
static caad_call_t *call_from_slot(const slot_t *s)
{
	caad_rpc_t *r = s->rpc;
	caad_call_t *c = calloc(1, sizeof(*c));
	if (c == NULL) {
		grpc_call_cancel_with_status(s->call, GRPC_STATUS_RESOURCE_EXHAUSTED,
		                             "out of memory", NULL);
		grpc_call_unref(s->call);
		if (s->payload)
			grpc_byte_buffer_destroy(s->payload);
		return NULL;
	}
	c->close_tag.done = on_close_done;
	c->send_tag.done = on_send_done;
	c->rpc = r;
	c->method = s->method;
	c->call = s->call;
	c->deadline = s->registered ? s->deadline : s->details.deadline;
	c->payload = s->payload;
	atomic_init(&c->refs, 1);
	atomic_init(&c->replied, false);
	pthread_mutex_init(&c->lock, NULL);
	caad_arena_init(&c->arena);
	if (s->registered == NULL) {
		size_t len = GRPC_SLICE_LENGTH(s->details.method);
		c->unknown_path = malloc(len + 1);
		if (c->unknown_path != NULL) {
			memcpy(c->unknown_path, GRPC_SLICE_START_PTR(s->details.method), len);
			c->unknown_path[len] = '\0';
		}
	}
	pthread_mutex_lock(&r->lock);
	r->live++;
	pthread_mutex_unlock(&r->lock);
	return c;
}

/* RECV_CLOSE_ON_SERVER completes when the call is over: it tells a
 * cancelled call (client gone, deadline) from a finished one. */
static void call_watch_close(caad_call_t *c)
{
	grpc_op close_op;
	memset(&close_op, 0, sizeof(close_op));
	close_op.op = GRPC_OP_RECV_CLOSE_ON_SERVER;
	close_op.data.recv_close_on_server.cancelled = &c->cancelled;
	call_ref(c);
	if (grpc_call_start_batch(c->call, &close_op, 1, &c->close_tag, NULL) != GRPC_CALL_OK)
		call_unref(c);
}

/* Hand the call to its method's handler, if admitted (open methods always
 * are); an unknown method is answered UNIMPLEMENTED. */
static void call_dispatch(caad_rpc_t *r, caad_call_t *c)
{
	const caad_method_t *m = c->method < r->opts.n_methods ? &r->opts.methods[c->method] : NULL;
	if ((m != NULL && m->open) || r->opts.admit == NULL ||
	    r->opts.admit(r->opts.admit_arg, c, c->method)) {
		if (m != NULL)
			m->handle(c, m->arg);
		else
			unimplemented(c, NULL);
	}
}

static void on_slot(caad_tag_t *t, bool ok)
{
	slot_t *s = CONTAINER(t, slot_t, tag);
	caad_rpc_t *r = s->rpc;
	if (!ok) {
		/* Shutdown: the request was withdrawn without a call. */
		slot_release_request(s);
		slot_retire(s);
		return;
	}
	caad_call_t *c = call_from_slot(s);
	slot_release_request(s); /* request metadata is not used */

	/* Post the slot again before handling, so the next call finds it. */
	if (atomic_load(&r->stopping) || !slot_post(s))
		slot_retire(s);
	if (c == NULL)
		return;
	call_watch_close(c);
	/* call_watch_close's call_unref dropped only the ref it took: c lives on */
	// NOLINTNEXTLINE(clang-analyzer-unix.Malloc): the analyzer cannot count refs
	call_dispatch(r, c);
	call_unref(c); /* the handler's reference */
}

/* ---- the server ---- */

static void on_shutdown(caad_tag_t *t, bool ok)
{
	caad_rpc_t *r = CONTAINER(t, caad_rpc_t, shutdown_tag);
	(void)ok;
	pthread_mutex_lock(&r->lock);
	r->shutdown_done = true;
	pthread_cond_broadcast(&r->cond);
	pthread_mutex_unlock(&r->lock);
}

static void *cq_thread(void *arg)
{
	caad_rpc_t *r = arg;
	prctl(PR_SET_NAME, "caad-cq"); /* for top -H and perf */
	for (;;) {
		grpc_event ev =
		    grpc_completion_queue_next(r->cq, gpr_inf_future(GPR_CLOCK_MONOTONIC), NULL);
		if (ev.type == GRPC_QUEUE_SHUTDOWN)
			break;
		if (ev.type == GRPC_OP_COMPLETE) {
			caad_tag_t *t = ev.tag;
			t->done(t, ev.success != 0);
		}
	}
	return NULL;
}

/* Tear down a server that started partly (or fully, after drain). */
static void rpc_destroy(caad_rpc_t *r)
{
	if (r->cq != NULL) {
		grpc_completion_queue_shutdown(r->cq);
		if (r->n_threads > 0) {
			for (unsigned i = 0; i < r->n_threads; i++)
				pthread_join(r->threads[i], NULL);
		} else {
			/* no threads ever ran: drain here */
			while (grpc_completion_queue_next(r->cq,
			                                  gpr_inf_future(GPR_CLOCK_MONOTONIC), NULL)
			           .type != GRPC_QUEUE_SHUTDOWN)
				;
		}
	}
	if (r->server != NULL)
		grpc_server_destroy(r->server);
	if (r->cq != NULL)
		grpc_completion_queue_destroy(r->cq);
	free(r->threads);
	free(r->slots);
	pthread_cond_destroy(&r->cond);
	pthread_mutex_destroy(&r->lock);
	free(r);
}

/* The server object with its queue and channel args, nothing bound yet. */
static caad_rpc_t *rpc_new(const caad_rpc_opts_t *opts)
{
	caad_rpc_t *r = calloc(1, sizeof(*r));
	if (r == NULL)
		return NULL;
	r->opts = *opts;
	atomic_init(&r->stopping, false);
	pthread_mutex_init(&r->lock, NULL);
	pthread_cond_init(&r->cond, NULL);
	r->shutdown_tag.done = on_shutdown;

	grpc_arg args[2];
	memset(args, 0, sizeof(args));
	args[0].type = GRPC_ARG_INTEGER;
	args[0].key = GRPC_ARG_MAX_RECEIVE_MESSAGE_LENGTH;
	args[0].value.integer = opts->max_message;
	/* Without this a second caad on the same port binds too (SO_REUSEPORT)
	 * and silently shares the traffic. */
	args[1].type = GRPC_ARG_INTEGER;
	args[1].key = GRPC_ARG_ALLOW_REUSEPORT;
	args[1].value.integer = 0;
	grpc_channel_args chargs = {.num_args = 2, .args = args};

	r->cq = grpc_completion_queue_create_for_next(NULL);
	r->server = grpc_server_create(&chargs, NULL);
	grpc_server_register_completion_queue(r->server, r->cq, NULL);
	return r;
}

/* Register every method and lay out its slots (SLOTS_PER_METHOD each, then
 * the generic ones). Before grpc_server_start. */
static int rpc_register(caad_rpc_t *r, char *err, size_t errlen)
{
	const caad_rpc_opts_t *opts = &r->opts;
	r->n_slots = opts->n_methods * SLOTS_PER_METHOD + SLOTS_GENERIC;
	r->slots = calloc(r->n_slots, sizeof(*r->slots));
	r->threads = calloc(opts->threads, sizeof(*r->threads));
	if (r->slots == NULL || r->threads == NULL) {
		caa_set_err(err, errlen, "%s", caa_strerror(CAA_ENOMEM));
		return CAA_ENOMEM;
	}
	for (size_t m = 0; m < opts->n_methods; m++) {
		void *reg =
		    grpc_server_register_method(r->server, opts->methods[m].path, NULL,
		                                GRPC_SRM_PAYLOAD_READ_INITIAL_BYTE_BUFFER, 0);
		if (reg == NULL) {
			caa_set_err(err, errlen, "cannot register method %s",
			            opts->methods[m].path);
			return CAA_EINTERNAL;
		}
		for (size_t i = 0; i < SLOTS_PER_METHOD; i++) {
			slot_t *s = &r->slots[m * SLOTS_PER_METHOD + i];
			s->method = m;
			s->registered = reg;
		}
	}
	for (size_t i = opts->n_methods * SLOTS_PER_METHOD; i < r->n_slots; i++)
		r->slots[i].method = opts->n_methods;
	return CAA_EOK;
}

/* After grpc_server_start: post every slot, then start the queue's threads. */
static int rpc_run(caad_rpc_t *r, char *err, size_t errlen)
{
	for (size_t i = 0; i < r->n_slots; i++) {
		slot_t *s = &r->slots[i];
		s->tag.done = on_slot;
		s->rpc = r;
		if (!slot_post(s)) {
			caa_set_err(err, errlen, "cannot post request slots");
			return CAA_EINTERNAL;
		}
		r->slots_out++;
	}
	for (unsigned i = 0; i < r->opts.threads; i++) {
		int e = pthread_create(&r->threads[i], NULL, cq_thread, r);
		if (e != 0) { /* pthread_create returns its error; errno is not set */
			caa_set_err(err, errlen, "%s: %s", caa_strerror(CAA_ETHREAD), strerror(e));
			return CAA_ETHREAD;
		}
		r->n_threads++;
	}
	return CAA_EOK;
}

/* Undo a start that failed after grpc_server_start. */
static void rpc_abort_started(caad_rpc_t *r)
{
	if (r->n_threads > 0) {
		caad_rpc_drain(r, 0);
	} else {
		/* nobody consumes events: rpc_destroy drains the queue itself */
		atomic_store(&r->stopping, true);
		grpc_server_shutdown_and_notify(r->server, r->cq, &r->shutdown_tag);
		grpc_server_cancel_all_calls(r->server);
	}
	rpc_destroy(r);
}

int caad_rpc_start(const caad_rpc_opts_t *opts, caad_rpc_t **out, int *port, char *err,
                   size_t errlen)
{
	*out = NULL;
	caad_rpc_t *r = rpc_new(opts);
	if (r == NULL) {
		caa_set_err(err, errlen, "%s", caa_strerror(CAA_ENOMEM));
		return CAA_ENOMEM;
	}
	int rc = rpc_register(r, err, errlen);
	if (rc == CAA_EOK &&
	    (*port = grpc_server_add_http2_port(r->server, opts->listen, opts->creds)) == 0) {
		caa_set_err(err, errlen,
		            "listen: cannot listen on %s (address in use, not local, or "
		            "not an address)",
		            opts->listen);
		rc = CAA_ECONFIG;
	}
	if (rc != CAA_EOK) {
		/* grpc_server_destroy needs a completed shutdown first */
		grpc_server_shutdown_and_notify(r->server, r->cq, &r->shutdown_tag);
		rpc_destroy(r);
		return rc;
	}
	grpc_server_start(r->server);
	if ((rc = rpc_run(r, err, errlen)) != CAA_EOK) {
		rpc_abort_started(r);
		return rc;
	}
	*out = r;
	return CAA_EOK;
}

size_t caad_rpc_calls(caad_rpc_t *r)
{
	pthread_mutex_lock(&r->lock);
	size_t n = r->live;
	pthread_mutex_unlock(&r->lock);
	return n;
}

/* Wait on r->cond until done(r) or the monotonic deadline (0 = no limit). */
static bool wait_until(caad_rpc_t *r, bool (*done)(caad_rpc_t *), const struct timespec *until)
{
	bool ok;
	pthread_mutex_lock(&r->lock);
	while (!(ok = done(r))) {
		if (until == NULL) {
			pthread_cond_wait(&r->cond, &r->lock);
		} else if (pthread_cond_timedwait(&r->cond, &r->lock, until) == ETIMEDOUT) {
			ok = done(r);
			break;
		}
	}
	pthread_mutex_unlock(&r->lock);
	return ok;
}

static bool all_quiet(caad_rpc_t *r)
{
	return r->live == 0 && r->slots_out == 0 && r->shutdown_done;
}

size_t caad_rpc_drain(caad_rpc_t *r, unsigned drain_ms)
{
	atomic_store(&r->stopping, true);
	grpc_server_shutdown_and_notify(r->server, r->cq, &r->shutdown_tag);

	/* condvars wait on CLOCK_REALTIME by default; a drain bound is short
	 * enough that a clock step matters little, but use the same clock */
	struct timespec until;
	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += drain_ms / 1000;
	until.tv_nsec += (long)(drain_ms % 1000) * 1000000L;
	if (until.tv_nsec >= 1000000000L) {
		until.tv_sec++;
		until.tv_nsec -= 1000000000L;
	}
	size_t cancelled = 0;
	/* Quiet = no call of ours, no slot posted, gRPC's notify received; a call
	 * matched just before the shutdown is inside the bound too. */
	if (!wait_until(r, all_quiet, &until)) {
		cancelled = caad_rpc_calls(r);
		/* Their RECV_CLOSE completes cancelled: held work gets its cancel hook. */
		grpc_server_cancel_all_calls(r->server);
	}
	/* The notify tag can fire while we still hold calls: wait for both. */
	wait_until(r, all_quiet, NULL);
	return cancelled;
}

void caad_rpc_free(caad_rpc_t *r)
{
	if (r != NULL)
		rpc_destroy(r);
}
