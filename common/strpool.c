/*
 * strpool.c - strings kept in large blocks and freed all at once.
 */
#include <stdlib.h>
#include <string.h>

#include "buildprof/util.h"

struct bp_strpool_block {
	struct bp_strpool_block *next;
	size_t used, size;
	char data[];
};

#define BLOCK_SIZE 4096

char *bp_strpool_add(struct bp_strpool *p, const char *s, size_t len)
{
	struct bp_strpool_block *blk = p->head;
	char *out;

	if (!blk || blk->size - blk->used < len + 1) {
		size_t size = len + 1 > BLOCK_SIZE ? len + 1 : BLOCK_SIZE;
		blk = xmalloc(sizeof(*blk) + size);
		blk->next = p->head;
		blk->used = 0;
		blk->size = size;
		p->head = blk;
	}
	out = blk->data + blk->used;
	memcpy(out, s, len);
	out[len] = '\0';
	blk->used += len + 1;
	return out;
}

char *bp_strpool_dup(struct bp_strpool *p, const char *s)
{
	return s ? bp_strpool_add(p, s, strlen(s)) : NULL;
}

void bp_strpool_release(struct bp_strpool *p)
{
	while (p->head) {
		struct bp_strpool_block *next = p->head->next;
		free(p->head);
		p->head = next;
	}
}
