/*
 * images.c - parsers for what describes an image rather than a build:
 * `docker image inspect` (a JSON array), `docker history --no-trunc --format
 * '{{json .}}'` (one object per line, or pretty-printed and concatenated),
 * and registry documents - Docker v2 schema 2 and OCI manifests, manifest
 * lists / OCI indexes, schema 1 manifests, image config blobs, and `docker
 * manifest inspect --verbose` output. See FORMAT-NOTES.md section 9.
 */
#include <ctype.h>
#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "buildprof/collector.h"

#define MAX_ITEMS 100000

static char *str_or_null(json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));
	char *r;

	if (!s)
		return NULL;
	r = xstrdup(s);
	bp_redact(r); /* created_by holds build commands: credentials included */
	return r;
}

/* A JSON number, or a string holding a byte count ("3965955", or docker's
 * human "1.23MB"/"5.6kB"/"0B"); -1 when it is neither. */
static long long byte_count(json_t *v)
{
	const char *s;
	char *end;
	double d;

	if (json_is_integer(v))
		return json_integer_value(v) >= 0 ? (long long)json_integer_value(v) : -1;
	if (json_is_real(v))
		return json_real_value(v) >= 0 && json_real_value(v) < 9e18 ? (long long)json_real_value(v) : -1;
	if (!(s = json_string_value(v)) || !*s)
		return -1;
	d = strtod(s, &end);
	if (end == s || !isfinite(d) || d < 0 || d > 9e18)
		return -1;
	if (!*end || !strcmp(end, "B"))
		return (long long)d;
	if (!strcmp(end, "kB"))
		return (long long)(d * 1e3);
	if (!strcmp(end, "MB"))
		return (long long)(d * 1e6);
	if (!strcmp(end, "GB"))
		return (long long)(d * 1e9);
	if (!strcmp(end, "TB"))
		return (long long)(d * 1e12);
	return -1;
}

static double time_of(json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));
	double t;

	return s && !bp_parse_time(s, &t) ? t : NAN;
}

static int emit(const struct bp_sink *sink, struct bp_image *img, struct bp_error *err)
{
	int r = sink->image(sink->ctx, img, err);

	bp_image_release(img);
	return r;
}

/* ---- docker image inspect ---- */

static int inspect_detect(const char *data, size_t len)
{
	const char *p = data;

	while (p < data + len && isspace((unsigned char)*p))
		p++;
	return p < data + len && *p == '[' && memmem(data, len, "\"RootFS\"", 8) ? 100 : 0;
}

static int inspect_parse(const char *data, size_t len, const struct bp_sink *sink,
			 struct bp_error *err)
{
	json_error_t jerr;
	json_t *root = json_loadb(data, len, 0, &jerr), *o, *v;
	size_t i, k;
	int r = 0;

	if (!root || !json_is_array(root)) {
		json_decref(root);
		return bp_error_set(err, NULL, root ? 1 : jerr.line,
				    "malformed docker image inspect JSON: %s",
				    root ? "expected an array" : jerr.text);
	}
	json_array_foreach(root, i, o) {
		struct bp_image img;
		const char *arch, *os;
		char buf[128];
		if (!json_is_object(o) || i >= MAX_ITEMS)
			continue;
		bp_image_init(&img);
		img.image_id = str_or_null(o, "Id");
		v = json_array_get(json_object_get(o, "RepoTags"), 0);
		if (json_string_value(v))
			img.ref = xstrdup(json_string_value(v));
		v = json_array_get(json_object_get(o, "RepoDigests"), 0);
		if (json_string_value(v) && strchr(json_string_value(v), '@')) {
			img.digest = xstrdup(strchr(json_string_value(v), '@') + 1);
			if (!img.ref)
				img.ref = xstrndup(json_string_value(v),
						   (size_t)(strchr(json_string_value(v), '@') - json_string_value(v)));
		}
		img.size_bytes = byte_count(json_object_get(o, "Size"));
		img.created_at = time_of(o, "Created");
		arch = json_string_value(json_object_get(o, "Architecture"));
		os = json_string_value(json_object_get(o, "Os"));
		if (arch && os) {
			snprintf(buf, sizeof(buf), "%s/%s", os, arch);
			img.platform = xstrdup(buf);
		}
		json_array_foreach(json_object_get(json_object_get(o, "RootFS"), "Layers"), k, v) {
			if (json_string_value(v) && k < MAX_ITEMS)
				bp_image_add_layer(&img)->digest = xstrdup(json_string_value(v));
		}
		if ((r = emit(sink, &img, err)))
			break;
	}
	json_decref(root);
	return r;
}

