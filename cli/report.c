/*
 * report.c - `buildprof report`: the analysis of the selected builds in a
 * chosen output format. Reads, analyses and renders one build at a time.
 */
#include <getopt.h>
#include <pthread.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "buildprof/analyzer.h"
#include "buildprof/report.h"
#include "cli.h"

/* Per build name in a report: its uncached step history, and the last
 * build of the name the report went through (usually the previous build of
 * the next one: no need to read it again). */
struct named_history {
	char *name;
	struct analyzer_history h;
	struct bp_build last;
	int have_last;
	int loaded;                 /* h has been read */
	int seen;                   /* a build of the name has been through */
	int built_again;            /* more than one build has the name (names_known) */
};

/* Build names, looked up by hash. */
struct name_table {
	struct named_history *hist;
	size_t n, alloc;
	struct bp_hash_index index; /* hist by name */
};

/* Builds of this many names are kept for the next build of the name, and
 * as many names' histories: the most recent ones, so memory stays bounded
 * over thousands of names (a report over 100k builds of distinct names held
 * 350 MB of histories before). */
#define KEEP_LAST 256

/* The most recent KEEP_LAST of some hist positions, oldest first. */
struct kept_ring {
	size_t pos[KEEP_LAST];
	size_t n, next;
};

struct report_run {
	struct kept_ring kept;      /* names whose last build is kept */
	struct kept_ring loaded;    /* names whose history is loaded */
	const struct report_format *fmt;
	struct report_state *state;
	struct analyzer_summary sum;
	struct bp_store *st;
	struct name_table names;
	char **pipelines;           /* CI pipeline ids the builds ran in (their labels) */
	size_t npipelines, alloc_pipelines;
	struct bp_hash_index pipeline_index; /* pipelines by id */
	int all;                    /* the report is of every build */
	int preloaded;              /* preload_histories has run */
	int names_known;            /* each name's built_again is set */
	int failed;
};

/* Remembers the pipeline a build ran in: CI_PIPELINE_ID or GITHUB_RUN_ID.
 * Each once, looked up by hash: a report over 40,000 builds of as many
 * pipelines compared each id with all before it. */
static void note_pipeline(struct report_run *run, const struct bp_build *b)
{
	const char *id = bp_build_label(b, "CI_PIPELINE_ID");
	uint64_t hash;

	if (!id)
		id = bp_build_label(b, "GITHUB_RUN_ID");
	if (!id)
		return;
	hash = bp_hash_str(BP_HASH_INIT, id);
	if (bp_hash_index_find_key(&run->pipeline_index, hash, id, run->pipelines, sizeof(*run->pipelines), 0) >= 0)
		return;
	BP_GROW(run->pipelines, run->npipelines + 1, run->alloc_pipelines);
	run->pipelines[run->npipelines++] = xstrdup(id);
	bp_hash_index_add(&run->pipeline_index, run->npipelines - 1, hash, run->npipelines);
}

/* Shows the pipelines of the selected builds, when the format does. */
static void report_pipelines(struct report_run *run)
{
	struct store_pipeline_iter *it;
	struct bp_pipeline p;
	struct bp_error err;

	if (!run->fmt->pipeline || !run->npipelines)
		return;
	bp_error_init(&err);
	/* the label holds the provider's id */
	it = store_select_pipeline_runs(run->st, run->pipelines, run->npipelines, &err);
	while (it && store_pipeline_next(it, &p, &err) == 1) {
		struct analyzer_timeline t;
		analyzer_pipeline_timeline(&p, &t);
		run->fmt->pipeline(run->state, &p, &t);
		analyzer_timeline_release(&t);
		bp_pipeline_release(&p);
	}
	if (bp_error_isset(&err)) {
		cli_print_error("report", &err);
		run->failed = 1;
	}
	store_pipeline_iter_free(it);
}

/* Adds pos to the ring; returns the position it pushed out, or -1. */
static long ring_add(struct kept_ring *r, size_t pos)
{
	long out;

	if (r->n < KEEP_LAST) {
		r->pos[r->n++] = pos;
		return -1;
	}
	out = (long)r->pos[r->next];
	r->pos[r->next] = pos;
	r->next = (r->next + 1) % KEEP_LAST;
	return out;
}

