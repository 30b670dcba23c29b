/* misc_softmax.c - Softmax, LogSoftmax and Hardmax, plain C, float32 and float64.
 *
 * Before opset 13 the input is coerced to 2-D at `axis` (default 1) and the op works on rows
 * of prod(dims[axis:]) elements; from 13 it works along the single axis `axis` (default -1).
 * Both are computed as (outer, len, inner) slices. Softmax subtracts the maximum before
 * exponentiating, so large logits give no overflow and no NaN.
 */
#include <math.h>
#include <string.h>
#ifdef _OPENMP
#include <omp.h>
#endif

#include "core/alloc.h"
#include "runtime/ops/misc.h"

typedef enum sm_kind { SM_SOFTMAX, SM_LOGSOFTMAX, SM_HARDMAX } sm_kind;

typedef struct softmax_state {
    misc_scratch scratch; /* first member: see tta_misc_release */
    sm_kind kind;
    bool coerce_2d; /* opset < 13 */
    int64_t axis;
} softmax_state;

tta_status tta_misc_softmax_prepare(tta_op_ctx *ctx) {
    const tta_node *n = ctx->node;
    softmax_state *st = tta_calloc(1, sizeof *st);
    if (!st) return tta_op_error(ctx, TTA_ERR_NOMEM, "out of memory");
    ctx->state = st;
    st->kind = !strcmp(n->op_type, "LogSoftmax") ? SM_LOGSOFTMAX : !strcmp(n->op_type, "Hardmax") ? SM_HARDMAX : SM_SOFTMAX;
    st->coerce_2d = n->opset < 13;
    st->axis = tta_attr_int(n, "axis", st->coerce_2d ? 1 : -1);
    return TTA_OK;
}

/* (outer, len, inner) for the input's shape. */
static tta_status sm_geometry(tta_op_ctx *ctx, const softmax_state *st, int64_t *outer, int64_t *len, int64_t *inner) {
    const tta_tensor *x = ctx->in[0];
    int r = x->ndim, axis;
    if (st->coerce_2d) {
        /* opsets 1-10 accept axis in [0, r], 11-12 in [-r, r-1]; r itself means "all in outer" */
        int64_t a = st->axis < 0 ? st->axis + r : st->axis;
        if (a < 0 || a > r || (r > 0 && a == r && ctx->node->opset >= 11))
            return tta_op_error(ctx, TTA_ERR_ATTR, "axis %lld out of range for rank %d", (long long)st->axis, r);
        axis = (int)a;
        *outer = misc_prod(x->dims, 0, axis);
        *len = misc_prod(x->dims, axis, r);
        *inner = 1;
    } else {
        TTA_TRY(tta_norm_axis(ctx, st->axis, r, &axis));
        if (r == 0) {
            *outer = *len = *inner = 1;
            return TTA_OK;
        }
        *outer = misc_prod(x->dims, 0, axis);
        *len = x->dims[axis];
        *inner = misc_prod(x->dims, axis + 1, r);
    }
    return TTA_OK;
}

tta_status tta_misc_softmax_infer(tta_op_ctx *ctx) {
    softmax_state *st = ctx->state;
    TTA_NEED_INPUT(ctx, 0);
    const tta_tensor *x = ctx->in[0];
    if (x->dtype != TTA_DTYPE_FLOAT32 && x->dtype != TTA_DTYPE_FLOAT64)
        return tta_op_error(ctx, TTA_ERR_UNSUPPORTED, "unsupported input type %s (float32 and float64 only)",
                            tta_dtype_name(x->dtype));
    int64_t outer, len, inner;
    TTA_TRY(sm_geometry(ctx, st, &outer, &len, &inner));
    return tta_set_shape(ctx->out[0], x->dtype, x->ndim, x->dims);
}

