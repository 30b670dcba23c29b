/* tensor_shape.c - ops that make tensors or only change their shape: Constant, Identity,
 * Dropout (inference), Shape, Size, Reshape, Flatten, Squeeze, Unsqueeze, Expand,
 * ConstantOfShape, Range, EyeLike. Also the family's small shared helpers (see tensor.h).
 *
 * Shape-deciding inputs (Reshape's shape, Squeeze/Unsqueeze axes from opset 13, Expand's shape,
 * ConstantOfShape's input, Range's scalars) are read in infer with TTA_NEED_DATA, so a graph
 * whose shapes are computed by such chains folds at plan time. Shape, Size and EyeLike read only
 * their input's shape, never its data.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "runtime/ops/tensor.h"

/* ---------------------------------------------------------------- shared helpers */

void tta_tt_strides(int ndim, const int64_t *dims, int64_t *strides) {
    int64_t s = 1;
    for (int i = ndim - 1; i >= 0; i--) {
        strides[i] = s;
        s *= dims[i];
    }
}

int64_t tta_tt_prod(const int64_t *dims, int from, int to) {
    int64_t p = 1;
    for (int i = from; i < to; i++)
        p *= dims[i];
    return p;
}

void tta_tt_copy_bytes(tta_tensor *dst, const tta_tensor *src) {
    size_t n = tta_tensor_nbytes(src);
    if (n && dst->data != src->data) memcpy(dst->data, src->data, n);
}

int tta_tt_threads(const tta_op_ctx *ctx, int64_t bytes) {
    int nt = ctx->n_threads > 0 ? ctx->n_threads : 1;
    if (bytes < (int64_t)1 << 18) return 1;
    return nt;
}

tta_status tta_tt_check_index_dtype(const tta_op_ctx *ctx, const tta_tensor *t, const char *what) {
    if (!tta_dtype_is_int(t->dtype))
        return tta_op_error(ctx, TTA_ERR_UNSUPPORTED, "%s must be an integer tensor, not %s", what,
                            tta_dtype_name(t->dtype));
    return TTA_OK;
}

tta_status tta_tt_read_ints(const tta_op_ctx *ctx, const tta_tensor *t, const char *what, int64_t *vals,
                            int max, int *n) {
    TTA_TRY(tta_tt_check_index_dtype(ctx, t, what));
    if (t->ndim > 1) return tta_op_error(ctx, TTA_ERR_SHAPE, "%s must be 1-D, got rank %d", what, t->ndim);
    int64_t count = tta_tensor_numel(t);
    if (count > max)
        return tta_op_error(ctx, TTA_ERR_UNSUPPORTED, "%s has %lld values, more than the supported %d", what,
                            (long long)count, max);
    for (int64_t i = 0; i < count; i++)
        vals[i] = tta_get_i64(t, i);
    *n = (int)count;
    return TTA_OK;
}

/* "[2,-1,3]" for error messages. */
static const char *ints_str(const int64_t *v, int n, char *buf, size_t size) {
    size_t len = 0;
    buf[0] = '\0';
    len += (size_t)snprintf(buf + len, size - len, "[");
    for (int i = 0; i < n && len < size; i++)
        len += (size_t)snprintf(buf + len, size - len, "%s%lld", i ? "," : "", (long long)v[i]);
    if (len < size) snprintf(buf + len, size - len, "]");
    return buf;
}

/* ---------------------------------------------------------------- Constant */

/* The tensor a Constant node produces, described without allocating: dtype, shape and bytes. */
typedef struct const_src {
    tta_dtype dtype;
    int ndim;
    int64_t dims[TTA_MAX_DIMS];
    const void *data;
} const_src;

