/* misc_reduce.c - the Reduce* operators (Mean, Max, Min, Sum, Prod, L1, L2, LogSum, LogSumExp,
 * SumSquare) and ArgMax / ArgMin, plain C.
 *
 * Axes come from the `axes` attribute, or from the optional second input for ReduceSum >= 13
 * and every Reduce* >= 18; no axes means "all axes" unless noop_with_empty_axes is set, in
 * which case the op is the identity. The reduction walks the input once in memory order:
 * dims of size 1 are dropped and neighbouring dims that are both reduced (or both kept) are
 * merged, so the innermost loop runs over a contiguous stretch of input that lands either on
 * one accumulator (innermost dims reduced) or on a contiguous row of accumulators (innermost
 * dims kept). Accumulation is in double for every dtype.
 */
#include <math.h>
#include <string.h>

#include "core/alloc.h"
#include "runtime/ops/misc.h"

typedef enum red_kind {
    RED_SUM,
    RED_MEAN,
    RED_MAX,
    RED_MIN,
    RED_PROD,
    RED_L1,
    RED_L2,
    RED_LOGSUM,
    RED_LOGSUMEXP,
    RED_SUMSQUARE
} red_kind;

typedef struct reduce_state {
    misc_scratch scratch; /* first member: see tta_misc_release */
    red_kind kind;
    bool keepdims, noop_empty, axes_from_input;
    int n_axes;
    int64_t axes[TTA_MAX_DIMS]; /* from the attribute */
} reduce_state;

static const struct {
    const char *op;
    red_kind kind;
} red_ops[] = {
    {"ReduceSum", RED_SUM},         {"ReduceMean", RED_MEAN},     {"ReduceMax", RED_MAX},
    {"ReduceMin", RED_MIN},         {"ReduceProd", RED_PROD},     {"ReduceL1", RED_L1},
    {"ReduceL2", RED_L2},           {"ReduceLogSum", RED_LOGSUM}, {"ReduceLogSumExp", RED_LOGSUMEXP},
    {"ReduceSumSquare", RED_SUMSQUARE},
};

tta_status tta_misc_reduce_prepare(tta_op_ctx *ctx) {
    const tta_node *n = ctx->node;
    int k = -1;
    for (size_t i = 0; i < sizeof red_ops / sizeof red_ops[0]; i++)
        if (!strcmp(n->op_type, red_ops[i].op)) k = (int)i;
    if (k < 0) return tta_op_error(ctx, TTA_ERR_INTERNAL, "not a Reduce operator");
    reduce_state *st = tta_calloc(1, sizeof *st);
    if (!st) return tta_op_error(ctx, TTA_ERR_NOMEM, "out of memory");
    ctx->state = st;
    st->kind = red_ops[k].kind;
    st->keepdims = tta_attr_int(n, "keepdims", 1) != 0;
    st->noop_empty = tta_attr_int(n, "noop_with_empty_axes", 0) != 0;
    st->axes_from_input = n->opset >= 18 || (st->kind == RED_SUM && n->opset >= 13);
    const int64_t *axes;
    int na = tta_attr_ints(n, "axes", &axes);
    if (na > 0 && st->axes_from_input)
        return tta_op_error(ctx, TTA_ERR_ATTR, "the axes attribute is not allowed at opset %d (axes are an input)",
                            n->opset);
    if (na > TTA_MAX_DIMS) return tta_op_error(ctx, TTA_ERR_ATTR, "too many axes (%d)", na);
    st->n_axes = na;
    for (int i = 0; i < na; i++) st->axes[i] = axes[i];
    return TTA_OK;
}

/* Works out which axes are reduced. *identity is set when the op is a no-op
 * (noop_with_empty_axes with no axes). */