static void add_history(void *ctx, const char *stage, const char *text, double d)
{
	analyzer_history_add(ctx, stage, text, d);
}

static struct named_history *named(struct name_table *t, const char *name)
{
	uint64_t hash = bp_hash_str(BP_HASH_INIT, name);
	long pos = bp_hash_index_find_key(&t->index, hash, name, t->hist, sizeof(*t->hist),
					  offsetof(struct named_history, name));
	struct named_history *nh;

	if (pos >= 0)
		return &t->hist[pos];
	BP_GROW(t->hist, t->n + 1, t->alloc);
	nh = memset(&t->hist[t->n++], 0, sizeof(*nh));
	nh->name = xstrdup(name);
	bp_hash_index_add(&t->index, t->n - 1, hash, t->n);
	analyzer_history_init(&nh->h);
	return nh;
}

static void name_table_release(struct name_table *t)
{
	for (size_t i = 0; i < t->n; i++) {
		free(t->hist[i].name);
		analyzer_history_release(&t->hist[i].h);
		if (t->hist[i].have_last)
			bp_build_release(&t->hist[i].last);
	}
	free(t->hist);
	bp_hash_index_release(&t->index);
}

/* Counts nh's history as read: the ring keeps the last KEEP_LAST names
 * read, so the oldest one's is let go. */
static void mark_loaded(struct report_run *run, struct named_history *nh)
{
	long evicted = ring_add(&run->loaded, (size_t)(nh - run->names.hist));

	if (evicted >= 0) {
		analyzer_history_release(&run->names.hist[evicted].h);
		run->names.hist[evicted].loaded = 0;
	}
	nh->loaded = 1;
}

/* The uncached history of b's name, read on first need: it prices cache
 * hits, so a build without any needs none (and most names in a year of
 * history are never asked). The last KEEP_LAST names read keep theirs; an
 * older one is read again if its name comes back. A name built only once
 * (a build per branch or per file) has no history but b's own: taken from
 * b, not read again. */
static const struct analyzer_history *history_of(struct report_run *run, struct named_history *nh,
						 const struct bp_build *b)
{
	struct bp_error err;
	int others;

	if (!nh->loaded) {
		mark_loaded(run, nh);
		bp_error_init(&err);
		others = run->names_known ? nh->built_again
					  : store_name_has_other_build(run->st, nh->name, b->id, &err);
		if (!others)
			analyzer_history_add_build(&nh->h, b);
		else if (others < 0 || store_uncached_steps(run->st, nh->name, add_history, &nh->h, &err)) {
			cli_print_error("report", &err);
			run->failed = 1;
		}
		analyzer_history_sort(&nh->h); /* priced per cached step from now on */
	}
	return &nh->h;
}

static void mark_built_again(void *ctx, const char *name)
{
	struct report_run *run = ctx;

	named(&run->names, name)->built_again = 1;
}

/* store_uncached_steps_all's rows into their names' histories. The rows
 * come a build at a time: the last name is looked up once per build. */
struct preload {
	struct name_table *names;
	struct report_run *run;     /* whose ring of loaded names to keep; NULL
				     * on the second thread, whose table is its own */
	size_t last;                /* names->hist of the last row's name */
	int have_last;
};

static void add_named_history(void *ctx, const char *name, const char *stage, const char *text,
			      double duration_s)
{
	struct preload *pl = ctx;
	struct name_table *t = pl->names;

	if (!pl->have_last || strcmp(t->hist[pl->last].name, name)) {
		struct named_history *nh = named(t, name);
		if (pl->run && !nh->loaded)
			mark_loaded(pl->run, nh);
		pl->last = (size_t)(nh - t->hist);
		pl->have_last = 1;
	}
	analyzer_history_add(&t->hist[pl->last].h, stage, text, duration_s);
}

/* The later builds' half of a preload: on a second thread and connection
 * (SQLite runs here without mutexes: a connection is one thread's), into
 * a table of its own, merged into the report's when both halves are read. */
struct preload_half {
	struct bp_store *st;
	long from_id, to_id;
	struct name_table names;
	int failed;                 /* err says why */
	struct bp_error err;
	pthread_t thread;
};

