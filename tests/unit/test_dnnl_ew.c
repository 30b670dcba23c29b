/* test_dnnl_ew.c - the oneDNN element-wise kernels (dnnl_eltwise.c, dnnl_binary.c) against the
 * plain C kernels taken directly from tta_kernels_math, with the runtime's conformance rule
 * |got - ref| <= 1e-7 + 1e-3 * |ref| (NaN matches NaN, infinities must be equal).
 * Each op runs through tta_kernel_find() (which must pick the "dnnl" kernel) on pseudo-random
 * inputs in the op's valid range, on shapes above the kernels' small-tensor cutoff (oneDNN path)
 * and below it (C path through the dnnl entry); sweeps of special and extreme values (NaN, +-inf,
 * +-0, tiny, huge, halves for Round); numpy broadcasts for the binary ops, swapped operands,
 * the fallbacks (float64, int32, Sub/Div with a single-element input 0, real broadcasts,
 * opset < 7), and shape changes between runs. The ops left on C (see dnnl_eltwise.c) are checked
 * to be found as "c" kernels. A timing table, dnnl vs C, is printed to stderr. */
#include <float.h>
#include <stdint.h>
#include <time.h>

#include "runtime/op.h"
#include "test.h"
#include "test_nodes.h"

TTA_KERNEL_LIST(tta_kernels_math)

static const tta_kernel *c_kernel(const char *op) {
    for (int i = 0; i < tta_kernels_math_count; i++)
        if (tta_kernels_math[i].op_type && !strcmp(tta_kernels_math[i].op_type, op)) return &tta_kernels_math[i];
    return NULL;
}

