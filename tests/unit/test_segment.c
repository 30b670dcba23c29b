/* test_segment.c - the segmentation engine on the shipped segmenter: the metadata it reads, a
 * flip view equal to the flipped image's own map flipped back (bit for bit), the sliding window
 * equal to running each tile alone where tiles do not overlap, results of one image merged as
 * the merger does, and bad options. */
#include "test.h"

#include "tta/segment.h"

static tta_model *segmenter_model(void) {
    tta_model *m = NULL;
    if (tta_model_load("models/segmenter.onnx", NULL, &m) != TTA_OK) fprintf(stderr, "  %s\n", tta_last_error());
    return m;
}

/* a textured canvas: two bright blocks */
static void canvas(tta_image *img, int h, int w, int seed) {
    tta_image_init(img, h, w, 1, TTA_DTYPE_UINT8);
    uint8_t *p = img->data;
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) {
            int v = 0;
            if (x >= 6 + seed && x < 30 && y >= 8 && y < 36) v = 120 + ((x * 7 + y * 3 + seed) % 90);
            if (x >= 36 && x < 60 && y >= 30 - seed && y < 58) v = 200 - ((x + y) % 60);
            p[y * w + x] = (uint8_t)v;
        }
}

TEST(segmenter_reads_the_shipped_metadata) {
    tta_model *m = segmenter_model();
    if (!m) {
        CHECK(0);
        return;
    }
    tta_segmenter *s = NULL;
    CHECK_EQ_INT(tta_segmenter_new(&s, m, NULL), TTA_OK);
    CHECK_EQ_INT(tta_segmenter_n_classes(s), 11);
    CHECK_EQ_INT(tta_segmenter_output(s), TTA_SEG_OUTPUT_LOGITS);
    CHECK(tta_segmenter_class_name(s, 0) && !strcmp(tta_segmenter_class_name(s, 0), "background"));
    CHECK(tta_segmenter_class_name(s, 10) && !strcmp(tta_segmenter_class_name(s, 10), "Ankle boot"));
    tta_segmenter_free(s);
    tta_segmenter_options o = {.output = TTA_SEG_OUTPUT_SIGMOID};
    CHECK_EQ_INT(tta_segmenter_new(&s, m, &o), TTA_ERR_SHAPE); /* 11 channels are no binary mask */
    CHECK_STR_CONTAINS(tta_last_error(), "11 channels");
    o.output = TTA_SEG_OUTPUT_AUTO;
    o.overlap = 0.99;
    CHECK_EQ_INT(tta_segmenter_new(&s, m, &o), TTA_ERR_INVALID_ARG);
    tta_model_free(m);
    tta_seg_output out;
    CHECK_EQ_INT(tta_seg_output_parse("softmax", &out), TTA_OK);
    CHECK_EQ_INT(out, TTA_SEG_OUTPUT_SOFTMAX);
    CHECK_EQ_INT(tta_seg_output_parse("probs", &out), TTA_ERR_INVALID_ARG);
}

typedef struct keep {
    float *probs[4];
    uint8_t *valid[4];
    int C, h, w;
} keep;

static tta_status keep_view(void *user, int image, int view, const float *probs, const uint8_t *valid, int C, int h,
                            int w) {
    keep *k = user;
    if (image != 0 || view > 3) return TTA_ERR_INTERNAL;
    k->C = C, k->h = h, k->w = w;
    k->probs[view] = malloc(sizeof(float) * (size_t)C * h * w);
    k->valid[view] = malloc((size_t)h * w);
    memcpy(k->probs[view], probs, sizeof(float) * (size_t)C * h * w);
    memcpy(k->valid[view], valid, (size_t)h * w);
    return TTA_OK;
}

static void keep_free(keep *k) {
    for (int v = 0; v < 4; v++) free(k->probs[v]), free(k->valid[v]);
}

TEST(flip_view_equals_the_flipped_image_flipped_back) {
    tta_model *m = segmenter_model();
    if (!m) {
        CHECK(0);
        return;
    }
    tta_segmenter *s = NULL;
    CHECK_EQ_INT(tta_segmenter_new(&s, m, NULL), TTA_OK);
    tta_image img = {0}, flipped = {0};
    canvas(&img, 64, 64, 0);
    tta_image_init(&flipped, 64, 64, 1, TTA_DTYPE_UINT8);
    for (int y = 0; y < 64; y++)
        for (int x = 0; x < 64; x++) ((uint8_t *)flipped.data)[y * 64 + x] = ((uint8_t *)img.data)[y * 64 + 63 - x];
    tta_policy pol, ident;
    CHECK_EQ_INT(tta_policy_parse(&pol, "hflip", NULL), TTA_OK);
    CHECK_EQ_INT(tta_policy_init(&ident), TTA_OK);
    keep a = {0}, b = {0};
    CHECK_EQ_INT(tta_segment_each_view(s, &pol, &img, 1, keep_view, &a), TTA_OK);
    CHECK_EQ_INT(tta_segment_each_view(s, &ident, &flipped, 1, keep_view, &b), TTA_OK);
    CHECK_EQ_INT(a.C, 11);
    CHECK_EQ_INT(a.h, 64);
    int same = a.probs[1] && b.probs[0], valid = 1;
    for (int c = 0; same && c < 11; c++)
        for (int y = 0; y < 64; y++)
            for (int x = 0; x < 64; x++)
                same &= a.probs[1][(c * 64 + y) * 64 + x] == b.probs[0][(c * 64 + y) * 64 + 63 - x];
    for (int i = 0; i < 64 * 64 && a.valid[1]; i++) valid &= a.valid[1][i] == 1;
    CHECK(same);
    CHECK(valid);
    /* probabilities sum to 1 at every pixel */
    double worst = 0;
    for (int i = 0; i < 64 * 64 && a.probs[0]; i++) {
        double sum = 0;
        for (int c = 0; c < 11; c++) sum += a.probs[0][c * 4096 + i];
        worst = fabs(sum - 1) > worst ? fabs(sum - 1) : worst;
    }
    CHECK(worst < 1e-5);
    keep_free(&a);
    keep_free(&b);
    tta_image_destroy(&img);
    tta_image_destroy(&flipped);
    tta_policy_destroy(&pol);
    tta_policy_destroy(&ident);
    tta_segmenter_free(s);
    tta_model_free(m);
}

