/* image.h - the image type and image files (PNG and JPEG in, PNG out).
 *
 * A tta_image is height x width x channels, stored row-major with the channels of one pixel
 * next to each other (HWC, "interleaved"), as uint8 or float32, with any channel count from 1
 * up. Like tta_tensor it is a plain struct: it owns its buffer (capacity > 0, freed by
 * tta_image_destroy) or borrows one (capacity == 0, see tta_image_wrap).
 *
 * Value range: a uint8 image spans [0, 255] and a float32 image spans [0, 1]. Conversions
 * (tta_image_convert) and the colour transforms of augment.h keep this convention.
 *
 * Example:
 *     tta_image img = {0};
 *     if (tta_image_read(&img, "cat.jpg") != TTA_OK) fprintf(stderr, "%s\n", tta_last_error());
 *     ... img.height, img.width, img.channels, (uint8_t *)img.data ...
 *     tta_image_destroy(&img);
 */
#ifndef TTA_IMAGE_H
#define TTA_IMAGE_H

#include <stddef.h>
#include <stdint.h>

#include "tta/status.h"
#include "tta/tensor.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct tta_image {
    int height, width, channels;
    tta_dtype dtype; /* TTA_DTYPE_UINT8 or TTA_DTYPE_FLOAT32 */
    void *data;      /* height * width * channels elements, HWC */
    size_t capacity; /* bytes owned; 0 when data is borrowed */
} tta_image;

/* Makes `img` an owned, zero-filled image of the given shape and dtype, reusing its buffer when
 * it is large enough. `img` must be zeroed or a valid image. Errors: INVALID_ARG (size <= 0,
 * dtype not uint8/float32), NOMEM. */
TTA_API tta_status tta_image_init(tta_image *img, int height, int width, int channels, tta_dtype dtype);

/* Makes `img` a borrowed view of caller memory (not copied, never freed by tta). */
TTA_API tta_status tta_image_wrap(tta_image *img, int height, int width, int channels, tta_dtype dtype, void *data);

/* Frees an owned buffer and zeroes the struct. Safe on a zeroed struct. */
TTA_API void tta_image_destroy(tta_image *img);

/* Bytes of pixel data (height * width * channels * element size). */
TTA_API size_t tta_image_nbytes(const tta_image *img);

/* dst = src converted to `dtype` (uint8 <-> float32 by the value-range convention above: float
 * values are clamped to [0, 1] and rounded to the nearest of 256 levels). dst may not be src. */
TTA_API tta_status tta_image_convert(tta_image *dst, const tta_image *src, tta_dtype dtype);

/* Reads a PNG or JPEG file (recognised by its first bytes, not its name) into an owned uint8
 * image: gray -> 1 channel, gray+alpha -> 2, colour -> 3, colour+alpha -> 4 (palettes are
 * expanded, 16-bit samples scaled to 8 bits). Errors: IO (cannot open/read), PARSE (not a PNG or
 * JPEG, truncated or corrupt; the message names the file), UNSUPPORTED (e.g. CMYK JPEG). */
TTA_API tta_status tta_image_read(tta_image *img, const char *path);

/* The same from memory; `name` is used in error messages. */
TTA_API tta_status tta_image_decode(tta_image *img, const void *data, size_t size, const char *name);

/* Writes an 8-bit PNG with 1 to 4 channels (gray, gray+alpha, RGB, RGBA). float32 images are
 * converted as tta_image_convert does. Errors: INVALID_ARG (other channel counts), IO. */
TTA_API tta_status tta_image_write_png(const tta_image *img, const char *path);

/* The same PNG encoded into memory: *data (tta_malloc'd; tta_free it) receives *size bytes.
 * Errors: INVALID_ARG (other channel counts), NOMEM. */
TTA_API tta_status tta_image_encode_png(const tta_image *img, void **data, size_t *size);

#ifdef __cplusplus
}
#endif
#endif
