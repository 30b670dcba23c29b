/* detect.h - object detection TTA: decoding a detector's output into boxes, de-augmenting each
 * view's boxes, fusing the views' boxes (NMS, soft-NMS, NMW, WBF), COCO data and results files,
 * and COCO mAP exactly as pycocotools' COCOeval computes it.
 *
 * Data flows one way: image -> views (augment.h; letterboxed or rounded to the model's stride)
 * -> model -> decode (score threshold, top-k) -> tta_invert_boxes per view -> fuse -> metrics.
 *
 *     tta_model *m;                tta_model_load("models/detector.onnx", &m);
 *     tta_detector *d;             tta_detector_new(&d, m, NULL);     // layout from metadata_props
 *     tta_policy pol;              tta_policy_parse(&pol, "hflip", NULL);
 *     tta_fuse_options fo;         tta_fuse_options_default(&fo, TTA_FUSE_WBF);
 *     tta_boxes out = {0};
 *     tta_detect(d, &pol, &image, 1, &fo, &out);                     // out[0] for image 0
 *     for (int i = 0; i < out.n; i++) ... out.box[i].x1, .score, .label, .support ...
 *     tta_boxes_destroy(&out);     tta_detector_free(d);   tta_policy_destroy(&pol);   tta_model_free(m);
 *
 * Coordinates follow SPEC section 3: continuous pixel coordinates, origin at the top-left
 * corner of the top-left pixel, a box's x runs over [0, W]; boxes are corners x1 <= x2, y1 <= y2.
 * COCO files use [x, y, w, h] with the same origin (x = x1, w = x2 - x1).
 *
 * Errors: every call returns a tta_status and sets tta_last_error() to one line naming the file
 * (and line and column for JSON) or the argument that is wrong.
 */
#ifndef TTA_DETECT_H
#define TTA_DETECT_H

#include <stdint.h>

#include "tta/augment.h"
#include "tta/classify.h"
#include "tta/image.h"
#include "tta/runtime.h"
#include "tta/status.h"
#include "tta/tensor.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- boxes ------------------------------------------------------------------------------ */

typedef struct tta_box {
    float x1, y1, x2, y2; /* corners in pixels of the original image, x1 <= x2, y1 <= y2 */
    float score;          /* confidence in [0, 1] (may exceed 1 only with WBF allows_overflow) */
    int label;            /* class index, 0-based, in the model's class order */
    int view;             /* the view (or model, or input file) the box came from; after fusion
                             the view of the cluster's best box */
    int support;          /* views that found it: 1 for one view's box; after fusion the number of
                             distinct views among the boxes fused or suppressed into it */
} tta_box;

/* A growable list of boxes (owned: tta_boxes_destroy). A zeroed struct is an empty list. */
typedef struct tta_boxes {
    tta_box *box;
    int n, capacity;
} tta_boxes;

TTA_API tta_status tta_boxes_reserve(tta_boxes *b, int capacity);
TTA_API tta_status tta_boxes_push(tta_boxes *b, const tta_box *box);
TTA_API void tta_boxes_clear(tta_boxes *b); /* n = 0, memory kept */
TTA_API void tta_boxes_destroy(tta_boxes *b);
/* Frees `n` lists and the array itself (from tta_detect and friends). Safe on NULL. */
TTA_API void tta_boxes_free_array(tta_boxes *lists, int n);

/* Intersection over union of two boxes (0 when both are empty). */
TTA_API float tta_box_iou(const tta_box *a, const tta_box *b);

/* ---- fusing boxes from several views or models ----------------------------------------- */

typedef enum tta_fuse_method {
    TTA_FUSE_NMS = 0, /* greedy non-maximum suppression */
    TTA_FUSE_SOFT_NMS, /* soft-NMS: overlapping boxes' scores decay instead of being dropped */
    TTA_FUSE_NMW,      /* non-maximum weighted: the kept box's corners are the IoU*score-weighted
                          mean of the boxes it suppresses */
    TTA_FUSE_WBF       /* weighted box fusion (Solovyev et al.; ensemble-boxes' weighted_boxes_fusion) */
} tta_fuse_method;

typedef enum tta_soft_nms_kind { TTA_SOFT_NMS_GAUSSIAN = 0, TTA_SOFT_NMS_LINEAR } tta_soft_nms_kind;

