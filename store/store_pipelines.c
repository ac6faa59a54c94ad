/*
 * store_pipelines.c - CI pipelines, jobs and job steps. A pipeline or job is
 * unique on (provider, external id): a later document (a re-fetch, a webhook
 * for a job that finished) updates it, and what it does not know leaves the
 * stored value alone.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "store_internal.h"

/* SQL: the new status, unless the stored one is final and the new one is
 * not - webhooks arrive out of order, and a "queued" event delivered after
 * "completed" must not bring a job back to life. */
#define MERGED_STATUS                                                                        \
	" status = CASE WHEN status IN ('success','failed','canceled','skipped')"            \
	" AND excluded.status NOT IN ('success','failed','canceled','skipped')"               \
	" THEN status ELSE coalesce(excluded.status, status) END,"

static void bind_text(sqlite3_stmt *q, int i, const char *s)
{
	if (s)
		sqlite3_bind_text(q, i, s, -1, SQLITE_STATIC);
	else
		sqlite3_bind_null(q, i);
}

static void bind_real(sqlite3_stmt *q, int i, double v)
{
	if (isfinite(v))
		sqlite3_bind_double(q, i, v);
	else
		sqlite3_bind_null(q, i);
}

/* The id of the row of table (job or pipeline) with this provider and
 * external id. Statements here run once per job and pipeline of every
 * input: they are prepared once per handle (parsing them was 44% of a
 * GitLab ingest). */
static long row_id(struct bp_store *st, const char *table, const char *provider, const char *ext,
		   struct bp_error *err)
{
	int job = !strcmp(table, "job");
	sqlite3_stmt **q = job ? &st->job_id : &st->pipeline_id;
	long id = -1;

	if (store_prepare(st, q, job ? "SELECT id FROM job WHERE provider = ? AND external_id = ?"
				     : "SELECT id FROM pipeline WHERE provider = ? AND external_id = ?", err))
		return -1;
	bind_text(*q, 1, provider);
	bind_text(*q, 2, ext);
	if (sqlite3_step(*q) == SQLITE_ROW)
		id = (long)sqlite3_column_int64(*q, 0);
	sqlite3_reset(*q);
	if (id < 0)
		store_fail(st, err, "cannot look up a pipeline");
	return id;
}

/* Runs the upsert q of a row of table and returns the row's id: the rowid
 * it inserted, or where it updated a stored row instead (a document seen
 * before), that row's id looked up. A lookup after every upsert was five
 * statements more per GitLab document, and "RETURNING id" cost more than
 * the lookups it saved (SQLite holds each statement's returned rows aside
 * until the statement has made all its changes). */
static long upsert_id(struct bp_store *st, sqlite3_stmt *q, const char *table, const char *provider,
		      const char *ext, const char *what, struct bp_error *err)
{
	long id;
	int rc;

	sqlite3_set_last_insert_rowid(st->db, 0); /* rowids start at 1 */
	rc = sqlite3_step(q);
	sqlite3_reset(q);
	if (rc != SQLITE_DONE)
		return store_fail(st, err, what);
	id = (long)sqlite3_last_insert_rowid(st->db);
	return id ? id : row_id(st, table, provider, ext, err);
}

int store_pipeline_status(struct bp_store *st, const char *provider, const char *external_id, char **status,
			  struct bp_error *err)
{
	sqlite3_stmt *q;
	int rc;

	*status = NULL;
	if (sqlite3_prepare_v2(st->db, "SELECT status FROM pipeline WHERE provider = ? AND external_id = ?",
			       -1, &q, NULL) != SQLITE_OK)
		return store_fail(st, err, "cannot look up a pipeline");
	bind_text(q, 1, provider);
	bind_text(q, 2, external_id);
	rc = sqlite3_step(q);
	if (rc == SQLITE_ROW)
		*status = xstrdup_or_null((const char *)sqlite3_column_text(q, 0));
	sqlite3_finalize(q);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return store_fail(st, err, "cannot look up a pipeline");
	return rc == SQLITE_ROW;
}

