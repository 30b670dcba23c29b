/* cmd_eval.c - `tta eval`: the reference experiment's table for any model and data set.
 *
 * Every distinct view of all the policies asked for runs once per image and model; each policy
 * is then scored by merging its views from that table. Prints one row per policy (views,
 * accuracy, NLL, ECE, corrected and broken against the identity view of the first model, and
 * the model time its views took), the accuracy of each view alone with a warning for views far
 * below the identity, and optionally the random-augmentation baselines. --json writes it all;
 * --report an HTML page with the same figures as plots, a reliability diagram of one pass and
 * of the best policy, and the images that policy corrected and broke. Under mpirun each rank
 * runs its block of whole chunks of images and the tables are gathered (dist.h): the figures
 * are those of one process. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/cli_util.h"
#include "cli/commands.h"
#include "cli/dist.h"
#include "cli/progress.h"
#include "cli/report_cli.h"
#include "tta/classify.h"
#include "tta/dataset.h"

#define MAX_MODELS 8
#define MAX_POLICIES 32
#define CHUNK 500
#define WARN_DROP 0.05 /* a view alone this far below the identity gets a warning */

typedef struct policy_result {
    const char *name;
    int n_views;        /* views x models merged */
    int *sel;           /* indices into the table (model-major) */
    tta_metrics m;
    int corrected, broken;
    double seconds;
    double *cumulative; /* accuracy after the first 1..n views of the policy (first model) */
    int n_cumulative;
} policy_result;

static int usage(FILE *f, int code) {
    fprintf(f,
            "usage: tta eval --model M [--model M2 ...] --data SPEC --policy P [--policy P2 ...]\n"
            "                [--merge RULE] [--random K] [--seed N] [--calibrate SPEC] [--json FILE]\n"
            "                [--report FILE.html] [--max-batch B] [--threads T]\n\n"
            "Scores test-time augmentation policies on a labelled data set: for each policy, its\n"
            "views, top-1 accuracy, NLL, ECE, the images it corrected and broke against the\n"
            "identity view of the first model, and the model time of its views. Each distinct view\n"
            "runs once per image. With several --model flags every policy merges views x models\n"
            "(a model ensemble), and each model alone is also reported.\n\n"
            "  --policy P      a preset (seed, flip, d4, five-crop, ten-crop, multiscale), policy text\n"
            "                  or a policy file; NAME=P names the row (default: P itself); views\n"
            "                  with weights ('hflip @ 0.35') are merged by weighted mean\n"
            "  --merge RULE    mean (default), logits, geometric, max, vote\n"
            "  --random K      also score one random augmentation per image and the mean of 1..K\n"
            "                  random ones (flip, shifts of up to 3 px, rotations up to 10 degrees)\n"
            "  --seed N        seed of the random views (default 0)\n"
            "  --calibrate S   fit a temperature per policy on data S and report calibrated NLL/ECE\n"
            "  --json FILE     write every figure as JSON\n"
            "  --report F.html a self-contained HTML report: the table, accuracy as views are added,\n"
            "                  each view alone, a reliability diagram without and with TTA, and the\n"
            "                  images the best policy corrected and broke with their views\n\n"
            "%s\n%s\n",
            cli_format_help, tta_dataset_spec_help());
    return code;
}

/* Views of all policies, deduplicated, identity first. map[p][j] = union index of view j. */
static int build_union(tta_policy *pols, int n_pols, tta_policy *uni, int **map) {
    if (tta_policy_init(uni)) return cli_fail();
    for (int p = 0; p < n_pols; p++) {
        map[p] = malloc(sizeof(int) * (size_t)pols[p].n_views);
        for (int j = 0; j < pols[p].n_views; j++) {
            int u = 0;
            while (u < uni->n_views && !tta_view_equal(&uni->views[u], &pols[p].views[j])) u++;
            if (u == uni->n_views && tta_policy_add_view(uni, &pols[p].views[j])) return cli_fail();
            map[p][j] = u;
        }
    }
    return 0;
}

/* Runs the union policy over the data set with one classifier; table is n x V x k. Each MPI
 * rank runs its chunks [b, e) and every rank receives the whole table. */
