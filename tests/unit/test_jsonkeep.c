/*
 * test_jsonkeep.c - the kept-member JSON reader (common/jsonkeep.c): what
 * it keeps and how it decodes it, that real CI documents take its own path
 * rather than jansson's, that what it declines gets jansson's message, and
 * the kept trees' memory. tests/fuzz/fuzz_json.c holds it against jansson
 * on any bytes, and `make test` replays that on the corpus.
 */
#include <string.h>

#include "buildprof/jsonkeep.h"
#include "unit.h"

static const char *const keys[] = { "id", "name", "pipeline", "status", "runner", "description", NULL };

/* A GitLab job as the jobs API lists it (tests/data/corpus/gitlab-jobs),
 * with a commit message that escapes what Rails escapes. */
static const char gitlab_job[] =
	"[{\"commit\": {\"id\": \"0ff3ae19\", \"message\": \"Fix \\u003cb\\u003e \\\"quotes\\\"\\n\","
	" \"author_name\": \"J\\u00f6rg\"}, \"coverage\": null, \"allow_failure\": false,"
	" \"duration\": 0.192118, \"id\": 7, \"name\": \"teaspoon\","
	" \"pipeline\": {\"id\": 6, \"project_id\": 1, \"ref\": \"main\", \"status\": \"pending\"},"
	" \"runner\": {\"id\": 32, \"description\": \"caf\xc3\xa9 \\ud83d\\ude80\", \"active\": true},"
	" \"stage\": \"test\", \"status\": \"failed\", \"tag_list\": [\"docker runner\", \"ubuntu18\"],"
	" \"user\": {\"id\": 1, \"name\": \"Administrator\", \"bio\": null}}]";

static void test_kept_members(void)
{
	json_t *root = bp_json_read_kept(gitlab_job, strlen(gitlab_job), keys), *job, *runner;

	CHECK(root != NULL); /* its own path, not jansson's */
	job = json_array_get(root, 0);
	CHECK_INT(json_object_size(job), 5); /* id, name, pipeline, status, runner */
	CHECK_INT(json_integer_value(json_object_get(job, "id")), 7);
	CHECK_STR(json_string_value(json_object_get(job, "name")), "teaspoon");
	CHECK(!json_object_get(job, "commit") && !json_object_get(job, "user"));
	CHECK(!json_object_get(job, "duration"));
	CHECK_INT(json_object_size(json_object_get(job, "pipeline")), 2); /* id, status */
	CHECK_STR(json_string_value(json_object_get(json_object_get(job, "pipeline"), "status")), "pending");
	runner = json_object_get(job, "runner");
	CHECK_INT(json_object_size(runner), 2);
	CHECK_STR(json_string_value(json_object_get(runner, "description")), "caf\xc3\xa9 \xf0\x9f\x9a\x80");
	bp_json_kept_decref(root);
}

static void test_decoding(void)
{
	static const char doc[] = "{\"na\\u006de\": \"a\\\"b\\\\c\\/d\\b\\f\\n\\r\\t\\u00e9\\u20ac\", "
				  "\"id\": [-0, 0.5e-3, 1E+2, 9223372036854775807, -9223372036854775808], "
				  "\"status\": 1, \"status\": \"last\"}";
	json_t *root = bp_json_read_kept(doc, strlen(doc), keys), *ids;

	CHECK(root != NULL);
	/* a key spelled with an escape is still the key */
	CHECK_STR(json_string_value(json_object_get(root, "name")), "a\"b\\c/d\b\f\n\r\t\xc3\xa9\xe2\x82\xac");
	ids = json_object_get(root, "id");
	CHECK(json_is_integer(json_array_get(ids, 0)) && json_integer_value(json_array_get(ids, 0)) == 0);
	CHECK(json_is_real(json_array_get(ids, 1)) && json_real_value(json_array_get(ids, 1)) == 0.5e-3);
	CHECK(json_is_real(json_array_get(ids, 2)) && json_real_value(json_array_get(ids, 2)) == 100);
	CHECK(json_integer_value(json_array_get(ids, 3)) == 9223372036854775807LL);
	CHECK(json_integer_value(json_array_get(ids, 4)) == -9223372036854775807LL - 1);
	/* a key given twice keeps its last value, as jansson does */
	CHECK_STR(json_string_value(json_object_get(root, "status")), "last");
	bp_json_kept_decref(root);
}

/* What jansson rejects, the reader declines, and the caller gets jansson's
 * own message and line. */
