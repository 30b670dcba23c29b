/* dnnl_pool.c - MaxPool and AveragePool (1-D, 2-D, 3-D; strides, pads, dilations, auto_pad,
 * ceil_mode, count_include_pad), GlobalAveragePool and GlobalMaxPool through oneDNN's pooling_v2
 * primitive, on plain NCHW tensors or channel-blocked ones (the plan's layouts: the output is
 * blocked when the input is; a global pool's [N,C,1,1] output is the same bytes either way).
 *
 * Blocked MaxPool/AveragePool run the C kernel's blocked loop instead, which was measured faster
 * than oneDNN 2.6's JIT pooling (bench/README.md, "Measured choices"). On plain tensors oneDNN is
 * used when it has a JIT kernel (its reference kernels are slower than the C one).
 *
 * MaxPool with the Indices output is declined in accepts (the C kernel does it). ceil_mode is
 * expressed as extra end padding, which oneDNN's max and exclude-padding average ignore as
 * ONNX does; an include-padding average whose windows reach past the explicit pads goes to the
 * C kernel, as do non-float32 tensors and anything oneDNN declines. The primitive is built on
 * the first run for the concrete shape and cached. */
#include <string.h>

#include "core/alloc.h"
#include "runtime/ops/dnnl_common.h"
#include "runtime/ops/nn.h"

typedef struct dpool_state {
    tta_dnnl_fallback fb; /* the plain C pool kernel */
    tta_nn_window win;
    bool is_max, ceil_mode, include_pad, is_global;
    bool built, unusable;
    int key_nd;
    int64_t key_x[TTA_MAX_DIMS];
    dnnl_primitive_desc_t pd;
    dnnl_primitive_t prim;
    dnnl_stream_t stream;
    dnnl_memory_t m_src, m_dst, m_ws;
    void *ws_buf;
    size_t held; /* bytes of the workspace and scratchpad counted against the plan's budget */
} dpool_state;

static void drop_primitive(dpool_state *st) {
    if (st->m_src) dnnl_memory_destroy(st->m_src);
    if (st->m_dst) dnnl_memory_destroy(st->m_dst);
    if (st->m_ws) dnnl_memory_destroy(st->m_ws);
    if (st->prim) dnnl_primitive_destroy(st->prim);
    if (st->pd) dnnl_primitive_desc_destroy(st->pd);
    tta_free(st->ws_buf);
    st->m_src = st->m_dst = st->m_ws = NULL;
    st->prim = NULL;
    st->pd = NULL;
    st->ws_buf = NULL;
    st->built = st->unusable = false;
}

void tta_dnnl_pool_release(tta_op_ctx *ctx) {
    dpool_state *st = ctx->state;
    if (!st) return;
    drop_primitive(st);
    tta_dnnl_state_free(ctx, &st->fb, st->stream);
}

bool tta_dnnl_pool_accepts(const tta_node *node) {
    /* MaxPool's optional second output (Indices) is left to the C kernel. */
    return !(node->n_outputs > 1 && node->outputs[1] >= 0);
}

tta_status tta_dnnl_pool_prepare(tta_op_ctx *ctx) {
    dpool_state *st = tta_calloc(1, sizeof *st);
    if (!st) return tta_op_error(ctx, TTA_ERR_NOMEM, "out of memory");
    ctx->state = st;
    TTA_TRY(tta_dnnl_fallback_prepare(ctx, &st->fb, ctx->node->op_type));
    TTA_TRY(tta_nn_window_parse(ctx, &st->win));
    st->is_max = !strcmp(ctx->node->op_type, "MaxPool");
    st->ceil_mode = tta_attr_int(ctx->node, "ceil_mode", 0) != 0;
    st->include_pad = tta_attr_int(ctx->node, "count_include_pad", 0) != 0;
    return TTA_OK;
}

tta_status tta_dnnl_global_pool_prepare(tta_op_ctx *ctx) {
    dpool_state *st = tta_calloc(1, sizeof *st);
    if (!st) return tta_op_error(ctx, TTA_ERR_NOMEM, "out of memory");
    ctx->state = st;
    TTA_TRY(tta_dnnl_fallback_prepare(ctx, &st->fb, ctx->node->op_type));
    st->is_global = true;
    st->is_max = !strcmp(ctx->node->op_type, "GlobalMaxPool");
    return TTA_OK;
}

tta_status tta_dnnl_pool_infer(tta_op_ctx *ctx) {
    dpool_state *st = ctx->state;
    return tta_dnnl_fallback_infer(ctx, &st->fb);
}

static tta_status build_primitive(tta_op_ctx *ctx, dpool_state *st, dnnl_dims_t strides, dnnl_dims_t kernel,
                                  dnnl_dims_t dil, dnnl_dims_t pl, dnnl_dims_t pr);

