/* nn_pool.c - pooling: MaxPool (ceil_mode, dilations, storage_order, optional Indices),
 * AveragePool (count_include_pad, ceil_mode, auto_pad), LpPool, the Global* pools and MaxUnpool.
 *
 * One N-D window walker serves MaxPool, AveragePool and LpPool: for each output position it
 * computes, per spatial axis, the kernel taps that land inside the input (and, for
 * count_include_pad, inside the padded extent), then reduces the box of valid taps. int8/uint8
 * MaxPool goes through float (exact for those types).
 */
#include <math.h>
#include <string.h>

#include "core/alloc.h"
#include "core/cpu.h"
#include "runtime/ops/nn.h"

typedef enum pool_kind { POOL_MAX, POOL_AVG, POOL_LP } pool_kind;

typedef struct pool_state {
    tta_nn_window win;
    pool_kind kind;
    int ceil_mode, count_include_pad, storage_order;
    double p;
    tta_nn_scratch conv; /* int8/uint8 MaxPool: float copies of input and output */
} pool_state;

static int64_t floor_div(int64_t a, int64_t b) { return a >= 0 ? a / b : -((-a + b - 1) / b); }
static int64_t ceil_div(int64_t a, int64_t b) { return -floor_div(-a, b); }

static int64_t prod(const int64_t *v, int n) {
    int64_t p = 1;
    for (int i = 0; i < n; i++)
        p *= v[i];
    return p;
}

void tta_nn_pool_release(tta_op_ctx *ctx) {
    pool_state *st = ctx->state;
    if (!st) return;
    tta_nn_scratch_free(&st->conv);
    tta_free(st);
    ctx->state = NULL;
}

tta_status tta_nn_pool_prepare(tta_op_ctx *ctx) {
    const tta_node *n = ctx->node;
    pool_state *st = tta_calloc(1, sizeof *st);
    if (!st) return tta_op_error(ctx, TTA_ERR_NOMEM, "out of memory");
    ctx->state = st;
    TTA_TRY(tta_nn_window_parse(ctx, &st->win));
    if (!strcmp(n->op_type, "MaxPool"))
        st->kind = POOL_MAX;
    else if (!strcmp(n->op_type, "AveragePool"))
        st->kind = POOL_AVG;
    else
        st->kind = POOL_LP;
    if (!st->win.n_kernel) return tta_op_error(ctx, TTA_ERR_ATTR, "missing attribute 'kernel_shape'");
    st->ceil_mode = tta_attr_int(n, "ceil_mode", 0) != 0;
    st->count_include_pad = tta_attr_int(n, "count_include_pad", 0) != 0;
    st->storage_order = (int)tta_attr_int(n, "storage_order", 0);
    if (st->storage_order != 0 && st->storage_order != 1)
        return tta_op_error(ctx, TTA_ERR_ATTR, "storage_order must be 0 or 1");
    st->p = tta_attr_float(n, "p", 2.0f);
    if (st->kind == POOL_LP && !(st->p > 0)) return tta_op_error(ctx, TTA_ERR_ATTR, "p must be > 0");
    return TTA_OK;
}

static tta_status pool_geometry(tta_op_ctx *ctx, tta_nn_geom *g) {
    pool_state *st = ctx->state;
    TTA_NEED_INPUT(ctx, 0);
    const tta_tensor *x = ctx->in[0];
    char sx[128];
    if (x->ndim < 3)
        return tta_op_error(ctx, TTA_ERR_SHAPE, "X %s must be [N, C, spatial...]",
                            tta_shape_str(x, sx, sizeof sx));
    int ns = x->ndim - 2;
    if (st->win.n_kernel != ns)
        return tta_op_error(ctx, TTA_ERR_ATTR,
                            "kernel_shape has %d values but X %s has %d spatial dimensions", st->win.n_kernel,
                            tta_shape_str(x, sx, sizeof sx), ns);
    return tta_nn_window_resolve(ctx, &st->win, ns, x->dims + 2, st->win.kernel, st->ceil_mode, g);
}

