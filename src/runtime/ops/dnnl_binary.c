/* dnnl_binary.c - Add, Sub, Mul, Div of two float32 tensors (opset >= 7) through oneDNN's
 * binary primitive, with the plain C kernel (math_binary.c) as the fallback for everything else:
 * other dtypes, the legacy opset < 7 broadcast/axis attributes (not registered here), real
 * broadcasts, and small tensors.
 *
 * oneDNN is used when both operands have the output's shape, or one of them is a single
 * element: measured (tests/unit/test_dnnl_ew.c's timing, 2 threads, median of 7, dnnl / C in us)
 *                      [1,16,32,32]   [1,64,32,32]   [64,32,28,28]
 *   Add same shape      2.6 / 3.6      7.5 / 13.0     277 / 415
 *   Div same shape      2.7 / 4.7      6.4 / 18.5     299 / 498
 *   Add scalar          2.2 / 2.7      4.3 / 8.4      237 / 220 (188 / 216 on a second run)
 *   Add [1,C,1,1]       2.4 / 2.7      5.1 / 5.6      211 / 186
 *   Mul [N,C,1,1]       2.3 / 2.5      5.9 / 5.9      231 / 188
 * so real broadcasts (per channel and the rest, which the C kernel's collapsed row loop does
 * well) stay with the C kernel, as do outputs below MIN_ELEMS ([1,16,8,8]: 1.5 / 0.6).
 * oneDNN broadcasts only its second source: a single-element input 0 is swapped into the second
 * place for Add and Mul; Sub and Div then go to the C kernel.
 *
 * Max and Min are not registered: ONNX propagates NaN (np.maximum), oneDNN 2.6's binary_max/min
 * return the other operand for a NaN (x86 max/min semantics); see the NaN test in
 * tests/unit/test_dnnl_ew.c.
 *
 * Layouts: the plan hands element-wise kernels blocked tensors only when every operand has the
 * output's shape or is a scalar, which are exactly the cases done here, described flat (one
 * dimension of numel floats, or a single float): correct for any common layout. The one
 * exception is the per-channel operand S [N, C, 1, 1] of a blocked X (squeeze-and-excitation,
 * see layout.c), which channel_bcast does in a plain loop. No `layouts` callback is needed.
 *
 * The primitive is built on the first run for the element count and kept until it changes; the
 * stream lives in the state, so steady-state runs allocate nothing.
 */
#include <string.h>

#include "core/alloc.h"
#include "core/cpu.h"
#include "runtime/ops/dnnl_ew.h"

#define MIN_ELEMS 16384

typedef struct dbin_state {
    tta_dnnl_fallback fb; /* the plain C binary kernel */
    dnnl_alg_kind_t alg;
    bool usable, commutative;
    bool built, unusable;
    int64_t key_n;
    bool key_scalar;
    dnnl_primitive_t prim;
    dnnl_memory_t m_src0, m_src1, m_dst;
    dnnl_stream_t stream;
} dbin_state;

static void drop_primitive(dbin_state *st) {
    if (st->prim) dnnl_primitive_destroy(st->prim);
    if (st->m_src0) dnnl_memory_destroy(st->m_src0);
    if (st->m_src1) dnnl_memory_destroy(st->m_src1);
    if (st->m_dst) dnnl_memory_destroy(st->m_dst);
    st->prim = NULL;
    st->m_src0 = st->m_src1 = st->m_dst = NULL;
    st->built = st->unusable = false;
}

void tta_dnnl_binary_release(tta_op_ctx *ctx) {
    dbin_state *st = ctx->state;
    if (!st) return;
    drop_primitive(st);
    tta_dnnl_state_free(ctx, &st->fb, st->stream);
}

tta_status tta_dnnl_binary_prepare(tta_op_ctx *ctx) {
    dbin_state *st = tta_calloc(1, sizeof *st);
    if (!st) return tta_op_error(ctx, TTA_ERR_NOMEM, "out of memory");
    ctx->state = st;
    TTA_TRY(tta_dnnl_fallback_prepare(ctx, &st->fb, ctx->node->op_type));
    static const struct {
        const char *op;
        dnnl_alg_kind_t alg;
        bool commutative;
    } ops[] = {{"Add", dnnl_binary_add, true}, {"Sub", dnnl_binary_sub, false}, {"Mul", dnnl_binary_mul, true},
               {"Div", dnnl_binary_div, false}};
    for (size_t i = 0; i < sizeof ops / sizeof ops[0]; i++)
        if (!strcmp(ctx->node->op_type, ops[i].op)) {
            st->alg = ops[i].alg;
            st->commutative = ops[i].commutative;
            st->usable = ctx->node->opset >= 7 && ctx->n_in == 2;
        }
    return TTA_OK;
}

