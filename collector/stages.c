/*
 * stages.c - Dockerfile stage tracking shared by the parsers whose logs print
 * FROM lines (see stages.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buildprof/collector.h"
#include "stages.h"

void stage_tracker_init(struct stage_tracker *t)
{
	memset(t, 0, sizeof(*t));
}

void stage_tracker_release(struct stage_tracker *t)
{
	size_t i;

	for (i = 0; i < t->naliases; i++) {
		free(t->aliases[i].alias);
		free(t->aliases[i].target);
	}
	free(t->aliases);
	free(t->name);
	free(t->base);
	stage_tracker_init(t);
}

static const char *resolve(const struct stage_tracker *t, const char *name)
{
	size_t i;

	for (i = 0; i < t->naliases; i++)
		if (!strcmp(t->aliases[i].alias, name))
			return t->aliases[i].target;
	return name;
}

void stage_tracker_from(struct stage_tracker *t, const char *from_text)
{
	char *alias = NULL, *target = collector_from_target(from_text, &alias);
	char buf[32];

	free(t->name);
	free(t->base);
	if (alias) {
		t->name = xstrdup(alias);
	} else if (t->count > 0) {
		snprintf(buf, sizeof(buf), "stage-%d", t->count);
		t->name = xstrdup(buf);
	} else {
		t->name = NULL;
	}
	t->base = target ? xstrdup(resolve(t, target)) : NULL;
	if (alias && t->base) {
		BP_GROW(t->aliases, t->naliases + 1, t->alloc_aliases);
		t->aliases[t->naliases].alias = xstrdup(alias);
		t->aliases[t->naliases].target = xstrdup(t->base);
		t->naliases++;
	}
	t->count++;
	free(alias);
	free(target);
}