static void *preload_later_half(void *arg)
{
	struct preload_half *ph = arg;
	struct preload pl = { &ph->names, NULL, 0, 0 };

	ph->failed = store_uncached_steps_all(ph->st, ph->from_id, ph->to_id, add_named_history, &pl,
					      &ph->err) != 0;
	return NULL;
}

/* Starts reading the later half of builds lo..hi beside this thread, once
 * they are enough to pay for it; returns the last id left to this one. */
static long start_later_half(struct report_run *run, struct preload_half *ph, long lo, long hi, long builds)
{
	if (builds < CLI_SECOND_CORE_FROM || !(ph->st = store_open_again(run->st, &ph->err)))
		return hi;
	ph->from_id = lo + (hi - lo) / 2 + 1;
	ph->to_id = hi;
	if (pthread_create(&ph->thread, NULL, preload_later_half, ph)) {
		store_close(ph->st);
		ph->st = NULL;
		return hi;
	}
	return ph->from_id - 1;
}

/* Waits for the later half and adds its runs to each name's history after
 * the earlier builds', as one pass would have added them. Returns 0, or -1
 * when it failed (ph->err says why). */
static int finish_later_half(struct report_run *run, struct preload_half *ph)
{
	if (!ph->st)
		return 0;
	pthread_join(ph->thread, NULL);
	store_close(ph->st);
	for (size_t i = 0; i < ph->names.n; i++) {
		struct named_history *nh = named(&run->names, ph->names.hist[i].name);
		if (!nh->loaded)
			mark_loaded(run, nh);
		analyzer_history_merge(&nh->h, &ph->names.hist[i].h);
	}
	name_table_release(&ph->names);
	return ph->failed ? -1 : 0;
}

/* A report of every build wants the history of nearly every name. When
 * they are few (each built many times, as in CI), one pass over the steps
 * reads all of them for less than a pass per name, which reads each page
 * of the step table again for every name built on it; from
 * CLI_SECOND_CORE_FROM builds on, the later half of the pass runs on a
 * second core. More names than KEEP_LAST are read on first need, as
 * before, so memory stays bounded. Called at the first need of a history,
 * before b's name is looked up (the names it adds may move run->names). A
 * name it found no uncached step of is still read on first need: it may
 * have been stored since. */
static void preload_histories(struct report_run *run)
{
	struct preload pl = { &run->names, run, 0, 0 };
	struct preload_half later = { 0 };
	struct bp_error err;
	long names, lo = 0, hi = 0, builds = 0, upto;
	int rc;

	run->preloaded = 1;
	bp_error_init(&err);
	bp_error_init(&later.err);
	names = store_count_names(run->st, KEEP_LAST, &err);
	if (names > KEEP_LAST) {
		/* too many to keep every history: each is read on first need
		 * (history_of), but which names have another build to read is
		 * learnt here at once, not asked for each build (94k queries
		 * over the bench's 100k builds of a name each) */
		if (store_names_built_again(run->st, mark_built_again, run, &err)) {
			cli_print_error("report", &err);
			run->failed = 1;
			return;
		}
		run->names_known = 1;
		return;
	}
	rc = names < 0 || store_build_ids(run->st, &lo, &hi, &builds, &err) ? -1 : 0;
	if (!rc) {
		upto = start_later_half(run, &later, lo, hi, builds);
		rc = store_uncached_steps_all(run->st, lo, upto, add_named_history, &pl, &err);
		if (finish_later_half(run, &later) && !rc) {
			err = later.err;
			rc = -1;
		}
	}
	if (rc) {
		cli_print_error("report", &err);
		run->failed = 1;
	}
	for (size_t i = 0; i < run->names.n; i++)
		if (run->names.hist[i].loaded)
			analyzer_history_sort(&run->names.hist[i].h);
}

/* The previous build of b's name: the one the report just went through
 * when it is that one, else read from the store. Returns it, or NULL. */
