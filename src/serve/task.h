/* task.h - what the batching worker runs: one of classification, detection or segmentation,
 * each a model engine (borrowed: tta_classifier, tta_detector, tta_segmenter) with its policy,
 * turning a batch of jobs into one JSON body per job. The images of every job in the batch go
 * through the model together: tta_classify_view_range / tta_detect / tta_segment_each_view
 * batch the views of all of them, split only at the engine's max_batch. A task is used by one
 * thread at a time (the worker), like the engines it holds. */
#ifndef TTA_SERVE_TASK_H
#define TTA_SERVE_TASK_H

#include "serve/job.h"
#include "serve/metrics.h"
#include "tta/classify.h"
#include "tta/detect.h"
#include "tta/segment.h"

typedef struct serve_task serve_task;
struct serve_task {
    const char *name; /* "classify", "detect", "segment" */
    int n_views;      /* of the policy */
    /* Runs the images of jobs[0..n) as one batch and fills each job's status (200), body and
     * passes. On an error of the batch as a whole it fills nothing and returns the status (the
     * worker then runs each job alone, so that only a job whose image fails gets the error). */
    tta_status (*run)(serve_task *t, serve_job **jobs, int n);
    void (*free)(serve_task *t);
};

/* What every task needs. Everything is borrowed and must outlive the task. */
typedef struct serve_task_config {
    const char *model_name; /* in every response ("model") */
    const tta_policy *policy;
    serve_metrics *metrics; /* may be NULL */
    int max_batch;          /* images per batch at most (the worker's); padded batches stay within */
} serve_task_config;

/* Classification: merged probabilities (merge rule; a policy with view weights merges by their
 * weighted mean under TTA_MERGE_MEAN, as `tta predict` does), entropy and agreement. names: k
 * class names (entries may be NULL) or NULL; k known (the classifier has run once).
 * Adaptive TTA when adaptive_cost > 1 or threshold >= 0: the identity runs on every image, the
 * other views only on images whose identity confidence is below a threshold: `threshold` when
 * >= 0, else chosen
 * after every batch (tta_adaptive_threshold) on the identity confidences of the last 1,024
 * images so that the mean passes per image stay near adaptive_cost. NULL on NOMEM. */
serve_task *serve_task_classify_new(const serve_task_config *cfg, tta_classifier *c, tta_merge merge,
                                    const char *const *names, double adaptive_cost, double threshold);

/* Detection: boxes fused with `fuse` (copied), those above the request's min_score. */
serve_task *serve_task_detect_new(const serve_task_config *cfg, tta_detector *d,
                                  const tta_fuse_options *fuse);

/* Segmentation: the label mask as a PNG, mean entropy and disagreement, class pixel counts. */
serve_task *serve_task_segment_new(const serve_task_config *cfg, tta_segmenter *s, tta_merge merge);

/* Orders n images by size (height, width, channels), stably: the engines batch runs of equal
 * sizes. order[i] receives the index of the i-th image in that order. */
void serve_order_by_size(const tta_image *const *images, int n, int *order);

/* Pads a batch of n images (room for 2n) to the next power of two, at most max_batch (0: no
 * cap), by repeating the last image, when all n have one size; returns the padded count (n when
 * not padded). The runtime makes a plan per batch shape: padding keeps the shapes to a few
 * (1, 2, 4, ... and max_batch images' views), so their plans stay cached instead of being made
 * and dropped batch after batch; the padded items' outputs are ignored. */
int serve_pad_batch(tta_image *images, int n, int max_batch);

/* Fills a job with a body built from the results written into b (status 200). Returns 0, or
 * -1 when b ran out of memory (the job then gets a 500 error body). */
int serve_job_finish(serve_job *job, serve_buf *b);

#endif
