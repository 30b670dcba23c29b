/* nn_gemm.c - the family's matrix multiply: a cache-blocked sgemm (used by Conv, ConvTranspose,
 * Gemm and MatMul) and the Gemm and MatMul kernels.
 *
 * sgemm follows the usual GotoBLAS shape: for each KC-deep slice of K, op(B) is packed into
 * NR-wide column strips and op(A) into MR-tall row strips, then an MR x NR register-tile micro
 * kernel sweeps the tiles. Threads share the packing and split the output tiles, and every
 * C element is summed in the same order whatever the thread count, so results are
 * deterministic. The micro kernel is built twice (AVX2+FMA and baseline) and picked at load
 * time where the compiler supports it.
 */
#include <string.h>

#include "core/alloc.h"
#include "core/cpu.h"
#include "runtime/ops/nn.h"

#define MR 6
#define NR 16
#define KC 256
#define NC 1024
#define MC 96 /* rows of A packed at a time (multiple of MR) */

typedef float v8f __attribute__((vector_size(32)));

#if defined(__GNUC__) && defined(__x86_64__)
#define TTA_HAVE_AVX2_KERNEL 1
#endif
#if defined(__GNUC__) && !defined(__clang__)
#define TTA_FP_CONTRACT __attribute__((optimize("fp-contract=fast")))
#else
#define TTA_FP_CONTRACT
#endif

typedef void (*micro_fn)(int64_t kc, const float *restrict a, const float *restrict b, float *restrict c,
                         int64_t ldc, int mr, int nr, float alpha, float beta);

/* c[0..mr, 0..nr] = alpha * (a_strip x b_strip) + beta * c  (beta == 0: c not read).
 * Twelve named 8-wide accumulators so they stay in registers (6 rows x 16 columns). */
#define MK_ROW(r)                                                                                            \
    do {                                                                                                     \
        float s_ = a[r];                                                                                     \
        v8f av_ = {s_, s_, s_, s_, s_, s_, s_, s_};                                                          \
        c##r##0 += av_ * b0;                                                                                 \
        c##r##1 += av_ * b1;                                                                                 \
    } while (0)

static inline __attribute__((always_inline)) TTA_FP_CONTRACT void
micro_body(int64_t kc, const float *restrict a, const float *restrict b, float *restrict c, int64_t ldc,
           int mr, int nr, float alpha, float beta) {
    v8f c00 = {0}, c01 = {0}, c10 = {0}, c11 = {0}, c20 = {0}, c21 = {0};
    v8f c30 = {0}, c31 = {0}, c40 = {0}, c41 = {0}, c50 = {0}, c51 = {0};
    for (int64_t p = 0; p < kc; p++) {
        v8f b0, b1;
        memcpy(&b0, b, sizeof b0);
        memcpy(&b1, b + 8, sizeof b1);
        MK_ROW(0);
        MK_ROW(1);
        MK_ROW(2);
        MK_ROW(3);
        MK_ROW(4);
        MK_ROW(5);
        a += MR;
        b += NR;
    }
    v8f tile[MR][2] = {{c00, c01}, {c10, c11}, {c20, c21}, {c30, c31}, {c40, c41}, {c50, c51}};
    const float *t = (const float *)tile;
    for (int r = 0; r < mr; r++) {
        float *cr = c + r * ldc;
        const float *tr = t + r * NR;
        if (beta == 0.0f)
            for (int j = 0; j < nr; j++)
                cr[j] = alpha * tr[j];
        else
            for (int j = 0; j < nr; j++)
                cr[j] = alpha * tr[j] + beta * cr[j];
    }
}

/* The same body compiled for AVX2+FMA and for the baseline ISA, picked at run time. */
#ifdef TTA_HAVE_AVX2_KERNEL
__attribute__((target("avx2,fma"))) TTA_FP_CONTRACT static void
micro_avx2(int64_t kc, const float *restrict a, const float *restrict b, float *restrict c, int64_t ldc,
           int mr, int nr, float alpha, float beta) {
    micro_body(kc, a, b, c, ldc, mr, nr, alpha, beta);
}
#endif
TTA_FP_CONTRACT static void micro_generic(int64_t kc, const float *restrict a, const float *restrict b,
                                          float *restrict c, int64_t ldc, int mr, int nr, float alpha,
                                          float beta) {
    micro_body(kc, a, b, c, ldc, mr, nr, alpha, beta);
}

