/* nn_norm.c - normalisation kernels: BatchNormalization (inference for all opsets, including
 * spatial=0 of opsets < 9; training mode of opsets >= 14), InstanceNormalization,
 * LayerNormalization (with the optional Mean / InvStdDev outputs), LRN and
 * MeanVarianceNormalization. float32 and float64; statistics are accumulated in double.
 */
#include <math.h>
#include <string.h>

#include "core/alloc.h"
#include "core/cpu.h"
#include "runtime/ops/nn.h"

typedef struct norm_state {
    double epsilon, momentum;
    int training; /* BatchNormalization: batch statistics */
    int spatial;  /* BatchNormalization opset < 9: 0 = per-activation parameters */
    bool relu;    /* tta's BatchNormRelu: max(0, .) after (see rewrite.c) */
    int64_t axis; /* LayerNormalization */
    double alpha, beta, bias;
    int64_t size; /* LRN */
    int n_axes;   /* MVN */
    int64_t axes[TTA_MAX_DIMS];
    tta_nn_scratch buf;
} norm_state;

void tta_nn_norm_release(tta_op_ctx *ctx) {
    norm_state *st = ctx->state;
    if (!st) return;
    tta_nn_scratch_free(&st->buf);
    tta_free(st);
    ctx->state = NULL;
}

static tta_status new_state(tta_op_ctx *ctx, norm_state **out) {
    norm_state *st = tta_calloc(1, sizeof *st);
    if (!st) return tta_op_error(ctx, TTA_ERR_NOMEM, "out of memory");
    ctx->state = st;
    *out = st;
    return TTA_OK;
}

static bool is_float(tta_dtype d) { return d == TTA_DTYPE_FLOAT32 || d == TTA_DTYPE_FLOAT64; }

static tta_status need_float(tta_op_ctx *ctx, const tta_tensor *t, const char *what) {
    if (!is_float(t->dtype))
        return tta_op_error(ctx, TTA_ERR_UNSUPPORTED, "%s: dtype %s is not supported (float32, float64)",
                            what, tta_dtype_name(t->dtype));
    return TTA_OK;
}

/* Element access for float32/float64 tensors. */
static inline double ld(const tta_tensor *t, int64_t i) {
    return t->dtype == TTA_DTYPE_FLOAT32 ? (double)((const float *)t->data)[i] : ((const double *)t->data)[i];
}
static inline void st_(tta_tensor *t, int64_t i, double v) {
    if (t->dtype == TTA_DTYPE_FLOAT32)
        ((float *)t->data)[i] = (float)v;
    else
        ((double *)t->data)[i] = v;
}

static int nthreads(const tta_op_ctx *ctx) { return ctx->n_threads > 0 ? ctx->n_threads : 1; }

/* ---- BatchNormalization */

tta_status tta_nn_batchnorm_prepare(tta_op_ctx *ctx) {
    norm_state *st = NULL;
    TTA_TRY(new_state(ctx, &st));
    const tta_node *n = ctx->node;
    st->epsilon = tta_attr_float(n, "epsilon", 1e-5f);
    st->momentum = tta_attr_float(n, "momentum", 0.9f);
    st->spatial = n->opset < 9 ? (int)tta_attr_int(n, "spatial", 1) : 1;
    st->relu = !strcmp(n->op_type, "BatchNormRelu");
    int extra_outputs = 0;
    for (int i = 1; i < n->n_outputs; i++)
        extra_outputs += n->outputs[i] >= 0;
    if (n->opset >= 14) {
        st->training = tta_attr_int(n, "training_mode", 0) != 0;
        if (!st->training && extra_outputs)
            return tta_op_error(ctx, TTA_ERR_ATTR, "running_mean/running_var outputs need training_mode=1");
    } else {
        bool is_test = n->opset < 7 ? tta_attr_int(n, "is_test", 0) != 0 : false;
        if (extra_outputs && !is_test)
            return tta_op_error(
                ctx, TTA_ERR_UNSUPPORTED,
                "training-mode outputs (mean, var, saved_mean, saved_var) of opset %d are not "
                "supported; only inference",
                n->opset);
    }
    return TTA_OK;
}

