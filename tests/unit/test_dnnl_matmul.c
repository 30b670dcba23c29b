/* test_dnnl_matmul.c - the oneDNN MatMul kernel (dnnl_matmul.c) on every rank against the plain C
 * MatMul (numpy.matmul semantics): each case runs a node through tta_kernel_find() (which must
 * pick the dnnl kernel) and through the C kernel taken from tta_kernels_nn, on the same
 * pseudo-random inputs (fixed seed), and compares with |got - ref| <= 1e-4 * (1 + |ref|).
 * Covers batched x batched, batched x matrix and back, broadcast batch dims on either side,
 * 1-D operands (promoted, and the scalar result of 1-D x 1-D), batch 1, shapes that change
 * between runs of one kernel instance, the float64 fallback and a mismatched inner dimension.
 * Setting TTA_MATMUL_TIMING=1 prints dnnl vs C timings of a few shapes (median of 11 rounds). */
#include <stdint.h>
#include <stdlib.h>
#include <time.h>

#include "runtime/op.h"
#include "test.h"
#include "test_nodes.h"

TTA_KERNEL_LIST(tta_kernels_nn)

static const tta_kernel *c_matmul(void) {
    for (int i = 0; i < tta_kernels_nn_count; i++)
        if (!strcmp(tta_kernels_nn[i].op_type, "MatMul")) return &tta_kernels_nn[i];
    return NULL;
}

static const tta_kernel *dnnl_matmul(const tta_node *node) {
    const tta_kernel *k = tta_kernel_find(node);
    CHECK(k != NULL && !strcmp(k->backend, "dnnl"));
    return k;
}

/* infer -> size output -> compute, on an already prepared context. */
static tta_status run_once(const tta_kernel *k, tta_op_ctx *ctx) {
    tta_status st = k->infer(ctx);
    if (st == TTA_OK) {
        tta_tensor *y = ctx->out[0];
        int64_t dims[TTA_MAX_DIMS];
        memcpy(dims, y->dims, sizeof dims);
        st = tta_tensor_resize(y, y->dtype, y->ndim, dims);
    }
    return st == TTA_OK ? k->compute(ctx) : st;
}


/* The C kernel's result for a and b in a fresh context. */
static tta_status c_ref(const tta_node *node, tta_tensor *a, tta_tensor *b, tta_tensor *ref) {
    const tta_kernel *ck = c_matmul();
    if (!ck) return TTA_ERR_INTERNAL;
    tta_tensor *in[] = {a, b}, *out[] = {ref};
    tta_op_ctx ctx = {node, 2, 1, in, out, NULL, 2};
    tta_status st = ck->prepare ? ck->prepare(&ctx) : TTA_OK;
    if (st == TTA_OK) st = run_once(ck, &ctx);
    if (ck->release) ck->release(&ctx);
    return st;
}

typedef struct shape {
    int ndim;
    int64_t dims[6];
} shape;
#define SH(...) {(int)(sizeof((int64_t[]){__VA_ARGS__}) / sizeof(int64_t)), {__VA_ARGS__}}

/* Runs each (a, b) pair in turn through one dnnl kernel instance (twice each, so the cached
 * primitive is reused and rebuilt when the shapes change) and compares with the C kernel. */
static void compare_seq(const char *what, tta_dtype dt, int n, const shape *as, const shape *bs) {
    node_builder nb;
    nb_init(&nb, "MatMul", 13, 2, 1);
    const tta_kernel *k = dnnl_matmul(&nb.node);
    if (!k) return;
    tta_tensor A = {0}, B = {0}, Y = {0};
    tta_tensor *in[] = {&A, &B}, *out[] = {&Y};
    tta_op_ctx ctx = {&nb.node, 2, 1, in, out, NULL, 2};
    tta_status st = k->prepare ? k->prepare(&ctx) : TTA_OK;
    CHECK_EQ_INT(st, TTA_OK);
    for (int i = 0; st == TTA_OK && i < n; i++) {
        A = rand_tensor(dt, as[i].ndim, as[i].dims);
        B = rand_tensor(dt, bs[i].ndim, bs[i].dims);
        for (int r = 0; r < 2; r++) {
            tta_status s1 = run_once(k, &ctx);
            tta_tensor ref = {0};
            tta_status s2 = c_ref(&nb.node, &A, &B, &ref);
            if (s1 || s2) fprintf(stderr, "  %s #%d: dnnl %d, C %d: %s\n", what, i, s1, s2, tta_last_error());
            CHECK_EQ_INT(s1, TTA_OK);
            CHECK_EQ_INT(s2, TTA_OK);
            if (!s1 && !s2) check_close(&Y, &ref, what);
            tta_tensor_destroy(&ref);
        }
        tta_tensor_destroy(&A);
        tta_tensor_destroy(&B);
    }
    if (k->release) k->release(&ctx);
    tta_tensor_destroy(&Y);
}

