/* table_math.c - the kernel table of the 'math' operator family (see registry.c).
 *
 * Three generic kernels serve the family (math.h): the unary one (math_unary.c), the
 * broadcasting binary/variadic/Where one (math_binary.c) and Cast/CastLike (math_cast.c).
 * Their prepare reads the op from node->op_type; opset differences (Clip attributes before 11,
 * legacy broadcast before 7, Cast's string 'to' in opset 1) are handled there, so each op has
 * one entry from the opset it appeared in.
 */
#include "runtime/ops/math.h"

#define UNARY(op, since)                                                                                     \
    {                                                                                                        \
        "", op, since, 0, "c", NULL, tta_math_unary_prepare, tta_math_unary_infer, tta_math_unary_compute,   \
            tta_math_unary_release                                                                           \
    }
#define BINARY(op, since)                                                                                    \
    {                                                                                                        \
        "", op, since, 0, "c", NULL, tta_math_binary_prepare, tta_math_binary_infer,                         \
            tta_math_binary_compute, tta_math_binary_release                                                 \
    }
#define CAST(op, since)                                                                                      \
    {                                                                                                        \
        "", op, since, 0, "c", NULL, tta_math_cast_prepare, tta_math_cast_infer, tta_math_cast_compute,      \
            tta_math_cast_release                                                                            \
    }

const tta_kernel tta_kernels_math[] = {
    /* activations */
    UNARY("Relu", 1),
    UNARY("LeakyRelu", 1),
    UNARY("Clip", 1),
    UNARY("Sigmoid", 1),
    UNARY("Tanh", 1),
    UNARY("HardSigmoid", 1),
    UNARY("HardSwish", 14),
    UNARY("Elu", 1),
    UNARY("Selu", 1),
    UNARY("Celu", 12),
    UNARY("Softplus", 1),
    UNARY("Softsign", 1),
    UNARY("ThresholdedRelu", 10),
    UNARY("Shrink", 9),
    /* arithmetic, rounding, tests */
    UNARY("Erf", 9),
    UNARY("Gelu", 1), /* ONNX has it from opset 20; rewrite.c makes it from PyTorch's decomposition */
    UNARY("Sqrt", 1),
    UNARY("Exp", 1),
    UNARY("Log", 1),
    UNARY("Neg", 1),
    UNARY("Abs", 1),
    UNARY("Reciprocal", 1),
    UNARY("Floor", 1),
    UNARY("Ceil", 1),
    UNARY("Round", 11),
    UNARY("Sign", 9),
    UNARY("IsNaN", 9),
    UNARY("IsInf", 10),
    UNARY("Not", 1),
    /* trigonometry */
    UNARY("Sin", 7),
    UNARY("Cos", 7),
    UNARY("Tan", 7),
    UNARY("Asin", 7),
    UNARY("Acos", 7),
    UNARY("Atan", 7),
    UNARY("Sinh", 9),
    UNARY("Cosh", 9),
    UNARY("Asinh", 9),
    UNARY("Acosh", 9),
    UNARY("Atanh", 9),
    /* binary with broadcasting */
    BINARY("Add", 1),
    BINARY("Sub", 1),
    BINARY("Mul", 1),
    BINARY("Div", 1),
    BINARY("Pow", 1),
    BINARY("Mod", 10),
    BINARY("PRelu", 1),
    BINARY("Equal", 1),
    BINARY("Greater", 1),
    BINARY("Less", 1),
    BINARY("GreaterOrEqual", 12),
    BINARY("LessOrEqual", 12),
    BINARY("And", 1),
    BINARY("Or", 1),
    BINARY("Xor", 1),
    BINARY("BitShift", 11),
    /* variadic and three-way */
    BINARY("Min", 1),
    BINARY("Max", 1),
    BINARY("Sum", 1),
    BINARY("Mean", 1),
    BINARY("Where", 9),
    /* conversion */
    CAST("Cast", 1),
    CAST("CastLike", 15),
};
const int tta_kernels_math_count = (int)(sizeof tta_kernels_math / sizeof tta_kernels_math[0]);