tta_status tta_nn_batchnorm_infer(tta_op_ctx *ctx) {
    norm_state *st = ctx->state;
    for (int i = 0; i < 5; i++)
        TTA_NEED_INPUT(ctx, i);
    const tta_tensor *x = ctx->in[0];
    char sx[128], sp[128];
    TTA_TRY(need_float(ctx, x, "X"));
    if (x->ndim < 2)
        return tta_op_error(ctx, TTA_ERR_SHAPE, "X %s must be [N, C, ...]", tta_shape_str(x, sx, sizeof sx));
    int64_t c = x->dims[1], per_act = tta_tensor_numel(x) / (x->dims[0] > 0 ? x->dims[0] : 1);
    static const char *names[] = {"", "scale", "B", "mean", "var"};
    for (int i = 1; i < 5; i++) {
        const tta_tensor *p = ctx->in[i];
        TTA_TRY(need_float(ctx, p, names[i]));
        int64_t want = st->spatial ? c : per_act;
        if (tta_tensor_numel(p) != want)
            return tta_op_error(ctx, TTA_ERR_SHAPE, "%s %s does not fit X %s (%lld values expected)",
                                names[i], tta_shape_str(p, sp, sizeof sp), tta_shape_str(x, sx, sizeof sx),
                                (long long)want);
    }
    TTA_TRY(tta_set_shape(ctx->out[0], x->dtype, x->ndim, x->dims));
    for (int i = 1; i < 3 && i < ctx->n_out; i++)
        if (ctx->out[i])
            TTA_TRY(tta_set_shape(ctx->out[i], ctx->in[2 + i]->dtype, ctx->in[2 + i]->ndim,
                                  ctx->in[2 + i]->dims));
    return TTA_OK;
}

/* One [plane][B] block of a blocked tensor: y = x * a + b per lane, then max(0, .) with relu (NaN
 * gives 0, as the plain path's comparison does). Built for AVX-512, AVX2 and the baseline and
 * picked by tta_cpu_isa(): the baseline build alone runs it at SSE width (no FMA anywhere, so
 * all three give the same bits). */
typedef float bn_v8 __attribute__((vector_size(32)));
typedef int bn_i8 __attribute__((vector_size(32)));
static inline __attribute__((always_inline)) void bn_plane(const float *xp, float *yp, int64_t plane, const float *a,
                                                           const float *b, const int B, const bool relu) {
    bn_v8 av[2], bv[2];
    for (int j = 0; j < B / 8; j++) {
        memcpy(&av[j], a + 8 * j, sizeof av[j]);
        memcpy(&bv[j], b + 8 * j, sizeof bv[j]);
    }
    for (int64_t i = 0; i < plane; i++)
        for (int j = 0; j < B / 8; j++) {
            bn_v8 x;
            memcpy(&x, xp + i * B + 8 * j, sizeof x);
            bn_v8 v = x * av[j] + bv[j];
            if (relu) v = (bn_v8)((bn_i8)v & (v > (bn_v8){0}));
            memcpy(yp + i * B + 8 * j, &v, sizeof v);
        }
}
#define BN_PLANE_VARIANTS(attr, suffix)                                                                      \
    attr static void bn_plane_##suffix(const float *xp, float *yp, int64_t plane, const float *a, const float *b, \
                                       int B, bool relu) {                                                   \
        if (B == 16 && relu) bn_plane(xp, yp, plane, a, b, 16, true);                                        \
        else if (B == 16) bn_plane(xp, yp, plane, a, b, 16, false);                                          \
        else if (relu) bn_plane(xp, yp, plane, a, b, 8, true);                                               \
        else bn_plane(xp, yp, plane, a, b, 8, false);                                                        \
    }
