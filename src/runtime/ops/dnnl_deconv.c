/* dnnl_deconv.c - ConvTranspose (1-D, 2-D, 3-D; groups incl. depthwise, strides, pads,
 * dilations, output_padding, output_shape, auto_pad, optional bias) through oneDNN, reading and
 * writing channel-blocked tensors (padded ones too) when the plan asks.
 *
 * The geometry (pads and output size) is ONNX's, computed as the plain C kernel in nn_conv.c
 * does; the C kernel's infer validates the node before every run. oneDNN's deconvolution is a
 * convolution's backward-data pass: it maps outputs from the begin pad alone and accepts an
 * output of size (in-1)*s + ek - pb - pe + r for any 0 <= r < s, so output_padding, and an
 * output_shape that ends up to s-1 pixels beyond the natural size (a negative end pad), fit it.
 * A negative begin pad goes to C.
 *
 * ONNX weights are [C_in, C_out/group, k...]; oneDNN's are (oc, ic, k...) or (g, oc/g, ic/g, k...):
 * the user weights are described by strides in the ONNX order, and the primitive picks its own
 * layout (reordered once for constant weights, every run otherwise). The primitive is built
 * lazily on the first run for the concrete shapes and layouts and cached (rebuilt when they
 * change); src/dst are reordered between the user's layout (plain, or blocked when the plan says
 * so) and the primitive's when they differ.
 *
 * 2-D with kernel == stride and no pads (U-Net's upsampling ConvTranspose(k=2, s=2)) has no
 * overlap: it is a 1x1 convolution to K*M channels and a scatter into Y, which is several times
 * faster than oneDNN 2.6's deconvolution kernels on it.
 *
 * Anything oneDNN cannot do (non-float32, rank > 5, a primitive oneDNN declines) goes to the
 * plain C ConvTranspose, with blocked tensors converted to plain temporaries around it.
 */
#include <string.h>

#include "core/alloc.h"
#include "runtime/ops/dnnl_common.h"
#include "runtime/ops/dnnl_deconv.h"
#include "runtime/ops/nn.h"

typedef struct ddeconv_state {
    tta_dnnl_fallback fb; /* the plain C ConvTranspose */
    tta_nn_window win;
    int64_t group;
    int n_out_pad, n_out_shape;
    int64_t out_pad[TTA_NN_MAX_SPATIAL], out_shape[TTA_MAX_DIMS];
    bool w_const; /* W was known at prepare: reorder it once */
    /* the cached primitive, for key (x dims, w dims, bias present, input/output blocked) */
    bool built, unusable;
    int key_nd;
    int64_t key_x[TTA_MAX_DIMS], key_w[TTA_MAX_DIMS];
    bool key_bias, key_in_blk, key_out_blk;
    dnnl_primitive_desc_t pd;
    dnnl_primitive_t prim;
    dnnl_stream_t stream;
    dnnl_memory_t m_src, m_wei, m_bias, m_dst;
    /* weights, src and dst in the primitive's own layout when it differs from the user's */
    tta_dnnl_reo reo_w, reo_src, reo_dst;
    void *w_buf, *src_buf, *dst_buf;
    const void *w_done; /* W data last reordered into w_buf (constant weights) */
    /* The kernel == stride case without pads (U-Net upsampling): a 1x1 convolution to
     * Z [N, K*M, H, W] (channel k*M + m for kernel position k, output channel m; dst_buf, in
     * Z's own layout with channel block z_blk, 1 = plain, and z_chan channels with padding),
     * then a scatter into Y that adds the bias. */
    bool ps;
    int64_t z_blk, z_chan;
    float *w_perm; /* [K*M][C]: W with the kernel position major */
    /* plain temporaries of a blocked input / output around the C kernel */
    tta_tensor tx, ty;
    size_t held;  /* bytes of the buffers above counted against the plan's budget */
    bool probing; /* build only the primitive, no buffers (layouts asks whether oneDNN takes it) */
} ddeconv_state;

