/* test_math_ops.c - the math operator family (element-wise, broadcasting, Cast) driven directly
 * through tta_kernel_find(): each test builds a tta_node by hand, runs prepare/infer/compute on
 * borrowed input tensors and checks hand-computed outputs and error messages. */
#include <stdint.h>

#include "runtime/op.h"
#include "test.h"

/* A node with the given op, opset and attributes (inputs/outputs are passed in the ctx). */
static tta_node make_node(const char *op, int opset, tta_attr *attrs, int n_attrs) {
    tta_node n = {0};
    n.name = "";
    n.op_type = (char *)op;
    n.domain = "";
    n.opset = opset;
    n.attrs = attrs;
    n.n_attrs = n_attrs;
    return n;
}

/* A tensor borrowing data. */
static tta_tensor borrow(tta_dtype dt, int ndim, const int64_t *dims, const void *data) {
    tta_tensor t = {0};
    t.dtype = dt;
    t.ndim = ndim;
    for (int i = 0; i < ndim; i++)
        t.dims[i] = dims[i];
    t.data = (void *)data;
    return t;
}

/* Runs one node: prepare, infer, allocate the output, compute, release. The output must be
 * destroyed by the caller. Stops at (and returns) the first failing phase. */
static tta_status run_node(const tta_node *node, tta_tensor **in, int n_in, tta_tensor *out) {
    const tta_kernel *k = tta_kernel_find(node);
    if (!k) return TTA_ERR_UNSUPPORTED;
    tta_tensor *outs[1] = {out};
    tta_op_ctx ctx = {.node = node, .n_in = n_in, .n_out = 1, .in = in, .out = outs, .n_threads = 2};
    tta_status st = k->prepare ? k->prepare(&ctx) : TTA_OK;
    if (st == TTA_OK) st = k->infer(&ctx);
    if (st == TTA_OK) st = tta_tensor_resize(out, out->dtype, out->ndim, out->dims);
    if (st == TTA_OK) st = k->compute(&ctx);
    if (k->release) k->release(&ctx);
    return st;
}

TEST(kernels_registered) {
    const char *ops[] = {"Relu",  "Clip", "Round", "Add",      "Div",     "Mod",
                         "Where", "Mean", "Cast",  "CastLike", "BitShift"};
    for (size_t i = 0; i < sizeof ops / sizeof ops[0]; i++) {
        tta_node n = make_node(ops[i], 17, NULL, 0);
        CHECK(tta_kernel_find(&n) != NULL);
    }
    tta_node old = make_node("CastLike", 13, NULL, 0); /* CastLike appeared in opset 15 */
    CHECK(tta_kernel_find(&old) == NULL);
}

TEST(add_broadcast_2x3_plus_3) {
    const float a[] = {1, 2, 3, 4, 5, 6}, b[] = {10, 20, 30};
    const int64_t da[] = {2, 3}, db[] = {3};
    tta_tensor ta = borrow(TTA_DTYPE_FLOAT32, 2, da, a), tb = borrow(TTA_DTYPE_FLOAT32, 1, db, b), out = {0};
    tta_tensor *in[] = {&ta, &tb};
    tta_node n = make_node("Add", 14, NULL, 0);
    CHECK_EQ_INT(run_node(&n, in, 2, &out), TTA_OK);
    CHECK_EQ_INT(out.dtype, TTA_DTYPE_FLOAT32);
    CHECK_EQ_INT(out.ndim, 2);
    CHECK_EQ_INT(out.dims[0], 2);
    CHECK_EQ_INT(out.dims[1], 3);
    const float want[] = {11, 22, 33, 14, 25, 36};
    for (int i = 0; i < 6; i++)
        CHECK_NEAR(((float *)out.data)[i], want[i], 0);
    tta_tensor_destroy(&out);
}

