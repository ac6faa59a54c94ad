/*
 * kaniko.c - parser for kaniko executor logs: logrus lines "INFO[0027] msg"
 * (the counter is seconds since the executor started, the only clock),
 * optionally behind a kubectl "<pod> <container> " prefix or with the
 * prefix stripped by a wrapper; Jenkins captures with blank lines and
 * HTML-escaped text. A command's cache hit is announced before it runs
 * ("Using caching version of cmd: RUN ..."). See FORMAT-NOTES.md section 6.
 */
#include <ctype.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "buildprof/collector.h"

struct bp_parser {
	const struct bp_sink *sink;
	struct bp_build b;
	int active;
	int prefixed;        /* the log has logrus prefixes: unprefixed lines are RUN output */
	long cur;            /* the current step, -1 none */
	double step_t;       /* its start, seconds since the executor started */
	double first_t, last_t;
	char **cached;       /* commands announced as cache hits, not yet seen running */
	size_t ncached, alloc_cached;
	int stage_idx;       /* "Building stage '...' [idx: 'N'" */
	int pushed;          /* "Pushed ..." / "Skipping push" */
};

static const char *const levels[] = { "INFO[", "WARN[", "ERRO[", "DEBU[", "TRAC[", "FATA[", "PANI[" };

/* Finds "LEVL[0027] " at the start of s or after a kubectl prefix; returns
 * the message and sets *t and *level (0 = INFO ... ), or NULL. */
static const char *logrus_message(const char *s, double *t, int *level)
{
	const char *p;
	size_t i;

	/* every level is four capitals and '[': lines without one (most, when
	 * detection asks this of every log's head) skip the seven searches */
	for (p = strchr(s, '['); p; p = strchr(p + 1, '['))
		if (p - s >= 4 && isupper((unsigned char)p[-1]) && isupper((unsigned char)p[-2]) &&
		    isupper((unsigned char)p[-3]) && isupper((unsigned char)p[-4]))
			break;
	if (!p)
		return NULL;

	for (i = 0; i < BP_ARRAY_SIZE(levels); i++) {
		p = strstr(s, levels[i]);
		while (p && p != s && p[-1] != ' ')
			p = strstr(p + 1, levels[i]);
		if (p) {
			char *end;
			double v = strtod(p + 5, &end);
			if (end == p + 5 || *end != ']' || !isfinite(v) || v < 0)
				continue;
			*t = v;
			*level = (int)i;
			end++;
			while (*end == ' ')
				end++;
			return end;
		}
	}
	return NULL;
}

/* The message with trailing padding removed and HTML entities decoded (new string). */
static char *clean_message(const char *m)
{
	static const struct { const char *ent; char c; } ents[] = {
		{ "&amp;", '&' }, { "&lt;", '<' }, { "&gt;", '>' }, { "&quot;", '"' }, { "&#39;", '\'' },
	};
	struct strbuf sb = STRBUF_INIT;
	size_t i, len = strlen(m);

	while (len && (m[len - 1] == ' ' || m[len - 1] == '\t'))
		len--;
	for (i = 0; i < len;) {
		size_t k, matched = 0;
		if (m[i] == '&') {
			for (k = 0; k < BP_ARRAY_SIZE(ents); k++) {
				size_t el = strlen(ents[k].ent);
				if (i + el <= len && !strncmp(m + i, ents[k].ent, el)) {
					strbuf_addch(&sb, ents[k].c);
					i += el;
					matched = 1;
					break;
				}
			}
		}
		if (!matched)
			strbuf_addch(&sb, m[i++]);
	}
	return strbuf_detach(&sb, NULL);
}

static struct bp_parser *kaniko_new(const struct bp_sink *sink)
{
	struct bp_parser *p = xcalloc(1, sizeof(*p));

	p->sink = sink;
	p->cur = -1;
	p->step_t = p->first_t = p->last_t = NAN;
	bp_build_init(&p->b);
	return p;
}

