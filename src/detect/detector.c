/* detector.c - a detection model behind one interface: its input format and output layout
 * (from metadata_props, flags or the output shapes), the geometry that fits each image and each
 * view to the model, batching the views through it, decoding, and de-augmenting every view's
 * boxes back to the image.
 *
 * Geometry, in two stages, each an augment.h plan so that boxes go back through exact inverses:
 *   1. the *base* frame: a fixed-size model sees the image letterboxed to its input size (pad
 *      value 114 on 0..255 by default); a model with dynamic H and W sees it at its own size, or
 *      letterboxed to img_size, with sides rounded to the model's stride (a resize) when they are
 *      not multiples of it;
 *   2. the policy's views of the base image. A view whose size differs from the base (resize,
 *      crop, transpose) is followed by letterbox to the model's size (fixed models) or runs at
 *      its own size rounded to the stride (dynamic models: real multi-scale passes).
 * Views are reordered so that views of one size are neighbours and go through the model in one
 * batch; plans are cached per batch shape. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <omp.h>

#include "core/alloc.h"
#include "core/error.h"
#include "detect/view_nms.h"
#include "tta/detect.h"
#include "engine/engine.h"

#define DEFAULT_MAX_BATCH 64
#define DEFAULT_TOP_K 1000
#define DEFAULT_VIEW_NMS 0.6f
#define DEFAULT_VIEW_MAX_DET 100
#define DEFAULT_PAD 114.0f
#define DEFAULT_SCORE_THR 0.001f
#define DEFAULT_STRIDE 32

typedef struct geometry {
    char *key;               /* policy text and image size this was built for */
    int img_h, img_w;        /* the image */
    tta_aug_plan *base;      /* image -> base frame (view 1), or NULL when the image is the base */
    int base_h, base_w;
    tta_aug_plan *views;     /* base frame -> each view, views reordered by size */
    int n_views;
    int *order;              /* plan view k is policy view order[k] */
} geometry;

struct tta_detector {
    const tta_model *model;
    tta_input_format fmt;    /* height, width 0 when dynamic */
    int dynamic;
    tta_det_format df;
    int stride, img_size;
    float pad;               /* on 0..1 */
    int max_batch, n_threads;
    char **names;
    int n_names;
    tta_plan_cache plans;
    tta_tensor input;
    geometry geo;
    tta_fuse_options view_nms; /* each view's own NMS (method NMS), unless no_view_nms */
    int no_view_nms;
    double t_augment, t_model, t_post; /* seconds, see tta_detector_times */
};

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

void tta_detector_times(const tta_detector *d, double *augment_s, double *model_s, double *post_s) {
    if (augment_s) *augment_s = d ? d->t_augment : 0;
    if (model_s) *model_s = d ? d->t_model : 0;
    if (post_s) *post_s = d ? d->t_post : 0;
}

static int round_to(int v, int s) {
    int r = (int)lround((double)v / s) * s;
    return r < s ? s : r;
}

