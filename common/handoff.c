/*
 * handoff.c - a producer thread and a bounded queue of fixed-size items to
 * the thread that started it (see util.h). Ingest parses on one side and
 * stores on the other; a report reads the database on one side and
 * analyses and prints on the other. The two costs are of a size, so on two
 * cores the work takes the longer of them instead of their sum. Where one
 * side does little with an item (a chart, compare), moving each item's
 * memory between the cores costs more than the thread gains.
 *
 * Costs of the handoff that once outweighed the work it carried, and how
 * they are avoided: waking the producer for every item taken (it wakes
 * when half the queue is free) and the consumer for every item queued (it
 * waits a moment for more); meeting on the lock at every item (the
 * consumer takes all that is queued at once); freeing on the consumer what
 * the producer's malloc arena allocated, which takes that arena's lock on
 * every free (items used up go back and are released on the producer).
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "buildprof/util.h"

/* Items the producer may run ahead: enough to ride out a slow commit or a
 * slow build's output. And the memory they may hold, as their producer
 * reckons it: 64 builds of 100k steps would be gigabytes, where one at a
 * time they are what reading or parsing one costs anyway. At least one
 * item is always let through, however large. */
#define HANDOFF_ITEMS 64
#define HANDOFF_BYTES (8u << 20)
/* How long a consumer with a few items waits for half the queue: well
 * under what anyone notices, and a hundred builds' reading. */
#define HANDOFF_GATHER_NS 1000000L

struct bp_handoff {
	size_t size; /* of one item */
	void (*produce)(struct bp_handoff *h, void *arg);
	void *arg;
	void (*release)(void *item);
	pthread_t thread;
	int started;

	pthread_mutex_t lock;
	pthread_cond_t filled, emptied;
	unsigned char *items; /* HANDOFF_ITEMS of size bytes, a ring */
	size_t head, count;   /* the oldest item, and how many are queued */
	size_t bytes;         /* what the queued items hold, as pushed */
	int stopped;          /* the consumer has gone: nothing more is queued */
	int produced;         /* the producer has returned */
	unsigned char *spent; /* taken items handed back, to be released by the producer */
	size_t nspent;
	unsigned char *scratch; /* the producer's copy of spent, released outside the lock */
	/* the consumer's own, no lock needed: the items it took at once, and
	 * those it used up since, handed back with the next take */
	unsigned char *taken, *back;
	size_t ntaken, next, nback;
	int holding;          /* taken[next - 1] is the consumer's until its next call */
};

static void *item_at(unsigned char *base, size_t size, size_t i)
{
	return base + i * size;
}

int bp_handoff_push(struct bp_handoff *h, void *item, size_t bytes)
{
	size_t nspent, i;
	int rc = 0;

	pthread_mutex_lock(&h->lock);
	while (!h->stopped && h->count &&
	       (h->count == HANDOFF_ITEMS || h->bytes + bytes > HANDOFF_BYTES)) {
		/* full: a consumer waiting a moment for more would wait in vain */
		pthread_cond_signal(&h->filled);
		pthread_cond_wait(&h->emptied, &h->lock);
	}
	if (h->stopped) {
		rc = -1;
	} else {
		h->bytes += bytes;
		memcpy(item_at(h->items, h->size, (h->head + h->count) % HANDOFF_ITEMS), item, h->size);
		/* the consumer waits for anything, then a little for more */
		if (++h->count == 1 || h->count == HANDOFF_ITEMS / 2)
			pthread_cond_signal(&h->filled);
	}
	nspent = h->nspent;
	memcpy(h->scratch, h->spent, nspent * h->size);
	h->nspent = 0;
	pthread_mutex_unlock(&h->lock);
	if (rc)
		h->release(item);
	for (i = 0; i < nspent; i++)
		h->release(item_at(h->scratch, h->size, i));
	return rc;
}

/* Takes every queued item at once, and hands back what was used up:
 * taking them one at a time, the two threads met on the lock at every
 * item (a quarter of a report's time went to futex calls). */
