/*
 * png.c - a PNM image from libplot to PNG (see png.h). The image is read
 * as it is written, a chunk at a time: holding a chart's 1.8 MB of RGB
 * before encoding it cost more, in page faults, than the encoding saved.
 */
#include <png.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "buildprof/png.h"

/* larger sides are refused: --size is checked far below this */
#define PNM_MAX_SIDE 32768
/* a header longer than this is not libplot's */
#define PNM_HEAD_MAX 512

struct palette {
	png_color colors[256];
	int n;
	unsigned key[1024]; /* a direct-mapped cache: colour + 1, or 0 */
	unsigned char slot[1024];
};

struct png_sink {
	unsigned char head[PNM_HEAD_MAX];
	size_t head_len;
	int in_pixels, bad;
	char type;             /* '4' bitmap, '5' gray, '6' RGB */
	int width, height;
	size_t npix, total;    /* pixels read, pixels in the image */
	unsigned char part[3]; /* an RGB pixel split between two writes */
	int npart;
	unsigned char *idx;    /* a palette index per pixel */
	unsigned char *rgb;    /* or, past 256 colours, RGB per pixel */
	struct palette pal;
	unsigned last;         /* the last pixel's colour and index */
	int cur;
};

/* The palette index of rgb, added in order of first use; -1 past 256. */
static int palette_index(struct palette *pal, unsigned rgb)
{
	unsigned h = (rgb * 2654435761u) >> 22;
	int i;

	if (pal->key[h] == rgb + 1)
		return pal->slot[h];
	for (i = 0; i < pal->n; i++)
		if ((unsigned)pal->colors[i].red << 16 == (rgb & 0xff0000) &&
		    (unsigned)pal->colors[i].green << 8 == (rgb & 0xff00) && pal->colors[i].blue == (rgb & 0xff))
			break;
	if (i == pal->n) {
		if (pal->n == 256)
			return -1;
		pal->colors[i].red = (png_byte)(rgb >> 16);
		pal->colors[i].green = (png_byte)(rgb >> 8);
		pal->colors[i].blue = (png_byte)rgb;
		pal->n++;
	}
	pal->key[h] = rgb + 1;
	pal->slot[h] = (unsigned char)i;
	return i;
}

/* Reads the header's next number at *pos, past blanks and comments.
 * Returns it, -1 when the header is bad, or -2 when the bytes end before
 * the number does. */
