/* test_resize_fast.c - the Resize fast path (misc_resize_fast.c) against the generic n-D
 * kernel of misc_resize.c (tta_misc_resize_compute_generic) on pseudo-random float32 inputs
 * (fixed seed): nearest with every nearest_mode and linear, under the coordinate modes, for up-
 * and downscales by scales and by sizes, odd sizes and batch 3, the legacy Resize-10 /
 * Upsample forms, opset-18 axes and keep_aspect_ratio_policy; shape changes between runs on one
 * state; the channel-blocked layout against the plain result (bit for bit); and the `layouts`
 * callback, which must say yes exactly where the fast path applies. A small timing of fast vs
 * generic is printed to stderr. */
#include <stdint.h>
#include <time.h>

#include "runtime/op.h"
#include "runtime/ops/misc.h"
#include "test.h"
#include "test_nodes.h"

/* ---- tensors */

static tta_tensor rand_f32(int64_t n, int64_t c, int64_t h, int64_t w) {
    tta_tensor t = {0};
    int64_t d[4] = {n, c, h, w};
    if (tta_tensor_resize(&t, TTA_DTYPE_FLOAT32, 4, d) != TTA_OK) return t;
    for (int64_t i = 0; i < tta_tensor_numel(&t); i++) ((float *)t.data)[i] = frand();
    return t;
}
static tta_tensor vec_f32(int n, const float *v) {
    tta_tensor t = {0};
    int64_t d[1] = {n};
    tta_tensor_resize(&t, TTA_DTYPE_FLOAT32, 1, d);
    memcpy(t.data, v, (size_t)n * sizeof(float));
    return t;
}
static tta_tensor vec_i64(int n, const int64_t *v) {
    tta_tensor t = {0};
    int64_t d[1] = {n};
    tta_tensor_resize(&t, TTA_DTYPE_INT64, 1, d);
    memcpy(t.data, v, (size_t)n * sizeof(int64_t));
    return t;
}

/* Plain [N,C,H,W] <-> blocked [N][C/B][H][W][B]. */
static void to_blocked(const float *x, float *y, const int64_t *d, int64_t B) {
    int64_t C = d[1], HW = d[2] * d[3];
    for (int64_t n = 0; n < d[0]; n++)
        for (int64_t c = 0; c < C; c++)
            for (int64_t p = 0; p < HW; p++) y[((n * (C / B) + c / B) * HW + p) * B + c % B] = x[(n * C + c) * HW + p];
}
static void from_blocked(const float *x, float *y, const int64_t *d, int64_t B) {
    int64_t C = d[1], HW = d[2] * d[3];
    for (int64_t n = 0; n < d[0]; n++)
        for (int64_t c = 0; c < C; c++)
            for (int64_t p = 0; p < HW; p++) y[(n * C + c) * HW + p] = x[((n * (C / B) + c / B) * HW + p) * B + c % B];
}

/* ---- running the kernel */

static const tta_kernel *resize_kernel(const tta_node *node) {
    const tta_kernel *k = tta_kernel_find(node);
    CHECK(k != NULL && k->layouts == tta_misc_resize_layouts);
    return k;
}

/* A prepared kernel state with its context. */
typedef struct runner {
    const tta_kernel *k;
    tta_op_ctx ctx;
    tta_tensor *in[4], *out[1];
} runner;

static tta_status runner_init(runner *r, const tta_node *node, tta_tensor *const *in, int n_in, tta_tensor *y,
                              int threads) {
    memset(r, 0, sizeof *r);
    r->k = resize_kernel(node);
    if (!r->k) return TTA_ERR_UNSUPPORTED;
    for (int i = 0; i < n_in; i++) r->in[i] = in[i];
    r->out[0] = y;
    r->ctx = (tta_op_ctx){.node = node, .n_in = n_in, .n_out = 1, .in = r->in, .out = r->out, .n_threads = threads};
    return r->k->prepare(&r->ctx);
}
/* infer, size the output, compute (the kernel's own compute or the generic one). */
static tta_status runner_run(runner *r, bool generic) {
    tta_status s = r->k->infer(&r->ctx);
    if (s == TTA_OK) s = tta_tensor_resize(r->out[0], r->out[0]->dtype, r->out[0]->ndim, r->out[0]->dims);
    if (s == TTA_OK) s = generic ? tta_misc_resize_compute_generic(&r->ctx) : r->k->compute(&r->ctx);
    return s;
}
static void runner_release(runner *r) {
    if (r->k && r->k->release) r->k->release(&r->ctx);
}

