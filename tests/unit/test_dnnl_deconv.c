/* test_dnnl_deconv.c - the oneDNN ConvTranspose kernel (dnnl_deconv.c, called through its entry
 * points) against the plain C ConvTranspose from tta_kernels_nn, on the same pseudo-random inputs
 * (fixed seed), with |got - ref| <= 1e-4 * (1 + |ref|). Covers strides 1/2/3, pads,
 * output_padding, output_shape, auto_pad, dilation, groups and depthwise, 1-D and 3-D, bias,
 * batch 3, weights and shapes changing between runs, the float64 fallback, the kernel == stride
 * path (1x1 convolution + scatter), and channel-blocked input and/or output, padded when C is
 * not a multiple of the block (converted here from/to plain; output padding must be zeros), on
 * both the oneDNN and the C path. Timings (unet_tiny's ConvTranspose and a k3 s2 one, dnnl vs
 * C) are printed to stderr. */
#include <stdint.h>
#include <time.h>

#include "runtime/op.h"
#include "runtime/ops/dnnl_deconv.h"
#include "test.h"
#include "test_nodes.h"

TTA_KERNEL_LIST(tta_kernels_nn)

static const tta_kernel deconv_kernel = {"",
                                         "ConvTranspose",
                                         1,
                                         0,
                                         "dnnl",
                                         NULL,
                                         tta_dnnl_deconv_prepare,
                                         tta_dnnl_deconv_infer,
                                         tta_dnnl_deconv_compute,
                                         tta_dnnl_deconv_release,
                                         tta_dnnl_deconv_layouts};

static const tta_kernel *c_kernel(void) {
    for (int i = 0; i < tta_kernels_nn_count; i++)
        if (!strcmp(tta_kernels_nn[i].op_type, "ConvTranspose")) return &tta_kernels_nn[i];
    return NULL;
}


/* Channels of a blocked tensor with padding: C rounded up to a multiple of the block. */
static int64_t padded_c(int64_t c) {
    int64_t blk = tta_layout_block();
    return (c + blk - 1) / blk * blk;
}

/* Sizes t for `dims` in the given layout (a padded blocked tensor has a larger buffer). */
static tta_status resize_layout(tta_tensor *t, tta_dtype dt, int ndim, const int64_t *dims, bool blocked) {
    int64_t d[TTA_MAX_DIMS], c = dims[1]; /* dims may be t->dims */
    memcpy(d, dims, (size_t)ndim * sizeof *d);
    if (blocked) d[1] = padded_c(c);
    tta_status s = tta_tensor_resize(t, dt, ndim, d);
    t->dims[1] = c;
    return s;
}

/* plain [N][C][S] <-> blocked [N][Cp/B][S][B] (float32, same dims; padding channels zero). */
static void reblock(const tta_tensor *src, tta_tensor *dst, bool to_blocked) {
    int64_t blk = tta_layout_block(), n = src->dims[0], c = src->dims[1], cp = padded_c(c), sp = 1;
    for (int i = 2; i < src->ndim; i++) sp *= src->dims[i];
    if (resize_layout(dst, src->dtype, src->ndim, src->dims, to_blocked) != TTA_OK) return;
    const float *s = src->data;
    float *d = dst->data;
    for (int64_t ni = 0; ni < n; ni++)
        for (int64_t ci = 0; ci < cp; ci++)
            for (int64_t p = 0; p < sp; p++) {
                int64_t pl = (ni * c + ci) * sp + p, bl = ((ni * (cp / blk) + ci / blk) * sp + p) * blk + ci % blk;
                if (to_blocked) d[bl] = ci < c ? s[pl] : 0.0f;
                else if (ci < c) d[pl] = s[bl];
            }
}

