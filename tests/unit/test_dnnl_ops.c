/* test_dnnl_ops.c - the oneDNN-backed kernels (family "dnnl") against their plain C kernels:
 * each case builds a node, runs it through tta_kernel_find() (which must pick the dnnl kernel)
 * and through the C kernel taken directly from tta_kernels_nn / tta_kernels_math, on the same
 * pseudo-random inputs (fixed seed), and compares with |got - ref| <= 1e-4 * (1 + |ref|).
 * Shapes cover odd sizes, strides, pads, groups, depthwise, dilation and batch 3; also the
 * fallbacks (float64), shape changes between runs, weights that change between runs, and
 * FusedConv post-ops. A small timing of a 2-D conv, dnnl vs C, is printed to stderr. */
#include <stdint.h>
#include <time.h>

#include "runtime/op.h"
#include "runtime/ops/dnnl_common.h"
#include "test.h"
#include "test_nodes.h"

TTA_KERNEL_LIST(tta_kernels_nn)
TTA_KERNEL_LIST(tta_kernels_math)

static const tta_kernel *c_kernel(const char *op) {
    for (int i = 0; i < tta_kernels_nn_count; i++)
        if (!strcmp(tta_kernels_nn[i].op_type, op)) return &tta_kernels_nn[i];
    for (int i = 0; i < tta_kernels_math_count; i++)
        if (!strcmp(tta_kernels_math[i].op_type, op)) return &tta_kernels_math[i];
    return NULL;
}

/* prepare -> (infer -> size -> compute) x runs -> release; outputs must be zeroed tensors. */
static tta_status run_kernel(const tta_kernel *k, const tta_node *node, tta_tensor **in, int n_in, tta_tensor **out,
                             int n_out, int runs) {
    if (!k) return TTA_ERR_UNSUPPORTED;
    tta_op_ctx ctx = {node, n_in, n_out, in, out, NULL, 2};
    tta_status st = k->prepare ? k->prepare(&ctx) : TTA_OK;
    for (int r = 0; st == TTA_OK && r < runs; r++) {
        st = k->infer(&ctx);
        for (int i = 0; st == TTA_OK && i < n_out; i++) {
            if (!out[i]) continue;
            int64_t dims[TTA_MAX_DIMS];
            memcpy(dims, out[i]->dims, sizeof dims);
            st = tta_tensor_resize(out[i], out[i]->dtype, out[i]->ndim, dims);
        }
        if (st == TTA_OK) st = k->compute(&ctx);
    }
    if (k->release) k->release(&ctx);
    return st;
}

static const tta_kernel *dnnl_kernel(const tta_node *node) {
    const tta_kernel *k = tta_kernel_find(node);
    CHECK(k != NULL && !strcmp(k->backend, "dnnl"));
    return k;
}


/* Runs node through the dnnl kernel and the C kernel `c_op` and compares output 0. */
static void compare(const tta_node *node, const char *c_op, tta_tensor **in, int n_in, const char *what) {
    tta_tensor got = {0}, ref = {0};
    tta_tensor *og[] = {&got}, *orf[] = {&ref};
    tta_status s1 = run_kernel(dnnl_kernel(node), node, in, n_in, og, 1, 2);
    tta_status s2 = run_kernel(c_kernel(c_op), node, in, n_in, orf, 1, 1);
    if (s1 || s2) fprintf(stderr, "  %s: dnnl %d, C %d: %s\n", what, s1, s2, tta_last_error());
    CHECK_EQ_INT(s1, TTA_OK);
    CHECK_EQ_INT(s2, TTA_OK);
    if (!s1 && !s2) check_close(&got, &ref, what);
    tta_tensor_destroy(&got);
    tta_tensor_destroy(&ref);
}

/* ---- Conv */

typedef struct conv_case {
    const char *what;
    int64_t n, c, m, h, w, kh, kw, group;
    int64_t sh, sw, dh, dw, pads[4];
    const char *auto_pad;
    bool bias;
} conv_case;

static void conv_node(node_builder *nb, const conv_case *cc, int n_in) {
    nb_init(nb, "Conv", 11, n_in, 1);
    if (cc->group > 1) nb_int(nb, "group", cc->group);
    nb_ints(nb, "strides", INTS(cc->sh, cc->sw));
    nb_ints(nb, "dilations", INTS(cc->dh, cc->dw));
    if (cc->auto_pad) nb_str(nb, "auto_pad", cc->auto_pad);
    else nb_ints(nb, "pads", INTS(cc->pads[0], cc->pads[1], cc->pads[2], cc->pads[3]));
    nb_ints(nb, "kernel_shape", INTS(cc->kh, cc->kw));
}

