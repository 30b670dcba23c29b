/* test_masks_data.c - image/mask data sets (segment.h, src/segment/masks_data.c): a mosaic set
 * written by tta_mosaic_write_dataset opened as "masks:DIR", with a range and as
 * "masks:IMAGES,MASKS" (pairs read, sizes, mask values 0..10), then hand-made folders for the
 * pairing rules (a JPEG image with a PNG mask, hidden and non-image files, upper-case
 * extensions) and the failures: a missing mask (at open time; not when the range leaves it out),
 * a mask of another size, RGB and gray+alpha masks, files named .png that are not PNGs, empty
 * and out-of-bounds ranges, missing folders and bad specs. Everything is written in a mkdtemp
 * folder removed at the end. */
#include <ftw.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "test.h"
#include "tta/mosaic.h"
#include "tta/segment.h"

static char root[256];

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw) {
    (void)st, (void)flag, (void)ftw;
    return remove(path);
}

static void make_mosaic_set(void);

/* The temporary folder, made by the first test that needs it (with the mosaic set in it) and
 * removed when the program ends. */
static void ensure_root(void) {
    if (root[0]) return;
    snprintf(root, sizeof root, "/tmp/tta_test_masks_XXXXXX");
    if (!mkdtemp(root)) {
        root[0] = '\0';
        CHECK(!"mkdtemp");
        return;
    }
    make_mosaic_set();
}

static const char *path_of(const char *rel) {
    ensure_root();
    static char buf[8][512];
    static int k;
    char *p = buf[k++ % 8];
    snprintf(p, 512, "%s/%s", root, rel);
    return p;
}

static void make_dir(const char *rel) { mkdir(path_of(rel), 0755); }

static void write_text(const char *rel, const char *text) {
    FILE *f = fopen(path_of(rel), "wb");
    if (f) {
        fputs(text, f);
        fclose(f);
    }
}

static void copy_file(const char *from, const char *rel) {
    FILE *a = fopen(from, "rb"), *b = fopen(path_of(rel), "wb");
    if (a && b) {
        char buf[4096];
        size_t n;
        while ((n = fread(buf, 1, sizeof buf, a)) > 0)
            fwrite(buf, 1, n, b);
    }
    if (a) fclose(a);
    if (b) fclose(b);
}

/* An h x w PNG with `channels` channels, pixel value v everywhere. */
static void write_png(const char *rel, int h, int w, int channels, uint8_t v) {
    tta_image im = {0};
    CHECK(tta_image_init(&im, h, w, channels, TTA_DTYPE_UINT8) == TTA_OK);
    memset(im.data, v, tta_image_nbytes(&im));
    CHECK(tta_image_write_png(&im, path_of(rel)) == TTA_OK);
    tta_image_destroy(&im);
}

static char spec_buf[2048];
static const char *spec(const char *fmt, const char *a, const char *b) {
    snprintf(spec_buf, sizeof spec_buf, fmt, a, b);
    return spec_buf;
}

/* ---- a mosaic set --------------------------------------------------------------------------- */

static int mosaic_ok;

static void make_mosaic_set(void) {
    tta_mosaic_source src = {0};
    tta_mosaic_options opt;
    tta_mosaic_options_default(&opt);
    if (tta_mosaic_source_load(&src, NULL, "val") != TTA_OK) {
        printf("  skipped the mosaic set: %s\n", tta_last_error());
        return;
    }
    mosaic_ok = tta_mosaic_write_dataset(&src, &opt, 2, 6, path_of("mosaic"), NULL, NULL) == TTA_OK;
    CHECK(mosaic_ok);
    tta_mosaic_source_destroy(&src);
}

/* Reads every pair of `ms`: same sizes, one channel masks with values 0..10, mosaic names. */
static void check_pairs(const tta_mask_set *ms, int first) {
    tta_image im = {0}, mask = {0};
    int nonzero = 0;
    for (int i = 0; i < tta_mask_set_count(ms); i++) {
        char want[32];
        snprintf(want, sizeof want, "%06d.png", first + i);
        CHECK(tta_mask_set_name(ms, i) && !strcmp(tta_mask_set_name(ms, i), want));
        CHECK(tta_mask_set_read(ms, i, &im, &mask) == TTA_OK);
        CHECK_EQ_INT(im.width, 64);
        CHECK_EQ_INT(im.height, 64);
        CHECK_EQ_INT(mask.width, im.width);
        CHECK_EQ_INT(mask.height, im.height);
        CHECK_EQ_INT(mask.channels, 1);
        const uint8_t *m = mask.data;
        int bad = 0;
        for (int k = 0; k < 64 * 64; k++) {
            bad += m[k] > 10;
            nonzero += m[k] != 0;
        }
        CHECK_EQ_INT(bad, 0);
    }
    CHECK(nonzero > 0);
    tta_image_destroy(&im);
    tta_image_destroy(&mask);
}

