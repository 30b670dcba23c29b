/* http.c - see http.h.
 *
 * A request's state lives in a req_ctx (libmicrohttpd's con_cls): READING while its body
 * arrives, QUEUED while its job waits for or runs in the worker (the connection suspended),
 * ANSWERED once a response is queued. The one race, a worker completing a job before the HTTP
 * thread has suspended its connection, is closed by h->mu: the HTTP thread pushes the job and
 * suspends under it, and the worker's completion resumes under it, so resume always follows
 * suspend. The context is freed by the request-completed callback, which libmicrohttpd calls
 * only for a connection that is not suspended, so never while the worker holds the job. */
#include <arpa/inet.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "serve/buf.h"
#include "serve/http.h"
#include "serve/response.h"

struct serve_http {
    struct MHD_Daemon *d;
    serve_http_config cfg;
    serve_queue *q;
    serve_metrics *m;
    pthread_mutex_t mu; /* job completion against suspension */
    atomic_int active;
    atomic_int draining;
    MHD_socket listen_fd;
    int port;
};

typedef enum { R_READING = 0, R_DISCARDING, R_QUEUED, R_ANSWERED } req_state;

typedef struct req_ctx {
    serve_http *h;
    struct MHD_Connection *conn;
    double t0;
    char path[24];
    int predict;
    req_state state;
    char *body;
    size_t len, cap;
    serve_params params;
    int refuse_code; /* R_DISCARDING: the answer once the body has ended */
    serve_error_kind refuse_kind;
    char refuse_msg[160];
    serve_job job;
    int suspended, done; /* under h->mu */
} req_ctx;

static enum MHD_Result respond(req_ctx *r, int code, char *body, size_t len, const char *ctype) {
    serve_http *h = r->h;
    struct MHD_Response *resp = MHD_create_response_from_buffer(len, body, MHD_RESPMEM_MUST_FREE);
    if (!resp) {
        free(body);
        return MHD_NO;
    }
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, ctype);
    if (code == 503) MHD_add_response_header(resp, MHD_HTTP_HEADER_RETRY_AFTER, "1");
    if (code == 405) MHD_add_response_header(resp, MHD_HTTP_HEADER_ALLOW, r->predict ? "POST" : "GET, HEAD");
    if (atomic_load(&h->draining) || code == 408 || code == 413)
        MHD_add_response_header(resp, MHD_HTTP_HEADER_CONNECTION, "close");
    enum MHD_Result ret = MHD_queue_response(r->conn, (unsigned)code, resp);
    MHD_destroy_response(resp);
    r->state = R_ANSWERED;
    serve_metrics_request(h->m, r->path, code, r->predict ? serve_now() - r->t0 : -1);
    return ret;
}

static enum MHD_Result respond_error(req_ctx *r, int code, serve_error_kind kind, const char *msg) {
    serve_buf b = {0};
    serve_json_error(&b, code, msg);
    size_t len = 0;
    char *body = serve_buf_take(&b, &len);
    if (!body) return MHD_NO;
    serve_metrics_error(r->h->m, kind);
    return respond(r, code, body, len, "application/json");
}

static enum MHD_Result respond_text(req_ctx *r, int code, const char *text, const char *ctype) {
    char *body = strdup(text);
    return body ? respond(r, code, body, strlen(body), ctype) : MHD_NO;
}

/* The worker's completion (worker thread). */
static void job_done(serve_job *job) {
    req_ctx *r = job->user;
    serve_http *h = r->h;
    pthread_mutex_lock(&h->mu);
    r->done = 1;
    if (r->suspended) MHD_resume_connection(r->conn);
    pthread_mutex_unlock(&h->mu);
}

typedef struct arg_state {
    serve_params *p;
    int status;
    char msg[256];
} arg_state;

static enum MHD_Result arg_iter(void *cls, enum MHD_ValueKind kind, const char *key, const char *value) {
    (void)kind;
    arg_state *a = cls;
    if (a->status) return MHD_NO;
    a->status = serve_params_set(a->p, key, value, a->msg, sizeof a->msg);
    return a->status ? MHD_NO : MHD_YES;
}