static tta_status constant_source(const tta_op_ctx *ctx, const_src *src) {
    static const char *const unsupported[] = {"sparse_value", "value_string", "value_strings"};
    static const char *const names[] = {"value", "value_float", "value_floats", "value_int", "value_ints"};
    const tta_node *node = ctx->node;
    for (size_t i = 0; i < sizeof unsupported / sizeof unsupported[0]; i++)
        if (tta_node_attr(node, unsupported[i]))
            return tta_op_error(ctx, TTA_ERR_UNSUPPORTED,
                                "attribute '%s' is not supported (only dense numeric constants are)",
                                unsupported[i]);
    const tta_attr *a = NULL;
    int found = 0;
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        const tta_attr *x = tta_node_attr(node, names[i]);
        if (x) {
            a = x;
            found++;
        }
    }
    if (found != 1)
        return tta_op_error(ctx, TTA_ERR_ATTR,
                            "needs exactly one of the attributes value, value_float(s), value_int(s); got %d",
                            found);
    memset(src, 0, sizeof *src);
    if (!strcmp(a->name, "value")) {
        if (a->type != TTA_ATTR_TENSOR || !a->t)
            return tta_op_error(ctx, TTA_ERR_ATTR, "attribute 'value' must be a tensor");
        const tta_tensor *t = a->t;
        if (tta_dtype_size(t->dtype) == 0)
            return tta_op_error(ctx, TTA_ERR_UNSUPPORTED, "constant of dtype %s is not supported",
                                tta_dtype_name(t->dtype));
        if (!t->data && tta_tensor_numel(t) > 0)
            return tta_op_error(ctx, TTA_ERR_ATTR, "attribute 'value' has no data");
        src->dtype = t->dtype;
        src->ndim = t->ndim;
        memcpy(src->dims, t->dims, sizeof src->dims);
        src->data = t->data;
    } else if (!strcmp(a->name, "value_float")) {
        if (a->type != TTA_ATTR_FLOAT)
            return tta_op_error(ctx, TTA_ERR_ATTR, "attribute 'value_float' must be a float");
        src->dtype = TTA_DTYPE_FLOAT32;
        src->data = &a->f;
    } else if (!strcmp(a->name, "value_floats")) {
        if (a->type != TTA_ATTR_FLOATS)
            return tta_op_error(ctx, TTA_ERR_ATTR, "attribute 'value_floats' must be a list of floats");
        src->dtype = TTA_DTYPE_FLOAT32;
        src->ndim = 1;
        src->dims[0] = a->n;
        src->data = a->floats;
    } else if (!strcmp(a->name, "value_int")) {
        if (a->type != TTA_ATTR_INT)
            return tta_op_error(ctx, TTA_ERR_ATTR, "attribute 'value_int' must be an int");
        src->dtype = TTA_DTYPE_INT64;
        src->data = &a->i;
    } else {
        if (a->type != TTA_ATTR_INTS)
            return tta_op_error(ctx, TTA_ERR_ATTR, "attribute 'value_ints' must be a list of ints");
        src->dtype = TTA_DTYPE_INT64;
        src->ndim = 1;
        src->dims[0] = a->n;
        src->data = a->ints;
    }
    return TTA_OK;
}

tta_status tta_tt_constant_prepare(tta_op_ctx *ctx) {
    const_src src;
    return constant_source(ctx, &src);
}

tta_status tta_tt_constant_infer(tta_op_ctx *ctx) {
    const_src src;
    TTA_TT_NEED_OUTPUT(ctx, 0);
    TTA_TRY(constant_source(ctx, &src));
    return tta_set_shape(ctx->out[0], src.dtype, src.ndim, src.dims);
}

tta_status tta_tt_constant_compute(tta_op_ctx *ctx) {
    const_src src;
    TTA_TRY(constant_source(ctx, &src));
    size_t n = tta_tensor_nbytes(ctx->out[0]);
    if (n) memcpy(ctx->out[0]->data, src.data, n);
    return TTA_OK;
}

/* ---------------------------------------------------------------- Identity, Dropout */

static tta_status same_shape(tta_op_ctx *ctx, int out, const tta_tensor *in) {
    return tta_set_shape(ctx->out[out], in->dtype, in->ndim, in->dims);
}

