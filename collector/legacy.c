/*
 * legacy.c - parser for the classic docker builder (DOCKER_BUILDKIT=0,
 * docker-compose v1): "Step i/n : INSTR", " ---> Using cache",
 * " ---> Running in", "Successfully built". The log carries no durations;
 * when a CI wrapper timestamped each line, a step lasts from its "Step" line
 * to the next one. See ../shared/corpus/FORMAT-NOTES.md section 4.
 */
#include <ctype.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "buildprof/collector.h"
#include "stages.h"

struct bp_parser {
	const struct bp_sink *sink;
	struct bp_build b;
	int active;            /* b holds a build in progress */
	long cur;              /* index of the current step in b.steps, -1 none */
	int cur_terminal;      /* the current step got its " ---> <id>" */
	int running;           /* the current step runs a container ("Running in") */
	int succeeded;         /* "Successfully built" seen */
	struct stage_tracker stages;
	double first_ts, last_ts, step_ts;
};

static struct bp_parser *legacy_new(const struct bp_sink *sink)
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
	p->active = p->cur_terminal = p->running = p->succeeded = 0;
	p->cur = -1;
	p->first_ts = p->last_ts = p->step_ts = NAN;
}

static void legacy_free(struct bp_parser *p)
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

/* Ends the current step at time ts (NAN when the log has no clock). */
static void close_step(struct bp_parser *p, double ts)
{
	struct bp_step *s = current(p);

	if (!s)
		return;
	if (s->status == BP_STEP_INCOMPLETE && p->cur_terminal)
		s->status = s->cached ? BP_STEP_CACHED : BP_STEP_DONE;
	if (!isnan(ts) && !isnan(p->step_ts) && ts >= p->step_ts && s->status != BP_STEP_INCOMPLETE)
		s->duration_s = ts - p->step_ts;
}

static int emit(struct bp_parser *p, struct bp_error *err)
{
	struct bp_step *s;
	int r;

	if (!p->active)
		return 0;
	close_step(p, p->last_ts);
	s = current(p);
	if (p->b.status != BP_BUILD_FAILED) {
		if (p->succeeded)
			p->b.status = BP_BUILD_SUCCESS;
		else if (s && s->status != BP_STEP_INCOMPLETE && s->index == s->count && s->count)
			p->b.status = BP_BUILD_SUCCESS;
		else
			p->b.status = BP_BUILD_INCOMPLETE;
	}
	p->b.format = xstrdup("legacy");
	p->b.started_at = p->first_ts;
	if (!isnan(p->first_ts) && p->last_ts >= p->first_ts)
		p->b.wall_s = p->last_ts - p->first_ts;
	p->b.base_image = xstrdup_or_null(stage_tracker_final_base(&p->stages));
	r = p->sink->build(p->sink->ctx, &p->b, err);
	reset(p);
	return r;
}

/* "Step 3/9 : RUN make" (or "Step 3 : ..." from old engines). */
static int step_line(struct bp_parser *p, const struct bp_line *line, struct bp_error *err)
{
	const char *s = line->text + 5, *colon;
	char *end;
	long i, n = 0;
	struct bp_step *st;

	i = strtol(s, &end, 10);
	if (end == s || i < 0 || i > 100000)
		return 0;
	if (*end == '/') {
		const char *ns = end + 1;
		n = strtol(ns, &end, 10);
		if (end == ns || n < 0 || n > 100000)
			return 0;
	}
	if (strncmp(end, " : ", 3))
		return 0;
	colon = end + 3;
	if (i == 1 && p->active && p->b.nsteps)
		if (emit(p, err))
			return -1;
	close_step(p, line->ts);
	p->active = 1;
	st = bp_build_add_step(&p->b);
	p->cur = (long)p->b.nsteps - 1;
	p->cur_terminal = p->running = 0;
	p->step_ts = line->ts;
	st->vertex = (int)i;
	st->index = (int)i;
	st->count = (int)n;
	st->text = xstrdup(colon);
	{
		const char *instr = collector_instruction(colon);
		st->instruction = instr ? xstrdup(instr) : NULL;
		st->kind = instr && !strcmp(instr, "FROM") ? BP_KIND_FROM : BP_KIND_STEP;
	}
	if (st->kind == BP_KIND_FROM)
		stage_tracker_from(&p->stages, -1, colon);
	st->stage = xstrdup_or_null(stage_tracker_name(&p->stages, -1));
	if (!isnan(line->ts) && !isnan(p->first_ts))
		st->start_s = line->ts - p->first_ts;
	return 0;
}

