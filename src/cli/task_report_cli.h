/* task_report_cli.h - the pictures the detection and segmentation commands put in their
 * --report: the first few images of a set with the boxes of one pass and of a policy (from the
 * per-view table the command already ran), or with the masks of one pass and of a policy and
 * the policy's entropy map (one image at a time through the segmenter). */
#ifndef TTA_CLI_TASK_REPORT_CLI_H
#define TTA_CLI_TASK_REPORT_CLI_H

#include "report/report.h"
#include "tta/detect.h"
#include "tta/segment.h"

#define CLI_MAX_PICTURES 4

typedef struct cli_det_pictures {
    int n, n_images;
    tta_report_det_image im[CLI_MAX_PICTURES];
    tta_image img[CLI_MAX_PICTURES];
    tta_boxes *single, *tta; /* fused boxes of every image */
} cli_det_pictures;

/* Views sel[0..m) of table t fused with `fuse` (and weights) against view 0 alone fused with
 * `base`, for the first CLI_MAX_PICTURES images of data. Returns 1 after printing an error. */
int cli_det_pictures_make(cli_det_pictures *p, const tta_det_table *t, const tta_coco *data,
                          const tta_fuse_options *base, const int *sel, const double *weights, int m,
                          const tta_fuse_options *fuse);
void cli_det_pictures_destroy(cli_det_pictures *p);

typedef struct cli_seg_pictures {
    int n;
    tta_report_seg_image im[CLI_MAX_PICTURES];
    tta_image img[CLI_MAX_PICTURES], mask[CLI_MAX_PICTURES];
    tta_seg_result single[CLI_MAX_PICTURES], tta[CLI_MAX_PICTURES];
} cli_seg_pictures;

/* The first CLI_MAX_PICTURES pairs of data: one pass (the identity) and `pol` merged by `merge`. */
int cli_seg_pictures_make(cli_seg_pictures *p, tta_segmenter *s, const tta_mask_set *data,
                          const tta_policy *pol, tta_merge merge);
void cli_seg_pictures_destroy(cli_seg_pictures *p);

#endif
