/* fuse.c - fusing the boxes of several views (or models) of one image: option defaults and
 * names, input validation, the per-method prefilter that weights scores exactly as
 * ensemble-boxes does, the split per class, dispatch to the rules (fuse_nms.c: NMS, soft-NMS,
 * NMW; fuse_wbf.c: WBF), and the final ordering and max_det.
 *
 * Scores as each rule sees them (ensemble-boxes 1.0.x, see scripts/ref_ensemble_boxes.py):
 *   WBF      skip when score < skip_thr; then score * w[view]                (prefilter_boxes)
 *   NMW      s = score * w[view] / sum(w); skip when s < skip_thr; then s * w[view] (upstream
 *            weights twice: once in non_maximum_weighted, once in its prefilter_boxes)
 *   NMS, soft-NMS  score * w[view] / sum(w) when weights are given, the raw score when weights
 *            is NULL (nms_method's weights=None). Upstream has no skip_thr here; ours drops
 *            raw scores below it (a no-op at the default 0).
 * A NULL `weights` is upstream's weights=None: all 1 for WBF and NMW, no scaling for NMS.
 *
 * support (tta_box.support) counts distinct views:
 *   WBF, NMW   among the boxes of the cluster;
 *   NMS        the kept box and every box it suppressed (IoU > iou_thr);
 *   soft-NMS   the kept box and every later box whose IoU with it is > iou_thr when it was
 *              selected (those it decayed, for the linear kind; the Gaussian kind decays every
 *              overlapping box but only those above iou_thr count), whether or not they survive.
 * The view of a fused box is that of its cluster's best box (for NMS and soft-NMS, its own).
 *
 * Order: within a class boxes go by weighted score, best first, ties by view then position in
 * the caller's array (upstream's argsort is not stable; soft-NMS starts from upstream's
 * concatenated order: view, then position). The result is sorted by score, best first, ties by
 * class, then by the order the rule produced them.
 *
 * Memory: one scratch block per call (items, three int arrays and 12 doubles per surviving
 * box, one stamp per view, a copy of the output for the final merge sort); the output list is
 * reserved once. No static mutable state: calls on different threads are independent. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "detect/fuse_internal.h"
#include "tta/tensor.h"

/* ---- options and names ------------------------------------------------------------------ */

void tta_fuse_options_default(tta_fuse_options *o, tta_fuse_method method) {
    if (!o) return;
    memset(o, 0, sizeof *o);
    o->method = method;
    o->iou_thr = method == TTA_FUSE_NMS || method == TTA_FUSE_SOFT_NMS ? 0.5f : 0.55f;
    o->skip_thr = 0.0f;
    o->soft_kind = TTA_SOFT_NMS_GAUSSIAN;
    o->sigma = 0.5f;
    o->score_thr = 0.001f;
    o->conf_type = TTA_WBF_CONF_AVG;
    o->allows_overflow = 0;
    o->max_det = 0;
}

static const char *method_names[] = {"nms", "soft-nms", "nmw", "wbf"};

const char *tta_fuse_method_name(tta_fuse_method method) {
    return (unsigned)method < sizeof method_names / sizeof method_names[0] ? method_names[method] : "unknown";
}

tta_status tta_fuse_method_parse(const char *name, tta_fuse_method *method, tta_soft_nms_kind *kind) {
    static const struct {
        const char *name;
        tta_fuse_method method;
        int kind; /* -1: not soft-NMS */
    } names[] = {{"nms", TTA_FUSE_NMS, -1},
                 {"soft-nms", TTA_FUSE_SOFT_NMS, TTA_SOFT_NMS_GAUSSIAN},
                 {"soft-nms-gaussian", TTA_FUSE_SOFT_NMS, TTA_SOFT_NMS_GAUSSIAN},
                 {"soft-nms-linear", TTA_FUSE_SOFT_NMS, TTA_SOFT_NMS_LINEAR},
                 {"nmw", TTA_FUSE_NMW, -1},
                 {"wbf", TTA_FUSE_WBF, -1}};
    if (!name || !method) return tta_errorf(TTA_ERR_INVALID_ARG, "tta_fuse_method_parse: NULL argument");
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (!strcmp(name, names[i].name)) {
            *method = names[i].method;
            if (names[i].kind >= 0 && kind) *kind = (tta_soft_nms_kind)names[i].kind;
            return TTA_OK;
        }
    return tta_errorf(
        TTA_ERR_INVALID_ARG,
        "unknown fusion method '%s' (known: nms, soft-nms, soft-nms-gaussian, soft-nms-linear, nmw, wbf)",
        name);
}

