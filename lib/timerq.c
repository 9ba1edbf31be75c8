/* timerq.c — min-heap of deadlines. */
#include <stdlib.h>

#include "codes.h"
#include "timerq.h"

void caa_timerq_init(caa_timerq_t *q)
{
	q->heap = NULL;
	q->n = q->cap = 0;
}

void caa_timerq_deinit(caa_timerq_t *q)
{
	free(q->heap);
	caa_timerq_init(q);
}

static void place(caa_timerq_t *q, size_t i, caa_timer_t *t)
{
	q->heap[i] = t;
	t->idx = i + 1;
}

static void sift_up(caa_timerq_t *q, size_t i)
{
	caa_timer_t *t = q->heap[i];
	while (i > 0) {
		size_t p = (i - 1) / 2;
		if (q->heap[p]->when_us <= t->when_us)
			break;
		place(q, i, q->heap[p]);
		i = p;
	}
	place(q, i, t);
}

static void sift_down(caa_timerq_t *q, size_t i)
{
	caa_timer_t *t = q->heap[i];
	for (;;) {
		size_t c = 2 * i + 1;
		if (c >= q->n)
			break;
		if (c + 1 < q->n && q->heap[c + 1]->when_us < q->heap[c]->when_us)
			c++;
		if (t->when_us <= q->heap[c]->when_us)
			break;
		place(q, i, q->heap[c]);
		i = c;
	}
	place(q, i, t);
}

void caa_timerq_disarm(caa_timerq_t *q, caa_timer_t *t)
{
	if (t->idx == 0)
		return;
	size_t i = t->idx - 1;
	t->idx = 0;
	q->n--;
	if (i == q->n)
		return;
	place(q, i, q->heap[q->n]);
	sift_down(q, i);
	sift_up(q, q->heap[i]->idx - 1);
}

int caa_timerq_arm(caa_timerq_t *q, caa_timer_t *t, uint64_t when_us)
{
	caa_timerq_disarm(q, t);
	if (q->n == q->cap) {
		size_t cap = q->cap ? q->cap * 2 : 256;
		caa_timer_t **h = realloc(q->heap, cap * sizeof(*h));
		if (h == NULL)
			return CAA_ENOMEM;
		q->heap = h;
		q->cap = cap;
	}
	t->when_us = when_us;
	place(q, q->n++, t);
	sift_up(q, q->n - 1);
	return CAA_EOK;
}

caa_timer_t *caa_timerq_first(const caa_timerq_t *q)
{
	return q->n ? q->heap[0] : NULL;
}

void caa_timerq_run(caa_timerq_t *q, uint64_t now_us, void *arg)
{
	caa_timer_t *t;
	while ((t = caa_timerq_first(q)) != NULL && t->when_us <= now_us) {
		caa_timerq_disarm(q, t);
		t->fire(t, arg);
	}
}
