/* merge.c - the streaming per-pixel merger of segmentation views (segment.h) and its
 * uncertainty maps. Each view is folded into running per-pixel, per-class statistics as it
 * arrives, so memory is fixed by C x H x W whatever the number of views:
 *
 *   per class (float, C x H x W each): the running mean of p (weighted like the merge: by the
 *     view weights for WEIGHTED, else plain), the running sum of squared deviations of p about
 *     that mean (Welford; the variance map), the views' argmax votes (weighted like the mean;
 *     for VOTE they count views), and for GEOMETRIC/LOGITS the running mean of log p, for MAX
 *     the running maximum;
 *   per pixel (double): the weight sum and the weighted sum of the views' entropies (mutual
 *     information); an int count of valid views.
 *
 * Precision: the float running means keep about 1e-6 relative error over hundreds of views and,
 * unlike sums of p^2, the Welford form does not cancel, so the variance map is good to about
 * 1e-7 absolute. Logs use a vectorisable float log (about 1e-7 relative) of p floored at 1e-30,
 * as classify.h's merger, so a zero probability gives no NaN or -inf. The entropy and mutual
 * information maps are therefore good to about 1e-6 nats.
 *
 * add() works on blocks of pixels (per-block scratch on the stack), class plane by class plane,
 * in loops the compiler vectorises (built for the baseline, AVX2 and AVX-512, picked at run time
 * as core/cpu.h's kernels); result() likewise, block by block and plane by plane; large images
 * are split over the OpenMP threads. */
#include <float.h>
#include <limits.h>
#include <math.h>
#include <string.h>

#include <omp.h>

#include "core/alloc.h"
#include "core/cpu.h"
#include "core/error.h"
#include "segment/segment_internal.h"

#define LOG_FLOOR 1e-30f
#define BLOCK 512              /* pixels per block: scratch of about 10 KB, in L1 */
#define PARALLEL_VALUES 16384  /* maps of at least this many values (classes x pixels) are split over
                                  threads: an add of a 64 x 64 map of 11 classes takes about 50 us,
                                  a parallel region about 1 us */

struct tta_seg_merger {
    tta_merge method;
    int classes, height, width;
    size_t plane; /* height * width */
    int n_added;
    float *mean;  /* C x plane: running (weighted) mean of p */
    float *m2;    /* C x plane: running sum of w (p - mean)^2 */
    float *votes; /* C x plane: weight of the views whose argmax is c */
    float *aux;   /* C x plane: GEOMETRIC/LOGITS mean of log p, MAX maximum of p; else NULL */
    double *wsum; /* plane: weight of the valid views */
    double *hsum; /* plane: weighted sum of the views' entropies */
    int *count;   /* plane: number of valid views */
};

static const char *unc_names[TTA_UNC_COUNT] = {"entropy", "mutual_info", "variance", "disagreement"};

const char *tta_unc_map_name(tta_unc_map m) { return (unsigned)m < TTA_UNC_COUNT ? unc_names[m] : "unknown"; }

void tta_seg_merger_free(tta_seg_merger *m) {
    if (!m) return;
    tta_free(m->mean);
    tta_free(m->m2);
    tta_free(m->votes);
    tta_free(m->aux);
    tta_free(m->wsum);
    tta_free(m->hsum);
    tta_free(m->count);
    tta_free(m);
}

