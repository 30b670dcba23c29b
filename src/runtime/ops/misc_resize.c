/* misc_resize.c - Resize (opsets 10, 11, 13, 18, 19) and Upsample (opsets 7, 9), plain C.
 *
 * Follows the ONNX reference implementation: every output coordinate along a resized axis is
 * mapped to a (fractional) input coordinate by the coordinate transformation mode, then turned
 * into a short list of (input index, weight) taps by the mode: nearest (1 tap), linear (2) or
 * cubic (4), more with opset-18 antialias when downscaling. Out-of-range taps are clamped to the
 * edge (or dropped with exclude_outside); tf_crop_and_resize gives extrapolation_value outside
 * the input. The n-D result is the tensor product of the per-axis taps, so n-linear and n-cubic
 * work over any set of axes. Axes whose mapping is the identity (scale 1, no crop) cost nothing.
 *
 * Opset 10 Resize and Upsample use the asymmetric transform and, for nearest, ONNX Runtime's
 * rule (floor when upscaling, ceil when downscaling). Computation is in double; float32 and
 * float64 are handled directly, other numeric types through a double copy (cast back by
 * truncation, like the reference's astype).
 *
 * Fast path: a float32 [N,C,H,W] resized over H and W only (N and C identity axes), nearest or
 * 2-tap linear, no tf_crop_and_resize, goes to misc_resize_fast.c with per-row and per-column
 * taps built here by the same code (rs_taps) and cached in the state until the shapes change;
 * it evaluates the generic kernel's expression, so the results are identical. That path also
 * reads and writes the channel-blocked layout (see tta_misc_resize_layouts).
 */
#include <math.h>
#include <string.h>

#include "core/alloc.h"
#include "runtime/ops/misc.h"

#ifdef _OPENMP
#include <omp.h>
static int misc_thread_id(void) { return omp_get_thread_num(); }
#else
static int misc_thread_id(void) { return 0; }
#endif

enum { RS_NEAREST, RS_LINEAR, RS_CUBIC };
enum { CT_HALF_PIXEL, CT_HALF_PIXEL_SYMMETRIC, CT_PYTORCH_HALF_PIXEL, CT_ALIGN_CORNERS, CT_ASYMMETRIC,
       CT_TF_HALF_PIXEL_FOR_NN, CT_TF_CROP_AND_RESIZE };
enum { NM_ROUND_PREFER_FLOOR, NM_ROUND_PREFER_CEIL, NM_FLOOR, NM_CEIL, NM_SIMPLE };
enum { KA_STRETCH, KA_NOT_LARGER, KA_NOT_SMALLER };

typedef struct resize_state {
    misc_scratch scratch; /* first member: see tta_misc_release. Tap tables, combos, copies */
    int mode, coord, nearest, keep_aspect;
    double cubic_a, extrapolation;
    bool exclude_outside, antialias;
    int roi_in, scales_in, sizes_in; /* input indices, -1 when the version has no such input */
    int n_scales_attr;               /* Upsample-7 */
    double scales_attr[TTA_MAX_DIMS];
    int n_axes; /* opset 18 `axes`; 0 = all */
    int64_t axes[TTA_MAX_DIMS];
    /* fast path: tap tables of the geometry fast_key (valid when fast_known) */
    misc_scratch fast_mem;
    bool fast_known, fast_ok;
    double fast_key[4][4]; /* in, out, scale, out_f of axes 0..3 */
    tta_resize2d fast;
} resize_state;

static int lookup(const char *s, const char *const *names, int n) {
    for (int i = 0; i < n; i++)
        if (!strcmp(s, names[i])) return i;
    return -1;
}

