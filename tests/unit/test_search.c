/* test_search.c - the policy search: exact McNemar p-values computed by hand, the bootstrap
 * interval, exhaustive search against brute force and a planted best subset, greedy and beam
 * on an easy table, the budget and the identity discipline, greedy with replacement, the
 * prediction cache (round trip, stale, truncated and corrupt files), learned weights, the
 * adaptive threshold, the calibrated objective against the golden-section temperature fit, families and
 * pools. Tables are synthetic: seeded random logits with a per-view signal on the true class. */
#include <stdint.h>
#include <time.h>
#include <unistd.h>

#include "classify/temperature.h"
#include "core/file_key.h"
#include "test.h"
#include "tta/classify.h"
#include "tta/search.h"

static uint64_t rng_next(uint64_t *s) {
    uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}
static double urand(uint64_t *s) { return (double)(rng_next(s) >> 11) * (1.0 / 9007199254740992.0); }
static double nrand(uint64_t *s) {
    double u = urand(s), v = urand(s);
    return sqrt(-2 * log(u > 1e-300 ? u : 1e-300)) * cos(6.283185307179586 * v);
}

/* A view-major table: view v adds signal[v] to the true class's logit (noise N(0, 1) on every
 * class); a signal of 0 is a view that knows nothing. */
typedef struct synth {
    tta_pred_table t;
    float *probs;
    int *labels;
} synth;

static void synth_make(synth *s, int n, int V, int k, const double *signal, uint64_t seed) {
    s->probs = malloc(sizeof(float) * (size_t)n * V * k);
    s->labels = malloc(sizeof(int) * (size_t)n);
    uint64_t r = seed;
    for (int i = 0; i < n; i++) s->labels[i] = (int)(rng_next(&r) % (uint64_t)k);
    for (int v = 0; v < V; v++)
        for (int i = 0; i < n; i++) {
            float *p = s->probs + ((size_t)v * n + i) * k;
            double l[64], mx = -1e300, sum = 0;
            for (int c = 0; c < k; c++) {
                l[c] = nrand(&r) + (c == s->labels[i] ? signal[v] : 0);
                if (l[c] > mx) mx = l[c];
            }
            for (int c = 0; c < k; c++) sum += exp(l[c] - mx);
            for (int c = 0; c < k; c++) p[c] = (float)(exp(l[c] - mx) / sum);
        }
    s->t = (tta_pred_table){n, k, V, s->probs, s->labels};
}

static void synth_free(synth *s) {
    free(s->probs);
    free(s->labels);
}

static tta_objective_value score(const tta_pred_table *t, const int *views, int m, tta_objective obj) {
    float *merged = malloc(sizeof(float) * (size_t)t->n * t->k);
    tta_objective_value v;
    tta_pred_table_merge(t, views, NULL, m, merged);
    tta_objective_eval(obj, merged, t->labels, t->n, t->k, &v);
    free(merged);
    return v;
}

/* ---- significance ---- */

TEST(mcnemar_exact_by_hand) {
    CHECK_NEAR(tta_mcnemar_exact(1, 8), 0.0390625, 1e-12);     /* 2 (1 + 9) / 512 */
    CHECK_NEAR(tta_mcnemar_exact(8, 1), 0.0390625, 1e-12);
    CHECK_NEAR(tta_mcnemar_exact(0, 5), 0.0625, 1e-12);        /* 2 / 32 */
    CHECK_NEAR(tta_mcnemar_exact(2, 10), 2.0 * 79 / 4096, 1e-12); /* 2 (1 + 12 + 66) / 4096 */
    CHECK_NEAR(tta_mcnemar_exact(0, 1), 1.0, 1e-12);
    CHECK_NEAR(tta_mcnemar_exact(5, 5), 1.0, 1e-12);
    CHECK_NEAR(tta_mcnemar_exact(0, 0), 1.0, 0);
    CHECK_NEAR(tta_mcnemar_exact(3, 3), 1.0, 1e-12);
    /* large counts: finite, symmetric, near the continuity-corrected normal approximation */
    double p = tta_mcnemar_exact(4000, 4100);
    CHECK(p > 0 && p < 1);
    CHECK_NEAR(p, tta_mcnemar_exact(4100, 4000), 1e-12);
    CHECK_NEAR(p, 0.2713, 0.005);
    double tiny = tta_mcnemar_exact(100000, 120000);
    CHECK(tiny >= 0 && tiny < 1e-100);
    CHECK(isnan(tta_mcnemar_exact(-1, 3)));
}

TEST(bootstrap_interval_contains_the_difference) {
    int n = 2000;
    uint8_t *a = malloc((size_t)n), *b = malloc((size_t)n);
    uint64_t r = 11;
    int diff = 0;
    for (int i = 0; i < n; i++) {
        a[i] = urand(&r) < 0.8;
        /* b corrects a quarter of a's errors and breaks 2% of its successes: +0.034 expected */
        b[i] = a[i] ? urand(&r) >= 0.02 : urand(&r) < 0.25;
        diff += b[i] - a[i];
    }
    double lo, hi, lo2, hi2;
    CHECK_EQ_INT(tta_bootstrap_diff_ci(a, b, n, 2000, 7, 0.95, &lo, &hi), TTA_OK);
    double d = (double)diff / n, truth = 0.2 * 0.25 - 0.8 * 0.02;
    CHECK(lo <= d && d <= hi);
    CHECK(lo <= truth && truth <= hi);
    CHECK(lo > 0); /* the gain is real */
    CHECK(hi - lo > 0.01 && hi - lo < 0.04);
    /* same seed, same interval; reversed pairs, mirrored interval */
    CHECK_EQ_INT(tta_bootstrap_diff_ci(a, b, n, 2000, 7, 0.95, &lo2, &hi2), TTA_OK);
    CHECK(lo2 == lo && hi2 == hi);
    CHECK_EQ_INT(tta_bootstrap_diff_ci(b, a, n, 2000, 7, 0.95, &lo2, &hi2), TTA_OK);
    CHECK_NEAR(lo2, -hi, 1e-12);
    CHECK_NEAR(hi2, -lo, 1e-12);
    /* identical predictions: a zero-width interval at 0 */
    CHECK_EQ_INT(tta_bootstrap_diff_ci(a, a, n, 500, 1, 0.95, &lo2, &hi2), TTA_OK);
    CHECK(lo2 == 0 && hi2 == 0);
    CHECK_EQ_INT(tta_bootstrap_diff_ci(a, b, 0, 2000, 7, 0.95, &lo2, &hi2), TTA_ERR_INVALID_ARG);
    CHECK_EQ_INT(tta_bootstrap_diff_ci(a, b, n, 2000, 7, 1.5, &lo2, &hi2), TTA_ERR_INVALID_ARG);
    free(a);
    free(b);
}

