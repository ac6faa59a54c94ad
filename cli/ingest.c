/*
 * ingest.c - `buildprof ingest`: stores build logs. Each input is one
 * transaction, so a bad input leaves nothing behind and the other inputs of
 * the same command are still stored.
 */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "buildprof/analyzer.h"
#include "buildprof/collector.h"
#include "buildprof/report.h"
#include "cli.h"

struct ingest_ctx {
	struct bp_store *st;
	long source_id;
	const char *display;   /* the input as the user named it */
	const struct cli_input_opts *opts;
	struct strbuf report;  /* what to print once committed */
	int builds, images;
	int linkable;          /* stored an image, or a build that names one */
};

/* "app.log" -> "app"; "-" -> "stdin" */
static char *default_name(const char *path)
{
	const char *base = strrchr(path, '/'), *dot;

	if (!strcmp(path, "-"))
		return xstrdup("stdin");
	base = base ? base + 1 : path;
	dot = strrchr(base, '.');
	if (dot && dot != base && (!strcmp(dot, ".log") || !strcmp(dot, ".txt") ||
				   !strcmp(dot, ".json") || !strcmp(dot, ".jsonl")))
		return xstrndup(base, (size_t)(dot - base));
	return xstrdup(base);
}

static int sink_build(void *vctx, struct bp_build *b, struct bp_error *err)
{
	struct ingest_ctx *ctx = vctx;
	struct analyzer_build_stats stats;
	char pct[16], secs[32];
	size_t i;

	free(b->name);
	b->name = xstrdup(ctx->opts->name);
	for (i = 0; i < ctx->opts->labels.nlabels; i++)
		bp_build_set_label(b, ctx->opts->labels.labels[i].key, ctx->opts->labels.labels[i].value);
	if (ctx->opts->adjust)
		ctx->opts->adjust(b, ctx->opts->adjust_ctx);
	if (store_put_build(ctx->st, ctx->source_id, b, err))
		return -1;
	ctx->builds++;
	ctx->linkable |= b->image_id != NULL;
	analyzer_build_stats(b, &stats);
	strbuf_addf(&ctx->report, "build %ld: %s  %s  %s  %d steps, %d cached (%s)", b->id,
		    ctx->display, b->format, bp_build_status_name(b->status), stats.steps_total,
		    stats.steps_cached, report_percent(stats.cache_hit_rate, pct, sizeof(pct)));
	if (!isnan(b->wall_s))
		strbuf_addf(&ctx->report, ", %s", report_seconds(b->wall_s, secs, sizeof(secs)));
	else if (!isnan(stats.step_seconds))
		strbuf_addf(&ctx->report, ", %s in steps",
			    report_seconds(stats.step_seconds, secs, sizeof(secs)));
	strbuf_addch(&ctx->report, '\n');
	return 0;
}

static int sink_image(void *vctx, struct bp_image *img, struct bp_error *err)
{
	struct ingest_ctx *ctx = vctx;
	char a[32], b[32];

	if (store_put_image(ctx->st, ctx->source_id, img, err))
		return -1;
	ctx->images++;
	ctx->linkable = 1;
	strbuf_addf(&ctx->report, "image %ld: %s  %s%s%s  %zu layers, %s, %s compressed\n", img->id,
		    ctx->display, img->ref ? img->ref : img->digest ? img->digest : "(unnamed)",
		    img->platform ? "  " : "", img->platform ? img->platform : "", img->nlayers,
		    report_bytes(img->size_bytes, a, sizeof(a)),
		    report_bytes(img->compressed_bytes, b, sizeof(b)));
	return 0;
}

static int sink_pipeline(void *vctx, struct bp_pipeline *pl, struct bp_error *err)
{
	struct ingest_ctx *ctx = vctx;
	char d[32];

	if (store_put_pipeline(ctx->st, ctx->source_id, pl, err))
		return -1;
	ctx->images++; /* counts as something stored */
	strbuf_addf(&ctx->report, "pipeline %ld: %s  %s %s  %s%s%s  %zu jobs, %s\n", pl->id, ctx->display,
		    pl->provider, pl->external_id, pl->status ? pl->status : "?", pl->ref ? "  " : "",
		    pl->ref ? pl->ref : "", pl->njobs, report_seconds(pl->duration_s, d, sizeof(d)));
	return 0;
}

/* The same bytes were stored before, as source `existing`: nothing of
 * this input is kept, and the message says where they are. */
static int stored_before(struct bp_store *st, const char *display, long existing)
{
	struct strbuf what = STRBUF_INIT;
	struct bp_error err;

	bp_error_init(&err);
	store_rollback(st);
	store_source_summary(st, existing, &what, &err);
	printf("%s: already ingested as %s (same bytes); nothing stored\n", display,
	       what.len ? what.buf : "an earlier input");
	strbuf_release(&what);
	return EXIT_OK;
}

