/*
 * linereader.c - the one place that turns raw input bytes into text lines.
 * Every parser sees clean, valid UTF-8 lines of bounded length, so none of
 * them has to think about CRs, escapes, NULs or wrapper prefixes.
 */
#include <ctype.h>
#include <stddef.h>
#include <stdint.h>
#include <errno.h>
#include <stdlib.h>
#include <math.h>
#include <string.h>

#include "linereader.h"

/* Bytes at the start of the input that are checked for NUL (as git does). */
#define BINARY_PROBE 8000

void line_reader_init(struct line_reader *lr, FILE *in, const char *source)
{
	/* all but the buffer, which is only read where fill() has written */
	memset(lr, 0, offsetof(struct line_reader, buf));
	memset(&lr->pos, 0, sizeof(*lr) - offsetof(struct line_reader, pos));
	lr->in = in;
	lr->source = source;
	lr->lineno = 1;
	lr->last_ts = NAN;
	strbuf_init(&lr->raw, 256);
	strbuf_init(&lr->clean, 256);
	bp_sha256_init(&lr->sha);
}

void line_reader_release(struct line_reader *lr)
{
	strbuf_release(&lr->raw);
	strbuf_release(&lr->clean);
}

/* Takes in n fresh bytes now in lr->buf: the binary check (first chunk
 * only), the fingerprint and the byte count. */
static int accept(struct line_reader *lr, size_t n, struct bp_error *err)
{
	if (!lr->checked_binary) {
		size_t probe = n < BINARY_PROBE ? n : BINARY_PROBE;
		const unsigned char *nul = memchr(lr->buf, 0, probe);
		lr->checked_binary = 1;
		if (nul) {
			long line = 1;
			const unsigned char *p;
			for (p = lr->buf; p < nul; p++)
				line += *p == '\n';
			return bp_error_set(err, lr->source, line,
					    "binary data (a NUL byte at offset %ld), not a text log",
					    (long)(nul - lr->buf));
		}
	}
	bp_sha256_update(&lr->sha, lr->buf, n);
	lr->bytes += (long long)n;
	lr->pos = 0;
	lr->end = n;
	return 1;
}

static int fill(struct line_reader *lr, struct bp_error *err)
{
	size_t n;

	if (lr->eof)
		return 0;
	n = fread(lr->buf, 1, sizeof(lr->buf), lr->in);
	if (n == 0) {
		if (ferror(lr->in))
			return bp_error_set(err, lr->source, 0, "read error: %s", strerror(errno));
		lr->eof = 1;
		return 0;
	}
	return accept(lr, n, err);
}

int line_reader_preload(struct line_reader *lr, const void *data, size_t n, struct bp_error *err)
{
	if (n > sizeof(lr->buf))
		BUG("preload of %zu bytes", n);
	if (!n)
		return 0;
	memcpy(lr->buf, data, n);
	return accept(lr, n, err) < 0 ? -1 : 0;
}

static void append_raw(struct line_reader *lr, const unsigned char *p, size_t n)
{
	size_t room = BP_LINE_MAX - lr->raw.len;

	if (n > room) {
		lr->dropped += (long long)(n - room);
		lr->truncated = 1;
		n = room;
	}
	if (n)
		strbuf_add(&lr->raw, p, n);
}

/* Skips an ANSI escape sequence starting at p[0] == ESC; returns its length. */
static size_t escape_len(const unsigned char *p, size_t n)
{
	size_t i;

	if (n < 2)
		return 1;
	if (p[1] == '[') { /* CSI: parameters, then a final byte 0x40-0x7e */
		for (i = 2; i < n; i++)
			if (p[i] >= 0x40 && p[i] <= 0x7e)
				return i + 1;
		return n;
	}
	if (p[1] == ']') { /* OSC: up to BEL or ESC \ */
		for (i = 2; i < n; i++) {
			if (p[i] == 0x07)
				return i + 1;
			if (p[i] == 0x1b && i + 1 < n && p[i + 1] == '\\')
				return i + 2;
		}
		return n;
	}
	return 2;
}