/* Frees the primitive and its buffers (not the key). */
static void free_objects(ddeconv_state *st) {
    if (st->m_src) dnnl_memory_destroy(st->m_src);
    if (st->m_wei) dnnl_memory_destroy(st->m_wei);
    if (st->m_bias) dnnl_memory_destroy(st->m_bias);
    if (st->m_dst) dnnl_memory_destroy(st->m_dst);
    if (st->prim) dnnl_primitive_destroy(st->prim);
    if (st->pd) dnnl_primitive_desc_destroy(st->pd);
    tta_dnnl_reo_free(&st->reo_w);
    tta_dnnl_reo_free(&st->reo_src);
    tta_dnnl_reo_free(&st->reo_dst);
    tta_free(st->w_buf);
    tta_free(st->src_buf);
    tta_free(st->dst_buf);
    st->m_src = st->m_wei = st->m_bias = st->m_dst = NULL;
    st->prim = NULL;
    st->pd = NULL;
    tta_free(st->w_perm);
    st->w_buf = st->src_buf = st->dst_buf = NULL;
    st->w_perm = NULL;
    st->w_done = NULL;
    st->ps = false;
}

static void drop_primitive(ddeconv_state *st) {
    free_objects(st);
    st->built = st->unusable = false;
}

void tta_dnnl_deconv_release(tta_op_ctx *ctx) {
    ddeconv_state *st = ctx->state;
    if (!st) return;
    drop_primitive(st);
    tta_tensor_destroy(&st->tx);
    tta_tensor_destroy(&st->ty);
    tta_dnnl_state_free(ctx, &st->fb, st->stream);
}

tta_status tta_dnnl_deconv_prepare(tta_op_ctx *ctx) {
    ddeconv_state *st = tta_calloc(1, sizeof *st);
    if (!st) return tta_op_error(ctx, TTA_ERR_NOMEM, "out of memory");
    ctx->state = st;
    /* The C kernel's prepare validates the attributes; what is read here is then sane. */
    TTA_TRY(tta_dnnl_fallback_prepare(ctx, &st->fb, "ConvTranspose"));
    TTA_TRY(tta_nn_window_parse(ctx, &st->win));
    st->group = tta_attr_int(ctx->node, "group", 1);
    if (st->group < 1) return tta_op_error(ctx, TTA_ERR_ATTR, "group %lld must be >= 1", (long long)st->group);
    const int64_t *v;
    int n = tta_attr_ints(ctx->node, "output_padding", &v);
    if (n > TTA_NN_MAX_SPATIAL) return tta_op_error(ctx, TTA_ERR_ATTR, "too many values in 'output_padding'");
    if (n) memcpy(st->out_pad, v, (size_t)n * sizeof *v);
    st->n_out_pad = n;
    n = tta_attr_ints(ctx->node, "output_shape", &v);
    if (n > TTA_MAX_DIMS) return tta_op_error(ctx, TTA_ERR_ATTR, "too many values in 'output_shape'");
    if (n) memcpy(st->out_shape, v, (size_t)n * sizeof *v);
    st->n_out_shape = n;
    st->w_const = ctx->n_in > 1 && ctx->in[1] && ctx->in[1]->data;
    return TTA_OK;
}

tta_status tta_dnnl_deconv_infer(tta_op_ctx *ctx) {
    ddeconv_state *st = ctx->state;
    return tta_dnnl_fallback_infer(ctx, &st->fb);
}

/* ---- geometry */

/* ONNX's ConvTranspose pads and output size, as convt_geometry in nn_conv.c computes them.
 * False when the attributes do not fit the rank (the C infer reports those). */
static bool deconv_geometry(const ddeconv_state *st, const tta_tensor *x, const tta_tensor *w, tta_nn_geom *g) {
    const tta_nn_window *win = &st->win;
    int ns = x->ndim - 2;
    if (ns < 1 || ns > TTA_NN_MAX_SPATIAL || (win->n_strides && win->n_strides != ns) ||
        (win->n_dilations && win->n_dilations != ns) || (win->n_pads && win->n_pads != 2 * ns) ||
        (st->n_out_pad && st->n_out_pad != ns))
        return false;
    const int64_t *oshape = NULL;
    if (st->n_out_shape == ns) oshape = st->out_shape;
    else if (st->n_out_shape == ns + 2) oshape = st->out_shape + 2;
    else if (st->n_out_shape) return false;
    return tta_nn_convt_axes(win, ns, x->dims + 2, w->dims + 2, st->n_out_pad ? st->out_pad : NULL, oshape, g);
}

/* ---- blocked <-> plain (the C path) */

/* plain [N][C][S] <-> blocked [N][Cp/B][S][B] floats (Cp: C rounded up to a multiple of B; the
 * padding channels are written as zeros). */
