/* classifier.c - a classification model behind one interface, whether an ONNX model run by
 * our runtime or a caller's callback: the input format (from metadata_props or the input
 * shape), the output activation, plans cached per batch size, and the batching of views.
 *
 * The views of several images go through the model as one batch (image-major: item
 * i * n_views + v), split only where max_batch requires it. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/error.h"
#include "tta/classify.h"

#define PLAN_CACHE 16 /* batch sizes: full blocks, a last partial one, a server's padded sizes */
#define DEFAULT_MAX_BATCH 256

struct tta_classifier {
    const tta_model *model;
    tta_run_fn fn;
    void *user;
    tta_input_format fmt;
    tta_activation act;
    int k;
    int max_batch;
    int n_threads;
    struct {
        int batch;
        tta_plan *plan;
    } plans[PLAN_CACHE];
    int next_plan;
    tta_tensor input;      /* the batch buffer */
    tta_tensor cb_out;     /* callback output */
    tta_aug_plan *aug;     /* cached for (policy text, image size) */
    char *aug_key;
};

/* "1/255" or "0.0039" -> number; *ok = 0 when s is not one. Stops at a comma. */
static double parse_number(const char *s, int *ok) {
    char *end;
    double a = strtod(s, &end);
    if (end == s) *ok = 0;
    if (*end == '/') {
        const char *d = end + 1;
        double b = strtod(d, &end);
        if (end == d || b == 0) *ok = 0;
        else a /= b;
    }
    while (*end == ' ') end++;
    if (*end && *end != ',') *ok = 0;
    return a;
}

/* One number for every channel, or a comma-separated list (the last one repeats). */
static tta_status parse_channels(const char *s, float *out, const char *what) {
    int n = 0, ok = 1;
    while (s && *s && n < 4) {
        out[n++] = (float)parse_number(s, &ok);
        const char *c = strchr(s, ',');
        s = c ? c + 1 : NULL;
    }
    if (!ok || n == 0)
        return tta_errorf(TTA_ERR_INVALID_ARG, "%s: expected a number or a comma-separated list of numbers", what);
    for (int i = n; i < 4; i++) out[i] = out[n - 1];
    return TTA_OK;
}

tta_status tta_input_format_set(tta_input_format *f, const char *layout, const char *size, const char *scale,
                                const char *mean, const char *std) {
    if (layout) {
        if (!strcmp(layout, "NCHW")) f->batch.layout = TTA_LAYOUT_NCHW;
        else if (!strcmp(layout, "NHWC")) f->batch.layout = TTA_LAYOUT_NHWC;
        else return tta_errorf(TTA_ERR_INVALID_ARG, "layout: expected NCHW or NHWC, got '%s'", layout);
    }
    if (size && (sscanf(size, "%dx%d", &f->height, &f->width) != 2 || f->height <= 0 || f->width <= 0))
        return tta_errorf(TTA_ERR_INVALID_ARG, "input size: expected HxW such as 224x224, got '%s'", size);
    if (scale) {
        int ok = 1;
        double v = parse_number(scale, &ok);
        if (!ok || v <= 0)
            return tta_errorf(TTA_ERR_INVALID_ARG, "scale: expected a positive number such as 1/255, got '%s'", scale);
        f->batch.scale = (float)(255.0 * v); /* the scale applies to 0..255 pixels */
    }
    if (mean) TTA_TRY(parse_channels(mean, f->batch.mean, "mean"));
    if (std) {
        TTA_TRY(parse_channels(std, f->batch.std, "std"));
        for (int c = 0; c < 4; c++)
            if (f->batch.std[c] == 0) return tta_errorf(TTA_ERR_INVALID_ARG, "std: a standard deviation of 0");
    }
    return TTA_OK;
}