static const struct bp_build *previous_of(struct report_run *run, struct named_history *nh,
					  const struct bp_build *b, struct bp_build *read)
{
	struct bp_error err;
	long id;
	int rc;

	/* every build comes in id order: the previous of a name is the last
	 * of it through, and none has come before its first */
	if (run->all && nh->have_last)
		return &nh->last;
	if (run->all && !nh->seen)
		return NULL;
	bp_error_init(&err);
	id = store_previous_build_id(run->st, b->name, b->id, &err);
	if (id > 0 && nh->have_last && nh->last.id == id)
		return &nh->last;
	rc = id > 0 ? store_previous_build(run->st, b->name, b->id, read, &err) : (int)id;
	if (rc < 0) {
		cli_print_error("report", &err);
		run->failed = 1;
	}
	return rc == 1 ? read : NULL;
}

/* Keeps b (taken over, not copied: cli_each_build lets us) as the last
 * build of its name, evicting the longest-kept name's beyond KEEP_LAST.
 * The build it no longer keeps takes b's place, which the caller releases:
 * reading ahead, that is on the reading thread, which allocated it. Freed
 * here, it was a seventh of this thread's time, each free into the other
 * thread's arena. */
static void keep_last(struct report_run *run, struct named_history *nh, struct bp_build *b)
{
	struct bp_build kept = *b;

	bp_build_init(b);
	if (nh->have_last) {
		*b = nh->last;
	} else {
		long evicted = ring_add(&run->kept, (size_t)(nh - run->names.hist));
		if (evicted >= 0) {
			*b = run->names.hist[evicted].last;
			run->names.hist[evicted].have_last = 0;
		}
	}
	nh->last = kept;
	nh->have_last = 1;
	nh->seen = 1;
}

static int report_one(void *vctx, struct bp_build *b)
{
	struct report_run *run = vctx;
	struct named_history *nh;
	struct analyzer_analysis a;
	const struct bp_build *prev;
	struct bp_build read;
	struct bp_image img;
	struct bp_error err;
	int have_img;

	bp_error_init(&err);
	bp_build_init(&read);
	analyzer_build_stats(b, &a.stats);
	if (a.stats.steps_cached && run->all && !run->preloaded)
		preload_histories(run);
	nh = named(&run->names, b->name);
	analyzer_timeline(b, &a.timeline);
	prev = previous_of(run, nh, b, &read);
	analyzer_cache(b, prev, a.stats.steps_cached ? history_of(run, nh, b) : NULL, &a.cache);
	have_img = store_build_image(run->st, b, &img, &err);
	if (have_img < 0) {
		cli_print_error("report", &err);
		run->failed = 1;
	}
	a.image = have_img == 1 ? &img : NULL;
	analyzer_sizes(b, a.image, &a.sizes);
	run->fmt->build(run->state, b, &a);
	note_pipeline(run, b);
	analyzer_sizes_release(&a.sizes);
	if (have_img == 1)
		bp_image_release(&img);
	analyzer_summary_add(&run->sum, b, &a.stats);
	analyzer_cache_release(&a.cache);
	analyzer_timeline_release(&a.timeline);
	bp_build_release(&read);
	keep_last(run, nh, b);
	return 0;
}

int cli_render_report(struct bp_store *st, const struct bp_selector *sel,
		      const struct report_format *fmt, const struct report_options *opt,
		      const char *by, int selected)
{
	struct report_run run = { 0 };
	long count = 0;
	int rc = EXIT_INPUT;

	run.fmt = fmt;
	run.all = bp_selector_is_all(sel);
	analyzer_summary_init(&run.sum, opt->top);
	if (by)
		analyzer_summary_group_by(&run.sum, by);
	run.st = st;
	run.state = run.fmt->begin(opt);
	if (cli_each_build_ahead(st, sel, fmt->every_step_field ? STORE_STEPS_ALL : STORE_STEPS_SHOWN, report_one,
				 &run, &count)) {
		run.fmt->end(run.state, &run.sum);
		goto out;
	}
	analyzer_summary_finish(&run.sum);
	report_pipelines(&run);
	run.fmt->end(run.state, &run.sum);
	if (!count) {
		error("report: no builds match%s",
		      selected ? " the selectors" : " (the database is empty)");
		goto out;
	}
	rc = run.failed ? EXIT_INPUT : EXIT_OK;
out:
	analyzer_summary_release(&run.sum);
	name_table_release(&run.names);
	for (size_t i = 0; i < run.npipelines; i++)
		free(run.pipelines[i]);
	free(run.pipelines);
	bp_hash_index_release(&run.pipeline_index);
	return rc;
}

