/* detect_cli.h - what the `tta detect` subcommands share: the detector and merge flags, loading
 * a detector with them, a policy with the merge rule a searched policy file records, and running
 * every view of a policy over a COCO data set into a per-view detection table. */
#ifndef TTA_CLI_DETECT_CLI_H
#define TTA_CLI_DETECT_CLI_H

#include <stdio.h>

#include "cli/cli_util.h"
#include "tta/detect.h"

typedef struct det_cli {
    const char *model;
    tta_detector_options o;
    cli_format fmt;
    /* merging; *_set say which the command line gave (a policy file may give the others) */
    tta_fuse_options fuse;
    int merge_set, iou_set, skip_set, conf_set, sigma_set, max_det_set;
    const char *weights; /* --weights W,W,... (detect fuse) */
} det_cli;

void det_cli_init(det_cli *d);
/* If argv[*i] is a detector or merge flag (with its value), consumes it and returns 1; returns
 * -1 (after printing why) for a bad value. */
int det_cli_flag(int argc, char **argv, int *i, det_cli *d);
extern const char *det_cli_help;

/* Loads the model and makes the detector; prints the error and returns 1 on failure. */
int det_cli_open(const det_cli *d, tta_model **model, tta_detector **det);

/* A policy (preset, text or file). A policy file or text may carry its merge rule in a comment
 * "# merge: wbf iou=0.55" (as `tta detect search` writes it; e.g. --policy "hflip # merge: nms");
 * it fills the fuse options the command line did not set. Returns 1 after printing an error. */
int det_cli_load_policy(const char *arg, tta_policy *pol, det_cli *d, tta_fuse_options *fuse);

/* "wbf iou=0.55" style text of fuse options (for tables and policy files). */
void det_cli_fuse_text(const tta_fuse_options *f, char *buf, size_t size);

/* Runs every view of `pol` over the data set's images into t (t->boxes allocated here, one list
 * per image), with a progress line on stderr. *seconds receives the time spent. Returns 1 after
 * printing an error. */
int det_cli_run_table(tta_detector *det, const tta_policy *pol, const tta_coco *data, tta_det_table *t,
                      const char *what, double *seconds);
void det_cli_table_free(tta_det_table *t);

/* Scores views[0..m) of a table: fused per image, then COCO mAP against data. ev (may be NULL)
 * receives the evaluator (free it) for bootstraps; fused (may be NULL) the fused boxes (n_images
 * lists). Returns a tta_status. */
tta_status det_cli_score(const tta_det_table *t, const int *views, const double *weights, int m,
                         const tta_fuse_options *fuse, const tta_coco *data, const int64_t *cat_ids, int n_classes,
                         tta_coco_stats *stats, tta_coco_eval **ev, tta_boxes **fused);


#endif
