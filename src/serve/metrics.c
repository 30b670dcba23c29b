/* metrics.c - see metrics.h. Output order is fixed (families in the order below, request
 * series sorted by path then code) so that the page is the same for the same observations. */
#include <stdio.h>
#include <string.h>

#include "serve/metrics.h"

static const double latency_le[] = {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};
static const double batch_le[] = {1, 2, 4, 8, 16, 32, 64, 128, 256};
static const double passes_le[] = {1, 2, 3, 4, 6, 8, 12, 16, 32};

static const char *const error_names[SERVE_ERR_COUNT] = {"bad_request",  "too_large",  "media_type",
                                                         "not_found",    "queue_full", "shutting_down",
                                                         "read_timeout", "model"};

const char *serve_error_kind_name(serve_error_kind k) {
    return k >= 0 && k < SERVE_ERR_COUNT ? error_names[k] : "unknown";
}

void serve_hist_init(serve_hist *h, const double *le, int n) {
    memset(h, 0, sizeof *h);
    h->n = n < SERVE_HIST_MAX ? n : SERVE_HIST_MAX;
    memcpy(h->le, le, sizeof(double) * (size_t)h->n);
}

void serve_hist_observe(serve_hist *h, double v) {
    int b = 0;
    while (b < h->n && v > h->le[b])
        b++; /* le: the first bound >= v */
    h->counts[b]++;
    h->sum += v;
    h->count++;
}

int serve_metrics_init(serve_metrics *m, const char *model, const char *task, int views, int queue_capacity) {
    memset(m, 0, sizeof *m);
    snprintf(m->model, sizeof m->model, "%s", model ? model : "");
    snprintf(m->task, sizeof m->task, "%s", task ? task : "");
    m->views = views;
    m->queue_capacity = queue_capacity;
    serve_hist_init(&m->latency, latency_le, (int)(sizeof latency_le / sizeof *latency_le));
    serve_hist_init(&m->batch, batch_le, (int)(sizeof batch_le / sizeof *batch_le));
    serve_hist_init(&m->passes, passes_le, (int)(sizeof passes_le / sizeof *passes_le));
    return pthread_mutex_init(&m->mu, NULL) ? -1 : 0;
}

void serve_metrics_destroy(serve_metrics *m) { pthread_mutex_destroy(&m->mu); }

static const char *path_label(const char *path) {
    static const char *const known[] = {"/v1/predict", "/v1/model", "/healthz", "/metrics"};
    for (size_t i = 0; path && i < sizeof known / sizeof *known; i++)
        if (!strcmp(path, known[i])) return known[i];
    return "other";
}

void serve_metrics_request(serve_metrics *m, const char *path, int code, double seconds) {
    const char *p = path_label(path);
    pthread_mutex_lock(&m->mu);
    int i = 0;
    while (i < m->n_req && !(m->req[i].code == code && !strcmp(m->req[i].path, p)))
        i++;
    if (i == m->n_req) {
        if (m->n_req == SERVE_REQ_SLOTS) { /* out of slots: the last one counts the rest */
            i = SERVE_REQ_SLOTS - 1;
            m->req[i].code = 0;
        } else {
            m->n_req++;
            snprintf(m->req[i].path, sizeof m->req[i].path, "%s", p);
            m->req[i].code = code;
        }
    }
    m->req[i].n++;
    if (seconds >= 0) serve_hist_observe(&m->latency, seconds);
    pthread_mutex_unlock(&m->mu);
}

void serve_metrics_error(serve_metrics *m, serve_error_kind kind) {
    if (kind < 0 || kind >= SERVE_ERR_COUNT) return;
    pthread_mutex_lock(&m->mu);
    m->errors[kind]++;
    pthread_mutex_unlock(&m->mu);
}

void serve_metrics_batch(serve_metrics *m, int n_images, const int *passes, int n_passes) {
    pthread_mutex_lock(&m->mu);
    m->batches++;
    serve_hist_observe(&m->batch, n_images);
    for (int i = 0; passes && i < n_passes; i++)
        serve_hist_observe(&m->passes, passes[i]);
    pthread_mutex_unlock(&m->mu);
}

void serve_metrics_queue(serve_metrics *m, int depth) {
    pthread_mutex_lock(&m->mu);
    m->queue_depth = depth;
    pthread_mutex_unlock(&m->mu);
}

void serve_metrics_in_flight(serve_metrics *m, int delta) {
    pthread_mutex_lock(&m->mu);
    m->in_flight += delta;
    pthread_mutex_unlock(&m->mu);
}

void serve_metrics_threshold(serve_metrics *m, double threshold) {
    pthread_mutex_lock(&m->mu);
    m->threshold = threshold;
    pthread_mutex_unlock(&m->mu);
}

