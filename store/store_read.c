/*
 * store_read.c - the read side: turns a bp_selector into one parameterised
 * query and streams the matching builds (with labels and, on request, steps)
 * as plain records, so a report over many builds never holds them all.
 */
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "store_internal.h"

struct store_iter {
	struct bp_store *st;
	sqlite3_stmt *builds, *steps, *labels;
	int with_steps;  /* a STORE_STEPS_ mode */
	int with_labels;
	long steps_of; /* the build the step cursor read last (read_steps) */
};

static char *column_text(sqlite3_stmt *q, int i)
{
	const unsigned char *s = sqlite3_column_text(q, i);
	return s ? xstrdup((const char *)s) : NULL;
}

static double column_real(sqlite3_stmt *q, int i)
{
	return sqlite3_column_type(q, i) == SQLITE_NULL ? NAN : sqlite3_column_double(q, i);
}

/* SQL: col of the newest image of build b that knows it, else NULL */
#define NEWEST_IMAGE_VALUE(col)                                                                 \
	" CASE WHEN " STORE_ANY_IMAGE " THEN (SELECT " col " FROM image WHERE id ="                \
	" (SELECT max(i.id) FROM image i WHERE i." col " IS NOT NULL AND " STORE_IMAGES_OF_BUILD ")) END"

/* Past this many ids and ranges, a selection's ranges are bound as one
 * JSON array and joined to the builds: as OR'ed terms, 1,000 made an
 * expression deeper than SQLite allows (`report $(seq 1 3 4500)` failed). A
 * few stay terms, so one range still reads the builds in id order. */
#define RANGES_INLINE 64

/* The step columns fill_step reads, in its order: what every report format
 * but JSON shows (STORE_STEPS_SHOWN), to which STORE_STEPS_ALL adds the
 * four only JSON prints. The build id comes last, where read_steps looks. */
#define SHOWN_STEP_COLUMNS \
	"stage, idx, count, text, kind, cached, status, start_s, duration_s, error, first_line, end_line"
#define STEPS_QUERY(columns) \
	"SELECT " columns ", build_id FROM step WHERE id >= " STORE_FIRST_STEP("?") " ORDER BY id"

static int cmp_range(const void *a, const void *b)
{
	long x = ((const struct bp_id_range *)a)->lo, y = ((const struct bp_id_range *)b)->lo;

	return x < y ? -1 : x > y;
}

/* sel's ranges sorted, with those that overlap or touch made one: a new
 * array of *n. */
static struct bp_id_range *merged_ranges(const struct bp_selector *sel, size_t *n)
{
	struct bp_id_range *r = xcalloc(sel->nranges, sizeof(*r));
	size_t i;

	memcpy(r, sel->ranges, sel->nranges * sizeof(*r));
	qsort(r, sel->nranges, sizeof(*r), cmp_range);
	*n = 0;
	for (i = 0; i < sel->nranges; i++) {
		if (*n && (r[i].lo <= r[*n - 1].hi || (r[*n - 1].hi < LONG_MAX && r[i].lo == r[*n - 1].hi + 1))) {
			if (r[i].hi > r[*n - 1].hi)
				r[*n - 1].hi = r[i].hi;
		} else {
			r[(*n)++] = r[i];
		}
	}
	return r;
}