BN_PLANE_VARIANTS(, generic)
BN_PLANE_VARIANTS(TTA_TARGET_AVX2, avx2)
BN_PLANE_VARIANTS(TTA_TARGET_AVX512, avx512)

tta_status tta_nn_batchnorm_compute(tta_op_ctx *ctx) {
    norm_state *st = ctx->state;
    const tta_tensor *x = ctx->in[0], *scale = ctx->in[1], *bias = ctx->in[2], *mean = ctx->in[3],
                     *var = ctx->in[4];
    tta_tensor *y = ctx->out[0];
    int64_t n = x->dims[0], c = x->dims[1], plane = tta_tensor_numel(x) / (n * c > 0 ? n * c : 1);
    int64_t np = st->spatial ? c : c * plane; /* number of parameter values */
    double *ab;
    TTA_TRY(tta_nn_scratch_get(ctx, &st->buf, (size_t)(4 * np) * sizeof(double), "the normalisation's parameters",
                               (void **)&ab));
    double *a = ab, *b = ab + np, *bm = ab + 2 * np, *bv = ab + 3 * np;
    if (st->training) {
        /* Batch statistics per channel (biased variance). */
        for (int64_t ci = 0; ci < c; ci++) {
            double s = 0, s2 = 0;
            for (int64_t ni = 0; ni < n; ni++)
                for (int64_t i = 0; i < plane; i++)
                    s += ld(x, (ni * c + ci) * plane + i);
            double cnt = (double)(n * plane), mu = cnt > 0 ? s / cnt : 0;
            for (int64_t ni = 0; ni < n; ni++)
                for (int64_t i = 0; i < plane; i++) {
                    double d = ld(x, (ni * c + ci) * plane + i) - mu;
                    s2 += d * d;
                }
            bm[ci] = mu;
            bv[ci] = cnt > 0 ? s2 / cnt : 0;
        }
    }
    for (int64_t i = 0; i < np; i++) {
        double m = st->training ? bm[i] : tta_get_f64(mean, i),
               v = st->training ? bv[i] : tta_get_f64(var, i);
        a[i] = tta_get_f64(scale, i) / sqrt(v + st->epsilon);
        b[i] = tta_get_f64(bias, i) - m * a[i];
    }
    int nt = nthreads(ctx);
    if (tta_in_layout(ctx, 0) == TTA_LAYOUT_BLOCKED) { /* [N][Cp/B][plane][B]; padding lanes get 0 */
        const int64_t B = tta_layout_block(), cb = (c + B - 1) / B;
        const float *xd = x->data;
        float *yd = y->data;
        void (*bn_blocked_plane)(const float *, float *, int64_t, const float *, const float *, int, bool) =
            TTA_ISA_PICK(bn_plane_generic, bn_plane_avx2, bn_plane_avx512);
#pragma omp parallel for num_threads(nt) if (n * c * plane > 65536) schedule(static)
        for (int64_t pl = 0; pl < n * cb; pl++) {
            const int64_t c0 = pl % cb * B;
            float av[16], bv2[16];
            for (int64_t k = 0; k < B; k++) {
                av[k] = c0 + k < c ? (float)a[c0 + k] : 0.0f;
                bv2[k] = c0 + k < c ? (float)b[c0 + k] : 0.0f;
            }
            const float *xp = xd + pl * plane * B;
            float *yp = yd + pl * plane * B;
            bn_blocked_plane(xp, yp, plane, av, bv2, (int)B, st->relu);
        }
    } else if (x->dtype == TTA_DTYPE_FLOAT32) {
        const float *xd = x->data;
        float *yd = y->data;
#pragma omp parallel for num_threads(nt) if (n * c * plane > 65536) schedule(static)
        for (int64_t pl = 0; pl < n * c; pl++) {
            int64_t ci = pl % c;
            const float *xp = xd + pl * plane;
            float *yp = yd + pl * plane;
            if (st->spatial) {
                float av = (float)a[ci], bv2 = (float)b[ci];
                for (int64_t i = 0; i < plane; i++)
                    yp[i] = xp[i] * av + bv2;
            } else {
                for (int64_t i = 0; i < plane; i++)
                    yp[i] = (float)(xp[i] * a[ci * plane + i] + b[ci * plane + i]);
            }
            if (st->relu)
                for (int64_t i = 0; i < plane; i++) yp[i] = yp[i] > 0.0f ? yp[i] : 0.0f;
        }
    } else {
        const double *xd = x->data;
        double *yd = y->data;
        for (int64_t pl = 0; pl < n * c; pl++) {
            int64_t ci = pl % c;
            for (int64_t i = 0; i < plane; i++) {
                int64_t k = st->spatial ? ci : ci * plane + i;
                double v = xd[pl * plane + i] * a[k] + b[k];
                yd[pl * plane + i] = st->relu && !(v > 0) ? 0.0 : v;
            }
        }
    }
    if (st->training) {
        for (int o = 1; o < 3 && o < ctx->n_out; o++) {
            tta_tensor *out = ctx->out[o];
            if (!out) continue;
            const tta_tensor *run = o == 1 ? mean : var;
            const double *batch = o == 1 ? bm : bv;
            for (int64_t i = 0; i < c; i++)
                tta_set_f64(out, i, tta_get_f64(run, i) * st->momentum + batch[i] * (1.0 - st->momentum));
        }
    }
    return TTA_OK;
}

