/* seg_metrics.c - segmentation metrics (segment.h): confusion matrices with a boundary band,
 * mIoU/Dice/pixel accuracy, the quality of an uncertainty map as a detector of wrong pixels
 * (AUROC, AUPR, risk at a coverage) from histograms, and the paired bootstrap of the mIoU gain.
 * scripts/ref_seg_metrics.py computes the same figures from first principles
 * (tests/data/segment/metrics_ref.txt; tests/unit/test_seg_metrics.c).
 *
 * Decisions worth knowing:
 *   - Ignore: pixels whose truth is the ignore label are never counted, whatever their
 *     prediction (which is then not checked either). At scored pixels the prediction must be a
 *     class (< C): an ignore-valued prediction is an error like any value >= C. The ignore label
 *     may not be a class (0 <= ignore < C is refused); ignore < 0 or > 255 means "none".
 *   - Boundary band ("trimap" mIoU, as DeepLab's trimap evaluation): a pixel is a boundary pixel
 *     when some pixel of the image within Chebyshev distance `boundary` has another TRUTH value,
 *     the ignore label counting as a value of its own (so the edge of an ignored region is a
 *     boundary); the image's border is not a boundary. Boundary pixels with ignored truth are not
 *     counted, as everywhere. "Another value within the window" is max != min over the
 *     (2b+1) x (2b+1) window, and min/max over a square window are separable: a row pass then a
 *     column pass. Bands up to 24 pixels wide take the window's 2b shifts of whole rows
 *     (vectorised, O(H W b): 14 us for a 64 x 64 image at b = 3); wider ones a running min/max
 *     by van Herk / Gil-Werman (three comparisons per pixel whatever b): O(H W), never
 *     O(H W b^2).
 *   - Averages over nothing are 0: mIoU, Dice and pixel accuracy of an empty matrix, mIoU_fg
 *     with no foreground class present, boundary mIoU with no boundary pixel (-1 only without a
 *     boundary matrix).
 *   - Uncertainty quality: bin k of n holds the values in [k, k+1) * max / n; values below 0
 *     fall in bin 0, above max (and NaN) in the last bin. Pixels in one bin are ties:
 *       AUROC = P(u_wrong > u_correct) + P(equal) / 2 over (wrong, correct) pairs, equal = same bin;
 *       AUPR  = average precision with wrong = positive, ranked by uncertainty descending, a bin
 *               being one tied group (one threshold, as scikit-learn's average_precision_score
 *               treats tied scores): AP = sum over bins from high to low of
 *               precision(at the bin's end) * wrong_in_bin / all_wrong;
 *       risk(c) = error rate of the c * N pixels with the lowest uncertainty, c * N being real:
 *               the bin where the share ends contributes its pixels pro rata (ties share).
 *     With values on the bin grid (k * max / n exactly) these are the exact figures. Undefined
 *     values are -1: AUROC without wrong or without correct pixels, AUPR without wrong pixels,
 *     risk with no pixel or a coverage outside (0, 1].
 *   - Bootstrap: per image, only the classes it has with their (TP, truth, predicted) counts are
 *     kept (IoU needs nothing else), so a resample costs O(images x classes per image), not
 *     O(images x C^2). Resample r draws from its own stream (seed, r): thread-count independent. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/error.h"
#include "core/stats_util.h"
#include "tta/segment.h"
#include "tta/tensor.h"

/* ---- confusion matrices ------------------------------------------------------------------- */

tta_status tta_confusion_init(tta_confusion *cm, int classes, int ignore, int boundary) {
    if (!cm) return tta_errorf(TTA_ERR_INVALID_ARG, "tta_confusion_init: NULL argument");
    memset(cm, 0, sizeof *cm);
    if (classes < 1 || classes > 256)
        return tta_errorf(TTA_ERR_INVALID_ARG, "confusion matrix: %d classes (expected 1..256)", classes);
    if (ignore >= 0 && ignore < classes)
        return tta_errorf(TTA_ERR_INVALID_ARG,
                          "confusion matrix: the ignore label %d is one of the %d classes", ignore, classes);
    if (boundary < 0)
        return tta_errorf(TTA_ERR_INVALID_ARG, "confusion matrix: boundary width %d is negative", boundary);
    size_t n = (size_t)classes * (size_t)classes;
    cm->counts = tta_calloc(n, sizeof *cm->counts);
    if (boundary > 0) cm->boundary_counts = tta_calloc(n, sizeof *cm->boundary_counts);
    if (!cm->counts || (boundary > 0 && !cm->boundary_counts)) {
        tta_free(cm->counts);
        tta_free(cm->boundary_counts);
        memset(cm, 0, sizeof *cm);
        return tta_errorf(TTA_ERR_NOMEM, "confusion matrix: out of memory");
    }
    cm->classes = classes;
    cm->ignore = ignore;
    cm->boundary = boundary;
    return TTA_OK;
}

