/*
 * text.c - the terminal report: per build its status, cache hit rate, the
 * slowest steps and the failing step with its error; then a summary when
 * more than one build was selected. Colour only when asked (a TTY without
 * NO_COLOR).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "buildprof/report.h"

#define TEXT_WIDTH 96

struct report_state {
	struct report_options opt;
	long builds;
};

static const char *status_color(const struct report_state *st, enum bp_build_status s)
{
	if (!st->opt.color)
		return "";
	return s == BP_BUILD_SUCCESS ? "\033[32m" : s == BP_BUILD_FAILED ? "\033[31m" : "\033[33m";
}

static const char *reset_color(const struct report_state *st)
{
	return st->opt.color ? "\033[0m" : "";
}

static struct report_state *text_begin(const struct report_options *opt)
{
	struct report_state *st = xcalloc(1, sizeof(*st));

	st->opt = *opt;
	return st;
}

static void step_line(FILE *out, const char *indent, double secs, const struct bp_step *s,
		      size_t width)
{
	struct strbuf label = STRBUF_INIT;
	char sec[32], cut[512];

	report_step_label(&label, s->stage, s->index, s->count, s->text);
	fprintf(out, "%s%9s  %s%s\n", indent, report_seconds(secs, sec, sizeof(sec)),
		report_ellipsize(label.buf, width, cut, sizeof(cut)), s->cached ? "  (cached)" : "");
	strbuf_release(&label);
}

static void text_build(struct report_state *st, const struct bp_build *b,
		       const struct analyzer_analysis *an)
{
	const struct analyzer_build_stats *stats = &an->stats;
	const struct analyzer_timeline *tl = &an->timeline;
	FILE *out = st->opt.out;
	char a[32], c[32], d[32], e[32], cut[512];
	size_t *idx, n, i;

	if (st->builds++)
		fputc('\n', out);
	fprintf(out, "build %ld  %s  %s  %s%s%s\n", b->id, b->name, b->format,
		status_color(st, b->status), bp_build_status_name(b->status), reset_color(st));
	if (b->source_path)
		fprintf(out, "  source      %s\n", b->source_path);
	if (b->nlabels) {
		fprintf(out, "  labels     ");
		for (i = 0; i < b->nlabels; i++)
			fprintf(out, " %s=%s", b->labels[i].key, b->labels[i].value);
		fputc('\n', out);
	}
	if (b->image_ref || b->image_id) {
		fprintf(out, "  image       %s%s%s", b->image_ref ? b->image_ref : "",
			b->image_ref && b->image_id ? "  " : "", b->image_id ? b->image_id : "");
		if (b->image_size >= 0)
			fprintf(out, "  %s", report_bytes(b->image_size, a, sizeof(a)));
		if (b->image_compressed >= 0)
			fprintf(out, " (%s compressed)", report_bytes(b->image_compressed, c, sizeof(c)));
		fputc('\n', out);
	}
	if (b->base_image)
		fprintf(out, "  base        %s\n", b->base_image);
	fprintf(out, "  steps       %d, %d cached (%s)", stats->steps_total, stats->steps_cached,
		report_percent(stats->cache_hit_rate, a, sizeof(a)));
	if (!isnan(stats->vertex_cache_rate))
		fprintf(out, "   vertices %d, %d cached (%s)", stats->vertices, stats->vertices_cached,
			report_percent(stats->vertex_cache_rate, c, sizeof(c)));
	fputc('\n', out);
	/* only what the log measured: "?" columns would be noise */
	{
		struct strbuf t = STRBUF_INIT;
		if (!isnan(stats->step_seconds))
			strbuf_addf(&t, "   steps %s", report_seconds(stats->step_seconds, a, sizeof(a)));
		if (!isnan(stats->from_seconds))
			strbuf_addf(&t, "   base images %s", report_seconds(stats->from_seconds, c, sizeof(c)));
		if (!isnan(stats->overhead_seconds))
			strbuf_addf(&t, "   overhead %s", report_seconds(stats->overhead_seconds, d, sizeof(d)));
		if (!isnan(b->wall_s))
			strbuf_addf(&t, "   wall %s", report_seconds(b->wall_s, e, sizeof(e)));
		if (t.len)
			fprintf(out, "  time        %s\n", t.buf + 3);
		strbuf_release(&t);
	}
	if (an->sizes.known && an->image) {
		size_t order[3], nord = 0, k, m;
		/* the largest layers, each with the step that made it */
		for (k = 0; k < an->image->nlayers; k++) {
			long long sz = an->image->layers[k].size_bytes;
			for (m = nord; m > 0 && an->image->layers[order[m - 1]].size_bytes < sz; m--)
				if (m < 3)
					order[m] = order[m - 1];
			if (m < 3 && sz > 0) {
				order[m] = k;
				if (nord < 3)
					nord++;
			}
		}
		fprintf(out, "  bytes       %s added by this build's steps, %s from the base image\n",
			report_bytes(an->sizes.added_bytes, a, sizeof(a)),
			report_bytes(an->sizes.base_bytes, c, sizeof(c)));
		for (k = 0; k < nord; k++) {
			const struct bp_layer *l = &an->image->layers[order[k]];
			long si = an->sizes.step_of_layer[order[k]];
			struct strbuf label = STRBUF_INIT;
			if (si >= 0)
				report_step_label(&label, b->steps[si].stage, b->steps[si].index, b->steps[si].count,
						  b->steps[si].text);
			else
				strbuf_addf(&label, "(base) %s", l->created_by ? l->created_by : "?");
			fprintf(out, "  %9s  %s\n", report_bytes(l->size_bytes, a, sizeof(a)),
				report_ellipsize(label.buf, TEXT_WIDTH - 13, cut, sizeof(cut)));
			strbuf_release(&label);
		}
	}
	if (!isnan(an->cache.seconds_saved))
		fprintf(out, "  cache       saved ~%s (%d cached steps, priced at their median uncached time)\n",
			report_seconds(an->cache.seconds_saved, a, sizeof(a)), an->cache.steps_priced);
	for (i = 0; i < an->cache.nbreakers; i++) {
		const struct analyzer_breaker *br = &an->cache.breakers[i];
		const struct bp_step *s = &b->steps[br->step];
		struct strbuf label = STRBUF_INIT;
		report_step_label(&label, s->stage, s->index, s->count, s->text);
		fprintf(out, "  %-11s %s\n", i ? "" : "cache broke",
			report_ellipsize(label.buf, TEXT_WIDTH - 14, cut, sizeof(cut)));
		fprintf(out, "              (cached in build %ld; then %zu more step%s ran, %s)\n",
			an->cache.previous_id, br->ninvalidated, br->ninvalidated == 1 ? "" : "s",
			report_seconds(br->invalidated_s, c, sizeof(c)));
		strbuf_release(&label);
	}
	if (tl->known)
		fprintf(out, "  timeline    critical path %s of %s busy, parallelism %.2fx (%s)\n",
			report_seconds(tl->critical_path_s, a, sizeof(a)),
			report_seconds(tl->busy_s, c, sizeof(c)), tl->parallelism,
			tl->measured ? "measured" : tl->estimated ? "estimated from log order" : "from line times");
	if (stats->steps_total && !stats->steps_timed)
		fprintf(out, "              (this log has no step durations)\n");
	idx = xcalloc(st->opt.top ? st->opt.top : 1, sizeof(*idx));
	n = analyzer_slowest_steps(b, idx, st->opt.top);
	if (n) {
		fprintf(out, "  slowest steps\n");
		for (i = 0; i < n; i++)
			step_line(out, "  ", b->steps[idx[i]].duration_s, &b->steps[idx[i]], TEXT_WIDTH - 13);
	}
	free(idx);
	if (stats->failed_step >= 0) {
		const struct bp_step *s = &b->steps[stats->failed_step];
		struct strbuf label = STRBUF_INIT;
		report_step_label(&label, s->stage, s->index, s->count, s->text);
		fprintf(out, "  failed at   %s\n",
			report_ellipsize(label.buf, TEXT_WIDTH - 14, cut, sizeof(cut)));
		fprintf(out, "              %s\n",
			report_ellipsize(s->error ? s->error : "?", TEXT_WIDTH - 14, cut, sizeof(cut)));
		strbuf_release(&label);
	} else if (b->error) {
		fprintf(out, "  error       %s\n",
			report_ellipsize(b->error, TEXT_WIDTH - 14, cut, sizeof(cut)));
	}
}

