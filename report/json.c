/*
 * json.c - the machine report, schema "buildprof.report/1" (DESIGN.md,
 * Outputs). Streamed: one compact object per build per line inside the
 * document, so a report over many builds does not build one tree in memory.
 * Unknown values are null, never invented.
 */
#include <jansson.h>
#include <math.h>
#include <stdlib.h>

#include "buildprof/report.h"

#define REAL_PRECISION 12
#define DUMP_FLAGS (JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(REAL_PRECISION))

struct report_state {
	struct report_options opt;
	long builds;
	json_t *pipelines; /* kept until end: they follow the summary in the document */
	struct strbuf line; /* the build being written */
};

static json_t *real_or_null(double v)
{
	return isfinite(v) ? json_real(v) : json_null();
}

/* The field writers take their key (with its separator and colon) as a
 * literal, through the macros below, so its length is known where it is
 * written: the steps' sixteen keys cost a strlen each, 29M of them in a
 * JSON report over 100k builds. */
static void key_null(struct strbuf *sb, const char *key, size_t keylen)
{
	strbuf_add(sb, key, keylen);
	strbuf_add(sb, "null", 4);
}

/* key and a string, or null */
static void field_string_n(struct strbuf *sb, const char *key, size_t keylen, const char *s)
{
	if (!s) {
		key_null(sb, key, keylen);
		return;
	}
	strbuf_add(sb, key, keylen);
	strbuf_addch(sb, '"');
	strbuf_add_json_escaped(sb, s);
	strbuf_addch(sb, '"');
}

static void field_real_n(struct strbuf *sb, const char *key, size_t keylen, double v)
{
	if (!isfinite(v)) {
		key_null(sb, key, keylen);
		return;
	}
	strbuf_add(sb, key, keylen);
	strbuf_add_json_real(sb, v, REAL_PRECISION);
}

static void field_int_n(struct strbuf *sb, const char *key, size_t keylen, long long v, int known)
{
	if (!known) {
		key_null(sb, key, keylen);
		return;
	}
	strbuf_add(sb, key, keylen);
	strbuf_add_int(sb, v);
}

static void field_bool_n(struct strbuf *sb, const char *key, size_t keylen, int v)
{
	strbuf_add(sb, key, keylen);
	if (v)
		strbuf_add(sb, "true", 4);
	else
		strbuf_add(sb, "false", 5);
}

/* "" key "": a key that is not a literal does not compile */
#define field_string(sb, key, s) field_string_n(sb, "" key, sizeof(key) - 1, s)
#define field_real(sb, key, v) field_real_n(sb, "" key, sizeof(key) - 1, v)
#define field_int(sb, key, v, known) field_int_n(sb, "" key, sizeof(key) - 1, v, known)
#define field_bool(sb, key, v) field_bool_n(sb, "" key, sizeof(key) - 1, v)

/* One step, byte for byte as jansson writes it with DUMP_FLAGS (keys in
 * this order). Steps are nine tenths of a JSON report, and a jansson object
 * for each, built and dumped, was half of its time. */
static void step_json(struct strbuf *sb, const struct bp_step *s, double exclusive, int critical)
{
	field_int(sb, "{\"vertex\":", s->vertex, s->vertex != 0);
	field_string(sb, ",\"stage\":", s->stage);
	field_string(sb, ",\"platform\":", s->platform);
	field_int(sb, ",\"index\":", s->index, s->count != 0);
	field_int(sb, ",\"count\":", s->count, s->count != 0);
	field_string(sb, ",\"kind\":", bp_step_kind_name(s->kind));
	field_string(sb, ",\"instruction\":", s->instruction);
	field_string(sb, ",\"text\":", s->text);
	field_bool(sb, ",\"cached\":", s->cached);
	field_string(sb, ",\"status\":", bp_step_status_name(s->status));
	field_real(sb, ",\"start_s\":", s->start_s);
	field_real(sb, ",\"duration_s\":", s->duration_s);
	field_real(sb, ",\"exclusive_s\":", exclusive);
	field_bool(sb, ",\"critical\":", critical);
	field_int(sb, ",\"output_lines\":", s->output_lines, 1);
	field_string(sb, ",\"error\":", s->error);
	strbuf_addch(sb, '}');
}

static json_t *failed_step_json(const struct bp_build *b, long i)
{
	json_t *o;
	struct strbuf label = STRBUF_INIT;

	if (i < 0)
		return json_null();
	report_step_label(&label, b->steps[i].stage, b->steps[i].index, b->steps[i].count,
			  b->steps[i].text);
	o = json_object();
	json_object_set_new(o, "vertex", b->steps[i].vertex ? json_integer(b->steps[i].vertex) : json_null());
	json_object_set_new(o, "name", json_string(label.buf));
	json_object_set_new(o, "error", report_json_string(b->steps[i].error));
	strbuf_release(&label);
	return o;
}

