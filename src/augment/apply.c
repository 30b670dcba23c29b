/* apply.c - runs a compiled view on an image: each stage reads the previous result (the
 * input image first, then float scratch held by the plan) and the last step writes the
 * destination - an image, or one item of a model batch in NCHW or NHWC, float32 or uint8,
 * normalised. A final index stage (the common case: flips, shifts, crops, d4) gathers straight
 * from the input into the destination, so such a view costs one pass over its pixels.
 *
 * The loops are specialised by macro for uint8 and float32 sources and destinations; nothing
 * is called through a pointer per pixel. Values keep the source's scale (0..255 for uint8
 * images, 0..1 for float) until the final write converts them. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "augment/internal.h"
#include "core/error.h"

typedef struct src_desc {
    const void *data;
    int u8;
    int h, w, c;
} src_desc;

#define AUG_MAX_UNIFORM_C 4

typedef enum { CH_SAME, CH_MAP, CH_LUMA } ch_mode;

typedef struct dst_desc {
    void *data;
    int u8;
    size_t ps, cs; /* element strides of a pixel and of a channel */
    int c;         /* channels written */
    ch_mode mode;
    int map[AUG_MAX_UNIFORM_C]; /* CH_MAP: source channel of each output channel */
    int per_channel;            /* mul/add differ by channel (c <= 4) */
    float mul[AUG_MAX_UNIFORM_C], add[AUG_MAX_UNIFORM_C];
} dst_desc;

static inline uint8_t to_u8(float v) {
    return !(v > 0.0f) ? 0 : v >= 255.0f ? 255 : (uint8_t)(v + 0.5f);
}

/* ---- final write: gather (idx may be NULL for the identity) + channel mapping + scale ---- */

#define EMIT_BODY(ST, DT, STORE)                                                               \
    {                                                                                          \
        const ST *s = (const ST *)src->data;                                                   \
        DT *d = (DT *)dst->data;                                                               \
        const int cin = src->c, cout = dst->c, pc = dst->per_channel;                          \
        for (size_t p = 0; p < n; p++) {                                                       \
            long k = idx ? idx[p] : (long)p;                                                   \
            DT *o = d + p * dst->ps;                                                           \
            if (k < 0) {                                                                       \
                for (int c = 0; c < cout; c++) {                                               \
                    float m = dst->mul[pc ? c : 0], a = dst->add[pc ? c : 0];                  \
                    o[c * dst->cs] = STORE(fill * m + a);                                      \
                }                                                                              \
                continue;                                                                      \
            }                                                                                  \
            const ST *sp = s + (size_t)k * cin;                                                \
            if (dst->mode == CH_SAME && !pc) {                                                 \
                float m = dst->mul[0], a = dst->add[0];                                        \
                for (int c = 0; c < cout; c++) o[c * dst->cs] = STORE((float)sp[c] * m + a);   \
            } else if (dst->mode == CH_LUMA) {                                                 \
                float v = 0.299f * sp[0] + 0.587f * sp[1] + 0.114f * sp[2];                    \
                o[0] = STORE(v * dst->mul[0] + dst->add[0]);                                   \
            } else {                                                                           \
                for (int c = 0; c < cout; c++) {                                               \
                    float v = (float)sp[dst->mode == CH_MAP ? dst->map[c] : c];                \
                    o[c * dst->cs] = STORE(v * dst->mul[pc ? c : 0] + dst->add[pc ? c : 0]);   \
                }                                                                              \
            }                                                                                  \
        }                                                                                      \
    }

#define STORE_F(v) (v)
#define STORE_U8(v) to_u8(v)

static void emit(const src_desc *src, const int32_t *idx, float fill, const dst_desc *dst, size_t n) {
    if (src->u8 && dst->u8) EMIT_BODY(uint8_t, uint8_t, STORE_U8)
    else if (src->u8) EMIT_BODY(uint8_t, float, STORE_F)
    else if (dst->u8) EMIT_BODY(float, uint8_t, STORE_U8)
    else EMIT_BODY(float, float, STORE_F)
}

/* ---- stages into float scratch (HWC, same channel count) ---- */

