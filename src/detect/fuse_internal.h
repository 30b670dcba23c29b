/* fuse_internal.h - what the box fusion files share: one class's boxes as the fusing rules see
 * them (double precision, score already weighted the way ensemble-boxes weights it for the
 * method), the per-call context with its scratch memory, and the IoU every rule uses.
 *
 * fuse.c validates, weights and splits the input per class, then calls one of the per-class
 * rules below (fuse_nms.c, fuse_wbf.c); each appends its boxes of the class to ctx->out. */
#ifndef TTA_DETECT_FUSE_INTERNAL_H
#define TTA_DETECT_FUSE_INTERNAL_H

#include "tta/detect.h"

/* One input box that survived the prefilter (skip_thr, zero area). */
typedef struct fuse_item {
    double score;          /* weighted as upstream's prefilter for the method (see fuse.c) */
    double x1, y1, x2, y2; /* the input corners, exactly (float -> double) */
    int label, view;
    int index; /* position in the caller's array */
} fuse_item;

/* Per-call state. All arrays point into one scratch block allocated by tta_fuse_boxes, sized
 * for every box that survived the prefilter (n below), so the rules allocate nothing. */
typedef struct fuse_ctx {
    const tta_fuse_options *opt;
    int n_views;
    const double *w; /* the caller's per-view weights, or NULL: all 1 (see fuse_weight) */
    double w_sum, w_max;
    int *mark; /* n_views stamps for counting distinct views */
    int stamp;
    int *i0, *i1, *i2; /* n ints each */
    double *d;         /* n * FUSE_D_PER_ITEM doubles */
    tta_boxes *out;
} fuse_ctx;

#define FUSE_D_PER_ITEM 12

/* Weight of view v (1 without weights). NMS and soft-NMS scale scores only when c->w is set. */
static inline double fuse_weight(const fuse_ctx *c, int v) { return c->w ? c->w[v] : 1.0; }

/* Starts a new set of distinct views; fuse_view_add returns 1 the first time a view is seen in it. */
static inline void fuse_views_begin(fuse_ctx *c) { c->stamp++; }
static inline int fuse_view_add(fuse_ctx *c, int view) {
    if (c->mark[view] == c->stamp) return 0;
    c->mark[view] = c->stamp;
    return 1;
}

/* IoU as ensemble-boxes computes it (bb_intersection_over_union and its numpy twins): the
 * intersection from clamped widths, 0 when empty, else inter / (area_a + area_b - inter). */
static inline double fuse_iou(double ax1, double ay1, double ax2, double ay2, double bx1, double by1,
                              double bx2, double by2) {
    double xa = ax1 > bx1 ? ax1 : bx1, ya = ay1 > by1 ? ay1 : by1;
    double xb = ax2 < bx2 ? ax2 : bx2, yb = ay2 < by2 ? ay2 : by2;
    double iw = xb - xa, ih = yb - ya;
    if (iw <= 0 || ih <= 0) return 0.0;
    double inter = iw * ih;
    double area_a = (ax2 - ax1) * (ay2 - ay1), area_b = (bx2 - bx1) * (by2 - by1);
    return inter / (area_a + area_b - inter);
}

static inline double fuse_item_iou(const fuse_item *a, const fuse_item *b) {
    return fuse_iou(a->x1, a->y1, a->x2, a->y2, b->x1, b->y1, b->x2, b->y2);
}

/* Appends one fused box (score narrowed to float). */
tta_status fuse_emit(fuse_ctx *c, double x1, double y1, double x2, double y2, double score, int label,
                     int view, int support);

/* The per-class rules: items[0..n) are one class's boxes. NMS, NMW and WBF expect them sorted
 * by score, best first (ties: view, then input position); soft-NMS expects upstream's input
 * order (view, then input position). */
tta_status fuse_nms_class(fuse_ctx *c, fuse_item *items, int n);
tta_status fuse_soft_nms_class(fuse_ctx *c, fuse_item *items, int n);
tta_status fuse_nmw_class(fuse_ctx *c, fuse_item *items, int n);
tta_status fuse_wbf_class(fuse_ctx *c, fuse_item *items, int n);

#endif
