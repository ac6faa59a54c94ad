/*
 * schema.c - the database schema as a list of forward migrations. Migration i
 * takes PRAGMA user_version from i to i+1; a database newer than the last
 * migration is refused untouched. A new database is made in one pass from
 * the schema they end in, which the build dumps (store/gen/schema_dump.c).
 */
#include "store_internal.h"

#ifdef BUILDPROF_SCHEMA_DUMP
/* store/gen/schema_dump.c, which makes the snapshot, runs the migrations */
#define SCHEMA_SNAPSHOT_VERSION 0
static const char schema_snapshot[] = "";
#else
#include "schema_snapshot.h" /* generated at build time: see store_migrate */
#endif

/* The constraints of migration 4 -> 5, quoted for an SQL string literal. */
#define STEP_KIND_CHECK                                                              \
	"kind = ''step'' OR kind = ''from'' OR kind = ''internal'' OR kind = ''export''" \
	" OR kind = ''cache''"
#define STEP_STATUS_CHECK                                                                \
	"status = ''done'' OR status = ''cached'' OR status = ''error''"                   \
	" OR status = ''canceled'' OR status = ''incomplete''"
#define BUILD_STATUS_CHECK "status = ''success'' OR status = ''failed'' OR status = ''incomplete''"

static const char *const migrations[] = {
	/* 0 -> 1: builds and their steps */
	"CREATE TABLE source ("
	"  id INTEGER PRIMARY KEY,"
	"  kind TEXT NOT NULL,"
	"  path TEXT NOT NULL,"
	"  sha256 TEXT UNIQUE,"
	"  size INTEGER,"
	"  ingested_at REAL NOT NULL);"
	"CREATE TABLE build ("
	"  id INTEGER PRIMARY KEY,"
	"  source_id INTEGER NOT NULL REFERENCES source(id) ON DELETE CASCADE,"
	"  name TEXT NOT NULL,"
	"  format TEXT NOT NULL,"
	"  status TEXT NOT NULL CHECK (status IN ('success','failed','incomplete')),"
	"  started_at REAL,"
	"  wall_s REAL,"
	"  image_ref TEXT,"
	"  image_id TEXT,"
	"  base_image TEXT,"
	"  error TEXT);"
	"CREATE INDEX build_source ON build(source_id);"
	"CREATE INDEX build_name ON build(name);"
	"CREATE TABLE step ("
	"  build_id INTEGER NOT NULL REFERENCES build(id) ON DELETE CASCADE,"
	"  seq INTEGER NOT NULL,"
	"  vertex INTEGER,"
	"  stage TEXT,"
	"  platform TEXT,"
	"  idx INTEGER,"
	"  count INTEGER,"
	"  instruction TEXT,"
	"  text TEXT NOT NULL,"
	"  digest TEXT,"
	"  kind TEXT NOT NULL CHECK (kind IN ('step','from','internal','export','cache')),"
	"  cached INTEGER NOT NULL,"
	"  status TEXT NOT NULL CHECK (status IN ('done','cached','error','canceled','incomplete')),"
	"  start_s REAL,"
	"  duration_s REAL,"
	"  error TEXT,"
	"  output_lines INTEGER NOT NULL,"
	"  PRIMARY KEY (build_id, seq)) WITHOUT ROWID;"
	"CREATE TABLE label ("
	"  build_id INTEGER NOT NULL REFERENCES build(id) ON DELETE CASCADE,"
	"  key TEXT NOT NULL,"
	"  value TEXT NOT NULL,"
	"  PRIMARY KEY (build_id, key)) WITHOUT ROWID;"
	"CREATE INDEX label_kv ON label(key, value);",

	/* 1 -> 2: images and their layers */
	"CREATE TABLE image ("
	"  id INTEGER PRIMARY KEY,"
	"  source_id INTEGER NOT NULL REFERENCES source(id) ON DELETE CASCADE,"
	"  ref TEXT,"
	"  image_id TEXT,"
	"  digest TEXT,"
	"  platform TEXT,"
	"  media_type TEXT,"
	"  base_image TEXT,"
	"  size_bytes INTEGER,"
	"  compressed_bytes INTEGER,"
	"  created_at REAL,"
	"  build_id INTEGER REFERENCES build(id) ON DELETE SET NULL);"
	"CREATE INDEX image_image_id ON image(image_id);"
	"CREATE INDEX image_build ON image(build_id);"
	"CREATE TABLE layer ("
	"  image_id INTEGER NOT NULL REFERENCES image(id) ON DELETE CASCADE,"
	"  seq INTEGER NOT NULL,"
	"  digest TEXT,"
	"  size_bytes INTEGER,"
	"  compressed_bytes INTEGER,"
	"  media_type TEXT,"
	"  created_by TEXT,"
	"  empty INTEGER NOT NULL DEFAULT 0,"
	"  PRIMARY KEY (image_id, seq)) WITHOUT ROWID;"
	"CREATE INDEX build_image_id ON build(image_id);",

	/* 2 -> 3: CI pipelines, jobs and job steps */
	"CREATE TABLE pipeline ("
	"  id INTEGER PRIMARY KEY,"
	"  source_id INTEGER REFERENCES source(id) ON DELETE SET NULL,"
	"  provider TEXT NOT NULL,"
	"  external_id TEXT NOT NULL,"
	"  project TEXT, name TEXT, ref TEXT, sha TEXT, status TEXT,"
	"  created_at REAL, started_at REAL, finished_at REAL, duration_s REAL, queued_s REAL,"
	"  UNIQUE (provider, external_id));"
	"CREATE TABLE job ("
	"  id INTEGER PRIMARY KEY,"
	"  pipeline_id INTEGER NOT NULL REFERENCES pipeline(id) ON DELETE CASCADE,"
	"  provider TEXT NOT NULL,"
	"  external_id TEXT NOT NULL,"
	"  name TEXT, stage TEXT, status TEXT,"
	"  created_at REAL, started_at REAL, finished_at REAL, duration_s REAL, queued_s REAL,"
	"  runner TEXT, attempt INTEGER,"
	"  UNIQUE (provider, external_id));"
	"CREATE INDEX job_pipeline ON job(pipeline_id);"
	"CREATE TABLE job_step ("
	"  job_id INTEGER NOT NULL REFERENCES job(id) ON DELETE CASCADE,"
	"  number INTEGER NOT NULL,"
	"  name TEXT, status TEXT, started_at REAL, completed_at REAL,"
	"  PRIMARY KEY (job_id, number)) WITHOUT ROWID;",
	/* 3 -> 4: where in its input the log showed each vertex start and end,
	 * to estimate a timeline from log order when the log has no clock */
	"ALTER TABLE step ADD COLUMN first_line INTEGER;"
	"ALTER TABLE step ADD COLUMN end_line INTEGER;",

	/* 4 -> 5: the same CHECKs, written without IN. SQLite builds an
	 * ephemeral table for an IN list of more than two values every time the
	 * statement runs, so each step INSERT built two: a third of ingest's
	 * time. The constraints mean the same, so the stored text is edited in
	 * place, as https://sqlite.org/lang_altertable.html describes for
	 * changes that do not touch the rows; store_migrate bumps
	 * schema_version so other connections reread it. */
	"PRAGMA writable_schema = ON;"
	"UPDATE sqlite_schema SET sql = replace(replace(sql,"
	"  'CHECK (kind IN (''step'',''from'',''internal'',''export'',''cache''))',"
	"  'CHECK (" STEP_KIND_CHECK ")'),"
	"  'CHECK (status IN (''done'',''cached'',''error'',''canceled'',''incomplete''))',"
	"  'CHECK (" STEP_STATUS_CHECK ")')"
	"  WHERE type = 'table' AND name = 'step';"
	"UPDATE sqlite_schema SET sql = replace(sql,"
	"  'CHECK (status IN (''success'',''failed'',''incomplete''))',"
	"  'CHECK (" BUILD_STATUS_CHECK ")')"
	"  WHERE type = 'table' AND name = 'build';"
	"PRAGMA writable_schema = RESET;",

	/* 5 -> 6: a job's history (store_job_history) walks the pipelines of
	 * its project and ref newest first from a given time and finds the job
	 * by name in each; where pipelines have no time (those known from a
	 * job list have none) it walks the jobs of that name newest first.
	 * Without these, every pipeline of the project was read for every job
	 * shown. job(pipeline_id) is a prefix of the new job index, so it goes. */
	"CREATE INDEX IF NOT EXISTS pipeline_history ON pipeline(provider, project, ref, coalesce(created_at, started_at));"
	"DROP INDEX IF EXISTS job_pipeline;"
	"CREATE INDEX IF NOT EXISTS job_pipeline_name ON job(pipeline_id, name);"
	"CREATE INDEX IF NOT EXISTS job_name ON job(name);",

	/* 6 -> 7: a failed input of a batch is removed by deleting the rows
	 * under its source row (store_begin says why), its images found by
	 * their source; the message for an input ingested before looks up its
	 * images and pipelines so too. Without these, each was a scan. */
	"CREATE INDEX IF NOT EXISTS image_source ON image(source_id);"
	"CREATE INDEX IF NOT EXISTS pipeline_source ON pipeline(source_id);",

	/* 7 -> 8: steps in a rowid table whose key packs the build and the
	 * step's place in it, id = build_id << 20 | seq, in place of WITHOUT
	 * ROWID on (build_id, seq). A WITHOUT ROWID table is a B-tree of whole
	 * rows, interior pages too, and each insert compares its key on the
	 * way down; a rowid table keeps rows in its leaves, and a rowid larger
	 * than any before is appended. The bench's store floor stored 10k
	 * logs' rows in 0.35 s, not 0.43 s; ingest of those logs took 0.60 s,
	 * not 0.70 s (medians of 6 to 12, in turns).
	 *
	 * A build's steps are the ids in [build_id << 20, (build_id + 1) << 20),
	 * in seq order, which every read of them uses instead of an index on
	 * build_id (one would cost back most of the gain). The CHECK keeps id,
	 * build_id and seq agreeing, seq below 2^20 (store_put_build refuses a
	 * build of more steps). The foreign key goes: with no index on
	 * build_id, deleting a build would scan the table for its steps. The
	 * trigger deletes them by their range instead, with foreign keys on or
	 * off. It is dropped first because renaming a table checks every
	 * trigger, and this one names step, which is gone for a moment (a
	 * database that has it: tests). The old table's pages stay free in the
	 * file for the rows stored next. */
	"DROP TRIGGER IF EXISTS step_of_build;"
	"CREATE TABLE step_by_build ("
	"  id INTEGER PRIMARY KEY,"
	"  build_id INTEGER NOT NULL,"
	"  seq INTEGER NOT NULL,"
	"  vertex INTEGER,"
	"  stage TEXT,"
	"  platform TEXT,"
	"  idx INTEGER,"
	"  count INTEGER,"
	"  instruction TEXT,"
	"  text TEXT NOT NULL,"
	"  digest TEXT,"
	"  kind TEXT NOT NULL CHECK (kind = 'step' OR kind = 'from' OR kind = 'internal'"
	" OR kind = 'export' OR kind = 'cache'),"
	"  cached INTEGER NOT NULL,"
	"  status TEXT NOT NULL CHECK (status = 'done' OR status = 'cached' OR status = 'error'"
	" OR status = 'canceled' OR status = 'incomplete'),"
	"  start_s REAL,"
	"  duration_s REAL,"
	"  error TEXT,"
	"  output_lines INTEGER NOT NULL,"
	"  first_line INTEGER,"
	"  end_line INTEGER,"
	"  CHECK (seq >= 0 AND seq < 1048576 AND id = (build_id << 20) | seq));"
	"INSERT INTO step_by_build SELECT (build_id << 20) | seq, build_id, seq, vertex, stage,"
	"  platform, idx, count, instruction, text, digest, kind, cached, status, start_s,"
	"  duration_s, error, output_lines, first_line, end_line FROM step ORDER BY build_id, seq;"
	"DROP TABLE step;"
	"ALTER TABLE step_by_build RENAME TO step;"
	"CREATE TRIGGER step_of_build AFTER DELETE ON build BEGIN"
	"  DELETE FROM step WHERE id >= (old.id << 20) AND id < ((old.id + 1) << 20);"
	"END;",

	/* 8 -> 9: an input's fingerprint found by an index of its first 16 hex
	 * digits, not a UNIQUE index of all 64. Each input adds its hash to
	 * that index at a random leaf, and a batch writes the leaves it dirtied
	 * to the WAL again each time its cache spills: the index of 64-digit
	 * keys grew to 460 pages at 100k inputs. Ingesting 100k logs made
	 * 105k pwrite calls with it and 80k with the short index (strace), and
	 * took 5.9-6.4 s against 6.6-6.9 s (four turns); a first ingest of
	 * 1,000 logs runs 3.5% more instructions storing, for the lookup. The
	 * store looks an input's hash up before it records it, comparing all
	 * 64 digits (store.c, find_source); every write runs in a BEGIN IMMEDIATE
	 * transaction, so no other writer can add the same hash between the
	 * lookup and the insert. The table is rebuilt to drop the UNIQUE
	 * constraint, with foreign keys off (store_migrate), so the builds,
	 * images and pipelines that name a source stay. */
	"CREATE TABLE source_by_fingerprint ("
	"  id INTEGER PRIMARY KEY,"
	"  kind TEXT NOT NULL,"
	"  path TEXT NOT NULL,"
	"  sha256 TEXT,"
	"  size INTEGER,"
	"  ingested_at REAL NOT NULL);"
	"INSERT INTO source_by_fingerprint SELECT id, kind, path, sha256, size, ingested_at FROM source;"
	"DROP TABLE source;"
	"ALTER TABLE source_by_fingerprint RENAME TO source;"
	"CREATE INDEX source_fingerprint ON source(substr(sha256, 1, 16));",
};