#define INDEX_BODY(ST)                                                                         \
    {                                                                                          \
        const ST *s = (const ST *)src->data;                                                   \
        for (size_t p = 0; p < n; p++, d += C) {                                               \
            int32_t k = st->idx[p];                                                            \
            if (k < 0) {                                                                       \
                for (int c = 0; c < C; c++) d[c] = fill;                                       \
            } else {                                                                           \
                const ST *sp = s + (size_t)k * C;                                              \
                for (int c = 0; c < C; c++) d[c] = (float)sp[c];                               \
            }                                                                                  \
        }                                                                                      \
    }

static void run_index(const src_desc *src, const aug_stage *st, float fill, float *d) {
    const int C = src->c;
    size_t n = (size_t)st->out_h * st->out_w;
    if (src->u8) INDEX_BODY(uint8_t) else INDEX_BODY(float)
}

/* accumulate k weighted source pixels into d[0..C) */
#define TAPS_BODY(ST)                                                                          \
    {                                                                                          \
        const ST *s = (const ST *)src->data;                                                   \
        for (size_t p = 0; p < n; p++, d += C) {                                               \
            const int32_t *ki = st->idx + p * K;                                               \
            const float *wi = st->w + p * K;                                                   \
            for (int c = 0; c < C; c++) d[c] = 0.0f;                                           \
            for (int t = 0; t < K; t++) {                                                      \
                float wt = wi[t];                                                              \
                if (wt == 0.0f) continue;                                                      \
                if (ki[t] < 0) {                                                               \
                    for (int c = 0; c < C; c++) d[c] += wt * fill;                             \
                } else {                                                                       \
                    const ST *sp = s + (size_t)ki[t] * C;                                      \
                    for (int c = 0; c < C; c++) d[c] += wt * (float)sp[c];                     \
                }                                                                              \
            }                                                                                  \
        }                                                                                      \
    }

static void run_taps(const src_desc *src, const aug_stage *st, float fill, float *d) {
    const int C = src->c, K = st->k;
    size_t n = (size_t)st->out_h * st->out_w;
    if (src->u8) TAPS_BODY(uint8_t) else TAPS_BODY(float)
}

/* horizontal pass: every input row, out_w columns, into tmp */
#define SEP_ROWS_BODY(ST)                                                                      \
    {                                                                                          \
        const ST *s = (const ST *)src->data;                                                   \
        for (int y = 0; y < st->in_h; y++) {                                                   \
            const ST *row = s + (size_t)y * st->in_w * C;                                      \
            for (int j = 0; j < st->out_w; j++, d += C) {                                      \
                const int32_t *ki = st->ix + (size_t)j * K;                                    \
                const float *wi = st->wx + (size_t)j * K;                                      \
                for (int c = 0; c < C; c++) d[c] = 0.0f;                                       \
                for (int t = 0; t < K; t++) {                                                  \
                    float wt = wi[t];                                                          \
                    if (wt == 0.0f) continue;                                                  \
                    if (ki[t] < 0) {                                                           \
                        for (int c = 0; c < C; c++) d[c] += wt * fill;                         \
                    } else {                                                                   \
                        const ST *sp = row + (size_t)ki[t] * C;                                \
                        for (int c = 0; c < C; c++) d[c] += wt * (float)sp[c];                 \
                    }                                                                          \
                }                                                                              \
            }                                                                                  \
        }                                                                                      \
    }

static void run_sep(const src_desc *src, const aug_stage *st, float fill, float *out, float *tmp) {
    const int C = src->c;
    int K = st->kx;
    float *d = tmp;
    if (src->u8) SEP_ROWS_BODY(uint8_t) else SEP_ROWS_BODY(float)
    /* vertical pass: rows of tmp into out */
    size_t row_len = (size_t)st->out_w * C;
    K = st->ky;
    for (int i = 0; i < st->out_h; i++) {
        float *o = out + (size_t)i * row_len;
        memset(o, 0, row_len * sizeof *o);
        for (int t = 0; t < K; t++) {
            float wt = st->wy[(size_t)i * K + t];
            int32_t k = st->iy[(size_t)i * K + t];
            if (wt == 0.0f) continue;
            if (k < 0) {
                for (size_t e = 0; e < row_len; e++) o[e] += wt * fill;
            } else {
                const float *r = tmp + (size_t)k * row_len;
                for (size_t e = 0; e < row_len; e++) o[e] += wt * r[e];
            }
        }
    }
}

static inline float clampf(float v, float hi) { return v < 0.0f ? 0.0f : v > hi ? hi : v; }

