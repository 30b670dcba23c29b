/* cmd_segment.c - `tta segment`: semantic segmentation with test-time augmentation. Dispatches
 * to predict and eval (here), search (cmd_segment_search.c) and bench (cmd_segment_bench.c).
 *
 *   predict: per image the class mask, a coloured overlay and an uncertainty heat map;
 *   eval:    mIoU, Dice, pixel accuracy and boundary mIoU per policy against one pass, the gain
 *            with a paired-bootstrap interval, and how well each uncertainty map finds the
 *            pixels the prediction gets wrong (AUROC, AUPR) beside the single-pass entropy. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli/commands.h"
#include "cli/dist.h"
#include "cli/report_cli.h"
#include "cli/segment_cli.h"
#include "cli/task_report_cli.h"

#define MAX_POLICIES 32
#define MAX_FILES 1024

static int usage(FILE *f, int code) {
    fprintf(f, "usage: tta segment predict|eval|search|bench [OPTIONS]\n\n"
               "  predict   class masks, overlays and uncertainty maps of images\n"
               "  eval      mIoU, Dice, boundary IoU and uncertainty quality of policies on image/mask pairs\n"
               "  search    the best policy within a budget of passes, on validation, shown on test\n"
               "  bench     what TTA costs beside the model: augment, model, de-augment, merge, metrics\n");
    return code;
}

/* ---- predict ------------------------------------------------------------------------- */

static int predict_usage(FILE *f, int code) {
    fprintf(f,
            "usage: tta segment predict --model M [--policy P] -o OUT_DIR IMAGE...\n\n"
            "Segments PNG/JPEG images with test-time augmentation: each view of policy P (default:\n"
            "the identity alone) goes through the model, its map is mapped back to the image and the\n"
            "views are merged per pixel. Writes per image OUT_DIR/NAME.mask.png (class id per pixel),\n"
            "NAME.overlay.png (classes coloured over the image) and NAME.uncertainty.png (the\n"
            "predictive entropy as a heat map, black = certain, white = log C); prints the classes\n"
            "found with their share of the pixels and the mean of each uncertainty map.\n\n%s\n%s",
            seg_cli_help, cli_format_help);
    return code;
}

static void class_colour(int c, uint8_t *rgb) {
    static const uint8_t pal[12][3] = {{0, 0, 0},       {230, 25, 75},  {60, 180, 75},  {255, 225, 25},
                                       {0, 130, 200},   {245, 130, 48}, {145, 30, 180}, {70, 240, 240},
                                       {240, 50, 230},  {210, 245, 60}, {250, 190, 212}, {0, 128, 128}};
    memcpy(rgb, pal[c % 12], 3);
}

static int write_predict(const char *dir, const char *file, const tta_image *img, const tta_seg_result *r) {
    const char *base = strrchr(file, '/');
    base = base ? base + 1 : file;
    char stem[1024], path[4096];
    snprintf(stem, sizeof stem, "%.*s", (int)strcspn(base, "."), base);
    int H = r->height, W = r->width, rc = 0;
    size_t plane = (size_t)H * W;
    tta_image mask = {0}, over = {0}, heat = {0}, u8 = {0};
    tta_image_wrap(&mask, H, W, 1, TTA_DTYPE_UINT8, r->labels);
    snprintf(path, sizeof path, "%s/%s.mask.png", dir, stem);
    if (tta_image_write_png(&mask, path)) return cli_fail();
    const tta_image *src = img;
    if (img->dtype != TTA_DTYPE_UINT8) {
        if (tta_image_convert(&u8, img, TTA_DTYPE_UINT8)) return cli_fail();
        src = &u8;
    }
    if (tta_image_init(&over, H, W, 3, TTA_DTYPE_UINT8) || tta_image_init(&heat, H, W, 1, TTA_DTYPE_UINT8)) {
        rc = cli_fail();
        goto done;
    }
    const uint8_t *p = src->data;
    uint8_t *o = over.data, *h = heat.data;
    double emax = log((double)r->classes);
    for (size_t i = 0; i < plane; i++) {
        uint8_t col[3];
        class_colour(r->labels[i], col);
        for (int c = 0; c < 3; c++) {
            int g = src->channels >= 3 ? p[i * src->channels + c] : p[i * src->channels];
            o[i * 3 + c] = (uint8_t)(r->labels[i] ? (g + 2 * col[c]) / 3 : g);
        }
        double e = r->maps[TTA_UNC_ENTROPY][i] / emax;
        h[i] = (uint8_t)lround(255 * (e < 0 ? 0 : e > 1 ? 1 : e));
    }
    snprintf(path, sizeof path, "%s/%s.overlay.png", dir, stem);
    if (tta_image_write_png(&over, path)) rc = cli_fail();
    snprintf(path, sizeof path, "%s/%s.uncertainty.png", dir, stem);
    if (!rc && tta_image_write_png(&heat, path)) rc = cli_fail();
done:
    tta_image_destroy(&over);
    tta_image_destroy(&heat);
    tta_image_destroy(&u8);
    return rc;
}

