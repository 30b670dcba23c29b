/* checked.h - overflow-checked arithmetic for element counts, byte sizes and dims.
 *
 * Shapes come from files written by strangers: a Tile repeat of 2^62+1, an Expand to
 * [2^40, 2^24] or pads of 2^62 must be reported, not wrapped around (signed overflow is
 * undefined behaviour, and a wrapped count is a silently wrong or out-of-bounds result). Every
 * product of dims that sizes a tensor goes through these. Each returns true when the exact
 * result does not fit (as __builtin_*_overflow do), leaving the wrapped value in *out.
 */
#ifndef TTA_CORE_CHECKED_H
#define TTA_CORE_CHECKED_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

static inline bool tta_mul_overflows(int64_t a, int64_t b, int64_t *out) { return __builtin_mul_overflow(a, b, out); }

static inline bool tta_add_overflows(int64_t a, int64_t b, int64_t *out) { return __builtin_add_overflow(a, b, out); }

/* Element count of a shape: true when a dim is negative or the product exceeds INT64_MAX
 * (*out is then INT64_MAX). A shape with a zero dim is empty whatever its other dims are. */
static inline bool tta_numel_overflows(int ndim, const int64_t *dims, int64_t *out) {
    bool empty = false;
    for (int i = 0; i < ndim; i++) {
        if (dims[i] < 0) {
            *out = INT64_MAX;
            return true;
        }
        empty |= dims[i] == 0;
    }
    int64_t n = 1;
    for (int i = 0; i < ndim && !empty; i++)
        if (tta_mul_overflows(n, dims[i], &n)) {
            *out = INT64_MAX;
            return true;
        }
    *out = empty ? 0 : n;
    return false;
}

/* Byte size of a shape with elements of esize bytes: true when it exceeds INT64_MAX (so that
 * the result also fits a size_t, a ptrdiff_t and an int64_t offset). */
static inline bool tta_nbytes_overflows(int ndim, const int64_t *dims, size_t esize, int64_t *out) {
    int64_t n;
    if (tta_numel_overflows(ndim, dims, &n) || esize > INT64_MAX || tta_mul_overflows(n, (int64_t)esize, out)) {
        *out = INT64_MAX;
        return true;
    }
    return false;
}

#endif
