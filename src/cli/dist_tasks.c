/* dist_tasks.c - see dist_tasks.h. Uses only dist.h, so it builds with and without MPI (in a
 * single process both calls return at once). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/dist.h"
#include "cli/dist_tasks.h"

/* ---- detections: per image an int32 count, then that many tta_box as raw bytes ---------- */

int dist_gather_boxes(tta_boxes *per_image, int n, int chunk) {
    int size = dist_size(), me = dist_rank();
    if (size == 1) return 0;
    int64_t b, e;
    dist_range(n, chunk, &b, &e);
    size_t len = 0;
    for (int64_t i = b; i < e; i++)
        len += sizeof(int32_t) + sizeof(tta_box) * (size_t)per_image[i].n;
    char *mine = malloc(len ? len : 1), *all = NULL, *p = mine;
    size_t *lens = malloc(sizeof(size_t) * (size_t)size);
    int rc = !mine || !lens;
    if (rc) fprintf(stderr, "tta: out of memory for %zu bytes of detections\n", len);
    for (int64_t i = b; !rc && i < e; i++) {
        int32_t cnt = per_image[i].n;
        memcpy(p, &cnt, sizeof cnt);
        if (cnt) memcpy(p + sizeof cnt, per_image[i].box, sizeof(tta_box) * (size_t)cnt);
        p += sizeof cnt + sizeof(tta_box) * (size_t)cnt;
    }
    /* every rank takes part, even one that could not pack: the others would wait for it */
    if (dist_any_failed(rc, "detect") || dist_allgather_bytes(mine, len, (void **)&all, lens)) rc = 1;
    const char *q = all;
    for (int r = 0; !rc && r < size; r++) {
        const char *end = q + lens[r];
        int64_t rb, re;
        dist_range_of(r, n, chunk, &rb, &re);
        int64_t i = rb;
        for (; !rc && i < re; i++) {
            int32_t cnt;
            if ((size_t)(end - q) < sizeof cnt) break;
            memcpy(&cnt, q, sizeof cnt);
            q += sizeof cnt;
            if (cnt < 0 || (size_t)(end - q) < sizeof(tta_box) * (size_t)cnt) break;
            if (r != me) {
                if (tta_boxes_reserve(&per_image[i], cnt)) {
                    rc = cli_fail();
                    break;
                }
                if (cnt) memcpy(per_image[i].box, q, sizeof(tta_box) * (size_t)cnt);
                per_image[i].n = cnt;
            }
            q += sizeof(tta_box) * (size_t)cnt;
        }
        if (!rc && (i != re || q != end)) {
            fprintf(stderr, "tta: rank %d's detections do not parse (%zu bytes): a bug\n", r, lens[r]);
            rc = 1;
        }
    }
    free(mine);
    free(all);
    free(lens);
    return rc;
}

/* ---- segmentation: integer sums and per-image matrices ---------------------------------- */

int dist_combine_seg_run(seg_run *out, int n, int chunk, int ignore, int boundary) {
    if (dist_size() == 1) return 0;
    int C = out->classes;
    if (dist_allreduce_max_int(&C)) return 1;
    if (!C) return 0; /* no images anywhere */
    int rc = 0;
    if (!out->classes) { /* a rank without images: empty sums, as seg_cli_run makes them */
        seg_score empty;
        rc = seg_score_init(&empty, C, ignore, boundary);
        if (!rc) {
            out->total = empty.total;
            memcpy(out->q, empty.q, sizeof out->q);
            free(empty.wrong);
            out->classes = C;
        }
    }
    if (dist_any_failed(rc, "segment")) return 1;
    size_t cc = (size_t)C * C;
    rc = dist_allreduce_sum_i64(out->total.counts, cc);
    if (!rc && out->total.boundary_counts) rc = dist_allreduce_sum_i64(out->total.boundary_counts, cc);
    for (int k = 0; !rc && k <= TTA_UNC_COUNT; k++) {
        rc = dist_allreduce_sum_i64(out->q[k].correct, (size_t)out->q[k].bins);
        if (!rc) rc = dist_allreduce_sum_i64(out->q[k].wrong, (size_t)out->q[k].bins);
    }
    if (rc) return 1;
    /* each image's matrix (no boundary): rows of C x C counts, gathered in image order */
    int64_t b, e;
    dist_range(n, chunk, &b, &e);
    int64_t *rows = malloc(sizeof(int64_t) * cc * (size_t)(n ? n : 1));
    if (!rows) {
        fprintf(stderr, "tta: out of memory for %d images' confusion matrices\n", n);
        rc = 1;
    }
    for (int64_t i = b; !rc && i < e; i++)
        memcpy(rows + (size_t)i * cc, out->per_image[i].counts, sizeof(int64_t) * cc);
    if (dist_any_failed(rc, "segment") || dist_allgather_rows(rows, sizeof(int64_t) * cc, n, chunk)) rc = 1;
    for (int64_t i = 0; !rc && i < n; i++) {
        if (i >= b && i < e) continue;
        if (tta_confusion_init(&out->per_image[i], C, ignore, 0)) {
            rc = cli_fail();
            break;
        }
        memcpy(out->per_image[i].counts, rows + (size_t)i * cc, sizeof(int64_t) * cc);
    }
    free(rows);
    return rc;
}
