/* test_dnnl_cs.c - the oneDNN-backed Concat and Softmax (dnnl_concat.c, dnnl_softmax.c)
 * against their plain C kernels: each case builds a node, runs it through tta_kernel_find()
 * (which must pick the dnnl kernel) and through the C kernel taken directly from
 * tta_kernels_tensor / tta_kernels_misc, on the same pseudo-random inputs, and compares with
 * the conformance rule |got - ref| <= 1e-7 + 1e-3 * |ref| (NaN matches NaN). Covers Concat along
 * every axis of 2-D..5-D, negative axes, channel concats in blocked layouts (padded channels and
 * mixes of plain and blocked inputs), Softmax along every axis of a 4-D tensor, the opset 1 and
 * 11 coerced forms, large logits, -inf entries, and the C fallbacks (float64, int64, zero-size;
 * LogSoftmax and Hardmax resolve to the C kernels).
 * A timing of dnnl vs C (2 threads, median of runs) is printed to stderr, never asserted. */
#include <stdint.h>
#include <time.h>

#include "runtime/op.h"
#include "runtime/ops/dnnl_common.h"
#include "test.h"
#include "test_nodes.h"

TTA_KERNEL_LIST(tta_kernels_tensor)
TTA_KERNEL_LIST(tta_kernels_misc)

/* The C kernel for op at the node's opset. */
static const tta_kernel *c_kernel(const tta_node *node) {
    const tta_kernel *tabs[] = {tta_kernels_tensor, tta_kernels_misc};
    const int counts[] = {tta_kernels_tensor_count, tta_kernels_misc_count};
    for (int t = 0; t < 2; t++)
        for (int i = 0; i < counts[t]; i++) {
            const tta_kernel *k = &tabs[t][i];
            if (k->op_type && !strcmp(k->op_type, node->op_type) && node->opset >= k->since &&
                (!k->until || node->opset <= k->until))
                return k;
        }
    return NULL;
}

static const tta_kernel *dnnl_kernel(const tta_node *node) {
    const tta_kernel *k = tta_kernel_find(node);
    CHECK(k != NULL && !strcmp(k->backend, "dnnl"));
    return k;
}

/* prepare -> (infer -> size -> compute) x runs -> release, with the given layouts (NULL: plain).
 * A blocked output gets room for its padding channels. */
static tta_status run_kernel(const tta_kernel *k, const tta_node *node, tta_tensor **in, int n_in, tta_tensor *out,
                             int runs, const unsigned char *in_l, const unsigned char *out_l) {
    if (!k) return TTA_ERR_UNSUPPORTED;
    tta_tensor *outs[] = {out};
    tta_op_ctx ctx = {node, n_in, 1, in, outs, NULL, 2, in_l, out_l};
    tta_status st = k->prepare ? k->prepare(&ctx) : TTA_OK;
    for (int r = 0; st == TTA_OK && r < runs; r++) {
        st = k->infer(&ctx);
        if (st) break;
        int64_t dims[TTA_MAX_DIMS], c = out->dims[1], B = tta_layout_block();
        memcpy(dims, out->dims, sizeof dims);
        if (out_l && out_l[0]) dims[1] = (c + B - 1) / B * B;
        st = tta_tensor_resize(out, out->dtype, out->ndim, dims);
        if (out_l && out_l[0]) out->dims[1] = c;
        if (st == TTA_OK) st = k->compute(&ctx);
    }
    if (k->release) k->release(&ctx);
    return st;
}


/* Runs node through the dnnl kernel (twice: the cached primitive) and the C kernel; compares. */
static void compare(const tta_node *node, tta_tensor **in, int n_in, const char *what) {
    tta_tensor got = {0}, ref = {0};
    tta_status s1 = run_kernel(dnnl_kernel(node), node, in, n_in, &got, 2, NULL, NULL);
    tta_status s2 = run_kernel(c_kernel(node), node, in, n_in, &ref, 1, NULL, NULL);
    if (s1 || s2) fprintf(stderr, "  %s: dnnl %d, C %d: %s\n", what, s1, s2, tta_last_error());
    CHECK_EQ_INT(s1, TTA_OK);
    CHECK_EQ_INT(s2, TTA_OK);
    if (!s1 && !s2) check_close(&got, &ref, what);
    tta_tensor_destroy(&got);
    tta_tensor_destroy(&ref);
}

static void destroy_all(tta_tensor *t, int n) {
    for (int i = 0; i < n; i++) tta_tensor_destroy(&t[i]);
}

