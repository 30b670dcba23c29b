/* classify.h - classification TTA: running the views of a policy through a model, merging the
 * per-view class scores, and the metrics that show when TTA helps and when it hurts.
 *
 * Data flows one way: images -> augment (augment.h) -> batch of N views x B images -> model
 * (an ONNX model through runtime.h, or any callback) -> per-view probabilities -> merge.
 *
 *     tta_model *m;               tta_model_load("models/fashion_cnn.onnx", &m);
 *     tta_classifier *c;          tta_classifier_new(&c, m, NULL);        // preprocessing from metadata
 *     tta_policy pol;             tta_policy_parse(&pol, "seed", NULL);
 *     float probs[10];
 *     tta_classify(c, &pol, &image, 1, TTA_MERGE_MEAN, NULL, probs, NULL);
 *     tta_classifier_free(c);     tta_policy_destroy(&pol);   tta_model_free(m);
 */
#ifndef TTA_CLASSIFY_H
#define TTA_CLASSIFY_H

#include <stdint.h>

#include "tta/augment.h"
#include "tta/image.h"
#include "tta/runtime.h"
#include "tta/tensor.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- the model's output activation and merging ----------------------------------------- */

typedef enum tta_activation {
    TTA_ACT_AUTO = 0,   /* declared in metadata (tta.output), else a final Softmax node, else logits */
    TTA_ACT_LOGITS,     /* raw scores: softmax gives probabilities */
    TTA_ACT_SOFTMAX,    /* already probabilities */
    TTA_ACT_SIGMOID     /* independent per-class probabilities (multi-label) */
} tta_activation;

typedef enum tta_merge {
    TTA_MERGE_MEAN = 0,  /* mean of probabilities (the default) */
    TTA_MERGE_LOGITS,    /* mean of logits (log-probabilities for probability outputs), then softmax */
    TTA_MERGE_GEOMETRIC, /* geometric mean of probabilities: mean of log p in log space, renormalised */
    TTA_MERGE_MAX,       /* per-class maximum of probabilities, renormalised */
    TTA_MERGE_VOTE,      /* majority vote of the views' top classes: vote fractions, ties broken by mean p */
    TTA_MERGE_WEIGHTED   /* weighted mean of probabilities with per-view weights */
} tta_merge;

TTA_API const char *tta_merge_name(tta_merge m);
/* "mean", "logits", "geometric" (or "geomean"), "max", "vote", "weighted" -> enum. */
TTA_API tta_status tta_merge_parse(const char *name, tta_merge *out);
TTA_API const char *tta_activation_name(tta_activation a);

/* Converts one view's raw output (k scores) to probabilities in place. Finite for any finite
 * input (softmax is shifted by the maximum); NaN input gives an error. */
TTA_API tta_status tta_scores_to_probs(float *scores, int k, tta_activation act);

/* Streaming merger: add each view's probabilities as they come; memory does not grow with the
 * number of views. weights (NULL: all 1) are used by TTA_MERGE_WEIGHTED only. */
typedef struct tta_merger {
    tta_merge method;
    int k;
    int n_added;
    double weight_sum;
    double *acc;    /* k: sums, log sums, maxima */
    double *aux;    /* k: mean p for vote tie-breaks */
} tta_merger;

TTA_API tta_status tta_merger_init(tta_merger *m, tta_merge method, int k);
TTA_API void tta_merger_reset(tta_merger *m);
/* Adds one view's probabilities (k values summing to 1 for softmax outputs). */
TTA_API void tta_merger_add(tta_merger *m, const float *probs, double weight);
/* Writes the merged probabilities (k values summing to 1). Error if nothing was added. */
TTA_API tta_status tta_merger_result(const tta_merger *m, float *probs);
TTA_API void tta_merger_destroy(tta_merger *m);

/* ---- a classifier: a model (ONNX or callback) with its preprocessing -------------------- */

/* A model given as a callback: `input` is a batch in the classifier's input format, `output`
 * must be resized (tta_tensor_resize) to [n, k] float32 scores. Return TTA_OK, or an error
 * status with its message recorded by tta_set_error (the caller of the classifier then sees it
 * in tta_last_error()). */
typedef tta_status (*tta_run_fn)(void *user, const tta_tensor *input, tta_tensor *output);

typedef struct tta_input_format {
    tta_batch_format batch; /* layout, dtype, channels, scale, mean, std (see augment.h) */
    int height, width;      /* model input size; images of another size are resized */
} tta_input_format;

/* Overrides parts of a format from text, as written in metadata_props or on a command line
 * (NULL leaves a part alone): layout "NCHW" or "NHWC"; size "HxW"; scale a positive number or
 * fraction applied to 0..255 pixels ("1/255"); mean and std one number or one per channel
 * ("0.485,0.456,0.406"). Errors: INVALID_ARG naming the part. */
TTA_API tta_status tta_input_format_set(tta_input_format *f, const char *layout, const char *size, const char *scale,
                                const char *mean, const char *std);

/* The input format a model declares: layout, channel count and dtype from its one input's
 * shape (height and width 0 where they are symbolic), size, scale, mean and std from
 * metadata_props (tta.input_size, tta.scale, tta.mean, tta.std; left alone when tta.preprocess
 * is "inside-graph"). Errors: UNSUPPORTED for a model that is not an image model. */
