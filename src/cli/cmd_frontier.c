/* cmd_frontier.c - `tta frontier`: when TTA pays. Several classifiers on the same validation and
 * test splits, each with its policy searched on validation at each budget, and ensembles of the
 * models (their identity views averaged), all placed by cost per image (measured milliseconds
 * on this machine, and multiply-adds) against test accuracy and NLL. Marks the Pareto front
 * (no other point is as cheap and at least as accurate), says per model whether TTA, a bigger
 * model or an ensemble is the better buy at the cost of its TTA, with the paired bootstrap
 * interval of each difference, and looks for a smaller model with TTA beating a larger one
 * without it at lower cost. Writes the table, optionally JSON, an SVG plot and an HTML report
 * (both drawn by src/report/frontier_report.c). */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli/cli_util.h"
#include "cli/commands.h"
#include "cli/report_cli.h"
#include "cli/search_cli.h"
#include "core/file_key.h"
#include "tta/runtime.h"

#define MAX_MODELS 8
#define MAX_BUDGETS 8
#define TIMING_IMAGES 256

static int usage(FILE *f, int code) {
    fprintf(f,
            "usage: tta frontier --model M1 --model M2 [--model M ...] --val SPEC --test SPEC\n"
            "                    [--budgets 1,2,4,8] [--pool P] [--objective O] [--max-ensemble K]\n"
            "                    [--cache-dir DIR] [--json FILE] [--plot FILE.svg] [--report FILE.html]\n"
            "                    [--threads T] [--seed S]\n\n"
            "Places every model, its TTA policy searched on validation at each budget, and the\n"
            "ensembles of up to K models (identity views averaged; default K = the largest budget)\n"
            "by cost per image against test accuracy: cost is the median measured milliseconds per\n"
            "image on this machine (passes x the model's time at batch %d) and multiply-adds\n"
            "(convolutions and matrix products, from the plan). Marks the Pareto front, and says\n"
            "for each model whether TTA, a bigger model or an ensemble is the better buy at the\n"
            "cost of its TTA, with the 95%% paired bootstrap interval of the difference on test.\n\n"
            "  --budgets B,...   passes per image to search (default 1,2,4,8; 1 is the model alone)\n"
            "  --pool P          candidate views (default 'small': 17 views; see tta search)\n"
            "  --objective O     accuracy (default), nll or calibrated-nll, as tta search\n"
            "  --cache-dir DIR   one prediction cache per model in DIR (NAME.cache)\n"
            "  --plot FILE.svg   the frontier as a self-contained SVG picture\n"
            "  --report F.html   a self-contained HTML report: the frontier plot, every point, the verdicts\n"
            "  --seed S          bootstrap seed (default 0)\n",
            TIMING_IMAGES);
    return code;
}

typedef struct mdl {
    const char *path;
    char name[64];
    tta_model *model;
    tta_classifier *cls;
    split val, test;
    double ms;   /* per image, one pass */
    double macs; /* per image, one pass; 0 unknown */
} mdl;

typedef enum { PT_MODEL, PT_TTA, PT_ENSEMBLE } pt_kind;

typedef struct point {
    pt_kind kind;
    char label[160];
    int model;        /* PT_MODEL, PT_TTA: the model; PT_ENSEMBLE: -1 */
    unsigned members; /* PT_ENSEMBLE: bit per model */
    int passes;
    double ms, macs;
    double val_acc, test_acc, test_nll;
    uint8_t *ok; /* test: right or wrong per image */
    int pareto;
} point;

/* A model's name: its file name without .onnx, or its folder's name for DIR/model.onnx. */
static void base_name(const char *path, char *out, size_t size) {
    const char *b = strrchr(path, '/');
    if (b && !strcmp(b + 1, "model.onnx") && b > path) {
        const char *d = b - 1;
        while (d > path && d[-1] != '/') d--;
        snprintf(out, size, "%.*s", (int)(b - d), d);
        return;
    }
    b = b ? b + 1 : path;
    snprintf(out, size, "%s", b);
    char *dot = strrchr(out, '.');
    if (dot && !strcmp(dot, ".onnx")) *dot = '\0';
}