tta_status tta_misc_resize_prepare(tta_op_ctx *ctx) {
    const tta_node *n = ctx->node;
    bool upsample = !strcmp(n->op_type, "Upsample");
    resize_state *st = tta_calloc(1, sizeof *st);
    if (!st) return tta_op_error(ctx, TTA_ERR_NOMEM, "out of memory");
    ctx->state = st;
    bool legacy = upsample || n->opset < 11; /* Upsample 7/9 and Resize 10 */
    st->roi_in = legacy ? -1 : 1;
    st->scales_in = upsample && n->opset < 9 ? -1 : legacy ? 1 : 2;
    st->sizes_in = legacy ? -1 : 3;

    const char *mode = tta_attr_string(n, "mode", "nearest");
    static const char *const modes[] = {"nearest", "linear", "cubic"};
    st->mode = lookup(mode, modes, legacy ? 2 : 3);
    if (st->mode < 0 && upsample && !strcmp(mode, "bilinear")) st->mode = RS_LINEAR;
    if (st->mode < 0) return tta_op_error(ctx, TTA_ERR_ATTR, "unsupported mode '%s'", mode);

    if (legacy) {
        st->coord = CT_ASYMMETRIC;
        st->nearest = NM_SIMPLE;
        st->cubic_a = -0.75;
    } else {
        static const char *const coords[] = {"half_pixel",   "half_pixel_symmetric", "pytorch_half_pixel",
                                             "align_corners", "asymmetric",           "tf_half_pixel_for_nn",
                                             "tf_crop_and_resize"};
        const char *c = tta_attr_string(n, "coordinate_transformation_mode", "half_pixel");
        st->coord = lookup(c, coords, 7);
        if (st->coord < 0 || (st->coord == CT_HALF_PIXEL_SYMMETRIC && n->opset < 19) ||
            (st->coord == CT_TF_HALF_PIXEL_FOR_NN && n->opset >= 18))
            return tta_op_error(ctx, TTA_ERR_ATTR, "unsupported coordinate_transformation_mode '%s' at opset %d", c,
                                n->opset);
        static const char *const nms[] = {"round_prefer_floor", "round_prefer_ceil", "floor", "ceil"};
        const char *nm = tta_attr_string(n, "nearest_mode", "round_prefer_floor");
        st->nearest = lookup(nm, nms, 4);
        if (st->nearest < 0) return tta_op_error(ctx, TTA_ERR_ATTR, "unsupported nearest_mode '%s'", nm);
        st->cubic_a = tta_attr_float(n, "cubic_coeff_a", -0.75f);
        st->exclude_outside = tta_attr_int(n, "exclude_outside", 0) != 0;
        st->extrapolation = tta_attr_float(n, "extrapolation_value", 0.0f);
        if (n->opset >= 18) {
            st->antialias = tta_attr_int(n, "antialias", 0) != 0;
            static const char *const kas[] = {"stretch", "not_larger", "not_smaller"};
            const char *ka = tta_attr_string(n, "keep_aspect_ratio_policy", "stretch");
            st->keep_aspect = lookup(ka, kas, 3);
            if (st->keep_aspect < 0)
                return tta_op_error(ctx, TTA_ERR_ATTR, "unsupported keep_aspect_ratio_policy '%s'", ka);
            const int64_t *axes;
            int na = tta_attr_ints(n, "axes", &axes);
            if (na > TTA_MAX_DIMS) return tta_op_error(ctx, TTA_ERR_ATTR, "too many axes (%d)", na);
            st->n_axes = na;
            for (int i = 0; i < na; i++) st->axes[i] = axes[i];
        }
    }
    if (upsample && n->opset < 9) {
        const float *sc;
        int ns = tta_attr_floats(n, "scales", &sc);
        if (ns <= 0) return tta_op_error(ctx, TTA_ERR_ATTR, "missing attribute 'scales'");
        if (ns > TTA_MAX_DIMS) return tta_op_error(ctx, TTA_ERR_ATTR, "too many scales (%d)", ns);
        st->n_scales_attr = ns;
        for (int i = 0; i < ns; i++) st->scales_attr[i] = sc[i];
    }
    return TTA_OK;
}

/* Shapes and scales of one call. */
typedef struct rs_geo {
    int r;
    int64_t in[TTA_MAX_DIMS], out[TTA_MAX_DIMS];
    double scale[TTA_MAX_DIMS];
    double out_f[TTA_MAX_DIMS]; /* scale * in: the reference's fractional output length */
    double roi_lo[TTA_MAX_DIMS], roi_hi[TTA_MAX_DIMS];
} rs_geo;

static const tta_tensor *opt_input(const tta_op_ctx *ctx, int i) {
    if (i < 0 || i >= ctx->n_in || !ctx->in[i]) return NULL;
    if (tta_tensor_numel(ctx->in[i]) == 0) return NULL; /* an empty tensor stands for "absent" */
    return ctx->in[i];
}

/* Output length floor(f) (or round(f) with round_half) of a fractional length scale * in:
 * refused unless finite and below 2^62, since converting NaN, inf or a value beyond int64 to an
 * integer is undefined (a scale of 1e20 would otherwise give a negative or garbage size). */
static tta_status rs_out_len(const tta_op_ctx *ctx, int axis, double f, bool round_half, int64_t *out) {
    double v = round_half ? f + 0.5 : floor(f);
    if (!(v >= 0 && v < 0x1p62))
        return tta_op_error(ctx, TTA_ERR_SHAPE, "output length %g on axis %d is out of range (scale too large)", f,
                            axis);
    *out = (int64_t)v;
    return TTA_OK;
}

