/* augment.h - deterministic augmentations with exact inverses, and the policy language.
 *
 * A *policy* is an ordered list of *views*; a view is a chain of *transforms* applied left to
 * right; view 0 is always the identity. Policies are written as text, one view per line or
 * separated by ';', '#' starting a comment, '>' chaining transforms:
 *
 *     hflip                        # one view
 *     shift(3, 0, wrap); shift(0, 3, wrap)
 *     rotate(10, bilinear, edge)
 *     hflip > shift(0, -3)
 *     rotate(-10) @ 0.35           # '@ W': the view's weight in a weighted merge (default 1)
 *
 * or as a preset name: seed (the reference experiment's 8 views), flip, d4, five-crop, ten-crop,
 * multiscale. A preset name may also stand on a line of its own inside a longer policy.
 *
 * Transforms (numbers may be negative or fractional unless said otherwise):
 *     identity
 *     hflip, vflip            mirror columns (x -> W - x, column j -> W-1-j) / rows
 *     transpose               swap rows and columns (output is W x H)
 *     rot90(k)                k quarter turns counter-clockwise, as numpy.rot90 (k defaults to 1)
 *     shift(dx, dy[, border][, fill=F])  content moves dx right and dy down; border default wrap,
 *                             which is a circular roll exactly like numpy.roll
 *     rotate(deg[, interp][, border][, fill=F])  counter-clockwise about the image centre, same
 *                             size; defaults bilinear, edge
 *     scale(s[, interp][, border][, fill=F])  zoom by s about the centre keeping the size
 *                             (s > 1 crops, s < 1 pads); defaults bilinear, constant
 *     resize(h, w[, interp])  to h x w pixels (or "87.5%" of the input); antialiased when
 *                             shrinking; default bilinear
 *     crop(anchor, h[, w])    anchor tl, tr, bl, br or center; h, w in pixels or percent
 *     letterbox(h, w[, interp][, fill=F])  fit into h x w keeping the aspect ratio, centred,
 *                             padded with F (default 0.5)
 *     brightness(f), contrast(f), gamma(g), saturation(f)  colour, as torchvision's adjust_*
 *                             (contrast about the mean grey level; saturation needs >= 3 channels;
 *                             the alpha channel of 2- and 4-channel images is left alone)
 * interp is nearest, bilinear or bicubic (Keys, a = -0.5); border is constant (value F, a
 * fraction of full scale, default 0), edge (repeat the nearest pixel), reflect (mirror about
 * the edge: d c b a | a b c d, scipy.ndimage "reflect") or wrap.
 *
 * Coordinates follow SPEC section 3: continuous, origin at the top-left corner of the top-left
 * pixel, pixel (row i, column j) has its centre at (x, y) = (j + 0.5, i + 0.5).
 *
 * A *plan* fixes a policy to one input size: it precomputes, per view, index maps (flips,
 * rot90, transpose, integer shifts, crops, nearest sampling), interpolation taps (rotate) or
 * separable weights (resize, scale, letterbox), and the geometry used by the inverses.
 *
 * Worked example (classification):
 *     tta_policy pol;
 *     tta_policy_parse(&pol, "seed", NULL);                     // 8 views
 *     tta_aug_plan *plan;
 *     tta_aug_plan_new(&plan, &pol, img.height, img.width, 0, 0);   // views keep the input size
 *     tta_batch_format fmt = {TTA_LAYOUT_NCHW, TTA_DTYPE_FLOAT32};  // floats in [0, 1]
 *     size_t bytes = tta_batch_bytes(plan, 1, 0, 8, &fmt, img.channels);
 *     float *batch = malloc(bytes);
 *     tta_augment_batch(plan, &img, 1, 0, 8, &fmt, batch, bytes);
 *     ... run the model on the 8 x C x H x W batch; class vectors need no inverse ...
 *     tta_aug_plan_free(plan); tta_policy_destroy(&pol);
 * For dense outputs, boxes and keypoints, map each view's output back with tta_invert_*.
 *
 * Errors: every call returns a tta_status and sets tta_last_error().
 */
