/*
 * store_images.c - images and layers: writing them, linking each to the
 * build that produced it, and reading them back for `images` and reports.
 */
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "store_internal.h"

static void bind_text(sqlite3_stmt *q, int i, const char *s)
{
	if (s)
		sqlite3_bind_text(q, i, s, -1, SQLITE_STATIC);
	else
		sqlite3_bind_null(q, i);
}

static void bind_size(sqlite3_stmt *q, int i, long long v)
{
	if (v >= 0)
		sqlite3_bind_int64(q, i, v);
	else
		sqlite3_bind_null(q, i);
}

int store_put_image(struct bp_store *st, long source_id, struct bp_image *img,
		    struct bp_error *err)
{
	sqlite3_stmt *q;
	size_t i;

	if (store_prepare(st, &st->put_image,
			  "INSERT INTO image(source_id, ref, image_id, digest, platform, media_type,"
			  " base_image, size_bytes, compressed_bytes, created_at)"
			  " VALUES (?,?,?,?,?,?,?,?,?,?)", err))
		return -1;
	q = st->put_image;
	sqlite3_bind_int64(q, 1, source_id);
	bind_text(q, 2, img->ref);
	bind_text(q, 3, img->image_id);
	bind_text(q, 4, img->digest);
	bind_text(q, 5, img->platform);
	bind_text(q, 6, img->media_type);
	bind_text(q, 7, img->base_image);
	bind_size(q, 8, img->size_bytes);
	bind_size(q, 9, img->compressed_bytes);
	if (isfinite(img->created_at))
		sqlite3_bind_double(q, 10, img->created_at);
	else
		sqlite3_bind_null(q, 10);
	if (sqlite3_step(q) != SQLITE_DONE)
		return store_fail(st, err, "cannot store an image");
	img->id = (long)sqlite3_last_insert_rowid(st->db);
	if (!st->images_since)
		st->images_since = img->id;
	if (store_prepare(st, &st->put_layer,
			  "INSERT INTO layer(image_id, seq, digest, size_bytes, compressed_bytes,"
			  " media_type, created_by, empty) VALUES (?,?,?,?,?,?,?,?)", err))
		return -1;
	q = st->put_layer;
	for (i = 0; i < img->nlayers; i++) {
		const struct bp_layer *l = &img->layers[i];
		sqlite3_reset(q);
		sqlite3_bind_int64(q, 1, img->id);
		sqlite3_bind_int64(q, 2, (sqlite3_int64)i);
		bind_text(q, 3, l->digest);
		bind_size(q, 4, l->size_bytes);
		bind_size(q, 5, l->compressed_bytes);
		bind_text(q, 6, l->media_type);
		bind_text(q, 7, l->created_by);
		sqlite3_bind_int(q, 8, l->empty);
		if (sqlite3_step(q) != SQLITE_DONE)
			return store_fail(st, err, "cannot store a layer");
	}
	return 0;
}

/* 1 when an image with an id is not linked to a build yet, 0 when none,
 * -1 on error: what the link UPDATE could set, told by the index on
 * build_id. */
static int unlinked_images(struct bp_store *st, struct bp_error *err)
{
	int rc;

	if (store_prepare(st, &st->unlinked_image,
			  "SELECT 1 FROM image WHERE build_id IS NULL AND image_id IS NOT NULL LIMIT 1", err))
		return -1;
	rc = sqlite3_step(st->unlinked_image);
	sqlite3_reset(st->unlinked_image);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return store_fail(st, err, "cannot look for unlinked images");
	return rc == SQLITE_ROW;
}