int store_schema_version(void)
{
	return (int)BP_ARRAY_SIZE(migrations);
}

#ifndef BUILDPROF_SCHEMA_DUMP
_Static_assert(SCHEMA_SNAPSHOT_VERSION == BP_ARRAY_SIZE(migrations),
	       "schema_snapshot.h was made from other migrations: rebuild it");
#endif

/* Whether the database has no table, index or trigger at all: a new file. */
static int schema_empty(sqlite3 *db)
{
	sqlite3_stmt *stmt = NULL;
	int empty = 0;

	if (sqlite3_prepare_v2(db, "SELECT count(*) = 0 FROM sqlite_schema", -1, &stmt, NULL) == SQLITE_OK &&
	    sqlite3_step(stmt) == SQLITE_ROW)
		empty = sqlite3_column_int(stmt, 0);
	sqlite3_finalize(stmt);
	return empty;
}

/* A migration that edits sqlite_schema directly must change its cookie, or
 * another open connection would go on with the schema it parsed before. */
static int bump_schema_version(sqlite3 *db)
{
	sqlite3_stmt *stmt = NULL;
	char sql[64];
	int version = -1;

	if (sqlite3_prepare_v2(db, "PRAGMA schema_version", -1, &stmt, NULL) == SQLITE_OK &&
	    sqlite3_step(stmt) == SQLITE_ROW)
		version = sqlite3_column_int(stmt, 0);
	sqlite3_finalize(stmt);
	if (version < 0)
		return -1;
	snprintf(sql, sizeof(sql), "PRAGMA schema_version = %d", version + 1);
	return sqlite3_exec(db, sql, NULL, NULL, NULL) == SQLITE_OK ? 0 : -1;
}