static void run_colour(const src_desc *src, const aug_stage *st, float maxv, float *d) {
    const int C = src->c;
    const int nc = (C == 2 || C == 4) ? C - 1 : C; /* the last channel is alpha */
    size_t n = (size_t)st->out_h * st->out_w, ne = n * C;
    if (src->u8) {
        const uint8_t *s = src->data;
        for (size_t e = 0; e < ne; e++) d[e] = s[e];
    } else if (src->data != d) {
        memcpy(d, src->data, ne * sizeof *d);
    }
    const float f = st->param;
    switch (st->colour) {
    case TTA_OP_BRIGHTNESS:
        for (size_t p = 0; p < n; p++)
            for (int c = 0; c < nc; c++) d[p * C + c] = clampf(d[p * C + c] * f, maxv);
        break;
    case TTA_OP_CONTRAST: {
        double sum = 0;
        for (size_t p = 0; p < n; p++) {
            const float *px = d + p * C;
            sum += nc >= 3 ? 0.299 * px[0] + 0.587 * px[1] + 0.114 * px[2] : px[0];
        }
        float m = (float)(sum / (double)n);
        for (size_t p = 0; p < n; p++)
            for (int c = 0; c < nc; c++) d[p * C + c] = clampf(m + f * (d[p * C + c] - m), maxv);
        break;
    }
    case TTA_OP_GAMMA:
        for (size_t p = 0; p < n; p++)
            for (int c = 0; c < nc; c++)
                d[p * C + c] = clampf(maxv * powf(clampf(d[p * C + c], maxv) / maxv, f), maxv);
        break;
    case TTA_OP_SATURATION:
        for (size_t p = 0; p < n; p++) {
            float *px = d + p * C;
            float g = 0.299f * px[0] + 0.587f * px[1] + 0.114f * px[2];
            for (int c = 0; c < 3; c++) px[c] = clampf(g + f * (px[c] - g), maxv);
        }
        break;
    default: break;
    }
}

/* ---- driver ---- */

static tta_status check_image(const tta_aug_plan *plan, const tta_image *img, const char *what) {
    if (!img || !img->data || img->channels <= 0 ||
        (img->dtype != TTA_DTYPE_UINT8 && img->dtype != TTA_DTYPE_FLOAT32))
        return tta_errorf(TTA_ERR_INVALID_ARG, "%s: the image is empty or not uint8/float32", what);
    if (img->height != plan->in_h || img->width != plan->in_w)
        return tta_errorf(TTA_ERR_SHAPE, "%s: the image is %dx%d but the plan was made for %dx%d", what,
                          img->height, img->width, plan->in_h, plan->in_w);
    return TTA_OK;
}

static tta_status ensure_scratch(tta_aug_plan *plan, int channels) {
    size_t need = plan->max_pixels * (size_t)channels, need_sep = plan->max_sep * (size_t)channels;
    for (int b = 0; b < 2 && plan->buf_cap < need; b++) {
        float *p = tta_realloc(plan->buf[b], need * sizeof *p);
        if (!p) return tta_errorf(TTA_ERR_NOMEM, "out of memory for augmentation scratch");
        plan->buf[b] = p;
        if (b == 1) plan->buf_cap = need;
    }
    if (plan->sep_cap < need_sep) {
        float *p = tta_realloc(plan->sep, need_sep * sizeof *p);
        if (!p) return tta_errorf(TTA_ERR_NOMEM, "out of memory for augmentation scratch");
        plan->sep = p;
        plan->sep_cap = need_sep;
    }
    return TTA_OK;
}

static tta_status run_view(tta_aug_plan *plan, int v, const tta_image *img, const dst_desc *dst) {
    const aug_view *av = &plan->views[v];
    if (av->needs_colour && img->channels < 3)
        return tta_errorf(TTA_ERR_SHAPE, "view %d: saturation needs a colour image, this one has %d channel%s", v,
                          img->channels, img->channels == 1 ? "" : "s");
    TTA_TRY(ensure_scratch(plan, img->channels));
    const float maxv = img->dtype == TTA_DTYPE_UINT8 ? 255.0f : 1.0f;
    src_desc cur = {img->data, img->dtype == TTA_DTYPE_UINT8, img->height, img->width, img->channels};
    int which = 0;
    for (int s = 0; s < av->n_stages; s++) {
        const aug_stage *st = &av->stages[s];
        float fill = st->fill * maxv;
        if (s == av->n_stages - 1 && st->kind == AUG_STAGE_INDEX) {
            emit(&cur, st->idx, fill, dst, (size_t)st->out_h * st->out_w);
            return TTA_OK;
        }
        float *out = plan->buf[which];
        which ^= 1;
        switch (st->kind) {
        case AUG_STAGE_INDEX: run_index(&cur, st, fill, out); break;
        case AUG_STAGE_TAPS: run_taps(&cur, st, fill, out); break;
        case AUG_STAGE_SEP: run_sep(&cur, st, fill, out, plan->sep); break;
        case AUG_STAGE_COLOUR: run_colour(&cur, st, maxv, out); break;
        }
        cur = (src_desc){out, 0, st->out_h, st->out_w, img->channels};
    }
    emit(&cur, NULL, 0.0f, dst, (size_t)cur.h * cur.w);
    return TTA_OK;
}

