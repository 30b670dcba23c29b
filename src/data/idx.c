/* idx.c - IDX files (MNIST, Fashion-MNIST): an idx3-ubyte images file and an idx1-ubyte labels
 * file, gzipped or not (zlib reads both), into an in-memory data set of rows x cols x 1 images.
 *
 * The IDX header is big-endian: two zero bytes, a type byte (0x08 = unsigned byte), the number
 * of dimensions, then one uint32 per dimension. Nothing in the header is trusted: the data is
 * read into a buffer that grows as bytes arrive, so a garbage header cannot cause a huge
 * allocation, and the file must hold exactly the bytes the header promises. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "core/alloc.h"
#include "core/error.h"
#include "data/dataset_internal.h"
#include "tta/tensor.h"

typedef struct idx_file {
    gzFile f;
    int ndim;
    uint32_t dims[3];
} idx_file;

static uint32_t be32(const unsigned char *p) {
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | (uint32_t)p[3];
}

static const char *idx_type_name(int code) {
    switch (code) {
    case 0x08: return "unsigned byte";
    case 0x09: return "signed byte";
    case 0x0B: return "int16";
    case 0x0C: return "int32";
    case 0x0D: return "float32";
    case 0x0E: return "float64";
    }
    return "unknown";
}

/* Opens an IDX file of unsigned bytes that must have `ndim` dimensions (`what` names the role
 * for messages) and reads its header. */
static tta_status idx_open(idx_file *x, const char *path, int ndim, const char *what) {
    memset(x, 0, sizeof *x);
    TTA_TRY(tta_data_open(&x->f, path));
    unsigned char head[4 + 4 * 3];
    size_t got = 0;
    size_t want = 4 + 4 * (size_t)ndim;
    tta_status st = tta_data_read(x->f, path, head, 4, &got);
    if (st != TTA_OK) goto fail;
    if (got == 0) {
        st = tta_errorf(TTA_ERR_PARSE, "%s: empty file, not an IDX %s file", path, what);
        goto fail;
    }
    if (got < 4) {
        st = tta_errorf(TTA_ERR_PARSE, "%s: truncated IDX header (%zu bytes)", path, got);
        goto fail;
    }
    uint32_t magic = be32(head);
    if (head[0] != 0 || head[1] != 0) {
        st = tta_errorf(TTA_ERR_PARSE,
                        "%s: not an IDX file (magic number 0x%08" PRIx32 ", expected 0x%08x for %s)", path,
                        magic, 0x800 | ndim, what);
        goto fail;
    }
    if (head[2] != 0x08) {
        st = tta_errorf(TTA_ERR_PARSE,
                        "%s: IDX data type 0x%02x (%s) is not supported; %s must be unsigned "
                        "bytes (0x08)",
                        path, head[2], idx_type_name(head[2]), what);
        goto fail;
    }
    if (head[3] != ndim) {
        const char *hint = head[3] == 1   ? " (this looks like a labels file: images and labels swapped?)"
                           : head[3] == 3 ? " (this looks like an images file: images and labels swapped?)"
                                          : "";
        st = tta_errorf(TTA_ERR_PARSE,
                        "%s: IDX file with %d dimension(s); %s need %d (magic 0x%08" PRIx32
                        ", expected 0x%08x)%s",
                        path, head[3], what, ndim, magic, 0x800 | ndim, hint);
        goto fail;
    }
    st = tta_data_read(x->f, path, head + 4, want - 4, &got);
    if (st != TTA_OK) goto fail;
    if (got < want - 4) {
        st = tta_errorf(TTA_ERR_PARSE, "%s: truncated IDX header (%zu of %zu bytes)", path, got + 4, want);
        goto fail;
    }
    x->ndim = ndim;
    for (int d = 0; d < ndim; d++)
        x->dims[d] = be32(head + 4 + 4 * d);
    return TTA_OK;
fail:
    gzclose(x->f);
    x->f = NULL;
    return st;
}

