/* dnnl_ew.h - the oneDNN-backed element-wise kernels: unary activations and arithmetic
 * (dnnl_eltwise.c) and two-input arithmetic with broadcasting (dnnl_binary.c), registered in
 * table_dnnl_ew.c before the plain C kernels, which they fall back on for every case oneDNN
 * cannot do exactly as ONNX does (other dtypes, modes, broadcasts) or does more slowly.
 */
#ifndef TTA_RUNTIME_OPS_DNNL_EW_H
#define TTA_RUNTIME_OPS_DNNL_EW_H

#include "runtime/ops/dnnl_common.h"

/* dnnl_eltwise.c: Sigmoid, Tanh, Sqrt, Round, HardSwish, Elu (|alpha| <= 1) on float32 tensors
 * of at least a few thousand elements; the rest through the C kernel */
tta_status tta_dnnl_eltwise_prepare(tta_op_ctx *ctx);
tta_status tta_dnnl_eltwise_infer(tta_op_ctx *ctx);
tta_status tta_dnnl_eltwise_compute(tta_op_ctx *ctx);
void tta_dnnl_eltwise_release(tta_op_ctx *ctx);

/* dnnl_binary.c: Add, Sub, Mul, Div (opset >= 7; float32, same shapes or a single-element
 * operand); real broadcasts and the rest through the C kernel */
tta_status tta_dnnl_binary_prepare(tta_op_ctx *ctx);
tta_status tta_dnnl_binary_infer(tta_op_ctx *ctx);
tta_status tta_dnnl_binary_compute(tta_op_ctx *ctx);
void tta_dnnl_binary_release(tta_op_ctx *ctx);

#endif
