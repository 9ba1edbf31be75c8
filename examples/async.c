/*
 * async.c — libcaa driven from the caller's own event loop (docs/libcaa.md):
 * every identifier is started at once with caa_check_async(), and a poll()
 * loop that could watch the program's other file descriptors too waits on
 * caa_ctx_fd() for at most caa_ctx_timeout_ms(), then calls caa_ctx_process().
 * Results arrive in the callback, in the order they complete.
 *
 *   cc -o async async.c $(pkg-config --cflags --libs caa)
 *   ./async /etc/caad/caad.json www.example.com '*.example.org'
 *
 * Prints "IDENTIFIER VERDICT REASON" per identifier as its check completes.
 * Exit status: 0 when every identifier is permitted, 1 when one is not, 2 on
 * an error.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>

#include <caa/caa.h>

struct state {
	size_t outstanding; /* checks started whose callback has not run */
	int status;
};

static void worse(struct state *st, int status)
{
	if (status > st->status)
		st->status = status;
}

/* Runs on the loop thread, from caa_ctx_process(); res is ours to free. */
static void on_result(void *arg, int rc, caa_result_t *res)
{
	struct state *st = arg;
	st->outstanding--;
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
	caa_ctx_t *ctx = NULL;
	if (caa_ctx_new(cfg, &ctx, err, sizeof(err)) != CAA_EOK) {
		fprintf(stderr, "%s\n", err);
		caa_config_free(cfg);
		return 2;
	}

	struct state st = {0};
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

	/* The loop. A real program adds its own descriptors to fds[] (or puts
	 * caa_ctx_fd(), itself an epoll descriptor, into its epoll set) and takes
	 * the smaller of its own timeout and caa_ctx_timeout_ms(). */
	while (st.outstanding > 0) {
		struct pollfd fds[1] = {{.fd = caa_ctx_fd(ctx), .events = POLLIN}};
		if (poll(fds, 1, caa_ctx_timeout_ms(ctx)) < 0 && errno != EINTR) {
			fprintf(stderr, "poll: %s\n", strerror(errno));
			worse(&st, 2);
			break;
		}
		/* readable or not: process also runs the timers that are due */
		int rc = caa_ctx_process(ctx);
		if (rc != CAA_EOK) {
			fprintf(stderr, "caa_ctx_process: %s\n", caa_strerror(rc));
			worse(&st, 2);
			break;
		}
	}

	/* checks still running (only after an error above) end with CAA_ESHUTDOWN */
	caa_ctx_free(ctx);
	caa_config_free(cfg);
	return st.status;
}
