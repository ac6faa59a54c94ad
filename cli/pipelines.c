/*
 * pipelines.c - `buildprof pipelines`: stored CI pipelines with their jobs
 * and job steps, and where the pipeline's time went: queue vs run time, the
 * critical path through the jobs and each job's exclusive time.
 */
#include <getopt.h>
#include <jansson.h>
#include <math.h>
#include <string.h>

#include "buildprof/analyzer.h"
#include "buildprof/report.h"
#include "cli.h"

static json_t *num(double v)
{
	return isfinite(v) ? json_real(v) : json_null();
}

/* A job's recent history on the same ref: how long it usually takes, how
 * often it fails, how often it ran more than once (retries). */
struct job_history {
	double v[1000];
	size_t n, runs;
	long failed;
	double median_s, p95_s;
};

static void add_run(void *ctx, const char *status, double d)
{
	struct job_history *h = ctx;

	h->runs++;
	if (status && !strcmp(status, "failed"))
		h->failed++;
	if (!isnan(d) && h->n < BP_ARRAY_SIZE(h->v))
		h->v[h->n++] = d;
}

/* What a job's builds say: "build 12 3m55s, slowest [x 2/5] RUN npm ci 2m10s". */
struct job_build {
	long id;
	double wall_s;
	char *slowest;      /* label of its slowest step, or NULL */
	double slowest_s;
};

struct job_builds {
	struct job_build *b;
	size_t n, alloc;
};

static int collect_build(void *ctx, struct bp_build *b)
{
	struct job_builds *jb = ctx;
	struct job_build *r;
	size_t idx[1];

	BP_GROW(jb->b, jb->n + 1, jb->alloc);
	r = &jb->b[jb->n++];
	r->id = b->id;
	r->wall_s = b->wall_s;
	r->slowest = NULL;
	r->slowest_s = NAN;
	if (analyzer_slowest_steps(b, idx, 1) == 1) {
		struct strbuf label = STRBUF_INIT;
		const struct bp_step *s = &b->steps[idx[0]];
		report_step_label(&label, s->stage, s->index, s->count, s->text);
		r->slowest = strbuf_detach(&label, NULL);
		r->slowest_s = s->duration_s;
	}
	return 0;
}

/* The builds of each job of p (an array of p->njobs lists; free with free_builds). */
static struct job_builds *builds_of(struct bp_store *st, const struct bp_pipeline *p)
{
	struct job_builds *all = xcalloc(p->njobs ? p->njobs : 1, sizeof(*all));
	struct bp_error err;
	size_t i, k;

	for (i = 0; i < p->njobs; i++) {
		struct bp_selector sel;
		long *ids = NULL, count;
		size_t n = 0;
		bp_error_init(&err);
		if (store_job_builds(st, p, &p->jobs[i], &ids, &n, &err) || !n) {
			free(ids);
			continue;
		}
		bp_selector_init(&sel);
		for (k = 0; k < n; k++) {
			BP_GROW(sel.ranges, sel.nranges + 1, sel.alloc_ranges);
			sel.ranges[sel.nranges].lo = sel.ranges[sel.nranges].hi = ids[k];
			sel.nranges++;
		}
		cli_each_build(st, &sel, STORE_STEPS_SHOWN, collect_build, &all[i], &count);
		bp_selector_release(&sel);
		free(ids);
	}
	return all;
}

static void free_builds(struct job_builds *all, size_t n)
{
	size_t i, k;

	for (i = 0; i < n; i++) {
		for (k = 0; k < all[i].n; k++)
			free(all[i].b[k].slowest);
		free(all[i].b);
	}
	free(all);
}

