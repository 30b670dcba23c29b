/* fuse_wbf.c - weighted boxes fusion (Solovyev et al.), one class at a time: a transliteration
 * of ensemble-boxes' weighted_boxes_fusion (ZFTurbo/Weighted-Boxes-Fusion,
 * ensemble_boxes/ensemble_boxes_wbf.py: find_matching_box_fast, get_weighted_box and the
 * confidence rescaling per conf_type). fuse.c has already multiplied each score by its view's
 * weight, dropped boxes below skip_thr and of zero area, and sorted the boxes in the output
 * order (so each class's boxes come by score, best first).
 *
 * Each class's running fused boxes are filed in its grid (fuse_index.h) and re-filed when a
 * box joins and moves them, so a box is matched only against the fused boxes that could
 * overlap it; ties still go to the first cluster, as upstream's scan. The clusters are made
 * in the output order, not class by class; fuse_sort_output orders the result by confidence,
 * then class, then cluster.
 *
 * Upstream recomputes a cluster's fused box from all its boxes each time one joins; we keep
 * running sums in the same order, which gives the same box up to rounding (upstream rounds
 * the fused box to float32 at each step; we stay in double). */
#include "core/error.h"
#include "detect/fuse_internal.h"

/* per cluster, in c->d: */
enum {
    W_CONF, /* sum of weighted scores */
    W_SX1,  /* sums of score * corner */
    W_SY1,
    W_SX2,
    W_SY2,
    W_MAX,  /* best weighted score */
    W_WSUM, /* sum of the boxes' view weights (a view counted once per box) */
    W_X1,   /* the fused box the next boxes are matched against */
    W_Y1,
    W_X2,
    W_Y2,
    W_COUNT /* boxes in the cluster */
};

tta_status fuse_wbf(fuse_ctx *c, const fuse_item *it, int n) {
    int *head = c->i0, *tail = c->i1, *next = c->i2;
    const tta_fuse_options *o = c->opt;
    double thr = o->iou_thr;
    int ncl = 0;
    for (int j = 0; j < n; j++) {
        const fuse_item *b = &it[j];
        double wv = fuse_weight(c, b->view);
        fuse_grid *g = &c->grid[b->cls];
        /* find_matching_box_fast: the first fused box of highest IoU, if that IoU > iou_thr */
        int best = -1, nc = fuse_query_iou(c, b->cls, b);
        double best_iou = thr;
        for (int q = 0; q < nc; q++) {
            int k = c->cand[q];
            const double *f = c->d + (size_t)k * FUSE_D_PER_ITEM;
            double iou = fuse_iou(f[W_X1], f[W_Y1], f[W_X2], f[W_Y2], b->x1, b->y1, b->x2, b->y2);
            if (iou > best_iou || (iou == best_iou && best >= 0 && k < best)) {
                best = k;
                best_iou = iou;
            }
        }
        next[j] = -1;
        if (best < 0) { /* a new cluster: the box itself, as upstream's vstack of the box row */
            double *f = c->d + (size_t)ncl * FUSE_D_PER_ITEM;
            f[W_CONF] = b->score;
            f[W_SX1] = b->score * b->x1;
            f[W_SY1] = b->score * b->y1;
            f[W_SX2] = b->score * b->x2;
            f[W_SY2] = b->score * b->y2;
            f[W_MAX] = b->score;
            f[W_WSUM] = wv;
            f[W_X1] = b->x1;
            f[W_Y1] = b->y1;
            f[W_X2] = b->x2;
            f[W_Y2] = b->y2;
            f[W_COUNT] = 1;
            head[ncl] = tail[ncl] = j;
            fuse_grid_insert(g, ncl, b->x1, b->y1, b->x2, b->y2, 0);
            ncl++;
            continue;
        }
        /* get_weighted_box over the cluster with the new box */
        double *f = c->d + (size_t)best * FUSE_D_PER_ITEM;
        f[W_CONF] += b->score;
        f[W_SX1] += b->score * b->x1;
        f[W_SY1] += b->score * b->y1;
        f[W_SX2] += b->score * b->x2;
        f[W_SY2] += b->score * b->y2;
        if (b->score > f[W_MAX]) f[W_MAX] = b->score;
        f[W_WSUM] += wv;
        f[W_X1] = f[W_SX1] / f[W_CONF];
        f[W_Y1] = f[W_SY1] / f[W_CONF];
        f[W_X2] = f[W_SX2] / f[W_CONF];
        f[W_Y2] = f[W_SY2] / f[W_CONF];
        f[W_COUNT] += 1;
        next[tail[best]] = j;
        tail[best] = j;
        if (g->cell[best] >= 0) fuse_grid_move(g, best, f[W_X1], f[W_Y1], f[W_X2], f[W_Y2]);
    }

    /* rescale the confidence by the number of views and boxes, per conf_type */
    for (int k = 0; k < ncl; k++) {
        const double *f = c->d + (size_t)k * FUSE_D_PER_ITEM;
        double count = f[W_COUNT];
        double mean = f[W_CONF] / count;
        double present = 0; /* the weights of the distinct views in the cluster */
        fuse_views_begin(c);
        int support = 0;
        for (int j = head[k]; j >= 0; j = next[j])
            if (fuse_view_add(c, it[j].view)) {
                support++;
                present += fuse_weight(c, it[j].view);
            }
        double conf;
        switch (o->conf_type) {
        case TTA_WBF_CONF_BOX_AND_MODEL_AVG: conf = mean * count / f[W_WSUM] * present / c->w_sum; break;
        case TTA_WBF_CONF_ABSENT_MODEL_AWARE_AVG: {
            double absent = 0;
            for (int v = 0; v < c->n_views; v++)
                if (c->mark[v] != c->stamp) absent += fuse_weight(c, v);
            conf = mean * count / (f[W_WSUM] + absent);
            break;
        }
        case TTA_WBF_CONF_MAX: conf = f[W_MAX] / c->w_max; break;
        default:
            if (!o->allows_overflow)
                conf = mean * (count < c->n_views ? count : c->n_views) / c->w_sum;
            else
                conf = mean * count / c->w_sum;
            break;
        }
        const fuse_item *first = &it[head[k]];
        TTA_TRY(fuse_emit(c, f[W_X1], f[W_Y1], f[W_X2], f[W_Y2], conf, first->label, first->view, support));
    }
    return TTA_OK;
}
