/* task_classify.c - the classification task of the server: the views of every image of a
 * batch through the classifier together, merged per image.
 *
 * Adaptive TTA (as src/search/adaptive.c defines it): the identity view runs on every image
 * of the batch (one forward pass of n images), then the policy's other views only on the images
 * whose identity confidence (top probability) is below the threshold (one forward pass of
 * unsure x (views - 1) items). With no fixed threshold it is re-chosen after each batch from the
 * identity confidences of the last WINDOW images, for the target mean cost: traffic decides
 * what "unsure" means, as validation data does for `tta search`. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "serve/response.h"
#include "serve/task.h"
#include "tta/search.h"

#define WINDOW 1024

typedef struct cls_task {
    serve_task base;
    serve_task_config cfg;
    tta_classifier *c;
    tta_merge merge;
    const char *const *names;
    int k;
    int adaptive;
    double cost;      /* adaptive target mean passes per image */
    double fixed_thr; /* >= 0: fixed threshold */
    float window[WINDOW];
    int wn, wpos;
    /* scratch, grown as needed */
    size_t cap;
    float *vp, *id, *ex, *probs, *conf;
    int *passes, *order, *unsure;
    const tta_image **ptrs;
    tta_image *sorted, *uimgs;
} cls_task;

static int grow(cls_task *t, int n) {
    if ((size_t)n <= t->cap) return 0;
    size_t V = (size_t)t->base.n_views, k = (size_t)t->k, m = (size_t)n;
    free(t->vp), free(t->id), free(t->ex), free(t->probs), free(t->conf);
    free(t->passes), free(t->order), free(t->unsure), free(t->ptrs), free(t->sorted), free(t->uimgs);
    t->vp = malloc(sizeof(float) * m * V * k);
    t->id = malloc(sizeof(float) * m * k);
    t->ex = malloc(sizeof(float) * m * (V > 1 ? V - 1 : 1) * k);
    t->probs = malloc(sizeof(float) * m * k);
    t->conf = malloc(sizeof(float) * m);
    t->passes = malloc(sizeof(int) * m);
    t->order = malloc(sizeof(int) * m);
    t->unsure = malloc(sizeof(int) * m);
    t->ptrs = malloc(sizeof(*t->ptrs) * m);
    t->sorted = malloc(sizeof(tta_image) * m);
    t->uimgs = malloc(sizeof(tta_image) * m);
    if (!t->vp || !t->id || !t->ex || !t->probs || !t->conf || !t->passes || !t->order || !t->unsure ||
        !t->ptrs || !t->sorted || !t->uimgs) {
        t->cap = 0;
        return -1;
    }
    t->cap = m;
    return 0;
}

static double threshold_for_batch(cls_task *t, const float *conf, int n) {
    for (int i = 0; i < n; i++) {
        t->window[t->wpos] = conf[i];
        t->wpos = (t->wpos + 1) % WINDOW;
        if (t->wn < WINDOW) t->wn++;
    }
    if (t->fixed_thr >= 0) return t->fixed_thr;
    return tta_adaptive_threshold(t->window, t->wn, t->base.n_views, t->cost);
}

