/* report.h - the HTML reports of `tta eval`, `search`, `frontier`, `detect eval|search` and
 * `segment eval|search`. Each command fills one of these plain structs with the figures it has
 * already printed (the same numbers, not recomputed here) and the pictures it made; the
 * writers lay them out as one self-contained page: tables, inline SVG plots (svg_plot.h) and
 * PNG pictures as data URIs (html.h). Nothing points outside the file. Every plot is an
 * <svg class="plot"> with a stable id (listed with each writer) that tests look for.
 *
 * The writers write to an open FILE (the command opens PATH.part and renames it into place);
 * they return TTA_OK or the error of a picture that could not be encoded. Internal to tta. */
#ifndef TTA_REPORT_REPORT_H
#define TTA_REPORT_REPORT_H

#include <stdio.h>

#include "report/reliability.h"
#include "tta/detect.h"
#include "tta/image.h"
#include "tta/status.h"

/* ---- classification: images TTA corrected or broke ---- */

typedef struct tta_report_example {
    int index;                           /* in the data set */
    int n_views;                         /* view 0 is the identity: the image as it is */
    const tta_image *views;              /* each view as the model saw it (before resizing to the model) */
    const char *const *view_names;       /* "hflip", ... */
    const char *const *view_preds;       /* each view's own prediction, "Shirt 0.61" */
    const char *truth, *single, *merged; /* class names; single and merged with their probability */
} tta_report_example;

/* ---- tta eval ---- */

typedef struct tta_report_eval_row {
    const char *name;
    int views, is_model; /* is_model: a model alone (ensembles) */
    double accuracy, nll, ece, seconds;
    int corrected, broken;
    const double *cumulative; /* accuracy after the first 1..n_cumulative views (NULL: none) */
    int n_cumulative;
} tta_report_eval_row;

typedef struct tta_report_eval {
    const char *data, *merge;
    int n_images, n_models;
    const char *const *models;
    const tta_report_eval_row *rows;
    int n_rows;
    const char *const *view_names; /* every distinct view, identity first */
    const double *view_accuracy;
    int n_views;
    const double *random_accuracy; /* after 1..random_k random views; NULL: none */
    int random_k;
    const char *focus; /* the policy of the reliability diagram and the examples */
    tta_reliability rel_single, rel_tta;
    const tta_report_example *corrected, *broken;
    int n_corrected, n_broken, total_corrected, total_broken;
} tta_report_eval;

/* Plots: plot-cumulative, plot-views, plot-reliability. */
tta_status tta_report_eval_write(FILE *f, const tta_report_eval *r);

/* ---- tta search ---- */

typedef struct tta_report_budget_row {
    int budget, views;
    const char *method, *policy;
    double val_accuracy, val_nll, test_accuracy, test_nll;
    double gain, gain_lo, gain_hi, mcnemar_p; /* test, against the identity */
    int corrected, broken;
    int has_honest, supported;
    double val_gain, held_gain, held_lo, held_hi; /* the honest estimate (validation only) */
} tta_report_budget_row;

typedef struct tta_report_adaptive_point {
    double target, threshold, val_cost, val_accuracy, test_cost, test_accuracy;
} tta_report_adaptive_point;

typedef struct tta_report_search {
    const char *model, *val, *test, *objective;
    int n_val, n_test, pool_views, candidates;
    const tta_report_budget_row *rows;
    int n_rows, chosen_budget;
    const char *chosen_policy, *policy_file;
    const tta_report_adaptive_point *adaptive; /* NULL: no adaptive TTA (the identity was chosen) */
    int n_adaptive;
    tta_report_adaptive_point adaptive_at; /* at the --adaptive-cost target */
    tta_reliability rel_single, rel_tta;   /* test: the identity and the chosen policy */
} tta_report_search;

/* Plots: plot-budget-gain, plot-budget-accuracy, plot-adaptive (with adaptive TTA),
 * plot-reliability. */
tta_status tta_report_search_write(FILE *f, const tta_report_search *r);

/* ---- tta frontier ---- */