tta_status tta_nn_pool_infer(tta_op_ctx *ctx) {
    pool_state *st = ctx->state;
    tta_nn_geom g;
    TTA_TRY(pool_geometry(ctx, &g));
    tta_dtype d = ctx->in[0]->dtype;
    bool ok = d == TTA_DTYPE_FLOAT32 || d == TTA_DTYPE_FLOAT64 ||
              (st->kind == POOL_MAX && (d == TTA_DTYPE_INT8 || d == TTA_DTYPE_UINT8));
    if (!ok) return tta_op_error(ctx, TTA_ERR_UNSUPPORTED, "dtype %s is not supported", tta_dtype_name(d));
    int64_t dims[TTA_MAX_DIMS];
    dims[0] = ctx->in[0]->dims[0];
    dims[1] = ctx->in[0]->dims[1];
    for (int i = 0; i < g.ns; i++)
        dims[2 + i] = g.out[i];
    TTA_TRY(tta_set_shape(ctx->out[0], d, g.ns + 2, dims));
    if (ctx->n_out > 1 && ctx->out[1]) {
        if (st->kind != POOL_MAX) return tta_op_error(ctx, TTA_ERR_SHAPE, "only MaxPool has a second output");
        TTA_TRY(tta_set_shape(ctx->out[1], TTA_DTYPE_INT64, g.ns + 2, dims));
    }
    return TTA_OK;
}

/* Per-plane pooling, instantiated for float and double. `ind` (MaxPool Indices) may be NULL;
 * `base` is the plane's offset in the whole input, for the indices. */
typedef struct pool_args {
    const tta_nn_geom *g;
    pool_kind kind;
    bool include_pad, col_major;
    double p;
} pool_args;

