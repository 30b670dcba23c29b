/* test_dataset.c - data sets (dataset.h): every format on the fixtures of tests/data/datasets
 * (written by scripts/make_dataset_fixtures.py; their pixel values encode item, row, column and
 * channel, so any mix-up shows), the Fashion-MNIST split on the real files, data spec strings
 * with ranges, and the failure cases: every truncation of the IDX and CIFAR files, garbage,
 * swapped or mismatched files, bad lists and folders, bad specs, and failing allocations. Each
 * must give a clear error naming the file or the part of the spec, and never a crash or leak. */
#include <ftw.h>
#include <stdint.h>
#include <sys/stat.h>
#include <unistd.h>

#include "test.h"
#include "tta/dataset.h"
#include "tta/image.h"
#include "tta/tensor.h"

#define FIX "tests/data/datasets/"
#define IDX_IMAGES FIX "idx/images-idx3-ubyte"
#define IDX_LABELS FIX "idx/labels-idx1-ubyte"
#define CIFAR10_A FIX "cifar/cifar10_a.bin"
#define CIFAR10_B FIX "cifar/cifar10_b.bin"
#define CIFAR100 FIX "cifar/cifar100.bin"
#define FOLDER FIX "folder"
#define FASHION_DIR "/usr/share/datasets/fashion-mnist"

/* ---- helpers ------------------------------------------------------------------------------ */

static char tmp_root[256];

/* A fresh temporary folder for the test's files; removed by tmp_done(). */
static const char *tmp_dir(void) {
    snprintf(tmp_root, sizeof tmp_root, "/tmp/tta_test_dataset_XXXXXX");
    if (!mkdtemp(tmp_root)) tmp_root[0] = '\0';
    return tmp_root;
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw) {
    (void)st, (void)flag, (void)ftw;
    return remove(path);
}

