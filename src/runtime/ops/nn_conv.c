/* nn_conv.c - Conv and ConvTranspose (any spatial rank, groups, dilations, strides, pads,
 * auto_pad), plus the sliding-window geometry (kernel/stride/dilation/pads/auto_pad -> output
 * size) that the pooling kernels share.
 *
 * float32 Conv: 1-D and 2-D go through a 2-D im2col + tta_sgemm, processed in column chunks so
 * the scratch stays a few MB; 1x1 stride-1 unpadded convs skip im2col; depthwise 2-D (one input
 * channel per group) uses a direct row-accumulating loop; 3-D and up use an N-D im2col.
 * ConvTranspose is sgemm (W^T x X) + col2im. float64 uses direct loops.
 */
#include <string.h>

#include "core/alloc.h"
#include "core/checked.h"
#include "runtime/ops/nn.h"

/* ---- Window geometry */

static int64_t floor_div(int64_t a, int64_t b) { return a >= 0 ? a / b : -((-a + b - 1) / b); }
static int64_t ceil_div(int64_t a, int64_t b) { return -floor_div(-a, b); }

tta_status tta_nn_window_parse(tta_op_ctx *ctx, tta_nn_window *w) {
    const tta_node *n = ctx->node;
    memset(w, 0, sizeof *w);
    const char *ap = tta_attr_string(n, "auto_pad", "NOTSET");
    if (!strcmp(ap, "NOTSET") || !ap[0])
        w->auto_pad = TTA_NN_PAD_NOTSET;
    else if (!strcmp(ap, "SAME_UPPER"))
        w->auto_pad = TTA_NN_PAD_SAME_UPPER;
    else if (!strcmp(ap, "SAME_LOWER"))
        w->auto_pad = TTA_NN_PAD_SAME_LOWER;
    else if (!strcmp(ap, "VALID"))
        w->auto_pad = TTA_NN_PAD_VALID;
    else
        return tta_op_error(ctx, TTA_ERR_ATTR, "unknown auto_pad '%s'", ap);
    const int64_t *v;
    int cnt;
    struct {
        const char *name;
        int64_t *dst;
        int *n;
        int max;
        int64_t min;
    } lists[] = {
        {"kernel_shape", w->kernel, &w->n_kernel, TTA_NN_MAX_SPATIAL, 1},
        {"strides", w->strides, &w->n_strides, TTA_NN_MAX_SPATIAL, 1},
        {"dilations", w->dilations, &w->n_dilations, TTA_NN_MAX_SPATIAL, 1},
        {"pads", w->pads, &w->n_pads, 2 * TTA_NN_MAX_SPATIAL, 0},
    };
    for (size_t i = 0; i < sizeof lists / sizeof lists[0]; i++) {
        cnt = tta_attr_ints(n, lists[i].name, &v);
        if (cnt > lists[i].max)
            return tta_op_error(ctx, TTA_ERR_ATTR, "too many values in '%s'", lists[i].name);
        for (int j = 0; j < cnt; j++) {
            if (v[j] < lists[i].min)
                return tta_op_error(ctx, TTA_ERR_ATTR, "'%s' value %lld must be >= %lld", lists[i].name,
                                    (long long)v[j], (long long)lists[i].min);
            lists[i].dst[j] = v[j];
        }
        *lists[i].n = cnt;
    }
    if (w->n_pads % 2) return tta_op_error(ctx, TTA_ERR_ATTR, "'pads' must have an even number of values");
    return TTA_OK;
}

