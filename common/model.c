/*
 * model.c - constructors, destructors and name tables for the plain records
 * in model.h, shared by every module.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "buildprof/model.h"
#include "buildprof/util.h"

static const char *const kind_names[] = { "step", "from", "internal", "export", "cache" };
static const char *const step_status_names[] = { "done", "cached", "error", "canceled", "incomplete" };
static const char *const build_status_names[] = { "success", "failed", "incomplete" };

void bp_step_init(struct bp_step *step)
{
	memset(step, 0, sizeof(*step));
	step->status = BP_STEP_INCOMPLETE;
	step->start_s = NAN;
	step->duration_s = NAN;
}

void bp_step_release(struct bp_step *step)
{
	free(step->stage);
	free(step->platform);
	free(step->instruction);
	free(step->text);
	free(step->digest);
	free(step->error);
	bp_step_init(step);
}

void bp_build_init(struct bp_build *b)
{
	memset(b, 0, sizeof(*b));
	b->status = BP_BUILD_INCOMPLETE;
	b->image_size = b->image_compressed = -1;
	b->started_at = NAN;
	b->wall_s = NAN;
}

char *bp_build_step_string(struct bp_build *b, const char *s, size_t len)
{
	return bp_strpool_add(&b->step_strings, s, len);
}

static void pack_string(struct bp_strpool *pool, char **s)
{
	char *loose = *s;

	if (loose) {
		*s = bp_strpool_dup(pool, loose);
		free(loose);
	}
}

void bp_build_pack_steps(struct bp_build *b)
{
	size_t i;

	if (b->step_strings.head)
		return;
	for (i = 0; i < b->nsteps; i++) {
		struct bp_step *s = &b->steps[i];

		pack_string(&b->step_strings, &s->stage);
		pack_string(&b->step_strings, &s->platform);
		pack_string(&b->step_strings, &s->instruction);
		pack_string(&b->step_strings, &s->text);
		pack_string(&b->step_strings, &s->digest);
		pack_string(&b->step_strings, &s->error);
	}
}

void bp_build_release(struct bp_build *b)
{
	size_t i;

	if (b->step_strings.head) {
		bp_strpool_release(&b->step_strings);
	} else {
		for (i = 0; i < b->nsteps; i++)
			bp_step_release(&b->steps[i]);
	}
	for (i = 0; i < b->nlabels; i++) {
		free(b->labels[i].key);
		free(b->labels[i].value);
	}
	free(b->steps);
	free(b->labels);
	free(b->name);
	free(b->format);
	free(b->image_ref);
	free(b->image_id);
	free(b->base_image);
	free(b->error);
	free(b->source_path);
	bp_build_init(b);
}

/* Strings are reckoned at 64 bytes each: what a step's stage, text and
 * status come to in the logs seen, and counting them would read them all. */
#define FOOTPRINT_STRINGS 64

size_t bp_build_footprint(const struct bp_build *b)
{
	return sizeof(*b) + b->nsteps * (sizeof(*b->steps) + 2 * FOOTPRINT_STRINGS) +
	       b->nlabels * (sizeof(*b->labels) + 2 * FOOTPRINT_STRINGS);
}

void bp_build_copy(struct bp_build *dst, const struct bp_build *src)
{
	size_t i;

	bp_build_init(dst);
	*dst = *src;
	dst->name = xstrdup_or_null(src->name);
	dst->format = xstrdup_or_null(src->format);
	dst->image_ref = xstrdup_or_null(src->image_ref);
	dst->image_id = xstrdup_or_null(src->image_id);
	dst->base_image = xstrdup_or_null(src->base_image);
	dst->error = xstrdup_or_null(src->error);
	dst->source_path = xstrdup_or_null(src->source_path);
	dst->labels = NULL;
	dst->nlabels = dst->alloc_labels = 0;
	dst->steps = NULL;
	dst->nsteps = dst->alloc_steps = 0;
	dst->step_strings.head = NULL; /* the copy's strings are its own */
	for (i = 0; i < src->nlabels; i++)
		bp_build_set_label(dst, src->labels[i].key, src->labels[i].value);
	for (i = 0; i < src->nsteps; i++) {
		const struct bp_step *from = &src->steps[i];
		struct bp_step *to = bp_build_add_step(dst);
		*to = *from;
		to->stage = xstrdup_or_null(from->stage);
		to->platform = xstrdup_or_null(from->platform);
		to->instruction = xstrdup_or_null(from->instruction);
		to->text = xstrdup_or_null(from->text);
		to->digest = xstrdup_or_null(from->digest);
		to->error = xstrdup_or_null(from->error);
	}
}

struct bp_step *bp_build_add_step(struct bp_build *b)
{
	struct bp_step *s;

	BP_GROW(b->steps, b->nsteps + 1, b->alloc_steps);
	s = &b->steps[b->nsteps++];
	bp_step_init(s);
	return s;
}

void bp_build_set_label(struct bp_build *b, const char *key, const char *value)
{
	size_t i;

	for (i = 0; i < b->nlabels; i++) {
		if (!strcmp(b->labels[i].key, key)) {
			free(b->labels[i].value);
			b->labels[i].value = xstrdup(value);
			return;
		}
	}
	BP_GROW(b->labels, b->nlabels + 1, b->alloc_labels);
	b->labels[b->nlabels].key = xstrdup(key);
	b->labels[b->nlabels].value = xstrdup(value);
	b->nlabels++;
}

const char *bp_build_label(const struct bp_build *b, const char *key)
{
	size_t i;

	for (i = 0; i < b->nlabels; i++)
		if (!strcmp(b->labels[i].key, key))
			return b->labels[i].value;
	return NULL;
}