tta_status tta_tt_identity_infer(tta_op_ctx *ctx) {
    TTA_NEED_INPUT(ctx, 0);
    TTA_TT_NEED_OUTPUT(ctx, 0);
    if (tta_dtype_size(ctx->in[0]->dtype) == 0)
        return tta_op_error(ctx, TTA_ERR_UNSUPPORTED, "dtype %s is not supported",
                            tta_dtype_name(ctx->in[0]->dtype));
    return same_shape(ctx, 0, ctx->in[0]);
}

tta_status tta_tt_identity_compute(tta_op_ctx *ctx) {
    tta_tt_copy_bytes(ctx->out[0], ctx->in[0]);
    return TTA_OK;
}

/* Dropout is the identity at inference. Its optional mask output is all true (bool from
 * opset 10, the input's dtype before). From opset 12 a training_mode input may ask for real
 * dropout: accepted only when it is false or the ratio is 0, which are the identity too. */
tta_status tta_tt_dropout_infer(tta_op_ctx *ctx) {
    TTA_NEED_INPUT(ctx, 0);
    TTA_TT_NEED_OUTPUT(ctx, 0);
    const tta_tensor *x = ctx->in[0];
    if (tta_dtype_size(x->dtype) == 0)
        return tta_op_error(ctx, TTA_ERR_UNSUPPORTED, "dtype %s is not supported", tta_dtype_name(x->dtype));
    TTA_TRY(same_shape(ctx, 0, x));
    if (ctx->n_out > 1 && ctx->out[1]) {
        tta_dtype mask = ctx->node->opset >= 10 ? TTA_DTYPE_BOOL : x->dtype;
        TTA_TRY(tta_set_shape(ctx->out[1], mask, x->ndim, x->dims));
    }
    return TTA_OK;
}

tta_status tta_tt_dropout_compute(tta_op_ctx *ctx) {
    if (ctx->node->opset >= 12 && ctx->n_in > 2 && ctx->in[2]) {
        const tta_tensor *tm = ctx->in[2];
        if (tta_tensor_numel(tm) != 1 || !tm->data)
            return tta_op_error(ctx, TTA_ERR_SHAPE, "training_mode must be a scalar");
        if (tta_get_i64(tm, 0) != 0) {
            double ratio = 0.5;
            if (ctx->n_in > 1 && ctx->in[1] && ctx->in[1]->data && tta_tensor_numel(ctx->in[1]) > 0)
                ratio = tta_get_f64(ctx->in[1], 0);
            if (ratio != 0)
                return tta_op_error(ctx, TTA_ERR_UNSUPPORTED,
                                    "training_mode=true with ratio %g is not supported (inference only)",
                                    ratio);
        }
    }
    tta_tt_copy_bytes(ctx->out[0], ctx->in[0]);
    if (ctx->n_out > 1 && ctx->out[1]) {
        tta_tensor *m = ctx->out[1];
        int64_t n = tta_tensor_numel(m);
        if (m->dtype == TTA_DTYPE_BOOL) {
            if (n) memset(m->data, 1, (size_t)n);
        } else {
            for (int64_t i = 0; i < n; i++)
                tta_set_f64(m, i, 1.0);
        }
    }
    return TTA_OK;
}

/* ---------------------------------------------------------------- Shape, Size */

/* Shape's [start, end) range (opset 15), clamped to [0, rank]. */
static void shape_range(const tta_op_ctx *ctx, int rank, int64_t *start, int64_t *end) {
    int64_t s = 0, e = rank;
    if (ctx->node->opset >= 15) {
        s = tta_attr_int(ctx->node, "start", 0);
        e = tta_attr_int(ctx->node, "end", rank);
    }
    if (s < 0) s += rank;
    if (e < 0) e += rank;
    s = s < 0 ? 0 : s > rank ? rank : s;
    e = e < 0 ? 0 : e > rank ? rank : e;
    if (e < s) e = s;
    *start = s;
    *end = e;
}

