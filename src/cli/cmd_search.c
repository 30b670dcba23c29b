/* cmd_search.c - `tta search`: the best TTA policy within a budget of passes per image, chosen
 * on validation data and reported on test data.
 *
 * Every view of the candidate pool runs once over each split (or is read from the prediction
 * cache); everything after that merges rows of those tables. Prints the three search steps
 * (one table per parameter family, the best policy of each size by each method, composites),
 * then the Pareto table: for each budget 1..N the best policy, its validation and test figures,
 * the 95% interval of the test gain over the identity and the McNemar p-value; then learned
 * view weights against the plain mean, and adaptive TTA's accuracy against mean cost. Before any
 * test figure, the honest estimate (search.h, tta_search_honest): what each budget's policy gains
 * on validation images its search did not see. Writes the chosen policy (the largest budget
 * whose estimated gain is supported, else the identity; --honest-repeats 0: the best within the
 * whole budget) as a policy file for `tta eval` and `tta predict`, and optionally every figure
 * as JSON, and an HTML report (--report) with the same figures as plots. Progress goes to
 * stderr. Under mpirun the ranks share the model's work (search_cli.c) and rank 0 alone
 * searches and reports. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/cli_util.h"
#include "cli/commands.h"
#include "cli/dist.h"
#include "cli/report_cli.h"
#include "cli/search_cli.h"
#include "core/file_key.h"
#include "tta/classify.h"
#include "tta/dataset.h"
#include "tta/search.h"

#define N_CURVE 9 /* points of the adaptive curve */

static double cpu_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static int usage(FILE *f, int code) {
    fprintf(f,
            "usage: tta search --model M --val SPEC --test SPEC --budget N -o POLICY\n"
            "                  [--objective accuracy|nll|calibrated-nll] [--pool P] [--cache FILE]\n"
            "                  [--json FILE] [--report FILE.html] [--adaptive-cost C] [--no-weights]\n"
            "                  [--beam B] [--seed S]\n"
            "                  [--boot R] [--honest-repeats R] [--no-prune] [--max-batch B] [--threads T]\n"
            "       tta search --bench-subset\n\n"
            "Finds the best test-time augmentation policy of at most N views per image (the\n"
            "identity included) on the validation split and reports it on the test split. Each view\n"
            "of the pool runs once per image and split; the search then merges cached predictions:\n"
            "  1. each parameter family alone (shift in px, angle, scale, ...), with the identity;\n"
            "  2. the best combination of single views: exhaustive where the count of subsets\n"
            "     allows, greedy forward selection, beam search, greedy with replacement (GPS);\n"
            "  3. composite views (hflip > shift, ...) swapped in.\n"
            "Steps 2 and 3 try only the views of step 1's rows that beat the identity alone (the\n"
            "pool pruned: fewer candidates, less of the winner's curse; --no-prune tries all).\n"
            "The winner of many policies looks better on validation than it is (the winner's curse):\n"
            "before test is looked at, an honest estimate of each budget's gain comes from the\n"
            "validation split alone (repeated 5-fold selection: search 4/5 of the images, score the\n"
            "fifth left out), and the policy written is the largest budget whose held-out gain stays\n"
            "above 0 by one standard error; the identity when none does. For each\n"
            "budget 1..N: the best policy, validation and test figures, the 95%% paired bootstrap\n"
            "interval of the test accuracy gain over the identity, the exact McNemar p-value and\n"
            "the images corrected and broken. Then learned per-view weights (minimum NLL on\n"
            "validation) against the plain mean, and adaptive TTA: extra views only for images\n"
            "whose identity confidence is below a threshold chosen on validation.\n\n"
            "  --budget N          at most N forward passes per image (1 to %d)\n"
            "  --objective O       accuracy (default), nll, or calibrated-nll (NLL after a\n"
            "                      temperature fitted on validation, as GPS)\n"
            "  --pool P            candidate views: 'default' (82 views: flips, shifts of 1-4 px,\n"
            "                      rotations of 2-15 degrees, scales 0.85-1.15, crops, brightness and\n"
            "                      contrast, each also after hflip), 'small' (17 views), or policy\n"
            "                      text or a policy file\n"
            "  --cache FILE        prediction cache: views already run with this model on these\n"
            "                      data are read from it, new ones added (a corrupt file is rebuilt)\n"
            "  -o POLICY           write the chosen policy here (with learned weights, '@ W',\n"
            "                      when they beat the plain mean on validation)\n"
            "  --json FILE         every figure as JSON\n"
            "  --report F.html     a self-contained HTML report: the budget table, each budget's\n"
            "                      validation, honest and test gains with their intervals, adaptive\n"
            "                      TTA's cost against accuracy, a reliability diagram on test\n"
            "  --adaptive-cost C   target mean passes per image of adaptive TTA (default 1.5)\n"
            "  --no-weights        never save learned weights in the policy file\n"
            "  --beam B            beam width (default 8)\n"
            "  --seed S, --boot R  bootstrap seed (default 0) and resamples (default 2000)\n"
            "  --no-prune          steps 2 and 3 try every view of the pool\n"
            "  --honest-repeats R  random 5-fold deals of the validation split for the honest\n"
            "                      estimate (default 2: 10 searches on 4/5 of the images); 0 skips it\n"
            "                      and keeps the best policy on validation whatever its estimate\n"
            "  --bench-subset      time an exhaustive search of every policy of at most 4 views\n"
            "                      among 24 candidates on 5,000 images (synthetic predictions)\n\n"
            "%s\n",
            TTA_SEARCH_MAX_BUDGET, tta_dataset_spec_help());
    return code;
}

/* JSON has no NaN or infinity */
static void json_num(FILE *f, double v) {
    if (isfinite(v)) fprintf(f, "%.6g", v);
    else fprintf(f, "null");
}

/* ---- --bench-subset ---- */

