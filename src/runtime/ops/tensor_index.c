/* tensor_index.c - ops that read or write through index tensors: Gather, GatherElements,
 * GatherND, ScatterElements (and its deprecated alias Scatter), ScatterND, OneHot, Compress
 * and NonZero.
 *
 * Indices may be negative where ONNX allows it (counted from the end of the axis). Every index
 * is checked before it is used: an out-of-range one is a TTA_ERR_SHAPE error naming the index,
 * never an out-of-bounds read or write. Elements are moved by size, so every dtype works; only
 * the scatter reductions (add, mul, max, min) and NonZero look at values.
 */
#include <string.h>

#include "runtime/ops/tensor.h"

static tta_status bad_index(const tta_op_ctx *ctx, const tta_tensor *idx, int64_t at, int axis, int64_t dim) {
    return tta_op_error(ctx, TTA_ERR_SHAPE,
                        "index %lld (element %lld of the indices) is out of range for axis %d of size %lld",
                        (long long)tta_get_i64(idx, at), (long long)at, axis, (long long)dim);
}

static tta_status need_dtype(const tta_op_ctx *ctx, const tta_tensor *t, const char *what) {
    if (tta_dtype_size(t->dtype) == 0)
        return tta_op_error(ctx, TTA_ERR_UNSUPPORTED, "%s has unsupported dtype %s", what,
                            tta_dtype_name(t->dtype));
    return TTA_OK;
}

/* ---------------------------------------------------------------- Gather */

tta_status tta_tt_gather_infer(tta_op_ctx *ctx) {
    TTA_NEED_INPUT(ctx, 0);
    TTA_NEED_INPUT(ctx, 1);
    TTA_TT_NEED_OUTPUT(ctx, 0);
    const tta_tensor *x = ctx->in[0], *idx = ctx->in[1];
    TTA_TRY(need_dtype(ctx, x, "data"));
    TTA_TRY(tta_tt_check_index_dtype(ctx, idx, "indices"));
    if (x->ndim < 1) return tta_op_error(ctx, TTA_ERR_SHAPE, "data must have rank >= 1");
    int axis;
    TTA_TRY(tta_norm_axis(ctx, tta_attr_int(ctx->node, "axis", 0), x->ndim, &axis));
    int rank = x->ndim - 1 + idx->ndim;
    if (rank > TTA_MAX_DIMS)
        return tta_op_error(ctx, TTA_ERR_UNSUPPORTED, "output rank %d exceeds the maximum of %d", rank,
                            TTA_MAX_DIMS);
    int64_t dims[TTA_MAX_DIMS];
    int k = 0;
    for (int i = 0; i < axis; i++)
        dims[k++] = x->dims[i];
    for (int i = 0; i < idx->ndim; i++)
        dims[k++] = idx->dims[i];
    for (int i = axis + 1; i < x->ndim; i++)
        dims[k++] = x->dims[i];
    return tta_set_shape(ctx->out[0], x->dtype, rank, dims);
}

