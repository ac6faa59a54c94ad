/*
 * util.h - the small shared pieces every module uses: allocation wrappers that
 * die on failure, a growable string buffer, error records, SHA-256 and time
 * formatting. Nothing here knows about builds.
 */
#ifndef BUILDPROF_UTIL_H
#define BUILDPROF_UTIL_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define BP_PRINTF(f, a) __attribute__((format(printf, f, a)))
#define BP_NORETURN __attribute__((noreturn))
#define BP_ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* --- allocation: these never return NULL; they die naming the size --- */
void *xmalloc(size_t size);
void *xcalloc(size_t nmemb, size_t size);
void *xrealloc(void *ptr, size_t size);
/* Reallocates ptr to hold nmemb elements of size, checking the product. */
void *xreallocarray(void *ptr, size_t nmemb, size_t size);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
/* Returns a new string (caller frees); NULL in gives NULL out. */
char *xstrdup_or_null(const char *s);

/* For a short-lived command about to allocate about bytes (at most 16 MiB)
 * in small pieces, such as libplot's canvas, a malloc per row of pixels:
 * grows the heap by that much at once and asks for transparent huge pages
 * there. A 4 KiB page costs a page fault when first touched, 11 us each on
 * these VMs, and a huge page is one fault for 2 MiB. Where the kernel
 * gives none, this only grows the heap early. Call it once, early.
 * Returns the start of the marked room, or NULL when none was marked (a
 * second call, an allocator that is not glibc's heap, no such madvise). */
void *heap_reserve_huge(size_t bytes);

/* Grows *arr (of *alloc elements) so that index `need - 1` fits. */
#define BP_GROW(arr, need, alloc)                                               \
	do {                                                                    \
		if ((size_t)(need) > (alloc)) {                                 \
			size_t bp_n_ = (alloc) ? (alloc) * 2 : 16;              \
			while (bp_n_ < (size_t)(need))                          \
				bp_n_ *= 2;                                     \
			(arr) = xreallocarray((arr), bp_n_, sizeof(*(arr)));    \
			(alloc) = bp_n_;                                        \
		}                                                               \
	} while (0)

/* --- strbuf: a growable, always NUL-terminated buffer; buf is never NULL --- */
struct strbuf {
	size_t alloc; /* bytes allocated for buf, 0 while it points at the shared "" */
	size_t len;   /* bytes used, not counting the terminating NUL */
	char *buf;    /* the text; never NULL */
};
extern char strbuf_slopbuf[];
#define STRBUF_INIT { 0, 0, strbuf_slopbuf }

void strbuf_init(struct strbuf *sb, size_t hint);
void strbuf_release(struct strbuf *sb);
/* Returns the buffer (caller frees) and leaves sb empty. */
char *strbuf_detach(struct strbuf *sb, size_t *len);
void strbuf_grow(struct strbuf *sb, size_t extra);
void strbuf_reset(struct strbuf *sb);
/* Cuts sb back to its first len bytes (len <= sb->len). */
void strbuf_setlen(struct strbuf *sb, size_t len);
void strbuf_add(struct strbuf *sb, const void *data, size_t len);
void strbuf_addstr(struct strbuf *sb, const char *s);
void strbuf_addch(struct strbuf *sb, int c);
void strbuf_addf(struct strbuf *sb, const char *fmt, ...) BP_PRINTF(2, 3);
void strbuf_vaddf(struct strbuf *sb, const char *fmt, va_list ap);
/* Appends s percent-encoded for a URL path or query (RFC 3986 unreserved kept). */
void strbuf_add_urlencoded(struct strbuf *sb, const char *s);
/* Appends s as the body of a JSON string (no quotes), escaped exactly as
 * jansson escapes it (short escapes, \u00XX in capitals, UTF-8 as is), so a
 * document written partly by hand and partly by jansson reads as one. A byte
 * of no valid UTF-8 sequence, where jansson refuses the whole string,
 * becomes U+FFFD, as the line reader makes it in logs. */
void strbuf_add_json_escaped(struct strbuf *sb, const char *s);
/* Appends s with each byte of no valid UTF-8 sequence as U+FFFD. */
void strbuf_add_utf8_clean(struct strbuf *sb, const char *s);
/* Length of the valid UTF-8 sequence at p (at most n bytes), or 0. */
size_t bp_utf8_len(const unsigned char *p, size_t n);
/* Appends v as jansson writes a real with JSON_REAL_PRECISION(precision):
 * %.*g, ".0" added to whole numbers, no '+' or leading zeros in exponents. */
void strbuf_add_json_real(struct strbuf *sb, double v, int precision);
/* v in decimal, as "%lld" writes it. */
void strbuf_add_int(struct strbuf *sb, long long v);

