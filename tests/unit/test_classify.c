/* test_classify.c - classification TTA: activations, every merge rule and the metrics against
 * hand-computed values, temperature scaling on synthetic data with a known answer, and the
 * batching of views through a callback model whose answer depends on where the image is
 * bright (so a view mix-up or a wrong image/view order cannot pass). */
#include "test.h"
#include "tta/classify.h"

TEST(softmax_of_logits) {
    float s[3] = {1, 2, 3};
    CHECK(tta_scores_to_probs(s, 3, TTA_ACT_LOGITS) == TTA_OK);
    CHECK_NEAR(s[0], 0.09003057, 1e-7);
    CHECK_NEAR(s[1], 0.24472847, 1e-7);
    CHECK_NEAR(s[2], 0.66524096, 1e-7);
    float big[2] = {1000, 1001};
    CHECK(tta_scores_to_probs(big, 2, TTA_ACT_LOGITS) == TTA_OK);
    CHECK_NEAR(big[0], 0.26894142, 1e-7);
    CHECK_NEAR(big[1], 0.73105858, 1e-7);
    float sig[2] = {0, 2};
    CHECK(tta_scores_to_probs(sig, 2, TTA_ACT_SIGMOID) == TTA_OK);
    CHECK_NEAR(sig[0], 0.5, 1e-7);
    CHECK_NEAR(sig[1], 0.88079708, 1e-7);
    float bad[2] = {NAN, 1};
    CHECK(tta_scores_to_probs(bad, 2, TTA_ACT_LOGITS) == TTA_ERR_INVALID_ARG);
}

static void merge2(tta_merge method, const float *a, const float *b, double wa, double wb, float *out) {
    tta_merger m;
    CHECK(tta_merger_init(&m, method, 2) == TTA_OK);
    tta_merger_add(&m, a, wa);
    tta_merger_add(&m, b, wb);
    CHECK(tta_merger_result(&m, out) == TTA_OK);
    tta_merger_destroy(&m);
}

TEST(merge_rules_hand_computed) {
    const float a[2] = {0.2f, 0.8f}, b[2] = {0.6f, 0.4f};
    float o[2];
    merge2(TTA_MERGE_MEAN, a, b, 1, 1, o);
    CHECK_NEAR(o[0], 0.4, 1e-7);
    CHECK_NEAR(o[1], 0.6, 1e-7);
    merge2(TTA_MERGE_GEOMETRIC, a, b, 1, 1, o); /* sqrt(.12), sqrt(.32), normalised */
    CHECK_NEAR(o[0], 0.34641016 / (0.34641016 + 0.56568542), 1e-6);
    CHECK_NEAR(o[1], 0.56568542 / (0.34641016 + 0.56568542), 1e-6);
    merge2(TTA_MERGE_LOGITS, a, b, 1, 1, o); /* same as geometric for probability outputs */
    CHECK_NEAR(o[0], 0.37979589, 1e-6);
    merge2(TTA_MERGE_MAX, a, b, 1, 1, o); /* [.6, .8] / 1.4 */
    CHECK_NEAR(o[0], 0.42857143, 1e-6);
    CHECK_NEAR(o[1], 0.57142857, 1e-6);
    merge2(TTA_MERGE_VOTE, a, b, 1, 1, o); /* one vote each; mean p [.4, .6] breaks the tie */
    CHECK_NEAR(o[0], 0.999 * 0.5 + 0.001 * 0.4, 1e-6);
    CHECK_NEAR(o[1], 0.999 * 0.5 + 0.001 * 0.6, 1e-6);
    CHECK(tta_argmax(o, 2) == 1);
    merge2(TTA_MERGE_WEIGHTED, a, b, 3, 1, o); /* (3a + b) / 4 */
    CHECK_NEAR(o[0], 0.3, 1e-7);
    CHECK_NEAR(o[1], 0.7, 1e-7);
    merge2(TTA_MERGE_MEAN, a, b, 3, 1, o); /* weights only count for the weighted merge */
    CHECK_NEAR(o[0], 0.4, 1e-7);
}

