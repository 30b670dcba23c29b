/* cmd_detect_bench.c - `tta detect bench`: what detection TTA costs beside the model.
 *
 * 1. A policy over a COCO data set, timed in parts (medians of --runs runs): making the views'
 *    batches, the model, decoding + each view's NMS + de-augmenting, and fusing the views (over
 *    the threads, as tta_detect does); the
 *    post-processing is reported as a share of the model's time.
 * 2. Fusion alone on synthetic images of V views x B boxes (30 objects seen by every view with
 *    jitter, plus clutter, 10 classes): time per call and per box for each rule as V grows, to
 *    show the cost grows with the boxes, not with their square. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/commands.h"
#include "cli/detect_cli.h"
#include "core/stats_util.h"

#define MAX_RUNS 15

static int usage(FILE *f, int code) {
    fprintf(f,
            "usage: tta detect bench --model M --data coco:DIR [--policy P] [--runs N] [--boxes B]\n\n"
            "Times detection TTA in parts on a COCO data set: the views' batches, the model, the\n"
            "post-processing (decoding, each view's NMS, de-augmenting the boxes) and the fusion of\n"
            "the views, with the post-processing as a share of the model's time (median of --runs\n"
            "runs, default 3; policy default \"hflip; resize(125%%); shift(-4, -4, constant)\",\n"
            "4 passes). Then fusion alone on synthetic images of 10 to 100 views x B boxes per\n"
            "view (default 300) for each merge rule (--boxes 0 leaves this part out).\n\n%s",
            det_cli_help);
    return code;
}

static double rng_unit(uint64_t *s) { return (double)(tta_splitmix64(s) >> 11) * (1.0 / 9007199254740992.0); }

/* One synthetic image: n_views x per_view boxes on a 640 x 640 frame. */
static void synthetic(tta_box *b, int n_views, int per_view, uint64_t seed) {
    uint64_t s = seed;
    double obj[30][5];
    for (int k = 0; k < 30; k++) {
        double w = 20 + 100 * rng_unit(&s), h = 20 + 100 * rng_unit(&s);
        obj[k][0] = rng_unit(&s) * (640 - w), obj[k][1] = rng_unit(&s) * (640 - h);
        obj[k][2] = w, obj[k][3] = h, obj[k][4] = (double)(tta_splitmix64(&s) % 10);
    }
    for (int v = 0; v < n_views; v++)
        for (int i = 0; i < per_view; i++) {
            tta_box *x = &b[v * per_view + i];
            if (i < 30) { /* the object, jittered */
                double j = 0.05 * obj[i][2];
                x->x1 = (float)(obj[i][0] + j * (rng_unit(&s) - 0.5));
                x->y1 = (float)(obj[i][1] + j * (rng_unit(&s) - 0.5));
                x->x2 = (float)(x->x1 + obj[i][2] * (0.95 + 0.1 * rng_unit(&s)));
                x->y2 = (float)(x->y1 + obj[i][3] * (0.95 + 0.1 * rng_unit(&s)));
                x->score = (float)(0.5 + 0.5 * rng_unit(&s));
                x->label = (int)obj[i][4];
            } else { /* clutter */
                double w = 5 + 60 * rng_unit(&s), h = 5 + 60 * rng_unit(&s);
                x->x1 = (float)(rng_unit(&s) * (640 - w));
                x->y1 = (float)(rng_unit(&s) * (640 - h));
                x->x2 = (float)(x->x1 + w);
                x->y2 = (float)(x->y1 + h);
                x->score = (float)(0.001 + 0.3 * rng_unit(&s));
                x->label = (int)(tta_splitmix64(&s) % 10);
            }
            x->view = v;
            x->support = 1;
        }
}

