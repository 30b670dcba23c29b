/* table_dnnl.c - the kernel table of the oneDNN-backed operators (see registry.c). They come
 * first in the lookup; each `accepts` only the nodes oneDNN handles exactly like ONNX, and each
 * falls back to the plain C kernel at run time for dtypes, ranks or shapes oneDNN cannot do. */
#include "runtime/ops/dnnl_common.h"

#define K(dom, op, since, acc, pre, inf, comp, rel) {dom, op, since, 0, "dnnl", acc, pre, inf, comp, rel}

const tta_kernel tta_kernels_dnnl[] = {
    K("", "Conv", 1, NULL, tta_dnnl_conv_prepare, tta_dnnl_conv_infer, tta_dnnl_conv_compute, tta_dnnl_conv_release),
    K("com.microsoft", "FusedConv", 1, tta_dnnl_fusedconv_accepts, tta_dnnl_conv_prepare, tta_dnnl_conv_infer,
      tta_dnnl_conv_compute, tta_dnnl_conv_release),
    K("", "MaxPool", 1, tta_dnnl_pool_accepts, tta_dnnl_pool_prepare, tta_dnnl_pool_infer, tta_dnnl_pool_compute,
      tta_dnnl_pool_release),
    K("", "AveragePool", 1, tta_dnnl_pool_accepts, tta_dnnl_pool_prepare, tta_dnnl_pool_infer, tta_dnnl_pool_compute,
      tta_dnnl_pool_release),
    K("", "Gemm", 1, NULL, tta_dnnl_matmul_prepare, tta_dnnl_matmul_infer, tta_dnnl_matmul_compute,
      tta_dnnl_matmul_release),
    K("", "MatMul", 1, NULL, tta_dnnl_matmul_prepare, tta_dnnl_matmul_infer, tta_dnnl_matmul_compute,
      tta_dnnl_matmul_release),
};
const int tta_kernels_dnnl_count = (int)(sizeof tta_kernels_dnnl / sizeof tta_kernels_dnnl[0]);