TEST(sub_outer_broadcast_2x1_minus_1x3) {
    const float a[] = {100, 200}, b[] = {1, 2, 3};
    const int64_t da[] = {2, 1}, db[] = {1, 3};
    tta_tensor ta = borrow(TTA_DTYPE_FLOAT32, 2, da, a), tb = borrow(TTA_DTYPE_FLOAT32, 2, db, b), out = {0};
    tta_tensor *in[] = {&ta, &tb};
    tta_node n = make_node("Sub", 14, NULL, 0);
    CHECK_EQ_INT(run_node(&n, in, 2, &out), TTA_OK);
    const float want[] = {99, 98, 97, 199, 198, 197};
    for (int i = 0; i < 6; i++)
        CHECK_NEAR(((float *)out.data)[i], want[i], 0);
    tta_tensor_destroy(&out);
}

TEST(mul_channel_broadcast_nchw) {
    /* [1,2,2,2] * [2,1,1]: the per-channel scale of a normalisation. */
    float x[8];
    for (int i = 0; i < 8; i++)
        x[i] = (float)(i + 1);
    const float s[] = {2, -1};
    const int64_t dx[] = {1, 2, 2, 2}, ds[] = {2, 1, 1};
    tta_tensor tx = borrow(TTA_DTYPE_FLOAT32, 4, dx, x), ts = borrow(TTA_DTYPE_FLOAT32, 3, ds, s), out = {0};
    tta_tensor *in[] = {&tx, &ts};
    tta_node n = make_node("Mul", 14, NULL, 0);
    CHECK_EQ_INT(run_node(&n, in, 2, &out), TTA_OK);
    const float want[] = {2, 4, 6, 8, -5, -6, -7, -8};
    for (int i = 0; i < 8; i++)
        CHECK_NEAR(((float *)out.data)[i], want[i], 0);
    tta_tensor_destroy(&out);
}

TEST(add_legacy_broadcast_axis) {
    /* opset 6, broadcast=1, axis=0: B [2] is aligned with A's first dim. */
    const double a[] = {1, 2, 3, 4, 5, 6}, b[] = {10, 20};
    const int64_t da[] = {2, 3}, db[] = {2};
    tta_tensor ta = borrow(TTA_DTYPE_FLOAT64, 2, da, a), tb = borrow(TTA_DTYPE_FLOAT64, 1, db, b), out = {0};
    tta_tensor *in[] = {&ta, &tb};
    tta_attr attrs[] = {{.name = "broadcast", .type = TTA_ATTR_INT, .i = 1},
                        {.name = "axis", .type = TTA_ATTR_INT, .i = 0}};
    tta_node n = make_node("Add", 6, attrs, 2);
    CHECK_EQ_INT(run_node(&n, in, 2, &out), TTA_OK);
    const double want[] = {11, 12, 13, 24, 25, 26};
    for (int i = 0; i < 6; i++)
        CHECK_NEAR(((double *)out.data)[i], want[i], 0);
    tta_tensor_destroy(&out);
}

TEST(div_int32_truncates) {
    const int32_t a[] = {7, -7, 7, -7, 5, INT32_MIN}, b[] = {2, 2, -2, -2, 0, -1};
    const int64_t d[] = {6};
    tta_tensor ta = borrow(TTA_DTYPE_INT32, 1, d, a), tb = borrow(TTA_DTYPE_INT32, 1, d, b), out = {0};
    tta_tensor *in[] = {&ta, &tb};
    tta_node n = make_node("Div", 14, NULL, 0);
    CHECK_EQ_INT(run_node(&n, in, 2, &out), TTA_OK);
    CHECK_EQ_INT(out.dtype, TTA_DTYPE_INT32);
    /* C truncation; division by zero gives 0 and INT32_MIN / -1 wraps, neither traps. */
    const int32_t want[] = {3, -3, -3, 3, 0, INT32_MIN};
    for (int i = 0; i < 6; i++)
        CHECK_EQ_INT(((int32_t *)out.data)[i], want[i]);
    tta_tensor_destroy(&out);
}

