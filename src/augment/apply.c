/* apply.c - runs a compiled view on an image: each stage reads the previous result (the
 * input image first, then float scratch held by the plan) and the last step writes the
 * destination - an image, or one item of a model batch in NCHW or NHWC, float32 or uint8,
 * normalised. A final index stage (the common case: flips, shifts, crops, d4) gathers straight
 * from the input into the destination, so such a view costs one pass over its pixels.
 *
 * A final interpolating stage (rotate, resize) also writes the destination directly. The loops
 * are specialised for uint8/float32 sources and destinations and common channel counts; nothing
 * is called through a pointer per pixel. Values keep the source's scale (0..255 for uint8
 * images, 0..1 for float) until the final write converts them. tta_augment_batch splits the
 * items of a batch over the OpenMP threads. */
#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <string.h>

#include "augment/internal.h"
#include "core/alloc.h"
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

static inline uint8_t to_u8(float v) { return !(v > 0.0f) ? 0 : v >= 255.0f ? 255 : (uint8_t)(v + 0.5f); }

/* The kernels below are written once with the element types (su8, du8), the channel count C and
 * the tap count K as arguments, and always inlined into dispatchers that pass constants for the
 * common cases, so the compiler emits a specialised loop for each (no per-pixel branching on
 * types, no function pointers). */
#define AUG_INLINE static inline __attribute__((always_inline))

AUG_INLINE float load(const void *s, size_t i, int su8) {
    return su8 ? (float)((const uint8_t *)s)[i] : ((const float *)s)[i];
}

AUG_INLINE void store(void *d, size_t i, float v, int du8) {
    if (du8)
        ((uint8_t *)d)[i] = to_u8(v);
    else
        ((float *)d)[i] = v;
}

/* ---- final write: gather (idx may be NULL for the identity) + channel mapping + scale,
 * one output channel plane at a time ---- */

AUG_INLINE void emit_body(const void *s, int su8, int cin, const int32_t *idx, float fill,
                          const dst_desc *dst, size_t n, int du8) {
    void *d = dst->data;
    const size_t ps = dst->ps, cs = dst->cs;
    const int cout = dst->c, pc = dst->per_channel;
    if (dst->mode == CH_LUMA) {
        const float m = dst->mul[0], a = dst->add[0], fv = fill * m + a;
        for (size_t p = 0; p < n; p++) {
            long k = idx ? idx[p] : (long)p;
            float v = fv;
            if (k >= 0) {
                size_t b = (size_t)k * cin;
                v = (0.299f * load(s, b, su8) + 0.587f * load(s, b + 1, su8) + 0.114f * load(s, b + 2, su8)) *
                        m +
                    a;
            }
            store(d, p * ps, v, du8);
        }
        return;
    }
    for (int c = 0; c < cout; c++) {
        const float m = dst->mul[pc ? c : 0], a = dst->add[pc ? c : 0], fv = fill * m + a;
        const int sc = dst->mode == CH_MAP ? dst->map[c] : c;
        const size_t off = (size_t)c * cs;
        if (!idx && ps == 1) {
            for (size_t p = 0; p < n; p++)
                store(d, off + p, load(s, p * cin + sc, su8) * m + a, du8);
        } else if (!idx) {
            for (size_t p = 0; p < n; p++)
                store(d, off + p * ps, load(s, p * cin + sc, su8) * m + a, du8);
        } else {
            for (size_t p = 0; p < n; p++) {
                int32_t k = idx[p];
                float v = k < 0 ? fv : load(s, (size_t)k * cin + sc, su8) * m + a;
                store(d, off + p * ps, v, du8);
            }
        }
    }
}

/* a gather keeping the channels, one pixel at a time (C is a constant after inlining): the index
 * is read once per pixel and every channel written from registers */
AUG_INLINE void gather_body(const void *s, int su8, int C, const int32_t *idx, float fill,
                            const dst_desc *dst, size_t n, int du8) {
    float m[4], a[4], fv[4];
    for (int c = 0; c < C; c++) {
        m[c] = dst->mul[dst->per_channel ? c : 0], a[c] = dst->add[dst->per_channel ? c : 0];
        fv[c] = fill * m[c] + a[c];
    }
    void *d = dst->data;
    const size_t ps = dst->ps, cs = dst->cs;
    for (size_t p = 0; p < n; p++) {
        const int32_t k = idx[p];
        if (k < 0) {
            for (int c = 0; c < C; c++)
                store(d, p * ps + c * cs, fv[c], du8);
        } else {
            const size_t b = (size_t)k * C;
            for (int c = 0; c < C; c++)
                store(d, p * ps + c * cs, load(s, b + c, su8) * m[c] + a[c], du8);
        }
    }
}