TEST(paired_stats_count_corrected_and_broken) {
    /* 4 images, 2 classes: base right on 0, 1; policy right on 1, 2, 3 */
    float base[] = {0.9f, 0.1f, 0.2f, 0.8f, 0.6f, 0.4f, 0.7f, 0.3f};
    float pol[] = {0.4f, 0.6f, 0.3f, 0.7f, 0.1f, 0.9f, 0.2f, 0.8f};
    int labels[] = {0, 1, 1, 1};
    tta_paired_stats s;
    CHECK_EQ_INT(tta_paired_stats_compute(base, pol, labels, 4, 2, 200, 3, &s), TTA_OK);
    CHECK_EQ_INT(s.corrected, 2);
    CHECK_EQ_INT(s.broken, 1);
    CHECK_NEAR(s.base_accuracy, 0.5, 1e-12);
    CHECK_NEAR(s.accuracy, 0.75, 1e-12);
    CHECK_NEAR(s.gain, 0.25, 1e-12);
    CHECK_NEAR(s.mcnemar_p, 1.0, 1e-12); /* 2 (1 + 3) / 8 */
    CHECK(s.ci_lo <= s.gain && s.gain <= s.ci_hi);
}

/* ---- subset search ---- */

/* views 0 (identity) and 3, 5, 7 carry signal; the others are noise */
static const double planted_signal[10] = {1.2, 0, 0.1, 1.2, 0, 1.2, 0.1, 1.2, 0, 0};

TEST(exhaustive_finds_the_planted_subset) {
    synth s;
    synth_make(&s, 3000, 10, 10, planted_signal, 5);
    int cands[9];
    for (int j = 0; j < 9; j++) cands[j] = j + 1;
    tta_objective objs[] = {TTA_OBJECTIVE_NLL, TTA_OBJECTIVE_ACCURACY, TTA_OBJECTIVE_CALIBRATED_NLL};
    for (int o = 0; o < 3; o++) {
        tta_search_pick by[4];
        long long evals = 0;
        CHECK_EQ_INT(tta_search_exhaustive(&s.t, cands, 9, 4, 1, objs[o], by, &evals), TTA_OK);
        CHECK_EQ_INT(evals, 1 + 9 + 36 + 84);
        CHECK_EQ_INT(by[0].n_views, 1);
        CHECK_EQ_INT(by[0].views[0], 0);
        CHECK_EQ_INT(by[3].n_views, 4);
        int want[4] = {0, 3, 5, 7};
        for (int j = 0; j < 4; j++) CHECK_EQ_INT(by[3].views[j], want[j]);
        for (int sz = 1; sz < 4; sz++) CHECK_EQ_INT(by[sz].views[0], 0); /* identity always in */
        CHECK(strcmp(by[3].method, "exhaustive") == 0);
        /* the reported figures are the merger's */
        tta_objective_value v = score(&s.t, want, 4, objs[o]);
        CHECK_NEAR(by[3].val.accuracy, v.accuracy, 0);
        CHECK_NEAR(by[3].val.nll, v.nll, 0);
    }
    synth_free(&s);
}

/* Brute force through the slow path: the best subset of each size of 1 + cands. */
static void brute_force(const tta_pred_table *t, const int *cands, int nc, int max_views, tta_objective obj,
                        tta_objective_value *best) {
    for (int s = 0; s < max_views; s++) best[s].loss = 1e300;
    for (unsigned mask = 0; mask < (1u << nc); mask++) {
        int views[16] = {0}, m = 1;
        for (int j = 0; j < nc; j++)
            if (mask >> j & 1) views[m++] = cands[j];
        if (m > max_views) continue;
        tta_objective_value v = score(t, views, m, obj);
        if (best[m - 1].loss == 1e300 || tta_objective_compare(obj, &v, &best[m - 1]) < 0) best[m - 1] = v;
    }
}

TEST(exhaustive_matches_brute_force) {
    double sig[8] = {0.8, 0.5, 0.9, 0.3, 0.7, 0.6, 0.4, 0.8};
    synth s;
    synth_make(&s, 500, 8, 5, sig, 9);
    int cands[7] = {1, 2, 3, 4, 5, 6, 7};
    tta_objective objs[] = {TTA_OBJECTIVE_ACCURACY, TTA_OBJECTIVE_NLL};
    for (int o = 0; o < 2; o++) {
        tta_search_pick by[4];
        tta_objective_value bf[4];
        CHECK_EQ_INT(tta_search_exhaustive(&s.t, cands, 7, 4, 1, objs[o], by, NULL), TTA_OK);
        brute_force(&s.t, cands, 7, 4, objs[o], bf);
        for (int sz = 0; sz < 4; sz++) {
            CHECK_NEAR(by[sz].val.loss, bf[sz].loss, 1e-12);
            CHECK_EQ_INT(by[sz].n_views, sz + 1);
        }
    }
    /* without the identity: any subset of the candidates */
    tta_search_pick by[2];
    long long evals;
    CHECK_EQ_INT(tta_search_exhaustive(&s.t, cands, 7, 2, 0, TTA_OBJECTIVE_NLL, by, &evals), TTA_OK);
    CHECK_EQ_INT(evals, 7 + 21);
    CHECK_EQ_INT(by[0].n_views, 1);
    CHECK(by[0].views[0] != 0);
    synth_free(&s);
}

