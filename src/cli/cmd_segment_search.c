/* cmd_segment_search.c - `tta segment search`: the best segmentation TTA policy of at most N
 * passes per image, chosen on validation image/mask pairs with mIoU as the objective, then shown
 * on test pairs beside one pass with a paired-bootstrap interval.
 *
 * Dense outputs are large (C x H x W per view and image), so the per-view cache keeps what the
 * objective needs at reduced precision: for each pixel the view's two most probable classes
 * with their probabilities in 1/255 steps (4 bytes; a pixel the view did not see is marked).
 * A policy's mean merge is then the argmax of the summed top-2 probabilities, its vote merge
 * the majority of the top-1 classes. The three steps of the classification search, with mIoU:
 *   1. each pool view paired with the identity, ranked;
 *   2. greedy forward selection from the identity up to the budget among the best 8;
 *   3. the merge rule (mean or vote) for the best policy of each size.
 * The winner's figures on validation and test are then computed exactly (full probabilities).
 * --report writes the steps and figures as an HTML page with the first test images' masks. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/commands.h"
#include "cli/progress.h"
#include "cli/report_cli.h"
#include "cli/segment_cli.h"
#include "cli/task_report_cli.h"
#include "core/error.h"

#define MAX_BUDGET 16
#define STEP2 8
#define CHUNK 32

static const char *default_pool =
    "hflip; vflip; rot90(1); rot90(2); rot90(3); transpose; scale(1.15); scale(0.87); shift(4, 4, constant); "
    "shift(-4, -4, constant); hflip > scale(1.15); brightness(1.2); brightness(0.8); contrast(1.2)";

static int usage(FILE *f, int code) {
    fprintf(f,
            "usage: tta segment search --model M --val masks:DIR --test masks:DIR --budget N -o POLICY\n"
            "                          [--pool P] [--json FILE] [--report FILE.html] [--boot N] [--cache-mb "
            "MB]\n\n"
            "Finds the segmentation TTA policy of at most N passes per image (the identity included)\n"
            "with the best mIoU on the validation pairs, then reports it on the test pairs beside one\n"
            "pass with a 95%% paired-bootstrap interval. Each pool view runs once on validation; its\n"
            "map is cached as the two most probable classes per pixel (4 bytes per pixel and view;\n"
            "--cache-mb bounds it, default 4096: use a range such as masks:DIR[0:1000] for more).\n"
            "Steps: each view with the identity; greedy forward selection among the best %d; mean or\n"
            "vote merge. The chosen policy's figures are then computed exactly.\n\n"
            "  --pool P  candidate views (policy text or file); default:\n            %s\n"
            "  --report F.html  a self-contained HTML report: each step as a plot, validation mIoU by\n"
            "            budget beside the test figures with their interval, the uncertainty maps'\n"
            "            AUROC, the first test images' masks and entropy\n\n%s\n%s",
            STEP2, default_pool, seg_cli_help, cli_format_help);
    return code;
}

typedef struct cache {
    int n_images, n_views, classes;
    size_t *offset;      /* n_images + 1: pixel offsets */
    uint8_t *truth;      /* all masks, concatenated */
    uint8_t **top;       /* n_views arrays of 4 bytes per pixel: class1, p1, class2, p2 */
    int ignore;
} cache;

typedef struct fill_ctx {
    cache *c;
    int first_image; /* index of images[0] of the current call */
} fill_ctx;

