/*
 * markdown.c - the report as one merge-request / pull-request comment:
 * GitHub/GitLab-flavoured tables, a hidden marker first so `post` can find
 * and update its own earlier comment, and a hard size budget under
 * GitHub's 65,536-character limit - what does not fit is counted and said,
 * never silently dropped.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "buildprof/report.h"

#define MARKER "<!-- buildprof -->"
/* Room for everything; the rest of the 65,536 is kept for the closing note. */
#define BUDGET 64000
#define DETAILS_BUDGET 20000

struct report_state {
	struct report_options opt;
	struct strbuf table, details, pipelines;
	long builds, rows_cut, details_cut;
};

/* A table cell: pipes escaped, newlines flattened, cut to width characters. */
static void cell(struct strbuf *sb, const char *s, size_t width)
{
	char buf[512];
	const char *p;

	report_ellipsize(s ? s : "", width, buf, sizeof(buf));
	for (p = buf; *p; p++) {
		if (*p == '|')
			strbuf_addstr(sb, "\\|");
		else if (*p == '`')
			strbuf_addch(sb, '\''); /* cells sit in code spans */
		else if (*p == '\n' || *p == '\r')
			strbuf_addch(sb, ' ');
		else
			strbuf_addch(sb, *p);
	}
}

static struct report_state *md_begin(const struct report_options *opt)
{
	struct report_state *st = xcalloc(1, sizeof(*st));

	st->opt = *opt;
	strbuf_init(&st->table, 0);
	strbuf_init(&st->details, 0);
	strbuf_init(&st->pipelines, 0);
	strbuf_addstr(&st->table, MARKER "\n### buildprof report\n\n"
				  "| Build | Name | Status | Steps | Cached | Time | Image |\n"
				  "|---:|---|---|---:|---:|---:|---:|\n");
	return st;
}

static const char *status_mark(enum bp_build_status s)
{
	return s == BP_BUILD_SUCCESS ? "✅ success" : s == BP_BUILD_FAILED ? "❌ failed" : "⚠️ incomplete";
}

static void md_build(struct report_state *st, const struct bp_build *b, const struct analyzer_analysis *a)
{
	struct strbuf row = STRBUF_INIT, det = STRBUF_INIT, label = STRBUF_INIT;
	char t[32], p[32], sz[32];
	size_t i;

	st->builds++;
	strbuf_addf(&row, "| %ld | ", b->id);
	cell(&row, b->name, 40);
	strbuf_addf(&row, " | %s | %d | %d (%s) | %s | %s |\n", status_mark(b->status), a->stats.steps_total,
		    a->stats.steps_cached, report_percent(a->stats.cache_hit_rate, p, sizeof(p)),
		    report_seconds(!isnan(b->wall_s) ? b->wall_s : a->stats.step_seconds, t, sizeof(t)),
		    report_bytes(b->image_size, sz, sizeof(sz)));
	if (st->table.len + row.len > BUDGET - DETAILS_BUDGET)
		st->rows_cut++;
	else
		strbuf_add(&st->table, row.buf, row.len);

	/* details worth a reader's attention: failures, cache breakers, parallelism */
	if (a->stats.failed_step >= 0) {
		const struct bp_step *s = &b->steps[a->stats.failed_step];
		report_step_label(&label, s->stage, s->index, s->count, s->text);
		strbuf_addf(&det, "- **build %ld failed** at `", b->id);
		cell(&det, label.buf, 90);
		strbuf_addstr(&det, "`\n  ```\n  ");
		cell(&det, s->error ? s->error : "?", 300);
		strbuf_addstr(&det, "\n  ```\n");
		strbuf_reset(&label);
	}
	for (i = 0; i < a->cache.nbreakers; i++) {
		const struct analyzer_breaker *br = &a->cache.breakers[i];
		const struct bp_step *s = &b->steps[br->step];
		report_step_label(&label, s->stage, s->index, s->count, s->text);
		strbuf_addf(&det, "- build %ld: cache broke at `", b->id);
		cell(&det, label.buf, 90);
		strbuf_addf(&det, "` (cached in build %ld; %zu more step%s ran, %s)\n", a->cache.previous_id,
			    br->ninvalidated, br->ninvalidated == 1 ? "" : "s",
			    report_seconds(br->invalidated_s, t, sizeof(t)));
		strbuf_reset(&label);
	}
	if (a->timeline.known)
		strbuf_addf(&det, "- build %ld: critical path %s, parallelism %.2fx%s\n", b->id,
			    report_seconds(a->timeline.critical_path_s, t, sizeof(t)), a->timeline.parallelism,
			    a->timeline.estimated ? " (estimated from log order)" : "");
	if (det.len) {
		if (st->details.len + det.len > DETAILS_BUDGET)
			st->details_cut++;
		else
			strbuf_add(&st->details, det.buf, det.len);
	}
	strbuf_release(&row);
	strbuf_release(&det);
	strbuf_release(&label);
}