struct store_iter *store_select_builds(struct bp_store *st, const struct bp_selector *sel,
				       int with_steps, struct bp_error *err)
{
	struct strbuf sql = STRBUF_INIT;
	struct store_iter *it = xcalloc(1, sizeof(*it));
	struct bp_id_range *merged = NULL;
	size_t i, nmerged = 0;
	int param = 1;

	it->st = st;
	/* the lighter step modes serve summaries, which do not look at labels
	 * unless asked */
	it->with_labels = (with_steps & STORE_LABELS) != 0;
	with_steps &= ~STORE_LABELS;
	it->with_labels |= with_steps <= STORE_STEPS_ALL || with_steps == STORE_STEPS_SHOWN;
	it->with_steps = with_steps;
	strbuf_addstr(&sql, "SELECT b.id, b.name, b.format, b.status, b.started_at, b.wall_s,"
			    " b.image_ref, b.image_id, b.base_image, b.error, s.path,"
			    NEWEST_IMAGE_VALUE("size_bytes") "," NEWEST_IMAGE_VALUE("compressed_bytes")
			    " FROM ");
	if (sel->nranges > RANGES_INLINE) {
		/* each range a walk of the rowid, disjoint so no build comes twice */
		strbuf_addstr(&sql, "json_each(?) r JOIN build b ON b.id BETWEEN r.value ->> 0 AND r.value ->> 1");
		merged = merged_ranges(sel, &nmerged);
	} else {
		strbuf_addstr(&sql, "build b");
	}
	strbuf_addstr(&sql, " JOIN source s ON s.id = b.source_id WHERE 1");
	if (sel->nranges && !merged) {
		strbuf_addstr(&sql, " AND (");
		for (i = 0; i < sel->nranges; i++)
			strbuf_addf(&sql, "%sb.id BETWEEN ? AND ?", i ? " OR " : "");
		strbuf_addch(&sql, ')');
	}
	for (i = 0; i < sel->nlabels; i++)
		strbuf_addstr(&sql, " AND EXISTS (SELECT 1 FROM label l WHERE l.build_id = b.id"
				    " AND l.key = ? AND l.value = ?)");
	if (sel->nnames) {
		strbuf_addstr(&sql, " AND (");
		for (i = 0; i < sel->nnames; i++)
			strbuf_addf(&sql, "%sb.name GLOB ?", i ? " OR " : "");
		strbuf_addch(&sql, ')');
	}
	if (sel->format)
		strbuf_addstr(&sql, " AND b.format = ?");
	if (sel->status)
		strbuf_addstr(&sql, " AND b.status = ?");
	if (sel->last > 0) {
		/* the newest N, then back to oldest first */
		struct strbuf outer = STRBUF_INIT;
		strbuf_addf(&outer, "SELECT * FROM (%s ORDER BY b.id DESC LIMIT ?) ORDER BY 1",
			    sql.buf);
		strbuf_release(&sql);
		sql = outer;
	} else {
		strbuf_addstr(&sql, " ORDER BY b.id");
	}
	if (sqlite3_prepare_v2(st->db, sql.buf, -1, &it->builds, NULL) != SQLITE_OK) {
		store_fail(st, err, "cannot select builds");
		goto fail;
	}
	if (merged) {
		struct strbuf json = STRBUF_INIT;
		for (i = 0; i < nmerged; i++)
			strbuf_addf(&json, "%s[%ld,%ld]", i ? "," : "[", merged[i].lo, merged[i].hi);
		strbuf_addch(&json, ']');
		sqlite3_bind_text(it->builds, param++, json.buf, (int)json.len, SQLITE_TRANSIENT);
		strbuf_release(&json);
	}
	for (i = 0; i < sel->nranges && !merged; i++) {
		sqlite3_bind_int64(it->builds, param++, sel->ranges[i].lo);
		sqlite3_bind_int64(it->builds, param++, sel->ranges[i].hi);
	}
	for (i = 0; i < sel->nlabels; i++) {
		sqlite3_bind_text(it->builds, param++, sel->labels[i].key, -1, SQLITE_STATIC);
		sqlite3_bind_text(it->builds, param++, sel->labels[i].value, -1, SQLITE_STATIC);
	}
	for (i = 0; i < sel->nnames; i++)
		sqlite3_bind_text(it->builds, param++, sel->names[i], -1, SQLITE_STATIC);
	if (sel->format)
		sqlite3_bind_text(it->builds, param++, sel->format, -1, SQLITE_STATIC);
	if (sel->status)
		sqlite3_bind_text(it->builds, param++, sel->status, -1, SQLITE_STATIC);
	if (sel->last > 0)
		sqlite3_bind_int64(it->builds, param++, sel->last);
	if (sqlite3_prepare_v2(st->db, "SELECT key, value FROM label WHERE build_id = ? ORDER BY key",
			       -1, &it->labels, NULL) != SQLITE_OK ||
	    ((with_steps == STORE_STEPS_ALL || with_steps == STORE_STEPS_SHOWN) &&
	     sqlite3_prepare_v2(st->db,
				with_steps == STORE_STEPS_ALL
					? STEPS_QUERY(SHOWN_STEP_COLUMNS ", vertex, platform, instruction, output_lines")
					: STEPS_QUERY(SHOWN_STEP_COLUMNS),
				-1, &it->steps, NULL) != SQLITE_OK) ||
	    (with_steps == STORE_STEPS_TIMES &&
	     sqlite3_prepare_v2(st->db, STEPS_QUERY("kind, cached, status, duration_s"), -1, &it->steps, NULL) !=
		     SQLITE_OK) ||
	    (with_steps == STORE_STEPS_NAMED &&
	     sqlite3_prepare_v2(st->db, "SELECT kind, cached, status, duration_s, stage, text, idx, count,"
				" build_id FROM step WHERE id >= " STORE_FIRST_STEP("?") " AND kind = 'step'"
				" ORDER BY id", -1, &it->steps, NULL) != SQLITE_OK)) {
		store_fail(st, err, "cannot select builds");
		goto fail;
	}
	strbuf_release(&sql);
	free(merged);
	return it;
fail:
	strbuf_release(&sql);
	free(merged);
	store_iter_free(it);
	return NULL;
}