static tta_status fill(void *user, int image, int view, const float *probs, const uint8_t *valid, int C, int h, int w) {
    fill_ctx *f = user;
    cache *c = f->c;
    int i = f->first_image + image;
    size_t plane = (size_t)h * w;
    if (plane != c->offset[i + 1] - c->offset[i])
        return tta_errorf(TTA_ERR_UNSUPPORTED, "segment search: the output is %dx%d, not the mask's size (outputs at a "
                                               "stride are not cached yet)", h, w);
    c->classes = C;
    uint8_t *t = c->top[view] + 4 * c->offset[i];
    for (size_t p = 0; p < plane; p++) {
        if (valid && !valid[p]) {
            t[4 * p] = t[4 * p + 2] = 255;
            t[4 * p + 1] = t[4 * p + 3] = 0;
            continue;
        }
        int a = 0, b = -1;
        for (int k = 1; k < C; k++) {
            float v = probs[k * plane + p];
            if (v > probs[a * plane + p]) b = a, a = k;
            else if (b < 0 || v > probs[b * plane + p]) b = k;
        }
        if (b < 0) b = a == 0 ? 1 : 0;
        t[4 * p] = (uint8_t)a;
        t[4 * p + 1] = (uint8_t)lroundf(255 * probs[a * plane + p]);
        t[4 * p + 2] = (uint8_t)b;
        t[4 * p + 3] = (uint8_t)lroundf(255 * probs[b * plane + p]);
    }
    return TTA_OK;
}

/* mIoU of the views[0..m) merged by mean (vote = 0) or vote (vote = 1), from the cache. */
static double score(const cache *c, const int *views, int m, int vote) {
    int C = c->classes;
    int64_t *cm = calloc((size_t)C * C, sizeof *cm);
    size_t total = c->offset[c->n_images];
#pragma omp parallel
    {
        int64_t *mine = calloc((size_t)C * C, sizeof *mine);
        int acc[256], votes[256];
#pragma omp for schedule(static)
        for (size_t p = 0; p < total; p++) {
            int truth = c->truth[p];
            if (truth == c->ignore || truth >= C) continue;
            memset(acc, 0, sizeof(int) * (size_t)C);
            if (vote) memset(votes, 0, sizeof(int) * (size_t)C);
            for (int j = 0; j < m; j++) {
                const uint8_t *t = c->top[views[j]] + 4 * p;
                if (t[0] == 255) continue;
                acc[t[0]] += t[1];
                acc[t[2]] += t[3];
                if (vote) votes[t[0]]++;
            }
            int best = 0;
            for (int k = 1; k < C; k++)
                if (vote ? votes[k] > votes[best] || (votes[k] == votes[best] && acc[k] > acc[best]) : acc[k] > acc[best])
                    best = k;
            mine[truth * C + best]++;
        }
#pragma omp critical
        for (int k = 0; k < C * C; k++) cm[k] += mine[k];
        free(mine);
    }
    double sum = 0;
    int present = 0;
    for (int k = 0; k < C; k++) {
        int64_t tp = cm[k * C + k], fp = 0, fn = 0;
        for (int j = 0; j < C; j++)
            if (j != k) fp += cm[j * C + k], fn += cm[k * C + j];
        if (tp + fp + fn == 0) continue;
        sum += (double)tp / (double)(tp + fp + fn);
        present++;
    }
    free(cm);
    return present ? sum / present : 0;
}

static void cache_free(cache *c) {
    for (int v = 0; c->top && v < c->n_views; v++) free(c->top[v]);
    free(c->top);
    free(c->offset);
    free(c->truth);
}

