/* dnnl_cs.h - the oneDNN-backed Concat (dnnl_concat.c) and Softmax (dnnl_softmax.c),
 * registered in table_dnnl_cs.c. Each falls back to the plain C kernel of the same op
 * (tensor_move.c, misc_softmax.c) for what oneDNN cannot do exactly as ONNX does, or does more
 * slowly. */
#ifndef TTA_RUNTIME_OPS_DNNL_CS_H
#define TTA_RUNTIME_OPS_DNNL_CS_H

#include "runtime/ops/dnnl_common.h"

/* dnnl_concat.c: Concat (float32, rank <= 5), blocked channel concats included */
tta_status tta_dnnl_concat_prepare(tta_op_ctx *ctx);
tta_status tta_dnnl_concat_infer(tta_op_ctx *ctx);
tta_status tta_dnnl_concat_compute(tta_op_ctx *ctx);
void tta_dnnl_concat_release(tta_op_ctx *ctx);
unsigned tta_dnnl_concat_layouts(const tta_op_ctx *ctx);

/* dnnl_softmax.c: Softmax (float32, plain tensors; every opset). LogSoftmax stays in C. */
tta_status tta_dnnl_softmax_prepare(tta_op_ctx *ctx);
tta_status tta_dnnl_softmax_infer(tta_op_ctx *ctx);
tta_status tta_dnnl_softmax_compute(tta_op_ctx *ctx);
void tta_dnnl_softmax_release(tta_op_ctx *ctx);

#endif
