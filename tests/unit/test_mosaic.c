/* test_mosaic.c - the mosaic generator (include/tta/mosaic.h): determinism (same seed, same
 * bytes; another seed, other bytes; mosaic k independent of the count), the invariants that make
 * the labels trustworthy (boxes enclose exactly their item's mask pixels, mask > 0 exactly where
 * the canvas is above the threshold, the overlap limit, item counts and sizes), exact resizing
 * at scale 1, the written data set (PNGs equal the generated canvases, one COCO annotation per
 * item), IDX reading (real Fashion-MNIST when installed; truncated, garbage and missing files),
 * bad options, and failed allocations. Most tests use a hand-made source so they run anywhere. */
#include <stdint.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "test.h"
#include "tta/mosaic.h"

/* ---- helpers ---- */

enum { NSRC = 40, ISZ = 28 };
static uint8_t src_pixels[NSRC * ISZ * ISZ], src_labels[NSRC];

/* A hand-made source: image i is a blob of class i % 10 with a few distinct features, all with
 * bright pixels (some under the threshold too), plus one pattern image with every value. */
static tta_mosaic_source fake_source(void) {
    for (int i = 0; i < NSRC; i++) {
        src_labels[i] = (uint8_t)(i % 10);
        for (int y = 0; y < ISZ; y++)
            for (int x = 0; x < ISZ; x++) {
                int dx = x - 14, dy = y - 14, r2 = dx * dx + dy * dy, rad = 4 + i % 9;
                int v = r2 < rad * rad ? 60 + (x * 7 + y * 3 + i * 11) % 190
                                       : (r2 < (rad + 2) * (rad + 2) ? 20 : 0);
                src_pixels[(i * ISZ + y) * ISZ + x] = (uint8_t)v;
            }
    }
    for (int k = 0; k < ISZ * ISZ; k++)
        src_pixels[(NSRC - 1) * ISZ * ISZ + k] = (uint8_t)(k * 13 % 256);
    tta_mosaic_source s = {
        .count = NSRC, .item_size = ISZ, .first_index = 0, .pixels = src_pixels, .labels = src_labels};
    strcpy(s.split, "fake");
    return s;
}

static int same_mosaic(const tta_mosaic *a, const tta_mosaic *b) {
    size_t n = tta_image_nbytes(&a->image);
    return a->count == b->count && n == tta_image_nbytes(&b->image) &&
           !memcmp(a->image.data, b->image.data, n) && !memcmp(a->mask.data, b->mask.data, n) &&
           !memcmp(a->instance.data, b->instance.data, n) &&
           !memcmp(a->items, b->items, sizeof a->items[0] * (size_t)a->count);
}

static char *temp_dir(const char *tag) {
    static char buf[4][256];
    static int k;
    char *p = buf[k++ % 4];
    snprintf(p, 256, "/tmp/tta_test_mosaic_%d_%s", (int)getpid(), tag);
    return p;
}

static void remove_tree(const char *dir) {
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0) fprintf(stderr, "  could not remove %s\n", dir);
}

static unsigned char *read_all(const char *path, size_t *size) {
    FILE *f = fopen(path, "rb");
    *size = 0;
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    unsigned char *b = malloc(n > 0 ? (size_t)n + 1 : 1);
    *size = fread(b, 1, (size_t)n, f);
    b[*size] = 0;
    fclose(f);
    return b;
}

static int files_equal(const char *a, const char *b) {
    size_t na, nb;
    unsigned char *x = read_all(a, &na), *y = read_all(b, &nb);
    int eq = x && y && na == nb && !memcmp(x, y, na);
    free(x);
    free(y);
    return eq;
}

static int count_substr(const char *hay, const char *needle) {
    int n = 0;
    for (const char *p = hay; (p = strstr(p, needle)); p += strlen(needle))
        n++;
    return n;
}

/* ---- determinism ---- */