/* WBF confidence of a fused cluster (ensemble-boxes' conf_type). */
typedef enum tta_wbf_conf {
    TTA_WBF_CONF_AVG = 0,               /* mean score, rescaled by min(weights, boxes) / weights */
    TTA_WBF_CONF_MAX,                   /* the best score, divided by the largest weight */
    TTA_WBF_CONF_BOX_AND_MODEL_AVG,     /* mean score times the share of the views' weights present */
    TTA_WBF_CONF_ABSENT_MODEL_AWARE_AVG /* score sum over the weights of the views present plus absent */
} tta_wbf_conf;

typedef struct tta_fuse_options {
    tta_fuse_method method;
    float iou_thr;              /* match/suppress above this IoU: NMS and soft-NMS 0.5, NMW and WBF 0.55 */
    float skip_thr;             /* boxes scoring below are ignored before fusing (0) */
    tta_soft_nms_kind soft_kind; /* soft-NMS decay (Gaussian) */
    float sigma;                /* Gaussian soft-NMS: score *= exp(-iou^2 / sigma) (0.5) */
    float score_thr;            /* soft-NMS: boxes whose decayed score falls below are dropped (0.001) */
    tta_wbf_conf conf_type;     /* WBF (avg) */
    int allows_overflow;        /* WBF avg: do not cap the rescaling at 1 (confidence may exceed 1) */
    int max_det;                /* at most this many boxes per image after fusing, best first (0: all) */
} tta_fuse_options;

/* Defaults that follow ensemble-boxes for `method` (see the fields above). */
TTA_API void tta_fuse_options_default(tta_fuse_options *o, tta_fuse_method method);
/* "nms", "soft-nms" (Gaussian), "soft-nms-gaussian", "soft-nms-linear", "nmw", "wbf". Sets the
 * method and, for soft-NMS, the kind. Errors: INVALID_ARG listing the names. */
TTA_API tta_status tta_fuse_method_parse(const char *name, tta_fuse_method *method, tta_soft_nms_kind *kind);
/* "nms", "soft-nms", "nmw", "wbf" */
TTA_API const char *tta_fuse_method_name(tta_fuse_method method);
/* "avg", "max", "box_and_model_avg", "absent_model_aware_avg", "allows_overflow" (avg with
 * allows_overflow set). Errors: INVALID_ARG listing the names. */
TTA_API tta_status tta_wbf_conf_parse(const char *name, tta_wbf_conf *conf, int *allows_overflow);
TTA_API const char *tta_wbf_conf_name(tta_wbf_conf conf);

/* Fuses the boxes of n_views views (or models) of one image, per class. boxes[0..n) hold every
 * view's boxes, box.view in [0, n_views) saying whose it is (the order within a view is the
 * view's order, as ensemble-boxes' lists). weights: per view, > 0 (NULL: all 1). The result
 * (appended to `out` after clearing it) is sorted by score, best first, each box with its
 * support; at most opt->max_det boxes. The fused coordinates follow ensemble-boxes exactly
 * (scale-free: pixel coordinates give the same boxes as normalised ones, scaled). Boxes with
 * NaN scores or corners, or x2 < x1 / y2 < y1, are an error (INVALID_ARG naming the box);
 * boxes of zero area are skipped as ensemble-boxes does. Work is sorted per class: no
 * all-pairs over all boxes. */
TTA_API tta_status tta_fuse_boxes(const tta_box *boxes, int n, int n_views, const double *weights,
                          const tta_fuse_options *opt, tta_boxes *out);

/* ---- decoding a detector's output ------------------------------------------------------- */

typedef enum tta_det_layout {
    TTA_DET_LAYOUT_AUTO = 0,     /* metadata tta.output, else guessed from the output shapes */
    TTA_DET_LAYOUT_YOLOV8,       /* one output [N, 4 + C, A]: box rows, then C class scores */
    TTA_DET_LAYOUT_YOLOV5,       /* one output [N, A, 5 + C]: box, objectness, C class scores;
                                    score = objectness * class score */
    TTA_DET_LAYOUT_BOXES_SCORES  /* two outputs: boxes [N, A, 4] and scores [N, A, C] */
} tta_det_layout;

typedef enum tta_box_format {
    TTA_BOX_FORMAT_AUTO = 0, /* metadata tta.box_format, else cxcywh for YOLO layouts, xyxy for two outputs */
    TTA_BOX_FORMAT_CXCYWH,
    TTA_BOX_FORMAT_XYXY,
    TTA_BOX_FORMAT_XYWH
} tta_box_format;

