/*
 * store.h - the only module that speaks SQL. A narrow interface: open (and
 * migrate) a database, wrap one input in one transaction, put builds, and
 * iterate the builds a selector matches. Another backend could sit behind
 * the same calls.
 */
#ifndef BUILDPROF_STORE_H
#define BUILDPROF_STORE_H

#include "buildprof/model.h"
#include "buildprof/util.h"

struct bp_store;
struct store_iter;

/* The schema version this build of buildprof writes. */
int store_schema_version(void);

/* Has the kernel write SQLite's files out a MiB at a time as they grow, so
 * the syncs of a checkpoint find little left to write (write_behind.c says
 * why; durability is unchanged). Process-wide, for every connection; call
 * after any sqlite3_config and before the first file is opened (store_open
 * does, the bench's store floor too). Returns 0, or -1 when SQLite's VFS
 * has no pwrite to wrap and nothing changed. */
int store_write_behind(void);
/* How many write-outs it has started, for tests. */
unsigned long store_write_behind_started(void);

/* Opens (creating if needed) and migrates the database at path. Returns a new
 * handle, or NULL with err set: not SQLite, a newer schema, unwritable. */
struct bp_store *store_open(const char *path, struct bp_error *err);
void store_close(struct bp_store *st);
/* A second handle on st's database, for another thread: a connection is
 * used by one thread at a time (SQLite runs without its mutexes). NULL
 * with err set on failure, and NULL with err unset when the database has
 * no second connection (":memory:", a temporary one). */
struct bp_store *store_open_again(const struct bp_store *st, struct bp_error *err);

/* One input = one transaction. begin takes the write lock at once (waiting
 * out other writers up to the busy timeout). */
int store_begin(struct bp_store *st, struct bp_error *err);
int store_commit(struct bp_store *st, struct bp_error *err);
void store_rollback(struct bp_store *st);

/* Many inputs in one transaction: between these, rollback of an input
 * removes what it stored, so a failed input still leaves nothing behind and
 * the others are kept, but they reach the disk together at batch_commit.
 * Should an input's rows not come out alone, the whole transaction is rolled
 * back and batch_commit fails saying so. From the first batch on, st keeps a
 * larger page cache (store.c says why). */
int store_batch_begin(struct bp_store *st, struct bp_error *err);
int store_batch_commit(struct bp_store *st, struct bp_error *err);
int store_in_batch(const struct bp_store *st);
/* One read transaction over the queries that follow, so that they share a
 * snapshot and take the WAL's read lock once, not each its own (nothing
 * when a transaction is open already). store_read_end ends what
 * store_read_begin started. */
int store_read_begin(struct bp_store *st, struct bp_error *err);
void store_read_end(struct bp_store *st);

/* Records an input being ingested; its fingerprint comes at the end. Returns
 * the new source id, or -1. */
long store_put_source(struct bp_store *st, const char *kind, const char *path,
		      struct bp_error *err);
/* Records an input whose fingerprint is known already, with it: one row
 * written once. Returns the new source id, 0 when another source already
 * has that sha256 (its id in *existing; nothing is stored), or -1. */
long store_put_source_known(struct bp_store *st, const char *kind, const char *path,
			    const char *sha256, long long size, long *existing, struct bp_error *err);
/* Sets the source's sha256 and size. Returns 0, or 1 when another source
 * already has that sha256 (its id in *existing), or -1. */
int store_finish_source(struct bp_store *st, long source_id, const char *sha256,
			long long size, long *existing, struct bp_error *err);
/* What came from a source, for messages: "build 7", "builds 7, 8", "image 3"
 * appended to out. */
int store_source_summary(struct bp_store *st, long source_id, struct strbuf *out,
			 struct bp_error *err);
/* Stores b (with its steps and labels) as coming from source_id; sets b->id. */
int store_put_build(struct bp_store *st, long source_id, struct bp_build *b,
		    struct bp_error *err);

/* Stores img as coming from source_id; sets img->id. */
int store_put_image(struct bp_store *st, long source_id, struct bp_image *img,
		    struct bp_error *err);
/* Links images to the first stored build that produced them (same image id; a legacy
 * build's short id matches the start of the full one). Run inside the
 * ingest's transaction, after its builds or images are stored. */
int store_link_images(struct bp_store *st, struct bp_error *err);

/* The stored image build b produced (linked, or with the id its log named),
 * preferring one whose layers know their commands (history, config), with
 * its layers, into *img (bp_image_release it). Returns 1, 0 when none, -1. */
int store_build_image(struct bp_store *st, const struct bp_build *b, struct bp_image *img,
		      struct bp_error *err);

/* Iterates the images whose ref or digest starts with one of refs (all when
 * nrefs is 0), oldest first, with their layers. */
struct store_image_iter;
struct store_image_iter *store_select_images(struct bp_store *st, char *const refs[], size_t nrefs,
					     struct bp_error *err);
/* Fills *img (bp_image_release it) with the next image: 1, 0 at the end, -1. */
int store_image_next(struct store_image_iter *it, struct bp_image *img, struct bp_error *err);
void store_image_iter_free(struct store_image_iter *it);

/* The id of the build of that name stored just before build `before_id`:
 * the id, 0 when there is none, -1 on error. */
long store_previous_build_id(struct bp_store *st, const char *name, long before_id, struct bp_error *err);
/* That build, with its steps, into *b (bp_build_release it). Returns 1, 0
 * when there is none, -1. */
int store_previous_build(struct bp_store *st, const char *name, long before_id,
			 struct bp_build *b, struct bp_error *err);
