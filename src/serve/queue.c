/* queue.c - see queue.h. One mutex and one condition variable on the monotonic clock (so that
 * a change of the wall clock cannot stretch or cut a batch's wait). */
#include <errno.h>
#include <stdlib.h>
#include <time.h>

#include "serve/queue.h"

double serve_now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

int serve_queue_init(serve_queue *q, int capacity) {
    *q = (serve_queue){.capacity = capacity > 0 ? capacity : 1};
    pthread_condattr_t ca;
    if (pthread_condattr_init(&ca)) return -1;
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    int bad = pthread_cond_init(&q->cv, &ca) != 0;
    pthread_condattr_destroy(&ca);
    if (bad) return -1;
    if (pthread_mutex_init(&q->mu, NULL)) {
        pthread_cond_destroy(&q->cv);
        return -1;
    }
    return 0;
}

void serve_queue_destroy(serve_queue *q) {
    pthread_mutex_destroy(&q->mu);
    pthread_cond_destroy(&q->cv);
}

int serve_queue_push(serve_queue *q, serve_job *job) {
    pthread_mutex_lock(&q->mu);
    int rc = q->closed ? SERVE_QUEUE_CLOSED : q->n >= q->capacity ? SERVE_QUEUE_FULL : SERVE_QUEUE_OK;
    if (rc == SERVE_QUEUE_OK) {
        job->t_enqueued = serve_now();
        job->next = NULL;
        if (q->tail)
            q->tail->next = job;
        else
            q->head = job;
        q->tail = job;
        q->n++;
        q->n_images += job->n_images;
        pthread_cond_signal(&q->cv);
    }
    pthread_mutex_unlock(&q->mu);
    return rc;
}

static struct timespec to_timespec(double t) {
    struct timespec ts;
    ts.tv_sec = (time_t)t;
    ts.tv_nsec = (long)((t - (double)ts.tv_sec) * 1e9);
    if (ts.tv_nsec >= 1000000000L) ts.tv_sec++, ts.tv_nsec -= 1000000000L;
    if (ts.tv_nsec < 0) ts.tv_nsec = 0;
    return ts;
}

int serve_queue_take(serve_queue *q, serve_job **jobs, int max_jobs, int max_images, double max_wait) {
    if (max_jobs < 1) return 0;
    pthread_mutex_lock(&q->mu);
    while (!q->n && !q->closed)
        pthread_cond_wait(&q->cv, &q->mu);
    if (q->n) {
        struct timespec deadline = to_timespec(q->head->t_enqueued + (max_wait > 0 ? max_wait : 0));
        while (!q->closed && q->n_images < max_images && q->n < max_jobs)
            if (pthread_cond_timedwait(&q->cv, &q->mu, &deadline) == ETIMEDOUT) break;
    }
    int taken = 0, images = 0;
    while (q->head && taken < max_jobs && (taken == 0 || images + q->head->n_images <= max_images)) {
        serve_job *j = q->head;
        q->head = j->next;
        if (!q->head) q->tail = NULL;
        j->next = NULL;
        q->n--;
        q->n_images -= j->n_images;
        images += j->n_images;
        jobs[taken++] = j;
    }
    pthread_mutex_unlock(&q->mu);
    return taken;
}

void serve_queue_close(serve_queue *q) {
    pthread_mutex_lock(&q->mu);
    q->closed = 1;
    pthread_cond_broadcast(&q->cv);
    pthread_mutex_unlock(&q->mu);
}

int serve_queue_depth(serve_queue *q) {
    pthread_mutex_lock(&q->mu);
    int n = q->n;
    pthread_mutex_unlock(&q->mu);
    return n;
}
