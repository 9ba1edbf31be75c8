/* benchutil.h — what the benchmark programs share: lists of numbers from the
 * command line, and medians. */
#ifndef CAA_BENCHUTIL_H
#define CAA_BENCHUTIL_H

/* "1,16,128" into out[0..max): each 1..1000000. The count; a bad list ends
 * the program with "<prog>: bad list of numbers" (exit status 1). */
unsigned bench_levels(const char *prog, const char *s, unsigned *out, unsigned max);

/* qsort comparator for doubles, ascending. */
int bench_cmp_double(const void *a, const void *b);

/* The median of v[0..n), n >= 1 (sorts v). */
double bench_median(double *v, unsigned n);

#endif
