/* segmenter.c - a segmentation model behind one interface: its input format and output layout
 * (from metadata_props, flags or the output's shape), fitting each view to the model, batching
 * views through it, turning raw outputs into probabilities, and mapping each view's map back to
 * the image with the exact dense inverses of augment.h.
 *
 * Geometry:
 *   - a model with dynamic H and W runs each view at its own size, rounded to the model's
 *     stride by a resize when it is not a multiple (views of one size share a batch);
 *   - a fixed-size model sees each view resized to its input size, unless the image is larger
 *     than the tile (the model's size, or opts.tile): then every view runs on overlapping tiles
 *     of the image, each tile's map de-augmented and blended into the view's map with a
 *     Gaussian weight (nnU-Net's sliding window), so TTA and tiling combine;
 *   - an output at a stride (H' = H / s) is de-augmented and merged at its own resolution; the
 *     caller upsamples the merged result (tta_segment does).
 * The per-view maps go to a callback (tta_segment_each_view), so merging is a stream.
 *
 * Threads: the model runs on its plan's threads; after it, the items of a batch are turned
 * into probabilities and de-augmented over the OpenMP threads, a group of as many items as
 * threads at a time (one buffer per item of the group, so memory stays bounded), and the
 * callback sees them on the calling thread in the order images, then views. */
#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/alloc.h"
#include "core/cpu.h"
#include "core/error.h"
#include "segment/segment_internal.h"
#include "engine/engine.h"

#define DEFAULT_MAX_BATCH 32
#define DEFAULT_STRIDE 32

struct tta_segmenter {
    const tta_model *model;
    tta_input_format fmt; /* height, width 0 when dynamic */
    int dynamic;
    tta_seg_output output;
    int classes; /* output channels as probabilities (2 for a sigmoid output); 0 until known */
    int stride, tile;
    double overlap, sigma;
    int max_batch, n_threads;
    char **names;
    int n_names;
    tta_plan_cache plans;
    tta_tensor input;
    struct seg_work *work; /* n_work per-item buffers for the items of a group */
    int n_work;
    double t_augment, t_model, t_post; /* seconds, see tta_segmenter_times */
};

typedef struct view_out {
    float *map;      /* C x dh x dw */
    uint8_t *valid;  /* dh x dw */
    size_t cap_map, cap_valid;
} view_out;

/* One item's buffers: its probabilities in the view frame (C planes and one of scratch), its
 * de-augmented map, and the status of its work on whichever thread did it. */
typedef struct seg_work {
    float *probs;
    size_t cap_probs;
    view_out vo;
    tta_status st;
    char msg[512];
} seg_work;

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

void tta_segmenter_times(const tta_segmenter *s, double *augment_s, double *model_s, double *post_s) {
    if (augment_s) *augment_s = s ? s->t_augment : 0;
    if (model_s) *model_s = s ? s->t_model : 0;
    if (post_s) *post_s = s ? s->t_post : 0;
}

static const char *const output_names[] = {"auto", "logits", "softmax", "sigmoid"};

tta_status tta_seg_output_parse(const char *name, tta_seg_output *out) {
    for (int i = 0; name && i < 4; i++)
        if (!strcmp(name, output_names[i])) {
            *out = (tta_seg_output)i;
            return TTA_OK;
        }
    return tta_errorf(TTA_ERR_INVALID_ARG, "unknown segmentation output '%s' (expected auto, logits, softmax or sigmoid)",
                      name ? name : "(null)");
}

const char *tta_seg_output_name(tta_seg_output o) { return (unsigned)o < 4 ? output_names[o] : "?"; }

static int round_to(int v, int s) {
    int r = (v + s - 1) / s * s;
    return r < s ? s : r;
}