static void reblock(const float *src, float *dst, int64_t n, int64_t c, int64_t sp, int64_t blk, bool to_plain, int nt) {
    int64_t cb = (c + blk - 1) / blk;
#pragma omp parallel for num_threads(nt) schedule(static)
    for (int64_t i = 0; i < n * cb; i++) {
        const int64_t ni = i / cb, bi = i % cb;
        for (int64_t s = 0; s < sp; s++)
            for (int64_t j = 0; j < blk; j++) {
                int64_t ch = bi * blk + j, b = (i * sp + s) * blk + j, p = (ni * c + ch) * sp + s;
                if (ch >= c) {
                    if (!to_plain) dst[b] = 0.0f;
                } else if (to_plain) {
                    dst[p] = src[b];
                } else {
                    dst[b] = src[p];
                }
            }
    }
}

static tta_status reblock_tensor(const tta_op_ctx *ctx, const tta_tensor *src, tta_tensor *dst, bool to_plain) {
    int64_t sp = 1;
    if (src->dtype != TTA_DTYPE_FLOAT32 || src->ndim < 3)
        return tta_op_error(ctx, TTA_ERR_INTERNAL, "a blocked tensor must be float32 [N, C, ...]");
    for (int i = 2; i < src->ndim; i++) sp *= src->dims[i];
    reblock(src->data, dst->data, src->dims[0], src->dims[1], sp, tta_layout_block(), to_plain,
            ctx->n_threads > 0 ? ctx->n_threads : 1);
    return TTA_OK;
}

/* The plain C ConvTranspose, on plain temporaries of blocked tensors. */
static tta_status deconv_plain(tta_op_ctx *ctx, bool in_blk, bool out_blk) {
    ddeconv_state *st = ctx->state;
    if (!in_blk && !out_blk) return tta_dnnl_fallback_compute(ctx, &st->fb);
    tta_tensor *ins[3] = {NULL, NULL, NULL}, *outs[1] = {ctx->out[0]};
    for (int i = 0; i < ctx->n_in && i < 3; i++) ins[i] = ctx->in[i];
    const tta_tensor *x = ctx->in[0], *y = ctx->out[0];
    if (in_blk) {
        TTA_TRY(tta_tensor_resize(&st->tx, x->dtype, x->ndim, x->dims));
        TTA_TRY(reblock_tensor(ctx, x, &st->tx, true));
        ins[0] = &st->tx;
    }
    if (out_blk) {
        TTA_TRY(tta_tensor_resize(&st->ty, y->dtype, y->ndim, y->dims));
        outs[0] = &st->ty;
    }
    tta_op_ctx c = *ctx;
    c.n_in = ctx->n_in < 3 ? ctx->n_in : 3;
    c.n_out = 1;
    c.in = ins;
    c.out = outs;
    c.in_layout = c.out_layout = NULL;
    TTA_TRY(tta_dnnl_fallback_compute(&c, &st->fb));
    if (out_blk) TTA_TRY(reblock_tensor(ctx, &st->ty, ctx->out[0], false));
    return TTA_OK;
}

/* ---- oneDNN path */

/* Whether the inputs are of a kind the oneDNN path takes (rank `nd`, any of 3..5 when < 0). */
static bool dnnl_inputs_ok(const tta_op_ctx *ctx, int nd) {
    const tta_tensor *x = ctx->in[0], *w = ctx->n_in > 1 ? ctx->in[1] : NULL;
    const tta_tensor *b = ctx->n_in > 2 ? ctx->in[2] : NULL, *y = ctx->out[0];
    if (!tta_dnnl_is_f32(x, nd) || x->ndim < 3 || x->ndim > 5 || !tta_dnnl_is_f32(w, x->ndim) ||
        (b && !tta_dnnl_is_f32(b, 1)) || !y || y->ndim != x->ndim)
        return false;
    for (int i = 0; i < x->ndim; i++)
        if (x->dims[i] <= 0 || w->dims[i] <= 0 || y->dims[i] <= 0) return false;
    return true;
}

static bool same_key(const ddeconv_state *st, const tta_tensor *x, const tta_tensor *w, bool bias, bool in_blk,
                     bool out_blk) {
    if (!st->built || st->key_nd != x->ndim || st->key_bias != bias || st->key_in_blk != in_blk ||
        st->key_out_blk != out_blk)
        return false;
    for (int i = 0; i < x->ndim; i++)
        if (st->key_x[i] != x->dims[i] || st->key_w[i] != w->dims[i]) return false;
    return true;
}