TEST(greedy_and_beam_agree_on_an_easy_table) {
    synth s;
    synth_make(&s, 3000, 10, 10, planted_signal, 5);
    int cands[9];
    for (int j = 0; j < 9; j++) cands[j] = j + 1;
    tta_search_pick g[4], b[4], e[4];
    CHECK_EQ_INT(tta_search_beam(&s.t, cands, 9, 4, 1, 1, TTA_OBJECTIVE_NLL, g, NULL), TTA_OK);
    CHECK_EQ_INT(tta_search_beam(&s.t, cands, 9, 4, 1, 4, TTA_OBJECTIVE_NLL, b, NULL), TTA_OK);
    CHECK_EQ_INT(tta_search_exhaustive(&s.t, cands, 9, 4, 1, TTA_OBJECTIVE_NLL, e, NULL), TTA_OK);
    for (int sz = 0; sz < 4; sz++) {
        CHECK_EQ_INT(g[sz].n_views, sz + 1);
        CHECK_EQ_INT(b[sz].n_views, sz + 1);
        for (int j = 0; j <= sz; j++) {
            CHECK_EQ_INT(g[sz].views[j], e[sz].views[j]);
            CHECK_EQ_INT(b[sz].views[j], e[sz].views[j]);
        }
    }
    CHECK(strcmp(g[1].method, "greedy") == 0);
    CHECK(strcmp(b[1].method, "beam") == 0);
    /* the calibrated objective goes through the NLL shortlist and still agrees */
    CHECK_EQ_INT(tta_search_beam(&s.t, cands, 9, 4, 1, 2, TTA_OBJECTIVE_CALIBRATED_NLL, b, NULL), TTA_OK);
    CHECK_EQ_INT(b[3].views[1], 3);
    CHECK_EQ_INT(b[3].views[2], 5);
    CHECK_EQ_INT(b[3].views[3], 7);
    CHECK(b[3].val.temperature > 0 && b[3].val.calibrated_nll <= b[3].val.nll + 1e-9);
    synth_free(&s);
}

TEST(gps_counts_repeats_as_weights) {
    /* one very good view: greedy with replacement keeps adding it */
    double sig[5] = {0.5, 2.5, 0, 0, 0.3};
    synth s;
    synth_make(&s, 1000, 5, 5, sig, 3);
    int cands[4] = {1, 2, 3, 4};
    tta_search_pick by[3];
    long long evals = 0;
    CHECK_EQ_INT(tta_search_gps(&s.t, cands, 4, 3, 6, TTA_OBJECTIVE_NLL, by, &evals), TTA_OK);
    CHECK(evals > 0);
    CHECK_EQ_INT(by[0].n_views, 1);
    CHECK_EQ_INT(by[1].n_views, 2);
    CHECK_EQ_INT(by[1].views[1], 1);
    double total = 0;
    for (int sz = 0; sz < 3; sz++)
        for (int j = 0; j < by[sz].n_views; j++) CHECK(by[sz].weights[j] >= 1);
    for (int j = 0; j < by[1].n_views; j++) total += by[1].weights[j];
    CHECK(total >= 2);
    CHECK(by[1].weighted); /* view 1 was picked more than the identity */
    CHECK(by[1].weights[1] > by[1].weights[0]);
    for (int sz = 0; sz < 3; sz++) CHECK(by[sz].n_views <= sz + 1);
    synth_free(&s);
}

TEST(budget_is_respected_and_identity_never_beaten) {
    double sig[12] = {1.0, 0.9, 0.8, 0.9, 0.7, 1.0, 0.6, 0.8, 0.9, 0.7, 0.5, 1.0};
    synth s;
    synth_make(&s, 400, 12, 6, sig, 21);
    tta_policy pool;
    CHECK_EQ_INT(tta_policy_parse(&pool,
                                  "hflip; shift(1, 0, wrap); shift(-1, 0, wrap); shift(0, 1, wrap); rotate(5); "
                                  "rotate(-5); scale(0.9); scale(1.1); hflip > shift(1, 0, wrap); "
                                  "hflip > rotate(5); hflip > scale(1.1)",
                                  NULL),
                 TTA_OK);
    CHECK_EQ_INT(pool.n_views, 12);
    tta_objective objs[] = {TTA_OBJECTIVE_ACCURACY, TTA_OBJECTIVE_NLL, TTA_OBJECTIVE_CALIBRATED_NLL};
    for (int o = 0; o < 3; o++)
        for (int budget = 1; budget <= 5; budget += 2) {
            tta_search_options opt = {.budget = budget, .objective = objs[o]};
            tta_search_result r;
            CHECK_EQ_INT(tta_search_run(&s.t, &pool, &opt, &r), TTA_OK);
            CHECK_EQ_INT(r.budget, budget);
            CHECK(r.n_families >= 4);
            tta_objective_value id = score(&s.t, (int[]){0}, 1, objs[o]);
            for (int b = 0; b < budget; b++) {
                CHECK(r.best[b].n_views >= 1 && r.best[b].n_views <= b + 1);
                CHECK_EQ_INT(r.best[b].views[0], 0);
                CHECK(tta_objective_compare(objs[o], &r.best[b].val, &id) <= 0);
                if (b) CHECK(tta_objective_compare(objs[o], &r.best[b].val, &r.best[b - 1].val) <= 0);
                for (int m = 0; m < TTA_SEARCH_N_METHODS; m++) CHECK(r.by_method[m][b].n_views <= b + 1);
            }
            tta_search_result_destroy(&r);
        }
    /* a pool of harmful views (they steer away from the true class): the identity alone wins
     * at every budget */
    double bad[12] = {1.5, -3, -3, -3, -3, -3, -3, -3, -3, -3, -3, -3};
    synth h;
    synth_make(&h, 400, 12, 6, bad, 22);
    for (int o = 0; o < 3; o++) {
        tta_search_options opt = {.budget = 4, .objective = objs[o]};
        tta_search_result r;
        CHECK_EQ_INT(tta_search_run(&h.t, &pool, &opt, &r), TTA_OK);
        for (int b = 0; b < 4; b++) CHECK_EQ_INT(r.best[b].n_views, 1);
        tta_search_result_destroy(&r);
    }
    /* bad options */
    tta_search_options opt = {.budget = 0};
    tta_search_result r;
    CHECK_EQ_INT(tta_search_run(&s.t, &pool, &opt, &r), TTA_ERR_INVALID_ARG);
    opt.budget = 17;
    CHECK_EQ_INT(tta_search_run(&s.t, &pool, &opt, &r), TTA_ERR_INVALID_ARG);
    int c0[1] = {0};
    tta_search_pick by[2];
    CHECK_EQ_INT(tta_search_exhaustive(&s.t, c0, 1, 2, 1, TTA_OBJECTIVE_NLL, by, NULL), TTA_ERR_INVALID_ARG);
    int c99[1] = {99};
    CHECK_EQ_INT(tta_search_exhaustive(&s.t, c99, 1, 2, 1, TTA_OBJECTIVE_NLL, by, NULL), TTA_ERR_INVALID_ARG);
    tta_policy_destroy(&pool);
    synth_free(&s);
    synth_free(&h);
}

