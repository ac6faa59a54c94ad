/*
 * replay.c - runs a libFuzzer target's entry point over files, without
 * libFuzzer: `make test` builds every target with this main (under ASan and
 * UBSan in build-asan) and replays the kept crash and regression inputs, so
 * a fixed finding stays fixed and the targets keep compiling.
 * Usage: fuzz-replay-TARGET FILE...
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int main(int argc, char **argv)
{
	int i, passed = 0, failed = 0;

	for (i = 1; i < argc; i++) {
		FILE *f = fopen(argv[i], "rb");
		uint8_t *buf = NULL;
		size_t len = 0, alloc = 0, n;

		if (!f) {
			fprintf(stderr, "%s: cannot open\n", argv[i]);
			failed++;
			continue;
		}
		do {
			if (len + 65536 > alloc) {
				alloc = (len + 65536) * 2;
				buf = realloc(buf, alloc);
				if (!buf)
					abort();
			}
			n = fread(buf + len, 1, alloc - len, f);
			len += n;
		} while (n);
		fclose(f);
		LLVMFuzzerTestOneInput(buf, len); /* a finding aborts the run */
		free(buf);
		passed++;
	}
	printf("fuzz-replay: %d passed, %d failed\n", passed, failed);
	return failed ? 1 : 0;
}
