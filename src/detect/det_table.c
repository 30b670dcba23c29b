/* det_table.c - scoring detection policies from per-view detections that already ran: fusing a
 * subset of a table's views, mapping the model's labels to a COCO file's categories, turning
 * boxes into COCO results, and the paired bootstrap of a mAP gain over images. The evaluation
 * and search commands build on these, so a policy scored in a search scores the same in
 * `tta detect eval`. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/error.h"
#include "core/stats_util.h"
#include "tta/detect.h"

tta_status tta_det_table_fuse(const tta_det_table *t, const int *views, const double *weights, int m,
                              const tta_fuse_options *fuse, tta_boxes *out) {
    if (!t || !views || m < 1 || !fuse || !out) return tta_errorf(TTA_ERR_INVALID_ARG, "tta_det_table_fuse: bad arguments");
    int *slot = tta_malloc(sizeof *slot * (size_t)t->n_views);
    if (!slot) return tta_errorf(TTA_ERR_NOMEM, "out of memory");
    for (int v = 0; v < t->n_views; v++) slot[v] = -1;
    tta_status st = TTA_OK;
    for (int j = 0; j < m && !st; j++) {
        if (views[j] < 0 || views[j] >= t->n_views || slot[views[j]] >= 0)
            st = tta_errorf(TTA_ERR_INVALID_ARG, "tta_det_table_fuse: view %d is out of range or given twice", views[j]);
        else
            slot[views[j]] = j;
    }
    /* images over the threads; each thread its own selection list */
    char msg[512] = "";
#pragma omp parallel if (!st && t->n_images > 1)
    {
        tta_boxes sel = {0};
        tta_status mine = st;
#pragma omp for schedule(dynamic, 16)
        for (int i = 0; i < t->n_images; i++) {
            if (mine) continue;
            const tta_boxes *b = &t->boxes[i];
            tta_boxes_clear(&sel);
            mine = tta_boxes_reserve(&sel, b->n);
            for (int k = 0; k < b->n && !mine; k++) {
                int s = b->box[k].view >= 0 && b->box[k].view < t->n_views ? slot[b->box[k].view] : -1;
                if (s < 0) continue;
                tta_box x = b->box[k];
                x.view = s;
                sel.box[sel.n++] = x;
            }
            if (!mine) mine = tta_fuse_boxes(sel.box, sel.n, m, weights, fuse, &out[i]);
        }
        if (mine && !st) {
#pragma omp critical
            if (!st) { /* the message lives in the failing thread */
                st = mine;
                snprintf(msg, sizeof msg, "%s", tta_last_error());
            }
        }
        tta_boxes_destroy(&sel);
    }
    tta_free(slot);
    return st && msg[0] ? tta_errorf(st, "%s", msg) : st;
}

static int by_id(const void *a, const void *b) {
    int64_t x = (*(const tta_coco_category *const *)a)->id, y = (*(const tta_coco_category *const *)b)->id;
    return (x > y) - (x < y);
}

tta_status tta_coco_label_map(const tta_coco *gt, int n_classes, const char *const *class_names, int64_t *cat_ids) {
    if (!gt || n_classes < 1 || !cat_ids) return tta_errorf(TTA_ERR_INVALID_ARG, "tta_coco_label_map: bad arguments");
    int by_name = class_names != NULL;
    for (int k = 0; k < n_classes && by_name; k++) {
        int found = -1;
        for (int c = 0; c < gt->n_categories && class_names[k]; c++)
            if (gt->categories[c].name && !strcmp(gt->categories[c].name, class_names[k])) found = c;
        if (found < 0) by_name = 0;
        else cat_ids[k] = gt->categories[found].id;
    }
    if (by_name) return TTA_OK;
    if (gt->n_categories != n_classes)
        return tta_errorf(TTA_ERR_SHAPE,
                          "%s: %d categories in the annotations, but the model has %d classes (and its class names "
                          "do not all match category names)",
                          gt->name ? gt->name : "annotations", gt->n_categories, n_classes);
    const tta_coco_category **sorted = tta_malloc(sizeof *sorted * (size_t)n_classes);
    if (!sorted) return tta_errorf(TTA_ERR_NOMEM, "out of memory");
    for (int c = 0; c < n_classes; c++) sorted[c] = &gt->categories[c];
    qsort(sorted, (size_t)n_classes, sizeof *sorted, by_id);
    for (int k = 0; k < n_classes; k++) cat_ids[k] = sorted[k]->id;
    tta_free(sorted);
    return TTA_OK;
}

