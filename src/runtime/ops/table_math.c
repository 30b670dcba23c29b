/* table_math.c - the kernel table of the 'math' operator family (see registry.c). */
#include "runtime/op.h"

const tta_kernel tta_kernels_math[] = {
    {0},
};
const int tta_kernels_math_count = 0;