/* The whole body is in: parse it, decode its images, queue the job, suspend. */
static enum MHD_Result body_done(req_ctx *r) {
    serve_http *h = r->h;
    char msg[512];
    serve_params_default(&r->params);
    arg_state a = {.p = &r->params};
    MHD_get_connection_values(r->conn, MHD_GET_ARGUMENT_KIND, arg_iter, &a);
    if (a.status) return respond_error(r, a.status, SERVE_ERR_BAD_REQUEST, a.msg);
    const char *ct = MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_TYPE);
    tta_image *images = NULL;
    int n = 0;
    int rc = serve_request_parse(r->body ? r->body : "", r->len, ct, &h->cfg.limits, &r->params, &images, &n,
                                 msg, sizeof msg);
    free(r->body);
    r->body = NULL;
    if (rc)
        return respond_error(r, rc,
                             rc == 415   ? SERVE_ERR_MEDIA_TYPE
                             : rc == 400 ? SERVE_ERR_BAD_REQUEST
                                         : SERVE_ERR_MODEL,
                             msg);
    r->job = (serve_job){.images = images, .n_images = n, .params = r->params, .done = job_done, .user = r};
    pthread_mutex_lock(&h->mu);
    int qr = serve_queue_push(h->q, &r->job);
    if (qr == SERVE_QUEUE_OK) {
        r->state = R_QUEUED;
        r->suspended = 1;
        MHD_suspend_connection(r->conn);
    }
    pthread_mutex_unlock(&h->mu);
    if (qr == SERVE_QUEUE_OK) {
        serve_metrics_queue(h->m, serve_queue_depth(h->q));
        return MHD_YES;
    }
    serve_job_free_images(&r->job);
    if (qr == SERVE_QUEUE_FULL) {
        snprintf(msg, sizeof msg, "the queue is full (%d requests waiting): retry later", h->q->capacity);
        return respond_error(r, 503, SERVE_ERR_QUEUE_FULL, msg);
    }
    return respond_error(r, 503, SERVE_ERR_SHUTTING_DOWN, "the server is shutting down");
}

/* The first call for a request: route it; answer at once unless a body is to be read. */
static enum MHD_Result first_call(req_ctx *r, const char *url, const char *method) {
    serve_http *h = r->h;
    int get = !strcmp(method, MHD_HTTP_METHOD_GET) || !strcmp(method, MHD_HTTP_METHOD_HEAD);
    if (!strcmp(url, "/v1/predict")) {
        r->predict = 1;
        if (strcmp(method, MHD_HTTP_METHOD_POST))
            return respond_error(r, 405, SERVE_ERR_NOT_FOUND,
                                 "/v1/predict takes POST with an image or JSON body");
        if (atomic_load(&h->draining))
            return respond_error(r, 503, SERVE_ERR_SHUTTING_DOWN, "the server is shutting down");
        const char *cl =
            MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
        if (cl && strtoull(cl, NULL, 10) > h->cfg.max_body) {
            char msg[160];
            snprintf(msg, sizeof msg, "the body is %s bytes, more than the limit of %zu", cl,
                     h->cfg.max_body);
            return respond_error(r, 413, SERVE_ERR_TOO_LARGE, msg);
        }
        return MHD_YES; /* read the body */
    }
    if (!strcmp(url, "/healthz")) {
        if (!get) return respond_error(r, 405, SERVE_ERR_NOT_FOUND, "/healthz takes GET");
        return atomic_load(&h->draining)
                   ? respond_text(r, 503, "{\"status\": \"draining\"}\n", "application/json")
                   : respond_text(r, 200, "{\"status\": \"ok\"}\n", "application/json");
    }
    if (!strcmp(url, "/v1/model")) {
        if (!get) return respond_error(r, 405, SERVE_ERR_NOT_FOUND, "/v1/model takes GET");
        return respond_text(r, 200, h->cfg.model_json ? h->cfg.model_json : "{}\n", "application/json");
    }
    if (!strcmp(url, "/metrics")) {
        if (!get) return respond_error(r, 405, SERVE_ERR_NOT_FOUND, "/metrics takes GET");
        serve_metrics_queue(h->m, serve_queue_depth(h->q));
        serve_buf b = {0};
        serve_metrics_format(h->m, &b);
        size_t len = 0;
        char *text = serve_buf_take(&b, &len);
        return text ? respond(r, 200, text, len, "text/plain; version=0.0.4; charset=utf-8") : MHD_NO;
    }
    char msg[192];
    snprintf(msg, sizeof msg, "no such endpoint: %.64s (POST /v1/predict, GET /v1/model, /healthz, /metrics)",
             url);
    return respond_error(r, 404, SERVE_ERR_NOT_FOUND, msg);
}

