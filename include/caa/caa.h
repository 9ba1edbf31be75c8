/*
 * caa.h — libcaa, the public API: include <caa/caa.h> for all of it.
 *
 * libcaa decides whether a CA may issue for a DNS identifier according to its
 * CAA records (RFC 8659, RFC 8657, CA/B BR 3.2.2.8), and explains why. It has
 * no gRPC in it: caad and caa are thin layers over it. docs/libcaa.md is the
 * embedding guide.
 *
 * The pure decision (no DNS): build the per-label lookup outcomes yourself
 * (or from a records file, records.h) and call caa_evaluate() (result.h). The
 * climb over libunbound (climb.h) produces the same caa_result_t, from a
 * config (config.h); the reuse window is cache.h.
 *
 * Ownership: everything returned as caa_*_t * is freed with the matching
 * caa_*_free(). Strings inside a result belong to the result.
 *
 * Errors: functions return CAA_EOK or a negative code of codes.h
 * (caa_strerror()); never errno.
 */
#ifndef CAA_CAA_H
#define CAA_CAA_H

#include "cache.h"
#include "climb.h"
#include "codes.h"
#include "config.h"
#include "mpic.h"
#include "name.h"
#include "policy.h"
#include "problem.h"
#include "records.h"
#include "result.h"
#include "rr.h"
#include "types.h"
#include "version.h"

#endif