int store_link_images(struct bp_store *st, struct bp_error *err)
{
	/* Only an image or a build stored since the last run can make a new
	 * link, so the UPDATE looks at those images and the images of those
	 * builds, and sets only those a build made. Over every unlinked image,
	 * setting each anew (to NULL when no build made it), an ingest of
	 * image after image rewrote all the earlier ones: 3,000 took 5.4 s.
	 * Rows rolled back since leave the marks at or below the ids their
	 * place takes. */
	static const char sql[] =
		"UPDATE image AS i SET build_id = (SELECT min(b.id) FROM build b WHERE " STORE_BUILDS_OF_IMAGE ")"
		" WHERE i.id IN (SELECT id FROM image WHERE id >= ?1"
		"  UNION SELECT i.id FROM build b JOIN image i ON " STORE_IMAGES_OF_BUILD " WHERE b.id >= ?2)"
		" AND i.build_id IS NULL AND i.image_id IS NOT NULL"
		" AND EXISTS (SELECT 1 FROM build b WHERE " STORE_BUILDS_OF_IMAGE ")";
	int rc;

	if (!st->images_since && !st->builds_since)
		return 0;
	/* no image waiting for its build, as when images are never ingested
	 * or all are linked: nothing to do, and nothing stored since can be
	 * linked later. The UPDATE would build its temporary tables all the
	 * same, a tenth of storing a BuildKit log. */
	rc = unlinked_images(st, err);
	if (rc <= 0) {
		st->images_since = st->builds_since = 0;
		return rc;
	}
	if (store_prepare(st, &st->link_images, sql, err))
		return -1;
	sqlite3_bind_int64(st->link_images, 1, st->images_since ? st->images_since : LONG_MAX);
	sqlite3_bind_int64(st->link_images, 2, st->builds_since ? st->builds_since : LONG_MAX);
	rc = sqlite3_step(st->link_images);
	sqlite3_reset(st->link_images);
	if (rc != SQLITE_DONE)
		return store_fail(st, err, "cannot link images to builds");
	st->images_since = st->builds_since = 0;
	return 0;
}

struct store_image_iter {
	struct bp_store *st;
	sqlite3_stmt *images, *layers;
};

/* Images (with their layers, on next) whose rows match where, oldest
 * first; the caller binds where's parameters. */
static struct store_image_iter *select_images_where(struct bp_store *st, const char *where,
						    struct bp_error *err)
{
	struct store_image_iter *it = xcalloc(1, sizeof(*it));
	struct strbuf sql = STRBUF_INIT;

	it->st = st;
	strbuf_addf(&sql, "SELECT i.id, i.ref, i.image_id, i.digest, i.platform, i.media_type,"
			  " i.base_image, i.size_bytes, i.compressed_bytes, i.created_at, i.build_id, s.path"
			  " FROM image i JOIN source s ON s.id = i.source_id%s ORDER BY i.id", where);
	if (sqlite3_prepare_v2(st->db, sql.buf, -1, &it->images, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(st->db, "SELECT digest, size_bytes, compressed_bytes, media_type,"
				       " created_by, empty FROM layer WHERE image_id = ? ORDER BY seq",
			       -1, &it->layers, NULL) != SQLITE_OK) {
		store_fail(st, err, "cannot select images");
		store_image_iter_free(it);
		it = NULL;
	}
	strbuf_release(&sql);
	return it;
}

struct store_image_iter *store_select_images(struct bp_store *st, char *const refs[], size_t nrefs,
					     struct bp_error *err)
{
	struct store_image_iter *it;