tta_status tta_tt_shape_infer(tta_op_ctx *ctx) {
    TTA_NEED_INPUT(ctx, 0);
    TTA_TT_NEED_OUTPUT(ctx, 0);
    int64_t s, e;
    shape_range(ctx, ctx->in[0]->ndim, &s, &e);
    int64_t n = e - s;
    return tta_set_shape(ctx->out[0], TTA_DTYPE_INT64, 1, &n);
}

tta_status tta_tt_shape_compute(tta_op_ctx *ctx) {
    const tta_tensor *x = ctx->in[0];
    int64_t s, e;
    shape_range(ctx, x->ndim, &s, &e);
    int64_t *o = ctx->out[0]->data;
    for (int64_t i = s; i < e; i++)
        o[i - s] = x->dims[i];
    return TTA_OK;
}

tta_status tta_tt_size_infer(tta_op_ctx *ctx) {
    TTA_NEED_INPUT(ctx, 0);
    TTA_TT_NEED_OUTPUT(ctx, 0);
    return tta_set_shape(ctx->out[0], TTA_DTYPE_INT64, 0, NULL);
}

tta_status tta_tt_size_compute(tta_op_ctx *ctx) {
    *(int64_t *)ctx->out[0]->data = tta_tensor_numel(ctx->in[0]);
    return TTA_OK;
}

/* ---------------------------------------------------------------- Reshape and friends */

tta_status tta_tt_reshape_infer(tta_op_ctx *ctx) {
    TTA_NEED_INPUT(ctx, 0);
    TTA_TT_NEED_OUTPUT(ctx, 0);
    const tta_tensor *x = ctx->in[0];
    int64_t shape[TTA_MAX_DIMS], dims[TTA_MAX_DIMS];
    int n;
    if (ctx->node->opset < 5) {
        const int64_t *v;
        n = tta_attr_ints(ctx->node, "shape", &v);
        if (!tta_node_attr(ctx->node, "shape"))
            return tta_op_error(ctx, TTA_ERR_ATTR, "missing attribute 'shape'");
        if (n > TTA_MAX_DIMS)
            return tta_op_error(ctx, TTA_ERR_UNSUPPORTED, "target rank %d exceeds the maximum of %d", n,
                                TTA_MAX_DIMS);
        if (n > 0 && v) memcpy(shape, v, (size_t)n * sizeof *v);
        else n = 0;
    } else {
        TTA_NEED_DATA(ctx, 1);
        TTA_TRY(tta_tt_read_ints(ctx, ctx->in[1], "shape", shape, TTA_MAX_DIMS, &n));
    }
    bool allowzero = ctx->node->opset >= 14 && tta_attr_int(ctx->node, "allowzero", 0) != 0;
    int64_t total = tta_tensor_numel(x), known = 1;
    int infer_at = -1;
    char sx[160], ss[160];
    for (int i = 0; i < n; i++) {
        int64_t v = shape[i];
        if (v == -1) {
            if (infer_at >= 0)
                return tta_op_error(ctx, TTA_ERR_SHAPE, "target shape %s has more than one -1",
                                    ints_str(shape, n, ss, sizeof ss));
            infer_at = i;
            continue;
        }
        if (v < -1)
            return tta_op_error(ctx, TTA_ERR_SHAPE, "target shape %s has a negative dimension",
                                ints_str(shape, n, ss, sizeof ss));
        if (v == 0 && !allowzero) {
            if (i >= x->ndim)
                return tta_op_error(ctx, TTA_ERR_SHAPE,
                                    "target shape %s copies dimension %d (0) of an input of rank %d",
                                    ints_str(shape, n, ss, sizeof ss), i, x->ndim);
            v = x->dims[i];
        }
        if (v > 0 && known > INT64_MAX / v)
            return tta_op_error(ctx, TTA_ERR_SHAPE, "target shape %s is too large",
                                ints_str(shape, n, ss, sizeof ss));
        dims[i] = v;
        known *= v;
    }
    if (infer_at >= 0) {
        if (known == 0 || total % known != 0)
            return tta_op_error(ctx, TTA_ERR_SHAPE, "cannot reshape %s (%lld elements) to %s",
                                tta_shape_str(x, sx, sizeof sx), (long long)total,
                                ints_str(shape, n, ss, sizeof ss));
        dims[infer_at] = total / known;
    } else if (known != total) {
        return tta_op_error(ctx, TTA_ERR_SHAPE, "cannot reshape %s (%lld elements) to %s (%lld elements)",
                            tta_shape_str(x, sx, sizeof sx), (long long)total,
                            ints_str(shape, n, ss, sizeof ss), (long long)known);
    }
    return tta_set_shape(ctx->out[0], x->dtype, n, dims);
}

