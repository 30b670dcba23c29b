/* test_winograd.c - the Winograd 3x3 convolution (src/runtime/ops/conv_winograd.c) against a
 * direct convolution written plainly here (double accumulation), on pseudo-random inputs in
 * [-1, 1] and weights in [-1, 1] (fixed seed), with |got - ref| <= 1e-4 * (1 + |ref|).
 * Cases: channels 8..96, odd and even sizes, pads 0 / 1 / asymmetric, batch 1 and 3, with and
 * without bias, each activation, with Z (also Z aliasing Y), block 8 and 16, more threads than
 * chunks, each for F(2x2,3x3), F(4x4,3x3) and the automatic choice; reruns; the worth rule; bad
 * parameters are refused; the same convolutions through oneDNN agree. With TTA_TEST_TIMING=1 a
 * timing table (batch 64, 2 threads, median of 5) of both tile sizes against oneDNN's direct
 * convolution is printed to stderr. */
#include <omp.h>
#include <stdint.h>
#include <time.h>

#include <oneapi/dnnl/dnnl.h>

#include "core/cpu.h"
#include "runtime/op.h"
#include "runtime/ops/conv_winograd.h"
#include "test.h"
#include "tta/tensor.h"

static uint32_t rng_state = 7321u;
static float frand(void) {
    rng_state = rng_state * 1664525u + 1013904223u;
    return (float)((rng_state >> 8) & 0xffff) / 32768.0f - 1.0f;
}
static float *rand_buf(int64_t n, float scale) {
    float *b = malloc((size_t)n * sizeof(float));
    for (int64_t i = 0; i < n; i++)
        b[i] = frand() * scale;
    return b;
}

/* plain [n][c][h][w] <-> blocked [n][c/B][h][w][B] */
static float *to_blocked(const float *x, int64_t n, int64_t c, int64_t hw, int64_t B, int blocked) {
    float *y = malloc((size_t)(n * c * hw) * sizeof(float));
    for (int64_t i = 0; i < n; i++)
        for (int64_t k = 0; k < c; k++)
            for (int64_t s = 0; s < hw; s++) {
                int64_t plain = (i * c + k) * hw + s, blk = ((i * (c / B) + k / B) * hw + s) * B + k % B;
                if (blocked)
                    y[blk] = x[plain];
                else
                    y[plain] = x[blk];
            }
    return y;
}

static double act_ref(tta_wino_act act, double v, double a, double b) {
    switch (act) {
    case TTA_WINO_RELU: return v > 0 ? v : 0;
    case TTA_WINO_LEAKYRELU: return v >= 0 ? v : a * v;
    case TTA_WINO_CLIP: return v < a ? a : v > b ? b : v;
    case TTA_WINO_SIGMOID: return 1.0 / (1.0 + exp(-v));
    case TTA_WINO_TANH: return tanh(v);
    case TTA_WINO_HARDSIGMOID: {
        double h = a * v + b;
        return h < 0 ? 0 : h > 1 ? 1 : h;
    }
    case TTA_WINO_HARDSWISH: {
        double h = v / 6 + 0.5;
        return v * (h < 0 ? 0 : h > 1 ? 1 : h);
    }
    case TTA_WINO_SWISH: return v / (1.0 + exp(-v));
    default: return v;
    }
}

/* The oracle: plain NCHW direct convolution, 3x3, stride 1, then bias, z and act. */
static void conv_ref(const tta_wino_params *p, const float *x, const float *w, const float *bias,
                     const float *z, double *y) {
    int64_t oh = p->h + p->pad_t + p->pad_b - 2, ow = p->w + p->pad_l + p->pad_r - 2;
    for (int64_t n = 0; n < p->n; n++)
        for (int64_t o = 0; o < p->oc; o++)
            for (int64_t yy = 0; yy < oh; yy++)
                for (int64_t xx = 0; xx < ow; xx++) {
                    double s = bias ? bias[o] : 0;
                    for (int64_t c = 0; c < p->ic; c++)
                        for (int ky = 0; ky < 3; ky++)
                            for (int kx = 0; kx < 3; kx++) {
                                int64_t iy = yy + ky - p->pad_t, ix = xx + kx - p->pad_l;
                                if (iy < 0 || iy >= p->h || ix < 0 || ix >= p->w) continue;
                                s += (double)x[((n * p->ic + c) * p->h + iy) * p->w + ix] *
                                     w[((o * p->ic + c) * 3 + ky) * 3 + kx];
                            }
                    int64_t at = ((n * p->oc + o) * oh + yy) * ow + xx;
                    if (z) s += z[at];
                    y[at] = act_ref(p->act, s, p->act_a, p->act_b);
                }
}

