/* job.c - see job.h. */
#include <stdlib.h>

#include "serve/job.h"

void serve_params_default(serve_params *p) {
    p->top = 5;
    p->min_score = 0;
    p->maps = 0;
}

void serve_job_free_images(serve_job *job) {
    for (int i = 0; job->images && i < job->n_images; i++)
        tta_image_destroy(&job->images[i]);
    free(job->images);
    job->images = NULL;
    job->n_images = 0;
}