static void text_end(struct report_state *st, const struct analyzer_summary *sum)
{
	FILE *out = st->opt.out;
	char a[32], b[32], key[64];
	size_t i;

	if (sum->group_by && sum->ngroups) {
		fprintf(out, "\nby %s\n  %-40s %6s %12s %8s %11s\n", sum->group_by,
			!strcmp(sum->group_by, "base") ? "BASE IMAGE" : "VALUE", "BUILDS", "MEDIAN TIME",
			"CACHE", "IMAGE SIZE");
		for (i = 0; i < sum->ngroups; i++) {
			const struct analyzer_group *g = &sum->groups[i];
			char c[32];
			fprintf(out, "  %-40s %6zu %12s %8s %11s\n", report_ellipsize(g->key, 40, key, sizeof(key)),
				g->n, report_seconds(g->median_s, a, sizeof(a)),
				report_percent(g->cache_hit_rate, b, sizeof(b)),
				report_bytes(isnan(g->image_size) ? -1 : (long long)g->image_size, c, sizeof(c)));
		}
	}

	if (sum->builds > 1) {
		fprintf(out, "\nsummary: %ld builds (%ld success, %ld failed, %ld incomplete)\n",
			sum->builds, sum->by_status[BP_BUILD_SUCCESS], sum->by_status[BP_BUILD_FAILED],
			sum->by_status[BP_BUILD_INCOMPLETE]);
		fprintf(out, "  steps       %ld, %ld cached (%s pooled)   step time %s\n", sum->steps_total,
			sum->steps_cached, report_percent(sum->cache_hit_rate, a, sizeof(a)),
			report_seconds(sum->step_seconds, b, sizeof(b)));
		if (sum->ntypical_stages) {
			fprintf(out, "  stages (median / p95 over builds)\n");
			for (i = 0; i < sum->ntypical_stages; i++) {
				const struct analyzer_typical *t = &sum->typical_stages[i];
				fprintf(out, "  %9s %9s  %s (%zu build%s)\n", report_seconds(t->median_s, a, sizeof(a)),
					report_seconds(t->p95_s, b, sizeof(b)), t->series->stage, t->series->n,
					t->series->n == 1 ? "" : "s");
			}
		}
		if (sum->ntypical_steps) {
			fprintf(out, "  steps (median / p95 over the runs that were timed)\n");
			for (i = 0; i < sum->ntypical_steps; i++) {
				const struct analyzer_typical *t = &sum->typical_steps[i];
				struct strbuf label = STRBUF_INIT;
				char cut2[512];
				if (t->series->stage)
					strbuf_addf(&label, "[%s] ", t->series->stage);
				strbuf_addstr(&label, t->series->text ? t->series->text : "");
				fprintf(out, "  %9s %9s  %s (%zu)\n", report_seconds(t->median_s, a, sizeof(a)),
					report_seconds(t->p95_s, b, sizeof(b)),
					report_ellipsize(label.buf, TEXT_WIDTH - 28, cut2, sizeof(cut2)), t->series->n);
				strbuf_release(&label);
			}
		}
		if (sum->nslowest) {
			fprintf(out, "  slowest single runs\n");
			for (i = 0; i < sum->nslowest; i++) {
				const struct analyzer_slow_step *r = &sum->slowest[i];
				struct strbuf label = STRBUF_INIT;
				char cut[512], head[64];
				report_step_label(&label, r->stage, r->index, r->count, r->text);
				snprintf(head, sizeof(head), "build %ld", r->build_id);
				fprintf(out, "  %9s  %-9s %s\n", report_seconds(r->duration_s, a, sizeof(a)),
					head, report_ellipsize(label.buf, TEXT_WIDTH - 23, cut, sizeof(cut)));
				strbuf_release(&label);
			}
		}
	}
	free(st);
}

