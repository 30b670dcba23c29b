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
 * Cost: one sort of the boxes (by the output order, or by class and input order for soft-NMS),
 * then each rule tests a box only against the boxes of its class that could overlap it, found
 * in a grid per class (fuse_index.h), so the work grows with the boxes and their overlaps, not
 * with their square. NMS and NMW emit in the final order; WBF and soft-NMS sort their output.
 *
 * Memory: one scratch block per call (two copies of the boxes, sort keys, int and double
 * arrays for the rules, one grid per class, one stamp per view); the output list is reserved
 * once. No static mutable state: calls on different threads are independent. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/error.h"
#include "detect/score_key.h"
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

static int key_before(const fuse_key *a, const fuse_key *b) {
    if (a->k1 != b->k1) return a->k1 < b->k1;
    if (a->k2 != b->k2) return a->k2 < b->k2;
    if (a->k3 != b->k3) return a->k3 < b->k3;
    return a->id < b->id;
}

/* One stable counting pass on the byte at `shift` of key part `part` (0: k1, 1: k2, 2: k3). */
static void radix_pass(const fuse_key *src, fuse_key *dst, int n, int part, int shift) {
    int count[256] = {0};
#define FUSE_BYTE(k) (unsigned)((part == 0 ? (k).k1 : part == 1 ? (k).k2 : (unsigned long long)(k).k3) >> shift & 255)
    for (int i = 0; i < n; i++)
        count[FUSE_BYTE(src[i])]++;
    for (int b = 0, at = 0; b < 256; b++) {
        int k = count[b];
        count[b] = at;
        at += k;
    }
    for (int i = 0; i < n; i++)
        dst[count[FUSE_BYTE(src[i])]++] = src[i];
#undef FUSE_BYTE
}

/* Stable and branch-free where it matters: short arrays by insertion, longer ones by a
 * least-significant-digit radix sort over the bytes of k3, k2 and k1 that differ between
 * records (bytes every key shares are skipped: a float score widened to double leaves most of
 * k2's low bytes equal). The callers number the records 0..n-1 in `id`, so stability gives the
 * id order among equal keys. A comparison sort cost a third of the detection post-processing
 * in mispredicted branches. */
void fuse_sort_keys(fuse_ctx *c, int n) {
    fuse_key *k = c->keys;
    if (n <= 32) {
        for (int i = 1; i < n; i++) {
            fuse_key x = k[i];
            int j = i;
            for (; j > 0 && key_before(&x, &k[j - 1]); j--)
                k[j] = k[j - 1];
            k[j] = x;
        }
        return;
    }
    unsigned long long and1 = ~0ULL, or1 = 0, and2 = ~0ULL, or2 = 0;
    unsigned and3 = ~0u, or3 = 0;
    for (int i = 0; i < n; i++) {
        and1 &= k[i].k1, or1 |= k[i].k1;
        and2 &= k[i].k2, or2 |= k[i].k2;
        and3 &= k[i].k3, or3 |= k[i].k3;
    }
    const unsigned long long diff[3] = {and1 ^ or1, and2 ^ or2, and3 ^ or3};
    fuse_key *src = k, *dst = c->keys_tmp;
    for (int part = 2; part >= 0; part--)
        for (int shift = 0; shift < (part == 2 ? 32 : 64); shift += 8) {
            if (!(diff[part] >> shift & 255)) continue;
            radix_pass(src, dst, n, part, shift);
            fuse_key *t = src;
            src = dst;
            dst = t;
        }
    if (src != k) memcpy(k, src, sizeof *src * (size_t)n);
}


