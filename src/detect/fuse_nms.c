/* fuse_nms.c - the suppression rules of box fusion: greedy NMS, soft-NMS (linear and Gaussian)
 * and NMW (non-maximum weighted), each giving exactly what a transliteration of ensemble-boxes
 * gives (ZFTurbo/Weighted-Boxes-Fusion: ensemble_boxes_nms.py's nms_float_fast and
 * cpu_soft_nms_float, ensemble_boxes_nmw.py's non_maximum_weighted), ties included. fuse.c has
 * already weighted the scores, dropped skipped and zero-area boxes, ordered the items and sized
 * one grid per class (fuse_index.h), through which each box meets only the boxes of its class
 * that could overlap it. */
#include <math.h>

#include "core/error.h"
#include "detect/fuse_internal.h"

/* ---- NMS ------------------------------------------------------------------------------------ */

/* nms_float_fast takes the best remaining box and drops every remaining box whose IoU with it
 * is above iou_thr. Seen from the dropped box: it goes to the first kept box of its class
 * before it with IoU > iou_thr, and is kept when there is none. So each box queries the grid of
 * the boxes kept so far; support counts the views of a kept box and of the boxes it dropped.
 * The items come in the output order, so the kept boxes are emitted as they are, and once
 * max_det are kept the rest matter only for the support of those: later boxes are no longer
 * filed (none can be the first kept box of a box after it that a top box would not be), and
 * with one view there is nothing left to count. */
tta_status fuse_nms(fuse_ctx *c, const fuse_item *it, int n) {
    int *dropped_by = c->i0;        /* per item: the kept item that dropped it, -1 kept, -2 kept past max_det */
    int *first = c->i1, *link = c->i2; /* per kept item: the items it dropped, a list */
    double thr = c->opt->iou_thr;
    int max_det = c->opt->max_det, kept = 0;
    for (int j = 0; j < n; j++) {
        const fuse_item *b = &it[j];
        if (max_det > 0 && kept == max_det && c->n_views == 1) {
            dropped_by[j] = -2;
            continue;
        }
        int nc = fuse_query_iou(c, b->cls, b), k = -1;
        for (int q = 0; q < nc; q++) {
            int i = c->cand[q];
            if ((k < 0 || i < k) && fuse_item_iou(&it[i], b) > thr) k = i;
        }
        if (k >= 0) {
            dropped_by[j] = k;
            link[j] = first[k];
            first[k] = j;
        } else if (max_det > 0 && kept == max_det) {
            dropped_by[j] = -2;
        } else {
            dropped_by[j] = -1;
            first[j] = -1;
            kept++;
            fuse_grid_insert(&c->grid[b->cls], j, b->x1, b->y1, b->x2, b->y2, 0);
        }
    }
    for (int i = 0; i < n; i++) {
        if (dropped_by[i] != -1) continue;
        fuse_views_begin(c);
        int support = fuse_view_add(c, it[i].view);
        for (int j = first[i]; j >= 0; j = link[j])
            support += fuse_view_add(c, it[j].view);
        TTA_TRY(fuse_emit(c, it[i].x1, it[i].y1, it[i].x2, it[i].y2, it[i].score, it[i].label, it[i].view,
                          support));
    }
    return TTA_OK;
}

/* ---- soft-NMS --------------------------------------------------------------------------------- */

/* cpu_soft_nms_float keeps the boxes in an array: at step i the best running score from place
 * i on is swapped into place i (ties to the first place: the box at i, else the first maximum
 * after it), then every later box's running score is multiplied by the decay of its IoU with
 * it. Here a heap keyed by (running score, best first; place, first first) finds the step's
 * box, the swap is replayed on the places, and the grid of the remaining boxes gives those that
 * overlap it: the only ones a decay changes (linear 1 - iou when iou > iou_thr, Gaussian
 * exp(-iou^2 / sigma) whatever the IoU; both exactly 1 at IoU 0). */
typedef struct soft_heap {
    int *heap, *at;  /* the heap of remaining boxes; at[box]: its index in the heap */
    int *place;      /* place[box]: its place in upstream's array */
    const double *sc; /* running scores */
    int n;
} soft_heap;

static int soft_before(const soft_heap *h, int a, int b) {
    return h->sc[a] > h->sc[b] || (h->sc[a] == h->sc[b] && h->place[a] < h->place[b]);
}

static void soft_put(soft_heap *h, int k, int box) {
    h->heap[k] = box;
    h->at[box] = k;
}

static void soft_down(soft_heap *h, int k) {
    int box = h->heap[k];
    for (;;) {
        int l = 2 * k + 1, best = k, bb = box;
        if (l < h->n && soft_before(h, h->heap[l], bb)) best = l, bb = h->heap[l];
        if (l + 1 < h->n && soft_before(h, h->heap[l + 1], bb)) best = l + 1, bb = h->heap[l + 1];
        if (best == k) break;
        soft_put(h, k, bb);
        k = best;
    }
    soft_put(h, k, box);
}

/* Restores the heap around index k after its box's key changed either way. */
static void soft_fix(soft_heap *h, int k) {
    int box = h->heap[k], k0 = k;
    while (k > 0 && soft_before(h, box, h->heap[(k - 1) / 2])) {
        soft_put(h, k, h->heap[(k - 1) / 2]);
        k = (k - 1) / 2;
    }
    if (k != k0) soft_put(h, k, box);
    else soft_down(h, k);
}

static int soft_pop(soft_heap *h) {
    int top = h->heap[0];
    h->n--;
    if (h->n > 0) {
        soft_put(h, 0, h->heap[h->n]);
        soft_down(h, 0);
    }
    return top;
}

