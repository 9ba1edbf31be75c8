/*
 * util.h — the small helpers every part of the tree shares, one copy each:
 * the error-buffer printf and the two clocks. Internal: not installed, not
 * exported from libcaa.so; caad and caa link libcaa.a.
 */
#ifndef CAA_UTIL_H
#define CAA_UTIL_H

#include <stddef.h>
#include <stdint.h>

/* printf into err[errlen] (cut short, always terminated); errlen 0 writes
 * nothing, so callers may pass a NULL buffer with 0. */
void caa_set_err(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Monotonic clock in microseconds: deadlines, timeouts, elapsed times. */
uint64_t caa_now_us(void);

/* Wall clock in Unix milliseconds: what is reported or stored (checked_at,
 * audit and log times), never what measures an interval. */
int64_t caa_wall_ms(void);

#endif
