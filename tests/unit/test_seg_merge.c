/* test_seg_merge.c - the streaming per-pixel merger of segment.h: every merge rule and
 * uncertainty map on a 3-class, 2 x 2 image derived by hand, validity masks (pixels seen by one
 * view and by none), weights, reset, errors and failed allocations; then random maps against a
 * straightforward reimplementation that keeps every view (all rules), and the memory check:
 * adding 2 or 20 views allocates nothing after new(). */
#include <stdint.h>

#include "test.h"
#include "tta/segment.h"

/* ---- the hand-computed image ----
 *
 * 3 classes, 2 x 2 pixels (pixel i = row * 2 + column), two views A and B:
 *   pixel 0: A = (0.5, 0.3, 0.2), B = (0.1, 0.6, 0.3)      both valid
 *   pixel 1: A = (0.2, 0.2, 0.6), B = NaN (not valid)      A only
 *   pixel 2: neither view valid (A holds 0.9s, B NaN)      none
 *   pixel 3: A = (1, 0, 0),       B = (0, 0, 1)            both valid, zero probabilities
 * Entropies of the views (nats): H(A0) = -(.5 ln .5 + .3 ln .3 + .2 ln .2) = 1.0296530,
 * H(B0) = -(.1 ln .1 + .6 ln .6 + .3 ln .3) = 0.8979457, H(A1) = 0.9502705, H(A3) = H(B3) = 0.
 * Argmaxes: A0 -> 0, B0 -> 1, A1 -> 2, A3 -> 0, B3 -> 2. */
enum { HC = 3, HH = 2, HW = 2, HP = 4 };
static const float view_a[HC * HP] = {0.5f, 0.2f, 0.9f, 1.0f,  /* class 0 at pixels 0..3 */
                                      0.3f, 0.2f, 0.9f, 0.0f,  /* class 1 */
                                      0.2f, 0.6f, 0.9f, 0.0f}; /* class 2 */
static const uint8_t valid_a[HP] = {1, 1, 0, 1};
static const uint8_t valid_b[HP] = {1, 0, 0, 1};
static void view_b(float *b) {
    const float v[HC * HP] = {0.1f, NAN, NAN, 0.0f, 0.6f, NAN, NAN, 0.0f, 0.3f, NAN, NAN, 1.0f};
    memcpy(b, v, sizeof v);
}

typedef struct expect {
    float q[HC];        /* merged probabilities */
    int label;
    float map[TTA_UNC_COUNT]; /* entropy, mutual information, variance, disagreement */
} expect;

/* Pixels 1 and 2 are the same for the mean rules:
 *   pixel 1: only A: the merge is A, entropy H(A1), and one view gives MI = var = dis = 0;
 *   pixel 2: nobody: uniform 1/3, label 0, entropy ln 3 = 1.0986123, the rest 0. */
#define PIXEL1_MEAN {{0.2f, 0.2f, 0.6f}, 2, {0.9502705f, 0, 0, 0}}
#define PIXEL2 {{1 / 3.f, 1 / 3.f, 1 / 3.f}, 0, {1.0986123f, 0, 0, 0}}

/* Pixel 0 with the plain mean: q = ((.5+.1)/2, (.3+.6)/2, (.2+.3)/2) = (0.3, 0.45, 0.25), label 1;
 * entropy H(q) = -(.3 ln .3 + .45 ln .45 + .25 ln .25) = 1.0670939; MI = H(q) - (H(A0) + H(B0)) / 2
 * = 1.0670939 - 0.9637994 = 0.1032945; the winner's probabilities are 0.3 and 0.6: population
 * variance 0.15^2 = 0.0225; A votes 0, B votes 1: disagreement 1/2.
 * Pixel 3: q = (0.5, 0, 0.5), label 0 (the lowest of the tie), entropy ln 2 = 0.6931472, MI = ln 2 - 0,
 * winner 0 with probabilities 1 and 0: variance 0.25; B votes 2: disagreement 1/2. */
static const expect exp_mean[HP] = {
    {{0.3f, 0.45f, 0.25f}, 1, {1.0670939f, 0.1032945f, 0.0225f, 0.5f}},
    PIXEL1_MEAN,
    PIXEL2,
    {{0.5f, 0.0f, 0.5f}, 0, {0.6931472f, 0.6931472f, 0.25f, 0.5f}},
};

