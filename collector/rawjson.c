/*
 * rawjson.c - parser for BuildKit's --progress=rawjson: one SolveStatus JSON
 * object per line ({"vertexes":[...],"statuses":[...],"logs":[...]}), the
 * same vertex sent many times as it starts, completes or fails. Unlike the
 * plain printer it carries real start/end times, so parallel stages show as
 * overlapping intervals. See ../shared/corpus/FORMAT-NOTES.md sections 1-2.
 */
#include <jansson.h>
#include <math.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "buildprof/collector.h"
#include "vertex.h"

#define MAX_ERROR 4096
#define MAX_VERTICES 1000000

struct rvertex {
	char *digest;
	struct bp_step step;
	double first_start;  /* earliest "started", NAN until seen */
	double int_start;    /* the interval being summed */
	double int_end;      /* its end so far, NAN while running */
	double busy;         /* sum of finished intervals */
	int completed;       /* the last update had "completed" */
};

struct bp_parser {
	const struct bp_sink *sink;
	struct rvertex *v;
	size_t nv, alloc_v;
	struct bp_hash_index by_digest; /* v by digest */
	char *image_id, *image_ref;
	int any;
};

static struct bp_parser *rj_new(const struct bp_sink *sink)
{
	struct bp_parser *p = xcalloc(1, sizeof(*p));

	p->sink = sink;
	return p;
}

static void reset(struct bp_parser *p)
{
	size_t i;

	for (i = 0; i < p->nv; i++) {
		free(p->v[i].digest);
		bp_step_release(&p->v[i].step);
	}
	free(p->v);
	bp_hash_index_release(&p->by_digest);
	free(p->image_id);
	free(p->image_ref);
	p->v = NULL;
	p->nv = p->alloc_v = 0;
	p->image_id = p->image_ref = NULL;
	p->any = 0;
}

static void rj_free(struct bp_parser *p)
{
	if (!p)
		return;
	reset(p);
	free(p);
}

/* The vertex of a digest, in first-seen order; found through a hash: a
 * search of all before it, per update, made a log of 20,000 vertices take
 * seconds. */
static struct rvertex *find(struct bp_parser *p, const char *digest, int create)
{
	uint64_t hash = bp_hash_str(BP_HASH_INIT, digest);
	long pos = bp_hash_index_find_key(&p->by_digest, hash, digest, p->v, sizeof(*p->v),
					  offsetof(struct rvertex, digest));
	struct rvertex *v;

	if (pos >= 0)
		return &p->v[pos];
	if (!create || p->nv >= MAX_VERTICES)
		return NULL;
	BP_GROW(p->v, p->nv + 1, p->alloc_v);
	v = &p->v[p->nv++];
	memset(v, 0, sizeof(*v));
	v->digest = xstrdup(digest);
	bp_hash_index_add(&p->by_digest, p->nv - 1, hash, p->nv);
	bp_step_init(&v->step);
	v->step.vertex = (int)p->nv;
	v->step.kind = BP_KIND_INTERNAL;
	v->first_start = v->int_start = v->int_end = NAN;
	return v;
}

static double time_of(json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));
	double t;

	return s && !bp_parse_time(s, &t) ? t : NAN;
}

/* One update of a vertex: intervals are merged the way BuildKit >= 0.10's
 * display does (a new start after a completion opens a new interval). */
static void vertex_update(struct bp_parser *p, json_t *jv)
{
	const char *digest = json_string_value(json_object_get(jv, "digest"));
	const char *name = json_string_value(json_object_get(jv, "name"));
	const char *err = json_string_value(json_object_get(jv, "error"));
	double started = time_of(jv, "started"), completed = time_of(jv, "completed");
	struct rvertex *v;

	if (!digest || !(v = find(p, digest, 1)))
		return;
	if (name && !v->step.text) {
		vertex_identify(&v->step, name);
		free(v->step.digest);
		v->step.digest = xstrdup(digest);
	}
	if (!isnan(started)) {
		if (isnan(v->first_start) || started < v->first_start)
			v->first_start = started;
		if (isnan(v->int_start) || (!isnan(v->int_end) && started > v->int_start)) {
			if (!isnan(v->int_end) && !isnan(v->int_start) && v->int_end >= v->int_start)
				v->busy += v->int_end - v->int_start;
			v->int_start = started;
			v->int_end = NAN;
		}
	}
	if (!isnan(completed) && !isnan(v->int_start) && completed >= v->int_start)
		v->int_end = completed;
	v->completed = !isnan(completed);
	if (json_is_true(json_object_get(jv, "cached"))) {
		v->step.cached = 1;
		v->step.status = BP_STEP_CACHED;
	}
	if (err && *err) {
		free(v->step.error);
		v->step.error = xstrndup(err, MAX_ERROR);
		v->step.status = strstr(err, "context canceled") ? BP_STEP_CANCELED : BP_STEP_ERROR;
	} else if (v->completed && !v->step.cached) {
		v->step.status = BP_STEP_DONE;
	}
}

/* The value of a base64 digit, -1 for any other byte. */
static int base64_value(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	return c == '+' ? 62 : c == '/' ? 63 : -1;
}

