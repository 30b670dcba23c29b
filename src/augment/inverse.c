/* inverse.c - maps a view's outputs back to the original frame: class vectors (unchanged),
 * dense maps at an output stride, boxes and keypoints.
 *
 * Everything works from the geometry steps of the compiled view (plan.c): each step is an
 * affine map of continuous pixel coordinates, taken modulo the frame for wrap shifts. Dense
 * maps are *pulled*: each original-frame map pixel is pushed forward through the steps to find
 * where the model saw it, and the view's map is sampled there; a pixel that leaves a frame on
 * the way was not seen (validity mask). Boxes and keypoints are *pushed back* through the
 * inverse steps, last step first. */
#include <math.h>
#include <string.h>

#include "augment/internal.h"
#include "core/alloc.h"
#include "core/error.h"

static double wrap_mod(double v, int n) {
    double m = fmod(v, (double)n);
    return m < 0 ? m + n : m;
}

/* original -> view; 0 if the point leaves a frame on the way (closed frames: a point on the
 * edge is inside) */
static int forward_point(const aug_view *v, double *px, double *py) {
    const double eps = 1e-9;
    double x = *px, y = *py;
    for (int s = 0; s < v->n_steps; s++) {
        const aug_step *st = &v->steps[s];
        const double *f = st->fwd;
        double nx = f[0] * x + f[1] * y + f[2], ny = f[3] * x + f[4] * y + f[5];
        if (st->wrap) {
            nx = wrap_mod(nx, st->out_w);
            ny = wrap_mod(ny, st->out_h);
        }
        if (nx < -eps || ny < -eps || nx > st->out_w + eps || ny > st->out_h + eps) return 0;
        x = nx, y = ny;
    }
    *px = x, *py = y;
    return 1;
}

/* view -> original for a group of points that move together (a box's corners): a wrap step
 * moves the whole group by whole frames so that its centre lands inside the frame */
static void backward_points(const aug_view *v, double *x, double *y, int n) {
    for (int s = v->n_steps - 1; s >= 0; s--) {
        const aug_step *st = &v->steps[s];
        const double *b = st->bwd;
        double cx = 0, cy = 0;
        for (int k = 0; k < n; k++) {
            double nx = b[0] * x[k] + b[1] * y[k] + b[2], ny = b[3] * x[k] + b[4] * y[k] + b[5];
            x[k] = nx, y[k] = ny;
            cx += nx, cy += ny;
        }
        if (st->wrap) {
            double dx = floor(cx / n / st->in_w) * st->in_w, dy = floor(cy / n / st->in_h) * st->in_h;
            for (int k = 0; k < n; k++)
                x[k] -= dx, y[k] -= dy;
        }
    }
}

static tta_status check_view(const tta_aug_plan *plan, int v, const char *fn) {
    if (!plan || v < 0 || v >= plan->n_views)
        return tta_errorf(TTA_ERR_INVALID_ARG, "%s: view %d is not in the plan (%d views)", fn, v,
                          plan ? plan->n_views : 0);
    return TTA_OK;
}

tta_status tta_invert_classes(const tta_aug_plan *plan, int v, const float *in, float *out, int n) {
    TTA_TRY(check_view(plan, v, "tta_invert_classes"));
    if (!in || !out || n < 0) return tta_errorf(TTA_ERR_INVALID_ARG, "tta_invert_classes: bad arguments");
    if (in != out) memmove(out, in, (size_t)n * sizeof *out);
    return TTA_OK;
}

static double snap(double u) {
    double r = floor(u + 0.5);
    return fabs(u - r) < 1e-6 ? r : u;
}

/* ---- dense maps: the whole-pixel fast path ----------------------------------------------
 *
 * When every step is a signed permutation of the axes plus an offset (identity, flips, rot90,
 * transposes, crops, pads and shifts without wrap; linear coefficients exactly 0 or +-1), each
 * coordinate of the view frame depends on one coordinate of the original only, so the pull of
 * tta_invert_dense splits into a pass over the columns and one over the rows. Evaluated with
 * the same double operations as forward_point (c x + 0 y + f is c x + f exactly), the positions,
 * the frame checks and the snapped sample points are those of the per-pixel path bit for bit;
 * when every valid sample point is on a map pixel (moves by whole multiples of the stride) the
 * map is a gather of whole pixels, copied exactly as the per-pixel path copies them. Anything
 * else (resizes, rotations, wrap shifts, sub-stride moves) takes the per-pixel path. */