int tta_cmd_detect_bench(int argc, char **argv) {
    det_cli dc;
    det_cli_init(&dc);
    const char *data_spec = NULL, *policy = "hflip; resize(125%); shift(-4, -4, constant)";
    int runs = 3, per_view = 300;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        int more = i + 1 < argc;
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) return usage(stdout, 0);
        if (!strcmp(a, "--data") && more) data_spec = argv[++i];
        else if (!strcmp(a, "--policy") && more) policy = argv[++i];
        else if (!strcmp(a, "--runs") && more) runs = atoi(argv[++i]);
        else if (!strcmp(a, "--boxes") && more) per_view = atoi(argv[++i]);
        else {
            int r = det_cli_flag(argc, argv, &i, &dc);
            if (r < 0) return 2;
            if (r) continue;
            fprintf(stderr, "tta: detect bench: unknown or incomplete option '%s'\n", a);
            return usage(stderr, 2);
        }
    }
    if (!dc.model || !data_spec || runs < 1 || runs > MAX_RUNS || per_view < 0 || per_view > 10000) {
        fprintf(stderr, "tta: detect bench: --model and --data are required; --runs 1..%d, --boxes 0..10000\n", MAX_RUNS);
        return usage(stderr, 2);
    }
    int rc = 1, n = 0;
    tta_model *m = NULL;
    tta_detector *det = NULL;
    tta_coco data = {0};
    tta_policy pol = {0};
    tta_fuse_options fuse;
    tta_image *imgs = NULL;
    tta_boxes *vb = NULL, *fused = NULL, out = {0};
    int *all_views = NULL;
    tta_box *syn = NULL;
    if (det_cli_open(&dc, &m, &det) || det_cli_load_policy(policy, &pol, &dc, &fuse)) goto done;
    if (tta_coco_open(&data, data_spec)) {
        cli_fail();
        goto done;
    }
    n = data.n_images;
    imgs = calloc((size_t)n, sizeof *imgs);
    vb = calloc((size_t)n, sizeof *vb);
    fused = calloc((size_t)n, sizeof *fused);
    all_views = malloc(sizeof *all_views * (size_t)pol.n_views);
    for (int v = 0; v < pol.n_views; v++) all_views[v] = v;
    for (int i = 0; i < n; i++)
        if (tta_coco_read_image(&data, i, &imgs[i])) {
            cli_fail();
            goto done;
        }
    /* warm-up: plans for every view size */
    if (tta_detect_views(det, &pol, imgs, n < 64 ? n : 64, vb)) {
        cli_fail();
        goto done;
    }
    double ta[MAX_RUNS], tm[MAX_RUNS], tp[MAX_RUNS], tf[MAX_RUNS];
    long boxes_in = 0, boxes_out = 0;
    for (int r = 0; r < runs; r++) {
        double a0, m0, p0, a1, m1, p1;
        tta_detector_times(det, &a0, &m0, &p0);
        for (int s = 0; s < n; s += 256)
            if (tta_detect_views(det, &pol, imgs + s, n - s < 256 ? n - s : 256, vb + s)) {
                cli_fail();
                goto done;
            }
        tta_detector_times(det, &a1, &m1, &p1);
        double f0 = cli_now();
        tta_det_table tab = {n, pol.n_views, vb};
        if (tta_det_table_fuse(&tab, all_views, pol.weights, pol.n_views, &fuse, fused)) { /* as tta_detect */
            cli_fail();
            goto done;
        }
        boxes_in = boxes_out = 0;
        for (int i = 0; i < n; i++) boxes_in += vb[i].n, boxes_out += fused[i].n;
        ta[r] = a1 - a0, tm[r] = m1 - m0, tp[r] = p1 - p0, tf[r] = cli_now() - f0;
    }
    double A = cli_median(ta, runs), M = cli_median(tm, runs), P = cli_median(tp, runs), F = cli_median(tf, runs);
    char ftext[96];
    det_cli_fuse_text(&fuse, ftext, sizeof ftext);
    printf("detection TTA on %d images, %d views (%s), %s, median of %d runs\n", n, pol.n_views, ftext, dc.model, runs);
    printf("  %-44s %9.3f s\n", "views' batches (augment)", A);
    printf("  %-44s %9.3f s  %8.0f images/s\n", "model", M, n / M);
    printf("  %-44s %9.3f s  %7.2f%% of the model\n", "decode + per-view NMS + de-augment", P, 100 * P / M);
    printf("  %-44s %9.3f s  %7.2f%% of the model\n", "fuse the views", F, 100 * F / M);
    printf("  %-44s %9.3f s  %7.2f%% of the model (goal: at most 5%%)\n", "post-processing in all", P + F,
           100 * (P + F) / M);
    printf("  boxes: %.1f per image from the views, %.1f after fusing\n\n", (double)boxes_in / n, (double)boxes_out / n);

    /* fusion alone, synthetic images (--boxes 0: not at all) */
    if (per_view == 0) {
        rc = 0;
        goto done;
    }
    printf("fusion alone: %d boxes per view, 10 classes, 640 x 640, 30 objects; time per image (median of 5)\n",
           per_view);
    printf("  %-8s", "views");
    static const char *rules[] = {"nms", "soft-nms", "nmw", "wbf"};
    for (int k = 0; k < 4; k++) printf(" %14s", rules[k]);
    printf("   (us per box)\n");
    static const int views[] = {10, 25, 50, 100};
    syn = malloc(sizeof *syn * (size_t)100 * (size_t)per_view);
    if (!syn) {
        fprintf(stderr, "tta: detect bench: out of memory for %d synthetic boxes per view\n", per_view);
        goto done;
    }
    for (int vi = 0; vi < 4; vi++) {
        int V = views[vi], nb = V * per_view;
        synthetic(syn, V, per_view, 42 + (uint64_t)V);
        printf("  %-8d", V);
        for (int k = 0; k < 4; k++) {
            tta_fuse_options fo;
            tta_fuse_method meth;
            tta_soft_nms_kind kind;
            tta_fuse_method_parse(rules[k], &meth, &kind);
            tta_fuse_options_default(&fo, meth);
            fo.soft_kind = kind;
            double t[5];
            for (int r = 0; r < 5; r++) {
                double t0 = cli_now();
                if (tta_fuse_boxes(syn, nb, V, NULL, &fo, &out)) {
                    cli_fail();
                    goto done;
                }
                t[r] = cli_now() - t0;
            }
            double med = cli_median(t, 5);
            printf(" %7.2f ms %5.2f", med * 1e3, med * 1e6 / nb);
        }
        printf("\n");
    }
    rc = 0;
done:
    free(syn);
    tta_boxes_destroy(&out);
    for (int i = 0; vb && i < n; i++) tta_boxes_destroy(&vb[i]);
    for (int i = 0; fused && i < n; i++) tta_boxes_destroy(&fused[i]);
    free(vb);
    free(fused);
    free(all_views);
    for (int i = 0; imgs && i < n; i++) tta_image_destroy(&imgs[i]);
    free(imgs);
    tta_policy_destroy(&pol);
    tta_coco_destroy(&data);
    tta_detector_free(det);
    tta_model_free(m);
    return rc;
}