tta_status tta_augment_view(tta_aug_plan *plan, int v, const tta_image *src, tta_dtype dtype, tta_image *dst) {
    if (!plan || !dst || v < 0 || v >= plan->n_views)
        return tta_errorf(TTA_ERR_INVALID_ARG, "tta_augment_view: bad plan, view %d or destination", v);
    if (dtype != TTA_DTYPE_UINT8 && dtype != TTA_DTYPE_FLOAT32)
        return tta_errorf(TTA_ERR_INVALID_ARG, "tta_augment_view: dtype %s is not uint8 or float32",
                          tta_dtype_name(dtype));
    if (dst == src) return tta_errorf(TTA_ERR_INVALID_ARG, "tta_augment_view: dst must differ from src");
    TTA_TRY(check_image(plan, src, "tta_augment_view"));
    const aug_view *av = &plan->views[v];
    TTA_TRY(tta_image_init(dst, av->out_h, av->out_w, src->channels, dtype));
    float in_max = src->dtype == TTA_DTYPE_UINT8 ? 255.0f : 1.0f;
    float out_max = dtype == TTA_DTYPE_UINT8 ? 255.0f : 1.0f;
    dst_desc d = {dst->data, dtype == TTA_DTYPE_UINT8, (size_t)src->channels, 1, src->channels, CH_SAME,
                  {0}, 0, {out_max / in_max}, {0}};
    return run_view(plan, v, src, &d);
}

/* channel conversion of a batch; returns 0 if unsupported */
static int set_channels(dst_desc *d, int cin, int cout) {
    d->c = cout;
    if (cin == cout) {
        d->mode = CH_SAME;
        return 1;
    }
    d->mode = CH_MAP;
    if (cout == 3 && (cin == 1 || cin == 2)) {
        d->map[0] = d->map[1] = d->map[2] = 0;
    } else if (cout == 3 && cin == 4) {
        d->map[0] = 0, d->map[1] = 1, d->map[2] = 2;
    } else if (cout == 1 && cin == 2) {
        d->map[0] = 0;
    } else if (cout == 1 && (cin == 3 || cin == 4)) {
        d->mode = CH_LUMA;
    } else {
        return 0;
    }
    return 1;
}

size_t tta_batch_bytes(const tta_aug_plan *plan, int n_images, int first_view, int n_views,
                       const tta_batch_format *fmt, int channels) {
    if (!plan || !fmt || n_images < 0 || n_views < 1 || first_view < 0 || first_view >= plan->n_views)
        return 0;
    const aug_view *av = &plan->views[first_view];
    int c = fmt->channels > 0 ? fmt->channels : channels;
    size_t esize = fmt->dtype == TTA_DTYPE_UINT8 ? 1 : 4; /* UNDEFINED means float32 */
    return (size_t)n_images * n_views * av->out_h * av->out_w * (size_t)c * esize;
}

