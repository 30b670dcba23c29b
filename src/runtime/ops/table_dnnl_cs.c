/* table_dnnl_cs.c - the kernel table of the oneDNN-backed Concat and Softmax (see registry.c:
 * after table_dnnl.c, before the plain C families). Every entry falls back to the plain C kernel
 * at run time for dtypes and shapes oneDNN does not take (see dnnl_concat.c, dnnl_softmax.c). */
#include "runtime/ops/dnnl_cs.h"

const tta_kernel tta_kernels_dnnl_cs[] = {
    {"", "Concat", 1, 0, "dnnl", NULL, tta_dnnl_concat_prepare, tta_dnnl_concat_infer, tta_dnnl_concat_compute,
     tta_dnnl_concat_release, tta_dnnl_concat_layouts},
    {"", "Softmax", 1, 0, "dnnl", NULL, tta_dnnl_softmax_prepare, tta_dnnl_softmax_infer, tta_dnnl_softmax_compute,
     tta_dnnl_softmax_release, NULL},
    /* LogSoftmax stays on the C kernel: oneDNN's softmax_log misses the tolerance near 0 */
};
const int tta_kernels_dnnl_cs_count = (int)(sizeof tta_kernels_dnnl_cs / sizeof tta_kernels_dnnl_cs[0]);
