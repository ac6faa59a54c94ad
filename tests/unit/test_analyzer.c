/*
 * test_analyzer.c - selector parsing and the per-build and summary metrics
 * (DESIGN.md, Metrics) on hand-made builds whose answers are counted by hand.
 */
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buildprof/analyzer.h"
#include "buildprof/report.h"
#include "unit.h"

static void test_selector_words(void)
{
	struct bp_selector sel;
	struct bp_error err;
	char *ok[] = { "7", "3..9", "label:variant=alpine", "name:app*", "last:5", "format:buildkit",
		       "status:failed" };
	const char *bad[] = { "0", "9..3", "label:novalue", "label:=x", "last:0", "last:x", "status:ok",
			      "name:", "frobnicate", "1..", "-4" };
	size_t i;

	bp_selector_init(&sel);
	bp_error_init(&err);
	CHECK(analyzer_parse_selector(7, ok, &sel, &err) == 0);
	CHECK_INT(sel.nranges, 2);
	CHECK(sel.ranges[0].lo == 7 && sel.ranges[0].hi == 7);
	CHECK(sel.ranges[1].lo == 3 && sel.ranges[1].hi == 9);
	CHECK_STR(sel.labels[0].key, "variant");
	CHECK_STR(sel.labels[0].value, "alpine");
	CHECK_STR(sel.names[0], "app*");
	CHECK_INT(sel.last, 5);
	CHECK_STR(sel.format, "buildkit");
	CHECK_STR(sel.status, "failed");
	bp_selector_release(&sel);
	for (i = 0; i < BP_ARRAY_SIZE(bad); i++) {
		char *w = (char *)bad[i];
		bp_selector_init(&sel);
		bp_error_init(&err);
		CHECK(analyzer_parse_selector(1, &w, &sel, &err) == -1);
		CHECK(strstr(err.text, bad[i]) != NULL);
		bp_selector_release(&sel);
	}
}

static struct bp_step *add(struct bp_build *b, enum bp_step_kind kind, const char *text, int cached,
			   double dur, enum bp_step_status st)
{
	struct bp_step *s = bp_build_add_step(b);

	s->kind = kind;
	s->text = xstrdup(text);
	s->cached = cached;
	s->duration_s = dur;
	s->status = st;
	if (kind == BP_KIND_STEP || kind == BP_KIND_FROM) {
		s->index = (int)b->nsteps;
		s->count = 9;
	}
	return s;
}

