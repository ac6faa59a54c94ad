/*
 * parse_logs.c - the parsing half of an ingest of many files, alone: every
 * file in DIR read, detected, parsed, redacted and fingerprinted by the
 * collector, each build packed as collector/ahead.c packs it for the
 * storing thread, then dropped. Nothing is stored.
 *
 * Ingest parses on one core while it stores on the other, and the two
 * share what cores share (the last-level cache, the memory bus, whatever
 * the host gives a pair of virtual CPUs). The bench runs this beside the
 * store floor (store_floor.c) to time the floor with that company: the
 * least an ingest that parses beside its store can take.
 *
 * Usage: parse_logs DIR; parses DIR over and over until killed (or PASSES
 * times when a second argument gives it), then prints the builds parsed.
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buildprof/collector.h"

static long long builds;

static int pack_build(void *ctx, struct bp_build *b, struct bp_error *err)
{
	(void)ctx;
	(void)err;
	bp_build_pack_steps(b); /* the parser releases it */
	builds++;
	return 0;
}

static int drop_image(void *ctx, struct bp_image *img, struct bp_error *err)
{
	(void)ctx;
	(void)img;
	(void)err;
	return 0;
}

static int drop_pipeline(void *ctx, struct bp_pipeline *pl, struct bp_error *err)
{
	(void)ctx;
	(void)pl;
	(void)err;
	return 0;
}

static int parse_dir(const char *dir, const struct bp_sink *sink)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	char path[4096];

	if (!d) {
		perror(dir);
		return -1;
	}
	while ((e = readdir(d))) {
		struct collector_result res;
		struct bp_error err;
		FILE *in;

		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		if (!(in = fopen(path, "rb"))) {
			perror(path);
			closedir(d);
			return -1;
		}
		bp_error_init(&err);
		collector_parse_stream(in, path, NULL, sink, &res, &err);
		fclose(in);
	}
	closedir(d);
	return 0;
}

int main(int argc, char **argv)
{
	struct bp_sink sink = { .build = pack_build, .image = drop_image, .pipeline = drop_pipeline };
	long passes, i;

	if (argc < 2 || argc > 3) {
		fprintf(stderr, "usage: parse_logs DIR [PASSES]\n");
		return 2;
	}
	passes = argc == 3 ? atol(argv[2]) : -1;
	for (i = 0; passes < 0 || i < passes; i++)
		if (parse_dir(argv[1], &sink))
			return 1;
	printf("%lld builds\n", builds);
	return 0;
}
