/*
 * jsonkeep.c - a strict JSON reader that builds jansson values only for the
 * object members a parser asks for and checks the rest without building
 * them (see jsonkeep.h).
 *
 * It must never accept what json_loadb rejects, nor read a kept value
 * differently, since a parser cannot tell which of the two read its
 * document. So it follows jansson's lexer rule for rule: JSON's grammar
 * with only space, tab, CR and LF as whitespace; strings of valid UTF-8
 * (no overlong forms, surrogates or code points past U+10FFFF) without
 * control characters; \u escapes of four hex digits, surrogates only in
 * pairs and never U+0000; integers that fit a long long and reals that do
 * not overflow; an object or array at the top, nesting at most 2,000 deep,
 * and nothing but whitespace after it. A duplicate key keeps its last
 * value, as json_object_set_new does. Where it is unsure it declines and
 * the caller's json_loadb decides; tests/fuzz/fuzz_json.c checks it
 * against jansson on any bytes.
 *
 * The kept tree is a few hundred small values per document, built and
 * dropped at once. Taken from malloc one by one they overflowed glibc's
 * per-thread cache (seven of a size) and cost an eighth of a GitLab ingest;
 * once bp_json_kept_install has given jansson the allocator below, they are
 * carved from a few blocks instead, freed together by bp_json_kept_decref.
 */
#include <errno.h>
#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buildprof/jsonkeep.h"
#include "buildprof/util.h"

#define KEY_SLOTS 256     /* a power of two, more than twice the keys kept */
#define MAX_KEYS 100
#define MAX_DEPTH 2000    /* deeper is left to jansson, whose limit (2,048)
			   * counts the values inside the innermost one too */
#define MAX_NUMBER 1000   /* longer numbers are left to jansson */
/* A kept tree's memory comes in blocks, the first this big and each next
 * one twice the last, up to the most: every free asks which block holds
 * the value, and a document of 10,000 jobs in blocks of one size made
 * thousands of them, each free a walk through all: two thirds of its
 * ingest, growing with the square of its size. */
#define ARENA_BLOCK (32 * 1024)
#define ARENA_BLOCK_MOST (64 * 1024 * 1024)
#define ARENA_LARGEST 4096 /* a value larger than this from malloc */

struct arena_block {
	struct arena_block *next; /* the one before */
	size_t used, size;        /* bytes of data */
	max_align_t data[];
};

/* This thread's live kept tree's blocks, newest first, and whether jansson
 * allocates from them now (only while bp_json_read_kept builds). A thread
 * holds one such tree at a time: a second read while one lives uses malloc. */
static __thread struct arena_block *arena;
static __thread int arena_filling;
static int installed;

struct keyset {
	int all;                    /* keep every member: keys was NULL */
	const char *key[KEY_SLOTS]; /* NULL where free */
	size_t len[KEY_SLOTS];
	size_t longest;
};

struct reader {
	const unsigned char *p, *end;
	const struct keyset *keys;
	int depth;
	struct strbuf scratch; /* an escaped string, decoded */
	struct strbuf key;     /* an escaped key, decoded: kept while its value is read */
	char number[MAX_NUMBER + 1]; /* a number's text for strtod: here, not in
				      * read_number's frame, which inlined into
				      * read_value would be on the stack 2,000 deep */
};

static uint32_t hash(const unsigned char *s, size_t len)
{
	uint32_t h = 2166136261u; /* FNV-1a */

	while (len--)
		h = (h ^ *s++) * 16777619u;
	return h;
}

static void keyset_init(struct keyset *ks, const char *const keys[])
{
	size_t i, n;

	memset(ks, 0, sizeof(*ks));
	ks->all = !keys;
	for (n = 0; keys && keys[n]; n++) {
		size_t len = strlen(keys[n]);
		if (n >= MAX_KEYS)
			BUG("more than %d keys to keep", MAX_KEYS);
		for (i = hash((const unsigned char *)keys[n], len); ks->key[i % KEY_SLOTS]; i++)
			;
		ks->key[i % KEY_SLOTS] = keys[n];
		ks->len[i % KEY_SLOTS] = len;
		if (len > ks->longest)
			ks->longest = len;
	}
}

