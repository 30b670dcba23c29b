/* plan.c - compiles a policy for one input size: each geometric transform becomes one or two
 * primitives (an output size and an affine map from output to input coordinates), each
 * primitive a sampling stage (resample.c) and a geometry step (used by inverse.c); colour
 * transforms become colour stages. Consecutive index stages are fused into one, and stages
 * that change nothing are dropped, so "hflip > shift(0, 3)" is a single gather per pixel.
 *
 * The geometry of every transform lives here, in continuous pixel coordinates (origin at the
 * top-left corner of the image; see SPEC section 3). */
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "augment/internal.h"
#include "core/alloc.h"
#include "core/error.h"

static void set_affine(double *m, double a, double b, double c, double d, double e, double f) {
    m[0] = a, m[1] = b, m[2] = c, m[3] = d, m[4] = e, m[5] = f;
}

/* inverse of an affine map; returns 0 if singular */
static int invert_affine(const double *m, double *inv) {
    double det = m[0] * m[4] - m[1] * m[3];
    if (det == 0 || !isfinite(det)) return 0;
    double a = m[4] / det, b = -m[1] / det, d = -m[3] / det, e = m[0] / det;
    set_affine(inv, a, b, -(a * m[2] + b * m[5]), d, e, -(d * m[2] + e * m[5]));
    return 1;
}

static int pct_size(double pct, int n) {
    long v = lround(n * pct / 100.0);
    return v < 1 ? 1 : v > 65536 ? 65536 : (int)v;
}

/* cos and sin of an angle in degrees, exact at multiples of 90 */
static void cos_sin_deg(double deg, double *c, double *s) {
    double r = fmod(deg, 360.0);
    if (r < 0) r += 360.0;
    if (r == 0)
        *c = 1, *s = 0;
    else if (r == 90)
        *c = 0, *s = 1;
    else if (r == 180)
        *c = -1, *s = 0;
    else if (r == 270)
        *c = 0, *s = -1;
    else
        *c = cos(r * M_PI / 180.0), *s = sin(r * M_PI / 180.0);
}

typedef struct view_builder {
    aug_view *view;
    int h, w;                /* current size */
    int index;               /* view number, for messages */
    const tta_transform *t;  /* the transform being added, for messages (NULL: the final resize) */
    size_t src_pixels;       /* the plan's input image */
} view_builder;

/* A transform of the policy may make at most this many times the input's pixels (or 4 M pixels,
 * whichever is more): resize(10556) of a 12x10 image followed by the resize to an 8x9 output
 * once made a 93 M-pixel intermediate for 100 s. The final resize to the output size is exempt. */
#define AUG_MAX_GROWTH 64
#define AUG_GROWTH_FLOOR ((size_t)1 << 22)

static tta_status add_prim(view_builder *vb, const aug_prim *p, int wrap) {
    aug_view *v = vb->view;
    if (p->out_h > AUG_MAX_SIDE || p->out_w > AUG_MAX_SIDE ||
        (size_t)p->out_h * (size_t)p->out_w > AUG_MAX_PIXELS) {
        char text[128] = "the resize to the output size";
        if (vb->t) aug_transform_format(vb->t, text, sizeof text);
        return tta_errorf(TTA_ERR_INVALID_ARG,
                          "view %d: %s makes a %dx%d image from %dx%d: too large (at most %d pixels a side and "
                          "2^28 pixels)",
                          vb->index, text, p->out_h, p->out_w, vb->h, vb->w, AUG_MAX_SIDE);
    }
    size_t px = (size_t)p->out_h * (size_t)p->out_w, cap = AUG_MAX_GROWTH * vb->src_pixels;
    if (vb->t && px > (cap > AUG_GROWTH_FLOOR ? cap : AUG_GROWTH_FLOOR)) {
        char text[128];
        aug_transform_format(vb->t, text, sizeof text);
        return tta_errorf(TTA_ERR_INVALID_ARG,
                          "view %d: %s makes a %dx%d image from a %zu-pixel input: too large (at most %d times the "
                          "input's pixels, or 4 M pixels)",
                          vb->index, text, p->out_h, p->out_w, vb->src_pixels, AUG_MAX_GROWTH);
    }
    if (v->n_steps == AUG_MAX_STEPS || v->n_stages == AUG_MAX_STEPS)
        return tta_errorf(TTA_ERR_INTERNAL, "view %d has too many steps", vb->index);
    aug_step *step = &v->steps[v->n_steps];
    memcpy(step->bwd, p->bwd, sizeof step->bwd);
    if (!invert_affine(p->bwd, step->fwd))
        return tta_errorf(TTA_ERR_INTERNAL, "view %d: singular transform", vb->index);
    step->in_h = vb->h;
    step->in_w = vb->w;
    step->out_h = p->out_h;
    step->out_w = p->out_w;
    step->wrap = wrap;
    v->n_steps++;
    aug_stage *st = &v->stages[v->n_stages];
    TTA_TRY(aug_stage_build(st, p, vb->h, vb->w));
    if (v->n_stages > 0 && aug_stage_fuse(&v->stages[v->n_stages - 1], st)) {
        aug_stage *prev = &v->stages[v->n_stages - 1];
        if (aug_stage_is_identity(prev)) aug_stage_release(prev), v->n_stages--;
    } else if (aug_stage_is_identity(st)) {
        aug_stage_release(st);
    } else {
        v->n_stages++;
    }
    vb->h = p->out_h;
    vb->w = p->out_w;
    return TTA_OK;
}

