/* test_detect.c - decoding detector outputs (hand-made tensors of every layout, formats,
 * thresholds, misfits) and the detector engine on the shipped detector: boxes of a view equal
 * the boxes of the same image transformed by hand and mapped back by hand (flip, multi-scale,
 * letterbox), per-view table fusion, label mapping, and bad options. */
#include "test.h"

#include "tta/detect.h"

static tta_tensor tensor3(int64_t a, int64_t b, int64_t c, const float *vals) {
    tta_tensor t = {0};
    int64_t dims[3] = {a, b, c};
    tta_tensor_resize(&t, TTA_DTYPE_FLOAT32, 3, dims);
    memcpy(t.data, vals, sizeof(float) * (size_t)(a * b * c));
    return t;
}

static int by_score(const void *a, const void *b) {
    float x = ((const tta_box *)a)->score, y = ((const tta_box *)b)->score;
    return (x < y) - (x > y);
}

/* decode keeps anchor order (sorting only to cut at top_k): sort to check by rank */
static void sort_boxes(tta_boxes *b) { qsort(b->box, (size_t)b->n, sizeof(tta_box), by_score); }

static tta_det_format fmt(tta_det_layout l, tta_box_format bf, int classes) {
    tta_det_format f = {l, bf, 0, classes, 0, 0.001f, 0};
    return f;
}

TEST(decode_yolov8_layout) {
    /* [1, 4 + 2, 3]: rows cx, cy, w, h, class 0, class 1; 3 anchors */
    const float v[] = {10, 20, 30,  /* cx */
                       10, 20, 30,  /* cy */
                       4,  6,  8,   /* w */
                       2,  2,  2,   /* h */
                       0.9f, 0.0f, 0.5f, /* class 0 */
                       0.2f, 0.7f, 0.0005f}; /* class 1 */
    tta_tensor t = tensor3(1, 6, 3, v);
    tta_det_format f = fmt(TTA_DET_LAYOUT_YOLOV8, TTA_BOX_FORMAT_CXCYWH, 2);
    tta_boxes b = {0};
    CHECK_EQ_INT(tta_det_decode(&f, &t, NULL, 0, 64, 64, 3, &b), TTA_OK);
    CHECK_EQ_INT(b.n, 4); /* 0.9, 0.7, 0.5, 0.2; 0.0 and 0.0005 fall under 0.001 */
    if (b.n == 4) { /* anchor order: anchor 0 class 0, anchor 0 class 1, anchor 1, anchor 2 */
        CHECK_NEAR(b.box[0].score, 0.9, 1e-7);
        CHECK_NEAR(b.box[1].score, 0.2, 1e-7);
        CHECK_NEAR(b.box[2].score, 0.7, 1e-7);
        CHECK_NEAR(b.box[3].score, 0.5, 1e-7);
    }
    sort_boxes(&b);
    if (b.n == 4) {
        CHECK_NEAR(b.box[0].score, 0.9, 1e-7);
        CHECK_EQ_INT(b.box[0].label, 0);
        CHECK_NEAR(b.box[0].x1, 8, 1e-6);
        CHECK_NEAR(b.box[0].y1, 9, 1e-6);
        CHECK_NEAR(b.box[0].x2, 12, 1e-6);
        CHECK_NEAR(b.box[0].y2, 11, 1e-6);
        CHECK_EQ_INT(b.box[0].view, 3);
        CHECK_EQ_INT(b.box[0].support, 1);
        CHECK_NEAR(b.box[1].score, 0.7, 1e-7);
        CHECK_EQ_INT(b.box[1].label, 1);
        CHECK_NEAR(b.box[1].x1, 17, 1e-6);
        CHECK_NEAR(b.box[1].x2, 23, 1e-6);
        CHECK_NEAR(b.box[2].score, 0.5, 1e-7);
        CHECK_NEAR(b.box[2].x1, 26, 1e-6);
        CHECK_NEAR(b.box[3].score, 0.2, 1e-7);
        CHECK_EQ_INT(b.box[3].label, 1);
        CHECK_NEAR(b.box[3].x1, 8, 1e-6); /* anchor 0's second class: same box */
    }
    /* top-k and threshold */
    tta_boxes_clear(&b);
    f.top_k = 2;
    f.score_thr = 0.1f;
    CHECK_EQ_INT(tta_det_decode(&f, &t, NULL, 0, 64, 64, 0, &b), TTA_OK);
    CHECK_EQ_INT(b.n, 2); /* 0.9, 0.7, 0.5, 0.2 above 0.1: the best 2, in anchor order */
    if (b.n == 2) {
        CHECK_NEAR(b.box[0].score, 0.9, 1e-7);
        CHECK_NEAR(b.box[1].score, 0.7, 1e-7);
    }
    /* appended after what is there */
    CHECK_EQ_INT(tta_det_decode(&f, &t, NULL, 0, 64, 64, 1, &b), TTA_OK);
    CHECK_EQ_INT(b.n, 4);
    CHECK_EQ_INT(b.box[2].view, 1);
    tta_boxes_destroy(&b);
    tta_tensor_destroy(&t);
}

