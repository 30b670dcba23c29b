/* math_binary.c - element-wise operators of two or more inputs with numpy broadcasting:
 * Add, Sub, Mul, Div, Pow, Mod, PRelu, the comparisons (bool out), And/Or/Xor, BitShift, the
 * variadic Min, Max, Sum, Mean, and Where (three-way).
 *
 * Every op runs through one strided-broadcast iterator (bcast_plan): the output shape is walked
 * as rows of its innermost (collapsed) dimension, each input having a per-dimension element
 * stride that is 0 where it is broadcast. Adjacent dimensions that are contiguous for every
 * operand are merged first, so same-shape inputs become one long row and [N,C,H,W] + [1,C,1,1]
 * becomes rows of H*W against a scalar. A row function per (op, dtype) then only has to handle
 * the stride patterns 1/1, 1/0, 0/1 and 0/0, which compile to tight (vectorisable) loops.
 *
 * Integer semantics follow the ONNX reference (NumPy): Div truncates toward zero like C, Mod
 * with fmod=0 takes the sign of the divisor, division or modulo by zero gives 0 instead of
 * trapping, and signed overflow wraps. float16 inputs are computed as float32 and rounded back.
 * Opset < 7 binary ops with broadcast=1 use the legacy rule: B is aligned to A at `axis`.
 */
#include <stdio.h>
#include <string.h>
#include <tgmath.h>

#include "core/alloc.h"
#include "runtime/ops/math.h"

typedef enum bin_op {
    B_ADD,
    B_SUB,
    B_MUL,
    B_DIV,
    B_POW,
    B_MOD,
    B_PRELU,
    B_EQUAL,
    B_GREATER,
    B_LESS,
    B_GREATER_EQUAL,
    B_LESS_EQUAL,
    B_AND,
    B_OR,
    B_XOR,
    B_BITSHIFT,
    B_MIN,
    B_MAX,
    B_SUM,
    B_MEAN,
    B_WHERE
} bin_op;

typedef enum bin_kind { K_BINARY, K_VARIADIC, K_WHERE } bin_kind;

/* Input dtype classes an op takes. */
enum { T_FLOAT = 1, T_SINT = 2, T_UINT = 4, T_BOOL = 8, T_NUM = T_FLOAT | T_SINT | T_UINT };

static const struct {
    const char *name;
    bin_op op;
    bin_kind kind;
    int types;
    bool bool_out;
} bin_ops[] = {
    {"Add", B_ADD, K_BINARY, T_NUM, false},
    {"Sub", B_SUB, K_BINARY, T_NUM, false},
    {"Mul", B_MUL, K_BINARY, T_NUM, false},
    {"Div", B_DIV, K_BINARY, T_NUM, false},
    {"Pow", B_POW, K_BINARY, T_NUM, false},
    {"Mod", B_MOD, K_BINARY, T_NUM, false},
    {"PRelu", B_PRELU, K_BINARY, T_NUM, false},
    {"Equal", B_EQUAL, K_BINARY, T_NUM | T_BOOL, true},
    {"Greater", B_GREATER, K_BINARY, T_NUM | T_BOOL, true},
    {"Less", B_LESS, K_BINARY, T_NUM | T_BOOL, true},
    {"GreaterOrEqual", B_GREATER_EQUAL, K_BINARY, T_NUM | T_BOOL, true},
    {"LessOrEqual", B_LESS_EQUAL, K_BINARY, T_NUM | T_BOOL, true},
    {"And", B_AND, K_BINARY, T_BOOL, true},
    {"Or", B_OR, K_BINARY, T_BOOL, true},
    {"Xor", B_XOR, K_BINARY, T_BOOL, true},
    {"BitShift", B_BITSHIFT, K_BINARY, T_UINT, false},
    {"Min", B_MIN, K_VARIADIC, T_NUM, false},
    {"Max", B_MAX, K_VARIADIC, T_NUM, false},
    {"Sum", B_SUM, K_VARIADIC, T_NUM, false},
    {"Mean", B_MEAN, K_VARIADIC, T_NUM, false},
    {"Where", B_WHERE, K_WHERE, 0, false},
};

typedef struct bin_state {
    bin_op op;
    bin_kind kind;
    int types;
    bool bool_out;
    bool fmod;           /* Mod */
    bool shift_left;     /* BitShift */
    bool legacy;         /* opset < 7 with broadcast=1 */
    int64_t legacy_axis; /* the 'axis' attribute then; INT64_MIN when absent (numpy suffix rule) */
} bin_state;

typedef struct shape_view {
    int ndim;
    int64_t dims[TTA_MAX_DIMS];
} shape_view;

/* ---- the broadcast iterator */

/* out[i] = f(in0[i*st[0]], in1[i*st[1]], ...) for one row of n elements; st[k] is 0 or 1. */
typedef void (*row_fn)(char *out, const char *const *in, const int64_t *st, int64_t n, const void *prm);

#define MAX_OPERANDS 3

typedef struct bcast_plan {
    int ndim, n_in;
    int64_t dims[TTA_MAX_DIMS];
    int64_t stride[MAX_OPERANDS][TTA_MAX_DIMS]; /* element strides, 0 on broadcast dims */
} bcast_plan;