#define POOL_PLANE(T, NAME)                                                                                  \
    static void NAME(const pool_args *a, const T *x, T *y, int64_t *ind, int64_t base) {                     \
        const tta_nn_geom *g = a->g;                                                                         \
        int ns = g->ns;                                                                                      \
        int64_t out_sp = prod(g->out, ns), o[TTA_NN_MAX_SPATIAL] = {0};                                      \
        int64_t lo[TTA_NN_MAX_SPATIAL], hi[TTA_NN_MAX_SPATIAL], st0[TTA_NN_MAX_SPATIAL];                     \
        int64_t instr[TTA_NN_MAX_SPATIAL], cmstr[TTA_NN_MAX_SPATIAL];                                        \
        instr[ns - 1] = 1;                                                                                   \
        for (int i = ns - 2; i >= 0; i--)                                                                    \
            instr[i] = instr[i + 1] * g->in[i + 1];                                                          \
        cmstr[0] = 1;                                                                                        \
        for (int i = 1; i < ns; i++)                                                                         \
            cmstr[i] = cmstr[i - 1] * g->in[i - 1];                                                          \
        for (int64_t p = 0; p < out_sp; p++) {                                                               \
            int64_t cnt = 1, padcnt = 1;                                                                     \
            for (int i = 0; i < ns; i++) {                                                                   \
                int64_t s = o[i] * g->s[i] - g->pb[i];                                                       \
                st0[i] = s;                                                                                  \
                lo[i] = ceil_div(-s, g->d[i]);                                                               \
                if (lo[i] < 0) lo[i] = 0;                                                                    \
                hi[i] = floor_div(g->in[i] - 1 - s, g->d[i]) + 1;                                            \
                if (hi[i] > g->k[i]) hi[i] = g->k[i];                                                        \
                if (hi[i] < lo[i]) hi[i] = lo[i];                                                            \
                cnt *= hi[i] - lo[i];                                                                        \
                if (a->include_pad) {                                                                        \
                    int64_t plo = ceil_div(-g->pb[i] - s, g->d[i]);                                          \
                    int64_t phi = floor_div(g->in[i] + g->pe[i] - 1 - s, g->d[i]) + 1;                       \
                    if (plo < 0) plo = 0;                                                                    \
                    if (phi > g->k[i]) phi = g->k[i];                                                        \
                    padcnt *= phi > plo ? phi - plo : 0;                                                     \
                }                                                                                            \
            }                                                                                                \
            double acc = a->kind == POOL_MAX ? -INFINITY : 0.0;                                              \
            int64_t best = -1;                                                                               \
            if (cnt > 0) {                                                                                   \
                int64_t kk[TTA_NN_MAX_SPATIAL];                                                              \
                for (int i = 0; i < ns; i++)                                                                 \
                    kk[i] = lo[i];                                                                           \
                for (;;) {                                                                                   \
                    int64_t off = 0;                                                                         \
                    for (int i = 0; i < ns; i++)                                                             \
                        off += (st0[i] + kk[i] * g->d[i]) * instr[i];                                        \
                    double v = (double)x[off];                                                               \
                    if (a->kind == POOL_MAX) {                                                               \
                        if (v > acc || best < 0) {                                                           \
                            acc = v;                                                                         \
                            best = off;                                                                      \
                        }                                                                                    \
                    } else if (a->kind == POOL_AVG) {                                                        \
                        acc += v;                                                                            \
                    } else {                                                                                 \
                        acc += a->p == 2.0 ? v * v : pow(fabs(v), a->p);                                     \
                    }                                                                                        \
                    int i = ns - 1;                                                                          \
                    for (; i >= 0; i--) {                                                                    \
                        if (++kk[i] < hi[i]) break;                                                          \
                        kk[i] = lo[i];                                                                       \
                    }                                                                                        \
                    if (i < 0) break;                                                                        \
                }                                                                                            \
            }                                                                                                \
            if (a->kind == POOL_AVG) {                                                                       \
                int64_t div = a->include_pad ? padcnt : cnt;                                                 \
                acc = div > 0 ? acc / (double)div : NAN;                                                     \
            } else if (a->kind == POOL_LP) {                                                                 \
                acc = a->p == 2.0 ? sqrt(acc) : pow(acc, 1.0 / a->p);                                        \
            }                                                                                                \
            y[p] = (T)acc;                                                                                   \
            if (ind) {                                                                                       \
                int64_t idx = best < 0 ? 0 : best;                                                           \
                if (a->col_major && best >= 0) {                                                             \
                    int64_t rem = best;                                                                      \
                    idx = 0;                                                                                 \
                    for (int i = 0; i < ns; i++) {                                                           \
                        idx += (rem / instr[i]) * cmstr[i];                                                  \
                        rem %= instr[i];                                                                     \
                    }                                                                                        \
                }                                                                                            \
                ind[p] = base + idx;                                                                         \
            }                                                                                                \
            for (int i = ns - 1; i >= 0; i--) {                                                              \
                if (++o[i] < g->out[i]) break;                                                               \
                o[i] = 0;                                                                                    \
            }                                                                                                \
        }                                                                                                    \
    }

POOL_PLANE(float, pool_plane_f32)

/* Kernel taps [lo, hi) of a window starting at s that land in [0, n); division only when dilated. */
static inline void tap_range(int64_t s, int64_t n, int64_t k, int64_t d, int64_t *lo, int64_t *hi) {
    if (d == 1) {
        *lo = s < 0 ? -s : 0;
        *hi = n - s < k ? n - s : k;
    } else {
        *lo = s < 0 ? ceil_div(-s, d) : 0;
        *hi = floor_div(n - 1 - s, d) + 1;
        if (*hi > k) *hi = k;
    }
    if (*hi < *lo) *hi = *lo;
}

