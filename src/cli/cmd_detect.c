/* cmd_detect.c - `tta detect`: object detection with test-time augmentation. Dispatches to
 * predict and fuse (here), eval (cmd_detect_eval.c) and search (cmd_detect_search.c).
 *
 *   predict: boxes, classes, scores and support of each image, optionally drawn;
 *   fuse:    COCO results files from several models or views fused into one (box ensembling). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli/commands.h"
#include "cli/detect_cli.h"
#include "image/draw.h"

#define MAX_FILES 1024

static int usage(FILE *f, int code) {
    fprintf(f, "usage: tta detect predict|eval|fuse|search|bench [OPTIONS]\n\n"
               "  predict   boxes of images with test-time augmentation (tta detect predict --help)\n"
               "  eval      COCO mAP of policies on a COCO data set, with the gain's interval\n"
               "  fuse      fuse COCO results files (several models or views) into one\n"
               "  search    the best policy within a budget of passes, on validation, shown on test\n"
               "  bench     what detection TTA costs beside the model (decoding, NMS, fusion)\n");
    return code;
}

static int predict_usage(FILE *f, int code) {
    fprintf(f,
            "usage: tta detect predict --model M [--policy P] [--draw OUT_DIR] [--json FILE] IMAGE...\n\n"
            "Detects objects in PNG/JPEG images with test-time augmentation: each view of policy P\n"
            "(default: the identity alone; e.g. \"hflip\", \"hflip; resize(125%%)\") goes through the\n"
            "model, its boxes are mapped back to the image and merged per class. Prints per image\n"
            "each box: class, score, corners (x1, y1, x2, y2 in pixels) and its support, the number\n"
            "of views that found it. --draw writes each image with its boxes drawn and labelled.\n\n%s\n%s",
            det_cli_help, cli_format_help);
    return code;
}

static const uint8_t palette[8][3] = {{230, 25, 75}, {60, 180, 75}, {255, 225, 25}, {0, 130, 200},
                                      {245, 130, 48}, {145, 30, 180}, {70, 240, 240}, {240, 50, 230}};

/* The image as RGB with its boxes drawn: a 1-px outline (2 px from 128 px up) and a label. */
static int draw_boxes(const tta_image *src, const tta_boxes *b, const tta_detector *det, int n_views,
                      const char *path) {
    tta_image rgb = {0}, u8 = {0};
    const tta_image *s = src;
    if (src->dtype != TTA_DTYPE_UINT8) {
        if (tta_image_convert(&u8, src, TTA_DTYPE_UINT8)) return cli_fail();
        s = &u8;
    }
    /* upscale small images so that labels stay readable */
    int f = s->width < 128 ? (128 + s->width - 1) / s->width : 1;
    if (f > 8) f = 8;
    if (tta_image_init(&rgb, s->height * f, s->width * f, 3, TTA_DTYPE_UINT8)) {
        tta_image_destroy(&u8);
        return cli_fail();
    }
    uint8_t *d = rgb.data;
    const uint8_t *p = s->data;
    for (int y = 0; y < rgb.height; y++)
        for (int x = 0; x < rgb.width; x++) {
            const uint8_t *q = p + ((size_t)(y / f) * s->width + (size_t)(x / f)) * s->channels;
            for (int c = 0; c < 3; c++) d[((size_t)y * rgb.width + x) * 3 + c] = s->channels >= 3 ? q[c] : q[0];
        }
    int t = rgb.width >= 256 ? 2 : 1;
    for (int i = b->n - 1; i >= 0; i--) { /* best last, on top */
        const tta_box *x = &b->box[i];
        const uint8_t *col = palette[x->label % 8];
        int x1 = (int)lroundf(x->x1 * f), y1 = (int)lroundf(x->y1 * f), x2 = (int)lroundf(x->x2 * f),
            y2 = (int)lroundf(x->y2 * f);
        tta_draw_rect(&rgb, x1, y1, x2 - x1, t, col);
        tta_draw_rect(&rgb, x1, y2 - t, x2 - x1, t, col);
        tta_draw_rect(&rgb, x1, y1, t, y2 - y1, col);
        tta_draw_rect(&rgb, x2 - t, y1, t, y2 - y1, col);
        char label[96];
        const char *name = tta_detector_class_name(det, x->label);
        char num[16];
        snprintf(num, sizeof num, "%d", x->label);
        snprintf(label, sizeof label, "%s %.2f %d/%d", name ? name : num, x->score, x->support, n_views);
        int w = (int)strlen(label) * TTA_FONT_ADVANCE + 2;
        int ly = y1 - TTA_FONT_LINE >= 0 ? y1 - TTA_FONT_LINE : y1;
        tta_draw_rect(&rgb, x1, ly, w, TTA_FONT_LINE, col);
        static const uint8_t black[3] = {0, 0, 0};
        tta_draw_text(&rgb, x1 + 1, ly + 1, label, black, 1);
    }
    int rc = tta_image_write_png(&rgb, path) ? cli_fail() : 0;
    tta_image_destroy(&rgb);
    tta_image_destroy(&u8);
    return rc;
}

