/* cmd_detect_search.c - `tta detect search`: the best detection TTA policy of at most N passes
 * per image, chosen on validation data with COCO mAP as the objective, then shown on test data.
 *
 * Every view of the pool runs once over the validation images (a per-view detection table kept
 * in memory), and every candidate policy is scored by fusing rows of it. The classification
 * search's three steps, with mAP:
 *   1. each view of the pool paired with the identity (default merge), ranked;
 *   2. greedy forward selection from the identity up to the budget among the best of step 1;
 *   3. the merge rule and its IoU threshold searched on the best policy of each size (unless
 *      --merge fixes it).
 * The winner (best validation AP; fewer views on a tie) then runs on the test images beside one
 * pass, with a 95% paired-bootstrap interval of the gain. The policy file records the merge rule
 * in a comment that `tta detect eval` and `predict` read. --report writes the steps, the budget
 * and the test figures as an HTML page with the first test images' boxes. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/commands.h"
#include "cli/detect_cli.h"
#include "cli/report_cli.h"
#include "cli/task_report_cli.h"

#define MAX_BUDGET 16
#define STEP2_CANDIDATES 8

static const char *default_pool =
    "hflip; vflip; resize(75%); resize(87.5%); resize(112.5%); resize(125%); resize(150%); resize(175%);"
    "hflip > resize(75%); hflip > resize(125%); hflip > resize(150%); scale(1.2); scale(0.83);"
    "shift(4, 4, constant); shift(-4, -4, constant)";

static int usage(FILE *f, int code) {
    fprintf(
        f,
        "usage: tta detect search --model M --val coco:DIR --test coco:DIR --budget N -o POLICY\n"
        "                         [--pool P] [--merge M] [--iou T] [--json FILE] [--report FILE.html]\n"
        "                         [--boot N]\n\n"
        "Finds the detection TTA policy of at most N passes per image (the identity included)\n"
        "with the best COCO mAP on the validation set, then reports it on the test set beside\n"
        "one pass (the identity with NMS at IoU 0.6) with a 95%% paired-bootstrap interval.\n"
        "Each pool view runs once on validation; policies are scored by fusing cached boxes.\n"
        "Steps: each view with the identity; greedy forward selection among the best %d; the\n"
        "merge rule (nms, soft-nms, nmw, wbf) and IoU threshold for the best policy of each\n"
        "size, unless --merge is given. The policy file records the merge rule.\n\n"
        "  --pool P     candidate views (policy text or file); default:\n"
        "               %s\n"
        "  --json FILE  the steps and figures as JSON\n"
        "  --report F.html  a self-contained HTML report: each step as a plot, validation AP by\n"
        "               budget beside the test figures with their interval, test images with boxes\n\n%s\n%s",
        STEP2_CANDIDATES, default_pool, det_cli_help, cli_format_help);
    return code;
}

typedef struct ctx {
    const tta_det_table *t;
    const tta_coco *data;
    const int64_t *cats;
    int n_classes;
    int evaluated;
} ctx;

static tta_status score(ctx *c, const int *views, int m, const tta_fuse_options *f, double *ap) {
    tta_coco_stats s;
    tta_status st = det_cli_score(c->t, views, NULL, m, f, c->data, c->cats, c->n_classes, &s, NULL, NULL);
    if (st) return st;
    c->evaluated++;
    *ap = s.ap;
    return TTA_OK;
}

static int open_data(const char *spec, tta_coco *data, const tta_detector *det, int64_t *cats) {
    if (tta_coco_open(data, spec)) return cli_fail();
    int n = tta_detector_n_classes(det), have = 1;
    const char **names = malloc(sizeof *names * (size_t)n);
    for (int k = 0; k < n; k++) have &= (names[k] = tta_detector_class_name(det, k)) != NULL;
    tta_status st = tta_coco_label_map(data, n, have ? names : NULL, cats);
    free(names);
    if (st) return cli_fail();
    return 0;
}

/* The merge rules step 3 tries. */
static int merge_grid(tta_fuse_options *out, int max_det) {
    static const struct {
        tta_fuse_method m;
        tta_soft_nms_kind k;
        float iou;
    } grid[] = {{TTA_FUSE_WBF, 0, 0.5f},  {TTA_FUSE_WBF, 0, 0.55f}, {TTA_FUSE_WBF, 0, 0.6f},  {TTA_FUSE_WBF, 0, 0.7f},
                {TTA_FUSE_NMS, 0, 0.5f},  {TTA_FUSE_NMS, 0, 0.6f},  {TTA_FUSE_NMS, 0, 0.7f},  {TTA_FUSE_NMW, 0, 0.55f},
                {TTA_FUSE_NMW, 0, 0.65f}, {TTA_FUSE_SOFT_NMS, TTA_SOFT_NMS_GAUSSIAN, 0.5f}};
    int n = (int)(sizeof grid / sizeof grid[0]);
    for (int i = 0; i < n; i++) {
        tta_fuse_options_default(&out[i], grid[i].m);
        out[i].soft_kind = grid[i].k;
        out[i].iou_thr = grid[i].iou;
        out[i].max_det = max_det;
    }
    return n;
}

