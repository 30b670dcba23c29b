/* tensor_move.c - ops that move elements around: Transpose, Concat, Split, Slice, Tile, Pad,
 * DepthToSpace, SpaceToDepth, Trilu, ReverseSequence, and CumSum (the one op here that adds).
 *
 * Most are one call of tta_tt_strided_copy (defined here), which walks the output in order
 * and reads the input through per-dim strides: a transpose permutes strides, a slice scales
 * them by the step and starts at an offset, Tile and Expand use stride 0 for repeats, and
 * DepthToSpace/SpaceToDepth are a 6-D transpose of a reshaped view. All of these work for any
 * dtype by element size; CumSum is the only one that looks at values.
 */
#include <string.h>

#include "core/alloc.h"
#include "core/checked.h"
#include "runtime/ops/tensor.h"

/* ---------------------------------------------------------------- strided copy */

/* Copies n elements read with stride st (elements) from s to contiguous o. */
static void copy_run(char *o, const char *s, size_t es, int64_t n, int64_t st) {
    if (st == 1) {
        memcpy(o, s, (size_t)n * es);
        return;
    }
    ptrdiff_t step = (ptrdiff_t)(st * (int64_t)es);
    switch (es) {
    case 1:
        for (int64_t i = 0; i < n; i++)
            o[i] = s[i * step];
        break;
    case 2:
        for (int64_t i = 0; i < n; i++)
            memcpy(o + 2 * i, s + i * step, 2);
        break;
    case 4:
        for (int64_t i = 0; i < n; i++)
            memcpy(o + 4 * i, s + i * step, 4);
        break;
    case 8:
        for (int64_t i = 0; i < n; i++)
            memcpy(o + 8 * i, s + i * step, 8);
        break;
    default:
        for (int64_t i = 0; i < n; i++)
            memcpy(o + (size_t)i * es, s + i * step, es);
        break;
    }
}

void tta_tt_strided_copy(void *dst, const void *src, size_t es, int nd, const int64_t *dims_in,
                         const int64_t *st_in, int n_threads) {
    int64_t dims[TTA_TT_MAX_LOOP], st[TTA_TT_MAX_LOOP], total = 1;
    int n = 0;
    for (int i = 0; i < nd; i++)
        total *= dims_in[i];
    if (total == 0) return;
    /* Drop unit dims and merge a dim into its outer neighbour when they walk memory as one. */
    for (int i = 0; i < nd; i++) {
        if (dims_in[i] == 1) continue;
        if (n > 0 && st[n - 1] == st_in[i] * dims_in[i]) {
            dims[n - 1] *= dims_in[i];
            st[n - 1] = st_in[i];
        } else {
            dims[n] = dims_in[i];
            st[n] = st_in[i];
            n++;
        }
    }
    if (n == 0) {
        memcpy(dst, src, es);
        return;
    }
    int64_t inner = dims[n - 1], ist = st[n - 1], rows = total / inner;
    int chunks = n_threads > 1 ? n_threads : 1;
    if (chunks > rows) chunks = (int)rows;
#pragma omp parallel for schedule(static) num_threads(chunks) if (chunks > 1)
    for (int c = 0; c < chunks; c++) {
        int64_t r0 = rows * c / chunks, r1 = rows * (c + 1) / chunks;
        int64_t idx[TTA_TT_MAX_LOOP], off = 0, rem = r0;
        for (int d = n - 2; d >= 0; d--) {
            idx[d] = rem % dims[d];
            rem /= dims[d];
            off += idx[d] * st[d];
        }
        for (int64_t r = r0; r < r1; r++) {
            copy_run((char *)dst + (size_t)(r * inner) * es,
                     (const char *)src + (ptrdiff_t)off * (ptrdiff_t)es, es, inner, ist);
            /* Advance the outer index like an odometer. */
            for (int d = n - 2; d >= 0; d--) {
                off += st[d];
                if (++idx[d] < dims[d]) break;
                off -= st[d] * dims[d];
                idx[d] = 0;
            }
        }
    }
}

/* ---------------------------------------------------------------- Transpose */

static tta_status transpose_perm(tta_op_ctx *ctx, int rank, int *perm) {
    const int64_t *p;
    int n = tta_attr_ints(ctx->node, "perm", &p);
    if (!tta_node_attr(ctx->node, "perm")) {
        for (int i = 0; i < rank; i++)
            perm[i] = rank - 1 - i;
        return TTA_OK;
    }
    if (n != rank)
        return tta_op_error(ctx, TTA_ERR_ATTR, "perm has %d entries for an input of rank %d", n, rank);
    bool seen[TTA_MAX_DIMS] = {false};
    for (int i = 0; i < n; i++) {
        int64_t a = p[i] < 0 ? p[i] + rank : p[i];
        if (a < 0 || a >= rank || seen[a])
            return tta_op_error(ctx, TTA_ERR_ATTR, "perm is not a permutation of 0..%d", rank - 1);
        seen[a] = true;
        perm[i] = (int)a;
    }
    return TTA_OK;
}

tta_status tta_tt_transpose_infer(tta_op_ctx *ctx) {
    TTA_NEED_INPUT(ctx, 0);
    TTA_TT_NEED_OUTPUT(ctx, 0);
    const tta_tensor *x = ctx->in[0];
    int perm[TTA_MAX_DIMS];
    int64_t dims[TTA_MAX_DIMS];
    if (tta_dtype_size(x->dtype) == 0)
        return tta_op_error(ctx, TTA_ERR_UNSUPPORTED, "dtype %s is not supported", tta_dtype_name(x->dtype));
    TTA_TRY(transpose_perm(ctx, x->ndim, perm));
    for (int i = 0; i < x->ndim; i++)
        dims[i] = x->dims[perm[i]];
    return tta_set_shape(ctx->out[0], x->dtype, x->ndim, dims);
}

tta_status tta_tt_transpose_compute(tta_op_ctx *ctx) {
    const tta_tensor *x = ctx->in[0];
    tta_tensor *y = ctx->out[0];
    int perm[TTA_MAX_DIMS];
    int64_t xs[TTA_MAX_DIMS], st[TTA_MAX_DIMS];
    TTA_TRY(transpose_perm(ctx, x->ndim, perm));
    tta_tt_strides(x->ndim, x->dims, xs);
    for (int i = 0; i < x->ndim; i++)
        st[i] = xs[perm[i]];
    tta_tt_strided_copy(y->data, x->data, tta_dtype_size(x->dtype), y->ndim, y->dims, st,
                        tta_tt_threads(ctx, (int64_t)tta_tensor_nbytes(y)));
    return TTA_OK;
}