tta_status tta_input_format_from_model(const tta_model *m, tta_input_format *f) {
    if (!m || !f) return tta_errorf(TTA_ERR_INVALID_ARG, "tta_input_format_from_model: NULL argument");
    memset(f, 0, sizeof *f);
    if (tta_model_n_inputs(m) != 1)
        return tta_errorf(TTA_ERR_UNSUPPORTED, "an image model needs one input; this one has %d",
                          tta_model_n_inputs(m));
    tta_io_info in;
    TTA_TRY(tta_model_input(m, 0, &in));
    if (in.ndim != 4) return tta_errorf(TTA_ERR_UNSUPPORTED, "input '%s' has rank %d; an image model needs rank 4", in.name, in.ndim);
    const char *layout = tta_model_metadata(m, "tta.input_layout");
    int nhwc = layout ? !strcmp(layout, "NHWC") : (in.dims[1] < 0 || in.dims[1] > 4) && in.dims[3] >= 1 && in.dims[3] <= 4;
    f->batch.layout = nhwc ? TTA_LAYOUT_NHWC : TTA_LAYOUT_NCHW;
    f->batch.channels = (int)(nhwc ? in.dims[3] : in.dims[1]);
    f->height = (int)(nhwc ? in.dims[1] : in.dims[2]);
    f->width = (int)(nhwc ? in.dims[2] : in.dims[3]);
    if (f->height < 0) f->height = 0; /* symbolic: the images' own size */
    if (f->width < 0) f->width = 0;
    const char *ch = tta_model_metadata(m, "tta.channels");
    if (ch) f->batch.channels = atoi(ch);
    if (f->batch.channels <= 0) return tta_errorf(TTA_ERR_UNSUPPORTED, "input '%s': cannot tell the channel count", in.name);
    f->batch.dtype = in.dtype;
    if (in.dtype != TTA_DTYPE_FLOAT32 && in.dtype != TTA_DTYPE_UINT8)
        return tta_errorf(TTA_ERR_UNSUPPORTED, "input '%s' is %s; image inputs must be float32 or uint8", in.name,
                          tta_dtype_name(in.dtype));
    /* Batch values are (v * scale - mean) / std with v in [0, 1]. Without metadata: uint8 gets
     * the raw pixels, float32 gets [0, 1]. */
    f->batch.scale = in.dtype == TTA_DTYPE_UINT8 ? 255.0f : 1.0f;
    for (int c = 0; c < 4; c++) f->batch.std[c] = 1;
    const char *pre = tta_model_metadata(m, "tta.preprocess");
    int inside = pre && !strcmp(pre, "inside-graph"); /* then scale, mean and std only document the graph */
    tta_status st = tta_input_format_set(f, NULL, tta_model_metadata(m, "tta.input_size"),
                                         inside ? NULL : tta_model_metadata(m, "tta.scale"),
                                         inside ? NULL : tta_model_metadata(m, "tta.mean"),
                                         inside ? NULL : tta_model_metadata(m, "tta.std"));
    if (st) return tta_error_context(st, "metadata_props");
    return TTA_OK;
}

static tta_activation activation_from_model(const tta_model *m) {
    const char *o = tta_model_metadata(m, "tta.output");
    if (o && !strcmp(o, "softmax")) return TTA_ACT_SOFTMAX;
    if (o && !strcmp(o, "sigmoid")) return TTA_ACT_SIGMOID;
    if (o && (!strcmp(o, "logits") || !strcmp(o, "none"))) return TTA_ACT_LOGITS;
    const char *op = tta_model_output_producer(m, 0);
    if (!strcmp(op, "Softmax")) return TTA_ACT_SOFTMAX;
    if (!strcmp(op, "Sigmoid")) return TTA_ACT_SIGMOID;
    return TTA_ACT_LOGITS;
}

static tta_status classifier_alloc(tta_classifier **out, const tta_classifier_options *opts) {
    tta_classifier *c = tta_calloc(1, sizeof *c);
    if (!c) return tta_errorf(TTA_ERR_NOMEM, "out of memory");
    c->max_batch = opts && opts->max_batch > 0 ? opts->max_batch : DEFAULT_MAX_BATCH;
    c->n_threads = opts ? opts->n_threads : 0;
    *out = c;
    return TTA_OK;
}

tta_status tta_classifier_new(tta_classifier **out, const tta_model *model, const tta_classifier_options *opts) {
    if (!out || !model) return tta_errorf(TTA_ERR_INVALID_ARG, "tta_classifier_new: NULL argument");
    *out = NULL;
    tta_input_format f;
    if (opts && opts->format) f = *opts->format;
    else TTA_TRY(tta_input_format_from_model(model, &f));
    tta_classifier *c;
    TTA_TRY(classifier_alloc(&c, opts));
    c->model = model;
    c->fmt = f;
    c->act = opts && opts->activation ? opts->activation : activation_from_model(model);
    const char *k = tta_model_metadata(model, "tta.num_classes");
    if (k) c->k = atoi(k);
    *out = c;
    return TTA_OK;
}

tta_status tta_classifier_new_callback(tta_classifier **out, tta_run_fn fn, void *user, int k,
                                       const tta_input_format *format, const tta_classifier_options *opts) {
    if (!out || !fn || !format || k <= 0)
        return tta_errorf(TTA_ERR_INVALID_ARG, "tta_classifier_new_callback: need a function, a format and k > 0");
    *out = NULL;
    tta_classifier *c;
    TTA_TRY(classifier_alloc(&c, opts));
    c->fn = fn;
    c->user = user;
    c->k = k;
    c->fmt = *format;
    c->act = opts && opts->activation ? opts->activation : TTA_ACT_LOGITS;
    *out = c;
    return TTA_OK;
}