static int cmd_predict(int argc, char **argv) {
    seg_cli sc;
    seg_cli_init(&sc);
    const char *policy = "identity", *out_dir = NULL, *files[MAX_FILES];
    int n_files = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) return predict_usage(stdout, 0);
        if (!strcmp(a, "--policy") && i + 1 < argc) policy = argv[++i];
        else if ((!strcmp(a, "-o") || !strcmp(a, "--output-dir")) && i + 1 < argc) out_dir = argv[++i];
        else {
            int r = seg_cli_flag(argc, argv, &i, &sc);
            if (r < 0) return 2;
            if (r) continue;
            if (a[0] == '-') {
                fprintf(stderr, "tta: segment predict: unknown or incomplete option '%s'\n", a);
                return predict_usage(stderr, 2);
            }
            if (n_files < MAX_FILES) files[n_files++] = a;
        }
    }
    if (!sc.model || !n_files || !out_dir) {
        fprintf(stderr, "tta: segment predict: --model, -o OUT_DIR and at least one image are required\n");
        return predict_usage(stderr, 2);
    }
    struct stat st;
    if (stat(out_dir, &st) != 0 && mkdir(out_dir, 0755) != 0) {
        fprintf(stderr, "tta: %s: cannot create the folder\n", out_dir);
        return 1;
    }
    tta_model *m = NULL;
    tta_segmenter *seg = NULL;
    tta_policy pol = {0};
    tta_image img = {0};
    tta_seg_result r = {0};
    int rc = 1;
    if (seg_cli_open(&sc, &m, &seg) || cli_load_policy(policy, &pol)) goto done;
    tta_merge merge = pol.weights && sc.merge == TTA_MERGE_MEAN ? TTA_MERGE_WEIGHTED : sc.merge;
    for (int f = 0; f < n_files; f++) {
        if (tta_image_read(&img, files[f]) || tta_segment(seg, &pol, &img, merge, &r)) {
            fprintf(stderr, "tta: %s: %s\n", files[f], tta_last_error());
            goto done;
        }
        size_t plane = (size_t)r.height * r.width;
        int64_t *count = calloc((size_t)r.classes, sizeof *count);
        for (size_t i = 0; i < plane; i++) count[r.labels[i]]++;
        printf("%s: %dx%d, %d view%s, %s merge\n", files[f], r.width, r.height, r.n_views, r.n_views == 1 ? "" : "s",
               tta_merge_name(merge));
        for (int c = 0; c < r.classes; c++) {
            if (!count[c]) continue;
            const char *name = tta_segmenter_class_name(seg, c);
            printf("  %-14s %6.2f%% of the pixels\n", name ? name : "?", 100.0 * (double)count[c] / (double)plane);
        }
        free(count);
        printf("  uncertainty (mean over pixels):");
        for (int k = 0; k < TTA_UNC_COUNT; k++) {
            double sum = 0;
            for (size_t i = 0; i < plane; i++) sum += r.maps[k][i];
            printf(" %s %.4f%s", tta_unc_map_name((tta_unc_map)k), sum / (double)plane, k + 1 < TTA_UNC_COUNT ? "," : "\n");
        }
        if (write_predict(out_dir, files[f], &img, &r)) goto done;
    }
    rc = 0;