static const conv_case conv_cases[] = {
    {"odd 7x9, pad 1, bias", 1, 3, 5, 7, 9, 3, 3, 1, 1, 1, 1, 1, {1, 1, 1, 1}, NULL, true},
    {"stride 2, asymmetric pads", 2, 4, 6, 11, 10, 3, 3, 1, 2, 2, 1, 1, {0, 1, 2, 0}, NULL, false},
    {"groups 2", 1, 4, 6, 8, 8, 3, 3, 2, 1, 1, 1, 1, {1, 1, 1, 1}, NULL, true},
    {"depthwise stride 2", 2, 8, 8, 13, 13, 3, 3, 8, 2, 2, 1, 1, {1, 1, 1, 1}, NULL, true},
    {"depthwise multiplier 2", 1, 4, 8, 9, 7, 5, 5, 4, 1, 1, 1, 1, {2, 2, 2, 2}, NULL, false},
    {"dilation 2", 1, 3, 4, 12, 11, 3, 3, 1, 1, 1, 2, 2, {2, 2, 2, 2}, NULL, true},
    {"batch 3 SAME_UPPER stride 2", 3, 5, 7, 9, 10, 3, 3, 1, 2, 2, 1, 1, {0}, "SAME_UPPER", true},
    {"SAME_LOWER 4x4 kernel", 3, 2, 3, 7, 8, 4, 4, 1, 1, 1, 1, 1, {0}, "SAME_LOWER", false},
    {"VALID 1x1 stride 2", 2, 16, 8, 9, 9, 1, 1, 1, 2, 2, 1, 1, {0}, "VALID", true},
    {"1x1", 3, 16, 24, 5, 6, 1, 1, 1, 1, 1, 1, 1, {0, 0, 0, 0}, NULL, true},
    {"non-square kernel, dilation 1x3", 1, 6, 4, 10, 15, 2, 3, 2, 1, 2, 1, 3, {1, 0, 0, 2}, NULL, true},
};

TEST(dnnl_conv_matches_c) {
    for (size_t i = 0; i < sizeof conv_cases / sizeof conv_cases[0]; i++) {
        const conv_case *cc = &conv_cases[i];
        tta_tensor X = RAND(TTA_DTYPE_FLOAT32, cc->n, cc->c, cc->h, cc->w);
        tta_tensor W = RAND(TTA_DTYPE_FLOAT32, cc->m, cc->c / cc->group, cc->kh, cc->kw);
        tta_tensor B = RAND(TTA_DTYPE_FLOAT32, cc->m);
        tta_tensor *in[] = {&X, &W, &B};
        node_builder nb;
        conv_node(&nb, cc, cc->bias ? 3 : 2);
        compare(&nb.node, "Conv", in, cc->bias ? 3 : 2, cc->what);
        tta_tensor_destroy(&X);
        tta_tensor_destroy(&W);
        tta_tensor_destroy(&B);
    }
}

TEST(dnnl_conv_1d_3d_and_float64) {
    node_builder nb;
    tta_tensor X = RAND(TTA_DTYPE_FLOAT32, 2, 3, 17), W = RAND(TTA_DTYPE_FLOAT32, 4, 3, 3);
    tta_tensor *in[] = {&X, &W};
    nb_init(&nb, "Conv", 11, 2, 1);
    nb_ints(&nb, "pads", INTS(1, 2));
    nb_ints(&nb, "strides", INTS(2));
    compare(&nb.node, "Conv", in, 2, "1-D");
    tta_tensor_destroy(&X);
    tta_tensor_destroy(&W);

    X = RAND(TTA_DTYPE_FLOAT32, 1, 2, 5, 6, 7);
    W = RAND(TTA_DTYPE_FLOAT32, 3, 2, 3, 3, 3);
    nb_init(&nb, "Conv", 11, 2, 1);
    nb_ints(&nb, "pads", INTS(1, 1, 1, 1, 0, 1));
    compare(&nb.node, "Conv", in, 2, "3-D");
    tta_tensor_destroy(&X);
    tta_tensor_destroy(&W);

    /* float64 goes to the C kernel through the dnnl entry */
    X = RAND(TTA_DTYPE_FLOAT64, 1, 2, 6, 6);
    W = RAND(TTA_DTYPE_FLOAT64, 3, 2, 3, 3);
    nb_init(&nb, "Conv", 11, 2, 1);
    compare(&nb.node, "Conv", in, 2, "float64");
    tta_tensor_destroy(&X);
    tta_tensor_destroy(&W);
}

/* prepare -> infer -> size -> compute, once, with the plan's memory budget `b`. */
static tta_status run_with_budget(const tta_kernel *k, const tta_node *node, tta_tensor **in, int n_in, tta_tensor *out,
                                  tta_mem_budget *b) {
    tta_tensor *outs[] = {out};
    tta_op_ctx ctx = {node, n_in, 1, in, outs, NULL, 1};
    ctx.budget = b;
    tta_status st = k->prepare ? k->prepare(&ctx) : TTA_OK;
    if (!st) st = k->infer(&ctx);
    if (!st) {
        int64_t dims[TTA_MAX_DIMS];
        memcpy(dims, out->dims, sizeof dims);
        st = tta_tensor_resize(out, out->dtype, out->ndim, dims);
    }
    if (!st) st = k->compute(&ctx);
    if (k->release) k->release(&ctx);
    return st;
}