tta_status tta_tt_flatten_infer(tta_op_ctx *ctx) {
    TTA_NEED_INPUT(ctx, 0);
    TTA_TT_NEED_OUTPUT(ctx, 0);
    const tta_tensor *x = ctx->in[0];
    int64_t axis = tta_attr_int(ctx->node, "axis", 1);
    int64_t a = axis < 0 ? axis + x->ndim : axis;
    if (a < 0 || a > x->ndim)
        return tta_op_error(ctx, TTA_ERR_ATTR, "axis %lld out of range for rank %d", (long long)axis,
                            x->ndim);
    int64_t dims[2] = {tta_tt_prod(x->dims, 0, (int)a), tta_tt_prod(x->dims, (int)a, x->ndim)};
    return tta_set_shape(ctx->out[0], x->dtype, 2, dims);
}

/* Axes of Squeeze/Unsqueeze: the attribute before opset 13, the optional input 1 from 13.
 * *given is false when there are none. */
static tta_status read_axes(tta_op_ctx *ctx, int64_t *axes, int *n, bool *given) {
    *n = 0;
    *given = false;
    if (ctx->node->opset < 13) {
        const int64_t *v;
        int k = tta_attr_ints(ctx->node, "axes", &v);
        if (!tta_node_attr(ctx->node, "axes")) return TTA_OK;
        if (k > TTA_MAX_DIMS) return tta_op_error(ctx, TTA_ERR_SHAPE, "too many axes (%d)", k);
        if (k > 0 && v) memcpy(axes, v, (size_t)k * sizeof *v); /* an empty attribute has no array */
        *n = k > 0 && v ? k : 0;
    } else {
        if (ctx->n_in < 2 || !ctx->in[1]) return TTA_OK;
        TTA_NEED_DATA(ctx, 1);
        TTA_TRY(tta_tt_read_ints(ctx, ctx->in[1], "axes", axes, TTA_MAX_DIMS, n));
    }
    *given = true;
    return TTA_OK;
}

tta_status tta_tt_squeeze_infer(tta_op_ctx *ctx) {
    TTA_NEED_INPUT(ctx, 0);
    TTA_TT_NEED_OUTPUT(ctx, 0);
    const tta_tensor *x = ctx->in[0];
    int64_t axes[TTA_MAX_DIMS], dims[TTA_MAX_DIMS];
    int n;
    bool given;
    tta_status st = read_axes(ctx, axes, &n, &given);
    if (st != TTA_OK) return st;
    bool drop[TTA_MAX_DIMS] = {false};
    if (!given || n == 0) {
        for (int i = 0; i < x->ndim; i++)
            drop[i] = x->dims[i] == 1;
    } else {
        for (int i = 0; i < n; i++) {
            int a;
            TTA_TRY(tta_norm_axis(ctx, axes[i], x->ndim, &a));
            if (x->dims[a] != 1)
                return tta_op_error(ctx, TTA_ERR_SHAPE, "cannot squeeze axis %d of size %lld", a,
                                    (long long)x->dims[a]);
            drop[a] = true;
        }
    }
    int k = 0;
    for (int i = 0; i < x->ndim; i++)
        if (!drop[i]) dims[k++] = x->dims[i];
    return tta_set_shape(ctx->out[0], x->dtype, k, dims);
}

