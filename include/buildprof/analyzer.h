/*
 * analyzer.h - the read side's arithmetic: pure functions over plain records
 * (no SQL, no printing), so every metric is unit-testable without a
 * database. Metric definitions are in DESIGN.md, "Metrics".
 */
#ifndef BUILDPROF_ANALYZER_H
#define BUILDPROF_ANALYZER_H

#include <stddef.h>

#include "buildprof/model.h"
#include "buildprof/util.h"

/* Parses SELECTOR words (ID, A..B, label:K=V, name:GLOB, last:N, format:F,
 * status:S) into sel (bp_selector_init'd by the caller). Returns 0, or -1
 * with err naming the bad word. */
int analyzer_parse_selector(int argc, char *const argv[], struct bp_selector *sel,
			    struct bp_error *err);

struct analyzer_build_stats {
	int steps_total;          /* Dockerfile steps, FROM excluded */
	int steps_cached;         /* of those, from the cache */
	int vertices;             /* every vertex, internal ones included */
	int vertices_cached;      /* of those, from the cache */
	double cache_hit_rate;    /* steps_cached / steps_total; NAN without steps */
	double vertex_cache_rate; /* buildx's: vertices_cached / vertices; NAN when the
				   * log has no BuildKit internal vertices (legacy) */
	double step_seconds;      /* sum of known step durations; NAN when none is known */
	double from_seconds;      /* sum of known FROM (base image) durations; NAN if none */
	double overhead_seconds;  /* internal, export and cache vertices; NAN if none known */
	int steps_timed;          /* steps whose duration the input gave */
	long failed_step;         /* index in b->steps of the step that failed, -1 none */
};

void analyzer_build_stats(const struct bp_build *b, struct analyzer_build_stats *out);

/* Writes into idx up to max indices of b's steps (kind step or from) that
 * took a known, non-zero time, slowest first; returns how many. */
size_t analyzer_slowest_steps(const struct bp_build *b, size_t *idx, size_t max);

/* One row of the slowest steps over many builds (strings owned). */
struct analyzer_slow_step {
	long build_id;
	char *build_name;
	char *stage;
	int index, count;
	char *text;
	double duration_s;
};

/* A step's durations (known ones) over several builds. */
struct analyzer_step_series {
	char *stage;    /* NULL when unnamed */
	char *text;
	double *v;
	size_t n, alloc;
	size_t sorted_n; /* v[0..sorted_n) is in ascending order */
	long runs;      /* builds the step appeared in */
};

/* Step durations keyed by (stage, instruction text): the uncached history
 * of a build name (to price cache hits), or every run in a selection (for
 * typical times). Functions in analyzer/cache.c. */
struct analyzer_history {
	struct analyzer_step_series *series;
	size_t nseries, alloc_series;
	struct bp_hash_index index; /* series by (stage, text) */
	struct bp_strpool keys;     /* the series' stage and text strings */
};
void analyzer_history_init(struct analyzer_history *h);
/* Adds one run of a step (stage may be NULL; NAN durations are ignored). */
void analyzer_history_add(struct analyzer_history *h, const char *stage, const char *text,
			  double duration_s);
/* Adds b's Dockerfile steps that ran uncached to completion, with a known
 * duration: what store_uncached_steps reads of every build of a name. */
void analyzer_history_add_build(struct analyzer_history *h, const struct bp_build *b);
/* The series of (stage, text): found, or NULL; found or made (no runs yet). */
const struct analyzer_step_series *analyzer_history_find(const struct analyzer_history *h, const char *stage,
							 const char *text);
struct analyzer_step_series *analyzer_history_series(struct analyzer_history *h, const char *stage,
						     const char *text);
/* Puts each series' durations in order, once all are added: their medians
 * and quantiles are then read off without a sorted copy each time (a cached
 * step priced per build, a step's median and p95). The runs' order is not
 * kept. */
