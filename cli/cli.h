/*
 * cli.h - (command-layer) the command table's row type and the helpers the
 * command files share: usage errors, opening the database, labels. Only this
 * layer prints to the user or chooses an exit status.
 */
#ifndef BUILDPROF_CLI_H
#define BUILDPROF_CLI_H

#include <stdio.h>

#include "buildprof/model.h"
#include "buildprof/store.h"

/* Exit statuses (DESIGN.md, Command line). */
#define EXIT_OK 0
#define EXIT_INPUT 1
#define EXIT_USAGE 2

struct cli_env {
	const char *db_path; /* --db, else $BUILDPROF_DB, else ./buildprof.db */
};

struct cli_command {
	const char *name;
	int (*run)(int argc, char **argv, const struct cli_env *env);
	const char *summary; /* one line for `buildprof --help` */
	const char *usage;   /* the full --help text */
};

extern const struct cli_command cli_ingest;
extern const struct cli_command cli_builds;
extern const struct cli_command cli_report;

/* Prints "buildprof: NAME: message" and a pointer to --help; returns EXIT_USAGE. */
int cli_usage_error(const struct cli_command *cmd, const char *fmt, ...) BP_PRINTF(2, 3);
/* Prints the command's usage to stdout; returns EXIT_OK. */
int cli_help(const struct cli_command *cmd);
/* Opens the database, printing the error on failure (NULL). */
struct bp_store *cli_open_store(const struct cli_env *env);
/* Prints err as "buildprof: CMD: source:line: text". */
void cli_print_error(const char *cmd, const struct bp_error *err);
/* Splits "K=V" into new strings; returns -1 when it is not K=V. */
int cli_split_label(const char *arg, char **key, char **value);
/* Colour on out: a terminal, and NO_COLOR not set. */
int cli_color_wanted(FILE *out);

/* Parses SELECTOR words into sel; EXIT_OK, or EXIT_USAGE after the message. */
int cli_parse_selectors(const struct cli_command *cmd, int argc, char *const argv[],
			struct bp_selector *sel);
/* Calls fn for each build sel matches (oldest first); stops when fn returns
 * non-zero. Sets *count to the builds read. Returns 0, or -1 after printing a
 * database error. */
int cli_each_build(struct bp_store *st, const struct bp_selector *sel, int with_steps,
		   int (*fn)(void *ctx, const struct bp_build *b), void *ctx, long *count);

#endif
