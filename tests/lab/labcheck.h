/* labcheck.h — the failure counter and FAIL() of the lab test programs that
 * report each failed expectation on a line and exit non-zero at the end. */
#ifndef CAA_LABCHECK_H
#define CAA_LABCHECK_H

#include <stdio.h>

static int failures;

#define FAIL(...)                                                                                  \
	do {                                                                                       \
		printf("FAIL ");                                                                   \
		printf(__VA_ARGS__);                                                               \
		printf("\n");                                                                      \
		failures++;                                                                        \
	} while (0)

#endif