void analyzer_history_sort(struct analyzer_history *h);
/* The p-quantile of a series' durations: read off when sorted, else from a
 * sorted copy. */
double analyzer_series_quantile(const struct analyzer_step_series *s, double p);
void analyzer_history_release(struct analyzer_history *h);
/* Adds every run of from to h, after h's own: h then holds what adding
 * both sets of runs in that order would have made (a history read in two
 * halves at once, on two threads). */
void analyzer_history_merge(struct analyzer_history *h, const struct analyzer_history *from);
/* Appends a known duration to s, whose array grows from one slot. */
void analyzer_series_add(struct analyzer_step_series *s, double duration_s);

/* A step (or stage) over many builds: how long it usually and at worst takes. */
struct analyzer_typical {
	const struct analyzer_step_series *series; /* stage, text (NULL for a stage), durations */
	double median_s, p95_s;
};

/* Every series of h with its median and p95, slowest median first (a new
 * array of h->nseries); *n is the first top of them. Sorts h
 * (analyzer_history_sort). */
struct analyzer_typical *analyzer_typical_top(struct analyzer_history *h, size_t top, size_t *n);

/* Builds grouped by base image or a label's value (`report --by`). */
struct analyzer_group {
	char *key;                 /* the base image / label value; "(unknown)" when none */
	double *time;              /* per build: wall time, else step time (known ones) */
	size_t n, ntime, alloc_time;
	long steps_total, steps_cached;
	double *sizes;             /* known image sizes */
	size_t nsizes, alloc_sizes;
	double median_s;           /* results, by analyzer_summary_finish */
	double cache_hit_rate;
	double image_size;
};

/* Totals over a selection of builds, fed one build at a time. */
struct analyzer_summary {
	char *group_by;             /* "base" or "label:K", NULL for no grouping */
	struct analyzer_group *groups;
	size_t ngroups, alloc_groups;
	struct bp_hash_index group_index; /* groups by key */
	long builds;
	long by_status[3];          /* indexed by enum bp_build_status */
	long steps_total, steps_cached;
	double cache_hit_rate;      /* pooled: sum cached / sum steps; NAN without steps */
	double step_seconds;        /* sum over builds of known step time */
	struct analyzer_history steps;  /* every known step duration, by (stage, text) */
	struct analyzer_history stages; /* per build, each stage's summed step time */
	struct analyzer_typical *typical_steps, *typical_stages; /* by analyzer_summary_finish: */
	size_t ntypical_steps, ntypical_stages;                   /* slowest median first, top N */
	struct analyzer_slow_step *slowest; /* slowest first */
	size_t nslowest, top;
};

void analyzer_summary_init(struct analyzer_summary *sum, size_t top);
void analyzer_summary_add(struct analyzer_summary *sum, const struct bp_build *b,
			  const struct analyzer_build_stats *stats);
void analyzer_summary_release(struct analyzer_summary *sum);
/* Groups the builds added from now on by "base" or "label:KEY". Returns 0,
 * or -1 for another spec. */
int analyzer_summary_group_by(struct analyzer_summary *sum, const char *spec);
/* Computes the groups' medians and rates; call once all builds are added. */
void analyzer_summary_finish(struct analyzer_summary *sum);

/* --- statistics (analyzer/statistics.c), benchstat's method --- */

/* Median of n values (not changed); NAN when n is 0. */
double analyzer_median(const double *v, size_t n);
/* p-quantile (0..1) by linear interpolation between order statistics; NAN when n is 0. */
double analyzer_quantile(const double *v, size_t n, double p);
/* The 95% confidence interval of the median from order statistics: the
 * widest [x(k), x(n-k+1)] whose binomial coverage is at least 95%. Returns
 * 0, or -1 when n is too small for a finite interval (n < 6). */
