/* math_unary.c - the element-wise unary operators: activations (Relu, LeakyRelu, Clip, Sigmoid,
 * Tanh, HardSigmoid, HardSwish, Elu, Selu, Celu, Softplus, Softsign, ThresholdedRelu, Shrink),
 * arithmetic and rounding (Sqrt, Exp, Log, Neg, Abs, Reciprocal, Floor, Ceil, Round, Sign, Erf),
 * trigonometry (Sin ... Atanh), the tests IsNaN and IsInf, and the logical Not.
 *
 * One kernel serves them all: prepare maps op_type and attributes to a unary_state; compute
 * picks a typed loop by dtype and runs it over chunks of the tensor (in parallel when it is
 * large). The float loops are written once for float and double through <tgmath.h>; each op is
 * its own tight loop, so the switch is taken once per chunk, never per element. float16 is
 * computed as float32 and rounded back.
 */
#include <float.h>
#include <string.h>
#include <tgmath.h>

#include "core/alloc.h"
#include "core/cpu.h"
#include "runtime/ops/math.h"

typedef enum unary_op {
    U_RELU,
    U_LEAKYRELU,
    U_CLIP,
    U_SIGMOID,
    U_TANH,
    U_HARDSIGMOID,
    U_HARDSWISH,
    U_ELU,
    U_SELU,
    U_CELU,
    U_SOFTPLUS,
    U_SOFTSIGN,
    U_ERF,
    U_SQRT,
    U_EXP,
    U_LOG,
    U_NEG,
    U_ABS,
    U_RECIPROCAL,
    U_FLOOR,
    U_CEIL,
    U_ROUND,
    U_SIGN,
    U_SIN,
    U_COS,
    U_TAN,
    U_ASIN,
    U_ACOS,
    U_ATAN,
    U_SINH,
    U_COSH,
    U_ASINH,
    U_ACOSH,
    U_ATANH,
    U_ISNAN,
    U_ISINF,
    U_THRESHOLDEDRELU,
    U_SHRINK,
    U_GELU,      /* x * (erf(x / sqrt 2) + 1) / 2, in that order (as PyTorch decomposes it) */
    U_GELU_TANH, /* Gelu with approximate="tanh" */
    U_NOT
} unary_op;

/* Which input dtypes an op takes. */
enum { T_FLOAT = 1, T_SINT = 2, T_UINT = 4, T_BOOL = 8, T_NUM = T_FLOAT | T_SINT | T_UINT };

static const struct {
    const char *name;
    unary_op op;
    int types;
} unary_ops[] = {
    {"Relu", U_RELU, T_NUM},
    {"LeakyRelu", U_LEAKYRELU, T_FLOAT},
    {"Clip", U_CLIP, T_NUM},
    {"Sigmoid", U_SIGMOID, T_FLOAT},
    {"Tanh", U_TANH, T_FLOAT},
    {"HardSigmoid", U_HARDSIGMOID, T_FLOAT},
    {"HardSwish", U_HARDSWISH, T_FLOAT},
    {"Elu", U_ELU, T_FLOAT},
    {"Selu", U_SELU, T_FLOAT},
    {"Celu", U_CELU, T_FLOAT},
    {"Softplus", U_SOFTPLUS, T_FLOAT},
    {"Softsign", U_SOFTSIGN, T_FLOAT},
    {"Erf", U_ERF, T_FLOAT},
    {"Gelu", U_GELU, T_FLOAT},
    {"Sqrt", U_SQRT, T_FLOAT},
    {"Exp", U_EXP, T_FLOAT},
    {"Log", U_LOG, T_FLOAT},
    {"Neg", U_NEG, T_FLOAT | T_SINT},
    {"Abs", U_ABS, T_NUM},
    {"Reciprocal", U_RECIPROCAL, T_FLOAT},
    {"Floor", U_FLOOR, T_FLOAT},
    {"Ceil", U_CEIL, T_FLOAT},
    {"Round", U_ROUND, T_FLOAT},
    {"Sign", U_SIGN, T_NUM},
    {"Sin", U_SIN, T_FLOAT},
    {"Cos", U_COS, T_FLOAT},
    {"Tan", U_TAN, T_FLOAT},
    {"Asin", U_ASIN, T_FLOAT},
    {"Acos", U_ACOS, T_FLOAT},
    {"Atan", U_ATAN, T_FLOAT},
    {"Sinh", U_SINH, T_FLOAT},
    {"Cosh", U_COSH, T_FLOAT},
    {"Asinh", U_ASINH, T_FLOAT},
    {"Acosh", U_ACOSH, T_FLOAT},
    {"Atanh", U_ATANH, T_FLOAT},
    {"IsNaN", U_ISNAN, T_FLOAT},
    {"IsInf", U_ISINF, T_FLOAT},
    {"ThresholdedRelu", U_THRESHOLDEDRELU, T_FLOAT},
    {"Shrink", U_SHRINK, T_NUM},
    {"Not", U_NOT, T_BOOL},
};