TEST(mod_int_sign_follows_divisor) {
    const int64_t a[] = {5, -5, 5, -5}, b[] = {3, 3, -3, -3};
    const int64_t d[] = {4};
    tta_tensor ta = borrow(TTA_DTYPE_INT64, 1, d, a), tb = borrow(TTA_DTYPE_INT64, 1, d, b), out = {0};
    tta_tensor *in[] = {&ta, &tb};
    tta_node n = make_node("Mod", 13, NULL, 0);
    CHECK_EQ_INT(run_node(&n, in, 2, &out), TTA_OK);
    const int64_t want[] = {2, 1, -1, -2};
    for (int i = 0; i < 4; i++)
        CHECK_EQ_INT(((int64_t *)out.data)[i], want[i]);
    tta_tensor_destroy(&out);
    tta_attr fm = {.name = "fmod", .type = TTA_ATTR_INT, .i = 1};
    n = make_node("Mod", 13, &fm, 1);
    CHECK_EQ_INT(run_node(&n, in, 2, &out), TTA_OK);
    const int64_t want_f[] = {2, -2, 2, -2};
    for (int i = 0; i < 4; i++)
        CHECK_EQ_INT(((int64_t *)out.data)[i], want_f[i]);
    tta_tensor_destroy(&out);
}

TEST(round_half_to_even) {
    const float x[] = {0.5f, 1.5f, 2.5f, -0.5f, -1.5f, -2.5f, 2.4f, 2.6f, -2.6f};
    const float want[] = {0, 2, 2, 0, -2, -2, 2, 3, -3};
    const int64_t d[] = {9};
    tta_tensor tx = borrow(TTA_DTYPE_FLOAT32, 1, d, x), out = {0};
    tta_tensor *in[] = {&tx};
    tta_node n = make_node("Round", 11, NULL, 0);
    CHECK_EQ_INT(run_node(&n, in, 1, &out), TTA_OK);
    for (int i = 0; i < 9; i++)
        CHECK_NEAR(((float *)out.data)[i], want[i], 0);
    tta_tensor_destroy(&out);
}

TEST(relu_sigmoid_leakyrelu) {
    const float x[] = {-2, -0.5f, 0, 3};
    const int64_t d[] = {4};
    tta_tensor tx = borrow(TTA_DTYPE_FLOAT32, 1, d, x), out = {0};
    tta_tensor *in[] = {&tx};
    tta_node n = make_node("Relu", 14, NULL, 0);
    CHECK_EQ_INT(run_node(&n, in, 1, &out), TTA_OK);
    const float relu[] = {0, 0, 0, 3};
    for (int i = 0; i < 4; i++)
        CHECK_NEAR(((float *)out.data)[i], relu[i], 0);
    n = make_node("Sigmoid", 13, NULL, 0);
    CHECK_EQ_INT(run_node(&n, in, 1, &out), TTA_OK);
    for (int i = 0; i < 4; i++)
        CHECK_NEAR(((float *)out.data)[i], 1.0 / (1.0 + exp(-(double)x[i])), 1e-6);
    tta_attr alpha = {.name = "alpha", .type = TTA_ATTR_FLOAT, .f = 0.1f};
    n = make_node("LeakyRelu", 16, &alpha, 1);
    CHECK_EQ_INT(run_node(&n, in, 1, &out), TTA_OK);
    const float leaky[] = {-0.2f, -0.05f, 0, 3};
    for (int i = 0; i < 4; i++)
        CHECK_NEAR(((float *)out.data)[i], leaky[i], 1e-7);
    tta_tensor_destroy(&out);
}

TEST(clip_attrs_and_int_inputs) {
    const float x[] = {-3, 0.5f, 9};
    const int64_t d[] = {3};
    tta_tensor tx = borrow(TTA_DTYPE_FLOAT32, 1, d, x), out = {0};
    tta_tensor *in1[] = {&tx};
    tta_attr attrs[] = {{.name = "min", .type = TTA_ATTR_FLOAT, .f = -1},
                        {.name = "max", .type = TTA_ATTR_FLOAT, .f = 1}};
    tta_node n = make_node("Clip", 6, attrs, 2);
    CHECK_EQ_INT(run_node(&n, in1, 1, &out), TTA_OK);
    const float want[] = {-1, 0.5f, 1};
    for (int i = 0; i < 3; i++)
        CHECK_NEAR(((float *)out.data)[i], want[i], 0);
    tta_tensor_destroy(&out);

    /* opset >= 11: bounds are inputs; int8 data; min omitted (NULL). */
    const int8_t xi[] = {-128, 5, 100}, hi = 50;
    tta_tensor txi = borrow(TTA_DTYPE_INT8, 1, d, xi), thi = borrow(TTA_DTYPE_INT8, 0, NULL, &hi);
    tta_tensor *in3[] = {&txi, NULL, &thi};
    n = make_node("Clip", 13, NULL, 0);
    CHECK_EQ_INT(run_node(&n, in3, 3, &out), TTA_OK);
    const int8_t wanti[] = {-128, 5, 50};
    for (int i = 0; i < 3; i++)
        CHECK_EQ_INT(((int8_t *)out.data)[i], wanti[i]);
    tta_tensor_destroy(&out);
}

