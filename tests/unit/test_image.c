/* test_image.c - the image type and the PNG/JPEG codecs: round trips for every channel count,
 * palette/16-bit/low-bit-depth PNGs, gray/RGB/progressive/CMYK JPEGs (written here with libpng
 * and libjpeg directly, so no binary files are committed), and every truncation of both
 * formats, garbage and empty files, which must give a clear error and never a crash. */
#include <png.h>
#include <stdint.h>
#include <unistd.h>

#include <jpeglib.h>

#include "test.h"
#include "tta/image.h"

/* ---- helpers ---- */

static char *temp_path(const char *suffix) {
    static char buf[8][256];
    static int k;
    char *p = buf[k++ % 8];
    snprintf(p, 256, "/tmp/tta_test_image_%d_%d%s", (int)getpid(), k, suffix);
    return p;
}

static unsigned char *read_all(const char *path, size_t *size) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    unsigned char *b = malloc(n > 0 ? (size_t)n : 1);
    *size = fread(b, 1, (size_t)n, f);
    fclose(f);
    return b;
}

static void write_all(const char *path, const void *data, size_t size) {
    FILE *f = fopen(path, "wb");
    if (!f) return;
    fwrite(data, 1, size, f);
    fclose(f);
}

/* a PNG written by libpng itself, with any colour type and depth */
static void write_png_raw(const char *path, int w, int h, int color_type, int depth,
                          const unsigned char *rows, size_t stride, const png_color *palette, int n_palette,
                          const png_byte *trns, int n_trns) {
    FILE *f = fopen(path, "wb");
    png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
    png_infop info = png_create_info_struct(png);
    if (setjmp(png_jmpbuf(png))) {
        png_destroy_write_struct(&png, &info);
        fclose(f);
        return;
    }
    png_init_io(png, f);
    png_set_IHDR(png, info, w, h, depth, color_type, PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT,
                 PNG_FILTER_TYPE_DEFAULT);
    if (palette) png_set_PLTE(png, info, palette, n_palette);
    if (trns) png_set_tRNS(png, info, trns, n_trns, NULL);
    png_write_info(png, info);
    for (int y = 0; y < h; y++)
        png_write_row(png, rows + y * stride);
    png_write_end(png, NULL);
    png_destroy_write_struct(&png, &info);
    fclose(f);
}

/* a JPEG written by libjpeg; returns its bytes (malloc'd by libjpeg) */
static unsigned char *make_jpeg(int w, int h, int comps, J_COLOR_SPACE cs, int progressive,
                                const unsigned char *px, unsigned long *size) {
    struct jpeg_compress_struct c;
    struct jpeg_error_mgr err;
    c.err = jpeg_std_error(&err);
    jpeg_create_compress(&c);
    unsigned char *out = NULL;
    *size = 0;
    jpeg_mem_dest(&c, &out, size);
    c.image_width = w;
    c.image_height = h;
    c.input_components = comps;
    c.in_color_space = cs;
    jpeg_set_defaults(&c);
    jpeg_set_quality(&c, 95, TRUE);
    if (progressive) jpeg_simple_progression(&c);
    jpeg_start_compress(&c, TRUE);
    while (c.next_scanline < (unsigned)h) {
        JSAMPROW row = (JSAMPROW)(px + (size_t)c.next_scanline * w * comps);
        jpeg_write_scanlines(&c, &row, 1);
    }
    jpeg_finish_compress(&c);
    jpeg_destroy_compress(&c);
    return out;
}

static int pixel_value(int y, int x, int c) { return (y * 37 + x * 11 + c * 71) & 255; }

/* ---- the image type ---- */

TEST(init_wrap_destroy) {
    tta_image img = {0};
    CHECK(tta_image_init(&img, 3, 5, 2, TTA_DTYPE_FLOAT32) == TTA_OK);
    CHECK_EQ_INT(tta_image_nbytes(&img), 3 * 5 * 2 * 4);
    CHECK(img.capacity >= 120);
    void *p = img.data;
    CHECK(tta_image_init(&img, 2, 2, 1, TTA_DTYPE_UINT8) == TTA_OK);
    CHECK(img.data == p); /* reused */
    CHECK_EQ_INT(tta_image_init(&img, 0, 2, 1, TTA_DTYPE_UINT8), TTA_ERR_INVALID_ARG);
    CHECK_EQ_INT(tta_image_init(&img, 2, 2, 1, TTA_DTYPE_INT32), TTA_ERR_INVALID_ARG);
    CHECK_STR_CONTAINS(tta_last_error(), "int32");
    tta_image_destroy(&img);
    CHECK(img.data == NULL && img.capacity == 0);
    uint8_t mem[6] = {1, 2, 3, 4, 5, 6};
    CHECK(tta_image_wrap(&img, 2, 3, 1, TTA_DTYPE_UINT8, mem) == TTA_OK);
    CHECK(img.data == mem && img.capacity == 0);
    tta_image_destroy(&img); /* must not free mem */
    CHECK_EQ_INT(mem[5], 6);
    tta_image_destroy(&img);
}