/* One (len x inner) slice; x and y point at its start. `m` and `s` are inner-sized scratch. */
#define SM_SLICE(T, EXP, LOG)                                                                        \
    static void sm_slice_##T(sm_kind kind, const T *x, T *y, int64_t len, int64_t inner, double *m,   \
                             double *s) {                                                            \
        if (inner == 1) {                                                                            \
            T mx = x[0];                                                                             \
            int64_t arg = 0;                                                                         \
            for (int64_t a = 1; a < len; a++)                                                        \
                if (x[a] > mx) mx = x[a], arg = a;                                                   \
            if (kind == SM_HARDMAX) {                                                                \
                for (int64_t a = 0; a < len; a++) y[a] = a == arg ? 1 : 0;                           \
                return;                                                                              \
            }                                                                                        \
            double sum = 0;                                                                          \
            if (kind == SM_SOFTMAX) {                                                                \
                for (int64_t a = 0; a < len; a++) {                                                  \
                    T e = EXP(x[a] - mx);                                                            \
                    y[a] = e;                                                                        \
                    sum += e;                                                                        \
                }                                                                                    \
                T inv = (T)(1.0 / sum);                                                              \
                for (int64_t a = 0; a < len; a++) y[a] *= inv;                                       \
            } else {                                                                                 \
                for (int64_t a = 0; a < len; a++) sum += EXP(x[a] - mx);                             \
                T lse = (T)log(sum);                                                                 \
                for (int64_t a = 0; a < len; a++) y[a] = x[a] - mx - lse;                            \
            }                                                                                        \
            return;                                                                                  \
        }                                                                                            \
        /* strided: walk rows of `inner` contiguous values, keep per-column max and sum */           \
        for (int64_t i = 0; i < inner; i++) m[i] = x[i], s[i] = 0;                                   \
        int64_t *arg = (int64_t *)s; /* hardmax reuses s for the argmax */                           \
        if (kind == SM_HARDMAX)                                                                      \
            for (int64_t i = 0; i < inner; i++) arg[i] = 0;                                          \
        for (int64_t a = 1; a < len; a++) {                                                          \
            const T *r = x + a * inner;                                                              \
            for (int64_t i = 0; i < inner; i++)                                                      \
                if (r[i] > m[i]) {                                                                   \
                    m[i] = r[i];                                                                     \
                    if (kind == SM_HARDMAX) arg[i] = a;                                              \
                }                                                                                    \
        }                                                                                            \
        if (kind == SM_HARDMAX) {                                                                    \
            for (int64_t a = 0; a < len; a++)                                                        \
                for (int64_t i = 0; i < inner; i++) y[a * inner + i] = arg[i] == a ? 1 : 0;          \
            return;                                                                                  \
        }                                                                                            \
        for (int64_t a = 0; a < len; a++) {                                                          \
            const T *r = x + a * inner;                                                              \
            T *o = y + a * inner;                                                                    \
            for (int64_t i = 0; i < inner; i++) {                                                    \
                T e = EXP(r[i] - (T)m[i]);                                                           \
                if (kind == SM_SOFTMAX) o[i] = e;                                                    \
                s[i] += e;                                                                           \
            }                                                                                        \
        }                                                                                            \
        if (kind == SM_SOFTMAX) {                                                                    \
            for (int64_t i = 0; i < inner; i++) s[i] = 1.0 / s[i];                                   \
            for (int64_t a = 0; a < len; a++)                                                        \
                for (int64_t i = 0; i < inner; i++) y[a * inner + i] *= (T)s[i];                     \
        } else {                                                                                     \
            for (int64_t i = 0; i < inner; i++) s[i] = m[i] + LOG(s[i]);                             \
            for (int64_t a = 0; a < len; a++)                                                        \
                for (int64_t i = 0; i < inner; i++) y[a * inner + i] = x[a * inner + i] - (T)s[i];   \
        }                                                                                            \
    }

SM_SLICE(float, expf, log)
SM_SLICE(double, exp, log)

tta_status tta_misc_softmax_compute(tta_op_ctx *ctx) {
    softmax_state *st = ctx->state;
    const tta_tensor *x = ctx->in[0];
    tta_tensor *y = ctx->out[0];
    int64_t outer, len, inner;
    TTA_TRY(sm_geometry(ctx, st, &outer, &len, &inner));
    if (outer * len * inner == 0) return TTA_OK;
    int nt = misc_threads(ctx);
    if (outer < nt) nt = (int)outer;
    double *scratch = NULL;
    if (inner > 1) {
        scratch = misc_scratch_get(&st->scratch, (size_t)nt * 2 * (size_t)inner * sizeof(double));
        if (!scratch) return tta_op_error(ctx, TTA_ERR_NOMEM, "out of memory");
    }
    bool f32 = x->dtype == TTA_DTYPE_FLOAT32;
    int64_t slice = len * inner;
    bool par = nt > 1 && outer * slice >= 32768;
#pragma omp parallel num_threads(nt) if (par)
    {
        int tid = 0, n = 1;
#ifdef _OPENMP
        if (par) {
            tid = omp_get_thread_num();
            n = omp_get_num_threads();
        }
#endif
        double *m = scratch ? scratch + (size_t)tid * 2 * (size_t)inner : NULL, *s = m ? m + inner : NULL;
        for (int64_t o = tid; o < outer; o += n) {
            if (f32) sm_slice_float(st->kind, (const float *)x->data + o * slice, (float *)y->data + o * slice, len, inner, m, s);
            else sm_slice_double(st->kind, (const double *)x->data + o * slice, (double *)y->data + o * slice, len, inner, m, s);
        }
    }
    return TTA_OK;
}