static void test_stats(void)
{
	struct bp_build b;
	struct analyzer_build_stats s;
	size_t idx[3], n;

	bp_build_init(&b);
	b.format = xstrdup("buildkit");
	add(&b, BP_KIND_INTERNAL, "[internal] load build definition", 0, 0.1, BP_STEP_DONE);
	add(&b, BP_KIND_FROM, "FROM alpine", 1, NAN, BP_STEP_CACHED);
	add(&b, BP_KIND_STEP, "RUN a", 1, NAN, BP_STEP_CACHED);
	add(&b, BP_KIND_STEP, "RUN b", 0, 4.0, BP_STEP_DONE);
	add(&b, BP_KIND_STEP, "RUN c", 0, 9.0, BP_STEP_DONE);
	add(&b, BP_KIND_STEP, "RUN d", 0, 1.0, BP_STEP_DONE);
	add(&b, BP_KIND_INTERNAL, "resolve image config", 0, NAN, BP_STEP_ERROR);
	add(&b, BP_KIND_STEP, "RUN e", 0, NAN, BP_STEP_ERROR);
	add(&b, BP_KIND_EXPORT, "exporting to image", 0, 0.5, BP_STEP_DONE);
	analyzer_build_stats(&b, &s);
	CHECK_INT(s.steps_total, 5);  /* FROM and internal vertices excluded */
	CHECK_INT(s.steps_cached, 1);
	CHECK_NEAR(s.cache_hit_rate, 0.2, 1e-12);
	CHECK_INT(s.vertices, 9);
	CHECK_INT(s.vertices_cached, 2);
	CHECK_NEAR(s.vertex_cache_rate, 2.0 / 9, 1e-12);
	CHECK_NEAR(s.step_seconds, 14.0, 1e-12);
	CHECK_INT(s.steps_timed, 3);
	CHECK(isnan(s.from_seconds));
	CHECK_NEAR(s.overhead_seconds, 0.6, 1e-12);
	CHECK_INT(s.failed_step, 7); /* the Dockerfile step, not the internal vertex before it */
	n = analyzer_slowest_steps(&b, idx, 3);
	CHECK_INT(n, 3);
	CHECK(idx[0] == 4 && idx[1] == 3 && idx[2] == 5);
	CHECK_NEAR(s.vertex_cache_rate, 2.0 / 9, 1e-12);
	bp_build_release(&b);

	/* a legacy-builder build: no buildx vertex rate; a step that took 0 s
	 * is not listed as slow */
	bp_build_init(&b);
	b.format = xstrdup("legacy");
	add(&b, BP_KIND_FROM, "FROM scratch", 0, NAN, BP_STEP_DONE);
	add(&b, BP_KIND_STEP, "COPY a /a", 1, 0.0, BP_STEP_CACHED);
	add(&b, BP_KIND_STEP, "RUN b", 0, 2.0, BP_STEP_DONE);
	analyzer_build_stats(&b, &s);
	CHECK(isnan(s.vertex_cache_rate));
	CHECK_NEAR(s.cache_hit_rate, 0.5, 1e-12);
	n = analyzer_slowest_steps(&b, idx, 3);
	CHECK(n == 1 && idx[0] == 2);
	bp_build_release(&b);

	/* no steps at all: rates unknown, not 0 */
	bp_build_init(&b);
	add(&b, BP_KIND_INTERNAL, "[internal] load", 0, NAN, BP_STEP_DONE);
	analyzer_build_stats(&b, &s);
	CHECK(isnan(s.cache_hit_rate) && isnan(s.step_seconds) && s.failed_step == -1);
	bp_build_release(&b);
}

static void test_summary(void)
{
	struct analyzer_summary sum;
	struct analyzer_build_stats s;
	struct bp_build a, b;

	bp_build_init(&a);
	bp_build_init(&b);
	a.id = 1;
	b.id = 2;
	a.status = BP_BUILD_SUCCESS;
	b.status = BP_BUILD_FAILED;
	add(&a, BP_KIND_STEP, "RUN x", 1, NAN, BP_STEP_CACHED);
	add(&a, BP_KIND_STEP, "RUN y", 0, 3.0, BP_STEP_DONE);
	add(&a, BP_KIND_STEP, "RUN z", 0, 8.0, BP_STEP_DONE);
	add(&b, BP_KIND_STEP, "RUN x", 0, 5.0, BP_STEP_DONE);
	analyzer_summary_init(&sum, 2);
	analyzer_build_stats(&a, &s);
	analyzer_summary_add(&sum, &a, &s);
	analyzer_build_stats(&b, &s);
	analyzer_summary_add(&sum, &b, &s);
	CHECK_INT(sum.builds, 2);
	CHECK_INT(sum.by_status[BP_BUILD_FAILED], 1);
	CHECK_INT(sum.steps_total, 4);
	CHECK_INT(sum.steps_cached, 1);
	CHECK_NEAR(sum.cache_hit_rate, 0.25, 1e-12); /* pooled, not the mean of 1/3 and 0 */
	CHECK_INT(sum.nslowest, 2);
	CHECK(sum.slowest[0].duration_s == 8.0 && sum.slowest[0].build_id == 1);
	CHECK(sum.slowest[1].duration_s == 5.0 && sum.slowest[1].build_id == 2);
	analyzer_summary_release(&sum);
	bp_build_release(&a);
	bp_build_release(&b);
}

/* Grouped by a label with many values: 3,000 builds under 1,000 commits
 * (three each, the third without the label: "(unknown)"), in the order
 * they came, each group with its own builds. */
