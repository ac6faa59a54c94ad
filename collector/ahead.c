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
 * it is without the second thread. Memory is bounded by the queue
 * (common/handoff.c), not by the inputs.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "buildprof/collector.h"

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
		struct ahead_end *end;        /* AHEAD_END */
	} u;
};

struct collector_ahead {
	char *const *paths;
	size_t npaths;
	const struct bp_format *format;
	struct bp_handoff *handoff;
	int pending; /* the reader opened an input and has not read its end */
};

static void release(void *vitem)
{
	struct ahead_item *item = vitem;

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

/* The parser's sink: takes what it is lent, leaving it init'd for the
 * parser to release. Once the reader has gone, the parse stops. */
static int queue(struct bp_handoff *h, struct ahead_item *item, size_t bytes, struct bp_error *err)
{
	return bp_handoff_push(h, item, bytes) ? bp_error_set(err, "", 0, "nobody reads the parse") : 0;
}

/* A build goes over packed: its step strings, each malloc'd on its own
 * by the parser, are copied side by side and freed here while still in
 * this core's cache. The storing thread then reads a block or two per
 * build, not a cache line per string from the other core: ingest of 10k
 * logs took 0.71 s, not 0.75 s, and of 100k 7.3 s, not 7.6 s (medians,
 * in turns with the binary before). */
static int queue_build(void *h, struct bp_build *b, struct bp_error *err)
{
	struct ahead_item item = { .kind = AHEAD_BUILD, .u.build = *b };

	bp_build_init(b);
	bp_build_pack_steps(&item.u.build);
	return queue(h, &item, bp_build_footprint(&item.u.build), err);
}

static int queue_image(void *h, struct bp_image *img, struct bp_error *err)
{
	struct ahead_item item = { .kind = AHEAD_IMAGE, .u.image = *img };

	bp_image_init(img);
	return queue(h, &item, bp_image_footprint(&item.u.image), err);
}

static int queue_pipeline(void *h, struct bp_pipeline *pl, struct bp_error *err)
{
	struct ahead_item item = { .kind = AHEAD_PIPELINE, .u.pipeline = *pl };

	bp_pipeline_init(pl);
	return queue(h, &item, bp_pipeline_footprint(&item.u.pipeline), err);
}

/* The stdio buffer of every input read here, one for them all: with
 * stdio's own (4 KiB, and an fstat to size it) a CI document of a few KiB
 * took four reads and an fstat, and system calls cost microseconds each on
 * these VMs. With this, one read takes it whole and one more finds the end. */
#define AHEAD_READ_BUFFER (64 * 1024)

static void parse_all(struct bp_handoff *h, void *arg)
{
	const struct collector_ahead *pa = arg;
	struct bp_sink sink = { .build = queue_build, .image = queue_image,
				.pipeline = queue_pipeline, .ctx = h };
	struct ahead_item item;
	char *buffer = xmalloc(AHEAD_READ_BUFFER);
	size_t i;

	for (i = 0; i < pa->npaths; i++) {
		const char *path = pa->paths[i];
		const char *source = strcmp(path, "-") ? path : "stdin";
		FILE *in = strcmp(path, "-") ? fopen(path, "rb") : stdin;

		item.kind = AHEAD_OPENED;
		item.u.errnum = in ? 0 : errno;
		if (bp_handoff_push(h, &item, sizeof(item))) {
			if (in && in != stdin)
				fclose(in);
			break;
		}
		if (!in)
			continue;
		if (in != stdin)
			setvbuf(in, buffer, _IOFBF, AHEAD_READ_BUFFER);
		item.kind = AHEAD_END;
		item.u.end = xcalloc(1, sizeof(*item.u.end));
		bp_error_init(&item.u.end->err);
		item.u.end->rc = collector_parse_stream(in, source, pa->format, &sink,
							&item.u.end->res, &item.u.end->err);
		if (in != stdin)
			fclose(in);
		if (bp_handoff_push(h, &item, sizeof(item) + sizeof(*item.u.end)))
			break;
	}
	free(buffer);
}

struct collector_ahead *collector_ahead_start(char *const paths[], size_t n, const struct bp_format *format)
{
	struct collector_ahead *pa = xcalloc(1, sizeof(*pa));

	pa->paths = paths;
	pa->npaths = n;
	pa->format = format;
	pa->handoff = bp_handoff_start(sizeof(struct ahead_item), parse_all, pa, release);
	if (pa->handoff)
		return pa;
	free(pa);
	return NULL;
}

/* The next item, the caller's until the next take; the producer ends only
 * after the last input's end, so running out before it is a caller
 * reading past its paths. */
static struct ahead_item *take(struct collector_ahead *pa)
{
	struct ahead_item *item = bp_handoff_next(pa->handoff);

	if (!item)
		BUG("collector_ahead: read past the last input");
	return item;
}

int collector_ahead_open_next(struct collector_ahead *pa)
{
	struct ahead_item *item;

	/* an input its caller never replayed (it failed before it could) is
	 * dropped, so the queue stays in step with the paths */
	while (pa->pending)
		pa->pending = take(pa)->kind != AHEAD_END;
	item = take(pa);
	if (item->kind != AHEAD_OPENED)
		BUG("collector_ahead: an input's part of the queue read out of turn");
	pa->pending = !item->u.errnum;
	return item->u.errnum;
}

int collector_ahead_replay(FILE *in, const char *source, const struct bp_sink *sink,
			   struct collector_result *res, struct bp_error *err, void *ctx)
{
	struct collector_ahead *pa = ctx;
	struct ahead_item *item;
	int failed = 0;

	if (!pa->pending)
		BUG("collector_ahead: %s replayed before it was opened", source);
	pa->pending = 0;
	while ((item = take(pa))->kind != AHEAD_END) {
		if (item->kind == AHEAD_OPENED)
			BUG("collector_ahead: %s replayed past its end", source);
		/* after the sink failed, the rest of this input is only freed:
		 * the parser has run on without knowing */
		if (!failed && item->kind == AHEAD_BUILD)
			failed = sink->build(sink->ctx, &item->u.build, err);
		else if (!failed && item->kind == AHEAD_IMAGE)
			failed = sink->image(sink->ctx, &item->u.image, err);
		else if (!failed && item->kind == AHEAD_PIPELINE)
			failed = sink->pipeline(sink->ctx, &item->u.pipeline, err);
	}
	*res = item->u.end->res;
	if (!failed && item->u.end->rc) {
		*err = item->u.end->err;
		failed = item->u.end->rc;
	}
	return failed;
}

/* Usually the parse is ahead and the input's end was taken with its first
 * item, so its fingerprint is known before its builds are stored: its
 * source row is then written once, and the same bytes stored before are
 * found before any build is. */
const struct collector_result *collector_ahead_parsed(void *ctx)
{
	struct collector_ahead *pa = ctx;
	struct ahead_item *item;
	size_t n;

	if (!pa->pending)
		BUG("collector_ahead: asked for the result of an input not opened");
	for (n = 0; (item = bp_handoff_peek(pa->handoff, n)); n++)
		if (item->kind == AHEAD_END)
			return item->u.end->rc ? NULL : &item->u.end->res;
	return NULL;
}

void collector_ahead_finish(struct collector_ahead *pa)
{
	if (!pa)
		return;
	bp_handoff_finish(pa->handoff);
	free(pa);
}
