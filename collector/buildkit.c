/*
 * buildkit.c - parser for BuildKit's plain progress output
 * (`docker build --progress=plain`, buildx, buildctl), every version seen in
 * the wild: vertices interleaved and resumed after `#N ...`, shown again
 * (once more as CACHED), `#N sha256:` digest lines (BuildKit < 0.10),
 * platform and bake-target prefixes, the error recap, and several builds
 * in one log. See ../shared/corpus/FORMAT-NOTES.md section 3.
 */
#include <ctype.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "buildprof/collector.h"
#include "vertex.h"

/* Vertex numbers above this are not believed (a corrupt or hostile log). */
#define MAX_VERTEX 1000000
/* Longest error message kept. */
#define MAX_ERROR 4096

struct vertex {
	struct bp_step step;
	int named;      /* the header with the vertex name was seen */
	int bracketed;  /* ... and it was a "[...]" name, which is final */
	int terminal;   /* DONE / CACHED / ERROR / CANCELED was seen */
	double first_ts; /* wrapper time of the first line about it, NAN when none */
	double last_ts;
};

struct bp_parser {
	const struct bp_sink *sink;
	struct vertex **by_number; /* indexed by #N, NULL where unseen */
	size_t nnumbers;
	int *order;                /* vertex numbers in order of first appearance */
	size_t norder, alloc_order;
	int cur;                   /* the vertex whose block is being printed, -1 none */
	int prev_blank;            /* the previous line was blank (or nothing before) */
	int in_recap;              /* inside the "------" error recap */
	int in_snippet;            /* inside the Dockerfile excerpt after a failure */
	char *final_error;         /* "failed to solve: ..." at the end */
	int canceled;              /* the final error is a cancellation */
	double first_ts, last_ts;  /* the build's start and end by the wrapper's clock */
	double clock;              /* the latest wrapper time seen, NAN before any */
	int seek_end;              /* the last vertex line had no time: the next time ends the build */
	char *image_id, *image_ref;
};

static struct bp_parser *bk_new(const struct bp_sink *sink)
{
	struct bp_parser *p = xcalloc(1, sizeof(*p));

	p->sink = sink;
	p->cur = -1;
	p->prev_blank = 1;
	p->first_ts = p->last_ts = p->clock = NAN;
	return p;
}

static void reset(struct bp_parser *p)
{
	size_t i;

	for (i = 0; i < p->nnumbers; i++) {
		if (p->by_number[i]) {
			bp_step_release(&p->by_number[i]->step);
			free(p->by_number[i]);
		}
	}
	free(p->by_number);
	free(p->order);
	free(p->final_error);
	free(p->image_id);
	free(p->image_ref);
	p->by_number = NULL;
	p->order = NULL;
	p->nnumbers = p->norder = p->alloc_order = 0;
	p->final_error = p->image_id = p->image_ref = NULL;
	p->cur = -1;
	p->prev_blank = 1;
	p->in_recap = p->in_snippet = p->canceled = 0;
	p->first_ts = p->last_ts = NAN; /* the clock runs on into the next build */
	p->seek_end = 0;
}

static void bk_free(struct bp_parser *p)
{
	if (!p)
		return;
	reset(p);
	free(p);
}

static struct vertex *vertex_get(struct bp_parser *p, int n)
{
	struct vertex *v;

	if ((size_t)n >= p->nnumbers) {
		size_t want = p->nnumbers ? p->nnumbers : 32;
		while (want <= (size_t)n)
			want *= 2;
		p->by_number = xreallocarray(p->by_number, want, sizeof(*p->by_number));
		memset(p->by_number + p->nnumbers, 0, (want - p->nnumbers) * sizeof(*p->by_number));
		p->nnumbers = want;
	}
	v = p->by_number[n];
	if (!v) {
		v = xcalloc(1, sizeof(*v));
		bp_step_init(&v->step);
		v->step.vertex = n;
		v->step.kind = BP_KIND_INTERNAL;
		v->first_ts = v->last_ts = NAN;
		p->by_number[n] = v;
		BP_GROW(p->order, p->norder + 1, p->alloc_order);
		p->order[p->norder++] = n;
	}
	return v;
}