static enum MHD_Result handler(void *cls, struct MHD_Connection *conn, const char *url, const char *method,
                               const char *version, const char *upload_data, size_t *upload_data_size,
                               void **con_cls) {
    (void)version;
    serve_http *h = cls;
    req_ctx *r = *con_cls;
    if (!r) {
        if (!(r = calloc(1, sizeof *r))) return MHD_NO;
        r->h = h;
        r->conn = conn;
        r->t0 = serve_now();
        snprintf(r->path, sizeof r->path, "%s", url);
        *con_cls = r;
        atomic_fetch_add(&h->active, 1);
        serve_metrics_in_flight(h->m, 1);
        return first_call(r, url, method);
    }
    if (r->state == R_ANSWERED) { /* the rest of a body we already answered: dropped */
        *upload_data_size = 0;
        return MHD_YES;
    }
    if (r->state == R_QUEUED) { /* resumed: the worker has completed the job */
        pthread_mutex_lock(&h->mu);
        int done = r->done;
        r->suspended = 0;
        pthread_mutex_unlock(&h->mu);
        if (!done) return MHD_NO; /* cannot happen: only the worker resumes */
        char *body = r->job.body;
        r->job.body = NULL;
        serve_job_free_images(&r->job);
        return respond(r, r->job.status, body, r->job.body_len, "application/json");
    }
    /* reading the body: libmicrohttpd cannot queue a response before the upload has ended, so a
     * body over the limit is read on and dropped, and answered 413 at its end; a body still
     * arriving after read_timeout closes the connection */
    if (serve_now() - r->t0 > h->cfg.read_timeout) {
        serve_metrics_error(h->m, SERVE_ERR_TIMEOUT);
        serve_metrics_request(h->m, r->path, 408, -1);
        r->state = R_ANSWERED;
        return MHD_NO;
    }
    size_t n = *upload_data_size;
    if (n == 0) {
        if (r->state == R_DISCARDING) return respond_error(r, r->refuse_code, r->refuse_kind, r->refuse_msg);
        return body_done(r);
    }
    *upload_data_size = 0;
    if (r->state == R_DISCARDING) return MHD_YES;
    if (n > h->cfg.max_body - r->len) {
        free(r->body);
        r->body = NULL;
        r->state = R_DISCARDING;
        r->refuse_code = 413;
        r->refuse_kind = SERVE_ERR_TOO_LARGE;
        snprintf(r->refuse_msg, sizeof r->refuse_msg, "the body is more than the limit of %zu bytes",
                 h->cfg.max_body);
        return MHD_YES;
    }
    if (r->len + n > r->cap) {
        size_t cap = r->cap ? r->cap : 16384;
        while (cap < r->len + n)
            cap *= 2;
        if (cap > h->cfg.max_body) cap = h->cfg.max_body;
        char *b = realloc(r->body, cap);
        if (!b) {
            free(r->body);
            r->body = NULL;
            r->state = R_DISCARDING;
            r->refuse_code = 500;
            r->refuse_kind = SERVE_ERR_MODEL;
            snprintf(r->refuse_msg, sizeof r->refuse_msg, "out of memory for the request body");
            return MHD_YES;
        }
        r->body = b;
        r->cap = cap;
    }
    memcpy(r->body + r->len, upload_data, n);
    r->len += n;
    return MHD_YES;
}

static void completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                      enum MHD_RequestTerminationCode toe) {
    (void)conn;
    (void)toe;
    serve_http *h = cls;
    req_ctx *r = *con_cls;
    if (!r) return;
    *con_cls = NULL;
    if (r->state == R_QUEUED && !r->done) return; /* the worker still holds it: cannot happen (see top) */
    free(r->body);
    free(r->job.body);
    serve_job_free_images(&r->job);
    free(r);
    serve_metrics_in_flight(h->m, -1);
    atomic_fetch_sub(&h->active, 1);
}