/* Padding channels of a blocked tensor that are not zero. */
static int64_t padding_nonzero(const tta_tensor *t) {
    int64_t blk = tta_layout_block(), n = t->dims[0], c = t->dims[1], cp = padded_c(c), sp = 1, bad = 0;
    for (int i = 2; i < t->ndim; i++) sp *= t->dims[i];
    const float *d = t->data;
    for (int64_t ni = 0; ni < n; ni++)
        for (int64_t ci = c; ci < cp; ci++)
            for (int64_t p = 0; p < sp; p++) bad += d[((ni * (cp / blk) + ci / blk) * sp + p) * blk + ci % blk] != 0.0f;
    return bad;
}

/* prepare -> infer -> layouts -> (infer -> size -> compute) x runs -> release. in_lay/out_lay
 * are the layouts the "plan" then sets (NULL: plain); *lay gets what `layouts` returned. */
static tta_status run_kernel(const tta_kernel *k, const tta_node *node, tta_tensor **in, int n_in, tta_tensor *out,
                             const unsigned char *in_lay, const unsigned char *out_lay, int runs, unsigned *lay) {
    tta_tensor *outs[] = {out};
    tta_op_ctx ctx = {node, n_in, 1, in, outs, NULL, 2, NULL, NULL};
    tta_status st = k->prepare ? k->prepare(&ctx) : TTA_OK;
    if (st == TTA_OK && lay) {
        st = k->infer(&ctx);
        *lay = st == TTA_OK && k->layouts ? k->layouts(&ctx) : 0;
    }
    ctx.in_layout = in_lay;
    ctx.out_layout = out_lay;
    for (int r = 0; st == TTA_OK && r < runs; r++) {
        st = k->infer(&ctx);
        if (st == TTA_OK) st = resize_layout(out, out->dtype, out->ndim, out->dims, out_lay && out_lay[0]);
        if (st == TTA_OK && out->dtype == TTA_DTYPE_FLOAT32) /* garbage the kernel must overwrite */
            for (size_t i = 0; i < out->capacity / sizeof(float); i++) ((float *)out->data)[i] = NAN;
        if (st == TTA_OK) st = k->compute(&ctx);
    }
    if (k->release) k->release(&ctx);
    return st;
}


/* The C kernel's result (plain). */
static void reference(const tta_node *node, tta_tensor **in, int n_in, tta_tensor *ref, const char *what) {
    tta_status s = run_kernel(c_kernel(), node, in, n_in, ref, NULL, NULL, 1, NULL);
    if (s) fprintf(stderr, "  %s: C kernel %d: %s\n", what, s, tta_last_error());
    CHECK_EQ_INT(s, TTA_OK);
}

/* Runs the dnnl kernel with input 0 and/or output 0 blocked (converted here) and compares with
 * the plain reference. */
static void compare_layout(const tta_node *node, tta_tensor **in, int n_in, const tta_tensor *ref, bool in_blk,
                           bool out_blk, const char *what) {
    tta_tensor xb = {0}, got = {0}, plain = {0};
    tta_tensor *x = in[0];
    if (in_blk) {
        reblock(x, &xb, true);
        in[0] = &xb;
    }
    unsigned char il[3] = {in_blk, 0, 0}, ol[1] = {out_blk};
    unsigned lay = 0;
    tta_status s = run_kernel(&deconv_kernel, node, in, n_in, &got, il, ol, 2, &lay);
    in[0] = x;
    if (s) fprintf(stderr, "  %s: dnnl %d: %s\n", what, s, tta_last_error());
    CHECK_EQ_INT(s, TTA_OK);
    if (!s) {
        if (out_blk) {
            reblock(&got, &plain, false);
            CHECK_EQ_INT(padding_nonzero(&got), 0);
        }
        check_close(out_blk ? &plain : &got, ref, what);
    }
    tta_tensor_destroy(&xb);
    tta_tensor_destroy(&got);
    tta_tensor_destroy(&plain);
}

/* dnnl (plain layouts) vs C. expect_dnnl: `layouts` must say the oneDNN path is taken (4-D);
 * blocked: also run with blocked input and/or output (padded when C is not a multiple of the
 * block). */
