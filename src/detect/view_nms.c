/* view_nms.c - one view's own greedy NMS (view_nms.h): the boxes sorted by score with a radix
 * sort (position kept among equal scores, then equal scores ordered by label as the general
 * rule orders them), then each box tested against the boxes kept so far of its label, in
 * double precision with ensemble-boxes' IoU, so the decisions are those of tta_fuse_boxes. */
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/error.h"
#include "detect/score_key.h"
#include "detect/view_nms.h"

/* Labels spread wider than this go through the general rule (a table per label is sized by the
 * spread; a decoder's labels are 0..C-1). */
#define MAX_LABEL_SPREAD (1 << 16)


static int grow(void **p, int *cap, int need, size_t size) {
    if (need <= *cap) return 1;
    int c = *cap > 0 ? *cap : 64;
    while (c < need) c = c > (1 << 29) ? need : 2 * c;
    void *q = tta_realloc(*p, size * (size_t)c);
    if (!q) return 0;
    *p = q;
    *cap = c;
    return 1;
}

static tta_status reserve(det_view_nms_work *w, int n, int n_kept, int spread) {
    int cap = w->cap, kcap = w->kept_cap, lcap = w->label_cap;
    int ok = grow((void **)&w->keys, &cap, n, sizeof *w->keys);
    cap = w->cap;
    ok = ok && grow((void **)&w->tmp, &cap, n, sizeof *w->tmp);
    if (ok) w->cap = cap;
    ok = ok && grow((void **)&w->kept, &kcap, n_kept, 5 * sizeof *w->kept);
    kcap = w->kept_cap;
    ok = ok && grow((void **)&w->next, &kcap, n_kept, sizeof *w->next);
    if (ok) w->kept_cap = kcap;
    ok = ok && grow((void **)&w->head, &lcap, spread, sizeof *w->head);
    lcap = w->label_cap;
    ok = ok && grow((void **)&w->tail, &lcap, spread, sizeof *w->tail);
    if (ok) w->label_cap = lcap;
    return ok ? TTA_OK : tta_errorf(TTA_ERR_NOMEM, "view NMS: out of memory for %d boxes", n);
}

/* Sorts keys[0..n) by their upper 32 bits, stably: byte passes, those every key shares skipped. */
static uint64_t *sort_keys(uint64_t *keys, uint64_t *tmp, int n) {
    uint64_t all_and = ~0ULL, all_or = 0;
    for (int i = 0; i < n; i++) all_and &= keys[i], all_or |= keys[i];
    uint64_t diff = all_and ^ all_or;
    uint64_t *src = keys, *dst = tmp;
    for (int shift = 32; shift < 64; shift += 8) {
        if (!(diff >> shift & 255)) continue;
        int count[256] = {0};
        for (int i = 0; i < n; i++) count[src[i] >> shift & 255]++;
        for (int b = 0, at = 0; b < 256; b++) {
            int k = count[b];
            count[b] = at;
            at += k;
        }
        for (int i = 0; i < n; i++) dst[count[src[i] >> shift & 255]++] = src[i];
        uint64_t *t = src;
        src = dst;
        dst = t;
    }
    return src;
}

/* Equal scores go by label, then position (insertion sort of each run; runs are short). */
static void order_ties(uint64_t *k, int n, const tta_box *in) {
    for (int lo = 0; lo < n;) {
        int hi = lo + 1;
        while (hi < n && k[hi] >> 32 == k[lo] >> 32) hi++;
        for (int i = lo + 1; i < hi; i++) {
            uint64_t x = k[i];
            int lx = in[(uint32_t)x].label, j = i;
            for (; j > lo; j--) {
                int ly = in[(uint32_t)k[j - 1]].label;
                if (!(lx < ly || (lx == ly && (uint32_t)x < (uint32_t)k[j - 1]))) break;
                k[j] = k[j - 1];
            }
            k[j] = x;
        }
        lo = hi;
    }
}