/* The common case, float32 with one or two spatial axes (1-D as H = 1). */
static void pool_plane_2d_f32(const pool_args *a, const float *x, float *y, int64_t *ind, int64_t base) {
    const tta_nn_geom *g = a->g;
    bool one = g->ns == 1;
    int64_t H = one ? 1 : g->in[0], W = g->in[one ? 0 : 1], kh = one ? 1 : g->k[0], kw = g->k[one ? 0 : 1];
    int64_t sh = one ? 1 : g->s[0], sw = g->s[one ? 0 : 1], dh = one ? 1 : g->d[0], dw = g->d[one ? 0 : 1];
    int64_t ph = one ? 0 : g->pb[0], pw = g->pb[one ? 0 : 1], peh = one ? 0 : g->pe[0],
            pew = g->pe[one ? 0 : 1];
    int64_t OH = one ? 1 : g->out[0], OW = g->out[one ? 0 : 1];
    for (int64_t oh = 0; oh < OH; oh++) {
        int64_t hs = oh * sh - ph, k0, k1, pk0, pk1;
        tap_range(hs, H, kh, dh, &k0, &k1);
        tap_range(hs + ph, H + ph + peh, kh, dh, &pk0, &pk1);
        for (int64_t ow = 0; ow < OW; ow++) {
            int64_t ws = ow * sw - pw, j0, j1;
            tap_range(ws, W, kw, dw, &j0, &j1);
            float *yo = y + oh * OW + ow;
            if (a->kind == POOL_MAX && !ind) { /* no index to track: a branch-free max */
                float m = -INFINITY;
                bool first = true;
                for (int64_t ki = k0; ki < k1; ki++) {
                    const float *row = x + (hs + ki * dh) * W + ws;
                    int64_t kj = j0;
                    if (first && kj < j1) {
                        m = row[kj++ * dw];
                        first = false;
                    }
                    for (; kj < j1; kj++) {
                        float v = row[kj * dw];
                        m = v > m ? v : m;
                    }
                }
                *yo = m;
            } else if (a->kind == POOL_MAX) {
                float m = -INFINITY;
                int64_t best = -1;
                for (int64_t ki = k0; ki < k1; ki++) {
                    const float *row = x + (hs + ki * dh) * W + ws;
                    for (int64_t kj = j0; kj < j1; kj++) {
                        float v = row[kj * dw];
                        if (v > m || best < 0) {
                            m = v;
                            best = (hs + ki * dh) * W + ws + kj * dw;
                        }
                    }
                }
                *yo = m;
                if (ind) {
                    int64_t idx = best < 0 ? 0 : best;
                    if (a->col_major && best >= 0) idx = (best % W) * H + best / W;
                    ind[oh * OW + ow] = base + idx;
                }
            } else {
                double acc = 0;
                for (int64_t ki = k0; ki < k1; ki++) {
                    const float *row = x + (hs + ki * dh) * W + ws;
                    if (a->kind == POOL_AVG)
                        for (int64_t kj = j0; kj < j1; kj++)
                            acc += row[kj * dw];
                    else if (a->p == 2.0)
                        for (int64_t kj = j0; kj < j1; kj++)
                            acc += (double)row[kj * dw] * row[kj * dw];
                    else
                        for (int64_t kj = j0; kj < j1; kj++)
                            acc += pow(fabs(row[kj * dw]), a->p);
                }
                if (a->kind == POOL_AVG) {
                    int64_t div;
                    if (a->include_pad) {
                        int64_t pj0, pj1;
                        tap_range(ws + pw, W + pw + pew, kw, dw, &pj0, &pj1);
                        div = (pk1 - pk0) * (pj1 - pj0);
                    } else {
                        div = (k1 - k0) * (j1 - j0);
                    }
                    *yo = div > 0 ? (float)(acc / (double)div) : NAN;
                } else {
                    *yo = (float)(a->p == 2.0 ? sqrt(acc) : pow(acc, 1.0 / a->p));
                }
            }
        }
    }
}

POOL_PLANE(double, pool_plane_f64)

/* A plane of a channel-blocked tensor: H x W pixels of B floats (one block of channels), 2-D
 * MaxPool or AveragePool. The same taps as pool_plane_2d_f32, the B channels side by side so
 * that the inner loops vectorise; B is a constant at each call site below. */