TEST(mosaic_set) {
    ensure_root();
    if (!mosaic_ok) return;
    const char *dir = path_of("mosaic");
    tta_mask_set *ms = NULL;
    CHECK(tta_mask_set_open(&ms, spec("masks:%s", dir, NULL)) == TTA_OK);
    CHECK_EQ_INT(tta_mask_set_count(ms), 6);
    check_pairs(ms, 0);
    CHECK(tta_mask_set_name(ms, 6) == NULL);
    CHECK(tta_mask_set_name(ms, -1) == NULL);
    tta_image a = {0}, b = {0};
    CHECK(tta_mask_set_read(ms, 6, &a, &b) == TTA_ERR_INVALID_ARG);
    tta_mask_set_free(ms);

    CHECK(tta_mask_set_open(&ms, spec("masks:%s[2:4]", dir, NULL)) == TTA_OK);
    CHECK_EQ_INT(tta_mask_set_count(ms), 2);
    check_pairs(ms, 2);
    tta_mask_set_free(ms);

    char images[600], masks[600];
    snprintf(images, sizeof images, "%s/images", dir);
    snprintf(masks, sizeof masks, "%s/masks", dir);
    CHECK(tta_mask_set_open(&ms, spec("masks:%s,%s", images, masks)) == TTA_OK);
    CHECK_EQ_INT(tta_mask_set_count(ms), 6);
    check_pairs(ms, 0);
    tta_mask_set_free(ms);
    CHECK(tta_mask_set_open(&ms, spec("masks:%s,%s[-2:]", images, masks)) == TTA_OK);
    CHECK_EQ_INT(tta_mask_set_count(ms), 2);
    check_pairs(ms, 4);
    tta_mask_set_free(ms);

    /* ranges: the shared messages of every data spec */
    CHECK(tta_mask_set_open(&ms, spec("masks:%s[3:3]", dir, NULL)) == TTA_ERR_INVALID_ARG);
    CHECK_STR_CONTAINS(tta_last_error(), "[3:3] is empty");
    CHECK(ms == NULL);
    CHECK(tta_mask_set_open(&ms, spec("masks:%s[0:99]", dir, NULL)) == TTA_ERR_INVALID_ARG);
    CHECK_STR_CONTAINS(tta_last_error(), "goes past the end");
    CHECK_STR_CONTAINS(tta_last_error(), "(6 images)");
    CHECK(tta_mask_set_open(&ms, spec("masks:%s[-9:]", dir, NULL)) == TTA_ERR_INVALID_ARG);
    CHECK_STR_CONTAINS(tta_last_error(), "starts before the first image");
    CHECK(tta_mask_set_open(&ms, spec("masks:%s[a:2]", dir, NULL)) == TTA_ERR_INVALID_ARG);
    CHECK_STR_CONTAINS(tta_last_error(), "start 'a' is not an integer");
    CHECK(tta_mask_set_open(&ms, spec("masks:%s[1:2:3]", dir, NULL)) == TTA_ERR_INVALID_ARG);
    CHECK(tta_mask_set_open(&ms, spec("masks:%s]", dir, NULL)) == TTA_ERR_INVALID_ARG);
    CHECK_STR_CONTAINS(tta_last_error(), "']' without '['");
}

/* ---- hand-made folders ---------------------------------------------------------------------- */