static struct report_state *json_begin(const struct report_options *opt)
{
	struct report_state *st = xcalloc(1, sizeof(*st));

	strbuf_init(&st->line, 0);
	st->opt = *opt;
	st->pipelines = json_array();
	fputs("{\"schema\":\"buildprof.report/1\",\"builds\":[", opt->out);
	return st;
}

static json_t *cache_json(const struct bp_build *b, const struct analyzer_cache *c)
{
	json_t *arr = json_array();
	size_t i;

	for (i = 0; i < c->nbreakers; i++) {
		const struct analyzer_breaker *br = &c->breakers[i];
		const struct bp_step *s = &b->steps[br->step];
		struct strbuf label = STRBUF_INIT;
		json_t *o = json_object();
		report_step_label(&label, s->stage, s->index, s->count, s->text);
		json_object_set_new(o, "stage", report_json_string(s->stage));
		json_object_set_new(o, "step", json_string(label.buf));
		json_object_set_new(o, "vertex", s->vertex ? json_integer(s->vertex) : json_null());
		json_object_set_new(o, "duration_s", real_or_null(s->duration_s));
		json_object_set_new(o, "invalidated_steps", json_integer((json_int_t)br->ninvalidated));
		json_object_set_new(o, "invalidated_s", real_or_null(br->invalidated_s));
		json_array_append_new(arr, o);
		strbuf_release(&label);
	}
	return arr;
}

/* key, then v as jansson writes it (v may be null); takes v's reference */
static void field_json(struct strbuf *sb, const char *key, json_t *v)
{
	strbuf_addstr(sb, key);
	report_json_append(sb, v, DUMP_FLAGS | JSON_ENCODE_ANY);
	json_decref(v);
}

static void field_bytes_n(struct strbuf *sb, const char *key, size_t keylen, long long v)
{
	field_int_n(sb, key, keylen, v, v >= 0);
}

#define field_bytes(sb, key, v) field_bytes_n(sb, "" key, sizeof(key) - 1, v)

static json_t *layers_json(const struct bp_build *b, const struct analyzer_analysis *a)
{
	json_t *layers = json_array();
	size_t i;

	for (i = 0; i < a->image->nlayers; i++) {
		const struct bp_layer *l = &a->image->layers[i];
		long si = a->sizes.step_of_layer[i];
		json_t *lo = json_object();
		struct strbuf label = STRBUF_INIT;
		if (si >= 0)
			report_step_label(&label, b->steps[si].stage, b->steps[si].index, b->steps[si].count,
					  b->steps[si].text);
		json_object_set_new(lo, "size_bytes", report_json_bytes(l->size_bytes));
		json_object_set_new(lo, "compressed_bytes", report_json_bytes(l->compressed_bytes));
		json_object_set_new(lo, "created_by", report_json_string(l->created_by));
		json_object_set_new(lo, "step", si >= 0 ? json_string(label.buf) : json_null());
		json_array_append_new(layers, lo);
		strbuf_release(&label);
	}
	return layers;
}

static const char *timeline_kind(const struct analyzer_timeline *tl)
{
	if (!tl->known)
		return NULL;
	return tl->measured ? "measured" : tl->estimated ? "estimated" : "line times";
}

/* One build on one line, byte for byte as jansson writes it with DUMP_FLAGS
 * (keys in this order). The fields are written by hand, as the steps are:
 * a jansson object for them, built and dumped, was a fifth of a JSON
 * report's time. The rarer nested parts (cache breakers, failed step,
 * layers) are still jansson's. */