/* A kernel's own buffers count against the plan's memory budget: a 3x3 convolution of 64 to 64
 * channels on a 4x4 input has 147,456 bytes of weights, which oneDNN wants reordered (and the
 * C kernel's im2col buffer is 576 x 16 floats): a limit below that is refused before allocating,
 * naming the buffers; a limit above it is charged at least that much. */
TEST(kernel_buffers_count_against_the_budget) {
    tta_tensor X = RAND(TTA_DTYPE_FLOAT32, 1, 64, 4, 4), W = RAND(TTA_DTYPE_FLOAT32, 64, 64, 3, 3);
    tta_tensor *in[] = {&X, &W};
    const conv_case cc = {"budget", 1, 64, 64, 4, 4, 3, 3, 1, 1, 1, 1, 1, {1, 1, 1, 1}, NULL, false};
    node_builder nb;
    conv_node(&nb, &cc, 2);
    const tta_kernel *kd = dnnl_kernel(&nb.node), *kc = c_kernel("Conv");
    tta_tensor y = {.dtype = TTA_DTYPE_FLOAT32};
    tta_mem_budget b = {.limit = (size_t)64 << 20};
    CHECK_EQ_INT(run_with_budget(kd, &nb.node, in, 2, &y, &b), TTA_OK);
    CHECK(b.used >= 64 * 64 * 9 * sizeof(float));
    tta_mem_budget small = {.limit = 100000};
    CHECK_EQ_INT(run_with_budget(kd, &nb.node, in, 2, &y, &small), TTA_ERR_NOMEM);
    CHECK_STR_CONTAINS(tta_last_error(), "more than the memory limit of 100000 bytes");
    CHECK(small.used <= small.limit);
    /* the C kernel: im2col of 64 x 9 rows by 16 columns */
    tta_mem_budget cb = {.limit = (size_t)64 << 20};
    CHECK_EQ_INT(run_with_budget(kc, &nb.node, in, 2, &y, &cb), TTA_OK);
    CHECK(cb.used >= 64 * 9 * 16 * sizeof(float));
    tta_mem_budget csmall = {.limit = 64 * 9 * 16 * sizeof(float) - 1};
    CHECK_EQ_INT(run_with_budget(kc, &nb.node, in, 2, &y, &csmall), TTA_ERR_NOMEM);
    CHECK_STR_CONTAINS(tta_last_error(), "the im2col buffer");
    /* without a budget (kernels driven directly), no limit */
    CHECK_EQ_INT(run_with_budget(kd, &nb.node, in, 2, &y, NULL), TTA_OK);
    tta_tensor_destroy(&y);
    tta_tensor_destroy(&X);
    tta_tensor_destroy(&W);
}

/* One prepared kernel, run on inputs whose shape and weights change between runs. */
TEST(dnnl_conv_shape_and_weight_changes) {
    node_builder nb;
    nb_init(&nb, "Conv", 11, 2, 1);
    nb_ints(&nb, "pads", INTS(1, 1, 1, 1));
    const tta_kernel *k = dnnl_kernel(&nb.node);
    tta_tensor X = RAND(TTA_DTYPE_FLOAT32, 1, 4, 6, 6), W = RAND(TTA_DTYPE_FLOAT32, 8, 4, 3, 3), Y = {0}, R = {0};
    tta_tensor *in[] = {&X, &W}, *out[] = {&Y}, *ref[] = {&R};
    void *wdata = W.data;
    W.data = NULL; /* not known at prepare: weights may change per run */
    tta_op_ctx ctx = {&nb.node, 2, 1, in, out, NULL, 2};
    CHECK(k->prepare(&ctx) == TTA_OK);
    W.data = wdata;
    for (int run = 0; run < 3; run++) {
        if (run == 1) { /* new weights, same buffer */
            for (int64_t i = 0; i < tta_tensor_numel(&W); i++) ((float *)W.data)[i] = frand();
        }
        if (run == 2) { /* new input shape */
            tta_tensor_destroy(&X);
            X = RAND(TTA_DTYPE_FLOAT32, 3, 4, 9, 5);
        }
        CHECK(k->infer(&ctx) == TTA_OK);
        CHECK(tta_tensor_resize(&Y, Y.dtype, Y.ndim, Y.dims) == TTA_OK);
        CHECK(k->compute(&ctx) == TTA_OK);
        CHECK(run_kernel(c_kernel("Conv"), &nb.node, in, 2, ref, 1, 1) == TTA_OK);
        check_close(&Y, &R, "changing conv");
        tta_tensor_destroy(&R);
    }
    k->release(&ctx);
    tta_tensor_destroy(&X);
    tta_tensor_destroy(&W);
    tta_tensor_destroy(&Y);
}

/* FusedConv = Conv, + Z, then the activation: checked against the C Conv plus the same
 * arithmetic done here. */