tta_status tta_seg_merger_new(tta_seg_merger **out, tta_merge method, int classes, int height, int width) {
    if (!out) return tta_errorf(TTA_ERR_INVALID_ARG, "tta_seg_merger_new: NULL output");
    *out = NULL;
    if ((unsigned)method > TTA_MERGE_WEIGHTED)
        return tta_errorf(TTA_ERR_INVALID_ARG, "tta_seg_merger_new: unknown merge method %d", (int)method);
    /* labels are bytes: at most 256 classes */
    if (classes < 1 || classes > 256)
        return tta_errorf(TTA_ERR_INVALID_ARG, "tta_seg_merger_new: %d classes (1 to 256)", classes);
    if (height < 1 || width < 1 || (long long)height * width > INT_MAX)
        return tta_errorf(TTA_ERR_INVALID_ARG, "tta_seg_merger_new: bad size %dx%d", height, width);
    tta_seg_merger *m = tta_calloc(1, sizeof *m);
    if (!m) return tta_errorf(TTA_ERR_NOMEM, "out of memory for a segmentation merger");
    m->method = method;
    m->classes = classes;
    m->height = height;
    m->width = width;
    m->plane = (size_t)height * width;
    size_t n = (size_t)classes * m->plane;
    m->mean = tta_malloc(n * sizeof *m->mean);
    m->m2 = tta_malloc(n * sizeof *m->m2);
    m->votes = tta_malloc(n * sizeof *m->votes);
    int has_aux = method == TTA_MERGE_GEOMETRIC || method == TTA_MERGE_LOGITS || method == TTA_MERGE_MAX;
    if (has_aux) m->aux = tta_malloc(n * sizeof *m->aux);
    m->wsum = tta_malloc(m->plane * sizeof *m->wsum);
    m->hsum = tta_malloc(m->plane * sizeof *m->hsum);
    m->count = tta_malloc(m->plane * sizeof *m->count);
    if (!m->mean || !m->m2 || !m->votes || (has_aux && !m->aux) || !m->wsum || !m->hsum || !m->count) {
        tta_seg_merger_free(m);
        return tta_errorf(TTA_ERR_NOMEM, "out of memory for a segmentation merger of %d x %d x %d", classes,
                          height, width);
    }
    tta_seg_merger_reset(m);
    *out = m;
    return TTA_OK;
}

void tta_seg_merger_reset(tta_seg_merger *m) {
    if (!m) return;
    size_t n = (size_t)m->classes * m->plane;
    /* all-zero bytes are 0.0f / 0.0 / 0 */
    memset(m->mean, 0, n * sizeof *m->mean);
    memset(m->m2, 0, n * sizeof *m->m2);
    memset(m->votes, 0, n * sizeof *m->votes);
    if (m->aux) memset(m->aux, 0, n * sizeof *m->aux);
    memset(m->wsum, 0, m->plane * sizeof *m->wsum);
    memset(m->hsum, 0, m->plane * sizeof *m->hsum);
    memset(m->count, 0, m->plane * sizeof *m->count);
    m->n_added = 0;
}

int tta_seg_merger_valid_views(const tta_seg_merger *m, int i) {
    return m && i >= 0 && (size_t)i < m->plane ? m->count[i] : 0;
}

#define log_floored tta_seg_log_floored

static inline __attribute__((always_inline)) void entropy_body(const float *restrict probs, int C, size_t plane,
                                                                float *restrict out) {
    for (size_t i = 0; i < plane; i++) out[i] = 0.0f;
    for (int c = 0; c < C; c++) {
        const float *restrict p = probs + (size_t)c * plane;
#pragma omp simd
        for (size_t i = 0; i < plane; i++) out[i] -= p[i] * log_floored(p[i]);
    }
}
static void entropy_generic(const float *probs, int C, size_t plane, float *out) { entropy_body(probs, C, plane, out); }
TTA_TARGET_AVX2 static void entropy_avx2(const float *probs, int C, size_t plane, float *out) {
    entropy_body(probs, C, plane, out);
}
TTA_TARGET_AVX512 static void entropy_avx512(const float *probs, int C, size_t plane, float *out) {
    entropy_body(probs, C, plane, out);
}

void tta_seg_entropy(const float *probs, int C, size_t plane, float *out) {
    TTA_ISA_PICK(entropy_generic, entropy_avx2, entropy_avx512)(probs, C, plane, out);
}

enum { KIND_PLAIN, KIND_LOG, KIND_MAX };

/* One class plane of one block: pixels k < n at p, with per-pixel factors (w: the view's weight
 * at valid pixels, 0 elsewhere; r = w / new weight sum; rg = 1 / new count at valid pixels, 0
 * elsewhere). Invalid pixels read the current mean instead of p, so that their statistics do
 * not move and whatever the caller left there (even NaN) is never used. */
static inline __attribute__((always_inline)) void add_plane(int kind, int c, int n, const float *restrict p, const float *restrict w,
                             const float *restrict r, const float *restrict rg, float *restrict mean,
                             float *restrict m2, float *restrict aux, float *restrict hv, float *restrict best,
                             int *restrict best_c) {
#pragma omp simd
    for (int k = 0; k < n; k++) {
        /* every load unconditional and each comparison used by one select (integer masks
         * otherwise), so that the loop vectorises */
        float pk = p[k], mk = mean[k], wk = w[k], ak = kind != KIND_PLAIN ? aux[k] : 0.0f, bk = best[k];
        int bc = best_c[k];
        float x = wk > 0.0f ? pk : mk;
        float lx = log_floored(x);
        hv[k] -= x * lx;
        float d = x - mk;
        float mu = mk + r[k] * d;
        m2[k] += wk * d * (x - mu);
        mean[k] = mu;
        if (kind == KIND_LOG) aux[k] = ak + rg[k] * (lx - ak);
        if (kind == KIND_MAX) aux[k] = x > ak ? x : ak; /* x is the mean <= the maximum when invalid */
        int gt = -(int)(x > bk); /* strict: the lowest class wins ties */
        best[k] = x > bk ? x : bk;
        best_c[k] = (bc & ~gt) | (c & gt);
    }
}

