/* test_tensor_ops.c - unit tests of the 'tensor' operator family (src/runtime/ops/tensor_*.c):
 * each test builds a node by hand, finds its kernel with tta_kernel_find() and runs the four
 * phases on small hand-computed cases, including the error paths (bad indices, impossible
 * shapes) and the plan-time deferral of data-dependent shapes. */
#include "core/error.h"
#include "runtime/op.h"
#include "test.h"

#define MAX_IO 6

/* A node under test with its borrowed inputs and owned outputs. */
typedef struct fixture {
    tta_node node;
    tta_attr attrs[4];
    int value_ids[2 * MAX_IO];
    tta_tensor *in[MAX_IO];
    tta_tensor out[MAX_IO];
    tta_tensor *outp[MAX_IO];
    int n_in, n_out;
} fixture;

static void fx_init(fixture *f, const char *op, int opset, int n_in, int n_out) {
    memset(f, 0, sizeof *f);
    f->node.name = "t";
    f->node.op_type = (char *)op;
    f->node.domain = "";
    f->node.opset = opset;
    f->node.n_inputs = n_in;
    f->node.n_outputs = n_out;
    f->node.inputs = f->value_ids;
    f->node.outputs = f->value_ids + MAX_IO;
    f->node.attrs = f->attrs;
    for (int i = 0; i < 2 * MAX_IO; i++)
        f->value_ids[i] = i;
    for (int i = 0; i < MAX_IO; i++)
        f->outp[i] = &f->out[i];
    f->n_in = n_in;
    f->n_out = n_out;
}

static void fx_attr_ints(fixture *f, const char *name, int64_t *v, int n) {
    tta_attr *a = &f->attrs[f->node.n_attrs++];
    a->name = (char *)name;
    a->type = TTA_ATTR_INTS;
    a->ints = v;
    a->n = n;
}

static void fx_attr_str(fixture *f, const char *name, const char *s) {
    tta_attr *a = &f->attrs[f->node.n_attrs++];
    a->name = (char *)name;
    a->type = TTA_ATTR_STRING;
    a->s = (char *)s;
}

/* Runs prepare, infer, allocation and compute; returns the first failing status. */
static tta_status fx_run(fixture *f) {
    const tta_kernel *k = tta_kernel_find(&f->node);
    if (!k) return tta_errorf(TTA_ERR_UNSUPPORTED, "no kernel for %s", f->node.op_type);
    tta_op_ctx ctx = {
        .node = &f->node, .n_in = f->n_in, .n_out = f->n_out, .in = f->in, .out = f->outp, .n_threads = 2};
    tta_status st = k->prepare ? k->prepare(&ctx) : TTA_OK;
    if (st == TTA_OK) st = k->infer(&ctx);
    for (int i = 0; st == TTA_OK && i < f->n_out; i++)
        st = tta_tensor_resize(&f->out[i], f->out[i].dtype, f->out[i].ndim, f->out[i].dims);
    if (st == TTA_OK) st = k->compute(&ctx);
    if (k->release) k->release(&ctx);
    return st;
}

static void fx_free(fixture *f) {
    for (int i = 0; i < MAX_IO; i++)
        tta_tensor_destroy(&f->out[i]);
}

static tta_tensor tensor(tta_dtype dt, void *data, int ndim, const int64_t *dims) {
    tta_tensor t = {.dtype = dt, .ndim = ndim, .data = data};
    for (int i = 0; i < ndim; i++)
        t.dims[i] = dims[i];
    return t;
}

static void check_dims(const tta_tensor *t, int ndim, const int64_t *dims) {
    CHECK_EQ_INT(t->ndim, ndim);
    for (int i = 0; i < ndim && i < t->ndim; i++)
        CHECK_EQ_INT(t->dims[i], dims[i]);
}

TEST(kernels_registered) {
    const char *ops[] = {"Constant",
                         "Identity",
                         "Dropout",
                         "Shape",
                         "Size",
                         "Reshape",
                         "Flatten",
                         "Squeeze",
                         "Unsqueeze",
                         "Expand",
                         "ConstantOfShape",
                         "Range",
                         "EyeLike",
                         "Transpose",
                         "Concat",
                         "Split",
                         "Slice",
                         "Tile",
                         "Pad",
                         "DepthToSpace",
                         "SpaceToDepth",
                         "Trilu",
                         "CumSum",
                         "ReverseSequence",
                         "Gather",
                         "GatherElements",
                         "GatherND",
                         "ScatterElements",
                         "Scatter",
                         "ScatterND",
                         "OneHot",
                         "Compress",
                         "NonZero"};
    for (size_t i = 0; i < sizeof ops / sizeof ops[0]; i++) {
        fixture f;
        fx_init(&f, ops[i], 17, 1, 1);
        if (!strcmp(ops[i], "Scatter")) f.node.opset = 10;
        const tta_kernel *k = tta_kernel_find(&f.node);
        if (!k) fprintf(stderr, "  no kernel for %s\n", ops[i]);
        CHECK(k != NULL);
    }
}

