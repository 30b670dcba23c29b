/* score_key.h - a float's bits as an unsigned key that sorts as the float does (equal floats,
 * -0 and +0 too, give equal keys): the radix sorts and selections of detection use it. */
#ifndef TTA_DETECT_SCORE_KEY_H
#define TTA_DETECT_SCORE_KEY_H

#include <stdint.h>

static inline uint32_t det_float_key(float x) {
    union {
        float f;
        uint32_t u;
    } v = {x == 0 ? 0.0f : x};
    return v.u >> 31 ? ~v.u : v.u | 1u << 31;
}

#endif