TEST(same_seed_same_mosaic_other_seed_other_mosaic) {
    tta_mosaic_source src = fake_source();
    tta_mosaic_options opt;
    tta_mosaic_options_default(&opt);
    opt.noise = 10;
    tta_mosaic a = {0}, b = {0};
    int differ_seed = 0, differ_index = 0;
    for (int i = 0; i < 20; i++) {
        CHECK(tta_mosaic_generate(&a, &src, &opt, 42, (uint64_t)i) == TTA_OK);
        CHECK(tta_mosaic_generate(&b, &src, &opt, 42, (uint64_t)i) == TTA_OK);
        CHECK(same_mosaic(&a, &b));
        CHECK(tta_mosaic_generate(&b, &src, &opt, 43, (uint64_t)i) == TTA_OK);
        differ_seed += !same_mosaic(&a, &b);
        CHECK(tta_mosaic_generate(&b, &src, &opt, 42, (uint64_t)i + 1) == TTA_OK);
        differ_index += !same_mosaic(&a, &b);
    }
    CHECK_EQ_INT(differ_seed, 20);
    CHECK_EQ_INT(differ_index, 20);
    tta_mosaic_destroy(&a);
    tta_mosaic_destroy(&b);
}

TEST(seed_zero_and_huge_seeds_work) {
    tta_mosaic_source src = fake_source();
    tta_mosaic_options opt;
    tta_mosaic_options_default(&opt);
    tta_mosaic a = {0}, b = {0};
    CHECK(tta_mosaic_generate(&a, &src, &opt, 0, 0) == TTA_OK);
    CHECK(tta_mosaic_generate(&b, &src, &opt, UINT64_MAX, UINT64_MAX) == TTA_OK);
    CHECK(a.count >= 1 && b.count >= 1);
    CHECK(!same_mosaic(&a, &b));
    tta_mosaic_destroy(&a);
    tta_mosaic_destroy(&b);
}

/* ---- invariants of the labels ---- */

static void check_invariants(const tta_mosaic *m, const tta_mosaic_options *opt) {
    const int P = opt->size;
    const uint8_t *img = m->image.data, *mask = m->mask.data, *inst = m->instance.data;
    CHECK(m->image.height == P && m->image.width == P && m->image.channels == 1);
    CHECK(m->count >= 1 && m->count <= opt->max_items);
    int smin = (int)(opt->min_scale * 28 + 0.5), smax = (int)(opt->max_scale * 28 + 0.5);
    if (smax > P) smax = P;
    if (smin > smax) smin = smax;
    for (int k = 0; k < m->count; k++) {
        const tta_mosaic_item *it = &m->items[k];
        int x0 = P, y0 = P, x1 = -1, y1 = -1, area = 0;
        for (int y = 0; y < P; y++)
            for (int x = 0; x < P; x++)
                if (inst[y * P + x] == k + 1) {
                    area++;
                    x0 = x < x0 ? x : x0, x1 = x > x1 ? x : x1, y0 = y < y0 ? y : y0, y1 = y > y1 ? y : y1;
                }
        CHECK(area > 0);
        CHECK_EQ_INT(it->area, area);
        CHECK_EQ_INT(it->bbox[0], x0);
        CHECK_EQ_INT(it->bbox[1], y0);
        CHECK_EQ_INT(it->bbox[2], x1 - x0 + 1);
        CHECK_EQ_INT(it->bbox[3], y1 - y0 + 1);
        CHECK(it->label >= 0 && it->label < 10);
        CHECK(it->side >= smin && it->side <= smax);
        CHECK(it->x >= 0 && it->y >= 0 && it->x + it->side <= P && it->y + it->side <= P);
        /* the box lies inside the pasted square */
        CHECK(x0 >= it->x && y0 >= it->y && x1 < it->x + it->side && y1 < it->y + it->side);
        /* the overlap limit on the pasted squares */
        long covered = 0;
        for (int j = 0; j < m->count; j++) {
            if (j == k) continue;
            const tta_mosaic_item *o = &m->items[j];
            int ix0 = it->x > o->x ? it->x : o->x, iy0 = it->y > o->y ? it->y : o->y;
            int ix1 = it->x + it->side < o->x + o->side ? it->x + it->side : o->x + o->side;
            int iy1 = it->y + it->side < o->y + o->side ? it->y + it->side : o->y + o->side;
            if (ix1 > ix0 && iy1 > iy0) covered += (long)(ix1 - ix0) * (iy1 - iy0);
        }
        CHECK(covered <= opt->max_overlap * it->side * it->side + 1e-9);
    }
    int bad_mask = 0, bad_fg = 0, bad_bg = 0;
    for (int i = 0; i < P * P; i++) {
        if (inst[i] > m->count)
            bad_mask++;
        else if (mask[i] != (inst[i] ? m->items[inst[i] - 1].label + 1 : 0))
            bad_mask++;
        if ((mask[i] != 0) != (img[i] > opt->threshold)) bad_fg++;
        if (!mask[i] && img[i] > opt->threshold) bad_bg++;
    }
    CHECK_EQ_INT(bad_mask, 0);
    CHECK_EQ_INT(bad_fg, 0);
    CHECK_EQ_INT(bad_bg, 0);
}