tta_status tta_dnnl_binary_infer(tta_op_ctx *ctx) {
    dbin_state *st = ctx->state;
    return tta_dnnl_fallback_infer(ctx, &st->fb);
}

static tta_status build(tta_op_ctx *ctx, dbin_state *st, int64_t n, bool scalar) {
    drop_primitive(st);
    st->built = true;
    st->key_n = n;
    st->key_scalar = scalar;
    int64_t one = 1;
    dnnl_memory_desc_t md0, md1;
    dnnl_binary_desc_t bd;
    dnnl_primitive_desc_t pd = NULL;
    dnnl_status_t s = tta_dnnl_plain_md(&md0, 1, &n);
    if (s == dnnl_success) s = tta_dnnl_plain_md(&md1, 1, scalar ? &one : &n);
    if (s == dnnl_success) s = dnnl_binary_desc_init(&bd, st->alg, &md0, &md1, &md0);
    if (s == dnnl_success) s = tta_dnnl_primitive(ctx, &bd, NULL, &pd, &st->prim);
    /* oneDNN's reference binary kernel would be slower than the C loop */
    const char *impl = NULL;
    if (s == dnnl_success && dnnl_primitive_desc_query(pd, dnnl_query_impl_info_str, 0, &impl) == dnnl_success &&
        impl && !strncmp(impl, "ref", 3))
        s = dnnl_unimplemented;
    if (pd) dnnl_primitive_desc_destroy(pd);
    if (s == dnnl_unimplemented || s == dnnl_invalid_arguments) {
        drop_primitive(st);
        st->built = st->unusable = true;
        return TTA_OK;
    }
    TTA_TRY(tta_dnnl_error(ctx, s, "binary primitive creation"));
    if (!st->stream) TTA_TRY(tta_dnnl_stream_new(ctx, &st->stream));
    TTA_TRY(tta_dnnl_memory(ctx, &md0, &st->m_src0));
    TTA_TRY(tta_dnnl_memory(ctx, &md1, &st->m_src1));
    TTA_TRY(tta_dnnl_memory(ctx, &md0, &st->m_dst));
    return TTA_OK;
}

/* One [HW][B] plane: y = x op v (or v op x when s_first) per lane. B is a constant in each
 * instance; built for AVX-512, AVX2 and the baseline, picked by tta_cpu_isa() (no FMA: the same
 * bits from all three). */
static inline __attribute__((always_inline)) void bcast_plane(const float *xp, const float *v, float *yp, int64_t HW,
                                                              const int B, int op, bool s_first) {
#define CHANNEL_LOOP(expr)                                                                                   \
    for (int64_t i = 0; i < HW; i++)                                                                         \
        for (int b = 0; b < B; b++) yp[i * B + b] = (expr);
    switch (op * 2 + s_first) {
    case 0: case 1: CHANNEL_LOOP(xp[i * B + b] + v[b]) break;
    case 2: CHANNEL_LOOP(xp[i * B + b] - v[b]) break;
    case 3: CHANNEL_LOOP(v[b] - xp[i * B + b]) break;
    case 4: case 5: CHANNEL_LOOP(xp[i * B + b] * v[b]) break;
    case 6: CHANNEL_LOOP(xp[i * B + b] / v[b]) break;
    default: CHANNEL_LOOP(v[b] / xp[i * B + b]) break;
    }
#undef CHANNEL_LOOP
}
#define BCAST_VARIANT(attr, suffix)                                                                          \
    attr static void bcast_plane_##suffix(const float *xp, const float *v, float *yp, int64_t HW, int B, int op, \
                                          bool s_first) {                                                    \
        if (B == 16) bcast_plane(xp, v, yp, HW, 16, op, s_first);                                             \
        else bcast_plane(xp, v, yp, HW, 8, op, s_first);                                                      \
    }
BCAST_VARIANT(, generic)
BCAST_VARIANT(TTA_TARGET_AVX2, avx2)
BCAST_VARIANT(TTA_TARGET_AVX512, avx512)

/* X op S (or S op X) for a blocked X [N, C, H, W] (C a multiple of the block) and a plain per-channel
 * S with N*C or C elements, into blocked Y: the plan's per-channel broadcast (layout.c). */