/* Layout, box format and class count from options, metadata and the declared output shapes. */
static tta_status resolve_format(tta_detector *d, const tta_detector_options *o) {
    const tta_model *m = d->model;
    tta_det_format *f = &d->df;
    int n_out = tta_model_n_outputs(m);
    tta_io_info o0 = {0}, o1 = {0};
    TTA_TRY(tta_model_output(m, 0, &o0));
    if (n_out > 1) TTA_TRY(tta_model_output(m, 1, &o1));
    f->layout = o ? o->layout : TTA_DET_LAYOUT_AUTO;
    const char *task = tta_model_metadata(m, "tta.task");
    if (f->layout == TTA_DET_LAYOUT_AUTO && task && strcmp(task, "detection"))
        return tta_errorf(TTA_ERR_SHAPE, "metadata tta.task says this is a %s model, not a detector (give "
                                         "--output-layout to read its outputs as boxes anyway)", task);
    /* tta.output names the layout of a detector; a value that names none is left to the guess */
    const char *md = tta_model_metadata(m, "tta.output");
    if (f->layout == TTA_DET_LAYOUT_AUTO && md && tta_det_layout_parse(md, &f->layout)) f->layout = TTA_DET_LAYOUT_AUTO;
    f->n_classes = o && o->n_classes > 0 ? o->n_classes : 0;
    const char *nc = tta_model_metadata(m, "tta.num_classes");
    if (!f->n_classes && nc) f->n_classes = atoi(nc);
    if (f->layout == TTA_DET_LAYOUT_AUTO) {
        if (n_out >= 2) f->layout = TTA_DET_LAYOUT_BOXES_SCORES;
        else if (o0.ndim == 3 && f->n_classes > 0 && o0.dims[1] == 4 + f->n_classes) f->layout = TTA_DET_LAYOUT_YOLOV8;
        else if (o0.ndim == 3 && f->n_classes > 0 && o0.dims[2] == 5 + f->n_classes) f->layout = TTA_DET_LAYOUT_YOLOV5;
        else if (o0.ndim == 3 && o0.dims[1] > 4 && (o0.dims[2] < 0 || o0.dims[1] < o0.dims[2])) f->layout = TTA_DET_LAYOUT_YOLOV8;
        else if (o0.ndim == 3 && o0.dims[2] > 5) f->layout = TTA_DET_LAYOUT_YOLOV5;
        else
            return tta_errorf(TTA_ERR_SHAPE,
                              "output '%s' (rank %d) fits no detection layout: expected [N, 4 + C, A] (yolov8), "
                              "[N, A, 5 + C] (yolov5) or two outputs [N, A, 4] and [N, A, C]; set --output-layout",
                              o0.name, o0.ndim);
    }
    /* which output holds the boxes in the two-output layout: the one whose last dim is 4 */
    if (f->layout == TTA_DET_LAYOUT_BOXES_SCORES && n_out < 2)
        return tta_errorf(TTA_ERR_SHAPE, "the boxes-scores layout needs two outputs; the model has %d", n_out);
    if (!f->n_classes) {
        if (f->layout == TTA_DET_LAYOUT_YOLOV8 && o0.ndim == 3 && o0.dims[1] > 4) f->n_classes = (int)o0.dims[1] - 4;
        if (f->layout == TTA_DET_LAYOUT_YOLOV5 && o0.ndim == 3 && o0.dims[2] > 5) f->n_classes = (int)o0.dims[2] - 5;
        if (f->layout == TTA_DET_LAYOUT_BOXES_SCORES && o1.ndim == 3 && o1.dims[2] > 0) f->n_classes = (int)o1.dims[2];
    }
    if (f->n_classes <= 0)
        return tta_errorf(TTA_ERR_SHAPE, "cannot tell the class count from output '%s'; set --classes", o0.name);
    /* the declared shape, where known, must agree */
    if (f->layout == TTA_DET_LAYOUT_YOLOV8 && (o0.ndim != 3 || (o0.dims[1] >= 0 && o0.dims[1] != 4 + f->n_classes)))
        return tta_errorf(TTA_ERR_SHAPE, "output '%s' does not fit the yolov8 layout [N, 4 + %d, A]", o0.name, f->n_classes);
    if (f->layout == TTA_DET_LAYOUT_YOLOV5 && (o0.ndim != 3 || (o0.dims[2] >= 0 && o0.dims[2] != 5 + f->n_classes)))
        return tta_errorf(TTA_ERR_SHAPE, "output '%s' does not fit the yolov5 layout [N, A, 5 + %d]", o0.name, f->n_classes);
    f->box_format = o ? o->box_format : TTA_BOX_FORMAT_AUTO;
    const char *bf = tta_model_metadata(m, "tta.box_format");
    if (f->box_format == TTA_BOX_FORMAT_AUTO && bf) {
        tta_status st = tta_box_format_parse(bf, &f->box_format);
        if (st) return tta_error_context(st, "metadata tta.box_format");
    }
    if (f->box_format == TTA_BOX_FORMAT_AUTO)
        f->box_format = f->layout == TTA_DET_LAYOUT_BOXES_SCORES ? TTA_BOX_FORMAT_XYXY : TTA_BOX_FORMAT_CXCYWH;
    const char *nm = tta_model_metadata(m, "tta.normalized");
    f->normalized = o && o->normalized >= 0 ? o->normalized : nm && (!strcmp(nm, "1") || !strcmp(nm, "true"));
    /* tta.score_activation names what the graph applied: "sigmoid" (probabilities) or "logits" */
    const char *sa = tta_model_metadata(m, "tta.score_activation");
    f->score_sigmoid = sa && (!strcmp(sa, "logits") || !strcmp(sa, "none"));
    f->score_thr = o && o->score_thr >= 0 ? o->score_thr : DEFAULT_SCORE_THR;
    f->top_k = o && o->top_k > 0 ? o->top_k : DEFAULT_TOP_K;
    return TTA_OK;
}

