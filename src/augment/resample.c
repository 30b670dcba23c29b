/* resample.c - turns one geometric primitive (an output size, a map from output to input
 * coordinates, an interpolation and a border mode) into precomputed sampling tables:
 *
 *   INDEX  one source pixel per output pixel: exact maps (flips, rot90, transpose, integer
 *          shifts, crops, pads) and nearest-neighbour sampling;
 *   SEP    separable weights, one set per output column and per output row: axis-aligned maps
 *          (resize, scale, fractional shifts), antialiased when shrinking;
 *   TAPS   2x2 (bilinear) or 4x4 (bicubic) weighted source pixels per output pixel (rotate).
 *
 * Sampling semantics: the input is extended beyond its edges by the border mode (constant
 * fill, edge = repeat the nearest pixel, reflect = d c b a | a b c d, wrap = periodic), then
 * interpolated at the mapped pixel centre. A source index < 0 in a table stands for the
 * constant fill value. This is scipy.ndimage's convention with modes grid-constant, nearest,
 * reflect and grid-wrap, which is what the reference values in tests/data/augment compare to.
 * Bicubic is Keys' cubic convolution with a = -0.5. When a separable map shrinks by a factor
 * s < 1, the kernel is stretched by 1/s and renormalised (as PIL and torchvision antialias do). */
#include <math.h>
#include <string.h>

#include "augment/internal.h"
#include "core/alloc.h"
#include "core/error.h"

/* Maps index k of an axis of length n to an index inside it, or -1 for the constant fill. */
static int32_t resolve(long k, int n, tta_border border) {
    if (k >= 0 && k < n) return (int32_t)k;
    switch (border) {
    case TTA_BORDER_CONSTANT: return -1;
    case TTA_BORDER_EDGE: return k < 0 ? 0 : n - 1;
    case TTA_BORDER_REFLECT: {
        long m = 2L * n;
        k %= m;
        if (k < 0) k += m;
        return (int32_t)(k < n ? k : m - 1 - k);
    }
    case TTA_BORDER_WRAP:
        k %= n;
        if (k < 0) k += n;
        return (int32_t)k;
    }
    return -1;
}

/* floor() of a coordinate, kept within a range where long arithmetic is safe */
static long floor_index(double v) {
    if (!(v > -1e9)) return -1000000000L;
    if (v > 1e9) return 1000000000L;
    return (long)floor(v);
}

static double keys_cubic(double t) {
    const double a = -0.5;
    t = fabs(t);
    if (t < 1) return ((a + 2) * t - (a + 3)) * t * t + 1;
    if (t < 2) return ((a * t - 5 * a) * t + 8 * a) * t - 4 * a;
    return 0;
}

static double triangle(double t) {
    t = fabs(t);
    return t < 1 ? 1 - t : 0;
}

static int near_int(double v) { return fabs(v - floor(v + 0.5)) < 1e-9; }

/* 1 if the map sends every output pixel centre exactly onto an input pixel centre: the linear
 * part is a signed permutation and pixel (0, 0) lands on a centre. */
static int map_is_exact(const double *b) {
    const double eps = 1e-9;
    double a = b[0], c = b[1], d = b[3], e = b[4];
    int diag = fabs(fabs(a) - 1) < eps && fabs(fabs(e) - 1) < eps && fabs(c) < eps && fabs(d) < eps;
    int anti = fabs(fabs(c) - 1) < eps && fabs(fabs(d) - 1) < eps && fabs(a) < eps && fabs(e) < eps;
    if (!diag && !anti) return 0;
    double x = a * 0.5 + c * 0.5 + b[2], y = d * 0.5 + e * 0.5 + b[5];
    return near_int(x - 0.5) && near_int(y - 0.5);
}

static tta_status nomem(void) { return tta_errorf(TTA_ERR_NOMEM, "out of memory for augmentation tables"); }

static tta_status build_index(aug_stage *st, const aug_prim *p, int in_h, int in_w) {
    size_t n = (size_t)p->out_h * p->out_w;
    st->kind = AUG_STAGE_INDEX;
    st->idx = tta_malloc(n * sizeof *st->idx);
    if (!st->idx) return nomem();
    const double *b = p->bwd;
    for (int i = 0; i < p->out_h; i++) {
        for (int j = 0; j < p->out_w; j++) {
            /* the centre maps to a centre when exact, so floor() is round-to-nearest of u = x - 0.5 */
            double x = b[0] * (j + 0.5) + b[1] * (i + 0.5) + b[2];
            double y = b[3] * (j + 0.5) + b[4] * (i + 0.5) + b[5];
            int32_t sj = resolve(floor_index(x), in_w, p->border);
            int32_t si = resolve(floor_index(y), in_h, p->border);
            int32_t k = (si < 0 || sj < 0) ? -1 : si * in_w + sj;
            st->has_fill |= k < 0;
            st->idx[(size_t)i * p->out_w + j] = k;
        }
    }
    return TTA_OK;
}