/* Builds the plan for an output of shape out_dims and inputs of shapes v (right-aligned, each
 * dim equal to the output's or 1: infer has checked it). Drops the output's size-1 dims and
 * merges neighbours that are contiguous for every input. */
static void plan_init(bcast_plan *p, int out_ndim, const int64_t *out_dims, int n_in, const shape_view *v) {
    int64_t st[MAX_OPERANDS][TTA_MAX_DIMS];
    for (int k = 0; k < n_in; k++) {
        int64_t run = 1;
        for (int d = out_ndim - 1; d >= 0; d--) {
            int ik = d - (out_ndim - v[k].ndim);
            int64_t dim = ik >= 0 ? v[k].dims[ik] : 1;
            st[k][d] = dim == 1 ? 0 : run;
            run *= dim;
        }
    }
    p->n_in = n_in;
    p->ndim = 0;
    for (int d = 0; d < out_ndim; d++) {
        if (out_dims[d] == 1) continue;
        int m = p->ndim;
        bool merge = m > 0;
        for (int k = 0; k < n_in && merge; k++)
            merge = p->stride[k][m - 1] == st[k][d] * out_dims[d];
        if (merge) {
            p->dims[m - 1] *= out_dims[d];
            for (int k = 0; k < n_in; k++)
                p->stride[k][m - 1] = st[k][d];
        } else {
            p->dims[m] = out_dims[d];
            for (int k = 0; k < n_in; k++)
                p->stride[k][m] = st[k][d];
            p->ndim++;
        }
    }
    if (p->ndim == 0) {
        p->ndim = 1;
        p->dims[0] = 1;
        for (int k = 0; k < n_in; k++)
            p->stride[k][0] = 0;
    }
}

#define BCAST_GRAIN 32768 /* elements per parallel chunk, at least */

static void plan_run(const bcast_plan *p, char *out, size_t oes, const char *const *in, const size_t *ies,
                     row_fn fn, const void *prm, int n_threads) {
    int nd = p->ndim, n_in = p->n_in;
    int64_t inner = p->dims[nd - 1], rows = 1;
    for (int d = 0; d < nd - 1; d++)
        rows *= p->dims[d];
    if (inner == 0 || rows == 0) return;
    int64_t ist[MAX_OPERANDS] = {0};
    for (int k = 0; k < n_in; k++)
        ist[k] = p->stride[k][nd - 1];
    int64_t chunks = n_threads > 1 ? rows * inner / BCAST_GRAIN : 1;
    if (chunks > rows) chunks = rows;
    if (chunks > 16 * (int64_t)n_threads) chunks = 16 * (int64_t)n_threads;
    if (chunks < 1) chunks = 1;
#pragma omp parallel for num_threads(n_threads) if (chunks > 1) schedule(static)
    for (int64_t c = 0; c < chunks; c++) {
        int64_t r0 = rows * c / chunks, r1 = rows * (c + 1) / chunks;
        int64_t idx[TTA_MAX_DIMS] = {0}, off[MAX_OPERANDS] = {0}, r = r0;
        for (int d = nd - 2; d >= 0; d--) {
            idx[d] = r % p->dims[d];
            r /= p->dims[d];
            for (int k = 0; k < n_in; k++)
                off[k] += idx[d] * p->stride[k][d];
        }
        for (int64_t row = r0; row < r1; row++) {
            const char *ptr[MAX_OPERANDS] = {0};
            for (int k = 0; k < n_in; k++)
                ptr[k] = in[k] + off[k] * (int64_t)ies[k];
            fn(out + row * inner * (int64_t)oes, ptr, ist, inner, prm);
            for (int d = nd - 2; d >= 0; d--) { /* odometer step over the outer dims */
                idx[d]++;
                for (int k = 0; k < n_in; k++)
                    off[k] += p->stride[k][d];
                if (idx[d] < p->dims[d]) break;
                for (int k = 0; k < n_in; k++)
                    off[k] -= p->stride[k][d] * p->dims[d];
                idx[d] = 0;
            }
        }
    }
}

/* ---- row functions
 *
 * FP exception flags are never read; without no-trapping-math GCC keeps float selects (Min,
 * Max, PRelu, comparisons) as branches because a compare may raise "invalid", and those loops
 * do not vectorise. */
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC push_options
#pragma GCC optimize("no-trapping-math")
#endif