int cli_store_input(struct bp_store *st, FILE *in, const char *display, const char *kind,
		    const struct cli_input_opts *opts)
{
	struct ingest_ctx ctx = { 0 };
	struct bp_sink sink = { .build = sink_build, .image = sink_image, .pipeline = sink_pipeline,
				.ctx = &ctx };
	const struct collector_result *known = opts->parsed ? opts->parsed(opts->parse_ctx) : NULL;
	struct collector_result res;
	struct bp_error err;
	long existing = 0;
	int rc = EXIT_INPUT, dup;

	bp_error_init(&err);
	strbuf_init(&ctx.report, 0);
	ctx.st = st;
	ctx.display = display;
	ctx.opts = opts;
	if (store_begin(st, &err))
		goto fail;
	/* with the fingerprint in hand, the source row is written once, and
	 * an input stored before is not stored again only to be removed */
	ctx.source_id = known ? store_put_source_known(st, kind, display, known->sha256, known->bytes,
						       &existing, &err)
			      : store_put_source(st, kind, display, &err);
	if (ctx.source_id < 0)
		goto fail;
	/* stored before: its parse is never replayed, and the next input's
	 * open (or, after the last, the finish) drops what it found */
	if (!ctx.source_id) {
		rc = stored_before(st, display, existing);
		goto cleanup;
	}
	if (opts->parse)
		rc = opts->parse(in, display, &sink, &res, &err, opts->parse_ctx);
	else
		rc = collector_parse_stream(in, display, opts->format, &sink, &res, &err);
	if (rc)
		goto fail;
	rc = EXIT_INPUT;
	if (!ctx.builds && !ctx.images) {
		bp_error_set(&err, display, 0, "no build, image or pipeline found in the input");
		goto fail;
	}
	/* only an image or a build's image id can make a new link; the UPDATE
	 * builds a temporary table each time, a twentieth of a pipeline ingest */
	if (ctx.linkable && store_link_images(st, &err))
		goto fail;
	dup = known ? 0 : store_finish_source(st, ctx.source_id, res.sha256, res.bytes, &existing, &err);
	if (dup < 0)
		goto fail;
	if (dup) {
		rc = stored_before(st, display, existing);
		goto cleanup;
	}
	if (store_commit(st, &err))
		goto fail;
	fputs(ctx.report.buf, opts->report_to ? opts->report_to : stdout);
	if (res.dropped_bytes)
		warning("%s: %s: over-long lines were cut to %d KiB (%lld bytes dropped)", kind, display,
			BP_LINE_MAX / 1024, res.dropped_bytes);
	rc = EXIT_OK;
	goto cleanup;
fail:
	store_rollback(st);
	cli_print_error(kind, &err);
cleanup:
	strbuf_release(&ctx.report);
	return rc;
}

static int ingest_one(struct bp_store *st, const char *path, struct collector_ahead *ahead,
		      const struct cli_input_opts *opts)
{
	struct cli_input_opts o = *opts;
	char *name = NULL;
	FILE *in = NULL;
	int rc, errnum = 0;

	if (ahead) {
		errnum = collector_ahead_open_next(ahead);
		o.parse = collector_ahead_replay;
		o.parsed = collector_ahead_parsed;
		o.parse_ctx = ahead;
	} else if (!(in = strcmp(path, "-") ? fopen(path, "rb") : stdin)) {
		errnum = errno;
	}
	if (errnum)
		return error("ingest: cannot open '%s': %s", path, strerror(errnum)), EXIT_INPUT;
	if (!o.name)
		o.name = name = default_name(path);
	rc = cli_store_input(st, in, strcmp(path, "-") ? path : "stdin", "ingest", &o);
	if (in && in != stdin)
		fclose(in);
	free(name);
	return rc;
}

/* When ingest is given many files, they go in batches, each one
 * transaction: a commit costs a WAL write of every page it touched (the
 * fingerprint index's leaves are random, a page per input past 10k builds) and
 * every 1,000 pages of WAL (16 MB) a checkpoint with two syncs (100k logs:
 * 48 fdatasync calls, 0.47 s, then 0.075 s once the store had the kernel
 * write its files out as they grew, write_behind.c; checkpoints further
 * apart sync the same bytes in fewer calls). 256 inputs a batch made ingest
 * of 10k files into a 90k-build database 25% slower than one transaction.
 * A batch ends once it has run this long, so the WAL stays small and a
 * crash loses at most this much work (ingest again to redo it: the files
 * stored already are skipped). */
#define INGEST_BATCH_SECONDS 1.0