static void fail(struct bp_parser *p, const char *msg)
{
	collector_mark_failed(&p->b, p->cur_terminal ? NULL : current(p), msg);
	p->active = 1;
}

static int starts_with_error(const char *s)
{
	static const char *const prefixes[] = {
		"COPY failed:", "ADD failed:", "Error response from daemon:", "error building",
		"failed to ", "unable to prepare context:", "Error: ",
	};
	size_t i;

	for (i = 0; i < BP_ARRAY_SIZE(prefixes); i++)
		if (!strncmp(s, prefixes[i], strlen(prefixes[i])))
			return 1;
	return 0;
}

static int legacy_line(struct bp_parser *p, const struct bp_line *line, struct bp_error *err)
{
	const char *s = line->text;
	const char *cmd;
	struct bp_step *st;

	if (!isnan(line->ts)) {
		if (isnan(p->first_ts))
			p->first_ts = line->ts;
		p->last_ts = line->ts;
	}
	if (!strncmp(s, "Step ", 5) && isdigit((unsigned char)s[5]))
		return step_line(p, line, err);
	st = current(p);
	if (!strncmp(s, " ---> ", 6) || !strcmp(s, " --->")) {
		const char *what = s[5] ? s + 6 : "";
		if (!strcmp(what, "Using cache")) {
			if (st) {
				st->cached = 1;
				st->status = BP_STEP_CACHED;
			}
		} else if (!strncmp(what, "Running in ", 11)) {
			p->running = 1;
		} else if (!strncmp(what, "Removed intermediate container", 30) ||
			   !strncmp(what, "[Warning]", 9)) {
			/* bookkeeping, not a result */
		} else if (st) {
			p->cur_terminal = 1;
			p->running = 0;
			if (st->status == BP_STEP_INCOMPLETE)
				st->status = st->cached ? BP_STEP_CACHED : BP_STEP_DONE;
		}
		return 0;
	}
	if (!strncmp(s, "Successfully built ", 19)) {
		close_step(p, line->ts);
		p->succeeded = 1;
		p->active = 1;
		free(p->b.image_id);
		p->b.image_id = xstrndup(s + 19, strcspn(s + 19, " "));
		return 0;
	}
	if (!strncmp(s, "Successfully tagged ", 20)) {
		if (!p->b.image_ref)
			p->b.image_ref = xstrndup(s + 20, strcspn(s + 20, " "));
		return 0;
	}
	if (!strncmp(s, "Removing intermediate container", 31))
		return 0;
	if ((cmd = strstr(s, "The command '")) && strstr(cmd, "returned a non-zero code")) {
		fail(p, cmd);
		return 0;
	}
	if (starts_with_error(s) && st && !p->cur_terminal) {
		fail(p, s);
		return 0;
	}
	if (p->running && st)
		st->output_lines++;
	return 0;
}

static int legacy_finish(struct bp_parser *p, struct bp_error *err)
{
	return emit(p, err);
}

static int legacy_detect(const struct bp_line *lines, size_t n)
{
	int score = 0;
	size_t i;

	/* every mark starts with 'S' or ' ': other lines (all of another
	 * format's, asked of every log's head) cost one comparison */
	for (i = 0; i < n; i++) {
		const char *s = lines[i].text;
		if (s[0] != 'S' && s[0] != ' ')
			continue;
		if (!strncmp(s, "Step ", 5) && isdigit((unsigned char)s[5]) && strstr(s, " : "))
			score += 3;
		else if (!strncmp(s, " ---> ", 6))
			score += 1;
		else if (!strncmp(s, "Sending build context to Docker daemon", 38) ||
			 !strncmp(s, "Successfully built ", 19))
			score += 3;
	}
	return score;
}

const struct bp_format collector_legacy_format = {
	.name = "legacy",
	.description = "the classic docker builder (DOCKER_BUILDKIT=0, docker-compose v1)",
	.detect = legacy_detect,
	.parser_new = legacy_new,
	.parser_line = legacy_line,
	.parser_finish = legacy_finish,
	.parser_free = legacy_free,
};
