/* test_fuse.c - box fusion (detect.h, src/detect/fuse*.c): hand-computed NMS, soft-NMS, NMW and
 * WBF cases with every WBF conf_type, thresholds at and around their edges, per-class
 * independence, weights, max_det, support and view of fused boxes, zero-area skip, malformed
 * input, option names; then every case of tests/data/detect/fuse/cases.txt, written by
 * scripts/ref_ensemble_boxes.py from a transliteration of ensemble-boxes; and a large input
 * (100 views x 300 boxes) checked for invariants. */
#include <time.h>

#include "test.h"
#include "detect/view_nms.h"
#include "tta/detect.h"

#define CASES "tests/data/detect/fuse/cases.txt"

static tta_box B(int view, int label, float score, float x1, float y1, float x2, float y2) {
    return (tta_box){x1, y1, x2, y2, score, label, view, 1};
}

static tta_fuse_options opts(tta_fuse_method m) {
    tta_fuse_options o;
    tta_fuse_options_default(&o, m);
    return o;
}

/* runs the fusion and reports a failure's message */
static int fuse(const tta_box *b, int n, int n_views, const double *w, const tta_fuse_options *o,
                tta_boxes *out) {
    tta_status st = tta_fuse_boxes(b, n, n_views, w, o, out);
    if (st != TTA_OK) fprintf(stderr, "  tta_fuse_boxes failed: %s\n", tta_last_error());
    return st == TTA_OK;
}

#define CHECK_BOX(bx, X1, Y1, X2, Y2, S, tol)                                                                \
    do {                                                                                                     \
        CHECK_NEAR((bx).x1, X1, tol);                                                                        \
        CHECK_NEAR((bx).y1, Y1, tol);                                                                        \
        CHECK_NEAR((bx).x2, X2, tol);                                                                        \
        CHECK_NEAR((bx).y2, Y2, tol);                                                                        \
        CHECK_NEAR((bx).score, S, tol);                                                                      \
    } while (0)

/* ---- options and names -------------------------------------------------------------------- */

TEST(defaults_follow_ensemble_boxes) {
    tta_fuse_options o = opts(TTA_FUSE_NMS);
    CHECK_EQ_INT(o.method, TTA_FUSE_NMS);
    CHECK_NEAR(o.iou_thr, 0.5, 0);
    o = opts(TTA_FUSE_SOFT_NMS);
    CHECK_NEAR(o.iou_thr, 0.5, 0);
    CHECK_NEAR(o.sigma, 0.5, 0);
    CHECK_NEAR(o.score_thr, 0.001f, 0);
    CHECK_EQ_INT(o.soft_kind, TTA_SOFT_NMS_GAUSSIAN);
    o = opts(TTA_FUSE_NMW);
    CHECK_NEAR(o.iou_thr, 0.55f, 0);
    CHECK_NEAR(o.skip_thr, 0, 0);
    o = opts(TTA_FUSE_WBF);
    CHECK_EQ_INT(o.method, TTA_FUSE_WBF);
    CHECK_NEAR(o.iou_thr, 0.55f, 0);
    CHECK_NEAR(o.skip_thr, 0, 0);
    CHECK_EQ_INT(o.conf_type, TTA_WBF_CONF_AVG);
    CHECK_EQ_INT(o.allows_overflow, 0);
    CHECK_EQ_INT(o.max_det, 0);
}

TEST(method_names_round_trip) {
    const tta_fuse_method ms[] = {TTA_FUSE_NMS, TTA_FUSE_SOFT_NMS, TTA_FUSE_NMW, TTA_FUSE_WBF};
    for (int i = 0; i < 4; i++) {
        tta_fuse_method m = (tta_fuse_method)-1;
        CHECK_EQ_INT(tta_fuse_method_parse(tta_fuse_method_name(ms[i]), &m, NULL), TTA_OK);
        CHECK_EQ_INT(m, ms[i]);
    }
    CHECK(!strcmp(tta_fuse_method_name(TTA_FUSE_SOFT_NMS), "soft-nms"));
    CHECK(!strcmp(tta_fuse_method_name((tta_fuse_method)42), "unknown"));
    tta_fuse_method m;
    tta_soft_nms_kind k = TTA_SOFT_NMS_LINEAR;
    CHECK_EQ_INT(tta_fuse_method_parse("soft-nms", &m, &k), TTA_OK);
    CHECK_EQ_INT(m, TTA_FUSE_SOFT_NMS);
    CHECK_EQ_INT(k, TTA_SOFT_NMS_GAUSSIAN);
    CHECK_EQ_INT(tta_fuse_method_parse("soft-nms-linear", &m, &k), TTA_OK);
    CHECK_EQ_INT(k, TTA_SOFT_NMS_LINEAR);
    CHECK_EQ_INT(tta_fuse_method_parse("soft-nms-gaussian", &m, &k), TTA_OK);
    CHECK_EQ_INT(k, TTA_SOFT_NMS_GAUSSIAN);
    k = TTA_SOFT_NMS_LINEAR;
    CHECK_EQ_INT(tta_fuse_method_parse("wbf", &m, &k), TTA_OK);
    CHECK_EQ_INT(m, TTA_FUSE_WBF);
    CHECK_EQ_INT(k, TTA_SOFT_NMS_LINEAR); /* untouched for other methods */
    CHECK_EQ_INT(tta_fuse_method_parse("WBF", &m, &k), TTA_ERR_INVALID_ARG);
    CHECK_STR_CONTAINS(tta_last_error(), "'WBF'");
    CHECK_STR_CONTAINS(tta_last_error(), "soft-nms-linear");
    CHECK_STR_CONTAINS(tta_last_error(), "nmw");
    CHECK_EQ_INT(tta_fuse_method_parse("", &m, &k), TTA_ERR_INVALID_ARG);
    CHECK_EQ_INT(tta_fuse_method_parse(NULL, &m, &k), TTA_ERR_INVALID_ARG);
}

TEST(conf_names_round_trip) {
    for (int i = 0; i <= TTA_WBF_CONF_ABSENT_MODEL_AWARE_AVG; i++) {
        tta_wbf_conf c = (tta_wbf_conf)-1;
        int ov = 1;
        CHECK_EQ_INT(tta_wbf_conf_parse(tta_wbf_conf_name((tta_wbf_conf)i), &c, &ov), TTA_OK);
        CHECK_EQ_INT(c, i);
        CHECK_EQ_INT(ov, 0);
    }
    tta_wbf_conf c;
    int ov = 0;
    CHECK_EQ_INT(tta_wbf_conf_parse("allows_overflow", &c, &ov), TTA_OK);
    CHECK_EQ_INT(c, TTA_WBF_CONF_AVG);
    CHECK_EQ_INT(ov, 1);
    CHECK(!strcmp(tta_wbf_conf_name(TTA_WBF_CONF_BOX_AND_MODEL_AVG), "box_and_model_avg"));
    CHECK(!strcmp(tta_wbf_conf_name((tta_wbf_conf)9), "unknown"));
    CHECK_EQ_INT(tta_wbf_conf_parse("mean", &c, &ov), TTA_ERR_INVALID_ARG);
    CHECK_STR_CONTAINS(tta_last_error(), "'mean'");
    CHECK_STR_CONTAINS(tta_last_error(), "absent_model_aware_avg");
    CHECK_STR_CONTAINS(tta_last_error(), "allows_overflow");
}

/* ---- WBF by hand -------------------------------------------------------------------------- */

/* Two views, IoU 0.8 (a 10x10 box and its top 10x8 part), weights 1:
 *   y2 = (0.9 * 10 + 0.6 * 8) / 1.5 = 13.8 / 1.5 = 9.2; conf = mean 0.75 * min(2, 2) / 2 = 0.75 */
TEST(wbf_two_views_weighted_mean) {
    tta_box in[] = {B(0, 0, 0.9f, 0, 0, 10, 10), B(1, 0, 0.6f, 0, 0, 10, 8)};
    tta_fuse_options o = opts(TTA_FUSE_WBF);
    tta_boxes out = {0};
    CHECK(fuse(in, 2, 2, NULL, &o, &out));
    CHECK_EQ_INT(out.n, 1);
    CHECK_BOX(out.box[0], 0, 0, 10, 9.2, 0.75, 1e-6);
    CHECK_EQ_INT(out.box[0].view, 0);
    CHECK_EQ_INT(out.box[0].support, 2);
    CHECK_EQ_INT(out.box[0].label, 0);
    /* weights (2, 1): scores 1.8 and 0.6; y2 = (18 + 4.8) / 2.4 = 9.5; conf = 1.2 * 2 / 3 = 0.8 */
    double w[] = {2, 1};
    CHECK(fuse(in, 2, 2, w, &o, &out));
    CHECK_EQ_INT(out.n, 1);
    CHECK_BOX(out.box[0], 0, 0, 10, 9.5, 0.8, 1e-6);
    /* a view's weight moves the box toward it: weights (1, 4): y2 = (9 + 19.2) / 3.3 */
    double w2[] = {1, 4};
    CHECK(fuse(in, 2, 2, w2, &o, &out));
    CHECK_NEAR(out.box[0].y2, 28.2 / 3.3, 1e-5);
    CHECK_EQ_INT(out.box[0].view, 1); /* 0.6 * 4 > 0.9 */
    /* IoU 0.8 is not above iou_thr 0.8f (0.800000012): two boxes, each alone scored 1/2 of its own */
    o.iou_thr = 0.8f;
    CHECK(fuse(in, 2, 2, NULL, &o, &out));
    CHECK_EQ_INT(out.n, 2);
    CHECK_NEAR(out.box[0].score, 0.45, 1e-7);
    CHECK_NEAR(out.box[1].score, 0.3, 1e-7);
    CHECK_EQ_INT(out.box[0].support, 1);
    o.iou_thr = 0.79f;
    CHECK(fuse(in, 2, 2, NULL, &o, &out));
    CHECK_EQ_INT(out.n, 1);
    tta_boxes_destroy(&out);
}