TEST(reshape_zero_and_minus_one) {
    float x[24];
    for (int i = 0; i < 24; i++)
        x[i] = (float)i;
    int64_t xd[] = {2, 3, 4}, shape[] = {0, -1}, sd[] = {2};
    tta_tensor tx = tensor(TTA_DTYPE_FLOAT32, x, 3, xd), ts = tensor(TTA_DTYPE_INT64, shape, 1, sd);
    fixture f;
    fx_init(&f, "Reshape", 14, 2, 1);
    f.in[0] = &tx;
    f.in[1] = &ts;
    CHECK_EQ_INT(fx_run(&f), TTA_OK);
    int64_t want[] = {2, 12};
    check_dims(&f.out[0], 2, want);
    CHECK_EQ_INT(f.out[0].dtype, TTA_DTYPE_FLOAT32);
    for (int i = 0; i < 24; i++)
        CHECK_NEAR(((float *)f.out[0].data)[i], i, 0);
    fx_free(&f);
}

TEST(reshape_impossible_shape) {
    float x[6] = {0};
    int64_t xd[] = {2, 3}, s1[] = {4, -1}, s2[] = {4, 2}, s3[] = {-1, -1}, sd[] = {2};
    int64_t *shapes[] = {s1, s2, s3};
    for (int k = 0; k < 3; k++) {
        tta_tensor tx = tensor(TTA_DTYPE_FLOAT32, x, 2, xd), ts = tensor(TTA_DTYPE_INT64, shapes[k], 1, sd);
        fixture f;
        fx_init(&f, "Reshape", 14, 2, 1);
        f.in[0] = &tx;
        f.in[1] = &ts;
        tta_error_clear();
        CHECK_EQ_INT(fx_run(&f), TTA_ERR_SHAPE);
        CHECK_STR_CONTAINS(tta_last_error(), "Reshape");
        CHECK_STR_CONTAINS(tta_last_error(), k < 2 ? "cannot reshape [2,3]" : "more than one -1");
        fx_free(&f);
    }
}

TEST(reshape_defers_without_shape_data) {
    int64_t xd[] = {2, 3}, sd[] = {2};
    tta_tensor tx = tensor(TTA_DTYPE_FLOAT32, NULL, 2, xd), ts = tensor(TTA_DTYPE_INT64, NULL, 1, sd);
    fixture f;
    fx_init(&f, "Reshape", 13, 2, 1);
    f.in[0] = &tx;
    f.in[1] = &ts;
    const tta_kernel *k = tta_kernel_find(&f.node);
    tta_op_ctx ctx = {.node = &f.node, .n_in = 2, .n_out = 1, .in = f.in, .out = f.outp, .n_threads = 1};
    CHECK(k && k->infer(&ctx) == TTA_DEFER);
}

TEST(transpose_0231) {
    float x[12];
    for (int i = 0; i < 12; i++)
        x[i] = (float)i;
    int64_t xd[] = {1, 2, 2, 3}, perm[] = {0, 2, 3, 1};
    tta_tensor tx = tensor(TTA_DTYPE_FLOAT32, x, 4, xd);
    fixture f;
    fx_init(&f, "Transpose", 13, 1, 1);
    fx_attr_ints(&f, "perm", perm, 4);
    f.in[0] = &tx;
    CHECK_EQ_INT(fx_run(&f), TTA_OK);
    int64_t wd[] = {1, 2, 3, 2};
    check_dims(&f.out[0], 4, wd);
    /* out[0,h,w,c] = in[0,c,h,w] = 6c + 3h + w */
    float want[] = {0, 6, 1, 7, 2, 8, 3, 9, 4, 10, 5, 11};
    for (int i = 0; i < 12; i++)
        CHECK_NEAR(((float *)f.out[0].data)[i], want[i], 0);
    fx_free(&f);
}