tta_status tta_tt_gather_compute(tta_op_ctx *ctx) {
    const tta_tensor *x = ctx->in[0], *idx = ctx->in[1];
    tta_tensor *y = ctx->out[0];
    int axis;
    TTA_TRY(tta_norm_axis(ctx, tta_attr_int(ctx->node, "axis", 0), x->ndim, &axis));
    int64_t outer = tta_tt_prod(x->dims, 0, axis), D = x->dims[axis],
            inner = tta_tt_prod(x->dims, axis + 1, x->ndim);
    int64_t n = tta_tensor_numel(idx), v;
    for (int64_t i = 0; i < n; i++)
        if (!tta_tt_index(idx, i, D, &v)) return bad_index(ctx, idx, i, axis, D);
    if (tta_tensor_numel(y) == 0) return TTA_OK;
    size_t es = tta_dtype_size(x->dtype), part = (size_t)inner * es;
    const char *s = x->data;
    char *o = y->data;
    int nt = tta_tt_threads(ctx, (int64_t)tta_tensor_nbytes(y));
    if ((part == 4 || part == 8) && (idx->dtype == TTA_DTYPE_INT64 || idx->dtype == TTA_DTYPE_INT32)) {
        /* single elements (gathering along the last axis): typed copies, no call per element */
        const int64_t *i64 = idx->dtype == TTA_DTYPE_INT64 ? idx->data : NULL;
        const int32_t *i32 = idx->data;
#pragma omp parallel for schedule(static) num_threads(nt) if (nt > 1)
        for (int64_t oi = 0; oi < outer; oi++)
            for (int64_t i = 0; i < n; i++) {
                int64_t at = i64 ? i64[i] : i32[i];
                at += at < 0 ? D : 0;
                if (part == 4) ((uint32_t *)o)[oi * n + i] = ((const uint32_t *)s)[oi * D + at];
                else ((uint64_t *)o)[oi * n + i] = ((const uint64_t *)s)[oi * D + at];
            }
        return TTA_OK;
    }
#pragma omp parallel for schedule(static) num_threads(nt) if (nt > 1)
    for (int64_t oi = 0; oi < outer; oi++)
        for (int64_t i = 0; i < n; i++) {
            int64_t at;
            tta_tt_index(idx, i, D, &at);
            memcpy(o + (size_t)(oi * n + i) * part, s + (size_t)(oi * D + at) * part, part);
        }
    return TTA_OK;
}

/* ---------------------------------------------------------------- GatherElements */

tta_status tta_tt_gatherelements_infer(tta_op_ctx *ctx) {
    TTA_NEED_INPUT(ctx, 0);
    TTA_NEED_INPUT(ctx, 1);
    TTA_TT_NEED_OUTPUT(ctx, 0);
    const tta_tensor *x = ctx->in[0], *idx = ctx->in[1];
    TTA_TRY(need_dtype(ctx, x, "data"));
    TTA_TRY(tta_tt_check_index_dtype(ctx, idx, "indices"));
    int axis;
    if (x->ndim < 1) return tta_op_error(ctx, TTA_ERR_SHAPE, "data must have rank >= 1");
    TTA_TRY(tta_norm_axis(ctx, tta_attr_int(ctx->node, "axis", 0), x->ndim, &axis));
    if (idx->ndim != x->ndim)
        return tta_op_error(ctx, TTA_ERR_SHAPE, "indices have rank %d, data has rank %d", idx->ndim, x->ndim);
    for (int d = 0; d < x->ndim; d++)
        if (d != axis && idx->dims[d] > x->dims[d])
            return tta_op_error(ctx, TTA_ERR_SHAPE, "indices dim %d (%lld) exceeds the data's (%lld)", d,
                                (long long)idx->dims[d], (long long)x->dims[d]);
    return tta_set_shape(ctx->out[0], x->dtype, idx->ndim, idx->dims);
}

/* Walks every element of `idx` in order, yielding the offset into a tensor of strides `xs` where
 * the axis coordinate is replaced by the index value. Shared by GatherElements and
 * ScatterElements; `visit` returns false to stop. */
typedef struct elem_walk {
    const tta_tensor *idx;
    int axis;
    int64_t dim; /* size of the axis in the indexed tensor */
    const int64_t *xs;
} elem_walk;

static tta_status walk_elements(const tta_op_ctx *ctx, const elem_walk *w,
                                void (*visit)(void *user, int64_t i, int64_t off), void *user) {
    const tta_tensor *idx = w->idx;
    int r = idx->ndim;
    int64_t n = tta_tensor_numel(idx), c[TTA_MAX_DIMS] = {0}, base = 0;
    for (int64_t i = 0; i < n; i++) {
        int64_t v;
        if (!tta_tt_index(idx, i, w->dim, &v)) return bad_index(ctx, idx, i, w->axis, w->dim);
        visit(user, i, base + v * w->xs[w->axis]);
        for (int d = r - 1; d >= 0; d--) { /* odometer over idx's shape; base skips the axis */
            if (d != w->axis) base += w->xs[d];
            if (++c[d] < idx->dims[d]) break;
            if (d != w->axis) base -= w->xs[d] * idx->dims[d];
            c[d] = 0;
        }
    }
    return TTA_OK;
}