/* WEIGHTED with A at weight 1 and B at 3 (weights sum to 4):
 * pixel 0: q = ((.5 + .3) / 4, (.3 + 1.8) / 4, (.2 + .9) / 4) = (0.2, 0.525, 0.275), label 1;
 *   entropy 1.0151957; MI = 1.0151957 - (1 * 1.0296530 + 3 * 0.8979457) / 4 = 0.0843231;
 *   variance of class 1: (1 * .3^2 + 3 * .6^2) / 4 - .525^2 = 0.2925 - 0.275625 = 0.016875;
 *   only A (weight 1 of 4) votes another class: disagreement 0.25.
 * pixel 3: q = (1/4, 0, 3/4), label 2; entropy -(.25 ln .25 + .75 ln .75) = 0.5623351 = MI (the
 *   views have no entropy); variance of class 2: (0 + 3 * 1) / 4 - .75^2 = 0.1875; A's vote for
 *   class 0 weighs 1 of 4: disagreement 0.25. */
static const expect exp_weighted[HP] = {
    {{0.2f, 0.525f, 0.275f}, 1, {1.0151957f, 0.0843231f, 0.016875f, 0.25f}},
    PIXEL1_MEAN,
    PIXEL2,
    {{0.25f, 0.0f, 0.75f}, 2, {0.5623351f, 0.5623351f, 0.1875f, 0.25f}},
};

/* GEOMETRIC (and LOGITS): mean of log p, renormalised; the variance, disagreement and MI use the
 * views' plain mean (as for MEAN: the winner is the same class).
 * pixel 0: sqrt(.5 * .1) = 0.2236068, sqrt(.3 * .6) = 0.4242641, sqrt(.2 * .3) = 0.2449490, sum
 *   0.8928199: q = (0.2504501, 0.4751956, 0.2743543), label 1, entropy 1.0551382; MI 0.1032945,
 *   variance 0.0225, disagreement 0.5 as for MEAN.
 * pixel 3: the logs of 0 are floored at ln 1e-30 = -69.08: mean logs (-34.5, -69.1, -34.5):
 *   q = (0.5, 1e-15, 0.5), label 0; entropy ln 2 (1e-15 * 34.5 adds nothing); the rest as MEAN. */
static const expect exp_geometric[HP] = {
    {{0.2504501f, 0.4751956f, 0.2743543f}, 1, {1.0551382f, 0.1032945f, 0.0225f, 0.5f}},
    PIXEL1_MEAN,
    PIXEL2,
    {{0.5f, 0.0f, 0.5f}, 0, {0.6931472f, 0.6931472f, 0.25f, 0.5f}},
};

/* MAX: per-class maximum renormalised.
 * pixel 0: (.5, .6, .3) / 1.4 = (0.3571429, 0.4285714, 0.2142857), label 1, entropy 1.0609442;
 *   the rest as MEAN (winner 1). pixel 3: (1, 0, 1) / 2: as MEAN. */
static const expect exp_max[HP] = {
    {{0.3571429f, 0.4285714f, 0.2142857f}, 1, {1.0609442f, 0.1032945f, 0.0225f, 0.5f}},
    PIXEL1_MEAN,
    PIXEL2,
    {{0.5f, 0.0f, 0.5f}, 0, {0.6931472f, 0.6931472f, 0.25f, 0.5f}},
};

/* VOTE: q = 0.999 * vote shares + 0.001 * mean p.
 * pixel 0: votes (1/2, 1/2, 0): q = (.4995 + .0003, .4995 + .00045, .00025) = (0.4998, 0.49995,
 *   0.00025): the mean breaks the tie for class 1; entropy 0.6952974; the rest as MEAN.
 * pixel 1: votes (0, 0, 1): q = (0.0002, 0.0002, 0.9996), label 2, entropy 0.0038068.
 * pixel 3: votes (1/2, 0, 1/2): q = (0.5, 0, 0.5), label 0: as MEAN. */