/* Candidates of a random head (with repeated scores) cut to top_k: exactly the top_k of a full
 * sort by (score, order found), kept in the order found. */
TEST(decode_top_k_keeps_exactly_the_best_in_anchor_order) {
    enum { A = 700, C = 3 };
    float *v = calloc((4 + C) * A, sizeof(float));
    uint64_t s = 7;
    for (int a = 0; a < A; a++) {
        v[0 * A + a] = (float)a; /* cx identifies the anchor */
        v[2 * A + a] = v[3 * A + a] = 2;
        for (int c = 0; c < C; c++) {
            s = s * 6364136223846793005ULL + 1442695040888963407ULL;
            int r = (int)(s >> 33) % 1000;
            v[(4 + c) * A + a] = r < 50 ? 0.0f : (float)(r / 10) / 100.0f; /* 100 levels: many ties */
        }
    }
    tta_tensor t = tensor3(1, 4 + C, A, v);
    tta_det_format f = fmt(TTA_DET_LAYOUT_YOLOV8, TTA_BOX_FORMAT_CXCYWH, C);
    tta_boxes all = {0}, cut = {0};
    CHECK_EQ_INT(tta_det_decode(&f, &t, NULL, 0, 1000, 1000, 0, &all), TTA_OK);
    for (int k = 1; k <= 1000 && k < all.n; k = k * 3 + 1) {
        f.top_k = k;
        tta_boxes_clear(&cut);
        CHECK_EQ_INT(tta_det_decode(&f, &t, NULL, 0, 1000, 1000, 0, &cut), TTA_OK);
        CHECK_EQ_INT(cut.n, k);
        /* brute force: a box is in the top k when fewer than k boxes beat it (higher score, or
         * the same score found earlier) */
        int j = 0, ok = 1;
        for (int i = 0; i < all.n; i++) {
            int better = 0, tie_before = 0;
            for (int q = 0; q < all.n; q++) {
                better += all.box[q].score > all.box[i].score;
                tie_before += q < i && all.box[q].score == all.box[i].score;
            }
            if (better + tie_before < k) { /* in the brute-force top k: must be the next kept */
                if (j >= cut.n || cut.box[j].x1 != all.box[i].x1 || cut.box[j].label != all.box[i].label) ok = 0;
                j++;
            }
        }
        CHECK(ok);
        CHECK_EQ_INT(j, k);
    }
    tta_boxes_destroy(&all);
    tta_boxes_destroy(&cut);
    tta_tensor_destroy(&t);
    free(v);
}

/* With top_k far below the scores, decoding collects only the scores at or above a floor
 * taken from a sample of them; when the sample misleads (here every sampled score is high but
 * fewer than top_k are), it must collect everything after all and still keep exactly the best
 * top_k, ties at the cut the first in anchor order. */
TEST(decode_top_k_is_exact_when_the_sample_misleads) {
    enum { A = 100000, K = 100 };
    float *v = calloc((size_t)(4 + 1) * A, sizeof(float));
    for (int a = 0; a < A; a++) {
        v[0 * A + a] = (float)a, v[2 * A + a] = v[3 * A + a] = 2;
        v[4 * A + a] = 0.5f;
    }
    int high[10];
    for (int j = 0; j < 10; j++) { /* high scores at the positions a sample of every 62nd sees */
        high[j] = 62 * (1000 + 37 * j);
        v[4 * A + high[j]] = 0.9f;
    }
    tta_tensor t = tensor3(1, 5, A, v);
    tta_det_format f = fmt(TTA_DET_LAYOUT_YOLOV8, TTA_BOX_FORMAT_CXCYWH, 1);
    f.top_k = K;
    tta_boxes b = {0};
    CHECK_EQ_INT(tta_det_decode(&f, &t, NULL, 0, A, 10, 0, &b), TTA_OK);
    CHECK_EQ_INT(b.n, K);
    /* expected in anchor order: anchors 0..89 (the first 90 ties at 0.5) and the 10 high ones */
    int j = 0, ok = b.n == K;
    for (int a = 0; a < A && j < b.n; a++) {
        int is_high = 0;
        for (int h = 0; h < 10; h++) is_high |= high[h] == a;
        if (!(a < 90 || is_high)) continue;
        ok &= b.box[j].x1 == (float)a - 1 && b.box[j].score == (is_high ? 0.9f : 0.5f);
        j++;
    }
    CHECK(ok);
    CHECK_EQ_INT(j, K);
    tta_boxes_destroy(&b);
    tta_tensor_destroy(&t);
    free(v);
}

