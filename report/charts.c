/*
 * charts.c - the chart kinds, each a picture that reads on its own: title,
 * axes with units, labelled bars, a legend. All drawing goes through
 * plot.h; these functions only decide what to show.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buildprof/plot.h"
#include "buildprof/report.h"

static const char *fmt_seconds(double v, char *buf, size_t size)
{
	return report_seconds(v, buf, size);
}

static const char *fmt_bytes(double v, char *buf, size_t size)
{
	return report_bytes((long long)v, buf, size);
}

static const char *fmt_percent(double v, char *buf, size_t size)
{
	snprintf(buf, size, "%.0f%%", v);
	return buf;
}

int report_chart_steps(const struct plot_dest *dest, const struct analyzer_summary *sum,
		       struct bp_error *err)
{
	static const char *const names[] = { "median", "p95" };
	static const char *const colors[] = { "steelblue", "dark orange" };
	struct plot *p;
	const char **labels;
	char subtitle[128], v[32];
	double max = 0;
	size_t i, n = 0;

	/* steps that take no measurable time are no news on this chart */
	while (n < sum->ntypical_steps && sum->typical_steps[n].p95_s > 0)
		n++;
	if (!n)
		return bp_error_set(err, dest->path, 0, "the selected builds have no timed steps to chart");
	snprintf(subtitle, sizeof(subtitle), "%ld build%s; median of the runs that were timed, whisker to p95",
		 sum->builds, sum->builds == 1 ? "" : "s");
	if (!(p = plot_open(dest, "Slowest build steps", subtitle, err)))
		return -1;
	labels = xcalloc(n, sizeof(*labels));
	for (i = 0; i < n; i++) {
		const struct analyzer_typical *t = &sum->typical_steps[i];
		struct strbuf sb = STRBUF_INIT;
		if (t->series->stage)
			strbuf_addf(&sb, "[%s] ", t->series->stage);
		strbuf_addstr(&sb, t->series->text ? t->series->text : "");
		labels[i] = strbuf_detach(&sb, NULL);
		if (t->p95_s > max)
			max = t->p95_s;
	}
	plot_rows(p, n, labels);
	plot_x_axis(p, 0, max > 0 ? max * 1.15 : 1, "time per run", fmt_seconds);
	for (i = 0; i < n; i++) {
		const struct analyzer_typical *t = &sum->typical_steps[i];
		plot_bar(p, i, 0, t->median_s, colors[0], 0);
		if (t->p95_s > t->median_s)
			plot_whisker(p, i, t->median_s, t->p95_s, colors[1]);
		plot_row_text(p, i, t->p95_s > t->median_s ? t->p95_s : t->median_s,
			      report_seconds(t->median_s, v, sizeof(v)));
		free((char *)labels[i]);
	}
	free(labels);
	plot_legend(p, names, colors, 2);
	return plot_close(p, err);
}

int report_chart_timeline(const struct plot_dest *dest, const struct bp_build *b,
			  const struct analyzer_timeline *t, struct bp_error *err)
{
	static const char *const names[] = { "on the critical path", "other vertices" };
	static const char *const estimated_names[] = { "on the critical path (estimated)", "other vertices (estimated)" };
	/* estimated times are drawn in paler colours than times the log measured */
	const char *const *colors = t->estimated ? (const char *const[]){ "light coral", "light steel blue" }
						 : (const char *const[]){ "firebrick", "steelblue" };
	struct plot *p;
	const char **labels;
	size_t *rows, n = 0, i;
	char subtitle[200], a[32], c[32];

	if (!t->known)
		return bp_error_set(err, dest->path, 0, "build %ld has no start times and no durations in log order; "
						  "record builds with `buildprof run` or --progress=rawjson", b->id);
	rows = xcalloc(b->nsteps, sizeof(*rows));
	for (i = 0; i < b->nsteps; i++)
		if (!isnan(t->start_s[i]) && !isnan(t->exclusive_s[i]))
			rows[n++] = i;
	snprintf(subtitle, sizeof(subtitle), "build %ld (%s): critical path %s of %s busy, parallelism %.2fx, %s",
		 b->id, b->name ? b->name : "?", report_seconds(t->critical_path_s, a, sizeof(a)),
		 report_seconds(t->busy_s, c, sizeof(c)), t->parallelism,
		 t->measured ? "measured times" : t->estimated ? "estimated from log order" : "times from line arrival");
	if (!(p = plot_open(dest, "Build timeline", subtitle, err))) {
		free(rows);
		return -1;
	}
	labels = xcalloc(n ? n : 1, sizeof(*labels));
	for (i = 0; i < n; i++) {
		const struct bp_step *s = &b->steps[rows[i]];
		struct strbuf sb = STRBUF_INIT;
		report_step_label(&sb, s->stage, s->index, s->count, s->text);
		labels[i] = strbuf_detach(&sb, NULL);
	}
	plot_rows(p, n, labels);
	plot_x_axis(p, 0, t->wall_s, "time since the build started", fmt_seconds);
	for (i = 0; i < n; i++) {
		const struct bp_step *s = &b->steps[rows[i]];
		double d = isnan(s->duration_s) ? 0 : s->duration_s;
		plot_bar(p, i, t->start_s[rows[i]], t->start_s[rows[i]] + d, t->critical[rows[i]] ? colors[0] : colors[1],
			 s->cached);
		free((char *)labels[i]);
	}
	free(labels);
	free(rows);
	plot_legend(p, t->estimated ? estimated_names : names, colors, 2);
	return plot_close(p, err);
}

