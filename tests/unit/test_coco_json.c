/* test_coco_json.c - COCO annotation and results files (detect.h): exact parsed values and
 * grouping on the hand-made files of tests/data/detect/json, every malformed, truncated or
 * inconsistent file with its message (FILE:LINE:COLUMN for syntax, array[index].field for the
 * rest), "coco:" specs with ranges, slicing, image decoding, results round trips with exact
 * float values, writes that fail without leaving a file, failing allocations, a large
 * synthetic file (timed) and a real mosaic set written by the library. */
#include <dirent.h>
#include <stdint.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "test.h"
#include "tta/detect.h"
#include "tta/mosaic.h"
#include "tta/tensor.h"

#define FIX "tests/data/detect/json/"

/* ---- helpers ------------------------------------------------------------------------------ */

static void write_text(const char *path, const char *text) {
    FILE *f = fopen(path, "w");
    CHECK(f != NULL);
    if (!f) return;
    fputs(text, f);
    fclose(f);
}

static char *read_text(const char *path) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *s = malloc((size_t)n + 1);
    size_t got = fread(s, 1, (size_t)n, f);
    s[got] = '\0';
    fclose(f);
    return s;
}

static int rm_rf(const char *path) {
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", path);
    return system(cmd);
}

/* Number of entries in `dir` whose names start with `prefix`. */
static int count_entries(const char *dir, const char *prefix) {
    DIR *d = opendir(dir);
    if (!d) return -1;
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)))
        if (strncmp(e->d_name, prefix, strlen(prefix)) == 0) n++;
    closedir(d);
    return n;
}

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* Loads FIX name, expects status `want` and a message containing `text`, and frees it all. */
#define LOAD_FAILS(name, want, text)                                                                         \
    do {                                                                                                     \
        tta_coco c_ = {0};                                                                                   \
        CHECK_EQ_INT(tta_coco_load(&c_, FIX name, NULL), want);                                              \
        CHECK_STR_CONTAINS(tta_last_error(), text);                                                          \
        tta_coco_destroy(&c_);                                                                               \
    } while (0)

#define READ_FAILS(name, want, text)                                                                         \
    do {                                                                                                     \
        tta_coco_det *d_ = (tta_coco_det *)1;                                                                \
        int n_ = -1;                                                                                         \
        CHECK_EQ_INT(tta_coco_results_read(FIX name, &d_, &n_), want);                                       \
        CHECK_STR_CONTAINS(tta_last_error(), text);                                                          \
        CHECK(d_ == NULL);                                                                                   \
        CHECK_EQ_INT(n_, 0);                                                                                 \
    } while (0)

/* A coco:DIR set of `n` images (ids 100 + i, 6x5 gray PNGs, image i holding i annotations of
 * category 2, listed in reverse image order). Returns the folder (static buffer). */
static const char *make_set(int n) {
    static char dir[64];
    snprintf(dir, sizeof dir, "/tmp/tta_coco_XXXXXX");
    if (!mkdtemp(dir)) return NULL;
    char path[256], entry[256];
    snprintf(path, sizeof path, "%s/images", dir);
    mkdir(path, 0755);
    tta_image img = {0};
    tta_image_init(&img, 5, 6, 1, TTA_DTYPE_UINT8);
    size_t cap = 4096;
    char *json = malloc(cap);
    strcpy(json, "{\"images\": [");
    for (int i = 0; i < n; i++) {
        ((uint8_t *)img.data)[0] = (uint8_t)i;
        snprintf(path, sizeof path, "%s/images/%d.png", dir, i);
        CHECK_EQ_INT(tta_image_write_png(&img, path), TTA_OK);
        snprintf(entry, sizeof entry,
                 "%s{\"id\": %d, \"file_name\": \"%d.png\", \"width\": 6, \"height\": 5}", i ? ", " : "",
                 100 + i, i);
        strcat(json, entry);
    }
    strcat(json, "], \"categories\": [{\"id\": 2, \"name\": \"two\"}], \"annotations\": [");
    int id = 1;
    for (int i = n - 1; i >= 0; i--)
        for (int k = 0; k < i; k++) {
            snprintf(entry, sizeof entry,
                     "%s{\"id\": %d, \"image_id\": %d, \"category_id\": 2, \"bbox\": [%d, %d, 1, 1]}",
                     id > 1 ? ", " : "", id, 100 + i, i, k);
            strcat(json, entry);
            id++;
        }
    strcat(json, "]}\n");
    snprintf(path, sizeof path, "%s/annotations.json", dir);
    write_text(path, json);
    free(json);
    tta_image_destroy(&img);
    return dir;
}

/* ---- annotations: the valid file ------------------------------------------------------------ */

