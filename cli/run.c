/*
 * run.c - `buildprof run -- CMD ARGS...`: runs a build, passing its output
 * through unchanged, then stores it with the line times the wrapper
 * recorded, so even the legacy builder's steps get durations. Exits with the
 * command's status: buildprof never turns a green CI job red, nor a red one
 * green.
 */
#include <getopt.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buildprof/collector.h"
#include "cli.h"

/* CI variables that identify the job a build ran in (never tokens). */
static const char *const ci_vars[] = {
	"CI_JOB_ID", "CI_JOB_NAME", "CI_PIPELINE_ID", "CI_PROJECT_PATH", "CI_PROJECT_ID",
	"CI_COMMIT_SHA", "CI_COMMIT_REF_NAME", "CI_MERGE_REQUEST_IID",
	"GITHUB_RUN_ID", "GITHUB_RUN_ATTEMPT", "GITHUB_JOB", "GITHUB_WORKFLOW", "GITHUB_REPOSITORY",
	"GITHUB_SHA", "GITHUB_REF_NAME",
};

struct run_ctx {
	struct collector_run_result res;
	const char *command;
};

/* Puts the wrapper's facts on each build: its own clock beats the log's,
 * and the command's exit status has the last word on success. */
static void adjust(struct bp_build *b, void *vctx)
{
	struct run_ctx *ctx = vctx;
	char msg[128];
	size_t i;

	b->started_at = ctx->res.started_at;
	b->wall_s = ctx->res.wall_s;
	if (ctx->res.interrupted) {
		b->status = BP_BUILD_INCOMPLETE;
	} else if (ctx->res.exit_status != 0 && b->status == BP_BUILD_SUCCESS) {
		b->status = BP_BUILD_FAILED;
		snprintf(msg, sizeof(msg), "command exited with status %d", ctx->res.exit_status);
		free(b->error);
		b->error = xstrdup(msg);
	} else if (ctx->res.exit_status == 0 && b->status == BP_BUILD_INCOMPLETE && !b->nsteps) {
		b->status = BP_BUILD_SUCCESS;
	}
	for (i = 0; i < BP_ARRAY_SIZE(ci_vars); i++) {
		const char *v = getenv(ci_vars[i]);
		if (v && *v)
			bp_build_set_label(b, ci_vars[i], v);
	}
}

/* Output that is no build log is still a timed command. */
static int parse(FILE *in, const char *source, const struct bp_sink *sink,
		 struct collector_result *res, struct bp_error *err, void *vctx)
{
	struct bp_build b;
	struct bp_error ignored;
	int rc;

	rc = collector_parse_stream(in, source, NULL, sink, res, err);
	if (rc == 0 || res->format)
		return rc;
	bp_error_init(&ignored);
	*err = ignored;
	bp_build_init(&b);
	b.format = xstrdup("command");
	b.status = BP_BUILD_SUCCESS; /* adjust() applies the exit status */
	rc = sink->build(sink->ctx, &b, err);
	bp_build_release(&b);
	return rc;
}

/* "docker build -t reg/app:1.2 ." -> "reg/app"; else the command's name. */
static char *default_name(char *const argv[])
{
	const char *tag = NULL, *slash, *colon;
	int i;

	for (i = 1; argv[i]; i++) {
		if ((!strcmp(argv[i], "-t") || !strcmp(argv[i], "--tag")) && argv[i + 1])
			tag = argv[i + 1];
		else if (!strncmp(argv[i], "--tag=", 6))
			tag = argv[i] + 6;
		else if (!strncmp(argv[i], "-t", 2) && argv[i][2])
			tag = argv[i] + 2;
	}
	if (tag) {
		slash = strrchr(tag, '/');
		colon = strrchr(tag, ':');
		if (colon && (!slash || colon > slash))
			return xstrndup(tag, (size_t)(colon - tag));
		return xstrdup(tag);
	}
	slash = strrchr(argv[0], '/');
	return xstrdup(slash ? slash + 1 : argv[0]);
}

static char *command_line(char *const argv[])
{
	struct strbuf sb = STRBUF_INIT;
	int i;

	for (i = 0; argv[i] && sb.len < 200; i++)
		strbuf_addf(&sb, "%s%s", i ? " " : "", argv[i]);
	if (sb.len > 200) {
		sb.len = 197;
		strbuf_addstr(&sb, "...");
	}
	return strbuf_detach(&sb, NULL);
}

