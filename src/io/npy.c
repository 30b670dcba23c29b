/* npy.c - NumPy .npy files (versions 1.0, 2.0, 3.0): little-endian, C-order arrays of the
 * numeric dtypes tta knows. The header is a Python dict literal; we parse just its three keys. */
#include <ctype.h>
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/error.h"
#include "core/file_key.h"
#include "core/file_out.h"
#include "tta/tensor_io.h"

static const struct {
    const char *descr;
    tta_dtype dtype;
} npy_types[] = {
    {"<f4", TTA_DTYPE_FLOAT32}, {"<f8", TTA_DTYPE_FLOAT64}, {"<f2", TTA_DTYPE_FLOAT16},
    {"|u1", TTA_DTYPE_UINT8},   {"|i1", TTA_DTYPE_INT8},    {"<u2", TTA_DTYPE_UINT16},
    {"<i2", TTA_DTYPE_INT16},   {"<i4", TTA_DTYPE_INT32},   {"<i8", TTA_DTYPE_INT64},
    {"|b1", TTA_DTYPE_BOOL},    {"<u4", TTA_DTYPE_UINT32},  {"<u8", TTA_DTYPE_UINT64},
};

static const char *find_key(const char *hdr, const char *key) {
    const char *p = strstr(hdr, key);
    if (!p) return NULL;
    p += strlen(key);
    while (*p == ' ' || *p == ':') p++;
    return p;
}

tta_status tta_tensor_read_npy(const char *path, tta_tensor *out) {
    void *buf;
    size_t size;
    memset(out, 0, sizeof *out);
    TTA_TRY(tta_read_file(path, &buf, &size));
    const unsigned char *b = buf;
    tta_status st = TTA_OK;
    char *hdr = NULL;
    if (size < 10 || memcmp(b, "\x93NUMPY", 6) != 0) {
        st = tta_errorf(TTA_ERR_PARSE, "%s: not a .npy file (bad magic)", path);
        goto done;
    }
    size_t hlen, off;
    if (b[6] == 1) {
        hlen = (size_t)b[8] | ((size_t)b[9] << 8);
        off = 10;
    } else if (b[6] == 2 || b[6] == 3) {
        if (size < 12) {
            st = tta_errorf(TTA_ERR_PARSE, "%s: truncated .npy header", path);
            goto done;
        }
        hlen = (size_t)b[8] | ((size_t)b[9] << 8) | ((size_t)b[10] << 16) | ((size_t)b[11] << 24);
        off = 12;
    } else {
        st = tta_errorf(TTA_ERR_PARSE, "%s: unsupported .npy version %d", path, b[6]);
        goto done;
    }
    if (off + hlen > size) {
        st = tta_errorf(TTA_ERR_PARSE, "%s: truncated .npy header", path);
        goto done;
    }
    hdr = tta_malloc(hlen + 1);
    if (!hdr) {
        st = tta_errorf(TTA_ERR_NOMEM, "out of memory");
        goto done;
    }
    memcpy(hdr, b + off, hlen);
    hdr[hlen] = '\0';
    const char *d = find_key(hdr, "'descr'");
    const char *fo = find_key(hdr, "'fortran_order'");
    const char *sh = find_key(hdr, "'shape'");
    if (!d || !fo || !sh || *d != '\'' || *sh != '(') {
        st = tta_errorf(TTA_ERR_PARSE, "%s: malformed .npy header", path);
        goto done;
    }
    if (!strncmp(fo, "True", 4)) {
        st = tta_errorf(TTA_ERR_UNSUPPORTED, "%s: Fortran-order arrays are not supported", path);
        goto done;
    }
    tta_dtype dt = TTA_DTYPE_UNDEFINED;
    for (size_t i = 0; i < sizeof npy_types / sizeof npy_types[0]; i++) {
        size_t l = strlen(npy_types[i].descr);
        if (!strncmp(d + 1, npy_types[i].descr, l) && d[1 + l] == '\'') dt = npy_types[i].dtype;
    }
    /* single-byte types may be written with '<' or '=' too */
    if (dt == TTA_DTYPE_UNDEFINED) {
        if (!strncmp(d + 1, "<u1'", 4)) dt = TTA_DTYPE_UINT8;
        else if (!strncmp(d + 1, "<i1'", 4)) dt = TTA_DTYPE_INT8;
        else if (!strncmp(d + 1, "<b1'", 4)) dt = TTA_DTYPE_BOOL;
    }
    if (dt == TTA_DTYPE_UNDEFINED) {
        st = tta_errorf(TTA_ERR_UNSUPPORTED, "%s: unsupported .npy dtype %.12s (need little-endian numeric)", path, d);
        goto done;
    }
    int64_t dims[TTA_MAX_DIMS];
    int nd = 0;
    const char *p = sh + 1;
    while (*p && *p != ')') {
        while (*p == ' ' || *p == ',') p++;
        if (*p == ')') break;
        if (!isdigit((unsigned char)*p)) {
            st = tta_errorf(TTA_ERR_PARSE, "%s: malformed shape in .npy header", path);
            goto done;
        }
        if (nd == TTA_MAX_DIMS) {
            st = tta_errorf(TTA_ERR_UNSUPPORTED, "%s: rank exceeds %d", path, TTA_MAX_DIMS);
            goto done;
        }
        errno = 0;
        dims[nd++] = strtoll(p, (char **)&p, 10);
        if (errno == ERANGE) {
            st = tta_errorf(TTA_ERR_PARSE, "%s: dimension %d of the .npy shape is out of range", path, nd - 1);
            goto done;
        }
    }
    if (*p != ')') {
        st = tta_errorf(TTA_ERR_PARSE, "%s: malformed shape in .npy header", path);
        goto done;
    }
    /* The byte count the header promises is checked against the file before anything is
     * allocated: a 130-byte file declaring 10^12 elements is truncated, not out of memory.
     * Checked multiply; any zero dimension makes an empty tensor. */
    size_t have = size - off - hlen, need = tta_dtype_size(dt);
    bool empty = false, overflow = false;
    for (int i = 0; i < nd; i++) {
        if (dims[i] == 0) empty = true;
        else if ((uint64_t)dims[i] > SIZE_MAX / need) overflow = true;
        else need *= (size_t)dims[i];
    }
    if (empty) need = 0;
    else if (overflow) {
        st = tta_errorf(TTA_ERR_PARSE, "%s: truncated data: %zu bytes, the shape's byte count overflows 64 bits", path,
                        have);
        goto done;
    }
    if (have < need) {
        st = tta_errorf(TTA_ERR_PARSE, "%s: truncated data: %zu bytes, shape needs %zu", path, have, need);
        goto done;
    }
    st = tta_tensor_resize(out, dt, nd, dims);
    if (st) goto done;
    need = tta_tensor_nbytes(out);
    if (need) memcpy(out->data, b + off + hlen, need);
done:
    tta_free(hdr);
    tta_free(buf);
    if (st) tta_tensor_destroy(out);
    return st;
}

