/* misc_select.c - TopK and NonMaxSuppression, plain C.
 *
 * TopK: K from the attribute (opset < 10) or the second input (>= 10); `largest` and `sorted`
 * from opset 11. Equal values keep the lower index first. Each slice along the axis is
 * selected with a bounded heap when K is small, else fully sorted; the output is always
 * sorted (a valid order for sorted=0 too).
 *
 * NonMaxSuppression: greedy per (batch, class) suppression, in the order of ONNX Runtime:
 * candidates above score_threshold by decreasing score (lower box index first on ties), a
 * candidate is dropped when its IoU with an already selected box exceeds iou_threshold, at
 * most max_output_boxes_per_class per class. The number of selected boxes depends on the
 * data, so infer needs every input's data: it runs the suppression and keeps the result for
 * the compute that follows.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "runtime/ops/misc.h"

/* ---- TopK */

typedef struct topk_state {
    misc_scratch scratch; /* first member: see tta_misc_release */
    int64_t axis, k_attr;
    bool largest, sorted;
} topk_state;

typedef struct topk_item {
    double v;
    int64_t i;
} topk_item;

/* Whether a ranks before b: larger (or smaller) value first, NaN as the largest value,
 * lower index first among equals. */
static inline bool topk_before(const topk_item *a, const topk_item *b, bool largest) {
    bool an = isnan(a->v), bn = isnan(b->v);
    if (an || bn) {
        if (an && bn) return a->i < b->i;
        return largest ? an : bn;
    }
    if (a->v != b->v) return largest ? a->v > b->v : a->v < b->v;
    return a->i < b->i;
}

static int cmp_largest(const void *pa, const void *pb) {
    const topk_item *a = pa, *b = pb;
    return topk_before(a, b, true) ? -1 : topk_before(b, a, true) ? 1 : 0;
}

static int cmp_smallest(const void *pa, const void *pb) {
    const topk_item *a = pa, *b = pb;
    return topk_before(a, b, false) ? -1 : topk_before(b, a, false) ? 1 : 0;
}

tta_status tta_misc_topk_prepare(tta_op_ctx *ctx) {
    const tta_node *n = ctx->node;
    topk_state *st = tta_calloc(1, sizeof *st);
    if (!st) return tta_op_error(ctx, TTA_ERR_NOMEM, "out of memory");
    ctx->state = st;
    st->axis = tta_attr_int(n, "axis", -1);
    st->largest = tta_attr_int(n, "largest", 1) != 0;
    st->sorted = tta_attr_int(n, "sorted", 1) != 0;
    st->k_attr = -1;
    if (n->opset < 10) {
        if (!tta_node_attr(n, "k")) return tta_op_error(ctx, TTA_ERR_ATTR, "missing attribute 'k'");
        st->k_attr = tta_attr_int(n, "k", -1);
        if (st->k_attr < 0) return tta_op_error(ctx, TTA_ERR_ATTR, "k must be >= 0");
    }
    return TTA_OK;
}

static tta_status topk_k(tta_op_ctx *ctx, const topk_state *st, int64_t *k) {
    if (st->k_attr >= 0) {
        *k = st->k_attr;
        return TTA_OK;
    }
    TTA_NEED_DATA(ctx, 1);
    const tta_tensor *kt = ctx->in[1];
    if (!tta_dtype_is_int(kt->dtype) || tta_tensor_numel(kt) != 1)
        return tta_op_error(ctx, TTA_ERR_SHAPE, "K must be a single int64");
    *k = tta_get_i64(kt, 0);
    return TTA_OK;
}

tta_status tta_misc_topk_infer(tta_op_ctx *ctx) {
    topk_state *st = ctx->state;
    TTA_NEED_INPUT(ctx, 0);
    const tta_tensor *x = ctx->in[0];
    if (!misc_numeric(x->dtype))
        return tta_op_error(ctx, TTA_ERR_UNSUPPORTED, "unsupported input type %s", tta_dtype_name(x->dtype));
    if (x->ndim == 0) return tta_op_error(ctx, TTA_ERR_SHAPE, "input must have rank >= 1");
    int axis;
    TTA_TRY(tta_norm_axis(ctx, st->axis, x->ndim, &axis));
    int64_t k;
    tta_status s = topk_k(ctx, st, &k);
    if (s != TTA_OK) return s;
    if (k < 0 || k > x->dims[axis])
        return tta_op_error(ctx, TTA_ERR_SHAPE, "K = %lld out of range for an axis of %lld", (long long)k,
                            (long long)x->dims[axis]);
    int64_t dims[TTA_MAX_DIMS];
    memcpy(dims, x->dims, sizeof dims);
    dims[axis] = k;
    TTA_TRY(tta_set_shape(ctx->out[0], x->dtype, x->ndim, dims));
    if (ctx->n_out > 1 && ctx->out[1]) TTA_TRY(tta_set_shape(ctx->out[1], TTA_DTYPE_INT64, x->ndim, dims));
    return TTA_OK;
}