static void test_rejects(void)
{
	static const char *const bad[] = {
		"[\"\\ud83d\"]", "[\"\\ude00\"]", "{\"a\": \"\\u0000\"}", "[\"a\x01\"]", "[\"\xc0\xaf\"]",
		"[\"\xed\xa0\x80\"]", "[01]", "[1.]", "[+1]", "[9223372036854775808]", "[1e400]", "[1,]",
		"{\"a\": 1,}", "{\"a\" 1}", "{\"a\": 1} x", "\"a\"", "", "[tru]", "[NaN]",
		"{\"id\": 1,\n\"name\": [1, 2,\n\"x\" \"y\"]}", NULL,
	};
	size_t i;

	for (i = 0; bad[i]; i++) {
		json_error_t kerr, jerr;
		json_t *kept = bp_json_read_kept(bad[i], strlen(bad[i]), keys);
		json_t *any = bp_json_loadb_kept(bad[i], strlen(bad[i]), keys, &kerr);
		json_t *full = json_loadb(bad[i], strlen(bad[i]), 0, &jerr);
		CHECK(!kept && !any && !full);
		CHECK_STR(kerr.text, jerr.text);
		CHECK_INT(kerr.line, jerr.line);
		json_decref(full);
	}
}

/* Valid JSON the reader leaves to jansson still reads. */
static void test_declined(void)
{
	struct strbuf deep = STRBUF_INIT;
	json_error_t err;
	json_t *root;
	int i;

	for (i = 0; i < 2040; i++)
		strbuf_addch(&deep, '[');
	for (i = 0; i < 2040; i++)
		strbuf_addch(&deep, ']');
	CHECK(!bp_json_read_kept(deep.buf, deep.len, keys));
	root = bp_json_loadb_kept(deep.buf, deep.len, keys, &err);
	CHECK(json_is_array(root));
	bp_json_kept_decref(root);
	strbuf_release(&deep);
}

/* A second tree read while the first lives, and both dropped in either
 * order: under ASan, a value freed with the wrong tree shows. */
static void test_trees_live_together(void)
{
	int order;

	for (order = 0; order < 2; order++) {
		json_t *a = bp_json_read_kept(gitlab_job, strlen(gitlab_job), keys);
		json_t *b = bp_json_read_kept(gitlab_job, strlen(gitlab_job), NULL);
		json_t *job_a = json_array_get(a, 0), *job_b = json_array_get(b, 0);

		CHECK(a && b);
		CHECK_INT(json_object_size(json_object_get(job_a, "pipeline")), 2);
		CHECK_INT(json_object_size(json_object_get(job_b, "pipeline")), 4);
		CHECK_INT(json_object_size(job_b), 12); /* every member */
		CHECK_STR(json_string_value(json_object_get(json_object_get(job_b, "commit"), "message")),
			  "Fix <b> \"quotes\"\n");
		bp_json_kept_decref(order ? a : b);
		CHECK_STR(json_string_value(json_object_get(order ? job_b : job_a, "name")), "teaspoon");
		bp_json_kept_decref(order ? b : a);
	}
}

/* A list of 20,000 jobs (9 MB) is kept whole in the arena's growing
 * blocks, every job and its kept members there, and freed with its tree
 * (ASan checks the frees). */
static void test_large_document(void)
{
	struct strbuf doc = STRBUF_INIT;
	json_t *root, *last;
	const char *job = gitlab_job + 1; /* the object inside the brackets */
	size_t n = 20000, i, bad = 0;

	strbuf_addch(&doc, '[');
	for (i = 0; i < n; i++) {
		strbuf_addstr(&doc, i ? "," : "");
		strbuf_add(&doc, job, strlen(job) - 1);
	}
	strbuf_addch(&doc, ']');
	root = bp_json_read_kept(doc.buf, doc.len, keys);
	CHECK_INT(json_array_size(root), n);
	for (i = 0; i < json_array_size(root); i++)
		bad += json_object_size(json_array_get(root, i)) != 5 ||
		       json_integer_value(json_object_get(json_array_get(root, i), "id")) != 7;
	CHECK_INT(bad, 0);
	last = json_array_get(root, n - 1);
	CHECK_STR(json_string_value(json_object_get(json_object_get(last, "runner"), "description")),
		  "caf\xc3\xa9 \xf0\x9f\x9a\x80");
	CHECK(json_object_get(last, "commit") == NULL);
	bp_json_kept_decref(root);
	strbuf_release(&doc);
}

void test_jsonkeep(void)
{
	test_kept_members();
	test_decoding();
	test_rejects();
	test_declined();
	test_trees_live_together();
	test_large_document();
}
