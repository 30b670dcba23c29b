/* tensor_io.h - reading and writing single tensors: ONNX TensorProto files (.pb, as in the ONNX
 * backend test suite) and NumPy .npy files. Output tensors own their buffers; free them with
 * tta_tensor_destroy(). Errors name the file and the problem (truncated, bad header, dtype). */
#ifndef TTA_TENSOR_IO_H
#define TTA_TENSOR_IO_H

#include "tta/tensor.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Reads a serialized TensorProto. If name is not NULL, *name receives a tta_malloc'd copy of the
 * tensor's name ("" if none); free it with tta_free. */
TTA_API tta_status tta_tensor_read_pb(const char *path, tta_tensor *out, char **name);
TTA_API tta_status tta_tensor_write_pb(const char *path, const tta_tensor *t, const char *name);

/* NumPy .npy, format versions 1-3, little-endian, C order (Fortran order is rejected). */
TTA_API tta_status tta_tensor_read_npy(const char *path, tta_tensor *out);
TTA_API tta_status tta_tensor_write_npy(const char *path, const tta_tensor *t);

/* Picks the reader by extension: ".npy" -> NumPy, anything else -> TensorProto. */
TTA_API tta_status tta_tensor_read_file(const char *path, tta_tensor *out);

#ifdef __cplusplus
}
#endif
#endif
