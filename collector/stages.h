/*
 * stages.h - (collector-internal) following a Dockerfile's stages through a
 * log that prints FROM lines (legacy builder, buildah): each stage's name
 * (its alias, else "stage-K" after the first) and its base image, with
 * "FROM <alias>" - or buildah's "FROM <image id of that stage>" - resolved
 * to what that stage was built from. Stages are numbered from 0; a log that
 * numbers them ("[2/5] STEP ...") may enter them out of order.
 */
#ifndef BUILDPROF_STAGES_H
#define BUILDPROF_STAGES_H

#include <stddef.h>

struct stage_info {
	char *name; /* alias, "stage-K", or NULL for an unnamed first stage */
	char *base; /* resolved FROM target */
};

struct stage_alias {
	char *alias;  /* "builder", or an image id the stage was committed as */
	char *target; /* what it resolves to: "golang:1.22" or "scratch" */
};

struct stage_tracker {
	struct stage_info *stages; /* indexed by stage number */
	size_t nstages, alloc_stages;
	int current;               /* the stage the last FROM entered; -1 before any */
	struct stage_alias *aliases;
	size_t naliases, alloc_aliases;
};

void stage_tracker_init(struct stage_tracker *t);
void stage_tracker_release(struct stage_tracker *t);
/* A "FROM [--platform=x] image [AS alias]" step entering stage `index`, or
 * the one after the current when index < 0. Returns the stage's index. */
int stage_tracker_from(struct stage_tracker *t, int index, const char *from_text);
/* Stage `index`'s name (borrowed), NULL when unnamed or unknown. */
const char *stage_tracker_name(const struct stage_tracker *t, int index);
/* The final stage's (highest index) base image (borrowed), or NULL. */
const char *stage_tracker_final_base(const struct stage_tracker *t);
/* Stage `index` was committed as image `id` (buildah: "--> 2b07b88e37e");
 * a later "FROM <that id, in full or short>" resolves like its alias. */
void stage_tracker_image(struct stage_tracker *t, int index, const char *id);

#endif