typedef struct gather_el {
    char *o;
    const char *s;
    size_t es;
} gather_el;

static void gather_el_visit(void *user, int64_t i, int64_t off) {
    gather_el *g = user;
    memcpy(g->o + (size_t)i * g->es, g->s + (size_t)off * g->es, g->es);
}

tta_status tta_tt_gatherelements_compute(tta_op_ctx *ctx) {
    const tta_tensor *x = ctx->in[0], *idx = ctx->in[1];
    int axis;
    int64_t xs[TTA_MAX_DIMS];
    TTA_TRY(tta_norm_axis(ctx, tta_attr_int(ctx->node, "axis", 0), x->ndim, &axis));
    tta_tt_strides(x->ndim, x->dims, xs);
    elem_walk w = {idx, axis, x->dims[axis], xs};
    gather_el g = {ctx->out[0]->data, x->data, tta_dtype_size(x->dtype)};
    return walk_elements(ctx, &w, gather_el_visit, &g);
}

/* ---------------------------------------------------------------- GatherND */

tta_status tta_tt_gathernd_infer(tta_op_ctx *ctx) {
    TTA_NEED_INPUT(ctx, 0);
    TTA_NEED_INPUT(ctx, 1);
    TTA_TT_NEED_OUTPUT(ctx, 0);
    const tta_tensor *x = ctx->in[0], *idx = ctx->in[1];
    TTA_TRY(need_dtype(ctx, x, "data"));
    TTA_TRY(tta_tt_check_index_dtype(ctx, idx, "indices"));
    int64_t b = ctx->node->opset >= 12 ? tta_attr_int(ctx->node, "batch_dims", 0) : 0;
    int r = x->ndim, q = idx->ndim;
    if (r < 1 || q < 1) return tta_op_error(ctx, TTA_ERR_SHAPE, "data and indices must have rank >= 1");
    if (b < 0 || b >= (q < r ? q : r))
        return tta_op_error(ctx, TTA_ERR_ATTR, "batch_dims %lld must be less than both ranks (%d, %d)",
                            (long long)b, r, q);
    int64_t k = idx->dims[q - 1];
    if (k < 1 || k > r - b)
        return tta_op_error(ctx, TTA_ERR_SHAPE, "indices' last dim %lld must be in [1, %lld]", (long long)k,
                            (long long)(r - b));
    for (int d = 0; d < b; d++)
        if (idx->dims[d] != x->dims[d])
            return tta_op_error(ctx, TTA_ERR_SHAPE, "batch dim %d differs: data %lld, indices %lld", d,
                                (long long)x->dims[d], (long long)idx->dims[d]);
    int64_t dims[TTA_MAX_DIMS];
    int n = 0;
    if (q - 1 + r - b - k > TTA_MAX_DIMS)
        return tta_op_error(ctx, TTA_ERR_UNSUPPORTED, "output rank too large");
    for (int d = 0; d < q - 1; d++)
        dims[n++] = idx->dims[d];
    for (int d = (int)(b + k); d < r; d++)
        dims[n++] = x->dims[d];
    return tta_set_shape(ctx->out[0], x->dtype, n, dims);
}