static void text_pipeline(struct report_state *st, const struct bp_pipeline *p,
			  const struct analyzer_timeline *t)
{
	FILE *out = st->opt.out;
	char a[32], b[32], c[32], cut[64];
	size_t i;

	fprintf(out, "\npipeline %s %s  %s%s%s  %s\n", p->provider, p->external_id,
		p->project ? p->project : "", p->ref ? "  " : "", p->ref ? p->ref : "",
		p->status ? p->status : "?");
	fprintf(out, "  time        %s run, %s queued", report_seconds(p->duration_s, a, sizeof(a)),
		report_seconds(p->queued_s, b, sizeof(b)));
	if (t->known)
		fprintf(out, "; critical path %s", report_seconds(t->critical_path_s, c, sizeof(c)));
	fputc('\n', out);
	for (i = 0; i < p->njobs; i++) {
		int retries = analyzer_job_retries(p, i);
		fprintf(out, "  %9s run %9s queued %9s alone  %s%s",
			report_seconds(p->jobs[i].duration_s, a, sizeof(a)),
			report_seconds(p->jobs[i].queued_s, b, sizeof(b)),
			report_seconds(t->exclusive_s[i], c, sizeof(c)),
			report_ellipsize(p->jobs[i].name ? p->jobs[i].name : "?", 40, cut, sizeof(cut)),
			t->critical[i] ? "  *" : "");
		if (retries)
			fprintf(out, "  (%d other attempt%s)", retries, retries == 1 ? "" : "s");
		fputc('\n', out);
	}
}

const struct report_format report_text_format = {
	.name = "text",
	.begin = text_begin,
	.build = text_build,
	.pipeline = text_pipeline,
	.end = text_end,
};
