/*
 * test_http.c — the metrics endpoint's request line (caad_http_route): what
 * is served, and that no request head is read past its end. Each head sits
 * in a heap block of exactly its size, so a read past the NUL is a
 * heap-buffer-overflow under ASan (the sanitizer tree runs this too).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "http.h"

static caad_http_route_t route_of(const char *head)
{
	size_t n = strlen(head) + 1;
	char *req = malloc(n);
	assert_non_null(req);
	memcpy(req, head, n);
	caad_http_route_t r = caad_http_route(req);
	free(req);
	return r;
}

static void test_served(void **state)
{
	(void)state;
	assert_int_equal(route_of("GET /metrics HTTP/1.0\r\n\r\n"), CAAD_HTTP_GET);
	assert_int_equal(route_of("GET /metrics?x=1 HTTP/1.1\r\nHost: a\r\n\r\n"), CAAD_HTTP_GET);
	assert_int_equal(route_of("HEAD /metrics HTTP/1.0\r\n\r\n"), CAAD_HTTP_HEAD);
	assert_int_equal(route_of("GET /metrics\n\n"), CAAD_HTTP_GET);
}

static void test_not_found(void **state)
{
	(void)state;
	static const char *const heads[] = {
	    "GET / HTTP/1.0\r\n\r\n",
	    "GET /metricsx HTTP/1.0\r\n\r\n",
	    "GET /metric\r\n\r\n",
	    "POST /metrics HTTP/1.0\r\n\r\n",
	    "get /metrics HTTP/1.0\r\n\r\n",
	    "HEAD  /metrics\r\n\r\n",
	    "GET  /metrics\r\n\r\n",
	    /* request lines without a path, the shortest first */
	    "",
	    "\n\n",
	    "\r\n\r\n",
	    "G\n\n",
	    "GE\n\n",
	    "GET\n\n",
	    "GET\r\n\r\n",
	    "GET ",
	    "GET \n\n",
	    "HEAD",
	    "HEAD\n\n",
	    "HEAD\r\n\r\n",
	    "HEAD ",
	    "POST\n\n",
	    "POST",
	};
	for (size_t i = 0; i < sizeof(heads) / sizeof(heads[0]); i++)
		if (route_of(heads[i]) != CAAD_HTTP_NOT_FOUND)
			fail_msg("head %zu \"%s\" served", i, heads[i]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_served),
	    cmocka_unit_test(test_not_found),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