TEST(shortlist_when_exhaustive_is_too_dear) {
    double sig[12] = {1.0, 0.9, 0.8, 0.9, 0.7, 1.0, 0.6, 0.8, 0.9, 0.7, 0.5, 1.0};
    synth s;
    synth_make(&s, 300, 12, 6, sig, 23);
    tta_policy pool;
    CHECK_EQ_INT(tta_policy_parse(&pool,
                                  "hflip; shift(1, 0, wrap); shift(-1, 0, wrap); shift(2, 0, wrap); "
                                  "shift(-2, 0, wrap); rotate(5); rotate(-5); rotate(10); rotate(-10); scale(0.9); "
                                  "scale(1.1)",
                                  NULL),
                 TTA_OK);
    tta_search_options opt = {.budget = 4, .objective = TTA_OBJECTIVE_NLL, .exhaustive_limit = 1e5};
    tta_search_result r;
    CHECK_EQ_INT(tta_search_run(&s.t, &pool, &opt, &r), TTA_OK);
    CHECK_EQ_INT(r.exhaustive_all, 0);
    /* one row per family: flip 1 view, shift x 2, rotate 2, scale 2 */
    CHECK_EQ_INT(r.n_shortlist, 7);
    tta_search_result_destroy(&r);
    opt.exhaustive_limit = 0;
    CHECK_EQ_INT(tta_search_run(&s.t, &pool, &opt, &r), TTA_OK);
    CHECK_EQ_INT(r.exhaustive_all, 1);
    tta_search_result_destroy(&r);
    tta_policy_destroy(&pool);
    synth_free(&s);
}

#if defined(__SANITIZE_ADDRESS__)
#define TIMED_IMAGES 500 /* sanitizers make the inner loops ~40x slower: check, don't time */
#else
#define TIMED_IMAGES 5000
#endif

TEST(exhaustive_4_of_24_on_5000_images_is_fast) {
    double sig[25];
    for (int v = 0; v < 25; v++) sig[v] = 0.5 + 0.02 * v;
    synth s;
    synth_make(&s, TIMED_IMAGES, 25, 10, sig, 8);
    int cands[24];
    for (int j = 0; j < 24; j++) cands[j] = j + 1;
    tta_search_pick by[4];
    long long evals;
    struct timespec a, b;
    clock_gettime(CLOCK_MONOTONIC, &a);
    CHECK_EQ_INT(tta_search_exhaustive(&s.t, cands, 24, 4, 0, TTA_OBJECTIVE_ACCURACY, by, &evals), TTA_OK);
    clock_gettime(CLOCK_MONOTONIC, &b);
    CHECK_EQ_INT(evals, 24 + 276 + 2024 + 10626);
    double sec = (double)(b.tv_sec - a.tv_sec) + (b.tv_nsec - a.tv_nsec) * 1e-9;
    printf("  exhaustive: %lld subsets of at most 4 of 24 views on %d images in %.3f s\n", evals, TIMED_IMAGES, sec);
    CHECK(sec < 10); /* generous, for a loaded machine; `tta search --bench-subset` times it */
    synth_free(&s);
}

/* ---- objectives, weights, adaptive ---- */

TEST(objectives_parse_and_calibrate) {
    tta_objective o;
    CHECK_EQ_INT(tta_objective_parse("calibrated-nll", &o), TTA_OK);
    CHECK_EQ_INT(o, TTA_OBJECTIVE_CALIBRATED_NLL);
    CHECK_EQ_INT(tta_objective_parse("nll", &o), TTA_OK);
    CHECK_EQ_INT(tta_objective_parse("top1", &o), TTA_ERR_INVALID_ARG);
    CHECK_STR_CONTAINS(tta_last_error(), "accuracy, nll, calibrated-nll");
    CHECK(strcmp(tta_objective_name(TTA_OBJECTIVE_ACCURACY), "accuracy") == 0);
    /* softmax(l) with l ~ N(4 [c = y], 1) has the posterior softmax(4 l), so cubing the
     * probabilities leaves them under-confident by T = 3/4; Newton agrees with golden section */
    double sig[1] = {4};
    synth s;
    synth_make(&s, 800, 1, 10, sig, 4);
    for (int i = 0; i < 800 * 10; i++) s.probs[i] = powf(s.probs[i], 3); /* sharpen, then renormalise */
    for (int i = 0; i < 800; i++) {
        float sum = 0;
        for (int c = 0; c < 10; c++) sum += s.probs[i * 10 + c];
        for (int c = 0; c < 10; c++) s.probs[i * 10 + c] /= sum;
    }
    double nll;
    double tn = tta_fit_temperature(s.probs, s.labels, 800, 10, &nll);
    double tg = tta_fit_temperature_golden(s.probs, s.labels, 800, 10); /* the independent check */
    CHECK(tn > 0.5 && tn < 0.9); /* 0.754 with 50,000 images; 800 here */
    CHECK_NEAR(tn, tg, 1e-3 * tg);
    float *cal = malloc(sizeof(float) * 8000);
    memcpy(cal, s.probs, sizeof(float) * 8000);
    tta_apply_temperature(cal, 800, 10, tn);
    tta_metrics m;
    tta_metrics_compute(cal, s.labels, 800, 10, &m);
    CHECK_NEAR(nll, m.nll, 1e-4);
    tta_objective_value v;
    tta_objective_eval(TTA_OBJECTIVE_CALIBRATED_NLL, s.probs, s.labels, 800, 10, &v);
    CHECK_NEAR(v.temperature, tn, 1e-12);
    CHECK(v.calibrated_nll < v.nll);
    CHECK_NEAR(v.loss, v.calibrated_nll, 0);
    tta_objective_eval(TTA_OBJECTIVE_ACCURACY, s.probs, s.labels, 800, 10, &v);
    CHECK_NEAR(v.loss, 1 - v.accuracy, 0);
    CHECK_NEAR(v.temperature, 1, 0);
    free(cal);
    synth_free(&s);
}