/* ---------------------------------------------------------------- Concat */

static tta_status concat_axis(tta_op_ctx *ctx, int rank, int *axis) {
    if (ctx->node->opset >= 4 && !tta_node_attr(ctx->node, "axis"))
        return tta_op_error(ctx, TTA_ERR_ATTR, "missing attribute 'axis'");
    return tta_norm_axis(ctx, tta_attr_int(ctx->node, "axis", 1), rank, axis);
}

tta_status tta_tt_concat_infer(tta_op_ctx *ctx) {
    TTA_TT_NEED_OUTPUT(ctx, 0);
    if (ctx->n_in < 1) return tta_op_error(ctx, TTA_ERR_SHAPE, "needs at least one input");
    for (int i = 0; i < ctx->n_in; i++)
        TTA_NEED_INPUT(ctx, i);
    const tta_tensor *x0 = ctx->in[0];
    if (x0->ndim == 0) return tta_op_error(ctx, TTA_ERR_SHAPE, "cannot concatenate scalars");
    int axis;
    TTA_TRY(concat_axis(ctx, x0->ndim, &axis));
    int64_t dims[TTA_MAX_DIMS];
    memcpy(dims, x0->dims, sizeof dims);
    dims[axis] = 0;
    for (int i = 0; i < ctx->n_in; i++) {
        const tta_tensor *x = ctx->in[i];
        if (x->dtype != x0->dtype)
            return tta_op_error(ctx, TTA_ERR_SHAPE, "input %d has dtype %s, input 0 has %s", i,
                                tta_dtype_name(x->dtype), tta_dtype_name(x0->dtype));
        bool ok = x->ndim == x0->ndim;
        for (int d = 0; ok && d < x->ndim; d++)
            ok = d == axis || x->dims[d] == x0->dims[d];
        if (!ok) {
            char s0[160], si[160];
            return tta_op_error(ctx, TTA_ERR_SHAPE,
                                "input %d of shape %s does not fit input 0 of shape %s on axis %d", i,
                                tta_shape_str(x, si, sizeof si), tta_shape_str(x0, s0, sizeof s0), axis);
        }
        dims[axis] += x->dims[axis];
    }
    return tta_set_shape(ctx->out[0], x0->dtype, x0->ndim, dims);
}

tta_status tta_tt_concat_compute(tta_op_ctx *ctx) {
    tta_tensor *y = ctx->out[0];
    int axis;
    TTA_TRY(concat_axis(ctx, y->ndim, &axis));
    size_t es = tta_dtype_size(y->dtype);
    int64_t outer = tta_tt_prod(y->dims, 0, axis), inner = tta_tt_prod(y->dims, axis + 1, y->ndim);
    size_t row = (size_t)(y->dims[axis] * inner) * es;
    size_t off = 0;
    for (int i = 0; i < ctx->n_in; i++) {
        const tta_tensor *x = ctx->in[i];
        size_t part = (size_t)(x->dims[axis] * inner) * es;
        if (part == 0) continue;
        const char *s = x->data;
        char *o = (char *)y->data + off;
        int nt = tta_tt_threads(ctx, (int64_t)(part * (size_t)outer));
#pragma omp parallel for schedule(static) num_threads(nt) if (nt > 1)
        for (int64_t k = 0; k < outer; k++)
            memcpy(o + (size_t)k * row, s + (size_t)k * part, part);
        off += part;
    }
    return TTA_OK;
}

/* ---------------------------------------------------------------- Split */

/* Sizes of the outputs along the axis: the 'split' attribute (before 13) or input (from 13;
 * Split-1 also took it as input 1), else num_outputs (18) or equal parts. `sizes` has n_out
 * entries. */
static tta_status split_sizes(tta_op_ctx *ctx, int axis, int64_t *sizes) {
    const tta_tensor *x = ctx->in[0];
    int64_t dim = x->dims[axis], sum = 0;
    int n = ctx->n_out, opset = ctx->node->opset;
    const tta_tensor *sp = (opset >= 13 || opset < 2) && ctx->n_in > 1 ? ctx->in[1] : NULL;
    const int64_t *attr = NULL;
    int n_attr = opset < 13 ? tta_attr_ints(ctx->node, "split", &attr) : 0;
    if (sp) {
        TTA_NEED_DATA(ctx, 1);
        TTA_TRY(tta_tt_check_index_dtype(ctx, sp, "split"));
        if (sp->ndim > 1 || tta_tensor_numel(sp) != n)
            return tta_op_error(ctx, TTA_ERR_SHAPE, "split has %lld values for %d outputs",
                                (long long)tta_tensor_numel(sp), n);
        for (int i = 0; i < n; i++)
            sizes[i] = tta_get_i64(sp, i);
    } else if (attr && n_attr > 0) {
        if (n_attr != n)
            return tta_op_error(ctx, TTA_ERR_ATTR, "split has %d values for %d outputs", n_attr, n);
        for (int i = 0; i < n; i++)
            sizes[i] = attr[i];
    } else {
        int64_t parts = n;
        if (opset >= 18 && tta_node_attr(ctx->node, "num_outputs")) {
            parts = tta_attr_int(ctx->node, "num_outputs", n);
            if (parts != n)
                return tta_op_error(ctx, TTA_ERR_ATTR, "num_outputs is %lld but the node has %d outputs",
                                    (long long)parts, n);
        }
        if (dim % n == 0) {
            for (int i = 0; i < n; i++)
                sizes[i] = dim / n;
        } else if (opset >= 18) {
            int64_t chunk = (dim + n - 1) / n;
            for (int i = 0; i < n; i++)
                sizes[i] = i < n - 1 ? chunk : dim - chunk * (n - 1);
        } else {
            return tta_op_error(ctx, TTA_ERR_SHAPE,
                                "axis %d of size %lld cannot be split into %d equal parts", axis,
                                (long long)dim, n);
        }
    }
    for (int i = 0; i < n; i++) {
        if (sizes[i] < 0)
            return tta_op_error(ctx, TTA_ERR_SHAPE, "split size %lld is negative", (long long)sizes[i]);
        sum += sizes[i];
    }
    if (sum != dim)
        return tta_op_error(ctx, TTA_ERR_SHAPE, "split sizes add up to %lld, but axis %d has size %lld",
                            (long long)sum, axis, (long long)dim);
    return TTA_OK;
}

