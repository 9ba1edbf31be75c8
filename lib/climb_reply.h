/*
 * climb_reply.h — how the climb reads one reply of libunbound; internal
 * (DNS message types are not part of libcaa's API), declared apart so the
 * unit tests can drive it.
 */
#ifndef CAA_CLIMB_REPLY_H
#define CAA_CLIMB_REPLY_H

#include <stdbool.h>

#include "dnsmsg.h"
#include "policy.h"

/*
 * How the climb reads one reply of libunbound: rcode is
 * the callback's, m the parsed reply (NULL: none, or unreadable), sec 0
 * insecure or unchecked, 1 bogus, 2 secure; provable: the validator could
 * prove an unsigned answer Insecure. Returns the label's outcome and
 * sets its DNSSEC state and why (static text or why_bogus; NULL for none).
 */
caa_outcome_t caa_climb_reply(int rcode, const caa_dns_msg_t *m, int sec, bool provable,
                              const char *why_bogus, caa_dnssec_t *dnssec, const char **why);

#endif
