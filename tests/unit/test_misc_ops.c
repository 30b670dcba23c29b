/* test_misc_ops.c - unit tests of the 'misc' kernels (reductions, softmax, Resize/Upsample, TopK,
 * NonMaxSuppression, losses) on hand-computed cases. Each test builds a tta_node on the stack,
 * finds its kernel with tta_kernel_find() and drives the four phases as the executor would:
 * prepare, infer (which sizes the outputs), compute, release. */
#include "test.h"

#include "runtime/op.h"

/* ---- a tiny harness */

static tta_attr attr_i(const char *name, int64_t v) {
    return (tta_attr){.name = (char *)name, .type = TTA_ATTR_INT, .i = v};
}
static tta_attr attr_f(const char *name, float v) {
    return (tta_attr){.name = (char *)name, .type = TTA_ATTR_FLOAT, .f = v};
}
static tta_attr attr_s(const char *name, const char *v) {
    return (tta_attr){.name = (char *)name, .type = TTA_ATTR_STRING, .s = (char *)v};
}
static tta_attr attr_ints(const char *name, int n, int64_t *v) {
    return (tta_attr){.name = (char *)name, .type = TTA_ATTR_INTS, .n = n, .ints = v};
}

static tta_node make_node(const char *op, int opset, int n_attrs, tta_attr *attrs) {
    return (tta_node){.name = "t", .op_type = (char *)op, .domain = "", .opset = opset, .n_attrs = n_attrs,
                      .attrs = attrs};
}

/* A borrowed tensor over caller data. */
static tta_tensor tensor(tta_dtype dt, int ndim, const int64_t *dims, void *data) {
    tta_tensor t = {.dtype = dt, .ndim = ndim, .data = data};
    for (int i = 0; i < ndim; i++) t.dims[i] = dims[i];
    return t;
}

/* Runs node on inputs; outputs are owned tensors the caller destroys. Returns the first
 * failing status. */
static tta_status run(const tta_node *node, int n_in, tta_tensor **in, int n_out, tta_tensor **out) {
    const tta_kernel *k = tta_kernel_find(node);
    if (!k) return TTA_ERR_UNSUPPORTED;
    tta_op_ctx ctx = {.node = node, .n_in = n_in, .n_out = n_out, .in = in, .out = out, .n_threads = 1};
    tta_status s = k->prepare ? k->prepare(&ctx) : TTA_OK;
    if (s == TTA_OK) s = k->infer(&ctx);
    for (int i = 0; s == TTA_OK && i < n_out; i++)
        if (out[i]) s = tta_tensor_resize(out[i], out[i]->dtype, out[i]->ndim, out[i]->dims);
    if (s == TTA_OK) s = k->compute(&ctx);
    if (k->release) k->release(&ctx);
    return s;
}

static float outf(const tta_tensor *t, int64_t i) { return ((const float *)t->data)[i]; }
static int64_t outi(const tta_tensor *t, int64_t i) { return ((const int64_t *)t->data)[i]; }

/* ---- softmax */

TEST(softmax_small) {
    float x[3] = {1, 2, 3};
    int64_t d[1] = {3};
    tta_tensor a = tensor(TTA_DTYPE_FLOAT32, 1, d, x), y = {0};
    tta_tensor *in[1] = {&a}, *out[1] = {&y};
    tta_node n = make_node("Softmax", 13, 0, NULL);
    CHECK_EQ_INT(run(&n, 1, in, 1, out), TTA_OK);
    CHECK_EQ_INT(y.ndim, 1);
    CHECK_EQ_INT(y.dims[0], 3);
    CHECK_NEAR(outf(&y, 0), 0.09003057, 1e-6);
    CHECK_NEAR(outf(&y, 1), 0.24472847, 1e-6);
    CHECK_NEAR(outf(&y, 2), 0.66524096, 1e-6);
    tta_tensor_destroy(&y);
}