TEST(learned_weights_beat_the_plain_mean) {
    double sig[4] = {1.5, 1.4, 0.1, 0};
    synth s;
    synth_make(&s, 2000, 4, 10, sig, 12);
    int views[4] = {0, 1, 2, 3};
    double w[4], nu, nf;
    CHECK_EQ_INT(tta_fit_view_weights(&s.t, views, 4, 0, w, &nu, &nf), TTA_OK);
    for (int v = 0; v < 4; v++) CHECK(w[v] >= 0);
    CHECK_NEAR(w[0] + w[1] + w[2] + w[3], 4, 1e-9);
    CHECK(nf < nu - 0.05);
    CHECK(w[0] > w[2] && w[1] > w[3]);
    /* the fitted NLL is that of the weighted merge */
    float *merged = malloc(sizeof(float) * 2000 * 10);
    CHECK_EQ_INT(tta_pred_table_merge(&s.t, views, w, 4, merged), TTA_OK);
    tta_metrics m;
    tta_metrics_compute(merged, s.labels, 2000, 10, &m);
    CHECK_NEAR(m.nll, nf, 1e-4);
    /* one view: weight 1, nothing to fit */
    CHECK_EQ_INT(tta_fit_view_weights(&s.t, views, 1, 0, w, &nu, &nf), TTA_OK);
    CHECK_NEAR(w[0], 1, 0);
    CHECK_NEAR(nu, nf, 0);
    int bad[1] = {9};
    CHECK_EQ_INT(tta_fit_view_weights(&s.t, bad, 1, 0, w, NULL, NULL), TTA_ERR_INVALID_ARG);
    free(merged);
    synth_free(&s);
}

TEST(adaptive_threshold_meets_the_target_cost) {
    int n = 1000;
    float *conf = malloc(sizeof(float) * (size_t)n);
    uint8_t *base = malloc((size_t)n), *full = malloc((size_t)n);
    uint64_t r = 5;
    for (int i = 0; i < n; i++) {
        conf[i] = (float)urand(&r);
        base[i] = urand(&r) < conf[i];                 /* unsure images are often wrong */
        full[i] = base[i] || urand(&r) < 0.5;          /* the full policy fixes half of them */
    }
    tta_adaptive_point p;
    double t = tta_adaptive_threshold(conf, n, 5, 1.5);
    tta_adaptive_eval(conf, base, full, n, 5, t, &p);
    CHECK(p.mean_cost <= 1.5 + 1e-12);
    CHECK(p.mean_cost > 1.49);
    CHECK_NEAR(p.extra_share, 0.125, 0.001);
    tta_adaptive_point none, all;
    tta_adaptive_eval(conf, base, full, n, 5, tta_adaptive_threshold(conf, n, 5, 1), &none);
    tta_adaptive_eval(conf, base, full, n, 5, tta_adaptive_threshold(conf, n, 5, 5), &all);
    CHECK_NEAR(none.mean_cost, 1, 0);
    CHECK_NEAR(all.mean_cost, 5, 0);
    int cb = 0, cf = 0;
    for (int i = 0; i < n; i++) cb += base[i], cf += full[i];
    CHECK_NEAR(none.accuracy, (double)cb / n, 1e-12);
    CHECK_NEAR(all.accuracy, (double)cf / n, 1e-12);
    CHECK(p.accuracy > none.accuracy && p.accuracy < all.accuracy);
    free(conf);
    free(base);
    free(full);
}

/* ---- the cache ---- */

static void tmp_path(char *buf, size_t size, const char *name) {
    snprintf(buf, size, "/tmp/tta_test_search_%d_%s", (int)getpid(), name);
}

