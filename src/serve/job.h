/* job.h - one prediction request on its way through the server: decoded images and options
 * in, an HTTP status and a JSON body out. The HTTP front end (http.c) fills the input half and
 * pushes the job on the queue (queue.h); the batching worker (worker.c) runs it with other jobs
 * through the task (task.h), fills the output half, then calls done(). After done() the worker
 * no longer touches the job: the front end owns and frees it. */
#ifndef TTA_SERVE_JOB_H
#define TTA_SERVE_JOB_H

#include <stddef.h>

#include "tta/image.h"

/* Per-request options (query string or JSON fields). */
typedef struct serve_params {
    int top;         /* classify: classes listed per image (default 5) */
    float min_score; /* detect: boxes scoring below are left out (default 0: all the detector keeps) */
    int maps;        /* segment: 1 adds the uncertainty map as a PNG */
} serve_params;

void serve_params_default(serve_params *p);

typedef struct serve_job serve_job;
typedef void (*serve_done_fn)(serve_job *job);

struct serve_job {
    /* in */
    tta_image *images; /* n_images owned images (tta_image_destroy each, then free the array) */
    int n_images;
    serve_params params;
    double t_enqueued; /* monotonic seconds, set by serve_queue_push */
    /* out */
    int status; /* HTTP status: 200, or 400/500 with a JSON error body */
    char *body; /* malloc'd JSON */
    size_t body_len;
    int passes; /* forward passes over all its images (views run per image, summed) */
    /* completion */
    serve_done_fn done;
    void *user;
    serve_job *next; /* the queue's link */
};

/* Frees the job's images (not the job itself, nor its body). */
void serve_job_free_images(serve_job *job);

#endif