tta_status tta_nn_window_resolve(tta_op_ctx *ctx, const tta_nn_window *w, int ns, const int64_t *in,
                                 const int64_t *k, bool ceil_mode, tta_nn_geom *g) {
    if (ns < 1 || ns > TTA_NN_MAX_SPATIAL)
        return tta_op_error(ctx, TTA_ERR_SHAPE, "%d spatial dimensions are not supported", ns);
    if (w->n_strides && w->n_strides != ns)
        return tta_op_error(ctx, TTA_ERR_ATTR, "'strides' has %d values for %d spatial dimensions",
                            w->n_strides, ns);
    if (w->n_dilations && w->n_dilations != ns)
        return tta_op_error(ctx, TTA_ERR_ATTR, "'dilations' has %d values for %d spatial dimensions",
                            w->n_dilations, ns);
    if (w->auto_pad == TTA_NN_PAD_NOTSET && w->n_pads && w->n_pads != 2 * ns)
        return tta_op_error(ctx, TTA_ERR_ATTR, "'pads' has %d values for %d spatial dimensions", w->n_pads,
                            ns);
    g->ns = ns;
    for (int i = 0; i < ns; i++) {
        g->in[i] = in[i];
        g->k[i] = k[i];
        g->s[i] = w->n_strides ? w->strides[i] : 1;
        g->d[i] = w->n_dilations ? w->dilations[i] : 1;
        int64_t ek;
        if (k[i] < 1)
            return tta_op_error(ctx, TTA_ERR_SHAPE, "kernel size %lld on spatial axis %d must be positive",
                                (long long)k[i], i);
        if (tta_mul_overflows(k[i] - 1, g->d[i], &ek) || ek >= INT64_MAX / 4)
            return tta_op_error(ctx, TTA_ERR_ATTR, "kernel %lld with dilation %lld on spatial axis %d is too large",
                                (long long)k[i], (long long)g->d[i], i);
        ek += 1;
        switch (w->auto_pad) {
        case TTA_NN_PAD_NOTSET: {
            g->pb[i] = w->n_pads ? w->pads[i] : 0;
            g->pe[i] = w->n_pads ? w->pads[ns + i] : 0;
            /* A pad beyond the input plus the kernel extent only adds outputs that see nothing but
             * padding; a tiny model would otherwise claim gigabytes and minutes (pads of 2^24 on
             * a 3-wide input). Also keeps the sums below from overflowing. */
            if (g->pb[i] > in[i] + ek || g->pe[i] > in[i] + ek)
                return tta_op_error(ctx, TTA_ERR_SHAPE,
                                    "pads %lld,%lld on spatial axis %d exceed the input size %lld plus the kernel "
                                    "extent %lld (outputs beyond would see only padding)",
                                    (long long)g->pb[i], (long long)g->pe[i], i, (long long)in[i], (long long)ek);
            int64_t span = in[i] + g->pb[i] + g->pe[i] - ek;
            if (span < 0)
                return tta_op_error(
                    ctx, TTA_ERR_SHAPE,
                    "kernel extent %lld exceeds the padded input size %lld along spatial axis %d",
                    (long long)ek, (long long)(in[i] + g->pb[i] + g->pe[i]), i);
            if (ceil_mode) {
                g->out[i] = ceil_div(span, g->s[i]) + 1;
                /* The last window must start inside the input or the left padding. */
                if ((g->out[i] - 1) * g->s[i] >= in[i] + g->pb[i]) g->out[i]--;
            } else {
                g->out[i] = span / g->s[i] + 1;
            }
            break;
        }
        case TTA_NN_PAD_VALID:
            g->pb[i] = g->pe[i] = 0;
            if (in[i] < ek)
                return tta_op_error(ctx, TTA_ERR_SHAPE,
                                    "kernel extent %lld exceeds the input size %lld (VALID)", (long long)ek,
                                    (long long)in[i]);
            g->out[i] = (in[i] - ek) / g->s[i] + 1;
            break;
        default: {
            g->out[i] = ceil_div(in[i], g->s[i]);
            int64_t total = (g->out[i] - 1) * g->s[i] + ek - in[i];
            if (total < 0) total = 0;
            g->pb[i] = w->auto_pad == TTA_NN_PAD_SAME_UPPER ? total / 2 : total - total / 2;
            g->pe[i] = total - g->pb[i];
            break;
        }
        }
    }
    return TTA_OK;
}

static int64_t prod(const int64_t *v, int n) {
    int64_t p = 1;
    for (int i = 0; i < n; i++)
        p *= v[i];
    return p;
}

/* ---- Conv / ConvTranspose state */

typedef struct conv_state {
    tta_nn_window win;
    int64_t group;
    int n_out_pad, n_out_shape;
    int64_t out_pad[TTA_NN_MAX_SPATIAL];
    int64_t out_shape[TTA_MAX_DIMS];
    tta_nn_scratch col, work;
} conv_state;

void tta_nn_conv_release(tta_op_ctx *ctx) {
    conv_state *st = ctx->state;
    if (!st) return;
    tta_nn_scratch_free(&st->col);
    tta_nn_scratch_free(&st->work);
    tta_free(st);
    ctx->state = NULL;
}

static tta_status conv_prepare_common(tta_op_ctx *ctx, conv_state **out) {
    conv_state *st = tta_calloc(1, sizeof *st);
    if (!st) return tta_op_error(ctx, TTA_ERR_NOMEM, "out of memory");
    ctx->state = st;
    *out = st;
    TTA_TRY(tta_nn_window_parse(ctx, &st->win));
    st->group = tta_attr_int(ctx->node, "group", 1);
    if (st->group < 1)
        return tta_op_error(ctx, TTA_ERR_ATTR, "group %lld must be >= 1", (long long)st->group);
    return TTA_OK;
}

tta_status tta_nn_conv_prepare(tta_op_ctx *ctx) {
    conv_state *st = NULL;
    return conv_prepare_common(ctx, &st);
}

tta_status tta_nn_convtranspose_prepare(tta_op_ctx *ctx) {
    conv_state *st = NULL;
    TTA_TRY(conv_prepare_common(ctx, &st));
    const int64_t *v;
    int n = tta_attr_ints(ctx->node, "output_padding", &v);
    if (n > TTA_NN_MAX_SPATIAL) return tta_op_error(ctx, TTA_ERR_ATTR, "too many values in 'output_padding'");
    for (int i = 0; i < n; i++) {
        if (v[i] < 0) return tta_op_error(ctx, TTA_ERR_ATTR, "'output_padding' values must be >= 0");
        st->out_pad[i] = v[i];
    }
    st->n_out_pad = n;
    n = tta_attr_ints(ctx->node, "output_shape", &v);
    if (n > TTA_MAX_DIMS) return tta_op_error(ctx, TTA_ERR_ATTR, "too many values in 'output_shape'");
    for (int i = 0; i < n; i++)
        st->out_shape[i] = v[i];
    st->n_out_shape = n;
    return TTA_OK;
}