/* Plan time: inference BatchNormalization of a float32 [N, C, H, W] with per-channel parameters is
 * a per-channel scale and shift, which reads and writes the blocked layout (padded too) as well
 * (a pre-activation network's BN -> ReLU -> Conv then stays blocked: DenseNet-121 had a
 * conversion to plain before each of its 58 BatchNormalizations). */
unsigned tta_nn_batchnorm_layouts(const tta_op_ctx *ctx) {
    const norm_state *st = ctx->state;
    const tta_tensor *x = ctx->in[0];
    if (st->training || !st->spatial || !x || x->dtype != TTA_DTYPE_FLOAT32 || x->ndim != 4 || ctx->n_out != 1)
        return 0;
    return TTA_LAYOUT_IN(0) | TTA_LAYOUT_OUT_FOLLOW | TTA_LAYOUT_PADDED;
}

/* ---- InstanceNormalization */

tta_status tta_nn_instancenorm_prepare(tta_op_ctx *ctx) {
    norm_state *st = NULL;
    TTA_TRY(new_state(ctx, &st));
    st->epsilon = tta_attr_float(ctx->node, "epsilon", 1e-5f);
    return TTA_OK;
}

tta_status tta_nn_instancenorm_infer(tta_op_ctx *ctx) {
    for (int i = 0; i < 3; i++)
        TTA_NEED_INPUT(ctx, i);
    const tta_tensor *x = ctx->in[0];
    char sx[128], sp[128];
    TTA_TRY(need_float(ctx, x, "X"));
    if (x->ndim < 3)
        return tta_op_error(ctx, TTA_ERR_SHAPE, "X %s must be [N, C, spatial...]",
                            tta_shape_str(x, sx, sizeof sx));
    for (int i = 1; i < 3; i++) {
        TTA_TRY(need_float(ctx, ctx->in[i], i == 1 ? "scale" : "B"));
        if (tta_tensor_numel(ctx->in[i]) != x->dims[1])
            return tta_op_error(ctx, TTA_ERR_SHAPE, "%s %s must have %lld values", i == 1 ? "scale" : "B",
                                tta_shape_str(ctx->in[i], sp, sizeof sp), (long long)x->dims[1]);
    }
    return tta_set_shape(ctx->out[0], x->dtype, x->ndim, x->dims);
}

