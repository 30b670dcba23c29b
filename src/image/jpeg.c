/* jpeg.c - JPEG decoding with libjpeg-turbo, from memory.
 *
 * libjpeg's default error handler exits the process and its warnings print to stderr; here the
 * error handler longjmps back to tta_jpeg_decode and the message is kept. Warnings that mean the
 * pixel data is damaged (a truncated file, a bad Huffman code, a premature marker) are treated
 * as errors: libjpeg would otherwise fill the missing part with grey and report success.
 * Gray JPEGs give 1 channel, everything else 3 (RGB); CMYK/YCCK is converted to RGB. */
#include <setjmp.h>
#include <stdio.h>
#include <string.h>

#include <jerror.h>
#include <jpeglib.h>

#include "core/alloc.h"
#include "core/error.h"
#include "image/codec.h"

#define TTA_IMAGE_MAX_PIXELS (1u << 28)

typedef struct jpeg_ctx {
    struct jpeg_error_mgr pub; /* first, so a j_common_ptr's err can be cast to jpeg_ctx */
    jmp_buf jb;
    char msg[JMSG_LENGTH_MAX];
} jpeg_ctx;

static void error_exit(j_common_ptr cinfo) {
    jpeg_ctx *c = (jpeg_ctx *)cinfo->err;
    cinfo->err->format_message(cinfo, c->msg);
    longjmp(c->jb, 1);
}

static void emit_message(j_common_ptr cinfo, int level) {
    if (level >= 0) return; /* trace messages */
    int code = cinfo->err->msg_code;
    /* benign: stray bytes between markers, unknown JFIF/Adobe revisions */
    if (code == JWRN_EXTRANEOUS_DATA || code == JWRN_JFIF_MAJOR || code == JWRN_ADOBE_XFORM) return;
    error_exit(cinfo);
}

static void output_message(j_common_ptr cinfo) { (void)cinfo; }

tta_status tta_jpeg_decode(tta_image *img, const unsigned char *data, size_t size, const char *name) {
    struct jpeg_decompress_struct cinfo;
    jpeg_ctx ctx;
    memset(&ctx, 0, sizeof ctx);
    cinfo.err = jpeg_std_error(&ctx.pub);
    ctx.pub.error_exit = error_exit;
    ctx.pub.emit_message = emit_message;
    ctx.pub.output_message = output_message;
    unsigned char *volatile pixels = NULL;
    unsigned char *volatile cmyk_row = NULL;
    volatile tta_status fail = TTA_ERR_PARSE;
    if (setjmp(ctx.jb)) {
        jpeg_destroy_decompress(&cinfo);
        tta_free(pixels);
        tta_free(cmyk_row);
        if (fail == TTA_ERR_PARSE)
            return tta_errorf(TTA_ERR_PARSE, "%s: corrupt or truncated JPEG: %s", name, ctx.msg);
        return tta_errorf(fail, "%s: %s", name, ctx.msg);
    }
    jpeg_create_decompress(&cinfo);
    jpeg_mem_src(&cinfo, data, (unsigned long)size);
    jpeg_read_header(&cinfo, TRUE);
    int cmyk = cinfo.jpeg_color_space == JCS_CMYK || cinfo.jpeg_color_space == JCS_YCCK;
    int channels = cinfo.jpeg_color_space == JCS_GRAYSCALE ? 1 : 3;
    cinfo.out_color_space = channels == 1 ? JCS_GRAYSCALE : cmyk ? JCS_CMYK : JCS_RGB;
    /* the size the header declares, checked before jpeg_start_decompress: for a progressive
     * file that allocates coefficient buffers for the whole image (2 GB for a 100-byte file
     * declaring 65472x15120, found by fuzzing) */
    unsigned w = cinfo.image_width, h = cinfo.image_height;
    if ((uint64_t)w * h <= TTA_IMAGE_MAX_PIXELS && w && h) {
        jpeg_start_decompress(&cinfo);
        w = cinfo.output_width, h = cinfo.output_height;
    }
    if ((uint64_t)w * h > TTA_IMAGE_MAX_PIXELS || w == 0 || h == 0) {
        snprintf(ctx.msg, sizeof ctx.msg, "image size %ux%u is not supported", h, w);
        fail = TTA_ERR_UNSUPPORTED;
        longjmp(ctx.jb, 1);
    }
    if ((int)cinfo.output_components != (cmyk ? 4 : channels)) {
        snprintf(ctx.msg, sizeof ctx.msg, "unexpected component count %d", cinfo.output_components);
        longjmp(ctx.jb, 1);
    }
    size_t stride = (size_t)w * channels;
    pixels = tta_malloc(stride * h);
    if (cmyk) cmyk_row = tta_malloc((size_t)w * 4);
    if (!pixels || (cmyk && !cmyk_row)) {
        snprintf(ctx.msg, sizeof ctx.msg, "out of memory for a %ux%u image", h, w);
        fail = TTA_ERR_NOMEM;
        longjmp(ctx.jb, 1);
    }
    while (cinfo.output_scanline < h) {
        unsigned y = cinfo.output_scanline;
        unsigned char *row = cmyk ? cmyk_row : pixels + y * stride;
        JSAMPROW rows[1] = {row};
        if (jpeg_read_scanlines(&cinfo, rows, 1) != 1) {
            snprintf(ctx.msg, sizeof ctx.msg, "no data for row %u", y);
            longjmp(ctx.jb, 1);
        }
        if (cmyk) { /* Adobe writes inverted CMYK: the stored value is 255 - ink */
            unsigned char *out = pixels + y * stride;
            for (unsigned x = 0; x < w; x++) {
                unsigned k = row[4 * x + 3];
                for (int c = 0; c < 3; c++) {
                    unsigned v = row[4 * x + c];
                    out[3 * x + c] = cinfo.saw_Adobe_marker
                                         ? (unsigned char)((v * k + 127) / 255)
                                         : (unsigned char)(((255 - v) * (255 - k) + 127) / 255);
                }
            }
        }
    }
    jpeg_finish_decompress(&cinfo);
    jpeg_destroy_decompress(&cinfo);
    tta_free(cmyk_row);
    tta_image_destroy(img);
    *img = (tta_image){(int)h, (int)w, channels, TTA_DTYPE_UINT8, pixels, stride * h};
    return TTA_OK;
}