static void test_summary_groups(void)
{
	struct analyzer_summary sum;
	struct analyzer_build_stats s;
	struct bp_build b;
	char value[16];
	int i, ok = 1;

	analyzer_summary_init(&sum, 0);
	CHECK(analyzer_summary_group_by(&sum, "label:commit") == 0);
	for (i = 0; i < 3000; i++) {
		bp_build_init(&b);
		b.id = i + 1;
		b.wall_s = i % 1000;
		snprintf(value, sizeof(value), "c%d", i % 1000);
		if (i % 3)
			bp_build_set_label(&b, "commit", value);
		analyzer_build_stats(&b, &s);
		analyzer_summary_add(&sum, &b, &s);
		bp_build_release(&b);
	}
	analyzer_summary_finish(&sum);
	CHECK_INT((long)sum.ngroups, 1001);
	for (i = 0; i < (int)sum.ngroups; i++) {
		const struct analyzer_group *g = &sum.groups[i];
		if (!strcmp(g->key, "(unknown)")) {
			ok &= g->n == 1000;
			continue;
		}
		/* c<k>: builds k, k + 1000, k + 2000 less the unlabelled one */
		ok &= g->n == 2 && g->median_s == atoi(g->key + 1);
	}
	CHECK(ok);
	CHECK_STR(sum.groups[0].key, "(unknown)");
	CHECK_STR(sum.groups[1].key, "c1");
	analyzer_summary_release(&sum);
}

/* A hand-drawn build:  a [0,1]  b [1,5]  c [1,3]  d [5,6]  e cached at 3,
 * f no start time. Critical path a-b-d = 6 s; busy 1+4+2+1 = 8 s over a 6 s
 * wall: parallelism 1.33; alone: a 1, b 2 (3..5), c 0, d 1. */
/* No clock, only durations and the order the log printed starts and ends:
 * a (lines 1-10, 2 s) and b (2-5, 1 s) start together; c starts after b's
 * DONE (line 6), so at 1 s. By hand: a 0-2, b 0-1, c 1-2, busy 4 s of 2 s. */
static void test_timeline_estimated(void)
{
	static const struct { const char *t; long first, end; double dur; int cached; } v[] = {
		{ "a", 1, 10, 2, 0 }, { "b", 2, 5, 1, 0 }, { "c", 6, 9, 1, 0 }, { "d", 7, 8, NAN, 1 },
		{ "never ended", 11, 0, NAN, 0 },
	};
	struct analyzer_timeline t;
	struct bp_build b;
	size_t i;

	bp_build_init(&b);
	b.format = xstrdup("buildkit");
	for (i = 0; i < BP_ARRAY_SIZE(v); i++) {
		struct bp_step *s = add(&b, BP_KIND_STEP, v[i].t, v[i].cached, v[i].dur, BP_STEP_DONE);
		s->first_line = v[i].first;
		s->end_line = v[i].end;
	}
	analyzer_timeline(&b, &t);
	CHECK(t.known && t.estimated && !t.measured);
	CHECK_NEAR(t.start_s[0], 0, 1e-12);
	CHECK_NEAR(t.start_s[1], 0, 1e-12);
	CHECK_NEAR(t.start_s[2], 1, 1e-12);
	CHECK_NEAR(t.start_s[3], 1, 1e-12); /* cached: an instant, at c's start */
	CHECK(isnan(t.start_s[4]));
	CHECK_NEAR(t.wall_s, 2, 1e-12);
	CHECK_NEAR(t.busy_s, 4, 1e-12);
	CHECK_NEAR(t.parallelism, 2, 1e-12);
	CHECK_NEAR(t.critical_path_s, 2, 1e-12);
	analyzer_timeline_release(&t);
	/* one vertex with a clock: the clock wins and nothing is estimated */
	b.steps[0].start_s = 0;
	analyzer_timeline(&b, &t);
	CHECK(t.known && !t.estimated);
	analyzer_timeline_release(&t);
	bp_build_release(&b);
}

