/* codec.h - internal entry points of the image codecs; tta_image_decode picks one by magic. */
#ifndef TTA_IMAGE_CODEC_H
#define TTA_IMAGE_CODEC_H

#include <stddef.h>

#include "tta/image.h"

tta_status tta_png_decode(tta_image *img, const unsigned char *data, size_t size, const char *name);
tta_status tta_jpeg_decode(tta_image *img, const unsigned char *data, size_t size, const char *name);


#endif