static int cmd_predict(int argc, char **argv) {
    det_cli dc;
    det_cli_init(&dc);
    dc.o.score_thr = 0.25f; /* display threshold */
    const char *policy = "identity", *draw = NULL, *json = NULL, *files[MAX_FILES];
    int n_files = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) return predict_usage(stdout, 0);
        if (!strcmp(a, "--policy") && i + 1 < argc) policy = argv[++i];
        else if (!strcmp(a, "--draw") && i + 1 < argc) draw = argv[++i];
        else if (!strcmp(a, "--json") && i + 1 < argc) json = argv[++i];
        else {
            int r = det_cli_flag(argc, argv, &i, &dc);
            if (r < 0) return 2;
            if (r) continue;
            if (a[0] == '-') {
                fprintf(stderr, "tta: detect predict: unknown or incomplete option '%s'\n", a);
                return predict_usage(stderr, 2);
            }
            if (n_files == MAX_FILES) {
                fprintf(stderr, "tta: detect predict: at most %d images\n", MAX_FILES);
                return 2;
            }
            files[n_files++] = a;
        }
    }
    if (!dc.model || !n_files) return predict_usage(stderr, 2);
    if (draw) {
        struct stat st;
        if (stat(draw, &st) != 0 && mkdir(draw, 0755) != 0) {
            fprintf(stderr, "tta: %s: cannot create the folder\n", draw);
            return 1;
        }
    }
    tta_model *m = NULL;
    tta_detector *det = NULL;
    tta_policy pol = {0};
    tta_fuse_options fuse;
    tta_image img = {0};
    tta_boxes out = {0};
    FILE *jf = NULL;
    char *jtmp = NULL;
    int rc = 1;
    if (det_cli_open(&dc, &m, &det) || det_cli_load_policy(policy, &pol, &dc, &fuse)) goto done;
    if (json) {
        if (!(jf = cli_output_open(json, &jtmp))) goto done;
        fprintf(jf, "[");
    }
    char ftext[96];
    det_cli_fuse_text(&fuse, ftext, sizeof ftext);
    for (int f = 0; f < n_files; f++) {
        if (tta_image_read(&img, files[f]) || tta_detect(det, &pol, &img, 1, &fuse, &out)) {
            fprintf(stderr, "tta: %s: %s\n", files[f], tta_last_error());
            goto done;
        }
        printf("%s: %d box%s (%dx%d, %d view%s, %s)\n", files[f], out.n, out.n == 1 ? "" : "es", img.width, img.height,
               pol.n_views, pol.n_views == 1 ? "" : "s", ftext);
        for (int i = 0; i < out.n; i++) {
            const tta_box *b = &out.box[i];
            const char *name = tta_detector_class_name(det, b->label);
            printf("  %-14s %.3f  [%.1f, %.1f, %.1f, %.1f]  support %d/%d\n", name ? name : "?", b->score, b->x1,
                   b->y1, b->x2, b->y2, b->support, pol.n_views);
            if (jf) {
                fprintf(jf, "%s\n {\"file\": ", f || i ? "," : "");
                cli_json_str(jf, files[f]);
                fprintf(jf, ", \"label\": %d, \"class\": ", b->label);
                cli_json_str(jf, name ? name : "");
                fprintf(jf, ", \"score\": %.6g, \"box\": [%.6g, %.6g, %.6g, %.6g], \"support\": %d}", b->score, b->x1,
                        b->y1, b->x2, b->y2, b->support);
            }
        }
        if (draw) {
            const char *base = strrchr(files[f], '/');
            base = base ? base + 1 : files[f];
            char path[4096];
            snprintf(path, sizeof path, "%s/%.*s.png", draw, (int)(strcspn(base, ".")), base);
            if (draw_boxes(&img, &out, det, pol.n_views, path)) goto done;
        }
    }
    if (jf) {
        fprintf(jf, "\n]\n");
        FILE *t = jf;
        jf = NULL;
        if (cli_output_commit(t, jtmp, json)) goto done;
    }
    rc = 0;