/* ---- docker history --format '{{json .}}' ---- */

static int history_detect(const char *data, size_t len)
{
	const char *p = data;

	while (p < data + len && isspace((unsigned char)*p))
		p++;
	return p < data + len && *p == '{' && memmem(data, len, "\"CreatedBy\"", 11) ? 100 : 0;
}

static int history_parse(const char *data, size_t len, const struct bp_sink *sink,
			 struct bp_error *err)
{
	struct bp_image img;
	json_t **entries = NULL;
	size_t n = 0, alloc = 0, off = 0, i;
	long long total = 0;
	int r = 0, known = 1;

	/* one object per line, or several pretty-printed objects one after another */
	while (off < len) {
		json_error_t jerr;
		json_t *o;
		while (off < len && isspace((unsigned char)data[off]))
			off++;
		if (off == len)
			break;
		o = json_loadb(data + off, len - off, JSON_DISABLE_EOF_CHECK, &jerr);
		if (!o || !json_is_object(o) || n >= MAX_ITEMS) {
			long line = 1;
			for (i = 0; i < off; i++)
				line += data[i] == '\n';
			json_decref(o);
			r = bp_error_set(err, NULL, o ? line : line + jerr.line - 1,
					 "malformed docker history JSON: %s", o ? "expected an object" : jerr.text);
			goto out;
		}
		off += jerr.position;
		BP_GROW(entries, n + 1, alloc);
		entries[n++] = o;
	}
	bp_image_init(&img);
	/* docker history lists the newest layer first */
	for (i = n; i > 0; i--) {
		json_t *o = entries[i - 1];
		struct bp_layer *l = bp_image_add_layer(&img);
		const char *id = json_string_value(json_object_get(o, "ID"));
		l->created_by = str_or_null(o, "CreatedBy");
		l->size_bytes = byte_count(json_object_get(o, "Size"));
		l->empty = l->size_bytes == 0;
		if (l->size_bytes < 0)
			known = 0;
		else
			total += l->size_bytes;
		if (id && strcmp(id, "<missing>"))
			l->digest = xstrdup(id);
	}
	if (n) {
		const char *id = json_string_value(json_object_get(entries[0], "ID"));
		if (id && strcmp(id, "<missing>"))
			img.image_id = xstrdup(id);
	}
	img.size_bytes = known && n ? total : -1;
	r = n ? emit(sink, &img, err) : bp_error_set(err, NULL, 1, "no history entries");
	if (!n)
		bp_image_release(&img);
out:
	for (i = 0; i < n; i++)
		json_decref(entries[i]);
	free(entries);
	return r;
}

/* ---- registry manifests, indexes and image configs ---- */

static int manifest_detect(const char *data, size_t len)
{
	if (memmem(data, len, "\"schemaVersion\"", 15) || memmem(data, len, "\"SchemaV2Manifest\"", 18) ||
	    memmem(data, len, "\"OCIManifest\"", 13))
		return 100;
	if (memmem(data, len, "\"rootfs\"", 8) && memmem(data, len, "\"diff_ids\"", 10))
		return 90; /* an image config blob */
	return 0;
}

