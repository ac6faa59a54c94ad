/*
 * test_util.c - strbuf, SHA-256 (reference digests from Python's hashlib),
 * time parsing (reference epochs from Python's datetime), number parsing and
 * JSON values written as jansson writes them, a library loaded on first
 * use, the heap made ready for huge pages, and the stable sort.
 */
#include <float.h>
#include <limits.h>
#include <jansson.h>
#include <math.h>
#include <stddef.h>
#include <stdlib.h>

#include "unit.h"

static void test_strbuf(void)
{
	struct strbuf sb = STRBUF_INIT;
	char *s;
	size_t len;
	int i;

	CHECK(sb.buf != NULL && sb.len == 0 && sb.buf[0] == '\0');
	for (i = 0; i < 1000; i++)
		strbuf_addf(&sb, "%d,", i);
	CHECK(sb.len == strlen(sb.buf));
	CHECK(!strncmp(sb.buf, "0,1,2,", 6));
	CHECK(!strcmp(sb.buf + sb.len - 4, "999,"));
	strbuf_reset(&sb);
	CHECK_INT(sb.len, 0);
	strbuf_add_json_escaped(&sb, "a\"b\\c\nd\x01");
	CHECK_STR(sb.buf, "a\\\"b\\\\c\\nd\\u0001");
	/* UTF-8 as is; each byte of no valid sequence (Latin-1, cut short,
	 * overlong, a surrogate, past U+10FFFF) as U+FFFD */
	strbuf_reset(&sb);
	strbuf_add_json_escaped(&sb, "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80");
	CHECK_STR(sb.buf, "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80");
	strbuf_reset(&sb);
	strbuf_add_json_escaped(&sb, "caf\xe9|\xe2\x82|\xc0\xaf|\xed\xa0\x80|\xf4\x90\x80\x80\"");
	CHECK_STR(sb.buf, "caf\xef\xbf\xbd|\xef\xbf\xbd\xef\xbf\xbd|\xef\xbf\xbd\xef\xbf\xbd|"
			  "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd|"
			  "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\\\"");
	strbuf_reset(&sb);
	strbuf_add_json_escaped(&sb, "end\xe2\x82");
	CHECK_STR(sb.buf, "end\xef\xbf\xbd\xef\xbf\xbd");
	strbuf_reset(&sb);
	strbuf_add_utf8_clean(&sb, "caf\xc3\xa9 caf\xe9 \"end\xe2\x82");
	CHECK_STR(sb.buf, "caf\xc3\xa9 caf\xef\xbf\xbd \"end\xef\xbf\xbd\xef\xbf\xbd");
	s = strbuf_detach(&sb, &len);
	CHECK_INT(len, strlen(s));
	CHECK(sb.buf != NULL && sb.len == 0);
	free(s);
	strbuf_release(&sb);
}

/* What jansson writes for a JSON value: the reference the hand-written
 * parts of the JSON report must match byte for byte. */
static char *jansson_dump(json_t *v)
{
	char *s = json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT | JSON_REAL_PRECISION(12));

	json_decref(v);
	return s;
}

/* Whether strbuf_add_json_real writes v otherwise than jansson does at
 * precision p; differ, the differences so far: the first is shown. */
static int real_unlike_jansson(struct strbuf *sb, double v, int p, size_t differ)
{
	json_t *j = json_real(v);
	char *got = json_dumps(j, JSON_ENCODE_ANY | JSON_COMPACT | JSON_REAL_PRECISION(p));
	int unlike;

	json_decref(j);
	strbuf_reset(sb);
	strbuf_add_json_real(sb, v, p);
	unlike = !got || strcmp(sb->buf, got) != 0;
	if (unlike && !differ)
		CHECK_STR(sb->buf, got ? got : "(jansson failed)");
	free(got);
	return unlike;
}

/* Pooled copies: each intact after many more, one longer than a block,
 * NULL kept NULL, and a released pool empty and usable again. */
