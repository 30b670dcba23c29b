/* test_nn_ops.c - unit tests of the 'nn' kernels (Conv, ConvTranspose, pools, normalisation,
 * Gemm, MatMul, sgemm), called through tta_kernel_find() on hand-built nodes: small cases
 * computed by hand, shape/attribute errors, and larger random cases where the float32 fast
 * paths (im2col + blocked sgemm, chunking, depthwise) are checked against the float64 direct
 * loops or a naive product. */
#include <stdint.h>

#include "runtime/op.h"
#include "runtime/ops/nn.h"
#include "test.h"

/* ---- building nodes and running kernels */

typedef struct node_builder {
    tta_node node;
    tta_attr attrs[12];
    int inputs[8], outputs[4];
    int64_t ints[12][12];
} node_builder;

static void nb_init(node_builder *b, const char *op, int opset, int n_in, int n_out) {
    memset(b, 0, sizeof *b);
    b->node.name = "t";
    b->node.op_type = (char *)op;
    b->node.domain = "";
    b->node.opset = opset;
    b->node.n_inputs = n_in;
    b->node.n_outputs = n_out;
    for (int i = 0; i < 8; i++)
        b->inputs[i] = i;
    for (int i = 0; i < 4; i++)
        b->outputs[i] = 10 + i;
    b->node.inputs = b->inputs;
    b->node.outputs = b->outputs;
    b->node.attrs = b->attrs;
}

static tta_attr *nb_attr(node_builder *b, const char *name, tta_attr_type type) {
    tta_attr *a = &b->attrs[b->node.n_attrs++];
    a->name = (char *)name;
    a->type = type;
    return a;
}
static void nb_int(node_builder *b, const char *name, int64_t v) { nb_attr(b, name, TTA_ATTR_INT)->i = v; }
static void nb_float(node_builder *b, const char *name, float v) { nb_attr(b, name, TTA_ATTR_FLOAT)->f = v; }
static void nb_str(node_builder *b, const char *name, const char *v) {
    nb_attr(b, name, TTA_ATTR_STRING)->s = (char *)v;
}
static void nb_ints(node_builder *b, const char *name, int n, const int64_t *v) {
    int slot = b->node.n_attrs;
    tta_attr *a = nb_attr(b, name, TTA_ATTR_INTS);
    memcpy(b->ints[slot], v, (size_t)n * sizeof(int64_t));
    a->ints = b->ints[slot];
    a->n = n;
}
#define INTS(...)                                                                                            \
    (sizeof((int64_t[]){__VA_ARGS__}) / sizeof(int64_t)), (int64_t[]) { __VA_ARGS__ }

/* A tensor borrowing `data`. */
static tta_tensor view(tta_dtype dt, void *data, int ndim, const int64_t *dims) {
    tta_tensor t = {0};
    t.dtype = dt;
    t.ndim = ndim;
    for (int i = 0; i < ndim; i++)
        t.dims[i] = dims[i];
    t.data = data;
    return t;
}
#define F32(data, ...)                                                                                       \
    view(TTA_DTYPE_FLOAT32, data, sizeof((int64_t[]){__VA_ARGS__}) / sizeof(int64_t),                        \
         (int64_t[]){__VA_ARGS__})

/* prepare -> infer -> allocate outputs -> compute -> release. Outputs must be zeroed tensors
 * (or NULL for omitted ones); the caller destroys them. */
static tta_status run_node(const tta_node *node, tta_tensor **in, int n_in, tta_tensor **out, int n_out) {
    const tta_kernel *k = tta_kernel_find(node);
    if (!k) return TTA_ERR_UNSUPPORTED;
    tta_op_ctx ctx = {node, n_in, n_out, in, out, NULL, 2};
    tta_status st = k->prepare ? k->prepare(&ctx) : TTA_OK;
    if (st == TTA_OK) st = k->infer(&ctx);
    for (int i = 0; st == TTA_OK && i < n_out; i++) {
        if (!out[i]) continue;
        int64_t dims[TTA_MAX_DIMS];
        memcpy(dims, out[i]->dims, sizeof dims);
        st = tta_tensor_resize(out[i], out[i]->dtype, out[i]->ndim, dims);
    }
    if (st == TTA_OK) st = k->compute(&ctx);
    if (k->release) k->release(&ctx);
    return st;
}

static void check_f32(const tta_tensor *t, const float *want, int64_t n, double tol) {
    CHECK_EQ_INT(tta_tensor_numel(t), n);
    if (tta_tensor_numel(t) != n) return;
    for (int64_t i = 0; i < n; i++)
        CHECK_NEAR(((const float *)t->data)[i], want[i], tol);
}

static void check_shape(const tta_tensor *t, int ndim, const int64_t *dims) {
    CHECK_EQ_INT(t->ndim, ndim);
    for (int i = 0; i < ndim && i < t->ndim; i++)
        CHECK_EQ_INT(t->dims[i], dims[i]);
}
#define CHECK_SHAPE(t, ...)                                                                                  \
    check_shape(t, sizeof((int64_t[]){__VA_ARGS__}) / sizeof(int64_t), (int64_t[]){__VA_ARGS__})

static uint32_t rng_state = 12345;
static float frand(void) {
    rng_state = rng_state * 1664525u + 1013904223u;
    return (float)((rng_state >> 8) & 0xffff) / 32768.0f - 1.0f;
}

