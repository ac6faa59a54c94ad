/*
 * compare.c - `buildprof compare BEFORE AFTER`: did a change make builds
 * faster, beyond the noise? Each side is a selection of builds; the
 * analyzer does the statistics, the report prints them.
 */
#include <getopt.h>
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "buildprof/analyzer.h"
#include "buildprof/report.h"
#include "cli.h"

#define EXIT_REGRESSION 3

struct compare_load;

/* One side's loading: its builds read and added to its side of c, which
 * touches nothing of the other side's. */
struct side_load {
	struct compare_load *all;
	struct bp_store *st; /* the connection it reads (SQLite runs here without
			      * mutexes: a connection is one thread's) */
	const struct bp_selector *sel;
	int side;
	long count;
	int failed;
};

struct compare_load {
	struct analyzer_compare *c;
	struct side_load side[2];
	struct bp_store *after_st; /* AFTER's own connection, once it runs on a thread */
	pthread_t thread;
	pthread_barrier_t loaded; /* both sides read: each then makes its rows */
	int threaded;
};

static int add_build(void *vctx, struct bp_build *b);

static void load_side(struct side_load *l)
{
	l->failed = cli_each_build(l->st, l->sel, STORE_STEPS_NAMED, add_build, l, &l->count) != 0;
	if (!l->failed)
		analyzer_compare_side_done(l->all->c, l->side);
}

/* Once both sides are read, the step rows too are made on both threads:
 * BEFORE's here, AFTER's there, each pairing its own steps with the other
 * side's. One thread made them all in a fifth of a compare over 100k
 * builds. */
static void make_rows(struct compare_load *all, int side)
{
	int both = 0;

	pthread_barrier_wait(&all->loaded);
	if (!all->side[0].failed && !all->side[1].failed) {
		both = 1;
		if (!side)
			analyzer_compare_rows_begin(all->c);
	}
	pthread_barrier_wait(&all->loaded); /* the rows' room made */
	if (both)
		analyzer_compare_rows(all->c, side);
}

static void *load_side_thread(void *arg)
{
	struct side_load *l = arg;

	load_side(l);
	make_rows(l->all, l->side);
	return NULL;
}

/* AFTER loads on a second thread with its own connection, from now on
 * beside BEFORE; when it cannot, it loads after BEFORE as it always did. */
static void start_after(struct compare_load *all, struct bp_store *st)
{
	struct bp_error err;

	bp_error_init(&err);
	all->after_st = store_open_again(st, &err);
	if (!all->after_st)
		return;
	all->side[1].st = all->after_st;
	if (pthread_barrier_init(&all->loaded, NULL, 2))
		return;
	if (!pthread_create(&all->thread, NULL, load_side_thread, &all->side[1]))
		all->threaded = 1;
	else
		pthread_barrier_destroy(&all->loaded);
}

static int add_build(void *vctx, struct bp_build *b)
{
	struct side_load *l = vctx;

	analyzer_compare_add(l->all->c, l->side, b);
	/* AFTER on a second thread once BEFORE proves large */
	if (l->side == 0 && l->count == CLI_SECOND_CORE_FROM) /* counted before this call */
		start_after(l->all, l->st);
	return 0;
}

/* "label:v=old name:app*" or "label:v=old,name:app*" -> selector words */
static int parse_side(const struct cli_command *cmd, const char *arg, struct bp_selector *sel)
{
	char *copy = xstrdup(arg), *words[64], *w, *save = NULL;
	int n = 0, rc;

	for (w = strtok_r(copy, " ,", &save); w && n < 64; w = strtok_r(NULL, " ,", &save))
		words[n++] = w;
	rc = cli_parse_selectors(cmd, n, words, sel);
	free(copy);
	return rc;
}

/* BEFORE loads here; once it proves large, AFTER loads beside it on a
 * second thread (start_after): each side reads and groups its own builds
 * on its own core, where passing builds between cores cost more than it
 * saved (cli.h). */
int cli_load_compare(const struct cli_env *env, const struct cli_command *cmd, char *const sides[2],
		     struct analyzer_compare *c, int *empty_side)
{
	struct bp_selector sel[2];
	struct compare_load all = { .c = c };
	struct bp_store *st = NULL;
	int k, rc = EXIT_USAGE;