/* The same selection through the anchor-major layouts, sigmoid and objectness included, against
 * a brute force over the scores as the format defines them. */
TEST(decode_top_k_anchor_major_with_objectness) {
    enum { A = 3000, C = 7 };
    float *v = calloc((size_t)A * (5 + C), sizeof(float));
    uint64_t s = 11;
    for (int a = 0; a < A; a++) {
        float *r = v + (size_t)a * (5 + C);
        r[0] = (float)a, r[1] = 5, r[2] = r[3] = 2;
        for (int k = 4; k < 5 + C; k++) {
            s = s * 6364136223846793005ULL + 1442695040888963407ULL;
            r[k] = (float)((int)(s >> 33) % 41 - 20) / 4.0f; /* logits on a grid: ties */
        }
    }
    tta_tensor t = tensor3(1, A, 5 + C, v);
    tta_det_format f = fmt(TTA_DET_LAYOUT_YOLOV5, TTA_BOX_FORMAT_CXCYWH, C);
    f.score_sigmoid = 1;
    tta_boxes all = {0}, cut = {0};
    CHECK_EQ_INT(tta_det_decode(&f, &t, NULL, 0, 10000, 100, 0, &all), TTA_OK);
    CHECK(all.n > 1000);
    for (int i = 1; i < all.n; i++) /* anchor order, then class */
        CHECK(all.box[i - 1].x1 < all.box[i].x1 || (all.box[i - 1].x1 == all.box[i].x1 && all.box[i - 1].label < all.box[i].label));
    static const int ks[] = {1, 7, 50, 333, 1000};
    for (int q = 0; q < 5; q++) {
        f.top_k = ks[q];
        tta_boxes_clear(&cut);
        CHECK_EQ_INT(tta_det_decode(&f, &t, NULL, 0, 10000, 100, 0, &cut), TTA_OK);
        CHECK_EQ_INT(cut.n, ks[q]);
        /* the k-th best score, then: all above it, and the first ties in order */
        float *sc = malloc(sizeof *sc * (size_t)all.n);
        for (int i = 0; i < all.n; i++) sc[i] = all.box[i].score;
        for (int i = 0; i < ks[q]; i++) /* partial selection sort: the k best first */
            for (int j = i + 1; j < all.n; j++)
                if (sc[j] > sc[i]) { float x = sc[i]; sc[i] = sc[j]; sc[j] = x; }
        float kth = sc[ks[q] - 1];
        int above = 0;
        for (int i = 0; i < all.n; i++) above += all.box[i].score > kth;
        int ties = ks[q] - above, j = 0, ok = 1;
        for (int i = 0; i < all.n; i++) {
            int keep = all.box[i].score > kth || (all.box[i].score == kth && ties-- > 0);
            if (!keep) continue;
            ok &= j < cut.n && cut.box[j].x1 == all.box[i].x1 && cut.box[j].label == all.box[i].label &&
                  cut.box[j].score == all.box[i].score;
            j++;
        }
        CHECK(ok);
        free(sc);
    }
    tta_boxes_destroy(&all);
    tta_boxes_destroy(&cut);
    tta_tensor_destroy(&t);
    free(v);
}

TEST(decode_yolov5_layout_multiplies_objectness_and_applies_sigmoid) {
    /* [1, 2, 5 + 1]: per anchor x1 y1 x2 y2 obj cls, logits */
    const float v[] = {1, 2, 11, 22, 0.0f, 2.0f, /* sigmoid(0) * sigmoid(2) = 0.5 * 0.880797 */
                       5, 5, 1, 1, -20.0f, 5.0f}; /* objectness ~2e-9: dropped; corners reordered if kept */
    tta_tensor t = tensor3(1, 2, 6, v);
    tta_det_format f = fmt(TTA_DET_LAYOUT_YOLOV5, TTA_BOX_FORMAT_XYXY, 1);
    f.score_sigmoid = 1;
    tta_boxes b = {0};
    CHECK_EQ_INT(tta_det_decode(&f, &t, NULL, 0, 32, 32, 0, &b), TTA_OK);
    CHECK_EQ_INT(b.n, 1);
    if (b.n == 1) {
        CHECK_NEAR(b.box[0].score, 0.5 / (1 + exp(-2.0)), 1e-6);
        CHECK_NEAR(b.box[0].x1, 1, 0);
        CHECK_NEAR(b.box[0].y2, 22, 0);
    }
    tta_boxes_destroy(&b);
    tta_tensor_destroy(&t);
}