tta_status tta_tensor_write_npy(const char *path, const tta_tensor *t) {
    const char *descr = NULL;
    for (size_t i = 0; i < sizeof npy_types / sizeof npy_types[0]; i++)
        if (npy_types[i].dtype == t->dtype) descr = npy_types[i].descr;
    if (!descr) return tta_errorf(TTA_ERR_UNSUPPORTED, "%s: dtype %s cannot be written as .npy", path, tta_dtype_name(t->dtype));
    char hdr[256];
    int n = snprintf(hdr, sizeof hdr, "{'descr': '%s', 'fortran_order': False, 'shape': (", descr);
    for (int i = 0; i < t->ndim; i++)
        n += snprintf(hdr + n, sizeof hdr - (size_t)n, i ? ", %lld" : "%lld", (long long)t->dims[i]);
    /* a 1-tuple needs its trailing comma: (5,) */
    n += snprintf(hdr + n, sizeof hdr - (size_t)n, "%s), }", t->ndim == 1 ? "," : "");
    /* pad so that data starts at a multiple of 64, header ends with '\n' */
    size_t total = 10 + (size_t)n + 1;
    size_t pad = (64 - total % 64) % 64;
    tta_file_out out;
    TTA_TRY(tta_file_out_open(&out, path, "wb"));
    FILE *f = out.f;
    size_t hlen = (size_t)n + pad + 1;
    unsigned char pre[10] = {0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0, (unsigned char)(hlen & 0xff), (unsigned char)(hlen >> 8)};
    int ok = fwrite(pre, 1, 10, f) == 10 && fwrite(hdr, 1, (size_t)n, f) == (size_t)n;
    for (size_t i = 0; ok && i < pad; i++) ok = fputc(' ', f) != EOF;
    ok = ok && fputc('\n', f) != EOF;
    size_t nb = tta_tensor_nbytes(t);
    ok = ok && (nb == 0 || fwrite(t->data, 1, nb, f) == nb);
    if (!ok) {
        tta_file_out_finish(&out, 0);
        return tta_errorf(TTA_ERR_IO, "%s: write failed", path);
    }
    return tta_file_out_finish(&out, 1);
}