/* "auto", "yolov8", "yolov5", "boxes-scores" */
TTA_API tta_status tta_det_layout_parse(const char *name, tta_det_layout *out);
TTA_API const char *tta_det_layout_name(tta_det_layout layout);
/* "auto", "cxcywh", "xyxy", "xywh" */
TTA_API tta_status tta_box_format_parse(const char *name, tta_box_format *out);
TTA_API const char *tta_box_format_name(tta_box_format f);

/* How to read a detector's outputs (all fields resolved: no AUTO). */
typedef struct tta_det_format {
    tta_det_layout layout;
    tta_box_format box_format;
    int normalized;      /* 1: coordinates in [0, 1] of the input size */
    int n_classes;
    int score_sigmoid;   /* 1: scores are logits (apply a sigmoid); 0: already probabilities */
    float score_thr;     /* keep boxes scoring above (0.001) */
    int top_k;           /* keep the best top_k boxes per image and view (0: all) */
} tta_det_format;

/* Boxes of batch item `item` from the model's outputs (one tensor, or two for BOXES_SCORES),
 * in the pixels of the model input (in_w x in_h), not yet de-augmented, appended to `out` with
 * view = `view` and support 1, in anchor order (when more than top_k are found, the best top_k,
 * still in anchor order; equal scores at the cut: the first found). Per anchor, every class above the threshold gives a box (multi-label, as
 * Ultralytics' evaluation and mmdet do). Errors: SHAPE when the outputs do
 * not fit the layout (naming the shapes and the layout), INVALID_ARG. */
TTA_API tta_status tta_det_decode(const tta_det_format *fmt, const tta_tensor *out0, const tta_tensor *out1, int item,
                          int in_w, int in_h, int view, tta_boxes *out);

/* ---- a detector: a model with its input format and output layout ------------------------- */

typedef struct tta_detector_options {
    int n_threads;                  /* 0: default */
    int max_batch;                  /* largest batch sent to the model (0: 64) */
    const tta_input_format *format; /* NULL: from metadata_props and the input shape */
    tta_det_layout layout;          /* AUTO: metadata tta.output, else guessed */
    tta_box_format box_format;      /* AUTO: metadata tta.box_format */
    int normalized;                 /* -1 auto (metadata tta.normalized, else 0), 0, 1 */
    int n_classes;                  /* 0: metadata tta.num_classes, else from the output shape */
    const char *class_names;        /* comma-separated, label order (NULL: metadata tta.class_names) */
    int stride;                     /* models with dynamic H, W: view sizes rounded to a multiple
                                       (0: metadata tta.stride, else 32) */
    int img_size;                   /* dynamic models: letterbox every image to this side (0: keep
                                       the image's own size, rounded to the stride) */
    float pad_value;                /* letterbox fill on 0..255 (< 0: the default 114) */
    float score_thr;                /* < 0: 0.001 */
    int top_k;                      /* best boxes per view kept from decoding, before its NMS (0: 1000) */
    float view_nms_iou;             /* each view's own post-processing before views are merged:
                                       per-class NMS at this IoU, as the model's own pipeline would
                                       do (0: 0.6; < 0: none, every decoded box goes to the merge) */
    int view_max_det;               /* boxes per view after its NMS, best first (0: 100) */
} tta_detector_options;

typedef struct tta_detector tta_detector;

/* From an ONNX model (borrowed: keep it alive while the detector lives). Errors: SHAPE when the
 * outputs fit no layout (naming the shapes), INVALID_ARG for bad options or metadata. */
TTA_API tta_status tta_detector_new(tta_detector **out, const tta_model *model, const tta_detector_options *opts);
TTA_API void tta_detector_free(tta_detector *d);
TTA_API const tta_det_format *tta_detector_format(const tta_detector *d);
TTA_API int tta_detector_n_classes(const tta_detector *d);
/* Class name of label k (from metadata tta.class_names), or NULL. */
TTA_API const char *tta_detector_class_name(const tta_detector *d, int k);

/* Runs every view of `pol` on n images: view_boxes[i] receives image i's boxes of all views,
 * each view's boxes decoded, reduced by its own NMS (view_nms_iou), de-augmented to the image's
 * frame (box.view = the view) and clipped to the image. view_boxes
 * must hold n lists (zeroed or reused: each is cleared first). Views of one size go through the
 * model together; views of another size (dynamic models) in their own batches. A fixed-size
 * model sees each view letterboxed to its input size. */