TEST(decode_two_outputs_normalised_xywh) {
    const float bx[] = {0.25f, 0.5f, 0.5f, 0.25f, /* anchor 0: x, y, w, h of a 100 x 40 input */
                        0, 0, 0.1f, 0.1f};
    const float sc[] = {0.3f, 0.6f, 0.01f, 0.0f};
    tta_tensor tb = tensor3(1, 2, 4, bx), ts = tensor3(1, 2, 2, sc);
    tta_det_format f = fmt(TTA_DET_LAYOUT_BOXES_SCORES, TTA_BOX_FORMAT_XYWH, 2);
    f.normalized = 1;
    tta_boxes b = {0};
    CHECK_EQ_INT(tta_det_decode(&f, &tb, &ts, 0, 100, 40, 0, &b), TTA_OK);
    CHECK_EQ_INT(b.n, 3);
    sort_boxes(&b);
    if (b.n == 3) {
        CHECK_NEAR(b.box[0].score, 0.6, 1e-7);
        CHECK_EQ_INT(b.box[0].label, 1);
        CHECK_NEAR(b.box[0].x1, 25, 1e-5);
        CHECK_NEAR(b.box[0].y1, 20, 1e-5);
        CHECK_NEAR(b.box[0].x2, 75, 1e-5);
        CHECK_NEAR(b.box[0].y2, 30, 1e-5);
        CHECK_NEAR(b.box[2].x2, 10, 1e-5);
    }
    tta_boxes_destroy(&b);
    tta_tensor_destroy(&tb);
    tta_tensor_destroy(&ts);
}

TEST(decode_refuses_outputs_that_do_not_fit) {
    float v[24] = {0};
    tta_tensor t = tensor3(1, 6, 4, v);
    tta_boxes b = {0};
    tta_det_format f = fmt(TTA_DET_LAYOUT_YOLOV8, TTA_BOX_FORMAT_CXCYWH, 3); /* needs 7 rows */
    CHECK_EQ_INT(tta_det_decode(&f, &t, NULL, 0, 8, 8, 0, &b), TTA_ERR_SHAPE);
    CHECK_STR_CONTAINS(tta_last_error(), "[1, 6, 4]");
    CHECK_STR_CONTAINS(tta_last_error(), "yolov8");
    f = fmt(TTA_DET_LAYOUT_YOLOV5, TTA_BOX_FORMAT_CXCYWH, 2); /* needs 7 columns */
    CHECK_EQ_INT(tta_det_decode(&f, &t, NULL, 0, 8, 8, 0, &b), TTA_ERR_SHAPE);
    f = fmt(TTA_DET_LAYOUT_BOXES_SCORES, TTA_BOX_FORMAT_XYXY, 2);
    CHECK_EQ_INT(tta_det_decode(&f, &t, NULL, 0, 8, 8, 0, &b), TTA_ERR_SHAPE); /* no scores output */
    f = fmt(TTA_DET_LAYOUT_YOLOV8, TTA_BOX_FORMAT_CXCYWH, 2);
    CHECK_EQ_INT(tta_det_decode(&f, &t, NULL, 1, 8, 8, 0, &b), TTA_ERR_SHAPE); /* item 1 of a batch of 1 */
    v[4 * 4 + 1] = NAN; /* class 0 of anchor 1 */
    tta_tensor_destroy(&t);
    t = tensor3(1, 6, 4, v);
    CHECK_EQ_INT(tta_det_decode(&f, &t, NULL, 0, 8, 8, 0, &b), TTA_ERR_SHAPE);
    CHECK_STR_CONTAINS(tta_last_error(), "NaN");
    CHECK_EQ_INT(b.n, 0);
    tta_boxes_destroy(&b);
    tta_tensor_destroy(&t);
    tta_det_layout l;
    tta_box_format bf;
    CHECK_EQ_INT(tta_det_layout_parse("yolov5", &l), TTA_OK);
    CHECK_EQ_INT(l, TTA_DET_LAYOUT_YOLOV5);
    CHECK_EQ_INT(tta_det_layout_parse("yolo", &l), TTA_ERR_INVALID_ARG);
    CHECK_EQ_INT(tta_box_format_parse("xywh", &bf), TTA_OK);
    CHECK_EQ_INT(bf, TTA_BOX_FORMAT_XYWH);
    CHECK_EQ_INT(tta_box_format_parse("ltrb", &bf), TTA_ERR_INVALID_ARG);
}