/* The kept key spelled s (len bytes), NUL-terminated, or NULL. */
static const char *keyset_find(const struct keyset *ks, const unsigned char *s, size_t len)
{
	size_t i;

	if (len > ks->longest)
		return NULL;
	for (i = hash(s, len); ks->key[i % KEY_SLOTS]; i++)
		if (ks->len[i % KEY_SLOTS] == len && !memcmp(ks->key[i % KEY_SLOTS], s, len))
			return ks->key[i % KEY_SLOTS];
	return NULL;
}

static void skip_space(struct reader *r)
{
	while (r->p < r->end && (*r->p == ' ' || *r->p == '\n' || *r->p == '\r' || *r->p == '\t'))
		r->p++;
}

static int hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* The code unit of the four hex digits at p (before end), or -1. */
static long hex4(const unsigned char *p, const unsigned char *end)
{
	long v = 0;
	int i, d;

	if (end - p < 4)
		return -1;
	for (i = 0; i < 4; i++) {
		d = hexval(p[i]);
		if (d < 0)
			return -1;
		v = v << 4 | d;
	}
	return v;
}

/*
 * Checks the escape at p (its backslash) and returns its length, or 0 where
 * jansson rejects it. *cp gets the code point it stands for.
 */
static size_t escape_len(const unsigned char *p, const unsigned char *end, long *cp)
{
	static const char from[] = "\"\\/bfnrt", to[] = "\"\\/\b\f\n\r\t";
	const char *e;
	long lo;

	if (end - p < 2)
		return 0;
	if (p[1] != 'u') {
		e = p[1] ? strchr(from, p[1]) : NULL; /* not the terminator */
		if (!e)
			return 0;
		*cp = to[e - from];
		return 2;
	}
	*cp = hex4(p + 2, end);
	if (*cp <= 0 || (*cp >= 0xdc00 && *cp <= 0xdfff))
		return 0; /* bad digits, U+0000, or a low surrogate alone */
	if (*cp < 0xd800 || *cp > 0xdbff)
		return 6;
	if (end - p < 12 || p[6] != '\\' || p[7] != 'u')
		return 0;
	lo = hex4(p + 8, end);
	if (lo < 0xdc00 || lo > 0xdfff)
		return 0;
	*cp = ((*cp - 0xd800) << 10) + (lo - 0xdc00) + 0x10000;
	return 12;
}

static void add_utf8(struct strbuf *sb, long cp)
{
	unsigned char b[4];
	size_t n;

	if (cp < 0x80) {
		b[0] = (unsigned char)cp;
		n = 1;
	} else if (cp < 0x800) {
		b[0] = 0xc0 | cp >> 6;
		b[1] = 0x80 | (cp & 0x3f);
		n = 2;
	} else if (cp < 0x10000) {
		b[0] = 0xe0 | cp >> 12;
		b[1] = 0x80 | (cp >> 6 & 0x3f);
		b[2] = 0x80 | (cp & 0x3f);
		n = 3;
	} else {
		b[0] = 0xf0 | cp >> 18;
		b[1] = 0x80 | (cp >> 12 & 0x3f);
		b[2] = 0x80 | (cp >> 6 & 0x3f);
		b[3] = 0x80 | (cp & 0x3f);
		n = 4;
	}
	strbuf_add(sb, b, n);
}

/*
 * Checks the string whose opening quote r->p is at and moves past it. Its
 * text, undone escapes and all, goes to *text and *len when text is given:
 * pointing into the input when it has no escape, into the buffer into when
 * it has. Returns 0, or -1 where jansson rejects it.
 */
static int read_string(struct reader *r, struct strbuf *into, const unsigned char **text, size_t *len)
{
	const unsigned char *p = r->p + 1, *end = r->end, *run = p;
	int escaped = 0;
	long cp;
	size_t n;

	for (;;) {
		/* the common byte first: printable ASCII, nothing to undo */
		while (p < end && *p >= 0x20 && *p < 0x80 && *p != '"' && *p != '\\')
			p++;
		if (p >= end || *p < 0x20)
			return -1;
		if (*p == '"')
			break;
		if (*p == '\\') {
			n = escape_len(p, end, &cp);
			if (!n)
				return -1;
			if (text) {
				if (!escaped)
					strbuf_reset(into);
				strbuf_add(into, run, (size_t)(p - run));
				add_utf8(into, cp);
			}
			escaped = 1;
			p += n;
			run = p;
			continue;
		}
		n = bp_utf8_len(p, (size_t)(end - p));
		if (!n)
			return -1;
		p += n;
	}
	if (text && escaped) {
		strbuf_add(into, run, (size_t)(p - run));
		*text = (const unsigned char *)into->buf;
		*len = into->len;
	} else if (text) {
		*text = r->p + 1;
		*len = (size_t)(p - (r->p + 1));
	}
	r->p = p + 1;
	return 0;
}

