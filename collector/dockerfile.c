/*
 * dockerfile.c - what every build-log parser needs to know about Dockerfile
 * instructions (their names, the target and alias of a FROM line), and how
 * a failure is recorded on a step and its build.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "buildprof/collector.h"

static const char *const instructions[] = {
	"FROM", "RUN", "CMD", "LABEL", "MAINTAINER", "EXPOSE", "ENV", "ADD", "COPY",
	"ENTRYPOINT", "VOLUME", "USER", "WORKDIR", "ARG", "ONBUILD", "STOPSIGNAL",
	"HEALTHCHECK", "SHELL",
};

const char *collector_instruction(const char *text)
{
	size_t len = strcspn(text, " \t"), i;

	for (i = 0; i < BP_ARRAY_SIZE(instructions); i++)
		if (strlen(instructions[i]) == len && !strncasecmp(text, instructions[i], len))
			return instructions[i];
	return NULL;
}

/* Next whitespace-separated word of *p, as a new string; NULL at the end. */
static char *next_word(const char **p)
{
	const char *s = *p, *e;

	while (*s == ' ' || *s == '\t')
		s++;
	if (!*s)
		return NULL;
	e = s + strcspn(s, " \t");
	*p = e;
	return xstrndup(s, (size_t)(e - s));
}

char *collector_from_target(const char *text, char **alias)
{
	const char *p = text;
	char *w, *target = NULL;

	*alias = NULL;
	w = next_word(&p); /* FROM */
	free(w);
	while ((w = next_word(&p))) {
		if (!strncmp(w, "--", 2)) { /* --platform=... */
			free(w);
			continue;
		}
		if (!target) {
			target = w;
			continue;
		}
		if (!strcasecmp(w, "AS")) {
			free(w);
			*alias = next_word(&p);
			break;
		}
		free(w);
	}
	return target;
}

void collector_mark_failed(struct bp_build *b, struct bp_step *s, const char *msg)
{
	if (s) {
		s->status = BP_STEP_ERROR;
		free(s->error);
		s->error = xstrndup(msg, 4096);
	}
	if (!b->error)
		b->error = xstrndup(msg, 4096);
	b->status = BP_BUILD_FAILED;
}
