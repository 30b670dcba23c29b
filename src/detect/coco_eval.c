/* coco_eval.c - COCO mAP exactly as pycocotools' COCOeval computes it for iouType 'bbox' with
 * the default Params, plus a fast re-accumulation for bootstrap resamples (detect.h).
 *
 * tta_coco_eval_run is COCOeval.evaluate: per (image, category) cell the detections are sorted
 * by score (stably, as numpy's mergesort), the best 100 kept, the IoU taken as maskApi.c's
 * bbIou (a crowd region scores intersection / detection area) and the matching done greedily
 * per area range and IoU threshold as evaluateImg. Every kept detection leaves, per area
 * range, a 10-bit mask of the thresholds where it is a true positive and one where it is
 * ignored. The detections of each category are then put once in the order accumulate's
 * mergesort gives over the concatenation in imgIds order: (-score, image position, rank).
 *
 * tta_coco_eval_stats is accumulate + summarize: it walks that order per (category, area),
 * weighting each detection and each image's count of non-ignored ground truth by the image's
 * multiplicity, so a bootstrap resample costs one linear pass and no sort. Only true-positive
 * detections can set an interpolated precision (a false positive's precision never exceeds
 * that of the true positive before it, and searchsorted's first index at a recall level is a
 * true positive), so the precision envelope is built from those points alone.
 *
 * Upstream transliterated: cocodataset/cocoapi PythonAPI/pycocotools/cocoeval.py (the pip
 * pycocotools 2.0.x version), coco.py (loadRes: a result's area = w * h, id = index + 1,
 * iscrowd 0), _mask.pyx iou and common/maskApi.c bbIou. scripts/ref_cocoeval.py is an
 * independent numpy transliteration that writes the expected values of the test cases.
 */
#include <float.h>
#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/error.h"
#include "tta/detect.h"

#define CE_T 10       /* IoU thresholds .50:.05:.95 */
#define CE_R 101      /* recall thresholds 0:.01:1 */
#define CE_A 4        /* area ranges all, small, medium, large */
#define CE_MAXDET 100 /* maxDets[-1] */
#define CE_T_ALL 0x3FFu
#define CE_T75 5 /* iouThrs[5] == .75 exactly (numpy linspace) */

static const double ce_area_lo[CE_A] = {0.0, 0.0, 32.0 * 32.0, 96.0 * 96.0};
static const double ce_area_hi[CE_A] = {1e5 * 1e5, 32.0 * 32.0, 96.0 * 96.0, 1e5 * 1e5};

/* One kept detection after evaluate. */
typedef struct ce_det {
    double score;
    int img;                     /* position in imgIds order (images sorted by id) */
    int cat;                     /* position in catIds order */
    int rank;                    /* place among its cell's detections, best first (< 100) */
    uint16_t tp[CE_A], ig[CE_A]; /* per area: thresholds where it is a TP / ignored */
} ce_det;

/* Ground truth of one (image, category) cell: non-ignored count per area range. */
typedef struct ce_cell {
    int img, cat;
    int npig[CE_A];
} ce_cell;

/* A detection of the run being evaluated, before matching. */
typedef struct ce_key {
    double score;
    int img, cat, index;
} ce_key;

struct tta_coco_eval {
    const tta_coco *gt;
    int n_img, n_cat;
    double iou_thr[CE_T], rec_thr[CE_R];
    int64_t *img_id; /* sorted: position -> id */
    int *img_index;  /* position -> index in gt->images */
    int64_t *cat_id; /* sorted: position -> id */
    int *cat_index;  /* position -> index in gt->categories */
    int *gt_order;   /* annotation indices sorted by (image position, category position, index) */
    int *gt_img;     /* annotation index -> image position */
    int *gt_cat;     /* annotation index -> category position */
    /* the last run */
    int has_run;
    ce_det *dets; /* sorted by (category, -score, image position, rank) */
    int n_dets;
    int *det_first; /* n_cat + 1 */
    ce_cell *cells; /* sorted by (category, image position) */
    int n_cells;
    int *cell_first;  /* n_cat + 1 */
    int max_points;   /* most true positives of one (category, area, threshold) */
    double *class_ap; /* n_cat, in gt->categories order */
};

/* ---- set-up ------------------------------------------------------------------------------ */