static void compare(const tta_node *node, tta_tensor **in, int n_in, const char *what, bool expect_dnnl, bool blocked) {
    tta_tensor got = {0}, ref = {0};
    unsigned lay = 0;
    reference(node, in, n_in, &ref, what);
    tta_status s = run_kernel(&deconv_kernel, node, in, n_in, &got, NULL, NULL, 2, &lay);
    if (s) fprintf(stderr, "  %s: dnnl %d: %s\n", what, s, tta_last_error());
    CHECK_EQ_INT(s, TTA_OK);
    if (!s) check_close(&got, &ref, what);
    if (in[0]->ndim == 4) { /* float64 included: `layouts` must decline it */
        if (expect_dnnl != (lay != 0)) fprintf(stderr, "  %s: layouts() returned %#x\n", what, lay);
        CHECK_EQ_INT(lay, expect_dnnl ? TTA_LAYOUT_IN(0) | TTA_LAYOUT_OUT_ANY | TTA_LAYOUT_PADDED : 0);
    }
    if (blocked && !s) {
        char w[160];
        snprintf(w, sizeof w, "%s (blocked in)", what);
        compare_layout(node, in, n_in, &ref, true, false, w);
        snprintf(w, sizeof w, "%s (blocked out)", what);
        compare_layout(node, in, n_in, &ref, false, true, w);
        snprintf(w, sizeof w, "%s (blocked in and out)", what);
        compare_layout(node, in, n_in, &ref, true, true, w);
    }
    tta_tensor_destroy(&got);
    tta_tensor_destroy(&ref);
}

/* ---- 2-D cases */

typedef struct deconv_case {
    const char *what;
    int64_t n, c, m, h, w, kh, kw, group;
    int64_t sh, sw, dh, dw, pads[4], opad[2], oshape[2]; /* oshape {0, 0}: absent */
    const char *auto_pad;
    bool bias, dnnl; /* dnnl: expects the oneDNN path */
} deconv_case;

