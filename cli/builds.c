/*
 * builds.c - `buildprof builds`: lists stored builds, one line each, or as
 * JSON for scripts.
 */
#include <getopt.h>
#include <jansson.h>
#include <math.h>
#include <string.h>

#include "buildprof/analyzer.h"
#include "buildprof/report.h"
#include "cli.h"

struct list_ctx {
	int json;
	long n;
};

static int list_one(void *vctx, struct bp_build *b)
{
	struct list_ctx *ctx = vctx;
	struct analyzer_build_stats s;
	char pct[16], secs[32], cut[64];
	size_t i;

	analyzer_build_stats(b, &s);
	if (ctx->json) {
		json_t *o = json_object(), *labels = json_object();
		for (i = 0; i < b->nlabels; i++)
			report_json_set(labels, b->labels[i].key, report_json_string(b->labels[i].value));
		json_object_set_new(o, "id", json_integer(b->id));
		json_object_set_new(o, "name", report_json_string(b->name));
		json_object_set_new(o, "format", report_json_string(b->format));
		json_object_set_new(o, "status", json_string(bp_build_status_name(b->status)));
		json_object_set_new(o, "labels", labels);
		json_object_set_new(o, "steps_total", json_integer(s.steps_total));
		json_object_set_new(o, "steps_cached", json_integer(s.steps_cached));
		json_object_set_new(o, "cache_hit_rate",
				    isnan(s.cache_hit_rate) ? json_null() : json_real(s.cache_hit_rate));
		json_object_set_new(o, "wall_s", isnan(b->wall_s) ? json_null() : json_real(b->wall_s));
		json_object_set_new(o, "step_seconds",
				    isnan(s.step_seconds) ? json_null() : json_real(s.step_seconds));
		json_object_set_new(o, "source", report_json_string(b->source_path));
		fputs(ctx->n++ ? ",\n" : "\n", stdout);
		report_json_dump(o, stdout, JSON_COMPACT | JSON_REAL_PRECISION(12));
		json_decref(o);
		return 0;
	}
	if (!ctx->n++)
		printf("%6s  %-24s %-9s %-10s %5s %7s %6s %9s  %s\n", "ID", "NAME", "FORMAT", "STATUS",
		       "STEPS", "CACHED", "CACHE%", "TIME", "LABELS");
	printf("%6ld  %-24s %-9s %-10s %5d %7d %6s %9s", b->id,
	       report_ellipsize(b->name, 24, cut, sizeof(cut)), b->format,
	       bp_build_status_name(b->status), s.steps_total, s.steps_cached,
	       report_percent(s.cache_hit_rate, pct, sizeof(pct)),
	       report_seconds(isnan(b->wall_s) ? s.step_seconds : b->wall_s, secs, sizeof(secs)));
	for (i = 0; i < b->nlabels; i++)
		printf("%s%s=%s", i ? " " : "  ", b->labels[i].key, b->labels[i].value);
	putchar('\n');
	return 0;
}

static int run_builds(int argc, char **argv, const struct cli_env *env)
{
	static const struct option longopts[] = {
		{ "format", required_argument, NULL, 'f' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct list_ctx ctx = { 0 };
	struct bp_selector sel;
	struct bp_store *st = NULL;
	long count;
	int c, rc;

	bp_selector_init(&sel);
	optind = 1;
	while ((c = getopt_long(argc, argv, "f:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'f':
			if (strcmp(optarg, "text") && strcmp(optarg, "json")) {
				rc = cli_usage_error(&cli_builds, "unknown format '%s' (text, json)", optarg);
				goto out;
			}
			ctx.json = !strcmp(optarg, "json");
			break;
		case 'h':
			rc = cli_help(&cli_builds);
			goto out;
		default:
			rc = cli_usage_error(&cli_builds, "bad option");
			goto out;
		}
	}
	rc = cli_parse_selectors(&cli_builds, argc - optind, argv + optind, &sel);
	if (rc != EXIT_OK)
		goto out;
	rc = EXIT_INPUT;
	st = cli_open_store(env);
	if (!st)
		goto out;
	if (ctx.json)
		fputs("{\"schema\":\"buildprof.builds/1\",\"builds\":[", stdout);
	/* a line per build needs its steps' counts and times, not their text */
	if (cli_each_build(st, &sel, STORE_STEPS_TIMES | STORE_LABELS, list_one, &ctx, &count))
		goto out;
	if (ctx.json)
		fputs(count ? "\n]}\n" : "]}\n", stdout);
	else if (!count)
		printf("no builds%s\n", argc > optind ? " match" : " stored yet");
	rc = EXIT_OK;
out:
	store_close(st);
	bp_selector_release(&sel);
	return rc;
}

const struct cli_command cli_builds = {
	.name = "builds",
	.run = run_builds,
	.summary = "list stored builds",
	.usage =
	"usage: buildprof builds [SELECTOR...] [--format text|json]\n"
	"\n"
	"Lists the stored builds (all, or those the selectors match), oldest first:\n"
	"id, name, format, status, steps, cached steps, cache hit rate, time (wall\n"
	"clock when known, else the sum of step durations) and labels.\n"
	"\n"
	"  -f, --format F   text (default) or json (schema buildprof.builds/1)\n"
	"  -h, --help       this text\n"
	"\n"
	"Selectors: ID, A..B, last:N, label:K=V, name:GLOB, format:F, status:S.\n",
};
