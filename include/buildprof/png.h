/*
 * png.h - encodes the charts' pixels as PNG. libplot draws a chart on its
 * PNM plotter into a png_sink's stream, which keeps each pixel as an index
 * into the chart's few colours as it arrives, and png_sink_encode writes
 * the PNG: an indexed image with the "up" filter and zlib's run-length
 * strategy. That is smaller than libplot's own PNG and a sixth of the
 * time: its PNG plotter tries every filter on every row of a 24-bit image
 * at zlib's default level, with no setting for either. No time stamp is
 * written, so the same chart is the same bytes.
 */
#ifndef BUILDPROF_PNG_H
#define BUILDPROF_PNG_H

#include <stddef.h>
#include <stdio.h>

#include "buildprof/util.h"

struct png_sink;

/* A new sink and, in *stream, the stream to write one binary PNM image
 * to (P4, P5 or P6 with maxval 255, as libplot writes them). fclose the
 * stream, then call png_sink_encode. Returns NULL when no stream can be
 * made (errno says why). */
struct png_sink *png_sink_open(FILE **stream);
/* Appends the PNG of the image written to sink's closed stream to out, and
 * frees sink. name is for messages. Returns 0, or -1 with err set when
 * what was written is not such an image; out is left as it was then. */
int png_sink_encode(struct png_sink *sink, struct strbuf *out, const char *name, struct bp_error *err);

/* Frees a sink whose image is not wanted, once its stream is closed. */
void png_sink_free(struct png_sink *sink);

/* png_sink's work on a PNM image in memory: appends its PNG to out. */
int png_from_pnm(struct strbuf *out, const void *pnm, size_t len, const char *name, struct bp_error *err);

#endif