TEST(cast_float_to_uint8_and_to_bool) {
    const float x[] = {0, 1.9f, 255, 3.5f, -0.0f, NAN};
    const int64_t d[] = {6};
    tta_tensor tx = borrow(TTA_DTYPE_FLOAT32, 1, d, x), out = {0};
    tta_tensor *in[] = {&tx};
    tta_attr to = {.name = "to", .type = TTA_ATTR_INT, .i = TTA_DTYPE_UINT8};
    tta_node n = make_node("Cast", 13, &to, 1);
    tta_tensor sub = tx;
    sub.dims[0] = 5; /* NaN -> uint8 is not defined by the suite */
    tta_tensor *in5[] = {&sub};
    CHECK_EQ_INT(run_node(&n, in5, 1, &out), TTA_OK);
    CHECK_EQ_INT(out.dtype, TTA_DTYPE_UINT8);
    const uint8_t want8[] = {0, 1, 255, 3, 0};
    for (int i = 0; i < 5; i++)
        CHECK_EQ_INT(((uint8_t *)out.data)[i], want8[i]);
    tta_tensor_destroy(&out);

    to.i = TTA_DTYPE_BOOL;
    CHECK_EQ_INT(run_node(&n, in, 1, &out), TTA_OK);
    CHECK_EQ_INT(out.dtype, TTA_DTYPE_BOOL);
    const uint8_t wantb[] = {0, 1, 1, 1, 0, 1}; /* NaN is true, -0 is false */
    for (int i = 0; i < 6; i++)
        CHECK_EQ_INT(((uint8_t *)out.data)[i], wantb[i]);
    tta_tensor_destroy(&out);

    const int32_t xi[] = {0, 5, -1, 0};
    const int64_t di[] = {4};
    tta_tensor ti = borrow(TTA_DTYPE_INT32, 1, di, xi);
    tta_tensor *ini[] = {&ti};
    CHECK_EQ_INT(run_node(&n, ini, 1, &out), TTA_OK);
    const uint8_t wantib[] = {0, 1, 1, 0};
    for (int i = 0; i < 4; i++)
        CHECK_EQ_INT(((uint8_t *)out.data)[i], wantib[i]);
    tta_tensor_destroy(&out);
}

TEST(cast_float16_roundtrip_and_castlike) {
    const double x[] = {1.0, 0.333333333, 65504.0, 1e6, -2.5};
    const int64_t d[] = {5};
    tta_tensor tx = borrow(TTA_DTYPE_FLOAT64, 1, d, x), half = {0}, back = {0};
    tta_tensor *in[] = {&tx};
    tta_attr to = {.name = "to", .type = TTA_ATTR_INT, .i = TTA_DTYPE_FLOAT16};
    tta_node n = make_node("Cast", 13, &to, 1);
    CHECK_EQ_INT(run_node(&n, in, 1, &half), TTA_OK);
    const uint16_t want[] = {0x3c00, 0x3555, 0x7bff, 0x7c00, 0xc100};
    for (int i = 0; i < 5; i++)
        CHECK_EQ_INT(((uint16_t *)half.data)[i], want[i]);
    /* CastLike takes the target type from its second input. */
    const float like = 0;
    tta_tensor tl = borrow(TTA_DTYPE_FLOAT32, 0, NULL, &like);
    tta_tensor *in2[] = {&half, &tl};
    tta_node cl = make_node("CastLike", 15, NULL, 0);
    CHECK_EQ_INT(run_node(&cl, in2, 2, &back), TTA_OK);
    CHECK_EQ_INT(back.dtype, TTA_DTYPE_FLOAT32);
    CHECK_NEAR(((float *)back.data)[1], 0.333251953125, 0);
    CHECK(isinf(((float *)back.data)[3]));
    tta_tensor_destroy(&half);
    tta_tensor_destroy(&back);
}