tta_status tta_detector_new(tta_detector **out, const tta_model *model, const tta_detector_options *o) {
    if (!out || !model) return tta_errorf(TTA_ERR_INVALID_ARG, "tta_detector_new: NULL argument");
    *out = NULL;
    if (o && (o->stride < 0 || o->stride > 4096 || o->img_size < 0 || o->img_size > 16384 || o->max_batch < 0 ||
              o->pad_value > 255 || o->top_k < 0 || o->score_thr > 1 || o->n_classes < 0 || o->view_nms_iou > 1 ||
              o->view_max_det < 0))
        return tta_errorf(TTA_ERR_INVALID_ARG, "tta_detector_new: an option is out of range");
    tta_detector *d = tta_calloc(1, sizeof *d);
    if (!d) return tta_errorf(TTA_ERR_NOMEM, "out of memory");
    d->model = model;
    tta_status st = TTA_OK;
    if (o && o->format) d->fmt = *o->format;
    else st = tta_input_format_from_model(model, &d->fmt);
    if (!st) {
        tta_io_info in;
        st = tta_model_input(model, 0, &in);
        if (!st && in.ndim == 4) {
            int nhwc = d->fmt.batch.layout == TTA_LAYOUT_NHWC;
            d->dynamic = in.dims[nhwc ? 1 : 2] < 0 || in.dims[nhwc ? 2 : 3] < 0;
        }
        if (d->dynamic && !(o && o->format)) d->fmt.height = d->fmt.width = 0; /* tta.input_size is the training size */
    }
    if (!st) st = resolve_format(d, o);
    if (!st) {
        const char *s = tta_model_metadata(model, "tta.stride");
        d->stride = o && o->stride > 0 ? o->stride : s && atoi(s) > 0 ? atoi(s) : DEFAULT_STRIDE;
        d->img_size = o ? o->img_size : 0;
        d->pad = (o && o->pad_value >= 0 ? o->pad_value : DEFAULT_PAD) / 255.0f;
        d->max_batch = o && o->max_batch > 0 ? o->max_batch : DEFAULT_MAX_BATCH;
        d->n_threads = o ? o->n_threads : 0;
        tta_fuse_options_default(&d->view_nms, TTA_FUSE_NMS);
        d->view_nms.iou_thr = o && o->view_nms_iou > 0 ? o->view_nms_iou : DEFAULT_VIEW_NMS;
        d->view_nms.max_det = o && o->view_max_det > 0 ? o->view_max_det : DEFAULT_VIEW_MAX_DET;
        d->no_view_nms = o && o->view_nms_iou < 0;
        st = tta_names_split(o && o->class_names ? o->class_names : tta_model_metadata(model, "tta.class_names"), &d->names,
                             &d->n_names);
        if (!st && o && o->class_names && d->n_names != d->df.n_classes)
            st = tta_errorf(TTA_ERR_INVALID_ARG, "%d class names given for a model of %d classes", d->n_names,
                            d->df.n_classes);
    }
    if (st) {
        tta_detector_free(d);
        return st;
    }
    *out = d;
    return TTA_OK;
}