static tta_status build(tta_op_ctx *ctx, dpool_state *st) {
    const tta_tensor *x = ctx->in[0], *y = ctx->out[0];
    drop_primitive(st);
    st->built = true;
    st->key_nd = x->ndim;
    memcpy(st->key_x, x->dims, sizeof st->key_x);
    int nd = x->ndim, ns = nd - 2;
    dnnl_dims_t strides, kernel, dil, pl, pr;
    if (st->is_global) {
        for (int i = 0; i < ns; i++) {
            strides[i] = 1;
            kernel[i] = x->dims[2 + i];
            dil[i] = pl[i] = pr[i] = 0;
        }
        return build_primitive(ctx, st, strides, kernel, dil, pl, pr);
    }
    if (st->win.n_kernel != ns) {
        st->unusable = true;
        return TTA_OK;
    }
    tta_nn_geom g;
    TTA_TRY(tta_nn_window_resolve(ctx, &st->win, ns, x->dims + 2, st->win.kernel, st->ceil_mode, &g));
    for (int i = 0; i < ns; i++) {
        if (g.out[i] != y->dims[2 + i]) {
            st->unusable = true;
            return TTA_OK;
        }
        int64_t ext = (g.k[i] - 1) * g.d[i] + 1, end = (g.out[i] - 1) * g.s[i] + ext - x->dims[2 + i] - g.pb[i];
        strides[i] = g.s[i];
        kernel[i] = g.k[i];
        dil[i] = g.d[i] - 1;
        pl[i] = g.pb[i];
        pr[i] = end > g.pe[i] ? end : g.pe[i];
        /* windows past the explicit pads: ONNX does not count them in an include-pad average */
        if (end > g.pe[i] && !st->is_max && st->include_pad) {
            st->unusable = true;
            return TTA_OK;
        }
    }
    return build_primitive(ctx, st, strides, kernel, dil, pl, pr);
}

static tta_status build_primitive(tta_op_ctx *ctx, dpool_state *st, dnnl_dims_t strides, dnnl_dims_t kernel,
                                  dnnl_dims_t dil, dnnl_dims_t pl, dnnl_dims_t pr) {
    const tta_tensor *x = ctx->in[0], *y = ctx->out[0];
    int nd = x->ndim;
    /* an output of one pixel per channel is the same bytes in both layouts when the channels fill
     * the blocks (padded inputs are never given here, see tta_dnnl_pool_layouts): describe it as
     * the input is */
    int in_layout = tta_in_layout(ctx, 0), out_layout = tta_out_layout(ctx, 0);
    if (nd == 4 && y->dims[2] * y->dims[3] == 1 && x->dims[1] % tta_layout_block() == 0) out_layout = in_layout;
    dnnl_memory_desc_t src_md, dst_md;
    dnnl_status_t s = tta_dnnl_layout_md(&src_md, nd, x->dims, in_layout);
    if (s == dnnl_success) s = tta_dnnl_layout_md(&dst_md, nd, y->dims, out_layout);
    dnnl_alg_kind_t alg = st->is_max ? dnnl_pooling_max
                          : st->include_pad ? dnnl_pooling_avg_include_padding
                                            : dnnl_pooling_avg_exclude_padding;
    dnnl_pooling_v2_desc_t pdsc;
    if (s == dnnl_success)
        s = dnnl_pooling_v2_forward_desc_init(&pdsc, dnnl_forward_inference, alg, &src_md, &dst_md, strides, kernel, dil,
                                              pl, pr);
    if (s == dnnl_success) s = tta_dnnl_primitive(ctx, &pdsc, NULL, &st->pd, &st->prim);
    if (s == dnnl_unimplemented || s == dnnl_invalid_arguments) {
        st->unusable = true;
        return TTA_OK;
    }
    TTA_TRY(tta_dnnl_error(ctx, s, "pooling primitive creation"));
    /* On plain NCHW, oneDNN 2.6 has only reference pooling for most shapes, slower than the C
     * kernel's 2-D loop: take the C kernel then (the blocked layouts get a JIT kernel). */
    const char *impl = NULL;
    if (in_layout == TTA_LAYOUT_PLAIN && x->ndim <= 4 &&
        dnnl_primitive_desc_query(st->pd, dnnl_query_impl_info_str, 0, &impl) == dnnl_success && impl &&
        (!strncmp(impl, "simple", 6) || !strncmp(impl, "ref", 3))) {
        st->unusable = true;
        return TTA_OK;
    }
    if (!st->stream) TTA_TRY(tta_dnnl_stream_new(ctx, &st->stream));
    TTA_TRY(tta_dnnl_memory(ctx, dnnl_primitive_desc_query_md(st->pd, dnnl_query_src_md, 0), &st->m_src));
    TTA_TRY(tta_dnnl_memory(ctx, dnnl_primitive_desc_query_md(st->pd, dnnl_query_dst_md, 0), &st->m_dst));
    const dnnl_memory_desc_t *ws = dnnl_primitive_desc_query_md(st->pd, dnnl_query_workspace_md, 0);
    size_t bytes = tta_dnnl_scratchpad_bytes(st->pd) + (ws ? dnnl_memory_desc_get_size(ws) : 0);
    TTA_TRY(tta_op_reserve(ctx, &st->held, bytes, "the pooling's workspace and scratchpad"));
    if (ws && dnnl_memory_desc_get_size(ws) > 0) {
        st->ws_buf = tta_malloc(dnnl_memory_desc_get_size(ws));
        if (!st->ws_buf) return tta_op_error(ctx, TTA_ERR_NOMEM, "out of memory for the pooling workspace");
        TTA_TRY(tta_dnnl_memory(ctx, ws, &st->m_ws));
        TTA_DNNL_TRY(ctx, dnnl_memory_set_data_handle(st->m_ws, st->ws_buf), "set workspace");
    }
    return TTA_OK;
}