tta_status tta_tt_split_infer(tta_op_ctx *ctx) {
    TTA_NEED_INPUT(ctx, 0);
    const tta_tensor *x = ctx->in[0];
    if (ctx->n_out < 1) return tta_op_error(ctx, TTA_ERR_SHAPE, "needs at least one output");
    int axis;
    TTA_TRY(tta_norm_axis(ctx, tta_attr_int(ctx->node, "axis", 0), x->ndim, &axis));
    if (x->ndim == 0) return tta_op_error(ctx, TTA_ERR_SHAPE, "cannot split a scalar");
    int64_t *sizes = tta_malloc((size_t)ctx->n_out * sizeof *sizes);
    if (!sizes) return tta_op_error(ctx, TTA_ERR_NOMEM, "out of memory");
    tta_status st = split_sizes(ctx, axis, sizes);
    for (int i = 0; st == TTA_OK && i < ctx->n_out; i++) {
        if (!ctx->out[i]) continue;
        int64_t dims[TTA_MAX_DIMS];
        memcpy(dims, x->dims, sizeof dims);
        dims[axis] = sizes[i];
        st = tta_set_shape(ctx->out[i], x->dtype, x->ndim, dims);
    }
    tta_free(sizes);
    return st;
}

tta_status tta_tt_split_compute(tta_op_ctx *ctx) {
    const tta_tensor *x = ctx->in[0];
    int axis;
    TTA_TRY(tta_norm_axis(ctx, tta_attr_int(ctx->node, "axis", 0), x->ndim, &axis));
    int64_t *sizes = tta_malloc((size_t)ctx->n_out * sizeof *sizes);
    if (!sizes) return tta_op_error(ctx, TTA_ERR_NOMEM, "out of memory");
    tta_status st = split_sizes(ctx, axis, sizes);
    if (st != TTA_OK) {
        tta_free(sizes);
        return st;
    }
    size_t es = tta_dtype_size(x->dtype);
    int64_t outer = tta_tt_prod(x->dims, 0, axis), inner = tta_tt_prod(x->dims, axis + 1, x->ndim);
    size_t row = (size_t)(x->dims[axis] * inner) * es, off = 0;
    for (int i = 0; i < ctx->n_out; i++) {
        size_t part = (size_t)(sizes[i] * inner) * es;
        tta_tensor *y = ctx->out[i];
        if (y && part) {
            const char *s = (const char *)x->data + off;
            char *o = y->data;
            int nt = tta_tt_threads(ctx, (int64_t)(part * (size_t)outer));
#pragma omp parallel for schedule(static) num_threads(nt) if (nt > 1)
            for (int64_t k = 0; k < outer; k++)
                memcpy(o + (size_t)k * part, s + (size_t)k * row, part);
        }
        off += part;
    }
    tta_free(sizes);
    return TTA_OK;
}

/* ---------------------------------------------------------------- Slice */

/* Per input axis: first element, step and output length. Attributes before opset 10, inputs
 * (starts, ends, axes, steps) from 10. Starts and ends are clamped as ONNX specifies: to
 * [0, dim] for positive steps and to [0, dim-1] / [-1, dim-1] for negative ones. */
static tta_status slice_params(tta_op_ctx *ctx, int64_t *start, int64_t *step, int64_t *len) {
    const tta_tensor *x = ctx->in[0];
    int r = x->ndim;
    int64_t starts[TTA_MAX_DIMS], ends[TTA_MAX_DIMS], axes[TTA_MAX_DIMS], steps[TTA_MAX_DIMS];
    int ns, ne, na = -1, nst = -1;
    for (int i = 0; i < r; i++) {
        start[i] = 0;
        step[i] = 1;
        len[i] = x->dims[i];
    }
    if (ctx->node->opset < 10) {
        const int64_t *vs, *ve, *va;
        ns = tta_attr_ints(ctx->node, "starts", &vs);
        ne = tta_attr_ints(ctx->node, "ends", &ve);
        if (!vs || !ve) return tta_op_error(ctx, TTA_ERR_ATTR, "missing attribute 'starts' or 'ends'");
        if (ns > TTA_MAX_DIMS || ne > TTA_MAX_DIMS)
            return tta_op_error(ctx, TTA_ERR_ATTR, "too many starts/ends");
        /* an empty ints attribute has no array: never memcpy from NULL, even 0 bytes */
        if (ns > 0) memcpy(starts, vs, (size_t)ns * sizeof *vs);
        if (ne > 0) memcpy(ends, ve, (size_t)ne * sizeof *ve);
        if (tta_node_attr(ctx->node, "axes")) {
            na = tta_attr_ints(ctx->node, "axes", &va);
            if (na > TTA_MAX_DIMS) return tta_op_error(ctx, TTA_ERR_ATTR, "too many axes");
            if (na > 0 && va) memcpy(axes, va, (size_t)na * sizeof *va);
            else na = 0;
        }
    } else {
        TTA_NEED_DATA(ctx, 1);
        TTA_NEED_DATA(ctx, 2);
        TTA_TRY(tta_tt_read_ints(ctx, ctx->in[1], "starts", starts, TTA_MAX_DIMS, &ns));
        TTA_TRY(tta_tt_read_ints(ctx, ctx->in[2], "ends", ends, TTA_MAX_DIMS, &ne));
        if (ctx->n_in > 3 && ctx->in[3]) {
            TTA_NEED_DATA(ctx, 3);
            TTA_TRY(tta_tt_read_ints(ctx, ctx->in[3], "axes", axes, TTA_MAX_DIMS, &na));
        }
        if (ctx->n_in > 4 && ctx->in[4]) {
            TTA_NEED_DATA(ctx, 4);
            TTA_TRY(tta_tt_read_ints(ctx, ctx->in[4], "steps", steps, TTA_MAX_DIMS, &nst));
        }
    }
    if (ne != ns || (na >= 0 && na != ns) || (nst >= 0 && nst != ns))
        return tta_op_error(ctx, TTA_ERR_SHAPE, "starts, ends, axes and steps must have the same length");
    bool seen[TTA_MAX_DIMS] = {false};
    for (int i = 0; i < ns; i++) {
        int64_t a = na >= 0 ? axes[i] : i;
        if (a < 0) a += r;
        if (a < 0 || a >= r)
            return tta_op_error(ctx, TTA_ERR_SHAPE, "axis %lld out of range for rank %d",
                                (long long)(na >= 0 ? axes[i] : i), r);
        if (seen[a]) return tta_op_error(ctx, TTA_ERR_SHAPE, "axis %lld repeated", (long long)a);
        seen[a] = true;
        int64_t d = x->dims[a], s = starts[i], e = ends[i], k = nst >= 0 ? steps[i] : 1;
        if (k == 0) return tta_op_error(ctx, TTA_ERR_SHAPE, "step must not be 0");
        if (s < 0) s += d;
        if (e < 0) e += d;
        int64_t n = 0;
        if (k > 0) {
            s = s < 0 ? 0 : s > d ? d : s;
            e = e < 0 ? 0 : e > d ? d : e;
            if (k > d) k = d > 0 ? d : 1; /* same result, no overflow in strides */
            n = e > s ? (e - s - 1) / k + 1 : 0;
        } else if (d > 0) {
            s = s < 0 ? 0 : s > d - 1 ? d - 1 : s;
            e = e < -1 ? -1 : e > d - 1 ? d - 1 : e;
            if (k < -d) k = -d;
            n = s > e ? (s - e - 1) / -k + 1 : 0;
        } else {
            s = 0;
        }
        start[a] = n > 0 ? s : 0;
        step[a] = k;
        len[a] = n;
    }
    return TTA_OK;
}