void tta_confusion_destroy(tta_confusion *cm) {
    if (!cm) return;
    tta_free(cm->counts);
    tta_free(cm->boundary_counts);
    memset(cm, 0, sizeof *cm);
}

void tta_confusion_clear(tta_confusion *cm) {
    if (!cm || !cm->counts) return;
    size_t n = (size_t)cm->classes * (size_t)cm->classes;
    memset(cm->counts, 0, n * sizeof *cm->counts);
    if (cm->boundary_counts) memset(cm->boundary_counts, 0, n * sizeof *cm->boundary_counts);
}

/* Running min of amin[0..n) and max of amax[0..n) (stride `step`) over the window [i-b, i+b]
 * clipped to the line, by van Herk / Gil-Werman: the line padded with b neutral values on each
 * side is cut in blocks of w = 2b+1; a window covers a suffix of one block and a prefix of the
 * next, so out[i] = op(suffix[i], prefix[i + w - 1]). g*, h* hold 5n values each. */
static void running_minmax(const uint8_t *amin, const uint8_t *amax, size_t step, int n, int b, uint8_t *omin,
                           uint8_t *omax, uint8_t *gmin, uint8_t *gmax, uint8_t *hmin, uint8_t *hmax) {
    if (b > n - 1) b = n - 1; /* a wider window covers the whole line from every pixel */
    int w = 2 * b + 1, len = n + 2 * b, P = (len + w - 1) / w * w;
    for (int j = 0; j < P; j++) { /* the padded line */
        int src = j - b;
        int in = src >= 0 && src < n;
        hmin[j] = in ? amin[(size_t)src * step] : 255;
        hmax[j] = in ? amax[(size_t)src * step] : 0;
    }
    for (int s = 0; s < P; s += w) { /* prefixes and suffixes of each block */
        gmin[s] = hmin[s];
        gmax[s] = hmax[s];
        for (int j = s + 1; j < s + w; j++) {
            gmin[j] = hmin[j] < gmin[j - 1] ? hmin[j] : gmin[j - 1];
            gmax[j] = hmax[j] > gmax[j - 1] ? hmax[j] : gmax[j - 1];
        }
        for (int j = s + w - 2; j >= s; j--) {
            hmin[j] = hmin[j + 1] < hmin[j] ? hmin[j + 1] : hmin[j];
            hmax[j] = hmax[j + 1] > hmax[j] ? hmax[j + 1] : hmax[j];
        }
    }
    for (int i = 0; i < n; i++) {
        omin[i] = hmin[i] < gmin[i + w - 1] ? hmin[i] : gmin[i + w - 1];
        omax[i] = hmax[i] > gmax[i + w - 1] ? hmax[i] : gmax[i + w - 1];
    }
}

/* a[i] = min(a[i], b[i]) and c[i] = max(c[i], d[i]) over n values: contiguous, vectorised */
static void minmax_into(uint8_t *restrict a, const uint8_t *restrict b, uint8_t *restrict c,
                        const uint8_t *restrict d, size_t n) {
#pragma omp simd
    for (size_t i = 0; i < n; i++) {
        a[i] = b[i] < a[i] ? b[i] : a[i];
        c[i] = d[i] > c[i] ? d[i] : c[i];
    }
}

/* band[p] = 1 where the truth window of radius b around p holds two values: a row pass (min and
 * max of each row window) then a column pass over those (min of the minima, max of the maxima).
 * Bands up to 24 pixels take the window's shifts directly, whole rows at a time (2b vectorised
 * passes per direction, O(H W b), faster than the scalar running min/max up to about that
 * width); wider ones the O(H W) running min/max above. */