done:
    tta_seg_result_destroy(&r);
    tta_image_destroy(&img);
    tta_policy_destroy(&pol);
    tta_segmenter_free(seg);
    tta_model_free(m);
    return rc;
}

/* ---- eval ---------------------------------------------------------------------------- */

static int eval_usage(FILE *f, int code) {
    fprintf(
        f,
        "usage: tta segment eval --model M --data masks:DIR --policy P [--policy P2 ...] [--json FILE]\n"
        "                        [--report FILE.html] [--save-dir DIR] [--boot N]\n\n"
        "Scores segmentation TTA policies on image/mask pairs: mIoU (classes present in truth or\n"
        "prediction), Dice, pixel accuracy and the mIoU of boundary pixels, from one confusion\n"
        "matrix over the set; each policy's mIoU gain over one pass (the identity) with a 95%%\n"
        "paired-bootstrap interval over images (--boot resamples, 1000); and for each uncertainty\n"
        "map (predictive entropy, mutual information, variance of the winning class, disagreement\n"
        "of the views) the AUROC of finding the pixels the merged prediction gets wrong, beside\n"
        "the single-pass softmax entropy. --save-dir writes per policy DIR/<k>/NAME.png (class\n"
        "ids) and DIR/<k>/NAME.entropy.npy (float32 H x W), k the policy's position.\n\n"
        "  --data SPEC   masks:DIR (DIR/images, DIR/masks) or masks:IMAGES_DIR,MASKS_DIR, with an\n"
        "                optional range [a:b]\n"
        "  --report F.html  a self-contained HTML report: the table, mIoU and its gains with their\n"
        "                intervals, each uncertainty map's AUROC, and the first images with their\n"
        "                true mask, the masks of one pass and of the best policy, its entropy map\n\n%s\n%s",
        seg_cli_help, cli_format_help);
    return code;
}

typedef struct erow {
    char *name;
    tta_policy pol;
    tta_merge merge;
    seg_run run;
    tta_seg_scores s;
    double *iou;
    double lo, hi;
} erow;

static void json_quality(FILE *f, const tta_unc_quality *q) {
    fprintf(f, "{\"auroc\": %.6f, \"aupr\": %.6f, \"risk_at_coverage\": {\"0.5\": %.6f, \"0.8\": %.6f, \"0.9\": %.6f, "
               "\"0.95\": %.6f, \"1.0\": %.6f}}",
            tta_unc_quality_auroc(q), tta_unc_quality_aupr(q), tta_unc_quality_risk(q, 0.5), tta_unc_quality_risk(q, 0.8),
            tta_unc_quality_risk(q, 0.9), tta_unc_quality_risk(q, 0.95), tta_unc_quality_risk(q, 1.0));
}

static void json_row(FILE *f, const erow *r, int classes, int with_gain, double base_miou) {
    fprintf(f, "{\"name\": ");
    cli_json_str(f, r->name);
    fprintf(f, ", \"views\": %d, \"merge\": \"%s\", \"miou\": %.6f, \"miou_fg\": %.6f, \"dice\": %.6f, \"pixel_accuracy\": %.6f, "
               "\"boundary_miou\": %.6f, \"per_class_iou\": [",
            r->pol.n_views, tta_merge_name(r->merge), r->s.miou, r->s.miou_fg, r->s.dice, r->s.pixel_accuracy, r->s.boundary_miou);
    for (int c = 0; c < classes; c++) fprintf(f, "%s%.6f", c ? ", " : "", r->iou[c]);
    fprintf(f, "]");
    if (with_gain) fprintf(f, ", \"gain\": %.6f, \"gain_ci\": [%.6f, %.6f]", r->s.miou - base_miou, r->lo, r->hi);
    fprintf(f, ", \"uncertainty\": {");
    for (int k = 0; k <= TTA_UNC_COUNT; k++) {
        fprintf(f, "%s\"%s\": ", k ? ", " : "", k < TTA_UNC_COUNT ? tta_unc_map_name((tta_unc_map)k) : "single_pass_entropy");
        json_quality(f, &r->run.q[k]);
    }
    fprintf(f, "}, \"seconds\": %.3f}", r->run.seconds);
}