/* Three views, weights (2, 1, 1); view 0 gives two boxes, view 1 one, view 2 none:
 *   a (view 0, score 0.9 -> 1.8, 10x10), b (view 0, 0.5 -> 1.0, y2 9), c (view 1, 0.6 -> 0.6, y2 8).
 *   b joins a (IoU 0.9), fused y2 = 27 / 2.8 = 9.642857; c joins (IoU 80 / 96.43 = 0.83).
 *   y2 = (18 + 9 + 4.8) / 3.4 = 9.3529412; conf sum 3.4, 3 boxes, box weights 2 + 2 + 1 = 5,
 *   view weights present 2 + 1 = 3, absent 1, all 4.
 *     avg                    3.4 / 3 * min(3, 3) / 4     = 0.85
 *     max                    1.8 / max weight 2          = 0.9
 *     box_and_model_avg      3.4 / 3 * 3 / 5 * 3 / 4     = 0.51
 *     absent_model_aware_avg 3.4 / 3 * 3 / (5 + 1)       = 0.5666667 */
TEST(wbf_conf_types) {
    tta_box in[] = {B(1, 3, 0.6f, 0, 0, 10, 8), B(0, 3, 0.9f, 0, 0, 10, 10), B(0, 3, 0.5f, 0, 0, 10, 9)};
    double w[] = {2, 1, 1};
    const double want[] = {0.85, 0.9, 0.51, 3.4 / 6};
    tta_boxes out = {0};
    for (int ct = 0; ct < 4; ct++) {
        tta_fuse_options o = opts(TTA_FUSE_WBF);
        o.conf_type = (tta_wbf_conf)ct;
        CHECK(fuse(in, 3, 3, w, &o, &out));
        CHECK_EQ_INT(out.n, 1);
        if (out.n != 1) continue;
        CHECK_BOX(out.box[0], 0, 0, 10, 31.8 / 3.4, want[ct], 1e-6);
        CHECK_EQ_INT(out.box[0].support, 2);
        CHECK_EQ_INT(out.box[0].view, 0);
        CHECK_EQ_INT(out.box[0].label, 3);
    }
    tta_boxes_destroy(&out);
}

/* One view whose two boxes overlap: avg caps the rescale at min(1 view, 2 boxes) / 1, so
 * conf = mean 0.7; allows_overflow uses 2 boxes / 1: 1.4. */
TEST(wbf_allows_overflow) {
    tta_box in[] = {B(0, 0, 0.9f, 0, 0, 10, 10), B(0, 0, 0.5f, 0, 0, 10, 9)};
    tta_fuse_options o = opts(TTA_FUSE_WBF);
    tta_boxes out = {0};
    CHECK(fuse(in, 2, 1, NULL, &o, &out));
    CHECK_EQ_INT(out.n, 1);
    CHECK_NEAR(out.box[0].score, 0.7, 1e-6);
    CHECK_EQ_INT(out.box[0].support, 1);
    CHECK(tta_wbf_conf_parse("allows_overflow", &o.conf_type, &o.allows_overflow) == TTA_OK);
    CHECK(fuse(in, 2, 1, NULL, &o, &out));
    CHECK_NEAR(out.box[0].score, 1.4, 1e-6);
    CHECK_NEAR(out.box[0].y2, (9 + 4.5) / 1.4, 1e-5);
    tta_boxes_destroy(&out);
}

/* skip_thr compares the raw score, before the view weight (upstream's prefilter_boxes):
 * a 0.4 box of a view weighted 2 is dropped at skip 0.5 although its weighted score is 0.8. */
TEST(wbf_skip_before_weight) {
    tta_box in[] = {B(0, 0, 0.4f, 0, 0, 10, 10), B(1, 0, 0.6f, 20, 20, 30, 30)};
    double w[] = {2, 1};
    tta_fuse_options o = opts(TTA_FUSE_WBF);
    o.skip_thr = 0.5f;
    tta_boxes out = {0};
    CHECK(fuse(in, 2, 2, w, &o, &out));
    CHECK_EQ_INT(out.n, 1);
    CHECK_EQ_INT(out.box[0].view, 1);
    CHECK_NEAR(out.box[0].score, 0.6 * 1 / 3.0, 1e-7); /* 0.6 * min(2, 1) / 3 */
    o.skip_thr = 0.4f;                                 /* score < skip drops; equal stays */
    CHECK(fuse(in, 2, 2, w, &o, &out));
    CHECK_EQ_INT(out.n, 2);
    CHECK_NEAR(out.box[0].score, 0.8f / 3.0, 1e-7);
    tta_boxes_destroy(&out);
}

/* The next box matches the running fused box, not the cluster's first box. iou_thr 0.6:
 * a (0,0,10,10) 0.5; b (0,0,10,16) 0.45 joins it (IoU 100/160 = 0.625), fused y2 =
 * (5 + 7.2) / 0.95 = 12.84; c (0,0,10,18) 0.4 overlaps a by 100/180 = 0.556 only, but the fused
 * box by 128.4/180 = 0.71: it joins. y2 = (5 + 7.2 + 7.2) / 1.35; conf = 1.35 / 3 * 3 / 3 = 0.45. */
static const tta_box abc[] = {
    {0, 0, 10, 10, 0.5f, 0, 0, 1}, {0, 0, 10, 16, 0.45f, 0, 1, 1}, {0, 0, 10, 18, 0.4f, 0, 2, 1}};

TEST(wbf_matches_running_fused_box) {
    tta_fuse_options o = opts(TTA_FUSE_WBF);
    o.iou_thr = 0.6f;
    tta_boxes out = {0};
    CHECK(fuse(abc, 3, 3, NULL, &o, &out));
    CHECK_EQ_INT(out.n, 1);
    CHECK_BOX(out.box[0], 0, 0, 10, 19.4 / 1.35, 0.45, 1e-5);
    CHECK_EQ_INT(out.box[0].support, 3);
    tta_boxes_destroy(&out);
}

/* Equal boxes and equal scores: the first view wins the tie (deterministic order). */
TEST(wbf_ties_go_to_the_first_view) {
    tta_box in[] = {B(2, 0, 0.5f, 0, 0, 10, 10), B(1, 0, 0.5f, 0, 0, 10, 10), B(0, 0, 0.5f, 50, 0, 60, 10),
                    B(3, 0, 0.5f, 50, 0, 60, 10)};
    tta_fuse_options o = opts(TTA_FUSE_WBF);
    tta_boxes out = {0};
    CHECK(fuse(in, 4, 4, NULL, &o, &out));
    CHECK_EQ_INT(out.n, 2);
    /* both clusters score 0.5 * 2 / 4 = 0.25; order by class then position: the cluster started
       by view 0's box (the best-ranked box of the class) comes first */
    CHECK_EQ_INT(out.box[0].view, 0);
    CHECK_NEAR(out.box[0].x1, 50, 0);
    CHECK_EQ_INT(out.box[1].view, 1);
    CHECK_NEAR(out.box[1].x1, 0, 0);
    CHECK_NEAR(out.box[0].score, 0.25, 1e-7);
    tta_boxes_destroy(&out);
}

/* ---- NMS ----------------------------------------------------------------------------------- */

/* The second box covers the top y2/10 of the first: IoU = y2 / 10. At exactly 0.5 it stays
 * (upstream keeps ovr <= thr); at 0.50625 it goes and the kept box's support becomes 2. */