TEST(boxes_enclose_exactly_the_mask_pixels_of_their_item) {
    tta_mosaic_source src = fake_source();
    tta_mosaic_options opt;
    tta_mosaic_options_default(&opt);
    tta_mosaic m = {0};
    int sizes[] = {64, 96, 40, 200};
    for (int s = 0; s < 4; s++) {
        opt.size = sizes[s];
        opt.noise = s == 1 ? 25 : 0;
        opt.max_overlap = s == 3 ? 0.6 : 0.25;
        for (int i = 0; i < 150; i++) {
            CHECK(tta_mosaic_generate(&m, &src, &opt, 7 + (uint64_t)s, (uint64_t)i) == TTA_OK);
            check_invariants(&m, &opt);
        }
    }
    tta_mosaic_destroy(&m);
}

TEST(item_counts_follow_the_options) {
    tta_mosaic_source src = fake_source();
    tta_mosaic_options opt;
    tta_mosaic_options_default(&opt);
    opt.size = 160;
    opt.max_scale = 1.0;
    tta_mosaic m = {0};
    int hist[6] = {0};
    for (int i = 0; i < 500; i++) {
        CHECK(tta_mosaic_generate(&m, &src, &opt, 3, (uint64_t)i) == TTA_OK);
        if (m.count >= 1 && m.count <= 5) hist[m.count]++;
    }
    /* roomy canvas: every count 1..5 is drawn, about equally often */
    for (int c = 1; c <= 5; c++)
        CHECK(hist[c] > 60 && hist[c] < 140);
    opt.min_items = opt.max_items = 1;
    for (int i = 0; i < 50; i++) {
        CHECK(tta_mosaic_generate(&m, &src, &opt, 3, (uint64_t)i) == TTA_OK);
        CHECK_EQ_INT(m.count, 1);
    }
    opt.min_items = opt.max_items = 5;
    opt.max_overlap = 1.0; /* anything goes: all five are placed (they may still hide each other) */
    int five = 0;
    for (int i = 0; i < 50; i++) {
        CHECK(tta_mosaic_generate(&m, &src, &opt, 3, (uint64_t)i) == TTA_OK);
        check_invariants(&m, &opt);
        five += m.count == 5;
    }
    CHECK(five >= 40);
    tta_mosaic_destroy(&m);
}

TEST(scale_one_pastes_the_source_exactly) {
    tta_mosaic_source src = fake_source();
    tta_mosaic_options opt;
    tta_mosaic_options_default(&opt);
    opt.min_scale = opt.max_scale = 1.0;
    opt.min_items = opt.max_items = 1;
    opt.size = 50;
    tta_mosaic m = {0};
    for (int i = 0; i < 30; i++) {
        CHECK(tta_mosaic_generate(&m, &src, &opt, 11, (uint64_t)i) == TTA_OK);
        const tta_mosaic_item *it = &m.items[0];
        CHECK_EQ_INT(it->side, 28);
        const uint8_t *s = src_pixels + (size_t)it->source_index * 28 * 28, *img = m.image.data;
        int diff = 0, outside = 0;
        for (int y = 0; y < 50; y++)
            for (int x = 0; x < 50; x++) {
                int in = x >= it->x && x < it->x + 28 && y >= it->y && y < it->y + 28;
                if (in)
                    diff += img[y * 50 + x] != s[(y - it->y) * 28 + (x - it->x)];
                else
                    outside += img[y * 50 + x] != 0;
            }
        CHECK_EQ_INT(diff, 0);
        CHECK_EQ_INT(outside, 0);
        CHECK_EQ_INT(it->label, src_labels[it->source_index]);
    }
    tta_mosaic_destroy(&m);
}

