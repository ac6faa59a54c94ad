/*
 * cli_util.c - helpers shared by the command files.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buildprof/analyzer.h"
#include "cli.h"

int cli_usage_error(const struct cli_command *cmd, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	fprintf(stderr, "buildprof: %s: %s\n", cmd->name, msg);
	fprintf(stderr, "Try 'buildprof %s --help'.\n", cmd->name);
	return EXIT_USAGE;
}

int cli_help(const struct cli_command *cmd)
{
	fputs(cmd->usage, stdout);
	return EXIT_OK;
}

void cli_print_error(const char *cmd, const struct bp_error *err)
{
	char buf[2048];

	fprintf(stderr, "buildprof: %s: %s\n", cmd, bp_error_format(err, buf, sizeof(buf)));
}

struct bp_store *cli_open_store(const struct cli_env *env)
{
	struct bp_error err;
	struct bp_store *st;

	bp_error_init(&err);
	st = store_open(env->db_path, &err);
	if (!st)
		cli_print_error("database", &err);
	return st;
}

int cli_split_label(const char *arg, char **key, char **value)
{
	const char *eq = strchr(arg, '=');

	if (!eq || eq == arg)
		return -1;
	*key = xstrndup(arg, (size_t)(eq - arg));
	*value = xstrdup(eq + 1);
	return 0;
}

int cli_color_wanted(FILE *out)
{
	const char *nc = getenv("NO_COLOR");

	if (nc && *nc)
		return 0;
	return isatty(fileno(out));
}

int cli_parse_selectors(const struct cli_command *cmd, int argc, char *const argv[],
			struct bp_selector *sel)
{
	struct bp_error err;

	bp_error_init(&err);
	if (analyzer_parse_selector(argc, argv, sel, &err))
		return cli_usage_error(cmd, "%s", err.text);
	return EXIT_OK;
}

int cli_each_build(struct bp_store *st, const struct bp_selector *sel, int with_steps,
		   int (*fn)(void *ctx, struct bp_build *b), void *ctx, long *count)
{
	struct bp_error err;
	struct store_iter *it;
	struct bp_build b;
	int r;

	bp_error_init(&err);
	*count = 0;
	it = store_select_builds(st, sel, with_steps, &err);
	if (!it) {
		cli_print_error("database", &err);
		return -1;
	}
	while ((r = store_iter_next(it, &b, &err)) == 1) {
		(*count)++;
		r = fn(ctx, &b);
		bp_build_release(&b);
		if (r)
			break;
	}
	store_iter_free(it);
	if (r < 0) {
		cli_print_error("database", &err);
		return -1;
	}
	return 0;
}

/* The reading side of cli_each_build, on its own thread and connection. */
struct build_reader {
	struct bp_store *st;
	const struct bp_selector *sel;
	int with_steps;
	int failed;           /* err says why */
	struct bp_error err;
};

static void release_build(void *b)
{
	bp_build_release(b);
}

static void read_builds(struct bp_handoff *h, void *arg)
{
	struct build_reader *rd = arg;
	struct store_iter *it = store_select_builds(rd->st, rd->sel, rd->with_steps, &rd->err);
	struct bp_build b;
	int r = -1;

	if (it)
		while ((r = store_iter_next(it, &b, &rd->err)) == 1 &&
		       !bp_handoff_push(h, &b, bp_build_footprint(&b)))
			;
	rd->failed = r < 0;
	store_iter_free(it);
}

/* Reading the builds (SQLite stepping through every step row) costs about
 * what a report's analysis and output of them cost, so a second thread
 * reads, on a second connection, while fn runs here. */
int cli_each_build_ahead(struct bp_store *st, const struct bp_selector *sel, int with_steps,
			 int (*fn)(void *ctx, struct bp_build *b), void *ctx, long *count)
{
	struct build_reader rd = { .sel = sel, .with_steps = with_steps };
	struct bp_handoff *h = NULL;
	struct bp_build *b;
	struct bp_error ignored; /* rd.err is the reader's from here on */

	*count = 0;
	bp_error_init(&rd.err);
	rd.st = store_open_again(st, &rd.err);
	if (rd.st)
		h = bp_handoff_start(sizeof(*b), read_builds, &rd, release_build);
	if (!h) { /* the work is the same on one thread, only slower */
		store_close(rd.st);
		return cli_each_build(st, sel, with_steps, fn, ctx, count);
	}
	/* fn's queries on this connection: without a transaction held over
	 * them (the reader's statement held one before it had its own
	 * connection), each took the WAL's read lock anew, a fifth of a
	 * report's time. Failing that, they still work, each on its own. */
	bp_error_init(&ignored);
	store_read_begin(st, &ignored);
	/* each build goes back to the reader to be freed, with the next one */
	while ((b = bp_handoff_next(h))) {
		(*count)++;
		if (fn(ctx, b))
			break;
	}
	store_read_end(st);
	bp_handoff_finish(h);
	store_close(rd.st);
	if (rd.failed) {
		cli_print_error("database", &rd.err);
		return -1;
	}
	return 0;
}