TEST(softmax_large_logits) {
    float x[2] = {1000, 1001};
    int64_t d[2] = {1, 2};
    tta_tensor a = tensor(TTA_DTYPE_FLOAT32, 2, d, x), y = {0};
    tta_tensor *in[1] = {&a}, *out[1] = {&y};
    tta_node n = make_node("Softmax", 13, 0, NULL);
    CHECK_EQ_INT(run(&n, 1, in, 1, out), TTA_OK);
    CHECK(!isnan(outf(&y, 0)) && !isnan(outf(&y, 1)));
    CHECK_NEAR(outf(&y, 0), 0.26894142, 1e-6);
    CHECK_NEAR(outf(&y, 1), 0.73105858, 1e-6);
    /* LogSoftmax of the same: log of the above, computed without overflow */
    tta_node ls = make_node("LogSoftmax", 13, 0, NULL);
    CHECK_EQ_INT(run(&ls, 1, in, 1, out), TTA_OK);
    CHECK_NEAR(outf(&y, 0), -1.31326169, 1e-5);
    CHECK_NEAR(outf(&y, 1), -0.31326169, 1e-5);
    tta_tensor_destroy(&y);
}

TEST(softmax_axis_semantics_by_opset) {
    /* [2, 2] with axis 0: opset 13 normalises columns; opset 11 coerces to [1, 4] (one row) */
    double x[4] = {0, 0, 0, 0};
    int64_t d[2] = {2, 2};
    tta_tensor a = tensor(TTA_DTYPE_FLOAT64, 2, d, x), y = {0};
    tta_tensor *in[1] = {&a}, *out[1] = {&y};
    tta_attr at[1] = {attr_i("axis", 0)};
    tta_node n13 = make_node("Softmax", 13, 1, at), n11 = make_node("Softmax", 11, 1, at);
    CHECK_EQ_INT(run(&n13, 1, in, 1, out), TTA_OK);
    CHECK_NEAR(((double *)y.data)[0], 0.5, 1e-12);
    CHECK_EQ_INT(run(&n11, 1, in, 1, out), TTA_OK);
    CHECK_NEAR(((double *)y.data)[0], 0.25, 1e-12);
    tta_tensor_destroy(&y);
}

TEST(softmax_axis_out_of_range) {
    float x[3] = {1, 2, 3};
    int64_t d[1] = {3};
    tta_tensor a = tensor(TTA_DTYPE_FLOAT32, 1, d, x), y = {0};
    tta_tensor *in[1] = {&a}, *out[1] = {&y};
    tta_attr at[1] = {attr_i("axis", 1)};
    tta_node n = make_node("Softmax", 13, 1, at);
    CHECK_EQ_INT(run(&n, 1, in, 1, out), TTA_ERR_ATTR);
    CHECK_STR_CONTAINS(tta_last_error(), "axis 1 out of range");
    at[0] = attr_i("axis", -2);
    CHECK_EQ_INT(run(&n, 1, in, 1, out), TTA_ERR_ATTR);
    tta_tensor_destroy(&y);
}

TEST(hardmax_first_max) {
    float x[4] = {1, 3, 3, 0};
    int64_t d[2] = {1, 4};
    tta_tensor a = tensor(TTA_DTYPE_FLOAT32, 2, d, x), y = {0};
    tta_tensor *in[1] = {&a}, *out[1] = {&y};
    tta_node n = make_node("Hardmax", 13, 0, NULL);
    CHECK_EQ_INT(run(&n, 1, in, 1, out), TTA_OK);
    CHECK(outf(&y, 0) == 0 && outf(&y, 1) == 1 && outf(&y, 2) == 0 && outf(&y, 3) == 0);
    tta_tensor_destroy(&y);
}

/* ---- reductions */