static tta_status boundary_band(const uint8_t *truth, int height, int width, int b, uint8_t *band) {
    size_t hw = (size_t)height * (size_t)width, W = (size_t)width;
    size_t longest = (size_t)(height > width ? height : width), line = 5 * longest + 4;
    uint8_t *rmin = tta_malloc(2 * hw + 4 * line + 2 * longest);
    if (!rmin)
        return tta_errorf(TTA_ERR_NOMEM, "boundary band: out of memory for a %dx%d image", width, height);
    uint8_t *rmax = rmin + hw, *g0 = rmax + hw, *g1 = g0 + line, *h0 = g1 + line, *h1 = h0 + line;
    uint8_t *cmin = h1 + line, *cmax = cmin + longest;
    if (b <= 24) {
        memcpy(rmin, truth, hw);
        memcpy(rmax, truth, hw);
        for (int y = 0; y < height; y++) {
            const uint8_t *t = truth + y * W;
            uint8_t *lo = rmin + y * W, *hi = rmax + y * W;
            for (int d = 1; d <= b && d < width; d++) {
                minmax_into(lo, t + d, hi, t + d, W - (size_t)d); /* right neighbours */
                minmax_into(lo + d, t, hi + d, t, W - (size_t)d); /* left neighbours */
            }
        }
        for (int y = 0; y < height; y++) {
            memcpy(cmin, rmin + y * W, W);
            memcpy(cmax, rmax + y * W, W);
            for (int d = 1; d <= b; d++) {
                if (y + d < height) minmax_into(cmin, rmin + (y + d) * W, cmax, rmax + (y + d) * W, W);
                if (y - d >= 0) minmax_into(cmin, rmin + (y - d) * W, cmax, rmax + (y - d) * W, W);
            }
            uint8_t *out = band + y * W;
#pragma omp simd
            for (size_t x = 0; x < W; x++)
                out[x] = cmin[x] != cmax[x];
        }
    } else {
        for (int y = 0; y < height; y++) {
            const uint8_t *t = truth + y * W;
            running_minmax(t, t, 1, width, b, rmin + y * W, rmax + y * W, g0, g1, h0, h1);
        }
        for (int x = 0; x < width; x++) {
            running_minmax(rmin + x, rmax + x, W, height, b, cmin, cmax, g0, g1, h0, h1);
            for (int y = 0; y < height; y++)
                band[y * W + x] = cmin[y] != cmax[y];
        }
    }
    tta_free(rmin);
    return TTA_OK;
}

tta_status tta_confusion_add(tta_confusion *cm, const uint8_t *truth, const uint8_t *pred, int height,
                             int width) {
    if (!cm || !cm->counts || !truth || !pred)
        return tta_errorf(TTA_ERR_INVALID_ARG, "tta_confusion_add: NULL argument or matrix not initialised");
    if (height < 1 || width < 1)
        return tta_errorf(TTA_ERR_INVALID_ARG, "tta_confusion_add: image of %dx%d pixels", width, height);
    const int C = cm->classes, ign = cm->ignore;
    size_t hw = (size_t)height * (size_t)width;
    /* check every value first, so that a failed call leaves the matrix as it was */
    for (size_t i = 0; i < hw; i++) {
        int t = truth[i], p = pred[i];
        if (t == ign) continue;
        if (t >= C)
            return tta_errorf(
                TTA_ERR_INVALID_ARG,
                "truth mask value %d at pixel (row %zu, column %zu) is not a class (0..%d) nor the "
                "ignore label %d",
                t, i / (size_t)width, i % (size_t)width, C - 1, ign);
        if (p >= C)
            return tta_errorf(TTA_ERR_INVALID_ARG,
                              "predicted value %d at pixel (row %zu, column %zu) is not a class (0..%d)", p,
                              i / (size_t)width, i % (size_t)width, C - 1);
    }
    uint8_t *band = NULL;
    if (cm->boundary > 0 && cm->boundary_counts) {
        band = tta_malloc(hw);
        if (!band) return tta_errorf(TTA_ERR_NOMEM, "tta_confusion_add: out of memory");
        tta_status st = boundary_band(truth, height, width, cm->boundary, band);
        if (st != TTA_OK) {
            tta_free(band);
            return st;
        }
    }
    int64_t *counts = cm->counts, *bcounts = cm->boundary_counts;
    for (size_t i = 0; i < hw; i++) {
        int t = truth[i];
        if (t == ign) continue;
        size_t k = (size_t)t * (size_t)C + pred[i];
        counts[k]++;
        if (band && band[i]) bcounts[k]++;
    }
    tta_free(band);
    return TTA_OK;
}