/* Checks the inputs shared by Conv and ConvTranspose: X [N, C, spatial...], W of the same rank,
 * float32/float64, and the optional bias B [bias_len]. */
static tta_status check_inputs(tta_op_ctx *ctx, const conv_state *st, int *ns) {
    TTA_NEED_INPUT(ctx, 0);
    TTA_NEED_INPUT(ctx, 1);
    const tta_tensor *x = ctx->in[0], *w = ctx->in[1];
    char sx[128], sw[128];
    if (x->dtype != TTA_DTYPE_FLOAT32 && x->dtype != TTA_DTYPE_FLOAT64)
        return tta_op_error(ctx, TTA_ERR_UNSUPPORTED, "dtype %s is not supported (float32, float64)",
                            tta_dtype_name(x->dtype));
    if (w->dtype != x->dtype)
        return tta_op_error(ctx, TTA_ERR_SHAPE, "X is %s but W is %s", tta_dtype_name(x->dtype),
                            tta_dtype_name(w->dtype));
    if (x->ndim < 3 || w->ndim != x->ndim)
        return tta_op_error(ctx, TTA_ERR_SHAPE, "X %s and W %s must have the same rank >= 3",
                            tta_shape_str(x, sx, sizeof sx), tta_shape_str(w, sw, sizeof sw));
    *ns = x->ndim - 2;
    if (*ns > TTA_NN_MAX_SPATIAL)
        return tta_op_error(ctx, TTA_ERR_UNSUPPORTED, "too many spatial dimensions");
    if (st->win.n_kernel) {
        bool ok = st->win.n_kernel == *ns;
        for (int i = 0; ok && i < *ns; i++)
            ok = st->win.kernel[i] == w->dims[2 + i];
        if (!ok)
            return tta_op_error(ctx, TTA_ERR_SHAPE, "kernel_shape does not match W %s",
                                tta_shape_str(w, sw, sizeof sw));
    }
    if (x->dims[1] % st->group)
        return tta_op_error(ctx, TTA_ERR_SHAPE, "X %s: %lld channels are not divisible by group %lld",
                            tta_shape_str(x, sx, sizeof sx), (long long)x->dims[1], (long long)st->group);
    return TTA_OK;
}

static tta_status check_bias(tta_op_ctx *ctx, int64_t m) {
    const tta_tensor *b = ctx->n_in > 2 ? ctx->in[2] : NULL;
    if (!b) return TTA_OK;
    if (b->dtype != ctx->in[0]->dtype)
        return tta_op_error(ctx, TTA_ERR_SHAPE, "B has a different dtype from X");
    if (b->ndim != 1 || b->dims[0] != m) {
        char sb[64];
        return tta_op_error(ctx, TTA_ERR_SHAPE, "B %s must be [%lld]", tta_shape_str(b, sb, sizeof sb),
                            (long long)m);
    }
    return TTA_OK;
}

static tta_status conv_geometry(tta_op_ctx *ctx, tta_nn_geom *g) {
    conv_state *st = ctx->state;
    int ns;
    TTA_TRY(check_inputs(ctx, st, &ns));
    const tta_tensor *x = ctx->in[0], *w = ctx->in[1];
    int64_t wc;
    if (tta_mul_overflows(w->dims[1], st->group, &wc) || wc != x->dims[1]) {
        char sx[128], sw[128];
        return tta_op_error(ctx, TTA_ERR_SHAPE,
                            "W %s expects %lld input channels (group %lld) but X %s has %lld",
                            tta_shape_str(w, sw, sizeof sw), (long long)wc,
                            (long long)st->group, tta_shape_str(x, sx, sizeof sx), (long long)x->dims[1]);
    }
    if (w->dims[0] % st->group)
        return tta_op_error(ctx, TTA_ERR_SHAPE, "%lld output channels are not divisible by group %lld",
                            (long long)w->dims[0], (long long)st->group);
    TTA_TRY(check_bias(ctx, w->dims[0]));
    return tta_nn_window_resolve(ctx, &st->win, ns, x->dims + 2, w->dims + 2, false, g);
}

tta_status tta_nn_conv_infer(tta_op_ctx *ctx) {
    tta_nn_geom g;
    TTA_TRY(conv_geometry(ctx, &g));
    int64_t dims[TTA_MAX_DIMS];
    dims[0] = ctx->in[0]->dims[0];
    dims[1] = ctx->in[1]->dims[0];
    for (int i = 0; i < g.ns; i++)
        dims[2 + i] = g.out[i];
    return tta_set_shape(ctx->out[0], ctx->in[0]->dtype, g.ns + 2, dims);
}

