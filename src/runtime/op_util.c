/* op_util.c - helpers shared by kernels: attribute access, element conversion, broadcasting,
 * axis normalisation and errors with node context. */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "core/tensor_compare.h"
#include "runtime/op.h"

const tta_attr *tta_node_attr(const tta_node *node, const char *name) {
    for (int i = 0; i < node->n_attrs; i++)
        if (!strcmp(node->attrs[i].name, name)) return &node->attrs[i];
    return NULL;
}

int64_t tta_attr_int(const tta_node *node, const char *name, int64_t def) {
    const tta_attr *a = tta_node_attr(node, name);
    if (!a) return def;
    if (a->type == TTA_ATTR_INT) return a->i;
    if (a->type == TTA_ATTR_FLOAT) { /* an int given as a float: saturated, as casting past int64 is undefined */
        float f = a->f;
        if (f != f) return def;
        if (f >= 9.2233720e18f) return INT64_MAX;
        if (f <= -9.2233720e18f) return INT64_MIN;
        return (int64_t)f;
    }
    return def;
}

float tta_attr_float(const tta_node *node, const char *name, float def) {
    const tta_attr *a = tta_node_attr(node, name);
    if (!a) return def;
    if (a->type == TTA_ATTR_FLOAT) return a->f;
    if (a->type == TTA_ATTR_INT) return (float)a->i;
    return def;
}

const char *tta_attr_string(const tta_node *node, const char *name, const char *def) {
    const tta_attr *a = tta_node_attr(node, name);
    if (!a || a->type != TTA_ATTR_STRING) return def;
    return a->s;
}

int tta_attr_ints(const tta_node *node, const char *name, const int64_t **vals) {
    const tta_attr *a = tta_node_attr(node, name);
    *vals = NULL;
    if (!a || a->type != TTA_ATTR_INTS) return 0;
    *vals = a->ints;
    return a->n;
}

int tta_attr_floats(const tta_node *node, const char *name, const float **vals) {
    const tta_attr *a = tta_node_attr(node, name);
    *vals = NULL;
    if (!a || a->type != TTA_ATTR_FLOATS) return 0;
    *vals = a->floats;
    return a->n;
}

const tta_tensor *tta_attr_tensor(const tta_node *node, const char *name) {
    const tta_attr *a = tta_node_attr(node, name);
    if (!a || a->type != TTA_ATTR_TENSOR) return NULL;
    return a->t;
}

int64_t tta_get_i64(const tta_tensor *t, int64_t i) {
    switch (t->dtype) {
    case TTA_DTYPE_FLOAT32: return (int64_t)((const float *)t->data)[i];
    case TTA_DTYPE_FLOAT64: return (int64_t)((const double *)t->data)[i];
    case TTA_DTYPE_UINT8: return ((const uint8_t *)t->data)[i];
    case TTA_DTYPE_BOOL: return ((const uint8_t *)t->data)[i];
    case TTA_DTYPE_INT8: return ((const int8_t *)t->data)[i];
    case TTA_DTYPE_UINT16: return ((const uint16_t *)t->data)[i];
    case TTA_DTYPE_INT16: return ((const int16_t *)t->data)[i];
    case TTA_DTYPE_INT32: return ((const int32_t *)t->data)[i];
    case TTA_DTYPE_INT64: return ((const int64_t *)t->data)[i];
    case TTA_DTYPE_UINT32: return ((const uint32_t *)t->data)[i];
    case TTA_DTYPE_UINT64: return (int64_t)((const uint64_t *)t->data)[i];
    default: return 0;
    }
}