static void print_row(const erow *r, int with_gain, double base) {
    printf("%-22.22s %5d %-9s %7.4f %7.4f %7.4f %7.4f", r->name, r->pol.n_views, tta_merge_name(r->merge), r->s.miou,
           r->s.dice, r->s.pixel_accuracy, r->s.boundary_miou);
    if (with_gain) printf("  %+7.4f [%+.4f, %+.4f]", r->s.miou - base, r->lo, r->hi);
    else printf("  %7s %17s", "", "");
    for (int k = 0; k <= TTA_UNC_COUNT; k++) printf(" %7.4f", tta_unc_quality_auroc(&r->run.q[k]));
    printf(" %7.1f\n", r->run.seconds);
}

static tta_status write_task_page(FILE *f, const void *data) { return tta_report_task_write(f, data); }

static const char *seg_metrics[] = {"mIoU", "Dice", "pixel acc", "boundary mIoU"};

/* The report of segment eval: the rows as printed, the AUROC of each map of the policy with the
 * best mIoU, and its masks and entropy on the first images. */
static int write_eval_report(const char *path, const seg_cli *sc, const char *spec, tta_segmenter *seg,
                             const tta_mask_set *data, const erow *rows, int n_rows, int classes) {
    tta_report_task_row tr[MAX_POLICIES + 1];
    int focus = n_rows > 1 ? 1 : 0;
    for (int r = 0; r < n_rows; r++) {
        const erow *e = &rows[r];
        tr[r] = (tta_report_task_row){e->name,
                                      tta_merge_name(e->merge),
                                      e->pol.n_views,
                                      r > 0,
                                      {e->s.miou, e->s.dice, e->s.pixel_accuracy, e->s.boundary_miou},
                                      e->s.miou - rows[0].s.miou,
                                      e->lo,
                                      e->hi,
                                      e->run.seconds};
        if (r > 0 && e->s.miou > rows[focus].s.miou) focus = r;
    }
    const char *unc[TTA_UNC_COUNT + 1];
    double auroc[TTA_UNC_COUNT + 1];
    for (int k = 0; k <= TTA_UNC_COUNT; k++) {
        unc[k] = seg_cli_map_label(k);
        auroc[k] = tta_unc_quality_auroc(&rows[focus].run.q[k]);
    }
    const char **names = calloc((size_t)classes + 1, sizeof *names);
    if (!names) return 1;
    for (int c = 0; c < classes; c++)
        names[c] = tta_segmenter_class_name(seg, c);
    cli_seg_pictures pics;
    char sub[1024], focus_text[256];
    snprintf(sub, sizeof sub, "model %s; data %s: %d images, %d classes", sc->model, spec,
             tta_mask_set_count(data), classes);
    snprintf(focus_text, sizeof focus_text, "%s (%s)", rows[focus].name, tta_merge_name(rows[focus].merge));
    int rc = cli_seg_pictures_make(&pics, seg, data, &rows[focus].pol, rows[focus].merge);
    if (!rc) {
        tta_report_task r = {.kind = "segment",
                             .title = "tta segment eval: segmentation TTA policies",
                             .subtitle = sub,
                             .metric = "mIoU",
                             .metric_names = seg_metrics,
                             .n_metrics = 4,
                             .rows = tr,
                             .n_rows = n_rows,
                             .unc_names = unc,
                             .unc_auroc = auroc,
                             .n_unc = TTA_UNC_COUNT + 1,
                             .focus = focus_text,
                             .seg = pics.im,
                             .n_seg = pics.n,
                             .class_names = names,
                             .n_classes = classes};
        rc = cli_report_write(path, write_task_page, &r);
        if (!rc) printf("report written to %s\n", path);
    }
    cli_seg_pictures_destroy(&pics);
    free(names);
    return rc;
}