/* Median milliseconds per image of one pass (the identity) over TIMING_IMAGES validation images. */
static int time_model(mdl *m, tta_dataset *ds, int n) {
    int cnt = n < TIMING_IMAGES ? n : TIMING_IMAGES, k = 0;
    tta_image *imgs = calloc((size_t)cnt, sizeof *imgs);
    tta_policy ident = {0};
    float *out = NULL;
    int rc = 1;
    if (!imgs || tta_policy_init(&ident)) goto done;
    for (int i = 0; i < cnt; i++)
        if (tta_dataset_get(ds, i, &imgs[i], NULL)) goto done;
    if (tta_classify_views(m->cls, &ident, imgs, 1, NULL, &k)) goto done;
    out = malloc(sizeof(float) * (size_t)cnt * k);
    if (!out) goto done;
    double t[5];
    if (tta_classify_views(m->cls, &ident, imgs, cnt, out, NULL)) goto done; /* warm-up */
    for (int r = 0; r < 5; r++) {
        double t0 = cli_now();
        if (tta_classify_views(m->cls, &ident, imgs, cnt, out, NULL)) goto done;
        t[r] = (cli_now() - t0) * 1e3 / cnt;
    }
    m->ms = cli_median(t, 5);
    rc = 0;
done:
    if (rc) cli_fail();
    for (int i = 0; imgs && i < cnt; i++) tta_image_destroy(&imgs[i]);
    free(imgs);
    free(out);
    tta_policy_destroy(&ident);
    return rc;
}

/* Multiply-adds of one pass at batch 1 (0 when the input shape is not fixed but for the batch). */
static double model_macs(const tta_model *model) {
    tta_io_info in;
    if (tta_model_n_inputs(model) != 1 || tta_model_input(model, 0, &in)) return 0;
    int64_t dims[TTA_MAX_DIMS];
    for (int d = 0; d < in.ndim; d++) {
        dims[d] = d == 0 ? 1 : in.dims[d];
        if (dims[d] <= 0) return 0;
    }
    tta_tensor x = {0};
    tta_plan *p = NULL;
    double macs = 0;
    if (!tta_tensor_resize(&x, in.dtype, in.ndim, dims)) {
        memset(x.data, 0, tta_tensor_nbytes(&x));
        if (!tta_plan_new(model, &x, 1, NULL, &p)) macs = tta_plan_multiply_adds(p);
    }
    tta_plan_free(p);
    tta_tensor_destroy(&x);
    return macs;
}

/* Fills a point's test figures from merged test probabilities and its validation accuracy. */
static int point_fill(point *p, const float *val_probs, const split *val, const float *test_probs, const split *test,
                      int k) {
    tta_metrics mv, mt;
    tta_metrics_compute(val_probs, val->labels, val->n, k, &mv);
    tta_metrics_compute(test_probs, test->labels, test->n, k, &mt);
    p->val_acc = mv.top1, p->test_acc = mt.top1, p->test_nll = mt.nll;
    p->ok = malloc((size_t)test->n);
    if (!p->ok) return 1;
    for (int i = 0; i < test->n; i++) p->ok[i] = tta_argmax(test_probs + (size_t)i * k, k) == test->labels[i];
    return 0;
}

static int mark_pareto(point *pts, int n) {
    double *c = malloc(sizeof(double) * (size_t)n), *a = malloc(sizeof(double) * (size_t)n);
    int *on = malloc(sizeof(int) * (size_t)n), rc = !c || !a || !on;
    if (!rc) {
        for (int i = 0; i < n; i++) c[i] = pts[i].ms, a[i] = pts[i].test_acc;
        tta_pareto_front(c, a, n, on);
        for (int i = 0; i < n; i++) pts[i].pareto = on[i];
    }
    free(c), free(a), free(on);
    return rc;
}

/* ---- the picture and the report (src/report/frontier_report.c draws them) ---- */

/* The points and models as the report layer takes them; labels point into pts. */
static int frontier_figures(tta_report_frontier *r, tta_report_point **rp, const point *pts, int n,
                            const mdl *models, int n_models, const char **names) {
    *rp = calloc((size_t)n + 1, sizeof **rp);
    if (!*rp) {
        fprintf(stderr, "tta: frontier: out of memory\n");
        return 1;
    }
    for (int i = 0; i < n; i++) {
        const point *p = &pts[i];
        (*rp)[i] = (tta_report_point){p->kind == PT_MODEL ? TTA_REPORT_POINT_MODEL
                                      : p->kind == PT_TTA ? TTA_REPORT_POINT_TTA
                                                          : TTA_REPORT_POINT_ENSEMBLE,
                                      p->label,
                                      p->model,
                                      p->passes,
                                      p->pareto,
                                      p->ms,
                                      p->macs,
                                      p->val_acc,
                                      p->test_acc,
                                      p->test_nll};
    }
    for (int mi = 0; mi < n_models; mi++)
        names[mi] = models[mi].name;
    r->model_names = names, r->n_models = n_models, r->points = *rp, r->n_points = n;
    return 0;
}