/* ---- Conv */

TEST(conv_2x2_kernel_on_3x3) {
    float x[9] = {1, 2, 3, 4, 5, 6, 7, 8, 9}, w[4] = {1, 2, 3, 4}, b[1] = {0.5f};
    tta_tensor X = F32(x, 1, 1, 3, 3), W = F32(w, 1, 1, 2, 2), B = F32(b, 1), Y = {0};
    node_builder nb;
    nb_init(&nb, "Conv", 11, 3, 1);
    tta_tensor *in[] = {&X, &W, &B}, *out[] = {&Y};
    CHECK(run_node(&nb.node, in, 3, out, 1) == TTA_OK);
    CHECK_SHAPE(&Y, 1, 1, 2, 2);
    check_f32(&Y, (float[]){37.5f, 47.5f, 67.5f, 77.5f}, 4, 1e-5);
    tta_tensor_destroy(&Y);
    /* Same without bias and with an explicit matching kernel_shape. */
    nb_init(&nb, "Conv", 1, 2, 1);
    nb_ints(&nb, "kernel_shape", INTS(2, 2));
    CHECK(run_node(&nb.node, in, 2, out, 1) == TTA_OK);
    check_f32(&Y, (float[]){37, 47, 67, 77}, 4, 1e-5);
    tta_tensor_destroy(&Y);
}

TEST(conv_grouped) {
    /* depthwise: group 2, one 1x1 weight per channel */
    float x[8] = {1, 2, 3, 4, 5, 6, 7, 8}, w[2] = {2, 3};
    tta_tensor X = F32(x, 1, 2, 2, 2), W = F32(w, 2, 1, 1, 1), Y = {0};
    node_builder nb;
    nb_init(&nb, "Conv", 11, 2, 1);
    nb_int(&nb, "group", 2);
    tta_tensor *in[] = {&X, &W}, *out[] = {&Y};
    CHECK(run_node(&nb.node, in, 2, out, 1) == TTA_OK);
    CHECK_SHAPE(&Y, 1, 2, 2, 2);
    check_f32(&Y, (float[]){2, 4, 6, 8, 15, 18, 21, 24}, 8, 1e-5);
    tta_tensor_destroy(&Y);

    /* two groups of two input channels: out0 = x0 + x1, out1 = x2 - x3 */
    float x2[16] = {1, 2, 3, 4, 10, 20, 30, 40, 5, 5, 5, 5, 1, 2, 3, 4}, w2[4] = {1, 1, 1, -1};
    tta_tensor X2 = F32(x2, 1, 4, 2, 2), W2 = F32(w2, 2, 2, 1, 1);
    tta_tensor *in2[] = {&X2, &W2};
    CHECK(run_node(&nb.node, in2, 2, out, 1) == TTA_OK);
    CHECK_SHAPE(&Y, 1, 2, 2, 2);
    check_f32(&Y, (float[]){11, 22, 33, 44, 4, 3, 2, 1}, 8, 1e-5);
    tta_tensor_destroy(&Y);
}

TEST(conv_pad_and_stride) {
    /* 3x3 ones kernel, pads 1, stride 2 on 1..9: window sums at the four corners. */
    float x[9] = {1, 2, 3, 4, 5, 6, 7, 8, 9}, w[9];
    for (int i = 0; i < 9; i++)
        w[i] = 1;
    tta_tensor X = F32(x, 1, 1, 3, 3), W = F32(w, 1, 1, 3, 3), Y = {0};
    node_builder nb;
    nb_init(&nb, "Conv", 11, 2, 1);
    nb_ints(&nb, "pads", INTS(1, 1, 1, 1));
    nb_ints(&nb, "strides", INTS(2, 2));
    tta_tensor *in[] = {&X, &W}, *out[] = {&Y};
    CHECK(run_node(&nb.node, in, 2, out, 1) == TTA_OK);
    CHECK_SHAPE(&Y, 1, 1, 2, 2);
    check_f32(&Y, (float[]){12, 16, 24, 28}, 4, 1e-5);
    tta_tensor_destroy(&Y);

    /* The same through the im2col path: a second input channel of zeros. */
    float x2[18] = {1, 2, 3, 4, 5, 6, 7, 8, 9}, w2[18];
    for (int i = 0; i < 18; i++)
        w2[i] = i < 9 ? 1 : 5;
    tta_tensor X2 = F32(x2, 1, 2, 3, 3), W2 = F32(w2, 1, 2, 3, 3);
    tta_tensor *in2[] = {&X2, &W2};
    CHECK(run_node(&nb.node, in2, 2, out, 1) == TTA_OK);
    check_f32(&Y, (float[]){12, 16, 24, 28}, 4, 1e-5);
    tta_tensor_destroy(&Y);

    /* auto_pad SAME_UPPER with stride 2 on 3x3: output 2x2, total pad 2 -> 1 each side: same result */
    nb_init(&nb, "Conv", 11, 2, 1);
    nb_str(&nb, "auto_pad", "SAME_UPPER");
    nb_ints(&nb, "strides", INTS(2, 2));
    CHECK(run_node(&nb.node, in, 2, out, 1) == TTA_OK);
    check_f32(&Y, (float[]){12, 16, 24, 28}, 4, 1e-5);
    tta_tensor_destroy(&Y);
}