/* Fills g; with_roi reads the roi input (compute only). */
static tta_status rs_geometry(const tta_op_ctx *ctx, const resize_state *st, rs_geo *g, bool with_roi) {
    const tta_tensor *x = ctx->in[0];
    int r = x->ndim;
    g->r = r;
    int axes[TTA_MAX_DIMS], na = r;
    for (int i = 0; i < r; i++) axes[i] = i;
    if (st->n_axes > 0) {
        na = st->n_axes;
        bool seen[TTA_MAX_DIMS] = {false};
        for (int i = 0; i < na; i++) {
            int a;
            TTA_TRY(tta_norm_axis(ctx, st->axes[i], r, &a));
            if (seen[a]) return tta_op_error(ctx, TTA_ERR_ATTR, "axis %d repeated in axes", a);
            seen[a] = true;
            axes[i] = a;
        }
    }
    for (int i = 0; i < r; i++) {
        g->in[i] = g->out[i] = x->dims[i];
        g->scale[i] = 1.0;
        g->out_f[i] = (double)x->dims[i];
        g->roi_lo[i] = 0.0;
        g->roi_hi[i] = 1.0;
    }
    const tta_tensor *scales = opt_input(ctx, st->scales_in), *sizes = opt_input(ctx, st->sizes_in);
    if ((scales && !scales->data) || (sizes && !sizes->data)) return TTA_DEFER;
    if (scales && sizes) return tta_op_error(ctx, TTA_ERR_SHAPE, "only one of 'scales' and 'sizes' may be given");
    if (st->n_scales_attr > 0) {
        if (st->n_scales_attr != r)
            return tta_op_error(ctx, TTA_ERR_ATTR, "%d scales for an input of rank %d", st->n_scales_attr, r);
        for (int i = 0; i < r; i++) {
            if (!(st->scales_attr[i] > 0)) return tta_op_error(ctx, TTA_ERR_ATTR, "scales must be positive");
            g->scale[i] = st->scales_attr[i];
            g->out_f[i] = g->scale[i] * (double)g->in[i];
            TTA_TRY(rs_out_len(ctx, i, g->out_f[i], false, &g->out[i]));
        }
    } else if (scales) {
        if (!tta_dtype_is_float(scales->dtype))
            return tta_op_error(ctx, TTA_ERR_SHAPE, "scales must be float, not %s", tta_dtype_name(scales->dtype));
        if (tta_tensor_numel(scales) != na)
            return tta_op_error(ctx, TTA_ERR_SHAPE, "%lld scales for %d axes", (long long)tta_tensor_numel(scales), na);
        for (int i = 0; i < na; i++) {
            int a = axes[i];
            double s = tta_get_f64(scales, i);
            if (!(s > 0)) return tta_op_error(ctx, TTA_ERR_SHAPE, "scales must be positive (got %g)", s);
            g->scale[a] = s;
            g->out_f[a] = s * (double)g->in[a];
            TTA_TRY(rs_out_len(ctx, a, g->out_f[a], false, &g->out[a]));
        }
    } else if (sizes) {
        if (!tta_dtype_is_int(sizes->dtype))
            return tta_op_error(ctx, TTA_ERR_SHAPE, "sizes must be int64, not %s", tta_dtype_name(sizes->dtype));
        if (tta_tensor_numel(sizes) != na)
            return tta_op_error(ctx, TTA_ERR_SHAPE, "%lld sizes for %d axes", (long long)tta_tensor_numel(sizes), na);
        for (int i = 0; i < na; i++) {
            int a = axes[i];
            int64_t sz = tta_get_i64(sizes, i);
            if (sz < 0) return tta_op_error(ctx, TTA_ERR_SHAPE, "negative size %lld", (long long)sz);
            g->out[a] = sz;
            g->out_f[a] = (double)sz;
            g->scale[a] = g->in[a] > 0 ? (double)sz / (double)g->in[a] : 1.0;
        }
        if (st->keep_aspect != KA_STRETCH && na > 0) {
            double s = g->scale[axes[0]];
            for (int i = 1; i < na; i++) {
                double si = g->scale[axes[i]];
                if (st->keep_aspect == KA_NOT_LARGER ? si < s : si > s) s = si;
            }
            for (int i = 0; i < na; i++) {
                int a = axes[i];
                g->scale[a] = s;
                g->out_f[a] = s * (double)g->in[a];
                TTA_TRY(rs_out_len(ctx, a, g->out_f[a], true, &g->out[a])); /* round half up, as the reference */
            }
        }
    } else {
        return tta_op_error(ctx, TTA_ERR_SHAPE, "one of 'scales' and 'sizes' must be given");
    }
    if (with_roi && st->coord == CT_TF_CROP_AND_RESIZE) {
        const tta_tensor *roi = opt_input(ctx, st->roi_in);
        if (!roi) return tta_op_error(ctx, TTA_ERR_SHAPE, "tf_crop_and_resize needs the 'roi' input");
        if (!tta_dtype_is_float(roi->dtype) || tta_tensor_numel(roi) != 2 * na)
            return tta_op_error(ctx, TTA_ERR_SHAPE, "roi must hold %d floats", 2 * na);
        for (int i = 0; i < na; i++) {
            g->roi_lo[axes[i]] = tta_get_f64(roi, i);
            g->roi_hi[axes[i]] = tta_get_f64(roi, na + i);
        }
    }
    return TTA_OK;
}

tta_status tta_misc_resize_infer(tta_op_ctx *ctx) {
    resize_state *st = ctx->state;
    TTA_NEED_INPUT(ctx, 0);
    const tta_tensor *x = ctx->in[0];
    if (!misc_numeric(x->dtype))
        return tta_op_error(ctx, TTA_ERR_UNSUPPORTED, "unsupported input type %s", tta_dtype_name(x->dtype));
    rs_geo g;
    tta_status s = rs_geometry(ctx, st, &g, false);
    if (s != TTA_OK) return s;
    return tta_set_shape(ctx->out[0], x->dtype, g.r, g.out);
}

/* ---- per-axis tap tables */

