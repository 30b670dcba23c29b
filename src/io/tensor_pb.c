/* tensor_pb.c - TensorProto <-> tta_tensor, and .pb tensor files (the ONNX test-suite format).
 *
 * Data may come as raw_data (little-endian bytes) or in the typed repeated fields (float_data,
 * int32_data for the small integer types, bool and float16, int64_data, double_data,
 * uint64_data for uint32/uint64). Writing always uses raw_data. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core/alloc.h"
#include "core/error.h"
#include "core/file_key.h"
#include "core/file_out.h"
#include "io/onnx_tensor.h"
#include "tta/tensor_io.h"

tta_status tta_read_file(const char *path, void **data, size_t *size) {
    struct stat st;
    if (stat(path, &st) == 0 && !S_ISREG(st.st_mode))
        return tta_errorf(TTA_ERR_IO, "%s: cannot read: not a regular file", path);
    FILE *f = fopen(path, "rb");
    if (!f) return tta_errorf(TTA_ERR_IO, "%s: cannot open file", path);
    if (fseek(f, 0, SEEK_END) != 0) {
        fclose(f);
        return tta_errorf(TTA_ERR_IO, "%s: cannot seek (not a regular file?)", path);
    }
    long n = ftell(f);
    if (n < 0) {
        fclose(f);
        return tta_errorf(TTA_ERR_IO, "%s: cannot read file size", path);
    }
    rewind(f);
    void *buf = tta_malloc((size_t)n + 1);
    if (!buf) {
        fclose(f);
        return tta_errorf(TTA_ERR_NOMEM, "%s: out of memory reading %ld bytes", path, n);
    }
    size_t got = fread(buf, 1, (size_t)n, f);
    fclose(f);
    if (got != (size_t)n) {
        tta_free(buf);
        return tta_errorf(TTA_ERR_IO, "%s: short read", path);
    }
    *data = buf;
    *size = (size_t)n;
    return TTA_OK;
}

static tta_status typed_count_error(const char *what, size_t have, int64_t want) {
    return tta_errorf(TTA_ERR_PARSE, "%s: holds %zu values but its shape needs %lld", what, have,
                      (long long)want);
}

tta_status tta_tensor_from_proto(const Onnx__TensorProto *p, tta_tensor *out, const char *what) {
    memset(out, 0, sizeof *out);
    if (p->data_location == ONNX__TENSOR_PROTO__DATA_LOCATION__EXTERNAL || p->n_external_data > 0)
        return tta_errorf(TTA_ERR_UNSUPPORTED,
                          "%s: stored as external data, which tta does not load (save the model with "
                          "all tensors inside the .onnx file)",
                          what);
    if (!p->has_data_type) return tta_errorf(TTA_ERR_PARSE, "%s: tensor has no data type (truncated?)", what);
    tta_dtype dt = (tta_dtype)p->data_type;
    if (dt == TTA_DTYPE_STRING)
        return tta_errorf(TTA_ERR_UNSUPPORTED, "%s: string tensors are not supported", what);
    if (tta_dtype_size(dt) == 0)
        return tta_errorf(TTA_ERR_UNSUPPORTED, "%s: unsupported data type %d", what, (int)p->data_type);
    if (p->n_dims > TTA_MAX_DIMS)
        return tta_errorf(TTA_ERR_UNSUPPORTED, "%s: rank %zu exceeds the maximum of %d", what, p->n_dims,
                          TTA_MAX_DIMS);
    int64_t dims[TTA_MAX_DIMS];
    for (size_t i = 0; i < p->n_dims; i++) {
        if (p->dims[i] < 0) return tta_errorf(TTA_ERR_PARSE, "%s: negative dimension", what);
        dims[i] = p->dims[i];
    }
    /* Check the data against the shape before allocating: a garbage shape must not allocate. */
    size_t esize = tta_dtype_size(dt);
    int64_t n = 1;
    for (size_t i = 0; i < p->n_dims; i++) {
        if (dims[i] && n > (INT64_MAX / 16) / dims[i]) return tta_errorf(TTA_ERR_PARSE, "%s: shape too large", what);
        n *= dims[i];
    }
    size_t bytes = (size_t)n * esize;
    size_t have = p->has_raw_data ? p->raw_data.len / esize
                                  : p->n_float_data + p->n_double_data + p->n_int64_data + p->n_uint64_data +
                                        p->n_int32_data;
    if (have != (size_t)n || (p->has_raw_data && p->raw_data.len != bytes)) {
        if (p->has_raw_data)
            return tta_errorf(TTA_ERR_PARSE, "%s: raw_data has %zu bytes but shape and dtype need %zu", what,
                              p->raw_data.len, bytes);
        return typed_count_error(what, have, n);
    }
    tta_status st = tta_tensor_resize(out, dt, (int)p->n_dims, dims);
    if (st) return tta_error_context(st, "%s", what);

    if (p->has_raw_data) {
        if (p->raw_data.len != bytes) {
            tta_tensor_destroy(out);
            return tta_errorf(TTA_ERR_PARSE, "%s: raw_data has %zu bytes but shape and dtype need %zu", what,
                              p->raw_data.len, bytes);
        }
        if (bytes) memcpy(out->data, p->raw_data.data, bytes);
        return TTA_OK;
    }
    switch (dt) {
    case TTA_DTYPE_FLOAT32:
        if ((int64_t)p->n_float_data != n) goto count;
        if (bytes) memcpy(out->data, p->float_data, bytes);
        break;
    case TTA_DTYPE_FLOAT64:
        if ((int64_t)p->n_double_data != n) goto count;
        if (bytes) memcpy(out->data, p->double_data, bytes);
        break;
    case TTA_DTYPE_INT64:
        if ((int64_t)p->n_int64_data != n) goto count;
        if (bytes) memcpy(out->data, p->int64_data, bytes);
        break;
    case TTA_DTYPE_UINT32:
    case TTA_DTYPE_UINT64:
        if ((int64_t)p->n_uint64_data != n) goto count;
        for (int64_t i = 0; i < n; i++) {
            if (dt == TTA_DTYPE_UINT32) ((uint32_t *)out->data)[i] = (uint32_t)p->uint64_data[i];
            else ((uint64_t *)out->data)[i] = p->uint64_data[i];
        }
        break;
    case TTA_DTYPE_INT32:
    case TTA_DTYPE_INT16:
    case TTA_DTYPE_UINT16:
    case TTA_DTYPE_INT8:
    case TTA_DTYPE_UINT8:
    case TTA_DTYPE_BOOL:
    case TTA_DTYPE_FLOAT16:
        if ((int64_t)p->n_int32_data != n) goto count;
        for (int64_t i = 0; i < n; i++) {
            int32_t v = p->int32_data[i];
            switch (dt) {
            case TTA_DTYPE_INT32: ((int32_t *)out->data)[i] = v; break;
            case TTA_DTYPE_INT16: ((int16_t *)out->data)[i] = (int16_t)v; break;
            case TTA_DTYPE_UINT16:
            case TTA_DTYPE_FLOAT16: ((uint16_t *)out->data)[i] = (uint16_t)v; break;
            case TTA_DTYPE_INT8: ((int8_t *)out->data)[i] = (int8_t)v; break;
            case TTA_DTYPE_BOOL: ((uint8_t *)out->data)[i] = v != 0; break;
            default: ((uint8_t *)out->data)[i] = (uint8_t)v; break;
            }
        }
        break;
    default:
        tta_tensor_destroy(out);
        return tta_errorf(TTA_ERR_UNSUPPORTED, "%s: unsupported data type %s", what, tta_dtype_name(dt));
    }
    return TTA_OK;