/* prepare -> (infer -> size -> compute) x runs -> release; outputs must be zeroed tensors. */
static tta_status run_kernel(const tta_kernel *k, const tta_node *node, tta_tensor **in, int n_in, tta_tensor *out,
                             int runs) {
    if (!k) return TTA_ERR_UNSUPPORTED;
    tta_tensor *outs[] = {out};
    tta_op_ctx ctx = {node, n_in, 1, in, outs, NULL, 2};
    tta_status st = k->prepare ? k->prepare(&ctx) : TTA_OK;
    for (int r = 0; st == TTA_OK && r < runs; r++) {
        st = k->infer(&ctx);
        int64_t dims[TTA_MAX_DIMS];
        memcpy(dims, out->dims, sizeof dims);
        if (st == TTA_OK) st = tta_tensor_resize(out, out->dtype, out->ndim, dims);
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

static bool close_enough(double a, double b) {
    if (isnan(b)) return isnan(a);
    if (isinf(b)) return a == b;
    return fabs(a - b) <= 1e-7 + 1e-3 * fabs(b);
}

static void check_close_ew(const tta_tensor *got, const tta_tensor *ref, const tta_tensor *x, const char *what) {
    CHECK_EQ_INT(got->dtype, ref->dtype);
    CHECK_EQ_INT(got->ndim, ref->ndim);
    for (int i = 0; i < got->ndim && i < ref->ndim; i++) CHECK_EQ_INT(got->dims[i], ref->dims[i]);
    if (tta_tensor_numel(got) != tta_tensor_numel(ref) || got->dtype != ref->dtype) return;
    int bad = 0;
    for (int64_t i = 0; i < tta_tensor_numel(ref); i++) {
        double a = tta_get_f64(got, i), b = tta_get_f64(ref, i);
        if (!close_enough(a, b) && bad++ < 3)
            fprintf(stderr, "  %s: element %lld (x = %.9g) is %.9g, C kernel gives %.9g\n", what, (long long)i,
                    x && tta_tensor_numel(x) == tta_tensor_numel(ref) ? tta_get_f64(x, i) : 0.0, a, b);
    }
    CHECK_EQ_INT(bad, 0);
}

/* Runs node through the kernel tta_kernel_find picks (backend `backend`) and the C kernel. */
static void compare_backend(const tta_node *node, tta_tensor **in, int n_in, const char *backend, const char *what) {
    tta_tensor got = {0}, ref = {0};
    const tta_kernel *k = tta_kernel_find(node);
    CHECK(k && !strcmp(k->backend, backend));
    tta_status s1 = run_kernel(k, node, in, n_in, &got, 2);
    tta_status s2 = run_kernel(c_kernel(node->op_type), node, in, n_in, &ref, 1);
    if (s1 || s2) fprintf(stderr, "  %s: dnnl %d, C %d: %s\n", what, s1, s2, tta_last_error());
    CHECK_EQ_INT(s1, TTA_OK);
    CHECK_EQ_INT(s2, TTA_OK);
    if (!s1 && !s2) check_close_ew(&got, &ref, in[0], what);
    tta_tensor_destroy(&got);
    tta_tensor_destroy(&ref);
}
static void compare(const tta_node *node, tta_tensor **in, int n_in, const char *what) {
    compare_backend(node, in, n_in, "dnnl", what);
}

/* A float tensor with elements uniform in [lo, hi). */
static tta_tensor range_tensor(tta_dtype dt, float lo, float hi, int ndim, const int64_t *dims) {
    tta_tensor t = rand_tensor(dt, ndim, dims);
    for (int64_t i = 0; i < tta_tensor_numel(&t); i++) tta_set_f64(&t, i, lo + (tta_get_f64(&t, i) + 1) / 2 * (hi - lo));
    return t;
}

/* ---- unary */

typedef struct unary_case {
    const char *op;
    int opset;
    float lo, hi;        /* input range */
    const char *attr[2]; /* float attributes, or NULL */
    float val[2];
    bool dnnl;           /* tta_kernel_find picks the dnnl kernel (else the op stays on C) */
} unary_case;

static const unary_case unary_cases[] = {
    {"Sigmoid", 13, -12, 12, {0}, {0}, true},
    {"Tanh", 13, -6, 6, {0}, {0}, true},
    {"Sqrt", 13, 0, 100, {0}, {0}, true},
    {"Round", 11, -40, 40, {0}, {0}, true},
    {"Elu", 6, -5, 3, {0}, {0}, true},
    {"Elu", 6, -5, 3, {"alpha"}, {0.4f}, true},
    {"Elu", 6, -5, 3, {"alpha"}, {-0.7f}, true},
    {"Elu", 6, -5, 3, {"alpha"}, {2.5f}, true}, /* C inside the dnnl entry */
    {"HardSwish", 14, -5, 5, {0}, {0}, true},
    /* on C, see dnnl_eltwise.c */
    {"Relu", 14, -3, 3, {0}, {0}, false},
    {"LeakyRelu", 16, -3, 3, {"alpha"}, {0.3f}, false},
    {"Selu", 6, -5, 3, {0}, {0}, false},
    {"Exp", 13, -20, 20, {0}, {0}, false},
    {"Log", 13, 1e-6f, 100, {0}, {0}, false},
    {"Abs", 13, -3, 3, {0}, {0}, false},
    {"Neg", 13, -3, 3, {0}, {0}, false},
    {"HardSigmoid", 6, -5, 5, {0}, {0}, false},
    {"Softplus", 1, -20, 20, {0}, {0}, false},
    {"Clip", 6, -3, 3, {"min", "max"}, {-0.5f, 1.25f}, false},
};

static void unary_node(node_builder *nb, const unary_case *uc) {
    nb_init(nb, uc->op, uc->opset, 1, 1);
    for (int a = 0; a < 2; a++)
        if (uc->attr[a]) nb_float(nb, uc->attr[a], uc->val[a]);
}

TEST(dnnl_ew_unary_matches_c) {
    const struct {
        int nd;
        int64_t dims[4];
    } shapes[] = {{4, {2, 64, 32, 32}}, {1, {70001}}, {3, {3, 5, 7}}, {4, {1, 16, 8, 8}}, {0, {0}}, {2, {0, 5}}};
    for (size_t i = 0; i < sizeof unary_cases / sizeof unary_cases[0]; i++) {
        const unary_case *uc = &unary_cases[i];
        node_builder nb;
        unary_node(&nb, uc);
        for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++) {
            tta_tensor X = range_tensor(TTA_DTYPE_FLOAT32, uc->lo, uc->hi, shapes[s].nd, shapes[s].dims);
            tta_tensor *in[] = {&X};
            char what[96];
            snprintf(what, sizeof what, "%s v%d (%s) shape %zu", uc->op, uc->opset, uc->attr[0] ? "attrs" : "defaults", s);
            compare_backend(&nb.node, in, 1, uc->dnnl ? "dnnl" : "c", what);
            tta_tensor_destroy(&X);
        }
    }
}

/* Values where approximations and special cases go wrong, repeated to pass the size cutoff. */
static tta_tensor special_tensor(void) {
    static const float specials[] = {NAN, -NAN, INFINITY, -INFINITY, 0.0f, -0.0f, FLT_MIN, -FLT_MIN, 1e-40f, -1e-40f,
                                     FLT_MAX, -FLT_MAX, 0.5f, -0.5f, 1.5f, -1.5f, 2.5f, -2.5f, 88.7f, 89.0f, -87.5f,
                                     -104.0f, 1e-7f, -1e-7f, 3.0f, -3.0f, 6.0f, 1.0f, -1.0f, 20.0f, -20.0f, 40.0f};
    int64_t n = 4 * 65536;
    tta_tensor t = {0};
    CHECK(tta_tensor_resize(&t, TTA_DTYPE_FLOAT32, 1, &n) == TTA_OK);
    float *x = t.data;
    int ns = (int)(sizeof specials / sizeof specials[0]);
    for (int64_t i = 0; i < n; i++) {
        if (i < ns) x[i] = specials[i];
        else if (i < 131072) x[i] = -60.0f + 120.0f * (float)(i - ns) / 131072.0f; /* fine grid */
        else if (i < 196608) x[i] = (i % 2 ? -1.0f : 1.0f) * powf(10.0f, -12.0f + 12.0f * (float)(i - 131072) / 65536.0f);
        else x[i] = (float)((i - 196608) % 4096) * 0.5f - 1024.0f; /* halves, for Round */
    }
    return t;
}

TEST(dnnl_ew_unary_special_values) {
    tta_tensor X = special_tensor();
    tta_tensor *in[] = {&X};
    for (size_t i = 0; i < sizeof unary_cases / sizeof unary_cases[0]; i++) {
        node_builder nb;
        unary_node(&nb, &unary_cases[i]);
        char what[96];
        snprintf(what, sizeof what, "%s v%d specials", unary_cases[i].op, unary_cases[i].opset);
        compare_backend(&nb.node, in, 1, unary_cases[i].dnnl ? "dnnl" : "c", what);
    }
    tta_tensor_destroy(&X);
}

/* ---- binary */

typedef struct bin_case {
    int na, nb;
    int64_t a[4], b[4];
    const char *what;
} bin_case;

static const bin_case bin_cases[] = {
    {4, 4, {2, 64, 32, 32}, {2, 64, 32, 32}, "same shape"},
    {4, 4, {2, 64, 32, 32}, {1, 64, 1, 1}, "per channel [1,C,1,1]"},
    {4, 3, {2, 64, 32, 32}, {64, 1, 1}, "per channel [C,1,1]"},
    {4, 1, {2, 64, 32, 32}, {32}, "last dim [W]"},
    {4, 2, {2, 64, 32, 32}, {32, 32}, "[H,W]"},
    {4, 0, {2, 64, 32, 32}, {0}, "scalar"},
    {4, 4, {2, 64, 32, 32}, {1, 1, 1, 1}, "[1,1,1,1]"},
    {4, 4, {2, 64, 32, 32}, {2, 1, 32, 1}, "[N,1,H,1]"},
    {4, 4, {2, 64, 32, 32}, {2, 64, 1, 1}, "[N,C,1,1]"},
    {4, 4, {1, 64, 1, 1}, {2, 64, 32, 32}, "input 0 [1,C,1,1] (swapped or C)"},
    {0, 4, {0}, {2, 64, 32, 32}, "input 0 scalar"},
    {1, 4, {32}, {2, 64, 32, 32}, "input 0 [W]"},
    {4, 4, {2, 1, 32, 32}, {1, 64, 1, 1}, "both broadcast (C)"},
    {4, 1, {2, 3, 4, 5}, {5}, "small [2,3,4,5] op [5]"},
    {4, 2, {2, 3, 4, 5}, {4, 5}, "small [4,5]"},
    {4, 4, {2, 3, 4, 5}, {1, 3, 1, 1}, "small [1,3,1,1]"},
    {4, 0, {2, 3, 4, 5}, {0}, "small scalar"},
    {1, 4, {5}, {2, 3, 4, 5}, "small input 0 [5]"},
    {2, 2, {300, 301}, {300, 301}, "odd 2-D"},
    {3, 3, {7, 1, 10000}, {1, 9, 1}, "outer product (C)"},
};

static const char *const bin_ops[] = {"Add", "Sub", "Mul", "Div", "Max", "Min"};

TEST(dnnl_ew_binary_matches_c) {
    for (size_t o = 0; o < sizeof bin_ops / sizeof bin_ops[0]; o++)
        for (size_t i = 0; i < sizeof bin_cases / sizeof bin_cases[0]; i++) {
            const bin_case *bc = &bin_cases[i];
            node_builder nb;
            nb_init(&nb, bin_ops[o], 14, 2, 1);
            tta_tensor A = rand_tensor(TTA_DTYPE_FLOAT32, bc->na, bc->a), B = rand_tensor(TTA_DTYPE_FLOAT32, bc->nb, bc->b);
            if (!strcmp(bin_ops[o], "Div")) /* keep divisors away from 0 */
                for (int64_t k = 0; k < tta_tensor_numel(&B); k++) {
                    float *b = B.data;
                    b[k] = b[k] < 0 ? b[k] - 0.5f : b[k] + 0.5f;
                }
            tta_tensor *in[] = {&A, &B};
            char what[96];
            snprintf(what, sizeof what, "%s %s", bin_ops[o], bc->what);
            compare_backend(&nb.node, in, 2, strcmp(bin_ops[o], "Max") && strcmp(bin_ops[o], "Min") ? "dnnl" : "c", what);
            tta_tensor_destroy(&A);
            tta_tensor_destroy(&B);
        }
}

/* NaN, infinities, division by zero, against the C kernel (and so against numpy): special
 * values in both operands, same shape and per channel. */
TEST(dnnl_ew_binary_special_values) {
    tta_tensor S = special_tensor(), T = special_tensor();
    /* pair every special with every other one: reverse the second operand */
    float *t = T.data;
    int64_t n = tta_tensor_numel(&T);
    for (int64_t i = 0; i < n / 2; i++) {
        float v = t[i];
        t[i] = t[n - 1 - i];
        t[n - 1 - i] = v;
    }
    for (int64_t i = 0; i < 64; i++) t[i] = t[(i * 7) % 32]; /* specials against specials */
    tta_tensor C = {0};
    int64_t cd[2] = {4, 65536};
    tta_tensor S2 = {0};
    CHECK(tta_tensor_resize(&S2, TTA_DTYPE_FLOAT32, 2, cd) == TTA_OK);
    memcpy(S2.data, S.data, tta_tensor_nbytes(&S));
    cd[1] = 1;
    CHECK(tta_tensor_resize(&C, TTA_DTYPE_FLOAT32, 2, cd) == TTA_OK);
    float cv[4] = {NAN, INFINITY, 0.0f, -2.0f};
    memcpy(C.data, cv, sizeof cv);
    for (size_t o = 0; o < sizeof bin_ops / sizeof bin_ops[0]; o++) {
        bool minmax = !strcmp(bin_ops[o], "Max") || !strcmp(bin_ops[o], "Min");
        node_builder nb;
        nb_init(&nb, bin_ops[o], 14, 2, 1);
        tta_tensor *in[] = {&S, &T}, *in2[] = {&S2, &C}, *in3[] = {&C, &S2};
        char what[64];
        snprintf(what, sizeof what, "%s specials", bin_ops[o]);
        compare_backend(&nb.node, in, 2, minmax ? "c" : "dnnl", what);
        snprintf(what, sizeof what, "%s specials per row", bin_ops[o]);
        compare_backend(&nb.node, in2, 2, minmax ? "c" : "dnnl", what);
        snprintf(what, sizeof what, "%s specials per row, swapped", bin_ops[o]);
        compare_backend(&nb.node, in3, 2, minmax ? "c" : "dnnl", what);
    }
    tta_tensor *all[] = {&S, &T, &S2, &C};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) tta_tensor_destroy(all[i]);
}

