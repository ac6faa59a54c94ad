/*
 * parse_json.c - a reference beside GitLab ingest in the bench: each file
 * read whole and parsed by jansson into its whole tree (json_loadb, as
 * collector/ci.c parsed an input before common/jsonkeep.c), the tree then
 * freed, and nothing else: no detection, no records, no store.
 *
 * GitLab ingest is measured against peer_gitlab.sh (jq to CSV, sqlite3
 * .import). This program, timed in the same run, shows what reading whole
 * trees with the chosen JSON library costs: the floor under ingest while
 * buildprof did that, and what common/jsonkeep.c saves now that it builds
 * only the members it reads.
 *
 * Usage: parse_json FILE...; prints the files and top-level array
 * elements it read.
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>

/* The whole of path in a new buffer, its length in *len; NULL on error. */
static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	long n;

	if (!f)
		return NULL;
	if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) >= 0 && fseek(f, 0, SEEK_SET) == 0) {
		buf = malloc(n ? (size_t)n : 1);
		if (buf && fread(buf, 1, (size_t)n, f) != (size_t)n) {
			free(buf);
			buf = NULL;
		}
		*len = (size_t)n;
	}
	fclose(f);
	return buf;
}

int main(int argc, char **argv)
{
	size_t elements = 0, len = 0;
	int i;

	if (argc < 2) {
		fprintf(stderr, "usage: parse_json FILE...\n");
		return 2;
	}
	for (i = 1; i < argc; i++) {
		char *buf = slurp(argv[i], &len);
		json_error_t jerr;
		json_t *doc;

		if (!buf) {
			perror(argv[i]);
			return 1;
		}
		doc = json_loadb(buf, len, 0, &jerr);
		free(buf);
		if (!doc) {
			fprintf(stderr, "parse_json: %s:%d: %s\n", argv[i], jerr.line, jerr.text);
			return 1;
		}
		elements += json_array_size(doc);
		json_decref(doc);
	}
	printf("%d files, %zu elements\n", argc - 1, elements);
	return 0;
}
