/* table_misc.c - the kernel table of the 'misc' operator family (see registry.c). */
#include "runtime/op.h"

const tta_kernel tta_kernels_misc[] = {
    {0},
};
const int tta_kernels_misc_count = 0;