TEST(conv_weight_channel_mismatch_is_shape_error) {
    float x[48] = {0}, w[54] = {0};
    tta_tensor X = F32(x, 1, 3, 4, 4), W = F32(w, 3, 2, 3, 3), Y = {0};
    node_builder nb;
    nb_init(&nb, "Conv", 11, 2, 1);
    tta_tensor *in[] = {&X, &W}, *out[] = {&Y};
    CHECK(run_node(&nb.node, in, 2, out, 1) == TTA_ERR_SHAPE);
    CHECK_STR_CONTAINS(tta_last_error(), "input channels");
    /* bias of the wrong length */
    float w2[81] = {0}, b[2] = {0};
    tta_tensor W2 = F32(w2, 3, 3, 3, 3), B = F32(b, 2);
    tta_tensor *in2[] = {&X, &W2, &B};
    nb_init(&nb, "Conv", 11, 3, 1);
    CHECK(run_node(&nb.node, in2, 3, out, 1) == TTA_ERR_SHAPE);
    /* bad attributes */
    nb_init(&nb, "Conv", 11, 2, 1);
    nb_str(&nb, "auto_pad", "SIDEWAYS");
    CHECK(run_node(&nb.node, in2, 2, out, 1) == TTA_ERR_ATTR);
    nb_init(&nb, "Conv", 11, 2, 1);
    nb_ints(&nb, "strides", INTS(0, 1));
    CHECK(run_node(&nb.node, in2, 2, out, 1) == TTA_ERR_ATTR);
    tta_tensor_destroy(&Y);
}

/* Runs the same Conv/ConvTranspose on float32 and float64 copies of random data and compares:
 * the float32 path uses im2col/sgemm/depthwise, the float64 one the direct loops. */
static void conv_oracle(const char *op, int ns, const int64_t *xd, const int64_t *wd, int64_t group,
                        const int64_t *strides, const int64_t *dil, const int64_t *pads, bool bias) {
    int64_t nx = 1, nw = 1, m = !strcmp(op, "Conv") ? wd[0] : wd[1] * group;
    for (int i = 0; i < ns + 2; i++) {
        nx *= xd[i];
        nw *= wd[i];
    }
    float *x = malloc(nx * 4), *w = malloc(nw * 4), *b = malloc(m * 4);
    double *xx = malloc(nx * 8), *ww = malloc(nw * 8), *bb = malloc(m * 8);
    for (int64_t i = 0; i < nx; i++)
        xx[i] = x[i] = frand();
    for (int64_t i = 0; i < nw; i++)
        ww[i] = w[i] = frand();
    for (int64_t i = 0; i < m; i++)
        bb[i] = b[i] = frand();
    tta_tensor X = view(TTA_DTYPE_FLOAT32, x, ns + 2, xd), W = view(TTA_DTYPE_FLOAT32, w, ns + 2, wd);
    tta_tensor B = view(TTA_DTYPE_FLOAT32, b, 1, &m);
    tta_tensor XX = view(TTA_DTYPE_FLOAT64, xx, ns + 2, xd), WW = view(TTA_DTYPE_FLOAT64, ww, ns + 2, wd);
    tta_tensor BB = view(TTA_DTYPE_FLOAT64, bb, 1, &m);
    tta_tensor Y = {0}, YY = {0};
    node_builder nb;
    nb_init(&nb, op, 11, bias ? 3 : 2, 1);
    nb_int(&nb, "group", group);
    nb_ints(&nb, "strides", ns, strides);
    nb_ints(&nb, "dilations", ns, dil);
    nb_ints(&nb, "pads", 2 * ns, pads);
    tta_tensor *in[] = {&X, &W, &B}, *in2[] = {&XX, &WW, &BB}, *out[] = {&Y}, *out2[] = {&YY};
    CHECK(run_node(&nb.node, in, bias ? 3 : 2, out, 1) == TTA_OK);
    CHECK(run_node(&nb.node, in2, bias ? 3 : 2, out2, 1) == TTA_OK);
    CHECK(Y.dtype == TTA_DTYPE_FLOAT32 && YY.dtype == TTA_DTYPE_FLOAT64);
    CHECK_EQ_INT(tta_tensor_numel(&Y), tta_tensor_numel(&YY));
    double worst = 0;
    for (int64_t i = 0; i < tta_tensor_numel(&Y) && i < tta_tensor_numel(&YY); i++) {
        double d = fabs(((float *)Y.data)[i] - ((double *)YY.data)[i]);
        if (d > worst) worst = d;
    }
    CHECK(worst < 1e-3);
    if (worst >= 1e-3) fprintf(stderr, "  %s %dD: worst difference %g\n", op, ns, worst);
    tta_tensor_destroy(&Y);
    tta_tensor_destroy(&YY);
    free(x), free(w), free(b), free(xx), free(ww), free(bb);
}