static void emit(const src_desc *src, const int32_t *idx, float fill, const dst_desc *dst, size_t n) {
    const int cin = src->c;
    if (idx && dst->mode == CH_SAME && (cin == 1 || cin == 3)) {
        const int key = (src->u8 << 2) | (dst->u8 << 1) | (cin == 3);
        switch (key) {
        case 0: gather_body(src->data, 0, 1, idx, fill, dst, n, 0); break;
        case 1: gather_body(src->data, 0, 3, idx, fill, dst, n, 0); break;
        case 2: gather_body(src->data, 0, 1, idx, fill, dst, n, 1); break;
        case 3: gather_body(src->data, 0, 3, idx, fill, dst, n, 1); break;
        case 4: gather_body(src->data, 1, 1, idx, fill, dst, n, 0); break;
        case 5: gather_body(src->data, 1, 3, idx, fill, dst, n, 0); break;
        case 6: gather_body(src->data, 1, 1, idx, fill, dst, n, 1); break;
        default: gather_body(src->data, 1, 3, idx, fill, dst, n, 1); break;
        }
        return;
    }
    if (src->u8 && dst->u8)
        emit_body(src->data, 1, cin, idx, fill, dst, n, 1);
    else if (src->u8)
        emit_body(src->data, 1, cin, idx, fill, dst, n, 0);
    else if (dst->u8)
        emit_body(src->data, 0, cin, idx, fill, dst, n, 1);
    else
        emit_body(src->data, 0, cin, idx, fill, dst, n, 0);
}

/* the destination seen from output pixel `first` on */
static dst_desc dst_from(const dst_desc *dst, size_t first) {
    dst_desc d = *dst;
    d.data = (char *)dst->data + first * dst->ps * (dst->u8 ? 1 : sizeof(float));
    return d;
}

/* ---- interpolation taps (rotations), written through a dst_desc: the destination itself when
 * this is the last stage, or float scratch ---- */

AUG_INLINE float taps_sum(const void *s, int su8, int C, int c, int K, const int32_t *ki, const float *wi,
                          float fill) {
    float acc = 0.0f;
    for (int t = 0; t < K; t++)
        acc += wi[t] * (ki[t] < 0 ? fill : load(s, (size_t)ki[t] * C + c, su8));
    return acc;
}

/* four consecutive elements as a vector (GCC/Clang vector extension): the three channels of an RGB
 * pixel and one element of the next, which is ignored */
typedef float aug_v4f __attribute__((vector_size(16)));
typedef uint8_t aug_v4u8 __attribute__((vector_size(4)));

AUG_INLINE aug_v4f load4(const void *s, size_t i, int su8) {
    if (su8) {
        aug_v4u8 b;
        memcpy(&b, (const uint8_t *)s + i, sizeof b);
        return __builtin_convertvector(b, aug_v4f);
    }
    aug_v4f v;
    memcpy(&v, (const float *)s + i, sizeof v);
    return v;
}