/* Input coordinate of output coordinate o along one axis. */
static double rs_coord(const resize_state *st, const rs_geo *g, int a, int64_t o) {
    double s = g->scale[a], in = (double)g->in[a], of = g->out_f[a], x = (double)o;
    switch (st->coord) {
    case CT_HALF_PIXEL: return (x + 0.5) / s - 0.5;
    case CT_HALF_PIXEL_SYMMETRIC: {
        double adj = (double)g->out[a] / of, center = in / 2;
        return center * (1 - adj) + (x + 0.5) / s - 0.5;
    }
    case CT_PYTORCH_HALF_PIXEL: return g->out[a] > 1 ? (x + 0.5) / s - 0.5 : 0.0;
    case CT_ALIGN_CORNERS: return of == 1 ? 0.0 : x * (in - 1) / (of - 1);
    case CT_ASYMMETRIC: return x / s;
    case CT_TF_HALF_PIXEL_FOR_NN: return (x + 0.5) / s;
    case CT_TF_CROP_AND_RESIZE: {
        double lo = g->roi_lo[a], hi = g->roi_hi[a];
        if (of == 1) return (hi - lo) * (in - 1) / 2 + lo * (in - 1);
        return x * (hi - lo) * (in - 1) / (of - 1) + lo * (in - 1);
    }
    }
    return 0;
}

static double cubic_kernel(double d, double A) {
    d = fabs(d);
    if (d <= 1) return ((A + 2) * d - (A + 3)) * d * d + 1;
    if (d < 2) return ((A * d - 5 * A) * d + 8 * A) * d - 4 * A;
    return 0;
}

/* Taps per output coordinate along axis a, and the first tap's offset from floor(x). */
static int rs_ntaps(const resize_state *st, const rs_geo *g, int a, int *start) {
    if (st->mode == RS_NEAREST) {
        *start = 0;
        return 1;
    }
    double support = st->mode == RS_LINEAR ? 1.0 : 2.0;
    double s = st->antialias && g->scale[a] < 1 ? g->scale[a] : 1.0;
    double first = floor(-support / s) + 1; /* a tiny scale would overflow an int: capped, and refused
                                               * later as "resize filter too large" */
    *start = first < -(1 << 20) ? -(1 << 20) : (int)first;
    return 2 - 2 * *start;
}

/* The T taps (ix, wx) of output coordinate o along axis a; returns whether o maps outside the
 * input (tf_crop_and_resize only). ix is in input elements along the axis (not yet multiplied
 * by the stride). */
static bool rs_taps(const resize_state *st, const rs_geo *g, int a, int T, int start, int64_t o, int64_t *ix,
                    double *wx) {
    int64_t in = g->in[a];
    double s = st->antialias && g->scale[a] < 1 ? g->scale[a] : 1.0;
    double x = rs_coord(st, g, a, o);
    bool outside = st->coord == CT_TF_CROP_AND_RESIZE && (x < 0 || x > (double)(in - 1));
    double f = floor(x);
    if (st->mode == RS_NEAREST) {
        double d = x - f, v;
        switch (st->nearest) {
        case NM_ROUND_PREFER_FLOOR: v = d <= 0.5 ? f : f + 1; break;
        case NM_ROUND_PREFER_CEIL: v = d < 0.5 ? f : f + 1; break;
        case NM_FLOOR: v = f; break;
        case NM_CEIL: v = ceil(x); break;
        default: v = g->scale[a] < 1 ? ceil(x) : f; break; /* NM_SIMPLE */
        }
        /* compared as doubles first: a NaN or huge coordinate (from a hostile roi) must not be
         * converted to an integer */
        ix[0] = !(v > 0) ? 0 : v >= (double)in ? in - 1 : (int64_t)v;
        wx[0] = 1.0;
        return outside;
    }
    double sum = 0;
    if (!(f > -(double)T - 2)) f = -(double)T - 2; /* NaN or far outside: every tap clamps to an edge */
    if (f > (double)in + 1) f = (double)in + 1;
    for (int t = 0; t < T; t++) {
        int64_t j = (int64_t)f + start + t;
        double d = ((double)j - x) * s;
        double k = st->mode == RS_LINEAR ? (fabs(d) < 1 ? 1 - fabs(d) : 0) : cubic_kernel(d, st->cubic_a);
        if (st->exclude_outside && (j < 0 || j >= in)) k = 0;
        ix[t] = j < 0 ? 0 : j >= in ? in - 1 : j;
        wx[t] = k;
        sum += k;
    }
    /* antialias and exclude_outside renormalise; plain linear/cubic weights already sum to 1 */
    if ((st->antialias || st->exclude_outside) && sum != 0)
        for (int t = 0; t < T; t++) wx[t] /= sum;
    return outside;
}

/* Fills idx/w (n_out x T) and outside (n_out) for axis a. */
static void rs_table(const resize_state *st, const rs_geo *g, int a, int T, int start, int64_t *idx, double *w,
                     unsigned char *outside) {
    for (int64_t o = 0; o < g->out[a]; o++) outside[o] = rs_taps(st, g, a, T, start, o, idx + o * T, w + o * T);
}