typedef struct wcase {
    const char *what;
    int64_t n, ic, oc, h, w, pt, pl, pb, pr;
    bool bias, z, alias;
    tta_wino_act act;
    float a, b;
    int threads, block;
} wcase;

/* Runs one case with the given output tile (2, 4 or 0 = automatic); returns the worst
 * |got - ref| / (1 + |ref|). */
static double run_case(const wcase *wc, int tile, int block) {
    tta_wino_params p = {wc->n,  wc->ic,  wc->oc, wc->h, wc->w,       wc->pt, wc->pl, wc->pb,
                         wc->pr, wc->act, wc->a,  wc->b, wc->threads, block,  tile};
    int64_t B = block;
    int64_t oh = p.h + p.pad_t + p.pad_b - 2, ow = p.w + p.pad_l + p.pad_r - 2;
    int64_t nx = p.n * p.ic * p.h * p.w, ny = p.n * p.oc * oh * ow;
    float *x = rand_buf(nx, 1.0f), *w = rand_buf(p.oc * p.ic * 9, 1.0f), *bias = rand_buf(p.oc, 1.0f);
    float *z = wc->z ? rand_buf(ny, 1.0f) : NULL;
    double *ref = malloc((size_t)ny * sizeof(double));
    conv_ref(&p, x, w, wc->bias ? bias : NULL, z, ref);
    float *xb = to_blocked(x, p.n, p.ic, p.h * p.w, B, 1);
    float *zb = z ? to_blocked(z, p.n, p.oc, oh * ow, B, 1) : NULL;
    float *yb = wc->alias ? zb : malloc((size_t)ny * sizeof(float));
    if (!wc->alias)
        for (int64_t i = 0; i < ny; i++)
            yb[i] = NAN; /* every element must be written */
    tta_wino *wg = NULL;
    double worst = INFINITY;
    tta_status st = tta_wino_create(&p, w, &wg);
    if (st == TTA_OK) st = tta_wino_run(wg, xb, wc->bias ? bias : NULL, wc->alias ? yb : zb, yb);
    if (st != TTA_OK) fprintf(stderr, "  %s (tile %d, block %d): %s\n", wc->what, tile, block, tta_last_error());
    CHECK_EQ_INT(st, TTA_OK);
    if (st == TTA_OK) {
        float *y = to_blocked(yb, p.n, p.oc, oh * ow, B, 0);
        int bad = 0;
        worst = 0;
        for (int64_t i = 0; i < ny; i++) {
            double e = fabs(y[i] - ref[i]) / (1.0 + fabs(ref[i]));
            if (!(e <= 1e-4) && bad++ < 3)
                fprintf(stderr, "  %s (tile %d, block %d): element %lld is %.9g, direct conv gives %.9g\n",
                        wc->what, tile, block, (long long)i, y[i], ref[i]);
            if (!(e <= worst)) worst = e;
        }
        CHECK_EQ_INT(bad, 0);
        free(y);
    }
    tta_wino_free(wg);
    free(x);
    free(w);
    free(bias);
    free(z);
    free(ref);
    free(xb);
    free(zb);
    if (!wc->alias) free(yb);
    return worst;
}