TEST(reduce_mean_axis1_no_keepdims) {
    float x[6] = {1, 2, 3, 4, 5, 6};
    int64_t d[2] = {2, 3}, axes[1] = {1};
    tta_tensor a = tensor(TTA_DTYPE_FLOAT32, 2, d, x), y = {0};
    tta_tensor *in[1] = {&a}, *out[1] = {&y};
    tta_attr at[2] = {attr_ints("axes", 1, axes), attr_i("keepdims", 0)};
    tta_node n = make_node("ReduceMean", 13, 2, at);
    CHECK_EQ_INT(run(&n, 1, in, 1, out), TTA_OK);
    CHECK_EQ_INT(y.ndim, 1);
    CHECK_EQ_INT(y.dims[0], 2);
    CHECK_NEAR(outf(&y, 0), 2.0, 1e-6);
    CHECK_NEAR(outf(&y, 1), 5.0, 1e-6);
    tta_tensor_destroy(&y);
}

TEST(reduce_sum_axes_input) {
    /* ReduceSum-13 takes axes as an input; none or empty means all axes unless noop is set */
    float x[6] = {1, 2, 3, 4, 5, 6};
    int64_t d[2] = {2, 3}, ax[1] = {0}, d1[1] = {1}, d0[1] = {0};
    tta_tensor a = tensor(TTA_DTYPE_FLOAT32, 2, d, x), axes = tensor(TTA_DTYPE_INT64, 1, d1, ax), y = {0};
    tta_tensor *in[2] = {&a, &axes}, *out[1] = {&y};
    tta_node n = make_node("ReduceSum", 13, 0, NULL);
    CHECK_EQ_INT(run(&n, 2, in, 1, out), TTA_OK);
    CHECK_EQ_INT(y.ndim, 2);
    CHECK_EQ_INT(y.dims[0], 1);
    CHECK_EQ_INT(y.dims[1], 3);
    CHECK_NEAR(outf(&y, 0), 5, 1e-6);
    CHECK_NEAR(outf(&y, 2), 9, 1e-6);
    CHECK_EQ_INT(run(&n, 1, in, 1, out), TTA_OK); /* no axes: everything */
    CHECK_EQ_INT(tta_tensor_numel(&y), 1);
    CHECK_NEAR(outf(&y, 0), 21, 1e-6);
    tta_tensor empty = tensor(TTA_DTYPE_INT64, 1, d0, ax);
    in[1] = &empty;
    tta_attr at[1] = {attr_i("noop_with_empty_axes", 1)};
    tta_node noop = make_node("ReduceSum", 13, 1, at);
    CHECK_EQ_INT(run(&noop, 2, in, 1, out), TTA_OK);
    CHECK_EQ_INT(tta_tensor_numel(&y), 6);
    CHECK_NEAR(outf(&y, 5), 6, 1e-6);
    /* at plan time the axes input may have no data yet: infer defers */
    tta_tensor unknown = tensor(TTA_DTYPE_INT64, 1, d1, NULL);
    in[1] = &unknown;
    const tta_kernel *k = tta_kernel_find(&n);
    tta_op_ctx ctx = {.node = &n, .n_in = 2, .n_out = 1, .in = in, .out = out, .n_threads = 1};
    CHECK(k && k->prepare(&ctx) == TTA_OK);
    CHECK_EQ_INT(k->infer(&ctx), TTA_DEFER);
    k->release(&ctx);
    tta_tensor_destroy(&y);
}

TEST(reduce_max_and_logsumexp) {
    double x[4] = {1, 1000, -2, 1000};
    int64_t d[2] = {2, 2};
    tta_tensor a = tensor(TTA_DTYPE_FLOAT64, 2, d, x), y = {0};
    tta_tensor *in[1] = {&a}, *out[1] = {&y};
    int64_t axes[1] = {-1};
    tta_attr at[1] = {attr_ints("axes", 1, axes)};
    tta_node mx = make_node("ReduceMax", 13, 1, at), lse = make_node("ReduceLogSumExp", 13, 1, at);
    CHECK_EQ_INT(run(&mx, 1, in, 1, out), TTA_OK);
    CHECK_EQ_INT(y.ndim, 2);
    CHECK_EQ_INT(y.dims[1], 1);
    CHECK_NEAR(((double *)y.data)[0], 1000, 0);
    CHECK_EQ_INT(run(&lse, 1, in, 1, out), TTA_OK);
    CHECK_NEAR(((double *)y.data)[0], 1000, 1e-9);
    CHECK_NEAR(((double *)y.data)[1], 1000, 1e-9);
    tta_tensor_destroy(&y);
}