static tta_status reduce_mask(tta_op_ctx *ctx, const reduce_state *st, bool *mask, bool *identity) {
    const tta_tensor *x = ctx->in[0];
    int r = x->ndim;
    int64_t axes[TTA_MAX_DIMS];
    int na = 0;
    if (st->axes_from_input) {
        if (ctx->n_in > 1 && ctx->in[1]) {
            const tta_tensor *a = ctx->in[1];
            if (!a->data) return TTA_DEFER;
            if (a->dtype != TTA_DTYPE_INT64 && a->dtype != TTA_DTYPE_INT32)
                return tta_op_error(ctx, TTA_ERR_SHAPE, "axes must be int64, not %s", tta_dtype_name(a->dtype));
            int64_t cnt = tta_tensor_numel(a);
            if (cnt > TTA_MAX_DIMS) return tta_op_error(ctx, TTA_ERR_SHAPE, "too many axes (%lld)", (long long)cnt);
            na = (int)cnt;
            for (int i = 0; i < na; i++) axes[i] = tta_get_i64(a, i);
        }
    } else {
        na = st->n_axes;
        for (int i = 0; i < na; i++) axes[i] = st->axes[i];
    }
    *identity = false;
    for (int i = 0; i < TTA_MAX_DIMS; i++) mask[i] = false;
    if (na == 0) {
        if (st->noop_empty) *identity = true;
        else
            for (int i = 0; i < r; i++) mask[i] = true;
        return TTA_OK;
    }
    for (int i = 0; i < na; i++) {
        int64_t a = axes[i] < 0 ? axes[i] + r : axes[i];
        if (a < 0 || a >= r)
            return tta_op_error(ctx, TTA_ERR_ATTR, "axis %lld out of range for rank %d", (long long)axes[i], r);
        mask[a] = true;
    }
    return TTA_OK;
}

static bool reduce_dtype_ok(red_kind kind, tta_dtype d) {
    if (misc_numeric(d)) return true;
    return d == TTA_DTYPE_BOOL && (kind == RED_MAX || kind == RED_MIN);
}

tta_status tta_misc_reduce_infer(tta_op_ctx *ctx) {
    reduce_state *st = ctx->state;
    TTA_NEED_INPUT(ctx, 0);
    const tta_tensor *x = ctx->in[0];
    if (!reduce_dtype_ok(st->kind, x->dtype))
        return tta_op_error(ctx, TTA_ERR_UNSUPPORTED, "unsupported input type %s", tta_dtype_name(x->dtype));
    bool mask[TTA_MAX_DIMS], identity;
    tta_status s = reduce_mask(ctx, st, mask, &identity);
    if (s != TTA_OK) return s;
    if (identity) return tta_set_shape(ctx->out[0], x->dtype, x->ndim, x->dims);
    int64_t dims[TTA_MAX_DIMS];
    int nd = 0;
    for (int i = 0; i < x->ndim; i++) {
        if (!mask[i]) dims[nd++] = x->dims[i];
        else if (st->keepdims) dims[nd++] = 1;
    }
    return tta_set_shape(ctx->out[0], x->dtype, nd, dims);
}

/* The input seen as nd merged dims; the innermost is contiguous. */
typedef struct red_plan {
    int nd;
    int64_t dims[TTA_MAX_DIMS];
    int64_t istr[TTA_MAX_DIMS]; /* input strides, elements */
    int64_t ostr[TTA_MAX_DIMS]; /* accumulator strides; 0 on reduced dims */
} red_plan;

static void plan_build(const tta_tensor *x, const bool *mask, red_plan *p) {
    bool red[TTA_MAX_DIMS];
    int nd = 0;
    for (int i = 0; i < x->ndim; i++) {
        if (x->dims[i] == 1) continue;
        if (nd > 0 && red[nd - 1] == mask[i]) {
            p->dims[nd - 1] *= x->dims[i];
        } else {
            p->dims[nd] = x->dims[i];
            red[nd] = mask[i];
            nd++;
        }
    }
    if (nd == 0) {
        p->dims[0] = 1;
        red[0] = false;
        nd = 1;
    }
    p->nd = nd;
    int64_t is = 1, os = 1;
    for (int i = nd - 1; i >= 0; i--) {
        p->istr[i] = is;
        is *= p->dims[i];
        if (red[i]) {
            p->ostr[i] = 0;
        } else {
            p->ostr[i] = os;
            os *= p->dims[i];
        }
    }
}

/* Returns `len` elements of x from `off` as doubles: the data itself for float64, else
 * converted into buf. */
static const double *load_run(const tta_tensor *x, int64_t off, int64_t len, double *buf) {
    if (x->dtype == TTA_DTYPE_FLOAT64) return (const double *)x->data + off;
    if (x->dtype == TTA_DTYPE_FLOAT32) {
        const float *s = (const float *)x->data + off;
        for (int64_t j = 0; j < len; j++) buf[j] = s[j];
    } else {
        for (int64_t j = 0; j < len; j++) buf[j] = tta_get_f64(x, off + j);
    }
    return buf;
}

/* One pass over the input. pass 0 accumulates acc; for LogSumExp, pass 0 takes the maximum
 * into acc and pass 1 sums exp(x - shift) into acc2. */
