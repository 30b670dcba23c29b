/* honest.c - the selection-bias-aware estimate of a search's test gain (search.h,
 * tta_search_honest): repeated K-fold selection inside the validation table. Each fold copies its
 * selection part and its held-out part of the table (view-major, as the search reads it), runs
 * the whole search on the first and scores each budget's best policy on the second with the
 * same merge as `tta eval`. The spread of the held-out gains is corrected for the overlap of
 * the folds' data as Nadeau and Bengio (2003) do for repeated cross-validation. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/alloc.h"
#include "core/error.h"
#include "core/stats_util.h"
#include "tta/classify.h"
#include "tta/search.h"

#define HONEST_FOLDS 5 /* each search sees 4/5 of the images, as near the whole split as the
                          held-out fifth allows */

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* Rows idx[0..m) of t into a table of m images (probs and labels in the caller's buffers). */
static void sub_table(const tta_pred_table *t, const int *idx, int m, float *probs, int *labels, tta_pred_table *out) {
    const size_t k = (size_t)t->k;
    for (int v = 0; v < t->n_views; v++)
        for (int j = 0; j < m; j++)
            memcpy(probs + ((size_t)v * m + j) * k, t->probs + ((size_t)v * t->n + idx[j]) * k, sizeof(float) * k);
    for (int j = 0; j < m; j++) labels[j] = t->labels[idx[j]];
    *out = (tta_pred_table){m, t->k, t->n_views, probs, labels};
}

static double accuracy_of(const float *merged, const int *labels, int n, int k) {
    int right = 0;
    for (int i = 0; i < n; i++) right += tta_argmax(merged + (size_t)i * k, k) == labels[i];
    return n ? (double)right / n : 0.0;
}

/* Accuracy of a pick on table h (its weights when the pick is weighted). */
static tta_status pick_accuracy(const tta_pred_table *h, const tta_search_pick *p, float *merged, double *acc) {
    TTA_TRY(tta_pred_table_merge(h, p->views, p->weighted ? p->weights : NULL, p->n_views, merged));
    *acc = accuracy_of(merged, h->labels, h->n, h->k);
    return TTA_OK;
}

tta_status tta_search_honest(const tta_pred_table *t, const tta_policy *pool, const tta_search_options *opt,
                             int repeats, uint64_t seed, tta_honest_estimate *out) {
    if (!t || !pool || !opt || !out || !t->probs || !t->labels)
        return tta_errorf(TTA_ERR_INVALID_ARG, "tta_search_honest: NULL argument");
    if (repeats < 1 || repeats > 20)
        return tta_errorf(TTA_ERR_INVALID_ARG, "tta_search_honest: %d repeats (give 1 to 20)", repeats);
    if (t->n < 20)
        return tta_errorf(TTA_ERR_INVALID_ARG, "tta_search_honest: %d images are too few to split in two (20 at least)",
                          t->n);
    memset(out, 0, sizeof *out);
    double t0 = now_s();
    const int n = t->n, k = t->k, K = HONEST_FOLDS;
    const size_t part = (size_t)t->n_views * (size_t)n * (size_t)k;
    int *perm = tta_malloc(sizeof *perm * (size_t)n), *lab_a = tta_malloc(sizeof(int) * (size_t)n),
        *lab_b = tta_malloc(sizeof(int) * (size_t)n), *idx = tta_malloc(sizeof(int) * (size_t)n);
    float *pa = tta_malloc(sizeof(float) * part), *pb = tta_malloc(sizeof(float) * part);
    float *merged = tta_malloc(sizeof(float) * (size_t)n * (size_t)k);
    double *held = tta_malloc(sizeof(double) * (size_t)TTA_SEARCH_MAX_BUDGET * K * repeats);
    tta_status st = TTA_OK;
    if (!perm || !lab_a || !lab_b || !idx || !pa || !pb || !merged || !held) {
        st = tta_errorf(TTA_ERR_NOMEM, "tta_search_honest: out of memory for the folds of %d images x %d views", n,
                        t->n_views);
        goto done;
    }
    int B = 0, folds = 0;
    uint64_t rng = seed ^ 0x5eed0f5a1fULL;
    for (int r = 0; r < repeats && !st; r++) {
        for (int i = 0; i < n; i++) perm[i] = i;
        for (int i = n - 1; i > 0; i--) { /* Fisher-Yates */
            int j = (int)tta_rand_below(&rng, (uint64_t)i + 1), x = perm[i];
            perm[i] = perm[j];
            perm[j] = x;
        }
        for (int f = 0; f < K && !st; f++) {
            /* held out: the f-th fifth of the permutation; selection: the rest */
            int h0 = (int)((long)n * f / K), h1 = (int)((long)n * (f + 1) / K), m = 0;
            for (int i = 0; i < n; i++)
                if (i < h0 || i >= h1) idx[m++] = perm[i];
            tta_pred_table sel, oth;
            sub_table(t, idx, m, pa, lab_a, &sel);
            sub_table(t, perm + h0, h1 - h0, pb, lab_b, &oth);
            tta_search_result res;
            st = tta_search_run(&sel, pool, opt, &res);
            if (st) break;
            B = res.budget;
            double base_sel = res.best[0].val.accuracy, base_oth = 0, acc = 0;
            tta_search_pick ident = {.n_views = 1, .views = {0}};
            st = pick_accuracy(&oth, &ident, merged, &base_oth);
            for (int b = 0; b < B && !st; b++) {
                st = pick_accuracy(&oth, &res.best[b], merged, &acc);
                out->fold_gain[b] += res.best[b].val.accuracy - base_sel;
                held[(size_t)b * K * repeats + folds] = acc - base_oth;
            }
            tta_search_result_destroy(&res);
            folds++;
        }
    }
    if (st) goto done;
    out->budget = B;
    out->n_folds = folds;
    for (int b = 0; b < B; b++) {
        const double *g = held + (size_t)b * K * repeats;
        double mean = 0, ss = 0;
        int pos = 0;
        for (int f = 0; f < folds; f++) mean += g[f], pos += g[f] > 0;
        mean /= folds;
        for (int f = 0; f < folds; f++) ss += (g[f] - mean) * (g[f] - mean);
        double sd = folds > 1 ? sqrt(ss / (folds - 1)) : 0;
        /* Nadeau-Bengio: the folds share images, so the mean's variance is (1/J + n_held/n_sel)
           s^2, not s^2 / J; a test set as large as the split adds its own s^2 n_held / n */
        double ratio = 1.0 / (K - 1), se = sd * sqrt(1.0 / folds + ratio);
        double pred = sqrt(se * se + sd * sd / K);
        out->fold_gain[b] /= folds;
        out->held_gain[b] = mean;
        out->held_sd[b] = sd;
        out->held_se[b] = se;
        out->lo[b] = mean - 1.96 * pred;
        out->hi[b] = mean + 1.96 * pred;
        out->positive_share[b] = (double)pos / folds;
        out->supported[b] = b > 0 && mean - se > 0;
    }
    out->seconds = now_s() - t0;
done:
    tta_free(perm);
    tta_free(lab_a);
    tta_free(lab_b);
    tta_free(idx);
    tta_free(pa);
    tta_free(pb);
    tta_free(merged);
    tta_free(held);
    return st;
}

int tta_honest_budget(const tta_honest_estimate *e) {
    if (!e) return 1;
    for (int b = e->budget - 1; b > 0; b--)
        if (e->supported[b]) return b + 1;
    return 1;
}