TEST(nms_threshold_edges) {
    tta_fuse_options o = opts(TTA_FUSE_NMS);
    tta_boxes out = {0};
    tta_box in[] = {B(0, 0, 0.9f, 0, 0, 10, 10), B(1, 0, 0.8f, 0, 0, 10, 5)};
    CHECK(fuse(in, 2, 2, NULL, &o, &out));
    CHECK_EQ_INT(out.n, 2);
    CHECK_EQ_INT(out.box[0].support, 1);
    in[1].y2 = 5.0625f;
    CHECK(fuse(in, 2, 2, NULL, &o, &out));
    CHECK_EQ_INT(out.n, 1);
    CHECK_BOX(out.box[0], 0, 0, 10, 10, 0.9f, 0);
    CHECK_EQ_INT(out.box[0].support, 2);
    CHECK_EQ_INT(out.box[0].view, 0);
    /* a suppressed box suppresses nothing: c overlaps b (IoU 0.8) but not a (0.4) */
    tta_box in3[] = {B(0, 0, 0.9f, 0, 0, 10, 10), B(1, 0, 0.8f, 0, 4, 10, 14), B(2, 0, 0.7f, 0, 6, 10, 16)};
    o.iou_thr = 0.55f; /* IoU(a, b) = 6/14 = 0.43: kept; IoU(b, c) = 8/12 = 0.67: c goes */
    CHECK(fuse(in3, 3, 3, NULL, &o, &out));
    CHECK_EQ_INT(out.n, 2);
    CHECK_NEAR(out.box[1].y1, 4, 0);
    CHECK_EQ_INT(out.box[1].support, 2);
    o.iou_thr = 0.4f; /* a suppresses b (0.43), c then only meets a (4/16 = 0.25): kept */
    CHECK(fuse(in3, 3, 3, NULL, &o, &out));
    CHECK_EQ_INT(out.n, 2);
    CHECK_NEAR(out.box[1].y1, 6, 0);
    CHECK_EQ_INT(out.box[0].support, 2);
    tta_boxes_destroy(&out);
}

/* nms_method: weights=None leaves scores alone; weights scale them by w / sum(w). */
TEST(nms_weights_scale_as_upstream) {
    tta_box in[] = {B(0, 0, 0.9f, 0, 0, 10, 10), B(1, 0, 0.6f, 20, 0, 30, 10)};
    tta_fuse_options o = opts(TTA_FUSE_NMS);
    tta_boxes out = {0};
    CHECK(fuse(in, 2, 2, NULL, &o, &out));
    CHECK_NEAR(out.box[0].score, 0.9f, 0);
    double ones[] = {1, 1}, w[] = {1, 3};
    CHECK(fuse(in, 2, 2, ones, &o, &out));
    CHECK_NEAR(out.box[0].score, 0.45, 1e-7);
    CHECK(fuse(in, 2, 2, w, &o, &out));
    CHECK_EQ_INT(out.n, 2);
    CHECK_NEAR(out.box[0].score, 0.6 * 3 / 4, 1e-7); /* view 1 now first */
    CHECK_EQ_INT(out.box[0].view, 1);
    CHECK_NEAR(out.box[1].score, 0.9 / 4, 1e-7);
    tta_boxes_destroy(&out);
}

/* ---- soft-NMS ----------------------------------------------------------------------------- */

/* a (0.9, 10x10) and b (0.8, top 6/10 of a, IoU 0.6). Gaussian: b's running score becomes
 * 0.8 * exp(-0.36 / 0.5) = 0.38940180; it survives score_thr 0.3893 and not 0.3895. Kept boxes
 * keep their undecayed score (upstream's nms_method returns scores_by_label[keep]). */
TEST(soft_nms_gaussian_decay) {
    tta_box in[] = {B(1, 0, 0.8f, 0, 0, 10, 6), B(0, 0, 0.9f, 0, 0, 10, 10)};
    tta_fuse_options o = opts(TTA_FUSE_SOFT_NMS);
    double decayed = 0.8f * exp(-0.36 / 0.5);
    CHECK_NEAR(decayed, 0.38940180, 1e-7);
    tta_boxes out = {0};
    o.score_thr = 0.3893f;
    CHECK(fuse(in, 2, 2, NULL, &o, &out));
    CHECK_EQ_INT(out.n, 2);
    CHECK_BOX(out.box[0], 0, 0, 10, 10, 0.9f, 0);
    CHECK_BOX(out.box[1], 0, 0, 10, 6, 0.8f, 0);
    CHECK_EQ_INT(out.box[0].support, 2); /* IoU 0.6 > iou_thr 0.5 */
    CHECK_EQ_INT(out.box[1].support, 1);
    o.score_thr = 0.3895f;
    CHECK(fuse(in, 2, 2, NULL, &o, &out));
    CHECK_EQ_INT(out.n, 1);
    CHECK_EQ_INT(out.box[0].view, 0);
    /* sigma 2: exp(-0.36 / 2) * 0.8 = 0.66826 */
    o.sigma = 2;
    o.score_thr = 0.668f;
    CHECK(fuse(in, 2, 2, NULL, &o, &out));
    CHECK_EQ_INT(out.n, 2);
    o.score_thr = 0.669f;
    CHECK(fuse(in, 2, 2, NULL, &o, &out));
    CHECK_EQ_INT(out.n, 1);
    /* Gaussian decays below iou_thr too: IoU 0.3 (b = top 3/10): 0.8 * exp(-0.09 / 0.5) = 0.66822 */
    in[0].y2 = 3;
    o.sigma = 0.5f;
    o.score_thr = 0.6681f;
    CHECK(fuse(in, 2, 2, NULL, &o, &out));
    CHECK_EQ_INT(out.n, 2);
    CHECK_EQ_INT(out.box[0].support, 1); /* IoU 0.3 is not above 0.5 */
    o.score_thr = 0.6683f;
    CHECK(fuse(in, 2, 2, NULL, &o, &out));
    CHECK_EQ_INT(out.n, 1);
    tta_boxes_destroy(&out);
}

/* Linear: above iou_thr the score is multiplied by 1 - IoU (0.8 * 0.4 = 0.32), at or below it
 * not at all. */
TEST(soft_nms_linear_decay) {
    tta_box in[] = {B(0, 0, 0.9f, 0, 0, 10, 10), B(1, 0, 0.8f, 0, 0, 10, 6)};
    tta_fuse_options o = opts(TTA_FUSE_SOFT_NMS);
    o.soft_kind = TTA_SOFT_NMS_LINEAR;
    tta_boxes out = {0};
    o.score_thr = 0.319f;
    CHECK(fuse(in, 2, 2, NULL, &o, &out));
    CHECK_EQ_INT(out.n, 2);
    o.score_thr = 0.321f;
    CHECK(fuse(in, 2, 2, NULL, &o, &out));
    CHECK_EQ_INT(out.n, 1);
    CHECK_EQ_INT(out.box[0].support, 2);
    in[1].y2 = 5; /* IoU 0.5, not above 0.5: no decay */
    o.score_thr = 0.7999f;
    CHECK(fuse(in, 2, 2, NULL, &o, &out));
    CHECK_EQ_INT(out.n, 2);
    CHECK_EQ_INT(out.box[0].support, 1);
    tta_boxes_destroy(&out);
}

/* Decay reorders: c (0.85) would come before b (0.8), but a decays c below b. Gaussian sigma 0.5:
 * a (0.9) 10x10; c covers 8/10 of a (IoU 0.8: 0.85 * exp(-1.28) = 0.2363);
 * b is far away (0.8). Output boxes above 0.3: a and b only. */
TEST(soft_nms_decay_changes_the_order) {
    tta_box in[] = {B(0, 0, 0.9f, 0, 0, 10, 10), B(1, 0, 0.85f, 0, 0, 10, 8), B(2, 0, 0.8f, 50, 50, 60, 60)};
    tta_fuse_options o = opts(TTA_FUSE_SOFT_NMS);
    o.score_thr = 0.3f;
    tta_boxes out = {0};
    CHECK(fuse(in, 3, 3, NULL, &o, &out));
    CHECK_EQ_INT(out.n, 2);
    CHECK_EQ_INT(out.box[1].view, 2);
    o.score_thr = 0.2f;
    CHECK(fuse(in, 3, 3, NULL, &o, &out));
    CHECK_EQ_INT(out.n, 3);
    CHECK_NEAR(out.box[1].score, 0.85f, 0); /* undecayed, sorted by it */
    tta_boxes_destroy(&out);
}

/* ---- NMW ------------------------------------------------------------------------------------ */

/* a (view 0, 0.9, 10x10), b (view 1, 0.6, top 8/10, IoU 0.8); weights NULL = (1, 1):
 * upstream scales scores by w / sum(w) (0.45, 0.3) and again by w in its prefilter; b's weight is
 * 0.3 * IoU 0.8 = 0.24, a's 0.45 * 1: y2 = (4.5 + 1.92) / 0.69 = 9.3043478; score 0.45 (a's). */
