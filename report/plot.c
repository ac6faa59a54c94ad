/*
 * plot.c - the drawing layer over libplot (see plot.h). One place decides
 * margins, fonts, tick spacing and colours, so every chart reads the same.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h> /* plot.h needs FILE */
#include <plot.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buildprof/plot.h"
#include "buildprof/png.h"
#include "buildprof/report.h"

#define MARGIN_TOP 76
#define MARGIN_RIGHT 24
#define MARGIN_BOTTOM 56

struct plot {
	plPlotter *pl;
	plPlotterParams *params;
	FILE *out;           /* libplot's stream, into png or mem */
	struct png_sink *png; /* a PNG's pixels */
	char *mem;           /* an SVG as libplot wrote it */
	size_t memlen;
	char *path;
	struct strbuf *dest_mem; /* the caller's buffer, or NULL for the file */
	int width, height, svg;
	double left;              /* left margin: wide when rows carry labels */
	double xmin, xmax, ymin, ymax;
	size_t rows;
	int have_x, have_y;
};

/* libplot is loaded by the first chart, not at start: it and the fourteen
 * libraries it needs (X11, Xaw, Xt, xcb and others) cost every command
 * 1.7 ms to map and relocate (`buildprof --version` took 3.2 ms with them
 * linked, 1.5 ms without), and only plot and the HTML report draw.
 * libplot's <plot.h> still gives the prototypes; these are the functions
 * this file uses. */
static struct {
	__typeof__(pl_alabel_r) *alabel_r;
	__typeof__(pl_closepl_r) *closepl_r;
	__typeof__(pl_deletepl_r) *deletepl_r;
	__typeof__(pl_deleteplparams) *deleteplparams;
	__typeof__(pl_endpath_r) *endpath_r;
	__typeof__(pl_erase_r) *erase_r;
	__typeof__(pl_fbox_r) *fbox_r;
	__typeof__(pl_fcircle_r) *fcircle_r;
	__typeof__(pl_fcont_r) *fcont_r;
	__typeof__(pl_ffontsize_r) *ffontsize_r;
	__typeof__(pl_fillcolorname_r) *fillcolorname_r;
	__typeof__(pl_filltype_r) *filltype_r;
	__typeof__(pl_fline_r) *fline_r;
	__typeof__(pl_flinewidth_r) *flinewidth_r;
	__typeof__(pl_fmove_r) *fmove_r;
	__typeof__(pl_fontname_r) *fontname_r;
	__typeof__(pl_fspace_r) *fspace_r;
	__typeof__(pl_linemod_r) *linemod_r;
	__typeof__(pl_newpl_r) *newpl_r;
	__typeof__(pl_newplparams) *newplparams;
	__typeof__(pl_openpl_r) *openpl_r;
	__typeof__(pl_pencolorname_r) *pencolorname_r;
	__typeof__(pl_setplparam) *setplparam;
	__typeof__(pl_textangle_r) *textangle_r;
} lib;

#define SYM(field) { "pl_" #field, (void **)&lib.field }
static const struct bp_dynsym plot_symbols[] = {
	SYM(alabel_r),
	SYM(closepl_r),
	SYM(deletepl_r),
	SYM(deleteplparams),
	SYM(endpath_r),
	SYM(erase_r),
	SYM(fbox_r),
	SYM(fcircle_r),
	SYM(fcont_r),
	SYM(ffontsize_r),
	SYM(fillcolorname_r),
	SYM(filltype_r),
	SYM(fline_r),
	SYM(flinewidth_r),
	SYM(fmove_r),
	SYM(fontname_r),
	SYM(fspace_r),
	SYM(linemod_r),
	SYM(newpl_r),
	SYM(newplparams),
	SYM(openpl_r),
	SYM(pencolorname_r),
	SYM(setplparam),
	SYM(textangle_r),
	{ NULL, NULL }
};
#undef SYM

