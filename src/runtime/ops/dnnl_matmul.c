/* dnnl_matmul.c - Gemm and 2-D MatMul through oneDNN's matmul primitive on plain row-major
 * matrices: transA/transB become strides, alpha an output scale, Gemm's C (when beta is 1) the
 * primitive's bias when it is a row vector (and alpha is 1), else copied into Y and added by a sum post-op. MatMul of other ranks, Gemm with beta other than 0 or 1 and a C
 * input, non-float32 tensors and anything oneDNN declines go to the plain C kernel. The
 * primitive is built on the first run for the concrete shapes and cached. */
#include <string.h>

#include "runtime/ops/dnnl_common.h"

typedef struct dmm_state {
    tta_dnnl_fallback fb; /* the plain C Gemm / MatMul */
    bool gemm, trans_a, trans_b;
    float alpha, beta;
    bool built, unusable;
    int64_t key[6]; /* M, K, N, C rows, C cols, C use (0 none, 1 row bias, 2 broadcast into Y + sum) */
    dnnl_primitive_desc_t pd;
    dnnl_primitive_t prim;
    dnnl_stream_t stream;
    dnnl_memory_t m_a, m_b, m_bias, m_y;
} dmm_state;

static void drop_primitive(dmm_state *st) {
    dnnl_memory_t *mems[] = {&st->m_a, &st->m_b, &st->m_bias, &st->m_y};
    for (size_t i = 0; i < sizeof mems / sizeof mems[0]; i++) {
        if (*mems[i]) dnnl_memory_destroy(*mems[i]);
        *mems[i] = NULL;
    }
    if (st->prim) dnnl_primitive_destroy(st->prim);
    if (st->pd) dnnl_primitive_desc_destroy(st->pd);
    st->prim = NULL;
    st->pd = NULL;
    st->built = st->unusable = false;
}

void tta_dnnl_matmul_release(tta_op_ctx *ctx) {
    dmm_state *st = ctx->state;
    if (!st) return;
    drop_primitive(st);
    if (st->stream) dnnl_stream_destroy(st->stream);
    tta_dnnl_fallback_release(ctx, &st->fb);
    tta_free(st);
    ctx->state = NULL;
}

tta_status tta_dnnl_matmul_prepare(tta_op_ctx *ctx) {
    dmm_state *st = tta_calloc(1, sizeof *st);
    if (!st) return tta_op_error(ctx, TTA_ERR_NOMEM, "out of memory");
    ctx->state = st;
    TTA_TRY(tta_dnnl_fallback_prepare(ctx, &st->fb, ctx->node->op_type));
    st->gemm = !strcmp(ctx->node->op_type, "Gemm");
    st->trans_a = st->gemm && tta_attr_int(ctx->node, "transA", 0) != 0;
    st->trans_b = st->gemm && tta_attr_int(ctx->node, "transB", 0) != 0;
    st->alpha = st->gemm ? tta_attr_float(ctx->node, "alpha", 1.0f) : 1.0f;
    st->beta = st->gemm ? tta_attr_float(ctx->node, "beta", 1.0f) : 1.0f;
    return TTA_OK;
}

tta_status tta_dnnl_matmul_infer(tta_op_ctx *ctx) {
    dmm_state *st = ctx->state;
    return tta_dnnl_fallback_infer(ctx, &st->fb);
}

/* A row-major [rows, cols] f32 matrix stored transposed when `trans`. */
static dnnl_status_t matrix_md(dnnl_memory_desc_t *md, int64_t rows, int64_t cols, bool trans) {
    dnnl_dims_t d = {rows, cols}, s = {trans ? 1 : cols, trans ? rows : 1};
    return dnnl_memory_desc_init_by_strides(md, 2, d, dnnl_f32, s);
}