static void reduce_pass(const tta_tensor *x, const red_plan *p, red_kind kind, int pass, double *acc,
                        const double *shift, double *acc2, double *buf) {
    int nd = p->nd;
    int64_t len = p->dims[nd - 1], os = p->ostr[nd - 1];
    int64_t total = 1;
    for (int i = 0; i < nd; i++) total *= p->dims[i];
    if (total == 0) return;
    int64_t nrun = total / len;
    int64_t idx[TTA_MAX_DIMS] = {0};
    int64_t ioff = 0, ooff = 0;
    bool lse_max = kind == RED_LOGSUMEXP && pass == 0;
    for (int64_t r = 0; r < nrun; r++) {
        const double *v = load_run(x, ioff, len, buf);
        if (kind == RED_LOGSUMEXP && pass == 1) {
            if (os == 0) {
                double s = 0, m = shift[ooff];
                for (int64_t j = 0; j < len; j++) s += exp(v[j] - m);
                acc2[ooff] += s;
            } else {
                for (int64_t j = 0; j < len; j++) acc2[ooff + j] += exp(v[j] - shift[ooff + j]);
            }
        } else if (kind == RED_MAX || lse_max) {
            if (os == 0) {
                double m = acc[ooff];
                for (int64_t j = 0; j < len; j++)
                    if (v[j] > m || isnan(v[j])) m = v[j];
                acc[ooff] = m;
            } else {
                for (int64_t j = 0; j < len; j++)
                    if (v[j] > acc[ooff + j] || isnan(v[j])) acc[ooff + j] = v[j];
            }
        } else if (kind == RED_MIN) {
            if (os == 0) {
                double m = acc[ooff];
                for (int64_t j = 0; j < len; j++)
                    if (v[j] < m || isnan(v[j])) m = v[j];
                acc[ooff] = m;
            } else {
                for (int64_t j = 0; j < len; j++)
                    if (v[j] < acc[ooff + j] || isnan(v[j])) acc[ooff + j] = v[j];
            }
        } else if (kind == RED_PROD) {
            if (os == 0) {
                double m = acc[ooff];
                for (int64_t j = 0; j < len; j++) m *= v[j];
                acc[ooff] = m;
            } else {
                for (int64_t j = 0; j < len; j++) acc[ooff + j] *= v[j];
            }
        } else if (kind == RED_L1) {
            if (os == 0) {
                double s = 0;
                for (int64_t j = 0; j < len; j++) s += fabs(v[j]);
                acc[ooff] += s;
            } else {
                for (int64_t j = 0; j < len; j++) acc[ooff + j] += fabs(v[j]);
            }
        } else if (kind == RED_L2 || kind == RED_SUMSQUARE) {
            if (os == 0) {
                double s = 0;
                for (int64_t j = 0; j < len; j++) s += v[j] * v[j];
                acc[ooff] += s;
            } else {
                for (int64_t j = 0; j < len; j++) acc[ooff + j] += v[j] * v[j];
            }
        } else { /* SUM, MEAN, LOGSUM */
            if (os == 0) {
                double s = 0;
                for (int64_t j = 0; j < len; j++) s += v[j];
                acc[ooff] += s;
            } else {
                for (int64_t j = 0; j < len; j++) acc[ooff + j] += v[j];
            }
        }
        for (int d = nd - 2; d >= 0; d--) {
            idx[d]++;
            ioff += p->istr[d];
            ooff += p->ostr[d];
            if (idx[d] < p->dims[d]) break;
            ioff -= p->istr[d] * p->dims[d];
            ooff -= p->ostr[d] * p->dims[d];
            idx[d] = 0;
        }
    }
}

/* ReduceMean, ReduceSum or ReduceMax over the two spatial axes of a float32 [N, C, H, W] (a global
 * pooling, as x.mean([2, 3]) exports): the case that may read a blocked input. */
static bool spatial_pool(const tta_op_ctx *ctx, const reduce_state *st, const bool *mask) {
    const tta_tensor *x = ctx->in[0];
    return (st->kind == RED_MEAN || st->kind == RED_SUM || st->kind == RED_MAX) && x->dtype == TTA_DTYPE_FLOAT32 &&
           x->ndim == 4 && !mask[0] && !mask[1] && mask[2] && mask[3];
}

/* Plan time: the input may be blocked (padded too) for a spatial pool; the output is plain. */
unsigned tta_misc_reduce_layouts(const tta_op_ctx *ctx) {
    const reduce_state *st = ctx->state;
    bool mask[TTA_MAX_DIMS], identity;
    if (reduce_mask((tta_op_ctx *)ctx, st, mask, &identity) != TTA_OK || identity) return 0;
    return spatial_pool(ctx, st, mask) ? TTA_LAYOUT_IN(0) | TTA_LAYOUT_PADDED : 0;
}

/* The spatial pool of a blocked input [N][Cp/B][H*W][B] into plain Y (N*C values), summed in
 * double in the same order as the plain path (pixel by pixel). */