done:
    if (jf) {
        fclose(jf);
        remove(jtmp);
    }
    free(jtmp);
    tta_boxes_destroy(&out);
    tta_image_destroy(&img);
    tta_policy_destroy(&pol);
    tta_detector_free(det);
    tta_model_free(m);
    return rc;
}

static int fuse_usage(FILE *f, int code) {
    fprintf(f,
            "usage: tta detect fuse [--merge M] [--iou T] [--skip S] [--weights W,...] [--conf-type C]\n"
            "                       [--max-det N] A.json B.json ... -o OUT.json\n\n"
            "Fuses COCO results files (JSON arrays of image_id, category_id, bbox [x, y, w, h],\n"
            "score), from several models or from views, into one: per image and category, the\n"
            "boxes of all files are merged (wbf by default; nms, soft-nms, soft-nms-linear, nmw),\n"
            "each file one source with its weight. Each fused box gets \"support\": how many files\n"
            "found it. Defaults follow ensemble-boxes (wbf and nmw IoU 0.55, nms 0.5, soft-nms\n"
            "Gaussian sigma 0.5, score threshold 0.001); --max-det 0 keeps every box.\n");
    return code;
}

static const tta_coco_det *sort_base; /* for by_image: the command runs once per process */

static int by_image(const void *a, const void *b) {
    int i = *(const int *)a, j = *(const int *)b;
    int64_t x = sort_base[i].image_id, y = sort_base[j].image_id;
    return x != y ? (x > y) - (x < y) : (i > j) - (i < j);
}

