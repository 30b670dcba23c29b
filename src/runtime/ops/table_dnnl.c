/* table_dnnl.c - the kernel table of the oneDNN-backed operators (see registry.c). They come
 * first in the lookup; each `accepts` only the nodes oneDNN handles exactly like ONNX. */
#include "runtime/op.h"

const tta_kernel tta_kernels_dnnl[] = {
    {0},
};
const int tta_kernels_dnnl_count = 0;