typedef struct unary_state {
    unary_op op;
    int types;
    float alpha, beta, gamma;    /* LeakyRelu, HardSigmoid, Elu, Selu, Celu, ThresholdedRelu */
    float lambd, bias;           /* Shrink */
    bool clip_inputs;            /* Clip >= 11: bounds are inputs 1 and 2, else attributes */
    float clip_min, clip_max;    /* Clip < 11 */
    bool detect_pos, detect_neg; /* IsInf */
} unary_state;

/* Per-call arguments of the typed loops. */
typedef struct unary_args {
    const unary_state *s;
    double flo, fhi;  /* Clip bounds for float types (+-inf when absent) */
    int64_t ilo, ihi; /* Clip bounds for integer types, as the bits of the element type */
    bool has_lo, has_hi;
} unary_args;

typedef void (*unary_fn)(const unary_args *a, const void *x, void *y, int64_t n);

/* ---- fast float32 exp and tanh
 *
 * glibc's expf, tanhf and log1pf are scalar calls; these branch-free versions vectorise inside
 * the loops below (Sigmoid, Tanh, Exp and Softplus run several times faster) and are accurate to about one
 * ulp (Cephes polynomials), far inside the 1e-3 relative tolerance the runtime is held to.
 * Double keeps libm.
 *
 * FP exception flags are never read; without no-trapping-math GCC keeps the float selects as
 * branches (a compare may raise "invalid") and the loops do not vectorise. */
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC push_options
#pragma GCC optimize("no-trapping-math")
#endif

static inline float fast_expf(float x) {
    /* exp(x) = 2^n * exp(r), n = round(x / ln2), |r| <= ln2 / 2 */
    float xc = x > 88.7f ? 88.7f : x;
    xc = xc < -87.0f ? -87.0f : xc;
    xc = x != x ? 0.0f : xc; /* NaN: computed as 0 (no float-to-int of NaN below), returned as NaN */
    float fn = (xc * 1.44269504088896341f + 12582912.0f) - 12582912.0f; /* round to nearest */
    float r = xc - fn * 0.693359375f - fn * -2.12194440e-4f;
    float p = 1.9875691500e-4f;
    p = p * r + 1.3981999507e-3f;
    p = p * r + 8.3334519073e-3f;
    p = p * r + 4.1665795894e-2f;
    p = p * r + 1.6666665459e-1f;
    p = p * r + 5.0000001201e-1f;
    p = p * (r * r) + r + 1.0f;
    union {
        uint32_t u;
        float f;
    } scale;
    scale.u = (uint32_t)((int32_t)fn + 126) << 23; /* 2^(n-1): stays finite for n = 128 */
    float y = p * scale.f * 2.0f;
    y = x > 88.72283935546875f ? INFINITY : y;
    return x != x ? x : y; /* NaN stays NaN */
}