TEST(load_valid_values) {
    tta_coco c = {0};
    CHECK_EQ_INT(tta_coco_load(&c, FIX "valid.json", NULL), TTA_OK);
    CHECK_STR_CONTAINS(c.name, "valid.json");
    CHECK(strcmp(c.image_dir, "tests/data/detect/json") == 0);
    CHECK_EQ_INT(c.n_images, 3);
    CHECK_EQ_INT(c.n_categories, 2);
    CHECK_EQ_INT(c.n_anns, 4);
    if (c.n_images != 3 || c.n_anns != 4 || c.n_categories != 2) {
        tta_coco_destroy(&c);
        return;
    }
    /* images in file order; width/height 0 when absent; a real id 7.0 read as 7 */
    CHECK_EQ_INT(c.images[0].id, 10);
    CHECK(strcmp(c.images[0].file_name, "a.png") == 0);
    CHECK_EQ_INT(c.images[0].width, 4);
    CHECK_EQ_INT(c.images[0].height, 3);
    CHECK_EQ_INT(c.images[1].id, 5);
    CHECK_EQ_INT(c.images[1].width, 0);
    CHECK_EQ_INT(c.images[1].height, 0);
    CHECK_EQ_INT(c.images[2].id, 7);
    CHECK(strcmp(c.images[2].file_name, "sub/c.png") == 0);
    CHECK_EQ_INT(c.categories[0].id, 3);
    CHECK(strcmp(c.categories[0].name, "cat") == 0);
    CHECK_EQ_INT(c.categories[1].id, 1);
    CHECK(strcmp(c.categories[1].name, "dog") == 0);
    /* grouped by image in image order, file order within an image */
    CHECK_EQ_INT(c.ann_first[0], 0);
    CHECK_EQ_INT(c.ann_first[1], 2);
    CHECK_EQ_INT(c.ann_first[2], 2);
    CHECK_EQ_INT(c.ann_first[3], 4);
    const tta_coco_ann *a = c.anns;
    CHECK_EQ_INT(a[0].id, 2);
    CHECK_EQ_INT(a[0].image_id, 10);
    CHECK_EQ_INT(a[0].category_id, 3);
    CHECK(a[0].bbox[0] == 0.5 && a[0].bbox[1] == 0.25 && a[0].bbox[2] == 2 && a[0].bbox[3] == 1.5);
    CHECK(a[0].area == 2.5); /* the file's area, not w * h = 3 */
    CHECK_EQ_INT(a[0].iscrowd, 1);
    CHECK_EQ_INT(a[1].id, 4);
    CHECK(a[1].bbox[0] == -1 && a[1].bbox[1] == 1e-3 && a[1].bbox[2] == 100 && a[1].bbox[3] == 1);
    CHECK(a[1].area == 100); /* w * h */
    CHECK_EQ_INT(a[1].iscrowd, 0);
    CHECK_EQ_INT(a[2].id, 1);
    CHECK_EQ_INT(a[2].image_id, 7);
    CHECK(a[2].bbox[0] == 1 && a[2].bbox[1] == 2 && a[2].bbox[2] == 3 && a[2].bbox[3] == 4);
    CHECK(a[2].area == 12);
    CHECK_EQ_INT(a[3].id, 9);
    CHECK(a[3].area == 0);
    /* every annotation sits in its image's group */
    for (int i = 0; i < c.n_images; i++)
        for (int k = c.ann_first[i]; k < c.ann_first[i + 1]; k++)
            CHECK_EQ_INT(c.anns[k].image_id, c.images[i].id);
    /* lookups */
    CHECK_EQ_INT(tta_coco_image_index(&c, 10), 0);
    CHECK_EQ_INT(tta_coco_image_index(&c, 5), 1);
    CHECK_EQ_INT(tta_coco_image_index(&c, 7), 2);
    CHECK_EQ_INT(tta_coco_image_index(&c, 6), -1);
    CHECK_EQ_INT(tta_coco_image_index(&c, -10), -1);
    CHECK_EQ_INT(tta_coco_image_index(&c, 11), -1);
    CHECK_EQ_INT(tta_coco_category_index(&c, 3), 0);
    CHECK_EQ_INT(tta_coco_category_index(&c, 1), 1);
    CHECK_EQ_INT(tta_coco_category_index(&c, 2), -1);
    CHECK_EQ_INT(tta_coco_category_index(NULL, 1), -1);
    tta_coco_destroy(&c);
    CHECK(c.images == NULL && c.name == NULL && c.index == NULL && c.n_images == 0);
    tta_coco_destroy(&c); /* twice is fine */
    tta_coco_destroy(NULL);
}

TEST(load_image_dir_given) {
    tta_coco c = {0};
    CHECK_EQ_INT(tta_coco_load(&c, FIX "valid.json", "/elsewhere/imgs"), TTA_OK);
    CHECK(c.image_dir && strcmp(c.image_dir, "/elsewhere/imgs") == 0);
    tta_coco_destroy(&c);
}

TEST(load_empty_arrays) {
    tta_coco c = {0};
    CHECK_EQ_INT(tta_coco_load(&c, FIX "empty.json", NULL), TTA_OK);
    CHECK_EQ_INT(c.n_images, 0);
    CHECK_EQ_INT(c.n_categories, 0);
    CHECK_EQ_INT(c.n_anns, 0);
    CHECK(c.ann_first != NULL && c.ann_first[0] == 0);
    CHECK_EQ_INT(tta_coco_image_index(&c, 0), -1);
    CHECK_EQ_INT(tta_coco_category_index(&c, 0), -1);
    CHECK_EQ_INT(tta_coco_slice(&c, 0, 0), TTA_OK);
    CHECK_EQ_INT(tta_coco_slice(&c, 0, 1), TTA_ERR_INVALID_ARG);
    tta_coco_destroy(&c);
}

/* Far more images than annotations (the grouping's per-image cursors must not be sized by the
 * annotations), the one annotation on the last image. */
TEST(load_many_images_few_annotations) {
    char dir[] = "/tmp/tta_coco_few_XXXXXX";
    CHECK(mkdtemp(dir) != NULL);
    char path[128];
    snprintf(path, sizeof path, "%s/a.json", dir);
    FILE *f = fopen(path, "w");
    CHECK(f != NULL);
    if (!f) return;
    fprintf(f, "{\"images\": [");
    for (int i = 0; i < 300; i++)
        fprintf(f, "%s{\"id\": %d, \"file_name\": \"%d.png\"}", i ? ", " : "", 299 - i, i);
    fprintf(
        f,
        "], \"categories\": [{\"id\": 1, \"name\": \"x\"}], \"annotations\": [{\"id\": 1, \"image_id\": 0, "
        "\"category_id\": 1, \"bbox\": [1, 2, 3, 4]}]}");
    fclose(f);
    tta_coco c = {0};
    CHECK_EQ_INT(tta_coco_load(&c, path, NULL), TTA_OK);
    CHECK_EQ_INT(c.n_images, 300);
    CHECK_EQ_INT(c.n_anns, 1);
    if (c.n_images == 300) {
        for (int i = 0; i < 300; i++)
            CHECK_EQ_INT(c.ann_first[i], 0);
        CHECK_EQ_INT(c.ann_first[300], 1);
        CHECK_EQ_INT(tta_coco_image_index(&c, 0), 299);
        CHECK_EQ_INT(tta_coco_image_index(&c, 299), 0);
    }
    CHECK_EQ_INT(tta_coco_slice(&c, 299, 300), TTA_OK);
    CHECK_EQ_INT(c.n_anns, 1);
    CHECK_EQ_INT(c.ann_first[1], 1);
    tta_coco_destroy(&c);
    rm_rf(dir);
}