TEST(nmw_iou_score_weights) {
    tta_box in[] = {B(0, 0, 0.9f, 0, 0, 10, 10), B(1, 0, 0.6f, 0, 0, 10, 8)};
    tta_fuse_options o = opts(TTA_FUSE_NMW);
    tta_boxes out = {0};
    CHECK(fuse(in, 2, 2, NULL, &o, &out));
    CHECK_EQ_INT(out.n, 1);
    CHECK_BOX(out.box[0], 0, 0, 10, 6.42 / 0.69, 0.45, 1e-6);
    CHECK_EQ_INT(out.box[0].support, 2);
    CHECK_EQ_INT(out.box[0].view, 0);
    /* weights (1, 3): scores 0.9 * 1 / 4 * 1 = 0.225 and 0.6 * 3 / 4 * 3 = 1.35: b leads;
       a's IoU with b is 0.8: y2 = (1.35 * 8 + 0.225 * 0.8 * 10) / (1.35 + 0.18) */
    double w[] = {1, 3};
    CHECK(fuse(in, 2, 2, w, &o, &out));
    CHECK_EQ_INT(out.n, 1);
    CHECK_BOX(out.box[0], 0, 0, 10, (10.8 + 1.8) / 1.53, 1.35, 1e-5);
    CHECK_EQ_INT(out.box[0].view, 1);
    /* NMW's skip_thr compares the score after the first scaling: 0.225 < 0.3 drops a */
    o.skip_thr = 0.3f;
    CHECK(fuse(in, 2, 2, w, &o, &out));
    CHECK_EQ_INT(out.n, 1);
    CHECK_BOX(out.box[0], 0, 0, 10, 8, 1.35, 1e-6);
    CHECK_EQ_INT(out.box[0].support, 1);
    tta_boxes_destroy(&out);
}

/* NMW matches against the cluster's first box, not a fused one: with the boxes of
 * wbf_matches_running_fused_box, c (IoU 0.556 with a) starts its own cluster at iou_thr 0.6. */
TEST(nmw_matches_the_best_box) {
    tta_fuse_options o = opts(TTA_FUSE_NMW);
    o.iou_thr = 0.6f;
    tta_boxes out = {0};
    CHECK(fuse(abc, 3, 3, NULL, &o, &out));
    CHECK_EQ_INT(out.n, 2);
    CHECK_EQ_INT(out.box[0].support, 2);
    CHECK_EQ_INT(out.box[1].support, 1);
    CHECK_EQ_INT(out.box[1].view, 2);
    CHECK_BOX(out.box[1], 0, 0, 10, 18, 0.4 / 3, 1e-6);
    /* a's cluster: weights 0.5/3 * 1 and 0.45/3 * 0.625: y2 = (10 * 0.5 + 16 * 0.28125) / 0.78125 */
    CHECK_NEAR(out.box[0].y2, (5 + 4.5) / 0.78125, 1e-5);
    CHECK_NEAR(out.box[0].score, 0.5 / 3, 1e-7);
    o.iou_thr = 0.5f; /* now c (0.556) joins a too */
    CHECK(fuse(abc, 3, 3, NULL, &o, &out));
    CHECK_EQ_INT(out.n, 1);
    CHECK_EQ_INT(out.box[0].support, 3);
    tta_boxes_destroy(&out);
}

/* ---- behaviour common to every method ------------------------------------------------------- */

static const tta_fuse_method all_methods[] = {TTA_FUSE_NMS, TTA_FUSE_SOFT_NMS, TTA_FUSE_NMW, TTA_FUSE_WBF};

/* The same boxes under two classes never meet. */
TEST(classes_are_independent) {
    tta_box in[] = {B(0, 0, 0.9f, 0, 0, 10, 10), B(1, 1, 0.8f, 0, 0, 10, 10), B(1, 0, 0.7f, 0, 0, 10, 10),
                    B(0, 1, 0.6f, 0, 0, 10, 10)};
    tta_boxes out = {0};
    for (int i = 0; i < 4; i++) {
        tta_fuse_options o = opts(all_methods[i]);
        CHECK(fuse(in, 4, 2, NULL, &o, &out));
        int n0 = 0, n1 = 0;
        for (int k = 0; k < out.n; k++)
            n0 += out.box[k].label == 0, n1 += out.box[k].label == 1;
        if (all_methods[i] == TTA_FUSE_SOFT_NMS) { /* IoU 1: exp(-2) * score stays above 0.001 */
            CHECK_EQ_INT(n0, 2);
            CHECK_EQ_INT(n1, 2);
        } else {
            CHECK_EQ_INT(n0, 1);
            CHECK_EQ_INT(n1, 1);
        }
        CHECK_EQ_INT(out.box[0].label, 0);
        CHECK_EQ_INT(out.box[0].support, 2);
    }
    tta_boxes_destroy(&out);
}

/* max_det keeps the best; 0 keeps all; the list is sorted best first. */
TEST(max_det_and_order) {
    tta_box in[6];
    for (int i = 0; i < 6; i++)
        in[i] = B(i % 2, i % 3, 0.1f + 0.1f * (float)((i * 5) % 6), 20.0f * i, 0, 20.0f * i + 10, 10);
    tta_boxes out = {0};
    for (int m = 0; m < 4; m++) {
        tta_fuse_options o = opts(all_methods[m]);
        CHECK(fuse(in, 6, 2, NULL, &o, &out));
        CHECK_EQ_INT(out.n, 6);
        for (int k = 1; k < out.n; k++)
            CHECK(out.box[k - 1].score >= out.box[k].score);
        float third = out.box[2].score;
        o.max_det = 3;
        CHECK(fuse(in, 6, 2, NULL, &o, &out));
        CHECK_EQ_INT(out.n, 3);
        CHECK_NEAR(out.box[2].score, third, 0);
        o.max_det = 100;
        CHECK(fuse(in, 6, 2, NULL, &o, &out));
        CHECK_EQ_INT(out.n, 6);
    }
    tta_boxes_destroy(&out);
}

/* Support counts distinct views: two boxes of one view plus one of another give 2, not 3. */
TEST(support_counts_distinct_views) {
    tta_box in[] = {B(0, 0, 0.9f, 0, 0, 10, 10), B(0, 0, 0.8f, 0, 0, 10, 9.5f), B(2, 0, 0.7f, 0, 0, 10, 9),
                    B(1, 0, 0.6f, 40, 40, 50, 50)};
    tta_boxes out = {0};
    for (int m = 0; m < 4; m++) {
        tta_fuse_options o = opts(all_methods[m]);
        CHECK(fuse(in, 4, 3, NULL, &o, &out));
        CHECK(out.n >= 2);
        CHECK_EQ_INT(out.box[0].support, 2);
        CHECK_EQ_INT(out.box[0].view, 0);
        for (int k = 0; k < out.n; k++)
            if (out.box[k].x1 == 40) CHECK_EQ_INT(out.box[k].support, 1);
    }
    tta_boxes_destroy(&out);
}

/* Zero-area boxes are skipped (not an error); empty input gives an empty list; out is cleared. */
TEST(zero_area_and_empty) {
    tta_box in[] = {B(0, 0, 0.99f, 5, 5, 5, 10), B(1, 0, 0.5f, 0, 0, 10, 10), B(0, 0, 0.99f, 0, 3, 10, 3)};
    tta_boxes out = {0};
    for (int m = 0; m < 4; m++) {
        tta_fuse_options o = opts(all_methods[m]);
        CHECK(fuse(in, 3, 2, NULL, &o, &out));
        CHECK_EQ_INT(out.n, 1);
        CHECK_EQ_INT(out.box[0].view, 1);
        CHECK_EQ_INT(out.box[0].support, 1);
        CHECK(fuse(in, 0, 2, NULL, &o, &out));
        CHECK_EQ_INT(out.n, 0);
        CHECK(fuse(NULL, 0, 1, NULL, &o, &out));
        CHECK_EQ_INT(out.n, 0);
        CHECK(fuse(in, 1, 2, NULL, &o, &out));
        CHECK_EQ_INT(out.n, 0);
    }
    tta_boxes_destroy(&out);
}

static void check_fails(const tta_box *in, int n, int n_views, const double *w, const tta_fuse_options *o,
                        const char *what) {
    tta_boxes out = {0};
    tta_box junk = B(0, 0, 1, 0, 0, 1, 1);
    tta_boxes_push(&out, &junk);
    CHECK_EQ_INT(tta_fuse_boxes(in, n, n_views, w, o, &out), TTA_ERR_INVALID_ARG);
    CHECK_STR_CONTAINS(tta_last_error(), what);
    CHECK_EQ_INT(out.n, 0);
    tta_boxes_destroy(&out);
}