static char *sha256_of(const char *data, size_t len)
{
	struct bp_sha256 ctx;
	char hex[65], out[80];

	bp_sha256_init(&ctx);
	bp_sha256_update(&ctx, data, len);
	bp_sha256_final_hex(&ctx, hex);
	snprintf(out, sizeof(out), "sha256:%s", hex);
	return xstrdup(out);
}

static char *platform_of(json_t *p)
{
	const char *os = json_string_value(json_object_get(p, "os"));
	const char *arch = json_string_value(json_object_get(p, "architecture"));
	const char *variant = json_string_value(json_object_get(p, "variant"));
	char buf[160];

	if (!os || !arch)
		return NULL;
	snprintf(buf, sizeof(buf), "%s/%s%s%s", os, arch, variant ? "/" : "", variant ? variant : "");
	return xstrdup(buf);
}

/* A v2 schema 2 or OCI image manifest into img. */
static void read_manifest(json_t *m, struct bp_image *img)
{
	json_t *l;
	size_t i;
	long long total = 0;
	int known = 1;

	img->media_type = img->media_type ? img->media_type : str_or_null(m, "mediaType");
	if (!img->image_id)
		img->image_id = str_or_null(json_object_get(m, "config"), "digest");
	json_array_foreach(json_object_get(m, "layers"), i, l) {
		struct bp_layer *layer;
		if (i >= MAX_ITEMS)
			break;
		layer = bp_image_add_layer(img);
		layer->digest = str_or_null(l, "digest");
		layer->media_type = str_or_null(l, "mediaType");
		layer->compressed_bytes = byte_count(json_object_get(l, "size"));
		if (layer->compressed_bytes < 0)
			known = 0;
		else
			total += layer->compressed_bytes;
	}
	img->compressed_bytes = known ? total : -1;
}

/* An image config blob: history (created_by, empty_layer) matched to diff_ids. */
static void read_config(json_t *c, struct bp_image *img)
{
	json_t *diff_ids = json_object_get(json_object_get(c, "rootfs"), "diff_ids"), *h;
	size_t i, d = 0;
	char buf[160];
	const char *os = json_string_value(json_object_get(c, "os"));
	const char *arch = json_string_value(json_object_get(c, "architecture"));

	img->created_at = time_of(c, "created");
	if (os && arch && !img->platform) {
		snprintf(buf, sizeof(buf), "%s/%s", os, arch);
		img->platform = xstrdup(buf);
	}
	json_array_foreach(json_object_get(c, "history"), i, h) {
		struct bp_layer *l;
		if (i >= MAX_ITEMS)
			break;
		l = bp_image_add_layer(img);
		l->created_by = str_or_null(h, "created_by");
		l->empty = json_is_true(json_object_get(h, "empty_layer"));
		if (!l->empty && json_string_value(json_array_get(diff_ids, d)))
			l->digest = xstrdup(json_string_value(json_array_get(diff_ids, d++)));
	}
}

/* Schema 1: fsLayers (newest first) and v1Compatibility strings. */
static void read_schema1(json_t *m, struct bp_image *img)
{
	json_t *fs = json_object_get(m, "fsLayers"), *hist = json_object_get(m, "history");
	size_t n = json_array_size(fs), i;
	const char *name = json_string_value(json_object_get(m, "name"));
	const char *tag = json_string_value(json_object_get(m, "tag"));
	char buf[512];

	if (name && !img->ref) {
		snprintf(buf, sizeof(buf), "%s%s%s", name, tag ? ":" : "", tag ? tag : "");
		img->ref = xstrdup(buf);
	}
	img->media_type = xstrdup("application/vnd.docker.distribution.manifest.v1+prettyjws");
	for (i = n; i > 0 && n - i < MAX_ITEMS; i--) {
		struct bp_layer *l = bp_image_add_layer(img);
		json_t *v1 = NULL, *cmd;
		const char *compat = json_string_value(json_object_get(json_array_get(hist, i - 1), "v1Compatibility"));
		l->digest = str_or_null(json_array_get(fs, i - 1), "blobSum");
		if (compat)
			v1 = json_loads(compat, 0, NULL);
		cmd = json_object_get(json_object_get(v1, "container_config"), "Cmd");
		if (json_is_array(cmd)) {
			struct strbuf sb = STRBUF_INIT;
			size_t k;
			json_t *w;
			json_array_foreach(cmd, k, w)
				if (json_string_value(w))
					strbuf_addf(&sb, "%s%s", sb.len ? " " : "", json_string_value(w));
			l->created_by = strbuf_detach(&sb, NULL);
		}
		l->size_bytes = byte_count(json_object_get(v1, "Size"));
		if (i == n && !img->image_id && json_string_value(json_object_get(v1, "id")))
			img->image_id = xstrdup(json_string_value(json_object_get(v1, "id")));
		json_decref(v1);
	}
}