TEST(conv_fast_paths_match_direct_loops) {
    /* big enough to split im2col into column chunks (rows 288, 4096 outputs) */
    conv_oracle("Conv", 2, (int64_t[]){1, 32, 64, 64}, (int64_t[]){16, 32, 3, 3}, 1, (int64_t[]){1, 1},
                (int64_t[]){1, 1}, (int64_t[]){1, 1, 1, 1}, true);
    /* groups, strides, dilations, asymmetric pads, batch 2 */
    conv_oracle("Conv", 2, (int64_t[]){2, 6, 13, 11}, (int64_t[]){9, 2, 3, 2}, 3, (int64_t[]){2, 1},
                (int64_t[]){2, 1}, (int64_t[]){1, 0, 2, 1}, true);
    /* depthwise with multiplier 2, stride 2, dilation 2 */
    conv_oracle("Conv", 2, (int64_t[]){2, 4, 15, 16}, (int64_t[]){8, 1, 3, 3}, 4, (int64_t[]){2, 2},
                (int64_t[]){2, 2}, (int64_t[]){2, 1, 0, 3}, false);
    /* 1x1 pointwise */
    conv_oracle("Conv", 2, (int64_t[]){2, 8, 7, 5}, (int64_t[]){12, 8, 1, 1}, 1, (int64_t[]){1, 1},
                (int64_t[]){1, 1}, (int64_t[]){0, 0, 0, 0}, true);
    /* 1-D and 3-D */
    conv_oracle("Conv", 1, (int64_t[]){2, 4, 30}, (int64_t[]){6, 2, 5}, 2, (int64_t[]){3}, (int64_t[]){2},
                (int64_t[]){2, 4}, true);
    conv_oracle("Conv", 3, (int64_t[]){1, 4, 6, 7, 5}, (int64_t[]){6, 2, 3, 2, 3}, 2, (int64_t[]){1, 2, 1},
                (int64_t[]){1, 1, 2}, (int64_t[]){1, 0, 1, 1, 1, 1}, true);
    /* ConvTranspose: groups, strides, dilations, pads, 1-D to 3-D */
    conv_oracle("ConvTranspose", 2, (int64_t[]){2, 4, 7, 6}, (int64_t[]){4, 3, 3, 4}, 2, (int64_t[]){2, 3},
                (int64_t[]){1, 2}, (int64_t[]){1, 0, 2, 1}, true);
    conv_oracle("ConvTranspose", 1, (int64_t[]){1, 3, 9}, (int64_t[]){3, 2, 4}, 1, (int64_t[]){2},
                (int64_t[]){1}, (int64_t[]){0, 1}, false);
    conv_oracle("ConvTranspose", 3, (int64_t[]){1, 2, 3, 4, 3}, (int64_t[]){2, 2, 2, 3, 2}, 1,
                (int64_t[]){2, 1, 2}, (int64_t[]){1, 1, 1}, (int64_t[]){0, 1, 0, 0, 0, 1}, true);
}

TEST(convtranspose_output_shape_and_padding) {
    /* 1-D: x = [1, 2], w = [1, 1, 1], stride 2 -> full output length 5: [1, 1, 3, 2, 2] */
    float x[2] = {1, 2}, w[3] = {1, 1, 1};
    tta_tensor X = F32(x, 1, 1, 2), W = F32(w, 1, 1, 3), Y = {0};
    tta_tensor *in[] = {&X, &W}, *out[] = {&Y};
    node_builder nb;
    nb_init(&nb, "ConvTranspose", 11, 2, 1);
    nb_ints(&nb, "strides", INTS(2));
    CHECK(run_node(&nb.node, in, 2, out, 1) == TTA_OK);
    check_f32(&Y, (float[]){1, 1, 3, 2, 2}, 5, 1e-6);
    tta_tensor_destroy(&Y);
    /* output_padding adds one zero at the end */
    nb_init(&nb, "ConvTranspose", 11, 2, 1);
    nb_ints(&nb, "strides", INTS(2));
    nb_ints(&nb, "output_padding", INTS(1));
    CHECK(run_node(&nb.node, in, 2, out, 1) == TTA_OK);
    check_f32(&Y, (float[]){1, 1, 3, 2, 2, 0}, 6, 1e-6);
    tta_tensor_destroy(&Y);
    /* output_shape 4: total padding 1, at the beginning (NOTSET) */
    nb_init(&nb, "ConvTranspose", 11, 2, 1);
    nb_ints(&nb, "strides", INTS(2));
    nb_ints(&nb, "output_shape", INTS(4));
    CHECK(run_node(&nb.node, in, 2, out, 1) == TTA_OK);
    check_f32(&Y, (float[]){1, 3, 2, 2}, 4, 1e-6);
    tta_tensor_destroy(&Y);
    /* SAME_UPPER: output = 2 * 2 = 4, the odd padding pixel at the end */
    nb_init(&nb, "ConvTranspose", 11, 2, 1);
    nb_ints(&nb, "strides", INTS(2));
    nb_str(&nb, "auto_pad", "SAME_UPPER");
    CHECK(run_node(&nb.node, in, 2, out, 1) == TTA_OK);
    check_f32(&Y, (float[]){1, 1, 3, 2}, 4, 1e-6);
    tta_tensor_destroy(&Y);
}

/* ---- pooling */

