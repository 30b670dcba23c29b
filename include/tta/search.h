/* search.h - policy search under an inference budget: given a model's per-view predictions on
 * validation data and a budget of N passes per image, find the best policy of at most N views
 * (the identity included), and show on separate test data what it buys.
 *
 * The search works on *prediction tables*: every candidate view of a pool runs once over a data
 * set (the prediction cache keeps those runs between searches), and every policy is then scored
 * by merging rows of the table, without running the model again. Three steps, as SPEC.md says:
 *   1. each parameter family swept alone: shift 1..4 px, angle, scale... (tta_search_families);
 *   2. the best combination of at most N single views including the identity: exhaustive where
 *      the count of subsets allows, greedy forward selection and beam search otherwise, and
 *      greedy with replacement as in GPS (Molchanov et al., UAI 2020);
 *   3. composite views (e.g. hflip > shift): members of the step-2 policies swapped for them.
 * Objectives: accuracy, NLL, and NLL after a temperature fitted on the same data.
 *
 *     tta_policy pool;         tta_policy_parse(&pool, tta_search_pool_text("default"), NULL);
 *     ... run each view of `pool` on the validation images into probs (view-major) ...
 *     tta_pred_table val = {n, k, pool.n_views, probs, labels};
 *     tta_search_options o = {.budget = 4, .objective = TTA_OBJECTIVE_ACCURACY};
 *     tta_search_result r;     tta_search_run(&val, &pool, &o, &r);
 *     // r.best[b]: the best policy of at most b + 1 views (views index the pool)
 *     tta_search_result_destroy(&r);
 *
 * Around the search: significance of a gain on test data (paired bootstrap interval, exact
 * McNemar test), learned per-view weights, and adaptive TTA (extra views only for images the
 * identity view is unsure about).
 *
 * Errors: calls that can fail return a tta_status and set tta_last_error(). Nothing here runs a
 * model or prints.
 */
#ifndef TTA_SEARCH_H
#define TTA_SEARCH_H

#include <stddef.h>
#include <stdint.h>

#include "tta/augment.h"
#include "tta/status.h"

