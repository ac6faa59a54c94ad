/*
 * test_store.c - the SQLite store: round trip of a build, transactions that
 * leave nothing on rollback, duplicate inputs, selectors, and refusing
 * databases it must not touch.
 */
#include <errno.h>
#include <fcntl.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "buildprof/analyzer.h"
#include "buildprof/store.h"
#include "../../store/store_internal.h" /* the handle, to count its scans */
#include "unit.h"

static char dir[] = "/tmp/bp-unit-XXXXXX";

static void path_in(char *buf, size_t size, const char *name)
{
	snprintf(buf, size, "%s/%s", dir, name);
}

/* Opens the store name in the test directory (path gets its path) and
 * checks that it opened. */
static struct bp_store *open_new(char *path, size_t size, const char *name, struct bp_error *err)
{
	struct bp_store *st;

	path_in(path, size, name);
	bp_error_init(err);
	st = store_open(path, err);
	CHECK(st != NULL);
	return st;
}

static void make_build(struct bp_build *b, const char *name, int cached)
{
	struct bp_step *s;

	bp_build_init(b);
	b->name = xstrdup(name);
	b->format = xstrdup("buildkit");
	b->status = BP_BUILD_SUCCESS;
	b->wall_s = 12.5;
	s = bp_build_add_step(b);
	s->vertex = 3;
	s->stage = xstrdup("builder");
	s->index = 2;
	s->count = 4;
	s->instruction = xstrdup("RUN");
	s->text = xstrdup("RUN make 'quoted' ; DROP TABLE build; --");
	s->kind = BP_KIND_STEP;
	s->cached = cached;
	s->status = cached ? BP_STEP_CACHED : BP_STEP_DONE;
	s->duration_s = cached ? NAN : 7.25;
	s->output_lines = 12;
	bp_build_set_label(b, "variant", "alpine");
}

/* The first column of the first row sql returns on db, -1 on error */
static long first_long(sqlite3 *db, const char *sql)
{
	sqlite3_stmt *q;
	long n = -1;

	if (sqlite3_prepare_v2(db, sql, -1, &q, NULL) == SQLITE_OK && sqlite3_step(q) == SQLITE_ROW)
		n = (long)sqlite3_column_int64(q, 0);
	sqlite3_finalize(q);
	return n;
}

/* The same on the database at path, over a connection of its own */
static long query_long(const char *path, const char *sql)
{
	sqlite3 *db;
	long n;

	sqlite3_open(path, &db);
	n = first_long(db, sql);
	sqlite3_close(db);
	return n;
}

static long count_rows(const char *path, const char *table)
{
	char sql[128];

	snprintf(sql, sizeof(sql), "SELECT count(*) FROM %s", table);
	return query_long(path, sql);
}

static void test_roundtrip(void)
{
	char path[256];
	struct bp_error err;
	struct bp_store *st;
	struct bp_build b, r;
	struct bp_selector sel;
	struct store_iter *it;
	long src, existing = 0;

	if (!(st = open_new(path, sizeof(path), "a.db", &err)))
		return;
	make_build(&b, "app", 0);
	CHECK(store_begin(st, &err) == 0);
	src = store_put_source(st, "log", "app.log", &err);
	CHECK(src > 0);
	CHECK(store_put_build(st, src, &b, &err) == 0);
	CHECK(b.id > 0);
	CHECK(store_finish_source(st, src, "abc123", 100, &existing, &err) == 0);
	CHECK(store_commit(st, &err) == 0);

	/* the same bytes again: recognised, and rolled back leaves no trace */
	CHECK(store_begin(st, &err) == 0);
	src = store_put_source(st, "log", "again.log", &err);
	CHECK(store_put_build(st, src, &b, &err) == 0);
	CHECK(store_finish_source(st, src, "abc123", 100, &existing, &err) == 1);
	CHECK(existing == 1);
	store_rollback(st);
	CHECK_INT(count_rows(path, "build"), 1);
	CHECK_INT(count_rows(path, "source"), 1);
	bp_build_release(&b);

	bp_selector_init(&sel);
	it = store_select_builds(st, &sel, 1, &err);
	CHECK(it != NULL);
	CHECK(it && store_iter_next(it, &r, &err) == 1);
	if (it && r.id) {
		CHECK_STR(r.name, "app");
		CHECK_STR(r.source_path, "app.log");
		CHECK(r.wall_s == 12.5 && isnan(r.started_at));
		CHECK_STR(bp_build_label(&r, "variant"), "alpine");
		CHECK_INT(r.nsteps, 1);
		CHECK_STR(r.steps[0].text, "RUN make 'quoted' ; DROP TABLE build; --");
		CHECK(r.steps[0].duration_s == 7.25 && r.steps[0].output_lines == 12);
		CHECK(r.steps[0].kind == BP_KIND_STEP && r.steps[0].status == BP_STEP_DONE);
		CHECK(isnan(r.steps[0].start_s));
		bp_build_release(&r);
		CHECK(store_iter_next(it, &r, &err) == 0);
	}
	store_iter_free(it);
	bp_selector_release(&sel);
	store_close(st);
}

static long select_count(struct bp_store *st, int argc, char **argv)
{
	struct bp_selector sel;
	struct bp_error err;
	struct store_iter *it;
	struct bp_build b;
	long n = 0, last = 0;

	bp_selector_init(&sel);
	bp_error_init(&err);
	if (analyzer_parse_selector(argc, argv, &sel, &err))
		return -1;
	it = store_select_builds(st, &sel, 0, &err);
	while (it && store_iter_next(it, &b, &err) == 1) {
		if (b.id < last)
			n = -100; /* must come oldest first */
		last = b.id;
		n++;
		bp_build_release(&b);
	}
	store_iter_free(it);
	bp_selector_release(&sel);
	return n;
}

static void test_selectors(void)
{
	char path[256];
	struct bp_error err;
	struct bp_store *st;
	int i;

	if (!(st = open_new(path, sizeof(path), "sel.db", &err)))
		return;
	store_begin(st, &err);
	for (i = 0; i < 10; i++) {
		struct bp_build b;
		long src = store_put_source(st, "log", "x.log", &err);
		make_build(&b, i < 6 ? "app-main" : "web", i % 2);
		if (i >= 8)
			b.status = BP_BUILD_FAILED;
		if (i % 3 == 0)
			bp_build_set_label(&b, "variant", "slim");
		store_put_build(st, src, &b, &err);
		bp_build_release(&b);
	}
	CHECK(store_commit(st, &err) == 0);
	{
		char *a[] = { "3" }, *b[] = { "2..5" }, *c[] = { "name:app-*" }, *d[] = { "last:3" },
		     *e[] = { "label:variant=slim" }, *f[] = { "status:failed" }, *g[] = { "name:app-*", "last:2" },
		     *h[] = { "1", "9..10" }, *k[] = { "format:legacy" }, *m[] = { "label:variant=slim", "name:web" };
		CHECK_INT(select_count(st, 1, a), 1);
		CHECK_INT(select_count(st, 1, b), 4);
		CHECK_INT(select_count(st, 1, c), 6);
		CHECK_INT(select_count(st, 1, d), 3);
		CHECK_INT(select_count(st, 1, e), 4); /* builds 1, 4, 7, 10 */
		CHECK_INT(select_count(st, 1, f), 2);
		CHECK_INT(select_count(st, 2, g), 2);
		CHECK_INT(select_count(st, 2, h), 3);
		CHECK_INT(select_count(st, 1, k), 0);
		CHECK_INT(select_count(st, 2, m), 2); /* web builds 7 and 10 */
		CHECK_INT(select_count(st, 0, NULL), 10);
	}
	{
		/* more ids and ranges than go into the SQL as terms (1,000 of those
		 * were refused): overlapping, touching and out of order, each build
		 * once, oldest first; with last:N and a name too */
		static char words[1100][24];
		static char *argv[1110];
		int n = 0;
		for (i = 0; i < 1100; i++) {
			snprintf(words[i], sizeof(words[i]), "%d..%d", 1000 + 2 * i, 1000 + 2 * i);
			argv[n++] = words[i];
		}
		argv[n++] = "9";
		argv[n++] = "2..3";
		argv[n++] = "3..4";
		argv[n++] = "5";
		CHECK_INT(select_count(st, n, argv), 5); /* 2 3 4 5 9 */
		argv[n++] = "last:2";
		CHECK_INT(select_count(st, n, argv), 2);
		argv[n - 1] = "name:web"; /* 7..10 are web */
		CHECK_INT(select_count(st, n, argv), 1);
	}
	store_close(st);
}

/* Checks what one selection returns in one step mode: the builds whose ids
 * are set in want[], each with exactly its own steps as
 * test_steps_beside_builds stored them. */
static void check_steps_of(struct bp_store *st, int argc, char **argv, int mode, const int want[10])
{
	struct bp_selector sel;
	struct bp_error err;
	struct store_iter *it;
	struct bp_build r;
	int seen[10] = { 0 }, i;

	bp_selector_init(&sel);
	bp_error_init(&err);
	CHECK(analyzer_parse_selector(argc, argv, &sel, &err) == 0);
	it = store_select_builds(st, &sel, mode, &err);
	CHECK(it != NULL);
	while (it && store_iter_next(it, &r, &err) == 1) {
		int own = (int)(r.id % 4), first = mode == STORE_STEPS_NAMED && own; /* NAMED: no internal */
		size_t j;
		if (r.id >= 1 && r.id <= 9)
			seen[r.id] = 1;
		CHECK_INT(r.nsteps, own - first);
		for (j = 0; j < r.nsteps; j++) {
			char text[32];
			CHECK(r.steps[j].duration_s == (double)(r.id * 10) + (double)(j + (size_t)first));
			snprintf(text, sizeof(text), "b%ld s%zu", r.id, j + (size_t)first);
			if (mode != STORE_STEPS_TIMES)
				CHECK_STR(r.steps[j].text, text);
		}
		bp_build_release(&r);
	}
	store_iter_free(it);
	bp_selector_release(&sel);
	for (i = 1; i <= 9; i++)
		CHECK_INT(seen[i], want[i]);
}

/* One cursor reads the steps beside the builds (store_read.c, read_steps):
 * each build gets exactly its own, whether the selection takes consecutive
 * ids, skips some, or passes builds that have no steps, in every mode. */
static void test_steps_beside_builds(void)
{
	static const int modes[] = { STORE_STEPS_ALL, STORE_STEPS_SHOWN, STORE_STEPS_TIMES, STORE_STEPS_NAMED };
	static const int all[10] = { 0, 1, 1, 1, 1, 1, 1, 1, 1, 1 }, some[10] = { 0, 0, 1, 0, 1, 1, 1, 0, 1, 0 },
			 last[10] = { 0, 0, 0, 0, 0, 0, 0, 1, 1, 1 }, odd[10] = { 0, 1, 0, 1, 0, 1, 0, 1, 0, 1 };
	char *a[] = { "2", "4..6", "8" }, *b[] = { "last:3" }, *c[] = { "label:odd=1" };
	char path[256];
	struct bp_error err;
	struct bp_store *st;
	int i, m;

	if (!(st = open_new(path, sizeof(path), "steps.db", &err)))
		return;
	store_begin(st, &err);
	/* build i has i % 4 steps (4 and 8 none), the first of them internal */
	for (i = 1; i <= 9; i++) {
		struct bp_build bd;
		long src = store_put_source(st, "log", "x.log", &err);
		int j;
		bp_build_init(&bd);
		bd.name = xstrdup("steps");
		bd.format = xstrdup("buildkit");
		bd.status = BP_BUILD_SUCCESS;
		for (j = 0; j < i % 4; j++) {
			struct bp_step *s = bp_build_add_step(&bd);
			char text[32];
			snprintf(text, sizeof(text), "b%d s%d", i, j);
			s->text = xstrdup(text);
			s->kind = j ? BP_KIND_STEP : BP_KIND_INTERNAL;
			s->status = BP_STEP_DONE;
			s->duration_s = i * 10 + j;
		}
		if (i % 2)
			bp_build_set_label(&bd, "odd", "1");
		CHECK(store_put_build(st, src, &bd, &err) == 0 && bd.id == i);
		bp_build_release(&bd);
	}
	CHECK(store_commit(st, &err) == 0);
	for (m = 0; m < 3; m++) {
		check_steps_of(st, 0, NULL, modes[m], all);
		check_steps_of(st, 3, a, modes[m], some);
		check_steps_of(st, 1, b, modes[m], last);
		check_steps_of(st, 1, c, modes[m], odd);
	}
	store_close(st);
}