/* --- string pool: copies kept in large blocks and all freed at once, for
 * the many short strings that live and die together (a build's step texts,
 * a history's keys): a malloc and a free for each cost more than using them --- */
struct bp_strpool_block;
struct bp_strpool {
	struct bp_strpool_block *head; /* newest first; NULL when empty */
};
/* A NUL-terminated copy of s[0, len), valid until the pool is released. */
char *bp_strpool_add(struct bp_strpool *p, const char *s, size_t len);
/* A copy of s, or NULL for NULL. */
char *bp_strpool_dup(struct bp_strpool *p, const char *s);
/* Frees every copy; the pool is empty and usable again. */
void bp_strpool_release(struct bp_strpool *p);

/* --- error records: the first error wins, later ones are dropped --- */
struct bp_error {
	char source[256]; /* the file, URL or command the error is about; may be "" */
	long line;        /* 1-based line in source, 0 when not about a line */
	char text[768];   /* the message: lowercase, no final period */
};
void bp_error_init(struct bp_error *err);
int bp_error_isset(const struct bp_error *err);
/* Fills err unless it already holds an error; always returns -1. */
int bp_error_set(struct bp_error *err, const char *source, long line, const char *fmt, ...)
	BP_PRINTF(4, 5);
/* Formats "source:line: text" (or "source: text", or "text") into buf. */
const char *bp_error_format(const struct bp_error *err, char *buf, size_t size);

/* --- messages on stderr, prefixed "buildprof: " --- */
/* Prints the message and returns -1, so `return error(...)` reads naturally. */
int error(const char *fmt, ...) BP_PRINTF(1, 2);
void warning(const char *fmt, ...) BP_PRINTF(1, 2);
void die(const char *fmt, ...) BP_PRINTF(1, 2) BP_NORETURN;
void bug_fl(const char *file, int line, const char *fmt, ...) BP_PRINTF(3, 4) BP_NORETURN;
#define BUG(...) bug_fl(__FILE__, __LINE__, __VA_ARGS__)

/* --- a library loaded on first use, not at start --- */
/* One function asked of the library: its name, and the function pointer
 * its address goes to, seen as a void * (as dlsym gives it). */
struct bp_dynsym {
	const char *name;
	void **slot;
};
struct bp_dynlib {
	const char *name;                 /* "libplot", for messages */
	const char *package;              /* the Debian package that has it */
	const char *const *sonames;       /* tried in order; NULL ends */
	const struct bp_dynsym *symbols;  /* { NULL, NULL } ends */
};
/* Opens the first of lib's sonames found and fills every symbol's slot.
 * Returns 0, or -1 with err (about where) naming the package to install or
 * the function missing. The caller loads once and keeps the result. */
int bp_dynlib_load(const struct bp_dynlib *lib, const char *where, struct bp_error *err);

/* --- SHA-256, for recognising an input already ingested --- */
struct bp_sha256 {
	uint32_t state[8];
	uint64_t bytes;
	unsigned char block[64];
	size_t used;
};
void bp_sha256_init(struct bp_sha256 *ctx);
void bp_sha256_update(struct bp_sha256 *ctx, const void *data, size_t len);
/* Writes 64 lowercase hex digits and a NUL into hex. */
void bp_sha256_final_hex(struct bp_sha256 *ctx, char hex[65]);
/* Whether the CPU's SHA instructions are used; on = 0 turns them off (so the
 * tests check the portable code too). Returns whether they are in use. */
int bp_sha256_hardware(int on);

/* --- time --- */
/* Parses an ISO 8601 / RFC 3339 time ("2023-09-14T10:11:12.123Z", with an
 * offset or a space instead of T, or GitLab's "2016-08-12 15:23:28 UTC") into
 * seconds since the epoch. Returns 0, or -1 when s is no such time. */
int bp_parse_time(const char *s, double *out);
/* Formats epoch seconds as "2023-09-14T10:11:12.123Z" (millisecond precision). */
const char *bp_format_time(double t, char *buf, size_t size);
/* Seconds since the epoch, wall clock. */
double bp_now(void);
/* Seconds from an arbitrary origin, monotonic. */
double bp_monotonic(void);

/* --- secrets --- */
/* Replaces credentials in s (NUL-terminated, in place; the text only shrinks)
 * with "***": passwords in URLs (https://user:***@host), Authorization,
 * PRIVATE-TOKEN and JOB-TOKEN header values, Bearer tokens, --password/
 * --token values, `docker login -p` values, and NAME=value assignments whose
 * name holds TOKEN, PASSWORD, PASSWD or SECRET. Returns 1 when it changed s. */
int bp_redact(char *s);

