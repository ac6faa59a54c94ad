/*
 * strbuf.c - the growable string buffer (after git's strbuf): buf always points
 * at a NUL-terminated string, so callers never test for NULL.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buildprof/util.h"

char strbuf_slopbuf[1];

void strbuf_init(struct strbuf *sb, size_t hint)
{
	sb->alloc = 0;
	sb->len = 0;
	sb->buf = strbuf_slopbuf;
	if (hint)
		strbuf_grow(sb, hint);
}

void strbuf_release(struct strbuf *sb)
{
	if (sb->alloc)
		free(sb->buf);
	strbuf_init(sb, 0);
}

char *strbuf_detach(struct strbuf *sb, size_t *len)
{
	char *res;

	strbuf_grow(sb, 0);
	res = sb->buf;
	if (len)
		*len = sb->len;
	strbuf_init(sb, 0);
	return res;
}

void strbuf_grow(struct strbuf *sb, size_t extra)
{
	size_t need;

	if (extra > SIZE_MAX - sb->len - 1)
		die("strbuf too large: %zu + %zu bytes", sb->len, extra);
	need = sb->len + extra + 1;
	if (need <= sb->alloc)
		return;
	if (!sb->alloc) {
		sb->buf = NULL;
		sb->alloc = 0;
	}
	{
		size_t n = sb->alloc ? sb->alloc : 64;
		while (n < need)
			n = n * 3 / 2 + 16;
		sb->buf = xrealloc(sb->buf, n);
		if (!sb->alloc)
			sb->buf[0] = '\0';
		sb->alloc = n;
	}
}

void strbuf_reset(struct strbuf *sb)
{
	strbuf_setlen(sb, 0);
}

void strbuf_setlen(struct strbuf *sb, size_t len)
{
	if (len > sb->len)
		bug_fl(__FILE__, __LINE__, "strbuf_setlen(%zu) beyond the length %zu", len, sb->len);
	sb->len = len;
	if (sb->alloc)
		sb->buf[len] = '\0';
}

/* The adds grow only when the room left (alloc - len, a NUL included)
 * falls short: a call to strbuf_grow for each was 3% of a JSON report's
 * samples (perf), which adds some thirty pieces per step. */
void strbuf_add(struct strbuf *sb, const void *data, size_t len)
{
	if (sb->alloc - sb->len <= len)
		strbuf_grow(sb, len);
	memcpy(sb->buf + sb->len, data, len);
	sb->len += len;
	sb->buf[sb->len] = '\0';
}

void strbuf_addstr(struct strbuf *sb, const char *s)
{
	strbuf_add(sb, s, strlen(s));
}

void strbuf_addch(struct strbuf *sb, int c)
{
	if (sb->alloc - sb->len <= 1)
		strbuf_grow(sb, 1);
	sb->buf[sb->len++] = (char)c;
	sb->buf[sb->len] = '\0';
}

void strbuf_vaddf(struct strbuf *sb, const char *fmt, va_list ap)
{
	va_list cp;
	int n;

	strbuf_grow(sb, 64);
	va_copy(cp, ap);
	n = vsnprintf(sb->buf + sb->len, sb->alloc - sb->len, fmt, cp);
	va_end(cp);
	if (n < 0)
		BUG("vsnprintf failed for format '%s'", fmt);
	if ((size_t)n >= sb->alloc - sb->len) {
		strbuf_grow(sb, (size_t)n);
		n = vsnprintf(sb->buf + sb->len, sb->alloc - sb->len, fmt, ap);
	}
	sb->len += (size_t)n;
}

void strbuf_addf(struct strbuf *sb, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	strbuf_vaddf(sb, fmt, ap);
	va_end(ap);
}