/* More points than this and a per-build chart is a smear: builds are
 * binned into BINS groups of consecutive builds instead. */
#define MAX_POINTS 200
#define BINS 100

/* Values per build, or per bin of `per` consecutive builds (the median or
 * the mean of the known values in it; NAN when none), labelled by the first
 * build's id. */
struct bins {
	long *id;
	double *v;
	size_t n, per;
};

static void bin_values(const long *ids, const double *v, size_t n, int median, struct bins *out)
{
	double *known = xcalloc(n ? n : 1, sizeof(*known));
	size_t b, i;

	out->per = n > MAX_POINTS ? (n + BINS - 1) / BINS : 1;
	out->n = (n + out->per - 1) / out->per;
	out->id = xcalloc(out->n ? out->n : 1, sizeof(*out->id));
	out->v = xcalloc(out->n ? out->n : 1, sizeof(*out->v));
	for (b = 0; b < out->n; b++) {
		size_t from = b * out->per, to = from + out->per < n ? from + out->per : n, k = 0;
		double sum = 0;
		for (i = from; i < to; i++)
			if (!isnan(v[i])) {
				known[k++] = v[i];
				sum += v[i];
			}
		out->id[b] = ids[from];
		out->v[b] = !k ? NAN : median ? analyzer_median(known, k) : sum / (double)k;
	}
	free(known);
}

/* The bins with a known value as points (x = bin number from 1, y = value
 * times scale) into new arrays; returns how many. */
static size_t bins_points(const struct bins *b, double scale, double **x, double **y)
{
	size_t i, m = 0;

	*x = xcalloc(b->n ? b->n : 1, sizeof(**x));
	*y = xcalloc(b->n ? b->n : 1, sizeof(**y));
	for (i = 0; i < b->n; i++) {
		if (isnan(b->v[i]))
			continue;
		(*x)[m] = (double)i + 1;
		(*y)[m] = b->v[i] * scale;
		m++;
	}
	return m;
}

static void bins_release(struct bins *b)
{
	free(b->id);
	free(b->v);
}

/* How the trend and cache charts name what they count. */
struct counted {
	const char *title, *one, *many, *order, *measure;
};
static const struct counted builds_counted = { "Build time", "build", "builds", "in the order stored",
					       "wall clock, else the sum of steps" };
static const struct counted pipelines_counted = { "Pipeline time", "pipeline", "pipelines", "in the order created",
						  "as the CI reports it" };

/* The x axis of a per-item (or per-bin) chart: at most 20 ids. */
static void build_axis(struct plot *p, const struct bins *b, const struct counted *c)
{
	char buf[32], label[96];
	size_t i, every = b->n > 20 ? (b->n + 19) / 20 : 1;

	if (b->per > 1)
		snprintf(label, sizeof(label), "%s, binned (first %s id of each bin)", c->many, c->one);
	else
		snprintf(label, sizeof(label), "%s (%s)", c->one, c->order);
	plot_x_axis(p, 0.5, (double)b->n + 0.5, label, NULL);
	for (i = 0; i < b->n; i += every) {
		snprintf(buf, sizeof(buf), "%ld", b->id[i]);
		plot_x_text(p, (double)i + 1, buf);
	}
}

