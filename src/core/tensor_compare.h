/* tensor_compare.h - comparing tensors as the ONNX backend tests do, and float16 to float.
 * Internal to tta (the conformance and compare commands, the tests). */
#ifndef TTA_CORE_TENSOR_COMPARE_H
#define TTA_CORE_TENSOR_COMPARE_H

#include <stddef.h>
#include <stdint.h>

#include "tta/tensor.h"

/* IEEE binary16 (given as its bits) to float, exact. */
float tta_half_to_float(uint16_t h);

/* 1 when got matches ref: same dtype and shape; integers equal; floats within
 * atol + rtol * |ref| (NaN matches NaN). Otherwise 0, with the first mismatch described in why
 * (may be NULL). The ONNX backend tests use rtol 1e-3, atol 1e-7. */
int tta_tensor_allclose(const tta_tensor *got, const tta_tensor *ref, double rtol, double atol, char *why,
                        size_t size);

#endif