/* Whether the 8 bytes at p are all printable ASCII (0x20-0x7f), in one
 * test: a byte of 0x80 or more sets its top bit in w, and a byte under 0x20
 * sets it in w - 0x20 repeated, while bytes in range set it in neither and
 * borrow nothing. Most bytes of a log pass, and a byte at a time was the
 * largest item of the parsing thread. */
static int printable8(const unsigned char *p)
{
	uint64_t w;

	memcpy(&w, p, sizeof(w));
	return !((w | (w - 0x2020202020202020ULL)) & 0x8080808080808080ULL);
}

/* Copies raw into clean: escapes removed, NUL and invalid UTF-8 replaced by
 * U+FFFD. Runs of bytes that need nothing are copied whole: one call per
 * byte was a tenth of an ingest's time. */
static void clean_line(struct line_reader *lr)
{
	const unsigned char *p = (const unsigned char *)lr->raw.buf;
	size_t n = lr->raw.len, i = 0, run = 0;

	strbuf_reset(&lr->clean);
	while (i < n) {
		size_t len;
		if (n - i >= 8 && printable8(p + i)) {
			i += 8;
			continue;
		}
		if (p[i] >= 0x20 && p[i] < 0x80) {
			i++;
			continue;
		}
		if (p[i] != 0x1b && p[i] != 0 && (len = bp_utf8_len(p + i, n - i))) {
			i += len;
			continue;
		}
		strbuf_add(&lr->clean, p + run, i - run);
		if (p[i] == 0x1b) {
			i += escape_len(p + i, n - i);
		} else {
			strbuf_addstr(&lr->clean, "\xef\xbf\xbd");
			i++;
		}
		run = i;
	}
	strbuf_add(&lr->clean, p + run, n - run);
}

static int match_digits(const char *s, int n)
{
	int i;

	for (i = 0; i < n; i++)
		if (!isdigit((unsigned char)s[i]))
			return 0;
	return 1;
}

/* Length of a wrapper prefix of the given kind at the start of s (with its
 * separating space), and its time in *ts; 0 when s has no such prefix. */
static size_t wrapper_prefix(enum line_wrapper kind, const char *s, double *ts)
{
	char tmp[48];
	size_t len;

	if (kind == WRAP_ISO) {
		/* 2020-05-14T10:55:14.5014590Z */
		if (!match_digits(s, 4) || s[4] != '-' || s[10] != 'T')
			return 0;
		len = strcspn(s, " ");
		if (len < 20 || len >= sizeof(tmp) || s[len - 1] != 'Z')
			return 0;
		memcpy(tmp, s, len);
		tmp[len] = '\0';
		if (bp_parse_time(tmp, ts))
			return 0;
		return s[len] == ' ' ? len + 1 : len;
	}
	if (kind == WRAP_GOLOG) {
		/* 2024/03/29 14:00:00 */
		if (!match_digits(s, 4) || s[4] != '/' || !match_digits(s + 5, 2) || s[7] != '/' ||
		    !match_digits(s + 8, 2) || s[10] != ' ' || !match_digits(s + 11, 2) ||
		    s[13] != ':' || !match_digits(s + 14, 2) || s[16] != ':' ||
		    !match_digits(s + 17, 2) || (s[19] != ' ' && s[19] != '\0'))
			return 0;
		snprintf(tmp, sizeof(tmp), "%.4s-%.2s-%.2sT%.8sZ", s, s + 5, s + 8, s + 11);
		if (bp_parse_time(tmp, ts))
			return 0;
		return s[19] == ' ' ? 20 : 19;
	}
	return 0;
}