tta_status tta_augment_batch(tta_aug_plan *plan, const tta_image *images, int n_images, int first_view,
                             int n_views, const tta_batch_format *fmt, void *out, size_t out_bytes) {
    if (!plan || !images || !fmt || !out || n_images < 1 || n_views < 1 || first_view < 0 ||
        first_view + n_views > plan->n_views)
        return tta_errorf(TTA_ERR_INVALID_ARG,
                          "tta_augment_batch: bad arguments (views %d..%d of %d, %d images)", first_view,
                          first_view + n_views - 1, plan ? plan->n_views : 0, n_images);
    if (fmt->dtype != TTA_DTYPE_FLOAT32 && fmt->dtype != TTA_DTYPE_UINT8 && fmt->dtype != TTA_DTYPE_UNDEFINED)
        return tta_errorf(TTA_ERR_INVALID_ARG, "tta_augment_batch: batch dtype %s is not float32 or uint8",
                          tta_dtype_name(fmt->dtype));
    if (fmt->layout != TTA_LAYOUT_NCHW && fmt->layout != TTA_LAYOUT_NHWC)
        return tta_errorf(TTA_ERR_INVALID_ARG, "tta_augment_batch: unknown layout %d", (int)fmt->layout);
    TTA_TRY(check_image(plan, &images[0], "tta_augment_batch: image 0"));
    const int cin = images[0].channels, cout = fmt->channels > 0 ? fmt->channels : cin;
    const aug_view *v0 = &plan->views[first_view];
    for (int v = first_view + 1; v < first_view + n_views; v++) {
        const aug_view *av = &plan->views[v];
        if (av->out_h != v0->out_h || av->out_w != v0->out_w) {
            char text[256];
            tta_view_format(&av->view, text, sizeof text);
            return tta_errorf(TTA_ERR_SHAPE,
                              "tta_augment_batch: view %d (%s) is %dx%d but view %d is %dx%d; give "
                              "tta_aug_plan_new an output size to batch them", v, text, av->out_h, av->out_w,
                              first_view, v0->out_h, v0->out_w);
        }
    }
    size_t need = tta_batch_bytes(plan, n_images, first_view, n_views, fmt, cin);
    if (out_bytes < need)
        return tta_errorf(TTA_ERR_SHAPE, "tta_augment_batch: the output buffer has %zu bytes, %zu needed",
                          out_bytes, need);
    dst_desc d = {0};
    d.u8 = fmt->dtype == TTA_DTYPE_UINT8;
    const tta_dtype out_dtype = d.u8 ? TTA_DTYPE_UINT8 : TTA_DTYPE_FLOAT32;
    if (!set_channels(&d, cin, cout))
        return tta_errorf(TTA_ERR_UNSUPPORTED, "tta_augment_batch: cannot turn %d-channel images into %d channels",
                          cin, cout);
    const float in_max = images[0].dtype == TTA_DTYPE_UINT8 ? 255.0f : 1.0f;
    const float scale = fmt->scale != 0.0f ? fmt->scale : d.u8 ? 255.0f : 1.0f;
    int normalised = 0;
    for (int c = 0; c < 4; c++) normalised |= fmt->mean[c] != 0.0f || (fmt->std[c] != 0.0f && fmt->std[c] != 1.0f);
    if (normalised && cout > AUG_MAX_UNIFORM_C)
        return tta_errorf(TTA_ERR_UNSUPPORTED, "tta_augment_batch: mean/std are per channel for up to 4 channels, not %d",
                          cout);
    d.per_channel = normalised;
    for (int c = 0; c < (normalised ? cout : 1); c++) {
        float sd = fmt->std[c] != 0.0f ? fmt->std[c] : 1.0f;
        d.mul[c] = scale / (in_max * sd);
        d.add[c] = -fmt->mean[c] / sd;
    }
    const size_t hw = (size_t)v0->out_h * v0->out_w, item = hw * cout, esize = tta_dtype_size(out_dtype);
    d.ps = fmt->layout == TTA_LAYOUT_NCHW ? 1 : (size_t)cout;
    d.cs = fmt->layout == TTA_LAYOUT_NCHW ? hw : 1;
    for (int i = 0; i < n_images; i++) {
        if (i > 0) {
            char what[64];
            snprintf(what, sizeof what, "tta_augment_batch: image %d", i);
            TTA_TRY(check_image(plan, &images[i], what));
            if (images[i].channels != cin || images[i].dtype != images[0].dtype)
                return tta_errorf(TTA_ERR_SHAPE, "tta_augment_batch: image %d has %d channels (%s), image 0 %d (%s)",
                                  i, images[i].channels, tta_dtype_name(images[i].dtype), cin,
                                  tta_dtype_name(images[0].dtype));
        }
        for (int v = first_view; v < first_view + n_views; v++) {
            d.data = (char *)out + ((size_t)i * n_views + (size_t)(v - first_view)) * item * esize;
            TTA_TRY(run_view(plan, v, &images[i], &d));
        }
    }
    return TTA_OK;
}