tta_status tta_tt_unsqueeze_infer(tta_op_ctx *ctx) {
    TTA_NEED_INPUT(ctx, 0);
    TTA_TT_NEED_OUTPUT(ctx, 0);
    const tta_tensor *x = ctx->in[0];
    int64_t axes[TTA_MAX_DIMS], dims[TTA_MAX_DIMS];
    int n;
    bool given;
    tta_status st = read_axes(ctx, axes, &n, &given);
    if (st != TTA_OK) return st;
    if (!given) return tta_op_error(ctx, TTA_ERR_ATTR, "missing axes");
    int rank = x->ndim + n;
    if (rank > TTA_MAX_DIMS)
        return tta_op_error(ctx, TTA_ERR_UNSUPPORTED, "output rank %d exceeds the maximum of %d", rank,
                            TTA_MAX_DIMS);
    bool ins[TTA_MAX_DIMS] = {false};
    for (int i = 0; i < n; i++) {
        int a;
        TTA_TRY(tta_norm_axis(ctx, axes[i], rank, &a));
        if (ins[a]) return tta_op_error(ctx, TTA_ERR_ATTR, "axis %lld repeated", (long long)axes[i]);
        ins[a] = true;
    }
    for (int i = 0, j = 0; i < rank; i++)
        dims[i] = ins[i] ? 1 : x->dims[j++];
    return tta_set_shape(ctx->out[0], x->dtype, rank, dims);
}

tta_status tta_tt_view_compute(tta_op_ctx *ctx) {
    tta_tt_copy_bytes(ctx->out[0], ctx->in[0]);
    return TTA_OK;
}

/* ---------------------------------------------------------------- Expand */

tta_status tta_tt_expand_infer(tta_op_ctx *ctx) {
    TTA_NEED_INPUT(ctx, 0);
    TTA_TT_NEED_OUTPUT(ctx, 0);
    TTA_NEED_DATA(ctx, 1);
    const tta_tensor *x = ctx->in[0];
    int64_t shape[TTA_MAX_DIMS], dims[TTA_MAX_DIMS];
    int n;
    TTA_TRY(tta_tt_read_ints(ctx, ctx->in[1], "shape", shape, TTA_MAX_DIMS, &n));
    int rank = n > x->ndim ? n : x->ndim;
    for (int i = 0; i < rank; i++) {
        int ix = i - (rank - x->ndim), is = i - (rank - n);
        int64_t dx = ix >= 0 ? x->dims[ix] : 1, ds = is >= 0 ? shape[is] : 1;
        if (ds < 0) {
            char ss[160];
            return tta_op_error(ctx, TTA_ERR_SHAPE, "shape %s has a negative dimension",
                                ints_str(shape, n, ss, sizeof ss));
        }
        if (dx == ds || ds == 1)
            dims[i] = dx;
        else if (dx == 1)
            dims[i] = ds;
        else {
            char sx[160], ss[160];
            return tta_op_error(ctx, TTA_ERR_SHAPE, "cannot expand %s to %s", tta_shape_str(x, sx, sizeof sx),
                                ints_str(shape, n, ss, sizeof ss));
        }
    }
    return tta_set_shape(ctx->out[0], x->dtype, rank, dims);
}

tta_status tta_tt_expand_compute(tta_op_ctx *ctx) {
    const tta_tensor *x = ctx->in[0];
    tta_tensor *y = ctx->out[0];
    int64_t xs[TTA_MAX_DIMS], st[TTA_MAX_DIMS];
    tta_tt_strides(x->ndim, x->dims, xs);
    for (int i = 0; i < y->ndim; i++) {
        int ix = i - (y->ndim - x->ndim);
        st[i] = (ix < 0 || x->dims[ix] == 1) ? 0 : xs[ix];
    }
    size_t es = tta_dtype_size(x->dtype);
    tta_tt_strided_copy(y->data, x->data, es, y->ndim, y->dims, st,
                        tta_tt_threads(ctx, (int64_t)tta_tensor_nbytes(y)));
    return TTA_OK;
}

/* ---------------------------------------------------------------- ConstantOfShape */

