/*
 * ci.c - parsers for CI timing data: GitLab's REST JSON (pipeline jobs
 * lists, a job, a pipeline, pipelines lists, bridges) and webhook payloads
 * (pipeline, build/job events), and GitHub Actions' REST JSON (run jobs
 * lists with steps, a job, a workflow run, runs lists) and webhook payloads
 * (workflow_job, workflow_run). Each document becomes pipelines with the
 * jobs it shows; the store merges what different documents say about the
 * same pipeline. Unknown stays unknown: no duration is invented, and a job
 * that finished before it started gets none. See FORMAT-NOTES.md 7 and 8.
 */
#include <jansson.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buildprof/collector.h"
#include "buildprof/jsonkeep.h"

#define MAX_ITEMS 100000

/* Every key the GitLab parser below asks any object for: the rest of a
 * document is checked but not built (jsonkeep.h). A key used below and
 * missing here would read as absent: add it here with its first use (the
 * pipelines-corpus case ingests every corpus document and shows what
 * each gave). */
static const char *const gitlab_keys[] = {
	"id", "project_id", "name", "ref", "sha", "status", "stage", "created_at", "started_at",
	"finished_at", "duration", "queued_duration", "runner", "description", "pipeline",
	"project", "path_with_namespace", "object_kind", "object_attributes", "builds",
	"pipeline_id", "commit", "job_id", "job_name", "job_stage", "job_status", "build_id",
	"build_name", "build_stage", "build_status", "build_created_at", "build_started_at",
	"build_finished_at", "build_duration", "build_queued_duration", NULL
};

/* The same for the GitHub parser. */
static const char *const github_keys[] = {
	"id", "name", "head_branch", "head_sha", "status", "conclusion", "repository",
	"full_name", "created_at", "run_started_at", "workflow_name", "started_at",
	"completed_at", "runner_name", "run_attempt", "steps", "number", "run_id",
	"workflow_job", "workflow_run", "jobs", "workflow_runs", "run_duration_ms", NULL
};

static char *str(json_t *o, const char *key)
{
	json_t *v = json_object_get(o, key);
	char buf[32];

	if (json_is_string(v))
		return xstrdup(json_string_value(v));
	if (json_is_integer(v)) { /* ids are numbers in the JSON */
		snprintf(buf, sizeof(buf), "%lld", (long long)json_integer_value(v));
		return xstrdup(buf);
	}
	return NULL;
}

static double when(json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));
	double t;

	return s && !bp_parse_time(s, &t) ? t : NAN;
}

static double number(json_t *o, const char *key)
{
	json_t *v = json_object_get(o, key);
	double d = json_is_number(v) ? json_number_value(v) : NAN;

	return isfinite(d) && d >= 0 ? d : NAN;
}

/* b - a when both are known and b is not before a (clock skew gives NAN). */
static double span(double a, double b)
{
	return !isnan(a) && !isnan(b) && b >= a ? b - a : NAN;
}

static void fill_times(struct bp_job *j)
{
	if (isnan(j->duration_s))
		j->duration_s = span(j->started_at, j->finished_at);
	if (isnan(j->queued_s))
		j->queued_s = span(j->created_at, j->started_at);
	if (!isnan(j->started_at) && !isnan(j->finished_at) && j->finished_at < j->started_at)
		j->duration_s = NAN; /* finished before it started: the clocks disagree */
}

static int emit(const struct bp_sink *sink, struct bp_pipeline *p, struct bp_error *err)
{
	int r;

	if (!p->external_id) {
		bp_pipeline_release(p);
		return 0;
	}
	r = sink->pipeline(sink->ctx, p, err);
	bp_pipeline_release(p);
	return r;
}

/* The items of a list grouped by a key (their pipeline's or run's id):
 * the groups in the order their first item comes, each group's items in
 * the list's order. One pass through a hash of the keys, where a scan of
 * the earlier items per item made a list of 10,000 jobs take 8 s. */
struct item_groups {
	char **keys;  /* per group, its key (owned) */
	size_t *first; /* per group, where its items start in item[] */
	size_t *item;  /* the items' positions in the list, group after group */
	size_t n;      /* groups; group g's items end where g + 1's start */
};