TEST(maxpool_ceil_mode_and_indices) {
    float x[16];
    for (int i = 0; i < 16; i++)
        x[i] = (float)(i + 1);
    tta_tensor X = F32(x, 1, 1, 4, 4), Y = {0}, I = {0};
    node_builder nb;
    nb_init(&nb, "MaxPool", 12, 1, 2);
    nb_ints(&nb, "kernel_shape", INTS(3, 3));
    nb_ints(&nb, "strides", INTS(2, 2));
    nb_int(&nb, "ceil_mode", 1);
    tta_tensor *in[] = {&X}, *out[] = {&Y, &I};
    CHECK(run_node(&nb.node, in, 1, out, 2) == TTA_OK);
    CHECK_SHAPE(&Y, 1, 1, 2, 2);
    check_f32(&Y, (float[]){11, 12, 15, 16}, 4, 0);
    CHECK(I.dtype == TTA_DTYPE_INT64);
    int64_t *id = I.data;
    CHECK(id[0] == 10 && id[1] == 11 && id[2] == 14 && id[3] == 15);
    tta_tensor_destroy(&Y);
    tta_tensor_destroy(&I);
    /* floor mode: one window */
    nb_init(&nb, "MaxPool", 12, 1, 1);
    nb_ints(&nb, "kernel_shape", INTS(3, 3));
    nb_ints(&nb, "strides", INTS(2, 2));
    CHECK(run_node(&nb.node, in, 1, out, 1) == TTA_OK);
    CHECK_SHAPE(&Y, 1, 1, 1, 1);
    check_f32(&Y, (float[]){11}, 1, 0);
    tta_tensor_destroy(&Y);
    /* column-major indices (storage_order 1): element (r, c) of 4x4 -> c * 4 + r */
    nb_init(&nb, "MaxPool", 12, 1, 2);
    nb_ints(&nb, "kernel_shape", INTS(2, 2));
    nb_ints(&nb, "strides", INTS(2, 2));
    nb_int(&nb, "storage_order", 1);
    CHECK(run_node(&nb.node, in, 1, out, 2) == TTA_OK);
    check_f32(&Y, (float[]){6, 8, 14, 16}, 4, 0);
    id = I.data;
    CHECK(id[0] == 5 && id[1] == 13 && id[2] == 7 && id[3] == 15);
    tta_tensor_destroy(&Y);
    tta_tensor_destroy(&I);
    /* missing kernel_shape */
    nb_init(&nb, "MaxPool", 12, 1, 1);
    CHECK(run_node(&nb.node, in, 1, out, 1) == TTA_ERR_ATTR);
    tta_tensor_destroy(&Y);
}

TEST(averagepool_count_include_pad_at_border) {
    float x[9] = {1, 2, 3, 4, 5, 6, 7, 8, 9};
    tta_tensor X = F32(x, 1, 1, 3, 3), Y = {0};
    tta_tensor *in[] = {&X}, *out[] = {&Y};
    for (int incl = 0; incl < 2; incl++) {
        node_builder nb;
        nb_init(&nb, "AveragePool", 11, 1, 1);
        nb_ints(&nb, "kernel_shape", INTS(2, 2));
        nb_ints(&nb, "pads", INTS(1, 1, 1, 1));
        nb_int(&nb, "count_include_pad", incl);
        CHECK(run_node(&nb.node, in, 1, out, 1) == TTA_OK);
        CHECK_SHAPE(&Y, 1, 1, 4, 4);
        float *y = Y.data;
        /* corner: only x[0][0] = 1 is inside the input */
        CHECK_NEAR(y[0], incl ? 0.25 : 1.0, 1e-6);
        /* top edge: 1 + 2 */
        CHECK_NEAR(y[1], incl ? 0.75 : 1.5, 1e-6);
        /* interior: (1 + 2 + 4 + 5) / 4 either way */
        CHECK_NEAR(y[5], 3.0, 1e-6);
        /* bottom-right corner: only 9 */
        CHECK_NEAR(y[15], incl ? 2.25 : 9.0, 1e-6);
        tta_tensor_destroy(&Y);
    }
}

TEST(global_pools_and_lppool) {
    float x[8] = {1, -2, 3, 4, 0, 0, -1, 1};
    tta_tensor X = F32(x, 1, 2, 2, 2), Y = {0};
    tta_tensor *in[] = {&X}, *out[] = {&Y};
    node_builder nb;
    nb_init(&nb, "GlobalAveragePool", 1, 1, 1);
    CHECK(run_node(&nb.node, in, 1, out, 1) == TTA_OK);
    CHECK_SHAPE(&Y, 1, 2, 1, 1);
    check_f32(&Y, (float[]){1.5f, 0}, 2, 1e-6);
    tta_tensor_destroy(&Y);
    nb_init(&nb, "GlobalMaxPool", 1, 1, 1);
    CHECK(run_node(&nb.node, in, 1, out, 1) == TTA_OK);
    check_f32(&Y, (float[]){4, 1}, 2, 0);
    tta_tensor_destroy(&Y);
    nb_init(&nb, "LpPool", 11, 1, 1);
    nb_ints(&nb, "kernel_shape", INTS(2, 2));
    CHECK(run_node(&nb.node, in, 1, out, 1) == TTA_OK);
    check_f32(&Y, (float[]){sqrtf(30), sqrtf(2)}, 2, 1e-5);
    tta_tensor_destroy(&Y);
}

/* ---- Gemm / MatMul / sgemm */

