/*
 * report.h - renders analysed builds. An output format is a row in a table
 * with begin / build / end callbacks, so a report streams one build at a
 * time and adding a format is one file and one line.
 */
#ifndef BUILDPROF_REPORT_H
#define BUILDPROF_REPORT_H

#include <stdio.h>

#include "buildprof/analyzer.h"
#include "buildprof/model.h"
#include "buildprof/plot.h"

struct report_options {
	FILE *out;
	size_t top;  /* slowest steps listed per build and in the summary */
	int color;   /* ANSI colour (a TTY without NO_COLOR) */
};

struct report_state; /* a format's private state */

struct report_format {
	const char *name;
	/* Prints the steps' vertex, platform, instruction and output lines:
	 * the others leave them unread (STORE_STEPS_SHOWN). */
	int every_step_field;
	struct report_state *(*begin)(const struct report_options *opt);
	void (*build)(struct report_state *st, const struct bp_build *b,
		      const struct analyzer_analysis *a);
	/* A CI pipeline the selected builds ran in (called after the builds,
	 * before end; NULL when the format does not show pipelines). */
	void (*pipeline)(struct report_state *st, const struct bp_pipeline *p,
			 const struct analyzer_timeline *t);
	/* Prints the summary and frees st. */
	void (*end)(struct report_state *st, const struct analyzer_summary *sum);
};

/* Returns the report format of that name, or NULL. */
const struct report_format *report_format(const char *name);
/* "text, json": the names, for usage messages. */
const char *report_format_names(void);

/* Before/after output (report/compare.c): formats are rows in a table too. */
struct report_compare_format {
	const char *name;
	void (*print)(FILE *out, const struct analyzer_compare *c, const char *before,
		      const char *after, int color);
};
/* Returns the compare format of that name ("text", "json"), or NULL. */
const struct report_compare_format *report_compare_format(const char *name);

/* A pipeline as JSON (DESIGN's pipelines[] element, with start times,
 * critical flags, runners and attempts): a new jansson object. */
struct json_t;
/* Typical steps or stages as a JSON array: stage, the series' text under
 * text_key (none when NULL), runs, median_s, p95_s. */
struct json_t *report_typical_json(const struct analyzer_typical *t, size_t n, const char *text_key);
/* Writes o to out as json_dumpf would (flags are jansson's), in one write. */
void report_json_dump(struct json_t *o, FILE *out, size_t flags);
/* Appends o to sb as json_dumps would. */
void report_json_append(struct strbuf *sb, struct json_t *o, size_t flags);
/* s as a JSON string, or null when NULL. jansson refuses a string that is
 * not UTF-8 and the field set to it silently disappears; here each bad
 * byte becomes U+FFFD instead (a Latin-1 name or path from a shell). */
struct json_t *report_json_string(const char *s);
/* A size in bytes, or null when unknown (negative). */
struct json_t *report_json_bytes(long long v);
/* Sets o[key] to v (taking v's reference); key, too, need not be UTF-8. */
void report_json_set(struct json_t *o, const char *key, struct json_t *v);
struct json_t *report_pipeline_json(const struct bp_pipeline *p, const struct analyzer_timeline *t);

/* --- charts (report/charts.c), drawn through plot.h --- */
/* Slowest steps over the selected builds: median bars with p95 whiskers. */
int report_chart_steps(const struct plot_dest *dest, const struct analyzer_summary *sum,
		       struct bp_error *err);
/* One build's Gantt chart: a row per timed vertex, critical path highlighted. */
int report_chart_timeline(const struct plot_dest *dest, const struct bp_build *b,
			  const struct analyzer_timeline *t, struct bp_error *err);
/* Cache hit rate per build (in selection order) with the pooled rate. */
int report_chart_cache(const struct plot_dest *dest, const long *ids, const double *rates, size_t n,
		       double pooled, struct bp_error *err);

/* Build (or, with pipelines, CI pipeline) time per item in the given
 * order, with a rolling median of 5; binned beyond 200 items. */