/* 2-D im2col of output columns [p0, p1) for channels [0, cg) of x (planes of h*w). */
typedef struct geom2 {
    int64_t h, w, kh, kw, sh, sw, dh, dw, ph, pw, oh, ow;
} geom2;

static geom2 to_geom2(const tta_nn_geom *g) {
    geom2 r;
    if (g->ns == 1) {
        r = (geom2){1, g->in[0], 1, g->k[0], 1, g->s[0], 1, g->d[0], 0, g->pb[0], 1, g->out[0]};
    } else {
        r = (geom2){g->in[0], g->in[1], g->k[0],  g->k[1],  g->s[0],   g->s[1],
                    g->d[0],  g->d[1],  g->pb[0], g->pb[1], g->out[0], g->out[1]};
    }
    return r;
}

static void im2col_2d(const float *x, int64_t cg, const geom2 *g, int64_t p0, int64_t p1, float *col,
                      int nt) {
    int64_t ksz = g->kh * g->kw, rows = cg * ksz, ncol = p1 - p0;
#pragma omp parallel for num_threads(nt) if (rows * ncol > 32768) schedule(static)
    for (int64_t r = 0; r < rows; r++) {
        int64_t c = r / ksz, ki = (r / g->kw) % g->kh, kj = r % g->kw;
        const float *xc = x + c * g->h * g->w;
        float *dst = col + r * ncol;
        int64_t oh = p0 / g->ow, ow = p0 % g->ow;
        for (int64_t p = p0; p < p1;) {
            int64_t run = g->ow - ow < p1 - p ? g->ow - ow : p1 - p;
            int64_t ih = oh * g->sh - g->ph + ki * g->dh;
            if (ih < 0 || ih >= g->h) {
                memset(dst, 0, (size_t)run * sizeof(float));
            } else {
                const float *src = xc + ih * g->w;
                int64_t off = kj * g->dw - g->pw; /* iw = ow * sw + off */
                if (g->sw == 1) {
                    /* zeros left of the input, a copied middle, zeros right of it */
                    int64_t t0 = -off - ow, t1 = g->w - off - ow;
                    t0 = t0 < 0 ? 0 : t0 > run ? run : t0;
                    t1 = t1 < t0 ? t0 : t1 > run ? run : t1;
                    if (t0 > 0) memset(dst, 0, (size_t)t0 * sizeof(float));
                    if (t1 > t0) memcpy(dst + t0, src + ow + off + t0, (size_t)(t1 - t0) * sizeof(float));
                    if (run > t1) memset(dst + t1, 0, (size_t)(run - t1) * sizeof(float));
                } else {
                    for (int64_t t = 0; t < run; t++) {
                        int64_t iw = (ow + t) * g->sw + off;
                        dst[t] = iw >= 0 && iw < g->w ? src[iw] : 0.0f;
                    }
                }
            }
            dst += run;
            p += run;
            ow = 0;
            oh++;
        }
    }
}

/* N-D im2col, for 3 or more spatial dimensions. */
static void im2col_nd(const float *x, int64_t cg, const tta_nn_geom *g, int64_t p0, int64_t p1, float *col,
                      int nt) {
    int ns = g->ns;
    int64_t ksz = prod(g->k, ns), in_sp = prod(g->in, ns), rows = cg * ksz, ncol = p1 - p0;
#pragma omp parallel for num_threads(nt) if (rows * ncol > 32768) schedule(static)
    for (int64_t r = 0; r < rows; r++) {
        int64_t c = r / ksz, kr = r % ksz, kidx[TTA_NN_MAX_SPATIAL], o[TTA_NN_MAX_SPATIAL];
        for (int i = ns - 1; i >= 0; i--) {
            kidx[i] = kr % g->k[i];
            kr /= g->k[i];
        }
        int64_t t = p0;
        for (int i = ns - 1; i >= 0; i--) {
            o[i] = t % g->out[i];
            t /= g->out[i];
        }
        const float *xc = x + c * in_sp;
        float *dst = col + r * ncol;
        for (int64_t p = p0; p < p1; p++) {
            int64_t off = 0;
            bool valid = true;
            for (int i = 0; i < ns; i++) {
                int64_t ii = o[i] * g->s[i] - g->pb[i] + kidx[i] * g->d[i];
                if (ii < 0 || ii >= g->in[i]) {
                    valid = false;
                    break;
                }
                off = off * g->in[i] + ii;
            }
            *dst++ = valid ? xc[off] : 0.0f;
            for (int i = ns - 1; i >= 0; i--) {
                if (++o[i] < g->out[i]) break;
                o[i] = 0;
            }
        }
    }
}

/* Depthwise-style 2-D conv (one input channel per group), direct: each kernel tap adds a scaled
 * input row segment to the output row. */