/* What the C kernel can take blocked (its `layouts`, with its own state). */
static unsigned c_layouts(const tta_op_ctx *ctx, const dpool_state *st) {
    if (!st->fb.ck->layouts) return 0;
    tta_op_ctx c = *ctx;
    c.state = st->fb.cstate;
    return st->fb.ck->layouts(&c);
}

static tta_status fallback(tta_op_ctx *ctx, dpool_state *st) {
    if ((tta_in_layout(ctx, 0) || tta_out_layout(ctx, 0)) && (st->is_global || !c_layouts(ctx, st)))
        return tta_op_error(ctx, TTA_ERR_INTERNAL, "the plain C pooling cannot take these blocked tensors");
    return tta_dnnl_fallback_compute(ctx, &st->fb);
}

tta_status tta_dnnl_pool_compute(tta_op_ctx *ctx) {
    dpool_state *st = ctx->state;
    const tta_tensor *x = ctx->in[0];
    tta_tensor *y = ctx->out[0];
    bool ok = tta_dnnl_is_f32(x, -1) && x->ndim >= 3 && x->ndim <= 5 && tta_tensor_numel(x) > 0 &&
              tta_tensor_numel(y) > 0;
    /* blocked Max/AveragePool: the C kernel's loop, which the plan asked through `layouts` */
    if (!st->is_global && tta_in_layout(ctx, 0) == TTA_LAYOUT_BLOCKED) return tta_dnnl_fallback_compute(ctx, &st->fb);
    if (!ok) return fallback(ctx, st);
    bool same = st->built && st->key_nd == x->ndim;
    for (int i = 0; same && i < x->ndim; i++) same = st->key_x[i] == x->dims[i];
    if (!same) TTA_TRY(build(ctx, st));
    if (st->unusable) return fallback(ctx, st);
    TTA_DNNL_TRY(ctx, dnnl_memory_set_data_handle(st->m_src, x->data), "set src");
    TTA_DNNL_TRY(ctx, dnnl_memory_set_data_handle(st->m_dst, y->data), "set dst");
    dnnl_exec_arg_t args[3] = {{DNNL_ARG_SRC, st->m_src}, {DNNL_ARG_DST, st->m_dst}, {DNNL_ARG_WORKSPACE, st->m_ws}};
    TTA_DNNL_TRY(ctx, dnnl_primitive_execute(st->prim, st->stream, st->m_ws ? 3 : 2, args), "pooling");
    TTA_DNNL_TRY(ctx, dnnl_stream_wait(st->stream), "stream wait");
    return TTA_OK;
}

/* Plan time: a blocked input (and output, unless it is one pixel per channel) when oneDNN has a
 * primitive for this node (tried here, then dropped: the first run builds it for the layouts). */
unsigned tta_dnnl_pool_layouts(const tta_op_ctx *cctx) {
    tta_op_ctx *ctx = (tta_op_ctx *)cctx;
    dpool_state *st = ctx->state;
    const tta_tensor *x = ctx->in[0], *y = ctx->out[0];
    if (!tta_dnnl_is_f32(x, 4) || tta_tensor_numel(x) == 0 || tta_tensor_numel(y) == 0) return 0;
    if (!st->is_global) return c_layouts(ctx, st); /* blocked: the C kernel's loop (see the top) */
    /* try the primitive as it would run blocked */
    const unsigned char blocked[2] = {TTA_LAYOUT_BLOCKED, TTA_LAYOUT_BLOCKED}, *in_l = ctx->in_layout,
                        *out_l = ctx->out_layout;
    ctx->in_layout = ctx->out_layout = blocked;
    tta_status s = build(ctx, st);
    bool usable = s == TTA_OK && !st->unusable;
    ctx->in_layout = in_l;
    ctx->out_layout = out_l;
    drop_primitive(st);
    if (!usable) return 0;
    /* one pixel per channel: written plain ([N,C,1,1] is the blocked layout's bytes only when C
     * fills the blocks, so padded inputs are converted first) */
    if (y->dims[2] * y->dims[3] == 1)
        return x->dims[1] % tta_layout_block() ? 0 : TTA_LAYOUT_IN(0) | TTA_LAYOUT_OUT_ANY;
    return TTA_LAYOUT_IN(0) | TTA_LAYOUT_PADDED | TTA_LAYOUT_OUT_FOLLOW;
}