static inline __attribute__((always_inline)) void add_block_body(tta_seg_merger *m, const float *probs,
                                                                  const uint8_t *valid, double weight, size_t i0, int n) {
    float w[BLOCK], r[BLOCK], rg[BLOCK], hv[BLOCK], best[BLOCK];
    int best_c[BLOCK];
    const size_t plane = m->plane;
    const double *restrict wsum = m->wsum + i0;
    const int *restrict count = m->count + i0;
    if (valid) {
        const uint8_t *restrict va = valid + i0;
#pragma omp simd
        for (int k = 0; k < n; k++) {
            int ok = va[k] != 0;
            w[k] = ok ? (float)weight : 0.0f;
            r[k] = ok ? (float)(weight / (wsum[k] + weight)) : 0.0f;
            rg[k] = ok ? 1.0f / (float)(count[k] + 1) : 0.0f;
        }
    } else {
#pragma omp simd
        for (int k = 0; k < n; k++) {
            w[k] = (float)weight;
            r[k] = (float)(weight / (wsum[k] + weight));
            rg[k] = 1.0f / (float)(count[k] + 1);
        }
    }
    for (int k = 0; k < n; k++) hv[k] = 0.0f, best[k] = -FLT_MAX, best_c[k] = 0;
    int kind = m->method == TTA_MERGE_MAX                                                 ? KIND_MAX
               : m->method == TTA_MERGE_GEOMETRIC || m->method == TTA_MERGE_LOGITS ? KIND_LOG
                                                                                     : KIND_PLAIN;
    for (int c = 0; c < m->classes; c++) {
        size_t o = (size_t)c * plane + i0;
        float *aux = m->aux ? m->aux + o : NULL;
        /* constant kinds, so that each call inlines into its own loop */
        switch (kind) {
        case KIND_LOG: add_plane(KIND_LOG, c, n, probs + o, w, r, rg, m->mean + o, m->m2 + o, aux, hv, best, best_c); break;
        case KIND_MAX: add_plane(KIND_MAX, c, n, probs + o, w, r, rg, m->mean + o, m->m2 + o, aux, hv, best, best_c); break;
        default: add_plane(KIND_PLAIN, c, n, probs + o, w, r, rg, m->mean + o, m->m2 + o, aux, hv, best, best_c); break;
        }
    }
    for (int k = 0; k < n; k++) m->votes[(size_t)best_c[k] * plane + i0 + k] += w[k]; /* + 0 where invalid */
    double *restrict ws = m->wsum + i0, *restrict hs = m->hsum + i0;
    int *restrict cnt = m->count + i0;
#pragma omp simd
    for (int k = 0; k < n; k++) {
        int ok = w[k] != 0.0f;
        ws[k] += ok ? weight : 0.0;
        hs[k] += ok ? weight * hv[k] : 0.0;
        cnt[k] += ok;
    }
}

/* add_block for the baseline, AVX2 and AVX-512 (core/cpu.h: the same bits from each) */
typedef void (*add_block_fn)(tta_seg_merger *, const float *, const uint8_t *, double, size_t, int);
static void add_block_generic(tta_seg_merger *m, const float *p, const uint8_t *v, double w, size_t i0, int n) {
    add_block_body(m, p, v, w, i0, n);
}
TTA_TARGET_AVX2 static void add_block_avx2(tta_seg_merger *m, const float *p, const uint8_t *v, double w, size_t i0, int n) {
    add_block_body(m, p, v, w, i0, n);
}
TTA_TARGET_AVX512 static void add_block_avx512(tta_seg_merger *m, const float *p, const uint8_t *v, double w, size_t i0,
                                               int n) {
    add_block_body(m, p, v, w, i0, n);
}

/* 1 if some float at a valid pixel is NaN or infinite. An all-ones exponent plus one carries
 * into the sign bit: an OR of such sums vectorises; the caller looks for the culprit only then. */
