/*
 * html.c - the report as one self-contained HTML page: the charts inlined
 * as SVG (drawn by charts.c into memory), tables of the builds, their
 * failures and cache breakers, the slowest steps, groups and CI pipelines.
 * No scripts, fonts or other files: it opens offline and pastes into a wiki.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "buildprof/report.h"

#define CHART_W 960
#define CHART_H 440

struct report_state {
	struct report_options opt;
	struct strbuf builds, details, pipelines;
	long *ids;                /* per build, for the cache and trend charts */
	double *rates, *times;
	size_t n, alloc;
	struct bp_build timed;    /* the newest build with start times: the timeline */
	struct analyzer_timeline timeline;
	int have_timed;
	struct report_image_bar *bars; /* one per build with a stored image */
	size_t nbars, alloc_bars;
};

static void add_escaped(struct strbuf *sb, const char *s)
{
	for (; s && *s; s++) {
		switch (*s) {
		case '<': strbuf_addstr(sb, "&lt;"); break;
		case '>': strbuf_addstr(sb, "&gt;"); break;
		case '&': strbuf_addstr(sb, "&amp;"); break;
		case '"': strbuf_addstr(sb, "&quot;"); break;
		default: strbuf_addch(sb, *s);
		}
	}
}

static void add_step_label(struct strbuf *sb, const struct bp_step *s)
{
	struct strbuf label = STRBUF_INIT;

	report_step_label(&label, s->stage, s->index, s->count, s->text);
	strbuf_addstr(sb, "<code>");
	add_escaped(sb, label.buf);
	strbuf_addstr(sb, "</code>");
	strbuf_release(&label);
}

static struct report_state *html_begin(const struct report_options *opt)
{
	struct report_state *st = xcalloc(1, sizeof(*st));

	st->opt = *opt;
	strbuf_init(&st->builds, 0);
	strbuf_init(&st->details, 0);
	strbuf_init(&st->pipelines, 0);
	return st;
}

static void html_build(struct report_state *st, const struct bp_build *b, const struct analyzer_analysis *a)
{
	struct strbuf *sb = &st->builds;
	double time = !isnan(b->wall_s) ? b->wall_s : a->stats.step_seconds;
	char t[32], p[32], sz[32];
	size_t i;

	BP_GROW(st->ids, st->n + 1, st->alloc);
	st->rates = xreallocarray(st->rates, st->alloc, sizeof(*st->rates));
	st->times = xreallocarray(st->times, st->alloc, sizeof(*st->times));
	st->ids[st->n] = b->id;
	st->rates[st->n] = a->stats.cache_hit_rate;
	st->times[st->n++] = time;
	if (a->timeline.known) {
		if (st->have_timed) {
			bp_build_release(&st->timed);
			analyzer_timeline_release(&st->timeline);
		}
		bp_build_copy(&st->timed, b);
		analyzer_timeline(&st->timed, &st->timeline);
		st->have_timed = 1;
	}
	if (a->image && a->sizes.known) {
		BP_GROW(st->bars, st->nbars + 1, st->alloc_bars);
		report_image_bar_init(&st->bars[st->nbars++], b, a->image, &a->sizes);
	}

	strbuf_addf(sb, "<tr><td>%ld</td><td>", b->id);
	add_escaped(sb, b->name);
	strbuf_addf(sb, "</td><td class=\"%s\">%s</td><td>%s</td><td>%d</td><td>%d</td><td>%s</td><td>%s</td><td>%s</td></tr>\n",
		    b->status == BP_BUILD_SUCCESS ? "ok" : "bad", bp_build_status_name(b->status), b->format,
		    a->stats.steps_total, a->stats.steps_cached, report_percent(a->stats.cache_hit_rate, p, sizeof(p)),
		    report_seconds(time, t, sizeof(t)), report_bytes(b->image_size, sz, sizeof(sz)));

	sb = &st->details;
	if (a->stats.failed_step >= 0) {
		const struct bp_step *s = &b->steps[a->stats.failed_step];
		strbuf_addf(sb, "<li><b>build %ld failed</b> at ", b->id);
		add_step_label(sb, s);
		strbuf_addstr(sb, "<pre>");
		add_escaped(sb, s->error ? s->error : "?");
		strbuf_addstr(sb, "</pre></li>\n");
	}
	for (i = 0; i < a->cache.nbreakers; i++) {
		const struct analyzer_breaker *br = &a->cache.breakers[i];
		strbuf_addf(sb, "<li>build %ld: the cache broke at ", b->id);
		add_step_label(sb, &b->steps[br->step]);
		strbuf_addf(sb, " (cached in build %ld); %zu more step%s ran, %s</li>\n", a->cache.previous_id,
			    br->ninvalidated, br->ninvalidated == 1 ? "" : "s",
			    report_seconds(br->invalidated_s, t, sizeof(t)));
	}
	if (!isnan(a->cache.seconds_saved) && a->cache.seconds_saved > 0)
		strbuf_addf(sb, "<li>build %ld: the cache saved about %s</li>\n", b->id,
			    report_seconds(a->cache.seconds_saved, t, sizeof(t)));
}

