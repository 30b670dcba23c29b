/* peak.c - measures the machine's fp32 multiply-add peak for `make bench`: T OpenMP threads each
 * run independent chains of fused multiply-adds on 512-bit vectors (AVX-512F), else 256-bit
 * (AVX2+FMA), else 128-bit multiply and add, whichever the CPU has (capped by TTA_MAX_ISA=avx2 or
 * generic, as the runtime is), for about half a second; prints GFLOP/s (a multiply-add counts 2).
 * Enough independent chains (10) hide the FMA latency on current x86 cores.
 * usage: peak THREADS */
#include <immintrin.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

#define CHAINS 10
#define EACH(X) X(0) X(1) X(2) X(3) X(4) X(5) X(6) X(7) X(8) X(9)

__attribute__((target("avx2,fma"))) static double run_fma(long iters, float seed) {
    __m256 m = _mm256_set1_ps(seed), c = _mm256_set1_ps(seed * 0.5f);
#define DECL(k) __m256 a##k = _mm256_set1_ps((float)(k));
#define STEP(k) a##k = _mm256_fmadd_ps(a##k, m, c);
#define SUM(k) s = _mm256_add_ps(s, a##k);
    EACH(DECL)
    for (long i = 0; i < iters; i++) {
        EACH(STEP)
    }
    __m256 s = _mm256_setzero_ps();
    EACH(SUM)
    return (double)_mm256_cvtss_f32(s); /* keeps the loop alive */
}

__attribute__((target("avx512f"))) static double run_fma512(long iters, float seed) {
    __m512 m = _mm512_set1_ps(seed), c = _mm512_set1_ps(seed * 0.5f);
#undef DECL
#undef STEP
#undef SUM
#define DECL(k) __m512 a##k = _mm512_set1_ps((float)(k));
#define STEP(k) a##k = _mm512_fmadd_ps(a##k, m, c);
#define SUM(k) s = _mm512_add_ps(s, a##k);
    EACH(DECL)
    for (long i = 0; i < iters; i++) {
        EACH(STEP)
    }
    __m512 s = _mm512_setzero_ps();
    EACH(SUM)
    return (double)_mm512_reduce_add_ps(s);
}

static double run_sse(long iters, float seed) {
    __m128 m = _mm_set1_ps(seed), c = _mm_set1_ps(seed * 0.5f);
#undef DECL
#undef STEP
#undef SUM
#define DECL(k) __m128 a##k = _mm_set1_ps((float)(k));
#define STEP(k) a##k = _mm_add_ps(_mm_mul_ps(a##k, m), c);
#define SUM(k) s = _mm_add_ps(s, a##k);
    EACH(DECL)
    for (long i = 0; i < iters; i++) {
        EACH(STEP)
    }
    __m128 s = _mm_setzero_ps();
    EACH(SUM)
    return (double)_mm_cvtss_f32(s);
}

int main(int argc, char **argv) {
    int threads = argc > 1 ? atoi(argv[1]) : 1;
    if (threads < 1) threads = 1;
    const char *cap = getenv("TTA_MAX_ISA");
    int fma = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") && !(cap && !strcmp(cap, "generic"));
    int w512 = fma && __builtin_cpu_supports("avx512f") && !(cap && (!strcmp(cap, "avx2") || !strcmp(cap, "generic")));
    /* 16 lanes x 2, 8 lanes x 2, or 4 lanes x (mul + add) */
    double flops_per_iter = CHAINS * (w512 ? 32.0 : fma ? 16.0 : 8.0);
    long iters = 20000000; /* about 0.1 s per repeat at 3 GHz */
    double sink = 0, best = 0;
    for (int rep = 0; rep < 5; rep++) {
        double t0 = now();
#pragma omp parallel num_threads(threads) reduction(+ : sink)
        sink += w512 ? run_fma512(iters, 0.999999f) : fma ? run_fma(iters, 0.999999f) : run_sse(iters, 0.999999f);
        double gf = flops_per_iter * (double)iters * threads / (now() - t0) / 1e9;
        if (gf > best) best = gf;
    }
    printf("%.1f %s\n", best, w512 ? "avx512f" : fma ? "avx2+fma" : "sse");
    return sink == 12345.0; /* never: the sum is only read */
}