tta_status tta_tt_slice_infer(tta_op_ctx *ctx) {
    TTA_NEED_INPUT(ctx, 0);
    TTA_TT_NEED_OUTPUT(ctx, 0);
    int64_t start[TTA_MAX_DIMS], step[TTA_MAX_DIMS], len[TTA_MAX_DIMS];
    tta_status st = slice_params(ctx, start, step, len);
    if (st != TTA_OK) return st;
    return tta_set_shape(ctx->out[0], ctx->in[0]->dtype, ctx->in[0]->ndim, len);
}

tta_status tta_tt_slice_compute(tta_op_ctx *ctx) {
    const tta_tensor *x = ctx->in[0];
    tta_tensor *y = ctx->out[0];
    int64_t start[TTA_MAX_DIMS], step[TTA_MAX_DIMS], len[TTA_MAX_DIMS], xs[TTA_MAX_DIMS], st[TTA_MAX_DIMS];
    TTA_TRY(slice_params(ctx, start, step, len));
    if (tta_tensor_numel(y) == 0) return TTA_OK;
    tta_tt_strides(x->ndim, x->dims, xs);
    int64_t off = 0;
    for (int i = 0; i < x->ndim; i++) {
        off += start[i] * xs[i];
        st[i] = step[i] * xs[i];
    }
    size_t es = tta_dtype_size(x->dtype);
    tta_tt_strided_copy(y->data, (const char *)x->data + (size_t)off * es, es, y->ndim, y->dims, st,
                        tta_tt_threads(ctx, (int64_t)tta_tensor_nbytes(y)));
    return TTA_OK;
}

/* ---------------------------------------------------------------- Tile */

tta_status tta_tt_tile_infer(tta_op_ctx *ctx) {
    TTA_NEED_INPUT(ctx, 0);
    TTA_TT_NEED_OUTPUT(ctx, 0);
    const tta_tensor *x = ctx->in[0];
    int64_t reps[TTA_MAX_DIMS], dims[TTA_MAX_DIMS];
    int n;
    if (ctx->node->opset < 6) { /* Tile-1: a scalar count of tiles along one axis */
        TTA_NEED_DATA(ctx, 1);
        TTA_NEED_DATA(ctx, 2);
        int axis;
        TTA_TRY(tta_norm_axis(ctx, tta_get_i64(ctx->in[2], 0), x->ndim, &axis));
        for (int i = 0; i < x->ndim; i++)
            reps[i] = 1;
        reps[axis] = tta_get_i64(ctx->in[1], 0);
        n = x->ndim;
    } else {
        TTA_NEED_DATA(ctx, 1);
        TTA_TRY(tta_tt_read_ints(ctx, ctx->in[1], "repeats", reps, TTA_MAX_DIMS, &n));
    }
    if (n != x->ndim)
        return tta_op_error(ctx, TTA_ERR_SHAPE, "repeats has %d values for an input of rank %d", n, x->ndim);
    for (int i = 0; i < n; i++) {
        if (reps[i] < 0)
            return tta_op_error(ctx, TTA_ERR_SHAPE, "repeats[%d] = %lld is negative", i, (long long)reps[i]);
        if (tta_mul_overflows(x->dims[i], reps[i], &dims[i]))
            return tta_op_error(ctx, TTA_ERR_SHAPE, "repeats[%d] = %lld times dim %lld overflows int64", i,
                                (long long)reps[i], (long long)x->dims[i]);
    }
    return tta_set_shape(ctx->out[0], x->dtype, x->ndim, dims);
}

tta_status tta_tt_tile_compute(tta_op_ctx *ctx) {
    const tta_tensor *x = ctx->in[0];
    tta_tensor *y = ctx->out[0];
    if (tta_tensor_numel(y) == 0) return TTA_OK;
    int64_t xs[TTA_MAX_DIMS], dims[TTA_TT_MAX_LOOP], st[TTA_TT_MAX_LOOP];
    tta_tt_strides(x->ndim, x->dims, xs);
    for (int i = 0; i < x->ndim; i++) { /* [repeat i (stride 0), data dim i] */
        dims[2 * i] = y->dims[i] / x->dims[i];
        st[2 * i] = 0;
        dims[2 * i + 1] = x->dims[i];
        st[2 * i + 1] = xs[i];
    }
    tta_tt_strided_copy(y->data, x->data, tta_dtype_size(x->dtype), 2 * x->ndim, dims, st,
                        tta_tt_threads(ctx, (int64_t)tta_tensor_nbytes(y)));
    return TTA_OK;
}