static void group_items(json_t *arr, char *(*key_of)(json_t *item), struct item_groups *g)
{
	size_t n = json_array_size(arr) < MAX_ITEMS ? json_array_size(arr) : MAX_ITEMS;
	size_t *group_of = xcalloc(n + 1, sizeof(*group_of)), *next, i, k;
	struct bp_hash_index index = { 0 };

	g->keys = xcalloc(n + 1, sizeof(*g->keys));
	g->n = 0;
	for (i = 0; i < n; i++) {
		char *key = key_of(json_array_get(arr, i));
		uint64_t hash;
		long pos;
		group_of[i] = SIZE_MAX;
		if (!key)
			continue;
		hash = bp_hash_str(BP_HASH_INIT, key);
		pos = bp_hash_index_find_key(&index, hash, key, g->keys, sizeof(*g->keys), 0);
		if (pos >= 0) {
			group_of[i] = (size_t)pos;
			free(key);
			continue;
		}
		g->keys[g->n] = key;
		group_of[i] = g->n++;
		bp_hash_index_add(&index, group_of[i], hash, g->n);
	}
	/* counted, then placed: group g's items at first[g] onwards */
	g->first = xcalloc(g->n + 1, sizeof(*g->first));
	for (i = 0; i < n; i++)
		if (group_of[i] != SIZE_MAX)
			g->first[group_of[i] + 1]++;
	for (k = 0; k < g->n; k++)
		g->first[k + 1] += g->first[k];
	next = xcalloc(g->n + 1, sizeof(*next)); /* where each group's next item goes */
	memcpy(next, g->first, g->n * sizeof(*next));
	g->item = xcalloc(g->first[g->n] + 1, sizeof(*g->item));
	for (i = 0; i < n; i++)
		if (group_of[i] != SIZE_MAX)
			g->item[next[group_of[i]]++] = i;
	free(next);
	free(group_of);
	bp_hash_index_release(&index);
}

static void item_groups_release(struct item_groups *g)
{
	size_t k;

	for (k = 0; k < g->n; k++)
		free(g->keys[k]);
	free(g->keys);
	free(g->first);
	free(g->item);
}

/* ---------------- GitLab ---------------- */

static void gitlab_pipeline_fields(json_t *o, struct bp_pipeline *p)
{
	p->provider = xstrdup("gitlab");
	p->external_id = str(o, "id");
	p->project = str(o, "project_id");
	p->name = str(o, "name");
	p->ref = str(o, "ref");
	p->sha = str(o, "sha");
	p->status = str(o, "status");
	p->created_at = when(o, "created_at");
	p->started_at = when(o, "started_at");
	p->finished_at = when(o, "finished_at");
	p->duration_s = number(o, "duration");
	p->queued_s = number(o, "queued_duration");
}

static void gitlab_job(json_t *o, struct bp_pipeline *p)
{
	struct bp_job *j = bp_pipeline_add_job(p);
	json_t *runner = json_object_get(o, "runner");

	j->external_id = str(o, "id");
	j->name = str(o, "name");
	j->stage = str(o, "stage");
	j->status = str(o, "status");
	j->created_at = when(o, "created_at");
	j->started_at = when(o, "started_at");
	j->finished_at = when(o, "finished_at");
	j->duration_s = number(o, "duration");
	j->queued_s = number(o, "queued_duration");
	if (json_is_object(runner))
		j->runner = str(runner, "description");
	fill_times(j);
}

/* A job of a REST list: its pipeline's id, which groups the list (NULL
 * for an item that is no job of a pipeline). */
static char *gitlab_job_pipeline(json_t *o)
{
	json_t *pl = json_object_get(o, "pipeline");

	return json_is_object(o) && json_is_object(pl) ? str(pl, "id") : NULL;
}