static inline float fast_tanhf(float x) {
    /* |x| < 0.625: odd polynomial (no cancellation near 0); else 1 - 2 / (exp(2|x|) + 1) */
    float ax = fabsf(x), z = x * x;
    float p = -5.70498872745e-3f;
    p = p * z + 2.06390887954e-2f;
    p = p * z - 5.37397155531e-2f;
    p = p * z + 1.33314422036e-1f;
    p = p * z - 3.33332819422e-1f;
    float small = p * z * x + x;
    float big = 1.0f - 2.0f / (fast_expf(2.0f * ax) + 1.0f);
    big = x < 0 ? -big : big;
    return ax < 0.625f ? small : big;
}

/* log(x) for x in [1, 2] (Softplus's 1 + exp(-|v|)): Cephes logf's reduction and polynomial. */
static inline float fast_log12f(float x) {
    union {
        float f;
        uint32_t u;
    } b = {x};
    float e = (float)((int)(b.u >> 23) - 127);
    b.u = (b.u & 0x007fffffu) | 0x3f800000u; /* mantissa in [1, 2) */
    float m = b.f;
    float big = m > 1.41421356f ? 1.0f : 0.0f; /* m in [sqrt(1/2), sqrt(2)) */
    m = big > 0 ? 0.5f * m : m;
    e += big;
    float t = m - 1.0f, z = t * t;
    float y = 7.0376836292e-2f;
    y = y * t - 1.1514610310e-1f;
    y = y * t + 1.1676998740e-1f;
    y = y * t - 1.2420140846e-1f;
    y = y * t + 1.4249322787e-1f;
    y = y * t - 1.6668057665e-1f;
    y = y * t + 2.0000714765e-1f;
    y = y * t - 2.4999993993e-1f;
    y = y * t + 3.3333331174e-1f;
    y = y * t * z - 2.12194440e-4f * e - 0.5f * z;
    return t + y + 0.693359375f * e;
}

/* softplus(v) = max(v, 0) + log1p(exp(-|v|)); log1p(t) as log(u) * t / (u - 1), u = 1 + t, which
 * keeps its relative accuracy for tiny t. */
static inline float fast_softplusf(float v) {
    float t = fast_expf(-fabsf(v)), u = 1.0f + t;
    float l = u == 1.0f ? t : fast_log12f(u) * (t / (u - 1.0f));
    return (v > 0.0f ? v : 0.0f) + l;
}

static inline double libm_softplus(double v) { return v > 0 ? v + log1p(exp(-v)) : log1p(exp(v)); }
#define SOFTPLUS_FAST(v) _Generic((v), float : fast_softplusf, double : libm_softplus)(v)

/* erf(x) as a rational function of x on [-4, 4] (outside, +-1 in float): the odd numerator of
 * degree 13 and even denominator of degree 8 that Eigen and XLA use for float; a few ulp, and it
 * vectorises where glibc's erf is a scalar double call (bench/README.md, "Measured choices"). */
static inline float fast_erff(float v) {
    float x = v > 4.0f ? 4.0f : (v < -4.0f ? -4.0f : v), x2 = x * x;
    float p = x2 * -2.72614225801306e-10f + 2.77068142495902e-08f;
    p = x2 * p + -2.10102402082508e-06f;
    p = x2 * p + -5.69250639462346e-05f;
    p = x2 * p + -7.34990630326855e-04f;
    p = x2 * p + -2.95459980854025e-03f;
    p = x2 * p + -1.60960333262415e-02f;
    float q = x2 * -1.45660718464996e-05f + -2.13374055278905e-04f;
    q = x2 * q + -1.68282697438203e-03f;
    q = x2 * q + -7.37332916720468e-03f;
    q = x2 * q + -1.42647390514189e-02f;
    float r = x * p / q;
    return v != v ? v : r; /* NaN stays NaN */
}
static inline double libm_erf(double x) { return erf(x); }
#define ERF_FAST(v) _Generic((v), float : fast_erff, double : libm_erf)(v)

static inline double libm_exp(double x) { return exp(x); }
static inline double libm_tanh(double x) { return tanh(x); }
#define EXP_FAST(v) _Generic((v), float : fast_expf, double : libm_exp)(v)
#define TANH_FAST(v) _Generic((v), float : fast_tanhf, double : libm_tanh)(v)