static micro_fn pick_micro(void) {
#ifdef TTA_HAVE_AVX2_KERNEL
    if (tta_cpu_isa() >= TTA_ISA_AVX2) return micro_avx2; /* AVX2 and FMA, unless TTA_MAX_ISA caps it */
#endif
    return micro_generic;
}

/* Packs rows [i0, i0+mc) x cols [p0, p0+kc) of op(A) into MR-tall strips, zero-padded. */
static void pack_a_strip(bool trans, const float *A, int64_t lda, int64_t i0, int64_t mr, int64_t p0,
                         int64_t kc, float *dst) {
    for (int64_t p = 0; p < kc; p++) {
        for (int64_t r = 0; r < mr; r++)
            dst[p * MR + r] = trans ? A[(p0 + p) * lda + i0 + r] : A[(i0 + r) * lda + p0 + p];
        for (int64_t r = mr; r < MR; r++)
            dst[p * MR + r] = 0.0f;
    }
}

static void pack_b_strip(bool trans, const float *B, int64_t ldb, int64_t p0, int64_t kc, int64_t j0,
                         int64_t nr, float *dst) {
    if (!trans && nr == NR) {
        for (int64_t p = 0; p < kc; p++)
            memcpy(dst + p * NR, B + (p0 + p) * ldb + j0, NR * sizeof(float));
        return;
    }
    for (int64_t p = 0; p < kc; p++) {
        for (int64_t j = 0; j < nr; j++)
            dst[p * NR + j] = trans ? B[(j0 + j) * ldb + p0 + p] : B[(p0 + p) * ldb + j0 + j];
        for (int64_t j = nr; j < NR; j++)
            dst[p * NR + j] = 0.0f;
    }
}

static int64_t round_up(int64_t x, int64_t m) { return (x + m - 1) / m * m; }

/* Scratch of one thread: an MC x KC panel of A and a KC x NC panel of B. */
static size_t thread_work_floats(int64_t N, int64_t K) {
    int64_t kc = K < KC ? K : KC, nc = N < NC ? N : NC;
    if (kc < 1) kc = 1;
    return (size_t)((MC + round_up(nc, NR)) * kc) + 16;
}

size_t tta_sgemm_work_floats(int64_t M, int64_t N, int64_t K, int n_threads) {
    (void)M;
    return thread_work_floats(N, K) * (size_t)(n_threads > 1 ? n_threads : 1);
}

/* One thread's GEMM on its own slice of C, with its own packing buffers. */
static void sgemm_serial(micro_fn micro, bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K,
                         float alpha, const float *A, int64_t lda, const float *B, int64_t ldb, float beta,
                         float *C, int64_t ldc, float *work) {
    int64_t kc_max = K < KC ? K : KC;
    float *pa = work, *pb = work + MC * kc_max;
    for (int64_t jc = 0; jc < N; jc += NC) {
        int64_t nc = N - jc < NC ? N - jc : NC;
        for (int64_t pc = 0; pc < K; pc += KC) {
            int64_t kc = K - pc < KC ? K - pc : KC;
            float beta_eff = pc == 0 ? beta : 1.0f;
            for (int64_t j = 0; j < nc; j += NR) {
                int64_t nr = nc - j < NR ? nc - j : NR;
                pack_b_strip(trans_b, B, ldb, pc, kc, jc + j, nr, pb + (j / NR) * NR * kc);
            }
            for (int64_t ic = 0; ic < M; ic += MC) {
                int64_t mc = M - ic < MC ? M - ic : MC;
                for (int64_t i = 0; i < mc; i += MR) {
                    int64_t mr = mc - i < MR ? mc - i : MR;
                    pack_a_strip(trans_a, A, lda, ic + i, mr, pc, kc, pa + (i / MR) * MR * kc);
                }
                for (int64_t j = 0; j < nc; j += NR) {
                    int nr = (int)(nc - j < NR ? nc - j : NR);
                    const float *bs = pb + (j / NR) * NR * kc;
                    for (int64_t i = 0; i < mc; i += MR) {
                        int mr = (int)(mc - i < MR ? mc - i : MR);
                        micro(kc, pa + (i / MR) * MR * kc, bs, C + (ic + i) * ldc + jc + j, ldc, mr, nr,
                              alpha, beta_eff);
                    }
                }
            }
        }
    }
}