int report_chart_cache(const struct plot_dest *dest, const long *ids, const double *rates, size_t n,
		       double pooled, struct bp_error *err)
{
	const char *names[] = { "per build", "pooled over all" };
	static const char *const colors[] = { "steelblue", "dark orange" };
	struct plot *p;
	struct bins b;
	double *x, *y, line_x[2], line_y[2];
	size_t i, m = 0;
	char subtitle[160], per[48];

	for (i = 0; i < n; i++)
		m += !isnan(rates[i]);
	if (!m)
		return bp_error_set(err, dest->path, 0, "the selected builds have no Dockerfile steps");
	bin_values(ids, rates, n, 0, &b);
	snprintf(subtitle, sizeof(subtitle), "%zu builds%s; pooled rate %.0f%% (cached steps / steps)", n,
		 b.per > 1 ? ", in bins of consecutive builds (mean rate per bin)" : "", pooled * 100);
	if (b.per > 1) {
		snprintf(per, sizeof(per), "per bin of %zu builds", b.per);
		names[0] = per;
	}
	if (!(p = plot_open(dest, "Layer cache hit rate", subtitle, err))) {
		bins_release(&b);
		return -1;
	}
	build_axis(p, &b, &builds_counted);
	plot_y_axis(p, 0, 100, "steps from the cache", fmt_percent);
	m = bins_points(&b, 100, &x, &y);
	plot_line(p, x, y, m, colors[0], 0);
	for (i = 0; i < m; i++)
		plot_point(p, x[i], y[i], colors[0]);
	line_x[0] = 0.5;
	line_x[1] = (double)b.n + 0.5;
	line_y[0] = line_y[1] = pooled * 100;
	plot_line(p, line_x, line_y, 2, colors[1], 1);
	free(x);
	free(y);
	bins_release(&b);
	plot_legend(p, names, colors, 2);
	return plot_close(p, err);
}

int report_chart_trend(const struct plot_dest *dest, const long *ids, const double *seconds, size_t n,
		       int pipelines, struct bp_error *err)
{
	const struct counted *c = pipelines ? &pipelines_counted : &builds_counted;
	char first[48];
	const char *names[] = { first, "rolling median of 5" };
	static const char *const colors[] = { "steelblue", "dark orange" };
	struct plot *p;
	struct bins b;
	double *x, *y, *mx, *my, max = 0;
	size_t i, m = 0;
	char subtitle[160], per[48];

	for (i = 0; i < n; i++)
		m += !isnan(seconds[i]);
	if (!m)
		return bp_error_set(err, dest->path, 0, "the selected %s have no known duration", c->many);
	snprintf(first, sizeof(first), "per %s", c->one);
	bin_values(ids, seconds, n, 1, &b);
	for (i = 0; i < b.n; i++)
		if (b.v[i] > max)
			max = b.v[i];
	snprintf(subtitle, sizeof(subtitle), "%zu %s, %zu with a known time (%s)%s%s", n, c->many, m, c->measure,
		 b.per > 1 ? "; median per bin of consecutive " : "", b.per > 1 ? c->many : "");
	if (b.per > 1) {
		snprintf(per, sizeof(per), "median of each %zu %s", b.per, c->many);
		names[0] = per;
	}
	if (!(p = plot_open(dest, c->title, subtitle, err))) {
		bins_release(&b);
		return -1;
	}
	build_axis(p, &b, c);
	plot_y_axis(p, 0, max > 0 ? max * 1.1 : 1, pipelines ? "pipeline time" : "build time", fmt_seconds);
	m = bins_points(&b, 1, &x, &y);
	mx = xcalloc(b.n ? b.n : 1, sizeof(*mx));
	my = xcalloc(b.n ? b.n : 1, sizeof(*my));
	/* the median of the last five known values at each point */
	for (i = 0; i < m; i++) {
		size_t from = i >= 4 ? i - 4 : 0;
		mx[i] = x[i];
		my[i] = analyzer_median(y + from, i - from + 1);
	}
	for (i = 0; i < m; i++)
		plot_point(p, x[i], y[i], colors[0]);
	plot_line(p, mx, my, m, colors[1], 0);
	free(x);
	free(y);
	free(mx);
	free(my);
	bins_release(&b);
	plot_legend(p, names, colors, 2);
	return plot_close(p, err);
}