/* Loads libplot once. Returns 0, or -1 with err about path. */
static int load_libplot(const char *path, struct bp_error *err)
{
	static const char *const sonames[] = { "libplot.so.2", "libplot.so", NULL };
	static const struct bp_dynlib plot = { "libplot", "libplot2c2", sonames, plot_symbols };
	static int loaded;

	if (!loaded && bp_dynlib_load(&plot, path, err))
		return -1;
	loaded = 1;
	return 0;
}

static double px(const struct plot *p, double x)
{
	return p->left + (x - p->xmin) / (p->xmax - p->xmin) * (p->width - p->left - MARGIN_RIGHT);
}

static double py(const struct plot *p, double y)
{
	return MARGIN_BOTTOM + (y - p->ymin) / (p->ymax - p->ymin) * (p->height - MARGIN_TOP - MARGIN_BOTTOM);
}

/* The vertical middle of row r (rows run top to bottom). */
static double row_y(const struct plot *p, size_t r)
{
	double h = (double)(p->height - MARGIN_TOP - MARGIN_BOTTOM) / (double)(p->rows ? p->rows : 1);
	return p->height - MARGIN_TOP - h * ((double)r + 0.5);
}

static double row_h(const struct plot *p)
{
	return (double)(p->height - MARGIN_TOP - MARGIN_BOTTOM) / (double)(p->rows ? p->rows : 1);
}

static void font(struct plot *p, double size)
{
	lib.fontname_r(p->pl, p->svg ? "Helvetica" : "HersheySans");
	lib.ffontsize_r(p->pl, size);
}

static void text(struct plot *p, double x, double y, int hj, int vj, const char *s)
{
	char buf[256];
	size_t i;

	/* libplot reads backslash sequences; plain text stays plain */
	snprintf(buf, sizeof(buf), "%s", s);
	for (i = 0; buf[i]; i++)
		if (buf[i] == '\\' || (unsigned char)buf[i] >= 0x80)
			buf[i] = '?';
	lib.fmove_r(p->pl, x, y);
	lib.alabel_r(p->pl, hj, vj, buf);
}

int plot_path_is_png(const char *path)
{
	const char *dot = strrchr(path, '.');

	return dot && !strcmp(dot, ".png");
}

struct plot *plot_open(const struct plot_dest *dest, const char *title, const char *subtitle,
		       struct bp_error *err)
{
	const char *path = dest->path, *dot = strrchr(path, '.');
	int width = dest->width, height = dest->height;
	int svg = dot && !strcmp(dot, ".svg");
	struct plot *p;
	char size[32], page[80];

	if (!svg && !plot_path_is_png(path)) {
		bp_error_set(err, path, 0, "the chart's file name must end in .png or .svg");
		return NULL;
	}
	if (load_libplot(path, err))
		return NULL;
	p = xcalloc(1, sizeof(*p));
	p->svg = svg;
	p->width = width;
	p->height = height;
	p->left = 70;
	p->xmin = p->ymin = 0;
	p->xmax = p->ymax = 1;
	p->path = xstrdup(path);
	p->dest_mem = dest->mem;
	/* drawn into memory first: a PNG is encoded from the pixels, an SVG
	 * mended, and the file is only written once the chart is whole */
	if (p->svg)
		p->out = open_memstream(&p->mem, &p->memlen);
	else
		p->png = png_sink_open(&p->out);
	if (!p->out) {
		bp_error_set(err, path, 0, "cannot draw: %s", strerror(errno));
		free(p->path);
		free(p);
		return NULL;
	}
	p->params = lib.newplparams();
	snprintf(size, sizeof(size), "%dx%d", width, height);
	lib.setplparam(p->params, "BITMAPSIZE", size);
	/* an SVG is otherwise an 8-inch square that browsers stretch the chart
	 * into: give it the chart's size, at the CSS 96 pixels per inch */
	snprintf(page, sizeof(page), "letter,xsize=%.4fin,ysize=%.4fin", width / 96.0, height / 96.0);
	lib.setplparam(p->params, "PAGESIZE", page);
	lib.setplparam(p->params, "BG_COLOR", "white");
	/* a PNG is drawn on the PNM plotter and encoded by png.c */
	p->pl = lib.newpl_r(p->svg ? "svg" : "pnm", NULL, p->out, stderr, p->params);
	if (!p->pl || lib.openpl_r(p->pl) < 0) {
		bp_error_set(err, path, 0, "libplot could not start a %s plotter", p->svg ? "SVG" : "PNG");
		fclose(p->out);
		if (p->png)
			png_sink_free(p->png);
		free(p->mem);
		free(p->path);
		free(p);
		return NULL;
	}
	lib.fspace_r(p->pl, 0, 0, width, height);
	lib.erase_r(p->pl);
	lib.pencolorname_r(p->pl, "black");
	font(p, 16);
	text(p, width / 2.0, height - 20, 'c', 'c', title);
	if (subtitle) {
		font(p, 11);
		lib.pencolorname_r(p->pl, "dim gray");
		text(p, width / 2.0, height - 38, 'c', 'c', subtitle);
		lib.pencolorname_r(p->pl, "black");
	}
	return p;
}