/* Keeps the k best of items[0..n) in items[0..k), sorted. */
static void topk_select(topk_item *items, int64_t n, int64_t k, bool largest) {
    int (*cmp)(const void *, const void *) = largest ? cmp_largest : cmp_smallest;
    if (k == 0) return;
    if (k * 8 >= n) {
        qsort(items, (size_t)n, sizeof *items, cmp);
        return;
    }
    /* heap of the k best so far, the worst at the root */
    for (int64_t i = 0; i < n; i++) {
        topk_item it = items[i];
        int64_t pos;
        if (i < k) { /* sift up */
            pos = i;
            while (pos > 0) {
                int64_t parent = (pos - 1) / 2;
                if (!topk_before(&items[parent], &it, largest)) break;
                items[pos] = items[parent];
                pos = parent;
            }
            items[pos] = it;
            continue;
        }
        if (!topk_before(&it, &items[0], largest)) continue;
        pos = 0; /* replace the root, sift down */
        for (;;) {
            int64_t c = 2 * pos + 1;
            if (c >= k) break;
            if (c + 1 < k && topk_before(&items[c], &items[c + 1], largest)) c++;
            if (!topk_before(&it, &items[c], largest)) break;
            items[pos] = items[c];
            pos = c;
        }
        items[pos] = it;
    }
    qsort(items, (size_t)k, sizeof *items, cmp);
}

tta_status tta_misc_topk_compute(tta_op_ctx *ctx) {
    topk_state *st = ctx->state;
    const tta_tensor *x = ctx->in[0];
    tta_tensor *vals = ctx->out[0], *idx = ctx->n_out > 1 ? ctx->out[1] : NULL;
    int axis;
    TTA_TRY(tta_norm_axis(ctx, st->axis, x->ndim, &axis));
    int64_t k;
    tta_status s = topk_k(ctx, st, &k);
    if (s != TTA_OK) return s == TTA_DEFER ? tta_op_error(ctx, TTA_ERR_INTERNAL, "K has no data at run time") : s;
    int64_t outer = misc_prod(x->dims, 0, axis), len = x->dims[axis], inner = misc_prod(x->dims, axis + 1, x->ndim);
    if (outer * inner * k == 0) return TTA_OK;
    topk_item *items = misc_scratch_get(&st->scratch, (size_t)len * sizeof *items);
    if (!items) return tta_op_error(ctx, TTA_ERR_NOMEM, "out of memory");
    size_t es = tta_dtype_size(x->dtype);
    const char *xd = x->data;
    char *vd = vals ? vals->data : NULL;
    int64_t *id = idx ? idx->data : NULL;
    for (int64_t o = 0; o < outer; o++) {
        for (int64_t i = 0; i < inner; i++) {
            int64_t base = o * len * inner + i;
            if (x->dtype == TTA_DTYPE_FLOAT32) {
                const float *xf = (const float *)x->data + base;
                for (int64_t a = 0; a < len; a++) items[a] = (topk_item){xf[a * inner], a};
            } else {
                for (int64_t a = 0; a < len; a++) items[a] = (topk_item){tta_get_f64(x, base + a * inner), a};
            }
            topk_select(items, len, k, st->largest);
            int64_t obase = o * k * inner + i;
            for (int64_t j = 0; j < k; j++) {
                int64_t src = base + items[j].i * inner, dst = obase + j * inner;
                if (vd) memcpy(vd + dst * es, xd + src * es, es);
                if (id) id[dst] = items[j].i;
            }
        }
    }
    return TTA_OK;
}

/* ---- NonMaxSuppression */

typedef struct nms_state {
    misc_scratch scratch; /* candidates and selected boxes of one class */
    misc_scratch result;  /* int64 triples kept from infer to compute */
    int64_t n_result;
    bool fresh; /* result computed by the infer just before compute */
    bool center_point_box;
} nms_state;

