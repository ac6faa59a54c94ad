/*
 * compare.c - prints a before/after comparison: text for people (rounded,
 * "~" where the difference is not significant) and JSON for machines
 * (schema buildprof.compare/1, exact numbers, null where unknown).
 */
#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "buildprof/report.h"

#define STEP_ROWS_MAX 15

/* "1.96x faster", "1.30x slower", "~" (not significant), "?" unknown */
static const char *change(double speedup, int significant, int tested, char *buf, size_t size)
{
	if (isnan(speedup))
		snprintf(buf, size, "?");
	else if (tested && !significant)
		snprintf(buf, size, "~ (%.2fx, not significant)", speedup);
	else if (speedup >= 1)
		snprintf(buf, size, "%.2fx faster", speedup);
	else
		snprintf(buf, size, "%.2fx slower", 1 / speedup);
	return buf;
}

/* The median image size of each side and the change between them ("+12%",
 * or "" when a side is unknown). Returns 0 when neither side's is known. */
static int image_sizes(const struct analyzer_compare *c, char *before, char *after, char *change, size_t size)
{
	report_bytes(isnan(c->image_size[0]) ? -1 : (long long)c->image_size[0], before, size);
	report_bytes(isnan(c->image_size[1]) ? -1 : (long long)c->image_size[1], after, size);
	change[0] = '\0';
	if (c->image_size[0] > 0 && !isnan(c->image_size[1]))
		snprintf(change, size, "%+.0f%%", (c->image_size[1] / c->image_size[0] - 1) * 100);
	return !isnan(c->image_size[0]) || !isnan(c->image_size[1]);
}

/* A paired, added or removed step's change, as the text and Markdown say it. */
static const char *row_change(const struct analyzer_compare_row *r, char *buf, size_t size)
{
	if (!r->before || !r->after)
		snprintf(buf, size, "%s", !r->before ? "added" : "removed");
	else if (isnan(r->before_median_s) || isnan(r->after_median_s))
		snprintf(buf, size, "not timed %s", isnan(r->before_median_s) ? "before" : "after");
	else if (r->after_median_s == 0 && r->before_median_s > 0)
		snprintf(buf, size, "no time after");
	else if (r->after_median_s == r->before_median_s)
		snprintf(buf, size, "same");
	else
		change(r->speedup, r->significant, !isnan(r->p_value), buf, size);
	return buf;
}

/* "[stage] instruction" of a row, into sb. */
static void row_label(struct strbuf *sb, const struct analyzer_compare_row *r)
{
	const struct analyzer_step_series *s = r->before ? r->before : r->after;

	if (s->stage)
		strbuf_addf(sb, "[%s] ", s->stage);
	strbuf_addstr(sb, s->text ? s->text : "");
}

static void side_line(FILE *out, const char *label, const char *sel, const struct analyzer_compare *c,
		      int k)
{
	char m[32], lo[32], hi[32];

	fprintf(out, "%-7s %-32s %3zu builds   median %9s", label, sel, c->n[k],
		report_seconds(c->median[k], m, sizeof(m)));
	if (!isnan(c->lo[k]))
		fprintf(out, "   95%% CI [%s, %s]", report_seconds(c->lo[k], lo, sizeof(lo)),
			report_seconds(c->hi[k], hi, sizeof(hi)));
	fputc('\n', out);
}

