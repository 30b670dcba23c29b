/* registry.c - the one kernel table: every family's kernels, in priority order.
 *
 * oneDNN-backed kernels (family "dnnl") come first so they are chosen when they accept a node;
 * the plain C kernels follow as the fallback and the oracle the tests compare against.
 * Within the C families, each op appears once per opset range.
 */
#include <string.h>

#include "runtime/op.h"

TTA_KERNEL_LIST(tta_kernels_dnnl)   /* ops/dnnl_*.c: oneDNN primitives, chosen first */
TTA_KERNEL_LIST(tta_kernels_dnnl_ew) /* ops/table_dnnl_ew.c: oneDNN element-wise and binary ops */
TTA_KERNEL_LIST(tta_kernels_dnnl_cs) /* ops/table_dnnl_cs.c: oneDNN Concat, Softmax */
TTA_KERNEL_LIST(tta_kernels_math)   /* ops/math_*.c: element-wise, binary, Cast, variadic */
TTA_KERNEL_LIST(tta_kernels_nn)     /* ops/nn_*.c: Conv, pooling, normalisation, Gemm, MatMul */
TTA_KERNEL_LIST(tta_kernels_tensor) /* ops/tensor_*.c: reshaping, indexing, data movement */
TTA_KERNEL_LIST(tta_kernels_misc)   /* ops/misc_*.c: reductions, softmax, Resize, TopK, NMS */

typedef struct kernel_family {
    const tta_kernel *kernels;
    const int *count;
} kernel_family;

static const kernel_family families[] = {
    {tta_kernels_dnnl, &tta_kernels_dnnl_count},
    {tta_kernels_dnnl_ew, &tta_kernels_dnnl_ew_count},
    {tta_kernels_dnnl_cs, &tta_kernels_dnnl_cs_count},
    {tta_kernels_math, &tta_kernels_math_count},
    {tta_kernels_nn, &tta_kernels_nn_count},
    {tta_kernels_tensor, &tta_kernels_tensor_count},
    {tta_kernels_misc, &tta_kernels_misc_count},
};

static bool same_domain(const char *a, const char *b) {
    /* "" and "ai.onnx" name the same default domain. */
    if (!a || !strcmp(a, "ai.onnx")) a = "";
    if (!b || !strcmp(b, "ai.onnx")) b = "";
    return strcmp(a, b) == 0;
}

const tta_kernel *tta_kernel_find(const tta_node *node) {
    for (size_t f = 0; f < sizeof families / sizeof families[0]; f++) {
        for (int k = 0; k < *families[f].count; k++) {
            const tta_kernel *kd = &families[f].kernels[k];
            if (!kd->op_type || strcmp(kd->op_type, node->op_type) || !same_domain(kd->domain, node->domain))
                continue;
            if (node->opset < kd->since || (kd->until && node->opset > kd->until)) continue;
            if (kd->accepts && !kd->accepts(node)) continue;
            return kd;
        }
    }
    return NULL;
}

bool tta_kernel_known_op(const char *domain, const char *op_type) {
    for (size_t f = 0; f < sizeof families / sizeof families[0]; f++)
        for (int k = 0; k < *families[f].count; k++) {
            const tta_kernel *kd = &families[f].kernels[k];
            if (kd->op_type && !strcmp(kd->op_type, op_type) && same_domain(kd->domain, domain)) return true;
        }
    return false;
}