TEST(reduce_integer_opset18) {
    /* from opset 18 every Reduce* takes axes as an input; integer data stays integer */
    int32_t x[6] = {1, 2, 3, 4, 5, -6};
    int64_t d[2] = {2, 3}, ax[1] = {0}, d1[1] = {1};
    tta_tensor a = tensor(TTA_DTYPE_INT32, 2, d, x), axes = tensor(TTA_DTYPE_INT64, 1, d1, ax), y = {0};
    tta_tensor *in[2] = {&a, &axes}, *out[1] = {&y};
    tta_attr at[1] = {attr_i("keepdims", 0)};
    tta_node prod = make_node("ReduceProd", 18, 1, at), mn = make_node("ReduceMin", 18, 1, at);
    CHECK_EQ_INT(run(&prod, 2, in, 1, out), TTA_OK);
    CHECK_EQ_INT(y.dtype, TTA_DTYPE_INT32);
    CHECK_EQ_INT(y.ndim, 1);
    CHECK_EQ_INT(((int32_t *)y.data)[0], 4);
    CHECK_EQ_INT(((int32_t *)y.data)[2], -18);
    CHECK_EQ_INT(run(&mn, 2, in, 1, out), TTA_OK);
    CHECK_EQ_INT(((int32_t *)y.data)[1], 2);
    CHECK_EQ_INT(((int32_t *)y.data)[2], -6);
    /* the axes attribute is an error where axes are an input */
    int64_t one[1] = {1};
    tta_attr bad[1] = {attr_ints("axes", 1, one)};
    tta_node badn = make_node("ReduceMean", 18, 1, bad);
    CHECK_EQ_INT(run(&badn, 1, in, 1, out), TTA_ERR_ATTR);
    tta_tensor_destroy(&y);
}

TEST(argmax_ties) {
    float x[8] = {2, 5, 5, 1, 7, 7, 0, 7};
    int64_t d[2] = {2, 4};
    tta_tensor a = tensor(TTA_DTYPE_FLOAT32, 2, d, x), y = {0};
    tta_tensor *in[1] = {&a}, *out[1] = {&y};
    tta_attr at[2] = {attr_i("axis", 1), attr_i("keepdims", 1)};
    tta_node n = make_node("ArgMax", 13, 2, at);
    CHECK_EQ_INT(run(&n, 1, in, 1, out), TTA_OK);
    CHECK_EQ_INT(y.dtype, TTA_DTYPE_INT64);
    CHECK_EQ_INT(y.ndim, 2);
    CHECK_EQ_INT(y.dims[1], 1);
    CHECK_EQ_INT(outi(&y, 0), 1); /* first of the tied maxima */
    CHECK_EQ_INT(outi(&y, 1), 0);
    tta_attr at2[3] = {attr_i("axis", 1), attr_i("keepdims", 0), attr_i("select_last_index", 1)};
    tta_node last = make_node("ArgMax", 13, 3, at2);
    CHECK_EQ_INT(run(&last, 1, in, 1, out), TTA_OK);
    CHECK_EQ_INT(y.ndim, 1);
    CHECK_EQ_INT(outi(&y, 0), 2);
    CHECK_EQ_INT(outi(&y, 1), 3);
    tta_node amin = make_node("ArgMin", 13, 2, at);
    CHECK_EQ_INT(run(&amin, 1, in, 1, out), TTA_OK);
    CHECK_EQ_INT(outi(&y, 0), 3);
    CHECK_EQ_INT(outi(&y, 1), 2);
    tta_tensor_destroy(&y);
}

/* ---- Resize / Upsample */