/* Appends libplot's SVG to out with fill="none" on every polyline that
 * has no fill: libplot leaves it out for unfilled paths, and SVG's default
 * fill is black, so a browser would draw a line chart as a black polygon. */
static void add_svg_unfilled(struct strbuf *out, const char *svg, size_t len)
{
	static const char tag[] = "<polyline ";
	const char *p = svg, *end = svg + len, *hit, *close;

	while ((hit = memmem(p, (size_t)(end - p), tag, sizeof(tag) - 1))) {
		hit += sizeof(tag) - 1;
		strbuf_add(out, p, (size_t)(hit - p));
		close = memchr(hit, '>', (size_t)(end - hit));
		if (!close || !memmem(hit, (size_t)(close - hit), "fill=", 5))
			strbuf_addstr(out, "fill=\"none\" ");
		p = hit;
	}
	strbuf_add(out, p, (size_t)(end - p));
}

static int write_file(const char *path, const struct strbuf *bytes, struct bp_error *err)
{
	struct bp_output o;

	if (bp_output_open(&o, path, err))
		return -1;
	fwrite(bytes->buf, 1, bytes->len, o.f);
	return bp_output_commit(&o, err);
}

int plot_close(struct plot *p, struct bp_error *err)
{
	struct strbuf chart = STRBUF_INIT;
	int rc = 0;

	if (lib.closepl_r(p->pl) < 0)
		rc = bp_error_set(err, p->path, 0, "libplot could not finish the chart");
	lib.deletepl_r(p->pl);
	lib.deleteplparams(p->params);
	if (fclose(p->out) && !rc)
		rc = bp_error_set(err, p->path, 0, "cannot draw: %s", strerror(errno));
	if (p->png && !rc)
		rc = png_sink_encode(p->png, &chart, p->path, err);
	else if (p->png)
		png_sink_free(p->png);
	else if (!rc)
		add_svg_unfilled(&chart, p->mem, p->memlen);
	if (!rc) {
		if (p->dest_mem)
			strbuf_add(p->dest_mem, chart.buf, chart.len);
		else
			rc = write_file(p->path, &chart, err);
	}
	strbuf_release(&chart);
	free(p->mem);
	free(p->path);
	free(p);
	return rc;
}

/* A tick spacing of 1, 2 or 5 times a power of ten giving about 5 ticks. */
static double nice_step(double span)
{
	double raw = span / 5, mag = pow(10, floor(log10(raw))), f = raw / mag;

	return (f < 1.5 ? 1 : f < 3.5 ? 2 : f < 7.5 ? 5 : 10) * mag;
}