TEST(pairing_rules) {
    make_dir("pairs");
    make_dir("pairs/images");
    make_dir("pairs/masks");
    write_png("pairs/images/b.png", 8, 16, 3, 100); /* RGB image, gray mask: fine */
    write_png("pairs/masks/b.png", 8, 16, 1, 1);
    copy_file("tests/data/datasets/folder/bird/x.jpg", "pairs/images/a.jpg"); /* 16 x 8 JPEG */
    write_png("pairs/masks/a.png", 8, 16, 1, 2);                              /* its mask: a.png */
    write_png("pairs/images/C.PNG", 4, 4, 1, 9);                              /* upper case */
    write_png("pairs/masks/C.PNG", 4, 4, 1, 3);
    write_png("pairs/images/.hidden.png", 4, 4, 1, 0); /* no mask, but skipped */
    write_text("pairs/images/notes.txt", "not an image\n");
    make_dir("pairs/images/sub.png"); /* a folder named like an image: skipped */
    tta_mask_set *ms = NULL;
    CHECK(tta_mask_set_open(&ms, spec("masks:%s", path_of("pairs"), NULL)) == TTA_OK);
    CHECK_EQ_INT(tta_mask_set_count(ms), 3);
    /* byte order: upper case first */
    CHECK(!strcmp(tta_mask_set_name(ms, 0), "C.PNG"));
    CHECK(!strcmp(tta_mask_set_name(ms, 1), "a.jpg"));
    CHECK(!strcmp(tta_mask_set_name(ms, 2), "b.png"));
    tta_image im = {0}, mask = {0};
    CHECK(tta_mask_set_read(ms, 1, &im, &mask) == TTA_OK);
    CHECK_EQ_INT(im.width, 16);
    CHECK_EQ_INT(im.height, 8);
    CHECK_EQ_INT(((uint8_t *)mask.data)[0], 2);
    CHECK(tta_mask_set_read(ms, 2, &im, &mask) == TTA_OK);
    CHECK_EQ_INT(im.channels, 3);
    CHECK_EQ_INT(((uint8_t *)mask.data)[5], 1);
    CHECK(tta_mask_set_read(ms, 0, &im, &mask) == TTA_OK);
    CHECK_EQ_INT(((uint8_t *)mask.data)[15], 3);
    tta_image_destroy(&im);
    tta_image_destroy(&mask);
    tta_mask_set_free(ms);
}

TEST(missing_mask) {
    make_dir("missing");
    make_dir("missing/images");
    make_dir("missing/masks");
    for (int i = 0; i < 4; i++) {
        char rel[64];
        snprintf(rel, sizeof rel, "missing/images/%d.png", i);
        write_png(rel, 5, 5, 1, 10);
        snprintf(rel, sizeof rel, "missing/masks/%d.png", i);
        if (i != 2) write_png(rel, 5, 5, 1, 0);
    }
    tta_mask_set *ms = NULL;
    CHECK(tta_mask_set_open(&ms, spec("masks:%s", path_of("missing"), NULL)) == TTA_ERR_IO);
    CHECK_STR_CONTAINS(tta_last_error(), "missing/masks/2.png: no such mask");
    CHECK(ms == NULL);
    /* a range that leaves the image out does not need its mask */
    CHECK(tta_mask_set_open(&ms, spec("masks:%s[:2]", path_of("missing"), NULL)) == TTA_OK);
    CHECK_EQ_INT(tta_mask_set_count(ms), 2);
    tta_mask_set_free(ms);
    CHECK(tta_mask_set_open(&ms, spec("masks:%s[1:]", path_of("missing"), NULL)) == TTA_ERR_IO);
    /* a JPEG image whose mask is neither x.jpg nor x.png: both named */
    copy_file("tests/data/datasets/folder/bird/x.jpg", "missing/images/j.jpg");
    CHECK(tta_mask_set_open(&ms, spec("masks:%s[3:]", path_of("missing"), NULL)) == TTA_ERR_IO);
    CHECK_STR_CONTAINS(tta_last_error(), "masks/j.jpg");
    CHECK_STR_CONTAINS(tta_last_error(), "masks/j.png");
}