static int ce_cmp_i64(const void *a, const void *b) {
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

static int ce_find(const int64_t *ids, int n, int64_t id) {
    const int64_t *p = bsearch(&id, ids, (size_t)n, sizeof *ids, ce_cmp_i64);
    return p ? (int)(p - ids) : -1;
}

typedef struct ce_idpos {
    int64_t id;
    int index;
} ce_idpos;

static int ce_cmp_idpos(const void *a, const void *b) {
    const ce_idpos *x = a, *y = b;
    if (x->id != y->id) return x->id < y->id ? -1 : 1;
    return (x->index > y->index) - (x->index < y->index);
}

/* Sorts n ids into ids_out, with index_out[position] = the id's index; *dup = the position of
 * the first duplicate id, or -1. */
static tta_status ce_sort_ids(const int64_t *ids, int n, int64_t *ids_out, int *index_out, int *dup) {
    ce_idpos *v = tta_malloc(sizeof *v * (size_t)(n ? n : 1));
    if (!v) return tta_errorf(TTA_ERR_NOMEM, "tta_coco_eval_new: out of memory");
    for (int i = 0; i < n; i++)
        v[i] = (ce_idpos){ids[i], i};
    qsort(v, (size_t)n, sizeof *v, ce_cmp_idpos);
    *dup = -1;
    for (int i = 0; i < n; i++) {
        ids_out[i] = v[i].id;
        index_out[i] = v[i].index;
        if (i > 0 && v[i].id == v[i - 1].id && *dup < 0) *dup = i;
    }
    tta_free(v);
    return TTA_OK;
}

/* (image position, category position, -score, index): np.argsort(-score, kind='mergesort')
 * is stable, so ties keep the file order. */
static int ce_cmp_key(const void *a, const void *b) {
    const ce_key *x = a, *y = b;
    if (x->img != y->img) return x->img < y->img ? -1 : 1;
    if (x->cat != y->cat) return x->cat < y->cat ? -1 : 1;
    if (x->score != y->score) return x->score > y->score ? -1 : 1; /* argsort(-score) */
    return (x->index > y->index) - (x->index < y->index);          /* mergesort is stable */
}

void tta_coco_eval_free(tta_coco_eval *ev) {
    if (!ev) return;
    tta_free(ev->img_id);
    tta_free(ev->img_index);
    tta_free(ev->cat_id);
    tta_free(ev->cat_index);
    tta_free(ev->gt_order);
    tta_free(ev->gt_img);
    tta_free(ev->gt_cat);
    tta_free(ev->dets);
    tta_free(ev->det_first);
    tta_free(ev->cells);
    tta_free(ev->cell_first);
    tta_free(ev->class_ap);
    tta_free(ev);
}

static const char *ce_name(const tta_coco *c) { return c->name ? c->name : "ground truth"; }

tta_status tta_coco_eval_new(tta_coco_eval **out, const tta_coco *gt) {
    if (!out || !gt) return tta_errorf(TTA_ERR_INVALID_ARG, "tta_coco_eval_new: NULL argument");
    *out = NULL;
    if (gt->n_images < 0 || gt->n_categories < 0 || gt->n_anns < 0 || (gt->n_images > 0 && !gt->images) ||
        (gt->n_categories > 0 && !gt->categories) || (gt->n_anns > 0 && (!gt->anns || !gt->ann_first)))
        return tta_errorf(TTA_ERR_INVALID_ARG, "tta_coco_eval_new: %s: inconsistent counts or arrays",
                          ce_name(gt));
    if (gt->ann_first && (gt->ann_first[0] != 0 || gt->ann_first[gt->n_images] != gt->n_anns))
        return tta_errorf(TTA_ERR_INVALID_ARG,
                          "tta_coco_eval_new: %s: ann_first does not cover the %d annotations", ce_name(gt),
                          gt->n_anns);
    tta_coco_eval *ev = tta_calloc(1, sizeof *ev);
    if (!ev) return tta_errorf(TTA_ERR_NOMEM, "tta_coco_eval_new: out of memory");
    ev->gt = gt;
    ev->n_img = gt->n_images;
    ev->n_cat = gt->n_categories;
    /* Params.setDetParams: np.linspace(.5, .95, 10) and np.linspace(0, 1, 101), which compute
     * start + i * step and set the last point to stop. */
    double step = (0.95 - 0.5) / (CE_T - 1);
    for (int t = 0; t < CE_T; t++)
        ev->iou_thr[t] = (double)t * step + 0.5;
    ev->iou_thr[CE_T - 1] = 0.95;
    step = 1.0 / (CE_R - 1);
    for (int r = 0; r < CE_R; r++)
        ev->rec_thr[r] = (double)r * step + 0.0;
    ev->rec_thr[CE_R - 1] = 1.0;

    size_t ni = (size_t)(ev->n_img ? ev->n_img : 1), nc = (size_t)(ev->n_cat ? ev->n_cat : 1);
    size_t na = (size_t)(gt->n_anns ? gt->n_anns : 1);
    ev->img_id = tta_malloc(sizeof(int64_t) * ni);
    ev->img_index = tta_malloc(sizeof(int) * ni);
    ev->cat_id = tta_malloc(sizeof(int64_t) * nc);
    ev->cat_index = tta_malloc(sizeof(int) * nc);
    ev->gt_order = tta_malloc(sizeof(int) * na);
    ev->gt_img = tta_malloc(sizeof(int) * na);
    ev->gt_cat = tta_malloc(sizeof(int) * na);
    ev->class_ap = tta_malloc(sizeof(double) * nc);
    int64_t *ids = tta_malloc(sizeof(int64_t) * (ni > nc ? ni : nc));
    int *pos = tta_malloc(sizeof(int) * (ni > nc ? ni : nc));
    ce_key *gkeys = tta_malloc(sizeof(ce_key) * na);
    tta_status st = TTA_OK;
    if (!ev->img_id || !ev->img_index || !ev->cat_id || !ev->cat_index || !ev->gt_order || !ev->gt_img ||
        !ev->gt_cat || !ev->class_ap || !ids || !pos || !gkeys) {
        st = tta_errorf(TTA_ERR_NOMEM, "tta_coco_eval_new: out of memory");
        goto done;
    }
    for (int k = 0; k < ev->n_cat; k++)
        ev->class_ap[k] = -1.0;
    int dup;
    /* params.imgIds = sorted(getImgIds()), params.catIds = sorted(getCatIds()) */
    for (int i = 0; i < ev->n_img; i++)
        ids[i] = gt->images[i].id;
    if ((st = ce_sort_ids(ids, ev->n_img, ev->img_id, ev->img_index, &dup)) != TTA_OK) goto done;
    if (dup >= 0) {
        st = tta_errorf(TTA_ERR_INVALID_ARG, "tta_coco_eval_new: %s: duplicate image id %lld", ce_name(gt),
                        (long long)ev->img_id[dup]);
        goto done;
    }
    for (int k = 0; k < ev->n_cat; k++)
        ids[k] = gt->categories[k].id;
    if ((st = ce_sort_ids(ids, ev->n_cat, ev->cat_id, ev->cat_index, &dup)) != TTA_OK) goto done;
    if (dup >= 0) {
        st = tta_errorf(TTA_ERR_INVALID_ARG, "tta_coco_eval_new: %s: duplicate category id %lld", ce_name(gt),
                        (long long)ev->cat_id[dup]);
        goto done;
    }
    for (int p = 0; p < ev->n_img; p++)
        pos[ev->img_index[p]] = p;
    for (int i = 0; i < ev->n_img && gt->n_anns > 0; i++) {
        int a0 = gt->ann_first[i], a1 = gt->ann_first[i + 1];
        if (a0 < 0 || a1 < a0 || a1 > gt->n_anns) {
            st = tta_errorf(TTA_ERR_INVALID_ARG,
                            "tta_coco_eval_new: %s: ann_first of image %d is out of order", ce_name(gt), i);
            goto done;
        }
        for (int j = a0; j < a1; j++) {
            const tta_coco_ann *an = &gt->anns[j];
            int c = ce_find(ev->cat_id, ev->n_cat, an->category_id);
            if (c < 0) {
                st = tta_errorf(TTA_ERR_INVALID_ARG,
                                "tta_coco_eval_new: %s: annotation %lld has unknown category_id %lld",
                                ce_name(gt), (long long)an->id, (long long)an->category_id);
                goto done;
            }
            ev->gt_img[j] = pos[i];
            ev->gt_cat[j] = c;
            gkeys[j] = (ce_key){0.0, pos[i], c, j};
        }
    }
    /* COCO.getAnnIds keeps each image's annotations in file order; cells follow imgIds order. */
    qsort(gkeys, (size_t)gt->n_anns, sizeof *gkeys, ce_cmp_key);
    for (int j = 0; j < gt->n_anns; j++)
        ev->gt_order[j] = gkeys[j].index;
done:
    tta_free(gkeys);
    tta_free(ids);
    tta_free(pos);
    if (st != TTA_OK) {
        tta_coco_eval_free(ev);
        return st;
    }
    *out = ev;
    return TTA_OK;
}

/* ---- evaluate ---------------------------------------------------------------------------- */

/* maskApi.c bbIou for one (detection, gt) pair of [x, y, w, h] boxes. */
static double ce_bb_iou(const double *d, const double *g, int crowd) {
    double ga = g[2] * g[3], da = d[2] * d[3];
    double w = fmin(d[2] + d[0], g[2] + g[0]) - fmax(d[0], g[0]);
    if (w <= 0) return 0.0;
    double h = fmin(d[3] + d[1], g[3] + g[1]) - fmax(d[1], g[1]);
    if (h <= 0) return 0.0;
    double i = w * h;
    double u = crowd ? da : da + ga - i;
    return i / u;
}

/* Scratch of one run's cell evaluation, sized for the largest cell. */
typedef struct ce_scratch {
    double *iou; /* D x G, iou[d * G + g] with g in file order */
    double *rowmax;
    int *gorder; /* gt in evaluateImg's order: not ignored first (stable) */
    uint8_t *gig, *gm;
} ce_scratch;

/* COCOeval.evaluateImg for one cell and the 4 area ranges (maxDet 100). keys: the cell's
 * detections sorted best first, D <= 100. gidx: its ground truth in file order. Writes D
 * records to out. */
static void ce_eval_cell(const tta_coco_eval *ev, const tta_coco_det *dets, const ce_key *keys, int D,
                         const int *gidx, int G, ce_scratch *s, ce_det *out) {
    const tta_coco_ann *anns = ev->gt->anns;
    for (int d = 0; d < D; d++) {
        const double *db = dets[keys[d].index].bbox;
        double mx = 0.0;
        for (int g = 0; g < G; g++) {
            const tta_coco_ann *an = &anns[gidx[g]];
            double v = ce_bb_iou(db, an->bbox, an->iscrowd != 0);
            s->iou[(size_t)d * G + g] = v;
            if (v > mx || isnan(v)) mx = isnan(v) ? INFINITY : v; /* NaN passes upstream's "< iou" test */
        }
        s->rowmax[d] = mx;
        out[d] = (ce_det){.score = keys[d].score, .img = keys[d].img, .cat = keys[d].cat, .rank = d};
    }
    for (int a = 0; a < CE_A; a++) {
        double lo = ce_area_lo[a], hi = ce_area_hi[a];
        /* gt['_ignore'] = iscrowd or area outside the range; sort ignored last (mergesort) */
        int n = 0;
        for (int pass = 0; pass < 2; pass++)
            for (int g = 0; g < G; g++) {
                const tta_coco_ann *an = &anns[gidx[g]];
                int ig = an->iscrowd != 0 || an->area < lo || an->area > hi;
                if (ig == pass) {
                    s->gorder[n] = g;
                    s->gig[n++] = (uint8_t)ig;
                }
            }
        for (int d = 0; d < D; d++) {
            const double *db = dets[keys[d].index].bbox;
            double darea = db[2] * db[3]; /* loadRes: area = w * h */
            int outside = darea < lo || darea > hi;
            out[d].tp[a] = 0;
            out[d].ig[a] = outside ? (uint16_t)CE_T_ALL : 0; /* unmatched: dtIg = dtm == 0 and outside */
        }
        if (G == 0) continue; /* maskUtils.iou returns [] when either side is empty: nothing matches */
        for (int t = 0; t < CE_T; t++) {
            double thr = fmin(ev->iou_thr[t], 1 - 1e-10);
            memset(s->gm, 0, (size_t)G);
            for (int d = 0; d < D; d++) {
                if (s->rowmax[d] < thr) continue; /* no gt reaches the threshold: unmatched */
                const double *row = s->iou + (size_t)d * G;
                double best = thr;
                int m = -1;
                for (int j = 0; j < G; j++) {
                    int gi = s->gorder[j];
                    if (s->gm[j] && !anns[gidx[gi]].iscrowd) continue;
                    if (m > -1 && s->gig[m] == 0 && s->gig[j] == 1) break;
                    if (row[gi] < best) continue;
                    best = row[gi];
                    m = j;
                }
                if (m == -1) continue;
                s->gm[m] = 1;
                /* dtMatches holds the gt's id, so a gt of id 0 reads as "unmatched" in
                 * accumulate and in the area test, exactly as upstream. */
                const double *db = dets[keys[d].index].bbox;
                double darea = db[2] * db[3];
                int dtm = anns[gidx[s->gorder[m]]].id != 0;
                int ig = s->gig[m] || (!dtm && (darea < lo || darea > hi));
                uint16_t bit = (uint16_t)(1u << t);
                if (ig)
                    out[d].ig[a] |= bit;
                else
                    out[d].ig[a] &= (uint16_t)~bit;
                if (dtm && !ig) out[d].tp[a] |= bit;
            }
        }
    }
}

/* accumulate's np.argsort(-dtScores, kind='mergesort') over the concatenation in imgIds
 * order, each image's detections already best first: ties go by image position, then rank. */
static int ce_cmp_det(const void *a, const void *b) {
    const ce_det *x = a, *y = b;
    if (x->cat != y->cat) return x->cat < y->cat ? -1 : 1;
    if (x->score != y->score) return x->score > y->score ? -1 : 1;
    if (x->img != y->img) return x->img < y->img ? -1 : 1;
    return (x->rank > y->rank) - (x->rank < y->rank);
}

static int ce_cmp_cell(const void *a, const void *b) {
    const ce_cell *x = a, *y = b;
    if (x->cat != y->cat) return x->cat < y->cat ? -1 : 1;
    return (x->img > y->img) - (x->img < y->img);
}

static tta_status ce_accumulate(const tta_coco_eval *ev, const int *counts, tta_coco_stats *out,
                                double *class_ap);

tta_status tta_coco_eval_run(tta_coco_eval *ev, const tta_coco_det *dets, int n) {
    if (!ev || n < 0 || (n > 0 && !dets))
        return tta_errorf(TTA_ERR_INVALID_ARG, "tta_coco_eval_run: bad arguments (n = %d)", n);
    const tta_coco *gt = ev->gt;
    tta_status st = TTA_OK;
    ce_key *keys = tta_malloc(sizeof *keys * (size_t)(n ? n : 1));
    ce_det *out = tta_malloc(sizeof *out * (size_t)(n ? n : 1));
    ce_cell *cells = tta_malloc(sizeof *cells * (size_t)(gt->n_anns ? gt->n_anns : 1));
    int *det_first = tta_calloc((size_t)ev->n_cat + 1, sizeof(int));
    int *cell_first = tta_calloc((size_t)ev->n_cat + 1, sizeof(int));
    ce_scratch s = {0};
    if (!keys || !out || !cells || !det_first || !cell_first) {
        st = tta_errorf(TTA_ERR_NOMEM, "tta_coco_eval_run: out of memory for %d detections", n);
        goto done;
    }
    for (int i = 0; i < n; i++) {
        const tta_coco_det *d = &dets[i];
        int img = ce_find(ev->img_id, ev->n_img, d->image_id);
        if (img < 0) {
            st =
                tta_errorf(TTA_ERR_INVALID_ARG, "tta_coco_eval_run: detection %d: image_id %lld is not in %s",
                           i, (long long)d->image_id, ce_name(gt));
            goto done;
        }
        int cat = ce_find(ev->cat_id, ev->n_cat, d->category_id);
        if (cat < 0) {
            st = tta_errorf(TTA_ERR_INVALID_ARG,
                            "tta_coco_eval_run: detection %d: category_id %lld is not in %s", i,
                            (long long)d->category_id, ce_name(gt));
            goto done;
        }
        if (isnan(d->score)) {
            st = tta_errorf(TTA_ERR_INVALID_ARG,
                            "tta_coco_eval_run: detection %d (image_id %lld): score is NaN", i,
                            (long long)d->image_id);
            goto done;
        }
        if (isnan(d->bbox[0]) || isnan(d->bbox[1]) || isnan(d->bbox[2]) || isnan(d->bbox[3])) {
            st = tta_errorf(TTA_ERR_INVALID_ARG,
                            "tta_coco_eval_run: detection %d (image_id %lld): bbox has a NaN", i,
                            (long long)d->image_id);
            goto done;
        }
        if (d->bbox[2] < 0 || d->bbox[3] < 0) {
            st = tta_errorf(
                TTA_ERR_INVALID_ARG,
                "tta_coco_eval_run: detection %d (image_id %lld): negative width or height (%g x %g)", i,
                (long long)d->image_id, d->bbox[2], d->bbox[3]);
            goto done;
        }
        keys[i] = (ce_key){d->score, img, cat, i};
    }
    /* _dts[img, cat] in results order, then argsort(-score, mergesort) per cell */
    qsort(keys, (size_t)n, sizeof *keys, ce_cmp_key);

    /* scratch for the largest cell */
    int maxg = 0, maxd = 0;
    for (int i = 0, j; i < gt->n_anns; i = j) {
        int a = ev->gt_order[i];
        for (j = i + 1; j < gt->n_anns; j++) {
            int b = ev->gt_order[j];
            if (ev->gt_img[b] != ev->gt_img[a] || ev->gt_cat[b] != ev->gt_cat[a]) break;
        }
        if (j - i > maxg) maxg = j - i;
    }
    for (int i = 0, j; i < n; i = j) {
        for (j = i + 1; j < n && keys[j].img == keys[i].img && keys[j].cat == keys[i].cat; j++) {
        }
        if (j - i > maxd) maxd = j - i;
    }
    if (maxd > CE_MAXDET) maxd = CE_MAXDET;
    s.iou = tta_malloc(sizeof(double) * ((size_t)maxd * maxg + 1));
    s.rowmax = tta_malloc(sizeof(double) * ((size_t)maxd + 1));
    s.gorder = tta_malloc(sizeof(int) * ((size_t)maxg + 1));
    s.gig = tta_malloc((size_t)maxg + 1);
    s.gm = tta_malloc((size_t)maxg + 1);
    if (!s.iou || !s.rowmax || !s.gorder || !s.gig || !s.gm) {
        st = tta_errorf(TTA_ERR_NOMEM, "tta_coco_eval_run: out of memory (cell of %d x %d)", maxd, maxg);
        goto done;
    }

    /* evaluate: walk the gt cells and the detection cells together in (image, category) order */
    int gi = 0, di = 0, n_out = 0, n_cells = 0;
    int *gidx = ev->gt_order;
    while (gi < gt->n_anns || di < n) {
        int img, cat;
        long long gkey =
            gi < gt->n_anns ? (long long)ev->gt_img[gidx[gi]] * ev->n_cat + ev->gt_cat[gidx[gi]] : LLONG_MAX;
        long long dkey = di < n ? (long long)keys[di].img * ev->n_cat + keys[di].cat : LLONG_MAX;
        long long key = gkey < dkey ? gkey : dkey;
        img = (int)(key / (ev->n_cat ? ev->n_cat : 1));
        cat = (int)(key % (ev->n_cat ? ev->n_cat : 1));
        int g0 = gi, d0 = di;
        while (gi < gt->n_anns && ev->gt_img[gidx[gi]] == img && ev->gt_cat[gidx[gi]] == cat)
            gi++;
        while (di < n && keys[di].img == img && keys[di].cat == cat)
            di++;
        int G = gi - g0, D = di - d0 < CE_MAXDET ? di - d0 : CE_MAXDET;
        if (G > 0) {
            ce_cell *c = &cells[n_cells++];
            c->img = img;
            c->cat = cat;
            for (int a = 0; a < CE_A; a++) {
                c->npig[a] = 0;
                for (int g = g0; g < gi; g++) {
                    const tta_coco_ann *an = &gt->anns[gidx[g]];
                    c->npig[a] += !(an->iscrowd != 0 || an->area < ce_area_lo[a] || an->area > ce_area_hi[a]);
                }
            }
        }
        if (D > 0) {
            ce_eval_cell(ev, dets, keys + d0, D, gidx + g0, G, &s, out + n_out);
            n_out += D;
        }
    }

    qsort(out, (size_t)n_out, sizeof *out, ce_cmp_det);
    qsort(cells, (size_t)n_cells, sizeof *cells, ce_cmp_cell);
    for (int i = 0; i < n_out; i++)
        det_first[out[i].cat + 1]++;
    for (int i = 0; i < n_cells; i++)
        cell_first[cells[i].cat + 1]++;
    for (int k = 0; k < ev->n_cat; k++) {
        det_first[k + 1] += det_first[k];
        cell_first[k + 1] += cell_first[k];
    }
    int max_points = 0;
    for (int k = 0; k < ev->n_cat; k++)
        for (int a = 0; a < CE_A; a++)
            for (int t = 0; t < CE_T; t++) {
                int c = 0;
                for (int i = det_first[k]; i < det_first[k + 1]; i++)
                    c += (out[i].tp[a] >> t) & 1u;
                if (c > max_points) max_points = c;
            }

    /* commit */
    tta_free(ev->dets);
    tta_free(ev->cells);
    tta_free(ev->det_first);
    tta_free(ev->cell_first);
    ev->dets = out;
    ev->n_dets = n_out;
    ev->cells = cells;
    ev->n_cells = n_cells;
    ev->det_first = det_first;
    ev->cell_first = cell_first;
    ev->max_points = max_points;
    ev->has_run = 1;
    out = NULL;
    cells = NULL;
    det_first = cell_first = NULL;
    st = ce_accumulate(ev, NULL, NULL, ev->class_ap);
    if (st != TTA_OK) ev->has_run = 0;
done:
    tta_free(keys);
    tta_free(out);
    tta_free(cells);
    tta_free(det_first);
    tta_free(cell_first);
    tta_free(s.iou);
    tta_free(s.rowmax);
    tta_free(s.gorder);
    tta_free(s.gig);
    tta_free(s.gm);
    return st;
}

/* ---- accumulate + summarize -------------------------------------------------------------- */

/* Sum over the recall thresholds of the interpolated precision of one (category, area,
 * threshold): np points (rc ascending, pr) at the true positives. For each recall threshold r
 * upstream takes pr (made monotone from the right) at searchsorted(rc, r, 'left'), 0 past the
 * end; that is the largest pr among points with rc >= r. */
static double ce_precision_sum(const double *rec_thr, const double *rc, const double *pr, int np) {
    double sum = 0.0, curmax = 0.0;
    int ri = CE_R - 1;
    if (np == 0) return 0.0;
    while (ri >= 0 && rec_thr[ri] > rc[np - 1])
        ri--; /* past the end: q = 0 */
    for (int p = np - 1; p >= 0 && ri >= 0; p--) {
        if (pr[p] > curmax) curmax = pr[p];
        double lower = p > 0 ? rc[p - 1] : -INFINITY;
        while (ri >= 0 && rec_thr[ri] > lower) {
            sum += curmax;
            ri--;
        }
    }
    return sum;
}

/* COCOeval.accumulate + summarize. counts: per gt image (NULL: 1). out and class_ap optional. */
static tta_status ce_accumulate(const tta_coco_eval *ev, const int *counts, tta_coco_stats *out,
                                double *class_ap) {
    size_t cap = (size_t)(ev->max_points ? ev->max_points : 1);
    double *rc = tta_malloc(sizeof(double) * CE_T * cap);
    double *pr = tta_malloc(sizeof(double) * CE_T * cap);
    if (!rc || !pr) {
        tta_free(rc);
        tta_free(pr);
        return tta_errorf(TTA_ERR_NOMEM, "tta_coco_eval_stats: out of memory");
    }
    /* sums of the entries > -1 of precision[:, :, :, a, maxDet 100] and recall[...] */
    double ap_sum[CE_A] = {0}, ar_sum[CE_A] = {0}, ap50 = 0, ap75 = 0, ar1 = 0, ar10 = 0;
    long ap_n[CE_A] = {0}, ar_n[CE_A] = {0}, ap50_n = 0, ap75_n = 0;
    for (int k = 0; k < ev->n_cat; k++) {
        if (class_ap) class_ap[ev->cat_index[k]] = -1.0;
        for (int a = 0; a < CE_A; a++) {
            int64_t npig = 0;
            for (int c = ev->cell_first[k]; c < ev->cell_first[k + 1]; c++) {
                const ce_cell *cell = &ev->cells[c];
                int64_t w = counts ? counts[ev->img_index[cell->img]] : 1;
                npig += w * cell->npig[a];
            }
            if (npig == 0) continue; /* precision and recall stay -1 */
            double dnpig = (double)npig;
            int64_t wall = 0, cnt[CE_T] = {0}, tp[CE_T] = {0}, tp1[CE_T] = {0}, tp10[CE_T] = {0};
            int np[CE_T] = {0};
            for (int i = ev->det_first[k]; i < ev->det_first[k + 1]; i++) {
                const ce_det *d = &ev->dets[i];
                unsigned ig = d->ig[a];
                if (ig == CE_T_ALL) continue; /* neither tp nor fp at any threshold */
                int64_t w = counts ? counts[ev->img_index[d->img]] : 1;
                if (w == 0) continue;
                if (ig == 0) {
                    wall += w;
                } else {
                    for (int t = 0; t < CE_T; t++)
                        if (!((ig >> t) & 1u)) cnt[t] += w;
                }
                for (unsigned m = d->tp[a]; m; m &= m - 1) {
                    int t = __builtin_ctz(m);
                    tp[t] += w;
                    double tpd = (double)tp[t], fpd = (double)(wall + cnt[t] - tp[t]);
                    rc[(size_t)t * cap + np[t]] = tpd / dnpig;
                    pr[(size_t)t * cap + np[t]] = tpd / (fpd + tpd + DBL_EPSILON); /* np.spacing(1) */
                    np[t]++;
                    if (a == 0 && d->rank < 10) {
                        tp10[t] += w;
                        if (d->rank < 1) tp1[t] += w;
                    }
                }
            }
            double psum = 0.0;
            for (int t = 0; t < CE_T; t++) {
                double q = ce_precision_sum(ev->rec_thr, rc + (size_t)t * cap, pr + (size_t)t * cap, np[t]);
                psum += q;
                if (a == 0 && t == 0) ap50 += q, ap50_n += CE_R;
                if (a == 0 && t == CE_T75) ap75 += q, ap75_n += CE_R;
                /* recall = rc[-1] (0 without detections) */
                ar_sum[a] += (double)tp[t] / dnpig;
                if (a == 0) {
                    ar1 += (double)tp1[t] / dnpig;
                    ar10 += (double)tp10[t] / dnpig;
                }
            }
            ap_sum[a] += psum;
            ap_n[a] += (long)CE_T * CE_R;
            ar_n[a] += CE_T;
            if (a == 0 && class_ap) class_ap[ev->cat_index[k]] = psum / (CE_T * CE_R);
        }
    }
    if (out) {
#define CE_MEAN(sum, n) ((n) > 0 ? (sum) / (double)(n) : -1.0)
        out->ap = CE_MEAN(ap_sum[0], ap_n[0]);
        out->ap50 = CE_MEAN(ap50, ap50_n);
        out->ap75 = CE_MEAN(ap75, ap75_n);
        out->ap_small = CE_MEAN(ap_sum[1], ap_n[1]);
        out->ap_medium = CE_MEAN(ap_sum[2], ap_n[2]);
        out->ap_large = CE_MEAN(ap_sum[3], ap_n[3]);
        out->ar1 = CE_MEAN(ar1, ar_n[0]);
        out->ar10 = CE_MEAN(ar10, ar_n[0]);
        out->ar100 = CE_MEAN(ar_sum[0], ar_n[0]);
        out->ar_small = CE_MEAN(ar_sum[1], ar_n[1]);
        out->ar_medium = CE_MEAN(ar_sum[2], ar_n[2]);
        out->ar_large = CE_MEAN(ar_sum[3], ar_n[3]);
#undef CE_MEAN
    }
    tta_free(rc);
    tta_free(pr);
    return TTA_OK;
}

tta_status tta_coco_eval_stats(const tta_coco_eval *ev, const int *image_counts, tta_coco_stats *out) {
    if (!ev || !out) return tta_errorf(TTA_ERR_INVALID_ARG, "tta_coco_eval_stats: NULL argument");
    if (!ev->has_run)
        return tta_errorf(TTA_ERR_INVALID_ARG,
                          "tta_coco_eval_stats: no detections evaluated yet (call tta_coco_eval_run)");
    if (image_counts)
        for (int i = 0; i < ev->n_img; i++)
            if (image_counts[i] < 0)
                return tta_errorf(TTA_ERR_INVALID_ARG,
                                  "tta_coco_eval_stats: image_counts[%d] = %d is negative", i,
                                  image_counts[i]);
    return ce_accumulate(ev, image_counts, out, NULL);
}

double tta_coco_eval_class_ap(const tta_coco_eval *ev, int k) {
    if (!ev || !ev->has_run || k < 0 || k >= ev->n_cat) return -1.0;
    return ev->class_ap[k];
}
