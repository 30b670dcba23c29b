/* dnnl_concat.c - Concat through oneDNN's concat primitive: float32, rank 1 to 5, any axis,
 * inputs in any mix of plain and channel-blocked layouts (padded channels included: C not a
 * multiple of the block, which the plain C kernel cannot do since a padded image is not one
 * contiguous run of real channels). The primitive is built on the first run for the concrete
 * shapes and layouts and cached. The C kernel (tensor_move.c) takes other dtypes, zero-size
 * inputs, ranks above 5, and every flat copy (all tensors plain, or all blocked unpadded along
 * the channels), which it does at least as fast (see SPEED below): oneDNN is there for the
 * layouts the C kernel cannot take.
 *
 * Layouts: for a 4-D float32 concat along the channels where some channel count is not a
 * multiple of the block, the kernel reads every input in either layout and writes the output in
 * either (TTA_LAYOUT_OUT_ANY: the plan makes it blocked when a reader wants it so, and the
 * primitive converts whatever inputs come plain). Without padding it says nothing, leaving the
 * plan's rule for Concat (see layout.c), which measured faster (see tta_dnnl_concat_layouts);
 * compute still honours any mix it is given. */
#include <string.h>

#include "core/alloc.h"
#include "runtime/ops/dnnl_cs.h"

/* Each input in the key: its rank-sized dims and its layout. */
typedef struct dcat_state {
    tta_dnnl_fallback fb; /* the plain C Concat */
    int n;                /* inputs (ctx->n_in at prepare) */
    bool built, unusable;
    int key_nd, key_axis, key_out_layout;
    int64_t *key_dims;       /* n * TTA_MAX_DIMS */
    unsigned char *key_lay;  /* n */
    dnnl_primitive_desc_t pd;
    dnnl_primitive_t prim;
    dnnl_stream_t stream;
    dnnl_memory_t *m_src; /* n */
    dnnl_memory_t m_dst;
    dnnl_exec_arg_t *args; /* n + 1 */
} dcat_state;

static void drop_primitive(dcat_state *st) {
    for (int i = 0; st->m_src && i < st->n; i++) {
        if (st->m_src[i]) dnnl_memory_destroy(st->m_src[i]);
        st->m_src[i] = NULL;
    }
    if (st->m_dst) dnnl_memory_destroy(st->m_dst);
    if (st->prim) dnnl_primitive_destroy(st->prim);
    if (st->pd) dnnl_primitive_desc_destroy(st->pd);
    st->m_dst = NULL;
    st->prim = NULL;
    st->pd = NULL;
    st->built = st->unusable = false;
}

void tta_dnnl_concat_release(tta_op_ctx *ctx) {
    dcat_state *st = ctx->state;
    if (!st) return;
    drop_primitive(st);
    tta_free(st->key_dims);
    tta_free(st->key_lay);
    tta_free(st->m_src);
    tta_free(st->args);
    tta_dnnl_state_free(ctx, &st->fb, st->stream);
}

tta_status tta_dnnl_concat_prepare(tta_op_ctx *ctx) {
    dcat_state *st = tta_calloc(1, sizeof *st);
    if (!st) return tta_op_error(ctx, TTA_ERR_NOMEM, "out of memory");
    ctx->state = st;
    TTA_TRY(tta_dnnl_fallback_prepare(ctx, &st->fb, "Concat"));
    st->n = ctx->n_in > 0 ? ctx->n_in : 1;
    st->key_dims = tta_calloc((size_t)st->n * TTA_MAX_DIMS, sizeof *st->key_dims);
    st->key_lay = tta_calloc((size_t)st->n, 1);
    st->m_src = tta_calloc((size_t)st->n, sizeof *st->m_src);
    st->args = tta_calloc((size_t)st->n + 1, sizeof *st->args);
    if (!st->key_dims || !st->key_lay || !st->m_src || !st->args)
        return tta_op_error(ctx, TTA_ERR_NOMEM, "out of memory");
    return TTA_OK;
}

tta_status tta_dnnl_concat_infer(tta_op_ctx *ctx) {
    dcat_state *st = ctx->state;
    return tta_dnnl_fallback_infer(ctx, &st->fb);
}