/* ---------------------------------------------------------------- Pad */

enum { PAD_CONSTANT, PAD_REFLECT, PAD_EDGE, PAD_WRAP };

static tta_status pad_mode(tta_op_ctx *ctx, int *mode) {
    const char *m = tta_attr_string(ctx->node, "mode", "constant");
    if (!strcmp(m, "constant"))
        *mode = PAD_CONSTANT;
    else if (!strcmp(m, "reflect"))
        *mode = PAD_REFLECT;
    else if (!strcmp(m, "edge"))
        *mode = PAD_EDGE;
    else if (!strcmp(m, "wrap"))
        *mode = PAD_WRAP;
    else
        return tta_op_error(ctx, TTA_ERR_ATTR, "unknown mode '%s'", m);
    return TTA_OK;
}

tta_status tta_tt_pad_prepare(tta_op_ctx *ctx) {
    int mode;
    return pad_mode(ctx, &mode);
}

/* Pads before/after each axis: 'paddings' (opset 1) or 'pads' (2..10) attribute, or the pads
 * input (from 11), restricted to the axes input from 18. */
static tta_status pad_amounts(tta_op_ctx *ctx, int64_t *begin, int64_t *end) {
    const tta_tensor *x = ctx->in[0];
    int r = x->ndim, np, na = r;
    int64_t pads[2 * TTA_MAX_DIMS], axes[TTA_MAX_DIMS];
    for (int i = 0; i < r; i++)
        axes[i] = i;
    if (ctx->node->opset < 11) {
        const char *name = ctx->node->opset < 2 ? "paddings" : "pads";
        const int64_t *v;
        np = tta_attr_ints(ctx->node, name, &v);
        if (!v) return tta_op_error(ctx, TTA_ERR_ATTR, "missing attribute '%s'", name);
        if (np > 2 * TTA_MAX_DIMS) return tta_op_error(ctx, TTA_ERR_ATTR, "too many pads");
        memcpy(pads, v, (size_t)np * sizeof *v);
    } else {
        TTA_NEED_DATA(ctx, 1);
        TTA_TRY(tta_tt_read_ints(ctx, ctx->in[1], "pads", pads, 2 * TTA_MAX_DIMS, &np));
        if (ctx->node->opset >= 18 && ctx->n_in > 3 && ctx->in[3]) {
            TTA_NEED_DATA(ctx, 3);
            TTA_TRY(tta_tt_read_ints(ctx, ctx->in[3], "axes", axes, TTA_MAX_DIMS, &na));
        }
    }
    if (np != 2 * na)
        return tta_op_error(ctx, TTA_ERR_SHAPE, "pads has %d values, expected %d for %d axes", np, 2 * na,
                            na);
    bool seen[TTA_MAX_DIMS] = {false};
    for (int i = 0; i < r; i++)
        begin[i] = end[i] = 0;
    for (int i = 0; i < na; i++) {
        int a;
        TTA_TRY(tta_norm_axis(ctx, axes[i], r, &a));
        if (seen[a]) return tta_op_error(ctx, TTA_ERR_SHAPE, "axis %d repeated", a);
        seen[a] = true;
        begin[a] = pads[i];
        end[a] = pads[i + na];
    }
    return TTA_OK;
}

tta_status tta_tt_pad_infer(tta_op_ctx *ctx) {
    TTA_NEED_INPUT(ctx, 0);
    TTA_TT_NEED_OUTPUT(ctx, 0);
    const tta_tensor *x = ctx->in[0];
    int64_t b[TTA_MAX_DIMS], e[TTA_MAX_DIMS], dims[TTA_MAX_DIMS];
    int mode;
    TTA_TRY(pad_mode(ctx, &mode));
    tta_status st = pad_amounts(ctx, b, e);
    if (st != TTA_OK) return st;
    if (tta_dtype_size(x->dtype) == 0)
        return tta_op_error(ctx, TTA_ERR_UNSUPPORTED, "dtype %s is not supported", tta_dtype_name(x->dtype));
    for (int i = 0; i < x->ndim; i++) {
        if (tta_add_overflows(x->dims[i], b[i], &dims[i]) || tta_add_overflows(dims[i], e[i], &dims[i]))
            return tta_op_error(ctx, TTA_ERR_SHAPE, "pads %lld,%lld on axis %d of size %lld overflow int64",
                                (long long)b[i], (long long)e[i], i, (long long)x->dims[i]);
        if (dims[i] < 0)
            return tta_op_error(ctx, TTA_ERR_SHAPE,
                                "pads %lld,%lld on axis %d of size %lld give a negative size",
                                (long long)b[i], (long long)e[i], i, (long long)x->dims[i]);
        if (mode != PAD_CONSTANT && x->dims[i] == 0 && dims[i] > 0)
            return tta_op_error(ctx, TTA_ERR_SHAPE, "cannot pad the empty axis %d in '%s' mode", i,
                                tta_attr_string(ctx->node, "mode", "constant"));
    }
    return tta_set_shape(ctx->out[0], x->dtype, x->ndim, dims);
}

/* Input index that output index j (already shifted by the begin pad: i = j - begin) reads, or
 * -1 for the constant. */
static int64_t pad_source(int mode, int64_t i, int64_t d) {
    if (i >= 0 && i < d) return i;
    switch (mode) {
    case PAD_EDGE: return i < 0 ? 0 : d - 1;
    case PAD_WRAP: return ((i % d) + d) % d;
    case PAD_REFLECT: {
        if (d == 1) return 0;
        int64_t period = 2 * (d - 1);
        i = ((i % period) + period) % period;
        return i < d ? i : period - i;
    }
    default: return -1;
    }
}