	/* each ref is a prefix of a ref, digest or image id, or a store id */
	it = select_images_where(st, nrefs ? " WHERE EXISTS (SELECT 1 FROM json_each(?1) r WHERE"
					     " substr(i.ref, 1, length(r.value)) = r.value"
					     " OR substr(i.digest, 1, length(r.value)) = r.value"
					     " OR substr(i.image_id, 1, length(r.value)) = r.value"
					     " OR CAST(i.id AS TEXT) = r.value)" : "", err);
	if (it && nrefs)
		store_bind_strings(it->images, 1, refs, nrefs);
	return it;
}

static char *text_at(sqlite3_stmt *q, int i)
{
	const unsigned char *s = sqlite3_column_text(q, i);
	return s ? xstrdup((const char *)s) : NULL;
}

static long long size_at(sqlite3_stmt *q, int i)
{
	return sqlite3_column_type(q, i) == SQLITE_NULL ? -1 : (long long)sqlite3_column_int64(q, i);
}

int store_image_next(struct store_image_iter *it, struct bp_image *img, struct bp_error *err)
{
	sqlite3_stmt *q = it->images;
	int rc;

	bp_image_init(img);
	rc = sqlite3_step(q);
	if (rc == SQLITE_DONE)
		return 0;
	if (rc != SQLITE_ROW)
		return store_fail(it->st, err, "cannot read images");
	img->id = (long)sqlite3_column_int64(q, 0);
	img->ref = text_at(q, 1);
	img->image_id = text_at(q, 2);
	img->digest = text_at(q, 3);
	img->platform = text_at(q, 4);
	img->media_type = text_at(q, 5);
	img->base_image = text_at(q, 6);
	img->size_bytes = size_at(q, 7);
	img->compressed_bytes = size_at(q, 8);
	img->created_at = sqlite3_column_type(q, 9) == SQLITE_NULL ? NAN : sqlite3_column_double(q, 9);
	img->build_id = (long)sqlite3_column_int64(q, 10);
	img->source_path = text_at(q, 11);
	sqlite3_reset(it->layers);
	sqlite3_bind_int64(it->layers, 1, img->id);
	while ((rc = sqlite3_step(it->layers)) == SQLITE_ROW) {
		struct bp_layer *l = bp_image_add_layer(img);
		l->digest = text_at(it->layers, 0);
		l->size_bytes = size_at(it->layers, 1);
		l->compressed_bytes = size_at(it->layers, 2);
		l->media_type = text_at(it->layers, 3);
		l->created_by = text_at(it->layers, 4);
		l->empty = sqlite3_column_int(it->layers, 5);
	}
	if (rc != SQLITE_DONE) {
		bp_image_release(img);
		return store_fail(it->st, err, "cannot read layers");
	}
	return 1;
}

void store_image_iter_free(struct store_image_iter *it)
{
	if (!it)
		return;
	sqlite3_finalize(it->images);
	sqlite3_finalize(it->layers);
	free(it);
}

int store_build_image(struct bp_store *st, const struct bp_build *b, struct bp_image *img,
		      struct bp_error *err)
{
	/* the candidates with how many layers know their command; the best is
	 * picked here: an ORDER BY made SQLite build a sorter for every build
	 * of a report (its allocations were a fifth of the report's time) */
	static const char sql[] =
		"SELECT i.id, (SELECT count(*) FROM layer l WHERE l.image_id = i.id AND l.created_by IS NOT NULL)"
		" FROM build b, image i WHERE b.id = ? AND " STORE_IMAGES_OF_BUILD
		" AND " STORE_ANY_IMAGE;
	struct store_image_iter *it;
	long id = 0, best = -1;
	int rc;

	bp_image_init(img);
	/* once per build in a report: prepared once (it was 38% of report) */
	if (store_prepare(st, &st->build_image, sql, err))
		return -1;
	sqlite3_bind_int64(st->build_image, 1, b->id);
	while ((rc = sqlite3_step(st->build_image)) == SQLITE_ROW) {
		long cand = (long)sqlite3_column_int64(st->build_image, 0);
		long known = (long)sqlite3_column_int64(st->build_image, 1);
		if (known > best || (known == best && cand > id)) {
			best = known;
			id = cand;
		}
	}
	sqlite3_reset(st->build_image);
	if (rc != SQLITE_DONE)
		return store_fail(st, err, "cannot find a build's image");
	if (!id)
		return 0;
	/* by its key: as a ref, the id would be matched against every image's
	 * ref, digest and image id, a scan of the images per build */
	it = select_images_where(st, " WHERE i.id = ?", err);
	if (!it)
		return -1;
	sqlite3_bind_int64(it->images, 1, id);
	rc = store_image_next(it, img, err);
	store_image_iter_free(it);
	return rc;
}