tta_status tta_nn_instancenorm_compute(tta_op_ctx *ctx) {
    norm_state *st = ctx->state;
    const tta_tensor *x = ctx->in[0], *scale = ctx->in[1], *bias = ctx->in[2];
    tta_tensor *y = ctx->out[0];
    int64_t n = x->dims[0], c = x->dims[1], plane = tta_tensor_numel(x) / (n * c > 0 ? n * c : 1);
#pragma omp parallel for num_threads(nthreads(ctx)) if (n * c * plane > 65536) schedule(static)
    for (int64_t pl = 0; pl < n * c; pl++) {
        int64_t ci = pl % c, o = pl * plane;
        double s = 0, s2 = 0;
        for (int64_t i = 0; i < plane; i++)
            s += ld(x, o + i);
        double mu = plane > 0 ? s / (double)plane : 0;
        for (int64_t i = 0; i < plane; i++) {
            double d = ld(x, o + i) - mu;
            s2 += d * d;
        }
        double a = ld(scale, ci) / sqrt((plane > 0 ? s2 / (double)plane : 0) + st->epsilon), b = ld(bias, ci);
        for (int64_t i = 0; i < plane; i++)
            st_(y, o + i, (ld(x, o + i) - mu) * a + b);
    }
    return TTA_OK;
}

/* ---- LayerNormalization */

tta_status tta_nn_layernorm_prepare(tta_op_ctx *ctx) {
    norm_state *st = NULL;
    TTA_TRY(new_state(ctx, &st));
    st->epsilon = tta_attr_float(ctx->node, "epsilon", 1e-5f);
    st->axis = tta_attr_int(ctx->node, "axis", -1);
    return TTA_OK;
}

/* A Scale/B tensor fits when it broadcasts to X's normalised trailing shape: same trailing
 * dims up to leading 1s, or a single value. Sets *per_elem (false: one value for all). */
static tta_status ln_param_fits(tta_op_ctx *ctx, const tta_tensor *p, const tta_tensor *x, int axis,
                                const char *what, bool *per_elem) {
    char sx[128], sp[128];
    TTA_TRY(need_float(ctx, p, what));
    int64_t inner = 1;
    for (int i = axis; i < x->ndim; i++)
        inner *= x->dims[i];
    if (tta_tensor_numel(p) == 1) {
        *per_elem = false;
        return TTA_OK;
    }
    bool ok = tta_tensor_numel(p) == inner;
    for (int i = 0; ok && i < p->ndim; i++) {
        int xi = x->ndim - p->ndim + i;
        if (xi < axis)
            ok = p->dims[i] == 1;
        else
            ok = p->dims[i] == x->dims[xi];
    }
    if (!ok)
        return tta_op_error(ctx, TTA_ERR_SHAPE, "%s %s does not match the normalised dims of X %s (axis %d)",
                            what, tta_shape_str(p, sp, sizeof sp), tta_shape_str(x, sx, sizeof sx), axis);
    *per_elem = true;
    return TTA_OK;
}

tta_status tta_nn_layernorm_infer(tta_op_ctx *ctx) {
    norm_state *st = ctx->state;
    TTA_NEED_INPUT(ctx, 0);
    TTA_NEED_INPUT(ctx, 1);
    const tta_tensor *x = ctx->in[0];
    TTA_TRY(need_float(ctx, x, "X"));
    int axis;
    TTA_TRY(tta_norm_axis(ctx, st->axis, x->ndim, &axis));
    bool pe;
    TTA_TRY(ln_param_fits(ctx, ctx->in[1], x, axis, "Scale", &pe));
    if (ctx->n_in > 2 && ctx->in[2]) TTA_TRY(ln_param_fits(ctx, ctx->in[2], x, axis, "B", &pe));
    TTA_TRY(tta_set_shape(ctx->out[0], x->dtype, x->ndim, x->dims));
    int64_t dims[TTA_MAX_DIMS];
    for (int i = 0; i < x->ndim; i++)
        dims[i] = i < axis ? x->dims[i] : 1;
    for (int o = 1; o < 3 && o < ctx->n_out; o++)
        if (ctx->out[o]) TTA_TRY(tta_set_shape(ctx->out[o], x->dtype, x->ndim, dims));
    return TTA_OK;
}