TEST(gemm_transb_broadcast_c) {
    float a[6] = {1, 2, 3, 4, 5, 6}, b[6] = {1, 0, 1, 0, 1, 0}, c[2] = {1, -1};
    tta_tensor A = F32(a, 2, 3), B = F32(b, 2, 3), C = F32(c, 2), Y = {0};
    node_builder nb;
    nb_init(&nb, "Gemm", 13, 3, 1);
    nb_int(&nb, "transB", 1);
    nb_float(&nb, "alpha", 2.0f);
    nb_float(&nb, "beta", 0.5f);
    tta_tensor *in[] = {&A, &B, &C}, *out[] = {&Y};
    CHECK(run_node(&nb.node, in, 3, out, 1) == TTA_OK);
    CHECK_SHAPE(&Y, 2, 2);
    check_f32(&Y, (float[]){8.5f, 3.5f, 20.5f, 9.5f}, 4, 1e-5);
    tta_tensor_destroy(&Y);
    /* C as a column [2, 1] */
    tta_tensor C2 = F32(c, 2, 1);
    in[2] = &C2;
    CHECK(run_node(&nb.node, in, 3, out, 1) == TTA_OK);
    check_f32(&Y, (float[]){8.5f, 4.5f, 19.5f, 9.5f}, 4, 1e-5);
    tta_tensor_destroy(&Y);
    /* C that does not broadcast */
    float c3[3] = {0};
    tta_tensor C3 = F32(c3, 3);
    in[2] = &C3;
    CHECK(run_node(&nb.node, in, 3, out, 1) == TTA_ERR_SHAPE);
    /* inner dimensions that differ (no transB) */
    nb_init(&nb, "Gemm", 13, 2, 1);
    CHECK(run_node(&nb.node, in, 2, out, 1) == TTA_ERR_SHAPE);
    tta_tensor_destroy(&Y);
}

TEST(sgemm_matches_naive) {
    /* sizes that cross the KC (256) and NC (2048) blocks and leave ragged edge tiles */
    int64_t M = 37, N = 2100, K = 300;
    for (int ta = 0; ta < 2; ta++)
        for (int tb = 0; tb < 2; tb++) {
            float *a = malloc(M * K * 4), *b = malloc(K * N * 4), *c = malloc(M * N * 4);
            for (int64_t i = 0; i < M * K; i++)
                a[i] = frand();
            for (int64_t i = 0; i < K * N; i++)
                b[i] = frand();
            for (int64_t i = 0; i < M * N; i++)
                c[i] = frand();
            float *c0 = malloc(M * N * 4);
            memcpy(c0, c, M * N * 4);
            CHECK(tta_sgemm(ta, tb, M, N, K, 0.5f, a, ta ? M : K, b, tb ? K : N, 2.0f, c, N, NULL, 2) ==
                  TTA_OK);
            double worst = 0;
            for (int64_t i = 0; i < M; i += 3)
                for (int64_t j = 0; j < N; j += 7) {
                    double s = 0;
                    for (int64_t k = 0; k < K; k++)
                        s += (double)(ta ? a[k * M + i] : a[i * K + k]) * (tb ? b[j * K + k] : b[k * N + j]);
                    double want = 0.5 * s + 2.0 * c0[i * N + j], d = fabs(want - c[i * N + j]);
                    if (d > worst) worst = d;
                }
            CHECK(worst < 1e-3);
            free(a), free(b), free(c), free(c0);
        }
}

TEST(matmul_broadcast_and_1d) {
    /* [2,1,3,4] x [5,4,2] -> [2,5,3,2] */
    int64_t ad[] = {2, 1, 3, 4}, bd[] = {5, 4, 2};
    float a[24], b[40];
    for (int i = 0; i < 24; i++)
        a[i] = frand();
    for (int i = 0; i < 40; i++)
        b[i] = frand();
    tta_tensor A = view(TTA_DTYPE_FLOAT32, a, 4, ad), B = view(TTA_DTYPE_FLOAT32, b, 3, bd), Y = {0};
    node_builder nb;
    nb_init(&nb, "MatMul", 13, 2, 1);
    tta_tensor *in[] = {&A, &B}, *out[] = {&Y};
    CHECK(run_node(&nb.node, in, 2, out, 1) == TTA_OK);
    CHECK_SHAPE(&Y, 2, 5, 3, 2);
    float *y = Y.data;
    for (int i0 = 0; i0 < 2; i0++)
        for (int i1 = 0; i1 < 5; i1++)
            for (int r = 0; r < 3; r++)
                for (int c = 0; c < 2; c++) {
                    double s = 0;
                    for (int k = 0; k < 4; k++)
                        s += a[i0 * 12 + r * 4 + k] * b[i1 * 8 + k * 2 + c];
                    CHECK_NEAR(y[((i0 * 5 + i1) * 3 + r) * 2 + c], s, 1e-5);
                }
    tta_tensor_destroy(&Y);
    /* 1-D x 2-D and 2-D x 1-D */
    float v[2] = {1, 2}, m[6] = {1, 2, 3, 4, 5, 6};
    tta_tensor V = F32(v, 2), Mx = F32(m, 2, 3), Mt = F32(m, 3, 2);
    tta_tensor *in2[] = {&V, &Mx};
    CHECK(run_node(&nb.node, in2, 2, out, 1) == TTA_OK);
    CHECK_SHAPE(&Y, 3);
    check_f32(&Y, (float[]){9, 12, 15}, 3, 1e-6);
    tta_tensor_destroy(&Y);
    tta_tensor *in3[] = {&Mt, &V};
    CHECK(run_node(&nb.node, in3, 2, out, 1) == TTA_OK);
    CHECK_SHAPE(&Y, 3);
    check_f32(&Y, (float[]){5, 11, 17}, 3, 1e-6);
    tta_tensor_destroy(&Y);
    /* mismatched inner dims */
    tta_tensor *in4[] = {&Mx, &Mx};
    CHECK(run_node(&nb.node, in4, 2, out, 1) == TTA_ERR_SHAPE);
    tta_tensor_destroy(&Y);
}

