/* dnnl_matmul.c - Gemm and MatMul through oneDNN's matmul primitive on plain row-major tensors.
 * Gemm and 2-D MatMul: transA/transB become strides, alpha an output scale, Gemm's C (when beta
 * is 1) the primitive's bias when it is a row vector (and alpha is 1), else copied into Y and
 * added by a sum post-op. MatMul of other ranks follows numpy.matmul: a 1-D A is [1,K] and a 1-D
 * B is [K,1] (the 1 is dropped from Y's shape, not from its memory), batch dims are padded with
 * leading 1s and broadcast by oneDNN (a batch dim of 1 on either side); a B without batch is
 * folded into one 2-D product [batch*M, K] x [K, N]. Gemm with beta other than 0 or 1 and a C
 * input, non-float32 tensors, shapes measured faster in C (see use_c_for) and anything oneDNN
 * declines go to the plain C kernel. The primitive is built on the first run for the concrete
 * shapes, cached, and rebuilt when they change. */
#include <string.h>

#include "core/alloc.h"
#include "runtime/ops/dnnl_common.h"
#include "runtime/ops/nn.h"

#define KEY_ND 6
#define KEY_LEN (KEY_ND + 1 + 2 * TTA_MAX_DIMS)

typedef struct dmm_state {
    tta_dnnl_fallback fb; /* the plain C Gemm / MatMul */
    bool gemm, trans_a, trans_b;
    float alpha, beta;
    bool built, unusable;
    /* M, K, N, C rows, C cols, C use (0 none, 1 row bias, 2 broadcast into Y + sum), then for a
     * batched MatMul its rank nd and A's and B's promoted, padded dims (nd each); nd 0 = 2-D. */
    int64_t key[KEY_LEN];
    dnnl_primitive_desc_t pd;
    dnnl_primitive_t prim;
    dnnl_stream_t stream;
    dnnl_memory_t m_a, m_b, m_bias, m_y;
    /* A 2-D product with constant B (an initializer; also a batched A folded onto a 2-D B, as
     * transformer-style Linear layers export) lets oneDNN choose B's layout and packs B into it
     * once: with B as given, oneDNN's brgemm matmul repacks it on every call (bench/README.md). */
    bool b_const, b_reorder;
    dnnl_memory_desc_t b_user_md;
    void *b_buf;
    const void *b_done; /* B data last packed into b_buf */
    float *gv;          /* B packed for tta_gemv_run (a few rows, see nn_gemv.c) */
    const void *gv_done;
    size_t held, held_gv; /* bytes counted against the plan's budget: the primitive's, gv */
} dmm_state;

static void drop_primitive(dmm_state *st) {
    dnnl_memory_t *mems[] = {&st->m_a, &st->m_b, &st->m_bias, &st->m_y};
    for (size_t i = 0; i < sizeof mems / sizeof mems[0]; i++) {
        if (*mems[i]) dnnl_memory_destroy(*mems[i]);
        *mems[i] = NULL;
    }
    if (st->prim) dnnl_primitive_destroy(st->prim);
    if (st->pd) dnnl_primitive_desc_destroy(st->pd);
    tta_free(st->b_buf);
    st->b_buf = NULL;
    st->b_done = NULL;
    st->prim = NULL;
    st->pd = NULL;
    st->built = st->unusable = st->b_reorder = false;
}