/* Counts elements with |got - ref| > 1e-6 |ref| (printing the first few). */
static int compare(const tta_tensor *got, const tta_tensor *ref, const char *what) {
    CHECK_EQ_INT(got->ndim, ref->ndim);
    for (int i = 0; i < got->ndim && i < ref->ndim; i++) CHECK_EQ_INT(got->dims[i], ref->dims[i]);
    if (tta_tensor_numel(got) != tta_tensor_numel(ref)) return 1;
    int bad = 0;
    const float *a = got->data, *b = ref->data;
    for (int64_t i = 0; i < tta_tensor_numel(ref); i++)
        if (!(fabs((double)a[i] - (double)b[i]) <= 1e-6 * fabs((double)b[i])) && bad++ < 3)
            fprintf(stderr, "  %s: element %lld is %.9g, generic gives %.9g\n", what, (long long)i, a[i], b[i]);
    return bad;
}

/* Runs node on `in` with the fast path (twice, on one state) and with the generic kernel, and
 * compares; also checks that `layouts` accepts the node (so the fast path was the one run). */
static void check_fast(const tta_node *node, tta_tensor *const *in, int n_in, const char *what) {
    tta_tensor got = {0}, ref = {0};
    runner rf, rg;
    tta_status s1 = runner_init(&rf, node, in, n_in, &got, 2);
    if (s1 == TTA_OK) s1 = runner_run(&rf, false);
    if (s1 == TTA_OK) {
        if (!rf.k->layouts(&rf.ctx)) fprintf(stderr, "  %s: layouts() says the fast path does not apply\n", what);
        CHECK_EQ_INT(rf.k->layouts(&rf.ctx), TTA_LAYOUT_IN(0) | TTA_LAYOUT_OUT_FOLLOW);
        memset(got.data, 0, tta_tensor_nbytes(&got));
        s1 = runner_run(&rf, false); /* cached tables */
    }
    tta_status s2 = runner_init(&rg, node, in, n_in, &ref, 1);
    if (s2 == TTA_OK) s2 = runner_run(&rg, true);
    if (s1 || s2) fprintf(stderr, "  %s: fast %d, generic %d: %s\n", what, s1, s2, tta_last_error());
    CHECK_EQ_INT(s1, TTA_OK);
    CHECK_EQ_INT(s2, TTA_OK);
    if (!s1 && !s2) CHECK_EQ_INT(compare(&got, &ref, what), 0);
    runner_release(&rf);
    runner_release(&rg);
    tta_tensor_destroy(&got);
    tta_tensor_destroy(&ref);
}

/* Resize-13 with scales (1, 1, sh, sw) on x. */
static void check_scales(node_builder *nb, tta_tensor *x, float sh, float sw, const char *what) {
    tta_tensor sc = vec_f32(4, (float[]){1, 1, sh, sw});
    tta_tensor *in[3] = {x, NULL, &sc};
    check_fast(&nb->node, in, 3, what);
    tta_tensor_destroy(&sc);
}
static void check_sizes(node_builder *nb, tta_tensor *x, int64_t oh, int64_t ow, const char *what) {
    tta_tensor sz = vec_i64(4, (int64_t[]){x->dims[0], x->dims[1], oh, ow});
    tta_tensor *in[4] = {x, NULL, NULL, &sz};
    check_fast(&nb->node, in, 4, what);
    tta_tensor_destroy(&sz);
}

static const char *const coords[] = {"half_pixel", "asymmetric", "align_corners", "pytorch_half_pixel"};
static const char *const nearest_modes[] = {"round_prefer_floor", "round_prefer_ceil", "floor", "ceil"};
static const float scale_pairs[][2] = {{2, 2}, {1.5f, 1.5f}, {0.5f, 0.5f}, {0.75f, 0.75f}, {2, 0.75f}, {0.5f, 3}};