tta_status tta_segmenter_new(tta_segmenter **out, const tta_model *model, const tta_segmenter_options *o) {
    if (!out || !model) return tta_errorf(TTA_ERR_INVALID_ARG, "tta_segmenter_new: NULL argument");
    *out = NULL;
    if (o && (o->stride < 0 || o->stride > 4096 || o->tile < 0 || o->tile > 16384 || o->max_batch < 0 ||
              !(o->overlap >= 0 && o->overlap < 0.95) || isnan(o->sigma)))
        return tta_errorf(TTA_ERR_INVALID_ARG, "tta_segmenter_new: an option is out of range");
    const char *task = tta_model_metadata(model, "tta.task");
    if (task && strcmp(task, "segmentation") && !(o && o->output))
        return tta_errorf(TTA_ERR_SHAPE, "metadata tta.task says this is a %s model, not a segmenter (give --output "
                                         "to read its output as per-pixel scores anyway)", task);
    if (tta_model_n_outputs(model) < 1) return tta_errorf(TTA_ERR_SHAPE, "the model has no output");
    tta_io_info oi;
    TTA_TRY(tta_model_output(model, 0, &oi));
    if (oi.ndim != 4)
        return tta_errorf(TTA_ERR_SHAPE,
                          "output '%s' has rank %d: a segmenter's output must be [N, C, H', W'] (per-pixel class "
                          "scores)", oi.name, oi.ndim);
    tta_segmenter *s = tta_calloc(1, sizeof *s);
    if (!s) return tta_errorf(TTA_ERR_NOMEM, "out of memory");
    s->model = model;
    tta_status st = TTA_OK;
    if (o && o->format) s->fmt = *o->format;
    else st = tta_input_format_from_model(model, &s->fmt);
    if (!st) {
        tta_io_info in;
        st = tta_model_input(model, 0, &in);
        int nhwc = s->fmt.batch.layout == TTA_LAYOUT_NHWC;
        if (!st) s->dynamic = in.dims[nhwc ? 1 : 2] < 0 || in.dims[nhwc ? 2 : 3] < 0;
        if (s->dynamic && !(o && o->format)) s->fmt.height = s->fmt.width = 0;
    }
    if (!st) {
        s->output = o ? o->output : TTA_SEG_OUTPUT_AUTO;
        const char *md = tta_model_metadata(model, "tta.output");
        if (s->output == TTA_SEG_OUTPUT_AUTO && md && tta_seg_output_parse(md, &s->output)) s->output = TTA_SEG_OUTPUT_AUTO;
        if (s->output == TTA_SEG_OUTPUT_AUTO) {
            const char *op = tta_model_output_producer(model, 0);
            s->output = !strcmp(op, "Softmax") ? TTA_SEG_OUTPUT_SOFTMAX
                        : !strcmp(op, "Sigmoid") || oi.dims[1] == 1 ? TTA_SEG_OUTPUT_SIGMOID
                                                                     : TTA_SEG_OUTPUT_LOGITS;
        }
        if (s->output == TTA_SEG_OUTPUT_SIGMOID && oi.dims[1] > 1)
            st = tta_errorf(TTA_ERR_SHAPE, "output '%s' has %lld channels: a sigmoid (binary) output has one", oi.name,
                            (long long)oi.dims[1]);
        else if (s->output != TTA_SEG_OUTPUT_SIGMOID && oi.dims[1] == 1)
            st = tta_errorf(TTA_ERR_SHAPE, "output '%s' has one channel: declare it --output sigmoid (a binary mask)",
                            oi.name);
        s->classes = s->output == TTA_SEG_OUTPUT_SIGMOID ? 2 : oi.dims[1] > 0 ? (int)oi.dims[1] : 0;
    }
    if (!st) {
        const char *sd = tta_model_metadata(model, "tta.stride");
        s->stride = o && o->stride > 0 ? o->stride : sd && atoi(sd) > 0 ? atoi(sd) : DEFAULT_STRIDE;
        s->tile = o && o->tile > 0 ? o->tile : 0;
        s->overlap = o && o->overlap > 0 ? o->overlap : 0.25;
        s->sigma = o && o->sigma != 0 ? o->sigma : 0.125;
        s->max_batch = o && o->max_batch > 0 ? o->max_batch : DEFAULT_MAX_BATCH;
        s->n_threads = o ? o->n_threads : 0;
        st = tta_names_split(tta_model_metadata(model, "tta.class_names"), &s->names, &s->n_names);
    }
    if (st) {
        tta_segmenter_free(s);
        return st;
    }
    *out = s;
    return TTA_OK;
}

void tta_segmenter_free(tta_segmenter *s) {
    if (!s) return;
    tta_plan_cache_destroy(&s->plans);
    tta_names_free(s->names, s->n_names);
    tta_tensor_destroy(&s->input);
    for (int k = 0; k < s->n_work; k++) {
        tta_free(s->work[k].probs);
        tta_free(s->work[k].vo.map);
        tta_free(s->work[k].vo.valid);
    }
    tta_free(s->work);
    tta_free(s);
}

int tta_segmenter_n_classes(const tta_segmenter *s) { return s ? s->classes : 0; }
tta_seg_output tta_segmenter_output(const tta_segmenter *s) { return s ? s->output : TTA_SEG_OUTPUT_AUTO; }

const char *tta_segmenter_class_name(const tta_segmenter *s, int c) {
    if (!s || c < 0) return NULL;
    if (s->n_names == s->classes) return c < s->n_names ? s->names[c] : NULL;
    if (s->n_names == s->classes - 1) return c == 0 ? "background" : s->names[c - 1];
    return NULL;
}

/* The tile side for an image of h x w, or 0 when it runs whole. */
static int tile_side(const tta_segmenter *s, int h, int w) {
    int t = s->tile;
    if (!t && !s->dynamic) t = s->fmt.height < s->fmt.width ? s->fmt.height : s->fmt.width;
    if (!t) return 0;
    return h > t || w > t ? t : 0;
}

static tta_status run_model(tta_segmenter *s, const tta_tensor **out) {
    tta_plan *plan = NULL;
    TTA_TRY(tta_plan_cache_run(&s->plans, s->model, &s->input, s->n_threads, &plan));
    *out = tta_plan_output(plan, 0);
    return TTA_OK;
}

/* Checks the output (float32 [N, C, H', W'], the channels the output kind needs, the same
 * classes as before) and gives its classes as probabilities and its map size. */
