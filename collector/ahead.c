/*
 * ahead.c - parses a command's inputs on a second thread while the
 * first stores them. Reading, detecting, parsing, redacting and hashing a
 * log cost about what storing it costs, so on two cores an ingest of many
 * files takes the longer of the two instead of their sum.
 *
 * What the parser hands its sink (builds, images, pipelines) is moved into
 * a bounded queue, in order; each input opens with whether it could be
 * opened and closes with how its parse ended. The storing thread replays
 * each input's part of the queue into its own sink, so everything after
 * the parse (one transaction per input, the messages, their order) is what
 * it is without the second thread. Memory is bounded by the queue, not by
 * the inputs.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "buildprof/collector.h"

/* Items the parser may run ahead of the store: enough to ride out a slow
 * commit, few enough that a queue of large builds stays small. */
#define AHEAD_ITEMS 64

struct ahead_end {
	int rc; /* the parse's */
	struct collector_result res;
	struct bp_error err;
};

enum ahead_kind { AHEAD_OPENED, AHEAD_BUILD, AHEAD_IMAGE, AHEAD_PIPELINE, AHEAD_END };

struct ahead_item {
	enum ahead_kind kind;
	union {
		int errnum;                   /* AHEAD_OPENED: 0, or why it could not be */
		struct bp_build build;
		struct bp_image image;
		struct bp_pipeline pipeline;
		struct ahead_end *end;        /* AHEAD_END, the reader's to free */
	} u;
};

struct collector_ahead {
	char *const *paths;
	size_t npaths;
	const struct bp_format *format;
	pthread_t thread;

	pthread_mutex_t lock;
	pthread_cond_t filled, emptied;
	struct ahead_item items[AHEAD_ITEMS];
	size_t head, count; /* the oldest item, and how many are queued */
	int stop;           /* the reader has gone: parse no further, queue nothing */
	int pending;        /* the reader opened an input and has not read its end */
	/* what the reader has stored, handed back to be freed here (pop) */
	struct ahead_item spent[AHEAD_ITEMS];
	size_t nspent;
};

static void release(struct ahead_item *item)
{
	switch (item->kind) {
	case AHEAD_BUILD:
		bp_build_release(&item->u.build);
		break;
	case AHEAD_IMAGE:
		bp_image_release(&item->u.image);
		break;
	case AHEAD_PIPELINE:
		bp_pipeline_release(&item->u.pipeline);
		break;
	case AHEAD_END:
		free(item->u.end);
		break;
	default:
		break;
	}
}

/* Queues item, or when the reader has gone, frees it; then frees what the
 * reader handed back. Returns 0, or -1 once the reader has gone. */
static int push(struct collector_ahead *pa, struct ahead_item *item)
{
	struct ahead_item spent[AHEAD_ITEMS];
	size_t nspent, i;
	int rc = 0;

	pthread_mutex_lock(&pa->lock);
	while (pa->count == AHEAD_ITEMS && !pa->stop)
		pthread_cond_wait(&pa->emptied, &pa->lock);
	if (pa->stop) {
		rc = -1;
	} else {
		pa->items[(pa->head + pa->count) % AHEAD_ITEMS] = *item;
		pa->count++;
		pthread_cond_signal(&pa->filled);
	}
	nspent = pa->nspent;
	memcpy(spent, pa->spent, nspent * sizeof(*spent));
	pa->nspent = 0;
	pthread_mutex_unlock(&pa->lock);
	if (rc)
		release(item);
	for (i = 0; i < nspent; i++)
		release(&spent[i]);
	return rc;
}

/* Takes the next item, handing back `done` (NULL for none) to be freed by
 * the parsing thread: the memory came from that thread's malloc arena, and
 * freeing it here took the arena's lock and a tenth of this thread's time.
 * Freed here when the parser has not caught up with what it was handed. */
static void pop(struct collector_ahead *pa, struct ahead_item *done, struct ahead_item *item)
{
	pthread_mutex_lock(&pa->lock);
	if (done && pa->nspent < AHEAD_ITEMS) {
		pa->spent[pa->nspent++] = *done;
		done = NULL;
	}
	while (!pa->count)
		pthread_cond_wait(&pa->filled, &pa->lock);
	*item = pa->items[pa->head];
	pa->head = (pa->head + 1) % AHEAD_ITEMS;
	/* a parser waiting on a full queue wakes once half of it is read,
	 * not at each item: a wake for every build cost more than the build */
	if (pa->count-- == AHEAD_ITEMS / 2)
		pthread_cond_signal(&pa->emptied);
	pthread_mutex_unlock(&pa->lock);
	if (done)
		release(done);
}

/* The parser's sink: takes what it is lent, leaving it init'd for the
 * parser to release. */
static int queue_build(void *ctx, struct bp_build *b, struct bp_error *err)
{
	struct ahead_item item = { .kind = AHEAD_BUILD, .u.build = *b };

	bp_build_init(b);
	push(ctx, &item);
	return 0;
}