static void test_timeline(void)
{
	static const struct { const char *t; double start, dur; int cached; } v[] = {
		{ "a", 0, 1, 0 }, { "b", 1, 4, 0 }, { "c", 1, 2, 0 }, { "d", 5, 1, 0 },
		{ "e", 3, NAN, 1 }, { "f", NAN, 2, 0 },
	};
	struct analyzer_timeline t;
	struct bp_build b;
	size_t i;

	bp_build_init(&b);
	b.format = xstrdup("rawjson");
	for (i = 0; i < BP_ARRAY_SIZE(v); i++) {
		struct bp_step *s = add(&b, BP_KIND_STEP, v[i].t, v[i].cached, v[i].dur, BP_STEP_DONE);
		s->start_s = v[i].start;
	}
	analyzer_timeline(&b, &t);
	CHECK(t.known && t.measured);
	CHECK_NEAR(t.wall_s, 6, 1e-12);
	CHECK_NEAR(t.busy_s, 8, 1e-12);
	CHECK_NEAR(t.parallelism, 8.0 / 6, 1e-12);
	CHECK_NEAR(t.critical_path_s, 6, 1e-12);
	CHECK(t.critical[0] && t.critical[1] && !t.critical[2] && t.critical[3] && !t.critical[5]);
	CHECK_NEAR(t.exclusive_s[0], 1, 1e-12);
	CHECK_NEAR(t.exclusive_s[1], 2, 1e-12);
	CHECK_NEAR(t.exclusive_s[2], 0, 1e-12);
	CHECK_NEAR(t.exclusive_s[3], 1, 1e-12);
	CHECK_NEAR(t.exclusive_s[4], 0, 1e-12);
	CHECK(isnan(t.exclusive_s[5]));
	analyzer_timeline_release(&t);
	bp_build_release(&b);

	/* no start times at all: unknown, not zero */
	bp_build_init(&b);
	add(&b, BP_KIND_STEP, "x", 0, 3, BP_STEP_DONE);
	analyzer_timeline(&b, &t);
	CHECK(!t.known && isnan(t.parallelism) && isnan(t.critical_path_s) && isnan(t.exclusive_s[0]));
	analyzer_timeline_release(&t);
	bp_build_release(&b);
}

/* Previous build: a, b, c cached; this one: a cached, b ran (the breaker),
 * c ran after it (invalidated, 2 s); d ran but was not cached before. */
static void test_cache(void)
{
	struct bp_build prev, cur;
	struct analyzer_history h;
	struct analyzer_cache c;
	const char *texts[] = { "RUN a", "RUN b", "RUN c", "RUN d" };
	size_t i;

	bp_build_init(&prev);
	bp_build_init(&cur);
	prev.id = 41;
	for (i = 0; i < 4; i++) {
		struct bp_step *p = add(&prev, BP_KIND_STEP, texts[i], i < 3, NAN, i < 3 ? BP_STEP_CACHED : BP_STEP_DONE);
		struct bp_step *s = add(&cur, BP_KIND_STEP, texts[i], i == 0, i == 0 ? NAN : 2.0,
					i == 0 ? BP_STEP_CACHED : BP_STEP_DONE);
		p->stage = xstrdup("builder");
		s->stage = xstrdup("builder");
	}
	analyzer_history_init(&h);
	analyzer_history_add(&h, "builder", "RUN a", 4.0);
	analyzer_history_add(&h, "builder", "RUN a", 6.0);
	analyzer_history_add(&h, "builder", "RUN a", 100.0);
	analyzer_history_add(&h, "other", "RUN a", 50.0); /* another stage: not the same step */
	analyzer_cache(&cur, &prev, &h, &c);
	CHECK_NEAR(c.seconds_saved, 6.0, 1e-12); /* median of 4, 6, 100 */
	CHECK_INT(c.steps_priced, 1);
	CHECK_INT(c.previous_id, 41);
	CHECK_INT(c.nbreakers, 1);
	if (c.nbreakers == 1) {
		CHECK_INT(c.breakers[0].step, 1);
		CHECK_INT(c.breakers[0].ninvalidated, 2); /* c and d ran after it */
		CHECK_NEAR(c.breakers[0].invalidated_s, 4.0, 1e-12);
	}
	analyzer_cache_release(&c);
	/* no previous build: no breakers; nothing priced without history */
	analyzer_cache(&cur, NULL, NULL, &c);
	CHECK(c.nbreakers == 0 && isnan(c.seconds_saved) && c.previous_id == 0);
	analyzer_cache_release(&c);
	analyzer_history_release(&h);
	bp_build_release(&prev);
	bp_build_release(&cur);
}

/* docker history's created_by from both builders (real strings from this
 * machine's docker 20.10) reduce to the same key as the Dockerfile step. */