/* A job object of the REST API: its pipeline comes along as "pipeline". */
static int gitlab_jobs(json_t *arr, const struct bp_sink *sink, struct bp_error *err)
{
	struct item_groups g;
	struct bp_pipeline p;
	size_t k, i;
	int r = 0;

	/* jobs of one pipeline in a list, usually; group by pipeline id */
	group_items(arr, gitlab_job_pipeline, &g);
	for (k = 0; k < g.n && !r; k++) {
		json_t *o = json_array_get(arr, g.item[g.first[k]]);
		json_t *pl = json_object_get(o, "pipeline");
		bp_pipeline_init(&p);
		p.provider = xstrdup("gitlab");
		p.external_id = xstrdup(g.keys[k]);
		p.project = str(pl, "project_id");
		if (!p.project)
			p.project = str(json_object_get(o, "project"), "id");
		p.ref = str(pl, "ref");
		p.sha = str(pl, "sha");
		p.status = str(pl, "status");
		for (i = g.first[k]; i < g.first[k + 1]; i++)
			gitlab_job(json_array_get(arr, g.item[i]), &p);
		r = emit(sink, &p, err);
	}
	item_groups_release(&g);
	return r;
}

/* Webhook payloads use "2016-08-12 15:23:28 UTC" times and flat build_* keys. */
static int gitlab_hook(json_t *o, const struct bp_sink *sink, struct bp_error *err)
{
	const char *kind = json_string_value(json_object_get(o, "object_kind"));
	struct bp_pipeline p;
	json_t *b;
	size_t i;

	bp_pipeline_init(&p);
	if (!strcmp(kind, "pipeline")) {
		gitlab_pipeline_fields(json_object_get(o, "object_attributes"), &p);
		free(p.project);
		p.project = str(json_object_get(o, "project"), "path_with_namespace");
		json_array_foreach(json_object_get(o, "builds"), i, b)
			if (json_is_object(b) && i < MAX_ITEMS)
				gitlab_job(b, &p);
		return emit(sink, &p, err);
	}
	/* a build (job) event */
	{
		struct bp_job *j;
		json_t *pid = json_object_get(o, "pipeline_id");
		char buf[32];
		p.provider = xstrdup("gitlab");
		if (json_is_integer(pid)) {
			snprintf(buf, sizeof(buf), "%lld", (long long)json_integer_value(pid));
			p.external_id = xstrdup(buf);
		} else {
			p.external_id = str(json_object_get(o, "commit"), "id"); /* the job event's pipeline */
		}
		p.project = str(json_object_get(o, "project"), "path_with_namespace");
		if (!p.project)
			p.project = str(o, "project_id");
		p.ref = str(o, "ref");
		p.sha = str(o, "sha");
		j = bp_pipeline_add_job(&p);
		j->external_id = str(o, !strcmp(kind, "job") ? "job_id" : "build_id");
		j->name = str(o, !strcmp(kind, "job") ? "job_name" : "build_name");
		j->stage = str(o, !strcmp(kind, "job") ? "job_stage" : "build_stage");
		j->status = str(o, !strcmp(kind, "job") ? "job_status" : "build_status");
		j->created_at = when(o, "build_created_at");
		j->started_at = when(o, "build_started_at");
		j->finished_at = when(o, "build_finished_at");
		j->duration_s = number(o, "build_duration");
		j->queued_s = number(o, "build_queued_duration");
		fill_times(j);
		return emit(sink, &p, err);
	}
}

static int gitlab_detect(const char *data, size_t len)
{
	if (memmem(data, len, "\"object_kind\"", 13))
		return memmem(data, len, "\"pipeline\"", 10) || memmem(data, len, "\"build_", 7) ||
			       memmem(data, len, "\"job_", 5) ? 100 : 0;
	/* REST: jobs have a stage and a pipeline; pipelines a sha, a ref and no head_sha */
	if (memmem(data, len, "\"head_sha\"", 10) || memmem(data, len, "\"run_id\"", 8))
		return 0;
	if (memmem(data, len, "\"stage\"", 7) && memmem(data, len, "\"pipeline\"", 10))
		return 100;
	if (memmem(data, len, "\"sha\"", 5) && memmem(data, len, "\"ref\"", 5) && memmem(data, len, "\"status\"", 8))
		return 90;
	return 0;
}