static int build_cache(tta_segmenter *s, const tta_policy *pool, const tta_mask_set *data, int ignore, double cache_mb,
                       cache *c) {
    memset(c, 0, sizeof *c);
    int n = tta_mask_set_count(data);
    c->n_images = n, c->n_views = pool->n_views, c->ignore = ignore;
    c->offset = calloc((size_t)n + 1, sizeof *c->offset);
    tta_image img = {0}, mask = {0};
    for (int i = 0; i < n; i++) { /* sizes first, to bound the cache before running anything */
        if (tta_mask_set_read(data, i, &img, &mask)) {
            tta_image_destroy(&img);
            tta_image_destroy(&mask);
            return cli_fail();
        }
        c->offset[i + 1] = c->offset[i] + (size_t)mask.height * mask.width;
    }
    size_t pixels = c->offset[n];
    double mb = (double)pixels * (4.0 * pool->n_views + 1) / 1048576.0;
    if (mb > cache_mb) {
        fprintf(stderr, "tta: segment search: the cache would take %.0f MB (%d views x %zu pixels), over --cache-mb %.0f: "
                        "use fewer validation images (a range such as [0:1000]) or a smaller pool\n",
                mb, pool->n_views, pixels, cache_mb);
        tta_image_destroy(&img);
        tta_image_destroy(&mask);
        return 1;
    }
    c->truth = malloc(pixels);
    c->top = calloc((size_t)pool->n_views, sizeof *c->top);
    for (int v = 0; v < pool->n_views; v++) c->top[v] = malloc(4 * pixels);
    fprintf(stderr, "segment search: caching %d views x %d images (%.0f MB)\n", pool->n_views, n, mb);
    tta_image imgs[CHUNK];
    memset(imgs, 0, sizeof imgs);
    int rc = 0;
    cli_progress pg;
    cli_progress_start_views(&pg, "validation", pool->n_views, n);
    for (int s0 = 0; s0 < n && !rc; s0 += CHUNK) {
        int cnt = n - s0 < CHUNK ? n - s0 : CHUNK;
        for (int i = 0; i < cnt && !rc; i++) {
            if (tta_mask_set_read(data, s0 + i, &imgs[i], &mask)) rc = cli_fail();
            else memcpy(c->truth + c->offset[s0 + i], mask.data, c->offset[s0 + i + 1] - c->offset[s0 + i]);
        }
        for (int a = 0; a < cnt && !rc;) {
            int b = a + 1;
            while (b < cnt && imgs[b].height == imgs[a].height && imgs[b].width == imgs[a].width) b++;
            fill_ctx f = {c, s0 + a};
            if (tta_segment_each_view(s, pool, imgs + a, b - a, fill, &f)) rc = cli_fail();
            a = b;
        }
        if (!rc) cli_progress_update(&pg, s0 + cnt);
    }
    cli_progress_end(&pg);
    for (int i = 0; i < CHUNK; i++) tta_image_destroy(&imgs[i]);
    tta_image_destroy(&img);
    tta_image_destroy(&mask);
    return rc;
}

/* What the report shows, as printed. */
typedef struct search_figures {
    const char *model, *val_spec, *test_spec;
    const tta_mask_set *val, *test;
    const tta_policy *pool;
    const double *pair, *miou_by_size;
    const int *vote_by_size;
    int max_size, best_size;
    const tta_seg_scores *stb, *stp;
    double lo, hi;
    const seg_run *tb, *tp;
    double tb_seconds, tp_seconds;
    const tta_policy *best;
    tta_merge merge;
    tta_segmenter *seg;
} search_figures;

static tta_status write_task_page(FILE *f, const void *data) { return tta_report_task_write(f, data); }