static void slice_1d(const int64_t *x, int64_t n, int64_t start, int64_t end, int64_t step,
                     const int64_t *want, int64_t wn) {
    int64_t xd[] = {n}, one[] = {1}, axis = 0;
    tta_tensor tx = tensor(TTA_DTYPE_INT64, (void *)x, 1, xd), ts = tensor(TTA_DTYPE_INT64, &start, 1, one),
               te = tensor(TTA_DTYPE_INT64, &end, 1, one), ta = tensor(TTA_DTYPE_INT64, &axis, 1, one),
               tp = tensor(TTA_DTYPE_INT64, &step, 1, one);
    fixture f;
    fx_init(&f, "Slice", 13, 5, 1);
    f.in[0] = &tx;
    f.in[1] = &ts;
    f.in[2] = &te;
    f.in[3] = &ta;
    f.in[4] = &tp;
    CHECK_EQ_INT(fx_run(&f), TTA_OK);
    check_dims(&f.out[0], 1, &wn);
    for (int64_t i = 0; i < wn && i < f.out[0].dims[0]; i++)
        CHECK_EQ_INT(((int64_t *)f.out[0].data)[i], want[i]);
    fx_free(&f);
}

TEST(slice_negative_step) {
    int64_t x[10];
    for (int i = 0; i < 10; i++)
        x[i] = i;
    int64_t w1[] = {8, 5, 2};
    slice_1d(x, 10, 8, 1, -3, w1, 3);
    int64_t w2[] = {9, 5, 1}; /* start clamped to 9, end to -1 */
    slice_1d(x, 10, 100, -100, -4, w2, 3);
    int64_t w3[] = {8, 7}; /* negative start and end */
    slice_1d(x, 10, -2, -4, -1, w3, 2);
    slice_1d(x, 10, 2, 5, -1, NULL, 0); /* empty */
}

TEST(slice_2d_attrs_opset1) {
    float x[12];
    for (int i = 0; i < 12; i++)
        x[i] = (float)i;
    int64_t xd[] = {3, 4}, starts[] = {1, 1}, ends[] = {1000, 3}, axes[] = {0, 1};
    tta_tensor tx = tensor(TTA_DTYPE_FLOAT32, x, 2, xd);
    fixture f;
    fx_init(&f, "Slice", 1, 1, 1);
    fx_attr_ints(&f, "starts", starts, 2);
    fx_attr_ints(&f, "ends", ends, 2);
    fx_attr_ints(&f, "axes", axes, 2);
    f.in[0] = &tx;
    CHECK_EQ_INT(fx_run(&f), TTA_OK);
    int64_t wd[] = {2, 2};
    check_dims(&f.out[0], 2, wd);
    float want[] = {5, 6, 9, 10};
    for (int i = 0; i < 4; i++)
        CHECK_NEAR(((float *)f.out[0].data)[i], want[i], 0);
    fx_free(&f);
}

TEST(pad_reflect_1d) {
    float x[] = {1, 2, 3, 4};
    int64_t xd[] = {4}, pads[] = {2, 3}, pd[] = {2};
    tta_tensor tx = tensor(TTA_DTYPE_FLOAT32, x, 1, xd), tp = tensor(TTA_DTYPE_INT64, pads, 1, pd);
    fixture f;
    fx_init(&f, "Pad", 13, 2, 1);
    fx_attr_str(&f, "mode", "reflect");
    f.in[0] = &tx;
    f.in[1] = &tp;
    CHECK_EQ_INT(fx_run(&f), TTA_OK);
    int64_t wd[] = {9};
    check_dims(&f.out[0], 1, wd);
    float want[] = {3, 2, 1, 2, 3, 4, 3, 2, 1};
    for (int i = 0; i < 9; i++)
        CHECK_NEAR(((float *)f.out[0].data)[i], want[i], 0);
    fx_free(&f);
}