TEST(cache_round_trip_stale_and_corrupt) {
    char path[256];
    tmp_path(path, sizeof path, "cache.bin");
    remove(path);
    float a[6] = {0.1f, 0.9f, 0.5f, 0.5f, 1, 0}, b[6] = {0.3f, 0.7f, 0.2f, 0.8f, 0.6f, 0.4f};
    tta_pred_cache *c;
    int stale = 7;
    CHECK_EQ_INT(tta_pred_cache_open(&c, path, 1234, 0xabcdef, &stale), TTA_OK);
    CHECK_EQ_INT(stale, 0);
    CHECK_EQ_INT(tta_pred_cache_count(c), 0);
    CHECK_EQ_INT(tta_pred_cache_put(c, "fashion-mnist:val[0:3]", "identity", 3, 2, 42, a), TTA_OK);
    CHECK_EQ_INT(tta_pred_cache_put(c, "fashion-mnist:val[0:3]", "hflip", 3, 2, 42, b), TTA_OK);
    CHECK_EQ_INT(tta_pred_cache_put(c, "fashion-mnist:test[0:3]", "hflip", 3, 2, 43, a), TTA_OK);
    CHECK_EQ_INT(tta_pred_cache_put(c, "fashion-mnist:val[0:3]", "hflip", 3, 2, 42, b), TTA_OK); /* replaces */
    CHECK_EQ_INT(tta_pred_cache_count(c), 3);
    CHECK_EQ_INT(tta_pred_cache_save(c), TTA_OK);
    tta_pred_cache_free(c);

    CHECK_EQ_INT(tta_pred_cache_open(&c, path, 1234, 0xabcdef, &stale), TTA_OK);
    CHECK_EQ_INT(stale, 0);
    CHECK_EQ_INT(tta_pred_cache_count(c), 3);
    const float *got = tta_pred_cache_find(c, "fashion-mnist:val[0:3]", "hflip", 3, 2, 42);
    CHECK(got && memcmp(got, b, sizeof b) == 0);
    got = tta_pred_cache_find(c, "fashion-mnist:test[0:3]", "hflip", 3, 2, 43);
    CHECK(got && memcmp(got, a, sizeof a) == 0);
    CHECK(!tta_pred_cache_find(c, "fashion-mnist:val[0:3]", "vflip", 3, 2, 42));
    CHECK(!tta_pred_cache_find(c, "fashion-mnist:val[0:3]", "hflip", 3, 2, 99)); /* other labels */
    CHECK(!tta_pred_cache_find(c, "fashion-mnist:val[0:3]", "hflip", 4, 2, 42)); /* other size */
    tta_pred_cache_free(c);

    /* another model: stale, empty */
    CHECK_EQ_INT(tta_pred_cache_open(&c, path, 1234, 0xabcdee, &stale), TTA_OK);
    CHECK_EQ_INT(stale, 1);
    CHECK_EQ_INT(tta_pred_cache_count(c), 0);
    tta_pred_cache_free(c);

    /* truncated: every shorter prefix is an error naming the file, and leaves an empty cache */
    FILE *f = fopen(path, "rb");
    unsigned char buf[4096];
    size_t size = fread(buf, 1, sizeof buf, f);
    fclose(f);
    char cut[256];
    tmp_path(cut, sizeof cut, "cut.bin");
    int errors = 0;
    for (size_t len = 1; len < size; len++) {
        if (len == 28) continue; /* the header alone is a valid empty cache */
        int ends_record = 0;   /* so is a cut exactly between records */
        f = fopen(cut, "wb");
        fwrite(buf, 1, len, f);
        fclose(f);
        tta_status st = tta_pred_cache_open(&c, cut, 1234, 0xabcdef, &stale);
        if (st == TTA_OK) ends_record = 1;
        else {
            errors++;
            CHECK_EQ_INT(st, TTA_ERR_PARSE);
            CHECK_STR_CONTAINS(tta_last_error(), cut);
            CHECK(c && tta_pred_cache_count(c) == 0);
        }
        if (ends_record) CHECK(c && tta_pred_cache_count(c) >= 1 && tta_pred_cache_count(c) <= 2);
        tta_pred_cache_free(c);
    }
    CHECK_EQ_INT(errors, (int)size - 1 - 1 - 2);
    f = fopen(cut, "wb");
    fwrite(buf, 1, 100, f);
    fclose(f);
    CHECK_EQ_INT(tta_pred_cache_open(&c, cut, 1234, 0xabcdef, &stale), TTA_ERR_PARSE);
    CHECK_STR_CONTAINS(tta_last_error(), "truncated");
    tta_pred_cache_free(c);

    /* a flipped bit in a probability fails the record's checksum */
    buf[size - 12] ^= 0x10;
    f = fopen(cut, "wb");
    fwrite(buf, 1, size, f);
    fclose(f);
    CHECK_EQ_INT(tta_pred_cache_open(&c, cut, 1234, 0xabcdef, &stale), TTA_ERR_PARSE);
    CHECK_STR_CONTAINS(tta_last_error(), "checksum");
    /* ... and the empty cache it leaves can be rebuilt and saved over the corrupt file */
    CHECK_EQ_INT(tta_pred_cache_put(c, "d", "identity", 3, 2, 1, a), TTA_OK);
    CHECK_EQ_INT(tta_pred_cache_save(c), TTA_OK);
    tta_pred_cache_free(c);
    CHECK_EQ_INT(tta_pred_cache_open(&c, cut, 1234, 0xabcdef, &stale), TTA_OK);
    CHECK_EQ_INT(tta_pred_cache_count(c), 1);
    tta_pred_cache_free(c);

    /* not a cache at all */
    f = fopen(cut, "wb");
    fputs("hflip\nshift(1, 0, wrap)\nrotate(10) and more text to pass the header size\n", f);
    fclose(f);
    CHECK_EQ_INT(tta_pred_cache_open(&c, cut, 1234, 0xabcdef, &stale), TTA_ERR_PARSE);
    CHECK_STR_CONTAINS(tta_last_error(), "not a tta prediction cache");
    tta_pred_cache_free(c);
    remove(cut);
    remove(path);
}

TEST(file_key_and_hash) {
    char path[256];
    tmp_path(path, sizeof path, "model.bin");
    FILE *f = fopen(path, "wb");
    for (int i = 0; i < 3000000; i++) fputc(i * 7 & 0xff, f);
    fclose(f);
    uint64_t size, h1, h2;
    CHECK_EQ_INT(tta_file_key(path, &size, &h1), TTA_OK);
    CHECK_EQ_INT(size, 3000000);
    f = fopen(path, "r+b");
    fseek(f, 2500000, SEEK_SET);
    fputc(1, f);
    fclose(f);
    CHECK_EQ_INT(tta_file_key(path, &size, &h2), TTA_OK);
    CHECK(h1 != h2);
    CHECK(tta_hash64("abc", 3, 0) != tta_hash64("abd", 3, 0));
    CHECK(tta_hash64("abc", 3, 0) != tta_hash64("abc\0", 4, 0));
    remove(path);
    CHECK_EQ_INT(tta_file_key(path, &size, &h2), TTA_ERR_IO);
}

/* ---- pools and families ---- */

TEST(pools_parse) {
    tta_policy p;
    CHECK_EQ_INT(tta_policy_parse(&p, tta_search_pool_text("default"), NULL), TTA_OK);
    CHECK_EQ_INT(p.n_views, 82);
    int comp = 0;
    for (int v = 0; v < p.n_views; v++) {
        char fam[96], row[48];
        double ord;
        tta_search_view_family(&p.views[v], fam, sizeof fam, row, sizeof row, &ord);
        CHECK(strcmp(fam, "composite") != 0);
        comp += tta_search_view_is_composite(&p.views[v]);
    }
    CHECK_EQ_INT(comp, 40);
    tta_policy_destroy(&p);
    CHECK_EQ_INT(tta_policy_parse(&p, tta_search_pool_text("small"), NULL), TTA_OK);
    CHECK_EQ_INT(p.n_views, 17);
    tta_policy_destroy(&p);
    CHECK(tta_search_pool_text("nope") == NULL);
}