/* ---- Concat */

TEST(dnnl_concat_every_axis) {
    for (int rank = 2; rank <= 5; rank++)
        for (int axis = -rank; axis < rank; axis++) {
            int a = axis < 0 ? axis + rank : axis;
            tta_tensor x[3];
            tta_tensor *in[3];
            for (int i = 0; i < 3; i++) {
                int64_t dims[5] = {2, 3, 4, 5, 3};
                dims[a] = 1 + 2 * i; /* 1, 3, 5 along the axis */
                x[i] = rand_tensor(TTA_DTYPE_FLOAT32, rank, dims);
                in[i] = &x[i];
            }
            node_builder nb;
            nb_init(&nb, "Concat", 13, 3, 1);
            nb_int(&nb, "axis", axis);
            char what[64];
            snprintf(what, sizeof what, "Concat rank %d axis %d", rank, axis);
            compare(&nb.node, in, 3, what);
            destroy_all(x, 3);
        }
    /* 1-D, one input, opset 1 default axis */
    tta_tensor a = RAND(TTA_DTYPE_FLOAT32, 7), b = RAND(TTA_DTYPE_FLOAT32, 5);
    tta_tensor *in[] = {&a, &b};
    node_builder nb;
    nb_init(&nb, "Concat", 11, 2, 1);
    nb_int(&nb, "axis", 0);
    compare(&nb.node, in, 2, "Concat 1-D");
    nb_init(&nb, "Concat", 11, 1, 1);
    nb_int(&nb, "axis", 0);
    compare(&nb.node, in, 1, "Concat one input");
    tta_tensor_destroy(&a);
    tta_tensor_destroy(&b);
    tta_tensor c = RAND(TTA_DTYPE_FLOAT32, 2, 3, 4), d = RAND(TTA_DTYPE_FLOAT32, 2, 2, 4);
    tta_tensor *in2[] = {&c, &d};
    nb_init(&nb, "Concat", 1, 2, 1);
    compare(&nb.node, in2, 2, "Concat opset 1 default axis 1");
    tta_tensor_destroy(&c);
    tta_tensor_destroy(&d);
}

TEST(dnnl_concat_fallbacks) {
    node_builder nb;
    nb_init(&nb, "Concat", 13, 2, 1);
    nb_int(&nb, "axis", 1);
    tta_tensor x[2] = {RAND(TTA_DTYPE_FLOAT64, 2, 3, 4), RAND(TTA_DTYPE_FLOAT64, 2, 5, 4)};
    tta_tensor *in[] = {&x[0], &x[1]};
    compare(&nb.node, in, 2, "Concat float64");
    destroy_all(x, 2);
    x[0] = RAND(TTA_DTYPE_INT64, 2, 3, 4);
    x[1] = RAND(TTA_DTYPE_INT64, 2, 5, 4);
    compare(&nb.node, in, 2, "Concat int64");
    destroy_all(x, 2);
    x[0] = RAND(TTA_DTYPE_FLOAT32, 2, 0, 4); /* zero-size input */
    x[1] = RAND(TTA_DTYPE_FLOAT32, 2, 5, 4);
    compare(&nb.node, in, 2, "Concat zero-size input");
    destroy_all(x, 2);
    x[0] = RAND(TTA_DTYPE_FLOAT32, 1, 2, 1, 1, 2, 3); /* rank 6 */
    x[1] = RAND(TTA_DTYPE_FLOAT32, 1, 3, 1, 1, 2, 3);
    compare(&nb.node, in, 2, "Concat rank 6");
    destroy_all(x, 2);
    /* mismatched dims: the C kernel's infer reports them */
    x[0] = RAND(TTA_DTYPE_FLOAT32, 2, 3, 4);
    x[1] = RAND(TTA_DTYPE_FLOAT32, 2, 3, 5);
    tta_tensor y = {0};
    CHECK(run_kernel(dnnl_kernel(&nb.node), &nb.node, in, 2, &y, 1, NULL, NULL) == TTA_ERR_SHAPE);
    destroy_all(x, 2);
    tta_tensor_destroy(&y);
}


/* The channel concat of inputs with the given channel counts, with the layouts given per input
 * and for the output, against the plain C Concat. */