static int write_report(const char *path, const search_figures *s) {
    static const char *metrics[] = {"mIoU", "Dice", "pixel acc", "boundary mIoU"};
    int nv = s->pool->n_views, rc = 1, classes = s->tp->classes;
    char(*views)[256] = calloc((size_t)nv, sizeof *views);
    const char **vp = calloc((size_t)nv, sizeof *vp), *mp[MAX_BUDGET];
    const char **names = calloc((size_t)classes + 1, sizeof *names);
    cli_seg_pictures pics;
    memset(&pics, 0, sizeof pics);
    if (!views || !vp || !names) {
        fprintf(stderr, "tta: %s: out of memory\n", path);
        goto done;
    }
    for (int v = 1; v < nv; v++) {
        tta_view_format(&s->pool->views[v], views[v], sizeof views[v]);
        vp[v - 1] = views[v];
    }
    for (int z = 0; z < s->max_size; z++)
        mp[z] = z == 0 ? "" : s->vote_by_size[z] ? "vote" : "mean";
    for (int c = 0; c < classes; c++)
        names[c] = tta_segmenter_class_name(s->seg, c);
    const tta_seg_scores *b = s->stb, *p = s->stp;
    tta_report_task_row rows[2] = {{"one pass (identity)",
                                    "mean",
                                    1,
                                    0,
                                    {b->miou, b->dice, b->pixel_accuracy, b->boundary_miou},
                                    0,
                                    0,
                                    0,
                                    s->tb_seconds},
                                   {"chosen policy",
                                    tta_merge_name(s->merge),
                                    s->best_size,
                                    1,
                                    {p->miou, p->dice, p->pixel_accuracy, p->boundary_miou},
                                    p->miou - b->miou,
                                    s->lo,
                                    s->hi,
                                    s->tp_seconds}};
    const char *unc[TTA_UNC_COUNT + 1];
    double auroc[TTA_UNC_COUNT + 1];
    for (int k = 0; k <= TTA_UNC_COUNT; k++) {
        unc[k] = seg_cli_map_label(k);
        auroc[k] = tta_unc_quality_auroc(&s->tp->q[k]);
    }
    char sub[1024], focus[160];
    snprintf(sub, sizeof sub, "model %s; validation %s (%d images), test %s (%d images); pool of %d views",
             s->model, s->val_spec, tta_mask_set_count(s->val), s->test_spec, tta_mask_set_count(s->test),
             nv);
    snprintf(focus, sizeof focus, "the chosen %d views (%s)", s->best_size, tta_merge_name(s->merge));
    if (cli_seg_pictures_make(&pics, s->seg, s->test, s->best, s->merge)) goto done;
    tta_report_task r = {.kind = "segment",
                         .title = "tta segment search: the best segmentation policy within a budget",
                         .subtitle = sub,
                         .metric = "mIoU",
                         .metric_names = metrics,
                         .n_metrics = 4,
                         .rows = rows,
                         .n_rows = 2,
                         .step_views = vp,
                         .step_values = s->pair + 1,
                         .n_steps = nv - 1,
                         .base_val = s->miou_by_size[0],
                         .size_values = s->miou_by_size,
                         .size_merges = mp,
                         .n_sizes = s->max_size,
                         .chosen_size = s->best_size,
                         .test_base = b->miou,
                         .test_value = p->miou,
                         .test_lo = s->lo,
                         .test_hi = s->hi,
                         .unc_names = unc,
                         .unc_auroc = auroc,
                         .n_unc = TTA_UNC_COUNT + 1,
                         .focus = focus,
                         .seg = pics.im,
                         .n_seg = pics.n,
                         .class_names = names,
                         .n_classes = classes};
    rc = cli_report_write(path, write_task_page, &r);
    if (!rc) printf("report written to %s\n", path);
done:
    cli_seg_pictures_destroy(&pics);
    free(views), free(vp), free(names);
    return rc;
}