/* ---- fallbacks and shape changes */

TEST(dnnl_ew_fallbacks) {
    node_builder nb;
    /* float64 and int32 through the dnnl entries */
    tta_tensor D = RAND(TTA_DTYPE_FLOAT64, 2, 64, 32, 32), E = RAND(TTA_DTYPE_FLOAT64, 64, 1, 1);
    tta_tensor I = {0}, J = {0};
    int64_t dims[4] = {2, 64, 32, 32};
    CHECK(tta_tensor_resize(&I, TTA_DTYPE_INT32, 4, dims) == TTA_OK);
    CHECK(tta_tensor_resize(&J, TTA_DTYPE_INT32, 4, dims) == TTA_OK);
    for (int64_t i = 0; i < tta_tensor_numel(&I); i++) {
        ((int32_t *)I.data)[i] = (int32_t)(i * 2654435761u % 2001) - 1000;
        ((int32_t *)J.data)[i] = (int32_t)(i * 40503u % 77) - 38;
    }
    tta_tensor *dd[] = {&D, &E}, *ii[] = {&I, &J}, *d1[] = {&D}, *i1[] = {&I};
    const char *un[] = {"Tanh", "Sigmoid", "Sqrt", "Round", "Elu", "HardSwish"};
    for (size_t u = 0; u < sizeof un / sizeof un[0]; u++) {
        nb_init(&nb, un[u], 14, 1, 1);
        compare(&nb.node, d1, 1, "unary float64");
    }
    nb_init(&nb, "Relu", 14, 1, 1); /* a C op, for the int32 tensor's sake */
    compare_backend(&nb.node, i1, 1, "c", "Relu int32");
    for (size_t o = 0; o < 4; o++) {
        nb_init(&nb, bin_ops[o], 14, 2, 1);
        compare(&nb.node, dd, 2, "binary float64");
        compare(&nb.node, ii, 2, "binary int32");
    }
    /* opset < 7 (legacy broadcast attributes): the C kernel is chosen */
    nb_init(&nb, "Add", 6, 2, 1);
    nb_int(&nb, "broadcast", 1);
    nb_int(&nb, "axis", 1);
    const tta_kernel *k = tta_kernel_find(&nb.node);
    CHECK(k && !strcmp(k->backend, "c"));
    /* ops without a oneDNN form stay on C */
    const char *c_only[] = {"Softsign", "Erf", "Reciprocal", "Floor", "Sin", "Pow", "Sum", "Max", "Min"};
    for (size_t i = 0; i < sizeof c_only / sizeof c_only[0]; i++) {
        nb_init(&nb, c_only[i], 13, 2, 1);
        k = tta_kernel_find(&nb.node);
        CHECK(k && !strcmp(k->backend, "c"));
    }
    tta_tensor *all[] = {&D, &E, &I, &J};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) tta_tensor_destroy(all[i]);
}