static int run_report(int argc, char **argv, const struct cli_env *env)
{
	static const struct option longopts[] = {
		{ "format", required_argument, NULL, 'f' },
		{ "top", required_argument, NULL, 't' },
		{ "output", required_argument, NULL, 'o' },
		{ "by", required_argument, NULL, 'b' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct report_options opt = { stdout, 5, 0 };
	struct { const struct report_format *fmt; } run = { 0 };
	struct bp_selector sel;
	struct bp_store *st = NULL;
	struct bp_output file = { 0 };
	struct bp_error err;
	const char *output = NULL, *by = NULL;
	long top;
	int c, rc;

	bp_selector_init(&sel);
	run.fmt = report_format("text");
	optind = 1;
	while ((c = getopt_long(argc, argv, "f:t:o:b:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'f':
			run.fmt = report_format(optarg);
			if (!run.fmt) {
				rc = cli_usage_error(&cli_report, "unknown format '%s' (%s)", optarg,
						     report_format_names());
				goto out;
			}
			break;
		case 't':
			if (bp_parse_long(optarg, 0, 1000, &top)) {
				rc = cli_usage_error(&cli_report, "--top wants a number from 0 to 1000");
				goto out;
			}
			opt.top = (size_t)top;
			break;
		case 'o':
			output = optarg;
			break;
		case 'b':
			if (strcmp(optarg, "base") && (strncmp(optarg, "label:", 6) || !optarg[6])) {
				rc = cli_usage_error(&cli_report, "--by wants base or label:KEY, not '%s'", optarg);
				goto out;
			}
			by = optarg;
			break;
		case 'h':
			rc = cli_help(&cli_report);
			goto out;
		default:
			rc = cli_usage_error(&cli_report, "bad option");
			goto out;
		}
	}
	rc = cli_parse_selectors(&cli_report, argc - optind, argv + optind, &sel);
	if (rc != EXIT_OK)
		goto out;
	rc = EXIT_INPUT;
	st = cli_open_store(env);
	if (!st)
		goto out;
	bp_error_init(&err);
	if (output) {
		if (bp_output_open(&file, output, &err)) {
			cli_print_error("report", &err);
			goto out;
		}
		opt.out = file.f;
	}
	opt.color = !output && !strcmp(run.fmt->name, "text") && cli_color_wanted(stdout);
	rc = cli_render_report(st, &sel, run.fmt, &opt, by, argc > optind);
out:
	/* a report that failed half way leaves the old file as it was */
	if (file.f && rc != EXIT_OK)
		bp_output_abort(&file);
	else if (file.f && bp_output_commit(&file, &err))
		rc = EXIT_INPUT, cli_print_error("report", &err);
	store_close(st);
	bp_selector_release(&sel);
	return rc;
}

const struct cli_command cli_report = {
	.name = "report",
	.run = run_report,
	.summary = "analyse the selected builds",
	.usage =
	"usage: buildprof report [SELECTOR...] [--format text|json|markdown|html] [--top N] [--by base|label:K] [-o FILE]\n"
	"\n"
	"For each selected build (all when no selector is given): its status, steps\n"
	"and cache hit rate (FROM excluded), the slowest steps, and the failing step\n"
	"with its error; then a summary over all of them.\n"
	"\n"
	"  -f, --format F   text (default), json (schema buildprof.report/1),\n"
	"                   markdown (one merge-request comment, under 65,536 characters),\n"
	"                   or html (one self-contained page, every chart inline as SVG)\n"
	"  -t, --top N      slowest steps to list (default 5)\n"
	"  -b, --by G       also compare groups of builds side by side: by base image\n"
	"                   (base) or by a label's value (label:KEY): build time,\n"
	"                   cache hit rate and image size per group\n"
	"  -o, --output F   write to F instead of standard output (beside it first, then\n"
	"                   renamed over it: a failed report leaves F as it was)\n"
	"  -h, --help       this text\n"
	"\n"
	"Selectors: ID, A..B, last:N, label:K=V, name:GLOB, format:F, status:S.\n"
	"Ids and ranges add up; the others narrow; last:N keeps the newest N.\n",
};