/* oneDNN's tag for a blocked [N, C, spatial...] tensor of rank nd. */
static dnnl_format_tag_t blocked_tag(int nd) {
    bool b16 = tta_layout_block() == 16;
    switch (nd) {
    case 3: return b16 ? dnnl_aBc16b : dnnl_aBc8b;
    case 4: return b16 ? dnnl_aBcd16b : dnnl_aBcd8b;
    default: return b16 ? dnnl_aBcde16b : dnnl_aBcde8b;
    }
}

static dnnl_status_t user_md(dnnl_memory_desc_t *md, const tta_tensor *t, bool blocked) {
    if (!blocked) return tta_dnnl_plain_md(md, t->ndim, t->dims);
    dnnl_dims_t d;
    for (int i = 0; i < t->ndim; i++) d[i] = t->dims[i];
    return dnnl_memory_desc_init_by_tag(md, t->ndim, d, dnnl_f32, blocked_tag(t->ndim));
}

/* The ONNX weights [C_in, C_out/g, k...] described in oneDNN's dims (oc, ic, k...) or
 * (g, oc/g, ic/g, k...). */
static dnnl_status_t weights_user_md(dnnl_memory_desc_t *md, const tta_tensor *w, int64_t group) {
    int nd = w->ndim, ns = nd - 2;
    int64_t cg = w->dims[0] / group, mg = w->dims[1], ksz = 1;
    dnnl_dims_t d, s;
    int o = group > 1 ? 1 : 0;
    for (int i = ns - 1; i >= 0; i--) {
        d[o + 2 + i] = w->dims[2 + i];
        s[o + 2 + i] = ksz;
        ksz *= w->dims[2 + i];
    }
    if (group > 1) {
        d[0] = group;
        s[0] = cg * mg * ksz;
    }
    d[o] = mg; /* oc (per group) */
    s[o] = ksz;
    d[o + 1] = cg; /* ic (per group) */
    s[o + 1] = mg * ksz;
    return dnnl_memory_desc_init_by_strides(md, nd + o, d, dnnl_f32, s);
}

/* Creates the memories and reorders around a primitive just made in st->pd: weights from
 * w_user, src from src_md, and dst to dst_md (dst_md NULL: the caller handles the dst). The
 * buffers, the scratchpad and `extra` bytes the caller allocates next are counted first. */
static tta_status attach(const tta_op_ctx *ctx, ddeconv_state *st, const dnnl_memory_desc_t *w_user,
                         const dnnl_memory_desc_t *src_md, const dnnl_memory_desc_t *dst_md, bool bias,
                         size_t extra) {
    if (st->probing) return TTA_OK;
    if (!st->stream) TTA_TRY(tta_dnnl_stream_new(ctx, &st->stream));
    const dnnl_memory_desc_t *p_w = dnnl_primitive_desc_query_md(st->pd, dnnl_query_weights_md, 0);
    const dnnl_memory_desc_t *p_src = dnnl_primitive_desc_query_md(st->pd, dnnl_query_src_md, 0);
    const dnnl_memory_desc_t *p_dst = dnnl_primitive_desc_query_md(st->pd, dnnl_query_dst_md, 0);
    size_t bytes = extra + tta_dnnl_scratchpad_bytes(st->pd) +
                   (!dnnl_memory_desc_equal(p_w, w_user) ? dnnl_memory_desc_get_size(p_w) + 64 : 0) +
                   (!dnnl_memory_desc_equal(p_src, src_md) ? dnnl_memory_desc_get_size(p_src) + 64 : 0) +
                   (!dst_md || !dnnl_memory_desc_equal(p_dst, dst_md) ? dnnl_memory_desc_get_size(p_dst) + 64 : 0);
    TTA_TRY(tta_op_reserve(ctx, &st->held, bytes, "the transposed convolution's buffers and scratchpad"));
    if (!dnnl_memory_desc_equal(p_w, w_user)) {
        TTA_TRY(tta_dnnl_reo_init(ctx, &st->reo_w, w_user, p_w));
        st->w_buf = tta_malloc(dnnl_memory_desc_get_size(p_w) + 64);
        if (!st->w_buf) return tta_op_error(ctx, TTA_ERR_NOMEM, "out of memory for reordered weights");
    }
    if (!dnnl_memory_desc_equal(p_src, src_md)) {
        TTA_TRY(tta_dnnl_reo_init(ctx, &st->reo_src, src_md, p_src));
        st->src_buf = tta_malloc(dnnl_memory_desc_get_size(p_src) + 64);
        if (!st->src_buf) return tta_op_error(ctx, TTA_ERR_NOMEM, "out of memory for the reordered input");
    }
    if (!dst_md || !dnnl_memory_desc_equal(p_dst, dst_md)) {
        if (dst_md) TTA_TRY(tta_dnnl_reo_init(ctx, &st->reo_dst, p_dst, dst_md));
        st->dst_buf = tta_malloc(dnnl_memory_desc_get_size(p_dst) + 64);
        if (!st->dst_buf) return tta_op_error(ctx, TTA_ERR_NOMEM, "out of memory for the reordered output");
    }
    TTA_TRY(tta_dnnl_memory(ctx, p_src, &st->m_src));
    TTA_TRY(tta_dnnl_memory(ctx, p_w, &st->m_wei));
    TTA_TRY(tta_dnnl_memory(ctx, p_dst, &st->m_dst));
    if (bias) TTA_TRY(tta_dnnl_memory(ctx, dnnl_primitive_desc_query_md(st->pd, dnnl_query_weights_md, 1), &st->m_bias));
    return TTA_OK;
}

