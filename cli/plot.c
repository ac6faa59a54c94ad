/*
 * plot.c - `buildprof plot KIND [SELECTOR...] -o FILE`: reads the selected
 * builds, has the analyzer summarise them, and draws the chart kind.
 */
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buildprof/analyzer.h"
#include "buildprof/report.h"
#include "cli.h"

#define KINDS "steps, timeline, cache, trend, sizes, compare, pipeline"

struct plot_data {
	struct analyzer_summary sum;     /* steps */
	struct bp_build last;            /* timeline: the newest selected build */
	int have_last;
	long *ids;                       /* cache, trend: per build */
	double *rates;
	double *times;
	size_t n, alloc;
	struct bp_store *st;             /* sizes: where the builds' images are */
	struct report_image_bar *bars;   /* sizes: per build with a stored image */
	size_t nbars, alloc_bars;
	int failed;
};

/* sizes: the build's stored image as base bytes and the layers it added */
static int take_image(struct plot_data *d, const struct bp_build *b)
{
	struct analyzer_sizes sz;
	struct bp_image img;
	struct bp_error err;
	int r;

	bp_error_init(&err);
	r = store_build_image(d->st, b, &img, &err);
	if (r < 0) {
		cli_print_error("plot", &err);
		return d->failed = -1;
	}
	if (r == 0)
		return 0;
	analyzer_sizes(b, &img, &sz);
	if (sz.known) {
		BP_GROW(d->bars, d->nbars + 1, d->alloc_bars);
		report_image_bar_init(&d->bars[d->nbars++], b, &img, &sz);
	}
	analyzer_sizes_release(&sz);
	bp_image_release(&img);
	return 0;
}

static int take(void *ctx, struct bp_build *b)
{
	struct plot_data *d = ctx;
	struct analyzer_build_stats s;

	if (d->st)
		return take_image(d, b);
	analyzer_build_stats(b, &s);
	analyzer_summary_add(&d->sum, b, &s);
	BP_GROW(d->ids, d->n + 1, d->alloc);
	d->rates = xreallocarray(d->rates, d->alloc, sizeof(*d->rates));
	d->times = xreallocarray(d->times, d->alloc, sizeof(*d->times));
	d->ids[d->n] = b->id;
	d->times[d->n] = !isnan(b->wall_s) ? b->wall_s : s.step_seconds;
	d->rates[d->n++] = s.cache_hit_rate;
	/* keep a copy of the newest build for the timeline */
	if (d->have_last)
		bp_build_release(&d->last);
	d->last = *b; /* kept, not copied: cli_each_build lets us */
	bp_build_init(b);
	d->have_last = 1;
	return 0;
}

/* `plot compare BEFORE AFTER`: the two selections of `compare`. */
static int plot_compare(const struct cli_env *env, int argc, char **argv, const struct plot_dest *dest,
			size_t top, FILE *say)
{
	struct analyzer_compare c;
	struct bp_error err;
	int rc;

	if (argc != 2)
		return cli_usage_error(&cli_plot, "plot compare wants two selections, BEFORE and AFTER");
	analyzer_compare_init(&c);
	bp_error_init(&err);
	rc = cli_load_compare(env, &cli_plot, argv, &c, NULL);
	if (rc == EXIT_OK) {
		if (report_chart_compare(dest, &c, argv[0], argv[1], top, &err) == 0) {
			if (say)
				fprintf(say, "%s: compare chart of %zu and %zu builds\n", dest->path, c.side[0].n,
					c.side[1].n);
		} else {
			cli_print_error("plot", &err);
			rc = EXIT_INPUT;
		}
	}
	analyzer_compare_release(&c);
	return rc;
}

/* `plot trend pipelines [ID|PROJECT|REF...]`: CI pipeline durations. */
static int plot_pipeline_trend(const struct cli_env *env, int argc, char **argv, const struct plot_dest *dest,
			       FILE *say)
{
	struct store_pipeline_iter *it;
	struct bp_pipeline p;
	struct bp_store *st;
	struct bp_error err;
	long *ids = NULL;
	double *secs = NULL;
	size_t n = 0, alloc = 0;
	int r, rc = EXIT_INPUT;

	if (!(st = cli_open_store(env)))
		return EXIT_INPUT;
	bp_error_init(&err);
	it = store_select_pipelines(st, argv, (size_t)argc, &err);
	while (it && (r = store_pipeline_next(it, &p, &err)) == 1) {
		BP_GROW(ids, n + 1, alloc);
		secs = xreallocarray(secs, alloc, sizeof(*secs));
		ids[n] = p.id;
		secs[n++] = p.duration_s;
		bp_pipeline_release(&p);
	}
	if (!bp_error_isset(&err)) {
		if (!n)
			error("plot: no pipelines%s", argc ? " match" : " stored yet");
		else if (report_chart_trend(dest, ids, secs, n, 1, &err) == 0)
			rc = EXIT_OK;
	}
	if (rc == EXIT_OK && say)
		fprintf(say, "%s: trend chart of %zu pipeline%s\n", dest->path, n, n == 1 ? "" : "s");
	if (bp_error_isset(&err))
		cli_print_error("plot", &err);
	store_pipeline_iter_free(it);
	store_close(st);
	free(ids);
	free(secs);
	return rc;
}