/* Whether axis a maps every output coordinate to the same input one with weight 1 (the test
 * the generic kernel applies to skip an axis). T <= 4. */
static bool rs_axis_identity(const resize_state *st, const rs_geo *g, int a, int T, int start) {
    if (g->out[a] != g->in[a]) return false;
    for (int64_t o = 0; o < g->out[a]; o++) {
        int64_t ix[4];
        double wx[4];
        if (rs_taps(st, g, a, T, start, o, ix, wx)) return false;
        for (int t = 0; t < T; t++)
            if (wx[t] != 0 && (wx[t] != 1 || ix[t] != o)) return false;
    }
    return true;
}

/* ---- the n-D interpolation over a double or float tensor */

typedef struct rs_axis {
    int T;                  /* taps per output coordinate; 0 marks an identity axis */
    int64_t *idx;           /* n_out x T, already multiplied by the input stride */
    double *w;              /* n_out x T */
    unsigned char *outside; /* n_out */
    bool any_outside;
} rs_axis;

#define RS_KERNEL(T_)                                                                              \
    static void rs_run_##T_(const T_ *x, T_ *y, int r, const int64_t *in_str, const int64_t *out_dims, \
                            const rs_axis *ax, double extrap, int64_t max_combo, int64_t *coff_all,     \
                            double *cw_all, int nt) {                                                  \
        int64_t wlast = out_dims[r - 1];                                                           \
        int64_t rows = 1;                                                                          \
        for (int i = 0; i < r - 1; i++) rows *= out_dims[i];                                       \
        const rs_axis *L = &ax[r - 1];                                                             \
        _Pragma("omp parallel for num_threads(nt) if (nt > 1 && rows * wlast > 16384) schedule(static)") \
        for (int64_t row = 0; row < rows; row++) {                                                 \
            int tid = 0;                                                                           \
            if (nt > 1) tid = misc_thread_id();                                                    \
            int64_t *coff = coff_all + (int64_t)tid * max_combo;                                   \
            double *cw = cw_all + (int64_t)tid * max_combo;                                        \
            T_ *yr = y + row * wlast;                                                              \
            /* combos of taps over the leading axes */                                             \
            int64_t nc = 1;                                                                        \
            coff[0] = 0;                                                                           \
            cw[0] = 1.0;                                                                           \
            bool out_of_range = false;                                                             \
            int64_t rem = row;                                                                     \
            for (int d = r - 2; d >= 0; d--) {                                                     \
                int64_t o = rem % out_dims[d];                                                     \
                rem /= out_dims[d];                                                                \
                const rs_axis *A = &ax[d];                                                         \
                if (A->T == 0) {                                                                   \
                    for (int64_t c = 0; c < nc; c++) coff[c] += o * in_str[d];                     \
                    continue;                                                                      \
                }                                                                                  \
                if (A->outside[o]) out_of_range = true;                                            \
                int64_t n2 = 0;                                                                    \
                const int64_t *ti = A->idx + o * A->T;                                             \
                const double *tw = A->w + o * A->T;                                                \
                /* expand in place from the back so that no entry is overwritten before it is   \
                 * read; zero-weight taps are skipped, but all-zero weights keep tap 0 */         \
                int nz = 0;                                                                        \
                for (int t = 0; t < A->T; t++) nz += tw[t] != 0;                                   \
                if (nz == 0) nz = 1;                                                               \
                n2 = nc * nz;                                                                      \
                for (int64_t c = nc - 1; c >= 0; c--) {                                            \
                    int64_t base = coff[c];                                                        \
                    double bw = cw[c];                                                             \
                    int k = nz;                                                                    \
                    for (int t = A->T - 1; t >= 0 && k > 0; t--) {                                 \
                        if (tw[t] == 0 && !(t == 0 && k == 1)) continue;                           \
                        k--;                                                                       \
                        coff[c * nz + k] = base + ti[t];                                           \
                        cw[c * nz + k] = bw * tw[t];                                               \
                    }                                                                              \
                }                                                                                  \
                nc = n2;                                                                           \
            }                                                                                      \
            if (out_of_range) {                                                                    \
                for (int64_t j = 0; j < wlast; j++) yr[j] = (T_)extrap;                            \
                continue;                                                                          \
            }                                                                                      \
            if (L->T == 0 && nc == 1 && cw[0] == 1.0) { /* a plain copy of the row */            \
                const T_ *xb = x + coff[0];                                                        \
                for (int64_t j = 0; j < wlast; j++) yr[j] = xb[j];                                 \
            } else if (L->T == 0) {                                                                \
                for (int64_t j = 0; j < wlast; j++) {                                              \
                    double acc = 0;                                                                \
                    for (int64_t c = 0; c < nc; c++) acc += cw[c] * (double)x[coff[c] + j];        \
                    yr[j] = (T_)acc;                                                               \
                }                                                                                  \
            } else if (!L->any_outside && L->T == 1 && nc == 1 && cw[0] == 1.0) { /* nearest */   \
                const T_ *xb = x + coff[0];                                                        \
                const int64_t *ti = L->idx;                                                        \
                for (int64_t j = 0; j < wlast; j++) yr[j] = xb[ti[j]];                             \
            } else if (!L->any_outside && L->T == 2 && nc <= 2) { /* (bi)linear */                \
                const T_ *x0 = x + coff[0], *x1 = nc == 2 ? x + coff[1] : x0;                      \
                double w0 = cw[0], w1 = nc == 2 ? cw[1] : 0.0;                                     \
                const int64_t *ti = L->idx;                                                        \
                const double *tw = L->w;                                                           \
                for (int64_t j = 0; j < wlast; j++) {                                              \
                    int64_t i0 = ti[2 * j], i1 = ti[2 * j + 1];                                    \
                    double a = tw[2 * j], b = tw[2 * j + 1];                                       \
                    yr[j] = (T_)(w0 * (a * x0[i0] + b * x0[i1]) + w1 * (a * x1[i0] + b * x1[i1])); \
                }                                                                                  \
            } else {                                                                               \
                for (int64_t j = 0; j < wlast; j++) {                                              \
                    if (L->outside[j]) {                                                           \
                        yr[j] = (T_)extrap;                                                        \
                        continue;                                                                  \
                    }                                                                              \
                    const int64_t *ti = L->idx + j * L->T;                                         \
                    const double *tw = L->w + j * L->T;                                            \
                    double acc = 0;                                                                \
                    for (int64_t c = 0; c < nc; c++) {                                             \
                        const T_ *xb = x + coff[c];                                                \
                        double part = 0;                                                           \
                        for (int t = 0; t < L->T; t++) part += tw[t] * (double)xb[ti[t]];          \
                        acc += cw[c] * part;                                                       \
                    }                                                                              \
                    yr[j] = (T_)acc;                                                               \
                }                                                                                  \
            }                                                                                      \
        }                                                                                          \
    }