static void test_refusals(void)
{
	char path[256];
	struct bp_error err;
	struct bp_store *st;
	sqlite3 *db;
	struct stat before, after;
	FILE *f;

	/* a newer schema: refused, file untouched */
	path_in(path, sizeof(path), "newer.db");
	sqlite3_open(path, &db);
	sqlite3_exec(db, "CREATE TABLE future(x); PRAGMA user_version = 99", NULL, NULL, NULL);
	sqlite3_close(db);
	stat(path, &before);
	bp_error_init(&err);
	st = store_open(path, &err);
	CHECK(st == NULL);
	CHECK(strstr(err.text, "newer") != NULL);
	stat(path, &after);
	CHECK(before.st_size == after.st_size && before.st_mtime == after.st_mtime);
	store_close(st);

	/* not SQLite at all */
	path_in(path, sizeof(path), "notes.txt");
	f = fopen(path, "w");
	fputs("these are my notes, not a database\n", f);
	fclose(f);
	bp_error_init(&err);
	st = store_open(path, &err);
	CHECK(st == NULL);
	CHECK(strstr(err.text, "not a buildprof database") != NULL);
	stat(path, &after);
	CHECK_INT(after.st_size, 35);
	store_close(st);

	/* a fresh database gets the current schema version */
	path_in(path, sizeof(path), "fresh.db");
	bp_error_init(&err);
	st = store_open(path, &err);
	CHECK(st != NULL);
	store_close(st);
	{
		sqlite3_stmt *q;
		sqlite3_open(path, &db);
		sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &q, NULL);
		CHECK(sqlite3_step(q) == SQLITE_ROW && sqlite3_column_int(q, 0) == store_schema_version());
		sqlite3_finalize(q);
		sqlite3_close(db);
	}
}

/* In a batch a rolled-back input leaves nothing and its neighbours stay; the
 * batch reaches the database only at batch_commit. */
static void test_batch(void)
{
	char path[256];
	struct bp_error err;
	struct bp_store *st;
	struct bp_build b;
	long src, existing = 0;
	int i;

	if (!(st = open_new(path, sizeof(path), "batch.db", &err)))
		return;
	CHECK(store_batch_begin(st, &err) == 0);
	CHECK(store_in_batch(st));
	for (i = 0; i < 3; i++) {
		char hash[16];

		make_build(&b, i == 1 ? "bad" : "good", 0);
		if (i == 1)
			bp_build_set_label(&b, "bad", "yes");
		CHECK(store_begin(st, &err) == 0);
		src = store_put_source(st, "log", "x.log", &err);
		CHECK(store_put_build(st, src, &b, &err) == 0);
		snprintf(hash, sizeof(hash), "h%d", i);
		CHECK(store_finish_source(st, src, hash, 10, &existing, &err) == 0);
		if (i == 1)
			store_rollback(st);
		else
			CHECK(store_commit(st, &err) == 0);
		bp_build_release(&b);
	}
	CHECK_INT(count_rows(path, "build"), 0); /* not committed yet */
	CHECK(store_batch_commit(st, &err) == 0);
	CHECK(!store_in_batch(st));
	CHECK_INT(count_rows(path, "build"), 2);
	CHECK_INT(count_rows(path, "source"), 2);
	/* its steps and labels went with it, and the next input took its ids,
	 * as after a rollback */
	CHECK_INT(count_rows(path, "step"), 2);
	CHECK_INT(count_rows(path, "label"), 2);
	CHECK_INT(query_long(path, "SELECT count(*) FROM label WHERE key = 'bad'"), 0);
	CHECK_INT(query_long(path, "SELECT count(*) FROM build WHERE name = 'good' AND id = 2 AND source_id = 2"), 1);
	store_close(st);
}

/* In st's batch, an input of hash's bytes is found stored as source id,
 * whether its fingerprint is known before it is stored or at the end; each
 * is rolled back. */
static void check_found_again(struct bp_store *st, struct bp_build *b, const char *hash, long id)
{
	struct bp_error err;
	long late, existing = 0;

	bp_error_init(&err);
	CHECK(store_begin(st, &err) == 0);
	CHECK(store_put_source_known(st, "log", "again.log", hash, 42, &existing, &err) == 0);
	CHECK(existing == id);
	store_rollback(st);
	existing = 0;
	CHECK(store_begin(st, &err) == 0);
	late = store_put_source(st, "log", "late.log", &err);
	CHECK(store_put_build(st, late, b, &err) == 0);
	CHECK(store_finish_source(st, late, hash, 42, &existing, &err) == 1);
	CHECK(existing == id);
	store_rollback(st);
}

/* An input whose fingerprint is known before its builds: its source row
 * has it from the start, the same bytes again are found before anything
 * is stored, and rolling that input back in a batch takes nothing of the
 * input before it. Found at the end instead, as from one file, the same
 * source is named. */
static void test_source_known(void)
{
	char path[256];
	struct bp_error err;
	struct bp_store *st;
	struct bp_build b;
	long src, existing = 0;

	if (!(st = open_new(path, sizeof(path), "known.db", &err)))
		return;
	make_build(&b, "known", 0);
	CHECK(store_batch_begin(st, &err) == 0);
	CHECK(store_begin(st, &err) == 0);
	src = store_put_source_known(st, "log", "k.log", "f00d", 42, &existing, &err);
	CHECK(src > 0);
	CHECK(store_put_build(st, src, &b, &err) == 0);
	CHECK(store_commit(st, &err) == 0);
	check_found_again(st, &b, "f00d", src);
	CHECK(store_batch_commit(st, &err) == 0);
	CHECK_INT(count_rows(path, "source"), 1);
	CHECK_INT(count_rows(path, "build"), 1);
	CHECK_INT(count_rows(path, "step"), 1);
	CHECK_INT(query_long(path, "SELECT count(*) FROM source WHERE sha256 = 'f00d' AND size = 42"
				   " AND path = 'k.log'"), 1);
	bp_build_release(&b);
	store_close(st);
}

/* Inputs are told apart by all 64 digits of their hash, though the index
 * holds only the first 16: two hashes that share those are two inputs, and
 * each found again is the one it is. The lookups go by the index. */
static void test_source_prefix(void)
{
	static const char a[] = "0123456789abcdef0000000000000000000000000000000000000000000000aa",
			  b_hash[] = "0123456789abcdef0000000000000000000000000000000000000000000000bb";
	char path[256];
	struct bp_error err;
	struct bp_store *st;
	struct bp_build b;
	long first, second, existing = 0;

	if (!(st = open_new(path, sizeof(path), "prefix.db", &err)))
		return;
	make_build(&b, "prefix", 0);
	CHECK(store_batch_begin(st, &err) == 0);
	CHECK(store_begin(st, &err) == 0);
	first = store_put_source_known(st, "log", "a.log", a, 1, &existing, &err);
	CHECK(first > 0 && store_put_build(st, first, &b, &err) == 0 && store_commit(st, &err) == 0);
	CHECK(store_begin(st, &err) == 0);
	second = store_put_source(st, "log", "b.log", &err);
	CHECK(second > 0 && store_put_build(st, second, &b, &err) == 0);
	CHECK(store_finish_source(st, second, b_hash, 1, &existing, &err) == 0);
	CHECK(store_commit(st, &err) == 0);
	/* each again: found, and the right one */
	check_found_again(st, &b, a, first);
	check_found_again(st, &b, b_hash, second);
	CHECK(st->find_source != NULL);
	if (st->find_source)
		CHECK_INT(sqlite3_stmt_status(st->find_source, SQLITE_STMTSTATUS_FULLSCAN_STEP, 0), 0);
	CHECK(store_batch_commit(st, &err) == 0);
	CHECK_INT(count_rows(path, "source"), 2);
	CHECK_INT(count_rows(path, "build"), 2);
	bp_build_release(&b);
	store_close(st);
}

/* Stores b as one input named name whose fingerprint is hash, as an
 * ingest does; 0 when it was stored. */
static int store_input(struct bp_store *st, struct bp_build *b, const char *name, const char *hash)
{
	struct bp_error err;
	long src, existing = 0;

	bp_error_init(&err);
	if (store_begin(st, &err))
		return -1;
	src = store_put_source(st, "log", name, &err);
	if (src < 0 || store_put_build(st, src, b, &err) ||
	    store_finish_source(st, src, hash, 1, &existing, &err)) {
		store_rollback(st);
		return -1;
	}
	return store_commit(st, &err);
}

/* A new database at path holding one build "old" from an input whose
 * fingerprint is hash; 0 when it was stored. */
static int make_db_with_build(const char *path, const char *hash)
{
	struct bp_error err;
	struct bp_store *st;
	struct bp_build b;
	int rc;

	bp_error_init(&err);
	st = store_open(path, &err);
	if (!st)
		return -1;
	make_build(&b, "old", 0);
	rc = store_input(st, &b, "old.log", hash);
	bp_build_release(&b);
	store_close(st);
	return rc;
}

/* A schema-3 database (made here by taking schema 4's step columns away)
 * migrates in place on open: its builds kept, the log positions added and
 * stored from then on. */
static void test_migrate_v3(void)
{
	char path[256];
	struct bp_error err;
	struct bp_store *st;
	sqlite3 *db;
	sqlite3_stmt *q;

	path_in(path, sizeof(path), "v3.db");
	CHECK(make_db_with_build(path, "v3") == 0);
	sqlite3_open(path, &db);
	CHECK(sqlite3_exec(db, "ALTER TABLE step DROP COLUMN first_line; ALTER TABLE step DROP COLUMN end_line;"
			       "PRAGMA user_version = 3", NULL, NULL, NULL) == SQLITE_OK);
	sqlite3_close(db);

	bp_error_init(&err);
	st = store_open(path, &err);
	CHECK(st != NULL);
	store_close(st);
	sqlite3_open(path, &db);
	CHECK(sqlite3_prepare_v2(db, "SELECT (SELECT count(*) FROM build), (SELECT count(*) FROM step WHERE"
				 " first_line IS NULL AND end_line IS NULL)", -1, &q, NULL) == SQLITE_OK);
	CHECK(sqlite3_step(q) == SQLITE_ROW && sqlite3_column_int(q, 0) == 1 && sqlite3_column_int(q, 1) > 0);
	sqlite3_finalize(q);
	sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &q, NULL);
	CHECK(sqlite3_step(q) == SQLITE_ROW && sqlite3_column_int(q, 0) == store_schema_version());
	sqlite3_finalize(q);
	sqlite3_close(db);
}

/* Every schema object of db, one line each ("type|name|table|sql"), into
 * out, sorted by type and name. */
static void schema_text(sqlite3 *db, struct strbuf *out)
{
	sqlite3_stmt *q;

	if (sqlite3_prepare_v2(db, "SELECT type || '|' || name || '|' || tbl_name || '|' || coalesce(sql, '')"
			       " FROM sqlite_schema ORDER BY type, name", -1, &q, NULL) != SQLITE_OK)
		return;
	while (sqlite3_step(q) == SQLITE_ROW)
		strbuf_addf(out, "%s\n", sqlite3_column_text(q, 0));
	sqlite3_finalize(q);
}

/* A new database is made from the build's snapshot of the schema
 * (store_migrate): the same objects, text for text, as every migration
 * run in turn makes, at the same version; made in one pass, its schema
 * rows numbered without a gap where the migrations' table rebuilds leave
 * gaps. A version-0 database that holds tables of its own still takes the
 * migrations and keeps its table. */