static void concat_layout_case(int n_in, const int64_t *chans, const unsigned char *in_l, unsigned char out_l) {
    tta_tensor x[4], bx[4], got = {0}, ref = {0};
    tta_tensor *in[4], *bin[4];
    for (int i = 0; i < n_in; i++) {
        x[i] = RAND(TTA_DTYPE_FLOAT32, 2, chans[i], 3, 5);
        in[i] = &x[i];
        bin[i] = in[i];
        if (in_l[i]) {
            bx[i] = to_layout(&x[i], 1);
            bin[i] = &bx[i];
        }
    }
    node_builder nb;
    nb_init(&nb, "Concat", 13, n_in, 1);
    nb_int(&nb, "axis", 1);
    char what[96];
    int len = snprintf(what, sizeof what, "blocked Concat");
    for (int i = 0; i < n_in; i++) len += snprintf(what + len, sizeof what - (size_t)len, " %lld%s", (long long)chans[i], in_l[i] ? "b" : "");
    snprintf(what + len, sizeof what - (size_t)len, " -> %s", out_l ? "blocked" : "plain");
    const tta_kernel *k = dnnl_kernel(&nb.node);
    tta_status s = run_kernel(k, &nb.node, bin, n_in, &got, 2, in_l, &out_l);
    if (s) fprintf(stderr, "  %s: %s\n", what, tta_last_error());
    CHECK_EQ_INT(s, TTA_OK);
    CHECK(run_kernel(c_kernel(&nb.node), &nb.node, in, n_in, &ref, 1, NULL, NULL) == TTA_OK);
    if (!s) {
        tta_tensor back = out_l ? to_layout(&got, 0) : got;
        check_close(&back, &ref, what);
        if (out_l) tta_tensor_destroy(&back);
    }
    for (int i = 0; i < n_in; i++) {
        tta_tensor_destroy(&x[i]);
        if (in_l[i]) tta_tensor_destroy(&bx[i]);
    }
    tta_tensor_destroy(&got);
    tta_tensor_destroy(&ref);
}

TEST(dnnl_concat_blocked) {
    int64_t B = tta_layout_block();
    /* unpadded, padded (12 + 8 with B 8), three inputs, and mixes of plain and blocked */
    concat_layout_case(2, (int64_t[]){2 * B, B}, (unsigned char[]){1, 1}, 1);
    concat_layout_case(2, (int64_t[]){B + B / 2, B}, (unsigned char[]){1, 1}, 1);
    concat_layout_case(2, (int64_t[]){B, B + B / 2}, (unsigned char[]){1, 1}, 1);
    concat_layout_case(3, (int64_t[]){B + 4, B - 2, 2 * B + 2}, (unsigned char[]){1, 1, 1}, 1);
    concat_layout_case(2, (int64_t[]){B + B / 2, B}, (unsigned char[]){1, 1}, 0);
    concat_layout_case(2, (int64_t[]){B + B / 2, B}, (unsigned char[]){0, 1}, 1);
    concat_layout_case(2, (int64_t[]){B + B / 2, B}, (unsigned char[]){1, 0}, 1);
    concat_layout_case(2, (int64_t[]){B + B / 2, B}, (unsigned char[]){0, 1}, 0);
    concat_layout_case(2, (int64_t[]){B + B / 2, 3}, (unsigned char[]){0, 0}, 1);
    concat_layout_case(3, (int64_t[]){B, 2 * B, B}, (unsigned char[]){1, 0, 1}, 1);

    /* plan-time answers: with padded channels every input may be blocked, output any; other
     * axes, and channels without padding, nothing */
    node_builder nb;
    nb_init(&nb, "Concat", 13, 2, 1);
    nb_int(&nb, "axis", -3);
    tta_tensor x[2] = {RAND(TTA_DTYPE_FLOAT32, 2, B + B / 2, 3, 3), RAND(TTA_DTYPE_FLOAT32, 2, B, 3, 3)}, y = {0};
    tta_tensor *in[] = {&x[0], &x[1]}, *out[] = {&y};
    const tta_kernel *k = dnnl_kernel(&nb.node);
    tta_op_ctx ctx = {&nb.node, 2, 1, in, out, NULL, 2, NULL, NULL};
    CHECK(k && k->layouts && k->prepare(&ctx) == TTA_OK && k->infer(&ctx) == TTA_OK);
    if (k && k->layouts) {
        CHECK_EQ_INT(k->layouts(&ctx),
                     TTA_LAYOUT_IN(0) | TTA_LAYOUT_IN(1) | TTA_LAYOUT_PADDED | TTA_LAYOUT_OUT_ANY);
        k->release(&ctx);
    }
    destroy_all(x, 2);
    x[0] = RAND(TTA_DTYPE_FLOAT32, 2, B + B / 2, 3, 3);
    x[1] = RAND(TTA_DTYPE_FLOAT32, 2, B + B / 2, 5, 3);
    nb_init(&nb, "Concat", 13, 2, 1);
    nb_int(&nb, "axis", 2);
    ctx.state = NULL;
    CHECK(k && k->prepare(&ctx) == TTA_OK && k->infer(&ctx) == TTA_OK);
    if (k && k->layouts) {
        CHECK_EQ_INT(k->layouts(&ctx), 0);
        k->release(&ctx);
    }
    destroy_all(x, 2); /* unpadded channels: the plan's own Concat rule */
    x[0] = RAND(TTA_DTYPE_FLOAT32, 2, 2 * B, 3, 3);
    x[1] = RAND(TTA_DTYPE_FLOAT32, 2, B, 3, 3);
    nb_init(&nb, "Concat", 13, 2, 1);
    nb_int(&nb, "axis", 1);
    ctx.state = NULL;
    CHECK(k && k->prepare(&ctx) == TTA_OK && k->infer(&ctx) == TTA_OK);
    if (k && k->layouts) {
        CHECK_EQ_INT(k->layouts(&ctx), 0);
        k->release(&ctx);
    }
    destroy_all(x, 2);
}