static const char *conf_names[] = {"avg", "max", "box_and_model_avg", "absent_model_aware_avg"};

const char *tta_wbf_conf_name(tta_wbf_conf conf) {
    return (unsigned)conf < sizeof conf_names / sizeof conf_names[0] ? conf_names[conf] : "unknown";
}

tta_status tta_wbf_conf_parse(const char *name, tta_wbf_conf *conf, int *allows_overflow) {
    if (!name || !conf) return tta_errorf(TTA_ERR_INVALID_ARG, "tta_wbf_conf_parse: NULL argument");
    for (size_t i = 0; i < sizeof conf_names / sizeof conf_names[0]; i++)
        if (!strcmp(name, conf_names[i])) {
            *conf = (tta_wbf_conf)i;
            if (allows_overflow) *allows_overflow = 0;
            return TTA_OK;
        }
    if (!strcmp(name, "allows_overflow")) {
        *conf = TTA_WBF_CONF_AVG;
        if (allows_overflow) *allows_overflow = 1;
        return TTA_OK;
    }
    return tta_errorf(
        TTA_ERR_INVALID_ARG,
        "unknown WBF confidence '%s' (known: avg, max, box_and_model_avg, absent_model_aware_avg, "
        "allows_overflow)",
        name);
}

/* ---- helpers shared with the rules --------------------------------------------------------- */

tta_status fuse_emit(fuse_ctx *c, double x1, double y1, double x2, double y2, double score, int label,
                     int view, int support) {
    tta_box b = {(float)x1, (float)y1, (float)x2, (float)y2, (float)score, label, view, support};
    return tta_boxes_push(c->out, &b);
}

/* ---- validation ----------------------------------------------------------------------------- */

static tta_status check_options(const tta_fuse_options *o) {
    if ((unsigned)o->method > TTA_FUSE_WBF)
        return tta_errorf(TTA_ERR_INVALID_ARG, "tta_fuse_boxes: unknown method %d", (int)o->method);
    if (isnan(o->iou_thr)) return tta_errorf(TTA_ERR_INVALID_ARG, "tta_fuse_boxes: iou_thr is NaN");
    if (isnan(o->skip_thr)) return tta_errorf(TTA_ERR_INVALID_ARG, "tta_fuse_boxes: skip_thr is NaN");
    if (o->max_det < 0) return tta_errorf(TTA_ERR_INVALID_ARG, "tta_fuse_boxes: max_det %d < 0", o->max_det);
    if (o->method == TTA_FUSE_SOFT_NMS) {
        if ((unsigned)o->soft_kind > TTA_SOFT_NMS_LINEAR)
            return tta_errorf(TTA_ERR_INVALID_ARG, "tta_fuse_boxes: unknown soft-NMS kind %d",
                              (int)o->soft_kind);
        if (o->soft_kind == TTA_SOFT_NMS_GAUSSIAN && !(o->sigma > 0 && isfinite(o->sigma)))
            return tta_errorf(TTA_ERR_INVALID_ARG, "tta_fuse_boxes: soft-NMS sigma %g must be > 0", o->sigma);
        if (isnan(o->score_thr)) return tta_errorf(TTA_ERR_INVALID_ARG, "tta_fuse_boxes: score_thr is NaN");
    }
    if (o->method == TTA_FUSE_WBF && (unsigned)o->conf_type > TTA_WBF_CONF_ABSENT_MODEL_AWARE_AVG)
        return tta_errorf(TTA_ERR_INVALID_ARG, "tta_fuse_boxes: unknown WBF conf_type %d", (int)o->conf_type);
    return TTA_OK;
}

