/*
 * failalloc.h — allocation-failure injection for tests: the Nth heap
 * allocation made through malloc, calloc, realloc or strdup fails (NULL,
 * errno ENOMEM). Link the test with
 *   -Wl,--wrap=malloc,--wrap=calloc,--wrap=realloc,--wrap=strdup
 * so that calls from libcaa.a and the test itself go through here; shared
 * libraries (libunbound, jansson, libc's own strdup) are not affected.
 *
 * With -Wl,--wrap=ub_resolve_event as well, libcaa's CAA queries can fail
 * to start (UB_NOMEM, as libunbound says when it cannot queue one).
 */
#ifndef CAA_TEST_FAILALLOC_H
#define CAA_TEST_FAILALLOC_H

#include <stdbool.h>

/* Count allocations from now; the nth fails (and only it). 0: none fails. */
void failalloc_arm(unsigned long nth);
/* Stop failing and counting. */
void failalloc_disarm(void);
/* Allocations counted since the last arm. */
unsigned long failalloc_count(void);
/* Did the armed allocation fail? */
bool failalloc_fired(void);

/* From the nth CAA query on (counted from now), ub_resolve_event() fails
 * with UB_NOMEM; 0: none fails. Other types (the DS of a proof) go through. */
void failalloc_ub_arm(unsigned long nth);
void failalloc_ub_disarm(void);
/* Did a CAA query fail since the last arm? */
bool failalloc_ub_fired(void);

#endif
