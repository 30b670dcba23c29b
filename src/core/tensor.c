/* tensor.c - dtype facts and the owned/borrowed buffer logic of tta_tensor. */
#include <stdio.h>
#include <string.h>

#include "core/alloc.h"
#include "core/checked.h"
#include "core/error.h"
#include "core/tensor_compare.h"
#include "tta/tensor.h"

size_t tta_dtype_size(tta_dtype dtype) {
    switch (dtype) {
    case TTA_DTYPE_FLOAT32: return 4;
    case TTA_DTYPE_UINT8: return 1;
    case TTA_DTYPE_INT8: return 1;
    case TTA_DTYPE_UINT16: return 2;
    case TTA_DTYPE_INT16: return 2;
    case TTA_DTYPE_INT32: return 4;
    case TTA_DTYPE_INT64: return 8;
    case TTA_DTYPE_BOOL: return 1;
    case TTA_DTYPE_FLOAT16: return 2;
    case TTA_DTYPE_FLOAT64: return 8;
    case TTA_DTYPE_UINT32: return 4;
    case TTA_DTYPE_UINT64: return 8;
    default: return 0;
    }
}

const char *tta_dtype_name(tta_dtype dtype) {
    switch (dtype) {
    case TTA_DTYPE_UNDEFINED: return "undefined";
    case TTA_DTYPE_FLOAT32: return "float32";
    case TTA_DTYPE_UINT8: return "uint8";
    case TTA_DTYPE_INT8: return "int8";
    case TTA_DTYPE_UINT16: return "uint16";
    case TTA_DTYPE_INT16: return "int16";
    case TTA_DTYPE_INT32: return "int32";
    case TTA_DTYPE_INT64: return "int64";
    case TTA_DTYPE_STRING: return "string";
    case TTA_DTYPE_BOOL: return "bool";
    case TTA_DTYPE_FLOAT16: return "float16";
    case TTA_DTYPE_FLOAT64: return "float64";
    case TTA_DTYPE_UINT32: return "uint32";
    case TTA_DTYPE_UINT64: return "uint64";
    }
    switch ((int)dtype) { /* ONNX types tta does not support, named for messages */
    case 14: return "complex64";
    case 15: return "complex128";
    case 16: return "bfloat16";
    default: return "unknown-dtype";
    }
}

/* Shapes that overflow are refused where they are made (tta_tensor_resize, and the plan's
 * check of every inferred output), so these saturate rather than wrap for the rest. */
int64_t tta_tensor_numel(const tta_tensor *t) {
    int64_t n;
    tta_numel_overflows(t->ndim, t->dims, &n);
    return n;
}

size_t tta_tensor_nbytes(const tta_tensor *t) {
    int64_t n;
    tta_nbytes_overflows(t->ndim, t->dims, tta_dtype_size(t->dtype), &n);
    return (size_t)n;
}

tta_status tta_tensor_resize(tta_tensor *t, tta_dtype dtype, int ndim, const int64_t *dims) {
    if (ndim < 0 || ndim > TTA_MAX_DIMS)
        return tta_errorf(TTA_ERR_UNSUPPORTED, "tensor rank %d exceeds the maximum of %d", ndim, TTA_MAX_DIMS);
    size_t esize = tta_dtype_size(dtype);
    if (esize == 0) return tta_errorf(TTA_ERR_UNSUPPORTED, "unsupported dtype %s", tta_dtype_name(dtype));
    for (int i = 0; i < ndim; i++)
        if (dims[i] < 0) return tta_errorf(TTA_ERR_SHAPE, "negative dimension %lld", (long long)dims[i]);
    int64_t nbytes;
    if (tta_nbytes_overflows(ndim, dims, esize, &nbytes) || (uint64_t)nbytes > SIZE_MAX / 2) {
        tta_tensor shape = {.ndim = ndim};
        char s[160];
        for (int i = 0; i < ndim; i++) shape.dims[i] = dims[i];
        return tta_errorf(TTA_ERR_SHAPE, "tensor of shape %s is too large: its byte size overflows",
                          tta_shape_str(&shape, s, sizeof s));
    }
    size_t bytes = (size_t)nbytes;
    /* Never allocate 0 bytes: keep a valid pointer for empty tensors too. */
    size_t want = bytes ? bytes : 1;
    if (t->capacity < want) {
        void *p = t->capacity ? tta_realloc(t->data, want) : tta_malloc(want);
        if (!p) return tta_errorf(TTA_ERR_NOMEM, "out of memory allocating %zu bytes", want);
        t->data = p;
        t->capacity = want;
    }
    t->dtype = dtype;
    t->ndim = ndim;
    for (int i = 0; i < ndim; i++) t->dims[i] = dims[i];
    for (int i = ndim; i < TTA_MAX_DIMS; i++) t->dims[i] = 0;
    return TTA_OK;
}

void tta_tensor_destroy(tta_tensor *t) {
    if (!t) return;
    if (t->capacity) tta_free(t->data);
    memset(t, 0, sizeof *t);
}

tta_status tta_tensor_copy(tta_tensor *dst, const tta_tensor *src) {
    if (dst == src) return TTA_OK;
    TTA_TRY(tta_tensor_resize(dst, src->dtype, src->ndim, src->dims));
    size_t n = tta_tensor_nbytes(src);
    if (n) memmove(dst->data, src->data, n);
    return TTA_OK;
}

char *tta_shape_str(const tta_tensor *t, char *buf, size_t size) {
    size_t used = 0;
    if (size == 0) return buf;
    buf[0] = '\0';
    used += (size_t)snprintf(buf + used, size - used, "[");
    for (int i = 0; i < t->ndim && used < size; i++)
        used += (size_t)snprintf(buf + used, size - used, i ? ",%lld" : "%lld", (long long)t->dims[i]);
    if (used < size) snprintf(buf + used, size - used, "]");
    return buf;
}

float tta_half_to_float(uint16_t h) {
    uint32_t sign = (uint32_t)(h & 0x8000) << 16, exp = (h >> 10) & 0x1f, mant = h & 0x3ff, bits;
    if (exp == 0) {
        if (mant == 0) {
            bits = sign;
        } else { /* subnormal: normalise */
            exp = 127 - 15 + 1;
            while (!(mant & 0x400)) {
                mant <<= 1;
                exp--;
            }
            mant &= 0x3ff;
            bits = sign | (exp << 23) | (mant << 13);
        }
    } else if (exp == 31) {
        bits = sign | 0x7f800000u | (mant << 13);
    } else {
        bits = sign | ((exp + 127 - 15) << 23) | (mant << 13);
    }
    float f;
    memcpy(&f, &bits, 4);
    return f;
}
