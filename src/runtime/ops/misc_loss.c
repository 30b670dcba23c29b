/* misc_loss.c - NegativeLogLikelihoodLoss and SoftmaxCrossEntropyLoss (opset 12+), plain C,
 * float32 and float64 inputs with int32 or int64 targets.
 *
 * Input [N, C, d1..dk], target [N, d1..dk], optional weight [C]. The loss of one element is
 * -input[n, t, d] * weight[t], 0 (and weight 0) where t == ignore_index. reduction "none" keeps
 * the [N, d1..dk] losses, "sum" adds them, "mean" divides the sum by the total weight of the
 * elements not ignored. SoftmaxCrossEntropyLoss applies the same to log_softmax(scores, axis 1)
 * and can also output that log-probability tensor. Computed in double.
 */
#include <math.h>
#include <string.h>

#include "core/alloc.h"
#include "runtime/ops/misc.h"

enum { RD_NONE, RD_SUM, RD_MEAN };

typedef struct loss_state {
    misc_scratch scratch; /* first member: see tta_misc_release */
    bool softmax;         /* SoftmaxCrossEntropyLoss */
    int reduction;
    bool has_ignore;
    int64_t ignore_index;
} loss_state;

tta_status tta_misc_loss_prepare(tta_op_ctx *ctx) {
    const tta_node *n = ctx->node;
    loss_state *st = tta_calloc(1, sizeof *st);
    if (!st) return tta_op_error(ctx, TTA_ERR_NOMEM, "out of memory");
    ctx->state = st;
    st->softmax = !strcmp(n->op_type, "SoftmaxCrossEntropyLoss");
    const char *r = tta_attr_string(n, "reduction", "mean");
    if (!strcmp(r, "none")) st->reduction = RD_NONE;
    else if (!strcmp(r, "sum")) st->reduction = RD_SUM;
    else if (!strcmp(r, "mean")) st->reduction = RD_MEAN;
    else return tta_op_error(ctx, TTA_ERR_ATTR, "unsupported reduction '%s'", r);
    st->has_ignore = tta_node_attr(n, "ignore_index") != NULL;
    st->ignore_index = tta_attr_int(n, "ignore_index", 0);
    return TTA_OK;
}

tta_status tta_misc_loss_infer(tta_op_ctx *ctx) {
    loss_state *st = ctx->state;
    TTA_NEED_INPUT(ctx, 0);
    TTA_NEED_INPUT(ctx, 1);
    const tta_tensor *x = ctx->in[0], *t = ctx->in[1];
    const tta_tensor *w = ctx->n_in > 2 ? ctx->in[2] : NULL;
    if (x->dtype != TTA_DTYPE_FLOAT32 && x->dtype != TTA_DTYPE_FLOAT64)
        return tta_op_error(ctx, TTA_ERR_UNSUPPORTED, "unsupported input type %s (float32 and float64 only)",
                            tta_dtype_name(x->dtype));
    if (t->dtype != TTA_DTYPE_INT64 && t->dtype != TTA_DTYPE_INT32)
        return tta_op_error(ctx, TTA_ERR_UNSUPPORTED, "unsupported target type %s", tta_dtype_name(t->dtype));
    if (x->ndim < 2) return tta_op_error(ctx, TTA_ERR_SHAPE, "input must be [N, C, ...]");
    bool ok = t->ndim == x->ndim - 1 && t->dims[0] == x->dims[0];
    for (int i = 1; ok && i < t->ndim; i++) ok = t->dims[i] == x->dims[i + 1];
    if (!ok) {
        char a[128], b[128];
        return tta_op_error(ctx, TTA_ERR_SHAPE, "target shape %s does not fit input shape %s", tta_shape_str(t, b, sizeof b),
                            tta_shape_str(x, a, sizeof a));
    }
    if (w) {
        if (w->dtype != x->dtype) return tta_op_error(ctx, TTA_ERR_SHAPE, "weight must have the input's type");
        if (w->ndim != 1 || w->dims[0] != x->dims[1]) return tta_op_error(ctx, TTA_ERR_SHAPE, "weight must be [C]");
    }
    if (st->reduction == RD_NONE) TTA_TRY(tta_set_shape(ctx->out[0], x->dtype, t->ndim, t->dims));
    else TTA_TRY(tta_set_shape(ctx->out[0], x->dtype, 0, NULL));
    if (st->softmax && ctx->n_out > 1 && ctx->out[1]) TTA_TRY(tta_set_shape(ctx->out[1], x->dtype, x->ndim, x->dims));
    return TTA_OK;
}

tta_status tta_misc_loss_compute(tta_op_ctx *ctx) {
    loss_state *st = ctx->state;
    const tta_tensor *x = ctx->in[0], *t = ctx->in[1];
    const tta_tensor *w = ctx->n_in > 2 ? ctx->in[2] : NULL;
    tta_tensor *y = ctx->out[0], *lp_out = st->softmax && ctx->n_out > 1 ? ctx->out[1] : NULL;
    int64_t N = x->dims[0], C = x->dims[1], D = misc_prod(x->dims, 2, x->ndim);
    int64_t xn = tta_tensor_numel(x), tn = N * D;
    /* the (log-)probabilities in double, then the per-element losses */
    double *lp = misc_scratch_get(&st->scratch, (size_t)(xn + tn) * sizeof(double));
    if (!lp) return tta_op_error(ctx, TTA_ERR_NOMEM, "out of memory");
    double *loss = lp + xn;
    for (int64_t i = 0; i < xn; i++) lp[i] = tta_get_f64(x, i);
    if (st->softmax) {
        for (int64_t n = 0; n < N; n++)
            for (int64_t d = 0; d < D; d++) {
                double *p = lp + n * C * D + d, m = -INFINITY, s = 0;
                for (int64_t c = 0; c < C; c++) m = fmax(m, p[c * D]);
                if (!isfinite(m)) m = 0;
                for (int64_t c = 0; c < C; c++) s += exp(p[c * D] - m);
                double lse = m + log(s);
                for (int64_t c = 0; c < C; c++) p[c * D] -= lse;
            }
        if (lp_out)
            for (int64_t i = 0; i < xn; i++) tta_set_f64(lp_out, i, lp[i]);
    }
    double sum = 0, wsum = 0;
    for (int64_t n = 0; n < N; n++)
        for (int64_t d = 0; d < D; d++) {
            int64_t k = n * D + d, c = tta_get_i64(t, k);
            if (st->has_ignore && c == st->ignore_index) {
                loss[k] = 0;
                continue;
            }
            if (c < 0 || c >= C)
                return tta_op_error(ctx, TTA_ERR_SHAPE, "target %lld out of range [0, %lld)", (long long)c, (long long)C);
            double wt = w ? tta_get_f64(w, c) : 1.0;
            loss[k] = -lp[(n * C + c) * D + d] * wt;
            sum += loss[k];
            wsum += wt;
        }
    if (st->reduction == RD_NONE) {
        for (int64_t k = 0; k < tn; k++) tta_set_f64(y, k, loss[k]);
    } else {
        tta_set_f64(y, 0, st->reduction == RD_SUM ? sum : sum / wsum);
    }
    return TTA_OK;
}
