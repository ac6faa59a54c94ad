/*
 * compare.c - before/after with honest statistics (DESIGN.md, Metrics):
 * per side the median build time and its 95% interval, the ratio of
 * medians, a Mann-Whitney U test at alpha 0.05, and per-step medians paired
 * by (stage, instruction text) with their geometric mean. Small samples
 * are said to be small instead of being dressed up.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buildprof/analyzer.h"

void analyzer_compare_init(struct analyzer_compare *c)
{
	memset(c, 0, sizeof(*c));
}

void analyzer_compare_add(struct analyzer_compare *c, int side, const struct bp_build *b)
{
	struct analyzer_side *s = &c->side[side];
	struct analyzer_build_stats stats;
	size_t i;

	analyzer_build_stats(b, &stats);
	BP_GROW(s->wall, s->n + 1, s->alloc);
	s->steps_s = xreallocarray(s->steps_s, s->alloc, sizeof(*s->steps_s));
	s->wall[s->n] = b->wall_s;
	s->steps_s[s->n] = stats.step_seconds;
	s->n++;
	s->steps_total += stats.steps_total;
	s->steps_cached += stats.steps_cached;
	if (b->image_size >= 0) {
		BP_GROW(s->image_size, s->nsizes + 1, s->alloc_sizes);
		s->image_size[s->nsizes++] = (double)b->image_size;
	}
	for (i = 0; i < b->nsteps; i++) {
		const struct bp_step *st = &b->steps[i];
		struct analyzer_step_series *r;
		if (st->kind != BP_KIND_STEP)
			continue;
		r = analyzer_history_series(&s->steps, st->stage, st->text);
		r->runs++;
		if (!isnan(st->duration_s))
			analyzer_series_add(r, st->duration_s);
	}
}

void analyzer_compare_side_done(struct analyzer_compare *c, int side)
{
	analyzer_history_sort(&c->side[side].steps);
}

static const struct analyzer_step_series *find(const struct analyzer_side *s,
					       const struct analyzer_step_series *like)
{
	return analyzer_history_find(&s->steps, like->stage, like->text);
}

static void fill_row(struct analyzer_compare_row *r, const struct analyzer_step_series *before,
		     const struct analyzer_step_series *after)
{
	r->before = before;
	r->after = after;
	/* both sides' series were sorted before the first row */
	r->before_median_s = before ? analyzer_quantile_sorted(before->v, before->n, 0.5) : NAN;
	r->after_median_s = after ? analyzer_quantile_sorted(after->v, after->n, 0.5) : NAN;
	r->speedup = r->after_median_s > 0 ? r->before_median_s / r->after_median_s : NAN;
	r->lo[0] = r->hi[0] = r->lo[1] = r->hi[1] = NAN;
	if (before)
		analyzer_median_ci_sorted(before->v, before->n, &r->lo[0], &r->hi[0]);
	if (after)
		analyzer_median_ci_sorted(after->v, after->n, &r->lo[1], &r->hi[1]);
	r->p_value = before && after ? analyzer_mann_whitney_sorted(before->v, before->n, after->v, after->n)
				     : NAN;
	r->significant = !isnan(r->p_value) && r->p_value < 0.05;
}

/* For each series of side, the other side's series of the same step, or
 * NULL (a new array); *npaired counts those found. */
static const struct analyzer_step_series **pair(const struct analyzer_compare *c, int side, size_t *npaired)
{
	const struct analyzer_history *h = &c->side[side].steps;
	const struct analyzer_step_series **other = xcalloc(h->nseries + 1, sizeof(*other));
	size_t i;

	*npaired = 0;
	for (i = 0; i < h->nseries; i++) {
		other[i] = find(&c->side[!side], &h->series[i]);
		*npaired += other[i] != NULL;
	}
	return other;
}

void analyzer_compare_rows_begin(struct analyzer_compare *c)
{
	/* room for every series of both sides, the most there can be: pages
	 * past the rows made are never touched, so never cost memory */
	c->alloc_rows = c->side[0].steps.nseries + c->side[1].steps.nseries;
	c->rows = xreallocarray(c->rows, c->alloc_rows + 1, sizeof(*c->rows));
	c->nrows = 0;
}

/* BEFORE's rows, one per series: the paired ones, then the removed ones,
 * each in BEFORE's order. Counted before any is made. */
static void rows_before(struct analyzer_compare *c)
{
	const struct analyzer_history *h = &c->side[0].steps;
	const struct analyzer_step_series **other = pair(c, 0, &c->npaired);
	size_t i, paired = 0, removed = c->npaired;

	for (i = 0; i < h->nseries; i++)
		fill_row(other[i] ? &c->rows[paired++] : &c->rows[removed++], &h->series[i], other[i]);
	free(other);
}