static void test_schema_snapshot(void)
{
	static const char notes_row[] = "table|notes|notes|CREATE TABLE notes(x)\n";
	struct strbuf fresh = STRBUF_INIT, stepwise = STRBUF_INIT, theirs = STRBUF_INIT;
	struct bp_error err;
	sqlite3 *a, *b, *c;
	char *notes;

	bp_error_init(&err);
	sqlite3_open(":memory:", &a);
	sqlite3_open(":memory:", &b);
	sqlite3_open(":memory:", &c);
	CHECK(store_migrate(a, "a", &err) == 0);
	CHECK(store_migrate_stepwise(b, "b", &err) == 0);
	CHECK(sqlite3_exec(c, "CREATE TABLE notes(x)", NULL, NULL, NULL) == SQLITE_OK);
	CHECK(store_migrate(c, "c", &err) == 0);
	CHECK(!bp_error_isset(&err));
	schema_text(a, &fresh);
	schema_text(b, &stepwise);
	schema_text(c, &theirs);
	CHECK(strstr(fresh.buf, "table|step|step|CREATE TABLE") != NULL);
	CHECK(strstr(fresh.buf, "trigger|step_of_build|build|") != NULL);
	CHECK_STR(fresh.buf, stepwise.buf);
	CHECK_INT(first_long(a, "PRAGMA user_version"), store_schema_version());
	CHECK_INT(first_long(b, "PRAGMA user_version"), store_schema_version());
	CHECK_INT(first_long(a, "SELECT max(rowid) = count(*) FROM sqlite_schema"), 1);
	CHECK_INT(first_long(b, "SELECT max(rowid) = count(*) FROM sqlite_schema"), 0);
	/* someone else's database: migrated, its table kept */
	CHECK_INT(first_long(c, "SELECT max(rowid) = count(*) FROM sqlite_schema"), 0);
	CHECK_INT(first_long(c, "SELECT count(*) FROM sqlite_schema WHERE name = 'notes'"), 1);
	CHECK_INT(first_long(c, "PRAGMA user_version"), store_schema_version());
	if ((notes = strstr(theirs.buf, notes_row))) { /* take it out */
		memmove(notes, notes + sizeof(notes_row) - 1, strlen(notes + sizeof(notes_row) - 1) + 1);
		strbuf_setlen(&theirs, strlen(theirs.buf));
	}
	CHECK(notes != NULL);
	CHECK_STR(theirs.buf, stepwise.buf);
	sqlite3_close(a);
	sqlite3_close(b);
	sqlite3_close(c);
	strbuf_release(&fresh);
	strbuf_release(&stepwise);
	strbuf_release(&theirs);
}

/* count of rows an SQL query returns on the database at PATH, -1 on error */
static int query_rows(const char *path, const char *sql)
{
	sqlite3 *db;
	sqlite3_stmt *q;
	int n = 0, rc;

	sqlite3_open(path, &db);
	if (sqlite3_prepare_v2(db, sql, -1, &q, NULL) != SQLITE_OK) {
		sqlite3_close(db);
		return -1;
	}
	while ((rc = sqlite3_step(q)) == SQLITE_ROW)
		n++;
	sqlite3_finalize(q);
	sqlite3_close(db);
	return rc == SQLITE_DONE ? n : -1;
}

/* make_build's build, its step with every field set: make_build's and the
 * rest. */
static void make_full_build(struct bp_build *b)
{
	struct bp_step *s;

	make_build(b, "fields", 0);
	s = &b->steps[0];
	s->platform = xstrdup("linux/arm64");
	s->digest = xstrdup("sha256:5f1e");
	s->start_s = 1.5;
	s->error = xstrdup("exit code: 2");
	s->first_line = 10;
	s->end_line = 20;
}

/* Each step row has its own values: the step statement is run again
 * without its bindings cleared (store.c, prepare_rebound), so a field a
 * step leaves unset must be bound as NULL, not kept from the step before. */
static void test_step_fields_own(void)
{
	char path[256];
	struct bp_error err;
	struct bp_store *st;
	struct bp_build b;
	struct bp_step *s;

	if (!(st = open_new(path, sizeof(path), "fields.db", &err)))
		return;
	make_full_build(&b);
	s = bp_build_add_step(&b); /* none of them */
	s->text = xstrdup("[internal] load metadata");
	s->kind = BP_KIND_INTERNAL;
	CHECK(store_input(st, &b, "fields.log", "f1e1d5") == 0);
	store_close(st);
	bp_build_release(&b);
	CHECK_INT(query_rows(path, "SELECT 1 FROM step WHERE seq = 0 AND vertex = 3 AND stage = 'builder'"
				   " AND platform = 'linux/arm64' AND idx = 2 AND count = 4"
				   " AND instruction = 'RUN' AND digest = 'sha256:5f1e' AND kind = 'step'"
				   " AND status = 'done' AND start_s = 1.5 AND duration_s = 7.25"
				   " AND error = 'exit code: 2' AND output_lines = 12"
				   " AND first_line = 10 AND end_line = 20"), 1);
	CHECK_INT(query_rows(path, "SELECT 1 FROM step WHERE seq = 1 AND vertex = 0 AND stage IS NULL"
				   " AND platform IS NULL AND idx = 0 AND count = 0 AND instruction IS NULL"
				   " AND text = '[internal] load metadata' AND digest IS NULL"
				   " AND kind = 'internal' AND status = 'incomplete' AND start_s IS NULL"
				   " AND duration_s IS NULL AND error IS NULL AND output_lines = 0"
				   " AND first_line IS NULL AND end_line IS NULL"), 1);
}

/* What each step mode reads back of a step with every field set: ALL
 * every field but the digest, SHOWN the same but vertex, platform,
 * instruction and output lines (store.h), which no report format but JSON
 * prints. */
static void test_step_fields_read(void)
{
	static const int modes[] = { STORE_STEPS_ALL, STORE_STEPS_SHOWN };
	char path[256];
	struct bp_selector sel;
	struct bp_error err;
	struct bp_store *st;
	struct bp_build b;
	size_t m;

	if (!(st = open_new(path, sizeof(path), "read.db", &err)))
		return;
	make_full_build(&b);
	CHECK(store_input(st, &b, "read.log", "4ead") == 0);
	bp_build_release(&b);
	bp_selector_init(&sel);
	for (m = 0; m < BP_ARRAY_SIZE(modes); m++) {
		int all = modes[m] == STORE_STEPS_ALL;
		struct store_iter *it = store_select_builds(st, &sel, modes[m], &err);
		const struct bp_step *s;

		CHECK(it && store_iter_next(it, &b, &err) == 1);
		if (!it || b.nsteps != 1) {
			CHECK_INT(it ? b.nsteps : 0, 1);
			store_iter_free(it);
			continue;
		}
		s = &b.steps[0];
		CHECK_STR(s->stage, "builder");
		CHECK(s->index == 2 && s->count == 4);
		CHECK_STR(s->text, "RUN make 'quoted' ; DROP TABLE build; --");
		CHECK(s->kind == BP_KIND_STEP && !s->cached && s->status == BP_STEP_DONE);
		CHECK(s->start_s == 1.5 && s->duration_s == 7.25);
		CHECK_STR(s->error, "exit code: 2");
		CHECK(s->first_line == 10 && s->end_line == 20);
		CHECK(s->digest == NULL);
		CHECK_STR(bp_build_label(&b, "variant"), "alpine");
		CHECK_INT(s->vertex, all ? 3 : 0);
		CHECK_STR(s->platform ? s->platform : "(null)", all ? "linux/arm64" : "(null)");
		CHECK_STR(s->instruction ? s->instruction : "(null)", all ? "RUN" : "(null)");
		CHECK_INT(s->output_lines, all ? 12 : 0);
		bp_build_release(&b);
		CHECK(store_iter_next(it, &b, &err) == 0);
		store_iter_free(it);
	}
	bp_selector_release(&sel);
	store_close(st);
}

/* A schema-4 database (its CHECKs put back to IN lists here) migrates on
 * open: rows kept, the same constraints enforced, and a step INSERT no
 * longer builds ephemeral tables. */
static void test_migrate_v4(void)
{
	static const char insert_step[] =
		"EXPLAIN INSERT INTO step(id, build_id, seq, text, kind, cached, status, output_lines)"
		" VALUES ((1 << 20) | 99, 1, 99, 'x', 'step', 0, 'done', 0)";
	char path[256];
	struct bp_error err;
	struct bp_store *st;
	sqlite3 *db;
	int before = -1, after = -1;
	sqlite3_stmt *q;

	path_in(path, sizeof(path), "v4.db");
	CHECK(make_db_with_build(path, "v4") == 0);
	sqlite3_open(path, &db);
	CHECK(sqlite3_exec(db,
			   "BEGIN; PRAGMA writable_schema = ON;"
			   "UPDATE sqlite_schema SET sql = replace(replace(sql,"
			   " 'CHECK (kind = ''step'' OR kind = ''from'' OR kind = ''internal'' OR kind = ''export''"
			   " OR kind = ''cache'')', 'CHECK (kind IN (''step'',''from'',''internal'',''export'',''cache''))'),"
			   " 'CHECK (status = ''done'' OR status = ''cached'' OR status = ''error'' OR status ="
			   " ''canceled'' OR status = ''incomplete'')',"
			   " 'CHECK (status IN (''done'',''cached'',''error'',''canceled'',''incomplete''))')"
			   " WHERE name = 'step';"
			   "PRAGMA writable_schema = RESET; PRAGMA user_version = 4; COMMIT",
			   NULL, NULL, NULL) == SQLITE_OK);
	sqlite3_prepare_v2(db, "PRAGMA schema_version", -1, &q, NULL);
	if (sqlite3_step(q) == SQLITE_ROW)
		before = sqlite3_column_int(q, 0);
	sqlite3_finalize(q);
	sqlite3_close(db);
	/* the schema-4 text really builds ephemeral tables: the test can fail */
	CHECK(query_rows(path, "SELECT 1 FROM sqlite_schema WHERE name = 'step' AND sql LIKE '%kind IN (%'") == 1);

	bp_error_init(&err);
	st = store_open(path, &err);
	CHECK(st != NULL);
	store_close(st);
	CHECK_INT(count_rows(path, "build"), 1);
	CHECK_INT(count_rows(path, "step"), 1);
	CHECK(query_rows(path, "SELECT 1 FROM sqlite_schema WHERE sql LIKE '% IN (%'") == 0);
	CHECK(query_rows(path, "SELECT 1 FROM sqlite_schema WHERE sql LIKE '%kind = ''cache''%'") == 1);
	CHECK(query_rows(path, "SELECT 1 FROM sqlite_schema WHERE sql LIKE '%status = ''failed''%'") == 1);
	sqlite3_open(path, &db);
	CHECK(sqlite3_prepare_v2(db, insert_step, -1, &q, NULL) == SQLITE_OK);
	while (sqlite3_step(q) == SQLITE_ROW)
		CHECK(strcmp((const char *)sqlite3_column_text(q, 1), "OpenEphemeral") != 0);
	sqlite3_finalize(q);
	/* the constraints still hold */
	CHECK(sqlite3_exec(db, "INSERT INTO step(id, build_id, seq, text, kind, cached, status, output_lines)"
			       " VALUES ((1 << 20) | 98, 1, 98, 'x', 'bogus', 0, 'done', 0)", NULL, NULL, NULL) == SQLITE_CONSTRAINT);
	CHECK(sqlite3_exec(db, "INSERT INTO step(id, build_id, seq, text, kind, cached, status, output_lines)"
			       " VALUES ((1 << 20) | 98, 1, 98, 'x', 'step', 0, 'finished', 0)", NULL, NULL, NULL) == SQLITE_CONSTRAINT);
	CHECK(sqlite3_exec(db, "UPDATE build SET status = 'great'", NULL, NULL, NULL) == SQLITE_CONSTRAINT);
	CHECK(sqlite3_exec(db, "INSERT INTO step(id, build_id, seq, text, kind, cached, status, output_lines)"
			       " VALUES ((1 << 20) | 98, 1, 98, 'x', 'cache', 0, 'incomplete', 0)", NULL, NULL, NULL) == SQLITE_OK);
	sqlite3_prepare_v2(db, "PRAGMA schema_version", -1, &q, NULL);
	if (sqlite3_step(q) == SQLITE_ROW)
		after = sqlite3_column_int(q, 0);
	sqlite3_finalize(q);
	CHECK(after > before);
	sqlite3_prepare_v2(db, "PRAGMA integrity_check", -1, &q, NULL);
	CHECK(sqlite3_step(q) == SQLITE_ROW && !strcmp((const char *)sqlite3_column_text(q, 0), "ok"));
	sqlite3_finalize(q);
	sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &q, NULL);
	CHECK(sqlite3_step(q) == SQLITE_ROW && sqlite3_column_int(q, 0) == store_schema_version());
	sqlite3_finalize(q);
	sqlite3_close(db);
}

