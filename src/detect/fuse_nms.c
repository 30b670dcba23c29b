/* fuse_nms.c - the suppression rules of box fusion, one class at a time: greedy NMS, soft-NMS
 * (linear and Gaussian) and NMW (non-maximum weighted), each a transliteration of
 * ensemble-boxes (ZFTurbo/Weighted-Boxes-Fusion: ensemble_boxes_nms.py's nms_float_fast and
 * cpu_soft_nms_float, ensemble_boxes_nmw.py's non_maximum_weighted). fuse.c has already
 * weighted the scores, dropped skipped and zero-area boxes and ordered the items. */
#include <math.h>

#include "core/error.h"
#include "detect/fuse_internal.h"

/* nms_float_fast: take the best remaining box, drop every remaining box whose IoU with it is
 * above iou_thr. Items come sorted by score. O(n * kept). */
tta_status fuse_nms_class(fuse_ctx *c, fuse_item *it, int n) {
    int *alive = c->i0;
    double thr = c->opt->iou_thr;
    for (int i = 0; i < n; i++)
        alive[i] = 1;
    for (int i = 0; i < n; i++) {
        if (!alive[i]) continue;
        fuse_views_begin(c);
        int support = fuse_view_add(c, it[i].view);
        for (int j = i + 1; j < n; j++) {
            if (!alive[j] || !(fuse_item_iou(&it[i], &it[j]) > thr)) continue;
            alive[j] = 0;
            support += fuse_view_add(c, it[j].view);
        }
        TTA_TRY(fuse_emit(c, it[i].x1, it[i].y1, it[i].x2, it[i].y2, it[i].score, it[i].label, it[i].view,
                          support));
    }
    return TTA_OK;
}

/* cpu_soft_nms_float, step for step: at step i the best of the boxes from i on is swapped into
 * place i (upstream's swap, which is why the items come in input order and ties go to the
 * first), then every later box's running score is multiplied by the decay of its IoU with it:
 * linear 1 - iou when iou > iou_thr (else 1), Gaussian exp(-iou^2 / sigma) whatever the IoU.
 * Boxes whose running score ends above score_thr are kept, with their undecayed score, as
 * upstream's nms_method returns scores_by_label[keep]. O(n^2) per class, as upstream. */
tta_status fuse_soft_nms_class(fuse_ctx *c, fuse_item *it, int n) {
    int *perm = c->i0, *support = c->i1;
    double *sc = c->d;
    double nt = c->opt->iou_thr, sigma = c->opt->sigma, thresh = c->opt->score_thr;
    int linear = c->opt->soft_kind == TTA_SOFT_NMS_LINEAR;
    for (int k = 0; k < n; k++) {
        perm[k] = k;
        sc[k] = it[k].score;
    }
    for (int i = 0; i < n; i++) {
        if (i != n - 1) {
            int maxpos = i + 1;
            for (int j = i + 2; j < n; j++)
                if (sc[j] > sc[maxpos]) maxpos = j;
            if (sc[i] < sc[maxpos]) {
                int tp = perm[i];
                double ts = sc[i];
                perm[i] = perm[maxpos];
                sc[i] = sc[maxpos];
                perm[maxpos] = tp;
                sc[maxpos] = ts;
            }
        }
        const fuse_item *a = &it[perm[i]];
        fuse_views_begin(c);
        int sup = fuse_view_add(c, a->view);
        for (int j = i + 1; j < n; j++) {
            const fuse_item *b = &it[perm[j]];
            double ovr = fuse_item_iou(a, b);
            if (ovr == 0 && nt >= 0) continue; /* both decays are exactly 1, and it does not count */
            double weight;
            if (linear)
                weight = ovr > nt ? 1.0 - ovr : 1.0;
            else
                weight = exp(-(ovr * ovr) / sigma);
            sc[j] = weight * sc[j];
            if (ovr > nt) sup += fuse_view_add(c, b->view);
        }
        support[i] = sup;
    }
    for (int i = 0; i < n; i++) {
        if (!(sc[i] > thresh)) continue;
        const fuse_item *a = &it[perm[i]];
        TTA_TRY(fuse_emit(c, a->x1, a->y1, a->x2, a->y2, a->score, a->label, a->view, support[i]));
    }
    return TTA_OK;
}

/* non_maximum_weighted: each box (by score) joins the cluster whose first (best) box it
 * overlaps most with IoU > iou_thr, else starts one; a cluster's corners are the mean of its
 * boxes weighted by score * IoU with the best box, its score the best box's. */
tta_status fuse_nmw_class(fuse_ctx *c, fuse_item *it, int n) {
    int *head = c->i0, *tail = c->i1, *next = c->i2;
    double thr = c->opt->iou_thr;
    int ncl = 0;
    for (int j = 0; j < n; j++) {
        int best = -1;
        double best_iou = thr;
        for (int k = 0; k < ncl; k++) {
            double iou = fuse_item_iou(&it[head[k]], &it[j]);
            if (iou > best_iou) {
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
            ncl++;
        }
    }
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
