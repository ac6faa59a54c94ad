/*
 * timeline.c - where the time of a build really goes when BuildKit runs
 * stages in parallel: each vertex's exclusive time (when nothing else ran),
 * the critical path, and the parallelism (busy time / wall time). Needs
 * start times: measured per vertex (rawjson) or from line arrival times
 * (`buildprof run`, CI wrappers). A plain BuildKit log without a clock
 * still has each vertex's duration and the order in which it printed the
 * vertices' starts and ends: the earliest schedule consistent with that
 * order is used, and marked estimated. With neither, all is unknown.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "buildprof/analyzer.h"

/* Two vertices count as one after the other when the gap is below this:
 * line times and rounded durations are not exact. */
#define CHAIN_SLACK_S 0.05

struct interval {
	double start, end;
	size_t step;
};

struct edge {
	double t;
	int open;   /* 1 at a start, 0 at an end */
	size_t step;
};

static int cmp_edge(const void *a, const void *b)
{
	const struct edge *x = a, *y = b;

	if (x->t != y->t)
		return x->t < y->t ? -1 : 1;
	return x->open - y->open; /* ends before starts at the same instant */
}

struct event {
	long line;
	int end;    /* 0 at the vertex's first line, 1 at its DONE / CACHED line */
	size_t step;
};

static int cmp_event(const void *a, const void *b)
{
	const struct event *x = a, *y = b;

	if (x->line != y->line)
		return x->line < y->line ? -1 : 1;
	return x->end - y->end;
}

/* Start times from log order: a vertex started no earlier than every event
 * the log printed before its first line, and the log prints in time order,
 * so each starts when the last event before it happened and ends its
 * duration later. Fills start[] (NAN where unknown); returns how many. */
static size_t estimate_starts(const struct bp_build *b, double *start)
{
	struct event *ev = xcalloc(2 * (b->nsteps ? b->nsteps : 1), sizeof(*ev));
	size_t i, n = 0, timed = 0;
	double clock = 0;

	for (i = 0; i < b->nsteps; i++) {
		const struct bp_step *s = &b->steps[i];
		start[i] = NAN;
		if (s->first_line <= 0 || s->end_line < s->first_line || (isnan(s->duration_s) && !s->cached))
			continue;
		ev[n++] = (struct event){ s->first_line, 0, i };
		ev[n++] = (struct event){ s->end_line, 1, i };
	}
	bp_sort(ev, n, sizeof(*ev), cmp_event);
	for (i = 0; i < n; i++) {
		const struct bp_step *s = &b->steps[ev[i].step];
		if (!ev[i].end) {
			start[ev[i].step] = clock;
			timed++;
		} else if (start[ev[i].step] + (s->cached ? 0 : s->duration_s) > clock) {
			clock = start[ev[i].step] + (s->cached ? 0 : s->duration_s);
		}
	}
	free(ev);
	return timed;
}