TEST(scaled_constant_image_stays_constant) {
    static uint8_t px[28 * 28], lab[1] = {4};
    memset(px, 200, sizeof px);
    tta_mosaic_source src = {.count = 1, .item_size = 28, .pixels = px, .labels = lab};
    tta_mosaic_options opt;
    tta_mosaic_options_default(&opt);
    opt.min_items = opt.max_items = 1;
    opt.size = 64;
    tta_mosaic m = {0};
    for (int i = 0; i < 20; i++) {
        CHECK(tta_mosaic_generate(&m, &src, &opt, 5, (uint64_t)i) == TTA_OK);
        const tta_mosaic_item *it = &m.items[0];
        CHECK_EQ_INT(it->area, it->side * it->side);
        CHECK_EQ_INT(it->bbox[2], it->side);
        CHECK_EQ_INT(it->bbox[0], it->x);
        CHECK_EQ_INT(((uint8_t *)m.image.data)[(it->y + it->side / 2) * 64 + it->x + it->side / 2], 200);
        CHECK_EQ_INT(((uint8_t *)m.mask.data)[(it->y) * 64 + it->x], 5);
    }
    tta_mosaic_destroy(&m);
}

TEST(noise_stays_under_the_threshold) {
    tta_mosaic_source src = fake_source();
    tta_mosaic_options opt;
    tta_mosaic_options_default(&opt);
    opt.noise = 30;
    tta_mosaic m = {0};
    CHECK(tta_mosaic_generate(&m, &src, &opt, 9, 0) == TTA_OK);
    const uint8_t *img = m.image.data, *mask = m.mask.data;
    int nonzero_bg = 0, max_bg = 0;
    for (int i = 0; i < 64 * 64; i++)
        if (!mask[i]) {
            nonzero_bg += img[i] != 0;
            if (img[i] > max_bg) max_bg = img[i];
        }
    CHECK(nonzero_bg > 1000);
    CHECK(max_bg <= 30);
    tta_mosaic_destroy(&m);
}

TEST(blank_source_is_an_error_not_a_hang) {
    static uint8_t px[28 * 28], lab[1] = {0};
    tta_mosaic_source src = {.count = 1, .item_size = 28, .pixels = px, .labels = lab};
    tta_mosaic_options opt;
    tta_mosaic_options_default(&opt);
    tta_mosaic m = {0};
    CHECK(tta_mosaic_generate(&m, &src, &opt, 1, 0) == TTA_ERR_INTERNAL);
    CHECK_STR_CONTAINS(tta_last_error(), "blank");
    lab[0] = 10;
    memset(px, 255, sizeof px);
    CHECK(tta_mosaic_generate(&m, &src, &opt, 1, 0) == TTA_ERR_INVALID_ARG);
    CHECK_STR_CONTAINS(tta_last_error(), "label 10");
    tta_mosaic_destroy(&m);
}

/* ---- options ---- */