static void logger(void *cls, const char *fmt, va_list ap) {
    (void)cls;
    char line[512];
    vsnprintf(line, sizeof line, fmt, ap);
    size_t n = strlen(line);
    while (n && line[n - 1] == '\n')
        line[--n] = '\0';
    /* our own handler's "close this connection" (a body past --read-timeout): counted in the
     * metrics, not an event worth a line */
    if (strstr(line, "Application reported internal error")) return;
    fprintf(stderr, "tta: serve: http: %s\n", line);
}

int serve_http_start(serve_http **out, const serve_http_config *cfg, serve_queue *q, serve_metrics *m,
                     char *err, size_t err_size) {
    *out = NULL;
    serve_http *h = calloc(1, sizeof *h);
    if (!h || pthread_mutex_init(&h->mu, NULL)) {
        free(h);
        snprintf(err, err_size, "out of memory");
        return -1;
    }
    h->cfg = *cfg;
    h->q = q;
    h->m = m;
    h->listen_fd = MHD_INVALID_SOCKET;
    struct sockaddr_in a4 = {0};
    struct sockaddr_in6 a6 = {0};
    const struct sockaddr *addr;
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_AUTO | MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ITC |
                     MHD_USE_ERROR_LOG;
    if (inet_pton(AF_INET, cfg->host, &a4.sin_addr) == 1) {
        a4.sin_family = AF_INET;
        a4.sin_port = htons((uint16_t)cfg->port);
        addr = (const struct sockaddr *)&a4;
    } else if (inet_pton(AF_INET6, cfg->host, &a6.sin6_addr) == 1) {
        a6.sin6_family = AF_INET6;
        a6.sin6_port = htons((uint16_t)cfg->port);
        addr = (const struct sockaddr *)&a6;
        flags |= MHD_USE_IPv6;
    } else {
        snprintf(err, err_size, "--host %s: not a numeric IPv4 or IPv6 address", cfg->host);
        pthread_mutex_destroy(&h->mu);
        free(h);
        return -1;
    }
    h->d = MHD_start_daemon(
        flags, (uint16_t)cfg->port, NULL, NULL, handler, h, MHD_OPTION_EXTERNAL_LOGGER, logger, h,
        MHD_OPTION_SOCK_ADDR, addr, MHD_OPTION_THREAD_POOL_SIZE, (unsigned)cfg->threads,
        MHD_OPTION_CONNECTION_LIMIT, (unsigned)cfg->max_connections, MHD_OPTION_CONNECTION_TIMEOUT,
        (unsigned)cfg->idle_timeout, MHD_OPTION_NOTIFY_COMPLETED, completed, h, MHD_OPTION_END);
    if (!h->d) {
        snprintf(err, err_size, "cannot listen on %s port %d (in use, or not allowed)", cfg->host, cfg->port);
        pthread_mutex_destroy(&h->mu);
        free(h);
        return -1;
    }
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(h->d, MHD_DAEMON_INFO_BIND_PORT);
    h->port = info ? info->port : cfg->port;
    *out = h;
    return 0;
}

int serve_http_port(const serve_http *h) { return h->port; }

void serve_http_drain(serve_http *h) {
    if (atomic_exchange(&h->draining, 1)) return;
    h->listen_fd = MHD_quiesce_daemon(h->d);
    /* no thread of the daemon uses it any more, but it must stay open until MHD_stop_daemon:
     * shutting it down stops the listening (Linux), so that new connections are refused at once
     * instead of waiting in the backlog until the server exits */
    if (h->listen_fd != MHD_INVALID_SOCKET) shutdown(h->listen_fd, SHUT_RDWR);
}

int serve_http_active(serve_http *h) { return atomic_load(&h->active); }

void serve_http_stop(serve_http *h) {
    if (!h) return;
    MHD_stop_daemon(h->d);
    if (h->listen_fd != MHD_INVALID_SOCKET) close(h->listen_fd);
    pthread_mutex_destroy(&h->mu);
    free(h);
}