/* ---- the engine on the shipped detector ---------------------------------------------- */

static tta_model *detector_model(void) {
    tta_model *m = NULL;
    if (tta_model_load("models/detector.onnx", NULL, &m) != TTA_OK) fprintf(stderr, "  %s\n", tta_last_error());
    return m;
}

/* A 64x64 test image: a mosaic-like canvas made of a few bright rectangles with texture. */
static void canvas(tta_image *img, int h, int w) {
    tta_image_init(img, h, w, 1, TTA_DTYPE_UINT8);
    uint8_t *p = img->data;
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) {
            int v = 0;
            if (x >= 6 && x < 30 && y >= 8 && y < 36) v = 120 + ((x * 7 + y * 3) % 90);
            if (x >= 36 && x < 60 && y >= 30 && y < 58) v = 200 - ((x + y) % 60);
            p[y * w + x] = (uint8_t)v;
        }
}

static void hflip_image(const tta_image *src, tta_image *dst) {
    tta_image_init(dst, src->height, src->width, 1, TTA_DTYPE_UINT8);
    const uint8_t *s = src->data;
    uint8_t *d = dst->data;
    for (int y = 0; y < src->height; y++)
        for (int x = 0; x < src->width; x++) d[y * src->width + x] = s[y * src->width + src->width - 1 - x];
}

static int same_boxes(const tta_box *a, const tta_box *b, int n, float tol) {
    for (int i = 0; i < n; i++)
        if (fabsf(a[i].x1 - b[i].x1) > tol || fabsf(a[i].y1 - b[i].y1) > tol || fabsf(a[i].x2 - b[i].x2) > tol ||
            fabsf(a[i].y2 - b[i].y2) > tol || fabsf(a[i].score - b[i].score) > 1e-5f || a[i].label != b[i].label)
            return 0;
    return 1;
}

TEST(detector_reads_the_shipped_metadata) {
    tta_model *m = detector_model();
    if (!m) {
        CHECK(0);
        return;
    }
    tta_detector *d = NULL;
    CHECK_EQ_INT(tta_detector_new(&d, m, NULL), TTA_OK);
    const tta_det_format *f = tta_detector_format(d);
    CHECK_EQ_INT(f->layout, TTA_DET_LAYOUT_YOLOV8);
    CHECK_EQ_INT(f->box_format, TTA_BOX_FORMAT_CXCYWH);
    CHECK_EQ_INT(f->n_classes, 10);
    CHECK_EQ_INT(f->score_sigmoid, 0);
    CHECK_EQ_INT(f->normalized, 0);
    CHECK(tta_detector_class_name(d, 9) && !strcmp(tta_detector_class_name(d, 9), "Ankle boot"));
    CHECK(tta_detector_class_name(d, 10) == NULL);
    tta_detector_free(d);
    /* a declared layout that does not fit the output is refused at once */
    /* a declared layout that does not fit the output: refused when the output's shape shows it */
    tta_detector_options o = {.layout = TTA_DET_LAYOUT_YOLOV5, .normalized = -1, .pad_value = -1, .score_thr = -1};
    CHECK_EQ_INT(tta_detector_new(&d, m, &o), TTA_OK); /* [N, 14, anchors]: anchors is symbolic */
    tta_image img = {0};
    tta_policy ident;
    tta_boxes b = {0};
    canvas(&img, 64, 64);
    tta_policy_init(&ident);
    CHECK_EQ_INT(tta_detect_views(d, &ident, &img, 1, &b), TTA_ERR_SHAPE);
    CHECK_STR_CONTAINS(tta_last_error(), "yolov5");
    CHECK_STR_CONTAINS(tta_last_error(), "[1, 14, 64]");
    tta_detector_free(d);
    tta_boxes_destroy(&b);
    tta_image_destroy(&img);
    tta_policy_destroy(&ident);
    o.layout = TTA_DET_LAYOUT_AUTO;
    o.n_classes = 7; /* 4 + 7 != 14 */
    CHECK_EQ_INT(tta_detector_new(&d, m, &o), TTA_ERR_SHAPE);
    o.n_classes = 0;
    o.stride = -3;
    CHECK_EQ_INT(tta_detector_new(&d, m, &o), TTA_ERR_INVALID_ARG);
    tta_model_free(m);
}