/* float32 LayerNormalization of `n` rows of `inner` values with per-element scale and bias: sums
 * in 16 float lanes (as 16-wide vector types, so every ISA build adds in the same order and gives
 * the same bits), combined in double; mean first, then the variance of the differences. */
typedef float ln_v16 __attribute__((vector_size(64)));
static inline __attribute__((always_inline)) double lane_sum(ln_v16 v) {
    double s = 0;
    for (int l = 0; l < 16; l++) s += v[l];
    return s;
}
static inline __attribute__((always_inline)) void ln_rows(const float *x, float *y, int64_t n, int64_t inner,
                                                          const float *g, const float *b, double eps) {
    const int64_t nv = inner / 16 * 16;
    for (int64_t r = 0; r < n; r++, x += inner, y += inner) {
        ln_v16 acc = {0};
        for (int64_t i = 0; i < nv; i += 16) {
            ln_v16 v;
            memcpy(&v, x + i, sizeof v);
            acc += v;
        }
        double s = lane_sum(acc);
        for (int64_t i = nv; i < inner; i++) s += x[i];
        const float mu = (float)(s / (double)inner);
        ln_v16 acc2 = {0};
        for (int64_t i = 0; i < nv; i += 16) {
            ln_v16 v;
            memcpy(&v, x + i, sizeof v);
            v -= mu;
            acc2 += v * v;
        }
        double s2 = lane_sum(acc2);
        for (int64_t i = nv; i < inner; i++) s2 += (double)(x[i] - mu) * (x[i] - mu);
        const float inv = (float)(1.0 / sqrt(s2 / (double)inner + eps));
        for (int64_t i = 0; i < inner; i++) y[i] = (x[i] - mu) * inv * g[i] + (b ? b[i] : 0.0f);
    }
}
#define LN_VARIANT(attr, suffix)                                                                             \
    attr static void ln_rows_##suffix(const float *x, float *y, int64_t n, int64_t inner, const float *g,    \
                                      const float *b, double eps) {                                          \
        ln_rows(x, y, n, inner, g, b, eps);                                                                  \
    }
LN_VARIANT(, generic)
LN_VARIANT(TTA_TARGET_AVX2, avx2)
LN_VARIANT(TTA_TARGET_AVX512, avx512)