TEST(cast_string_is_a_clear_error) {
    tta_attr to = {.name = "to", .type = TTA_ATTR_INT, .i = TTA_DTYPE_STRING};
    tta_node n = make_node("Cast", 13, &to, 1);
    const float x[] = {1};
    const int64_t d[] = {1};
    tta_tensor tx = borrow(TTA_DTYPE_FLOAT32, 1, d, x), out = {0};
    tta_tensor *in[] = {&tx};
    CHECK_EQ_INT(run_node(&n, in, 1, &out), TTA_ERR_UNSUPPORTED);
    CHECK_STR_CONTAINS(tta_last_error(), "string");
    tta_tensor_destroy(&out);
}

TEST(shape_mismatch_is_shape_error) {
    const float a[6] = {0}, b[4] = {0};
    const int64_t da[] = {2, 3}, db[] = {4};
    tta_tensor ta = borrow(TTA_DTYPE_FLOAT32, 2, da, a), tb = borrow(TTA_DTYPE_FLOAT32, 1, db, b), out = {0};
    tta_tensor *in[] = {&ta, &tb};
    tta_node n = make_node("Add", 14, NULL, 0);
    n.name = "add1";
    CHECK_EQ_INT(run_node(&n, in, 2, &out), TTA_ERR_SHAPE);
    CHECK_STR_CONTAINS(tta_last_error(), "broadcast");
    CHECK_STR_CONTAINS(tta_last_error(), "[2,3]");
    CHECK_STR_CONTAINS(tta_last_error(), "add1");
    tta_tensor_destroy(&out);
}

TEST(dtype_errors) {
    const int32_t xi[] = {1};
    const float xf[] = {1};
    const int64_t d[] = {1};
    tta_tensor ti = borrow(TTA_DTYPE_INT32, 1, d, xi), tf = borrow(TTA_DTYPE_FLOAT32, 1, d, xf), out = {0};
    tta_tensor *in1[] = {&ti};
    tta_node n = make_node("Sigmoid", 13, NULL, 0);
    CHECK_EQ_INT(run_node(&n, in1, 1, &out), TTA_ERR_UNSUPPORTED);
    CHECK_STR_CONTAINS(tta_last_error(), "int32");
    tta_tensor *in2[] = {&tf, &ti};
    n = make_node("Add", 14, NULL, 0);
    CHECK_EQ_INT(run_node(&n, in2, 2, &out), TTA_ERR_SHAPE);
    tta_attr dir = {.name = "direction", .type = TTA_ATTR_STRING, .s = "UP"};
    n = make_node("BitShift", 11, &dir, 1);
    CHECK_EQ_INT(run_node(&n, in2, 2, &out), TTA_ERR_ATTR);
    tta_tensor_destroy(&out);
}

TEST(where_three_way_broadcast) {
    const uint8_t c[] = {1, 0, 1};
    const int64_t x[] = {1, 2}, y = -1;
    const int64_t dc[] = {1, 3}, dx[] = {2, 1};
    tta_tensor tc = borrow(TTA_DTYPE_BOOL, 2, dc, c), tx = borrow(TTA_DTYPE_INT64, 2, dx, x),
               ty = borrow(TTA_DTYPE_INT64, 0, NULL, &y), out = {0};
    tta_tensor *in[] = {&tc, &tx, &ty};
    tta_node n = make_node("Where", 16, NULL, 0);
    CHECK_EQ_INT(run_node(&n, in, 3, &out), TTA_OK);
    CHECK_EQ_INT(out.ndim, 2);
    CHECK_EQ_INT(out.dims[0], 2);
    CHECK_EQ_INT(out.dims[1], 3);
    const int64_t want[] = {1, -1, 1, 2, -1, 2};
    for (int i = 0; i < 6; i++)
        CHECK_EQ_INT(((int64_t *)out.data)[i], want[i]);
    tta_tensor_destroy(&out);
}