TEST(pad_constant_and_edge_2d) {
    int32_t x[] = {1, 2, 3, 4};
    int64_t xd[] = {2, 2}, pads[] = {1, 0, 0, 1}, pd[] = {4};
    int32_t cv = 9;
    tta_tensor tx = tensor(TTA_DTYPE_INT32, x, 2, xd), tp = tensor(TTA_DTYPE_INT64, pads, 1, pd),
               tc = tensor(TTA_DTYPE_INT32, &cv, 0, NULL);
    fixture f;
    fx_init(&f, "Pad", 13, 3, 1);
    f.in[0] = &tx;
    f.in[1] = &tp;
    f.in[2] = &tc;
    CHECK_EQ_INT(fx_run(&f), TTA_OK);
    int32_t want[] = {9, 9, 9, 1, 2, 9, 3, 4, 9};
    for (int i = 0; i < 9; i++)
        CHECK_EQ_INT(((int32_t *)f.out[0].data)[i], want[i]);
    fx_free(&f);

    fx_init(&f, "Pad", 13, 2, 1);
    fx_attr_str(&f, "mode", "edge");
    f.in[0] = &tx;
    f.in[1] = &tp;
    CHECK_EQ_INT(fx_run(&f), TTA_OK);
    int32_t want_edge[] = {1, 2, 2, 1, 2, 2, 3, 4, 4};
    for (int i = 0; i < 9; i++)
        CHECK_EQ_INT(((int32_t *)f.out[0].data)[i], want_edge[i]);
    fx_free(&f);
}

TEST(gather_negative_index) {
    float x[] = {1, 2, 3, 4, 5, 6};
    int64_t xd[] = {3, 2}, idx[] = {-1, 0}, id[] = {2};
    tta_tensor tx = tensor(TTA_DTYPE_FLOAT32, x, 2, xd), ti = tensor(TTA_DTYPE_INT64, idx, 1, id);
    fixture f;
    fx_init(&f, "Gather", 13, 2, 1);
    f.in[0] = &tx;
    f.in[1] = &ti;
    CHECK_EQ_INT(fx_run(&f), TTA_OK);
    int64_t wd[] = {2, 2};
    check_dims(&f.out[0], 2, wd);
    float want[] = {5, 6, 1, 2};
    for (int i = 0; i < 4; i++)
        CHECK_NEAR(((float *)f.out[0].data)[i], want[i], 0);
    fx_free(&f);
}

TEST(gather_out_of_range_index) {
    float x[] = {1, 2, 3, 4, 5, 6};
    int64_t xd[] = {3, 2}, id[] = {2};
    int64_t bad[][2] = {{0, 3}, {-4, 0}};
    for (int k = 0; k < 2; k++) {
        tta_tensor tx = tensor(TTA_DTYPE_FLOAT32, x, 2, xd), ti = tensor(TTA_DTYPE_INT64, bad[k], 1, id);
        fixture f;
        fx_init(&f, "Gather", 13, 2, 1);
        f.in[0] = &tx;
        f.in[1] = &ti;
        tta_error_clear();
        CHECK_EQ_INT(fx_run(&f), TTA_ERR_SHAPE);
        CHECK_STR_CONTAINS(tta_last_error(), "out of range");
        fx_free(&f);
    }
    /* int32 indices on axis 1 */
    int32_t i32[] = {2};
    int64_t one[] = {1};
    tta_tensor tx = tensor(TTA_DTYPE_FLOAT32, x, 2, xd), ti = tensor(TTA_DTYPE_INT32, i32, 1, one);
    fixture f;
    fx_init(&f, "Gather", 13, 2, 1);
    tta_attr *a = &f.attrs[f.node.n_attrs++];
    a->name = "axis";
    a->type = TTA_ATTR_INT;
    a->i = 1;
    f.in[0] = &tx;
    f.in[1] = &ti;
    CHECK_EQ_INT(fx_run(&f), TTA_ERR_SHAPE);
    fx_free(&f);
}

TEST(gathernd_batch_dims) {
    int32_t x[] = {0, 1, 2, 3, 4, 5, 6, 7}; /* [2,2,2] */
    int64_t xd[] = {2, 2, 2}, idx[] = {1, 0}, id[] = {2, 1};
    tta_tensor tx = tensor(TTA_DTYPE_INT32, x, 3, xd), ti = tensor(TTA_DTYPE_INT64, idx, 2, id);
    fixture f;
    fx_init(&f, "GatherND", 13, 2, 1);
    tta_attr *a = &f.attrs[f.node.n_attrs++];
    a->name = "batch_dims";
    a->type = TTA_ATTR_INT;
    a->i = 1;
    f.in[0] = &tx;
    f.in[1] = &ti;
    CHECK_EQ_INT(fx_run(&f), TTA_OK);
    int64_t wd[] = {2, 2};
    check_dims(&f.out[0], 2, wd);
    int32_t want[] = {2, 3, 4, 5};
    for (int i = 0; i < 4; i++)
        CHECK_EQ_INT(((int32_t *)f.out[0].data)[i], want[i]);
    fx_free(&f);
}