static void print_json(const struct bp_pipeline *p, const struct analyzer_timeline *t,
		       const struct job_builds *jb, const struct job_history *hist, int first)
{
	json_t *o = report_pipeline_json(p, t), *jobs = json_object_get(o, "jobs");
	size_t i, k;

	/* what only this command adds: each job's history and builds */
	for (i = 0; i < p->njobs; i++) {
		json_t *jo = json_array_get(jobs, i), *builds = json_array();
		if (hist) {
			json_t *ho = json_object();
			json_object_set_new(ho, "runs", json_integer((json_int_t)hist[i].runs));
			json_object_set_new(ho, "failed", json_integer(hist[i].failed));
			json_object_set_new(ho, "median_s", num(hist[i].median_s));
			json_object_set_new(ho, "p95_s", num(hist[i].p95_s));
			json_object_set_new(jo, "history", ho);
		}
		for (k = 0; k < jb[i].n; k++) {
			json_t *bo = json_object();
			json_object_set_new(bo, "id", json_integer(jb[i].b[k].id));
			json_object_set_new(bo, "wall_s", num(jb[i].b[k].wall_s));
			json_object_set_new(bo, "slowest_step", report_json_string(jb[i].b[k].slowest));
			json_object_set_new(bo, "slowest_step_s", num(jb[i].b[k].slowest_s));
			json_array_append_new(builds, bo);
		}
		json_object_set_new(jo, "builds", builds);
	}
	fputs(first ? "\n" : ",\n", stdout);
	report_json_dump(o, stdout, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(12));
	json_decref(o);
}

static void print_text(const struct bp_pipeline *p, const struct analyzer_timeline *t,
		       const struct job_builds *jb, const struct job_history *hist, int first)
{
	char a[32], b[32], c[32], cut[64];
	size_t i;

	if (!first)
		putchar('\n');
	printf("pipeline %ld  %s %s  %s%s%s%s%s  %s\n", p->id, p->provider, p->external_id,
	       p->project ? p->project : "", p->ref ? "  " : "", p->ref ? p->ref : "", p->name ? "  " : "",
	       p->name ? p->name : "", p->status ? p->status : "?");
	if (!isnan(p->duration_s) || !t->known)
		printf("  time        %s run, %s queued", report_seconds(p->duration_s, a, sizeof(a)),
		       report_seconds(p->queued_s, b, sizeof(b)));
	else
		printf("  time        %s from the first job's start to the last one's end, %s queued",
		       report_seconds(t->wall_s, a, sizeof(a)), report_seconds(p->queued_s, b, sizeof(b)));
	if (t->known)
		printf("; critical path %s, parallelism %.2fx", report_seconds(t->critical_path_s, c, sizeof(c)),
		       t->parallelism);
	putchar('\n');
	if (!p->njobs)
		return;
	printf("  %-32s %-12s %-9s %9s %9s %9s\n", "JOB", "STAGE", "STATUS", "RUN", "QUEUED", "ALONE");
	for (i = 0; i < p->njobs; i++) {
		const struct bp_job *j = &p->jobs[i];
		int retries = analyzer_job_retries(p, i);
		printf("  %-32s %-12s %-9s %9s %9s %9s%s", report_ellipsize(j->name ? j->name : "?", 32, cut, sizeof(cut)),
		       j->stage ? j->stage : "-", j->status ? j->status : "?",
		       report_seconds(j->duration_s, a, sizeof(a)), report_seconds(j->queued_s, b, sizeof(b)),
		       report_seconds(t->exclusive_s[i], c, sizeof(c)), t->critical[i] ? "  *" : "");
		if (retries)
			printf("  (%d other attempt%s)", retries, retries == 1 ? "" : "s");
		putchar('\n');
		if (hist && hist[i].runs > 1)
			printf("    last %zu runs on %s: median %s, p95 %s, %ld failed\n", hist[i].runs,
			       p->ref ? p->ref : "this ref", report_seconds(hist[i].median_s, a, sizeof(a)),
			       report_seconds(hist[i].p95_s, b, sizeof(b)), hist[i].failed);
		for (size_t k = 0; k < jb[i].n; k++) {
			char wide[128];
			printf("    of which build %ld: %s", jb[i].b[k].id, report_seconds(jb[i].b[k].wall_s, a, sizeof(a)));
			if (jb[i].b[k].slowest)
				printf(", slowest %s %s", report_ellipsize(jb[i].b[k].slowest, 60, wide, sizeof(wide)),
				       report_seconds(jb[i].b[k].slowest_s, b, sizeof(b)));
			putchar('\n');
		}
	}
	if (t->known)
		printf("  (* on the critical path; ALONE: time no other job of the pipeline ran)\n");
}