static inline __attribute__((always_inline)) void pool_plane_blk(const pool_args *a, const float *x, float *y,
                                                                  int64_t B) {
    const tta_nn_geom *g = a->g;
    int64_t H = g->in[0], W = g->in[1], kh = g->k[0], kw = g->k[1], sh = g->s[0], sw = g->s[1];
    int64_t dh = g->d[0], dw = g->d[1], ph = g->pb[0], pw = g->pb[1], OH = g->out[0], OW = g->out[1];
    float acc[16];
    for (int64_t oh = 0; oh < OH; oh++) {
        int64_t hs = oh * sh - ph, k0, k1, pk0, pk1;
        tap_range(hs, H, kh, dh, &k0, &k1);
        tap_range(hs + ph, H + ph + g->pe[0], kh, dh, &pk0, &pk1);
        for (int64_t ow = 0; ow < OW; ow++) {
            int64_t ws = ow * sw - pw, j0, j1;
            tap_range(ws, W, kw, dw, &j0, &j1);
            float *yo = y + (oh * OW + ow) * B;
            if (a->kind == POOL_MAX) {
                bool first = true;
                for (int64_t l = 0; l < B; l++) acc[l] = -INFINITY;
                for (int64_t ki = k0; ki < k1; ki++)
                    for (int64_t kj = j0; kj < j1; kj++) {
                        const float *v = x + ((hs + ki * dh) * W + ws + kj * dw) * B;
                        if (first) {
                            for (int64_t l = 0; l < B; l++) acc[l] = v[l];
                            first = false;
                            continue;
                        }
                        for (int64_t l = 0; l < B; l++) acc[l] = v[l] > acc[l] ? v[l] : acc[l];
                    }
                for (int64_t l = 0; l < B; l++) yo[l] = acc[l];
            } else {
                for (int64_t l = 0; l < B; l++) acc[l] = 0;
                for (int64_t ki = k0; ki < k1; ki++)
                    for (int64_t kj = j0; kj < j1; kj++) {
                        const float *v = x + ((hs + ki * dh) * W + ws + kj * dw) * B;
                        for (int64_t l = 0; l < B; l++) acc[l] += v[l];
                    }
                int64_t div;
                if (a->include_pad) {
                    int64_t pj0, pj1;
                    tap_range(ws + pw, W + pw + g->pe[1], kw, dw, &pj0, &pj1);
                    div = (pk1 - pk0) * (pj1 - pj0);
                } else {
                    div = (k1 - k0) * (j1 - j0);
                }
                float inv = div > 0 ? 1.0f / (float)div : NAN;
                for (int64_t l = 0; l < B; l++) yo[l] = acc[l] * inv;
            }
        }
    }
}

/* Built for AVX-512, AVX2 and the baseline (which alone runs at SSE width), picked by
 * tta_cpu_isa(); no FMA, so all give the same bits. */
#define POOL_BLK_VARIANTS(attr, suffix)                                                                      \
    attr static void pool_plane_blk_##suffix(const pool_args *a, const float *x, float *y, int64_t B) {      \
        if (B == 8) pool_plane_blk(a, x, y, 8);                                                              \
        else pool_plane_blk(a, x, y, 16);                                                                    \
    }
POOL_BLK_VARIANTS(, generic)
POOL_BLK_VARIANTS(TTA_TARGET_AVX2, avx2)
POOL_BLK_VARIANTS(TTA_TARGET_AVX512, avx512)

/* Blocked tensors: 2-D float32 MaxPool (without Indices) and AveragePool, output as blocked as
 * the input (padding channels pooled like the others). */
unsigned tta_nn_pool_layouts(const tta_op_ctx *ctx) {
    const pool_state *st = ctx->state;
    const tta_tensor *x = ctx->in[0];
    if (!x || x->dtype != TTA_DTYPE_FLOAT32 || x->ndim != 4 || st->kind == POOL_LP ||
        (ctx->n_out > 1 && ctx->out[1]))
        return 0;
    return TTA_LAYOUT_IN(0) | TTA_LAYOUT_OUT_FOLLOW | TTA_LAYOUT_PADDED;
}

static tta_status pool_blocked(tta_op_ctx *ctx, const pool_args *a) {
    const tta_tensor *xt = ctx->in[0];
    tta_tensor *yt = ctx->out[0];
    int64_t B = tta_layout_block(), planes = xt->dims[0] * ((xt->dims[1] + B - 1) / B);
    int64_t in_sp = xt->dims[2] * xt->dims[3] * B, out_sp = yt->dims[2] * yt->dims[3] * B;
    if (xt->dtype != TTA_DTYPE_FLOAT32 || xt->ndim != 4 || (B != 8 && B != 16) || a->kind == POOL_LP)
        return tta_op_error(ctx, TTA_ERR_INTERNAL, "blocked pooling wants a float32 [N,C,H,W] MaxPool/AveragePool");
    const float *x = xt->data;
    float *y = yt->data;
    int nt = ctx->n_threads > 0 ? ctx->n_threads : 1;
    void (*plane)(const pool_args *, const float *, float *, int64_t) =
        TTA_ISA_PICK(pool_plane_blk_generic, pool_plane_blk_avx2, pool_plane_blk_avx512);
#pragma omp parallel for num_threads(nt) if (planes > 1) schedule(static)
    for (int64_t pl = 0; pl < planes; pl++) plane(a, x + pl * in_sp, y + pl * out_sp, B);
    return TTA_OK;
}