static int read_labels(struct store_iter *it, struct bp_build *b, struct bp_error *err)
{
	int rc;

	sqlite3_reset(it->labels);
	sqlite3_bind_int64(it->labels, 1, b->id);
	while ((rc = sqlite3_step(it->labels)) == SQLITE_ROW)
		bp_build_set_label(b, (const char *)sqlite3_column_text(it->labels, 0),
				   (const char *)sqlite3_column_text(it->labels, 1));
	if (rc != SQLITE_DONE)
		return store_fail(it->st, err, "cannot read labels");
	return 0;
}

static void parse_kind_status(const unsigned char *kind, const unsigned char *status, struct bp_step *s)
{
	if (bp_step_kind_parse((const char *)kind, &s->kind) || bp_step_status_parse((const char *)status, &s->status))
		BUG("schema CHECK let through kind '%s' status '%s'", kind, status);
}

/* A step's text column, kept in its build's string blocks. */
static char *step_text(struct bp_build *b, sqlite3_stmt *q, int i)
{
	const char *s = (const char *)sqlite3_column_text(q, i);

	return s ? bp_build_step_string(b, s, (size_t)sqlite3_column_bytes(q, i)) : NULL;
}

/* A row of the STORE_STEPS_TIMES query (no strings to copy), or of
 * STORE_STEPS_NAMED's (two). */
static void fill_step_times(struct bp_build *b, sqlite3_stmt *q, struct bp_step *s, int named)
{
	parse_kind_status(sqlite3_column_text(q, 0), sqlite3_column_text(q, 2), s);
	s->cached = sqlite3_column_int(q, 1);
	s->duration_s = column_real(q, 3);
	if (named) {
		s->stage = step_text(b, q, 4);
		s->text = step_text(b, q, 5);
		s->index = sqlite3_column_int(q, 6);
		s->count = sqlite3_column_int(q, 7);
	}
}

/* A row of the STORE_STEPS_SHOWN query, or of STORE_STEPS_ALL's (all set),
 * which reads the same columns first and then the four only JSON prints:
 * every column but the digest, which no command reads back (it is there
 * for the user's SQL), and which was the longest string a report copied
 * per step. */
static void fill_step(struct bp_build *b, sqlite3_stmt *q, struct bp_step *s, int all)
{
	s->stage = step_text(b, q, 0);
	s->index = sqlite3_column_int(q, 1);
	s->count = sqlite3_column_int(q, 2);
	s->text = step_text(b, q, 3);
	parse_kind_status(sqlite3_column_text(q, 4), sqlite3_column_text(q, 6), s);
	s->cached = sqlite3_column_int(q, 5);
	s->start_s = column_real(q, 7);
	s->duration_s = column_real(q, 8);
	s->error = step_text(b, q, 9);
	s->first_line = (long)sqlite3_column_int64(q, 10); /* NULL reads as 0: unknown */
	s->end_line = (long)sqlite3_column_int64(q, 11);
	if (all) {
		s->vertex = sqlite3_column_int(q, 12);
		s->platform = step_text(b, q, 13);
		s->instruction = step_text(b, q, 14);
		s->output_lines = (long)sqlite3_column_int64(q, 15);
	}
}

/* The builds come in id order and the step table is keyed by (build_id,
 * seq), packed in its id: one cursor, its rows ending in build_id, walks
 * the table beside them and is already at the next build's steps. It
 * seeks only where the builds skip ids (a label or a name picked a few); a
 * seek for every build was 15% of a compare over 100k builds. A cursor
 * still busy (not done, not reset) holds a row not yet taken, a later
 * build's. */
static int read_steps(struct store_iter *it, struct bp_build *b, struct bp_error *err)
{
	sqlite3_stmt *q = it->steps;
	int id_col = sqlite3_column_count(q) - 1, rc = sqlite3_stmt_busy(q) ? SQLITE_ROW : SQLITE_DONE;

	if (!it->steps_of || b->id != it->steps_of + 1) {
		sqlite3_reset(q);
		sqlite3_bind_int64(q, 1, b->id);
		rc = sqlite3_step(q);
	}
	it->steps_of = b->id;
	for (; rc == SQLITE_ROW && sqlite3_column_int64(q, id_col) == b->id; rc = sqlite3_step(q)) {
		if (it->with_steps == STORE_STEPS_ALL || it->with_steps == STORE_STEPS_SHOWN)
			fill_step(b, q, bp_build_add_step(b), it->with_steps == STORE_STEPS_ALL);
		else
			fill_step_times(b, q, bp_build_add_step(b), it->with_steps == STORE_STEPS_NAMED);
	}
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return store_fail(it->st, err, "cannot read steps");
	return 0;
}

