/* dnnl_deconv.h - entry points of the oneDNN ConvTranspose kernel (dnnl_deconv.c), registered in
 * table_dnnl.c and called directly by tests/unit/test_dnnl_deconv.c. */
#ifndef TTA_RUNTIME_OPS_DNNL_DECONV_H
#define TTA_RUNTIME_OPS_DNNL_DECONV_H

#include "runtime/op.h"

/* ConvTranspose (ai.onnx, every opset): float32 1-D/2-D/3-D through oneDNN's deconvolution,
 * anything else through the plain C ConvTranspose. `layouts` lets input 0 and output 0 be
 * channel-blocked (TTA_LAYOUT_BLOCKED) when the oneDNN path will be used. */
tta_status tta_dnnl_deconv_prepare(tta_op_ctx *ctx);
tta_status tta_dnnl_deconv_infer(tta_op_ctx *ctx);
tta_status tta_dnnl_deconv_compute(tta_op_ctx *ctx);
void tta_dnnl_deconv_release(tta_op_ctx *ctx);
unsigned tta_dnnl_deconv_layouts(const tta_op_ctx *ctx);

#endif
