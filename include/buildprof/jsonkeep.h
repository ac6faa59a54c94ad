/*
 * jsonkeep.h - reads a JSON document into a jansson tree that holds only the
 * object members a parser looks at. The CI documents buildprof ingests carry
 * five to ten times more members than it reads (a GitLab job's user, commit
 * and artifacts; a GitHub job's labels and URLs), and building jansson's
 * tree of all of them was most of a GitLab ingest's time.
 */
#ifndef BUILDPROF_JSONKEEP_H
#define BUILDPROF_JSONKEEP_H

#include <jansson.h>
#include <stddef.h>

/*
 * The document in data (len bytes) as json_loadb(data, len, 0, error) reads
 * it, less every object member, at any depth, whose key is not in keys (a
 * NULL-terminated list of at most 100 keys; NULL keeps every member). A
 * kept member's value is read
 * the same way, so a parser that only asks objects for those keys finds
 * what it would find in the whole tree.
 *
 * Its own reader accepts strict JSON only; anything it does not read as
 * jansson would, it leaves to json_loadb, which then reads the whole tree or
 * fills *error with jansson's own message. So what this accepts and rejects,
 * and every message, is json_loadb's. Numbers are read in the C locale
 * buildprof runs in.
 *
 * Returns a new reference, dropped with bp_json_kept_decref, or NULL with
 * *error filled.
 */
json_t *bp_json_loadb_kept(const char *data, size_t len, const char *const keys[], json_error_t *error);

/*
 * Drops a tree from bp_json_loadb_kept or bp_json_read_kept (NULL is
 * fine), and the memory it was read into. Call it on the thread that read
 * the tree, instead of json_decref: after that, none of its values may be
 * used, even ones a parser took a reference to.
 */
void bp_json_kept_decref(json_t *root);

/*
 * Gives jansson, for the whole process, the allocator kept trees are built
 * with: malloc and free, except that while bp_json_read_kept builds, the
 * values of its tree come from a few blocks freed all at once. Call it once
 * at the start, before any thread and any other use of jansson; without it,
 * kept trees are built with malloc.
 */
void bp_json_kept_install(void);

/*
 * The reader alone: the kept tree (a new reference), or NULL where it
 * declines: input jansson rejects, and the rare input it leaves to jansson
 * (numbers past 1,000 characters, nesting past 2,000 levels). For
 * tests, which check it against jansson; drop it with bp_json_kept_decref.
 */
json_t *bp_json_read_kept(const char *data, size_t len, const char *const keys[]);

#endif
