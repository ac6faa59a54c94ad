/*
 * redact.c - keeps credentials out of the database and every report. Build
 * logs are full of other people's commands: `docker login -p`, tokens in
 * clone URLs, `NPM_TOKEN=` assignments, curl's Authorization headers. The
 * line reader passes every line through here before any parser sees it.
 */
#include <ctype.h>
#include <string.h>
#include <strings.h>

#include "buildprof/util.h"

#define MASK "***"

/* Replaces s[from, to) with MASK in place: the text never grows (a value
 * shorter than the mask gets as many stars as it had bytes). Returns the
 * index just past the mask. */
static size_t mask(char *s, size_t from, size_t to)
{
	size_t len = strlen(s), m = to - from < 3 ? to - from : 3;

	memcpy(s + from, MASK, m);
	memmove(s + from + m, s + to, len - to + 1);
	return from + m;
}

static int is_value_end(char c)
{
	/* a backslash ends a value too: in a JSON line (rawjson) it escapes the
	 * closing quote, which must survive */
	return !c || isspace((unsigned char)c) || c == '"' || c == '\'' || c == ';' || c == '&' ||
	       c == '|' || c == ')' || c == '`' || c == '\\';
}

static size_t value_end(const char *s, size_t i)
{
	while (!is_value_end(s[i]))
		i++;
	return i;
}

static int already_masked(const char *s, size_t i)
{
	return !strncmp(s + i, MASK, 3) && is_value_end(s[i + 3]);
}

/* scheme://user:password@host -> scheme://user:***@host */
static int redact_urls(char *s)
{
	char *p = s;
	int changed = 0;

	while ((p = strstr(p, "://"))) {
		size_t a = (size_t)(p - s) + 3, i, colon = 0, at = 0;
		for (i = a; s[i] && !isspace((unsigned char)s[i]) && s[i] != '/' && s[i] != '"' && s[i] != '\''; i++) {
			if (s[i] == ':' && !colon)
				colon = i;
			if (s[i] == '@')
				at = i;
		}
		if (colon && at > colon + 1 && !already_masked(s, colon + 1)) {
			mask(s, colon + 1, at);
			changed = 1;
		}
		p = s + a;
	}
	return changed;
}

/* "Authorization: Basic abc", "PRIVATE-TOKEN: x", "JOB-TOKEN: x": the rest of the value */
static int redact_headers(char *s)
{
	static const char *const names[] = { "authorization:", "private-token:", "job-token:",
					     "proxy-authorization:", "x-api-key:" };
	int changed = 0;
	size_t k;

	for (k = 0; k < BP_ARRAY_SIZE(names); k++) {
		size_t n = strlen(names[k]), i;
		for (i = 0; s[i]; i++) {
			size_t v, e;
			if (strncasecmp(s + i, names[k], n))
				continue;
			v = i + n;
			while (s[v] == ' ')
				v++;
			/* the whole header value: up to the closing quote or the line's end */
			for (e = v; s[e] && s[e] != '"' && s[e] != '\'' && s[e] != '\\'; e++)
				;
			while (e > v && s[e - 1] == ' ')
				e--;
			if (e > v && !already_masked(s, v)) {
				mask(s, v, e);
				changed = 1;
			}
		}
	}
	return changed;
}

/* "Bearer <token>" anywhere */
static int redact_bearer(char *s)
{
	char *p = s;
	int changed = 0;

	while ((p = strstr(p, "Bearer "))) {
		size_t v = (size_t)(p - s) + 7, e = value_end(s, v);
		if (e > v && !already_masked(s, v)) {
			mask(s, v, e);
			changed = 1;
		}
		p = s + v;
	}
	return changed;
}

/* Masks the value after each "FLAG=value" or "FLAG value" in s, quoted or
 * not; a value starting with '-' is the next option, not a secret. */
static int mask_flag_values(char *s, const char *flag)
{
	size_t n = strlen(flag), i, v, e;
	int changed = 0;

	for (i = 0; s[i]; i++) {
		if (strncmp(s + i, flag, n) || (s[i + n] != '=' && s[i + n] != ' '))
			continue;
		v = i + n + 1;
		while (s[v] == ' ')
			v++;
		if (s[v] == '"' || s[v] == '\'')
			v++;
		e = value_end(s, v);
		if (e > v && !already_masked(s, v) && s[v] != '-') {
			mask(s, v, e);
			changed = 1;
		}
	}
	return changed;
}

/* --password X, --password=X, --token X; and -p X after "login" */
static int redact_flags(char *s)
{
	static const char *const flags[] = { "--password", "--token", "--passwd" };
	int changed = 0;
	size_t k;

	for (k = 0; k < BP_ARRAY_SIZE(flags); k++)
		changed |= mask_flag_values(s, flags[k]);
	if (strstr(s, "login"))
		changed |= mask_flag_values(s, " -p");
	return changed;
}

/* NPM_TOKEN=abc, DB_PASSWORD="x", GITHUB_TOKEN: the value of a secret-named variable */
static int redact_assignments(char *s)
{
	static const char *const words[] = { "TOKEN", "PASSWORD", "PASSWD", "SECRET" };
	int changed = 0;
	size_t i;

	for (const char *eq = s[0] ? strchr(s + 1, '=') : NULL; eq; eq = strchr(s + i + 1, '=')) {
		size_t start, v, e, k;
		int secret = 0;
		i = (size_t)(eq - s);
		start = i;
		while (start > 0 && (isalnum((unsigned char)s[start - 1]) || s[start - 1] == '_'))
			start--;
		for (k = 0; k < BP_ARRAY_SIZE(words) && !secret; k++) {
			size_t wl = strlen(words[k]), j;
			for (j = start; j + wl <= i && !secret; j++)
				secret = !strncasecmp(s + j, words[k], wl);
		}
		if (!secret)
			continue;
		v = i + 1;
		if (s[v] == '"' || s[v] == '\'')
			v++;
		e = value_end(s, v);
		if (e > v && !already_masked(s, v) && s[v] != '$') { /* "$TOKEN" is a reference, not a secret */
			mask(s, v, e);
			changed = 1;
		}
	}
	return changed;
}

/* Whether a header redact_headers masks may be named in s: each of their
 * names ends in one of these right before a colon. Looking back from the
 * colons, which are few, costs a fraction of searching every line for the
 * names (4% of ingest, asked of every line). */
static int has_header_name(const char *s)
{
	static const char *const ends[] = { "authorization", "-token", "x-api-key" };
	const char *c;
	size_t k;

	for (c = strchr(s, ':'); c; c = strchr(c + 1, ':'))
		for (k = 0; k < BP_ARRAY_SIZE(ends); k++) {
			size_t n = strlen(ends[k]);
			if ((size_t)(c - s) >= n && !strncasecmp(c - n, ends[k], n))
				return 1;
		}
	return 0;
}

int bp_redact(char *s)
{
	int changed = 0;

	/* cheap gates first: most lines hold none of these; every header name
	 * and URL needs a colon, every assignment an equals sign (and looks at
	 * nothing else) */
	if (strstr(s, "://"))
		changed |= redact_urls(s);
	if (has_header_name(s))
		changed |= redact_headers(s);
	if (strstr(s, "Bearer "))
		changed |= redact_bearer(s);
	if (strchr(s, '-') && (strstr(s, "--pass") || strstr(s, "--token") || strstr(s, " -p")))
		changed |= redact_flags(s);
	changed |= redact_assignments(s);
	return changed;
}
