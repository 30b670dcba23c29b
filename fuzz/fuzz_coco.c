/* fuzz_coco.c - libFuzzer target: COCO JSON. Every input is written to a file and read both as an
 * annotations file (tta_coco_load; then every id looked up, a slice, and every annotation's
 * image and category checked to exist) and as a detections results file (tta_coco_results_read;
 * results that read must write and read back to the same detections, floats as floats). */
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_common.h"
#include "tta/detect.h"

static char path_in[128], path_rt[128];

int LLVMFuzzerInitialize(int *argc, char ***argv) {
    (void)argc;
    (void)argv;
    fuzz_scratch_path(path_in, sizeof path_in, "in.json");
    fuzz_scratch_path(path_rt, sizeof path_rt, "rt.json");
    return 0;
}

static void check_annotations(void) {
    tta_coco c;
    memset(&c, 0, sizeof c);
    if (tta_coco_load(&c, path_in, NULL) == TTA_OK) {
        for (int i = 0; i < c.n_images; i++) {
            if (tta_coco_image_index(&c, c.images[i].id) < 0) abort();
            fuzz_touch(c.images[i].file_name, strlen(c.images[i].file_name));
        }
        for (int i = 0; i < c.n_categories; i++)
            if (tta_coco_category_index(&c, c.categories[i].id) < 0) abort();
        for (int i = 0; i < c.n_anns; i++)
            if (tta_coco_image_index(&c, c.anns[i].image_id) < 0 ||
                tta_coco_category_index(&c, c.anns[i].category_id) < 0) {
                fprintf(stderr, "annotation %d names an unknown image or category\n", i);
                abort();
            }
        if (c.n_images > 1) tta_coco_slice(&c, 1, c.n_images);
    }
    tta_coco_destroy(&c);
}

/* The writer gives values that are floats the fewest digits that read back as the same float
 * (detect.h), so those need only come back as the same float: a is the value written, b the
 * value read back. */
static int same(double a, double b) {
    if (a == b || (isnan(a) && isnan(b))) return 1;
    return isfinite(a) && fabs(a) <= FLT_MAX && (double)(float)a == a && (float)b == (float)a;
}

static void check_results(void) {
    tta_coco_det *d = NULL, *e = NULL;
    int n = 0, m = 0;
    if (tta_coco_results_read(path_in, &d, &n) == TTA_OK && tta_coco_results_write(path_rt, d, n) == TTA_OK) {
        if (tta_coco_results_read(path_rt, &e, &m) != TTA_OK || m != n) {
            fprintf(stderr, "results round trip failed: %s\n", tta_last_error());
            abort();
        }
        for (int i = 0; i < n; i++)
            if (e[i].image_id != d[i].image_id || e[i].category_id != d[i].category_id ||
                !same(d[i].score, e[i].score) || !same(d[i].bbox[0], e[i].bbox[0]) ||
                !same(d[i].bbox[1], e[i].bbox[1]) || !same(d[i].bbox[2], e[i].bbox[2]) ||
                !same(d[i].bbox[3], e[i].bbox[3])) {
                fprintf(stderr, "results round trip differs at %d\n", i);
                abort();
            }
    }
    tta_free(d);
    tta_free(e);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    fuzz_write_file(path_in, data, size);
    check_annotations();
    check_results();
    return 0;
}
