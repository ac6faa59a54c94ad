/*
 * hashindex.c - an open-addressing index over an array its caller owns, so
 * lookups by key stay O(1) as a report's history grows (see util.h).
 */
#include <stdlib.h>
#include <string.h>

#include "buildprof/util.h"

/* Eight bytes at a time: a step's stage and text are hashed for every step
 * row a compare or report reads, and FNV's byte at a time was 7% of a
 * compare's instructions. Each word is multiplied in and folded down, so
 * every input bit reaches the low bits that pick a slot. */
static uint64_t mix(uint64_t h, uint64_t w)
{
	h = (h ^ w) * 0x9e3779b97f4a7c15ULL;
	return h ^ (h >> 32);
}

uint64_t bp_hash_str(uint64_t h, const char *s)
{
	size_t n, i;
	uint64_t w;

	if (!s)
		return mix(h, 0x1e);
	n = strlen(s);
	for (i = 0; i + 8 <= n; i += 8) {
		memcpy(&w, s + i, 8);
		h = mix(h, w);
	}
	w = 0;
	memcpy(&w, s + i, n - i);
	/* the length ends it: "a" then "b" is not "ab" then "" */
	return mix(mix(h, w), n + 0x1f);
}

/* What a slot keeps of a hash: the high half folded into the low (a
 * caller's own hash may be weak in its low bits), whose low bits pick the
 * first slot to probe. */
static uint32_t fold(uint64_t hash)
{
	return (uint32_t)(hash ^ (hash >> 32));
}

static size_t home(const struct bp_hash_index *ix, uint32_t folded)
{
	return folded & (ix->nslots - 1);
}

long bp_hash_index_find(const struct bp_hash_index *ix, uint64_t hash,
			int (*same)(const void *ctx, size_t pos), const void *ctx)
{
	uint32_t folded = fold(hash);
	size_t i;

	if (!ix->nslots)
		return -1;
	for (i = home(ix, folded); ix->slots[i].pos; i = (i + 1) & (ix->nslots - 1))
		if (ix->slots[i].hash == folded && same(ctx, ix->slots[i].pos - 1))
			return (long)(ix->slots[i].pos - 1);
	return -1;
}

struct str_key {
	const char *key;
	const char *base;
	size_t size, offset;
};

static int same_key(const void *ctx, size_t pos)
{
	const struct str_key *k = ctx;
	const char *at;

	memcpy(&at, k->base + pos * k->size + k->offset, sizeof(at));
	return !strcmp(at, k->key);
}

long bp_hash_index_find_key(const struct bp_hash_index *ix, uint64_t hash, const char *key, const void *base,
			    size_t size, size_t offset)
{
	struct str_key k = { key, base, size, offset };

	return bp_hash_index_find(ix, hash, same_key, &k);
}

static void put(struct bp_hash_index *ix, uint32_t pos1, uint32_t folded)
{
	size_t i;

	for (i = home(ix, folded); ix->slots[i].pos; i = (i + 1) & (ix->nslots - 1))
		;
	ix->slots[i].hash = folded;
	ix->slots[i].pos = pos1;
}

void bp_hash_index_add(struct bp_hash_index *ix, size_t pos, uint64_t hash, size_t n)
{
	struct bp_hash_slot *old = ix->slots;
	size_t i, nold = ix->nslots;

	if (pos >= UINT32_MAX)
		BUG("bp_hash_index: %zu elements", pos + 1);
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
	put(ix, (uint32_t)(pos + 1), fold(hash));
}

void bp_hash_index_release(struct bp_hash_index *ix)
{
	free(ix->slots);
	ix->slots = NULL;
	ix->nslots = 0;
}