static int newer(const char *path, int version, int target, struct bp_error *err)
{
	return bp_error_set(err, path, 0,
			    "database schema version %d is newer than this buildprof "
			    "understands (%d); upgrade buildprof", version, target);
}

/* Takes db to the newest schema; with snapshot_ok, a new database in one
 * pass (store_migrate says why). */
static int migrate(sqlite3 *db, const char *path, int snapshot_ok, struct bp_error *err)
{
	sqlite3_stmt *stmt = NULL;
	int version, target = store_schema_version(), rc;
	char sql[64];

	rc = sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &stmt, NULL);
	if (rc != SQLITE_OK || sqlite3_step(stmt) != SQLITE_ROW) {
		bp_error_set(err, path, 0, "cannot read the database: %s", sqlite3_errmsg(db));
		sqlite3_finalize(stmt);
		return -1;
	}
	version = sqlite3_column_int(stmt, 0);
	sqlite3_finalize(stmt);
	if (version > target)
		return newer(path, version, target, err);
	if (version == target)
		return 0;
	/* Pages of 16 KiB in a new database (SQLite applies this only before
	 * the first table): WAL writes each page in two system calls and the
	 * checkpoint reads and writes it again, and a system call costs
	 * microseconds on CI VMs. Against 4 KiB, an ingest of 100k BuildKit
	 * logs took 7.6 s, not 8.6 s, and a compare read 10% faster; the file
	 * grew 1%. An existing database keeps its pages. */
	if (version == 0) {
		snprintf(sql, sizeof(sql), "PRAGMA page_size = %d", STORE_PAGE_SIZE);
		if (sqlite3_exec(db, sql, NULL, NULL, NULL) != SQLITE_OK)
			return bp_error_set(err, path, 0, "cannot set the page size: %s", sqlite3_errmsg(db));
	}
	/* Foreign keys off, as SQLite's way to rebuild a table needs: with them
	 * on, dropping the old source table would delete every build under it
	 * (8 -> 9). Off is a new connection's default; store_open turns them
	 * on after. */
	if (sqlite3_exec(db, "PRAGMA foreign_keys = OFF", NULL, NULL, NULL) != SQLITE_OK ||
	    sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK)
		return bp_error_set(err, path, 0, "cannot migrate: %s", sqlite3_errmsg(db));
	/* Another process may have migrated while we waited for the lock. */
	rc = sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &stmt, NULL);
	if (rc == SQLITE_OK && sqlite3_step(stmt) == SQLITE_ROW)
		version = sqlite3_column_int(stmt, 0);
	sqlite3_finalize(stmt);
	if (version >= target) { /* it did: nothing to write */
		sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
		return version > target ? newer(path, version, target, err) : 0;
	}
	/* A new database is made from the schema the migrations end in,
	 * which the build dumps by running them on an empty database
	 * (store/gen/schema_dump.c), so it is the same schema, text for text
	 * (test_schema_snapshot). Running the nine migrations themselves cost
	 * a new database 15M instructions, 13M of them in SQLite's parser
	 * (callgrind), half the time in the two table rebuilds: a first
	 * command took 9.2-9.5 ms, and 6.1-7.3 ms from the snapshot (perf
	 * stat, 40 runs each). A database with anything in it already (a
	 * version 0 of someone else's tables) takes the migrations, as before. */
	if (version == 0 && snapshot_ok && *schema_snapshot && schema_empty(db)) {
		if (sqlite3_exec(db, schema_snapshot, NULL, NULL, NULL) != SQLITE_OK) {
			bp_error_set(err, path, 0, "cannot create the schema: %s", sqlite3_errmsg(db));
			sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
			return -1;
		}
		version = target;
	}
	for (; version < target; version++) {
		if (sqlite3_exec(db, migrations[version], NULL, NULL, NULL) != SQLITE_OK) {
			bp_error_set(err, path, 0, "migration to schema %d failed: %s", version + 1,
				     sqlite3_errmsg(db));
			sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
			return -1;
		}
	}
	if (bump_schema_version(db)) {
		bp_error_set(err, path, 0, "migration failed: %s", sqlite3_errmsg(db));
		sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
		return -1;
	}
	snprintf(sql, sizeof(sql), "PRAGMA user_version = %d", target);
	if (sqlite3_exec(db, sql, NULL, NULL, NULL) != SQLITE_OK ||
	    sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) {
		bp_error_set(err, path, 0, "migration failed: %s", sqlite3_errmsg(db));
		sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
		return -1;
	}
	return 0;
}

int store_migrate(sqlite3 *db, const char *path, struct bp_error *err)
{
	return migrate(db, path, 1, err);
}

int store_migrate_stepwise(sqlite3 *db, const char *path, struct bp_error *err)
{
	return migrate(db, path, 0, err);
}