TEST(bad_options_are_rejected_with_the_field_named) {
    tta_mosaic_source src = fake_source();
    tta_mosaic m = {0};
    tta_mosaic_options o;
    tta_mosaic_options_default(&o);
    CHECK(tta_mosaic_options_check(&o) == TTA_OK);
    o.size = 4;
    CHECK(tta_mosaic_options_check(&o) == TTA_ERR_INVALID_ARG);
    CHECK_STR_CONTAINS(tta_last_error(), "size 4");
    CHECK(tta_mosaic_generate(&m, &src, &o, 1, 0) == TTA_ERR_INVALID_ARG);
    tta_mosaic_options_default(&o);
    o.max_items = 6;
    CHECK(tta_mosaic_options_check(&o) == TTA_ERR_INVALID_ARG);
    CHECK_STR_CONTAINS(tta_last_error(), "items");
    tta_mosaic_options_default(&o);
    o.min_items = 3, o.max_items = 2;
    CHECK(tta_mosaic_options_check(&o) == TTA_ERR_INVALID_ARG);
    tta_mosaic_options_default(&o);
    o.min_items = 0;
    CHECK(tta_mosaic_options_check(&o) == TTA_ERR_INVALID_ARG);
    tta_mosaic_options_default(&o);
    o.min_scale = 0;
    CHECK(tta_mosaic_options_check(&o) == TTA_ERR_INVALID_ARG);
    CHECK_STR_CONTAINS(tta_last_error(), "scales");
    tta_mosaic_options_default(&o);
    o.min_scale = 2, o.max_scale = 1;
    CHECK(tta_mosaic_options_check(&o) == TTA_ERR_INVALID_ARG);
    tta_mosaic_options_default(&o);
    o.max_scale = 0.0 / 0.0;
    CHECK(tta_mosaic_options_check(&o) == TTA_ERR_INVALID_ARG);
    tta_mosaic_options_default(&o);
    o.noise = 31;
    CHECK(tta_mosaic_options_check(&o) == TTA_ERR_INVALID_ARG);
    CHECK_STR_CONTAINS(tta_last_error(), "noise");
    tta_mosaic_options_default(&o);
    o.threshold = 255;
    CHECK(tta_mosaic_options_check(&o) == TTA_ERR_INVALID_ARG);
    tta_mosaic_options_default(&o);
    o.max_overlap = 1.5;
    CHECK(tta_mosaic_options_check(&o) == TTA_ERR_INVALID_ARG);
    CHECK_STR_CONTAINS(tta_last_error(), "overlap");
    CHECK(tta_mosaic_options_check(NULL) == TTA_ERR_INVALID_ARG);
    tta_mosaic_options_default(&o);
    tta_mosaic_source empty = {0};
    CHECK(tta_mosaic_generate(&m, &empty, &o, 1, 0) == TTA_ERR_INVALID_ARG);
    CHECK(tta_mosaic_generate(NULL, &src, &o, 1, 0) == TTA_ERR_INVALID_ARG);
    CHECK(tta_mosaic_write_dataset(&src, &o, 1, 0, "/tmp", NULL, NULL) == TTA_ERR_INVALID_ARG);
    CHECK_STR_CONTAINS(tta_last_error(), "count 0");
    tta_mosaic_destroy(&m);
}

/* ---- the written data set ---- */

static void count_progress(void *user, int done, int total) {
    int *calls = user;
    if (done == calls[0] + 1 && total == calls[1]) calls[0] = done;
}