static int batch_begin(struct bp_store *st)
{
	struct bp_error err;

	bp_error_init(&err);
	if (!store_batch_begin(st, &err))
		return 0;
	cli_print_error("ingest", &err);
	return -1;
}

static int batch_commit(struct bp_store *st)
{
	struct bp_error err;

	if (!store_in_batch(st))
		return 0;
	bp_error_init(&err);
	if (!store_batch_commit(st, &err))
		return 0;
	cli_print_error("ingest", &err);
	return -1;
}

static int run_ingest(int argc, char **argv, const struct cli_env *env)
{
	static const struct option longopts[] = {
		{ "format", required_argument, NULL, 'f' },
		{ "name", required_argument, NULL, 'n' },
		{ "label", required_argument, NULL, 'l' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct cli_input_opts opts = { 0 };
	struct collector_ahead *ahead = NULL;
	struct bp_store *st;
	int c, i, rc = EXIT_OK;
	double opened = 0;
	char *k, *v;

	bp_build_init(&opts.labels);
	optind = 1;
	while ((c = getopt_long(argc, argv, "f:n:l:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'f':
			opts.format = collector_format(optarg);
			if (!opts.format) {
				rc = cli_usage_error(&cli_ingest, "unknown format '%s'", optarg);
				goto out;
			}
			break;
		case 'n':
			opts.name = optarg;
			break;
		case 'l':
			if (cli_split_label(optarg, &k, &v)) {
				rc = cli_usage_error(&cli_ingest, "--label wants KEY=VALUE, not '%s'", optarg);
				goto out;
			}
			bp_build_set_label(&opts.labels, k, v);
			free(k);
			free(v);
			break;
		case 'h':
			rc = cli_help(&cli_ingest);
			goto out;
		default:
			rc = cli_usage_error(&cli_ingest, "bad option");
			goto out;
		}
	}
	if (optind >= argc) {
		rc = cli_usage_error(&cli_ingest, "no input files (use - for stdin)");
		goto out;
	}
	st = cli_open_store(env);
	if (!st) {
		rc = EXIT_INPUT;
		goto out;
	}
	/* one input parses as it is stored: a thread would only add its start */
	if (argc - optind > 1)
		ahead = collector_ahead_start(argv + optind, (size_t)(argc - optind), opts.format);
	for (i = optind; i < argc; i++) {
		if (!store_in_batch(st) && argc - i > 1) {
			if (batch_begin(st))
				rc = EXIT_INPUT;
			opened = bp_monotonic();
		}
		if (ingest_one(st, argv[i], ahead, &opts) != EXIT_OK)
			rc = EXIT_INPUT;
		if ((i == argc - 1 || bp_monotonic() - opened >= INGEST_BATCH_SECONDS) && batch_commit(st))
			rc = EXIT_INPUT;
	}
	collector_ahead_finish(ahead);
	store_close(st);
out:
	bp_build_release(&opts.labels);
	return rc;
}

const struct cli_command cli_ingest = {
	.name = "ingest",
	.run = run_ingest,
	.summary = "store build logs and image metadata (formats: see ingest --help)",
	.usage =
	"usage: buildprof ingest [--format F] [--name N] [--label K=V]... FILE...\n"
	"\n"
	"Parses each FILE (- for stdin) and stores the build(s) it holds. Each file\n"
	"is all or nothing: a file that fails leaves nothing behind, the others are\n"
	"still stored (committed together, a transaction each second). The same\n"
	"bytes ingested again are recognised and skipped.\n"
	"\n"
	"  -f, --format F     the input format instead of detecting it:\n"
	"                       buildkit  BuildKit --progress=plain (docker build, buildx)\n"
	"                       legacy    the classic builder (DOCKER_BUILDKIT=0)\n"
	"                       buildah   podman build / buildah bud\n"
	"                       kaniko    kaniko executor logs\n"
	"                       rawjson   BuildKit --progress=rawjson (JSON lines)\n"
	"                       inspect   docker image inspect JSON\n"
	"                       history   docker history --no-trunc --format '{{json .}}'\n"
	"                       manifest  registry manifests, indexes, image configs\n"
	"                       gitlab    GitLab CI REST JSON and webhooks (pipelines, jobs)\n"
	"                       github    GitHub Actions REST JSON and webhooks (runs, jobs)\n"
	"  -n, --name N       the build's name (default: the file name without .log)\n"
	"  -l, --label K=V    attach a label, e.g. --label variant=alpine (repeatable)\n"
	"  -h, --help         this text\n"
	"\n"
	"Prints one line per stored build or image; an image is linked to the build\n"
	"that produced it (same image id). Exit status 1 when any input failed.\n",
};