/* ---- float loops, written once for float and double */

#define ULOOP(EXPR)                                                                                          \
    do {                                                                                                     \
        _Pragma("omp simd") for (int64_t i = 0; i < n; i++) {                                                \
            elem v = x[i];                                                                                   \
            y[i] = (EXPR);                                                                                   \
        }                                                                                                    \
    } while (0)

/* clamp to [0, 1] keeping NaN, as np.clip does */
#define CLAMP01(t) ((t) < zero ? zero : ((t) > one ? one : (t)))

#define UNARY_FLOAT_FN(NAME, T) UNARY_FLOAT_FN_ATTR(, NAME, T)
#define UNARY_FLOAT_FN_ATTR(ATTR, NAME, T)                                                                   \
    ATTR static void NAME(const unary_args *a, const void *px, void *py, int64_t n) {                        \
        typedef T elem;                                                                                      \
        const elem *x = px;                                                                                  \
        elem *y = py;                                                                                        \
        const unary_state *s = a->s;                                                                         \
        const elem alpha = (elem)s->alpha, beta = (elem)s->beta, gamma = (elem)s->gamma;                     \
        const elem zero = 0, one = 1, lo = (elem)a->flo, hi = (elem)a->fhi;                                  \
        const elem lambd = (elem)s->lambd, bias = (elem)s->bias;                                             \
        switch (s->op) {                                                                                     \
        case U_RELU: ULOOP(v < zero ? zero : v); break;                                                      \
        case U_LEAKYRELU: ULOOP(v < zero ? alpha * v : v); break;                                            \
        case U_CLIP: ULOOP((v < lo ? lo : v) > hi ? hi : (v < lo ? lo : v)); break;                          \
        case U_SIGMOID: ULOOP(one / (one + EXP_FAST(-v))); break;                                            \
        case U_TANH: ULOOP(TANH_FAST(v)); break;                                                             \
        case U_HARDSIGMOID: ULOOP(CLAMP01(alpha *v + beta)); break;                                          \
        case U_HARDSWISH: ULOOP(v *CLAMP01(v / (elem)6 + (elem)0.5)); break;                                 \
        case U_ELU: ULOOP(v < zero ? alpha * expm1(v) : v); break;                                           \
        case U_SELU: ULOOP(v <= zero ? gamma * alpha * expm1(v) : gamma * v); break;                         \
        case U_CELU: ULOOP(v > zero ? v : alpha * expm1(v / alpha)); break;                                  \
        case U_SOFTPLUS: ULOOP(SOFTPLUS_FAST(v)); break;                                                     \
        case U_SOFTSIGN: ULOOP(v / (one + fabs(v))); break;                                                  \
        case U_ERF: ULOOP(ERF_FAST(v)); break;                                                               \
        case U_GELU: ULOOP(v * (ERF_FAST(v / (elem)1.4142135381698608) + one) * (elem)0.5); break;          \
        case U_GELU_TANH:                                                                                    \
            ULOOP((elem)0.5 * v *                                                                            \
                  (one + TANH_FAST((elem)0.7978845608028654 * (v + (elem)0.044715 * v * v * v))));          \
            break;                                                                                           \
        case U_SQRT: ULOOP(sqrt(v)); break;                                                                  \
        case U_EXP: ULOOP(EXP_FAST(v)); break;                                                               \
        case U_LOG: ULOOP(log(v)); break;                                                                    \
        case U_NEG: ULOOP(-v); break;                                                                        \
        case U_ABS: ULOOP(fabs(v)); break;                                                                   \
        case U_RECIPROCAL: ULOOP(one / v); break;                                                            \
        case U_FLOOR: ULOOP(floor(v)); break;                                                                \
        case U_CEIL: ULOOP(ceil(v)); break;                                                                  \
        case U_ROUND: ULOOP(nearbyint(v)); break; /* default rounding mode: half to even */                  \
        case U_SIGN: ULOOP(v > zero ? one : (v < zero ? -one : v)); break;                                   \
        case U_SIN: ULOOP(sin(v)); break;                                                                    \
        case U_COS: ULOOP(cos(v)); break;                                                                    \
        case U_TAN: ULOOP(tan(v)); break;                                                                    \
        case U_ASIN: ULOOP(asin(v)); break;                                                                  \
        case U_ACOS: ULOOP(acos(v)); break;                                                                  \
        case U_ATAN: ULOOP(atan(v)); break;                                                                  \
        case U_SINH: ULOOP(sinh(v)); break;                                                                  \
        case U_COSH: ULOOP(cosh(v)); break;                                                                  \
        case U_ASINH: ULOOP(asinh(v)); break;                                                                \
        case U_ACOSH: ULOOP(acosh(v)); break;                                                                \
        case U_ATANH: ULOOP(atanh(v)); break;                                                                \
        case U_THRESHOLDEDRELU: ULOOP(v > alpha ? v : zero); break;                                          \
        case U_SHRINK: ULOOP(v < -lambd ? v + bias : (v > lambd ? v - bias : zero)); break;                  \
        default: break;                                                                                      \
        }                                                                                                    \
    }