/* Upstream's result: the boxes whose running score ends above score_thr (a box's score is final
 * once it is taken), with their undecayed score, as nms_method returns scores_by_label[keep].
 * Work: the heap and the overlapping pairs (each such pair decays once). */
tta_status fuse_soft_nms_class(fuse_ctx *c, const fuse_item *it, int n) {
    int *slot = c->i0; /* slot[place]: the box at that place */
    double *sc = c->d;
    soft_heap h = {c->i2, c->i3, c->i1, sc, n};
    double nt = c->opt->iou_thr, sigma = c->opt->sigma, thresh = c->opt->score_thr;
    int linear = c->opt->soft_kind == TTA_SOFT_NMS_LINEAR;
    fuse_grid *g = &c->grid[it[0].cls];
    /* boxes over two cells wide or tall go to the overflow list; the others reach this far */
    double big = 2 / g->inv, reach_w = 0, reach_h = 0;
    for (int k = 0; k < n; k++) {
        double w = it[k].x2 - it[k].x1, hh = it[k].y2 - it[k].y1;
        int is_big = w > big || hh > big;
        if (!is_big && w > reach_w) reach_w = w;
        if (!is_big && hh > reach_h) reach_h = hh;
        slot[k] = k;
        h.place[k] = k;
        sc[k] = it[k].score;
        h.heap[k] = k;
        h.at[k] = k;
        fuse_grid_insert(g, k, it[k].x1, it[k].y1, it[k].x2, it[k].y2, is_big);
    }
    for (int k = n / 2 - 1; k >= 0; k--)
        soft_down(&h, k);
    for (int i = 0; i < n; i++) {
        int top = soft_pop(&h), p = h.place[top];
        if (p != i) { /* upstream's swap: the box at place i goes to the taken box's place */
            int e = slot[i];
            slot[p] = e;
            h.place[e] = p;
            slot[i] = top;
            h.place[top] = i;
            soft_fix(&h, h.at[e]);
        }
        fuse_grid_remove(g, top);
        const fuse_item *a = &it[top];
        fuse_views_begin(c);
        int sup = fuse_view_add(c, a->view);
        int nc = fuse_grid_query(g, fuse_grid_low(a->x1, reach_w), fuse_grid_low(a->y1, reach_h), a->x2, a->y2,
                                 c->cand);
        for (int q = 0; q < nc; q++) {
            int j = c->cand[q];
            const fuse_item *b = &it[j];
            double ovr = fuse_item_iou(a, b);
            if (ovr == 0 && nt >= 0) continue; /* both decays are exactly 1, and it does not count */
            double weight;
            if (linear)
                weight = ovr > nt ? 1.0 - ovr : 1.0;
            else
                weight = exp(-(ovr * ovr) / sigma);
            sc[j] = weight * sc[j];
            soft_fix(&h, h.at[j]);
            if (ovr > nt) sup += fuse_view_add(c, b->view);
        }
        if (sc[top] > thresh) TTA_TRY(fuse_emit(c, a->x1, a->y1, a->x2, a->y2, a->score, a->label, a->view, sup));
    }
    return TTA_OK;
}

/* ---- NMW ------------------------------------------------------------------------------------ */

/* non_maximum_weighted: each box (by score) joins the cluster whose first (best) box it
 * overlaps most with IoU > iou_thr (the first cluster on ties), else starts one; a cluster's
 * corners are the mean of its boxes weighted by score * IoU with the best box, its score the
 * best box's. The clusters' first boxes are filed in the grid of their class; clusters are
 * made in the output order, and only the first max_det are emitted. */
tta_status fuse_nmw(fuse_ctx *c, const fuse_item *it, int n) {
    int *head = c->i0, *tail = c->i1, *next = c->i2;
    double thr = c->opt->iou_thr;
    int ncl = 0;
    for (int j = 0; j < n; j++) {
        const fuse_item *b = &it[j];
        int best = -1, nc = fuse_query_iou(c, b->cls, b);
        double best_iou = thr;
        for (int q = 0; q < nc; q++) {
            int k = c->cand[q];
            double iou = fuse_item_iou(&it[head[k]], b);
            if (iou > best_iou || (iou == best_iou && best >= 0 && k < best)) {
                best = k;
                best_iou = iou;
            }
        }
        next[j] = -1;
        if (best >= 0) {
            next[tail[best]] = j;
            tail[best] = j;
        } else {
            head[ncl] = tail[ncl] = j;
            fuse_grid_insert(&c->grid[b->cls], ncl, b->x1, b->y1, b->x2, b->y2, 0);
            ncl++;
        }
    }
    if (c->opt->max_det > 0 && ncl > c->opt->max_det) ncl = c->opt->max_det;
    for (int k = 0; k < ncl; k++) {
        const fuse_item *best = &it[head[k]];
        double conf = 0, x1 = 0, y1 = 0, x2 = 0, y2 = 0;
        fuse_views_begin(c);
        int support = 0;
        for (int j = head[k]; j >= 0; j = next[j]) {
            const fuse_item *b = &it[j];
            double weight = b->score * fuse_item_iou(b, best);
            x1 += weight * b->x1;
            y1 += weight * b->y1;
            x2 += weight * b->x2;
            y2 += weight * b->y2;
            conf += weight;
            support += fuse_view_add(c, b->view);
        }
        TTA_TRY(fuse_emit(c, x1 / conf, y1 / conf, x2 / conf, y2 / conf, best->score, best->label, best->view,
                          support));
    }
    return TTA_OK;
}
