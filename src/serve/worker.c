/* worker.c - see worker.h. */
#include <stdio.h>
#include <stdlib.h>

#include "serve/response.h"
#include "serve/worker.h"

#define MAX_JOBS 1024 /* jobs per batch at most (each has at least one image) */

int serve_status_of_error(tta_status st) {
    return st == TTA_ERR_INVALID_ARG || st == TTA_ERR_SHAPE || st == TTA_ERR_UNSUPPORTED ||
                   st == TTA_ERR_PARSE
               ? 400
               : 500;
}

static void fail_job(serve_worker *w, serve_job *job, tta_status st) {
    char msg[512];
    snprintf(msg, sizeof msg, "%s: %s", st == TTA_ERR_NOMEM ? "out of memory" : "the model run failed",
             tta_last_error());
    serve_buf b = {0};
    job->status = serve_status_of_error(st);
    serve_json_error(&b, job->status, msg);
    free(job->body);
    job->body = serve_buf_take(&b, &job->body_len);
    job->passes = 0;
    if (w->metrics) serve_metrics_error(w->metrics, SERVE_ERR_MODEL);
}

void serve_worker_run_batch(serve_worker *w, serve_job **jobs, int n) {
    for (int j = 0; j < n; j++) {
        jobs[j]->status = 0;
        jobs[j]->passes = 0;
    }
    tta_status st = w->task->run(w->task, jobs, n);
    if (st) {
        for (int j = 0; j < n; j++) {
            tta_status sj = n > 1 ? w->task->run(w->task, &jobs[j], 1) : st;
            if (sj) fail_job(w, jobs[j], sj);
        }
    }
    if (w->metrics) {
        int images = 0, np = 0;
        for (int j = 0; j < n; j++)
            images += jobs[j]->n_images;
        int *passes = malloc(sizeof(int) * (size_t)(images > 0 ? images : 1));
        /* per image of the successful requests: exact for one-image requests; a request of
         * several images spreads its passes evenly (their sum and count stay exact) */
        for (int j = 0; passes && j < n; j++) {
            const serve_job *job = jobs[j];
            for (int i = 0; job->status == 200 && i < job->n_images; i++)
                passes[np++] = job->passes / job->n_images + (i < job->passes % job->n_images);
        }
        serve_metrics_batch(w->metrics, images, passes, np);
        free(passes);
    }
    for (int j = 0; j < n; j++)
        jobs[j]->done(jobs[j]); /* after this the job is not ours */
}

static void *worker_main(void *arg) {
    serve_worker *w = arg;
    serve_job *jobs[MAX_JOBS];
    for (;;) {
        int n = serve_queue_take(w->queue, jobs, MAX_JOBS, w->max_batch, w->max_wait);
        if (n == 0) break; /* closed and drained */
        if (w->metrics) serve_metrics_queue(w->metrics, serve_queue_depth(w->queue));
        serve_worker_run_batch(w, jobs, n);
    }
    return NULL;
}

int serve_worker_start(serve_worker *w) {
    if (pthread_create(&w->thread, NULL, worker_main, w)) return -1;
    w->started = 1;
    return 0;
}

void serve_worker_join(serve_worker *w) {
    if (!w->started) return;
    pthread_join(w->thread, NULL);
    w->started = 0;
}