void tta_dnnl_matmul_release(tta_op_ctx *ctx) {
    dmm_state *st = ctx->state;
    if (!st) return;
    drop_primitive(st);
    tta_free(st->gv);
    tta_dnnl_state_free(ctx, &st->fb, st->stream);
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
    st->b_const = ctx->n_in > 1 && ctx->in[1] && ctx->in[1]->data;
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
    int nd = (int)key[KEY_ND];
    dnnl_memory_desc_t a_md, b_md, c_md, y_md;
    dnnl_status_t s;
    if (nd > 0) { /* batched MatMul: plain tensors, Y with the broadcast batch dims */
        const int64_t *ad = key + KEY_ND + 1, *bd = ad + nd;
        int64_t yd[TTA_MAX_DIMS];
        for (int i = 0; i < nd - 2; i++) yd[i] = ad[i] > bd[i] ? ad[i] : bd[i];
        yd[nd - 2] = M;
        yd[nd - 1] = N;
        s = tta_dnnl_plain_md(&a_md, nd, ad);
        if (s == dnnl_success) s = tta_dnnl_plain_md(&b_md, nd, bd);
        if (s == dnnl_success) s = tta_dnnl_plain_md(&y_md, nd, yd);
    } else {
        s = matrix_md(&a_md, M, K, st->trans_a);
        if (s == dnnl_success) s = matrix_md(&b_md, K, N, st->trans_b);
        if (s == dnnl_success) s = matrix_md(&y_md, M, N, false);
    }
    bool pack_b = (nd == 0 || nd == 2) && st->b_const; /* 2-D, or batched A folded onto a 2-D B */
    dnnl_memory_desc_t b_any;
    if (s == dnnl_success && pack_b) {
        st->b_user_md = b_md;
        s = dnnl_memory_desc_init_by_tag(&b_any, 2, (dnnl_dims_t){K, N}, dnnl_f32, dnnl_format_tag_any);
    }
    if (s == dnnl_success && key[5] == 1) s = matrix_md(&c_md, key[3], key[4], false);
    dnnl_matmul_desc_t md;
    if (s == dnnl_success)
        s = dnnl_matmul_desc_init(&md, &a_md, pack_b ? &b_any : &b_md, key[5] == 1 ? &c_md : NULL, &y_md);
    dnnl_primitive_attr_t attr = NULL;
    dnnl_post_ops_t po = NULL;
    if (s == dnnl_success && (st->alpha != 1.0f || key[5] == 2)) s = dnnl_primitive_attr_create(&attr);
    if (s == dnnl_success && st->alpha != 1.0f) s = dnnl_primitive_attr_set_output_scales(attr, 1, 0, &st->alpha);
    if (s == dnnl_success && key[5] == 2) {
        s = dnnl_post_ops_create(&po);
        if (s == dnnl_success) s = dnnl_post_ops_append_sum(po, 1.0f);
        if (s == dnnl_success) s = dnnl_primitive_attr_set_post_ops(attr, po);
    }
    if (s == dnnl_success) s = tta_dnnl_primitive(ctx, &md, attr, &st->pd, &st->prim);
    if (po) dnnl_post_ops_destroy(po);
    if (attr) dnnl_primitive_attr_destroy(attr);
    if (s == dnnl_unimplemented || s == dnnl_invalid_arguments) {
        st->unusable = true;
        return TTA_OK;
    }
    TTA_TRY(tta_dnnl_error(ctx, s, "matmul primitive creation"));
    if (!st->stream) TTA_TRY(tta_dnnl_stream_new(ctx, &st->stream));
    TTA_TRY(tta_dnnl_memory(ctx, &a_md, &st->m_a));
    if (pack_b) {
        const dnnl_memory_desc_t *w = dnnl_primitive_desc_query_md(st->pd, dnnl_query_weights_md, 0);
        b_md = *w;
        st->b_reorder = !dnnl_memory_desc_equal(w, &st->b_user_md);
    }
    size_t bytes = tta_dnnl_scratchpad_bytes(st->pd) +
                   (st->b_reorder ? dnnl_memory_desc_get_size(&b_md) + 64 : 0);
    TTA_TRY(tta_op_reserve(ctx, &st->held, bytes, "the matrix product's packed B and scratchpad"));
    if (st->b_reorder && !(st->b_buf = tta_malloc(dnnl_memory_desc_get_size(&b_md) + 64)))
        return tta_op_error(ctx, TTA_ERR_NOMEM, "out of memory for the packed B");
    TTA_TRY(tta_dnnl_memory(ctx, &b_md, &st->m_b));
    TTA_TRY(tta_dnnl_memory(ctx, &y_md, &st->m_y));
    if (key[5] == 1) TTA_TRY(tta_dnnl_memory(ctx, &c_md, &st->m_bias));
    return TTA_OK;
}

/* The key of a batched MatMul (numpy.matmul shapes): 1-D operands promoted, batch dims padded
 * with leading 1s; when B has no batch (all 1s) A's batch is folded into M, a 2-D product.
 * False when the shapes do not match (the C kernel reports it) or the rank is too large. */