static void compare1(const char *what, shape a, shape b) { compare_seq(what, TTA_DTYPE_FLOAT32, 1, &a, &b); }

/* Shapes below 4096 multiply-adds are delegated to the C kernel (dnnl_matmul.c, use_c_for); the
 * others run on oneDNN. Both kinds are here. */
TEST(dnnl_matmul_batched) {
    compare1("3-D x 3-D", (shape)SH(4, 17, 19), (shape)SH(4, 19, 15));
    compare1("3-D x 3-D, odd", (shape)SH(3, 17, 33), (shape)SH(3, 33, 19));
    compare1("3-D x 3-D, small", (shape)SH(4, 7, 9), (shape)SH(4, 9, 5));
    compare1("3-D x 2-D", (shape)SH(8, 6, 12), (shape)SH(12, 10));
    compare1("2-D x 3-D", (shape)SH(6, 12), (shape)SH(5, 12, 20));
    compare1("4-D x 2-D", (shape)SH(2, 3, 14, 15), (shape)SH(15, 16));
    compare1("4-D x 2-D, small", (shape)SH(2, 3, 4, 5), (shape)SH(5, 6));
    compare1("5-D x 5-D", (shape)SH(2, 1, 3, 8, 9), (shape)SH(1, 2, 3, 9, 10));
    compare1("batch 1, 3-D x 3-D", (shape)SH(1, 17, 19), (shape)SH(1, 19, 15));
    compare1("batch 1, 3-D x 2-D", (shape)SH(1, 20, 30), (shape)SH(30, 10));
    compare1("batch 1, 3-D x 2-D, tiny", (shape)SH(1, 1, 10), (shape)SH(10, 1));
    compare1("batch 1 x batch 3", (shape)SH(1, 14, 16), (shape)SH(3, 16, 12));
}

TEST(dnnl_matmul_broadcast) {
    compare1("[2,1,14,15] x [1,3,15,16]", (shape)SH(2, 1, 14, 15), (shape)SH(1, 3, 15, 16));
    compare1("[2,1,4,5] x [1,3,5,6]", (shape)SH(2, 1, 4, 5), (shape)SH(1, 3, 5, 6));
    compare1("[3,14,15] x [2,1,15,16]", (shape)SH(3, 14, 15), (shape)SH(2, 1, 15, 16));
    compare1("[3,4,5] x [2,1,5,6]", (shape)SH(3, 4, 5), (shape)SH(2, 1, 5, 6));
    compare1("[2,3,14,15] x [3,15,16]", (shape)SH(2, 3, 14, 15), (shape)SH(3, 15, 16));
    compare1("[1,3,14,15] x [2,1,15,16]", (shape)SH(1, 3, 14, 15), (shape)SH(2, 1, 15, 16));
    compare1("[2,3,14,15] x [2,1,15,16]", (shape)SH(2, 3, 14, 15), (shape)SH(2, 1, 15, 16));
    compare1("[2,1,14,15] x [2,3,15,16]", (shape)SH(2, 1, 14, 15), (shape)SH(2, 3, 15, 16));
}

TEST(dnnl_matmul_vectors) {
    compare1("1-D x 2-D", (shape)SH(64), (shape)SH(64, 96));
    compare1("1-D x 2-D, small", (shape)SH(7), (shape)SH(7, 4));
    compare1("1-D x 3-D", (shape)SH(64), (shape)SH(3, 64, 32));
    compare1("1-D x 4-D", (shape)SH(40), (shape)SH(2, 3, 40, 30));
    compare1("1-D x 4-D, small", (shape)SH(5), (shape)SH(2, 3, 5, 6));
    compare1("2-D x 1-D", (shape)SH(96, 64), (shape)SH(64));
    compare1("3-D x 1-D", (shape)SH(3, 40, 50), (shape)SH(50));
    compare1("4-D x 1-D", (shape)SH(2, 3, 40, 30), (shape)SH(30));
    compare1("4-D x 1-D, small", (shape)SH(2, 3, 4, 5), (shape)SH(5));
    compare1("1-D x 1-D", (shape)SH(5000), (shape)SH(5000));
    compare1("1-D x 1-D, small", (shape)SH(9), (shape)SH(9));
    compare1("1-D x 1-D, K 1", (shape)SH(1), (shape)SH(1));
}