/* Whether the node is a 2-D ConvTranspose with kernel == stride and no pads: every output
 * pixel then takes exactly one input pixel and kernel position. */
static bool ps_applies(const ddeconv_state *st, const tta_nn_geom *g, int nd) {
    if (nd != 4 || st->group != 1) return false;
    for (int i = 0; i < g->ns; i++)
        if (g->k[i] != g->s[i] || (g->d[i] != 1 && g->k[i] != 1) || g->pb[i] || g->pe[i] || g->out[i] != g->in[i] * g->s[i])
            return false;
    return true;
}

/* The 1x1 convolution of the kernel == stride case. Leaves st->ps false (and returns TTA_OK)
 * when oneDNN declines it or picks a Z layout the scatter does not know. */
static tta_status build_ps(const tta_op_ctx *ctx, ddeconv_state *st, const dnnl_memory_desc_t *src_md) {
    const tta_tensor *x = ctx->in[0], *w = ctx->in[1], *y = ctx->out[0];
    int64_t c = x->dims[1], m = y->dims[1], o = m * w->dims[2] * w->dims[3];
    dnnl_memory_desc_t w_user, w_any, src_any, z_any, z_plain, z_8, z_16;
    dnnl_dims_t wd = {o, c, 1, 1}, zd = {x->dims[0], o, x->dims[2], x->dims[3]}, one = {1, 1}, zero = {0, 0};
    dnnl_status_t s = dnnl_memory_desc_init_by_tag(&w_user, 4, wd, dnnl_f32, dnnl_abcd);
    if (s == dnnl_success) s = dnnl_memory_desc_init_by_tag(&w_any, 4, wd, dnnl_f32, dnnl_format_tag_any);
    if (s == dnnl_success) s = dnnl_memory_desc_init_by_tag(&src_any, 4, src_md->dims, dnnl_f32, dnnl_format_tag_any);
    if (s == dnnl_success) s = dnnl_memory_desc_init_by_tag(&z_any, 4, zd, dnnl_f32, dnnl_format_tag_any);
    if (s == dnnl_success) s = dnnl_memory_desc_init_by_tag(&z_plain, 4, zd, dnnl_f32, dnnl_abcd);
    if (s == dnnl_success) s = dnnl_memory_desc_init_by_tag(&z_8, 4, zd, dnnl_f32, dnnl_aBcd8b);
    if (s == dnnl_success) s = dnnl_memory_desc_init_by_tag(&z_16, 4, zd, dnnl_f32, dnnl_aBcd16b);
    dnnl_convolution_desc_t cd;
    if (s == dnnl_success)
        s = dnnl_convolution_forward_desc_init(&cd, dnnl_forward_inference, dnnl_convolution_direct, &src_any, &w_any,
                                               NULL, &z_any, one, zero, zero);
    if (s == dnnl_success) s = tta_dnnl_primitive(ctx, &cd, NULL, &st->pd, &st->prim);
    if (s == dnnl_unimplemented || s == dnnl_invalid_arguments) return TTA_OK;
    TTA_TRY(tta_dnnl_error(ctx, s, "1x1 convolution primitive creation"));
    const dnnl_memory_desc_t *p_z = dnnl_primitive_desc_query_md(st->pd, dnnl_query_dst_md, 0);
    st->z_blk = dnnl_memory_desc_equal(p_z, &z_plain) ? 1 : dnnl_memory_desc_equal(p_z, &z_8) ? 8
                : dnnl_memory_desc_equal(p_z, &z_16)  ? 16
                                                      : 0;
    if (!st->z_blk) return TTA_OK;
    st->z_chan = p_z->padded_dims[1];
    st->ps = true;
    TTA_TRY(attach(ctx, st, &w_user, src_md, NULL, false, (size_t)(o * c) * sizeof(float)));
    if (st->probing) return TTA_OK;
    st->w_perm = tta_malloc((size_t)(o * c) * sizeof(float));
    if (!st->w_perm) return tta_op_error(ctx, TTA_ERR_NOMEM, "out of memory for permuted weights");
    return TTA_OK;
}