static tta_status probs_check(tta_segmenter *s, const tta_tensor *o, int *classes, int *oh, int *ow) {
    if (o->dtype != TTA_DTYPE_FLOAT32 || o->ndim != 4)
        return tta_errorf(TTA_ERR_SHAPE, "the segmenter's output must be float32 [N, C, H', W'] (rank %d)", o->ndim);
    int ch = (int)o->dims[1];
    int C = s->output == TTA_SEG_OUTPUT_SIGMOID ? 2 : ch;
    if (s->output == TTA_SEG_OUTPUT_SIGMOID ? ch != 1 : ch < 2)
        return tta_errorf(TTA_ERR_SHAPE, "the segmenter's output has %d channels; a %s output needs %s", ch,
                          tta_seg_output_name(s->output), s->output == TTA_SEG_OUTPUT_SIGMOID ? "1" : "at least 2");
    if (s->classes && C != s->classes)
        return tta_errorf(TTA_ERR_SHAPE, "the segmenter gave %d classes, then %d", s->classes, C);
    s->classes = C;
    *classes = C;
    *oh = (int)o->dims[2], *ow = (int)o->dims[3];
    return TTA_OK;
}

/* exp(x) for x <= 0 (NaN stays NaN), in a form loops vectorise (libm's expf does not):
 * Cody-Waite reduction x = n ln 2 + r, |r| <= ln 2 / 2, with ln 2 split in a part whose product
 * with n is exact (9 bits) and the rest, Cephes' expf polynomial for e^r and 2^n put in the
 * exponent bits. About 1 ulp, like expf. Below -87.34 (where e^x is under FLT_MIN) it gives 0
 * where expf gives a subnormal, which no probability here can tell apart. Integer selects only
 * (as merge.c's log): on the bits, non-positive floats order as unsigned integers by magnitude. */
static inline float exp_nonpos(float x) {
    uint32_t u;
    memcpy(&u, &x, sizeof u);
    uint32_t nan = -(uint32_t)((u & 0x7fffffffu) > 0x7f800000u);
    uint32_t under = -(uint32_t)(u > 0xc2aeac50u); /* below -87.33654 (or -inf) */
    uint32_t uc = (u & ~under) | (0xc2aeac50u & under);
    float xc;
    memcpy(&xc, &uc, sizeof xc);
    float t = xc * 1.44269504088896341f + 12582912.0f; /* 1.5 * 2^23: rounds n to an integer */
    int32_t ti;
    memcpy(&ti, &t, sizeof ti);
    float n = t - 12582912.0f;
    float r = xc - n * 0.693359375f;
    r = r - n * -2.12194440e-4f;
    float z = r * r;
    float y = (((((1.9875691500e-4f * r + 1.3981999507e-3f) * r + 8.3334519073e-3f) * r + 4.1665795894e-2f) * r +
                1.6666665459e-1f) * r + 5.0000001201e-1f) * z + r + 1.0f;
    int32_t eb = (ti - 0x4b400000 + 127) * (1 << 23); /* n + 127 in [1, 127]: a normal 2^n */
    float scale;
    memcpy(&scale, &eb, sizeof scale);
    float e = y * scale;
    uint32_t bits;
    memcpy(&bits, &e, sizeof bits);
    bits &= ~under;
    bits = (bits & ~nan) | (u & nan);
    memcpy(&e, &bits, sizeof e);
    return e;
}

/* Item k of output o (checked by probs_check) as probabilities, C x plane in dst, which has a
 * plane more of scratch. Class plane by class plane, so that the loops vectorise; thread-safe. */
static inline __attribute__((always_inline)) tta_status probs_fill_body(const tta_segmenter *s, const tta_tensor *o,
                                                                        int k, float *restrict dst) {
    const int ch = (int)o->dims[1], C = s->classes;
    const size_t plane = (size_t)o->dims[2] * (size_t)o->dims[3];
    const float *restrict src = (const float *)o->data + (size_t)k * (size_t)ch * plane;
    if (s->output == TTA_SEG_OUTPUT_SIGMOID) {
        for (size_t i = 0; i < plane; i++) {
            if (isnan(src[i])) return tta_errorf(TTA_ERR_SHAPE, "the segmenter gave NaN at pixel %zu", i);
            float p = 1.0f / (1.0f + expf(-src[i]));
            dst[i] = 1.0f - p;
            dst[plane + i] = p;
        }
    } else if (s->output == TTA_SEG_OUTPUT_SOFTMAX) {
        for (size_t i = 0; i < (size_t)C * plane; i++) {
            if (isnan(src[i])) return tta_errorf(TTA_ERR_SHAPE, "the segmenter gave NaN at element %zu", i);
            dst[i] = src[i] < 0 ? 0 : src[i] > 1 ? 1 : src[i];
        }
    } else { /* softmax over the channels, shifted by the maximum: finite for finite logits */
        float *restrict mx = dst + (size_t)C * plane; /* the scratch plane: maxima, then sums */
        for (size_t i = 0; i < plane; i++) mx[i] = src[i];
        for (int c = 1; c < C; c++) {
            const float *restrict sc = src + (size_t)c * plane;
#pragma omp simd
            for (size_t i = 0; i < plane; i++) mx[i] = sc[i] > mx[i] ? sc[i] : mx[i];
        }
        int nan = 0;
#pragma omp simd reduction(| : nan)
        for (size_t i = 0; i < plane; i++) nan |= mx[i] != mx[i];
        if (nan)
            for (size_t i = 0; i < plane; i++)
                if (isnan(mx[i])) return tta_errorf(TTA_ERR_SHAPE, "the segmenter gave NaN at pixel %zu", i);
        for (int c = 0; c < C; c++) {
            const float *restrict sc = src + (size_t)c * plane;
            float *restrict dc = dst + (size_t)c * plane;
#pragma omp simd
            for (size_t i = 0; i < plane; i++) dc[i] = exp_nonpos(sc[i] - mx[i]);
        }
        float *restrict sum = mx;
        for (size_t i = 0; i < plane; i++) sum[i] = 0.0f;
        for (int c = 0; c < C; c++) {
            const float *restrict dc = dst + (size_t)c * plane;
#pragma omp simd
            for (size_t i = 0; i < plane; i++) sum[i] += dc[i];
        }
#pragma omp simd
        for (size_t i = 0; i < plane; i++) sum[i] = 1.0f / sum[i];
        for (int c = 0; c < C; c++) {
            float *restrict dc = dst + (size_t)c * plane;
#pragma omp simd
            for (size_t i = 0; i < plane; i++) dc[i] *= sum[i];
        }
    }
    return TTA_OK;
}