	bp_selector_init(&sel[0]);
	bp_selector_init(&sel[1]);
	for (k = 0; k < 2; k++)
		if ((rc = parse_side(cmd, sides[k], &sel[k])) != EXIT_OK)
			goto out;
	rc = EXIT_INPUT;
	if (!(st = cli_open_store(env)))
		goto out;
	for (k = 0; k < 2; k++)
		all.side[k] = (struct side_load){ .all = &all, .st = st, .sel = &sel[k], .side = k };
	load_side(&all.side[0]);
	if (all.threaded) {
		make_rows(&all, 0);
		pthread_join(all.thread, NULL);
		pthread_barrier_destroy(&all.loaded);
	} else {
		load_side(&all.side[1]);
	}
	for (k = 0; k < 2; k++) {
		if (all.side[k].failed)
			goto out;
		if (!all.side[k].count) {
			if (empty_side)
				*empty_side = k + 1;
			else
				error("%s: no builds match %s '%s'", cmd->name, k ? "AFTER" : "BEFORE", sides[k]);
			goto out;
		}
	}
	analyzer_compare_finish(c);
	rc = EXIT_OK;
out:
	bp_selector_release(&sel[0]);
	bp_selector_release(&sel[1]);
	store_close(all.after_st);
	store_close(st);
	return rc;
}

static int run_compare(int argc, char **argv, const struct cli_env *env)
{
	static const struct option longopts[] = {
		{ "format", required_argument, NULL, 'f' },
		{ "fail-on-regression", required_argument, NULL, 'r' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const struct report_compare_format *fmt = report_compare_format("text");
	struct analyzer_compare c;
	double fail_pct = NAN;
	int ch, rc = EXIT_USAGE;

	analyzer_compare_init(&c);
	optind = 1;
	while ((ch = getopt_long(argc, argv, "f:h", longopts, NULL)) != -1) {
		switch (ch) {
		case 'f':
			if (!(fmt = report_compare_format(optarg))) {
				rc = cli_usage_error(&cli_compare, "unknown format '%s' (text, json, markdown)", optarg);
				goto out;
			}
			break;
		case 'r': {
			char *end;
			fail_pct = strtod(optarg, &end);
			if (end == optarg || *end || !isfinite(fail_pct) || fail_pct < 0) {
				rc = cli_usage_error(&cli_compare, "--fail-on-regression wants a percentage, like 10");
				goto out;
			}
			break;
		}
		case 'h':
			rc = cli_help(&cli_compare);
			goto out;
		default:
			rc = cli_usage_error(&cli_compare, "bad option");
			goto out;
		}
	}
	if (argc - optind != 2) {
		rc = cli_usage_error(&cli_compare, "wants two selections, BEFORE and AFTER");
		goto out;
	}
	if ((rc = cli_load_compare(env, &cli_compare, argv + optind, &c, NULL)) != EXIT_OK)
		goto out;
	fmt->print(stdout, &c, argv[optind], argv[optind + 1], cli_color_wanted(stdout));
	rc = EXIT_OK;
	/* slower by more than the allowed percentage, and the test says it is real */
	if (!isnan(fail_pct) && c.significant && c.speedup > 0 && 1 / c.speedup > 1 + fail_pct / 100) {
		error("compare: AFTER is %.0f%% slower than BEFORE (allowed: %g%%)",
		      (1 / c.speedup - 1) * 100, fail_pct);
		rc = EXIT_REGRESSION;
	}
out:
	analyzer_compare_release(&c);
	return rc;
}

const struct cli_command cli_compare = {
	.name = "compare",
	.run = run_compare,
	.summary = "before/after: is the difference real? (medians, intervals, U test)",
	.usage =
	"usage: buildprof compare BEFORE AFTER [--format text|json|markdown] [--fail-on-regression PCT]\n"
	"\n"
	"Compares two selections of builds, each given as one argument of selector\n"
	"words (quote it, or join the words with commas): 'label:variant=old'\n"
	"'label:variant=new', or 'name:app 1..20' 'name:app last:10'.\n"
	"\n"
	"Per side: the median build time (wall clock when every build has one, else\n"
	"the sum of step times) with its 95% interval from order statistics; the\n"
	"change as the ratio of medians; a two-sided Mann-Whitney U test at 0.05,\n"
	"shown as ~ when not significant. Below 4 builds a side no test is possible,\n"
	"below 6 no finite interval; it says so. Steps are paired by stage and\n"
	"instruction, each with its own interval and test, and a geometric mean of the\n"
	"paired ratios;\n"
	"added and removed steps are listed. Cache hit rate and image size beside.\n"
	"\n"
	"  -f, --format F               text (default), json (buildprof.compare/1), or\n"
	"                               markdown (a section for a merge-request comment)\n"
	"      --fail-on-regression PCT exit 3 when AFTER is significantly slower by\n"
	"                               more than PCT percent\n"
	"  -h, --help                   this text\n",
};