/* Builds the primitive for the current shapes and layouts. Leaves st->unusable set (and returns
 * TTA_OK) when oneDNN cannot do the node, so the caller falls back to C. */
static tta_status build(const tta_op_ctx *ctx, ddeconv_state *st, bool in_blk, bool out_blk) {
    const tta_tensor *x = ctx->in[0], *w = ctx->in[1], *y = ctx->out[0];
    bool bias = ctx->n_in > 2 && ctx->in[2];
    drop_primitive(st);
    st->built = true;
    st->key_nd = x->ndim;
    st->key_bias = bias;
    st->key_in_blk = in_blk;
    st->key_out_blk = out_blk;
    for (int i = 0; i < x->ndim; i++) {
        st->key_x[i] = x->dims[i];
        st->key_w[i] = w->dims[i];
    }
    int nd = x->ndim, ns = nd - 2;
    tta_nn_geom g;
    st->unusable = true;
    if (!deconv_geometry(st, x, w, &g) || x->dims[1] % st->group || w->dims[0] != x->dims[1] ||
        y->dims[1] != w->dims[1] * st->group)
        return TTA_OK;
    dnnl_dims_t strides, dil, pl, pr;
    for (int i = 0; i < ns; i++) {
        int64_t ek = (g.k[i] - 1) * g.d[i] + 1;
        /* Output positions follow from the begin pad alone; the end pad only has to pass
         * oneDNN's size condition (out - ek + pl + pr) / s + 1 == in with pads >= 0. */
        int64_t pe = g.pe[i] < 0 ? 0 : g.pe[i];
        if (g.pb[i] < 0 || g.out[i] != y->dims[2 + i] || (g.out[i] - ek + g.pb[i] + pe) / g.s[i] + 1 != g.in[i])
            return TTA_OK;
        strides[i] = g.s[i];
        dil[i] = g.d[i] - 1;
        pl[i] = g.pb[i];
        pr[i] = pe;
    }
    st->unusable = false;
    dnnl_memory_desc_t src_md, dst_md, src_any, dst_any, w_user, w_any, b_md;
    dnnl_status_t s = user_md(&src_md, x, in_blk);
    if (s == dnnl_success) s = user_md(&dst_md, y, out_blk);
    TTA_TRY(tta_dnnl_error(ctx, s, "memory descriptor"));
    if (ps_applies(st, &g, nd)) {
        TTA_TRY(build_ps(ctx, st, &src_md));
        if (st->ps) return TTA_OK;
        free_objects(st);
    }
    dnnl_dims_t xd, yd;
    for (int i = 0; i < nd; i++) {
        xd[i] = x->dims[i];
        yd[i] = y->dims[i];
    }
    s = weights_user_md(&w_user, w, st->group);
    if (s == dnnl_success)
        s = dnnl_memory_desc_init_by_tag(&w_any, w_user.ndims, w_user.dims, dnnl_f32, dnnl_format_tag_any);
    if (s == dnnl_success) s = tta_dnnl_plain_md(&b_md, 1, y->dims + 1);
    if (s == dnnl_success) s = dnnl_memory_desc_init_by_tag(&src_any, nd, xd, dnnl_f32, dnnl_format_tag_any);
    if (s == dnnl_success) s = dnnl_memory_desc_init_by_tag(&dst_any, nd, yd, dnnl_f32, dnnl_format_tag_any);
    dnnl_deconvolution_desc_t dd;
    if (s == dnnl_success)
        s = dnnl_dilated_deconvolution_forward_desc_init(&dd, dnnl_forward_inference, dnnl_deconvolution_direct,
                                                         &src_any, &w_any, bias ? &b_md : NULL, &dst_any, strides,
                                                         dil, pl, pr);
    if (s == dnnl_success) s = tta_dnnl_primitive(ctx, &dd, NULL, &st->pd, &st->prim);
    if (s == dnnl_unimplemented || s == dnnl_invalid_arguments) {
        st->unusable = true;
        return TTA_OK;
    }
    TTA_TRY(tta_dnnl_error(ctx, s, "deconvolution primitive creation"));
    return attach(ctx, st, &w_user, &src_md, &dst_md, bias, 0);
}

