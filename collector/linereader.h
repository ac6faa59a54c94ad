/*
 * linereader.h - (collector-internal) splits an input stream into bp_lines:
 * bounded line length, CRLF and lone CR, NUL bytes and invalid UTF-8 made
 * safe, ANSI escapes removed, and a CI wrapper's per-line timestamps
 * (GitHub Actions ISO prefixes, Go's log prefixes) peeled off into line->ts.
 */
#ifndef BUILDPROF_LINEREADER_H
#define BUILDPROF_LINEREADER_H

#include <stdio.h>

#include "buildprof/collector.h"
#include "buildprof/util.h"

enum line_wrapper {
	WRAP_UNDECIDED,
	WRAP_NONE,
	WRAP_ISO,    /* "2020-05-14T10:55:14.5014590Z text" (GitHub Actions raw logs) */
	WRAP_GOLOG,  /* "2024/03/29 14:00:00 text" (Go's log package) */
};

struct line_reader {
	FILE *in;
	const char *source;      /* for messages (borrowed) */
	unsigned char buf[65536];
	size_t pos, end;
	int eof;
	int after_cr;            /* the previous segment ended with a lone CR */
	long lineno;             /* line number of the segment being read */
	struct strbuf raw;       /* the segment as read, capped at BP_LINE_MAX */
	struct strbuf clean;     /* the segment after cleaning, what bp_line points at */
	int truncated;
	enum line_wrapper wrapper;
	struct bp_sha256 sha;
	long long bytes;         /* bytes read so far */
	long long dropped;       /* bytes cut from over-long lines */
	long lines;              /* segments returned */
	int checked_binary;
	double last_ts;          /* the latest wrapper time seen, NAN before any */
};

void line_reader_init(struct line_reader *lr, FILE *in, const char *source);
void line_reader_release(struct line_reader *lr);
/* Makes the reader start with n bytes already read from its input (at most
 * sizeof(lr->buf)). Returns 0, or -1 with err set (binary data). */
int line_reader_preload(struct line_reader *lr, const void *data, size_t n, struct bp_error *err);
/* Reads the next line into *line (valid until the next call). Returns 1 for a
 * line, 0 at the end, -1 with err set for a read error or binary data. */
int line_reader_next(struct line_reader *lr, struct bp_line *line, struct bp_error *err);

#endif
