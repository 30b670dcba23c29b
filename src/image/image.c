/* image.c - the tta_image type: allocation, borrowing, dtype conversion, and reading a file
 * into memory for the codecs (png.c, jpeg.c), which are chosen by the file's magic bytes. */
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "core/alloc.h"
#include "core/error.h"
#include "image/codec.h"
#include "tta/image.h"

static tta_status check_shape(int height, int width, int channels, tta_dtype dtype) {
    if (height <= 0 || width <= 0 || channels <= 0)
        return tta_errorf(TTA_ERR_INVALID_ARG, "image size %dx%dx%d is not positive", height, width,
                          channels);
    if (dtype != TTA_DTYPE_UINT8 && dtype != TTA_DTYPE_FLOAT32)
        return tta_errorf(TTA_ERR_INVALID_ARG, "image dtype %s is not uint8 or float32",
                          tta_dtype_name(dtype));
    if ((double)height * width * channels * 4 > (double)SIZE_MAX / 2)
        return tta_errorf(TTA_ERR_INVALID_ARG, "image size %dx%dx%d is too large", height, width, channels);
    return TTA_OK;
}

size_t tta_image_nbytes(const tta_image *img) {
    if (!img || img->height <= 0 || img->width <= 0 || img->channels <= 0) return 0;
    return (size_t)img->height * img->width * img->channels * tta_dtype_size(img->dtype);
}

tta_status tta_image_init(tta_image *img, int height, int width, int channels, tta_dtype dtype) {
    if (!img) return tta_errorf(TTA_ERR_INVALID_ARG, "tta_image_init: image is NULL");
    TTA_TRY(check_shape(height, width, channels, dtype));
    size_t need = (size_t)height * width * channels * tta_dtype_size(dtype);
    if (img->capacity < need) {
        void *p = tta_malloc(need);
        if (!p)
            return tta_errorf(TTA_ERR_NOMEM, "out of memory for a %dx%dx%d image", height, width, channels);
        if (img->capacity) tta_free(img->data);
        img->data = p;
        img->capacity = need;
    }
    memset(img->data, 0, need);
    img->height = height;
    img->width = width;
    img->channels = channels;
    img->dtype = dtype;
    return TTA_OK;
}

tta_status tta_image_wrap(tta_image *img, int height, int width, int channels, tta_dtype dtype, void *data) {
    if (!img || !data) return tta_errorf(TTA_ERR_INVALID_ARG, "tta_image_wrap: NULL image or data");
    TTA_TRY(check_shape(height, width, channels, dtype));
    if (img->capacity) tta_free(img->data);
    *img = (tta_image){height, width, channels, dtype, data, 0};
    return TTA_OK;
}

void tta_image_destroy(tta_image *img) {
    if (!img) return;
    if (img->capacity) tta_free(img->data);
    memset(img, 0, sizeof *img);
}

tta_status tta_image_convert(tta_image *dst, const tta_image *src, tta_dtype dtype) {
    if (!dst || !src || !src->data || dst == src)
        return tta_errorf(TTA_ERR_INVALID_ARG, "tta_image_convert: bad arguments");
    TTA_TRY(check_shape(src->height, src->width, src->channels, src->dtype));
    TTA_TRY(tta_image_init(dst, src->height, src->width, src->channels, dtype));
    size_t n = (size_t)src->height * src->width * src->channels;
    if (src->dtype == dtype) {
        memcpy(dst->data, src->data, n * tta_dtype_size(dtype));
    } else if (dtype == TTA_DTYPE_FLOAT32) {
        const uint8_t *s = src->data;
        float *d = dst->data;
        for (size_t i = 0; i < n; i++)
            d[i] = s[i] * (1.0f / 255.0f);
    } else {
        const float *s = src->data;
        uint8_t *d = dst->data;
        for (size_t i = 0; i < n; i++) {
            float v = s[i] * 255.0f;
            d[i] = v >= 255.0f ? 255 : v > 0.0f ? (uint8_t)(v + 0.5f) : 0; /* NaN -> 0 */
        }
    }
    return TTA_OK;
}

tta_status tta_image_decode(tta_image *img, const void *data, size_t size, const char *name) {
    if (!img || (!data && size)) return tta_errorf(TTA_ERR_INVALID_ARG, "tta_image_decode: bad arguments");
    if (!name) name = "(memory)";
    const unsigned char *b = data;
    static const unsigned char png_magic[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
    if (size >= 8 && memcmp(b, png_magic, 8) == 0) return tta_png_decode(img, b, size, name);
    if (size >= 3 && b[0] == 0xFF && b[1] == 0xD8 && b[2] == 0xFF) return tta_jpeg_decode(img, b, size, name);
    if (size == 0) return tta_errorf(TTA_ERR_PARSE, "%s: empty file, not an image", name);
    return tta_errorf(TTA_ERR_PARSE, "%s: not a PNG or JPEG file (unrecognised first bytes)", name);
}

tta_status tta_image_read(tta_image *img, const char *path) {
    if (!img || !path) return tta_errorf(TTA_ERR_INVALID_ARG, "tta_image_read: NULL argument");
    FILE *f = fopen(path, "rb");
    if (!f) return tta_errorf(TTA_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
    unsigned char *buf = NULL;
    size_t len = 0, cap = 0;
    tta_status st = TTA_OK;
    for (;;) {
        if (len == cap) {
            size_t ncap = cap ? cap * 2 : 1 << 16;
            unsigned char *nb = tta_realloc(buf, ncap);
            if (!nb) {
                st = tta_errorf(TTA_ERR_NOMEM, "%s: out of memory reading the file", path);
                break;
            }
            buf = nb;
            cap = ncap;
        }
        size_t got = fread(buf + len, 1, cap - len, f);
        len += got;
        if (got == 0) {
            if (ferror(f)) st = tta_errorf(TTA_ERR_IO, "%s: read error", path);
            break;
        }
    }
    fclose(f);
    if (st == TTA_OK) st = tta_image_decode(img, buf, len, path);
    tta_free(buf);
    return st;
}
