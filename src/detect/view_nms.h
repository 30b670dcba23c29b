/* view_nms.h - one view's own NMS, the step between decoding a view and de-augmenting its boxes:
 * greedy per-class NMS of one list of boxes, giving exactly what tta_fuse_boxes gives with
 * TTA_FUSE_NMS, one view, no weights and skip_thr 0 (the same boxes, in the same order: score
 * best first, ties by label, then by position), at a fraction of its cost. The general rule
 * carries what several views need (support counting, double-precision items, a grid per
 * class); one view needs none of it, and this step runs once per view of every image. */
#ifndef TTA_DETECT_VIEW_NMS_H
#define TTA_DETECT_VIEW_NMS_H

#include <stdint.h>

#include "tta/detect.h"

/* Scratch reused from call to call (zeroed to start; det_view_nms_free releases it). One per
 * thread. */
typedef struct det_view_nms_work {
    uint64_t *keys, *tmp; /* sort keys: score key << 32 | position */
    double *kept;         /* per kept box: x1, y1, x2, y2, area */
    int *next;            /* per kept box: the next kept box of its label, -1 at the end */
    int *head, *tail;     /* per label (offset by the lowest label): its first and last kept box */
    int cap, kept_cap, label_cap;
} det_view_nms_work;

/* Appends to out the boxes of in[0..n) that survive greedy NMS at IoU iou_thr (a box is
 * dropped when its IoU with a kept box of its label, computed as ensemble-boxes does, is
 * above iou_thr), at most max_det of them (0: all), best first. Zero-area boxes and boxes
 * scoring below 0 are left out, as tta_fuse_boxes's prefilter does. The boxes must be valid
 * (finite, x1 <= x2, y1 <= y2; the decoder's are). view and support of the kept boxes are
 * copied from the input. */
tta_status det_view_nms(const tta_box *in, int n, float iou_thr, int max_det, det_view_nms_work *w,
                        tta_boxes *out);

void det_view_nms_free(det_view_nms_work *w);

#endif