tta_status tta_tt_gathernd_compute(tta_op_ctx *ctx) {
    const tta_tensor *x = ctx->in[0], *idx = ctx->in[1];
    tta_tensor *y = ctx->out[0];
    int b = ctx->node->opset >= 12 ? (int)tta_attr_int(ctx->node, "batch_dims", 0) : 0, r = x->ndim,
        q = idx->ndim;
    int k = (int)idx->dims[q - 1];
    int64_t xs[TTA_MAX_DIMS];
    tta_tt_strides(r, x->dims, xs);
    int64_t batches = tta_tt_prod(x->dims, 0, b), per_batch = tta_tt_prod(x->dims, b, r);
    int64_t tuples = tta_tt_prod(idx->dims, b, q - 1), slice = tta_tt_prod(x->dims, b + k, r);
    size_t es = tta_dtype_size(x->dtype), part = (size_t)slice * es;
    for (int64_t bb = 0; bb < batches; bb++)
        for (int64_t t = 0; t < tuples; t++) {
            int64_t at = (bb * tuples + t) * k, off = bb * per_batch;
            for (int j = 0; j < k; j++) {
                int64_t v;
                if (!tta_tt_index(idx, at + j, x->dims[b + j], &v))
                    return bad_index(ctx, idx, at + j, b + j, x->dims[b + j]);
                off += v * xs[b + j];
            }
            if (part)
                memcpy((char *)y->data + (size_t)(bb * tuples + t) * part,
                       (const char *)x->data + (size_t)off * es, part);
        }
    return TTA_OK;
}

/* ---------------------------------------------------------------- Scatter* */

enum { RED_NONE, RED_ADD, RED_MUL, RED_MAX, RED_MIN };

static tta_status scatter_reduction(const tta_op_ctx *ctx, int *red) {
    *red = RED_NONE;
    if (!strcmp(ctx->node->op_type, "Scatter") || ctx->node->opset < 16) return TTA_OK;
    const char *s = tta_attr_string(ctx->node, "reduction", "none");
    if (!strcmp(s, "none"))
        *red = RED_NONE;
    else if (!strcmp(s, "add"))
        *red = RED_ADD;
    else if (!strcmp(s, "mul"))
        *red = RED_MUL;
    else if (!strcmp(s, "max") && ctx->node->opset >= 18)
        *red = RED_MAX;
    else if (!strcmp(s, "min") && ctx->node->opset >= 18)
        *red = RED_MIN;
    else
        return tta_op_error(ctx, TTA_ERR_ATTR, "unknown reduction '%s'", s);
    return TTA_OK;
}

tta_status tta_tt_scatter_prepare(tta_op_ctx *ctx) {
    int red;
    return scatter_reduction(ctx, &red);
}

static bool reduce_dtype_ok(tta_dtype d) {
    return tta_dtype_is_float(d) || tta_dtype_is_int(d) || d == TTA_DTYPE_BOOL;
}

/* Checks shared by both scatters: data, indices, updates; the output is shaped like data. */
tta_status tta_tt_scatter_infer(tta_op_ctx *ctx) {
    TTA_NEED_INPUT(ctx, 0);
    TTA_NEED_INPUT(ctx, 1);
    TTA_NEED_INPUT(ctx, 2);
    TTA_TT_NEED_OUTPUT(ctx, 0);
    const tta_tensor *x = ctx->in[0], *idx = ctx->in[1], *u = ctx->in[2];
    int red;
    TTA_TRY(scatter_reduction(ctx, &red));
    TTA_TRY(need_dtype(ctx, x, "data"));
    TTA_TRY(tta_tt_check_index_dtype(ctx, idx, "indices"));
    if (u->dtype != x->dtype)
        return tta_op_error(ctx, TTA_ERR_SHAPE, "updates have dtype %s, data has %s",
                            tta_dtype_name(u->dtype), tta_dtype_name(x->dtype));
    if (red != RED_NONE && !reduce_dtype_ok(x->dtype))
        return tta_op_error(ctx, TTA_ERR_UNSUPPORTED, "reduction on dtype %s is not supported",
                            tta_dtype_name(x->dtype));
    char si[160], su[160];
    if (!strcmp(ctx->node->op_type, "ScatterND")) {
        int q = idx->ndim, r = x->ndim;
        int64_t k = q ? idx->dims[q - 1] : 0;
        if (q < 1 || k < 1 || k > r)
            return tta_op_error(ctx, TTA_ERR_SHAPE, "indices of shape %s do not index data of rank %d",
                                tta_shape_str(idx, si, sizeof si), r);
        bool ok = u->ndim == q - 1 + r - k;
        for (int d = 0; ok && d < q - 1; d++)
            ok = u->dims[d] == idx->dims[d];
        for (int d = (int)k; ok && d < r; d++)
            ok = u->dims[q - 1 + d - k] == x->dims[d];
        if (!ok)
            return tta_op_error(ctx, TTA_ERR_SHAPE, "updates of shape %s do not fit indices %s",
                                tta_shape_str(u, su, sizeof su), tta_shape_str(idx, si, sizeof si));
    } else {
        int axis;
        if (x->ndim < 1) return tta_op_error(ctx, TTA_ERR_SHAPE, "data must have rank >= 1");
        TTA_TRY(tta_norm_axis(ctx, tta_attr_int(ctx->node, "axis", 0), x->ndim, &axis));
        bool ok = idx->ndim == x->ndim && u->ndim == idx->ndim;
        for (int d = 0; ok && d < idx->ndim; d++)
            ok = u->dims[d] == idx->dims[d] && (d == axis || idx->dims[d] <= x->dims[d]);
        if (!ok)
            return tta_op_error(ctx, TTA_ERR_SHAPE,
                                "indices %s and updates %s must have the same shape, within the data's",
                                tta_shape_str(idx, si, sizeof si), tta_shape_str(u, su, sizeof su));
    }
    return tta_set_shape(ctx->out[0], x->dtype, x->ndim, x->dims);
}