int report_chart_trend(const struct plot_dest *dest, const long *ids, const double *seconds, size_t n,
		       int pipelines, struct bp_error *err);
/* One image on the sizes chart: its base image's bytes, then the layers the
 * build added, oldest first. */
struct report_image_bar {
	long image_id;            /* the stored image, to show each image once */
	char *label;              /* "build 7 app (FROM busybox)" */
	long long base_bytes;     /* bytes that came with the base image, 0 when unknown */
	long long *added;         /* sizes of the layers the build made */
	size_t nadded, alloc_added;
	long long total_bytes;    /* the image's size, -1 unknown */
};
/* The bar of b's image img, its layers attributed by sz (analyzer_sizes). */
void report_image_bar_init(struct report_image_bar *bar, const struct bp_build *b, const struct bp_image *img,
			   const struct analyzer_sizes *sz);
void report_image_bar_release(struct report_image_bar *bar);
/* Stacked bars of image sizes, base bytes then each added layer, from bars
 * in build order: the newest first, each image once, at most top of them
 * (*shown says how many). */
int report_chart_sizes(const struct plot_dest *dest, const struct report_image_bar *bars, size_t n,
		       size_t top, size_t *shown, struct bp_error *err);
/* Before and after per step (the whole build first): medians with their 95%
 * intervals, the change written beside each, "~" where not significant.
 * Shows the top steps by time; before/after name the two selections. */
int report_chart_compare(const struct plot_dest *dest, const struct analyzer_compare *c,
			 const char *before, const char *after, size_t top, struct bp_error *err);
/* A CI pipeline's jobs as a Gantt chart: queue time hollow, run time filled,
 * the critical path in red. */
int report_chart_pipeline(const struct plot_dest *dest, const struct bp_pipeline *p,
			  const struct analyzer_timeline *t, struct bp_error *err);

/* --- publishing (report/post.c) --- */
struct report_post_target {
	const char *kind;       /* "gitlab-mr", "github-pr", "webhook" */
	const char *api_url;    /* GitLab: .../api/v4; GitHub: https://api.github.com; webhook: the URL */
	const char *project;    /* GitLab project id or path; GitHub "owner/name" */
	const char *number;     /* merge request iid / pull request number */
	const char *auth_header; /* "PRIVATE-TOKEN: ...", "Authorization: Bearer ..."; NULL for none */
	const char *token_var;  /* the variable the token came from, for messages */
	int dry_run;            /* print what would be sent, send nothing */
};

/* Publishes body: on a merge/pull request, updates the earlier comment that
 * starts with the buildprof marker (paging through the comments) or creates
 * one; to a webhook, POSTs it as is (the caller wraps it). Prints one line
 * saying what happened. Returns 0, or -1 with err set (the target, the HTTP
 * status, the variable used - never its value). */
int report_post(const struct report_post_target *t, const char *body, int is_json_payload,
		struct bp_error *err);
/* Uploads a chart to the target's project (GitLab's uploads API) and
 * appends the Markdown that embeds it to markdown. Returns 0, or -1 with
 * err set (other targets cannot take uploads). */
int report_post_upload(const struct report_post_target *t, const char *name, const void *data, size_t len,
		       struct strbuf *markdown, struct bp_error *err);

/* --- shared by the formats and the list commands --- */
/* "[stage i/n] TEXT" (or TEXT for internal vertices) into sb. */
void report_step_label(struct strbuf *sb, const char *stage, int index, int count,
		       const char *text);
/* "12.3 s", "4m05s", or "?" for NAN. */
const char *report_seconds(double s, char *buf, size_t size);
/* "41.2 MB" (decimal units, as docker prints sizes), or "?" when negative. */
const char *report_bytes(long long bytes, char *buf, size_t size);
/* "75%" or "?" for NAN. */
const char *report_percent(double rate, char *buf, size_t size);
/* Copies s into buf, cut to at most width characters with "..." at the end. */
const char *report_ellipsize(const char *s, size_t width, char *buf, size_t size);

#endif