RS_KERNEL(float)
RS_KERNEL(double)

/* ---- the fast path (misc_resize_fast.c) */

/* Whether the fast path computes this geometry: float32 of rank 4, N and C identity axes, H and
 * W nearest or 2-tap linear (so no antialiased downscale), no tf_crop_and_resize. */
static bool rs_fast_applies(const resize_state *st, const tta_tensor *x, const rs_geo *g) {
    if (x->dtype != TTA_DTYPE_FLOAT32 || g->r != 4 || st->mode == RS_CUBIC || st->coord == CT_TF_CROP_AND_RESIZE)
        return false;
    int want = st->mode == RS_NEAREST ? 1 : 2;
    for (int a = 0; a < 4; a++) {
        int start;
        if (g->in[a] <= 0 || g->out[a] <= 0 || rs_ntaps(st, g, a, &start) != want || start != 0) return false;
    }
    return rs_axis_identity(st, g, 0, want, 0) && rs_axis_identity(st, g, 1, want, 0);
}

/* Row (a = 2) or column (a = 3) taps of the fast path, chosen so that its expression is the
 * generic kernel's: along H, zero-weight taps are dropped as the generic's tap combinations do
 * (the second tap then repeats the first with weight 0), along W all taps are kept; an
 * identity axis becomes (o, o) with weights (1, 0). */
static void rs_fast_axis(const resize_state *st, const rs_geo *g, int a, int64_t *i0, int64_t *i1, double *w0,
                         double *w1) {
    int T = st->mode == RS_NEAREST ? 1 : 2;
    bool ident = T == 2 && rs_axis_identity(st, g, a, T, 0);
    for (int64_t o = 0; o < g->out[a]; o++) {
        int64_t ix[2];
        double wx[2];
        rs_taps(st, g, a, T, 0, o, ix, wx);
        if (T == 1) {
            i0[o] = i1[o] = ix[0];
            w0[o] = 1.0;
            w1[o] = 0.0;
        } else if (ident) {
            i0[o] = i1[o] = o;
            w0[o] = 1.0;
            w1[o] = 0.0;
        } else if (a == 3 || (wx[0] != 0 && wx[1] != 0)) {
            i0[o] = ix[0], i1[o] = ix[1];
            w0[o] = wx[0], w1[o] = wx[1];
        } else {
            int t = wx[0] == 0 && wx[1] != 0 ? 1 : 0; /* the non-zero tap; tap 0 when both are 0 */
            i0[o] = i1[o] = ix[t];
            w0[o] = wx[t];
            w1[o] = 0.0;
        }
    }
}

/* Sets *ok to whether the fast path applies and, if so, st->fast to its tables, rebuilt only
 * when the geometry differs from the last call's. */