#define REDUCE_AS(T)                                                                                         \
    do {                                                                                                     \
        T a_, b_;                                                                                            \
        memcpy(&a_, dst, sizeof a_);                                                                         \
        memcpy(&b_, src, sizeof b_);                                                                         \
        switch (red) {                                                                                       \
        case RED_ADD: a_ = (T)(a_ + b_); break;                                                              \
        case RED_MUL: a_ = (T)(a_ * b_); break;                                                              \
        case RED_MAX: a_ = b_ > a_ ? b_ : a_; break;                                                         \
        default: a_ = b_ < a_ ? b_ : a_; break;                                                              \
        }                                                                                                    \
        memcpy(dst, &a_, sizeof a_);                                                                         \
    } while (0)

/* dst = dst (red) src for one element. */
static void reduce_one(tta_dtype dt, int red, void *dst, const void *src, size_t es) {
    switch (dt) {
    case TTA_DTYPE_FLOAT32: REDUCE_AS(float); break;
    case TTA_DTYPE_FLOAT64: REDUCE_AS(double); break;
    case TTA_DTYPE_INT8: REDUCE_AS(int8_t); break;
    case TTA_DTYPE_UINT8: REDUCE_AS(uint8_t); break;
    case TTA_DTYPE_INT16: REDUCE_AS(int16_t); break;
    case TTA_DTYPE_UINT16: REDUCE_AS(uint16_t); break;
    case TTA_DTYPE_INT32: REDUCE_AS(int32_t); break;
    case TTA_DTYPE_UINT32: REDUCE_AS(uint32_t); break;
    case TTA_DTYPE_INT64: REDUCE_AS(int64_t); break;
    case TTA_DTYPE_UINT64: REDUCE_AS(uint64_t); break;
    case TTA_DTYPE_BOOL: { /* add = or, mul = and, like numpy on bools */
        uint8_t a = *(uint8_t *)dst, b = *(const uint8_t *)src;
        *(uint8_t *)dst = (red == RED_ADD || red == RED_MAX) ? (a || b) : (a && b);
        break;
    }
    case TTA_DTYPE_FLOAT16: {
        tta_tensor td = {.dtype = dt, .data = dst}, ts = {.dtype = dt, .data = (void *)src};
        double a = tta_get_f64(&td, 0), b = tta_get_f64(&ts, 0);
        a = red == RED_ADD   ? a + b
            : red == RED_MUL ? a * b
            : red == RED_MAX ? (b > a ? b : a)
                             : (b < a ? b : a);
        tta_set_f64(&td, 0, a);
        break;
    }
    default: memcpy(dst, src, es); break;
    }
}

