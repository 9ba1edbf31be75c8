/*
 * mpic.h — the network-free core of multi-perspective corroboration
 * (docs/semantics.md §9, BR §3.2.2.9): the BR schedule of the minimum number of remote
 * perspectives, the quorum over the remotes' outcomes with the exact §9
 * problem texts (also early, while some remotes are still pending), and the
 * accountURIID the remotes are sent.
 *
 * Nothing here reads a clock or talks to the network: the caller passes the
 * time and the outcomes in.
 */
#ifndef CAA_MPIC_H
#define CAA_MPIC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "types.h"
#include "policy.h"
#include "problem.h"
#include "export.h"

/* ---- the BR schedule ---- */

/* Warnings start this long before the minimum rises above what is listed. */
#define CAA_MPIC_WARN_AHEAD_S (30 * 86400)

/* One step of the schedule: from this UTC midnight on, at least min_remotes. */
typedef struct caa_mpic_step {
	int64_t from_unix_s;
	unsigned min_remotes;
	const char *date; /* "2026-12-15"; static */
} caa_mpic_step_t;

/* The BR §3.2.2.9 minimum of remote perspectives at now: 0 before 2025-03-15,
 * then 2, 3 (2026-03-15), 4 (2026-06-15), 5 (2026-12-15). */
CAA_EXPORT unsigned caa_mpic_min_remotes_br(int64_t now_unix_s);

/* The next rise strictly after now into *out; false (out untouched) when none is left. */
CAA_EXPORT bool caa_mpic_next_rise_br(int64_t now_unix_s, caa_mpic_step_t *out);

/*
 * Should caad warn that n_remotes will soon be too few? True, with the first
 * future step whose minimum exceeds n_remotes in *out, when that step starts
 * within CAA_MPIC_WARN_AHEAD_S of now (inclusive). False once the step is in
 * force: then caa_mpic_schedule_check() fails the checks.
 */
CAA_EXPORT bool caa_mpic_warn_br(size_t n_remotes, int64_t now_unix_s, caa_mpic_step_t *out);

/*
 * Are n_remotes enough under "br" at now? CAA_EOK with *out NULL when they are;
 * CAA_EOK with *out a serverInternal (500) problem "During secondary validation:
 * <n> remote perspectives configured, the Baseline Requirements require <m> from
 * <date>" when not (m and date: the step in force); CAA_ENOMEM.
 */
CAA_EXPORT int caa_mpic_schedule_check(size_t n_remotes, int64_t now_unix_s, caa_problem_t **out);

/* ---- the quorum ---- */

/* A configured remote (the config's perspective.remotes[i]), borrowed strings. */
typedef struct caa_mpic_remote {
	const char *name;
	const char *rir;
} caa_mpic_remote_t;

typedef enum caa_mpic_state {
	CAA_MPIC_PENDING = 0,  /* no outcome yet */
	CAA_MPIC_CORROBORATED, /* answered as configured, no problem */
	CAA_MPIC_PROBLEM,      /* answered as configured, with a problem */
	CAA_MPIC_UNREACHABLE,  /* a gRPC error (refused, unavailable, ...) */
	CAA_MPIC_TIMEOUT,      /* no answer within remote_timeout */
	CAA_MPIC_MISMATCH,     /* answered under another perspective name or RIR */
} caa_mpic_state_t;

/* One remote's outcome; strings and problem borrowed. */
typedef struct caa_mpic_outcome {
	caa_mpic_state_t state;
	const caa_problem_t *problem; /* PROBLEM */
	const char *error;            /* UNREACHABLE: the gRPC status text */
	uint64_t timeout_ms;          /* TIMEOUT: the remote_timeout that ran out */
	const char *name;             /* MISMATCH: what the remote reported */
	const char *rir;
} caa_mpic_outcome_t;

/*
 * Classify an answer of remote r: reported under another name or RIR →
 * MISMATCH (whatever it says, it is not this perspective's word); else a
 * problem → PROBLEM; else CORROBORATED. All pointers are borrowed into *out.
 */
CAA_EXPORT void caa_mpic_classify(const caa_mpic_remote_t *r, const char *reported_name,
                                  const char *reported_rir, const caa_problem_t *problem,
                                  caa_mpic_outcome_t *out);

/* "CORROBORATED", "PROBLEM", "UNREACHABLE", "TIMEOUT", "MISMATCH"; PENDING, once the
 * quorum is decided, is "NOT_NEEDED" (cancelled: the outcome was certain without it). */
CAA_EXPORT const char *caa_mpic_state_name(caa_mpic_state_t s);