static void test_layer_keys(void)
{
	static const struct { const char *created_by, *step; } pairs[] = {
		{ "COPY busybox /bin/busybox # buildkit", "COPY busybox /bin/busybox" },
		{ "/bin/sh -c #(nop) COPY file:7027c77992f5b5a06465828d75ae4ff9adcec5f94bc05d3f683eb205e0ec1ac0 in /bin/busybox ",
		  "COPY busybox /bin/busybox" },
		{ "COPY /assets.tar /app/assets.tar # buildkit", "COPY --from=assets /assets.tar /app/assets.tar" },
		{ "RUN /bin/busybox --install -s /bin # buildkit", "RUN [\"/bin/busybox\", \"--install\", \"-s\", \"/bin\"]" },
		{ "/bin/busybox --install -s /bin", "RUN [\"/bin/busybox\", \"--install\", \"-s\", \"/bin\"]" },
		{ "RUN /bin/sh -c sh /src/build.sh # buildkit", "RUN sh /src/build.sh" },
		{ "/bin/sh -c sh /src/build.sh", "RUN sh /src/build.sh" },
		{ "/bin/sh -c #(nop)  CMD [\"/bin/sh\" \"/app/app\"]", "CMD [\"/bin/sh\", \"/app/app\"]" },
		{ "/bin/sh -c #(nop)  ENV PATH=/usr/local/bin:/usr/bin", "ENV PATH=/usr/local/bin:/usr/bin" },
	};
	size_t i;

	for (i = 0; i < BP_ARRAY_SIZE(pairs); i++) {
		char *a = analyzer_layer_key(pairs[i].created_by), *b = analyzer_step_key(pairs[i].step);
		CHECK_STR(a, b);
		free(a);
		free(b);
	}
	{
		char *a = analyzer_layer_key("COPY a /x # buildkit"), *b = analyzer_step_key("COPY a /y");
		CHECK(strcmp(a, b) != 0);
		free(a);
		free(b);
	}
}

/* The history's hash index: many distinct steps, NULL stage distinct from
 * "", each step found again after the table has grown. */
static void test_history_index(void)
{
	struct analyzer_history h;
	char text[32];
	int i, ok = 1;

	analyzer_history_init(&h);
	for (i = 0; i < 5000; i++) {
		snprintf(text, sizeof(text), "RUN step %d", i % 2500);
		analyzer_history_add(&h, i < 2500 ? NULL : "build", text, i);
	}
	analyzer_history_add(&h, "", "RUN step 0", 1);
	analyzer_history_add(&h, NULL, "RUN step 0", 2);
	CHECK_INT(h.nseries, 5001);
	for (i = 0; i < (int)h.nseries; i++)
		if (h.series[i].n != (i == 0 ? 2u : 1u))
			ok = 0;
	CHECK(ok);
	analyzer_history_add(&h, "build", NULL, 1);
	analyzer_history_add(&h, "build", NULL, 2);
	CHECK_INT(h.nseries, 5002);
	CHECK_INT(h.series[5001].n, 2);
	analyzer_history_release(&h);
}

/* A history read in two halves and merged holds what one pass adding the
 * same runs in order makes: the same series in the same order, each with
 * the same durations in the same order (NULL stage apart from ""). */
static void test_history_merge(void)
{
	struct analyzer_history one, first, later;
	char text[32];
	size_t i, j, bad = 0;
	int k;

	analyzer_history_init(&one);
	analyzer_history_init(&first);
	analyzer_history_init(&later);
	for (k = 0; k < 3000; k++) {
		const char *stage = k % 3 == 0 ? NULL : k % 3 == 1 ? "" : "build";
		snprintf(text, sizeof(text), "RUN step %d", k % 7 == 0 ? k : k % 40);
		analyzer_history_add(&one, stage, text, k * 0.5);
		analyzer_history_add(k < 1700 ? &first : &later, stage, text, k * 0.5);
	}
	analyzer_history_merge(&first, &later);
	CHECK_INT(first.nseries, one.nseries);
	for (i = 0; i < one.nseries && i < first.nseries; i++) {
		const struct analyzer_step_series *a = &one.series[i], *b = &first.series[i];
		bad += (a->stage == NULL) != (b->stage == NULL) || (a->stage && strcmp(a->stage, b->stage)) ||
		       strcmp(a->text, b->text) || a->n != b->n;
		for (j = 0; j < a->n && j < b->n; j++)
			bad += a->v[j] != b->v[j];
	}
	CHECK_INT(bad, 0);
	/* found again by key after the merge, later's own series included */
	CHECK(analyzer_history_find(&first, "build", "RUN step 2996") != NULL); /* only in later */
	CHECK(analyzer_history_find(&first, NULL, "RUN step 2996") == NULL);
	analyzer_history_release(&one);
	analyzer_history_release(&first);
	analyzer_history_release(&later);
}

