/*
 * model.h - the plain records that flow collector -> store -> analyzer ->
 * report. They own their strings (free with the *_release functions); unknown
 * numbers are NAN, never 0, so "not measured" survives to the JSON as null.
 */
#ifndef BUILDPROF_MODEL_H
#define BUILDPROF_MODEL_H

#include <stddef.h>

#include "buildprof/util.h"

/* What a vertex / Dockerfile step is. Only BP_KIND_STEP counts as a "step". */
enum bp_step_kind {
	BP_KIND_STEP,     /* a Dockerfile instruction other than FROM */
	BP_KIND_FROM,     /* FROM: the base image pull, reported on its own */
	BP_KIND_INTERNAL, /* [internal] load ..., resolve image config, [auth] ... */
	BP_KIND_EXPORT,   /* exporting to image / oci / docker, importing to docker */
	BP_KIND_CACHE,    /* importing cache manifest, exporting cache */
};

enum bp_step_status {
	BP_STEP_DONE,
	BP_STEP_CACHED,
	BP_STEP_ERROR,
	BP_STEP_CANCELED,
	BP_STEP_INCOMPLETE, /* started but the log never said how it ended */
};

enum bp_build_status {
	BP_BUILD_SUCCESS,
	BP_BUILD_FAILED,
	BP_BUILD_INCOMPLETE, /* truncated, canceled or interrupted */
};

struct bp_label {
	char *key;   /* label name, e.g. "variant" */
	char *value; /* label value, e.g. "alpine" */
};

struct bp_step {
	int vertex;                 /* BuildKit #N, or the legacy step number; 0 when none */
	char *stage;                /* stage name ("builder", "stage-1"); NULL when unnamed */
	char *platform;             /* "linux/arm64" from a multi-platform prefix, else NULL */
	int index;                  /* i of "[stage i/n]" or "Step i/n"; 0 for other vertices */
	int count;                  /* n of the same; 0 for other vertices */
	char *instruction;          /* "RUN", "COPY", ...; NULL for internal vertices */
	char *text;                 /* the instruction with its arguments, or the vertex name */
	char *digest;               /* vertex digest when the log prints one, else NULL */
	enum bp_step_kind kind;     /* see enum */
	int cached;                 /* 1 when the result came from the cache */
	enum bp_step_status status; /* how it ended */
	double start_s;             /* start, seconds after the build started; NAN unknown */
	double duration_s;          /* seconds it ran; NAN when the log does not say */
	char *error;                /* the error message when status is error, else NULL */
	long output_lines;          /* lines of output the step printed */
	long first_line, end_line;  /* the input lines where the log first showed it and where
				     * it ended, 0 unknown: the order of events, from which
				     * a log without a clock still gives an estimated timeline */
};

struct bp_build {
	long id;                     /* store id; 0 until stored */
	char *name;                  /* the user's name for the build (--name, else the file) */
	char *format;                /* input format: "buildkit", "legacy", ... */
	enum bp_build_status status; /* see enum */
	double started_at;           /* epoch seconds; NAN when the log has no clock */
	double wall_s;               /* wall-clock duration; NAN when unknown */
	char *image_ref;             /* "docker.io/library/app:latest" when named, else NULL */
	char *image_id;              /* "sha256:..." of the built image, else NULL */
	char *base_image;            /* the final stage's FROM target, else NULL */
	char *error;                 /* the build's final error message, else NULL */
	char *source_path;           /* the input it came from (set by the store on read) */
	long long image_size;        /* size of the stored image it produced, -1 unknown (on read) */
	long long image_compressed;  /* its compressed size, -1 unknown (on read) */
	struct bp_label *labels;     /* key=value labels, keys unique */
	size_t nlabels, alloc_labels;
	struct bp_step *steps;       /* every vertex/step, in the order the log first showed it */
	size_t nsteps, alloc_steps;
	struct bp_strpool step_strings; /* when not empty, the steps' strings all live here (a
				      * build read from the store, or packed to go to another
				      * thread) and are freed with it, not one by one */
};

void bp_step_init(struct bp_step *step);
void bp_step_release(struct bp_step *step);
void bp_build_init(struct bp_build *b);
void bp_build_release(struct bp_build *b);
/* About the memory b holds, for bounding a queue of builds: not exact. */
size_t bp_build_footprint(const struct bp_build *b);
/* Makes dst (not initialised) a deep copy of src; bp_build_release it. */
void bp_build_copy(struct bp_build *dst, const struct bp_build *src);
/* A copy of s[0, len) kept in b->step_strings, for a step of b. A reader
 * that fills steps this way sets every string of them so: a report reads
 * four strings per step, and a malloc and a free for each were a fifth of
 * its time. Such a build's step strings must not be freed or replaced. */
char *bp_build_step_string(struct bp_build *b, const char *s, size_t len);
/* Moves b's step strings into b->step_strings, side by side, freeing each
 * loose one: for a build handed to another thread, which then reads a few
 * blocks, not a scattered string per field (see collector/ahead.c). The
 * steps' strings must not be freed or replaced after. */
void bp_build_pack_steps(struct bp_build *b);
/* Appends a fresh step (bp_step_init'd) and returns it (borrowed from b). */
struct bp_step *bp_build_add_step(struct bp_build *b);
/* Sets label key to value, replacing an earlier value of the same key. */
void bp_build_set_label(struct bp_build *b, const char *key, const char *value);
/* Returns the label's value (borrowed) or NULL. */
const char *bp_build_label(const struct bp_build *b, const char *key);

