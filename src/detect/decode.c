/* decode.c - a detector's raw outputs turned into boxes: the YOLOv8 export layout [N, 4 + C, A],
 * the YOLOv5 layout [N, A, 5 + C] and the two-output layout (boxes [N, A, 4], scores [N, A, C]),
 * with cxcywh, xyxy or xywh boxes in pixels or normalised to the input size.
 *
 * Every class of an anchor that scores above the threshold gives a box (multi-label, as
 * Ultralytics' and mmdet's evaluation do), in anchor order; when there are more than top_k, the
 * best top_k are kept, still in anchor order (the merge rules sort by score themselves). Boxes stay in the model
 * input's frame: the caller de-augments them (tta_invert_boxes).
 *
 * Cost: a head of A anchors x C classes is read once in memory order (class rows for the YOLOv8
 * layout), after a sample of it sets a floor that lets only about 2 top_k scores be collected;
 * the top_k are chosen by a radix select and boxes are made only for them. On a YOLOv8n-style
 * head at 640 x 640 with every score above 0.001 (672,000 per view) this is under 5% of the
 * model's time; collecting every score and making every box was 15%. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/error.h"
#include "detect/score_key.h"
#include "tta/detect.h"

static const char *const layout_names[] = {"auto", "yolov8", "yolov5", "boxes-scores"};
static const char *const format_names[] = {"auto", "cxcywh", "xyxy", "xywh"};

tta_status tta_det_layout_parse(const char *name, tta_det_layout *out) {
    for (int i = 0; name && i < 4; i++)
        if (!strcmp(name, layout_names[i])) {
            *out = (tta_det_layout)i;
            return TTA_OK;
        }
    return tta_errorf(TTA_ERR_INVALID_ARG, "unknown detection layout '%s' (expected auto, yolov8, yolov5 or boxes-scores)",
                      name ? name : "(null)");
}

const char *tta_det_layout_name(tta_det_layout layout) {
    return (unsigned)layout < 4 ? layout_names[layout] : "?";
}

tta_status tta_box_format_parse(const char *name, tta_box_format *out) {
    for (int i = 0; name && i < 4; i++)
        if (!strcmp(name, format_names[i])) {
            *out = (tta_box_format)i;
            return TTA_OK;
        }
    return tta_errorf(TTA_ERR_INVALID_ARG, "unknown box format '%s' (expected auto, cxcywh, xyxy or xywh)",
                      name ? name : "(null)");
}

const char *tta_box_format_name(tta_box_format f) { return (unsigned)f < 4 ? format_names[f] : "?"; }

static void shape_text(const tta_tensor *t, char *buf, size_t size) {
    size_t n = (size_t)snprintf(buf, size, "[");
    for (int i = 0; i < t->ndim && n < size; i++)
        n += (size_t)snprintf(buf + n, size - n, "%s%lld", i ? ", " : "", (long long)t->dims[i]);
    if (n < size) snprintf(buf + n, size - n, "]");
}

static tta_status misfit(const tta_det_format *f, const tta_tensor *t, const char *why) {
    char s[128];
    shape_text(t, s, sizeof s);
    return tta_errorf(TTA_ERR_SHAPE, "the detector's output %s does not fit the %s layout with %d classes: %s", s,
                      tta_det_layout_name(f->layout), f->n_classes, why);
}

static inline float sigmoidf(float x) { return 1.0f / (1.0f + expf(-x)); }

#define SELECT_BINS 4096

static int score_bin(float s) {
    int b = (int)(s * SELECT_BINS);
    return b < 0 ? 0 : b >= SELECT_BINS ? SELECT_BINS - 1 : b;
}

/* A score above the threshold: the anchor and class it came from. */
typedef struct candidate {
    float score;
    uint32_t anchor, cls;
} candidate;


/* Keeps the k best of n candidates in place, in their order (ties at the cut: the first
 * found), in O(n): the k-th best score by a radix select on its key bits (a byte at a time,
 * from the top, counting only the candidates that share the bytes chosen so far), then one
 * pass that keeps those above it and the first ties. Sorting all n instead cost more than the
 * model on models whose untrained or uncertain heads put most anchors above the threshold. */
