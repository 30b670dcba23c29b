/* dnnl_conv.c - Conv (1-D, 2-D, 3-D; groups incl. depthwise, strides, pads, dilations,
 * auto_pad, optional bias) through oneDNN's convolution primitive, and FusedConv (domain
 * com.microsoft, as ONNX Runtime's fusion writes it: Conv, then an optional residual input Z
 * added, then an activation) with the sum and activation done as oneDNN post-ops.
 *
 * The primitive is built lazily on the first run for the concrete shapes and cached in the
 * state (rebuilt when the shapes change). src/dst are plain NCHW; the weights are reordered into
 * the primitive's preferred layout once when they are constant (known at prepare), every run
 * otherwise. Anything oneDNN cannot do (non-float32, rank > 5, a primitive oneDNN declines)
 * goes to the plain C Conv kernel, followed by Z and the activation in plain C.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "runtime/ops/conv_winograd.h"
#include "runtime/ops/dnnl_common.h"
#include "runtime/ops/nn.h"

/* 1: let the primitive choose the src/dst layouts (blocked, reordered from/to NCHW around each
 * call); 0: plain NCHW src/dst. */
#ifndef TTA_DNNL_CONV_ANY_IO
#define TTA_DNNL_CONV_ANY_IO 1
#endif

typedef enum conv_act { ACT_NONE, ACT_RELU, ACT_LEAKYRELU, ACT_TANH, ACT_SIGMOID, ACT_CLIP, ACT_HARDSIGMOID, ACT_HARDSWISH, ACT_SWISH } conv_act;

typedef struct dconv_state {
    tta_dnnl_fallback fb; /* the plain C Conv */
    tta_nn_window win;
    int64_t group;
    bool fused;           /* FusedConv: Z input (index 3) and activation */
    conv_act act;
    float act_a, act_b;
    bool w_const;         /* W was known at prepare: reorder it once */
    /* the cached primitive, for key (x dims, w dims, bias present) */
    bool built, unusable;
    int key_nd;
    int64_t key_x[TTA_MAX_DIMS], key_w[TTA_MAX_DIMS];
    bool key_bias;
    dnnl_primitive_desc_t pd;
    dnnl_primitive_t prim;
    dnnl_stream_t stream;
    dnnl_memory_t m_src, m_wei, m_bias, m_dst;
    dnnl_memory_desc_t w_user_md;
    dnnl_memory_desc_t dst_md; /* the primitive's (Z is copied into it whole, padding included) */
    bool w_reorder;
    void *w_buf;
    /* src/dst in the primitive's own layout when it differs from plain: reordered per run */
    tta_dnnl_reo reo_src, reo_dst, reo_z;
    void *src_buf, *dst_buf;
    const void *w_done; /* W data last reordered into w_buf (constant weights) */
    tta_wino *wino;     /* set: this node runs as a Winograd convolution instead (see winograd()) */
    float *wino_bias;   /* the bias padded to whole channel blocks, when the channels are padded */
    size_t held;        /* bytes of the buffers above counted against the plan's budget */
    bool probing;       /* build only the primitive, no buffers (layouts asks whether oneDNN takes it) */
} dconv_state;

static void drop_primitive(dconv_state *st) {
    tta_wino_free(st->wino);
    st->wino = NULL;
    tta_free(st->wino_bias);
    st->wino_bias = NULL;
    if (st->m_src) dnnl_memory_destroy(st->m_src);
    if (st->m_wei) dnnl_memory_destroy(st->m_wei);
    if (st->m_bias) dnnl_memory_destroy(st->m_bias);
    if (st->m_dst) dnnl_memory_destroy(st->m_dst);
    if (st->prim) dnnl_primitive_destroy(st->prim);
    if (st->pd) dnnl_primitive_desc_destroy(st->pd);
    tta_free(st->w_buf);
    tta_free(st->src_buf);
    tta_free(st->dst_buf);
    st->src_buf = st->dst_buf = NULL;
    tta_dnnl_reo_free(&st->reo_src);
    tta_dnnl_reo_free(&st->reo_dst);
    tta_dnnl_reo_free(&st->reo_z);
    st->m_src = st->m_wei = st->m_bias = st->m_dst = NULL;
    st->prim = NULL;
    st->pd = NULL;
    st->w_buf = NULL;
    st->w_done = NULL;
    st->built = st->unusable = st->w_reorder = false;
}

