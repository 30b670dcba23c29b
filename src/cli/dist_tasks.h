/* dist_tasks.h - the per-task results that MPI ranks combine (dist.h), beyond plain tables of
 * fixed-size rows: each image's detections (variable length), and a segmentation run's
 * confusion matrices and uncertainty histograms (integer counts, so summing them over ranks
 * gives exactly one process's figures). */
#ifndef TTA_CLI_DIST_TASKS_H
#define TTA_CLI_DIST_TASKS_H

#include "cli/segment_cli.h"
#include "tta/detect.h"

/* per_image[0..n) holds this rank's images dist_range(n, chunk) (each image's boxes of every
 * view); afterwards every rank holds every image's, the same bytes. 0, or 1 after printing. */
int dist_gather_boxes(tta_boxes *per_image, int n, int chunk);

/* out holds the sums and per-image matrices of this rank's images dist_range(n, chunk) (out->classes
 * 0 when it had none); afterwards every rank holds those of the whole set: the totals and
 * uncertainty histograms summed, each image's own matrix gathered. 0, or 1 after printing. */
int dist_combine_seg_run(seg_run *out, int n, int chunk, int ignore, int boundary);

#endif