tta_status tta_nn_pool_compute(tta_op_ctx *ctx) {
    pool_state *st = ctx->state;
    tta_nn_geom g;
    TTA_TRY(pool_geometry(ctx, &g));
    const tta_tensor *xt = ctx->in[0];
    tta_tensor *yt = ctx->out[0], *it = ctx->n_out > 1 ? ctx->out[1] : NULL;
    int64_t planes = xt->dims[0] * xt->dims[1], in_sp = prod(g.in, g.ns), out_sp = prod(g.out, g.ns);
    pool_args a = {&g, st->kind, st->count_include_pad, st->storage_order == 1, st->p};
    int nt = ctx->n_threads > 0 ? ctx->n_threads : 1;
    int64_t *ind = it ? it->data : NULL;
    if (tta_in_layout(ctx, 0) == TTA_LAYOUT_BLOCKED) return pool_blocked(ctx, &a);
    int64_t ksz = prod(g.k, g.ns);
    int par = planes > 1 && planes * out_sp * ksz > 32768;
    if (xt->dtype == TTA_DTYPE_FLOAT64) {
        const double *x = xt->data;
        double *y = yt->data;
#pragma omp parallel for num_threads(nt) if (par) schedule(static)
        for (int64_t pl = 0; pl < planes; pl++)
            pool_plane_f64(&a, x + pl * in_sp, y + pl * out_sp, ind ? ind + pl * out_sp : NULL, pl * in_sp);
        return TTA_OK;
    }
    const float *x = xt->data;
    float *y = yt->data;
    if (xt->dtype != TTA_DTYPE_FLOAT32) { /* int8 / uint8 MaxPool via exact float copies */
        int64_t nin = planes * in_sp, nout = planes * out_sp;
        float *buf;
        TTA_TRY(tta_nn_scratch_get(ctx, &st->conv, (size_t)(nin + nout) * sizeof(float), "the pooling's float copies",
                                   (void **)&buf));
        for (int64_t i = 0; i < nin; i++)
            buf[i] = (float)tta_get_i64(xt, i);
        x = buf;
        y = buf + nin;
    }
#pragma omp parallel for num_threads(nt) if (par) schedule(static)
    for (int64_t pl = 0; pl < planes; pl++)
        (g.ns <= 2 ? pool_plane_2d_f32 : pool_plane_f32)(&a, x + pl * in_sp, y + pl * out_sp,
                                                         ind ? ind + pl * out_sp : NULL, pl * in_sp);
    if (xt->dtype != TTA_DTYPE_FLOAT32) {
        /* a window over padding alone has no element: -inf, which no integer holds (and casting
           it is undefined): the type's lowest value, as for a window of lowest values */
        const float lo = xt->dtype == TTA_DTYPE_UINT8 ? 0.0f : xt->dtype == TTA_DTYPE_INT8 ? -128.0f : -2147483648.0f;
        for (int64_t i = 0; i < planes * out_sp; i++)
            tta_set_i64(yt, i, y[i] >= lo ? (int64_t)y[i] : (int64_t)lo);
    }
    return TTA_OK;
}

/* ---- GlobalAveragePool, GlobalMaxPool, GlobalLpPool */

