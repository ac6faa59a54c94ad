/*
 * stats.c - per-build metrics (cache hit rates, step time, the failing step)
 * and the running summary over a selection of builds.
 */
#include <math.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "buildprof/analyzer.h"

static void add_known(double *sum, double v)
{
	if (isnan(v))
		return;
	*sum = isnan(*sum) ? v : *sum + v;
}

void analyzer_build_stats(const struct bp_build *b, struct analyzer_build_stats *out)
{
	size_t i;

	memset(out, 0, sizeof(*out));
	out->step_seconds = out->from_seconds = out->overhead_seconds = NAN;
	out->failed_step = -1;
	for (i = 0; i < b->nsteps; i++) {
		const struct bp_step *s = &b->steps[i];
		out->vertices++;
		out->vertices_cached += s->cached != 0;
		switch (s->kind) {
		case BP_KIND_STEP:
			out->steps_total++;
			out->steps_cached += s->cached != 0;
			if (!isnan(s->duration_s))
				out->steps_timed++;
			add_known(&out->step_seconds, s->duration_s);
			break;
		case BP_KIND_FROM:
			add_known(&out->from_seconds, s->duration_s);
			break;
		default:
			add_known(&out->overhead_seconds, s->duration_s);
		}
		/* The failing step: the first Dockerfile step that errored, else any vertex. */
		if (s->status == BP_STEP_ERROR &&
		    (out->failed_step < 0 ||
		     ((s->kind == BP_KIND_STEP || s->kind == BP_KIND_FROM) &&
		      b->steps[out->failed_step].kind != BP_KIND_STEP &&
		      b->steps[out->failed_step].kind != BP_KIND_FROM)))
			out->failed_step = (long)i;
	}
	out->cache_hit_rate = out->steps_total ? (double)out->steps_cached / out->steps_total : NAN;
	/* buildx's rate counts BuildKit's internal vertices too: other builders
	 * have no such number */
	if (!b->format || (strcmp(b->format, "buildkit") && strcmp(b->format, "rawjson")))
		out->vertex_cache_rate = NAN;
	else
		out->vertex_cache_rate = (double)out->vertices_cached / out->vertices;
}

size_t analyzer_slowest_steps(const struct bp_build *b, size_t *idx, size_t max)
{
	size_t n = 0, i, j;

	for (i = 0; i < b->nsteps; i++) {
		const struct bp_step *s = &b->steps[i];
		/* a step that took no measurable time is not "slow" */
		if ((s->kind != BP_KIND_STEP && s->kind != BP_KIND_FROM) || !(s->duration_s > 0))
			continue;
		/* insertion into the sorted top list; ties keep log order */
		for (j = n; j > 0 && b->steps[idx[j - 1]].duration_s < s->duration_s; j--)
			if (j < max)
				idx[j] = idx[j - 1];
		if (j < max) {
			idx[j] = i;
			if (n < max)
				n++;
		}
	}
	return n;
}

void analyzer_summary_init(struct analyzer_summary *sum, size_t top)
{
	memset(sum, 0, sizeof(*sum));
	sum->top = top;
	sum->cache_hit_rate = NAN;
	sum->step_seconds = NAN;
	sum->slowest = xcalloc(top ? top : 1, sizeof(*sum->slowest));
	analyzer_history_init(&sum->steps);
	analyzer_history_init(&sum->stages);
}

static void slow_release(struct analyzer_slow_step *r)
{
	free(r->build_name);
	free(r->stage);
	free(r->text);
}

/* The group of key, found by hash (a label with a value per build, a
 * commit say, makes as many groups as builds: comparing each build's key
 * with every group before it took 7.7 s over 40,000), or made. */
static struct analyzer_group *group_of(struct analyzer_summary *sum, const char *key)
{
	uint64_t hash = bp_hash_str(BP_HASH_INIT, key);
	long pos = bp_hash_index_find_key(&sum->group_index, hash, key, sum->groups, sizeof(*sum->groups),
					  offsetof(struct analyzer_group, key));
	struct analyzer_group *g;

	if (pos >= 0)
		return &sum->groups[pos];
	BP_GROW(sum->groups, sum->ngroups + 1, sum->alloc_groups);
	g = memset(&sum->groups[sum->ngroups++], 0, sizeof(*g));
	g->key = xstrdup(key);
	bp_hash_index_add(&sum->group_index, sum->ngroups - 1, hash, sum->ngroups);
	return g;
}

static void group_add(struct analyzer_summary *sum, const struct bp_build *b,
		      const struct analyzer_build_stats *stats)
{
	const char *key = !strcmp(sum->group_by, "base") ? b->base_image
			  : bp_build_label(b, sum->group_by + 6);
	struct analyzer_group *g = group_of(sum, key ? key : "(unknown)");
	double t = !isnan(b->wall_s) ? b->wall_s : stats->step_seconds;

	g->n++;
	if (!isnan(t)) {
		BP_GROW(g->time, g->ntime + 1, g->alloc_time);
		g->time[g->ntime++] = t;
	}
	g->steps_total += stats->steps_total;
	g->steps_cached += stats->steps_cached;
	if (b->image_size >= 0) {
		BP_GROW(g->sizes, g->nsizes + 1, g->alloc_sizes);
		g->sizes[g->nsizes++] = (double)b->image_size;
	}
}

