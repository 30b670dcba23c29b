/* task_pictures.h - the pictures of the detection and segmentation reports: each image with the
 * boxes of one pass and of TTA (class, score and support), and each image beside its true mask,
 * the masks of one pass and of TTA and TTA's entropy map, with their colour keys. */
#ifndef TTA_REPORT_TASK_PICTURES_H
#define TTA_REPORT_TASK_PICTURES_H

#include <stdio.h>

#include "report/report.h"

/* Boxes of at least min_score, over the picture enlarged to be readable. */
tta_status tta_report_det_pictures(FILE *f, const tta_report_det_image *im, int n, const char *focus,
                                   const char *const *names, int n_classes, double min_score);
tta_status tta_report_seg_pictures(FILE *f, const tta_report_seg_image *im, int n, const char *focus,
                                   const char *const *names, int classes);

/* The colour of class c in masks (class 0, the background, black), and of t in [0, 1] on the
 * heat scale of uncertainty maps (dark violet to yellow). */
void tta_report_class_colour(int c, uint8_t *rgb);
void tta_report_heat_colour(double t, uint8_t *rgb);

#endif
