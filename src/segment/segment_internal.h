/* segment_internal.h - what the segmentation files share inside the library (and the CLI's
 * segment_cli.c, which merges views the same way). */
#ifndef TTA_SEGMENT_INTERNAL_H
#define TTA_SEGMENT_INTERNAL_H

#include <stdint.h>
#include <string.h>

#include "tta/segment.h"

/* Bilinear resize of a C x sh x sw map to C x dh x dw (pixel centres aligned, edge-clamped). */
void tta_seg_upsample(const float *src, int channels, int sh, int sw, float *dst, int dh, int dw);

/* log(max(x, 1e-30)) for a finite x, written so that loops around it vectorise (libm's logf
 * does not without -ffast-math): the floor is taken on the bits (the order of non-negative
 * floats is that of their bits as integers, and negative floats are negative integers), then
 * x = m 2^e with m in [sqrt(1/2), sqrt(2)), log m = 2 atanh(z), z = (m - 1) / (m + 1),
 * |z| <= 0.172, by its series to z^9 (truncation < 1e-9). About 1e-7 relative error, like logf.
 * Integer selects only: the vectoriser gives up on a float select of a select. */
static inline float tta_seg_log_floored(float x) {
    int32_t i;
    memcpy(&i, &x, sizeof i);
    i = i < 0x0da24260 ? 0x0da24260 : i; /* the bits of 1e-30f */
    uint32_t frac = (uint32_t)i & 0x007fffffu;
    int big = frac > 0x003504f3u; /* mantissa above sqrt(2): halve it */
    int e = (i >> 23) - 127 + big;
    uint32_t u = frac | (big ? 0x3f000000u : 0x3f800000u);
    float mant;
    memcpy(&mant, &u, sizeof mant);
    float z = (mant - 1.0f) / (mant + 1.0f), z2 = z * z;
    float s = z * (2.0f + z2 * (2.0f / 3 + z2 * (2.0f / 5 + z2 * (2.0f / 7 + z2 * (2.0f / 9)))));
    return s + (float)e * 0.693147180559945f;
}

/* The entropy -sum_c p_c log p_c of each pixel of a C x plane map of probabilities (channel
 * planes contiguous), class plane by class plane with the log above (0 log 0 = 0): the
 * identity view's own entropy, the single-pass baseline. About 1e-6 nats. */
void tta_seg_entropy(const float *probs, int C, size_t plane, float *out);

#endif
