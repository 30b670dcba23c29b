/* table_dnnl_ew.c - the kernel table of the oneDNN-backed element-wise (unary) and binary
 * operators (see registry.c: after table_dnnl.c, before the plain C families). */
#include "runtime/ops/dnnl_common.h"

const tta_kernel tta_kernels_dnnl_ew[] = {
    {NULL}, /* no entries yet */
};
const int tta_kernels_dnnl_ew_count = (int)(sizeof tta_kernels_dnnl_ew / sizeof tta_kernels_dnnl_ew[0]);
