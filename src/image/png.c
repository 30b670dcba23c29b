/* png.c - PNG decoding and encoding with libpng (low-level API, reading from memory).
 *
 * libpng reports errors by longjmp; error_fn records the message and jumps back to decode(),
 * which frees everything and returns TTA_ERR_PARSE naming the file. Warnings are dropped (the
 * library never prints). Truncation shows up as a read past the end of the buffer. */
#include <errno.h>
#include <png.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/error.h"
#include "core/file_out.h"
#include "image/codec.h"

#define TTA_IMAGE_MAX_PIXELS (1u << 28) /* refuse absurd sizes before allocating */

typedef struct png_ctx {
    jmp_buf jb;
    char msg[200];
    const unsigned char *data;
    size_t size, pos;
} png_ctx;

static void error_fn(png_structp png, png_const_charp msg) {
    png_ctx *c = png_get_error_ptr(png);
    snprintf(c->msg, sizeof c->msg, "%s", msg);
    longjmp(c->jb, 1);
}

static void warn_fn(png_structp png, png_const_charp msg) {
    (void)png;
    (void)msg;
}

static void read_fn(png_structp png, png_bytep out, size_t n) {
    png_ctx *c = png_get_io_ptr(png);
    if (n > c->size - c->pos) png_error(png, "file is truncated (unexpected end of data)");
    memcpy(out, c->data + c->pos, n);
    c->pos += n;
}

tta_status tta_png_decode(tta_image *img, const unsigned char *data, size_t size, const char *name) {
    png_ctx ctx = {.data = data, .size = size};
    png_structp png = png_create_read_struct(PNG_LIBPNG_VER_STRING, &ctx, error_fn, warn_fn);
    png_infop info = png ? png_create_info_struct(png) : NULL;
    if (!png || !info) {
        png_destroy_read_struct(png ? &png : NULL, NULL, NULL);
        return tta_errorf(TTA_ERR_NOMEM, "%s: out of memory starting the PNG decoder", name);
    }
    unsigned char *volatile pixels = NULL;
    png_bytep *volatile rows = NULL;
    if (setjmp(ctx.jb)) {
        tta_free(pixels);
        tta_free(rows);
        png_destroy_read_struct(&png, &info, NULL);
        return tta_errorf(TTA_ERR_PARSE, "%s: corrupt or truncated PNG: %s", name, ctx.msg);
    }
    png_set_read_fn(png, &ctx, read_fn);
    png_read_info(png, info);
    png_uint_32 w = png_get_image_width(png, info), h = png_get_image_height(png, info);
    int color = png_get_color_type(png, info), depth = png_get_bit_depth(png, info);
    if ((uint64_t)w * h > TTA_IMAGE_MAX_PIXELS) png_error(png, "image is too large");
    if (color == PNG_COLOR_TYPE_PALETTE) png_set_palette_to_rgb(png);
    if (color == PNG_COLOR_TYPE_GRAY && depth < 8) png_set_expand_gray_1_2_4_to_8(png);
    if (png_get_valid(png, info, PNG_INFO_tRNS)) png_set_tRNS_to_alpha(png);
    if (depth == 16) png_set_scale_16(png);
    png_set_interlace_handling(png);
    png_read_update_info(png, info);
    int channels = png_get_channels(png, info);
    size_t rowbytes = png_get_rowbytes(png, info);
    if (rowbytes != (size_t)w * channels) png_error(png, "unexpected row layout after conversion");
    pixels = tta_malloc((size_t)h * rowbytes);
    rows = tta_malloc(sizeof(png_bytep) * h);
    if (!pixels || !rows) {
        tta_free(pixels);
        tta_free(rows);
        png_destroy_read_struct(&png, &info, NULL);
        return tta_errorf(TTA_ERR_NOMEM, "%s: out of memory for a %ux%u image", name, (unsigned)h,
                          (unsigned)w);
    }
    for (png_uint_32 y = 0; y < h; y++)
        rows[y] = pixels + y * rowbytes;
    png_read_image(png, rows);
    png_read_end(png, NULL);
    png_destroy_read_struct(&png, &info, NULL);
    tta_free(rows);
    tta_image_destroy(img);
    *img = (tta_image){(int)h, (int)w, channels, TTA_DTYPE_UINT8, pixels, (size_t)h * rowbytes};
    return TTA_OK;
}

/* A growing memory buffer for tta_image_encode_png. */
typedef struct png_mem {
    unsigned char *data;
    size_t size, cap;
} png_mem;