static const expect exp_vote[HP] = {
    {{0.4998f, 0.49995f, 0.00025f}, 1, {0.6952974f, 0.1032945f, 0.0225f, 0.5f}},
    {{0.0002f, 0.0002f, 0.9996f}, 2, {0.0038068f, 0, 0, 0}},
    PIXEL2,
    {{0.5f, 0.0f, 0.5f}, 0, {0.6931472f, 0.6931472f, 0.25f, 0.5f}},
};

static void check_hand(tta_merge method, const expect *e) {
    tta_seg_merger *m = NULL;
    CHECK(tta_seg_merger_new(&m, method, HC, HH, HW) == TTA_OK);
    if (!m) return;
    float b[HC * HP];
    view_b(b);
    CHECK(tta_seg_merger_add(m, view_a, valid_a, 1.0) == TTA_OK);
    CHECK(tta_seg_merger_add(m, b, valid_b, 3.0) == TTA_OK);
    CHECK_EQ_INT(tta_seg_merger_valid_views(m, 0), 2);
    CHECK_EQ_INT(tta_seg_merger_valid_views(m, 1), 1);
    CHECK_EQ_INT(tta_seg_merger_valid_views(m, 2), 0);
    CHECK_EQ_INT(tta_seg_merger_valid_views(m, 3), 2);
    float q[HC * HP], maps_buf[TTA_UNC_COUNT][HP];
    float *maps[TTA_UNC_COUNT] = {maps_buf[0], maps_buf[1], maps_buf[2], maps_buf[3]};
    uint8_t labels[HP];
    CHECK(tta_seg_merger_result(m, q, labels, maps) == TTA_OK);
    for (int i = 0; i < HP; i++) {
        for (int c = 0; c < HC; c++) CHECK_NEAR(q[c * HP + i], e[i].q[c], 2e-6);
        CHECK_EQ_INT(labels[i], e[i].label);
        for (int k = 0; k < TTA_UNC_COUNT; k++) CHECK_NEAR(maps[k][i], e[i].map[k], 2e-6);
        for (int k = 0; k < TTA_UNC_COUNT; k++) CHECK(!isnan(maps[k][i]));
    }
    tta_seg_merger_free(m);
}

TEST(hand_mean) { check_hand(TTA_MERGE_MEAN, exp_mean); }
TEST(hand_weighted) { check_hand(TTA_MERGE_WEIGHTED, exp_weighted); }
TEST(hand_geometric) { check_hand(TTA_MERGE_GEOMETRIC, exp_geometric); }
TEST(hand_logits_is_geometric) { check_hand(TTA_MERGE_LOGITS, exp_geometric); }
TEST(hand_max) { check_hand(TTA_MERGE_MAX, exp_max); }
TEST(hand_vote) { check_hand(TTA_MERGE_VOTE, exp_vote); }

/* Three views on one pixel, 2 classes, to pin the variance and disagreement with a majority:
 * p1 = (0.9, 0.1), (0.8, 0.2), (0.2, 0.8). Mean (0.6333333, 0.3666667), label 0; variance of
 * class 0: mean of squares (.81 + .64 + .04) / 3 = 0.4966667 minus 0.6333333^2 = 0.4011111:
 * 0.0955556; one view in three votes class 1: disagreement 1/3. Weighted 1, 1, 2: mean
 * (0.525, 0.475), still 0; variance (.81 + .64 + .08) / 4 - .525^2 = 0.3825 - 0.275625 = 0.106875;
 * disagreement 2/4. */
TEST(three_views_one_pixel) {
    const float v[3][2] = {{0.9f, 0.1f}, {0.8f, 0.2f}, {0.2f, 0.8f}};
    const double w[3] = {1, 1, 2};
    for (int weighted = 0; weighted < 2; weighted++) {
        tta_seg_merger *m = NULL;
        CHECK(tta_seg_merger_new(&m, weighted ? TTA_MERGE_WEIGHTED : TTA_MERGE_MEAN, 2, 1, 1) == TTA_OK);
        for (int k = 0; k < 3; k++) CHECK(tta_seg_merger_add(m, v[k], NULL, w[k]) == TTA_OK);
        float q[2], mp[TTA_UNC_COUNT];
        float *maps[TTA_UNC_COUNT] = {mp, mp + 1, mp + 2, mp + 3};
        uint8_t label = 9;
        CHECK(tta_seg_merger_result(m, q, &label, maps) == TTA_OK);
        CHECK_EQ_INT(label, 0);
        CHECK_NEAR(q[0], weighted ? 0.525 : 0.6333333, 1e-6);
        CHECK_NEAR(mp[TTA_UNC_VARIANCE], weighted ? 0.106875 : 0.0955556, 1e-6);
        CHECK_NEAR(mp[TTA_UNC_DISAGREEMENT], weighted ? 0.5 : 1 / 3.0, 1e-6);
        tta_seg_merger_free(m);
    }
}

