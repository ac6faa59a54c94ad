/*
 * fuzz_collector.c - libFuzzer target: any bytes through detection and
 * every parser (the first byte picks a forced format or detection), with a
 * sink that analyses each build as the report would.
 */
#include <stdint.h>
#include <stdio.h>

#include "buildprof/analyzer.h"
#include "buildprof/collector.h"
#include "buildprof/jsonkeep.h"

static int sink_build(void *ctx, struct bp_build *b, struct bp_error *err)
{
	struct analyzer_build_stats stats;
	struct analyzer_timeline t;
	size_t idx[8];

	analyzer_build_stats(b, &stats);
	analyzer_slowest_steps(b, idx, 8);
	analyzer_timeline(b, &t); /* measured, line times or estimated from log order */
	analyzer_timeline_release(&t);
	return 0;
}

static int sink_image(void *ctx, struct bp_image *img, struct bp_error *err)
{
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct bp_sink sink = { .build = sink_build, .image = sink_image, .ctx = NULL };
	struct collector_result res;
	struct bp_error err;
	const struct bp_format *format = NULL;
	size_t nformats = 0;
	FILE *in;
	static int installed;

	if (!installed) { /* the CLI's JSON allocator, before any use of jansson */
		bp_json_kept_install();
		installed = 1;
	}
	if (size < 1)
		return 0;
	while (collector_formats[nformats])
		nformats++;
	if (data[0] < nformats)
		format = collector_formats[data[0]];
	data++;
	size--;
	in = fmemopen((void *)data, size ? size : 1, "rb");
	if (!in)
		return 0;
	if (!size)
		fgetc(in); /* an empty stream */
	bp_error_init(&err);
	collector_parse_stream(in, "fuzz", format, &sink, &res, &err);
	fclose(in);
	return 0;
}