static const deconv_case cases[] = {
    {"stride 1 odd 7x9 bias", 1, 3, 5, 7, 9, 3, 3, 1, 1, 1, 1, 1, {0, 0, 0, 0}, {0, 0}, {0, 0}, NULL, true, true},
    {"stride 1 pads 1", 2, 4, 6, 6, 5, 3, 3, 1, 1, 1, 1, 1, {1, 1, 1, 1}, {0, 0}, {0, 0}, NULL, false, true},
    {"stride 2 k2 (unet)", 3, 16, 16, 8, 8, 2, 2, 1, 2, 2, 1, 1, {0, 0, 0, 0}, {0, 0}, {0, 0}, NULL, true, true},
    {"stride 2 k2 out 12", 2, 16, 12, 5, 7, 2, 2, 1, 2, 2, 1, 1, {0, 0, 0, 0}, {0, 0}, {0, 0}, NULL, true, true},
    {"stride 3 k3 pads", 1, 5, 4, 6, 7, 3, 3, 1, 3, 3, 1, 1, {1, 0, 2, 1}, {0, 0}, {0, 0}, NULL, true, true},
    {"stride 2 k3 pad 1 output_padding 1", 2, 16, 16, 7, 6, 3, 3, 1, 2, 2, 1, 1, {1, 1, 1, 1}, {1, 1}, {0, 0}, NULL, true, true},
    {"stride 2 k2 output_padding 1", 1, 8, 16, 5, 5, 2, 2, 1, 2, 2, 1, 1, {0, 0, 0, 0}, {1, 0}, {0, 0}, NULL, false, true},
    {"stride 3 output_padding 2,1", 1, 3, 4, 4, 5, 3, 2, 1, 3, 3, 1, 1, {0, 1, 1, 0}, {2, 1}, {0, 0}, NULL, true, true},
    {"output_shape natural", 1, 4, 3, 5, 5, 3, 3, 1, 2, 2, 1, 1, {0, 0, 0, 0}, {0, 0}, {9, 11}, NULL, true, true},
    {"output_shape smaller (pads)", 2, 4, 3, 5, 6, 3, 3, 1, 2, 2, 1, 1, {0, 0, 0, 0}, {0, 0}, {8, 10}, NULL, true, true},
    {"output_shape +1 (negative end pad)", 1, 16, 16, 5, 5, 3, 3, 1, 2, 2, 1, 1, {0, 0, 0, 0}, {0, 0}, {12, 11}, NULL, true, true},
    {"output_shape +2 (negative pads: C)", 2, 16, 16, 5, 5, 3, 3, 1, 3, 3, 1, 1, {0, 0, 0, 0}, {0, 0}, {17, 15}, NULL, true, false},
    {"output_shape +2, 12 -> 5 channels (C)", 1, 12, 5, 4, 5, 3, 3, 1, 2, 2, 1, 1, {0, 0, 0, 0}, {0, 0}, {11, 12}, NULL, true, false},
    {"SAME_UPPER stride 2", 3, 5, 7, 6, 5, 3, 3, 1, 2, 2, 1, 1, {0}, {0, 0}, {0, 0}, "SAME_UPPER", true, true},
    {"SAME_LOWER stride 2", 2, 3, 4, 5, 6, 3, 3, 1, 2, 2, 1, 1, {0}, {0, 0}, {0, 0}, "SAME_LOWER", false, true},
    {"SAME_UPPER stride 1 k4", 1, 16, 16, 6, 7, 4, 4, 1, 1, 1, 1, 1, {0}, {0, 0}, {0, 0}, "SAME_UPPER", true, true},
    {"SAME_LOWER stride 1 k4", 1, 4, 4, 6, 7, 4, 4, 1, 1, 1, 1, 1, {0}, {0, 0}, {0, 0}, "SAME_LOWER", true, true},
    {"VALID stride 2", 1, 4, 4, 6, 7, 3, 3, 1, 2, 2, 1, 1, {0}, {0, 0}, {0, 0}, "VALID", true, true},
    {"dilation 2", 1, 3, 4, 7, 8, 3, 3, 1, 1, 1, 2, 2, {1, 1, 1, 1}, {0, 0}, {0, 0}, NULL, true, true},
    {"dilation 2x3 stride 2", 2, 16, 16, 5, 6, 3, 2, 1, 2, 2, 2, 3, {1, 0, 0, 2}, {0, 0}, {0, 0}, NULL, true, true},
    {"groups 2", 1, 4, 6, 6, 6, 3, 3, 2, 1, 1, 1, 1, {1, 1, 1, 1}, {0, 0}, {0, 0}, NULL, true, true},
    {"groups 2 stride 2", 2, 32, 16, 5, 6, 3, 3, 2, 2, 2, 1, 1, {1, 1, 1, 1}, {1, 1}, {0, 0}, NULL, true, true},
    {"depthwise stride 2", 2, 16, 16, 7, 7, 3, 3, 16, 2, 2, 1, 1, {1, 1, 1, 1}, {0, 0}, {0, 0}, NULL, true, true},
    {"depthwise multiplier 2", 1, 4, 8, 5, 6, 3, 3, 4, 1, 1, 1, 1, {1, 1, 1, 1}, {0, 0}, {0, 0}, NULL, false, true},
    {"1x1 batch 3", 3, 16, 24, 5, 6, 1, 1, 1, 1, 1, 1, 1, {0, 0, 0, 0}, {0, 0}, {0, 0}, NULL, true, true},
    /* kernel == stride, no pads: the 1x1 convolution + scatter path */
    {"k = s = 3, odd channels", 2, 5, 3, 4, 5, 3, 3, 1, 3, 3, 1, 1, {0, 0, 0, 0}, {0, 0}, {0, 0}, NULL, true, true},
    {"k = s = 2x3, no bias", 3, 16, 8, 5, 3, 2, 3, 1, 2, 3, 1, 1, {0, 0, 0, 0}, {0, 0}, {0, 0}, NULL, false, true},
    {"k = s = 5x1", 1, 8, 16, 3, 4, 5, 1, 1, 5, 1, 1, 1, {0, 0, 0, 0}, {0, 0}, {0, 0}, NULL, true, true},
    {"k = s = 1x6, output_shape", 2, 3, 7, 3, 2, 1, 6, 1, 1, 6, 1, 1, {0, 0, 0, 0}, {0, 0}, {3, 12}, NULL, true, true},
    {"k = s = 2, SAME_UPPER", 1, 8, 8, 4, 5, 2, 2, 1, 2, 2, 1, 1, {0}, {0, 0}, {0, 0}, "SAME_UPPER", true, true},
    {"k = s = 2, groups 2 (deconvolution)", 1, 8, 8, 4, 5, 2, 2, 2, 2, 2, 1, 1, {0, 0, 0, 0}, {0, 0}, {0, 0}, NULL, true, true},
};