tta_status tta_tt_pad_compute(tta_op_ctx *ctx) {
    const tta_tensor *x = ctx->in[0];
    tta_tensor *y = ctx->out[0];
    int r = x->ndim, mode;
    size_t es = tta_dtype_size(x->dtype);
    int64_t b[TTA_MAX_DIMS], e[TTA_MAX_DIMS], xs[TTA_MAX_DIMS];
    TTA_TRY(pad_mode(ctx, &mode));
    TTA_TRY(pad_amounts(ctx, b, e));
    if (tta_tensor_numel(y) == 0) return TTA_OK;
    if (r == 0) {
        memcpy(y->data, x->data, es);
        return TTA_OK;
    }

    /* The pad value as bytes of the tensor's dtype. */
    unsigned char value[16] = {0};
    if (mode == PAD_CONSTANT) {
        const tta_tensor *cv = ctx->node->opset >= 11 && ctx->n_in > 2 ? ctx->in[2] : NULL;
        tta_tensor tmp = {.dtype = x->dtype, .ndim = 0, .data = value};
        if (cv && tta_tensor_numel(cv) >= 1 && cv->data) {
            if (cv->dtype == x->dtype)
                memcpy(value, cv->data, es);
            else if (tta_dtype_is_float(cv->dtype))
                tta_set_f64(&tmp, 0, tta_get_f64(cv, 0));
            else
                tta_set_i64(&tmp, 0, tta_get_i64(cv, 0));
        } else if (ctx->node->opset < 11) {
            tta_set_f64(&tmp, 0, tta_attr_float(ctx->node, "value", 0.0f));
        }
    }

    /* Per axis, the input index each output index reads (-1: the pad value). */
    int64_t total = 0, *map[TTA_MAX_DIMS];
    for (int a = 0; a < r; a++)
        total += y->dims[a];
    int64_t *maps = tta_malloc((size_t)total * sizeof *maps);
    if (!maps) return tta_op_error(ctx, TTA_ERR_NOMEM, "out of memory");
    int64_t at = 0;
    for (int a = 0; a < r; a++) {
        map[a] = maps + at;
        at += y->dims[a];
        for (int64_t j = 0; j < y->dims[a]; j++)
            map[a][j] = pad_source(mode, j - b[a], x->dims[a]);
    }
    tta_tt_strides(r, x->dims, xs);

    /* Rows along the last axis: the middle part is a plain copy. */
    int64_t inner = y->dims[r - 1], rows = tta_tensor_numel(y) / inner, d = x->dims[r - 1];
    int64_t lo = b[r - 1] > 0 ? b[r - 1] : 0, hi = b[r - 1] + d < inner ? b[r - 1] + d : inner;
    if (hi < lo) hi = lo;
    const int64_t *last = map[r - 1];
    int nt = tta_tt_threads(ctx, (int64_t)tta_tensor_nbytes(y));
#pragma omp parallel for schedule(static) num_threads(nt) if (nt > 1)
    for (int64_t row = 0; row < rows; row++) {
        char *o = (char *)y->data + (size_t)(row * inner) * es;
        int64_t rem = row, off = 0;
        bool blank = false;
        for (int a = r - 2; a >= 0; a--) {
            int64_t m = map[a][rem % y->dims[a]];
            rem /= y->dims[a];
            if (m < 0) blank = true;
            off += m * xs[a];
        }
        if (blank) {
            for (int64_t j = 0; j < inner; j++)
                memcpy(o + (size_t)j * es, value, es);
            continue;
        }
        const char *s = (const char *)x->data + (size_t)off * es;
        for (int64_t j = 0; j < inner; j++) {
            if (j == lo && hi > lo) {
                memcpy(o + (size_t)j * es, s + (size_t)(j - b[r - 1]) * es, (size_t)(hi - lo) * es);
                j = hi - 1;
                continue;
            }
            int64_t m = last[j];
            memcpy(o + (size_t)j * es, m < 0 ? (const char *)value : s + (size_t)m * es, es);
        }
    }
    tta_free(maps);
    return TTA_OK;
}

/* ---------------------------------------------------------------- DepthToSpace, SpaceToDepth */

tta_status tta_tt_space_prepare(tta_op_ctx *ctx) {
    if (tta_attr_int(ctx->node, "blocksize", 0) <= 0)
        return tta_op_error(ctx, TTA_ERR_ATTR, "attribute 'blocksize' must be positive");
    const char *mode = tta_attr_string(ctx->node, "mode", "DCR");
    if (strcmp(mode, "DCR") && strcmp(mode, "CRD"))
        return tta_op_error(ctx, TTA_ERR_ATTR, "unknown mode '%s' (DCR or CRD)", mode);
    return TTA_OK;
}

static tta_status space_check(tta_op_ctx *ctx, int64_t *bs) {
    TTA_NEED_INPUT(ctx, 0);
    TTA_TT_NEED_OUTPUT(ctx, 0);
    TTA_TRY(tta_tt_space_prepare(ctx));
    if (ctx->in[0]->ndim != 4)
        return tta_op_error(ctx, TTA_ERR_SHAPE, "input must be 4-D (NCHW), got rank %d", ctx->in[0]->ndim);
    *bs = tta_attr_int(ctx->node, "blocksize", 0);
    return TTA_OK;
}

tta_status tta_tt_depthtospace_infer(tta_op_ctx *ctx) {
    int64_t b;
    TTA_TRY(space_check(ctx, &b));
    const tta_tensor *x = ctx->in[0];
    if (x->dims[1] % (b * b))
        return tta_op_error(ctx, TTA_ERR_SHAPE, "channels %lld are not a multiple of blocksize^2 = %lld",
                            (long long)x->dims[1], (long long)(b * b));
    int64_t dims[4] = {x->dims[0], x->dims[1] / (b * b), x->dims[2] * b, x->dims[3] * b};
    return tta_set_shape(ctx->out[0], x->dtype, 4, dims);
}

tta_status tta_tt_depthtospace_compute(tta_op_ctx *ctx) {
    const tta_tensor *x = ctx->in[0];
    tta_tensor *y = ctx->out[0];
    int64_t b = tta_attr_int(ctx->node, "blocksize", 0);
    int64_t N = x->dims[0], C = x->dims[1] / (b * b), H = x->dims[2], W = x->dims[3], HW = H * W;
    bool crd = !strcmp(tta_attr_string(ctx->node, "mode", "DCR"), "CRD");
    /* Output walked as [N, C, H, b1, W, b2]; the input is [N, b1, b2, C, H, W] (DCR) or
     * [N, C, b1, b2, H, W] (CRD). */
    int64_t sc = crd ? b * b * HW : HW, sb1 = crd ? b * HW : b * C * HW, sb2 = crd ? HW : C * HW;
    int64_t dims[6] = {N, C, H, b, W, b}, st[6] = {C * b * b * HW, sc, W, sb1, 1, sb2};
    tta_tt_strided_copy(y->data, x->data, tta_dtype_size(x->dtype), 6, dims, st,
                        tta_tt_threads(ctx, (int64_t)tta_tensor_nbytes(y)));
    return TTA_OK;
}