tta_status tta_sgemm(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, float alpha, const float *A,
                     int64_t lda, const float *B, int64_t ldb, float beta, float *C, int64_t ldc, float *work,
                     int n_threads) {
    if (M <= 0 || N <= 0) return TTA_OK;
    if (K <= 0) {
        for (int64_t i = 0; i < M; i++)
            for (int64_t j = 0; j < N; j++)
                C[i * ldc + j] = beta == 0.0f ? 0.0f : beta * C[i * ldc + j];
        return TTA_OK;
    }
    /* Threads split C into column slices (or row slices when C is narrow); each runs a whole
     * serial GEMM on its slice, so there is one parallel region and no barrier inside. Every
     * element is summed in the same order whatever the split. */
    int nt = n_threads > 1 ? n_threads : 1;
    if ((double)M * (double)N * (double)K < 262144.0) nt = 1;
    bool by_cols = N >= (int64_t)nt * 4 * NR;
    int64_t span = by_cols ? N : M, unit = by_cols ? NR : MR;
    if (span < (int64_t)nt * unit) nt = (int)(span / unit > 1 ? span / unit : 1);
    int64_t slice = round_up((span + nt - 1) / nt, unit);
    float *owned = NULL;
    if (!work) {
        owned = tta_malloc(tta_sgemm_work_floats(M, N, K, nt) * sizeof(float));
        if (!owned)
            return tta_errorf(TTA_ERR_NOMEM, "sgemm: out of memory for %lldx%lldx%lld", (long long)M,
                              (long long)N, (long long)K);
        work = owned;
    }
    micro_fn micro = pick_micro();
    size_t per = thread_work_floats(by_cols ? slice : N, K);
#pragma omp parallel for num_threads(nt) if (nt > 1) schedule(static, 1)
    for (int t = 0; t < nt; t++) {
        int64_t s0 = t * slice, s1 = s0 + slice < span ? s0 + slice : span;
        if (s0 >= s1) continue;
        float *w = work + (size_t)t * per;
        if (by_cols) {
            const float *bt = trans_b ? B + s0 * ldb : B + s0;
            sgemm_serial(micro, trans_a, trans_b, M, s1 - s0, K, alpha, A, lda, bt, ldb, beta, C + s0, ldc,
                         w);
        } else {
            const float *at = trans_a ? A + s0 : A + s0 * lda;
            sgemm_serial(micro, trans_a, trans_b, s1 - s0, N, K, alpha, at, lda, B, ldb, beta, C + s0 * ldc,
                         ldc, w);
        }
    }
    tta_free(owned);
    return TTA_OK;
}

tta_status tta_nn_scratch_get(const tta_op_ctx *ctx, tta_nn_scratch *s, size_t bytes, const char *what, void **out) {
    *out = s->ptr;
    if (bytes == 0) bytes = 1;
    if (s->bytes >= bytes) return TTA_OK;
    size_t held = s->bytes;
    TTA_TRY(tta_op_reserve(ctx, &held, bytes, what));
    void *p = tta_realloc(s->ptr, bytes);
    if (!p) {
        tta_op_reserve(ctx, &held, s->bytes, what); /* gives back what was reserved (cannot fail) */
        return tta_op_error(ctx, TTA_ERR_NOMEM, "out of memory for %s (%zu bytes)", what, bytes);
    }
    *out = s->ptr = p;
    s->bytes = bytes;
    return TTA_OK;
}