TEST(dnnl_deconv_matches_c) {
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const deconv_case *dc = &cases[i];
        tta_tensor X = RAND(TTA_DTYPE_FLOAT32, dc->n, dc->c, dc->h, dc->w);
        tta_tensor W = RAND(TTA_DTYPE_FLOAT32, dc->c, dc->m / dc->group, dc->kh, dc->kw);
        tta_tensor B = RAND(TTA_DTYPE_FLOAT32, dc->m);
        tta_tensor *in[] = {&X, &W, &B};
        node_builder nb;
        nb_init(&nb, "ConvTranspose", 11, dc->bias ? 3 : 2, 1);
        if (dc->group > 1) nb_int(&nb, "group", dc->group);
        nb_ints(&nb, "strides", INTS(dc->sh, dc->sw));
        if (dc->dh > 1 || dc->dw > 1) nb_ints(&nb, "dilations", INTS(dc->dh, dc->dw));
        if (dc->auto_pad) nb_str(&nb, "auto_pad", dc->auto_pad);
        else nb_ints(&nb, "pads", INTS(dc->pads[0], dc->pads[1], dc->pads[2], dc->pads[3]));
        if (dc->opad[0] || dc->opad[1]) nb_ints(&nb, "output_padding", INTS(dc->opad[0], dc->opad[1]));
        if (dc->oshape[0]) nb_ints(&nb, "output_shape", INTS(dc->oshape[0], dc->oshape[1]));
        nb_ints(&nb, "kernel_shape", INTS(dc->kh, dc->kw));
        compare(&nb.node, in, dc->bias ? 3 : 2, dc->what, dc->dnnl, true);
        tta_tensor_destroy(&X);
        tta_tensor_destroy(&W);
        tta_tensor_destroy(&B);
    }
}

TEST(dnnl_deconv_1d_3d_float64) {
    node_builder nb;
    tta_tensor X = RAND(TTA_DTYPE_FLOAT32, 3, 4, 11), W = RAND(TTA_DTYPE_FLOAT32, 4, 5, 3), B = RAND(TTA_DTYPE_FLOAT32, 5);
    tta_tensor *in[] = {&X, &W, &B};
    nb_init(&nb, "ConvTranspose", 11, 3, 1);
    nb_ints(&nb, "strides", INTS(2));
    nb_ints(&nb, "pads", INTS(1, 0));
    nb_ints(&nb, "output_padding", INTS(1));
    compare(&nb.node, in, 3, "1-D stride 2 output_padding", true, false);
    nb_init(&nb, "ConvTranspose", 11, 2, 1);
    nb_int(&nb, "group", 2);
    nb_ints(&nb, "dilations", INTS(2));
    compare(&nb.node, in, 2, "1-D groups 2 dilation 2", true, false);
    tta_tensor_destroy(&X);
    tta_tensor_destroy(&W);
    tta_tensor_destroy(&B);

    X = RAND(TTA_DTYPE_FLOAT32, 2, 3, 4, 5, 3);
    W = RAND(TTA_DTYPE_FLOAT32, 3, 2, 3, 2, 3);
    B = RAND(TTA_DTYPE_FLOAT32, 2);
    nb_init(&nb, "ConvTranspose", 11, 3, 1);
    nb_ints(&nb, "strides", INTS(2, 1, 2));
    nb_ints(&nb, "pads", INTS(1, 0, 1, 0, 1, 1));
    compare(&nb.node, in, 3, "3-D", true, false);
    nb_init(&nb, "ConvTranspose", 11, 2, 1);
    nb_str(&nb, "auto_pad", "SAME_UPPER");
    nb_ints(&nb, "strides", INTS(2, 2, 2));
    compare(&nb.node, in, 2, "3-D SAME_UPPER", true, false);
    tta_tensor_destroy(&X);
    tta_tensor_destroy(&W);
    tta_tensor_destroy(&B);

    /* float64 goes to the C kernel; `layouts` declines it */
    X = RAND(TTA_DTYPE_FLOAT64, 2, 16, 5, 4);
    W = RAND(TTA_DTYPE_FLOAT64, 16, 3, 3, 3);
    B = RAND(TTA_DTYPE_FLOAT64, 3);
    nb_init(&nb, "ConvTranspose", 11, 3, 1);
    nb_ints(&nb, "strides", INTS(2, 2));
    compare(&nb.node, in, 3, "float64", false, false);
    tta_tensor_destroy(&X);
    tta_tensor_destroy(&W);
    tta_tensor_destroy(&B);
}