static void fused_case(tta_dtype dt, const char *act, int np, const float *params, bool with_z,
                       double (*f)(double, const float *)) {
    node_builder nb;
    nb_init(&nb, "FusedConv", 1, with_z ? 4 : 3, 1);
    nb.node.domain = "com.microsoft";
    nb_ints(&nb, "pads", INTS(1, 1, 1, 1));
    nb_str(&nb, "activation", act);
    if (np) nb_floats(&nb, "activation_params", np, params);
    tta_tensor X = RAND(dt, 2, 3, 7, 8), W = RAND(dt, 5, 3, 3, 3);
    tta_tensor B = RAND(dt, 5), Z = RAND(dt, 2, 5, 7, 8), Y = {0}, R = {0};
    tta_tensor *in[] = {&X, &W, &B, &Z}, *out[] = {&Y}, *ref[] = {&R};
    CHECK(run_kernel(dnnl_kernel(&nb.node), &nb.node, in, with_z ? 4 : 3, out, 1, 2) == TTA_OK);
    node_builder cn;
    nb_init(&cn, "Conv", 11, 3, 1);
    nb_ints(&cn, "pads", INTS(1, 1, 1, 1));
    CHECK(run_kernel(c_kernel("Conv"), &cn.node, in, 3, ref, 1, 1) == TTA_OK);
    for (int64_t i = 0; i < tta_tensor_numel(&R); i++) {
        double v = tta_get_f64(&R, i) + (with_z ? tta_get_f64(&Z, i) : 0.0);
        tta_set_f64(&R, i, f(v, params));
    }
    check_close(&Y, &R, act);
    tta_tensor_destroy(&Y);
    tta_tensor_destroy(&X);
    tta_tensor_destroy(&W);
    tta_tensor_destroy(&B);
    tta_tensor_destroy(&Z);
    tta_tensor_destroy(&R);
}

static double f_relu(double v, const float *p) { (void)p; return v > 0 ? v : 0; }
static double f_leaky(double v, const float *p) { return v >= 0 ? v : p[0] * v; }
static double f_clip(double v, const float *p) { return v < p[0] ? p[0] : v > p[1] ? p[1] : v; }
static double f_sigmoid(double v, const float *p) { (void)p; return 1 / (1 + exp(-v)); }
static double f_hsig(double v, const float *p) {
    double h = p[0] * v + p[1];
    return h < 0 ? 0 : h > 1 ? 1 : h;
}
static double f_hswish(double v, const float *p) {
    (void)p;
    double h = v / 6 + 0.5;
    return v * (h < 0 ? 0 : h > 1 ? 1 : h);
}
static double f_tanh(double v, const float *p) { (void)p; return tanh(v); }
static double f_swish(double v, const float *p) { (void)p; return v / (1 + exp(-v)); }

TEST(dnnl_fusedconv_post_ops) {
    fused_case(TTA_DTYPE_FLOAT32, "Relu", 0, NULL, false, f_relu);
    fused_case(TTA_DTYPE_FLOAT32, "Relu", 0, NULL, true, f_relu);
    fused_case(TTA_DTYPE_FLOAT32, "LeakyRelu", 1, (float[]){0.1f}, true, f_leaky);
    fused_case(TTA_DTYPE_FLOAT32, "Clip", 2, (float[]){-0.5f, 0.7f}, false, f_clip);
    fused_case(TTA_DTYPE_FLOAT32, "Sigmoid", 0, NULL, true, f_sigmoid);
    fused_case(TTA_DTYPE_FLOAT32, "HardSigmoid", 2, (float[]){0.3f, 0.4f}, false, f_hsig);
    fused_case(TTA_DTYPE_FLOAT32, "HardSwish", 0, NULL, true, f_hswish);
    fused_case(TTA_DTYPE_FLOAT32, "Tanh", 0, NULL, false, f_tanh);
    fused_case(TTA_DTYPE_FLOAT32, "Swish", 0, NULL, false, f_swish);
    fused_case(TTA_DTYPE_FLOAT32, "Swish", 0, NULL, true, f_swish);
    fused_case(TTA_DTYPE_FLOAT64, "Swish", 0, NULL, true, f_swish);
    /* float64: the plain C path (C Conv, then Z and the activation) */
    fused_case(TTA_DTYPE_FLOAT64, "Clip", 2, (float[]){-0.5f, 0.7f}, true, f_clip);
    fused_case(TTA_DTYPE_FLOAT64, "Relu", 0, NULL, false, f_relu);
    node_builder nb;
    nb_init(&nb, "FusedConv", 1, 2, 1);
    nb.node.domain = "com.microsoft";
    nb_str(&nb, "activation", "Softplus");
    CHECK(tta_kernel_find(&nb.node) == NULL); /* declined: no kernel claims it */
    (void)nb_float;
}

/* ---- MaxPool, AveragePool */

typedef struct pool_case {
    const char *op, *what;
    int64_t n, c, h, w, kh, kw, sh, sw, dh, dw, pads[4];
    const char *auto_pad;
    int ceil_mode, include_pad;
} pool_case;