static void html_pipeline(struct report_state *st, const struct bp_pipeline *p, const struct analyzer_timeline *t)
{
	struct strbuf *sb = &st->pipelines;
	char d[32], q[32], c[32];

	strbuf_addstr(sb, "<tr><td>");
	add_escaped(sb, p->provider);
	strbuf_addstr(sb, " ");
	add_escaped(sb, p->external_id);
	strbuf_addstr(sb, "</td><td>");
	add_escaped(sb, p->project);
	strbuf_addstr(sb, "</td><td>");
	add_escaped(sb, p->ref);
	strbuf_addstr(sb, "</td><td>");
	add_escaped(sb, p->status ? p->status : "?");
	strbuf_addf(sb, "</td><td>%zu</td><td>%s</td><td>%s</td><td>%s</td></tr>\n", p->njobs,
		    report_seconds(p->duration_s, d, sizeof(d)), report_seconds(p->queued_s, q, sizeof(q)),
		    report_seconds(t->critical_path_s, c, sizeof(c)));
}

/* A chart inlined: the SVG without its XML prologue, or nothing when the
 * selection has nothing for it to show. */
static void chart(FILE *out, const char *name, int rc, const struct strbuf *svg)
{
	const char *start = strstr(svg->buf, "<svg");

	if (rc || !start)
		return;
	fprintf(out, "<figure id=\"chart-%s\">%s</figure>\n", name, start);
}

static void charts(FILE *out, struct report_state *st, const struct analyzer_summary *sum)
{
	struct strbuf svg = STRBUF_INIT;
	struct plot_dest dest = { NULL, CHART_W, CHART_H, &svg };
	struct bp_error err;
	size_t shown;
	int rc;

#define DRAW(name, call)                   \
	do {                               \
		dest.path = name ".svg";   \
		bp_error_init(&err);       \
		strbuf_reset(&svg);        \
		rc = (call);               \
		chart(out, name, rc, &svg); \
	} while (0)
	DRAW("trend", report_chart_trend(&dest, st->ids, st->times, st->n, 0, &err));
	DRAW("cache", report_chart_cache(&dest, st->ids, st->rates, st->n, sum->cache_hit_rate, &err));
	DRAW("steps", report_chart_steps(&dest, sum, &err));
	if (st->have_timed)
		DRAW("timeline", report_chart_timeline(&dest, &st->timed, &st->timeline, &err));
	if (st->nbars)
		DRAW("sizes", report_chart_sizes(&dest, st->bars, st->nbars, 15, &shown, &err));
#undef DRAW
	strbuf_release(&svg);
}

