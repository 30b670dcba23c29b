/* table_tensor.c - the kernel table of the 'tensor' operator family (see registry.c). */
#include "runtime/op.h"

const tta_kernel tta_kernels_tensor[] = {
    {0},
};
const int tta_kernels_tensor_count = 0;
