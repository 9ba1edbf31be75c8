/*
 * corroborate.h — multi-perspective corroboration of a job's local
 * permissions (docs/semantics.md §9, BR §3.2.2.9). After the local check, every result
 * that is PERMITTED from DNS (not reused: a reused permission was
 * corroborated when it was stored; not NOT_APPLICABLE: no CAA applies) is
 * asked of every remote in parallel over DoCAA, at most
 * CAAD_CORR_PER_REMOTE calls per remote and job in flight. Each result is
 * decided as soon as its quorum is certain (include/caa/mpic.h); its remaining calls
 * are cancelled. A result whose quorum fails takes the quorum's problem, its
 * verdict (never PERMITTED) and reason NOT_CORROBORATED; every result asked
 * gets its perspectives. An order's aggregate problem is rebuilt.
 */
#ifndef CAAD_CORROBORATE_H
#define CAAD_CORROBORATE_H

#include <stdbool.h>

#include "job.h"

#define CAAD_CORR_PER_REMOTE 64

/* Whether the job has results to corroborate (remotes configured, rc OK). */
bool caad_corr_needed(const caad_job_t *job);

/* Corroborate; the job's call is held. The job goes on with
 * caad_job_resume() — from another thread, or before this returns. */
void caad_corr_start(caad_job_t *job);

#endif