void tta_confusion_add_matrix(tta_confusion *cm, const tta_confusion *other, int64_t times) {
    /* matrices of different sizes cannot be added: nothing is done */
    if (!cm || !other || !cm->counts || !other->counts || cm->classes != other->classes) return;
    size_t n = (size_t)cm->classes * (size_t)cm->classes;
    for (size_t k = 0; k < n; k++)
        cm->counts[k] += other->counts[k] * times;
    if (cm->boundary_counts && other->boundary_counts)
        for (size_t k = 0; k < n; k++)
            cm->boundary_counts[k] += other->boundary_counts[k] * times;
}

/* mIoU, mIoU without class 0, Dice and pixel accuracy of one C x C matrix. */
static void matrix_scores(const int64_t *m, int C, double *miou, double *miou_fg, double *dice, double *acc,
                          int *n_present, double *per_class) {
    double s_iou = 0, s_fg = 0, s_dice = 0;
    int n = 0, n_fg = 0;
    int64_t total = 0, diag = 0;
    for (int c = 0; c < C; c++) {
        int64_t tp = m[(size_t)c * C + c], row = 0, col = 0;
        for (int k = 0; k < C; k++) {
            row += m[(size_t)c * C + k];
            col += m[(size_t)k * C + c];
        }
        total += row;
        diag += tp;
        if (row + col == 0) {
            if (per_class) per_class[c] = -1;
            continue;
        }
        double iou = (double)tp / (double)(row + col - tp);
        if (per_class) per_class[c] = iou;
        s_iou += iou;
        s_dice += 2.0 * (double)tp / (double)(row + col);
        n++;
        if (c > 0) {
            s_fg += iou;
            n_fg++;
        }
    }
    if (miou) *miou = n ? s_iou / n : 0;
    if (miou_fg) *miou_fg = n_fg ? s_fg / n_fg : 0;
    if (dice) *dice = n ? s_dice / n : 0;
    if (acc) *acc = total ? (double)diag / (double)total : 0;
    if (n_present) *n_present = n;
}

void tta_confusion_scores(const tta_confusion *cm, tta_seg_scores *out, double *per_class_iou) {
    if (!out) return;
    memset(out, 0, sizeof *out);
    out->boundary_miou = -1;
    if (!cm || !cm->counts) return;
    matrix_scores(cm->counts, cm->classes, &out->miou, &out->miou_fg, &out->dice, &out->pixel_accuracy,
                  &out->n_present, per_class_iou);
    if (cm->boundary_counts)
        matrix_scores(cm->boundary_counts, cm->classes, &out->boundary_miou, NULL, NULL, NULL, NULL, NULL);
}

/* ---- uncertainty quality ------------------------------------------------------------------ */

tta_status tta_unc_quality_init(tta_unc_quality *q, int bins, double max_value) {
    if (!q) return tta_errorf(TTA_ERR_INVALID_ARG, "tta_unc_quality_init: NULL argument");
    memset(q, 0, sizeof *q);
    if (bins < 1 || bins > (1 << 24))
        return tta_errorf(TTA_ERR_INVALID_ARG, "uncertainty histogram: %d bins (expected 1..%d)", bins,
                          1 << 24);
    if (!(max_value > 0) || !isfinite(max_value))
        return tta_errorf(TTA_ERR_INVALID_ARG, "uncertainty histogram: maximum value %g (expected > 0)",
                          max_value);
    q->correct = tta_calloc((size_t)bins, sizeof *q->correct);
    q->wrong = tta_calloc((size_t)bins, sizeof *q->wrong);
    if (!q->correct || !q->wrong) {
        tta_free(q->correct);
        tta_free(q->wrong);
        memset(q, 0, sizeof *q);
        return tta_errorf(TTA_ERR_NOMEM, "uncertainty histogram: out of memory for %d bins", bins);
    }
    q->bins = bins;
    q->max_value = max_value;
    return TTA_OK;
}

void tta_unc_quality_destroy(tta_unc_quality *q) {
    if (!q) return;
    tta_free(q->correct);
    tta_free(q->wrong);
    memset(q, 0, sizeof *q);
}