TEST(mean_of_three_and_max_float16) {
    const float a[] = {1, 2}, b[] = {3}, c[] = {5, 7};
    const int64_t d2[] = {2}, d1[] = {1};
    tta_tensor ta = borrow(TTA_DTYPE_FLOAT32, 1, d2, a), tb = borrow(TTA_DTYPE_FLOAT32, 1, d1, b),
               tc = borrow(TTA_DTYPE_FLOAT32, 1, d2, c), out = {0};
    tta_tensor *in[] = {&ta, &tb, &tc};
    tta_node n = make_node("Mean", 13, NULL, 0);
    CHECK_EQ_INT(run_node(&n, in, 3, &out), TTA_OK);
    CHECK_NEAR(((float *)out.data)[0], 3, 1e-6);
    CHECK_NEAR(((float *)out.data)[1], 4, 1e-6);
    tta_tensor_destroy(&out);

    const uint16_t h1[] = {0x3c00, 0xc000}, h2[] = {0x4000, 0xbc00}; /* {1, -2} and {2, -1} */
    tta_tensor th1 = borrow(TTA_DTYPE_FLOAT16, 1, d2, h1), th2 = borrow(TTA_DTYPE_FLOAT16, 1, d2, h2);
    tta_tensor *inh[] = {&th1, &th2};
    n = make_node("Max", 13, NULL, 0);
    CHECK_EQ_INT(run_node(&n, inh, 2, &out), TTA_OK);
    CHECK_EQ_INT(out.dtype, TTA_DTYPE_FLOAT16);
    CHECK_EQ_INT(((uint16_t *)out.data)[0], 0x4000);
    CHECK_EQ_INT(((uint16_t *)out.data)[1], 0xbc00);
    tta_tensor_destroy(&out);
}

TEST(pow_mixed_types_and_bitshift) {
    const int32_t base[] = {2, 3, -2};
    const float e[] = {3, 2, 3};
    const int64_t d[] = {3};
    tta_tensor tb = borrow(TTA_DTYPE_INT32, 1, d, base), te = borrow(TTA_DTYPE_FLOAT32, 1, d, e), out = {0};
    tta_tensor *in[] = {&tb, &te};
    tta_node n = make_node("Pow", 15, NULL, 0);
    CHECK_EQ_INT(run_node(&n, in, 2, &out), TTA_OK);
    CHECK_EQ_INT(out.dtype, TTA_DTYPE_INT32);
    const int32_t want[] = {8, 9, -8};
    for (int i = 0; i < 3; i++)
        CHECK_EQ_INT(((int32_t *)out.data)[i], want[i]);
    tta_tensor_destroy(&out);

    const uint8_t x[] = {1, 0x81, 16}, s[] = {3, 1, 9};
    tta_tensor tx = borrow(TTA_DTYPE_UINT8, 1, d, x), ts = borrow(TTA_DTYPE_UINT8, 1, d, s);
    tta_tensor *in2[] = {&tx, &ts};
    tta_attr dir = {.name = "direction", .type = TTA_ATTR_STRING, .s = "LEFT"};
    n = make_node("BitShift", 11, &dir, 1);
    CHECK_EQ_INT(run_node(&n, in2, 2, &out), TTA_OK);
    const uint8_t wl[] = {8, 2, 0};
    for (int i = 0; i < 3; i++)
        CHECK_EQ_INT(((uint8_t *)out.data)[i], wl[i]);
    tta_tensor_destroy(&out);
}

TEST(comparisons_give_bool) {
    const float a[] = {1, 2, 3}, b[] = {2};
    const int64_t da[] = {3}, db[] = {1};
    tta_tensor ta = borrow(TTA_DTYPE_FLOAT32, 1, da, a), tb = borrow(TTA_DTYPE_FLOAT32, 1, db, b), out = {0};
    tta_tensor *in[] = {&ta, &tb};
    const char *ops[] = {"Equal", "Greater", "Less", "GreaterOrEqual", "LessOrEqual"};
    const uint8_t want[5][3] = {{0, 1, 0}, {0, 0, 1}, {1, 0, 0}, {0, 1, 1}, {1, 1, 0}};
    for (int k = 0; k < 5; k++) {
        tta_node n = make_node(ops[k], 16, NULL, 0);
        CHECK_EQ_INT(run_node(&n, in, 2, &out), TTA_OK);
        CHECK_EQ_INT(out.dtype, TTA_DTYPE_BOOL);
        for (int i = 0; i < 3; i++)
            CHECK_EQ_INT(((uint8_t *)out.data)[i], want[k][i]);
    }
    tta_tensor_destroy(&out);
}