/* One view: the merge is that view (for every rule: the vote's 0.1% of the mean is the view
 * too, the geometric mean of one view is the view), and MI, variance, disagreement are 0. */
TEST(one_view_is_itself) {
    for (int method = TTA_MERGE_MEAN; method <= TTA_MERGE_WEIGHTED; method++) {
        tta_seg_merger *m = NULL;
        CHECK(tta_seg_merger_new(&m, (tta_merge)method, HC, HH, HW) == TTA_OK);
        CHECK(tta_seg_merger_add(m, view_a, NULL, 0.5) == TTA_OK);
        float q[HC * HP], mp[TTA_UNC_COUNT][HP];
        float *maps[TTA_UNC_COUNT] = {mp[0], mp[1], mp[2], mp[3]};
        CHECK(tta_seg_merger_result(m, method == TTA_MERGE_VOTE ? NULL : q, NULL, maps) == TTA_OK);
        for (int i = 0; i < HP; i++) {
            if (method != TTA_MERGE_VOTE && i != 2) /* pixel 2 of view A does not sum to 1 */
                for (int c = 0; c < HC; c++) CHECK_NEAR(q[c * HP + i], view_a[c * HP + i], 1e-6);
            for (int k = TTA_UNC_MUTUAL_INFO; k < TTA_UNC_COUNT; k++) CHECK(mp[k][i] == 0.0f);
        }
        tta_seg_merger_free(m);
    }
}

/* MEAN ignores the weights; WEIGHTED does not. */
TEST(weights_only_for_weighted) {
    float b[HC * HP];
    view_b(b);
    float q1[HC * HP], q2[HC * HP];
    for (int weighted = 0; weighted < 2; weighted++) {
        for (int pass = 0; pass < 2; pass++) {
            tta_seg_merger *m = NULL;
            CHECK(tta_seg_merger_new(&m, weighted ? TTA_MERGE_WEIGHTED : TTA_MERGE_MEAN, HC, HH, HW) == TTA_OK);
            CHECK(tta_seg_merger_add(m, view_a, valid_a, 1.0) == TTA_OK);
            CHECK(tta_seg_merger_add(m, b, valid_b, pass ? 7.0 : 1.0) == TTA_OK);
            CHECK(tta_seg_merger_result(m, pass ? q2 : q1, NULL, NULL) == TTA_OK);
            tta_seg_merger_free(m);
        }
        /* pixel 0: (.3, .45, .25) both times for MEAN; (.15, .5625, .2875) at weight 7 */
        CHECK_NEAR(q1[1 * HP + 0], 0.45, 1e-6);
        CHECK_NEAR(q2[1 * HP + 0], weighted ? 0.5625 : 0.45, 1e-6);
    }
}

/* Reset forgets everything: after it, one view gives that view. */
TEST(reset) {
    tta_seg_merger *m = NULL;
    CHECK(tta_seg_merger_new(&m, TTA_MERGE_GEOMETRIC, HC, HH, HW) == TTA_OK);
    float b[HC * HP];
    view_b(b);
    CHECK(tta_seg_merger_add(m, view_a, valid_a, 1.0) == TTA_OK);
    CHECK(tta_seg_merger_add(m, b, valid_b, 1.0) == TTA_OK);
    tta_seg_merger_reset(m);
    CHECK_EQ_INT(tta_seg_merger_valid_views(m, 0), 0);
    CHECK(tta_seg_merger_result(m, NULL, NULL, NULL) == TTA_ERR_INVALID_ARG); /* nothing added */
    const float c[HC * HP] = {0.1f, 0.1f, 0.1f, 0.1f, 0.7f, 0.7f, 0.7f, 0.7f, 0.2f, 0.2f, 0.2f, 0.2f};
    CHECK(tta_seg_merger_add(m, c, NULL, 1.0) == TTA_OK);
    float q[HC * HP];
    uint8_t labels[HP];
    CHECK(tta_seg_merger_result(m, q, labels, NULL) == TTA_OK);
    for (int i = 0; i < HC * HP; i++) CHECK_NEAR(q[i], c[i], 1e-6);
    for (int i = 0; i < HP; i++) {
        CHECK_EQ_INT(labels[i], 1);
        CHECK_EQ_INT(tta_seg_merger_valid_views(m, i), 1);
    }
    tta_seg_merger_free(m);
}