/* ---- Softmax, LogSoftmax */

static void softmax_case(int opset, int64_t axis, tta_tensor *x, const char *what) {
    const char *op = "Softmax";
    node_builder nb;
    nb_init(&nb, op, opset, 1, 1);
    nb_int(&nb, "axis", axis);
    tta_tensor *in[] = {x};
    char w[96];
    snprintf(w, sizeof w, "%s v%d axis %lld %s", op, opset, (long long)axis, what);
    compare(&nb.node, in, 1, w);
}

TEST(dnnl_softmax_every_axis) {
    /* (oneDNN 2.6 has a JIT kernel only for the innermost axis; the others run the C kernel) */
    tta_tensor x = RAND(TTA_DTYPE_FLOAT32, 3, 5, 7, 4);
    for (int axis = -4; axis < 4; axis++) softmax_case(13, axis, &x, "4-D");
    for (int axis = 0; axis <= 4; axis++) softmax_case(1, axis, &x, "coerced");
    for (int axis = -4; axis < 4; axis++) softmax_case(11, axis, &x, "coerced");
    node_builder nb; /* the default axis (-1 from 13, 1 before) */
    nb_init(&nb, "Softmax", 13, 1, 1);
    tta_tensor *in[] = {&x};
    compare(&nb.node, in, 1, "default axis v13");
    nb_init(&nb, "Softmax", 11, 1, 1);
    compare(&nb.node, in, 1, "default axis v11");
    tta_tensor_destroy(&x);
    /* large logits (no overflow), -inf entries (3 per row, and one row all -inf but one) */
    x = RAND(TTA_DTYPE_FLOAT32, 8, 37);
    float *v = x.data;
    for (int64_t i = 0; i < tta_tensor_numel(&x); i++) v[i] *= 1000.0f;
    v[3] = 88.0f;
    v[40] = 1e30f;
    v[41] = -1e30f;
    softmax_case(13, -1, &x, "large logits");
    softmax_case(13, 0, &x, "large logits");
    softmax_case(11, 1, &x, "large logits");
    for (int64_t i = 0; i < tta_tensor_numel(&x); i++) v[i] = i % 3 ? frand() : -INFINITY;
    for (int64_t i = 37; i < 74; i++) v[i] = i == 50 ? 2.0f : -INFINITY;
    softmax_case(13, -1, &x, "-inf entries");
    softmax_case(11, 1, &x, "-inf entries");
    tta_tensor_destroy(&x);
    x = RAND(TTA_DTYPE_FLOAT32, 1000);
    softmax_case(13, 0, &x, "1-D");
    tta_tensor_destroy(&x);
    x = RAND(TTA_DTYPE_FLOAT32, 1, 10);
    softmax_case(13, -1, &x, "[1,10]");
    tta_tensor_destroy(&x);
    x = RAND(TTA_DTYPE_FLOAT32, 64, 1000);
    softmax_case(13, -1, &x, "[64,1000]");
    tta_tensor_destroy(&x);
    x = RAND(TTA_DTYPE_FLOAT32, 2, 11, 9, 7);
    softmax_case(13, 1, &x, "segmentation-like");
    tta_tensor_destroy(&x);
}