typedef struct nms_cand {
    float score;
    int64_t i;
} nms_cand;

static int cmp_cand(const void *pa, const void *pb) {
    const nms_cand *a = pa, *b = pb;
    if (a->score != b->score) return a->score > b->score ? -1 : 1;
    return a->i < b->i ? -1 : a->i > b->i ? 1 : 0;
}

tta_status tta_misc_nms_prepare(tta_op_ctx *ctx) {
    nms_state *st = tta_calloc(1, sizeof *st);
    if (!st) return tta_op_error(ctx, TTA_ERR_NOMEM, "out of memory");
    ctx->state = st;
    int64_t cpb = tta_attr_int(ctx->node, "center_point_box", 0);
    if (cpb != 0 && cpb != 1) return tta_op_error(ctx, TTA_ERR_ATTR, "center_point_box must be 0 or 1");
    st->center_point_box = cpb == 1;
    return TTA_OK;
}

void tta_misc_nms_release(tta_op_ctx *ctx) {
    nms_state *st = ctx->state;
    if (!st) return;
    misc_scratch_free(&st->scratch);
    misc_scratch_free(&st->result);
    tta_free(st);
    ctx->state = NULL;
}

/* Box i of a batch as (ymin, xmin, ymax, xmax). */
static void nms_box(const tta_tensor *boxes, int64_t off, bool center, double *b) {
    double v[4];
    if (boxes->dtype == TTA_DTYPE_FLOAT32) {
        const float *p = (const float *)boxes->data + off;
        for (int k = 0; k < 4; k++) v[k] = p[k];
    } else {
        for (int k = 0; k < 4; k++) v[k] = tta_get_f64(boxes, off + k);
    }
    if (center) { /* [x_center, y_center, width, height] */
        b[0] = v[1] - v[3] / 2;
        b[1] = v[0] - v[2] / 2;
        b[2] = v[1] + v[3] / 2;
        b[3] = v[0] + v[2] / 2;
    } else { /* [y1, x1, y2, x2], any two opposite corners */
        b[0] = fmin(v[0], v[2]);
        b[1] = fmin(v[1], v[3]);
        b[2] = fmax(v[0], v[2]);
        b[3] = fmax(v[1], v[3]);
    }
}

static bool nms_suppress(const double *a, const double *b, double iou_threshold) {
    double ih = fmin(a[2], b[2]) - fmax(a[0], b[0]), iw = fmin(a[3], b[3]) - fmax(a[1], b[1]);
    if (ih <= 0 || iw <= 0) return false;
    double inter = ih * iw;
    double area_a = (a[2] - a[0]) * (a[3] - a[1]), area_b = (b[2] - b[0]) * (b[3] - b[1]);
    if (area_a <= 0 || area_b <= 0) return false;
    double uni = area_a + area_b - inter;
    if (uni <= 0) return false;
    return inter / uni > iou_threshold;
}

/* Appends one (batch, class, box) triple to the result. */
static bool nms_push(nms_state *st, int64_t b, int64_t c, int64_t i) {
    size_t have = st->result.cap / (3 * sizeof(int64_t));
    if ((size_t)st->n_result >= have) {
        size_t cap = have ? have * 2 : 64;
        int64_t *nr = tta_malloc(cap * 3 * sizeof(int64_t));
        if (!nr) return false;
        if (st->n_result) memcpy(nr, st->result.p, (size_t)st->n_result * 3 * sizeof(int64_t));
        tta_free(st->result.p);
        st->result.p = nr;
        st->result.cap = cap * 3 * sizeof(int64_t);
    }
    int64_t *res = (int64_t *)st->result.p + st->n_result * 3;
    res[0] = b;
    res[1] = c;
    res[2] = i;
    st->n_result++;
    return true;
}