TEST(malformed_input_is_refused) {
    tta_box good[] = {B(0, 0, 0.9f, 0, 0, 10, 10), B(1, 0, 0.8f, 0, 0, 10, 10), B(1, 0, 0.7f, 0, 0, 10, 10)};
    tta_box in[3];
    double w[] = {1, 1};
    for (int m = 0; m < 4; m++) {
        tta_fuse_options o = opts(all_methods[m]);
        memcpy(in, good, sizeof in);
        in[2].score = NAN;
        check_fails(in, 3, 2, NULL, &o, "box 2");
        memcpy(in, good, sizeof in);
        in[1].x2 = NAN;
        check_fails(in, 3, 2, NULL, &o, "box 1");
        memcpy(in, good, sizeof in);
        in[1].y1 = INFINITY;
        check_fails(in, 3, 2, NULL, &o, "box 1");
        memcpy(in, good, sizeof in);
        in[2].x1 = 11;
        check_fails(in, 3, 2, NULL, &o, "box 2 is inverted");
        memcpy(in, good, sizeof in);
        in[0].y2 = -1;
        check_fails(in, 3, 2, NULL, &o, "box 0 is inverted");
        memcpy(in, good, sizeof in);
        in[2].view = 2;
        check_fails(in, 3, 2, NULL, &o, "box 2 has view 2 outside [0, 2)");
        in[2].view = -1;
        check_fails(in, 3, 2, NULL, &o, "box 2 has view -1");
        /* a malformed box is refused even when skip_thr would drop it */
        memcpy(in, good, sizeof in);
        in[2].x2 = -5;
        o.skip_thr = 0.95f;
        check_fails(in, 3, 2, NULL, &o, "box 2");
        o.skip_thr = 0;
        w[1] = 0;
        check_fails(good, 3, 2, w, &o, "weight 0 of view 1");
        w[1] = -2;
        check_fails(good, 3, 2, w, &o, "view 1");
        w[1] = NAN;
        check_fails(good, 3, 2, w, &o, "view 1");
        w[1] = 1;
        check_fails(good, 3, 0, w, &o, "n_views");
        check_fails(NULL, 3, 2, w, &o, "box array");
        check_fails(good, -1, 2, w, &o, "box array");
        check_fails(good, 3, 2, w, NULL, "options");
        CHECK_EQ_INT(tta_fuse_boxes(good, 3, 2, NULL, &o, NULL), TTA_ERR_INVALID_ARG);
        o.max_det = -1;
        check_fails(good, 3, 2, NULL, &o, "max_det");
        o.max_det = 0;
        o.iou_thr = NAN;
        check_fails(good, 3, 2, NULL, &o, "iou_thr");
    }
    tta_fuse_options o = opts(TTA_FUSE_SOFT_NMS);
    o.sigma = 0;
    check_fails(good, 3, 2, NULL, &o, "sigma");
    o = opts(TTA_FUSE_WBF);
    o.conf_type = (tta_wbf_conf)7;
    check_fails(good, 3, 2, NULL, &o, "conf_type");
    o.method = (tta_fuse_method)9;
    check_fails(good, 3, 2, NULL, &o, "method");
}

/* ---- the reference vectors of scripts/ref_ensemble_boxes.py ---------------------------------- */

typedef struct ref_case {
    char name[128];
    tta_fuse_options o;
    int n_views, has_weights;
    double weights[64];
    tta_box *in, *want;
    int n_in, n_want;
} ref_case;

static int read_line(FILE *f, char *buf, int size) {
    while (fgets(buf, size, f)) {
        if (buf[0] == '#' || buf[0] == '\n') continue;
        buf[strcspn(buf, "\n")] = 0;
        return 1;
    }
    return 0;
}

/* Reads the next case; 0 at the end of the file, -1 on a malformed file. */
static int read_case(FILE *f, ref_case *c) {
    char line[1024], word[64];
    memset(c, 0, sizeof *c);
    if (!read_line(f, line, sizeof line)) return 0;
    if (sscanf(line, "case %127s", c->name) != 1) return -1;
    tta_fuse_options_default(&c->o, TTA_FUSE_WBF);
    while (read_line(f, line, sizeof line)) {
        double v;
        if (sscanf(line, "method %63s", word) == 1) {
            if (tta_fuse_method_parse(word, &c->o.method, &c->o.soft_kind) != TTA_OK) return -1;
        } else if (sscanf(line, "iou_thr %lf", &v) == 1) {
            c->o.iou_thr = (float)v;
        } else if (sscanf(line, "skip_thr %lf", &v) == 1) {
            c->o.skip_thr = (float)v;
        } else if (sscanf(line, "sigma %lf", &v) == 1) {
            c->o.sigma = (float)v;
        } else if (sscanf(line, "score_thr %lf", &v) == 1) {
            c->o.score_thr = (float)v;
        } else if (sscanf(line, "conf_type %63s", word) == 1) {
            if (tta_wbf_conf_parse(word, &c->o.conf_type, NULL) != TTA_OK) return -1;
        } else if (sscanf(line, "allows_overflow %d", &c->o.allows_overflow) == 1) {
        } else if (sscanf(line, "max_det %d", &c->o.max_det) == 1) {
        } else if (sscanf(line, "views %d", &c->n_views) == 1) {
            if (c->n_views < 1 || c->n_views > 64) return -1;
        } else if (!strncmp(line, "weights ", 8)) {
            if (strcmp(line + 8, "none")) {
                char *p = line + 8;
                for (int i = 0; i < c->n_views; i++)
                    c->weights[i] = strtod(p, &p);
                c->has_weights = 1;
            }
        } else if (sscanf(line, "boxes %d", &c->n_in) == 1) {
            c->in = calloc((size_t)c->n_in + 1, sizeof *c->in);
            for (int i = 0; i < c->n_in; i++) {
                double s, x1, y1, x2, y2;
                tta_box *b = &c->in[i];
                if (!read_line(f, line, sizeof line) || sscanf(line, "%d %d %lf %lf %lf %lf %lf", &b->view,
                                                               &b->label, &s, &x1, &y1, &x2, &y2) != 7)
                    return -1;
                *b = B(b->view, b->label, (float)s, (float)x1, (float)y1, (float)x2, (float)y2);
            }
        } else if (sscanf(line, "expected %d", &c->n_want) == 1) {
            c->want = calloc((size_t)c->n_want + 1, sizeof *c->want);
            for (int i = 0; i < c->n_want; i++) {
                double s, x1, y1, x2, y2;
                tta_box *b = &c->want[i];
                if (!read_line(f, line, sizeof line) ||
                    sscanf(line, "%d %lf %lf %lf %lf %lf %d %d", &b->label, &s, &x1, &y1, &x2, &y2, &b->view,
                           &b->support) != 8)
                    return -1;
                b->score = (float)s, b->x1 = (float)x1, b->y1 = (float)y1, b->x2 = (float)x2,
                b->y2 = (float)y2;
            }
        } else if (!strcmp(line, "end")) {
            return c->in && c->want ? 1 : -1;
        } else {
            return -1;
        }
    }
    return -1;
}

static int near_rel(double a, double b) { return fabs(a - b) <= 2e-6 * fabs(b) + 2e-6; }

TEST(reference_vectors_of_ensemble_boxes) {
    FILE *f = fopen(CASES, "r");
    CHECK(f != NULL);
    if (!f) return;
    int n_cases = 0, methods_seen[5] = {0}, conf_seen[4] = {0};
    ref_case c;
    int r;
    tta_boxes out = {0};
    while ((r = read_case(f, &c)) == 1) {
        n_cases++;
        int linear = c.o.method == TTA_FUSE_SOFT_NMS && c.o.soft_kind == TTA_SOFT_NMS_LINEAR;
        methods_seen[linear ? 4 : c.o.method]++;
        if (c.o.method == TTA_FUSE_WBF) conf_seen[c.o.conf_type]++;
        int ok = fuse(c.in, c.n_in, c.n_views, c.has_weights ? c.weights : NULL, &c.o, &out);
        CHECK(ok);
        int bad = !ok || out.n != c.n_want;
        for (int i = 0; ok && i < out.n && i < c.n_want; i++) {
            const tta_box *g = &out.box[i], *e = &c.want[i];
            if (g->label != e->label || g->view != e->view || g->support != e->support ||
                !near_rel(g->score, e->score) || !near_rel(g->x1, e->x1) || !near_rel(g->y1, e->y1) ||
                !near_rel(g->x2, e->x2) || !near_rel(g->y2, e->y2)) {
                fprintf(stderr,
                        "  %s: box %d: got label %d score %.9g (%.7g %.7g %.7g %.7g) view %d support %d,\n"
                        "  %*s expected label %d score %.9g (%.7g %.7g %.7g %.7g) view %d support %d\n",
                        c.name, i, g->label, g->score, g->x1, g->y1, g->x2, g->y2, g->view, g->support,
                        (int)strlen(c.name), "", e->label, e->score, e->x1, e->y1, e->x2, e->y2, e->view,
                        e->support);
                bad = 1;
                break;
            }
        }
        if (bad) {
            fprintf(stderr, "  case %s: %d boxes, expected %d\n", c.name, out.n, c.n_want);
            test_failures_in_case++;
        }
        free(c.in);
        free(c.want);
    }
    fclose(f);
    CHECK_EQ_INT(r, 0);
    CHECK(n_cases >= 25);
    for (int i = 0; i < 5; i++)
        CHECK(methods_seen[i] >= 2);
    for (int i = 0; i < 4; i++)
        CHECK(conf_seen[i] >= 2);
    tta_boxes_destroy(&out);
}

/* ---- a large input: 100 views x 300 boxes, 10 classes ---------------------------------------- */