TEST(resize_nearest_x2_asymmetric) {
    float x[4] = {1, 2, 3, 4};
    float sc[4] = {1, 1, 2, 2};
    int64_t d[4] = {1, 1, 2, 2}, d4[1] = {4};
    tta_tensor a = tensor(TTA_DTYPE_FLOAT32, 4, d, x), s = tensor(TTA_DTYPE_FLOAT32, 1, d4, sc), y = {0};
    tta_tensor *in[3] = {&a, NULL, &s}, *out[1] = {&y};
    tta_attr at[2] = {attr_s("mode", "nearest"), attr_s("coordinate_transformation_mode", "asymmetric")};
    tta_node n = make_node("Resize", 13, 2, at);
    CHECK_EQ_INT(run(&n, 3, in, 1, out), TTA_OK);
    CHECK_EQ_INT(y.ndim, 4);
    CHECK_EQ_INT(y.dims[2], 4);
    CHECK_EQ_INT(y.dims[3], 4);
    static const float want[16] = {1, 1, 2, 2, 1, 1, 2, 2, 3, 3, 4, 4, 3, 3, 4, 4};
    for (int i = 0; i < 16; i++) CHECK_NEAR(outf(&y, i), want[i], 0);
    /* Upsample-9 and Upsample-7 give the same */
    tta_attr up_at[2] = {attr_s("mode", "nearest"), {.name = "scales", .type = TTA_ATTR_FLOATS, .n = 4, .floats = sc}};
    tta_node up9 = make_node("Upsample", 9, 1, up_at), up7 = make_node("Upsample", 7, 2, up_at);
    tta_tensor *in9[2] = {&a, &s};
    CHECK_EQ_INT(run(&up9, 2, in9, 1, out), TTA_OK);
    for (int i = 0; i < 16; i++) CHECK_NEAR(outf(&y, i), want[i], 0);
    CHECK_EQ_INT(run(&up7, 1, in9, 1, out), TTA_OK);
    for (int i = 0; i < 16; i++) CHECK_NEAR(outf(&y, i), want[i], 0);
    /* uint8 images resize through the generic path and stay uint8 */
    uint8_t xb[4] = {1, 2, 3, 4};
    tta_tensor b = tensor(TTA_DTYPE_UINT8, 4, d, xb);
    in[0] = &b;
    CHECK_EQ_INT(run(&n, 3, in, 1, out), TTA_OK);
    CHECK_EQ_INT(y.dtype, TTA_DTYPE_UINT8);
    for (int i = 0; i < 16; i++) CHECK_EQ_INT(((uint8_t *)y.data)[i], (int)want[i]);
    tta_tensor_destroy(&y);
}

TEST(upsample_linear_and_resize10_nearest) {
    /* Upsample-9 linear is asymmetric with clamping: x_in = x_out / 2 = 0, 0.5, 1, 1.5 */
    float x[2] = {1, 3}, sc[4] = {1, 1, 1, 2};
    int64_t d[4] = {1, 1, 1, 2}, d4[1] = {4};
    tta_tensor a = tensor(TTA_DTYPE_FLOAT32, 4, d, x), s = tensor(TTA_DTYPE_FLOAT32, 1, d4, sc), y = {0};
    tta_tensor *in[2] = {&a, &s}, *out[1] = {&y};
    tta_attr at[1] = {attr_s("mode", "linear")};
    tta_node up = make_node("Upsample", 9, 1, at);
    CHECK_EQ_INT(run(&up, 2, in, 1, out), TTA_OK);
    static const float want[4] = {1, 2, 3, 3};
    for (int i = 0; i < 4; i++) CHECK_NEAR(outf(&y, i), want[i], 1e-6);
    /* Resize-10 nearest downscaling takes ceil(x_out / scale), as ONNX Runtime does:
     * 5 -> 3 columns at scale 0.6: x_in = 0, 1.67, 3.33 -> 0, 2, 4 (floor would give 0, 1, 3) */
    float x5[5] = {10, 11, 12, 13, 14}, sc2[4] = {1, 1, 1, 0.6f};
    int64_t d5[4] = {1, 1, 1, 5};
    tta_tensor a5 = tensor(TTA_DTYPE_FLOAT32, 4, d5, x5), s2 = tensor(TTA_DTYPE_FLOAT32, 1, d4, sc2);
    tta_tensor *in10[2] = {&a5, &s2};
    tta_node r10 = make_node("Resize", 10, 0, NULL);
    CHECK_EQ_INT(run(&r10, 2, in10, 1, out), TTA_OK);
    CHECK_EQ_INT(y.dims[3], 3);
    CHECK_NEAR(outf(&y, 0), 10, 0);
    CHECK_NEAR(outf(&y, 1), 12, 0);
    CHECK_NEAR(outf(&y, 2), 14, 0);
    tta_tensor_destroy(&y);
}