void tta_unc_quality_add(tta_unc_quality *q, const float *uncertainty, const uint8_t *wrong, int64_t n) {
    if (!q || !q->correct || !uncertainty || !wrong) return;
    const double scale = q->bins / q->max_value;
    const int last = q->bins - 1;
    for (int64_t i = 0; i < n; i++) {
        if (wrong[i] == 2) continue;
        double x = (double)uncertainty[i] * scale;
        int k = x >= 0 ? (x < last ? (int)x : last) : (x < 0 ? 0 : last); /* NaN: last */
        if (wrong[i])
            q->wrong[k]++;
        else
            q->correct[k]++;
    }
}

static void totals(const tta_unc_quality *q, double *n_correct, double *n_wrong) {
    int64_t c = 0, w = 0;
    for (int k = 0; k < q->bins; k++) {
        c += q->correct[k];
        w += q->wrong[k];
    }
    *n_correct = (double)c;
    *n_wrong = (double)w;
}

double tta_unc_quality_auroc(const tta_unc_quality *q) {
    if (!q || !q->correct) return -1;
    double nc, nw;
    totals(q, &nc, &nw);
    if (nc == 0 || nw == 0) return -1;
    /* pairs (wrong, correct) with the wrong pixel more uncertain, ties half; counts as exact
     * integers up to 2^53 before the division */
    double below = 0, s = 0;
    for (int k = 0; k < q->bins; k++) {
        s += (double)q->wrong[k] * (below + 0.5 * (double)q->correct[k]);
        below += (double)q->correct[k];
    }
    return s / (nw * nc);
}

double tta_unc_quality_aupr(const tta_unc_quality *q) {
    if (!q || !q->correct) return -1;
    double nc, nw;
    totals(q, &nc, &nw);
    if (nw == 0) return -1;
    double tp = 0, fp = 0, ap = 0;
    for (int k = q->bins - 1; k >= 0; k--) {
        if (!q->wrong[k] && !q->correct[k]) continue;
        tp += (double)q->wrong[k];
        fp += (double)q->correct[k];
        if (q->wrong[k]) ap += tp / (tp + fp) * ((double)q->wrong[k] / nw);
    }
    return ap;
}

double tta_unc_quality_risk(const tta_unc_quality *q, double coverage) {
    if (!q || !q->correct || !(coverage > 0 && coverage <= 1)) return -1;
    double nc, nw;
    totals(q, &nc, &nw);
    double n = nc + nw;
    if (n == 0) return -1;
    double target = coverage * n, taken = 0, errors = 0;
    for (int k = 0; k < q->bins && taken < target; k++) {
        double cnt = (double)q->correct[k] + (double)q->wrong[k];
        if (cnt == 0) continue;
        if (taken + cnt <= target) {
            taken += cnt;
            errors += (double)q->wrong[k];
        } else {
            double f = (target - taken) / cnt;
            errors += f * (double)q->wrong[k];
            taken = target;
        }
    }
    return errors / target;
}

/* ---- the mIoU bootstrap -------------------------------------------------------------------- */

/* One class of one image: its true positives and its truth and predicted pixel counts. */
typedef struct class_counts {
    int64_t tp, truth, pred;
    int c;
} class_counts;

/* The classes each image has, back to back: image i's are at[off[i] .. off[i+1]). */
typedef struct sparse_images {
    class_counts *at;
    int64_t *off;
} sparse_images;

static tta_status sparse_build(const tta_confusion *cms, int n_images, int C, sparse_images *s) {
    s->off = tta_malloc(sizeof *s->off * ((size_t)n_images + 1));
    size_t cap = (size_t)n_images * 4 + 16, n = 0;
    s->at = tta_malloc(sizeof *s->at * cap);
    int64_t *row = tta_malloc(sizeof *row * 2 * (size_t)C);
    if (!s->off || !s->at || !row) {
        tta_free(row);
        return TTA_ERR_NOMEM;
    }
    int64_t *col = row + C;
    for (int i = 0; i < n_images; i++) {
        const int64_t *m = cms[i].counts;
        memset(row, 0, sizeof *row * 2 * (size_t)C);
        for (int t = 0; t < C; t++)
            for (int p = 0; p < C; p++) {
                int64_t v = m[(size_t)t * C + p];
                row[t] += v;
                col[p] += v;
            }
        s->off[i] = (int64_t)n;
        for (int c = 0; c < C; c++) {
            if (row[c] + col[c] == 0) continue;
            if (n == cap) {
                class_counts *na = tta_realloc(s->at, sizeof *na * cap * 2);
                if (!na) {
                    tta_free(row);
                    return TTA_ERR_NOMEM;
                }
                s->at = na;
                cap *= 2;
            }
            s->at[n++] = (class_counts){m[(size_t)c * C + c], row[c], col[c], c};
        }
    }
    s->off[n_images] = (int64_t)n;
    tta_free(row);
    return TTA_OK;
}