static int is_log_offset(const char *s)
{
	const char *p = s;

	if (!isdigit((unsigned char)*p))
		return 0;
	while (isdigit((unsigned char)*p))
		p++;
	if (*p == '.') {
		p++;
		if (!isdigit((unsigned char)*p))
			return 0;
		while (isdigit((unsigned char)*p))
			p++;
	}
	return *p == ' ' || *p == '\0';
}

static int is_digest_line(const char *s)
{
	size_t i;

	if (s[0] != 's' || strncmp(s, "sha256:", 7))
		return 0;
	for (i = 7; i < 7 + 64; i++)
		if (!isxdigit((unsigned char)s[i]))
			return 0;
	return s[71] == '\0';
}

static void set_error(char **dst, const char *msg)
{
	free(*dst);
	*dst = xstrndup(msg, MAX_ERROR);
}

/* The build's clock. A wrapper may time every line (GitHub Actions) or only
 * a few (GitLab section markers): the build starts at the latest time known
 * when its first vertex line came, and ends at its last vertex line, or at
 * the first time known after it. v is NULL for lines that are no vertex's. */
static void touch_time(struct bp_parser *p, struct vertex *v, double ts)
{
	if (!isnan(ts))
		p->clock = ts;
	if (!v) {
		if (p->seek_end && !isnan(ts)) {
			p->last_ts = ts;
			p->seek_end = 0;
		}
		return;
	}
	if (isnan(p->first_ts))
		p->first_ts = p->clock;
	if (isnan(ts)) {
		p->seek_end = 1;
		if (isnan(v->first_ts))
			v->first_ts = p->clock;
		return;
	}
	p->last_ts = ts;
	p->seek_end = 0;
	if (isnan(v->first_ts))
		v->first_ts = ts;
	v->last_ts = ts;
}

static int emit(struct bp_parser *p, struct bp_error *err);

/* Progress lines inside a vertex's block; a fragment that starts mid-block
 * shows one of these first, and it is no vertex name. */
static int is_status_text(const char *s)
{
	static const char *const prefixes[] = {
		"transferring ", "extracting ", "sha256:", "writing image ", "naming to ",
		"exporting layers", "exporting manifest", "exporting config", "exporting attestation",
		"pushing ", "preparing ", "sending tarball", "unpacking to ", "pulling ",
		"starting container", "reading from stdin", "resolve docker", "waiting for ",
	};
	size_t i;

	/* asked of every vertex's first line: a byte first, not 18 calls */
	for (i = 0; i < BP_ARRAY_SIZE(prefixes); i++)
		if (s[0] == prefixes[i][0] && !strncmp(s, prefixes[i], strlen(prefixes[i])))
			return 1;
	return 0;
}

static int vertex_line(struct bp_parser *p, int n, const char *rest, const struct bp_line *line,
		       struct bp_error *err)
{
	struct vertex *v;
	int header_pos = p->prev_blank || n != p->cur;

