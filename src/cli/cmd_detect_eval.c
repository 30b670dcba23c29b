/* cmd_detect_eval.c - `tta detect eval`: COCO mAP of detection TTA policies on a COCO data set.
 *
 * Every distinct view of all the policies runs once per image (one per-view detection table);
 * each policy is then scored by fusing its views' boxes from that table, so policies cost only
 * their fusion. The reference row is one pass: the identity view with NMS (IoU --base-iou,
 * default 0.6). Each policy's gain in AP@[.5:.95] over it comes with a 95% paired-bootstrap
 * interval over images. --results-dir writes each policy's detections as COCO results; --report
 * an HTML page with the table, plots of AP and of the gains, and the first images with the boxes
 * of one pass and of the best policy. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli/commands.h"
#include "cli/detect_cli.h"
#include "cli/dist.h"
#include "cli/report_cli.h"
#include "cli/task_report_cli.h"

#define MAX_POLICIES 32

static int usage(FILE *f, int code) {
    fprintf(
        f,
        "usage: tta detect eval --model M --data coco:DIR --policy P [--policy P2 ...] [--merge M]\n"
        "                       [--iou T] [--json FILE] [--report FILE.html] [--results-dir DIR] [--boot N]\n"
        "                       [--base-iou T]\n\n"
        "Scores detection TTA policies with COCO mAP (exactly as pycocotools' COCOeval: AP at\n"
        "IoU 0.50:0.05:0.95, AP50, AP75, AP small/medium/large, AR100). Each distinct view runs\n"
        "once per image; each policy fuses its views' boxes per class. The first row is one\n"
        "pass (the identity with NMS at --base-iou, default 0.6); every policy's gain over it\n"
        "comes with a 95%% paired-bootstrap interval over images (--boot resamples, default\n"
        "1000). A policy file written by `tta detect search` carries its merge rule; --merge\n"
        "and the other merge flags override it.\n\n"
        "  --data SPEC        coco:DIR (DIR/images, DIR/annotations.json) or\n"
        "                     coco:IMAGES_DIR,ANNOTATIONS.json, with an optional range [a:b]\n"
        "  --policy P         preset, policy text or file; NAME=P names the row\n"
        "  --results-dir DIR  each policy's detections as DIR/<k>.json (COCO results, with\n"
        "                     support), k its position (0 for the first --policy)\n"
        "  --json FILE        every figure as JSON\n"
        "  --report F.html    a self-contained HTML report: the table, AP and the gains with their\n"
        "                     intervals as plots, the first images with the boxes of one pass and\n"
        "                     of the best policy (class, score, support)\n\n%s\n%s",
        det_cli_help, cli_format_help);
    return code;
}

typedef struct row {
    const char *name;
    tta_policy pol;
    tta_fuse_options fuse;
    int *sel; /* union indices of its views */
    tta_coco_stats s;
    double lo, hi, seconds;
} row;

static void print_row(const char *name, int views, const char *merge, const tta_coco_stats *s, double gain, double lo,
                      double hi, int with_gain, double seconds) {
    printf("%-24.24s %5d  %-22.22s %6.4f %6.4f %6.4f %6.4f %6.4f %6.4f %6.4f", name, views, merge, s->ap, s->ap50,
           s->ap75, s->ap_small, s->ap_medium, s->ap_large, s->ar100);
    if (with_gain) printf("  %+7.4f [%+.4f, %+.4f]", gain, lo, hi);
    else printf("  %7s %17s", "", "");
    printf(" %7.1f\n", seconds);
}

static void json_stats(FILE *f, const tta_coco_stats *s) {
    fprintf(f,
            "\"map\": %.6f, \"map50\": %.6f, \"map75\": %.6f, \"map_small\": %.6f, \"map_medium\": %.6f, "
            "\"map_large\": %.6f, \"ar1\": %.6f, \"ar10\": %.6f, \"ar100\": %.6f",
            s->ap, s->ap50, s->ap75, s->ap_small, s->ap_medium, s->ap_large, s->ar1, s->ar10, s->ar100);
}

static int write_results(const char *dir, int k, const tta_coco *data, const tta_boxes *fused, const int64_t *cats,
                         int n_classes) {
    char path[4096];
    snprintf(path, sizeof path, "%s/%d.json", dir, k);
    tta_coco_det *d = NULL;
    int n = 0;
    if (tta_boxes_to_coco(data, fused, cats, n_classes, &d, &n) || tta_coco_results_write(path, d, n)) {
        tta_free(d);
        return cli_fail();
    }
    tta_free(d);
    return 0;
}

