/*
 * test_png.c - png.c's PNM to PNG: every pixel back as it went in, for each
 * PNM type, any split of the stream, past 256 colours, against libplot's
 * own PNG plotter; and what is refused. Decoding is libpng's.
 */
#include <stdio.h> /* plot.h needs FILE */
#include <plot.h>
#include <png.h>
#include <stdlib.h>
#include <string.h>

#include "buildprof/png.h"
#include "unit.h"

/* An RGB image: the test's side of each comparison. */
struct rgb {
	int w, h;
	unsigned char *px;
};

static struct strbuf pnm_of(const struct rgb *img, char type)
{
	struct strbuf sb = STRBUF_INIT;
	size_t i, n = (size_t)img->w * (size_t)img->h;
	int x, y;

	strbuf_addf(&sb, "P%c\n# CREATOR: a test\n%d %d\n", type, img->w, img->h);
	if (type != '4')
		strbuf_addstr(&sb, "255\n");
	if (type == '6')
		strbuf_add(&sb, img->px, 3 * n);
	else if (type == '5')
		for (i = 0; i < n; i++)
			strbuf_addch(&sb, img->px[3 * i]);
	else
		for (y = 0; y < img->h; y++) {
			int byte = 0, bits = 0;
			for (x = 0; x < img->w; x++) {
				byte = byte << 1 | (img->px[3 * ((size_t)y * (size_t)img->w + (size_t)x)] == 0);
				if (++bits == 8) {
					strbuf_addch(&sb, byte);
					byte = bits = 0;
				}
			}
			if (bits)
				strbuf_addch(&sb, byte << (8 - bits));
		}
	return sb;
}

/* Decodes png into out (RGB); returns 0, or -1 when libpng cannot. */
static int decode(const struct strbuf *png, struct rgb *out)
{
	png_image im;

	memset(&im, 0, sizeof(im));
	im.version = PNG_IMAGE_VERSION;
	if (!png_image_begin_read_from_memory(&im, png->buf, png->len))
		return -1;
	im.format = PNG_FORMAT_RGB;
	out->w = (int)im.width;
	out->h = (int)im.height;
	out->px = xmalloc(PNG_IMAGE_SIZE(im));
	if (!png_image_finish_read(&im, NULL, out->px, 0, NULL)) {
		free(out->px);
		return -1;
	}
	return 0;
}

/* The pixels that differ between a and b, or -1 when their sizes do. */
static long pixels_differing(const struct rgb *a, const struct rgb *b)
{
	size_t i, n = (size_t)a->w * (size_t)a->h;
	long d = 0;

	if (a->w != b->w || a->h != b->h)
		return -1;
	for (i = 0; i < n; i++)
		d += memcmp(a->px + 3 * i, b->px + 3 * i, 3) != 0;
	return d;
}

/* A chart-like image: white, a grid, bars; ncolors distinct colours
 * (ncolors 2 gives black and white, gray gives r = g = b). */
static struct rgb test_image(int w, int h, int ncolors, int gray)
{
	struct rgb img = { w, h, xmalloc(3 * (size_t)w * (size_t)h) };
	int x, y;

	for (y = 0; y < h; y++)
		for (x = 0; x < w; x++) {
			unsigned char *p = img.px + 3 * ((size_t)y * (size_t)w + (size_t)x);
			int c = (x / 3 + y * 7) % ncolors;
			if (ncolors == 2 || gray) {
				p[0] = p[1] = p[2] = ncolors == 2 ? (unsigned char)(c ? 0 : 255) : (unsigned char)(c * 7);
			} else {
				p[0] = (unsigned char)(c * 37);
				p[1] = (unsigned char)(c * 11 + 3);
				p[2] = (unsigned char)(c >> 1);
			}
		}
	return img;
}

/* The PNG's colour type and bit depth, from its IHDR. */
static int png_color_type(const struct strbuf *png)
{
	return png->len > 25 ? (unsigned char)png->buf[25] : -1;
}