typedef enum {
    TTA_REPORT_POINT_MODEL,
    TTA_REPORT_POINT_TTA,
    TTA_REPORT_POINT_ENSEMBLE
} tta_report_point_kind;

typedef struct tta_report_point {
    tta_report_point_kind kind;
    const char *label;
    int model; /* the model (MODEL, TTA); -1 for an ensemble */
    int passes, pareto;
    double ms, macs, val_accuracy, test_accuracy, test_nll;
} tta_report_point;

typedef struct tta_report_frontier {
    const char *val, *test, *objective;
    int n_val, n_test;
    const char *const *model_names;
    const double *model_ms, *model_macs;
    int n_models;
    const tta_report_point *points;
    int n_points;
    const char *verdicts; /* the verdicts as printed (lines), or NULL */
} tta_report_frontier;

/* The frontier plot alone (plot-frontier): test accuracy against milliseconds per image on a
 * log axis, each model's budgets joined, ensembles as squares, the Pareto front as a grey
 * staircase; one <g><title> tooltip group per point. Also `tta frontier --plot`. */
void tta_report_frontier_plot(FILE *f, const tta_report_frontier *r);
/* The page: the plot and the table of points, the verdicts. */
tta_status tta_report_frontier_write(FILE *f, const tta_report_frontier *r);

/* ---- detection and segmentation (`tta detect eval|search`, `tta segment eval|search`) ---- */

/* One image with the boxes of one pass and of TTA (boxes in the image's pixels). */
typedef struct tta_report_det_image {
    const char *name;
    const tta_image *image;
    const tta_box *single, *tta;
    int n_single, n_tta, n_views; /* n_views: the policy's, for "support k/n" */
} tta_report_det_image;

/* One image with its true mask, the labels of one pass and of TTA, and TTA's entropy map. */
typedef struct tta_report_seg_image {
    const char *name;
    const tta_image *image;
    int height, width;                   /* of the masks and map */
    const uint8_t *truth, *single, *tta; /* class per pixel (truth: the ignore value shown grey) */
    const float *entropy;                /* nats per pixel, 0 .. log(classes) */
} tta_report_seg_image;

typedef struct tta_report_task_row {
    const char *name, *merge;
    int views, has_gain;
    double metric[8];             /* in the order of metric_names */
    double gain, lo, hi, seconds; /* seconds < 0: not measured */
} tta_report_task_row;

typedef struct tta_report_task {
    const char *kind; /* "detect" or "segment": plot ids are plot-KIND-... */
    const char *title, *subtitle;
    const char *metric; /* the main metric ("AP", "mIoU"): metric[0], and the unit of the gains */
    const char *const *metric_names;
    int n_metrics;
    const tta_report_task_row *rows; /* rows[0]: one pass, without a gain */
    int n_rows;
    /* search only (n_steps > 0): each view with the identity on validation, the best policy of
     * each size (its merge rule), and the chosen one on test */
    const char *const *step_views;
    const double *step_values;
    int n_steps;
    double base_val;
    const double *size_values;
    const char *const *size_merges;
    int n_sizes, chosen_size;
    double test_base, test_value, test_lo, test_hi;
    /* segmentation: each uncertainty map's AUROC at finding the wrong pixels (the focus policy) */
    const char *const *unc_names;
    const double *unc_auroc;
    int n_unc;
    /* pictures of the focus policy */
    const char *focus;
    const tta_report_det_image *det;
    int n_det;
    const tta_report_seg_image *seg;
    int n_seg;
    const char *const *class_names; /* may hold NULLs: "class N" */
    int n_classes;
} tta_report_task;

/* Plots: plot-KIND-metric (each row's main metric), plot-KIND-gain (gains with intervals;
 * eval), plot-KIND-step1 and plot-KIND-budget (search), plot-segment-uncertainty (AUROC of
 * each map); pictures: <svg class="detections"> panels or <div class="strip segmentation">. */
tta_status tta_report_task_write(FILE *f, const tta_report_task *r);

#endif