static int run_table(tta_classifier *c, const tta_policy *uni, const tta_dataset *ds, float *table, int k,
                     const char *what, double *seconds) {
    int64_t n = tta_dataset_count(ds), b, e;
    dist_range(n, CHUNK, &b, &e);
    tta_image imgs[CHUNK];
    memset(imgs, 0, sizeof imgs);
    double t0 = cli_now();
    int rc = 0;
    cli_progress pg;
    cli_progress_start_views(&pg, what, uni->n_views, e - b);
    for (int64_t s = b; s < e && !rc; s += CHUNK) {
        int cnt = (int)(e - s < CHUNK ? e - s : CHUNK);
        for (int i = 0; i < cnt && !rc; i++)
            if (tta_dataset_get(ds, s + i, &imgs[i], NULL)) rc = cli_fail();
        if (!rc && tta_classify_views(c, uni, imgs, cnt, table + (size_t)s * uni->n_views * k, NULL)) rc = cli_fail();
        if (!rc) cli_progress_update(&pg, s + cnt - b);
    }
    cli_progress_end(&pg);
    for (int i = 0; i < CHUNK; i++) tta_image_destroy(&imgs[i]);
    if (dist_any_failed(rc, "eval") || dist_allgather_rows(table, sizeof(float) * uni->n_views * k, n, CHUNK))
        rc = 1;
    *seconds = cli_now() - t0;
    return rc;
}

/* Random-augmentation baselines: accuracy with one random view per image, and of the mean of
 * 1..K random views. out_acc[r] = accuracy after r + 1 random views. Each MPI rank runs its
 * chunks, drawing (and skipping) the views of the others' images so that every image gets the
 * view it gets in one process; the counts are summed over the ranks. */
static int run_random(tta_classifier *c, const tta_dataset *ds, int k_classes, int K, uint64_t seed, double *out_acc) {
    int64_t n = tta_dataset_count(ds), b, e;
    dist_range(n, CHUNK, &b, &e);
    const int *labels = tta_dataset_labels(ds);
    double *sum = calloc((size_t)n * k_classes, sizeof(double));
    float *p = malloc(sizeof(float) * CHUNK * (size_t)k_classes);
    tta_image src = {0}, *aug = calloc(CHUNK, sizeof(tta_image));
    tta_policy ident;
    int rc = tta_policy_init(&ident) ? cli_fail() : 0;
    uint64_t state = seed;
    cli_progress pg;
    cli_progress_start(&pg, "random augmentation", K, "draws per image");
    for (int r = 0; r < K && !rc; r++) {
        int64_t correct = 0;
        for (int64_t s = 0; s < n && !rc; s += CHUNK) {
            int cnt = (int)(n - s < CHUNK ? n - s : CHUNK);
            if (s < b || s >= e) { /* another rank's chunk: its views drawn all the same */
                for (int i = 0; i < cnt; i++) {
                    tta_view v;
                    tta_random_view(&state, 3, 10.0, &v);
                }
                continue;
            }
            for (int i = 0; i < cnt && !rc; i++) {
                tta_policy one;
                tta_view v;
                tta_aug_plan *plan = NULL;
                tta_random_view(&state, 3, 10.0, &v);
                if (tta_dataset_get(ds, s + i, &src, NULL) || tta_policy_init(&one)) {
                    rc = cli_fail();
                    break;
                }
                if (v.n && tta_policy_add_view(&one, &v)) rc = cli_fail();
                if (!rc && tta_aug_plan_new(&plan, &one, src.height, src.width, 0, 0)) rc = cli_fail();
                if (!rc && tta_augment_view(plan, one.n_views - 1, &src, TTA_DTYPE_UINT8, &aug[i])) rc = cli_fail();
                tta_aug_plan_free(plan);
                tta_policy_destroy(&one);
            }
            if (!rc && tta_classify(c, &ident, aug, cnt, TTA_MERGE_MEAN, NULL, p, NULL)) rc = cli_fail();
            for (int i = 0; i < cnt && !rc; i++) {
                double *acc = sum + (size_t)(s + i) * k_classes;
                int best = 0;
                for (int j = 0; j < k_classes; j++) {
                    acc[j] += p[(size_t)i * k_classes + j];
                    if (acc[j] > acc[best]) best = j;
                }
                correct += best == labels[s + i];
            }
        }
        if (dist_any_failed(rc, "eval") || dist_allreduce_sum_i64(&correct, 1)) rc = 1;
        out_acc[r] = (double)correct / (double)n;
        cli_progress_update(&pg, r + 1);
    }
    cli_progress_end(&pg);
    for (int i = 0; i < CHUNK; i++) tta_image_destroy(&aug[i]);
    free(aug);
    tta_image_destroy(&src);
    tta_policy_destroy(&ident);
    free(sum);
    free(p);
    return rc;
}