#ifndef TTA_AUGMENT_H
#define TTA_AUGMENT_H

#include <stddef.h>
#include <stdint.h>

#include "tta/image.h"
#include "tta/status.h"
#include "tta/tensor.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- transforms and policies ----------------------------------------------------------- */

typedef enum tta_op {
    TTA_OP_IDENTITY = 0,
    TTA_OP_HFLIP,
    TTA_OP_VFLIP,
    TTA_OP_TRANSPOSE,
    TTA_OP_ROT90,      /* p[0] = k in 0..3 */
    TTA_OP_SHIFT,      /* p[0] = dx, p[1] = dy (pixels) */
    TTA_OP_ROTATE,     /* p[0] = degrees, counter-clockwise */
    TTA_OP_SCALE,      /* p[0] = zoom factor > 0 */
    TTA_OP_RESIZE,     /* p[0] = h, p[1] = w (pixels, or percent if relative) */
    TTA_OP_CROP,       /* p[0] = h, p[1] = w (pixels, or percent if relative), anchor */
    TTA_OP_LETTERBOX,  /* p[0] = h, p[1] = w (pixels) */
    TTA_OP_BRIGHTNESS, /* p[0] = factor >= 0 */
    TTA_OP_CONTRAST,   /* p[0] = factor >= 0 */
    TTA_OP_GAMMA,      /* p[0] = exponent > 0 */
    TTA_OP_SATURATION, /* p[0] = factor >= 0 */
    TTA_OP_COUNT
} tta_op;

typedef enum tta_interp { TTA_INTERP_NEAREST = 0, TTA_INTERP_BILINEAR, TTA_INTERP_BICUBIC } tta_interp;

typedef enum tta_border {
    TTA_BORDER_CONSTANT = 0,
    TTA_BORDER_EDGE,
    TTA_BORDER_REFLECT,
    TTA_BORDER_WRAP
} tta_border;

typedef enum tta_anchor {
    TTA_ANCHOR_CENTER = 0,
    TTA_ANCHOR_TL,
    TTA_ANCHOR_TR,
    TTA_ANCHOR_BL,
    TTA_ANCHOR_BR
} tta_anchor;

typedef struct tta_transform {
    tta_op op;
    double p[2];       /* numeric parameters, see tta_op */
    int relative;      /* resize, crop: p[] are percentages of the input size */
    tta_anchor anchor; /* crop */
    tta_interp interp; /* resampling transforms */
    tta_border border; /* shift, rotate, scale */
    double fill;       /* value of the constant border, 0..1 of full scale */
} tta_transform;

#define TTA_MAX_CHAIN 8

/* A view: n transforms applied in order (n == 0 is the identity). */
typedef struct tta_view {
    int n;
    tta_transform t[TTA_MAX_CHAIN];
} tta_view;

/* A policy: views[0] is always the identity. Owned by the struct (tta_policy_destroy). */
typedef struct tta_policy {
    int n_views;
    tta_view *views;
    int capacity;
    double *weights; /* per view (weights[v] >= 0), or NULL when no view has one; missing ones are 1 */
} tta_policy;

/* Makes `pol` the policy holding only the identity view. */
TTA_API tta_status tta_policy_init(tta_policy *pol);
TTA_API void tta_policy_destroy(tta_policy *pol);

/* Parses policy text (or a preset name) into `pol` (initialised here; destroy it even after an
 * error). The identity view is added first if the text does not list it. A view listed twice
 * is an error. Errors: PARSE with "[source: ]line L, column C: problem", NOMEM. */
TTA_API tta_status tta_policy_parse(tta_policy *pol, const char *text, const char *source);

/* Appends a copy of `view` (validated as the parser does). Errors: INVALID_ARG for a bad
 * transform or a view already in the policy (the identity included). */
TTA_API tta_status tta_policy_add_view(tta_policy *pol, const tta_view *view);

/* Writes the policy as text, one view per line (each with " @ W" when the policy has weights),
 * that tta_policy_parse reads back to the same policy. Returns the length of the full text
 * (like snprintf); writes at most `size` bytes. */
