/* classify_eval.c - evaluation helpers over tables of per-view probabilities: merging any
 * subset of views (so several policies are scored from one pass over the data, each distinct
 * view run once), and seeded random views for the random-augmentation baselines. */
#include <math.h>
#include <string.h>

#include "core/error.h"
#include "tta/classify.h"

tta_status tta_merge_table(const float *table, int n, int n_views, int k, const int *views, int n_sel,
                           tta_merge merge, const double *weights, float *out) {
    if (n_sel <= 0) return tta_errorf(TTA_ERR_INVALID_ARG, "merge: no views selected");
    for (int j = 0; j < n_sel; j++)
        if (views[j] < 0 || views[j] >= n_views)
            return tta_errorf(TTA_ERR_INVALID_ARG, "merge: view %d is not in the table of %d views", views[j], n_views);
    tta_merger m;
    TTA_TRY(tta_merger_init(&m, merge, k));
    tta_status st = TTA_OK;
    for (int i = 0; i < n && !st; i++) {
        tta_merger_reset(&m);
        for (int j = 0; j < n_sel; j++)
            tta_merger_add(&m, table + ((size_t)i * n_views + views[j]) * k, weights ? weights[j] : 1.0);
        st = tta_merger_result(&m, out + (size_t)i * k);
    }
    tta_merger_destroy(&m);
    return st;
}

static uint64_t splitmix64(uint64_t *s) {
    uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static double uniform01(uint64_t *s) { return (double)(splitmix64(s) >> 11) * (1.0 / 9007199254740992.0); }

void tta_random_view(uint64_t *state, int max_shift, double max_deg, tta_view *out) {
    memset(out, 0, sizeof *out);
    if (uniform01(state) < 0.5) out->t[out->n++].op = TTA_OP_HFLIP;
    int span = 2 * max_shift + 1;
    int dx = (int)(splitmix64(state) % (uint64_t)span) - max_shift;
    int dy = (int)(splitmix64(state) % (uint64_t)span) - max_shift;
    if (dx || dy) {
        tta_transform *t = &out->t[out->n++];
        t->op = TTA_OP_SHIFT;
        t->p[0] = dx;
        t->p[1] = dy;
        t->border = TTA_BORDER_WRAP;
    }
    double deg = round((uniform01(state) * 2 - 1) * max_deg * 10) / 10; /* 0.1 degree steps */
    if (deg != 0) {
        tta_transform *t = &out->t[out->n++];
        t->op = TTA_OP_ROTATE;
        t->p[0] = deg;
        t->interp = TTA_INTERP_BILINEAR;
        t->border = TTA_BORDER_EDGE;
    }
}
