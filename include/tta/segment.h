/* segment.h - semantic segmentation TTA: decoding per-pixel class scores, de-augmenting each
 * view's map with the exact dense inverses of augment.h, merging the views per pixel in
 * probability space as a stream, uncertainty maps from the views' disagreement, image/mask data
 * sets, and the metrics (confusion-matrix mIoU, Dice, pixel accuracy, boundary IoU) with the
 * quality of each uncertainty map as an error detector (AUROC, AUPR, risk-coverage).
 *
 * Data flows one way: image -> views -> model -> per-view probabilities [C, H', W'] ->
 * tta_invert_dense (validity mask) -> tta_seg_merger (memory independent of the number of
 * views) -> merged probabilities, class map and uncertainty maps -> metrics.
 *
 *     tta_model *m;              tta_model_load("models/segmenter.onnx", &m);
 *     tta_segmenter *s;          tta_segmenter_new(&s, m, NULL);       // layout from metadata
 *     tta_policy pol;            tta_policy_parse(&pol, "hflip", NULL);
 *     tta_seg_result r = {0};
 *     tta_segment(s, &pol, &image, TTA_MERGE_MEAN, &r);    // r.labels: H x W class ids
 *     ... r.probs (C x H x W), r.maps[TTA_UNC_ENTROPY] (H x W) ...
 *     tta_seg_result_destroy(&r); tta_segmenter_free(s); tta_policy_destroy(&pol); tta_model_free(m);
 *
 * Conventions: maps are channels-first (C x H x W floats), row-major, at the input image's size;
 * class c of the model is channel c (for the shipped segmenter channel 0 is the background and
 * mask value c means channel c). Errors: a tta_status and tta_last_error() naming the file or
 * argument.
 */
#ifndef TTA_SEGMENT_H
#define TTA_SEGMENT_H

#include <stdint.h>

#include "tta/augment.h"
#include "tta/classify.h"
#include "tta/image.h"
#include "tta/runtime.h"
#include "tta/status.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- streaming per-pixel merge and uncertainty maps (merge.c) ---------------------------- */

/* The uncertainty maps, each H x W, computed from the views at every pixel (over the views that
 * saw the pixel: its valid views):
 *   ENTROPY       predictive entropy of the merged distribution, -sum_c p_c log p_c (nats);
 *   MUTUAL_INFO   entropy of the mean minus the mean of the views' entropies (BALD), >= 0;
 *   VARIANCE      variance over the views of the probability of the merged winning class;
 *   DISAGREEMENT  share of the views whose argmax differs from the merged argmax.
 * With one view the last three are 0. */
typedef enum tta_unc_map {
    TTA_UNC_ENTROPY = 0,
    TTA_UNC_MUTUAL_INFO,
    TTA_UNC_VARIANCE,
    TTA_UNC_DISAGREEMENT,
    TTA_UNC_COUNT
} tta_unc_map;

TTA_API const char *tta_unc_map_name(tta_unc_map m); /* "entropy", "mutual_info", "variance", "disagreement" */

/* A per-pixel merger for one image of C classes and H x W pixels. Each view adds its
 * probabilities (C x H x W, summing to 1 over C at each pixel) with its validity mask (H x W,
 * 1 where the view saw the pixel; NULL: everywhere) and weight. Memory: a few C x H x W arrays,
 * whatever the number of views. Merge rules (tta_merge of classify.h): MEAN and WEIGHTED (the
 * weighted mean; MEAN ignores weights), GEOMETRIC (mean of log p in log space, renormalised),
 * MAX (per-class maximum, renormalised), VOTE (share of valid views voting for each class, ties
 * broken by the mean probability); LOGITS is treated as GEOMETRIC (the mean of log-probabilities
 * is the mean of logits up to a per-pixel constant). A pixel no view saw gets the uniform
 * distribution and its uncertainty maps the maximum entropy, 0, 0, 0. */
typedef struct tta_seg_merger tta_seg_merger;

TTA_API tta_status tta_seg_merger_new(tta_seg_merger **out, tta_merge method, int classes, int height, int width);
TTA_API void tta_seg_merger_free(tta_seg_merger *m);
/* Forgets the views added so far (for the next image of the same size). */
TTA_API void tta_seg_merger_reset(tta_seg_merger *m);
TTA_API tta_status tta_seg_merger_add(tta_seg_merger *m, const float *probs, const uint8_t *valid, double weight);
/* Writes the merged probabilities (C x H x W; may be NULL), the argmax class per pixel (H x W;
 * may be NULL; the lowest class on ties) and the uncertainty maps (maps[k] H x W each, any may
 * be NULL, or maps itself NULL). Error if nothing was added. */
TTA_API tta_status tta_seg_merger_result(const tta_seg_merger *m, float *probs, uint8_t *labels, float *const *maps);
/* Number of views that saw pixel i so far. */
TTA_API int tta_seg_merger_valid_views(const tta_seg_merger *m, int i);

/* ---- a segmenter: a model with its input format and output layout (segmenter.c) -------- */