static uint16_t float_to_half(float f) {
    uint32_t x;
    memcpy(&x, &f, 4);
    uint32_t sign = (x >> 16) & 0x8000;
    int32_t exp = (int32_t)((x >> 23) & 0xff);
    uint32_t mant = x & 0x7fffff;
    if (exp == 255) return (uint16_t)(sign | 0x7c00 | (mant ? 0x200 : 0));
    int32_t e = exp - 127 + 15;
    if (e >= 31) return (uint16_t)(sign | 0x7c00);
    if (e <= 0) {
        if (e < -10) return (uint16_t)sign;
        mant |= 0x800000;
        uint32_t shift = (uint32_t)(14 - e);
        uint32_t half = mant >> shift, rem = mant & ((1u << shift) - 1), mid = 1u << (shift - 1);
        if (rem > mid || (rem == mid && (half & 1))) half++;
        return (uint16_t)(sign | half);
    }
    uint32_t half = sign | ((uint32_t)e << 10) | (mant >> 13);
    uint32_t rem = mant & 0x1fff;
    if (rem > 0x1000 || (rem == 0x1000 && (half & 1))) half++;
    return (uint16_t)half;
}

double tta_get_f64(const tta_tensor *t, int64_t i) {
    switch (t->dtype) {
    case TTA_DTYPE_FLOAT32: return ((const float *)t->data)[i];
    case TTA_DTYPE_FLOAT64: return ((const double *)t->data)[i];
    case TTA_DTYPE_FLOAT16: return tta_half_to_float(((const uint16_t *)t->data)[i]);
    case TTA_DTYPE_UINT64: return (double)((const uint64_t *)t->data)[i];
    default: return (double)tta_get_i64(t, i);
    }
}

void tta_set_f64(tta_tensor *t, int64_t i, double v) {
    switch (t->dtype) {
    case TTA_DTYPE_FLOAT32: ((float *)t->data)[i] = (float)v; break;
    case TTA_DTYPE_FLOAT64: ((double *)t->data)[i] = v; break;
    case TTA_DTYPE_FLOAT16: ((uint16_t *)t->data)[i] = float_to_half((float)v); break;
    case TTA_DTYPE_BOOL: ((uint8_t *)t->data)[i] = v != 0; break;
    case TTA_DTYPE_UINT8: ((uint8_t *)t->data)[i] = (uint8_t)(int64_t)v; break;
    case TTA_DTYPE_INT8: ((int8_t *)t->data)[i] = (int8_t)(int64_t)v; break;
    case TTA_DTYPE_UINT16: ((uint16_t *)t->data)[i] = (uint16_t)(int64_t)v; break;
    case TTA_DTYPE_INT16: ((int16_t *)t->data)[i] = (int16_t)(int64_t)v; break;
    case TTA_DTYPE_INT32: ((int32_t *)t->data)[i] = (int32_t)(int64_t)v; break;
    case TTA_DTYPE_INT64: ((int64_t *)t->data)[i] = (int64_t)v; break;
    case TTA_DTYPE_UINT32: ((uint32_t *)t->data)[i] = (uint32_t)(int64_t)v; break;
    case TTA_DTYPE_UINT64: ((uint64_t *)t->data)[i] = (uint64_t)v; break;
    default: break;
    }
}

void tta_set_i64(tta_tensor *t, int64_t i, int64_t v) {
    switch (t->dtype) {
    case TTA_DTYPE_FLOAT32: ((float *)t->data)[i] = (float)v; break;
    case TTA_DTYPE_FLOAT64: ((double *)t->data)[i] = (double)v; break;
    case TTA_DTYPE_FLOAT16: ((uint16_t *)t->data)[i] = float_to_half((float)v); break;
    case TTA_DTYPE_BOOL: ((uint8_t *)t->data)[i] = v != 0; break;
    case TTA_DTYPE_UINT8: ((uint8_t *)t->data)[i] = (uint8_t)v; break;
    case TTA_DTYPE_INT8: ((int8_t *)t->data)[i] = (int8_t)v; break;
    case TTA_DTYPE_UINT16: ((uint16_t *)t->data)[i] = (uint16_t)v; break;
    case TTA_DTYPE_INT16: ((int16_t *)t->data)[i] = (int16_t)v; break;
    case TTA_DTYPE_INT32: ((int32_t *)t->data)[i] = (int32_t)v; break;
    case TTA_DTYPE_INT64: ((int64_t *)t->data)[i] = v; break;
    case TTA_DTYPE_UINT32: ((uint32_t *)t->data)[i] = (uint32_t)v; break;
    case TTA_DTYPE_UINT64: ((uint64_t *)t->data)[i] = (uint64_t)v; break;
    default: break;
    }
}

