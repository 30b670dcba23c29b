/* tensor_compare.c - tolerance comparison of two tensors, the ONNX backend-test rule: same
 * dtype, same shape, integers and bools equal, floats |got - ref| <= atol + rtol |ref| with NaN
 * matching NaN and infinities matching themselves. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "core/tensor_compare.h"
#include "tta/tensor.h"

int tta_tensor_allclose(const tta_tensor *got, const tta_tensor *ref, double rtol, double atol, char *why, size_t size) {
    char a[128], b[128];
    if (got->dtype != ref->dtype) {
        if (why) snprintf(why, size, "dtype %s, expected %s", tta_dtype_name(got->dtype),
                 tta_dtype_name(ref->dtype));
        return 0;
    }
    int same = got->ndim == ref->ndim;
    for (int d = 0; same && d < got->ndim; d++) same = got->dims[d] == ref->dims[d];
    if (!same) {
        if (why) snprintf(why, size, "shape %s, expected %s", tta_shape_str(got, a, sizeof a),
                 tta_shape_str(ref, b, sizeof b));
        return 0;
    }
    int64_t n = tta_tensor_numel(ref);
    int is_float = ref->dtype == TTA_DTYPE_FLOAT32 || ref->dtype == TTA_DTYPE_FLOAT64 || ref->dtype == TTA_DTYPE_FLOAT16;
    if (!is_float) {
        if (n && memcmp(got->data, ref->data, tta_tensor_nbytes(ref))) {
            size_t es = tta_dtype_size(ref->dtype);
            int64_t i = 0;
            while (i < n && !memcmp((char *)got->data + i * es, (char *)ref->data + i * es, es)) i++;
            if (why) snprintf(why, size, "element %lld differs", (long long)i);
            return 0;
        }
        return 1;
    }
    for (int64_t i = 0; i < n; i++) {
        double g, r;
        if (ref->dtype == TTA_DTYPE_FLOAT32) {
            g = ((float *)got->data)[i];
            r = ((float *)ref->data)[i];
        } else if (ref->dtype == TTA_DTYPE_FLOAT64) {
            g = ((double *)got->data)[i];
            r = ((double *)ref->data)[i];
        } else {
            g = tta_half_to_float(((uint16_t *)got->data)[i]);
            r = tta_half_to_float(((uint16_t *)ref->data)[i]);
        }
        if (isnan(r) && isnan(g)) continue;
        if (isinf(r) && g == r) continue;
        if (!(fabs(g - r) <= atol + rtol * fabs(r))) {
            if (why) snprintf(why, size, "element %lld is %.9g, expected %.9g", (long long)i, g, r);
            return 0;
        }
    }
    return 1;
}