unsigned tta_dnnl_deconv_layouts(const tta_op_ctx *ctx) {
    ddeconv_state *st = ctx->state;
    if (!st || ctx->n_in < 2 || ctx->n_out < 1 || !dnnl_inputs_ok(ctx, 4)) return 0;
    /* Build the primitive (no buffers) for plain layouts to learn whether oneDNN takes the node;
     * the first run builds it whole for the layouts the plan then chooses. */
    st->probing = true;
    tta_status s = build(ctx, st, false, false);
    st->probing = false;
    bool usable = s == TTA_OK && !st->unusable;
    drop_primitive(st);
    return usable ? TTA_LAYOUT_IN(0) | TTA_LAYOUT_OUT_ANY | TTA_LAYOUT_PADDED : 0;
}

/* Y = Z scattered: Y[n, m, h*KH + a, w*KW + b] = Z[n, (a*KW + b)*M + m, h, w] + bias[m], with Z
 * in blocks of zb channels (zc channels with padding) and Y in blocks of yb (1: plain). */
static void ps_scatter(const float *z, float *y, const float *bias, const int64_t *ydims, int64_t kh, int64_t kw,
                       int64_t zb, int64_t zc, int64_t yb, int nt) {
    int64_t n = ydims[0], m = ydims[1], oh = ydims[2], ow = ydims[3], h = oh / kh, w = ow / kw, mb = (m + yb - 1) / yb;
#define ZROW(ni, o, hi) (z + ((((ni) * (zc / zb) + (o) / zb) * h + (hi)) * w) * zb + (o) % zb)
#pragma omp parallel for collapse(2) num_threads(nt) schedule(static)
    for (int64_t ni = 0; ni < n; ni++)
        for (int64_t mi = 0; mi < mb; mi++)
            for (int64_t hi = 0; hi < h; hi++)
                for (int64_t a = 0; a < kh; a++) {
                    float *yrow = y + ((ni * mb + mi) * oh + hi * kh + a) * ow * yb;
                    if (yb == 1) { /* plain Y: contiguous writes along the row */
                        float bv = bias ? bias[mi] : 0.0f;
                        for (int64_t b = 0; b < kw; b += 4) { /* up to 4 kernel columns per pass */
                            const float *zp[4];
                            int64_t nb = kw - b < 4 ? kw - b : 4;
                            for (int64_t j = 0; j < nb; j++) zp[j] = ZROW(ni, (a * kw + b + j) * m + mi, hi);
                            if (nb == 2 && kw == 2) {
                                for (int64_t wi = 0; wi < w; wi++) {
                                    yrow[2 * wi] = zp[0][wi * zb] + bv;
                                    yrow[2 * wi + 1] = zp[1][wi * zb] + bv;
                                }
                            } else {
                                for (int64_t wi = 0; wi < w; wi++)
                                    for (int64_t j = 0; j < nb; j++) yrow[wi * kw + b + j] = zp[j][wi * zb] + bv;
                            }
                        }
                        continue;
                    }
                    for (int64_t b = 0; b < kw; b++) {
                        int64_t o0 = (a * kw + b) * m + mi * yb;
                        if (zb == yb && m % yb == 0) { /* whole channel blocks */
                            const float *zp = ZROW(ni, o0, hi);
                            float bv[16];
                            for (int64_t j = 0; j < yb; j++) bv[j] = bias ? bias[mi * yb + j] : 0.0f;
                            for (int64_t wi = 0; wi < w; wi++)
                                for (int64_t j = 0; j < yb; j++) yrow[(wi * kw + b) * yb + j] = zp[wi * zb + j] + bv[j];
                            continue;
                        }
                        for (int64_t j = 0; j < yb; j++) {
                            if (mi * yb + j >= m) { /* padding channel of a padded blocked Y */
                                for (int64_t wi = 0; wi < w; wi++) yrow[(wi * kw + b) * yb + j] = 0.0f;
                                continue;
                            }
                            const float *zp = ZROW(ni, o0 + j, hi);
                            float bv = bias ? bias[mi * yb + j] : 0.0f;
                            for (int64_t wi = 0; wi < w; wi++) yrow[(wi * kw + b) * yb + j] = zp[wi * zb] + bv;
                        }
                    }
                }
#undef ZROW
}