static bool batched_key(const tta_tensor *a, const tta_tensor *b, int64_t *key) {
    int nd = a->ndim > b->ndim ? a->ndim : b->ndim;
    if (nd < 2) nd = 2;
    if (nd > TTA_MAX_DIMS || nd > DNNL_MAX_NDIMS) return false;
    int64_t ad[TTA_MAX_DIMS], bd[TTA_MAX_DIMS];
    for (int i = 0; i < nd; i++) ad[i] = bd[i] = 1;
    if (a->ndim == 1)
        ad[nd - 1] = a->dims[0];
    else
        memcpy(ad + nd - a->ndim, a->dims, (size_t)a->ndim * sizeof(int64_t));
    if (b->ndim == 1)
        bd[nd - 2] = b->dims[0];
    else
        memcpy(bd + nd - b->ndim, b->dims, (size_t)b->ndim * sizeof(int64_t));
    int64_t M = ad[nd - 2], K = ad[nd - 1], N = bd[nd - 1];
    if (bd[nd - 2] != K) return false;
    bool b_flat = true;
    for (int i = 0; i < nd - 2; i++) {
        if (ad[i] != bd[i] && ad[i] != 1 && bd[i] != 1) return false;
        b_flat = b_flat && bd[i] == 1;
    }
    if (b_flat) {
        for (int i = 0; i < nd - 2; i++) M *= ad[i];
        nd = 2;
        ad[0] = M;
        ad[1] = bd[0] = K;
        bd[1] = N;
    }
    memset(key, 0, KEY_LEN * sizeof(int64_t));
    key[0] = M;
    key[1] = K;
    key[2] = N;
    key[3] = key[4] = 1;
    key[KEY_ND] = nd;
    memcpy(key + KEY_ND + 1, ad, (size_t)nd * sizeof(int64_t));
    memcpy(key + KEY_ND + 1 + nd, bd, (size_t)nd * sizeof(int64_t));
    return true;
}

/* Whether the C kernel was measured faster for this batched MatMul: below 4096 multiply-adds
 * (batch * M * N * K) oneDNN's per-call overhead dominates (bench/README.md, "Measured choices"). */
static bool use_c_for(const int64_t *key) {
    int nd = (int)key[KEY_ND];
    const int64_t *ad = key + KEY_ND + 1, *bd = ad + nd;
    double macs = (double)key[0] * (double)key[1] * (double)key[2];
    for (int i = 0; i < nd - 2; i++) macs *= (double)(ad[i] > bd[i] ? ad[i] : bd[i]);
    return macs < 4096.0;
}

/* Runs the cached primitive on a, b (and the row bias c when given) into y. */
static tta_status execute(tta_op_ctx *ctx, dmm_state *st, void *a, void *b, void *c, void *y) {
    TTA_DNNL_TRY(ctx, dnnl_memory_set_data_handle(st->m_a, a), "set A");
    TTA_DNNL_TRY(ctx, dnnl_memory_set_data_handle(st->m_b, b), "set B");
    TTA_DNNL_TRY(ctx, dnnl_memory_set_data_handle(st->m_y, y), "set Y");
    dnnl_exec_arg_t args[4] = {{DNNL_ARG_SRC, st->m_a}, {DNNL_ARG_WEIGHTS, st->m_b}, {DNNL_ARG_DST, st->m_y}};
    int nargs = 3;
    if (c) {
        TTA_DNNL_TRY(ctx, dnnl_memory_set_data_handle(st->m_bias, c), "set C");
        args[nargs++] = (dnnl_exec_arg_t){DNNL_ARG_BIAS, st->m_bias};
    }
    TTA_DNNL_TRY(ctx, dnnl_primitive_execute(st->prim, st->stream, nargs, args), "matmul");
    TTA_DNNL_TRY(ctx, dnnl_stream_wait(st->stream), "stream wait");
    return TTA_OK;
}

/* B as the primitive wants it: packed once into b_buf when the primitive was built for that. */
static tta_status packed_b(tta_op_ctx *ctx, dmm_state *st, const tta_tensor *b, void **out) {
    *out = b->data;
    if (!st->b_reorder) return TTA_OK;
    if (st->b_done != b->data) {
        TTA_TRY(tta_dnnl_reorder(ctx, &st->b_user_md, b->data,
                                 dnnl_primitive_desc_query_md(st->pd, dnnl_query_weights_md, 0), st->b_buf));
        st->b_done = b->data;
    }
    *out = st->b_buf;
    return TTA_OK;
}