#ifdef __cplusplus
extern "C" {
#endif

#define TTA_SEARCH_MAX_BUDGET 16 /* the largest budget (views per image) a search accepts */

/* ---- candidate pools (pool.c) ------------------------------------------------------------- */

/* Pool text by name: "default" (identity; hflip, vflip; wrap shifts of 1..4 px along each axis
 * both ways; rotations of 2, 5, 10, 15 degrees both ways; scales 0.85..1.15; five 87.5% crops;
 * brightness and contrast 0.9 and 1.1; each of these composed with hflip: 82 views) or "small"
 * (17 views, for quick runs). NULL for another name: a pool is otherwise any policy text. */
TTA_API const char *tta_search_pool_text(const char *name);

/* 1 if the view chains two or more transforms (a composite, tried in step 3). */
TTA_API int tta_search_view_is_composite(const tta_view *view);

/* Which sweep family a view belongs to and its row there: e.g. shift(-3, 0, wrap) is family
 * "shift x", row "3 px" (order 3), together with shift(3, 0, wrap); rotate(10) is "rotate",
 * "10 deg"; scale(0.9) is "scale", "1 +- 0.1"; hflip > shift(0, 2, wrap) is "hflip > shift y",
 * "2 px". A chain that fits no family is its own family "composite" with the view as its row. */
TTA_API void tta_search_view_family(const tta_view *view, char *family, size_t family_size, char *row, size_t row_size,
                            double *order);

/* ---- prediction tables -------------------------------------------------------------------- */

/* Per-view class probabilities of n labelled images, view-major: probs[(v * n + i) * k + c].
 * (tta_classify_views writes image-major tables: (i * n_views + v) * k + c.) Borrowed. */
typedef struct tta_pred_table {
    int n, k, n_views;
    const float *probs;
    const int *labels; /* n labels in [0, k) */
} tta_pred_table;

/* Merges views[0..m) of the table into out (n x k) exactly as the streaming merger does
 * (tta_merger, in the order given): the plain mean if weights is NULL, else the weighted mean.
 * So a policy scored here scores the same in `tta eval`. Errors: INVALID_ARG, NOMEM. */
TTA_API tta_status tta_pred_table_merge(const tta_pred_table *t, const int *views, const double *weights, int m,
                                float *out);

/* ---- objectives (objective.c) ------------------------------------------------------------- */

typedef enum tta_objective {
    TTA_OBJECTIVE_ACCURACY = 0,   /* top-1 accuracy (ties broken by the lower NLL) */
    TTA_OBJECTIVE_NLL,            /* mean negative log-likelihood of the true class */
    TTA_OBJECTIVE_CALIBRATED_NLL  /* NLL after temperature scaling fitted on the same data */
} tta_objective;

TTA_API const char *tta_objective_name(tta_objective o); /* "accuracy", "nll", "calibrated-nll" */
/* Errors: INVALID_ARG naming the known objectives. */
TTA_API tta_status tta_objective_parse(const char *name, tta_objective *out);

typedef struct tta_objective_value {
    double accuracy;
    double nll;            /* true-class p floored at 1e-7, as tta_metrics_compute */
    double calibrated_nll; /* only for TTA_OBJECTIVE_CALIBRATED_NLL, else equal to nll */
    double temperature;    /* fitted T (1 unless calibrated) */
    double loss;           /* lower is better: 1 - accuracy, nll or calibrated_nll */
} tta_objective_value;

/* Scores merged probabilities (n x k). The temperature is fitted only for the calibrated
 * objective (tta_fit_temperature of classify.h). */
TTA_API void tta_objective_eval(tta_objective obj, const float *probs, const int *labels, int n, int k,
                        tta_objective_value *out);

/* < 0 if a is better than b under obj, > 0 if worse, 0 if equal: the loss first (NLLs within
 * a relative 1e-9 are equal), then the other figure (NLL for accuracy, accuracy for the NLLs). */
TTA_API int tta_objective_compare(tta_objective obj, const tta_objective_value *a, const tta_objective_value *b);


/* ---- subset search (subset.c) ------------------------------------------------------------- */

/* A policy found by a search: views index the table, ascending, and views[0] is 0 (the
 * identity) when the search includes it. weights are per view: 1 for a plain mean, or the
 * number of times greedy-with-replacement picked the view. */
typedef struct tta_search_pick {
    int n_views; /* distinct views = passes per image; 0: none found */
    int views[TTA_SEARCH_MAX_BUDGET];
    double weights[TTA_SEARCH_MAX_BUDGET];
    int weighted;             /* 1 if the weights are not all equal */
    tta_objective_value val;  /* on the table searched */
    char method[24];          /* the step that found it: exhaustive, greedy, beam, gps, composite */
} tta_search_pick;

/* Low-level searches over candidate views cands[0..n_cands) of a table. by_size[s] receives
 * the best subset of exactly s + 1 views for s < max_views (n_views 0 where there is none).
 * With with_identity, view 0 of the table is always included and must not be a candidate
 * (by_size[0] is the identity alone); without, subsets are any views among the candidates.
 * Each returns in *n_evaluated (may be NULL) how many subsets it scored. Errors: INVALID_ARG
 * (max_views outside 1..TTA_SEARCH_MAX_BUDGET, a bad candidate), NOMEM. */

/* Every subset, with running sums of per-view probabilities along a depth-first walk, so that
 * each subset costs one pass over n x k numbers. For the calibrated objective the best 32
 * subsets of each size by NLL are re-scored with a fitted temperature. */
TTA_API tta_status tta_search_exhaustive(const tta_pred_table *t, const int *cands, int n_cands, int max_views,
                                 int with_identity, tta_objective obj, tta_search_pick *by_size,
                                 long long *n_evaluated);
/* Beam search keeping the beam_width best subsets of each size; beam_width 1 is greedy forward
 * selection. For the calibrated objective the best 2 x beam_width + 8 by NLL are re-scored
 * with a fitted temperature at each size (8 per step in tta_search_gps and tta_search_swap). */
TTA_API tta_status tta_search_beam(const tta_pred_table *t, const int *cands, int n_cands, int max_views,
                           int with_identity, int beam_width, tta_objective obj, tta_search_pick *by_size,
                           long long *n_evaluated);
/* Greedy with replacement as in GPS: `steps` times, add the candidate (or the identity, or a
 * view already chosen) that scores best, keeping at most max_views distinct views; a view
 * picked c times has weight c. Always includes the identity. */
TTA_API tta_status tta_search_gps(const tta_pred_table *t, const int *cands, int n_cands, int max_views, int steps,
                          tta_objective obj, tta_search_pick *by_size, long long *n_evaluated);
/* Local search: swaps a member of *pick (never the identity) for a candidate while that
 * improves the objective. Keeps the weights plain (1). */
TTA_API tta_status tta_search_swap(const tta_pred_table *t, const int *cands, int n_cands, tta_objective obj,
                           tta_search_pick *pick, long long *n_evaluated);

/* Step 1: one table per family of single or composite views (tta_search_view_family). Each
 * row merges the identity with the row's views (e.g. identity, shift(3, 0), shift(-3, 0)). */
typedef struct tta_family_row {
    char label[48];
    double order;
    int n_views;
    int *views;                   /* table indices */
    double alone_accuracy;        /* mean accuracy of the row's views each alone */
    tta_objective_value with_identity;
} tta_family_row;

typedef struct tta_family {
    char name[96];
    int composite; /* 1 for families of composite views */
    int n_rows;
    tta_family_row *rows; /* by order */
    int best;             /* the row with the best with_identity value */
} tta_family;

TTA_API tta_status tta_search_families(const tta_pred_table *t, const tta_policy *pool, tta_objective obj,
                               tta_family **families, int *n_families);
TTA_API void tta_search_families_free(tta_family *families, int n_families);

typedef enum tta_search_method {
    TTA_SEARCH_EXHAUSTIVE = 0,
    TTA_SEARCH_GREEDY,
    TTA_SEARCH_BEAM,
    TTA_SEARCH_GPS,
    TTA_SEARCH_COMPOSITE,
    TTA_SEARCH_N_METHODS
} tta_search_method;

TTA_API const char *tta_search_method_name(tta_search_method m);

typedef struct tta_search_options {
    int budget;               /* at most this many views per image, the identity included: 1..16 */
    tta_objective objective;
    int beam_width;           /* 0: 8 */
    double exhaustive_limit;  /* largest subsets x images x classes searched exhaustively (0: 6e9,
                                 a few seconds: every policy of up to 5 of 41 views on 5,000
                                 images of 10 classes) */
    int gps_steps;            /* 0: 2 x budget */
    int prune;                /* 1: step 1 prunes the pool: step 2 and 3 try only the views of the
                                 family rows that beat the identity alone (fewer candidates, less
                                 of the winner's curse); 0: every view */
} tta_search_options;

typedef struct tta_search_result {
    int budget;                                    /* as asked, capped at the pool size */
    tta_objective objective;
    tta_family *families;                          /* step 1 */
    int n_families;
    int shortlist[4 * TTA_SEARCH_MAX_BUDGET * 8];  /* step 1's best rows (singles), if used */
    int n_shortlist;
    int exhaustive_all;   /* 1: step 2 was exhaustive over every single view of the pool */
    tta_search_pick by_method[TTA_SEARCH_N_METHODS][TTA_SEARCH_MAX_BUDGET]; /* by exact size */
    tta_search_pick by_size[TTA_SEARCH_MAX_BUDGET]; /* best of the methods, exactly s + 1 views */
    tta_search_pick best[TTA_SEARCH_MAX_BUDGET];    /* best with at most b + 1 views: never worse
                                                       than the identity alone; more views only
                                                       for a strictly better objective */
    int n_candidates;     /* views other than the identity that steps 2 and 3 tried (after pruning) */
    long long n_evaluated;
    double seconds;
} tta_search_result;

/* The three steps on a table whose views are those of `pool` (view 0 the identity). Every pick
 * is re-scored with tta_pred_table_merge, so its figures are those `tta eval` would give. */
TTA_API tta_status tta_search_run(const tta_pred_table *t, const tta_policy *pool, const tta_search_options *opt,
                          tta_search_result *res);
TTA_API void tta_search_result_destroy(tta_search_result *res);

/* ---- what a search will deliver, from validation alone (honest.c) ------------------------- */

/* A search picks, among many policies, the one that looks best on the validation images, so
 * its validation gain overstates what it gains on new images (the winner's curse). The honest
 * estimate measures that on validation alone, by repeated 5-fold selection: `repeats` times the
 * images are dealt at random into five parts; for each part the same search runs on the other
 * four, and the best policy of each budget it finds is scored on the part left out against the
 * identity. The mean of these held-out gains (accuracy; 5 x repeats of them) estimates what the
 * policy chosen on the whole split gains on test images (a little pessimistically: each search
 * saw 4/5 of the images). Its standard error is corrected for the folds' shared images (Nadeau
 * and Bengio 2003: (1/J + 1/4) times the folds' variance), and the interval adds the sampling
 * noise of a test set as large as the validation split: it is where the test gain should land. */
typedef struct tta_honest_estimate {
    int budget;                                   /* rows: budgets 1..budget */
    int n_folds;                                  /* 5 x repeats */
    double fold_gain[TTA_SEARCH_MAX_BUDGET];      /* mean over folds of the gain on the images searched */
    double held_gain[TTA_SEARCH_MAX_BUDGET];      /* mean over folds of the gain on the part left out */
    double held_sd[TTA_SEARCH_MAX_BUDGET];        /* standard deviation of the held-out gains */
    double held_se[TTA_SEARCH_MAX_BUDGET];        /* corrected standard error of held_gain */
    double lo[TTA_SEARCH_MAX_BUDGET], hi[TTA_SEARCH_MAX_BUDGET]; /* 95% interval of a test gain */
    double positive_share[TTA_SEARCH_MAX_BUDGET]; /* folds whose held-out gain is above 0 */
    int supported[TTA_SEARCH_MAX_BUDGET];         /* held_gain - held_se > 0: a gain the estimate supports */
    double seconds;
} tta_honest_estimate;

/* The estimate for the search `opt` on table t (views those of `pool`, view 0 the identity),
 * with `repeats` random deals (1..20) drawn from `seed`. Needs at least 20 images. Errors:
 * INVALID_ARG, NOMEM, or the search's own. */
TTA_API tta_status tta_search_honest(const tta_pred_table *t, const tta_policy *pool, const tta_search_options *opt,
                             int repeats, uint64_t seed, tta_honest_estimate *out);

/* The largest budget b (1-based) whose estimate is supported, or 1 (the identity alone) when
 * none is: the budget a careful user keeps. */
TTA_API int tta_honest_budget(const tta_honest_estimate *e);

/* ---- significance (stats.c) --------------------------------------------------------------- */

/* Two-sided exact McNemar p-value for b and c discordant pairs: 2 P(X <= min(b, c)) with
 * X ~ Binomial(b + c, 1/2), at most 1; 1 when b + c == 0. Summed in log space, so it is
 * accurate for large counts. */
TTA_API double tta_mcnemar_exact(int b, int c);

/* Paired bootstrap: the percentile interval at `level` (e.g. 0.95) of mean(b_ok) - mean(a_ok)
 * over n_boot resamples of the n image pairs, with a fixed seed (same seed, same interval). */
TTA_API tta_status tta_bootstrap_diff_ci(const uint8_t *a_ok, const uint8_t *b_ok, int n, int n_boot, uint64_t seed,
                                 double level, double *lo, double *hi);

/* A policy against a baseline (usually the identity) on the same images. */
typedef struct tta_paired_stats {
    int n;
    int corrected;          /* baseline wrong, policy right */
    int broken;             /* baseline right, policy wrong */
    double base_accuracy, accuracy;
    double gain;            /* accuracy - base_accuracy */
    double ci_lo, ci_hi;    /* 95% paired bootstrap interval of the gain */
    double mcnemar_p;
} tta_paired_stats;

/* From merged probabilities (n x k each): argmax against labels. */
TTA_API tta_status tta_paired_stats_compute(const float *base_probs, const float *probs, const int *labels, int n, int k,
                                    int n_boot, uint64_t seed, tta_paired_stats *out);

/* The Pareto front of n points by cost (lower is better) and accuracy (higher is better):
 * on_front[i] = 1 when no other point costs at most as much and is at least as accurate, and
 * better in one of the two. Equal points are all on the front. */
TTA_API void tta_pareto_front(const double *cost, const double *accuracy, int n, int *on_front);

/* ---- learned weights (weights.c) ---------------------------------------------------------- */

/* One non-negative weight per view of views[0..m) minimising the NLL of the weighted mean on
 * the table, by multiplicative (EM) updates on the mixture proportions, which keep them
 * non-negative and never raise the NLL. Weights are scaled to mean 1. nll_uniform and
 * nll_fitted (may be NULL) receive the NLL of the plain and the weighted mean. Errors:
 * INVALID_ARG, NOMEM. */
TTA_API tta_status tta_fit_view_weights(const tta_pred_table *t, const int *views, int m, int max_iter, double *weights,
                                double *nll_uniform, double *nll_fitted);

/* ---- adaptive TTA (adaptive.c) ------------------------------------------------------------ */

/* Adaptive TTA runs the identity view on every image and the policy's other views only on
 * images whose identity confidence (top probability) is below a threshold: the mean cost is
 * 1 + (n_views - 1) x (share of images below it). */
typedef struct tta_adaptive_point {
    double threshold;
    double extra_share; /* images that got the extra views */
    double mean_cost;   /* passes per image */
    double accuracy;
} tta_adaptive_point;

/* The threshold giving a mean cost of at most target_cost on these confidences (n of them). */
TTA_API double tta_adaptive_threshold(const float *confidence, int n, int n_views, double target_cost);

/* Accuracy and cost at a threshold: base_ok / full_ok say if the identity alone / the full
 * policy is right on each image. */
TTA_API void tta_adaptive_eval(const float *confidence, const uint8_t *base_ok, const uint8_t *full_ok, int n,
                       int n_views, double threshold, tta_adaptive_point *out);

/* ---- the prediction cache (cache.c) ------------------------------------------------------- */

/* A file of per-view predictions, keyed by model (file size and a 64-bit hash of its bytes),
 * data spec and view text, so that a later search with another budget or objective reads them
 * instead of running the model. Format (little-endian): "TTACACHE", u32 version, u64 model
 * size, u64 model hash; then records: u32 "REC1", u32 spec length, spec, u32 view length,
 * view, u32 n, u32 k, u64 labels hash, n x k float32, u64 hash of the record. */
typedef struct tta_pred_cache tta_pred_cache;

/* Opens the cache at `path` for a model. A missing file gives an empty cache; a file made for
 * another model an empty cache with *stale = 1 (may be NULL). A corrupt or truncated file gives
 * PARSE naming the file and the problem, and *out is then an empty cache ready to be rebuilt
 * and saved over it. Errors: PARSE, IO, NOMEM (then *out may be NULL). */
TTA_API tta_status tta_pred_cache_open(tta_pred_cache **out, const char *path, uint64_t model_size, uint64_t model_hash,
                               int *stale);
/* The n x k probabilities of `view` on data `spec`, or NULL if not cached (or cached with
 * another n, k or labels hash). Valid until the next put or free. */
TTA_API const float *tta_pred_cache_find(const tta_pred_cache *c, const char *spec, const char *view, int n, int k,
                                 uint64_t labels_hash);
/* Adds (or replaces) a record; the probabilities are copied. */
TTA_API tta_status tta_pred_cache_put(tta_pred_cache *c, const char *spec, const char *view, int n, int k,
                              uint64_t labels_hash, const float *probs);
TTA_API int tta_pred_cache_count(const tta_pred_cache *c);
/* Writes the whole cache to its path (through a temporary file renamed over it). Errors: IO. */
TTA_API tta_status tta_pred_cache_save(const tta_pred_cache *c);
TTA_API void tta_pred_cache_free(tta_pred_cache *c);

#ifdef __cplusplus
}
#endif
#endif