int tta_cmd_segment_search(int argc, char **argv) {
    seg_cli sc;
    seg_cli_init(&sc);
    const char *val_spec = NULL, *test_spec = NULL, *out_path = NULL, *pool_arg = NULL, *json = NULL,
               *report = NULL;
    int budget = 0, n_boot = 1000;
    double cache_mb = 4096;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        int more = i + 1 < argc;
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) return usage(stdout, 0);
        if (!strcmp(a, "--val") && more) val_spec = argv[++i];
        else if (!strcmp(a, "--test") && more) test_spec = argv[++i];
        else if (!strcmp(a, "--budget") && more) budget = atoi(argv[++i]);
        else if ((!strcmp(a, "-o") || !strcmp(a, "--output")) && more) out_path = argv[++i];
        else if (!strcmp(a, "--pool") && more) pool_arg = argv[++i];
        else if (!strcmp(a, "--json") && more) json = argv[++i];
        else if (!strcmp(a, "--report") && more)
            report = argv[++i];
        else if (!strcmp(a, "--boot") && more) n_boot = atoi(argv[++i]);
        else if (!strcmp(a, "--cache-mb") && more) cache_mb = atof(argv[++i]);
        else {
            int r = seg_cli_flag(argc, argv, &i, &sc);
            if (r < 0) return 2;
            if (r) continue;
            fprintf(stderr, "tta: segment search: unknown or incomplete option '%s'\n", a);
            return usage(stderr, 2);
        }
    }
    if (!sc.model || !val_spec || !test_spec || !out_path || budget < 1 || budget > MAX_BUDGET || n_boot < 10 ||
        !(cache_mb > 0)) {
        fprintf(stderr, "tta: segment search: --model, --val, --test, --budget 1..%d and -o are required (--boot >= 10, "
                        "--cache-mb > 0)\n", MAX_BUDGET);
        return usage(stderr, 2);
    }
    if (report && cli_report_check(report)) return 1; /* before the long run */
    int rc = 1;
    tta_model *m = NULL;
    tta_segmenter *seg = NULL;
    tta_mask_set *val = NULL, *test = NULL;
    tta_policy pool = {0}, best_pol = {0}, ident = {0};
    cache c = {0};
    seg_run vb = {0}, vp = {0}, tb = {0}, tp = {0};
    double *pair = NULL;
    int *order = NULL;
    FILE *pf = NULL, *jf = NULL;
    char *ptmp = NULL, *jtmp = NULL;
    if (seg_cli_open(&sc, &m, &seg)) goto done;
    if (tta_mask_set_open(&val, val_spec) || tta_mask_set_open(&test, test_spec)) {
        cli_fail();
        goto done;
    }
    if (pool_arg ? cli_load_policy(pool_arg, &pool) : (tta_policy_parse(&pool, default_pool, "default pool") ? cli_fail() : 0))
        goto done;
    if (build_cache(seg, &pool, val, sc.ignore, cache_mb, &c)) goto done;
    int nv = pool.n_views, id = 0;
    double base = score(&c, &id, 1, 0);
    printf("validation: %d images, pool of %d views; one pass mIoU %.4f (from the cache)\n\n", c.n_images, nv, base);
    pair = calloc((size_t)nv, sizeof *pair);
    order = malloc(sizeof *order * (size_t)nv);
    int n_cand = 0, evaluated = 1;
    printf("step 1: each view with the identity (mean)\n");
    for (int v = 1; v < nv; v++) {
        int two[2] = {0, v};
        pair[v] = score(&c, two, 2, 0);
        evaluated++;
        char text[256];
        tta_view_format(&pool.views[v], text, sizeof text);
        printf("  %-32.32s mIoU %.4f  (%+.4f)\n", text, pair[v], pair[v] - base);
        int at = n_cand++;
        while (at > 0 && pair[order[at - 1]] < pair[v]) order[at] = order[at - 1], at--;
        order[at] = v;
    }
    int n2 = n_cand < STEP2 ? n_cand : STEP2, max_size = budget < n_cand + 1 ? budget : n_cand + 1;
    int chosen[MAX_BUDGET] = {0}, n_chosen = 1, by_size[MAX_BUDGET][MAX_BUDGET] = {{0}}, vote_by_size[MAX_BUDGET] = {0};
    double miou_by_size[MAX_BUDGET] = {base};
    printf("\nstep 2: greedy forward selection among the best %d (mean)\n", n2);
    for (int size = 2; size <= max_size; size++) {
        int best_v = -1;
        double best = -1;
        for (int k = 0; k < n2; k++) {
            int v = order[k], used = 0;
            for (int j = 0; j < n_chosen; j++) used |= chosen[j] == v;
            if (used) continue;
            chosen[n_chosen] = v;
            double s = score(&c, chosen, n_chosen + 1, 0);
            evaluated++;
            if (s > best) best = s, best_v = v;
        }
        if (best_v < 0) break;
        chosen[n_chosen++] = best_v;
        memcpy(by_size[size - 1], chosen, sizeof(int) * (size_t)n_chosen);
        miou_by_size[size - 1] = best;
        char text[256];
        tta_view_format(&pool.views[best_v], text, sizeof text);
        printf("  %d views: + %-28.28s mIoU %.4f  (%+.4f)\n", size, text, best, best - base);
    }
    printf("\nstep 3: merge rule\n");
    for (int size = 2; size <= max_size; size++) {
        double v = score(&c, by_size[size - 1], size, 1);
        evaluated++;
        if (v > miou_by_size[size - 1]) miou_by_size[size - 1] = v, vote_by_size[size - 1] = 1;
        printf("  %d views: %-5s mIoU %.4f  (%+.4f)\n", size, vote_by_size[size - 1] ? "vote" : "mean",
               miou_by_size[size - 1], miou_by_size[size - 1] - base);
    }
    int best_size = 1;
    for (int size = 2; size <= max_size; size++)
        if (miou_by_size[size - 1] > miou_by_size[best_size - 1] + 1e-9) best_size = size;
    tta_merge merge = vote_by_size[best_size - 1] ? TTA_MERGE_VOTE : TTA_MERGE_MEAN;
    if (tta_policy_init(&best_pol) || tta_policy_init(&ident)) {
        cli_fail();
        goto done;
    }
    for (int j = 1; j < best_size; j++)
        if (tta_policy_add_view(&best_pol, &pool.views[by_size[best_size - 1][j]])) {
            cli_fail();
            goto done;
        }
    printf("\nchosen: %d pass%s, %s merge; %d policies scored on the cache\n", best_size, best_size == 1 ? "" : "es",
           tta_merge_name(merge), evaluated);
    cache_free(&c);
    memset(&c, 0, sizeof c);
    /* exact figures: validation, then test with the interval */
    if (seg_cli_run(seg, &ident, TTA_MERGE_MEAN, val, sc.ignore, sc.boundary, NULL, "validation, one pass", &vb) ||
        seg_cli_run(seg, &best_pol, merge, val, sc.ignore, sc.boundary, NULL, "validation, policy", &vp) ||
        seg_cli_run(seg, &ident, TTA_MERGE_MEAN, test, sc.ignore, sc.boundary, NULL, "test, one pass", &tb) ||
        seg_cli_run(seg, &best_pol, merge, test, sc.ignore, sc.boundary, NULL, "test, policy", &tp))
        goto done;
    tta_seg_scores svb, svp, stb, stp;
    tta_confusion_scores(&vb.total, &svb, NULL);
    tta_confusion_scores(&vp.total, &svp, NULL);
    tta_confusion_scores(&tb.total, &stb, NULL);
    tta_confusion_scores(&tp.total, &stp, NULL);
    double lo = 0, hi = 0;
    if (tta_miou_gain_ci(tb.per_image, tp.per_image, tb.n_images, n_boot, 20240607, 0.95, &lo, &hi)) {
        cli_fail();
        goto done;
    }
    printf("validation (exact): one pass mIoU %.4f, policy %.4f (%+.4f)\n", svb.miou, svp.miou, svp.miou - svb.miou);
    printf("test (%d images): one pass mIoU %.4f, policy %.4f, gain %+.4f, 95%% interval [%+.4f, %+.4f]%s\n", tb.n_images,
           stb.miou, stp.miou, stp.miou - stb.miou, lo, hi, lo > 0 ? "" : " (not significant)");
    printf("  Dice %.4f -> %.4f, pixel accuracy %.4f -> %.4f, boundary mIoU %.4f -> %.4f\n", stb.dice, stp.dice,
           stb.pixel_accuracy, stp.pixel_accuracy, stb.boundary_miou, stp.boundary_miou);
    printf("  AUROC of finding the wrong pixels: 1-pass entropy %.4f; policy entropy %.4f, MI %.4f, variance %.4f, "
           "disagreement %.4f\n",
           tta_unc_quality_auroc(&tp.q[TTA_UNC_COUNT]), tta_unc_quality_auroc(&tp.q[TTA_UNC_ENTROPY]),
           tta_unc_quality_auroc(&tp.q[TTA_UNC_MUTUAL_INFO]), tta_unc_quality_auroc(&tp.q[TTA_UNC_VARIANCE]),
           tta_unc_quality_auroc(&tp.q[TTA_UNC_DISAGREEMENT]));
    if (!(pf = cli_output_open(out_path, &ptmp))) goto done;
    {
        size_t need = tta_policy_format(&best_pol, NULL, 0) + 1;
        char *text = malloc(need);
        tta_policy_format(&best_pol, text, need);
        fprintf(pf, "# tta segment search: budget %d, model %s, validation %s\n# validation mIoU %.4f -> %.4f; test "
                    "mIoU %.4f -> %.4f, gain %+.4f [%+.4f, %+.4f]\n# merge: %s\n%s",
                budget, sc.model, val_spec, svb.miou, svp.miou, stb.miou, stp.miou, stp.miou - stb.miou, lo, hi,
                tta_merge_name(merge), text);
        free(text);
        FILE *t = pf;
        pf = NULL;
        if (cli_output_commit(t, ptmp, out_path)) goto done;
    }
    printf("policy written to %s (merge with --merge %s)\n", out_path, tta_merge_name(merge));
    if (json) {
        if (!(jf = cli_output_open(json, &jtmp))) goto done;
        fprintf(jf, "{\"budget\": %d, \"pool\": %d, \"evaluated\": %d, \"step1\": [", budget, nv, evaluated);
        for (int v = 1; v < nv; v++) {
            char text[256];
            tta_view_format(&pool.views[v], text, sizeof text);
            fprintf(jf, "%s{\"view\": ", v > 1 ? ", " : "");
            cli_json_str(jf, text);
            fprintf(jf, ", \"val_miou\": %.6f}", pair[v]);
        }
        fprintf(jf, "],\n\"chosen\": {\"views\": %d, \"merge\": \"%s\", \"val_miou_base\": %.6f, \"val_miou\": %.6f, "
                    "\"test_miou_base\": %.6f, \"test_miou\": %.6f, \"gain\": %.6f, \"gain_ci\": [%.6f, %.6f], "
                    "\"test_auroc_single_pass_entropy\": %.6f, \"test_auroc_entropy\": %.6f, \"test_auroc_mutual_info\": "
                    "%.6f}}\n",
                best_size, tta_merge_name(merge), svb.miou, svp.miou, stb.miou, stp.miou, stp.miou - stb.miou, lo, hi,
                tta_unc_quality_auroc(&tp.q[TTA_UNC_COUNT]), tta_unc_quality_auroc(&tp.q[TTA_UNC_ENTROPY]),
                tta_unc_quality_auroc(&tp.q[TTA_UNC_MUTUAL_INFO]));
        FILE *t = jf;
        jf = NULL;
        if (cli_output_commit(t, jtmp, json)) goto done;
    }
    if (report) {
        search_figures sf = {sc.model,   val_spec,     test_spec,    val,      test,      &pool,
                             pair,       miou_by_size, vote_by_size, max_size, best_size, &stb,
                             &stp,       lo,           hi,           &tb,      &tp,       tb.seconds,
                             tp.seconds, &best_pol,    merge,        seg};
        if (write_report(report, &sf)) goto done;
    }
    rc = 0;
done:
    if (pf) fclose(pf), remove(ptmp);
    if (jf) fclose(jf), remove(jtmp);
    free(ptmp);
    free(jtmp);
    free(pair);
    free(order);
    cache_free(&c);
    seg_run_destroy(&vb);
    seg_run_destroy(&vp);
    seg_run_destroy(&tb);
    seg_run_destroy(&tp);
    tta_policy_destroy(&pool);
    tta_policy_destroy(&best_pol);
    tta_policy_destroy(&ident);
    tta_mask_set_free(val);
    tta_mask_set_free(test);
    tta_segmenter_free(seg);
    tta_model_free(m);
    return rc;
}