static void conv_depthwise_2d(const float *x, const float *w, const float *b, float *y, int64_t n, int64_t c,
                              int64_t m, const geom2 *g, int nt) {
    int64_t mg = m / c, ksz = g->kh * g->kw, in_sp = g->h * g->w, out_sp = g->oh * g->ow;
#pragma omp parallel for num_threads(nt) if (n * m * out_sp * ksz > 32768) schedule(static)
    for (int64_t plane = 0; plane < n * m; plane++) {
        int64_t bi = plane / m, mi = plane % m;
        const float *xp = x + (bi * c + mi / mg) * in_sp, *wp = w + mi * ksz;
        float *yp = y + plane * out_sp;
        float bias = b ? b[mi] : 0.0f;
        for (int64_t oh = 0; oh < g->oh; oh++) {
            float *yr = yp + oh * g->ow;
            for (int64_t ow = 0; ow < g->ow; ow++)
                yr[ow] = bias;
            for (int64_t ki = 0; ki < g->kh; ki++) {
                int64_t ih = oh * g->sh - g->ph + ki * g->dh;
                if (ih < 0 || ih >= g->h) continue;
                const float *xr = xp + ih * g->w;
                for (int64_t kj = 0; kj < g->kw; kj++) {
                    float wv = wp[ki * g->kw + kj];
                    int64_t off = kj * g->dw - g->pw;
                    int64_t lo = ceil_div(-off, g->sw), hi = floor_div(g->w - 1 - off, g->sw) + 1;
                    if (lo < 0) lo = 0;
                    if (hi > g->ow) hi = g->ow;
                    if (g->sw == 1) {
                        const float *xs = xr + off;
#pragma omp simd
                        for (int64_t ow = lo; ow < hi; ow++)
                            yr[ow] += wv * xs[ow];
                    } else {
                        for (int64_t ow = lo; ow < hi; ow++)
                            yr[ow] += wv * xr[ow * g->sw + off];
                    }
                }
            }
        }
    }
}

/* Columns per im2col chunk: keep the column buffer (kept per node) around 1 MB. */
static int64_t chunk_cols(int64_t rows, int64_t total) {
    int64_t c = ((int64_t)1 << 18) / (rows > 0 ? rows : 1);
    if (c < 64) c = 64;
    c = (c + 15) / 16 * 16;
    return c < total ? c : total;
}

static void add_bias_f32(float *y, const float *b, int64_t n, int64_t m, int64_t sp, int nt) {
#pragma omp parallel for num_threads(nt) if (n * m * sp > 65536) schedule(static)
    for (int64_t plane = 0; plane < n * m; plane++) {
        float bv = b[plane % m], *yp = y + plane * sp;
#pragma omp simd
        for (int64_t i = 0; i < sp; i++)
            yp[i] += bv;
    }
}

static tta_status conv_f32(tta_op_ctx *ctx, const tta_nn_geom *g) {
    conv_state *st = ctx->state;
    const tta_tensor *xt = ctx->in[0], *wt = ctx->in[1], *bt = ctx->n_in > 2 ? ctx->in[2] : NULL;
    const float *x = xt->data, *w = wt->data, *b = bt ? bt->data : NULL;
    float *y = ctx->out[0]->data;
    int nt = ctx->n_threads > 0 ? ctx->n_threads : 1, ns = g->ns;
    int64_t n = xt->dims[0], c = xt->dims[1], m = wt->dims[0], grp = st->group;
    int64_t cg = c / grp, mg = m / grp, ksz = prod(g->k, ns), rows = cg * ksz;
    int64_t in_sp = prod(g->in, ns), out_sp = prod(g->out, ns);
    if (n == 0 || m == 0 || out_sp == 0) return TTA_OK;

    if (ns <= 2 && cg == 1 && mg <= 4) {
        geom2 g2 = to_geom2(g);
        conv_depthwise_2d(x, w, b, y, n, c, m, &g2, nt);
        return TTA_OK;
    }
    bool pointwise = true;
    for (int i = 0; i < ns; i++)
        pointwise = pointwise && g->k[i] == 1 && g->s[i] == 1 && g->pb[i] == 0 && g->pe[i] == 0;
    int64_t chunk = pointwise ? out_sp : chunk_cols(rows, out_sp);
    float *col = NULL;
    if (!pointwise) {
        TTA_TRY(tta_nn_scratch_get(ctx, &st->col, (size_t)(rows * chunk) * sizeof(float), "the im2col buffer",
                                   (void **)&col));
    }
    float *work;
    TTA_TRY(tta_nn_scratch_get(ctx, &st->work, tta_sgemm_work_floats(mg, chunk, rows, nt) * sizeof(float),
                               "the sgemm buffer", (void **)&work));
    geom2 g2 = to_geom2(g);
    for (int64_t bi = 0; bi < n; bi++) {
        for (int64_t gi = 0; gi < grp; gi++) {
            const float *xg = x + (bi * c + gi * cg) * in_sp, *wg = w + gi * mg * rows;
            float *yg = y + (bi * m + gi * mg) * out_sp;
            for (int64_t p0 = 0; p0 < out_sp; p0 += chunk) {
                int64_t p1 = p0 + chunk < out_sp ? p0 + chunk : out_sp;
                const float *bm;
                int64_t ldb;
                if (pointwise) {
                    bm = xg + p0;
                    ldb = in_sp;
                } else {
                    if (ns <= 2)
                        im2col_2d(xg, cg, &g2, p0, p1, col, nt);
                    else
                        im2col_nd(xg, cg, g, p0, p1, col, nt);
                    bm = col;
                    ldb = p1 - p0;
                }
                TTA_TRY(tta_sgemm(false, false, mg, p1 - p0, rows, 1.0f, wg, rows, bm, ldb, 0.0f, yg + p0,
                                  out_sp, work, nt));
            }
        }
    }
    if (b) add_bias_f32(y, b, n, m, out_sp, nt);
    return TTA_OK;
}