static void geometry_clear(geometry *g) {
    tta_aug_plan_free(g->base);
    tta_aug_plan_free(g->views);
    tta_free(g->order);
    tta_free(g->key);
    memset(g, 0, sizeof *g);
}

void tta_detector_free(tta_detector *d) {
    if (!d) return;
    tta_plan_cache_destroy(&d->plans);
    tta_names_free(d->names, d->n_names);
    tta_tensor_destroy(&d->input);
    geometry_clear(&d->geo);
    tta_free(d);
}

const tta_det_format *tta_detector_format(const tta_detector *d) { return &d->df; }
int tta_detector_n_classes(const tta_detector *d) { return d->df.n_classes; }
const char *tta_detector_class_name(const tta_detector *d, int k) {
    return d && k >= 0 && k < d->n_names ? d->names[k] : NULL;
}

static tta_transform letterbox(int h, int w, float fill) {
    tta_transform t = {.op = TTA_OP_LETTERBOX, .p = {h, w}, .interp = TTA_INTERP_BILINEAR, .fill = fill};
    return t;
}

static tta_transform resize_to(int h, int w) {
    tta_transform t = {.op = TTA_OP_RESIZE, .p = {h, w}, .interp = TTA_INTERP_BILINEAR};
    return t;
}

/* The size a dynamic model runs a frame of h x w at, or the fixed model's size. */
static void model_size(const tta_detector *d, int h, int w, int *mh, int *mw) {
    if (!d->dynamic) {
        *mh = d->fmt.height, *mw = d->fmt.width;
    } else {
        *mh = round_to(h, d->stride), *mw = round_to(w, d->stride);
    }
}

