/* weights.c - one learned weight per view of a policy: the weighted mean of the views'
 * probabilities with the lowest NLL on validation data.
 *
 * Plain averaging turns some correct predictions wrong (about 1% of them on ImageNet, ICCV
 * 2021) when a weak view outvotes a strong one; a smaller weight for the weak view reduces
 * that. With mixture proportions pi (weights / their sum), the merged true-class probability
 * of image i is sum_v pi_v q_vi, and the NLL is convex in pi. The EM update for mixture
 * proportions, pi_v <- pi_v * mean_i(q_vi / sum_u pi_u q_ui), keeps pi on the simplex (so the
 * weights stay non-negative without any projection) and never raises the NLL. Only the
 * true-class probabilities take part, so an iteration costs n x views multiply-adds. */
#include <math.h>
#include <string.h>

#include "core/alloc.h"
#include "core/error.h"
#include "tta/search.h"

#define P_FLOOR 1e-7 /* as tta_metrics_compute */

static double nll_of(const double *q, const double *pi, int m, int n) {
    double f = 0;
    for (int i = 0; i < n; i++) {
        double mix = 0;
        for (int v = 0; v < m; v++) mix += pi[v] * q[(size_t)v * n + i];
        f -= log(mix > P_FLOOR ? mix : P_FLOOR);
    }
    return f / n;
}

tta_status tta_fit_view_weights(const tta_pred_table *t, const int *views, int m, int max_iter, double *weights,
                                double *nll_uniform, double *nll_fitted) {
    if (!t || !views || !weights || m <= 0 || t->n <= 0)
        return tta_errorf(TTA_ERR_INVALID_ARG, "fit weights: %d views, empty table", m);
    for (int v = 0; v < m; v++)
        if (views[v] < 0 || views[v] >= t->n_views)
            return tta_errorf(TTA_ERR_INVALID_ARG, "fit weights: view %d is not in the table of %d views", views[v],
                              t->n_views);
    int n = t->n, k = t->k;
    if (max_iter <= 0) max_iter = 1000;
    double *q = tta_malloc(sizeof(double) * ((size_t)m * n + 3 * (size_t)m));
    if (!q) return tta_errorf(TTA_ERR_NOMEM, "fit weights: out of memory for %d views x %d images", m, n);
    double *pi = q + (size_t)m * n, *r = pi + m, *prev = r + m;
    for (int v = 0; v < m; v++)
        for (int i = 0; i < n; i++)
            q[(size_t)v * n + i] = t->probs[((size_t)views[v] * n + i) * k + t->labels[i]];
    for (int v = 0; v < m; v++) pi[v] = 1.0 / m;
    double f0 = nll_of(q, pi, m, n), f = f0;
    for (int it = 0; it < max_iter && m > 1; it++) {
        memset(r, 0, sizeof(double) * (size_t)m);
        memcpy(prev, pi, sizeof(double) * (size_t)m);
        for (int i = 0; i < n; i++) {
            double mix = 0;
            for (int v = 0; v < m; v++) mix += pi[v] * q[(size_t)v * n + i];
            if (!(mix > 1e-300)) continue; /* no view gives the true class any probability */
            for (int v = 0; v < m; v++) r[v] += q[(size_t)v * n + i] / mix;
        }
        double sum = 0;
        for (int v = 0; v < m; v++) sum += pi[v] *= r[v] / n;
        if (!(sum > 0)) break;
        for (int v = 0; v < m; v++) pi[v] /= sum; /* rounding, and images skipped above */
        double nf = nll_of(q, pi, m, n);
        if (!(nf <= f)) { /* only the floor at 1e-7 can make a step worse: keep the one before */
            memcpy(pi, prev, sizeof(double) * (size_t)m);
            break;
        }
        double gain = f - nf;
        f = nf;
        if (gain < 1e-12) break;
    }
    for (int v = 0; v < m; v++) weights[v] = pi[v] * m;
    if (nll_uniform) *nll_uniform = f0;
    if (nll_fitted) *nll_fitted = f;
    tta_free(q);
    return TTA_OK;
}