/* A struct built by hand has no lookup table: the lookups still work. */
TEST(lookup_hand_made) {
    tta_coco_image images[3] = {{.id = 30}, {.id = 10}, {.id = 20}};
    tta_coco_category cats[2] = {{.id = 5}, {.id = 1}};
    tta_coco c = {.n_images = 3, .images = images, .n_categories = 2, .categories = cats};
    CHECK_EQ_INT(tta_coco_image_index(&c, 20), 2);
    CHECK_EQ_INT(tta_coco_image_index(&c, 40), -1);
    CHECK_EQ_INT(tta_coco_category_index(&c, 1), 1);
    CHECK_EQ_INT(tta_coco_category_index(&c, 2), -1);
}

/* ---- annotations: malformed files --------------------------------------------------------------- */

TEST(load_syntax_errors) {
    /* a trailing comma on line 3: jansson stops at the '}' in column 36 */
    LOAD_FAILS("syntax.json", TTA_ERR_PARSE, FIX "syntax.json:3:36: ");
    tta_coco c = {0};
    CHECK_EQ_INT(tta_coco_load(&c, FIX "syntax.json", NULL), TTA_ERR_PARSE);
    CHECK_STR_CONTAINS(tta_last_error(), "expected near '}'");
    tta_coco_destroy(&c);
    /* cut in the middle of a string on line 4 */
    LOAD_FAILS("truncated.json", TTA_ERR_PARSE, FIX "truncated.json:4:");
    LOAD_FAILS("truncated.json", TTA_ERR_PARSE, "premature end of input");
    /* jansson refuses numbers beyond double's range: a syntax error, not a NaN. Its column is
     * that of the bad token's last character (1e999 spans columns 76..80). */
    LOAD_FAILS("huge_number.json", TTA_ERR_PARSE,
               FIX "huge_number.json:2:80: real number overflow near '1e999'");
    LOAD_FAILS("dup_key.json", TTA_ERR_PARSE, FIX "dup_key.json:1:26: duplicate object key near '\"id\"'");
    LOAD_FAILS("empty_file.json", TTA_ERR_PARSE, FIX "empty_file.json:1:0: ");
}

TEST(load_missing_and_mistyped) {
    LOAD_FAILS("missing_bbox.json", TTA_ERR_PARSE,
               FIX "missing_bbox.json: annotations[2].bbox: missing (expected an array of 4 numbers)");
    LOAD_FAILS("bbox_three.json", TTA_ERR_PARSE,
               FIX "bbox_three.json: annotations[3].bbox: expected an array of 4 numbers");
    LOAD_FAILS("bbox_string.json", TTA_ERR_PARSE,
               "bbox_string.json: annotations[0].bbox: expected an array of 4 numbers");
    LOAD_FAILS("id_string.json", TTA_ERR_PARSE, "id_string.json: images[1].id: expected an integer");
    LOAD_FAILS("id_fraction.json", TTA_ERR_PARSE, "id_fraction.json: images[0].id: expected an integer");
    LOAD_FAILS("file_name_number.json", TTA_ERR_PARSE,
               "file_name_number.json: images[0].file_name: expected a string");
    LOAD_FAILS("missing_file_name.json", TTA_ERR_PARSE,
               "missing_file_name.json: images[1].file_name: missing (expected a string)");
    LOAD_FAILS("width_string.json", TTA_ERR_PARSE, "width_string.json: images[0].width: expected an integer");
    LOAD_FAILS("category_no_name.json", TTA_ERR_PARSE,
               "category_no_name.json: categories[1].name: missing (expected a string)");
    LOAD_FAILS("image_not_object.json", TTA_ERR_PARSE,
               "image_not_object.json: images[1]: expected an object");
    LOAD_FAILS("iscrowd_bad.json", TTA_ERR_PARSE,
               "iscrowd_bad.json: annotations[0].iscrowd: expected 0 or 1");
    LOAD_FAILS("area_string.json", TTA_ERR_PARSE, "area_string.json: annotations[0].area: expected a number");
    LOAD_FAILS("missing_images.json", TTA_ERR_PARSE,
               "missing_images.json: images: missing (expected an array)");
    LOAD_FAILS("images_not_array.json", TTA_ERR_PARSE, "images_not_array.json: images: expected an array");
    LOAD_FAILS("top_array.json", TTA_ERR_PARSE, "top_array.json: expected a JSON object");
    LOAD_FAILS("results_valid.json", TTA_ERR_PARSE, "expected a JSON object");
}

TEST(load_inconsistent) {
    LOAD_FAILS("unknown_image.json", TTA_ERR_INVALID_ARG,
               FIX "unknown_image.json: annotations[2]: image_id 99 is not among the images");
    LOAD_FAILS("unknown_category.json", TTA_ERR_INVALID_ARG,
               FIX "unknown_category.json: annotations[1]: category_id 5 is not among the categories");
    LOAD_FAILS("dup_image.json", TTA_ERR_INVALID_ARG,
               FIX "dup_image.json: images[2]: duplicate id 1 (also images[0])");
    LOAD_FAILS("dup_category.json", TTA_ERR_INVALID_ARG,
               FIX "dup_category.json: categories[1]: duplicate id 4 (also categories[0])");
    LOAD_FAILS("dup_annotation.json", TTA_ERR_INVALID_ARG,
               FIX "dup_annotation.json: annotations[2]: duplicate id 2 (also annotations[1])");
    LOAD_FAILS("negative_width.json", TTA_ERR_INVALID_ARG,
               FIX "negative_width.json: annotations[1].bbox: [0, 0, -2, 1] has a negative");
    LOAD_FAILS("negative_height.json", TTA_ERR_INVALID_ARG,
               "negative_height.json: images[0].height: -1 is not a size");
}