TEST(expand_and_tile) {
    uint8_t x[] = {1, 2, 3};
    int64_t xd[] = {3, 1}, shape[] = {2, 1, 2}, sd[] = {3};
    tta_tensor tx = tensor(TTA_DTYPE_UINT8, x, 2, xd), ts = tensor(TTA_DTYPE_INT64, shape, 1, sd);
    fixture f;
    fx_init(&f, "Expand", 13, 2, 1);
    f.in[0] = &tx;
    f.in[1] = &ts;
    CHECK_EQ_INT(fx_run(&f), TTA_OK);
    int64_t wd[] = {2, 3, 2};
    check_dims(&f.out[0], 3, wd);
    uint8_t want[] = {1, 1, 2, 2, 3, 3, 1, 1, 2, 2, 3, 3};
    for (int i = 0; i < 12; i++)
        CHECK_EQ_INT(((uint8_t *)f.out[0].data)[i], want[i]);
    fx_free(&f);

    int64_t reps[] = {2, 3}, rd[] = {2};
    tta_tensor tr = tensor(TTA_DTYPE_INT64, reps, 1, rd);
    fx_init(&f, "Tile", 13, 2, 1);
    f.in[0] = &tx;
    f.in[1] = &tr;
    CHECK_EQ_INT(fx_run(&f), TTA_OK);
    int64_t td[] = {6, 3};
    check_dims(&f.out[0], 2, td);
    for (int i = 0; i < 18; i++)
        CHECK_EQ_INT(((uint8_t *)f.out[0].data)[i], x[(i / 3) % 3]);
    fx_free(&f);
}

TEST(split_and_concat_roundtrip) {
    float x[] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10};
    int64_t xd[] = {2, 5}, split[] = {2, 3}, sd[] = {2}, axis = 1;
    tta_tensor tx = tensor(TTA_DTYPE_FLOAT32, x, 2, xd), ts = tensor(TTA_DTYPE_INT64, split, 1, sd);
    fixture f;
    fx_init(&f, "Split", 13, 2, 2);
    tta_attr *a = &f.attrs[f.node.n_attrs++];
    a->name = "axis";
    a->type = TTA_ATTR_INT;
    a->i = axis;
    f.in[0] = &tx;
    f.in[1] = &ts;
    CHECK_EQ_INT(fx_run(&f), TTA_OK);
    int64_t w0[] = {2, 2}, w1[] = {2, 3};
    check_dims(&f.out[0], 2, w0);
    check_dims(&f.out[1], 2, w1);
    CHECK_NEAR(((float *)f.out[1].data)[0], 3, 0);
    CHECK_NEAR(((float *)f.out[0].data)[2], 6, 0);

    fixture g;
    fx_init(&g, "Concat", 13, 2, 1);
    g.attrs[g.node.n_attrs++] = (tta_attr){.name = "axis", .type = TTA_ATTR_INT, .i = -1};
    g.in[0] = &f.out[0];
    g.in[1] = &f.out[1];
    CHECK_EQ_INT(fx_run(&g), TTA_OK);
    check_dims(&g.out[0], 2, xd);
    for (int i = 0; i < 10; i++)
        CHECK_NEAR(((float *)g.out[0].data)[i], x[i], 0);
    fx_free(&g);
    fx_free(&f);
}

TEST(scatternd_out_of_range) {
    float x[] = {1, 2, 3, 4}, u[] = {9};
    int64_t xd[] = {4}, idx[] = {4}, id[] = {1, 1}, ud[] = {1};
    tta_tensor tx = tensor(TTA_DTYPE_FLOAT32, x, 1, xd), ti = tensor(TTA_DTYPE_INT64, idx, 2, id),
               tu = tensor(TTA_DTYPE_FLOAT32, u, 1, ud);
    fixture f;
    fx_init(&f, "ScatterND", 16, 3, 1);
    f.in[0] = &tx;
    f.in[1] = &ti;
    f.in[2] = &tu;
    CHECK_EQ_INT(fx_run(&f), TTA_ERR_SHAPE);
    fx_free(&f);
    idx[0] = -1;
    CHECK_EQ_INT(fx_run(&f), TTA_OK);
    CHECK_NEAR(((float *)f.out[0].data)[3], 9, 0);
    CHECK_NEAR(((float *)f.out[0].data)[0], 1, 0);
    fx_free(&f);
}

