/* cmd_segment_bench.c - `tta segment bench`: what segmentation TTA costs beside the model.
 *
 * A policy over an image/mask set, timed in parts (medians of --runs runs): making the views'
 * batches, the model, the post-processing (each view's probabilities and its de-augmented map,
 * over the threads as tta_segment_each_view does), merging the views (each image's merger: the
 * views' adds, then its labels and uncertainty maps, over the threads as seg_cli_run does) and
 * the metrics (confusion matrix and uncertainty histograms). De-augmenting and merging are
 * reported as a share of the model's time; the goal is at most 10% for a 4-pass policy. */
#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/commands.h"
#include "cli/segment_cli.h"
#include "segment/segment_internal.h"

#define MAX_RUNS 15
#define CHUNK 32

static int usage(FILE *f, int code) {
    fprintf(f,
            "usage: tta segment bench --model M --data masks:DIR [--policy P] [--runs N]\n\n"
            "Times segmentation TTA in parts on an image/mask set: the views' batches, the model,\n"
            "the post-processing (probabilities and de-augmenting each view's map), merging the\n"
            "views (adds, labels and uncertainty maps) and the metrics, with each as a share of the\n"
            "model's time (median of --runs runs, default 3; policy default\n"
            "\"hflip; vflip; shift(4, 4, constant)\", 4 passes).\n\n%s",
            seg_cli_help);
    return code;
}

/* The views of a chunk, merged as seg_cli_run merges them, the adds timed. */
typedef struct bench_ctx {
    seg_chunk chunk;
    double t_add;
} bench_ctx;

static tta_status bench_add(void *user, int image, int view, const float *probs, const uint8_t *valid, int C, int h,
                            int w) {
    bench_ctx *c = user;
    double t0 = cli_now();
    tta_status st = seg_chunk_add(&c->chunk, image, view, probs, valid, C, h, w);
    c->t_add += cli_now() - t0;
    return st;
}