/* compare: per-step medians, intervals and the per-step test, by hand */
static void test_compare_steps(void)
{
	static const double make_before[] = { 10, 11, 12, 13, 14, 15 };
	static const double make_after[] = { 5, 5.5, 6, 6.5, 7, 7.5 };
	static const double copy_s[] = { 2, 3, 2, 3, 2, 3 };
	struct analyzer_compare c;
	const struct analyzer_compare_row *make = NULL, *copy = NULL, *added = NULL, *removed = NULL;
	size_t i;
	int side;

	analyzer_compare_init(&c);
	for (side = 0; side < 2; side++)
		for (i = 0; i < 6; i++) {
			struct bp_build b;
			bp_build_init(&b);
			add(&b, BP_KIND_STEP, "RUN make", 0, side ? make_after[i] : make_before[i], BP_STEP_DONE);
			add(&b, BP_KIND_STEP, "COPY . .", 0, copy_s[side ? 5 - i : i], BP_STEP_DONE);
			if (side)
				add(&b, BP_KIND_STEP, "RUN new", 0, 1, BP_STEP_DONE);
			else if (!i) /* once, before: a removed step with one run */
				add(&b, BP_KIND_STEP, "RUN gone", 0, 4, BP_STEP_DONE);
			b.wall_s = side ? make_after[i] + 3 : make_before[i] + 3;
			analyzer_compare_add(&c, side, &b);
			bp_build_release(&b);
		}
	analyzer_compare_finish(&c);
	for (i = 0; i < c.nrows; i++) {
		const struct analyzer_compare_row *r = &c.rows[i];
		const char *text = (r->before ? r->before : r->after)->text;
		if (!strcmp(text, "RUN make"))
			make = r;
		else if (!strcmp(text, "COPY . ."))
			copy = r;
		else if (!strcmp(text, "RUN new"))
			added = r;
		else if (!strcmp(text, "RUN gone"))
			removed = r;
	}
	/* the paired rows first, each step once */
	CHECK(c.npaired == 2 && c.nrows == 4);
	CHECK(make && copy && added && removed);
	if (make && copy && added && removed) {
		CHECK(make - c.rows < 2 && copy - c.rows < 2);
		CHECK(removed->after == NULL && removed->before_median_s == 4 && isnan(removed->speedup));
		/* a step that ran once holds one slot, not a block of them */
		CHECK(removed->before->n == 1 && removed->before->alloc == 1);
		CHECK_NEAR(make->speedup, 12.5 / 6.25, 1e-12);
		/* n = 6: the 95% interval of the median is [min, max] */
		CHECK(make->lo[0] == 10 && make->hi[0] == 15 && make->lo[1] == 5 && make->hi[1] == 7.5);
		/* every before above every after, 6 and 6, no ties: exact p = 2 / C(12, 6) */
		CHECK_NEAR(make->p_value, 2.0 / 924, 1e-12);
		CHECK(make->significant);
		CHECK(!copy->significant && copy->p_value > 0.5);
		CHECK(added->before == NULL && isnan(added->p_value) && !added->significant);
		CHECK(isnan(added->lo[0]) && added->lo[1] == 1);
	}
	CHECK(c.significant);
	analyzer_compare_release(&c);
}

/* A compare filled as the CLI fills a large one: BEFORE, AFTER, then
 * each side's rows on a thread of its own. */