TEST(dnnl_matmul_shape_changes) {
    shape as[] = {SH(4, 17, 19), SH(4, 17, 19), SH(2, 25, 19), SH(64),     SH(26, 18),
                  SH(2, 1, 4, 5), SH(2, 1, 14, 15), SH(3, 60, 80), SH(4, 17, 19)};
    shape bs[] = {SH(4, 19, 15), SH(19, 15), SH(2, 19, 13), SH(2, 64, 33), SH(18, 13),
                  SH(1, 3, 5, 6), SH(1, 3, 15, 16), SH(80),        SH(4, 19, 15)};
    compare_seq("shape changes", TTA_DTYPE_FLOAT32, (int)(sizeof as / sizeof as[0]), as, bs);
}

TEST(dnnl_matmul_float64_fallback) {
    shape as[] = {SH(3, 4, 6), SH(6), SH(2, 1, 4, 5)};
    shape bs[] = {SH(3, 6, 5), SH(3, 6, 2), SH(1, 3, 5, 6)};
    compare_seq("float64", TTA_DTYPE_FLOAT64, (int)(sizeof as / sizeof as[0]), as, bs);
}

TEST(dnnl_matmul_mismatched_k) {
    node_builder nb;
    nb_init(&nb, "MatMul", 13, 2, 1);
    const tta_kernel *k = dnnl_matmul(&nb.node);
    if (!k) return;
    struct {
        shape a, b;
    } bad[] = {{SH(2, 3, 4), SH(2, 5, 6)}, {SH(3, 4), SH(2, 5, 6)}, {SH(4), SH(5)}, {SH(2, 3, 4), SH(3, 4, 6)}};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        tta_tensor A = rand_tensor(TTA_DTYPE_FLOAT32, bad[i].a.ndim, bad[i].a.dims);
        tta_tensor B = rand_tensor(TTA_DTYPE_FLOAT32, bad[i].b.ndim, bad[i].b.dims);
        tta_tensor Y = {0};
        tta_tensor *in[] = {&A, &B}, *out[] = {&Y};
        tta_op_ctx ctx = {&nb.node, 2, 1, in, out, NULL, 2};
        tta_status st = k->prepare ? k->prepare(&ctx) : TTA_OK;
        CHECK_EQ_INT(st, TTA_OK);
        if (st == TTA_OK) CHECK_EQ_INT(k->infer(&ctx), TTA_ERR_SHAPE);
        if (k->release) k->release(&ctx);
        tta_tensor_destroy(&A);
        tta_tensor_destroy(&B);
        tta_tensor_destroy(&Y);
    }
}

/* ---- timing (only with TTA_MATMUL_TIMING set; printed, never asserted) */

static double now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static int cmp_double(const void *x, const void *y) {
    double a = *(const double *)x, b = *(const double *)y;
    return (a > b) - (a < b);
}

/* Median over `reps` rounds of the time per compute of `inner` computes, for the dnnl kernel
 * (t[0]) and the C kernel (t[1]) alternately, so both see the same load on a shared machine. */
static void median_ms(const tta_kernel *const *k, const tta_node *node, tta_tensor *a, tta_tensor *b, int reps,
                      int inner, double *t) {
    tta_tensor Y[2] = {{0}, {0}};
    tta_tensor *in[] = {a, b}, *out[2][1] = {{&Y[0]}, {&Y[1]}};
    tta_op_ctx ctx[2] = {{node, 2, 1, in, out[0], NULL, 2}, {node, 2, 1, in, out[1], NULL, 2}};
    double times[2][15] = {{0}};
    bool ok = true;
    for (int j = 0; j < 2; j++)
        ok = ok && (!k[j]->prepare || k[j]->prepare(&ctx[j]) == TTA_OK) && run_once(k[j], &ctx[j]) == TTA_OK;
    for (int r = 0; ok && r < reps; r++)
        for (int j = 0; j < 2; j++) {
            double t0 = now_ms();
            for (int i = 0; i < inner; i++) k[j]->compute(&ctx[j]);
            times[j][r] = (now_ms() - t0) / inner;
        }
    for (int j = 0; j < 2; j++) {
        if (k[j]->release) k[j]->release(&ctx[j]);
        tta_tensor_destroy(&Y[j]);
        qsort(times[j], (size_t)reps, sizeof times[j][0], cmp_double);
        t[j] = times[j][reps / 2];
    }
}