UNARY_FLOAT_FN(unary_f32, float)
UNARY_FLOAT_FN(unary_f64, double)
/* float32 also built for AVX2 and AVX-512 (picked by tta_cpu_isa(); no FMA contraction, so the
 * same bits as the baseline build, which alone runs at SSE width) */
UNARY_FLOAT_FN_ATTR(TTA_TARGET_AVX2, unary_f32_avx2, float)
UNARY_FLOAT_FN_ATTR(TTA_TARGET_AVX512, unary_f32_avx512, float)

#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC pop_options
#endif

/* IsNaN / IsInf: float in, bool out. */
#define UNARY_TEST_FN(NAME, T)                                                                               \
    static void NAME(const unary_args *a, const void *px, void *py, int64_t n) {                             \
        const T *x = px;                                                                                     \
        uint8_t *y = py;                                                                                     \
        const unary_state *s = a->s;                                                                         \
        if (s->op == U_ISNAN) {                                                                              \
            for (int64_t i = 0; i < n; i++)                                                                  \
                y[i] = isnan(x[i]) != 0;                                                                     \
        } else {                                                                                             \
            for (int64_t i = 0; i < n; i++)                                                                  \
                y[i] = isinf(x[i]) && (x[i] > 0 ? s->detect_pos : s->detect_neg);                            \
        }                                                                                                    \
    }

UNARY_TEST_FN(test_f32, float)
UNARY_TEST_FN(test_f64, double)

/* ---- integer loops (Relu, Clip, Neg, Abs, Sign, Shrink). Negation goes through uint64 so
 * that the most negative value wraps instead of overflowing. */

#define UNARY_INT_FN(NAME, T)                                                                                \
    static void NAME(const unary_args *a, const void *px, void *py, int64_t n) {                             \
        const T *x = px;                                                                                     \
        T *y = py;                                                                                           \
        const T zero = 0, lo = (T)a->ilo, hi = (T)a->ihi;                                                    \
        const unary_state *s = a->s;                                                                         \
        switch (s->op) {                                                                                     \
        case U_RELU:                                                                                         \
            for (int64_t i = 0; i < n; i++)                                                                  \
                y[i] = x[i] < zero ? zero : x[i];                                                            \
            break;                                                                                           \
        case U_CLIP:                                                                                         \
            for (int64_t i = 0; i < n; i++) {                                                                \
                T v = x[i];                                                                                  \
                if (a->has_lo && v < lo) v = lo;                                                             \
                if (a->has_hi && v > hi) v = hi;                                                             \
                y[i] = v;                                                                                    \
            }                                                                                                \
            break;                                                                                           \
        case U_NEG:                                                                                          \
            for (int64_t i = 0; i < n; i++)                                                                  \
                y[i] = (T)(0 - (uint64_t)x[i]);                                                              \
            break;                                                                                           \
        case U_ABS:                                                                                          \
            for (int64_t i = 0; i < n; i++)                                                                  \
                y[i] = x[i] < zero ? (T)(0 - (uint64_t)x[i]) : x[i];                                         \
            break;                                                                                           \
        case U_SIGN:                                                                                         \
            for (int64_t i = 0; i < n; i++)                                                                  \
                y[i] = (T)((x[i] > zero) - (x[i] < zero));                                                   \
            break;                                                                                           \
        case U_SHRINK:                                                                                       \
            for (int64_t i = 0; i < n; i++) {                                                                \
                double v = (double)x[i];                                                                     \
                y[i] = (T)(v < -s->lambd ? v + s->bias : (v > s->lambd ? v - s->bias : 0.0));                \
            }                                                                                                \
            break;                                                                                           \
        default: break;                                                                                      \
        }                                                                                                    \
    }