static void json_build(struct report_state *st, const struct bp_build *b,
		       const struct analyzer_analysis *a)
{
	const struct analyzer_build_stats *stats = &a->stats;
	const struct analyzer_timeline *tl = &a->timeline;
	struct strbuf *sb = &st->line;
	char ts[40];
	size_t i;

	strbuf_reset(sb);
	strbuf_addstr(sb, st->builds++ ? ",\n" : "\n");
	field_int(sb, "{\"id\":", b->id, 1);
	field_string(sb, ",\"name\":", b->name);
	field_string(sb, ",\"format\":", b->format);
	field_string(sb, ",\"status\":", bp_build_status_name(b->status));
	field_string(sb, ",\"source\":", b->source_path);
	strbuf_addstr(sb, ",\"labels\":{");
	for (i = 0; i < b->nlabels; i++) {
		strbuf_addstr(sb, i ? ",\"" : "\"");
		strbuf_add_json_escaped(sb, b->labels[i].key);
		field_string(sb, "\":", b->labels[i].value);
	}
	strbuf_addch(sb, '}');
	field_string(sb, ",\"started_at\":",
		     isfinite(b->started_at) ? bp_format_time(b->started_at, ts, sizeof(ts)) : NULL);
	field_real(sb, ",\"wall_s\":", b->wall_s);
	field_int(sb, ",\"steps_total\":", stats->steps_total, 1);
	field_int(sb, ",\"steps_cached\":", stats->steps_cached, 1);
	field_real(sb, ",\"cache_hit_rate\":", stats->cache_hit_rate);
	field_real(sb, ",\"vertex_cache_rate\":", stats->vertex_cache_rate);
	field_real(sb, ",\"step_seconds\":", stats->step_seconds);
	field_real(sb, ",\"from_seconds\":", stats->from_seconds);
	field_real(sb, ",\"overhead_seconds\":", stats->overhead_seconds);
	field_real(sb, ",\"critical_path_s\":", tl->critical_path_s);
	field_real(sb, ",\"parallelism\":", tl->parallelism);
	field_string(sb, ",\"timeline\":", timeline_kind(tl));
	field_real(sb, ",\"seconds_saved\":", a->cache.seconds_saved);
	field_int(sb, ",\"previous_build\":", a->cache.previous_id, a->cache.previous_id != 0);
	field_json(sb, ",\"cache_breakers\":", a->cache.previous_id ? cache_json(b, &a->cache) : json_null());
	field_json(sb, ",\"failed_step\":", failed_step_json(b, stats->failed_step));
	field_string(sb, ",\"error\":", b->error);
	field_string(sb, ",\"image\":{\"ref\":", b->image_ref);
	field_string(sb, ",\"id\":", b->image_id);
	field_string(sb, ",\"base\":", b->base_image);
	field_bytes(sb, ",\"size_bytes\":", b->image_size);
	field_bytes(sb, ",\"compressed_bytes\":", b->image_compressed);
	field_bytes(sb, ",\"added_bytes\":", a->sizes.added_bytes);
	field_bytes(sb, ",\"base_bytes\":", a->sizes.base_bytes);
	if (a->image)
		field_json(sb, ",\"layers\":", layers_json(b, a));
	strbuf_addstr(sb, "},\"steps\":[");
	for (i = 0; i < b->nsteps; i++) {
		if (i)
			strbuf_addch(sb, ',');
		step_json(sb, &b->steps[i], tl->exclusive_s[i], tl->critical[i]);
	}
	strbuf_addstr(sb, "]}");
	fwrite(sb->buf, 1, sb->len, st->opt.out);
}

struct json_t *report_typical_json(const struct analyzer_typical *t, size_t n, const char *text_key)
{
	json_t *arr = json_array();
	size_t i;

	for (i = 0; i < n; i++) {
		json_t *o = json_object();
		json_object_set_new(o, "stage", report_json_string(t[i].series->stage));
		if (text_key)
			json_object_set_new(o, text_key, report_json_string(t[i].series->text));
		json_object_set_new(o, "runs", json_integer((json_int_t)t[i].series->n));
		json_object_set_new(o, "median_s", real_or_null(t[i].median_s));
		json_object_set_new(o, "p95_s", real_or_null(t[i].p95_s));
		json_array_append_new(arr, o);
	}
	return arr;
}

static void json_end(struct report_state *st, const struct analyzer_summary *sum)
{
	json_t *o = json_object(), *slow = json_array();
	size_t i;

	for (i = 0; i < sum->nslowest; i++) {
		const struct analyzer_slow_step *r = &sum->slowest[i];
		json_t *row = json_object();
		json_object_set_new(row, "build", json_integer(r->build_id));
		json_object_set_new(row, "stage", report_json_string(r->stage));
		json_object_set_new(row, "index", r->count ? json_integer(r->index) : json_null());
		json_object_set_new(row, "count", r->count ? json_integer(r->count) : json_null());
		json_object_set_new(row, "text", report_json_string(r->text));
		json_object_set_new(row, "duration_s", real_or_null(r->duration_s));
		json_array_append_new(slow, row);
	}
	json_object_set_new(o, "builds", json_integer(sum->builds));
	json_object_set_new(o, "steps_total", json_integer(sum->steps_total));
	json_object_set_new(o, "steps_cached", json_integer(sum->steps_cached));
	json_object_set_new(o, "cache_hit_rate", real_or_null(sum->cache_hit_rate));
	json_object_set_new(o, "step_seconds", real_or_null(sum->step_seconds));
	json_object_set_new(o, "slowest_steps", slow);
	json_object_set_new(o, "typical_steps", report_typical_json(sum->typical_steps, sum->ntypical_steps, "text"));
	json_object_set_new(o, "typical_stages", report_typical_json(sum->typical_stages, sum->ntypical_stages, NULL));
	if (sum->group_by) {
		json_t *groups = json_array();
		for (i = 0; i < sum->ngroups; i++) {
			const struct analyzer_group *g = &sum->groups[i];
			json_t *go = json_object();
			json_object_set_new(go, "key", report_json_string(g->key));
			json_object_set_new(go, "builds", json_integer((json_int_t)g->n));
			json_object_set_new(go, "median_s", real_or_null(g->median_s));
			json_object_set_new(go, "cache_hit_rate", real_or_null(g->cache_hit_rate));
			json_object_set_new(go, "image_size_bytes", real_or_null(g->image_size));
			json_array_append_new(groups, go);
		}
		json_object_set_new(o, "group_by", report_json_string(sum->group_by));
		json_object_set_new(o, "groups", groups);
	}
	fputs(st->builds ? "\n],\"summary\":" : "],\"summary\":", st->opt.out);
	report_json_dump(o, st->opt.out, DUMP_FLAGS);
	fputs(",\"pipelines\":", st->opt.out);
	report_json_dump(st->pipelines, st->opt.out, DUMP_FLAGS);
	fputs("}\n", st->opt.out);
	json_decref(st->pipelines);
	json_decref(o);
	strbuf_release(&st->line);
	free(st);
}

