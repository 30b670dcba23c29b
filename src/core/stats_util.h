/* stats_util.h - the seeded generator and the percentile every bootstrap in tta uses, so that
 * intervals are the same run after run and computed one way (classification and detection). */
#ifndef TTA_CORE_STATS_UTIL_H
#define TTA_CORE_STATS_UTIL_H

#include <math.h>
#include <stdint.h>

/* splitmix64: the next 64 random bits of the stream in *s. */
static inline uint64_t tta_splitmix64(uint64_t *s) {
    uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

/* Uniform in [0, n) without modulo bias worth speaking of (Lemire's multiply-shift). */
static inline uint64_t tta_rand_below(uint64_t *s, uint64_t n) {
    return (uint64_t)(((unsigned __int128)tta_splitmix64(s) * n) >> 64);
}

static inline int tta_cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* Quantile q of m sorted values, interpolating linearly between order statistics (numpy's
 * default percentile). */
static inline double tta_quantile(const double *sorted, int m, double q) {
    double pos = q * (m - 1);
    int i = (int)floor(pos);
    if (i >= m - 1) return sorted[m - 1];
    return sorted[i] + (pos - i) * (sorted[i + 1] - sorted[i]);
}

#endif