static void tmp_done(void) {
    if (tmp_root[0]) nftw(tmp_root, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
    tmp_root[0] = '\0';
}

static char *tmp_path(const char *name) {
    static char buf[8][512];
    static int k;
    char *p = buf[k++ % 8];
    snprintf(p, 512, "%s/%s", tmp_root, name);
    return p;
}

static unsigned char *read_all(const char *path, size_t *size) {
    FILE *f = fopen(path, "rb");
    if (!f) {
        *size = 0;
        return NULL;
    }
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
    if (size) fwrite(data, 1, size, f);
    fclose(f);
}

static void write_text(const char *path, const char *text) { write_all(path, text, strlen(text)); }

static int idx_value(int i, int r, int c) { return 40 * i + 4 * r + c; }
static int cifar_value(int i, int r, int c, int ch) { return (67 * i + 5 * r + 3 * c + 101 * ch) % 256; }
static int folder_value(int k, int r, int c, int ch) { return 60 * k + 16 * r + 4 * c + ch; }

/* Number of pixels of img that differ from f(item, row, col, ch). */
static int mismatches(const tta_image *img, int item, int (*f)(int, int, int, int)) {
    const uint8_t *p = img->data;
    int bad = 0;
    for (int r = 0; r < img->height; r++)
        for (int c = 0; c < img->width; c++)
            for (int ch = 0; ch < img->channels; ch++)
                bad += p[((size_t)r * img->width + c) * img->channels + ch] != f(item, r, c, ch);
    return bad;
}

static int idx_value4(int i, int r, int c, int ch) { return ch == 0 ? idx_value(i, r, c) : -1; }

/* Opens a spec that must fail with `status`, and checks the message contains `needle`. */
#define CHECK_SPEC_FAILS(spec, status, needle)                                                               \
    do {                                                                                                     \
        tta_dataset *ds_ = (tta_dataset *)1;                                                                 \
        CHECK_EQ_INT(tta_dataset_open(&ds_, spec), status);                                                  \
        CHECK(ds_ == NULL);                                                                                  \
        CHECK_STR_CONTAINS(tta_last_error(), needle);                                                        \
    } while (0)

/* ---- IDX -------------------------------------------------------------------------------------- */

static void check_idx_set(tta_dataset *ds) {
    CHECK_EQ_INT(tta_dataset_count(ds), 5);
    int h, w, c;
    CHECK_EQ_INT(tta_dataset_image_shape(ds, &h, &w, &c), 1);
    CHECK_EQ_INT(h, 4);
    CHECK_EQ_INT(w, 3);
    CHECK_EQ_INT(c, 1);
    CHECK_EQ_INT(tta_dataset_num_classes(ds), 8); /* largest label 7 */
    CHECK(tta_dataset_class_name(ds, 0) == NULL);
    static const int want[5] = {3, 0, 7, 1, 4};
    const int *labels = tta_dataset_labels(ds);
    tta_image img = {0};
    for (int i = 0; i < 5; i++) {
        CHECK_EQ_INT(labels[i], want[i]);
        int label = -1;
        CHECK_EQ_INT(tta_dataset_get(ds, i, &img, &label), TTA_OK);
        CHECK_EQ_INT(label, want[i]);
        CHECK_EQ_INT(img.height, 4);
        CHECK_EQ_INT(img.width, 3);
        CHECK_EQ_INT(img.channels, 1);
        CHECK_EQ_INT(img.dtype, TTA_DTYPE_UINT8);
        CHECK_EQ_INT(img.capacity, 0); /* borrowed, not copied */
        CHECK_EQ_INT(mismatches(&img, i, idx_value4), 0);
        CHECK_EQ_INT(tta_dataset_source_index(ds, i), i);
        CHECK(tta_dataset_item_path(ds, i) == NULL);
    }
    tta_image_destroy(&img);
}

TEST(idx_plain) {
    tta_dataset *ds = NULL;
    CHECK_EQ_INT(tta_dataset_open_idx(&ds, IDX_IMAGES, IDX_LABELS), TTA_OK);
    if (!ds) return;
    check_idx_set(ds);
    CHECK_STR_CONTAINS(tta_dataset_name(ds), "images-idx3-ubyte");
    tta_dataset_free(ds);
}

TEST(idx_gzipped_and_mixed) {
    tta_dataset *ds = NULL;
    CHECK_EQ_INT(tta_dataset_open_idx(&ds, IDX_IMAGES ".gz", IDX_LABELS ".gz"), TTA_OK);
    if (ds) check_idx_set(ds);
    tta_dataset_free(ds);
    ds = NULL;
    CHECK_EQ_INT(tta_dataset_open_idx(&ds, IDX_IMAGES ".gz", IDX_LABELS), TTA_OK);
    if (ds) check_idx_set(ds);
    tta_dataset_free(ds);
}

TEST(idx_get_errors) {
    tta_dataset *ds = NULL;
    CHECK_EQ_INT(tta_dataset_open_idx(&ds, IDX_IMAGES, IDX_LABELS), TTA_OK);
    if (!ds) return;
    tta_image img = {0};
    int label = -7;
    CHECK_EQ_INT(tta_dataset_get(ds, 5, &img, &label), TTA_ERR_INVALID_ARG);
    CHECK_STR_CONTAINS(tta_last_error(), "item 5 is out of range (5 images)");
    CHECK_EQ_INT(tta_dataset_get(ds, -1, &img, &label), TTA_ERR_INVALID_ARG);
    CHECK_EQ_INT(label, -7);
    CHECK(img.data == NULL);
    /* only the label, only the image */
    CHECK_EQ_INT(tta_dataset_get(ds, 2, NULL, &label), TTA_OK);
    CHECK_EQ_INT(label, 7);
    CHECK_EQ_INT(tta_dataset_get(ds, 2, &img, NULL), TTA_OK);
    CHECK_EQ_INT(mismatches(&img, 2, idx_value4), 0);
    CHECK_EQ_INT(tta_dataset_source_index(ds, 5), -1);
    tta_image_destroy(&img);
    tta_dataset_free(ds);
    CHECK_EQ_INT(tta_dataset_get(NULL, 0, &img, &label), TTA_ERR_INVALID_ARG);
    tta_dataset_free(NULL);
}

/* Every prefix of a valid file is an error that names the file; so is one extra byte. */
static void check_truncations(const char *src, const char *images_name, int images_role, int step) {
    size_t size;
    unsigned char *data = read_all(src, &size);
    CHECK(data != NULL && size > 0);
    if (!data) return;
    const char *path = tmp_path(images_name);
    int bad = 0;
    for (size_t k = 0; k < size; k += (k < 64 ? 1 : (size_t)step)) {
        write_all(path, data, k);
        tta_dataset *ds = (tta_dataset *)1;
        tta_status st = images_role ? tta_dataset_open_idx(&ds, path, IDX_LABELS)
                                    : tta_dataset_open_idx(&ds, IDX_IMAGES, path);
        if (st != TTA_ERR_PARSE || ds != NULL || !strstr(tta_last_error(), path)) {
            if (bad++ < 3)
                fprintf(stderr, "  truncated to %zu of %zu bytes: status %d, \"%s\"\n", k, size, (int)st,
                        tta_last_error());
        }
    }
    CHECK_EQ_INT(bad, 0);
    free(data);
}

TEST(idx_every_truncation) {
    tmp_dir();
    check_truncations(IDX_IMAGES, "images", 1, 1);
    check_truncations(IDX_IMAGES ".gz", "images.gz", 1, 1);
    check_truncations(IDX_LABELS, "labels", 0, 1);
    check_truncations(IDX_LABELS ".gz", "labels.gz", 0, 1);
    /* the messages say what was wrong */
    size_t size;
    unsigned char *data = read_all(IDX_IMAGES, &size);
    tta_dataset *ds = NULL;
    write_all(tmp_path("images"), data, size - 1);
    CHECK_EQ_INT(tta_dataset_open_idx(&ds, tmp_path("images"), IDX_LABELS), TTA_ERR_PARSE);
    CHECK_STR_CONTAINS(tta_last_error(),
                       "truncated: the header promises 5 images of 4x3 (60 bytes of data), the "
                       "file has 59");
    write_all(tmp_path("images"), data, 10);
    CHECK_EQ_INT(tta_dataset_open_idx(&ds, tmp_path("images"), IDX_LABELS), TTA_ERR_PARSE);
    CHECK_STR_CONTAINS(tta_last_error(), "truncated IDX header (10 of 16 bytes)");
    write_all(tmp_path("images"), data, 0);
    CHECK_EQ_INT(tta_dataset_open_idx(&ds, tmp_path("images"), IDX_LABELS), TTA_ERR_PARSE);
    CHECK_STR_CONTAINS(tta_last_error(), "empty file, not an IDX images file");
    free(data);
    data = read_all(IDX_IMAGES ".gz", &size);
    write_all(tmp_path("images.gz"), data, size - 5);
    CHECK_EQ_INT(tta_dataset_open_idx(&ds, tmp_path("images.gz"), IDX_LABELS), TTA_ERR_PARSE);
    CHECK_STR_CONTAINS(tta_last_error(), "images.gz: truncated");
    free(data);
    tmp_done();
}

TEST(idx_bad_files) {
    tmp_dir();
    tta_dataset *ds = NULL;
    /* one byte too many */
    size_t size;
    unsigned char *data = read_all(IDX_IMAGES, &size);
    unsigned char *more = malloc(size + 3);
    memcpy(more, data, size);
    memset(more + size, 0, 3);
    write_all(tmp_path("long"), more, size + 3);
    CHECK_EQ_INT(tta_dataset_open_idx(&ds, tmp_path("long"), IDX_LABELS), TTA_ERR_PARSE);
    CHECK_STR_CONTAINS(tta_last_error(),
                       "long: 3 bytes after the data the header promises (5 images of 4x3)");
    /* images and labels swapped */
    CHECK_EQ_INT(tta_dataset_open_idx(&ds, IDX_LABELS, IDX_IMAGES), TTA_ERR_PARSE);
    CHECK_STR_CONTAINS(tta_last_error(), IDX_LABELS);
    CHECK_STR_CONTAINS(tta_last_error(), "swapped");
    /* a float IDX file */
    memcpy(more, data, size);
    more[2] = 0x0D;
    write_all(tmp_path("float"), more, size);
    CHECK_EQ_INT(tta_dataset_open_idx(&ds, tmp_path("float"), IDX_LABELS), TTA_ERR_PARSE);
    CHECK_STR_CONTAINS(tta_last_error(), "IDX data type 0x0d (float32) is not supported");
    /* garbage: a PNG is not an IDX file */
    CHECK_EQ_INT(tta_dataset_open_idx(&ds, FOLDER "/ant/2.png", IDX_LABELS), TTA_ERR_PARSE);
    CHECK_STR_CONTAINS(tta_last_error(), "ant/2.png: not an IDX file (magic number 0x89504e47");
    /* a header that promises 4 billion images of 65535x65535 in a 16-byte file: no huge allocation */
    memcpy(more, data, 16);
    memset(more + 4, 0xFF, 4);
    more[8] = more[12] = 0;
    more[9] = more[13] = 0;
    more[10] = more[14] = 0xFF;
    more[11] = more[15] = 0xFF;
    write_all(tmp_path("huge"), more, 16);
    CHECK_EQ_INT(tta_dataset_open_idx(&ds, tmp_path("huge"), IDX_LABELS), TTA_ERR_PARSE);
    CHECK_STR_CONTAINS(tta_last_error(), "huge");
    /* a header with zero images, and one with a 0-row image */
    memcpy(more, data, size);
    memset(more + 4, 0, 4);
    write_all(tmp_path("none"), more, 16);
    CHECK_EQ_INT(tta_dataset_open_idx(&ds, tmp_path("none"), IDX_LABELS), TTA_ERR_PARSE);
    CHECK_STR_CONTAINS(tta_last_error(), "none: the header says the file holds no images");
    memcpy(more, data, size);
    memset(more + 8, 0, 4);
    write_all(tmp_path("flat"), more, size);
    CHECK_EQ_INT(tta_dataset_open_idx(&ds, tmp_path("flat"), IDX_LABELS), TTA_ERR_PARSE);
    CHECK_STR_CONTAINS(tta_last_error(), "implausible image size 0x3");
    free(data);
    /* counts that do not match */
    unsigned char labels4[12] = {0, 0, 8, 1, 0, 0, 0, 4, 3, 0, 7, 1};
    write_all(tmp_path("labels4"), labels4, sizeof labels4);
    CHECK_EQ_INT(tta_dataset_open_idx(&ds, IDX_IMAGES, tmp_path("labels4")), TTA_ERR_PARSE);
    CHECK_STR_CONTAINS(tta_last_error(), "holds 5 images but");
    CHECK_STR_CONTAINS(tta_last_error(), "labels4 holds 4 labels");
    /* garbage gzip: the gzip magic followed by noise */
    unsigned char noise[64] = {0x1f, 0x8b, 8, 0};
    for (int i = 4; i < 64; i++)
        noise[i] = (unsigned char)(i * 37 + 11);
    write_all(tmp_path("noise.gz"), noise, sizeof noise);
    CHECK_EQ_INT(tta_dataset_open_idx(&ds, tmp_path("noise.gz"), IDX_LABELS), TTA_ERR_PARSE);
    CHECK_STR_CONTAINS(tta_last_error(), "noise.gz");
    /* missing files and folders */
    CHECK_EQ_INT(tta_dataset_open_idx(&ds, tmp_path("missing"), IDX_LABELS), TTA_ERR_IO);
    CHECK_STR_CONTAINS(tta_last_error(), "missing: cannot open: No such file");
    CHECK_EQ_INT(tta_dataset_open_idx(&ds, IDX_IMAGES, tmp_root), TTA_ERR_IO);
    CHECK_STR_CONTAINS(tta_last_error(), "is a folder, not a file");
    CHECK_EQ_INT(tta_dataset_open_idx(&ds, NULL, IDX_LABELS), TTA_ERR_INVALID_ARG);
    CHECK(ds == NULL);
    free(more);
    tmp_done();
}

/* ---- CIFAR ------------------------------------------------------------------------------------ */

TEST(cifar10_two_files) {
    const char *files[2] = {CIFAR10_A, CIFAR10_B};
    tta_dataset *ds = NULL;
    CHECK_EQ_INT(tta_dataset_open_cifar10(&ds, files, 2), TTA_OK);
    if (!ds) return;
    CHECK_EQ_INT(tta_dataset_count(ds), 3);
    int h, w, c;
    CHECK_EQ_INT(tta_dataset_image_shape(ds, &h, &w, &c), 1);
    CHECK(h == 32 && w == 32 && c == 3);
    CHECK_EQ_INT(tta_dataset_num_classes(ds), 10);
    static const int want[3] = {6, 9, 2};
    static const char *const names[3] = {"frog", "truck", "bird"};
    tta_image img = {0};
    for (int i = 0; i < 3; i++) {
        int label = -1;
        CHECK_EQ_INT(tta_dataset_get(ds, i, &img, &label), TTA_OK);
        CHECK_EQ_INT(label, want[i]);
        CHECK(strcmp(tta_dataset_class_name(ds, label), names[i]) == 0);
        CHECK(img.height == 32 && img.width == 32 && img.channels == 3 && img.capacity == 0);
        CHECK_EQ_INT(mismatches(&img, i, cifar_value), 0);
    }
    CHECK(strcmp(tta_dataset_class_name(ds, 0), "airplane") == 0);
    CHECK(tta_dataset_class_name(ds, 10) == NULL);
    CHECK(tta_dataset_class_name(ds, -1) == NULL);
    tta_image_destroy(&img);
    tta_dataset_free(ds);
}

TEST(cifar100_fine_labels) {
    const char *files[1] = {CIFAR100};
    tta_dataset *ds = NULL;
    CHECK_EQ_INT(tta_dataset_open_cifar100(&ds, files, 1), TTA_OK);
    if (!ds) return;
    CHECK_EQ_INT(tta_dataset_count(ds), 2);
    CHECK_EQ_INT(tta_dataset_num_classes(ds), 100);
    CHECK_EQ_INT(tta_dataset_labels(ds)[0], 42); /* the fine label, not the coarse 11 */
    CHECK_EQ_INT(tta_dataset_labels(ds)[1], 99);
    CHECK(strcmp(tta_dataset_class_name(ds, 42), "leopard") == 0);
    CHECK(strcmp(tta_dataset_class_name(ds, 99), "worm") == 0);
    /* the fine names are 100 distinct names in alphabetical order, as CIFAR-100 numbers them */
    for (int k = 1; k < 100; k++)
        CHECK(strcmp(tta_dataset_class_name(ds, k - 1), tta_dataset_class_name(ds, k)) < 0);
    tta_image img = {0};
    for (int i = 0; i < 2; i++) {
        CHECK_EQ_INT(tta_dataset_get(ds, i, &img, NULL), TTA_OK);
        CHECK_EQ_INT(mismatches(&img, i, cifar_value), 0);
    }
    tta_image_destroy(&img);
    tta_dataset_free(ds);
}

TEST(cifar_bad_files) {
    tmp_dir();
    tta_dataset *ds = NULL;
    const char *c100[1] = {CIFAR100}, *c10[1] = {CIFAR10_A}, *c10b[1] = {CIFAR10_B};
    /* the wrong kind of file: the size tells */
    CHECK_EQ_INT(tta_dataset_open_cifar10(&ds, c100, 1), TTA_ERR_PARSE);
    CHECK_STR_CONTAINS(tta_last_error(),
                       "cifar100.bin: 6148 bytes is not a whole number of 3073-byte CIFAR-10 "
                       "records (a CIFAR-100 file?");
    CHECK_EQ_INT(tta_dataset_open_cifar100(&ds, c10, 1), TTA_ERR_PARSE);
    CHECK_STR_CONTAINS(tta_last_error(), "(a CIFAR-10 file?");
    CHECK_EQ_INT(tta_dataset_open_cifar100(&ds, c10b, 1), TTA_ERR_PARSE);
    CHECK(ds == NULL);
    /* every truncation of a batch (the first 64 lengths, then a sample) */
    size_t size;
    unsigned char *data = read_all(CIFAR10_A, &size);
    const char *path = tmp_path("batch.bin");
    const char *one[1] = {path};
    int bad = 0;
    for (size_t k = 0; k < size; k += k < 64 ? 1 : 61) {
        if (k == 3073) continue; /* exactly one whole record is a valid batch */
        write_all(path, data, k);
        tta_status st = tta_dataset_open_cifar10(&ds, one, 1);
        if (st != TTA_ERR_PARSE || ds || !strstr(tta_last_error(), path)) {
            if (bad++ < 3)
                fprintf(stderr, "  truncated to %zu: status %d \"%s\"\n", k, (int)st, tta_last_error());
        }
    }
    CHECK_EQ_INT(bad, 0);
    write_all(path, data, 3073);
    CHECK_EQ_INT(tta_dataset_open_cifar10(&ds, one, 1), TTA_OK);
    CHECK_EQ_INT(tta_dataset_count(ds), 1);
    tta_dataset_free(ds);
    ds = NULL;
    /* a bad label */
    data[3073] = 10;
    write_all(path, data, size);
    CHECK_EQ_INT(tta_dataset_open_cifar10(&ds, one, 1), TTA_ERR_PARSE);
    CHECK_STR_CONTAINS(tta_last_error(), "batch.bin: record 1 has label 10; CIFAR-10 labels are 0..9");
    data[0] = 20;
    data[1] = 5;
    write_all(path, data, 3074);
    CHECK_EQ_INT(tta_dataset_open_cifar100(&ds, one, 1), TTA_ERR_PARSE);
    CHECK_STR_CONTAINS(tta_last_error(), "record 0 has labels 20 (coarse) and 5 (fine)");
    /* garbage the size of a record */
    for (size_t i = 0; i < 3073; i++)
        data[i] = (unsigned char)(i * 131 + 7);
    data[0] = 0xC3;
    write_all(path, data, 3073);
    CHECK_EQ_INT(tta_dataset_open_cifar10(&ds, one, 1), TTA_ERR_PARSE);
    write_all(path, data, 0);
    CHECK_EQ_INT(tta_dataset_open_cifar10(&ds, one, 1), TTA_ERR_PARSE);
    CHECK_STR_CONTAINS(tta_last_error(), "empty file, not a CIFAR-10 batch");
    free(data);
    /* a good file then a missing one: the error names the missing one, nothing leaks */
    const char *two[2] = {CIFAR10_A, tmp_path("nope.bin")};
    CHECK_EQ_INT(tta_dataset_open_cifar10(&ds, two, 2), TTA_ERR_IO);
    CHECK_STR_CONTAINS(tta_last_error(), "nope.bin: cannot open");
    CHECK_EQ_INT(tta_dataset_open_cifar10(&ds, two, 0), TTA_ERR_INVALID_ARG);
    CHECK(ds == NULL);
    tmp_done();
}

/* ---- folders ---------------------------------------------------------------------------------- */

TEST(folder_classes_and_order) {
    tta_dataset *ds = NULL;
    CHECK_EQ_INT(tta_dataset_open_folder(&ds, FOLDER), TTA_OK);
    if (!ds) return;
    CHECK_EQ_INT(tta_dataset_count(ds), 4);
    CHECK_EQ_INT(tta_dataset_num_classes(ds), 4); /* the empty "cat" counts; ".cache" does not */
    static const char *const classes[4] = {"ant", "bird", "cat", "dog"};
    for (int k = 0; k < 4; k++)
        CHECK(strcmp(tta_dataset_class_name(ds, k), classes[k]) == 0);
    static const int labels[4] = {0, 0, 1, 3};
    static const char *const files[4] = {"/ant/10.png", "/ant/2.png", "/bird/x.jpg", "/dog/Y.PNG"};
    int h = -1;
    CHECK_EQ_INT(tta_dataset_image_shape(ds, &h, NULL, NULL), 0);
    CHECK_EQ_INT(h, 0);
    for (int i = 0; i < 4; i++) {
        CHECK_EQ_INT(tta_dataset_labels(ds)[i], labels[i]);
        const char *p = tta_dataset_item_path(ds, i);
        CHECK(p && strlen(p) > strlen(files[i]) && strcmp(p + strlen(p) - strlen(files[i]), files[i]) == 0);
        CHECK_STR_CONTAINS(p, FOLDER);
    }
    CHECK(tta_dataset_item_path(ds, 4) == NULL);
    tta_image img = {0};
    int label = -1;
    CHECK_EQ_INT(tta_dataset_get(ds, 0, &img, &label), TTA_OK);
    CHECK(img.height == 3 && img.width == 4 && img.channels == 3 && img.capacity > 0);
    CHECK_EQ_INT(mismatches(&img, 0, folder_value), 0);
    CHECK_EQ_INT(label, 0);
    CHECK_EQ_INT(tta_dataset_get(ds, 1, &img, &label), TTA_OK);
    CHECK(img.height == 3 && img.width == 4 && img.channels == 1);
    CHECK_EQ_INT(mismatches(&img, 1, folder_value), 0);
    CHECK_EQ_INT(tta_dataset_get(ds, 3, &img, &label), TTA_OK);
    CHECK(img.height == 3 && img.width == 4 && img.channels == 4);
    CHECK_EQ_INT(mismatches(&img, 3, folder_value), 0);
    CHECK_EQ_INT(label, 3);
    /* the JPEG: two flat 8x8 blocks, exact because only DC coefficients with quantiser 1 */
    CHECK_EQ_INT(tta_dataset_get(ds, 2, &img, &label), TTA_OK);
    CHECK(img.height == 8 && img.width == 16 && img.channels == 1);
    int bad = 0;
    for (int r = 0; r < 8; r++)
        for (int c = 0; c < 16; c++)
            bad += ((uint8_t *)img.data)[r * 16 + c] != (c < 8 ? 60 : 200);
    CHECK_EQ_INT(bad, 0);
    CHECK_EQ_INT(label, 1);
    tta_image_destroy(&img);
    tta_dataset_free(ds);
}

/* One image variable used with borrowed (IDX) and owned (folder) items in turn: no leak, no
 * double free (the ASan build checks). */
TEST(get_mixes_borrowed_and_owned) {
    tta_dataset *a = NULL, *b = NULL;
    CHECK_EQ_INT(tta_dataset_open_idx(&a, IDX_IMAGES, IDX_LABELS), TTA_OK);
    CHECK_EQ_INT(tta_dataset_open_folder(&b, FOLDER), TTA_OK);
    if (!a || !b) return;
    tta_image img = {0};
    for (int round = 0; round < 3; round++) {
        CHECK_EQ_INT(tta_dataset_get(b, round, &img, NULL), TTA_OK);
        CHECK(img.capacity > 0);
        CHECK_EQ_INT(tta_dataset_get(a, round, &img, NULL), TTA_OK);
        CHECK_EQ_INT(img.capacity, 0);
        CHECK_EQ_INT(mismatches(&img, round, idx_value4), 0);
    }
    CHECK_EQ_INT(tta_dataset_get(b, 0, &img, NULL), TTA_OK);
    tta_image_destroy(&img);
    tta_dataset_free(a);
    tta_dataset_free(b);
}

TEST(folder_errors) {
    tmp_dir();
    tta_dataset *ds = NULL;
    CHECK_EQ_INT(tta_dataset_open_folder(&ds, tmp_path("absent")), TTA_ERR_IO);
    CHECK_STR_CONTAINS(tta_last_error(), "absent: no such folder");
    CHECK_EQ_INT(tta_dataset_open_folder(&ds, IDX_IMAGES), TTA_ERR_IO);
    CHECK_STR_CONTAINS(tta_last_error(), "is a file, not a folder");
    /* no class subfolders, only loose images */
    write_text(tmp_path("loose.png"), "x");
    CHECK_EQ_INT(tta_dataset_open_folder(&ds, tmp_root), TTA_ERR_PARSE);
    CHECK_STR_CONTAINS(tta_last_error(), "no class subfolders");
    /* class subfolders without images */
    mkdir(tmp_path("a"), 0700);
    mkdir(tmp_path("b"), 0700);
    write_text(tmp_path("b/readme.txt"), "no images here");
    CHECK_EQ_INT(tta_dataset_open_folder(&ds, tmp_root), TTA_ERR_PARSE);
    CHECK_STR_CONTAINS(tta_last_error(), "no .png, .jpg or .jpeg files in its 2 class subfolders");
    /* a broken image opens (names only) and fails on get, naming the file */
    write_text(tmp_path("b/broken.jpg"), "\xff\xd8\xff garbage");
    CHECK_EQ_INT(tta_dataset_open_folder(&ds, tmp_root), TTA_OK);
    if (ds) {
        tta_image img = {0};
        int label = -1;
        CHECK_EQ_INT(tta_dataset_count(ds), 1);
        CHECK_EQ_INT(tta_dataset_get(ds, 0, &img, &label), TTA_ERR_PARSE);
        CHECK_STR_CONTAINS(tta_last_error(), "b/broken.jpg");
        tta_image_destroy(&img);
        tta_dataset_free(ds);
        ds = NULL;
    }
    CHECK_EQ_INT(tta_dataset_open_folder(&ds, ""), TTA_ERR_INVALID_ARG);
    CHECK(ds == NULL);
    tmp_done();
}

/* ---- list files ------------------------------------------------------------------------------- */

TEST(list_integer_labels) {
    tta_dataset *ds = NULL;
    CHECK_EQ_INT(tta_dataset_open_list(&ds, FIX "lists/ints.txt"), TTA_OK);
    if (!ds) return;
    CHECK_EQ_INT(tta_dataset_count(ds), 3);
    CHECK_EQ_INT(tta_dataset_num_classes(ds), 6);
    CHECK(tta_dataset_class_name(ds, 5) == NULL);
    static const int labels[3] = {5, 1, 0};
    for (int i = 0; i < 3; i++)
        CHECK_EQ_INT(tta_dataset_labels(ds)[i], labels[i]);
    /* paths are relative to the list's folder, not the working directory */
    CHECK(strcmp(tta_dataset_item_path(ds, 0), FIX "lists/../folder/dog/Y.PNG") == 0);
    tta_image img = {0};
    CHECK_EQ_INT(tta_dataset_get(ds, 0, &img, NULL), TTA_OK);
    CHECK_EQ_INT(img.channels, 4);
    CHECK_EQ_INT(mismatches(&img, 3, folder_value), 0);
    CHECK_EQ_INT(tta_dataset_get(ds, 1, &img, NULL), TTA_OK);
    CHECK_EQ_INT(mismatches(&img, 1, folder_value), 0);
    CHECK_EQ_INT(tta_dataset_get(ds, 2, &img, NULL), TTA_OK); /* the line ending in \r\n */
    CHECK_EQ_INT(img.width, 16);
    tta_image_destroy(&img);
    tta_dataset_free(ds);
}

TEST(list_class_names) {
    tta_dataset *ds = NULL;
    CHECK_EQ_INT(tta_dataset_open_list(&ds, FIX "lists/names.txt"), TTA_OK);
    if (!ds) return;
    CHECK_EQ_INT(tta_dataset_count(ds), 3);
    CHECK_EQ_INT(tta_dataset_num_classes(ds), 2);
    CHECK(strcmp(tta_dataset_class_name(ds, 0), "aardvark") == 0);
    CHECK(strcmp(tta_dataset_class_name(ds, 1), "zebra") == 0);
    static const int labels[3] = {1, 0, 1};
    for (int i = 0; i < 3; i++)
        CHECK_EQ_INT(tta_dataset_labels(ds)[i], labels[i]);
    tta_image img = {0};
    CHECK_EQ_INT(tta_dataset_get(ds, 0, &img, NULL), TTA_OK);
    CHECK_EQ_INT(mismatches(&img, 0, folder_value), 0);
    tta_image_destroy(&img);
    tta_dataset_free(ds);
}

static void check_list_fails(const char *text, tta_status status, const char *needle) {
    const char *path = tmp_path("list.txt");
    write_text(path, text);
    tta_dataset *ds = (tta_dataset *)1;
    CHECK_EQ_INT(tta_dataset_open_list(&ds, path), status);
    CHECK(ds == NULL);
    CHECK_STR_CONTAINS(tta_last_error(), needle);
    CHECK_STR_CONTAINS(tta_last_error(), "list.txt");
}

TEST(list_errors) {
    tmp_dir();
    char img_path[600];
    snprintf(img_path, sizeof img_path, "%s/a.png", tmp_root);
    write_text(img_path, "not decoded at open");
    check_list_fails("a.png,1\nb.png,2\n", TTA_ERR_IO, "line 2: image 'b.png' not found");
    check_list_fails("a.png,1\na.png,cat\n", TTA_ERR_PARSE,
                     "line 2: labels mix numbers (first on line 1) and class "
                     "names (first on line 2)");
    check_list_fails("# only a comment\n\n", TTA_ERR_PARSE, "no \"path,label\" lines");
    check_list_fails("", TTA_ERR_PARSE, "no \"path,label\" lines");
    check_list_fails("a.png 3\n", TTA_ERR_PARSE, "line 1: expected \"path,label\", got \"a.png 3\"");
    check_list_fails("a.png,-3\n", TTA_ERR_PARSE, "line 1: label -3 is negative");
    check_list_fails("a.png,\n", TTA_ERR_PARSE, "line 1: empty label");
    check_list_fails(",4\n", TTA_ERR_PARSE, "line 1: empty path");
    /* binary garbage */
    const char *path = tmp_path("list.txt");
    unsigned char junk[40];
    for (int i = 0; i < 40; i++)
        junk[i] = (unsigned char)(i * 53);
    write_all(path, junk, sizeof junk);
    tta_dataset *ds = NULL;
    CHECK(tta_dataset_open_list(&ds, path) != TTA_OK);
    CHECK_STR_CONTAINS(tta_last_error(), "list.txt");
    CHECK(ds == NULL);
    /* an absolute path is kept as it is; a decode error names the file */
    char text[700];
    snprintf(text, sizeof text, "%s,0\n", img_path);
    write_text(path, text);
    CHECK_EQ_INT(tta_dataset_open_list(&ds, path), TTA_OK);
    if (ds) {
        CHECK(strcmp(tta_dataset_item_path(ds, 0), img_path) == 0);
        tta_image img = {0};
        CHECK_EQ_INT(tta_dataset_get(ds, 0, &img, NULL), TTA_ERR_PARSE);
        CHECK_STR_CONTAINS(tta_last_error(), img_path);
        tta_image_destroy(&img);
        tta_dataset_free(ds);
        ds = NULL;
    }
    CHECK_EQ_INT(tta_dataset_open_list(&ds, tmp_path("absent.txt")), TTA_ERR_IO);
    CHECK_STR_CONTAINS(tta_last_error(), "absent.txt: cannot open");
    CHECK_EQ_INT(tta_dataset_open_list(&ds, tmp_root), TTA_ERR_IO);
    CHECK_STR_CONTAINS(tta_last_error(), "is a folder");
    tmp_done();
}

/* ---- memory sets and slicing -------------------------------------------------------------------- */

TEST(memory_and_slice) {
    uint8_t pixels[4 * 2 * 2 * 3];
    for (size_t i = 0; i < sizeof pixels; i++)
        pixels[i] = (uint8_t)i;
    int labels[4] = {1, 0, 2, 1};
    const char *names[3] = {"x", "y", "z"};
    tta_dataset *ds = NULL;
    CHECK_EQ_INT(tta_dataset_new_memory(&ds, "mem", 4, 2, 2, 3, pixels, labels, 3, names), TTA_OK);
    if (!ds) return;
    pixels[0] = 99; /* copied: later changes do not show */
    labels[0] = 2;
    CHECK_EQ_INT(tta_dataset_count(ds), 4);
    CHECK(strcmp(tta_dataset_name(ds), "mem") == 0);
    CHECK(strcmp(tta_dataset_class_name(ds, 2), "z") == 0);
    tta_image img = {0};
    int label = -1;
    CHECK_EQ_INT(tta_dataset_get(ds, 0, &img, &label), TTA_OK);
    CHECK_EQ_INT(((uint8_t *)img.data)[0], 0);
    CHECK_EQ_INT(label, 1);
    CHECK_EQ_INT(tta_dataset_slice(ds, 1, 3), TTA_OK);
    CHECK_EQ_INT(tta_dataset_count(ds), 2);
    CHECK_EQ_INT(tta_dataset_num_classes(ds), 3);
    CHECK_EQ_INT(tta_dataset_source_index(ds, 0), 1);
    CHECK_EQ_INT(tta_dataset_get(ds, 1, &img, &label), TTA_OK);
    CHECK_EQ_INT(((uint8_t *)img.data)[0], 2 * 12);
    CHECK_EQ_INT(((uint8_t *)img.data)[11], 2 * 12 + 11);
    CHECK_EQ_INT(label, 2);
    CHECK_EQ_INT(tta_dataset_slice(ds, 1, 1), TTA_ERR_INVALID_ARG);
    CHECK_EQ_INT(tta_dataset_slice(ds, 0, 3), TTA_ERR_INVALID_ARG);
    CHECK_STR_CONTAINS(tta_last_error(), "mem: slice [0:3] is not inside its 2 images");
    CHECK_EQ_INT(tta_dataset_slice(ds, 1, 2), TTA_OK);
    CHECK_EQ_INT(tta_dataset_source_index(ds, 0), 2);
    tta_image_destroy(&img);
    tta_dataset_free(ds);
    ds = NULL;
    /* labels must fit num_classes; num_classes <= 0 counts them */
    CHECK_EQ_INT(tta_dataset_new_memory(&ds, NULL, 4, 2, 2, 3, pixels, labels, 2, NULL), TTA_ERR_INVALID_ARG);
    CHECK_STR_CONTAINS(tta_last_error(), "label 2 of item 0 is outside [0, 2)");
    CHECK_EQ_INT(tta_dataset_new_memory(&ds, NULL, 4, 2, 2, 3, pixels, labels, 0, NULL), TTA_OK);
    CHECK_EQ_INT(tta_dataset_num_classes(ds), 3);
    tta_dataset_free(ds);
    ds = NULL;
    CHECK_EQ_INT(tta_dataset_new_memory(&ds, NULL, 0, 2, 2, 3, pixels, labels, 0, NULL), TTA_ERR_INVALID_ARG);
    CHECK(ds == NULL);
}

TEST(folder_slice_frees_paths) {
    tta_dataset *ds = NULL;
    CHECK_EQ_INT(tta_dataset_open(&ds, "folder:" FOLDER "[1:3]"), TTA_OK);
    if (!ds) return;
    CHECK_EQ_INT(tta_dataset_count(ds), 2);
    CHECK_EQ_INT(tta_dataset_num_classes(ds), 4);
    CHECK_STR_CONTAINS(tta_dataset_item_path(ds, 0), "ant/2.png");
    CHECK_STR_CONTAINS(tta_dataset_item_path(ds, 1), "bird/x.jpg");
    CHECK_EQ_INT(tta_dataset_labels(ds)[1], 1);
    CHECK_EQ_INT(tta_dataset_source_index(ds, 1), 2);
    CHECK(strcmp(tta_dataset_name(ds), "folder:" FOLDER "[1:3]") == 0);
    tta_dataset_free(ds);
}

/* ---- specs ---------------------------------------------------------------------------------------- */

TEST(spec_every_format) {
    tta_dataset *ds = NULL;
    CHECK_EQ_INT(tta_dataset_open(&ds, "idx:" IDX_IMAGES ".gz," IDX_LABELS), TTA_OK);
    if (ds) check_idx_set(ds);
    tta_dataset_free(ds);
    ds = NULL;
    CHECK_EQ_INT(tta_dataset_open(&ds, "cifar10:" CIFAR10_A "," CIFAR10_B), TTA_OK);
    CHECK_EQ_INT(tta_dataset_count(ds), 3);
    CHECK(strcmp(tta_dataset_name(ds), "cifar10:" CIFAR10_A "," CIFAR10_B) == 0);
    tta_dataset_free(ds);
    ds = NULL;
    CHECK_EQ_INT(tta_dataset_open(&ds, "cifar100:" CIFAR100), TTA_OK);
    CHECK_EQ_INT(tta_dataset_count(ds), 2);
    CHECK_EQ_INT(tta_dataset_num_classes(ds), 100);
    tta_dataset_free(ds);
    ds = NULL;
    CHECK_EQ_INT(tta_dataset_open(&ds, "folder:" FOLDER), TTA_OK);
    CHECK_EQ_INT(tta_dataset_count(ds), 4);
    tta_dataset_free(ds);
    ds = NULL;
    CHECK_EQ_INT(tta_dataset_open(&ds, "list:" FIX "lists/names.txt"), TTA_OK);
    CHECK_EQ_INT(tta_dataset_count(ds), 3);
    tta_dataset_free(ds);
    CHECK_STR_CONTAINS(tta_dataset_spec_help(), "fashion-mnist:val");
}

/* Opens `spec` on the IDX fixture and checks which items it selected. */
static void check_idx_range(const char *suffix, int first, int count) {
    char spec[256];
    snprintf(spec, sizeof spec, "idx:%s,%s%s", IDX_IMAGES, IDX_LABELS, suffix);
    tta_dataset *ds = NULL;
    CHECK_EQ_INT(tta_dataset_open(&ds, spec), TTA_OK);
    if (!ds) {
        fprintf(stderr, "  %s: %s\n", spec, tta_last_error());
        return;
    }
    CHECK_EQ_INT(tta_dataset_count(ds), count);
    CHECK_EQ_INT(tta_dataset_source_index(ds, 0), first);
    CHECK_EQ_INT(tta_dataset_num_classes(ds), 8); /* unchanged by the range */
    static const int labels[5] = {3, 0, 7, 1, 4};
    tta_image img = {0};
    for (int i = 0; i < count; i++) {
        int label = -1;
        CHECK_EQ_INT(tta_dataset_get(ds, i, &img, &label), TTA_OK);
        CHECK_EQ_INT(label, labels[first + i]);
        CHECK_EQ_INT(mismatches(&img, first + i, idx_value4), 0);
    }
    tta_image_destroy(&img);
    CHECK(strcmp(tta_dataset_name(ds), spec) == 0);
    tta_dataset_free(ds);
}

TEST(spec_ranges) {
    check_idx_range("[1:3]", 1, 2);
    check_idx_range("[:2]", 0, 2);
    check_idx_range("[3:]", 3, 2);
    check_idx_range("[:]", 0, 5);
    check_idx_range("[0:5]", 0, 5);
    check_idx_range("[-2:]", 3, 2);
    check_idx_range("[-4:-1]", 1, 3);
    check_idx_range("[+1:4]", 1, 3);
    check_idx_range("[4:5]", 4, 1);
    /* a range across the two CIFAR-10 files */
    tta_dataset *ds = NULL;
    CHECK_EQ_INT(tta_dataset_open(&ds, "cifar10:" CIFAR10_A "," CIFAR10_B "[1:3]"), TTA_OK);
    if (ds) {
        CHECK_EQ_INT(tta_dataset_count(ds), 2);
        CHECK_EQ_INT(tta_dataset_labels(ds)[0], 9);
        CHECK_EQ_INT(tta_dataset_labels(ds)[1], 2);
        tta_image img = {0};
        CHECK_EQ_INT(tta_dataset_get(ds, 1, &img, NULL), TTA_OK);
        CHECK_EQ_INT(mismatches(&img, 2, cifar_value), 0);
        tta_image_destroy(&img);
        tta_dataset_free(ds);
    }
}

TEST(spec_bad_ranges) {
    const char *base = "idx:" IDX_IMAGES "," IDX_LABELS;
    char spec[256];
#define RANGE_FAILS(suffix, needle)                                                                          \
    snprintf(spec, sizeof spec, "%s%s", base, suffix);                                                       \
    CHECK_SPEC_FAILS(spec, TTA_ERR_INVALID_ARG, needle)
    RANGE_FAILS("[5:2]", "range [5:2] is empty");
    RANGE_FAILS("[2:2]", "range [2:2] is empty");
    RANGE_FAILS("[-1:-2]", "range [-1:-2] is empty");
    RANGE_FAILS("[0:6]", "range [0:6] goes past the end of idx:" IDX_IMAGES "," IDX_LABELS " (5 images)");
    RANGE_FAILS("[6:]", "range [6:] goes past the end");
    RANGE_FAILS("[-6:]", "range [-6:] starts before the first image");
    RANGE_FAILS("[x:2]", "range '[x:2]': start 'x' is not an integer");
    RANGE_FAILS("[1:2.5]", "range '[1:2.5]': end '2.5' is not an integer");
    RANGE_FAILS("[3]", "range '[3]' is not of the form [a:b]");
    RANGE_FAILS("[]", "range '[]' is not of the form [a:b]");
    RANGE_FAILS("[1:4:2]", "steps are not supported");
    RANGE_FAILS("[99999999999999999999999:1]", "is not an integer");
    RANGE_FAILS("]", "']' without '['");
#undef RANGE_FAILS
}

TEST(spec_bad_specs) {
    CHECK_SPEC_FAILS(
        "foo:bar", TTA_ERR_INVALID_ARG,
        "unknown data set 'foo'; known: fashion-mnist, mnist, idx, cifar10, cifar100, folder, list");
    CHECK_SPEC_FAILS("foo:bar[x:1]", TTA_ERR_INVALID_ARG, "unknown data set 'foo'"); /* the kind first */
    CHECK_SPEC_FAILS("", TTA_ERR_INVALID_ARG, "empty data spec");
    CHECK_SPEC_FAILS("fashion-mnist", TTA_ERR_INVALID_ARG, "data set 'fashion-mnist' needs a split");
    CHECK_SPEC_FAILS("fashion-mnist:", TTA_ERR_INVALID_ARG, "needs a split (test, val or train)");
    CHECK_SPEC_FAILS("fashion-mnist:validation", TTA_ERR_INVALID_ARG,
                     "unknown split 'validation' of fashion-mnist; known: train, val, test");
    CHECK_SPEC_FAILS("Fashion-MNIST:test", TTA_ERR_INVALID_ARG, "unknown data set 'Fashion-MNIST'");
    CHECK_SPEC_FAILS("idx:" IDX_IMAGES, TTA_ERR_INVALID_ARG, "idx needs two files, IMAGES,LABELS; got 1");
    CHECK_SPEC_FAILS("idx:", TTA_ERR_INVALID_ARG, "data set 'idx' needs IMAGES,LABELS after the colon");
    CHECK_SPEC_FAILS("idx", TTA_ERR_INVALID_ARG, "data set 'idx' needs its files");
    CHECK_SPEC_FAILS("cifar10:" CIFAR10_A ",," CIFAR10_B, TTA_ERR_INVALID_ARG, "cifar10: empty file name");
    CHECK_SPEC_FAILS(FOLDER, TTA_ERR_INVALID_ARG, "has no kind: write KIND:ARGS");
    CHECK_SPEC_FAILS("folder:/no/such/dir", TTA_ERR_IO, "/no/such/dir: no such folder");
    CHECK_SPEC_FAILS("list:/no/such/list.txt", TTA_ERR_IO, "/no/such/list.txt: cannot open");
    CHECK_SPEC_FAILS("cifar100:" CIFAR10_A, TTA_ERR_PARSE, "a CIFAR-10 file?");
    tta_dataset *ds = NULL;
    CHECK_EQ_INT(tta_dataset_open(NULL, "fashion-mnist:test"), TTA_ERR_INVALID_ARG);
    CHECK_EQ_INT(tta_dataset_open(&ds, NULL), TTA_ERR_INVALID_ARG);
}

/* ---- Fashion-MNIST, the real files ------------------------------------------------------------- */

TEST(fashion_mnist_splits) {
    /* expected values from the files themselves, with python3:
     *   d = gzip.open('/usr/share/datasets/fashion-mnist/t10k-labels-idx1-ubyte.gz').read()
     *   d[8]                      -> 9 (first test label: Ankle boot)
     *   sum(first test image)     -> 33456 (gzip.open(t10k-images...).read()[16:16+784])
     *   train labels[55000:55005] -> 0, 8, 0, 6, 5 (the first validation labels) */
    if (access(FASHION_DIR "/t10k-images-idx3-ubyte.gz", R_OK) != 0 && !getenv("TTA_FASHION_DIR")) {
        fprintf(stderr, "  " FASHION_DIR " is missing: install dataset-fashion-mnist (make setup)\n");
        CHECK(0);
        return;
    }
    tta_dataset *ds = NULL;
    CHECK_EQ_INT(tta_dataset_open(&ds, "fashion-mnist:test"), TTA_OK);
    if (!ds) {
        fprintf(stderr, "  %s\n", tta_last_error());
        return;
    }
    CHECK_EQ_INT(tta_dataset_count(ds), 10000);
    CHECK_EQ_INT(tta_dataset_num_classes(ds), 10);
    int h, w, c;
    CHECK_EQ_INT(tta_dataset_image_shape(ds, &h, &w, &c), 1);
    CHECK(h == 28 && w == 28 && c == 1);
    static const char *const names[10] = {"T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                                          "Sandal",      "Shirt",   "Sneaker",  "Bag",   "Ankle boot"};
    for (int k = 0; k < 10; k++)
        CHECK(strcmp(tta_dataset_class_name(ds, k), names[k]) == 0);
    tta_image img = {0};
    int label = -1;
    CHECK_EQ_INT(tta_dataset_get(ds, 0, &img, &label), TTA_OK);
    CHECK_EQ_INT(label, 9);
    long sum = 0;
    for (int i = 0; i < 784; i++)
        sum += ((uint8_t *)img.data)[i];
    CHECK_EQ_INT(sum, 33456);
    tta_dataset_free(ds);
    ds = NULL;

    CHECK_EQ_INT(tta_dataset_open(&ds, "fashion-mnist:val"), TTA_OK);
    if (ds) {
        CHECK_EQ_INT(tta_dataset_count(ds), 5000);
        CHECK_EQ_INT(tta_dataset_source_index(ds, 0), 55000);
        static const int first[5] = {0, 8, 0, 6, 5};
        for (int i = 0; i < 5; i++)
            CHECK_EQ_INT(tta_dataset_labels(ds)[i], first[i]);
        CHECK_EQ_INT(tta_dataset_num_classes(ds), 10);
        tta_dataset_free(ds);
        ds = NULL;
    }
    CHECK_EQ_INT(tta_dataset_open(&ds, "fashion-mnist:train"), TTA_OK);
    if (ds) {
        CHECK_EQ_INT(tta_dataset_count(ds), 55000);
        CHECK_EQ_INT(tta_dataset_source_index(ds, 54999), 54999);
        CHECK_EQ_INT(tta_dataset_labels(ds)[0], 9);
        tta_dataset_free(ds);
        ds = NULL;
    }
    /* ranges apply after the split */
    CHECK_EQ_INT(tta_dataset_open(&ds, "fashion-mnist:val[-10:]"), TTA_OK);
    if (ds) {
        CHECK_EQ_INT(tta_dataset_count(ds), 10);
        CHECK_EQ_INT(tta_dataset_source_index(ds, 0), 59990);
        tta_dataset_free(ds);
        ds = NULL;
    }
    CHECK_EQ_INT(tta_dataset_open(&ds, "fashion-mnist:test[0:100]"), TTA_OK);
    if (ds) {
        CHECK_EQ_INT(tta_dataset_count(ds), 100);
        CHECK_EQ_INT(tta_dataset_labels(ds)[0], 9);
        CHECK_EQ_INT(tta_dataset_get(ds, 0, &img, NULL), TTA_OK);
        tta_dataset_free(ds);
        ds = NULL;
    }
    tta_image_destroy(&img);
    CHECK_SPEC_FAILS("fashion-mnist:val[0:5001]", TTA_ERR_INVALID_ARG,
                     "range [0:5001] goes past the end of fashion-mnist:val (5000 images)");
}

TEST(named_sets_missing) {
    tmp_dir();
    const char *old = getenv("TTA_FASHION_DIR");
    char *saved = old ? strdup(old) : NULL;
    setenv("TTA_FASHION_DIR", tmp_root, 1);
    CHECK_SPEC_FAILS("fashion-mnist:test", TTA_ERR_IO,
                     "t10k-images-idx3-ubyte[.gz] not found (install the Debian "
                     "package dataset-fashion-mnist, or set TTA_FASHION_DIR)");
    /* a folder whose train file is not 60,000 images: the split refuses it */
    size_t size;
    unsigned char *data = read_all(IDX_IMAGES, &size);
    write_all(tmp_path("train-images-idx3-ubyte"), data, size);
    free(data);
    data = read_all(IDX_LABELS ".gz", &size);
    write_all(tmp_path("train-labels-idx1-ubyte.gz"), data, size);
    free(data);
    CHECK_SPEC_FAILS("fashion-mnist:val", TTA_ERR_PARSE, "holds 5 images; the train/val split needs 60000");
    if (saved)
        setenv("TTA_FASHION_DIR", saved, 1);
    else
        unsetenv("TTA_FASHION_DIR");
    free(saved);
    old = getenv("TTA_MNIST_DIR");
    saved = old ? strdup(old) : NULL;
    setenv("TTA_MNIST_DIR", tmp_path("nothing"), 1);
    CHECK_SPEC_FAILS("mnist:test", TTA_ERR_IO, "set TTA_MNIST_DIR");
    if (saved)
        setenv("TTA_MNIST_DIR", saved, 1);
    else
        unsetenv("TTA_MNIST_DIR");
    free(saved);
    tmp_done();
}

/* ---- failing allocations ------------------------------------------------------------------------- */

static long alloc_budget;
static void *failing_realloc(void *user, void *ptr, size_t size) {
    (void)user;
    if (alloc_budget-- <= 0) return NULL;
    return realloc(ptr, size);
}
static void plain_free(void *user, void *ptr) {
    (void)user;
    free(ptr);
}

/* Opens `spec` with the n-th allocation failing, for every n until it succeeds: each failure
 * must be a clean error (ASan checks for leaks and bad frees). */
static void check_alloc_failures(const char *spec) {
    tta_allocator a = {failing_realloc, plain_free, NULL};
    int ok = 0, clean = 1;
    long n = 0;
    for (; n < 5000 && !ok; n++) {
        alloc_budget = n;
        tta_set_allocator(&a);
        tta_dataset *ds = NULL;
        tta_status st = tta_dataset_open(&ds, spec);
        tta_image img = {0};
        if (st == TTA_OK) st = tta_dataset_get(ds, tta_dataset_count(ds) - 1, &img, NULL);
        tta_set_allocator(NULL);
        if (st == TTA_OK)
            ok = 1;
        else if (ds && st != TTA_ERR_NOMEM)
            clean = 0;
        tta_image_destroy(&img);
        tta_dataset_free(ds);
    }
    CHECK(ok);
    CHECK(clean);
    CHECK(n > 5); /* several allocations were made to fail */
    if (getenv("TTA_TEST_VERBOSE")) fprintf(stderr, "  %s: succeeded with %ld allocations\n", spec, n - 1);
}

TEST(allocation_failures) {
    check_alloc_failures("idx:" IDX_IMAGES ".gz," IDX_LABELS "[1:4]");
    check_alloc_failures("cifar10:" CIFAR10_A "," CIFAR10_B "[1:]");
    check_alloc_failures("folder:" FOLDER "[1:]");
    check_alloc_failures("list:" FIX "lists/names.txt");
    check_alloc_failures("list:" FIX "lists/ints.txt[:-1]");
}

/* A folder whose name ends in ']' is read as a range unless an explicit range follows. */
TEST(spec_path_with_brackets) {
    tmp_dir();
    mkdir(tmp_path("shots[2]"), 0700);
    mkdir(tmp_path("shots[2]/k"), 0700);
    size_t size;
    unsigned char *png = read_all(FOLDER "/ant/2.png", &size);
    write_all(tmp_path("shots[2]/k/a.png"), png, size);
    free(png);
    char spec[600];
    snprintf(spec, sizeof spec, "folder:%s[:]", tmp_path("shots[2]"));
    tta_dataset *ds = NULL;
    CHECK_EQ_INT(tta_dataset_open(&ds, spec), TTA_OK);
    CHECK_EQ_INT(tta_dataset_count(ds), 1);
    tta_dataset_free(ds);
    snprintf(spec, sizeof spec, "folder:%s", tmp_path("shots[2]"));
    CHECK_SPEC_FAILS(spec, TTA_ERR_INVALID_ARG, "range '[2]' is not of the form [a:b]");
    tmp_done();
}
