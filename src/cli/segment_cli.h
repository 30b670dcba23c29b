/* segment_cli.h - what the `tta segment` subcommands share: the segmenter flags, loading a
 * segmenter with them, and scoring one policy over an image/mask set (the merged labels into a
 * confusion matrix per image, each uncertainty map's quality, optional saved outputs). */
#ifndef TTA_CLI_SEGMENT_CLI_H
#define TTA_CLI_SEGMENT_CLI_H

#include <stdio.h>

#include "cli/cli_util.h"
#include "tta/segment.h"

typedef struct seg_cli {
    const char *model;
    tta_segmenter_options o;
    cli_format fmt;
    tta_merge merge;
    int ignore, boundary;
} seg_cli;

void seg_cli_init(seg_cli *c);
/* Consumes a segmenter flag (and its value) at argv[*i]: 1; not one: 0; a bad value: -1 (printed). */
int seg_cli_flag(int argc, char **argv, int *i, seg_cli *c);
extern const char *seg_cli_help;
int seg_cli_open(const seg_cli *c, tta_model **model, tta_segmenter **seg);

/* The figures of one policy over a data set. */
typedef struct seg_run {
    int n_images, classes;
    tta_confusion total;        /* the whole set */
    tta_confusion *per_image;   /* n_images matrices (no boundary), for the bootstrap */
    tta_unc_quality q[TTA_UNC_COUNT + 1]; /* the maps, then the identity view's own entropy */
    double seconds;
} seg_run;

/* Runs `pol` with `merge` over the set. save_dir (may be NULL): writes DIR/NAME.png (labels)
 * and DIR/NAME.entropy.npy. Progress on stderr with `what`. Returns 1 after printing an error. */
int seg_cli_run(tta_segmenter *s, const tta_policy *pol, tta_merge merge, const tta_mask_set *data, int ignore,
                int boundary, const char *save_dir, const char *what, seg_run *out);
void seg_run_destroy(seg_run *r);

/* The two halves of scoring one image, as seg_cli_run does them on each thread (`tta segment
 * bench` times them apart). seg_image_merge: the merger's labels and maps (maps[TTA_UNC_COUNT]:
 * the identity view's own entropy `ident`), upsampled to H x W when the merger is at an output
 * stride (h x w). seg_score_image: adds them to the confusion matrix and uncertainty histograms
 * of `sc` and, when pi is not NULL, initialises pi as the image's own matrix. Each returns 1
 * after printing an error; buffers grow as needed. */
typedef struct seg_image_out {
    int height, width;
    uint8_t *labels;
    float *maps[TTA_UNC_COUNT + 1];
    float *probs, *hp, *hm[TTA_UNC_COUNT + 1]; /* scratch for an output at a stride */
    size_t cap, hcap;
} seg_image_out;

typedef struct seg_score {
    tta_confusion total;
    tta_unc_quality q[TTA_UNC_COUNT + 1];
    int ignore;
    uint8_t *wrong;
    size_t cap;
} seg_score;

int seg_image_merge(seg_image_out *o, const tta_seg_merger *m, const float *ident, int C, int h, int w, int H, int W);
void seg_image_out_destroy(seg_image_out *o);
int seg_score_init(seg_score *sc, int C, int ignore, int boundary);
int seg_score_image(seg_score *sc, const seg_image_out *o, const tta_image *mask, tta_confusion *pi, const char *name);
/* Adds the counts of sc to total and q[0..TTA_UNC_COUNT] (integer counts: any order gives the same sums). */
void seg_score_sum(tta_confusion *total, tta_unc_quality *q, const seg_score *sc);
void seg_score_destroy(seg_score *sc);

/* The views of a chunk of images merged as they come: a tta_seg_view_fn for
 * tta_segment_each_view. m, ident, h, w are arrays of one entry per image of the chunk (mergers
 * and sizes are made or remade on first use; view 0 resets the image's merger and records the
 * identity view's own entropy in ident); a view of weight 0 does not count. */
typedef struct seg_chunk {
    tta_seg_merger **m; /* mergers */
    float **ident;      /* identity entropies at the output resolution (malloc'd) */
    int *h, *w;         /* each image's size at the output resolution */
    int C;
    tta_merge merge;
    const double *weights;
} seg_chunk;
tta_status seg_chunk_add(void *user, int image, int view, const float *probs, const uint8_t *valid, int C, int h,
                         int w);

/* The merge rule a policy file or text records in a comment "# merge: NAME" (as `tta segment
 * search` writes it), else `fallback`. Returns 1 after printing an error. */
int seg_cli_policy_merge(const char *arg, tta_merge fallback, tta_merge *out);

/* "mean" etc.: the uncertainty map names in table order, with "1-pass entropy" last. */
const char *seg_cli_map_label(int k);

#endif