const char *bp_step_kind_name(enum bp_step_kind kind);
const char *bp_step_status_name(enum bp_step_status status);
const char *bp_build_status_name(enum bp_build_status status);
/* Parse the names above back; return 0, or -1 for an unknown name. */
int bp_step_kind_parse(const char *name, enum bp_step_kind *out);
int bp_step_status_parse(const char *name, enum bp_step_status *out);
int bp_build_status_parse(const char *name, enum bp_build_status *out);

/* One layer of an image, oldest first. Sizes are -1 when unknown. */
struct bp_layer {
	char *digest;              /* blob digest (manifests) or diff id (inspect), else NULL */
	long long size_bytes;      /* uncompressed size (history, inspect), -1 unknown */
	long long compressed_bytes; /* size in the registry (manifests), -1 unknown */
	char *media_type;          /* manifest media type, else NULL */
	char *created_by;          /* the command that made it (history, image config), else NULL */
	int empty;                 /* a metadata-only history entry (ENV, CMD): no bytes */
};

/* An image, from `docker image inspect`, `docker history` or a registry manifest. */
struct bp_image {
	long id;                   /* store id; 0 until stored */
	char *ref;                 /* "docker.io/library/app:1.2" or as the input named it, else NULL */
	char *image_id;            /* "sha256:..." of the config (docker's image id), else NULL */
	char *digest;              /* the manifest digest (what a registry serves), else NULL */
	char *platform;            /* "linux/amd64", else NULL */
	char *media_type;          /* the manifest's media type, else NULL */
	char *base_image;          /* the image it was built FROM, when known, else NULL */
	long long size_bytes;      /* uncompressed total, -1 unknown */
	long long compressed_bytes; /* sum of compressed layer sizes, -1 unknown */
	double created_at;         /* epoch seconds, NAN unknown */
	long build_id;             /* the stored build that produced it, 0 when none is known */
	char *source_path;         /* the input it came from (set by the store on read) */
	struct bp_layer *layers;   /* oldest first */
	size_t nlayers, alloc_layers;
};

void bp_image_init(struct bp_image *img);
void bp_image_release(struct bp_image *img);
/* About the memory img holds, as bp_build_footprint. */
size_t bp_image_footprint(const struct bp_image *img);
/* Appends a layer (sizes -1) and returns it (borrowed from img). */
struct bp_layer *bp_image_add_layer(struct bp_image *img);

/* CI pipelines (GitLab pipelines, GitHub workflow runs), their jobs and the
 * jobs' steps. Times are epoch seconds, NAN when unknown; statuses are
 * normalised: created, pending, running, success, failed, canceled,
 * skipped, manual, waiting. */
struct bp_job_step {
	int number;                /* position in the job (GitHub's step number) */
	char *name;
	char *status;
	double started_at, completed_at;
};

struct bp_job {
	long id;                   /* store id; 0 until stored */
	char *external_id;         /* the provider's job id */
	char *name, *stage, *status;
	double created_at, started_at, finished_at;
	double duration_s;         /* as the provider says, else finished - started; NAN unknown */
	double queued_s;           /* as the provider says, else started - created; NAN unknown */
	char *runner;              /* runner description / name, else NULL */
	int attempt;               /* run attempt (GitHub) / 0 unknown */
	struct bp_job_step *steps;
	size_t nsteps, alloc_steps;
};

struct bp_pipeline {
	long id;                   /* store id; 0 until stored */
	char *provider;            /* "gitlab" or "github" */
	char *external_id;         /* pipeline id / workflow run id */
	char *project;             /* project id or path, "owner/name"; NULL unknown */
	char *name;                /* pipeline name / workflow name, else NULL */
	char *ref, *sha, *status;
	double created_at, started_at, finished_at, duration_s, queued_s;
	struct bp_job *jobs;
	size_t njobs, alloc_jobs;
};

void bp_pipeline_init(struct bp_pipeline *p);
void bp_pipeline_release(struct bp_pipeline *p);
/* About the memory p holds, as bp_build_footprint. */
size_t bp_pipeline_footprint(const struct bp_pipeline *p);
/* Appends a job (times NAN) and returns it (borrowed from p). */
struct bp_job *bp_pipeline_add_job(struct bp_pipeline *p);
/* Appends a step (times NAN) and returns it (borrowed from j). */
struct bp_job_step *bp_job_add_step(struct bp_job *j);

/* A selection of builds, parsed from the command line's SELECTOR words.
 * Ids and ranges are OR'ed, the filters AND'ed, and last:N keeps the newest N
 * of what matched. */
struct bp_id_range {
	long lo, hi; /* inclusive */
};
struct bp_selector {
	struct bp_id_range *ranges;   /* ids and A..B ranges; none means "all" */
	size_t nranges, alloc_ranges;
	struct bp_label *labels;      /* label:K=V, all must match */
	size_t nlabels, alloc_labels;
	char **names;                 /* name:GLOB, any may match */
	size_t nnames, alloc_names;
	char *format;                 /* format:F, or NULL */
	char *status;                 /* status:S, or NULL */
	long last;                    /* last:N, 0 for no limit */
};
void bp_selector_init(struct bp_selector *sel);
void bp_selector_release(struct bp_selector *sel);
/* Whether sel is empty: it selects every build. */
int bp_selector_is_all(const struct bp_selector *sel);

#endif