static tta_status build_geometry(tta_detector *d, const tta_policy *pol, int h, int w) {
    geometry *g = &d->geo;
    size_t need = tta_policy_format(pol, NULL, 0) + 64;
    char *key = tta_malloc(need);
    if (!key) return tta_errorf(TTA_ERR_NOMEM, "out of memory");
    int kn = snprintf(key, need, "%dx%d|", h, w);
    tta_policy_format(pol, key + kn, need - (size_t)kn);
    if (g->key && !strcmp(g->key, key)) {
        tta_free(key);
        return TTA_OK;
    }
    geometry_clear(g);
    g->key = key;
    g->img_h = h, g->img_w = w;
    if (!d->dynamic && (d->fmt.height <= 0 || d->fmt.width <= 0))
        return tta_errorf(TTA_ERR_SHAPE, "the model's input size is not known: set it (--input-size HxW)");
    /* 1. the base frame */
    tta_view base = {0};
    int bh = h, bw = w;
    if (!d->dynamic) {
        if (h != d->fmt.height || w != d->fmt.width) base.t[base.n++] = letterbox(d->fmt.height, d->fmt.width, d->pad);
        bh = d->fmt.height, bw = d->fmt.width;
    } else {
        if (d->img_size > 0) {
            int s = round_to(d->img_size, d->stride);
            if (h != s || w != s) base.t[base.n++] = letterbox(s, s, d->pad);
            bh = bw = s;
        } else if (round_to(h, d->stride) != h || round_to(w, d->stride) != w) {
            bh = round_to(h, d->stride), bw = round_to(w, d->stride);
            base.t[base.n++] = resize_to(bh, bw);
        }
    }
    g->base_h = bh, g->base_w = bw;
    if (base.n) {
        tta_view views[2] = {{0}, base};
        tta_policy bp = {.n_views = 2, .views = views, .capacity = 2};
        TTA_TRY(tta_aug_plan_new(&g->base, &bp, h, w, 0, 0));
    }
    /* 2. the views of the base frame at their natural sizes, then fitted to the model */
    tta_aug_plan *probe = NULL;
    TTA_TRY(tta_aug_plan_new(&probe, pol, bh, bw, 0, 0));
    int nv = pol->n_views;
    tta_view *fitted = tta_calloc((size_t)nv, sizeof *fitted);
    int *sz = tta_calloc((size_t)nv * 2, sizeof *sz);
    g->order = tta_calloc((size_t)nv, sizeof *g->order);
    double *weights = pol->weights ? tta_calloc((size_t)nv, sizeof *weights) : NULL;
    tta_status st = fitted && sz && g->order && (weights || !pol->weights) ? TTA_OK : tta_errorf(TTA_ERR_NOMEM, "out of memory");
    for (int v = 0; !st && v < nv; v++) {
        int vh, vw, mh, mw;
        tta_aug_plan_view_size(probe, v, &vh, &vw);
        fitted[v] = pol->views[v];
        model_size(d, vh, vw, &mh, &mw);
        if (vh != mh || vw != mw) {
            if (fitted[v].n >= TTA_MAX_CHAIN)
                st = tta_errorf(TTA_ERR_INVALID_ARG, "view %d has %d transforms: no room to fit it to the model", v,
                                fitted[v].n);
            else
                fitted[v].t[fitted[v].n++] = d->dynamic ? resize_to(mh, mw) : letterbox(mh, mw, d->pad);
        }
        sz[2 * v] = mh, sz[2 * v + 1] = mw;
    }
    /* order: the identity's size first (the identity stays view 0), then by size, stably */
    int k = 0;
    for (int pass = 0; !st && pass < 2; pass++)
        for (int v = 0; v < nv; v++) {
            int same = sz[2 * v] == sz[0] && sz[2 * v + 1] == sz[1];
            if ((pass == 0) != same) continue;
            if (pass == 1) { /* insert after the last view of the same size, else at the end */
                int at = k;
                for (int j = k - 1; j > 0; j--)
                    if (sz[2 * g->order[j]] == sz[2 * v] && sz[2 * g->order[j] + 1] == sz[2 * v + 1]) {
                        at = j + 1;
                        break;
                    }
                memmove(g->order + at + 1, g->order + at, sizeof *g->order * (size_t)(k - at));
                g->order[at] = v;
            } else {
                g->order[k] = v;
            }
            k++;
        }
    if (!st) {
        tta_view *sorted = tta_calloc((size_t)nv, sizeof *sorted);
        if (!sorted) st = tta_errorf(TTA_ERR_NOMEM, "out of memory");
        for (int j = 0; !st && j < nv; j++) {
            sorted[j] = fitted[g->order[j]];
            if (weights) weights[j] = pol->weights[g->order[j]];
        }
        if (!st) {
            tta_policy fp = {.n_views = nv, .views = sorted, .capacity = nv, .weights = weights};
            st = tta_aug_plan_new(&g->views, &fp, bh, bw, 0, 0);
        }
        tta_free(sorted);
    }
    g->n_views = nv;
    tta_aug_plan_free(probe);
    tta_free(fitted);
    tta_free(sz);
    tta_free(weights);
    if (st) {
        tta_free(g->key);
        g->key = NULL; /* rebuild next time */
    }
    return st;
}

static tta_status run_model(tta_detector *d, const tta_tensor **o0, const tta_tensor **o1) {
    tta_plan *plan = NULL;
    TTA_TRY(tta_plan_cache_run(&d->plans, d->model, &d->input, d->n_threads, &plan));
    int n_out = tta_plan_n_outputs(plan);
    *o0 = tta_plan_output(plan, 0);
    *o1 = n_out > 1 ? tta_plan_output(plan, 1) : NULL;
    if (d->df.layout == TTA_DET_LAYOUT_BOXES_SCORES && *o1 && (*o0)->ndim == 3 && (*o0)->dims[2] != 4 &&
        (*o1)->ndim == 3 && (*o1)->dims[2] == 4) {
        const tta_tensor *t = *o0; /* scores first, boxes second */
        *o0 = *o1;
        *o1 = t;
    }
    return TTA_OK;
}