int analyzer_median_ci(const double *v, size_t n, double *lo, double *hi);
/* Two-sided Mann-Whitney U test of a against b: the exact distribution when
 * there are no ties and a sample has at most 8 values, else the normal
 * approximation with tie and continuity corrections (as SciPy's "auto").
 * Returns the p-value, or NAN when a side has fewer than 4 values. */
double analyzer_mann_whitney(const double *a, size_t na, const double *b, size_t nb);
/* The same three on values already in ascending order (analyzer_sort):
 * no sorted copy, and the two samples of the U test ranked by merging. */
double analyzer_quantile_sorted(const double *s, size_t n, double p);
int analyzer_median_ci_sorted(const double *s, size_t n, double *lo, double *hi);
double analyzer_mann_whitney_sorted(const double *a, size_t na, const double *b, size_t nb);
/* Puts n known (not NAN) values in ascending order, in place. */
void analyzer_sort(double *v, size_t n);

/* --- before/after (analyzer/compare.c) --- */

struct analyzer_side {
	double *wall, *steps_s;    /* per build: wall time, sum of step time (NAN unknown) */
	size_t n, alloc;
	long steps_total, steps_cached;
	double *image_size;        /* known image sizes */
	size_t nsizes, alloc_sizes;
	struct analyzer_history steps; /* each step's runs (runs counts cached ones too) */
};

struct analyzer_compare_row {
	const struct analyzer_step_series *before, *after; /* either may be NULL (added/removed) */
	double before_median_s, after_median_s, speedup; /* NAN when unknown */
	double lo[2], hi[2];      /* 95% intervals of each side's median, NAN below 6 runs */
	double p_value;           /* Mann-Whitney U of the step's runs; NAN below 4 a side */
	int significant;          /* p_value < 0.05 */
};

struct analyzer_compare {
	struct analyzer_side side[2];   /* before, after */
	const char *metric;             /* "wall_s" or "step_seconds", the build time compared */
	size_t n[2];                    /* builds with that metric known */
	double median[2], lo[2], hi[2]; /* medians and 95% intervals (NAN when none) */
	double speedup;                 /* median before / median after */
	double p_value;                 /* Mann-Whitney U; NAN when a side has < 4 */
	int significant;                /* p_value < 0.05 */
	double cache_rate[2];           /* pooled cache hit rate per side */
	double image_size[2];           /* median image size per side, NAN unknown */
	struct analyzer_compare_row *rows; /* paired first, then removed, then added */
	size_t nrows, alloc_rows, npaired;
	size_t nadded;                  /* of them, added (by analyzer_compare_rows) */
	int rows_made[2];
	double geomean_speedup;         /* over paired rows with non-zero times; NAN when none */
	size_t ngeomean;                /* how many rows that mean is over */
	char warnings[3][160];          /* small samples, said plainly */
	int nwarnings;
};

void analyzer_compare_init(struct analyzer_compare *c);
/* Adds a build to side 0 (before) or 1 (after). A side touches only its
 * own part of c: the two sides may be filled on two threads, each with its
 * own calls. */
void analyzer_compare_add(struct analyzer_compare *c, int side, const struct bp_build *b);
/* Optional: does the work on a side that needs all of it added (sorting
 * each step's durations), on the thread that filled it; finish does what
 * is left undone. */
void analyzer_compare_side_done(struct analyzer_compare *c, int side);
/* Optional, once both sides are done (both side_done calls returned):
 * rows_begin makes room for the step rows, then rows makes one side's,
 * side 0 a row for each of its steps, side 1 one for each step side 0
 * lacks. Each reads both sides and writes only its own rows, so the two
 * may run at once on two threads, after rows_begin returned; finish makes
 * those not yet made. */
void analyzer_compare_rows_begin(struct analyzer_compare *c);
void analyzer_compare_rows(struct analyzer_compare *c, int side);
/* Computes the result fields from what was added. */
void analyzer_compare_finish(struct analyzer_compare *c);
void analyzer_compare_release(struct analyzer_compare *c);

