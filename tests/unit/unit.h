/*
 * unit.h - the tiny C test harness (after curl's unitcheck.h): CHECK prints
 * "file:line: 'expr' failed" and goes on; the run ends with "N passed, M failed".
 */
#ifndef BUILDPROF_UNIT_H
#define BUILDPROF_UNIT_H

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "buildprof/collector.h"
#include "buildprof/model.h"

extern int unit_passed, unit_failed;

#define CHECK(expr)                                                                  \
	do {                                                                         \
		if (expr) {                                                          \
			unit_passed++;                                               \
		} else {                                                             \
			unit_failed++;                                               \
			fprintf(stderr, "%s:%d: '%s' failed\n", __FILE__, __LINE__, #expr); \
		}                                                                    \
	} while (0)

#define CHECK_STR(a, b)                                                              \
	do {                                                                         \
		const char *ua_ = (a), *ub_ = (b);                                   \
		if ((!ua_ && !ub_) || (ua_ && ub_ && !strcmp(ua_, ub_))) {           \
			unit_passed++;                                               \
		} else {                                                             \
			unit_failed++;                                               \
			fprintf(stderr, "%s:%d: %s is \"%s\", expected \"%s\"\n", __FILE__, \
				__LINE__, #a, ua_ ? ua_ : "(null)", ub_ ? ub_ : "(null)");  \
		}                                                                    \
	} while (0)

#define CHECK_INT(a, b)                                                              \
	do {                                                                         \
		long long ua_ = (long long)(a), ub_ = (long long)(b);                \
		if (ua_ == ub_) {                                                    \
			unit_passed++;                                               \
		} else {                                                             \
			unit_failed++;                                               \
			fprintf(stderr, "%s:%d: %s is %lld, expected %lld\n", __FILE__,      \
				__LINE__, #a, ua_, ub_);                                     \
		}                                                                    \
	} while (0)

#define CHECK_NEAR(a, b, eps)                                                        \
	do {                                                                         \
		double ua_ = (a), ub_ = (b);                                         \
		if (fabs(ua_ - ub_) <= (eps)) {                                      \
			unit_passed++;                                               \
		} else {                                                             \
			unit_failed++;                                               \
			fprintf(stderr, "%s:%d: %s is %g, expected %g\n", __FILE__, __LINE__, \
				#a, ua_, ub_);                                               \
		}                                                                    \
	} while (0)

/* Builds parsed from an in-memory input; free with parsed_release. */
struct parsed {
	struct bp_build *builds;
	size_t n, alloc;
	struct bp_image *images;
	size_t nimages, alloc_images;
	int rc;              /* collector_parse_stream's return */
	struct bp_error err;
	struct collector_result res;
};
/* Parses len bytes of text (format NULL to detect) into out. */
void parse_text(const char *text, size_t len, const char *format, struct parsed *out);
void parsed_release(struct parsed *p);
/* The step of b whose text starts with prefix, or NULL. */
const struct bp_step *find_step(const struct bp_build *b, const char *prefix);

/* The test groups, one per file. */
void test_util(void);
void test_png(void);
void test_ahead(void);
void test_handoff(void);
void test_linereader(void);
void test_buildkit(void);
void test_legacy(void);
void test_buildah_kaniko(void);
void test_store(void);
void test_analyzer(void);
void test_statistics(void);
void test_series_sorted(void);
void test_redact(void);
void test_http(void);
void test_jsonkeep(void);

#endif