	if (p->in_recap)
		return 0; /* the recap repeats log lines already counted */
	if (n == 0) {
		/* "#0 building with ..." opens a build; other #0 lines are recap debris */
		if (!strncmp(rest, "building with ", 14) && p->norder)
			return emit(p, err);
		return 0;
	}
	/* "#1 <name>" after higher vertices: the next build in the same log. */
	if (n == 1 && header_pos && p->nnumbers > 2 && p->norder > 1 && strcmp(rest, "...") &&
	    !is_log_offset(rest) && strncmp(rest, "DONE", 4) && strcmp(rest, "CACHED")) {
		struct vertex *v1 = p->by_number[1];
		size_t i;
		int higher = 0;
		for (i = 2; i < p->nnumbers; i++)
			higher |= p->by_number[i] != NULL;
		if (higher && (!v1 || strcmp(v1->step.text ? v1->step.text : "", rest)))
			if (emit(p, err))
				return -1;
	}
	v = vertex_get(p, n);
	touch_time(p, v, line->ts);
	if (!v->step.first_line)
		v->step.first_line = line->lineno;
	p->cur = n;
	/* each status compared only when its first byte matches: most lines
	 * are output ("#5 0.123 ..."), which otherwise failed six calls */
	if (rest[0] == '.' && !strcmp(rest, "...")) {
		p->cur = -1;
	} else if (rest[0] == 'D' && !strncmp(rest, "DONE", 4) && (rest[4] == ' ' || !rest[4])) {
		double d = NAN;
		char *end;
		if (rest[4] == ' ') {
			d = strtod(rest + 5, &end);
			if (end == rest + 5 || *end != 's' || !isfinite(d) || d < 0)
				d = NAN;
		}
		v->terminal = 1;
		v->step.status = BP_STEP_DONE;
		v->step.cached = 0;
		v->step.duration_s = d;
		v->step.end_line = line->lineno;
	} else if (rest[0] == 'C' && !strcmp(rest, "CACHED")) {
		v->terminal = 1;
		v->step.status = BP_STEP_CACHED;
		v->step.cached = 1;
		v->step.end_line = line->lineno;
	} else if (rest[0] == 'E' && !strncmp(rest, "ERROR", 5) && (rest[5] == ':' || rest[5] == ' ' || !rest[5])) {
		const char *msg = rest + 5;
		while (*msg == ':' || *msg == ' ')
			msg++;
		v->terminal = 1;
		v->step.status = BP_STEP_ERROR;
		set_error(&v->step.error, *msg ? msg : "error");
	} else if (rest[0] == 'C' && !strcmp(rest, "CANCELED")) {
		v->terminal = 1;
		if (v->step.status != BP_STEP_ERROR)
			v->step.status = BP_STEP_CANCELED;
	} else if (rest[0] == 'W' && !strncmp(rest, "WARN:", 5)) {
		/* build-check warnings: not timing data */
	} else if (is_log_offset(rest)) {
		v->step.output_lines++;
	} else if (is_digest_line(rest) && !v->step.digest) {
		v->step.digest = xstrdup(rest);
	} else if (header_pos && !is_status_text(rest) &&
		   (!v->named || !strcmp(v->step.text, rest) || rest[0] == '[')) {
		/* A fragment may start inside a block, so its first line named the
		 * vertex after a status; the real "[...]" header wins when it comes. */
		if (!v->named || (rest[0] == '[' && !v->bracketed)) {
			v->named = 1;
			v->bracketed = rest[0] == '[';
			vertex_identify(&v->step, rest);
		}
	} else {
		vertex_export_status(rest, &p->image_id, &p->image_ref);
	}
	return 0;
}

static int is_rule(const char *s, size_t n)
{
	size_t i;

	if (!n)
		return 0;
	for (i = 0; i < n; i++)
		if (s[i] != '-')
			return 0;
	return 1;
}

static int bk_line(struct bp_parser *p, const struct bp_line *line, struct bp_error *err)
{
	const char *s = line->text;

	if (line->len == 0) {
		touch_time(p, NULL, line->ts); /* a CI section marker carries a time */
		p->prev_blank = 1;
		return 0;
	}
	if (s[0] == '#' && isdigit((unsigned char)s[1])) {
		char *end;
		long n = strtol(s + 1, &end, 10);
		if ((*end == ' ' || !*end) && n >= 0 && n <= MAX_VERTEX) {
			int r = vertex_line(p, (int)n, *end ? end + 1 : end, line, err);
			p->prev_blank = 0;
			return r;
		}
	}
	p->prev_blank = 0;
	touch_time(p, NULL, line->ts);
	/* The recap is "------", " > name:", repeated "#N" log lines, "------":
	 * only the "#N" lines need skipping, and any other line ends it (a
	 * fragment may start inside one). */
	if (is_rule(s, line->len)) {
		if (line->len == 6)
			p->in_recap = !p->in_recap;
		else
			p->in_snippet = !p->in_snippet;
		return 0;
	}
	if (p->in_recap && strncmp(s, " > ", 3))
		p->in_recap = 0;
	if (p->in_snippet)
		return 0; /* the Dockerfile excerpt */
	if (!strncmp(s, "ERROR: ", 7) || !strncmp(s, "error: ", 7)) {
		const char *msg = s + 7;
		if (!p->final_error || strstr(msg, "failed to solve"))
			set_error(&p->final_error, msg);
		if (strstr(msg, "context canceled"))
			p->canceled = 1;
		return 0;
	}
	return 0;
}