void tta_nn_scratch_free(tta_nn_scratch *s) {
    tta_free(s->ptr);
    s->ptr = NULL;
    s->bytes = 0;
}

/* ---- Gemm and MatMul */

typedef struct gemm_state {
    tta_nn_scratch work;
    int trans_a, trans_b;
    float alpha, beta;
} gemm_state;

static tta_status new_gemm_state(tta_op_ctx *ctx, gemm_state **out) {
    gemm_state *st = tta_calloc(1, sizeof *st);
    if (!st) return tta_op_error(ctx, TTA_ERR_NOMEM, "out of memory");
    ctx->state = st;
    *out = st;
    return TTA_OK;
}

void tta_nn_gemm_release(tta_op_ctx *ctx) {
    gemm_state *st = ctx->state;
    if (!st) return;
    tta_nn_scratch_free(&st->work);
    tta_free(st);
    ctx->state = NULL;
}

static tta_status gemm_work(const tta_op_ctx *ctx, gemm_state *st, int64_t M, int64_t N, int64_t K, int n_threads,
                            float **out) {
    return tta_nn_scratch_get(ctx, &st->work, tta_sgemm_work_floats(M, N, K, n_threads) * sizeof(float),
                              "the matrix product's packing buffer", (void **)out);
}

tta_status tta_nn_gemm_prepare(tta_op_ctx *ctx) {
    gemm_state *st = NULL;
    TTA_TRY(new_gemm_state(ctx, &st));
    st->trans_a = tta_attr_int(ctx->node, "transA", 0) != 0;
    st->trans_b = tta_attr_int(ctx->node, "transB", 0) != 0;
    st->alpha = tta_attr_float(ctx->node, "alpha", 1.0f);
    st->beta = tta_attr_float(ctx->node, "beta", 1.0f);
    return TTA_OK;
}

static bool gemm_dtype_ok(tta_dtype d) { return d == TTA_DTYPE_FLOAT32 || d == TTA_DTYPE_FLOAT64; }

tta_status tta_nn_gemm_infer(tta_op_ctx *ctx) {
    gemm_state *st = ctx->state;
    TTA_NEED_INPUT(ctx, 0);
    TTA_NEED_INPUT(ctx, 1);
    const tta_tensor *a = ctx->in[0], *b = ctx->in[1], *c = ctx->n_in > 2 ? ctx->in[2] : NULL;
    if (!gemm_dtype_ok(a->dtype))
        return tta_op_error(ctx, TTA_ERR_UNSUPPORTED, "dtype %s is not supported (float32, float64)",
                            tta_dtype_name(a->dtype));
    if (b->dtype != a->dtype || (c && c->dtype != a->dtype))
        return tta_op_error(ctx, TTA_ERR_SHAPE, "inputs have different dtypes");
    if (a->ndim != 2 || b->ndim != 2) {
        char sa[64], sb[64];
        return tta_op_error(ctx, TTA_ERR_SHAPE, "A %s and B %s must be 2-D", tta_shape_str(a, sa, sizeof sa),
                            tta_shape_str(b, sb, sizeof sb));
    }
    int64_t M = st->trans_a ? a->dims[1] : a->dims[0], K = st->trans_a ? a->dims[0] : a->dims[1];
    int64_t K2 = st->trans_b ? b->dims[1] : b->dims[0], N = st->trans_b ? b->dims[0] : b->dims[1];
    if (K != K2) {
        char sa[64], sb[64];
        return tta_op_error(ctx, TTA_ERR_SHAPE, "inner dimensions differ: A %s%s, B %s%s",
                            tta_shape_str(a, sa, sizeof sa), st->trans_a ? " (transposed)" : "",
                            tta_shape_str(b, sb, sizeof sb), st->trans_b ? " (transposed)" : "");
    }
    if (c) {
        /* C broadcasts unidirectionally to (M, N). */
        bool ok = c->ndim <= 2;
        int64_t cm = c->ndim == 2 ? c->dims[0] : 1, cn = c->ndim >= 1 ? c->dims[c->ndim - 1] : 1;
        ok = ok && (cm == 1 || cm == M) && (cn == 1 || cn == N);
        if (!ok) {
            char sc[64];
            return tta_op_error(ctx, TTA_ERR_SHAPE, "C %s cannot be broadcast to [%lld,%lld]",
                                tta_shape_str(c, sc, sizeof sc), (long long)M, (long long)N);
        }
    }
    int64_t dims[2] = {M, N};
    return tta_set_shape(ctx->out[0], a->dtype, 2, dims);
}

