/* table_nn.c - the kernel table of the 'nn' operator family (see registry.c). */
#include "runtime/op.h"

const tta_kernel tta_kernels_nn[] = {
    {0},
};
const int tta_kernels_nn_count = 0;