static int any_bad(const tta_seg_merger *m, const float *probs, const uint8_t *valid) {
    const size_t plane = m->plane;
    uint32_t bad = 0;
    for (int c = 0; c < m->classes; c++) {
        const float *p = probs + (size_t)c * plane;
        if (valid) {
#pragma omp simd reduction(| : bad)
            for (size_t i = 0; i < plane; i++) {
                uint32_t u;
                memcpy(&u, p + i, sizeof u);
                bad |= ((u & 0x7f800000u) + 0x00800000u) & (valid[i] ? 0xffffffffu : 0u);
            }
        } else {
#pragma omp simd reduction(| : bad)
            for (size_t i = 0; i < plane; i++) {
                uint32_t u;
                memcpy(&u, p + i, sizeof u);
                bad |= (u & 0x7f800000u) + 0x00800000u;
            }
        }
    }
    return (bad & 0x80000000u) != 0;
}

tta_status tta_seg_merger_add(tta_seg_merger *m, const float *probs, const uint8_t *valid, double weight) {
    if (!m || !probs) return tta_errorf(TTA_ERR_INVALID_ARG, "tta_seg_merger_add: NULL merger or probabilities");
    if (!(weight > 0) || !isfinite(weight))
        return tta_errorf(TTA_ERR_INVALID_ARG, "tta_seg_merger_add: view weight %g (must be positive)", weight);
    if (any_bad(m, probs, valid)) {
        for (int c = 0; c < m->classes; c++)
            for (size_t i = 0; i < m->plane; i++) {
                float v = probs[(size_t)c * m->plane + i];
                if ((!valid || valid[i]) && !isfinite(v))
                    return tta_errorf(TTA_ERR_INVALID_ARG,
                                      "tta_seg_merger_add: probability of class %d at pixel (row %d, column %d) is %s",
                                      c, (int)(i / m->width), (int)(i % m->width), isnan(v) ? "NaN" : "infinite");
            }
    }
    /* only WEIGHTED uses the weights (as classify.h's merger) */
    double w = m->method == TTA_MERGE_WEIGHTED ? weight : 1.0;
    long n_blocks = (long)((m->plane + BLOCK - 1) / BLOCK);
    add_block_fn add_block = TTA_ISA_PICK(add_block_generic, add_block_avx2, add_block_avx512);
#pragma omp parallel for schedule(static) if (m->plane * (size_t)m->classes >= PARALLEL_VALUES && !omp_in_parallel())
    for (long b = 0; b < n_blocks; b++) {
        size_t i0 = (size_t)b * BLOCK;
        int n = m->plane - i0 < BLOCK ? (int)(m->plane - i0) : BLOCK;
        add_block(m, probs, valid, w, i0, n);
    }
    m->n_added++;
    return TTA_OK;
}

/* ---- result: the merged distribution, labels and maps ------------------------------------
 *
 * Block by block of pixels, class plane by class plane, so that the loops run over contiguous
 * arrays and vectorise. The merged distribution q and the entropies are float (the running
 * means are float already; doubles halved the vector width for no accuracy the maps keep), the
 * per-pixel weight sums double; the same operations in the same order per pixel, so the results
 * do not depend on the blocking. q's scratch is on the stack, C x n floats for n pixels per
 * block. */

#define RBLOCK 256          /* pixels per result block at most */
#define RSCRATCH 4096       /* floats of q scratch: C x n <= RSCRATCH */

