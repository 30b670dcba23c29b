/* table_dnnl.c - the kernel table of the oneDNN-backed operators (see registry.c). They come
 * first in the lookup; each `accepts` only the nodes oneDNN handles exactly like ONNX, and each
 * falls back to the plain C kernel at run time for dtypes, ranks or shapes oneDNN cannot do. */
#include "runtime/ops/dnnl_common.h"
#include "runtime/ops/dnnl_deconv.h"

#define K(dom, op, since, acc, pre, inf, comp, rel) {dom, op, since, 0, "dnnl", acc, pre, inf, comp, rel, NULL}
#define KL(dom, op, since, acc, pre, inf, comp, rel, lay) {dom, op, since, 0, "dnnl", acc, pre, inf, comp, rel, lay}

const tta_kernel tta_kernels_dnnl[] = {
    KL("", "Conv", 1, NULL, tta_dnnl_conv_prepare, tta_dnnl_conv_infer, tta_dnnl_conv_compute, tta_dnnl_conv_release,
       tta_dnnl_conv_layouts),
    KL("com.microsoft", "FusedConv", 1, tta_dnnl_fusedconv_accepts, tta_dnnl_conv_prepare, tta_dnnl_conv_infer,
       tta_dnnl_conv_compute, tta_dnnl_conv_release, tta_dnnl_conv_layouts),
    KL("", "MaxPool", 1, tta_dnnl_pool_accepts, tta_dnnl_pool_prepare, tta_dnnl_pool_infer, tta_dnnl_pool_compute,
       tta_dnnl_pool_release, tta_dnnl_pool_layouts),
    KL("", "AveragePool", 1, tta_dnnl_pool_accepts, tta_dnnl_pool_prepare, tta_dnnl_pool_infer, tta_dnnl_pool_compute,
       tta_dnnl_pool_release, tta_dnnl_pool_layouts),
    KL("", "GlobalAveragePool", 1, NULL, tta_dnnl_global_pool_prepare, tta_dnnl_pool_infer, tta_dnnl_pool_compute,
       tta_dnnl_pool_release, tta_dnnl_pool_layouts),
    KL("", "GlobalMaxPool", 1, NULL, tta_dnnl_global_pool_prepare, tta_dnnl_pool_infer, tta_dnnl_pool_compute,
       tta_dnnl_pool_release, tta_dnnl_pool_layouts),
    KL("", "ConvTranspose", 1, NULL, tta_dnnl_deconv_prepare, tta_dnnl_deconv_infer, tta_dnnl_deconv_compute,
       tta_dnnl_deconv_release, tta_dnnl_deconv_layouts),
    K("", "Gemm", 1, NULL, tta_dnnl_matmul_prepare, tta_dnnl_matmul_infer, tta_dnnl_matmul_compute,
      tta_dnnl_matmul_release),
    K("", "MatMul", 1, NULL, tta_dnnl_matmul_prepare, tta_dnnl_matmul_infer, tta_dnnl_matmul_compute,
      tta_dnnl_matmul_release),
};
const int tta_kernels_dnnl_count = (int)(sizeof tta_kernels_dnnl / sizeof tta_kernels_dnnl[0]);