static tta_status rs_fast_tables(const tta_op_ctx *ctx, resize_state *st, const tta_tensor *x, const rs_geo *g,
                                 bool *ok) {
    *ok = false;
    if (x->dtype != TTA_DTYPE_FLOAT32 || g->r != 4) return TTA_OK;
    double key[4][4];
    for (int a = 0; a < 4; a++) {
        key[0][a] = (double)g->in[a];
        key[1][a] = (double)g->out[a];
        key[2][a] = g->scale[a];
        key[3][a] = g->out_f[a];
    }
    if (st->fast_known && !memcmp(key, st->fast_key, sizeof key)) {
        *ok = st->fast_ok;
        return TTA_OK;
    }
    st->fast_known = false;
    st->fast_ok = rs_fast_applies(st, x, g);
    if (st->fast_ok) {
        int64_t oh = g->out[2], ow = g->out[3];
        size_t n = 2 * (size_t)(oh + ow);
        unsigned char *mem = misc_scratch_get(&st->fast_mem, n * (sizeof(int64_t) + sizeof(double)));
        if (!mem) return tta_op_error(ctx, TTA_ERR_NOMEM, "out of memory");
        double *w = (double *)mem;
        int64_t *idx = (int64_t *)(w + n);
        tta_resize2d *r = &st->fast;
        r->ih = g->in[2], r->iw = g->in[3], r->oh = oh, r->ow = ow;
        r->linear = st->mode == RS_LINEAR;
        r->row0 = idx, r->row1 = idx + oh, r->col0 = idx + 2 * oh, r->col1 = idx + 2 * oh + ow;
        r->rw0 = w, r->rw1 = w + oh, r->cw0 = w + 2 * oh, r->cw1 = w + 2 * oh + ow;
        rs_fast_axis(st, g, 2, idx, idx + oh, w, w + oh);
        rs_fast_axis(st, g, 3, idx + 2 * oh, idx + 2 * oh + ow, w + 2 * oh, w + 2 * oh + ow);
    }
    memcpy(st->fast_key, key, sizeof key);
    st->fast_known = true;
    *ok = st->fast_ok;
    return TTA_OK;
}

/* Runs the fast path on plain [N,C,H,W] (planes of 1-float pixels) or blocked
 * [N][C/B][H][W][B] (planes of B-float pixels). */
static tta_status rs_fast_run(tta_op_ctx *ctx, resize_state *st) {
    const tta_tensor *x = ctx->in[0];
    tta_tensor *y = ctx->out[0];
    int64_t B = 1, planes = x->dims[0] * x->dims[1];
    if (tta_in_layout(ctx, 0) == TTA_LAYOUT_BLOCKED) {
        B = tta_layout_block();
        if (x->dims[1] % B)
            return tta_op_error(ctx, TTA_ERR_INTERNAL, "blocked input with %lld channels (block %lld)",
                                (long long)x->dims[1], (long long)B);
        planes /= B;
    }
    int nt = misc_threads(ctx);
    size_t need = (size_t)nt * tta_resize2d_scratch(&st->fast, B);
    void *buf = NULL;
    if (need && !(buf = misc_scratch_get(&st->scratch, need))) return tta_op_error(ctx, TTA_ERR_NOMEM, "out of memory");
    tta_resize2d_run(&st->fast, x->data, y->data, planes, B, buf, nt);
    return TTA_OK;
}

unsigned tta_misc_resize_layouts(const tta_op_ctx *ctx) {
    const resize_state *st = ctx->state;
    if (!st || ctx->n_in < 1 || !ctx->in[0] || ctx->n_out < 1 || !ctx->out[0]) return 0;
    const tta_tensor *x = ctx->in[0], *y = ctx->out[0];
    if (x->dtype != TTA_DTYPE_FLOAT32 || x->ndim != 4 || y->dtype != TTA_DTYPE_FLOAT32 || y->ndim != 4) return 0;
    for (int a = 0; a < 4; a++)
        if (x->dims[a] <= 0 || y->dims[a] <= 0) return 0;
    if (y->dims[0] != x->dims[0] || y->dims[1] != x->dims[1]) return 0;
    rs_geo g;
    if (rs_geometry(ctx, st, &g, false) != TTA_OK) return 0; /* scales/sizes not known yet */
    for (int a = 0; a < 4; a++)
        if (g.out[a] != y->dims[a]) return 0;
    return rs_fast_applies(st, x, &g) ? TTA_LAYOUT_IN(0) | TTA_LAYOUT_OUT_FOLLOW : 0;
}

void tta_misc_resize_release(tta_op_ctx *ctx) {
    resize_state *st = ctx->state;
    if (!st) return;
    misc_scratch_free(&st->scratch);
    misc_scratch_free(&st->fast_mem);
    tta_free(st);
    ctx->state = NULL;
}

/* ---- compute */