static tta_status spatial_pool_blocked(tta_op_ctx *ctx, const reduce_state *st) {
    const tta_tensor *x = ctx->in[0];
    float *y = ctx->out[0]->data;
    const int64_t N = x->dims[0], C = x->dims[1], HW = x->dims[2] * x->dims[3], B = tta_layout_block();
    const int64_t cb = (C + B - 1) / B;
    const float *xd = x->data;
    int nt = ctx->n_threads > 1 && N * cb > 1 ? ctx->n_threads : 1;
#pragma omp parallel for num_threads(nt) if (nt > 1)
    for (int64_t pl = 0; pl < N * cb; pl++) {
        const int64_t n = pl / cb, c0 = pl % cb * B;
        const float *xp = xd + pl * HW * B;
        double acc[16];
        for (int64_t b = 0; b < B; b++) acc[b] = st->kind == RED_MAX ? -INFINITY : 0.0;
        for (int64_t i = 0; i < HW; i++)
            for (int64_t b = 0; b < B; b++) {
                double v = xp[i * B + b];
                if (st->kind == RED_MAX) acc[b] = v > acc[b] || v != v ? v : acc[b];
                else acc[b] += v;
            }
        for (int64_t b = 0; b < B && c0 + b < C; b++)
            y[n * C + c0 + b] = (float)(st->kind == RED_MEAN ? acc[b] / (double)HW : acc[b]);
    }
    return TTA_OK;
}

tta_status tta_misc_reduce_compute(tta_op_ctx *ctx) {
    reduce_state *st = ctx->state;
    const tta_tensor *x = ctx->in[0];
    tta_tensor *y = ctx->out[0];
    bool mask[TTA_MAX_DIMS], identity;
    tta_status s = reduce_mask(ctx, st, mask, &identity);
    if (s == TTA_DEFER) return tta_op_error(ctx, TTA_ERR_INTERNAL, "axes input has no data at run time");
    if (s != TTA_OK) return s;
    if (tta_in_layout(ctx, 0) == TTA_LAYOUT_BLOCKED) {
        if (identity || !spatial_pool(ctx, st, mask))
            return tta_op_error(ctx, TTA_ERR_INTERNAL, "a blocked input to a reduction that is not a spatial pool");
        return spatial_pool_blocked(ctx, st);
    }
    if (identity) {
        if (y->data != x->data) memcpy(y->data, x->data, tta_tensor_nbytes(x));
        return TTA_OK;
    }
    red_plan p;
    plan_build(x, mask, &p);
    int64_t out_n = tta_tensor_numel(y), in_n = tta_tensor_numel(x);
    int64_t red_n = 1;
    for (int i = 0; i < x->ndim; i++)
        if (mask[i]) red_n *= x->dims[i];
    int64_t len = p.dims[p.nd - 1];
    bool lse = st->kind == RED_LOGSUMEXP;
    size_t need = ((size_t)out_n * (lse ? 2 : 1) + (size_t)len) * sizeof(double);
    double *acc = misc_scratch_get(&st->scratch, need);
    if (!acc) return tta_op_error(ctx, TTA_ERR_NOMEM, "out of memory");
    double *acc2 = lse ? acc + out_n : NULL;
    double *buf = acc + out_n * (lse ? 2 : 1);
    double init = 0;
    if (st->kind == RED_MAX || lse) init = -INFINITY;
    else if (st->kind == RED_MIN) init = INFINITY;
    else if (st->kind == RED_PROD) init = 1;
    for (int64_t i = 0; i < out_n; i++) acc[i] = init;
    if (in_n > 0) reduce_pass(x, &p, st->kind, 0, acc, NULL, NULL, buf);
    if (lse) {
        for (int64_t i = 0; i < out_n; i++) {
            if (!isfinite(acc[i])) acc[i] = isnan(acc[i]) ? acc[i] : 0; /* all -inf / +inf: shift 0 */
            acc2[i] = 0;
        }
        if (in_n > 0) reduce_pass(x, &p, st->kind, 1, NULL, acc, acc2, buf);
        for (int64_t i = 0; i < out_n; i++) acc[i] += log(acc2[i]);
    } else if (st->kind == RED_MEAN) {
        for (int64_t i = 0; i < out_n; i++) acc[i] /= (double)red_n;
    } else if (st->kind == RED_L2) {
        for (int64_t i = 0; i < out_n; i++) acc[i] = sqrt(acc[i]);
    } else if (st->kind == RED_LOGSUM) {
        for (int64_t i = 0; i < out_n; i++) acc[i] = log(acc[i]);
    }
    if (y->dtype == TTA_DTYPE_FLOAT32) {
        float *o = y->data;
        for (int64_t i = 0; i < out_n; i++) o[i] = (float)acc[i];
    } else if (y->dtype == TTA_DTYPE_FLOAT64) {
        memcpy(y->data, acc, (size_t)out_n * sizeof(double));
    } else if (tta_dtype_is_float(y->dtype)) {
        for (int64_t i = 0; i < out_n; i++) tta_set_f64(y, i, acc[i]);
    } else {
        /* integer and bool outputs: truncate like a cast; infinities/NaN (empty reductions) clamp */
        for (int64_t i = 0; i < out_n; i++) {
            double v = acc[i];
            if (isnan(v)) v = 0;
            if (v > 9.2e18) v = 9.2e18;
            if (v < -9.2e18) v = -9.2e18;
            tta_set_i64(y, i, (int64_t)v);
        }
    }
    return TTA_OK;
}