static void keep_best(candidate *b, int n, int k, int *kept) {
    uint32_t prefix = 0, mask = 0;
    int rank = k; /* the wanted score is the rank-th best among those matching prefix */
    for (int shift = 24; shift >= 0; shift -= 8) {
        int count[256] = {0};
        for (int i = 0; i < n; i++) {
            uint32_t key = det_float_key(b[i].score);
            if ((key & mask) == prefix) count[key >> shift & 255]++;
        }
        int byte = 255;
        while (byte > 0 && count[byte] < rank) rank -= count[byte--];
        prefix |= (uint32_t)byte << shift;
        mask |= 255u << shift;
    }
    /* prefix is the key of the k-th best; rank of the candidates with that key fit */
    int w = 0;
    for (int i = 0; i < n; i++) {
        uint32_t key = det_float_key(b[i].score);
        if (key > prefix || (key == prefix && rank-- > 0)) b[w++] = b[i];
    }
    *kept = w;
}

/* Corners from the four numbers of the declared format, in input pixels. */
static void corners(const tta_det_format *f, float a, float b, float c, float d, int in_w, int in_h, tta_box *box) {
    if (f->normalized) a *= in_w, b *= in_h, c *= in_w, d *= in_h;
    switch (f->box_format) {
    case TTA_BOX_FORMAT_XYXY: box->x1 = a, box->y1 = b, box->x2 = c, box->y2 = d; break;
    case TTA_BOX_FORMAT_XYWH: box->x1 = a, box->y1 = b, box->x2 = a + c, box->y2 = b + d; break;
    default: box->x1 = a - c / 2, box->y1 = b - d / 2, box->x2 = a + c / 2, box->y2 = b + d / 2; break;
    }
    if (box->x2 < box->x1) { float t = box->x1; box->x1 = box->x2; box->x2 = t; }
    if (box->y2 < box->y1) { float t = box->y1; box->y1 = box->y2; box->y2 = t; }
}

/* Where a view's scores are: score of anchor a, class c at scores[a * sc_row + c * sc_col]
 * (times the objectness at boxes[a * box_row + obj_at] when obj_at >= 0). */
typedef struct scan {
    const tta_det_format *f;
    const float *boxes, *scores;
    int64_t A;
    int C;
    int64_t box_row, box_col, sc_row, sc_col, obj_at;
} scan;

typedef struct cand_list {
    candidate *c, *tmp;
    int n, cap;
} cand_list;

static float objectness(const scan *z, int64_t a) {
    float obj = z->boxes[a * z->box_row + z->obj_at];
    return z->f->score_sigmoid ? sigmoidf(obj) : obj;
}

static float score_at(const scan *z, int64_t a, int c) {
    float s = z->scores[a * z->sc_row + (int64_t)c * z->sc_col];
    if (z->f->score_sigmoid) s = sigmoidf(s);
    return z->obj_at >= 0 ? s * objectness(z, a) : s;
}

static tta_status push(cand_list *l, float s, int64_t a, int c) {
    if (l->n == l->cap) {
        int grown = l->cap ? (l->cap < (1 << 28) ? 2 * l->cap : 0) : 1024;
        candidate *more = grown ? tta_realloc(l->c, sizeof *more * (size_t)grown) : NULL;
        if (!more) return tta_errorf(TTA_ERR_NOMEM, "out of memory for the detector's candidate boxes");
        l->c = more;
        l->cap = grown;
    }
    l->c[l->n++] = (candidate){s, (uint32_t)a, (uint32_t)c};
    return TTA_OK;
}

static tta_status nan_score(int64_t a, int c) {
    return tta_errorf(TTA_ERR_SHAPE, "the detector gave a NaN score at anchor %lld, class %d", (long long)a, c);
}

/* Appends every score above the threshold and at least lo, in memory order: class by class
 * when a class's scores are contiguous ([N, 4 + C, A]), else anchor by anchor. */