/* Stores builds named name of three steps, one an input ("id<i>" for i
 * from first to last), and checks they get the ids from first_id on. */
static void put_id_builds(struct bp_store *st, const char *name, int first, int last, long first_id)
{
	struct bp_build b;
	char hash[16];
	int i;

	for (i = first; i <= last; i++) {
		make_build(&b, name, 0);
		bp_build_add_step(&b)->text = xstrdup("RUN two");
		bp_build_add_step(&b)->text = xstrdup("RUN three");
		snprintf(hash, sizeof(hash), "id%d", i);
		CHECK(store_input(st, &b, name, hash) == 0 && b.id == first_id + (i - first));
		bp_build_release(&b);
	}
}

/* A step row's id is build_id << 20 | seq: each build's steps one range
 * of ids, which the reads and the deleting trigger use in place of an
 * index on build_id. */
static void test_step_ids(void)
{
	char path[256];
	struct bp_error err;
	struct bp_store *st;
	struct bp_build b;
	size_t real_nsteps;
	sqlite3 *db;

	if (!(st = open_new(path, sizeof(path), "ids.db", &err)))
		return;
	put_id_builds(st, "ids", 1, 3, 1);
	CHECK_INT(count_rows(path, "step"), 9);
	CHECK_INT(query_long(path, "SELECT count(*) FROM step WHERE id = (build_id << 20) | seq"), 9);
	CHECK_INT(query_long(path, "SELECT min(id) FROM step WHERE build_id = 2"), 2L << 20);

	/* a build of more steps than an id has room for is refused whole,
	 * before any of it is stored (its steps are never read) */
	make_build(&b, "huge", 0);
	real_nsteps = b.nsteps;
	b.nsteps = (size_t)STORE_MAX_STEPS + 1;
	bp_error_init(&err);
	CHECK(store_begin(st, &err) == 0);
	CHECK(store_put_build(st, store_put_source(st, "log", "huge.log", &err), &b, &err) != 0);
	CHECK(strstr(err.text, "cannot store a build of 1048577 steps: at most 1048576") != NULL);
	store_rollback(st);
	b.nsteps = real_nsteps;
	bp_build_release(&b);
	CHECK_INT(count_rows(path, "build"), 3);
	store_close(st);

	sqlite3_open(path, &db);
	/* an id that disagrees with its build and place, or a place past the
	 * room, is refused by the table itself */
	CHECK(sqlite3_exec(db, "INSERT INTO step(build_id, seq, text, kind, cached, status, output_lines)"
			       " VALUES (3, 7, 'x', 'step', 0, 'done', 0)", NULL, NULL, NULL) == SQLITE_CONSTRAINT);
	CHECK(sqlite3_exec(db, "INSERT INTO step(id, build_id, seq, text, kind, cached, status, output_lines)"
			       " VALUES (4 << 20, 3, 1 << 20, 'x', 'step', 0, 'done', 0)", NULL, NULL,
			       NULL) == SQLITE_CONSTRAINT);
	/* deleting a build deletes its steps and no other's, foreign keys off
	 * (as this connection has them) or on */
	CHECK(sqlite3_exec(db, "DELETE FROM build WHERE id = 2", NULL, NULL, NULL) == SQLITE_OK);
	CHECK_INT(first_long(db, "SELECT count(*) FROM step WHERE build_id = 2"), 0);
	CHECK_INT(first_long(db, "SELECT count(*) FROM step"), 6);
	CHECK(sqlite3_exec(db, "PRAGMA foreign_keys = ON; DELETE FROM source WHERE id = 3", NULL, NULL,
			   NULL) == SQLITE_OK);
	CHECK_INT(first_long(db, "SELECT count(*) FROM step"), 3);
	CHECK_INT(first_long(db, "SELECT count(*) FROM step WHERE build_id = 1"), 3);
	/* a step row past the next builds' ids, as a build deleted without
	 * its trigger leaves: the id SQLite would give a step after a build's
	 * first is then not that step's, and the store gives the ids itself */
	CHECK(sqlite3_exec(db, "INSERT INTO step(id, build_id, seq, text, kind, cached, status, output_lines)"
			       " VALUES ((9 << 20) | 5, 9, 5, 'left', 'step', 0, 'done', 0)", NULL, NULL,
			       NULL) == SQLITE_OK);
	sqlite3_close(db);
	bp_error_init(&err);
	st = store_open(path, &err);
	CHECK(st != NULL);
	if (!st)
		return;
	put_id_builds(st, "after", 4, 5, 2);
	store_close(st);
	CHECK_INT(query_long(path, "SELECT count(*) FROM step WHERE build_id IN (2, 3)"
			     " AND id = (build_id << 20) | seq AND seq < 3"), 6);
	CHECK_INT(query_long(path, "SELECT count(*) FROM step WHERE id = (9 << 20) | 5 AND text = 'left'"), 1);
	CHECK_INT(count_rows(path, "step"), 10);
}

/* A step of test_step_bindings: every column that may be NULL set (n
 * odd) or NULL, so the steps of a build take turns. */
static void binding_step(struct bp_build *b, int n)
{
	static const enum bp_step_kind kinds[] = { BP_KIND_STEP, BP_KIND_STEP, BP_KIND_FROM,
						  BP_KIND_INTERNAL };
	static const enum bp_step_status statuses[] = { BP_STEP_DONE, BP_STEP_CACHED, BP_STEP_CACHED,
							BP_STEP_ERROR };
	struct bp_step *s = bp_build_add_step(b);
	char text[32];

	snprintf(text, sizeof(text), "RUN %d", n);
	s->text = xstrdup(text);
	s->kind = kinds[n % 4];
	s->status = statuses[(n / 2) % 4];
	s->vertex = n;
	s->output_lines = n;
	if (n % 2) {
		s->stage = xstrdup("stage");
		s->platform = xstrdup("linux/arm64");
		s->instruction = xstrdup("RUN");
		s->digest = xstrdup("sha256:ab");
		s->error = xstrdup("exit 1");
		s->start_s = n + 0.5;
		s->duration_s = n + 0.25;
		s->first_line = n;
		s->end_line = n + 1;
	}
}

/* What the step table should hold for binding_step(n), as the query in
 * test_step_bindings prints it. */
static void binding_row(struct strbuf *out, long build_id, size_t seq, int n)
{
	static const char *const kinds[] = { "step", "step", "from", "internal" };
	static const char *const statuses[] = { "done", "cached", "cached", "error" };

	strbuf_addf(out, "%ld|%zu|%d|", build_id, seq, n);
	if (n % 2)
		strbuf_addf(out, "'stage'|'linux/arm64'|'RUN'|'sha256:ab'|'exit 1'|%g|%g|%d|%d", n + 0.5,
			    n + 0.25, n, n + 1);
	else
		strbuf_addstr(out, "NULL|NULL|NULL|NULL|NULL|NULL|NULL|NULL|NULL");
	strbuf_addf(out, "|%s|%s|RUN %d\n", kinds[n % 4], statuses[(n / 2) % 4], n);
}

/* A step statement keeps its parameters from one step to the next and
 * binds only what changed (store.c, bind_step): NULLs that come and go,
 * kinds and statuses that repeat and change, builds of one step (the
 * first-step statement alone) between longer ones. Each row reads back as
 * stored. */
static void test_step_bindings(void)
{
	static const int builds[][8] = { { 1, 3, 0, 2, 5, 7, 4, -1 }, { 6, -1 }, { 0, 2, 4, 6, 1, 1, 0, -1 },
					 { 3, 2, 1, -1 } };
	struct strbuf want = STRBUF_INIT, got = STRBUF_INIT;
	char path[256], hash[16];
	struct bp_error err;
	struct bp_store *st;
	struct bp_build b;
	sqlite3_stmt *q;
	sqlite3 *db;
	size_t i, j;

	if (!(st = open_new(path, sizeof(path), "bindings.db", &err)))
		return;
	for (i = 0; i < sizeof(builds) / sizeof(builds[0]); i++) {
		bp_build_init(&b);
		b.name = xstrdup("bindings");
		b.format = xstrdup("buildkit");
		b.status = BP_BUILD_SUCCESS;
		for (j = 0; builds[i][j] >= 0; j++)
			binding_step(&b, builds[i][j]);
		snprintf(hash, sizeof(hash), "bind%zu", i);
		CHECK(store_input(st, &b, "bindings.log", hash) == 0);
		for (j = 0; builds[i][j] >= 0; j++)
			binding_row(&want, b.id, j, builds[i][j]);
		bp_build_release(&b);
	}
	store_close(st);
	sqlite3_open(path, &db);
	CHECK(sqlite3_prepare_v2(db, "SELECT build_id, seq, vertex, quote(stage), quote(platform),"
				     " quote(instruction), quote(digest), quote(error), quote(start_s),"
				     " quote(duration_s), quote(first_line), quote(end_line), kind, status, text"
				     " FROM step ORDER BY id", -1, &q, NULL) == SQLITE_OK);
	while (sqlite3_step(q) == SQLITE_ROW)
		for (i = 0; i < 15; i++)
			strbuf_addf(&got, "%s%s", sqlite3_column_text(q, (int)i), i < 14 ? "|" : "\n");
	sqlite3_finalize(q);
	sqlite3_close(db);
	CHECK_STR(got.buf, want.buf);
	strbuf_release(&want);
	strbuf_release(&got);
}

/* Turns the database at path back into an older schema with downgrade (SQL
 * that ends by setting user_version), checks that shape holds (shape
 * counts 1 row), and opens it, which migrates it to the newest schema,
 * whole and with every foreign key kept. The open store, or NULL. */
static struct bp_store *migrate_from(const char *path, const char *downgrade, const char *shape)
{
	struct bp_error err;
	struct bp_store *st;
	sqlite3 *db;

	sqlite3_open(path, &db);
	CHECK(sqlite3_exec(db, downgrade, NULL, NULL, NULL) == SQLITE_OK);
	sqlite3_close(db);
	/* the old shape really is back: the test can fail */
	CHECK_INT(query_long(path, shape), 1);
	bp_error_init(&err);
	st = store_open(path, &err);
	CHECK(st != NULL);
	if (!st)
		return NULL;
	CHECK_INT(query_long(path, "PRAGMA user_version"), store_schema_version());
	CHECK_INT(query_long(path, "SELECT count(*) FROM pragma_integrity_check WHERE integrity_check = 'ok'"), 1);
	CHECK_INT(query_long(path, "SELECT count(*) FROM pragma_foreign_key_check"), 0);
	return st;
}

/* A schema-7 database (its step table put back as it was then: WITHOUT
 * ROWID on (build_id, seq), the foreign key, no trigger) migrates on open:
 * every step kept, in the new table with its packed id, and read back in
 * order; a deleted build takes its steps with it. */