TEST(names) {
    CHECK(!strcmp(tta_unc_map_name(TTA_UNC_ENTROPY), "entropy"));
    CHECK(!strcmp(tta_unc_map_name(TTA_UNC_MUTUAL_INFO), "mutual_info"));
    CHECK(!strcmp(tta_unc_map_name(TTA_UNC_VARIANCE), "variance"));
    CHECK(!strcmp(tta_unc_map_name(TTA_UNC_DISAGREEMENT), "disagreement"));
    CHECK(!strcmp(tta_unc_map_name(TTA_UNC_COUNT), "unknown"));
}

TEST(errors) {
    tta_seg_merger *m = (tta_seg_merger *)1;
    CHECK(tta_seg_merger_new(&m, TTA_MERGE_MEAN, 0, 2, 2) == TTA_ERR_INVALID_ARG);
    CHECK(m == NULL);
    CHECK(tta_seg_merger_new(&m, TTA_MERGE_MEAN, 257, 2, 2) == TTA_ERR_INVALID_ARG);
    CHECK(tta_seg_merger_new(&m, TTA_MERGE_MEAN, 3, 0, 2) == TTA_ERR_INVALID_ARG);
    CHECK(tta_seg_merger_new(&m, TTA_MERGE_MEAN, 3, 2, -1) == TTA_ERR_INVALID_ARG);
    CHECK(tta_seg_merger_new(&m, (tta_merge)42, 3, 2, 2) == TTA_ERR_INVALID_ARG);
    CHECK(tta_seg_merger_new(NULL, TTA_MERGE_MEAN, 3, 2, 2) == TTA_ERR_INVALID_ARG);
    tta_seg_merger_free(NULL);
    tta_seg_merger_reset(NULL);
    CHECK_EQ_INT(tta_seg_merger_valid_views(NULL, 0), 0);

    CHECK(tta_seg_merger_new(&m, TTA_MERGE_MEAN, HC, HH, HW) == TTA_OK);
    CHECK(tta_seg_merger_result(m, NULL, NULL, NULL) == TTA_ERR_INVALID_ARG);
    CHECK_STR_CONTAINS(tta_last_error(), "no views");
    CHECK(tta_seg_merger_add(m, NULL, NULL, 1.0) == TTA_ERR_INVALID_ARG);
    CHECK(tta_seg_merger_add(NULL, view_a, NULL, 1.0) == TTA_ERR_INVALID_ARG);
    CHECK(tta_seg_merger_add(m, view_a, NULL, 0.0) == TTA_ERR_INVALID_ARG);
    CHECK(tta_seg_merger_add(m, view_a, NULL, -1.0) == TTA_ERR_INVALID_ARG);
    CHECK(tta_seg_merger_add(m, view_a, NULL, NAN) == TTA_ERR_INVALID_ARG);
    CHECK(tta_seg_merger_add(m, view_a, NULL, INFINITY) == TTA_ERR_INVALID_ARG);
    CHECK_STR_CONTAINS(tta_last_error(), "weight");
    /* view B has NaNs at pixels 1 and 2 (row 0 column 1, row 1 column 0): an error when they
     * count, and nothing was added */
    float b[HC * HP];
    view_b(b);
    CHECK(tta_seg_merger_add(m, b, NULL, 1.0) == TTA_ERR_INVALID_ARG);
    CHECK_STR_CONTAINS(tta_last_error(), "class 0 at pixel (row 0, column 1) is NaN");
    uint8_t only2[HP] = {1, 0, 1, 1};
    CHECK(tta_seg_merger_add(m, b, only2, 1.0) == TTA_ERR_INVALID_ARG);
    CHECK_STR_CONTAINS(tta_last_error(), "(row 1, column 0)");
    b[2 * HP + 3] = INFINITY;
    CHECK(tta_seg_merger_add(m, b, valid_b, 1.0) == TTA_ERR_INVALID_ARG);
    CHECK_STR_CONTAINS(tta_last_error(), "class 2 at pixel (row 1, column 1) is infinite");
    CHECK_EQ_INT(tta_seg_merger_valid_views(m, 0), 0);
    CHECK_EQ_INT(tta_seg_merger_valid_views(m, -1), 0);
    CHECK_EQ_INT(tta_seg_merger_valid_views(m, HP), 0);
    CHECK(tta_seg_merger_result(m, NULL, NULL, NULL) == TTA_ERR_INVALID_ARG);
    tta_seg_merger_free(m);
}

