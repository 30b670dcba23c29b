/* math_cast.c - Cast and CastLike between every numeric dtype, float16 and bool, plus the
 * float16 <-> float32 helpers the rest of the math family uses (float16 tensors are computed
 * as float32 and rounded back, as NumPy does).
 *
 * Conversion rules (those of NumPy on x86, which the ONNX reference uses): float -> int
 * truncates toward zero, values out of the int64 range saturate and NaN gives 0, then the
 * int64 is narrowed by wrapping; anything -> bool is "!= 0" (NaN -> true); float16 results are
 * rounded to nearest even directly from double. Strings and bfloat16 are not supported.
 */
#include <math.h>
#include <string.h>

#include "core/alloc.h"
#include "core/tensor_compare.h"
#include "runtime/ops/math.h"

typedef struct cast_state {
    int to; /* target dtype; -1 for CastLike (dtype of input 1) */
} cast_state;

/* ---- float16 */

/* Rounds a double to the nearest float16 (ties to even) in one step: going through float first
 * would round twice. */
static uint16_t double_to_half(double d) {
    uint64_t x;
    memcpy(&x, &d, 8);
    uint64_t sign = (x >> 48) & 0x8000;
    int exp = (int)((x >> 52) & 0x7ff);
    uint64_t mant = x & 0xfffffffffffffull;
    if (exp == 0x7ff) return (uint16_t)(sign | 0x7c00 | (mant ? 0x200 : 0));
    int e = exp - 1023 + 15;
    if (e >= 31) return (uint16_t)(sign | 0x7c00);
    uint64_t half, rem, mid;
    if (e <= 0) { /* float16 subnormal (or zero) */
        if (e < -10) return (uint16_t)sign;
        mant |= 1ull << 52;
        int shift = 43 - e;
        half = mant >> shift;
        rem = mant & ((1ull << shift) - 1);
        mid = 1ull << (shift - 1);
    } else {
        half = ((uint64_t)e << 10) | (mant >> 42);
        rem = mant & ((1ull << 42) - 1);
        mid = 1ull << 41;
    }
    if (rem > mid || (rem == mid && (half & 1))) half++; /* a carry into the exponent is right */
    return (uint16_t)(sign | half);
}

/* ---- element conversion */

/* float -> int64: truncation, saturation at the int64 limits, NaN -> 0. */
static inline int64_t f64_to_i64(double v) {
    if (v != v) return 0;
    if (v >= 9223372036854775808.0) return INT64_MAX;
    if (v <= -9223372036854775808.0) return INT64_MIN;
    return (int64_t)v;
}

static inline uint64_t f64_to_u64(double v) {
    if (v >= 9223372036854775808.0) return v >= 18446744073709551616.0 ? UINT64_MAX : (uint64_t)v;
    return (uint64_t)f64_to_i64(v);
}

static inline double load_f(const void *p, tta_dtype t, int64_t i) {
    switch (t) {
    case TTA_DTYPE_FLOAT32: return ((const float *)p)[i];
    case TTA_DTYPE_FLOAT64: return ((const double *)p)[i];
    default: return tta_half_to_float(((const uint16_t *)p)[i]);
    }
}

static inline int64_t load_i(const void *p, tta_dtype t, int64_t i) {
    switch (t) {
    case TTA_DTYPE_BOOL:
    case TTA_DTYPE_UINT8: return ((const uint8_t *)p)[i];
    case TTA_DTYPE_INT8: return ((const int8_t *)p)[i];
    case TTA_DTYPE_UINT16: return ((const uint16_t *)p)[i];
    case TTA_DTYPE_INT16: return ((const int16_t *)p)[i];
    case TTA_DTYPE_INT32: return ((const int32_t *)p)[i];
    case TTA_DTYPE_UINT32: return ((const uint32_t *)p)[i];
    default: return ((const int64_t *)p)[i]; /* INT64; UINT64 is handled apart */
    }
}

static inline void store_from_f(void *p, tta_dtype t, int64_t i, double v) {
    switch (t) {
    case TTA_DTYPE_FLOAT32: ((float *)p)[i] = (float)v; break;
    case TTA_DTYPE_FLOAT64: ((double *)p)[i] = v; break;
    case TTA_DTYPE_FLOAT16: ((uint16_t *)p)[i] = double_to_half(v); break;
    case TTA_DTYPE_BOOL: ((uint8_t *)p)[i] = v != 0; break;
    case TTA_DTYPE_UINT8: ((uint8_t *)p)[i] = (uint8_t)f64_to_i64(v); break;
    case TTA_DTYPE_INT8: ((int8_t *)p)[i] = (int8_t)f64_to_i64(v); break;
    case TTA_DTYPE_UINT16: ((uint16_t *)p)[i] = (uint16_t)f64_to_i64(v); break;
    case TTA_DTYPE_INT16: ((int16_t *)p)[i] = (int16_t)f64_to_i64(v); break;
    case TTA_DTYPE_INT32: ((int32_t *)p)[i] = (int32_t)f64_to_i64(v); break;
    case TTA_DTYPE_UINT32: ((uint32_t *)p)[i] = (uint32_t)f64_to_i64(v); break;
    case TTA_DTYPE_INT64: ((int64_t *)p)[i] = f64_to_i64(v); break;
    case TTA_DTYPE_UINT64: ((uint64_t *)p)[i] = f64_to_u64(v); break;
    default: break;
    }
}

