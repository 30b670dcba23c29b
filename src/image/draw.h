/* draw.h - tiny drawing helpers for pictures a person looks at (the `tta augment` grid,
 * reports): filled rectangles and text in a built-in 5x7 bitmap font. Internal to tta; works on
 * uint8 images of any channel count (a colour gives one value per channel). */
#ifndef TTA_IMAGE_DRAW_H
#define TTA_IMAGE_DRAW_H

#include <stdint.h>

#include "tta/image.h"

#define TTA_FONT_ADVANCE 6 /* pixels per character at scale 1 (5 + 1 spacing) */
#define TTA_FONT_LINE 9    /* pixels per line at scale 1 (7 + 2 spacing) */

/* Fills the rectangle (clipped to the image). */
void tta_draw_rect(tta_image *img, int x, int y, int w, int h, const uint8_t *color);

/* Draws text with its top-left corner at (x, y), each font pixel `scale` x `scale` image
 * pixels, clipped to the image; characters outside printable ASCII are drawn as '?'. Returns
 * the width of the text in pixels. */
int tta_draw_text(tta_image *img, int x, int y, const char *text, const uint8_t *color, int scale);

#endif