static void test_migrate_v7(void)
{
	char path[256];
	struct bp_error err;
	struct bp_store *st;
	struct bp_build b, r;
	struct bp_selector sel;
	struct store_iter *it;
	sqlite3 *db;

	path_in(path, sizeof(path), "v7.db");
	bp_error_init(&err);
	if (!(st = store_open(path, &err)))
		return;
	make_build(&b, "first", 0);
	CHECK(store_input(st, &b, "first.log", "v7a") == 0);
	bp_build_release(&b);
	make_build(&b, "second", 0);
	bp_build_add_step(&b)->text = xstrdup("RUN next");
	bp_build_add_step(&b)->text = xstrdup("RUN last");
	CHECK(store_input(st, &b, "second.log", "v7b") == 0);
	bp_build_release(&b);
	store_close(st);
	st = migrate_from(path,
			  "BEGIN; DROP TRIGGER step_of_build;"
			  "CREATE TABLE old_step (build_id INTEGER NOT NULL REFERENCES build(id) ON DELETE CASCADE,"
			  " seq INTEGER NOT NULL, vertex INTEGER, stage TEXT, platform TEXT, idx INTEGER,"
			  " count INTEGER, instruction TEXT, text TEXT NOT NULL, digest TEXT, kind TEXT NOT NULL,"
			  " cached INTEGER NOT NULL, status TEXT NOT NULL, start_s REAL, duration_s REAL,"
			  " error TEXT, output_lines INTEGER NOT NULL, first_line INTEGER, end_line INTEGER,"
			  " PRIMARY KEY (build_id, seq)) WITHOUT ROWID;"
			  "INSERT INTO old_step SELECT build_id, seq, vertex, stage, platform, idx, count,"
			  " instruction, text, digest, kind, cached, status, start_s, duration_s, error,"
			  " output_lines, first_line, end_line FROM step;"
			  "DROP TABLE step; ALTER TABLE old_step RENAME TO step;"
			  "PRAGMA user_version = 7; COMMIT",
			  "SELECT count(*) FROM sqlite_schema WHERE name = 'step' AND sql LIKE '%WITHOUT ROWID%'"
			  " AND NOT EXISTS (SELECT 1 FROM sqlite_schema WHERE type = 'trigger')");
	if (!st)
		return;
	CHECK_INT(query_long(path, "SELECT count(*) FROM sqlite_schema WHERE name = 'step'"
				   " AND (sql LIKE '%WITHOUT ROWID%' OR sql LIKE '%REFERENCES%')"), 0);
	CHECK_INT(count_rows(path, "step"), 4);
	CHECK_INT(query_long(path, "SELECT count(*) FROM step WHERE id = (build_id << 20) | seq"), 4);
	bp_selector_init(&sel);
	it = store_select_builds(st, &sel, STORE_STEPS_ALL, &err);
	CHECK(it && store_iter_next(it, &r, &err) == 1);
	if (it && r.id) {
		CHECK_INT(r.nsteps, 1);
		bp_build_release(&r);
	}
	CHECK(it && store_iter_next(it, &r, &err) == 1);
	if (it && r.id) {
		CHECK_INT(r.nsteps, 3);
		if (r.nsteps == 3) {
			CHECK_STR(r.steps[0].text, "RUN make 'quoted' ; DROP TABLE build; --");
			CHECK_STR(r.steps[2].text, "RUN last");
		}
		bp_build_release(&r);
	}
	store_iter_free(it);
	store_close(st);
	sqlite3_open(path, &db);
	CHECK(sqlite3_exec(db, "DELETE FROM build WHERE name = 'second'", NULL, NULL, NULL) == SQLITE_OK);
	CHECK_INT(first_long(db, "SELECT count(*) FROM step"), 1);
	sqlite3_close(db);
}

/* A schema-8 database (its source table put back as it was then, sha256
 * UNIQUE) migrates on open: the table is rebuilt without the constraint and
 * every build, image and pipeline under a source is kept (with foreign keys
 * on, dropping the old table would have deleted them); an input stored
 * before is still found by its bytes. */
static void test_migrate_v8(void)
{
	char path[256];
	struct bp_store *st;
	struct bp_build b;

	path_in(path, sizeof(path), "v8.db");
	CHECK(make_db_with_build(path, "v8a") == 0);
	st = migrate_from(path,
			  "BEGIN; DROP INDEX source_fingerprint;"
			  "CREATE TABLE old_source (id INTEGER PRIMARY KEY, kind TEXT NOT NULL,"
			  " path TEXT NOT NULL, sha256 TEXT UNIQUE, size INTEGER, ingested_at REAL NOT NULL);"
			  "INSERT INTO old_source SELECT * FROM source;"
			  "DROP TABLE source; ALTER TABLE old_source RENAME TO source;"
			  "PRAGMA user_version = 8; COMMIT",
			  "SELECT count(*) FROM sqlite_schema WHERE tbl_name = 'source'"
			  " AND name LIKE 'sqlite_autoindex%' AND (SELECT count(*) FROM build) = 1");
	if (!st)
		return;
	CHECK_INT(query_long(path, "SELECT count(*) FROM sqlite_schema WHERE tbl_name = 'source'"
				   " AND name LIKE 'sqlite_autoindex%'"), 0);
	CHECK_INT(query_long(path, "SELECT count(*) FROM sqlite_schema WHERE name = 'source_fingerprint'"), 1);
	CHECK_INT(count_rows(path, "source"), 1);
	CHECK_INT(count_rows(path, "build"), 1);
	CHECK_INT(count_rows(path, "step"), 1);
	CHECK_INT(count_rows(path, "label"), 1);
	CHECK_INT(first_long(st->db, "PRAGMA foreign_keys"), 1);
	make_build(&b, "old", 0);
	CHECK(store_input(st, &b, "again.log", "v8a") == -1); /* the same bytes: not stored */
	CHECK(store_input(st, &b, "new.log", "v8b") == 0);
	bp_build_release(&b);
	store_close(st);
	CHECK_INT(count_rows(path, "build"), 2);
}

/* Stores a build named name that names image_id, as one input, and links. */
static int put_build_of(struct bp_store *st, const char *name, const char *image_id)
{
	struct bp_error err;
	struct bp_build b;
	long src;
	int rc;

	bp_error_init(&err);
	make_build(&b, name, 0);
	b.image_id = xstrdup(image_id);
	store_begin(st, &err);
	src = store_put_source(st, "log", name, &err);
	rc = store_put_build(st, src, &b, &err) || store_link_images(st, &err) || store_commit(st, &err);
	bp_build_release(&b);
	return rc ? -1 : 0;
}

static struct bp_step *add_step(struct bp_build *b, enum bp_step_kind kind, const char *text,
				 enum bp_step_status status, double duration_s)
{
	struct bp_step *s = bp_build_add_step(b);

	s->kind = kind;
	s->text = xstrdup(text);
	s->status = status;
	s->duration_s = duration_s;
	return s;
}

static void history_from_store(void *ctx, const char *stage, const char *text, double d)
{
	analyzer_history_add(ctx, stage, text, d);
}

/* A name built once gets its history from its build (report does not read
 * it again): the same runs as store_uncached_steps reads of the name. */
static void test_name_history(void)
{
	char path[256];
	struct bp_error err;
	struct bp_store *st;
	struct analyzer_history stored, own;
	struct bp_build solo, app[2];
	struct bp_step *s;
	long src;
	size_t i;

	if (!(st = open_new(path, sizeof(path), "names.db", &err)))
		return;
	make_build(&solo, "solo", 0); /* one uncached step that ran: 7.25 s */
	add_step(&solo, BP_KIND_STEP, "RUN cached", BP_STEP_CACHED, NAN)->cached = 1;
	add_step(&solo, BP_KIND_STEP, "RUN false", BP_STEP_ERROR, 3); /* failed: not a run to price */
	add_step(&solo, BP_KIND_FROM, "FROM scratch", BP_STEP_DONE, 1); /* not a Dockerfile step here */
	add_step(&solo, BP_KIND_STEP, "RUN untimed", BP_STEP_DONE, NAN);
	s = add_step(&solo, BP_KIND_STEP, "RUN make check", BP_STEP_DONE, 2.5);
	s->stage = xstrdup("test");
	for (i = 0; i < 2; i++)
		make_build(&app[i], "app", 0);
	store_begin(st, &err);
	src = store_put_source(st, "log", "names.log", &err);
	CHECK(store_put_build(st, src, &solo, &err) == 0);
	CHECK(store_put_build(st, src, &app[0], &err) == 0);
	CHECK(store_put_build(st, src, &app[1], &err) == 0);
	CHECK(store_commit(st, &err) == 0);

	CHECK_INT(store_name_has_other_build(st, "solo", solo.id, &err), 0);
	CHECK_INT(store_name_has_other_build(st, "app", app[0].id, &err), 1);
	CHECK_INT(store_name_has_other_build(st, "app", solo.id, &err), 1);
	CHECK_INT(store_name_has_other_build(st, "nobody", solo.id, &err), 0);

	analyzer_history_init(&stored);
	analyzer_history_init(&own);
	CHECK(store_uncached_steps(st, "solo", history_from_store, &stored, &err) == 0);
	analyzer_history_add_build(&own, &solo);
	CHECK_INT(own.nseries, 2);
	CHECK_INT(stored.nseries, own.nseries);
	for (i = 0; i < own.nseries && i < stored.nseries; i++) {
		const struct analyzer_step_series *o = &own.series[i];
		const struct analyzer_step_series *f = analyzer_history_find(&stored, o->stage, o->text);
		CHECK(f && f->n == 1 && o->n == 1 && f->v[0] == o->v[0]);
	}
	analyzer_history_release(&stored);
	analyzer_history_release(&own);
	bp_build_release(&solo);
	bp_build_release(&app[0]);
	bp_build_release(&app[1]);
	store_close(st);
}

/* The store sets SQLite up for one thread per connection before SQLite
 * starts: no connection mutex, no count of allocated bytes (each costs a
 * mutex per call; 10% of ingest and of report together). */
static void test_configured(void)
{
	char path[256];
	struct bp_error err;
	struct bp_store *st;
	sqlite3 *db = NULL;

	if (!(st = open_new(path, sizeof(path), "config.db", &err)))
		return;
	CHECK(sqlite3_open(path, &db) == SQLITE_OK);
	CHECK(sqlite3_exec(db, "SELECT count(*) FROM step", NULL, NULL, NULL) == SQLITE_OK);
	CHECK(sqlite3_db_mutex(db) == NULL);
	CHECK(sqlite3_memory_used() == 0);
	sqlite3_close(db);
	store_close(st);
}

/* A statement journal of more than 1 MiB, as a multi-row UPDATE in a
 * transaction that changed something before writes (or a CI document's
 * savepoint that rewrites many pages): SQLite 3.40 failed it with
 * SQLITE_FULL when statement journals spilled past 128 KiB, the store's
 * setting until schema 8's migration ran into it (store_configure). */
static void test_big_journal(void)
{
	char path[256];
	struct bp_error err;
	struct bp_store *st;

	if (!(st = open_new(path, sizeof(path), "journal.db", &err)))
		return;
	CHECK(sqlite3_exec(st->db, "CREATE TABLE big(x);"
			   "WITH RECURSIVE c(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM c WHERE n < 20000)"
			   " INSERT INTO big SELECT randomblob(200) FROM c", NULL, NULL, NULL) == SQLITE_OK);
	CHECK(sqlite3_exec(st->db, "BEGIN IMMEDIATE; INSERT INTO big VALUES (1)", NULL, NULL, NULL) == SQLITE_OK);
	CHECK_INT(sqlite3_exec(st->db, "UPDATE big SET x = randomblob(200)", NULL, NULL, NULL), SQLITE_OK);
	CHECK_INT(sqlite3_exec(st->db, "COMMIT", NULL, NULL, NULL), SQLITE_OK);
	CHECK_INT(first_long(st->db, "SELECT count(*) FROM big WHERE length(x) = 200"), 20001);
	store_close(st);
}

/* The store's write-behind (write_behind.c): SQLite's pwrite is wrapped,
 * the wrapper writes what it is given and starts a write-out each time a
 * write fills a MiB of its file, and none for a write that does not or
 * that fails. Then through a store: 3 MiB of rows and their checkpoint
 * start at least one write-out a MiB, and read back whole. */
