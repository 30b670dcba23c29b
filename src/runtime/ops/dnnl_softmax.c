/* dnnl_softmax.c - Softmax through oneDNN's softmax_v2 primitive (softmax_accurate: subtracts
 * the maximum first, as ONNX's reference does), float32 on plain tensors. Both opset forms reduce to one axis of a 3-D view [outer, len,
 * inner]: from opset 13 the single axis `axis`; before 13 the input coerced to 2-D at `axis`
 * ([outer, prod(dims[axis:])], inner 1). The primitive is built on the first run for that view
 * and cached. Float64, zero-size tensors and the shapes measured faster in C (see SPEED below)
 * run the plain C kernel (misc_softmax.c).
 *
 * LogSoftmax and Hardmax are not registered here and run in C: oneDNN 2.6's softmax_log (jit
 * avx2) is off by 1.4e-6 in absolute terms on outputs near 0 (its log approximation), beyond
 * the conformance tolerance of 1e-7 + 1e-3*|ref| there. */
#include <string.h>

#include "core/alloc.h"
#include "runtime/ops/dnnl_cs.h"

typedef struct dsm_state {
    tta_dnnl_fallback fb; /* the plain C kernel */
    bool coerce_2d;
    int64_t axis;
    bool built, unusable;
    int64_t key[3]; /* outer, len, inner of the built primitive */
    dnnl_primitive_desc_t pd;
    dnnl_primitive_t prim;
    dnnl_stream_t stream;
    dnnl_memory_t m_src, m_dst;
} dsm_state;

static void drop_primitive(dsm_state *st) {
    if (st->m_src) dnnl_memory_destroy(st->m_src);
    if (st->m_dst) dnnl_memory_destroy(st->m_dst);
    if (st->prim) dnnl_primitive_destroy(st->prim);
    if (st->pd) dnnl_primitive_desc_destroy(st->pd);
    st->m_src = st->m_dst = NULL;
    st->prim = NULL;
    st->pd = NULL;
    st->built = st->unusable = false;
}

void tta_dnnl_softmax_release(tta_op_ctx *ctx) {
    dsm_state *st = ctx->state;
    if (!st) return;
    drop_primitive(st);
    tta_dnnl_state_free(ctx, &st->fb, st->stream);
}

tta_status tta_dnnl_softmax_prepare(tta_op_ctx *ctx) {
    dsm_state *st = tta_calloc(1, sizeof *st);
    if (!st) return tta_op_error(ctx, TTA_ERR_NOMEM, "out of memory");
    ctx->state = st;
    TTA_TRY(tta_dnnl_fallback_prepare(ctx, &st->fb, "Softmax"));
    st->coerce_2d = ctx->node->opset < 13;
    st->axis = tta_attr_int(ctx->node, "axis", st->coerce_2d ? 1 : -1);
    return TTA_OK;
}

tta_status tta_dnnl_softmax_infer(tta_op_ctx *ctx) {
    dsm_state *st = ctx->state;
    return tta_dnnl_fallback_infer(ctx, &st->fb); /* validates dtype and axis */
}

/* The [outer, len, inner] view; false when the axis is out of range (the C kernel reports it). */
static bool geometry(const tta_tensor *x, const dsm_state *st, int64_t g[3]) {
    int r = x->ndim;
    int64_t a = st->axis < 0 ? st->axis + r : st->axis;
    if (a < 0 || a > r || (!st->coerce_2d && a == r)) return false;
    g[0] = g[1] = g[2] = 1;
    for (int d = 0; d < r; d++) g[d < a ? 0 : st->coerce_2d || d == a ? 1 : 2] *= x->dims[d];
    return true;
}

static tta_status build(tta_op_ctx *ctx, dsm_state *st, const int64_t g[3]) {
    drop_primitive(st);
    st->built = true;
    memcpy(st->key, g, sizeof st->key);
    int nd = g[2] == 1 ? 2 : 3;
    dnnl_memory_desc_t md;
    dnnl_softmax_v2_desc_t sd;
    dnnl_status_t s = tta_dnnl_plain_md(&md, nd, g);
    if (s == dnnl_success)
        s = dnnl_softmax_v2_forward_desc_init(&sd, dnnl_forward_inference, dnnl_softmax_accurate, &md, &md, 1);
    if (s == dnnl_success) s = tta_dnnl_primitive(ctx, &sd, NULL, &st->pd, &st->prim);
    if (s == dnnl_unimplemented || s == dnnl_invalid_arguments) {
        st->unusable = true;
        return TTA_OK;
    }
    TTA_TRY(tta_dnnl_error(ctx, s, "softmax primitive creation"));
    /* oneDNN's reference softmax (no JIT kernel for this view) is slower than the C loop */
    const char *impl = NULL;
    if (dnnl_primitive_desc_query(st->pd, dnnl_query_impl_info_str, 0, &impl) == dnnl_success && impl &&
        !strncmp(impl, "ref", 3)) {
        st->unusable = true;
        return TTA_OK;
    }
    if (!st->stream) TTA_TRY(tta_dnnl_stream_new(ctx, &st->stream));
    TTA_TRY(tta_dnnl_memory(ctx, dnnl_primitive_desc_query_md(st->pd, dnnl_query_src_md, 0), &st->m_src));
    TTA_TRY(tta_dnnl_memory(ctx, dnnl_primitive_desc_query_md(st->pd, dnnl_query_dst_md, 0), &st->m_dst));
    return TTA_OK;
}

/* Views under 256 elements with more than one row go to the C kernel, where oneDNN's thread
 * start-up dominates; a softmax over a non-last axis gets only oneDNN's reference kernel, so the
 * C kernel too (bench/README.md, "Measured choices"). */
static bool c_faster(const int64_t g[3]) { return g[0] > 1 && g[0] * g[1] * g[2] < 256; }

tta_status tta_dnnl_softmax_compute(tta_op_ctx *ctx) {
    dsm_state *st = ctx->state;
    const tta_tensor *x = ctx->in[0];
    tta_tensor *y = ctx->out[0];
    int64_t g[3];
    if (!tta_dnnl_is_f32(x, -1) || tta_tensor_numel(x) == 0 || !geometry(x, st, g) || c_faster(g))
        return tta_dnnl_fallback_compute(ctx, &st->fb);
    if (!st->built || memcmp(st->key, g, sizeof st->key)) TTA_TRY(build(ctx, st, g));
    if (st->unusable) return tta_dnnl_fallback_compute(ctx, &st->fb);
    TTA_DNNL_TRY(ctx, dnnl_memory_set_data_handle(st->m_src, x->data), "set src");
    TTA_DNNL_TRY(ctx, dnnl_memory_set_data_handle(st->m_dst, y->data), "set dst");
    dnnl_exec_arg_t args[2] = {{DNNL_ARG_SRC, st->m_src}, {DNNL_ARG_DST, st->m_dst}};
    TTA_DNNL_TRY(ctx, dnnl_primitive_execute(st->prim, st->stream, 2, args), "softmax");
    TTA_DNNL_TRY(ctx, dnnl_stream_wait(st->stream), "stream wait");
    return TTA_OK;
}