typedef struct scatter_el {
    char *o;
    const char *u;
    size_t es;
    tta_dtype dt;
    int red;
} scatter_el;

static void scatter_el_visit(void *user, int64_t i, int64_t off) {
    scatter_el *s = user;
    char *dst = s->o + (size_t)off * s->es;
    const char *src = s->u + (size_t)i * s->es;
    if (s->red == RED_NONE)
        memcpy(dst, src, s->es);
    else
        reduce_one(s->dt, s->red, dst, src, s->es);
}

tta_status tta_tt_scatterelements_compute(tta_op_ctx *ctx) {
    const tta_tensor *x = ctx->in[0], *idx = ctx->in[1], *u = ctx->in[2];
    tta_tensor *y = ctx->out[0];
    int axis, red;
    int64_t xs[TTA_MAX_DIMS];
    TTA_TRY(scatter_reduction(ctx, &red));
    TTA_TRY(tta_norm_axis(ctx, tta_attr_int(ctx->node, "axis", 0), x->ndim, &axis));
    tta_tt_copy_bytes(y, x);
    tta_tt_strides(x->ndim, x->dims, xs);
    elem_walk w = {idx, axis, x->dims[axis], xs};
    scatter_el s = {y->data, u->data, tta_dtype_size(x->dtype), x->dtype, red};
    return walk_elements(ctx, &w, scatter_el_visit, &s);
}

tta_status tta_tt_scatternd_compute(tta_op_ctx *ctx) {
    const tta_tensor *x = ctx->in[0], *idx = ctx->in[1], *u = ctx->in[2];
    tta_tensor *y = ctx->out[0];
    int red;
    TTA_TRY(scatter_reduction(ctx, &red));
    int r = x->ndim, q = idx->ndim, k = (int)idx->dims[q - 1];
    int64_t xs[TTA_MAX_DIMS];
    tta_tt_strides(r, x->dims, xs);
    tta_tt_copy_bytes(y, x);
    int64_t tuples = tta_tt_prod(idx->dims, 0, q - 1), slice = tta_tt_prod(x->dims, k, r);
    size_t es = tta_dtype_size(x->dtype);
    for (int64_t t = 0; t < tuples; t++) {
        int64_t off = 0;
        for (int j = 0; j < k; j++) {
            int64_t v;
            if (!tta_tt_index(idx, t * k + j, x->dims[j], &v))
                return bad_index(ctx, idx, t * k + j, j, x->dims[j]);
            off += v * xs[j];
        }
        char *dst = (char *)y->data + (size_t)off * es;
        const char *src = (const char *)u->data + (size_t)(t * slice) * es;
        if (red == RED_NONE) {
            if (slice) memcpy(dst, src, (size_t)slice * es);
        } else {
            for (int64_t e = 0; e < slice; e++)
                reduce_one(x->dtype, red, dst + (size_t)e * es, src + (size_t)e * es, es);
        }
    }
    return TTA_OK;
}

/* ---------------------------------------------------------------- OneHot */

