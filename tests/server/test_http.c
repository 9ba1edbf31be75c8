/*
 * test_http.c — the HTTP server's route table (caad_http_handle,
 * caad_http_match), in-process: exact paths, GET answering HEAD, 404 against
 * 405, refused routes. The request parsing itself is libmicrohttpd's; the
 * lab cases (t_http.c) send it garbage over sockets.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sys/socket.h>

#include <cmocka.h>

#include "codes.h"
#include "http.h"

static unsigned ok_page(void *arg, const caad_http_req_t *req, FILE *out, const char **ctype)
{
	(void)arg;
	(void)req;
	(void)out;
	(void)ctype;
	return 200;
}

static caad_http_t *server(void)
{
	int port = 0;
	char err[256];
	caad_http_t *h = caad_http_listen("metrics_listen", "127.0.0.1:0", &port, err, sizeof(err));
	assert_non_null(h);
	assert_true(port > 0);
	assert_int_equal(caad_http_handle(h, "GET", "/metrics", 0, ok_page, NULL), CAA_EOK);
	assert_int_equal(caad_http_handle(h, "POST", "/webhook", 4096, ok_page, NULL), CAA_EOK);
	return h;
}

static void test_match(void **state)
{
	(void)state;
	caad_http_t *h = server();
	assert_int_equal(caad_http_match(h, "GET", "/metrics"), 0);
	assert_int_equal(caad_http_match(h, "HEAD", "/metrics"), 0);
	assert_int_equal(caad_http_match(h, "POST", "/webhook"), 1);
	assert_int_equal(caad_http_match(h, "POST", "/metrics"), -405);
	assert_int_equal(caad_http_match(h, "get", "/metrics"), -405);
	assert_int_equal(caad_http_match(h, "GET", "/webhook"), -405);
	static const char *const missing[] = {"/",         "",          "/metricsx", "/metric",
	                                      "/metrics/", "//metrics", "/METRICS"};
	for (size_t i = 0; i < sizeof(missing) / sizeof(missing[0]); i++)
		assert_int_equal(caad_http_match(h, "GET", missing[i]), -404);
	caad_http_free(h);
}

static void test_refused_routes(void **state)
{
	(void)state;
	caad_http_t *h = server();
	/* the same route twice, a path that is not one, no handler */
	assert_int_equal(caad_http_handle(h, "GET", "/metrics", 0, ok_page, NULL), CAA_EINVAL);
	assert_int_equal(caad_http_handle(h, "GET", "metrics", 0, ok_page, NULL), CAA_EINVAL);
	assert_int_equal(caad_http_handle(h, "GET", "/x", 0, NULL, NULL), CAA_EINVAL);
	char path[16];
	int rc = CAA_EOK;
	for (unsigned i = 0; rc == CAA_EOK && i < 2 * CAAD_HTTP_MAX_ROUTES; i++) {
		snprintf(path, sizeof(path), "/r%u", i);
		rc = caad_http_handle(h, "GET", path, 0, ok_page, NULL);
	}
	assert_int_equal(rc, CAA_ENOMEM); /* the table is full, never overrun */
	caad_http_free(h);
}

/* An asynchronous route that answers a little later, from its own thread. */
static void *answer_later(void *reply)
{
	nanosleep(&(struct timespec){0, 20 * 1000 * 1000}, NULL);
	caad_http_answer(reply, 200, "text/plain", strdup("late\n"), 5);
	return NULL;
}

static void later_page(void *arg, const caad_http_req_t *req, caad_http_reply_t *reply)
{
	(void)arg;
	(void)req;
	pthread_t t;
	if (pthread_create(&t, NULL, answer_later, reply) == 0)
		pthread_detach(t);
	else
		caad_http_answer(reply, 500, "text/plain", NULL, 0);
}

/* caad_http_free while requests whose heads came in before it (so they
 * passed the "stopping" check) complete their bodies: each must either be
 * counted as due (and waited for) or refused, never suspended behind
 * caad_http_free's back (MHD_stop_daemon panics on a suspended connection,
 * and the late answer would touch freed memory). */
static void test_free_races_a_body(void **state)
{
	(void)state;
	enum { CLIENTS = 8, ROUNDS = 300 };
	static const char head[] = "POST /late HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\n\r\n";
	for (unsigned round = 0; round < ROUNDS; round++) {
		int port = 0;
		char err[256];
		caad_http_t *h =
		    caad_http_listen("http.listen", "127.0.0.1:0", &port, err, sizeof(err));
		assert_non_null(h);
		assert_int_equal(caad_http_handle_async(h, "POST", "/late", 16, later_page, NULL),
		                 CAA_EOK);
		assert_int_equal(caad_http_start(h, NULL), CAA_EOK);
		int fds[CLIENTS];
		struct sockaddr_in to = {.sin_family = AF_INET,
		                         .sin_port = htons((uint16_t)port),
		                         .sin_addr.s_addr = htonl(0x7f000001)};
		for (int i = 0; i < CLIENTS; i++) {
			fds[i] = socket(AF_INET, SOCK_STREAM, 0);
			assert_int_equal(connect(fds[i], (struct sockaddr *)&to, sizeof(to)), 0);
			assert_int_equal(send(fds[i], head, sizeof(head) - 1, MSG_NOSIGNAL),
			                 (ssize_t)(sizeof(head) - 1));
		}
		nanosleep(&(struct timespec){0, 5 * 1000 * 1000}, NULL); /* the heads are in */
		/* the bodies' last octets around the time caad_http_free starts */
		for (int i = 0; i < CLIENTS; i++) {
			(void)send(fds[i], "x", 1, MSG_NOSIGNAL);
			for (volatile unsigned spin = 0; spin < (round % 16) * 2000; spin++)
				;
		}
		caad_http_free(h);
		for (int i = 0; i < CLIENTS; i++)
			close(fds[i]);
	}
	nanosleep(&(struct timespec){0, 100 * 1000 * 1000}, NULL); /* late answers */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_match),
	    cmocka_unit_test(test_refused_routes),
	    cmocka_unit_test(test_free_races_a_body),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