/* The fill value: the 'value' attribute (one element) or float32 0. */
static tta_status cos_value(const tta_op_ctx *ctx, tta_dtype *dtype, const void **bytes) {
    static const float zero = 0.0f;
    const tta_attr *a = tta_node_attr(ctx->node, "value");
    *dtype = TTA_DTYPE_FLOAT32;
    *bytes = &zero;
    if (!a) return TTA_OK;
    if (a->type != TTA_ATTR_TENSOR || !a->t)
        return tta_op_error(ctx, TTA_ERR_ATTR, "attribute 'value' must be a tensor");
    if (tta_tensor_numel(a->t) != 1 || !a->t->data)
        return tta_op_error(ctx, TTA_ERR_ATTR, "attribute 'value' must hold exactly one element");
    if (tta_dtype_size(a->t->dtype) == 0)
        return tta_op_error(ctx, TTA_ERR_UNSUPPORTED, "value of dtype %s is not supported",
                            tta_dtype_name(a->t->dtype));
    *dtype = a->t->dtype;
    *bytes = a->t->data;
    return TTA_OK;
}

tta_status tta_tt_constantofshape_prepare(tta_op_ctx *ctx) {
    tta_dtype dt;
    const void *b;
    return cos_value(ctx, &dt, &b);
}

tta_status tta_tt_constantofshape_infer(tta_op_ctx *ctx) {
    TTA_TT_NEED_OUTPUT(ctx, 0);
    TTA_NEED_DATA(ctx, 0);
    tta_dtype dt;
    const void *b;
    TTA_TRY(cos_value(ctx, &dt, &b));
    int64_t dims[TTA_MAX_DIMS];
    int n;
    TTA_TRY(tta_tt_read_ints(ctx, ctx->in[0], "shape", dims, TTA_MAX_DIMS, &n));
    for (int i = 0; i < n; i++)
        if (dims[i] < 0) {
            char ss[160];
            return tta_op_error(ctx, TTA_ERR_SHAPE, "shape %s has a negative dimension",
                                ints_str(dims, n, ss, sizeof ss));
        }
    return tta_set_shape(ctx->out[0], dt, n, dims);
}

tta_status tta_tt_constantofshape_compute(tta_op_ctx *ctx) {
    tta_dtype dt;
    const void *b;
    TTA_TRY(cos_value(ctx, &dt, &b));
    tta_tensor *y = ctx->out[0];
    size_t es = tta_dtype_size(dt);
    int64_t n = tta_tensor_numel(y);
    char *o = y->data;
    bool zero = true;
    for (size_t i = 0; i < es; i++)
        zero &= ((const unsigned char *)b)[i] == 0;
    if (zero) {
        if (n) memset(o, 0, (size_t)n * es);
    } else if (n) { /* the value once, then the filled part copied onto the rest, doubling */
        size_t total = (size_t)n * es, have = es;
        memcpy(o, b, es);
        while (have < total) {
            size_t chunk = have < total - have ? have : total - have;
            memcpy(o + have, o, chunk);
            have += chunk;
        }
    }
    return TTA_OK;
}

/* ---------------------------------------------------------------- Range */

static bool range_dtype_ok(tta_dtype d) {
    return d == TTA_DTYPE_FLOAT32 || d == TTA_DTYPE_FLOAT64 || d == TTA_DTYPE_INT16 || d == TTA_DTYPE_INT32 ||
           d == TTA_DTYPE_INT64;
}

