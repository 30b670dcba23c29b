/* task_segment.c - the segmentation task of the server: the views of every image of a batch
 * through the segmenter together (tta_segment_each_view shares batches across images of one
 * size; a batch's images are grouped by size), each view's map mapped back and merged per pixel
 * as a stream (one tta_seg_merger per image). Answered with the label mask as a PNG in base64,
 * the mean predictive entropy and the mean disagreement between views over the pixels (the
 * image's uncertainty score), class pixel counts and, on request, the entropy map as a PNG.
 * An output at a stride is merged at its resolution and upsampled, as tta_segment does. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "segment/segment_internal.h"
#include "serve/base64.h"
#include "serve/response.h"
#include "serve/task.h"

typedef struct seg_task {
    serve_task base;
    serve_task_config cfg;
    tta_segmenter *s;
    tta_merge merge;
    const char **names;
    int n_names;
} seg_task;

typedef struct seg_group {
    const tta_policy *pol;
    tta_merge merge;
    tta_seg_merger **m; /* per image of the group */
    int *h, *w, C;
} seg_group;

static tta_status group_add(void *user, int image, int view, const float *probs, const uint8_t *valid, int C,
                            int h, int w) {
    seg_group *g = user;
    if (!g->m[image]) {
        TTA_TRY(tta_seg_merger_new(&g->m[image], g->merge, C, h, w));
        g->h[image] = h, g->w[image] = w, g->C = C;
    }
    double wt = g->pol->weights ? g->pol->weights[view] : 1.0;
    return wt > 0 ? tta_seg_merger_add(g->m[image], probs, valid, wt)
                  : TTA_OK; /* "@ 0": the view does not count */
}

/* base64 of a one-channel 8-bit image as PNG (malloc'd), or NULL. */
static char *png_b64(const uint8_t *pixels, int h, int w) {
    tta_image img = {0};
    void *png = NULL;
    size_t size = 0;
    if (tta_image_wrap(&img, h, w, 1, TTA_DTYPE_UINT8, (void *)pixels) ||
        tta_image_encode_png(&img, &png, &size))
        return NULL;
    char *b64 = malloc(serve_base64_encoded_len(size) + 1);
    if (b64) serve_base64_encode(png, size, b64);
    tta_free(png);
    return b64;
}

/* The result of image `img` (H x W) from its merger (C x h x w) into b. */
static tta_status image_result(seg_task *t, const tta_seg_merger *m, int C, int h, int w,
                               const tta_image *img, const serve_params *params, serve_buf *b) {
    int H = img->height, W = img->width;
    size_t plane = (size_t)H * W, low = (size_t)h * w;
    if (C > 256) return tta_errorf(TTA_ERR_UNSUPPORTED, "%d classes: a PNG label mask holds at most 256", C);
    uint8_t *labels = malloc(plane), *unc8 = NULL;
    float *ent = malloc(sizeof(float) * plane), *dis = malloc(sizeof(float) * plane);
    float *lp = NULL, *le = NULL, *ld = NULL;
    int64_t *counts = calloc((size_t)C, sizeof(int64_t));
    char *mask = NULL, *unc = NULL;
    tta_status st = labels && ent && dis && counts
                        ? TTA_OK
                        : tta_errorf(TTA_ERR_NOMEM, "out of memory for a %d x %d result", H, W);
    if (!st && low == plane) {
        float *maps[TTA_UNC_COUNT] = {[TTA_UNC_ENTROPY] = ent, [TTA_UNC_DISAGREEMENT] = dis};
        st = tta_seg_merger_result(m, NULL, labels, maps);
    } else if (!st) { /* merged at the output's resolution, then upsampled */
        lp = malloc(sizeof(float) * (size_t)C * low);
        le = malloc(sizeof(float) * low);
        ld = malloc(sizeof(float) * low);
        float *up = malloc(sizeof(float) * (size_t)C * plane);
        float *maps[TTA_UNC_COUNT] = {[TTA_UNC_ENTROPY] = le, [TTA_UNC_DISAGREEMENT] = ld};
        st = lp && le && ld && up ? tta_seg_merger_result(m, lp, NULL, maps)
                                  : tta_errorf(TTA_ERR_NOMEM, "out of memory for a %d x %d result", H, W);
        if (!st) {
            tta_seg_upsample(lp, C, h, w, up, H, W);
            tta_seg_upsample(le, 1, h, w, ent, H, W);
            tta_seg_upsample(ld, 1, h, w, dis, H, W);
            for (size_t p = 0; p < plane; p++) {
                int best = 0;
                for (int c = 1; c < C; c++)
                    if (up[c * plane + p] > up[best * plane + p]) best = c;
                labels[p] = (uint8_t)best;
            }
        }
        free(up);
    }
    double se = 0, sd = 0;
    for (size_t p = 0; !st && p < plane; p++) {
        se += ent[p];
        sd += dis[p];
        counts[labels[p]]++;
    }
    if (!st && !(mask = png_b64(labels, H, W)))
        st = tta_errorf(TTA_ERR_NOMEM, "out of memory encoding the mask");
    if (!st && params->maps) { /* entropy scaled by its maximum, log C */
        double scale = C > 1 ? 255.0 / log((double)C) : 0;
        if ((unc8 = malloc(plane))) {
            for (size_t p = 0; p < plane; p++) {
                double v = ent[p] * scale;
                unc8[p] = (uint8_t)(v >= 255 ? 255 : v > 0 ? v + 0.5 : 0);
            }
            unc = png_b64(unc8, H, W);
        }
        if (!unc) st = tta_errorf(TTA_ERR_NOMEM, "out of memory encoding the uncertainty map");
    }
    if (!st) {
        serve_seg_result r = {.width = W,
                              .height = H,
                              .classes = C,
                              .passes = t->base.n_views,
                              .names = C <= t->n_names ? t->names : NULL,
                              .class_pixels = counts,
                              .uncertainty = se / (double)plane,
                              .disagreement = sd / (double)plane,
                              .mask_png = mask,
                              .uncertainty_png = unc};
        serve_json_segment(b, &r);
    }
    free(labels), free(unc8), free(ent), free(dis), free(lp), free(le), free(ld), free(counts), free(mask),
        free(unc);
    return st;
}