void plot_x_axis(struct plot *p, double xmin, double xmax, const char *label, plot_format fmt)
{
	double step, t;
	char buf[32];

	if (!(xmax > xmin))
		xmax = xmin + 1;
	step = nice_step(xmax - xmin);
	p->xmin = xmin;
	/* a value axis ends on a tick; a category axis (no tick labels) ends
	 * where its categories do, with no empty band on the right */
	p->xmax = fmt ? ceil(xmax / step) * step : xmax;
	p->have_x = 1;
	font(p, 10);
	for (t = ceil(xmin / step) * step; fmt && t <= p->xmax + step / 1000; t += step) {
		lib.pencolorname_r(p->pl, "light gray");
		lib.fline_r(p->pl, px(p, t), MARGIN_BOTTOM, px(p, t), p->height - MARGIN_TOP);
		lib.pencolorname_r(p->pl, "black");
		text(p, px(p, t), MARGIN_BOTTOM - 12, 'c', 'c', fmt(t, buf, sizeof(buf)));
	}
	lib.fline_r(p->pl, p->left, MARGIN_BOTTOM, p->width - MARGIN_RIGHT, MARGIN_BOTTOM);
	font(p, 11);
	text(p, (p->left + p->width - MARGIN_RIGHT) / 2, 14, 'c', 'c', label);
}

void plot_y_axis(struct plot *p, double ymin, double ymax, const char *label, plot_format fmt)
{
	double step, t;
	char buf[32];

	if (!(ymax > ymin))
		ymax = ymin + 1;
	step = nice_step(ymax - ymin);
	p->ymin = ymin;
	p->ymax = ceil(ymax / step) * step;
	p->have_y = 1;
	font(p, 10);
	for (t = ceil(ymin / step) * step; t <= p->ymax + step / 1000; t += step) {
		lib.pencolorname_r(p->pl, "light gray");
		lib.fline_r(p->pl, p->left, py(p, t), p->width - MARGIN_RIGHT, py(p, t));
		lib.pencolorname_r(p->pl, "black");
		text(p, p->left - 6, py(p, t), 'r', 'c', fmt ? fmt(t, buf, sizeof(buf)) : "");
	}
	lib.fline_r(p->pl, p->left, MARGIN_BOTTOM, p->left, p->height - MARGIN_TOP);
	font(p, 11);
	lib.fmove_r(p->pl, 14, (MARGIN_BOTTOM + p->height - MARGIN_TOP) / 2.0);
	lib.textangle_r(p->pl, 90);
	lib.alabel_r(p->pl, 'c', 'c', label);
	lib.textangle_r(p->pl, 0);
}

void plot_rows(struct plot *p, size_t n, const char *const *labels)
{
	char cut[128];
	size_t i;

	p->rows = n;
	p->left = p->width * 0.42; /* step names are long: give them room */
	font(p, n > 30 ? 8 : 10);
	for (i = 0; i < n; i++)
		text(p, p->left - 6, row_y(p, i), 'r', 'c',
		     report_ellipsize(labels[i], (size_t)(p->left / 6.5), cut, sizeof(cut)));
}

/* The vertical middle and half height of part k of n in row r. */
static void part_of_row(const struct plot *p, size_t r, int k, int n, double *y, double *h)
{
	/* bars fill 70% of the row, but not more than 44 pixels: a chart of
	 * one or two rows would otherwise be mostly bar */
	double rh = row_h(p), half = rh * 0.35 < 22 ? rh * 0.35 : 22, top = row_y(p, r) + half;

	*h = half / n;
	*y = top - *h * (2 * k + 1);
}

void plot_bar_part(struct plot *p, size_t r, int k, int n, double x0, double x1, const char *color,
		   int hollow)
{
	double y, h;

	part_of_row(p, r, k, n, &y, &h);
	lib.filltype_r(p->pl, hollow ? 0 : 1);
	lib.fillcolorname_r(p->pl, color);
	lib.pencolorname_r(p->pl, hollow ? color : "black");
	lib.fbox_r(p->pl, px(p, x0), y - h, px(p, x1 > x0 ? x1 : x0) + 1, y + h);
	lib.filltype_r(p->pl, 0);
	lib.pencolorname_r(p->pl, "black");
}