tta_status tta_nn_layernorm_compute(tta_op_ctx *ctx) {
    norm_state *st = ctx->state;
    const tta_tensor *x = ctx->in[0], *scale = ctx->in[1], *bias = ctx->n_in > 2 ? ctx->in[2] : NULL;
    tta_tensor *y = ctx->out[0], *mo = ctx->n_out > 1 ? ctx->out[1] : NULL,
               *io = ctx->n_out > 2 ? ctx->out[2] : NULL;
    int axis;
    TTA_TRY(tta_norm_axis(ctx, st->axis, x->ndim, &axis));
    int64_t inner = 1, outer = 1;
    for (int i = 0; i < x->ndim; i++)
        *(i < axis ? &outer : &inner) *= x->dims[i];
    bool s_pe = tta_tensor_numel(scale) > 1, b_pe = bias && tta_tensor_numel(bias) > 1;
    if (x->dtype == TTA_DTYPE_FLOAT32 && scale->dtype == TTA_DTYPE_FLOAT32 && (!bias || bias->dtype == TTA_DTYPE_FLOAT32) &&
        s_pe && (!bias || b_pe) && !mo && !io) {
        void (*rows)(const float *, float *, int64_t, int64_t, const float *, const float *, double) =
            TTA_ISA_PICK(ln_rows_generic, ln_rows_avx2, ln_rows_avx512);
        int nt = outer * inner > 65536 ? nthreads(ctx) : 1;
        if (nt > outer) nt = (int)outer;
#pragma omp parallel for num_threads(nt) if (nt > 1) schedule(static)
        for (int t = 0; t < nt; t++) {
            int64_t r0 = outer * t / nt, r1 = outer * (t + 1) / nt;
            rows((const float *)x->data + r0 * inner, (float *)y->data + r0 * inner, r1 - r0, inner, scale->data,
                 bias ? bias->data : NULL, st->epsilon);
        }
        return TTA_OK;
    }
#pragma omp parallel for num_threads(nthreads(ctx)) if (outer * inner > 65536) schedule(static)
    for (int64_t r = 0; r < outer; r++) {
        int64_t o = r * inner;
        double s = 0, s2 = 0;
        for (int64_t i = 0; i < inner; i++)
            s += ld(x, o + i);
        double mu = inner > 0 ? s / (double)inner : 0;
        for (int64_t i = 0; i < inner; i++) {
            double d = ld(x, o + i) - mu;
            s2 += d * d;
        }
        double inv = 1.0 / sqrt((inner > 0 ? s2 / (double)inner : 0) + st->epsilon);
        for (int64_t i = 0; i < inner; i++) {
            double v = (ld(x, o + i) - mu) * inv * ld(scale, s_pe ? i : 0);
            if (bias) v += ld(bias, b_pe ? i : 0);
            st_(y, o + i, v);
        }
        if (mo) st_(mo, r, mu);
        if (io) st_(io, r, inv);
    }
    return TTA_OK;
}

/* ---- LRN */

tta_status tta_nn_lrn_prepare(tta_op_ctx *ctx) {
    norm_state *st = NULL;
    TTA_TRY(new_state(ctx, &st));
    const tta_node *n = ctx->node;
    st->alpha = tta_attr_float(n, "alpha", 1e-4f);
    st->beta = tta_attr_float(n, "beta", 0.75f);
    st->bias = tta_attr_float(n, "bias", 1.0f);
    st->size = tta_attr_int(n, "size", 0);
    if (st->size < 1) return tta_op_error(ctx, TTA_ERR_ATTR, "attribute 'size' must be given and >= 1");
    return TTA_OK;
}

tta_status tta_nn_lrn_infer(tta_op_ctx *ctx) {
    TTA_NEED_INPUT(ctx, 0);
    const tta_tensor *x = ctx->in[0];
    char sx[128];
    TTA_TRY(need_float(ctx, x, "X"));
    if (x->ndim < 2)
        return tta_op_error(ctx, TTA_ERR_SHAPE, "X %s must be [N, C, ...]", tta_shape_str(x, sx, sizeof sx));
    return tta_set_shape(ctx->out[0], x->dtype, x->ndim, x->dims);
}

tta_status tta_nn_lrn_compute(tta_op_ctx *ctx) {
    norm_state *st = ctx->state;
    const tta_tensor *x = ctx->in[0];
    tta_tensor *y = ctx->out[0];
    int64_t n = x->dims[0], c = x->dims[1], plane = tta_tensor_numel(x) / (n * c > 0 ? n * c : 1);
    int64_t before = (st->size - 1) / 2, after = st->size - 1 - before;
    double k = st->alpha / (double)st->size;
#pragma omp parallel for num_threads(nthreads(ctx)) if (n * c * plane * st->size > 65536) schedule(static)
    for (int64_t pl = 0; pl < n * c; pl++) {
        int64_t bi = pl / c, ci = pl % c;
        int64_t c0 = ci - before < 0 ? 0 : ci - before, c1 = ci + after >= c ? c - 1 : ci + after;
        for (int64_t i = 0; i < plane; i++) {
            double sq = 0;
            for (int64_t cj = c0; cj <= c1; cj++) {
                double v = ld(x, (bi * c + cj) * plane + i);
                sq += v * v;
            }
            st_(y, pl * plane + i, ld(x, pl * plane + i) / pow(st->bias + k * sq, st->beta));
        }
    }
    return TTA_OK;
}