static void test_strpool(void)
{
	struct bp_strpool p = { 0 };
	char *copies[2000], big[10000], text[32];
	const char *short_one;
	int i, ok = 1;

	for (i = 0; i < 2000; i++) {
		snprintf(text, sizeof(text), "RUN step %d", i);
		copies[i] = bp_strpool_dup(&p, text);
	}
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	CHECK_STR(bp_strpool_dup(&p, big), big);
	short_one = bp_strpool_add(&p, "abcdef", 3);
	for (i = 0; i < 2000; i++) {
		snprintf(text, sizeof(text), "RUN step %d", i);
		ok &= !strcmp(copies[i], text) && copies[i] != text;
	}
	CHECK(ok);
	CHECK_STR(short_one, "abc");
	CHECK(bp_strpool_dup(&p, NULL) == NULL);
	bp_strpool_release(&p);
	CHECK(p.head == NULL);
	CHECK_STR(bp_strpool_dup(&p, "again"), "again");
	bp_strpool_release(&p);
}

/* A build's step strings packed: the same text, side by side in its pool,
 * NULLs kept; packing again, or a build already pooled, changes nothing;
 * the release (under ASan in make test) frees each byte once. */
static void test_build_pack(void)
{
	struct bp_build b;
	struct bp_step *s;
	char *text;
	int i;

	bp_build_init(&b);
	for (i = 0; i < 3; i++) {
		char t[32];

		s = bp_build_add_step(&b);
		snprintf(t, sizeof(t), "RUN make %d", i);
		s->text = xstrdup(t);
		s->instruction = xstrdup("RUN");
		s->stage = i == 1 ? xstrdup("builder") : NULL;
		s->digest = i == 2 ? xstrdup("sha256:5f1e") : NULL;
	}
	b.steps[2].error = xstrdup("exit code: 2");
	b.name = xstrdup("app");
	bp_build_pack_steps(&b);
	CHECK(b.step_strings.head != NULL);
	CHECK_STR(b.steps[0].text, "RUN make 0");
	CHECK_STR(b.steps[1].stage, "builder");
	CHECK_STR(b.steps[2].digest, "sha256:5f1e");
	CHECK_STR(b.steps[2].error, "exit code: 2");
	CHECK(b.steps[0].stage == NULL && b.steps[0].digest == NULL && b.steps[2].platform == NULL);
	/* side by side, in the order of the fields */
	CHECK(b.steps[1].instruction == b.steps[1].stage + strlen("builder") + 1);
	CHECK(b.steps[1].text == b.steps[1].instruction + strlen("RUN") + 1);
	CHECK(b.steps[2].instruction == b.steps[1].text + strlen("RUN make 1") + 1);
	CHECK_STR(b.name, "app"); /* the build's own strings stay its own */
	text = b.steps[0].text;
	bp_build_pack_steps(&b);
	CHECK(b.steps[0].text == text);
	bp_build_release(&b);
	CHECK(b.nsteps == 0 && b.step_strings.head == NULL);

	bp_build_init(&b); /* a build without steps has nothing to pack */
	bp_build_pack_steps(&b);
	CHECK(b.step_strings.head == NULL);
	bp_build_release(&b);
}

static int same_pos(const void *ctx, size_t pos)
{
	return *(const size_t *)ctx == pos;
}

static int same_word(const void *ctx, size_t pos)
{
	const char *const *k = ctx;

	return !strcmp(k[0], k[1 + pos]);
}

/* The hash index: equal hashes told apart by same(), different hashes
 * never asked, every element found again after the table grew. */