TEST(convert_follows_the_value_range_convention) {
    uint8_t u[4] = {0, 1, 128, 255};
    tta_image a = {0}, f = {0}, b = {0};
    tta_image_wrap(&a, 1, 4, 1, TTA_DTYPE_UINT8, u);
    CHECK(tta_image_convert(&f, &a, TTA_DTYPE_FLOAT32) == TTA_OK);
    const float *fv = f.data;
    CHECK_NEAR(fv[0], 0, 0);
    CHECK_NEAR(fv[2], 128 / 255.0, 1e-7);
    CHECK_NEAR(fv[3], 1, 0);
    CHECK(tta_image_convert(&b, &f, TTA_DTYPE_UINT8) == TTA_OK);
    CHECK(memcmp(b.data, u, 4) == 0); /* exact round trip */
    float odd[5] = {-1.0f, 2.0f, 0.5f, NAN, 0.49f / 255.0f};
    tta_image o = {0};
    tta_image_wrap(&o, 1, 5, 1, TTA_DTYPE_FLOAT32, odd);
    CHECK(tta_image_convert(&b, &o, TTA_DTYPE_UINT8) == TTA_OK);
    const uint8_t *bv = b.data;
    CHECK_EQ_INT(bv[0], 0);
    CHECK_EQ_INT(bv[1], 255);
    CHECK_EQ_INT(bv[2], 128);
    CHECK_EQ_INT(bv[3], 0);
    CHECK_EQ_INT(bv[4], 0);
    CHECK_EQ_INT(tta_image_convert(&o, &o, TTA_DTYPE_UINT8), TTA_ERR_INVALID_ARG);
    tta_image_destroy(&f);
    tta_image_destroy(&b);
}

/* ---- PNG ---- */

TEST(png_round_trip_every_channel_count) {
    for (int c = 1; c <= 4; c++) {
        tta_image img = {0}, back = {0};
        CHECK(tta_image_init(&img, 7, 10, c, TTA_DTYPE_UINT8) == TTA_OK);
        uint8_t *p = img.data;
        for (int y = 0; y < 7; y++)
            for (int x = 0; x < 10; x++)
                for (int k = 0; k < c; k++)
                    p[(y * 10 + x) * c + k] = (uint8_t)pixel_value(y, x, k);
        char *path = temp_path(".png");
        CHECK(tta_image_write_png(&img, path) == TTA_OK);
        CHECK(tta_image_read(&back, path) == TTA_OK);
        CHECK_EQ_INT(back.height, 7);
        CHECK_EQ_INT(back.width, 10);
        CHECK_EQ_INT(back.channels, c);
        CHECK_EQ_INT(back.dtype, TTA_DTYPE_UINT8);
        CHECK(back.data && memcmp(back.data, img.data, 70 * c) == 0);
        unlink(path);
        tta_image_destroy(&img);
        tta_image_destroy(&back);
    }
}

TEST(png_write_converts_float_and_refuses_bad_channels) {
    tta_image img = {0}, back = {0};
    CHECK(tta_image_init(&img, 2, 2, 1, TTA_DTYPE_FLOAT32) == TTA_OK);
    float *f = img.data;
    f[0] = 0, f[1] = 1, f[2] = 0.5f, f[3] = 7;
    char *path = temp_path(".png");
    CHECK(tta_image_write_png(&img, path) == TTA_OK);
    CHECK(tta_image_read(&back, path) == TTA_OK);
    const uint8_t *b = back.data;
    CHECK(b[0] == 0 && b[1] == 255 && b[2] == 128 && b[3] == 255);
    unlink(path);
    CHECK(tta_image_init(&img, 2, 2, 5, TTA_DTYPE_UINT8) == TTA_OK);
    CHECK_EQ_INT(tta_image_write_png(&img, path), TTA_ERR_INVALID_ARG);
    CHECK(tta_image_init(&img, 2, 2, 3, TTA_DTYPE_UINT8) == TTA_OK);
    CHECK_EQ_INT(tta_image_write_png(&img, "/nonexistent-dir/x.png"), TTA_ERR_IO);
    CHECK_STR_CONTAINS(tta_last_error(), "/nonexistent-dir/x.png");
    tta_image_destroy(&img);
    tta_image_destroy(&back);
}

