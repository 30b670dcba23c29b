/* worker.h - the batching worker: one thread that owns the task (and through it the model's
 * plans, which are not thread-safe), takes batches from the queue (up to max_batch images,
 * waiting at most max_wait seconds after the oldest request for more), runs each batch through
 * the task in one go, records the batch in the metrics and completes every job. A batch that
 * fails as a whole is re-run job by job, so that one request whose image the policy or model
 * cannot take gets the error and the others their results. */
#ifndef TTA_SERVE_WORKER_H
#define TTA_SERVE_WORKER_H

#include <pthread.h>

#include "serve/metrics.h"
#include "serve/queue.h"
#include "serve/task.h"

typedef struct serve_worker {
    serve_queue *queue;
    serve_task *task;
    serve_metrics *metrics; /* may be NULL */
    int max_batch;          /* images per batch */
    double max_wait;        /* seconds */
    pthread_t thread;
    int started;
} serve_worker;

/* Starts the thread (the fields above set). Returns 0, or -1 if it cannot be created. */
int serve_worker_start(serve_worker *w);
/* Waits for the thread to end: it ends when the queue is closed and empty. */
void serve_worker_join(serve_worker *w);

/* One batch, as the thread runs it (also for tests): run, fall back job by job, record,
 * complete each job (job->done). */
void serve_worker_run_batch(serve_worker *w, serve_job **jobs, int n);

/* The HTTP status of a failed model run: 400 when the input did not fit (a bad argument,
 * shape or unsupported size), else 500. */
int serve_status_of_error(tta_status st);

#endif
