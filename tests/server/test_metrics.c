/*
 * test_metrics.c — the counters and gauges other parts of caad register by
 * name (caad_metrics_counter/_gauge), in-process: one family per name with
 * its series together, the same name + labels is the same metric, a full
 * table gives NULL and updates through NULL do nothing.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "metrics.h"

static char *render(caad_metrics_t *m)
{
	char *page = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&page, &len);
	assert_non_null(f);
	caad_metrics_render(m, f);
	fclose(f);
	return page;
}

static void test_registered(void **state)
{
	(void)state;
	caad_metrics_t *m = caad_metrics_new(NULL, 0, NULL, NULL);
	assert_non_null(m);
	caad_metric_t *a =
	    caad_metrics_counter(m, "caad_x_errors_total", "Errors.", "backend=\"a\"");
	caad_metric_t *g = caad_metrics_gauge(m, "caad_x_generation", "Generation.", NULL);
	caad_metric_t *b =
	    caad_metrics_counter(m, "caad_x_errors_total", "Errors.", "backend=\"b\"");
	assert_ptr_equal(caad_metrics_counter(m, "caad_x_errors_total", "Errors.", "backend=\"a\""),
	                 a);
	caad_metric_add(a, 2);
	caad_metric_add(b, 5);
	caad_metric_set(g, 7);
	char *page = render(m);
	/* one family, its two series right after its TYPE line */
	assert_non_null(strstr(page, "# HELP caad_x_errors_total Errors.\n"
	                             "# TYPE caad_x_errors_total counter\n"
	                             "caad_x_errors_total{backend=\"a\"} 2\n"
	                             "caad_x_errors_total{backend=\"b\"} 5\n"));
	assert_non_null(strstr(page, "# TYPE caad_x_generation gauge\ncaad_x_generation 7\n"));
	free(page);
	/* a full table: NULL, and NULL is harmless */
	static char names[CAAD_METRICS_MAX_REGISTERED][32];
	caad_metric_t *last = a;
	for (size_t i = 0; i < CAAD_METRICS_MAX_REGISTERED && last != NULL; i++) {
		snprintf(names[i], sizeof(names[i]), "caad_x_%zu", i);
		last = caad_metrics_counter(m, names[i], "Filler.", NULL);
	}
	assert_null(last);
	caad_metric_add(last, 1);
	caad_metric_set(last, 1);
	caad_metrics_free(m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_registered),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