UNARY_INT_FN(unary_i8, int8_t)
UNARY_INT_FN(unary_i16, int16_t)
UNARY_INT_FN(unary_i32, int32_t)
UNARY_INT_FN(unary_i64, int64_t)
UNARY_INT_FN(unary_u8, uint8_t)
UNARY_INT_FN(unary_u16, uint16_t)
UNARY_INT_FN(unary_u32, uint32_t)
UNARY_INT_FN(unary_u64, uint64_t)

static void unary_not(const unary_args *a, const void *px, void *py, int64_t n) {
    const uint8_t *x = px;
    uint8_t *y = py;
    (void)a;
    for (int64_t i = 0; i < n; i++)
        y[i] = !x[i];
}

static const unary_fn int_fns[TTA_DTYPE_UINT64 + 1] = {
    [TTA_DTYPE_INT8] = unary_i8,    [TTA_DTYPE_INT16] = unary_i16,  [TTA_DTYPE_INT32] = unary_i32,
    [TTA_DTYPE_INT64] = unary_i64,  [TTA_DTYPE_UINT8] = unary_u8,   [TTA_DTYPE_UINT16] = unary_u16,
    [TTA_DTYPE_UINT32] = unary_u32, [TTA_DTYPE_UINT64] = unary_u64,
};

static int dtype_class(tta_dtype d) {
    switch (d) {
    case TTA_DTYPE_FLOAT16:
    case TTA_DTYPE_FLOAT32:
    case TTA_DTYPE_FLOAT64: return T_FLOAT;
    case TTA_DTYPE_INT8:
    case TTA_DTYPE_INT16:
    case TTA_DTYPE_INT32:
    case TTA_DTYPE_INT64: return T_SINT;
    case TTA_DTYPE_UINT8:
    case TTA_DTYPE_UINT16:
    case TTA_DTYPE_UINT32:
    case TTA_DTYPE_UINT64: return T_UINT;
    case TTA_DTYPE_BOOL: return T_BOOL;
    default: return 0;
    }
}

/* ---- the kernel */