static tta_status collect(const scan *z, float lo, cand_list *l) {
    const float thr = z->f->score_thr;
    if (z->sc_row == 1 && z->A > 1 && !z->f->score_sigmoid && z->obj_at < 0) {
        for (int c = 0; c < z->C; c++) {
            const float *row = z->scores + (int64_t)c * z->sc_col;
            for (int64_t a = 0; a < z->A; a++) {
                float s = row[a];
                if (s > thr && s >= lo) TTA_TRY(push(l, s, a, c));
                else if (isnan(s)) return nan_score(a, c);
            }
        }
        return TTA_OK;
    }
    for (int64_t a = 0; a < z->A; a++) {
        if (z->obj_at >= 0) {
            float obj = objectness(z, a);
            if (isnan(obj)) return tta_errorf(TTA_ERR_SHAPE, "the detector gave a NaN objectness at anchor %lld", (long long)a);
            if (!(obj > thr)) continue;
        }
        for (int c = 0; c < z->C; c++) {
            float s = score_at(z, a, c);
            if (s > thr && s >= lo) TTA_TRY(push(l, s, a, c));
            else if (isnan(s)) return nan_score(a, c);
        }
    }
    return TTA_OK;
}

/* A floor that about 2 top_k scores reach, from every step-th score (bin edges of SELECT_BINS),
 * or 0 when the sample shows no need for one. */
static float sample_floor(const scan *z, int top_k) {
    const int64_t total = z->A * z->C, want = 16 * (int64_t)top_k;
    const int64_t step = total / want > 1 ? total / want : 1;
    int count[SELECT_BINS] = {0};
    for (int64_t p = 0; p < total; p += step) {
        int64_t a = z->sc_row == 1 && z->A > 1 ? p % z->A : p / z->C;
        int c = (int)(z->sc_row == 1 && z->A > 1 ? p / z->A : p % z->C);
        float s = score_at(z, a, c);
        if (s > z->f->score_thr) count[score_bin(s)]++; /* NaN: not counted, collect reports it */
    }
    int64_t need = 2 * (int64_t)top_k / step + 1, above = 0;
    for (int b = SELECT_BINS - 1; b > 0; b--) {
        above += count[b];
        if (above >= need) return (float)b / SELECT_BINS;
    }
    return 0.0f;
}

/* Candidates collected class by class back into anchor order (then class): a stable radix sort
 * on the anchor's bytes, after the class order they came in. */
static tta_status sort_by_anchor(cand_list *l) {
    if (l->n < 2) return TTA_OK;
    l->tmp = tta_malloc(sizeof *l->tmp * (size_t)l->n);
    if (!l->tmp) return tta_errorf(TTA_ERR_NOMEM, "out of memory for the detector's candidate boxes");
    uint32_t all_or = 0;
    for (int i = 0; i < l->n; i++) all_or |= l->c[i].anchor;
    candidate *src = l->c, *dst = l->tmp;
    for (int shift = 0; shift < 32 && all_or >> shift; shift += 8) {
        int count[256] = {0};
        for (int i = 0; i < l->n; i++) count[src[i].anchor >> shift & 255]++;
        for (int b = 0, at = 0; b < 256; b++) {
            int k = count[b];
            count[b] = at;
            at += k;
        }
        for (int i = 0; i < l->n; i++) dst[count[src[i].anchor >> shift & 255]++] = src[i];
        candidate *t = src;
        src = dst;
        dst = t;
    }
    if (src != l->c) memcpy(l->c, src, sizeof *src * (size_t)l->n);
    return TTA_OK;
}

