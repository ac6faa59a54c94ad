/*
 * test_statistics.c - the statistics against reference values computed
 * independently with SciPy 1.10.1 (Debian 12's python3-scipy):
 *   scipy.stats.mannwhitneyu(a, b, alternative='two-sided', method=M,
 *                            use_continuity=True).pvalue
 *   order statistics for the median CI: the largest k with
 *   2 * scipy.stats.binom.cdf(k - 1, n, 0.5) <= 0.05, interval [x(k), x(n-k+1)].
 */
#include <string.h>

#include "buildprof/analyzer.h"
#include "unit.h"

struct mw_case {
	double a[12], b[12];
	size_t na, nb;
	double p; /* SciPy's */
};

static const struct mw_case mw[] = {
	/* exact, no ties */
	{ { 1.1, 2.2, 3.3, 4.4 }, { 5.5, 6.6, 7.7, 8.8 }, 4, 4, 0.02857142857142857 },
	{ { 12.1, 11.8, 12.5, 12.0, 11.9, 12.2 }, { 6.1, 6.3, 5.9, 6.0, 6.4, 6.2 }, 6, 6, 0.0021645021645021645 },
	{ { 3, 4, 5, 6, 7 }, { 4.5, 5.5, 6.5, 7.5, 8.5 }, 5, 5, 0.2222222222222222 },
	{ { 5, 6, 7, 8 }, { 1, 2, 3, 4, 9, 10, 11 }, 4, 7, 0.7878787878787878 },
	/* asymptotic: ties */
	{ { 1, 2, 2, 3, 3, 3, 4, 5 }, { 2, 3, 4, 4, 5, 5, 6, 7 }, 8, 8, 0.05464095473294313 },
	/* runs of ties across both sides, some only on one */
	{ { 3, 1, 2, 2, 5, 3, 3, 0, 4, 4, 1, 2 }, { 2, 2, 6, 3, 5, 5, 4, 2, 7, 3 }, 12, 10, 0.09313854638198547 },
	{ { 10.2, 9.8, 10.5, 10.1, 9.9, 10.3, 10.0, 10.4, 9.7, 10.6 },
	  { 10.1, 10.3, 9.9, 10.2, 10.0, 10.4, 9.8, 10.5, 10.6, 9.6 }, 10, 10, 1.0 },
	/* asymptotic: both sides larger than 8 */
	{ { 1, 2, 3, 4, 5, 6, 7, 8, 9 }, { 2.5, 4.5, 6.5, 8.5, 10.5, 12.5, 14.5, 16.5, 18.5 }, 9, 9,
	  0.034069195144143936 },
};

