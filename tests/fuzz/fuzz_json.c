/*
 * fuzz_json.c - libFuzzer target: the kept-member JSON reader
 * (common/jsonkeep.c) against jansson on any bytes. Where the reader builds
 * a tree, json_loadb must accept the same bytes, and its tree with the
 * members not kept taken out must equal the reader's; with every key kept,
 * equal as it is. Where the reader declines, bp_json_loadb_kept must answer
 * as json_loadb does. Any difference aborts.
 */
#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buildprof/jsonkeep.h"

/* a few of the CI parsers' keys, and one that only an escape can spell */
static const char *const keys[] = { "id", "name", "pipeline", "status", "steps", "a", "b",
				    "k\xc3\xa9", NULL };

static int kept_key(const char *key)
{
	size_t i;

	for (i = 0; keys[i]; i++)
		if (!strcmp(keys[i], key))
			return 1;
	return 0;
}

/* A copy of v with only the kept keys' members in its objects, at any depth. */
static json_t *filtered(json_t *v)
{
	const char *key;
	json_t *out, *m;
	size_t i;

	if (json_is_object(v)) {
		out = json_object();
		json_object_foreach(v, key, m)
			if (kept_key(key))
				json_object_set_new(out, key, filtered(m));
		return out;
	}
	if (json_is_array(v)) {
		out = json_array();
		json_array_foreach(v, i, m)
			json_array_append_new(out, filtered(m));
		return out;
	}
	return json_incref(v);
}

static void fail(const char *what)
{
	fprintf(stderr, "fuzz_json: %s\n", what);
	abort();
}

static void check(json_t *full, json_t *kept, int all)
{
	json_t *want;

	if (!kept)
		return;
	if (!full)
		fail("the reader accepted what json_loadb rejects");
	want = all ? json_incref(full) : filtered(full);
	if (!json_equal(want, kept))
		fail(all ? "the whole tree differs from json_loadb's" : "the kept tree differs from json_loadb's");
	json_decref(want);
	bp_json_kept_decref(kept);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int installed;
	const char *text = (const char *)data;
	json_error_t jerr, kerr;
	json_t *full, *any;

	if (!installed) { /* before any other use of jansson, as the CLI does */
		bp_json_kept_install();
		installed = 1;
	}
	full = json_loadb(text, size, 0, &jerr);
	check(full, bp_json_read_kept(text, size, NULL), 1);
	check(full, bp_json_read_kept(text, size, keys), 0);
	any = bp_json_loadb_kept(text, size, keys, &kerr);
	if (!any != !full)
		fail("bp_json_loadb_kept and json_loadb disagree on whether it is JSON");
	if (!any && (kerr.line != jerr.line || strcmp(kerr.text, jerr.text)))
		fail("bp_json_loadb_kept's message is not json_loadb's");
	bp_json_kept_decref(any);
	json_decref(full);
	return 0;
}