static const pool_case pool_cases[] = {
    {"MaxPool", "3x3 stride 2 pad 1, odd", 1, 3, 11, 9, 3, 3, 2, 2, 1, 1, {1, 1, 1, 1}, NULL, 0, 0},
    {"MaxPool", "ceil_mode", 3, 4, 10, 7, 3, 3, 2, 2, 1, 1, {0, 0, 0, 0}, NULL, 1, 0},
    {"MaxPool", "dilation 2", 1, 2, 9, 10, 2, 2, 1, 1, 2, 2, {0, 1, 0, 1}, NULL, 0, 0},
    {"MaxPool", "SAME_UPPER stride 2", 2, 5, 9, 8, 3, 3, 2, 2, 1, 1, {0}, "SAME_UPPER", 0, 0},
    {"AveragePool", "exclude pad", 3, 3, 8, 9, 3, 3, 1, 1, 1, 1, {1, 1, 1, 1}, NULL, 0, 0},
    {"AveragePool", "include pad, asymmetric", 1, 4, 7, 7, 3, 2, 2, 1, 1, 1, {1, 0, 2, 1}, NULL, 0, 1},
    {"AveragePool", "ceil exclude pad", 2, 3, 10, 11, 3, 3, 2, 2, 1, 1, {1, 1, 1, 1}, NULL, 1, 0},
    {"AveragePool", "ceil include pad (C fallback)", 2, 3, 10, 11, 3, 3, 2, 2, 1, 1, {1, 1, 1, 1}, NULL, 1, 1},
    {"AveragePool", "SAME_LOWER", 3, 2, 7, 6, 2, 2, 1, 1, 1, 1, {0}, "SAME_LOWER", 0, 0},
};

TEST(dnnl_pool_matches_c) {
    for (size_t i = 0; i < sizeof pool_cases / sizeof pool_cases[0]; i++) {
        const pool_case *pc = &pool_cases[i];
        node_builder nb;
        nb_init(&nb, pc->op, pc->dh > 1 ? 12 : 11, 1, 1);
        nb_ints(&nb, "kernel_shape", INTS(pc->kh, pc->kw));
        nb_ints(&nb, "strides", INTS(pc->sh, pc->sw));
        if (pc->dh > 1) nb_ints(&nb, "dilations", INTS(pc->dh, pc->dw));
        if (pc->auto_pad) nb_str(&nb, "auto_pad", pc->auto_pad);
        else nb_ints(&nb, "pads", INTS(pc->pads[0], pc->pads[1], pc->pads[2], pc->pads[3]));
        if (pc->ceil_mode) nb_int(&nb, "ceil_mode", 1);
        if (pc->include_pad) nb_int(&nb, "count_include_pad", 1);
        tta_tensor X = RAND(TTA_DTYPE_FLOAT32, pc->n, pc->c, pc->h, pc->w);
        tta_tensor *in[] = {&X};
        compare(&nb.node, pc->op, in, 1, pc->what);
        tta_tensor_destroy(&X);
    }
    /* MaxPool with Indices is declined; uint8 and 1-D go through the dnnl entry */
    node_builder nb;
    nb_init(&nb, "MaxPool", 12, 1, 2);
    nb_ints(&nb, "kernel_shape", INTS(2, 2));
    const tta_kernel *k = tta_kernel_find(&nb.node);
    CHECK(k && !strcmp(k->backend, "c"));
    nb_init(&nb, "MaxPool", 12, 1, 1);
    nb_ints(&nb, "kernel_shape", INTS(3));
    nb_ints(&nb, "pads", INTS(1, 1));
    tta_tensor X = RAND(TTA_DTYPE_FLOAT32, 2, 3, 13);
    tta_tensor *in[] = {&X};
    compare(&nb.node, "MaxPool", in, 1, "1-D");
    tta_tensor_destroy(&X);
    X = RAND(TTA_DTYPE_UINT8, 1, 2, 5, 5);
    nb_init(&nb, "MaxPool", 12, 1, 1);
    nb_ints(&nb, "kernel_shape", INTS(2, 2));
    compare(&nb.node, "MaxPool", in, 1, "uint8");
    tta_tensor_destroy(&X);
}

/* ---- Blocked layouts (nChw8c / nChw16c): the same results as plain, for every combination
 * of blocked and plain input, residual Z and output the plan can ask for. */


/* Runs the dnnl kernel with the given layouts (inputs given plain, converted here) and compares
 * its output, converted back, with the plain run. */
static void layout_case(const tta_node *node, tta_tensor **in, int n_in, const unsigned char *in_l,
                        unsigned char out_l, const char *what) {
    const tta_kernel *k = dnnl_kernel(node);
    if (!k) return;
    tta_tensor ref = {0}, got = {0}, conv[8];
    tta_tensor *og[] = {&got}, *orf[] = {&ref}, *bin[8];
    CHECK(run_kernel(k, node, in, n_in, orf, 1, 1) == TTA_OK);
    for (int i = 0; i < n_in; i++) {
        memset(&conv[i], 0, sizeof conv[i]);
        bin[i] = in[i];
        if (in[i] && in_l[i]) {
            conv[i] = to_layout(in[i], 1);
            bin[i] = &conv[i];
        }
    }
    tta_op_ctx ctx = {node, n_in, 1, bin, og, NULL, 2, in_l, &out_l};
    CHECK(k->layouts && k->prepare(&ctx) == TTA_OK);
    CHECK(k->infer(&ctx) == TTA_OK);
    int64_t dims[TTA_MAX_DIMS];
    memcpy(dims, got.dims, sizeof dims);
    if (out_l) dims[1] = (dims[1] + tta_layout_block() - 1) / tta_layout_block() * tta_layout_block();
    CHECK(tta_tensor_resize(&got, got.dtype, got.ndim, dims) == TTA_OK); /* room for the padding */
    got.dims[1] = ref.dims[1];
    tta_status st = k->compute(&ctx);
    if (st) fprintf(stderr, "  %s: %s\n", what, tta_last_error());
    CHECK_EQ_INT(st, TTA_OK);
    k->release(&ctx);
    if (!st) {
        tta_tensor back = out_l ? to_layout(&got, 0) : got;
        check_close(&back, &ref, what);
        if (out_l) tta_tensor_destroy(&back);
    }
    for (int i = 0; i < n_in; i++)
        if (bin[i] == &conv[i]) tta_tensor_destroy(&conv[i]);
    tta_tensor_destroy(&got);
    tta_tensor_destroy(&ref);
}