TEST(dnnl_matmul_timing) {
    if (!getenv("TTA_MATMUL_TIMING")) return;
    struct {
        shape a, b;
        int inner;
    } cases[] = {{SH(8, 64, 128), SH(128, 64), 50},   {SH(64, 49, 96), SH(96, 96), 20},
                 {SH(64, 49, 96), SH(64, 96, 49), 20}, {SH(8, 64, 128), SH(8, 128, 64), 50},
                 {SH(2, 3, 4, 5), SH(5, 6), 2000},    {SH(2, 1, 4, 5), SH(1, 3, 5, 6), 2000},
                 {SH(1, 1, 10), SH(10, 1), 5000},      {SH(64), SH(4, 64, 64), 2000},
                 {SH(3, 4, 5), SH(3, 5, 6), 2000},      {SH(4, 8, 16), SH(4, 16, 8), 2000},
                 {SH(4, 1, 8, 16), SH(1, 4, 16, 8), 2000}, {SH(8, 32, 32), SH(8, 32, 32), 500},
                 {SH(16, 16, 32), SH(16, 32, 16), 500}};
    node_builder nb;
    nb_init(&nb, "MatMul", 13, 2, 1);
    const tta_kernel *k[2] = {dnnl_matmul(&nb.node), c_matmul()};
    if (!k[0] || !k[1]) return;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        tta_tensor A = rand_tensor(TTA_DTYPE_FLOAT32, cases[i].a.ndim, cases[i].a.dims);
        tta_tensor B = rand_tensor(TTA_DTYPE_FLOAT32, cases[i].b.ndim, cases[i].b.dims);
        double t[2];
        median_ms(k, &nb.node, &A, &B, 11, cases[i].inner, t);
        char sa[64], sb[64];
        fprintf(stderr, "  MatMul %s x %s: dnnl %.4f ms, C %.4f ms\n", tta_shape_str(&A, sa, sizeof sa),
                tta_shape_str(&B, sb, sizeof sb), t[0], t[1]);
        tta_tensor_destroy(&A);
        tta_tensor_destroy(&B);
    }
}

/* ---- Gemm of a few rows by a constant B: nn_gemv.c's panel GEMV (M <= 8, K*N >= 4096) */

static const tta_kernel *c_gemm(void) {
    for (int i = 0; i < tta_kernels_nn_count; i++)
        if (!strcmp(tta_kernels_nn[i].op_type, "Gemm")) return &tta_kernels_nn[i];
    return NULL;
}

/* Gemm through the dnnl entry (B known at prepare, so constant) and through the C kernel; rows
 * M = 1..9 (9 is past the GEMV), transB both ways, N not a multiple of the 64-column panel, with
 * a row bias C (alpha 1) or alpha 0.5 without C; three runs each (the third with new A), so the
 * packed B is reused. make test runs it under each TTA_MAX_ISA level (the GEMV's three builds). */
TEST(dnnl_gemm_few_rows) {
    const tta_kernel *ck = c_gemm();
    CHECK(ck != NULL);
    for (int m = 1; m <= 9; m += 2)
        for (int tb = 0; tb < 2; tb++)
            for (int bias = 0; bias < 2; bias++) {
                const int64_t K = 200, N = 70;
                node_builder nb;
                nb_init(&nb, "Gemm", 13, bias ? 3 : 2, 1);
                nb_int(&nb, "transB", tb);
                if (!bias) nb_float(&nb, "alpha", 0.5f);
                tta_tensor A = RAND(TTA_DTYPE_FLOAT32, m, K);
                tta_tensor B = tb ? RAND(TTA_DTYPE_FLOAT32, N, K) : RAND(TTA_DTYPE_FLOAT32, K, N);
                tta_tensor C = RAND(TTA_DTYPE_FLOAT32, N), Y = {0}, R = {0};
                tta_tensor *in[] = {&A, &B, &C}, *out[] = {&Y}, *rout[] = {&R};
                const tta_kernel *k = dnnl_matmul(&nb.node);
                tta_op_ctx ctx = {&nb.node, bias ? 3 : 2, 1, in, out, NULL, 2};
                tta_op_ctx rctx = {&nb.node, bias ? 3 : 2, 1, in, rout, NULL, 2};
                tta_status st = k && k->prepare ? k->prepare(&ctx) : TTA_OK;
                tta_status rs = ck && ck->prepare ? ck->prepare(&rctx) : TTA_OK;
                char what[64];
                snprintf(what, sizeof what, "Gemm M=%d transB=%d %s", m, tb, bias ? "bias" : "alpha 0.5");
                for (int r = 0; k && ck && !st && !rs && r < 3; r++) {
                    if (r == 2)
                        for (int64_t i = 0; i < tta_tensor_numel(&A); i++) ((float *)A.data)[i] *= -1.5f;
                    st = run_once(k, &ctx);
                    rs = run_once(ck, &rctx);
                    CHECK_EQ_INT(st, TTA_OK);
                    CHECK_EQ_INT(rs, TTA_OK);
                    if (!st && !rs) check_close(&Y, &R, what);
                }
                if (k && k->release) k->release(&ctx);
                if (ck && ck->release) ck->release(&rctx);
                tta_tensor *all[] = {&A, &B, &C, &Y, &R};
                for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) tta_tensor_destroy(all[i]);
            }
}