tta_status tta_nn_gemm_compute(tta_op_ctx *ctx) {
    gemm_state *st = ctx->state;
    const tta_tensor *a = ctx->in[0], *b = ctx->in[1], *c = ctx->n_in > 2 ? ctx->in[2] : NULL;
    tta_tensor *y = ctx->out[0];
    int64_t M = y->dims[0], N = y->dims[1], K = st->trans_a ? a->dims[0] : a->dims[1];
    bool use_c = c && st->beta != 0.0f;
    int64_t cm = 1, cn = 1;
    if (use_c) {
        cm = c->ndim == 2 ? c->dims[0] : 1;
        cn = c->ndim >= 1 ? c->dims[c->ndim - 1] : 1;
    }
    if (a->dtype == TTA_DTYPE_FLOAT32) {
        float *yd = y->data;
        if (use_c) {
            const float *cd = c->data;
            for (int64_t i = 0; i < M; i++)
                for (int64_t j = 0; j < N; j++)
                    yd[i * N + j] = st->beta * cd[(cm == 1 ? 0 : i) * cn + (cn == 1 ? 0 : j)];
        }
        float *work;
        TTA_TRY(gemm_work(ctx, st, M, N, K, ctx->n_threads, &work));
        return tta_sgemm(st->trans_a, st->trans_b, M, N, K, st->alpha, a->data, a->dims[1], b->data,
                         b->dims[1], use_c ? 1.0f : 0.0f, yd, N, work, ctx->n_threads);
    }
    /* float64: a plain loop */
    const double *ad = a->data, *bd = b->data, *cd = use_c ? c->data : NULL;
    double *yd = y->data;
    int64_t lda = a->dims[1], ldb = b->dims[1];
#pragma omp parallel for num_threads(ctx->n_threads > 0 ? ctx->n_threads : 1) if (M * N * K > 65536)
    for (int64_t i = 0; i < M; i++) {
        for (int64_t j = 0; j < N; j++) {
            double s = 0;
            for (int64_t k = 0; k < K; k++)
                s += (st->trans_a ? ad[k * lda + i] : ad[i * lda + k]) *
                     (st->trans_b ? bd[j * ldb + k] : bd[k * ldb + j]);
            double v = (double)st->alpha * s;
            if (cd) v += (double)st->beta * cd[(cm == 1 ? 0 : i) * cn + (cn == 1 ? 0 : j)];
            yd[i * N + j] = v;
        }
    }
    return TTA_OK;
}

tta_status tta_nn_matmul_prepare(tta_op_ctx *ctx) {
    gemm_state *st = NULL;
    return new_gemm_state(ctx, &st);
}

/* Shapes of a MatMul after promoting 1-D operands: a is [..., M, K], b is [..., K, N]. */
typedef struct matmul_geom {
    int nb;                      /* batch rank of the output */
    int64_t bdims[TTA_MAX_DIMS]; /* output batch dims */
    int64_t astr[TTA_MAX_DIMS];  /* element strides of a's and b's matrices per batch dim (0 = broadcast) */
    int64_t bstr[TTA_MAX_DIMS];
    int64_t M, N, K;
    int64_t batch; /* product of bdims */
} matmul_geom;