TEST(written_dataset_matches_the_generator_and_repeats_byte_for_byte) {
    tta_mosaic_source src = fake_source();
    tta_mosaic_options opt;
    tta_mosaic_options_default(&opt);
    opt.size = 72;
    char *d1 = temp_dir("a"), *d2 = temp_dir("b/nested"), *d3 = temp_dir("c");
    int calls[2] = {0, 12};
    CHECK(tta_mosaic_write_dataset(&src, &opt, 99, 12, d1, count_progress, calls) == TTA_OK);
    CHECK_EQ_INT(calls[0], 12);
    CHECK(tta_mosaic_write_dataset(&src, &opt, 99, 12, d2, NULL, NULL) == TTA_OK);
    CHECK(tta_mosaic_write_dataset(&src, &opt, 100, 5, d3, NULL, NULL) == TTA_OK);
    char a[600], b[600];
    int total_items = 0;
    tta_mosaic m = {0};
    for (int i = 0; i < 12; i++) {
        for (int kind = 0; kind < 2; kind++) {
            snprintf(a, sizeof a, "%s/%s/%06d.png", d1, kind ? "masks" : "images", i);
            snprintf(b, sizeof b, "%s/%s/%06d.png", d2, kind ? "masks" : "images", i);
            CHECK(files_equal(a, b));
            if (i < 5) {
                snprintf(b, sizeof b, "%s/%s/%06d.png", d3, kind ? "masks" : "images", i);
                CHECK(!files_equal(a, b));
            }
            /* the PNG holds exactly the generated canvas / mask */
            CHECK(tta_mosaic_generate(&m, &src, &opt, 99, (uint64_t)i) == TTA_OK);
            tta_image img = {0};
            CHECK(tta_image_read(&img, a) == TTA_OK);
            CHECK(img.height == 72 && img.width == 72 && img.channels == 1);
            const tta_image *want = kind ? &m.mask : &m.image;
            CHECK(img.data && !memcmp(img.data, want->data, 72 * 72));
            tta_image_destroy(&img);
        }
        total_items += m.count;
    }
    snprintf(a, sizeof a, "%s/annotations.json", d1);
    snprintf(b, sizeof b, "%s/annotations.json", d2);
    CHECK(files_equal(a, b));
    size_t n;
    char *json = (char *)read_all(a, &n);
    CHECK(json != NULL);
    if (json) {
        CHECK_EQ_INT(count_substr(json, "\"iscrowd\": 0"), total_items);
        CHECK_EQ_INT(count_substr(json, "\"file_name\""), 12);
        CHECK_EQ_INT(count_substr(json, "\"supercategory\""), 10);
        CHECK_STR_CONTAINS(json, "{\"id\": 10, \"name\": \"Ankle boot\"");
        CHECK_STR_CONTAINS(json,
                           "{\"id\": 11, \"file_name\": \"000011.png\", \"width\": 72, \"height\": 72}");
        CHECK_STR_CONTAINS(json, "\"split\": \"fake\", \"seed\": 99, \"count\": 12, \"size\": 72");
        /* the last mosaic's items, as annotations */
        char want[300];
        const tta_mosaic_item *it = &m.items[m.count - 1];
        snprintf(
            want, sizeof want,
            "\"image_id\": 11, \"category_id\": %d, \"bbox\": [%d, %d, %d, %d], \"area\": %d, \"iscrowd\": 0",
            it->label + 1, it->bbox[0], it->bbox[1], it->bbox[2], it->bbox[3], it->area);
        CHECK_STR_CONTAINS(json, want);
        snprintf(want, sizeof want, "{\"id\": %d, \"image_id\": 11", total_items);
        CHECK_STR_CONTAINS(json, want);
        CHECK(json[n - 2] == '}' && json[n - 1] == '\n');
    }
    free(json);
    tta_mosaic_destroy(&m);
    remove_tree(d1);
    remove_tree(temp_dir("b"));
    remove_tree(d3);
}

TEST(mosaic_k_does_not_depend_on_the_count) {
    tta_mosaic_source src = fake_source();
    tta_mosaic_options opt;
    tta_mosaic_options_default(&opt);
    char *d1 = temp_dir("few"), *d2 = temp_dir("many");
    CHECK(tta_mosaic_write_dataset(&src, &opt, 5, 3, d1, NULL, NULL) == TTA_OK);
    CHECK(tta_mosaic_write_dataset(&src, &opt, 5, 8, d2, NULL, NULL) == TTA_OK);
    char a[600], b[600];
    for (int i = 0; i < 3; i++) {
        snprintf(a, sizeof a, "%s/images/%06d.png", d1, i);
        snprintf(b, sizeof b, "%s/images/%06d.png", d2, i);
        CHECK(files_equal(a, b));
    }
    remove_tree(d1);
    remove_tree(d2);
}