static unsigned rng_next(unsigned *s) {
    *s = *s * 1664525u + 1013904223u;
    return *s >> 8;
}
static float rng_unit(unsigned *s) { return (float)(rng_next(s) & 0xffff) / 65536.0f; }

TEST(large_input_invariants) {
    enum { VIEWS = 100, PER_VIEW = 300, CLASSES = 10, OBJECTS = 60 };
    float obj[OBJECTS][5];
    unsigned seed = 12345;
    for (int k = 0; k < OBJECTS; k++) {
        float w = 10 + 90 * rng_unit(&seed), h = 10 + 90 * rng_unit(&seed);
        obj[k][0] = (640 - w) * rng_unit(&seed);
        obj[k][1] = (480 - h) * rng_unit(&seed);
        obj[k][2] = obj[k][0] + w;
        obj[k][3] = obj[k][1] + h;
        obj[k][4] = (float)(k % CLASSES);
    }
    int n = VIEWS * PER_VIEW;
    tta_box *in = malloc(sizeof *in * (size_t)n);
    double w[VIEWS];
    for (int v = 0; v < VIEWS; v++) {
        w[v] = 0.5 + rng_unit(&seed);
        for (int i = 0; i < PER_VIEW; i++) {
            tta_box *b = &in[v * PER_VIEW + i];
            if (i < 2 * OBJECTS) { /* two jittered boxes per object */
                const float *o = obj[i / 2];
                float j[4];
                for (int q = 0; q < 4; q++)
                    j[q] = 6 * (rng_unit(&seed) - 0.5f);
                *b = B(v, (int)o[4], 0.05f + 0.95f * rng_unit(&seed), o[0] + j[0], o[1] + j[1],
                       o[2] + j[2] + 7, o[3] + j[3] + 7);
            } else { /* clutter */
                float x = 600 * rng_unit(&seed), y = 440 * rng_unit(&seed);
                *b = B(v, (int)(rng_next(&seed) % CLASSES), 0.4f * rng_unit(&seed), x, y,
                       x + 5 + 35 * rng_unit(&seed), y + 5 + 35 * rng_unit(&seed));
            }
        }
    }
    tta_boxes out = {0};
    const struct {
        tta_fuse_method m;
        tta_soft_nms_kind k;
        tta_wbf_conf c;
    } runs[] = {{TTA_FUSE_NMS, 0, 0},
                {TTA_FUSE_SOFT_NMS, TTA_SOFT_NMS_GAUSSIAN, 0},
                {TTA_FUSE_SOFT_NMS, TTA_SOFT_NMS_LINEAR, 0},
                {TTA_FUSE_NMW, 0, 0},
                {TTA_FUSE_WBF, 0, TTA_WBF_CONF_AVG},
                {TTA_FUSE_WBF, 0, TTA_WBF_CONF_ABSENT_MODEL_AWARE_AVG}};
    for (size_t r = 0; r < sizeof runs / sizeof runs[0]; r++) {
        tta_fuse_options o = opts(runs[r].m);
        o.soft_kind = runs[r].k;
        o.conf_type = runs[r].c;
        clock_t t0 = clock();
        CHECK(fuse(in, n, VIEWS, w, &o, &out));
        double secs = (double)(clock() - t0) / CLOCKS_PER_SEC;
        CHECK(out.n > 0 && out.n <= n);
        int bad = 0, max_support = 0;
        for (int i = 0; i < out.n; i++) {
            const tta_box *b = &out.box[i];
            bad += isnan(b->score) || isnan(b->x1) || isnan(b->y1) || isnan(b->x2) || isnan(b->y2);
            bad += b->x2 < b->x1 || b->y2 < b->y1;
            bad += b->support < 1 || b->support > VIEWS || b->view < 0 || b->view >= VIEWS;
            bad += b->label < 0 || b->label >= CLASSES;
            bad += i > 0 && out.box[i - 1].score < b->score;
            if (b->support > max_support) max_support = b->support;
        }
        CHECK_EQ_INT(bad, 0);
        CHECK(max_support > VIEWS / 2); /* the objects are seen by most views */
        if (getenv("TTA_TEST_VERBOSE"))
            fprintf(stderr, "  %s: %d boxes in %.3f s\n", tta_fuse_method_name(runs[r].m), out.n, secs);
        o.max_det = 100;
        CHECK(fuse(in, n, VIEWS, w, &o, &out));
        CHECK_EQ_INT(out.n, 100);
    }
    tta_boxes_destroy(&out);
    free(in);
}

/* ---- against an all-pairs oracle ------------------------------------------------------------ */

/* The straightforward implementation the indexed one must match bit for bit: per class, by
 * score (soft-NMS: by view and position), every box against every kept box / cluster / later
 * box, then a stable sort of the result by score. */
typedef struct oracle_item {
    double score, x1, y1, x2, y2;
    int label, view, index;
} oracle_item;

static double oracle_iou(double ax1, double ay1, double ax2, double ay2, double bx1, double by1, double bx2,
                         double by2) {
    double xa = ax1 > bx1 ? ax1 : bx1, ya = ay1 > by1 ? ay1 : by1;
    double xb = ax2 < bx2 ? ax2 : bx2, yb = ay2 < by2 ? ay2 : by2;
    double iw = xb - xa, ih = yb - ya;
    if (iw <= 0 || ih <= 0) return 0.0;
    double inter = iw * ih;
    double area_a = (ax2 - ax1) * (ay2 - ay1), area_b = (bx2 - bx1) * (by2 - by1);
    return inter / (area_a + area_b - inter);
}
#define OIOU(a, b) oracle_iou((a)->x1, (a)->y1, (a)->x2, (a)->y2, (b)->x1, (b)->y1, (b)->x2, (b)->y2)

static int oracle_by_score(const void *pa, const void *pb) {
    const oracle_item *a = pa, *b = pb;
    if (a->label != b->label) return a->label < b->label ? -1 : 1;
    if (a->score != b->score) return a->score > b->score ? -1 : 1;
    if (a->view != b->view) return a->view < b->view ? -1 : 1;
    return (a->index > b->index) - (a->index < b->index);
}

static int oracle_by_input(const void *pa, const void *pb) {
    const oracle_item *a = pa, *b = pb;
    if (a->label != b->label) return a->label < b->label ? -1 : 1;
    if (a->view != b->view) return a->view < b->view ? -1 : 1;
    return (a->index > b->index) - (a->index < b->index);
}

typedef struct oracle {
    const tta_fuse_options *o;
    int n_views;
    const double *w;
    double w_sum, w_max;
    tta_box *out;
    int n_out;
} oracle;

static double ow(const oracle *r, int v) { return r->w ? r->w[v] : 1.0; }

static void oemit(oracle *r, double x1, double y1, double x2, double y2, double s, int label, int view, int sup) {
    r->out[r->n_out++] = (tta_box){(float)x1, (float)y1, (float)x2, (float)y2, (float)s, label, view, sup};
}

/* distinct views among views[0..n) */
static int odistinct(const int *views, int n, int n_views, double *present, const oracle *r, int *seen) {
    memset(seen, 0, sizeof(int) * (size_t)n_views);
    int k = 0;
    if (present) *present = 0;
    for (int i = 0; i < n; i++)
        if (!seen[views[i]]) {
            seen[views[i]] = 1;
            k++;
            if (present) *present += ow(r, views[i]);
        }
    return k;
}