static void test_hash_index(void)
{
	static const char *words[] = { NULL, "alpha", "beta", "gamma", "delta" };
	struct bp_hash_index ix = { 0 };
	size_t i, n = 200;
	int ok = 1;

	/* alpha and beta share a hash; gamma and delta have their own */
	bp_hash_index_add(&ix, 0, 7, 1);
	bp_hash_index_add(&ix, 1, 7, 2);
	bp_hash_index_add(&ix, 2, 8, 3);
	bp_hash_index_add(&ix, 3, 7 + ((uint64_t)1 << 40), 4);
	for (i = 0; i < 4; i++) {
		uint64_t h = i < 2 ? 7 : i == 2 ? 8 : 7 + ((uint64_t)1 << 40);
		words[0] = words[1 + i];
		CHECK_INT(bp_hash_index_find(&ix, h, same_word, words), (long)i);
	}
	words[0] = "gamma"; /* the right key under another element's hash */
	CHECK_INT(bp_hash_index_find(&ix, 7, same_word, words), -1);
	words[0] = "omega";
	CHECK_INT(bp_hash_index_find(&ix, 7, same_word, words), -1);
	bp_hash_index_release(&ix);

	/* a slot keeps 32 bits of the hash: 5 and 2^32 + 4 keep the same, and
	 * same() still tells their elements apart */
	bp_hash_index_add(&ix, 0, 5, 1);
	bp_hash_index_add(&ix, 1, ((uint64_t)1 << 32) | 4, 2);
	words[0] = "alpha";
	CHECK_INT(bp_hash_index_find(&ix, ((uint64_t)1 << 32) | 4, same_word, words), 0);
	words[0] = "beta";
	CHECK_INT(bp_hash_index_find(&ix, 5, same_word, words), 1);
	words[0] = "gamma";
	CHECK_INT(bp_hash_index_find(&ix, 5, same_word, words), -1);
	bp_hash_index_release(&ix);

	/* positions as their own keys, past several growths */
	for (i = 0; i < n; i++) {
		char key[3] = { (char)('a' + i % 26), (char)('0' + i / 26), 0 };
		bp_hash_index_add(&ix, i, bp_hash_str(BP_HASH_INIT, key), i + 1);
	}
	for (i = 0; i < n; i++) {
		char key[3] = { (char)('a' + i % 26), (char)('0' + i / 26), 0 };
		size_t pos = i;
		ok &= bp_hash_index_find(&ix, bp_hash_str(BP_HASH_INIT, key), same_pos, &pos) == (long)i;
	}
	CHECK(ok);
	CHECK(ix.nslots >= 2 * n);
	bp_hash_index_release(&ix);

	/* elements keyed by a string inside them */
	{
		struct elem {
			double weight;
			char *name;
		} elems[3] = { { 1, "alpha" }, { 2, "beta" }, { 3, "al" } };
		for (i = 0; i < 3; i++)
			bp_hash_index_add(&ix, i, bp_hash_str(BP_HASH_INIT, elems[i].name), i + 1);
		for (i = 0; i < 3; i++)
			CHECK_INT(bp_hash_index_find_key(&ix, bp_hash_str(BP_HASH_INIT, elems[i].name), elems[i].name,
							 elems, sizeof(elems[0]), offsetof(struct elem, name)),
				  (long)i);
		CHECK_INT(bp_hash_index_find_key(&ix, bp_hash_str(BP_HASH_INIT, "alp"), "alp", elems, sizeof(elems[0]),
						 offsetof(struct elem, name)),
			  -1);
		/* the right hash, another key: no match */
		CHECK_INT(bp_hash_index_find_key(&ix, bp_hash_str(BP_HASH_INIT, "beta"), "betA", elems,
						 sizeof(elems[0]), offsetof(struct elem, name)),
			  -1);
		bp_hash_index_release(&ix);
	}

	/* keys that share their bytes hash apart: where one string ends
	 * counts, NULL is not "", and a byte past the eighth is not lost */
	CHECK(bp_hash_str(bp_hash_str(BP_HASH_INIT, "a"), "b") != bp_hash_str(bp_hash_str(BP_HASH_INIT, "ab"), ""));
	CHECK(bp_hash_str(BP_HASH_INIT, NULL) != bp_hash_str(BP_HASH_INIT, ""));
	CHECK(bp_hash_str(BP_HASH_INIT, "RUN make all") != bp_hash_str(BP_HASH_INIT, "RUN make alL"));
	CHECK(bp_hash_str(BP_HASH_INIT, "12345678") != bp_hash_str(BP_HASH_INIT, "12345678\x01"));
	CHECK(bp_hash_str(BP_HASH_INIT, "x") == bp_hash_str(BP_HASH_INIT, "x"));
	/* spread: 20,000 keys that differ in one byte over 2^16 slots fill them
	 * about as a random function would (sum of squared counts near
	 * n + n(n-1)/m = 26,103; FNV-like low bits would pile up) */
	{
		static unsigned count[1 << 16];
		double sq = 0;
		for (i = 0; i < 20000; i++) {
			char key[40];
			snprintf(key, sizeof(key), "RUN ./step.sh %zu 1", i);
			count[bp_hash_str(BP_HASH_INIT, key) & 0xffff]++;
		}
		for (i = 0; i < BP_ARRAY_SIZE(count); i++)
			sq += (double)count[i] * count[i];
		CHECK(sq < 27000);
	}
}