static long pnm_number(const unsigned char *s, size_t len, size_t *pos)
{
	size_t i = *pos;
	long v = 0;

	for (;;) {
		while (i < len && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r'))
			i++;
		if (i < len && s[i] == '#') {
			while (i < len && s[i] != '\n')
				i++;
			continue;
		}
		break;
	}
	if (i == len)
		return -2;
	if (s[i] < '0' || s[i] > '9')
		return -1;
	while (i < len && s[i] >= '0' && s[i] <= '9' && v <= PNM_MAX_SIDE)
		v = v * 10 + (s[i++] - '0');
	if (i == len)
		return -2;
	*pos = i;
	return v;
}

/* Parses the header in sink->head. Returns where the pixels start, 0 when
 * more bytes are needed, or -1 when it is not a binary PNM header. */
static long pnm_header(struct png_sink *sink)
{
	const unsigned char *s = sink->head;
	size_t len = sink->head_len, pos = 2;
	long w, h = 0, maxval = 255;

	if (len >= 1 && s[0] != 'P')
		return -1;
	if (len < 2)
		return 0;
	if (s[1] != '4' && s[1] != '5' && s[1] != '6')
		return -1;
	if ((w = pnm_number(s, len, &pos)) < 0 || (h = pnm_number(s, len, &pos)) < 0 ||
	    (s[1] != '4' && (maxval = pnm_number(s, len, &pos)) < 0))
		return w == -2 || h == -2 || maxval == -2 ? 0 : -1;
	if (w < 1 || h < 1 || w > PNM_MAX_SIDE || h > PNM_MAX_SIDE || maxval != 255 ||
	    (s[pos] != ' ' && s[pos] != '\t' && s[pos] != '\n' && s[pos] != '\r'))
		return -1;
	sink->type = (char)s[1];
	sink->width = (int)w;
	sink->height = (int)h;
	return (long)pos + 1; /* past the one blank before the pixels */
}

/* Past 256 colours: the pixels so far back to RGB, and RGB from now on. */
static void sink_to_rgb(struct png_sink *sink)
{
	size_t i;

	sink->rgb = xmalloc(3 * sink->total);
	for (i = 0; i < sink->npix; i++) {
		const png_color *c = &sink->pal.colors[sink->idx[i]];
		sink->rgb[3 * i] = c->red;
		sink->rgb[3 * i + 1] = c->green;
		sink->rgb[3 * i + 2] = c->blue;
	}
	free(sink->idx);
	sink->idx = NULL;
}

static void sink_pixel(struct png_sink *sink, unsigned rgb)
{
	if (sink->npix == sink->total) {
		sink->bad = 1; /* more pixels than the header said */
		return;
	}
	if (sink->rgb) {
		unsigned char *p = sink->rgb + 3 * sink->npix++;
		p[0] = (unsigned char)(rgb >> 16);
		p[1] = (unsigned char)(rgb >> 8);
		p[2] = (unsigned char)rgb;
		return;
	}
	if (rgb != sink->last) {
		sink->cur = palette_index(&sink->pal, rgb);
		if (sink->cur < 0) {
			sink_to_rgb(sink);
			sink->last = 0x1000000; /* no colour */
			sink_pixel(sink, rgb);
			return;
		}
		sink->last = rgb;
	}
	sink->idx[sink->npix++] = (unsigned char)sink->cur;
}

/* n whole RGB pixels. A chart is mostly runs of one colour, and a pixel
 * of the last one's colour is only compared and its index stored: taking
 * each byte apart and each pixel through sink_pixel was a sixth of a
 * chart's time (perf, `plot steps` over 1,000 builds). */
static void sink_rgb_pixels(struct png_sink *sink, const unsigned char *p, size_t n)
{
	size_t i;

	for (i = 0; i < n && !sink->bad; i++, p += 3) {
		unsigned rgb = (unsigned)p[0] << 16 | (unsigned)p[1] << 8 | p[2];

		if (rgb == sink->last && sink->npix < sink->total)
			sink->idx[sink->npix++] = (unsigned char)sink->cur;
		else
			sink_pixel(sink, rgb);
	}
}

static void sink_pixels(struct png_sink *sink, const unsigned char *p, size_t n)
{
	size_t i;

	switch (sink->type) {
	case '4': /* 8 pixels a byte, 1 black, each row whole bytes */
		for (i = 0; i < n && !sink->bad; i++) {
			int x = (int)(sink->npix % (size_t)sink->width), bits = sink->width - x < 8 ? sink->width - x : 8;
			int b;
			for (b = 0; b < bits; b++)
				sink_pixel(sink, (p[i] >> (7 - b)) & 1 ? 0x000000 : 0xffffff);
		}
		break;
	case '5':
		for (i = 0; i < n && !sink->bad; i++)
			sink_pixel(sink, p[i] * 0x010101u);
		break;
	default:
		/* a pixel the last write began */
		for (; sink->npart && n; p++, n--) {
			sink->part[sink->npart++] = *p;
			if (sink->npart == 3) {
				sink_pixel(sink, (unsigned)sink->part[0] << 16 | (unsigned)sink->part[1] << 8 |
							 sink->part[2]);
				sink->npart = 0;
			}
		}
		if (sink->npart)
			break; /* still not whole */
		sink_rgb_pixels(sink, p, n / 3);
		memcpy(sink->part, p + n / 3 * 3, n % 3);
		sink->npart = (int)(n % 3);
	}
}

/* fopencookie's write: takes every byte, and marks the sink bad rather
 * than fail libplot's write, so the error is png_sink_encode's to tell. */
static ssize_t sink_write(void *cookie, const char *buf, size_t size)
{
	struct png_sink *sink = cookie;
	const unsigned char *p = (const unsigned char *)buf;
	size_t n = size;

	if (sink->bad)
		return (ssize_t)size;
	if (!sink->in_pixels) {
		size_t take = n < PNM_HEAD_MAX - sink->head_len ? n : PNM_HEAD_MAX - sink->head_len;
		size_t before = sink->head_len;
		long start;

		memcpy(sink->head + before, p, take);
		sink->head_len += take;
		start = pnm_header(sink);
		if (start < 0 || (start == 0 && sink->head_len == PNM_HEAD_MAX))
			sink->bad = 1;
		if (start <= 0)
			return (ssize_t)size;
		/* the header ends in this write (it did not end before it, so
		 * start > before): the rest of the write is pixels */
		p += (size_t)start - before;
		n -= (size_t)start - before;
		sink->in_pixels = 1;
		sink->total = (size_t)sink->width * (size_t)sink->height;
		sink->idx = xmalloc(sink->total);
	}
	sink_pixels(sink, p, n);
	return (ssize_t)size;
}

static int sink_close(void *cookie)
{
	(void)cookie;
	return 0;
}

struct png_sink *png_sink_open(FILE **stream)
{
	static const cookie_io_functions_t io = { .write = sink_write, .close = sink_close };
	struct png_sink *sink = xcalloc(1, sizeof(*sink));

	sink->last = 0x1000000; /* no colour */
	*stream = fopencookie(sink, "w", io);
	if (!*stream) {
		free(sink);
		return NULL;
	}
	return sink;
}

static void write_to_strbuf(png_structp png, png_bytep data, size_t len)
{
	strbuf_add(png_get_io_ptr(png), data, len);
}

static void flush_nothing(png_structp png)
{
	(void)png;
}

/* The bit depth a palette of n colours needs. */
static int palette_depth(int n)
{
	return n <= 2 ? 1 : n <= 4 ? 2 : n <= 16 ? 4 : 8;
}

/* Writes the sink's image through png to out; libpng's errors come back
 * by longjmp. */
static int encode_rows(png_structp png, png_infop info, const struct png_sink *sink, struct strbuf *out)
{
	size_t y, stride = sink->idx ? (size_t)sink->width : 3 * (size_t)sink->width;
	const unsigned char *rows = sink->idx ? sink->idx : sink->rgb;

	if (setjmp(png_jmpbuf(png)))
		return -1;
	png_set_write_fn(png, out, write_to_strbuf, flush_nothing);
	/* charts are runs of one colour: "up" repeats the row above as zeros
	 * and RLE packs the runs; trying every filter was most of the time */
	png_set_filter(png, PNG_FILTER_TYPE_BASE, PNG_FILTER_UP);
	png_set_compression_strategy(png, Z_RLE);
	if (sink->idx) {
		png_set_IHDR(png, info, (png_uint_32)sink->width, (png_uint_32)sink->height,
			     palette_depth(sink->pal.n), PNG_COLOR_TYPE_PALETTE, PNG_INTERLACE_NONE,
			     PNG_COMPRESSION_TYPE_BASE, PNG_FILTER_TYPE_BASE);
		png_set_PLTE(png, info, sink->pal.colors, sink->pal.n);
	} else {
		png_set_IHDR(png, info, (png_uint_32)sink->width, (png_uint_32)sink->height, 8,
			     PNG_COLOR_TYPE_RGB, PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_BASE,
			     PNG_FILTER_TYPE_BASE);
	}
	png_write_info(png, info);
	if (sink->idx)
		png_set_packing(png); /* one index a byte in, packed out */
	for (y = 0; y < (size_t)sink->height; y++)
		png_write_row(png, rows + y * stride);
	png_write_end(png, info);
	return 0;
}

static int encode(const struct png_sink *sink, struct strbuf *out)
{
	png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
	png_infop info = png ? png_create_info_struct(png) : NULL;
	int rc = info ? encode_rows(png, info, sink, out) : -1;

	png_destroy_write_struct(&png, info ? &info : NULL);
	return rc;
}

int png_sink_encode(struct png_sink *sink, struct strbuf *out, const char *name, struct bp_error *err)
{
	size_t start = out->len;
	int rc = 0;

	if (!sink->in_pixels || sink->bad || sink->npix != sink->total || sink->npart)
		rc = bp_error_set(err, name, 0, "the chart's pixels are not a whole binary PNM image");
	else if (encode(sink, out)) {
		strbuf_setlen(out, start);
		rc = bp_error_set(err, name, 0, "libpng could not encode the chart");
	}
	png_sink_free(sink);
	return rc;
}

void png_sink_free(struct png_sink *sink)
{
	free(sink->idx);
	free(sink->rgb);
	free(sink);
}

int png_from_pnm(struct strbuf *out, const void *pnm, size_t len, const char *name, struct bp_error *err)
{
	FILE *f;
	struct png_sink *sink = png_sink_open(&f);

	if (!sink)
		return bp_error_set(err, name, 0, "cannot encode: out of memory");
	fwrite(pnm, 1, len, f);
	fclose(f);
	return png_sink_encode(sink, out, name, err);
}