static void print_text(FILE *out, const struct analyzer_compare *c, const char *before,
		       const char *after, int color)
{
	char a[48], b[48], ch[64], label[512], cut[128];
	size_t i;
	int w;

	(void)color;
	side_line(out, "before", before, c, 0);
	side_line(out, "after", after, c, 1);
	fprintf(out, "\nbuild time (%s)   %s", !strcmp(c->metric, "wall_s") ? "wall" : "sum of steps",
		change(c->speedup, c->significant, !isnan(c->p_value), ch, sizeof(ch)));
	if (!isnan(c->p_value))
		fprintf(out, "   p=%.3f", c->p_value);
	fputc('\n', out);
	fprintf(out, "cache hit rate    %s -> %s\n", report_percent(c->cache_rate[0], a, sizeof(a)),
		report_percent(c->cache_rate[1], b, sizeof(b)));
	if (image_sizes(c, a, b, ch, sizeof(a)))
		fprintf(out, "image size        %s -> %s%s%s%s\n", a, b, *ch ? " (" : "", ch, *ch ? ")" : "");
	for (w = 0; w < c->nwarnings; w++)
		fprintf(out, "note: %s\n", c->warnings[w]);
	if (!c->nrows)
		return;
	fprintf(out, "\n%-60s %9s %9s  %s\n", "steps (paired by stage and instruction)", "before", "after",
		"change");
	for (i = 0; i < c->nrows && i < STEP_ROWS_MAX; i++) {
		const struct analyzer_compare_row *r = &c->rows[i];
		struct strbuf sb = STRBUF_INIT;
		row_label(&sb, r);
		snprintf(label, sizeof(label), "%s", sb.buf);
		strbuf_release(&sb);
		fprintf(out, "  %-58s %9s %9s  %s\n", report_ellipsize(label, 58, cut, sizeof(cut)),
			r->before ? report_seconds(r->before_median_s, a, sizeof(a)) : "-",
			r->after ? report_seconds(r->after_median_s, b, sizeof(b)) : "-",
			row_change(r, ch, sizeof(ch)));
	}
	if (c->nrows > STEP_ROWS_MAX)
		fprintf(out, "  (%zu more steps: --format json lists them all)\n", c->nrows - STEP_ROWS_MAX);
	if (!isnan(c->geomean_speedup))
		fprintf(out, "geometric mean over the %zu paired step%s that took time on both sides: %s\n",
			c->ngeomean, c->ngeomean == 1 ? "" : "s", change(c->geomean_speedup, 1, 0, ch, sizeof(ch)));
}

static json_t *num(double v)
{
	return isfinite(v) ? json_real(v) : json_null();
}

static json_t *side_json(const struct analyzer_compare *c, int k, const char *sel)
{
	json_t *o = json_object(), *ci = json_null();

	if (!isnan(c->lo[k])) {
		ci = json_array();
		json_array_append_new(ci, json_real(c->lo[k]));
		json_array_append_new(ci, json_real(c->hi[k]));
	}
	json_object_set_new(o, "selector", report_json_string(sel));
	json_object_set_new(o, "n", json_integer((json_int_t)c->n[k]));
	json_object_set_new(o, "median_s", num(c->median[k]));
	json_object_set_new(o, "ci", ci);
	json_object_set_new(o, "cache_hit_rate", num(c->cache_rate[k]));
	json_object_set_new(o, "image_size_bytes", num(c->image_size[k]));
	return o;
}

static void print_json(FILE *out, const struct analyzer_compare *c, const char *before,
		       const char *after, int color)
{
	json_t *o = json_object(), *steps = json_array(), *warnings = json_array();
	size_t i;
	int w;

	(void)color;
	for (i = 0; i < c->nrows; i++) {
		const struct analyzer_compare_row *r = &c->rows[i];
		const struct analyzer_step_series *s = r->before ? r->before : r->after;
		json_t *row = json_object();
		json_object_set_new(row, "stage", report_json_string(s->stage));
		json_object_set_new(row, "text", report_json_string(s->text ? s->text : ""));
		json_object_set_new(row, "change", json_string(!r->before ? "added" : !r->after ? "removed" : "paired"));
		json_object_set_new(row, "before_median_s", num(r->before_median_s));
		json_object_set_new(row, "after_median_s", num(r->after_median_s));
		json_object_set_new(row, "speedup", num(r->speedup));
		json_object_set_new(row, "before_ci_s", json_pack("[oo]", num(r->lo[0]), num(r->hi[0])));
		json_object_set_new(row, "after_ci_s", json_pack("[oo]", num(r->lo[1]), num(r->hi[1])));
		json_object_set_new(row, "p_value", num(r->p_value));
		json_object_set_new(row, "significant", isnan(r->p_value) ? json_null() : json_boolean(r->significant));
		json_array_append_new(steps, row);
	}
	for (w = 0; w < c->nwarnings; w++)
		json_array_append_new(warnings, json_string(c->warnings[w]));
	json_object_set_new(o, "schema", json_string("buildprof.compare/1"));
	json_object_set_new(o, "metric", json_string(c->metric));
	json_object_set_new(o, "before", side_json(c, 0, before));
	json_object_set_new(o, "after", side_json(c, 1, after));
	json_object_set_new(o, "speedup", num(c->speedup));
	json_object_set_new(o, "p_value", num(c->p_value));
	json_object_set_new(o, "significant", json_boolean(c->significant));
	json_object_set_new(o, "geomean_speedup", num(c->geomean_speedup));
	json_object_set_new(o, "geomean_steps", json_integer((json_int_t)c->ngeomean));
	json_object_set_new(o, "warnings", warnings);
	json_object_set_new(o, "steps", steps);
	report_json_dump(o, out, JSON_INDENT(2) | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(12));
	fputc('\n', out);
	json_decref(o);
}

