/*
 * xalloc.c - allocation wrappers that die with the requested size instead of
 * returning NULL, so callers never carry out-of-memory paths of their own;
 * and heap_reserve_huge, the heap made ready for a burst of allocations.
 */
#include <malloc.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "buildprof/util.h"

void *xmalloc(size_t size)
{
	void *p = malloc(size ? size : 1);

	if (!p)
		die("out of memory allocating %zu bytes", size);
	return p;
}

void *xcalloc(size_t nmemb, size_t size)
{
	void *p;

	if (size && nmemb > SIZE_MAX / size)
		die("allocation overflow: %zu * %zu bytes", nmemb, size);
	p = calloc(nmemb ? nmemb : 1, size ? size : 1);
	if (!p)
		die("out of memory allocating %zu * %zu bytes", nmemb, size);
	return p;
}

void *xrealloc(void *ptr, size_t size)
{
	void *p = realloc(ptr, size ? size : 1);

	if (!p)
		die("out of memory allocating %zu bytes", size);
	return p;
}

void *xreallocarray(void *ptr, size_t nmemb, size_t size)
{
	if (size && nmemb > SIZE_MAX / size)
		die("allocation overflow: %zu * %zu bytes", nmemb, size);
	return xrealloc(ptr, nmemb * size);
}

char *xstrndup(const char *s, size_t n)
{
	size_t len = strnlen(s, n);
	char *p = xmalloc(len + 1);

	memcpy(p, s, len);
	p[len] = '\0';
	return p;
}

char *xstrdup(const char *s)
{
	return xstrndup(s, strlen(s));
}

char *xstrdup_or_null(const char *s)
{
	return s ? xstrdup(s) : NULL;
}

/* Where heap_reserve_huge's unaligned head went: kept, so it is no leak. */
static void *heap_head;

void *heap_reserve_huge(size_t bytes)
{
	const uintptr_t huge = 2u << 20;
	uintptr_t from, to;
	char *b;

	if (bytes > 16u << 20 || heap_head)
		return NULL;
	/* the room comes from the heap, not mmap, and stays there once freed */
	mallopt(M_MMAP_THRESHOLD, (int)(bytes + 2 * huge));
	mallopt(M_TRIM_THRESHOLD, (int)(2 * bytes + 4 * huge));
	if (!(b = malloc(bytes + huge)))
		return NULL;
	from = ((uintptr_t)b + huge - 1) & ~(huge - 1);
	to = ((uintptr_t)b + bytes + huge) & ~(huge - 1);
	if (to <= from || madvise((void *)from, to - from, MADV_HUGEPAGE)) {
		free(b);
		return NULL;
	}
	free(b);
	/* the bytes below the first huge page: taken, so that what comes
	 * next starts on it (from the top of the heap, where b was) */
	heap_head = malloc(from - (uintptr_t)b > 64 ? from - (uintptr_t)b - 16 : 1);
	return (void *)from;
}