static void reset(struct bp_parser *p)
{
	size_t i;

	bp_build_release(&p->b);
	for (i = 0; i < p->ncached; i++)
		free(p->cached[i]);
	free(p->cached);
	p->cached = NULL;
	p->ncached = p->alloc_cached = 0;
	p->active = p->pushed = p->stage_idx = 0;
	p->cur = -1;
	p->step_t = p->first_t = p->last_t = NAN;
}

static void kaniko_free(struct bp_parser *p)
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

static void close_step(struct bp_parser *p, double t)
{
	struct bp_step *s = current(p);

	if (!s || s->status != BP_STEP_INCOMPLETE)
		return;
	s->status = s->cached ? BP_STEP_CACHED : BP_STEP_DONE;
	if (!isnan(t) && !isnan(p->step_t) && t >= p->step_t)
		s->duration_s = t - p->step_t;
}

/* Takes cmd out of the announced cache hits; returns whether it was there. */
static int take_cached(struct bp_parser *p, const char *cmd)
{
	size_t i;

	for (i = 0; i < p->ncached; i++) {
		if (!strcmp(p->cached[i], cmd)) {
			free(p->cached[i]);
			p->cached[i] = p->cached[--p->ncached];
			return 1;
		}
	}
	return 0;
}

/* A message that is a Dockerfile command kaniko is executing: its
 * instruction, upper case as kaniko prints it ("Cmd: /bin/sh" is not one). */
static const char *command_of(const char *msg)
{
	const char *instr = collector_instruction(msg);
	size_t len;

	if (!instr || strcmp(instr, "FROM") == 0)
		return NULL;
	len = strlen(instr);
	if (strncmp(msg, instr, len) || (msg[len] != ' ' && msg[len] != '\0'))
		return NULL;
	return instr;
}

static void start_step(struct bp_parser *p, const char *msg, const char *instr, double t)
{
	struct bp_step *s;
	char buf[32];

	close_step(p, t);
	p->active = 1;
	s = bp_build_add_step(&p->b);
	p->cur = (long)p->b.nsteps - 1;
	p->step_t = t;
	s->vertex = (int)p->b.nsteps;
	s->index = (int)p->b.nsteps; /* kaniko does not number its commands */
	s->text = xstrdup(msg);
	s->instruction = xstrdup(instr);
	s->kind = BP_KIND_STEP;
	s->cached = take_cached(p, msg);
	if (p->stage_idx > 0) {
		snprintf(buf, sizeof(buf), "stage-%d", p->stage_idx);
		s->stage = xstrdup(buf);
	}
	if (!isnan(t) && !isnan(p->first_t))
		s->start_s = t - p->first_t;
}

static void fail(struct bp_parser *p, const char *msg)
{
	struct bp_step *s = current(p);

	collector_mark_failed(&p->b, s && s->status == BP_STEP_INCOMPLETE ? s : NULL, msg);
	p->active = 1;
}

static void message(struct bp_parser *p, const char *msg, double t, int level)
{
	const char *instr;

	if (!isnan(t)) {
		if (isnan(p->first_t))
			p->first_t = t;
		p->last_t = t;
	}
	if (!strncmp(msg, "Using caching version of cmd: ", 30)) {
		BP_GROW(p->cached, p->ncached + 1, p->alloc_cached);
		p->cached[p->ncached++] = xstrdup(msg + 30);
		p->active = 1;
	} else if (!strncmp(msg, "Building stage '", 16)) {
		const char *q = strchr(msg + 16, '\'');
		const char *idx = strstr(msg, "[idx: '");
		close_step(p, t);
		p->cur = -1;
		if (q) {
			free(p->b.base_image);
			p->b.base_image = xstrndup(msg + 16, (size_t)(q - (msg + 16)));
		}
		p->stage_idx = idx ? atoi(idx + 7) : p->stage_idx + 1;
		p->active = 1;
	} else if ((instr = command_of(msg))) {
		start_step(p, msg, instr, t);
	} else if (!strncmp(msg, "Pushing image to ", 17)) {
		close_step(p, t);
		if (!p->b.image_ref)
			p->b.image_ref = xstrndup(msg + 17, strcspn(msg + 17, " "));
	} else if (!strncmp(msg, "Pushed ", 7)) {
		const char *ref = msg + 7, *at = strchr(ref, '@');
		close_step(p, t);
		free(p->b.image_ref);
		p->b.image_ref = xstrndup(ref, at ? (size_t)(at - ref) : strcspn(ref, " "));
		if (at) {
			free(p->b.image_id);
			p->b.image_id = xstrndup(at + 1, strcspn(at + 1, " "));
		}
		p->pushed = 1;
	} else if (!strncmp(msg, "Skipping push", 13)) {
		close_step(p, t);
		p->pushed = 1;
	} else if (level == 2 || level == 5 || level == 6 || !strncmp(msg, "error building image", 20)) {
		fail(p, msg);
	}
}

