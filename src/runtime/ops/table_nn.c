/* table_nn.c - the kernel table of the 'nn' operator family (see registry.c): convolution,
 * pooling, normalisation, Gemm and MatMul. Plain C kernels; opset differences are handled
 * inside the kernels (they read ctx->node->opset), so each op has one open-ended entry. */
#include "runtime/ops/nn.h"

#define K(op, since, prep, inf, comp, rel)                                                                   \
    { "", op, since, 0, "c", NULL, prep, inf, comp, rel, NULL }
#define KL(op, since, prep, inf, comp, rel, lay)                                                             \
    { "", op, since, 0, "c", NULL, prep, inf, comp, rel, lay }

const tta_kernel tta_kernels_nn[] = {
    K("Conv", 1, tta_nn_conv_prepare, tta_nn_conv_infer, tta_nn_conv_compute, tta_nn_conv_release),
    K("ConvTranspose", 1, tta_nn_convtranspose_prepare, tta_nn_convtranspose_infer,
      tta_nn_convtranspose_compute, tta_nn_conv_release),
    KL("MaxPool", 1, tta_nn_pool_prepare, tta_nn_pool_infer, tta_nn_pool_compute, tta_nn_pool_release,
       tta_nn_pool_layouts),
    KL("AveragePool", 1, tta_nn_pool_prepare, tta_nn_pool_infer, tta_nn_pool_compute, tta_nn_pool_release,
       tta_nn_pool_layouts),
    K("LpPool", 1, tta_nn_pool_prepare, tta_nn_pool_infer, tta_nn_pool_compute, tta_nn_pool_release),
    K("GlobalAveragePool", 1, NULL, tta_nn_global_pool_infer, tta_nn_global_pool_compute, NULL),
    K("GlobalMaxPool", 1, NULL, tta_nn_global_pool_infer, tta_nn_global_pool_compute, NULL),
    K("GlobalLpPool", 1, NULL, tta_nn_global_pool_infer, tta_nn_global_pool_compute, NULL),
    K("MaxUnpool", 9, tta_nn_maxunpool_prepare, tta_nn_maxunpool_infer, tta_nn_maxunpool_compute,
      tta_nn_pool_release),
    KL("BatchNormalization", 1, tta_nn_batchnorm_prepare, tta_nn_batchnorm_infer, tta_nn_batchnorm_compute,
       tta_nn_norm_release, tta_nn_batchnorm_layouts),
    /* BatchNormalization followed by Relu, as rewrite.c fuses them (the node keeps BN's opset) */
    {"tta", "BatchNormRelu", 1, 0, "c", NULL, tta_nn_batchnorm_prepare, tta_nn_batchnorm_infer,
     tta_nn_batchnorm_compute, tta_nn_norm_release, tta_nn_batchnorm_layouts},
    K("InstanceNormalization", 1, tta_nn_instancenorm_prepare, tta_nn_instancenorm_infer,
      tta_nn_instancenorm_compute, tta_nn_norm_release),
    /* ONNX has it from opset 17; ONNX Runtime's optimisers also emit it at lower opsets. */
    K("LayerNormalization", 1, tta_nn_layernorm_prepare, tta_nn_layernorm_infer, tta_nn_layernorm_compute,
      tta_nn_norm_release),
    K("LRN", 1, tta_nn_lrn_prepare, tta_nn_lrn_infer, tta_nn_lrn_compute, tta_nn_norm_release),
    K("MeanVarianceNormalization", 9, tta_nn_mvn_prepare, tta_nn_mvn_infer, tta_nn_mvn_compute,
      tta_nn_norm_release),
    K("Gemm", 1, tta_nn_gemm_prepare, tta_nn_gemm_infer, tta_nn_gemm_compute, tta_nn_gemm_release),
    K("MatMul", 1, tta_nn_matmul_prepare, tta_nn_matmul_infer, tta_nn_matmul_compute, tta_nn_gemm_release),
};
const int tta_kernels_nn_count = (int)(sizeof tta_kernels_nn / sizeof tta_kernels_nn[0]);