void tta_classifier_free(tta_classifier *c) {
    if (!c) return;
    for (int i = 0; i < PLAN_CACHE; i++) tta_plan_free(c->plans[i].plan);
    tta_tensor_destroy(&c->input);
    tta_tensor_destroy(&c->cb_out);
    tta_aug_plan_free(c->aug);
    tta_free(c->aug_key);
    tta_free(c);
}

int tta_classifier_n_classes(const tta_classifier *c) { return c->k; }
const tta_input_format *tta_classifier_format(const tta_classifier *c) { return &c->fmt; }
tta_activation tta_classifier_activation(const tta_classifier *c) { return c->act; }

/* Runs the model on c->input (batch b); returns a pointer to b x k float scores. */
static tta_status run_model(tta_classifier *c, int b, const float **scores) {
    const tta_tensor *out;
    if (c->fn) {
        TTA_TRY(c->fn(c->user, &c->input, &c->cb_out));
        out = &c->cb_out;
    } else {
        tta_plan *plan = NULL;
        for (int i = 0; i < PLAN_CACHE; i++)
            if (c->plans[i].plan && c->plans[i].batch == b) plan = c->plans[i].plan;
        if (!plan) {
            tta_plan_options po = {.n_threads = c->n_threads};
            TTA_TRY(tta_plan_new(c->model, &c->input, 1, &po, &plan));
            int slot = c->next_plan++ % PLAN_CACHE;
            tta_plan_free(c->plans[slot].plan);
            c->plans[slot].plan = plan;
            c->plans[slot].batch = b;
        }
        TTA_TRY(tta_plan_run(plan, &c->input, 1));
        out = tta_plan_output(plan, 0);
    }
    if (out->dtype != TTA_DTYPE_FLOAT32)
        return tta_errorf(TTA_ERR_UNSUPPORTED, "the model's output is %s; a classifier needs float32 scores",
                          tta_dtype_name(out->dtype));
    int64_t n = tta_tensor_numel(out);
    if (out->ndim < 1 || out->dims[0] != b || n % b)
        return tta_errorf(TTA_ERR_SHAPE, "the model's output does not have one row per image of the batch of %d", b);
    int k = (int)(n / b);
    if (c->k == 0) c->k = k;
    if (k != c->k)
        return tta_errorf(TTA_ERR_SHAPE, "the model gives %d scores per image, expected %d classes", k, c->k);
    *scores = out->data;
    return TTA_OK;
}

static tta_status ensure_aug_plan(tta_classifier *c, const tta_policy *pol, int h, int w) {
    size_t need = tta_policy_format(pol, NULL, 0) + 64;
    char *key = tta_malloc(need);
    if (!key) return tta_errorf(TTA_ERR_NOMEM, "out of memory");
    int n = snprintf(key, need, "%dx%d|", h, w);
    tta_policy_format(pol, key + n, need - (size_t)n);
    if (c->aug && c->aug_key && !strcmp(c->aug_key, key)) {
        tta_free(key);
        return TTA_OK;
    }
    tta_aug_plan_free(c->aug);
    tta_free(c->aug_key);
    c->aug = NULL;
    c->aug_key = NULL;
    int oh = c->fmt.height > 0 ? c->fmt.height : h, ow = c->fmt.width > 0 ? c->fmt.width : w;
    tta_status st = tta_aug_plan_new(&c->aug, pol, h, w, oh, ow);
    if (st) {
        tta_free(key);
        return st;
    }
    c->aug_key = key;
    return TTA_OK;
}

/* One block: images [i0, i1) x views [v0, v1) through the model. Image i's view v goes to row
 * i * n_views + (v - first) of view_probs (first: the first view of the range asked for). */
static tta_status run_block(tta_classifier *c, const tta_image *images, int i0, int i1, int v0, int v1, int first,
                            int n_views, float *view_probs, int *k_out) {
    int ni = i1 - i0, nv = v1 - v0, b = ni * nv;
    int oh, ow;
    tta_aug_plan_view_size(c->aug, v0, &oh, &ow);
    int64_t dims[4] = {b, c->fmt.batch.channels, oh, ow};
    if (c->fmt.batch.layout == TTA_LAYOUT_NHWC) {
        dims[1] = oh;
        dims[2] = ow;
        dims[3] = c->fmt.batch.channels;
    }
    TTA_TRY(tta_tensor_resize(&c->input, c->fmt.batch.dtype, 4, dims));
    TTA_TRY(tta_augment_batch(c->aug, images + i0, ni, v0, nv, &c->fmt.batch, c->input.data,
                              tta_tensor_nbytes(&c->input)));
    const float *scores = NULL;
    TTA_TRY(run_model(c, b, &scores));
    int k = c->k;
    if (k_out) *k_out = k;
    if (!view_probs) return TTA_OK;
    for (int i = 0; i < ni; i++)
        for (int v = 0; v < nv; v++) {
            float *dst = view_probs + ((size_t)(i0 + i) * n_views + (size_t)(v0 + v - first)) * k;
            memcpy(dst, scores + (size_t)(i * nv + v) * k, sizeof(float) * (size_t)k);
            TTA_TRY(tta_scores_to_probs(dst, k, c->act));
        }
    return TTA_OK;
}

