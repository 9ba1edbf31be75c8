/*
 * test_webhook.c — what the step-ca webhook reads before any DNS, in-process:
 * the body's timestamp (RFC 3339 as Go's time.Time writes it, read by
 * pbjson's parser; anything looser refused) and the webhook secret (base64 as step-ca prints it).
 * The signed requests themselves go over HTTPS in t_webhook.py.
 */
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <string.h>

#include <cmocka.h>

#include "pbjson.h"
#include "webhook.h"

static void test_time(void **state)
{
	(void)state;
	int64_t t = 0;
	int32_t ns = 0;
	assert_true(caad_pbjson_time("2026-12-07T12:00:00Z", &t, &ns));
	assert_int_equal(t, 1796644800);
	assert_true(caad_pbjson_time("2026-12-07T12:00:00.123456789Z", &t, &ns));
	assert_int_equal(t, 1796644800);
	assert_int_equal(ns, 123456789);
	assert_true(caad_pbjson_time("2026-12-07T14:00:00+02:00", &t, &ns));
	assert_int_equal(t, 1796644800);
	assert_true(caad_pbjson_time("2026-12-07T11:30:00.5-00:30", &t, &ns));
	assert_int_equal(t, 1796644800);
	static const char *const bad[] = {
	    "",
	    "2026-12-07",
	    "2026-12-07T12:00:00",        /* no zone */
	    "2026-12-07 12:00:00Z",       /* a space for T */
	    " 2026-12-07T12:00:00Z",      /* leading space */
	    "2026-+2-07T12:00:00Z",       /* a sign in a field */
	    "2026-1-07T12:00:00Z",        /* one digit */
	    "2026-13-07T12:00:00Z",       /* month 13 */
	    "2026-12-00T12:00:00Z",       /* day 0 */
	    "2026-12-07T24:00:00Z",       /* hour 24 */
	    "2026-12-07T12:00:00.Z",      /* an empty fraction */
	    "2026-12-07T12:00:00+2:00",   /* a short offset */
	    "2026-12-07T12:00:00+02:00x", /* trailing text */
	    "2026-12-07T12:00:00Zx",
	    "2026-12-07T12:00:00.1234567891Z", /* ten fraction digits */
	    "2026-02-30T12:00:00Z",            /* no such day */
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		t = 42;
		if (caad_pbjson_time(bad[i], &t, &ns))
			fail_msg("accepted \"%s\"", bad[i]);
	}
}

static void test_secret(void **state)
{
	(void)state;
	uint8_t key[64];
	assert_int_equal(caad_webhook_secret("  c2VjcmV0IQ==\n", key, sizeof(key)), 7);
	assert_memory_equal(key, "secret!", 7);
	assert_true(caad_webhook_secret("", key, sizeof(key)) < 0);
	assert_true(caad_webhook_secret("not base64 !", key, sizeof(key)) < 0);
	assert_true(caad_webhook_secret("c2VjcmV0IQ==", key, 4) < 0); /* does not fit */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_time),
	    cmocka_unit_test(test_secret),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