static tta_status matmul_geometry(tta_op_ctx *ctx, const tta_tensor *a, const tta_tensor *b, matmul_geom *g,
                                  int *out_ndim, int64_t *out_dims) {
    char sa[128], sb[128];
    if (a->ndim < 1 || b->ndim < 1)
        return tta_op_error(ctx, TTA_ERR_SHAPE, "MatMul needs operands of rank >= 1, got %s and %s",
                            tta_shape_str(a, sa, sizeof sa), tta_shape_str(b, sb, sizeof sb));
    int64_t ad[TTA_MAX_DIMS + 1], bd[TTA_MAX_DIMS + 1];
    int an = a->ndim, bn = b->ndim;
    if (an == 1) {
        ad[0] = 1;
        ad[1] = a->dims[0];
        an = 2;
    } else {
        for (int i = 0; i < an; i++)
            ad[i] = a->dims[i];
    }
    if (bn == 1) {
        bd[0] = b->dims[0];
        bd[1] = 1;
        bn = 2;
    } else {
        for (int i = 0; i < bn; i++)
            bd[i] = b->dims[i];
    }
    g->M = ad[an - 2];
    g->K = ad[an - 1];
    g->N = bd[bn - 1];
    if (bd[bn - 2] != g->K)
        return tta_op_error(ctx, TTA_ERR_SHAPE, "inner dimensions differ: %s x %s",
                            tta_shape_str(a, sa, sizeof sa), tta_shape_str(b, sb, sizeof sb));
    int na = an - 2, nbb = bn - 2;
    g->nb = na > nbb ? na : nbb;
    int64_t as = g->M * g->K, bs = g->K * g->N;
    g->batch = 1;
    for (int i = g->nb - 1; i >= 0; i--) {
        int ia = i - (g->nb - na), ib = i - (g->nb - nbb);
        int64_t da = ia >= 0 ? ad[ia] : 1, db = ib >= 0 ? bd[ib] : 1;
        if (da != db && da != 1 && db != 1)
            return tta_op_error(ctx, TTA_ERR_SHAPE, "batch dimensions of %s and %s cannot be broadcast",
                                tta_shape_str(a, sa, sizeof sa), tta_shape_str(b, sb, sizeof sb));
        g->bdims[i] = da > db ? da : db;
        if (da == 0 || db == 0) g->bdims[i] = 0;
        g->astr[i] = da == 1 ? 0 : as;
        g->bstr[i] = db == 1 ? 0 : bs;
        as *= da;
        bs *= db;
        g->batch *= g->bdims[i];
    }
    int nd = 0;
    for (int i = 0; i < g->nb; i++)
        out_dims[nd++] = g->bdims[i];
    if (a->ndim > 1) out_dims[nd++] = g->M;
    if (b->ndim > 1) out_dims[nd++] = g->N;
    *out_ndim = nd;
    if (nd > TTA_MAX_DIMS) return tta_op_error(ctx, TTA_ERR_UNSUPPORTED, "output rank %d is too large", nd);
    return TTA_OK;
}

tta_status tta_nn_matmul_infer(tta_op_ctx *ctx) {
    TTA_NEED_INPUT(ctx, 0);
    TTA_NEED_INPUT(ctx, 1);
    const tta_tensor *a = ctx->in[0], *b = ctx->in[1];
    tta_dtype d = a->dtype;
    if (d != TTA_DTYPE_FLOAT32 && d != TTA_DTYPE_FLOAT64 && d != TTA_DTYPE_INT32 && d != TTA_DTYPE_INT64 &&
        d != TTA_DTYPE_UINT32 && d != TTA_DTYPE_UINT64)
        return tta_op_error(ctx, TTA_ERR_UNSUPPORTED, "dtype %s is not supported", tta_dtype_name(d));
    if (b->dtype != d)
        return tta_op_error(ctx, TTA_ERR_SHAPE, "operands have different dtypes (%s, %s)", tta_dtype_name(d),
                            tta_dtype_name(b->dtype));
    matmul_geom g;
    int nd;
    int64_t dims[TTA_MAX_DIMS + 2];
    TTA_TRY(matmul_geometry(ctx, a, b, &g, &nd, dims));
    return tta_set_shape(ctx->out[0], d, nd, dims);
}