TTA_API size_t tta_policy_format(const tta_policy *pol, char *buf, size_t size);
/* One view (e.g. "hflip > shift(0, 3, wrap)"; "identity" for the identity). */
TTA_API size_t tta_view_format(const tta_view *view, char *buf, size_t size);
/* 1 if both views print the same (are the same view). */
TTA_API int tta_view_equal(const tta_view *a, const tta_view *b);
/* One transform in the policy language (e.g. "shift(0, 3, wrap)"; snprintf-like). */
TTA_API size_t tta_transform_format(const tta_transform *t, char *buf, size_t size);
/* Names as the policy language writes them: an op ("shift", "rotate", ...), an interpolation
 * ("nearest", "bilinear", ...) and a border rule ("wrap", "constant", ...); "?" when unknown. */
TTA_API const char *tta_op_name(tta_op op);
TTA_API const char *tta_interp_name(tta_interp interp);
TTA_API const char *tta_border_name(tta_border border);

/* The policy text of a preset ("seed", "flip", "d4", "five-crop", "ten-crop", "multiscale"),
 * or NULL. tta_policy_preset_name(i) lists them (NULL after the last). */
TTA_API const char *tta_policy_preset(const char *name);
TTA_API const char *tta_policy_preset_name(int i);

/* ---- plans: a policy fixed to an input size -------------------------------------------- */

typedef struct tta_aug_plan tta_aug_plan;

/* Precomputes every view of `pol` for in_h x in_w inputs. If out_h and out_w are > 0, every
 * view whose natural output size differs is followed by resize(out_h, out_w) (bilinear,
 * antialiased), so that all views can share a batch; with 0, 0 each view keeps its natural
 * size. The plan copies what it needs from `pol`. A plan holds scratch memory: use one plan
 * from one thread at a time. Errors: INVALID_ARG, SHAPE (e.g. a crop larger than the image,
 * naming the view), NOMEM. */
TTA_API tta_status tta_aug_plan_new(tta_aug_plan **plan, const tta_policy *pol, int in_h, int in_w, int out_h,
                            int out_w);
TTA_API void tta_aug_plan_free(tta_aug_plan *plan);

TTA_API int tta_aug_plan_n_views(const tta_aug_plan *plan);
/* The output size of view v. */
TTA_API void tta_aug_plan_view_size(const tta_aug_plan *plan, int v, int *height, int *width);
/* The view as the policy gave it (without the implicit final resize). */
TTA_API const tta_view *tta_aug_plan_view(const tta_aug_plan *plan, int v);
/* 1 if view v mirrors the image (an odd number of flips/transposes): keypoints then swap
 * left and right (see tta_invert_keypoints). */
TTA_API int tta_aug_plan_view_mirrored(const tta_aug_plan *plan, int v);

/* Applies view v to `src` (in_h x in_w, any channel count, uint8 or float32) into `dst`, an
 * owned image of dtype `dtype` (resized here). Values follow the range convention of image.h;
 * uint8 results are rounded and clamped. Errors: SHAPE (wrong input size, saturation on fewer
 * than 3 channels), INVALID_ARG, NOMEM. */
TTA_API tta_status tta_augment_view(tta_aug_plan *plan, int v, const tta_image *src, tta_dtype dtype, tta_image *dst);

typedef enum tta_layout { TTA_LAYOUT_NCHW = 0, TTA_LAYOUT_NHWC } tta_layout;

/* How tta_augment_batch writes model input. A value v of the view, on the [0, 1] scale of
 * image.h (uint8 pixels are divided by 255), is written for channel c as
 *     (v * scale - mean[c]) / std[c]
 * and rounded and clamped to 0..255 for a uint8 batch. A zeroed struct is valid: scale 0 means
 * 1 for float32 output and 255 for uint8 output, std[c] == 0 means 1, channels 0 means the
 * image's channel count (otherwise 1 -> 3 replicates gray, 4 -> 3 drops alpha, 3 -> 1 takes
 * the luma 0.299 R + 0.587 G + 0.114 B, 2 -> 1 drops alpha). */
