/*
 * store.c - opening the SQLite database (WAL, foreign keys, busy timeout so
 * concurrent CI jobs can share one file), transactions and the write side.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "store_internal.h"

/* How long a writer waits for another one before giving up. */
#define BUSY_TIMEOUT_MS 60000

int store_fail(struct bp_store *st, struct bp_error *err, const char *doing)
{
	return bp_error_set(err, st->path, 0, "%s: %s", doing, sqlite3_errmsg(st->db));
}

/* Turning a new database to WAL needs it to itself; SQLite answers BUSY
 * at once, without the busy handler, when another process that opened it
 * at the same moment holds a lock (CI jobs starting together), so wait
 * here as the busy timeout would. A database already in WAL is a no-op. */
static int set_wal(sqlite3 *db)
{
	int rc, waited = 0;

	while (((rc = sqlite3_exec(db, "PRAGMA journal_mode = WAL", NULL, NULL, NULL)) & 0xff) ==
		       SQLITE_BUSY && waited < BUSY_TIMEOUT_MS)
		waited += sqlite3_sleep(10);
	return rc;
}

/* buildprof uses each connection from one thread, so SQLite's mutexes on
 * every call and its running count of allocated bytes (behind one more
 * mutex on every malloc) are pure cost. Set once, before SQLite starts;
 * were it already started (another user in the process), these fail
 * harmlessly and the defaults stay. */
static void store_configure(void)
{
	static int done;

	if (done)
		return;
	done = 1;
	sqlite3_config(SQLITE_CONFIG_MULTITHREAD);
	sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
	/* A CI document in a batch is a savepoint (store_begin says why only
	 * those), whose journal holds the pages it changes that existed before
	 * it, so it stays small however large the input; so does the journal
	 * of a statement that changes several rows. SQLite keeps one in memory
	 * up to this size and writes it to a temporary file past it; -1 keeps
	 * it in memory whatever its size, in 1 KiB pieces. At the default
	 * 64 KiB, ingest of 10k GitLab pipelines took 0.66 s, most of the
	 * extra in those writes; at 128 KiB 0.61 s; in memory 0.49 s (medians
	 * of five, in turns). Above 128 KiB the in-memory journal is one
	 * block of that size, which was faster (0.38 s at 1 MiB) but is not
	 * safe: SQLite 3.40 (Debian 12) then fails a statement with
	 * SQLITE_FULL, "database or disk is full", once its journal passes
	 * about 115 KiB (an UPDATE of 5,000 rows in a transaction, or a
	 * migration's copy of the step table). test_big_journal keeps it so. */
	sqlite3_config(SQLITE_CONFIG_STMTJRNL_SPILL, -1);
	store_write_behind(); /* after the above: it starts SQLite */
}

struct bp_store *store_open(const char *path, struct bp_error *err)
{
	struct bp_store *st = xcalloc(1, sizeof(*st));
	sqlite3_stmt *stmt = NULL;

	store_configure();
	st->path = xstrdup(path);
	if (sqlite3_open_v2(path, &st->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL) !=
	    SQLITE_OK) {
		bp_error_set(err, path, 0, "cannot open database: %s",
			     st->db ? sqlite3_errmsg(st->db) : "out of memory");
		goto fail;
	}
	sqlite3_busy_timeout(st->db, BUSY_TIMEOUT_MS);
	sqlite3_extended_result_codes(st->db, 1);
	/* Reading the schema first tells "not a database" apart before any write. */
	if (sqlite3_prepare_v2(st->db, "SELECT count(*) FROM sqlite_schema", -1, &stmt, NULL) !=
		    SQLITE_OK ||
	    sqlite3_step(stmt) != SQLITE_ROW) {
		bp_error_set(err, path, 0, "not a buildprof database: %s", sqlite3_errmsg(st->db));
		sqlite3_finalize(stmt);
		goto fail;
	}
	sqlite3_finalize(stmt);
	if (store_migrate(st->db, path, err))
		goto fail;
	if (sqlite3_exec(st->db, "PRAGMA foreign_keys = ON", NULL, NULL, NULL) != SQLITE_OK) {
		store_fail(st, err, "cannot enable foreign keys");
		goto fail;
	}
	/* WAL lets readers run beside a writer; set after the version check so a
	 * newer database is left exactly as it was. */
	if (set_wal(st->db) != SQLITE_OK ||
	    sqlite3_exec(st->db, "PRAGMA synchronous = NORMAL", NULL, NULL, NULL) != SQLITE_OK) {
		store_fail(st, err, "cannot set the journal mode");
		goto fail;
	}
	return st;
fail:
	store_close(st);
	return NULL;
}