static int png_bit_depth(const struct strbuf *png)
{
	return png->len > 24 ? (unsigned char)png->buf[24] : -1;
}

/* Encodes img as a PNM of type, decodes the PNG and counts the pixels
 * that came back different (-1: not encoded or not decoded). */
static long round_trip(const struct rgb *img, char type, struct strbuf *png)
{
	struct strbuf pnm = pnm_of(img, type);
	struct bp_error err;
	struct rgb back;
	long d = -1;

	bp_error_init(&err);
	strbuf_reset(png);
	if (png_from_pnm(png, pnm.buf, pnm.len, "t.png", &err) == 0 && decode(png, &back) == 0) {
		d = pixels_differing(img, &back);
		free(back.px);
	}
	strbuf_release(&pnm);
	return d;
}

static void test_png_types(void)
{
	struct strbuf png = STRBUF_INIT;
	struct rgb img;

	/* a chart's handful of colours: indexed, 4 bits a pixel */
	img = test_image(1000, 600, 9, 0);
	CHECK_INT(round_trip(&img, '6', &png), 0);
	CHECK_INT(png_color_type(&png), PNG_COLOR_TYPE_PALETTE);
	CHECK_INT(png_bit_depth(&png), 4);
	free(img.px);
	/* 17 to 256 colours: 8 bits a pixel */
	img = test_image(97, 31, 200, 0);
	CHECK_INT(round_trip(&img, '6', &png), 0);
	CHECK_INT(png_color_type(&png), PNG_COLOR_TYPE_PALETTE);
	CHECK_INT(png_bit_depth(&png), 8);
	free(img.px);
	/* past 256 colours the pixels already indexed go back to RGB */
	img = test_image(400, 300, 1000, 0);
	CHECK_INT(round_trip(&img, '6', &png), 0);
	CHECK_INT(png_color_type(&png), PNG_COLOR_TYPE_RGB);
	free(img.px);
	/* gray (P5) and a bitmap (P4) whose rows end inside a byte */
	img = test_image(61, 17, 30, 1);
	CHECK_INT(round_trip(&img, '5', &png), 0);
	free(img.px);
	img = test_image(13, 7, 2, 0);
	CHECK_INT(round_trip(&img, '4', &png), 0);
	CHECK_INT(png_bit_depth(&png), 1);
	free(img.px);
	strbuf_release(&png);
}

/* libplot writes through stdio in whatever pieces its buffer makes: a
 * byte at a time, the header and pixels split anywhere, is the same PNG. */
static void test_png_split_writes(void)
{
	struct rgb img = test_image(50, 60, 300, 0); /* turns RGB midway */
	struct strbuf pnm = pnm_of(&img, '6'), whole = STRBUF_INIT, split = STRBUF_INIT;
	struct bp_error err;
	struct png_sink *sink;
	FILE *f;
	size_t i;

	bp_error_init(&err);
	CHECK_INT(png_from_pnm(&whole, pnm.buf, pnm.len, "t.png", &err), 0);
	sink = png_sink_open(&f);
	CHECK(sink != NULL);
	if (sink) {
		setvbuf(f, NULL, _IONBF, 0);
		for (i = 0; i < pnm.len; i++)
			fputc((unsigned char)pnm.buf[i], f);
		fclose(f);
		CHECK_INT(png_sink_encode(sink, &split, "t.png", &err), 0);
		CHECK(whole.len == split.len && !memcmp(whole.buf, split.buf, whole.len));
	}
	strbuf_release(&whole);
	strbuf_release(&split);
	strbuf_release(&pnm);
	free(img.px);
}

