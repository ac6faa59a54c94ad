/*
 * collector.c - the input format table, content detection and the loop that
 * streams an input through a parser. Detection looks at the first lines only
 * (bounded), then those lines are replayed to the chosen parser.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "buildprof/collector.h"
#include "linereader.h"

extern const struct bp_format collector_buildkit_format;
extern const struct bp_format collector_legacy_format;
extern const struct bp_format collector_buildah_format;
extern const struct bp_format collector_kaniko_format;
extern const struct bp_format collector_rawjson_format;
extern const struct bp_format collector_inspect_format;
extern const struct bp_format collector_history_format;
extern const struct bp_format collector_manifest_format;
extern const struct bp_format collector_gitlab_format;
extern const struct bp_format collector_github_format;

const struct bp_format *const collector_formats[] = {
	&collector_buildkit_format,
	&collector_legacy_format,
	&collector_buildah_format,
	&collector_kaniko_format,
	&collector_rawjson_format,
	&collector_inspect_format,
	&collector_history_format,
	&collector_manifest_format,
	&collector_gitlab_format,
	&collector_github_format,
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
	struct bp_strpool text; /* the lines' copies (a small log is all head) */
};

static void head_add(struct head *h, const struct bp_line *line)
{
	BP_GROW(h->lines, h->n + 1, h->alloc);
	h->lines[h->n] = *line;
	h->lines[h->n].text = bp_strpool_add(&h->text, line->text, line->len);
	h->n++;
	h->bytes += line->len + 1;
}

static void head_release(struct head *h)
{
	bp_strpool_release(&h->text);
	free(h->lines);
	memset(h, 0, sizeof(*h));
}

static const struct bp_format *detect(const struct head *h)
{
	const struct bp_format *best = NULL;
	int best_score = 0;
	size_t i;

	for (i = 0; collector_formats[i]; i++) {
		int score;
		if (!collector_formats[i]->detect)
			continue;
		score = collector_formats[i]->detect(h->lines, h->n);
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

/* Counts what the parser hands on, for the result. */
struct counting {
	const struct bp_sink *sink;
	struct collector_result *res;
};

static int count_build(void *ctx, struct bp_build *b, struct bp_error *err)
{
	struct counting *c = ctx;

	c->res->builds++;
	return c->sink->build(c->sink->ctx, b, err);
}

static int count_image(void *ctx, struct bp_image *img, struct bp_error *err)
{
	struct counting *c = ctx;

	c->res->images++;
	if (!c->sink->image)
		return bp_error_set(err, NULL, 0, "images cannot be stored here");
	return c->sink->image(c->sink->ctx, img, err);
}

static int count_pipeline(void *ctx, struct bp_pipeline *pl, struct bp_error *err)
{
	struct counting *c = ctx;

	c->res->pipelines++;
	if (!c->sink->pipeline)
		return bp_error_set(err, NULL, 0, "pipelines cannot be stored here");
	return c->sink->pipeline(c->sink->ctx, pl, err);
}

/* JSON that is not rawjson's one-object-per-line stream: a document. */
static int looks_like_document(const unsigned char *p, size_t n)
{
	size_t i = 0, eol;

	size_t j;

	while (i < n && strchr(" \t\r\n", p[i]))
		i++;
	if (i == n || (p[i] != '{' && p[i] != '['))
		return 0;
	/* "[1/2] STEP ..." is buildah, not JSON: an array holds objects or
	 * strings here, an object starts with a key */
	for (j = i + 1; j < n && strchr(" \t\r\n", p[j]); j++)
		;
	if (j < n && !strchr(p[i] == '[' ? "{\"]" : "\"}", p[j]))
		return 0;
	for (eol = i; eol < n && p[eol] != '\n'; eol++)
		;
	return !(memmem(p + i, eol - i, "\"vertexes\"", 10) || memmem(p + i, eol - i, "\"statuses\"", 10) ||
		 memmem(p + i, eol - i, "\"logs\"", 6));
}

static int parse_document_input(FILE *in, const char *source, const unsigned char *peek,
				size_t npeek, const struct bp_format *format,
				const struct bp_sink *sink, struct collector_result *res,
				struct bp_error *err)
{
	struct strbuf doc = STRBUF_INIT;
	struct bp_sha256 sha;
	char buf[65536];
	size_t n, i;
	int best = 0, r = -1;

	bp_sha256_init(&sha);
	strbuf_add(&doc, peek, npeek);
	while ((n = fread(buf, 1, sizeof(buf), in)) > 0) {
		if (doc.len + n > BP_DOCUMENT_MAX) {
			bp_error_set(err, source, 0, "JSON document larger than %d MiB",
				     BP_DOCUMENT_MAX / (1024 * 1024));
			goto out;
		}
		strbuf_add(&doc, buf, n);
		if (n < sizeof(buf))
			break; /* the end, or an error: asking again is a read(2) more */
	}
	if (ferror(in)) {
		bp_error_set(err, source, 0, "read error: %s", strerror(errno));
		goto out;
	}
	bp_sha256_update(&sha, doc.buf, doc.len);
	bp_sha256_final_hex(&sha, res->sha256);
	res->bytes = (long long)doc.len;
	if (memchr(doc.buf, 0, doc.len)) {
		bp_error_set(err, source, 0, "binary data (a NUL byte), not a JSON document");
		goto out;
	}
	if (!format) {
		for (i = 0; collector_formats[i]; i++) {
			int score;
			if (!collector_formats[i]->detect_document)
				continue;
			score = collector_formats[i]->detect_document(doc.buf, doc.len);
			if (score > best) {
				best = score;
				format = collector_formats[i];
			}
		}
		if (!format) {
			bp_error_set(err, source, 1, "JSON, but not an image, manifest or CI "
						   "(GitLab, GitHub Actions) document (try --format)");
			goto out;
		}
	}
	res->format = format;
	r = format->parse_document(doc.buf, doc.len, sink, err);
	if (r && !err->source[0])
		snprintf(err->source, sizeof(err->source), "%s", source);
out:
	strbuf_release(&doc);
	return r;
}

int collector_parse_stream(FILE *in, const char *source, const struct bp_format *format,
			   const struct bp_sink *outer, struct collector_result *res,
			   struct bp_error *err)
{
	struct counting counting = { outer, res };
	struct bp_sink counted = { .build = count_build, .image = count_image,
				   .pipeline = count_pipeline, .ctx = &counting };
	const struct bp_sink *sink = &counted;
	unsigned char peek[4096];
	size_t npeek;
	struct line_reader lr;
	struct head head = { 0 };
	struct bp_parser *parser = NULL;
	struct bp_line line;
	int r, ret = -1;
	size_t i;

	memset(res, 0, sizeof(*res));
	npeek = fread(peek, 1, sizeof(peek), in);
	if (!npeek && ferror(in))
		return bp_error_set(err, source, 0, "read error: %s", strerror(errno));
	if ((format && format->parse_document) ||
	    (!format && looks_like_document(peek, npeek)))
		return parse_document_input(in, source, peek, npeek, format, sink, res, err);
	line_reader_init(&lr, in, source);
	if (line_reader_preload(&lr, peek, npeek, err))
		goto cleanup;

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
