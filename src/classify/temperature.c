/* temperature.c - temperature scaling: the T > 0 minimising the NLL of softmax(log p / T) on
 * labelled probabilities. Newton's method on beta = 1/T (the NLL is convex in beta) converges in
 * a few passes; a golden-section search over log T needs sixty but no buffer, and is the
 * fallback without memory and the independent check in the tests. T is kept in [1/20, 20]. */
#include <float.h>
#include <math.h>

#include "classify/temperature.h"
#include "core/alloc.h"
#include "tta/tensor.h"

#define LOG_FLOOR 1e-30 /* probabilities are floored before their log, as everywhere */
#define BETA_MIN (1.0 / 20)
#define BETA_MAX 20.0

/* The mean NLL of softmax(beta * log p) straight from the probabilities, without a buffer of
 * logs (beta = 1 / T). */
static double nll_at(const float *probs, const int *labels, int n, int k, double beta) {
    double f = 0;
    for (int i = 0; i < n; i++) {
        const float *p = probs + (size_t)i * k;
        double mx = -DBL_MAX, s = 0;
        for (int c = 0; c < k; c++) {
            double z = beta * log(p[c] > LOG_FLOOR ? p[c] : LOG_FLOOR);
            if (z > mx) mx = z;
        }
        for (int c = 0; c < k; c++) s += exp(beta * log(p[c] > LOG_FLOOR ? p[c] : LOG_FLOOR) - mx);
        f += mx + log(s) - beta * log(p[labels[i]] > LOG_FLOOR ? p[labels[i]] : LOG_FLOOR);
    }
    return n ? f / n : 0;
}

double tta_fit_temperature_golden(const float *probs, const int *labels, int n, int k) {
    double lo = log(1.0 / 20), hi = log(20.0);
    const double g = (sqrt(5.0) - 1) / 2;
    double a = hi - g * (hi - lo), b = lo + g * (hi - lo);
    double fa = nll_at(probs, labels, n, k, exp(-a)), fb = nll_at(probs, labels, n, k, exp(-b));
    for (int it = 0; it < 60; it++) {
        if (fa < fb) {
            hi = b;
            b = a;
            fb = fa;
            a = hi - g * (hi - lo);
            fa = nll_at(probs, labels, n, k, exp(-a));
        } else {
            lo = a;
            a = b;
            fa = fb;
            b = lo + g * (hi - lo);
            fb = nll_at(probs, labels, n, k, exp(-b));
        }
    }
    return exp((lo + hi) / 2);
}

/* The log-probabilities of a table of probabilities, prepared once per fit: d (n x k) is each
 * log minus the image's largest (the softmax's shift for any beta > 0, so that the
 * exponentials never overflow), dy the true class's. Double precision throughout: near the
 * optimum f changes by less than single-precision exponentials would blur it. */
typedef struct logs {
    int n, k;
    double *d, *dy;
} logs;

/* f(beta) = mean NLL of softmax(beta * l), with its first and second derivatives (f is convex
 * in beta: f'' is the mean variance of l under the softmax). */
static double nll_beta(const logs *L, double beta, double *g, double *h) {
    double f = 0, gs = 0, hs = 0;
    for (int i = 0; i < L->n; i++) {
        const double *di = L->d + (size_t)i * L->k;
        double s = 0, e1 = 0, e2 = 0;
        for (int c = 0; c < L->k; c++) {
            double w = exp(beta * di[c]);
            s += w;
            e1 += w * di[c];
            e2 += w * di[c] * di[c];
        }
        e1 /= s;
        e2 /= s;
        f += log(s) - beta * L->dy[i];
        gs += e1 - L->dy[i];
        hs += e2 - e1 * e1;
    }
    if (g) *g = gs / L->n;
    if (h) *h = hs / L->n;
    return f / L->n;
}


double tta_fit_temperature_from(const float *probs, const int *labels, int n, int k, double t0, double *nll) {
    if (n <= 0 || k <= 0) {
        if (nll) *nll = 0;
        return 1;
    }
    logs L = {n, k, tta_malloc(sizeof(double) * (size_t)n * (k + 1)), NULL};
    if (!L.d) { /* no memory for the logs: the slower fit that needs none */
        double t = tta_fit_temperature_golden(probs, labels, n, k);
        if (nll) *nll = nll_at(probs, labels, n, k, 1 / t);
        return t;
    }
    L.dy = L.d + (size_t)n * k;
    for (int i = 0; i < n; i++) {
        double *di = L.d + (size_t)i * k, mx = -DBL_MAX;
        for (int c = 0; c < k; c++) {
            float p = probs[(size_t)i * k + c];
            di[c] = log(p > LOG_FLOOR ? p : LOG_FLOOR);
            mx = di[c] > mx ? di[c] : mx;
        }
        for (int c = 0; c < k; c++) di[c] -= mx;
        L.dy[i] = di[labels[i]];
    }
    double beta = t0 > 0 ? 1 / t0 : 1;
    if (beta < BETA_MIN) beta = BETA_MIN;
    if (beta > BETA_MAX) beta = BETA_MAX;
    double g, h, f = nll_beta(&L, beta, &g, &h);
    /* Newton steps, halved while one overshoots; a step below 1e-7 beta ends the search */
    for (int it = 0; it < 50; it++) {
        double step = h > 1e-12 ? -g / h : -g;
        double nb = beta + step;
        if (nb < BETA_MIN) nb = BETA_MIN;
        if (nb > BETA_MAX) nb = BETA_MAX;
        if (fabs(nb - beta) < 1e-7 * beta) break;
        double ng, nh, nf = nll_beta(&L, nb, &ng, &nh);
        for (int back = 0; back < 30 && nf > f; back++) {
            nb = beta + (nb - beta) / 2;
            nf = nll_beta(&L, nb, &ng, &nh);
        }
        if (nf > f) break;
        beta = nb, f = nf, g = ng, h = nh;
    }
    tta_free(L.d);
    if (nll) *nll = f;
    return 1 / beta;
}

double tta_fit_temperature(const float *probs, const int *labels, int n, int k, double *nll) {
    return tta_fit_temperature_from(probs, labels, n, k, 1, nll);
}
