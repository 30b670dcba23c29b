/* tensor.h - the dense tensor type shared by every layer, and the allocation hook.
 *
 * A tta_tensor is a plain struct in caller-visible memory: a dtype (numbered as ONNX's
 * TensorProto.DataType), up to TTA_MAX_DIMS dims (row-major, contiguous) and a data pointer.
 * A tensor either owns its buffer (capacity > 0, freed by tta_tensor_destroy) or borrows it
 * (capacity == 0, data owned by someone else).
 *
 * All memory the library allocates goes through one hook (tta_set_allocator), so tests can
 * count allocations and make them fail.
 */
#ifndef TTA_TENSOR_H
#define TTA_TENSOR_H

#include <stddef.h>
#include <stdint.h>

#include "tta/status.h"

#ifdef __cplusplus
extern "C" {
#endif

#define TTA_MAX_DIMS 8

/* Element types, numbered as ONNX TensorProto.DataType. */
typedef enum tta_dtype {
    TTA_DTYPE_UNDEFINED = 0,
    TTA_DTYPE_FLOAT32 = 1,
    TTA_DTYPE_UINT8 = 2,
    TTA_DTYPE_INT8 = 3,
    TTA_DTYPE_UINT16 = 4,
    TTA_DTYPE_INT16 = 5,
    TTA_DTYPE_INT32 = 6,
    TTA_DTYPE_INT64 = 7,
    TTA_DTYPE_STRING = 8, /* not supported by the runtime; named for error messages */
    TTA_DTYPE_BOOL = 9,   /* one byte per element, 0 or 1 */
    TTA_DTYPE_FLOAT16 = 10,
    TTA_DTYPE_FLOAT64 = 11,
    TTA_DTYPE_UINT32 = 12,
    TTA_DTYPE_UINT64 = 13
} tta_dtype;

typedef struct tta_tensor {
    tta_dtype dtype;
    int ndim;                      /* 0 for a scalar */
    int64_t dims[TTA_MAX_DIMS];
    void *data;                    /* ndim/dims/dtype describe it; NULL when not materialised */
    size_t capacity;               /* bytes owned; 0 when data is borrowed */
} tta_tensor;

/* Bytes per element (0 for UNDEFINED/STRING). */
TTA_API size_t tta_dtype_size(tta_dtype dtype);
/* Lower-case name, e.g. "float32", "int64"; "dtype(N)" style for unknown codes. */
TTA_API const char *tta_dtype_name(tta_dtype dtype);

/* Number of elements (1 for a scalar). */
TTA_API int64_t tta_tensor_numel(const tta_tensor *t);
TTA_API size_t tta_tensor_nbytes(const tta_tensor *t);

/* Sets dtype and shape and makes sure an owned buffer of the right size exists; reuses the
 * current buffer when it is large enough (no allocation in steady state). A borrowed buffer is
 * dropped (not freed) and replaced by an owned one. */
TTA_API tta_status tta_tensor_resize(tta_tensor *t, tta_dtype dtype, int ndim, const int64_t *dims);
/* Frees an owned buffer and zeroes the struct. */
TTA_API void tta_tensor_destroy(tta_tensor *t);
/* Deep copy of src into dst (dst is resized). */
TTA_API tta_status tta_tensor_copy(tta_tensor *dst, const tta_tensor *src);
/* Writes "[1,3,224,224]" into buf. Returns buf. */
TTA_API char *tta_shape_str(const tta_tensor *t, char *buf, size_t size);

/* Allocation hook. The default uses malloc/realloc/free. Passing NULLs restores the default. */
typedef struct tta_allocator {
    void *(*realloc_fn)(void *user, void *ptr, size_t size); /* size 0 is never passed */
    void (*free_fn)(void *user, void *ptr);
    void *user;
} tta_allocator;
TTA_API void tta_set_allocator(const tta_allocator *allocator);
/* Frees what the library handed out with "tta_free it" (through the allocator above). */
TTA_API void tta_free(void *ptr);

#ifdef __cplusplus
}
#endif
#endif