/* --- timeline (analyzer/timeline.c) --- */
struct analyzer_timeline {
	int known;                /* the build has start times (rawjson, `run`, a CI wrapper) */
	int measured;             /* ... measured per vertex (rawjson), not from line arrival */
	int estimated;            /* no clock: start times estimated from log order and durations */
	double wall_s;            /* the build's wall time */
	double busy_s;            /* sum of the vertices' durations */
	double parallelism;       /* busy_s / wall_s; NAN when unknown */
	double critical_path_s;   /* the longest chain of vertices, each starting after the
				   * one before it ended; NAN when unknown */
	double *start_s;          /* per step: the start used (the log's, or estimated), NAN unknown */
	double *exclusive_s;      /* per step of the build: time no other vertex ran, NAN unknown */
	unsigned char *critical;  /* per step: on the critical path */
	size_t n;
};
/* Computes the timeline of b into t (release with analyzer_timeline_release). */
void analyzer_timeline(const struct bp_build *b, struct analyzer_timeline *t);
void analyzer_timeline_release(struct analyzer_timeline *t);
/* The same over a pipeline's jobs (one entry per job, in p's order). */
void analyzer_pipeline_timeline(const struct bp_pipeline *p, struct analyzer_timeline *t);
/* How many times job i of p was retried: the other runs of the same job
 * (same stage and name) in the pipeline, as GitLab lists them with
 * include_retried, or its GitHub run attempt less one. */
int analyzer_job_retries(const struct bp_pipeline *p, size_t i);

struct analyzer_breaker {
	size_t step;              /* index in the build's steps of the step that broke the cache */
	size_t ninvalidated;      /* steps of the same stage after it that ran too */
	double invalidated_s;     /* their known time (NAN when none known) */
};

struct analyzer_cache {
	double seconds_saved;     /* sum over cached steps of their median uncached time in
				   * the history; NAN when no cached step has any */
	int steps_priced;         /* cached steps with a known price */
	long previous_id;         /* the previous build of the same name, 0 when none */
	struct analyzer_breaker *breakers; /* one per stage at most */
	size_t nbreakers;
};
/* Compares b with prev (the previous build of the same name, or NULL) and
 * prices its cache hits from h (may be NULL). Release with analyzer_cache_release. */
void analyzer_cache(const struct bp_build *b, const struct bp_build *prev,
		    const struct analyzer_history *h, struct analyzer_cache *out);
void analyzer_cache_release(struct analyzer_cache *c);

/* --- sizes (analyzer/sizes.c) --- */

/* "COPY busybox /bin/busybox # buildkit", "/bin/sh -c #(nop) COPY file:ab in
 * /bin/busybox" and the step "COPY busybox /bin/busybox" all give the key
 * "COPY ->/bin/busybox"; RUN keys are the command without the /bin/sh -c
 * wrapper, exec-form arrays joined. Returns a new string. */
char *analyzer_layer_key(const char *created_by);
char *analyzer_step_key(const char *step_text);

struct analyzer_sizes {
	int known;               /* the build's image, with layers, is stored */
	long long size_bytes;    /* the image's size, -1 unknown */
	long long added_bytes;   /* layers made by this build's steps, -1 unknown */
	long long base_bytes;    /* layers that came with the base image, -1 unknown */
	long *step_of_layer;     /* per layer of the image: the step index that made it, -1 */
	size_t nlayers;
};
/* Attributes img's layers (from docker history or a config) to b's steps. */
void analyzer_sizes(const struct bp_build *b, const struct bp_image *img, struct analyzer_sizes *out);
void analyzer_sizes_release(struct analyzer_sizes *s);

/* Everything the report shows about one build. */
struct analyzer_analysis {
	struct analyzer_build_stats stats;
	struct analyzer_timeline timeline;
	struct analyzer_cache cache;
	const struct bp_image *image;  /* its stored image with layers, or NULL */
	struct analyzer_sizes sizes;
};

#endif