/* ---- against a reimplementation that keeps every view ---- */

static uint64_t rng_state = 88172645463325252ull;
static double urand(void) {
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return (rng_state >> 11) * (1.0 / 9007199254740992.0);
}

static double ref_entropy(const double *q, int C) {
    double h = 0;
    for (int c = 0; c < C; c++) h -= q[c] * log(q[c] > 1e-30 ? q[c] : 1e-30);
    return h;
}

/* Straight from segment.h: views[v] is C x P, valid[v] P bytes. */
static void reference(tta_merge method, int C, int P, int V, float **views, uint8_t **valid, const double *weight,
                      double *q_out, int *label_out, double *maps_out) {
    double q[16], mean[16];
    for (int i = 0; i < P; i++) {
        int n = 0;
        double ws = 0;
        for (int v = 0; v < V; v++)
            if (valid[v][i]) n++, ws += method == TTA_MERGE_WEIGHTED ? weight[v] : 1;
        double *mp = maps_out + (size_t)i * TTA_UNC_COUNT;
        if (n == 0) {
            for (int c = 0; c < C; c++) q_out[(size_t)c * P + i] = 1.0 / C;
            label_out[i] = 0;
            mp[0] = log(C), mp[1] = mp[2] = mp[3] = 0;
            continue;
        }
        /* the mean and per-view argmaxes */
        double hmean = 0, votes[16] = {0};
        for (int c = 0; c < C; c++) mean[c] = 0;
        for (int v = 0; v < V; v++) {
            if (!valid[v][i]) continue;
            double w = method == TTA_MERGE_WEIGHTED ? weight[v] : 1;
            double p[16];
            int best = 0;
            for (int c = 0; c < C; c++) {
                p[c] = views[v][(size_t)c * P + i];
                mean[c] += w * p[c] / ws;
                if (p[c] > p[best]) best = c;
            }
            votes[best] += w;
            hmean += w * ref_entropy(p, C) / ws;
        }
        double sum = 0;
        for (int c = 0; c < C; c++) {
            switch (method) {
            case TTA_MERGE_MEAN:
            case TTA_MERGE_WEIGHTED: q[c] = mean[c]; break;
            case TTA_MERGE_LOGITS:
            case TTA_MERGE_GEOMETRIC: {
                double l = 0;
                for (int v = 0; v < V; v++)
                    if (valid[v][i]) {
                        double p = views[v][(size_t)c * P + i];
                        l += log(p > 1e-30 ? p : 1e-30) / n;
                    }
                q[c] = exp(l);
                break;
            }
            case TTA_MERGE_MAX: {
                double mx = 0;
                for (int v = 0; v < V; v++)
                    if (valid[v][i] && views[v][(size_t)c * P + i] > mx) mx = views[v][(size_t)c * P + i];
                q[c] = mx;
                break;
            }
            case TTA_MERGE_VOTE: q[c] = 0.999 * votes[c] / n + 0.001 * mean[c]; break;
            }
            sum += q[c];
        }
        if (method == TTA_MERGE_GEOMETRIC || method == TTA_MERGE_LOGITS || method == TTA_MERGE_MAX)
            for (int c = 0; c < C; c++) q[c] /= sum;
        int win = 0;
        for (int c = 1; c < C; c++)
            if (q[c] > q[win]) win = c;
        double var = 0;
        for (int v = 0; v < V; v++)
            if (valid[v][i]) {
                double w = method == TTA_MERGE_WEIGHTED ? weight[v] : 1;
                double d = views[v][(size_t)win * P + i] - mean[win];
                var += w * d * d / ws;
            }
        for (int c = 0; c < C; c++) q_out[(size_t)c * P + i] = q[c];
        label_out[i] = win;
        mp[TTA_UNC_ENTROPY] = ref_entropy(q, C);
        double mi = ref_entropy(mean, C) - hmean;
        mp[TTA_UNC_MUTUAL_INFO] = n > 1 && mi > 0 ? mi : 0;
        mp[TTA_UNC_VARIANCE] = n > 1 ? var : 0;
        mp[TTA_UNC_DISAGREEMENT] = n > 1 ? 1 - votes[win] / ws : 0;
    }
}