tta_status tta_tt_spacetodepth_infer(tta_op_ctx *ctx) {
    int64_t b;
    TTA_TRY(space_check(ctx, &b));
    const tta_tensor *x = ctx->in[0];
    if (x->dims[2] % b || x->dims[3] % b)
        return tta_op_error(ctx, TTA_ERR_SHAPE,
                            "height %lld and width %lld must be multiples of blocksize %lld",
                            (long long)x->dims[2], (long long)x->dims[3], (long long)b);
    int64_t dims[4] = {x->dims[0], x->dims[1] * b * b, x->dims[2] / b, x->dims[3] / b};
    return tta_set_shape(ctx->out[0], x->dtype, 4, dims);
}

tta_status tta_tt_spacetodepth_compute(tta_op_ctx *ctx) {
    const tta_tensor *x = ctx->in[0];
    tta_tensor *y = ctx->out[0];
    int64_t b = tta_attr_int(ctx->node, "blocksize", 0);
    int64_t N = x->dims[0], C = x->dims[1], H = x->dims[2], W = x->dims[3];
    /* Output walked as [N, b1, b2, C, H/b, W/b]; the input viewed as [N, C, H/b, b1, W/b, b2]. */
    int64_t dims[6] = {N, b, b, C, H / b, W / b}, st[6] = {C * H * W, W, 1, H * W, b * W, b};
    tta_tt_strided_copy(y->data, x->data, tta_dtype_size(x->dtype), 6, dims, st,
                        tta_tt_threads(ctx, (int64_t)tta_tensor_nbytes(y)));
    return TTA_OK;
}

/* ---------------------------------------------------------------- Trilu */

tta_status tta_tt_trilu_infer(tta_op_ctx *ctx) {
    TTA_NEED_INPUT(ctx, 0);
    TTA_TT_NEED_OUTPUT(ctx, 0);
    const tta_tensor *x = ctx->in[0];
    if (x->ndim < 2) return tta_op_error(ctx, TTA_ERR_SHAPE, "input must have rank >= 2, got %d", x->ndim);
    if (tta_dtype_size(x->dtype) == 0)
        return tta_op_error(ctx, TTA_ERR_UNSUPPORTED, "dtype %s is not supported", tta_dtype_name(x->dtype));
    return tta_set_shape(ctx->out[0], x->dtype, x->ndim, x->dims);
}

tta_status tta_tt_trilu_compute(tta_op_ctx *ctx) {
    const tta_tensor *x = ctx->in[0];
    tta_tensor *y = ctx->out[0];
    int64_t k = 0;
    if (ctx->n_in > 1 && ctx->in[1]) {
        if (tta_tensor_numel(ctx->in[1]) != 1 || !tta_dtype_is_int(ctx->in[1]->dtype))
            return tta_op_error(ctx, TTA_ERR_SHAPE, "k must be an integer scalar");
        k = tta_get_i64(ctx->in[1], 0);
    }
    bool upper = tta_attr_int(ctx->node, "upper", 1) != 0;
    int64_t H = x->dims[x->ndim - 2], W = x->dims[x->ndim - 1], mats = tta_tt_prod(x->dims, 0, x->ndim - 2);
    if (k > H + W) k = H + W;
    if (k < -(H + W)) k = -(H + W);
    size_t es = tta_dtype_size(x->dtype);
    for (int64_t m = 0; m < mats; m++)
        for (int64_t i = 0; i < H; i++) {
            const char *s = (const char *)x->data + (size_t)((m * H + i) * W) * es;
            char *o = (char *)y->data + (size_t)((m * H + i) * W) * es;
            /* Kept columns: j >= i + k (upper) or j <= i + k (lower). */
            int64_t cut = upper ? i + k : i + k + 1;
            cut = cut < 0 ? 0 : cut > W ? W : cut;
            int64_t k0 = upper ? cut : 0, k1 = upper ? W : cut;
            if (k0 > 0 && upper) memset(o, 0, (size_t)k0 * es);
            if (k1 > k0) memcpy(o + (size_t)k0 * es, s + (size_t)k0 * es, (size_t)(k1 - k0) * es);
            if (!upper && k1 < W) memset(o + (size_t)k1 * es, 0, (size_t)(W - k1) * es);
        }
    return TTA_OK;
}

/* ---------------------------------------------------------------- CumSum */

static bool cumsum_dtype_ok(tta_dtype d) {
    return d == TTA_DTYPE_FLOAT32 || d == TTA_DTYPE_FLOAT64 || d == TTA_DTYPE_FLOAT16 ||
           d == TTA_DTYPE_INT32 || d == TTA_DTYPE_INT64 || d == TTA_DTYPE_UINT32 || d == TTA_DTYPE_UINT64;
}

tta_status tta_tt_cumsum_infer(tta_op_ctx *ctx) {
    TTA_NEED_INPUT(ctx, 0);
    TTA_NEED_INPUT(ctx, 1);
    TTA_TT_NEED_OUTPUT(ctx, 0);
    const tta_tensor *x = ctx->in[0];
    if (!cumsum_dtype_ok(x->dtype))
        return tta_op_error(ctx, TTA_ERR_UNSUPPORTED, "dtype %s is not supported", tta_dtype_name(x->dtype));
    if (tta_tensor_numel(ctx->in[1]) != 1 || !tta_dtype_is_int(ctx->in[1]->dtype))
        return tta_op_error(ctx, TTA_ERR_SHAPE, "axis must be an integer scalar");
    return tta_set_shape(ctx->out[0], x->dtype, x->ndim, x->dims);
}

/* Along the axis, each output slice is the previous output slice plus an input slice (the same
 * one, or the previous one when exclusive); the first is the input (or zero). */