/* Views [first, first + n_sel) of each of n images, rows i * n_sel + (v - first). */
static tta_status classify_range(tta_classifier *c, const tta_policy *pol, const tta_image *images, int n, int first,
                                 int n_sel, float *view_probs, int *k) {
    if (!view_probs) n = n > 0 ? 1 : 0; /* learning k: one image is enough */
    int start = 0;
    while (start < n) {
        /* a run of images of the same size shares one augmentation plan */
        int end = start + 1;
        while (end < n && images[end].height == images[start].height && images[end].width == images[start].width &&
               images[end].channels == images[start].channels)
            end++;
        TTA_TRY(ensure_aug_plan(c, pol, images[start].height, images[start].width));
        if (n_sel <= c->max_batch) {
            int per = c->max_batch / n_sel;
            for (int i = start; i < end; i += per) {
                int i1 = i + per < end ? i + per : end;
                TTA_TRY(run_block(c, images, i, i1, first, first + n_sel, first, n_sel, view_probs, k));
            }
        } else {
            for (int i = start; i < end; i++)
                for (int v = first; v < first + n_sel; v += c->max_batch) {
                    int v1 = v + c->max_batch < first + n_sel ? v + c->max_batch : first + n_sel;
                    TTA_TRY(run_block(c, images, i, i + 1, v, v1, first, n_sel, view_probs, k));
                }
        }
        start = end;
    }
    if (k) *k = c->k;
    return TTA_OK;
}

tta_status tta_classify_views(tta_classifier *c, const tta_policy *pol, const tta_image *images, int n,
                              float *view_probs, int *k) {
    if (!c || !pol || (!images && n > 0)) return tta_errorf(TTA_ERR_INVALID_ARG, "tta_classify_views: NULL argument");
    return classify_range(c, pol, images, n, 0, pol->n_views, view_probs, k);
}

tta_status tta_classify_view_range(tta_classifier *c, const tta_policy *pol, const tta_image *images, int n,
                                   int first_view, int n_sel, float *view_probs) {
    if (!c || !pol || !view_probs || (!images && n > 0) || n < 0)
        return tta_errorf(TTA_ERR_INVALID_ARG, "tta_classify_view_range: NULL argument or negative count");
    if (first_view < 0 || n_sel < 1 || first_view > pol->n_views - n_sel)
        return tta_errorf(TTA_ERR_INVALID_ARG, "tta_classify_view_range: views %d..%d of a policy of %d views",
                          first_view, first_view + n_sel - 1, pol->n_views);
    if (c->k == 0 && n > 0) TTA_TRY(classify_range(c, pol, images, 1, first_view, n_sel, NULL, NULL));
    return classify_range(c, pol, images, n, first_view, n_sel, view_probs, NULL);
}

tta_status tta_classify(tta_classifier *c, const tta_policy *pol, const tta_image *images, int n, tta_merge merge,
                        const double *weights, float *probs, float *view_probs) {
    if (!probs) return tta_errorf(TTA_ERR_INVALID_ARG, "tta_classify: probs is NULL");
    int k = c->k;
    if (k == 0) TTA_TRY(tta_classify_views(c, pol, images, n > 0 ? 1 : 0, NULL, &k));
    int nv = pol->n_views;
    float *vp = view_probs;
    if (!vp) {
        vp = tta_malloc(sizeof(float) * (size_t)n * (size_t)nv * (size_t)k);
        if (!vp) return tta_errorf(TTA_ERR_NOMEM, "out of memory");
    }
    tta_status st = tta_classify_views(c, pol, images, n, vp, &k);
    tta_merger m = {0};
    if (!st) st = tta_merger_init(&m, merge, k);
    for (int i = 0; !st && i < n; i++) {
        tta_merger_reset(&m);
        for (int v = 0; v < nv; v++) tta_merger_add(&m, vp + ((size_t)i * nv + v) * k, weights ? weights[v] : 1.0);
        st = tta_merger_result(&m, probs + (size_t)i * k);
    }
    tta_merger_destroy(&m);
    if (!view_probs) tta_free(vp);
    return st;
}
