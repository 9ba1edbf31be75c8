/*
 * convert.h — libcaa results into caa.v1 and Boulder messages, allocated in
 * the call's arena. Every field of CheckResponse is filled; record tags and
 * values are presentation text (octets outside printable ASCII as \DDD, as
 * caa.proto says), and free text that is not UTF-8 is escaped the same way,
 * so any client's protobuf library accepts the strings. NULL when out of
 * memory.
 */
#ifndef CAAD_CONVERT_H
#define CAAD_CONVERT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "arena.h"
#include "caa/v1/caa.pb-c.h"
#include "core/core.pb-c.h"
#include "result.h"

/* type is the request's identifier type ("dns", "ip"); explain adds the trace. */
Caa__V1__CheckResponse *caad_convert_result(caad_arena_t *a, const caa_result_t *res,
                                            const char *type, bool explain);

/* Problem with the full URN type, the identifier and sub-problems. */
Caa__V1__Problem *caad_convert_problem(caad_arena_t *a, const caa_problem_t *p);

/* Boulder's core.ProblemDetails: type without the URN prefix ("caa"). */
Core__ProblemDetails *caad_convert_boulder_problem(caad_arena_t *a, const caa_problem_t *p);

/* One UTF-8 sequence at s (left > 0 octets, not NUL-terminated): its length,
 * with its code point in *cp, or 0 when it is not valid UTF-8 (overlong,
 * surrogate, past U+10FFFF, cut short). The one UTF-8 reader of caad:
 * requests (request.c), answers and audit lines. */
size_t caad_utf8_next(const unsigned char *s, size_t left, uint32_t *cp);

/* s as valid UTF-8: unchanged when it is, \DDD-escaped when not. */
char *caad_convert_text(caad_arena_t *a, const char *s);

#endif