TEST(load_io_errors) {
    LOAD_FAILS("no_such_file.json", TTA_ERR_IO, FIX "no_such_file.json: cannot open: No such file");
    tta_coco c = {0};
    CHECK_EQ_INT(tta_coco_load(&c, "tests/data/detect", NULL), TTA_ERR_IO);
    CHECK_STR_CONTAINS(tta_last_error(), "tests/data/detect: is a folder");
    tta_coco_destroy(&c);
    CHECK_EQ_INT(tta_coco_load(NULL, FIX "valid.json", NULL), TTA_ERR_INVALID_ARG);
}

/* ---- specs, ranges, slicing, images -------------------------------------------------------------- */

TEST(open_spec_and_ranges) {
    const char *dir = make_set(4); /* images 100..103 with 0, 1, 2, 3 annotations */
    CHECK(dir != NULL);
    if (!dir) return;
    char spec[300];
    tta_coco c = {0};
    snprintf(spec, sizeof spec, "coco:%s", dir);
    CHECK_EQ_INT(tta_coco_open(&c, spec), TTA_OK);
    CHECK(c.name && strcmp(c.name, spec) == 0);
    CHECK_EQ_INT(c.n_images, 4);
    CHECK_EQ_INT(c.n_anns, 6);
    CHECK_EQ_INT(c.ann_first[0], 0);
    CHECK_EQ_INT(c.ann_first[1], 0);
    CHECK_EQ_INT(c.ann_first[2], 1);
    CHECK_EQ_INT(c.ann_first[3], 3);
    CHECK_EQ_INT(c.ann_first[4], 6);
    /* within image 103 the file order is kept: bbox y = 0, 1, 2 */
    for (int k = 0; k < 3; k++)
        CHECK(c.anns[3 + k].bbox[1] == k && c.anns[3 + k].image_id == 103);
    tta_image img = {0};
    CHECK_EQ_INT(tta_coco_read_image(&c, 2, &img), TTA_OK);
    CHECK_EQ_INT(img.width, 6);
    CHECK_EQ_INT(img.height, 5);
    CHECK_EQ_INT(((uint8_t *)img.data)[0], 2);
    CHECK_EQ_INT(tta_coco_read_image(&c, 4, &img), TTA_ERR_INVALID_ARG);
    CHECK_EQ_INT(tta_coco_read_image(&c, -1, &img), TTA_ERR_INVALID_ARG);
    tta_coco_destroy(&c);

    snprintf(spec, sizeof spec, "coco:%s[1:3]", dir);
    CHECK_EQ_INT(tta_coco_open(&c, spec), TTA_OK);
    CHECK(c.name && strcmp(c.name, spec) == 0);
    CHECK_EQ_INT(c.n_images, 2);
    CHECK_EQ_INT(c.images[0].id, 101);
    CHECK_EQ_INT(c.images[1].id, 102);
    CHECK_EQ_INT(c.n_anns, 3);
    CHECK_EQ_INT(c.ann_first[0], 0);
    CHECK_EQ_INT(c.ann_first[1], 1);
    CHECK_EQ_INT(c.ann_first[2], 3);
    CHECK_EQ_INT(c.anns[0].image_id, 101);
    CHECK_EQ_INT(c.anns[2].image_id, 102);
    CHECK_EQ_INT(tta_coco_image_index(&c, 100), -1);
    CHECK_EQ_INT(tta_coco_image_index(&c, 102), 1);
    CHECK_EQ_INT(tta_coco_category_index(&c, 2), 0);
    CHECK_EQ_INT(tta_coco_read_image(&c, 1, &img), TTA_OK);
    CHECK_EQ_INT(((uint8_t *)img.data)[0], 2);
    /* slicing again: image 102 alone, then nothing */
    CHECK_EQ_INT(tta_coco_slice(&c, 1, 2), TTA_OK);
    CHECK_EQ_INT(c.n_images, 1);
    CHECK_EQ_INT(c.n_anns, 2);
    CHECK_EQ_INT(c.ann_first[1], 2);
    CHECK_EQ_INT(c.anns[0].bbox[1], 0);
    CHECK_EQ_INT(c.anns[1].bbox[1], 1);
    CHECK_EQ_INT(tta_coco_image_index(&c, 102), 0);
    CHECK_EQ_INT(tta_coco_slice(&c, 1, 2), TTA_ERR_INVALID_ARG);
    CHECK_EQ_INT(tta_coco_slice(&c, -1, 1), TTA_ERR_INVALID_ARG);
    CHECK_EQ_INT(tta_coco_slice(&c, 1, 0), TTA_ERR_INVALID_ARG);
    CHECK_EQ_INT(tta_coco_slice(&c, 1, 1), TTA_OK);
    CHECK_EQ_INT(c.n_images, 0);
    CHECK_EQ_INT(c.n_anns, 0);
    CHECK_EQ_INT(tta_coco_image_index(&c, 102), -1);
    tta_coco_destroy(&c);

    snprintf(spec, sizeof spec, "coco:%s[-1:]", dir);
    CHECK_EQ_INT(tta_coco_open(&c, spec), TTA_OK);
    CHECK_EQ_INT(c.n_images, 1);
    CHECK_EQ_INT(c.images[0].id, 103);
    CHECK_EQ_INT(c.n_anns, 3);
    tta_coco_destroy(&c);

    snprintf(spec, sizeof spec, "coco:%s[-3:-1]", dir);
    CHECK_EQ_INT(tta_coco_open(&c, spec), TTA_OK);
    CHECK_EQ_INT(c.n_images, 2);
    CHECK_EQ_INT(c.images[0].id, 101);
    tta_coco_destroy(&c);

    /* the two-path form, with a range */
    snprintf(spec, sizeof spec, "coco:%s/images,%s/annotations.json[:1]", dir, dir);
    CHECK_EQ_INT(tta_coco_open(&c, spec), TTA_OK);
    CHECK_EQ_INT(c.n_images, 1);
    CHECK_EQ_INT(c.n_anns, 0);
    CHECK_EQ_INT(tta_coco_read_image(&c, 0, &img), TTA_OK);
    tta_coco_destroy(&c);

    /* bad ranges: the same messages as the other data specs */
    char what[200], want[400];
    snprintf(what, sizeof what, "coco:%s", dir);
    snprintf(spec, sizeof spec, "%s[2:2]", what);
    CHECK_EQ_INT(tta_coco_open(&c, spec), TTA_ERR_INVALID_ARG);
    CHECK_STR_CONTAINS(tta_last_error(), "range [2:2] is empty");
    tta_coco_destroy(&c);
    snprintf(spec, sizeof spec, "%s[0:5]", what);
    CHECK_EQ_INT(tta_coco_open(&c, spec), TTA_ERR_INVALID_ARG);
    snprintf(want, sizeof want, "range [0:5] goes past the end of %s (4 images)", what);
    CHECK_STR_CONTAINS(tta_last_error(), want);
    tta_coco_destroy(&c);
    snprintf(spec, sizeof spec, "%s[-5:]", what);
    CHECK_EQ_INT(tta_coco_open(&c, spec), TTA_ERR_INVALID_ARG);
    CHECK_STR_CONTAINS(tta_last_error(), "range [-5:] starts before the first image");
    tta_coco_destroy(&c);
    snprintf(spec, sizeof spec, "%s[x:1]", what);
    CHECK_EQ_INT(tta_coco_open(&c, spec), TTA_ERR_INVALID_ARG);
    CHECK_STR_CONTAINS(tta_last_error(), "range '[x:1]': start 'x' is not an integer");
    CHECK(c.name == NULL); /* refused before anything was read */
    tta_coco_destroy(&c);
    snprintf(spec, sizeof spec, "%s]", what);
    CHECK_EQ_INT(tta_coco_open(&c, spec), TTA_ERR_INVALID_ARG);
    CHECK_STR_CONTAINS(tta_last_error(), "']' without '['");
    tta_coco_destroy(&c);
    tta_image_destroy(&img);

    /* a missing folder or file */
    snprintf(spec, sizeof spec, "coco:%s/nope", dir);
    CHECK_EQ_INT(tta_coco_open(&c, spec), TTA_ERR_IO);
    CHECK_STR_CONTAINS(tta_last_error(), "/nope: no such folder");
    tta_coco_destroy(&c);
    snprintf(spec, sizeof spec, "coco:%s/images,%s/nope.json", dir, dir);
    CHECK_EQ_INT(tta_coco_open(&c, spec), TTA_ERR_IO);
    CHECK_STR_CONTAINS(tta_last_error(), "/nope.json: cannot open");
    tta_coco_destroy(&c);
    snprintf(spec, sizeof spec, "coco:%s/nope,%s/annotations.json", dir, dir);
    CHECK_EQ_INT(tta_coco_open(&c, spec), TTA_ERR_IO);
    CHECK_STR_CONTAINS(tta_last_error(), "/nope: no such folder");
    tta_coco_destroy(&c);
    snprintf(spec, sizeof spec, "coco:%s/images", dir); /* a folder without annotations.json */
    CHECK_EQ_INT(tta_coco_open(&c, spec), TTA_ERR_IO);
    CHECK_STR_CONTAINS(tta_last_error(), "/images/images: no such folder");
    tta_coco_destroy(&c);
    CHECK_EQ_INT(tta_coco_open(&c, "folder:x"), TTA_ERR_INVALID_ARG);
    CHECK_STR_CONTAINS(tta_last_error(), "data spec 'folder:x' is not a COCO set");
    CHECK_EQ_INT(tta_coco_open(&c, "coco:"), TTA_ERR_INVALID_ARG);
    CHECK_EQ_INT(tta_coco_open(&c, "coco:a,b,c"), TTA_ERR_INVALID_ARG);
    tta_coco_destroy(&c);
    rm_rf(dir);
}