void test_statistics(void)
{
	/* k from the exact binomial (Python's math.comb); past n = 1074, 2^-n is
	 * below the smallest double, which the interval must survive */
	static const struct { size_t n, k; } ci[] = { { 6, 1 }, { 7, 1 }, { 8, 1 }, { 9, 2 }, { 10, 2 },
						       { 12, 3 }, { 20, 6 }, { 30, 10 }, { 1100, 518 },
						       { 2000, 956 } };
	static double v[2000];
	double lo = 0, hi = 0, a[3] = { 1, 2, 3 }, b[5] = { 4, 5, 6, 7, 8 };
	size_t i, j;

	for (i = 0; i < BP_ARRAY_SIZE(mw); i++)
		CHECK_NEAR(analyzer_mann_whitney(mw[i].a, mw[i].na, mw[i].b, mw[i].nb), mw[i].p, 1e-12);
	/* symmetric in its arguments */
	CHECK_NEAR(analyzer_mann_whitney(mw[1].b, 6, mw[1].a, 6), mw[1].p, 1e-12);
	/* fewer than 4 on a side: no test */
	CHECK(isnan(analyzer_mann_whitney(a, 3, b, 5)));
	/* sorted first, the samples are ranked by merging them: the same p */
	for (i = 0; i < BP_ARRAY_SIZE(mw); i++) {
		double sa[12], sb[12];
		memcpy(sa, mw[i].a, sizeof(sa));
		memcpy(sb, mw[i].b, sizeof(sb));
		analyzer_sort(sa, mw[i].na);
		analyzer_sort(sb, mw[i].nb);
		for (j = 1; j < mw[i].na; j++)
			CHECK(sa[j - 1] <= sa[j]);
		CHECK_NEAR(analyzer_mann_whitney_sorted(sa, mw[i].na, sb, mw[i].nb), mw[i].p, 1e-12);
		CHECK_NEAR(analyzer_mann_whitney_sorted(sb, mw[i].nb, sa, mw[i].na), mw[i].p, 1e-12);
		CHECK_NEAR(analyzer_quantile_sorted(sa, mw[i].na, 0.95), analyzer_quantile(mw[i].a, mw[i].na, 0.95),
			   0);
	}

	/* medians and quantiles */
	CHECK_NEAR(analyzer_median(mw[1].a, 6), 12.05, 1e-12);
	CHECK_NEAR(analyzer_median(b, 5), 6, 1e-12);
	CHECK(isnan(analyzer_median(b, 0)));
	/* one sample is every quantile of itself */
	CHECK(analyzer_median(b + 2, 1) == b[2] && analyzer_quantile(b + 2, 1, 0.95) == b[2]);
	CHECK_NEAR(analyzer_quantile(b, 5, 0.95), 7.8, 1e-12);

	/* the median's interval: n..1 (unsorted) makes x(k) = k */
	for (i = 0; i < BP_ARRAY_SIZE(ci); i++) {
		size_t n = ci[i].n;
		for (j = 0; j < n; j++)
			v[j] = (double)(n - j);
		CHECK(analyzer_median_ci(v, n, &lo, &hi) == 0);
		CHECK_NEAR(lo, (double)ci[i].k, 0);
		CHECK_NEAR(hi, (double)(n - ci[i].k + 1), 0);
	}
	CHECK(analyzer_median_ci(b, 5, &lo, &hi) == -1); /* n = 5: no finite 95% interval */
	CHECK(analyzer_median_ci_sorted(b, 5, &lo, &hi) == -1);
	for (j = 0; j < 20; j++)
		v[j] = (double)(j + 1);
	CHECK(analyzer_median_ci_sorted(v, 20, &lo, &hi) == 0 && lo == 6 && hi == 15);
}

/* A series sorted once reads its quantiles off; one added after that is
 * still counted (from a sorted copy), and sorting again takes it in. */
void test_series_sorted(void)
{
	static const double runs[] = { 9, 2, 7, 4, 4, 1 };
	struct analyzer_history h;
	const struct analyzer_step_series *s;
	size_t i;

	analyzer_history_init(&h);
	for (i = 0; i < BP_ARRAY_SIZE(runs); i++)
		analyzer_history_add(&h, "build", "RUN make", runs[i]);
	analyzer_history_add(&h, NULL, "RUN once", 3);
	s = analyzer_history_find(&h, "build", "RUN make");
	CHECK(s && s->sorted_n == 0);
	CHECK_NEAR(analyzer_series_quantile(s, 0.5), 4, 0);
	analyzer_history_sort(&h);
	CHECK(s->sorted_n == 6 && s->v[0] == 1 && s->v[5] == 9);
	CHECK_NEAR(analyzer_series_quantile(s, 0.5), 4, 0);
	CHECK_NEAR(analyzer_series_quantile(s, 0.95), 8.5, 1e-12);
	analyzer_history_add(&h, "build", "RUN make", 100);
	analyzer_history_add(&h, "build", "RUN make", 100);
	CHECK(s->sorted_n == 6 && s->n == 8);
	CHECK_NEAR(analyzer_series_quantile(s, 0.5), 5.5, 0); /* 1 2 4 4 7 9 100 100 */
	analyzer_history_sort(&h);
	CHECK(s->sorted_n == 8 && s->v[7] == 100);
	CHECK_NEAR(analyzer_series_quantile(s, 0.5), 5.5, 0);
	CHECK_NEAR(analyzer_series_quantile(analyzer_history_find(&h, NULL, "RUN once"), 0.5), 3, 0);
	analyzer_history_release(&h);
}