json_t *report_pipeline_json(const struct bp_pipeline *p, const struct analyzer_timeline *t)
{
	json_t *o = json_object(), *jobs = json_array();
	char ts[40];
	size_t i, k;

	for (i = 0; i < p->njobs; i++) {
		const struct bp_job *j = &p->jobs[i];
		json_t *jo = json_object(), *steps = json_array();
		for (k = 0; k < j->nsteps; k++) {
			json_t *so = json_object();
			json_object_set_new(so, "name", report_json_string(j->steps[k].name));
			json_object_set_new(so, "status", report_json_string(j->steps[k].status));
			json_object_set_new(so, "duration_s",
					    real_or_null(j->steps[k].completed_at >= j->steps[k].started_at
								 ? j->steps[k].completed_at - j->steps[k].started_at : NAN));
			json_array_append_new(steps, so);
		}
		json_object_set_new(jo, "id", report_json_string(j->external_id));
		json_object_set_new(jo, "name", report_json_string(j->name));
		json_object_set_new(jo, "stage", report_json_string(j->stage));
		json_object_set_new(jo, "status", report_json_string(j->status));
		json_object_set_new(jo, "started_at", isfinite(j->started_at)
						      ? json_string(bp_format_time(j->started_at, ts, sizeof(ts))) : json_null());
		json_object_set_new(jo, "duration_s", real_or_null(j->duration_s));
		json_object_set_new(jo, "queued_s", real_or_null(j->queued_s));
		json_object_set_new(jo, "exclusive_s", real_or_null(t->exclusive_s[i]));
		json_object_set_new(jo, "critical", json_boolean(t->critical[i]));
		json_object_set_new(jo, "runner", report_json_string(j->runner));
		json_object_set_new(jo, "attempt", j->attempt > 0 ? json_integer(j->attempt) : json_null());
		json_object_set_new(jo, "retries", json_integer(analyzer_job_retries(p, i)));
		json_object_set_new(jo, "steps", steps);
		json_array_append_new(jobs, jo);
	}
	json_object_set_new(o, "provider", report_json_string(p->provider));
	json_object_set_new(o, "id", report_json_string(p->external_id));
	json_object_set_new(o, "project", report_json_string(p->project));
	json_object_set_new(o, "name", report_json_string(p->name));
	json_object_set_new(o, "ref", report_json_string(p->ref));
	json_object_set_new(o, "sha", report_json_string(p->sha));
	json_object_set_new(o, "status", report_json_string(p->status));
	json_object_set_new(o, "duration_s", real_or_null(p->duration_s));
	json_object_set_new(o, "jobs_wall_s", real_or_null(t->known ? t->wall_s : NAN));
	json_object_set_new(o, "queued_s", real_or_null(p->queued_s));
	json_object_set_new(o, "critical_path_s", real_or_null(t->critical_path_s));
	json_object_set_new(o, "parallelism", real_or_null(t->parallelism));
	json_object_set_new(o, "jobs", jobs);
	return o;
}

static void json_pipeline(struct report_state *st, const struct bp_pipeline *p,
			  const struct analyzer_timeline *t)
{
	json_array_append_new(st->pipelines, report_pipeline_json(p, t));
}

const struct report_format report_json_format = {
	.name = "json",
	.every_step_field = 1,
	.begin = json_begin,
	.build = json_build,
	.pipeline = json_pipeline,
	.end = json_end,
};