TEST(resize_linear_half_pixel) {
    /* [1, 3] -> 4 columns: x_in = (x_out + 0.5) / 2 - 0.5 = -0.25, 0.25, 0.75, 1.25, clamped at
     * the edges: 1, 0.75*1 + 0.25*3 = 1.5, 0.25*1 + 0.75*3 = 2.5, 3 */
    float x[2] = {1, 3};
    int64_t d[4] = {1, 1, 1, 2}, d4[1] = {4}, sz[4] = {1, 1, 1, 4};
    float sc[4] = {1, 1, 1, 2};
    tta_tensor a = tensor(TTA_DTYPE_FLOAT32, 4, d, x), s = tensor(TTA_DTYPE_FLOAT32, 1, d4, sc),
               sizes = tensor(TTA_DTYPE_INT64, 1, d4, sz), y = {0};
    tta_tensor *in[4] = {&a, NULL, &s, NULL}, *out[1] = {&y};
    tta_attr at[1] = {attr_s("mode", "linear")}; /* half_pixel is the default */
    tta_node n = make_node("Resize", 13, 1, at);
    static const float want[4] = {1, 1.5f, 2.5f, 3};
    CHECK_EQ_INT(run(&n, 3, in, 1, out), TTA_OK);
    CHECK_EQ_INT(y.dims[3], 4);
    for (int i = 0; i < 4; i++) CHECK_NEAR(outf(&y, i), want[i], 1e-6);
    in[2] = NULL; /* the same through sizes */
    in[3] = &sizes;
    CHECK_EQ_INT(run(&n, 4, in, 1, out), TTA_OK);
    for (int i = 0; i < 4; i++) CHECK_NEAR(outf(&y, i), want[i], 1e-6);
    in[2] = &s; /* both scales and sizes: an error */
    CHECK_EQ_INT(run(&n, 4, in, 1, out), TTA_ERR_SHAPE);
    tta_tensor_destroy(&y);
}

TEST(resize_tf_crop_and_resize) {
    /* roi [0.5, 1.5] of a 4-element row, 3 outputs: x_in = 1.5 * x_out + 1.5 = 1.5, 3, 4.5; the
     * last lies past the input and takes extrapolation_value */
    float x[4] = {1, 2, 3, 4}, roi[2] = {0.5f, 1.5f};
    int64_t d[1] = {4}, d2[1] = {2}, d1[1] = {1}, sz[1] = {3};
    tta_tensor a = tensor(TTA_DTYPE_FLOAT32, 1, d, x), r = tensor(TTA_DTYPE_FLOAT32, 1, d2, roi),
               sizes = tensor(TTA_DTYPE_INT64, 1, d1, sz), y = {0};
    tta_tensor *in[4] = {&a, &r, NULL, &sizes}, *out[1] = {&y};
    tta_attr at[3] = {attr_s("mode", "linear"), attr_s("coordinate_transformation_mode", "tf_crop_and_resize"),
                      attr_f("extrapolation_value", 9)};
    tta_node n = make_node("Resize", 13, 3, at);
    CHECK_EQ_INT(run(&n, 4, in, 1, out), TTA_OK);
    CHECK_EQ_INT(y.dims[0], 3);
    CHECK_NEAR(outf(&y, 0), 2.5, 1e-6);
    CHECK_NEAR(outf(&y, 1), 4, 1e-6);
    CHECK_NEAR(outf(&y, 2), 9, 0);
    tta_tensor_destroy(&y);
}