static tta_status write_frontier_svg(FILE *f, const void *r) {
    tta_report_frontier_plot(f, r);
    return TTA_OK;
}

static tta_status write_frontier_page(FILE *f, const void *r) { return tta_report_frontier_write(f, r); }

/* printf to stdout, and the same text to mem (the verdicts the report shows) */
static void say(FILE *mem, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void say(FILE *mem, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    if (!mem) return;
    va_start(ap, fmt);
    vfprintf(mem, fmt, ap);
    va_end(ap);
}

/* ---- the command ---- */

static const char *argv_threads(int t) {
    static char buf[16];
    snprintf(buf, sizeof buf, "%d", t);
    return buf;
}

static int parse_budgets(const char *s, int *b, int *n) {
    *n = 0;
    while (*s) {
        char *end;
        long v = strtol(s, &end, 10);
        if (end == s || v < 1 || v > TTA_SEARCH_MAX_BUDGET || *n >= MAX_BUDGETS) return 1;
        if (*n && v <= b[*n - 1]) return 1;
        b[(*n)++] = (int)v;
        s = *end == ',' ? end + 1 : end;
        if (*end && *end != ',') return 1;
    }
    return *n == 0;
}

int tta_cmd_frontier(int argc, char **argv) {
    const char *paths[MAX_MODELS], *val_spec = NULL, *test_spec = NULL, *json = NULL, *plot = NULL,
                                   *report = NULL;
    const char *pool_arg = "small", *obj_name = "accuracy", *cache_dir = NULL, *budgets_arg = "1,2,4,8";
    int n_models = 0, threads = 0, max_ens = 0;
    uint64_t seed = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        int more = i + 1 < argc;
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) return usage(stdout, 0);
        if (!strcmp(a, "--model") && more) {
            if (n_models == MAX_MODELS) {
                fprintf(stderr, "tta: frontier: at most %d models\n", MAX_MODELS);
                return 2;
            }
            paths[n_models++] = argv[++i];
        } else if (!strcmp(a, "--val") && more) val_spec = argv[++i];
        else if (!strcmp(a, "--test") && more) test_spec = argv[++i];
        else if (!strcmp(a, "--budgets") && more) budgets_arg = argv[++i];
        else if (!strcmp(a, "--pool") && more) pool_arg = argv[++i];
        else if (!strcmp(a, "--objective") && more) obj_name = argv[++i];
        else if (!strcmp(a, "--max-ensemble") && more) max_ens = atoi(argv[++i]);
        else if (!strcmp(a, "--cache-dir") && more) cache_dir = argv[++i];
        else if (!strcmp(a, "--json") && more) json = argv[++i];
        else if (!strcmp(a, "--plot") && more) plot = argv[++i];
        else if (!strcmp(a, "--report") && more)
            report = argv[++i];
        else if (!strcmp(a, "--threads") && more) threads = atoi(argv[++i]);
        else if (!strcmp(a, "--seed") && more) seed = strtoull(argv[++i], NULL, 10);
        else {
            fprintf(stderr, "tta: frontier: unknown or incomplete option '%s'\n", a);
            return usage(stderr, 2);
        }
    }
    if (n_models < 1 || !val_spec || !test_spec) {
        fprintf(stderr, "tta: frontier: at least one --model, and --val and --test, are required\n");
        return usage(stderr, 2);
    }
    int budgets[MAX_BUDGETS + 1], n_budgets = 0;
    if (parse_budgets(budgets_arg, budgets + 1, &n_budgets)) {
        fprintf(stderr, "tta: frontier: --budgets '%s': give increasing passes per image in 1..%d, e.g. 1,2,4,8\n",
                budgets_arg, TTA_SEARCH_MAX_BUDGET);
        return 2;
    }
    /* the model alone (budget 1) is always a point: every verdict compares against it */
    if (budgets[1] == 1) memmove(budgets, budgets + 1, sizeof(int) * (size_t)n_budgets);
    else budgets[0] = 1, n_budgets++;
    tta_objective obj;
    if (tta_objective_parse(obj_name, &obj)) {
        fprintf(stderr, "tta: frontier: %s\n", tta_last_error());
        return 2;
    }
    int B = budgets[n_budgets - 1];
    if (max_ens <= 0) max_ens = B;
    if (max_ens > n_models) max_ens = n_models;
    if (!strcmp(val_spec, test_spec))
        fprintf(stderr, "tta: frontier: warning: --val and --test are the same data; test figures are not honest\n");

    if (report && cli_report_check(report)) return 1; /* before the long run */
    int rc = 1, n_pts = 0, k = 0;
    tta_report_point *report_points = NULL;
    char *verdict_text = NULL;
    mdl models[MAX_MODELS] = {0};
    point *pts = NULL;
    float *bv = NULL, *bt = NULL, *ev = NULL, *et = NULL;
    tta_policy pool = {0};
    tta_dataset *dval = NULL, *dtest = NULL;
    FILE *jf = NULL;
    char *json_tmp = NULL;
    const char *pool_text = tta_search_pool_text(pool_arg);
    if (pool_text ? tta_policy_parse(&pool, pool_text, pool_arg) != TTA_OK : cli_load_policy(pool_arg, &pool) != 0) {
        if (pool_text) cli_fail();
        goto done;
    }
    if (cache_dir && mkdir(cache_dir, 0777) != 0) {
        struct stat st;
        if (stat(cache_dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
            fprintf(stderr, "tta: frontier: --cache-dir %s: cannot create the folder\n", cache_dir);
            goto done;
        }
    }
    if (tta_dataset_open(&dval, val_spec) || tta_dataset_open(&dtest, test_spec)) {
        cli_fail();
        goto done;
    }
    int nv = (int)tta_dataset_count(dval), nt = (int)tta_dataset_count(dtest);
    int max_pts = n_models * (n_budgets + 1) + (1 << n_models);
    pts = calloc((size_t)max_pts, sizeof *pts);
    if (!pts) goto done;

    /* each model: its views on both splits, its cost, its searched policies */
    for (int mi = 0; mi < n_models; mi++) {
        mdl *m = &models[mi];
        m->path = paths[mi];
        base_name(m->path, m->name, sizeof m->name);
        tta_classifier_options co = {.n_threads = threads};
        if (tta_model_load(m->path, cli_model_options(), &m->model) || tta_classifier_new(&m->cls, m->model, &co)) {
            cli_fail();
            goto done;
        }
        if (time_model(m, dval, nv)) goto done;
        m->macs = model_macs(m->model);
        int km = tta_classifier_n_classes(m->cls);
        if (mi == 0) k = km;
        if (km != k) {
            fprintf(stderr, "tta: frontier: %s gives %d classes, %s %d: the models must share their classes\n", m->path,
                    km, models[0].path, k);
            goto done;
        }
        if (k < tta_dataset_num_classes(dval) || k < tta_dataset_num_classes(dtest)) {
            fprintf(stderr, "tta: frontier: %s gives %d classes but the data have more labels\n", m->path, k);
            goto done;
        }
        tta_pred_cache *cache = NULL;
        if (cache_dir) {
            char cp[1024];
            uint64_t msize, mhash;
            snprintf(cp, sizeof cp, "%s/%s.cache", cache_dir, m->name);
            int stale = 0;
            if (tta_file_key(m->path, &msize, &mhash)) {
                cli_fail();
                goto done;
            }
            tta_status st = tta_pred_cache_open(&cache, cp, msize, mhash, &stale);
            if (st == TTA_ERR_PARSE && cache) fprintf(stderr, "tta: warning: %s; rebuilding it\n", tta_last_error());
            else if (st) {
                cli_fail();
                goto done;
            }
        }
        m->val = (split){.spec = val_spec, .ds = NULL, .n = nv, .labels = tta_dataset_labels(dval)};
        m->test = (split){.spec = test_spec, .ds = NULL, .n = nt, .labels = tta_dataset_labels(dtest)};
        m->val.ds = dval, m->test.ds = dtest;
        int bad = search_fill_split(&m->val, "validation", m->cls, &pool, k, cache, m->path) ||
                  search_fill_split(&m->test, "test", m->cls, &pool, k, cache, m->path);
        tta_pred_cache_free(cache);
        if (bad) goto done;
        fprintf(stderr, "%s: %.4f ms per image, %.3g multiply-adds; searching budgets up to %d...\n", m->name, m->ms,
                m->macs, B);
        tta_search_options so = {.budget = B, .objective = obj, .prune = 1}; /* as tta search */
        tta_search_result res;
        if (tta_search_run(&m->val.t, &pool, &so, &res)) {
            cli_fail();
            goto done;
        }
        if (!bv) {
            bv = malloc(sizeof(float) * (size_t)nv * k);
            bt = malloc(sizeof(float) * (size_t)nt * k);
            ev = malloc(sizeof(float) * (size_t)nv * k);
            et = malloc(sizeof(float) * (size_t)nt * k);
            if (!bv || !bt || !ev || !et) {
                tta_search_result_destroy(&res);
                goto done;
            }
        }
        for (int j = 0; j < n_budgets; j++) {
            int b = budgets[j] < res.budget ? budgets[j] : res.budget;
            const tta_search_pick *p = &res.best[b - 1];
            if (j && p->n_views == pts[n_pts - 1].passes && pts[n_pts - 1].model == mi) continue; /* no new policy */
            const double *w = p->weighted ? p->weights : NULL;
            point *pt = &pts[n_pts];
            pt->kind = p->n_views == 1 ? PT_MODEL : PT_TTA;
            pt->model = mi;
            pt->passes = p->n_views;
            pt->ms = m->ms * p->n_views;
            pt->macs = m->macs * p->n_views;
            char line[1024];
            search_policy_line(&pool, p->views, w, p->n_views, line, sizeof line);
            if (p->n_views == 1) snprintf(pt->label, sizeof pt->label, "%s", m->name);
            else snprintf(pt->label, sizeof pt->label, "%s + TTA %d: %.100s", m->name, p->n_views, line);
            if (tta_pred_table_merge(&m->val.t, p->views, w, p->n_views, bv) ||
                tta_pred_table_merge(&m->test.t, p->views, w, p->n_views, bt)) {
                tta_search_result_destroy(&res);
                cli_fail();
                goto done;
            }
            if (point_fill(pt, bv, &m->val, bt, &m->test, k)) {
                tta_search_result_destroy(&res);
                goto done;
            }
            n_pts++;
        }
        tta_search_result_destroy(&res);
    }
    /* ensembles: every set of 2..max_ens models, identity views averaged */
    for (unsigned set = 1; set < (1u << n_models); set++) {
        int size = __builtin_popcount(set);
        if (size < 2 || size > max_ens) continue;
        point *pt = &pts[n_pts];
        pt->kind = PT_ENSEMBLE;
        pt->model = -1;
        pt->members = set;
        pt->passes = size;
        size_t len = (size_t)snprintf(pt->label, sizeof pt->label, "ensemble");
        memset(ev, 0, sizeof(float) * (size_t)nv * k);
        memset(et, 0, sizeof(float) * (size_t)nt * k);
        for (int mi = 0; mi < n_models; mi++) {
            if (!(set >> mi & 1)) continue;
            pt->ms += models[mi].ms;
            pt->macs += models[mi].macs;
            if (len < sizeof pt->label)
                len += (size_t)snprintf(pt->label + len, sizeof pt->label - len, " %s%s", len > 8 ? "+ " : "",
                                        models[mi].name);
            for (size_t i = 0; i < (size_t)nv * k; i++) ev[i] += models[mi].val.probs[i] / size; /* view 0 */
            for (size_t i = 0; i < (size_t)nt * k; i++) et[i] += models[mi].test.probs[i] / size;
        }
        if (point_fill(pt, ev, &models[0].val, et, &models[0].test, k)) goto done;
        n_pts++;
    }
    if (mark_pareto(pts, n_pts)) goto done;

    /* ---- the table */
    printf("frontier: %d models, validation %s (%d images), test %s (%d images); policies searched on validation\n"
           "(pool %s, %d views, objective %s); cost measured here, %s threads\n\n",
           n_models, val_spec, nv, test_spec, nt, pool_arg, pool.n_views, tta_objective_name(obj),
           threads > 0 ? argv_threads(threads) : "default");
    printf("%-9s %6s %10s %12s %8s %8s %8s %7s  %s\n", "kind", "passes", "ms/image", "mult-adds", "val acc", "test acc",
           "test NLL", "Pareto", "what");
    for (int i = 0; i < n_pts; i++) {
        const point *p = &pts[i];
        printf("%-9s %6d %10.4f %12.4g %8.4f %8.4f %8.4f %7s  %s\n",
               p->kind == PT_MODEL ? "model" : p->kind == PT_TTA ? "TTA" : "ensemble", p->passes, p->ms, p->macs,
               p->val_acc, p->test_acc, p->test_nll, p->pareto ? "yes" : "", p->label);
    }

    size_t verdict_size = 0;
    FILE *vm =
        report ? open_memstream(&verdict_text, &verdict_size) : NULL; /* the verdicts, for the report */
    /* ---- verdicts: at the cost of each model's best TTA point */
    say(vm, "\nat the cost of each model's TTA (its budget with the best validation accuracy), the best\n"
            "alternatives costing at most as much (differences on test, 95%% paired bootstrap intervals):\n");
    int found_small_wins = 0;
    for (int mi = 0; mi < n_models; mi++) {
        int best_t = -1, base = -1;
        for (int i = 0; i < n_pts; i++) {
            if (pts[i].model != mi) continue;
            if (pts[i].kind == PT_MODEL) base = i;
            if (pts[i].kind == PT_TTA && (best_t < 0 || pts[i].val_acc > pts[best_t].val_acc)) best_t = i;
        }
        if (best_t < 0) {
            say(vm, "  %s: the search found no policy better than the model alone on validation\n",
                models[mi].name);
            continue;
        }
        const point *t = &pts[best_t];
        int alt_model = -1, alt_ens = -1;
        for (int i = 0; i < n_pts; i++) {
            const point *p = &pts[i];
            if (p->ms > t->ms) continue;
            if (p->kind == PT_MODEL && p->model != mi && (alt_model < 0 || p->test_acc > pts[alt_model].test_acc))
                alt_model = i;
            if (p->kind == PT_ENSEMBLE && (alt_ens < 0 || p->test_acc > pts[alt_ens].test_acc)) alt_ens = i;
        }
        double lo = 0, hi = 0;
        tta_bootstrap_diff_ci(pts[base].ok, t->ok, nt, 2000, seed, 0.95, &lo, &hi);
        say(vm, "  %s: TTA at %d passes, %.4f ms: accuracy %.4f, %+.4f over the model alone [%+.4f, %+.4f]\n",
            models[mi].name, t->passes, t->ms, t->test_acc, t->test_acc - pts[base].test_acc, lo, hi);
        int tta_pays = lo > 0, winner = -1; /* winner: an alternative significantly better than the TTA */
        const int alts[2] = {alt_model, alt_ens};
        for (int a = 0; a < 2; a++) {
            if (alts[a] < 0) continue;
            const point *p = &pts[alts[a]];
            tta_bootstrap_diff_ci(t->ok, p->ok, nt, 2000, seed, 0.95, &lo, &hi);
            say(vm, "    %s at %.4f ms: accuracy %.4f, %+.4f against the TTA [%+.4f, %+.4f]\n", p->label,
                p->ms, p->test_acc, p->test_acc - t->test_acc, lo, hi);
            if (lo > 0 && (winner < 0 || p->test_acc > pts[winner].test_acc)) winner = alts[a];
        }
        if (alt_model < 0 && alt_ens < 0)
            say(vm, "    nothing else costs as little: TTA is the only way to spend this budget\n");
        const char *verdict =
            winner >= 0 ? (pts[winner].kind == PT_ENSEMBLE ? "an ensemble is the better buy at this cost"
                           : models[pts[winner].model].macs > models[mi].macs
                               ? "a bigger model is the better buy at this cost"
                               : "another model is the better buy at this cost")
            : tta_pays ? "TTA is the better buy at this cost (no alternative is significantly better)"
                       : "TTA does not pay here: its gain over the model alone is not above 0 within the interval";
        say(vm, "    -> %s\n", verdict);
    }
    /* a smaller model with TTA against a larger model without it, at lower cost */
    say(vm, "\nsmaller model + TTA against a larger model alone, at lower cost and higher test accuracy:\n");
    for (int i = 0; i < n_pts; i++) {
        const point *t = &pts[i];
        if (t->kind != PT_TTA) continue;
        for (int j = 0; j < n_pts; j++) {
            const point *p = &pts[j];
            if (p->kind != PT_MODEL || p->model == t->model) continue;
            int larger = models[p->model].macs > models[t->model].macs;
            if (larger && t->ms < p->ms && t->test_acc > p->test_acc) {
                double lo, hi;
                tta_bootstrap_diff_ci(p->ok, t->ok, nt, 2000, seed, 0.95, &lo, &hi);
                say(vm, "  %s (%.4f ms, %.4f) beats %s (%.4f ms, %.4f): %+.4f [%+.4f, %+.4f]\n", t->label,
                    t->ms, t->test_acc, p->label, p->ms, p->test_acc, t->test_acc - p->test_acc, lo, hi);
                found_small_wins++;
            }
        }
    }
    if (!found_small_wins)
        say(vm, "  none here: no model with TTA beats a larger model alone at a lower cost\n");

    if (vm) fclose(vm);
    tta_report_frontier fr = {val_spec, test_spec, tta_objective_name(obj), nv, nt};
    fr.verdicts = verdict_text;
    const char *model_names[MAX_MODELS];
    if ((plot || report) && frontier_figures(&fr, &report_points, pts, n_pts, models, n_models, model_names))
        goto done;
    if (plot && cli_report_write(plot, write_frontier_svg, &fr)) goto done;
    if (plot) printf("\nplot written to %s\n", plot);
    if (json) {
        jf = cli_output_open(json, &json_tmp); /* PATH.part, renamed into place when whole */
        if (!jf) goto done;
        fprintf(jf, "{\n  \"val\": ");
        cli_json_str(jf, val_spec);
        fprintf(jf, ",\n  \"test\": ");
        cli_json_str(jf, test_spec);
        fprintf(jf, ",\n  \"n_val\": %d,\n  \"n_test\": %d,\n  \"objective\": \"%s\",\n  \"models\": [\n", nv, nt,
                tta_objective_name(obj));
        for (int mi = 0; mi < n_models; mi++) {
            fprintf(jf, "    {\"name\": ");
            cli_json_str(jf, models[mi].name);
            fprintf(jf, ", \"path\": ");
            cli_json_str(jf, models[mi].path);
            fprintf(jf, ", \"ms_per_image\": %.6g, \"multiply_adds\": %.6g}%s\n", models[mi].ms, models[mi].macs,
                    mi + 1 < n_models ? "," : "");
        }
        fprintf(jf, "  ],\n  \"points\": [\n");
        for (int i = 0; i < n_pts; i++) {
            const point *p = &pts[i];
            fprintf(jf, "    {\"kind\": \"%s\", \"label\": ",
                    p->kind == PT_MODEL ? "model" : p->kind == PT_TTA ? "tta" : "ensemble");
            cli_json_str(jf, p->label);
            fprintf(jf, ", \"passes\": %d, \"ms_per_image\": %.6g, \"multiply_adds\": %.6g, \"val_accuracy\": %.6f, "
                        "\"test_accuracy\": %.6f, \"test_nll\": %.6f, \"pareto\": %s}%s\n",
                    p->passes, p->ms, p->macs, p->val_acc, p->test_acc, p->test_nll, p->pareto ? "true" : "false",
                    i + 1 < n_pts ? "," : "");
        }
        fprintf(jf, "  ],\n  \"smaller_with_tta_beats_larger\": %d\n}\n", found_small_wins);
        int failed = cli_output_commit(jf, json_tmp, json);
        jf = NULL;
        if (failed) goto done;
    }
    if (report) {
        if (cli_report_write(report, write_frontier_page, &fr)) goto done;
        printf("report written to %s\n", report);
    }
    rc = 0;
done:
    free(report_points);
    free(verdict_text);
    if (jf) {
        fclose(jf);
        remove(json_tmp);
    }
    free(json_tmp);
    for (int i = 0; pts && i < n_pts; i++) free(pts[i].ok);
    free(pts);
    free(bv);
    free(bt);
    free(ev);
    free(et);
    for (int mi = 0; mi < n_models; mi++) {
        free(models[mi].val.probs);
        free(models[mi].test.probs);
        tta_classifier_free(models[mi].cls);
        tta_model_free(models[mi].model);
    }
    tta_dataset_free(dval);
    tta_dataset_free(dtest);
    tta_policy_destroy(&pool);
    return rc;
}