static void test_json_like_jansson(void)
{
	static const double reals[] = { 0, -0.0, 1, -1, 0.1, 0.5, 2.25, 10, 100, 1e11, 1e12, 123456789012,
					1234567890123.0, 1e15, 1e20, -1e20, 1e100, 1.5e300, 1e-4, 1e-5,
					1.5e-7, 3.14159265358979, 2.0 / 3, 12.3456789012345, 7.6, 0.0001234,
					DBL_MAX, DBL_MIN, 4.9e-324, 999999999999.0, -999999999999.0,
					-123456789012.0, -7, 42, 1e12 - 1, -1e12, 2.4000000001, -7.6000000001,
					1234.5000001, 0.1 + 0.2 };
	static const char *const strings[] = { "", "plain", "a\"b\\c", "tab\there", "\b\f\n\r",
					       "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x90\xb3", "x/y", "\x7f" };
	struct strbuf sb = STRBUF_INIT;
	char one[2] = { 0, 0 }, *want;
	size_t i, differ = 0;
	unsigned int seed = 7;

	for (i = 0; i < BP_ARRAY_SIZE(reals) + 2000; i++) {
		double v;
		if (i < BP_ARRAY_SIZE(reals)) {
			v = reals[i];
		} else { /* magnitudes from 1e-9 to 1e9, some whole */
			seed = seed * 1103515245 + 12345;
			v = (double)(seed % 1000003) * pow(10, (int)(seed >> 24) % 19 - 9);
			if (i % 5 == 0)
				v = floor(v);
		}
		differ += real_unlike_jansson(&sb, v, 12, differ);
	}
	CHECK_INT(differ, 0); /* of 2,040 reals */
	for (i = 0; i < 16 * 8; i++) { /* whole numbers near 10^p, at each precision p */
		static const double near[] = { 1, 9, 10, 11, 99, 100, 101, 0.5 };
		int p = (int)(i / 8) + 1 > 15 ? 15 : (int)(i / 8) + 1;
		differ += real_unlike_jansson(&sb, floor(pow(10, p - 1) * near[i % 8]), p, differ);
	}
	CHECK_INT(differ, 0);
	/* one decimal (a log's durations) at each precision: below 10^(p-1)
	 * and at or past it, where p digits no longer hold the tenths; and
	 * tenths of every size at the report's precision */
	for (i = 0; i < 15 * 8 + 3000; i++) {
		static const double near[] = { 1, -1, 9.9, 10.1, 0.3, -0.7, 99.9, 100.1 };
		int p = i < 15 * 8 ? (int)(i / 8) + 1 : 12;
		double v;
		if (i < 15 * 8) {
			v = (pow(10, p - 1) * 10 * near[i % 8] - (near[i % 8] < 0 ? -1 : 1)) / 10;
		} else {
			seed = seed * 1103515245 + 12345;
			v = (double)((long long)(seed % 100000) * (long long)pow(10, (int)(seed >> 24) % 9) + 3) / 10;
			if (i % 3 == 0)
				v = -v;
		}
		differ += real_unlike_jansson(&sb, v, p, differ);
	}
	CHECK_INT(differ, 0);
	/* near tenths: sums of them, as a timeline's starts are; and at each
	 * precision p, k / 10 for a k of 2 and of p digits, off by parts of the
	 * unit of its last digit on both sides of where the writer leaves them
	 * to snprintf, above and below */
	for (i = 0; i < 2000 + 14 * 2 * 10 * 2; i++) {
		static const double part[] = { 0.01, 0.2, 0.37, 0.39, 0.45, 0.49, 0.5, 0.51, 0.7, 0.99 };
		double v = 0;
		int p = 12;
		if (i < 2000) {
			size_t n = 2 + i % 30, j;
			for (j = 0; j < n; j++) {
				seed = seed * 1103515245 + 12345;
				v += (double)(seed % 1000) / 10;
			}
		} else {
			size_t at = i - 2000;
			int d;
			p = (int)(at / 40) + 2;
			d = at / 20 % 2 ? p : 2;
			v = (pow(10, d - 1) + 3 + part[at / 2 % 10] * pow(10, d - p)) / 10;
			if (at % 2)
				v = -v;
		}
		differ += real_unlike_jansson(&sb, v, p, differ);
	}
	CHECK_INT(differ, 0);
	for (i = 0; i < 64; i++) { /* integers as printf writes them */
		static const long long ints[] = { 0, -1, 1, 9, 10, -10, LLONG_MAX, LLONG_MIN };
		long long n = i < BP_ARRAY_SIZE(ints) ? ints[i] : (long long)(i * 2654435761u) * (i % 2 ? -977 : 31);
		char printed[32];
		snprintf(printed, sizeof(printed), "%lld", n);
		strbuf_reset(&sb);
		strbuf_add_int(&sb, n);
		CHECK_STR(sb.buf, printed);
	}
	for (i = 0; i < BP_ARRAY_SIZE(strings) + 127; i++) {
		const char *s = strings[0];
		if (i < BP_ARRAY_SIZE(strings)) {
			s = strings[i];
		} else {
			one[0] = (char)(i - BP_ARRAY_SIZE(strings) + 1);
			s = one;
		}
		strbuf_reset(&sb);
		strbuf_addch(&sb, '"');
		strbuf_add_json_escaped(&sb, s);
		strbuf_addch(&sb, '"');
		want = jansson_dump(json_string(s));
		CHECK_STR(sb.buf, want);
		free(want);
	}
	/* a byte to escape, or one beside those that must be, at each place of
	 * a text longer than the eight bytes strbuf_add_json_escaped reads at
	 * a time, and two in one word */
	for (i = 0, differ = 0; i < 25 * 16; i++) {
		static const char *const marks[] = { "\"", "\\", "\x01", "\x1f", "\n", " ", "!", "#",
						     "[", "]", "\x7f", "\xc3\xa9", "\xe2\x82\xac", "a\"b",
						     "\t\\", "\"\"" };
		static const char base[] = "abcdefghijklmnopqrstuvwx";
		char text[40];
		snprintf(text, sizeof(text), "%.*s%s%s", (int)(i / 16), base, marks[i % 16], base + i / 16);
		strbuf_reset(&sb);
		strbuf_addch(&sb, '"');
		strbuf_add_json_escaped(&sb, text);
		strbuf_addch(&sb, '"');
		want = jansson_dump(json_string(text));
		if (strcmp(sb.buf, want) && !differ++)
			CHECK_STR(sb.buf, want);
		free(want);
	}
	CHECK_INT(differ, 0); /* of 400 texts */
	/* a byte of no UTF-8 sequence, which jansson refuses, inside a word */
	strbuf_reset(&sb);
	strbuf_add_json_escaped(&sb, "abc\xff" "defghijk\xc3");
	CHECK_STR(sb.buf, "abc\xef\xbf\xbd" "defghijk\xef\xbf\xbd");
	strbuf_release(&sb);
}

