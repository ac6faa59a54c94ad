/*
 * test_statistics.c - the statistics against reference values computed
 * independently with SciPy 1.10.1 (Debian 12's python3-scipy):
 *   scipy.stats.mannwhitneyu(a, b, alternative='two-sided', method=M,
 *                            use_continuity=True).pvalue
 *   order statistics for the median CI: the largest k with
 *   2 * scipy.stats.binom.cdf(k - 1, n, 0.5) <= 0.05, interval [x(k), x(n-k+1)].
 */
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
}