/* Every timed step, and each stage's total, for medians over the selection. */
static void typical_add(struct analyzer_summary *sum, const struct bp_build *b)
{
	size_t i, j;

	for (i = 0; i < b->nsteps; i++) {
		const struct bp_step *s = &b->steps[i];
		double total = 0;
		int first = 1, any = 0;
		if (s->kind != BP_KIND_STEP || isnan(s->duration_s))
			continue;
		analyzer_history_add(&sum->steps, s->stage, s->text, s->duration_s);
		/* the stage's total, counted once: at its first timed step */
		for (j = 0; j < b->nsteps; j++) {
			const struct bp_step *t = &b->steps[j];
			int same_stage = (!t->stage && !s->stage) || (t->stage && s->stage && !strcmp(t->stage, s->stage));
			if (t->kind != BP_KIND_STEP || isnan(t->duration_s) || !same_stage)
				continue;
			if (j < i)
				first = 0;
			total += t->duration_s;
			any = 1;
		}
		if (first && any)
			analyzer_history_add(&sum->stages, s->stage ? s->stage : "(unnamed)", NULL, total);
	}
}

static int cmp_typical(const void *a, const void *b)
{
	double x = ((const struct analyzer_typical *)a)->median_s, y = ((const struct analyzer_typical *)b)->median_s;

	return x > y ? -1 : x < y;
}

struct analyzer_typical *analyzer_typical_top(struct analyzer_history *h, size_t top, size_t *n)
{
	struct analyzer_typical *t = xcalloc(h->nseries ? h->nseries : 1, sizeof(*t));
	size_t i;

	analyzer_history_sort(h);
	for (i = 0; i < h->nseries; i++) {
		t[i].series = &h->series[i];
		t[i].median_s = analyzer_series_quantile(&h->series[i], 0.5);
		t[i].p95_s = analyzer_series_quantile(&h->series[i], 0.95);
	}
	qsort(t, h->nseries, sizeof(*t), cmp_typical);
	*n = h->nseries < top ? h->nseries : top;
	return t;
}

void analyzer_summary_add(struct analyzer_summary *sum, const struct bp_build *b,
			  const struct analyzer_build_stats *stats)
{
	size_t i, j;

	sum->builds++;
	sum->by_status[b->status]++;
	sum->steps_total += stats->steps_total;
	sum->steps_cached += stats->steps_cached;
	sum->cache_hit_rate = sum->steps_total ? (double)sum->steps_cached / sum->steps_total : NAN;
	add_known(&sum->step_seconds, stats->step_seconds);
	if (sum->group_by)
		group_add(sum, b, stats);
	typical_add(sum, b);
	for (i = 0; i < b->nsteps; i++) {
		const struct bp_step *s = &b->steps[i];
		struct analyzer_slow_step row;
		if (s->kind != BP_KIND_STEP || !(s->duration_s > 0) || !sum->top)
			continue;
		if (sum->nslowest == sum->top &&
		    sum->slowest[sum->nslowest - 1].duration_s >= s->duration_s)
			continue;
		if (sum->nslowest == sum->top)
			slow_release(&sum->slowest[--sum->nslowest]);
		for (j = sum->nslowest; j > 0 && sum->slowest[j - 1].duration_s < s->duration_s; j--)
			sum->slowest[j] = sum->slowest[j - 1];
		row.build_id = b->id;
		row.build_name = xstrdup_or_null(b->name);
		row.stage = xstrdup_or_null(s->stage);
		row.index = s->index;
		row.count = s->count;
		row.text = xstrdup_or_null(s->text);
		row.duration_s = s->duration_s;
		sum->slowest[j] = row;
		sum->nslowest++;
	}
}

void analyzer_summary_release(struct analyzer_summary *sum)
{
	size_t i;

	for (i = 0; i < sum->nslowest; i++)
		slow_release(&sum->slowest[i]);
	for (i = 0; i < sum->ngroups; i++) {
		free(sum->groups[i].key);
		free(sum->groups[i].time);
		free(sum->groups[i].sizes);
	}
	free(sum->groups);
	bp_hash_index_release(&sum->group_index);
	free(sum->group_by);
	free(sum->typical_steps);
	free(sum->typical_stages);
	analyzer_history_release(&sum->steps);
	analyzer_history_release(&sum->stages);
	free(sum->slowest);
	memset(sum, 0, sizeof(*sum));
}

int analyzer_summary_group_by(struct analyzer_summary *sum, const char *spec)
{
	if (strcmp(spec, "base") && (strncmp(spec, "label:", 6) || !spec[6]))
		return -1;
	free(sum->group_by);
	sum->group_by = xstrdup(spec);
	return 0;
}

void analyzer_summary_finish(struct analyzer_summary *sum)
{
	size_t i;

	free(sum->typical_steps);
	free(sum->typical_stages);
	sum->typical_steps = analyzer_typical_top(&sum->steps, sum->top, &sum->ntypical_steps);
	sum->typical_stages = analyzer_typical_top(&sum->stages, sum->top, &sum->ntypical_stages);
	for (i = 0; i < sum->ngroups; i++) {
		struct analyzer_group *g = &sum->groups[i];
		g->median_s = analyzer_median(g->time, g->ntime);
		g->cache_hit_rate = g->steps_total ? (double)g->steps_cached / (double)g->steps_total : NAN;
		g->image_size = analyzer_median(g->sizes, g->nsizes);
	}
}