TEST(dnnl_blocked_layouts) {
    int64_t B = tta_layout_block();
    CHECK(B == 8 || B == 16);
    /* FusedConv with residual Z: every combination of blocked X, Z and Y */
    node_builder nb;
    nb_init(&nb, "FusedConv", 1, 4, 1);
    nb.node.domain = "com.microsoft";
    nb_ints(&nb, "pads", INTS(1, 1, 1, 1));
    nb_str(&nb, "activation", "Relu");
    tta_tensor X = RAND(TTA_DTYPE_FLOAT32, 3, 2 * B, 7, 9), W = RAND(TTA_DTYPE_FLOAT32, B, 2 * B, 3, 3);
    tta_tensor Bi = RAND(TTA_DTYPE_FLOAT32, B), Z = RAND(TTA_DTYPE_FLOAT32, 3, B, 7, 9);
    tta_tensor *in[] = {&X, &W, &Bi, &Z};
    for (int m = 0; m < 8; m++) {
        unsigned char il[4] = {(unsigned char)(m & 1), 0, 0, (unsigned char)((m >> 1) & 1)};
        char what[64];
        snprintf(what, sizeof what, "FusedConv x%d z%d y%d", il[0], il[3], (m >> 2) & 1);
        layout_case(&nb.node, in, 4, il, (unsigned char)((m >> 2) & 1), what);
    }
    /* padded channels (C not a multiple of B) through a residual conv and a pool */
    tta_tensor Xp = RAND(TTA_DTYPE_FLOAT32, 2, B + 4, 6, 5), Wp = RAND(TTA_DTYPE_FLOAT32, B - 2, B + 4, 3, 3);
    tta_tensor Bp = RAND(TTA_DTYPE_FLOAT32, B - 2), Zp = RAND(TTA_DTYPE_FLOAT32, 2, B - 2, 6, 5);
    tta_tensor *inp[] = {&Xp, &Wp, &Bp, &Zp};
    layout_case(&nb.node, inp, 4, (unsigned char[]){1, 0, 0, 1}, 1, "FusedConv padded x, z, y");
    layout_case(&nb.node, inp, 4, (unsigned char[]){1, 0, 0, 0}, 0, "FusedConv padded x, plain y");
    /* plain input with few channels (a first layer), blocked output */
    node_builder cn;
    nb_init(&cn, "Conv", 11, 3, 1);
    nb_ints(&cn, "pads", INTS(1, 1, 1, 1));
    nb_ints(&cn, "strides", INTS(2, 2));
    tta_tensor X3 = RAND(TTA_DTYPE_FLOAT32, 2, 3, 11, 10), W3 = RAND(TTA_DTYPE_FLOAT32, 2 * B, 3, 3, 3);
    tta_tensor B3 = RAND(TTA_DTYPE_FLOAT32, 2 * B);
    tta_tensor *in3[] = {&X3, &W3, &B3};
    layout_case(&cn.node, in3, 3, (unsigned char[]){0, 0, 0}, 1, "Conv plain x, blocked y");
    /* pooling: blocked in and out; global pools: blocked in, [N,C,1,1] out */
    nb_init(&cn, "MaxPool", 12, 1, 1);
    nb_ints(&cn, "kernel_shape", INTS(3, 3));
    nb_ints(&cn, "strides", INTS(2, 2));
    nb_ints(&cn, "pads", INTS(1, 1, 1, 1));
    tta_tensor *in1[] = {&X};
    layout_case(&cn.node, in1, 1, (unsigned char[]){1}, 1, "MaxPool blocked");
    tta_tensor *inp1[] = {&Xp};
    layout_case(&cn.node, inp1, 1, (unsigned char[]){1}, 1, "MaxPool padded");
    nb_init(&cn, "AveragePool", 11, 1, 1);
    nb_ints(&cn, "kernel_shape", INTS(2, 2));
    nb_ints(&cn, "strides", INTS(2, 2));
    layout_case(&cn.node, in1, 1, (unsigned char[]){1}, 1, "AveragePool blocked");
    nb_init(&cn, "GlobalAveragePool", 1, 1, 1);
    layout_case(&cn.node, in1, 1, (unsigned char[]){1}, 0, "GlobalAveragePool blocked");
    layout_case(&cn.node, in1, 1, (unsigned char[]){0}, 0, "GlobalAveragePool plain");
    nb_init(&cn, "GlobalMaxPool", 1, 1, 1);
    layout_case(&cn.node, in1, 1, (unsigned char[]){1}, 0, "GlobalMaxPool blocked");
    compare(&cn.node, "GlobalMaxPool", in1, 1, "GlobalMaxPool plain vs C");
    /* the plan's Reorder step: blocked -> plain */
    tta_tensor Xb = to_layout(&X, 1), P = {0};
    tta_tensor *rin[] = {&Xb}, *rout[] = {&P};
    node_builder rn;
    nb_init(&rn, "Reorder", 1, 1, 1);
    rn.node.domain = "tta";
    tta_op_ctx ctx = {&rn.node, 1, 1, rin, rout, NULL, 2, (unsigned char[]){1}, (unsigned char[]){0}};
    const tta_kernel *rk = &tta_layout_reorder_kernel;
    CHECK(rk->prepare(&ctx) == TTA_OK);
    CHECK(rk->infer(&ctx) == TTA_OK);
    int64_t dims[TTA_MAX_DIMS];
    memcpy(dims, P.dims, sizeof dims);
    CHECK(tta_tensor_resize(&P, P.dtype, P.ndim, dims) == TTA_OK);
    CHECK(rk->compute(&ctx) == TTA_OK);
    rk->release(&ctx);
    CHECK(memcmp(P.data, X.data, tta_tensor_nbytes(&X)) == 0);
    /* the plan-time answers: float64 or a rank the blocked layout does not cover -> plain only */
    tta_tensor X5 = RAND(TTA_DTYPE_FLOAT64, 1, B, 4, 4);
    tta_tensor *in5[] = {&X5};
    tta_op_ctx c5 = {&cn.node, 1, 1, in5, rout, NULL, 2, NULL, NULL};
    const tta_kernel *gk = tta_kernel_find(&cn.node);
    CHECK(gk && gk->prepare(&c5) == TTA_OK && gk->infer(&c5) == TTA_OK);
    if (gk) {
        CHECK_EQ_INT(gk->layouts(&c5), 0);
        gk->release(&c5);
    }
    /* a global pool of a padded blocked tensor: [N,C,1,1] is not the blocked bytes then, so
     * the pool takes such inputs plain only (the plan converts them) */
    tta_tensor *inpad[] = {&Xp};
    tta_op_ctx cp = {&cn.node, 1, 1, inpad, rout, NULL, 2, NULL, NULL};
    CHECK(gk && gk->prepare(&cp) == TTA_OK && gk->infer(&cp) == TTA_OK);
    if (gk) {
        CHECK_EQ_INT(gk->layouts(&cp), 0);
        gk->release(&cp);
    }
    tta_op_ctx cb = {&cn.node, 1, 1, in1, rout, NULL, 2, NULL, NULL};
    CHECK(gk && gk->prepare(&cb) == TTA_OK && gk->infer(&cb) == TTA_OK);
    if (gk) {
        CHECK_EQ_INT(gk->layouts(&cb), TTA_LAYOUT_IN(0) | TTA_LAYOUT_OUT_ANY);
        gk->release(&cb);
    }
    tta_tensor *all[] = {&X, &W, &Bi, &Z, &X3, &W3, &B3, &Xb, &P, &X5, &Xp, &Wp, &Bp, &Zp};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) tta_tensor_destroy(all[i]);
}