static tta_status cls_run(serve_task *base, serve_job **jobs, int n_jobs) {
    cls_task *t = (cls_task *)base;
    const tta_policy *pol = t->cfg.policy;
    int V = pol->n_views, k = t->k, n = 0;
    for (int j = 0; j < n_jobs; j++)
        n += jobs[j]->n_images;
    if (!k) { /* normally learnt before serving (cmd_serve.c runs the model once) */
        TTA_TRY(tta_classify_views(t->c, pol, jobs[0]->images, 1, NULL, &k));
        t->k = k;
        t->cap = 0;
    }
    if (grow(t, 2 * n)) return tta_errorf(TTA_ERR_NOMEM, "out of memory for a batch of %d images", n);
    for (int j = 0, f = 0; j < n_jobs; j++)
        for (int i = 0; i < jobs[j]->n_images; i++)
            t->ptrs[f++] = &jobs[j]->images[i];
    serve_order_by_size(t->ptrs, n, t->order);
    for (int s = 0; s < n; s++)
        t->sorted[s] = *t->ptrs[t->order[s]]; /* borrowed copies */
    int np = serve_pad_batch(t->sorted, n, t->cfg.max_batch);

    /* every view's probabilities into vp[(s * V + v) * k], s in sorted order */
    int adaptive = t->adaptive;
    if (!adaptive) {
        TTA_TRY(tta_classify_view_range(t->c, pol, t->sorted, np, 0, V, t->vp));
        for (int s = 0; s < n; s++)
            t->passes[s] = V;
    } else {
        TTA_TRY(tta_classify_view_range(t->c, pol, t->sorted, np, 0, 1, t->id));
        for (int s = 0; s < n; s++) {
            const float *p = t->id + (size_t)s * k;
            t->conf[s] = p[tta_argmax(p, k)];
        }
        double thr = threshold_for_batch(t, t->conf, n);
        if (t->cfg.metrics) serve_metrics_threshold(t->cfg.metrics, thr);
        int nu = 0;
        for (int s = 0; s < n; s++) {
            int extra = t->conf[s] < thr;
            if (extra) t->uimgs[nu] = t->sorted[s], t->unsure[nu++] = s;
            t->passes[s] = extra ? V : 1;
            memcpy(t->vp + (size_t)s * V * k, t->id + (size_t)s * k, sizeof(float) * (size_t)k);
        }
        if (nu)
            TTA_TRY(tta_classify_view_range(
                t->c, pol, t->uimgs, serve_pad_batch(t->uimgs, nu, t->cfg.max_batch), 1, V - 1, t->ex));
        for (int u = 0; u < nu; u++)
            memcpy(t->vp + ((size_t)t->unsure[u] * V + 1) * k, t->ex + (size_t)u * (V - 1) * k,
                   sizeof(float) * (size_t)(V - 1) * k);
    }

    /* merge as `tta predict` does: a policy with weights merges by weighted mean */
    tta_merge used = pol->weights && t->merge == TTA_MERGE_MEAN ? TTA_MERGE_WEIGHTED : t->merge;
    tta_merger mg = {0};
    TTA_TRY(tta_merger_init(&mg, used, k));
    tta_status st = TTA_OK;
    for (int s = 0; s < n && !st; s++) {
        tta_merger_reset(&mg);
        const float *vs = t->vp + (size_t)s * V * k;
        for (int v = 0; v < t->passes[s]; v++)
            tta_merger_add(&mg, vs + (size_t)v * k, pol->weights && t->passes[s] > 1 ? pol->weights[v] : 1.0);
        st = tta_merger_result(&mg, t->probs + (size_t)s * k);
    }
    tta_merger_destroy(&mg);
    if (st) return st;

    /* one body per job, its images in request order */
    int *pos = t->unsure; /* reused: flat index -> sorted position */
    for (int s = 0; s < n; s++)
        pos[t->order[s]] = s;
    for (int j = 0, f = 0; j < n_jobs; j++) {
        serve_job *job = jobs[j];
        serve_buf b = {0};
        serve_json_begin(&b, t->cfg.model_name, "classify");
        job->passes = 0;
        for (int i = 0; i < job->n_images; i++, f++) {
            int s = pos[f];
            const float *p = t->probs + (size_t)s * k, *vs = t->vp + (size_t)s * V * k;
            int best = tta_argmax(p, k), agree = 0;
            for (int v = 0; v < t->passes[s]; v++)
                agree += tta_argmax(vs + (size_t)v * k, k) == best;
            double entropy = 0;
            for (int c = 0; c < k; c++)
                if (p[c] > 0) entropy -= p[c] * log(p[c]);
            serve_class_result r = {.k = k,
                                    .probs = p,
                                    .names = t->names,
                                    .top = job->params.top,
                                    .entropy = entropy,
                                    .agree = agree,
                                    .n_views = t->passes[s],
                                    .confidence = adaptive ? t->conf[s] : -1};
            if (i) serve_json_next(&b);
            serve_json_classify(&b, &r);
            job->passes += t->passes[s];
        }
        serve_json_end(&b);
        serve_job_finish(job, &b);
    }
    return TTA_OK;
}

static void cls_free(serve_task *base) {
    cls_task *t = (cls_task *)base;
    if (!t) return;
    free(t->vp), free(t->id), free(t->ex), free(t->probs), free(t->conf);
    free(t->passes), free(t->order), free(t->unsure), free(t->ptrs), free(t->sorted), free(t->uimgs);
    free(t);
}

serve_task *serve_task_classify_new(const serve_task_config *cfg, tta_classifier *c, tta_merge merge,
                                    const char *const *names, double adaptive_cost, double threshold) {
    cls_task *t = calloc(1, sizeof *t);
    if (!t) return NULL;
    t->base =
        (serve_task){.name = "classify", .n_views = cfg->policy->n_views, .run = cls_run, .free = cls_free};
    t->cfg = *cfg;
    t->c = c;
    t->merge = merge;
    t->names = names;
    t->k = tta_classifier_n_classes(c);
    t->cost = adaptive_cost;
    t->fixed_thr = threshold;
    t->adaptive = (adaptive_cost > 1 || threshold >= 0) && t->base.n_views > 1;
    if (cfg->metrics && t->adaptive) {
        cfg->metrics->adaptive = 1;
        cfg->metrics->target_cost = threshold >= 0 ? 0 : adaptive_cost;
    }
    return &t->base;
}
