/* task_report_cli.c - detection and segmentation pictures for reports (task_report_cli.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli_util.h"
#include "cli/task_report_cli.h"

int cli_det_pictures_make(cli_det_pictures *p, const tta_det_table *t, const tta_coco *data,
                          const tta_fuse_options *base, const int *sel, const double *weights, int m,
                          const tta_fuse_options *fuse) {
    memset(p, 0, sizeof *p);
    p->n_images = t->n_images;
    p->single = calloc((size_t)t->n_images, sizeof *p->single);
    p->tta = calloc((size_t)t->n_images, sizeof *p->tta);
    if (!p->single || !p->tta) {
        fprintf(stderr, "tta: out of memory for the report's pictures\n");
        return 1;
    }
    int ident = 0;
    if (tta_det_table_fuse(t, &ident, NULL, 1, base, p->single) ||
        tta_det_table_fuse(t, sel, weights, m, fuse, p->tta))
        return cli_fail();
    for (int i = 0; i < t->n_images && p->n < CLI_MAX_PICTURES; i++) {
        if (tta_coco_read_image(data, i, &p->img[p->n])) return cli_fail();
        p->im[p->n] = (tta_report_det_image){data->images[i].file_name,
                                             &p->img[p->n],
                                             p->single[i].box,
                                             p->tta[i].box,
                                             p->single[i].n,
                                             p->tta[i].n,
                                             m};
        p->n++;
    }
    return 0;
}

void cli_det_pictures_destroy(cli_det_pictures *p) {
    tta_boxes_free_array(p->single, p->n_images);
    tta_boxes_free_array(p->tta, p->n_images);
    for (int i = 0; i < CLI_MAX_PICTURES; i++)
        tta_image_destroy(&p->img[i]);
    memset(p, 0, sizeof *p);
}

int cli_seg_pictures_make(cli_seg_pictures *p, tta_segmenter *s, const tta_mask_set *data,
                          const tta_policy *pol, tta_merge merge) {
    memset(p, 0, sizeof *p);
    tta_policy ident = {0};
    if (tta_policy_init(&ident)) return cli_fail();
    int rc = 0, n = tta_mask_set_count(data);
    for (int i = 0; i < n && p->n < CLI_MAX_PICTURES && !rc; i++) {
        int k = p->n;
        if (tta_mask_set_read(data, i, &p->img[k], &p->mask[k]) ||
            tta_segment(s, &ident, &p->img[k], TTA_MERGE_MEAN, &p->single[k]) ||
            tta_segment(s, pol, &p->img[k], merge, &p->tta[k])) {
            fprintf(stderr, "tta: %s: %s\n", tta_mask_set_name(data, i), tta_last_error());
            rc = 1;
            break;
        }
        const tta_seg_result *r = &p->tta[k];
        p->im[k] = (tta_report_seg_image){tta_mask_set_name(data, i),
                                          &p->img[k],
                                          r->height,
                                          r->width,
                                          p->mask[k].data,
                                          p->single[k].labels,
                                          r->labels,
                                          r->maps[TTA_UNC_ENTROPY]};
        p->n++;
    }
    tta_policy_destroy(&ident);
    return rc;
}

void cli_seg_pictures_destroy(cli_seg_pictures *p) {
    for (int i = 0; i < CLI_MAX_PICTURES; i++) {
        tta_image_destroy(&p->img[i]);
        tta_image_destroy(&p->mask[i]);
        tta_seg_result_destroy(&p->single[i]);
        tta_seg_result_destroy(&p->tta[i]);
    }
    memset(p, 0, sizeof *p);
}