static int put_job(struct bp_store *st, long pipeline_id, const char *provider, struct bp_job *j,
		   struct bp_error *err)
{
	static const char sql[] =
		"INSERT INTO job(pipeline_id, provider, external_id, name, stage, status, created_at,"
		" started_at, finished_at, duration_s, queued_s, runner, attempt)"
		" VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)"
		" ON CONFLICT(provider, external_id) DO UPDATE SET"
		" pipeline_id = excluded.pipeline_id,"
		" name = coalesce(excluded.name, name), stage = coalesce(excluded.stage, stage),"
		MERGED_STATUS
		" created_at = coalesce(excluded.created_at, created_at),"
		" started_at = coalesce(excluded.started_at, started_at),"
		" finished_at = coalesce(excluded.finished_at, finished_at),"
		" duration_s = coalesce(excluded.duration_s, duration_s),"
		" queued_s = coalesce(excluded.queued_s, queued_s),"
		" runner = coalesce(excluded.runner, runner), attempt = coalesce(excluded.attempt, attempt)";
	sqlite3_stmt *q;
	size_t i;

	if (!j->external_id)
		return 0; /* a job without an id cannot be merged with anything: skip it */
	if (store_prepare(st, &st->put_job, sql, err))
		return -1;
	q = st->put_job;
	sqlite3_bind_int64(q, 1, pipeline_id);
	bind_text(q, 2, provider);
	bind_text(q, 3, j->external_id);
	bind_text(q, 4, j->name);
	bind_text(q, 5, j->stage);
	bind_text(q, 6, j->status);
	bind_real(q, 7, j->created_at);
	bind_real(q, 8, j->started_at);
	bind_real(q, 9, j->finished_at);
	bind_real(q, 10, j->duration_s);
	bind_real(q, 11, j->queued_s);
	bind_text(q, 12, j->runner);
	if (j->attempt > 0)
		sqlite3_bind_int(q, 13, j->attempt);
	else
		sqlite3_bind_null(q, 13);
	if ((j->id = upsert_id(st, q, "job", provider, j->external_id, "cannot store a job", err)) < 0)
		return -1;
	if (!j->nsteps)
		return 0;
	/* a document with steps knows all of them: replace */
	if (store_prepare(st, &st->drop_job_steps, "DELETE FROM job_step WHERE job_id = ?", err))
		return -1;
	sqlite3_bind_int64(st->drop_job_steps, 1, j->id);
	if (sqlite3_step(st->drop_job_steps) != SQLITE_DONE)
		return store_fail(st, err, "cannot store job steps");
	if (store_prepare(st, &st->put_job_step,
			  "INSERT OR REPLACE INTO job_step(job_id, number, name, status, started_at, completed_at)"
			  " VALUES (?,?,?,?,?,?)", err))
		return -1;
	q = st->put_job_step;
	for (i = 0; i < j->nsteps; i++) {
		sqlite3_reset(q);
		sqlite3_bind_int64(q, 1, j->id);
		sqlite3_bind_int(q, 2, j->steps[i].number ? j->steps[i].number : (int)i + 1);
		bind_text(q, 3, j->steps[i].name);
		bind_text(q, 4, j->steps[i].status);
		bind_real(q, 5, j->steps[i].started_at);
		bind_real(q, 6, j->steps[i].completed_at);
		if (sqlite3_step(q) != SQLITE_DONE)
			return store_fail(st, err, "cannot store job steps");
	}
	return 0;
}

/* 1 when the pipeline p or any of its jobs was stored before, 0 when
 * storing p only adds rows, or -1. */
static int pipeline_stored(struct bp_store *st, const struct bp_pipeline *p, struct bp_error *err)
{
	char **ids;
	size_t i, n = 0;
	int rc;

	if (store_prepare(st, &st->pipeline_stored,
			  "SELECT EXISTS (SELECT 1 FROM pipeline WHERE provider = ?1 AND external_id = ?2)"
			  " OR EXISTS (SELECT 1 FROM job WHERE provider = ?1 AND external_id IN"
			  " (SELECT value FROM json_each(?3)))",
			  err))
		return -1;
	ids = xcalloc(p->njobs + 1, sizeof(*ids));
	for (i = 0; i < p->njobs; i++)
		if (p->jobs[i].external_id)
			ids[n++] = p->jobs[i].external_id;
	bind_text(st->pipeline_stored, 1, p->provider);
	bind_text(st->pipeline_stored, 2, p->external_id);
	store_bind_strings(st->pipeline_stored, 3, ids, n);
	free(ids);
	rc = sqlite3_step(st->pipeline_stored);
	if (rc == SQLITE_ROW)
		rc = sqlite3_column_int(st->pipeline_stored, 0);
	else
		rc = store_fail(st, err, "cannot look up a pipeline");
	sqlite3_reset(st->pipeline_stored);
	return rc;
}

