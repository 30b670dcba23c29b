/* segment_internal.h - what the segmentation files share inside the library. */
#ifndef TTA_SEGMENT_INTERNAL_H
#define TTA_SEGMENT_INTERNAL_H

#include "tta/segment.h"

/* Bilinear resize of a C x sh x sw map to C x dh x dw (pixel centres aligned, edge-clamped). */
void tta_seg_upsample(const float *src, int channels, int sh, int sw, float *dst, int dh, int dw);

#endif