TEST(dnnl_softmax_fallbacks) {
    tta_tensor x = RAND(TTA_DTYPE_FLOAT64, 3, 6);
    softmax_case(13, -1, &x, "float64");
    softmax_case(11, 1, &x, "float64");
    tta_tensor_destroy(&x);
    x = RAND(TTA_DTYPE_FLOAT32, 3, 0, 2);
    softmax_case(13, 1, &x, "zero-size");
    tta_tensor_destroy(&x);
    /* a shape change between runs of one prepared kernel */
    node_builder nb;
    nb_init(&nb, "Softmax", 13, 1, 1);
    const tta_kernel *k = dnnl_kernel(&nb.node);
    tta_tensor a = RAND(TTA_DTYPE_FLOAT32, 2, 300), y = {0}, r = {0};
    tta_tensor *in[] = {&a}, *out[] = {&y};
    tta_op_ctx ctx = {&nb.node, 1, 1, in, out, NULL, 2, NULL, NULL};
    CHECK(k && k->prepare(&ctx) == TTA_OK);
    for (int run = 0; k && run < 3; run++) {
        if (run == 2) {
            tta_tensor_destroy(&a);
            a = RAND(TTA_DTYPE_FLOAT32, 5, 3, 40);
        }
        CHECK(k->infer(&ctx) == TTA_OK);
        CHECK(tta_tensor_resize(&y, y.dtype, y.ndim, y.dims) == TTA_OK);
        CHECK(k->compute(&ctx) == TTA_OK);
        CHECK(run_kernel(c_kernel(&nb.node), &nb.node, in, 1, &r, 1, NULL, NULL) == TTA_OK);
        check_close(&y, &r, "Softmax shape change");
        tta_tensor_destroy(&r);
    }
    if (k) k->release(&ctx);
    tta_tensor_destroy(&a);
    tta_tensor_destroy(&y);
    /* Hardmax and LogSoftmax stay on the C kernel (oneDNN's softmax_log is 1.4e-6 off near 0);
     * an axis out of range is an attribute error */
    nb_init(&nb, "Hardmax", 13, 1, 1);
    CHECK(tta_kernel_find(&nb.node) && !strcmp(tta_kernel_find(&nb.node)->backend, "c"));
    nb_init(&nb, "LogSoftmax", 13, 1, 1);
    CHECK(tta_kernel_find(&nb.node) && !strcmp(tta_kernel_find(&nb.node)->backend, "c"));
    nb_init(&nb, "LogSoftmax", 11, 1, 1);
    CHECK(tta_kernel_find(&nb.node) && !strcmp(tta_kernel_find(&nb.node)->backend, "c"));
    nb_init(&nb, "Softmax", 13, 1, 1);
    nb_int(&nb, "axis", 3);
    x = RAND(TTA_DTYPE_FLOAT32, 3, 6);
    CHECK(run_kernel(dnnl_kernel(&nb.node), &nb.node, in, 1, &y, 1, NULL, NULL) != TTA_OK);
    tta_tensor_destroy(&x);
    tta_tensor_destroy(&y);
}

/* ---- timing (printed, never asserted): median of runs, 2 threads */

static double now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* Median time of one compute, with the given layouts (the inputs already in them). */
static double median_ms(const tta_kernel *k, const tta_node *node, tta_tensor **in, int n_in, const unsigned char *in_l,
                        const unsigned char *out_l, int reps) {
    tta_tensor y = {0};
    tta_tensor *out[] = {&y};
    tta_op_ctx ctx = {node, n_in, 1, in, out, NULL, 2, in_l, out_l};
    double t[64];
    int n = 0;
    if ((!k->prepare || k->prepare(&ctx) == TTA_OK) && k->infer(&ctx) == TTA_OK) {
        int64_t dims[TTA_MAX_DIMS], c = y.dims[1], B = tta_layout_block();
        memcpy(dims, y.dims, sizeof dims);
        if (out_l && out_l[0]) dims[1] = (c + B - 1) / B * B;
        if (tta_tensor_resize(&y, y.dtype, y.ndim, dims) == TTA_OK) {
            y.dims[1] = c;
            k->compute(&ctx); /* warm-up: primitive creation */
            for (; n < reps && n < 64; n++) {
                double t0 = now_ms();
                k->compute(&ctx);
                t[n] = now_ms() - t0;
            }
        }
    }
    if (k->release) k->release(&ctx);
    tta_tensor_destroy(&y);
    if (!n) return -1;
    qsort(t, (size_t)n, sizeof t[0], cmp_double);
    return t[n / 2];
}