TEST(sliding_window_without_overlap_equals_each_tile_alone) {
    tta_model *m = segmenter_model();
    if (!m) {
        CHECK(0);
        return;
    }
    /* tiles of 64 with (nearly) no overlap on a 128 x 128 image made of four different canvases */
    tta_segmenter_options o = {.tile = 64, .overlap = 1e-6};
    tta_segmenter *tiled = NULL, *plain = NULL;
    CHECK_EQ_INT(tta_segmenter_new(&tiled, m, &o), TTA_OK);
    CHECK_EQ_INT(tta_segmenter_new(&plain, m, NULL), TTA_OK);
    tta_image big = {0}, q[4] = {{0}};
    tta_image_init(&big, 128, 128, 1, TTA_DTYPE_UINT8);
    for (int k = 0; k < 4; k++) {
        canvas(&q[k], 64, 64, 3 * k);
        for (int y = 0; y < 64; y++)
            memcpy((uint8_t *)big.data + (size_t)(y + 64 * (k / 2)) * 128 + 64 * (k % 2), (uint8_t *)q[k].data + y * 64, 64);
    }
    tta_policy pol;
    CHECK_EQ_INT(tta_policy_parse(&pol, "hflip", NULL), TTA_OK);
    tta_seg_result whole = {0}, part = {0};
    CHECK_EQ_INT(tta_segment(tiled, &pol, &big, TTA_MERGE_MEAN, &whole), TTA_OK);
    CHECK_EQ_INT(whole.height, 128);
    int ok = 1;
    for (int k = 0; k < 4; k++) {
        CHECK_EQ_INT(tta_segment(plain, &pol, &q[k], TTA_MERGE_MEAN, &part), TTA_OK);
        for (int c = 0; c < 11; c++)
            for (int y = 0; y < 64; y++)
                for (int x = 0; x < 64; x++) {
                    float a = whole.probs[((size_t)c * 128 + y + 64 * (k / 2)) * 128 + x + 64 * (k % 2)];
                    float b = part.probs[((size_t)c * 64 + y) * 64 + x];
                    ok &= fabsf(a - b) <= 1e-5f;
                }
    }
    CHECK(ok);
    /* labels are the argmax of the probabilities; the maps are finite and in range */
    int labels_ok = 1, maps_ok = 1;
    for (int i = 0; i < 128 * 128; i++) {
        int best = 0;
        for (int c = 1; c < 11; c++)
            if (whole.probs[(size_t)c * 16384 + i] > whole.probs[(size_t)best * 16384 + i]) best = c;
        labels_ok &= whole.labels[i] == best;
        maps_ok &= whole.maps[TTA_UNC_ENTROPY][i] >= 0 && whole.maps[TTA_UNC_ENTROPY][i] <= logf(11) + 1e-5f &&
                   whole.maps[TTA_UNC_DISAGREEMENT][i] >= 0 && whole.maps[TTA_UNC_DISAGREEMENT][i] <= 1;
    }
    CHECK(labels_ok);
    CHECK(maps_ok);
    tta_seg_result_destroy(&whole);
    tta_seg_result_destroy(&part);
    for (int k = 0; k < 4; k++) tta_image_destroy(&q[k]);
    tta_image_destroy(&big);
    tta_policy_destroy(&pol);
    tta_segmenter_free(tiled);
    tta_segmenter_free(plain);
    tta_model_free(m);
}

TEST(overlapping_tiles_blend_smoothly_and_see_every_pixel) {
    tta_model *m = segmenter_model();
    if (!m) {
        CHECK(0);
        return;
    }
    tta_segmenter_options o = {.tile = 48, .overlap = 0.5};
    tta_segmenter *s = NULL;
    CHECK_EQ_INT(tta_segmenter_new(&s, m, &o), TTA_OK);
    tta_image img = {0};
    canvas(&img, 100, 90, 1); /* not a multiple of the tile: the last tiles sit flush with the edge */
    tta_policy pol;
    CHECK_EQ_INT(tta_policy_parse(&pol, "hflip; vflip", NULL), TTA_OK);
    tta_seg_result r = {0};
    CHECK_EQ_INT(tta_segment(s, &pol, &img, TTA_MERGE_MEAN, &r), TTA_OK);
    CHECK_EQ_INT(r.height, 100);
    CHECK_EQ_INT(r.width, 90);
    CHECK_EQ_INT(r.n_views, 3);
    double worst = 0;
    for (int i = 0; i < 100 * 90; i++) {
        double sum = 0;
        for (int c = 0; c < 11; c++) sum += r.probs[(size_t)c * 9000 + i];
        worst = fabs(sum - 1) > worst ? fabs(sum - 1) : worst;
    }
    CHECK(worst < 1e-4); /* every pixel covered: a blend of distributions is a distribution */
    tta_seg_result_destroy(&r);
    tta_image_destroy(&img);
    tta_policy_destroy(&pol);
    tta_segmenter_free(s);
    tta_model_free(m);
}