/* Random softmax maps (some sharp, some with exact zeros), random validity (about 1 in 8 pixels
 * seen by nobody), random weights; sizes across the parallel threshold too. */
static void random_case(int C, int H, int W, int V, tta_merge method) {
    int P = H * W;
    float **views = calloc(V, sizeof *views);
    uint8_t **valid = calloc(V, sizeof *valid);
    double *weight = calloc(V, sizeof *weight);
    for (int v = 0; v < V; v++) {
        views[v] = malloc(sizeof(float) * C * P);
        valid[v] = malloc(P);
        weight[v] = 0.25 + 2 * urand();
        for (int i = 0; i < P; i++) {
            double e[16], s = 0, sharp = urand() < 0.2 ? 12 : 2;
            for (int c = 0; c < C; c++) s += e[c] = exp(sharp * urand());
            for (int c = 0; c < C; c++) views[v][(size_t)c * P + i] = (float)(e[c] / s);
            if (urand() < 0.05) { /* a one-hot view */
                int hot = (int)(urand() * C);
                for (int c = 0; c < C; c++) views[v][(size_t)c * P + i] = c == hot;
            }
            valid[v][i] = (i % 8 == 3) ? 0 : urand() < 0.7;
            if (!valid[v][i]) views[v][i] = NAN; /* never read */
        }
    }
    tta_seg_merger *m = NULL;
    CHECK(tta_seg_merger_new(&m, method, C, H, W) == TTA_OK);
    for (int v = 0; v < V; v++) CHECK(tta_seg_merger_add(m, views[v], valid[v], weight[v]) == TTA_OK);
    float *q = malloc(sizeof(float) * C * P), *mbuf = malloc(sizeof(float) * TTA_UNC_COUNT * P);
    float *maps[TTA_UNC_COUNT];
    for (int k = 0; k < TTA_UNC_COUNT; k++) maps[k] = mbuf + (size_t)k * P;
    uint8_t *labels = malloc(P);
    CHECK(tta_seg_merger_result(m, q, labels, maps) == TTA_OK);
    double *rq = malloc(sizeof(double) * C * P), *rmaps = malloc(sizeof(double) * TTA_UNC_COUNT * P);
    int *rlabels = malloc(sizeof(int) * P);
    reference(method, C, P, V, views, valid, weight, rq, rlabels, rmaps);
    int bad = 0;
    for (int i = 0; i < P && bad < 5; i++) {
        int n = 0;
        for (int v = 0; v < V; v++) n += valid[v][i];
        int before = test_failures_in_case;
        CHECK_EQ_INT(tta_seg_merger_valid_views(m, i), n);
        for (int c = 0; c < C; c++) CHECK_NEAR(q[(size_t)c * P + i], rq[(size_t)c * P + i], 2e-6);
        /* labels may differ only on a near tie */
        if (labels[i] != rlabels[i])
            CHECK_NEAR(rq[(size_t)labels[i] * P + i], rq[(size_t)rlabels[i] * P + i], 1e-6);
        else
            for (int k = 0; k < TTA_UNC_COUNT; k++) CHECK_NEAR(maps[k][i], rmaps[(size_t)i * TTA_UNC_COUNT + k], 1e-5);
        if (test_failures_in_case != before) {
            fprintf(stderr, "  ... %s, %d classes, %dx%d, %d views: pixel %d (%d valid views)\n", tta_merge_name(method),
                    C, H, W, V, i, n);
            bad++;
        }
    }
    tta_seg_merger_free(m);
    for (int v = 0; v < V; v++) free(views[v]), free(valid[v]);
    free(views), free(valid), free(weight), free(q), free(mbuf), free(labels), free(rq), free(rmaps), free(rlabels);
}