static void time_case(const tta_node *node, tta_tensor **in, int n_in, const char *what, int reps) {
    const tta_kernel *k = dnnl_kernel(node);
    if (!k) return;
    double td = median_ms(k, node, in, n_in, NULL, NULL, reps), tc = median_ms(c_kernel(node), node, in, n_in, NULL, NULL, reps);
    fprintf(stderr, "  %-44s dnnl %8.4f ms   C %8.4f ms\n", what, td, tc);
}

TEST(dnnl_cs_timing) {
    node_builder nb;
    nb_init(&nb, "Concat", 13, 2, 1);
    nb_int(&nb, "axis", 1);
    tta_tensor a = RAND(TTA_DTYPE_FLOAT32, 64, 32, 32, 32), b = RAND(TTA_DTYPE_FLOAT32, 64, 16, 32, 32);
    tta_tensor *in[] = {&a, &b};
    time_case(&nb.node, in, 2, "Concat [64,32,32,32]+[64,16,32,32] plain", 7);
    /* blocked: inputs and output nChw8c; the C kernel runs on the same bytes (unpadded) */
    tta_tensor ab = to_layout(&a, 1), bb = to_layout(&b, 1);
    tta_tensor *bin[] = {&ab, &bb};
    const unsigned char bl[3] = {1, 1, 1};
    double td = median_ms(dnnl_kernel(&nb.node), &nb.node, bin, 2, bl, bl, 7);
    double tc = median_ms(c_kernel(&nb.node), &nb.node, bin, 2, NULL, NULL, 7);
    fprintf(stderr, "  %-44s dnnl %8.4f ms   C %8.4f ms\n", "Concat same, blocked", td, tc);
    double tm = median_ms(dnnl_kernel(&nb.node), &nb.node, (tta_tensor *[]){&a, &bb}, 2, (unsigned char[]){0, 1}, bl, 7);
    fprintf(stderr, "  %-44s dnnl %8.4f ms\n", "Concat same, plain+blocked -> blocked", tm);
    tta_tensor_destroy(&a);
    tta_tensor_destroy(&b);
    tta_tensor_destroy(&ab);
    tta_tensor_destroy(&bb);
    a = RAND(TTA_DTYPE_FLOAT32, 64, 12, 32, 32);
    b = RAND(TTA_DTYPE_FLOAT32, 64, 20, 32, 32);
    ab = to_layout(&a, 1);
    bb = to_layout(&b, 1);
    td = median_ms(dnnl_kernel(&nb.node), &nb.node, bin, 2, bl, bl, 7);
    fprintf(stderr, "  %-44s dnnl %8.4f ms\n", "Concat [64,12,32,32]+[64,20,..] padded blocked", td);
    tta_tensor_destroy(&a);
    tta_tensor_destroy(&b);
    tta_tensor_destroy(&ab);
    tta_tensor_destroy(&bb);
    a = RAND(TTA_DTYPE_FLOAT32, 1, 8, 8, 8);
    b = RAND(TTA_DTYPE_FLOAT32, 1, 8, 8, 8);
    time_case(&nb.node, in, 2, "Concat [1,8,8,8]+[1,8,8,8] plain", 31);
    tta_tensor_destroy(&a);
    tta_tensor_destroy(&b);

    tta_tensor x = RAND(TTA_DTYPE_FLOAT32, 64, 1000);
    tta_tensor *xin[] = {&x};
    nb_init(&nb, "Softmax", 13, 1, 1);
    time_case(&nb.node, xin, 1, "Softmax [64,1000] axis -1", 9);
    tta_tensor_destroy(&x);
    x = RAND(TTA_DTYPE_FLOAT32, 64, 11, 32, 32);
    nb_init(&nb, "Softmax", 13, 1, 1);
    nb_int(&nb, "axis", 1);
    time_case(&nb.node, xin, 1, "Softmax [64,11,32,32] axis 1", 7);
    tta_tensor_destroy(&x);
    x = RAND(TTA_DTYPE_FLOAT32, 1, 10);
    nb_init(&nb, "Softmax", 13, 1, 1);
    time_case(&nb.node, xin, 1, "Softmax [1,10] axis -1", 31);
    tta_tensor_destroy(&x);
}