static void fill_compare(struct analyzer_compare *c)
{
	char text[32];
	int side, i, k;

	analyzer_compare_init(c);
	for (side = 0; side < 2; side++)
		for (i = 0; i < 40; i++) {
			struct bp_build b;
			bp_build_init(&b);
			/* steps 0-29 before, 10-49 after: removed, paired, added */
			for (k = 10 * side; k < 30 + 10 * side; k++) {
				snprintf(text, sizeof(text), "RUN step %d", k % 7 ? k : 1000 * i + k);
				add(&b, BP_KIND_STEP, text, 0, (k + i % 9) * (side ? 0.5 : 1.0), BP_STEP_DONE);
			}
			b.wall_s = 100 + i;
			analyzer_compare_add(c, side, &b);
			bp_build_release(&b);
		}
}

static int same_double(double a, double b)
{
	return a == b || (isnan(a) && isnan(b));
}

static void *rows_after_thread(void *c)
{
	analyzer_compare_rows(c, 1);
	return NULL;
}

/* The step rows made by two threads at once are the rows finish alone
 * makes: the same steps in the same order with the same figures. */
static void test_compare_rows_split(void)
{
	struct analyzer_compare one, two;
	pthread_t t;
	size_t i, bad = 0;

	fill_compare(&one);
	analyzer_compare_finish(&one);
	fill_compare(&two);
	analyzer_compare_side_done(&two, 0);
	analyzer_compare_side_done(&two, 1);
	analyzer_compare_rows_begin(&two);
	CHECK(!pthread_create(&t, NULL, rows_after_thread, &two));
	analyzer_compare_rows(&two, 0);
	pthread_join(t, NULL);
	analyzer_compare_finish(&two);
	/* 10 removed, 20 paired, 10 added, and 4 of each 7 texts name a build */
	CHECK(one.npaired > 0 && one.nrows > one.npaired + 20);
	CHECK_INT(two.nrows, one.nrows);
	CHECK_INT(two.npaired, one.npaired);
	for (i = 0; i < one.nrows && i < two.nrows; i++) {
		const struct analyzer_compare_row *a = &one.rows[i], *b = &two.rows[i];
		bad += !a->before != !b->before || !a->after != !b->after ||
		       strcmp((a->before ? a->before : a->after)->text, (b->before ? b->before : b->after)->text) ||
		       !same_double(a->before_median_s, b->before_median_s) ||
		       !same_double(a->after_median_s, b->after_median_s) || !same_double(a->speedup, b->speedup) ||
		       !same_double(a->lo[0], b->lo[0]) || !same_double(a->hi[0], b->hi[0]) ||
		       !same_double(a->lo[1], b->lo[1]) || !same_double(a->hi[1], b->hi[1]) ||
		       !same_double(a->p_value, b->p_value) || a->significant != b->significant;
	}
	CHECK_INT(bad, 0);
	/* added rows last */
	CHECK(one.nrows && one.rows[one.nrows - 1].before == NULL);
	CHECK(two.nrows && two.rows[two.nrows - 1].before == NULL && two.rows[0].after != NULL);
	CHECK_NEAR(two.geomean_speedup, one.geomean_speedup, 0);
	analyzer_compare_release(&one);
	analyzer_compare_release(&two);
}

/* Seconds under a minute as "%.1f s" gives them: ties (exact halves of
 * tenths, and values a hair either side), the edges of each form, and
 * thousands of durations as logs have them (milliseconds). */
static void test_report_seconds(void)
{
	static const double odd[] = { 0, -0.0, 0.05, 0.25, 0.35, 0.45, 2.45, 9.95, 9.96, 59.94, 59.95,
				      59.96, 59.999, 0.04999999999, 0.0500000001, 1e-9, -1, -0.05 };
	char got[32], want[32];
	size_t i, differ = 0;
	struct strbuf sb = STRBUF_INIT;

	for (i = 0; i < BP_ARRAY_SIZE(odd) + 59999; i++) {
		double s = i < BP_ARRAY_SIZE(odd) ? odd[i] : (double)(i - BP_ARRAY_SIZE(odd)) / 1000;
		report_seconds(s, got, sizeof(got));
		snprintf(want, sizeof(want), "%.1f s", s);
		if (strcmp(got, want) && !differ++)
			CHECK_STR(got, want);
	}
	CHECK_INT(differ, 0);
	CHECK_STR(report_seconds(60, got, sizeof(got)), "1m00s");
	CHECK_STR(report_seconds(99.5, got, sizeof(got)), "1m39s");
	CHECK_STR(report_seconds(86400, got, sizeof(got)), "24h00m");
	CHECK_STR(report_seconds(NAN, got, sizeof(got)), "?");
	report_step_label(&sb, "builder", 2, 10, "RUN make");
	CHECK_STR(sb.buf, "[builder 2/10] RUN make");
	strbuf_reset(&sb);
	report_step_label(&sb, NULL, 1, 3, NULL);
	CHECK_STR(sb.buf, "[1/3] ");
	strbuf_reset(&sb);
	report_step_label(&sb, "x", 1, 0, "FROM scratch");
	CHECK_STR(sb.buf, "FROM scratch");
	strbuf_release(&sb);
}