int report_chart_pipeline(const struct plot_dest *dest, const struct bp_pipeline *pl,
			  const struct analyzer_timeline *t, struct bp_error *err)
{
	static const char *const names[] = { "queued", "ran, on the critical path", "ran" };
	static const char *const colors[] = { "light gray", "firebrick", "steelblue" };
	struct plot *p;
	const char **labels;
	size_t *rows, n = 0, i;
	double t0 = NAN, t1 = NAN;
	char subtitle[200], a[32];

	for (i = 0; i < pl->njobs; i++) {
		const struct bp_job *j = &pl->jobs[i];
		double q = isnan(j->queued_s) ? 0 : j->queued_s;
		if (isnan(j->started_at) || isnan(j->duration_s))
			continue;
		if (isnan(t0) || j->started_at - q < t0)
			t0 = j->started_at - q;
		if (isnan(t1) || j->started_at + j->duration_s > t1)
			t1 = j->started_at + j->duration_s;
	}
	if (isnan(t0))
		return bp_error_set(err, dest->path, 0, "pipeline %s has no job with known start and duration",
				    pl->external_id);
	rows = xcalloc(pl->njobs, sizeof(*rows));
	for (i = 0; i < pl->njobs; i++)
		if (!isnan(pl->jobs[i].started_at) && !isnan(pl->jobs[i].duration_s))
			rows[n++] = i;
	snprintf(subtitle, sizeof(subtitle), "%s %s%s%s: critical path %s over %zu jobs", pl->provider,
		 pl->external_id, pl->ref ? " on " : "", pl->ref ? pl->ref : "",
		 report_seconds(t->critical_path_s, a, sizeof(a)), n);
	if (!(p = plot_open(dest, "CI pipeline", subtitle, err))) {
		free(rows);
		return -1;
	}
	labels = xcalloc(n, sizeof(*labels));
	for (i = 0; i < n; i++) {
		const struct bp_job *j = &pl->jobs[rows[i]];
		struct strbuf sb = STRBUF_INIT;
		strbuf_addf(&sb, "%s%s%s", j->stage ? j->stage : "", j->stage ? ": " : "", j->name ? j->name : "?");
		labels[i] = strbuf_detach(&sb, NULL);
	}
	plot_rows(p, n, labels);
	plot_x_axis(p, 0, t1 - t0, "time since the first job was queued", fmt_seconds);
	for (i = 0; i < n; i++) {
		const struct bp_job *j = &pl->jobs[rows[i]];
		double start = j->started_at - t0;
		if (!isnan(j->queued_s) && j->queued_s > 0)
			plot_bar(p, i, start - j->queued_s, start, colors[0], 0);
		plot_bar(p, i, start, start + j->duration_s, t->critical[rows[i]] ? colors[1] : colors[2], 0);
		free((char *)labels[i]);
	}
	free(labels);
	free(rows);
	plot_legend(p, names, colors, 3);
	return plot_close(p, err);
}

void report_image_bar_init(struct report_image_bar *bar, const struct bp_build *b, const struct bp_image *img,
			  const struct analyzer_sizes *sz)
{
	struct strbuf label = STRBUF_INIT;
	const char *base = b->base_image ? b->base_image : img->base_image;
	size_t i;

	memset(bar, 0, sizeof(*bar));
	bar->image_id = img->id;
	bar->total_bytes = img->size_bytes;
	bar->base_bytes = sz->base_bytes > 0 ? sz->base_bytes : 0;
	for (i = 0; i < img->nlayers && i < sz->nlayers; i++) {
		const struct bp_layer *l = &img->layers[i];
		long long bytes = l->size_bytes >= 0 ? l->size_bytes : l->compressed_bytes;
		if (sz->step_of_layer[i] < 0 && sz->base_bytes >= 0)
			continue; /* counted in base_bytes */
		BP_GROW(bar->added, bar->nadded + 1, bar->alloc_added);
		bar->added[bar->nadded++] = bytes > 0 ? bytes : 0;
	}
	strbuf_addf(&label, "build %ld %s", b->id, b->name ? b->name : "");
	if (base)
		strbuf_addf(&label, " (FROM %s)", base);
	bar->label = strbuf_detach(&label, NULL);
}