size_t bp_utf8_len(const unsigned char *p, size_t n)
{
	size_t len, i;
	unsigned int cp;

	if (p[0] < 0x80)
		return 1;
	if (p[0] >= 0xc2 && p[0] <= 0xdf) {
		len = 2;
		cp = p[0] & 0x1f;
	} else if (p[0] >= 0xe0 && p[0] <= 0xef) {
		len = 3;
		cp = p[0] & 0x0f;
	} else if (p[0] >= 0xf0 && p[0] <= 0xf4) {
		len = 4;
		cp = p[0] & 0x07;
	} else {
		return 0;
	}
	if (len > n)
		return 0;
	for (i = 1; i < len; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (p[i] & 0x3f);
	}
	if ((len == 3 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
	    (len == 4 && (cp < 0x10000 || cp > 0x10ffff)))
		return 0;
	return len;
}

void strbuf_add_utf8_clean(struct strbuf *sb, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t len;

	for (; *p; p += len ? len : 1) {
		/* the NUL ends a sequence cut short, so 4 reads past no string */
		len = bp_utf8_len(p, 4);
		if (len)
			strbuf_add(sb, p, len);
		else
			strbuf_addstr(sb, "\xef\xbf\xbd");
	}
}

/* Whether the eight bytes at p go into a JSON string as they are: none
 * below 0x20, none from 0x80 (UTF-8 is checked byte by byte), no quote and
 * no backslash. With no high bit set in w, taking 0x20 from each byte sets
 * a byte's high bit, by its borrow, only where the byte is below 0x20, and
 * taking 1 only where it is zero: in w xor'ed with eight quotes, a quote.
 * A borrow carried into the byte above may set that byte's bit too, but
 * only beside a byte that set its own. Most step texts have no byte to
 * escape, and scanning them a byte at a time was 4% of a JSON report's
 * samples. */
static int plain_word(const unsigned char *p)
{
	const uint64_t ones = 0x0101010101010101ULL, highs = ones << 7;
	uint64_t w;

	memcpy(&w, p, sizeof(w));
	return !((w | (w - ones * 0x20) | ((w ^ ones * '"') - ones) | ((w ^ ones * '\\') - ones)) & highs);
}

void strbuf_add_json_escaped(struct strbuf *sb, const char *s)
{
	const unsigned char *p = (const unsigned char *)s, *run = p, *end = p + strlen(s);

	for (; p < end; p++) {
		const char *esc;
		char u[8];
		size_t len;
		while (end - p >= 8 && plain_word(p))
			p += 8;
		if (p == end)
			break;
		if (*p >= 0x20 && *p < 0x80 && *p != '"' && *p != '\\')
			continue;
		/* the NUL ends a sequence cut short, so 4 reads past no string */
		if (*p >= 0x80 && (len = bp_utf8_len(p, 4))) {
			p += len - 1;
			continue;
		}
		strbuf_add(sb, run, (size_t)(p - run));
		run = p + 1;
		switch (*p) {
		case '"': esc = "\\\""; break;
		case '\\': esc = "\\\\"; break;
		case '\b': esc = "\\b"; break;
		case '\f': esc = "\\f"; break;
		case '\n': esc = "\\n"; break;
		case '\r': esc = "\\r"; break;
		case '\t': esc = "\\t"; break;
		default:
			if (*p >= 0x80) { /* a byte of no valid UTF-8 sequence */
				esc = "\xef\xbf\xbd";
				break;
			}
			snprintf(u, sizeof(u), "\\u%04X", *p);
			esc = u;
		}
		strbuf_addstr(sb, esc);
	}
	strbuf_add(sb, run, (size_t)(p - run));
}

/* 10^n for n in [0, 15]: exact as doubles */
static double pow10_of(int n)
{
	static const double p[] = { 1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7,
				    1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15 };

	return n < 0 ? 0 : p[n > 15 ? 15 : n];
}

static int decimal_digits(unsigned long long u)
{
	int d = 1;

	while (u >= 10) {
		u /= 10;
		d++;
	}
	return d;
}

void strbuf_add_int(struct strbuf *sb, long long v)
{
	char buf[24], *p = buf + sizeof(buf);
	unsigned long long u = v < 0 ? 0 - (unsigned long long)v : (unsigned long long)v;

	do
		*--p = (char)('0' + u % 10);
	while (u /= 10);
	if (v < 0)
		*--p = '-';
	strbuf_add(sb, p, (size_t)(buf + sizeof(buf) - p));
}

void strbuf_add_json_real(struct strbuf *sb, double v, int precision)
{
	char buf[48], *e;

	/* whole numbers with fewer digits than the precision print as "%.*g"
	 * prints them, plus ".0": without snprintf, which was a tenth of a JSON
	 * report (most durations of internal steps are 0) */
	if (precision <= 15 && v == floor(v) && fabs(v) < pow10_of(precision) &&
	    !(v == 0 && signbit(v))) {
		strbuf_add_int(sb, (long long)v);
		strbuf_add(sb, ".0", 2);
		return;
	}

	/* tenths, as a log's durations are ("DONE 2.4s") and their sums nearly
	 * are (4.199999999999999 for 2.4 + 1.8): "%.*g" rounds v to precision
	 * digits, and where that lands on k / 10 for a k of no more digits
	 * (d), prints k with a point before its last digit, or a whole number
	 * when that digit is 0 (and ".0" is added, as below). It lands there
	 * when v * 10 lies within half of 10^(d - precision) of k. Checked
	 * against 0.38 of it, not 0.5: v * 10 may be off by 0.11 of it at 15
	 * digits, and what is near the middle goes to snprintf. k is not 0:
	 * so small a v prints with an exponent. */
	if (precision >= 2 && precision <= 15 && fabs(v) < pow10_of(precision - 1)) {
		double t = v * 10;
		long long k = llrint(t);
		unsigned long long u = k < 0 ? 0 - (unsigned long long)k : (unsigned long long)k;
		int d = decimal_digits(u);
		if (u && d <= precision && fabs(t - (double)k) * pow10_of(precision - d) < 0.38) {
			char tail[2] = { '.', (char)('0' + u % 10) };
			if (k < 0)
				strbuf_addch(sb, '-');
			strbuf_add_int(sb, (long long)(u / 10));
			strbuf_add(sb, tail, 2);
			return;
		}
	}

	snprintf(buf, sizeof(buf) - 2, "%.*g", precision, v);
	if (!strchr(buf, '.') && !strchr(buf, 'e')) /* stays a real when read back */
		strcat(buf, ".0");
	if ((e = strchr(buf, 'e'))) { /* "1e+20" -> "1e20", "1.5e-07" -> "1.5e-7" */
		char *to = e + 1, *from = e + 1;
		if (*from == '-')
			to = ++from;
		else if (*from == '+')
			from++;
		while (*from == '0' && from[1])
			from++;
		memmove(to, from, strlen(from) + 1);
	}
	strbuf_addstr(sb, buf);
}

void strbuf_add_urlencoded(struct strbuf *sb, const char *s)
{
	for (; *s; s++) {
		if ((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') ||
		    strchr("-._~", *s))
			strbuf_addch(sb, *s);
		else
			strbuf_addf(sb, "%%%02X", (unsigned char)*s);
	}
}
