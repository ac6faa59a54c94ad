/*
 * store_floor.c - the bench's floor for ingest: stores the rows an ingest
 * stored (its source, build, step and label rows, read back from that
 * ingest's database) into a new database of the same schema, in the same
 * order and with the same settings as the store's batches (16 KiB pages,
 * WAL, synchronous NORMAL, the store's write-behind, foreign keys off, a
 * 16 MiB page cache, one transaction a second, a build's steps after its
 * first with their ids left to SQLite), with prepared statements, and
 * nothing else: no logs read, nothing parsed, no second thread.
 *
 * Ingest cannot be faster than this. Its storing thread runs these inserts
 * and a little more (each input's fingerprint lookup and final update), and
 * with the parsing on another core it is the storing that bounds it. So
 * the floor's rate against the bench's baselines is the best ratio that
 * any ingest of these rows into this schema reaches in the same run.
 *
 * The rows are read ahead in chunks of a few builds off the clock, as the
 * parsing thread hands builds over. Timed are making the new database (its
 * tables straight from the ingested one's schema), storing the rows, the
 * commits and the close (the last checkpoint).
 *
 * Usage: store_floor INGESTED_DB NEW_DB; NEW_DB must not exist. Prints the
 * seconds spent storing, and on stderr what it stored.
 */
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "buildprof/store.h"

/* builds read ahead at a time: the store's handoff queue holds 64 */
#define CHUNK_BUILDS 64
/* as cli/ingest.c's INGEST_BATCH_SECONDS and store.c's BATCH_CACHE_KIB */
#define BATCH_SECONDS 1.0
#define CACHE_KIB 16384

enum table { SOURCE, BUILD, STEP, LABEL, NTABLES };
static const char *const table_name[NTABLES] = {"source", "build", "step", "label"};
/* what each table's rows are read in, and the column that says which
 * build a row goes with (a source goes before the build that names it) */
static const char *const read_order[NTABLES] = {"id", "id", "id", "build_id, key"};
static const char *const build_column[NTABLES] = {"id", "source_id", "build_id", "build_id"};

struct value {
	int type;
	int len;
	sqlite3_int64 i;
	double d;
	size_t off; /* text and blobs: in the chunk's bytes */
};

struct row {
	enum table table;
	size_t first; /* its values: chunk.values[first .. first + ncol) */
};

struct chunk {
	struct row *rows;
	size_t nrows, alloc_rows;
	struct value *values;
	size_t nvalues, alloc_values;
	char *bytes;
	size_t nbytes, alloc_bytes;
};

struct reader {
	sqlite3_stmt *q;
	int ncol, key; /* the build column's index */
	int pending;   /* q stands on a row not yet copied */
	int done;
};