static inline __attribute__((always_inline)) void result_block_body(const tta_seg_merger *m, size_t i0, int n,
                                                                     float *restrict q, float *probs, uint8_t *labels,
                                                                     float *const *maps) {
    const int C = m->classes;
    const size_t plane = m->plane;
    float sum[RBLOCK], h[RBLOCK], hmu[RBLOCK], best[RBLOCK];
    int win[RBLOCK];
    switch (m->method) {
    case TTA_MERGE_MEAN:
    case TTA_MERGE_WEIGHTED:
        for (int c = 0; c < C; c++) {
            const float *restrict mu = m->mean + (size_t)c * plane + i0;
            float *restrict qc = q + (size_t)c * n;
#pragma omp simd
            for (int k = 0; k < n; k++) qc[k] = mu[k];
        }
        break;
    case TTA_MERGE_LOGITS:
    case TTA_MERGE_GEOMETRIC: /* a softmax of the mean log p */
        for (int k = 0; k < n; k++) best[k] = -FLT_MAX, sum[k] = 0;
        for (int c = 0; c < C; c++) {
            const float *restrict a = m->aux + (size_t)c * plane + i0;
#pragma omp simd
            for (int k = 0; k < n; k++) best[k] = a[k] > best[k] ? a[k] : best[k];
        }
        for (int c = 0; c < C; c++) {
            const float *restrict a = m->aux + (size_t)c * plane + i0;
            float *restrict qc = q + (size_t)c * n;
            for (int k = 0; k < n; k++) sum[k] += qc[k] = expf(a[k] - best[k]);
        }
        for (int c = 0; c < C; c++) {
            float *restrict qc = q + (size_t)c * n;
#pragma omp simd
            for (int k = 0; k < n; k++) qc[k] /= sum[k];
        }
        break;
    case TTA_MERGE_MAX:
        for (int k = 0; k < n; k++) sum[k] = 0;
        for (int c = 0; c < C; c++) {
            const float *restrict a = m->aux + (size_t)c * plane + i0;
            float *restrict qc = q + (size_t)c * n;
#pragma omp simd
            for (int k = 0; k < n; k++) sum[k] += qc[k] = a[k];
        }
        for (int c = 0; c < C; c++) {
            float *restrict qc = q + (size_t)c * n;
#pragma omp simd
            for (int k = 0; k < n; k++) qc[k] = sum[k] > 0 ? qc[k] / sum[k] : 1.0f / C;
        }
        break;
    case TTA_MERGE_VOTE: {
        /* vote shares; a tiny share of the mean breaks ties (as classify.h's merger) */
        const float eps = 1e-3f;
        const double *restrict ws = m->wsum + i0;
        for (int c = 0; c < C; c++) {
            const float *restrict v = m->votes + (size_t)c * plane + i0, *restrict mu = m->mean + (size_t)c * plane + i0;
            float *restrict qc = q + (size_t)c * n;
#pragma omp simd
            for (int k = 0; k < n; k++) qc[k] = (1 - eps) * v[k] / ws[k] + eps * mu[k];
        }
        break;
    }
    }
    /* the label: the first class of the largest q */
    for (int k = 0; k < n; k++) best[k] = q[k], win[k] = 0;
    for (int c = 1; c < C; c++) {
        const float *restrict qc = q + (size_t)c * n;
#pragma omp simd
        for (int k = 0; k < n; k++) {
            int gt = -(int)(qc[k] > best[k]);
            best[k] = qc[k] > best[k] ? qc[k] : best[k];
            win[k] = (win[k] & ~gt) | (c & gt);
        }
    }
    const int *restrict count = m->count + i0;
    if (maps) {
        /* entropies of q and of the mean (mutual information = H(mean) - mean of the views' H);
           for MEAN and WEIGHTED q is the mean, so one entropy serves both */
        const int q_is_mean = m->method == TTA_MERGE_MEAN || m->method == TTA_MERGE_WEIGHTED;
        for (int k = 0; k < n; k++) h[k] = 0, hmu[k] = 0;
        for (int c = 0; c < C; c++) {
            const float *restrict qc = q + (size_t)c * n;
            const float *restrict mu = m->mean + (size_t)c * plane + i0;
            if (q_is_mean) {
#pragma omp simd
                for (int k = 0; k < n; k++) h[k] -= qc[k] * log_floored(qc[k]);
            } else {
#pragma omp simd
                for (int k = 0; k < n; k++) {
                    h[k] -= qc[k] * log_floored(qc[k]);
                    hmu[k] -= mu[k] * log_floored(mu[k]);
                }
            }
        }
        const float *restrict hm = q_is_mean ? h : hmu;
        /* the winner's sum of squared deviations and votes, gathered plane by plane */
        float m2w[RBLOCK], vw[RBLOCK];
        for (int k = 0; k < n; k++) m2w[k] = 0, vw[k] = 0;
        for (int c = 0; c < C; c++) {
            const float *restrict m2c = m->m2 + (size_t)c * plane + i0, *restrict vc = m->votes + (size_t)c * plane + i0;
#pragma omp simd
            for (int k = 0; k < n; k++) {
                m2w[k] = win[k] == c ? m2c[k] : m2w[k];
                vw[k] = win[k] == c ? vc[k] : vw[k];
            }
        }
        const float log_c = (float)log((double)C);
        const double *restrict wsum = m->wsum + i0, *restrict hsum = m->hsum + i0;
        float *restrict me = maps[TTA_UNC_ENTROPY] ? maps[TTA_UNC_ENTROPY] + i0 : NULL;
        float *restrict mm = maps[TTA_UNC_MUTUAL_INFO] ? maps[TTA_UNC_MUTUAL_INFO] + i0 : NULL;
        float *restrict mv = maps[TTA_UNC_VARIANCE] ? maps[TTA_UNC_VARIANCE] + i0 : NULL;
        float *restrict md = maps[TTA_UNC_DISAGREEMENT] ? maps[TTA_UNC_DISAGREEMENT] + i0 : NULL;
        if (me)
#pragma omp simd
            for (int k = 0; k < n; k++) me[k] = count[k] == 0 ? log_c : h[k]; /* no view: uniform */
        /* one view: no disagreement, exactly (0); the divisions by a zero weight are not used */
        if (mm)
#pragma omp simd
            for (int k = 0; k < n; k++) {
                double ws = count[k] > 1 ? wsum[k] : 1.0, mi = hm[k] - hsum[k] / ws;
                mm[k] = count[k] > 1 && mi > 0 ? (float)mi : 0.0f;
            }
        if (mv)
#pragma omp simd
            for (int k = 0; k < n; k++) {
                double ws = count[k] > 1 ? wsum[k] : 1.0, var = m2w[k] / ws;
                mv[k] = count[k] > 1 && var > 0 ? (float)var : 0.0f;
            }
        if (md)
#pragma omp simd
            for (int k = 0; k < n; k++) {
                double ws = count[k] > 1 ? wsum[k] : 1.0, dis = 1.0 - vw[k] / ws;
                dis = dis < 0 ? 0 : dis > 1 ? 1 : dis;
                md[k] = count[k] > 1 ? (float)dis : 0.0f;
            }
    }
    if (labels)
        for (int k = 0; k < n; k++) labels[i0 + k] = (uint8_t)(count[k] ? win[k] : 0);
    if (probs) {
        const float uniform = (float)(1.0f / C);
        for (int c = 0; c < C; c++) {
            const float *restrict qc = q + (size_t)c * n;
            float *restrict pc = probs + (size_t)c * plane + i0;
#pragma omp simd
            for (int k = 0; k < n; k++) pc[k] = count[k] ? qc[k] : uniform;
        }
    }
}