static void peel_wrapper(struct line_reader *lr, struct bp_line *line)
{
	double ts = NAN;
	size_t len = 0;

	if (lr->wrapper == WRAP_UNDECIDED) {
		if (!line->len)
			return;
		if ((len = wrapper_prefix(WRAP_ISO, line->text, &ts)))
			lr->wrapper = WRAP_ISO;
		else if ((len = wrapper_prefix(WRAP_GOLOG, line->text, &ts)))
			lr->wrapper = WRAP_GOLOG;
		else
			lr->wrapper = WRAP_NONE;
	} else if (lr->wrapper != WRAP_NONE) {
		len = wrapper_prefix(lr->wrapper, line->text, &ts);
	}
	if (len) {
		line->text += len;
		line->len -= len;
		line->ts = ts;
	}
}

/* GitLab job logs mark sections: "section_start:1589453714:build_image"
 * (the rest of that physical line follows a CR, so it is a segment of its
 * own here). The marker becomes an empty line carrying its time. */
static int section_marker(struct bp_line *line)
{
	const char *s = line->text, *p;
	char *end;
	long long epoch;

	if (!strncmp(s, "section_start:", 14))
		p = s + 14;
	else if (!strncmp(s, "section_end:", 12))
		p = s + 12;
	else
		return 0;
	epoch = strtoll(p, &end, 10);
	if (end == p || *end != ':' || epoch < 0 || epoch > 32503680000LL)
		return 0;
	line->ts = (double)epoch;
	line->text += line->len;
	line->len = 0;
	return 1;
}

/* The first LF or CR in [p, end), or end: memchr's wide loads find the LF,
 * and the CR, rare in logs, is looked for only before it. */
static const unsigned char *segment_end(const unsigned char *p, const unsigned char *end)
{
	const unsigned char *lf = memchr(p, '\n', (size_t)(end - p)), *cr;

	if (!lf)
		lf = end;
	cr = memchr(p, '\r', (size_t)(lf - p));
	return cr ? cr : lf;
}

int line_reader_next(struct line_reader *lr, struct bp_line *line, struct bp_error *err)
{
	int ended = 0;

	strbuf_reset(&lr->raw);
	lr->truncated = 0;
	while (!ended) {
		const unsigned char *start, *stop;
		if (lr->pos == lr->end) {
			int r = fill(lr, err);
			if (r < 0)
				return -1;
			if (r == 0) {
				if (!lr->raw.len && !lr->truncated)
					return 0;
				break; /* a last line without a newline */
			}
		}
		/* A CR ended the previous segment: an LF right after it is its pair. */
		if (lr->after_cr) {
			lr->after_cr = 0;
			if (lr->buf[lr->pos] == '\n') {
				lr->pos++;
				lr->lineno++;
				continue;
			}
		}
		start = lr->buf + lr->pos;
		stop = segment_end(start, lr->buf + lr->end);
		append_raw(lr, start, (size_t)(stop - start));
		lr->pos = (size_t)(stop - lr->buf);
		if (stop < lr->buf + lr->end) {
			ended = *stop;
			lr->pos++;
		}
	}
	clean_line(lr);
	/* credentials never get past here: not into a step, an error or the database */
	if (bp_redact(lr->clean.buf))
		lr->clean.len = strlen(lr->clean.buf);
	memset(line, 0, sizeof(*line));
	line->text = lr->clean.buf;
	line->len = lr->clean.len;
	line->lineno = lr->lineno;
	line->ts = NAN;
	line->truncated = lr->truncated;
	if (!section_marker(line))
		peel_wrapper(lr, line);
	/* A wrapper clock that jumps back means the lines were reordered or
	 * spliced: durations taken from it would be wrong, so refuse. */
	if (!isnan(line->ts)) {
		if (!isnan(lr->last_ts) && line->ts < lr->last_ts - 1.0)
			return bp_error_set(err, lr->source, line->lineno,
					    "timestamps go backwards (%.3f s earlier than the line before)",
					    lr->last_ts - line->ts);
		lr->last_ts = line->ts;
	}
	if (ended == '\n')
		lr->lineno++;
	else if (ended == '\r')
		lr->after_cr = 1;
	lr->lines++;
	return 1;
}