tta_status tta_math_unary_prepare(tta_op_ctx *ctx) {
    const tta_node *node = ctx->node;
    int k = -1;
    for (size_t i = 0; i < sizeof unary_ops / sizeof unary_ops[0]; i++)
        if (!strcmp(unary_ops[i].name, node->op_type)) k = (int)i;
    if (k < 0) return tta_op_error(ctx, TTA_ERR_INTERNAL, "not a unary math op");
    unary_state *s = tta_calloc(1, sizeof *s);
    if (!s) return tta_op_error(ctx, TTA_ERR_NOMEM, "out of memory");
    s->op = unary_ops[k].op;
    s->types = unary_ops[k].types;
    switch (s->op) {
    case U_LEAKYRELU: s->alpha = tta_attr_float(node, "alpha", 0.01f); break;
    case U_HARDSIGMOID:
        s->alpha = tta_attr_float(node, "alpha", 0.2f);
        s->beta = tta_attr_float(node, "beta", 0.5f);
        break;
    case U_ELU: s->alpha = tta_attr_float(node, "alpha", 1.0f); break;
    case U_SELU:
        s->alpha = tta_attr_float(node, "alpha", 1.67326319217681884765625f);
        s->gamma = tta_attr_float(node, "gamma", 1.05070102214813232421875f);
        break;
    case U_CELU:
        s->alpha = tta_attr_float(node, "alpha", 1.0f);
        if (s->alpha == 0.0f) {
            tta_free(s);
            return tta_op_error(ctx, TTA_ERR_ATTR, "alpha must not be 0");
        }
        break;
    case U_THRESHOLDEDRELU: s->alpha = tta_attr_float(node, "alpha", 1.0f); break;
    case U_GELU: {
        const char *ap = tta_attr_string(node, "approximate", "none");
        if (!strcmp(ap, "tanh")) s->op = U_GELU_TANH;
        else if (strcmp(ap, "none")) {
            tta_free(s);
            return tta_op_error(ctx, TTA_ERR_ATTR, "approximate '%s' (want none or tanh)", ap);
        }
        break;
    }
    case U_SHRINK:
        s->lambd = tta_attr_float(node, "lambd", 0.5f);
        s->bias = tta_attr_float(node, "bias", 0.0f);
        break;
    case U_CLIP:
        s->clip_inputs = node->opset >= 11;
        s->clip_min = tta_attr_float(node, "min", -FLT_MAX);
        s->clip_max = tta_attr_float(node, "max", FLT_MAX);
        break;
    case U_ISINF:
        s->detect_pos = tta_attr_int(node, "detect_positive", 1) != 0;
        s->detect_neg = tta_attr_int(node, "detect_negative", 1) != 0;
        break;
    default: break;
    }
    ctx->state = s;
    return TTA_OK;
}

/* Clip >= 11: input k (1 = min, 2 = max) when given; an empty tensor counts as absent. */
static const tta_tensor *clip_bound(const tta_op_ctx *ctx, int k) {
    if (ctx->n_in <= k || !ctx->in[k]) return NULL;
    if (ctx->in[k]->ndim > 0 && tta_tensor_numel(ctx->in[k]) == 0) return NULL;
    return ctx->in[k];
}

tta_status tta_math_unary_infer(tta_op_ctx *ctx) {
    const unary_state *s = ctx->state;
    if (!s) return tta_op_error(ctx, TTA_ERR_INTERNAL, "kernel not prepared");
    TTA_NEED_INPUT(ctx, 0);
    const tta_tensor *x = ctx->in[0];
    if (!(dtype_class(x->dtype) & s->types))
        return tta_op_error(ctx, TTA_ERR_UNSUPPORTED, "input type %s is not supported",
                            tta_dtype_name(x->dtype));
    if (s->op == U_CLIP && s->clip_inputs) {
        for (int k = 1; k <= 2; k++) {
            const tta_tensor *b = clip_bound(ctx, k);
            if (!b) continue;
            if (b->dtype != x->dtype)
                return tta_op_error(ctx, TTA_ERR_SHAPE, "%s has type %s, input has %s",
                                    k == 1 ? "min" : "max", tta_dtype_name(b->dtype),
                                    tta_dtype_name(x->dtype));
            if (tta_tensor_numel(b) != 1)
                return tta_op_error(ctx, TTA_ERR_SHAPE, "%s must be a scalar", k == 1 ? "min" : "max");
        }
    }
    if (ctx->n_out < 1 || !ctx->out[0]) return tta_op_error(ctx, TTA_ERR_SHAPE, "missing output");
    tta_dtype odt = (s->op == U_ISNAN || s->op == U_ISINF) ? TTA_DTYPE_BOOL : x->dtype;
    return tta_set_shape(ctx->out[0], odt, x->ndim, x->dims);
}

#define UNARY_CHUNK 16384

