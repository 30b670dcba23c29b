/* table_dnnl_cs.c - the kernel table of the oneDNN-backed Concat and Softmax (see registry.c:
 * after table_dnnl.c, before the plain C families). */
#include "runtime/ops/dnnl_common.h"

const tta_kernel tta_kernels_dnnl_cs[] = {
    {NULL}, /* no entries yet */
};
const int tta_kernels_dnnl_cs_count = (int)(sizeof tta_kernels_dnnl_cs / sizeof tta_kernels_dnnl_cs[0]);