/* probs_fill for the baseline, AVX2 and AVX-512 (core/cpu.h: the same bits from each) */
static tta_status probs_fill_generic(const tta_segmenter *s, const tta_tensor *o, int k, float *dst) {
    return probs_fill_body(s, o, k, dst);
}
TTA_TARGET_AVX2 static tta_status probs_fill_avx2(const tta_segmenter *s, const tta_tensor *o, int k, float *dst) {
    return probs_fill_body(s, o, k, dst);
}
TTA_TARGET_AVX512 static tta_status probs_fill_avx512(const tta_segmenter *s, const tta_tensor *o, int k, float *dst) {
    return probs_fill_body(s, o, k, dst);
}
static tta_status probs_fill(const tta_segmenter *s, const tta_tensor *o, int k, float *dst) {
    return TTA_ISA_PICK(probs_fill_generic, probs_fill_avx2, probs_fill_avx512)(s, o, k, dst);
}

void tta_seg_upsample(const float *src, int channels, int sh, int sw, float *dst, int dh, int dw) {
    double sy = (double)sh / dh, sx = (double)sw / dw;
    for (int i = 0; i < dh; i++) {
        double y = (i + 0.5) * sy - 0.5;
        y = y < 0 ? 0 : y > sh - 1 ? sh - 1 : y;
        int y0 = (int)y, y1 = y0 + 1 < sh ? y0 + 1 : y0;
        float fy = (float)(y - y0);
        for (int j = 0; j < dw; j++) {
            double x = (j + 0.5) * sx - 0.5;
            x = x < 0 ? 0 : x > sw - 1 ? sw - 1 : x;
            int x0 = (int)x, x1 = x0 + 1 < sw ? x0 + 1 : x0;
            float fx = (float)(x - x0);
            for (int c = 0; c < channels; c++) {
                const float *m = src + (size_t)c * sh * sw;
                float top = m[y0 * sw + x0] + fx * (m[y0 * sw + x1] - m[y0 * sw + x0]);
                float bot = m[y1 * sw + x0] + fx * (m[y1 * sw + x1] - m[y1 * sw + x0]);
                dst[(size_t)c * dh * dw + (size_t)i * dw + j] = top + fy * (bot - top);
            }
        }
    }
}

/* The model size views of an h x w frame run at. */
static void model_size(const tta_segmenter *s, int h, int w, int *mh, int *mw) {
    if (!s->dynamic) *mh = s->fmt.height, *mw = s->fmt.width;
    else *mh = round_to(h, s->stride), *mw = round_to(w, s->stride);
}

/* The output stride from one run: model input mh x mw, output oh x ow. */
static tta_status output_stride(int mh, int mw, int oh, int ow, int *stride) {
    if (oh < 1 || ow < 1 || mh % oh || mw % ow || mh / oh != mw / ow)
        return tta_errorf(TTA_ERR_SHAPE,
                          "the segmenter's output is %d x %d for a %d x %d input: not the input size divided by one "
                          "whole stride", oh, ow, mh, mw);
    *stride = mh / oh;
    return TTA_OK;
}

static tta_status view_out_size(view_out *vo, size_t map, size_t valid) {
    if (map > vo->cap_map) {
        float *p = tta_realloc(vo->map, map * sizeof *p);
        if (!p) return tta_errorf(TTA_ERR_NOMEM, "out of memory for a map of %zu values", map);
        vo->map = p, vo->cap_map = map;
    }
    if (valid > vo->cap_valid) {
        uint8_t *p = tta_realloc(vo->valid, valid);
        if (!p) return tta_errorf(TTA_ERR_NOMEM, "out of memory");
        vo->valid = p, vo->cap_valid = valid;
    }
    return TTA_OK;
}