static int cmd_eval(int argc, char **argv) {
    seg_cli sc;
    seg_cli_init(&sc);
    const char *pargs[MAX_POLICIES], *data_spec = NULL, *json = NULL, *save_dir = NULL, *report = NULL;
    int n_pols = 0, n_boot = 1000, merge_set = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        int more = i + 1 < argc;
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) return eval_usage(stdout, 0);
        if (!strcmp(a, "--merge")) merge_set = 1;
        if (!strcmp(a, "--policy") && more && n_pols < MAX_POLICIES - 1) pargs[n_pols++] = argv[++i];
        else if (!strcmp(a, "--data") && more) data_spec = argv[++i];
        else if (!strcmp(a, "--json") && more) json = argv[++i];
        else if (!strcmp(a, "--save-dir") && more) save_dir = argv[++i];
        else if (!strcmp(a, "--report") && more)
            report = argv[++i];
        else if (!strcmp(a, "--boot") && more) n_boot = atoi(argv[++i]);
        else {
            int r = seg_cli_flag(argc, argv, &i, &sc);
            if (r < 0) return 2;
            if (r) continue;
            fprintf(stderr, "tta: segment eval: unknown, incomplete or repeated-too-often option '%s'\n", a);
            return eval_usage(stderr, 2);
        }
    }
    if (!sc.model || !data_spec) {
        fprintf(stderr, "tta: segment eval: --model and --data are required\n");
        return eval_usage(stderr, 2);
    }
    if (n_boot < 10 || n_boot > 100000) {
        fprintf(stderr, "tta: segment eval: --boot must be 10..100000\n");
        return 2;
    }
    if (!n_pols) pargs[n_pols++] = "flip";
    int rc = 1, classes = 0;
    tta_model *m = NULL;
    tta_segmenter *seg = NULL;
    tta_mask_set *data = NULL;
    erow rows[MAX_POLICIES + 1];
    memset(rows, 0, sizeof rows);
    int n_rows = n_pols + 1; /* row 0: one pass */
    FILE *jf = NULL;
    char *jtmp = NULL;
    if (seg_cli_open(&sc, &m, &seg)) goto done;
    if (tta_mask_set_open(&data, data_spec)) {
        cli_fail();
        goto done;
    }
    rows[0].name = strdup("one pass (identity)");
    if (tta_policy_init(&rows[0].pol)) {
        cli_fail();
        goto done;
    }
    for (int p = 0; p < n_pols; p++) {
        const char *arg = cli_policy_name(pargs[p], &rows[p + 1].name);
        if (cli_load_policy(arg, &rows[p + 1].pol)) goto done;
        /* the merge a searched policy records, unless --merge says otherwise */
        if (seg_cli_policy_merge(arg, sc.merge, &rows[p + 1].merge)) goto done;
        if (merge_set) rows[p + 1].merge = sc.merge;
    }
    /* validate the output locations before the long run (rank 0 alone writes them under mpirun) */
    if (report && !dist_rank() && cli_report_check(report)) goto done;
    if (json && !dist_rank()) {
        if (!(jf = cli_output_open(json, &jtmp))) goto done;
    }
    if (save_dir) {
        struct stat st;
        /* EEXIST: another MPI rank made it first */
        if (stat(save_dir, &st) != 0 && mkdir(save_dir, 0755) != 0 && errno != EEXIST) {
            fprintf(stderr, "tta: %s: cannot create the folder\n", save_dir);
            goto done;
        }
    }
    for (int r = 0; r < n_rows; r++) {
        erow *e = &rows[r];
        char dir[4096], what[128];
        if (save_dir && r > 0) snprintf(dir, sizeof dir, "%s/%d", save_dir, r - 1);
        snprintf(what, sizeof what, "segment eval %d/%d", r + 1, n_rows);
        tta_merge merge = r == 0 ? TTA_MERGE_MEAN : e->merge;
        if (e->pol.weights && merge == TTA_MERGE_MEAN) merge = TTA_MERGE_WEIGHTED;
        e->merge = merge;
        if (seg_cli_run(seg, &e->pol, merge, data, sc.ignore, sc.boundary, save_dir && r > 0 ? dir : NULL, what, &e->run))
            goto done;
        classes = e->run.classes;
        e->iou = calloc((size_t)classes, sizeof *e->iou);
        tta_confusion_scores(&e->run.total, &e->s, e->iou);
        if (r > 0 && tta_miou_gain_ci(rows[0].run.per_image, e->run.per_image, e->run.n_images, n_boot, 20240607, 0.95,
                                      &e->lo, &e->hi)) {
            cli_fail();
            goto done;
        }
    }
    if (dist_leave()) { /* the model has run: rank 0 reports */
        rc = 0;
        goto done;
    }
    printf("%d images, %d classes, %s merge; boundary: within %d px of a class edge\n\n", tta_mask_set_count(data),
           classes, tta_merge_name(sc.merge), sc.boundary);
    printf("%-22s %5s %-9s %7s %7s %7s %7s  %7s %17s %35s %7s\n", "", "", "", "", "", "pixel", "bound.", "mIoU", "",
           "AUROC of finding the wrong pixels", "");
    printf("%-22s %5s %-9s %7s %7s %7s %7s  %7s %17s %7s %7s %7s %7s %7s %7s\n", "policy", "views", "merge", "mIoU",
           "Dice", "acc", "mIoU", "gain", "95% interval", "entropy", "MI", "var", "disagr", "1-pass", "seconds");
    for (int r = 0; r < n_rows; r++) print_row(&rows[r], r > 0, rows[0].s.miou);
    printf("\nAUROC: each uncertainty map as a detector of the pixels the merged prediction gets wrong;\n"
           "1-pass: the identity view's own softmax entropy (the single-pass baseline). Gain: mIoU points\n"
           "over one pass, 95%% paired bootstrap over images (%d resamples).\n",
           n_boot);
    if (jf) {
        fprintf(jf, "{\"model\": ");
        cli_json_str(jf, sc.model);
        fprintf(jf, ", \"data\": ");
        cli_json_str(jf, data_spec);
        fprintf(jf, ", \"images\": %d, \"classes\": %d, \"merge\": \"%s\", \"bootstrap\": %d,\n\"baseline\": ",
                tta_mask_set_count(data), classes, tta_merge_name(sc.merge), n_boot);
        json_row(jf, &rows[0], classes, 0, 0);
        fprintf(jf, ",\n\"policies\": [");
        for (int r = 1; r < n_rows; r++) {
            fprintf(jf, "%s\n ", r > 1 ? "," : "");
            json_row(jf, &rows[r], classes, 1, rows[0].s.miou);
        }
        fprintf(jf, "\n]}\n");
        FILE *t = jf;
        jf = NULL;
        if (cli_output_commit(t, jtmp, json)) goto done;
    }
    if (report && write_eval_report(report, &sc, data_spec, seg, data, rows, n_rows, classes)) goto done;
    rc = 0;
done:
    if (jf) {
        fclose(jf);
        remove(jtmp);
    }
    free(jtmp);
    for (int r = 0; r < n_rows; r++) {
        free(rows[r].name);
        free(rows[r].iou);
        tta_policy_destroy(&rows[r].pol);
        seg_run_destroy(&rows[r].run);
    }
    tta_mask_set_free(data);
    tta_segmenter_free(seg);
    tta_model_free(m);
    return rc;
}

int tta_cmd_segment(int argc, char **argv) {
    if (argc < 2) return usage(stderr, 2);
    const char *sub = argv[1];
    if (!strcmp(sub, "-h") || !strcmp(sub, "--help") || !strcmp(sub, "help")) return usage(stdout, 0);
    if (!strcmp(sub, "predict")) return cmd_predict(argc - 1, argv + 1);
    if (!strcmp(sub, "eval")) return cmd_eval(argc - 1, argv + 1);
    if (!strcmp(sub, "search")) return tta_cmd_segment_search(argc - 1, argv + 1);
    if (!strcmp(sub, "bench")) return tta_cmd_segment_bench(argc - 1, argv + 1);
    fprintf(stderr, "tta: segment: unknown subcommand '%s'\n", sub);
    return usage(stderr, 2);
}