/* ---- normalisation */

TEST(batchnorm_inference_and_training_rejection) {
    float x[4] = {1, 2, 3, 4}, s[2] = {1, 2}, b[2] = {0, 1}, mean[2] = {1, 3}, var[2] = {4, 1};
    tta_tensor X = F32(x, 1, 2, 2), S = F32(s, 2), B = F32(b, 2), Mn = F32(mean, 2), V = F32(var, 2), Y = {0};
    node_builder nb;
    nb_init(&nb, "BatchNormalization", 15, 5, 1);
    nb_float(&nb, "epsilon", 0.0f);
    tta_tensor *in[] = {&X, &S, &B, &Mn, &V}, *out[] = {&Y, NULL, NULL};
    CHECK(run_node(&nb.node, in, 5, out, 1) == TTA_OK);
    check_f32(&Y, (float[]){0, 0.5f, 1, 3}, 4, 1e-6);
    tta_tensor_destroy(&Y);
    /* opset 7 with training outputs: a clear UNSUPPORTED error */
    nb_init(&nb, "BatchNormalization", 7, 5, 3);
    CHECK(run_node(&nb.node, in, 5, out, 1) == TTA_ERR_UNSUPPORTED);
    CHECK_STR_CONTAINS(tta_last_error(), "training");
    tta_tensor_destroy(&Y);
}

TEST(layernorm_with_mean_and_invstddev) {
    float x[6] = {1, 2, 3, 2, 2, 2}, s[3] = {1, 1, 2}, b[3] = {0, 0, 1};
    tta_tensor X = F32(x, 2, 3), S = F32(s, 3), B = F32(b, 3), Y = {0}, Mo = {0}, Io = {0};
    node_builder nb;
    nb_init(&nb, "LayerNormalization", 17, 3, 3);
    nb_float(&nb, "epsilon", 0.0f);
    tta_tensor *in[] = {&X, &S, &B}, *out[] = {&Y, &Mo, &Io};
    /* row 1 has zero variance: use a tiny epsilon to keep it finite */
    x[3] = 1, x[4] = 2, x[5] = 3;
    CHECK(run_node(&nb.node, in, 3, out, 3) == TTA_OK);
    CHECK_SHAPE(&Mo, 2, 1);
    double r = sqrt(1.5);
    check_f32(&Y, (float[]){(float)-r, 0, (float)(2 * r + 1), (float)-r, 0, (float)(2 * r + 1)}, 6, 1e-5);
    check_f32(&Mo, (float[]){2, 2}, 2, 1e-6);
    check_f32(&Io, (float[]){(float)sqrt(1.5), (float)sqrt(1.5)}, 2, 1e-5);
    tta_tensor_destroy(&Y);
    tta_tensor_destroy(&Mo);
    tta_tensor_destroy(&Io);
}

/* float32 2-D pooling (dedicated loop) against float64 (the generic N-D walker). */
TEST(pool_2d_path_matches_generic) {
    const char *ops[] = {"MaxPool", "AveragePool", "AveragePool", "LpPool"};
    float x[2 * 3 * 9 * 10];
    double xx[2 * 3 * 9 * 10];
    for (int i = 0; i < 540; i++)
        xx[i] = x[i] = frand();
    tta_tensor X = F32(x, 2, 3, 9, 10), XX = view(TTA_DTYPE_FLOAT64, xx, 4, X.dims);
    for (int o = 0; o < 4; o++)
        for (int ceil = 0; ceil < 2; ceil++) {
            node_builder nb;
            nb_init(&nb, ops[o], 19, 1, 1);
            nb_ints(&nb, "kernel_shape", INTS(3, 2));
            nb_ints(&nb, "strides", INTS(2, 3));
            nb_ints(&nb, "pads", INTS(1, 0, 2, 1));
            if (o != 3) nb_ints(&nb, "dilations", INTS(1, 2));
            nb_int(&nb, "ceil_mode", ceil);
            nb_int(&nb, "count_include_pad", o == 2);
            tta_tensor Y = {0}, YY = {0};
            tta_tensor *in[] = {&X}, *in2[] = {&XX}, *out[] = {&Y}, *out2[] = {&YY};
            CHECK(run_node(&nb.node, in, 1, out, 1) == TTA_OK);
            CHECK(run_node(&nb.node, in2, 1, out2, 1) == TTA_OK);
            CHECK_EQ_INT(tta_tensor_numel(&Y), tta_tensor_numel(&YY));
            for (int64_t i = 0; i < tta_tensor_numel(&Y) && i < tta_tensor_numel(&YY); i++)
                CHECK_NEAR(((float *)Y.data)[i], ((double *)YY.data)[i], 1e-5);
            tta_tensor_destroy(&Y);
            tta_tensor_destroy(&YY);
        }
}

