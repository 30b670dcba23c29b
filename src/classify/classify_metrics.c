/* classify_metrics.c - classification metrics (top-1, top-5, NLL, Brier, ECE), corrected and
 * broken counts against a baseline, and temperature scaling. */
#include <math.h>
#include <string.h>

#include "tta/classify.h"

#define P_FLOOR 1e-7
#define ECE_BINS 15

int tta_argmax(const float *p, int k) {
    int best = 0;
    for (int i = 1; i < k; i++)
        if (p[i] > p[best]) best = i;
    return best;
}

void tta_metrics_compute(const float *probs, const int *labels, int n, int k, tta_metrics *m) {
    memset(m, 0, sizeof *m);
    m->n = n;
    if (n <= 0) return;
    double bin_conf[ECE_BINS] = {0}, bin_acc[ECE_BINS] = {0};
    int bin_n[ECE_BINS] = {0};
    for (int i = 0; i < n; i++) {
        const float *p = probs + (size_t)i * k;
        int y = labels[i], top = tta_argmax(p, k);
        if (top == y) m->top1 += 1;
        int rank = 0; /* classes strictly more probable than the true one (lower index wins ties) */
        for (int c = 0; c < k; c++)
            if (p[c] > p[y] || (p[c] == p[y] && c < y)) rank++;
        if (rank < 5) m->top5 += 1;
        double py = p[y] > P_FLOOR ? p[y] : P_FLOOR;
        m->nll -= log(py);
        for (int c = 0; c < k; c++) {
            double d = p[c] - (c == y ? 1.0 : 0.0);
            m->brier += d * d;
        }
        double conf = p[top];
        int b = (int)(conf * ECE_BINS);
        if (b >= ECE_BINS) b = ECE_BINS - 1;
        if (b < 0) b = 0;
        bin_n[b]++;
        bin_conf[b] += conf;
        bin_acc[b] += top == y;
    }
    for (int b = 0; b < ECE_BINS; b++)
        if (bin_n[b]) m->ece += fabs(bin_acc[b] - bin_conf[b]) / n;
    m->top1 /= n;
    m->top5 /= n;
    m->nll /= n;
    m->brier /= n;
}

void tta_compare_predictions(const float *base, const float *probs, const int *labels, int n, int k, int *corrected,
                             int *broken) {
    *corrected = *broken = 0;
    for (int i = 0; i < n; i++) {
        int b = tta_argmax(base + (size_t)i * k, k) == labels[i];
        int p = tta_argmax(probs + (size_t)i * k, k) == labels[i];
        *corrected += !b && p;
        *broken += b && !p;
    }
}

void tta_apply_temperature(float *probs, int n, int k, double t) {
    for (int i = 0; i < n; i++) {
        float *p = probs + (size_t)i * k;
        double mx = -INFINITY, sum = 0;
        for (int c = 0; c < k; c++) {
            double l = log(p[c] > 1e-30 ? p[c] : 1e-30) / t;
            if (l > mx) mx = l;
        }
        for (int c = 0; c < k; c++) sum += exp(log(p[c] > 1e-30 ? p[c] : 1e-30) / t - mx);
        for (int c = 0; c < k; c++) p[c] = (float)(exp(log(p[c] > 1e-30 ? p[c] : 1e-30) / t - mx) / sum);
    }
}
