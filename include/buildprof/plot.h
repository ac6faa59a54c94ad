/*
 * plot.h - the small drawing layer every chart uses, over libplot
 * (plotutils): a canvas with a title, axes with nice ticks and units, rows
 * of labelled bars, points, lines and a legend. Charts draw through this
 * and never their own axes. Output is PNG or SVG by the file's extension,
 * byte-for-byte the same for the same data.
 */
#ifndef BUILDPROF_PLOT_H
#define BUILDPROF_PLOT_H

#include <stddef.h>

#include "buildprof/util.h"

struct plot;

/* Where a chart goes: the file path (its extension, ".png" or ".svg", picks
 * the format), or, when mem is set, the bytes appended to mem with path only
 * naming the chart (an SVG inlined in the HTML report). */
struct plot_dest {
	const char *path;
	int width, height;    /* pixels */
	struct strbuf *mem;
};
/* Whether a chart written to path is a PNG (its extension is ".png"). */
int plot_path_is_png(const char *path);
/* Opens a canvas for dest with a title and a subtitle (may be NULL).
 * Returns a new plot, or NULL with err set. */
struct plot *plot_open(const struct plot_dest *dest, const char *title, const char *subtitle,
		       struct bp_error *err);
/* Writes the file (atomically: no half chart is ever left) or the buffer,
 * and frees p. Returns 0 or -1 with err set. */
int plot_close(struct plot *p, struct bp_error *err);

/* Formats an axis value ("2m30s", "75%"). */
typedef const char *(*plot_format)(double v, char *buf, size_t size);

/* A value axis along x from xmin to xmax with nice ticks, a vertical grid
 * and a label under it; with fmt NULL, a category axis: exactly xmin to
 * xmax, no grid, the caller labels it (plot_x_text). */
void plot_x_axis(struct plot *p, double xmin, double xmax, const char *label, plot_format fmt);
/* The same along y. */
void plot_y_axis(struct plot *p, double ymin, double ymax, const char *label, plot_format fmt);
/* n category rows, top to bottom, labelled at the left (cut with "..."). */
void plot_rows(struct plot *p, size_t n, const char *const *labels);
/* A bar in row r from x0 to x1 (x axis units); outline only when hollow. */
void plot_bar(struct plot *p, size_t r, double x0, double x1, const char *color, int hollow);
/* The same in part k (0 at the top) of n stacked parts of row r: before
 * and after bars side by side in one row. */
void plot_bar_part(struct plot *p, size_t r, int k, int n, double x0, double x1, const char *color,
		   int hollow);
/* An interval from lo to hi, capped at both ends, in part k of n of row r. */
void plot_interval_part(struct plot *p, size_t r, int k, int n, double lo, double hi, const char *color);
/* A thin whisker in row r from x0 to x1 (a p95, an interval). */
void plot_whisker(struct plot *p, size_t r, double x0, double x1, const char *color);
/* Text right of x in row r (a bar's value). */
void plot_row_text(struct plot *p, size_t r, double x, const char *s);
/* A point and a polyline in x/y axis units. */
void plot_point(struct plot *p, double x, double y, const char *color);
void plot_line(struct plot *p, const double *x, const double *y, size_t n, const char *color, int dashed);
/* Text under the x axis at x (a category tick label). */
void plot_x_text(struct plot *p, double x, const char *s);
/* A legend in the top right corner. */
void plot_legend(struct plot *p, const char *const *names, const char *const *colors, size_t n);

#endif