/* Reads exactly `want` bytes of data after the header, or fails naming how many there were. */
static tta_status idx_body(idx_file *x, const char *path, size_t want, const char *promise, uint8_t **out) {
    size_t got = 0;
    TTA_TRY(tta_data_read_growing(x->f, path, want, out, &got));
    if (got < want) {
        tta_free(*out);
        *out = NULL;
        return tta_errorf(TTA_ERR_PARSE,
                          "%s: truncated: the header promises %s (%zu bytes of data), the file "
                          "has %zu",
                          path, promise, want, got);
    }
    uint64_t rest = 0;
    tta_status st = tta_data_count_rest(x->f, path, &rest);
    if (st == TTA_OK && rest > 0)
        st = tta_errorf(TTA_ERR_PARSE, "%s: %" PRIu64 " bytes after the data the header promises (%s)", path,
                        rest, promise);
    if (st != TTA_OK) {
        tta_free(*out);
        *out = NULL;
    }
    return st;
}

tta_status tta_dataset_open_idx(tta_dataset **out, const char *images_path, const char *labels_path) {
    if (!out || !images_path || !labels_path)
        return tta_errorf(TTA_ERR_INVALID_ARG, "tta_dataset_open_idx: NULL argument");
    *out = NULL;
    idx_file im, lb;
    TTA_TRY(idx_open(&im, images_path, 3, "images"));
    tta_status st = idx_open(&lb, labels_path, 1, "labels");
    if (st != TTA_OK) {
        gzclose(im.f);
        return st;
    }
    tta_dataset *ds = NULL;
    uint8_t *labels8 = NULL;
    uint32_t n = im.dims[0], rows = im.dims[1], cols = im.dims[2];
    char promise[128];
    snprintf(promise, sizeof promise, "%" PRIu32 " images of %" PRIu32 "x%" PRIu32, n, rows, cols);
    if (n == 0) {
        st = tta_errorf(TTA_ERR_PARSE, "%s: the header says the file holds no images", images_path);
        goto done;
    }
    if (rows == 0 || cols == 0 || rows > 65535 || cols > 65535) {
        st = tta_errorf(TTA_ERR_PARSE, "%s: implausible image size %" PRIu32 "x%" PRIu32 " in the IDX header",
                        images_path, rows, cols);
        goto done;
    }
    if (lb.dims[0] != n) {
        st = tta_errorf(TTA_ERR_PARSE, "%s holds %" PRIu32 " images but %s holds %" PRIu32 " labels",
                        images_path, n, labels_path, lb.dims[0]);
        goto done;
    }
    size_t per = (size_t)rows * cols;
    if ((double)per * n > (double)SIZE_MAX / 4) {
        st = tta_errorf(TTA_ERR_PARSE, "%s: %s is too large", images_path, promise);
        goto done;
    }
    char label_promise[64];
    snprintf(label_promise, sizeof label_promise, "%" PRIu32 " labels", n);
    st = idx_body(&lb, labels_path, n, label_promise, &labels8);
    if (st != TTA_OK) goto done;

    st = tta_data_new(&ds, images_path);
    if (st != TTA_OK) goto done;
    ds->count = n;
    ds->height = (int)rows;
    ds->width = (int)cols;
    ds->channels = 1;
    ds->labels = tta_malloc((size_t)n * sizeof *ds->labels);
    if (!ds->labels) {
        st = tta_errorf(TTA_ERR_NOMEM, "%s: out of memory for %" PRIu32 " labels", labels_path, n);
        goto done;
    }
    for (uint32_t i = 0; i < n; i++)
        ds->labels[i] = labels8[i];
    tta_data_count_classes(ds);
    st = idx_body(&im, images_path, per * n, promise, &ds->pixels);
done:
    gzclose(im.f);
    gzclose(lb.f);
    tta_free(labels8);
    if (st != TTA_OK) {
        tta_dataset_free(ds);
        return st;
    }
    *out = ds;
    return TTA_OK;
}