TEST(read_image_errors) {
    const char *dir = make_set(2);
    CHECK(dir != NULL);
    if (!dir) return;
    char path[300];
    snprintf(path, sizeof path, "%s/annotations.json", dir);
    /* image 0 claims 7 columns, image 1 is missing */
    write_text(
        path,
        "{\"images\": [{\"id\": 1, \"file_name\": \"0.png\", \"width\": 7, \"height\": 5},\n"
        "{\"id\": 2, \"file_name\": \"gone.png\"}, {\"id\": 3, \"file_name\": \"1.png\", \"height\": 5}],\n"
        "\"categories\": [], \"annotations\": []}");
    tta_coco c = {0};
    char spec[300];
    snprintf(spec, sizeof spec, "coco:%s", dir);
    CHECK_EQ_INT(tta_coco_open(&c, spec), TTA_OK);
    tta_image img = {0};
    CHECK_EQ_INT(tta_coco_read_image(&c, 0, &img), TTA_ERR_SHAPE);
    CHECK_STR_CONTAINS(tta_last_error(),
                       "/images/0.png: image is 6x5 (width x height), the annotations say 7x5");
    CHECK_EQ_INT(tta_coco_read_image(&c, 1, &img), TTA_ERR_IO);
    CHECK_STR_CONTAINS(tta_last_error(), "/images/gone.png");
    CHECK_EQ_INT(tta_coco_read_image(&c, 2, &img), TTA_OK); /* width 0: unchecked, height agrees */
    tta_image_destroy(&img);
    tta_coco_destroy(&c);
    rm_rf(dir);
}

/* ---- results files ---------------------------------------------------------------------------- */