/* Generic direct convolution in double precision (float64 tensors). */
static void conv_f64(tta_op_ctx *ctx, const tta_nn_geom *g) {
    conv_state *st = ctx->state;
    const tta_tensor *xt = ctx->in[0], *wt = ctx->in[1], *bt = ctx->n_in > 2 ? ctx->in[2] : NULL;
    const double *x = xt->data, *w = wt->data, *b = bt ? bt->data : NULL;
    double *y = ctx->out[0]->data;
    int nt = ctx->n_threads > 0 ? ctx->n_threads : 1, ns = g->ns;
    int64_t n = xt->dims[0], c = xt->dims[1], m = wt->dims[0], grp = st->group;
    int64_t cg = c / grp, mg = m / grp, ksz = prod(g->k, ns), in_sp = prod(g->in, ns),
            out_sp = prod(g->out, ns);
#pragma omp parallel for num_threads(nt) schedule(static)
    for (int64_t plane = 0; plane < n * m; plane++) {
        int64_t bi = plane / m, mi = plane % m, gi = mi / mg;
        int64_t o[TTA_NN_MAX_SPATIAL] = {0}, kidx[TTA_NN_MAX_SPATIAL];
        for (int64_t p = 0; p < out_sp; p++) {
            double s = b ? b[mi] : 0.0;
            for (int64_t kr = 0; kr < ksz; kr++) {
                int64_t t = kr, off = 0;
                for (int i = ns - 1; i >= 0; i--) {
                    kidx[i] = t % g->k[i];
                    t /= g->k[i];
                }
                bool valid = true;
                for (int i = 0; i < ns && valid; i++) {
                    int64_t ii = o[i] * g->s[i] - g->pb[i] + kidx[i] * g->d[i];
                    valid = ii >= 0 && ii < g->in[i];
                    off = off * g->in[i] + ii;
                }
                if (!valid) continue;
                for (int64_t ci = 0; ci < cg; ci++)
                    s += x[(bi * c + gi * cg + ci) * in_sp + off] * w[(mi * cg + ci) * ksz + kr];
            }
            y[plane * out_sp + p] = s;
            for (int i = ns - 1; i >= 0; i--) {
                if (++o[i] < g->out[i]) break;
                o[i] = 0;
            }
        }
    }
}

tta_status tta_nn_conv_compute(tta_op_ctx *ctx) {
    tta_nn_geom g;
    TTA_TRY(conv_geometry(ctx, &g));
    if (ctx->in[0]->dtype == TTA_DTYPE_FLOAT32) return conv_f32(ctx, &g);
    conv_f64(ctx, &g);
    return TTA_OK;
}

/* ---- ConvTranspose */

/* Geometry of a ConvTranspose: g->in/out are the input/output spatial sizes, pb the begin pads
 * (possibly negative when output_shape asks for more than the natural size). */
bool tta_nn_convt_axes(const tta_nn_window *win, int ns, const int64_t *in_dims, const int64_t *k_dims,
                       const int64_t *out_pad, const int64_t *oshape, tta_nn_geom *g) {
    g->ns = ns;
    for (int i = 0; i < ns; i++) {
        int64_t in = in_dims[i], k = k_dims[i];
        g->in[i] = in;
        g->k[i] = k;
        g->s[i] = win->n_strides ? win->strides[i] : 1;
        g->d[i] = win->n_dilations ? win->dilations[i] : 1;
        int64_t full = g->s[i] * (in - 1) + (out_pad ? out_pad[i] : 0) + (k - 1) * g->d[i] + 1;
        bool same = win->auto_pad == TTA_NN_PAD_SAME_UPPER || win->auto_pad == TTA_NN_PAD_SAME_LOWER;
        if (oshape || same) {
            int64_t out = oshape ? oshape[i] : in * g->s[i];
            int64_t total = full - out;
            /* ONNX: SAME_UPPER puts the odd pixel at the end, anything else at the beginning. */
            if (win->auto_pad == TTA_NN_PAD_SAME_UPPER) {
                g->pb[i] = floor_div(total, 2);
                g->pe[i] = total - g->pb[i];
            } else {
                g->pe[i] = floor_div(total, 2);
                g->pb[i] = total - g->pe[i];
            }
            g->out[i] = out;
        } else {
            bool explicit_pads = win->auto_pad == TTA_NN_PAD_NOTSET && win->n_pads;
            g->pb[i] = explicit_pads ? win->pads[i] : 0;
            g->pe[i] = explicit_pads ? win->pads[ns + i] : 0;
            g->out[i] = full - g->pb[i] - g->pe[i];
        }
        if (g->out[i] < 0) return false;
    }
    return true;
}