/* What the report shows, as printed. */
typedef struct search_figures {
    const char *model, *val_spec, *test_spec;
    const tta_coco *val, *test;
    const tta_policy *pool;
    const double *pair_ap, *ap_by_size;
    const tta_fuse_options *fuse_by_size;
    int max_size, best_size;
    const tta_coco_stats *tb, *tp;
    double lo, hi;
    const tta_fuse_options *base_f, *best_f;
    const tta_det_table *tt; /* test: the chosen views */
    const int *all;
    const tta_detector *det;
    int n_classes;
} search_figures;

static tta_status write_task_page(FILE *f, const void *data) { return tta_report_task_write(f, data); }

static int write_report(const char *path, const search_figures *s) {
    static const char *metrics[] = {"AP", "AP50", "AP75", "APs", "APm", "APl", "AR100"};
    int nv = s->pool->n_views, rc = 1;
    char(*views)[256] = calloc((size_t)nv, sizeof *views), (*merges)[96] = calloc(MAX_BUDGET, sizeof *merges);
    const char **vp = calloc((size_t)nv, sizeof *vp), **mp = calloc(MAX_BUDGET, sizeof *mp);
    const char **names = calloc((size_t)s->n_classes + 1, sizeof *names);
    cli_det_pictures pics;
    memset(&pics, 0, sizeof pics);
    if (!views || !merges || !vp || !mp || !names) {
        fprintf(stderr, "tta: %s: out of memory\n", path);
        goto done;
    }
    for (int v = 1; v < nv; v++) {
        tta_view_format(&s->pool->views[v], views[v], sizeof views[v]);
        vp[v - 1] = views[v];
    }
    for (int z = 0; z < s->max_size; z++) {
        det_cli_fuse_text(&s->fuse_by_size[z], merges[z], sizeof merges[z]);
        mp[z] = merges[z];
    }
    for (int k = 0; k < s->n_classes; k++)
        names[k] = tta_detector_class_name(s->det, k);
    char btext[96], sub[1024], focus[160];
    det_cli_fuse_text(s->base_f, btext, sizeof btext);
    const tta_coco_stats *tb = s->tb, *tp = s->tp;
    tta_report_task_row rows[2] = {
        {"one pass (identity)",
         btext,
         1,
         0,
         {tb->ap, tb->ap50, tb->ap75, tb->ap_small, tb->ap_medium, tb->ap_large, tb->ar100},
         0,
         0,
         0,
         -1},
        {"chosen policy",
         mp[s->best_size - 1],
         s->best_size,
         1,
         {tp->ap, tp->ap50, tp->ap75, tp->ap_small, tp->ap_medium, tp->ap_large, tp->ar100},
         tp->ap - tb->ap,
         s->lo,
         s->hi,
         -1}};
    snprintf(sub, sizeof sub, "model %s; validation %s (%d images), test %s (%d images); pool of %d views",
             s->model, s->val_spec, s->val->n_images, s->test_spec, s->test->n_images, nv);
    snprintf(focus, sizeof focus, "the chosen %d views (%s)", s->best_size, mp[s->best_size - 1]);
    if (cli_det_pictures_make(&pics, s->tt, s->test, s->base_f, s->all, NULL, s->best_size, s->best_f))
        goto done;
    tta_report_task r = {.kind = "detect",
                         .title = "tta detect search: the best detection policy within a budget",
                         .subtitle = sub,
                         .metric = "AP",
                         .metric_names = metrics,
                         .n_metrics = 7,
                         .rows = rows,
                         .n_rows = 2,
                         .step_views = vp,
                         .step_values = s->pair_ap + 1,
                         .n_steps = nv - 1,
                         .base_val = s->ap_by_size[0],
                         .size_values = s->ap_by_size,
                         .size_merges = mp,
                         .n_sizes = s->max_size,
                         .chosen_size = s->best_size,
                         .test_base = tb->ap,
                         .test_value = tp->ap,
                         .test_lo = s->lo,
                         .test_hi = s->hi,
                         .focus = focus,
                         .det = pics.im,
                         .n_det = pics.n,
                         .class_names = names,
                         .n_classes = s->n_classes};
    rc = cli_report_write(path, write_task_page, &r);
    if (!rc) printf("report written to %s\n", path);
done:
    cli_det_pictures_destroy(&pics);
    free(views), free(merges), free(vp), free(mp), free(names);
    return rc;
}