TEST(hflip_view_equals_the_flipped_image_mapped_back_by_hand) {
    tta_model *m = detector_model();
    if (!m) {
        CHECK(0);
        return;
    }
    tta_detector *d = NULL;
    CHECK_EQ_INT(tta_detector_new(&d, m, NULL), TTA_OK);
    tta_image img = {0}, flipped = {0};
    canvas(&img, 64, 64);
    hflip_image(&img, &flipped);
    tta_policy pol, ident;
    CHECK_EQ_INT(tta_policy_parse(&pol, "hflip", NULL), TTA_OK);
    CHECK_EQ_INT(tta_policy_init(&ident), TTA_OK);
    tta_boxes vb = {0}, fb = {0};
    CHECK_EQ_INT(tta_detect_views(d, &pol, &img, 1, &vb), TTA_OK);
    CHECK_EQ_INT(tta_detect_views(d, &ident, &flipped, 1, &fb), TTA_OK);
    /* view 1's boxes, in order, are the flipped image's boxes with x -> 64 - x */
    tta_box *v1 = NULL;
    int n1 = 0;
    for (int i = 0; i < vb.n; i++)
        if (vb.box[i].view == 1) {
            if (!v1) v1 = &vb.box[i];
            n1++;
        }
    CHECK(n1 > 5);
    CHECK_EQ_INT(n1, fb.n);
    for (int i = 0; i < fb.n; i++) {
        float x1 = 64 - fb.box[i].x2, x2 = 64 - fb.box[i].x1;
        fb.box[i].x1 = x1 < 0 ? 0 : x1;
        fb.box[i].x2 = x2 > 64 ? 64 : x2;
    }
    if (v1 && n1 == fb.n) CHECK(same_boxes(v1, fb.box, n1, 1e-5f));
    tta_boxes_destroy(&vb);
    tta_boxes_destroy(&fb);
    tta_image_destroy(&img);
    tta_image_destroy(&flipped);
    tta_policy_destroy(&pol);
    tta_policy_destroy(&ident);
    tta_detector_free(d);
    tta_model_free(m);
}

TEST(multiscale_view_runs_at_its_own_size_and_scales_back) {
    tta_model *m = detector_model();
    if (!m) {
        CHECK(0);
        return;
    }
    tta_detector *d = NULL;
    CHECK_EQ_INT(tta_detector_new(&d, m, NULL), TTA_OK);
    tta_image img = {0}, big = {0};
    canvas(&img, 64, 64);
    /* the view resize(80, 80) by hand: the same transform through a one-view plan */
    tta_policy pol, by_hand, ident;
    CHECK_EQ_INT(tta_policy_parse(&pol, "resize(80, 80)", NULL), TTA_OK);
    CHECK_EQ_INT(tta_policy_parse(&by_hand, "resize(80, 80)", NULL), TTA_OK);
    CHECK_EQ_INT(tta_policy_init(&ident), TTA_OK);
    tta_aug_plan *plan = NULL;
    CHECK_EQ_INT(tta_aug_plan_new(&plan, &by_hand, 64, 64, 0, 0), TTA_OK);
    CHECK_EQ_INT(tta_augment_view(plan, 1, &img, TTA_DTYPE_FLOAT32, &big), TTA_OK);
    CHECK_EQ_INT(big.width, 80);
    tta_boxes vb = {0}, bb = {0};
    CHECK_EQ_INT(tta_detect_views(d, &pol, &img, 1, &vb), TTA_OK);
    CHECK_EQ_INT(tta_detect_views(d, &ident, &big, 1, &bb), TTA_OK);
    int n1 = 0, first = -1;
    for (int i = 0; i < vb.n; i++)
        if (vb.box[i].view == 1) {
            if (first < 0) first = i;
            n1++;
        }
    CHECK(n1 > 5);
    CHECK_EQ_INT(n1, bb.n);
    for (int i = 0; i < bb.n; i++) {
        bb.box[i].x1 *= 0.8f, bb.box[i].y1 *= 0.8f, bb.box[i].x2 *= 0.8f, bb.box[i].y2 *= 0.8f;
    }
    if (first >= 0 && n1 == bb.n) CHECK(same_boxes(&vb.box[first], bb.box, n1, 1e-4f));
    /* the 80x80 view's boxes are not the 64x64 identity's: the pass really ran at 80x80 */
    int differ = 0;
    for (int i = 0; i < vb.n && vb.box[i].view == 0; i++) differ |= vb.box[i].score != bb.box[0].score;
    CHECK(differ);
    tta_aug_plan_free(plan);
    tta_boxes_destroy(&vb);
    tta_boxes_destroy(&bb);
    tta_image_destroy(&img);
    tta_image_destroy(&big);
    tta_policy_destroy(&pol);
    tta_policy_destroy(&by_hand);
    tta_policy_destroy(&ident);
    tta_detector_free(d);
    tta_model_free(m);
}