static void family(serve_buf *o, const char *name, const char *type, const char *help) {
    serve_buf_printf(o, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* A label value with \, " and newline escaped, as the text format requires. */
static void label_value(serve_buf *o, const char *s) {
    for (; *s; s++) {
        if (*s == '\\')
            serve_buf_puts(o, "\\\\");
        else if (*s == '"')
            serve_buf_puts(o, "\\\"");
        else if (*s == '\n')
            serve_buf_puts(o, "\\n");
        else
            serve_buf_put(o, s, 1);
    }
}

static void hist(serve_buf *o, const char *name, const serve_hist *h) {
    uint64_t cum = 0;
    for (int b = 0; b < h->n; b++) {
        cum += h->counts[b];
        serve_buf_printf(o, "%s_bucket{le=\"%g\"} %llu\n", name, h->le[b], (unsigned long long)cum);
    }
    cum += h->counts[h->n];
    serve_buf_printf(o, "%s_bucket{le=\"+Inf\"} %llu\n", name, (unsigned long long)cum);
    serve_buf_printf(o, "%s_sum %.9g\n%s_count %llu\n", name, h->sum, name, (unsigned long long)h->count);
}

void serve_metrics_format(serve_metrics *m, serve_buf *o) {
    pthread_mutex_lock(&m->mu);
    family(o, "tta_model_info", "gauge", "The model served: file, task and views of the TTA policy.");
    serve_buf_puts(o, "tta_model_info{model=\"");
    label_value(o, m->model);
    serve_buf_printf(o, "\",task=\"%s\",views=\"%d\"} 1\n", m->task, m->views);

    family(o, "tta_requests_total", "counter", "HTTP requests answered, by path and status code.");
    int order[SERVE_REQ_SLOTS];
    for (int i = 0; i < m->n_req; i++)
        order[i] = i;
    for (int i = 1; i < m->n_req; i++) /* insertion sort by (path, code): a handful of entries */
        for (int j = i; j > 0; j--) {
            int a = order[j - 1], b = order[j], c = strcmp(m->req[a].path, m->req[b].path);
            if (c < 0 || (c == 0 && m->req[a].code <= m->req[b].code)) break;
            order[j - 1] = b, order[j] = a;
        }
    for (int i = 0; i < m->n_req; i++) {
        int r = order[i];
        serve_buf_printf(o, "tta_requests_total{path=\"%s\",code=\"%d\"} %llu\n", m->req[r].path,
                         m->req[r].code, (unsigned long long)m->req[r].n);
    }

    family(o, "tta_errors_total", "counter", "Requests refused or failed, by kind.");
    for (int k = 0; k < SERVE_ERR_COUNT; k++)
        serve_buf_printf(o, "tta_errors_total{kind=\"%s\"} %llu\n", error_names[k],
                         (unsigned long long)m->errors[k]);

    family(o, "tta_request_duration_seconds", "histogram",
           "Time from the start of a /v1/predict request to its response, queueing and batching included.");
    hist(o, "tta_request_duration_seconds", &m->latency);

    family(o, "tta_batch_size", "histogram", "Images per batch run through the model together.");
    hist(o, "tta_batch_size", &m->batch);

    family(o, "tta_passes_per_image", "histogram",
           "Forward passes (views) run per image; adaptive TTA runs the other views only for unsure images.");
    hist(o, "tta_passes_per_image", &m->passes);

    family(o, "tta_batches_total", "counter", "Batches run.");
    serve_buf_printf(o, "tta_batches_total %llu\n", (unsigned long long)m->batches);

    family(o, "tta_queue_depth", "gauge", "Requests waiting for the batching worker.");
    serve_buf_printf(o, "tta_queue_depth %d\n", m->queue_depth);
    family(o, "tta_queue_capacity", "gauge", "Requests the queue holds before answering 503.");
    serve_buf_printf(o, "tta_queue_capacity %d\n", m->queue_capacity);
    family(o, "tta_requests_in_flight", "gauge", "Requests being read, queued, run or answered.");
    serve_buf_printf(o, "tta_requests_in_flight %d\n", m->in_flight);
    if (m->adaptive) {
        family(o, "tta_adaptive_threshold", "gauge",
               "Identity confidence below which an image gets the policy's other views.");
        serve_buf_printf(o, "tta_adaptive_threshold %.6g\n", m->threshold);
        if (m->target_cost > 0) {
            family(o, "tta_adaptive_target_passes", "gauge",
                   "The mean passes per image adaptive TTA aims at.");
            serve_buf_printf(o, "tta_adaptive_target_passes %.6g\n", m->target_cost);
        }
    }
    pthread_mutex_unlock(&m->mu);
}