/* Across the listed pipelines: each job's run times (by stage and name) and
 * each stage's span (first start to last finish of its jobs). */
struct across {
	struct analyzer_history jobs, stages;
	long pipelines;
};

static void across_add(struct across *a, const struct bp_pipeline *p)
{
	size_t i, k;

	a->pipelines++;
	for (i = 0; i < p->njobs; i++) {
		const struct bp_job *j = &p->jobs[i];
		double start = INFINITY, end = -INFINITY;
		analyzer_history_add(&a->jobs, j->stage, j->name ? j->name : "?", j->duration_s);
		if (!j->stage)
			continue;
		for (k = 0; k < i; k++) /* each stage once: at its first job */
			if (p->jobs[k].stage && !strcmp(p->jobs[k].stage, j->stage))
				break;
		if (k < i)
			continue;
		for (k = i; k < p->njobs; k++) {
			const struct bp_job *o = &p->jobs[k];
			if (!o->stage || strcmp(o->stage, j->stage))
				continue;
			if (o->started_at < start)
				start = o->started_at;
			if (o->finished_at > end)
				end = o->finished_at;
		}
		if (isfinite(start) && isfinite(end) && end >= start)
			analyzer_history_add(&a->stages, j->stage, NULL, end - start);
	}
}

/* The top series of h, slowest median first, as JSON (text under text_key). */
static json_t *typical_json(struct analyzer_history *h, size_t top, const char *text_key)
{
	size_t n;
	struct analyzer_typical *t = analyzer_typical_top(h, top, &n);
	json_t *arr = report_typical_json(t, n, text_key);

	free(t);
	return arr;
}

static void print_typical(const char *what, struct analyzer_history *h, size_t top)
{
	struct analyzer_typical *t;
	char a[32], b[32], cut[64];
	size_t i, n;

	t = analyzer_typical_top(h, top, &n);
	if (n)
		printf("  %-44s %5s %9s %9s\n", what, "RUNS", "MEDIAN", "P95");
	for (i = 0; i < n; i++) {
		struct strbuf label = STRBUF_INIT;
		/* a job is "[stage] name", a stage its name alone */
		if (t[i].series->stage && t[i].series->text)
			strbuf_addf(&label, "[%s] ", t[i].series->stage);
		strbuf_addstr(&label, t[i].series->text ? t[i].series->text : t[i].series->stage);
		printf("  %-44s %5zu %9s %9s\n", report_ellipsize(label.buf, 44, cut, sizeof(cut)), t[i].series->n,
		       report_seconds(t[i].median_s, a, sizeof(a)), report_seconds(t[i].p95_s, b, sizeof(b)));
		strbuf_release(&label);
	}
	free(t);
}

static void across_print(struct across *a, int json)
{
	if (json) {
		json_t *o = json_object();
		json_object_set_new(o, "pipelines", json_integer(a->pipelines));
		json_object_set_new(o, "slowest_jobs", typical_json(&a->jobs, 10, "name"));
		json_object_set_new(o, "slowest_stages", typical_json(&a->stages, 10, NULL));
		fputs(",\"summary\":", stdout);
		report_json_dump(o, stdout, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(12));
		json_decref(o);
		return;
	}
	if (a->pipelines < 2)
		return;
	printf("\nover these %ld pipelines\n", a->pipelines);
	print_typical("SLOWEST JOBS", &a->jobs, 10);
	print_typical("SLOWEST STAGES (first start to last finish)", &a->stages, 10);
}