int store_put_pipeline(struct bp_store *st, long source_id, struct bp_pipeline *p, struct bp_error *err)
{
	static const char sql[] =
		"INSERT INTO pipeline(source_id, provider, external_id, project, name, ref, sha, status,"
		" created_at, started_at, finished_at, duration_s, queued_s)"
		" VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)"
		" ON CONFLICT(provider, external_id) DO UPDATE SET"
		" source_id = excluded.source_id,"
		" project = coalesce(excluded.project, project), name = coalesce(excluded.name, name),"
		" ref = coalesce(excluded.ref, ref), sha = coalesce(excluded.sha, sha),"
		MERGED_STATUS
		" created_at = coalesce(excluded.created_at, created_at),"
		" started_at = coalesce(excluded.started_at, started_at),"
		" finished_at = coalesce(excluded.finished_at, finished_at),"
		" duration_s = coalesce(excluded.duration_s, duration_s),"
		" queued_s = coalesce(excluded.queued_s, queued_s)";
	sqlite3_stmt *q = NULL;
	size_t i;
	int stored = 0;

	/* An upsert changes a pipeline, its jobs and their steps that an
	 * earlier input stored: undoing this input must put them back, so in a
	 * batch the input opens a savepoint first. One that only adds rows
	 * needs none: store_rollback deletes the pipelines naming its source,
	 * with their jobs and steps. The savepoint's journal held every page
	 * the input wrote that existed before, and ingest of 10k GitLab
	 * pipelines took 0.46 s with one for each and 0.37 s without (medians
	 * of five, in turns). */
	if (st->batch && !st->input_savepoint && (stored = pipeline_stored(st, p, err)) < 0)
		return -1;
	if ((stored && store_protect_input(st, err)) || store_prepare(st, &st->put_pipeline, sql, err))
		return -1;
	q = st->put_pipeline;
	sqlite3_bind_int64(q, 1, source_id);
	bind_text(q, 2, p->provider);
	bind_text(q, 3, p->external_id);
	bind_text(q, 4, p->project);
	bind_text(q, 5, p->name);
	bind_text(q, 6, p->ref);
	bind_text(q, 7, p->sha);
	bind_text(q, 8, p->status);
	bind_real(q, 9, p->created_at);
	bind_real(q, 10, p->started_at);
	bind_real(q, 11, p->finished_at);
	bind_real(q, 12, p->duration_s);
	bind_real(q, 13, p->queued_s);
	if ((p->id = upsert_id(st, q, "pipeline", p->provider, p->external_id, "cannot store a pipeline",
			       err)) < 0)
		return -1;
	for (i = 0; i < p->njobs; i++)
		if (put_job(st, p->id, p->provider, &p->jobs[i], err))
			return -1;
	return 0;
}

struct store_pipeline_iter {
	struct bp_store *st;
	sqlite3_stmt *pipelines, *jobs, *steps;
};

/* Pipelines whose row matches where, oldest first, with their jobs and
 * steps on next. where may use ?1, bound to ids (store_bind_strings), which
 * SQLite makes a set once: as OR'ed terms, a report over builds of some 250
 * pipelines made an expression deeper than SQLite allows, and every
 * pipeline was compared with every id. */
static struct store_pipeline_iter *select_pipelines_where(struct bp_store *st, const char *where,
							  char *const ids[], size_t nids,
							  struct bp_error *err)
{
	struct store_pipeline_iter *it = xcalloc(1, sizeof(*it));
	struct strbuf sql = STRBUF_INIT;

