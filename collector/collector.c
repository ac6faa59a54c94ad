/*
 * collector.c - the input format table, content detection and the loop that
 * streams an input through a parser. Detection looks at the first lines only
 * (bounded), then those lines are replayed to the chosen parser.
 */
#include <stdlib.h>
#include <string.h>

#include "buildprof/collector.h"
#include "linereader.h"

extern const struct bp_format collector_buildkit_format;
extern const struct bp_format collector_legacy_format;
extern const struct bp_format collector_buildah_format;
extern const struct bp_format collector_kaniko_format;
extern const struct bp_format collector_rawjson_format;

const struct bp_format *const collector_formats[] = {
	&collector_buildkit_format,
	&collector_legacy_format,
	&collector_buildah_format,
	&collector_kaniko_format,
	&collector_rawjson_format,
	NULL,
};

/* How much of the input detection may look at. */
#define HEAD_LINES 400
#define HEAD_BYTES (512 * 1024)

const struct bp_format *collector_format(const char *name)
{
	size_t i;

	for (i = 0; collector_formats[i]; i++)
		if (!strcmp(collector_formats[i]->name, name))
			return collector_formats[i];
	return NULL;
}

struct head {
	struct bp_line *lines;
	size_t n, alloc;
	size_t bytes;
};

static void head_add(struct head *h, const struct bp_line *line)
{
	BP_GROW(h->lines, h->n + 1, h->alloc);
	h->lines[h->n] = *line;
	h->lines[h->n].text = xstrndup(line->text, line->len);
	h->n++;
	h->bytes += line->len + 1;
}

static void head_release(struct head *h)
{
	size_t i;

	for (i = 0; i < h->n; i++)
		free((char *)h->lines[i].text);
	free(h->lines);
	memset(h, 0, sizeof(*h));
}

static const struct bp_format *detect(const struct head *h)
{
	const struct bp_format *best = NULL;
	int best_score = 0;
	size_t i;

	for (i = 0; collector_formats[i]; i++) {
		int score = collector_formats[i]->detect(h->lines, h->n);
		if (score > best_score) {
			best_score = score;
			best = collector_formats[i];
		}
	}
	return best;
}

static int all_blank(const struct head *h)
{
	size_t i, j;

	for (i = 0; i < h->n; i++)
		for (j = 0; j < h->lines[i].len; j++)
			if (!strchr(" \t", h->lines[i].text[j]))
				return 0;
	return 1;
}

int collector_parse_stream(FILE *in, const char *source, const struct bp_format *format,
			   const struct bp_sink *sink, struct collector_result *res,
			   struct bp_error *err)
{
	struct line_reader lr;
	struct head head = { 0 };
	struct bp_parser *parser = NULL;
	struct bp_line line;
	int r, ret = -1;
	size_t i;

	memset(res, 0, sizeof(*res));
	line_reader_init(&lr, in, source);

	/* Collect the head for detection. */
	while (head.n < HEAD_LINES && head.bytes < HEAD_BYTES) {
		r = line_reader_next(&lr, &line, err);
		if (r < 0)
			goto cleanup;
		if (r == 0)
			break;
		head_add(&head, &line);
	}
	if (!head.n) {
		bp_error_set(err, source, 0, "empty input");
		goto cleanup;
	}
	if (!format) {
		format = detect(&head);
		if (!format) {
			if (all_blank(&head))
				bp_error_set(err, source, 0, "empty input (only blank lines)");
			else
				bp_error_set(err, source, 1,
					     "not a build log in any known format (try --format)");
			goto cleanup;
		}
	}
	res->format = format;
	parser = format->parser_new(sink);
	for (i = 0; i < head.n; i++)
		if (format->parser_line(parser, &head.lines[i], err))
			goto name_source;
	head_release(&head);
	for (;;) {
		r = line_reader_next(&lr, &line, err);
		if (r < 0)
			goto cleanup;
		if (r == 0)
			break;
		if (format->parser_line(parser, &line, err))
			goto name_source;
	}
	if (format->parser_finish(parser, err))
		goto name_source;
	ret = 0;
	goto cleanup;
name_source:
	/* parsers report lines; the input's name is ours to add */
	if (!err->source[0])
		snprintf(err->source, sizeof(err->source), "%s", source);
cleanup:
	res->bytes = lr.bytes;
	res->lines = lr.lines;
	res->dropped_bytes = lr.dropped;
	bp_sha256_final_hex(&lr.sha, res->sha256);
	if (parser)
		format->parser_free(parser);
	head_release(&head);
	line_reader_release(&lr);
	return ret;
}