/* Percentages as "%.0f%%" gives them: every hundredth and thousandth of a
 * rate, the ties (0.5%, 2.5%, 12.5%), values a hair either side, and the
 * edges of the fast path, with buffers too short for it. */
static void test_report_percent(void)
{
	static const double odd[] = { 0, -0.0, 0.005, 0.025, 0.125, 0.0050000001, 0.0049999999, 0.995, 1,
				      9.99, 9.994999, 9.995, 9.995001, 10, 10.5, -0.001, -0.004, 1e-12, INFINITY };
	char got[32], want[32];
	size_t i, differ = 0;

	for (i = 0; i < BP_ARRAY_SIZE(odd) + 11001; i++) {
		double r = i < BP_ARRAY_SIZE(odd) ? odd[i] : (double)(i - BP_ARRAY_SIZE(odd)) / 1000;
		report_percent(r, got, sizeof(got));
		snprintf(want, sizeof(want), "%.0f%%", r * 100);
		if (strcmp(got, want) && !differ++)
			CHECK_STR(got, want);
	}
	CHECK_INT(differ, 0);
	CHECK_STR(report_percent(NAN, got, sizeof(got)), "?");
	CHECK_STR(report_percent(0.75, got, 4), "75%");
	CHECK_STR(report_percent(1, got, 4), "100");
	CHECK_STR(report_percent(1, got, 5), "100%");
}

/* report_ellipsize gives what snprintf "%.*s..." did: over each width and
 * buffer size, ASCII and UTF-8 text, cut or whole. */
static void test_report_ellipsize(void)
{
	static const char *const texts[] = { "", "RUN make", "RUN apk add --no-cache build-base git",
					     "COPY caf\xc3\xa9 \xe2\x86\x92 /\xc3\xa9t\xc3\xa9", "\xf0\x9f\x90\xb3 ok" };
	char got[40], want[40];
	size_t t, width, size, differ = 0;

	for (t = 0; t < BP_ARRAY_SIZE(texts); t++)
		for (width = 0; width < 44; width++)
			for (size = 0; size <= sizeof(got); size++) {
				const char *s = texts[t];
				size_t len = strlen(s), chars = 0, cut = 0, k;
				for (k = 0; k < len; k++)
					if (((unsigned char)s[k] & 0xc0) != 0x80 && chars++ == (width > 3 ? width - 3 : 0))
						cut = k;
				memset(got, 'x', sizeof(got));
				memcpy(want, got, sizeof(want));
				report_ellipsize(s, width, got, size);
				if (chars <= width || width < 4)
					snprintf(want, size, "%s", s);
				else
					snprintf(want, size, "%.*s...", (int)cut, s);
				if (memcmp(got, want, sizeof(got)) && !differ++)
					CHECK_STR(got, want);
			}
	CHECK_INT(differ, 0);
	CHECK_STR(report_ellipsize("RUN apk add git", 10, got, sizeof(got)), "RUN apk...");
	CHECK_STR(report_ellipsize("caf\xc3\xa9 \xc3\xa9t\xc3\xa9 x", 8, got, sizeof(got)), "caf\xc3\xa9 ...");
}

void test_analyzer(void)
{
	test_report_seconds();
	test_report_percent();
	test_report_ellipsize();
	test_compare_steps();
	test_compare_rows_split();
	test_history_index();
	test_history_merge();
	test_layer_keys();
	test_cache();
	test_timeline();
	test_timeline_estimated();
	test_selector_words();
	test_stats();
	test_summary();
	test_summary_groups();
}