/* W [C, M, K] -> [K*M][C] (the 1x1 convolution's weights). */
static void ps_permute(const float *w, float *wp, int64_t c, int64_t m, int64_t k) {
    for (int64_t ci = 0; ci < c; ci++)
        for (int64_t mi = 0; mi < m; mi++)
            for (int64_t ki = 0; ki < k; ki++) wp[(ki * m + mi) * c + ci] = w[(ci * m + mi) * k + ki];
}

tta_status tta_dnnl_deconv_compute(tta_op_ctx *ctx) {
    ddeconv_state *st = ctx->state;
    bool in_blk = tta_in_layout(ctx, 0) == TTA_LAYOUT_BLOCKED, out_blk = tta_out_layout(ctx, 0) == TTA_LAYOUT_BLOCKED;
    if (ctx->n_in < 2 || !ctx->in[0] || !ctx->in[1] || !dnnl_inputs_ok(ctx, -1)) return deconv_plain(ctx, in_blk, out_blk);
    const tta_tensor *x = ctx->in[0], *w = ctx->in[1], *b = ctx->n_in > 2 ? ctx->in[2] : NULL;
    tta_tensor *y = ctx->out[0];
    if (!same_key(st, x, w, b != NULL, in_blk, out_blk)) {
        tta_status bs = build(ctx, st, in_blk, out_blk);
        if (bs != TTA_OK) {
            drop_primitive(st); /* never run a half-built primitive */
            return bs;
        }
    }
    if (st->unusable) return deconv_plain(ctx, in_blk, out_blk);
    void *wdata = st->ps ? st->w_perm : w->data, *src = x->data, *dst = st->dst_buf ? st->dst_buf : y->data;
    bool w_fresh = !st->w_const || st->w_done != w->data;
    if (st->ps && w_fresh) ps_permute(w->data, st->w_perm, w->dims[0], w->dims[1], w->dims[2] * w->dims[3]);
    if (st->w_buf) {
        if (w_fresh) TTA_TRY(tta_dnnl_reo_run(ctx, &st->reo_w, st->stream, wdata, st->w_buf));
        wdata = st->w_buf;
    }
    st->w_done = w->data;
    if (st->src_buf) {
        TTA_TRY(tta_dnnl_reo_run(ctx, &st->reo_src, st->stream, x->data, st->src_buf));
        src = st->src_buf;
    }
    TTA_DNNL_TRY(ctx, dnnl_memory_set_data_handle(st->m_src, src), "set src");
    TTA_DNNL_TRY(ctx, dnnl_memory_set_data_handle(st->m_wei, wdata), "set weights");
    TTA_DNNL_TRY(ctx, dnnl_memory_set_data_handle(st->m_dst, dst), "set dst");
    dnnl_exec_arg_t args[4] = {{DNNL_ARG_SRC, st->m_src}, {DNNL_ARG_WEIGHTS, st->m_wei}, {DNNL_ARG_DST, st->m_dst}};
    int nargs = 3;
    if (b && !st->ps) {
        TTA_DNNL_TRY(ctx, dnnl_memory_set_data_handle(st->m_bias, b->data), "set bias");
        args[nargs++] = (dnnl_exec_arg_t){DNNL_ARG_BIAS, st->m_bias};
    }
    TTA_DNNL_TRY(ctx, dnnl_primitive_execute(st->prim, st->stream, nargs, args), st->ps ? "1x1 convolution" : "deconvolution");
    if (st->dst_buf && !st->ps) TTA_TRY(tta_dnnl_reo_run(ctx, &st->reo_dst, st->stream, st->dst_buf, y->data));
    TTA_DNNL_TRY(ctx, dnnl_stream_wait(st->stream), "stream wait");
    if (st->ps)
        ps_scatter(st->dst_buf, y->data, b ? b->data : NULL, y->dims, w->dims[2], w->dims[3], st->z_blk, st->z_chan,
                   out_blk ? tta_layout_block() : 1, ctx->n_threads > 0 ? ctx->n_threads : 1);
    return TTA_OK;
}
