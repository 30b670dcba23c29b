/* task_common.c - what the three tasks share: ordering a batch's images by size and handing a
 * finished body to its job. */
#include <stdlib.h>

#include "serve/response.h"
#include "serve/task.h"

void serve_order_by_size(const tta_image *const *images, int n, int *order) {
    for (int i = 0; i < n; i++)
        order[i] = i;
    for (int i = 1; i < n; i++) /* insertion sort: a batch is a few dozen images at most, and stable */
        for (int j = i; j > 0; j--) {
            const tta_image *a = images[order[j - 1]], *b = images[order[j]];
            int gt = a->height != b->height ? a->height > b->height
                     : a->width != b->width ? a->width > b->width
                                            : a->channels > b->channels;
            if (!gt) break;
            int t = order[j - 1];
            order[j - 1] = order[j];
            order[j] = t;
        }
}

int serve_pad_batch(tta_image *images, int n, int max_batch) {
    if (n < 1) return n;
    for (int i = 1; i < n; i++)
        if (images[i].height != images[0].height || images[i].width != images[0].width ||
            images[i].channels != images[0].channels)
            return n; /* several sizes: the engines make runs of one size anyway */
    int p = 1;
    while (p < n)
        p *= 2;
    if (max_batch > 0 && p > max_batch) p = max_batch > n ? max_batch : n;
    for (int i = n; i < p; i++)
        images[i] = images[n - 1];
    return p;
}

int serve_job_finish(serve_job *job, serve_buf *b) {
    size_t len = 0;
    char *body = serve_buf_take(b, &len);
    if (!body) {
        serve_buf e = {0};
        serve_json_error(&e, 500, "out of memory formatting the response");
        job->status = 500;
        job->body = serve_buf_take(&e, &job->body_len);
        return -1;
    }
    job->status = 200;
    job->body = body;
    job->body_len = len;
    return 0;
}