AUG_INLINE void taps_body(const void *s, int su8, int C, const aug_stage *st, float fill, const dst_desc *dst,
                          int du8) {
    const size_t n = (size_t)st->out_h * st->out_w, ps = dst->ps, cs = dst->cs, row = (size_t)st->in_w * C;
    const size_t total = row * st->in_h;
    const int pc = dst->per_channel, K = st->k;
    const aug_v4f mv = {dst->mul[0], dst->mul[pc ? 1 : 0], dst->mul[pc ? 2 : 0], 0.0f};
    const aug_v4f av = {dst->add[0], dst->add[pc ? 1 : 0], dst->add[pc ? 2 : 0], 0.0f};
    void *d = dst->data;
    for (size_t p = 0; p < n; p++) {
        const int32_t b = st->idx[p];
        if (C == 3 && st->frac && b >= 0 &&
            (size_t)b * 3 + row + 7 <= total) { /* RGB, all channels at once */
            const size_t off = (size_t)b * 3;
            const float fx = st->frac[2 * p], fy = st->frac[2 * p + 1];
            const aug_v4f fxv = {fx, fx, fx, fx}, fyv = {fy, fy, fy, fy};
            aug_v4f v00 = load4(s, off, su8), v01 = load4(s, off + 3, su8);
            aug_v4f v10 = load4(s, off + row, su8), v11 = load4(s, off + row + 3, su8);
            aug_v4f top = v00 + fxv * (v01 - v00), bot = v10 + fxv * (v11 - v10);
            aug_v4f v = (top + fyv * (bot - top)) * mv + av;
            store(d, p * ps, v[0], du8);
            store(d, p * ps + cs, v[1], du8);
            store(d, p * ps + 2 * cs, v[2], du8);
        } else if (!st->frac) { /* k taps per pixel */
            for (int c = 0; c < C; c++) {
                float v = taps_sum(s, su8, C, c, K, st->idx + p * K, st->w + p * K, fill);
                store(d, p * ps + c * cs, v * dst->mul[pc ? c : 0] + dst->add[pc ? c : 0], du8);
            }
        } else if (b >= 0) { /* bilinear inside the image */
            const size_t off = (size_t)b * C;
            const float fx = st->frac[2 * p], fy = st->frac[2 * p + 1];
            for (int c = 0; c < C; c++) {
                float v00 = load(s, off + c, su8), v01 = load(s, off + C + c, su8);
                float v10 = load(s, off + row + c, su8), v11 = load(s, off + row + C + c, su8);
                float top = v00 + fx * (v01 - v00), bot = v10 + fx * (v11 - v10);
                store(d, p * ps + c * cs,
                      (top + fy * (bot - top)) * dst->mul[pc ? c : 0] + dst->add[pc ? c : 0], du8);
            }
        } else { /* bilinear at the border: 4 taps */
            const size_t slot = (size_t)(-1 - (long)b) * 4;
            for (int c = 0; c < C; c++) {
                float v = taps_sum(s, su8, C, c, 4, st->bidx + slot, st->bw + slot, fill);
                store(d, p * ps + c * cs, v * dst->mul[pc ? c : 0] + dst->add[pc ? c : 0], du8);
            }
        }
    }
}

/* dst must keep the channels (CH_SAME) */
static void run_taps(const src_desc *src, const aug_stage *st, float fill, const dst_desc *dst) {
    const int C = src->c, key = (src->u8 << 1) | dst->u8;
    const void *s = src->data;
#define TAPS_C(SU8, DU8)                                                                                     \
    do {                                                                                                     \
        if (C == 1)                                                                                          \
            taps_body(s, SU8, 1, st, fill, dst, DU8);                                                        \
        else if (C == 3)                                                                                     \
            taps_body(s, SU8, 3, st, fill, dst, DU8);                                                        \
        else                                                                                                 \
            taps_body(s, SU8, C, st, fill, dst, DU8);                                                        \
    } while (0)
    switch (key) {
    case 0: TAPS_C(0, 0); break;
    case 1: TAPS_C(0, 1); break;
    case 2: TAPS_C(1, 0); break;
    default: TAPS_C(1, 1); break;
    }
#undef TAPS_C
}

/* ---- stages into float scratch (HWC, same channel count) ---- */

AUG_INLINE void index_body(const void *s, int su8, int C, const int32_t *idx, float fill, float *d,
                           size_t n) {
    for (size_t p = 0; p < n; p++, d += C) {
        int32_t k = idx[p];
        for (int c = 0; c < C; c++)
            d[c] = k < 0 ? fill : load(s, (size_t)k * C + c, su8);
    }
}

static void run_index(const src_desc *src, const aug_stage *st, float fill, float *d) {
    const size_t n = (size_t)st->out_h * st->out_w;
    const int C = src->c;
    if (src->u8) {
        if (C == 1)
            index_body(src->data, 1, 1, st->idx, fill, d, n);
        else if (C == 3)
            index_body(src->data, 1, 3, st->idx, fill, d, n);
        else
            index_body(src->data, 1, C, st->idx, fill, d, n);
    } else {
        if (C == 1)
            index_body(src->data, 0, 1, st->idx, fill, d, n);
        else if (C == 3)
            index_body(src->data, 0, 3, st->idx, fill, d, n);
        else
            index_body(src->data, 0, C, st->idx, fill, d, n);
    }
}

