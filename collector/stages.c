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
	t->current = -1;
}

void stage_tracker_release(struct stage_tracker *t)
{
	size_t i;

	for (i = 0; i < t->naliases; i++) {
		free(t->aliases[i].alias);
		free(t->aliases[i].target);
	}
	for (i = 0; i < t->nstages; i++) {
		free(t->stages[i].name);
		free(t->stages[i].base);
	}
	free(t->aliases);
	free(t->stages);
	stage_tracker_init(t);
}

/* An image id as buildah prints it: 11 hex digits short, 64 in full. */
static int is_hex_id(const char *s)
{
	size_t n = strspn(s, "0123456789abcdef");
	return n >= 11 && s[n] == '\0';
}

static const char *resolve(const struct stage_tracker *t, const char *name)
{
	size_t i;

	for (i = 0; i < t->naliases; i++) {
		const char *a = t->aliases[i].alias;
		if (!strcmp(a, name))
			return t->aliases[i].target;
		/* an image id given in full where the log printed it short */
		if (is_hex_id(a) && is_hex_id(name) && !strncmp(name, a, strlen(a)))
			return t->aliases[i].target;
	}
	return name;
}

static void add_alias(struct stage_tracker *t, const char *alias, const char *target)
{
	BP_GROW(t->aliases, t->naliases + 1, t->alloc_aliases);
	t->aliases[t->naliases].alias = xstrdup(alias);
	t->aliases[t->naliases].target = xstrdup(target);
	t->naliases++;
}

int stage_tracker_from(struct stage_tracker *t, int index, const char *from_text)
{
	char *alias = NULL, *target = collector_from_target(from_text, &alias);
	struct stage_info *s;
	char buf[32];

	if (index < 0)
		index = t->current + 1;
	if (index > 100000)
		index = 100000; /* a hostile log cannot make us allocate without bound */
	if ((size_t)index >= t->nstages) {
		BP_GROW(t->stages, (size_t)index + 1, t->alloc_stages);
		memset(t->stages + t->nstages, 0, ((size_t)index + 1 - t->nstages) * sizeof(*t->stages));
		t->nstages = (size_t)index + 1;
	}
	s = &t->stages[index];
	free(s->name);
	free(s->base);
	if (alias) {
		s->name = xstrdup(alias);
	} else if (index > 0) {
		snprintf(buf, sizeof(buf), "stage-%d", index);
		s->name = xstrdup(buf);
	} else {
		s->name = NULL;
	}
	s->base = target ? xstrdup(resolve(t, target)) : NULL;
	if (alias && s->base)
		add_alias(t, alias, s->base);
	t->current = index;
	free(alias);
	free(target);
	return index;
}

const char *stage_tracker_name(const struct stage_tracker *t, int index)
{
	if (index < 0)
		index = t->current;
	return index >= 0 && (size_t)index < t->nstages ? t->stages[index].name : NULL;
}

const char *stage_tracker_final_base(const struct stage_tracker *t)
{
	return t->nstages ? t->stages[t->nstages - 1].base : NULL;
}

void stage_tracker_image(struct stage_tracker *t, int index, const char *id)
{
	if (index < 0)
		index = t->current;
	if (index < 0 || (size_t)index >= t->nstages || !t->stages[index].base || !is_hex_id(id))
		return;
	add_alias(t, id, t->stages[index].base);
}