/* Whether oneDNN may run this node: every input present, float32, same rank 1..5, non-empty. */
static bool dnnl_ok(const tta_op_ctx *ctx, const dcat_state *st) {
    if (ctx->n_in < 1 || ctx->n_in != st->n || !tta_dnnl_is_f32(ctx->out[0], -1)) return false;
    int nd = ctx->out[0]->ndim;
    if (nd < 1 || nd > 5 || tta_tensor_numel(ctx->out[0]) == 0) return false;
    for (int i = 0; i < ctx->n_in; i++)
        if (!tta_dnnl_is_f32(ctx->in[i], nd) || tta_tensor_numel(ctx->in[i]) == 0) return false;
    return true;
}

static bool is_padded(const tta_tensor *t) { return t->ndim == 4 && t->dims[1] % tta_layout_block() != 0; }

/* The C kernel copies flat runs per outer index: right when every tensor is plain, or every one
 * blocked without padding and the axis is the channels (then one image is one run). */
static bool c_can(const tta_op_ctx *ctx, int axis) {
    int lay = tta_out_layout(ctx, 0);
    if (lay == TTA_LAYOUT_BLOCKED && (axis != 1 || is_padded(ctx->out[0]))) return false;
    for (int i = 0; i < ctx->n_in; i++)
        if (tta_in_layout(ctx, i) != lay || (lay == TTA_LAYOUT_BLOCKED && is_padded(ctx->in[i]))) return false;
    return true;
}

static tta_status build(tta_op_ctx *ctx, dcat_state *st, int axis) {
    const tta_tensor *y = ctx->out[0];
    int n = ctx->n_in, nd = y->ndim;
    drop_primitive(st);
    st->built = true;
    st->key_nd = nd;
    st->key_axis = axis;
    st->key_out_layout = tta_out_layout(ctx, 0);
    for (int i = 0; i < n; i++) {
        memcpy(st->key_dims + (size_t)i * TTA_MAX_DIMS, ctx->in[i]->dims, sizeof(int64_t) * TTA_MAX_DIMS);
        st->key_lay[i] = (unsigned char)tta_in_layout(ctx, i);
    }
    dnnl_engine_t eng;
    TTA_TRY(tta_dnnl_engine(ctx, &eng));
    dnnl_memory_desc_t dst_md, *src_md = tta_malloc(sizeof *src_md * (size_t)n);
    if (!src_md) return tta_op_error(ctx, TTA_ERR_NOMEM, "out of memory");
    dnnl_status_t s = tta_dnnl_layout_md(&dst_md, nd, y->dims, tta_out_layout(ctx, 0));
    for (int i = 0; s == dnnl_success && i < n; i++)
        s = tta_dnnl_layout_md(&src_md[i], nd, ctx->in[i]->dims, tta_in_layout(ctx, i));
    if (s == dnnl_success) s = dnnl_concat_primitive_desc_create(&st->pd, &dst_md, n, axis, src_md, NULL, eng);
    if (s == dnnl_success) s = dnnl_primitive_create(&st->prim, st->pd);
    tta_free(src_md);
    if (s == dnnl_unimplemented || s == dnnl_invalid_arguments) {
        if (st->pd) dnnl_primitive_desc_destroy(st->pd);
        st->pd = NULL;
        st->unusable = true;
        return TTA_OK;
    }
    TTA_TRY(tta_dnnl_error(ctx, s, "concat primitive creation"));
    if (!st->stream) TTA_TRY(tta_dnnl_stream_new(ctx, &st->stream));
    for (int i = 0; i < n; i++) {
        TTA_TRY(tta_dnnl_memory(ctx, dnnl_primitive_desc_query_md(st->pd, dnnl_query_src_md, i), &st->m_src[i]));
        st->args[i] = (dnnl_exec_arg_t){DNNL_ARG_MULTIPLE_SRC + i, st->m_src[i]};
    }
    TTA_TRY(tta_dnnl_memory(ctx, dnnl_primitive_desc_query_md(st->pd, dnnl_query_dst_md, 0), &st->m_dst));
    st->args[n] = (dnnl_exec_arg_t){DNNL_ARG_DST, st->m_dst};
    return TTA_OK;
}