/* One batch item: decoded, reduced by the view's own NMS (in the view's frame, as the model's
 * pipeline would), mapped back to the image and appended to dst. raw and nms are scratch. */
static tta_status post_view(const tta_detector *d, const tta_tensor *o0, const tta_tensor *o1, int item, int pv,
                            int ow, int oh, tta_boxes *raw, det_view_nms_work *nms, tta_boxes *dst) {
    const geometry *g = &d->geo;
    int first = dst->n;
    if (d->no_view_nms) {
        TTA_TRY(tta_det_decode(&d->df, o0, o1, item, ow, oh, g->order[pv], dst));
    } else {
        tta_boxes_clear(raw);
        TTA_TRY(tta_det_decode(&d->df, o0, o1, item, ow, oh, 0, raw));
        TTA_TRY(det_view_nms(raw->box, raw->n, d->view_nms.iou_thr, d->view_nms.max_det, nms, dst));
        for (int k = first; k < dst->n; k++) {
            dst->box[k].view = g->order[pv];
            dst->box[k].support = 1;
        }
    }
    int n = dst->n - first;
    float *bx = (float *)(dst->box + first);
    const int stride = (int)(sizeof(tta_box) / sizeof(float));
    TTA_TRY(tta_invert_boxes(g->views, pv, bx, n, stride));
    if (g->base) TTA_TRY(tta_invert_boxes(g->base, 1, bx, n, stride));
    return TTA_OK;
}

/* Images [i0, i1) (already in the base frame: imgs) x plan views [v0, v1) through the model. */
static tta_status run_block(tta_detector *d, const tta_image *imgs, int i0, int i1, int v0, int v1,
                            tta_boxes *view_boxes) {
    geometry *g = &d->geo;
    int ni = i1 - i0, nv = v1 - v0, b = ni * nv;
    int oh, ow;
    tta_aug_plan_view_size(g->views, v0, &oh, &ow);
    int64_t dims[4] = {b, d->fmt.batch.channels, oh, ow};
    if (d->fmt.batch.layout == TTA_LAYOUT_NHWC) dims[1] = oh, dims[2] = ow, dims[3] = d->fmt.batch.channels;
    double t0 = now_s();
    TTA_TRY(tta_tensor_resize(&d->input, d->fmt.batch.dtype, 4, dims));
    TTA_TRY(tta_augment_batch(g->views, imgs + i0, ni, v0, nv, &d->fmt.batch, d->input.data,
                              tta_tensor_nbytes(&d->input)));
    double t1 = now_s();
    const tta_tensor *o0, *o1;
    TTA_TRY(run_model(d, &o0, &o1));
    double t2 = now_s();
    d->t_augment += t1 - t0;
    d->t_model += t2 - t1;
    /* post-processing, image by image over the threads (each image's list is its own) */
    tta_status st = TTA_OK;
    char msg[512] = "";
#pragma omp parallel num_threads(d->n_threads > 0 ? d->n_threads : omp_get_max_threads()) if (ni > 1)
    {
        tta_boxes raw = {0};
        det_view_nms_work nms = {0};
        tta_status mine = TTA_OK;
#pragma omp for schedule(dynamic)
        for (int i = 0; i < ni; i++)
            for (int v = 0; v < nv && !mine; v++)
                mine = post_view(d, o0, o1, i * nv + v, v0 + v, ow, oh, &raw, &nms, &view_boxes[i0 + i]);
        if (mine) {
#pragma omp critical
            if (!st) { /* the message lives in the failing thread */
                st = mine;
                snprintf(msg, sizeof msg, "%s", tta_last_error());
            }
        }
        tta_boxes_destroy(&raw);
        det_view_nms_free(&nms);
    }
    if (st) return tta_errorf(st, "%s", msg);
    d->t_post += now_s() - t2;
    return TTA_OK;
}