static void view_out_free(view_out *vo) {
    tta_free(vo->map);
    tta_free(vo->valid);
}

/* At least n item buffers, each with room for `probs` floats and a map of `map` and `valid`. */
static tta_status work_size(tta_segmenter *s, int n, size_t probs, size_t map, size_t valid) {
    if (n > s->n_work) {
        seg_work *w = tta_realloc(s->work, sizeof *w * (size_t)n);
        if (!w) return tta_errorf(TTA_ERR_NOMEM, "out of memory");
        memset(w + s->n_work, 0, sizeof *w * (size_t)(n - s->n_work));
        s->work = w, s->n_work = n;
    }
    for (int k = 0; k < n; k++) {
        seg_work *w = &s->work[k];
        if (probs > w->cap_probs) {
            float *p = tta_realloc(w->probs, probs * sizeof *p);
            if (!p) return tta_errorf(TTA_ERR_NOMEM, "out of memory for a map of %zu values", probs);
            w->probs = p, w->cap_probs = probs;
        }
        TTA_TRY(view_out_size(&w->vo, map, valid));
    }
    return TTA_OK;
}

/* Runs images [i0, i1) x views [v0, v1) of `plan` through the model (one batch) and hands each
 * item's map, mapped back to the plan's input frame (dh x dw at the output stride), to fn. */
static tta_status run_items(tta_segmenter *s, tta_aug_plan *plan, const tta_image *imgs, int i0, int i1, int v0, int v1,
                            int mh, int mw, int in_h, int in_w, tta_seg_view_fn fn, void *user) {
    int ni = i1 - i0, nv = v1 - v0;
    double t0 = now_s();
    int64_t dims[4] = {(int64_t)ni * nv, s->fmt.batch.channels, mh, mw};
    if (s->fmt.batch.layout == TTA_LAYOUT_NHWC) dims[1] = mh, dims[2] = mw, dims[3] = s->fmt.batch.channels;
    TTA_TRY(tta_tensor_resize(&s->input, s->fmt.batch.dtype, 4, dims));
    TTA_TRY(tta_augment_batch(plan, imgs + i0, ni, v0, nv, &s->fmt.batch, s->input.data, tta_tensor_nbytes(&s->input)));
    double t1 = now_s();
    const tta_tensor *o;
    TTA_TRY(run_model(s, &o));
    double t2 = now_s();
    s->t_augment += t1 - t0;
    s->t_model += t2 - t1;
    int C, oh, ow, st;
    TTA_TRY(probs_check(s, o, &C, &oh, &ow));
    TTA_TRY(output_stride(mh, mw, oh, ow, &st));
    int dh = (in_h + st - 1) / st, dw = (in_w + st - 1) / st, total = ni * nv;
    int T = omp_get_max_threads();
    T = T < 1 ? 1 : T > total ? total : T;
    TTA_TRY(work_size(s, T, (size_t)(C + 1) * oh * ow, (size_t)C * dh * dw, (size_t)dh * dw));
    for (int g0 = 0; g0 < total; g0 += T) { /* items g0.. (image-major) over the threads, one each */
        int g1 = g0 + T < total ? g0 + T : total;
        double p0 = now_s();
#pragma omp parallel for num_threads(g1 - g0) schedule(static, 1) if (g1 - g0 > 1)
        for (int k = g0; k < g1; k++) {
            seg_work *w = &s->work[k - g0];
            w->st = probs_fill(s, o, k, w->probs);
            if (!w->st)
                w->st = tta_invert_dense(plan, v0 + k % nv, st, TTA_INTERP_BILINEAR, w->probs, C, oh, ow, w->vo.map, dh,
                                         dw, w->vo.valid);
            if (w->st) snprintf(w->msg, sizeof w->msg, "%s", tta_last_error()); /* the thread's own message */
        }
        s->t_post += now_s() - p0;
        for (int k = g0; k < g1; k++) {
            seg_work *w = &s->work[k - g0];
            if (w->st) return tta_errorf(w->st, "%s", w->msg);
            TTA_TRY(fn(user, i0 + k / nv, v0 + k % nv, w->vo.map, w->vo.valid, C, dh, dw));
        }
    }
    return TTA_OK;
}

/* ---- sliding window: one image larger than the tile ----------------------------------- */

typedef struct tile_acc {
    float *acc;   /* C x dh x dw: weighted sum of the tiles' maps, for one view */
    float *wsum;  /* dh x dw */
    int tile_y, tile_x, dh_t, dw_t; /* the current tile's offset and map size (output stride) */
    const float *weight; /* dh_t x dw_t Gaussian */
    int dh, dw, C;
} tile_acc;

static tta_status tile_add(void *user, int tile, int view, const float *probs, const uint8_t *valid, int C, int h,
                           int w) {
    (void)tile, (void)view;
    tile_acc *t = user;
    for (int i = 0; i < h; i++)
        for (int j = 0; j < w; j++) {
            if (!valid[i * w + j]) continue;
            int y = t->tile_y + i, x = t->tile_x + j;
            if (y >= t->dh || x >= t->dw) continue;
            float wt = t->weight[i * w + j];
            size_t o = (size_t)y * t->dw + x;
            t->wsum[o] += wt;
            for (int c = 0; c < C; c++) t->acc[(size_t)c * t->dh * t->dw + o] += wt * probs[(size_t)c * h * w + i * w + j];
        }
    return TTA_OK;
}