/* Every scale pair and two sizes cases on batch 3, 7x5 and 8x6 planes, for one node. */
static void check_all_shapes(node_builder *nb, const char *what) {
    char buf[200];
    tta_tensor x = rand_f32(3, 2, 7, 5), x2 = rand_f32(3, 3, 8, 6);
    for (size_t i = 0; i < sizeof scale_pairs / sizeof scale_pairs[0]; i++) {
        snprintf(buf, sizeof buf, "%s, scales %g x %g on 7x5", what, scale_pairs[i][0], scale_pairs[i][1]);
        check_scales(nb, &x, scale_pairs[i][0], scale_pairs[i][1], buf);
        snprintf(buf, sizeof buf, "%s, scales %g x %g on 8x6", what, scale_pairs[i][0], scale_pairs[i][1]);
        check_scales(nb, &x2, scale_pairs[i][0], scale_pairs[i][1], buf);
    }
    snprintf(buf, sizeof buf, "%s, sizes 7x5 -> 13x11", what);
    check_sizes(nb, &x, 13, 11, buf);
    snprintf(buf, sizeof buf, "%s, sizes 7x5 -> 3x4", what);
    check_sizes(nb, &x, 3, 4, buf);
    snprintf(buf, sizeof buf, "%s, sizes 8x6 -> 8x1", what);
    check_sizes(nb, &x2, 8, 1, buf);
    snprintf(buf, sizeof buf, "%s, sizes 8x6 -> 1x9", what);
    check_sizes(nb, &x2, 1, 9, buf);
    tta_tensor_destroy(&x);
    tta_tensor_destroy(&x2);
}

/* ---- fast vs generic */

TEST(resize_fast_nearest_matches_generic) {
    for (size_t c = 0; c < sizeof coords / sizeof coords[0]; c++)
        for (size_t m = 0; m < sizeof nearest_modes / sizeof nearest_modes[0]; m++) {
            node_builder nb;
            nb_init(&nb, "Resize", 13, 4, 1);
            nb_str(&nb, "mode", "nearest");
            nb_str(&nb, "coordinate_transformation_mode", coords[c]);
            nb_str(&nb, "nearest_mode", nearest_modes[m]);
            char what[120];
            snprintf(what, sizeof what, "nearest %s %s", coords[c], nearest_modes[m]);
            check_all_shapes(&nb, what);
        }
    /* tf_half_pixel_for_nn (up to opset 17) maps a scale-1 axis to itself only when rounding
     * down: with ceil / round_prefer_ceil N and C are not identity axes (see layouts_declines) */
    for (size_t m = 0; m < sizeof nearest_modes / sizeof nearest_modes[0]; m += 2) {
        node_builder nb;
        nb_init(&nb, "Resize", 13, 4, 1);
        nb_str(&nb, "coordinate_transformation_mode", "tf_half_pixel_for_nn");
        nb_str(&nb, "nearest_mode", nearest_modes[m]);
        check_all_shapes(&nb, "nearest tf_half_pixel_for_nn");
    }
}

TEST(resize_fast_linear_matches_generic) {
    for (size_t c = 0; c < sizeof coords / sizeof coords[0]; c++) {
        node_builder nb;
        nb_init(&nb, "Resize", 13, 4, 1);
        nb_str(&nb, "mode", "linear");
        nb_str(&nb, "coordinate_transformation_mode", coords[c]);
        char what[120];
        snprintf(what, sizeof what, "linear %s", coords[c]);
        check_all_shapes(&nb, what);
    }
    node_builder nb;
    nb_init(&nb, "Resize", 13, 4, 1);
    nb_str(&nb, "mode", "linear");
    nb_int(&nb, "exclude_outside", 1);
    check_all_shapes(&nb, "linear half_pixel exclude_outside");
    nb_init(&nb, "Resize", 19, 4, 1);
    nb_str(&nb, "mode", "linear");
    nb_str(&nb, "coordinate_transformation_mode", "half_pixel_symmetric");
    check_all_shapes(&nb, "linear half_pixel_symmetric");
    nb_init(&nb, "Resize", 18, 4, 1);
    nb_str(&nb, "mode", "linear");
    nb_int(&nb, "antialias", 1); /* antialias changes nothing when upscaling */
    tta_tensor x = rand_f32(2, 3, 5, 6);
    check_scales(&nb, &x, 2, 1.5f, "linear antialias upscale");
    tta_tensor_destroy(&x);
}

