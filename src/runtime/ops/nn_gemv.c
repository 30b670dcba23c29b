/* nn_gemv.c - products of a few rows by a constant matrix, Y[M,N] = A[M,K] B[K,N] for M <= 8:
 * a classifier's head at batch 1 to 8 (see nn.h).
 *
 * oneDNN 2.6's matmul is built for many rows and is slow on a few (bench/README.md, "Measured
 * choices"). Here B is packed once into K-major panels of 64 columns, [N/64][K][64] (zero-padded), so that a
 * thread streams one panel from start to end and keeps 64 x M sums in registers; the threads
 * split the panels. Each Y element is summed over k in order, with no fused multiply-add, so the
 * result has the same bits at every vector width (the three builds below) and thread count.
 */
#include <string.h>

#include "core/cpu.h"
#include "runtime/ops/nn.h"

#define PANEL 64

typedef float v16 __attribute__((vector_size(64)));

int64_t tta_gemv_packed_floats(int64_t K, int64_t N) { return (N + PANEL - 1) / PANEL * PANEL * K; }

void tta_gemv_pack(const float *B, int64_t K, int64_t N, bool trans_b, float *packed) {
    int64_t np = (N + PANEL - 1) / PANEL;
    for (int64_t p = 0; p < np; p++) {
        float *dst = packed + p * K * PANEL;
        for (int64_t k = 0; k < K; k++)
            for (int64_t j = 0; j < PANEL; j++) {
                int64_t n = p * PANEL + j;
                dst[k * PANEL + j] = n >= N ? 0.0f : trans_b ? B[n * K + k] : B[k * N + n];
            }
    }
}

/* Panels [p0, p1) for rows of A; y = alpha * (A Bp) + (bias row, when given). */
static inline __attribute__((always_inline)) void panels(int64_t p0, int64_t p1, int M, int64_t K, int64_t N,
                                                         const float *A, int64_t lda, const float *bp,
                                                         const float *bias, float alpha, float *Y) {
    for (int64_t p = p0; p < p1; p++) {
        const float *b = bp + p * K * PANEL;
        for (int m = 0; m < M; m++) {
            v16 acc[PANEL / 16];
            for (int j = 0; j < PANEL / 16; j++) acc[j] = (v16){0};
            const float *a = A + m * lda;
            for (int64_t k = 0; k < K; k++) {
                v16 av = (v16){0} + a[k];
                const v16 *bk = (const v16 *)(b + k * PANEL);
                for (int j = 0; j < PANEL / 16; j++) {
                    v16 prod = av * bk[j];
                    acc[j] = acc[j] + prod;
                }
            }
            float out[PANEL];
            memcpy(out, acc, sizeof out);
            int64_t n0 = p * PANEL, n1 = n0 + PANEL < N ? n0 + PANEL : N;
            float *y = Y + m * N;
            for (int64_t n = n0; n < n1; n++) y[n] = alpha * out[n - n0] + (bias ? bias[n] : 0.0f);
        }
    }
}

TTA_TARGET_AVX512 static void panels_avx512(int64_t p0, int64_t p1, int M, int64_t K, int64_t N,
                                                             const float *A, int64_t lda, const float *bp,
                                                             const float *bias, float alpha, float *Y) {
    panels(p0, p1, M, K, N, A, lda, bp, bias, alpha, Y);
}
TTA_TARGET_AVX2 static void panels_avx2(int64_t p0, int64_t p1, int M, int64_t K, int64_t N,
                                                        const float *A, int64_t lda, const float *bp,
                                                        const float *bias, float alpha, float *Y) {
    panels(p0, p1, M, K, N, A, lda, bp, bias, alpha, Y);
}
static void panels_generic(int64_t p0, int64_t p1, int M, int64_t K, int64_t N, const float *A, int64_t lda,
                           const float *bp, const float *bias, float alpha, float *Y) {
    panels(p0, p1, M, K, N, A, lda, bp, bias, alpha, Y);
}

void tta_gemv_run(int M, int64_t K, int64_t N, const float *A, int64_t lda, const float *packed, const float *bias,
                  float alpha, float *Y, int n_threads) {
    void (*fn)(int64_t, int64_t, int, int64_t, int64_t, const float *, int64_t, const float *, const float *, float,
               float *) = TTA_ISA_PICK(panels_generic, panels_avx2, panels_avx512);
    int64_t np = (N + PANEL - 1) / PANEL;
    /* a thread per 256K multiply-adds at most: below that the wake-up costs more than it saves */
    int64_t work = (int64_t)M * K * N;
    int nt = n_threads < 1 ? 1 : n_threads;
    if (work < (int64_t)nt * 262144) nt = (int)(work / 262144 > 1 ? work / 262144 : 1);
    if (nt > np) nt = (int)np;
#pragma omp parallel for num_threads(nt) if (nt > 1) schedule(static, 1)
    for (int t = 0; t < nt; t++) fn(np * t / nt, np * (t + 1) / nt, M, K, N, A, lda, packed, bias, alpha, Y);
}