TEST(merge_zero_probabilities_stay_finite) {
    const float a[3] = {0, 1, 0}, b[3] = {1, 0, 0};
    tta_merge methods[] = {TTA_MERGE_MEAN, TTA_MERGE_LOGITS, TTA_MERGE_GEOMETRIC, TTA_MERGE_MAX, TTA_MERGE_VOTE};
    for (size_t i = 0; i < sizeof methods / sizeof methods[0]; i++) {
        tta_merger m;
        float o[3];
        CHECK(tta_merger_init(&m, methods[i], 3) == TTA_OK);
        tta_merger_add(&m, a, 1);
        tta_merger_add(&m, b, 1);
        CHECK(tta_merger_result(&m, o) == TTA_OK);
        double sum = 0;
        for (int c = 0; c < 3; c++) {
            CHECK(isfinite(o[c]));
            sum += o[c];
        }
        CHECK_NEAR(sum, 1.0, 1e-5);
        tta_merger_destroy(&m);
    }
    tta_merger m;
    float o[3];
    CHECK(tta_merger_init(&m, TTA_MERGE_MEAN, 3) == TTA_OK);
    CHECK(tta_merger_result(&m, o) == TTA_ERR_INVALID_ARG); /* nothing added */
    tta_merger_destroy(&m);
    tta_merge parsed;
    CHECK(tta_merge_parse("geomean", &parsed) == TTA_OK && parsed == TTA_MERGE_GEOMETRIC);
    CHECK(tta_merge_parse("median", &parsed) == TTA_ERR_INVALID_ARG);
    CHECK_STR_CONTAINS(tta_last_error(), "median");
}

TEST(metrics_hand_computed) {
    const float p[9] = {0.7f, 0.2f, 0.1f, 0.1f, 0.6f, 0.3f, 0.3f, 0.3f, 0.4f};
    const int y[3] = {0, 2, 2};
    tta_metrics m;
    tta_metrics_compute(p, y, 3, 3, &m);
    CHECK_NEAR(m.top1, 2.0 / 3, 1e-9);
    CHECK_NEAR(m.top5, 1.0, 1e-9);
    CHECK_NEAR(m.nll, (0.35667494 + 1.20397280 + 0.91629073) / 3, 1e-6);
    CHECK_NEAR(m.brier, (0.14 + 0.86 + 0.54) / 3, 1e-6);
    CHECK_NEAR(m.ece, (0.3 + 0.6 + 0.6) / 3, 1e-6); /* one sample per bin */
    const float base[9] = {0.2f, 0.7f, 0.1f, 0.1f, 0.6f, 0.3f, 0.3f, 0.3f, 0.4f};
    int corrected, broken;
    tta_compare_predictions(base, p, y, 3, 3, &corrected, &broken);
    CHECK_EQ_INT(corrected, 1);
    CHECK_EQ_INT(broken, 0);
    tta_compare_predictions(p, base, y, 3, 3, &corrected, &broken);
    CHECK_EQ_INT(corrected, 0);
    CHECK_EQ_INT(broken, 1);
}

TEST(temperature_recovers_known_value) {
    /* labels drawn from q = softmax(z); the model reports p = softmax(2 z), so T = 2 undoes it */
    enum { N = 6000, K = 4 };
    static float p[N * K];
    static int y[N];
    unsigned long long s = 12345;
    for (int i = 0; i < N; i++) {
        double z[K], q[K], sum = 0, sum2 = 0;
        for (int c = 0; c < K; c++) {
            s = s * 6364136223846793005ULL + 1442695040888963407ULL;
            z[c] = ((s >> 11) * (1.0 / 9007199254740992.0)) * 3.0;
            sum += exp(z[c]);
            sum2 += exp(2 * z[c]);
        }
        for (int c = 0; c < K; c++) {
            q[c] = exp(z[c]) / sum;
            p[i * K + c] = (float)(exp(2 * z[c]) / sum2);
        }
        s = s * 6364136223846793005ULL + 1442695040888963407ULL;
        double u = (s >> 11) * (1.0 / 9007199254740992.0), acc = 0;
        y[i] = K - 1;
        for (int c = 0; c < K; c++) {
            acc += q[c];
            if (u < acc) {
                y[i] = c;
                break;
            }
        }
    }
    double t = tta_fit_temperature(p, y, N, K, NULL);
    CHECK_NEAR(t, 2.0, 0.2);
    tta_metrics before, after;
    tta_metrics_compute(p, y, N, K, &before);
    tta_apply_temperature(p, N, K, t);
    tta_metrics_compute(p, y, N, K, &after);
    CHECK(after.nll < before.nll);
    CHECK_NEAR(after.top1, before.top1, 1e-12); /* temperature never changes the ranking */
}

/* A 2-class callback model on 1 x 4 gray images (NCHW float): logit 0 = 4 * (left half sum),
 * logit 1 = 4 * (right half sum). */