void report_image_bar_release(struct report_image_bar *bar)
{
	free(bar->label);
	free(bar->added);
	memset(bar, 0, sizeof(*bar));
}

int report_chart_sizes(const struct plot_dest *dest, const struct report_image_bar *all, size_t nall,
		       size_t top, size_t *shown, struct bp_error *err)
{
	static const char *const names[] = { "base image", "layers the build added" };
	static const char *const colors[] = { "light gray", "steelblue" };
	static const char *const shades[] = { "steelblue", "light sky blue" };
	const struct report_image_bar **bars;
	const char **labels;
	struct plot *p;
	double max = 0;
	char subtitle[160], a[32], b[32];
	size_t i, j, n = 0, more = 0;

	/* newest first, each image once (warm builds remake the same one) */
	bars = xcalloc(nall ? nall : 1, sizeof(*bars));
	for (i = nall; i > 0; i--) {
		for (j = 0; j < n && bars[j]->image_id != all[i - 1].image_id; j++)
			;
		if (j < n)
			continue;
		if (n == top)
			more++;
		else
			bars[n++] = &all[i - 1];
	}
	*shown = n;
	if (!n) {
		free(bars);
		return bp_error_set(err, dest->path, 0,
				    "no selected build has a stored image with layers (ingest `docker history` "
				    "or `docker image inspect` output, or fetch its manifest)");
	}
	for (i = 0; i < n; i++) {
		double sum = (double)bars[i]->base_bytes;
		for (j = 0; j < bars[i]->nadded; j++)
			sum += (double)bars[i]->added[j];
		if (sum > max)
			max = sum;
	}
	snprintf(subtitle, sizeof(subtitle), "%zu image%s, newest first%s; added layers alternate in shade",
		 n, n == 1 ? "" : "s", more ? " (older ones left off)" : "");
	if (!(p = plot_open(dest, "Image size by layer", subtitle, err))) {
		free(bars);
		return -1;
	}
	labels = xcalloc(n, sizeof(*labels));
	for (i = 0; i < n; i++)
		labels[i] = bars[i]->label;
	plot_rows(p, n, labels);
	free(labels);
	plot_x_axis(p, 0, max > 0 ? max * 1.2 : 1, "uncompressed size", fmt_bytes);
	for (i = 0; i < n; i++) {
		const struct report_image_bar *r = bars[i];
		double x = 0;
		long long added = 0;
		if (r->base_bytes > 0)
			plot_bar(p, i, 0, x = (double)r->base_bytes, colors[0], 0);
		for (j = 0; j < r->nadded; j++) {
			if (r->added[j] <= 0)
				continue;
			plot_bar(p, i, x, x + (double)r->added[j], shades[j % 2], 0);
			x += (double)r->added[j];
			added += r->added[j];
		}
		snprintf(subtitle, sizeof(subtitle), "%s (+%s)",
			 report_bytes(r->total_bytes >= 0 ? r->total_bytes : (long long)x, a, sizeof(a)),
			 report_bytes(added, b, sizeof(b)));
		plot_row_text(p, i, x, subtitle);
	}
	free(bars);
	plot_legend(p, names, colors, 2);
	return plot_close(p, err);
}

/* "2.00x faster", "1.30x slower", "~ 1.04x" (not significant), "same",
 * or what is missing */
static const char *change_label(const double median[2], double p_value, int significant, char *buf,
				size_t size)
{
	double speedup = median[0] / median[1];

	if (isnan(median[0]) || isnan(median[1]))
		snprintf(buf, size, "not timed %s (cached?)", isnan(median[0]) ? "before" : "after");
	else if (median[1] == 0)
		snprintf(buf, size, median[0] == 0 ? "no time either side" : "no time after");
	else if (!isnan(p_value) && !significant)
		snprintf(buf, size, "~ %.2fx", speedup);
	else if (speedup == 1)
		snprintf(buf, size, "same");
	else
		snprintf(buf, size, "%.2fx %s", speedup >= 1 ? speedup : 1 / speedup,
			 speedup >= 1 ? "faster" : "slower");
	return buf;
}

