/* reliability.c - confidence bins and ECE for reliability diagrams (reliability.h). */
#include <math.h>
#include <string.h>

#include "report/reliability.h"
#include "tta/classify.h"

void tta_reliability_compute(const float *probs, const int *labels, int n, int k, int n_bins,
                             tta_reliability *out) {
    memset(out, 0, sizeof *out);
    if (n_bins < 1) n_bins = 1;
    if (n_bins > TTA_RELIABILITY_MAX_BINS) n_bins = TTA_RELIABILITY_MAX_BINS;
    out->n_bins = n_bins;
    out->n = n > 0 ? n : 0;
    for (int i = 0; i < n; i++) {
        const float *p = probs + (size_t)i * k;
        int top = tta_argmax(p, k), b = (int)(p[top] * n_bins);
        b = b < 0 ? 0 : b >= n_bins ? n_bins - 1 : b;
        out->count[b]++;
        out->confidence[b] += p[top];
        out->accuracy[b] += top == labels[i];
    }
    for (int b = 0; b < n_bins; b++) {
        if (!out->count[b]) continue;
        out->ece += fabs(out->accuracy[b] - out->confidence[b]) / n; /* as tta_metrics_compute sums it */
        out->confidence[b] /= out->count[b];
        out->accuracy[b] /= out->count[b];
    }
}
