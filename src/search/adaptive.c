/* adaptive.c - adaptive TTA: the identity view runs on every image, the policy's other views
 * only on the images the identity is unsure about (top probability below a threshold). Most
 * images are easy, so a large share of the full policy's gain comes at a fraction of its cost.
 *
 * The threshold is chosen on validation data for a target mean cost (e.g. 1.5 passes per
 * image) and then applied unchanged to test data, where the cost may come out slightly
 * different: that is the honest figure. */
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "tta/search.h"
#include "tta/tensor.h"

static int cmp_float(const void *a, const void *b) {
    float x = *(const float *)a, y = *(const float *)b;
    return x < y ? -1 : x > y;
}

double tta_adaptive_threshold(const float *confidence, int n, int n_views, double target_cost) {
    if (n <= 0 || n_views <= 1 || target_cost <= 1) return 0; /* nobody gets extra views */
    double share = (target_cost - 1) / (n_views - 1);
    if (share >= 1) return 2; /* above any probability: everybody does */
    int e = (int)(share * n); /* images that may get extra views */
    float *s = tta_malloc(sizeof(float) * (size_t)n);
    if (!s) return 0;
    memcpy(s, confidence, sizeof(float) * (size_t)n);
    qsort(s, (size_t)n, sizeof(float), cmp_float);
    /* images with confidence < threshold get extra views: at most e of them, ties left out */
    double t;
    if (e <= 0) t = s[0];
    else if (s[e - 1] < s[e]) t = ((double)s[e - 1] + s[e]) / 2;
    else t = s[e];
    tta_free(s);
    return t;
}

void tta_adaptive_eval(const float *confidence, const uint8_t *base_ok, const uint8_t *full_ok, int n,
                       int n_views, double threshold, tta_adaptive_point *out) {
    memset(out, 0, sizeof *out);
    out->threshold = threshold;
    if (n <= 0) return;
    int extra = 0, correct = 0;
    for (int i = 0; i < n; i++) {
        int e = confidence[i] < threshold;
        extra += e;
        correct += e ? full_ok[i] != 0 : base_ok[i] != 0;
    }
    out->extra_share = (double)extra / n;
    out->mean_cost = 1 + (n_views - 1) * out->extra_share;
    out->accuracy = (double)correct / n;
}