#define BIN_ROW(NAME, TI, TO, EXPR)                                                                          \
    static void NAME(char *po, const char *const *pi, const int64_t *st, int64_t n, const void *prm) {       \
        const TI *a = (const TI *)pi[0], *b = (const TI *)pi[1];                                             \
        TO *o = (TO *)po;                                                                                    \
        (void)prm;                                                                                           \
        if (st[0] && st[1]) {                                                                                \
            _Pragma("omp simd") for (int64_t i = 0; i < n; i++) {                                            \
                TI x = a[i], y = b[i];                                                                       \
                o[i] = (TO)(EXPR);                                                                           \
            }                                                                                                \
        } else if (st[0]) {                                                                                  \
            const TI y = b[0];                                                                               \
            _Pragma("omp simd") for (int64_t i = 0; i < n; i++) {                                            \
                TI x = a[i];                                                                                 \
                o[i] = (TO)(EXPR);                                                                           \
            }                                                                                                \
        } else if (st[1]) {                                                                                  \
            const TI x = a[0];                                                                               \
            _Pragma("omp simd") for (int64_t i = 0; i < n; i++) {                                            \
                TI y = b[i];                                                                                 \
                o[i] = (TO)(EXPR);                                                                           \
            }                                                                                                \
        } else {                                                                                             \
            const TI x = a[0], y = b[0];                                                                     \
            const TO r = (TO)(EXPR);                                                                         \
            for (int64_t i = 0; i < n; i++)                                                                  \
                o[i] = r;                                                                                    \
        }                                                                                                    \
    }

