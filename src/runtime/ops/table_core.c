/* table_core.c - the kernel table of the 'core' operator family (see registry.c). */
#include "runtime/op.h"

const tta_kernel tta_kernels_core[] = {
    {0},
};
const int tta_kernels_core_count = 0;
