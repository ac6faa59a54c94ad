/*
 * buildah.c - parser for podman build / buildah bud output, both the old
 * form ("STEP 2: RUN ...", "STEP 7: COMMIT name") and the current one
 * ("[1/2] STEP 2/10: RUN ...", "--> Using cache <id>", "--> <id>",
 * "COMMIT name"). With --layers, buildah runs stages concurrently: STEP
 * lines of different stages interleave and a "--> <id>" result carries no
 * stage, so it belongs to the most recent step still waiting for one. The
 * log has no durations; a wrapper's timestamps give them (a step's line to
 * its result). See ../shared/corpus/FORMAT-NOTES.md section 5.
 */
#include <ctype.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "buildprof/collector.h"
#include "stages.h"

struct pending {
	int stage;     /* stage index, -1 when the log does not number stages */
	double ts;     /* when its STEP line came, NAN without a clock */
};

struct bp_parser {
	const struct bp_sink *sink;
	struct bp_build b;
	struct pending *info;  /* per step of b: its stage and start */
	size_t alloc_info;
	int active;            /* b holds a build */
	int committed;         /* a COMMIT finished, or "Successfully ..." */
	int tagged;            /* "Successfully tagged" named the image */
	int want_id;           /* the COMMIT's result came: the next full hex line is the id */
	char *cache_id;        /* the id of the last "--> Using cache <id>", echoed next as "--> <short>" */
	struct stage_tracker stages;
	double first_ts, last_ts;
};

static struct bp_parser *buildah_new(const struct bp_sink *sink)
{
	struct bp_parser *p = xcalloc(1, sizeof(*p));

	p->sink = sink;
	bp_build_init(&p->b);
	stage_tracker_init(&p->stages);
	p->first_ts = p->last_ts = NAN;
	return p;
}

static void reset(struct bp_parser *p)
{
	bp_build_release(&p->b);
	stage_tracker_release(&p->stages);
	free(p->info);
	free(p->cache_id);
	p->info = NULL;
	p->cache_id = NULL;
	p->alloc_info = 0;
	p->active = p->committed = p->tagged = p->want_id = 0;
	p->first_ts = p->last_ts = NAN;
}

static void buildah_free(struct bp_parser *p)
{
	if (!p)
		return;
	reset(p);
	free(p);
}

/* The step finished at ts (NAN without a clock). */
static void finish(struct bp_parser *p, size_t i, double ts)
{
	struct bp_step *s = &p->b.steps[i];

	if (s->status != BP_STEP_INCOMPLETE)
		return;
	s->status = s->cached ? BP_STEP_CACHED : BP_STEP_DONE;
	if (!isnan(ts) && !isnan(p->info[i].ts) && ts >= p->info[i].ts)
		s->duration_s = ts - p->info[i].ts;
	if (s->kind == BP_KIND_EXPORT)
		p->committed = 1;
}

/* The most recent step still waiting for its result, or -1. */
static long latest_pending(struct bp_parser *p)
{
	long i;

	for (i = (long)p->b.nsteps - 1; i >= 0; i--)
		if (p->b.steps[i].status == BP_STEP_INCOMPLETE)
			return i;
	return -1;
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
	size_t i;
	int r;

	if (!p->active)
		return 0;
	/* a successful build finished every step, whether or not it printed a result */
	if (p->committed && p->b.status != BP_BUILD_FAILED)
		for (i = 0; i < p->b.nsteps; i++)
			finish(p, i, NAN);
	if (p->b.status != BP_BUILD_FAILED)
		p->b.status = p->committed ? BP_BUILD_SUCCESS : BP_BUILD_INCOMPLETE;
	p->b.format = xstrdup("buildah");
	p->b.started_at = p->first_ts;
	if (!isnan(p->first_ts) && p->last_ts >= p->first_ts)
		p->b.wall_s = p->last_ts - p->first_ts;
	p->b.base_image = xstrdup_or_null(stage_tracker_final_base(&p->stages));
	r = p->sink->build(p->sink->ctx, &p->b, err);
	reset(p);
	return r;
}

/* "[1/2] STEP 2/10: TEXT", "STEP 2/10: TEXT" or "STEP 2: TEXT": returns the
 * text after the colon and the stage index (from "[k/N]", else -1), or NULL. */