static uint64_t mix64(uint64_t *s) {
    uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static double gauss(uint64_t *s) {
    double u = ((mix64(s) >> 11) + 0.5) * (1.0 / 9007199254740992.0), v = (mix64(s) >> 11) * (1.0 / 9007199254740992.0);
    return sqrt(-2 * log(u)) * cos(6.283185307179586 * v);
}

/* Times tta_search_exhaustive on synthetic cached predictions: 5,000 images, 10 classes, the
 * identity and 24 candidate views (softmax of N(0, 1) logits plus a signal on the true class). */
static int bench_subset(void) {
    const int n = 5000, V = 25, k = 10, runs = 3;
    float *probs = malloc(sizeof(float) * (size_t)n * V * k);
    int *labels = malloc(sizeof(int) * (size_t)n);
    if (!probs || !labels) {
        free(probs);
        free(labels);
        fprintf(stderr, "tta: search: out of memory\n");
        return 1;
    }
    uint64_t s = 1;
    for (int i = 0; i < n; i++) labels[i] = (int)(mix64(&s) % (uint64_t)k);
    for (int v = 0; v < V; v++)
        for (int i = 0; i < n; i++) {
            double l[10], mx = -1e300, sum = 0;
            for (int c = 0; c < k; c++) {
                l[c] = gauss(&s) + (c == labels[i] ? 0.8 + 0.02 * v : 0);
                mx = l[c] > mx ? l[c] : mx;
            }
            for (int c = 0; c < k; c++) sum += exp(l[c] - mx);
            for (int c = 0; c < k; c++) probs[((size_t)v * n + i) * k + c] = (float)(exp(l[c] - mx) / sum);
        }
    tta_pred_table t = {n, k, V, probs, labels};
    int cands[24];
    printf("exhaustive subset search on cached predictions: %d images, %d classes, 24 candidate views\n", n, k);
    printf("%-44s %9s %9s %9s %12s\n", "policies", "subsets", "seconds", "cpu s", "subsets/s");
    int rc = 0;
    for (int mode = 0; mode < 2 && !rc; mode++) {
        /* mode 0: any policy of at most 4 of the 24; mode 1: the identity + at most 3 of 23 */
        int nc = mode == 0 ? 24 : 23;
        for (int j = 0; j < nc; j++) cands[j] = mode == 0 ? j + 1 : j + 2;
        double best = 1e300, best_cpu = 0;
        long long evals = 0;
        for (int r = 0; r < runs && !rc; r++) {
            tta_search_pick by[4];
            double t0 = cli_now(), c0 = cpu_s();
            if (tta_search_exhaustive(&t, cands, nc, 4, mode, TTA_OBJECTIVE_ACCURACY, by, &evals)) rc = cli_fail();
            double dt = cli_now() - t0;
            if (dt < best) best = dt, best_cpu = cpu_s() - c0;
        }
        if (!rc)
            printf("%-44s %9lld %9.3f %9.3f %12.0f\n",
                   mode == 0 ? "any of at most 4 views among 24" : "identity + at most 3 of 23 views", evals, best,
                   best_cpu, evals / best);
    }
    if (!rc) printf("(best of %d runs; target: under 1 s for the first line)\n", runs);
    free(probs);
    free(labels);
    return rc;
}

/* ---- per-budget figures ---- */

typedef struct row {
    tta_search_pick pick;
    char policy[2048]; /* one line: "identity; hflip; ..." (with " @ W" when weighted) */
    tta_metrics val, test;
    double test_cal_nll;  /* test NLL at the temperature fitted on validation */
    tta_paired_stats st;  /* test, against the identity */
} row;

/* Merges views on a split: out n x k. */
static int merge_on(const split *s, const int *views, const double *weights, int m, float *out) {
    return tta_pred_table_merge(&s->t, views, weights, m, out) ? cli_fail() : 0;
}

static int score_row(row *r, const tta_policy *pool, const split *val, const split *test, const float *test_base,
                     float *buf_val, float *buf_test, int n_boot, uint64_t seed) {
    const tta_search_pick *p = &r->pick;
    const double *w = p->weighted ? p->weights : NULL;
    search_policy_line(pool, p->views, w, p->n_views, r->policy, sizeof r->policy);
    int k = val->t.k;
    if (merge_on(val, p->views, w, p->n_views, buf_val) || merge_on(test, p->views, w, p->n_views, buf_test)) return 1;
    tta_metrics_compute(buf_val, val->labels, val->n, k, &r->val);
    tta_metrics_compute(buf_test, test->labels, test->n, k, &r->test);
    if (tta_paired_stats_compute(test_base, buf_test, test->labels, test->n, k, n_boot, seed, &r->st)) return cli_fail();
    r->test_cal_nll = NAN;
    if (p->val.temperature != 1) {
        tta_metrics cm;
        tta_apply_temperature(buf_test, test->n, k, p->val.temperature);
        tta_metrics_compute(buf_test, test->labels, test->n, k, &cm);
        r->test_cal_nll = cm.nll;
    }
    return 0;
}

static double objective_value(tta_objective obj, const tta_objective_value *v) {
    return obj == TTA_OBJECTIVE_ACCURACY ? v->accuracy : obj == TTA_OBJECTIVE_NLL ? v->nll : v->calibrated_nll;
}

static tta_status write_search_page(FILE *f, const void *data) { return tta_report_search_write(f, data); }

int tta_cmd_search(int argc, char **argv) {
    const char *model_path = NULL, *val_spec = NULL, *test_spec = NULL, *out_path = NULL, *json = NULL,
               *report = NULL;
    const char *obj_name = "accuracy", *pool_arg = "default", *cache_path = NULL;
    int budget = -1, threads = 0, max_batch = 0, beam = 8, n_boot = 2000, no_weights = 0, repeats = 2, prune = 1;
    double adaptive_cost = 1.5;
    uint64_t seed = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        int more = i + 1 < argc;
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) return usage(stdout, 0);
        if (!strcmp(a, "--bench-subset")) return bench_subset();
        if (!strcmp(a, "--model") && more) model_path = argv[++i];
        else if (!strcmp(a, "--val") && more) val_spec = argv[++i];
        else if (!strcmp(a, "--test") && more) test_spec = argv[++i];
        else if (!strcmp(a, "--budget") && more) budget = atoi(argv[++i]);
        else if (!strcmp(a, "--objective") && more) obj_name = argv[++i];
        else if (!strcmp(a, "--pool") && more) pool_arg = argv[++i];
        else if (!strcmp(a, "--cache") && more) cache_path = argv[++i];
        else if ((!strcmp(a, "-o") || !strcmp(a, "--output")) && more) out_path = argv[++i];
        else if (!strcmp(a, "--json") && more) json = argv[++i];
        else if (!strcmp(a, "--report") && more)
            report = argv[++i];
        else if (!strcmp(a, "--adaptive-cost") && more) adaptive_cost = atof(argv[++i]);
        else if (!strcmp(a, "--no-weights")) no_weights = 1;
        else if (!strcmp(a, "--beam") && more) beam = atoi(argv[++i]);
        else if (!strcmp(a, "--seed") && more) seed = strtoull(argv[++i], NULL, 10);
        else if (!strcmp(a, "--boot") && more) n_boot = atoi(argv[++i]);
        else if (!strcmp(a, "--honest-repeats") && more) repeats = atoi(argv[++i]);
        else if (!strcmp(a, "--no-prune")) prune = 0;
        else if (!strcmp(a, "--threads") && more) threads = atoi(argv[++i]);
        else if (!strcmp(a, "--max-batch") && more) max_batch = atoi(argv[++i]);
        else {
            fprintf(stderr, "tta: search: unknown or incomplete option '%s'\n", a);
            return usage(stderr, 2);
        }
    }
    if (!model_path || !val_spec || !test_spec || !out_path || budget == -1) {
        fprintf(stderr, "tta: search: --model, --val, --test, --budget and -o are required\n");
        return usage(stderr, 2);
    }
    if (budget < 1 || budget > TTA_SEARCH_MAX_BUDGET) {
        fprintf(stderr, "tta: search: --budget %d: give 1 to %d passes per image\n", budget, TTA_SEARCH_MAX_BUDGET);
        return 2;
    }
    if (beam < 1 || beam > 32) {
        fprintf(stderr, "tta: search: --beam %d: give 1 to 32\n", beam);
        return 2;
    }
    if (repeats < 0 || repeats > 20) {
        fprintf(stderr, "tta: search: --honest-repeats %d: give 0 to 20\n", repeats);
        return 2;
    }
    if (n_boot < 100) {
        fprintf(stderr, "tta: search: --boot %d: give at least 100 resamples\n", n_boot);
        return 2;
    }
    if (!(adaptive_cost >= 1)) {
        fprintf(stderr, "tta: search: --adaptive-cost must be at least 1 (pass per image)\n");
        return 2;
    }
    tta_objective obj;
    if (tta_objective_parse(obj_name, &obj)) {
        fprintf(stderr, "tta: search: %s\n", tta_last_error());
        return 2;
    }
    if (report && !dist_rank() && cli_report_check(report)) return 1; /* before the long run; rank 0 writes it */

    int rc = 1;
    tta_policy pool = {0};
    tta_model *model = NULL;
    tta_classifier *cls = NULL;
    tta_pred_cache *cache = NULL;
    split val = {.spec = val_spec}, test = {.spec = test_spec};
    tta_search_result res = {0};
    int have_res = 0;
    row *rows = NULL;
    float *bv = NULL, *bt = NULL, *base_val = NULL, *base_test = NULL, *conf_val = NULL, *conf_test = NULL;
    uint8_t *ok = NULL;
    FILE *jf = NULL;
    char *json_tmp = NULL;
    const char *pool_text = tta_search_pool_text(pool_arg);
    if (pool_text ? tta_policy_parse(&pool, pool_text, pool_arg) != TTA_OK : cli_load_policy(pool_arg, &pool) != 0) {
        if (pool_text) cli_fail();
        goto done;
    }
    if (pool.weights) fprintf(stderr, "tta: search: note: the pool's view weights are ignored\n");
    if (!strcmp(val_spec, test_spec))
        fprintf(stderr, "tta: search: warning: --val and --test are the same data; test figures are not honest\n");

    /* model, splits, classes */
    tta_classifier_options co = {.n_threads = threads, .max_batch = max_batch};
    if (tta_model_load(model_path, cli_model_options(), &model) || tta_classifier_new(&cls, model, &co)) {
        cli_fail();
        goto done;
    }
    split *splits[2] = {&val, &test};
    for (int j = 0; j < 2; j++) {
        if (tta_dataset_open(&splits[j]->ds, splits[j]->spec)) {
            cli_fail();
            goto done;
        }
        splits[j]->n = (int)tta_dataset_count(splits[j]->ds);
        splits[j]->labels = tta_dataset_labels(splits[j]->ds);
    }
    int k = 0;
    {
        tta_image first = {0};
        tta_policy ident;
        if (tta_policy_init(&ident)) {
            cli_fail();
            goto done;
        }
        tta_status st = tta_dataset_get(val.ds, 0, &first, NULL);
        if (!st) st = tta_classify_views(cls, &ident, &first, 1, NULL, &k);
        tta_image_destroy(&first);
        tta_policy_destroy(&ident);
        if (st) {
            fprintf(stderr, "tta: %s on %s: %s\n", model_path, val_spec, tta_last_error());
            goto done;
        }
    }
    for (int j = 0; j < 2; j++)
        if (k < tta_dataset_num_classes(splits[j]->ds)) {
            fprintf(stderr, "tta: %s gives %d classes but %s has labels up to %d\n", model_path, k, splits[j]->spec,
                    tta_dataset_num_classes(splits[j]->ds) - 1);
            goto done;
        }

    /* the prediction cache (rank 0's alone under mpirun) */
    if (cache_path && !dist_rank()) {
        uint64_t msize, mhash;
        int stale = 0;
        if (tta_file_key(model_path, &msize, &mhash)) {
            cli_fail();
            goto done;
        }
        tta_status st = tta_pred_cache_open(&cache, cache_path, msize, mhash, &stale);
        if (st == TTA_ERR_PARSE && cache) {
            fprintf(stderr, "tta: warning: %s; rebuilding it\n", tta_last_error());
        } else if (st) {
            cli_fail();
            goto done;
        }
        if (stale) fprintf(stderr, "tta: note: %s was made for another model; rebuilding it\n", cache_path);
    }
    if (search_fill_split(&val, "validation", cls, &pool, k, cache, model_path) ||
        search_fill_split(&test, "test", cls, &pool, k, cache, model_path))
        goto done;
    if (dist_leave()) { /* the model has run: rank 0 searches and reports */
        rc = 0;
        goto done;
    }

    /* the search, on validation only */
    tta_search_options so = {.budget = budget, .objective = obj, .beam_width = beam, .prune = prune};
    fprintf(stderr, "search: %d candidate views, budget %d, objective %s...\n", pool.n_views, budget,
            tta_objective_name(obj));
    if (tta_search_run(&val.t, &pool, &so, &res)) {
        cli_fail();
        goto done;
    }
    have_res = 1;
    fprintf(stderr, "search: %lld subsets scored in %.2f s (%d of %d views tried%s)\n", res.n_evaluated, res.seconds,
            res.n_candidates, pool.n_views - 1, prune ? ", the rest pruned by step 1" : "");
    int B = res.budget;
    if (B < budget)
        fprintf(stderr, "tta: search: note: the pool has %d views, so the budget is %d, not %d\n", pool.n_views, B,
                budget);

    /* the honest estimate, on validation only, before any test figure is looked at */
    tta_honest_estimate est = {0};
    int have_est = repeats > 0 && val.n >= 20 && B > 1, chosen_b = B;
    if (repeats > 0 && !have_est)
        fprintf(stderr, "tta: search: note: no honest estimate (%s)\n",
                B > 1 ? "fewer than 20 validation images" : "a budget of 1 is the identity");
    if (have_est) {
        fprintf(stderr, "search: honest estimate, %d searches on 4/5 of the validation split...\n", 5 * repeats);
        if (tta_search_honest(&val.t, &pool, &so, repeats, seed, &est)) {
            cli_fail();
            goto done;
        }
        chosen_b = tta_honest_budget(&est);
        fprintf(stderr, "search: honest estimate in %.1f s\n", est.seconds);
    }

    /* figures for each budget */
    size_t nvk = (size_t)val.n * k, ntk = (size_t)test.n * k;
    rows = calloc((size_t)B, sizeof(row));
    bv = malloc(sizeof(float) * nvk);
    bt = malloc(sizeof(float) * ntk);
    base_val = malloc(sizeof(float) * nvk);
    base_test = malloc(sizeof(float) * ntk);
    conf_val = malloc(sizeof(float) * (size_t)val.n);
    conf_test = malloc(sizeof(float) * (size_t)test.n);
    ok = malloc((size_t)2 * (val.n + test.n));
    if (!rows || !bv || !bt || !base_val || !base_test || !conf_val || !conf_test || !ok) {
        fprintf(stderr, "tta: search: out of memory\n");
        goto done;
    }
    int id0 = 0;
    if (merge_on(&val, &id0, NULL, 1, base_val) || merge_on(&test, &id0, NULL, 1, base_test)) goto done;
    for (int b = 0; b < B; b++) {
        rows[b].pick = res.best[b];
        if (score_row(&rows[b], &pool, &val, &test, base_test, bv, bt, n_boot, seed)) goto done;
    }
    row *chosen = &rows[chosen_b - 1];

    /* ---- report: step 1 */
    printf("model %s, validation %s (%d images), test %s (%d images)\n", model_path, val_spec, val.n, test_spec,
           test.n);
    printf("pool: %d views; budget %d; objective %s (chosen on validation)\n\n", pool.n_views, B,
           tta_objective_name(obj));
    int cal = obj == TTA_OBJECTIVE_CALIBRATED_NLL;
    printf("step 1: each family alone, merged with the identity (validation; identity alone: accuracy %.4f, NLL %.4f)\n",
           rows[0].val.top1, rows[0].val.nll);
    for (int f = 0; f < res.n_families; f++) {
        const tta_family *F = &res.families[f];
        printf("  %s%s\n", F->name, F->composite ? " (composite)" : "");
        printf("    %-24s %5s %10s %9s %8s%s\n", "row", "views", "alone acc", "accuracy", "NLL", cal ? "  cal NLL" : "");
        for (int r = 0; r < F->n_rows; r++) {
            const tta_family_row *R = &F->rows[r];
            printf("    %-24.24s %5d %10.4f %9.4f %8.4f", R->label, R->n_views, R->alone_accuracy,
                   R->with_identity.accuracy, R->with_identity.nll);
            if (cal) printf(" %8.4f", R->with_identity.calibrated_nll);
            printf("%s\n", r == F->best ? "  <- best" : "");
        }
    }

    /* steps 2 and 3 */
    if (prune)
        printf("\nstep 1 pruned the pool: steps 2 and 3 try the %d of %d views whose rows beat the identity alone\n",
               res.n_candidates, pool.n_views - 1);
    printf("\nsteps 2-3: best policy of each size by each method (validation %s%s)\n", tta_objective_name(obj),
           obj == TTA_OBJECTIVE_ACCURACY ? ", higher is better" : ", lower is better");
    if (res.exhaustive_all)
        printf("  exhaustive over every single view of the pool\n");
    else if (res.n_shortlist)
        printf("  too many subsets for exhaustive search over every single view: exhaustive over step 1's best rows "
               "(%d views)%s\n",
               res.n_shortlist, res.by_method[TTA_SEARCH_EXHAUSTIVE][0].n_views ? "" : " was too large as well");
    printf("  %5s", "views");
    for (int m = 0; m < TTA_SEARCH_N_METHODS; m++) printf(" %11s", tta_search_method_name((tta_search_method)m));
    printf("\n");
    for (int s = 0; s < B; s++) {
        printf("  %5d", s + 1);
        for (int m = 0; m < TTA_SEARCH_N_METHODS; m++) {
            const tta_search_pick *p = &res.by_method[m][s];
            if (p->n_views) printf(" %11.4f", objective_value(obj, &p->val));
            else printf(" %11s", "-");
        }
        printf("\n");
    }
    printf("  (%lld subsets scored in %.2f s)\n", res.n_evaluated, res.seconds);

    /* the honest estimate */
    if (have_est) {
        printf("\nwhat the search will deliver, from validation alone: %d searches, each on 4/5 of the validation\n"
               "images, each budget's best policy scored on the fifth left out against the identity\n",
               est.n_folds);
        printf("%6s %10s %10s %10s %19s %8s  %s\n", "budget", "val gain", "fold gain", "held out", "95% interval",
               "share>0", "supported");
        for (int b = 0; b < B; b++)
            printf("%6d %+10.4f %+10.4f %+10.4f [%+8.4f, %+8.4f] %8.2f  %s\n", b + 1,
                   rows[b].val.top1 - rows[0].val.top1, est.fold_gain[b], est.held_gain[b], est.lo[b], est.hi[b],
                   est.positive_share[b], b == 0 ? "-" : est.supported[b] ? "yes" : "no");
        printf("  val gain: the policy searched on all the validation images; fold gain: on the images searched;\n"
               "  held out: on the fifth left out (the estimate of the test gain; interval: where a test gain\n"
               "  should land); supported: held out minus its standard error (corrected for the folds' shared\n"
               "  images) above 0.\n");
        if (chosen_b == B)
            printf("  the budget-%d policy's gain is supported: it is the one chosen\n", B);
        else if (chosen_b > 1)
            printf("  the budget-%d policy's gain is not supported by the estimate; budget %d's is: that one is chosen\n",
                   B, chosen_b);
        else
            printf("  no budget's gain is supported by the estimate: the identity alone is chosen (one pass; the\n"
                   "  searched policies are listed below with their test figures, for the record)\n");
    }

    /* the Pareto table */
    printf("\nbest policy for each budget (validation -> test; gain and interval against the identity on test)\n");
    printf("%6s %5s %-11s %8s %8s %8s %8s %8s %19s %10s %5s %6s%s\n", "budget", "views", "method", "val acc", "val NLL",
           "test acc", "test NLL", "gain", "95% CI", "McNemar p", "corr", "broken", cal ? "  T   test calNLL" : "");
    for (int b = 0; b < B; b++) {
        const row *r = &rows[b];
        printf("%6d %5d %-11s %8.4f %8.4f %8.4f %8.4f %+8.4f [%+8.4f, %+8.4f] %10.3g %5d %6d", b + 1,
               r->pick.n_views, r->pick.method, r->val.top1, r->val.nll, r->test.top1, r->test.nll, r->st.gain,
               r->st.ci_lo, r->st.ci_hi, r->st.mcnemar_p, r->st.corrected, r->st.broken);
        if (cal) printf(" %5.2f %8.4f", r->pick.val.temperature, r->test_cal_nll);
        printf("\n");
    }
    printf("policies (cost = views = passes per image):\n");
    for (int b = 0; b < B; b++) printf("  budget %d, cost %d: %s\n", b + 1, rows[b].pick.n_views, rows[b].policy);

    /* learned weights, for the chosen policy */
    const tta_search_pick *cp = &chosen->pick;
    double weights[TTA_SEARCH_MAX_BUDGET], nll_u = 0, nll_f = 0;
    int have_w = 0, save_w = 0;
    tta_metrics wt_val = {0}, wt_test = {0}, pm_val = {0}, pm_test = {0};
    tta_paired_stats wst = {0}, pst = {0};
    tta_objective_value wv = {0};
    if (cp->n_views >= 2) {
        if (tta_fit_view_weights(&val.t, cp->views, cp->n_views, 0, weights, &nll_u, &nll_f)) {
            cli_fail();
            goto done;
        }
        have_w = 1;
        /* the plain mean of the same views (the chosen policy may carry GPS's repeat counts) */
        if (merge_on(&val, cp->views, NULL, cp->n_views, bv) || merge_on(&test, cp->views, NULL, cp->n_views, bt))
            goto done;
        tta_metrics_compute(bv, val.labels, val.n, k, &pm_val);
        tta_metrics_compute(bt, test.labels, test.n, k, &pm_test);
        if (tta_paired_stats_compute(base_test, bt, test.labels, test.n, k, n_boot, seed, &pst)) {
            cli_fail();
            goto done;
        }
        if (merge_on(&val, cp->views, weights, cp->n_views, bv) || merge_on(&test, cp->views, weights, cp->n_views, bt))
            goto done;
        tta_metrics_compute(bv, val.labels, val.n, k, &wt_val);
        tta_metrics_compute(bt, test.labels, test.n, k, &wt_test);
        tta_objective_eval(obj, bv, val.labels, val.n, k, &wv);
        if (tta_paired_stats_compute(base_test, bt, test.labels, test.n, k, n_boot, seed, &wst)) {
            cli_fail();
            goto done;
        }
        save_w = !no_weights && tta_objective_compare(obj, &wv, &cp->val) < 0;
        printf("\nlearned view weights for the budget-%d policy (minimum NLL on validation):\n", chosen_b);
        for (int j = 0; j < cp->n_views; j++) {
            char text[512];
            tta_view_format(&pool.views[cp->views[j]], text, sizeof text);
            printf("  %-40.40s %7.3f\n", text, weights[j]);
        }
        printf("  %-16s %8s %8s %8s %8s %8s %6s %6s\n", "merge", "val acc", "val NLL", "test acc", "test NLL", "gain",
               "corr", "broken");
        printf("  %-16s %8.4f %8.4f %8.4f %8.4f %+8.4f %6d %6d\n", "plain mean", pm_val.top1, pm_val.nll,
               pm_test.top1, pm_test.nll, pst.gain, pst.corrected, pst.broken);
        if (cp->weighted)
            printf("  %-16s %8.4f %8.4f %8.4f %8.4f %+8.4f %6d %6d\n", "repeat counts", chosen->val.top1,
                   chosen->val.nll, chosen->test.top1, chosen->test.nll, chosen->st.gain, chosen->st.corrected,
                   chosen->st.broken);
        printf("  %-16s %8.4f %8.4f %8.4f %8.4f %+8.4f %6d %6d\n", "learned weights", wt_val.top1, wt_val.nll,
               wt_test.top1, wt_test.nll, wst.gain, wst.corrected, wst.broken);
        printf("  %s (validation %s)\n",
               save_w       ? "the learned weights are better: saved in the policy file"
               : no_weights ? "--no-weights: not saved"
                            : "the learned weights are not better: not saved",
               tta_objective_name(obj));
    }
    const double *final_w = save_w ? weights : (cp->weighted ? cp->weights : NULL);

    /* adaptive TTA with the chosen policy */
    tta_adaptive_point curve_val[N_CURVE], curve_test[N_CURVE], at_val = {0}, at_test = {0};
    double targets[N_CURVE], thr = 0;
    int have_ad = cp->n_views >= 2;
    if (have_ad) {
        uint8_t *bv_ok = ok, *fv_ok = ok + val.n, *bt_ok = ok + 2 * val.n, *ft_ok = bt_ok + test.n;
        if (merge_on(&val, cp->views, final_w, cp->n_views, bv) || merge_on(&test, cp->views, final_w, cp->n_views, bt))
            goto done;
        for (int i = 0; i < val.n; i++) {
            const float *p = base_val + (size_t)i * k;
            int top = tta_argmax(p, k);
            conf_val[i] = p[top];
            bv_ok[i] = top == val.labels[i];
            fv_ok[i] = tta_argmax(bv + (size_t)i * k, k) == val.labels[i];
        }
        for (int i = 0; i < test.n; i++) {
            const float *p = base_test + (size_t)i * k;
            int top = tta_argmax(p, k);
            conf_test[i] = p[top];
            bt_ok[i] = top == test.labels[i];
            ft_ok[i] = tta_argmax(bt + (size_t)i * k, k) == test.labels[i];
        }
        int V = cp->n_views;
        for (int j = 0; j < N_CURVE; j++) {
            targets[j] = 1 + (V - 1) * (double)j / (N_CURVE - 1);
            double t = tta_adaptive_threshold(conf_val, val.n, V, targets[j]);
            tta_adaptive_eval(conf_val, bv_ok, fv_ok, val.n, V, t, &curve_val[j]);
            tta_adaptive_eval(conf_test, bt_ok, ft_ok, test.n, V, t, &curve_test[j]);
        }
        thr = tta_adaptive_threshold(conf_val, val.n, V, adaptive_cost);
        tta_adaptive_eval(conf_val, bv_ok, fv_ok, val.n, V, thr, &at_val);
        tta_adaptive_eval(conf_test, bt_ok, ft_ok, test.n, V, thr, &at_test);
        printf("\nadaptive TTA: the identity on every image, the other %d views of the chosen policy only when the\n"
               "identity's top probability is below a threshold chosen on validation for a target mean cost\n",
               V - 1);
        printf("  %11s %10s %9s %8s %10s %9s\n", "target cost", "threshold", "val cost", "val acc", "test cost",
               "test acc");
        for (int j = 0; j < N_CURVE; j++)
            printf("  %11.2f %10.4f %9.3f %8.4f %10.3f %9.4f\n", targets[j], curve_val[j].threshold,
                   curve_val[j].mean_cost, curve_val[j].accuracy, curve_test[j].mean_cost, curve_test[j].accuracy);
        printf("  at %.2f passes per image (threshold %.4f): test accuracy %.4f at a mean cost of %.3f (identity %.4f, "
               "full policy %.4f at %d)\n",
               adaptive_cost, thr, at_test.accuracy, at_test.mean_cost, curve_test[0].accuracy,
               curve_test[N_CURVE - 1].accuracy, V);
    } else {
        printf("\nthe identity alone is chosen: no weights or adaptive TTA to report\n");
    }

    /* ---- the policy file */
    {
        char text[4096];
        search_policy_line(&pool, cp->views, final_w, cp->n_views, text, sizeof text);
        for (char *c = text; (c = strstr(c, "; ")) != NULL;) c[0] = '\n', memmove(c + 1, c + 2, strlen(c + 2) + 1);
        tta_policy check;
        if (tta_policy_parse(&check, text, "chosen policy")) { /* a bug if it happens */
            tta_policy_destroy(&check);
            cli_fail();
            goto done;
        }
        tta_policy_destroy(&check);
        char *pf_tmp = NULL;
        FILE *pf = cli_output_open(out_path, &pf_tmp); /* PATH.part, renamed into place when whole */
        if (!pf) goto done;
        fprintf(pf, "# tta search: model %s, validation %s, test %s\n", model_path, val_spec, test_spec);
        fprintf(pf, "# objective %s, budget %d: %d view%s (method %s)%s\n", tta_objective_name(obj), chosen_b, cp->n_views,
                cp->n_views > 1 ? "s" : "", cp->method, save_w ? ", weights learned on validation (minimum NLL)" : "");
        fprintf(pf, "# validation accuracy %.4f (identity %.4f); test accuracy %.4f (identity %.4f)\n",
                save_w ? wt_val.top1 : chosen->val.top1, rows[0].val.top1, save_w ? wt_test.top1 : chosen->test.top1,
                rows[0].test.top1);
        const tta_paired_stats *ps = save_w ? &wst : &chosen->st;
        fprintf(pf, "# test gain %+.4f, 95%% CI [%+.4f, %+.4f], McNemar p %.3g, corrected %d, broken %d\n", ps->gain,
                ps->ci_lo, ps->ci_hi, ps->mcnemar_p, ps->corrected, ps->broken);
        if (have_est)
            fprintf(pf, "# honest estimate (validation only, %d folds): held-out gain %+.4f, 95%% interval [%+.4f, %+.4f]\n",
                    est.n_folds, est.held_gain[chosen_b - 1], est.lo[chosen_b - 1], est.hi[chosen_b - 1]);
        fprintf(pf, "%s\n", text);
        int failed = cli_output_commit(pf, pf_tmp, out_path);
        free(pf_tmp);
        if (failed) goto done;
        printf("\nchosen policy (budget %d, %d view%s) written to %s\n", chosen_b, cp->n_views, cp->n_views > 1 ? "s" : "",
               out_path);
        if (have_est && chosen_b > 1) {
            double g = save_w ? wst.gain : chosen->st.gain;
            int inside = g >= est.lo[chosen_b - 1] && g <= est.hi[chosen_b - 1];
            printf("honest check: its test gain %+.4f is %s the estimate's interval [%+.4f, %+.4f] (held out %+.4f)\n", g,
                   inside ? "within" : "OUTSIDE", est.lo[chosen_b - 1], est.hi[chosen_b - 1], est.held_gain[chosen_b - 1]);
        }
    }

    /* ---- JSON */
    if (json) {
        jf = cli_output_open(json, &json_tmp); /* PATH.part, renamed into place when whole */
        if (!jf) goto done;
        fprintf(jf, "{\n  \"model\": ");
        cli_json_str(jf, model_path);
        fprintf(jf, ",\n  \"val\": ");
        cli_json_str(jf, val_spec);
        fprintf(jf, ",\n  \"test\": ");
        cli_json_str(jf, test_spec);
        fprintf(jf, ",\n  \"n_val\": %d,\n  \"n_test\": %d,\n  \"objective\": \"%s\",\n  \"budget\": %d,\n", val.n, test.n,
                tta_objective_name(obj), B);
        fprintf(jf, "  \"pruned\": %s,\n  \"candidates_tried\": %d,\n", prune ? "true" : "false", res.n_candidates);
        fprintf(jf, "  \"pool_views\": %d,\n  \"subsets_scored\": %lld,\n  \"search_seconds\": %.3f,\n", pool.n_views,
                res.n_evaluated, res.seconds);
        fprintf(jf, "  \"exhaustive_all_singles\": %s,\n  \"families\": [\n", res.exhaustive_all ? "true" : "false");
        for (int f = 0; f < res.n_families; f++) {
            const tta_family *F = &res.families[f];
            fprintf(jf, "    {\"family\": ");
            cli_json_str(jf, F->name);
            fprintf(jf, ", \"composite\": %s, \"rows\": [", F->composite ? "true" : "false");
            for (int r = 0; r < F->n_rows; r++) {
                const tta_family_row *R = &F->rows[r];
                fprintf(jf, "%s{\"row\": ", r ? ", " : "");
                cli_json_str(jf, R->label);
                fprintf(jf, ", \"views\": [");
                for (int j = 0; j < R->n_views; j++) {
                    char text[512];
                    tta_view_format(&pool.views[R->views[j]], text, sizeof text);
                    if (j) fprintf(jf, ", ");
                    cli_json_str(jf, text);
                }
                fprintf(jf, "], \"alone_accuracy\": %.6f, \"val_accuracy\": %.6f, \"val_nll\": %.6f, "
                            "\"val_objective\": ",
                        R->alone_accuracy, R->with_identity.accuracy, R->with_identity.nll);
                json_num(jf, objective_value(obj, &R->with_identity));
                fprintf(jf, ", \"best\": %s}", r == F->best ? "true" : "false");
            }
            fprintf(jf, "]}%s\n", f + 1 < res.n_families ? "," : "");
        }
        fprintf(jf, "  ],\n  \"methods\": [\n");
        for (int s = 0; s < B; s++) {
            fprintf(jf, "    {\"views\": %d", s + 1);
            for (int m = 0; m < TTA_SEARCH_N_METHODS; m++) {
                const tta_search_pick *p = &res.by_method[m][s];
                fprintf(jf, ", \"%s\": ", tta_search_method_name((tta_search_method)m));
                if (p->n_views) json_num(jf, objective_value(obj, &p->val));
                else fprintf(jf, "null");
            }
            fprintf(jf, "}%s\n", s + 1 < B ? "," : "");
        }
        fprintf(jf, "  ],\n  \"pareto\": [\n");
        for (int b = 0; b < B; b++) {
            const row *r = &rows[b];
            fprintf(jf, "    {\"budget\": %d, \"policy\": ", b + 1);
            cli_json_str(jf, r->policy);
            fprintf(jf,
                    ", \"views\": %d, \"cost\": %d, \"method\": \"%s\", \"weighted\": %s, \"val_objective\": ",
                    r->pick.n_views, r->pick.n_views, r->pick.method, r->pick.weighted ? "true" : "false");
            json_num(jf, objective_value(obj, &r->pick.val));
            fprintf(jf,
                    ", \"val_accuracy\": %.6f, \"val_nll\": %.6f, \"test_accuracy\": %.6f, \"test_nll\": %.6f, "
                    "\"test_ece\": %.6f, \"temperature\": %.6g, \"test_calibrated_nll\": ",
                    r->val.top1, r->val.nll, r->test.top1, r->test.nll, r->test.ece, r->pick.val.temperature);
            json_num(jf, r->test_cal_nll);
            fprintf(jf,
                    ", \"test_gain\": %.6f, \"test_gain_ci\": [%.6f, %.6f], \"mcnemar_p\": %.6g, \"corrected\": %d, "
                    "\"broken\": %d}%s\n",
                    r->st.gain, r->st.ci_lo, r->st.ci_hi, r->st.mcnemar_p, r->st.corrected, r->st.broken,
                    b + 1 < B ? "," : "");
        }
        fprintf(jf, "  ],\n  \"honest\": ");
        if (have_est) {
            fprintf(jf, "{\"repeats\": %d, \"folds\": %d, \"seconds\": %.3f, \"rows\": [", repeats, est.n_folds,
                    est.seconds);
            for (int b = 0; b < B; b++)
                fprintf(jf,
                        "%s{\"budget\": %d, \"val_gain\": %.6f, \"fold_gain\": %.6f, \"held_out_gain\": %.6f, "
                        "\"held_out_sd\": %.6f, \"held_out_se\": %.6f, \"interval\": [%.6f, %.6f], \"positive_share\": %.4f, "
                        "\"supported\": %s}",
                        b ? ", " : "", b + 1, rows[b].val.top1 - rows[0].val.top1, est.fold_gain[b], est.held_gain[b],
                        est.held_sd[b], est.held_se[b], est.lo[b], est.hi[b], est.positive_share[b], est.supported[b] ? "true" : "false");
            fprintf(jf, "]}");
        } else {
            fprintf(jf, "null");
        }
        fprintf(jf, ",\n  \"chosen\": {\"budget\": %d, \"policy_file\": ", chosen_b);
        cli_json_str(jf, out_path);
        fprintf(jf, ", \"weights_saved\": %s},\n", save_w ? "true" : "false");
        fprintf(jf, "  \"weights\": ");
        if (have_w) {
            fprintf(jf, "{\"weights\": [");
            for (int j = 0; j < cp->n_views; j++) fprintf(jf, "%s%.6g", j ? ", " : "", weights[j]);
            fprintf(jf,
                    "], \"val_nll_plain\": %.6f, \"val_nll_weighted\": %.6f, \"val_accuracy_plain\": %.6f, "
                    "\"val_accuracy_weighted\": %.6f, \"test_accuracy_plain\": %.6f, \"test_accuracy_weighted\": %.6f, "
                    "\"test_nll_plain\": %.6f, \"test_nll_weighted\": %.6f, \"test_gain_plain\": %.6f, "
                    "\"test_gain_weighted\": %.6f, \"test_gain_ci_weighted\": [%.6f, %.6f], "
                    "\"mcnemar_p_weighted\": %.6g, \"test_corrected_weighted\": %d, \"test_broken_weighted\": %d}",
                    pm_val.nll, wt_val.nll, pm_val.top1, wt_val.top1, pm_test.top1, wt_test.top1, pm_test.nll,
                    wt_test.nll, pst.gain, wst.gain, wst.ci_lo, wst.ci_hi, wst.mcnemar_p, wst.corrected, wst.broken);
        } else {
            fprintf(jf, "null");
        }
        fprintf(jf, ",\n  \"adaptive\": ");
        if (have_ad) {
            fprintf(jf, "{\"target_cost\": %.6g, \"threshold\": %.6g, \"val_cost\": %.6f, \"val_accuracy\": %.6f, "
                        "\"test_cost\": %.6f, \"test_accuracy\": %.6f, \"curve\": [",
                    adaptive_cost, thr, at_val.mean_cost, at_val.accuracy, at_test.mean_cost, at_test.accuracy);
            for (int j = 0; j < N_CURVE; j++)
                fprintf(jf,
                        "%s{\"target_cost\": %.6g, \"threshold\": %.6g, \"val_cost\": %.6f, \"val_accuracy\": %.6f, "
                        "\"test_cost\": %.6f, \"test_accuracy\": %.6f}",
                        j ? ", " : "", targets[j], curve_val[j].threshold, curve_val[j].mean_cost,
                        curve_val[j].accuracy, curve_test[j].mean_cost, curve_test[j].accuracy);
            fprintf(jf, "]}");
        } else {
            fprintf(jf, "null");
        }
        fprintf(jf, "\n}\n");
        int failed = cli_output_commit(jf, json_tmp, json);
        jf = NULL;
        if (failed) goto done;
    }

    /* ---- the HTML report: the figures printed above */
    if (report) {
        tta_report_budget_row brows[TTA_SEARCH_MAX_BUDGET];
        for (int b = 0; b < B; b++) {
            const row *r = &rows[b];
            brows[b] = (tta_report_budget_row){.budget = b + 1,
                                               .views = r->pick.n_views,
                                               .method = r->pick.method,
                                               .policy = r->policy,
                                               .val_accuracy = r->val.top1,
                                               .val_nll = r->val.nll,
                                               .test_accuracy = r->test.top1,
                                               .test_nll = r->test.nll,
                                               .gain = r->st.gain,
                                               .gain_lo = r->st.ci_lo,
                                               .gain_hi = r->st.ci_hi,
                                               .mcnemar_p = r->st.mcnemar_p,
                                               .corrected = r->st.corrected,
                                               .broken = r->st.broken,
                                               .has_honest = have_est,
                                               .supported = have_est && est.supported[b],
                                               .val_gain = r->val.top1 - rows[0].val.top1,
                                               .held_gain = have_est ? est.held_gain[b] : 0,
                                               .held_lo = have_est ? est.lo[b] : 0,
                                               .held_hi = have_est ? est.hi[b] : 0};
        }
        tta_report_adaptive_point ad[N_CURVE];
        for (int j = 0; have_ad && j < N_CURVE; j++)
            ad[j] = (tta_report_adaptive_point){targets[j],
                                                curve_val[j].threshold,
                                                curve_val[j].mean_cost,
                                                curve_val[j].accuracy,
                                                curve_test[j].mean_cost,
                                                curve_test[j].accuracy};
        char chosen_text[4096];
        search_policy_line(&pool, cp->views, final_w, cp->n_views, chosen_text, sizeof chosen_text);
        tta_report_search rs = {.model = model_path,
                                .val = val_spec,
                                .test = test_spec,
                                .objective = tta_objective_name(obj),
                                .n_val = val.n,
                                .n_test = test.n,
                                .pool_views = pool.n_views,
                                .candidates = res.n_candidates,
                                .rows = brows,
                                .n_rows = B,
                                .chosen_budget = chosen_b,
                                .chosen_policy = chosen_text,
                                .policy_file = out_path,
                                .adaptive = have_ad ? ad : NULL,
                                .n_adaptive = N_CURVE,
                                .adaptive_at = {adaptive_cost, thr, at_val.mean_cost, at_val.accuracy,
                                                at_test.mean_cost, at_test.accuracy}};
        /* calibration on test: the identity and the policy as written (its weights included) */
        if (merge_on(&test, cp->views, final_w, cp->n_views, bt)) goto done;
        tta_reliability_compute(base_test, test.labels, test.n, k, 15, &rs.rel_single);
        tta_reliability_compute(bt, test.labels, test.n, k, 15, &rs.rel_tta);
        if (cli_report_write(report, write_search_page, &rs)) goto done;
        printf("report written to %s\n", report);
    }
    rc = 0;
done:
    if (jf) {
        fclose(jf);
        remove(json_tmp);
    }
    free(json_tmp);
    if (have_res) tta_search_result_destroy(&res);
    free(rows);
    free(bv);
    free(bt);
    free(base_val);
    free(base_test);
    free(conf_val);
    free(conf_test);
    free(ok);
    for (int j = 0; j < 2; j++) {
        split *s = j ? &test : &val;
        free(s->probs);
        tta_dataset_free(s->ds);
    }
    tta_pred_cache_free(cache);
    tta_classifier_free(cls);
    tta_model_free(model);
    tta_policy_destroy(&pool);
    return rc;
}
