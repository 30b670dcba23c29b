/* decode.c - a detector's raw outputs turned into boxes: the YOLOv8 export layout [N, 4 + C, A],
 * the YOLOv5 layout [N, A, 5 + C] and the two-output layout (boxes [N, A, 4], scores [N, A, C]),
 * with cxcywh, xyxy or xywh boxes in pixels or normalised to the input size.
 *
 * Every class of an anchor that scores above the threshold gives a box (multi-label, as
 * Ultralytics' and mmdet's evaluation do), in anchor order; when there are more than top_k, the
 * best top_k are kept, still in anchor order (the merge rules sort by score themselves). Boxes stay in the model
 * input's frame: the caller de-augments them (tta_invert_boxes). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
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

static int float_desc(const void *a, const void *b) {
    float x = *(const float *)a, y = *(const float *)b;
    return (x < y) - (x > y);
}

#define SELECT_BINS 4096

static int score_bin(float s) {
    int b = (int)(s * SELECT_BINS);
    return b < 0 ? 0 : b >= SELECT_BINS ? SELECT_BINS - 1 : b;
}

/* Keeps the k best of n boxes in place, in their order (ties at the cut: the first found), in
 * O(n): a histogram of the scores finds the bin of the k-th best, and only that bin is sorted.
 * Returns the new count. Sorting all n boxes instead cost more than the model on models whose
 * untrained or uncertain heads put most anchors above the threshold. */
static tta_status keep_best(tta_box *b, int n, int k, int *kept) {
    int *count = tta_calloc(SELECT_BINS, sizeof *count);
    if (!count) return tta_errorf(TTA_ERR_NOMEM, "out of memory");
    for (int i = 0; i < n; i++) count[score_bin(b[i].score)]++;
    int cut = SELECT_BINS - 1, above = 0;
    while (cut > 0 && above + count[cut] < k) above += count[cut--];
    int need = k - above, in_bin = count[cut];
    tta_free(count);
    float *s = tta_malloc(sizeof *s * (size_t)(in_bin > 0 ? in_bin : 1));
    if (!s) return tta_errorf(TTA_ERR_NOMEM, "out of memory");
    int m = 0;
    for (int i = 0; i < n; i++)
        if (score_bin(b[i].score) == cut) s[m++] = b[i].score;
    qsort(s, (size_t)m, sizeof *s, float_desc);
    float t = need > 0 && need <= m ? s[need - 1] : 2.0f;
    int ties = 0; /* boxes scoring exactly t that fit */
    for (int j = 0; j < need && j < m; j++) ties += s[j] == t;
    tta_free(s);
    int w = 0;
    for (int i = 0; i < n; i++) {
        int bin = score_bin(b[i].score);
        int keep = bin > cut || (bin == cut && (b[i].score > t || (b[i].score == t && ties-- > 0)));
        if (keep) b[w++] = b[i];
    }
    *kept = w;
    return TTA_OK;
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
    const int first = out->n;
    TTA_TRY(tta_boxes_reserve(out, out->n + (int)(A < 4096 ? A * (C < 16 ? C : 16) : 4096)));
    for (int64_t a = 0; a < A; a++) {
        const float *bx = boxes + a * box_row, *sc = scores + a * sc_row;
        float obj = 1.0f;
        if (obj_at >= 0) {
            obj = bx[obj_at];
            if (f->score_sigmoid) obj = sigmoidf(obj);
            if (isnan(obj)) return tta_errorf(TTA_ERR_SHAPE, "the detector gave a NaN objectness at anchor %lld", (long long)a);
            if (!(obj > f->score_thr)) continue;
        }
        for (int c = 0; c < C; c++) {
            float s = sc[(int64_t)c * sc_col];
            if (f->score_sigmoid) s = sigmoidf(s);
            s *= obj;
            if (isnan(s))
                return tta_errorf(TTA_ERR_SHAPE, "the detector gave a NaN score at anchor %lld, class %d", (long long)a, c);
            if (!(s > f->score_thr)) continue;
            tta_box b = {0};
            corners(f, bx[0], bx[box_col], bx[2 * box_col], bx[3 * box_col], in_w, in_h, &b);
            if (!isfinite(b.x1) || !isfinite(b.y1) || !isfinite(b.x2) || !isfinite(b.y2))
                return tta_errorf(TTA_ERR_SHAPE, "the detector gave a non-finite box at anchor %lld", (long long)a);
            b.score = s;
            b.label = c;
            b.view = view;
            b.support = 1;
            TTA_TRY(tta_boxes_push(out, &b));
        }
    }
    int n = out->n - first;
    if (f->top_k > 0 && n > f->top_k) {
        int kept = n;
        TTA_TRY(keep_best(out->box + first, n, f->top_k, &kept));
        out->n = first + kept;
    }
    return TTA_OK;
}