/* `plot pipeline ID`: one stored CI pipeline (its id, provider id, project or ref). */
static int plot_pipeline(const struct cli_env *env, int argc, char **argv, const struct plot_dest *dest,
			 FILE *say)
{
	struct store_pipeline_iter *it;
	struct bp_pipeline p;
	struct bp_store *st;
	struct bp_error err;
	int r, rc = EXIT_INPUT;

	if (argc != 1)
		return cli_usage_error(&cli_plot, "plot pipeline wants one pipeline id");
	if (!(st = cli_open_store(env)))
		return EXIT_INPUT;
	bp_error_init(&err);
	it = store_select_pipelines(st, argv, 1, &err);
	r = it ? store_pipeline_next(it, &p, &err) : -1;
	if (r == 1) {
		struct analyzer_timeline t;
		analyzer_pipeline_timeline(&p, &t);
		if (report_chart_pipeline(dest, &p, &t, &err) == 0) {
			if (say)
				fprintf(say, "%s: pipeline chart of %s %s\n", dest->path, p.provider, p.external_id);
			rc = EXIT_OK;
		}
		analyzer_timeline_release(&t);
		bp_pipeline_release(&p);
	} else if (r == 0) {
		error("plot: no pipeline '%s'", argv[0]);
	}
	if (bp_error_isset(&err))
		cli_print_error("plot", &err);
	store_pipeline_iter_free(it);
	store_close(st);
	return rc;
}