TEST(resize_bad_mode) {
    float x[1] = {1};
    int64_t d[1] = {1};
    tta_tensor a = tensor(TTA_DTYPE_FLOAT32, 1, d, x), y = {0};
    tta_tensor *in[1] = {&a}, *out[1] = {&y};
    tta_attr at[1] = {attr_s("mode", "bicubic")};
    tta_node n = make_node("Resize", 13, 1, at);
    CHECK_EQ_INT(run(&n, 1, in, 1, out), TTA_ERR_ATTR);
    CHECK_STR_CONTAINS(tta_last_error(), "bicubic");
    tta_tensor_destroy(&y);
}

/* ---- TopK, NMS */

TEST(topk_k2) {
    float x[5] = {1, 3, 2, 3, 0};
    int64_t d[1] = {5}, kd[1] = {1}, kv[1] = {2};
    tta_tensor a = tensor(TTA_DTYPE_FLOAT32, 1, d, x), k = tensor(TTA_DTYPE_INT64, 1, kd, kv), v = {0}, i = {0};
    tta_tensor *in[2] = {&a, &k}, *out[2] = {&v, &i};
    tta_node n = make_node("TopK", 11, 0, NULL);
    CHECK_EQ_INT(run(&n, 2, in, 2, out), TTA_OK);
    CHECK_EQ_INT(v.dims[0], 2);
    CHECK_EQ_INT(i.dtype, TTA_DTYPE_INT64);
    CHECK_NEAR(outf(&v, 0), 3, 0);
    CHECK_NEAR(outf(&v, 1), 3, 0);
    CHECK_EQ_INT(outi(&i, 0), 1); /* ties: lower index first */
    CHECK_EQ_INT(outi(&i, 1), 3);
    tta_attr at[1] = {attr_i("largest", 0)};
    tta_node small = make_node("TopK", 11, 1, at);
    CHECK_EQ_INT(run(&small, 2, in, 2, out), TTA_OK);
    CHECK_NEAR(outf(&v, 0), 0, 0);
    CHECK_NEAR(outf(&v, 1), 1, 0);
    CHECK_EQ_INT(outi(&i, 0), 4);
    CHECK_EQ_INT(outi(&i, 1), 0);
    kv[0] = 6; /* K larger than the axis */
    CHECK_EQ_INT(run(&n, 2, in, 2, out), TTA_ERR_SHAPE);
    tta_tensor_destroy(&v);
    tta_tensor_destroy(&i);
}

TEST(nms_three_boxes) {
    /* box 1 overlaps box 0 with IoU 0.9/1.1 > 0.5 and a lower score: suppressed; box 2 is apart */
    float boxes[12] = {0, 0, 1, 1, 0, 0.1f, 1, 1.1f, 0, 2, 1, 3};
    float scores[3] = {0.9f, 0.8f, 0.7f};
    int64_t maxo[1] = {3};
    float iou[1] = {0.5f}, sth[1] = {0.0f};
    int64_t db[3] = {1, 3, 4}, ds[3] = {1, 1, 3}, d1[1] = {1};
    tta_tensor b = tensor(TTA_DTYPE_FLOAT32, 3, db, boxes), s = tensor(TTA_DTYPE_FLOAT32, 3, ds, scores),
               m = tensor(TTA_DTYPE_INT64, 1, d1, maxo), io = tensor(TTA_DTYPE_FLOAT32, 1, d1, iou),
               st = tensor(TTA_DTYPE_FLOAT32, 1, d1, sth), y = {0};
    tta_tensor *in[5] = {&b, &s, &m, &io, &st}, *out[1] = {&y};
    tta_node n = make_node("NonMaxSuppression", 11, 0, NULL);
    CHECK_EQ_INT(run(&n, 5, in, 1, out), TTA_OK);
    CHECK_EQ_INT(y.dtype, TTA_DTYPE_INT64);
    CHECK_EQ_INT(y.ndim, 2);
    CHECK_EQ_INT(y.dims[0], 2);
    CHECK_EQ_INT(y.dims[1], 3);
    CHECK_EQ_INT(outi(&y, 0), 0);
    CHECK_EQ_INT(outi(&y, 2), 0);
    CHECK_EQ_INT(outi(&y, 3), 0);
    CHECK_EQ_INT(outi(&y, 4), 0);
    CHECK_EQ_INT(outi(&y, 5), 2);
    /* a score threshold above box 2's score leaves box 0 only */
    sth[0] = 0.75f;
    CHECK_EQ_INT(run(&n, 5, in, 1, out), TTA_OK);
    CHECK_EQ_INT(y.dims[0], 1);
    CHECK_EQ_INT(outi(&y, 2), 0);
    /* without max_output_boxes_per_class nothing is selected */
    CHECK_EQ_INT(run(&n, 2, in, 1, out), TTA_OK);
    CHECK_EQ_INT(y.dims[0], 0);
    /* the output shape needs the data: infer defers at plan time */
    tta_tensor nodata = tensor(TTA_DTYPE_FLOAT32, 3, ds, NULL);
    in[1] = &nodata;
    const tta_kernel *k = tta_kernel_find(&n);
    tta_op_ctx ctx = {.node = &n, .n_in = 5, .n_out = 1, .in = in, .out = out, .n_threads = 1};
    CHECK(k && k->prepare(&ctx) == TTA_OK);
    CHECK_EQ_INT(k->infer(&ctx), TTA_DEFER);
    k->release(&ctx);
    tta_tensor_destroy(&y);
}