/* a resampling to out_h x out_w that maps the image frame onto the output frame */
static tta_status add_resize(view_builder *vb, int out_h, int out_w, tta_interp interp) {
    aug_prim p = {out_h, out_w, {0}, interp, TTA_BORDER_EDGE, 0};
    set_affine(p.bwd, (double)vb->w / out_w, 0, 0, 0, (double)vb->h / out_h, 0);
    return add_prim(vb, &p, 0);
}

static tta_status add_transform(view_builder *vb, const tta_transform *t) {
    double w = vb->w, h = vb->h, cx = w / 2, cy = h / 2;
    aug_prim p = {vb->h, vb->w, {0}, t->interp, t->border, t->fill};
    char text[128];
    switch (t->op) {
    case TTA_OP_IDENTITY: return TTA_OK;
    case TTA_OP_HFLIP: set_affine(p.bwd, -1, 0, w, 0, 1, 0); break;
    case TTA_OP_VFLIP: set_affine(p.bwd, 1, 0, 0, 0, -1, h); break;
    case TTA_OP_TRANSPOSE:
        p.out_h = vb->w, p.out_w = vb->h;
        set_affine(p.bwd, 0, 1, 0, 1, 0, 0);
        break;
    case TTA_OP_ROT90: /* counter-clockwise, as numpy.rot90: output (i, j) <- input (j, W-1-i) */
        switch ((int)t->p[0]) {
        case 0: return TTA_OK;
        case 1: p.out_h = vb->w, p.out_w = vb->h, set_affine(p.bwd, 0, -1, w, 1, 0, 0); break;
        case 2: set_affine(p.bwd, -1, 0, w, 0, -1, h); break;
        default: p.out_h = vb->w, p.out_w = vb->h, set_affine(p.bwd, 0, 1, 0, -1, 0, h); break;
        }
        break;
    case TTA_OP_SHIFT: set_affine(p.bwd, 1, 0, -t->p[0], 0, 1, -t->p[1]); break;
    case TTA_OP_ROTATE: {
        /* counter-clockwise on screen (y down): fwd q = c + [cos sin; -sin cos] (p - c) */
        double c, s;
        cos_sin_deg(t->p[0], &c, &s);
        set_affine(p.bwd, c, -s, cx - c * cx + s * cy, s, c, cy - s * cx - c * cy);
        break;
    }
    case TTA_OP_SCALE: {
        double k = 1.0 / t->p[0];
        set_affine(p.bwd, k, 0, cx - k * cx, 0, k, cy - k * cy);
        break;
    }
    case TTA_OP_RESIZE: {
        int oh = t->relative ? pct_size(t->p[0], vb->h) : (int)t->p[0];
        int ow = t->relative ? pct_size(t->p[1], vb->w) : (int)t->p[1];
        return add_resize(vb, oh, ow, t->interp);
    }
    case TTA_OP_CROP: {
        int ch = t->relative ? pct_size(t->p[0], vb->h) : (int)t->p[0];
        int cw = t->relative ? pct_size(t->p[1], vb->w) : (int)t->p[1];
        if (ch > vb->h || cw > vb->w) {
            aug_transform_format(t, text, sizeof text);
            return tta_errorf(TTA_ERR_SHAPE, "view %d: %s: a %dx%d crop does not fit in the %dx%d image",
                              vb->index, text, ch, cw, vb->h, vb->w);
        }
        int oy = 0, ox = 0;
        switch (t->anchor) {
        case TTA_ANCHOR_TL: break;
        case TTA_ANCHOR_TR: ox = vb->w - cw; break;
        case TTA_ANCHOR_BL: oy = vb->h - ch; break;
        case TTA_ANCHOR_BR: oy = vb->h - ch, ox = vb->w - cw; break;
        case TTA_ANCHOR_CENTER: oy = (vb->h - ch) / 2, ox = (vb->w - cw) / 2; break;
        }
        p.out_h = ch, p.out_w = cw;
        p.interp = TTA_INTERP_NEAREST;
        set_affine(p.bwd, 1, 0, ox, 0, 1, oy);
        break;
    }
    case TTA_OP_LETTERBOX: {
        /* resize to fit (keeping the aspect ratio, whole pixels), then pad around the centre */
        int th = (int)t->p[0], tw = (int)t->p[1];
        double s = fmin((double)th / vb->h, (double)tw / vb->w);
        int nh = (int)lround(vb->h * s), nw = (int)lround(vb->w * s);
        nh = nh < 1 ? 1 : nh > th ? th : nh;
        nw = nw < 1 ? 1 : nw > tw ? tw : nw;
        if (nh != vb->h || nw != vb->w) TTA_TRY(add_resize(vb, nh, nw, t->interp));
        aug_prim pad = {th, tw, {0}, TTA_INTERP_NEAREST, TTA_BORDER_CONSTANT, t->fill};
        set_affine(pad.bwd, 1, 0, -(double)((tw - nw) / 2), 0, 1, -(double)((th - nh) / 2));
        return add_prim(vb, &pad, 0);
    }
    default: return tta_errorf(TTA_ERR_INTERNAL, "transform %d is not geometric", (int)t->op);
    }
    return add_prim(vb, &p, t->op == TTA_OP_SHIFT && t->border == TTA_BORDER_WRAP);
}