/* ---- MeanVarianceNormalization: (X - mean) / (std + 1e-9) over `axes` (default N, H, W). */

tta_status tta_nn_mvn_prepare(tta_op_ctx *ctx) {
    norm_state *st = NULL;
    TTA_TRY(new_state(ctx, &st));
    const int64_t *v;
    int n = tta_attr_ints(ctx->node, "axes", &v);
    if (n > TTA_MAX_DIMS) return tta_op_error(ctx, TTA_ERR_ATTR, "too many axes");
    if (!v) {
        static const int64_t def[] = {0, 2, 3};
        v = def;
        n = 3;
    }
    for (int i = 0; i < n; i++)
        st->axes[i] = v[i];
    st->n_axes = n;
    return TTA_OK;
}

static tta_status mvn_mask(tta_op_ctx *ctx, const tta_tensor *x, bool *reduced) {
    norm_state *st = ctx->state;
    for (int i = 0; i < x->ndim; i++)
        reduced[i] = false;
    for (int i = 0; i < st->n_axes; i++) {
        int a;
        TTA_TRY(tta_norm_axis(ctx, st->axes[i], x->ndim, &a));
        reduced[a] = true;
    }
    return TTA_OK;
}

tta_status tta_nn_mvn_infer(tta_op_ctx *ctx) {
    TTA_NEED_INPUT(ctx, 0);
    const tta_tensor *x = ctx->in[0];
    TTA_TRY(need_float(ctx, x, "X"));
    bool reduced[TTA_MAX_DIMS];
    TTA_TRY(mvn_mask(ctx, x, reduced));
    return tta_set_shape(ctx->out[0], x->dtype, x->ndim, x->dims);
}

tta_status tta_nn_mvn_compute(tta_op_ctx *ctx) {
    norm_state *st = ctx->state;
    const tta_tensor *x = ctx->in[0];
    tta_tensor *y = ctx->out[0];
    bool reduced[TTA_MAX_DIMS];
    TTA_TRY(mvn_mask(ctx, x, reduced));
    int64_t groups = 1, total = tta_tensor_numel(x);
    for (int i = 0; i < x->ndim; i++)
        if (!reduced[i]) groups *= x->dims[i];
    double *acc;
    TTA_TRY(tta_nn_scratch_get(ctx, &st->buf, (size_t)(2 * groups + 1) * sizeof(double), "the normalisation's sums",
                               (void **)&acc));
    double *sum = acc, *sum2 = acc + groups;
    memset(acc, 0, (size_t)(2 * groups) * sizeof(double));
    int64_t per_group = groups > 0 ? total / groups : 0;
    for (int pass = 0; pass < 2; pass++) {
        int64_t idx[TTA_MAX_DIMS] = {0};
        for (int64_t e = 0; e < total; e++) {
            int64_t gid = 0;
            for (int i = 0; i < x->ndim; i++)
                if (!reduced[i]) gid = gid * x->dims[i] + idx[i];
            double v = ld(x, e);
            if (pass == 0) {
                sum[gid] += v;
                sum2[gid] += v * v;
            } else {
                double mu = sum[gid] / (double)per_group, var = sum2[gid] / (double)per_group - mu * mu;
                st_(y, e, (v - mu) / (sqrt(var > 0 ? var : 0) + 1e-9));
            }
            for (int i = x->ndim - 1; i >= 0; i--) {
                if (++idx[i] < x->dims[i]) break;
                idx[i] = 0;
            }
        }
    }
    return TTA_OK;
}