/* Whether a build of that name other than build `id` is stored: 1, 0 or
 * -1 on error. */
int store_name_has_other_build(struct bp_store *st, const char *name, long id, struct bp_error *err);
/* Calls fn with each build name that more than one build has, in one pass
 * over the name index (a database of 100k names takes some 30 ms). Returns
 * 0 or -1. */
int store_names_built_again(struct bp_store *st, void (*fn)(void *ctx, const char *name), void *ctx,
			    struct bp_error *err);
/* Calls fn for every Dockerfile step that ran uncached, with a known
 * duration, in builds of that name (as analyzer_history_add_build picks
 * them). Returns 0 or -1. */
int store_uncached_steps(struct bp_store *st, const char *name,
			 void (*fn)(void *ctx, const char *stage, const char *text, double duration_s),
			 void *ctx, struct bp_error *err);
/* The same for every build name at once, in one pass over the steps of
 * builds from_id to to_id, in order: fn gets each step's build name too.
 * Once most names' histories are wanted it is the cheaper way: a pass per
 * name reads every page of the step table again for each name built on it.
 * Returns 0 or -1. */
int store_uncached_steps_all(struct bp_store *st, long from_id, long to_id,
			     void (*fn)(void *ctx, const char *name, const char *stage, const char *text,
					double duration_s),
			     void *ctx, struct bp_error *err);
/* How many distinct build names are stored, counting no further than
 * limit + 1 (it stops there). Returns the count, or -1. */
long store_count_names(struct bp_store *st, long limit, struct bp_error *err);
/* The lowest and highest build id and how many builds there are (0 and 0
 * when none). Returns 0 or -1. */
int store_build_ids(struct bp_store *st, long *lo, long *hi, long *count, struct bp_error *err);

/* Stores (or updates: unique on provider and external id) a pipeline and
 * its jobs and their steps as coming from source_id; known values are never
 * replaced by unknown ones. Sets p->id and each job's id. */
int store_put_pipeline(struct bp_store *st, long source_id, struct bp_pipeline *p,
		       struct bp_error *err);
/* The stored status of a pipeline (a new string, or NULL when unknown):
 * 1 when it is stored, 0 when not, -1 on error. */
int store_pipeline_status(struct bp_store *st, const char *provider, const char *external_id, char **status,
			  struct bp_error *err);
/* Iterates pipelines (all, or those whose id, external id, project or ref
 * is one of refs), oldest first, with jobs (by start) and job steps. */
struct store_pipeline_iter;
struct store_pipeline_iter *store_select_pipelines(struct bp_store *st, char *const refs[],
						   size_t nrefs, struct bp_error *err);
/* The same for the pipelines whose provider id is one of ids (the
 * CI_PIPELINE_ID or GITHUB_RUN_ID labels of builds), as many as there are. */
struct store_pipeline_iter *store_select_pipeline_runs(struct bp_store *st, char *const ids[], size_t nids,
						       struct bp_error *err);
/* Fills *p (bp_pipeline_release it): 1, 0 at the end, -1. */
int store_pipeline_next(struct store_pipeline_iter *it, struct bp_pipeline *p, struct bp_error *err);
void store_pipeline_iter_free(struct store_pipeline_iter *it);

/* The ids of the builds that ran inside a CI job, as `buildprof run` labels
 * them: CI_JOB_ID (GitLab), or GITHUB_RUN_ID and GITHUB_JOB (GitHub).
 * Appends to *ids (new array; free it). Returns 0 or -1. */
int store_job_builds(struct bp_store *st, const struct bp_pipeline *p, const struct bp_job *j,
		     long **ids, size_t *n, struct bp_error *err);

/* The last `limit` runs of the job named `name` in pipelines of the same
 * provider, project and ref as p (p's own included), newest first: fn gets
 * each run's status and duration (NAN unknown). Returns 0 or -1. */
int store_job_history(struct bp_store *st, const struct bp_pipeline *p, const char *name, long limit,
		      void (*fn)(void *ctx, const char *status, double duration_s), void *ctx,
		      struct bp_error *err);

/* What of each build's steps store_select_builds loads (with_steps). */
#define STORE_STEPS_NONE 0
#define STORE_STEPS_ALL 1   /* every column but the digest, left NULL: no
			     * command reads it back */
#define STORE_STEPS_TIMES 2 /* kind, cached, status and duration only: enough for
			     * analyzer_build_stats, without a string per step */
#define STORE_STEPS_NAMED 3 /* the same with stage, text, index and count, for the
			     * Dockerfile steps only (kind step): enough for
			     * analyzer_summary_add and analyzer_compare_add, not for
			     * vertex counts or overhead; these two leave the builds'
			     * labels out too, unless STORE_LABELS is or'ed in */
#define STORE_STEPS_SHOWN 4 /* STORE_STEPS_ALL but vertex, platform, instruction
			     * and output lines, left 0 and NULL: what every report
			     * format but JSON, and every chart, shows, four
			     * columns fewer to read */
#define STORE_LABELS 0x100  /* the builds' labels, whatever the steps' mode */
/* Iterates the builds sel matches, oldest first, with their steps as
 * with_steps says. Returns a new iterator or NULL. */
struct store_iter *store_select_builds(struct bp_store *st, const struct bp_selector *sel,
				       int with_steps, struct bp_error *err);
/* Fills *b (which the caller bp_build_release()s) with the next build.
 * Returns 1, 0 at the end, or -1. */
int store_iter_next(struct store_iter *it, struct bp_build *b, struct bp_error *err);
void store_iter_free(struct store_iter *it);

#endif