/* ---- Gemm, MatMul */

typedef struct gemm_case {
    const char *what;
    int64_t m, k, n;
    int trans_a, trans_b;
    float alpha, beta;
    int c_ndim;
    int64_t c_dims[2];
} gemm_case;

static const gemm_case gemm_cases[] = {
    {"plain, no C", 7, 13, 5, 0, 0, 1.0f, 1.0f, -1, {0}},
    {"row bias", 64, 33, 17, 0, 0, 1.0f, 1.0f, 1, {17}},
    {"row bias, alpha", 5, 9, 11, 0, 0, 0.5f, 1.0f, 2, {1, 11}},
    {"transA transB, matrix C", 6, 10, 9, 1, 1, 1.0f, 1.0f, 2, {6, 9}},
    {"column C, alpha", 8, 4, 3, 0, 1, 2.0f, 1.0f, 2, {8, 1}},
    {"scalar C", 3, 3, 3, 1, 0, 1.0f, 1.0f, 0, {0}},
    {"beta 0.35 (C fallback)", 4, 5, 6, 0, 0, 0.25f, 0.35f, 2, {4, 6}},
    {"beta 0 ignores C", 4, 5, 6, 0, 0, 1.5f, 0.0f, 1, {6}},
    {"N 1 with [1] C", 9, 8, 1, 0, 0, 1.0f, 1.0f, 1, {1}},
};

