/*
 * buildah.c - parser for podman build / buildah bud output, both the old
 * form ("STEP 2: RUN ...", "STEP 7: COMMIT name") and the current one
 * ("[1/2] STEP 2/10: RUN ...", "--> Using cache <id>", "--> <id>"). The log
 * has no durations; a CI wrapper's timestamps give them (step line to next
 * step line). See ../shared/corpus/FORMAT-NOTES.md section 5.
 */
#include <ctype.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "buildprof/collector.h"
#include "stages.h"

#define MAX_ERROR 4096

struct bp_parser {
	const struct bp_sink *sink;
	struct bp_build b;
	int active;         /* b holds a build */
	long cur;           /* index of the current step, -1 none */
	int committed;      /* a COMMIT step finished, or "Successfully ..." */
	int after_commit;   /* the COMMIT's "--> <id>" was seen: next hex line is the full id */
	struct stage_tracker stages;
	double first_ts, last_ts, step_ts;
};

static struct bp_parser *buildah_new(const struct bp_sink *sink)
{
	struct bp_parser *p = xcalloc(1, sizeof(*p));

	p->sink = sink;
	p->cur = -1;
	bp_build_init(&p->b);
	stage_tracker_init(&p->stages);
	p->first_ts = p->last_ts = p->step_ts = NAN;
	return p;
}

static void reset(struct bp_parser *p)
{
	bp_build_release(&p->b);
	stage_tracker_release(&p->stages);
	p->active = p->committed = p->after_commit = 0;
	p->cur = -1;
	p->first_ts = p->last_ts = p->step_ts = NAN;
}

static void buildah_free(struct bp_parser *p)
{
	if (!p)
		return;
	reset(p);
	free(p);
}

static struct bp_step *current(struct bp_parser *p)
{
	return p->cur >= 0 ? &p->b.steps[p->cur] : NULL;
}

/* The current step ends (the next one starts, or the build ends) at ts. */
static void close_step(struct bp_parser *p, double ts)
{
	struct bp_step *s = current(p);

	if (!s)
		return;
	/* buildah prints no result line for metadata steps (ENV, LABEL): the
	 * next step starting means this one finished */
	if (s->status == BP_STEP_INCOMPLETE)
		s->status = s->cached ? BP_STEP_CACHED : BP_STEP_DONE;
	if (!isnan(ts) && !isnan(p->step_ts) && ts >= p->step_ts && s->status != BP_STEP_ERROR)
		s->duration_s = ts - p->step_ts;
	if (s->kind == BP_KIND_EXPORT)
		p->committed = 1;
}

static int is_hex(const char *s, size_t min)
{
	size_t n = 0;

	while (isxdigit((unsigned char)s[n]))
		n++;
	return n >= min && s[n] == '\0';
}

static int emit(struct bp_parser *p, struct bp_error *err)
{
	struct bp_step *s;
	int r;

	if (!p->active)
		return 0;
	s = current(p);
	if (s && s->status == BP_STEP_INCOMPLETE && (p->committed || (s->kind == BP_KIND_EXPORT && p->after_commit)))
		close_step(p, p->last_ts);
	if (p->b.status != BP_BUILD_FAILED)
		p->b.status = p->committed ? BP_BUILD_SUCCESS : BP_BUILD_INCOMPLETE;
	p->b.format = xstrdup("buildah");
	p->b.started_at = p->first_ts;
	if (!isnan(p->first_ts) && p->last_ts >= p->first_ts)
		p->b.wall_s = p->last_ts - p->first_ts;
	p->b.base_image = xstrdup_or_null(p->stages.base);
	r = p->sink->build(p->sink->ctx, &p->b, err);
	reset(p);
	return r;
}

/* "[1/2] STEP 2/10: TEXT", "STEP 2/10: TEXT" or "STEP 2: TEXT"; returns the
 * text after the colon, or NULL when line is no step line. */
static const char *parse_step(const char *s, int *i, int *n)
{
	char *end;
	long a, b = 0;

	if (s[0] == '[') {
		const char *close = strchr(s, ']');
		if (!close || strncmp(close, "] STEP ", 7))
			return NULL;
		s = close + 2;
	}
	if (strncmp(s, "STEP ", 5) || !isdigit((unsigned char)s[5]))
		return NULL;
	a = strtol(s + 5, &end, 10);
	if (*end == '/') {
		const char *ns = end + 1;
		b = strtol(ns, &end, 10);
		if (end == ns)
			return NULL;
	}
	if (*end != ':' || a < 0 || a > 100000 || b < 0 || b > 100000)
		return NULL;
	*i = (int)a;
	*n = (int)b;
	end++;
	while (*end == ' ')
		end++;
	return end;
}

/* Newer buildah ends with "COMMIT name" or "[2/2] COMMIT name", no STEP. */
static const char *parse_commit(const char *s)
{
	if (s[0] == '[') {
		const char *close = strchr(s, ']');
		if (!close || close[1] != ' ')
			return NULL;
		s = close + 2;
	}
	return !strncmp(s, "COMMIT", 6) && (s[6] == ' ' || !s[6]) ? s : NULL;
}