static void run_chunks(unary_fn fn, const unary_args *a, const void *x, size_t xes, void *y, size_t yes,
                       int64_t n, int n_threads) {
    int64_t chunks = (n + UNARY_CHUNK - 1) / UNARY_CHUNK;
#pragma omp parallel for num_threads(n_threads) if (chunks > 1 && n_threads > 1) schedule(static)
    for (int64_t c = 0; c < chunks; c++) {
        int64_t lo = c * UNARY_CHUNK, len = n - lo < UNARY_CHUNK ? n - lo : UNARY_CHUNK;
        fn(a, (const char *)x + lo * (int64_t)xes, (char *)y + lo * (int64_t)yes, len);
    }
}

/* Runs the op on x into y; x is never float16 here. */
static tta_status unary_run(tta_op_ctx *ctx, const tta_tensor *x, tta_tensor *y) {
    const unary_state *s = ctx->state;
    unary_args a = {.s = s, .flo = -INFINITY, .fhi = INFINITY};
    if (s->op == U_CLIP) {
        if (!s->clip_inputs) {
            a.flo = s->clip_min;
            a.fhi = s->clip_max;
            a.has_lo = a.has_hi = true;
        } else {
            const tta_tensor *lo = clip_bound(ctx, 1), *hi = clip_bound(ctx, 2);
            if (lo) {
                a.has_lo = true;
                a.flo = tta_get_f64(lo, 0);
                a.ilo = lo->dtype == TTA_DTYPE_UINT64 ? (int64_t)((const uint64_t *)lo->data)[0]
                                                      : tta_get_i64(lo, 0);
            }
            if (hi) {
                a.has_hi = true;
                a.fhi = tta_get_f64(hi, 0);
                a.ihi = hi->dtype == TTA_DTYPE_UINT64 ? (int64_t)((const uint64_t *)hi->data)[0]
                                                      : tta_get_i64(hi, 0);
            }
        }
    }
    unary_fn fn = NULL;
    bool test = s->op == U_ISNAN || s->op == U_ISINF;
    switch (x->dtype) {
    case TTA_DTYPE_FLOAT32:
        fn = test ? test_f32 : TTA_ISA_PICK(unary_f32, unary_f32_avx2, unary_f32_avx512);
        break;
    case TTA_DTYPE_FLOAT64: fn = test ? test_f64 : unary_f64; break;
    case TTA_DTYPE_BOOL: fn = unary_not; break;
    default: fn = (x->dtype >= 0 && x->dtype <= TTA_DTYPE_UINT64) ? int_fns[x->dtype] : NULL; break;
    }
    if (!fn)
        return tta_op_error(ctx, TTA_ERR_UNSUPPORTED, "input type %s is not supported",
                            tta_dtype_name(x->dtype));
    run_chunks(fn, &a, x->data, tta_dtype_size(x->dtype), y->data, tta_dtype_size(y->dtype),
               tta_tensor_numel(x), tta_math_threads(ctx));
    return TTA_OK;
}

tta_status tta_math_unary_compute(tta_op_ctx *ctx) {
    const tta_tensor *x = ctx->in[0];
    tta_tensor *y = ctx->out[0];
    if (x->dtype != TTA_DTYPE_FLOAT16) return unary_run(ctx, x, y);
    /* float16: compute in float32, round the result back. */
    tta_tensor xf = {0}, yf = {0};
    tta_status st = tta_math_to_f32(x, &xf);
    if (st == TTA_OK && y->dtype == TTA_DTYPE_FLOAT16)
        st = tta_tensor_resize(&yf, TTA_DTYPE_FLOAT32, y->ndim, y->dims);
    if (st == TTA_OK) st = unary_run(ctx, &xf, y->dtype == TTA_DTYPE_FLOAT16 ? &yf : y);
    if (st == TTA_OK && y->dtype == TTA_DTYPE_FLOAT16) tta_math_store(&yf, y);
    tta_tensor_destroy(&xf);
    tta_tensor_destroy(&yf);
    return st;
}

void tta_math_unary_release(tta_op_ctx *ctx) {
    tta_free(ctx->state);
    ctx->state = NULL;
}