/* AFTER's rows: one per series BEFORE lacks (added), after BEFORE's rows. */
static void rows_after(struct analyzer_compare *c)
{
	const struct analyzer_history *h = &c->side[1].steps;
	struct analyzer_compare_row *r = c->rows + c->side[0].steps.nseries;
	size_t i, npaired;
	const struct analyzer_step_series **other = pair(c, 1, &npaired);

	for (i = 0; i < h->nseries; i++)
		if (!other[i])
			fill_row(r++, NULL, &h->series[i]);
	c->nadded = h->nseries - npaired;
	free(other);
}

void analyzer_compare_rows(struct analyzer_compare *c, int side)
{
	if (side)
		rows_after(c);
	else
		rows_before(c);
	c->rows_made[side] = 1;
}

/* The known values of a metric column, in a new array. */
static double *known(const double *v, size_t n, size_t *out)
{
	double *k = xcalloc(n ? n : 1, sizeof(*k));
	size_t i;

	*out = 0;
	for (i = 0; i < n; i++)
		if (!isnan(v[i]))
			k[(*out)++] = v[i];
	return k;
}

static void warn(struct analyzer_compare *c, const char *msg)
{
	if (c->nwarnings < 3)
		snprintf(c->warnings[c->nwarnings++], sizeof(c->warnings[0]), "%s", msg);
}

void analyzer_compare_finish(struct analyzer_compare *c)
{
	double *v[2];
	size_t i, all_wall = 1, nlog = 0;
	double logsum = 0;
	int k;

	/* the wall clock when every build has one, else the time spent in steps */
	for (k = 0; k < 2; k++)
		for (i = 0; i < c->side[k].n; i++)
			all_wall &= !isnan(c->side[k].wall[i]);
	c->metric = all_wall ? "wall_s" : "step_seconds";
	for (k = 0; k < 2; k++) {
		struct analyzer_side *s = &c->side[k];
		v[k] = known(all_wall ? s->wall : s->steps_s, s->n, &c->n[k]);
		analyzer_sort(v[k], c->n[k]);
		c->median[k] = analyzer_quantile_sorted(v[k], c->n[k], 0.5);
		c->lo[k] = c->hi[k] = NAN;
		analyzer_median_ci_sorted(v[k], c->n[k], &c->lo[k], &c->hi[k]);
		c->cache_rate[k] = s->steps_total ? (double)s->steps_cached / (double)s->steps_total : NAN;
		c->image_size[k] = analyzer_median(s->image_size, s->nsizes);
	}
	c->speedup = c->median[1] > 0 ? c->median[0] / c->median[1] : NAN;
	c->p_value = analyzer_mann_whitney_sorted(v[0], c->n[0], v[1], c->n[1]);
	c->significant = !isnan(c->p_value) && c->p_value < 0.05;
	if (c->n[0] == 1 && c->n[1] == 1)
		warn(c, "one build on each side: a plain ratio of single samples, no statistics");
	else if (c->n[0] < 4 || c->n[1] < 4)
		warn(c, "fewer than 4 builds on a side: no significance test is possible");
	if ((c->n[0] < 6 || c->n[1] < 6) && !(c->n[0] == 1 && c->n[1] == 1))
		warn(c, "fewer than 6 builds on a side: no finite 95% interval for its median");
	free(v[0]);
	free(v[1]);

	/* steps: paired by (stage, text), then removed ones, then added ones */
	analyzer_compare_side_done(c, 0); /* nothing left to do when the caller did it */
	analyzer_compare_side_done(c, 1);
	if (!c->rows_made[0] && !c->rows_made[1])
		analyzer_compare_rows_begin(c);
	for (k = 0; k < 2; k++)
		if (!c->rows_made[k])
			analyzer_compare_rows(c, k);
	c->nrows = c->side[0].steps.nseries + c->nadded;
	for (i = 0; i < c->npaired; i++) {
		const struct analyzer_compare_row *r = &c->rows[i];
		if (r->before_median_s > 0 && r->after_median_s > 0) {
			logsum += log(r->before_median_s / r->after_median_s);
			nlog++;
		}
	}
	c->geomean_speedup = nlog ? exp(logsum / (double)nlog) : NAN;
	c->ngeomean = nlog;
}

void analyzer_compare_release(struct analyzer_compare *c)
{
	int k;

	for (k = 0; k < 2; k++) {
		struct analyzer_side *s = &c->side[k];
		analyzer_history_release(&s->steps);
		free(s->wall);
		free(s->steps_s);
		free(s->image_size);
	}
	free(c->rows);
	memset(c, 0, sizeof(*c));
}