int store_iter_next(struct store_iter *it, struct bp_build *b, struct bp_error *err)
{
	sqlite3_stmt *q = it->builds;
	char *status;
	int rc;

	bp_build_init(b);
	rc = sqlite3_step(q);
	if (rc == SQLITE_DONE)
		return 0;
	if (rc != SQLITE_ROW)
		return store_fail(it->st, err, "cannot read builds");
	b->id = (long)sqlite3_column_int64(q, 0);
	b->name = column_text(q, 1);
	b->format = column_text(q, 2);
	status = column_text(q, 3);
	if (bp_build_status_parse(status, &b->status))
		BUG("schema CHECK let through build status '%s'", status);
	free(status);
	b->started_at = column_real(q, 4);
	b->wall_s = column_real(q, 5);
	b->image_ref = column_text(q, 6);
	b->image_id = column_text(q, 7);
	b->base_image = column_text(q, 8);
	b->error = column_text(q, 9);
	b->source_path = column_text(q, 10);
	b->image_size = sqlite3_column_type(q, 11) == SQLITE_NULL ? -1 : (long long)sqlite3_column_int64(q, 11);
	b->image_compressed = sqlite3_column_type(q, 12) == SQLITE_NULL ? -1 : (long long)sqlite3_column_int64(q, 12);
	if ((it->with_labels && read_labels(it, b, err)) ||
	    (it->with_steps && read_steps(it, b, err))) {
		bp_build_release(b);
		return -1;
	}
	return 1;
}

void store_iter_free(struct store_iter *it)
{
	if (!it)
		return;
	sqlite3_finalize(it->builds);
	sqlite3_finalize(it->steps);
	sqlite3_finalize(it->labels);
	free(it);
}

/* The first column of the first row of a query about a build name and a
 * build id (prepared once: asked once per build or name in a report): the
 * value, 0 when there is no row or it is NULL, -1 on error. */
static long name_id_query(struct bp_store *st, sqlite3_stmt **q, const char *sql, const char *name,
			  long id, const char *doing, struct bp_error *err)
{
	long value = 0;
	int rc;

	if (store_prepare(st, q, sql, err))
		return -1;
	sqlite3_bind_text(*q, 1, name, -1, SQLITE_STATIC);
	sqlite3_bind_int64(*q, 2, id);
	rc = sqlite3_step(*q);
	if (rc == SQLITE_ROW)
		value = (long)sqlite3_column_int64(*q, 0);
	sqlite3_reset(*q);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return store_fail(st, err, doing);
	return value;
}

long store_previous_build_id(struct bp_store *st, const char *name, long before_id, struct bp_error *err)
{
	return name_id_query(st, &st->previous_build, "SELECT max(id) FROM build WHERE name = ? AND id < ?",
			     name, before_id, "cannot find the previous build", err);
}

int store_previous_build(struct bp_store *st, const char *name, long before_id,
			 struct bp_build *b, struct bp_error *err)
{
	struct bp_selector sel;
	struct store_iter *it;
	long id;
	int rc;

	bp_build_init(b);
	if ((id = store_previous_build_id(st, name, before_id, err)) <= 0)
		return (int)id;
	bp_selector_init(&sel);
	sel.ranges = xcalloc(1, sizeof(*sel.ranges));
	sel.ranges[0].lo = sel.ranges[0].hi = id;
	sel.nranges = sel.alloc_ranges = 1;
	it = store_select_builds(st, &sel, STORE_STEPS_ALL, err);
	rc = it ? store_iter_next(it, b, err) : -1;
	store_iter_free(it);
	bp_selector_release(&sel);
	return rc;
}

int store_name_has_other_build(struct bp_store *st, const char *name, long id, struct bp_error *err)
{
	return (int)name_id_query(st, &st->other_build, "SELECT 1 FROM build WHERE name = ? AND id <> ? LIMIT 1",
				  name, id, "cannot look for other builds of the name", err);
}

int store_names_built_again(struct bp_store *st, void (*fn)(void *ctx, const char *name), void *ctx,
			    struct bp_error *err)
{
	sqlite3_stmt *q = NULL;
	int rc = SQLITE_ERROR;