static void oracle_class(oracle *r, oracle_item *it, int n, int *vs, int *seen) {
    const tta_fuse_options *o = r->o;
    double thr = o->iou_thr;
    if (o->method == TTA_FUSE_NMS) {
        char *alive = malloc((size_t)n + 1);
        memset(alive, 1, (size_t)n + 1);
        for (int i = 0; i < n; i++) {
            if (!alive[i]) continue;
            int nv = 0;
            vs[nv++] = it[i].view;
            for (int j = i + 1; j < n; j++)
                if (alive[j] && OIOU(&it[i], &it[j]) > thr) alive[j] = 0, vs[nv++] = it[j].view;
            oemit(r, it[i].x1, it[i].y1, it[i].x2, it[i].y2, it[i].score, it[i].label, it[i].view,
                  odistinct(vs, nv, r->n_views, NULL, r, seen));
        }
        free(alive);
    } else if (o->method == TTA_FUSE_SOFT_NMS) {
        double *sc = malloc(sizeof(double) * ((size_t)n + 1));
        int *perm = malloc(sizeof(int) * ((size_t)n + 1)), *sup = malloc(sizeof(int) * ((size_t)n + 1));
        for (int k = 0; k < n; k++)
            perm[k] = k, sc[k] = it[k].score;
        for (int i = 0; i < n; i++) {
            if (i != n - 1) {
                int mp = i + 1;
                for (int j = i + 2; j < n; j++)
                    if (sc[j] > sc[mp]) mp = j;
                if (sc[i] < sc[mp]) {
                    int tp = perm[i];
                    double ts = sc[i];
                    perm[i] = perm[mp], sc[i] = sc[mp], perm[mp] = tp, sc[mp] = ts;
                }
            }
            const oracle_item *a = &it[perm[i]];
            int nv = 0;
            vs[nv++] = a->view;
            for (int j = i + 1; j < n; j++) {
                const oracle_item *b = &it[perm[j]];
                double ovr = OIOU(a, b), wt;
                if (o->soft_kind == TTA_SOFT_NMS_LINEAR) wt = ovr > thr ? 1.0 - ovr : 1.0;
                else wt = exp(-(ovr * ovr) / o->sigma);
                sc[j] = wt * sc[j];
                if (ovr > thr) vs[nv++] = b->view;
            }
            sup[i] = odistinct(vs, nv, r->n_views, NULL, r, seen);
        }
        for (int i = 0; i < n; i++)
            if (sc[i] > o->score_thr) {
                const oracle_item *a = &it[perm[i]];
                oemit(r, a->x1, a->y1, a->x2, a->y2, a->score, a->label, a->view, sup[i]);
            }
        free(sc), free(perm), free(sup);
    } else { /* NMW, WBF: clusters, recomputed from their members */
        int *cl = malloc(sizeof(int) * ((size_t)n + 1)), *first = malloc(sizeof(int) * ((size_t)n + 1));
        double *fb = malloc(sizeof(double) * 4 * ((size_t)n + 1));
        int ncl = 0;
        for (int j = 0; j < n; j++) {
            int best = -1;
            double bi = thr;
            for (int k = 0; k < ncl; k++) {
                double iou = o->method == TTA_FUSE_NMW
                                 ? OIOU(&it[first[k]], &it[j])
                                 : oracle_iou(fb[4 * k], fb[4 * k + 1], fb[4 * k + 2], fb[4 * k + 3], it[j].x1,
                                              it[j].y1, it[j].x2, it[j].y2);
                if (iou > bi) best = k, bi = iou;
            }
            if (best < 0) best = ncl, first[ncl++] = j;
            cl[j] = best;
            if (o->method == TTA_FUSE_WBF) { /* running sums in member order */
                double s = 0, sx1 = 0, sy1 = 0, sx2 = 0, sy2 = 0;
                int cnt = 0;
                for (int q = 0; q <= j; q++)
                    if (cl[q] == best) {
                        s += it[q].score, sx1 += it[q].score * it[q].x1, sy1 += it[q].score * it[q].y1;
                        sx2 += it[q].score * it[q].x2, sy2 += it[q].score * it[q].y2, cnt++;
                    }
                if (cnt == 1) fb[4 * best] = it[j].x1, fb[4 * best + 1] = it[j].y1, fb[4 * best + 2] = it[j].x2,
                              fb[4 * best + 3] = it[j].y2;
                else fb[4 * best] = sx1 / s, fb[4 * best + 1] = sy1 / s, fb[4 * best + 2] = sx2 / s,
                     fb[4 * best + 3] = sy2 / s;
            }
        }
        for (int k = 0; k < ncl; k++) {
            const oracle_item *h = &it[first[k]];
            int nv = 0, cnt = 0;
            double conf = 0, x1 = 0, y1 = 0, x2 = 0, y2 = 0, mx = -INFINITY, wsum = 0;
            for (int j = first[k]; j < n; j++) {
                if (cl[j] != k) continue;
                const oracle_item *b = &it[j];
                vs[nv++] = b->view;
                cnt++;
                if (o->method == TTA_FUSE_NMW) {
                    double wt = b->score * OIOU(b, h);
                    x1 += wt * b->x1, y1 += wt * b->y1, x2 += wt * b->x2, y2 += wt * b->y2, conf += wt;
                } else {
                    conf += b->score;
                    if (b->score > mx) mx = b->score;
                    wsum += ow(r, b->view);
                }
            }
            double present;
            int support = odistinct(vs, nv, r->n_views, &present, r, seen);
            if (o->method == TTA_FUSE_NMW) {
                oemit(r, x1 / conf, y1 / conf, x2 / conf, y2 / conf, h->score, h->label, h->view, support);
                continue;
            }
            double mean = conf / cnt, c;
            switch (o->conf_type) {
            case TTA_WBF_CONF_BOX_AND_MODEL_AVG: c = mean * cnt / wsum * present / r->w_sum; break;
            case TTA_WBF_CONF_ABSENT_MODEL_AWARE_AVG: {
                double absent = 0;
                for (int v = 0; v < r->n_views; v++)
                    if (!seen[v]) absent += ow(r, v);
                c = mean * cnt / (wsum + absent);
                break;
            }
            case TTA_WBF_CONF_MAX: c = mx / r->w_max; break;
            default:
                c = o->allows_overflow ? mean * cnt / r->w_sum
                                       : mean * (cnt < r->n_views ? cnt : r->n_views) / r->w_sum;
            }
            oemit(r, fb[4 * k], fb[4 * k + 1], fb[4 * k + 2], fb[4 * k + 3], c, h->label, h->view, support);
        }
        free(cl), free(first), free(fb);
    }
}

/* returns the number of boxes written to out (room for n) */
static int oracle_fuse(const tta_box *bx, int n, int n_views, const double *w, const tta_fuse_options *o,
                       tta_box *out) {
    oracle r = {o, n_views, w, 0, 0, out, 0};
    for (int v = 0; v < n_views; v++) {
        r.w_sum += ow(&r, v);
        if (ow(&r, v) > r.w_max) r.w_max = ow(&r, v);
    }
    oracle_item *it = malloc(sizeof *it * ((size_t)n + 1));
    int m = 0;
    for (int i = 0; i < n; i++) {
        const tta_box *b = &bx[i];
        double s = b->score, wv = ow(&r, b->view);
        if ((double)(b->x2 - b->x1) * (double)(b->y2 - b->y1) == 0.0) continue;
        if (o->method == TTA_FUSE_NMW) {
            s = s * wv / r.w_sum;
            if (s < o->skip_thr) continue;
            s *= wv;
        } else {
            if (s < o->skip_thr) continue;
            if (o->method == TTA_FUSE_WBF) s *= wv;
            else if (w) s = s * wv / r.w_sum;
        }
        it[m++] = (oracle_item){s, b->x1, b->y1, b->x2, b->y2, b->label, b->view, i};
    }
    qsort(it, (size_t)m, sizeof *it, o->method == TTA_FUSE_SOFT_NMS ? oracle_by_input : oracle_by_score);
    int *vs = malloc(sizeof(int) * ((size_t)m + 1)), *seen = malloc(sizeof(int) * (size_t)n_views);
    for (int lo = 0; lo < m;) {
        int hi = lo + 1;
        while (hi < m && it[hi].label == it[lo].label)
            hi++;
        oracle_class(&r, it + lo, hi - lo, vs, seen);
        lo = hi;
    }
    /* stable insertion-merge: a stable sort by score, best first */
    tta_box *tmp = malloc(sizeof *tmp * ((size_t)r.n_out + 1));
    for (int width = 1; width < r.n_out; width *= 2) {
        for (int lo = 0; lo < r.n_out; lo += 2 * width) {
            int mid = lo + width < r.n_out ? lo + width : r.n_out;
            int hi = lo + 2 * width < r.n_out ? lo + 2 * width : r.n_out, i = lo, j = mid, k = lo;
            while (i < mid && j < hi)
                tmp[k++] = out[j].score > out[i].score ? out[j++] : out[i++];
            while (i < mid)
                tmp[k++] = out[i++];
            while (j < hi)
                tmp[k++] = out[j++];
        }
        memcpy(out, tmp, sizeof *tmp * (size_t)r.n_out);
    }
    free(tmp), free(vs), free(seen), free(it);
    return o->max_det > 0 && r.n_out > o->max_det ? o->max_det : r.n_out;
}

static int same_box(const tta_box *a, const tta_box *b) {
    return !memcmp(&a->x1, &b->x1, sizeof(float)) && !memcmp(&a->y1, &b->y1, sizeof(float)) &&
           !memcmp(&a->x2, &b->x2, sizeof(float)) && !memcmp(&a->y2, &b->y2, sizeof(float)) &&
           !memcmp(&a->score, &b->score, sizeof(float)) && a->label == b->label && a->view == b->view &&
           a->support == b->support;
}

/* One random image: objects seen by most views (jittered, some exact duplicates and tied
 * scores), clutter, tiny and huge boxes, several classes (some labels far apart). */