static int step_line(struct bp_parser *p, const struct bp_line *line, const char *text, int i,
		     int n, struct bp_error *err)
{
	struct bp_step *st;
	const char *instr;
	size_t len;

	/* a new build when numbering starts over after a finished one */
	if (i == 1 && p->active && p->committed && !strncmp(text, "FROM", 4))
		if (emit(p, err))
			return -1;
	close_step(p, line->ts);
	p->active = 1;
	st = bp_build_add_step(&p->b);
	p->cur = (long)p->b.nsteps - 1;
	p->step_ts = line->ts;
	p->after_commit = 0;
	st->vertex = i;
	st->index = i;
	st->count = n;
	len = strlen(text);
	while (len && text[len - 1] == ' ') /* "WORKDIR /home/node/app " */
		len--;
	st->text = xstrndup(text, len);
	instr = collector_instruction(st->text);
	st->instruction = instr ? xstrdup(instr) : NULL;
	if (!strncmp(st->text, "COMMIT", 6) && (!st->text[6] || st->text[6] == ' ')) {
		const char *name = st->text + 6;
		st->kind = BP_KIND_EXPORT;
		while (*name == ' ')
			name++;
		if (*name && !p->b.image_ref)
			p->b.image_ref = xstrndup(name, strcspn(name, " "));
	} else if (instr && !strcmp(instr, "FROM")) {
		st->kind = BP_KIND_FROM;
		stage_tracker_from(&p->stages, st->text);
	} else {
		st->kind = BP_KIND_STEP;
	}
	st->stage = xstrdup_or_null(p->stages.name);
	if (!isnan(line->ts) && !isnan(p->first_ts))
		st->start_s = line->ts - p->first_ts;
	return 0;
}

static void fail(struct bp_parser *p, const char *msg)
{
	struct bp_step *s = current(p);

	if (s) {
		s->status = BP_STEP_ERROR;
		free(s->error);
		s->error = xstrndup(msg, MAX_ERROR);
	}
	if (!p->b.error)
		p->b.error = xstrndup(msg, MAX_ERROR);
	p->b.status = BP_BUILD_FAILED;
	p->active = 1;
}

static int buildah_line(struct bp_parser *p, const struct bp_line *line, struct bp_error *err)
{
	const char *s = line->text, *text;
	struct bp_step *st;
	int i, n;

	if (!isnan(line->ts)) {
		if (isnan(p->first_ts))
			p->first_ts = line->ts;
		p->last_ts = line->ts;
	}
	if ((text = parse_step(s, &i, &n)))
		return step_line(p, line, text, i, n, err);
	if ((text = parse_commit(s)) && p->active) {
		st = current(p);
		return step_line(p, line, text, st ? st->index + 1 : 1, st ? st->count : 0, err);
	}
	st = current(p);
	if (!strncmp(s, "--> ", 4)) {
		const char *what = s + 4;
		if (!strncmp(what, "Using cache ", 12)) {
			if (st) {
				st->cached = 1;
				st->status = BP_STEP_CACHED;
			}
		} else if (st && st->status == BP_STEP_INCOMPLETE) {
			st->status = st->cached ? BP_STEP_CACHED : BP_STEP_DONE;
			if (st->kind == BP_KIND_EXPORT) {
				p->committed = 1;
				p->after_commit = 1;
			}
		}
		p->active = 1;
		return 0;
	}
	if (p->after_commit && is_hex(s, 64)) {
		free(p->b.image_id);
		p->b.image_id = xstrdup(s);
		p->after_commit = 0;
		return 0;
	}
	if (!strncmp(s, "Successfully tagged ", 20)) {
		/* the full name ("localhost/app:1") beats COMMIT's short one */
		free(p->b.image_ref);
		p->b.image_ref = xstrdup(s + 20);
		p->committed = 1;
		p->active = 1;
		return 0;
	}
	if (!strncmp(s, "Successfully built ", 19)) {
		free(p->b.image_id);
		p->b.image_id = xstrdup(s + 19);
		p->committed = 1;
		p->active = 1;
		return 0;
	}
	if (strstr(s, "building at STEP \"") &&
	    (!strncmp(s, "error ", 6) || !strncmp(s, "Error: ", 7) || !strncmp(s, "ERRO", 4))) {
		fail(p, s);
		return 0;
	}
	if (st && st->kind != BP_KIND_EXPORT && line->len)
		st->output_lines++;
	return 0;
}

static int buildah_finish(struct bp_parser *p, struct bp_error *err)
{
	return emit(p, err);
}

static int buildah_detect(const struct bp_line *lines, size_t n)
{
	int score = 0, i1, n1;
	size_t i;

	for (i = 0; i < n; i++) {
		const char *s = lines[i].text;
		if (parse_step(s, &i1, &n1))
			score += 3;
		else if (!strncmp(s, "--> ", 4))
			score += 1;
		else if (!strcmp(s, "Getting image source signatures") || !strncmp(s, "Copying blob ", 13) ||
			 !strcmp(s, "Writing manifest to image destination") || !strcmp(s, "Storing signatures"))
			score += 1;
	}
	return score;
}

const struct bp_format collector_buildah_format = {
	.name = "buildah",
	.description = "podman build / buildah bud",
	.detect = buildah_detect,
	.parser_new = buildah_new,
	.parser_line = buildah_line,
	.parser_finish = buildah_finish,
	.parser_free = buildah_free,
};