tta_status tta_nn_global_pool_infer(tta_op_ctx *ctx) {
    TTA_NEED_INPUT(ctx, 0);
    const tta_tensor *x = ctx->in[0];
    char sx[128];
    if (x->dtype != TTA_DTYPE_FLOAT32 && x->dtype != TTA_DTYPE_FLOAT64)
        return tta_op_error(ctx, TTA_ERR_UNSUPPORTED, "dtype %s is not supported (float32, float64)",
                            tta_dtype_name(x->dtype));
    if (x->ndim < 2)
        return tta_op_error(ctx, TTA_ERR_SHAPE, "X %s must be [N, C, spatial...]",
                            tta_shape_str(x, sx, sizeof sx));
    int64_t dims[TTA_MAX_DIMS];
    for (int i = 0; i < x->ndim; i++)
        dims[i] = i < 2 ? x->dims[i] : 1;
    return tta_set_shape(ctx->out[0], x->dtype, x->ndim, dims);
}

tta_status tta_nn_global_pool_compute(tta_op_ctx *ctx) {
    const tta_tensor *x = ctx->in[0];
    tta_tensor *y = ctx->out[0];
    const char *op = ctx->node->op_type;
    int kind = !strcmp(op, "GlobalMaxPool") ? POOL_MAX : !strcmp(op, "GlobalLpPool") ? POOL_LP : POOL_AVG;
    double p = tta_attr_float(ctx->node, "p", 2.0f);
    int64_t planes = x->dims[0] * x->dims[1], sp = tta_tensor_numel(x) / (planes > 0 ? planes : 1);
    int nt = ctx->n_threads > 0 ? ctx->n_threads : 1;
    bool f32 = x->dtype == TTA_DTYPE_FLOAT32;
#pragma omp parallel for num_threads(nt) if (planes * sp > 65536) schedule(static)
    for (int64_t pl = 0; pl < planes; pl++) {
        double acc = kind == POOL_MAX ? -INFINITY : 0.0;
        if (f32) {
            const float *xp = (const float *)x->data + pl * sp;
            if (kind == POOL_MAX) {
                float m = sp > 0 ? xp[0] : -INFINITY;
                for (int64_t i = 1; i < sp; i++)
                    m = xp[i] > m ? xp[i] : m;
                acc = m;
            } else if (kind == POOL_AVG) {
                for (int64_t i = 0; i < sp; i++)
                    acc += xp[i];
            } else {
                for (int64_t i = 0; i < sp; i++)
                    acc += pow(fabs(xp[i]), p);
            }
        } else {
            const double *xp = (const double *)x->data + pl * sp;
            for (int64_t i = 0; i < sp; i++) {
                if (kind == POOL_MAX)
                    acc = xp[i] > acc || i == 0 ? xp[i] : acc;
                else if (kind == POOL_AVG)
                    acc += xp[i];
                else
                    acc += pow(fabs(xp[i]), p);
            }
        }
        if (kind == POOL_AVG)
            acc = sp > 0 ? acc / (double)sp : NAN;
        else if (kind == POOL_LP)
            acc = pow(acc, 1.0 / p);
        if (f32)
            ((float *)y->data)[pl] = (float)acc;
        else
            ((double *)y->data)[pl] = acc;
    }
    return TTA_OK;
}

/* ---- MaxUnpool */

tta_status tta_nn_maxunpool_prepare(tta_op_ctx *ctx) {
    pool_state *st = tta_calloc(1, sizeof *st);
    if (!st) return tta_op_error(ctx, TTA_ERR_NOMEM, "out of memory");
    ctx->state = st;
    TTA_TRY(tta_nn_window_parse(ctx, &st->win));
    if (!st->win.n_kernel) return tta_op_error(ctx, TTA_ERR_ATTR, "missing attribute 'kernel_shape'");
    return TTA_OK;
}