/* ---- ArgMax / ArgMin */

typedef struct arg_state {
    misc_scratch scratch; /* first member: see tta_misc_release */
    bool is_max, keepdims, last;
    int64_t axis;
} arg_state;

tta_status tta_misc_arg_prepare(tta_op_ctx *ctx) {
    const tta_node *n = ctx->node;
    arg_state *st = tta_calloc(1, sizeof *st);
    if (!st) return tta_op_error(ctx, TTA_ERR_NOMEM, "out of memory");
    ctx->state = st;
    st->is_max = !strcmp(n->op_type, "ArgMax");
    st->keepdims = tta_attr_int(n, "keepdims", 1) != 0;
    st->last = tta_attr_int(n, "select_last_index", 0) != 0;
    st->axis = tta_attr_int(n, "axis", 0);
    return TTA_OK;
}

tta_status tta_misc_arg_infer(tta_op_ctx *ctx) {
    arg_state *st = ctx->state;
    TTA_NEED_INPUT(ctx, 0);
    const tta_tensor *x = ctx->in[0];
    if (!misc_numeric(x->dtype))
        return tta_op_error(ctx, TTA_ERR_UNSUPPORTED, "unsupported input type %s", tta_dtype_name(x->dtype));
    if (x->ndim == 0) return tta_op_error(ctx, TTA_ERR_SHAPE, "input must have rank >= 1");
    int axis;
    TTA_TRY(tta_norm_axis(ctx, st->axis, x->ndim, &axis));
    if (x->dims[axis] == 0) return tta_op_error(ctx, TTA_ERR_SHAPE, "cannot take the %s of an empty axis",
                                                st->is_max ? "ArgMax" : "ArgMin");
    int64_t dims[TTA_MAX_DIMS];
    int nd = 0;
    for (int i = 0; i < x->ndim; i++) {
        if (i != axis) dims[nd++] = x->dims[i];
        else if (st->keepdims) dims[nd++] = 1;
    }
    return tta_set_shape(ctx->out[0], TTA_DTYPE_INT64, nd, dims);
}

tta_status tta_misc_arg_compute(tta_op_ctx *ctx) {
    arg_state *st = ctx->state;
    const tta_tensor *x = ctx->in[0];
    int64_t *y = ctx->out[0]->data;
    int axis;
    TTA_TRY(tta_norm_axis(ctx, st->axis, x->ndim, &axis));
    int64_t outer = misc_prod(x->dims, 0, axis), len = x->dims[axis], inner = misc_prod(x->dims, axis + 1, x->ndim);
    if (outer * inner == 0) return TTA_OK;
    /* best value per inner position, then a row buffer for the conversion */
    double *best = misc_scratch_get(&st->scratch, (size_t)inner * 2 * sizeof(double));
    if (!best) return tta_op_error(ctx, TTA_ERR_NOMEM, "out of memory");
    double *buf = best + inner;
    double sign = st->is_max ? 1.0 : -1.0; /* ArgMin is ArgMax of -x */
    for (int64_t o = 0; o < outer; o++) {
        int64_t *yi = y + o * inner;
        for (int64_t a = 0; a < len; a++) {
            const double *v = load_run(x, (o * len + a) * inner, inner, buf);
            for (int64_t i = 0; i < inner; i++) {
                double c = sign * v[i];
                bool take;
                if (a == 0) take = true;
                else if (isnan(best[i])) take = false; /* the first NaN wins, like numpy */
                else if (isnan(c)) take = true;
                else take = st->last ? c >= best[i] : c > best[i];
                if (take) {
                    best[i] = c;
                    yi[i] = a;
                }
            }
        }
    }
    return TTA_OK;
}