static void test_write_behind(void)
{
	typedef ssize_t (*pwrite_fn)(int, const void *, size_t, off_t);
	static char page[16384];
	sqlite3_vfs *vfs = sqlite3_vfs_find("unix");
	pwrite_fn pw = NULL;
	unsigned long before;
	char path[256], back[16];
	struct bp_error err;
	struct bp_store *st;
	off_t off;
	int fd, ok = 1;

	CHECK(vfs != NULL);
	if (vfs && vfs->xGetSystemCall(vfs, "pwrite64"))
		pw = (pwrite_fn)vfs->xGetSystemCall(vfs, "pwrite64");
	else if (vfs)
		pw = (pwrite_fn)vfs->xGetSystemCall(vfs, "pwrite");
	CHECK(pw != NULL && pw != (pwrite_fn)pwrite);
	path_in(path, sizeof(path), "behind.bin");
	if (!pw || (fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600)) < 0) {
		CHECK(!"no wrapped pwrite or no file to write");
		return;
	}
	/* pages of 16 KiB up to 2 MiB and one past: the writes ending at 1
	 * and at 2 MiB each finish a MiB */
	before = store_write_behind_started();
	for (off = 0; off <= (2 << 20); off += (off_t)sizeof(page)) {
		memset(page, 'a' + (int)(off >> 20), sizeof(page));
		ok &= pw(fd, page, sizeof(page), off) == (ssize_t)sizeof(page);
	}
	CHECK(ok);
	CHECK_INT(store_write_behind_started() - before, 2);
	/* one write across a boundary, one inside a MiB, one that fails */
	before = store_write_behind_started();
	CHECK(pw(fd, "xyz", 3, (3 << 20) - 1) == 3);
	CHECK(pw(fd, "xyz", 3, (3 << 20) + 5) == 3);
	errno = 0;
	CHECK(pw(-1, "xyz", 3, 0) == -1 && errno == EBADF);
	CHECK_INT(store_write_behind_started() - before, 1);
	CHECK(pread(fd, back, 3, (1 << 20) + 7) == 3 && !memcmp(back, "bbb", 3));
	CHECK(pread(fd, back, 4, (3 << 20) - 2) == 4 && !memcmp(back, "\0xyz", 4));
	close(fd);

	if (!(st = open_new(path, sizeof(path), "behind.db", &err)))
		return;
	before = store_write_behind_started();
	CHECK(sqlite3_exec(st->db, "BEGIN; CREATE TABLE blobs(b);"
			   "WITH RECURSIVE c(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM c WHERE n < 3072)"
			   " INSERT INTO blobs SELECT zeroblob(1024) FROM c; COMMIT", NULL, NULL, NULL) == SQLITE_OK);
	store_close(st); /* the last checkpoint: the WAL copied into the database */
	CHECK(store_write_behind_started() - before >= 6);
	CHECK_INT(query_long(path, "SELECT count(*) FROM blobs WHERE length(b) = 1024"), 3072);
}

/* A new database gets the store's page size; one made by another program
 * at SQLite's default keeps its pages, its rows, and takes builds. */
static void test_page_size(void)
{
	char path[256];
	struct bp_error err;
	struct bp_store *st;
	sqlite3 *db;

	if ((st = open_new(path, sizeof(path), "pages.db", &err)))
		store_close(st);
	CHECK(query_long(path, "PRAGMA page_size") == STORE_PAGE_SIZE);

	path_in(path, sizeof(path), "pages-4k.db");
	CHECK(sqlite3_open(path, &db) == SQLITE_OK);
	CHECK(sqlite3_exec(db, "PRAGMA page_size = 4096; CREATE TABLE notes(t TEXT);"
			       "INSERT INTO notes VALUES ('kept')", NULL, NULL, NULL) == SQLITE_OK);
	sqlite3_close(db);
	CHECK(make_db_with_build(path, "pages-4k") == 0);
	CHECK(query_long(path, "PRAGMA page_size") == 4096);
	CHECK(query_rows(path, "SELECT 1 FROM notes WHERE t = 'kept'") == 1);
	CHECK(query_rows(path, "SELECT 1 FROM step s JOIN build b ON b.id = s.build_id WHERE b.name = 'old'") > 0);
}

/* An image stored before the build that made it links when that build
 * arrives; other inputs (no image, another image id) leave it alone. */
static void test_link_images(void)
{
	static const char id[] = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
	static const char linked[] = "SELECT 1 FROM image WHERE build_id IS NOT NULL";
	char path[256];
	struct bp_error err;
	struct bp_store *st;
	struct bp_image img;
	char short_id[16];
	long src;

	if (!(st = open_new(path, sizeof(path), "link.db", &err)))
		return;
	bp_image_init(&img);
	img.image_id = xstrdup(id);
	store_begin(st, &err);
	src = store_put_source(st, "inspect", "img.json", &err);
	CHECK(store_put_image(st, src, &img, &err) == 0);
	CHECK(store_link_images(st, &err) == 0);
	CHECK(store_commit(st, &err) == 0);
	bp_image_release(&img);
	CHECK(query_rows(path, linked) == 0);

	/* a build of another image: still unlinked */
	CHECK(put_build_of(st, "other", "sha256:fedcba9876543210fedcba9876543210fedcba9876543210fedcba9876543210") == 0);
	CHECK(query_rows(path, linked) == 0);

	/* the build that made it (its log gave the short id, as the legacy builder does) */
	snprintf(short_id, sizeof(short_id), "%.12s", id + 7);
	CHECK(put_build_of(st, "app", short_id) == 0);
	CHECK(query_rows(path, "SELECT 1 FROM image i JOIN build b ON b.id = i.build_id WHERE b.name = 'app'") == 1);
	/* nothing left to link: the next input is a no-op */
	CHECK(store_link_images(st, &err) == 0);
	CHECK(query_rows(path, linked) == 1);
	store_close(st);
}

/* Stores an image of id in an input of its own and links it; returns the
 * rows the link changed, or -1. */
static int put_image_of(struct bp_store *st, const char *image_id)
{
	struct bp_error err;
	struct bp_image img;
	long src;
	int before, rc;

	bp_error_init(&err);
	bp_image_init(&img);
	img.image_id = xstrdup(image_id);
	store_begin(st, &err);
	src = store_put_source(st, "inspect", image_id, &err);
	rc = store_put_image(st, src, &img, &err);
	before = sqlite3_total_changes(st->db);
	rc = rc || store_link_images(st, &err);
	before = sqlite3_total_changes(st->db) - before;
	rc = rc || store_commit(st, &err);
	bp_image_release(&img);
	return rc ? -1 : before;
}

/* A link looks only at what was stored since the last one: an image no
 * build made changes no row of the others (each was written anew, and an
 * ingest of 3,000 images took 5.4 s); an image whose build came first is
 * linked, and so is an old image once its build comes. */
static void test_link_images_since(void)
{
	char path[256], id[80], sql[256];
	struct bp_error err;
	struct bp_store *st;
	int i, changed = 0;

	if (!(st = open_new(path, sizeof(path), "linksince.db", &err)))
		return;
	CHECK(put_build_of(st, "first", "aaaaaaaaaaaa") == 0); /* a legacy short id */
	for (i = 0; i < 40; i++) {
		snprintf(id, sizeof(id), "sha256:%064x", i + 1);
		changed += put_image_of(st, id);
	}
	CHECK_INT(changed, 0);
	/* the build came first */
	snprintf(id, sizeof(id), "sha256:aaaaaaaaaaaa%052x", 7);
	CHECK_INT(put_image_of(st, id), 1);
	snprintf(sql, sizeof(sql), "SELECT 1 FROM image i JOIN build b ON b.id = i.build_id"
		 " WHERE b.name = 'first' AND i.image_id = '%s'", id);
	CHECK(query_rows(path, sql) == 1);
	/* the image came first, 33 inputs ago */
	CHECK(put_build_of(st, "later", "sha256:0000000000000000000000000000000000000000000000000000000000000007") == 0);
	CHECK(query_rows(path, "SELECT 1 FROM image i JOIN build b ON b.id = i.build_id WHERE b.name = 'later'"
			       " AND i.image_id LIKE '%07'") == 1);
	CHECK(query_rows(path, "SELECT 1 FROM image WHERE build_id IS NOT NULL") == 2);
	/* nothing stored since: nothing to do */
	CHECK(store_link_images(st, &err) == 0);
	store_close(st);
}

/* Steps every prepared statement that reads images took in full scans of
 * a table (SQLite counts them per statement). */
static int image_scan_steps(struct bp_store *st)
{
	sqlite3_stmt *q = NULL;
	int n = 0;

	while ((q = sqlite3_next_stmt(st->db, q)))
		if (strstr(sqlite3_sql(q), "image i"))
			n += sqlite3_stmt_status(q, SQLITE_STMTSTATUS_FULLSCAN_STEP, 0);
	return n;
}

/* Which images are a build's: the one linked to it, or one with the image
 * id its log named in any of its forms; an id that only sorts between
 * them, or is too short to say, is not. Each lookup goes through the
 * indexes: beside 200 images no build made, no statement that reads images
 * scans more than the 6 build rows of the selection itself (a scan of the
 * images per build, or of the builds per unlinked image, made reports and
 * ingests beside thousands of images take minutes). */
static void test_image_matches(void)
{
	static const char hex[] = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
	static const struct { const char *name, *image_id; long long size; } builds[] = {
		{ "full", "sha256:" "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", 4000 },
		{ "legacy", "0123456789ab", 4000 },
		{ "buildah", "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", 4000 },
		{ "between", "0123456789ab0", -1 }, /* in [first 12, hex], not a prefix */
		{ "too-short", "0123456789a", -1 },
		{ "other", "fedcba9876543210", -1 },
		/* sorts between the first 12 digits and the whole of the last
		 * image's id, but is no prefix of it: that image stays unlinked */
		{ "near", "abcdefabcdef0", -1 },
	};
	char path[256], id[80];
	struct bp_selector sel;
	struct bp_error err;
	struct bp_store *st;
	struct store_iter *it;
	struct bp_image img;
	struct bp_build b;
	long src;
	size_t i;
	int n = 0;

	if (!(st = open_new(path, sizeof(path), "match.db", &err)))
		return;
	store_begin(st, &err);
	src = store_put_source(st, "inspect", "images.json", &err);
	for (i = 0; i <= 201; i++) {
		bp_image_init(&img);
		if (i == 200) {
			snprintf(id, sizeof(id), "sha256:%s", hex);
			img.size_bytes = 4000;
		} else if (i == 201) {
			snprintf(id, sizeof(id), "sha256:abcdefabcdef%.52s", hex + 1); /* 1234... */
		} else {
			snprintf(id, sizeof(id), "sha256:%064zx", i + 0xff00);
		}
		img.image_id = xstrdup(id);
		CHECK(store_put_image(st, src, &img, &err) == 0);
		bp_image_release(&img);
	}
	CHECK(store_link_images(st, &err) == 0);
	CHECK(store_commit(st, &err) == 0);
	for (i = 0; i < BP_ARRAY_SIZE(builds); i++)
		CHECK(put_build_of(st, builds[i].name, builds[i].image_id) == 0);
	/* linked to the first build that made it */
	CHECK(query_rows(path, "SELECT 1 FROM image i JOIN build b ON b.id = i.build_id WHERE b.name = 'full'") == 1);
	CHECK(query_rows(path, "SELECT 1 FROM image WHERE build_id IS NOT NULL") == 1);

	bp_selector_init(&sel);
	bp_error_init(&err);
	it = store_select_builds(st, &sel, 0, &err);
	while (it && store_iter_next(it, &b, &err) == 1) {
		int found;
		for (i = 0; i < BP_ARRAY_SIZE(builds) && strcmp(builds[i].name, b.name); i++)
			;
		CHECK(i < BP_ARRAY_SIZE(builds));
		if (i < BP_ARRAY_SIZE(builds)) {
			if (b.image_size != builds[i].size)
				printf("  build %s: image size %lld, want %lld\n", b.name, b.image_size, builds[i].size);
			CHECK(b.image_size == builds[i].size);
			found = store_build_image(st, &b, &img, &err);
			CHECK(found == (builds[i].size > 0));
			if (found == 1) {
				CHECK_STR(img.image_id, "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef");
				bp_image_release(&img);
			}
		}
		n++;
		bp_build_release(&b);
	}
	CHECK_INT(n, (long)BP_ARRAY_SIZE(builds));
	/* `images REF...` with 1,200 refs (past 1,000 the old OR chain was too
	 * deep for SQLite): prefixes of image ids, and unknown ones */
	{
		static char *refs[1200];
		struct store_image_iter *ii;
		for (i = 0; i < BP_ARRAY_SIZE(refs); i++) {
			snprintf(id, sizeof(id), i < 100 ? "sha256:%064zx" : "sha256:nothing-%zu", i + 0xff00);
			refs[i] = xstrdup(id);
		}
		refs[0][20] = 0; /* a prefix: matches all 200 generated ids */
		ii = store_select_images(st, refs, BP_ARRAY_SIZE(refs), &err);
		CHECK(ii != NULL);
		n = 0;
		while (ii && store_image_next(ii, &img, &err) == 1) {
			n++;
			bp_image_release(&img);
		}
		store_image_iter_free(ii);
		CHECK_INT(n, 200);
		for (i = 0; i < BP_ARRAY_SIZE(refs); i++)
			free(refs[i]);
	}
	n = image_scan_steps(st);
	if (n > (int)BP_ARRAY_SIZE(builds))
		printf("  statements that read images took %d steps of full scans\n", n);
	CHECK(n <= (int)BP_ARRAY_SIZE(builds));
	store_iter_free(it);
	store_close(st);
}