struct bp_store *store_open_again(const struct bp_store *st, struct bp_error *err)
{
	/* what SQLite opens anew for each connection, not the same database */
	if (!*st->path || !strcmp(st->path, ":memory:"))
		return NULL;
	return store_open(st->path, err);
}

void store_close(struct bp_store *st)
{
	size_t i;

	if (!st)
		return;
	sqlite3_finalize(st->put_build);
	sqlite3_finalize(st->put_step);
	sqlite3_finalize(st->put_next_step);
	sqlite3_finalize(st->put_label);
	sqlite3_finalize(st->put_source);
	sqlite3_finalize(st->find_source);
	sqlite3_finalize(st->finish_source);
	sqlite3_finalize(st->put_image);
	sqlite3_finalize(st->put_layer);
	sqlite3_finalize(st->link_images);
	sqlite3_finalize(st->unlinked_image);
	sqlite3_finalize(st->build_image);
	sqlite3_finalize(st->previous_build);
	sqlite3_finalize(st->other_build);
	sqlite3_finalize(st->uncached_steps);
	sqlite3_finalize(st->put_pipeline);
	sqlite3_finalize(st->put_job);
	sqlite3_finalize(st->drop_job_steps);
	sqlite3_finalize(st->put_job_step);
	sqlite3_finalize(st->pipeline_stored);
	sqlite3_finalize(st->pipeline_id);
	sqlite3_finalize(st->job_id);
	sqlite3_finalize(st->job_history);
	sqlite3_finalize(st->job_history_untimed);
	sqlite3_finalize(st->gitlab_job_builds);
	sqlite3_finalize(st->github_job_builds);
	sqlite3_finalize(st->savepoint);
	sqlite3_finalize(st->release);
	sqlite3_finalize(st->rollback_to);
	for (i = 0; i < STORE_UNDO_STEPS; i++)
		sqlite3_finalize(st->undo[i]);
	sqlite3_close(st->db);
	free(st->path);
	free(st);
}

/* A batch runs without foreign keys: every row it adds names a row the
 * same code just stored or found, and undo_input does what their actions
 * would. Checking them looked up the build of every step: 9% of the
 * storing thread's instructions (callgrind, 2,000 logs). The setting only
 * changes outside a transaction, so it is set here and at the commit. */
static int foreign_keys(struct bp_store *st, int on)
{
	return sqlite3_exec(st->db, on ? "PRAGMA foreign_keys = ON" : "PRAGMA foreign_keys = OFF", NULL,
			    NULL, NULL);
}

/* The page cache of a connection that stores batches, in KiB. Each input
 * sets its fingerprint in the source table's fingerprint index, at a random
 * leaf: past the default 2 MiB of cache, those leaves were read, dirtied
 * and spilled to the WAL again and again: ingesting 10k logs into a
 * database of 90k spilled 11,900 pages, and 1,900 with this cache, and took
 * 0.88 s instead of 0.77 s (medians of six, in turns; 32 MiB did no
 * better). The cache grows only as pages are used: an ingest into a new
 * database runs as fast, and the one-file ingest of a 1 GB log (no batch)
 * is not touched. */
#define BATCH_CACHE_KIB 16384