/* A CI pipeline the builds ran in: where its time went, in one row. */
static void md_pipeline(struct report_state *st, const struct bp_pipeline *p, const struct analyzer_timeline *t)
{
	struct strbuf *sb = &st->pipelines;
	char a[32], b[32], c[32], d[32];
	size_t i, slowest = p->njobs;
	int retries = 0;

	if (sb->len > 6000) /* a comment is no place for a year of pipelines */
		return;
	if (!sb->len)
		strbuf_addstr(sb, "\n| Pipeline | Ref | Status | Run | Queued | Critical path | Slowest job | Retries |\n"
				  "|---|---|---|---:|---:|---:|---|---:|\n");
	for (i = 0; i < p->njobs; i++) {
		if (!isnan(p->jobs[i].duration_s) &&
		    (slowest == p->njobs || p->jobs[i].duration_s > p->jobs[slowest].duration_s))
			slowest = i;
		retries += analyzer_job_retries(p, i) > 0;
	}
	strbuf_addstr(sb, "| ");
	cell(sb, p->provider, 10);
	strbuf_addch(sb, ' ');
	cell(sb, p->external_id, 20);
	strbuf_addstr(sb, " | ");
	cell(sb, p->ref ? p->ref : "", 30);
	strbuf_addstr(sb, " | ");
	cell(sb, p->status ? p->status : "?", 12);
	strbuf_addf(sb, " | %s | %s | %s | ", report_seconds(p->duration_s, a, sizeof(a)),
		    report_seconds(p->queued_s, b, sizeof(b)), report_seconds(t->critical_path_s, c, sizeof(c)));
	if (slowest < p->njobs) {
		strbuf_addch(sb, '`');
		cell(sb, p->jobs[slowest].name ? p->jobs[slowest].name : "?", 40);
		strbuf_addf(sb, "` %s", report_seconds(p->jobs[slowest].duration_s, d, sizeof(d)));
	}
	strbuf_addf(sb, " | %d |\n", retries);
}

static void md_end(struct report_state *st, const struct analyzer_summary *sum)
{
	FILE *out = st->opt.out;
	struct strbuf tail = STRBUF_INIT;
	char a[32], b[32], c[32];
	size_t i;

	fputs(st->table.buf, out);
	if (st->rows_cut)
		fprintf(out, "\n_%ld more builds are not listed: the comment is kept under GitHub's "
			     "65,536 characters. `buildprof report --format json` has them all._\n", st->rows_cut);
	if (st->details.len) {
		fputs("\n#### Details\n\n", out);
		fputs(st->details.buf, out);
		if (st->details_cut)
			fprintf(out, "- _%ld builds' details are cut for length._\n", st->details_cut);
	}
	strbuf_addf(&tail, "\n**%ld builds**: %ld success, %ld failed, %ld incomplete; %ld steps, %ld cached (%s pooled)\n",
		    sum->builds, sum->by_status[BP_BUILD_SUCCESS], sum->by_status[BP_BUILD_FAILED],
		    sum->by_status[BP_BUILD_INCOMPLETE], sum->steps_total, sum->steps_cached,
		    report_percent(sum->cache_hit_rate, a, sizeof(a)));
	if (sum->nslowest) {
		strbuf_addstr(&tail, "\n| Slowest steps | Build | Time |\n|---|---:|---:|\n");
		for (i = 0; i < sum->nslowest; i++) {
			struct strbuf label = STRBUF_INIT;
			report_step_label(&label, sum->slowest[i].stage, sum->slowest[i].index,
					  sum->slowest[i].count, sum->slowest[i].text);
			strbuf_addstr(&tail, "| `");
			cell(&tail, label.buf, 80);
			strbuf_addf(&tail, "` | %ld | %s |\n", sum->slowest[i].build_id,
				    report_seconds(sum->slowest[i].duration_s, b, sizeof(b)));
			strbuf_release(&label);
		}
	}
	if (sum->group_by && sum->ngroups) {
		strbuf_addf(&tail, "\n| By %s | Builds | Median time | Cache | Image size |\n|---|---:|---:|---:|---:|\n",
			    sum->group_by);
		for (i = 0; i < sum->ngroups && tail.len < 8000; i++) {
			const struct analyzer_group *g = &sum->groups[i];
			strbuf_addstr(&tail, "| ");
			cell(&tail, g->key, 60);
			strbuf_addf(&tail, " | %zu | %s | %s | %s |\n", g->n, report_seconds(g->median_s, a, sizeof(a)),
				    report_percent(g->cache_hit_rate, b, sizeof(b)),
				    report_bytes(isnan(g->image_size) ? -1 : (long long)g->image_size, c, sizeof(c)));
		}
	}
	fputs(tail.buf, out);
	if (st->pipelines.len)
		fprintf(out, "\n#### CI pipelines\n%s", st->pipelines.buf);
	strbuf_release(&tail);
	strbuf_release(&st->pipelines);
	strbuf_release(&st->table);
	strbuf_release(&st->details);
	free(st);
}

const struct report_format report_markdown_format = {
	.name = "markdown",
	.begin = md_begin,
	.build = md_build,
	.pipeline = md_pipeline,
	.end = md_end,
};