static void take_all(struct bp_handoff *h)
{
	size_t first, n;

	pthread_mutex_lock(&h->lock);
	n = h->nback < HANDOFF_ITEMS - h->nspent ? h->nback : HANDOFF_ITEMS - h->nspent;
	memcpy(item_at(h->spent, h->size, h->nspent), h->back, n * h->size);
	h->nspent += n;
	h->nback -= n;
	memmove(h->back, item_at(h->back, h->size, n), h->nback * h->size);
	while (!h->count && !h->produced)
		pthread_cond_wait(&h->filled, &h->lock);
	/* Woken by the first item, it waits a moment for more: took one at a
	 * time, it woke for each and the producer paid for every wake. */
	if (h->count < HANDOFF_ITEMS / 2 && !h->produced) {
		struct timespec until;
		clock_gettime(CLOCK_MONOTONIC, &until);
		until.tv_nsec += HANDOFF_GATHER_NS;
		if (until.tv_nsec >= 1000000000L) {
			until.tv_sec++;
			until.tv_nsec -= 1000000000L;
		}
		pthread_cond_timedwait(&h->filled, &h->lock, &until);
	}
	/* the ring's items in order: up to its end, then from its start */
	first = HANDOFF_ITEMS - h->head < h->count ? HANDOFF_ITEMS - h->head : h->count;
	memcpy(h->taken, item_at(h->items, h->size, h->head), first * h->size);
	memcpy(item_at(h->taken, h->size, first), h->items, (h->count - first) * h->size);
	h->ntaken = h->count;
	h->next = 0;
	h->head = 0;
	h->count = 0;
	h->bytes = 0;
	pthread_cond_signal(&h->emptied);
	pthread_mutex_unlock(&h->lock);
	/* what the producer had no room for: freed here */
	while (h->nback)
		h->release(item_at(h->back, h->size, --h->nback));
}

void *bp_handoff_next(struct bp_handoff *h)
{
	/* the last item is used up: back to the producer with the next take */
	if (h->holding)
		memcpy(item_at(h->back, h->size, h->nback++), item_at(h->taken, h->size, h->next - 1),
		       h->size);
	h->holding = 0;
	if (h->next == h->ntaken)
		take_all(h);
	if (h->next == h->ntaken)
		return NULL;
	h->holding = 1;
	return item_at(h->taken, h->size, h->next++);
}

void *bp_handoff_peek(struct bp_handoff *h, size_t n)
{
	return n < h->ntaken - h->next ? item_at(h->taken, h->size, h->next + n) : NULL;
}

static void *run_producer(void *arg)
{
	struct bp_handoff *h = arg;

	h->produce(h, h->arg);
	pthread_mutex_lock(&h->lock);
	h->produced = 1;
	pthread_cond_signal(&h->filled);
	pthread_mutex_unlock(&h->lock);
	return NULL;
}

struct bp_handoff *bp_handoff_start(size_t item_size, void (*produce)(struct bp_handoff *h, void *arg),
				    void *arg, void (*release)(void *item))
{
	struct bp_handoff *h = xcalloc(1, sizeof(*h));
	pthread_condattr_t attr;

	h->size = item_size;
	h->produce = produce;
	h->arg = arg;
	h->release = release;
	h->items = xcalloc(HANDOFF_ITEMS, item_size);
	h->spent = xcalloc(HANDOFF_ITEMS, item_size);
	h->scratch = xcalloc(HANDOFF_ITEMS, item_size);
	h->taken = xcalloc(HANDOFF_ITEMS, item_size);
	h->back = xcalloc(HANDOFF_ITEMS + 1, item_size);
	pthread_mutex_init(&h->lock, NULL);
	pthread_condattr_init(&attr);
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC); /* a timed wait the wall clock cannot move */
	pthread_cond_init(&h->filled, &attr);
	pthread_condattr_destroy(&attr);
	pthread_cond_init(&h->emptied, NULL);
	if (!pthread_create(&h->thread, NULL, run_producer, h)) {
		h->started = 1;
		return h;
	}
	bp_handoff_finish(h);
	return NULL;
}

void bp_handoff_finish(struct bp_handoff *h)
{
	if (!h)
		return;
	pthread_mutex_lock(&h->lock);
	h->stopped = 1;
	pthread_cond_signal(&h->emptied);
	pthread_mutex_unlock(&h->lock);
	if (h->started)
		pthread_join(h->thread, NULL);
	for (; h->count; h->count--, h->head = (h->head + 1) % HANDOFF_ITEMS)
		h->release(item_at(h->items, h->size, h->head));
	while (h->nspent)
		h->release(item_at(h->spent, h->size, --h->nspent));
	if (h->holding)
		h->release(item_at(h->taken, h->size, h->next - 1));
	while (h->next < h->ntaken)
		h->release(item_at(h->taken, h->size, h->next++));
	while (h->nback)
		h->release(item_at(h->back, h->size, --h->nback));
	pthread_cond_destroy(&h->emptied);
	pthread_cond_destroy(&h->filled);
	pthread_mutex_destroy(&h->lock);
	free(h->items);
	free(h->spent);
	free(h->scratch);
	free(h->taken);
	free(h->back);
	free(h);
}