/* One prepared kernel, run on weights that change between runs (not known at prepare), then a
 * new input shape; also with the input blocked. k: kernel size (2: the kernel == stride path). */
static void changing(bool in_blk, int64_t k) {
    node_builder nb;
    nb_init(&nb, "ConvTranspose", 11, 3, 1);
    nb_ints(&nb, "strides", INTS(2, 2));
    if (k != 2) nb_ints(&nb, "pads", INTS(1, 1, 0, 0));
    tta_tensor X = RAND(TTA_DTYPE_FLOAT32, 1, 16, 6, 6), W = RAND(TTA_DTYPE_FLOAT32, 16, 8, k, k);
    tta_tensor B = RAND(TTA_DTYPE_FLOAT32, 8), XB = {0}, Y = {0}, R = {0};
    tta_tensor *in[] = {in_blk ? &XB : &X, &W, &B}, *out[] = {&Y}, *rin[] = {&X, &W, &B};
    unsigned char il[3] = {in_blk, 0, 0};
    void *wdata = W.data;
    W.data = NULL; /* not known at prepare: weights may change per run */
    tta_op_ctx ctx = {&nb.node, 3, 1, in, out, NULL, 2, il, NULL};
    CHECK(deconv_kernel.prepare(&ctx) == TTA_OK);
    W.data = wdata;
    for (int run = 0; run < 4; run++) {
        if (run == 1 || run == 3) /* new weights, same buffer */
            for (int64_t i = 0; i < tta_tensor_numel(&W); i++) ((float *)W.data)[i] = frand();
        if (run == 2) { /* new input shape */
            tta_tensor_destroy(&X);
            X = RAND(TTA_DTYPE_FLOAT32, 3, 16, 5, 7);
        }
        if (in_blk) reblock(&X, &XB, true);
        CHECK(deconv_kernel.infer(&ctx) == TTA_OK);
        CHECK(tta_tensor_resize(&Y, Y.dtype, Y.ndim, Y.dims) == TTA_OK);
        CHECK(deconv_kernel.compute(&ctx) == TTA_OK);
        reference(&nb.node, rin, 3, &R, "changing");
        check_close(&Y, &R, in_blk ? "changing weights and shape, blocked in" : "changing weights and shape");
        tta_tensor_destroy(&R);
    }
    deconv_kernel.release(&ctx);
    tta_tensor_destroy(&X);
    tta_tensor_destroy(&XB);
    tta_tensor_destroy(&W);
    tta_tensor_destroy(&B);
    tta_tensor_destroy(&Y);
}

TEST(dnnl_deconv_weight_and_shape_changes) {
    changing(false, 3);
    changing(true, 3);
    changing(false, 2);
    changing(true, 2);
}

/* ---- timing (printed, never asserted) */