struct runs {
	double d[256];
	int n;
};

static void add_run(void *ctx, const char *status, double duration_s)
{
	struct runs *r = ctx;

	(void)status;
	if (r->n < (int)BP_ARRAY_SIZE(r->d))
		r->d[r->n++] = duration_s;
}

/* Stores pipeline number i of project/ref with one job "build" that took i
 * seconds; dated (created at i) or not. */
static void put_pipeline_of(struct bp_store *st, long src, const char *project, const char *ref, int i,
			    int dated, struct bp_pipeline *keep)
{
	struct bp_pipeline p;
	struct bp_error err;
	struct bp_job *j;
	char id[32];

	bp_error_init(&err);
	bp_pipeline_init(&p);
	p.provider = xstrdup("gitlab");
	snprintf(id, sizeof(id), "%s-%s-%d", project, ref, i);
	p.external_id = xstrdup(id);
	p.project = xstrdup(project);
	p.ref = xstrdup(ref);
	p.created_at = dated ? i : NAN;
	j = bp_pipeline_add_job(&p);
	j->external_id = xstrdup(id);
	j->name = xstrdup("build");
	j->duration_s = i;
	CHECK(store_put_pipeline(st, src, &p, &err) == 0);
	if (keep)
		*keep = p;
	else
		bp_pipeline_release(&p);
}

/* A job's steps as stored, "number:name" each, in number order. */
static void job_steps_of(struct bp_store *st, const char *external_id, char *out, size_t size)
{
	sqlite3_stmt *q = NULL;
	size_t n = 0;

	*out = '\0';
	if (sqlite3_prepare_v2(st->db, "SELECT s.number, s.name FROM job_step s JOIN job j ON j.id = s.job_id"
				       " WHERE j.external_id = ? ORDER BY s.number", -1, &q, NULL) != SQLITE_OK)
		return;
	sqlite3_bind_text(q, 1, external_id, -1, SQLITE_STATIC);
	while (sqlite3_step(q) == SQLITE_ROW && n < size)
		n += (size_t)snprintf(out + n, size - n, "%s%d:%s", n ? " " : "", sqlite3_column_int(q, 0),
				      (const char *)sqlite3_column_text(q, 1));
	sqlite3_finalize(q);
}

/* Stores, as one GitHub run with this id, one job per id in jobs (NULL
 * ended), job k with nsteps[k] steps named prefix1, prefix2...; returns
 * store_put_pipeline's result. */
static int put_run(struct bp_store *st, long src, const char *run, const char *const jobs[],
		   const int nsteps[], const char *prefix)
{
	struct bp_pipeline p;
	struct bp_error err;
	int rc, k, i;

	bp_error_init(&err);
	bp_pipeline_init(&p);
	p.provider = xstrdup("github");
	p.external_id = xstrdup(run);
	for (k = 0; jobs[k]; k++) {
		struct bp_job *j = bp_pipeline_add_job(&p);
		j->external_id = xstrdup(jobs[k]);
		j->name = xstrdup(k ? "test" : "build");
		for (i = 0; i < nsteps[k]; i++) {
			struct bp_job_step *s = bp_job_add_step(j);
			char name[32];
			snprintf(name, sizeof(name), "%s%d", prefix, i + 1);
			s->number = i + 1;
			s->name = xstrdup(name);
			s->started_at = s->completed_at = NAN;
		}
	}
	rc = store_put_pipeline(st, src, &p, &err);
	bp_pipeline_release(&p);
	return rc;
}

/* A GitHub run stored with steps, then again: a job whose document lists
 * steps gets exactly those (fewer ones too), a job listed without any
 * keeps what it had. Across jobs and documents on one connection, as an
 * ingest of many stores them. */
static void put_github_run(struct bp_store *st, long src, int again)
{
	static const char *const jobs[] = { "job-a", "job-b", NULL };
	static const int first[] = { 3, 3 }, later[] = { 2, 0 };

	CHECK(put_run(st, src, "run-1", jobs, again ? later : first, again ? "new" : "old") == 0);
}

/* In a batch, a CI document that only adds rows opens no savepoint, and
 * rolled back it leaves none of them; one that changes a pipeline or job
 * an earlier input stored opens one first, even after adding rows, and
 * rolled back it puts those back and takes the added ones. */
static void test_batch_undo_pipelines(void)
{
	static const char *const old_jobs[] = { "job-a", "job-b", NULL }, *const new_jobs[] = { "job-n", NULL },
			  *const taken_jobs[] = { "job-m", "job-a", NULL };
	static const int two[] = { 2, 2 };
	char path[256], got[256];
	struct bp_error err;
	struct bp_store *st;
	long src;

	if (!(st = open_new(path, sizeof(path), "undopipes.db", &err)))
		return;
	store_begin(st, &err);
	src = store_put_source(st, "github-jobs", "run.json", &err);
	put_github_run(st, src, 0);
	CHECK(store_commit(st, &err) == 0);

	CHECK(store_batch_begin(st, &err) == 0);
	/* only new rows: no savepoint, and none of them kept */
	CHECK(store_begin(st, &err) == 0);
	src = store_put_source(st, "github-jobs", "new.json", &err);
	CHECK(put_run(st, src, "run-2", new_jobs, two, "x") == 0);
	CHECK(!st->input_savepoint);
	store_rollback(st);
	/* new rows, then a change: the savepoint opens before the change */
	CHECK(store_begin(st, &err) == 0);
	src = store_put_source(st, "github-jobs", "both.json", &err);
	CHECK(put_run(st, src, "run-3", new_jobs, two, "x") == 0);
	CHECK(!st->input_savepoint);
	CHECK(put_run(st, src, "run-1", old_jobs, two, "x") == 0);
	CHECK(st->input_savepoint);
	store_rollback(st);
	/* a new run naming a job stored before: changes it, so a savepoint */
	CHECK(store_begin(st, &err) == 0);
	src = store_put_source(st, "github-jobs", "taken.json", &err);
	CHECK(put_run(st, src, "run-4", taken_jobs, two, "x") == 0);
	CHECK(st->input_savepoint);
	store_rollback(st);
	for (size_t i = 0; i < STORE_UNDO_STEPS; i++)
		if (st->undo[i])
			CHECK_INT(sqlite3_stmt_status(st->undo[i], SQLITE_STMTSTATUS_FULLSCAN_STEP, 0), 0);
	CHECK(store_batch_commit(st, &err) == 0);

	CHECK_INT(count_rows(path, "pipeline"), 1);
	CHECK_INT(count_rows(path, "job"), 2);
	CHECK_INT(query_long(path, "SELECT count(*) FROM job j JOIN pipeline p ON p.id = j.pipeline_id"
				   " WHERE p.external_id = 'run-1'"), 2);
	CHECK_INT(count_rows(path, "source"), 1);
	job_steps_of(st, "job-a", got, sizeof(got));
	CHECK_STR(got, "1:old1 2:old2 3:old3");
	store_close(st);
}

static void test_job_steps_replaced(void)
{
	char path[256], got[256];
	struct bp_error err;
	struct bp_store *st;
	long src;

	if (!(st = open_new(path, sizeof(path), "jobsteps.db", &err)))
		return;
	store_begin(st, &err);
	src = store_put_source(st, "github-jobs", "jobsteps", &err);
	put_github_run(st, src, 0);
	job_steps_of(st, "job-a", got, sizeof(got));
	CHECK_STR(got, "1:old1 2:old2 3:old3");
	put_github_run(st, src, 1);
	job_steps_of(st, "job-a", got, sizeof(got));
	CHECK_STR(got, "1:new1 2:new2");
	job_steps_of(st, "job-b", got, sizeof(got));
	CHECK_STR(got, "1:old1 2:old2 3:old3");
	CHECK(store_commit(st, &err) == 0);
	store_close(st);
}

/* What a rolled-back input of a batch undoes beyond its own rows: the
 * links its build made to an earlier image, and a pipeline (with its jobs
 * and their steps) that an earlier input stored and it changed. */
static void test_batch_undo(void)
{
	static const char id[] = "sha256:1111111111111111111111111111111111111111111111111111111111111111";
	char path[256], got[256];
	struct bp_error err;
	struct bp_store *st;
	struct bp_image img;
	struct bp_build b;
	long src;
	int i;

	if (!(st = open_new(path, sizeof(path), "undo.db", &err)))
		return;
	CHECK_INT(put_image_of(st, id), 0);
	store_begin(st, &err);
	src = store_put_source(st, "github-jobs", "run.json", &err);
	put_github_run(st, src, 0);
	put_pipeline_of(st, src, "other", "main", 1, 1, NULL);
	put_pipeline_of(st, src, "other", "main", 2, 1, NULL);
	CHECK(store_commit(st, &err) == 0);

	CHECK(store_batch_begin(st, &err) == 0);
	/* a build that made the image, linked, then rolled back */
	make_build(&b, "undone", 0);
	b.image_id = xstrdup(id);
	CHECK(store_begin(st, &err) == 0);
	src = store_put_source(st, "log", "undone.log", &err);
	CHECK(store_put_build(st, src, &b, &err) == 0);
	CHECK(store_link_images(st, &err) == 0);
	CHECK(query_long(path, "SELECT count(*) FROM image WHERE build_id IS NOT NULL") == 0); /* not committed */
	store_rollback(st);
	bp_build_release(&b);
	/* an image of its own, with a layer, rolled back */
	bp_image_init(&img);
	img.image_id = xstrdup("sha256:2222222222222222222222222222222222222222222222222222222222222222");
	bp_image_add_layer(&img)->digest = xstrdup("sha256:layer");
	CHECK(store_begin(st, &err) == 0);
	src = store_put_source(st, "inspect", "img.json", &err);
	CHECK(store_put_image(st, src, &img, &err) == 0);
	store_rollback(st);
	bp_image_release(&img);
	/* the same run again, with other steps, rolled back */
	CHECK(store_begin(st, &err) == 0);
	put_github_run(st, store_put_source(st, "github-jobs", "again.json", &err), 1);
	job_steps_of(st, "job-a", got, sizeof(got));
	CHECK_STR(got, "1:new1 2:new2");
	store_rollback(st);
	/* the deletes found the rows under their source by index */
	for (i = 0; i < STORE_UNDO_STEPS; i++) {
		CHECK(st->undo[i] != NULL);
		CHECK_INT(sqlite3_stmt_status(st->undo[i], SQLITE_STMTSTATUS_FULLSCAN_STEP, 0), 0);
	}
	CHECK(store_batch_commit(st, &err) == 0);

	CHECK_INT(count_rows(path, "build"), 0);
	CHECK_INT(count_rows(path, "step"), 0);
	CHECK_INT(count_rows(path, "image"), 1);
	CHECK_INT(count_rows(path, "layer"), 0);
	CHECK_INT(query_long(path, "SELECT count(*) FROM image WHERE build_id IS NULL"), 1);
	CHECK_INT(count_rows(path, "source"), 2);
	CHECK_INT(query_long(path, "SELECT count(*) FROM pipeline p JOIN source s ON s.id = p.source_id"
				   " WHERE s.path = 'run.json'"), 3);
	job_steps_of(st, "job-a", got, sizeof(got));
	CHECK_STR(got, "1:old1 2:old2 3:old3");
	/* the batch ran without foreign keys; they are back on. The batch's
	 * larger page cache stays with the connection */
	CHECK_INT(first_long(st->db, "PRAGMA foreign_keys"), 1);
	CHECK_INT(first_long(st->db, "PRAGMA cache_size"), -16384);
	store_close(st);
}