/* MatMul with an operand that is not 2-D. */
static tta_status batched_compute(tta_op_ctx *ctx, dmm_state *st) {
    const tta_tensor *a = ctx->in[0], *b = ctx->in[1];
    tta_tensor *y = ctx->out[0];
    int64_t key[KEY_LEN];
    bool ok = tta_dnnl_is_f32(a, -1) && tta_dnnl_is_f32(b, -1) && tta_dnnl_is_f32(y, -1) && a->ndim >= 1 &&
              b->ndim >= 1 && tta_tensor_numel(y) > 0 && tta_tensor_numel(a) > 0 && batched_key(a, b, key) &&
              !use_c_for(key);
    if (!ok) return tta_dnnl_fallback_compute(ctx, &st->fb);
    if (!st->built || memcmp(key, st->key, sizeof key)) TTA_TRY(build(ctx, st, key));
    if (st->unusable) return tta_dnnl_fallback_compute(ctx, &st->fb);
    void *bdata;
    TTA_TRY(packed_b(ctx, st, b, &bdata));
    return execute(ctx, st, a->data, bdata, NULL, y->data);
}

tta_status tta_dnnl_matmul_compute(tta_op_ctx *ctx) {
    dmm_state *st = ctx->state;
    const tta_tensor *a = ctx->in[0], *b = ctx->in[1];
    if (!st->gemm && (a->ndim != 2 || b->ndim != 2)) return batched_compute(ctx, st);
    const tta_tensor *c = st->gemm && ctx->n_in > 2 && st->beta != 0.0f ? ctx->in[2] : NULL;
    tta_tensor *y = ctx->out[0];
    bool ok = tta_dnnl_is_f32(a, 2) && tta_dnnl_is_f32(b, 2) && tta_dnnl_is_f32(y, 2) && tta_tensor_numel(y) > 0 &&
              tta_tensor_numel(a) > 0 && (!c || (tta_dnnl_is_f32(c, -1) && c->ndim <= 2 && st->beta == 1.0f));
    if (!ok) return tta_dnnl_fallback_compute(ctx, &st->fb);
    int64_t M = y->dims[0], N = y->dims[1], K = st->trans_a ? a->dims[0] : a->dims[1];
    int64_t key[KEY_LEN] = {M, K, N, 1, 1, 0};
    if (c && c->ndim == 2) key[3] = c->dims[0];
    if (c && c->ndim >= 1) key[4] = c->dims[c->ndim - 1];
    /* oneDNN's fast matmul takes a row-vector bias, but scales it by alpha too; other shapes of C,
     * and any C with alpha != 1, are broadcast into Y and added by a sum post-op (after alpha). */
    if (c) key[5] = key[3] == 1 && key[4] == N && N > 1 && st->alpha == 1.0f ? 1 : 2;
    if (M <= 8 && st->b_const && !st->trans_a && key[5] != 2 && K * N >= 4096) { /* a classifier's head */
        if (!st->gv) {
            size_t bytes = (size_t)tta_gemv_packed_floats(K, N) * sizeof(float);
            TTA_TRY(tta_op_reserve(ctx, &st->held_gv, bytes, "the matrix product's packed B"));
            if (!(st->gv = tta_malloc(bytes))) return tta_op_error(ctx, TTA_ERR_NOMEM, "out of memory for the packed B");
        }
        if (st->gv_done != b->data) {
            tta_gemv_pack(b->data, K, N, st->trans_b, st->gv);
            st->gv_done = b->data;
        }
        tta_gemv_run((int)M, K, N, a->data, K, st->gv, c ? c->data : NULL, st->alpha, y->data, ctx->n_threads);
        return TTA_OK;
    }
    if (!st->built || memcmp(key, st->key, sizeof key)) TTA_TRY(build(ctx, st, key));
    if (st->unusable) return tta_dnnl_fallback_compute(ctx, &st->fb);
    if (c && key[5] == 2) {
        float *yd = y->data;
        const float *cd = c->data;
        int64_t cm = key[3], cn = key[4];
        for (int64_t i = 0; i < M; i++)
            for (int64_t j = 0; j < N; j++) yd[i * N + j] = cd[(cm == 1 ? 0 : i) * cn + (cn == 1 ? 0 : j)];
    }
    void *bdata;
    TTA_TRY(packed_b(ctx, st, b, &bdata));
    return execute(ctx, st, a->data, bdata, c && key[5] == 1 ? c->data : NULL, y->data);
}
