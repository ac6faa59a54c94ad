/*
 * store_internal.h - (store-internal) what the store's files share: the
 * handle's layout and the migration entry point.
 */
#ifndef BUILDPROF_STORE_INTERNAL_H
#define BUILDPROF_STORE_INTERNAL_H

#include <sqlite3.h>
#include <stdio.h>

#include "buildprof/store.h"

/* The statements that remove a failed input of a batch. */
#define STORE_UNDO_STEPS 9

/* What a step statement's parameters hold from its last run (store.c,
 * bind_step). */
struct store_step_binding {
	sqlite3_stmt *stmt; /* the statement; another: nothing known */
	long build_id;      /* parameter 1 */
	int kind, status;   /* parameters 11 and 13, as enum values; -1 unknown */
	unsigned nulls;     /* bit i: parameter i holds NULL */
};

struct bp_store {
	sqlite3 *db;
	char *path;
	sqlite3_stmt *put_build, *put_step, *put_next_step, *put_label; /* reused across builds */
	struct store_step_binding step_bound[2]; /* put_step's, put_next_step's */
	sqlite3_stmt *put_source, *find_source, *finish_source; /* ...and inputs */
	sqlite3_stmt *put_image, *put_layer, *link_images, *unlinked_image; /* ...and images */
	sqlite3_stmt *build_image, *previous_build, *other_build, *uncached_steps; /* ...and builds in a report */
	sqlite3_stmt *put_pipeline, *put_job, *pipeline_id, *job_id; /* ...and CI documents */
	sqlite3_stmt *drop_job_steps, *put_job_step; /* ...and their jobs' steps (GitHub) */
	sqlite3_stmt *pipeline_stored; /* ...and whether one changes rows stored before */
	sqlite3_stmt *job_history, *job_history_untimed; /* ...and jobs in `pipelines` */
	sqlite3_stmt *gitlab_job_builds, *github_job_builds; /* ...and their builds */
	sqlite3_stmt *savepoint, *release, *rollback_to; /* each input of a batch */
	sqlite3_stmt *undo[STORE_UNDO_STEPS]; /* ...and removing one (store.c) */
	long images_since, builds_since; /* the first image, and build naming one,
					  * stored since store_link_images last
					  * ran; 0 for none */
	int batch;  /* inside store_batch_begin (store_begin says what an input is then) */
	long input_source; /* in a batch: the source row of the input being stored, 0 before */
	int input_savepoint; /* in a batch: the input opened a savepoint (store_protect_input) */
	int batch_lost; /* in a batch: its transaction was rolled back, the
			 * inputs before too (an input that could not be undone
			 * alone, or SQLite's own rollback on an I/O error) */
	int reading;  /* in a read transaction store_read_begin started */
};

/* In a batch, before an input changes a row it did not add (a pipeline's
 * upsert): opens the savepoint that store_rollback undoes that change with. */
int store_protect_input(struct bp_store *st, struct bp_error *err);

/* A step row's id is build_id << 20 | seq (schema.c, migration 7 -> 8), so
 * a build has at most STORE_MAX_STEPS steps and they are one range of ids.
 * SQL: STORE_FIRST_STEP(b), the first id build b's steps may have (b an
 * expression); STORE_STEP_OF(s, b), step row s is one of build b's, by
 * that range (no index on build_id). */
#define STORE_MAX_STEPS (1L << 20)
#define STORE_FIRST_STEP(b) "((" b ") << 20)"
#define STORE_STEP_OF(s, b) \
	"(" s ".id >= " STORE_FIRST_STEP(b) " AND " s ".id < " STORE_FIRST_STEP("(" b ") + 1") ")"

/* The page size of a new database (store_migrate says why). */
#define STORE_PAGE_SIZE 16384

/* SQL: image i has the image id that build b's log named - the full
 * "sha256:<hex>" (BuildKit), or the hex alone (buildah) or its first 12 or
 * more digits (legacy builder) after i's "sha256:". */
#define STORE_IMAGE_ID_MATCHES                                                        \
	"(length(b.image_id) >= 12 AND (i.image_id = b.image_id"                       \
	" OR substr(i.image_id, 1, 7 + length(b.image_id)) = 'sha256:' || b.image_id))"

/* The same match as ranges of the image_id indexes, one lookup per term
 * instead of a scan: per build, of every image (a report over 2,000 builds
 * beside 5,000 images took 9.6 s); per unlinked image, of every build (an
 * ingest beside 5,000 images that no build made took 199 s).
 *
 * STORE_IMAGES_OF_BUILD: the images i of build b, linked to it or matching
 * its image id (several builds, cold then warm, can make the very same
 * image; it is linked to the first). An id that starts with
 * P = "sha256:" || b.image_id lies in [P, P || U+10FFFF): image ids are
 * ASCII hex. */
#define STORE_IMAGES_OF_BUILD                                                            \
	"(i.build_id = b.id OR (i.image_id = b.image_id AND length(b.image_id) >= 12)"      \
	" OR (i.image_id >= 'sha256:' || b.image_id AND i.image_id < 'sha256:' || b.image_id" \
	" || char(1114111) AND length(b.image_id) >= 12))"
/* True when the database holds any image: most hold none (images are
 * ingested apart from builds), and a lookup guarded by it then costs one
 * probe per statement instead of the index lookups per build. */
#define STORE_ANY_IMAGE "(SELECT 1 FROM image LIMIT 1)"
/* STORE_BUILDS_OF_IMAGE: the builds b whose image id image i has. A prefix
 * of i's hex H of 12 digits or more lies in [H's first 12, H]; the exact
 * match sorts out the rest of that range. */
#define STORE_BUILDS_OF_IMAGE                                                          \
	"((b.image_id = i.image_id OR (b.image_id >= substr(i.image_id, 8, 12)"           \
	" AND b.image_id <= substr(i.image_id, 8))) AND " STORE_IMAGE_ID_MATCHES ")"

/* Binds items to parameter param of q as one JSON array of strings, for
 * "IN (SELECT value FROM json_each(?N))" and the like: a list of any length
 * is one parameter, where OR'ed terms per item made SQLite refuse an
 * expression deeper than 1,000 (past some 250 pipeline ids, 1,000 image
 * refs). */
void store_bind_strings(sqlite3_stmt *q, int param, char *const items[], size_t n);

/* Prepares sql into *stmt once per handle; later calls reset and reuse it
 * (parsing the same SQL per input was 10% of ingesting small logs). */
int store_prepare(struct bp_store *st, sqlite3_stmt **stmt, const char *sql, struct bp_error *err);

/* Takes the database to the newest schema (schema.c): a new one made from
 * the build's snapshot of that schema, an older one through each migration
 * it lacks. Returns 0, or -1 with err set and nothing changed. */
int store_migrate(sqlite3 *db, const char *path, struct bp_error *err);
/* The same through every migration, a new database too: what the snapshot
 * is dumped from (store/gen/schema_dump.c), and the tests' reference. */
int store_migrate_stepwise(sqlite3 *db, const char *path, struct bp_error *err);
/* Sets err from the database's last error, prefixed by what was being done. */
int store_fail(struct bp_store *st, struct bp_error *err, const char *doing);

#endif