TEST(dnnl_gemm_matmul_match_c) {
    for (size_t i = 0; i < sizeof gemm_cases / sizeof gemm_cases[0]; i++) {
        const gemm_case *gc = &gemm_cases[i];
        node_builder nb;
        int n_in = gc->c_ndim >= 0 ? 3 : 2;
        nb_init(&nb, "Gemm", 13, n_in, 1);
        if (gc->trans_a) nb_int(&nb, "transA", 1);
        if (gc->trans_b) nb_int(&nb, "transB", 1);
        if (gc->alpha != 1.0f) nb_float(&nb, "alpha", gc->alpha);
        if (gc->beta != 1.0f) nb_float(&nb, "beta", gc->beta);
        tta_tensor A = gc->trans_a ? RAND(TTA_DTYPE_FLOAT32, gc->k, gc->m) : RAND(TTA_DTYPE_FLOAT32, gc->m, gc->k);
        tta_tensor B = gc->trans_b ? RAND(TTA_DTYPE_FLOAT32, gc->n, gc->k) : RAND(TTA_DTYPE_FLOAT32, gc->k, gc->n);
        tta_tensor C = rand_tensor(TTA_DTYPE_FLOAT32, gc->c_ndim > 0 ? gc->c_ndim : 0, gc->c_dims);
        tta_tensor *in[] = {&A, &B, &C};
        compare(&nb.node, "Gemm", in, n_in, gc->what);
        tta_tensor_destroy(&A);
        tta_tensor_destroy(&B);
        tta_tensor_destroy(&C);
    }
    /* MatMul: 2-D through oneDNN; these small 3-D and 1-D cases (under 4096 multiply-adds) and float64 through the C fallback */
    struct {
        int ra, rb;
        int64_t da[3], db[3];
    } mm[] = {{2, 2, {19, 23}, {23, 3}}, {2, 2, {1, 8}, {8, 64}}, {3, 3, {2, 5, 4}, {2, 4, 3}}, {1, 2, {7}, {7, 4}}};
    for (size_t i = 0; i < sizeof mm / sizeof mm[0]; i++) {
        node_builder nb;
        nb_init(&nb, "MatMul", 13, 2, 1);
        tta_tensor A = rand_tensor(TTA_DTYPE_FLOAT32, mm[i].ra, mm[i].da);
        tta_tensor B = rand_tensor(TTA_DTYPE_FLOAT32, mm[i].rb, mm[i].db);
        tta_tensor *in[] = {&A, &B};
        compare(&nb.node, "MatMul", in, 2, "MatMul");
        tta_tensor_destroy(&A);
        tta_tensor_destroy(&B);
    }
    node_builder nb;
    nb_init(&nb, "MatMul", 13, 2, 1);
    tta_tensor A = RAND(TTA_DTYPE_FLOAT64, 4, 6), B = RAND(TTA_DTYPE_FLOAT64, 6, 5);
    tta_tensor *in[] = {&A, &B};
    compare(&nb.node, "MatMul", in, 2, "MatMul float64");
    tta_tensor_destroy(&A);
    tta_tensor_destroy(&B);
}

/* ---- timing (printed, never asserted) */

static double now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static double best_ms(const tta_kernel *k, const tta_node *node, tta_tensor **in, int n_in, int reps) {
    tta_tensor Y = {0};
    tta_tensor *out[] = {&Y};
    tta_op_ctx ctx = {node, n_in, 1, in, out, NULL, 2};
    double best = 1e30;
    if (k->prepare(&ctx) == TTA_OK && k->infer(&ctx) == TTA_OK &&
        tta_tensor_resize(&Y, Y.dtype, Y.ndim, Y.dims) == TTA_OK) {
        k->compute(&ctx); /* warm-up: primitive creation, weight reorder */
        for (int r = 0; r < reps; r++) {
            double t0 = now_ms();
            k->compute(&ctx);
            double t = now_ms() - t0;
            if (t < best) best = t;
        }
    }
    k->release(&ctx);
    tta_tensor_destroy(&Y);
    return best;
}

TEST(dnnl_conv_timing) {
    node_builder nb;
    nb_init(&nb, "Conv", 11, 3, 1);
    nb_ints(&nb, "pads", INTS(1, 1, 1, 1));
    tta_tensor X = RAND(TTA_DTYPE_FLOAT32, 64, 32, 28, 28), W = RAND(TTA_DTYPE_FLOAT32, 64, 32, 3, 3);
    tta_tensor B = RAND(TTA_DTYPE_FLOAT32, 64);
    tta_tensor *in[] = {&X, &W, &B};
    double gflop = 2.0 * 64 * 64 * 32 * 9 * 28 * 28 / 1e9;
    double td = best_ms(dnnl_kernel(&nb.node), &nb.node, in, 3, 5);
    double tc = best_ms(c_kernel("Conv"), &nb.node, in, 3, 3);
    fprintf(stderr, "  conv N=64 C=32->64 28x28 3x3 pad 1, 2 threads: dnnl %.1f ms (%.1f GFLOP/s), C %.1f ms (%.1f GFLOP/s)\n",
            td, gflop / td * 1e3, tc, gflop / tc * 1e3);
    tta_tensor_destroy(&X);
    tta_tensor_destroy(&W);
    tta_tensor_destroy(&B);
}
