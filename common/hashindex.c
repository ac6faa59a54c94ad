/*
 * hashindex.c - an open-addressing index over an array its caller owns, so
 * lookups by key stay O(1) as a report's history grows (see util.h).
 */
#include <stdlib.h>

#include "buildprof/util.h"

uint64_t bp_hash_str(uint64_t h, const char *s)
{
	if (!s)
		return (h ^ 0x1e) * 1099511628211ULL;
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ULL;
	return (h ^ 0x1f) * 1099511628211ULL;
}

/* The first slot to probe. FNV-1a's low bits depend only on the low bits
 * of the input bytes, so the high half is folded in for small tables. */
static size_t home(const struct bp_hash_index *ix, uint64_t hash)
{
	return (size_t)(hash ^ (hash >> 32)) & (ix->nslots - 1);
}

long bp_hash_index_find(const struct bp_hash_index *ix, uint64_t hash,
			int (*same)(const void *ctx, size_t pos), const void *ctx)
{
	size_t i;

	if (!ix->nslots)
		return -1;
	for (i = home(ix, hash); ix->slots[i].pos; i = (i + 1) & (ix->nslots - 1))
		if (ix->slots[i].hash == hash && same(ctx, ix->slots[i].pos - 1))
			return (long)(ix->slots[i].pos - 1);
	return -1;
}

static void put(struct bp_hash_index *ix, size_t pos1, uint64_t hash)
{
	size_t i;

	for (i = home(ix, hash); ix->slots[i].pos; i = (i + 1) & (ix->nslots - 1))
		;
	ix->slots[i].hash = hash;
	ix->slots[i].pos = pos1;
}

void bp_hash_index_add(struct bp_hash_index *ix, size_t pos, uint64_t hash, size_t n)
{
	struct bp_hash_slot *old = ix->slots;
	size_t i, nold = ix->nslots;

	if (2 * n > ix->nslots) {
		if (!ix->nslots)
			ix->nslots = 64;
		while (2 * n > ix->nslots)
			ix->nslots *= 2;
		ix->slots = xcalloc(ix->nslots, sizeof(*ix->slots));
		for (i = 0; i < nold; i++)
			if (old[i].pos)
				put(ix, old[i].pos, old[i].hash);
		free(old);
	}
	put(ix, pos + 1, hash);
}

void bp_hash_index_release(struct bp_hash_index *ix)
{
	free(ix->slots);
	ix->slots = NULL;
	ix->nslots = 0;
}