/* An input whose rows cannot be removed alone takes its batch with it, and
 * the batch's commit says so: half an input is never kept. Here a trigger
 * refuses the delete that removes them. */
static void test_batch_undo_fails(void)
{
	char path[256];
	struct bp_error err;
	struct bp_store *st;
	struct bp_build b;
	long src;
	int i;

	if (!(st = open_new(path, sizeof(path), "undofails.db", &err)))
		return;
	CHECK(sqlite3_exec(st->db, "CREATE TRIGGER keep BEFORE DELETE ON source"
				   " BEGIN SELECT RAISE(ABORT, 'kept'); END", NULL, NULL, NULL) == SQLITE_OK);
	CHECK(store_batch_begin(st, &err) == 0);
	for (i = 0; i < 3; i++) {
		make_build(&b, i == 0 ? "before" : i == 1 ? "failed" : "after", 0);
		CHECK(store_begin(st, &err) == 0);
		src = store_put_source(st, "log", b.name, &err);
		CHECK(store_put_build(st, src, &b, &err) == 0);
		if (i == 1)
			store_rollback(st);
		else
			CHECK(store_commit(st, &err) == 0);
		bp_build_release(&b);
	}
	CHECK(store_batch_commit(st, &err) == -1);
	CHECK(strstr(err.text, "rolled back with it") != NULL);
	CHECK(!store_in_batch(st));
	CHECK_INT(count_rows(path, "build"), 1);
	CHECK_INT(query_long(path, "SELECT count(*) FROM build WHERE name = 'after'"), 1);
	CHECK_INT(count_rows(path, "step"), 1);

	/* SQLite rolls a transaction back itself on some errors (a full disk):
	 * the next input starts another, and the commit says what was lost */
	CHECK(store_batch_begin(st, &err) == 0);
	for (i = 0; i < 2; i++) {
		make_build(&b, i ? "next" : "lost", 0);
		CHECK(store_begin(st, &err) == 0);
		src = store_put_source(st, "log", b.name, &err);
		CHECK(store_put_build(st, src, &b, &err) == 0);
		CHECK(store_commit(st, &err) == 0);
		bp_build_release(&b);
		if (!i)
			sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
	}
	CHECK_INT(count_rows(path, "build"), 1); /* "next" waits for the commit */
	CHECK(store_batch_commit(st, &err) == -1);
	CHECK(strstr(err.text, "rolled back with it") != NULL);
	CHECK_INT(query_long(path, "SELECT count(*) FROM build WHERE name = 'next'"), 1);
	CHECK_INT(count_rows(path, "build"), 2);

	/* an input alone is a transaction of its own: gone, it cannot commit */
	make_build(&b, "alone", 0);
	CHECK(store_begin(st, &err) == 0);
	src = store_put_source(st, "log", b.name, &err);
	CHECK(store_put_build(st, src, &b, &err) == 0);
	sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
	bp_error_init(&err);
	CHECK(store_commit(st, &err) == -1);
	CHECK(strstr(err.text, "cannot commit") != NULL);
	CHECK(strstr(err.text, "rolled back with it") == NULL);
	bp_build_release(&b);
	CHECK_INT(count_rows(path, "build"), 2);
	store_close(st);
}

/* SQLite calls this every 100 VM instructions its handle runs. */
static int count_vm_steps(void *ctx)
{
	*(long *)ctx += 100;
	return 0;
}

/* The last runs of a job over n pipelines of a project and ref, the first
 * half dated, the rest not, among others of another project and ref and a
 * project with undated pipelines only. out: the history of the pipeline
 * dated n/4 (limit 5, then n/4 + 3) and of an undated one (n/2 + 2).
 * *steps: the VM instructions SQLite ran for a limit of 5 from each side
 * (to the hundred): the dated pipeline's, and the undated-only project's
 * last. */
static void job_history_over(int n, struct runs out[3], long *steps)
{
	struct bp_pipeline dated, undated, alone;
	char path[256], name[32];
	struct runs five;
	struct bp_error err;
	struct bp_store *st;
	long src;
	int i;

	memset(out, 0, 3 * sizeof(*out));
	snprintf(name, sizeof(name), "history%d.db", n);
	if (!(st = open_new(path, sizeof(path), name, &err)))
		return;
	store_begin(st, &err);
	src = store_put_source(st, "gitlab-jobs", name, &err);
	for (i = 1; i <= n; i++) {
		put_pipeline_of(st, src, "grp/app", "main", i, i <= n / 2,
				i == n / 4 ? &dated : i == n ? &undated : NULL);
		if (i % 4 == 0)
			put_pipeline_of(st, src, "grp/alone", "main", 1000 + i, 0, i == n ? &alone : NULL);
		if (i % (n / 4) == 0)
			put_pipeline_of(st, src, "grp/app", "dev", 2000 + i, i % 2, NULL);
	}
	CHECK(store_commit(st, &err) == 0);
	CHECK(store_job_history(st, &dated, "build", 5, add_run, &out[0], &err) == 0);
	CHECK(store_job_history(st, &dated, "build", n / 4 + 3, add_run, &out[1], &err) == 0);
	CHECK(store_job_history(st, &undated, "build", n / 2 + 2, add_run, &out[2], &err) == 0);
	five.n = 0;
	*steps = 0;
	sqlite3_progress_handler(st->db, 100, count_vm_steps, steps);
	CHECK(store_job_history(st, &dated, "build", 5, add_run, &five, &err) == 0);
	CHECK(store_job_history(st, &alone, "build", 5, add_run, &five, &err) == 0);
	sqlite3_progress_handler(st->db, 0, NULL, NULL);
	/* dated n/4 down to n/4 - 4, then the undated-only project's last 5 */
	CHECK(five.n == 10 && five.d[0] == n / 4 && five.d[5] == 1000 + n && five.d[9] == 1000 + n - 16);
	bp_pipeline_release(&dated);
	bp_pipeline_release(&undated);
	bp_pipeline_release(&alone);
	store_close(st);
}

/* Newest first by pipeline time up to the pipeline's own, then undated
 * pipelines newest job first; only the same provider, project and ref. The
 * work does not grow with the pipelines: both histories walk an index from
 * where they start (a query per job that read every pipeline of the
 * project made `pipelines` over 10,000 of them run for minutes). */
static void test_job_history(void)
{
	struct runs small[3], big[3];
	long steps_small = 0, steps_big = 0;
	int i, ok = 1;

	job_history_over(40, small, &steps_small);
	job_history_over(320, big, &steps_big);
	/* dated 80: 80 79 78 77 76 */
	CHECK_INT(big[0].n, 5);
	for (i = 0; i < big[0].n; i++)
		ok &= big[0].d[i] == 80 - i;
	/* all 80 dated up to it, then the undated newest first: 320 319 318 */
	CHECK_INT(big[1].n, 83);
	for (i = 0; i < 80 && i < big[1].n; i++)
		ok &= big[1].d[i] == 80 - i;
	for (i = 80; i < big[1].n; i++)
		ok &= big[1].d[i] == 320 - (i - 80);
	/* an undated pipeline: every dated one (160..1), then undated 320 319 */
	CHECK_INT(big[2].n, 162);
	for (i = 0; i < 160 && i < big[2].n; i++)
		ok &= big[2].d[i] == 160 - i;
	ok &= big[2].n == 162 && big[2].d[160] == 320 && big[2].d[161] == 319;
	CHECK(ok);
	CHECK(small[2].n == 22 && small[2].d[19] == 1 && small[2].d[20] == 40 && small[2].d[21] == 39);
	/* 8 times the pipelines, the same walk: within a few hundred VM
	 * instructions (the query that read every pipeline took 15,000 against
	 * 1,900) */
	if (steps_big > steps_small + 300)
		printf("  job history: %ld VM instructions over 320 pipelines, %ld over 40\n", steps_big,
		       steps_small);
	CHECK(steps_big <= steps_small + 300);
}

/* Pipelines picked by any number of ids: a report over builds of 600
 * pipelines lists those 600 (OR'ed terms for them made an expression
 * SQLite refused past some 250), oldest first, and an id no pipeline has
 * adds nothing; `pipelines` refs match ids, provider ids, projects and refs. */
static void test_many_pipelines(void)
{
	enum { N = 600 };
	static char *ids[N + 2], *refs[N];
	char path[256], id[48];
	struct store_pipeline_iter *it;
	struct bp_pipeline p;
	struct bp_error err;
	struct bp_store *st;
	long src, last = 0;
	int i, n = 0, ordered = 1;

	if (!(st = open_new(path, sizeof(path), "pipelines.db", &err)))
		return;
	store_begin(st, &err);
	src = store_put_source(st, "gitlab-jobs", "jobs.json", &err);
	/* dated newest first in insertion order: the listing must sort them */
	for (i = 1; i <= N + 50; i++)
		put_pipeline_of(st, src, i % 2 ? "grp/a" : "grp/b", "main", N + 50 - i + 1, 1, NULL);
	CHECK(store_commit(st, &err) == 0);
	for (i = 0; i < N; i++) {
		snprintf(id, sizeof(id), "%s-main-%d", (N + 50 - i) % 2 ? "grp/a" : "grp/b", i + 1);
		ids[i] = xstrdup(id);
	}
	ids[N] = xstrdup("no-such-pipeline");
	ids[N + 1] = xstrdup("caf\351"); /* not UTF-8: matches nothing, breaks nothing */
	it = store_select_pipeline_runs(st, ids, N + 2, &err);
	CHECK(it != NULL);
	while (it && store_pipeline_next(it, &p, &err) == 1) {
		ordered &= p.created_at > last;
		last = (long)p.created_at;
		n++;
		bp_pipeline_release(&p);
	}
	store_pipeline_iter_free(it);
	CHECK_INT(n, N);
	CHECK(ordered);

	/* refs: a provider id (of grp/b), a project (grp/a, 325 pipelines), a
	 * store id (2, of grp/b), and unknown ones */
	refs[0] = ids[0];
	refs[1] = "grp/a";
	refs[2] = "2";
	for (i = 3; i < N; i++)
		refs[i] = ids[N];
	n = 0;
	it = store_select_pipelines(st, refs, N, &err);
	while (it && store_pipeline_next(it, &p, &err) == 1) {
		n++;
		bp_pipeline_release(&p);
	}
	store_pipeline_iter_free(it);
	CHECK_INT(n, (N + 50) / 2 + 2);
	for (i = 0; i < N + 2; i++)
		free(ids[i]);
	store_close(st);
}

void test_store(void)
{
	char cmd[64];

	if (!mkdtemp(dir)) {
		CHECK(!"mkdtemp failed");
		return;
	}
	test_configured(); /* first: SQLite is set up by the first store_open */
	test_big_journal();
	test_write_behind();
	test_roundtrip();
	test_step_fields_own();
	test_step_fields_read();
	test_selectors();
	test_steps_beside_builds();
	test_refusals();
	test_batch();
	test_source_known();
	test_source_prefix();
	test_batch_undo();
	test_batch_undo_fails();
	test_batch_undo_pipelines();
	test_schema_snapshot();
	test_migrate_v3();
	test_migrate_v4();
	test_step_ids();
	test_step_bindings();
	test_migrate_v7();
	test_migrate_v8();
	test_page_size();
	test_link_images();
	test_link_images_since();
	test_image_matches();
	test_job_history();
	test_job_steps_replaced();
	test_many_pipelines();
	test_name_history();
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", dir);
}