static tta_status seg_run(serve_task *base, serve_job **jobs, int n_jobs) {
    seg_task *t = (seg_task *)base;
    int n = 0;
    for (int j = 0; j < n_jobs; j++)
        n += jobs[j]->n_images;
    const tta_image **ptrs = malloc(sizeof *ptrs * (size_t)n);
    const serve_params **par = malloc(sizeof *par * (size_t)n);
    int *order = malloc(sizeof(int) * (size_t)n), *h = calloc((size_t)n, sizeof(int)),
        *w = calloc((size_t)n, sizeof(int));
    tta_image *sorted = malloc(sizeof(tta_image) * (size_t)n);
    tta_seg_merger **m = calloc((size_t)n, sizeof *m);
    serve_buf *res = calloc((size_t)n, sizeof(serve_buf)); /* each image's result, flat order */
    tta_status st = ptrs && par && order && h && w && sorted && m && res
                        ? TTA_OK
                        : tta_errorf(TTA_ERR_NOMEM, "out of memory for a batch of %d images", n);
    if (!st) {
        for (int j = 0, f = 0; j < n_jobs; j++)
            for (int i = 0; i < jobs[j]->n_images; i++)
                par[f] = &jobs[j]->params, ptrs[f++] = &jobs[j]->images[i];
        serve_order_by_size(ptrs, n, order);
        for (int s = 0; s < n; s++)
            sorted[s] = *ptrs[order[s]];
    }
    tta_merge used = t->cfg.policy->weights && t->merge == TTA_MERGE_MEAN ? TTA_MERGE_WEIGHTED : t->merge;
    for (int s0 = 0; !st && s0 < n;) { /* a run of one size: one call, views of its images batched */
        int s1 = s0 + 1;
        while (s1 < n && sorted[s1].height == sorted[s0].height && sorted[s1].width == sorted[s0].width &&
               sorted[s1].channels == sorted[s0].channels)
            s1++;
        seg_group g = {.pol = t->cfg.policy, .merge = used, .m = m + s0, .h = h + s0, .w = w + s0};
        st = tta_segment_each_view(t->s, t->cfg.policy, sorted + s0, s1 - s0, group_add, &g);
        for (int s = s0; !st && s < s1; s++) {
            if (!m[s]) {
                st = tta_errorf(TTA_ERR_INTERNAL, "the segmenter gave no view for image %d of the batch", s);
                break;
            }
            st = image_result(t, m[s], g.C, h[s], w[s], &sorted[s], par[order[s]], &res[order[s]]);
            tta_seg_merger_free(m[s]); /* one image's maps at a time */
            m[s] = NULL;
        }
        s0 = s1;
    }
    for (int j = 0, f = 0; !st && j < n_jobs; j++) {
        serve_job *job = jobs[j];
        serve_buf b = {0};
        serve_json_begin(&b, t->cfg.model_name, "segment");
        for (int i = 0; i < job->n_images; i++, f++) {
            if (i) serve_json_next(&b);
            serve_buf_put(&b, res[f].data ? res[f].data : "null", res[f].data ? res[f].len : 4);
        }
        serve_json_end(&b);
        job->passes = job->n_images * t->base.n_views;
        serve_job_finish(job, &b);
    }
    for (int s = 0; m && s < n; s++)
        tta_seg_merger_free(m[s]);
    for (int f = 0; res && f < n; f++)
        serve_buf_free(&res[f]);
    free(ptrs), free(par), free(order), free(h), free(w), free(sorted), free(m), free(res);
    return st;
}

static void seg_free(serve_task *base) {
    seg_task *t = (seg_task *)base;
    if (!t) return;
    free(t->names);
    free(t);
}

serve_task *serve_task_segment_new(const serve_task_config *cfg, tta_segmenter *s, tta_merge merge) {
    seg_task *t = calloc(1, sizeof *t);
    if (!t) return NULL;
    t->base =
        (serve_task){.name = "segment", .n_views = cfg->policy->n_views, .run = seg_run, .free = seg_free};
    t->cfg = *cfg;
    t->s = s;
    t->merge = merge;
    t->n_names = tta_segmenter_n_classes(s);
    t->names = calloc((size_t)(t->n_names > 0 ? t->n_names : 1), sizeof(char *));
    if (!t->names) {
        free(t);
        return NULL;
    }
    for (int c = 0; c < t->n_names; c++)
        t->names[c] = tta_segmenter_class_name(s, c);
    return &t->base;
}