/* X op S for a blocked X [N, C, H, W] and a plain per-channel S ([N,C,1,1], [1,C,1,1], [C,1,1]), in
 * both operand orders: the plan's squeeze-and-excitation case (layout.c), against the C kernel on
 * plain tensors. */
TEST(dnnl_ew_binary_blocked_channel_broadcast) {
    const int64_t B = tta_layout_block(), N = 2, C = 2 * B, H = 5, W = 3;
    tta_tensor x = RAND(TTA_DTYPE_FLOAT32, N, C, H, W);
    tta_tensor svs[] = {RAND(TTA_DTYPE_FLOAT32, N, C, 1, 1), RAND(TTA_DTYPE_FLOAT32, 1, C, 1, 1),
                        RAND(TTA_DTYPE_FLOAT32, C, 1, 1)};
    for (int64_t i = 0; i < tta_tensor_numel(&svs[0]); i++) /* no division by ~0 */
        for (int k = 0; k < 3; k++)
            if (i < tta_tensor_numel(&svs[k])) ((float *)svs[k].data)[i] += ((float *)svs[k].data)[i] < 0 ? -0.5f : 0.5f;
    tta_tensor xb = to_layout(&x, 1);
    node_builder nb;
    for (int o = 0; o < 4; o++)
        for (int k = 0; k < 3; k++)
            for (int first = 0; first < 2; first++) {
                nb_init(&nb, bin_ops[o], 14, 2, 1);
                tta_tensor ref = {0}, got = {0};
                tta_tensor *in_plain[2] = {first ? &svs[k] : &x, first ? &x : &svs[k]};
                tta_tensor *in_blk[2] = {first ? &svs[k] : &xb, first ? &xb : &svs[k]};
                CHECK_EQ_INT(run_kernel(c_kernel(bin_ops[o]), &nb.node, in_plain, 2, &ref, 1), TTA_OK);
                const tta_kernel *dk = dnnl_kernel(&nb.node);
                tta_tensor *outs[] = {&got};
                unsigned char in_l[2] = {first ? 0 : 1, first ? 1 : 0}, out_l[1] = {1};
                tta_op_ctx ctx = {&nb.node, 2, 1, in_blk, outs, NULL, 2, in_l, out_l};
                tta_status st = dk && dk->prepare ? dk->prepare(&ctx) : TTA_OK;
                if (!st) st = dk->infer(&ctx);
                if (!st) st = tta_tensor_resize(&got, got.dtype, got.ndim, (int64_t[]){N, C, H, W});
                if (!st) st = dk->compute(&ctx);
                if (dk && dk->release) dk->release(&ctx);
                CHECK_EQ_INT(st, TTA_OK);
                char what[80];
                snprintf(what, sizeof what, "%s, S of rank %d %s", bin_ops[o], svs[k].ndim, first ? "first" : "second");
                if (!st) {
                    tta_tensor back = to_layout(&got, 0);
                    check_close(&back, &ref, what);
                    tta_tensor_destroy(&back);
                }
                tta_tensor_destroy(&ref);
                tta_tensor_destroy(&got);
            }
    tta_tensor_destroy(&x);
    tta_tensor_destroy(&xb);
    for (int k = 0; k < 3; k++) tta_tensor_destroy(&svs[k]);
}