int tta_cmd_segment_bench(int argc, char **argv) {
    seg_cli sc;
    seg_cli_init(&sc);
    const char *data_spec = NULL, *policy = "hflip; vflip; shift(4, 4, constant)";
    int runs = 3, merge_set = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        int more = i + 1 < argc;
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) return usage(stdout, 0);
        if (!strcmp(a, "--merge")) merge_set = 1;
        if (!strcmp(a, "--data") && more) data_spec = argv[++i];
        else if (!strcmp(a, "--policy") && more) policy = argv[++i];
        else if (!strcmp(a, "--runs") && more) runs = atoi(argv[++i]);
        else {
            int r = seg_cli_flag(argc, argv, &i, &sc);
            if (r < 0) return 2;
            if (r) continue;
            fprintf(stderr, "tta: segment bench: unknown or incomplete option '%s'\n", a);
            return usage(stderr, 2);
        }
    }
    if (!sc.model || !data_spec || runs < 1 || runs > MAX_RUNS) {
        fprintf(stderr, "tta: segment bench: --model and --data are required; --runs 1..%d\n", MAX_RUNS);
        return usage(stderr, 2);
    }
    int rc = 1, n = 0, C = 0, n_thr = 0;
    tta_model *model = NULL;
    tta_segmenter *seg = NULL;
    tta_mask_set *data = NULL;
    tta_policy pol = {0};
    tta_merge merge = sc.merge;
    tta_image *imgs = NULL, *masks = NULL;
    tta_seg_merger *m[CHUNK] = {0};
    float *ident[CHUNK] = {0};
    int hh[CHUNK] = {0}, ww[CHUNK] = {0};
    seg_image_out outs[CHUNK];
    memset(outs, 0, sizeof outs);
    seg_score *scores = NULL;
    if (seg_cli_open(&sc, &model, &seg)) goto done;
    if (cli_load_policy(policy, &pol) || seg_cli_policy_merge(policy, sc.merge, &merge)) goto done;
    if (merge_set) merge = sc.merge;
    if (pol.weights && merge == TTA_MERGE_MEAN) merge = TTA_MERGE_WEIGHTED;
    if (tta_mask_set_open(&data, data_spec)) {
        cli_fail();
        goto done;
    }
    n = tta_mask_set_count(data);
    if (n < 1) {
        fprintf(stderr, "tta: segment bench: %s holds no images\n", data_spec);
        goto done;
    }
    imgs = calloc((size_t)n, sizeof *imgs);
    masks = calloc((size_t)n, sizeof *masks);
    if (!imgs || !masks) {
        fprintf(stderr, "tta: segment bench: out of memory\n");
        goto done;
    }
    for (int i = 0; i < n; i++)
        if (tta_mask_set_read(data, i, &imgs[i], &masks[i])) {
            cli_fail();
            goto done;
        }
    double ta[MAX_RUNS], tm[MAX_RUNS], tp[MAX_RUNS], tg[MAX_RUNS], tq[MAX_RUNS];
    bench_ctx bc = {{m, ident, hh, ww, 0, merge, pol.weights}, 0};
    for (int r = -1; r < runs; r++) { /* run -1: warm-up (plans, buffers), not counted */
        double a0, m0, p0, a1, m1, p1, t_res = 0, t_met = 0;
        bc.t_add = 0;
        tta_segmenter_times(seg, &a0, &m0, &p0);
        for (int s0 = 0; s0 < n; s0 += CHUNK) {
            int cnt = n - s0 < CHUNK ? n - s0 : CHUNK;
            for (int a = 0; a < cnt;) { /* runs of one size through the segmenter */
                int b = a + 1;
                while (b < cnt && imgs[s0 + b].height == imgs[s0 + a].height && imgs[s0 + b].width == imgs[s0 + a].width &&
                       imgs[s0 + b].channels == imgs[s0 + a].channels)
                    b++;
                bc.chunk.m = m + a, bc.chunk.ident = ident + a, bc.chunk.h = hh + a, bc.chunk.w = ww + a;
                if (tta_segment_each_view(seg, &pol, imgs + s0 + a, b - a, bench_add, &bc)) {
                    cli_fail();
                    goto done;
                }
                a = b;
            }
            if (!scores) { /* the classes are known */
                C = bc.chunk.C;
                n_thr = omp_get_max_threads();
                n_thr = n_thr < 1 ? 1 : n_thr;
                scores = calloc((size_t)n_thr, sizeof *scores);
                if (!scores) goto done;
                for (int j = 0; j < n_thr; j++)
                    if (seg_score_init(&scores[j], C, sc.ignore, sc.boundary)) goto done;
            }
            /* each image's labels and maps, then its metrics, over the threads (as seg_cli_run) */
            int fail = 0;
            double r0 = cli_now();
#pragma omp parallel for num_threads(n_thr) schedule(dynamic, 1) if (n_thr > 1 && cnt > 1)
            for (int i = 0; i < cnt; i++)
                if (seg_image_merge(&outs[i], m[i], ident[i], C, hh[i], ww[i], masks[s0 + i].height, masks[s0 + i].width)) {
#pragma omp atomic write
                    fail = 1;
                }
            double r1 = cli_now();
#pragma omp parallel for num_threads(n_thr) schedule(dynamic, 1) if (n_thr > 1 && cnt > 1)
            for (int i = 0; i < cnt; i++)
                if (seg_score_image(&scores[omp_get_thread_num()], &outs[i], &masks[s0 + i], NULL,
                                    tta_mask_set_name(data, s0 + i))) {
#pragma omp atomic write
                    fail = 1;
                }
            t_res += r1 - r0;
            t_met += cli_now() - r1;
            if (fail) goto done;
        }
        tta_segmenter_times(seg, &a1, &m1, &p1);
        if (r >= 0) ta[r] = a1 - a0, tm[r] = m1 - m0, tp[r] = p1 - p0, tg[r] = bc.t_add + t_res, tq[r] = t_met;
    }
    double A = cli_median(ta, runs), M = cli_median(tm, runs), P = cli_median(tp, runs), G = cli_median(tg, runs), Q = cli_median(tq, runs);
    printf("segmentation TTA on %d images, %d passes (%s merge), %s, %d threads, median of %d runs\n", n, pol.n_views,
           tta_merge_name(merge), sc.model, n_thr, runs);
    printf("  %-44s %9.3f s\n", "views' batches (augment)", A);
    printf("  %-44s %9.3f s  %8.0f images/s\n", "model", M, n / M);
    printf("  %-44s %9.3f s  %7.2f%% of the model\n", "probabilities + de-augment", P, 100 * P / M);
    printf("  %-44s %9.3f s  %7.2f%% of the model\n", "merge the views (add + labels and maps)", G, 100 * G / M);
    printf("  %-44s %9.3f s  %7.2f%% of the model (goal: at most 10%%)\n", "de-augment + merge in all", P + G,
           100 * (P + G) / M);
    printf("  %-44s %9.3f s  %7.2f%% of the model\n", "metrics (confusion, uncertainty quality)", Q, 100 * Q / M);
    rc = 0;
done:
    for (int i = 0; i < CHUNK; i++) {
        tta_seg_merger_free(m[i]);
        free(ident[i]);
        seg_image_out_destroy(&outs[i]);
    }
    for (int j = 0; scores && j < n_thr; j++) seg_score_destroy(&scores[j]);
    free(scores);
    for (int i = 0; imgs && i < n; i++) tta_image_destroy(&imgs[i]);
    for (int i = 0; masks && i < n; i++) tta_image_destroy(&masks[i]);
    free(imgs);
    free(masks);
    tta_policy_destroy(&pol);
    tta_mask_set_free(data);
    tta_segmenter_free(seg);
    tta_model_free(model);
    return rc;
}