static tta_status nms_run(tta_op_ctx *ctx, nms_state *st) {
    const tta_tensor *boxes = ctx->in[0], *scores = ctx->in[1];
    if (!tta_dtype_is_float(boxes->dtype) || !tta_dtype_is_float(scores->dtype))
        return tta_op_error(ctx, TTA_ERR_UNSUPPORTED, "boxes and scores must be float");
    if (boxes->ndim != 3 || boxes->dims[2] != 4) return tta_op_error(ctx, TTA_ERR_SHAPE, "boxes must be [batch, boxes, 4]");
    if (scores->ndim != 3 || scores->dims[0] != boxes->dims[0] || scores->dims[2] != boxes->dims[1])
        return tta_op_error(ctx, TTA_ERR_SHAPE, "scores must be [batch, classes, boxes] matching boxes");
    int64_t max_out = 0;
    double iou_th = 0, score_th = -INFINITY;
    bool has_score_th = false;
    for (int i = 2; i < 5 && i < ctx->n_in; i++) {
        const tta_tensor *t = ctx->in[i];
        if (!t || tta_tensor_numel(t) == 0) continue;
        if (i == 2) max_out = tta_get_i64(t, 0);
        if (i == 3) iou_th = tta_get_f64(t, 0);
        if (i == 4) score_th = tta_get_f64(t, 0), has_score_th = true;
    }
    if (iou_th < 0 || iou_th > 1) return tta_op_error(ctx, TTA_ERR_SHAPE, "iou_threshold must be in [0, 1]");
    int64_t B = boxes->dims[0], N = boxes->dims[1], C = scores->dims[1];
    st->n_result = 0;
    if (max_out <= 0 || N == 0) return TTA_OK;
    int64_t per_class = max_out < N ? max_out : N;
    /* candidates (N) + selected boxes (per_class x 4 doubles) */
    size_t need = (size_t)N * sizeof(nms_cand) + (size_t)per_class * 4 * sizeof(double);
    nms_cand *cand = misc_scratch_get(&st->scratch, need);
    if (!cand) return tta_op_error(ctx, TTA_ERR_NOMEM, "out of memory");
    double *sel = (double *)(cand + N);
    for (int64_t b = 0; b < B; b++) {
        for (int64_t c = 0; c < C; c++) {
            int64_t soff = (b * C + c) * N, nc = 0;
            for (int64_t i = 0; i < N; i++) {
                double s = scores->dtype == TTA_DTYPE_FLOAT32 ? ((const float *)scores->data)[soff + i]
                                                              : tta_get_f64(scores, soff + i);
                if (has_score_th && !(s > score_th)) continue;
                cand[nc++] = (nms_cand){(float)s, i};
            }
            qsort(cand, (size_t)nc, sizeof *cand, cmp_cand);
            int64_t ns = 0;
            for (int64_t j = 0; j < nc && ns < per_class; j++) {
                double bx[4];
                nms_box(boxes, (b * N + cand[j].i) * 4, st->center_point_box, bx);
                bool keep = true;
                for (int64_t q = 0; q < ns && keep; q++)
                    if (nms_suppress(sel + q * 4, bx, iou_th)) keep = false;
                if (!keep) continue;
                memcpy(sel + ns * 4, bx, sizeof bx);
                ns++;
                if (!nms_push(st, b, c, cand[j].i)) return tta_op_error(ctx, TTA_ERR_NOMEM, "out of memory");
            }
        }
    }
    return TTA_OK;
}

tta_status tta_misc_nms_infer(tta_op_ctx *ctx) {
    nms_state *st = ctx->state;
    TTA_NEED_DATA(ctx, 0);
    TTA_NEED_DATA(ctx, 1);
    for (int i = 2; i < 5 && i < ctx->n_in; i++)
        if (ctx->in[i] && !ctx->in[i]->data && tta_tensor_numel(ctx->in[i]) > 0) return TTA_DEFER;
    st->fresh = false;
    TTA_TRY(nms_run(ctx, st));
    st->fresh = true;
    int64_t dims[2] = {st->n_result, 3};
    return tta_set_shape(ctx->out[0], TTA_DTYPE_INT64, 2, dims);
}

tta_status tta_misc_nms_compute(tta_op_ctx *ctx) {
    nms_state *st = ctx->state;
    if (!st->fresh) TTA_TRY(nms_run(ctx, st));
    st->fresh = false;
    tta_tensor *y = ctx->out[0];
    if (tta_tensor_numel(y) != st->n_result * 3)
        return tta_op_error(ctx, TTA_ERR_INTERNAL, "output sized for %lld boxes, %lld selected",
                            (long long)(tta_tensor_numel(y) / 3), (long long)st->n_result);
    if (st->n_result) memcpy(y->data, st->result.p, (size_t)st->n_result * 3 * sizeof(int64_t));
    return TTA_OK;
}