TEST(results_read_valid) {
    tta_coco_det *d = NULL;
    int n = -1;
    CHECK_EQ_INT(tta_coco_results_read(FIX "results_valid.json", &d, &n), TTA_OK);
    CHECK_EQ_INT(n, 2);
    if (n == 2) {
        CHECK_EQ_INT(d[0].image_id, 10);
        CHECK_EQ_INT(d[0].category_id, 3);
        CHECK(d[0].bbox[0] == 1.5 && d[0].bbox[1] == 2 && d[0].bbox[2] == 30.25 && d[0].bbox[3] == 40);
        CHECK(d[0].score == 0.875);
        CHECK_EQ_INT(d[0].support, 3);
        CHECK_EQ_INT(d[1].image_id, 5);
        CHECK_EQ_INT(d[1].category_id, 1);
        CHECK(d[1].score == 1e-3);
        CHECK_EQ_INT(d[1].support, 0);
    }
    tta_free(d);
    d = (tta_coco_det *)1;
    CHECK_EQ_INT(tta_coco_results_read(FIX "results_empty.json", &d, &n), TTA_OK);
    CHECK_EQ_INT(n, 0);
    CHECK(d == NULL);
}

TEST(results_read_errors) {
    READ_FAILS("results_syntax.json", TTA_ERR_PARSE,
               FIX "results_syntax.json:3:62: '}' expected near '\"score\"'");
    READ_FAILS("results_truncated.json", TTA_ERR_PARSE, FIX "results_truncated.json:2:");
    READ_FAILS("results_no_score.json", TTA_ERR_PARSE,
               FIX "results_no_score.json: [1].score: missing (expected a number)");
    READ_FAILS("results_bad_category.json", TTA_ERR_PARSE,
               "results_bad_category.json: [0].category_id: expected an integer");
    READ_FAILS("results_bad_support.json", TTA_ERR_PARSE,
               "results_bad_support.json: [0].support: expected an integer");
    READ_FAILS("results_negative.json", TTA_ERR_INVALID_ARG,
               "results_negative.json: [1].bbox: [0, 0, 1, -1] has a negative");
    READ_FAILS("results_inf_score.json", TTA_ERR_PARSE, "results_inf_score.json:1:72: real number overflow");
    READ_FAILS("results_object.json", TTA_ERR_PARSE,
               "results_object.json: expected a JSON array of detections");
    READ_FAILS("valid.json", TTA_ERR_PARSE, "expected a JSON array");
    READ_FAILS("no_such.json", TTA_ERR_IO, FIX "no_such.json: cannot open");
    READ_FAILS("empty_file.json", TTA_ERR_PARSE, "empty_file.json:1:0:");
}

static uint32_t lcg(uint32_t *s) {
    *s = *s * 1664525u + 1013904223u;
    return *s >> 8;
}

TEST(results_round_trip) {
    char dir[] = "/tmp/tta_coco_res_XXXXXX";
    CHECK(mkdtemp(dir) != NULL);
    char path[128];
    snprintf(path, sizeof path, "%s/res.json", dir);
    enum { N = 2000 };
    tta_coco_det *dets = calloc(N, sizeof *dets);
    float fv[N][5];
    uint32_t s = 12345;
    for (int i = 0; i < N; i++) {
        for (int k = 0; k < 4; k++)
            fv[i][k] = (float)lcg(&s) / (float)(1 << 24) * 640.0f - (k < 2 ? 20.0f : 0.0f);
        fv[i][4] = (float)lcg(&s) / (float)(1 << 24);
        dets[i].image_id = (int64_t)lcg(&s) * 1000003;
        dets[i].category_id = i % 91;
        for (int k = 0; k < 4; k++)
            dets[i].bbox[k] = fv[i][k];
        dets[i].score = fv[i][4];
        dets[i].support = i % 4;
    }
    /* awkward values: tiny, huge, subnormal floats, integers, and doubles that are not floats */
    float odd[] = {1e-7f, 3.4e38f, 1e-40f, 0.1f, 1.0f / 3.0f, 16777216.0f, 123.0f};
    for (int k = 0; k < 7; k++) {
        fv[k][2] = odd[k];
        dets[k].bbox[2] = odd[k];
    }
    dets[10].bbox[0] = 0.1; /* a double: read back exactly */
    dets[11].bbox[0] = 1.0 / 3.0;
    dets[12].bbox[0] = -2.5e-300;
    dets[13].image_id = INT64_MAX;
    dets[14].image_id = -7;
    CHECK_EQ_INT(tta_coco_results_write(path, dets, N), TTA_OK);
    CHECK_EQ_INT(count_entries(dir, "res.json.tmp."), 0);
    tta_coco_det *back = NULL;
    int n = 0;
    CHECK_EQ_INT(tta_coco_results_read(path, &back, &n), TTA_OK);
    CHECK_EQ_INT(n, N);
    int bad = 0;
    for (int i = 0; i < N && n == N; i++) {
        const tta_coco_det *a = &dets[i], *b = &back[i];
        if (a->image_id != b->image_id || a->category_id != b->category_id || a->support != b->support) bad++;
        for (int k = 0; k < 4; k++) {
            int is_double = (i == 10 || i == 11 || i == 12) && k == 0;
            if (is_double ? b->bbox[k] != a->bbox[k] : (float)b->bbox[k] != fv[i][k]) bad++;
        }
        if ((float)b->score != fv[i][4]) bad++;
    }
    CHECK_EQ_INT(bad, 0);
    tta_free(back);
    /* compact: 0.1f is written "0.1", integers without a point, support left out when 0 */
    char *text = read_text(path);
    CHECK(text != NULL);
    if (text) {
        CHECK(strstr(text, "0.100000001") == NULL);
        CHECK(strstr(text, ", 0.1, ") != NULL);
        CHECK(strstr(text, ", 123, ") != NULL);
        CHECK(strstr(text, "\"image_id\": 9223372036854775807,") != NULL);
        CHECK(strstr(text, "{\"image_id\": -7, \"category_id\": 14, \"bbox\": [") != NULL);
        CHECK(strstr(text, "\"support\": 0") == NULL);
        CHECK(strstr(text, "\"support\": 3}") != NULL);
        CHECK(text[0] == '[');
        free(text);
    }
    /* an empty list is "[]" and reads back empty */
    CHECK_EQ_INT(tta_coco_results_write(path, NULL, 0), TTA_OK);
    text = read_text(path);
    CHECK(text && strcmp(text, "[]\n") == 0);
    free(text);
    back = (tta_coco_det *)1;
    CHECK_EQ_INT(tta_coco_results_read(path, &back, &n), TTA_OK);
    CHECK_EQ_INT(n, 0);
    CHECK(back == NULL);
    free(dets);
    rm_rf(dir);
}