/* result_block for the baseline, AVX2 and AVX-512, as add_block */
typedef void (*result_block_fn)(const tta_seg_merger *, size_t, int, float *, float *, uint8_t *, float *const *);
static void result_block_generic(const tta_seg_merger *m, size_t i0, int n, float *q, float *probs, uint8_t *labels,
                                 float *const *maps) {
    result_block_body(m, i0, n, q, probs, labels, maps);
}
TTA_TARGET_AVX2 static void result_block_avx2(const tta_seg_merger *m, size_t i0, int n, float *q, float *probs,
                                              uint8_t *labels, float *const *maps) {
    result_block_body(m, i0, n, q, probs, labels, maps);
}
TTA_TARGET_AVX512 static void result_block_avx512(const tta_seg_merger *m, size_t i0, int n, float *q, float *probs,
                                                  uint8_t *labels, float *const *maps) {
    result_block_body(m, i0, n, q, probs, labels, maps);
}

tta_status tta_seg_merger_result(const tta_seg_merger *m, float *probs, uint8_t *labels, float *const *maps) {
    if (!m) return tta_errorf(TTA_ERR_INVALID_ARG, "tta_seg_merger_result: NULL merger");
    if (m->n_added == 0) return tta_errorf(TTA_ERR_INVALID_ARG, "tta_seg_merger_result: no views added");
    int nb = RSCRATCH / m->classes; /* classes <= 256: at least 16 pixels */
    nb = nb > RBLOCK ? RBLOCK : nb;
    long n_blocks = (long)((m->plane + nb - 1) / nb);
    result_block_fn result_block = TTA_ISA_PICK(result_block_generic, result_block_avx2, result_block_avx512);
#pragma omp parallel for schedule(static) if (m->plane * (size_t)m->classes >= PARALLEL_VALUES && !omp_in_parallel())
    for (long b = 0; b < n_blocks; b++) {
        float q[RSCRATCH];
        size_t i0 = (size_t)b * nb;
        int n = m->plane - i0 < (size_t)nb ? (int)(m->plane - i0) : nb;
        result_block(m, i0, n, q, probs, labels, maps);
    }
    return TTA_OK;
}