/* horizontal pass of a separable stage: every input row, out_w columns, into tmp */
AUG_INLINE void sep_rows_body(const void *s, int su8, int C, const aug_stage *st, float fill, float *d) {
    const int K = st->kx, out_w = st->out_w;
    for (int y = 0; y < st->in_h; y++) {
        const size_t row = (size_t)y * st->in_w * C;
        const int32_t *ki = st->ix;
        const float *wi = st->wx;
        for (int j = 0; j < out_w; j++, d += C, ki += K, wi += K) {
            for (int c = 0; c < C; c++) {
                float acc = 0.0f;
                for (int t = 0; t < K; t++)
                    acc += wi[t] * (ki[t] < 0 ? fill : load(s, row + (size_t)ki[t] * C + c, su8));
                d[c] = acc;
            }
        }
    }
}

/* With `final`, each output row goes through `out` (one row of scratch) straight into the
 * destination instead of filling the whole output in scratch. */
static void run_sep(const src_desc *src, const aug_stage *st, float fill, float *out, float *tmp,
                    const dst_desc *final) {
    const int C = src->c;
    if (src->u8) {
        if (C == 1)
            sep_rows_body(src->data, 1, 1, st, fill, tmp);
        else if (C == 3)
            sep_rows_body(src->data, 1, 3, st, fill, tmp);
        else
            sep_rows_body(src->data, 1, C, st, fill, tmp);
    } else {
        if (C == 1)
            sep_rows_body(src->data, 0, 1, st, fill, tmp);
        else if (C == 3)
            sep_rows_body(src->data, 0, 3, st, fill, tmp);
        else
            sep_rows_body(src->data, 0, C, st, fill, tmp);
    }
    /* vertical pass: weighted sums of whole rows of tmp */
    const size_t row_len = (size_t)st->out_w * C;
    const int K = st->ky;
    for (int i = 0; i < st->out_h; i++) {
        float *restrict o = final ? out : out + (size_t)i * row_len;
        const int32_t *ki = st->iy + (size_t)i * K;
        const float *wi = st->wy + (size_t)i * K;
        int first = 1;
        for (int t = 0; t < K; t++) {
            const float wt = wi[t];
            if (wt == 0.0f) continue;
            if (ki[t] < 0) {
                for (size_t e = 0; e < row_len; e++)
                    o[e] = (first ? 0.0f : o[e]) + wt * fill;
            } else {
                const float *restrict r = tmp + (size_t)ki[t] * row_len;
                if (first)
                    for (size_t e = 0; e < row_len; e++)
                        o[e] = wt * r[e];
                else
                    for (size_t e = 0; e < row_len; e++)
                        o[e] += wt * r[e];
            }
            first = 0;
        }
        if (first) memset(o, 0, row_len * sizeof *o);
        if (final) {
            src_desc row = {o, 0, 1, st->out_w, C};
            dst_desc d = dst_from(final, (size_t)i * st->out_w);
            emit(&row, NULL, 0.0f, &d, (size_t)st->out_w);
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
        for (size_t e = 0; e < ne; e++)
            d[e] = s[e];
    } else if (src->data != d) {
        memcpy(d, src->data, ne * sizeof *d);
    }
    const float f = st->param;
    switch (st->colour) {
    case TTA_OP_BRIGHTNESS:
        for (size_t p = 0; p < n; p++)
            for (int c = 0; c < nc; c++)
                d[p * C + c] = clampf(d[p * C + c] * f, maxv);
        break;
    case TTA_OP_CONTRAST: {
        double sum = 0;
        for (size_t p = 0; p < n; p++) {
            const float *px = d + p * C;
            sum += nc >= 3 ? 0.299 * px[0] + 0.587 * px[1] + 0.114 * px[2] : px[0];
        }
        float m = (float)(sum / (double)n);
        for (size_t p = 0; p < n; p++)
            for (int c = 0; c < nc; c++)
                d[p * C + c] = clampf(m + f * (d[p * C + c] - m), maxv);
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
            for (int c = 0; c < 3; c++)
                px[c] = clampf(g + f * (px[c] - g), maxv);
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

/* Grows each thread's scratch to what views first_view .. first_view + n_views - 1 need. */
static tta_status ensure_scratch(tta_aug_plan *plan, int first_view, int n_views, int channels, int n_threads) {
    size_t need[2] = {0, 0}, need_sep = 0;
    for (int v = first_view; v < first_view + n_views; v++) {
        const aug_view *av = &plan->views[v];
        for (int b = 0; b < 2; b++)
            if (av->buf_pixels[b] > need[b]) need[b] = av->buf_pixels[b];
        if (av->sep_pixels > need_sep) need_sep = av->sep_pixels;
    }
    need_sep *= (size_t)channels;
    for (int t = 0; t < n_threads; t++) {
        aug_scratch *sc = &plan->scratch[t];
        for (int b = 0; b < 2; b++) {
            size_t n = need[b] * (size_t)channels;
            if (sc->buf_cap[b] >= n) continue;
            float *p = tta_realloc(sc->buf[b], n * sizeof *p);
            if (!p) return tta_errorf(TTA_ERR_NOMEM, "out of memory for augmentation scratch");
            sc->buf[b] = p;
            sc->buf_cap[b] = n;
        }
        if (sc->sep_cap < need_sep) {
            float *p = tta_realloc(sc->sep, need_sep * sizeof *p);
            if (!p) return tta_errorf(TTA_ERR_NOMEM, "out of memory for augmentation scratch");
            sc->sep = p;
            sc->sep_cap = need_sep;
        }
        size_t need_conv = (size_t)plan->in_h * plan->in_w * channels;
        if (sc->conv_cap < need_conv) {
            float *p = tta_realloc(sc->conv, need_conv * sizeof *p);
            if (!p) return tta_errorf(TTA_ERR_NOMEM, "out of memory for augmentation scratch");
            sc->conv = p;
            sc->conv_cap = need_conv;
        }
        sc->conv_of = NULL; /* the caller's images may have changed since the last call */
    }
    return TTA_OK;
}

static tta_status check_view_input(const tta_aug_plan *plan, int v, const tta_image *img) {
    if (plan->views[v].needs_colour && img->channels < 3)
        return tta_errorf(TTA_ERR_SHAPE,
                          "view %d: saturation needs a colour image, this one has %d channel%s", v,
                          img->channels, img->channels == 1 ? "" : "s");
    return TTA_OK;
}

/* Runs view v on img into dst, with scratch sc (large enough: ensure_scratch); cannot fail. */
static void run_view(const tta_aug_plan *plan, aug_scratch *sc, int v, const tta_image *img,
                     const dst_desc *dst) {
    const aug_view *av = &plan->views[v];
    const float maxv = img->dtype == TTA_DTYPE_UINT8 ? 255.0f : 1.0f;
    src_desc cur = {img->data, img->dtype == TTA_DTYPE_UINT8, img->height, img->width, img->channels};
    if (cur.u8 && av->n_stages > 0 &&
        (av->stages[0].kind == AUG_STAGE_TAPS || av->stages[0].kind == AUG_STAGE_SEP)) {
        /* interpolation reads every input value several times: convert it once per image */
        if (sc->conv_of != img) {
            const size_t ne = (size_t)img->height * img->width * img->channels;
            const uint8_t *u = img->data;
            for (size_t e = 0; e < ne; e++)
                sc->conv[e] = u[e];
            sc->conv_of = img;
        }
        cur.data = sc->conv;
        cur.u8 = 0;
    }
    int which = 0;
    for (int s = 0; s < av->n_stages; s++) {
        const aug_stage *st = &av->stages[s];
        float fill = st->fill * maxv;
        float *out = sc->buf[which];
        which ^= 1;
        if (s == av->n_stages - 1) { /* the last stage writes the destination itself if it can */
            if (st->kind == AUG_STAGE_INDEX) {
                emit(&cur, st->idx, fill, dst, (size_t)st->out_h * st->out_w);
                return;
            }
            if (st->kind == AUG_STAGE_TAPS && dst->mode == CH_SAME) {
                run_taps(&cur, st, fill, dst);
                return;
            }
            if (st->kind == AUG_STAGE_SEP) {
                run_sep(&cur, st, fill, out, sc->sep, dst);
                return;
            }
        }
        switch (st->kind) {
        case AUG_STAGE_INDEX: run_index(&cur, st, fill, out); break;
        case AUG_STAGE_TAPS: {
            dst_desc scratch = {out, 0, (size_t)cur.c, 1, cur.c, CH_SAME, {0}, 0, {1.0f}, {0.0f}};
            run_taps(&cur, st, fill, &scratch);
            break;
        }
        case AUG_STAGE_SEP: run_sep(&cur, st, fill, out, sc->sep, NULL); break;
        case AUG_STAGE_COLOUR: run_colour(&cur, st, maxv, out); break;
        }
        cur = (src_desc){out, 0, st->out_h, st->out_w, img->channels};
    }
    emit(&cur, NULL, 0.0f, dst, (size_t)cur.h * cur.w);
}

tta_status tta_augment_view(tta_aug_plan *plan, int v, const tta_image *src, tta_dtype dtype,
                            tta_image *dst) {
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
    dst_desc d = {dst->data,
                  dtype == TTA_DTYPE_UINT8,
                  (size_t)src->channels,
                  1,
                  src->channels,
                  CH_SAME,
                  {0},
                  0,
                  {out_max / in_max},
                  {0}};
    TTA_TRY(check_view_input(plan, v, src));
    TTA_TRY(ensure_scratch(plan, v, 1, src->channels, 1));
    run_view(plan, &plan->scratch[0], v, src, &d);
    return TTA_OK;
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
                              "tta_aug_plan_new an output size to batch them",
                              v, text, av->out_h, av->out_w, first_view, v0->out_h, v0->out_w);
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
        return tta_errorf(TTA_ERR_UNSUPPORTED,
                          "tta_augment_batch: cannot turn %d-channel images into %d channels", cin, cout);
    const float in_max = images[0].dtype == TTA_DTYPE_UINT8 ? 255.0f : 1.0f;
    const float scale = fmt->scale != 0.0f ? fmt->scale : d.u8 ? 255.0f : 1.0f;
    int normalised = 0;
    for (int c = 0; c < 4; c++)
        normalised |= fmt->mean[c] != 0.0f || (fmt->std[c] != 0.0f && fmt->std[c] != 1.0f);
    if (normalised && cout > AUG_MAX_UNIFORM_C)
        return tta_errorf(TTA_ERR_UNSUPPORTED,
                          "tta_augment_batch: mean/std are per channel for up to 4 channels, not %d", cout);
    d.per_channel = normalised;
    for (int c = 0; c < (normalised ? cout : 1); c++) {
        float sd = fmt->std[c] != 0.0f ? fmt->std[c] : 1.0f;
        d.mul[c] = scale / (in_max * sd);
        d.add[c] = -fmt->mean[c] / sd;
    }
    const size_t hw = (size_t)v0->out_h * v0->out_w, item = hw * cout, esize = tta_dtype_size(out_dtype);
    d.ps = fmt->layout == TTA_LAYOUT_NCHW ? 1 : (size_t)cout;
    d.cs = fmt->layout == TTA_LAYOUT_NCHW ? hw : 1;
    for (int i = 1; i < n_images; i++) {
        char what[64];
        snprintf(what, sizeof what, "tta_augment_batch: image %d", i);
        TTA_TRY(check_image(plan, &images[i], what));
        if (images[i].channels != cin || images[i].dtype != images[0].dtype)
            return tta_errorf(
                TTA_ERR_SHAPE, "tta_augment_batch: image %d has %d channels (%s), image 0 %d (%s)", i,
                images[i].channels, tta_dtype_name(images[i].dtype), cin, tta_dtype_name(images[0].dtype));
    }
    for (int v = first_view; v < first_view + n_views; v++)
        TTA_TRY(check_view_input(plan, v, &images[0]));
    /* items are independent: split them over the OpenMP threads, each with its own scratch */
    const long n_items = (long)n_images * n_views;
    int n_threads = omp_get_max_threads();
    if (n_threads > AUG_MAX_THREADS) n_threads = AUG_MAX_THREADS;
    if (n_threads > n_items) n_threads = (int)n_items;
    if ((double)n_items * item < 65536) n_threads = 1; /* not worth waking threads for */
    if (n_threads < 1) n_threads = 1;
    TTA_TRY(ensure_scratch(plan, first_view, n_views, cin, n_threads));
#pragma omp parallel for num_threads(n_threads) schedule(dynamic, 1) if (n_threads > 1)
    for (long it = 0; it < n_items; it++) {
        dst_desc di = d;
        di.data = (char *)out + (size_t)it * item * esize;
        run_view(plan, &plan->scratch[omp_get_thread_num()], first_view + (int)(it % n_views),
                 &images[it / n_views], &di);
    }
    return TTA_OK;
}