#define FAST_MAX_SIDE 4096

static int whole_steps(const aug_view *v) {
    for (int k = 0; k < v->n_steps; k++) {
        const double *f = v->steps[k].fwd;
        if (v->steps[k].wrap) return 0;
        for (int e = 0; e < 6; e++)
            if (e != 2 && e != 5 && f[e] != 0 && f[e] != 1 && f[e] != -1) return 0;
        int xx = f[0] != 0, xy = f[1] != 0, yx = f[3] != 0, yy = f[4] != 0;
        if (!((xx && yy && !xy && !yx) || (xy && yx && !xx && !yy))) return 0;
    }
    return 1;
}

/* One original coordinate a (axis 0: x, 1: y) through the steps, as forward_point moves it:
 * its final value and axis, or 0 if it leaves a frame. */
static int forward_axis(const aug_view *v, double a, int axis, double *out, int *out_axis) {
    const double eps = 1e-9;
    for (int k = 0; k < v->n_steps; k++) {
        const aug_step *st = &v->steps[k];
        const double *f = st->fwd;
        if (axis == 0) { /* x feeds x' (f[0]) or y' (f[3]) */
            if (f[0] != 0) a = f[0] * a + f[2];
            else a = f[3] * a + f[5], axis = 1;
        } else { /* y feeds y' (f[4]) or x' (f[1]) */
            if (f[4] != 0) a = f[4] * a + f[5];
            else a = f[1] * a + f[2], axis = 0;
        }
        double lim = axis == 0 ? st->out_w : st->out_h;
        if (a < -eps || a > lim + eps) return 0;
    }
    *out = a, *out_axis = axis;
    return 1;
}

/* The source offset of original map column (axis 0) or row (axis 1) index t, as the per-pixel
 * path finds it: 1 on a map pixel (or out of the frame: ok = 0), 0 when it would interpolate. */
static int fast_axis(const aug_view *av, int axis, int t, double s, tta_interp interp, int src_h, int src_w,
                     int *off, int *final_axis, uint8_t *ok) {
    double a = 0;
    int fa = 0;
    *ok = (uint8_t)forward_axis(av, s * (t + 0.5), axis, &a, &fa);
    *off = 0;
    if (!*ok) return 1;
    int n = fa == 0 ? src_w : src_h;
    double u = snap(a / s - 0.5);
    u = u < 0 ? 0 : u > n - 1 ? n - 1 : u;
    int i;
    if (interp == TTA_INTERP_NEAREST) i = (int)floor(u + 0.5);
    else {
        i = (int)floor(u);
        if ((float)(u - i) != 0.0f) return 0;
    }
    *final_axis = fa;
    *off = fa == 0 ? i : i * src_w;
    return 1;
}

/* 1 and the map when the fast path applies; 0 (nothing written) when it does not. */
static int invert_dense_fast(const aug_view *av, int stride, tta_interp interp, const float *src, int channels,
                             int src_h, int src_w, float *dst, int dst_h, int dst_w, uint8_t *valid) {
    if (dst_h > FAST_MAX_SIDE || dst_w > FAST_MAX_SIDE || !whole_steps(av)) return 0;
    int coff[FAST_MAX_SIDE], roff[FAST_MAX_SIDE];
    uint8_t cok[FAST_MAX_SIDE], rok[FAST_MAX_SIDE];
    const double s = stride;
    int fa; /* a column ends on one axis, a row on the other: their offsets add up */
    for (int j = 0; j < dst_w; j++)
        if (!fast_axis(av, 0, j, s, interp, src_h, src_w, &coff[j], &fa, &cok[j])) return 0;
    for (int i = 0; i < dst_h; i++)
        if (!fast_axis(av, 1, i, s, interp, src_h, src_w, &roff[i], &fa, &rok[i])) return 0;
    const size_t src_plane = (size_t)src_h * src_w, dst_plane = (size_t)dst_h * dst_w;
    int all_cols = 1, contiguous = 1;
    for (int j = 0; j < dst_w; j++) {
        all_cols &= cok[j];
        contiguous &= coff[j] == coff[0] + j;
    }
    for (int i = 0; i < dst_h; i++) {
        uint8_t *vr = valid ? valid + (size_t)i * dst_w : NULL;
        if (vr)
            for (int j = 0; j < dst_w; j++) vr[j] = (uint8_t)(rok[i] & cok[j]);
        for (int c = 0; c < channels; c++) {
            float *d = dst + c * dst_plane + (size_t)i * dst_w;
            const float *m = src + c * src_plane + roff[i];
            if (!rok[i]) memset(d, 0, sizeof *d * (size_t)dst_w);
            else if (all_cols && contiguous) memcpy(d, m + coff[0], sizeof *d * (size_t)dst_w);
            else
                for (int j = 0; j < dst_w; j++) d[j] = cok[j] ? m[coff[j]] : 0.0f;
        }
    }
    return 1;
}