static const wcase cases[] = {
    {"8->8 7x7 pad 1 bias", 1, 8, 8, 7, 7, 1, 1, 1, 1, true, false, false, TTA_WINO_NONE, 0, 0, 2, 0},
    {"16->24 9x9 pad 0", 1, 16, 24, 9, 9, 0, 0, 0, 0, false, false, false, TTA_WINO_NONE, 0, 0, 2, 0},
    {"24->24 14x14 batch 3 relu", 3, 24, 24, 14, 14, 1, 1, 1, 1, true, false, false, TTA_WINO_RELU, 0, 0, 2,
     0},
    {"32->40 13x13 asym pads", 1, 32, 40, 13, 13, 0, 1, 2, 0, true, false, false, TTA_WINO_NONE, 0, 0, 2, 0},
    {"48->56 13x9 pads 2,0,1,2", 3, 48, 56, 13, 9, 2, 0, 1, 2, true, false, false, TTA_WINO_NONE, 0, 0, 2, 0},
    {"64->64 28x28 batch 3 z", 3, 64, 64, 28, 28, 1, 1, 1, 1, true, true, false, TTA_WINO_RELU, 0, 0, 2, 0},
    {"96->96 7x7 batch 3", 3, 96, 96, 7, 7, 1, 1, 1, 1, true, false, false, TTA_WINO_NONE, 0, 0, 2, 0},
    {"96->8 14x14", 1, 96, 8, 14, 14, 1, 1, 1, 1, false, false, false, TTA_WINO_NONE, 0, 0, 2, 0},
    {"8->96 9x7 pad 1,0,0,1", 1, 8, 96, 9, 7, 1, 0, 0, 1, true, false, false, TTA_WINO_NONE, 0, 0, 2, 0},
    {"z aliasing y, 3 threads", 3, 24, 32, 14, 13, 1, 1, 1, 1, true, true, true, TTA_WINO_NONE, 0, 0, 3, 0},
    {"1 thread, 1x1 output", 1, 16, 16, 3, 3, 0, 0, 0, 0, true, false, false, TTA_WINO_NONE, 0, 0, 1, 0},
    {"leakyrelu", 1, 16, 16, 9, 9, 1, 1, 1, 1, true, false, false, TTA_WINO_LEAKYRELU, 0.1f, 0, 2, 0},
    {"clip", 1, 16, 16, 9, 9, 1, 1, 1, 1, true, false, false, TTA_WINO_CLIP, -1.5f, 2.0f, 2, 0},
    {"sigmoid", 1, 16, 16, 9, 9, 1, 1, 1, 1, true, false, false, TTA_WINO_SIGMOID, 0, 0, 2, 0},
    {"tanh", 1, 16, 16, 9, 9, 1, 1, 1, 1, true, true, false, TTA_WINO_TANH, 0, 0, 2, 0},
    {"hardsigmoid", 1, 16, 16, 9, 9, 1, 1, 1, 1, true, false, false, TTA_WINO_HARDSIGMOID, 0.2f, 0.5f, 2, 0},
    {"hardswish", 1, 16, 16, 9, 9, 1, 1, 1, 1, true, false, false, TTA_WINO_HARDSWISH, 0, 0, 2, 0},
    {"swish", 1, 16, 16, 9, 9, 1, 1, 1, 1, true, true, false, TTA_WINO_SWISH, 0, 0, 2, 0},
    {"block 16: 32->48 13x14", 3, 32, 48, 13, 14, 1, 1, 1, 1, true, true, false, TTA_WINO_RELU, 0, 0, 2, 16},
    {"block 16: 16->16 7x7 pad 0,1,1,0", 1, 16, 16, 7, 7, 0, 1, 1, 0, false, false, false, TTA_WINO_NONE, 0,
     0, 2, 16},
};

/* Every case at each block its channels allow (a case's own block when it names one), whatever
 * this machine's block is: the 8- and 16-channel paths are tested on every CPU. */
TEST(winograd_matches_direct) {
    static const int tiles[] = {2, 4, 0};
    if (tta_cpu_isa() < TTA_ISA_AVX2) {
        fprintf(stderr, "  no AVX2+FMA here (or TTA_MAX_ISA caps it): Winograd must refuse, and does\n");
        tta_wino *wg = NULL;
        float wt[8 * 8 * 9] = {0};
        CHECK_EQ_INT(tta_wino_create(&(tta_wino_params){1, 8, 8, 7, 7, 1, 1, 1, 1, TTA_WINO_NONE, 0, 0, 1, 8, 0}, wt, &wg),
                     TTA_ERR_UNSUPPORTED);
        CHECK(wg == NULL);
        return;
    }
    for (int k = 0; k < 3; k++) {
        double worst = 0;
        int runs = 0;
        for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
            for (int block = 8; block <= 16; block += 8) {
                const wcase *c = &cases[i];
                if ((c->block && c->block != block) || c->ic % block || c->oc % block) continue;
                double e = run_case(c, tiles[k], block);
                runs++;
                if (e > worst) worst = e;
            }
        fprintf(stderr, "  winograd tile %d: %d runs, worst |got - ref| / (1 + |ref|) = %.3g\n", tiles[k], runs,
                worst);
    }
}