	/* grouped as the build_name index has them: no sort */
	if (sqlite3_prepare_v2(st->db, "SELECT name FROM build GROUP BY name HAVING count(*) > 1", -1, &q,
			       NULL) == SQLITE_OK)
		while ((rc = sqlite3_step(q)) == SQLITE_ROW)
			fn(ctx, (const char *)sqlite3_column_text(q, 0));
	sqlite3_finalize(q);
	if (rc != SQLITE_DONE)
		return store_fail(st, err, "cannot read the build names");
	return 0;
}

/* the steps store_uncached_steps and store_uncached_steps_all read */
#define UNCACHED_STEP "s.kind = 'step' AND s.cached = 0 AND s.status = 'done' AND s.duration_s IS NOT NULL"

int store_uncached_steps(struct bp_store *st, const char *name,
			 void (*fn)(void *ctx, const char *stage, const char *text, double duration_s),
			 void *ctx, struct bp_error *err)
{
	sqlite3_stmt *q;
	int rc;

	/* once per build name in a report: prepared once */
	if (store_prepare(st, &st->uncached_steps,
			  "SELECT s.stage, s.text, s.duration_s FROM build b JOIN step s ON "
			  STORE_STEP_OF("s", "b.id") " WHERE b.name = ? AND " UNCACHED_STEP, err))
		return -1;
	q = st->uncached_steps;
	sqlite3_bind_text(q, 1, name, -1, SQLITE_STATIC);
	while ((rc = sqlite3_step(q)) == SQLITE_ROW)
		fn(ctx, (const char *)sqlite3_column_text(q, 0), (const char *)sqlite3_column_text(q, 1),
		   sqlite3_column_double(q, 2));
	sqlite3_reset(q);
	if (rc != SQLITE_DONE)
		return store_fail(st, err, "cannot read the step history");
	return 0;
}

int store_uncached_steps_all(struct bp_store *st, long from_id, long to_id,
			     void (*fn)(void *ctx, const char *name, const char *stage, const char *text,
					double duration_s),
			     void *ctx, struct bp_error *err)
{
	sqlite3_stmt *q = NULL;
	int rc = SQLITE_ERROR;

	/* once per report: not kept prepared; the steps in their table's order */
	if (sqlite3_prepare_v2(st->db,
			       "SELECT b.name, s.stage, s.text, s.duration_s FROM build b"
			       " JOIN step s ON s.build_id = b.id WHERE s.id >= " STORE_FIRST_STEP("?1")
			       " AND s.id < " STORE_FIRST_STEP("?2 + 1") " AND " UNCACHED_STEP " ORDER BY s.id",
			       -1, &q, NULL) == SQLITE_OK &&
	    sqlite3_bind_int64(q, 1, from_id) == SQLITE_OK && sqlite3_bind_int64(q, 2, to_id) == SQLITE_OK)
		while ((rc = sqlite3_step(q)) == SQLITE_ROW)
			fn(ctx, (const char *)sqlite3_column_text(q, 0), (const char *)sqlite3_column_text(q, 1),
			   (const char *)sqlite3_column_text(q, 2), sqlite3_column_double(q, 3));
	sqlite3_finalize(q);
	if (rc != SQLITE_DONE)
		return store_fail(st, err, "cannot read the step history");
	return 0;
}

int store_build_ids(struct bp_store *st, long *lo, long *hi, long *count, struct bp_error *err)
{
	sqlite3_stmt *q = NULL;
	int rc = -1;

	if (sqlite3_prepare_v2(st->db, "SELECT min(id), max(id), count(*) FROM build", -1, &q, NULL) ==
		    SQLITE_OK &&
	    sqlite3_step(q) == SQLITE_ROW) {
		*lo = (long)sqlite3_column_int64(q, 0); /* NULL, none: 0 */
		*hi = (long)sqlite3_column_int64(q, 1);
		*count = (long)sqlite3_column_int64(q, 2);
		rc = 0;
	}
	sqlite3_finalize(q);
	if (rc)
		return store_fail(st, err, "cannot count the builds");
	return 0;
}

long store_count_names(struct bp_store *st, long limit, struct bp_error *err)
{
	sqlite3_stmt *q = NULL;
	long n = -1;

	/* the name index read in order, up to limit + 1 names: a database of a
	 * name per build is not read through */
	if (sqlite3_prepare_v2(st->db,
			       "SELECT count(*) FROM (SELECT DISTINCT name FROM build ORDER BY name LIMIT ?)",
			       -1, &q, NULL) == SQLITE_OK) {
		sqlite3_bind_int64(q, 1, limit + 1);
		if (sqlite3_step(q) == SQLITE_ROW)
			n = (long)sqlite3_column_int64(q, 0);
	}
	sqlite3_finalize(q);
	if (n < 0)
		return store_fail(st, err, "cannot count the build names");
	return n;
}