static tta_status crop(const tta_image *src, int y, int x, int h, int w, tta_image *dst) {
    TTA_TRY(tta_image_init(dst, h, w, src->channels, src->dtype));
    size_t px = (size_t)src->channels * (src->dtype == TTA_DTYPE_UINT8 ? 1 : 4);
    for (int i = 0; i < h; i++)
        memcpy((uint8_t *)dst->data + (size_t)i * w * px, (const uint8_t *)src->data + ((size_t)(y + i) * src->width + x) * px,
               (size_t)w * px);
    return TTA_OK;
}

/* Tile offsets along one side of n pixels: tiles of t with the given overlap, the last flush
 * with the end; offsets are multiples of `align` (the output stride) where possible. */
static int tile_offsets(int n, int t, double overlap, int align, int *off, int max) {
    if (n <= t) {
        off[0] = 0;
        return 1;
    }
    int step = (int)lround(t * (1 - overlap));
    step = step < align ? align : step / align * align;
    int k = 0;
    for (int o = 0; k < max; o += step) {
        if (o + t >= n) {
            off[k++] = n - t;
            break;
        }
        off[k++] = o;
    }
    return k;
}

static tta_status each_view_tiled(tta_segmenter *s, const tta_policy *pol, const tta_image *img, int image_index, int T,
                                  tta_seg_view_fn fn, void *user) {
    int h = img->height, w = img->width;
    int th = h < T ? h : T, tw = w < T ? w : T;
    int mh, mw;
    model_size(s, th, tw, &mh, &mw);
    tta_aug_plan *plan = NULL;
    TTA_TRY(tta_aug_plan_new(&plan, pol, th, tw, mh, mw));
    int oy[1024], ox[1024];
    int ny = tile_offsets(h, th, s->overlap, 1, oy, 1024), nx = tile_offsets(w, tw, s->overlap, 1, ox, 1024);
    int n_tiles = ny * nx;
    tta_image *tiles = tta_calloc((size_t)n_tiles, sizeof *tiles);
    tta_status st = tiles ? TTA_OK : tta_errorf(TTA_ERR_NOMEM, "out of memory for %d tiles", n_tiles);
    for (int a = 0; !st && a < ny; a++)
        for (int b = 0; !st && b < nx; b++) st = crop(img, oy[a], ox[b], th, tw, &tiles[a * nx + b]);
    /* the output stride, from a first run of one tile's identity */
    view_out vo = {0};
    tile_acc ta = {0};
    float *weight = NULL, *merged = NULL;
    uint8_t *valid = NULL;
    int stride = 0;
    for (int v = 0; !st && v < pol->n_views; v++) {
        for (int k0 = 0; !st && k0 < n_tiles; k0 += s->max_batch) {
            int k1 = k0 + s->max_batch < n_tiles ? k0 + s->max_batch : n_tiles;
            /* one batch: tiles k0..k1 of view v; each item lands through tile_add */
            double t0 = now_s();
            int64_t dims[4] = {k1 - k0, s->fmt.batch.channels, mh, mw};
            if (s->fmt.batch.layout == TTA_LAYOUT_NHWC) dims[1] = mh, dims[2] = mw, dims[3] = s->fmt.batch.channels;
            st = tta_tensor_resize(&s->input, s->fmt.batch.dtype, 4, dims);
            if (!st) st = tta_augment_batch(plan, tiles + k0, k1 - k0, v, 1, &s->fmt.batch, s->input.data,
                                            tta_tensor_nbytes(&s->input));
            const tta_tensor *o = NULL;
            double t1 = now_s();
            if (!st) st = run_model(s, &o);
            double t2 = now_s();
            s->t_augment += t1 - t0;
            s->t_model += t2 - t1;
            for (int k = k0; !st && k < k1; k++) {
                int oh = 0, ow = 0, C = 0;
                st = probs_check(s, o, &C, &oh, &ow);
                if (!st) st = work_size(s, 1, (size_t)(C + 1) * oh * ow, 0, 0);
                if (!st) st = probs_fill(s, o, k - k0, s->work[0].probs);
                if (!st && !stride) {
                    st = output_stride(mh, mw, oh, ow, &stride);
                    if (!st) { /* first item: size the accumulators at the output stride */
                        ta.C = s->classes;
                        ta.dh = (h + stride - 1) / stride, ta.dw = (w + stride - 1) / stride;
                        ta.dh_t = (th + stride - 1) / stride, ta.dw_t = (tw + stride - 1) / stride;
                        ta.acc = tta_malloc(sizeof(float) * (size_t)ta.C * ta.dh * ta.dw);
                        ta.wsum = tta_malloc(sizeof(float) * (size_t)ta.dh * ta.dw);
                        weight = tta_malloc(sizeof(float) * (size_t)ta.dh_t * ta.dw_t);
                        valid = tta_malloc((size_t)ta.dh * ta.dw);
                        if (!ta.acc || !ta.wsum || !weight || !valid) st = tta_errorf(TTA_ERR_NOMEM, "out of memory");
                        for (int i = 0; !st && i < ta.dh_t; i++)
                            for (int j = 0; j < ta.dw_t; j++) {
                                double dy = (i + 0.5) - ta.dh_t / 2.0, dx = (j + 0.5) - ta.dw_t / 2.0;
                                double sg = s->sigma * (ta.dh_t > ta.dw_t ? ta.dh_t : ta.dw_t);
                                double g = s->sigma < 0 ? 1.0 : exp(-(dy * dy + dx * dx) / (2 * sg * sg));
                                weight[i * ta.dw_t + j] = (float)(g < 1e-3 ? 1e-3 : g); /* no zero weights */
                            }
                        ta.weight = weight;
                        if (!st) {
                            memset(ta.acc, 0, sizeof(float) * (size_t)ta.C * ta.dh * ta.dw);
                            memset(ta.wsum, 0, sizeof(float) * (size_t)ta.dh * ta.dw);
                        }
                    }
                }
                if (!st) st = view_out_size(&vo, (size_t)s->classes * ta.dh_t * ta.dw_t, (size_t)ta.dh_t * ta.dw_t);
                if (!st) st = tta_invert_dense(plan, v, stride, TTA_INTERP_BILINEAR, s->work[0].probs, s->classes, oh, ow,
                                               vo.map, ta.dh_t, ta.dw_t, vo.valid);
                if (!st) {
                    ta.tile_y = oy[k / nx] / stride, ta.tile_x = ox[k % nx] / stride;
                    st = tile_add(&ta, k, v, vo.map, vo.valid, s->classes, ta.dh_t, ta.dw_t);
                }
            }
            s->t_post += now_s() - t2;
        }
        if (st) break;
        /* the view's map: weighted mean of its tiles */
        size_t plane = (size_t)ta.dh * ta.dw;
        if (!merged) merged = tta_malloc(sizeof(float) * (size_t)ta.C * plane);
        if (!merged) {
            st = tta_errorf(TTA_ERR_NOMEM, "out of memory");
            break;
        }
        for (size_t i = 0; i < plane; i++) {
            float ws = ta.wsum[i];
            valid[i] = ws > 0;
            for (int c = 0; c < ta.C; c++) merged[c * plane + i] = ws > 0 ? ta.acc[c * plane + i] / ws : 0.0f;
        }
        st = fn(user, image_index, v, merged, valid, ta.C, ta.dh, ta.dw);
        memset(ta.acc, 0, sizeof(float) * (size_t)ta.C * plane);
        memset(ta.wsum, 0, sizeof(float) * plane);
    }
    for (int k = 0; tiles && k < n_tiles; k++) tta_image_destroy(&tiles[k]);
    tta_free(tiles);
    tta_free(ta.acc);
    tta_free(ta.wsum);
    tta_free(weight);
    tta_free(valid);
    tta_free(merged);
    view_out_free(&vo);
    tta_aug_plan_free(plan);
    return st;
}