typedef enum tta_seg_output {
    TTA_SEG_OUTPUT_AUTO = 0, /* metadata tta.output, else a final Softmax/Sigmoid node, else logits */
    TTA_SEG_OUTPUT_LOGITS,   /* [N, C, H', W'] raw scores: softmax over C */
    TTA_SEG_OUTPUT_SOFTMAX,  /* [N, C, H', W'] probabilities */
    TTA_SEG_OUTPUT_SIGMOID   /* [N, 1, H', W'] foreground logit of a binary mask: channel 0 = 1 - p,
                                channel 1 = p (2 classes) */
} tta_seg_output;

/* "auto", "logits", "softmax", "sigmoid" */
TTA_API tta_status tta_seg_output_parse(const char *name, tta_seg_output *out);
TTA_API const char *tta_seg_output_name(tta_seg_output o);

typedef struct tta_segmenter_options {
    int n_threads;                  /* 0: default */
    int max_batch;                  /* 0: 32 */
    const tta_input_format *format; /* NULL: from metadata_props and the input shape */
    tta_seg_output output;          /* AUTO by default */
    int stride;                     /* dynamic models: view sizes rounded up to a multiple (0:
                                       metadata tta.stride, else 32); the output stride H / H' is
                                       read from the output's shape */
    int tile;                       /* sliding window: tiles of tile x tile for images larger than
                                       it (0: the model's fixed size, or no tiling for dynamic models) */
    double overlap;                 /* tile overlap as a share of the tile (0: 0.25) */
    double sigma;                   /* Gaussian blending weight, sigma as a share of the tile (0: 1/8,
                                       nnU-Net's); < 0 for flat weights */
} tta_segmenter_options;

typedef struct tta_segmenter tta_segmenter;

/* From an ONNX model (borrowed: keep it alive). Errors: SHAPE when the output fits no layout. */
TTA_API tta_status tta_segmenter_new(tta_segmenter **out, const tta_model *model, const tta_segmenter_options *opts);
TTA_API void tta_segmenter_free(tta_segmenter *s);
/* Classes of the output (2 for a sigmoid output); known after the first run if not declared. */
TTA_API int tta_segmenter_n_classes(const tta_segmenter *s);
TTA_API tta_seg_output tta_segmenter_output(const tta_segmenter *s);
/* Class name (metadata tta.class_names, one per channel, or with the background left out:
 * then channel 0 is "background"), or NULL. */
TTA_API const char *tta_segmenter_class_name(const tta_segmenter *s, int c);
/* Seconds spent so far by this segmenter, summed over its runs: making the views' batches
 * (augment_s), the model (model_s) and the post-processing (post_s: probabilities and
 * de-augmenting each view's map; not the callback, e.g. the merge). Any pointer may be NULL;
 * `tta segment bench` reads them. */
TTA_API void tta_segmenter_times(const tta_segmenter *s, double *augment_s, double *model_s, double *post_s);

/* The result for one image (owned arrays; tta_seg_result_destroy). */
typedef struct tta_seg_result {
    int classes, height, width, n_views;
    float *probs;                 /* classes x height x width, merged */
    uint8_t *labels;              /* height x width argmax */
    float *maps[TTA_UNC_COUNT];   /* height x width each */
    float *identity_entropy;      /* height x width: the identity view's own softmax entropy (the
                                     single-pass baseline), or NULL when view 0 was not run */
} tta_seg_result;
TTA_API void tta_seg_result_destroy(tta_seg_result *r);

/* Runs every view of `pol` on one image (sliding window when it is larger than the tile), maps
 * each view's output back with tta_invert_dense (bilinear; pixels a view did not see do not
 * count) and merges them with `merge` and the policy's weights into `r` (zeroed or reused). An
 * output at a stride is merged at its resolution, then probabilities and maps are upsampled
 * (bilinear) to the image and the labels taken from the upsampled probabilities.
 * Views all run at one size: the model's (fixed models) or the image's rounded up to the
 * stride (dynamic models); a view of another natural size (resize, crop) is resized to it. */
TTA_API tta_status tta_segment(tta_segmenter *s, const tta_policy *pol, const tta_image *image, tta_merge merge,
                       tta_seg_result *r);
/* The streaming core of the two calls below: runs every view of `pol` on n images of one size
 * (views of several images share batches) and hands each view's probabilities, mapped back to
 * the image's frame at the output's resolution (C x h x w with h = ceil(H / stride) for an
 * output at a stride, else H x W), with its validity mask, to fn. fn is called from one thread,
 * image by image in order of completion, views in policy order for each image; its status
 * stops the run. Memory does not grow with the number of views. */
typedef tta_status (*tta_seg_view_fn)(void *user, int image, int view, const float *probs, const uint8_t *valid,
                                      int classes, int height, int width);
TTA_API tta_status tta_segment_each_view(tta_segmenter *s, const tta_policy *pol, const tta_image *images, int n,
                                 tta_seg_view_fn fn, void *user);


/* ---- image/mask data sets (masks_data.c) ------------------------------------------------ */