TEST(letterboxed_image_maps_back_through_the_letterbox) {
    tta_model *m = detector_model();
    if (!m) {
        CHECK(0);
        return;
    }
    /* a 48 x 64 image with img_size 64: letterboxed to 64 x 64 (scale 1, 8 rows of padding above) */
    tta_detector_options o = {.img_size = 64, .normalized = -1, .pad_value = -1, .score_thr = -1};
    tta_detector *d = NULL;
    CHECK_EQ_INT(tta_detector_new(&d, m, &o), TTA_OK);
    tta_image img = {0}, boxed = {0};
    canvas(&img, 48, 64);
    tta_policy lb, ident;
    CHECK_EQ_INT(tta_policy_parse(&lb, "letterbox(64, 64, fill=0.4470588235)", NULL), TTA_OK); /* 114 / 255 */
    CHECK_EQ_INT(tta_policy_init(&ident), TTA_OK);
    tta_aug_plan *plan = NULL;
    CHECK_EQ_INT(tta_aug_plan_new(&plan, &lb, 48, 64, 0, 0), TTA_OK);
    CHECK_EQ_INT(tta_augment_view(plan, 1, &img, TTA_DTYPE_FLOAT32, &boxed), TTA_OK);
    CHECK_EQ_INT(boxed.height, 64);
    tta_boxes vb = {0}, bb = {0};
    CHECK_EQ_INT(tta_detect_views(d, &ident, &img, 1, &vb), TTA_OK);
    tta_detector_free(d);
    CHECK_EQ_INT(tta_detector_new(&d, m, NULL), TTA_OK);
    CHECK_EQ_INT(tta_detect_views(d, &ident, &boxed, 1, &bb), TTA_OK);
    CHECK(bb.n > 3);
    CHECK_EQ_INT(vb.n, bb.n);
    for (int i = 0; i < bb.n; i++) { /* y - 8, clipped to [0, 48] */
        float y1 = bb.box[i].y1 - 8, y2 = bb.box[i].y2 - 8;
        bb.box[i].y1 = y1 < 0 ? 0 : y1 > 48 ? 48 : y1;
        bb.box[i].y2 = y2 < 0 ? 0 : y2 > 48 ? 48 : y2;
    }
    if (vb.n == bb.n) CHECK(same_boxes(vb.box, bb.box, vb.n, 1e-4f));
    for (int i = 0; i < vb.n; i++) CHECK(vb.box[i].y2 <= 48 && vb.box[i].x2 <= 64 && vb.box[i].y1 >= 0);
    tta_aug_plan_free(plan);
    tta_boxes_destroy(&vb);
    tta_boxes_destroy(&bb);
    tta_image_destroy(&img);
    tta_image_destroy(&boxed);
    tta_policy_destroy(&lb);
    tta_policy_destroy(&ident);
    tta_detector_free(d);
    tta_model_free(m);
}