TTA_API tta_status tta_input_format_from_model(const tta_model *model, tta_input_format *f);

typedef struct tta_classifier_options {
    int n_threads;              /* 0: default (TTA_THREADS, OMP_NUM_THREADS or all cores) */
    int max_batch;              /* largest batch sent to the model (0: 256) */
    tta_activation activation;  /* TTA_ACT_AUTO by default */
    const tta_input_format *format; /* NULL: from the model's metadata_props and input shape */
} tta_classifier_options;

/* A classifier holds plans and buffers: one thread at a time may use it (one per thread; several
 * may share one model, see runtime.h). */
typedef struct tta_classifier tta_classifier;

/* From an ONNX model (borrowed: keep it alive). The input format comes from metadata_props
 * (tta.input_layout, tta.input_dtype, tta.input_size, tta.channels, tta.preprocess, tta.scale,
 * tta.mean, tta.std) and the input's declared shape, unless opts->format is given. */
TTA_API tta_status tta_classifier_new(tta_classifier **out, const tta_model *model, const tta_classifier_options *opts);
/* From a callback; format is required, k is the number of classes. */
TTA_API tta_status tta_classifier_new_callback(tta_classifier **out, tta_run_fn fn, void *user, int k,
                                       const tta_input_format *format, const tta_classifier_options *opts);
TTA_API void tta_classifier_free(tta_classifier *c);

TTA_API int tta_classifier_n_classes(const tta_classifier *c); /* known after the first run for ONNX models */
TTA_API const tta_input_format *tta_classifier_format(const tta_classifier *c);
TTA_API tta_activation tta_classifier_activation(const tta_classifier *c);

/* Runs every view of `pol` on each of n images and writes the probabilities of each view:
 * view_probs[(i * n_views + v) * k + c]; k must equal tta_classifier_n_classes (call with
 * view_probs NULL first to learn k from one image: returns after setting *k). The views of
 * several images go through the model together, split to respect max_batch. */
TTA_API tta_status tta_classify_views(tta_classifier *c, const tta_policy *pol, const tta_image *images, int n,
                              float *view_probs, int *k);

/* The same for views first_view .. first_view + n_sel - 1 of `pol` only: view_probs[(i * n_sel +
 * j) * k + c] for view first_view + j (k learnt from one image first if still unknown). Adaptive
 * TTA runs the identity (0, 1) on every image, then (1, n_views - 1) on the unsure ones only.
 * Errors: INVALID_ARG for a range outside the policy, and those of tta_classify_views. */
TTA_API tta_status tta_classify_view_range(tta_classifier *c, const tta_policy *pol, const tta_image *images, int n,
                                   int first_view, int n_sel, float *view_probs);

/* Merged probabilities of n images: probs[i * k + c]. weights: per view (NULL: all 1). If
 * view_probs is not NULL it also receives every view's probabilities as tta_classify_views. */
TTA_API tta_status tta_classify(tta_classifier *c, const tta_policy *pol, const tta_image *images, int n,
                        tta_merge merge, const double *weights, float *probs, float *view_probs);

/* Merges a subset of the views of a table of per-view probabilities (n x n_views x k, as
 * tta_classify_views writes): views[0..n_sel) index the table's views; weights (NULL: all 1)
 * align with `views`. out: n x k. */
TTA_API tta_status tta_merge_table(const float *table, int n, int n_views, int k, const int *views, int n_sel,
                           tta_merge merge, const double *weights, float *out);

/* A random view drawn from the reference experiment's families, for the warnings against
 * random augmentation: hflip with probability 1/2, a wrap shift of dx, dy uniform in
 * [-max_shift, max_shift], and a rotation uniform in [-max_deg, max_deg] (bilinear, edge).
 * `state` is the seeded PRNG state (splitmix64): the same seed gives the same views. */
TTA_API void tta_random_view(uint64_t *state, int max_shift, double max_deg, tta_view *out);

/* ---- metrics ---------------------------------------------------------------------------- */

typedef struct tta_metrics {
    int n;
    double top1, top5;  /* accuracies in [0, 1] */
    double nll;         /* mean negative log-likelihood of the true class (p floored at 1e-7) */
    double brier;       /* mean sum over classes of (p - onehot)^2 */
    double ece;         /* expected calibration error, 15 equal-width confidence bins */
} tta_metrics;

/* probs: n x k; labels: n. */
TTA_API void tta_metrics_compute(const float *probs, const int *labels, int n, int k, tta_metrics *out);

/* Against a baseline (usually the identity view alone): images the policy corrected (baseline
 * wrong, policy right) and broke (baseline right, policy wrong). */
TTA_API void tta_compare_predictions(const float *base_probs, const float *probs, const int *labels, int n, int k,
                             int *corrected, int *broken);

/* Temperature scaling: the T in [1/20, 20] minimising the NLL of softmax(log p / T) on (probs,
 * labels); *nll (may be NULL) receives that NLL. The library's one fitter (the search's
 * calibrated objective uses it too). */
TTA_API double tta_fit_temperature(const float *probs, const int *labels, int n, int k, double *nll);
/* probs <- softmax(log probs / T), in place, n x k. */
TTA_API void tta_apply_temperature(float *probs, int n, int k, double t);

/* Argmax of k scores (the lowest index on ties). */
TTA_API int tta_argmax(const float *p, int k);

#ifdef __cplusplus
}
#endif
#endif