void tta_dnnl_conv_release(tta_op_ctx *ctx) {
    dconv_state *st = ctx->state;
    if (!st) return;
    drop_primitive(st);
    tta_dnnl_state_free(ctx, &st->fb, st->stream);
}

static tta_status parse_activation(tta_op_ctx *ctx, dconv_state *st) {
    const char *a = tta_attr_string(ctx->node, "activation", "");
    const float *p;
    int np = tta_attr_floats(ctx->node, "activation_params", &p);
    if (!a[0]) st->act = ACT_NONE;
    else if (!strcmp(a, "Relu")) st->act = ACT_RELU;
    else if (!strcmp(a, "Tanh")) st->act = ACT_TANH;
    else if (!strcmp(a, "Sigmoid")) st->act = ACT_SIGMOID;
    else if (!strcmp(a, "HardSwish")) st->act = ACT_HARDSWISH;
    else if (!strcmp(a, "Swish")) st->act = ACT_SWISH;
    else if (!strcmp(a, "LeakyRelu")) {
        st->act = ACT_LEAKYRELU;
        st->act_a = np > 0 ? p[0] : 0.01f;
    } else if (!strcmp(a, "Clip")) {
        st->act = ACT_CLIP;
        st->act_a = np > 0 ? p[0] : -INFINITY;
        st->act_b = np > 1 ? p[1] : INFINITY;
    } else if (!strcmp(a, "HardSigmoid")) {
        st->act = ACT_HARDSIGMOID;
        st->act_a = np > 0 ? p[0] : 0.2f;
        st->act_b = np > 1 ? p[1] : 0.5f;
    } else {
        return tta_op_error(ctx, TTA_ERR_ATTR, "unsupported activation '%s'", a);
    }
    return TTA_OK;
}