count : {
    size_t have = p->n_float_data + p->n_double_data + p->n_int64_data + p->n_uint64_data + p->n_int32_data;
    tta_tensor_destroy(out);
    return typed_count_error(what, have, n);
}
}

tta_status tta_tensor_read_pb(const char *path, tta_tensor *out, char **name) {
    void *buf;
    size_t size;
    memset(out, 0, sizeof *out);
    TTA_TRY(tta_read_file(path, &buf, &size));
    Onnx__TensorProto *p = onnx__tensor_proto__unpack(NULL, size, buf);
    tta_free(buf);
    if (!p) return tta_errorf(TTA_ERR_PARSE, "%s: not a valid TensorProto file (truncated or garbage)", path);
    tta_status st = tta_tensor_from_proto(p, out, path);
    if (st == TTA_OK && name) {
        *name = tta_strdup(p->name ? p->name : "");
        if (!*name) st = tta_errorf(TTA_ERR_NOMEM, "out of memory");
    }
    onnx__tensor_proto__free_unpacked(p, NULL);
    if (st) tta_tensor_destroy(out);
    return st;
}

tta_status tta_tensor_write_pb(const char *path, const tta_tensor *t, const char *name) {
    Onnx__TensorProto p = ONNX__TENSOR_PROTO__INIT;
    p.n_dims = (size_t)t->ndim;
    p.dims = (int64_t *)t->dims;
    p.has_data_type = 1;
    p.data_type = (int32_t)t->dtype;
    p.name = (char *)(name ? name : "");
    p.has_raw_data = 1;
    p.raw_data.len = tta_tensor_nbytes(t);
    p.raw_data.data = t->data;
    size_t len = onnx__tensor_proto__get_packed_size(&p);
    uint8_t *buf = tta_malloc(len);
    if (!buf) return tta_errorf(TTA_ERR_NOMEM, "out of memory");
    onnx__tensor_proto__pack(&p, buf);
    tta_file_out out;
    tta_status st = tta_file_out_open(&out, path, "wb");
    if (st) {
        tta_free(buf);
        return st;
    }
    size_t wrote = fwrite(buf, 1, len, out.f);
    tta_free(buf);
    if (wrote != len) {
        tta_file_out_finish(&out, 0);
        return tta_errorf(TTA_ERR_IO, "%s: write failed", path);
    }
    return tta_file_out_finish(&out, 1);
}

tta_status tta_tensor_read_file(const char *path, tta_tensor *out) {
    size_t n = strlen(path);
    if (n >= 4 && !strcmp(path + n - 4, ".npy")) return tta_tensor_read_npy(path, out);
    return tta_tensor_read_pb(path, out, NULL);
}