/* --- numbers --- */
/* Parses a whole decimal number in [min, max]; returns 0 or -1. */
int bp_parse_long(const char *s, long min, long max, long *out);

/* --- sorting --- */
/* Sorts as qsort does, stable: equal items keep their order (as glibc's
 * qsort keeps them too, being a merge sort). Short arrays, mostly in
 * order already, cost a fraction of qsort's time (common/sort.c). */
void bp_sort(void *base, size_t n, size_t size, int (*cmp)(const void *, const void *));

/* --- hash index: finds elements of an array the caller owns by key ---
 * Open addressing over positions, kept at most half full. A report over a
 * year of history looks up tens of thousands of distinct build names and
 * steps; linear searches made it quadratic. Each slot keeps its element's
 * hash, so a probe asks same() only when the hashes agree, and growing
 * needs no hashing again: folded to 32 bits beside a 32-bit position, so
 * a slot is 8 bytes, and a lookup among the 400k distinct steps of 100k
 * builds misses in half the memory (compare took 10% less time). */
struct bp_hash_slot {
	uint32_t hash;                  /* the hash folded to 32 bits */
	uint32_t pos;                   /* 1 + position, 0 when free */
};
struct bp_hash_index {
	struct bp_hash_slot *slots;
	size_t nslots;
};
#define BP_HASH_INIT 1469598103934665603ULL
/* A hash of s continued from h (for in-memory indexes only: not stable
 * across builds or machines); NULL hashes differently from "". */
uint64_t bp_hash_str(uint64_t h, const char *s);
/* The position whose element has this hash and same() accepts, or -1. */
long bp_hash_index_find(const struct bp_hash_index *ix, uint64_t hash,
			int (*same)(const void *ctx, size_t pos), const void *ctx);
/* The same for elements keyed by a string: base is the array (elements of
 * size bytes), each with its key, a char *, at offset (offsetof); hash is
 * bp_hash_str(BP_HASH_INIT, key). */
long bp_hash_index_find_key(const struct bp_hash_index *ix, uint64_t hash, const char *key, const void *base,
			    size_t size, size_t offset);
/* Records element pos (absent so far; n elements now) under hash, growing
 * when needed. */
void bp_hash_index_add(struct bp_hash_index *ix, size_t pos, uint64_t hash, size_t n);
void bp_hash_index_release(struct bp_hash_index *ix);

/* --- handoff: a producer thread and a bounded queue of fixed-size items
 * to the thread that started it (common/handoff.c) ---
 * bp_handoff_start runs produce(h, arg) on a new thread; it queues items
 * (item_size bytes each, copied) with bp_handoff_push, saying about how
 * much memory each holds, and push waits while the queue is full: 64
 * items, or 8 MiB of what they hold (one item always gets in). The
 * starting thread takes them in order with bp_handoff_next, which waits
 * while the queue is empty and returns NULL once the producer has returned
 * and all is taken. The item it returns is the caller's to use (and to
 * take contents from) until its next call or finish; then it goes back,
 * and release(item) frees it on the producer's thread, where its memory
 * came from. bp_handoff_finish stops the producer (push returns -1 from
 * then on, releasing the item), waits for it and releases what is left. Start returns NULL when no thread
 * could be made; the caller then does the work itself. */
struct bp_handoff;
struct bp_handoff *bp_handoff_start(size_t item_size, void (*produce)(struct bp_handoff *h, void *arg),
				    void *arg, void (*release)(void *item));
int bp_handoff_push(struct bp_handoff *h, void *item, size_t bytes);
void *bp_handoff_next(struct bp_handoff *h);
/* The item bp_handoff_next would return n calls from now (0: the next),
 * if it has already been taken from the queue, else NULL: a look ahead
 * that neither waits nor takes. Valid until that item is returned. */
void *bp_handoff_peek(struct bp_handoff *h, size_t n);
void bp_handoff_finish(struct bp_handoff *h);

/* --- output files: written beside the target, then renamed over it ---
 * A failed report or chart never leaves half a file, and a symbolic link at
 * the target (planted in a shared directory, say) is replaced, never
 * written through. */
struct bp_output {
	FILE *f;
	char *path, *tmp;
};
/* Opens a temporary file next to path (mode 0666 less the umask). Returns
 * 0, or -1 with err naming path. */
int bp_output_open(struct bp_output *o, const char *path, struct bp_error *err);
/* Closes the file and renames it over path; on any failure removes it.
 * Returns 0, or -1 with err naming path. */
int bp_output_commit(struct bp_output *o, struct bp_error *err);
/* Closes and removes the temporary file; path is untouched. */
void bp_output_abort(struct bp_output *o);

#endif
