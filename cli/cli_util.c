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
