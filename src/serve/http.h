/* http.h - the server's HTTP/1.1 front end on libmicrohttpd (linked into the `tta` command
 * only, not into libtta).
 *
 * Threads: libmicrohttpd's own pool (epoll) reads requests; a slow client occupies a connection
 * slot, never a thread, and never the worker. A /v1/predict body is read into memory up to
 * max_body (413 beyond, from Content-Length before reading when it is given), then parsed and
 * its images decoded on the HTTP thread (400 for anything malformed), then queued as a job
 * (503 with Retry-After when the queue is full) and the connection suspended
 * (MHD_suspend_connection) until the batching worker completes the job and resumes it; the
 * response is then sent from the HTTP thread. A body over max_body without Content-Length is
 * read on, dropped, and answered 413 at its end. A request whose body is still arriving
 * read_timeout seconds after it started is cut off (the connection closed; counted as 408),
 * so that a client sending a byte a second holds a connection slot for read_timeout at most;
 * idle connections close after idle_timeout.
 *
 * Endpoints: POST /v1/predict; GET /v1/model (what is served, as JSON); GET /healthz (200
 * {"status": "ok"}, 503 while draining); GET /metrics (Prometheus text). Others: 404, or 405
 * with Allow for a known path with another method. Every error body is JSON. */
#ifndef TTA_SERVE_HTTP_H
#define TTA_SERVE_HTTP_H

#include <stddef.h>

#include "serve/metrics.h"
#include "serve/queue.h"
#include "serve/request.h"

typedef struct serve_http_config {
    const char *host; /* numeric IPv4 or IPv6 address to listen on */
    int port;         /* 0: any free port (serve_http_port says which) */
    int threads;      /* libmicrohttpd's thread pool */
    int max_connections;
    size_t max_body;  /* bytes of a request body */
    int read_timeout; /* seconds from a request's start to the end of its body */
    int idle_timeout; /* seconds without traffic before a connection is closed */
    serve_limits limits;
    const char *model_json; /* the body of GET /v1/model */
} serve_http_config;

typedef struct serve_http serve_http;

/* Starts listening. Returns 0, or -1 with err (e.g. the port is taken). Everything borrowed
 * must outlive the server. */
int serve_http_start(serve_http **out, const serve_http_config *cfg, serve_queue *q, serve_metrics *m,
                     char *err, size_t err_size);
int serve_http_port(const serve_http *h);
/* Stops accepting connections; requests arriving on open connections are answered 503 with
 * Connection: close; requests already in progress go on. */
void serve_http_drain(serve_http *h);
/* Requests in progress: being read, queued, run or answered. */
int serve_http_active(serve_http *h);
/* Closes every connection and frees the server. Call after the worker has completed every job
 * (no connection may be suspended then). */
void serve_http_stop(serve_http *h);

#endif