static int gitlab_parse(const char *data, size_t len, const struct bp_sink *sink, struct bp_error *err)
{
	json_error_t jerr;
	json_t *root = bp_json_loadb_kept(data, len, gitlab_keys, &jerr), *o;
	struct bp_pipeline p;
	size_t i;
	int r = 0;

	if (!root)
		return bp_error_set(err, NULL, jerr.line, "malformed GitLab JSON: %s", jerr.text);
	if (json_is_object(root) && json_string_value(json_object_get(root, "object_kind"))) {
		r = gitlab_hook(root, sink, err);
	} else if (json_is_object(root) && json_is_object(json_object_get(root, "pipeline"))) {
		json_t *one = json_array();
		json_array_append(one, root);
		r = gitlab_jobs(one, sink, err);
		json_decref(one);
	} else if (json_is_object(root)) {
		bp_pipeline_init(&p);
		gitlab_pipeline_fields(root, &p);
		r = emit(sink, &p, err);
	} else if (json_is_array(root) && json_is_object(json_object_get(json_array_get(root, 0), "pipeline"))) {
		r = gitlab_jobs(root, sink, err);
	} else if (json_is_array(root)) {
		json_array_foreach(root, i, o) {
			if (!json_is_object(o) || i >= MAX_ITEMS)
				continue;
			bp_pipeline_init(&p);
			gitlab_pipeline_fields(o, &p);
			if ((r = emit(sink, &p, err)))
				break;
		}
	}
	bp_json_kept_decref(root);
	return r;
}

/* ---------------- GitHub Actions ---------------- */

char *collector_github_status(const char *st, const char *c)
{
	if (st && !strcmp(st, "completed") && c) {
		if (!strcmp(c, "failure") || !strcmp(c, "timed_out") || !strcmp(c, "startup_failure"))
			return xstrdup("failed");
		if (!strcmp(c, "cancelled"))
			return xstrdup("canceled");
		return xstrdup(c); /* success, skipped, neutral, action_required */
	}
	if (st && !strcmp(st, "queued"))
		return xstrdup("pending");
	if (st && !strcmp(st, "in_progress"))
		return xstrdup("running");
	return st ? xstrdup(st) : NULL;
}

static char *github_status(json_t *o)
{
	return collector_github_status(json_string_value(json_object_get(o, "status")),
				       json_string_value(json_object_get(o, "conclusion")));
}

static void github_run_fields(json_t *o, struct bp_pipeline *p)
{
	p->provider = xstrdup("github");
	p->external_id = str(o, "id");
	p->name = str(o, "name");
	p->ref = str(o, "head_branch");
	p->sha = str(o, "head_sha");
	p->status = github_status(o);
	p->project = str(json_object_get(o, "repository"), "full_name");
	p->created_at = when(o, "created_at");
	p->started_at = when(o, "run_started_at");
	/* GitHub names no end time: updated_at moves on re-runs and annotations,
	 * so the run's duration comes from its jobs, never from there */
	p->queued_s = span(p->created_at, p->started_at);
}

static void github_job(json_t *o, struct bp_pipeline *p)
{
	struct bp_job *j = bp_pipeline_add_job(p);
	json_t *s;
	size_t i;

	j->external_id = str(o, "id");
	j->name = str(o, "name");
	j->stage = str(o, "workflow_name");
	j->status = github_status(o);
	j->created_at = when(o, "created_at");
	j->started_at = when(o, "started_at");
	j->finished_at = when(o, "completed_at");
	j->runner = str(o, "runner_name");
	j->attempt = (int)json_integer_value(json_object_get(o, "run_attempt"));
	json_array_foreach(json_object_get(o, "steps"), i, s) {
		struct bp_job_step *st;
		if (!json_is_object(s) || i >= MAX_ITEMS)
			continue;
		st = bp_job_add_step(j);
		st->number = (int)json_integer_value(json_object_get(s, "number"));
		st->name = str(s, "name");
		st->status = github_status(s);
		st->started_at = when(s, "started_at");
		st->completed_at = when(s, "completed_at");
	}
	fill_times(j);
}