static void test_png_refusals(void)
{
	static const char *const bad[] = {
		"",                    /* nothing */
		"P3\n2 1\n255\n0 0 0 0 0 0\n", /* text PPM */
		"P6\n2 1\n65535\n",    /* 16-bit */
		"P6\n0 1\n255\n",      /* no width */
		"P6\n99999 1\n255\n",  /* too wide */
		"P6\n2 1\n255\n\1\2\3\4\5", /* a byte short */
		"P6\n2 1\n255\n\1\2\3\4\5\6\7", /* a byte over */
		"P6\n2 1\n255\n\1\2\3\4\5\6\7\10\11", /* a pixel over */
		"P6\n2 1\n255",        /* ends in the header */
		"P6\n2 1\n255X\1\2\3\4\5\6", /* no blank before the pixels */
		"GIF89a",
	};
	struct strbuf out = STRBUF_INIT, longhead = STRBUF_INIT;
	struct bp_error err;
	size_t i;

	strbuf_addstr(&out, "kept");
	for (i = 0; i < BP_ARRAY_SIZE(bad); i++) {
		bp_error_init(&err);
		CHECK_INT(png_from_pnm(&out, bad[i], strlen(bad[i]), "c.png", &err), -1);
		CHECK_STR(err.source, "c.png");
		CHECK(strstr(err.text, "PNM") != NULL);
	}
	/* a comment longer than any header libplot writes */
	strbuf_addstr(&longhead, "P6\n#");
	for (i = 0; i < 600; i++)
		strbuf_addch(&longhead, 'x');
	strbuf_addstr(&longhead, "\n1 1\n255\n\1\2\3");
	bp_error_init(&err);
	CHECK_INT(png_from_pnm(&out, longhead.buf, longhead.len, "c.png", &err), -1);
	CHECK_STR(out.buf, "kept"); /* nothing appended by any refusal */
	strbuf_release(&longhead);
	strbuf_release(&out);
}

/* Draws the same picture on a libplot plotter of type into a string. */
static struct strbuf libplot_draw(const char *type)
{
	struct strbuf sb = STRBUF_INIT;
	char *mem = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&mem, &len);
	plPlotterParams *params = pl_newplparams();
	plPlotter *pl;

	pl_setplparam(params, "BITMAPSIZE", "300x200");
	pl_setplparam(params, "BG_COLOR", "white");
	pl = pl_newpl_r(type, NULL, f, stderr, params);
	pl_openpl_r(pl);
	pl_fspace_r(pl, 0, 0, 300, 200);
	pl_erase_r(pl);
	pl_pencolorname_r(pl, "light gray");
	pl_fline_r(pl, 10, 10, 290, 190);
	pl_fillcolorname_r(pl, "steel blue");
	pl_filltype_r(pl, 1);
	pl_fbox_r(pl, 40, 40, 120, 90);
	pl_pencolorname_r(pl, "red");
	pl_fcircle_r(pl, 200, 100, 30);
	pl_fontname_r(pl, "HersheySans");
	pl_ffontsize_r(pl, 14);
	pl_fmove_r(pl, 150, 180);
	pl_alabel_r(pl, 'c', 'c', "buildprof 12.5 s");
	pl_closepl_r(pl);
	pl_deletepl_r(pl);
	pl_deleteplparams(params);
	fclose(f);
	strbuf_add(&sb, mem, len);
	free(mem);
	return sb;
}

/* The charts' path (libplot's PNM plotter, then png.c) gives the pixels
 * libplot's own PNG plotter gives. */
static void test_png_like_libplot(void)
{
	struct strbuf theirs = libplot_draw("png"), pnm = libplot_draw("pnm"), ours = STRBUF_INIT;
	struct bp_error err;
	struct rgb a = { 0 }, b = { 0 };

	bp_error_init(&err);
	CHECK_INT(png_from_pnm(&ours, pnm.buf, pnm.len, "t.png", &err), 0);
	CHECK_INT(decode(&theirs, &a), 0);
	CHECK_INT(decode(&ours, &b), 0);
	if (a.px && b.px)
		CHECK_INT(pixels_differing(&a, &b), 0);
	CHECK(ours.len < theirs.len);
	free(a.px);
	free(b.px);
	strbuf_release(&theirs);
	strbuf_release(&pnm);
	strbuf_release(&ours);
}

void test_png(void)
{
	test_png_types();
	test_png_split_writes();
	test_png_refusals();
	test_png_like_libplot();
}