tta_status tta_invert_dense(const tta_aug_plan *plan, int v, int stride, tta_interp interp, const float *src,
                            int channels, int src_h, int src_w, float *dst, int dst_h, int dst_w,
                            uint8_t *valid) {
    TTA_TRY(check_view(plan, v, "tta_invert_dense"));
    if (!src || !dst || channels < 1 || src_h < 1 || src_w < 1 || dst_h < 1 || dst_w < 1)
        return tta_errorf(TTA_ERR_INVALID_ARG, "tta_invert_dense: empty map or NULL pointer");
    if (stride < 1 || stride > 1024)
        return tta_errorf(TTA_ERR_INVALID_ARG, "tta_invert_dense: stride %d is not a positive power", stride);
    if (interp != TTA_INTERP_NEAREST && interp != TTA_INTERP_BILINEAR)
        return tta_errorf(TTA_ERR_INVALID_ARG, "tta_invert_dense: interpolation must be nearest or bilinear");
    const aug_view *av = &plan->views[v];
    if (invert_dense_fast(av, stride, interp, src, channels, src_h, src_w, dst, dst_h, dst_w, valid)) return TTA_OK;
    const size_t src_plane = (size_t)src_h * src_w, dst_plane = (size_t)dst_h * dst_w;
    const double s = stride;
    for (int i = 0; i < dst_h; i++) {
        for (int j = 0; j < dst_w; j++) {
            size_t o = (size_t)i * dst_w + j;
            double x = s * (j + 0.5), y = s * (i + 0.5);
            int ok = forward_point(av, &x, &y);
            if (valid) valid[o] = (uint8_t)ok;
            if (!ok) {
                for (int c = 0; c < channels; c++)
                    dst[c * dst_plane + o] = 0.0f;
                continue;
            }
            double u = snap(x / s - 0.5), w = snap(y / s - 0.5);
            u = u < 0 ? 0 : u > src_w - 1 ? src_w - 1 : u;
            w = w < 0 ? 0 : w > src_h - 1 ? src_h - 1 : w;
            if (interp == TTA_INTERP_NEAREST) {
                size_t k = (size_t)floor(w + 0.5) * src_w + (size_t)floor(u + 0.5);
                for (int c = 0; c < channels; c++)
                    dst[c * dst_plane + o] = src[c * src_plane + k];
                continue;
            }
            int x0 = (int)floor(u), y0 = (int)floor(w);
            float fx = (float)(u - x0), fy = (float)(w - y0);
            int x1 = x0 + 1 < src_w ? x0 + 1 : x0, y1 = y0 + 1 < src_h ? y0 + 1 : y0;
            size_t k00 = (size_t)y0 * src_w + x0;
            if (fx == 0.0f && fy == 0.0f) { /* on a map pixel: copy, bit for bit */
                for (int c = 0; c < channels; c++)
                    dst[c * dst_plane + o] = src[c * src_plane + k00];
                continue;
            }
            size_t k01 = (size_t)y0 * src_w + x1, k10 = (size_t)y1 * src_w + x0,
                   k11 = (size_t)y1 * src_w + x1;
            for (int c = 0; c < channels; c++) {
                const float *m = src + c * src_plane;
                float top = m[k00] + fx * (m[k01] - m[k00]), bot = m[k10] + fx * (m[k11] - m[k10]);
                dst[c * dst_plane + o] = top + fy * (bot - top);
            }
        }
    }
    return TTA_OK;
}