TEST(gemm_and_matmul_float64) {
    double a[6] = {1, 2, 3, 4, 5, 6}, b[6] = {1, 0, 1, 0, 1, 0}, c[1] = {10};
    int64_t d23[] = {2, 3}, d1[] = {1}, d32[] = {3, 2};
    tta_tensor A = view(TTA_DTYPE_FLOAT64, a, 2, d23), B = view(TTA_DTYPE_FLOAT64, b, 2, d23);
    tta_tensor C = view(TTA_DTYPE_FLOAT64, c, 1, d1), Y = {0};
    node_builder nb;
    nb_init(&nb, "Gemm", 13, 3, 1);
    nb_int(&nb, "transA", 1);
    /* A^T [3,2] x B [2,3] + 10 */
    tta_tensor *in[] = {&A, &B, &C}, *out[] = {&Y};
    CHECK(run_node(&nb.node, in, 3, out, 1) == TTA_OK);
    CHECK_SHAPE(&Y, 3, 3);
    double *y = Y.data;
    /* row i of A^T = (a[i], a[3+i]); column j of B = (b[j], b[3+j]) */
    for (int i = 0; i < 3; i++)
        for (int j = 0; j < 3; j++)
            CHECK_NEAR(y[i * 3 + j], a[i] * b[j] + a[3 + i] * b[3 + j] + 10, 1e-12);
    tta_tensor_destroy(&Y);
    tta_tensor M = view(TTA_DTYPE_FLOAT64, b, 2, d32);
    nb_init(&nb, "MatMul", 13, 2, 1);
    tta_tensor *in2[] = {&A, &M};
    CHECK(run_node(&nb.node, in2, 2, out, 1) == TTA_OK);
    CHECK_SHAPE(&Y, 2, 2);
    y = Y.data;
    CHECK_NEAR(y[0], 1 * 1 + 2 * 1 + 3 * 1, 1e-12); /* b as [3,2] = [[1,0],[1,0],[1,0]] */
    CHECK_NEAR(y[1], 0, 1e-12);
    CHECK_NEAR(y[2], 15, 1e-12);
    tta_tensor_destroy(&Y);
    /* unsupported dtype: a clear error */
    int32_t ia[6] = {0};
    tta_tensor IA = view(TTA_DTYPE_INT32, ia, 2, d23);
    tta_tensor *in3[] = {&IA, &B};
    nb_init(&nb, "Gemm", 13, 2, 1);
    nb_int(&nb, "transB", 1);
    CHECK(run_node(&nb.node, in3, 2, out, 1) == TTA_ERR_UNSUPPORTED);
    tta_tensor_destroy(&Y);
}

TEST(sgemm_same_bits_for_any_thread_count) {
    int64_t M = 50, N = 300, K = 270;
    float *a = malloc(M * K * 4), *b = malloc(K * N * 4), *c1 = malloc(M * N * 4), *c2 = malloc(M * N * 4);
    for (int64_t i = 0; i < M * K; i++)
        a[i] = frand();
    for (int64_t i = 0; i < K * N; i++)
        b[i] = frand();
    CHECK(tta_sgemm(false, false, M, N, K, 1.0f, a, K, b, N, 0.0f, c1, N, NULL, 1) == TTA_OK);
    CHECK(tta_sgemm(false, false, M, N, K, 1.0f, a, K, b, N, 0.0f, c2, N, NULL, 2) == TTA_OK);
    CHECK(memcmp(c1, c2, M * N * 4) == 0);
    /* narrow C: split by rows */
    CHECK(tta_sgemm(false, true, M, 5, K, 1.0f, a, K, b, K, 0.0f, c1, 5, NULL, 1) == TTA_OK);
    CHECK(tta_sgemm(false, true, M, 5, K, 1.0f, a, K, b, K, 0.0f, c2, 5, NULL, 2) == TTA_OK);
    CHECK(memcmp(c1, c2, M * 5 * 4) == 0);
    free(a), free(b), free(c1), free(c2);
}

/* uint8 and int8 MaxPool where pads exceed the kernel: a window over padding alone has no
 * element and gives the type's lowest value (0, -128), not an undefined cast of -inf (fuzz
 * finding F5); other windows are the plain maximum. 1x1x1x2 input [7, 9], kernel 1x2, pads
 * left 3 and right 3 along W, stride 1: the windows cover columns -3..-2, -2..-1, -1..0, 0..1,
 * 1..2, 2..3, 3..4 (7 outputs). */
TEST(maxpool_integer_window_in_padding) {
    static const tta_dtype dts[] = {TTA_DTYPE_UINT8, TTA_DTYPE_INT8};
    for (int d = 0; d < 2; d++) {
        uint8_t xu[2] = {7, 9};
        tta_tensor X = view(dts[d], xu, 4, (int64_t[]){1, 1, 1, 2}), Y = {0};
        Y.dtype = dts[d];
        node_builder nb;
        nb_init(&nb, "MaxPool", 12, 1, 1);
        nb_ints(&nb, "kernel_shape", INTS(1, 2));
        nb_ints(&nb, "pads", INTS(0, 3, 0, 3));
        tta_tensor *in[] = {&X}, *out[] = {&Y};
        CHECK(run_node(&nb.node, in, 1, out, 1) == TTA_OK);
        CHECK_SHAPE(&Y, 1, 1, 1, 7);
        int lo = d == 0 ? 0 : -128;
        const int want[7] = {lo, lo, 7, 9, 9, lo, lo};
        for (int i = 0; i < 7 && tta_tensor_numel(&Y) == 7; i++) {
            int got = d == 0 ? ((uint8_t *)Y.data)[i] : ((int8_t *)Y.data)[i];
            CHECK_EQ_INT(got, want[i]);
        }
        tta_tensor_destroy(&Y);
    }
}
