/*
 * cli.h - (command-layer) the command table's row type and the helpers the
 * command files share: usage errors, opening the database, labels. Only this
 * layer prints to the user or chooses an exit status.
 */
#ifndef BUILDPROF_CLI_H
#define BUILDPROF_CLI_H

#include <stdio.h>

#include "buildprof/collector.h"
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
extern const struct cli_command cli_run;
extern const struct cli_command cli_images;
extern const struct cli_command cli_fetch;
extern const struct cli_command cli_compare;
extern const struct cli_command cli_post;
extern const struct cli_command cli_pipelines;
extern const struct cli_command cli_plot;

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

/* How an input becomes stored builds (ingest and run share it). */
struct cli_input_opts {
	const struct bp_format *format; /* --format, NULL to detect */
	const char *name;               /* the builds' name */
	struct bp_build labels;         /* --label K=V, held in a build's label list */
	/* Called on each build before it is stored (NULL for none). */
	void (*adjust)(struct bp_build *b, void *ctx);
	void *adjust_ctx;
	/* Parses instead of collector_parse_stream when set (same contract),
	 * given parse_ctx. */
	int (*parse)(FILE *in, const char *source, const struct bp_sink *sink,
		     struct collector_result *res, struct bp_error *err, void *ctx);
	void *parse_ctx;
	/* With parse: the input's result when its parse has ended without
	 * error and is known before the replay, else NULL (NULL for none).
	 * An input it shows stored before is not replayed at all. */
	const struct collector_result *(*parsed)(void *ctx);
	FILE *report_to;                /* where the "build N: ..." lines go; stdout when NULL */
};

/* Stores what `in` holds as one transaction: all its builds or none.
 * `display` names the input in messages and in the source record, `kind`
 * is the source kind ("ingest", "run"). Prints one line per stored build.
 * Returns EXIT_OK (also for bytes stored before) or EXIT_INPUT. */
int cli_store_input(struct bp_store *st, FILE *in, const char *display, const char *kind,
		    const struct cli_input_opts *opts);

/* Parses SELECTOR words into sel; EXIT_OK, or EXIT_USAGE after the message. */
int cli_parse_selectors(const struct cli_command *cmd, int argc, char *const argv[],
			struct bp_selector *sel);
/* Calls fn for each build sel matches (oldest first); stops when fn returns
 * non-zero. fn may keep a build: copy the struct and bp_build_init *b (a
 * report keeps the last build of each name, without copying its steps).
 * Sets *count to the builds read. Returns 0, or -1 after printing a
 * database error. */
int cli_each_build(struct bp_store *st, const struct bp_selector *sel, int with_steps,
		   int (*fn)(void *ctx, struct bp_build *b), void *ctx, long *count);
/* Work split over a second thread and connection pays for itself from
 * this many builds on: below, the thread's start, its connection and its
 * working memory (page faults, dear on these VMs) cost more than it saves:
 * a compare of 500 v 500 builds took 45 ms instead of 35. */
#define CLI_SECOND_CORE_FROM 2000
/* The same, reading on a second thread while fn runs on this one: for a fn
 * whose work on a build outweighs reading it (the report's analysis and
 * output). For a lighter fn it is slower: each build's memory then moves
 * between the two cores' caches, about 8 us a build, and a chart of 100k
 * builds took 2.45 s instead of 1.97 s. */
int cli_each_build_ahead(struct bp_store *st, const struct bp_selector *sel, int with_steps,
			 int (*fn)(void *ctx, struct bp_build *b), void *ctx, long *count);

struct analyzer_compare;
/* Loads the two selections of `compare` (each one argument of selector
 * words) into c (analyzer_compare_init'd by the caller) and finishes it.
 * cmd names the command in messages. A side matching no build is an error
 * message, or when empty_side is given, *empty_side = 1 (BEFORE) or 2 (AFTER)
 * and no message. Returns an exit status. */
int cli_load_compare(const struct cli_env *env, const struct cli_command *cmd, char *const sides[2],
		     struct analyzer_compare *c, int *empty_side);

struct plot_dest;
/* Draws chart kind (as `plot` does: steps, timeline, cache, trend, sizes
 * over SELECTOR words; compare over BEFORE AFTER; pipeline over an id) to
 * dest, saying what it drew on say (NULL: nothing). Returns an exit status. */
int cli_plot_chart(const struct cli_env *env, const char *kind, int argc, char **argv,
		   const struct plot_dest *dest, size_t top, FILE *say);

struct report_format;
struct report_options;
/* Renders the report of the builds sel matches (grouped by `by` when not
 * NULL) through fmt into opt->out. `selected` tells the "no builds" message
 * whether selectors were given. Returns an exit status. */
int cli_render_report(struct bp_store *st, const struct bp_selector *sel,
		      const struct report_format *fmt, const struct report_options *opt,
		      const char *by, int selected);

#endif