/* What the report shows, as computed and printed above. */
typedef struct eval_figures {
    const char *data, *merge;
    int n, n_models;
    const char *const *models;
    const policy_result *res;
    int n_res, n_pols;
    const tta_policy *uni;
    const double *view_acc, *random_acc;
    int random_k;
    const tta_dataset *ds;
    const tta_policy *focus; /* the policy of the diagram and the examples */
    const char *focus_name;
    const int *focus_sel;       /* its views in the union */
    const float *base, *merged; /* n x k: the identity (first model) and the focus policy */
    const float *table;         /* the first model's n x V x k */
    int V, k;
    const tta_model *model;
} eval_figures;

static tta_status write_eval_page(FILE *f, const void *data) { return tta_report_eval_write(f, data); }

static int write_report(const char *path, const eval_figures *e) {
    tta_report_eval_row *rows = calloc((size_t)e->n_res, sizeof *rows);
    char(*vnames)[256] = calloc((size_t)e->V, sizeof *vnames);
    const char **vptr = calloc((size_t)e->V, sizeof *vptr);
    const int *labels = tta_dataset_labels(e->ds);
    char **classes = cli_class_names(e->model, e->k);
    cli_examples *ex = calloc(2, sizeof *ex);
    int rc = 1;
    if (!rows || !vnames || !vptr || !classes || !ex) {
        fprintf(stderr, "tta: %s: out of memory\n", path);
        goto done;
    }
    for (int r = 0; r < e->n_res; r++) {
        const policy_result *p = &e->res[r];
        rows[r] = (tta_report_eval_row){p->name,   p->n_views,    r >= e->n_pols, p->m.top1,
                                        p->m.nll,  p->m.ece,      p->seconds,     p->corrected,
                                        p->broken, p->cumulative, p->n_cumulative};
    }
    for (int v = 0; v < e->V; v++) {
        tta_view_format(&e->uni->views[v], vnames[v], sizeof vnames[v]);
        vptr[v] = vnames[v];
    }
    tta_report_eval r = {.data = e->data,
                         .merge = e->merge,
                         .n_images = e->n,
                         .n_models = e->n_models,
                         .models = e->models,
                         .rows = rows,
                         .n_rows = e->n_res,
                         .view_names = vptr,
                         .view_accuracy = e->view_acc,
                         .n_views = e->V,
                         .random_accuracy = e->random_acc,
                         .random_k = e->random_k,
                         .focus = e->focus_name};
    tta_reliability_compute(e->base, labels, e->n, e->k, 15, &r.rel_single); /* 15 bins: the table's ECE */
    tta_reliability_compute(e->merged, labels, e->n, e->k, 15, &r.rel_tta);
    size_t image_stride = (size_t)e->V * e->k;
    for (int c = 0; c < 2; c++)
        if (cli_examples_collect(&ex[c], !c, e->ds, e->focus, e->base, e->merged, e->table, image_stride,
                                 (size_t)e->k, e->focus_sel, e->k, classes))
            goto done;
    r.corrected = ex[0].ex, r.n_corrected = ex[0].n, r.total_corrected = ex[0].total;
    r.broken = ex[1].ex, r.n_broken = ex[1].n, r.total_broken = ex[1].total;
    rc = cli_report_write(path, write_eval_page, &r);
done:
    if (ex) cli_examples_destroy(&ex[0]), cli_examples_destroy(&ex[1]);
    free(ex);
    cli_free_names(classes, e->k);
    free(rows);
    free(vnames);
    free(vptr);
    return rc;
}