/* Hands the build gathered so far to the sink and starts afresh. */
static int emit(struct bp_parser *p, struct bp_error *err)
{
	struct bp_build b;
	int failed = 0, incomplete = 0, r;
	const char *first_error = NULL;
	size_t i;

	if (!p->norder && !p->final_error) {
		reset(p);
		return 0;
	}
	bp_build_init(&b);
	b.format = xstrdup("buildkit");
	for (i = 0; i < p->norder; i++) {
		struct vertex *v = p->by_number[p->order[i]];
		struct bp_step *s = bp_build_add_step(&b);
		*s = v->step; /* moved: ownership passes to b */
		bp_step_init(&v->step);
		if (!v->named) {
			char buf[48];
			snprintf(buf, sizeof(buf), "#%d (name not in the log)", s->vertex);
			s->text = xstrdup(buf);
		}
		if (!isnan(v->first_ts) && !isnan(p->first_ts))
			s->start_s = v->first_ts - p->first_ts;
		if (!v->terminal)
			s->status = BP_STEP_INCOMPLETE;
		if (s->status == BP_STEP_ERROR) {
			failed = 1;
			if (!first_error)
				first_error = s->error;
		}
		if (s->status == BP_STEP_INCOMPLETE || s->status == BP_STEP_CANCELED)
			incomplete = 1;
	}
	if (p->final_error && !p->canceled)
		failed = 1;
	if (p->canceled)
		incomplete = 1;
	b.status = failed ? BP_BUILD_FAILED
		 : incomplete || !vertex_build_shows_end(&b) ? BP_BUILD_INCOMPLETE : BP_BUILD_SUCCESS;
	if (p->final_error)
		b.error = xstrdup(p->final_error);
	else if (first_error)
		b.error = xstrdup(first_error);
	b.started_at = p->first_ts;
	if (!isnan(p->first_ts) && p->last_ts >= p->first_ts)
		b.wall_s = p->last_ts - p->first_ts;
	b.image_id = p->image_id;
	b.image_ref = p->image_ref;
	p->image_id = p->image_ref = NULL;
	b.base_image = vertex_base_image(&b);
	r = p->sink->build(p->sink->ctx, &b, err);
	bp_build_release(&b);
	reset(p);
	return r;
}

static int bk_finish(struct bp_parser *p, struct bp_error *err)
{
	return emit(p, err);
}

static int bk_detect(const struct bp_line *lines, size_t n)
{
	int score = 0;
	size_t i;

	for (i = 0; i < n; i++) {
		const char *s = lines[i].text;
		if (s[0] == '#' && isdigit((unsigned char)s[1])) {
			const char *p = s + 1;
			while (isdigit((unsigned char)*p))
				p++;
			if (*p == ' ' && (p[1] == '[' || !strcmp(p + 1, "CACHED") ||
					  !strncmp(p + 1, "DONE ", 5) || !strncmp(p + 1, "ERROR", 5) ||
					  !strcmp(p + 1, "...") || is_log_offset(p + 1)))
				score += 2;
		} else if (strstr(s, "failed to solve: ") || strstr(s, "failed to build: ")) {
			score += 3;
		}
	}
	return score;
}

const struct bp_format collector_buildkit_format = {
	.name = "buildkit",
	.description = "BuildKit --progress=plain (docker build, buildx, buildctl)",
	.detect = bk_detect,
	.parser_new = bk_new,
	.parser_line = bk_line,
	.parser_finish = bk_finish,
	.parser_free = bk_free,
};
