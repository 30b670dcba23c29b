/* dnnl_eltwise.c - element-wise unary ops through oneDNN's eltwise_forward primitive (inference),
 * for float32 tensors, with the plain C kernel (math_unary.c) as the fallback for everything else
 * (other dtypes, modes, small tensors).
 *
 * Registered (table_dnnl_ew.c), where oneDNN 2.6 matches ONNX within the runtime's tolerance,
 * NaN and infinities included, and is faster:
 *   Sigmoid = logistic, Tanh = tanh, Sqrt = sqrt, Round = round (half to even, as nearbyint),
 *   HardSwish = hardswish (x * relu6(x + 3) / 6), Elu = elu(alpha) for |alpha| <= 1.
 * Left to the C kernel, with the reason:
 *   Relu (oneDNN gives 0 for NaN, ONNX NaN), Clip and HardSigmoid (clip gives the bound for NaN),
 *   Exp (inf for NaN), Log (relative error 1.5e-3 near x = 1, log(1) = -1.4e-6), Softplus
 *   (soft_relu: absolute error ~2e-6 for x < -8), Selu and Elu with |alpha| > 1 (exp(x) - 1 near 0:
 *   absolute error ~6e-8 times alpha passes 1e-7), LeakyRelu, Abs, Neg (no faster: memory-bound,
 *   the C loops are as fast or faster; figures below), Gelu and Mish (no C kernel to fall back
 *   on), Celu, Softsign, Erf, trigonometry and the rest (no oneDNN algorithm).
 *
 * Measured (tests/unit/test_dnnl_ew.c's timing, 2 threads, median of 7, dnnl / C in us):
 *                 [1,16,8,8]   [1,16,32,32]   [1,64,32,32]   [64,32,28,28]
 *   Sigmoid        1.4 / 2.8     6.3 / 36.5    20.4 / 73.4     543 / 1799
 *   Tanh           2.9 / 3.9    28.0 / 56.5     108 / 112     2647 / 2747
 *   Sqrt           1.2 / 4.7     2.8 / 126      8.2 / 278      230 / 6771
 *   Round          1.1 / 3.6     2.6 / 46.6     7.3 / 93.3     232 / 2289
 *   Elu            1.4 / 4.6     5.5 / 122     17.2 / 286      435 / 7635
 *   HardSwish      1.2 / 0.9     2.6 / 7.6      7.0 / 15.6     269 / 368
 *   Relu           1.2 / 0.6     2.9 / 3.7      8.5 / 7.2      399 / 278 (235 / 203 rerun)
 *   LeakyRelu      1.2 / 0.6     2.7 / 3.9      7.2 / 6.4      234 / 223 (248 / 180 rerun)
 *   Abs            1.2 / 0.6     2.1 / 3.2      5.3 / 6.1      248 / 236 (237 / 176 rerun)
 *   Neg            1.2 / 0.6     2.5 / 3.6      6.9 / 7.8      248 / 229 (236 / 182 rerun)
 * oneDNN's fixed cost per call is about 1.2 us, so HardSwish below MIN_ELEMS_CHEAP elements and
 * the others below MIN_ELEMS go to the C kernel.
 *
 * Layouts: these ops work on a flat array, so the tensor is described to oneDNN as one
 * dimension of numel floats; that is correct for any layout the plan hands in, plain or
 * channel-blocked (the output has the input's layout and byte count: the plan never gives
 * element-wise ops padded blocked tensors). No `layouts` callback is needed.
 *
 * The primitive is built on the first run for the element count and kept until it changes; the
 * stream lives in the state, so steady-state runs allocate nothing.
 */
#include <string.h>

#include "core/alloc.h"
#include "runtime/ops/dnnl_ew.h"

#define MIN_ELEMS 1024
#define MIN_ELEMS_CHEAP 4096

typedef struct delt_state {
    tta_dnnl_fallback fb; /* the plain C unary kernel */
    dnnl_alg_kind_t alg;
    float alpha, beta;
    bool usable; /* oneDNN does this node's op and mode exactly */
    int64_t min_elems;
    bool built, unusable;
    int64_t key_n;
    dnnl_primitive_t prim;
    dnnl_memory_t m_src, m_dst;
    dnnl_stream_t stream;
} delt_state;

static void drop_primitive(delt_state *st) {
    if (st->prim) dnnl_primitive_destroy(st->prim);
    if (st->m_src) dnnl_memory_destroy(st->m_src);
    if (st->m_dst) dnnl_memory_destroy(st->m_dst);
    st->prim = NULL;
    st->m_src = st->m_dst = NULL;
    st->built = st->unusable = false;
}