static tta_status rs_compute(tta_op_ctx *ctx, bool allow_fast) {
    resize_state *st = ctx->state;
    const tta_tensor *x = ctx->in[0];
    tta_tensor *y = ctx->out[0];
    rs_geo g;
    tta_status s = rs_geometry(ctx, st, &g, true);
    if (s == TTA_DEFER) return tta_op_error(ctx, TTA_ERR_INTERNAL, "scales/sizes have no data at run time");
    if (s != TTA_OK) return s;
    int64_t out_n = tta_tensor_numel(y);
    if (out_n == 0) return TTA_OK;
    if (g.r == 0) { /* a scalar: nothing to resize */
        memcpy(y->data, x->data, tta_dtype_size(x->dtype));
        return TTA_OK;
    }
    for (int a = 0; a < g.r; a++)
        if (g.in[a] == 0) return tta_op_error(ctx, TTA_ERR_SHAPE, "cannot resize an empty axis to %lld", (long long)g.out[a]);

    int layout = tta_in_layout(ctx, 0);
    if (layout != tta_out_layout(ctx, 0))
        return tta_op_error(ctx, TTA_ERR_INTERNAL, "input and output layouts differ (%d, %d)", layout,
                            tta_out_layout(ctx, 0));
    if (allow_fast) {
        bool fast;
        TTA_TRY(rs_fast_tables(ctx, st, x, &g, &fast));
        if (fast) return rs_fast_run(ctx, st);
    }
    if (layout != TTA_LAYOUT_PLAIN)
        return tta_op_error(ctx, TTA_ERR_INTERNAL, "blocked layout on a resize the fast path does not handle");

    /* tap tables: sizes first, then one allocation */
    int T[TTA_MAX_DIMS], start[TTA_MAX_DIMS];
    size_t ntab = 0, nout = 0;
    int64_t in_str[TTA_MAX_DIMS];
    int64_t stride = 1;
    for (int a = g.r - 1; a >= 0; a--) {
        in_str[a] = stride;
        stride *= g.in[a];
    }
    for (int a = 0; a < g.r; a++) {
        T[a] = rs_ntaps(st, &g, a, &start[a]);
        ntab += (size_t)g.out[a] * (size_t)T[a];
        nout += (size_t)g.out[a];
    }
    int nt = misc_threads(ctx);
    /* an upper bound on the tap combinations of the leading axes */
    int64_t max_combo = 1;
    for (int a = 0; a < g.r - 1; a++) {
        max_combo *= T[a];
        if (max_combo > ((int64_t)1 << 22)) return tta_op_error(ctx, TTA_ERR_UNSUPPORTED, "resize filter too large");
    }
    bool generic = x->dtype != TTA_DTYPE_FLOAT32 && x->dtype != TTA_DTYPE_FLOAT64;
    int64_t in_n = tta_tensor_numel(x);
    size_t bytes = ntab * (sizeof(int64_t) + sizeof(double)) + nout + 64 +
                   (size_t)nt * (size_t)max_combo * (sizeof(int64_t) + sizeof(double)) +
                   (generic ? (size_t)(in_n + out_n) * sizeof(double) : 0);
    unsigned char *mem = misc_scratch_get(&st->scratch, bytes);
    if (!mem) return tta_op_error(ctx, TTA_ERR_NOMEM, "out of memory");
    double *wmem = (double *)mem;
    int64_t *imem = (int64_t *)(wmem + ntab);
    int64_t *coff = imem + ntab;
    double *cw = (double *)(coff + (size_t)nt * max_combo);
    double *gx = cw + (size_t)nt * max_combo, *gy = generic ? gx + in_n : NULL;
    unsigned char *omem = (unsigned char *)(generic ? gy + out_n : gx);

    rs_axis ax[TTA_MAX_DIMS];
    for (int a = 0; a < g.r; a++) {
        ax[a].T = T[a];
        ax[a].idx = imem;
        ax[a].w = wmem;
        ax[a].outside = omem;
        rs_table(st, &g, a, T[a], start[a], imem, wmem, omem);
        /* identity axis: every output takes the same input index with weight 1 */
        bool ident = g.out[a] == g.in[a];
        for (int64_t o = 0; ident && o < g.out[a]; o++) {
            if (omem[o]) ident = false;
            for (int t = 0; ident && t < T[a]; t++) {
                double w = wmem[o * T[a] + t];
                if (w != 0 && (w != 1 || imem[o * T[a] + t] != o)) ident = false;
            }
        }
        if (ident) ax[a].T = 0;
        ax[a].any_outside = false;
        for (int64_t o = 0; o < g.out[a]; o++) ax[a].any_outside |= omem[o] != 0;
        for (size_t k = 0; k < (size_t)g.out[a] * (size_t)T[a]; k++) imem[k] *= in_str[a];
        imem += (size_t)g.out[a] * T[a];
        wmem += (size_t)g.out[a] * T[a];
        omem += g.out[a];
    }
    if (x->dtype == TTA_DTYPE_FLOAT32) {
        rs_run_float(x->data, y->data, g.r, in_str, g.out, ax, st->extrapolation, max_combo, coff, cw, nt);
    } else if (x->dtype == TTA_DTYPE_FLOAT64) {
        rs_run_double(x->data, y->data, g.r, in_str, g.out, ax, st->extrapolation, max_combo, coff, cw, nt);
    } else {
        for (int64_t i = 0; i < in_n; i++) gx[i] = tta_get_f64(x, i);
        rs_run_double(gx, gy, g.r, in_str, g.out, ax, st->extrapolation, max_combo, coff, cw, nt);
        for (int64_t i = 0; i < out_n; i++) tta_set_f64(y, i, gy[i]);
    }
    return TTA_OK;
}

tta_status tta_misc_resize_compute(tta_op_ctx *ctx) { return rs_compute(ctx, true); }

tta_status tta_misc_resize_compute_generic(tta_op_ctx *ctx) { return rs_compute(ctx, false); }