static void *grow(void *p, size_t *alloc, size_t need, size_t size)
{
	if (need <= *alloc)
		return p;
	while (*alloc < need)
		*alloc = *alloc ? 2 * *alloc : 1024;
	if (!(p = realloc(p, *alloc * size))) {
		fprintf(stderr, "store_floor: out of memory\n");
		exit(1);
	}
	return p;
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void fail(sqlite3 *db, const char *doing)
{
	fprintf(stderr, "store_floor: %s: %s\n", doing, sqlite3_errmsg(db));
	exit(1);
}

static void exec(sqlite3 *db, const char *sql)
{
	if (sqlite3_exec(db, sql, NULL, NULL, NULL) != SQLITE_OK)
		fail(db, sql);
}

static sqlite3_stmt *prepare(sqlite3 *db, const char *sql)
{
	sqlite3_stmt *q = NULL;

	if (sqlite3_prepare_v2(db, sql, -1, &q, NULL) != SQLITE_OK)
		fail(db, sql);
	return q;
}

static void open_reader(sqlite3 *src, enum table t, struct reader *r)
{
	char sql[128];
	int i;

	snprintf(sql, sizeof(sql), "SELECT * FROM %s ORDER BY %s", table_name[t], read_order[t]);
	r->q = prepare(src, sql);
	r->ncol = sqlite3_column_count(r->q);
	r->key = -1;
	for (i = 0; i < r->ncol; i++)
		if (!strcmp(sqlite3_column_name(r->q, i), build_column[t]))
			r->key = i;
	if (r->key < 0) {
		fprintf(stderr, "store_floor: %s has no column %s\n", table_name[t], build_column[t]);
		exit(1);
	}
	r->pending = r->done = 0;
}

/* The build the reader's next row goes with, or -1 when it has no more. */
static sqlite3_int64 peek(sqlite3 *src, struct reader *r)
{
	int rc;

	if (!r->pending && !r->done) {
		rc = sqlite3_step(r->q);
		if (rc == SQLITE_ROW)
			r->pending = 1;
		else if (rc == SQLITE_DONE)
			r->done = 1;
		else
			fail(src, "reading the ingested rows");
	}
	return r->pending ? sqlite3_column_int64(r->q, r->key) : -1;
}

static void take(struct chunk *c, enum table t, struct reader *r)
{
	int i;

	c->rows = grow(c->rows, &c->alloc_rows, c->nrows + 1, sizeof(*c->rows));
	c->values = grow(c->values, &c->alloc_values, c->nvalues + (size_t)r->ncol, sizeof(*c->values));
	c->rows[c->nrows].table = t;
	c->rows[c->nrows++].first = c->nvalues;
	for (i = 0; i < r->ncol; i++) {
		struct value *v = &c->values[c->nvalues++];

		v->type = sqlite3_column_type(r->q, i);
		if (v->type == SQLITE_INTEGER) {
			v->i = sqlite3_column_int64(r->q, i);
		} else if (v->type == SQLITE_FLOAT) {
			v->d = sqlite3_column_double(r->q, i);
		} else if (v->type == SQLITE_TEXT || v->type == SQLITE_BLOB) {
			const void *p = v->type == SQLITE_TEXT ? (const void *)sqlite3_column_text(r->q, i)
							      : sqlite3_column_blob(r->q, i);

			v->len = sqlite3_column_bytes(r->q, i);
			c->bytes = grow(c->bytes, &c->alloc_bytes, c->nbytes + (size_t)v->len + 1, 1);
			v->off = c->nbytes;
			if (v->len)
				memcpy(c->bytes + c->nbytes, p, (size_t)v->len);
			c->nbytes += (size_t)v->len + 1;
		}
	}
	r->pending = 0;
}

/* Reads the next builds' rows into c, each build after its source and
 * before its steps and labels, as ingest stores them; after the last
 * build, the sources no build named. Returns the rows read. */
static int read_chunk(sqlite3 *src, struct reader *r, struct chunk *c)
{
	sqlite3_int64 id, source, next;
	int builds = 0;

	c->nrows = c->nvalues = c->nbytes = 0;
	while (builds < CHUNK_BUILDS && (source = peek(src, &r[BUILD])) >= 0) {
		id = sqlite3_column_int64(r[BUILD].q, 0);
		while ((next = peek(src, &r[SOURCE])) >= 0 && next <= source)
			take(c, SOURCE, &r[SOURCE]);
		take(c, BUILD, &r[BUILD]);
		while (peek(src, &r[STEP]) == id)
			take(c, STEP, &r[STEP]);
		while (peek(src, &r[LABEL]) == id)
			take(c, LABEL, &r[LABEL]);
		builds++;
	}
	while (!builds && c->nrows < CHUNK_BUILDS && peek(src, &r[SOURCE]) >= 0)
		take(c, SOURCE, &r[SOURCE]);
	return (int)c->nrows;
}

/* The most columns a table has here (step's 20). */
#define MAX_COLUMNS 32

/* What a statement's parameters hold from the row it stored last: the
 * value, in the chunk being stored. */
struct bound {
	const struct value *last[MAX_COLUMNS];
};

static int same_value(const struct chunk *c, const struct value *a, const struct value *b)
{
	if (a->type != b->type)
		return 0;
	switch (a->type) {
	case SQLITE_INTEGER:
		return a->i == b->i;
	case SQLITE_FLOAT:
		return a->d == b->d;
	case SQLITE_TEXT:
	case SQLITE_BLOB:
		return a->len == b->len && !memcmp(c->bytes + a->off, c->bytes + b->off, (size_t)a->len);
	default:
		return 1;
	}
}

/* Stores a row; with no_id, its first column (the id) as NULL. A value
 * the same as the one the statement stored last, in this chunk (whose
 * bytes its text points into), is not bound again: the store leaves a
 * step's build, kind and status and NULLs that repeat as they are bound
 * (store.c, bind_step), and the floor binds no more than it does. */
static void store_row(sqlite3 *dst, sqlite3_stmt *q, struct bound *bound, const struct chunk *c,
		      const struct row *row, int no_id)
{
	static const struct value null = { .type = SQLITE_NULL };
	int i, n = sqlite3_bind_parameter_count(q);

	for (i = 0; i < n; i++) {
		const struct value *v = no_id && !i ? &null : &c->values[row->first + (size_t)i];

		if (bound->last[i] && same_value(c, bound->last[i], v))
			continue;
		bound->last[i] = v;
		switch (v->type) {
		case SQLITE_INTEGER:
			sqlite3_bind_int64(q, i + 1, v->i);
			break;
		case SQLITE_FLOAT:
			sqlite3_bind_double(q, i + 1, v->d);
			break;
		case SQLITE_TEXT:
			sqlite3_bind_text(q, i + 1, c->bytes + v->off, v->len, SQLITE_STATIC);
			break;
		case SQLITE_BLOB:
			sqlite3_bind_blob(q, i + 1, c->bytes + v->off, v->len, SQLITE_STATIC);
			break;
		default:
			sqlite3_bind_null(q, i + 1);
		}
	}
	if (sqlite3_step(q) != SQLITE_DONE)
		fail(dst, "storing a row");
	sqlite3_reset(q);
}

/* The new database: the ingested one's page size and schema, in WAL. */
static void create_like(sqlite3 *src, sqlite3 *dst)
{
	sqlite3_stmt *q;
	char sql[64];

	q = prepare(src, "PRAGMA page_size");
	if (sqlite3_step(q) != SQLITE_ROW)
		fail(src, "reading the page size");
	snprintf(sql, sizeof(sql), "PRAGMA page_size = %d", sqlite3_column_int(q, 0));
	sqlite3_finalize(q);
	exec(dst, sql);
	exec(dst, "PRAGMA journal_mode = WAL");
	exec(dst, "PRAGMA synchronous = NORMAL");
	exec(dst, "BEGIN");
	q = prepare(src, "SELECT sql FROM sqlite_schema WHERE sql IS NOT NULL"
			 " AND name NOT LIKE 'sqlite_%' ORDER BY type = 'index', rowid");
	while (sqlite3_step(q) == SQLITE_ROW)
		exec(dst, (const char *)sqlite3_column_text(q, 0));
	sqlite3_finalize(q);
	exec(dst, "COMMIT");
}

static sqlite3_stmt *prepare_insert(sqlite3 *dst, enum table t, int ncol)
{
	char sql[512];
	size_t n;
	int i;

	n = (size_t)snprintf(sql, sizeof(sql), "INSERT INTO %s VALUES (", table_name[t]);
	for (i = 0; i < ncol && n + 3 < sizeof(sql); i++)
		n += (size_t)snprintf(sql + n, sizeof(sql) - n, i ? ",?" : "?");
	snprintf(sql + n, sizeof(sql) - n, ")");
	return prepare(dst, sql);
}

int main(int argc, char **argv)
{
	sqlite3 *src = NULL, *dst = NULL;
	struct reader r[NTABLES];
	sqlite3_stmt *insert[NTABLES];
	struct bound bound[NTABLES];
	struct chunk c = {0};
	long counts[NTABLES] = {0};
	double timed = 0, batch = 0, t0;
	char sql[64];
	size_t i;
	int t;

	if (argc != 3) {
		fprintf(stderr, "usage: store_floor INGESTED_DB NEW_DB\n");
		return 2;
	}
	/* configured as the store configures SQLite (store.c) */
	sqlite3_config(SQLITE_CONFIG_MULTITHREAD);
	sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
	store_write_behind();
	if (sqlite3_open_v2(argv[1], &src, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK)
		fail(src, argv[1]);
	for (t = 0; t < NTABLES; t++)
		open_reader(src, (enum table)t, &r[t]);
	for (t = 0; t < NTABLES; t++)
		if (r[t].ncol > MAX_COLUMNS) {
			fprintf(stderr, "store_floor: %s has more than %d columns\n", table_name[t], MAX_COLUMNS);
			return 1;
		}
	if (strcmp(sqlite3_column_name(r[STEP].q, 0), "id")) {
		fprintf(stderr, "store_floor: step's first column is not its id\n");
		return 1;
	}

	/* ingest makes its database new in the bench, so the floor does too */
	t0 = now();
	if (sqlite3_open_v2(argv[2], &dst, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL) != SQLITE_OK)
		fail(dst, argv[2]);
	create_like(src, dst);
	for (t = 0; t < NTABLES; t++)
		insert[t] = prepare_insert(dst, (enum table)t, r[t].ncol);
	snprintf(sql, sizeof(sql), "PRAGMA cache_size = -%d", CACHE_KIB);
	exec(dst, sql);
	exec(dst, "PRAGMA foreign_keys = OFF");
	exec(dst, "BEGIN IMMEDIATE");
	timed += now() - t0;
	while (read_chunk(src, r, &c)) {
		memset(bound, 0, sizeof(bound)); /* what they held is gone with the last chunk */
		t0 = now();
		for (i = 0; i < c.nrows; i++) {
			/* a build's steps after its first: the id left to
			 * SQLite, as the store leaves it (store.c, put_steps) */
			store_row(dst, insert[c.rows[i].table], &bound[c.rows[i].table], &c, &c.rows[i],
				  i && c.rows[i].table == STEP && c.rows[i - 1].table == STEP);
			counts[c.rows[i].table]++;
		}
		if (timed + (now() - t0) - batch >= BATCH_SECONDS) {
			exec(dst, "COMMIT");
			exec(dst, "BEGIN IMMEDIATE");
			batch = timed + (now() - t0);
		}
		timed += now() - t0;
	}
	t0 = now();
	exec(dst, "COMMIT");
	for (t = 0; t < NTABLES; t++)
		sqlite3_finalize(insert[t]);
	if (sqlite3_close(dst) != SQLITE_OK)
		fail(dst, "closing");
	timed += now() - t0;

	for (t = 0; t < NTABLES; t++)
		sqlite3_finalize(r[t].q);
	sqlite3_close(src);
	free(c.rows);
	free(c.values);
	free(c.bytes);
	printf("%.6f\n", timed);
	fprintf(stderr, "store_floor: %ld sources, %ld builds, %ld steps, %ld labels in %.3f s\n",
		counts[SOURCE], counts[BUILD], counts[STEP], counts[LABEL], timed);
	return 0;
}