/* One prepared kernel run on inputs whose shapes change (big, small, big again, broadcast). */
TEST(dnnl_ew_shape_changes) {
    const int64_t shapes[][4] = {{2, 64, 32, 32}, {1, 3, 4, 5}, {3, 32, 40, 41}, {2, 64, 32, 32}};
    const int64_t bshapes[][4] = {{1, 64, 1, 1}, {1, 3, 4, 5}, {3, 32, 40, 41}, {1, 1, 1, 32}};
    const char *ops[] = {"Tanh", "Add", "Div"};
    for (int o = 0; o < 3; o++) {
        int n_in = o ? 2 : 1;
        node_builder nb;
        nb_init(&nb, ops[o], 14, n_in, 1);
        const tta_kernel *k = dnnl_kernel(&nb.node);
        tta_tensor X = {0}, B = {0}, Y = {0}, R = {0};
        tta_tensor *in[] = {&X, &B}, *out[] = {&Y};
        tta_op_ctx ctx = {&nb.node, n_in, 1, in, out, NULL, 2};
        CHECK(k->prepare(&ctx) == TTA_OK);
        for (int run = 0; run < 4; run++) {
            tta_tensor_destroy(&X);
            tta_tensor_destroy(&B);
            X = rand_tensor(TTA_DTYPE_FLOAT32, 4, shapes[run]);
            B = range_tensor(TTA_DTYPE_FLOAT32, 0.5f, 2.0f, 4, bshapes[run]);
            CHECK(k->infer(&ctx) == TTA_OK);
            CHECK(tta_tensor_resize(&Y, Y.dtype, Y.ndim, Y.dims) == TTA_OK);
            CHECK(k->compute(&ctx) == TTA_OK);
            CHECK(run_kernel(c_kernel(ops[o]), &nb.node, in, n_in, &R, 1) == TTA_OK);
            check_close_ew(&Y, &R, &X, ops[o]);
            tta_tensor_destroy(&R);
        }
        k->release(&ctx);
        tta_tensor_destroy(&X);
        tta_tensor_destroy(&B);
        tta_tensor_destroy(&Y);
    }
}