TEST(families_group_by_magnitude) {
    tta_policy p;
    CHECK_EQ_INT(tta_policy_parse(&p,
                                  "shift(1, 0, wrap); shift(-1, 0, wrap); shift(2, 0, wrap); rotate(10); "
                                  "rotate(-10); scale(0.9); scale(1.1); hflip > shift(1, 0, wrap); hflip; "
                                  "vflip > rotate(5) > hflip",
                                  NULL),
                 TTA_OK);
    double sig[11] = {1, 0.9, 0.9, 0.8, 0.7, 0.7, 0.6, 0.6, 0.9, 0.9, 0.2};
    synth s;
    synth_make(&s, 300, 11, 4, sig, 2);
    tta_family *f;
    int nf;
    CHECK_EQ_INT(tta_search_families(&s.t, &p, TTA_OBJECTIVE_ACCURACY, &f, &nf), TTA_OK);
    CHECK_EQ_INT(nf, 6);
    CHECK(strcmp(f[0].name, "shift x") == 0);
    CHECK_EQ_INT(f[0].n_rows, 2);
    CHECK(strcmp(f[0].rows[0].label, "1 px") == 0);
    CHECK_EQ_INT(f[0].rows[0].n_views, 2);
    CHECK(strcmp(f[0].rows[1].label, "2 px") == 0);
    CHECK(strcmp(f[1].name, "rotate") == 0 && f[1].rows[0].n_views == 2);
    CHECK(strcmp(f[2].name, "scale") == 0 && f[2].n_rows == 1 && f[2].rows[0].n_views == 2);
    CHECK(strcmp(f[3].name, "hflip > shift x") == 0 && f[3].composite);
    CHECK(strcmp(f[4].name, "flip") == 0 && !f[4].composite);
    CHECK(strcmp(f[5].name, "composite") == 0);
    /* each row's figure is the identity merged with the row's views */
    int sel[3] = {0, f[0].rows[0].views[0], f[0].rows[0].views[1]};
    tta_objective_value v = score(&s.t, sel, 3, TTA_OBJECTIVE_ACCURACY);
    CHECK_NEAR(f[0].rows[0].with_identity.accuracy, v.accuracy, 0);
    tta_search_families_free(f, nf);
    synth_free(&s);
    tta_policy_destroy(&p);
}

/* ---- the honest estimate (honest.c) ---------------------------------------------------------- */

static const char *honest_pool =
    "hflip; shift(1, 0, wrap); shift(-1, 0, wrap); shift(0, 1, wrap); rotate(5); rotate(-5); scale(0.9); "
    "scale(1.1); hflip > shift(1, 0, wrap); hflip > rotate(5); hflip > scale(1.1)";

/* Views that know nothing the identity does not: each is the identity's logits plus noise of its
 * own (sd 0.3). No policy can gain in truth (merging only adds noise), yet a search finds
 * policies that gain on the images it searched. */
static void synth_copies(synth *s, int n, int V, int k, uint64_t seed) {
    s->probs = malloc(sizeof(float) * (size_t)n * V * k);
    s->labels = malloc(sizeof(int) * (size_t)n);
    uint64_t r = seed;
    double *base = malloc(sizeof(double) * (size_t)n * k);
    for (int i = 0; i < n; i++) {
        s->labels[i] = (int)(rng_next(&r) % (uint64_t)k);
        for (int c = 0; c < k; c++) base[(size_t)i * k + c] = nrand(&r) + (c == s->labels[i] ? 1.0 : 0);
    }
    for (int v = 0; v < V; v++)
        for (int i = 0; i < n; i++) {
            float *p = s->probs + ((size_t)v * n + i) * k;
            double l[64], mx = -1e300, sum = 0;
            for (int c = 0; c < k; c++) {
                l[c] = base[(size_t)i * k + c] + (v ? 0.3 * nrand(&r) : 0);
                if (l[c] > mx) mx = l[c];
            }
            for (int c = 0; c < k; c++) sum += exp(l[c] - mx);
            for (int c = 0; c < k; c++) p[c] = (float)(exp(l[c] - mx) / sum);
        }
    free(base);
    s->t = (tta_pred_table){n, k, V, s->probs, s->labels};
}

static double merged_accuracy(const tta_pred_table *t, const tta_search_pick *p) {
    float *m = malloc(sizeof(float) * (size_t)t->n * t->k);
    tta_pred_table_merge(t, p->views, p->weighted ? p->weights : NULL, p->n_views, m);
    int right = 0;
    for (int i = 0; i < t->n; i++) right += tta_argmax(m + (size_t)i * t->k, t->k) == t->labels[i];
    free(m);
    return (double)right / t->n;
}

TEST(honest_estimate_sees_no_gain_where_there_is_none) {
    tta_policy pool;
    CHECK_EQ_INT(tta_policy_parse(&pool, honest_pool, NULL), TTA_OK);
    synth val;
    synth_copies(&val, 2000, 12, 6, 31);
    tta_search_options opt = {.budget = 4, .objective = TTA_OBJECTIVE_ACCURACY};
    tta_honest_estimate e;
    CHECK_EQ_INT(tta_search_honest(&val.t, &pool, &opt, 5, 7, &e), TTA_OK);
    CHECK_EQ_INT(e.budget, 4);
    CHECK_EQ_INT(e.n_folds, 25);
    CHECK(e.held_gain[0] == 0 && e.fold_gain[0] == 0);
    for (int b = 1; b < 4; b++) {
        CHECK(e.fold_gain[b] > 0);                  /* the search fits the noise of its half... */
        CHECK(e.held_gain[b] < e.fold_gain[b]);     /* ...which the other half does not show */
        CHECK(e.held_gain[b] < 0.004);
        CHECK(e.lo[b] < 0 && e.hi[b] > e.held_gain[b]);
        CHECK(!e.supported[b]);
    }
    CHECK_EQ_INT(tta_honest_budget(&e), 1); /* so the identity is kept */
    if (getenv("TTA_TEST_VERBOSE"))
        for (int b = 0; b < 4; b++)
            fprintf(stderr, "  budget %d: fold %+.4f held %+.4f [%+.4f, %+.4f]\n", b + 1, e.fold_gain[b], e.held_gain[b],
                    e.lo[b], e.hi[b]);
    /* the same seed, the same estimate */
    tta_honest_estimate e2;
    CHECK_EQ_INT(tta_search_honest(&val.t, &pool, &opt, 5, 7, &e2), TTA_OK);
    CHECK(!memcmp(e.held_gain, e2.held_gain, sizeof e.held_gain));
    synth_free(&val);
    tta_policy_destroy(&pool);
}