static tta_status build_view(tta_aug_plan *plan, int index, const tta_view *view) {
    aug_view *v = &plan->views[index];
    v->view = *view;
    view_builder vb = {v, plan->in_h, plan->in_w, index, NULL, (size_t)plan->in_h * (size_t)plan->in_w};
    for (int i = 0; i < view->n; i++) {
        const tta_transform *t = &view->t[i];
        vb.t = t;
        const char *why = aug_transform_check(t);
        if (why) return tta_errorf(TTA_ERR_INVALID_ARG, "view %d, transform %d: %s", index, i + 1, why);
        const aug_op_info *info = aug_op_info_of(t->op);
        if (info->flags & AUG_GEOMETRIC) {
            TTA_TRY(add_transform(&vb, t));
        } else {
            if (v->n_stages == AUG_MAX_STEPS)
                return tta_errorf(TTA_ERR_INTERNAL, "view %d has too many stages", index);
            aug_stage *st = &v->stages[v->n_stages++];
            memset(st, 0, sizeof *st);
            st->kind = AUG_STAGE_COLOUR;
            st->in_h = st->out_h = vb.h;
            st->in_w = st->out_w = vb.w;
            st->colour = t->op;
            st->param = (float)t->p[0];
            if (t->op == TTA_OP_SATURATION) v->needs_colour = 1;
        }
    }
    vb.t = NULL;
    if (plan->out_h > 0 && (vb.h != plan->out_h || vb.w != plan->out_w))
        TTA_TRY(add_resize(&vb, plan->out_h, plan->out_w, TTA_INTERP_BILINEAR));
    v->out_h = vb.h;
    v->out_w = vb.w;
    double det_sign = 1;
    for (int s = 0; s < v->n_steps; s++) {
        const double *f = v->steps[s].fwd;
        if (f[0] * f[4] - f[1] * f[3] < 0) det_sign = -det_sign;
    }
    v->mirrored = det_sign < 0;
    /* The scratch this view needs (apply.c, run_view): stage s writes ping-pong buffer s % 2;
     * every stage but the last writes a whole image there; the last writes the destination
     * itself when it is an index stage, through one row of its buffer when separable, and
     * through the whole buffer otherwise. Sized per view and per buffer, so that one large
     * image does not size every buffer of every view. */
    v->buf_pixels[0] = v->buf_pixels[1] = v->sep_pixels = 0;
    for (int s = 0; s < v->n_stages; s++) {
        const aug_stage *st = &v->stages[s];
        bool last = s == v->n_stages - 1;
        size_t out = (size_t)st->out_h * st->out_w;
        if (last && st->kind == AUG_STAGE_INDEX) out = 0;
        else if (last && st->kind == AUG_STAGE_SEP) out = (size_t)st->out_w;
        if (out > v->buf_pixels[s % 2]) v->buf_pixels[s % 2] = out;
        if (st->kind == AUG_STAGE_SEP && (size_t)st->in_h * st->out_w > v->sep_pixels)
            v->sep_pixels = (size_t)st->in_h * st->out_w;
    }
    return TTA_OK;
}