TEST(results_write_failures) {
    char dir[] = "/tmp/tta_coco_fail_XXXXXX";
    CHECK(mkdtemp(dir) != NULL);
    tta_coco_det d = {.image_id = 1, .category_id = 1, .bbox = {0, 0, 1, 1}, .score = 0.5};
    char path[160];
    /* into a folder that does not exist */
    snprintf(path, sizeof path, "%s/no/res.json", dir);
    CHECK_EQ_INT(tta_coco_results_write(path, &d, 1), TTA_ERR_IO);
    CHECK_STR_CONTAINS(tta_last_error(), path);
    /* onto a folder: the temporary file is written, the rename fails, and it is removed */
    snprintf(path, sizeof path, "%s/sub", dir);
    mkdir(path, 0755);
    CHECK_EQ_INT(tta_coco_results_write(path, &d, 1), TTA_ERR_IO);
    CHECK_STR_CONTAINS(tta_last_error(), "cannot rename");
    CHECK_EQ_INT(count_entries(dir, "sub.tmp."), 0);
    /* bad detections: nothing is created, and an existing file is left as it was */
    snprintf(path, sizeof path, "%s/res.json", dir);
    write_text(path, "old");
    tta_coco_det bad[2] = {d, d};
    bad[1].score = NAN;
    CHECK_EQ_INT(tta_coco_results_write(path, bad, 2), TTA_ERR_INVALID_ARG);
    CHECK_STR_CONTAINS(tta_last_error(), "res.json: detection 1: score is not finite");
    bad[1].score = 0.5;
    bad[1].bbox[3] = -1;
    CHECK_EQ_INT(tta_coco_results_write(path, bad, 2), TTA_ERR_INVALID_ARG);
    CHECK_STR_CONTAINS(tta_last_error(), "detection 1: negative size 1x-1");
    bad[1].bbox[3] = INFINITY;
    CHECK_EQ_INT(tta_coco_results_write(path, bad, 2), TTA_ERR_INVALID_ARG);
    CHECK_EQ_INT(tta_coco_results_write(path, NULL, 1), TTA_ERR_INVALID_ARG);
    char *text = read_text(path);
    CHECK(text && strcmp(text, "old") == 0);
    free(text);
    CHECK_EQ_INT(count_entries(dir, "res.json.tmp."), 0);
    /* and a good write replaces it */
    CHECK_EQ_INT(tta_coco_results_write(path, &d, 1), TTA_OK);
    text = read_text(path);
    CHECK(text &&
          strcmp(text,
                 "[\n{\"image_id\": 1, \"category_id\": 1, \"bbox\": [0, 0, 1, 1], \"score\": 0.5}\n]\n") ==
              0);
    free(text);
    /* nothing else is left in the folder */
    CHECK_EQ_INT(count_entries(dir, ""), 4); /* ".", "..", "sub", "res.json" */
    rm_rf(dir);
}

/* ---- failing allocations ------------------------------------------------------------------------ */

static int alloc_left; /* allocations that succeed before the next one fails; < 0: never fail */

static void *failing_realloc(void *user, void *ptr, size_t size) {
    (void)user;
    if (alloc_left == 0) return NULL;
    if (alloc_left > 0) alloc_left--;
    return realloc(ptr, size);
}

static void plain_free(void *user, void *ptr) {
    (void)user;
    free(ptr);
}

TEST(failing_allocations) {
    tta_allocator a = {failing_realloc, plain_free, NULL};
    tta_set_allocator(&a);
    int nomem = 0, ok = 0;
    for (int k = 0; k < 200; k++) {
        alloc_left = k;
        tta_coco c = {0};
        tta_status st = tta_coco_load(&c, FIX "valid.json", NULL);
        tta_coco_destroy(&c);
        if (st == TTA_OK) {
            ok = 1;
            break;
        }
        CHECK_EQ_INT(st, TTA_ERR_NOMEM);
        nomem++;
    }
    CHECK(ok);
    CHECK(nomem > 5);
    ok = 0;
    for (int k = 0; k < 50; k++) {
        alloc_left = k;
        tta_coco_det *d = NULL;
        int n = 0;
        tta_status st = tta_coco_results_read(FIX "results_valid.json", &d, &n);
        tta_free(d);
        if (st == TTA_OK) {
            ok = 1;
            break;
        }
        CHECK_EQ_INT(st, TTA_ERR_NOMEM);
    }
    CHECK(ok);
    alloc_left = -1;
    tta_set_allocator(NULL);
}

/* ---- a large synthetic file ----------------------------------------------------------------------- */