int tta_cmd_detect_search(int argc, char **argv) {
    det_cli dc;
    det_cli_init(&dc);
    const char *val_spec = NULL, *test_spec = NULL, *out_path = NULL, *pool_arg = NULL, *json = NULL,
               *report = NULL;
    int budget = 0, n_boot = 1000;
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
        else {
            int r = det_cli_flag(argc, argv, &i, &dc);
            if (r < 0) return 2;
            if (r) continue;
            fprintf(stderr, "tta: detect search: unknown or incomplete option '%s'\n", a);
            return usage(stderr, 2);
        }
    }
    if (!dc.model || !val_spec || !test_spec || !out_path || budget < 1) {
        fprintf(stderr, "tta: detect search: --model, --val, --test, --budget N >= 1 and -o are required\n");
        return usage(stderr, 2);
    }
    if (budget > MAX_BUDGET) {
        fprintf(stderr, "tta: detect search: --budget %d is more than %d passes\n", budget, MAX_BUDGET);
        return 2;
    }
    if (n_boot < 10 || n_boot > 100000) {
        fprintf(stderr, "tta: detect search: --boot must be 10..100000\n");
        return 2;
    }
    if (report && cli_report_check(report)) return 1; /* before the long run */
    int rc = 1, n_classes = 0;
    tta_model *m = NULL;
    tta_detector *det = NULL;
    tta_coco val = {0}, test = {0};
    tta_policy pool = {0}, best_pol = {0};
    tta_det_table vt = {0}, tt = {0};
    int64_t *vcats = NULL, *tcats = NULL;
    int *order = NULL;
    double *pair_ap = NULL;
    tta_coco_eval *base_ev = NULL, *pol_ev = NULL;
    FILE *pf = NULL, *jf = NULL;
    char *ptmp = NULL, *jtmp = NULL;

    if (det_cli_open(&dc, &m, &det)) goto done;
    n_classes = tta_detector_n_classes(det);
    vcats = malloc(sizeof *vcats * (size_t)n_classes);
    tcats = malloc(sizeof *tcats * (size_t)n_classes);
    if (open_data(val_spec, &val, det, vcats) || open_data(test_spec, &test, det, tcats)) goto done;
    if (pool_arg ? cli_load_policy(pool_arg, &pool) : (tta_policy_parse(&pool, default_pool, "default pool") ? cli_fail() : 0))
        goto done;
    double t_val = 0;
    if (det_cli_run_table(det, &pool, &val, &vt, "validation", &t_val)) goto done;
    ctx c = {&vt, &val, vcats, n_classes, 0};
    tta_fuse_options base_f, def_f = dc.fuse;
    tta_fuse_options_default(&base_f, TTA_FUSE_NMS);
    base_f.iou_thr = 0.6f;
    base_f.max_det = dc.fuse.max_det;
    int ident = 0;
    double base_ap = 0;
    if (score(&c, &ident, 1, &base_f, &base_ap)) {
        cli_fail();
        goto done;
    }
    printf("validation: %d images, pool of %d views (%.1f s); one pass AP %.4f\n\n", val.n_images, pool.n_views, t_val,
           base_ap);
    /* step 1: each view with the identity */
    int nv = pool.n_views;
    order = malloc(sizeof *order * (size_t)nv);
    pair_ap = calloc((size_t)nv, sizeof *pair_ap);
    /* step 1: each view with the identity, under each merge of a small set (or the given one);
     * the merge that wins the most pairs is used in step 2 */
    tta_fuse_options quick[3];
    int n_quick = 1;
    quick[0] = def_f;
    if (!dc.merge_set) {
        tta_fuse_options_default(&quick[0], TTA_FUSE_WBF);
        tta_fuse_options_default(&quick[1], TTA_FUSE_WBF);
        quick[1].iou_thr = 0.7f;
        tta_fuse_options_default(&quick[2], TTA_FUSE_NMS);
        quick[2].iou_thr = 0.6f;
        for (int q = 0; q < 3; q++) quick[q].max_det = dc.fuse.max_det;
        n_quick = 3;
    }
    int wins[3] = {0};
    printf("step 1: each view with the identity (best of");
    for (int q = 0; q < n_quick; q++) {
        char ft[96];
        det_cli_fuse_text(&quick[q], ft, sizeof ft);
        printf("%s %s", q ? "," : "", ft);
    }
    printf(")\n");
    int n_cand = 0;
    for (int v = 1; v < nv; v++) {
        int pair[2] = {0, v}, won = 0;
        pair_ap[v] = -1;
        for (int q = 0; q < n_quick; q++) {
            double ap;
            if (score(&c, pair, 2, &quick[q], &ap)) {
                cli_fail();
                goto done;
            }
            if (ap > pair_ap[v]) pair_ap[v] = ap, won = q;
        }
        wins[won]++;
        char text[256], ft[96];
        tta_view_format(&pool.views[v], text, sizeof text);
        det_cli_fuse_text(&quick[won], ft, sizeof ft);
        printf("  %-32.32s AP %.4f  (%+.4f)  %s\n", text, pair_ap[v], pair_ap[v] - base_ap, ft);
        /* insertion by AP, best first */
        int at = n_cand++;
        while (at > 0 && pair_ap[order[at - 1]] < pair_ap[v]) {
            order[at] = order[at - 1];
            at--;
        }
        order[at] = v;
    }
    int top = 0;
    for (int q = 1; q < n_quick; q++)
        if (wins[q] > wins[top]) top = q;
    def_f = quick[top];
    int n_step2 = n_cand < STEP2_CANDIDATES ? n_cand : STEP2_CANDIDATES;
    /* step 2: greedy forward selection */
    int chosen[MAX_BUDGET] = {0}, n_chosen = 1;
    int best_by_size[MAX_BUDGET][MAX_BUDGET];
    double ap_by_size[MAX_BUDGET];
    tta_fuse_options fuse_by_size[MAX_BUDGET];
    best_by_size[0][0] = 0;
    ap_by_size[0] = base_ap;
    fuse_by_size[0] = base_f;
    int max_size = budget < n_cand + 1 ? budget : n_cand + 1;
    {
        char ft[96];
        det_cli_fuse_text(&def_f, ft, sizeof ft);
        printf("\nstep 2: greedy forward selection among the best %d (%s)\n", n_step2, ft);
    }
    for (int size = 2; size <= max_size; size++) {
        int best_v = -1;
        double best = -1;
        for (int k = 0; k < n_step2; k++) {
            int v = order[k], used = 0;
            for (int j = 0; j < n_chosen; j++) used |= chosen[j] == v;
            if (used) continue;
            chosen[n_chosen] = v;
            double ap;
            if (score(&c, chosen, n_chosen + 1, &def_f, &ap)) {
                cli_fail();
                goto done;
            }
            if (ap > best) best = ap, best_v = v;
        }
        if (best_v < 0) break;
        chosen[n_chosen++] = best_v;
        memcpy(best_by_size[size - 1], chosen, sizeof(int) * (size_t)n_chosen);
        ap_by_size[size - 1] = best;
        fuse_by_size[size - 1] = def_f;
        char text[256];
        tta_view_format(&pool.views[best_v], text, sizeof text);
        printf("  %d views: + %-28.28s AP %.4f  (%+.4f)\n", size, text, best, best - base_ap);
    }
    /* step 3: the merge rule per size */
    if (!dc.merge_set) {
        tta_fuse_options grid[16];
        int ng = merge_grid(grid, dc.fuse.max_det);
        printf("\nstep 3: merge rule and IoU threshold\n");
        for (int size = 1; size <= max_size; size++) {
            if (size > 1 && ap_by_size[size - 1] < 0) continue;
            for (int g = 0; g < ng; g++) {
                double ap;
                if (score(&c, best_by_size[size - 1], size, &grid[g], &ap)) {
                    cli_fail();
                    goto done;
                }
                if (ap > ap_by_size[size - 1]) ap_by_size[size - 1] = ap, fuse_by_size[size - 1] = grid[g];
            }
            char ftext[96];
            det_cli_fuse_text(&fuse_by_size[size - 1], ftext, sizeof ftext);
            printf("  %d view%s: %-24s AP %.4f  (%+.4f)\n", size, size == 1 ? " " : "s", ftext, ap_by_size[size - 1],
                   ap_by_size[size - 1] - base_ap);
        }
    }
    int best_size = 1;
    for (int size = 2; size <= max_size; size++)
        if (ap_by_size[size - 1] > ap_by_size[best_size - 1] + 1e-9) best_size = size;
    const int *sel = best_by_size[best_size - 1];
    tta_fuse_options best_f = fuse_by_size[best_size - 1];
    /* the chosen policy */
    if (tta_policy_init(&best_pol)) {
        cli_fail();
        goto done;
    }
    for (int j = 1; j < best_size; j++)
        if (tta_policy_add_view(&best_pol, &pool.views[sel[j]])) {
            cli_fail();
            goto done;
        }
    char ftext[96];
    det_cli_fuse_text(&best_f, ftext, sizeof ftext);
    printf("\nchosen: %d pass%s, %s, validation AP %.4f -> %.4f (%+.4f); %d policies scored\n", best_size,
           best_size == 1 ? "" : "es", ftext, base_ap, ap_by_size[best_size - 1], ap_by_size[best_size - 1] - base_ap,
           c.evaluated);
    /* test: the chosen views only */
    double t_test = 0;
    if (det_cli_run_table(det, &best_pol, &test, &tt, "test", &t_test)) goto done;
    int all[MAX_BUDGET];
    for (int j = 0; j < best_size; j++) all[j] = j;
    tta_coco_stats tb, tp;
    double lo = 0, hi = 0;
    if (det_cli_score(&tt, all, NULL, 1, &base_f, &test, tcats, n_classes, &tb, &base_ev, NULL) ||
        det_cli_score(&tt, all, NULL, best_size, &best_f, &test, tcats, n_classes, &tp, &pol_ev, NULL) ||
        tta_coco_eval_gain_ci(base_ev, pol_ev, test.n_images, n_boot, 20240607, 0.95, &lo, &hi)) {
        cli_fail();
        goto done;
    }
    printf("test (%d images): one pass AP %.4f, policy AP %.4f, gain %+.4f, 95%% interval [%+.4f, %+.4f]%s\n",
           test.n_images, tb.ap, tp.ap, tp.ap - tb.ap, lo, hi, lo > 0 ? "" : " (not significant)");
    printf("  AP50 %.4f -> %.4f, AP75 %.4f -> %.4f, AR100 %.4f -> %.4f\n", tb.ap50, tp.ap50, tb.ap75, tp.ap75, tb.ar100,
           tp.ar100);
    /* the policy file */
    if (!(pf = cli_output_open(out_path, &ptmp))) goto done;
    {
        size_t need = tta_policy_format(&best_pol, NULL, 0) + 1;
        char *text = malloc(need);
        tta_policy_format(&best_pol, text, need);
        fprintf(pf,
                "# tta detect search: budget %d, model %s, validation %s\n# validation AP %.4f -> %.4f; test AP %.4f "
                "-> %.4f, gain %+.4f [%+.4f, %+.4f]\n# merge: %s\n%s",
                budget, dc.model, val_spec, base_ap, ap_by_size[best_size - 1], tb.ap, tp.ap, tp.ap - tb.ap, lo, hi,
                ftext, text);
        free(text);
    }
    {
        FILE *t = pf;
        pf = NULL;
        if (cli_output_commit(t, ptmp, out_path)) goto done;
    }
    printf("policy written to %s\n", out_path);
    if (json) {
        if (!(jf = cli_output_open(json, &jtmp))) goto done;
        fprintf(jf, "{\"budget\": %d, \"val_images\": %d, \"test_images\": %d, \"pool\": %d, \"evaluated\": %d,\n",
                budget, val.n_images, test.n_images, pool.n_views, c.evaluated);
        fprintf(jf, "\"step1\": [");
        for (int v = 1; v < nv; v++) {
            char text[256];
            tta_view_format(&pool.views[v], text, sizeof text);
            fprintf(jf, "%s{\"view\": ", v > 1 ? ", " : "");
            cli_json_str(jf, text);
            fprintf(jf, ", \"val_map\": %.6f}", pair_ap[v]);
        }
        fprintf(jf, "],\n\"by_size\": [");
        for (int size = 1; size <= max_size; size++) {
            char ft[96];
            det_cli_fuse_text(&fuse_by_size[size - 1], ft, sizeof ft);
            fprintf(jf, "%s{\"views\": %d, \"merge\": ", size > 1 ? ", " : "", size);
            cli_json_str(jf, ft);
            fprintf(jf, ", \"val_map\": %.6f}", ap_by_size[size - 1]);
        }
        fprintf(jf, "],\n\"chosen\": {\"views\": %d, \"merge\": ", best_size);
        cli_json_str(jf, ftext);
        fprintf(jf,
                ", \"val_map_base\": %.6f, \"val_map\": %.6f, \"test_map_base\": %.6f, \"test_map\": %.6f, "
                "\"test_map50\": %.6f, \"test_map75\": %.6f, \"test_ar100\": %.6f, \"gain\": %.6f, \"gain_ci\": [%.6f, "
                "%.6f]}}\n",
                base_ap, ap_by_size[best_size - 1], tb.ap, tp.ap, tp.ap50, tp.ap75, tp.ar100, tp.ap - tb.ap, lo, hi);
        FILE *t = jf;
        jf = NULL;
        if (cli_output_commit(t, jtmp, json)) goto done;
    }
    if (report) {
        search_figures sf = {dc.model,   val_spec,     test_spec, &val,      &test, &pool, pair_ap,
                             ap_by_size, fuse_by_size, max_size,  best_size, &tb,   &tp,   lo,
                             hi,         &base_f,      &best_f,   &tt,       all,   det,   n_classes};
        if (write_report(report, &sf)) goto done;
    }
    rc = 0;
done:
    if (pf) fclose(pf), remove(ptmp);
    if (jf) fclose(jf), remove(jtmp);
    free(ptmp);
    free(jtmp);
    tta_coco_eval_free(base_ev);
    tta_coco_eval_free(pol_ev);
    det_cli_table_free(&vt);
    det_cli_table_free(&tt);
    free(order);
    free(pair_ap);
    free(vcats);
    free(tcats);
    tta_policy_destroy(&pool);
    tta_policy_destroy(&best_pol);
    tta_coco_destroy(&val);
    tta_coco_destroy(&test);
    tta_detector_free(det);
    tta_model_free(m);
    return rc;
}