tta_status tta_aug_plan_new(tta_aug_plan **out, const tta_policy *pol, int in_h, int in_w, int out_h,
                            int out_w) {
    if (!out || !pol || pol->n_views < 1 || !pol->views)
        return tta_errorf(TTA_ERR_INVALID_ARG, "tta_aug_plan_new: NULL or empty policy");
    *out = NULL;
    if (in_h <= 0 || in_w <= 0 || in_h > 65536 || in_w > 65536)
        return tta_errorf(TTA_ERR_INVALID_ARG, "tta_aug_plan_new: bad input size %dx%d", in_h, in_w);
    if (out_h < 0 || out_w < 0 || (out_h > 0) != (out_w > 0) || out_h > 65536 || out_w > 65536)
        return tta_errorf(TTA_ERR_INVALID_ARG, "tta_aug_plan_new: bad output size %dx%d", out_h, out_w);
    if (pol->views[0].n != 0)
        return tta_errorf(TTA_ERR_INVALID_ARG, "tta_aug_plan_new: view 0 of a policy must be the identity");
    tta_aug_plan *plan = tta_calloc(1, sizeof *plan);
    if (!plan) return tta_errorf(TTA_ERR_NOMEM, "out of memory for a plan");
    plan->in_h = in_h, plan->in_w = in_w, plan->out_h = out_h, plan->out_w = out_w;
    plan->views = tta_calloc((size_t)pol->n_views, sizeof *plan->views);
    if (!plan->views) {
        tta_free(plan);
        return tta_errorf(TTA_ERR_NOMEM, "out of memory for a plan of %d views", pol->n_views);
    }
    plan->n_views = pol->n_views;
    for (int v = 0; v < pol->n_views; v++) {
        tta_status st = build_view(plan, v, &pol->views[v]);
        if (st != TTA_OK) {
            tta_aug_plan_free(plan);
            return st;
        }
    }
    *out = plan;
    return TTA_OK;
}

void tta_aug_plan_free(tta_aug_plan *plan) {
    if (!plan) return;
    for (int v = 0; v < plan->n_views; v++)
        for (int s = 0; s < AUG_MAX_STEPS; s++)
            aug_stage_release(&plan->views[v].stages[s]);
    tta_free(plan->views);
    for (int t = 0; t < AUG_MAX_THREADS; t++) {
        tta_free(plan->scratch[t].buf[0]);
        tta_free(plan->scratch[t].buf[1]);
        tta_free(plan->scratch[t].sep);
        tta_free(plan->scratch[t].conv);
    }
    tta_free(plan);
}

int tta_aug_plan_n_views(const tta_aug_plan *plan) { return plan ? plan->n_views : 0; }

void tta_aug_plan_view_size(const tta_aug_plan *plan, int v, int *height, int *width) {
    int ok = plan && v >= 0 && v < plan->n_views;
    if (height) *height = ok ? plan->views[v].out_h : 0;
    if (width) *width = ok ? plan->views[v].out_w : 0;
}

const tta_view *tta_aug_plan_view(const tta_aug_plan *plan, int v) {
    return plan && v >= 0 && v < plan->n_views ? &plan->views[v].view : NULL;
}

int tta_aug_plan_view_mirrored(const tta_aug_plan *plan, int v) {
    return plan && v >= 0 && v < plan->n_views ? plan->views[v].mirrored : 0;
}