TEST(views_of_several_images_batch_as_one_image_at_a_time) {
    tta_model *m = detector_model();
    if (!m) {
        CHECK(0);
        return;
    }
    tta_detector_options o = {.max_batch = 3, .normalized = -1, .pad_value = -1, .score_thr = -1};
    tta_detector *d = NULL, *d1 = NULL;
    CHECK_EQ_INT(tta_detector_new(&d, m, &o), TTA_OK);
    CHECK_EQ_INT(tta_detector_new(&d1, m, NULL), TTA_OK);
    tta_image imgs[3] = {{0}};
    for (int i = 0; i < 3; i++) {
        canvas(&imgs[i], 64, 64);
        ((uint8_t *)imgs[i].data)[i * 100] = 255; /* make them differ */
    }
    hflip_image(&imgs[0], &imgs[2]);
    tta_policy pol;
    CHECK_EQ_INT(tta_policy_parse(&pol, "hflip; resize(96, 96); vflip; resize(72, 72)", NULL), TTA_OK);
    tta_boxes all[3] = {{0}}, one = {0};
    CHECK_EQ_INT(tta_detect_views(d, &pol, imgs, 3, all), TTA_OK);
    for (int i = 0; i < 3; i++) {
        CHECK_EQ_INT(tta_detect_views(d1, &pol, &imgs[i], 1, &one), TTA_OK);
        /* the same boxes, maybe in another view order: compare per view */
        for (int v = 0; v < pol.n_views; v++) {
            int na = 0, nb = 0, ok = 1;
            const tta_box *pa = NULL, *pb = NULL;
            for (int k = 0; k < all[i].n; k++) if (all[i].box[k].view == v) { if (!pa) pa = &all[i].box[k]; na++; }
            for (int k = 0; k < one.n; k++) if (one.box[k].view == v) { if (!pb) pb = &one.box[k]; nb++; }
            CHECK_EQ_INT(na, nb);
            if (na == nb && na) ok = same_boxes(pa, pb, na, 1e-4f);
            CHECK(ok);
            CHECK(na > 0);
        }
    }
    /* resize(72, 72) rounds to the stride (16): a pass at 80 x 80, boxes back in 64 x 64 */
    for (int k = 0; k < all[0].n; k++) CHECK(all[0].box[k].x2 <= 64 && all[0].box[k].y2 <= 64);
    for (int i = 0; i < 3; i++) tta_boxes_destroy(&all[i]), tta_image_destroy(&imgs[i]);
    tta_boxes_destroy(&one);
    tta_policy_destroy(&pol);
    tta_detector_free(d);
    tta_detector_free(d1);
    tta_model_free(m);
}

TEST(table_fusion_selects_and_renumbers_views) {
    /* two images, three views; fusing views {2, 0} by NMS keeps the best box of each cluster */
    tta_box b0[] = {{0, 0, 10, 10, 0.9f, 0, 0, 1}, {0, 0, 10, 10, 0.8f, 0, 1, 1}, {1, 0, 11, 10, 0.95f, 0, 2, 1}};
    tta_box b1[] = {{5, 5, 9, 9, 0.5f, 1, 1, 1}};
    tta_boxes lists[2] = {{b0, 3, 3}, {b1, 1, 1}};
    tta_det_table t = {2, 3, lists};
    tta_fuse_options fo;
    tta_fuse_options_default(&fo, TTA_FUSE_NMS);
    tta_boxes out[2] = {{0}};
    int views[2] = {2, 0};
    CHECK_EQ_INT(tta_det_table_fuse(&t, views, NULL, 2, &fo, out), TTA_OK);
    CHECK_EQ_INT(out[0].n, 1);
    if (out[0].n == 1) {
        CHECK_NEAR(out[0].box[0].score, 0.95, 1e-7);
        CHECK_EQ_INT(out[0].box[0].view, 0); /* view 2 of the table is view 0 of the selection */
        CHECK_EQ_INT(out[0].box[0].support, 2);
    }
    CHECK_EQ_INT(out[1].n, 0); /* only view 1 found it */
    int bad[2] = {0, 0};
    CHECK_EQ_INT(tta_det_table_fuse(&t, bad, NULL, 2, &fo, out), TTA_ERR_INVALID_ARG);
    bad[1] = 3;
    CHECK_EQ_INT(tta_det_table_fuse(&t, bad, NULL, 2, &fo, out), TTA_ERR_INVALID_ARG);
    tta_boxes_destroy(&out[0]);
    tta_boxes_destroy(&out[1]);
}

TEST(label_map_by_name_else_by_id_order) {
    tta_coco_category cats[3] = {{7, "cat"}, {3, "dog"}, {5, "bird"}};
    tta_coco gt = {0};
    gt.name = "gt.json";
    gt.categories = cats;
    gt.n_categories = 3;
    int64_t ids[3];
    const char *names[3] = {"bird", "cat", "dog"};
    CHECK_EQ_INT(tta_coco_label_map(&gt, 3, names, ids), TTA_OK);
    CHECK_EQ_INT(ids[0], 5);
    CHECK_EQ_INT(ids[1], 7);
    CHECK_EQ_INT(ids[2], 3);
    const char *other[3] = {"bird", "cat", "cow"};
    CHECK_EQ_INT(tta_coco_label_map(&gt, 3, other, ids), TTA_OK); /* by id order */
    CHECK_EQ_INT(ids[0], 3);
    CHECK_EQ_INT(ids[1], 5);
    CHECK_EQ_INT(ids[2], 7);
    CHECK_EQ_INT(tta_coco_label_map(&gt, 2, NULL, ids), TTA_ERR_SHAPE);
    CHECK_STR_CONTAINS(tta_last_error(), "3 categories");
    CHECK_STR_CONTAINS(tta_last_error(), "2 classes");
}
