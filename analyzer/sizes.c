/*
 * sizes.c - where the bytes are: each layer of a build's image traced to the
 * Dockerfile step that made it, so a report can say "RUN apt-get install:
 * 310 MB" and how much came with the base image. docker history's
 * created_by differs between builders; both sides are reduced to one key.
 */
#include <ctype.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "buildprof/analyzer.h"

/* Whitespace runs folded to one space, ends trimmed. */
static void add_folded(struct strbuf *sb, const char *s)
{
	int space = 0;

	while (isspace((unsigned char)*s))
		s++;
	for (; *s; s++) {
		if (isspace((unsigned char)*s)) {
			space = 1;
			continue;
		}
		if (space && sb->len)
			strbuf_addch(sb, ' ');
		space = 0;
		strbuf_addch(sb, *s);
	}
}

static const char *last_word(const char *s, size_t *len)
{
	const char *end = s + strlen(s), *start;

	while (end > s && isspace((unsigned char)end[-1]))
		end--;
	start = end;
	while (start > s && !isspace((unsigned char)start[-1]))
		start--;
	*len = (size_t)(end - start);
	return start;
}

/* "INSTR args" -> key */
static char *key_of(const char *instr, size_t ilen, const char *args)
{
	struct strbuf sb = STRBUF_INIT;
	size_t i;

	for (i = 0; i < ilen; i++)
		strbuf_addch(&sb, toupper((unsigned char)instr[i]));
	if ((ilen == 4 && !strncmp(sb.buf, "COPY", 4)) || (ilen == 3 && !strncmp(sb.buf, "ADD", 3))) {
		size_t len;
		const char *dest = last_word(args, &len);
		strbuf_addstr(&sb, " ->");
		strbuf_add(&sb, dest, len);
		return strbuf_detach(&sb, NULL);
	}
	while (isspace((unsigned char)*args))
		args++;
	if (ilen == 3 && !strncmp(sb.buf, "RUN", 3)) {
		if (!strncmp(args, "/bin/sh -c ", 11))
			args += 11;
		if (*args == '[') { /* exec form: ["a", "b"] -> a b */
			json_t *arr = json_loads(args, JSON_DECODE_ANY, NULL), *w;
			if (json_is_array(arr)) {
				size_t k;
				strbuf_addch(&sb, ' ');
				json_array_foreach(arr, k, w)
					if (json_string_value(w)) {
						if (k)
							strbuf_addch(&sb, ' ');
						add_folded(&sb, json_string_value(w));
					}
				json_decref(arr);
				return strbuf_detach(&sb, NULL);
			}
			json_decref(arr);
		}
	}
	strbuf_addch(&sb, ' ');
	add_folded(&sb, args);
	/* the legacy builder writes exec arrays without commas: ["sh" "-c"] */
	{
		char *p, *q;
		for (p = q = sb.buf; *p; p++) {
			if (*p == ',' && p > sb.buf && p[-1] == '"' && p[1] == ' ')
				continue;
			*q++ = *p;
		}
		*q = '\0';
		sb.len = (size_t)(q - sb.buf);
	}
	return strbuf_detach(&sb, NULL);
}

char *analyzer_step_key(const char *text)
{
	size_t ilen = strcspn(text, " \t");

	return key_of(text, ilen, text + ilen);
}

char *analyzer_layer_key(const char *created_by)
{
	struct strbuf sb = STRBUF_INIT;
	const char *s = created_by;
	size_t len;
	char *key;

	strbuf_addstr(&sb, s);
	/* BuildKit marks its entries */
	len = sb.len;
	while (len && isspace((unsigned char)sb.buf[len - 1]))
		len--;
	if (len >= 11 && !strncmp(sb.buf + len - 11, " # buildkit", 11))
		len -= 11;
	sb.buf[len] = '\0';
	sb.len = len;
	s = sb.buf;
	if (!strncmp(s, "/bin/sh -c #(nop) ", 18)) {
		/* the legacy builder's metadata and COPY/ADD: "#(nop) COPY file:ab in /dest" */
		s += 18;
		while (*s == ' ')
			s++;
		len = strcspn(s, " ");
		key = key_of(s, len, s + len);
	} else if (!strncmp(s, "/bin/sh -c ", 11)) {
		key = key_of("RUN", 3, s); /* a legacy shell-form RUN */
	} else {
		len = strcspn(s, " ");
		/* BuildKit spells the instruction; a legacy exec-form RUN is the bare command */
		if (len && isupper((unsigned char)s[0]) && len == strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZ"))
			key = key_of(s, len, s + len);
		else
			key = key_of("RUN", 3, s);
	}
	strbuf_release(&sb);
	return key;
}

void analyzer_sizes(const struct bp_build *b, const struct bp_image *img, struct analyzer_sizes *out)
{
	char **keys;
	unsigned char *used;
	size_t i, j;

	memset(out, 0, sizeof(*out));
	out->size_bytes = out->added_bytes = out->base_bytes = -1;
	if (!img)
		return;
	out->size_bytes = img->size_bytes;
	out->nlayers = img->nlayers;
	out->step_of_layer = xcalloc(img->nlayers ? img->nlayers : 1, sizeof(*out->step_of_layer));
	keys = xcalloc(b->nsteps ? b->nsteps : 1, sizeof(*keys));
	used = xcalloc(b->nsteps ? b->nsteps : 1, 1);
	for (i = 0; i < b->nsteps; i++)
		if ((b->steps[i].kind == BP_KIND_STEP) && b->steps[i].text)
			keys[i] = analyzer_step_key(b->steps[i].text);
	out->known = img->nlayers > 0;
	out->added_bytes = out->base_bytes = 0;
	for (i = 0; i < img->nlayers; i++) {
		const struct bp_layer *l = &img->layers[i];
		long long bytes = l->size_bytes >= 0 ? l->size_bytes : l->compressed_bytes;
		char *key = l->created_by ? analyzer_layer_key(l->created_by) : NULL;
		out->step_of_layer[i] = -1;
		/* the latest unused step with that key: the final stage's, not a builder's */
		for (j = b->nsteps; key && j > 0; j--)
			if (keys[j - 1] && !used[j - 1] && !strcmp(keys[j - 1], key)) {
				out->step_of_layer[i] = (long)(j - 1);
				used[j - 1] = 1;
				break;
			}
		free(key);
		if (bytes < 0) {
			out->added_bytes = out->base_bytes = -1;
			continue;
		}
		if (out->added_bytes < 0)
			continue;
		if (out->step_of_layer[i] >= 0)
			out->added_bytes += bytes;
		else
			out->base_bytes += bytes;
	}
	for (i = 0; i < b->nsteps; i++)
		free(keys[i]);
	free(keys);
	free(used);
}

void analyzer_sizes_release(struct analyzer_sizes *s)
{
	free(s->step_of_layer);
	memset(s, 0, sizeof(*s));
}