static int run_pipelines(int argc, char **argv, const struct cli_env *env)
{
	static const struct option longopts[] = {
		{ "format", required_argument, NULL, 'f' },
		{ "history", required_argument, NULL, 'H' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct store_pipeline_iter *it = NULL;
	struct bp_store *st;
	struct bp_pipeline p;
	struct bp_error err;
	struct across across = { 0 };
	int c, json = 0, r, rc = EXIT_INPUT;
	long n = 0, history = 10;

	optind = 1;
	while ((c = getopt_long(argc, argv, "f:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'f':
			if (strcmp(optarg, "text") && strcmp(optarg, "json"))
				return cli_usage_error(&cli_pipelines, "unknown format '%s' (text, json)", optarg);
			json = !strcmp(optarg, "json");
			break;
		case 'H':
			if (bp_parse_long(optarg, 0, 1000, &history))
				return cli_usage_error(&cli_pipelines, "--history wants a number from 0 to 1000");
			break;
		case 'h':
			return cli_help(&cli_pipelines);
		default:
			return cli_usage_error(&cli_pipelines, "bad option");
		}
	}
	if (!(st = cli_open_store(env)))
		return EXIT_INPUT;
	bp_error_init(&err);
	if (!(it = store_select_pipelines(st, argv + optind, (size_t)(argc - optind), &err)))
		goto out;
	if (json)
		fputs("{\"schema\":\"buildprof.pipelines/1\",\"pipelines\":[", stdout);
	while ((r = store_pipeline_next(it, &p, &err)) == 1) {
		struct analyzer_timeline t;
		struct job_builds *jb = builds_of(st, &p);
		struct job_history *hist = NULL;
		size_t k;
		if (history > 0) {
			hist = xcalloc(p.njobs ? p.njobs : 1, sizeof(*hist));
			for (k = 0; k < p.njobs; k++) {
				if (p.jobs[k].name &&
				    store_job_history(st, &p, p.jobs[k].name, history, add_run, &hist[k], &err))
					cli_print_error("pipelines", &err);
				hist[k].median_s = analyzer_median(hist[k].v, hist[k].n);
				hist[k].p95_s = analyzer_quantile(hist[k].v, hist[k].n, 0.95);
			}
			bp_error_init(&err);
		}
		analyzer_pipeline_timeline(&p, &t);
		across_add(&across, &p);
		if (json)
			print_json(&p, &t, jb, hist, !n);
		else
			print_text(&p, &t, jb, hist, !n);
		analyzer_timeline_release(&t);
		free_builds(jb, p.njobs);
		free(hist);
		bp_pipeline_release(&p);
		n++;
	}
	if (json) {
		fputs(n ? "\n]" : "]", stdout);
		across_print(&across, 1);
		fputs("}\n", stdout);
	} else if (!n && r == 0) {
		printf("no pipelines%s\n", argc > optind ? " match" : " stored yet");
	} else {
		across_print(&across, 0);
	}
	rc = r < 0 ? EXIT_INPUT : EXIT_OK;
out:
	analyzer_history_release(&across.jobs);
	analyzer_history_release(&across.stages);
	if (bp_error_isset(&err))
		cli_print_error("pipelines", &err);
	store_pipeline_iter_free(it);
	store_close(st);
	return rc;
}

const struct cli_command cli_pipelines = {
	.name = "pipelines",
	.run = run_pipelines,
	.summary = "list stored CI pipelines with their jobs and job steps",
	.usage =
	"usage: buildprof pipelines [ID|PIPELINE-ID|PROJECT|REF...] [--format text|json]\n"
	"\n"
	"Lists stored CI pipelines (GitLab pipelines, GitHub workflow runs; all, or\n"
	"those whose id, provider id, project or ref is given), each with its jobs:\n"
	"stage, status, run time, queue time, and the time each job ran alone; the\n"
	"critical path through the jobs and the parallelism. Pipelines come from\n"
	"`ingest` of GitLab or GitHub Actions API JSON or webhook payloads; a later\n"
	"document about the same pipeline or job updates it. Over several pipelines,\n"
	"the slowest jobs and stages follow: median and p95 across them.\n"
	"\n"
	"  -f, --format F   text (default) or json (schema buildprof.pipelines/1)\n"
	"      --history N  per job: median, p95 and failures over its last N runs in\n"
	"                   pipelines of the same project and ref (default 10; 0: off)\n"
	"  -h, --help       this text\n",
};