TEST(winograd_refuses_bad_params) {
    float wt[8 * 8 * 9] = {0};
    tta_wino *wg = (tta_wino *)&wg;
    tta_wino_params ok = {1, 8, 8, 7, 7, 1, 1, 1, 1, TTA_WINO_NONE, 0, 0, 2, 8, 0};
    tta_wino_params p = ok;
    p.ic = 12; /* not a multiple of the block */
    CHECK_EQ_INT(tta_wino_create(&p, wt, &wg), TTA_ERR_INVALID_ARG);
    CHECK(wg == NULL);
    CHECK(!tta_wino_worth(&p));
    p = ok;
    p.h = 1; /* with no pads the output would have -1 rows */
    p.pad_t = p.pad_b = 0;
    CHECK_EQ_INT(tta_wino_create(&p, wt, &wg), TTA_ERR_INVALID_ARG);
    p = ok;
    p.block = 4;
    CHECK_EQ_INT(tta_wino_create(&p, wt, &wg), TTA_ERR_INVALID_ARG);
    p = ok;
    p.tile = 3;
    CHECK_EQ_INT(tta_wino_create(&p, wt, &wg), TTA_ERR_INVALID_ARG);
    p = ok;
    p.n_threads = 0;
    CHECK_EQ_INT(tta_wino_create(&p, wt, &wg), TTA_ERR_INVALID_ARG);
    CHECK_EQ_INT(tta_wino_create(&ok, wt, &wg), tta_cpu_isa() >= TTA_ISA_AVX2 ? TTA_OK : TTA_ERR_UNSUPPORTED);
    CHECK_EQ_INT(tta_wino_run(wg, NULL, NULL, NULL, NULL), TTA_ERR_INVALID_ARG);
    tta_wino_free(wg);
    tta_wino_free(NULL);
}

TEST(winograd_worth_and_reruns) {
    const bool avx2 = tta_cpu_isa() >= TTA_ISA_AVX2; /* else Winograd is never worth it */
    tta_wino_params p = {64, 32, 32, 28, 28, 1, 1, 1, 1, TTA_WINO_RELU, 0, 0, 2, 0, 0};
    CHECK(tta_wino_worth(&p) == avx2);
    p.h = p.w = 1; /* a 1x1 output: the direct conv is faster */
    CHECK(!tta_wino_worth(&p));
    p.h = p.w = 2;
    CHECK(tta_wino_worth(&p) == avx2);
    p.ic = 20; /* not a multiple of the block */
    CHECK(!tta_wino_worth(&p));
    p.ic = 32;
    p.h = p.w = 28;
    p.n = 1; /* 28x28 at batch 1: 49 tiles of 4x4, enough for 2 threads (16 each) but not for 4 */
    CHECK(tta_wino_worth(&p) == avx2);
    p.n_threads = 4;
    CHECK(!tta_wino_worth(&p));
    if (!avx2) return;

    /* one object, run twice on new data, gives the same as a fresh one */
    tta_wino_params q = {2, 16, 24, 11, 10, 1, 1, 1, 1, TTA_WINO_NONE, 0, 0, 2, 8, 0};
    int64_t nx = 2 * 16 * 11 * 10, ny = 2 * 24 * 11 * 10;
    float *x1 = rand_buf(nx, 1.0f), *x2 = rand_buf(nx, 1.0f), *w = rand_buf(24 * 16 * 9, 1.0f);
    float *y1 = malloc((size_t)ny * sizeof(float)), *y2 = malloc((size_t)ny * sizeof(float));
    tta_wino *a = NULL, *b = NULL;
    CHECK(tta_wino_create(&q, w, &a) == TTA_OK && tta_wino_create(&q, w, &b) == TTA_OK);
    if (a && b) {
        CHECK(tta_wino_run(a, x1, NULL, NULL, y1) == TTA_OK);
        CHECK(tta_wino_run(a, x2, NULL, NULL, y1) == TTA_OK);
        CHECK(tta_wino_run(b, x2, NULL, NULL, y2) == TTA_OK);
        CHECK(memcmp(y1, y2, (size_t)ny * sizeof(float)) == 0);
    }
    tta_wino_free(a);
    tta_wino_free(b);
    free(x1);
    free(x2);
    free(w);
    free(y1);
    free(y2);
}

/* ---- timing: Winograd vs oneDNN's direct convolution on nChw8c (bias, no activation) */

