/*
 * sha256.c - SHA-256 (FIPS 180-4), streamed, so an ingest can fingerprint its
 * input as it reads it and recognise bytes it has stored before. Written here
 * rather than linking OpenSSL for one function.
 */
#include <string.h>

#include "buildprof/util.h"

static const uint32_t K[64] = {
	0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
	0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
	0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
	0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
	0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
	0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
	0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
	0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
};

#define ROR(x, n) (((x) >> (n)) | ((x) << (32 - (n))))

static void compress(struct bp_sha256 *ctx, const unsigned char *p)
{
	uint32_t w[64], a, b, c, d, e, f, g, h;
	int i;

	for (i = 0; i < 16; i++)
		w[i] = (uint32_t)p[4 * i] << 24 | (uint32_t)p[4 * i + 1] << 16 |
		       (uint32_t)p[4 * i + 2] << 8 | (uint32_t)p[4 * i + 3];
	for (i = 16; i < 64; i++) {
		uint32_t s0 = ROR(w[i - 15], 7) ^ ROR(w[i - 15], 18) ^ (w[i - 15] >> 3);
		uint32_t s1 = ROR(w[i - 2], 17) ^ ROR(w[i - 2], 19) ^ (w[i - 2] >> 10);
		w[i] = w[i - 16] + s0 + w[i - 7] + s1;
	}
	a = ctx->state[0]; b = ctx->state[1]; c = ctx->state[2]; d = ctx->state[3];
	e = ctx->state[4]; f = ctx->state[5]; g = ctx->state[6]; h = ctx->state[7];
	for (i = 0; i < 64; i++) {
		uint32_t t1 = h + (ROR(e, 6) ^ ROR(e, 11) ^ ROR(e, 25)) + ((e & f) ^ (~e & g)) + K[i] + w[i];
		uint32_t t2 = (ROR(a, 2) ^ ROR(a, 13) ^ ROR(a, 22)) + ((a & b) ^ (a & c) ^ (b & c));
		h = g; g = f; f = e; e = d + t1;
		d = c; c = b; b = a; a = t1 + t2;
	}
	ctx->state[0] += a; ctx->state[1] += b; ctx->state[2] += c; ctx->state[3] += d;
	ctx->state[4] += e; ctx->state[5] += f; ctx->state[6] += g; ctx->state[7] += h;
}

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <cpuid.h>
#include <immintrin.h>

/* The same rounds with the SHA extensions (Intel since Goldmont and Ice
 * Lake, AMD since Zen): five times the portable code's speed, which made
 * fingerprinting the input a twelfth of an ingest. Four rounds per step;
 * the state is kept as ABEF and CDGH, the order the instructions want. */
__attribute__((target("sha,sse4.1"))) static void compress_blocks_hw(uint32_t state[8],
								       const unsigned char *p,
								       size_t blocks)
{
	const __m128i bswap = _mm_set_epi64x(0x0c0d0e0f08090a0bULL, 0x0405060700010203ULL);
	__m128i abef, cdgh, tmp, msg, w[4];
	int i;

	tmp = _mm_shuffle_epi32(_mm_loadu_si128((const __m128i *)&state[0]), 0xb1); /* CDAB */
	cdgh = _mm_shuffle_epi32(_mm_loadu_si128((const __m128i *)&state[4]), 0x1b); /* EFGH */
	abef = _mm_alignr_epi8(tmp, cdgh, 8);
	cdgh = _mm_blend_epi16(cdgh, tmp, 0xf0);
	for (; blocks; blocks--, p += 64) {
		__m128i abef0 = abef, cdgh0 = cdgh;
		for (i = 0; i < 16; i++) {
			if (i < 4) {
				w[i] = _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)(p + 16 * i)), bswap);
			} else { /* W[t-16] + s0(W[t-15]) + W[t-7] + s1(W[t-2]), four at a time */
				tmp = _mm_sha256msg1_epu32(w[i & 3], w[(i + 1) & 3]);
				tmp = _mm_add_epi32(tmp, _mm_alignr_epi8(w[(i + 3) & 3], w[(i + 2) & 3], 4));
				w[i & 3] = _mm_sha256msg2_epu32(tmp, w[(i + 3) & 3]);
			}
			msg = _mm_add_epi32(w[i & 3], _mm_loadu_si128((const __m128i *)&K[4 * i]));
			cdgh = _mm_sha256rnds2_epu32(cdgh, abef, msg);
			abef = _mm_sha256rnds2_epu32(abef, cdgh, _mm_shuffle_epi32(msg, 0x0e));
		}
		abef = _mm_add_epi32(abef, abef0);
		cdgh = _mm_add_epi32(cdgh, cdgh0);
	}
	tmp = _mm_shuffle_epi32(abef, 0x1b);  /* FEBA */
	cdgh = _mm_shuffle_epi32(cdgh, 0xb1); /* DCHG */
	_mm_storeu_si128((__m128i *)&state[0], _mm_blend_epi16(tmp, cdgh, 0xf0)); /* DCBA */
	_mm_storeu_si128((__m128i *)&state[4], _mm_alignr_epi8(cdgh, tmp, 8));    /* HGFE */
}

