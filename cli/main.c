/*
 * main.c - the command table and global options. A command is a row here and
 * a file of its own; its return value is the exit status.
 */
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buildprof/jsonkeep.h"
#include "cli.h"

#ifndef BUILDPROF_VERSION
#define BUILDPROF_VERSION "0.1.0"
#endif

static const struct cli_command *const commands[] = {
	&cli_ingest,
	&cli_run,
	&cli_builds,
	&cli_report,
	&cli_compare,
	&cli_plot,
	&cli_images,
	&cli_pipelines,
	&cli_fetch,
	&cli_post,
};

static const struct cli_command *find_command(const char *name)
{
	size_t i;

	for (i = 0; i < BP_ARRAY_SIZE(commands); i++)
		if (!strcmp(commands[i]->name, name))
			return commands[i];
	return NULL;
}

static void usage(FILE *out)
{
	size_t i;

	fprintf(out, "usage: buildprof [--db PATH] COMMAND [OPTIONS] [ARGS]\n\n"
		     "Build-time profiler and cache analyzer for CI pipelines and Docker builds.\n\n"
		     "Commands:\n");
	for (i = 0; i < BP_ARRAY_SIZE(commands); i++)
		fprintf(out, "  %-10s %s\n", commands[i]->name, commands[i]->summary);
	fprintf(out, "  %-10s %s\n", "help", "show a command's options");
	fprintf(out, "\nGlobal options:\n"
		     "  --db PATH    the database (default: $BUILDPROF_DB, else ./buildprof.db)\n"
		     "  --help       this text;  --version  the version\n\n"
		     "Selectors (builds, report): ID, A..B, last:N, label:K=V, name:GLOB,\n"
		     "format:F, status:S. Ids and ranges add up; the others narrow.\n"
		     "Exit status: 0 ok, 1 an input or request failed (the rest kept), 2 usage.\n");
}

static int help_command(int argc, char **argv)
{
	const struct cli_command *cmd;

	if (argc < 2) {
		usage(stdout);
		return EXIT_OK;
	}
	cmd = find_command(argv[1]);
	if (!cmd) {
		fprintf(stderr, "buildprof: help: no command '%s'\n", argv[1]);
		return EXIT_USAGE;
	}
	return cli_help(cmd);
}

int main(int argc, char **argv)
{
	struct cli_env env = { 0 };
	const struct cli_command *cmd;
	int i = 1;

	/* Ingesting thousands of small files frees and re-grows the same few MB
	 * per file; by default glibc hands them back to the kernel each time and
	 * page faults on the way up cost ~15% of ingest (make bench). */
	mallopt(M_TRIM_THRESHOLD, 64 << 20);
	mallopt(M_TOP_PAD, 16 << 20);
	bp_json_kept_install(); /* before any thread or JSON */

	env.db_path = getenv("BUILDPROF_DB");
	if (!env.db_path || !*env.db_path)
		env.db_path = "buildprof.db";
	while (i < argc && argv[i][0] == '-') {
		if (!strcmp(argv[i], "--db") && i + 1 < argc) {
			env.db_path = argv[i + 1];
			i += 2;
		} else if (!strncmp(argv[i], "--db=", 5)) {
			env.db_path = argv[i] + 5;
			i++;
		} else if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
			usage(stdout);
			return EXIT_OK;
		} else if (!strcmp(argv[i], "--version")) {
			printf("buildprof %s\n", BUILDPROF_VERSION);
			return EXIT_OK;
		} else {
			fprintf(stderr, "buildprof: unknown option '%s'\n", argv[i]);
			usage(stderr);
			return EXIT_USAGE;
		}
	}
	if (i >= argc) {
		usage(stderr);
		return EXIT_USAGE;
	}
	if (!strcmp(argv[i], "help"))
		return help_command(argc - i, argv + i);
	cmd = find_command(argv[i]);
	if (!cmd) {
		fprintf(stderr, "buildprof: '%s' is not a command; see 'buildprof --help'\n", argv[i]);
		return EXIT_USAGE;
	}
	return cmd->run(argc - i, argv + i, &env);
}