TEST(resize_fast_legacy_and_opset18_forms) {
    tta_tensor x = rand_f32(3, 2, 7, 5);
    char what[120];
    static const char *const modes[] = {"nearest", "linear"};
    for (int m = 0; m < 2; m++) {
        for (size_t i = 0; i < sizeof scale_pairs / sizeof scale_pairs[0]; i++) {
            tta_tensor sc = vec_f32(4, (float[]){1, 1, scale_pairs[i][0], scale_pairs[i][1]});
            tta_tensor *in[2] = {&x, &sc};
            node_builder nb;
            nb_init(&nb, "Resize", 10, 2, 1);
            nb_str(&nb, "mode", modes[m]);
            snprintf(what, sizeof what, "Resize-10 %s %g x %g", modes[m], scale_pairs[i][0], scale_pairs[i][1]);
            check_fast(&nb.node, in, 2, what);
            nb_init(&nb, "Upsample", 9, 2, 1);
            nb_str(&nb, "mode", modes[m]);
            snprintf(what, sizeof what, "Upsample-9 %s %g x %g", modes[m], scale_pairs[i][0], scale_pairs[i][1]);
            check_fast(&nb.node, in, 2, what);
            nb_init(&nb, "Upsample", 7, 1, 1);
            nb_str(&nb, "mode", modes[m]);
            nb_floats(&nb, "scales", 4, (float[]){1, 1, scale_pairs[i][0], scale_pairs[i][1]});
            snprintf(what, sizeof what, "Upsample-7 %s %g x %g", modes[m], scale_pairs[i][0], scale_pairs[i][1]);
            check_fast(&nb.node, in, 1, what);
            tta_tensor_destroy(&sc);
        }
        /* opset 18: axes (2, 3) with two scales; sizes with keep_aspect_ratio_policy */
        node_builder nb;
        nb_init(&nb, "Resize", 18, 4, 1);
        nb_str(&nb, "mode", modes[m]);
        nb_ints(&nb, "axes", 2, (int64_t[]){2, 3});
        tta_tensor sc = vec_f32(2, (float[]){1.5f, 0.75f});
        tta_tensor *in3[3] = {&x, NULL, &sc};
        snprintf(what, sizeof what, "Resize-18 axes %s", modes[m]);
        check_fast(&nb.node, in3, 3, what);
        tta_tensor_destroy(&sc);
        static const char *const policies[] = {"not_larger", "not_smaller"};
        for (int p = 0; p < 2; p++) {
            nb_init(&nb, "Resize", 18, 4, 1);
            nb_str(&nb, "mode", modes[m]);
            nb_ints(&nb, "axes", 2, (int64_t[]){2, 3});
            nb_str(&nb, "keep_aspect_ratio_policy", policies[p]);
            tta_tensor sz = vec_i64(2, (int64_t[]){10, 13});
            tta_tensor *in4[4] = {&x, NULL, NULL, &sz};
            snprintf(what, sizeof what, "Resize-18 %s %s", policies[p], modes[m]);
            check_fast(&nb.node, in4, 4, what);
            tta_tensor_destroy(&sz);
        }
    }
    tta_tensor_destroy(&x);
}

TEST(resize_fast_known_values) {
    /* the ONNX example: 2x2 -> 4x4 bilinear, half_pixel */
    float xv[4] = {1, 2, 3, 4};
    static const float want[16] = {1,   1.25f, 1.75f, 2,    1.5f, 1.75f, 2.25f, 2.5f,
                                   2.5f, 2.75f, 3.25f, 3.5f, 3,    3.25f, 3.75f, 4};
    tta_tensor x = {.dtype = TTA_DTYPE_FLOAT32, .ndim = 4, .dims = {1, 1, 2, 2}, .data = xv};
    tta_tensor sc = vec_f32(4, (float[]){1, 1, 2, 2}), y = {0};
    tta_tensor *in[3] = {&x, NULL, &sc};
    node_builder nb;
    nb_init(&nb, "Resize", 13, 3, 1);
    nb_str(&nb, "mode", "linear");
    runner r;
    CHECK_EQ_INT(runner_init(&r, &nb.node, in, 3, &y, 1), TTA_OK);
    CHECK_EQ_INT(runner_run(&r, false), TTA_OK);
    CHECK(r.k->layouts(&r.ctx) != 0);
    for (int i = 0; i < 16 && y.data; i++) CHECK_NEAR(((float *)y.data)[i], want[i], 1e-6);
    runner_release(&r);
    tta_tensor_destroy(&sc);
    tta_tensor_destroy(&y);
}