/* Where a before/after row's drawing ends: its longer bar or interval. */
static double row_end(const double median[2], const double hi[2])
{
	double end = 0;
	int k;

	for (k = 0; k < 2; k++) {
		if (median[k] > end)
			end = median[k];
		if (hi[k] > end) /* false for NAN */
			end = hi[k];
	}
	return end;
}

int report_chart_compare(const struct plot_dest *dest, const struct analyzer_compare *c,
			 const char *before, const char *after, size_t top, struct bp_error *err)
{
	static const char *const names[] = { "before", "after" };
	static const char *const colors[] = { "dark gray", "steelblue" };
	const struct analyzer_compare_row **rows;
	const char **labels;
	struct plot *p;
	size_t i, j, n = 0;
	double max = 0;
	char subtitle[256], buf[64];

	if (isnan(c->median[0]) || isnan(c->median[1]))
		return bp_error_set(err, dest->path, 0, "a side has no build with a known time to compare");
	/* the paired steps that took time, slowest (on either side) first */
	rows = xcalloc(c->npaired + 1, sizeof(*rows));
	for (i = 0; i < c->npaired; i++) {
		const struct analyzer_compare_row *r = &c->rows[i];
		double t = fmax(r->before_median_s, r->after_median_s);
		if (!(t > 0))
			continue;
		for (j = n; j > 0 && fmax(rows[j - 1]->before_median_s, rows[j - 1]->after_median_s) < t; j--)
			rows[j] = rows[j - 1];
		rows[j] = r;
		n++;
	}
	if (n > top)
		n = top;
	snprintf(subtitle, sizeof(subtitle), "%s (%zu build%s) vs %s (%zu build%s); median, bar to its 95%% "
		 "interval; ~ not significant", before, c->n[0], c->n[0] == 1 ? "" : "s", after, c->n[1],
		 c->n[1] == 1 ? "" : "s");
	if (!(p = plot_open(dest, "Before and after", subtitle, err))) {
		free(rows);
		return -1;
	}
	labels = xcalloc(n + 1, sizeof(*labels));
	labels[0] = !strcmp(c->metric, "wall_s") ? "whole build (wall clock)" : "whole build (sum of steps)";
	max = fmax(fmax(c->median[0], c->median[1]), fmax(c->hi[0], c->hi[1]));
	for (i = 0; i < n; i++) {
		struct strbuf sb = STRBUF_INIT;
		const struct analyzer_step_series *s = rows[i]->before;
		if (s->stage)
			strbuf_addf(&sb, "[%s] ", s->stage);
		strbuf_addstr(&sb, s->text ? s->text : "");
		labels[i + 1] = strbuf_detach(&sb, NULL);
	}
	plot_rows(p, n + 1, labels);
	plot_x_axis(p, 0, max > 0 ? max * 1.3 : 1, "time (median)", fmt_seconds);
	for (i = 0; i <= n; i++) {
		const double *median, *lo, *hi;
		double m2[2], p_value;
		int k, significant;
		if (i == 0) {
			median = c->median;
			lo = c->lo;
			hi = c->hi;
			p_value = c->p_value;
			significant = c->significant;
		} else {
			const struct analyzer_compare_row *r = rows[i - 1];
			m2[0] = r->before_median_s;
			m2[1] = r->after_median_s;
			median = m2;
			lo = r->lo;
			hi = r->hi;
			p_value = r->p_value;
			significant = r->significant;
		}
		for (k = 0; k < 2; k++) {
			if (!isnan(median[k]))
				plot_bar_part(p, i, k, 2, 0, median[k], colors[k], 0);
			if (!isnan(lo[k]) && !isnan(hi[k]))
				plot_interval_part(p, i, k, 2, lo[k], hi[k], "black");
		}
		plot_row_text(p, i, row_end(median, hi), change_label(median, p_value, significant, buf, sizeof(buf)));
		if (i > 0)
			free((char *)labels[i]);
	}
	free(labels);
	free(rows);
	plot_legend(p, names, colors, 2);
	return plot_close(p, err);
}