static tta_status convt_geometry(tta_op_ctx *ctx, tta_nn_geom *g) {
    conv_state *st = ctx->state;
    int ns;
    TTA_TRY(check_inputs(ctx, st, &ns));
    const tta_tensor *x = ctx->in[0], *w = ctx->in[1];
    char sx[128], sw[128];
    if (w->dims[0] != x->dims[1])
        return tta_op_error(ctx, TTA_ERR_SHAPE, "W %s expects %lld input channels but X %s has %lld",
                            tta_shape_str(w, sw, sizeof sw), (long long)w->dims[0],
                            tta_shape_str(x, sx, sizeof sx), (long long)x->dims[1]);
    TTA_TRY(check_bias(ctx, w->dims[1] * st->group));
    const tta_nn_window *win = &st->win;
    if (win->n_strides && win->n_strides != ns)
        return tta_op_error(ctx, TTA_ERR_ATTR, "'strides' has the wrong length");
    if (win->n_dilations && win->n_dilations != ns)
        return tta_op_error(ctx, TTA_ERR_ATTR, "'dilations' has the wrong length");
    if (win->n_pads && win->n_pads != 2 * ns)
        return tta_op_error(ctx, TTA_ERR_ATTR, "'pads' has the wrong length");
    if (st->n_out_pad && st->n_out_pad != ns)
        return tta_op_error(ctx, TTA_ERR_ATTR, "'output_padding' has the wrong length");
    const int64_t *oshape = NULL;
    if (st->n_out_shape == ns)
        oshape = st->out_shape;
    else if (st->n_out_shape == ns + 2)
        oshape = st->out_shape + 2;
    else if (st->n_out_shape)
        return tta_op_error(ctx, TTA_ERR_ATTR, "'output_shape' has the wrong length");
    if (!tta_nn_convt_axes(win, ns, x->dims + 2, w->dims + 2, st->n_out_pad ? st->out_pad : NULL, oshape, g))
        return tta_op_error(ctx, TTA_ERR_SHAPE, "negative output size along a spatial axis");
    return TTA_OK;
}

tta_status tta_nn_convtranspose_infer(tta_op_ctx *ctx) {
    tta_nn_geom g;
    TTA_TRY(convt_geometry(ctx, &g));
    conv_state *st = ctx->state;
    int64_t dims[TTA_MAX_DIMS];
    dims[0] = ctx->in[0]->dims[0];
    dims[1] = ctx->in[1]->dims[1] * st->group;
    for (int i = 0; i < g.ns; i++)
        dims[2 + i] = g.out[i];
    return tta_set_shape(ctx->out[0], ctx->in[0]->dtype, g.ns + 2, dims);
}

/* Adds col [mg * ksz, p1 - p0] (input positions p0..p1) into the output planes y (mg planes). */
static void col2im_nd(const float *col, int64_t mg, const tta_nn_geom *g, int64_t p0, int64_t p1, float *y,
                      int nt) {
    int ns = g->ns;
    int64_t ksz = prod(g->k, ns), out_sp = prod(g->out, ns), ncol = p1 - p0;
#pragma omp parallel for num_threads(nt) if (mg * ksz * ncol > 32768) schedule(static)
    for (int64_t mi = 0; mi < mg; mi++) {
        float *yp = y + mi * out_sp;
        for (int64_t kr = 0; kr < ksz; kr++) {
            int64_t kidx[TTA_NN_MAX_SPATIAL], ii[TTA_NN_MAX_SPATIAL], t = kr;
            for (int i = ns - 1; i >= 0; i--) {
                kidx[i] = t % g->k[i];
                t /= g->k[i];
            }
            t = p0;
            for (int i = ns - 1; i >= 0; i--) {
                ii[i] = t % g->in[i];
                t /= g->in[i];
            }
            const float *src = col + (mi * ksz + kr) * ncol;
            for (int64_t p = 0; p < ncol; p++) {
                int64_t off = 0;
                bool valid = true;
                for (int i = 0; i < ns && valid; i++) {
                    int64_t oi = ii[i] * g->s[i] - g->pb[i] + kidx[i] * g->d[i];
                    valid = oi >= 0 && oi < g->out[i];
                    off = off * g->out[i] + oi;
                }
                if (valid) yp[off] += src[p];
                for (int i = ns - 1; i >= 0; i--) {
                    if (++ii[i] < g->in[i]) break;
                    ii[i] = 0;
                }
            }
        }
    }
}

