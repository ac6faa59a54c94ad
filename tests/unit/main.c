/*
 * main.c - runs every unit test group and prints the tally.
 */
#include <stdlib.h>

#include "buildprof/jsonkeep.h"
#include "unit.h"

int unit_passed, unit_failed;


static int sink_take(void *ctx, struct bp_build *b, struct bp_error *err)
{
	struct parsed *p = ctx;

	BP_GROW(p->builds, p->n + 1, p->alloc);
	p->builds[p->n++] = *b;
	bp_build_init(b);
	return 0;
}

static int sink_take_image(void *ctx, struct bp_image *img, struct bp_error *err)
{
	struct parsed *p = ctx;

	BP_GROW(p->images, p->nimages + 1, p->alloc_images);
	p->images[p->nimages++] = *img;
	bp_image_init(img);
	return 0;
}

void parse_text(const char *text, size_t len, const char *format, struct parsed *out)
{
	struct bp_sink sink = { .build = sink_take, .image = sink_take_image, .ctx = out };
	FILE *in = fmemopen((void *)text, len ? len : 1, "rb");

	memset(out, 0, sizeof(*out));
	bp_error_init(&out->err);
	if (!len) { /* fmemopen cannot open an empty buffer: read an empty pipe instead */
		fclose(in);
		in = fopen("/dev/null", "rb");
	}
	out->rc = collector_parse_stream(in, "test.log", format ? collector_format(format) : NULL,
					 &sink, &out->res, &out->err);
	fclose(in);
}

void parsed_release(struct parsed *p)
{
	size_t i;

	for (i = 0; i < p->n; i++)
		bp_build_release(&p->builds[i]);
	for (i = 0; i < p->nimages; i++)
		bp_image_release(&p->images[i]);
	free(p->builds);
	free(p->images);
	memset(p, 0, sizeof(*p));
}

const struct bp_step *find_step(const struct bp_build *b, const char *prefix)
{
	size_t i;

	for (i = 0; i < b->nsteps; i++)
		if (b->steps[i].text && !strncmp(b->steps[i].text, prefix, strlen(prefix)))
			return &b->steps[i];
	return NULL;
}

int main(void)
{
	bp_json_kept_install(); /* as the CLI does: every JSON test on its allocator */
	test_util();
	test_linereader();
	test_buildkit();
	test_legacy();
	test_buildah_kaniko();
	test_store();
	test_analyzer();
	test_statistics();
	test_series_sorted();
	test_redact();
	test_http();
	test_png();
	test_ahead();
	test_handoff();
	test_jsonkeep();
	printf("unit: %d passed, %d failed\n", unit_passed, unit_failed);
	return unit_failed ? 1 : 0;
}
