/* internal.h - what the augment files share: the transform table (transform.c), the compiled
 * form of a view inside a plan (plan.c builds it, apply.c runs it, inverse.c reads its
 * geometry) and the resampling builders (resample.c). Not part of the public API. */
#ifndef TTA_AUGMENT_INTERNAL_H
#define TTA_AUGMENT_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "tta/augment.h"

/* ---- transform table (transform.c) ---- */

enum {
    AUG_ARG_INTERP = 1 << 0,  /* accepts nearest/bilinear/bicubic */
    AUG_ARG_BORDER = 1 << 1,  /* accepts constant/edge/reflect/wrap */
    AUG_ARG_FILL = 1 << 2,    /* accepts fill=F */
    AUG_ARG_ANCHOR = 1 << 3,  /* first argument is an anchor word */
    AUG_ARG_PERCENT = 1 << 4, /* sizes may be given as percentages */
    AUG_GEOMETRIC = 1 << 5,   /* moves pixels (otherwise a colour transform) */
};

typedef struct aug_op_info {
    const char *name;
    tta_op op;
    int min_num, max_num; /* positional numbers */
    unsigned flags;
    tta_interp interp; /* defaults */
    tta_border border;
    double fill;
} aug_op_info;

const aug_op_info *aug_op_by_name(const char *name, size_t len);
const aug_op_info *aug_op_info_of(tta_op op);
const char *aug_interp_name(tta_interp i);
const char *aug_border_name(tta_border b);
const char *aug_anchor_name(tta_anchor a);
/* Returns a default-initialised transform of `op`. */
tta_transform aug_transform_default(tta_op op);
/* Checks parameter ranges; returns NULL or a static description of the problem. */
const char *aug_transform_check(const tta_transform *t);
/* Appends the canonical text of t to buf (snprintf-like: returns the length it needs). */
size_t aug_transform_format(const tta_transform *t, char *buf, size_t size);
/* Shortest text for a double that strtod reads back exactly. */
void aug_format_number(double v, char *buf, size_t size);

/* ---- compiled views (plan.c) ---- */

/* Geometry of one step: continuous pixel coordinates, x' = f[0] x + f[1] y + f[2],
 * y' = f[3] x + f[4] y + f[5] (fwd: input -> output; bwd: output -> input). */
typedef struct aug_step {
    double fwd[6], bwd[6];
    int in_h, in_w, out_h, out_w;
    int wrap; /* a wrap shift: coordinates are taken modulo the frame after the map */
} aug_step;

typedef enum aug_stage_kind {
    AUG_STAGE_INDEX,  /* out pixel p = in pixel idx[p], or the fill value if idx[p] < 0 */
    AUG_STAGE_TAPS,   /* out pixel p = sum of k weighted in pixels (idx < 0: fill) */
    AUG_STAGE_SEP,    /* separable: rows then columns of taps */
    AUG_STAGE_COLOUR, /* per pixel colour change */
} aug_stage_kind;

typedef struct aug_stage {
    aug_stage_kind kind;
    int in_h, in_w, out_h, out_w;
    float fill;   /* fraction of full scale, for idx < 0 */
    int has_fill; /* some idx < 0 */
    int k;        /* TAPS: taps per output pixel */
    int32_t *idx; /* INDEX: one per output pixel; TAPS: k per output pixel, or see frac */
    float *w;     /* TAPS */
    /* TAPS, bilinear: idx[p] >= 0 is the top-left source pixel of a 2x2 block inside the image,
     * weighted by frac[2p] (x) and frac[2p+1] (y); idx[p] < 0 sends pixel p to border slot
     * -1 - idx[p], whose 4 taps are bidx/bw[4 * slot ...] */
    float *frac;
    int32_t *bidx;
    float *bw;
    int kx, ky; /* SEP: taps per output column / row */
    int32_t *ix, *iy;
    float *wx, *wy;
    tta_op colour; /* COLOUR */
    float param;
} aug_stage;

#define AUG_MAX_STEPS (2 * TTA_MAX_CHAIN + 1) /* letterbox takes 2; the final resize 1 */

typedef struct aug_view {
    tta_view view;
    int n_steps;
    aug_step steps[AUG_MAX_STEPS];
    int n_stages;
    aug_stage stages[AUG_MAX_STEPS];
    int out_h, out_w;
    int mirrored;
    int needs_colour; /* a transform needs >= 3 channels */
    size_t buf_pixels[2]; /* scratch this view needs: the two ping-pong buffers, in pixels */
    size_t sep_pixels;    /* and the separable temporary */
} aug_view;

/* No image inside a view may be larger than this (checked when the plan is made, before any
 * table or scratch is sized by it): a tiny policy must not ask for gigabytes. */
#define AUG_MAX_SIDE 65536
#define AUG_MAX_PIXELS ((size_t)1 << 28)

/* float buffers for intermediate results: two images (ping-pong) and a separable temporary */
typedef struct aug_scratch {
    float *buf[2], *sep;
    size_t buf_cap[2], sep_cap; /* floats */
    /* a uint8 input converted to float for interpolating stages, shared by the views of one
     * image within one call (conv_of: the image it holds, NULL when none) */
    float *conv;
    size_t conv_cap;
    const void *conv_of;
} aug_scratch;

#define AUG_MAX_THREADS 16

struct tta_aug_plan {
    int in_h, in_w, out_h, out_w;
    int n_views;
    aug_view *views;
    aug_scratch scratch[AUG_MAX_THREADS]; /* one per thread of tta_augment_batch */
};

/* ---- resampling builders (resample.c) ---- */

/* One primitive resampling: output pixel centres are mapped by bwd into the input and sampled
 * with interp and border. */
typedef struct aug_prim {
    int out_h, out_w;
    double bwd[6];
    tta_interp interp;
    tta_border border;
    double fill;
} aug_prim;

/* Builds the stage for `p` on an in_h x in_w input (INDEX when the map is exact or nearest,
 * SEP when axis-aligned, TAPS otherwise). */
tta_status aug_stage_build(aug_stage *st, const aug_prim *p, int in_h, int in_w);
void aug_stage_release(aug_stage *st);
/* If `b` (applied after `a`) can be folded into `a` (both INDEX), does so, frees b and
 * returns 1. */
int aug_stage_fuse(aug_stage *a, aug_stage *b);
/* 1 if an INDEX stage maps every pixel to itself. */
int aug_stage_is_identity(const aug_stage *st);

#endif
