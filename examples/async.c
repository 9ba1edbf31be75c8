/*
 * async.c — libcaa inside the caller's own libevent loop (docs/libcaa.md):
 * the program makes its event_base, gives it to caa_ctx_new_event(), starts
 * every identifier at once with caa_check_async() and runs the base with
 * event_base_dispatch(), next to its own events (here a timer that gives up
 * after a minute). Results arrive in the callback, in the order they
 * complete; the last one ends the loop.
 *
 *   cc -o async async.c $(pkg-config --cflags --libs caa libevent)
 *   ./async /etc/caad/caad.json www.example.com '*.example.org'
 *
 * Prints "IDENTIFIER VERDICT REASON" per identifier as its check completes.
 * Exit status: 0 when every identifier is permitted, 1 when one is not, 2 on
 * an error.
 */
#include <stdio.h>

#include <caa/caa.h>
#include <event2/event.h>

struct state {
	struct event_base *base;
	size_t outstanding; /* checks started whose callback has not run */
	int status;
};

static void worse(struct state *st, int status)
{
	if (status > st->status)
		st->status = status;
}

/* Runs on the loop thread, from event_base_dispatch(); res is ours to free. */
static void on_result(void *arg, int rc, caa_result_t *res)
{
	struct state *st = arg;
	if (--st->outstanding == 0)
		event_base_loopbreak(st->base); /* after this callback returns */
	if (rc != CAA_EOK) {
		printf("error: %s\n", caa_strerror(rc));
		worse(st, 2);
		return;
	}
	printf("%s %s %s\n", res->identifier, caa_verdict_name(res->verdict),
	       caa_reason_name(res->reason));
	if (res->problem != NULL)
		printf("  %s\n", res->problem->detail);
	worse(st, res->verdict == CAA_PERMITTED ? 0 : 1);
	caa_result_free(res);
}

/* The program's own timer on the same base. */
static void on_give_up(evutil_socket_t fd, short what, void *arg)
{
	struct state *st = arg;
	(void)fd;
	(void)what;
	fprintf(stderr, "giving up: %zu checks still running\n", st->outstanding);
	worse(st, 2);
	event_base_loopbreak(st->base);
}

int main(int argc, char **argv)
{
	if (argc < 3) {
		fprintf(stderr, "usage: %s CONFIG IDENTIFIER...\n", argv[0]);
		return 2;
	}

	char err[512];
	caa_config_t *cfg = NULL;
	if (caa_config_load(argv[1], &cfg, err, sizeof(err)) != CAA_EOK) {
		fprintf(stderr, "%s\n", err);
		return 2;
	}
	struct state st = {.base = event_base_new()};
	caa_ctx_t *ctx = NULL;
	if (st.base == NULL || caa_ctx_new_event(cfg, st.base, &ctx, err, sizeof(err)) != CAA_EOK) {
		fprintf(stderr, "%s\n", st.base == NULL ? "event_base_new failed" : err);
		if (st.base != NULL)
			event_base_free(st.base);
		caa_config_free(cfg);
		return 2;
	}

	for (int i = 2; i < argc; i++) {
		/* the request is copied: it may live on the stack */
		caa_request_t req = {.identifier = argv[i], .method = "dns-01"};
		int rc = caa_check_async(ctx, &req, 0, on_result, &st, NULL);
		if (rc != CAA_EOK) {
			printf("%s error: %s\n", argv[i], caa_strerror(rc));
			worse(&st, 2);
			continue;
		}
		st.outstanding++;
	}

	/* The loop: libcaa's events (its resolver's sockets and timers) and the
	 * program's own share the base. */
	struct timeval minute = {.tv_sec = 60};
	struct event *give_up = evtimer_new(st.base, on_give_up, &st);
	if (give_up == NULL || evtimer_add(give_up, &minute) != 0) {
		fprintf(stderr, "cannot set the timer\n");
		worse(&st, 2);
	} else if (st.outstanding > 0 && event_base_dispatch(st.base) < 0) {
		fprintf(stderr, "event_base_dispatch failed\n");
		worse(&st, 2);
	}

	/* checks still running (only after an error above) end with CAA_ESHUTDOWN;
	 * the context first, then the base it borrowed */
	if (give_up != NULL)
		event_free(give_up);
	caa_ctx_free(ctx);
	event_base_free(st.base);
	caa_config_free(cfg);
	return st.status;
}
