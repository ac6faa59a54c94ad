/*
 * selector.c - parses the SELECTOR words every read command takes into a
 * bp_selector; the store turns it into SQL.
 */
#include <stdlib.h>
#include <string.h>

#include "buildprof/analyzer.h"

#define MAX_ID 9000000000000000000L

static int parse_range(const char *w, struct bp_selector *sel)
{
	const char *dots = strstr(w, "..");
	long lo, hi;

	if (dots) {
		char *a = xstrndup(w, (size_t)(dots - w));
		int bad = bp_parse_long(a, 1, MAX_ID, &lo) || bp_parse_long(dots + 2, 1, MAX_ID, &hi);
		free(a);
		if (bad || lo > hi)
			return -1;
	} else {
		if (bp_parse_long(w, 1, MAX_ID, &lo))
			return -1;
		hi = lo;
	}
	BP_GROW(sel->ranges, sel->nranges + 1, sel->alloc_ranges);
	sel->ranges[sel->nranges].lo = lo;
	sel->ranges[sel->nranges].hi = hi;
	sel->nranges++;
	return 0;
}

static int parse_one(const char *w, struct bp_selector *sel, struct bp_error *err)
{
	const char *eq;
	enum bp_build_status st;

	if (!strncmp(w, "label:", 6)) {
		eq = strchr(w + 6, '=');
		if (!eq || eq == w + 6)
			return bp_error_set(err, NULL, 0, "bad selector '%s': expected label:KEY=VALUE", w);
		BP_GROW(sel->labels, sel->nlabels + 1, sel->alloc_labels);
		sel->labels[sel->nlabels].key = xstrndup(w + 6, (size_t)(eq - (w + 6)));
		sel->labels[sel->nlabels].value = xstrdup(eq + 1);
		sel->nlabels++;
	} else if (!strncmp(w, "name:", 5)) {
		if (!w[5])
			return bp_error_set(err, NULL, 0, "bad selector '%s': expected name:GLOB", w);
		BP_GROW(sel->names, sel->nnames + 1, sel->alloc_names);
		sel->names[sel->nnames++] = xstrdup(w + 5);
	} else if (!strncmp(w, "last:", 5)) {
		if (bp_parse_long(w + 5, 1, MAX_ID, &sel->last))
			return bp_error_set(err, NULL, 0,
					    "bad selector '%s': expected last:N with N >= 1", w);
	} else if (!strncmp(w, "format:", 7)) {
		free(sel->format);
		sel->format = xstrdup(w + 7);
	} else if (!strncmp(w, "status:", 7)) {
		if (bp_build_status_parse(w + 7, &st))
			return bp_error_set(err, NULL, 0,
					    "bad selector '%s': status is success, failed or incomplete", w);
		free(sel->status);
		sel->status = xstrdup(w + 7);
	} else if (parse_range(w, sel)) {
		return bp_error_set(err, NULL, 0,
				    "bad selector '%s': expected ID, A..B, label:K=V, name:GLOB, "
				    "last:N, format:F or status:S", w);
	}
	return 0;
}

int analyzer_parse_selector(int argc, char *const argv[], struct bp_selector *sel,
			    struct bp_error *err)
{
	int i;

	for (i = 0; i < argc; i++)
		if (parse_one(argv[i], sel, err))
			return -1;
	return 0;
}