static int cpu_has_sha(void)
{
	unsigned int a, b, c, d;

	if (!__get_cpuid(1, &a, &b, &c, &d) || !(c & bit_SSSE3) || !(c & bit_SSE4_1))
		return 0;
	return __get_cpuid_count(7, 0, &a, &b, &c, &d) && (b & bit_SHA);
}
#else
static void compress_blocks_hw(uint32_t state[8], const unsigned char *p, size_t blocks)
{
	(void)state, (void)p, (void)blocks;
	BUG("no SHA instructions here");
}

static int cpu_has_sha(void)
{
	return 0;
}
#endif

/* -1: not asked yet. Atomic: ingest hashes on its parsing thread while
 * the storing thread may hash too; every thread finds the same answer. */
static _Atomic int use_hw = -1;

int bp_sha256_hardware(int on)
{
	use_hw = on && cpu_has_sha();
	return use_hw;
}

static void compress_blocks(struct bp_sha256 *ctx, const unsigned char *p, size_t blocks)
{
	int hw = use_hw;

	if (hw < 0)
		use_hw = hw = cpu_has_sha();
	if (hw) {
		compress_blocks_hw(ctx->state, p, blocks);
		return;
	}
	for (; blocks; blocks--, p += 64)
		compress(ctx, p);
}

void bp_sha256_init(struct bp_sha256 *ctx)
{
	static const uint32_t iv[8] = { 0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
					0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19 };
	memcpy(ctx->state, iv, sizeof(iv));
	ctx->bytes = 0;
	ctx->used = 0;
}

void bp_sha256_update(struct bp_sha256 *ctx, const void *data, size_t len)
{
	const unsigned char *p = data;

	ctx->bytes += len;
	if (ctx->used) {
		size_t take = 64 - ctx->used < len ? 64 - ctx->used : len;
		memcpy(ctx->block + ctx->used, p, take);
		ctx->used += take;
		p += take;
		len -= take;
		if (ctx->used < 64)
			return;
		compress_blocks(ctx, ctx->block, 1);
		ctx->used = 0;
	}
	compress_blocks(ctx, p, len / 64);
	p += len / 64 * 64;
	len %= 64;
	memcpy(ctx->block, p, len);
	ctx->used = len;
}

void bp_sha256_final_hex(struct bp_sha256 *ctx, char hex[65])
{
	uint64_t bits = ctx->bytes * 8;
	unsigned char pad[72] = { 0x80 };
	size_t padlen = (ctx->used < 56) ? 56 - ctx->used : 120 - ctx->used;
	int i;

	for (i = 0; i < 8; i++)
		pad[padlen + i] = (unsigned char)(bits >> (56 - 8 * i));
	bp_sha256_update(ctx, pad, padlen + 8);
	/* by hand: eight snprintf calls cost more than hashing a small log */
	for (i = 0; i < 64; i++)
		hex[i] = "0123456789abcdef"[(ctx->state[i / 8] >> (28 - 4 * (i % 8))) & 0xf];
	hex[64] = '\0';
}