/* A Markdown table cell: pipes and backticks would break the table. */
static void md_cell(FILE *out, const char *s, size_t width)
{
	char buf[256];
	const char *p;

	for (p = report_ellipsize(s, width, buf, sizeof(buf)); *p; p++)
		fputs(*p == '|' ? "\\|" : *p == '`' ? "'" : (char[2]){ *p, 0 }, out);
}

/* The comparison as a section of a merge-request comment: the build time
 * with its test, cache and image size, then the steps that changed most. */
static void print_markdown(FILE *out, const struct analyzer_compare *c, const char *before,
			   const char *after, int color)
{
	char a[48], b[48], ch[64];
	size_t i, shown = 0;
	int w;

	(void)color;
	fputs("\n#### Compared with `", out);
	md_cell(out, before, 80);
	fputs("`\n\n| | Before | After | Change |\n|---|---:|---:|---|\n", out);
	fprintf(out, "| Build time (%s) | %s (%zu) | %s (%zu) | **%s**", !strcmp(c->metric, "wall_s") ? "wall" : "sum of steps",
		report_seconds(c->median[0], a, sizeof(a)), c->n[0], report_seconds(c->median[1], b, sizeof(b)), c->n[1],
		change(c->speedup, c->significant, !isnan(c->p_value), ch, sizeof(ch)));
	if (!isnan(c->p_value))
		fprintf(out, " p=%.3f", c->p_value);
	fprintf(out, " |\n| Cache hit rate | %s | %s | |\n", report_percent(c->cache_rate[0], a, sizeof(a)),
		report_percent(c->cache_rate[1], b, sizeof(b)));
	if (image_sizes(c, a, b, ch, sizeof(a)))
		fprintf(out, "| Image size | %s | %s | %s |\n", a, b, ch);
	for (i = 0; i < c->nrows && shown < 10; i++) {
		const struct analyzer_compare_row *r = &c->rows[i];
		struct strbuf label = STRBUF_INIT;
		/* unchanged and never timed steps are no news in a comment */
		if (r->before && r->after && (r->before_median_s == r->after_median_s ||
					      (isnan(r->before_median_s) && isnan(r->after_median_s))))
			continue;
		row_label(&label, r);
		fputs("| `", out);
		md_cell(out, label.buf, 70);
		fprintf(out, "` | %s | %s | %s |\n", r->before ? report_seconds(r->before_median_s, a, sizeof(a)) : "-",
			r->after ? report_seconds(r->after_median_s, b, sizeof(b)) : "-", row_change(r, ch, sizeof(ch)));
		strbuf_release(&label);
		shown++;
	}
	fputs("\n", out);
	fprintf(out, "_After: `");
	md_cell(out, after[0] ? after : "all builds", 80);
	fputs("`. Medians; ~ means the difference is within the noise (Mann-Whitney U, α = 0.05)._\n", out);
	for (w = 0; w < c->nwarnings; w++)
		fprintf(out, "_Note: %s._\n", c->warnings[w]);
}

static const struct report_compare_format formats[] = {
	{ "text", print_text },
	{ "json", print_json },
	{ "markdown", print_markdown },
};

const struct report_compare_format *report_compare_format(const char *name)
{
	size_t i;

	for (i = 0; i < BP_ARRAY_SIZE(formats); i++)
		if (!strcmp(formats[i].name, name))
			return &formats[i];
	return NULL;
}