static const char *parse_step(const char *s, int *i, int *n, int *stage)
{
	char *end;
	long a, b = 0;

	*stage = -1;
	if (s[0] == '[') {
		const char *close = strchr(s, ']');
		long k = strtol(s + 1, &end, 10);
		if (!close || strncmp(close, "] STEP ", 7))
			return NULL;
		if (end != s + 1 && *end == '/' && k >= 1 && k <= 100000)
			*stage = (int)k - 1;
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

/* Newer buildah ends with "COMMIT name" or "[5/5] COMMIT name", no STEP. */
static const char *parse_commit(const char *s, int *stage)
{
	*stage = -1;
	if (s[0] == '[') {
		const char *close = strchr(s, ']');
		if (!close || close[1] != ' ')
			return NULL;
		*stage = atoi(s + 1) - 1;
		s = close + 2;
	}
	return !strncmp(s, "COMMIT", 6) && (s[6] == ' ' || !s[6]) ? s : NULL;
}

static int step_line(struct bp_parser *p, const struct bp_line *line, const char *text, int i,
		     int n, int stage, struct bp_error *err)
{
	struct bp_step *st;
	const char *instr;
	size_t len, k;

	/* a new build when numbering starts over after a finished one */
	if (i == 1 && p->active && p->committed && !strncmp(text, "FROM", 4))
		if (emit(p, err))
			return -1;
	/* metadata steps (ENV, CMD) print no result: a later step of the same
	 * stage starting means the earlier ones finished (all of them in an
	 * old log, which does not number stages and runs them in order) */
	for (k = 0; k < p->b.nsteps; k++)
		if (stage < 0 || p->info[k].stage == stage)
			finish(p, k, line->ts);
	free(p->cache_id); /* a result after this line is this step's */
	p->cache_id = NULL;
	p->active = 1;
	st = bp_build_add_step(&p->b);
	BP_GROW(p->info, p->b.nsteps, p->alloc_info);
	p->info[p->b.nsteps - 1].ts = line->ts;
	st->vertex = (int)p->b.nsteps;
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
		stage = stage_tracker_from(&p->stages, stage, st->text);
	} else {
		st->kind = BP_KIND_STEP;
	}
	if (stage < 0)
		stage = p->stages.current;
	p->info[p->b.nsteps - 1].stage = stage;
	st->stage = xstrdup_or_null(stage_tracker_name(&p->stages, stage));
	if (!isnan(line->ts) && !isnan(p->first_ts))
		st->start_s = line->ts - p->first_ts;
	return 0;
}

/* buildah names the failing step: 'building at STEP "RUN npm ci": ...' */
static void fail(struct bp_parser *p, const char *msg)
{
	const char *q = strstr(msg, "STEP \"");
	long i = -1, k;

	if (q) {
		const char *start = q + 6, *end = strchr(start, '"');
		for (k = (long)p->b.nsteps - 1; end && k >= 0 && i < 0; k--)
			if (p->b.steps[k].status == BP_STEP_INCOMPLETE &&
			    strlen(p->b.steps[k].text) == (size_t)(end - start) &&
			    !strncmp(p->b.steps[k].text, start, (size_t)(end - start)))
				i = k;
	}
	if (i < 0)
		i = latest_pending(p);
	collector_mark_failed(&p->b, i >= 0 ? &p->b.steps[i] : NULL, msg);
	p->active = 1;
}

static void result_line(struct bp_parser *p, const char *what, double ts)
{
	long i;

	p->active = 1;
	if (!strncmp(what, "Using cache ", 12)) {
		i = latest_pending(p);
		if (i >= 0) {
			p->b.steps[i].cached = 1;
			finish(p, (size_t)i, ts);
			stage_tracker_image(&p->stages, p->info[i].stage, what + 12);
		}
		free(p->cache_id);
		p->cache_id = xstrdup(what + 12);
		return;
	}
	/* "--> 33a4f527234e" right after "--> Using cache 33a4f527234e...": the same result */
	if (p->cache_id && *what && !strncmp(p->cache_id, what, strlen(what))) {
		free(p->cache_id);
		p->cache_id = NULL;
		return;
	}
	free(p->cache_id);
	p->cache_id = NULL;
	i = latest_pending(p);
	if (i < 0)
		return;
	finish(p, (size_t)i, ts);
	stage_tracker_image(&p->stages, p->info[i].stage, what);
	if (p->b.steps[i].kind == BP_KIND_EXPORT)
		p->want_id = 1;
}

static int buildah_line(struct bp_parser *p, const struct bp_line *line, struct bp_error *err)
{
	const char *s = line->text, *text;
	long cur;
	int i, n, stage;

	if (!isnan(line->ts)) {
		if (isnan(p->first_ts))
			p->first_ts = line->ts;
		p->last_ts = line->ts;
	}
	if ((text = parse_step(s, &i, &n, &stage)))
		return step_line(p, line, text, i, n, stage, err);
	if ((text = parse_commit(s, &stage)) && p->active) {
		cur = (long)p->b.nsteps - 1;
		return step_line(p, line, text, cur >= 0 ? p->b.steps[cur].index + 1 : 1,
				 cur >= 0 ? p->b.steps[cur].count : 0, stage, err);
	}
	if (!strncmp(s, "--> ", 4)) {
		result_line(p, s + 4, line->ts);
		return 0;
	}
	if (p->want_id && is_hex(s, 64)) {
		free(p->b.image_id);
		p->b.image_id = xstrdup(s);
		p->want_id = 0;
		return 0;
	}
	if (!strncmp(s, "Successfully tagged ", 20)) {
		/* the first tag is the one asked for (others point at the same
		 * image); it is also fuller than COMMIT's ("localhost/app:1") */
		if (!p->tagged) {
			free(p->b.image_ref);
			p->b.image_ref = xstrdup(s + 20);
			p->tagged = 1;
		}
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
	cur = latest_pending(p);
	if (cur >= 0 && p->b.steps[cur].kind != BP_KIND_EXPORT && line->len)
		p->b.steps[cur].output_lines++;
	return 0;
}

static int buildah_finish(struct bp_parser *p, struct bp_error *err)
{
	return emit(p, err);
}

static int buildah_detect(const struct bp_line *lines, size_t n)
{
	int score = 0, i1, n1, st;
	size_t i;

	/* every mark starts with one of these: other lines (all of another
	 * format's, asked of every log's head) cost a search of six bytes */
	for (i = 0; i < n; i++) {
		const char *s = lines[i].text;
		if (!s[0] || !memchr("[S-GCW", s[0], 6))
			continue;
		if (parse_step(s, &i1, &n1, &st))
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
