/* table_dnnl_ew.c - the kernel table of the oneDNN-backed element-wise (unary) and binary
 * operators (see registry.c: after table_dnnl.c, before the plain C families). Each entry runs
 * the plain C kernel of its op for the cases oneDNN does not do exactly or faster (the ops not
 * listed, and why, are in dnnl_eltwise.c and dnnl_binary.c); opset ranges follow the C table's.
 * No `layouts` callbacks: the plan gives element-wise ops blocked tensors only for same-shape or
 * scalar operands, which these kernels treat as flat arrays. */
#include "runtime/ops/dnnl_ew.h"

#define ELTWISE(op, since)                                                                                   \
    {"", op, since, 0, "dnnl", NULL, tta_dnnl_eltwise_prepare, tta_dnnl_eltwise_infer,                       \
     tta_dnnl_eltwise_compute, tta_dnnl_eltwise_release, NULL}
/* opset >= 7: numpy broadcasting (the legacy broadcast/axis attributes stay with the C table) */
#define BINARY(op, since)                                                                                    \
    {"", op, since, 0, "dnnl", NULL, tta_dnnl_binary_prepare, tta_dnnl_binary_infer, tta_dnnl_binary_compute, \
     tta_dnnl_binary_release, NULL}

const tta_kernel tta_kernels_dnnl_ew[] = {
    ELTWISE("Sigmoid", 1),
    ELTWISE("Tanh", 1),
    ELTWISE("Sqrt", 1),
    ELTWISE("Round", 11),
    ELTWISE("Elu", 1),
    ELTWISE("HardSwish", 14),
    BINARY("Add", 7),
    BINARY("Sub", 7),
    BINARY("Mul", 7),
    BINARY("Div", 7),
};
const int tta_kernels_dnnl_ew_count = (int)(sizeof tta_kernels_dnnl_ew / sizeof tta_kernels_dnnl_ew[0]);