	it->st = st;
	strbuf_addf(&sql, "SELECT id, provider, external_id, project, name, ref, sha, status, created_at,"
			  " started_at, finished_at, duration_s, queued_s FROM pipeline%s"
			  " ORDER BY coalesce(created_at, started_at), id", where);
	if (sqlite3_prepare_v2(st->db, sql.buf, -1, &it->pipelines, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(st->db, "SELECT id, external_id, name, stage, status, created_at, started_at,"
				       " finished_at, duration_s, queued_s, runner, attempt FROM job"
				       " WHERE pipeline_id = ? ORDER BY coalesce(started_at, created_at), id",
			       -1, &it->jobs, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(st->db, "SELECT number, name, status, started_at, completed_at FROM job_step"
				       " WHERE job_id = ? ORDER BY number", -1, &it->steps, NULL) != SQLITE_OK) {
		store_fail(st, err, "cannot select pipelines");
		strbuf_release(&sql);
		store_pipeline_iter_free(it);
		return NULL;
	}
	if (sqlite3_bind_parameter_count(it->pipelines))
		store_bind_strings(it->pipelines, 1, ids, nids);
	strbuf_release(&sql);
	return it;
}

#define IN_IDS "IN (SELECT value FROM json_each(?1))"

struct store_pipeline_iter *store_select_pipelines(struct bp_store *st, char *const refs[],
						   size_t nrefs, struct bp_error *err)
{
	return select_pipelines_where(st, nrefs ? " WHERE CAST(id AS TEXT) " IN_IDS " OR external_id " IN_IDS
						  " OR project " IN_IDS " OR ref " IN_IDS : "",
				      refs, nrefs, err);
}

struct store_pipeline_iter *store_select_pipeline_runs(struct bp_store *st, char *const ids[], size_t nids,
						       struct bp_error *err)
{
	return select_pipelines_where(st, " WHERE external_id " IN_IDS, ids, nids, err);
}

static char *text_at(sqlite3_stmt *q, int i)
{
	const unsigned char *s = sqlite3_column_text(q, i);
	return s ? xstrdup((const char *)s) : NULL;
}

static double real_at(sqlite3_stmt *q, int i)
{
	return sqlite3_column_type(q, i) == SQLITE_NULL ? NAN : sqlite3_column_double(q, i);
}

int store_pipeline_next(struct store_pipeline_iter *it, struct bp_pipeline *p, struct bp_error *err)
{
	sqlite3_stmt *q = it->pipelines;
	int rc;

	bp_pipeline_init(p);
	rc = sqlite3_step(q);
	if (rc == SQLITE_DONE)
		return 0;
	if (rc != SQLITE_ROW)
		return store_fail(it->st, err, "cannot read pipelines");
	p->id = (long)sqlite3_column_int64(q, 0);
	p->provider = text_at(q, 1);
	p->external_id = text_at(q, 2);
	p->project = text_at(q, 3);
	p->name = text_at(q, 4);
	p->ref = text_at(q, 5);
	p->sha = text_at(q, 6);
	p->status = text_at(q, 7);
	p->created_at = real_at(q, 8);
	p->started_at = real_at(q, 9);
	p->finished_at = real_at(q, 10);
	p->duration_s = real_at(q, 11);
	p->queued_s = real_at(q, 12);
	sqlite3_reset(it->jobs);
	sqlite3_bind_int64(it->jobs, 1, p->id);
	while ((rc = sqlite3_step(it->jobs)) == SQLITE_ROW) {
		struct bp_job *j = bp_pipeline_add_job(p);
		j->id = (long)sqlite3_column_int64(it->jobs, 0);
		j->external_id = text_at(it->jobs, 1);
		j->name = text_at(it->jobs, 2);
		j->stage = text_at(it->jobs, 3);
		j->status = text_at(it->jobs, 4);
		j->created_at = real_at(it->jobs, 5);
		j->started_at = real_at(it->jobs, 6);
		j->finished_at = real_at(it->jobs, 7);
		j->duration_s = real_at(it->jobs, 8);
		j->queued_s = real_at(it->jobs, 9);
		j->runner = text_at(it->jobs, 10);
		j->attempt = sqlite3_column_int(it->jobs, 11);
		sqlite3_reset(it->steps);
		sqlite3_bind_int64(it->steps, 1, j->id);
		while (sqlite3_step(it->steps) == SQLITE_ROW) {
			struct bp_job_step *s = bp_job_add_step(j);
			s->number = sqlite3_column_int(it->steps, 0);
			s->name = text_at(it->steps, 1);
			s->status = text_at(it->steps, 2);
			s->started_at = real_at(it->steps, 3);
			s->completed_at = real_at(it->steps, 4);
		}
	}
	if (rc != SQLITE_DONE) {
		bp_pipeline_release(p);
		return store_fail(it->st, err, "cannot read jobs");
	}
	return 1;
}

void store_pipeline_iter_free(struct store_pipeline_iter *it)
{
	if (!it)
		return;
	sqlite3_finalize(it->pipelines);
	sqlite3_finalize(it->jobs);
	sqlite3_finalize(it->steps);
	free(it);
}

int store_job_builds(struct bp_store *st, const struct bp_pipeline *p, const struct bp_job *j,
		     long **ids, size_t *n, struct bp_error *err)
{
	static const char gitlab[] =
		"SELECT build_id FROM label WHERE key = 'CI_JOB_ID' AND value = ?1 ORDER BY build_id";
	static const char github[] =
		"SELECT r.build_id FROM label r JOIN label k ON k.build_id = r.build_id"
		" WHERE r.key = 'GITHUB_RUN_ID' AND r.value = ?1 AND k.key = 'GITHUB_JOB' AND k.value = ?2"
		" ORDER BY r.build_id";
	int gh = p->provider && !strcmp(p->provider, "github"), rc;
	sqlite3_stmt **q = gh ? &st->github_job_builds : &st->gitlab_job_builds;
	size_t alloc = 0;

	*ids = NULL;
	*n = 0;
	/* kept on the store: `pipelines` asks this for every job it lists */
	if (store_prepare(st, q, gh ? github : gitlab, err))
		return -1;
	bind_text(*q, 1, gh ? p->external_id : j->external_id);
	if (gh)
		bind_text(*q, 2, j->name);
	while ((rc = sqlite3_step(*q)) == SQLITE_ROW) {
		BP_GROW(*ids, *n + 1, alloc);
		(*ids)[(*n)++] = (long)sqlite3_column_int64(*q, 0);
	}
	sqlite3_reset(*q);
	if (rc != SQLITE_DONE)
		return store_fail(st, err, "cannot join builds to jobs");
	return 0;
}

/* Steps q (bound) to its end, handing fn each run; returns the runs seen,
 * or -1. */
static long job_runs(struct bp_store *st, sqlite3_stmt *q,
		     void (*fn)(void *ctx, const char *status, double duration_s), void *ctx,
		     struct bp_error *err)
{
	long n = 0;
	int rc;

	while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
		fn(ctx, (const char *)sqlite3_column_text(q, 0),
		   sqlite3_column_type(q, 1) == SQLITE_NULL ? NAN : sqlite3_column_double(q, 1));
		n++;
	}
	sqlite3_reset(q);
	return rc == SQLITE_DONE ? n : store_fail(st, err, "cannot read job history");
}

/* Newest first by the pipeline's time, which is an index's last column
 * (pipeline_history): the walk starts at p's time and stops after limit
 * runs. Pipelines with no time come last, as the ORDER BY of one query over
 * both had them; that query could use no index for the time and so read
 * every pipeline of the project per job: `pipelines` over 10,000 of them
 * did not finish in 5 minutes (GitLab pipelines known from their job lists
 * have no time, so it was the undated ones). */
int store_job_history(struct bp_store *st, const struct bp_pipeline *p, const char *name, long limit,
		      void (*fn)(void *ctx, const char *status, double duration_s), void *ctx,
		      struct bp_error *err)
{
#define JOB_HISTORY_OF(join)                                                                   \
	"SELECT j.status, j.duration_s FROM " join " ON j.pipeline_id = q.id"                    \
	" WHERE q.provider = ?1 AND q.project IS ?2 AND q.ref IS ?3 AND j.name = ?4"
	static const char timed[] = JOB_HISTORY_OF("pipeline q JOIN job j")
		" AND coalesce(q.created_at, q.started_at) <= coalesce(?5, 1e18)"
		" ORDER BY coalesce(q.created_at, q.started_at) DESC, j.id DESC LIMIT ?6";
	/* the jobs of that name newest first (CROSS JOIN keeps them outside):
	 * from the pipeline side, every undated pipeline of the project would
	 * be read and sorted */
	static const char untimed[] = JOB_HISTORY_OF("job j CROSS JOIN pipeline q")
		" AND coalesce(q.created_at, q.started_at) IS NULL AND 0 <= coalesce(?5, 1e18)"
		" ORDER BY j.id DESC LIMIT ?6";
#undef JOB_HISTORY_OF
	sqlite3_stmt **qs[2] = { &st->job_history, &st->job_history_untimed };
	const char *sql[2] = { timed, untimed };
	long got = 0, n;
	int k;

	for (k = 0; k < 2 && got < limit; k++) {
		sqlite3_stmt *q;
		if (store_prepare(st, qs[k], sql[k], err))
			return -1;
		q = *qs[k];
		bind_text(q, 1, p->provider);
		bind_text(q, 2, p->project);
		bind_text(q, 3, p->ref);
		bind_text(q, 4, name);
		bind_real(q, 5, !isnan(p->created_at) ? p->created_at : p->started_at);
		sqlite3_bind_int64(q, 6, limit - got);
		if ((n = job_runs(st, q, fn, ctx, err)) < 0)
			return -1;
		got += n;
	}
	return 0;
}