bool tta_dtype_is_float(tta_dtype d) {
    return d == TTA_DTYPE_FLOAT32 || d == TTA_DTYPE_FLOAT64 || d == TTA_DTYPE_FLOAT16;
}

bool tta_dtype_is_int(tta_dtype d) {
    switch (d) {
    case TTA_DTYPE_UINT8: case TTA_DTYPE_INT8: case TTA_DTYPE_UINT16: case TTA_DTYPE_INT16:
    case TTA_DTYPE_INT32: case TTA_DTYPE_INT64: case TTA_DTYPE_UINT32: case TTA_DTYPE_UINT64:
        return true;
    default: return false;
    }
}

tta_status tta_broadcast_shape(const tta_tensor *a, const tta_tensor *b, tta_tensor *out) {
    int nd = a->ndim > b->ndim ? a->ndim : b->ndim;
    int64_t dims[TTA_MAX_DIMS];
    for (int i = 0; i < nd; i++) {
        int ia = i - (nd - a->ndim), ib = i - (nd - b->ndim);
        int64_t da = ia >= 0 ? a->dims[ia] : 1, db = ib >= 0 ? b->dims[ib] : 1;
        if (da == db || db == 1) dims[i] = da;
        else if (da == 1) dims[i] = db;
        else {
            char sa[128], sb[128];
            return tta_errorf(TTA_ERR_SHAPE, "shapes %s and %s cannot be broadcast", tta_shape_str(a, sa, sizeof sa),
                              tta_shape_str(b, sb, sizeof sb));
        }
    }
    out->ndim = nd;
    for (int i = 0; i < nd; i++) out->dims[i] = dims[i];
    return TTA_OK;
}

tta_status tta_set_shape(tta_tensor *t, tta_dtype dtype, int ndim, const int64_t *dims) {
    if (!t) return tta_errorf(TTA_ERR_SHAPE, "an output the operator needs is omitted (empty name)");
    if (ndim < 0 || ndim > TTA_MAX_DIMS)
        return tta_errorf(TTA_ERR_UNSUPPORTED, "tensor rank %d exceeds the maximum of %d", ndim, TTA_MAX_DIMS);
    for (int i = 0; i < ndim; i++)
        if (dims[i] < 0) return tta_errorf(TTA_ERR_SHAPE, "negative dimension %lld", (long long)dims[i]);
    int64_t tmp[TTA_MAX_DIMS];
    for (int i = 0; i < ndim; i++) tmp[i] = dims[i]; /* dims may alias t->dims */
    t->dtype = dtype;
    t->ndim = ndim;
    for (int i = 0; i < TTA_MAX_DIMS; i++) t->dims[i] = i < ndim ? tmp[i] : 0;
    return TTA_OK;
}

tta_status tta_norm_axis(const tta_op_ctx *ctx, int64_t axis, int rank, int *out) {
    int64_t a = axis < 0 ? axis + rank : axis;
    if (a < 0 || a >= (rank > 0 ? rank : 1))
        return tta_op_error(ctx, TTA_ERR_ATTR, "axis %lld out of range for rank %d", (long long)axis, rank);
    *out = (int)a;
    return TTA_OK;
}

tta_status tta_op_error(const tta_op_ctx *ctx, tta_status st, const char *fmt, ...) {
    char msg[768];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    const tta_node *n = ctx->node;
    if (n->name && n->name[0]) return tta_errorf(st, "node '%s' (%s): %s", n->name, n->op_type, msg);
    return tta_errorf(st, "%s node: %s", n->op_type, msg);
}
