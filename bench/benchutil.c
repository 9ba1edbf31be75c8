/* benchutil.c — shared by the benchmark programs (benchutil.h). */
#include <stdio.h>
#include <stdlib.h>

#include "benchutil.h"

unsigned bench_levels(const char *prog, const char *s, unsigned *out, unsigned max)
{
	unsigned n = 0;
	char *end;
	while (*s && n < max) {
		unsigned long v = strtoul(s, &end, 10);
		if (end == s || v == 0 || v > 1000000 || (*end != ',' && *end != '\0')) {
			fprintf(stderr, "%s: bad list of numbers\n", prog);
			exit(1);
		}
		out[n++] = (unsigned)v;
		s = *end == ',' ? end + 1 : end;
	}
	return n;
}

int bench_cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

double bench_median(double *v, unsigned n)
{
	qsort(v, n, sizeof(*v), bench_cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}