static void html_end(struct report_state *st, const struct analyzer_summary *sum)
{
	FILE *out = st->opt.out;
	char a[32], b[32], c[32];
	size_t i;

	fputs("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"/>\n"
	      "<title>buildprof report</title>\n<style>\n"
	      "body{font:14px/1.45 system-ui,sans-serif;margin:2em auto;max-width:1000px;color:#222}\n"
	      "table{border-collapse:collapse;margin:1em 0}th,td{border:1px solid #ccc;padding:3px 8px;"
	      "text-align:left}td:nth-child(n+5){text-align:right}th{background:#f3f3f3}\n"
	      ".ok{color:#1a7f37}.bad{color:#cf222e}figure{margin:1.5em 0;overflow-x:auto}"
	      "pre{background:#f6f8fa;padding:6px;white-space:pre-wrap}\n"
	      "</style></head><body>\n<h1>buildprof report</h1>\n", out);
	fprintf(out, "<p><b>%ld build%s</b>: %ld success, %ld failed, %ld incomplete; %ld steps, %ld cached "
		     "(%s pooled).</p>\n", sum->builds, sum->builds == 1 ? "" : "s",
		sum->by_status[BP_BUILD_SUCCESS], sum->by_status[BP_BUILD_FAILED],
		sum->by_status[BP_BUILD_INCOMPLETE], sum->steps_total, sum->steps_cached,
		report_percent(sum->cache_hit_rate, a, sizeof(a)));
	if (sum->builds) {
		fputs("<h2>Charts</h2>\n", out);
		charts(out, st, sum);
	}
	if (st->details.len)
		fprintf(out, "<h2>What to look at</h2>\n<ul>\n%s</ul>\n", st->details.buf);
	if (sum->nslowest) {
		fputs("<h2>Slowest steps</h2>\n<table><tr><th>Step</th><th>Build</th><th>Time</th></tr>\n", out);
		for (i = 0; i < sum->nslowest; i++) {
			struct strbuf row = STRBUF_INIT, label = STRBUF_INIT;
			report_step_label(&label, sum->slowest[i].stage, sum->slowest[i].index,
					  sum->slowest[i].count, sum->slowest[i].text);
			strbuf_addstr(&row, "<tr><td><code>");
			add_escaped(&row, label.buf);
			strbuf_addf(&row, "</code></td><td>%ld</td><td>%s</td></tr>\n", sum->slowest[i].build_id,
				    report_seconds(sum->slowest[i].duration_s, b, sizeof(b)));
			fputs(row.buf, out);
			strbuf_release(&row);
			strbuf_release(&label);
		}
		fputs("</table>\n", out);
	}
	if (sum->group_by && sum->ngroups) {
		fprintf(out, "<h2>By %s</h2>\n<table><tr><th>%s</th><th>Builds</th><th>Median time</th>"
			     "<th>Cache</th><th>Image size</th></tr>\n",
			!strcmp(sum->group_by, "base") ? "base image" : sum->group_by,
			!strcmp(sum->group_by, "base") ? "Base image" : "Value");
		for (i = 0; i < sum->ngroups; i++) {
			const struct analyzer_group *g = &sum->groups[i];
			struct strbuf row = STRBUF_INIT;
			strbuf_addstr(&row, "<tr><td>");
			add_escaped(&row, g->key);
			strbuf_addf(&row, "</td><td>%zu</td><td>%s</td><td>%s</td><td>%s</td></tr>\n", g->n,
				    report_seconds(g->median_s, a, sizeof(a)), report_percent(g->cache_hit_rate, b, sizeof(b)),
				    report_bytes(isnan(g->image_size) ? -1 : (long long)g->image_size, c, sizeof(c)));
			fputs(row.buf, out);
			strbuf_release(&row);
		}
		fputs("</table>\n", out);
	}
	if (st->pipelines.len)
		fprintf(out, "<h2>CI pipelines</h2>\n<table><tr><th>Pipeline</th><th>Project</th><th>Ref</th>"
			     "<th>Status</th><th>Jobs</th><th>Duration</th><th>Queued</th><th>Critical path</th></tr>\n"
			     "%s</table>\n", st->pipelines.buf);
	if (st->builds.len)
		fprintf(out, "<h2>Builds</h2>\n<table><tr><th>Build</th><th>Name</th><th>Status</th><th>Format</th>"
			     "<th>Steps</th><th>Cached</th><th>Cache</th><th>Time</th><th>Image</th></tr>\n%s</table>\n",
			st->builds.buf);
	fputs("<p><small>Made by buildprof. Times are medians where several builds are summarised; "
	      "DESIGN.md defines every metric.</small></p>\n</body></html>\n", out);

	for (i = 0; i < st->nbars; i++)
		report_image_bar_release(&st->bars[i]);
	free(st->bars);
	if (st->have_timed) {
		bp_build_release(&st->timed);
		analyzer_timeline_release(&st->timeline);
	}
	free(st->ids);
	free(st->rates);
	free(st->times);
	strbuf_release(&st->builds);
	strbuf_release(&st->details);
	strbuf_release(&st->pipelines);
	free(st);
}

const struct report_format report_html_format = {
	.name = "html",
	.begin = html_begin,
	.build = html_build,
	.pipeline = html_pipeline,
	.end = html_end,
};