static int calls, largest_batch;
static tta_status side_model(void *user, const tta_tensor *in, tta_tensor *out) {
    (void)user;
    int64_t b = in->dims[0];
    int64_t dims[2] = {b, 2};
    calls++;
    if (b > largest_batch) largest_batch = (int)b;
    tta_status st = tta_tensor_resize(out, TTA_DTYPE_FLOAT32, 2, dims);
    if (st) return st;
    const float *x = in->data;
    float *o = out->data;
    for (int64_t i = 0; i < b; i++) {
        o[i * 2] = 4 * (x[i * 4] + x[i * 4 + 1]);
        o[i * 2 + 1] = 4 * (x[i * 4 + 2] + x[i * 4 + 3]);
    }
    return TTA_OK;
}

/* A callback that fails, as a user's would: its message, recorded with the public tta_set_error,
 * is what the caller of tta_classify reads, with its status. */
static tta_status failing_model(void *user, const tta_tensor *in, tta_tensor *out) {
    (void)in, (void)out;
    return tta_set_error(TTA_ERR_IO, "camera %d: no frame", *(int *)user);
}

TEST(callback_model_reports_its_own_error) {
    uint8_t px[4] = {255, 0, 0, 0};
    tta_image img;
    memset(&img, 0, sizeof img);
    tta_image_wrap(&img, 1, 4, 1, TTA_DTYPE_UINT8, px);
    tta_input_format f = {{TTA_LAYOUT_NCHW, TTA_DTYPE_FLOAT32, 1, 1.0f, {0}, {1, 1, 1, 1}}, 1, 4};
    int camera = 7;
    tta_classifier *c;
    CHECK(tta_classifier_new_callback(&c, failing_model, &camera, 2, &f, NULL) == TTA_OK);
    tta_policy pol;
    CHECK(tta_policy_parse(&pol, "hflip", NULL) == TTA_OK);
    float probs[2];
    CHECK_EQ_INT(tta_classify(c, &pol, &img, 1, TTA_MERGE_MEAN, NULL, probs, NULL), TTA_ERR_IO);
    CHECK_STR_CONTAINS(tta_last_error(), "camera 7: no frame");
    CHECK_EQ_INT(tta_set_error(TTA_ERR_PARSE, "%s", "x"), TTA_ERR_PARSE);
    CHECK(!strcmp(tta_last_error(), "x"));
    tta_policy_destroy(&pol);
    tta_classifier_free(c);
}

TEST(callback_model_views_in_order) {
    uint8_t px[3][4] = {{255, 0, 0, 0}, {0, 0, 0, 255}, {0, 255, 0, 0}};
    tta_image imgs[3];
    memset(imgs, 0, sizeof imgs);
    for (int i = 0; i < 3; i++) tta_image_wrap(&imgs[i], 1, 4, 1, TTA_DTYPE_UINT8, px[i]);
    tta_input_format f = {{TTA_LAYOUT_NCHW, TTA_DTYPE_FLOAT32, 1, 1.0f, {0}, {1, 1, 1, 1}}, 1, 4};
    tta_classifier_options o = {.max_batch = 2};
    tta_classifier *c;
    CHECK(tta_classifier_new_callback(&c, side_model, NULL, 2, &f, &o) == TTA_OK);
    tta_policy pol;
    CHECK(tta_policy_parse(&pol, "hflip", NULL) == TTA_OK);
    CHECK_EQ_INT(pol.n_views, 2);
    float vp[3 * 2 * 2], probs[3 * 2];
    calls = largest_batch = 0;
    CHECK(tta_classify(c, &pol, imgs, 3, TTA_MERGE_MEAN, NULL, probs, vp) == TTA_OK);
    CHECK(largest_batch <= 2);
    CHECK_EQ_INT(calls, 3); /* one image (2 views) per batch of 2 */
    double s4 = 1 / (1 + exp(-4.0));
    /* image 0, identity: bright on the left -> class 0 with p = sigma(4) */
    CHECK_NEAR(vp[0], s4, 1e-6);
    /* image 0, hflip: bright on the right -> class 1 */
    CHECK_NEAR(vp[3], s4, 1e-6);
    /* image 1 identity -> class 1 */
    CHECK_NEAR(vp[5], s4, 1e-6);
    /* mean of a view and its mirror is exactly even for these images */
    for (int i = 0; i < 3; i++) CHECK_NEAR(probs[i * 2], 0.5, 1e-6);
    tta_policy_destroy(&pol);
    tta_classifier_free(c);
}
