/*
 * test_linereader.c - line splitting and cleaning as the parsers see it:
 * CRLF and lone CR, over-long lines, NUL bytes, invalid UTF-8, ANSI escapes,
 * wrapper timestamps, binary input.
 */
#include <stdlib.h>

#include "../../collector/linereader.h"
#include "unit.h"

/* a string literal and its length, NULs included */
#define S(lit) lit, sizeof(lit) - 1

struct lines {
	char *text[32];
	long lineno[32];
	double ts[32];
	int truncated[32];
	int n, rc;
	struct bp_error err;
	long long dropped;
};

static void read_all(const char *data, size_t len, struct lines *out)
{
	FILE *in = fmemopen((void *)data, len, "rb");
	struct line_reader lr;
	struct bp_line line;
	int r;

	memset(out, 0, sizeof(*out));
	bp_error_init(&out->err);
	line_reader_init(&lr, in, "t.log");
	while ((r = line_reader_next(&lr, &line, &out->err)) == 1 && out->n < 32) {
		out->text[out->n] = xstrdup(line.text);
		out->lineno[out->n] = line.lineno;
		out->ts[out->n] = line.ts;
		out->truncated[out->n] = line.truncated;
		out->n++;
	}
	out->rc = r;
	out->dropped = lr.dropped;
	line_reader_release(&lr);
	fclose(in);
}

static void lines_release(struct lines *l)
{
	int i;

	for (i = 0; i < l->n; i++)
		free(l->text[i]);
}

/* Each byte value, and a two-byte UTF-8 character, at each place of the
 * first two 8-byte words of a line and at its end: cleaning tests 8 bytes
 * at once where it can, and must find the one byte it keeps out. */
static void test_clean_every_byte(void)
{
	static const char base[] = "abcdefghijklmnopqrstuvwx";
	char line[32], want[64];
	struct lines l;
	int b, k, bad = 0;

	for (b = 1; b < 0x101; b++) {
		for (k = 0; k < 24; k++) {
			size_t n = 0;
			memcpy(line, base, 24);
			if (b == 0x100) { /* "é": kept whole */
				memcpy(line + k, "\xc3\xa9", 2);
				if (k == 23)
					continue;
			} else if (b == '\n' || b == '\r') {
				continue;
			} else {
				line[k] = (char)b;
			}
			line[24] = '\n';
			if (b == 0x1b) { /* an escape and its final byte go */
				memcpy(want, base, (size_t)k);
				n = (size_t)k;
				if (k < 23) {
					memcpy(want + n, base + k + 2, (size_t)(22 - k));
					n += (size_t)(22 - k);
				}
			} else if (b >= 0x80 && b < 0x100) { /* a lone byte of UTF-8 */
				memcpy(want, base, (size_t)k);
				memcpy(want + k, "\xef\xbf\xbd", 3);
				memcpy(want + k + 3, base + k + 1, (size_t)(23 - k));
				n = 26;
			} else {
				memcpy(want, line, 24);
				n = 24;
			}
			want[n] = '\0';
			read_all(line, 25, &l);
			if (l.n != 1 || strcmp(l.text[0], want)) {
				if (!bad++)
					fprintf(stderr, "byte 0x%x at %d cleaned to '%s', not '%s'\n", b, k,
						l.n ? l.text[0] : "(no line)", want);
			}
			lines_release(&l);
		}
	}
	CHECK_INT(bad, 0);
}

void test_linereader(void)
{
	struct lines l;
	char *big;
	size_t biglen = BP_LINE_MAX * 3 + 10;

	/* CRLF is one line end; a lone CR splits (progress redraws) without a new line number */
	read_all(S("a\r\nb\rc\nd"), &l);
	CHECK_INT(l.n, 4);
	CHECK_STR(l.text[0], "a");
	CHECK_STR(l.text[1], "b");
	CHECK_STR(l.text[2], "c");
	CHECK_STR(l.text[3], "d");
	CHECK_INT(l.lineno[1], 2);
	CHECK_INT(l.lineno[2], 2);
	CHECK_INT(l.lineno[3], 3);
	lines_release(&l);

	/* ANSI colour (the legacy builder's error output), NUL after the probe
	 * window would be replaced, invalid UTF-8 replaced by U+FFFD */
	read_all(S("\033[91mred\033[0m\n\xff ok\n"), &l);
	CHECK_STR(l.text[0], "red");
	CHECK_STR(l.text[1], "\xef\xbf\xbd ok");
	lines_release(&l);

	/* GitHub Actions timestamps peeled into ts */
	read_all(S("2020-05-14T10:55:14.5014590Z #11 DONE 0.0s\n2020-05-14T10:55:15.5Z \n"), &l);
	CHECK_INT(l.n, 2);
	CHECK_STR(l.text[0], "#11 DONE 0.0s");
	CHECK_STR(l.text[1], "");
	CHECK_NEAR(l.ts[1] - l.ts[0], 0.9985410, 1e-6);
	lines_release(&l);

	/* Go log prefixes */
	read_all(S("2024/03/29 14:00:00 Step 1/49 : ARG A\n2024/03/29 14:00:36  ---> Using cache\n"), &l);
	CHECK_STR(l.text[0], "Step 1/49 : ARG A");
	CHECK_STR(l.text[1], " ---> Using cache");
	CHECK_NEAR(l.ts[1] - l.ts[0], 36.0, 1e-9);
	lines_release(&l);

	/* an over-long line is cut, counted, and the next line is intact */
	big = malloc(biglen);
	memset(big, 'x', biglen);
	big[biglen - 3] = '\n';
	big[biglen - 2] = 'y';
	big[biglen - 1] = '\n';
	read_all(big, biglen, &l);
	CHECK_INT(l.n, 2);
	CHECK_INT(strlen(l.text[0]), BP_LINE_MAX);
	CHECK(l.truncated[0]);
	CHECK_STR(l.text[1], "y");
	CHECK_INT(l.dropped, (long long)(biglen - 3 - BP_LINE_MAX));
	lines_release(&l);

	/* a NUL byte near the start means binary: refused with its line */
	read_all(S("ok\nbin\0ary\n"), &l);
	CHECK_INT(l.rc, -1);
	CHECK_INT(l.err.line, 2);
	CHECK(strstr(l.err.text, "binary") != NULL);
	lines_release(&l);

	/* a NUL past the probe window is replaced, the line kept */
	big = realloc(big, 9000);
	memset(big, 'a', 9000);
	big[8999] = '\n';
	big[8100] = '\n';
	big[8500] = '\0';
	read_all(big, 9000, &l);
	CHECK_INT(l.rc, 0);
	CHECK_INT(l.n, 2);
	CHECK(strstr(l.text[1], "\xef\xbf\xbd") != NULL);
	lines_release(&l);
	free(big);
	test_clean_every_byte();
}
