/* fuzz_image.c - libFuzzer target: PNG or JPEG bytes -> tta_image_decode (the format is found by
 * its magic), every decoded byte read, and for images up to 1 MB a conversion to float and back
 * that must give the same bytes. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_common.h"
#include "tta/image.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    tta_image img = {0};
    if (tta_image_decode(&img, data, size, "fuzz.img") == TTA_OK) {
        if (img.height <= 0 || img.width <= 0 || img.channels < 1 || img.channels > 4) {
            fprintf(stderr, "bad decoded image %dx%dx%d\n", img.height, img.width, img.channels);
            abort();
        }
        size_t nb = tta_image_nbytes(&img);
        fuzz_touch(img.data, nb);
        if (nb <= (1u << 20)) {
            tta_image f = {0}, u = {0};
            if (tta_image_convert(&f, &img, TTA_DTYPE_FLOAT32) == TTA_OK &&
                tta_image_convert(&u, &f, TTA_DTYPE_UINT8) == TTA_OK && memcmp(u.data, img.data, nb) != 0) {
                fprintf(stderr, "convert round trip differs\n");
                abort();
            }
            tta_image_destroy(&f);
            tta_image_destroy(&u);
        }
    }
    tta_image_destroy(&img);
    return 0;
}