static double now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static double median_ms(const tta_kernel *k, const tta_node *node, tta_tensor **in, int n_in, const unsigned char *il,
                        int reps) {
    tta_tensor Y = {0};
    tta_tensor *out[] = {&Y};
    tta_op_ctx ctx = {node, n_in, 1, in, out, NULL, 2, il, NULL};
    double t[64];
    int n = 0;
    if (k->prepare(&ctx) == TTA_OK && k->infer(&ctx) == TTA_OK &&
        tta_tensor_resize(&Y, Y.dtype, Y.ndim, Y.dims) == TTA_OK) {
        k->compute(&ctx); /* warm-up: primitive creation, weight reorder */
        for (; n < reps && n < 64; n++) {
            double t0 = now_ms();
            k->compute(&ctx);
            t[n] = now_ms() - t0;
        }
    }
    k->release(&ctx);
    tta_tensor_destroy(&Y);
    for (int i = 1; i < n; i++)
        for (int j = i; j > 0 && t[j] < t[j - 1]; j--) {
            double v = t[j];
            t[j] = t[j - 1];
            t[j - 1] = v;
        }
    return n ? t[n / 2] : -1;
}

TEST(dnnl_deconv_timing) {
    /* unet_tiny_op17's up2: ConvTranspose2d(16, 12, 2, stride=2) on [64, 16, 8, 8] */
    node_builder nb;
    nb_init(&nb, "ConvTranspose", 11, 3, 1);
    nb_ints(&nb, "strides", INTS(2, 2));
    nb_ints(&nb, "kernel_shape", INTS(2, 2));
    tta_tensor X = RAND(TTA_DTYPE_FLOAT32, 64, 16, 8, 8), W = RAND(TTA_DTYPE_FLOAT32, 16, 12, 2, 2);
    tta_tensor B = RAND(TTA_DTYPE_FLOAT32, 12), XB = {0};
    reblock(&X, &XB, true);
    tta_tensor *in[] = {&X, &W, &B}, *inb[] = {&XB, &W, &B};
    unsigned char il[3] = {1, 0, 0};
    double td = median_ms(&deconv_kernel, &nb.node, in, 3, NULL, 21);
    double tb = median_ms(&deconv_kernel, &nb.node, inb, 3, il, 21);
    double tc = median_ms(c_kernel(), &nb.node, in, 3, NULL, 11);
    fprintf(stderr, "  ConvTranspose N=64 C=16->12 8x8 k2 s2 (unet_tiny), median: dnnl %.3f ms, dnnl blocked in %.3f ms, C %.3f ms\n",
            td, tb, tc);
    tta_tensor_destroy(&X);
    tta_tensor_destroy(&XB);
    tta_tensor_destroy(&W);
    tta_tensor_destroy(&B);

    /* a decoder's ConvTranspose(k=3, s=2, pad 1, output_padding 1): oneDNN's deconvolution */
    nb_init(&nb, "ConvTranspose", 11, 3, 1);
    nb_ints(&nb, "strides", INTS(2, 2));
    nb_ints(&nb, "pads", INTS(1, 1, 1, 1));
    nb_ints(&nb, "output_padding", INTS(1, 1));
    X = RAND(TTA_DTYPE_FLOAT32, 64, 16, 16, 16);
    W = RAND(TTA_DTYPE_FLOAT32, 16, 16, 3, 3);
    B = RAND(TTA_DTYPE_FLOAT32, 16);
    reblock(&X, &XB, true);
    td = median_ms(&deconv_kernel, &nb.node, in, 3, NULL, 11);
    tb = median_ms(&deconv_kernel, &nb.node, inb, 3, il, 11);
    tc = median_ms(c_kernel(), &nb.node, in, 3, NULL, 5);
    fprintf(stderr, "  ConvTranspose N=64 C=16->16 16x16 k3 s2 pad 1 output_padding 1, median: dnnl %.3f ms, dnnl blocked in %.3f ms, C %.3f ms\n",
            td, tb, tc);
    tta_tensor_destroy(&X);
    tta_tensor_destroy(&XB);
    tta_tensor_destroy(&W);
    tta_tensor_destroy(&B);
}