TTA_API tta_status tta_detect_views(tta_detector *d, const tta_policy *pol, const tta_image *images, int n,
                            tta_boxes *view_boxes);
/* Seconds this detector has spent since it was made: making the views' batches (augment_s),
 * running the model (model_s), and decoding, each view's NMS and de-augmenting (post_s). Any
 * pointer may be NULL. */
TTA_API void tta_detector_times(const tta_detector *d, double *augment_s, double *model_s, double *post_s);

/* Runs the views and fuses them per image with the policy's weights (pol->weights, else all 1):
 * out[i] (n lists, zeroed or reused). */
TTA_API tta_status tta_detect(tta_detector *d, const tta_policy *pol, const tta_image *images, int n,
                      const tta_fuse_options *fuse, tta_boxes *out);

/* ---- COCO data sets and results files ---------------------------------------------------- */

typedef struct tta_coco_image {
    int64_t id;
    char *file_name;
    int width, height;
} tta_coco_image;

typedef struct tta_coco_category {
    int64_t id;
    char *name;
} tta_coco_category;

typedef struct tta_coco_ann {
    int64_t id, image_id, category_id;
    double bbox[4]; /* x, y, w, h */
    double area;    /* the annotation's area field (COCOeval's area ranges use it) */
    int iscrowd;
} tta_coco_ann;

/* A COCO annotations file with its image folder. Images keep the file's order; annotations are
 * grouped by image in tta_coco_image order (ann_first[i] .. ann_first[i + 1] - 1 belong to image i). */
typedef struct tta_coco {
    char *name;      /* the spec or file it came from, for messages */
    char *image_dir; /* folder the file_names are relative to */
    int n_images, n_categories, n_anns;
    tta_coco_image *images;
    tta_coco_category *categories; /* in file order */
    tta_coco_ann *anns;
    int *ann_first; /* n_images + 1 */
    void *index;    /* private lookup table (ids -> indices), built by load, open and slice; NULL in a
                       hand-made struct (the lookups then search linearly) */
} tta_coco;

/* Reads an annotations file (images, categories, annotations with bbox and iscrowd; area
 * defaults to w * h when missing). image_dir may be NULL (the JSON file's folder). Errors:
 * IO, PARSE with "FILE:LINE:COLUMN: problem" for malformed JSON and naming the field for a
 * missing or mistyped one, INVALID_ARG for annotations naming unknown images or categories,
 * negative sizes, duplicate ids. `c` must be zeroed; destroy it even after an error. */
TTA_API tta_status tta_coco_load(tta_coco *c, const char *annotations_json, const char *image_dir);
/* A data spec: "coco:DIR" (DIR/images and DIR/annotations.json, as `tta data mosaic` writes)
 * or "coco:IMAGES_DIR,ANNOTATIONS.json", each with an optional range [a:b] over the images (as
 * dataset.h's specs). */
TTA_API tta_status tta_coco_open(tta_coco *c, const char *spec);
TTA_API void tta_coco_destroy(tta_coco *c);
/* Keeps images [begin, end) and their annotations. */
TTA_API tta_status tta_coco_slice(tta_coco *c, int begin, int end);
/* Decodes image i (PNG or JPEG) into `img` (owned; its buffer reused). Errors name the file. */
TTA_API tta_status tta_coco_read_image(const tta_coco *c, int i, tta_image *img);
/* Index of the image with this id, or -1. */
TTA_API int tta_coco_image_index(const tta_coco *c, int64_t image_id);
/* Index of the category with this id, or -1. */
TTA_API int tta_coco_category_index(const tta_coco *c, int64_t category_id);

/* One detection in the COCO results format. */
typedef struct tta_coco_det {
    int64_t image_id, category_id;
    double bbox[4]; /* x, y, w, h */
    double score;
    int support;    /* views (or files) that found it; 0 when unknown */
} tta_coco_det;

/* Writes a results file: a JSON array of {"image_id", "category_id", "bbox", "score",
 * "support"} (support left out when 0). Written to a temporary file and renamed, so no partial
 * file is left on error. Numbers get the fewest digits that read back as the same float (for
 * values that are floats, as boxes and scores usually are) or else the same double. */
TTA_API tta_status tta_coco_results_write(const char *path, const tta_coco_det *dets, int n);
/* Reads a results file (support optional, other keys such as "segmentation" ignored). *dets is
 * allocated with tta_malloc (tta_free it); an empty array gives *n = 0 and *dets = NULL.
 * Errors: IO, PARSE with FILE:LINE:COLUMN for malformed JSON and naming the index and field
 * ("[3].bbox: ...") for a missing or mistyped one, INVALID_ARG for NaN or infinite scores and
 * negative sizes. */
