/*
 * vertex.h - (collector-internal) what the two BuildKit parsers (plain
 * progress and rawjson) share: reading a vertex name ("[linux/arm64 builder
 * 2/6] RUN make") into a step's identity, the export vertex's status lines
 * that name the image, and judging a finished build.
 */
#ifndef BUILDPROF_VERTEX_H
#define BUILDPROF_VERTEX_H

#include "buildprof/model.h"

/* Sets s's text, kind, stage, platform, index/count and instruction from a
 * BuildKit vertex name (replacing earlier values). */
void vertex_identify(struct bp_step *s, const char *name);
/* An export vertex's status ("writing image sha256:...", "naming to ...",
 * "pushing manifest for ...") may name the image: fills *image_id or
 * *image_ref (new strings) when still NULL. */
void vertex_export_status(const char *status, char **image_id, char **image_ref);
/* Whether a build's vertices show its end: an export, or every stage that
 * appears reaching its last step. */
int vertex_build_shows_end(const struct bp_build *b);
/* The final stage's FROM target without digest (new string), or NULL. */
char *vertex_base_image(const struct bp_build *b);

#endif