tta_status tta_det_decode(const tta_det_format *f, const tta_tensor *out0, const tta_tensor *out1, int item,
                          int in_w, int in_h, int view, tta_boxes *out) {
    if (!f || !out0 || !out || in_w <= 0 || in_h <= 0 || item < 0)
        return tta_errorf(TTA_ERR_INVALID_ARG, "tta_det_decode: bad arguments");
    if (f->n_classes < 1) return tta_errorf(TTA_ERR_INVALID_ARG, "tta_det_decode: the class count is not known");
    const int C = f->n_classes;
    if (out0->dtype != TTA_DTYPE_FLOAT32) return misfit(f, out0, "expected float32 values");
    if (out0->ndim != 3) return misfit(f, out0, "expected rank 3");
    if (item >= out0->dims[0]) return misfit(f, out0, "fewer batch items than images sent");
    const float *boxes = NULL, *scores = NULL;
    int64_t A = 0, box_row = 0, box_col = 0, sc_row = 0, sc_col = 0, obj_at = -1;
    switch (f->layout) {
    case TTA_DET_LAYOUT_YOLOV8: /* [N, 4 + C, A]: value k of anchor a at k * A + a */
        if (out0->dims[1] != 4 + C) return misfit(f, out0, "dimension 1 must be 4 + classes");
        A = out0->dims[2];
        boxes = (const float *)out0->data + (size_t)item * (size_t)(4 + C) * (size_t)A;
        scores = boxes + 4 * A;
        box_row = 1, box_col = A, sc_row = 1, sc_col = A;
        break;
    case TTA_DET_LAYOUT_YOLOV5: /* [N, A, 5 + C]: value k of anchor a at a * (5 + C) + k */
        if (out0->dims[2] != 5 + C) return misfit(f, out0, "dimension 2 must be 5 + classes");
        A = out0->dims[1];
        boxes = (const float *)out0->data + (size_t)item * (size_t)A * (size_t)(5 + C);
        scores = boxes + 5;
        obj_at = 4;
        box_row = 5 + C, box_col = 1, sc_row = 5 + C, sc_col = 1;
        break;
    case TTA_DET_LAYOUT_BOXES_SCORES:
        if (!out1) return misfit(f, out0, "the two-output layout needs a scores output");
        if (out1->dtype != TTA_DTYPE_FLOAT32 || out1->ndim != 3) return misfit(f, out1, "scores must be float32 [N, A, C]");
        if (out0->dims[2] != 4) return misfit(f, out0, "boxes must be [N, A, 4]");
        if (out1->dims[2] != C) return misfit(f, out1, "scores must be [N, A, classes]");
        if (out1->dims[1] != out0->dims[1] || out1->dims[0] != out0->dims[0])
            return misfit(f, out1, "boxes and scores disagree on the batch or anchor count");
        A = out0->dims[1];
        boxes = (const float *)out0->data + (size_t)item * (size_t)A * 4;
        scores = (const float *)out1->data + (size_t)item * (size_t)A * (size_t)C;
        box_row = 4, box_col = 1, sc_row = C, sc_col = 1;
        break;
    default: return tta_errorf(TTA_ERR_INVALID_ARG, "tta_det_decode: the layout is not resolved");
    }
    scan z = {f, boxes, scores, A, C, box_row, box_col, sc_row, sc_col, obj_at};
    const int64_t total = A * C;
    cand_list cl = {0};
    tta_status st = TTA_OK;
    /* With a top_k far below the scores, a sample of them sets a floor that about 2 top_k pass
       (the floor is a histogram bin's lower edge), so that only those are collected; when fewer
       than top_k pass it, everything above the threshold is collected after all. Exact either
       way: the top_k of all are the top_k of those at or above a floor that top_k pass. */
    float lo = 0.0f;
    if (f->top_k > 0 && total > 8 * (int64_t)f->top_k) lo = sample_floor(&z, f->top_k);
    st = collect(&z, lo, &cl);
    if (!st && lo > 0 && cl.n < f->top_k) {
        cl.n = 0;
        st = collect(&z, 0.0f, &cl);
    }
    if (!st && z.sc_row == 1 && A > 1) st = sort_by_anchor(&cl); /* collected class by class */
    int n = cl.n;
    if (!st && f->top_k > 0 && n > f->top_k) keep_best(cl.c, n, f->top_k, &n);
    if (!st) st = tta_boxes_reserve(out, out->n + n);
    for (int i = 0; i < n && !st; i++) {
        const float *bx = boxes + (int64_t)cl.c[i].anchor * box_row;
        tta_box *b = &out->box[out->n];
        corners(f, bx[0], bx[box_col], bx[2 * box_col], bx[3 * box_col], in_w, in_h, b);
        if (!isfinite(b->x1) || !isfinite(b->y1) || !isfinite(b->x2) || !isfinite(b->y2)) {
            st = tta_errorf(TTA_ERR_SHAPE, "the detector gave a non-finite box at anchor %u", cl.c[i].anchor);
            break;
        }
        b->score = cl.c[i].score;
        b->label = (int)cl.c[i].cls;
        b->view = view;
        b->support = 1;
        out->n++;
    }
    tta_free(cl.c);
    tta_free(cl.tmp);
    return st;
}
