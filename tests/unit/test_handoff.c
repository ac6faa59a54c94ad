/*
 * test_handoff.c - the producer thread's queue (common/handoff.c) on its
 * own: items in order; a full queue (64 items, or 8 MiB of what they hold)
 * holds the producer back, though one item larger than that gets through;
 * what is used up is released on the producer; an early finish frees
 * the rest; a peek sees what was taken, in order, and takes nothing.
 */
#include <stdatomic.h>
#include <stdlib.h>
#include <unistd.h>

#include "unit.h"

struct item {
	int seq;
	size_t bytes; /* what push is told it holds */
	char *payload; /* freed by release */
};

struct plan {
	int n;                /* items to push */
	size_t bytes[8];      /* cycled through */
	atomic_int pushed;    /* pushes that returned 0 */
	atomic_int refused;   /* pushes that returned -1 */
};

static atomic_int released;

static void release_item(void *v)
{
	struct item *it = v;

	free(it->payload);
	it->payload = NULL;
	released++;
}

static void produce(struct bp_handoff *h, void *arg)
{
	struct plan *p = arg;
	int i;

	for (i = 0; i < p->n; i++) {
		struct item it = { .seq = i, .bytes = p->bytes[i % 8], .payload = xstrdup("x") };
		if (bp_handoff_push(h, &it, it.bytes)) {
			p->refused++;
			return;
		}
		p->pushed++;
	}
}

/* A producer of p's items, releases counted from none. */
static struct bp_handoff *start(struct plan *p)
{
	struct bp_handoff *h;

	released = 0;
	h = bp_handoff_start(sizeof(struct item), produce, p, release_item);
	CHECK(h != NULL);
	return h;
}

/* Pushes p->n items, waits for the producer to stall, and returns how far
 * it got; then takes everything, checking the order. */
static int stalls_at(struct plan *p, int *in_order)
{
	struct bp_handoff *h;
	struct item *it;
	int stalled, next = 0;

	if (!(h = start(p)))
		return -1;
	usleep(50000);
	stalled = p->pushed;
	*in_order = 1;
	while ((it = bp_handoff_next(h)))
		*in_order &= it->seq == next++;
	bp_handoff_finish(h);
	CHECK_INT(next, p->n);
	CHECK_INT(released, p->n); /* each once, the last given back by the final next */
	return stalled;
}

static void test_handoff_limits(void)
{
	struct plan small = { .n = 200, .bytes = { 1, 1, 1, 1, 1, 1, 1, 1 } };
	struct plan big = { .n = 10, .bytes = { 3u << 20, 3u << 20, 3u << 20, 3u << 20,
						3u << 20, 3u << 20, 3u << 20, 3u << 20 } };
	struct plan huge = { .n = 3, .bytes = { 20u << 20, 20u << 20, 20u << 20 } };
	int in_order;

	/* 64 small items, then the producer waits */
	CHECK_INT(stalls_at(&small, &in_order), 64);
	CHECK(in_order);
	/* 3 MiB items: two fit in 8 MiB, the third waits */
	CHECK_INT(stalls_at(&big, &in_order), 2);
	CHECK(in_order);
	/* an item over the whole budget still gets in, alone */
	CHECK_INT(stalls_at(&huge, &in_order), 1);
	CHECK(in_order);
}

/* The consumer stops after 5 items: the producer's next push is refused
 * (and releases its item), and finish releases what was queued. */
static void test_handoff_early_finish(void)
{
	struct plan p = { .n = 1000, .bytes = { 1, 1, 1, 1, 1, 1, 1, 1 } };
	struct bp_handoff *h;
	int i;

	if (!(h = start(&p)))
		return;
	for (i = 0; i < 5 && bp_handoff_next(h); i++)
		;
	usleep(20000); /* the fifth is still held: finish releases it */
	bp_handoff_finish(h);
	CHECK_INT(p.refused, 1);
	CHECK(p.pushed < 1000);
	CHECK_INT(released, p.pushed + p.refused); /* every item freed exactly once */
}

/* Once all ten are queued, the first next takes them at once: a peek
 * then shows the rest in the order next returns them, past them nothing,
 * and it never waits for the producer. */
static void test_handoff_peek(void)
{
	struct plan p = { .n = 10, .bytes = { 1, 1, 1, 1, 1, 1, 1, 1 } };
	struct bp_handoff *h;
	struct item *it, *seen;
	int i;

	if (!(h = start(&p)))
		return;
	for (i = 0; i < 5000 && p.pushed < p.n; i++)
		usleep(1000);
	CHECK_INT(p.pushed, 10);
	it = bp_handoff_next(h);
	CHECK(it && it->seq == 0);
	seen = bp_handoff_peek(h, 0);
	CHECK(seen && seen->seq == 1);
	seen = bp_handoff_peek(h, 8);
	CHECK(seen && seen->seq == 9);
	CHECK(bp_handoff_peek(h, 9) == NULL);
	CHECK_INT(released, 0); /* peeking takes nothing back */
	for (i = 1; (it = bp_handoff_next(h)); i++) {
		CHECK_INT(it->seq, i);
		seen = bp_handoff_peek(h, 0);
		CHECK(i == 9 ? seen == NULL : seen && seen->seq == i + 1);
	}
	CHECK_INT(i, 10);
	CHECK(bp_handoff_peek(h, 0) == NULL);
	bp_handoff_finish(h);
	CHECK_INT(released, 10);
}

void test_handoff(void)
{
	test_handoff_limits();
	test_handoff_early_finish();
	test_handoff_peek();
}