/* 1-D weights for an axis: output index o samples the input at u = a * (o + 0.5) + c - 0.5. */
static tta_status build_axis(int out_n, int in_n, double a, double c, tta_interp interp, tta_border border,
                             int *k_out, int32_t **idx_out, float **w_out, int *has_fill) {
    double radius = interp == TTA_INTERP_BICUBIC ? 2.0 : 1.0;
    double stretch = fabs(a) > 1 ? fabs(a) : 1.0; /* antialias when shrinking */
    double support = radius * stretch;
    int k = (int)ceil(2 * support) + 1;
    int32_t *idx = tta_malloc(sizeof *idx * (size_t)k * out_n);
    float *w = tta_malloc(sizeof *w * (size_t)k * out_n);
    double *tmp = tta_malloc(sizeof *tmp * (size_t)k);
    if (!idx || !w || !tmp) {
        tta_free(idx);
        tta_free(w);
        tta_free(tmp);
        return nomem();
    }
    for (int o = 0; o < out_n; o++) {
        double u = a * (o + 0.5) + c - 0.5;
        if (near_int(u)) u = floor(u + 0.5);    /* exact sampling stays exact */
        long lo = floor_index(u - support) + 1; /* first tap strictly inside the support */
        double sum = 0;
        for (int t = 0; t < k; t++) {
            double d = ((double)(lo + t) - u) / stretch;
            double wt = interp == TTA_INTERP_BICUBIC ? keys_cubic(d) : triangle(d);
            tmp[t] = wt;
            sum += wt;
        }
        for (int t = 0; t < k; t++) {
            int32_t s = resolve(lo + t, in_n, border);
            float wt = sum != 0 ? (float)(tmp[t] / sum) : 0.0f;
            if (wt == 0.0f && s < 0) s = 0; /* a zero-weight tap never needs the fill */
            if (s < 0) *has_fill = 1;
            idx[(size_t)o * k + t] = s;
            w[(size_t)o * k + t] = wt;
        }
    }
    tta_free(tmp);
    *k_out = k;
    *idx_out = idx;
    *w_out = w;
    return TTA_OK;
}

static tta_status build_sep(aug_stage *st, const aug_prim *p, int in_h, int in_w) {
    st->kind = AUG_STAGE_SEP;
    TTA_TRY(build_axis(p->out_w, in_w, p->bwd[0], p->bwd[2], p->interp, p->border, &st->kx, &st->ix, &st->wx,
                       &st->has_fill));
    return build_axis(p->out_h, in_h, p->bwd[4], p->bwd[5], p->interp, p->border, &st->ky, &st->iy, &st->wy,
                      &st->has_fill);
}

/* the 1-D taps of interpolating at u: k1 = 2 (bilinear) or 4 (bicubic) positions and weights */
static void taps_1d(double u, int r, long *pos, double *w) {
    long x0 = floor_index(u);
    double f = u - (double)x0;
    for (int t = 0; t < 2 * r; t++) {
        pos[t] = x0 - r + 1 + t;
        double d = f - (double)(t - r + 1);
        w[t] = r == 2 ? keys_cubic(d) : triangle(d);
    }
}