TEST(large_broadcast_matches_scalar_loop) {
    /* Big enough to take the parallel, chunked path: [64,3,33,35] + [3,1,35]. */
    enum { N = 64, C = 3, H = 33, W = 35 };
    static float x[N * C * H * W], s[C * W];
    for (int i = 0; i < N * C * H * W; i++)
        x[i] = (float)(i % 1013) * 0.5f;
    for (int i = 0; i < C * W; i++)
        s[i] = (float)i;
    const int64_t dx[] = {N, C, H, W}, ds[] = {C, 1, W};
    tta_tensor tx = borrow(TTA_DTYPE_FLOAT32, 4, dx, x), ts = borrow(TTA_DTYPE_FLOAT32, 3, ds, s), out = {0};
    tta_tensor *in[] = {&tx, &ts};
    tta_node n = make_node("Add", 14, NULL, 0);
    CHECK_EQ_INT(run_node(&n, in, 2, &out), TTA_OK);
    int bad = 0;
    const float *o = out.data;
    for (int b = 0; b < N; b++)
        for (int c = 0; c < C; c++)
            for (int h = 0; h < H; h++)
                for (int w = 0; w < W; w++) {
                    int i = ((b * C + c) * H + h) * W + w;
                    bad += o[i] != x[i] + s[c * W + w];
                }
    CHECK_EQ_INT(bad, 0);
    tta_tensor_destroy(&out);
}

/* Softplus (float32: a vectorised exp/log, see math_unary.c) against double libm over
 * 1..1e-30 magnitudes of both signs, at the runtime's tolerance of relative 1e-5 (the
 * polynomials are good to a few ulp), plus infinities and NaN. */
/* N floats: magnitudes 1e-30 .. 10^top_exp spaced evenly in log, alternately positive and
 * negative, then +inf, -inf and NaN; the node's float32 output for them goes to *out. */
enum { MAG_N = 2003 };
static void run_on_magnitudes(const char *op, int opset, double top_exp, float *x, tta_tensor *out) {
    for (int i = 0; i < MAG_N - 3; i++) {
        double mag = pow(10.0, -30.0 + (30.0 + top_exp) * i / (MAG_N - 4));
        x[i] = (float)(i % 2 ? mag : -mag);
    }
    x[MAG_N - 3] = INFINITY;
    x[MAG_N - 2] = -INFINITY;
    x[MAG_N - 1] = NAN;
    const int64_t d[] = {MAG_N};
    tta_tensor tx = borrow(TTA_DTYPE_FLOAT32, 1, d, x);
    tta_tensor *in[] = {&tx};
    tta_node n = make_node(op, opset, NULL, 0);
    CHECK_EQ_INT(run_node(&n, in, 1, out), TTA_OK);
}

TEST(softplus_float_accuracy) {
    enum { N = MAG_N };
    static float x[N];
    tta_tensor out = {0};
    run_on_magnitudes("Softplus", 1, 2.0, x, &out); /* 1e-30 .. 100 */
    const float *y = out.data;
    int bad = 0;
    for (int i = 0; i < N - 3; i++) {
        double v = x[i], ref = v > 0 ? v + log1p(exp(-v)) : log1p(exp(v));
        if (!(fabs(y[i] - ref) <= 1e-5 * fabs(ref) + 1e-37) && bad++ < 3)
            fprintf(stderr, "  softplus(%g) = %.9g, libm %.9g\n", v, y[i], ref);
    }
    CHECK_EQ_INT(bad, 0);
    CHECK(isinf(y[N - 3]) && y[N - 3] > 0);
    CHECK(fabs(y[N - 2]) < 1e-30);
    CHECK(isnan(y[N - 1]));
    tta_tensor_destroy(&out);
}

/* Erf (float32: a vectorised rational approximation, see math_unary.c) against double libm over
 * 1e-30..10 magnitudes of both signs, relative 1e-6 (a few ulp), plus infinities and NaN. */
