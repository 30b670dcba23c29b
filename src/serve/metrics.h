/* metrics.h - the server's metrics registry and its Prometheus text exposition (format 0.0.4):
 * requests by path and status code, errors by kind, the latency of /v1/predict, batch sizes,
 * forward passes per image, images, queue depth and capacity, requests in flight, the adaptive
 * threshold, and a model info line. Thread-safe: the HTTP threads and the worker record into
 * one registry; /metrics formats a consistent snapshot. */
#ifndef TTA_SERVE_METRICS_H
#define TTA_SERVE_METRICS_H

#include <pthread.h>
#include <stdint.h>

#include "serve/buf.h"

#define SERVE_HIST_MAX 16  /* finite buckets of a histogram at most */
#define SERVE_REQ_SLOTS 48 /* distinct (path, code) pairs kept; more are counted under code 0 */

typedef struct serve_hist {
    int n;                               /* finite buckets */
    double le[SERVE_HIST_MAX];           /* upper bounds, increasing */
    uint64_t counts[SERVE_HIST_MAX + 1]; /* per bucket (not cumulative); the last is +Inf */
    double sum;
    uint64_t count;
} serve_hist;

/* Sets the bucket bounds (n <= SERVE_HIST_MAX) and zeroes the counts. */
void serve_hist_init(serve_hist *h, const double *le, int n);
void serve_hist_observe(serve_hist *h, double v);

typedef enum serve_error_kind {
    SERVE_ERR_BAD_REQUEST = 0, /* 400: malformed body, not an image, too many pixels */
    SERVE_ERR_TOO_LARGE,       /* 413: body over --max-body */
    SERVE_ERR_MEDIA_TYPE,      /* 415 */
    SERVE_ERR_NOT_FOUND,       /* 404, 405 */
    SERVE_ERR_QUEUE_FULL,      /* 503: the queue was full */
    SERVE_ERR_SHUTTING_DOWN,   /* 503: arrived while draining */
    SERVE_ERR_TIMEOUT,         /* the body was not read within --read-timeout: closed */
    SERVE_ERR_MODEL,           /* 500 (or 400 when the image did not fit the policy) from the model run */
    SERVE_ERR_COUNT
} serve_error_kind;

const char *serve_error_kind_name(serve_error_kind k);

typedef struct serve_metrics {
    pthread_mutex_t mu;
    char model[128], task[16];
    int views;
    struct {
        char path[16];
        int code;
        uint64_t n;
    } req[SERVE_REQ_SLOTS];
    int n_req;
    uint64_t errors[SERVE_ERR_COUNT];
    serve_hist latency; /* seconds, /v1/predict */
    serve_hist batch;   /* images per batch */
    serve_hist passes;  /* forward passes per image */
    uint64_t batches;
    int queue_depth, queue_capacity, in_flight;
    int adaptive; /* 1: the threshold gauge is shown */
    double threshold;
    double target_cost;
} serve_metrics;

/* model: a name for the info line (e.g. the file name); views: the policy's views. Returns 0, or
 * -1 if the lock cannot be made. Default buckets (seconds: 1 ms .. 10 s; batch: 1 .. 256;
 * passes: 1 .. 32). */
int serve_metrics_init(serve_metrics *m, const char *model, const char *task, int views, int queue_capacity);
void serve_metrics_destroy(serve_metrics *m);

/* A response sent: path is mapped to "/v1/predict", "/v1/model", "/healthz", "/metrics" or
 * "other"; seconds >= 0 is observed in the latency histogram (pass < 0 for other paths). */
void serve_metrics_request(serve_metrics *m, const char *path, int code, double seconds);
void serve_metrics_error(serve_metrics *m, serve_error_kind kind);
/* A batch of n_images ran; passes[0..n_passes) the forward passes of each image answered. */
void serve_metrics_batch(serve_metrics *m, int n_images, const int *passes, int n_passes);
void serve_metrics_queue(serve_metrics *m, int depth);
void serve_metrics_in_flight(serve_metrics *m, int delta);
void serve_metrics_threshold(serve_metrics *m, double threshold);

/* The exposition text, appended to out. */
void serve_metrics_format(serve_metrics *m, serve_buf *out);

#endif