static tta_status build_taps(aug_stage *st, const aug_prim *p, int in_h, int in_w) {
    const int r = p->interp == TTA_INTERP_BICUBIC ? 2 : 1, k1 = 2 * r, k = k1 * k1;
    const size_t n = (size_t)p->out_h * p->out_w;
    const double *b = p->bwd;
    st->kind = AUG_STAGE_TAPS;
    st->k = k;
    /* bilinear pixels whose 2x2 block is inside the image get the compact form; the others (and
     * every bicubic pixel) a list of k taps */
    size_t n_list = 0;
    if (r == 1) {
        st->idx = tta_malloc(sizeof *st->idx * n);
        st->frac = tta_malloc(sizeof *st->frac * n * 2);
        if (!st->idx || !st->frac) return nomem();
        for (int pass = 0; pass < 2; pass++) {
            n_list = 0;
            for (int i = 0; i < p->out_h; i++)
                for (int j = 0; j < p->out_w; j++) {
                    double u = b[0] * (j + 0.5) + b[1] * (i + 0.5) + b[2] - 0.5;
                    double v = b[3] * (j + 0.5) + b[4] * (i + 0.5) + b[5] - 0.5;
                    long x0 = floor_index(u), y0 = floor_index(v);
                    size_t q = (size_t)i * p->out_w + j;
                    if (x0 >= 0 && y0 >= 0 && x0 + 1 < in_w && y0 + 1 < in_h) {
                        st->idx[q] = (int32_t)(y0 * in_w + x0);
                        st->frac[2 * q] = (float)(u - (double)x0);
                        st->frac[2 * q + 1] = (float)(v - (double)y0);
                        continue;
                    }
                    st->idx[q] = (int32_t)(-1 - (long)n_list);
                    if (pass == 1) {
                        long px[2], py[2];
                        double wx[2], wy[2];
                        taps_1d(u, 1, px, wx);
                        taps_1d(v, 1, py, wy);
                        for (int ty = 0; ty < 2; ty++)
                            for (int tx = 0; tx < 2; tx++) {
                                int32_t sx = resolve(px[tx], in_w, p->border),
                                        sy = resolve(py[ty], in_h, p->border);
                                float wt = (float)(wx[tx] * wy[ty]);
                                int32_t s = (sx < 0 || sy < 0) ? -1 : sy * in_w + sx;
                                if (wt == 0.0f && s < 0) s = 0;
                                st->has_fill |= s < 0;
                                st->bidx[n_list * 4 + ty * 2 + tx] = s;
                                st->bw[n_list * 4 + ty * 2 + tx] = wt;
                            }
                    }
                    n_list++;
                }
            if (pass == 0) {
                st->bidx = tta_malloc(sizeof *st->bidx * (n_list ? n_list : 1) * 4);
                st->bw = tta_malloc(sizeof *st->bw * (n_list ? n_list : 1) * 4);
                if (!st->bidx || !st->bw) return nomem();
            }
        }
        return TTA_OK;
    }
    st->idx = tta_malloc(sizeof *st->idx * n * k);
    st->w = tta_malloc(sizeof *st->w * n * k);
    if (!st->idx || !st->w) return nomem();
    for (int i = 0; i < p->out_h; i++) {
        for (int j = 0; j < p->out_w; j++) {
            double u = b[0] * (j + 0.5) + b[1] * (i + 0.5) + b[2] - 0.5;
            double v = b[3] * (j + 0.5) + b[4] * (i + 0.5) + b[5] - 0.5;
            long px[4], py[4];
            double wx[4], wy[4];
            taps_1d(u, r, px, wx);
            taps_1d(v, r, py, wy);
            size_t base = ((size_t)i * p->out_w + j) * k;
            for (int ty = 0; ty < k1; ty++) {
                for (int tx = 0; tx < k1; tx++) {
                    int32_t sx = resolve(px[tx], in_w, p->border), sy = resolve(py[ty], in_h, p->border);
                    float wt = (float)(wx[tx] * wy[ty]);
                    int32_t s = (sx < 0 || sy < 0) ? -1 : sy * in_w + sx;
                    if (wt == 0.0f && s < 0) s = 0;
                    st->has_fill |= s < 0;
                    st->idx[base + ty * k1 + tx] = s;
                    st->w[base + ty * k1 + tx] = wt;
                }
            }
        }
    }
    return TTA_OK;
}

tta_status aug_stage_build(aug_stage *st, const aug_prim *p, int in_h, int in_w) {
    memset(st, 0, sizeof *st);
    st->in_h = in_h;
    st->in_w = in_w;
    st->out_h = p->out_h;
    st->out_w = p->out_w;
    st->fill = (float)p->fill;
    const double *b = p->bwd;
    tta_status s;
    if (p->interp == TTA_INTERP_NEAREST || map_is_exact(b))
        s = build_index(st, p, in_h, in_w);
    else if (fabs(b[1]) < 1e-12 && fabs(b[3]) < 1e-12)
        s = build_sep(st, p, in_h, in_w);
    else
        s = build_taps(st, p, in_h, in_w);
    if (s != TTA_OK) aug_stage_release(st);
    return s;
}

void aug_stage_release(aug_stage *st) {
    tta_free(st->idx);
    tta_free(st->w);
    tta_free(st->ix);
    tta_free(st->iy);
    tta_free(st->wx);
    tta_free(st->wy);
    tta_free(st->frac);
    tta_free(st->bidx);
    tta_free(st->bw);
    memset(st, 0, sizeof *st);
}

int aug_stage_fuse(aug_stage *a, aug_stage *b) {
    if (a->kind != AUG_STAGE_INDEX || b->kind != AUG_STAGE_INDEX) return 0;
    if (a->has_fill && b->has_fill && a->fill != b->fill) return 0;
    size_t n = (size_t)b->out_h * b->out_w;
    if (n > (size_t)a->out_h * a->out_w) {
        int32_t *grown = tta_realloc(a->idx, n * sizeof *grown);
        if (!grown) return 0; /* run them one after the other instead */
        a->idx = grown;
    }
    /* b reads a's output: out[q] = a_out[b[q]] = in[a[b[q]]] */
    for (size_t q = 0; q < n; q++) {
        int32_t s = b->idx[q];
        b->idx[q] = s < 0 ? -1 : a->idx[s];
    }
    memcpy(a->idx, b->idx, n * sizeof *a->idx);
    if (b->has_fill) a->fill = b->fill;
    a->has_fill = a->has_fill || b->has_fill;
    a->out_h = b->out_h;
    a->out_w = b->out_w;
    aug_stage_release(b);
    return 1;
}

int aug_stage_is_identity(const aug_stage *st) {
    if (st->kind != AUG_STAGE_INDEX || st->in_h != st->out_h || st->in_w != st->out_w) return 0;
    size_t n = (size_t)st->out_h * st->out_w;
    for (size_t q = 0; q < n; q++)
        if (st->idx[q] != (int32_t)q) return 0;
    return 1;
}