void analyzer_timeline(const struct bp_build *b, struct analyzer_timeline *t)
{
	double *estimated = NULL;
	struct interval *iv;
	struct edge *edges;
	size_t n = 0, i, k, active = 0, last = 0;
	double t0 = INFINITY, t1 = -INFINITY, prev_t = 0;

	memset(t, 0, sizeof(*t));
	t->wall_s = t->busy_s = t->parallelism = t->critical_path_s = NAN;
	t->n = b->nsteps;
	t->exclusive_s = xcalloc(b->nsteps ? b->nsteps : 1, sizeof(*t->exclusive_s));
	t->start_s = xcalloc(b->nsteps ? b->nsteps : 1, sizeof(*t->start_s));
	t->critical = xcalloc(b->nsteps ? b->nsteps : 1, 1);
	for (i = 0; i < b->nsteps; i++)
		t->exclusive_s[i] = t->start_s[i] = NAN;
	iv = xcalloc(b->nsteps ? b->nsteps : 1, sizeof(*iv));
	for (i = 0; i < b->nsteps && isnan(b->steps[i].start_s); i++)
		;
	if (i == b->nsteps) { /* no clock at all: from log order, if the log has it */
		estimated = xcalloc(b->nsteps ? b->nsteps : 1, sizeof(*estimated));
		if (!estimate_starts(b, estimated)) {
			free(estimated);
			estimated = NULL;
		}
	}
	for (i = 0; i < b->nsteps; i++) {
		const struct bp_step *s = &b->steps[i];
		double d = isnan(s->duration_s) && s->cached ? 0 : s->duration_s;
		double start = estimated ? estimated[i] : s->start_s;
		if (isnan(start) || isnan(d) || d < 0)
			continue;
		iv[n].start = t->start_s[i] = start;
		iv[n].end = start + d;
		iv[n].step = i;
		if (iv[n].start < t0)
			t0 = iv[n].start;
		if (iv[n].end > t1)
			t1 = iv[n].end;
		n++;
	}
	t->estimated = estimated != NULL;
	free(estimated);
	if (!n || t1 <= t0) {
		t->estimated = 0;
		free(iv);
		return;
	}
	t->known = 1;
	t->measured = !t->estimated && b->format && !strcmp(b->format, "rawjson");
	t->wall_s = !isnan(b->wall_s) && b->wall_s >= t1 - t0 ? b->wall_s : t1 - t0;
	t->busy_s = 0;
	for (i = 0; i < n; i++) {
		t->busy_s += iv[i].end - iv[i].start;
		t->exclusive_s[iv[i].step] = 0;
	}
	t->parallelism = t->busy_s / t->wall_s;

	/* exclusive time: sweep the edges, crediting stretches where one runs alone */
	/* (instants - cached or 0.0 s vertices - run alone for no time) */
	edges = xcalloc(2 * n, sizeof(*edges));
	for (i = 0, k = 0; i < n; i++) {
		if (iv[i].end <= iv[i].start)
			continue;
		edges[k++] = (struct edge){ iv[i].start, 1, i };
		edges[k++] = (struct edge){ iv[i].end, 0, i };
	}
	bp_sort(edges, k, sizeof(*edges), cmp_edge);
	{
		unsigned char *on = xcalloc(n, 1);
		size_t nedges = k;
		for (k = 0; k < nedges; k++) {
			if (active == 1 && edges[k].t > prev_t)
				for (i = 0; i < n; i++)
					if (on[i]) {
						t->exclusive_s[iv[i].step] += edges[k].t - prev_t;
						break;
					}
			on[edges[k].step] = (unsigned char)edges[k].open;
			active += edges[k].open ? 1 : (size_t)-1;
			prev_t = edges[k].t;
		}
		free(on);
	}
	free(edges);

	/* critical path: from the vertex that ended last, step back each time to
	 * the vertex that ended last before this one started */
	for (i = 1; i < n; i++)
		if (iv[i].end > iv[last].end)
			last = i;
	t->critical_path_s = 0;
	for (;;) {
		size_t best = n;
		t->critical[iv[last].step] = 1;
		t->critical_path_s += iv[last].end - iv[last].start;
		for (i = 0; i < n; i++)
			if (!t->critical[iv[i].step] && iv[i].end <= iv[last].start + CHAIN_SLACK_S &&
			    (best == n || iv[i].end > iv[best].end))
				best = i;
		if (best == n)
			break;
		last = best;
	}
	free(iv);
}

void analyzer_timeline_release(struct analyzer_timeline *t)
{
	free(t->exclusive_s);
	free(t->start_s);
	free(t->critical);
	memset(t, 0, sizeof(*t));
}

void analyzer_pipeline_timeline(const struct bp_pipeline *p, struct analyzer_timeline *t)
{
	struct bp_build b;
	double t0 = NAN;
	size_t i;

	/* jobs as vertices: the analysis is the same, only the clock is absolute */
	for (i = 0; i < p->njobs; i++)
		if (!isnan(p->jobs[i].started_at) && (isnan(t0) || p->jobs[i].started_at < t0))
			t0 = p->jobs[i].started_at;
	bp_build_init(&b);
	b.format = "ci"; /* borrowed, not freed below */
	for (i = 0; i < p->njobs; i++) {
		struct bp_step *s = bp_build_add_step(&b);
		s->kind = BP_KIND_STEP;
		s->start_s = isnan(t0) ? NAN : p->jobs[i].started_at - t0;
		s->duration_s = p->jobs[i].duration_s;
	}
	analyzer_timeline(&b, t);
	t->measured = 1;
	b.format = NULL;
	bp_build_release(&b);
}

static int same_or_both_null(const char *a, const char *b)
{
	return a == b || (a && b && !strcmp(a, b));
}

int analyzer_job_retries(const struct bp_pipeline *p, size_t i)
{
	const struct bp_job *j = &p->jobs[i];
	size_t k;
	int others = 0;

	for (k = 0; k < p->njobs; k++)
		if (k != i && same_or_both_null(p->jobs[k].name, j->name) &&
		    same_or_both_null(p->jobs[k].stage, j->stage))
			others++;
	return others > j->attempt - 1 ? others : j->attempt - 1;
}