static tta_status write_task_page(FILE *f, const void *data) { return tta_report_task_write(f, data); }

static void task_row(tta_report_task_row *t, const char *name, const char *merge, int views,
                     const tta_coco_stats *s, int has_gain, double gain, double lo, double hi,
                     double seconds) {
    *t = (tta_report_task_row){name,
                               merge,
                               views,
                               has_gain,
                               {s->ap, s->ap50, s->ap75, s->ap_small, s->ap_medium, s->ap_large, s->ar100},
                               gain,
                               lo,
                               hi,
                               seconds};
}

/* The report: the rows as printed, and the pictures of the policy with the best AP. */
static int write_report(const char *path, const det_cli *dc, const char *spec, const tta_detector *det,
                        const tta_coco *data, const tta_det_table *table, const tta_fuse_options *base_f,
                        const char *btext, const tta_coco_stats *base_s, double per_view, const row *rows,
                        int n_pols, int n_classes) {
    static const char *metrics[] = {"AP", "AP50", "AP75", "APs", "APm", "APl", "AR100"};
    tta_report_task_row tr[MAX_POLICIES + 1];
    char merges[MAX_POLICIES][96];
    const char **names = calloc((size_t)n_classes + 1, sizeof *names);
    cli_det_pictures pics;
    memset(&pics, 0, sizeof pics);
    if (!names) return 1;
    task_row(&tr[0], "one pass (identity)", btext, 1, base_s, 0, 0, 0, 0, per_view);
    int focus = 0;
    for (int p = 0; p < n_pols; p++) {
        const row *r = &rows[p];
        det_cli_fuse_text(&r->fuse, merges[p], sizeof merges[p]);
        task_row(&tr[p + 1], r->name, merges[p], r->pol.n_views, &r->s, 1, r->s.ap - base_s->ap, r->lo, r->hi,
                 r->seconds);
        if (r->s.ap > rows[focus].s.ap) focus = p;
    }
    for (int k = 0; k < n_classes; k++)
        names[k] = tta_detector_class_name(det, k);
    char sub[1024], focus_text[256];
    snprintf(sub, sizeof sub, "model %s; data %s: %d images, %d annotations", dc->model, spec, data->n_images,
             data->n_anns);
    snprintf(focus_text, sizeof focus_text, "%s (%s)", rows[focus].name, merges[focus]);
    int rc = cli_det_pictures_make(&pics, table, data, base_f, rows[focus].sel, rows[focus].pol.weights,
                                   rows[focus].pol.n_views, &rows[focus].fuse);
    if (!rc) {
        tta_report_task r = {.kind = "detect",
                             .title = "tta detect eval: detection TTA policies",
                             .subtitle = sub,
                             .metric = "AP",
                             .metric_names = metrics,
                             .n_metrics = 7,
                             .rows = tr,
                             .n_rows = n_pols + 1,
                             .focus = focus_text,
                             .det = pics.im,
                             .n_det = pics.n,
                             .class_names = names,
                             .n_classes = n_classes};
        rc = cli_report_write(path, write_task_page, &r);
        if (!rc) printf("report written to %s\n", path);
    }
    cli_det_pictures_destroy(&pics);
    free(names);
    return rc;
}