/* One remote's part in a corroborated check, as the answer shows it; owns its strings. */
typedef struct caa_perspective {
	char *name; /* as configured */
	char *rir;
	caa_mpic_state_t state; /* PENDING: not needed, cancelled once the quorum was decided */
	caa_verdict_t verdict;  /* PERMITTED when it corroborated; 0 when not needed */
	caa_problem_t *problem; /* what it contributes to a failed quorum (§9 text); NULL when
	                         * it corroborated or was not needed */
	uint32_t elapsed_us;
} caa_perspective_t;

/* Fill *p (zeroed first) from remote r's outcome o; identifier goes into the problem.
 * CAA_EOK or CAA_ENOMEM (then *p holds nothing). */
CAA_EXPORT int caa_perspective_set(caa_perspective_t *p, const caa_mpic_remote_t *r,
                                   const caa_mpic_outcome_t *o, const char *identifier,
                                   uint32_t elapsed_us);
CAA_EXPORT void caa_perspective_deinit(caa_perspective_t *p);
/* How many of p[0..n) corroborated: the "passed" of the quorum's "passed/total" (BR §5.4.1). */
CAA_EXPORT size_t caa_perspectives_passed(const caa_perspective_t *p, size_t n);

/* Non-corroborations allowed among n remotes: 0 with 1, 1 with 2-5, 2 with 6+. */
CAA_EXPORT size_t caa_mpic_allowed_failures(size_t n);

typedef struct caa_mpic_quorum {
	bool decided;  /* final: no pending outcome can change it; cancel the rest */
	bool ok;       /* decided and the quorum holds: PERMITTED */
	size_t passed; /* corroborations so far ("passed/total", BR §5.4.1) */
	size_t failed; /* non-corroborations so far */
	size_t pending;
	size_t total;
	size_t reported; /* configured index of the remote whose problem is reported; SIZE_MAX if
	                    none */
	caa_verdict_t verdict;  /* PERMITTED only when ok; LOOKUP_FAILED while undecided */
	caa_problem_t *problem; /* owned; set when decided and not ok */
} caa_mpic_quorum_t;

/*
 * The quorum of docs/semantics.md §9 over outcomes[i] of remotes[i] (configured order,
 * n >= 1), some of which may be PENDING. It holds when the non-corroborations
 * are at most caa_mpic_allowed_failures(n) and the corroborating remotes span
 * at least 2 distinct RIRs.
 *
 * Decided and ok as soon as both hold for the outcomes known. Decided and not
 * ok when no completion of the pending outcomes can make it hold, and the
 * problem is already known: that of the first failing remote in configured
 * order, so only once every remote before the first known failure has
 * answered; with no failing remote at all (too few RIRs), only when nothing
 * is pending. The problem: a remote's problem with its detail prefixed
 * "During secondary validation: ", type and status kept; for a remote without
 * one, serverInternal 500 "During secondary validation: remote perspective
 * <name> unreachable: <error>" / "did not answer within <t>" / "reported
 * <name> (<rir>), expected <name> (<rir>)"; with no failing remote,
 * serverInternal 500 "During secondary validation: corroborating perspectives
 * span fewer than 2 RIRs (<rirs>)".
 *
 * The problem carries identifier (may be NULL) unless a remote's problem names its own.
 *
 * Returns CAA_EOK; CAA_EINVAL (n == 0, a PROBLEM without problem, an unknown
 * state) or CAA_ENOMEM, and then *out is undecided with verdict LOOKUP_FAILED.
 * Free with caa_mpic_quorum_deinit().
 */
CAA_EXPORT int caa_mpic_quorum(const caa_mpic_remote_t *remotes, const caa_mpic_outcome_t *outcomes,
                               size_t n, const char *identifier, caa_mpic_quorum_t *out);

/* Free what q owns; q is left undecided and failed-closed. */
CAA_EXPORT void caa_mpic_quorum_deinit(caa_mpic_quorum_t *q);

/* The verdict of a failed corroboration: caa problem → FORBIDDEN; anything else,
 * NULL included → LOOKUP_FAILED. Never PERMITTED. */
CAA_EXPORT caa_verdict_t caa_mpic_verdict(const caa_problem_t *p);

/* ---- the account ---- */

/*
 * The accountURIID sent to the remotes: the decimal number (1..INT64_MAX, no
 * leading zero) after the first of pol's account_uri_prefixes that account_uri
 * starts with. NULL or "" → CAA_EOK, *id = 0 (no account). No prefix matching,
 * or no valid number after it → CAA_EACCOUNT_PREFIX (the caller answers
 * serverInternal: the account cannot be sent).
 */
CAA_EXPORT int caa_mpic_account_id(const caa_policy_t *pol, const char *account_uri, int64_t *id);

#endif