/* The output shape MaxUnpool infers from its attributes (the shape MaxPool's input had). */
static tta_status unpool_default_shape(tta_op_ctx *ctx, const tta_tensor *x, int64_t *dims) {
    pool_state *st = ctx->state;
    int ns = x->ndim - 2;
    if (st->win.n_kernel != ns) return tta_op_error(ctx, TTA_ERR_ATTR, "kernel_shape has the wrong length");
    if (st->win.n_strides && st->win.n_strides != ns)
        return tta_op_error(ctx, TTA_ERR_ATTR, "strides has the wrong length");
    if (st->win.n_pads && st->win.n_pads != 2 * ns)
        return tta_op_error(ctx, TTA_ERR_ATTR, "pads has the wrong length");
    dims[0] = x->dims[0];
    dims[1] = x->dims[1];
    for (int i = 0; i < ns; i++) {
        int64_t s = st->win.n_strides ? st->win.strides[i] : 1;
        int64_t pads = st->win.n_pads ? st->win.pads[i] + st->win.pads[ns + i] : 0;
        dims[2 + i] = (x->dims[2 + i] - 1) * s + st->win.kernel[i] - pads;
        if (dims[2 + i] < 0) return tta_op_error(ctx, TTA_ERR_SHAPE, "negative output size");
    }
    return TTA_OK;
}

tta_status tta_nn_maxunpool_infer(tta_op_ctx *ctx) {
    TTA_NEED_INPUT(ctx, 0);
    TTA_NEED_INPUT(ctx, 1);
    const tta_tensor *x = ctx->in[0], *ind = ctx->in[1];
    char sx[128], si[128];
    if (x->dtype != TTA_DTYPE_FLOAT32 && x->dtype != TTA_DTYPE_FLOAT64)
        return tta_op_error(ctx, TTA_ERR_UNSUPPORTED, "dtype %s is not supported (float32, float64)",
                            tta_dtype_name(x->dtype));
    if (ind->dtype != TTA_DTYPE_INT64) return tta_op_error(ctx, TTA_ERR_SHAPE, "I must be int64");
    if (tta_tensor_numel(ind) != tta_tensor_numel(x) || x->ndim < 3)
        return tta_op_error(ctx, TTA_ERR_SHAPE, "X %s and I %s must have the same shape [N, C, spatial...]",
                            tta_shape_str(x, sx, sizeof sx), tta_shape_str(ind, si, sizeof si));
    int64_t dims[TTA_MAX_DIMS];
    TTA_TRY(unpool_default_shape(ctx, x, dims));
    if (ctx->n_in > 2 && ctx->in[2]) {
        TTA_NEED_DATA(ctx, 2);
        const tta_tensor *os = ctx->in[2];
        if (os->ndim != 1 || os->dims[0] != x->ndim)
            return tta_op_error(ctx, TTA_ERR_SHAPE, "output_shape must have %d values", x->ndim);
        for (int i = 0; i < x->ndim; i++)
            dims[i] = tta_get_i64(os, i);
    }
    return tta_set_shape(ctx->out[0], x->dtype, x->ndim, dims);
}

/* Indices refer to the default output shape (that of MaxPool's input); when output_shape asks
 * for another size, each index is moved to the same coordinates in the requested shape. */
tta_status tta_nn_maxunpool_compute(tta_op_ctx *ctx) {
    const tta_tensor *x = ctx->in[0], *ind = ctx->in[1];
    tta_tensor *y = ctx->out[0];
    int64_t n = tta_tensor_numel(x), ny = tta_tensor_numel(y), def[TTA_MAX_DIMS];
    TTA_TRY(unpool_default_shape(ctx, x, def));
    bool remap = false;
    int64_t ndef = 1;
    for (int i = 0; i < y->ndim; i++) {
        remap = remap || def[i] != y->dims[i];
        ndef *= def[i];
    }
    const int64_t *id = ind->data;
    size_t es = tta_dtype_size(x->dtype);
    memset(y->data, 0, (size_t)ny * es);
    for (int64_t i = 0; i < n; i++) {
        int64_t at = id[i];
        bool ok = at >= 0 && at < (remap ? ndef : ny);
        if (ok && remap) {
            int64_t rem = at, mul = 1;
            at = 0;
            for (int d = y->ndim - 1; d >= 0; d--) {
                int64_t c = rem % def[d];
                rem /= def[d];
                ok = ok && c < y->dims[d];
                at += c * mul;
                mul *= y->dims[d];
            }
        }
        if (!ok)
            return tta_op_error(ctx, TTA_ERR_SHAPE, "index %lld is outside the output", (long long)id[i]);
        memcpy((char *)y->data + at * es, (const char *)x->data + i * es, es);
    }
    return TTA_OK;
}