tta_status tta_boxes_to_coco(const tta_coco *gt, const tta_boxes *per_image, const int64_t *cat_ids, int n_classes,
                             tta_coco_det **dets, int *n) {
    if (!gt || !per_image || !cat_ids || !dets || !n) return tta_errorf(TTA_ERR_INVALID_ARG, "tta_boxes_to_coco: NULL argument");
    size_t total = 0;
    for (int i = 0; i < gt->n_images; i++) total += (size_t)per_image[i].n;
    if (total > (size_t)1 << 30) return tta_errorf(TTA_ERR_INVALID_ARG, "tta_boxes_to_coco: %zu boxes is too many", total);
    tta_coco_det *d = tta_malloc(sizeof *d * (total ? total : 1));
    if (!d) return tta_errorf(TTA_ERR_NOMEM, "out of memory for %zu detections", total);
    size_t k = 0;
    for (int i = 0; i < gt->n_images; i++)
        for (int j = 0; j < per_image[i].n; j++) {
            const tta_box *b = &per_image[i].box[j];
            if (b->label < 0 || b->label >= n_classes) {
                tta_free(d);
                return tta_errorf(TTA_ERR_INVALID_ARG, "tta_boxes_to_coco: label %d outside 0..%d", b->label, n_classes - 1);
            }
            d[k].image_id = gt->images[i].id;
            d[k].category_id = cat_ids[b->label];
            d[k].bbox[0] = b->x1;
            d[k].bbox[1] = b->y1;
            d[k].bbox[2] = (double)b->x2 - b->x1;
            d[k].bbox[3] = (double)b->y2 - b->y1;
            d[k].score = b->score;
            d[k].support = b->support;
            k++;
        }
    *dets = d;
    *n = (int)k;
    return TTA_OK;
}

tta_status tta_coco_eval_gain_ci(const tta_coco_eval *base, const tta_coco_eval *pol, int n_images, int n_boot,
                                 uint64_t seed, double level, double *lo, double *hi) {
    if (!base || !pol || n_images < 1 || n_boot < 2 || !(level > 0 && level < 1) || !lo || !hi)
        return tta_errorf(TTA_ERR_INVALID_ARG, "mAP bootstrap: bad arguments");
    double *diffs = tta_malloc(sizeof *diffs * (size_t)n_boot);
    if (!diffs) return tta_errorf(TTA_ERR_NOMEM, "out of memory");
    tta_status st = TTA_OK;
    /* resample r draws from its own stream (seed, r), so the interval does not depend on the
     * number of threads */
#pragma omp parallel
    {
        int *counts = tta_malloc(sizeof *counts * (size_t)n_images);
        tta_status mine = counts ? TTA_OK : TTA_ERR_NOMEM;
#pragma omp for schedule(dynamic, 4)
        for (int r = 0; r < n_boot; r++) {
            if (mine) continue;
            uint64_t s = seed ^ (0x9e3779b97f4a7c15ULL * (uint64_t)(r + 1));
            memset(counts, 0, sizeof *counts * (size_t)n_images);
            for (int i = 0; i < n_images; i++) counts[tta_rand_below(&s, (uint64_t)n_images)]++;
            tta_coco_stats a, b;
            mine = tta_coco_eval_stats(base, counts, &a);
            if (!mine) mine = tta_coco_eval_stats(pol, counts, &b);
            diffs[r] = mine ? 0 : b.ap - a.ap;
        }
        tta_free(counts);
#pragma omp critical
        if (mine && !st) st = mine;
    }
    if (st == TTA_ERR_NOMEM) st = tta_errorf(TTA_ERR_NOMEM, "mAP bootstrap: out of memory");
    if (!st) {
        qsort(diffs, (size_t)n_boot, sizeof *diffs, tta_cmp_double);
        *lo = tta_quantile(diffs, n_boot, (1 - level) / 2);
        *hi = tta_quantile(diffs, n_boot, 1 - (1 - level) / 2);
    }
    tta_free(diffs);
    return st;
}
