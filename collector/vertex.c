/*
 * vertex.c - BuildKit vertex names and build-end judgement shared by the
 * plain-progress and rawjson parsers (see vertex.h).
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "buildprof/collector.h"
#include "vertex.h"

static int is_platform(const char *tok, size_t len)
{
	const char *slash = memchr(tok, '/', len);
	size_t i;

	if (!slash || slash == tok)
		return 0;
	for (i = 0; i < len; i++)
		if (!isalnum((unsigned char)tok[i]) && tok[i] != '/' && tok[i] != '_' && tok[i] != '-')
			return 0;
	return !isdigit((unsigned char)tok[0]);
}

/* "12/34" -> i, n */
static int parse_index(const char *tok, size_t len, int *i, int *n)
{
	char buf[32];
	char *slash, *end1, *end2;
	long a, b;

	if (len == 0 || len >= sizeof(buf))
		return -1;
	memcpy(buf, tok, len);
	buf[len] = '\0';
	slash = strchr(buf, '/');
	if (!slash || slash == buf || !isdigit((unsigned char)buf[0]) || !isdigit((unsigned char)slash[1]))
		return -1;
	*slash = '\0';
	a = strtol(buf, &end1, 10);
	b = strtol(slash + 1, &end2, 10);
	if (*end1 || *end2 || a < 0 || b < 0 || a > 100000 || b > 100000)
		return -1;
	*i = (int)a;
	*n = (int)b;
	return 0;
}

static enum bp_step_kind classify_unbracketed(const char *s)
{
	if (!strncmp(s, "exporting to ", 13) || !strncmp(s, "importing to ", 13) ||
	    !strncmp(s, "exporting layers", 16) || !strncmp(s, "sending tarball", 15))
		return BP_KIND_EXPORT;
	if (!strncmp(s, "exporting cache", 15) || !strncmp(s, "importing cache", 15) ||
	    !strncmp(s, "preparing build cache", 21) || !strncmp(s, "writing cache", 13))
		return BP_KIND_CACHE;
	return BP_KIND_INTERNAL;
}

void vertex_identify(struct bp_step *s, const char *name)
{
	const char *close, *rest, *tok;
	struct strbuf stage = STRBUF_INIT;
	int idx = 0, cnt = 0, have_index = 0;

	free(s->text);
	free(s->stage);
	free(s->platform);
	free(s->instruction);
	s->stage = s->platform = s->instruction = NULL;
	s->index = s->count = 0;
	if (name[0] != '[' || !(close = strchr(name, ']'))) {
		s->text = xstrdup(name);
		s->kind = classify_unbracketed(name);
		return;
	}
	rest = close + 1;
	while (*rest == ' ')
		rest++;
	/* Tokens inside the brackets: [platform] [target] [stage] [i/n] */
	for (tok = name + 1; tok < close;) {
		size_t len;
		while (tok < close && *tok == ' ')
			tok++;
		len = 0;
		while (tok + len < close && tok[len] != ' ')
			len++;
		if (!len)
			break;
		if (tok + len == close && !parse_index(tok, len, &idx, &cnt)) {
			have_index = 1;
		} else if (is_platform(tok, len) && !s->platform) {
			s->platform = xstrndup(tok, len);
		} else {
			if (stage.len)
				strbuf_addch(&stage, ' ');
			strbuf_add(&stage, tok, len);
		}
		tok += len;
	}
	if (have_index) {
		const char *instr = collector_instruction(rest);
		s->index = idx;
		s->count = cnt;
		s->instruction = instr ? xstrdup(instr) : NULL;
		s->kind = instr && !strcmp(instr, "FROM") ? BP_KIND_FROM : BP_KIND_STEP;
		s->stage = stage.len ? strbuf_detach(&stage, NULL) : NULL;
		s->text = xstrdup(rest); /* a step's text is its instruction onward */
	} else {
		/* [internal] load ..., [auth] ..., or a bake target: [bot] exporting to image */
		const char *last = stage.len ? strrchr(stage.buf, ' ') : NULL;
		const char *word = last ? last + 1 : stage.buf;
		s->text = xstrdup(name);
		if (!strcmp(word, "internal") || !strcmp(word, "auth"))
			s->kind = BP_KIND_INTERNAL;
		else
			s->kind = classify_unbracketed(rest);
	}
	strbuf_release(&stage);
}