TTA_API tta_status tta_coco_results_read(const char *path, tta_coco_det **dets, int *n);

/* ---- COCO mAP (pycocotools' COCOeval, bbox) -------------------------------------------- */

/* COCOeval.stats in its order: AP@[.5:.95], AP50, AP75, AP small/medium/large (all at 100
 * detections), AR at 1, 10, 100 detections, AR small/medium/large. -1 where no ground truth
 * exists for the setting, as COCOeval. */
typedef struct tta_coco_stats {
    double ap, ap50, ap75, ap_small, ap_medium, ap_large;
    double ar1, ar10, ar100, ar_small, ar_medium, ar_large;
} tta_coco_stats;

typedef struct tta_coco_eval tta_coco_eval;

/* An evaluator for the ground truth `gt` (borrowed: keep it alive). */
TTA_API tta_status tta_coco_eval_new(tta_coco_eval **ev, const tta_coco *gt);
TTA_API void tta_coco_eval_free(tta_coco_eval *ev);
/* Matches detections to the ground truth per image, category, area range and IoU threshold, as
 * COCOeval.evaluate (greedy by score, crowd regions matched without being used up, detections
 * outside the area range or matched to ignored ground truth ignored, at most 100 per image and
 * category). Replaces the previous run's detections. Errors: INVALID_ARG for an image_id or
 * category_id not in the ground truth, a NaN score, a negative width or height. */
TTA_API tta_status tta_coco_eval_run(tta_coco_eval *ev, const tta_coco_det *dets, int n);
/* COCOeval.accumulate + summarize over the images of the last run. image_counts (NULL: each
 * image once) gives each image a multiplicity >= 0, as a bootstrap resample does; the order of
 * equal scores then follows the first run. */
TTA_API tta_status tta_coco_eval_stats(const tta_coco_eval *ev, const int *image_counts, tta_coco_stats *out);
/* AP@[.5:.95] of category index k (in gt->categories order) at area "all", 100 detections, or -1. */
TTA_API double tta_coco_eval_class_ap(const tta_coco_eval *ev, int k);

/* ---- per-view detection tables: scoring policies without running the model again ------ */

/* Per-view detections of n images: boxes[i] holds image i's boxes from every view, box.view
 * being the view's index in the table (0..n_views-1), as tta_detect_views writes them. */
typedef struct tta_det_table {
    int n_images, n_views;
    tta_boxes *boxes;
} tta_det_table;

/* Fuses views[0..m) of the table per image into out[0..n_images): the boxes of those views
 * (renumbered 0..m-1 in the order given) through tta_fuse_boxes with `weights` (aligned with
 * views; NULL: all 1). A view index twice or out of range is INVALID_ARG. */
TTA_API tta_status tta_det_table_fuse(const tta_det_table *t, const int *views, const double *weights, int m,
                              const tta_fuse_options *fuse, tta_boxes *out);

/* Which COCO category each of the model's n_classes labels is: by name when every class name
 * is a category name (class_names may be NULL), else the k-th category in id order when the
 * counts agree. cat_ids receives n_classes ids. Errors: SHAPE naming both counts when they
 * disagree and names do not settle it. */
TTA_API tta_status tta_coco_label_map(const tta_coco *gt, int n_classes, const char *const *class_names, int64_t *cat_ids);

/* Boxes of the data set's images (per_image[i] for gt->images[i]) as COCO detections
 * (x, y, w, h), labels mapped through cat_ids. *dets is tta_malloc'd (tta_free it). */
TTA_API tta_status tta_boxes_to_coco(const tta_coco *gt, const tta_boxes *per_image, const int64_t *cat_ids, int n_classes,
                             tta_coco_det **dets, int *n);

/* Paired bootstrap over images of the gain in AP@[.5:.95] of `pol` over `base` (two
 * evaluators of the same ground truth after tta_coco_eval_run): the percentile interval at
 * `level` over n_boot resamples, with a fixed seed. */
TTA_API tta_status tta_coco_eval_gain_ci(const tta_coco_eval *base, const tta_coco_eval *pol, int n_images, int n_boot,
                                 uint64_t seed, double level, double *lo, double *hi);

#ifdef __cplusplus
}
#endif
#endif