void fuse_sort_output(fuse_ctx *c) {
    tta_box *b = c->out->box;
    int n = c->out->n;
    for (int i = 0; i < n; i++)
        c->keys[i] = (fuse_key){~det_float_key(b[i].score), (unsigned)b[i].label ^ 0x80000000u, 0, i};
    fuse_sort_keys(c, n);
    memcpy(c->box_tmp, b, sizeof *b * (size_t)n);
    for (int i = 0; i < n; i++)
        b[i] = c->box_tmp[c->keys[i].id];
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

/* ---- prefilter, classes and ordering -------------------------------------------------------- */

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

/* Sets items[].cls, the rank of each item's label among the labels present, and returns the
 * number of classes: a table over the label range when it is small (the usual 0..C-1), else a
 * sort of the labels. `table` holds table_size ints. */
static int rank_labels(fuse_ctx *c, fuse_item *items, int m, int lo, int hi, int *table, long table_size) {
    if (m == 0) return 0;
    if ((long)hi - lo < table_size) {
        long range = (long)hi - lo + 1;
        for (long k = 0; k < range; k++)
            table[k] = -1;
        for (int i = 0; i < m; i++)
            table[items[i].label - (long)lo] = 0;
        int n_cls = 0;
        for (long k = 0; k < range; k++)
            if (table[k] == 0) table[k] = n_cls++;
        for (int i = 0; i < m; i++)
            items[i].cls = table[items[i].label - (long)lo];
        return n_cls;
    }
    for (int i = 0; i < m; i++)
        c->keys[i] = (fuse_key){(unsigned)items[i].label ^ 0x80000000u, 0, 0, i};
    fuse_sort_keys(c, m);
    int n_cls = 0;
    for (int i = 0; i < m; i++) {
        if (i > 0 && items[c->keys[i].id].label != items[c->keys[i - 1].id].label) n_cls++;
        items[c->keys[i].id].cls = n_cls;
    }
    return n_cls + 1;
}

/* One grid per class, sized from the class's boxes. */
static void init_grids(fuse_ctx *c, const fuse_item *items, int m, fuse_extent *ext, int *cells) {
    for (int k = 0; k < c->n_classes; k++)
        ext[k] = (fuse_extent){INFINITY, INFINITY, -INFINITY, -INFINITY, 0, 0, 0};
    for (int i = 0; i < m; i++) {
        const fuse_item *b = &items[i];
        fuse_extent *e = &ext[b->cls];
        if (b->x1 < e->x1) e->x1 = b->x1;
        if (b->y1 < e->y1) e->y1 = b->y1;
        if (b->x2 > e->x2) e->x2 = b->x2;
        if (b->y2 > e->y2) e->y2 = b->y2;
        e->sum_w += b->x2 - b->x1;
        e->sum_h += b->y2 - b->y1;
        e->n++;
    }
    /* the IoU bound (fuse_index.h) narrows little below this threshold; soft-NMS needs only
       intersections, unless its threshold is negative (then disjoint boxes count too) */
    double thr = c->opt->iou_thr;
    int plain = c->opt->method == TTA_FUSE_SOFT_NMS ? !(thr >= 0) : !(thr >= 0.05);
    for (int k = 0; k < c->n_classes; k++) {
        fuse_grid_init(&c->grid[k], &ext[k], plain, cells);
        cells += fuse_grid_cells_max(ext[k].n);
    }
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
    int lab_lo = 0, lab_hi = 0;
    for (int i = 0; i < n; i++) {
        TTA_TRY(check_box(&boxes[i], i, n_views));
        if (i == 0 || boxes[i].label < lab_lo) lab_lo = boxes[i].label;
        if (i == 0 || boxes[i].label > lab_hi) lab_hi = boxes[i].label;
    }

    fuse_ctx c = {.opt = opt, .n_views = n_views, .w = weights, .out = out};
    c.w_sum = 0;
    c.w_max = 0;
    for (int v = 0; v < n_views; v++) {
        double wv = fuse_weight(&c, v);
        c.w_sum += wv;
        if (wv > c.w_max) c.w_max = wv;
    }

    /* one scratch block, sized for all n boxes (the prefilter's survivors are counted while
       they are copied): two copies of the items, sort keys twice, a copy of the output, the
       rules' doubles, 8 int arrays (the rules', the query's, the grids' links), the label
       table, the per-class extents and grids, the grids' cells, the views' stamps */
    size_t nn = (size_t)n + 1;
    size_t n_d = opt->method == TTA_FUSE_WBF ? FUSE_D_PER_ITEM : 1;
    long table_size = 2 * (long)n + 64;
    size_t off_sorted = align_up(sizeof(fuse_item) * nn);
    size_t off_keys = off_sorted + align_up(sizeof(fuse_item) * nn);
    size_t off_box = off_keys + 2 * align_up(sizeof(fuse_key) * nn);
    size_t off_d = off_box + align_up(sizeof(tta_box) * nn);
    size_t off_i = off_d + align_up(sizeof(double) * n_d * nn);
    size_t off_table = off_i + align_up(sizeof(int) * 8 * nn);
    size_t off_ext = off_table + align_up(sizeof(int) * (size_t)table_size);
    size_t off_grid = off_ext + align_up(sizeof(fuse_extent) * nn);
    size_t off_cells = off_grid + align_up(sizeof(fuse_grid) * nn);
    size_t off_mark = off_cells + align_up(sizeof(int) * (size_t)(4 * nn + 2 * nn));
    size_t total = off_mark + sizeof(int) * (size_t)n_views;
    char *blk = tta_malloc(total);
    if (!blk) return tta_errorf(TTA_ERR_NOMEM, "tta_fuse_boxes: out of memory for %d boxes", n);
    fuse_item *items = (fuse_item *)blk, *sorted = (fuse_item *)(blk + off_sorted);
    c.keys = (fuse_key *)(blk + off_keys);
    c.keys_tmp = c.keys + nn;
    c.box_tmp = (tta_box *)(blk + off_box);
    c.d = (double *)(blk + off_d);
    c.i0 = (int *)(blk + off_i);
    c.i1 = c.i0 + nn;
    c.i2 = c.i1 + nn;
    c.i3 = c.i2 + nn;
    c.cand = c.i3 + nn;
    int *next = c.cand + nn, *prev = next + nn, *cell = prev + nn;
    c.grid = (fuse_grid *)(blk + off_grid);
    c.mark = (int *)(blk + off_mark);
    memset(c.mark, 0, sizeof(int) * (size_t)n_views);
    c.stamp = 0;

    int m = 0;
    for (int i = 0; i < n; i++) {
        double s = weighted_score(&c, &boxes[i]);
        if (isnan(s)) continue;
        const tta_box *b = &boxes[i];
        items[m++] = (fuse_item){s, b->x1, b->y1, b->x2, b->y2, b->label, b->view, i, 0};
    }
    tta_status st = tta_boxes_reserve(out, m);
    if (st != TTA_OK) goto done;
    c.n_classes = rank_labels(&c, items, m, lab_lo, lab_hi, (int *)(blk + off_table), table_size);
    init_grids(&c, items, m, (fuse_extent *)(blk + off_ext), (int *)(blk + off_cells));
    for (int k = 0; k < c.n_classes; k++) {
        c.grid[k].next = next;
        c.grid[k].prev = prev;
        c.grid[k].cell = cell;
    }

    /* the order the rule reads the boxes in (see fuse_internal.h); when every weighted score is
       a float (no weights, or weights that keep it one) the double key can add no order to the
       float key, and leaving it 0 spares the radix sort its bytes */
    int float_exact = 1;
    for (int i = 0; i < m && float_exact; i++) float_exact = (double)(float)items[i].score == items[i].score;
    for (int i = 0; i < m; i++) {
        const fuse_item *b = &items[i];
        if (opt->method == TTA_FUSE_SOFT_NMS)
            c.keys[i] = (fuse_key){(unsigned)b->cls, 0, (unsigned)b->view, i};
        else
            c.keys[i] = (fuse_key){(unsigned long long)~det_float_key((float)b->score) << 32 | (unsigned)b->cls,
                                   float_exact ? 0 : ~fuse_key_of(b->score), (unsigned)b->view, i};
    }
    fuse_sort_keys(&c, m);
    for (int i = 0; i < m; i++)
        sorted[i] = items[c.keys[i].id];

    switch (opt->method) {
    case TTA_FUSE_NMS: st = fuse_nms(&c, sorted, m); break;
    case TTA_FUSE_NMW: st = fuse_nmw(&c, sorted, m); break;
    case TTA_FUSE_WBF: st = fuse_wbf(&c, sorted, m); break;
    case TTA_FUSE_SOFT_NMS:
        for (int lo = 0; lo < m && st == TTA_OK;) {
            int hi = lo + 1;
            while (hi < m && sorted[hi].cls == sorted[lo].cls)
                hi++;
            st = fuse_soft_nms_class(&c, sorted + lo, hi - lo);
            lo = hi;
        }
        break;
    }
    if (st != TTA_OK) goto done;
    if (out->n > m) {
        st = tta_errorf(TTA_ERR_INTERNAL, "tta_fuse_boxes: %d boxes out of %d in", out->n, m);
        goto done;
    }
    if (opt->method == TTA_FUSE_WBF || opt->method == TTA_FUSE_SOFT_NMS) fuse_sort_output(&c);
    if (opt->max_det > 0 && out->n > opt->max_det) out->n = opt->max_det;

done:
    if (st != TTA_OK) tta_boxes_clear(out);
    tta_free(blk);
    return st;
}