tta_status tta_tt_range_infer(tta_op_ctx *ctx) {
    TTA_TT_NEED_OUTPUT(ctx, 0);
    TTA_NEED_DATA(ctx, 0);
    TTA_NEED_DATA(ctx, 1);
    TTA_NEED_DATA(ctx, 2);
    const tta_tensor *s = ctx->in[0], *l = ctx->in[1], *d = ctx->in[2];
    if (!range_dtype_ok(s->dtype))
        return tta_op_error(ctx, TTA_ERR_UNSUPPORTED, "dtype %s is not supported", tta_dtype_name(s->dtype));
    if (l->dtype != s->dtype || d->dtype != s->dtype)
        return tta_op_error(ctx, TTA_ERR_SHAPE, "start, limit and delta must have the same dtype");
    if (tta_tensor_numel(s) != 1 || tta_tensor_numel(l) != 1 || tta_tensor_numel(d) != 1)
        return tta_op_error(ctx, TTA_ERR_SHAPE, "start, limit and delta must be scalars");
    int64_t n;
    if (tta_dtype_is_float(s->dtype)) {
        double a = tta_get_f64(s, 0), b = tta_get_f64(l, 0), c = tta_get_f64(d, 0);
        if (c == 0 || isnan(a) || isnan(b) || isnan(c) || isinf(a) || isinf(b))
            return tta_op_error(ctx, TTA_ERR_SHAPE, "invalid range (%g, %g, %g)", a, b, c);
        double len = ceil((b - a) / c);
        if (len > (double)INT32_MAX * 64)
            return tta_op_error(ctx, TTA_ERR_SHAPE, "range (%g, %g, %g) is too long", a, b, c);
        n = len > 0 ? (int64_t)len : 0;
    } else {
        int64_t a = tta_get_i64(s, 0), b = tta_get_i64(l, 0), c = tta_get_i64(d, 0);
        if (c == 0) return tta_op_error(ctx, TTA_ERR_SHAPE, "delta must not be 0");
        if (c > 0)
            n = b > a ? (b - a + c - 1) / c : 0;
        else
            n = a > b ? (a - b - c - 1) / -c : 0;
    }
    return tta_set_shape(ctx->out[0], s->dtype, 1, &n);
}

tta_status tta_tt_range_compute(tta_op_ctx *ctx) {
    const tta_tensor *s = ctx->in[0], *d = ctx->in[2];
    tta_tensor *y = ctx->out[0];
    int64_t n = y->dims[0];
    switch (y->dtype) {
    case TTA_DTYPE_FLOAT32: {
        float a = *(const float *)s->data, c = *(const float *)d->data, *o = y->data;
        for (int64_t i = 0; i < n; i++)
            o[i] = a + (float)i * c;
        break;
    }
    case TTA_DTYPE_FLOAT64: {
        double a = *(const double *)s->data, c = *(const double *)d->data, *o = y->data;
        for (int64_t i = 0; i < n; i++)
            o[i] = a + (double)i * c;
        break;
    }
    default: {
        int64_t a = tta_get_i64(s, 0), c = tta_get_i64(d, 0);
        for (int64_t i = 0; i < n; i++)
            tta_set_i64(y, i, a + i * c);
        break;
    }
    }
    return TTA_OK;
}

/* ---------------------------------------------------------------- EyeLike */

tta_status tta_tt_eyelike_infer(tta_op_ctx *ctx) {
    TTA_NEED_INPUT(ctx, 0);
    TTA_TT_NEED_OUTPUT(ctx, 0);
    const tta_tensor *x = ctx->in[0];
    if (x->ndim != 2) return tta_op_error(ctx, TTA_ERR_SHAPE, "input must be 2-D, got rank %d", x->ndim);
    tta_dtype dt = (tta_dtype)tta_attr_int(ctx->node, "dtype", x->dtype);
    if (tta_dtype_size(dt) == 0)
        return tta_op_error(ctx, TTA_ERR_UNSUPPORTED, "output dtype %s is not supported", tta_dtype_name(dt));
    return tta_set_shape(ctx->out[0], dt, 2, x->dims);
}

tta_status tta_tt_eyelike_compute(tta_op_ctx *ctx) {
    tta_tensor *y = ctx->out[0];
    int64_t rows = y->dims[0], cols = y->dims[1], k = tta_attr_int(ctx->node, "k", 0);
    size_t nb = tta_tensor_nbytes(y);
    if (nb) memset(y->data, 0, nb);
    for (int64_t i = 0; i < rows; i++) {
        int64_t j = i + k;
        if (j >= 0 && j < cols) tta_set_i64(y, i * cols + j, 1);
    }
    return TTA_OK;
}