static int is_digit(const unsigned char *p, const unsigned char *end)
{
	return p < end && *p >= '0' && *p <= '9';
}

static const unsigned char *digits(const unsigned char *p, const unsigned char *end)
{
	while (is_digit(p, end))
		p++;
	return p;
}

/*
 * Reads the number at r->p into *out (when out is given). jansson's rules:
 * no leading zeros or '+', digits on both sides of '.', an integer (no '.'
 * or exponent) must fit a long long and a real must not overflow.
 */
static int read_number(struct reader *r, json_t **out)
{
	const unsigned char *p = r->p, *end = r->end;
	char *buf = r->number;
	int real = 0;
	size_t n;

	if (p < end && *p == '-')
		p++;
	if (!is_digit(p, end))
		return -1;
	if (*p == '0' && is_digit(p + 1, end))
		return -1;
	p = digits(p, end);
	if (p < end && *p == '.') {
		real = 1;
		if (!is_digit(++p, end))
			return -1;
		p = digits(p, end);
	}
	if (p < end && (*p == 'e' || *p == 'E')) {
		real = 1;
		p++;
		if (p < end && (*p == '+' || *p == '-'))
			p++;
		if (!is_digit(p, end))
			return -1;
		p = digits(p, end);
	}
	n = (size_t)(p - r->p);
	r->p = p;
	/* a number not kept is converted only to see that it fits: a short
	 * integer does, and so does a short real without an exponent */
	if (!out && (real ? n < 300 && !memchr(p - n, 'e', n) && !memchr(p - n, 'E', n) : n < 19))
		return 0;
	if (n > MAX_NUMBER)
		return -1;
	memcpy(buf, p - n, n);
	buf[n] = '\0';
	errno = 0;
	if (real) {
		double d = strtod(buf, NULL);
		if (isinf(d))
			return -1; /* jansson: "real number overflow" */
		if (out)
			*out = json_real(d);
	} else {
		long long v = strtoll(buf, NULL, 10);
		if (errno == ERANGE)
			return -1; /* jansson: "too big integer" */
		if (out)
			*out = json_integer(v);
	}
	return 0;
}

static int read_literal(struct reader *r, const char *word, json_t *value, json_t **out)
{
	size_t n = strlen(word);

	if ((size_t)(r->end - r->p) < n || memcmp(r->p, word, n))
		return -1;
	r->p += n;
	if (out)
		*out = value;
	return 0;
}

static int read_value(struct reader *r, json_t **out);

/* Moves past the opening bracket at r->p: 0 when close follows at once (an
 * empty object or array, moved past too), 1 when an item does. */
static int opened(struct reader *r, int close)
{
	r->p++;
	skip_space(r);
	if (r->p < r->end && *r->p == close) {
		r->p++;
		return 0;
	}
	return 1;
}

/* After an item of an object or array: 1 when another follows (moved past
 * the comma), 0 when close ends it (moved past), -1 for anything else. */
static int after_item(struct reader *r, int close)
{
	skip_space(r);
	if (r->p < r->end && *r->p == ',') {
		r->p++;
		skip_space(r);
		return 1;
	}
	if (r->p < r->end && *r->p == close) {
		r->p++;
		return 0;
	}
	return -1;
}

/* Reads the object at r->p, keeping the kept keys' members in *out. */
static int read_object(struct reader *r, json_t **out)
{
	const unsigned char *key;
	const char *kept;
	size_t len;
	json_t *v;
	char *copy;
	int keep, rc;

	if (!opened(r, '}'))
		return 0;
	do {
		if (r->p >= r->end || *r->p != '"' || read_string(r, &r->key, out ? &key : NULL, &len))
			return -1;
		kept = out && !r->keys->all ? keyset_find(r->keys, key, len) : NULL;
		keep = out && (kept || r->keys->all);
		skip_space(r);
		if (r->p >= r->end || *r->p != ':')
			return -1;
		r->p++;
		skip_space(r);
		v = NULL;
		copy = NULL;
		if (keep && !kept) /* every key kept: an escaped one's r->key is the next key's */
			kept = key == (const unsigned char *)r->key.buf ? (copy = xstrndup((const char *)key, len))
									 : (const char *)key;
		if (read_value(r, keep ? &v : NULL)) {
			json_decref(v);
			free(copy);
			return -1;
		}
		if (keep)
			json_object_setn_new_nocheck(*out, kept, len, v);
		free(copy);
	} while ((rc = after_item(r, '}')) == 1);
	return rc;
}