TEST(erf_float_accuracy) {
    enum { N = MAG_N };
    static float x[N];
    tta_tensor out = {0};
    run_on_magnitudes("Erf", 13, 1.0, x, &out); /* 1e-30 .. 10 */
    const float *y = out.data;
    int bad = 0;
    for (int i = 0; i < N - 3; i++) {
        double ref = erf((double)x[i]);
        if (!(fabs(y[i] - ref) <= 1e-6 * fabs(ref) + 1e-37) && bad++ < 3)
            fprintf(stderr, "  erf(%g) = %.9g, libm %.9g\n", (double)x[i], y[i], ref);
    }
    CHECK_EQ_INT(bad, 0);
    CHECK(y[N - 3] == 1.0f && y[N - 2] == -1.0f);
    CHECK(isnan(y[N - 1]));
    tta_tensor_destroy(&out);
}

/* Gelu (approximate none and tanh) against its definition in double libm: relative 1e-3, and
 * absolute 2 float ulps of 1 times (1 + |x|), since for large negative x the sum 1 + erf (or
 * 1 + tanh) cancels in float (as in PyTorch's own float GELU);
 * an unknown approximation is refused. */
TEST(gelu_both_forms) {
    enum { N = 801 };
    static float x[N];
    for (int i = 0; i < N; i++) x[i] = -10.0f + 20.0f * (float)i / (N - 1);
    const int64_t d[] = {N};
    tta_tensor tx = borrow(TTA_DTYPE_FLOAT32, 1, d, x);
    tta_tensor *in[] = {&tx};
    const char *forms[] = {"none", "tanh"};
    for (int f = 0; f < 2; f++) {
        tta_attr ap = {.name = "approximate", .type = TTA_ATTR_STRING, .s = (char *)forms[f]};
        tta_node n = make_node("Gelu", 20, &ap, 1);
        tta_tensor out = {0};
        CHECK_EQ_INT(run_node(&n, in, 1, &out), TTA_OK);
        const float *y = out.data;
        int bad = 0;
        for (int i = 0; y && i < N; i++) {
            double v = x[i], ref = f == 0 ? 0.5 * v * (1 + erf(v / sqrt(2.0)))
                                          : 0.5 * v * (1 + tanh(sqrt(2.0 / M_PI) * (v + 0.044715 * v * v * v)));
            if (!(fabs(y[i] - ref) <= 1e-3 * fabs(ref) + 1.2e-7 * (1 + fabs(v))) && bad++ < 3)
                fprintf(stderr, "  gelu %s(%g) = %.9g, libm %.9g\n", forms[f], v, y[i], ref);
        }
        CHECK_EQ_INT(bad, 0);
        tta_tensor_destroy(&out);
    }
    tta_attr ap = {.name = "approximate", .type = TTA_ATTR_STRING, .s = "cubic"};
    tta_node n = make_node("Gelu", 20, &ap, 1);
    tta_tensor out = {0};
    CHECK_EQ_INT(run_node(&n, in, 1, &out), TTA_ERR_ATTR);
    tta_tensor_destroy(&out);
}

/* Pow with exponent 2 (a fast path): exactly the bits of libm's pow, broadcast exponent. */
TEST(pow_square_fast_path) {
    const float x[] = {-3.5f, -1e-20f, 0.0f, 1.1f, 3e18f, 1e30f};
    const float two[] = {2.0f};
    const int64_t d[] = {6}, d1[] = {1};
    tta_tensor tx = borrow(TTA_DTYPE_FLOAT32, 1, d, x), te = borrow(TTA_DTYPE_FLOAT32, 1, d1, two), out = {0};
    tta_tensor *in[] = {&tx, &te};
    tta_node n = make_node("Pow", 15, NULL, 0);
    CHECK_EQ_INT(run_node(&n, in, 2, &out), TTA_OK);
    for (int i = 0; i < 6; i++) {
        float want = (float)pow((double)x[i], 2.0), got = ((float *)out.data)[i];
        CHECK(memcmp(&got, &want, sizeof got) == 0);
    }
    tta_tensor_destroy(&out);
}