TEST(honest_estimate_finds_a_real_gain_and_covers_the_test_gain) {
    /* independent views of equal strength: their mean is better than any one of them */
    double sig[12] = {1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0};
    tta_policy pool;
    CHECK_EQ_INT(tta_policy_parse(&pool, honest_pool, NULL), TTA_OK);
    synth val, test;
    synth_make(&val, 2000, 12, 6, sig, 41);
    synth_make(&test, 4000, 12, 6, sig, 42);
    tta_search_options opt = {.budget = 4, .objective = TTA_OBJECTIVE_ACCURACY};
    tta_honest_estimate e;
    CHECK_EQ_INT(tta_search_honest(&val.t, &pool, &opt, 5, 7, &e), TTA_OK);
    CHECK(e.held_gain[3] > 0.03);
    CHECK(e.supported[3]);
    CHECK(e.positive_share[3] == 1.0);
    CHECK_EQ_INT(tta_honest_budget(&e), 4);
    /* the policy chosen on the whole validation table, on new images */
    tta_search_result r;
    CHECK_EQ_INT(tta_search_run(&val.t, &pool, &opt, &r), TTA_OK);
    tta_search_pick id = {.n_views = 1};
    double gain = merged_accuracy(&test.t, &r.best[3]) - merged_accuracy(&test.t, &id);
    if (getenv("TTA_TEST_VERBOSE"))
        fprintf(stderr, "  budget 4: fold %+.4f held %+.4f [%+.4f, %+.4f], test %+.4f\n", e.fold_gain[3], e.held_gain[3],
                e.lo[3], e.hi[3], gain);
    CHECK(gain > 0.03);
    CHECK(gain >= e.lo[3] && gain <= e.hi[3]);
    CHECK(e.fold_gain[3] >= e.held_gain[3]); /* the half searched flatters, as the whole split does */
    tta_search_result_destroy(&r);
    /* bad arguments */
    CHECK_EQ_INT(tta_search_honest(&val.t, &pool, &opt, 0, 7, &e), TTA_ERR_INVALID_ARG);
    CHECK_EQ_INT(tta_search_honest(&val.t, &pool, &opt, 21, 7, &e), TTA_ERR_INVALID_ARG);
    tta_pred_table tiny = val.t;
    tiny.n = 10;
    CHECK_EQ_INT(tta_search_honest(&tiny, &pool, &opt, 5, 7, &e), TTA_ERR_INVALID_ARG);
    synth_free(&val);
    synth_free(&test);
    tta_policy_destroy(&pool);
}

/* The frontier's Pareto marking on hand-made points: (cost, accuracy) */
TEST(pareto_front_by_hand) {
    /* A (1, .80) front; B (2, .85) front; C (2, .84) dominated by B; D (3, .85) dominated by B
     * (same accuracy, dearer); E (4, .90) front; F (4, .90) equal to E: both on it; G (0.5, .70)
     * the cheapest: front; H (5, .89) dominated by E */
    const double cost[] = {1, 2, 2, 3, 4, 4, 0.5, 5}, acc[] = {.80, .85, .84, .85, .90, .90, .70, .89};
    const int want[] = {1, 1, 0, 0, 1, 1, 1, 0};
    int on[8];
    tta_pareto_front(cost, acc, 8, on);
    for (int i = 0; i < 8; i++) CHECK_EQ_INT(on[i], want[i]);
    tta_pareto_front(cost, acc, 1, on);
    CHECK_EQ_INT(on[0], 1);
}

/* Pruning by step 1: views whose family rows do not beat the identity alone are never tried in
 * steps 2 and 3; the views that help stay. */
TEST(prune_keeps_only_the_rows_that_help) {
    /* identity strong; hflip (its own family) and rotate(+-5) (one row of the rotate family)
       help, with independent noise of the same strength; the rest steer away from the truth */
    double sig[12] = {1.5, 1.5, -2, -2, -2, 1.5, 1.5, -2, -2, -2, -2, -2};
    tta_policy pool;
    CHECK_EQ_INT(tta_policy_parse(&pool, honest_pool, NULL), TTA_OK);
    synth s;
    synth_make(&s, 1500, 12, 6, sig, 51);
    tta_search_options opt = {.budget = 4, .objective = TTA_OBJECTIVE_ACCURACY, .prune = 1};
    tta_search_result r;
    CHECK_EQ_INT(tta_search_run(&s.t, &pool, &opt, &r), TTA_OK);
    CHECK_EQ_INT(r.n_candidates, 3);
    for (int b = 0; b < r.budget; b++)
        for (int j = 0; j < r.best[b].n_views; j++) {
            int v = r.best[b].views[j];
            CHECK(v == 0 || v == 1 || v == 5 || v == 6);
        }
    CHECK_EQ_INT(r.best[3].n_views, 4); /* identity, hflip, rotate(5), rotate(-5): all help */
    tta_search_result_destroy(&r);
    /* without pruning every view is a candidate */
    opt.prune = 0;
    CHECK_EQ_INT(tta_search_run(&s.t, &pool, &opt, &r), TTA_OK);
    CHECK_EQ_INT(r.n_candidates, 11);
    tta_search_result_destroy(&r);
    /* nothing helps: nothing is tried, the identity is every budget's policy */
    double bad[12] = {1.5, -3, -3, -3, -3, -3, -3, -3, -3, -3, -3, -3};
    synth h;
    synth_make(&h, 400, 12, 6, bad, 52);
    opt.prune = 1;
    CHECK_EQ_INT(tta_search_run(&h.t, &pool, &opt, &r), TTA_OK);
    CHECK_EQ_INT(r.n_candidates, 0);
    for (int b = 0; b < r.budget; b++) CHECK_EQ_INT(r.best[b].n_views, 1);
    tta_search_result_destroy(&r);
    synth_free(&s);
    synth_free(&h);
    tta_policy_destroy(&pool);
}