static int parse_name(const char *const *names, size_t n, const char *name, int *out)
{
	size_t i;

	for (i = 0; name && i < n; i++) {
		if (!strcmp(names[i], name)) {
			*out = (int)i;
			return 0;
		}
	}
	return -1;
}

const char *bp_step_kind_name(enum bp_step_kind kind)
{
	if ((size_t)kind >= BP_ARRAY_SIZE(kind_names))
		BUG("bad step kind %d", (int)kind);
	return kind_names[kind];
}

const char *bp_step_status_name(enum bp_step_status status)
{
	if ((size_t)status >= BP_ARRAY_SIZE(step_status_names))
		BUG("bad step status %d", (int)status);
	return step_status_names[status];
}

const char *bp_build_status_name(enum bp_build_status status)
{
	if ((size_t)status >= BP_ARRAY_SIZE(build_status_names))
		BUG("bad build status %d", (int)status);
	return build_status_names[status];
}

int bp_step_kind_parse(const char *name, enum bp_step_kind *out)
{
	int v;

	if (parse_name(kind_names, BP_ARRAY_SIZE(kind_names), name, &v))
		return -1;
	*out = (enum bp_step_kind)v;
	return 0;
}

int bp_step_status_parse(const char *name, enum bp_step_status *out)
{
	int v;

	if (parse_name(step_status_names, BP_ARRAY_SIZE(step_status_names), name, &v))
		return -1;
	*out = (enum bp_step_status)v;
	return 0;
}

int bp_build_status_parse(const char *name, enum bp_build_status *out)
{
	int v;

	if (parse_name(build_status_names, BP_ARRAY_SIZE(build_status_names), name, &v))
		return -1;
	*out = (enum bp_build_status)v;
	return 0;
}

void bp_image_init(struct bp_image *img)
{
	memset(img, 0, sizeof(*img));
	img->size_bytes = img->compressed_bytes = -1;
	img->created_at = NAN;
}

void bp_image_release(struct bp_image *img)
{
	size_t i;

	for (i = 0; i < img->nlayers; i++) {
		free(img->layers[i].digest);
		free(img->layers[i].media_type);
		free(img->layers[i].created_by);
	}
	free(img->layers);
	free(img->ref);
	free(img->image_id);
	free(img->digest);
	free(img->platform);
	free(img->media_type);
	free(img->base_image);
	free(img->source_path);
	bp_image_init(img);
}

size_t bp_image_footprint(const struct bp_image *img)
{
	return sizeof(*img) + img->nlayers * (sizeof(*img->layers) + 2 * FOOTPRINT_STRINGS);
}

struct bp_layer *bp_image_add_layer(struct bp_image *img)
{
	struct bp_layer *l;

	BP_GROW(img->layers, img->nlayers + 1, img->alloc_layers);
	l = &img->layers[img->nlayers++];
	memset(l, 0, sizeof(*l));
	l->size_bytes = l->compressed_bytes = -1;
	return l;
}

void bp_pipeline_init(struct bp_pipeline *p)
{
	memset(p, 0, sizeof(*p));
	p->created_at = p->started_at = p->finished_at = p->duration_s = p->queued_s = NAN;
}

static void job_release(struct bp_job *j)
{
	size_t i;

	for (i = 0; i < j->nsteps; i++) {
		free(j->steps[i].name);
		free(j->steps[i].status);
	}
	free(j->steps);
	free(j->external_id);
	free(j->name);
	free(j->stage);
	free(j->status);
	free(j->runner);
}

void bp_pipeline_release(struct bp_pipeline *p)
{
	size_t i;

	for (i = 0; i < p->njobs; i++)
		job_release(&p->jobs[i]);
	free(p->jobs);
	free(p->provider);
	free(p->external_id);
	free(p->project);
	free(p->name);
	free(p->ref);
	free(p->sha);
	free(p->status);
	bp_pipeline_init(p);
}

size_t bp_pipeline_footprint(const struct bp_pipeline *p)
{
	size_t bytes = sizeof(*p), i;

	for (i = 0; i < p->njobs; i++)
		bytes += sizeof(p->jobs[i]) + 4 * FOOTPRINT_STRINGS +
			 p->jobs[i].nsteps * (sizeof(*p->jobs[i].steps) + 2 * FOOTPRINT_STRINGS);
	return bytes;
}

struct bp_job *bp_pipeline_add_job(struct bp_pipeline *p)
{
	struct bp_job *j;

	BP_GROW(p->jobs, p->njobs + 1, p->alloc_jobs);
	j = &p->jobs[p->njobs++];
	memset(j, 0, sizeof(*j));
	j->created_at = j->started_at = j->finished_at = j->duration_s = j->queued_s = NAN;
	return j;
}

struct bp_job_step *bp_job_add_step(struct bp_job *j)
{
	struct bp_job_step *s;

	BP_GROW(j->steps, j->nsteps + 1, j->alloc_steps);
	s = &j->steps[j->nsteps++];
	memset(s, 0, sizeof(*s));
	s->started_at = s->completed_at = NAN;
	return s;
}

void bp_selector_init(struct bp_selector *sel)
{
	memset(sel, 0, sizeof(*sel));
}

int bp_selector_is_all(const struct bp_selector *sel)
{
	return !sel->nranges && !sel->nlabels && !sel->nnames && !sel->format && !sel->status && !sel->last;
}

void bp_selector_release(struct bp_selector *sel)
{
	size_t i;

	for (i = 0; i < sel->nlabels; i++) {
		free(sel->labels[i].key);
		free(sel->labels[i].value);
	}
	for (i = 0; i < sel->nnames; i++)
		free(sel->names[i]);
	free(sel->ranges);
	free(sel->labels);
	free(sel->names);
	free(sel->format);
	free(sel->status);
	bp_selector_init(sel);
}