/* 5,000 images x 7 annotations (val2017 has 5,000 and 36,781) with shuffled ids. */
TEST(large_file) {
    enum { NI = 5000, PER = 7 };
    char dir[] = "/tmp/tta_coco_big_XXXXXX";
    CHECK(mkdtemp(dir) != NULL);
    char path[128];
    snprintf(path, sizeof path, "%s/big.json", dir);
    FILE *f = fopen(path, "w");
    CHECK(f != NULL);
    if (!f) return;
    int64_t ids[NI];
    uint32_t s = 7;
    for (int i = 0; i < NI; i++)
        ids[i] = 1000 + 37 * (int64_t)i;
    for (int i = NI - 1; i > 0; i--) {
        int j = (int)(lcg(&s) % (uint32_t)(i + 1));
        int64_t t = ids[i];
        ids[i] = ids[j];
        ids[j] = t;
    }
    fprintf(f, "{\"info\": {}, \"images\": [");
    for (int i = 0; i < NI; i++)
        fprintf(f,
                "%s\n{\"license\": 1, \"file_name\": \"%012lld.jpg\", \"height\": 480, \"width\": 640, "
                "\"id\": %lld}",
                i ? "," : "", (long long)ids[i], (long long)ids[i]);
    fprintf(f, "],\n\"annotations\": [");
    for (int a = 0; a < NI * PER; a++) {
        int64_t img = ids[lcg(&s) % NI]; /* annotations in random image order, as in COCO */
        fprintf(
            f,
            "%s\n{\"segmentation\": [[1.5, 2.5, 3.5, 4.5, 5.5, 6.5, 7.5, 8.5]], \"area\": %d.25, "
            "\"iscrowd\": 0, "
            "\"image_id\": %lld, \"bbox\": [%u.5, %u.25, %u.75, %u.125], \"category_id\": %d, \"id\": %d}",
            a ? "," : "", a, (long long)img, lcg(&s) % 600, lcg(&s) % 400, 1 + lcg(&s) % 100,
            1 + lcg(&s) % 100, 1 + a % 80, 900000 + a);
    }
    fprintf(f, "],\n\"categories\": [");
    for (int k = 0; k < 80; k++)
        fprintf(f, "%s{\"supercategory\": \"x\", \"id\": %d, \"name\": \"c%d\"}", k ? ", " : "", k + 1, k);
    fprintf(f, "]}\n");
    fclose(f);
    struct stat st;
    stat(path, &st);

    tta_coco c = {0};
    double t0 = now();
    CHECK_EQ_INT(tta_coco_load(&c, path, NULL), TTA_OK);
    double t1 = now();
    printf("  large_file: %d images, %d annotations, %.1f MB loaded in %.3f s\n", c.n_images, c.n_anns,
           st.st_size / 1e6, t1 - t0);
    CHECK_EQ_INT(c.n_images, NI);
    CHECK_EQ_INT(c.n_anns, NI * PER);
    CHECK(t1 - t0 < 5.0);
    int bad = 0;
    for (int i = 0; i < c.n_images; i++) {
        if (tta_coco_image_index(&c, c.images[i].id) != i) bad++;
        for (int k = c.ann_first[i]; k < c.ann_first[i + 1]; k++) {
            if (c.anns[k].image_id != c.images[i].id) bad++;
            if (k > c.ann_first[i] && c.anns[k].id <= c.anns[k - 1].id) bad++; /* file order kept */
        }
    }
    CHECK_EQ_INT(bad, 0);
    CHECK_EQ_INT(c.ann_first[NI], NI * PER);
    CHECK_EQ_INT(tta_coco_image_index(&c, 1001), -1);
    CHECK_EQ_INT(tta_coco_category_index(&c, 80), 79);
    tta_coco_destroy(&c);
    rm_rf(dir);
}

/* ---- a mosaic set written by the library ---------------------------------------------------------- */

TEST(mosaic_set) {
    if (access(TTA_MOSAIC_DEFAULT_DATA_DIR "/train-images-idx3-ubyte.gz", R_OK) != 0) {
        printf("  mosaic_set: skipped (no Fashion-MNIST in %s)\n", TTA_MOSAIC_DEFAULT_DATA_DIR);
        return;
    }
    char dir[] = "/tmp/tta_coco_mosaic_XXXXXX";
    CHECK(mkdtemp(dir) != NULL);
    tta_mosaic_source src = {0};
    tta_mosaic_options opt;
    tta_mosaic_options_default(&opt);
    CHECK_EQ_INT(tta_mosaic_source_load(&src, NULL, "val"), TTA_OK);
    CHECK_EQ_INT(tta_mosaic_write_dataset(&src, &opt, 2, 5, dir, NULL, NULL), TTA_OK);
    tta_mosaic m = {0};
    int items[5], total = 0;
    for (int i = 0; i < 5; i++) {
        CHECK_EQ_INT(tta_mosaic_generate(&m, &src, &opt, 2, (uint64_t)i), TTA_OK);
        items[i] = m.count;
        total += m.count;
    }
    char spec[128];
    snprintf(spec, sizeof spec, "coco:%s", dir);
    tta_coco c = {0};
    CHECK_EQ_INT(tta_coco_open(&c, spec), TTA_OK);
    CHECK_EQ_INT(c.n_images, 5);
    CHECK_EQ_INT(c.n_categories, 10);
    CHECK_EQ_INT(c.n_anns, total);
    if (c.n_images == 5 && c.n_categories == 10) {
        CHECK(strcmp(c.categories[0].name, tta_mosaic_class_names[0]) == 0);
        CHECK_EQ_INT(c.categories[9].id, 10);
        for (int i = 0; i < 5; i++) {
            CHECK_EQ_INT(c.images[i].id, i);
            CHECK_EQ_INT(c.ann_first[i + 1] - c.ann_first[i], items[i]);
        }
        /* the last mosaic's items, in pasting order */
        for (int k = 0; k < m.count && c.ann_first[4] + k < c.n_anns; k++) {
            const tta_coco_ann *a = &c.anns[c.ann_first[4] + k];
            CHECK_EQ_INT(a->category_id, m.items[k].label + 1);
            CHECK(a->bbox[0] == m.items[k].bbox[0] && a->bbox[3] == m.items[k].bbox[3]);
            CHECK(a->area == m.items[k].area);
        }
        tta_image img = {0};
        CHECK_EQ_INT(tta_coco_read_image(&c, 3, &img), TTA_OK);
        CHECK_EQ_INT(img.width, 64);
        CHECK_EQ_INT(img.height, 64);
        CHECK_EQ_INT(img.channels, 1);
        tta_image_destroy(&img);
    }
    tta_coco_destroy(&c);
    snprintf(spec, sizeof spec, "coco:%s[3:]", dir);
    CHECK_EQ_INT(tta_coco_open(&c, spec), TTA_OK);
    CHECK_EQ_INT(c.n_images, 2);
    CHECK_EQ_INT(c.n_anns, items[3] + items[4]);
    tta_coco_destroy(&c);
    tta_mosaic_destroy(&m);
    tta_mosaic_source_destroy(&src);
    rm_rf(dir);
}