static int read_array(struct reader *r, json_t **out)
{
	json_t *v;
	int rc;

	if (!opened(r, ']'))
		return 0;
	do {
		v = NULL;
		if (read_value(r, out ? &v : NULL)) {
			json_decref(v);
			return -1;
		}
		if (out)
			json_array_append_new(*out, v);
	} while ((rc = after_item(r, ']')) == 1);
	return rc;
}

/* Reads the value at r->p (no whitespace before it) into *out when out is
 * given, and only checks it when not. On failure *out is NULL or a partial
 * tree the caller drops. */
static int read_value(struct reader *r, json_t **out)
{
	const unsigned char *text;
	size_t len;
	int rc;

	if (r->p >= r->end)
		return -1;
	switch (*r->p) {
	case '{':
	case '[':
		if (++r->depth > MAX_DEPTH)
			return -1;
		if (out)
			*out = *r->p == '{' ? json_object() : json_array();
		rc = *r->p == '{' ? read_object(r, out) : read_array(r, out);
		r->depth--;
		return rc;
	case '"':
		if (read_string(r, &r->scratch, out ? &text : NULL, &len))
			return -1;
		if (out)
			*out = json_stringn_nocheck((const char *)text, len);
		return 0;
	case 't':
		return read_literal(r, "true", json_true(), out);
	case 'f':
		return read_literal(r, "false", json_false(), out);
	case 'n':
		return read_literal(r, "null", json_null(), out);
	default:
		return read_number(r, out);
	}
}

static void *kept_malloc(size_t size)
{
	const size_t align = _Alignof(max_align_t);
	void *p;

	if (!arena_filling || size > ARENA_LARGEST)
		return malloc(size);
	size = (size + align - 1) / align * align;
	if (!arena || arena->used + size > arena->size) {
		size_t bytes = !arena ? ARENA_BLOCK : arena->size < ARENA_BLOCK_MOST ? 2 * arena->size : arena->size;
		struct arena_block *b = malloc(sizeof(*b) + bytes);
		if (!b)
			return NULL;
		b->next = arena;
		b->used = 0;
		b->size = bytes;
		arena = b;
	}
	p = (char *)arena->data + arena->used;
	arena->used += size;
	return p;
}

static int in_arena(const void *p)
{
	const struct arena_block *b;

	for (b = arena; b; b = b->next)
		if ((const char *)p >= (const char *)b->data && (const char *)p < (const char *)b->data + b->size)
			return 1;
	return 0;
}

/* jansson frees a value: arena values go when their tree does */
static void kept_free(void *p)
{
	if (!in_arena(p))
		free(p);
}

static void arena_release(void)
{
	while (arena) {
		struct arena_block *b = arena;
		arena = b->next;
		free(b);
	}
}

void bp_json_kept_install(void)
{
	json_set_alloc_funcs(kept_malloc, kept_free);
	installed = 1;
}

void bp_json_kept_decref(json_t *root)
{
	int owned = root && in_arena(root);

	json_decref(root);
	if (owned)
		arena_release();
}

json_t *bp_json_read_kept(const char *data, size_t len, const char *const keys[])
{
	struct keyset ks;
	struct reader r = { (const unsigned char *)data, (const unsigned char *)data + len, &ks, 0,
			    STRBUF_INIT, STRBUF_INIT, "" };
	json_t *root = NULL;
	int filling = installed && !arena;

	keyset_init(&ks, keys);
	arena_filling = filling;
	skip_space(&r);
	if (r.p < r.end && (*r.p == '{' || *r.p == '[') && !read_value(&r, &root)) {
		skip_space(&r);
		if (r.p == r.end)
			goto out;
	}
	json_decref(root);
	root = NULL;
	if (filling)
		arena_release();
out:
	arena_filling = 0;
	strbuf_release(&r.scratch);
	strbuf_release(&r.key);
	return root;
}

json_t *bp_json_loadb_kept(const char *data, size_t len, const char *const keys[], json_error_t *error)
{
	json_t *root = bp_json_read_kept(data, len, keys);

	return root ? root : json_loadb(data, len, 0, error);
}