TEST(unwritable_output_is_an_io_error) {
    tta_mosaic_source src = fake_source();
    tta_mosaic_options opt;
    tta_mosaic_options_default(&opt);
    char *d = temp_dir("file");
    FILE *f = fopen(d, "w"); /* a file where the directory should go */
    if (f) fclose(f);
    CHECK(tta_mosaic_write_dataset(&src, &opt, 1, 2, d, NULL, NULL) == TTA_ERR_IO);
    CHECK_STR_CONTAINS(tta_last_error(), d);
    unlink(d);
}

/* ---- IDX files ---- */

static void write_gz(const char *path, const void *data, size_t n) {
    gzFile f = gzopen(path, "wb");
    if (!f) return;
    if (n) gzwrite(f, data, (unsigned)n);
    gzclose(f);
}

/* A small fake Fashion-MNIST directory: `n` train images with labels, and t10k files. */
static void write_fake_idx(const char *dir, int n, int truncate_images, int bad_magic, int bad_label) {
    mkdir(dir, 0755);
    size_t isz = 16 + (size_t)n * 784;
    unsigned char *im = calloc(isz, 1), *lb = calloc(8 + (size_t)n, 1);
    im[2] = 8, im[3] = 3;
    im[4] = (unsigned char)(n >> 24), im[5] = (unsigned char)(n >> 16), im[6] = (unsigned char)(n >> 8),
    im[7] = (unsigned char)n;
    im[11] = 28, im[15] = 28;
    for (size_t k = 16; k < isz; k++)
        im[k] = (unsigned char)(k * 31 % 256);
    lb[2] = 8, lb[3] = 1;
    memcpy(lb + 4, im + 4, 4);
    for (int i = 0; i < n; i++)
        lb[8 + i] = (unsigned char)(i % 10);
    if (bad_magic) im[2] = 9;
    if (bad_label) lb[8 + n - 1] = 12;
    char p[600];
    const char *parts[] = {"train", "t10k"};
    for (int k = 0; k < 2; k++) {
        snprintf(p, sizeof p, "%s/%s-images-idx3-ubyte.gz", dir, parts[k]);
        write_gz(p, im, truncate_images ? isz - 100 : isz);
        snprintf(p, sizeof p, "%s/%s-labels-idx1-ubyte.gz", dir, parts[k]);
        write_gz(p, lb, 8 + (size_t)n);
    }
    free(im);
    free(lb);
}

TEST(idx_reading_splits_and_errors) {
    char *dir = temp_dir("idx");
    tta_mosaic_source s = {0};
    /* 60,000 records would be slow to write here; a t10k of 20 images is a full "test" split */
    write_fake_idx(dir, 20, 0, 0, 0);
    CHECK(tta_mosaic_source_load(&s, dir, "test") == TTA_OK);
    CHECK_EQ_INT(s.count, 20);
    CHECK_EQ_INT(s.item_size, 28);
    CHECK_EQ_INT(s.first_index, 0);
    CHECK_EQ_INT(s.labels[13], 3);
    CHECK_EQ_INT(s.pixels[5], (16 + 5) * 31 % 256);
    tta_mosaic_source_destroy(&s);
    CHECK(s.pixels == NULL && s.count == 0);
    /* train needs 55,000 images, val more than that */
    CHECK(tta_mosaic_source_load(&s, dir, "train") == TTA_ERR_PARSE);
    CHECK_STR_CONTAINS(tta_last_error(), "too few");
    CHECK(tta_mosaic_source_load(&s, dir, "val") == TTA_ERR_PARSE);
    CHECK(tta_mosaic_source_load(&s, dir, "holdout") == TTA_ERR_INVALID_ARG);
    CHECK_STR_CONTAINS(tta_last_error(), "holdout");
    write_fake_idx(dir, 20, 1, 0, 0);
    CHECK(tta_mosaic_source_load(&s, dir, "test") == TTA_ERR_PARSE);
    CHECK_STR_CONTAINS(tta_last_error(), "t10k-images-idx3-ubyte.gz: truncated");
    write_fake_idx(dir, 20, 0, 1, 0);
    CHECK(tta_mosaic_source_load(&s, dir, "test") == TTA_ERR_PARSE);
    CHECK_STR_CONTAINS(tta_last_error(), "not an IDX file");
    write_fake_idx(dir, 20, 0, 0, 1);
    CHECK(tta_mosaic_source_load(&s, dir, "test") == TTA_ERR_PARSE);
    CHECK_STR_CONTAINS(tta_last_error(), "label 12");
    char p[600];
    snprintf(p, sizeof p, "%s/t10k-labels-idx1-ubyte.gz", dir);
    write_gz(p, "", 0);
    CHECK(tta_mosaic_source_load(&s, dir, "test") == TTA_ERR_PARSE);
    snprintf(p, sizeof p, "%s/t10k-images-idx3-ubyte.gz", dir);
    unlink(p);
    CHECK(tta_mosaic_source_load(&s, dir, "test") == TTA_ERR_IO);
    CHECK_STR_CONTAINS(tta_last_error(), "cannot open");
    CHECK(s.pixels == NULL && s.count == 0);
    remove_tree(dir);
}