void tta_dnnl_eltwise_release(tta_op_ctx *ctx) {
    delt_state *st = ctx->state;
    if (!st) return;
    drop_primitive(st);
    tta_dnnl_state_free(ctx, &st->fb, st->stream);
}

/* Maps the node to a oneDNN algorithm; leaves st->usable false when oneDNN does not match ONNX. */
static void map_op(delt_state *st, const tta_node *node) {
    static const struct {
        const char *op;
        dnnl_alg_kind_t alg;
        bool cheap;
    } ops[] = {{"Sigmoid", dnnl_eltwise_logistic, false}, {"Tanh", dnnl_eltwise_tanh, false},
               {"Sqrt", dnnl_eltwise_sqrt, false},        {"Round", dnnl_eltwise_round, false},
               {"Elu", dnnl_eltwise_elu, false},          {"HardSwish", dnnl_eltwise_hardswish, true}};
    for (size_t i = 0; i < sizeof ops / sizeof ops[0]; i++)
        if (!strcmp(node->op_type, ops[i].op)) {
            st->alg = ops[i].alg;
            st->usable = true;
            st->min_elems = ops[i].cheap ? MIN_ELEMS_CHEAP : MIN_ELEMS;
        }
    if (st->alg == dnnl_eltwise_elu) {
        st->alpha = tta_attr_float(node, "alpha", 1.0f);
        /* oneDNN computes alpha * (exp(x) - 1): near 0 its absolute error (~6e-8) times alpha
         * must stay within the runtime's 1e-7 */
        st->usable = st->alpha >= -1.0f && st->alpha <= 1.0f;
    }
}

tta_status tta_dnnl_eltwise_prepare(tta_op_ctx *ctx) {
    delt_state *st = tta_calloc(1, sizeof *st);
    if (!st) return tta_op_error(ctx, TTA_ERR_NOMEM, "out of memory");
    ctx->state = st;
    TTA_TRY(tta_dnnl_fallback_prepare(ctx, &st->fb, ctx->node->op_type));
    map_op(st, ctx->node);
    return TTA_OK;
}

tta_status tta_dnnl_eltwise_infer(tta_op_ctx *ctx) {
    delt_state *st = ctx->state;
    return tta_dnnl_fallback_infer(ctx, &st->fb);
}

static tta_status build(tta_op_ctx *ctx, delt_state *st, int64_t n) {
    drop_primitive(st);
    st->built = true;
    st->key_n = n;
    dnnl_memory_desc_t md;
    dnnl_eltwise_desc_t ed;
    dnnl_primitive_desc_t pd = NULL;
    dnnl_status_t s = tta_dnnl_plain_md(&md, 1, &n);
    if (s == dnnl_success)
        s = dnnl_eltwise_forward_desc_init(&ed, dnnl_forward_inference, st->alg, &md, st->alpha, st->beta);
    if (s == dnnl_success) s = tta_dnnl_primitive(ctx, &ed, NULL, &pd, &st->prim);
    /* oneDNN's reference eltwise would be slower than the C loop: take the C kernel then */
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
    TTA_TRY(tta_dnnl_error(ctx, s, "eltwise primitive creation"));
    if (!st->stream) TTA_TRY(tta_dnnl_stream_new(ctx, &st->stream));
    TTA_TRY(tta_dnnl_memory(ctx, &md, &st->m_src));
    TTA_TRY(tta_dnnl_memory(ctx, &md, &st->m_dst));
    return TTA_OK;
}

tta_status tta_dnnl_eltwise_compute(tta_op_ctx *ctx) {
    delt_state *st = ctx->state;
    const tta_tensor *x = ctx->in[0];
    tta_tensor *y = ctx->out[0];
    int64_t n = tta_tensor_numel(x);
    if (!st->usable || !tta_dnnl_is_f32(x, -1) || !tta_dnnl_is_f32(y, -1) || n < st->min_elems ||
        tta_tensor_numel(y) != n)
        return tta_dnnl_fallback_compute(ctx, &st->fb);
    if (!st->built || st->key_n != n) TTA_TRY(build(ctx, st, n));
    if (st->unusable) return tta_dnnl_fallback_compute(ctx, &st->fb);
    TTA_DNNL_TRY(ctx, dnnl_memory_set_data_handle(st->m_src, x->data), "set src");
    TTA_DNNL_TRY(ctx, dnnl_memory_set_data_handle(st->m_dst, y->data), "set dst");
    dnnl_exec_arg_t args[2] = {{DNNL_ARG_SRC, st->m_src}, {DNNL_ARG_DST, st->m_dst}};
    TTA_DNNL_TRY(ctx, dnnl_primitive_execute(st->prim, st->stream, 2, args), "eltwise");
    TTA_DNNL_TRY(ctx, dnnl_stream_wait(st->stream), "stream wait");
    return TTA_OK;
}