static tta_status build(tta_op_ctx *ctx, dmm_state *st, const int64_t *key) {
    drop_primitive(st);
    st->built = true;
    memcpy(st->key, key, sizeof st->key);
    int64_t M = key[0], K = key[1], N = key[2];
    dnnl_memory_desc_t a_md, b_md, c_md, y_md;
    dnnl_status_t s = matrix_md(&a_md, M, K, st->trans_a);
    if (s == dnnl_success) s = matrix_md(&b_md, K, N, st->trans_b);
    if (s == dnnl_success) s = matrix_md(&y_md, M, N, false);
    if (s == dnnl_success && key[5] == 1) s = matrix_md(&c_md, key[3], key[4], false);
    dnnl_matmul_desc_t md;
    if (s == dnnl_success) s = dnnl_matmul_desc_init(&md, &a_md, &b_md, key[5] == 1 ? &c_md : NULL, &y_md);
    dnnl_primitive_attr_t attr = NULL;
    dnnl_post_ops_t po = NULL;
    if (s == dnnl_success && (st->alpha != 1.0f || key[5] == 2)) s = dnnl_primitive_attr_create(&attr);
    if (s == dnnl_success && st->alpha != 1.0f) s = dnnl_primitive_attr_set_output_scales(attr, 1, 0, &st->alpha);
    if (s == dnnl_success && key[5] == 2) {
        s = dnnl_post_ops_create(&po);
        if (s == dnnl_success) s = dnnl_post_ops_append_sum(po, 1.0f);
        if (s == dnnl_success) s = dnnl_primitive_attr_set_post_ops(attr, po);
    }
    if (s == dnnl_success) s = tta_dnnl_primitive(&md, attr, &st->pd, &st->prim);
    if (po) dnnl_post_ops_destroy(po);
    if (attr) dnnl_primitive_attr_destroy(attr);
    if (s == dnnl_unimplemented || s == dnnl_invalid_arguments) {
        st->unusable = true;
        return TTA_OK;
    }
    TTA_TRY(tta_dnnl_error(ctx, s, "matmul primitive creation"));
    if (!st->stream) TTA_TRY(tta_dnnl_stream_new(ctx, &st->stream));
    TTA_TRY(tta_dnnl_memory(ctx, &a_md, &st->m_a));
    TTA_TRY(tta_dnnl_memory(ctx, &b_md, &st->m_b));
    TTA_TRY(tta_dnnl_memory(ctx, &y_md, &st->m_y));
    if (key[5] == 1) TTA_TRY(tta_dnnl_memory(ctx, &c_md, &st->m_bias));
    return TTA_OK;
}

tta_status tta_dnnl_matmul_compute(tta_op_ctx *ctx) {
    dmm_state *st = ctx->state;
    const tta_tensor *a = ctx->in[0], *b = ctx->in[1];
    const tta_tensor *c = st->gemm && ctx->n_in > 2 && st->beta != 0.0f ? ctx->in[2] : NULL;
    tta_tensor *y = ctx->out[0];
    bool ok = tta_dnnl_is_f32(a, 2) && tta_dnnl_is_f32(b, 2) && tta_dnnl_is_f32(y, 2) && tta_tensor_numel(y) > 0 &&
              tta_tensor_numel(a) > 0 && (!c || (tta_dnnl_is_f32(c, -1) && c->ndim <= 2 && st->beta == 1.0f));
    if (!ok) return tta_dnnl_fallback_compute(ctx, &st->fb);
    int64_t M = y->dims[0], N = y->dims[1], K = st->trans_a ? a->dims[0] : a->dims[1];
    int64_t key[6] = {M, K, N, 1, 1, 0};
    if (c && c->ndim == 2) key[3] = c->dims[0];
    if (c && c->ndim >= 1) key[4] = c->dims[c->ndim - 1];
    /* oneDNN's fast matmul takes a row-vector bias, but scales it by alpha too; other shapes of C,
     * and any C with alpha != 1, are broadcast into Y and added by a sum post-op (after alpha). */
    if (c) key[5] = key[3] == 1 && key[4] == N && N > 1 && st->alpha == 1.0f ? 1 : 2;
    if (!st->built || memcmp(key, st->key, sizeof key)) TTA_TRY(build(ctx, st, key));
    if (st->unusable) return tta_dnnl_fallback_compute(ctx, &st->fb);
    TTA_DNNL_TRY(ctx, dnnl_memory_set_data_handle(st->m_a, a->data), "set A");
    TTA_DNNL_TRY(ctx, dnnl_memory_set_data_handle(st->m_b, b->data), "set B");
    TTA_DNNL_TRY(ctx, dnnl_memory_set_data_handle(st->m_y, y->data), "set Y");
    dnnl_exec_arg_t args[4] = {{DNNL_ARG_SRC, st->m_a}, {DNNL_ARG_WEIGHTS, st->m_b}, {DNNL_ARG_DST, st->m_y}};
    int nargs = 3;
    if (c && key[5] == 2) {
        float *yd = y->data;
        const float *cd = c->data;
        int64_t cm = key[3], cn = key[4];
        for (int64_t i = 0; i < M; i++)
            for (int64_t j = 0; j < N; j++) yd[i * N + j] = cd[(cm == 1 ? 0 : i) * cn + (cn == 1 ? 0 : j)];
    } else if (c) {
        TTA_DNNL_TRY(ctx, dnnl_memory_set_data_handle(st->m_bias, c->data), "set C");
        args[nargs++] = (dnnl_exec_arg_t){DNNL_ARG_BIAS, st->m_bias};
    }
    TTA_DNNL_TRY(ctx, dnnl_primitive_execute(st->prim, st->stream, nargs, args), "matmul");
    TTA_DNNL_TRY(ctx, dnnl_stream_wait(st->stream), "stream wait");
    return TTA_OK;
}