static tta_status channel_bcast(tta_op_ctx *ctx, dnnl_alg_kind_t alg) {
    int xi = tta_in_layout(ctx, 0) == TTA_LAYOUT_BLOCKED ? 0 : 1;
    const tta_tensor *x = ctx->in[xi], *sv = ctx->in[1 - xi];
    tta_tensor *y = ctx->out[0];
    const int64_t N = y->dims[0], C = y->dims[1], HW = y->dims[2] * y->dims[3], B = tta_layout_block();
    const int64_t per_n = tta_tensor_numel(sv) == C ? 0 : C;
    if (!tta_dnnl_is_f32(x, 4) || !tta_dnnl_is_f32(sv, -1) || C % B || (per_n && tta_tensor_numel(sv) != N * C) ||
        (B != 8 && B != 16))
        return tta_op_error(ctx, TTA_ERR_INTERNAL, "blocked per-channel operand of unexpected shape");
    void (*plane)(const float *, const float *, float *, int64_t, int, int, bool) =
        TTA_ISA_PICK(bcast_plane_generic, bcast_plane_avx2, bcast_plane_avx512);
    const float *xd = x->data, *sd = sv->data;
    float *yd = y->data;
    const int op = alg == dnnl_binary_add ? 0 : alg == dnnl_binary_sub ? 1 : alg == dnnl_binary_mul ? 2 : 3;
    const bool s_first = xi == 1;
    const int64_t planes = N * (C / B);
    int nt = ctx->n_threads > 1 && planes > 1 ? ctx->n_threads : 1;
#pragma omp parallel for num_threads(nt) if (nt > 1)
    for (int64_t pl = 0; pl < planes; pl++) {
        const int64_t n = pl / (C / B), c0 = pl % (C / B) * B;
        plane(xd + pl * HW * B, sd + n * per_n + c0, yd + pl * HW * B, HW, (int)B, op, s_first);
    }
    return TTA_OK;
}

tta_status tta_dnnl_binary_compute(tta_op_ctx *ctx) {
    dbin_state *st = ctx->state;
    const tta_tensor *a = ctx->in[0], *b = ctx->in[1];
    tta_tensor *y = ctx->out[0];
    if (tta_out_layout(ctx, 0) == TTA_LAYOUT_BLOCKED && tta_tensor_numel(a) != tta_tensor_numel(b))
        return channel_bcast(ctx, st->alg);
    int64_t n = tta_tensor_numel(y);
    if (!st->usable || !tta_dnnl_is_f32(a, -1) || !tta_dnnl_is_f32(b, -1) || !tta_dnnl_is_f32(y, -1) ||
        n < MIN_ELEMS)
        return tta_dnnl_fallback_compute(ctx, &st->fb);
    /* src0: the full-size operand; src1: full-size too, or a single element */
    if (tta_tensor_numel(a) != n) {
        if (!st->commutative || tta_tensor_numel(a) != 1) return tta_dnnl_fallback_compute(ctx, &st->fb);
        const tta_tensor *t = a;
        a = b;
        b = t;
    }
    int64_t nb = tta_tensor_numel(b);
    if (tta_tensor_numel(a) != n || (nb != n && nb != 1)) return tta_dnnl_fallback_compute(ctx, &st->fb);
    bool scalar = nb == 1 && n > 1;
    if (!st->built || st->key_n != n || st->key_scalar != scalar) TTA_TRY(build(ctx, st, n, scalar));
    if (st->unusable) return tta_dnnl_fallback_compute(ctx, &st->fb);
    TTA_DNNL_TRY(ctx, dnnl_memory_set_data_handle(st->m_src0, a->data), "set src0");
    TTA_DNNL_TRY(ctx, dnnl_memory_set_data_handle(st->m_src1, b->data), "set src1");
    TTA_DNNL_TRY(ctx, dnnl_memory_set_data_handle(st->m_dst, y->data), "set dst");
    dnnl_exec_arg_t args[3] = {{DNNL_ARG_SRC_0, st->m_src0}, {DNNL_ARG_SRC_1, st->m_src1}, {DNNL_ARG_DST, st->m_dst}};
    TTA_DNNL_TRY(ctx, dnnl_primitive_execute(st->prim, st->stream, 3, args), "binary");
    TTA_DNNL_TRY(ctx, dnnl_stream_wait(st->stream), "stream wait");
    return TTA_OK;
}
