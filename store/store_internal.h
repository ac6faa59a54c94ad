/*
 * store_internal.h - (store-internal) what the store's files share: the
 * handle's layout and the migration entry point.
 */
#ifndef BUILDPROF_STORE_INTERNAL_H
#define BUILDPROF_STORE_INTERNAL_H

#include <sqlite3.h>
#include <stdio.h>

#include "buildprof/store.h"

struct bp_store {
	sqlite3 *db;
	char *path;
	sqlite3_stmt *put_build, *put_step, *put_label; /* reused across builds */
	sqlite3_stmt *put_source, *find_source, *finish_source; /* ...and inputs */
	sqlite3_stmt *unlinked_image, *link_images;
	sqlite3_stmt *build_image, *previous_build, *other_build, *uncached_steps; /* ...and builds in a report */
	sqlite3_stmt *put_pipeline, *put_job, *pipeline_id, *job_id; /* ...and CI documents */
	sqlite3_stmt *savepoint, *release, *rollback_to; /* each input of a batch */
	int batch;  /* inside store_batch_begin: inputs are savepoints */
};

/* SQL: image i has the image id that build b's log named - the full
 * "sha256:<hex>" (BuildKit), its first 12 hex digits (legacy builder) or the
 * hex alone (buildah). */
#define STORE_IMAGE_ID_MATCHES                                                           \
	"(b.image_id IS NOT NULL AND length(b.image_id) >= 12 AND (i.image_id = b.image_id" \
	" OR substr(i.image_id, 8, length(b.image_id)) = b.image_id"                         \
	" OR 'sha256:' || b.image_id = i.image_id))"

/* Prepares sql into *stmt once per handle; later calls reset and reuse it
 * (parsing the same SQL per input was 10% of ingesting small logs). */
int store_prepare(struct bp_store *st, sqlite3_stmt **stmt, const char *sql, struct bp_error *err);

int store_migrate(sqlite3 *db, const char *path, struct bp_error *err);
/* Sets err from the database's last error, prefixed by what was being done. */
int store_fail(struct bp_store *st, struct bp_error *err, const char *doing);

#endif