TEST(png_palette_16bit_and_low_depth_are_expanded) {
    char *path = temp_path(".png");
    tta_image img = {0};
    /* palette with transparency -> RGBA */
    png_color pal[2] = {{10, 20, 30}, {200, 100, 50}};
    png_byte trns[2] = {255, 0};
    unsigned char idx[2] = {0x40, 0x80}; /* 1-bit rows of width 2: "01", "10" */
    write_png_raw(path, 2, 2, PNG_COLOR_TYPE_PALETTE, 1, idx, 1, pal, 2, trns, 2);
    CHECK(tta_image_read(&img, path) == TTA_OK);
    CHECK_EQ_INT(img.channels, 4);
    const uint8_t *p = img.data;
    CHECK(p[0] == 10 && p[1] == 20 && p[2] == 30 && p[3] == 255);
    CHECK(p[4] == 200 && p[5] == 100 && p[6] == 50 && p[7] == 0);
    CHECK(p[8] == 200 && p[11] == 0);
    /* 16-bit gray -> 8 bits */
    unsigned char g16[2 * 2 * 2] = {0x12, 0x34, 0xFF, 0xFF, 0x00, 0x00, 0x80, 0x00};
    write_png_raw(path, 2, 2, PNG_COLOR_TYPE_GRAY, 16, g16, 4, NULL, 0, NULL, 0);
    CHECK(tta_image_read(&img, path) == TTA_OK);
    CHECK_EQ_INT(img.channels, 1);
    p = img.data;
    CHECK(p[0] == 0x12 && p[1] == 255 && p[2] == 0 && p[3] == 128);
    /* 2-bit gray -> 0, 85, 170, 255 */
    unsigned char g2[1] = {0x1B}; /* 00 01 10 11 */
    write_png_raw(path, 4, 1, PNG_COLOR_TYPE_GRAY, 2, g2, 1, NULL, 0, NULL, 0);
    CHECK(tta_image_read(&img, path) == TTA_OK);
    p = img.data;
    CHECK(img.width == 4 && p[0] == 0 && p[1] == 85 && p[2] == 170 && p[3] == 255);
    unlink(path);
    tta_image_destroy(&img);
}

TEST(png_every_truncation_is_a_parse_error) {
    tta_image img = {0};
    CHECK(tta_image_init(&img, 9, 13, 3, TTA_DTYPE_UINT8) == TTA_OK);
    uint8_t *p = img.data;
    for (int i = 0; i < 9 * 13 * 3; i++)
        p[i] = (uint8_t)(i * 7);
    char *path = temp_path(".png");
    CHECK(tta_image_write_png(&img, path) == TTA_OK);
    size_t size = 0;
    unsigned char *bytes = read_all(path, &size);
    CHECK(bytes && size > 60);
    tta_image out = {0};
    CHECK(tta_image_decode(&out, bytes, size, "whole.png") == TTA_OK);
    int bad = 0;
    for (size_t n = 0; n < size; n++) {
        tta_status st = tta_image_decode(&out, bytes, n, "cut.png");
        if (st != TTA_ERR_PARSE || !strstr(tta_last_error(), "cut.png")) bad++;
    }
    CHECK_EQ_INT(bad, 0);
    tta_image_decode(&out, bytes, size / 2, "cut.png");
    CHECK_STR_CONTAINS(tta_last_error(), "cut.png: corrupt or truncated PNG");
    /* a flipped byte inside the image data: CRC or zlib error */
    for (size_t k = 40; k < size - 12; k += 5) {
        unsigned char *copy = malloc(size);
        memcpy(copy, bytes, size);
        copy[k] ^= 0x5A;
        tta_status st = tta_image_decode(&out, copy, size, "flip.png");
        CHECK(st == TTA_OK || st == TTA_ERR_PARSE);
        free(copy);
    }
    /* via a file on disk, truncated */
    write_all(path, bytes, size - 20);
    CHECK_EQ_INT(tta_image_read(&out, path), TTA_ERR_PARSE);
    CHECK_STR_CONTAINS(tta_last_error(), path);
    unlink(path);
    free(bytes);
    tta_image_destroy(&img);
    tta_image_destroy(&out);
}