/* Offsets of batch item t's matrices in a and b. */
static void matmul_offsets(const matmul_geom *g, int64_t t, int64_t *ao, int64_t *bo) {
    *ao = *bo = 0;
    for (int i = g->nb - 1; i >= 0; i--) {
        int64_t idx = t % g->bdims[i];
        t /= g->bdims[i];
        *ao += idx * g->astr[i];
        *bo += idx * g->bstr[i];
    }
}

tta_status tta_nn_matmul_compute(tta_op_ctx *ctx) {
    gemm_state *st = ctx->state;
    const tta_tensor *a = ctx->in[0], *b = ctx->in[1];
    tta_tensor *y = ctx->out[0];
    matmul_geom g;
    int nd;
    int64_t dims[TTA_MAX_DIMS + 2];
    TTA_TRY(matmul_geometry(ctx, a, b, &g, &nd, dims));
    int64_t M = g.M, N = g.N, K = g.K, MN = M * N;
    if (g.batch == 0 || MN == 0) return TTA_OK;
    int nt = ctx->n_threads > 0 ? ctx->n_threads : 1;
    if (a->dtype == TTA_DTYPE_FLOAT32) {
        bool b_shared = true;
        for (int i = 0; i < g.nb; i++)
            b_shared = b_shared && g.bstr[i] == 0;
        bool a_full = true; /* a's batch is dense (not broadcast): fold it into M */
        for (int i = 0; i < g.nb; i++)
            a_full = a_full && (g.astr[i] != 0 || g.bdims[i] == 1);
        if (b_shared && a_full) {
            float *work;
            TTA_TRY(gemm_work(ctx, st, g.batch * M, N, K, nt, &work));
            return tta_sgemm(false, false, g.batch * M, N, K, 1.0f, a->data, K, b->data, N, 0.0f, y->data, N,
                             work, nt);
        }
        float *work;
        TTA_TRY(gemm_work(ctx, st, M, N, K, ctx->n_threads, &work));
        for (int64_t t = 0; t < g.batch; t++) {
            int64_t ao, bo;
            matmul_offsets(&g, t, &ao, &bo);
            TTA_TRY(tta_sgemm(false, false, M, N, K, 1.0f, (const float *)a->data + ao, K,
                              (const float *)b->data + bo, N, 0.0f, (float *)y->data + t * MN, N, work, nt));
        }
        return TTA_OK;
    }
    if (a->dtype == TTA_DTYPE_FLOAT64) {
        const double *ad = a->data, *bd = b->data;
        double *yd = y->data;
#pragma omp parallel for num_threads(nt) if (g.batch * MN * K > 65536)
        for (int64_t tm = 0; tm < g.batch * M; tm++) {
            int64_t t = tm / M, i = tm % M, ao, bo;
            matmul_offsets(&g, t, &ao, &bo);
            double *yr = yd + t * MN + i * N;
            for (int64_t j = 0; j < N; j++)
                yr[j] = 0;
            for (int64_t k = 0; k < K; k++) {
                double av = ad[ao + i * K + k];
                const double *br = bd + bo + k * N;
                for (int64_t j = 0; j < N; j++)
                    yr[j] += av * br[j];
            }
        }
        return TTA_OK;
    }
    /* Integer types: wrap-around arithmetic in 64 bits, converted on store. */
    for (int64_t t = 0; t < g.batch; t++) {
        int64_t ao, bo;
        matmul_offsets(&g, t, &ao, &bo);
        for (int64_t i = 0; i < M; i++)
            for (int64_t j = 0; j < N; j++) {
                uint64_t s = 0;
                for (int64_t k = 0; k < K; k++)
                    s += (uint64_t)tta_get_i64(a, ao + i * K + k) * (uint64_t)tta_get_i64(b, bo + k * N + j);
                tta_set_i64(y, t * MN + i * N + j, (int64_t)s);
            }
    }
    return TTA_OK;
}
