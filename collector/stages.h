/*
 * stages.h - (collector-internal) following a Dockerfile's stages through a
 * log that prints FROM lines (legacy builder, buildah): the current stage's
 * name (its alias, else "stage-K" after the first) and its base image, with
 * "FROM <alias>" resolved to what that alias was built from.
 */
#ifndef BUILDPROF_STAGES_H
#define BUILDPROF_STAGES_H

#include <stddef.h>

struct stage_alias {
	char *alias;  /* "builder" */
	char *target; /* what it resolves to: "golang:1.22" or "scratch" */
};

struct stage_tracker {
	int count;                 /* FROM lines seen */
	char *name;                /* the current stage's name; NULL for an unnamed first stage */
	char *base;                /* the current stage's resolved FROM target */
	struct stage_alias *aliases;
	size_t naliases, alloc_aliases;
};

void stage_tracker_init(struct stage_tracker *t);
void stage_tracker_release(struct stage_tracker *t);
/* A "FROM [--platform=x] image [AS alias]" step: enters the next stage. */
void stage_tracker_from(struct stage_tracker *t, const char *from_text);

#endif
