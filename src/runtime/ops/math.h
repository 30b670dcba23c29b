/* math.h - private interface of the 'math' operator family (element-wise unary ops, binary and
 * variadic ops with numpy broadcasting, Where, Cast/CastLike). Only table_math.c and the
 * math_*.c files include it.
 *
 * Each file exposes one generic kernel (prepare/infer/compute/release) that serves every op of
 * its kind: prepare reads node->op_type and the attributes once into ctx->state, so the inner
 * loops are chosen once per node and not per element.
 */
#ifndef TTA_RUNTIME_OPS_MATH_H
#define TTA_RUNTIME_OPS_MATH_H

#include "runtime/op.h"

/* math_unary.c: Relu, LeakyRelu, Clip, Sigmoid, Tanh, ..., IsNaN, IsInf, Shrink, Not. */
tta_status tta_math_unary_prepare(tta_op_ctx *ctx);
tta_status tta_math_unary_infer(tta_op_ctx *ctx);
tta_status tta_math_unary_compute(tta_op_ctx *ctx);
void tta_math_unary_release(tta_op_ctx *ctx);

/* math_binary.c: Add, Sub, Mul, Div, Pow, Mod, PRelu, comparisons, logical ops, BitShift,
 * the variadic Min, Max, Sum, Mean, and Where. */
tta_status tta_math_binary_prepare(tta_op_ctx *ctx);
tta_status tta_math_binary_infer(tta_op_ctx *ctx);
tta_status tta_math_binary_compute(tta_op_ctx *ctx);
void tta_math_binary_release(tta_op_ctx *ctx);

/* math_cast.c: Cast and CastLike. */
tta_status tta_math_cast_prepare(tta_op_ctx *ctx);
tta_status tta_math_cast_infer(tta_op_ctx *ctx);
tta_status tta_math_cast_compute(tta_op_ctx *ctx);
void tta_math_cast_release(tta_op_ctx *ctx);

/* Shared by the family (math_cast.c): float16 tensors are computed as float32.
 * tta_math_to_f32 makes dst an owned float32 copy of src (any numeric dtype; dst must be a
 * zeroed or previously used owned tensor; free it with tta_tensor_destroy).
 * tta_math_store converts src's elements into dst, whose shape and buffer are already set
 * (same element count), with the same rules as Cast. */
tta_status tta_math_to_f32(const tta_tensor *src, tta_tensor *dst);
void tta_math_store(const tta_tensor *src, tta_tensor *dst);

/* Thread count for OpenMP clauses: ctx->n_threads, at least 1. */
static inline int tta_math_threads(const tta_op_ctx *ctx) { return ctx->n_threads > 0 ? ctx->n_threads : 1; }

#endif
