/*
 * sort.c - a stable sort that is cheap on the short, nearly ordered arrays
 * a build's analysis sorts: its vertices' log events and time edges, about
 * forty each and mostly in order already. glibc's qsort (a merge sort)
 * spent 6,600 instructions on each such array, 9% of a report's analysing
 * thread; an insertion sort does the same work in a fraction of that.
 */
#include <stdlib.h>
#include <string.h>

#include "buildprof/util.h"

/* Past this many items, or items this large, qsort does it: an insertion
 * sort's worst case grows with the square of the count. */
#define SMALL_ITEMS 64
#define SMALL_SIZE 64

void bp_sort(void *base, size_t n, size_t size, int (*cmp)(const void *, const void *))
{
	unsigned char *a = base, tmp[SMALL_SIZE];
	size_t i, j;

	if (n > SMALL_ITEMS || size > sizeof(tmp)) {
		qsort(base, n, size, cmp);
		return;
	}
	for (i = 1; i < n; i++) {
		if (cmp(a + (i - 1) * size, a + i * size) <= 0)
			continue; /* in order already: the usual case */
		memcpy(tmp, a + i * size, size);
		/* after every item not greater: equal ones keep their order */
		for (j = i - 1; j > 0 && cmp(a + (j - 1) * size, tmp) > 0; j--)
			;
		memmove(a + (j + 1) * size, a + j * size, (i - j) * size);
		memcpy(a + j * size, tmp, size);
	}
}