int store_batch_begin(struct bp_store *st, struct bp_error *err)
{
	char sql[48];

	snprintf(sql, sizeof(sql), "PRAGMA cache_size = -%d", BATCH_CACHE_KIB);
	if (sqlite3_exec(st->db, sql, NULL, NULL, NULL) != SQLITE_OK || foreign_keys(st, 0) != SQLITE_OK)
		return store_fail(st, err, "cannot start a transaction");
	if (sqlite3_exec(st->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK) {
		store_fail(st, err, "cannot start a transaction");
		foreign_keys(st, 1);
		return -1;
	}
	st->batch = 1;
	st->batch_lost = 0;
	st->input_source = 0;
	st->input_savepoint = 0;
	return 0;
}

int store_batch_commit(struct bp_store *st, struct bp_error *err)
{
	int lost = st->batch_lost || sqlite3_get_autocommit(st->db);

	st->batch = 0;
	st->batch_lost = 0;
	if (!sqlite3_get_autocommit(st->db) &&
	    sqlite3_exec(st->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) {
		store_fail(st, err, "cannot commit");
		store_rollback(st);
		foreign_keys(st, 1);
		return -1;
	}
	if (foreign_keys(st, 1) != SQLITE_OK)
		return store_fail(st, err, "cannot enable foreign keys");
	if (lost)
		return bp_error_set(err, st->path, 0,
				    "a failed input could not be removed alone, so the inputs stored "
				    "before it in the same transaction were rolled back with it: "
				    "ingest them again (those stored are skipped)");
	return 0;
}

int store_read_begin(struct bp_store *st, struct bp_error *err)
{
	if (!sqlite3_get_autocommit(st->db))
		return 0;
	/* deferred: the first read takes the snapshot and the WAL read lock */
	if (sqlite3_exec(st->db, "BEGIN", NULL, NULL, NULL) != SQLITE_OK)
		return store_fail(st, err, "cannot start a read transaction");
	st->reading = 1;
	return 0;
}

void store_read_end(struct bp_store *st)
{
	if (!st->reading)
		return;
	st->reading = 0;
	if (sqlite3_exec(st->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK)
		sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
}

int store_in_batch(const struct bp_store *st)
{
	return st->batch;
}

static int run_done(struct bp_store *st, sqlite3_stmt *stmt, struct bp_error *err, const char *doing)
{
	int rc = sqlite3_step(stmt);

	sqlite3_reset(stmt);
	if (rc != SQLITE_DONE)
		return store_fail(st, err, doing);
	return 0;
}

/* Runs one of the statements that bracket an input of a batch, prepared
 * once like the INSERTs: sqlite3_exec parses its SQL on every call, 30k
 * instructions each (3-4% of an ingest, at two a file). */
static int run_control(struct bp_store *st, sqlite3_stmt **stmt, const char *sql, struct bp_error *err,
		       const char *doing)
{
	return store_prepare(st, stmt, sql, err) ? -1 : run_done(st, *stmt, err, doing);
}

/* Inside a batch an input is not a transaction of its own: the WAL is
 * written once per batch instead of once per file (28 page writes per small
 * log otherwise). Nor is it a savepoint: a savepoint copies each page the
 * input changes that existed before it into its journal (the last page of
 * each table and index an input adds to), and once the batch outgrows the
 * page cache it copies them all: ten pages of 16 KiB per log, 1.6 GB and
 * 200k journal writes over 10k logs, in memcpy and malloc on the storing
 * thread. Without, 100k logs took 7.5 s instead of 9.1 s (medians of five
 * in turns). A log's or an image's input only adds rows, all of them under
 * its source row, so store_rollback removes them by deleting that row and
 * what hangs from it (undo_input), and that is exact: the ids freed are the
 * ones the next rows take, as after a rollback, and the image links its
 * builds made go back to NULL, which they were. Only rows an input changes
 * rather than adds need a savepoint, opened before the change
 * (store_protect_input). */
int store_begin(struct bp_store *st, struct bp_error *err)
{
	if (st->batch) {
		st->input_source = 0;
		st->input_savepoint = 0;
		/* SQLite rolled the batch back itself (an I/O error, a full
		 * disk) or store_rollback had to: the inputs after go on in a
		 * new one, and the commit says what was lost */
		if (sqlite3_get_autocommit(st->db)) {
			st->batch_lost = 1;
			if (sqlite3_exec(st->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK)
				return store_fail(st, err, "cannot start a transaction");
		}
		return 0;
	}
	if (sqlite3_exec(st->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK)
		return store_fail(st, err, "cannot start a transaction");
	return 0;
}

int store_protect_input(struct bp_store *st, struct bp_error *err)
{
	if (!st->batch || st->input_savepoint)
		return 0;
	if (run_control(st, &st->savepoint, "SAVEPOINT input", err, "cannot start a transaction"))
		return -1;
	st->input_savepoint = 1;
	return 0;
}

int store_commit(struct bp_store *st, struct bp_error *err)
{
	if (!st->batch) {
		if (sqlite3_exec(st->db, "COMMIT", NULL, NULL, NULL) == SQLITE_OK)
			return 0;
		store_fail(st, err, "cannot commit");
		store_rollback(st);
		return -1;
	}
	st->input_source = 0;
	if (!st->input_savepoint)
		return 0;
	st->input_savepoint = 0;
	return run_control(st, &st->release, "RELEASE input", err, "cannot release the input's savepoint");
}

/* What the foreign keys of the rows under a source would do when it is
 * deleted, written out: a batch runs without them (store_batch_begin). Each
 * finds its rows by an index. A deleted build's steps go by the trigger
 * step_of_build, by their range of ids (schema.c, 7 -> 8). The pipelines
 * go too: by then the input's savepoint, if it opened one, has put back
 * those it changed, so the ones still naming its source are those it added
 * (store_put_pipeline). */
static const char *const undo_sql[STORE_UNDO_STEPS] = {
	"DELETE FROM job_step WHERE job_id IN (SELECT j.id FROM pipeline p JOIN job j"
	" ON j.pipeline_id = p.id WHERE p.source_id = ?1)",
	"DELETE FROM job WHERE pipeline_id IN (SELECT id FROM pipeline WHERE source_id = ?1)",
	"DELETE FROM pipeline WHERE source_id = ?1",
	"DELETE FROM label WHERE build_id IN (SELECT id FROM build WHERE source_id = ?1)",
	"UPDATE image SET build_id = NULL WHERE build_id IN (SELECT id FROM build WHERE source_id = ?1)",
	"DELETE FROM layer WHERE image_id IN (SELECT id FROM image WHERE source_id = ?1)",
	"DELETE FROM image WHERE source_id = ?1",
	"DELETE FROM build WHERE source_id = ?1",
	"DELETE FROM source WHERE id = ?1",
};

/* Removes what the batch's current input stored: what it changed, by its
 * savepoint, then what it added, by deleting its source row and the rows
 * under it. */
static int undo_input(struct bp_store *st)
{
	struct bp_error ignored; /* store_rollback says what failing costs */
	long source = st->input_source;
	size_t i;

	bp_error_init(&ignored);
	st->input_source = 0;
	if (st->input_savepoint) {
		st->input_savepoint = 0;
		if (run_control(st, &st->rollback_to, "ROLLBACK TO input", &ignored, "cannot roll back") ||
		    run_control(st, &st->release, "RELEASE input", &ignored, "cannot roll back"))
			return -1;
	}
	for (i = 0; source && i < STORE_UNDO_STEPS; i++) {
		if (store_prepare(st, &st->undo[i], undo_sql[i], &ignored))
			return -1;
		sqlite3_bind_int64(st->undo[i], 1, source);
		if (run_done(st, st->undo[i], &ignored, "cannot roll back"))
			return -1;
	}
	return 0;
}

void store_rollback(struct bp_store *st)
{
	if (sqlite3_get_autocommit(st->db))
		return;
	if (!st->batch) {
		sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
		return;
	}
	/* never keep half an input: when it cannot be removed alone, the
	 * whole batch goes, and its commit reports that */
	if (undo_input(st)) {
		sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
		st->batch_lost = 1;
	}
}

void store_bind_strings(sqlite3_stmt *q, int param, char *const items[], size_t n)
{
	struct strbuf json = STRBUF_INIT;
	size_t i;

	strbuf_addch(&json, '[');
	for (i = 0; i < n; i++) {
		strbuf_addstr(&json, i ? ",\"" : "\"");
		strbuf_add_json_escaped(&json, items[i]);
		strbuf_addch(&json, '"');
	}
	strbuf_addch(&json, ']');
	sqlite3_bind_text(q, param, json.buf, (int)json.len, SQLITE_TRANSIENT);
	strbuf_release(&json);
}

int store_prepare(struct bp_store *st, sqlite3_stmt **stmt, const char *sql, struct bp_error *err)
{
	if (*stmt) {
		sqlite3_reset(*stmt);
		sqlite3_clear_bindings(*stmt);
		return 0;
	}
	if (sqlite3_prepare_v3(st->db, sql, -1, SQLITE_PREPARE_PERSISTENT, stmt, NULL) != SQLITE_OK)
		return store_fail(st, err, "cannot prepare a statement");
	return 0;
}

/* store_prepare for a statement whose caller binds every parameter on
 * every run, and runs it through run_done, which resets it: clearing the
 * bindings only for all of them to be bound again was 2.3% of an ingest's
 * storing thread (callgrind, 300 logs), at one step row each. */
static int prepare_rebound(struct bp_store *st, sqlite3_stmt **stmt, const char *sql,
			   struct bp_error *err)
{
	return *stmt ? 0 : store_prepare(st, stmt, sql, err);
}

static void bind_text(sqlite3_stmt *stmt, int i, const char *s)
{
	if (s)
		sqlite3_bind_text(stmt, i, s, -1, SQLITE_STATIC);
	else
		sqlite3_bind_null(stmt, i);
}

static void bind_real(sqlite3_stmt *stmt, int i, double v)
{
	if (isfinite(v))
		sqlite3_bind_double(stmt, i, v);
	else
		sqlite3_bind_null(stmt, i);
}

/* Inserts an input's source row, with its fingerprint when known (NULL:
 * it comes at the end). Returns the new id, or -1. */
static long insert_source(struct bp_store *st, const char *kind, const char *path, const char *sha256,
			  long long size, struct bp_error *err)
{
	sqlite3_stmt *q;
	long id;
	int rc;

	if (prepare_rebound(st, &st->put_source,
			    "INSERT INTO source(kind, path, ingested_at, sha256, size) VALUES (?, ?, ?, ?, ?)",
			    err))
		return -1;
	q = st->put_source;
	bind_text(q, 1, kind);
	bind_text(q, 2, path);
	sqlite3_bind_double(q, 3, bp_now());
	bind_text(q, 4, sha256);
	if (sha256)
		sqlite3_bind_int64(q, 5, size);
	else
		sqlite3_bind_null(q, 5);
	rc = sqlite3_step(q);
	sqlite3_reset(q);
	if (rc != SQLITE_DONE)
		return store_fail(st, err, "cannot record the input");
	id = (long)sqlite3_last_insert_rowid(st->db);
	if (st->batch)
		st->input_source = id;
	return id;
}

/* The source other than not_id stored with sha256, in *existing: 1; 0 when
 * there is none, or -1. The index holds the first 16 digits (schema.c,
 * 8 -> 9); the unary plus keeps SQLite from putting ?1 in place of sha256
 * in the indexed expression (constant propagation), which would leave the
 * index unused. */
static int find_source(struct bp_store *st, const char *sha256, long not_id, long *existing,
		       struct bp_error *err)
{
	sqlite3_stmt *find;
	int rc;

	if (store_prepare(st, &st->find_source,
			  "SELECT id FROM source WHERE substr(sha256, 1, 16) = substr(?1, 1, 16)"
			  " AND +sha256 = ?1 AND id != ?2",
			  err))
		return -1;
	find = st->find_source;
	bind_text(find, 1, sha256);
	sqlite3_bind_int64(find, 2, not_id);
	rc = sqlite3_step(find);
	if (rc == SQLITE_ROW)
		*existing = (long)sqlite3_column_int64(find, 0);
	sqlite3_reset(find);
	if (rc == SQLITE_DONE)
		return 0;
	if (rc != SQLITE_ROW)
		return store_fail(st, err, "cannot look up the input");
	return 1;
}

long store_put_source(struct bp_store *st, const char *kind, const char *path,
		      struct bp_error *err)
{
	return insert_source(st, kind, path, NULL, 0, err);
}

long store_put_source_known(struct bp_store *st, const char *kind, const char *path,
			    const char *sha256, long long size, long *existing, struct bp_error *err)
{
	int found = find_source(st, sha256, 0, existing, err);

	if (found)
		return found < 0 ? -1 : 0;
	return insert_source(st, kind, path, sha256, size, err);
}

int store_finish_source(struct bp_store *st, long source_id, const char *sha256,
			long long size, long *existing, struct bp_error *err)
{
	/* looked up first: no index stops a second row of the same hash */
	int found = find_source(st, sha256, source_id, existing, err);

	if (found)
		return found;
	if (store_prepare(st, &st->finish_source, "UPDATE source SET sha256 = ?, size = ? WHERE id = ?", err))
		return -1;
	bind_text(st->finish_source, 1, sha256);
	sqlite3_bind_int64(st->finish_source, 2, size);
	sqlite3_bind_int64(st->finish_source, 3, source_id);
	return run_done(st, st->finish_source, err, "cannot record the input");
}

static int list_ids(struct bp_store *st, const char *sql, long source_id, const char *what,
		    struct strbuf *out, struct bp_error *err)
{
	sqlite3_stmt *q = NULL;
	int rc, n = 0;
	size_t mark = out->len;

	if (sqlite3_prepare_v2(st->db, sql, -1, &q, NULL) != SQLITE_OK)
		return store_fail(st, err, "cannot read what an input became");
	sqlite3_bind_int64(q, 1, source_id);
	while ((rc = sqlite3_step(q)) == SQLITE_ROW)
		strbuf_addf(out, "%s%lld", n++ ? ", " : "", (long long)sqlite3_column_int64(q, 0));
	sqlite3_finalize(q);
	if (rc != SQLITE_DONE)
		return store_fail(st, err, "cannot read what an input became");
	if (n) {
		/* put "build " / "images " in front of the ids just added */
		char *ids = xstrdup(out->buf + mark);
		out->len = mark;
		out->buf[mark] = '\0';
		strbuf_addf(out, "%s%s%s %s", mark ? " and " : "", what, n > 1 ? "s" : "", ids);
		free(ids);
	}
	return 0;
}

int store_source_summary(struct bp_store *st, long source_id, struct strbuf *out,
			 struct bp_error *err)
{
	if (list_ids(st, "SELECT id FROM build WHERE source_id = ? ORDER BY id", source_id, "build",
		     out, err) ||
	    list_ids(st, "SELECT id FROM image WHERE source_id = ? ORDER BY id", source_id, "image",
		     out, err) ||
	    list_ids(st, "SELECT id FROM pipeline WHERE source_id = ? ORDER BY id", source_id, "pipeline",
		     out, err))
		return -1;
	return 0;
}

/* The columns of a step row, and its values but the id: parameters 1 and
 * 2 are build_id and seq, the id's parts. */
#define STEP_COLUMNS                                                                   \
	"INSERT INTO step(id, build_id, seq, vertex, stage, platform, idx, count,"      \
	" instruction, text, digest, kind, cached, status, start_s, duration_s, error," \
	" output_lines, first_line, end_line)"
#define STEP_VALUES "?1,?2,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)"

/* The statement for a build's first step row, its id made of build_id and
 * seq; or (next) for each after it, the id left to SQLite. SQLite gives
 * a row without one the table's last id plus one, which is the next seq's
 * id when the row before was this build's: the table's CHECK makes sure
 * it is. Finding that last id takes a walk down the right edge of the
 * table, where an id given has it searched for (to refuse it if it is
 * there), each page on the way down by halves. The walk stores a step in
 * 9% fewer instructions (callgrind, 180k step rows stored alone: 1.82G
 * against 2.00G); an ingest's storing thread runs 6.7% fewer. */
static sqlite3_stmt *step_statement(struct bp_store *st, int next, struct bp_error *err)
{
	if (next)
		return prepare_rebound(st, &st->put_next_step, STEP_COLUMNS " VALUES (NULL," STEP_VALUES, err)
		       ? NULL : st->put_next_step;
	return prepare_rebound(st, &st->put_step,
			       STEP_COLUMNS " VALUES (" STORE_FIRST_STEP("?1") " | ?2," STEP_VALUES, err)
	       ? NULL : st->put_step;
}

/* Binds NULL to parameter i of a step statement, unless it holds NULL
 * from its last run. */
static void bind_step_null(sqlite3_stmt *q, struct store_step_binding *sb, int i)
{
	if (!(sb->nulls & (1u << i)))
		sqlite3_bind_null(q, i);
	sb->nulls |= 1u << i;
}

static void bind_step_text(sqlite3_stmt *q, struct store_step_binding *sb, int i, const char *s)
{
	if (!s) {
		bind_step_null(q, sb, i);
		return;
	}
	sqlite3_bind_text(q, i, s, -1, SQLITE_STATIC);
	sb->nulls &= ~(1u << i);
}

static void bind_step_real(sqlite3_stmt *q, struct store_step_binding *sb, int i, double v)
{
	if (!isfinite(v)) {
		bind_step_null(q, sb, i);
		return;
	}
	sqlite3_bind_double(q, i, v);
	sb->nulls &= ~(1u << i);
}

/* A log line number, NULL when unknown (0). */
static void bind_step_line(sqlite3_stmt *q, struct store_step_binding *sb, int i, long line)
{
	if (line <= 0) {
		bind_step_null(q, sb, i);
		return;
	}
	sqlite3_bind_int64(q, i, line);
	sb->nulls &= ~(1u << i);
}

/* Binds step s, the seq'th of build build_id, to q's parameters, but
 * not those that hold the same from q's last run: the build, the kind and
 * the status (names of the same enum value), and NULLs. SQLite keeps a
 * statement's bindings across sqlite3_reset; sb says what q holds. The
 * storing thread runs 3.8% fewer instructions (callgrind, 1,000 logs:
 * 227.4M against 236.3M). */
static void bind_step(sqlite3_stmt *q, struct store_step_binding *sb, long build_id, size_t seq,
		      const struct bp_step *s)
{
	if (sb->stmt != q) { /* prepared anew: nothing known */
		memset(sb, 0, sizeof(*sb));
		sb->stmt = q;
		sb->build_id = -1;
		sb->kind = sb->status = -1;
	}
	if (sb->build_id != build_id)
		sqlite3_bind_int64(q, 1, build_id);
	sb->build_id = build_id;
	sqlite3_bind_int64(q, 2, (sqlite3_int64)seq);
	sqlite3_bind_int(q, 3, s->vertex);
	bind_step_text(q, sb, 4, s->stage);
	bind_step_text(q, sb, 5, s->platform);
	sqlite3_bind_int(q, 6, s->index);
	sqlite3_bind_int(q, 7, s->count);
	bind_step_text(q, sb, 8, s->instruction);
	bind_step_text(q, sb, 9, s->text ? s->text : "");
	bind_step_text(q, sb, 10, s->digest);
	if (sb->kind != (int)s->kind)
		sqlite3_bind_text(q, 11, bp_step_kind_name(s->kind), -1, SQLITE_STATIC);
	sb->kind = (int)s->kind;
	sqlite3_bind_int(q, 12, s->cached);
	if (sb->status != (int)s->status)
		sqlite3_bind_text(q, 13, bp_step_status_name(s->status), -1, SQLITE_STATIC);
	sb->status = (int)s->status;
	bind_step_real(q, sb, 14, s->start_s);
	bind_step_real(q, sb, 15, s->duration_s);
	bind_step_text(q, sb, 16, s->error);
	sqlite3_bind_int64(q, 17, s->output_lines);
	bind_step_line(q, sb, 18, s->first_line);
	bind_step_line(q, sb, 19, s->end_line);
}

/* Stores step seq of build b, with the statement for a first step or for
 * one after it (next). SQLITE_DONE, else the error's extended code (-1
 * when the statement could not be prepared, err set). */
static int put_step(struct bp_store *st, int next, const struct bp_build *b, size_t seq,
		    struct bp_error *err)
{
	sqlite3_stmt *q = step_statement(st, next, err);
	int rc;

	if (!q)
		return -1;
	bind_step(q, &st->step_bound[next], b->id, seq, &b->steps[seq]);
	rc = sqlite3_step(q);
	sqlite3_reset(q);
	return rc == SQLITE_DONE ? rc : sqlite3_extended_errcode(st->db);
}

/* Stores build b's steps in seq order. Should a row stand past this
 * build's ids (one a deleted build left, in a database that deleted it
 * without its trigger), the id SQLite gives is not the step's: the CHECK
 * refuses it before anything is written, and that step and the rest of
 * the build's go with their ids given. */
static int put_steps(struct bp_store *st, const struct bp_build *b, struct bp_error *err)
{
	int next = 0, rc;
	size_t i;

	for (i = 0; i < b->nsteps; i++) {
		rc = put_step(st, next, b, i, err);
		if (rc == SQLITE_CONSTRAINT_CHECK && next) {
			next = 0;
			rc = put_step(st, next, b, i, err);
		} else if (!i) {
			next = 1;
		}
		if (rc < 0)
			return -1;
		if (rc != SQLITE_DONE)
			return store_fail(st, err, "cannot store a step");
	}
	return 0;
}

int store_put_build(struct bp_store *st, long source_id, struct bp_build *b, struct bp_error *err)
{
	sqlite3_stmt *q;
	size_t i;

	if (b->nsteps > (size_t)STORE_MAX_STEPS)
		return bp_error_set(err, st->path, 0, "cannot store a build of %zu steps: at most %ld",
				    b->nsteps, STORE_MAX_STEPS);
	if (store_prepare(st, &st->put_build,
		    "INSERT INTO build(source_id, name, format, status, started_at, wall_s,"
		    " image_ref, image_id, base_image, error) VALUES (?,?,?,?,?,?,?,?,?,?)", err))
		return -1;
	q = st->put_build;
	sqlite3_bind_int64(q, 1, source_id);
	bind_text(q, 2, b->name ? b->name : "");
	bind_text(q, 3, b->format ? b->format : "");
	bind_text(q, 4, bp_build_status_name(b->status));
	bind_real(q, 5, b->started_at);
	bind_real(q, 6, b->wall_s);
	bind_text(q, 7, b->image_ref);
	bind_text(q, 8, b->image_id);
	bind_text(q, 9, b->base_image);
	bind_text(q, 10, b->error);
	if (run_done(st, q, err, "cannot store a build"))
		return -1;
	b->id = (long)sqlite3_last_insert_rowid(st->db);
	if (!st->builds_since && b->image_id) /* only a build that names its image can be linked */
		st->builds_since = b->id;
	if (put_steps(st, b, err))
		return -1;
	for (i = 0; i < b->nlabels; i++) {
		if (store_prepare(st, &st->put_label,
			    "INSERT OR REPLACE INTO label(build_id, key, value) VALUES (?,?,?)", err))
			return -1;
		sqlite3_bind_int64(st->put_label, 1, b->id);
		bind_text(st->put_label, 2, b->labels[i].key);
		bind_text(st->put_label, 3, b->labels[i].value);
		if (run_done(st, st->put_label, err, "cannot store a label"))
			return -1;
	}
	return 0;
}