static tta_status check_box(const tta_box *b, int i, int n_views) {
    if (b->view < 0 || b->view >= n_views)
        return tta_errorf(TTA_ERR_INVALID_ARG, "tta_fuse_boxes: box %d has view %d outside [0, %d)", i,
                          b->view, n_views);
    if (!isfinite(b->score))
        return tta_errorf(TTA_ERR_INVALID_ARG, "tta_fuse_boxes: box %d has score %g", i, b->score);
    if (!isfinite(b->x1) || !isfinite(b->y1) || !isfinite(b->x2) || !isfinite(b->y2))
        return tta_errorf(TTA_ERR_INVALID_ARG,
                          "tta_fuse_boxes: box %d has a non-finite corner (%g, %g, %g, %g)", i, b->x1, b->y1,
                          b->x2, b->y2);
    if (b->x2 < b->x1 || b->y2 < b->y1)
        return tta_errorf(TTA_ERR_INVALID_ARG,
                          "tta_fuse_boxes: box %d is inverted (%g, %g, %g, %g): need x1 <= x2, y1 <= y2", i,
                          b->x1, b->y1, b->x2, b->y2);
    return TTA_OK;
}

/* ---- prefilter and ordering --------------------------------------------------------------- */

/* The score the rule sees for box b, or NAN when the prefilter drops it. */
static double weighted_score(const fuse_ctx *c, const tta_box *b) {
    double s = b->score, w = fuse_weight(c, b->view);
    if ((double)(b->x2 - b->x1) * (double)(b->y2 - b->y1) == 0.0) return NAN; /* zero area: skipped */
    switch (c->opt->method) {
    case TTA_FUSE_WBF:
        if (s < c->opt->skip_thr) return NAN;
        return s * w;
    case TTA_FUSE_NMW:
        s = s * w / c->w_sum;
        if (s < c->opt->skip_thr) return NAN;
        return s * w;
    default: /* NMS, soft-NMS */
        if (s < c->opt->skip_thr) return NAN;
        return c->w ? s * w / c->w_sum : s;
    }
}

static int cmp_by_score(const void *pa, const void *pb) {
    const fuse_item *a = pa, *b = pb;
    if (a->label != b->label) return a->label < b->label ? -1 : 1;
    if (a->score != b->score) return a->score > b->score ? -1 : 1;
    if (a->view != b->view) return a->view < b->view ? -1 : 1;
    return (a->index > b->index) - (a->index < b->index);
}

static int cmp_by_input(const void *pa, const void *pb) {
    const fuse_item *a = pa, *b = pb;
    if (a->label != b->label) return a->label < b->label ? -1 : 1;
    if (a->view != b->view) return a->view < b->view ? -1 : 1;
    return (a->index > b->index) - (a->index < b->index);
}

/* Stable merge sort by score, best first (equal scores keep the rules' order: class, then position). */
static void sort_output(tta_box *b, tta_box *tmp, int n) {
    tta_box *src = b, *dst = tmp;
    for (int width = 1; width < n; width *= 2) {
        for (int lo = 0; lo < n; lo += 2 * width) {
            int mid = lo + width < n ? lo + width : n, hi = lo + 2 * width < n ? lo + 2 * width : n;
            int i = lo, j = mid, k = lo;
            while (i < mid && j < hi)
                dst[k++] = src[j].score > src[i].score ? src[j++] : src[i++];
            while (i < mid)
                dst[k++] = src[i++];
            while (j < hi)
                dst[k++] = src[j++];
        }
        tta_box *t = src;
        src = dst;
        dst = t;
    }
    if (src != b) memcpy(b, src, sizeof *b * (size_t)n);
}

static size_t align_up(size_t x) { return (x + 15) & ~(size_t)15; }

/* ---- the entry point ------------------------------------------------------------------------- */

