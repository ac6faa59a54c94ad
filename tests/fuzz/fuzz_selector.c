/*
 * fuzz_selector.c - libFuzzer target for the selector parser: any bytes,
 * split at NULs and newlines into SELECTOR words, as a shell would pass them.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buildprof/analyzer.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct bp_selector sel;
	struct bp_error err;
	char *text = malloc(size + 1), *argv[64], *p;
	int argc = 0;

	memcpy(text, data, size);
	text[size] = '\0';
	for (p = text; argc < 64;) {
		char *nl = strchr(p, '\n');
		argv[argc++] = p;
		if (!nl)
			break;
		*nl = '\0';
		p = nl + 1;
	}
	bp_selector_init(&sel);
	bp_error_init(&err);
	analyzer_parse_selector(argc, argv, &sel, &err);
	bp_selector_release(&sel);
	free(text);
	return 0;
}
