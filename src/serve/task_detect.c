/* task_detect.c - the detection task of the server: the views of every image of a batch
 * through the detector together (tta_detect batches views of one size across images), each
 * view's boxes mapped back and fused per image, answered with the boxes above the request's
 * min_score and each box's support (the views that found it). */
#include <stdlib.h>

#include "core/error.h"
#include "serve/response.h"
#include "serve/task.h"

typedef struct det_task {
    serve_task base;
    serve_task_config cfg;
    tta_detector *d;
    tta_fuse_options fuse;
    const char **names;
    int n_names;
} det_task;

static tta_status det_run(serve_task *base, serve_job **jobs, int n_jobs) {
    det_task *t = (det_task *)base;
    int n = 0;
    for (int j = 0; j < n_jobs; j++)
        n += jobs[j]->n_images;
    int np = n; /* padded */
    const tta_image **ptrs = malloc(sizeof *ptrs * (size_t)n);
    int *order = malloc(sizeof(int) * (size_t)n), *pos = malloc(sizeof(int) * (size_t)n);
    tta_image *sorted = malloc(sizeof(tta_image) * (size_t)n * 2);
    tta_boxes *out = calloc((size_t)n * 2, sizeof(tta_boxes));
    tta_status st = ptrs && order && pos && sorted && out
                        ? TTA_OK
                        : tta_errorf(TTA_ERR_NOMEM, "out of memory for a batch of %d images", n);
    if (!st) {
        for (int j = 0, f = 0; j < n_jobs; j++)
            for (int i = 0; i < jobs[j]->n_images; i++)
                ptrs[f++] = &jobs[j]->images[i];
        serve_order_by_size(ptrs, n, order);
        for (int s = 0; s < n; s++)
            sorted[s] = *ptrs[order[s]], pos[order[s]] = s;
        np = serve_pad_batch(sorted, n, t->cfg.max_batch);
        st = tta_detect(t->d, t->cfg.policy, sorted, np, &t->fuse, out);
    }
    for (int j = 0, f = 0; !st && j < n_jobs; j++) {
        serve_job *job = jobs[j];
        serve_buf b = {0};
        serve_json_begin(&b, t->cfg.model_name, "detect");
        for (int i = 0; i < job->n_images; i++, f++) {
            const tta_boxes *bx = &out[pos[f]];
            if (i) serve_json_next(&b);
            serve_json_detect(&b, bx->box, bx->n, t->names, t->n_names, job->images[i].width,
                              job->images[i].height, job->params.min_score, t->base.n_views);
        }
        serve_json_end(&b);
        job->passes = job->n_images * t->base.n_views;
        serve_job_finish(job, &b);
    }
    if (out) tta_boxes_free_array(out, np);
    free(ptrs), free(order), free(pos), free(sorted);
    return st;
}

static void det_free(serve_task *base) {
    det_task *t = (det_task *)base;
    if (!t) return;
    free(t->names);
    free(t);
}

serve_task *serve_task_detect_new(const serve_task_config *cfg, tta_detector *d,
                                  const tta_fuse_options *fuse) {
    det_task *t = calloc(1, sizeof *t);
    if (!t) return NULL;
    t->base =
        (serve_task){.name = "detect", .n_views = cfg->policy->n_views, .run = det_run, .free = det_free};
    t->cfg = *cfg;
    t->d = d;
    t->fuse = *fuse;
    t->n_names = tta_detector_n_classes(d);
    t->names = calloc((size_t)(t->n_names > 0 ? t->n_names : 1), sizeof(char *));
    if (!t->names) {
        free(t);
        return NULL;
    }
    for (int c = 0; c < t->n_names; c++)
        t->names[c] = tta_detector_class_name(d, c);
    return &t->base;
}
