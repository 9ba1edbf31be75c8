/*
 * reload.c — config generations (reload.h). Each generation runs its own
 * resolver thread over its own caa_ctx_t (libcaa reads the config a context
 * was made with for every check), so checks in flight finish under the
 * config they started with while new ones start under the new one; all
 * generations hand finished checks to the same completion workers.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <sys/prctl.h>

#include "codes.h"
#include "caad.h"
#include "job.h"
#include "log.h"
#include "reload.h"
#include "remote.h"

typedef struct gen {
	caad_t d; /* first: a caad_t * is a gen_t * */
	caad_gens_t *gs;
	atomic_uint refs; /* calls, plus one while current */
	atomic_bool stop;
	atomic_bool report; /* the current one's resolver counters are the metrics' */
	bool own_cfg;
} gen_t;

struct caad_gens {
	pthread_mutex_t lock; /* current, n_live, number */
	pthread_cond_t cond;
	gen_t *current;
	size_t n_live; /* generations whose resolver thread has not ended */
	uint64_t number;
};

caad_gens_t *caad_gens_new(void)
{
	caad_gens_t *gs = calloc(1, sizeof(*gs));
	if (gs == NULL)
		return NULL;
	pthread_mutex_init(&gs->lock, NULL);
	pthread_cond_init(&gs->cond, NULL);
	return gs;
}

/* Free what the generation owns; its resolver thread has left its loop. */
static void gen_free(gen_t *g)
{
	caa_ctx_free(g->d.dns);
	caa_cache_free(g->d.cache);
	caad_remotes_free(g->d.remotes); /* no call holds g: none of theirs is in flight */
	if (g->own_cfg)
		caa_config_free((caa_config_t *)g->d.cfg);
	free(g);
}

/* A generation's resolver thread: the libcaa loop, handing the checks each
 * round finished to the completion workers, plus a copy of its counters
 * after every round (the counters belong to this thread). It ends, and
 * frees the generation, once nobody holds it. */
static void *resolver(void *arg)
{
	gen_t *g = arg;
	caad_gens_t *gs = g->gs;
	prctl(PR_SET_NAME, "caad-resolver"); /* for top -H and perf */
	bool reported = false;
	while (!atomic_load(&g->stop)) {
		int rc = caa_ctx_wait(g->d.dns, -1);
		caad_done_flush(&g->d); /* the round's finished checks, to the workers */
		if (rc != CAA_EOK && rc != CAA_EIO && !reported) {
			caad_log("resolver error", json_pack("{s:s}", "error", caa_strerror(rc)));
			reported = true;
		}
		caa_ctx_stats_t s;
		caa_ctx_stats(g->d.dns, &s);
		if (atomic_load(&g->report))
			caad_metrics_dns(g->d.metrics, &s);
	}
	caad_done_flush(&g->d);
	gen_free(g);
	pthread_mutex_lock(&gs->lock);
	gs->n_live--;
	pthread_cond_broadcast(&gs->cond);
	pthread_mutex_unlock(&gs->lock);
	return NULL;
}

int caad_gens_install(caad_gens_t *gs, const caad_t *d, bool own_cfg)
{
	gen_t *g = calloc(1, sizeof(*g));
	if (g == NULL)
		return CAA_ENOMEM;
	g->d = *d;
	g->gs = gs;
	atomic_init(&g->refs, 1);
	atomic_init(&g->stop, false);
	atomic_init(&g->report, true);
	g->own_cfg = own_cfg;
	pthread_attr_t attr;
	pthread_t t;
	pthread_attr_init(&attr);
	/* nobody joins it: caad_gens_stop waits for n_live instead */
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	pthread_mutex_lock(&gs->lock);
	int e = pthread_create(&t, &attr, resolver, g);
	pthread_attr_destroy(&attr);
	if (e != 0) {
		pthread_mutex_unlock(&gs->lock);
		free(g);
		return CAA_ETHREAD;
	}
	gs->n_live++;
	gs->number++;
	gen_t *old = gs->current;
	gs->current = g;
	pthread_mutex_unlock(&gs->lock);
	if (old != NULL) {
		atomic_store(&old->report, false);
		caad_gens_release(&old->d);
	}
	return CAA_EOK;
}

caad_t *caad_gens_acquire(caad_gens_t *gs)
{
	pthread_mutex_lock(&gs->lock);
	gen_t *g = gs->current;
	if (g != NULL)
		atomic_fetch_add(&g->refs, 1);
	pthread_mutex_unlock(&gs->lock);
	return g ? &g->d : NULL;
}

void caad_gens_release(void *d)
{
	gen_t *g = d;
	if (g == NULL || atomic_fetch_sub(&g->refs, 1) != 1)
		return;
	/* the last holder: the resolver thread ends and frees g */
	atomic_store(&g->stop, true);
	caa_ctx_stop(g->d.dns);
}

uint64_t caad_gens_number(caad_gens_t *gs)
{
	pthread_mutex_lock(&gs->lock);
	uint64_t n = gs->number;
	pthread_mutex_unlock(&gs->lock);
	return n;
}

void caad_gens_stop(caad_gens_t *gs)
{
	pthread_mutex_lock(&gs->lock);
	gen_t *g = gs->current;
	gs->current = NULL;
	pthread_mutex_unlock(&gs->lock);
	if (g != NULL)
		caad_gens_release(&g->d);
	pthread_mutex_lock(&gs->lock);
	while (gs->n_live > 0)
		pthread_cond_wait(&gs->cond, &gs->lock);
	pthread_mutex_unlock(&gs->lock);
}

void caad_gens_free(caad_gens_t *gs)
{
	if (gs == NULL)
		return;
	pthread_cond_destroy(&gs->cond);
	pthread_mutex_destroy(&gs->lock);
	free(gs);
}