static int kaniko_line(struct bp_parser *p, const struct bp_line *line, struct bp_error *err)
{
	const char *msg;
	double t = NAN;
	int level = 0;
	char *clean;

	msg = logrus_message(line->text, &t, &level);
	if (msg) {
		p->prefixed = 1;
		p->active = 1; /* any kaniko message belongs to a build, even a lone one */
	} else if (p->prefixed) {
		struct bp_step *s = current(p);
		/* the executor's last words may come without a prefix */
		if (!strncmp(line->text, "error building image", 20)) {
			fail(p, line->text);
			return 0;
		}
		if (s && line->len)
			s->output_lines++;
		return 0;
	} else {
		msg = line->text; /* a wrapper dropped the prefixes: no clock */
	}
	clean = clean_message(msg);
	message(p, clean, t, level);
	free(clean);
	return 0;
}

static int kaniko_finish(struct bp_parser *p, struct bp_error *err)
{
	int r;

	size_t i;

	if (!p->active)
		return 0;
	if (p->pushed)
		close_step(p, p->last_t);
	/* cache hits announced for commands the log stops before: still steps */
	for (i = 0; i < p->ncached; i++) {
		const char *instr = command_of(p->cached[i]);
		struct bp_step *s = bp_build_add_step(&p->b);
		s->vertex = s->index = (int)p->b.nsteps;
		s->text = xstrdup(p->cached[i]);
		s->instruction = xstrdup_or_null(instr);
		s->kind = BP_KIND_STEP;
		s->cached = 1;
	}
	if (p->b.status != BP_BUILD_FAILED)
		p->b.status = p->pushed ? BP_BUILD_SUCCESS : BP_BUILD_INCOMPLETE;
	p->b.format = xstrdup("kaniko");
	if (!isnan(p->first_t) && p->last_t >= p->first_t)
		p->b.wall_s = p->last_t - p->first_t;
	r = p->sink->build(p->sink->ctx, &p->b, err);
	reset(p);
	return r;
}

static int kaniko_detect(const struct bp_line *lines, size_t n)
{
	static const char *const marks[] = {
		"Retrieving image manifest ", "Checking for cached layer ", "Using caching version of cmd: ",
		"No cached layer found for cmd ", "Taking snapshot of ", "Unpacking rootfs as cmd ",
		"Executing 0 build triggers", "Built cross stage deps: ", "Resolved base name ",
		"Pushing layer ", "Found cached layer, extracting",
	};
	int score = 0;
	size_t i, k;

	for (i = 0; i < n; i++) {
		double t;
		int level;
		const char *msg = logrus_message(lines[i].text, &t, &level);
		if (!msg)
			msg = lines[i].text;
		for (k = 0; k < BP_ARRAY_SIZE(marks); k++)
			if (msg[0] == marks[k][0] && !strncmp(msg, marks[k], strlen(marks[k])))
				score += 3;
	}
	return score;
}

const struct bp_format collector_kaniko_format = {
	.name = "kaniko",
	.description = "kaniko executor logs",
	.detect = kaniko_detect,
	.parser_new = kaniko_new,
	.parser_line = kaniko_line,
	.parser_finish = kaniko_finish,
	.parser_free = kaniko_free,
};
