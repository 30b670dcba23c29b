/* fuzz_policy.c - libFuzzer target: policy text (at most 4 KB) -> parse, print, re-parse (the
 * printed text must parse and print the same again), then a plan on a 12x10 RGB image (odd sizes
 * also with an 8x9 output size), every view whose output is small applied, boxes, keypoints and a
 * dense map inverted, and a batch when all views have one size. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_common.h"
#include "tta/augment.h"

enum { IN_H = 12, IN_W = 10, CH = 3 };

int LLVMFuzzerInitialize(int *argc, char ***argv) {
    (void)argc;
    (void)argv;
    setenv("OMP_NUM_THREADS", "1", 1);
    return 0;
}

/* The printed form must parse and print to the same text. Returns the printed text (malloc). */
static char *check_reprint(const tta_policy *pol) {
    size_t len = tta_policy_format(pol, NULL, 0);
    char *buf = malloc(len + 1);
    if (tta_policy_format(pol, buf, len + 1) != len || strlen(buf) != len) {
        fprintf(stderr, "format length mismatch\n");
        abort();
    }
    tta_policy p2;
    if (tta_policy_parse(&p2, buf, "reprint") != TTA_OK) {
        fprintf(stderr, "printed policy does not parse: %s\n---\n%s\n---\n", tta_last_error(), buf);
        abort();
    }
    size_t len3 = tta_policy_format(&p2, NULL, 0);
    char *buf3 = malloc(len3 + 1);
    tta_policy_format(&p2, buf3, len3 + 1);
    if (strcmp(buf, buf3) != 0 || p2.n_views != pol->n_views) {
        fprintf(stderr, "print/parse not stable:\n%s\n---\n%s\n", buf, buf3);
        abort();
    }
    free(buf3);
    tta_policy_destroy(&p2);
    return buf;
}

static void apply_views(tta_aug_plan *plan, const tta_image *src) {
    tta_image dst = {0};
    int nv = tta_aug_plan_n_views(plan), all_same = 1, h0 = -1, w0 = -1;
    for (int v = 0; v < nv; v++) {
        int h, w;
        tta_aug_plan_view_size(plan, v, &h, &w);
        if (v == 0) h0 = h, w0 = w;
        else if (h != h0 || w != w0) all_same = 0;
        if ((int64_t)h * w > 4096 * 4) {
            all_same = 0;
            continue;
        }
        if (tta_augment_view(plan, v, src, (v & 1) ? TTA_DTYPE_FLOAT32 : TTA_DTYPE_UINT8, &dst) != TTA_OK) continue;
        float boxes[8] = {0, 0, (float)w, (float)h, 1, 2, 3, 4};
        tta_invert_boxes(plan, v, boxes, 2, 4);
        float pts[6] = {1, 1, 0.5f, (float)w - 1, (float)h - 1, 0.5f};
        uint8_t valid[IN_H * IN_W];
        tta_invert_keypoints(plan, v, pts, 1, 2, 3, NULL, valid);
        int sh = (h + 1) / 2, sw = (w + 1) / 2, bh = (IN_H + 1) / 2, bw = (IN_W + 1) / 2;
        float *dense = calloc((size_t)sh * sw * 2 + 1, sizeof(float));
        float *back = calloc((size_t)bh * bw * 2 + 1, sizeof(float));
        tta_invert_dense(plan, v, 2, TTA_INTERP_BILINEAR, dense, 2, sh, sw, back, bh, bw, NULL);
        free(dense);
        free(back);
    }
    if (all_same && nv > 0 && (int64_t)h0 * w0 <= 4096) {
        tta_batch_format fmt = {TTA_LAYOUT_NCHW, TTA_DTYPE_FLOAT32};
        size_t bytes = tta_batch_bytes(plan, 1, 0, nv, &fmt, CH);
        void *out = malloc(bytes ? bytes : 1);
        tta_augment_batch(plan, src, 1, 0, nv, &fmt, out, bytes);
        free(out);
    }
    tta_image_destroy(&dst);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size > 4096) return 0;
    char *text = malloc(size + 1);
    memcpy(text, data, size);
    text[size] = 0;
    tta_policy pol;
    if (tta_policy_parse(&pol, text, "fuzz") != TTA_OK) {
        tta_policy_destroy(&pol);
        free(text);
        return 0;
    }
    char *printed = check_reprint(&pol);
    tta_aug_plan *plan = NULL;
    int out_h = (size & 1) ? 8 : 0, out_w = out_h ? 9 : 0;
    if (tta_aug_plan_new(&plan, &pol, IN_H, IN_W, out_h, out_w) == TTA_OK) {
        tta_image src = {0};
        tta_image_init(&src, IN_H, IN_W, CH, TTA_DTYPE_UINT8);
        for (size_t i = 0; i < tta_image_nbytes(&src); i++) ((uint8_t *)src.data)[i] = (uint8_t)(i * 37);
        apply_views(plan, &src);
        tta_image_destroy(&src);
        tta_aug_plan_free(plan);
    }
    free(printed);
    tta_policy_destroy(&pol);
    free(text);
    return 0;
}