static double sums_miou(const int64_t *tp, const int64_t *truth, const int64_t *pred, int C) {
    double s = 0;
    int n = 0;
    for (int c = 0; c < C; c++) {
        int64_t u = truth[c] + pred[c];
        if (!u) continue;
        s += (double)tp[c] / (double)(u - tp[c]);
        n++;
    }
    return n ? s / n : 0;
}

tta_status tta_miou_gain_ci(const tta_confusion *base, const tta_confusion *pol, int n_images, int n_boot,
                            uint64_t seed, double level, double *lo, double *hi) {
    if (!base || !pol || n_images < 1 || n_boot < 2 || !(level > 0 && level < 1) || !lo || !hi)
        return tta_errorf(TTA_ERR_INVALID_ARG, "mIoU bootstrap: bad arguments");
    const int C = base[0].classes;
    for (int i = 0; i < n_images; i++)
        if (!base[i].counts || !pol[i].counts || base[i].classes != C || pol[i].classes != C)
            return tta_errorf(TTA_ERR_INVALID_ARG,
                              "mIoU bootstrap: image %d's matrices are missing or not %d x %d like image 0's",
                              i, C, C);
    sparse_images sb = {0}, sp = {0};
    double *diffs = tta_malloc(sizeof *diffs * (size_t)n_boot);
    tta_status st = diffs ? TTA_OK : TTA_ERR_NOMEM;
    if (!st) st = sparse_build(base, n_images, C, &sb);
    if (!st) st = sparse_build(pol, n_images, C, &sp);
    if (!st) {
#pragma omp parallel
        {
            int64_t *acc = tta_malloc(sizeof *acc * 6 * (size_t)C);
            tta_status mine = acc ? TTA_OK : TTA_ERR_NOMEM;
#pragma omp for schedule(dynamic, 8)
            for (int r = 0; r < n_boot; r++) {
                if (mine) continue;
                uint64_t s = seed ^ (0x9e3779b97f4a7c15ULL * (uint64_t)(r + 1));
                memset(acc, 0, sizeof *acc * 6 * (size_t)C);
                int64_t *b_tp = acc, *b_t = acc + C, *b_p = acc + 2 * C;
                int64_t *p_tp = acc + 3 * C, *p_t = acc + 4 * C, *p_p = acc + 5 * C;
                for (int k = 0; k < n_images; k++) {
                    int i = (int)tta_rand_below(&s, (uint64_t)n_images);
                    for (int64_t j = sb.off[i]; j < sb.off[i + 1]; j++) {
                        const class_counts *e = &sb.at[j];
                        b_tp[e->c] += e->tp;
                        b_t[e->c] += e->truth;
                        b_p[e->c] += e->pred;
                    }
                    for (int64_t j = sp.off[i]; j < sp.off[i + 1]; j++) {
                        const class_counts *e = &sp.at[j];
                        p_tp[e->c] += e->tp;
                        p_t[e->c] += e->truth;
                        p_p[e->c] += e->pred;
                    }
                }
                diffs[r] = sums_miou(p_tp, p_t, p_p, C) - sums_miou(b_tp, b_t, b_p, C);
            }
            tta_free(acc);
#pragma omp critical
            if (mine && !st) st = mine;
        }
    }
    if (st == TTA_ERR_NOMEM) st = tta_errorf(TTA_ERR_NOMEM, "mIoU bootstrap: out of memory");
    if (!st) {
        qsort(diffs, (size_t)n_boot, sizeof *diffs, tta_cmp_double);
        *lo = tta_quantile(diffs, n_boot, (1 - level) / 2);
        *hi = tta_quantile(diffs, n_boot, 1 - (1 - level) / 2);
    }
    tta_free(sb.at);
    tta_free(sb.off);
    tta_free(sp.at);
    tta_free(sp.off);
    tta_free(diffs);
    return st;
}