static size_t count_lines(const char *b64)
{
	/* Log data is base64; newlines in the decoded bytes are what we count.
	 * Decoding in place would need a buffer: count from 4-char groups. */
	size_t n = 0, i, len = strlen(b64);
	unsigned int acc = 0;
	int bits = 0;

	for (i = 0; i < len; i++) {
		int d = base64_value((unsigned char)b64[i]);
		if (d < 0)
			continue;
		acc = (acc << 6) | (unsigned int)d;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			n += ((acc >> bits) & 0xff) == '\n';
		}
	}
	return n;
}

static int rj_line(struct bp_parser *p, const struct bp_line *line, struct bp_error *err)
{
	json_error_t jerr;
	json_t *o, *arr, *el;
	size_t i;

	if (!line->len)
		return 0;
	o = json_loadb(line->text, line->len, JSON_REJECT_DUPLICATES, &jerr);
	if (!o || !json_is_object(o)) {
		json_decref(o);
		return bp_error_set(err, "", line->lineno, "malformed SolveStatus JSON: %s",
				    o ? "not an object" : jerr.text);
	}
	p->any = 1;
	json_array_foreach((arr = json_object_get(o, "vertexes")), i, el)
		if (json_is_object(el))
			vertex_update(p, el);
	json_array_foreach((arr = json_object_get(o, "statuses")), i, el) {
		const char *id = json_string_value(json_object_get(el, "id"));
		const char *vd = json_string_value(json_object_get(el, "vertex"));
		struct rvertex *v = vd ? find(p, vd, 0) : NULL;
		if (id && (!v || v->step.kind == BP_KIND_EXPORT))
			vertex_export_status(id, &p->image_id, &p->image_ref);
	}
	json_array_foreach((arr = json_object_get(o, "logs")), i, el) {
		const char *vd = json_string_value(json_object_get(el, "vertex"));
		const char *data = json_string_value(json_object_get(el, "data"));
		struct rvertex *v = vd ? find(p, vd, 1) : NULL;
		if (v && data)
			v->step.output_lines += (long)count_lines(data);
	}
	json_decref(o);
	return 0;
}

static int rj_finish(struct bp_parser *p, struct bp_error *err)
{
	struct bp_build b;
	double t0 = NAN, t1 = NAN;
	int failed = 0, incomplete = 0, r;
	size_t i;

	if (!p->any)
		return 0;
	bp_build_init(&b);
	b.format = xstrdup("rawjson");
	for (i = 0; i < p->nv; i++) {
		struct rvertex *v = &p->v[i];
		if (!isnan(v->first_start) && (isnan(t0) || v->first_start < t0))
			t0 = v->first_start;
		if (!isnan(v->int_end) && (isnan(t1) || v->int_end > t1))
			t1 = v->int_end;
	}
	for (i = 0; i < p->nv; i++) {
		struct rvertex *v = &p->v[i];
		struct bp_step *s = bp_build_add_step(&b);
		*s = v->step; /* moved */
		bp_step_init(&v->step);
		if (!s->text) {
			char buf[128];
			snprintf(buf, sizeof(buf), "%.80s (name not in the log)", v->digest);
			s->text = xstrdup(buf);
		}
		if (!isnan(v->int_end) && !isnan(v->int_start) && v->int_end >= v->int_start)
			v->busy += v->int_end - v->int_start;
		if (v->completed && !isnan(v->int_start))
			s->duration_s = v->busy;
		if (!isnan(v->first_start) && !isnan(t0))
			s->start_s = v->first_start - t0;
		if (!v->completed && s->status != BP_STEP_ERROR && s->status != BP_STEP_CANCELED)
			s->status = s->cached ? BP_STEP_CACHED : BP_STEP_INCOMPLETE;
		if (s->status == BP_STEP_ERROR) {
			failed = 1;
			if (!b.error)
				b.error = xstrdup_or_null(s->error);
		}
		if (s->status == BP_STEP_INCOMPLETE || s->status == BP_STEP_CANCELED)
			incomplete = 1;
	}
	b.status = failed ? BP_BUILD_FAILED
		 : incomplete || !vertex_build_shows_end(&b) ? BP_BUILD_INCOMPLETE : BP_BUILD_SUCCESS;
	b.started_at = t0;
	if (!isnan(t0) && !isnan(t1) && t1 >= t0)
		b.wall_s = t1 - t0;
	b.image_id = p->image_id;
	b.image_ref = p->image_ref;
	p->image_id = p->image_ref = NULL;
	b.base_image = vertex_base_image(&b);
	r = p->sink->build(p->sink->ctx, &b, err);
	bp_build_release(&b);
	reset(p);
	return r;
}

static int rj_detect(const struct bp_line *lines, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		const char *s = lines[i].text;
		if (!lines[i].len)
			continue;
		/* the first non-empty line decides */
		if (s[0] == '{' && (strstr(s, "\"vertexes\"") || strstr(s, "\"statuses\"") || strstr(s, "\"logs\"")))
			return 1000;
		return 0;
	}
	return 0;
}

const struct bp_format collector_rawjson_format = {
	.name = "rawjson",
	.description = "BuildKit --progress=rawjson (SolveStatus JSON lines)",
	.detect = rj_detect,
	.parser_new = rj_new,
	.parser_line = rj_line,
	.parser_finish = rj_finish,
	.parser_free = rj_free,
};