static void test_sha256_vectors(void);

static void sha_hex(const void *data, size_t len, char hex[65])
{
	struct bp_sha256 ctx;

	bp_sha256_init(&ctx);
	bp_sha256_update(&ctx, data, len);
	bp_sha256_final_hex(&ctx, hex);
}

/* the known answers, with the CPU's SHA instructions and without */
static void test_sha256(void)
{
	int hw = bp_sha256_hardware(1), pass;

	for (pass = 0; pass < 2; pass++) {
		bp_sha256_hardware(pass == 0);
		test_sha256_vectors();
	}
	bp_sha256_hardware(hw);
}

static void test_sha256_vectors(void)
{
	char hex[65], *a;
	unsigned char seq[768];
	struct bp_sha256 ctx;
	size_t i;

	sha_hex("", 0, hex);
	CHECK_STR(hex, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
	sha_hex("abc", 3, hex);
	CHECK_STR(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	a = malloc(1000000);
	memset(a, 'a', 1000000);
	sha_hex(a, 1000000, hex);
	CHECK_STR(hex, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
	free(a);
	/* fed in uneven pieces, as a stream arrives */
	for (i = 0; i < sizeof(seq); i++)
		seq[i] = (unsigned char)(i % 256);
	bp_sha256_init(&ctx);
	for (i = 0; i < sizeof(seq);) {
		size_t n = (i % 7) + 1;
		if (i + n > sizeof(seq))
			n = sizeof(seq) - i;
		bp_sha256_update(&ctx, seq + i, n);
		i += n;
	}
	bp_sha256_final_hex(&ctx, hex);
	CHECK_STR(hex, "f3a25aa93aa2fbba28d79260535bbd6a5eb0fc1c24a8b0f04e12b484c1dfe363");
}

static void test_time(void)
{
	double t = 0;
	char buf[64];
	long v = 0;

	CHECK(bp_parse_time("2023-09-14T10:11:12.123456Z", &t) == 0);
	CHECK_NEAR(t, 1694686272.123456, 1e-6);
	CHECK(bp_parse_time("2016-08-12 15:23:28 UTC", &t) == 0);
	CHECK_NEAR(t, 1471015408.0, 1e-9);
	CHECK(bp_parse_time("2024-02-29T23:59:59+02:00", &t) == 0);
	CHECK_NEAR(t, 1709243999.0, 1e-9);
	CHECK(bp_parse_time("1969-12-31T23:59:59Z", &t) == 0);
	CHECK_NEAR(t, -1.0, 1e-9);
	CHECK(bp_parse_time("2023-13-01T00:00:00Z", &t) == -1);
	CHECK(bp_parse_time("2023-09-14T10:11Z", &t) == -1);
	CHECK(bp_parse_time("2023-09-14T10:11:12Zjunk", &t) == -1);
	CHECK(bp_parse_time("", &t) == -1);
	CHECK_STR(bp_format_time(1694686272.1234, buf, sizeof(buf)), "2023-09-14T10:11:12.123Z");
	CHECK_STR(bp_format_time(1694686272.9996, buf, sizeof(buf)), "2023-09-14T10:11:13.000Z");
	CHECK(bp_parse_long("42", 0, 100, &v) == 0 && v == 42);
	CHECK(bp_parse_long("101", 0, 100, &v) == -1);
	CHECK(bp_parse_long("4x", 0, 100, &v) == -1);
	CHECK(bp_parse_long("", 0, 100, &v) == -1);
	CHECK(bp_parse_long("99999999999999999999999", 0, 100, &v) == -1);
}

static void test_errors(void)
{
	struct bp_error err;
	char buf[256];

	bp_error_init(&err);
	CHECK(!bp_error_isset(&err));
	CHECK(bp_error_set(&err, "a.log", 3, "first %d", 1) == -1);
	bp_error_set(&err, "b.log", 4, "second");
	CHECK_STR(bp_error_format(&err, buf, sizeof(buf)), "a.log:3: first 1");
	bp_error_init(&err);
	bp_error_set(&err, "a.log", 0, "no line");
	CHECK_STR(bp_error_format(&err, buf, sizeof(buf)), "a.log: no line");
}

/* bp_dynlib_load on libm, which every test binary has: the first soname
 * found wins, each slot gets the function, and a library or a function
 * that is not there names what to install or what is missing. */
static void test_dynlib(void)
{
	static double (*cosine)(double), (*square_root)(double);
	static const char *const sonames[] = { "libbuildprof-none.so.9", "libm.so.6", NULL };
	static const char *const none[] = { "libbuildprof-none.so.9", NULL };
	static const struct bp_dynsym math[] = {
		{ "cos", (void **)&cosine }, { "sqrt", (void **)&square_root }, { NULL, NULL }
	};
	static const struct bp_dynsym missing[] = {
		{ "cos", (void **)&cosine }, { "buildprof_no_such_function", (void **)&square_root },
		{ NULL, NULL }
	};
	struct bp_dynlib lib = { "libm", "libc6", sonames, math };
	struct bp_error err;
	char buf[1024];

	bp_error_init(&err);
	CHECK(bp_dynlib_load(&lib, "chart.png", &err) == 0);
	CHECK(!bp_error_isset(&err));
	CHECK(cosine && square_root);
	if (cosine && square_root) {
		CHECK_NEAR(cosine(0.0), 1.0, 1e-12);
		CHECK_NEAR(square_root(2.25), 1.5, 1e-12);
	}
	lib.sonames = none;
	CHECK(bp_dynlib_load(&lib, "chart.png", &err) == -1);
	bp_error_format(&err, buf, sizeof(buf));
	CHECK(!strncmp(buf, "chart.png: cannot load libm (install libc6): ", 45));
	CHECK(strstr(buf, "libbuildprof-none.so.9") != NULL); /* dlerror's reason */
	bp_error_init(&err);
	lib.sonames = sonames;
	lib.symbols = missing;
	CHECK(bp_dynlib_load(&lib, "chart.png", &err) == -1);
	CHECK_STR(bp_error_format(&err, buf, sizeof(buf)),
		  "chart.png: libm lacks buildprof_no_such_function: too old a libm");
}

/* heap_reserve_huge marks the room it makes for huge pages ("hg" in
 * smaps), when malloc is glibc's heap at all. */
static void test_heap_reserve_huge(void)
{
	char line[512], *p;
	unsigned long lo, hi, at;
	int in = 0, marked = 0;
	FILE *f;

	at = (unsigned long)heap_reserve_huge(6u << 20);
	p = malloc(4000);
	CHECK(p != NULL);
	memset(p, 1, 4000); /* what is left is usable */
	free(p);
	f = fopen("/proc/self/smaps", "r");
	while (at && f && fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%lx-%lx ", &lo, &hi) == 2)
			in = at >= lo && at < hi;
		else if (in && !strncmp(line, "VmFlags:", 8))
			marked = strstr(line, " hg") != NULL;
	}
	if (f)
		fclose(f);
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
	(void)marked; /* ASan's and TSan's allocators are not the heap: only usable */
#else
	CHECK(at != 0);
	CHECK(marked);
	CHECK(heap_reserve_huge(6u << 20) == NULL); /* once */
#endif
}

struct keyed {
	int key, order; /* order: where it was before the sort */
};

static int cmp_keyed(const void *a, const void *b)
{
	const struct keyed *x = a, *y = b;

	return (x->key > y->key) - (x->key < y->key);
}

/* bp_sort against a stable reference (ties broken by the original order)
 * on arrays in order, nearly in order, reversed and shuffled, with many
 * ties, on both sides of the size where it hands over to qsort */
static void test_sort(void)
{
	static const size_t sizes[] = { 0, 1, 2, 3, 7, 40, 63, 64, 65, 200 };
	struct keyed a[200], ref[200];
	unsigned seed = 12345;
	size_t si, i, shape, bad;

	for (si = 0; si < sizeof(sizes) / sizeof(*sizes); si++) {
		size_t n = sizes[si];
		for (shape = 0; shape < 4; shape++) {
			for (i = 0; i < n; i++) {
				seed = seed * 1103515245u + 12345u;
				switch (shape) {
				case 0: a[i].key = (int)i / 3; break;              /* in order, ties */
				case 1: a[i].key = (int)i + (int)(seed >> 16) % 4; break; /* nearly */
				case 2: a[i].key = (int)(n - i) / 2; break;         /* reversed */
				default: a[i].key = (int)(seed >> 16) % 8; break;   /* shuffled */
				}
				a[i].order = (int)i;
			}
			memcpy(ref, a, n * sizeof(*a));
			bp_sort(a, n, sizeof(*a), cmp_keyed);
			/* the reference: a plain insertion sort, stable by construction */
			for (i = 1; i < n; i++) {
				struct keyed t = ref[i];
				size_t j = i;
				while (j > 0 && ref[j - 1].key > t.key) {
					ref[j] = ref[j - 1];
					j--;
				}
				ref[j] = t;
			}
			for (bad = 0, i = 0; i < n; i++)
				bad += a[i].key != ref[i].key || a[i].order != ref[i].order;
			CHECK_INT(bad, 0);
		}
	}
}

void test_util(void)
{
	test_sort();
	test_strbuf();
	test_strpool();
	test_build_pack();
	test_hash_index();
	test_json_like_jansson();
	test_sha256();
	test_time();
	test_errors();
	test_dynlib();
	test_heap_reserve_huge();
}