TEST(garbage_empty_and_missing_files) {
    tta_image img = {0};
    unsigned char junk[64];
    for (int i = 0; i < 64; i++)
        junk[i] = (unsigned char)(i * 31 + 7);
    CHECK_EQ_INT(tta_image_decode(&img, junk, sizeof junk, "junk.bin"), TTA_ERR_PARSE);
    CHECK_STR_CONTAINS(tta_last_error(), "junk.bin: not a PNG or JPEG");
    CHECK_EQ_INT(tta_image_decode(&img, junk, 0, "empty.png"), TTA_ERR_PARSE);
    CHECK_STR_CONTAINS(tta_last_error(), "empty.png: empty file");
    /* a PNG signature followed by garbage */
    unsigned char fake[64] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
    for (int i = 8; i < 64; i++)
        fake[i] = (unsigned char)(i * 13);
    CHECK_EQ_INT(tta_image_decode(&img, fake, sizeof fake, "fake.png"), TTA_ERR_PARSE);
    /* a JPEG SOI followed by garbage */
    unsigned char fakej[64] = {0xFF, 0xD8, 0xFF};
    for (int i = 3; i < 64; i++)
        fakej[i] = (unsigned char)(i * 29);
    CHECK_EQ_INT(tta_image_decode(&img, fakej, sizeof fakej, "fake.jpg"), TTA_ERR_PARSE);
    CHECK_STR_CONTAINS(tta_last_error(), "fake.jpg: corrupt or truncated JPEG");
    CHECK_EQ_INT(tta_image_read(&img, "/nonexistent/none.png"), TTA_ERR_IO);
    CHECK_STR_CONTAINS(tta_last_error(), "/nonexistent/none.png: cannot open");
    char *path = temp_path(".png");
    write_all(path, "", 0);
    CHECK_EQ_INT(tta_image_read(&img, path), TTA_ERR_PARSE);
    unlink(path);
    CHECK(img.data == NULL);
}

/* ---- JPEG ---- */

/* A 100-byte progressive JPEG declaring 65472 x 15120 pixels (fuzzing, F9): refused by its
 * header's size, before libjpeg allocates coefficient buffers for the whole image (2 GB; the
 * message was libjpeg's "Invalid progressive parameters" after that allocation). */
TEST(jpeg_declared_size_refused_before_decoding) {
    tta_image img = {0};
    CHECK_EQ_INT(tta_image_read(&img, "tests/data/fuzz/image/F9_jpeg_progressive_65472x15120_timeout.jpg"),
                 TTA_ERR_UNSUPPORTED);
    CHECK_STR_CONTAINS(tta_last_error(), "image size 65472x15120 is not supported");
    CHECK(img.data == NULL);
}

TEST(jpeg_gray_rgb_and_progressive) {
    enum { W = 24, H = 16 };
    unsigned char rgb[H * W * 3], gray[H * W];
    for (int y = 0; y < H; y++)
        for (int x = 0; x < W; x++) {
            gray[y * W + x] = (unsigned char)(x * 8 + y * 2);
            for (int c = 0; c < 3; c++)
                rgb[(y * W + x) * 3 + c] = (unsigned char)(c == 0 ? x * 10 : c == 1 ? y * 15 : 128);
        }
    for (int prog = 0; prog <= 1; prog++) {
        unsigned long size;
        unsigned char *j = make_jpeg(W, H, 3, JCS_RGB, prog, rgb, &size);
        tta_image img = {0};
        CHECK(tta_image_decode(&img, j, size, "rgb.jpg") == TTA_OK);
        CHECK(img.height == H && img.width == W && img.channels == 3);
        int worst = 0;
        const uint8_t *p = img.data;
        for (int i = 0; i < H * W * 3; i++) {
            int d = abs((int)p[i] - (int)rgb[i]);
            if (d > worst) worst = d;
        }
        CHECK(worst <= 12);
        free(j);
        j = make_jpeg(W, H, 1, JCS_GRAYSCALE, prog, gray, &size);
        CHECK(tta_image_decode(&img, j, size, "gray.jpg") == TTA_OK);
        CHECK_EQ_INT(img.channels, 1);
        worst = 0;
        p = img.data;
        for (int i = 0; i < H * W; i++) {
            int d = abs((int)p[i] - (int)gray[i]);
            if (d > worst) worst = d;
        }
        CHECK(worst <= 6);
        /* through a file */
        char *path = temp_path(".jpg");
        write_all(path, j, size);
        CHECK(tta_image_read(&img, path) == TTA_OK);
        CHECK(img.width == W && img.channels == 1);
        unlink(path);
        free(j);
        tta_image_destroy(&img);
    }
}