TEST(resize_fast_shape_changes_between_runs) {
    /* one state, three input shapes: the cached tables must follow */
    static const char *const modes[] = {"nearest", "linear"};
    for (int m = 0; m < 2; m++) {
        node_builder nb;
        nb_init(&nb, "Resize", 13, 3, 1);
        nb_str(&nb, "mode", modes[m]);
        tta_tensor sc = vec_f32(4, (float[]){1, 1, 1.5f, 2});
        tta_tensor xs[3] = {rand_f32(1, 2, 7, 5), rand_f32(2, 1, 9, 6), rand_f32(1, 2, 7, 5)};
        tta_tensor got = {0}, ref = {0};
        runner rf, rg;
        tta_tensor *in[3] = {&xs[0], NULL, &sc};
        CHECK_EQ_INT(runner_init(&rf, &nb.node, in, 3, &got, 2), TTA_OK);
        CHECK_EQ_INT(runner_init(&rg, &nb.node, in, 3, &ref, 1), TTA_OK);
        for (int i = 0; i < 3; i++) {
            rf.in[0] = rg.in[0] = &xs[i];
            CHECK_EQ_INT(runner_run(&rf, false), TTA_OK);
            CHECK_EQ_INT(runner_run(&rg, true), TTA_OK);
            CHECK_EQ_INT(compare(&got, &ref, modes[m]), 0);
        }
        runner_release(&rf);
        runner_release(&rg);
        for (int i = 0; i < 3; i++) tta_tensor_destroy(&xs[i]);
        tta_tensor_destroy(&sc);
        tta_tensor_destroy(&got);
        tta_tensor_destroy(&ref);
    }
}

/* ---- blocked layout */

/* Runs node with scales on x plain and blocked (converted here) and compares bit for bit. */
static void check_blocked(const tta_node *node, tta_tensor *x, const float *scales, int threads, const char *what) {
    int64_t B = tta_layout_block();
    tta_tensor sc = vec_f32(4, scales);
    tta_tensor plain = {0}, blocked = {0}, xb = {0}, back = {0};
    tta_tensor_resize(&xb, TTA_DTYPE_FLOAT32, 4, x->dims);
    to_blocked(x->data, xb.data, x->dims, B);
    tta_tensor *in[3] = {x, NULL, &sc}, *inb[3] = {&xb, NULL, &sc};
    runner rp, rb;
    CHECK_EQ_INT(runner_init(&rp, node, in, 3, &plain, threads), TTA_OK);
    CHECK_EQ_INT(runner_run(&rp, false), TTA_OK);
    CHECK_EQ_INT(runner_init(&rb, node, inb, 3, &blocked, threads), TTA_OK);
    CHECK_EQ_INT(rb.k->infer(&rb.ctx), TTA_OK);
    CHECK_EQ_INT(rb.k->layouts(&rb.ctx), TTA_LAYOUT_IN(0) | TTA_LAYOUT_OUT_FOLLOW);
    static const unsigned char in_layout[3] = {TTA_LAYOUT_BLOCKED, 0, 0}, out_layout[1] = {TTA_LAYOUT_BLOCKED};
    rb.ctx.in_layout = in_layout;
    rb.ctx.out_layout = out_layout;
    for (int run = 0; run < 2; run++) CHECK_EQ_INT(runner_run(&rb, false), TTA_OK);
    if (plain.data && blocked.data) {
        tta_tensor_resize(&back, TTA_DTYPE_FLOAT32, 4, blocked.dims);
        from_blocked(blocked.data, back.data, blocked.dims, B);
        int bad = memcmp(back.data, plain.data, tta_tensor_nbytes(&plain)) != 0;
        if (bad) fprintf(stderr, "  %s: blocked result differs from plain\n", what);
        CHECK_EQ_INT(bad, 0);
    }
    runner_release(&rp);
    runner_release(&rb);
    tta_tensor_destroy(&sc);
    tta_tensor_destroy(&plain);
    tta_tensor_destroy(&blocked);
    tta_tensor_destroy(&xb);
    tta_tensor_destroy(&back);
}