/* ---- timing (printed, never asserted): median of 7 runs, 2 threads */

static double now_us(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double median_us(const tta_kernel *k, const tta_node *node, tta_tensor **in, int n_in) {
    tta_tensor Y = {0};
    tta_tensor *out[] = {&Y};
    tta_op_ctx ctx = {node, n_in, 1, in, out, NULL, 2};
    double t[7] = {0};
    int64_t n = tta_tensor_numel(in[0]);
    int reps = n < 100000 ? 50 : 1; /* small tensors: time 50 calls per sample */
    if (k->prepare(&ctx) == TTA_OK && k->infer(&ctx) == TTA_OK &&
        tta_tensor_resize(&Y, Y.dtype, Y.ndim, Y.dims) == TTA_OK) {
        k->compute(&ctx); /* warm-up: primitive creation */
        for (int r = 0; r < 7; r++) {
            double t0 = now_us();
            for (int i = 0; i < reps; i++) k->compute(&ctx);
            t[r] = (now_us() - t0) / reps;
        }
    }
    k->release(&ctx);
    tta_tensor_destroy(&Y);
    qsort(t, 7, sizeof t[0], cmp_double);
    return t[3];
}

TEST(dnnl_ew_timing) {
    const int64_t shapes[][4] = {{1, 16, 8, 8}, {1, 16, 32, 32}, {1, 64, 32, 32}, {64, 32, 28, 28}};
    const char *ops[] = {"Sigmoid", "Tanh", "Sqrt", "Round", "Elu", "HardSwish", "Add", "Add[C]", "Add[S]", "Mul",
                         "Mul[NC]", "Div", "Div[C]", "Sub"};
    fprintf(stderr, "  %-12s %22s %22s %22s %22s  (dnnl / C, us, median of 7, 2 threads)\n", "op", "[1,16,8,8]",
            "[1,16,32,32]", "[1,64,32,32]", "[64,32,28,28]");
    for (size_t o = 0; o < sizeof ops / sizeof ops[0]; o++) {
        char op[16];
        snprintf(op, sizeof op, "%s", ops[o]);
        bool per_channel = strstr(op, "[C]") != NULL, per_nc = strstr(op, "[NC]") != NULL, scalar = strstr(op, "[S]") != NULL;
        if (strchr(op, '[')) *strchr(op, '[') = 0;
        bool binary = !strcmp(op, "Add") || !strcmp(op, "Mul") || !strcmp(op, "Div") || !strcmp(op, "Sub");
        node_builder nb;
        nb_init(&nb, op, 14, binary ? 2 : 1, 1);
        fprintf(stderr, "  %-12s", ops[o]);
        for (int s = 0; s < 4; s++) {
            int64_t bd[4] = {per_nc ? shapes[s][0] : 1, shapes[s][1], 1, 1};
            tta_tensor X = rand_tensor(TTA_DTYPE_FLOAT32, 4, shapes[s]);
            tta_tensor B = per_channel || per_nc ? range_tensor(TTA_DTYPE_FLOAT32, 0.5f, 2, 4, bd)
                           : scalar    ? range_tensor(TTA_DTYPE_FLOAT32, 0.5f, 2, 0, bd)
                                       : range_tensor(TTA_DTYPE_FLOAT32, 0.5f, 2, 4, shapes[s]);
            tta_tensor *in[] = {&X, &B};
            double td = median_us(dnnl_kernel(&nb.node), &nb.node, in, binary ? 2 : 1);
            double tc = median_us(c_kernel(op), &nb.node, in, binary ? 2 : 1);
            fprintf(stderr, " %10.1f / %9.1f", td, tc);
            tta_tensor_destroy(&X);
            tta_tensor_destroy(&B);
        }
        fprintf(stderr, "\n");
    }
}