tta_status tta_detect_views(tta_detector *d, const tta_policy *pol, const tta_image *images, int n,
                            tta_boxes *view_boxes) {
    if (!d || !pol || (!images && n > 0) || (!view_boxes && n > 0) || n < 0)
        return tta_errorf(TTA_ERR_INVALID_ARG, "tta_detect_views: NULL argument");
    if ((size_t)sizeof(tta_box) % sizeof(float))
        return tta_errorf(TTA_ERR_INTERNAL, "tta_box is not a whole number of floats");
    for (int i = 0; i < n; i++) tta_boxes_clear(&view_boxes[i]);
    tta_image *base = NULL;
    tta_status st = TTA_OK;
    int start = 0;
    while (!st && start < n) {
        /* a run of images of one size shares the geometry */
        int end = start + 1;
        while (end < n && images[end].height == images[start].height && images[end].width == images[start].width &&
               images[end].channels == images[start].channels)
            end++;
        st = build_geometry(d, pol, images[start].height, images[start].width);
        geometry *g = &d->geo;
        const tta_image *imgs = images;
        if (!st && g->base) { /* the run's images in the base frame */
            base = tta_calloc((size_t)n, sizeof *base);
            if (!base) st = tta_errorf(TTA_ERR_NOMEM, "out of memory");
            for (int i = start; !st && i < end; i++)
                st = tta_augment_view(g->base, 1, &images[i], TTA_DTYPE_FLOAT32, &base[i]);
            imgs = base;
        }
        /* views of one size together; images in blocks that respect max_batch */
        for (int v0 = 0; !st && v0 < g->n_views;) {
            int h0, w0, v1 = v0 + 1;
            tta_aug_plan_view_size(g->views, v0, &h0, &w0);
            for (;; v1++) {
                int h, w;
                if (v1 >= g->n_views) break;
                tta_aug_plan_view_size(g->views, v1, &h, &w);
                if (h != h0 || w != w0) break;
            }
            int nv = v1 - v0;
            if (nv <= d->max_batch) {
                int per = d->max_batch / nv;
                for (int i = start; !st && i < end; i += per)
                    st = run_block(d, imgs, i, i + per < end ? i + per : end, v0, v1, view_boxes);
            } else {
                for (int i = start; !st && i < end; i++)
                    for (int v = v0; !st && v < v1; v += d->max_batch)
                        st = run_block(d, imgs, i, i + 1, v, v + d->max_batch < v1 ? v + d->max_batch : v1, view_boxes);
            }
            v0 = v1;
        }
        if (base) {
            for (int i = 0; i < n; i++) tta_image_destroy(&base[i]);
            tta_free(base);
            base = NULL;
        }
        start = end;
    }
    return st;
}

tta_status tta_detect(tta_detector *d, const tta_policy *pol, const tta_image *images, int n,
                      const tta_fuse_options *fuse, tta_boxes *out) {
    if (!fuse || (!out && n > 0)) return tta_errorf(TTA_ERR_INVALID_ARG, "tta_detect: NULL argument");
    tta_boxes *vb = tta_calloc((size_t)(n > 0 ? n : 1), sizeof *vb);
    if (!vb) return tta_errorf(TTA_ERR_NOMEM, "out of memory");
    int *all = tta_malloc(sizeof *all * (size_t)pol->n_views);
    tta_status st = all ? tta_detect_views(d, pol, images, n, vb) : tta_errorf(TTA_ERR_NOMEM, "out of memory");
    for (int v = 0; all && v < pol->n_views; v++) all[v] = v;
    tta_det_table t = {n, pol->n_views, vb};
    if (!st && n > 0) st = tta_det_table_fuse(&t, all, pol->weights, pol->n_views, fuse, out);
    tta_free(all);
    tta_boxes_free_array(vb, n);
    return st;
}