TEST(resize_fast_blocked_matches_plain) {
    int64_t B = tta_layout_block();
    CHECK(B == 8 || B == 16);
    tta_tensor x = rand_f32(3, 2 * B, 7, 5), x1 = rand_f32(1, B, 6, 9);
    char what[160];
    for (int m = 0; m < 2; m++)
        for (size_t c = 0; c < sizeof coords / sizeof coords[0]; c++)
            for (size_t i = 0; i < sizeof scale_pairs / sizeof scale_pairs[0]; i++) {
                node_builder nb;
                nb_init(&nb, "Resize", 13, 3, 1);
                nb_str(&nb, "mode", m ? "linear" : "nearest");
                nb_str(&nb, "coordinate_transformation_mode", coords[c]);
                float sc[4] = {1, 1, scale_pairs[i][0], scale_pairs[i][1]};
                snprintf(what, sizeof what, "blocked %s %s %g x %g", m ? "linear" : "nearest", coords[c], sc[2], sc[3]);
                check_blocked(&nb.node, &x, sc, 2, what);
                /* one plane: the work is split in bands of rows */
                check_blocked(&nb.node, &x1, sc, 2, what);
            }
    tta_tensor_destroy(&x);
    tta_tensor_destroy(&x1);
}

/* ---- layouts(): no for what the fast path does not take */

static unsigned layouts_of(const tta_node *node, tta_tensor *const *in, int n_in, bool unknown_out) {
    tta_tensor y = {0};
    runner r;
    unsigned caps = 99;
    if (runner_init(&r, node, in, n_in, &y, 1) == TTA_OK) {
        tta_status s = r.k->infer(&r.ctx);
        if (unknown_out) CHECK_EQ_INT(s, TTA_DEFER);
        else CHECK_EQ_INT(s, TTA_OK);
        caps = r.k->layouts(&r.ctx);
    }
    runner_release(&r);
    tta_tensor_destroy(&y);
    return caps;
}

TEST(resize_fast_layouts_declines) {
    tta_tensor x = rand_f32(2, 8, 6, 6);
    tta_tensor up = vec_f32(4, (float[]){1, 1, 2, 2}), cscale = vec_f32(4, (float[]){1, 2, 2, 2}),
               down = vec_f32(4, (float[]){1, 1, 0.5f, 0.5f});
    tta_tensor roi = vec_f32(8, (float[]){0, 0, 0.2f, 0.2f, 1, 1, 0.8f, 0.8f});
    node_builder nb;
    tta_tensor *in[3] = {&x, NULL, &up};

    nb_init(&nb, "Resize", 13, 3, 1);
    nb_str(&nb, "mode", "linear");
    CHECK_EQ_INT(layouts_of(&nb.node, in, 3, false), TTA_LAYOUT_IN(0) | TTA_LAYOUT_OUT_FOLLOW);

    nb_init(&nb, "Resize", 13, 3, 1);
    nb_str(&nb, "mode", "cubic");
    CHECK_EQ_INT(layouts_of(&nb.node, in, 3, false), 0);

    nb_init(&nb, "Resize", 13, 3, 1);
    nb_str(&nb, "mode", "linear");
    in[2] = &cscale; /* C scaled */
    CHECK_EQ_INT(layouts_of(&nb.node, in, 3, false), 0);

    nb_init(&nb, "Resize", 18, 3, 1); /* antialiased downscale has more than 2 taps */
    nb_str(&nb, "mode", "linear");
    nb_int(&nb, "antialias", 1);
    in[2] = &down;
    CHECK_EQ_INT(layouts_of(&nb.node, in, 3, false), 0);

    nb_init(&nb, "Resize", 13, 3, 1);
    nb_str(&nb, "mode", "linear");
    nb_str(&nb, "coordinate_transformation_mode", "tf_crop_and_resize");
    in[1] = &roi;
    in[2] = &up;
    CHECK_EQ_INT(layouts_of(&nb.node, in, 3, false), 0);
    in[1] = NULL;

    /* tf_half_pixel_for_nn with round_prefer_ceil shifts even a scale-1 axis: N and C are not
     * identity axes, so the generic kernel must do it */
    nb_init(&nb, "Resize", 13, 3, 1);
    nb_str(&nb, "coordinate_transformation_mode", "tf_half_pixel_for_nn");
    nb_str(&nb, "nearest_mode", "round_prefer_ceil");
    CHECK_EQ_INT(layouts_of(&nb.node, in, 3, false), 0);

    /* scales not known at plan time: the output shape is unknown */
    nb_init(&nb, "Resize", 13, 3, 1);
    nb_str(&nb, "mode", "linear");
    tta_tensor nodata = {.dtype = TTA_DTYPE_FLOAT32, .ndim = 1, .dims = {4}};
    in[2] = &nodata;
    CHECK_EQ_INT(layouts_of(&nb.node, in, 3, true), 0);

    /* float64 and rank 3 */
    tta_tensor xd = {0}, x3 = {0};
    tta_tensor_resize(&xd, TTA_DTYPE_FLOAT64, 4, x.dims);
    memset(xd.data, 0, tta_tensor_nbytes(&xd));
    in[0] = &xd;
    in[2] = &up;
    CHECK_EQ_INT(layouts_of(&nb.node, in, 3, false), 0);
    tta_tensor_resize(&x3, TTA_DTYPE_FLOAT32, 3, (int64_t[]){2, 6, 6});
    tta_tensor sc3 = vec_f32(3, (float[]){1, 2, 2});
    in[0] = &x3;
    in[2] = &sc3;
    CHECK_EQ_INT(layouts_of(&nb.node, in, 3, false), 0);

    tta_tensor *all[] = {&x, &up, &cscale, &down, &roi, &xd, &x3, &sc3};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) tta_tensor_destroy(all[i]);
}