static int run_run(int argc, char **argv, const struct cli_env *env)
{
	static const struct option longopts[] = {
		{ "name", required_argument, NULL, 'n' },
		{ "label", required_argument, NULL, 'l' },
		{ "format", required_argument, NULL, 'f' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct cli_input_opts opts = { 0 };
	struct run_ctx ctx = { 0 };
	struct bp_error err;
	struct bp_store *st = NULL;
	FILE *record = NULL;
	char *name = NULL, *k, *v;
	int c, rc = EXIT_USAGE;

	bp_build_init(&opts.labels);
	optind = 1;
	while ((c = getopt_long(argc, argv, "+n:l:f:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'n':
			opts.name = optarg;
			break;
		case 'l':
			if (cli_split_label(optarg, &k, &v)) {
				rc = cli_usage_error(&cli_run, "--label wants KEY=VALUE, not '%s'", optarg);
				goto out;
			}
			bp_build_set_label(&opts.labels, k, v);
			free(k);
			free(v);
			break;
		case 'f':
			if (!(opts.format = collector_format(optarg))) {
				rc = cli_usage_error(&cli_run, "unknown format '%s'", optarg);
				goto out;
			}
			break;
		case 'h':
			rc = cli_help(&cli_run);
			goto out;
		default:
			rc = cli_usage_error(&cli_run, "bad option");
			goto out;
		}
	}
	if (optind >= argc) {
		rc = cli_usage_error(&cli_run, "no command to run (buildprof run -- CMD ARGS...)");
		goto out;
	}
	record = tmpfile();
	if (!record) {
		/* still run the build: the job must not fail because we cannot record */
		error("run: cannot create a temporary file: %m; running without recording");
		execvp(argv[optind], argv + optind);
		error("run: cannot run '%s': %m", argv[optind]);
		rc = 127;
		goto out;
	}
	bp_error_init(&err);
	if (collector_run(argv + optind, record, &ctx.res, &err)) {
		cli_print_error("run", &err);
		rc = 127;
		goto out;
	}
	rc = ctx.res.exit_status;
	ctx.command = command_line(argv + optind);
	if (!opts.name)
		opts.name = name = default_name(argv + optind);
	opts.adjust = adjust;
	opts.adjust_ctx = &ctx;
	opts.parse = opts.format ? NULL : parse;
	opts.parse_ctx = &ctx;
	opts.report_to = stderr;
	rewind(record);
	st = cli_open_store(env);
	if (!st || cli_store_input(st, record, ctx.command, "run", &opts) != EXIT_OK)
		warning("run: the build was not recorded (the command's exit status stands)");
out:
	if (record)
		fclose(record);
	store_close(st);
	free(name);
	free((char *)ctx.command);
	bp_build_release(&opts.labels);
	return rc;
}

const struct cli_command cli_run = {
	.name = "run",
	.run = run_run,
	.summary = "run a build, pass its output through, and record it with timings",
	.usage =
	"usage: buildprof run [--name N] [--label K=V]... [--format F] -- CMD [ARGS...]\n"
	"\n"
	"Runs CMD, passing its standard output and error through unchanged, and\n"
	"timestamps every line as it arrives. When it ends, the output is parsed\n"
	"like `ingest` would (the line times give steps durations even where the log\n"
	"has none, as with the legacy builder) and stored; output that is no build\n"
	"log is stored as a timed command. Exits with CMD's exit status. Ctrl-C and\n"
	"SIGTERM are passed on to CMD; the build is then stored as incomplete.\n"
	"Inside CI the job's identity (CI_JOB_ID, CI_PIPELINE_ID, CI_COMMIT_SHA,\n"
	"GITHUB_RUN_ID, GITHUB_JOB, GITHUB_SHA, ...) is attached as labels.\n"
	"\n"
	"  -n, --name N       the build's name (default: the -t/--tag image name, else CMD)\n"
	"  -l, --label K=V    attach a label (repeatable)\n"
	"  -f, --format F     parse as F instead of detecting it\n"
	"  -h, --help         this text\n"
	"\n"
	"Example:  buildprof run --label variant=slim -- docker build --progress=plain -t app .\n",
};