typedef struct tta_batch_format {
    tta_layout layout;
    tta_dtype dtype; /* TTA_DTYPE_FLOAT32 (or UNDEFINED, i.e. 0) or TTA_DTYPE_UINT8 */
    int channels;
    float scale;
    float mean[4], std[4];
} tta_batch_format;

/* Bytes needed by tta_augment_batch for n_images x n_views items of `channels` input channels. */
TTA_API size_t tta_batch_bytes(const tta_aug_plan *plan, int n_images, int first_view, int n_views,
                       const tta_batch_format *fmt, int channels);

/* Writes views first_view .. first_view+n_views-1 of each image into `out`, item
 * (image i, view v) at batch index i * n_views + (v - first_view), each item C x H x W (NCHW)
 * or H x W x C (NHWC). All images must be in_h x in_w with the same channel count, and all the
 * views the same size (see out_h, out_w of tta_aug_plan_new). Large batches are split over the
 * OpenMP threads (the result is the same bytes on any number of threads). No allocation after
 * the first call. Errors: SHAPE (sizes differ, out_bytes too small), INVALID_ARG, NOMEM. */
TTA_API tta_status tta_augment_batch(tta_aug_plan *plan, const tta_image *images, int n_images, int first_view,
                             int n_views, const tta_batch_format *fmt, void *out, size_t out_bytes);

/* ---- inverses: from a view's output back to the original frame ------------------------ */

/* Class vectors are the same in every view: this copies n scores (in == out is fine). It
 * exists so that callers can treat every output kind alike. */
TTA_API tta_status tta_invert_classes(const tta_aug_plan *plan, int v, const float *in, float *out, int n);

/* A dense map (C x h x w floats, channels-first) that a model produced for view v at output
 * stride `stride` (map pixel (i, j) centred on view point (stride*(j+0.5), stride*(i+0.5))),
 * mapped back to the original frame: dst is C x dst_h x dst_w with the same stride. Each dst
 * pixel looks up where its centre went in the view and samples src there: nearest, or
 * bilinear (edge-clamped at the border). The result is exact (bit for bit) wherever the view
 * moves whole map pixels: flips, rot90 and transpose when the input size is a multiple of the
 * stride, shifts and crops by multiples of the stride; rotations and scales interpolate.
 * valid (dst_h x dst_w bytes, may be NULL) is 1 where the point stayed inside the image through
 * every step of the view (0 where it was shifted, rotated or cropped out; such dst pixels are
 * set to 0). Wrap shifts keep every point valid. */
TTA_API tta_status tta_invert_dense(const tta_aug_plan *plan, int v, int stride, tta_interp interp, const float *src,
                            int channels, int src_h, int src_w, float *dst, int dst_h, int dst_w,
                            uint8_t *valid);

/* Boxes (x1, y1, x2, y2 in view pixels, then stride - 4 other floats left alone) mapped back
 * to the original frame in place: corners are mapped through the inverse of each step, the box
 * becomes the axis-aligned box around them (exact for flips, rot90, transpose, shifts, crops,
 * scales and letterbox; rotations give the enclosing box), is re-ordered so x1 <= x2 and
 * y1 <= y2, and clipped to [0, W] x [0, H]. A box moved by a wrap shift is moved back whole
 * (by its centre), not split. */
TTA_API tta_status tta_invert_boxes(const tta_aug_plan *plan, int v, float *boxes, int n, int stride);

/* Keypoints in place: n_instances x n_points points of `stride` floats (x, y, then the rest,
 * e.g. a score). Positions are mapped back to the original frame; if the view is mirrored and
 * flip_perm is given, point k of the view becomes point flip_perm[k] (e.g. left eye <-> right
 * eye; flip_perm must be a permutation of 0..n_points-1). valid (n_instances * n_points bytes,
 * may be NULL) is 1 for points that land inside the original image. */
TTA_API tta_status tta_invert_keypoints(const tta_aug_plan *plan, int v, float *points, int n_instances, int n_points,
                                int stride, const int *flip_perm, uint8_t *valid);

#ifdef __cplusplus
}
#endif
#endif