static tta_status convt_f32(tta_op_ctx *ctx, const tta_nn_geom *g) {
    conv_state *st = ctx->state;
    const tta_tensor *xt = ctx->in[0], *wt = ctx->in[1], *bt = ctx->n_in > 2 ? ctx->in[2] : NULL;
    const float *x = xt->data, *w = wt->data, *b = bt ? bt->data : NULL;
    float *y = ctx->out[0]->data;
    int nt = ctx->n_threads > 0 ? ctx->n_threads : 1, ns = g->ns;
    int64_t n = xt->dims[0], c = xt->dims[1], grp = st->group, mg = wt->dims[1], m = mg * grp, cg = c / grp;
    int64_t ksz = prod(g->k, ns), rows = mg * ksz, in_sp = prod(g->in, ns), out_sp = prod(g->out, ns);
    memset(y, 0, (size_t)(n * m * out_sp) * sizeof(float));
    if (in_sp > 0 && rows > 0) {
        int64_t chunk = chunk_cols(rows, in_sp);
        float *col, *work;
        TTA_TRY(tta_nn_scratch_get(ctx, &st->col, (size_t)(rows * chunk) * sizeof(float), "the col2im buffer",
                                   (void **)&col));
        TTA_TRY(tta_nn_scratch_get(ctx, &st->work, tta_sgemm_work_floats(rows, chunk, cg, nt) * sizeof(float),
                                   "the sgemm buffer", (void **)&work));
        for (int64_t bi = 0; bi < n; bi++)
            for (int64_t gi = 0; gi < grp; gi++) {
                const float *xg = x + (bi * c + gi * cg) * in_sp, *wg = w + gi * cg * rows;
                float *yg = y + (bi * m + gi * mg) * out_sp;
                for (int64_t p0 = 0; p0 < in_sp; p0 += chunk) {
                    int64_t p1 = p0 + chunk < in_sp ? p0 + chunk : in_sp;
                    TTA_TRY(tta_sgemm(true, false, rows, p1 - p0, cg, 1.0f, wg, rows, xg + p0, in_sp, 0.0f,
                                      col, p1 - p0, work, nt));
                    col2im_nd(col, mg, g, p0, p1, yg, nt);
                }
            }
    }
    if (b) add_bias_f32(y, b, n, m, out_sp, nt);
    return TTA_OK;
}

static void convt_f64(tta_op_ctx *ctx, const tta_nn_geom *g) {
    conv_state *st = ctx->state;
    const tta_tensor *xt = ctx->in[0], *wt = ctx->in[1], *bt = ctx->n_in > 2 ? ctx->in[2] : NULL;
    const double *x = xt->data, *w = wt->data, *b = bt ? bt->data : NULL;
    double *y = ctx->out[0]->data;
    int nt = ctx->n_threads > 0 ? ctx->n_threads : 1, ns = g->ns;
    int64_t n = xt->dims[0], c = xt->dims[1], grp = st->group, mg = wt->dims[1], m = mg * grp, cg = c / grp;
    int64_t ksz = prod(g->k, ns), in_sp = prod(g->in, ns), out_sp = prod(g->out, ns);
#pragma omp parallel for num_threads(nt) schedule(static)
    for (int64_t plane = 0; plane < n * m; plane++) {
        int64_t bi = plane / m, mi = plane % m, gi = mi / mg, ml = mi % mg;
        double *yp = y + plane * out_sp;
        for (int64_t p = 0; p < out_sp; p++)
            yp[p] = b ? b[mi] : 0.0;
        for (int64_t ci = 0; ci < cg; ci++) {
            const double *xp = x + (bi * c + gi * cg + ci) * in_sp,
                         *wp = w + ((gi * cg + ci) * mg + ml) * ksz;
            for (int64_t kr = 0; kr < ksz; kr++) {
                int64_t kidx[TTA_NN_MAX_SPATIAL], ii[TTA_NN_MAX_SPATIAL] = {0}, t = kr;
                for (int i = ns - 1; i >= 0; i--) {
                    kidx[i] = t % g->k[i];
                    t /= g->k[i];
                }
                for (int64_t p = 0; p < in_sp; p++) {
                    int64_t off = 0;
                    bool valid = true;
                    for (int i = 0; i < ns && valid; i++) {
                        int64_t oi = ii[i] * g->s[i] - g->pb[i] + kidx[i] * g->d[i];
                        valid = oi >= 0 && oi < g->out[i];
                        off = off * g->out[i] + oi;
                    }
                    if (valid) yp[off] += xp[p] * wp[kr];
                    for (int i = ns - 1; i >= 0; i--) {
                        if (++ii[i] < g->in[i]) break;
                        ii[i] = 0;
                    }
                }
            }
        }
    }
}

tta_status tta_nn_convtranspose_compute(tta_op_ctx *ctx) {
    tta_nn_geom g;
    TTA_TRY(convt_geometry(ctx, &g));
    if (ctx->in[0]->dtype == TTA_DTYPE_FLOAT32) return convt_f32(ctx, &g);
    convt_f64(ctx, &g);
    return TTA_OK;
}