static void mem_write_fn(png_structp png, png_bytep in, size_t n) {
    png_mem *m = png_get_io_ptr(png);
    if (n > m->cap - m->size) {
        size_t cap = m->cap ? m->cap : 4096;
        while (n > cap - m->size) {
            if (cap > SIZE_MAX / 2) png_error(png, "PNG too large for memory");
            cap *= 2;
        }
        unsigned char *d = tta_realloc(m->data, cap);
        if (!d) png_error(png, "out of memory for the encoded PNG");
        m->data = d;
        m->cap = cap;
    }
    memcpy(m->data + m->size, in, n);
    m->size += n;
}

static void mem_flush_fn(png_structp png) { (void)png; }

/* Encodes `src` (uint8, 1-4 channels) to `f`, or to `mem` when f is NULL; returns 0 or -1 with
 * ctx->msg set. Kept apart from its callers so that nothing live across setjmp is modified
 * after it. */
static int encode(FILE *f, png_mem *mem, const tta_image *src, png_ctx *ctx) {
    static const int color_types[5] = {0, PNG_COLOR_TYPE_GRAY, PNG_COLOR_TYPE_GRAY_ALPHA, PNG_COLOR_TYPE_RGB,
                                       PNG_COLOR_TYPE_RGB_ALPHA};
    png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, ctx, error_fn, warn_fn);
    png_infop info = png ? png_create_info_struct(png) : NULL;
    if (!png || !info) {
        png_destroy_write_struct(png ? &png : NULL, NULL);
        snprintf(ctx->msg, sizeof ctx->msg, "out of memory starting the PNG encoder");
        return -1;
    }
    if (setjmp(ctx->jb)) {
        png_destroy_write_struct(&png, &info);
        return -1;
    }
    if (f) png_init_io(png, f);
    else png_set_write_fn(png, mem, mem_write_fn, mem_flush_fn);
    png_set_IHDR(png, info, (png_uint_32)src->width, (png_uint_32)src->height, 8, color_types[src->channels],
                 PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
    png_write_info(png, info);
    const unsigned char *p = src->data;
    size_t stride = (size_t)src->width * src->channels;
    for (int y = 0; y < src->height; y++)
        png_write_row(png, (png_const_bytep)(p + y * stride));
    png_write_end(png, NULL);
    png_destroy_write_struct(&png, &info);
    return 0;
}

/* What a PNG is encoded from: img itself when uint8, else its uint8 copy in *u8 (destroy it
 * after). 1 to 4 channels; the message names `path` when there is one. */
static tta_status png_source(const tta_image *img, const char *path, tta_image *u8, const tta_image **src) {
    *src = img;
    if (img->channels < 1 || img->channels > 4)
        return tta_errorf(TTA_ERR_INVALID_ARG, "%s%sPNG needs 1 to 4 channels, the image has %d", path ? path : "",
                          path ? ": " : "", img->channels);
    if (img->dtype == TTA_DTYPE_UINT8) return TTA_OK;
    TTA_TRY(tta_image_convert(u8, img, TTA_DTYPE_UINT8));
    *src = u8;
    return TTA_OK;
}

tta_status tta_image_write_png(const tta_image *img, const char *path) {
    if (!img || !img->data || !path)
        return tta_errorf(TTA_ERR_INVALID_ARG, "tta_image_write_png: NULL argument");
    tta_image u8 = {0};
    const tta_image *src;
    TTA_TRY(png_source(img, path, &u8, &src));
    tta_file_out out;
    tta_status st = tta_file_out_open(&out, path, "wb");
    if (st) {
        tta_image_destroy(&u8);
        return st;
    }
    png_ctx ctx = {0};
    int rc = encode(out.f, NULL, src, &ctx);
    tta_image_destroy(&u8);
    st = tta_file_out_finish(&out, rc == 0); /* PATH.part renamed into place, or removed */
    if (rc != 0) return tta_errorf(TTA_ERR_IO, "%s: PNG write failed: %s", path, ctx.msg);
    return st;
}

tta_status tta_image_encode_png(const tta_image *img, void **data, size_t *size) {
    if (!img || !img->data || !data || !size)
        return tta_errorf(TTA_ERR_INVALID_ARG, "tta_image_encode_png: NULL argument");
    *data = NULL;
    *size = 0;
    tta_image u8 = {0};
    const tta_image *src;
    TTA_TRY(png_source(img, NULL, &u8, &src));
    png_ctx ctx = {0};
    png_mem mem = {0};
    int rc = encode(NULL, &mem, src, &ctx);
    tta_image_destroy(&u8);
    if (rc != 0) {
        tta_free(mem.data);
        return tta_errorf(TTA_ERR_NOMEM, "PNG encoding failed: %s", ctx.msg);
    }
    *data = mem.data;
    *size = mem.size;
    return TTA_OK;
}
