/*
 * fuzz_http.c - libFuzzer target for the HTTP response handling that needs
 * no network: any bytes, split at newlines, as response header lines (the
 * way libcurl hands them over), then the Link header's next URL and the
 * rate-limit wait computed from what was taken.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buildprof/http.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct http_response res;
	const char *p = (const char *)data, *end = p + size;
	char *copy, *next;

	http_response_init(&res);
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t len = nl ? (size_t)(nl - p) + 1 : (size_t)(end - p);
		/* libcurl's lines are not NUL-terminated: a heap copy lets ASan see overreads */
		copy = malloc(len ? len : 1);
		memcpy(copy, p, len);
		http_take_header(&res, copy, len);
		free(copy);
		p += len;
	}
	next = http_link_next(res.link);
	free(next);
	(void)http_ratelimit_wait(&res, 1.7e9);
	http_response_release(&res);
	return 0;
}