/* Pairs of an image and its label mask: mask pixel = class id (0 = background in the mosaics),
 * `ignore` (default 255) = not scored. */
typedef struct tta_mask_set tta_mask_set;

/* "masks:DIR" (DIR/images and DIR/masks with the same file names, as `tta data mosaic` writes)
 * or "masks:IMAGES_DIR,MASKS_DIR", with an optional range [a:b] over the sorted file names (as
 * dataset.h's specs). Every image must have its mask (a missing pair is an IO error naming the
 * file). */
TTA_API tta_status tta_mask_set_open(tta_mask_set **out, const char *spec);
TTA_API void tta_mask_set_free(tta_mask_set *ms);
TTA_API int tta_mask_set_count(const tta_mask_set *ms);
TTA_API const char *tta_mask_set_name(const tta_mask_set *ms, int i); /* the file name, e.g. "000007.png" */
/* Reads pair i: the image (PNG/JPEG) and its mask (an 8-bit one-channel PNG, the size of the
 * image). Errors name the file: IO, PARSE, SHAPE (sizes differ, a mask with several channels). */
TTA_API tta_status tta_mask_set_read(const tta_mask_set *ms, int i, tta_image *image, tta_image *mask);

/* ---- metrics (seg_metrics.c) ------------------------------------------------------------- */

/* A confusion matrix over classes 0..C-1: counts[truth * C + predicted]; pixels whose truth is
 * the ignore label are left out. Mask values >= C other than ignore are an error (INVALID_ARG
 * naming the value and pixel). Optionally boundary pixels apart: those whose truth class differs
 * within `boundary` pixels (Chebyshev distance) are also counted in boundary_counts. */
typedef struct tta_confusion {
    int classes;
    int ignore;     /* the ignore label (255) */
    int boundary;   /* boundary width in pixels (3); 0: no boundary matrix */
    int64_t *counts;
    int64_t *boundary_counts;
} tta_confusion;

TTA_API tta_status tta_confusion_init(tta_confusion *cm, int classes, int ignore, int boundary);
TTA_API void tta_confusion_destroy(tta_confusion *cm);
TTA_API void tta_confusion_clear(tta_confusion *cm);
/* Adds one image: truth and predicted labels, height x width each. */
TTA_API tta_status tta_confusion_add(tta_confusion *cm, const uint8_t *truth, const uint8_t *pred, int height, int width);
/* Adds another matrix's counts times `times` (bootstraps resample per-image matrices). */
TTA_API void tta_confusion_add_matrix(tta_confusion *cm, const tta_confusion *other, int64_t times);

typedef struct tta_seg_scores {
    double miou;           /* mean IoU over the classes present in truth or prediction */
    double miou_fg;        /* the same without class 0 (the background) */
    double dice;           /* mean Dice over the same classes */
    double pixel_accuracy;
    double boundary_miou;  /* mIoU of the boundary pixels (-1 without a boundary matrix) */
    int n_present;         /* classes counted */
} tta_seg_scores;

/* Scores from a matrix; per_class_iou (C values, may be NULL) gets each class's IoU, -1 for a
 * class absent from both truth and prediction. */
TTA_API void tta_confusion_scores(const tta_confusion *cm, tta_seg_scores *out, double *per_class_iou);

/* How well an uncertainty map finds the pixels the prediction gets wrong: a histogram of the
 * map's values (bins over [0, max_value]) for correct and wrong pixels, from which AUROC, AUPR
 * (average precision, wrong = positive, higher uncertainty = more suspect) and the risk-coverage
 * curve (error rate of the most confident share of pixels) follow. Ties inside a bin count half. */
typedef struct tta_unc_quality {
    int bins;
    double max_value;
    int64_t *correct, *wrong; /* bins each */
} tta_unc_quality;

TTA_API tta_status tta_unc_quality_init(tta_unc_quality *q, int bins, double max_value);
TTA_API void tta_unc_quality_destroy(tta_unc_quality *q);
/* Adds n pixels: their uncertainty and whether the prediction is wrong (1) or right (0); pixels
 * with wrong[i] == 2 (ignored truth) are skipped. */
TTA_API void tta_unc_quality_add(tta_unc_quality *q, const float *uncertainty, const uint8_t *wrong, int64_t n);
TTA_API double tta_unc_quality_auroc(const tta_unc_quality *q);
TTA_API double tta_unc_quality_aupr(const tta_unc_quality *q);
/* Error rate among the `coverage` (0..1] share of pixels with the lowest uncertainty. */
TTA_API double tta_unc_quality_risk(const tta_unc_quality *q, double coverage);

/* Paired bootstrap over images of the mIoU gain of `pol` over `base`: per-image confusion
 * matrices (n_images each, same order), resampled n_boot times with a fixed seed; the percentile
 * interval at `level`. */
TTA_API tta_status tta_miou_gain_ci(const tta_confusion *base, const tta_confusion *pol, int n_images, int n_boot, uint64_t seed,
                            double level, double *lo, double *hi);

#ifdef __cplusplus
}
#endif
#endif