tta_status tta_tt_onehot_infer(tta_op_ctx *ctx) {
    TTA_NEED_INPUT(ctx, 0);
    TTA_NEED_INPUT(ctx, 2);
    TTA_TT_NEED_OUTPUT(ctx, 0);
    TTA_NEED_DATA(ctx, 1);
    const tta_tensor *idx = ctx->in[0], *depth = ctx->in[1], *vals = ctx->in[2];
    if (!tta_dtype_is_int(idx->dtype) && !tta_dtype_is_float(idx->dtype))
        return tta_op_error(ctx, TTA_ERR_UNSUPPORTED, "indices of dtype %s are not supported",
                            tta_dtype_name(idx->dtype));
    if (!tta_dtype_is_int(depth->dtype) && !tta_dtype_is_float(depth->dtype))
        return tta_op_error(ctx, TTA_ERR_UNSUPPORTED, "depth of dtype %s is not supported",
                            tta_dtype_name(depth->dtype));
    TTA_TRY(need_dtype(ctx, vals, "values"));
    if (tta_tensor_numel(depth) != 1) return tta_op_error(ctx, TTA_ERR_SHAPE, "depth must hold one value");
    if (tta_tensor_numel(vals) != 2) return tta_op_error(ctx, TTA_ERR_SHAPE, "values must hold [off, on]");
    int64_t d = (int64_t)tta_get_f64(depth, 0);
    if (d < 0) return tta_op_error(ctx, TTA_ERR_SHAPE, "depth %lld is negative", (long long)d);
    int rank = idx->ndim + 1, axis;
    if (rank > TTA_MAX_DIMS)
        return tta_op_error(ctx, TTA_ERR_UNSUPPORTED, "output rank %d exceeds the maximum of %d", rank,
                            TTA_MAX_DIMS);
    TTA_TRY(tta_norm_axis(ctx, tta_attr_int(ctx->node, "axis", -1), rank, &axis));
    int64_t dims[TTA_MAX_DIMS];
    for (int i = 0, j = 0; i < rank; i++)
        dims[i] = i == axis ? d : idx->dims[j++];
    return tta_set_shape(ctx->out[0], vals->dtype, rank, dims);
}

tta_status tta_tt_onehot_compute(tta_op_ctx *ctx) {
    const tta_tensor *idx = ctx->in[0], *vals = ctx->in[2];
    tta_tensor *y = ctx->out[0];
    int axis;
    TTA_TRY(tta_norm_axis(ctx, tta_attr_int(ctx->node, "axis", -1), y->ndim, &axis));
    int64_t depth = y->dims[axis], outer = tta_tt_prod(idx->dims, 0, axis),
            inner = tta_tt_prod(idx->dims, axis, idx->ndim);
    size_t es = tta_dtype_size(y->dtype);
    const char *off = vals->data, *on = off + es;
    int64_t n = tta_tensor_numel(y);
    char *o = y->data;
    for (int64_t i = 0; i < n; i++)
        memcpy(o + (size_t)i * es, off, es);
    for (int64_t oi = 0; oi < outer; oi++)
        for (int64_t i = 0; i < inner; i++) {
            int64_t v = tta_get_i64(idx, oi * inner + i);
            if (v < 0) v += depth;
            if (v >= 0 && v < depth)
                memcpy(o + (size_t)((oi * depth + v) * inner + i) * es, on, es); /* else all off */
        }
    return TTA_OK;
}

/* ---------------------------------------------------------------- Compress */

/* Number of selected slices; a true entry beyond the axis is an error. */
static tta_status compress_count(tta_op_ctx *ctx, int64_t dim, int64_t *count) {
    const tta_tensor *c = ctx->in[1];
    int64_t n = tta_tensor_numel(c), k = 0;
    for (int64_t i = 0; i < n; i++)
        if (tta_get_i64(c, i)) {
            if (i >= dim)
                return tta_op_error(ctx, TTA_ERR_SHAPE,
                                    "condition selects index %lld of an axis of size %lld", (long long)i,
                                    (long long)dim);
            k++;
        }
    *count = k;
    return TTA_OK;
}

tta_status tta_tt_compress_infer(tta_op_ctx *ctx) {
    TTA_NEED_INPUT(ctx, 0);
    TTA_TT_NEED_OUTPUT(ctx, 0);
    TTA_NEED_DATA(ctx, 1);
    const tta_tensor *x = ctx->in[0], *c = ctx->in[1];
    TTA_TRY(need_dtype(ctx, x, "input"));
    if (c->ndim != 1) return tta_op_error(ctx, TTA_ERR_SHAPE, "condition must be 1-D, got rank %d", c->ndim);
    if (c->dtype != TTA_DTYPE_BOOL && !tta_dtype_is_int(c->dtype))
        return tta_op_error(ctx, TTA_ERR_UNSUPPORTED, "condition of dtype %s is not supported",
                            tta_dtype_name(c->dtype));
    int64_t dims[TTA_MAX_DIMS], count;
    if (!tta_node_attr(ctx->node, "axis")) {
        TTA_TRY(compress_count(ctx, tta_tensor_numel(x), &count));
        return tta_set_shape(ctx->out[0], x->dtype, 1, &count);
    }
    int axis;
    TTA_TRY(tta_norm_axis(ctx, tta_attr_int(ctx->node, "axis", 0), x->ndim, &axis));
    if (x->ndim == 0) return tta_op_error(ctx, TTA_ERR_SHAPE, "cannot compress a scalar along an axis");
    TTA_TRY(compress_count(ctx, x->dims[axis], &count));
    memcpy(dims, x->dims, sizeof dims);
    dims[axis] = count;
    return tta_set_shape(ctx->out[0], x->dtype, x->ndim, dims);
}