TEST(depthtospace_spacetodepth_roundtrip) {
    float x[32];
    for (int i = 0; i < 32; i++)
        x[i] = (float)i;
    int64_t xd[] = {1, 8, 2, 2};
    const char *modes[] = {"DCR", "CRD"};
    for (int m = 0; m < 2; m++) {
        tta_tensor tx = tensor(TTA_DTYPE_FLOAT32, x, 4, xd);
        fixture f;
        fx_init(&f, "DepthToSpace", 13, 1, 1);
        f.attrs[f.node.n_attrs++] = (tta_attr){.name = "blocksize", .type = TTA_ATTR_INT, .i = 2};
        fx_attr_str(&f, "mode", modes[m]);
        f.in[0] = &tx;
        CHECK_EQ_INT(fx_run(&f), TTA_OK);
        int64_t wd[] = {1, 2, 4, 4};
        check_dims(&f.out[0], 4, wd);
        /* y[0,c,2h+i,2w+j] = x[0, DCR: (2i+j)*2 + c, CRD: c*4 + 2i + j, h, w] */
        const float *y = f.out[0].data;
        for (int c = 0; c < 2; c++)
            for (int hh = 0; hh < 4; hh++)
                for (int ww = 0; ww < 4; ww++) {
                    int i = hh % 2, j = ww % 2, h = hh / 2, w = ww / 2;
                    int ch = m == 0 ? (2 * i + j) * 2 + c : c * 4 + 2 * i + j;
                    CHECK_NEAR(y[(c * 4 + hh) * 4 + ww], x[(ch * 2 + h) * 2 + w], 0);
                }
        if (m == 0) { /* SpaceToDepth inverts DCR */
            fixture g;
            fx_init(&g, "SpaceToDepth", 13, 1, 1);
            g.attrs[g.node.n_attrs++] = (tta_attr){.name = "blocksize", .type = TTA_ATTR_INT, .i = 2};
            g.in[0] = &f.out[0];
            CHECK_EQ_INT(fx_run(&g), TTA_OK);
            check_dims(&g.out[0], 4, xd);
            for (int i = 0; i < 32; i++)
                CHECK_NEAR(((float *)g.out[0].data)[i], x[i], 0);
            fx_free(&g);
        }
        fx_free(&f);
    }
}

TEST(split_num_outputs_opset18) {
    int64_t x[7] = {0, 1, 2, 3, 4, 5, 6}, xd[] = {7};
    tta_tensor tx = tensor(TTA_DTYPE_INT64, x, 1, xd);
    fixture f;
    fx_init(&f, "Split", 18, 1, 3);
    f.attrs[f.node.n_attrs++] = (tta_attr){.name = "num_outputs", .type = TTA_ATTR_INT, .i = 3};
    f.in[0] = &tx;
    CHECK_EQ_INT(fx_run(&f), TTA_OK);
    CHECK_EQ_INT(f.out[0].dims[0], 3);
    CHECK_EQ_INT(f.out[1].dims[0], 3);
    CHECK_EQ_INT(f.out[2].dims[0], 1);
    CHECK_EQ_INT(((int64_t *)f.out[2].data)[0], 6);
    CHECK_EQ_INT(((int64_t *)f.out[1].data)[0], 3);
    fx_free(&f);
}

TEST(pad_axes_opset18) {
    float x[] = {1, 2, 3, 4};
    int64_t xd[] = {2, 2}, pads[] = {1, 2}, pd[] = {2}, axes[] = {-1}, ad[] = {1};
    tta_tensor tx = tensor(TTA_DTYPE_FLOAT32, x, 2, xd), tp = tensor(TTA_DTYPE_INT64, pads, 1, pd),
               ta = tensor(TTA_DTYPE_INT64, axes, 1, ad);
    fixture f;
    fx_init(&f, "Pad", 18, 4, 1);
    fx_attr_str(&f, "mode", "wrap");
    f.in[0] = &tx;
    f.in[1] = &tp;
    f.in[3] = &ta; /* constant_value omitted */
    CHECK_EQ_INT(fx_run(&f), TTA_OK);
    int64_t wd[] = {2, 5};
    check_dims(&f.out[0], 2, wd);
    float want[] = {2, 1, 2, 1, 2, 4, 3, 4, 3, 4};
    for (int i = 0; i < 10; i++)
        CHECK_NEAR(((float *)f.out[0].data)[i], want[i], 0);
    fx_free(&f);
}