/* Integers (and bool) go through uint64 bits so that narrowing wraps without UB. */
static inline void store_from_i(void *p, tta_dtype t, int64_t i, int64_t v, int is_unsigned) {
    uint64_t u = (uint64_t)v;
    switch (t) {
    case TTA_DTYPE_FLOAT32: ((float *)p)[i] = is_unsigned ? (float)u : (float)v; break;
    case TTA_DTYPE_FLOAT64: ((double *)p)[i] = is_unsigned ? (double)u : (double)v; break;
    case TTA_DTYPE_FLOAT16: ((uint16_t *)p)[i] = double_to_half(is_unsigned ? (double)u : (double)v); break;
    case TTA_DTYPE_BOOL: ((uint8_t *)p)[i] = u != 0; break;
    case TTA_DTYPE_UINT8: ((uint8_t *)p)[i] = (uint8_t)u; break;
    case TTA_DTYPE_INT8: ((int8_t *)p)[i] = (int8_t)u; break;
    case TTA_DTYPE_UINT16: ((uint16_t *)p)[i] = (uint16_t)u; break;
    case TTA_DTYPE_INT16: ((int16_t *)p)[i] = (int16_t)u; break;
    case TTA_DTYPE_INT32: ((int32_t *)p)[i] = (int32_t)u; break;
    case TTA_DTYPE_UINT32: ((uint32_t *)p)[i] = (uint32_t)u; break;
    case TTA_DTYPE_INT64: ((int64_t *)p)[i] = v; break;
    case TTA_DTYPE_UINT64: ((uint64_t *)p)[i] = u; break;
    default: break;
    }
}

/* Typed loops for the conversions real models use (input normalisation, index math). */
#define CAST_FAST(ST, TS, DT, TD)                                                                            \
    if (src->dtype == ST && dst->dtype == DT) {                                                              \
        const TS *s_ = (const TS *)src->data + lo;                                                           \
        TD *d_ = (TD *)dst->data + lo;                                                                       \
        for (int64_t i = 0; i < hi - lo; i++)                                                                \
            d_[i] = (TD)s_[i];                                                                               \
        return;                                                                                              \
    }

static void convert_range(const tta_tensor *src, tta_tensor *dst, int64_t lo, int64_t hi) {
    CAST_FAST(TTA_DTYPE_UINT8, uint8_t, TTA_DTYPE_FLOAT32, float)
    CAST_FAST(TTA_DTYPE_FLOAT32, float, TTA_DTYPE_FLOAT64, double)
    CAST_FAST(TTA_DTYPE_FLOAT64, double, TTA_DTYPE_FLOAT32, float)
    CAST_FAST(TTA_DTYPE_INT64, int64_t, TTA_DTYPE_FLOAT32, float)
    CAST_FAST(TTA_DTYPE_INT32, int32_t, TTA_DTYPE_FLOAT32, float)
    CAST_FAST(TTA_DTYPE_BOOL, uint8_t, TTA_DTYPE_FLOAT32, float)
    CAST_FAST(TTA_DTYPE_INT32, int32_t, TTA_DTYPE_INT64, int64_t)
    CAST_FAST(TTA_DTYPE_INT64, int64_t, TTA_DTYPE_INT32, int32_t)
    tta_dtype st = src->dtype, dt = dst->dtype;
    const void *s = src->data;
    void *d = dst->data;
    if (st == TTA_DTYPE_FLOAT32 || st == TTA_DTYPE_FLOAT64 || st == TTA_DTYPE_FLOAT16) {
        for (int64_t i = lo; i < hi; i++)
            store_from_f(d, dt, i, load_f(s, st, i));
    } else if (st == TTA_DTYPE_UINT64) {
        for (int64_t i = lo; i < hi; i++)
            store_from_i(d, dt, i, (int64_t)((const uint64_t *)s)[i], 1);
    } else {
        for (int64_t i = lo; i < hi; i++)
            store_from_i(d, dt, i, load_i(s, st, i), 0);
    }
}
#undef CAST_FAST

#define CAST_CHUNK 32768

static void convert(const tta_tensor *src, tta_tensor *dst, int n_threads) {
    int64_t n = tta_tensor_numel(src);
    if (src->dtype == dst->dtype) {
        if (dst->data != src->data) memmove(dst->data, src->data, (size_t)n * tta_dtype_size(src->dtype));
        return;
    }
    int64_t chunks = (n + CAST_CHUNK - 1) / CAST_CHUNK;
#pragma omp parallel for num_threads(n_threads) if (chunks > 1 && n_threads > 1) schedule(static)
    for (int64_t c = 0; c < chunks; c++) {
        int64_t lo = c * CAST_CHUNK, hi = lo + CAST_CHUNK < n ? lo + CAST_CHUNK : n;
        convert_range(src, dst, lo, hi);
    }
}

