/* fuse_internal.h - what the box fusion files share: the boxes as the fusing rules see them
 * (double precision, score already weighted the way ensemble-boxes weights it for the method),
 * the per-call context with its scratch memory and per-class grids, and the IoU every rule uses.
 *
 * fuse.c validates, weights and orders the input, sizes one grid per class (fuse_index.h),
 * then calls a rule (fuse_nms.c: NMS, soft-NMS, NMW; fuse_wbf.c: WBF), which appends its boxes
 * to ctx->out. */
#ifndef TTA_DETECT_FUSE_INTERNAL_H
#define TTA_DETECT_FUSE_INTERNAL_H

#include "detect/fuse_index.h"
#include "tta/detect.h"

/* One input box that survived the prefilter (skip_thr, zero area). */
typedef struct fuse_item {
    double score;          /* weighted as upstream's prefilter for the method (see fuse.c) */
    double x1, y1, x2, y2; /* the input corners, exactly (float -> double) */
    int label, view;
    int index; /* position in the caller's array */
    int cls;   /* the class's rank among the labels present (0: the lowest label) */
} fuse_item;

/* A sort key: records compare by k1, k2, then k3 (all unsigned), then id, so sorts give one
 * order whatever the algorithm. */
typedef struct fuse_key {
    unsigned long long k1, k2;
    unsigned k3;
    int id;
} fuse_key;

/* Per-call state. All arrays point into one scratch block allocated by tta_fuse_boxes, sized
 * for the n boxes that survived the prefilter, so the rules allocate nothing. */
typedef struct fuse_ctx {
    const tta_fuse_options *opt;
    int n_views;
    const double *w; /* the caller's per-view weights, or NULL: all 1 (see fuse_weight) */
    double w_sum, w_max;
    int *mark; /* n_views stamps for counting distinct views */
    int stamp;
    int n_classes;
    fuse_grid *grid;        /* one per class */
    int *i0, *i1, *i2, *i3; /* n ints each, for the rules */
    int *cand;              /* n ints: a grid query's answer */
    double *d;              /* n * FUSE_D_PER_ITEM doubles */
    fuse_key *keys, *keys_tmp; /* n each, for fuse_sort_keys */
    tta_box *box_tmp;          /* n boxes, for fuse_sort_output */
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

/* The candidates of class cls that may have IoU > iou_thr with box b (a superset, see
 * fuse_index.h), in c->cand; returns their count. */
static inline int fuse_query_iou(fuse_ctx *c, int cls, const fuse_item *b) {
    double t = c->opt->iou_thr, w = b->x2 - b->x1, h = b->y2 - b->y1;
    double lx = fuse_grid_low(b->x1, fuse_grid_reach_iou(w, t)), ly = fuse_grid_low(b->y1, fuse_grid_reach_iou(h, t));
    double hx = fuse_grid_high(b->x1, w, t), hy = fuse_grid_high(b->y1, h, t);
    return fuse_grid_query(&c->grid[cls], lx, ly, hx < b->x2 ? hx : b->x2, hy < b->y2 ? hy : b->y2, c->cand);
}

/* Ascending key of a double: equal doubles (-0 and +0 too) give equal keys. */
static inline unsigned long long fuse_key_of(double x) {
    union {
        double d;
        unsigned long long u;
    } v = {x == 0 ? 0.0 : x};
    return v.u >> 63 ? ~v.u : v.u | 1ULL << 63;
}

/* Sorts c->keys[0..n) ascending, stably (radix sort through c->keys_tmp); ids must come in as 0..n-1. */
void fuse_sort_keys(fuse_ctx *c, int n);

/* Appends one fused box (score narrowed to float). */
tta_status fuse_emit(fuse_ctx *c, double x1, double y1, double x2, double y2, double score, int label,
                     int view, int support);

/* Sorts c->out's boxes by score, best first, ties by class, then by rule order (the order
 * they were emitted in, as long as each class's boxes were emitted together). */
void fuse_sort_output(fuse_ctx *c);

/* The rules. NMS, NMW and WBF take every box, sorted by the output order: narrowed score, best
 * first, then class, then weighted score, view and input position (so each class's boxes come
 * by score, best first, ties by view then input position); they keep per-class state and emit
 * in the final order (WBF excepted: its confidence is known only at the end). soft-NMS takes
 * one class at a time, in upstream's input order (view, then input position). */
tta_status fuse_nms(fuse_ctx *c, const fuse_item *items, int n);
tta_status fuse_nmw(fuse_ctx *c, const fuse_item *items, int n);
tta_status fuse_wbf(fuse_ctx *c, const fuse_item *items, int n);
tta_status fuse_soft_nms_class(fuse_ctx *c, const fuse_item *items, int n);

#endif