static tta_status fallback(tta_op_ctx *ctx, dcat_state *st, int axis) {
    if (!c_can(ctx, axis))
        return tta_op_error(ctx, TTA_ERR_INTERNAL, "the plain C Concat cannot take this mix of layouts");
    return tta_dnnl_fallback_compute(ctx, &st->fb);
}

tta_status tta_dnnl_concat_compute(tta_op_ctx *ctx) {
    dcat_state *st = ctx->state;
    tta_tensor *y = ctx->out[0];
    int axis = 0;
    if (y->ndim > 0) TTA_TRY(tta_norm_axis(ctx, tta_attr_int(ctx->node, "axis", 1), y->ndim, &axis));
    if (!dnnl_ok(ctx, st)) return fallback(ctx, st, axis);
    /* Flat copies (every tensor plain, or every one blocked unpadded) go to the C kernel, never
     * slower than oneDNN's simple_concat there; oneDNN runs what C cannot: padded blocked tensors
     * and mixes of layouts (bench/README.md, "Measured choices"). */
    if (c_can(ctx, axis)) return tta_dnnl_fallback_compute(ctx, &st->fb);
    bool same = st->built && st->key_nd == y->ndim && st->key_axis == axis &&
                st->key_out_layout == tta_out_layout(ctx, 0);
    for (int i = 0; same && i < ctx->n_in; i++)
        same = st->key_lay[i] == tta_in_layout(ctx, i) &&
               !memcmp(st->key_dims + (size_t)i * TTA_MAX_DIMS, ctx->in[i]->dims, sizeof(int64_t) * (size_t)y->ndim);
    if (!same) TTA_TRY(build(ctx, st, axis));
    if (st->unusable) return fallback(ctx, st, axis);
    for (int i = 0; i < ctx->n_in; i++)
        TTA_DNNL_TRY(ctx, dnnl_memory_set_data_handle(st->m_src[i], ctx->in[i]->data), "set src");
    TTA_DNNL_TRY(ctx, dnnl_memory_set_data_handle(st->m_dst, y->data), "set dst");
    TTA_DNNL_TRY(ctx, dnnl_primitive_execute(st->prim, st->stream, ctx->n_in + 1, st->args), "concat");
    TTA_DNNL_TRY(ctx, dnnl_stream_wait(st->stream), "stream wait");
    return TTA_OK;
}

/* Plan time: 4-D float32 along the channels with some padded tensor -> any input blocked and
 * the output blocked when a reader wants it, if oneDNN has a primitive for the all-blocked case (tried
 * here, then dropped: the first run builds it for the layouts the plan chose). */
unsigned tta_dnnl_concat_layouts(const tta_op_ctx *cctx) {
    tta_op_ctx *ctx = (tta_op_ctx *)cctx;
    dcat_state *st = ctx->state;
    int axis;
    if (ctx->n_in > 16 || !dnnl_ok(ctx, st) || ctx->out[0]->ndim != 4) return 0;
    if (tta_norm_axis(ctx, tta_attr_int(ctx->node, "axis", 1), 4, &axis) != TTA_OK || axis != 1) return 0;
    /* Without padding the plan's own rule (blocked when every input is, else plain, through
     * the C kernel) was measured faster than oneDNN's ref:any concat (bench/README.md). */
    bool pad = is_padded(ctx->out[0]);
    for (int i = 0; i < ctx->n_in; i++) pad = pad || is_padded(ctx->in[i]);
    if (!pad) return 0;
    unsigned char blocked[17];
    memset(blocked, TTA_LAYOUT_BLOCKED, sizeof blocked);
    const unsigned char *in_l = ctx->in_layout, *out_l = ctx->out_layout;
    ctx->in_layout = ctx->out_layout = blocked;
    tta_status s = build(ctx, st, axis);
    bool usable = s == TTA_OK && !st->unusable;
    ctx->in_layout = in_l;
    ctx->out_layout = out_l;
    drop_primitive(st);
    if (!usable) return 0;
    unsigned caps = TTA_LAYOUT_PADDED | TTA_LAYOUT_OUT_ANY;
    for (int i = 0; i < ctx->n_in; i++) caps |= TTA_LAYOUT_IN(i);
    return caps;
}