tta_status tta_tt_compress_compute(tta_op_ctx *ctx) {
    const tta_tensor *x = ctx->in[0], *c = ctx->in[1];
    tta_tensor *y = ctx->out[0];
    size_t es = tta_dtype_size(x->dtype);
    int64_t outer = 1, D = tta_tensor_numel(x), inner = 1;
    if (tta_node_attr(ctx->node, "axis")) {
        int axis;
        TTA_TRY(tta_norm_axis(ctx, tta_attr_int(ctx->node, "axis", 0), x->ndim, &axis));
        outer = tta_tt_prod(x->dims, 0, axis);
        D = x->dims[axis];
        inner = tta_tt_prod(x->dims, axis + 1, x->ndim);
    }
    int64_t nc = tta_tensor_numel(c), lim = nc < D ? nc : D, k = 0;
    size_t part = (size_t)inner * es;
    char *o = y->data;
    if (!part) return TTA_OK;
    for (int64_t oi = 0; oi < outer; oi++)
        for (int64_t d = 0; d < lim; d++)
            if (tta_get_i64(c, d))
                memcpy(o + (size_t)(k++) * part, (const char *)x->data + (size_t)(oi * D + d) * part, part);
    return TTA_OK;
}

/* ---------------------------------------------------------------- NonZero */

static bool is_nonzero(const tta_tensor *x, int64_t i, size_t es) {
    if (tta_dtype_is_float(x->dtype)) return tta_get_f64(x, i) != 0; /* -0.0 is zero, NaN is not */
    const unsigned char *p = (const unsigned char *)x->data + (size_t)i * es;
    for (size_t b = 0; b < es; b++)
        if (p[b]) return true;
    return false;
}

tta_status tta_tt_nonzero_infer(tta_op_ctx *ctx) {
    TTA_TT_NEED_OUTPUT(ctx, 0);
    TTA_NEED_DATA(ctx, 0);
    const tta_tensor *x = ctx->in[0];
    TTA_TRY(need_dtype(ctx, x, "input"));
    size_t es = tta_dtype_size(x->dtype);
    int64_t n = tta_tensor_numel(x), nnz = 0;
    for (int64_t i = 0; i < n; i++)
        nnz += is_nonzero(x, i, es);
    int64_t dims[2] = {x->ndim > 0 ? x->ndim : 1, nnz}; /* a scalar counts as 1-D, like numpy */
    return tta_set_shape(ctx->out[0], TTA_DTYPE_INT64, 2, dims);
}

tta_status tta_tt_nonzero_compute(tta_op_ctx *ctx) {
    const tta_tensor *x = ctx->in[0];
    tta_tensor *y = ctx->out[0];
    size_t es = tta_dtype_size(x->dtype);
    int64_t n = tta_tensor_numel(x), nnz = y->dims[1], j = 0, c[TTA_MAX_DIMS] = {0};
    int r = x->ndim;
    int64_t *o = y->data;
    for (int64_t i = 0; i < n; i++) {
        if (is_nonzero(x, i, es) && j < nnz) {
            if (r == 0) o[j] = 0;
            for (int d = 0; d < r; d++)
                o[d * nnz + j] = c[d];
            j++;
        }
        for (int d = r - 1; d >= 0; d--) {
            if (++c[d] < x->dims[d]) break;
            c[d] = 0;
        }
    }
    return TTA_OK;
}