static int random_image(unsigned *seed, tta_box *b, int n_views, int n_classes, int per_view) {
    int n = 0, n_obj = 1 + (int)(rng_next(seed) % 12);
    float scale = rng_next(seed) % 2 ? 1.0f : 640.0f;
    for (int v = 0; v < n_views; v++) {
        unsigned os = *seed ^ 0x9e3779b9u; /* the same objects in every view */
        for (int k = 0; k < per_view; k++) {
            tta_box *x = &b[n];
            int kind = (int)(rng_next(seed) % 10);
            float cx, cy, w, h;
            if (kind < 5 && k < n_obj) { /* an object */
                unsigned s2 = os + 7919u * (unsigned)k;
                cx = rng_unit(&s2), cy = rng_unit(&s2), w = 0.02f + 0.3f * rng_unit(&s2), h = 0.02f + 0.3f * rng_unit(&s2);
                float j = 0.02f * (rng_unit(seed) - 0.5f) * (kind == 0 ? 0 : 1);
                cx += j, cy -= j, w *= 1 + j, h *= 1 - j;
                x->label = (int)(s2 % (unsigned)n_classes);
            } else if (kind == 5) { /* tiny */
                cx = rng_unit(seed), cy = rng_unit(seed), w = 1e-3f * (1 + rng_unit(seed)), h = 1e-3f * (1 + rng_unit(seed));
                x->label = (int)(rng_next(seed) % (unsigned)n_classes);
            } else if (kind == 6) { /* huge */
                cx = 0.5f + 0.2f * (rng_unit(seed) - 0.5f), cy = 0.5f, w = 0.6f + rng_unit(seed), h = 0.6f + rng_unit(seed);
                x->label = (int)(rng_next(seed) % (unsigned)n_classes);
            } else { /* clutter */
                cx = rng_unit(seed), cy = rng_unit(seed), w = 0.01f + 0.1f * rng_unit(seed), h = 0.01f + 0.1f * rng_unit(seed);
                x->label = (int)(rng_next(seed) % (unsigned)n_classes);
            }
            x->x1 = (cx - w / 2) * scale, x->y1 = (cy - h / 2) * scale;
            x->x2 = (cx + w / 2) * scale, x->y2 = (cy + h / 2) * scale;
            if (kind == 9 && n > 0) *x = b[n - 1 - (int)(rng_next(seed) % (unsigned)(n < 5 ? n : 5))]; /* a duplicate */
            /* scores on a coarse grid: many ties */
            x->score = rng_next(seed) % 3 ? (float)(rng_next(seed) % 20) / 20.0f : rng_unit(seed);
            if (x->label % 3 == 2) x->label = x->label * 1000003 - 5000000; /* labels far apart */
            x->view = v;
            x->support = 1;
            n++;
        }
    }
    /* shuffle a little: views interleaved */
    for (int i = 0; i < n / 8; i++) {
        int a = (int)(rng_next(seed) % (unsigned)n), c = (int)(rng_next(seed) % (unsigned)n);
        tta_box t = b[a];
        b[a] = b[c];
        b[c] = t;
    }
    return n;
}

TEST(indexed_rules_match_the_all_pairs_oracle) {
    enum { MAX_VIEWS = 12, MAX_PER_VIEW = 90 };
    tta_box *in = malloc(sizeof *in * MAX_VIEWS * MAX_PER_VIEW);
    tta_box *ref = malloc(sizeof *ref * MAX_VIEWS * MAX_PER_VIEW);
    tta_boxes out = {0};
    static const float thrs[] = {0.3f, 0.5f, 0.55f, 0.7f, 0.9f, 0.0f, 0.05f, 0.1f};
    unsigned seed = 2024;
    int runs = 0, mismatches = 0, boxes_out = 0;
    for (int t = 0; t < 400; t++) {
        int n_views = 1 + (int)(rng_next(&seed) % MAX_VIEWS), n_classes = 1 + (int)(rng_next(&seed) % 6);
        int per_view = 1 + (int)(rng_next(&seed) % MAX_PER_VIEW);
        int n = random_image(&seed, in, n_views, n_classes, per_view);
        double w[MAX_VIEWS];
        int weighted = rng_next(&seed) % 2;
        for (int v = 0; v < n_views; v++)
            w[v] = 0.5 + rng_unit(&seed);
        for (int m = 0; m < 6; m++) {
            tta_fuse_options o = opts(m < 4 ? all_methods[m] : m == 4 ? TTA_FUSE_SOFT_NMS : TTA_FUSE_WBF);
            if (m == 4) o.soft_kind = TTA_SOFT_NMS_LINEAR;
            o.iou_thr = thrs[rng_next(&seed) % 8];
            o.skip_thr = rng_next(&seed) % 3 ? 0.0f : 0.2f;
            o.conf_type = (tta_wbf_conf)(rng_next(&seed) % 4);
            o.allows_overflow = rng_next(&seed) % 2;
            o.sigma = rng_next(&seed) % 2 ? 0.5f : 0.1f;
            o.max_det = rng_next(&seed) % 3 ? 0 : 1 + (int)(rng_next(&seed) % 40);
            const double *wp = weighted ? w : NULL;
            int nr = oracle_fuse(in, n, n_views, wp, &o, ref);
            if (!fuse(in, n, n_views, wp, &o, &out)) {
                mismatches++;
                continue;
            }
            runs++;
            boxes_out += nr;
            int bad = out.n != nr;
            for (int i = 0; !bad && i < nr; i++)
                bad = !same_box(&out.box[i], &ref[i]);
            if (bad && mismatches++ < 5) {
                fprintf(stderr, "  case %d %s%s iou %g skip %g conf %d max_det %d views %d: %d boxes, oracle %d\n", t,
                        tta_fuse_method_name(o.method), m == 4 ? "-linear" : "", o.iou_thr, o.skip_thr, o.conf_type,
                        o.max_det, n_views, out.n, nr);
                for (int i = 0; i < nr && i < out.n; i++)
                    if (!same_box(&out.box[i], &ref[i])) {
                        fprintf(stderr, "    box %d: got %g %g %g %g s %.9g l %d v %d sup %d, oracle %g %g %g %g s %.9g l %d v %d sup %d\n",
                                i, out.box[i].x1, out.box[i].y1, out.box[i].x2, out.box[i].y2, out.box[i].score,
                                out.box[i].label, out.box[i].view, out.box[i].support, ref[i].x1, ref[i].y1, ref[i].x2,
                                ref[i].y2, ref[i].score, ref[i].label, ref[i].view, ref[i].support);
                        break;
                    }
            }
        }
    }
    CHECK_EQ_INT(mismatches, 0);
    CHECK(runs == 2400);
    CHECK(boxes_out > 20000);
    if (getenv("TTA_TEST_VERBOSE")) fprintf(stderr, "  %d runs, %d boxes out\n", runs, boxes_out);
    tta_boxes_destroy(&out);
    free(in);
    free(ref);
}

/* Each view's own NMS in the detector (detect/view_nms.c) is a fast path for one view: it must
 * give what the general rule gives with TTA_FUSE_NMS, one view and no weights, box for box and
 * in the same order, ties and max_det included, and go through the general rule for labels
 * spread too wide for its table. */
TEST(view_nms_matches_the_general_rule) {
    enum { MAX_BOXES = 1200 };
    tta_box *in = malloc(sizeof *in * MAX_BOXES);
    tta_boxes got = {0}, ref = {0};
    det_view_nms_work w = {0};
    static const float thrs[] = {0.3f, 0.5f, 0.6f, 0.7f, 0.9f, 0.0f, 0.05f, 1.0f};
    unsigned seed = 77;
    int mismatches = 0, boxes_out = 0, wide = 0;
    for (int t = 0; t < 300; t++) {
        int per_view = 1 + (int)(rng_next(&seed) % MAX_BOXES);
        int n = random_image(&seed, in, 1, 1 + (int)(rng_next(&seed) % 12), per_view);
        int narrow = rng_next(&seed) % 4 != 0;
        for (int i = 0; i < n; i++) {
            if (narrow && (in[i].label < 0 || in[i].label > 1000)) in[i].label = (unsigned)in[i].label % 7u;
            if (rng_next(&seed) % 50 == 0) in[i].x2 = in[i].x1; /* zero area: left out */
        }
        for (int i = 0; i < n && !narrow; i++) wide |= in[i].label < 0;
        tta_fuse_options o;
        tta_fuse_options_default(&o, TTA_FUSE_NMS);
        o.iou_thr = thrs[rng_next(&seed) % 8];
        o.max_det = rng_next(&seed) % 3 ? 0 : 1 + (int)(rng_next(&seed) % 150);
        CHECK(tta_fuse_boxes(in, n, 1, NULL, &o, &ref) == TTA_OK);
        tta_boxes_clear(&got);
        CHECK(det_view_nms(in, n, o.iou_thr, o.max_det, &w, &got) == TTA_OK);
        int bad = got.n != ref.n;
        for (int i = 0; !bad && i < ref.n; i++) bad = !same_box(&got.box[i], &ref.box[i]);
        if (bad && mismatches++ < 3)
            fprintf(stderr, "  case %d: %d boxes, iou %g, max_det %d: %d kept, the general rule %d\n", t, n, o.iou_thr,
                    o.max_det, got.n, ref.n);
        boxes_out += ref.n;
    }
    CHECK_EQ_INT(mismatches, 0);
    CHECK(boxes_out > 10000);
    CHECK(wide); /* the wide-label path ran */
    det_view_nms_free(&w);
    tta_boxes_destroy(&got);
    tta_boxes_destroy(&ref);
    free(in);
}
