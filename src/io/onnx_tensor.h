/* onnx_tensor.h - conversion between ONNX TensorProto (protobuf-c) and tta_tensor, shared by
 * the model loader (initializers, tensor attributes) and the .pb tensor files. */
#ifndef TTA_IO_ONNX_TENSOR_H
#define TTA_IO_ONNX_TENSOR_H

#include "onnx.pb-c.h"
#include "tta/tensor.h"

/* Fills `out` (owned buffer) from raw_data or the typed fields. `what` names the tensor in
 * messages (e.g. "initializer 'conv1.weight'"). External data and strings are rejected. */
tta_status tta_tensor_from_proto(const Onnx__TensorProto *p, tta_tensor *out, const char *what);

#endif