TEST(jpeg_cmyk_becomes_rgb) {
    enum { W = 8, H = 8 };
    unsigned char cmyk[H * W * 4];
    for (int i = 0; i < H * W; i++) { /* stored inverted, as Adobe does: 255 - ink */
        cmyk[4 * i + 0] = 255;        /* no cyan */
        cmyk[4 * i + 1] = 255 - 255;  /* full magenta */
        cmyk[4 * i + 2] = 255;        /* no yellow */
        cmyk[4 * i + 3] = 255;        /* no black */
    }
    unsigned long size;
    unsigned char *j = make_jpeg(W, H, 4, JCS_CMYK, 0, cmyk, &size);
    tta_image img = {0};
    CHECK(tta_image_decode(&img, j, size, "cmyk.jpg") == TTA_OK);
    CHECK_EQ_INT(img.channels, 3);
    const uint8_t *p = img.data;
    CHECK(p[0] > 240 && p[1] < 15 && p[2] > 240); /* magenta */
    free(j);
    tta_image_destroy(&img);
}

TEST(jpeg_every_truncation_is_a_parse_error) {
    enum { W = 20, H = 12 };
    unsigned char rgb[H * W * 3];
    for (int i = 0; i < H * W * 3; i++)
        rgb[i] = (unsigned char)(i * 13);
    for (int prog = 0; prog <= 1; prog++) {
        unsigned long size;
        unsigned char *j = make_jpeg(W, H, 3, JCS_RGB, prog, rgb, &size);
        tta_image img = {0};
        CHECK(tta_image_decode(&img, j, size, "whole.jpg") == TTA_OK);
        int bad = 0;
        for (unsigned long n = 0; n < size; n++) {
            tta_status st = tta_image_decode(&img, j, n, "cut.jpg");
            if (st != TTA_ERR_PARSE || !strstr(tta_last_error(), "cut.jpg")) {
                if (bad++ < 3)
                    fprintf(stderr, "  prefix %lu of %lu: status %d (%s)\n", n, size, st, tta_last_error());
            }
        }
        CHECK_EQ_INT(bad, 0);
        /* damaged entropy-coded data: an error or a decoded image, never a crash */
        for (unsigned long k = size / 3; k < size - 2; k += 7) {
            unsigned char *copy = malloc(size);
            memcpy(copy, j, size);
            copy[k] ^= 0xA5;
            tta_status st = tta_image_decode(&img, copy, size, "flip.jpg");
            CHECK(st == TTA_OK || st == TTA_ERR_PARSE);
            free(copy);
        }
        free(j);
        tta_image_destroy(&img);
    }
}

/* ---- allocation failures ---- */

static long live, n_allocs, fail_at = -1;
static void *counting_realloc(void *user, void *ptr, size_t size) {
    (void)user;
    if (!ptr) {
        if (n_allocs++ == fail_at) return NULL;
        live++;
    }
    return realloc(ptr, size);
}
static void counting_free(void *user, void *ptr) {
    (void)user;
    live--;
    free(ptr);
}

TEST(decoders_survive_failed_allocations) {
    unsigned char rgb[8 * 8 * 3];
    for (int i = 0; i < 192; i++)
        rgb[i] = (unsigned char)i;
    unsigned long jsize;
    unsigned char *j = make_jpeg(8, 8, 3, JCS_RGB, 0, rgb, &jsize);
    tta_image src = {0};
    tta_image_wrap(&src, 8, 8, 3, TTA_DTYPE_UINT8, rgb);
    char *path = temp_path(".png");
    CHECK(tta_image_write_png(&src, path) == TTA_OK);
    size_t psize;
    unsigned char *p = read_all(path, &psize);
    unlink(path);
    tta_allocator a = {counting_realloc, counting_free, NULL};
    for (int fmt = 0; fmt < 2; fmt++) {
        for (fail_at = 0; fail_at < 4; fail_at++) {
            tta_image img = {0};
            n_allocs = live = 0;
            tta_set_allocator(&a);
            tta_status st =
                fmt ? tta_image_decode(&img, j, jsize, "a.jpg") : tta_image_decode(&img, p, psize, "a.png");
            tta_image_destroy(&img);
            tta_set_allocator(NULL);
            CHECK(st == TTA_OK || st == TTA_ERR_NOMEM);
            CHECK_EQ_INT(live, 0);
        }
    }
    fail_at = -1;
    free(j);
    free(p);
}