static double now_ms(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1e3 + t.tv_nsec * 1e-6;
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

#define TIMING_RUNS 5

/* Median (and *min) ms of oneDNN's conv on blocked src/dst, or -1 when it cannot be built. */
static double time_dnnl(int64_t n, int64_t ic, int64_t oc, int64_t h, int block, const float *x, const float *w,
                        const float *b, float *y, const char **impl, double *min) {
    dnnl_engine_t eng;
    dnnl_stream_t strm;
    if (dnnl_engine_create(&eng, dnnl_cpu, 0) != dnnl_success) return -1;
    dnnl_stream_create(&strm, eng, dnnl_stream_default_flags);
    dnnl_format_tag_t tag = block == 16 ? dnnl_nChw16c : dnnl_nChw8c;
    dnnl_dims_t sd = {n, ic, h, h}, dd = {n, oc, h, h}, wd = {oc, ic, 3, 3}, bd = {oc}, st = {1, 1},
                pad = {1, 1}, dil = {0, 0};
    dnnl_memory_desc_t smd, dmd, wmd, wany, bmd;
    dnnl_memory_desc_init_by_tag(&smd, 4, sd, dnnl_f32, tag);
    dnnl_memory_desc_init_by_tag(&dmd, 4, dd, dnnl_f32, tag);
    dnnl_memory_desc_init_by_tag(&wmd, 4, wd, dnnl_f32, dnnl_oihw);
    dnnl_memory_desc_init_by_tag(&wany, 4, wd, dnnl_f32, dnnl_format_tag_any);
    dnnl_memory_desc_init_by_tag(&bmd, 1, bd, dnnl_f32, dnnl_x);
    dnnl_convolution_desc_t cd;
    dnnl_dilated_convolution_forward_desc_init(&cd, dnnl_forward_inference, dnnl_convolution_direct, &smd,
                                               &wany, &bmd, &dmd, st, dil, pad, pad);
    dnnl_primitive_desc_t pd;
    double med = -1;
    if (dnnl_primitive_desc_create(&pd, &cd, NULL, eng, NULL) == dnnl_success) {
        dnnl_primitive_desc_query(pd, dnnl_query_impl_info_str, 0, impl);
        dnnl_primitive_t prim;
        dnnl_primitive_create(&prim, pd);
        const dnnl_memory_desc_t *pw = dnnl_primitive_desc_query_md(pd, dnnl_query_weights_md, 0);
        dnnl_memory_t ms, md, mw, mwu, mb;
        dnnl_memory_create(&ms, &smd, eng, (void *)x);
        dnnl_memory_create(&md, &dmd, eng, y);
        dnnl_memory_create(&mwu, &wmd, eng, (void *)w);
        dnnl_memory_create(&mw, pw, eng, DNNL_MEMORY_ALLOCATE);
        dnnl_memory_create(&mb, &bmd, eng, (void *)b);
        dnnl_primitive_desc_t rpd;
        dnnl_primitive_t reo;
        dnnl_reorder_primitive_desc_create(&rpd, &wmd, eng, pw, eng, NULL);
        dnnl_primitive_create(&reo, rpd);
        dnnl_exec_arg_t ra[2] = {{DNNL_ARG_FROM, mwu}, {DNNL_ARG_TO, mw}};
        dnnl_primitive_execute(reo, strm, 2, ra);
        dnnl_stream_wait(strm);
        dnnl_exec_arg_t a[4] = {
            {DNNL_ARG_SRC, ms}, {DNNL_ARG_WEIGHTS, mw}, {DNNL_ARG_BIAS, mb}, {DNNL_ARG_DST, md}};
        double t[TIMING_RUNS];
        for (int r = -2; r < TIMING_RUNS; r++) {
            double t0 = now_ms();
            dnnl_primitive_execute(prim, strm, 4, a);
            dnnl_stream_wait(strm);
            if (r >= 0) t[r] = now_ms() - t0;
        }
        qsort(t, TIMING_RUNS, sizeof t[0], cmp_double);
        med = t[TIMING_RUNS / 2];
        *min = t[0];
        dnnl_primitive_destroy(reo);
        dnnl_primitive_desc_destroy(rpd);
        dnnl_memory_destroy(ms);
        dnnl_memory_destroy(md);
        dnnl_memory_destroy(mw);
        dnnl_memory_destroy(mwu);
        dnnl_memory_destroy(mb);
        dnnl_primitive_destroy(prim);
        dnnl_primitive_desc_destroy(pd);
    }
    dnnl_stream_destroy(strm);
    dnnl_engine_destroy(eng);
    return med;
}

/* Median (and *min) ms of the Winograd conv. */
static double time_wino(const tta_wino_params *p, const float *x, const float *w, const float *b, float *y,
                        double *min) {
    tta_wino *wg;
    if (tta_wino_create(p, w, &wg) != TTA_OK) return -1;
    double t[TIMING_RUNS];
    for (int r = -2; r < TIMING_RUNS; r++) {
        double t0 = now_ms();
        tta_wino_run(wg, x, b, NULL, y);
        if (r >= 0) t[r] = now_ms() - t0;
    }
    tta_wino_free(wg);
    qsort(t, TIMING_RUNS, sizeof t[0], cmp_double);
    *min = t[0];
    return t[TIMING_RUNS / 2];
}

/* Winograd against oneDNN's direct convolution on the same blocked tensors, for the shapes of the
 * timing table (batch 2). With TTA_TEST_TIMING=1 the table itself (batch 64, 2 threads, median
 * of 5) is printed to stderr: the measurements behind tta_wino_worth, not a test. */
TEST(winograd_vs_onednn) {
    /* ic, oc, h = w (pad 1): the 3x3 convs of fashion_resnet first, then a few for the rule */
    static const int64_t shapes[][3] = {{24, 24, 28}, {32, 32, 28}, {48, 48, 14},  {64, 64, 14}, {96, 96, 7},
                                        {8, 8, 28},   {8, 128, 14}, {128, 128, 7}, {64, 64, 1}};
    const char *tm = getenv("TTA_TEST_TIMING");
    const bool timing = tm && *tm && strcmp(tm, "0");
    const int64_t n = timing ? 64 : 2;
    if (tta_cpu_isa() < TTA_ISA_AVX2) return; /* no Winograd here: winograd_matches_direct checked the refusal */
    int saved = omp_get_max_threads();
    omp_set_num_threads(2);
    if (timing) {
        fprintf(stderr,
                "  3x3 conv, pad 1, batch 64, 2 threads, ms: median of %d (min); speedup = oneDNN / auto "
                "(medians):\n",
                TIMING_RUNS);
        fprintf(stderr, "  %-16s %5s %8s %8s %17s %17s %7s  %s\n", "ic->oc @ hxw", "block", "F(2x2)", "F(4x4)",
                "auto", "oneDNN", "speedup", "worth");
    }
    for (size_t i = 0; i < sizeof shapes / sizeof shapes[0]; i++) {
        int64_t ic = shapes[i][0], oc = shapes[i][1], h = shapes[i][2];
        /* the machine's block where the channels fill it, else 8 */
        int block = ic % tta_layout_block() || oc % tta_layout_block() ? 8 : tta_layout_block();
        float *x = rand_buf(n * ic * h * h, 1.0f), *w = rand_buf(oc * ic * 9, 0.3f), *b = rand_buf(oc, 1.0f);
        float *y = malloc((size_t)(n * oc * h * h) * sizeof(float)),
              *yd = malloc((size_t)(n * oc * h * h) * sizeof(float));
        tta_wino_params p = {n, ic, oc, h, h, 1, 1, 1, 1, TTA_WINO_NONE, 0, 0, 2, block, 2};
        const char *impl = "?";
        double m2 = 0, m4 = 0, ma = 0, md = 0, t2 = 0, t4 = 0;
        if (timing) {
            t2 = time_wino(&p, x, w, b, y, &m2);
            p.tile = 4;
            t4 = time_wino(&p, x, w, b, y, &m4);
        }
        p.tile = 0;
        double ta = time_wino(&p, x, w, b, y, &ma), td = time_dnnl(n, ic, oc, h, block, x, w, b, yd, &impl, &md);
        CHECK(ta >= 0 && td >= 0);
        if (timing) {
            char name[40];
            snprintf(name, sizeof name, "%lld->%lld @%lldx%lld", (long long)ic, (long long)oc, (long long)h,
                     (long long)h);
            fprintf(stderr, "  %-16s %5d %8.3f %8.3f %8.3f (%6.3f) %8.3f (%6.3f) %7.2f  %s (oneDNN %s)\n", name,
                    block, t2, t4, ta, ma, td, md, td > 0 ? td / ta : 0.0, tta_wino_worth(&p) ? "yes" : "no", impl);
        }
        /* the two results agree */
        double worst = 0;
        for (int64_t k = 0; ta >= 0 && td >= 0 && k < n * oc * h * h; k++) {
            double e = fabs(y[k] - yd[k]) / (1.0 + fabs(yd[k]));
            if (!(e <= worst)) worst = e;
        }
        CHECK(worst <= 1e-4);
        free(x);
        free(w);
        free(b);
        free(y);
        free(yd);
    }
    omp_set_num_threads(saved);
}