tta_status tta_math_to_f32(const tta_tensor *src, tta_tensor *dst) {
    TTA_TRY(tta_tensor_resize(dst, TTA_DTYPE_FLOAT32, src->ndim, src->dims));
    if (src->data) convert(src, dst, 1);
    return TTA_OK;
}

void tta_math_store(const tta_tensor *src, tta_tensor *dst) { convert(src, dst, 1); }

/* ---- the kernel */

static const struct {
    const char *name;
    tta_dtype dtype;
} cast_names[] = {
    /* Cast-1 names its target with a string. */
    {"FLOAT", TTA_DTYPE_FLOAT32},   {"UINT8", TTA_DTYPE_UINT8},    {"INT8", TTA_DTYPE_INT8},
    {"UINT16", TTA_DTYPE_UINT16},   {"INT16", TTA_DTYPE_INT16},    {"INT32", TTA_DTYPE_INT32},
    {"INT64", TTA_DTYPE_INT64},     {"STRING", TTA_DTYPE_STRING},  {"BOOL", TTA_DTYPE_BOOL},
    {"FLOAT16", TTA_DTYPE_FLOAT16}, {"DOUBLE", TTA_DTYPE_FLOAT64}, {"UINT32", TTA_DTYPE_UINT32},
    {"UINT64", TTA_DTYPE_UINT64},
};

/* Error for a dtype Cast cannot produce or read; TTA_OK when it can. */
static tta_status check_cast_dtype(const tta_op_ctx *ctx, int64_t code, const char *role) {
    if (code == TTA_DTYPE_STRING)
        return tta_op_error(ctx, TTA_ERR_UNSUPPORTED, "casting %s string is not supported", role);
    if (code == 16)
        return tta_op_error(ctx, TTA_ERR_UNSUPPORTED, "casting %s bfloat16 is not supported", role);
    if (code <= 0 || code > TTA_DTYPE_UINT64 || tta_dtype_size((tta_dtype)code) == 0)
        return tta_op_error(ctx, TTA_ERR_UNSUPPORTED, "casting %s data type %lld is not supported", role,
                            (long long)code);
    return TTA_OK;
}

tta_status tta_math_cast_prepare(tta_op_ctx *ctx) {
    const tta_node *node = ctx->node;
    int to = -1;
    if (strcmp(node->op_type, "CastLike") != 0) {
        const tta_attr *a = tta_node_attr(node, "to");
        if (!a) return tta_op_error(ctx, TTA_ERR_ATTR, "missing attribute 'to'");
        if (a->type == TTA_ATTR_INT) {
            if (a->i < 0 || a->i > 1000)
                return tta_op_error(ctx, TTA_ERR_ATTR, "attribute 'to' = %lld is not a data type",
                                    (long long)a->i);
            to = (int)a->i;
        } else if (a->type == TTA_ATTR_STRING && a->s) {
            for (size_t k = 0; k < sizeof cast_names / sizeof cast_names[0]; k++)
                if (!strcmp(a->s, cast_names[k].name)) to = cast_names[k].dtype;
            if (to < 0)
                return tta_op_error(ctx, TTA_ERR_ATTR, "attribute 'to' = '%s' is not a data type", a->s);
        } else {
            return tta_op_error(ctx, TTA_ERR_ATTR, "attribute 'to' must be an int");
        }
        TTA_TRY(check_cast_dtype(ctx, to, "to"));
    }
    cast_state *s = tta_malloc(sizeof *s);
    if (!s) return tta_op_error(ctx, TTA_ERR_NOMEM, "out of memory");
    s->to = to;
    ctx->state = s;
    return TTA_OK;
}

tta_status tta_math_cast_infer(tta_op_ctx *ctx) {
    const cast_state *s = ctx->state;
    if (!s) return tta_op_error(ctx, TTA_ERR_INTERNAL, "kernel not prepared");
    TTA_NEED_INPUT(ctx, 0);
    const tta_tensor *x = ctx->in[0];
    TTA_TRY(check_cast_dtype(ctx, x->dtype, "from"));
    int to = s->to;
    if (to < 0) {
        TTA_NEED_INPUT(ctx, 1);
        to = ctx->in[1]->dtype;
        TTA_TRY(check_cast_dtype(ctx, to, "to"));
    }
    if (ctx->n_out < 1 || !ctx->out[0]) return tta_op_error(ctx, TTA_ERR_SHAPE, "missing output");
    return tta_set_shape(ctx->out[0], (tta_dtype)to, x->ndim, x->dims);
}

tta_status tta_math_cast_compute(tta_op_ctx *ctx) {
    convert(ctx->in[0], ctx->out[0], tta_math_threads(ctx));
    return TTA_OK;
}

void tta_math_cast_release(tta_op_ctx *ctx) {
    tta_free(ctx->state);
    ctx->state = NULL;
}