void plot_bar(struct plot *p, size_t r, double x0, double x1, const char *color, int hollow)
{
	plot_bar_part(p, r, 0, 1, x0, x1, color, hollow);
}

void plot_whisker(struct plot *p, size_t r, double x0, double x1, const char *color)
{
	double y = row_y(p, r), h = row_h(p) * 0.2;

	lib.pencolorname_r(p->pl, color);
	lib.fline_r(p->pl, px(p, x0), y, px(p, x1), y);
	lib.fline_r(p->pl, px(p, x1), y - h, px(p, x1), y + h);
	lib.pencolorname_r(p->pl, "black");
}

void plot_interval_part(struct plot *p, size_t r, int k, int n, double lo, double hi, const char *color)
{
	double y, h;

	part_of_row(p, r, k, n, &y, &h);
	h *= 0.6;
	lib.pencolorname_r(p->pl, color);
	lib.flinewidth_r(p->pl, 1.5);
	lib.fline_r(p->pl, px(p, lo), y, px(p, hi), y);
	lib.fline_r(p->pl, px(p, lo), y - h, px(p, lo), y + h);
	lib.fline_r(p->pl, px(p, hi), y - h, px(p, hi), y + h);
	lib.flinewidth_r(p->pl, 1);
	lib.pencolorname_r(p->pl, "black");
}

void plot_row_text(struct plot *p, size_t r, double x, const char *s)
{
	font(p, p->rows > 30 ? 8 : 10);
	text(p, px(p, x) + 6, row_y(p, r), 'l', 'c', s);
}

void plot_point(struct plot *p, double x, double y, const char *color)
{
	lib.filltype_r(p->pl, 1);
	lib.fillcolorname_r(p->pl, color);
	lib.pencolorname_r(p->pl, color);
	lib.fcircle_r(p->pl, px(p, x), py(p, y), 3.5);
	lib.filltype_r(p->pl, 0);
	lib.pencolorname_r(p->pl, "black");
}

void plot_line(struct plot *p, const double *x, const double *y, size_t n, const char *color, int dashed)
{
	size_t i;

	if (n < 2)
		return;
	lib.pencolorname_r(p->pl, color);
	lib.linemod_r(p->pl, dashed ? "longdashed" : "solid");
	lib.flinewidth_r(p->pl, 2);
	lib.fmove_r(p->pl, px(p, x[0]), py(p, y[0]));
	for (i = 1; i < n; i++)
		lib.fcont_r(p->pl, px(p, x[i]), py(p, y[i]));
	lib.endpath_r(p->pl);
	lib.flinewidth_r(p->pl, 1);
	lib.linemod_r(p->pl, "solid");
	lib.pencolorname_r(p->pl, "black");
}

void plot_x_text(struct plot *p, double x, const char *s)
{
	font(p, 9);
	text(p, px(p, x), MARGIN_BOTTOM - 26, 'c', 'c', s);
}

/* One row in the band between the subtitle and the plot, right-aligned. */
void plot_legend(struct plot *p, const char *const *names, const char *const *colors, size_t n)
{
	double x = p->width - MARGIN_RIGHT, y = p->height - MARGIN_TOP + 12;
	size_t i;

	font(p, 10);
	for (i = n; i > 0; i--)
		x -= 20 + 6.5 * (double)strlen(names[i - 1]);
	for (i = 0; i < n; i++) {
		lib.filltype_r(p->pl, 1);
		lib.fillcolorname_r(p->pl, colors[i]);
		lib.fbox_r(p->pl, x, y - 5, x + 10, y + 5);
		lib.filltype_r(p->pl, 0);
		text(p, x + 14, y, 'l', 'c', names[i]);
		x += 20 + 6.5 * (double)strlen(names[i]);
	}
}
