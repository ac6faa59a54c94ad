/*
 * cache.c - is the layer cache working, and what broke it? A cached step is
 * priced at the median time the same step (stage, instruction text) took
 * when it ran uncached in builds of the same name; a stage's cache breaker
 * is its first step that ran although the previous build of that name had
 * it cached, and what ran after it in the stage is what it cost.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "buildprof/analyzer.h"

static int same(const char *a, const char *b)
{
	return (!a && !b) || (a && b && !strcmp(a, b));
}

void analyzer_history_init(struct analyzer_history *h)
{
	memset(h, 0, sizeof(*h));
}

struct series_key {
	const struct analyzer_history *h;
	const char *stage, *text;
};

static uint64_t key_hash(const char *stage, const char *text)
{
	return bp_hash_str(bp_hash_str(BP_HASH_INIT, stage), text);
}

static int series_is(const void *ctx, size_t pos)
{
	const struct series_key *k = ctx;

	return same(k->h->series[pos].stage, k->stage) && same(k->h->series[pos].text, k->text);
}

static struct analyzer_step_series *find(const struct analyzer_history *h, const char *stage,
					 const char *text, uint64_t hash)
{
	struct series_key k = { h, stage, text };
	long pos = bp_hash_index_find(&h->index, hash, series_is, &k);

	return pos < 0 ? NULL : &h->series[pos];
}

const struct analyzer_step_series *analyzer_history_find(const struct analyzer_history *h, const char *stage,
							 const char *text)
{
	return find(h, stage, text, key_hash(stage, text));
}

struct analyzer_step_series *analyzer_history_series(struct analyzer_history *h, const char *stage,
						     const char *text)
{
	uint64_t hash = key_hash(stage, text);
	struct analyzer_step_series *s = find(h, stage, text, hash);

	if (!s) {
		BP_GROW(h->series, h->nseries + 1, h->alloc_series);
		s = &h->series[h->nseries++];
		memset(s, 0, sizeof(*s));
		s->stage = bp_strpool_dup(&h->keys, stage);
		s->text = bp_strpool_dup(&h->keys, text);
		bp_hash_index_add(&h->index, h->nseries - 1, hash, h->nseries);
	}
	return s;
}

void analyzer_series_add(struct analyzer_step_series *s, double duration_s)
{
	/* from one run up, not BP_GROW's 16: most steps of a long history ran
	 * once or a few times (a version or a commit in the text), and 128
	 * bytes each for them came to 90 MB of the report over 100k builds */
	if (s->n == s->alloc) {
		s->alloc = s->alloc ? 2 * s->alloc : 1;
		s->v = xreallocarray(s->v, s->alloc, sizeof(*s->v));
	}
	s->v[s->n++] = duration_s;
}

void analyzer_history_sort(struct analyzer_history *h)
{
	size_t i;

	for (i = 0; i < h->nseries; i++) {
		struct analyzer_step_series *s = &h->series[i];
		if (s->sorted_n < s->n) {
			analyzer_sort(s->v, s->n);
			s->sorted_n = s->n;
		}
	}
}

double analyzer_series_quantile(const struct analyzer_step_series *s, double p)
{
	return s->sorted_n == s->n ? analyzer_quantile_sorted(s->v, s->n, p) : analyzer_quantile(s->v, s->n, p);
}

void analyzer_history_add(struct analyzer_history *h, const char *stage, const char *text,
			  double duration_s)
{
	if (!isnan(duration_s))
		analyzer_series_add(analyzer_history_series(h, stage, text), duration_s);
}

void analyzer_history_add_build(struct analyzer_history *h, const struct bp_build *b)
{
	size_t i;

	for (i = 0; i < b->nsteps; i++) {
		const struct bp_step *s = &b->steps[i];
		if (s->kind == BP_KIND_STEP && !s->cached && s->status == BP_STEP_DONE)
			analyzer_history_add(h, s->stage, s->text, s->duration_s);
	}
}

void analyzer_history_merge(struct analyzer_history *h, const struct analyzer_history *from)
{
	size_t i, j;

	for (i = 0; i < from->nseries; i++) {
		const struct analyzer_step_series *s = &from->series[i];
		struct analyzer_step_series *to = analyzer_history_series(h, s->stage, s->text);
		for (j = 0; j < s->n; j++)
			analyzer_series_add(to, s->v[j]);
	}
}

void analyzer_history_release(struct analyzer_history *h)
{
	size_t i;

	for (i = 0; i < h->nseries; i++)
		free(h->series[i].v);
	free(h->series);
	bp_strpool_release(&h->keys);
	bp_hash_index_release(&h->index);
	analyzer_history_init(h);
}

/* Was the same step (stage, text) cached in prev? */
static int cached_in(const struct bp_build *prev, const struct bp_step *s)
{
	size_t i;

	for (i = 0; i < prev->nsteps; i++)
		if (prev->steps[i].kind == BP_KIND_STEP && same(prev->steps[i].stage, s->stage) &&
		    same(prev->steps[i].text, s->text))
			return prev->steps[i].cached;
	return 0;
}

static int ran(const struct bp_step *s)
{
	return s->kind == BP_KIND_STEP && !s->cached &&
	       (s->status == BP_STEP_DONE || s->status == BP_STEP_ERROR);
}

void analyzer_cache(const struct bp_build *b, const struct bp_build *prev,
		    const struct analyzer_history *h, struct analyzer_cache *out)
{
	size_t i, j;

	memset(out, 0, sizeof(*out));
	out->seconds_saved = NAN;
	for (i = 0; h && i < b->nsteps; i++) {
		const struct bp_step *s = &b->steps[i];
		const struct analyzer_step_series *hist;
		if (s->kind != BP_KIND_STEP || !s->cached || !(hist = analyzer_history_find(h, s->stage, s->text)) || !hist->n)
			continue;
		out->seconds_saved = (isnan(out->seconds_saved) ? 0 : out->seconds_saved) +
				     analyzer_series_quantile(hist, 0.5);
		out->steps_priced++;
	}
	if (!prev)
		return;
	out->previous_id = prev->id;
	for (i = 0; i < b->nsteps; i++) {
		const struct bp_step *s = &b->steps[i];
		struct analyzer_breaker *br;
		int seen = 0;
		if (!ran(s) || !cached_in(prev, s))
			continue;
		/* only the first in its stage: the stage's index order, not log order */
		for (j = 0; j < b->nsteps; j++)
			if (j != i && ran(&b->steps[j]) && same(b->steps[j].stage, s->stage) &&
			    b->steps[j].index < s->index && cached_in(prev, &b->steps[j]))
				seen = 1;
		for (j = 0; j < out->nbreakers && !seen; j++)
			seen = same(b->steps[out->breakers[j].step].stage, s->stage);
		if (seen)
			continue;
		out->breakers = xreallocarray(out->breakers, out->nbreakers + 1, sizeof(*out->breakers));
		br = &out->breakers[out->nbreakers++];
		br->step = i;
		br->ninvalidated = 0;
		br->invalidated_s = NAN;
		for (j = 0; j < b->nsteps; j++) {
			const struct bp_step *t = &b->steps[j];
			if (!ran(t) || !same(t->stage, s->stage) || t->index <= s->index)
				continue;
			br->ninvalidated++;
			if (!isnan(t->duration_s))
				br->invalidated_s = (isnan(br->invalidated_s) ? 0 : br->invalidated_s) + t->duration_s;
		}
	}
}

void analyzer_cache_release(struct analyzer_cache *c)
{
	free(c->breakers);
	memset(c, 0, sizeof(*c));
}
