/*
 * error.c - error records (first error wins, as jansson's json_error_t) and
 * the stderr message helpers. Only the command layer calls die().
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buildprof/util.h"

void bp_error_init(struct bp_error *err)
{
	memset(err, 0, sizeof(*err));
}

int bp_error_isset(const struct bp_error *err)
{
	return err && err->text[0] != '\0';
}

int bp_error_set(struct bp_error *err, const char *source, long line, const char *fmt, ...)
{
	va_list ap;

	if (!err || bp_error_isset(err))
		return -1;
	snprintf(err->source, sizeof(err->source), "%s", source ? source : "");
	err->line = line;
	va_start(ap, fmt);
	vsnprintf(err->text, sizeof(err->text), fmt, ap);
	va_end(ap);
	if (!err->text[0])
		snprintf(err->text, sizeof(err->text), "unknown error");
	return -1;
}

const char *bp_error_format(const struct bp_error *err, char *buf, size_t size)
{
	if (err->source[0] && err->line > 0)
		snprintf(buf, size, "%s:%ld: %s", err->source, err->line, err->text);
	else if (err->source[0])
		snprintf(buf, size, "%s: %s", err->source, err->text);
	else
		snprintf(buf, size, "%s", err->text);
	return buf;
}

static void vreport(const char *prefix, const char *fmt, va_list ap)
{
	char msg[4096];

	vsnprintf(msg, sizeof(msg), fmt, ap);
	fprintf(stderr, "buildprof: %s%s\n", prefix, msg);
}

int error(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vreport("", fmt, ap);
	va_end(ap);
	return -1;
}

void warning(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vreport("warning: ", fmt, ap);
	va_end(ap);
}

void die(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vreport("fatal: ", fmt, ap);
	va_end(ap);
	exit(128);
}

void bug_fl(const char *file, int line, const char *fmt, ...)
{
	va_list ap;
	char msg[2048];

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	fprintf(stderr, "BUG: %s:%d: %s\n", file, line, msg);
	abort();
}