static int queue_image(void *ctx, struct bp_image *img, struct bp_error *err)
{
	struct ahead_item item = { .kind = AHEAD_IMAGE, .u.image = *img };

	bp_image_init(img);
	push(ctx, &item);
	return 0;
}

static int queue_pipeline(void *ctx, struct bp_pipeline *pl, struct bp_error *err)
{
	struct ahead_item item = { .kind = AHEAD_PIPELINE, .u.pipeline = *pl };

	bp_pipeline_init(pl);
	push(ctx, &item);
	return 0;
}

static void *parse_all(void *arg)
{
	struct collector_ahead *pa = arg;
	struct bp_sink sink = { .build = queue_build, .image = queue_image,
				.pipeline = queue_pipeline, .ctx = pa };
	struct ahead_item item;
	size_t i;

	for (i = 0; i < pa->npaths; i++) {
		const char *path = pa->paths[i];
		const char *source = strcmp(path, "-") ? path : "stdin";
		FILE *in = strcmp(path, "-") ? fopen(path, "rb") : stdin;

		item.kind = AHEAD_OPENED;
		item.u.errnum = in ? 0 : errno;
		if (push(pa, &item)) {
			if (in && in != stdin)
				fclose(in);
			break;
		}
		if (!in)
			continue;
		item.kind = AHEAD_END;
		item.u.end = xcalloc(1, sizeof(*item.u.end));
		bp_error_init(&item.u.end->err);
		item.u.end->rc = collector_parse_stream(in, source, pa->format, &sink,
							&item.u.end->res, &item.u.end->err);
		if (in != stdin)
			fclose(in);
		if (push(pa, &item))
			break;
	}
	return NULL;
}

struct collector_ahead *collector_ahead_start(char *const paths[], size_t n, const struct bp_format *format)
{
	struct collector_ahead *pa = xcalloc(1, sizeof(*pa));

	pa->paths = paths;
	pa->npaths = n;
	pa->format = format;
	pthread_mutex_init(&pa->lock, NULL);
	pthread_cond_init(&pa->filled, NULL);
	pthread_cond_init(&pa->emptied, NULL);
	if (!pthread_create(&pa->thread, NULL, parse_all, pa))
		return pa;
	pthread_cond_destroy(&pa->emptied);
	pthread_cond_destroy(&pa->filled);
	pthread_mutex_destroy(&pa->lock);
	free(pa);
	return NULL;
}

int collector_ahead_open_next(struct collector_ahead *pa)
{
	struct ahead_item item;

	/* an input its caller never replayed (it failed before it could) is
	 * dropped, so the queue stays in step with the paths */
	while (pa->pending) {
		pop(pa, NULL, &item);
		pa->pending = item.kind != AHEAD_END;
		release(&item);
	}
	pop(pa, NULL, &item);
	if (item.kind != AHEAD_OPENED)
		BUG("collector_ahead: an input's part of the queue read out of turn");
	pa->pending = !item.u.errnum;
	return item.u.errnum;
}

int collector_ahead_replay(FILE *in, const char *source, const struct bp_sink *sink,
		       struct collector_result *res, struct bp_error *err, void *ctx)
{
	struct collector_ahead *pa = ctx;
	struct ahead_item item, done;
	int failed = 0, handed = 0;

	if (!pa->pending)
		BUG("collector_ahead: %s replayed before it was opened", source);
	pa->pending = 0;
	for (;;) {
		pop(pa, handed ? &done : NULL, &item);
		if (item.kind == AHEAD_END)
			break;
		if (item.kind == AHEAD_OPENED)
			BUG("collector_ahead: %s replayed past its end", source);
		/* after the sink failed, the rest of this input is only freed:
		 * the parser has run on without knowing */
		if (!failed && item.kind == AHEAD_BUILD)
			failed = sink->build(sink->ctx, &item.u.build, err);
		else if (!failed && item.kind == AHEAD_IMAGE)
			failed = sink->image(sink->ctx, &item.u.image, err);
		else if (!failed && item.kind == AHEAD_PIPELINE)
			failed = sink->pipeline(sink->ctx, &item.u.pipeline, err);
		done = item;
		handed = 1;
	}
	*res = item.u.end->res;
	if (!failed && item.u.end->rc) {
		*err = item.u.end->err;
		failed = item.u.end->rc;
	}
	free(item.u.end);
	return failed;
}

void collector_ahead_finish(struct collector_ahead *pa)
{
	if (!pa)
		return;
	pthread_mutex_lock(&pa->lock);
	pa->stop = 1;
	pthread_cond_signal(&pa->emptied);
	pthread_mutex_unlock(&pa->lock);
	pthread_join(pa->thread, NULL);
	for (; pa->count; pa->count--, pa->head = (pa->head + 1) % AHEAD_ITEMS)
		release(&pa->items[pa->head]);
	while (pa->nspent)
		release(&pa->spent[--pa->nspent]);
	pthread_cond_destroy(&pa->emptied);
	pthread_cond_destroy(&pa->filled);
	pthread_mutex_destroy(&pa->lock);
	free(pa);
}