tta_status det_view_nms(const tta_box *in, int n, float iou_thr, int max_det, det_view_nms_work *w,
                        tta_boxes *out) {
    if (!w || !out || n < 0 || (n > 0 && !in)) return tta_errorf(TTA_ERR_INVALID_ARG, "det_view_nms: bad arguments");
    if (n == 0) return TTA_OK;
    int lo = in[0].label, hi = in[0].label;
    for (int i = 1; i < n; i++) {
        if (in[i].label < lo) lo = in[i].label;
        if (in[i].label > hi) hi = in[i].label;
    }
    if ((long long)hi - lo >= MAX_LABEL_SPREAD) { /* the general rule copes with any labels */
        tta_fuse_options o;
        tta_fuse_options_default(&o, TTA_FUSE_NMS);
        o.iou_thr = iou_thr;
        o.max_det = max_det;
        tta_boxes kept = {0};
        tta_status st = tta_fuse_boxes(in, n, 1, NULL, &o, &kept);
        for (int k = 0; !st && k < kept.n; k++) st = tta_boxes_push(out, &kept.box[k]);
        tta_boxes_destroy(&kept);
        return st;
    }
    int spread = hi - lo + 1, limit = max_det > 0 && max_det < n ? max_det : n;
    TTA_TRY(reserve(w, n, limit, spread));
    TTA_TRY(tta_boxes_reserve(out, out->n + limit));

    /* the prefilter of tta_fuse_boxes: zero-area boxes and negative scores (skip_thr 0) out */
    int m = 0;
    for (int i = 0; i < n; i++) {
        const tta_box *b = &in[i];
        if ((double)(b->x2 - b->x1) * (double)(b->y2 - b->y1) == 0.0 || b->score < 0) continue;
        w->keys[m++] = (uint64_t)~det_float_key(b->score) << 32 | (uint32_t)i;
    }
    uint64_t *k = sort_keys(w->keys, w->tmp, m);
    order_ties(k, m, in);

    for (int l = 0; l < spread; l++) w->head[l] = w->tail[l] = -1;
    const double thr = iou_thr;
    int kept = 0;
    for (int r = 0; r < m && kept < limit; r++) {
        const tta_box *b = &in[(uint32_t)k[r]];
        const double x1 = b->x1, y1 = b->y1, x2 = b->x2, y2 = b->y2, area = (x2 - x1) * (y2 - y1);
        const int l = b->label - lo;
        int drop = 0;
        for (int q = w->head[l]; q >= 0 && !drop; q = w->next[q]) {
            const double *a = w->kept + 5 * (size_t)q; /* as fuse_iou(kept, box) */
            double xa = a[0] > x1 ? a[0] : x1, ya = a[1] > y1 ? a[1] : y1;
            double xb = a[2] < x2 ? a[2] : x2, yb = a[3] < y2 ? a[3] : y2;
            double iw = xb - xa, ih = yb - ya, iou = 0.0;
            if (iw > 0 && ih > 0) {
                double inter = iw * ih;
                iou = inter / (a[4] + area - inter);
            }
            drop = iou > thr;
        }
        if (drop) continue;
        double *a = w->kept + 5 * (size_t)kept;
        a[0] = x1, a[1] = y1, a[2] = x2, a[3] = y2, a[4] = area;
        w->next[kept] = -1;
        if (w->tail[l] >= 0) w->next[w->tail[l]] = kept;
        else w->head[l] = kept;
        w->tail[l] = kept;
        kept++;
        out->box[out->n++] = *b;
    }
    return TTA_OK;
}

void det_view_nms_free(det_view_nms_work *w) {
    if (!w) return;
    tta_free(w->keys);
    tta_free(w->tmp);
    tta_free(w->kept);
    tta_free(w->next);
    tta_free(w->head);
    tta_free(w->tail);
    memset(w, 0, sizeof *w);
}
