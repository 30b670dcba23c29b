/* queue.h - the bounded FIFO between the HTTP front end and the batching worker. A full queue
 * refuses (the front end answers 503) rather than growing; the worker takes a batch: up to
 * max_images images' worth of jobs, waiting at most max_wait seconds after the oldest job was
 * queued for more to arrive (Triton's max_queue_delay). Thread-safe. */
#ifndef TTA_SERVE_QUEUE_H
#define TTA_SERVE_QUEUE_H

#include <pthread.h>

#include "serve/job.h"

typedef struct serve_queue {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    serve_job *head, *tail;
    int n, n_images, capacity;
    int closed;
} serve_queue;

enum { SERVE_QUEUE_OK = 0, SERVE_QUEUE_FULL = 1, SERVE_QUEUE_CLOSED = 2 };

/* capacity: jobs the queue holds at most (>= 1). Returns 0, or -1 if the lock or condition
 * variable cannot be made. */
int serve_queue_init(serve_queue *q, int capacity);
void serve_queue_destroy(serve_queue *q);

/* Appends a job (stamping job->t_enqueued). SERVE_QUEUE_FULL when it holds `capacity` jobs,
 * SERVE_QUEUE_CLOSED after serve_queue_close: the job is not taken then. */
int serve_queue_push(serve_queue *q, serve_job *job);

/* Blocks until a job is queued (or the queue is closed and empty: returns 0). Then waits until
 * the queued jobs hold max_images images, or max_wait seconds have passed since the oldest was
 * queued, or the queue is closed, and takes jobs in FIFO order while their images fit in
 * max_images (the first job is always taken, even a larger one) and at most max_jobs of them.
 * Returns the number of jobs written to jobs[]. */
int serve_queue_take(serve_queue *q, serve_job **jobs, int max_jobs, int max_images, double max_wait);

/* After this, pushes fail; takes return what is left, then 0. Wakes a waiting worker. */
void serve_queue_close(serve_queue *q);
int serve_queue_depth(serve_queue *q);

/* Monotonic clock in seconds (the queue's time base). */
double serve_now(void);

#endif