TEST(random_against_reference) {
    for (int method = TTA_MERGE_MEAN; method <= TTA_MERGE_WEIGHTED; method++) {
        random_case(4, 5, 7, 6, (tta_merge)method);
        random_case(11, 13, 9, 15, (tta_merge)method);
        random_case(2, 3, 3, 1, (tta_merge)method);
        random_case(3, 260, 256, 3, (tta_merge)method); /* over the threads */
    }
}

/* ---- memory: allocations do not depend on the number of views ---- */

static size_t bytes_allocated, n_allocations;
static void *count_realloc(void *user, void *ptr, size_t size) {
    (void)user;
    bytes_allocated += size;
    n_allocations++;
    return realloc(ptr, size);
}
static void count_free(void *user, void *ptr) {
    (void)user;
    free(ptr);
}

TEST(memory_independent_of_views) {
    const int C = 5, H = 33, W = 40, P = 33 * 40;
    float *p = malloc(sizeof(float) * C * P);
    for (int i = 0; i < C * P; i++) p[i] = 1.0f / C;
    size_t after_new[2], total[2];
    tta_allocator a = {count_realloc, count_free, NULL};
    for (int run = 0; run < 2; run++) {
        int n_views = run ? 20 : 2;
        bytes_allocated = n_allocations = 0;
        tta_set_allocator(&a);
        tta_seg_merger *m = NULL;
        CHECK(tta_seg_merger_new(&m, TTA_MERGE_GEOMETRIC, C, H, W) == TTA_OK);
        after_new[run] = bytes_allocated;
        for (int v = 0; v < n_views; v++) CHECK(tta_seg_merger_add(m, p, NULL, 1.0 + v) == TTA_OK);
        float *maps[TTA_UNC_COUNT] = {p, NULL, NULL, NULL};
        CHECK(tta_seg_merger_result(m, NULL, NULL, maps) == TTA_OK);
        total[run] = bytes_allocated;
        tta_seg_merger_free(m);
        tta_set_allocator(NULL);
        for (int i = 0; i < C * P; i++) p[i] = 1.0f / C;
    }
    CHECK_EQ_INT(after_new[0], after_new[1]);
    CHECK_EQ_INT(total[0], after_new[0]); /* add() and result() allocate nothing */
    CHECK_EQ_INT(total[1], after_new[1]);
    /* a few C x H x W arrays: at most 4 floats per class and pixel plus 20 bytes per pixel */
    CHECK(after_new[0] <= (size_t)P * (16 * C + 20) + 4096);
    free(p);
}

/* Failed allocations in new(): NOMEM, nothing leaked. */
static int fail_after;
static long live;
static void *failing_realloc(void *user, void *ptr, size_t size) {
    (void)user;
    if (fail_after-- == 0) return NULL;
    if (!ptr) live++;
    return realloc(ptr, size);
}
static void failing_free(void *user, void *ptr) {
    (void)user;
    live--;
    free(ptr);
}

TEST(failed_allocations) {
    tta_allocator a = {failing_realloc, failing_free, NULL};
    int saw_ok = 0;
    for (int k = 0; k < 12 && !saw_ok; k++) {
        fail_after = k;
        live = 0;
        tta_set_allocator(&a);
        tta_seg_merger *m = NULL;
        tta_status st = tta_seg_merger_new(&m, TTA_MERGE_MAX, 3, 4, 4);
        tta_seg_merger_free(m);
        tta_set_allocator(NULL);
        CHECK(st == TTA_OK || (st == TTA_ERR_NOMEM && m == NULL));
        CHECK_EQ_INT(live, 0);
        saw_ok = st == TTA_OK;
    }
    CHECK(saw_ok);
}