static int cmd_fuse(int argc, char **argv) {
    det_cli dc;
    det_cli_init(&dc);
    dc.fuse.max_det = 0;
    const char *files[MAX_FILES], *out_path = NULL;
    int n_files = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) return fuse_usage(stdout, 0);
        if ((!strcmp(a, "-o") || !strcmp(a, "--output")) && i + 1 < argc) out_path = argv[++i];
        else {
            int r = det_cli_flag(argc, argv, &i, &dc);
            if (r < 0) return 2;
            if (r) continue;
            if (a[0] == '-' && a[1]) {
                fprintf(stderr, "tta: detect fuse: unknown or incomplete option '%s'\n", a);
                return fuse_usage(stderr, 2);
            }
            if (n_files < MAX_FILES) files[n_files++] = a;
        }
    }
    if (!out_path || n_files < 1) {
        fprintf(stderr, "tta: detect fuse: give at least one results file and -o OUT.json\n");
        return fuse_usage(stderr, 2);
    }
    if (!dc.max_det_set) dc.fuse.max_det = 0;
    double *weights = calloc((size_t)n_files, sizeof *weights);
    for (int f = 0; f < n_files; f++) weights[f] = 1;
    if (dc.weights) {
        const char *s = dc.weights;
        for (int f = 0; f < n_files; f++) {
            char *end;
            weights[f] = strtod(s, &end);
            if (end == s || !(weights[f] > 0) || (f + 1 < n_files ? *end != ',' : *end != 0)) {
                fprintf(stderr, "tta: detect fuse: --weights needs %d positive numbers, one per file, got '%s'\n",
                        n_files, dc.weights);
                free(weights);
                return 2;
            }
            s = end + 1;
        }
    }
    tta_coco_det *all = NULL, *outd = NULL;
    int n_all = 0, n_out = 0, rc = 1;
    tta_box *boxes = NULL;
    int64_t *cats = NULL;
    tta_boxes fused = {0};
    for (int f = 0; f < n_files; f++) {
        tta_coco_det *d = NULL;
        int n = 0;
        if (tta_coco_results_read(files[f], &d, &n)) {
            cli_fail();
            goto done;
        }
        tta_coco_det *grown = realloc(all, sizeof *all * (size_t)(n_all + n + 1));
        if (!grown) {
            tta_free(d);
            fprintf(stderr, "tta: out of memory\n");
            goto done;
        }
        all = grown;
        for (int k = 0; k < n; k++) {
            all[n_all + k] = d[k];
            all[n_all + k].support = f; /* the file, until fused */
        }
        n_all += n;
        tta_free(d);
    }
    /* by image, keeping the files' order within an image (qsort is not stable: the position
     * breaks ties) */
    sort_base = all;
    {
        int *order = malloc(sizeof *order * (size_t)(n_all + 1));
        tta_coco_det *sorted = malloc(sizeof *sorted * (size_t)(n_all + 1));
        if (!order || !sorted) {
            free(order);
            free(sorted);
            fprintf(stderr, "tta: out of memory\n");
            goto done;
        }
        for (int k = 0; k < n_all; k++) order[k] = k;
        qsort(order, (size_t)n_all, sizeof *order, by_image);
        for (int k = 0; k < n_all; k++) sorted[k] = all[order[k]];
        free(order);
        free(all);
        all = sorted;
    }
    boxes = malloc(sizeof *boxes * (size_t)(n_all + 1));
    cats = malloc(sizeof *cats * (size_t)(n_all + 1));
    outd = malloc(sizeof *outd * (size_t)(n_all + 1));
    if (!boxes || !cats || !outd) {
        fprintf(stderr, "tta: out of memory\n");
        goto done;
    }
    for (int s = 0; s < n_all;) {
        int e = s;
        while (e < n_all && all[e].image_id == all[s].image_id) e++;
        /* labels: this image's category ids numbered in order of appearance */
        int n_cat = 0;
        for (int k = s; k < e; k++) {
            int c = 0;
            while (c < n_cat && cats[c] != all[k].category_id) c++;
            if (c == n_cat) cats[n_cat++] = all[k].category_id;
            tta_box *b = &boxes[k - s];
            b->x1 = (float)all[k].bbox[0];
            b->y1 = (float)all[k].bbox[1];
            b->x2 = (float)(all[k].bbox[0] + all[k].bbox[2]);
            b->y2 = (float)(all[k].bbox[1] + all[k].bbox[3]);
            b->score = (float)all[k].score;
            b->label = c;
            b->view = all[k].support;
            b->support = 1;
        }
        if (tta_fuse_boxes(boxes, e - s, n_files, weights, &dc.fuse, &fused)) {
            fprintf(stderr, "tta: image %lld: %s\n", (long long)all[s].image_id, tta_last_error());
            goto done;
        }
        for (int k = 0; k < fused.n; k++) {
            const tta_box *b = &fused.box[k];
            outd[n_out++] = (tta_coco_det){all[s].image_id, cats[b->label], {b->x1, b->y1, b->x2 - b->x1, b->y2 - b->y1},
                                           b->score, b->support};
        }
        s = e;
    }
    if (tta_coco_results_write(out_path, outd, n_out)) {
        cli_fail();
        goto done;
    }
    char ftext[96];
    det_cli_fuse_text(&dc.fuse, ftext, sizeof ftext);
    printf("fused %d detections from %d file%s into %d (%s): %s\n", n_all, n_files, n_files == 1 ? "" : "s", n_out,
           ftext, out_path);
    rc = 0;
done:
    tta_boxes_destroy(&fused);
    free(all);
    free(outd);
    free(boxes);
    free(cats);
    free(weights);
    return rc;
}

int tta_cmd_detect(int argc, char **argv) {
    if (argc < 2) return usage(stderr, 2);
    const char *sub = argv[1];
    if (!strcmp(sub, "-h") || !strcmp(sub, "--help") || !strcmp(sub, "help")) return usage(stdout, 0);
    if (!strcmp(sub, "predict")) return cmd_predict(argc - 1, argv + 1);
    if (!strcmp(sub, "fuse")) return cmd_fuse(argc - 1, argv + 1);
    if (!strcmp(sub, "eval")) return tta_cmd_detect_eval(argc - 1, argv + 1);
    if (!strcmp(sub, "search")) return tta_cmd_detect_search(argc - 1, argv + 1);
    if (!strcmp(sub, "bench")) return tta_cmd_detect_bench(argc - 1, argv + 1);
    fprintf(stderr, "tta: detect: unknown subcommand '%s'\n", sub);
    return usage(stderr, 2);
}