/* The part of s before a trailing " done" / " 0.1s" / " 0.1s done". */
static char *strip_status_suffix(const char *s)
{
	size_t len = strcspn(s, " ");
	return xstrndup(s, len);
}

void vertex_export_status(const char *s, char **image_id, char **image_ref)
{
	if (!strncmp(s, "writing image sha256:", 21) && !*image_id) {
		*image_id = strip_status_suffix(s + 14);
	} else if (!strncmp(s, "naming to ", 10) && !*image_ref) {
		*image_ref = strip_status_suffix(s + 10);
	} else if (!strncmp(s, "pushing manifest for ", 21) && !*image_ref) {
		char *ref = strip_status_suffix(s + 21);
		char *at = strchr(ref, '@');
		if (at)
			*at = '\0';
		*image_ref = ref;
	}
}

/* A step's stage and platform, each "" when it has none. */
static uint64_t stage_hash(const struct bp_step *s)
{
	return bp_hash_str(bp_hash_str(BP_HASH_INIT, s->stage ? s->stage : ""), s->platform ? s->platform : "");
}

struct stage_of {
	const struct bp_step *steps;
	const struct bp_step *s;
};

static int same_stage(const void *ctx, size_t pos)
{
	const struct stage_of *c = ctx;
	const struct bp_step *t = &c->steps[pos];

	return !strcmp(t->stage ? t->stage : "", c->s->stage ? c->s->stage : "") &&
	       !strcmp(t->platform ? t->platform : "", c->s->platform ? c->s->platform : "");
}

/* Whether the log shows the build's end: an export, or every stage that
 * appears reaching its last step (i == n). A fragment that stops after step
 * 10/11 has not shown its end. The stages that reach their last step are
 * looked up in a hash: a search of all steps per step took seconds for a
 * build of 20,000. */
int vertex_build_shows_end(const struct bp_build *b)
{
	struct bp_hash_index ends = { 0 }; /* the last steps, by their position in b */
	size_t n = 0, i;
	int shows = b->nsteps > 0;

	for (i = 0; i < b->nsteps; i++)
		if (b->steps[i].kind == BP_KIND_EXPORT)
			return 1;
	for (i = 0; i < b->nsteps; i++) {
		const struct bp_step *t = &b->steps[i];
		if (t->count && t->index == t->count)
			bp_hash_index_add(&ends, i, stage_hash(t), ++n);
	}
	for (i = 0; i < b->nsteps && shows; i++) {
		struct stage_of c = { b->steps, &b->steps[i] };
		if (b->steps[i].count)
			shows = bp_hash_index_find(&ends, stage_hash(&b->steps[i]), same_stage, &c) >= 0;
	}
	bp_hash_index_release(&ends);
	return shows;
}

/* The FROM target of the final stage: the stage of the last Dockerfile step
 * shown. NULL when that stage has no FROM vertex (FROM scratch or FROM an
 * earlier stage). */
char *vertex_base_image(const struct bp_build *b)
{
	const char *final_stage = NULL;
	char *alias = NULL, *target = NULL, *at;
	size_t i;

	for (i = 0; i < b->nsteps; i++)
		if (b->steps[i].kind == BP_KIND_STEP || b->steps[i].kind == BP_KIND_FROM)
			final_stage = b->steps[i].stage;
	for (i = 0; i < b->nsteps && !target; i++) {
		const struct bp_step *s = &b->steps[i];
		if (s->kind != BP_KIND_FROM)
			continue;
		if ((!s->stage && !final_stage) ||
		    (s->stage && final_stage && !strcmp(s->stage, final_stage)))
			target = collector_from_target(s->text, &alias);
	}
	free(alias);
	if (target && (at = strchr(target, '@')))
		*at = '\0';
	return target;
}