tta_status tta_segment_each_view(tta_segmenter *s, const tta_policy *pol, const tta_image *images, int n,
                                 tta_seg_view_fn fn, void *user) {
    if (!s || !pol || !fn || (!images && n > 0) || n < 0)
        return tta_errorf(TTA_ERR_INVALID_ARG, "tta_segment_each_view: bad arguments");
    for (int i = 1; i < n; i++)
        if (images[i].height != images[0].height || images[i].width != images[0].width ||
            images[i].channels != images[0].channels)
            return tta_errorf(TTA_ERR_SHAPE, "tta_segment_each_view: image %d is %dx%d, image 0 %dx%d", i,
                              images[i].height, images[i].width, images[0].height, images[0].width);
    if (n == 0) return TTA_OK;
    int h = images[0].height, w = images[0].width;
    if (!s->dynamic && (s->fmt.height <= 0 || s->fmt.width <= 0))
        return tta_errorf(TTA_ERR_SHAPE, "the model's input size is not known: set it (--input-size HxW)");
    int T = tile_side(s, h, w);
    if (T) {
        for (int i = 0; i < n; i++) TTA_TRY(each_view_tiled(s, pol, &images[i], i, T, fn, user));
        return TTA_OK;
    }
    int mh, mw;
    model_size(s, h, w, &mh, &mw);
    tta_aug_plan *plan = NULL;
    TTA_TRY(tta_aug_plan_new(&plan, pol, h, w, mh, mw));
    tta_status st = TTA_OK;
    int nv = pol->n_views;
    if (nv <= s->max_batch) {
        int per = s->max_batch / nv;
        for (int i = 0; !st && i < n; i += per)
            st = run_items(s, plan, images, i, i + per < n ? i + per : n, 0, nv, mh, mw, h, w, fn, user);
    } else {
        for (int i = 0; !st && i < n; i++)
            for (int v = 0; !st && v < nv; v += s->max_batch)
                st = run_items(s, plan, images, i, i + 1, v, v + s->max_batch < nv ? v + s->max_batch : nv, mh, mw, h,
                               w, fn, user);
    }
    tta_aug_plan_free(plan);
    return st;
}