TEST(real_fashion_mnist_splits_when_installed) {
    tta_mosaic_source s = {0};
    FILE *f = fopen(TTA_MOSAIC_DEFAULT_DATA_DIR "/t10k-labels-idx1-ubyte.gz", "rb");
    if (!f) {
        fprintf(stderr, "  (Fashion-MNIST not installed: real-data test not run)\n");
        return;
    }
    fclose(f);
    CHECK(tta_mosaic_source_load(&s, NULL, "val") == TTA_OK);
    CHECK_EQ_INT(s.count, 5000);
    CHECK_EQ_INT(s.first_index, 55000);
    CHECK(!strcmp(s.split, "val"));
    tta_mosaic_options opt;
    tta_mosaic_options_default(&opt);
    tta_mosaic m = {0};
    for (int i = 0; i < 50; i++) {
        CHECK(tta_mosaic_generate(&m, &s, &opt, 1, (uint64_t)i) == TTA_OK);
        check_invariants(&m, &opt);
        for (int k = 0; k < m.count; k++) {
            CHECK(m.items[k].source_index >= 55000 && m.items[k].source_index < 60000);
            CHECK_EQ_INT(m.items[k].label, s.labels[m.items[k].source_index - 55000]);
        }
    }
    tta_mosaic_destroy(&m);
    tta_mosaic_source_destroy(&s);
    CHECK(tta_mosaic_source_load(&s, NULL, "test") == TTA_OK);
    CHECK_EQ_INT(s.count, 10000);
    tta_mosaic_source_destroy(&s);
    CHECK(tta_mosaic_source_load(&s, NULL, "train") == TTA_OK);
    CHECK_EQ_INT(s.count, 55000);
    CHECK_EQ_INT(s.first_index, 0);
    tta_mosaic_source_destroy(&s);
}

/* ---- failed allocations ---- */

static long n_allocs, fail_at = -1, live;
static void *counting_realloc(void *user, void *ptr, size_t size) {
    (void)user;
    if (!ptr) {
        if (fail_at >= 0 && n_allocs++ == fail_at) return NULL;
        live++;
    }
    return realloc(ptr, size);
}
static void counting_free(void *user, void *ptr) {
    (void)user;
    if (ptr) live--;
    free(ptr);
}

TEST(every_failed_allocation_is_nomem_without_leaks) {
    tta_mosaic_source src = fake_source();
    tta_mosaic_options opt;
    tta_mosaic_options_default(&opt);
    tta_allocator a = {counting_realloc, counting_free, NULL};
    for (fail_at = 0; fail_at < 6; fail_at++) {
        tta_mosaic m = {0};
        n_allocs = live = 0;
        tta_set_allocator(&a);
        tta_status st = tta_mosaic_generate(&m, &src, &opt, 1, 0);
        tta_mosaic_destroy(&m);
        tta_set_allocator(NULL);
        CHECK(st == TTA_OK || st == TTA_ERR_NOMEM);
        CHECK(fail_at >= 4 || st == TTA_ERR_NOMEM);
        CHECK_EQ_INT(live, 0);
    }
    fail_at = -1;
}
