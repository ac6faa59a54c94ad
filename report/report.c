/*
 * report.c - the output format table and the formatting helpers every
 * format shares (durations, percentages, step labels, ellipsis).
 */
#include <math.h>
#include <string.h>

#include <jansson.h>

#include "buildprof/report.h"

extern const struct report_format report_text_format;
extern const struct report_format report_json_format;
extern const struct report_format report_markdown_format;
extern const struct report_format report_html_format;

static const struct report_format *const formats[] = {
	&report_text_format,
	&report_json_format,
	&report_markdown_format,
	&report_html_format,
};

const struct report_format *report_format(const char *name)
{
	size_t i;

	for (i = 0; i < BP_ARRAY_SIZE(formats); i++)
		if (!strcmp(formats[i]->name, name))
			return formats[i];
	return NULL;
}

const char *report_format_names(void)
{
	return "text, json, markdown, html";
}

void report_step_label(struct strbuf *sb, const char *stage, int index, int count,
		       const char *text)
{
	if (count > 0) { /* printf-free: a report writes one per slowest step */
		strbuf_addch(sb, '[');
		if (stage) {
			strbuf_addstr(sb, stage);
			strbuf_addch(sb, ' ');
		}
		strbuf_add_int(sb, index);
		strbuf_addch(sb, '/');
		strbuf_add_int(sb, count);
		strbuf_add(sb, "] ", 2);
	}
	strbuf_addstr(sb, text ? text : "");
}

const char *report_seconds(double s, char *buf, size_t size)
{
	double tenths = s * 10, frac = tenths - floor(tenths);

	if (isnan(s))
		snprintf(buf, size, "?");
	else if (s > 0 && s < 60 && fabs(frac - 0.5) > 1e-6 && size >= 8) {
		/* "%.1f s" without printf (a report writes one per slowest
		 * step): away from a tie, rounding s * 10 rounds s's tenths
		 * as printf does; at one, printf decides */
		int t = (int)rint(tenths);
		char *p = buf;
		if (t >= 100)
			*p++ = (char)('0' + t / 100);
		*p++ = (char)('0' + t / 10 % 10);
		*p++ = '.';
		*p++ = (char)('0' + t % 10);
		memcpy(p, " s", 3);
	} else if (s < 60)
		snprintf(buf, size, "%.1f s", s);
	else if (s < 3600)
		snprintf(buf, size, "%dm%02ds", (int)(s / 60), (int)fmod(s, 60));
	else
		snprintf(buf, size, "%dh%02dm", (int)(s / 3600), (int)fmod(s / 60, 60));
	return buf;
}

const char *report_bytes(long long bytes, char *buf, size_t size)
{
	static const char *const units[] = { "B", "kB", "MB", "GB", "TB" };
	double v = (double)bytes;
	size_t u = 0;

	if (bytes < 0) {
		snprintf(buf, size, "?");
		return buf;
	}
	while (v >= 1000 && u + 1 < BP_ARRAY_SIZE(units)) {
		v /= 1000;
		u++;
	}
	if (u == 0)
		snprintf(buf, size, "%lld B", bytes);
	else
		snprintf(buf, size, "%.1f %s", v, units[u]);
	return buf;
}

const char *report_percent(double rate, char *buf, size_t size)
{
	double v = rate * 100;

	if (v >= 0 && v < 999.5 && !signbit(v) && size >= 5) {
		/* "%.0f%%" without printf (a report writes two per build):
		 * rint rounds v as printf does, ties to even */
		int t = (int)rint(v);
		char *p = buf;
		if (t >= 100)
			*p++ = (char)('0' + t / 100);
		if (t >= 10)
			*p++ = (char)('0' + t / 10 % 10);
		*p++ = (char)('0' + t % 10);
		memcpy(p, "%", 2);
	} else if (isnan(rate)) {
		snprintf(buf, size, "?");
	} else {
		snprintf(buf, size, "%.0f%%", v);
	}
	return buf;
}

const char *report_ellipsize(const char *s, size_t width, char *buf, size_t size)
{
	size_t len = 0, chars = 0, cut = 0;
	const char *tail = "";

	/* count characters, not bytes: UTF-8 continuation bytes don't advance */
	for (len = 0; s[len]; len++) {
		if (((unsigned char)s[len] & 0xc0) != 0x80) {
			if (chars == (width > 3 ? width - 3 : 0))
				cut = len;
			chars++;
		}
	}
	if (chars <= width || width < 4)
		cut = len;
	else
		tail = "...";
	/* snprintf(buf, size, "%.*s%s", cut, s, tail) without printf (one per
	 * step line): what fits, cut at size */
	if (size) {
		size_t n = cut < size - 1 ? cut : size - 1, t = strlen(tail);
		if (t > size - 1 - n)
			t = size - 1 - n;
		memcpy(buf, s, n);
		memcpy(buf + n, tail, t);
		buf[n + t] = '\0';
	}
	return buf;
}

json_t *report_json_string(const char *s)
{
	struct strbuf clean = STRBUF_INIT;
	json_t *v;

	if (!s)
		return json_null();
	if ((v = json_string(s)))
		return v;
	strbuf_add_utf8_clean(&clean, s);
	v = json_string(clean.buf);
	strbuf_release(&clean);
	return v;
}

json_t *report_json_bytes(long long v)
{
	return v >= 0 ? json_integer(v) : json_null();
}

void report_json_set(json_t *o, const char *key, json_t *v)
{
	struct strbuf clean = STRBUF_INIT;

	/* cleaned first: a refused key would cost v, which jansson frees */
	strbuf_add_utf8_clean(&clean, key);
	json_object_set_new(o, clean.buf, v);
	strbuf_release(&clean);
}

static int append_json(const char *buf, size_t size, void *data)
{
	strbuf_add(data, buf, size);
	return 0;
}

void report_json_append(struct strbuf *sb, struct json_t *o, size_t flags)
{
	json_dump_callback(o, append_json, sb, flags);
}

void report_json_dump(struct json_t *o, FILE *out, size_t flags)
{
	/* jansson's json_dumpf writes token by token: a locked fwrite for every
	 * brace and comma was a seventh of a JSON report's time */
	static struct strbuf buf = STRBUF_INIT;

	strbuf_reset(&buf);
	report_json_append(&buf, o, flags);
	fwrite(buf.buf, 1, buf.len, out);
}