static float clip(double v, double hi) { return (float)(v < 0 ? 0 : v > hi ? hi : v); }

tta_status tta_invert_boxes(const tta_aug_plan *plan, int v, float *boxes, int n, int stride) {
    TTA_TRY(check_view(plan, v, "tta_invert_boxes"));
    if ((!boxes && n > 0) || n < 0 || stride < 4)
        return tta_errorf(TTA_ERR_INVALID_ARG, "tta_invert_boxes: bad arguments (n %d, stride %d)", n,
                          stride);
    const aug_view *av = &plan->views[v];
    for (int b = 0; b < n; b++) {
        float *box = boxes + (size_t)b * stride;
        double x[4] = {box[0], box[2], box[0], box[2]}, y[4] = {box[1], box[1], box[3], box[3]};
        backward_points(av, x, y, 4);
        double x1 = fmin(fmin(x[0], x[1]), fmin(x[2], x[3])), x2 = fmax(fmax(x[0], x[1]), fmax(x[2], x[3]));
        double y1 = fmin(fmin(y[0], y[1]), fmin(y[2], y[3])), y2 = fmax(fmax(y[0], y[1]), fmax(y[2], y[3]));
        box[0] = clip(x1, plan->in_w);
        box[1] = clip(y1, plan->in_h);
        box[2] = clip(x2, plan->in_w);
        box[3] = clip(y2, plan->in_h);
    }
    return TTA_OK;
}

tta_status tta_invert_keypoints(const tta_aug_plan *plan, int v, float *points, int n_instances, int n_points,
                                int stride, const int *flip_perm, uint8_t *valid) {
    TTA_TRY(check_view(plan, v, "tta_invert_keypoints"));
    if ((!points && n_instances * n_points > 0) || n_instances < 0 || n_points < 0 || stride < 2)
        return tta_errorf(TTA_ERR_INVALID_ARG, "tta_invert_keypoints: bad arguments");
    const aug_view *av = &plan->views[v];
    int permute = flip_perm && av->mirrored && n_points > 0;
    float *tmp = NULL;
    if (permute) {
        tmp = tta_malloc(sizeof *tmp * (size_t)n_points * stride);
        uint8_t *seen = tta_calloc((size_t)n_points, 1);
        if (!tmp || !seen) {
            tta_free(tmp);
            tta_free(seen);
            return tta_errorf(TTA_ERR_NOMEM, "out of memory for %d keypoints", n_points);
        }
        int bad = -1;
        for (int k = 0; k < n_points && bad < 0; k++) {
            int t = flip_perm[k];
            if (t < 0 || t >= n_points || seen[t])
                bad = k;
            else
                seen[t] = 1;
        }
        tta_free(seen);
        if (bad >= 0) {
            tta_free(tmp);
            return tta_errorf(TTA_ERR_INVALID_ARG,
                              "tta_invert_keypoints: flip_perm is not a permutation of 0..%d (entry %d)",
                              n_points - 1, bad);
        }
    }
    for (int inst = 0; inst < n_instances; inst++) {
        float *pts = points + (size_t)inst * n_points * stride;
        uint8_t *ok = valid ? valid + (size_t)inst * n_points : NULL;
        for (int k = 0; k < n_points; k++) {
            double x = pts[k * stride], y = pts[k * stride + 1];
            backward_points(av, &x, &y, 1);
            pts[k * stride] = (float)x;
            pts[k * stride + 1] = (float)y;
        }
        if (permute) {
            memcpy(tmp, pts, sizeof *tmp * (size_t)n_points * stride);
            for (int k = 0; k < n_points; k++)
                memcpy(pts + (size_t)flip_perm[k] * stride, tmp + (size_t)k * stride, sizeof *tmp * stride);
        }
        if (ok)
            for (int k = 0; k < n_points; k++) {
                float x = pts[k * stride], y = pts[k * stride + 1];
                ok[k] = x >= 0 && y >= 0 && x <= plan->in_w && y <= plan->in_h;
            }
    }
    tta_free(tmp);
    return TTA_OK;
}