static bool act_known(const char *a) {
    static const char *const names[] = {"", "Relu", "Tanh", "Sigmoid", "HardSwish", "LeakyRelu", "Clip", "HardSigmoid", "Swish"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (!strcmp(a, names[i])) return true;
    return false;
}

bool tta_dnnl_fusedconv_accepts(const tta_node *node) {
    return act_known(tta_attr_string(node, "activation", ""));
}

tta_status tta_dnnl_conv_prepare(tta_op_ctx *ctx) {
    dconv_state *st = tta_calloc(1, sizeof *st);
    if (!st) return tta_op_error(ctx, TTA_ERR_NOMEM, "out of memory");
    ctx->state = st;
    st->fused = strcmp(ctx->node->op_type, "Conv") != 0;
    TTA_TRY(tta_dnnl_fallback_prepare(ctx, &st->fb, "Conv"));
    TTA_TRY(tta_nn_window_parse(ctx, &st->win));
    st->group = tta_attr_int(ctx->node, "group", 1);
    if (st->group < 1) return tta_op_error(ctx, TTA_ERR_ATTR, "group %lld must be >= 1", (long long)st->group);
    if (st->fused) TTA_TRY(parse_activation(ctx, st));
    st->w_const = ctx->n_in > 1 && ctx->in[1] && ctx->in[1]->data;
    return TTA_OK;
}

tta_status tta_dnnl_conv_infer(tta_op_ctx *ctx) {
    dconv_state *st = ctx->state;
    TTA_TRY(tta_dnnl_fallback_infer(ctx, &st->fb));
    const tta_tensor *z = st->fused && ctx->n_in > 3 ? ctx->in[3] : NULL;
    if (z) {
        const tta_tensor *y = ctx->out[0];
        bool same = z->dtype == y->dtype && z->ndim == y->ndim;
        for (int i = 0; same && i < z->ndim; i++) same = z->dims[i] == y->dims[i];
        if (!same) {
            char sz[128], sy[128];
            return tta_op_error(ctx, TTA_ERR_SHAPE, "Z %s must have the shape and dtype of Y %s",
                                tta_shape_str(z, sz, sizeof sz), tta_shape_str(y, sy, sizeof sy));
        }
    }
    return TTA_OK;
}

/* ---- plain C path: the C Conv, then Z and the activation */

static double act_apply(const dconv_state *st, double v) {
    switch (st->act) {
    case ACT_RELU: return v > 0 ? v : 0;
    case ACT_LEAKYRELU: return v >= 0 ? v : st->act_a * v;
    case ACT_TANH: return tanh(v);
    case ACT_SIGMOID: return 1.0 / (1.0 + exp(-v));
    case ACT_CLIP: return v < st->act_a ? st->act_a : v > st->act_b ? st->act_b : v;
    case ACT_HARDSIGMOID: {
        double h = st->act_a * v + st->act_b;
        return h < 0 ? 0 : h > 1 ? 1 : h;
    }
    case ACT_HARDSWISH: {
        double h = v / 6.0 + 0.5;
        return v * (h < 0 ? 0 : h > 1 ? 1 : h);
    }
    case ACT_SWISH: return v / (1.0 + exp(-v));
    default: return v;
    }
}

static tta_status conv_plain(tta_op_ctx *ctx) {
    dconv_state *st = ctx->state;
    if (tta_in_layout(ctx, 0) || tta_out_layout(ctx, 0) || (ctx->n_in > 3 && tta_in_layout(ctx, 3)))
        return tta_op_error(ctx, TTA_ERR_INTERNAL, "the plain C Conv cannot take blocked tensors");
    TTA_TRY(tta_dnnl_fallback_compute(ctx, &st->fb));
    if (!st->fused) return TTA_OK;
    tta_tensor *y = ctx->out[0];
    const tta_tensor *z = ctx->n_in > 3 ? ctx->in[3] : NULL;
    int64_t n = tta_tensor_numel(y);
    for (int64_t i = 0; i < n; i++) {
        double v = tta_get_f64(y, i);
        if (z) v += tta_get_f64(z, i);
        tta_set_f64(y, i, act_apply(st, v));
    }
    return TTA_OK;
}

/* ---- oneDNN path */

static bool same_key(const dconv_state *st, const tta_tensor *x, const tta_tensor *w, bool bias) {
    if (!st->built || st->key_nd != x->ndim || st->key_bias != bias) return false;
    for (int i = 0; i < x->ndim; i++)
        if (st->key_x[i] != x->dims[i] || st->key_w[i] != w->dims[i]) return false;
    return true;
}

static dnnl_status_t append_act(dnnl_post_ops_t po, const dconv_state *st) {
    switch (st->act) {
    case ACT_RELU: return dnnl_post_ops_append_eltwise(po, 1.0f, dnnl_eltwise_relu, 0.0f, 0.0f);
    case ACT_LEAKYRELU: return dnnl_post_ops_append_eltwise(po, 1.0f, dnnl_eltwise_relu, st->act_a, 0.0f);
    case ACT_TANH: return dnnl_post_ops_append_eltwise(po, 1.0f, dnnl_eltwise_tanh, 0.0f, 0.0f);
    case ACT_SIGMOID: return dnnl_post_ops_append_eltwise(po, 1.0f, dnnl_eltwise_logistic, 0.0f, 0.0f);
    case ACT_CLIP: return dnnl_post_ops_append_eltwise(po, 1.0f, dnnl_eltwise_clip, st->act_a, st->act_b);
    case ACT_HARDSWISH: return dnnl_post_ops_append_eltwise(po, 1.0f, dnnl_eltwise_hardswish, 0.0f, 0.0f);
    case ACT_SWISH: return dnnl_post_ops_append_eltwise(po, 1.0f, dnnl_eltwise_swish, 1.0f, 0.0f);
    case ACT_HARDSIGMOID: {
        dnnl_status_t s = dnnl_post_ops_append_eltwise(po, 1.0f, dnnl_eltwise_linear, st->act_a, st->act_b);
        return s != dnnl_success ? s : dnnl_post_ops_append_eltwise(po, 1.0f, dnnl_eltwise_clip, 0.0f, 1.0f);
    }
    default: return dnnl_success;
    }
}

/* 3x3 stride-1 convolutions between blocked tensors whose channels fill the blocks, with
 * constant weights, run as Winograd F(4x4,3x3) (conv_winograd.c): oneDNN 2.6 has Winograd only
 * for AVX-512, and its direct AVX2 kernel measured about 2x slower on these (e.g. 32->32 channels
 * at 28x28, batch 64: 4.97 vs 2.11 ms). The plan option no_winograd keeps oneDNN (for comparisons). */
static tta_status winograd(tta_op_ctx *ctx, dconv_state *st, const tta_nn_geom *g) {
    static const tta_wino_act acts[] = {
        [ACT_NONE] = TTA_WINO_NONE,           [ACT_RELU] = TTA_WINO_RELU,       [ACT_LEAKYRELU] = TTA_WINO_LEAKYRELU,
        [ACT_TANH] = TTA_WINO_TANH,           [ACT_SIGMOID] = TTA_WINO_SIGMOID, [ACT_CLIP] = TTA_WINO_CLIP,
        [ACT_HARDSIGMOID] = TTA_WINO_HARDSIGMOID, [ACT_HARDSWISH] = TTA_WINO_HARDSWISH, [ACT_SWISH] = TTA_WINO_SWISH,
    };
    const tta_tensor *x = ctx->in[0], *w = ctx->in[1];
    bool sum = st->fused && ctx->n_in > 3 && ctx->in[3];
    int64_t B = tta_layout_block();
    if ((ctx->flags & TTA_OP_NO_WINOGRAD) || x->ndim != 4 || st->group != 1 || !st->w_const || w->dims[2] != 3 ||
        w->dims[3] != 3 || g->s[0] != 1 || g->s[1] != 1 || g->d[0] != 1 || g->d[1] != 1 ||
        tta_in_layout(ctx, 0) != TTA_LAYOUT_BLOCKED || tta_out_layout(ctx, 0) != TTA_LAYOUT_BLOCKED ||
        (sum && tta_in_layout(ctx, 3) != TTA_LAYOUT_BLOCKED))
        return TTA_OK;
    /* Channels that do not fill the blocks (padded tensors): the weights and bias are padded with
     * zeros, so the padding input channels contribute nothing and the padding output channels
     * hold act(0 + z's padding). */
    int64_t icp = (x->dims[1] + B - 1) / B * B, ocp = (w->dims[0] + B - 1) / B * B;
    tta_wino_params wp = {.n = x->dims[0], .ic = icp, .oc = ocp, .h = x->dims[2], .w = x->dims[3],
                          .pad_t = g->pb[0], .pad_l = g->pb[1], .pad_b = g->pe[0], .pad_r = g->pe[1],
                          .act = acts[st->act], .act_a = st->act_a, .act_b = st->act_b,
                          .n_threads = ctx->n_threads > 0 ? ctx->n_threads : 1};
    if (g->pb[0] > 2 || g->pb[1] > 2 || g->pe[0] > 2 || g->pe[1] > 2 || !tta_wino_worth(&wp)) return TTA_OK;
    const float *wdata = w->data;
    float *wpad = NULL;
    if (icp != x->dims[1] || ocp != w->dims[0]) {
        int64_t ic = x->dims[1], oc = w->dims[0];
        wpad = tta_calloc((size_t)(icp * ocp * 9), sizeof(float));
        st->wino_bias = tta_calloc((size_t)ocp, sizeof(float));
        if (!wpad || !st->wino_bias) {
            tta_free(wpad);
            return tta_op_error(ctx, TTA_ERR_NOMEM, "out of memory for the Winograd convolution");
        }
        for (int64_t o = 0; o < oc; o++) memcpy(wpad + o * icp * 9, wdata + o * ic * 9, (size_t)(ic * 9) * sizeof(float));
        wdata = wpad;
    }
    tta_status s = tta_wino_create(&wp, wdata, &st->wino);
    tta_free(wpad);
    if (s == TTA_ERR_NOMEM) return tta_op_error(ctx, s, "out of memory for the Winograd convolution");
    if (st->wino) {
        size_t bytes = tta_wino_bytes(st->wino) + (st->wino_bias ? (size_t)ocp * sizeof(float) : 0);
        TTA_TRY(tta_op_reserve(ctx, &st->held, bytes, "the Winograd convolution's weights and scratch"));
    }
    return TTA_OK;
}

/* The src/dst layouts a convolution asks oneDNN for, in order of preference. A blocked tensor is
 * best given as it is: with `any`, oneDNN 2.6 on AVX-512 picks its brgemm kernels, which want NHWC,
 * and every convolution converts its input and output (at batch 1 each conversion costs a thread
 * synchronisation; bench/README.md). A plain input feeding a
 * blocked output (the first convolution) is tried as it is too. But oneDNN's direct kernels do
 * not take every shape in the blocked layout (some padded shapes get only the reference kernel),
 * so choices with `any` (and reorders) follow:
 *   0: plain src as it is when dst is blocked, blocked as they are, plain dst `any`;
 *   1: blocked as they are, plain `any`;   2: everything `any` (oneDNN decides). */
#define IO_CHOICES 3
static bool io_choice(const tta_op_ctx *ctx, int choice, bool *any_src, bool *any_dst) {
    bool in_b = tta_in_layout(ctx, 0) == TTA_LAYOUT_BLOCKED, out_b = tta_out_layout(ctx, 0) == TTA_LAYOUT_BLOCKED;
    if (!TTA_DNNL_CONV_ANY_IO) {
        *any_src = *any_dst = false;
        return choice == 0;
    }
    switch (choice) {
    case 0: *any_src = !in_b && !out_b, *any_dst = !out_b; return !in_b && out_b;
    case 1: *any_src = !in_b, *any_dst = !out_b; return in_b || out_b;
    default: *any_src = *any_dst = true; return true;
    }
}

/* Builds the primitive for the current shapes. Leaves st->unusable set (and returns TTA_OK)
 * when oneDNN has no implementation, so the caller falls back to C. */
static tta_status build(tta_op_ctx *ctx, dconv_state *st) {
    const tta_tensor *x = ctx->in[0], *w = ctx->in[1], *y = ctx->out[0];
    bool bias = ctx->n_in > 2 && ctx->in[2];
    bool sum = st->fused && ctx->n_in > 3 && ctx->in[3];
    drop_primitive(st);
    st->built = true;
    st->key_nd = x->ndim;
    st->key_bias = bias;
    for (int i = 0; i < x->ndim; i++) {
        st->key_x[i] = x->dims[i];
        st->key_w[i] = w->dims[i];
    }
    int nd = x->ndim, ns = nd - 2;
    tta_nn_geom g;
    TTA_TRY(tta_nn_window_resolve(ctx, &st->win, ns, x->dims + 2, w->dims + 2, false, &g));
    TTA_TRY(winograd(ctx, st, &g));
    if (st->wino) return TTA_OK;
    dnnl_dims_t strides, dil, pl, pr;
    for (int i = 0; i < ns; i++) {
        strides[i] = g.s[i];
        dil[i] = g.d[i] - 1;
        pl[i] = g.pb[i];
        pr[i] = g.pe[i];
    }
    int64_t wdims[TTA_MAX_DIMS + 1];
    int wnd = nd;
    if (st->group > 1) {
        wnd = nd + 1;
        wdims[0] = st->group;
        wdims[1] = w->dims[0] / st->group;
        for (int i = 1; i < nd; i++) wdims[i + 1] = w->dims[i];
    } else {
        for (int i = 0; i < nd; i++) wdims[i] = w->dims[i];
    }
    dnnl_memory_desc_t src_md, dst_md, w_any, b_md, src_any, dst_any;
    dnnl_dims_t wd;
    for (int i = 0; i < wnd; i++) wd[i] = wdims[i];
    dnnl_memory_desc_t z_md;
    dnnl_status_t s = tta_dnnl_layout_md(&src_md, nd, x->dims, tta_in_layout(ctx, 0));
    if (s == dnnl_success) s = tta_dnnl_layout_md(&dst_md, nd, y->dims, tta_out_layout(ctx, 0));
    if (s == dnnl_success && sum) s = tta_dnnl_layout_md(&z_md, nd, y->dims, tta_in_layout(ctx, 3));
    if (s == dnnl_success) s = tta_dnnl_plain_md(&st->w_user_md, wnd, wdims);
    if (s == dnnl_success) s = dnnl_memory_desc_init_by_tag(&w_any, wnd, wd, dnnl_f32, dnnl_format_tag_any);
    if (s == dnnl_success) s = tta_dnnl_plain_md(&b_md, 1, w->dims);
    dnnl_dims_t xd, yd;
    for (int i = 0; i < nd; i++) {
        xd[i] = x->dims[i];
        yd[i] = y->dims[i];
    }
    if (s == dnnl_success) s = dnnl_memory_desc_init_by_tag(&src_any, nd, xd, dnnl_f32, dnnl_format_tag_any);
    if (s == dnnl_success) s = dnnl_memory_desc_init_by_tag(&dst_any, nd, yd, dnnl_f32, dnnl_format_tag_any);
    dnnl_primitive_attr_t attr = NULL;
    dnnl_post_ops_t po = NULL;
    if (s == dnnl_success && (sum || st->act != ACT_NONE)) {
        s = dnnl_primitive_attr_create(&attr);
        if (s == dnnl_success) s = dnnl_post_ops_create(&po);
        if (s == dnnl_success && sum) s = dnnl_post_ops_append_sum(po, 1.0f);
        if (s == dnnl_success) s = append_act(po, st);
        if (s == dnnl_success) s = dnnl_primitive_attr_set_post_ops(attr, po);
    }
    /* Which src/dst layouts to ask for, first choice first (see io_choice); the first that gets a
     * real (non-reference) implementation wins, else the last that got any. */
    dnnl_status_t last = dnnl_unimplemented;
    for (int choice = 0; s == dnnl_success && choice < IO_CHOICES; choice++) {
        bool any_src, any_dst;
        if (!io_choice(ctx, choice, &any_src, &any_dst)) continue;
        dnnl_convolution_desc_t cd;
        dnnl_primitive_desc_t pd;
        dnnl_primitive_t prim;
        dnnl_status_t c = dnnl_dilated_convolution_forward_desc_init(
            &cd, dnnl_forward_inference, dnnl_convolution_direct, any_src ? &src_any : &src_md, &w_any,
            bias ? &b_md : NULL, any_dst ? &dst_any : &dst_md, strides, dil, pl, pr);
        if (c == dnnl_success) c = tta_dnnl_primitive(ctx, &cd, attr, &pd, &prim);
        if (c != dnnl_success) {
            if (c != dnnl_unimplemented && c != dnnl_invalid_arguments && !st->pd) last = c; /* a real failure */
            continue;
        }
        if (st->pd) {
            dnnl_primitive_destroy(st->prim);
            dnnl_primitive_desc_destroy(st->pd);
        }
        st->pd = pd;
        st->prim = prim;
        last = dnnl_success;
        const char *impl = "";
        dnnl_primitive_desc_query(pd, dnnl_query_impl_info_str, 0, &impl);
        if (strncmp(impl, "ref", 3)) break;
    }
    if (s == dnnl_success) s = last;
    if (po) dnnl_post_ops_destroy(po);
    if (attr) dnnl_primitive_attr_destroy(attr);
    if (s == dnnl_unimplemented || s == dnnl_invalid_arguments) {
        st->unusable = true;
        return TTA_OK;
    }
    TTA_TRY(tta_dnnl_error(ctx, s, "convolution primitive creation"));
    if (st->probing) return TTA_OK;
    const dnnl_memory_desc_t *w_md = dnnl_primitive_desc_query_md(st->pd, dnnl_query_weights_md, 0);
    const dnnl_memory_desc_t *p_src = dnnl_primitive_desc_query_md(st->pd, dnnl_query_src_md, 0);
    const dnnl_memory_desc_t *p_dst = dnnl_primitive_desc_query_md(st->pd, dnnl_query_dst_md, 0);
    st->w_reorder = !dnnl_memory_desc_equal(w_md, &st->w_user_md);
    bool src_reorder = !dnnl_memory_desc_equal(p_src, &src_md), dst_reorder = !dnnl_memory_desc_equal(p_dst, &dst_md);
    size_t bytes = tta_dnnl_scratchpad_bytes(st->pd) + (st->w_reorder ? dnnl_memory_desc_get_size(w_md) + 64 : 0) +
                   (src_reorder ? dnnl_memory_desc_get_size(p_src) + 64 : 0) +
                   (dst_reorder ? dnnl_memory_desc_get_size(p_dst) + 64 : 0);
    TTA_TRY(tta_op_reserve(ctx, &st->held, bytes, "the convolution's reordered weights, layouts and scratchpad"));
    if (st->w_reorder) {
        st->w_buf = tta_malloc(dnnl_memory_desc_get_size(w_md) + 64);
        if (!st->w_buf) return tta_op_error(ctx, TTA_ERR_NOMEM, "out of memory for reordered weights");
    }
    if (!st->stream) TTA_TRY(tta_dnnl_stream_new(ctx, &st->stream));
    st->dst_md = *p_dst;
    if (src_reorder) {
        TTA_TRY(tta_dnnl_reo_init(ctx, &st->reo_src, &src_md, p_src));
        st->src_buf = tta_malloc(dnnl_memory_desc_get_size(p_src) + 64);
        if (!st->src_buf) return tta_op_error(ctx, TTA_ERR_NOMEM, "out of memory for the blocked input");
    }
    if (sum && !dnnl_memory_desc_equal(p_dst, &z_md)) TTA_TRY(tta_dnnl_reo_init(ctx, &st->reo_z, &z_md, p_dst));
    if (dst_reorder) {
        TTA_TRY(tta_dnnl_reo_init(ctx, &st->reo_dst, p_dst, &dst_md));
        st->dst_buf = tta_malloc(dnnl_memory_desc_get_size(p_dst) + 64);
        if (!st->dst_buf) return tta_op_error(ctx, TTA_ERR_NOMEM, "out of memory for the blocked output");
    }
    TTA_TRY(tta_dnnl_memory(ctx, p_src, &st->m_src));
    TTA_TRY(tta_dnnl_memory(ctx, w_md, &st->m_wei));
    TTA_TRY(tta_dnnl_memory(ctx, p_dst, &st->m_dst));
    if (bias) TTA_TRY(tta_dnnl_memory(ctx, dnnl_primitive_desc_query_md(st->pd, dnnl_query_weights_md, 1), &st->m_bias));
    return TTA_OK;
}

tta_status tta_dnnl_conv_compute(tta_op_ctx *ctx) {
    dconv_state *st = ctx->state;
    const tta_tensor *x = ctx->in[0], *w = ctx->in[1], *b = ctx->n_in > 2 ? ctx->in[2] : NULL;
    const tta_tensor *z = st->fused && ctx->n_in > 3 ? ctx->in[3] : NULL;
    tta_tensor *y = ctx->out[0];
    bool ok = tta_dnnl_is_f32(x, -1) && x->ndim >= 3 && x->ndim <= 5 && tta_dnnl_is_f32(w, x->ndim) &&
              (!b || tta_dnnl_is_f32(b, 1)) && (!z || tta_dnnl_is_f32(z, -1)) && tta_tensor_numel(y) > 0 &&
              tta_tensor_numel(x) > 0 && tta_tensor_numel(w) > 0;
    if (!ok) return conv_plain(ctx);
    if (!same_key(st, x, w, b != NULL)) TTA_TRY(build(ctx, st));
    if (st->unusable) return conv_plain(ctx);
    if (st->wino) {
        const float *bias = b ? b->data : NULL;
        if (b && st->wino_bias) { /* padded channels: the bias into its zero-padded copy */
            memcpy(st->wino_bias, b->data, (size_t)b->dims[0] * sizeof(float));
            bias = st->wino_bias;
        }
        tta_status s = tta_wino_run(st->wino, x->data, bias, z ? z->data : NULL, y->data);
        return s ? tta_op_error(ctx, s, "Winograd convolution failed: %s", tta_last_error()) : TTA_OK;
    }
    void *wdata = w->data;
    if (st->w_reorder) {
        if (!st->w_const || st->w_done != w->data) {
            TTA_TRY(tta_dnnl_reorder(ctx, &st->w_user_md, w->data,
                                     dnnl_primitive_desc_query_md(st->pd, dnnl_query_weights_md, 0), st->w_buf));
            st->w_done = w->data;
        }
        wdata = st->w_buf;
    }
    void *src = x->data, *dst = y->data;
    if (st->src_buf) {
        TTA_TRY(tta_dnnl_reo_run(ctx, &st->reo_src, st->stream, x->data, st->src_buf));
        src = st->src_buf;
    }
    if (st->dst_buf) dst = st->dst_buf;
    if (z && st->reo_z.prim) TTA_TRY(tta_dnnl_reo_run(ctx, &st->reo_z, st->stream, z->data, dst));
    else if (z && z->data != dst) memcpy(dst, z->data, dnnl_memory_desc_get_size(&st->dst_md));
    TTA_DNNL_TRY(ctx, dnnl_memory_set_data_handle(st->m_src, src), "set src");
    TTA_DNNL_TRY(ctx, dnnl_memory_set_data_handle(st->m_wei, wdata), "set weights");
    TTA_DNNL_TRY(ctx, dnnl_memory_set_data_handle(st->m_dst, dst), "set dst");
    dnnl_exec_arg_t args[4] = {{DNNL_ARG_SRC, st->m_src}, {DNNL_ARG_WEIGHTS, st->m_wei}, {DNNL_ARG_DST, st->m_dst}};
    int nargs = 3;
    if (b) {
        TTA_DNNL_TRY(ctx, dnnl_memory_set_data_handle(st->m_bias, b->data), "set bias");
        args[nargs++] = (dnnl_exec_arg_t){DNNL_ARG_BIAS, st->m_bias};
    }
    TTA_DNNL_TRY(ctx, dnnl_primitive_execute(st->prim, st->stream, nargs, args), "convolution");
    if (st->dst_buf) TTA_TRY(tta_dnnl_reo_run(ctx, &st->reo_dst, st->stream, st->dst_buf, y->data));
    TTA_DNNL_TRY(ctx, dnnl_stream_wait(st->stream), "stream wait");
    return TTA_OK;
}


/* Plan time: blocked src, Z and dst when oneDNN has a primitive for this node (tried here, then
 * dropped so that the first run builds it for the layouts the plan chose). */
unsigned tta_dnnl_conv_layouts(const tta_op_ctx *cctx) {
    tta_op_ctx *ctx = (tta_op_ctx *)cctx;
    dconv_state *st = ctx->state;
    const tta_tensor *x = ctx->in[0], *w = ctx->n_in > 1 ? ctx->in[1] : NULL, *b = ctx->n_in > 2 ? ctx->in[2] : NULL;
    const tta_tensor *z = st->fused && ctx->n_in > 3 ? ctx->in[3] : NULL;
    if (!tta_dnnl_is_f32(x, 4) || !tta_dnnl_is_f32(w, 4) || (b && !tta_dnnl_is_f32(b, 1)) ||
        (z && !tta_dnnl_is_f32(z, 4)) || tta_tensor_numel(x) == 0 || tta_tensor_numel(w) == 0 ||
        tta_tensor_numel(ctx->out[0]) == 0)
        return 0;
    st->probing = true;
    tta_status s = build(ctx, st);
    st->probing = false;
    bool usable = s == TTA_OK && !st->unusable;
    drop_primitive(st);
    if (!usable) return 0;
    /* Z may be Y's own buffer when the layouts match: then Z is not copied (see compute) */
    return TTA_LAYOUT_IN(0) | TTA_LAYOUT_OUT_ANY | TTA_LAYOUT_PADDED | (z ? TTA_LAYOUT_IN(3) | TTA_SUM_IN_PLACE : 0);
}
