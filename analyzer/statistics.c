/*
 * statistics.c - the numbers behind "did that change really make it
 * faster": medians, order-statistic confidence intervals and the
 * Mann-Whitney U test, as benchstat uses them, so a speedup is reported only
 * when the data can carry it. Verified against SciPy (tests/unit).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "buildprof/analyzer.h"

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double *sorted_copy(const double *v, size_t n)
{
	double *s = xcalloc(n ? n : 1, sizeof(*s));

	if (n) /* v may be NULL then */
		memcpy(s, v, n * sizeof(*s));
	analyzer_sort(s, n);
	return s;
}

void analyzer_sort(double *v, size_t n)
{
	if (n > 1)
		qsort(v, n, sizeof(*v), cmp_double);
}

double analyzer_quantile_sorted(const double *s, size_t n, double p)
{
	double pos;
	size_t i;

	if (!n)
		return NAN;
	pos = p * (double)(n - 1);
	i = (size_t)floor(pos);
	return i + 1 < n ? s[i] + (pos - (double)i) * (s[i + 1] - s[i]) : s[i];
}

double analyzer_quantile(const double *v, size_t n, double p)
{
	double *s, r;

	if (n <= 1) /* most steps of a long history: no copy to sort */
		return n ? v[0] : NAN;
	s = sorted_copy(v, n);
	r = analyzer_quantile_sorted(s, n, p);
	free(s);
	return r;
}

double analyzer_median(const double *v, size_t n)
{
	return analyzer_quantile(v, n, 0.5);
}

static double log_factorial(size_t n)
{
	int sign; /* lgamma_r, for lgamma sets the global signgam: a race
		   * once compare made its rows on two threads (TSan) */

	return lgamma_r((double)n + 1, &sign);
}

/* P(X = i) for X ~ Binomial(n, 1/2), through logarithms: 2^-n itself is
 * below the smallest double past n = 1074, which made every interval over
 * more samples collapse to the two middle ones. */
static double binom_pmf_half(size_t n, size_t i)
{
	return exp(log_factorial(n) - log_factorial(i) - log_factorial(n - i) - (double)n * M_LN2);
}

int analyzer_median_ci_sorted(const double *s, size_t n, double *lo, double *hi)
{
	size_t k, best = 0;
	double below = 0; /* P(X <= k-1) */

	/* [x(k), x(n-k+1)] misses the median with probability 2 P(X <= k-1): the
	 * widest k that keeps it at 5% or under, one pass up the CDF (it rises,
	 * so the first k past 5% ends it) */
	for (k = 1; k <= n / 2; k++) {
		below += binom_pmf_half(n, k - 1);
		if (2 * below > 0.05)
			break;
		best = k;
	}
	if (!best)
		return -1;
	*lo = s[best - 1];
	*hi = s[n - best];
	return 0;
}

int analyzer_median_ci(const double *v, size_t n, double *lo, double *hi)
{
	double *s;
	int r;

	if (n < 6) /* no finite interval: nothing to sort */
		return -1;
	s = sorted_copy(v, n);
	r = analyzer_median_ci_sorted(s, n, lo, hi);
	free(s);
	return r;
}

/* The exact null distribution of U for sizes m, n without ties: counts of
 * arrangements with each U, by the usual recurrence c(m,n,u) =
 * c(m-1,n,u-n) + c(m,n-1,u). Returns P(U <= u). */
static double exact_cdf(size_t m, size_t n, size_t u)
{
	size_t max = m * n, i, j, k;
	double *prev, *cur, total = 0, below = 0;
	double **tab;

	/* tab[j] = distribution for (i, j) sizes, rebuilt row by row over i */
	tab = xcalloc(n + 1, sizeof(*tab));
	for (j = 0; j <= n; j++) {
		tab[j] = xcalloc(max + 1, sizeof(double));
		tab[j][0] = 1; /* i = 0: only U = 0 */
	}
	for (i = 1; i <= m; i++) {
		prev = xcalloc(max + 1, sizeof(double)); /* (i, j-1) of this row */
		prev[0] = 1;                             /* (i, 0): only U = 0 */
		for (j = 1; j <= n; j++) {
			cur = xcalloc(max + 1, sizeof(double));
			for (k = 0; k <= i * j; k++)
				cur[k] = (k >= j ? tab[j][k - j] : 0) + prev[k];
			free(tab[j - 1]);
			tab[j - 1] = prev;
			prev = cur;
		}
		free(tab[n]);
		tab[n] = prev;
	}
	for (k = 0; k <= max; k++) {
		total += tab[n][k];
		if (k <= u)
			below += tab[n][k];
	}
	for (j = 0; j <= n; j++)
		free(tab[j]);
	free(tab);
	return below / total;
}

/* Two samples in order are ranked together by merging them: each run of
 * equal values, from either side, shares its midrank. */
double analyzer_mann_whitney_sorted(const double *a, size_t na, const double *b, size_t nb)
{
	size_t n = na + nb, i = 0, j = 0;
	double r1 = 0, u1, u2, u, tie = 0, p;
	int ties = 0;

	if (na < 4 || nb < 4)
		return NAN;
	while (i < na || j < nb) {
		double v = j == nb || (i < na && a[i] < b[j]) ? a[i] : b[j];
		size_t before = i + j, ta = 0, t;
		while (i < na && a[i] == v)
			i++, ta++;
		while (j < nb && b[j] == v)
			j++;
		t = i + j - before;
		r1 += (double)ta * ((double)before + 1 + (double)(i + j)) / 2;
		if (t > 1) {
			ties = 1;
			tie += (double)t * (double)t * (double)t - (double)t;
		}
	}
	u1 = r1 - (double)na * ((double)na + 1) / 2;
	u2 = (double)na * (double)nb - u1;
	u = u1 > u2 ? u1 : u2;
	if (!ties && (na <= 8 || nb <= 8)) {
		/* two-sided: 2 P(U >= u) = 2 (1 - P(U <= u - 1)) */
		p = 2 * (1 - exact_cdf(na, nb, (size_t)u - 1));
	} else {
		double mu = (double)na * (double)nb / 2;
		double sigma = sqrt((double)na * (double)nb / 12 *
				    (((double)n + 1) - tie / ((double)n * ((double)n - 1))));
		double z = sigma > 0 ? (u - mu - 0.5) / sigma : 0;
		p = erfc(z / sqrt(2));
	}
	return p > 1 ? 1 : p;
}

double analyzer_mann_whitney(const double *a, size_t na, const double *b, size_t nb)
{
	double *sa, *sb, p;

	if (na < 4 || nb < 4)
		return NAN;
	sa = sorted_copy(a, na);
	sb = sorted_copy(b, nb);
	p = analyzer_mann_whitney_sorted(sa, na, sb, nb);
	free(sa);
	free(sb);
	return p;
}