int tta_cmd_detect_eval(int argc, char **argv) {
    det_cli dc;
    det_cli_init(&dc);
    const char *pargs[MAX_POLICIES], *data_spec = NULL, *json = NULL, *results_dir = NULL, *report = NULL;
    int n_pols = 0, n_boot = 1000;
    float base_iou = 0.6f;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        int more = i + 1 < argc;
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) return usage(stdout, 0);
        if (!strcmp(a, "--policy") && more && n_pols < MAX_POLICIES) pargs[n_pols++] = argv[++i];
        else if (!strcmp(a, "--data") && more) data_spec = argv[++i];
        else if (!strcmp(a, "--json") && more) json = argv[++i];
        else if (!strcmp(a, "--results-dir") && more) results_dir = argv[++i];
        else if (!strcmp(a, "--report") && more)
            report = argv[++i];
        else if (!strcmp(a, "--boot") && more) n_boot = atoi(argv[++i]);
        else if (!strcmp(a, "--base-iou") && more) base_iou = (float)atof(argv[++i]);
        else {
            int r = det_cli_flag(argc, argv, &i, &dc);
            if (r < 0) return 2;
            if (r) continue;
            fprintf(stderr, "tta: detect eval: unknown, incomplete or repeated-too-often option '%s'\n", a);
            return usage(stderr, 2);
        }
    }
    if (!dc.model || !data_spec) {
        fprintf(stderr, "tta: detect eval: --model and --data are required\n");
        return usage(stderr, 2);
    }
    if (n_boot < 10 || n_boot > 100000 || !(base_iou > 0 && base_iou <= 1)) {
        fprintf(stderr, "tta: detect eval: --boot must be 10..100000 and --base-iou in (0, 1]\n");
        return 2;
    }
    if (!n_pols) pargs[n_pols++] = "flip";
    if (report && !dist_rank() && cli_report_check(report)) return 1; /* before the long run; rank 0 writes it */

    int rc = 1, n_classes = 0;
    tta_model *m = NULL;
    tta_detector *det = NULL;
    tta_coco data = {0};
    tta_policy uni = {0};
    tta_det_table table = {0};
    row rows[MAX_POLICIES];
    memset(rows, 0, sizeof rows);
    int64_t *cats = NULL;
    tta_coco_eval *base_ev = NULL;
    tta_coco_stats base_s;
    double table_s = 0;
    FILE *jf = NULL;
    char *jtmp = NULL;

    if (det_cli_open(&dc, &m, &det)) goto done;
    if (tta_coco_open(&data, data_spec)) {
        cli_fail();
        goto done;
    }
    n_classes = tta_detector_n_classes(det);
    cats = malloc(sizeof *cats * (size_t)n_classes);
    {
        const char **names = malloc(sizeof *names * (size_t)n_classes);
        int have = 1;
        for (int k = 0; k < n_classes; k++) have &= (names[k] = tta_detector_class_name(det, k)) != NULL;
        tta_status st = tta_coco_label_map(&data, n_classes, have ? names : NULL, cats);
        free(names);
        if (st) {
            fprintf(stderr, "tta: %s and %s: %s\n", dc.model, data_spec, tta_last_error());
            goto done;
        }
    }
    /* the policies and the union of their views (identity first) */
    if (tta_policy_init(&uni)) {
        cli_fail();
        goto done;
    }
    for (int p = 0; p < n_pols; p++) {
        char *name = NULL;
        const char *arg = cli_policy_name(pargs[p], &name);
        rows[p].name = name;
        if (det_cli_load_policy(arg, &rows[p].pol, &dc, &rows[p].fuse)) goto done;
        rows[p].sel = malloc(sizeof(int) * (size_t)rows[p].pol.n_views);
        for (int j = 0; j < rows[p].pol.n_views; j++) {
            int u = 0;
            while (u < uni.n_views && !tta_view_equal(&uni.views[u], &rows[p].pol.views[j])) u++;
            if (u == uni.n_views && tta_policy_add_view(&uni, &rows[p].pol.views[j])) {
                cli_fail();
                goto done;
            }
            rows[p].sel[j] = u;
        }
    }
    if (det_cli_run_table(det, &uni, &data, &table, "detect eval", &table_s)) goto done;
    if (dist_leave()) { /* the model has run (each MPI rank its share): rank 0 reports */
        rc = 0;
        goto done;
    }

    /* one pass: the identity with NMS */
    tta_fuse_options base_f;
    tta_fuse_options_default(&base_f, TTA_FUSE_NMS);
    base_f.iou_thr = base_iou;
    base_f.max_det = dc.fuse.max_det;
    int ident = 0;
    if (det_cli_score(&table, &ident, NULL, 1, &base_f, &data, cats, n_classes, &base_s, &base_ev, NULL)) {
        cli_fail();
        goto done;
    }
    printf("%d images, %d annotations, %d categories; %d distinct views ran in %.1f s\n\n", data.n_images, data.n_anns,
           data.n_categories, uni.n_views, table_s);
    printf("%-24s %5s  %-22s %6s %6s %6s %6s %6s %6s %6s  %7s %17s %7s\n", "policy", "views", "merge", "AP", "AP50",
           "AP75", "APs", "APm", "APl", "AR100", "gain", "95% interval", "model s");
    char btext[96];
    det_cli_fuse_text(&base_f, btext, sizeof btext);
    double per_view = table_s / uni.n_views;
    print_row("one pass (identity)", 1, btext, &base_s, 0, 0, 0, 0, per_view);
    if (results_dir) {
        struct stat st;
        if (stat(results_dir, &st) != 0 && mkdir(results_dir, 0755) != 0) {
            fprintf(stderr, "tta: %s: cannot create the folder\n", results_dir);
            goto done;
        }
    }
    for (int p = 0; p < n_pols; p++) {
        row *r = &rows[p];
        tta_coco_eval *ev = NULL;
        tta_boxes *fused = NULL;
        if (det_cli_score(&table, r->sel, r->pol.weights, r->pol.n_views, &r->fuse, &data, cats, n_classes, &r->s, &ev,
                          &fused) ||
            tta_coco_eval_gain_ci(base_ev, ev, data.n_images, n_boot, 20240607, 0.95, &r->lo, &r->hi)) {
            tta_coco_eval_free(ev);
            tta_boxes_free_array(fused, data.n_images);
            cli_fail();
            goto done;
        }
        tta_coco_eval_free(ev);
        int wrc = results_dir ? write_results(results_dir, p, &data, fused, cats, n_classes) : 0;
        tta_boxes_free_array(fused, data.n_images);
        if (wrc) goto done;
        r->seconds = per_view * r->pol.n_views;
        char ftext[96];
        det_cli_fuse_text(&r->fuse, ftext, sizeof ftext);
        print_row(r->name, r->pol.n_views, ftext, &r->s, r->s.ap - base_s.ap, r->lo, r->hi, 1, r->seconds);
    }
    printf("\nAP = mAP@[.5:.95] at 100 detections per image (COCOeval); gain and interval are AP\n"
           "points over one pass, 95%% paired bootstrap over images (%d resamples).\n",
           n_boot);
    if (json) {
        if (!(jf = cli_output_open(json, &jtmp))) goto done;
        fprintf(jf, "{\"model\": ");
        cli_json_str(jf, dc.model);
        fprintf(jf, ", \"data\": ");
        cli_json_str(jf, data_spec);
        fprintf(jf, ", \"images\": %d, \"bootstrap\": %d,\n\"baseline\": {\"name\": \"one pass (identity)\", \"views\": 1, "
                    "\"merge\": ",
                data.n_images, n_boot);
        cli_json_str(jf, btext);
        fprintf(jf, ", ");
        json_stats(jf, &base_s);
        fprintf(jf, "},\n\"policies\": [");
        for (int p = 0; p < n_pols; p++) {
            row *r = &rows[p];
            char ftext[96], *ptext = NULL;
            det_cli_fuse_text(&r->fuse, ftext, sizeof ftext);
            size_t need = tta_policy_format(&r->pol, NULL, 0) + 1;
            ptext = malloc(need);
            tta_policy_format(&r->pol, ptext, need);
            fprintf(jf, "%s\n {\"name\": ", p ? "," : "");
            cli_json_str(jf, r->name);
            fprintf(jf, ", \"policy\": ");
            cli_json_str(jf, ptext);
            fprintf(jf, ", \"views\": %d, \"merge\": ", r->pol.n_views);
            cli_json_str(jf, ftext);
            fprintf(jf, ", ");
            json_stats(jf, &r->s);
            fprintf(jf, ", \"gain\": %.6f, \"gain_ci\": [%.6f, %.6f], \"model_seconds\": %.3f}", r->s.ap - base_s.ap, r->lo,
                    r->hi, r->seconds);
            free(ptext);
        }
        fprintf(jf, "\n]}\n");
        FILE *t = jf;
        jf = NULL;
        if (cli_output_commit(t, jtmp, json)) goto done;
    }
    if (report && write_report(report, &dc, data_spec, det, &data, &table, &base_f, btext, &base_s, per_view,
                               rows, n_pols, n_classes))
        goto done;
    rc = 0;
done:
    if (jf) {
        fclose(jf);
        remove(jtmp);
    }
    free(jtmp);
    for (int p = 0; p < n_pols; p++) {
        free((char *)rows[p].name);
        free(rows[p].sel);
        tta_policy_destroy(&rows[p].pol);
    }
    tta_coco_eval_free(base_ev);
    det_cli_table_free(&table);
    tta_policy_destroy(&uni);
    free(cats);
    tta_coco_destroy(&data);
    tta_detector_free(det);
    tta_model_free(m);
    return rc;
}