#define CUMSUM_LOOP(T)                                                                                       \
    do {                                                                                                     \
        const T *xp = x->data;                                                                               \
        T *yp = y->data;                                                                                     \
        for (int64_t o = 0; o < outer; o++)                                                                  \
            for (int64_t kk = 0; kk < len; kk++) {                                                           \
                int64_t k = rev ? len - 1 - kk : kk, kp = rev ? k + 1 : k - 1;                               \
                T *row = yp + (o * len + k) * inner;                                                         \
                if (kk == 0) {                                                                               \
                    if (excl)                                                                                \
                        memset(row, 0, (size_t)inner * sizeof(T));                                           \
                    else                                                                                     \
                        memcpy(row, xp + (o * len + k) * inner, (size_t)inner * sizeof(T));                  \
                    continue;                                                                                \
                }                                                                                            \
                const T *prev = yp + (o * len + kp) * inner,                                                 \
                        *add = xp + (o * len + (excl ? kp : k)) * inner;                                     \
                for (int64_t i = 0; i < inner; i++)                                                          \
                    row[i] = (T)(prev[i] + add[i]);                                                          \
            }                                                                                                \
    } while (0)

tta_status tta_tt_cumsum_compute(tta_op_ctx *ctx) {
    const tta_tensor *x = ctx->in[0];
    tta_tensor *y = ctx->out[0];
    int axis;
    TTA_TRY(tta_norm_axis(ctx, tta_get_i64(ctx->in[1], 0), x->ndim, &axis));
    bool excl = tta_attr_int(ctx->node, "exclusive", 0) != 0,
         rev = tta_attr_int(ctx->node, "reverse", 0) != 0;
    int64_t outer = tta_tt_prod(x->dims, 0, axis), inner = tta_tt_prod(x->dims, axis + 1, x->ndim);
    int64_t len = x->ndim ? x->dims[axis] : 1;
    if (tta_tensor_numel(x) == 0) return TTA_OK;
    switch (x->dtype) {
    case TTA_DTYPE_FLOAT32: CUMSUM_LOOP(float); break;
    case TTA_DTYPE_FLOAT64: CUMSUM_LOOP(double); break;
    case TTA_DTYPE_INT32: CUMSUM_LOOP(int32_t); break;
    case TTA_DTYPE_INT64: CUMSUM_LOOP(int64_t); break;
    case TTA_DTYPE_UINT32: CUMSUM_LOOP(uint32_t); break;
    case TTA_DTYPE_UINT64: CUMSUM_LOOP(uint64_t); break;
    default: /* float16: accumulate through float, rounding each step as the output does */
        for (int64_t o = 0; o < outer; o++)
            for (int64_t i = 0; i < inner; i++) {
                double acc = 0;
                for (int64_t kk = 0; kk < len; kk++) {
                    int64_t k = rev ? len - 1 - kk : kk, at = (o * len + k) * inner + i;
                    double v = tta_get_f64(x, at);
                    if (!excl) acc += v;
                    tta_set_f64(y, at, acc);
                    acc = tta_get_f64(y, at);
                    if (excl) acc += v;
                }
            }
        break;
    }
    return TTA_OK;
}

/* ---------------------------------------------------------------- ReverseSequence */

static tta_status revseq_axes(tta_op_ctx *ctx, int *time_axis, int *batch_axis) {
    int64_t t = tta_attr_int(ctx->node, "time_axis", 0), b = tta_attr_int(ctx->node, "batch_axis", 1);
    if (!((t == 0 && b == 1) || (t == 1 && b == 0)))
        return tta_op_error(ctx, TTA_ERR_ATTR,
                            "time_axis and batch_axis must be 0 and 1 in some order (got %lld, %lld)",
                            (long long)t, (long long)b);
    *time_axis = (int)t;
    *batch_axis = (int)b;
    return TTA_OK;
}

tta_status tta_tt_reversesequence_infer(tta_op_ctx *ctx) {
    TTA_NEED_INPUT(ctx, 0);
    TTA_NEED_INPUT(ctx, 1);
    TTA_TT_NEED_OUTPUT(ctx, 0);
    const tta_tensor *x = ctx->in[0], *lens = ctx->in[1];
    int ta, ba;
    TTA_TRY(revseq_axes(ctx, &ta, &ba));
    if (x->ndim < 2) return tta_op_error(ctx, TTA_ERR_SHAPE, "input must have rank >= 2, got %d", x->ndim);
    TTA_TRY(tta_tt_check_index_dtype(ctx, lens, "sequence_lens"));
    if (lens->ndim != 1 || lens->dims[0] != x->dims[ba])
        return tta_op_error(ctx, TTA_ERR_SHAPE, "sequence_lens must be 1-D of the batch size %lld",
                            (long long)x->dims[ba]);
    return tta_set_shape(ctx->out[0], x->dtype, x->ndim, x->dims);
}

tta_status tta_tt_reversesequence_compute(tta_op_ctx *ctx) {
    const tta_tensor *x = ctx->in[0], *lens = ctx->in[1];
    tta_tensor *y = ctx->out[0];
    int ta, ba;
    TTA_TRY(revseq_axes(ctx, &ta, &ba));
    int64_t T = x->dims[ta], B = x->dims[ba], inner = tta_tt_prod(x->dims, 2, x->ndim);
    size_t es = tta_dtype_size(x->dtype), slice = (size_t)inner * es;
    for (int64_t b = 0; b < B; b++) {
        int64_t L = tta_get_i64(lens, b);
        if (L < 0 || L > T)
            return tta_op_error(ctx, TTA_ERR_SHAPE, "sequence_lens[%lld] = %lld is outside [0, %lld]",
                                (long long)b, (long long)L, (long long)T);
    }
    for (int64_t b = 0; b < B; b++) {
        int64_t L = tta_get_i64(lens, b);
        for (int64_t t = 0; t < T; t++) {
            int64_t src = t < L ? L - 1 - t : t;
            size_t so = (size_t)(ta == 0 ? src * B + b : b * T + src),
                   oo = (size_t)(ta == 0 ? t * B + b : b * T + t);
            if (slice) memcpy((char *)y->data + oo * slice, (const char *)x->data + so * slice, slice);
        }
    }
    return TTA_OK;
}