static int run_plot(int argc, char **argv, const struct cli_env *env)
{
	static const struct option longopts[] = {
		{ "output", required_argument, NULL, 'o' },
		{ "size", required_argument, NULL, 's' },
		{ "top", required_argument, NULL, 't' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct plot_dest dest = { 0 };
	const char *out = NULL, *kind;
	long top = 15;
	int c, w = 1000, h = 600;

	optind = 1;
	while ((c = getopt_long(argc, argv, "o:s:t:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'o': out = optarg; break;
		case 's':
			if (sscanf(optarg, "%dx%d", &w, &h) != 2 || w < 200 || h < 150 || w > 8000 || h > 8000)
				return cli_usage_error(&cli_plot, "--size wants WIDTHxHEIGHT in pixels, like 1000x600");
			break;
		case 't':
			if (bp_parse_long(optarg, 1, 100, &top))
				return cli_usage_error(&cli_plot, "--top wants a number from 1 to 100");
			break;
		case 'h':
			return cli_help(&cli_plot);
		default:
			return cli_usage_error(&cli_plot, "bad option");
		}
	}
	if (optind >= argc)
		return cli_usage_error(&cli_plot, "which chart? (%s)", KINDS);
	kind = argv[optind++];
	if (strcmp(kind, "steps") && strcmp(kind, "timeline") && strcmp(kind, "cache") &&
	    strcmp(kind, "trend") && strcmp(kind, "sizes") && strcmp(kind, "compare") && strcmp(kind, "pipeline"))
		return cli_usage_error(&cli_plot, "unknown chart '%s' (%s)", kind, KINDS);
	if (!out)
		return cli_usage_error(&cli_plot, "-o FILE.png or FILE.svg");
	dest.path = out;
	dest.width = w;
	dest.height = h;
	/* a PNG's canvas: 4 bytes a pixel, and as much again for the data */
	if (plot_path_is_png(out))
		heap_reserve_huge(8 * (size_t)w * (size_t)h + (4u << 20));
	return cli_plot_chart(env, kind, argc - optind, argv + optind, &dest, (size_t)top, stdout);
}

int cli_plot_chart(const struct cli_env *env, const char *kind, int argc, char **argv,
		   const struct plot_dest *dest, size_t top, FILE *say)
{
	struct plot_data d;
	struct bp_selector sel;
	struct bp_store *st = NULL;
	struct bp_error err;
	long count = 0;
	size_t i;
	int rc;

	if (!strcmp(kind, "pipeline"))
		return plot_pipeline(env, argc, argv, dest, say);
	if (!strcmp(kind, "compare"))
		return plot_compare(env, argc, argv, dest, top, say);
	if (!strcmp(kind, "trend") && argc > 0 && !strcmp(argv[0], "pipelines"))
		return plot_pipeline_trend(env, argc - 1, argv + 1, dest, say);
	memset(&d, 0, sizeof(d));
	bp_selector_init(&sel);
	bp_error_init(&err);
	if ((rc = cli_parse_selectors(&cli_plot, argc, argv, &sel)) != EXIT_OK)
		goto out;
	rc = EXIT_INPUT;
	if (!(st = cli_open_store(env)))
		goto out;
	analyzer_summary_init(&d.sum, top);
	if (!strcmp(kind, "sizes"))
		d.st = st;
	/* cache and trend need each build's totals only, steps its steps' names:
	 * neither reads what else the steps hold; no chart draws a vertex,
	 * platform, instruction or output lines */
	if (cli_each_build(st, &sel, !strcmp(kind, "cache") || !strcmp(kind, "trend") ? STORE_STEPS_TIMES
				     : !strcmp(kind, "steps") ? STORE_STEPS_NAMED : STORE_STEPS_SHOWN,
			   take, &d, &count) || d.failed)
		goto out_data;
	if (!count) {
		error("plot: no builds match; nothing to draw");
		goto out_data;
	}
	analyzer_summary_finish(&d.sum);
	if (!strcmp(kind, "steps")) {
		rc = report_chart_steps(dest, &d.sum, &err);
	} else if (!strcmp(kind, "timeline")) {
		struct analyzer_timeline t;
		analyzer_timeline(&d.last, &t);
		rc = report_chart_timeline(dest, &d.last, &t, &err);
		analyzer_timeline_release(&t);
	} else if (!strcmp(kind, "sizes")) {
		size_t images = 0;
		rc = report_chart_sizes(dest, d.bars, d.nbars, top, &images, &err);
		if (!rc && say) {
			fprintf(say, "%s: sizes chart of %zu image%s, from %ld build%s\n", dest->path, images,
				images == 1 ? "" : "s", count, count == 1 ? "" : "s");
			goto out_data;
		}
	} else if (!strcmp(kind, "trend")) {
		rc = report_chart_trend(dest, d.ids, d.times, d.n, 0, &err);
	} else {
		rc = report_chart_cache(dest, d.ids, d.rates, d.n, d.sum.cache_hit_rate, &err);
	}
	if (rc) {
		cli_print_error("plot", &err); /* and no half-drawn picture was left behind */
		rc = EXIT_INPUT;
	} else if (say) {
		fprintf(say, "%s: %s chart of %ld build%s\n", dest->path, kind, count, count == 1 ? "" : "s");
	}
out_data:
	analyzer_summary_release(&d.sum);
	if (d.have_last)
		bp_build_release(&d.last);
	free(d.ids);
	free(d.rates);
	free(d.times);
	for (i = 0; i < d.nbars; i++)
		report_image_bar_release(&d.bars[i]);
	free(d.bars);
out:
	store_close(st);
	bp_selector_release(&sel);
	return rc;
}

const struct cli_command cli_plot = {
	.name = "plot",
	.run = run_plot,
	.summary = "draw a chart (" KINDS ") as PNG or SVG",
	.usage =
	"usage: buildprof plot KIND [SELECTOR...] -o FILE.png|FILE.svg [--size WxH] [--top N]\n"
	"       buildprof plot compare BEFORE AFTER -o FILE.png|FILE.svg\n"
	"       buildprof plot pipeline ID -o FILE.png|FILE.svg\n"
	"\n"
	"Draws a chart of the selected builds with libplot; the file's extension\n"
	"picks PNG or SVG. The same data gives the same bytes.\n"
	"\n"
	"Kinds:\n"
	"  steps      the slowest steps: median time per run, whisker to the p95\n"
	"  timeline   the newest selected build as a Gantt chart, critical path in red,\n"
	"             cached vertices hollow (needs start times: run or rawjson)\n"
	"  cache      cache hit rate per build, with the pooled rate\n"
	"  trend      build time per build (wall clock, else the sum of steps) with a\n"
	"             rolling median of 5; `trend pipelines [ID|PROJECT|REF...]`: the\n"
	"             stored CI pipelines' durations instead. Over 200, binned.\n"
	"  sizes      the images of the selected builds, newest first, as stacked bars:\n"
	"             the base image's bytes, then each layer the build added\n"
	"  compare BEFORE AFTER\n"
	"             the two selections of `compare`: the whole build and the slowest\n"
	"             paired steps, medians with 95% intervals, the change beside each\n"
	"             and ~ where it is not significant\n"
	"  pipeline ID  a stored CI pipeline's jobs as a Gantt chart, queue time\n"
	"             light gray, run time blue, critical path in red\n"
	"\n"
	"  -o, --output F   the file to write (.png or .svg)\n"
	"  -s, --size WxH   pixels (default 1000x600)\n"
	"  -t, --top N      steps on the steps and compare charts, images on the\n"
	"                   sizes chart (default 15)\n",
};