TEST(bad_masks) {
    make_dir("bad");
    make_dir("bad/images");
    make_dir("bad/masks");
    const char *names[] = {"0_size.png",  "1_rgb.png",      "2_text.png", "3_jpeg.png",
                           "4_alpha.png", "5_badimage.png", "6_empty.png"};
    for (int i = 0; i < 7; i++) {
        char rel[64];
        snprintf(rel, sizeof rel, "bad/images/%s", names[i]);
        if (i == 5)
            write_text(rel, "garbage, not a PNG");
        else
            write_png(rel, 8, 16, 1, 50);
    }
    write_png("bad/masks/0_size.png", 8, 15, 1, 1);
    write_png("bad/masks/1_rgb.png", 8, 16, 3, 1);
    write_text("bad/masks/2_text.png", "this is no PNG at all\n");
    copy_file("tests/data/datasets/folder/bird/x.jpg", "bad/masks/3_jpeg.png");
    write_png("bad/masks/4_alpha.png", 8, 16, 2, 1);
    write_png("bad/masks/5_badimage.png", 8, 16, 1, 1);
    write_text("bad/masks/6_empty.png", "");
    tta_mask_set *ms = NULL;
    CHECK(tta_mask_set_open(&ms, spec("masks:%s", path_of("bad"), NULL)) == TTA_OK);
    CHECK_EQ_INT(tta_mask_set_count(ms), 7);
    if (!ms) return;
    tta_image im = {0}, mask = {0};
    CHECK(tta_mask_set_read(ms, 0, &im, &mask) == TTA_ERR_SHAPE);
    CHECK_STR_CONTAINS(tta_last_error(), "masks/0_size.png: mask is 15x8");
    CHECK_STR_CONTAINS(tta_last_error(), "is 16x8");
    CHECK(tta_mask_set_read(ms, 1, &im, &mask) == TTA_ERR_SHAPE);
    CHECK_STR_CONTAINS(tta_last_error(), "masks/1_rgb.png: mask has 3 channels");
    CHECK(tta_mask_set_read(ms, 2, &im, &mask) == TTA_ERR_PARSE);
    CHECK_STR_CONTAINS(tta_last_error(), "masks/2_text.png: mask is not a PNG");
    CHECK(tta_mask_set_read(ms, 3, &im, &mask) == TTA_ERR_PARSE);
    CHECK_STR_CONTAINS(tta_last_error(), "masks/3_jpeg.png: mask is not a PNG");
    CHECK(tta_mask_set_read(ms, 4, &im, &mask) == TTA_ERR_SHAPE);
    CHECK_STR_CONTAINS(tta_last_error(), "masks/4_alpha.png: mask has 2 channels");
    CHECK(tta_mask_set_read(ms, 5, &im, &mask) == TTA_ERR_PARSE);
    CHECK_STR_CONTAINS(tta_last_error(), "images/5_badimage.png");
    CHECK(tta_mask_set_read(ms, 6, &im, &mask) == TTA_ERR_PARSE);
    CHECK_STR_CONTAINS(tta_last_error(), "masks/6_empty.png");
    /* a good read after the failures reuses the buffers */
    tta_mask_set_free(ms);
    CHECK(tta_mask_set_open(&ms, spec("masks:%s[5:6]", path_of("bad"), NULL)) == TTA_OK);
    CHECK(tta_mask_set_read(ms, 0, &im, &mask) == TTA_ERR_PARSE);
    tta_mask_set_free(ms);
    tta_image_destroy(&im);
    tta_image_destroy(&mask);
}

TEST(bad_specs) {
    tta_mask_set *ms = (tta_mask_set *)1;
    CHECK(tta_mask_set_open(&ms, spec("masks:%s", path_of("nowhere"), NULL)) == TTA_ERR_IO);
    CHECK_STR_CONTAINS(tta_last_error(), "nowhere: no such folder");
    CHECK(ms == NULL);
    make_dir("nomasks");
    make_dir("nomasks/images");
    CHECK(tta_mask_set_open(&ms, spec("masks:%s", path_of("nomasks"), NULL)) == TTA_ERR_IO);
    CHECK_STR_CONTAINS(tta_last_error(), "nomasks/masks: no such folder");
    CHECK(tta_mask_set_open(&ms, spec("masks:%s,%s", path_of("nomasks/images"), path_of("nowhere"))) ==
          TTA_ERR_IO);
    CHECK_STR_CONTAINS(tta_last_error(), "nowhere: no such folder (masks of");
    CHECK(tta_mask_set_open(&ms, spec("masks:%s,%s", path_of("nowhere"), path_of("nomasks/images"))) ==
          TTA_ERR_IO);
    CHECK_STR_CONTAINS(tta_last_error(), "(images of");
    make_dir("nomasks/masks");
    CHECK(tta_mask_set_open(&ms, spec("masks:%s", path_of("nomasks"), NULL)) == TTA_ERR_PARSE);
    CHECK_STR_CONTAINS(tta_last_error(), "no .png, .jpg or .jpeg files");
    CHECK(tta_mask_set_open(&ms, "masks:") == TTA_ERR_INVALID_ARG);
    CHECK_STR_CONTAINS(tta_last_error(), "masks needs DIR or IMAGES_DIR,MASKS_DIR");
    CHECK(tta_mask_set_open(&ms, "masks:a,") == TTA_ERR_INVALID_ARG);
    CHECK(tta_mask_set_open(&ms, "masks:a,b,c") == TTA_ERR_INVALID_ARG);
    CHECK(tta_mask_set_open(&ms, "folder:x") == TTA_ERR_INVALID_ARG);
    CHECK_STR_CONTAINS(tta_last_error(), "not an image/mask set");
    CHECK(tta_mask_set_open(&ms, NULL) == TTA_ERR_INVALID_ARG);
    CHECK(tta_mask_set_open(NULL, "masks:x") == TTA_ERR_INVALID_ARG);
    /* the range is checked before any folder is looked at */
    CHECK(tta_mask_set_open(&ms, spec("masks:%s[x:]", path_of("nowhere"), NULL)) == TTA_ERR_INVALID_ARG);
    CHECK_EQ_INT(tta_mask_set_count(NULL), 0);
    tta_mask_set_free(NULL);
}

__attribute__((destructor)) static void teardown(void) {
    if (root[0]) nftw(root, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}