/* ---- losses */

TEST(nll_and_sce) {
    /* log-probabilities of 2 samples over 3 classes; sample 1 is ignored */
    float lp[6] = {-1, -2, -3, -0.5f, -1.5f, -2.5f};
    int64_t tgt[2] = {2, 1};
    float w[3] = {1, 2, 4};
    int64_t dx[2] = {2, 3}, dt[1] = {2}, dw[1] = {3};
    tta_tensor x = tensor(TTA_DTYPE_FLOAT32, 2, dx, lp), t = tensor(TTA_DTYPE_INT64, 1, dt, tgt),
               wt = tensor(TTA_DTYPE_FLOAT32, 1, dw, w), y = {0}, l = {0};
    tta_tensor *in[3] = {&x, &t, &wt}, *out[2] = {&y, &l};
    tta_node mean = make_node("NegativeLogLikelihoodLoss", 13, 0, NULL);
    CHECK_EQ_INT(run(&mean, 3, in, 1, out), TTA_OK);
    CHECK_EQ_INT(y.ndim, 0);
    CHECK_NEAR(outf(&y, 0), (3 * 4 + 1.5 * 2) / 6.0, 1e-6);
    tta_attr at[2] = {attr_i("ignore_index", 1), attr_s("reduction", "none")};
    tta_node none = make_node("NegativeLogLikelihoodLoss", 13, 2, at);
    CHECK_EQ_INT(run(&none, 2, in, 1, out), TTA_OK);
    CHECK_EQ_INT(y.ndim, 1);
    CHECK_NEAR(outf(&y, 0), 3, 1e-6);
    CHECK_NEAR(outf(&y, 1), 0, 0);
    /* SoftmaxCrossEntropyLoss of all-equal scores: loss log(3) and log_prob -log(3) */
    float z[6] = {0, 0, 0, 0, 0, 0};
    tta_tensor zs = tensor(TTA_DTYPE_FLOAT32, 2, dx, z);
    in[0] = &zs;
    tta_node sce = make_node("SoftmaxCrossEntropyLoss", 13, 0, NULL);
    CHECK_EQ_INT(run(&sce, 2, in, 2, out), TTA_OK);
    CHECK_NEAR(outf(&y, 0), log(3.0), 1e-6);
    CHECK_EQ_INT(l.ndim, 2);
    CHECK_NEAR(outf(&l, 4), -log(3.0), 1e-6);
    tgt[0] = 7; /* out of range and not ignored */
    CHECK_EQ_INT(run(&sce, 2, in, 2, out), TTA_ERR_SHAPE);
    tta_tensor_destroy(&y);
    tta_tensor_destroy(&l);
}