static char *github_job_run(json_t *o)
{
	return str(o, "run_id");
}

/* Jobs grouped by their run. */
static int github_jobs(json_t *arr, json_t *repo, const struct bp_sink *sink, struct bp_error *err)
{
	struct item_groups g;
	struct bp_pipeline p;
	size_t k, i;
	int r = 0;

	group_items(arr, github_job_run, &g);
	for (k = 0; k < g.n && !r; k++) {
		json_t *o = json_array_get(arr, g.item[g.first[k]]);
		bp_pipeline_init(&p);
		p.provider = xstrdup("github");
		p.external_id = xstrdup(g.keys[k]);
		p.name = str(o, "workflow_name");
		p.ref = str(o, "head_branch");
		p.sha = str(o, "head_sha");
		p.project = repo ? str(repo, "full_name") : NULL;
		for (i = g.first[k]; i < g.first[k + 1]; i++)
			github_job(json_array_get(arr, g.item[i]), &p);
		r = emit(sink, &p, err);
	}
	item_groups_release(&g);
	return r;
}

static int github_detect(const char *data, size_t len)
{
	if (memmem(data, len, "\"workflow_job\"", 14) || memmem(data, len, "\"workflow_run\"", 14) ||
	    memmem(data, len, "\"workflow_runs\"", 15) || memmem(data, len, "\"run_id\"", 8) ||
	    (memmem(data, len, "\"head_sha\"", 10) && memmem(data, len, "\"run_attempt\"", 13)) ||
	    memmem(data, len, "\"run_duration_ms\"", 17))
		return 100;
	return 0;
}

static int github_parse(const char *data, size_t len, const struct bp_sink *sink, struct bp_error *err)
{
	json_error_t jerr;
	json_t *root = bp_json_loadb_kept(data, len, github_keys, &jerr), *o, *arr;
	struct bp_pipeline p;
	size_t i;
	int r = 0;

	if (!root)
		return bp_error_set(err, NULL, jerr.line, "malformed GitHub JSON: %s", jerr.text);
	if (!json_is_object(root)) {
		r = bp_error_set(err, NULL, 1, "expected a GitHub Actions object");
	} else if ((o = json_object_get(root, "workflow_job"))) {
		arr = json_array();
		json_array_append(arr, o);
		r = github_jobs(arr, json_object_get(root, "repository"), sink, err);
		json_decref(arr);
	} else if ((o = json_object_get(root, "workflow_run"))) {
		bp_pipeline_init(&p);
		github_run_fields(o, &p);
		r = emit(sink, &p, err);
	} else if (json_is_array(arr = json_object_get(root, "jobs"))) {
		r = github_jobs(arr, NULL, sink, err);
	} else if (json_is_array(arr = json_object_get(root, "workflow_runs"))) {
		json_array_foreach(arr, i, o) {
			if (!json_is_object(o) || i >= MAX_ITEMS)
				continue;
			bp_pipeline_init(&p);
			github_run_fields(o, &p);
			if ((r = emit(sink, &p, err)))
				break;
		}
	} else if (json_object_get(root, "run_id")) {
		arr = json_array();
		json_array_append(arr, root);
		r = github_jobs(arr, NULL, sink, err);
		json_decref(arr);
	} else if (json_object_get(root, "run_duration_ms")) {
		r = bp_error_set(err, NULL, 1, "a run's timing document names no run; ingest the run "
					       "(GET .../actions/runs/ID) and its jobs instead");
	} else {
		bp_pipeline_init(&p);
		github_run_fields(root, &p);
		r = emit(sink, &p, err);
	}
	bp_json_kept_decref(root);
	return r;
}

const struct bp_format collector_gitlab_format = {
	.name = "gitlab",
	.description = "GitLab CI REST JSON and webhook payloads (pipelines, jobs)",
	.parse_document = gitlab_parse,
	.detect_document = gitlab_detect,
};

const struct bp_format collector_github_format = {
	.name = "github",
	.description = "GitHub Actions REST JSON and webhook payloads (runs, jobs, steps)",
	.parse_document = github_parse,
	.detect_document = github_detect,
};
