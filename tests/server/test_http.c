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

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_match),
	    cmocka_unit_test(test_refused_routes),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