/* ---- one image, merged ---------------------------------------------------------------- */

typedef struct one_image {
    tta_seg_merger *m;
    tta_merge merge;
    const double *weights;
    float *ident_entropy; /* at the output resolution */
    int classes, h, w;
    tta_status err;
} one_image;

static tta_status one_add(void *user, int image, int view, const float *probs, const uint8_t *valid, int C, int h, int w) {
    (void)image;
    one_image *o = user;
    if (!o->m) {
        TTA_TRY(tta_seg_merger_new(&o->m, o->merge, C, h, w));
        o->classes = C, o->h = h, o->w = w;
        o->ident_entropy = tta_malloc(sizeof(float) * (size_t)h * w);
        if (!o->ident_entropy) return tta_errorf(TTA_ERR_NOMEM, "out of memory");
    }
    if (view == 0) tta_seg_entropy(probs, C, (size_t)h * w, o->ident_entropy); /* the single-pass baseline */
    double wt = o->weights ? o->weights[view] : 1.0;
    return wt > 0 ? tta_seg_merger_add(o->m, probs, valid, wt) : TTA_OK; /* "@ 0": the view does not count */
}

void tta_seg_result_destroy(tta_seg_result *r) {
    if (!r) return;
    tta_free(r->probs);
    tta_free(r->labels);
    for (int k = 0; k < TTA_UNC_COUNT; k++) tta_free(r->maps[k]);
    tta_free(r->identity_entropy);
    memset(r, 0, sizeof *r);
}

static tta_status result_size(tta_seg_result *r, int C, int h, int w) {
    if (r->probs && r->classes == C && r->height == h && r->width == w) return TTA_OK;
    tta_seg_result_destroy(r);
    size_t plane = (size_t)h * w;
    r->probs = tta_malloc(sizeof(float) * (size_t)C * plane);
    r->labels = tta_malloc(plane);
    r->identity_entropy = tta_malloc(sizeof(float) * plane);
    int ok = r->probs && r->labels && r->identity_entropy;
    for (int k = 0; k < TTA_UNC_COUNT; k++) ok &= (r->maps[k] = tta_malloc(sizeof(float) * plane)) != NULL;
    if (!ok) {
        tta_seg_result_destroy(r);
        return tta_errorf(TTA_ERR_NOMEM, "out of memory for a %d x %d result", h, w);
    }
    r->classes = C, r->height = h, r->width = w;
    return TTA_OK;
}

tta_status tta_segment(tta_segmenter *s, const tta_policy *pol, const tta_image *image, tta_merge merge,
                       tta_seg_result *r) {
    if (!s || !pol || !image || !r) return tta_errorf(TTA_ERR_INVALID_ARG, "tta_segment: NULL argument");
    if (s->classes > 256) return tta_errorf(TTA_ERR_UNSUPPORTED, "%d classes: label maps hold at most 256", s->classes);
    one_image o = {.merge = merge, .weights = pol->weights};
    tta_status st = tta_segment_each_view(s, pol, image, 1, one_add, &o);
    int H = image->height, W = image->width;
    if (!st) st = result_size(r, o.classes, H, W);
    if (!st) {
        r->n_views = pol->n_views;
        if (o.h == H && o.w == W) {
            st = tta_seg_merger_result(o.m, r->probs, r->labels, r->maps);
            if (!st) memcpy(r->identity_entropy, o.ident_entropy, sizeof(float) * (size_t)H * W);
        } else { /* merged at the output's resolution, then upsampled */
            size_t low = (size_t)o.h * o.w;
            float *p = tta_malloc(sizeof(float) * (size_t)o.classes * low), *mp[TTA_UNC_COUNT] = {0};
            int ok = p != NULL;
            for (int k = 0; k < TTA_UNC_COUNT; k++) ok &= (mp[k] = tta_malloc(sizeof(float) * low)) != NULL;
            st = ok ? tta_seg_merger_result(o.m, p, NULL, mp) : tta_errorf(TTA_ERR_NOMEM, "out of memory");
            if (!st) {
                tta_seg_upsample(p, o.classes, o.h, o.w, r->probs, H, W);
                for (int k = 0; k < TTA_UNC_COUNT; k++) tta_seg_upsample(mp[k], 1, o.h, o.w, r->maps[k], H, W);
                tta_seg_upsample(o.ident_entropy, 1, o.h, o.w, r->identity_entropy, H, W);
                size_t plane = (size_t)H * W;
                for (size_t i = 0; i < plane; i++) {
                    int best = 0;
                    for (int c = 1; c < o.classes; c++)
                        if (r->probs[c * plane + i] > r->probs[best * plane + i]) best = c;
                    r->labels[i] = (uint8_t)best;
                }
            }
            tta_free(p);
            for (int k = 0; k < TTA_UNC_COUNT; k++) tta_free(mp[k]);
        }
    }
    tta_seg_merger_free(o.m);
    tta_free(o.ident_entropy);
    return st;
}