/* Row functions of one op for each dtype class; TO is the input type or bool (uint8_t). */
#define ROWS_F(OP, EXPR) BIN_ROW(OP##_f32, float, float, EXPR) BIN_ROW(OP##_f64, double, double, EXPR)
#define ROWS_S(OP, EXPR)                                                                                     \
    BIN_ROW(OP##_i8, int8_t, int8_t, EXPR)                                                                   \
    BIN_ROW(OP##_i16, int16_t, int16_t, EXPR)                                                                \
    BIN_ROW(OP##_i32, int32_t, int32_t, EXPR) BIN_ROW(OP##_i64, int64_t, int64_t, EXPR)
#define ROWS_U(OP, EXPR)                                                                                     \
    BIN_ROW(OP##_u8, uint8_t, uint8_t, EXPR)                                                                 \
    BIN_ROW(OP##_u16, uint16_t, uint16_t, EXPR)                                                              \
    BIN_ROW(OP##_u32, uint32_t, uint32_t, EXPR) BIN_ROW(OP##_u64, uint64_t, uint64_t, EXPR)
#define CROWS(OP, EXPR)                                                                                      \
    BIN_ROW(OP##_f32, float, uint8_t, EXPR)                                                                  \
    BIN_ROW(OP##_f64, double, uint8_t, EXPR)                                                                 \
    BIN_ROW(OP##_i8, int8_t, uint8_t, EXPR) BIN_ROW(OP##_i16, int16_t, uint8_t, EXPR)                        \
        BIN_ROW(OP##_i32, int32_t, uint8_t, EXPR) BIN_ROW(OP##_i64, int64_t, uint8_t, EXPR)                  \
            BIN_ROW(OP##_u8, uint8_t, uint8_t, EXPR) BIN_ROW(OP##_u16, uint16_t, uint8_t, EXPR)              \
                BIN_ROW(OP##_u32, uint32_t, uint8_t, EXPR) BIN_ROW(OP##_u64, uint64_t, uint8_t, EXPR)        \
                    BIN_ROW(OP##_b, uint8_t, uint8_t, EXPR)

#define TAB_F(OP) [TTA_DTYPE_FLOAT32] = OP##_f32, [TTA_DTYPE_FLOAT64] = OP##_f64
#define TAB_S(OP)                                                                                            \
    [TTA_DTYPE_INT8] = OP##_i8, [TTA_DTYPE_INT16] = OP##_i16, [TTA_DTYPE_INT32] = OP##_i32,                  \
    [TTA_DTYPE_INT64] = OP##_i64
#define TAB_U(OP)                                                                                            \
    [TTA_DTYPE_UINT8] = OP##_u8, [TTA_DTYPE_UINT16] = OP##_u16, [TTA_DTYPE_UINT32] = OP##_u32,               \
    [TTA_DTYPE_UINT64] = OP##_u64
#define TAB_NUM(OP) TAB_F(OP), TAB_S(OP), TAB_U(OP)
#define N_DT (TTA_DTYPE_UINT64 + 1)

/* Integer helpers: no trap on division by zero or INT_MIN / -1, wrap-around arithmetic. */
#define SINT_HELPERS(SFX, T)                                                                                 \
    static inline T idiv_##SFX(T x, T y) {                                                                   \
        if (y == 0) return 0;                                                                                \
        if (y == -1) return (T)(0 - (uint64_t)x);                                                            \
        return (T)(x / y);                                                                                   \
    }                                                                                                        \
    static inline T ifmod_##SFX(T x, T y) { return (y == 0 || y == -1) ? 0 : (T)(x % y); }                   \
    static inline T imod_##SFX(T x, T y) {                                                                   \
        T r = ifmod_##SFX(x, y);                                                                             \
        return (r != 0 && ((r < 0) != (y < 0))) ? (T)(r + y) : r;                                            \
    }
#define UINT_HELPERS(SFX, T)                                                                                 \
    static inline T idiv_##SFX(T x, T y) { return y ? (T)(x / y) : 0; }                                      \
    static inline T ifmod_##SFX(T x, T y) { return y ? (T)(x % y) : 0; }                                     \
    static inline T imod_##SFX(T x, T y) { return ifmod_##SFX(x, y); }                                       \
    static inline T ishl_##SFX(T x, T y) { return y >= sizeof(T) * 8 ? 0 : (T)(x << y); }                    \
    static inline T ishr_##SFX(T x, T y) { return y >= sizeof(T) * 8 ? 0 : (T)(x >> y); }
SINT_HELPERS(i8, int8_t)
SINT_HELPERS(i16, int16_t)
SINT_HELPERS(i32, int32_t)
SINT_HELPERS(i64, int64_t)
UINT_HELPERS(u8, uint8_t)
UINT_HELPERS(u16, uint16_t)
UINT_HELPERS(u32, uint32_t)
UINT_HELPERS(u64, uint64_t)

#define INT_GENERIC(F, x, y)                                                                                 \
    _Generic((x), int8_t                                                                                     \
             : F##_i8, int16_t                                                                               \
             : F##_i16, int32_t                                                                              \
             : F##_i32, int64_t                                                                              \
             : F##_i64, uint8_t                                                                              \
             : F##_u8, uint16_t                                                                              \
             : F##_u16, uint32_t                                                                             \
             : F##_u32, uint64_t                                                                             \
             : F##_u64)(x, y)
#define UINT_GENERIC(F, x, y)                                                                                \
    _Generic((x), uint8_t : F##_u8, uint16_t : F##_u16, uint32_t : F##_u32, uint64_t : F##_u64)(x, y)

/* Integer +, -, * in uint64 so that overflow wraps instead of being undefined. */
#define WRAP(T, x, OP, y) (T)((uint64_t)(x)OP(uint64_t)(y))
/* NaN-propagating min / max for floats, as np.minimum / np.maximum. */
#define FMIN(x, y) ((x) != (x) || (x) < (y) ? (x) : (y))
#define FMAX(x, y) ((x) != (x) || (x) > (y) ? (x) : (y))
/* Floor modulo (sign of the divisor) for floats, as np.mod. */
static inline float fmod_floor_f32(float x, float y) {
    float r = fmodf(x, y);
    return (r != 0 && ((r < 0) != (y < 0))) ? r + y : r;
}
static inline double fmod_floor_f64(double x, double y) {
    double r = fmod(x, y);
    return (r != 0 && ((r < 0) != (y < 0))) ? r + y : r;
}
#define FMOD_FLOOR(x, y) _Generic((x), float : fmod_floor_f32, double : fmod_floor_f64)(x, y)

ROWS_F(add, x + y)
ROWS_S(add, WRAP(__typeof__(x), x, +, y))
ROWS_U(add, x + y)
ROWS_F(sub, x - y)
ROWS_S(sub, WRAP(__typeof__(x), x, -, y))
ROWS_U(sub, x - y)
ROWS_F(mul, x *y)
ROWS_S(mul, WRAP(__typeof__(x), x, *, y))
ROWS_U(mul, WRAP(__typeof__(x), x, *, y))
ROWS_F(div, x / y)
ROWS_S(div, INT_GENERIC(idiv, x, y))
ROWS_U(div, INT_GENERIC(idiv, x, y))
ROWS_F(min, FMIN(x, y))
ROWS_S(min, x < y ? x : y)
ROWS_U(min, x < y ? x : y)
ROWS_F(max, FMAX(x, y))
ROWS_S(max, x > y ? x : y)
ROWS_U(max, x > y ? x : y)
ROWS_F(mod, FMOD_FLOOR(x, y))
ROWS_S(mod, INT_GENERIC(imod, x, y))
ROWS_U(mod, INT_GENERIC(imod, x, y))
ROWS_F(fmod, fmod(x, y))
ROWS_S(fmod, INT_GENERIC(ifmod, x, y))
ROWS_U(fmod, INT_GENERIC(ifmod, x, y))
ROWS_F(prelu, x < 0 ? x * y : x)
ROWS_S(prelu, x < 0 ? WRAP(__typeof__(x), x, *, y) : x)
ROWS_U(prelu, ((void)y, x)) /* unsigned x is never negative */
ROWS_F(pow, y == 2 ? x * x : pow(x, y)) /* squares (YOLO heads) without a libm call: the same bits */
ROWS_U(shl, UINT_GENERIC(ishl, x, y))
ROWS_U(shr, UINT_GENERIC(ishr, x, y))
CROWS(eq, x == y)
CROWS(gt, x > y)
CROWS(lt, x < y)
CROWS(ge, x >= y)
CROWS(le, x <= y)
BIN_ROW(and_b, uint8_t, uint8_t, x &&y)
BIN_ROW(or_b, uint8_t, uint8_t, x || y)
BIN_ROW(xor_b, uint8_t, uint8_t, (x != 0) != (y != 0))

static const row_fn add_tab[N_DT] = {TAB_NUM(add)}, sub_tab[N_DT] = {TAB_NUM(sub)},
                    mul_tab[N_DT] = {TAB_NUM(mul)}, div_tab[N_DT] = {TAB_NUM(div)},
                    min_tab[N_DT] = {TAB_NUM(min)}, max_tab[N_DT] = {TAB_NUM(max)},
                    mod_tab[N_DT] = {TAB_NUM(mod)}, fmod_tab[N_DT] = {TAB_NUM(fmod)},
                    prelu_tab[N_DT] = {TAB_NUM(prelu)}, pow_tab[N_DT] = {TAB_F(pow)},
                    shl_tab[N_DT] = {TAB_U(shl)}, shr_tab[N_DT] = {TAB_U(shr)},
                    eq_tab[N_DT] = {TAB_NUM(eq), [TTA_DTYPE_BOOL] = eq_b},
                    gt_tab[N_DT] = {TAB_NUM(gt), [TTA_DTYPE_BOOL] = gt_b},
                    lt_tab[N_DT] = {TAB_NUM(lt), [TTA_DTYPE_BOOL] = lt_b},
                    ge_tab[N_DT] = {TAB_NUM(ge), [TTA_DTYPE_BOOL] = ge_b},
                    le_tab[N_DT] = {TAB_NUM(le), [TTA_DTYPE_BOOL] = le_b},
                    and_tab[N_DT] = {[TTA_DTYPE_BOOL] = and_b}, or_tab[N_DT] = {[TTA_DTYPE_BOOL] = or_b},
                    xor_tab[N_DT] = {[TTA_DTYPE_BOOL] = xor_b};

#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC pop_options
#endif

/* Pow with mixed or integer dtypes: the result has the base's dtype. Integer ** integer is
 * exact (by squaring, wrapping); anything with a float is computed in double. */
typedef struct pow_types {
    tta_dtype a, b, o;
} pow_types;

static int64_t ipow(int64_t base, int64_t e) {
    if (e < 0) return base == 1 ? 1 : base == -1 ? ((e & 1) ? -1 : 1) : 0;
    uint64_t r = 1, b = (uint64_t)base;
    while (e) {
        if (e & 1) r *= b;
        b *= b;
        e >>= 1;
    }
    return (int64_t)r;
}

static void pow_generic(char *po, const char *const *pi, const int64_t *st, int64_t n, const void *prm) {
    const pow_types *t = prm;
    tta_tensor a = {.dtype = t->a, .data = (void *)pi[0]}, b = {.dtype = t->b, .data = (void *)pi[1]},
               o = {.dtype = t->o, .data = po};
    if (tta_dtype_is_int(t->a) && tta_dtype_is_int(t->b)) {
        for (int64_t i = 0; i < n; i++)
            tta_set_i64(&o, i, ipow(tta_get_i64(&a, i * st[0]), tta_get_i64(&b, i * st[1])));
    } else {
        for (int64_t i = 0; i < n; i++) {
            double r = pow(tta_get_f64(&a, i * st[0]), tta_get_f64(&b, i * st[1]));
            if (tta_dtype_is_int(t->o)) /* no UB on NaN or out-of-range results */
                tta_set_i64(&o, i,
                            r != r         ? 0
                            : r >= 9.2e18  ? INT64_MAX
                            : r <= -9.2e18 ? INT64_MIN
                                           : (int64_t)r);
            else
                tta_set_f64(&o, i, r);
        }
    }
}

/* Where and the copy of the first input of a variadic op: moves elements by size. */
#define WHERE_ROW(NAME, T)                                                                                   \
    static void NAME(char *po, const char *const *pi, const int64_t *st, int64_t n, const void *prm) {       \
        const uint8_t *c = (const uint8_t *)pi[0];                                                           \
        const T *x = (const T *)pi[1], *y = (const T *)pi[2];                                                \
        T *o = (T *)po;                                                                                      \
        (void)prm;                                                                                           \
        for (int64_t i = 0; i < n; i++)                                                                      \
            o[i] = c[i * st[0]] ? x[i * st[1]] : y[i * st[2]];                                               \
    }
#define COPY_ROW(NAME, T)                                                                                    \
    static void NAME(char *po, const char *const *pi, const int64_t *st, int64_t n, const void *prm) {       \
        const T *x = (const T *)pi[0];                                                                       \
        T *o = (T *)po;                                                                                      \
        (void)prm;                                                                                           \
        for (int64_t i = 0; i < n; i++)                                                                      \
            o[i] = x[i * st[0]];                                                                             \
    }
WHERE_ROW(where_1, uint8_t)
WHERE_ROW(where_2, uint16_t)
WHERE_ROW(where_4, uint32_t)
WHERE_ROW(where_8, uint64_t)
COPY_ROW(copy_1, uint8_t)
COPY_ROW(copy_2, uint16_t)
COPY_ROW(copy_4, uint32_t)
COPY_ROW(copy_8, uint64_t)

static row_fn by_size(size_t es, row_fn f1, row_fn f2, row_fn f4, row_fn f8) {
    return es == 1 ? f1 : es == 2 ? f2 : es == 4 ? f4 : es == 8 ? f8 : NULL;
}

/* ---- shapes */

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

static void view_of(const tta_tensor *t, shape_view *v) {
    v->ndim = t->ndim;
    for (int i = 0; i < t->ndim; i++)
        v->dims[i] = t->dims[i];
}

static bool numpy_compatible(const shape_view *a, const shape_view *b) {
    int nd = a->ndim > b->ndim ? a->ndim : b->ndim;
    for (int i = 0; i < nd; i++) {
        int ia = i - (nd - a->ndim), ib = i - (nd - b->ndim);
        int64_t da = ia >= 0 ? a->dims[ia] : 1, db = ib >= 0 ? b->dims[ib] : 1;
        if (da != db && da != 1 && db != 1) return false;
    }
    return true;
}

static void shape_text(const shape_view *v, char *buf, size_t size) {
    size_t n = 0;
    n += (size_t)snprintf(buf + n, size - n, "[");
    for (int i = 0; i < v->ndim && n < size; i++)
        n += (size_t)snprintf(buf + n, size - n, i ? ",%lld" : "%lld", (long long)v->dims[i]);
    if (n < size) snprintf(buf + n, size - n, "]");
}

/* The shape input k takes part in the broadcast with. Differs from its own shape only for the
 * legacy rules: opset < 7 broadcast=1 with an axis (B aligned to A at axis), and PRelu with a
 * 1-D per-channel slope [C] against [N, C, ...] (opset < 7, or where numpy rules would fail). */
static tta_status view_in(const tta_op_ctx *ctx, const bin_state *s, tta_tensor *const *in, int k,
                          shape_view *v) {
    view_of(in[k], v);
    if (k != 1 || s->kind != K_BINARY) return TTA_OK;
    const tta_tensor *a = in[0];
    int64_t axis = -1;
    if (s->legacy && s->legacy_axis != INT64_MIN) {
        axis = s->legacy_axis < 0 ? s->legacy_axis + a->ndim : s->legacy_axis;
        if (axis < 0 || axis + v->ndim > a->ndim)
            return tta_op_error(ctx, TTA_ERR_SHAPE,
                                "cannot broadcast B of rank %d at axis %lld of A of rank %d", v->ndim,
                                (long long)s->legacy_axis, a->ndim);
    } else if (s->op == B_PRELU && v->ndim == 1 && a->ndim >= 2 && v->dims[0] == a->dims[1] &&
               v->dims[0] != 1) {
        shape_view av;
        view_of(a, &av);
        if (ctx->node->opset < 7 || !numpy_compatible(&av, v)) axis = 1;
    }
    if (axis >= 0) /* pad B with trailing 1s so that it ends where A ends */
        while (v->ndim < a->ndim - axis)
            v->dims[v->ndim++] = 1;
    return TTA_OK;
}

/* Numpy broadcast of n views; error names the first pair that does not fit. */
static tta_status broadcast_views(const tta_op_ctx *ctx, int n, const shape_view *v, shape_view *out) {
    out->ndim = 0;
    for (int k = 0; k < n; k++)
        if (v[k].ndim > out->ndim) out->ndim = v[k].ndim;
    for (int d = 0; d < out->ndim; d++)
        out->dims[d] = 1;
    for (int k = 0; k < n; k++) {
        for (int i = 0; i < v[k].ndim; i++) {
            int d = i + out->ndim - v[k].ndim;
            int64_t dk = v[k].dims[i];
            if (dk == out->dims[d] || dk == 1) continue;
            if (out->dims[d] == 1) {
                out->dims[d] = dk;
                continue;
            }
            for (int j = 0; j < k; j++) {
                if (numpy_compatible(&v[j], &v[k])) continue;
                char sa[160], sb[160];
                shape_text(&v[j], sa, sizeof sa);
                shape_text(&v[k], sb, sizeof sb);
                return tta_op_error(ctx, TTA_ERR_SHAPE, "cannot broadcast shapes %s and %s", sa, sb);
            }
            return tta_op_error(ctx, TTA_ERR_SHAPE, "cannot broadcast input %d", k);
        }
    }
    return TTA_OK;
}

/* ---- the kernel */

tta_status tta_math_binary_prepare(tta_op_ctx *ctx) {
    const tta_node *node = ctx->node;
    int k = -1;
    for (size_t i = 0; i < sizeof bin_ops / sizeof bin_ops[0]; i++)
        if (!strcmp(bin_ops[i].name, node->op_type)) k = (int)i;
    if (k < 0) return tta_op_error(ctx, TTA_ERR_INTERNAL, "not a binary math op");
    bin_state s = {.op = bin_ops[k].op,
                   .kind = bin_ops[k].kind,
                   .types = bin_ops[k].types,
                   .bool_out = bin_ops[k].bool_out,
                   .legacy_axis = INT64_MIN};
    if (s.op == B_MOD) {
        int64_t f = tta_attr_int(node, "fmod", 0);
        if (f != 0 && f != 1)
            return tta_op_error(ctx, TTA_ERR_ATTR, "fmod must be 0 or 1, not %lld", (long long)f);
        s.fmod = f == 1;
    }
    if (s.op == B_BITSHIFT) {
        const char *dir = tta_attr_string(node, "direction", NULL);
        if (!dir) return tta_op_error(ctx, TTA_ERR_ATTR, "missing attribute 'direction'");
        if (strcmp(dir, "LEFT") && strcmp(dir, "RIGHT"))
            return tta_op_error(ctx, TTA_ERR_ATTR, "direction must be LEFT or RIGHT, not '%s'", dir);
        s.shift_left = !strcmp(dir, "LEFT");
    }
    if (s.kind == K_BINARY && node->opset < 7 && tta_attr_int(node, "broadcast", 0) == 1) {
        s.legacy = true;
        if (tta_node_attr(node, "axis")) s.legacy_axis = tta_attr_int(node, "axis", 0);
    }
    bin_state *p = tta_malloc(sizeof *p);
    if (!p) return tta_op_error(ctx, TTA_ERR_NOMEM, "out of memory");
    *p = s;
    ctx->state = p;
    return TTA_OK;
}

static int n_operands(const tta_op_ctx *ctx, const bin_state *s) {
    return s->kind == K_BINARY ? 2 : s->kind == K_WHERE ? 3 : ctx->n_in;
}

tta_status tta_math_binary_infer(tta_op_ctx *ctx) {
    const bin_state *s = ctx->state;
    if (!s) return tta_op_error(ctx, TTA_ERR_INTERNAL, "kernel not prepared");
    int n = n_operands(ctx, s);
    if (n < 1) return tta_op_error(ctx, TTA_ERR_SHAPE, "needs at least one input");
    for (int k = 0; k < n; k++)
        TTA_NEED_INPUT(ctx, k);
    tta_tensor *const *in = ctx->in;
    tta_dtype dt;
    if (s->kind == K_WHERE) {
        if (in[0]->dtype != TTA_DTYPE_BOOL)
            return tta_op_error(ctx, TTA_ERR_SHAPE, "condition must be bool, not %s",
                                tta_dtype_name(in[0]->dtype));
        if (in[1]->dtype != in[2]->dtype)
            return tta_op_error(ctx, TTA_ERR_SHAPE, "X and Y types %s and %s differ",
                                tta_dtype_name(in[1]->dtype), tta_dtype_name(in[2]->dtype));
        dt = in[1]->dtype;
        if (tta_dtype_size(dt) == 0)
            return tta_op_error(ctx, TTA_ERR_UNSUPPORTED, "input type %s is not supported",
                                tta_dtype_name(dt));
    } else {
        dt = in[0]->dtype;
        for (int k = 0; k < n; k++) {
            if (!(dtype_class(in[k]->dtype) & s->types))
                return tta_op_error(ctx, TTA_ERR_UNSUPPORTED, "input type %s is not supported",
                                    tta_dtype_name(in[k]->dtype));
            if (in[k]->dtype != dt && s->op != B_POW) /* Pow: exponent of any numeric type */
                return tta_op_error(ctx, TTA_ERR_SHAPE, "input types %s and %s differ", tta_dtype_name(dt),
                                    tta_dtype_name(in[k]->dtype));
        }
        if (s->bool_out) dt = TTA_DTYPE_BOOL;
    }
    shape_view v[MAX_OPERANDS], acc, out;
    if (n <= MAX_OPERANDS) {
        for (int k = 0; k < n; k++)
            TTA_TRY(view_in(ctx, s, in, k, &v[k]));
        TTA_TRY(broadcast_views(ctx, n, v, &out));
    } else { /* variadic: fold pairwise */
        view_of(in[0], &out);
        for (int k = 1; k < n; k++) {
            v[0] = out;
            view_of(in[k], &v[1]);
            TTA_TRY(broadcast_views(ctx, 2, v, &acc));
            out = acc;
        }
    }
    if (ctx->n_out < 1 || !ctx->out[0]) return tta_op_error(ctx, TTA_ERR_SHAPE, "missing output");
    return tta_set_shape(ctx->out[0], dt, out.ndim, out.dims);
}

static const row_fn *table_of(const bin_state *s) {
    switch (s->op) {
    case B_ADD:
    case B_SUM:
    case B_MEAN: return add_tab;
    case B_SUB: return sub_tab;
    case B_MUL: return mul_tab;
    case B_DIV: return div_tab;
    case B_POW: return pow_tab;
    case B_MOD: return s->fmod ? fmod_tab : mod_tab;
    case B_PRELU: return prelu_tab;
    case B_EQUAL: return eq_tab;
    case B_GREATER: return gt_tab;
    case B_LESS: return lt_tab;
    case B_GREATER_EQUAL: return ge_tab;
    case B_LESS_EQUAL: return le_tab;
    case B_AND: return and_tab;
    case B_OR: return or_tab;
    case B_XOR: return xor_tab;
    case B_BITSHIFT: return s->shift_left ? shl_tab : shr_tab;
    case B_MIN: return min_tab;
    case B_MAX: return max_tab;
    default: return NULL;
    }
}

static void divide_by(tta_tensor *t, int64_t n) {
    int64_t m = tta_tensor_numel(t);
    if (t->dtype == TTA_DTYPE_FLOAT32) {
        float *p = t->data;
        for (int64_t i = 0; i < m; i++)
            p[i] /= (float)n;
    } else if (t->dtype == TTA_DTYPE_FLOAT64) {
        double *p = t->data;
        for (int64_t i = 0; i < m; i++)
            p[i] /= (double)n;
    } else { /* integers (ONNX's Mean has none; kept for robustness): truncating division */
        for (int64_t i = 0; i < m; i++)
            tta_set_i64(t, i, tta_get_i64(t, i) / n);
    }
}

/* Runs the op on `in` into `out` (no float16 left except as Where's payload). */
static tta_status binary_run(const tta_op_ctx *ctx, const bin_state *s, tta_tensor *const *in, int n,
                             tta_tensor *out) {
    int nt = tta_math_threads(ctx);
    shape_view v[MAX_OPERANDS];
    bcast_plan plan;
    size_t oes = tta_dtype_size(out->dtype);
    if (s->kind == K_WHERE) {
        row_fn fn = by_size(oes, where_1, where_2, where_4, where_8);
        if (!fn)
            return tta_op_error(ctx, TTA_ERR_UNSUPPORTED, "input type %s is not supported",
                                tta_dtype_name(out->dtype));
        for (int k = 0; k < 3; k++)
            TTA_TRY(view_in(ctx, s, in, k, &v[k]));
        plan_init(&plan, out->ndim, out->dims, 3, v);
        const char *ptr[3] = {in[0]->data, in[1]->data, in[2]->data};
        size_t ies[3] = {1, oes, oes};
        plan_run(&plan, out->data, oes, ptr, ies, fn, NULL, nt);
        return TTA_OK;
    }
    const row_fn *tab = table_of(s);
    tta_dtype dt = in[0]->dtype;
    row_fn fn = tab && dt >= 0 && dt < N_DT ? tab[dt] : NULL;
    pow_types pt = {in[0]->dtype, n > 1 ? in[1]->dtype : in[0]->dtype, out->dtype};
    if (s->op == B_POW && (in[1]->dtype != dt || !fn)) fn = pow_generic;
    if (!fn)
        return tta_op_error(ctx, TTA_ERR_UNSUPPORTED, "input type %s is not supported", tta_dtype_name(dt));
    if (n == 1) { /* variadic of one input: a copy */
        view_of(in[0], &v[0]);
        plan_init(&plan, out->ndim, out->dims, 1, v);
        const char *ptr[1] = {in[0]->data};
        size_t ies[1] = {oes};
        plan_run(&plan, out->data, oes, ptr, ies, by_size(oes, copy_1, copy_2, copy_4, copy_8), NULL, nt);
        return TTA_OK;
    }
    /* out = in0 op in1, then out = out op in_k for the remaining inputs of a variadic op. */
    for (int k = 0; k < 2; k++)
        TTA_TRY(view_in(ctx, s, in, k, &v[k]));
    plan_init(&plan, out->ndim, out->dims, 2, v);
    const char *ptr[2] = {in[0]->data, in[1]->data};
    size_t ies[2] = {tta_dtype_size(in[0]->dtype), tta_dtype_size(in[1]->dtype)};
    plan_run(&plan, out->data, oes, ptr, ies, fn, &pt, nt);
    for (int k = 2; k < n; k++) {
        view_of(out, &v[0]);
        view_of(in[k], &v[1]);
        plan_init(&plan, out->ndim, out->dims, 2, v);
        const char *p2[2] = {out->data, in[k]->data};
        size_t es2[2] = {oes, tta_dtype_size(in[k]->dtype)};
        plan_run(&plan, out->data, oes, p2, es2, fn, &pt, nt);
    }
    if (s->op == B_MEAN) divide_by(out, n);
    return TTA_OK;
}

tta_status tta_math_binary_compute(tta_op_ctx *ctx) {
    const bin_state *s = ctx->state;
    int n = n_operands(ctx, s);
    tta_tensor *out = ctx->out[0];
    bool half = false;
    for (int k = 0; k < n; k++)
        half |= ctx->in[k]->dtype == TTA_DTYPE_FLOAT16;
    if (!half || s->kind == K_WHERE) return binary_run(ctx, s, ctx->in, n, out);
    /* float16: compute in float32 on converted copies, round the result back. */
    tta_tensor *tmp = tta_calloc((size_t)n + 1, sizeof *tmp);
    tta_tensor **ptrs = tta_calloc((size_t)n, sizeof *ptrs);
    tta_status st = tmp && ptrs ? TTA_OK : tta_op_error(ctx, TTA_ERR_NOMEM, "out of memory");
    for (int k = 0; k < n && st == TTA_OK; k++) {
        ptrs[k] = ctx->in[k];
        if (ctx->in[k]->dtype == TTA_DTYPE_FLOAT16) {
            st = tta_math_to_f32(ctx->in[k], &tmp[k]);
            ptrs[k] = &tmp[k];
        }
    }
    tta_tensor *o = out;
    if (st == TTA_OK && out->dtype == TTA_DTYPE_FLOAT16) {
        st = tta_tensor_resize(&tmp[n], TTA_DTYPE_FLOAT32, out->ndim, out->dims);
        o = &tmp[n];
    }
    if (st == TTA_OK) st = binary_run(ctx, s, ptrs, n, o);
    if (st == TTA_OK && o != out) tta_math_store(o, out);
    if (tmp)
        for (int k = 0; k <= n; k++)
            tta_tensor_destroy(&tmp[k]);
    tta_free(tmp);
    tta_free(ptrs);
    return st;
}

void tta_math_binary_release(tta_op_ctx *ctx) {
    tta_free(ctx->state);
    ctx->state = NULL;
}