TEST(resize_fast_generic_still_used_elsewhere) {
    /* cubic and a C-scaling linear resize run through compute (the generic kernel) */
    tta_tensor x = rand_f32(2, 3, 5, 4), sc = vec_f32(4, (float[]){1, 2, 1.5f, 2}), y = {0}, ref = {0};
    tta_tensor *in[3] = {&x, NULL, &sc};
    static const char *const modes[] = {"cubic", "linear"};
    for (int m = 0; m < 2; m++) {
        node_builder nb;
        nb_init(&nb, "Resize", 13, 3, 1);
        nb_str(&nb, "mode", modes[m]);
        runner r, rg;
        CHECK_EQ_INT(runner_init(&r, &nb.node, in, 3, &y, 2), TTA_OK);
        CHECK_EQ_INT(runner_run(&r, false), TTA_OK);
        CHECK_EQ_INT(runner_init(&rg, &nb.node, in, 3, &ref, 1), TTA_OK);
        CHECK_EQ_INT(runner_run(&rg, true), TTA_OK);
        CHECK_EQ_INT(y.dims[1], 6);
        CHECK_EQ_INT(compare(&y, &ref, modes[m]), 0);
        runner_release(&r);
        runner_release(&rg);
    }
    tta_tensor_destroy(&x);
    tta_tensor_destroy(&sc);
    tta_tensor_destroy(&y);
    tta_tensor_destroy(&ref);
}

/* ---- timing (informative) */

static double now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static double time_runs(runner *r, bool generic, int reps) {
    runner_run(r, generic);
    double best = 1e30;
    for (int i = 0; i < reps; i++) {
        double t0 = now_ms();
        runner_run(r, generic);
        double t = now_ms() - t0;
        if (t < best) best = t;
    }
    return best;
}

TEST(resize_fast_timing) {
    /* the segmenter's largest Resize: 64 x 16 x 32 x 32 -> 64 x 64, bilinear half_pixel */
    int64_t B = tta_layout_block();
    static const char *const modes[] = {"linear", "nearest"};
    for (int m = 0; m < 2; m++) {
        tta_tensor x = rand_f32(64, 16, 32, 32), sc = vec_f32(4, (float[]){1, 1, 2, 2}), y = {0}, yb = {0};
        tta_tensor *in[3] = {&x, NULL, &sc};
        node_builder nb;
        nb_init(&nb, "Resize", 13, 3, 1);
        nb_str(&nb, "mode", modes[m]);
        runner r, rb;
        runner_init(&r, &nb.node, in, 3, &y, 2);
        runner_init(&rb, &nb.node, in, 3, &yb, 2);
        static const unsigned char lay[3] = {TTA_LAYOUT_BLOCKED, 0, 0};
        rb.ctx.in_layout = rb.ctx.out_layout = lay;
        double tg = time_runs(&r, true, 3), tf = time_runs(&r, false, 5), tb = time_runs(&rb, false, 5);
        fprintf(stderr, "  resize %s 64x16x32x32 x2, 2 threads: generic %.2f ms, fast %.2f ms, fast blocked(%lld) %.2f ms\n",
                modes[m], tg, tf, (long long)B, tb);
        runner_release(&r);
        runner_release(&rb);
        tta_tensor_destroy(&x);
        tta_tensor_destroy(&sc);
        tta_tensor_destroy(&y);
        tta_tensor_destroy(&yb);
    }
}
