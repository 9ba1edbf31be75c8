/* test_hmap.c — the label table: put/get/del through growth, and names chosen
 * to collide under an unkeyed hash spread out under the map's keyed one. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "codes.h"
#include "hmap.h"

#define NAMES 1000

static void test_put_get_del(void **state)
{
	static char names[NAMES][24];
	caa_hmap_t *m = caa_hmap_new();
	(void)state;
	assert_non_null(m);
	for (int i = 0; i < NAMES; i++) {
		snprintf(names[i], sizeof(names[i]), "l%d.example", i);
		assert_null(caa_hmap_get(m, names[i]));
		assert_int_equal(caa_hmap_put(m, names[i], names[i]), CAA_EOK);
	}
	assert_int_equal(caa_hmap_count(m), NAMES);
	for (int i = 0; i < NAMES; i++)
		assert_ptr_equal(caa_hmap_get(m, names[i]), names[i]);
	for (int i = 0; i < NAMES; i += 2)
		assert_ptr_equal(caa_hmap_del(m, names[i]), names[i]);
	for (int i = 0; i < NAMES; i++)
		assert_ptr_equal(caa_hmap_get(m, names[i]), i % 2 ? names[i] : NULL);
	assert_null(caa_hmap_del(m, "l0.example"));
	assert_int_equal(caa_hmap_count(m), NAMES / 2);
	caa_hmap_free(m);
}

static uint32_t fnv1a(const char *s)
{
	uint32_t h = 2166136261u;
	for (; *s; s++)
		h = (h ^ (uint8_t)*s) * 16777619u;
	return h;
}

/* 100 names whose FNV-1a (the table's hash before it was keyed) agrees in its
 * low 12 bits: in one bucket whatever the table's size up to 4096. Under a
 * random SipHash key they spread; a chain of 16 among 100 entries in 128
 * buckets has a probability far below 1e-12. */
static void test_chosen_collisions(void **state)
{
	static char names[100][32];
	size_t n = 0;
	(void)state;
	for (unsigned i = 0; n < 100; i++) {
		char cand[32];
		snprintf(cand, sizeof(cand), "x%u.victim.example", i);
		if ((fnv1a(cand) & 0xfff) == 0)
			memcpy(names[n++], cand, sizeof(cand));
	}
	caa_hmap_t *m = caa_hmap_new();
	assert_non_null(m);
	for (size_t i = 0; i < n; i++)
		assert_int_equal(caa_hmap_put(m, names[i], names[i]), CAA_EOK);
	assert_true(caa_hmap_max_chain(m) < 16);
	caa_hmap_free(m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_put_get_del),
	    cmocka_unit_test(test_chosen_collisions),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