static int manifest_parse(const char *data, size_t len, const struct bp_sink *sink,
			  struct bp_error *err)
{
	json_error_t jerr;
	json_t *root = json_loadb(data, len, 0, &jerr), *inner, *e;
	struct bp_image img;
	const char *mt;
	size_t i;
	int r = 0;

	if (!root || !json_is_object(root)) {
		json_decref(root);
		return bp_error_set(err, NULL, root ? 1 : jerr.line, "malformed manifest JSON: %s",
				    root ? "expected an object" : jerr.text);
	}
	bp_image_init(&img);
	/* docker manifest inspect --verbose wraps the manifest */
	inner = json_object_get(root, "SchemaV2Manifest");
	if (!inner)
		inner = json_object_get(root, "OCIManifest");
	if (inner) {
		img.ref = str_or_null(root, "Ref");
		img.digest = str_or_null(root, "Digest");
		img.platform = platform_of(json_object_get(json_object_get(root, "Descriptor"), "platform"));
		read_manifest(inner, &img);
		r = emit(sink, &img, err);
		goto out;
	}
	mt = json_string_value(json_object_get(root, "mediaType"));
	if (json_is_array(json_object_get(root, "manifests"))) {
		/* an index: one entry per platform, each only a pointer to a manifest */
		json_array_foreach(json_object_get(root, "manifests"), i, e) {
			if (i >= MAX_ITEMS)
				break;
			bp_image_init(&img);
			img.digest = str_or_null(e, "digest");
			img.media_type = str_or_null(e, "mediaType");
			img.platform = platform_of(json_object_get(e, "platform"));
			if ((r = emit(sink, &img, err)))
				break;
		}
		bp_image_release(&img);
		goto out;
	}
	if (json_is_array(json_object_get(root, "fsLayers"))) {
		read_schema1(root, &img);
		r = emit(sink, &img, err);
		goto out;
	}
	if (json_is_object(json_object_get(root, "rootfs"))) {
		img.image_id = sha256_of(data, len); /* a config's digest is its image id */
		read_config(root, &img);
		r = emit(sink, &img, err);
		goto out;
	}
	if (json_is_array(json_object_get(root, "layers")) && json_is_object(json_object_get(root, "config"))) {
		img.digest = sha256_of(data, len); /* what the registry would call it */
		read_manifest(root, &img);
		r = emit(sink, &img, err);
		goto out;
	}
	bp_image_release(&img);
	r = bp_error_set(err, NULL, 1, "unknown manifest media type '%s'", mt ? mt : "(none)");
out:
	json_decref(root);
	return r;
}

const struct bp_format collector_inspect_format = {
	.name = "inspect",
	.description = "docker image inspect JSON",
	.parse_document = inspect_parse,
	.detect_document = inspect_detect,
};

const struct bp_format collector_history_format = {
	.name = "history",
	.description = "docker history --no-trunc --format '{{json .}}'",
	.parse_document = history_parse,
	.detect_document = history_detect,
};

const struct bp_format collector_manifest_format = {
	.name = "manifest",
	.description = "registry manifests, indexes and image configs (Docker v2, OCI)",
	.parse_document = manifest_parse,
	.detect_document = manifest_detect,
};