int tta_cmd_eval(int argc, char **argv) {
    const char *model_paths[MAX_MODELS], *policy_args[MAX_POLICIES],
        *data = NULL, *json = NULL, *merge_name = "mean", *calib = NULL, *report = NULL;
    int n_models = 0, n_pols = 0, random_k = 0, max_batch = 0, threads = 0;
    uint64_t seed = 0;
    cli_format fmt_over = {0};
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        int more = i + 1 < argc;
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) return usage(stdout, 0);
        if (!strcmp(a, "--model") && more && n_models < MAX_MODELS) model_paths[n_models++] = argv[++i];
        else if (!strcmp(a, "--policy") && more && n_pols < MAX_POLICIES) policy_args[n_pols++] = argv[++i];
        else if (!strcmp(a, "--data") && more) data = argv[++i];
        else if (!strcmp(a, "--json") && more) json = argv[++i];
        else if (!strcmp(a, "--report") && more)
            report = argv[++i];
        else if (!strcmp(a, "--merge") && more) merge_name = argv[++i];
        else if (!strcmp(a, "--random") && more) random_k = atoi(argv[++i]);
        else if (!strcmp(a, "--seed") && more) seed = strtoull(argv[++i], NULL, 10);
        else if (!strcmp(a, "--calibrate") && more) calib = argv[++i];
        else if (!strcmp(a, "--max-batch") && more) max_batch = atoi(argv[++i]);
        else if (!strcmp(a, "--threads") && more) threads = atoi(argv[++i]);
        else if (cli_format_flag(argc, argv, &i, &fmt_over)) continue;
        else {
            fprintf(stderr, "tta: eval: unknown, incomplete or repeated-too-often option '%s'\n", a);
            return usage(stderr, 2);
        }
    }
    if (!n_models || !data) {
        fprintf(stderr, "tta: eval: --model and --data are required\n");
        return usage(stderr, 2);
    }
    if (!n_pols) policy_args[n_pols++] = "seed";
    tta_merge merge;
    if (tta_merge_parse(merge_name, &merge)) return cli_fail();
    if (report && !dist_rank() && cli_report_check(report)) return 1; /* before the long run; rank 0 writes it */

    int rc = 1;
    tta_model *models[MAX_MODELS] = {0};
    tta_classifier *cls[MAX_MODELS] = {0};
    tta_policy pols[MAX_POLICIES], uni = {0};
    int *map[MAX_POLICIES] = {0};
    memset(pols, 0, sizeof pols);
    const char *names[MAX_POLICIES];
    tta_dataset *ds = NULL, *cal_ds = NULL;
    float *table = NULL, *cal_table = NULL, *merged = NULL, *base = NULL, *tmp = NULL, *focus_merged = NULL;
    int focus_p = -1; /* the report's policy: the most accurate of more than one view */
    policy_result res[MAX_POLICIES + MAX_MODELS];
    memset(res, 0, sizeof res);
    int n_res = 0, k = 0;
    double model_seconds[MAX_MODELS] = {0}, *random_acc = NULL, *view_acc = NULL;
    FILE *jf = NULL;
    char *json_tmp = NULL;

    for (int p = 0; p < n_pols; p++) {
        char *name = NULL;
        const char *arg = cli_policy_name(policy_args[p], &name);
        names[p] = name;
        if (cli_load_policy(arg, &pols[p])) goto done;
    }
    if (build_union(pols, n_pols, &uni, map)) goto done;
    if (tta_dataset_open(&ds, data)) {
        cli_fail();
        goto done;
    }
    int64_t n = tta_dataset_count(ds);
    const int *labels = tta_dataset_labels(ds);
    int V = uni.n_views;
    for (int j = 0; j < n_models; j++) {
        if (tta_model_load(model_paths[j], cli_model_options(), &models[j])) {
            cli_fail();
            goto done;
        }
        if (cli_classifier_new(&cls[j], models[j], &fmt_over, threads, max_batch)) goto done;
        tta_image first = {0};
        int kj = 0;
        if (tta_dataset_get(ds, 0, &first, NULL) || tta_classify_views(cls[j], &uni, &first, 1, NULL, &kj)) {
            tta_image_destroy(&first);
            fprintf(stderr, "tta: %s on %s: %s\n", model_paths[j], data, tta_last_error());
            goto done;
        }
        tta_image_destroy(&first);
        if (j == 0) k = kj;
        if (kj != k) {
            fprintf(stderr, "tta: %s gives %d classes but %s gives %d\n", model_paths[j], kj, model_paths[0], k);
            goto done;
        }
    }
    if (k < tta_dataset_num_classes(ds)) {
        fprintf(stderr, "tta: %s gives %d classes but %s has labels up to %d\n", model_paths[0], k, data,
                tta_dataset_num_classes(ds) - 1);
        goto done;
    }
    table = malloc(sizeof(float) * (size_t)n_models * (size_t)n * V * k);
    merged = malloc(sizeof(float) * (size_t)n * k);
    base = malloc(sizeof(float) * (size_t)n * k);
    tmp = malloc(sizeof(float) * (size_t)n * k);
    focus_merged = report ? malloc(sizeof(float) * (size_t)n * k) : NULL;
    if (!table || !merged || !base || !tmp || (report && !focus_merged)) {
        fprintf(stderr, "tta: out of memory for %lld images x %d views x %d models\n", (long long)n, V, n_models);
        goto done;
    }
    for (int j = 0; j < n_models; j++) {
        char what[512];
        snprintf(what, sizeof what, "%s on %s", model_paths[j], data);
        if (run_table(cls[j], &uni, ds, table + (size_t)j * n * V * k, k, what, &model_seconds[j])) goto done;
    }
    if (calib) {
        if (tta_dataset_open(&cal_ds, calib)) {
            cli_fail();
            goto done;
        }
        int64_t nc = tta_dataset_count(cal_ds);
        cal_table = malloc(sizeof(float) * (size_t)n_models * (size_t)nc * V * k);
        if (!cal_table) goto done;
        for (int j = 0; j < n_models; j++) {
            double s;
            char what[512];
            snprintf(what, sizeof what, "%s on %s (calibration)", model_paths[j], calib);
            if (run_table(cls[j], &uni, cal_ds, cal_table + (size_t)j * nc * V * k, k, what, &s)) goto done;
        }
    }
    if (random_k > 0) {
        random_acc = calloc((size_t)random_k, sizeof(double));
        if (!random_acc || run_random(cls[0], ds, k, random_k, seed, random_acc)) goto done;
    }
    if (dist_leave()) { /* the model has run: rank 0 reports */
        rc = 0;
        goto done;
    }

    /* The table holds one block of n x V x k per model; a row merges its views over the
     * models it covers. The baseline is the identity view of the first model. */
    int idx0 = 0;
    if (tta_merge_table(table, (int)n, V, k, &idx0, 1, TTA_MERGE_MEAN, NULL, base)) {
        cli_fail();
        goto done;
    }
    for (int p = 0; p <= n_pols; p++) {
        /* rows: each policy over all models; then (ensembles only) each model alone */
        int rows = p < n_pols ? 1 : (n_models > 1 ? n_models : 0);
        for (int r = 0; r < rows; r++) {
            policy_result *pr = &res[n_res++];
            int m0 = p < n_pols ? 0 : r, m1 = p < n_pols ? n_models : r + 1;
            const int *sel = p < n_pols ? map[p] : &idx0;
            int nsel = p < n_pols ? pols[p].n_views : 1;
            pr->name = p < n_pols ? names[p] : model_paths[r];
            pr->n_views = nsel * (m1 - m0);
            /* a policy with view weights ("view @ W") merges them by weighted mean */
            const double *w = p < n_pols ? pols[p].weights : NULL;
            tta_merge rm = w && merge == TTA_MERGE_MEAN ? TTA_MERGE_WEIGHTED : merge;
            tta_merger mg;
            if (tta_merger_init(&mg, rm, k)) {
                cli_fail();
                goto done;
            }
            for (int64_t i = 0; i < n; i++) {
                tta_merger_reset(&mg);
                for (int j = m0; j < m1; j++)
                    for (int s = 0; s < nsel; s++)
                        tta_merger_add(&mg, table + (((size_t)j * n + i) * V + sel[s]) * k, w ? w[s] : 1.0);
                tta_merger_result(&mg, merged + (size_t)i * k);
            }
            tta_merger_destroy(&mg);
            tta_metrics_compute(merged, labels, (int)n, k, &pr->m);
            tta_compare_predictions(base, merged, labels, (int)n, k, &pr->corrected, &pr->broken);
            if (report && p < n_pols &&
                (focus_p < 0 ||
                 (nsel > 1 && (pols[focus_p].n_views == 1 || pr->m.top1 > res[focus_p].m.top1)))) {
                focus_p = p;
                memcpy(focus_merged, merged, sizeof(float) * (size_t)n * k);
            }
            for (int j = m0; j < m1; j++) pr->seconds += model_seconds[j] * nsel / V;
            if (p < n_pols) { /* accuracy as views are added in policy order (first model) */
                pr->n_cumulative = nsel;
                pr->cumulative = malloc(sizeof(double) * (size_t)nsel);
                for (int s = 1; s <= nsel && pr->cumulative; s++) {
                    tta_metrics cm;
                    tta_merge_table(table, (int)n, V, k, sel, s, rm, w, tmp);
                    tta_metrics_compute(tmp, labels, (int)n, k, &cm);
                    pr->cumulative[s - 1] = cm.top1;
                }
            }
        }
    }

    /* ---- report */
    printf("data: %s (%lld images), merge: %s, %d model%s\n", data, (long long)n, tta_merge_name(merge), n_models,
           n_models > 1 ? "s" : "");
    printf("%-28s %6s %9s %8s %8s %10s %7s %8s\n", "policy", "views", "accuracy", "NLL", "ECE", "corrected", "broken",
           "seconds");
    for (int r = 0; r < n_res; r++) {
        policy_result *pr = &res[r];
        printf("%-28.28s %6d %9.4f %8.4f %8.4f %10d %7d %8.2f\n", pr->name, pr->n_views, pr->m.top1, pr->m.nll,
               pr->m.ece, pr->corrected, pr->broken, pr->seconds);
    }
    if (random_k > 0) {
        printf("%-28s %6d %9.4f   (one random augmentation per image instead of the original)\n", "random x1", 1,
               random_acc[0]);
        printf("random views averaged, accuracy after each of 1..%d:", random_k);
        for (int r = 0; r < random_k; r++) printf(" %.4f", random_acc[r]);
        printf("\n");
        tta_metrics bm;
        tta_metrics_compute(base, labels, (int)n, k, &bm);
        if (random_acc[0] <= bm.top1)
            printf("warning: one random augmentation per image (%.4f) is no better than none (%.4f)\n", random_acc[0],
                   bm.top1);
    }
    printf("\naccuracy of each view alone (model %s):\n", model_paths[0]);
    view_acc = malloc(sizeof(double) * (size_t)V);
    if (!view_acc) goto done;
    int n_warn = 0;
    for (int v = 0; v < V; v++) { /* computed once, printed here and written to the JSON */
        tta_metrics vm;
        char vt[256];
        tta_merge_table(table, (int)n, V, k, &v, 1, TTA_MERGE_MEAN, NULL, tmp);
        tta_metrics_compute(tmp, labels, (int)n, k, &vm);
        view_acc[v] = vm.top1;
        tta_view_format(&uni.views[v], vt, sizeof vt);
        printf("  %-36.36s %.4f%s\n", vt, vm.top1, vm.top1 < view_acc[0] - WARN_DROP ? "  <- far below the identity" : "");
        n_warn += vm.top1 < view_acc[0] - WARN_DROP;
    }
    if (n_warn)
        printf("warning: %d view%s score more than %.0f points below the identity; averaging them in can hurt "
               "(was the model trained with such augmentations?)\n",
               n_warn, n_warn > 1 ? "s" : "", WARN_DROP * 100);
    for (int p = 0; p < n_pols; p++) {
        if (!res[p].cumulative || res[p].n_cumulative < 2) continue;
        printf("%s, accuracy as views are added:", res[p].name);
        for (int s = 0; s < res[p].n_cumulative; s++) printf(" %.4f", res[p].cumulative[s]);
        printf("\n");
    }
    if (calib) {
        int64_t nc = tta_dataset_count(cal_ds);
        float *cm = malloc(sizeof(float) * (size_t)nc * k);
        printf("\ntemperature scaling fitted on %s (first model):\n", calib);
        printf("%-28s %8s %8s %8s %8s\n", "policy", "T", "NLL", "ECE", "accuracy");
        for (int p = 0; p < n_pols && cm; p++) {
            const double *w = pols[p].weights;
            tta_merge rm = w && merge == TTA_MERGE_MEAN ? TTA_MERGE_WEIGHTED : merge;
            tta_merge_table(cal_table, (int)nc, V, k, map[p], pols[p].n_views, rm, w, cm);
            double t = tta_fit_temperature(cm, tta_dataset_labels(cal_ds), (int)nc, k, NULL);
            tta_merge_table(table, (int)n, V, k, map[p], pols[p].n_views, rm, w, tmp);
            tta_apply_temperature(tmp, (int)n, k, t);
            tta_metrics tm;
            tta_metrics_compute(tmp, labels, (int)n, k, &tm);
            printf("%-28.28s %8.3f %8.4f %8.4f %8.4f\n", names[p], t, tm.nll, tm.ece, tm.top1);
        }
        free(cm);
    }

    if (json) {
        jf = cli_output_open(json, &json_tmp); /* PATH.part, renamed into place when whole */
        if (!jf) goto done;
        fprintf(jf, "{\n  \"data\": ");
        cli_json_str(jf, data);
        fprintf(jf, ",\n  \"n_images\": %lld,\n  \"merge\": \"%s\",\n  \"models\": [", (long long)n, tta_merge_name(merge));
        for (int j = 0; j < n_models; j++) {
            if (j) fprintf(jf, ", ");
            cli_json_str(jf, model_paths[j]);
        }
        fprintf(jf, "],\n  \"policies\": [\n");
        for (int r = 0; r < n_res; r++) {
            policy_result *pr = &res[r];
            fprintf(jf, "    {\"name\": ");
            cli_json_str(jf, pr->name);
            fprintf(jf,
                    ", \"kind\": \"%s\", \"views\": %d, \"accuracy\": %.6f, \"top5\": %.6f, \"nll\": %.6f, \"brier\": %.6f, "
                    "\"ece\": %.6f, \"corrected\": %d, \"broken\": %d, \"net\": %d, \"seconds\": %.3f",
                    r < n_pols ? "policy" : "model", pr->n_views, pr->m.top1, pr->m.top5, pr->m.nll, pr->m.brier,
                    pr->m.ece, pr->corrected, pr->broken, pr->corrected - pr->broken, pr->seconds);
            if (pr->cumulative) {
                fprintf(jf, ", \"cumulative_accuracy\": [");
                for (int s = 0; s < pr->n_cumulative; s++) fprintf(jf, "%s%.6f", s ? ", " : "", pr->cumulative[s]);
                fprintf(jf, "]");
            }
            fprintf(jf, "}%s\n", r + 1 < n_res ? "," : "");
        }
        fprintf(jf, "  ],\n  \"views\": [\n");
        for (int v = 0; v < V; v++) {
            char vt[256];
            tta_view_format(&uni.views[v], vt, sizeof vt);
            fprintf(jf, "    {\"view\": ");
            cli_json_str(jf, vt);
            fprintf(jf, ", \"accuracy\": %.6f, \"far_below_identity\": %s}%s\n", view_acc[v],
                    view_acc[v] < view_acc[0] - WARN_DROP ? "true" : "false", v + 1 < V ? "," : "");
        }
        fprintf(jf, "  ]");
        if (random_k > 0) {
            fprintf(jf, ",\n  \"random\": {\"seed\": %llu, \"accuracy_after\": [", (unsigned long long)seed);
            for (int r = 0; r < random_k; r++) fprintf(jf, "%s%.6f", r ? ", " : "", random_acc[r]);
            fprintf(jf, "]}");
        }
        fprintf(jf, "\n}\n");
        int failed = cli_output_commit(jf, json_tmp, json);
        jf = NULL;
        if (failed) goto done;
    }
    if (report) {
        eval_figures ef = {data,
                           tta_merge_name(merge),
                           (int)n,
                           n_models,
                           model_paths,
                           res,
                           n_res,
                           n_pols,
                           &uni,
                           view_acc,
                           random_acc,
                           random_k,
                           ds,
                           &pols[focus_p],
                           names[focus_p],
                           map[focus_p],
                           base,
                           focus_merged,
                           table,
                           V,
                           k,
                           models[0]};
        if (write_report(report, &ef)) goto done;
        printf("\nreport written to %s\n", report);
    }
    rc = 0;
done:
    if (jf) {
        fclose(jf);
        remove(json_tmp);
    }
    free(json_tmp);
    for (int r = 0; r < n_res; r++) free(res[r].cumulative);
    for (int p = 0; p < n_pols; p++) {
        tta_policy_destroy(&pols[p]);
        free(map[p]);
        free((void *)names[p]);
    }
    tta_policy_destroy(&uni);
    for (int j = 0; j < n_models; j++) {
        tta_classifier_free(cls[j]);
        tta_model_free(models[j]);
    }
    tta_dataset_free(ds);
    tta_dataset_free(cal_ds);
    free(table);
    free(cal_table);
    free(merged);
    free(base);
    free(tmp);
    free(focus_merged);
    free(random_acc);
    free(view_acc);
    return rc;
}
