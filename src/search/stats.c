/* stats.c - is a policy's gain over the identity real? Paired statistics on the test split:
 * the images a policy corrected and broke, a paired bootstrap interval of the accuracy
 * difference, and the exact McNemar test on the discordant pairs.
 *
 * Both tests look at the same images twice, which is what makes a gain of a few tenths of a
 * point detectable: an unpaired comparison of two accuracies would drown it in the variance of
 * the images. The bootstrap is seeded (splitmix64), so a report is the same run after run. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/error.h"
#include "core/stats_util.h"
#include "tta/classify.h"
#include "tta/search.h"

double tta_mcnemar_exact(int b, int c) {
    if (b < 0 || c < 0) return NAN;
    int n = b + c, x = b < c ? b : c;
    if (n == 0) return 1;
    /* log P(X = i) for X ~ Binomial(n, 1/2), summed for i <= x by log-sum-exp: the terms grow
     * with i up to x <= n/2, so the last one is the largest */
    double lgn = lgamma(n + 1.0), ln2 = n * log(2.0);
    double top = lgn - lgamma(x + 1.0) - lgamma(n - x + 1.0) - ln2, sum = 0;
    for (int i = 0; i <= x; i++) sum += exp(lgn - lgamma(i + 1.0) - lgamma(n - i + 1.0) - ln2 - top);
    double p = 2 * exp(top + log(sum));
    return p < 1 ? p : 1;
}


tta_status tta_bootstrap_diff_ci(const uint8_t *a_ok, const uint8_t *b_ok, int n, int n_boot, uint64_t seed,
                                 double level, double *lo, double *hi) {
    if (!a_ok || !b_ok || n <= 0 || n_boot < 2 || !(level > 0 && level < 1))
        return tta_errorf(TTA_ERR_INVALID_ARG, "bootstrap: %d pairs, %d resamples, level %g", n, n_boot, level);
    /* only discordant pairs move the difference: draw indices, count them */
    int8_t *d = tta_malloc((size_t)n);
    double *diffs = tta_malloc(sizeof(double) * (size_t)n_boot);
    if (!d || !diffs) {
        tta_free(d);
        tta_free(diffs);
        return tta_errorf(TTA_ERR_NOMEM, "bootstrap: out of memory for %d pairs", n);
    }
    for (int i = 0; i < n; i++) d[i] = (int8_t)((b_ok[i] != 0) - (a_ok[i] != 0));
    uint64_t s = seed;
    for (int r = 0; r < n_boot; r++) {
        long sum = 0;
        for (int i = 0; i < n; i++) {
            uint64_t j = tta_rand_below(&s, (uint64_t)n);
            sum += d[j];
        }
        diffs[r] = (double)sum / n;
    }
    qsort(diffs, (size_t)n_boot, sizeof(double), tta_cmp_double);
    *lo = tta_quantile(diffs, n_boot, (1 - level) / 2);
    *hi = tta_quantile(diffs, n_boot, 1 - (1 - level) / 2);
    tta_free(d);
    tta_free(diffs);
    return TTA_OK;
}

tta_status tta_paired_stats_compute(const float *base_probs, const float *probs, const int *labels, int n, int k,
                                    int n_boot, uint64_t seed, tta_paired_stats *out) {
    memset(out, 0, sizeof *out);
    if (!base_probs || !probs || !labels || n <= 0 || k <= 0)
        return tta_errorf(TTA_ERR_INVALID_ARG, "paired statistics: %d images, %d classes", n, k);
    uint8_t *a = tta_malloc((size_t)n * 2);
    if (!a) return tta_errorf(TTA_ERR_NOMEM, "paired statistics: out of memory");
    uint8_t *b = a + n;
    int ca = 0, cb = 0;
    for (int i = 0; i < n; i++) {
        a[i] = tta_argmax(base_probs + (size_t)i * k, k) == labels[i];
        b[i] = tta_argmax(probs + (size_t)i * k, k) == labels[i];
        ca += a[i];
        cb += b[i];
        out->corrected += !a[i] && b[i];
        out->broken += a[i] && !b[i];
    }
    out->n = n;
    out->base_accuracy = (double)ca / n;
    out->accuracy = (double)cb / n;
    out->gain = out->accuracy - out->base_accuracy;
    out->mcnemar_p = tta_mcnemar_exact(out->corrected, out->broken);
    tta_status st = tta_bootstrap_diff_ci(a, b, n, n_boot > 1 ? n_boot : 2000, seed, 0.95, &out->ci_lo, &out->ci_hi);
    tta_free(a);
    return st;
}

void tta_pareto_front(const double *cost, const double *accuracy, int n, int *on_front) {
    for (int i = 0; i < n; i++) {
        on_front[i] = 1;
        for (int j = 0; j < n && on_front[i]; j++) {
            if (j == i) continue;
            int no_worse = cost[j] <= cost[i] && accuracy[j] >= accuracy[i];
            int better = cost[j] < cost[i] || accuracy[j] > accuracy[i];
            if (no_worse && better) on_front[i] = 0;
        }
    }
}