tta_status tta_fuse_boxes(const tta_box *boxes, int n, int n_views, const double *weights,
                          const tta_fuse_options *opt, tta_boxes *out) {
    if (!out) return tta_errorf(TTA_ERR_INVALID_ARG, "tta_fuse_boxes: out is NULL");
    tta_boxes_clear(out);
    if (!opt) return tta_errorf(TTA_ERR_INVALID_ARG, "tta_fuse_boxes: options are NULL");
    if (n < 0 || (n > 0 && !boxes))
        return tta_errorf(TTA_ERR_INVALID_ARG, "tta_fuse_boxes: bad box array (%d boxes at %p)", n,
                          (const void *)boxes);
    if (n_views < 1) return tta_errorf(TTA_ERR_INVALID_ARG, "tta_fuse_boxes: n_views %d < 1", n_views);
    TTA_TRY(check_options(opt));
    if (weights)
        for (int v = 0; v < n_views; v++)
            if (!(weights[v] > 0 && isfinite(weights[v])))
                return tta_errorf(TTA_ERR_INVALID_ARG, "tta_fuse_boxes: weight %g of view %d must be > 0",
                                  weights[v], v);
    for (int i = 0; i < n; i++)
        TTA_TRY(check_box(&boxes[i], i, n_views));

    fuse_ctx c = {.opt = opt, .n_views = n_views, .w = weights, .out = out};
    c.w_sum = 0;
    c.w_max = 0;
    for (int v = 0; v < n_views; v++) {
        double wv = fuse_weight(&c, v);
        c.w_sum += wv;
        if (wv > c.w_max) c.w_max = wv;
    }
    int m = 0;
    for (int i = 0; i < n; i++)
        m += !isnan(weighted_score(&c, &boxes[i]));

    /* one scratch block: items, a copy of the output for the merge sort, the rules' doubles,
       the rules' ints, the views' stamps */
    size_t off_out = align_up(sizeof(fuse_item) * (size_t)m);
    size_t off_d = align_up(off_out + sizeof(tta_box) * (size_t)m);
    size_t off_i = align_up(off_d + sizeof(double) * FUSE_D_PER_ITEM * (size_t)m);
    size_t off_mark = align_up(off_i + sizeof(int) * 3 * (size_t)m);
    size_t total = off_mark + sizeof(int) * (size_t)n_views;
    char *blk = tta_malloc(total);
    if (!blk) return tta_errorf(TTA_ERR_NOMEM, "tta_fuse_boxes: out of memory for %d boxes", m);
    fuse_item *items = (fuse_item *)blk;
    tta_box *tmp = (tta_box *)(blk + off_out);
    c.d = (double *)(blk + off_d);
    c.i0 = (int *)(blk + off_i);
    c.i1 = c.i0 + m;
    c.i2 = c.i1 + m;
    c.mark = (int *)(blk + off_mark);
    memset(c.mark, 0, sizeof(int) * (size_t)n_views);
    c.stamp = 0;

    tta_status st = tta_boxes_reserve(out, m);
    if (st != TTA_OK) goto done;

    int k = 0;
    for (int i = 0; i < n; i++) {
        double s = weighted_score(&c, &boxes[i]);
        if (isnan(s)) continue;
        const tta_box *b = &boxes[i];
        items[k++] = (fuse_item){s, b->x1, b->y1, b->x2, b->y2, b->label, b->view, i};
    }
    qsort(items, (size_t)m, sizeof *items, opt->method == TTA_FUSE_SOFT_NMS ? cmp_by_input : cmp_by_score);

    for (int lo = 0; lo < m;) {
        int hi = lo + 1;
        while (hi < m && items[hi].label == items[lo].label)
            hi++;
        switch (opt->method) {
        case TTA_FUSE_NMS: st = fuse_nms_class(&c, items + lo, hi - lo); break;
        case TTA_FUSE_SOFT_NMS: st = fuse_soft_nms_class(&c, items + lo, hi - lo); break;
        case TTA_FUSE_NMW: st = fuse_nmw_class(&c, items + lo, hi - lo); break;
        case TTA_FUSE_WBF: st = fuse_wbf_class(&c, items + lo, hi - lo); break;
        }
        if (st != TTA_OK) goto done;
        lo = hi;
    }
    if (out->n > m) {
        st = tta_errorf(TTA_ERR_INTERNAL, "tta_fuse_boxes: %d boxes out of %d in", out->n, m);
        goto done;
    }
    sort_output(out->box, tmp, out->n);
    if (opt->max_det > 0 && out->n > opt->max_det) out->n = opt->max_det;

done:
    if (st != TTA_OK) tta_boxes_clear(out);
    tta_free(blk);
    return st;
}
