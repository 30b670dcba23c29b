/* cmd_serve.c - `tta serve`: an HTTP model server for one model and one TTA policy. This file
 * is the options and the wiring; the server is src/serve/ (front end http.c, queue.c, the
 * batching worker.c, the tasks task_*.c, metrics.c, request.c, response.c).
 *
 * Threads: libmicrohttpd's pool reads and parses requests; one worker thread owns the model's
 * engine (its plans are not thread-safe) and runs batches; the main thread waits for SIGTERM
 * or SIGINT (blocked in every thread, taken with sigwait), then drains: it stops accepting,
 * lets the requests in progress finish (queued ones included), stops the worker and exits 0. */
#include <math.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli_util.h"
#include "cli/commands.h"
#include "cli/detect_cli.h"
#include "cli/segment_cli.h"
#include "serve/http.h"
#include "serve/response.h"
#include "serve/task.h"
#include "serve/worker.h"

static int usage(FILE *f, int code) {
    fprintf(
        f,
        "usage: tta serve --model M --policy P [--task classify|detect|segment] [--host H] [--port N]\n"
        "                 [--threads T] [--max-batch B] [--max-wait-ms W] [--queue N] [--adaptive-cost C]\n"
        "                 [OPTIONS]\n\n"
        "Serves model M with test-time augmentation policy P over HTTP/1.1:\n"
        "  POST /v1/predict   a PNG or JPEG body, or JSON {\"image\": BASE64} or {\"images\": [BASE64, "
        "...]};\n"
        "                     answers JSON: classes with probabilities and the views' agreement\n"
        "                     (classify), boxes with their support (detect), or a label-mask PNG in\n"
        "                     base64 with an uncertainty score (segment). Options as query string or\n"
        "                     JSON fields: top=N (classes listed), min_score=S (boxes), maps=1 (the\n"
        "                     entropy map as a PNG too)\n"
        "  GET /v1/model      what is served        GET /healthz   200, or 503 while shutting down\n"
        "  GET /metrics       Prometheus text: requests, errors, latency, batch sizes, passes per image\n\n"
        "Requests arriving together are batched: the views of up to B images go through the model\n"
        "in one forward pass, waiting at most W ms after the first for more. SIGTERM or SIGINT\n"
        "stops accepting, finishes the requests in progress, then exits 0.\n\n"
        "  --task T             classify, detect or segment (default: the model's tta.task, else classify)\n"
        "  --host H             numeric address to listen on (127.0.0.1; 0.0.0.0 for every interface)\n"
        "  --port N             TCP port (8080; 0: any free port, printed on stdout)\n"
        "  --threads T          threads of each model run (default: TTA_THREADS, OMP_NUM_THREADS or all)\n"
        "  --http-threads N     threads reading requests and decoding images (2)\n"
        "  --max-batch B        images per batch (8)         --max-wait-ms W   batching wait (5)\n"
        "  --queue N            requests waiting at most; beyond, 503 with Retry-After (4 x B)\n"
        "  --adaptive-cost C    classify: adaptive TTA, the identity on every image and the other views\n"
        "                       only for unsure ones, keeping the mean passes per image near C\n"
        "  --adaptive-threshold X  classify: unsure = identity confidence below X (default: chosen\n"
        "                       online from the last 1,024 images for --adaptive-cost)\n"
        "  --merge RULE         classify: mean (default), logits, geometric, max, vote\n"
        "limits:\n"
        "  --max-body SIZE      request body (8M; 413 beyond)    --max-images N  per request (16)\n"
        "  --max-pixels N       width x height of an image (4194304; 400 beyond)\n"
        "  --read-timeout S     seconds to receive a request (30; 408 after)\n"
        "  --idle-timeout S     seconds before an idle connection closes (15)\n"
        "  --max-connections N  open connections (256)       --drain-timeout S  on SIGTERM (30)\n"
        "  --quiet              no start-up and shutdown lines\n\n"
        "%s\ndetect (--task detect): %s\nsegment (--task segment): %s",
        cli_format_help, det_cli_help, seg_cli_help);
    return code;
}

typedef struct serve_opts {
    const char *model, *policy, *task, *host, *merge;
    int port, threads, http_threads, max_batch, queue, max_images, read_timeout, idle_timeout, max_conn;
    int drain_timeout, quiet;
    double max_wait_ms, adaptive_cost, adaptive_thr;
    size_t max_body;
    long long max_pixels;
} serve_opts;

/* An integer option in [lo, hi]; prints and returns 0 when bad. */
static int int_opt(const char *flag, const char *v, long long lo, long long hi, long long *out) {
    char *end = NULL;
    long long n = strtoll(v, &end, 10);
    if (end == v || *end || n < lo || n > hi) {
        fprintf(stderr, "tta: serve: %s: expected an integer from %lld to %lld, got '%s'\n", flag, lo, hi, v);
        return 0;
    }
    *out = n;
    return 1;
}

static int num_opt(const char *flag, const char *v, double lo, double hi, double *out) {
    char *end = NULL;
    double d = strtod(v, &end);
    if (end == v || *end || !(d >= lo && d <= hi)) {
        fprintf(stderr, "tta: serve: %s: expected a number from %g to %g, got '%s'\n", flag, lo, hi, v);
        return 0;
    }
    *out = d;
    return 1;
}

/* Consumes one of serve's own options at argv[*i]: 1, not one: 0, a bad value: -1. */
static int serve_flag(int argc, char **argv, int *i, serve_opts *o) {
    const char *a = argv[*i];
    if (!strcmp(a, "--quiet")) return o->quiet = 1;
    if (*i + 1 >= argc) return 0;
    const char *v = argv[*i + 1];
    const struct {
        const char *name;
        const char **dst;
    } strs[] = {{"--model", &o->model}, {"--policy", &o->policy}, {"--task", &o->task}, {"--host", &o->host}};
    const struct {
        const char *name;
        long long lo, hi;
        int *dst;
    } ints[] = {{"--port", 0, 65535, &o->port},
                {"--threads", 0, 4096, &o->threads},
                {"--http-threads", 1, 256, &o->http_threads},
                {"--max-batch", 1, 256, &o->max_batch},
                {"--queue", 1, 1 << 20, &o->queue},
                {"--max-images", 1, 256, &o->max_images},
                {"--read-timeout", 1, 86400, &o->read_timeout},
                {"--idle-timeout", 1, 86400, &o->idle_timeout},
                {"--max-connections", 1, 1 << 16, &o->max_conn},
                {"--drain-timeout", 0, 86400, &o->drain_timeout}};
    const struct {
        const char *name;
        double lo, hi;
        double *dst;
    } nums[] = {{"--max-wait-ms", 0, 60000, &o->max_wait_ms},
                {"--adaptive-cost", 1, 1024, &o->adaptive_cost},
                {"--adaptive-threshold", 0, 2, &o->adaptive_thr}};
    int ok = -1; /* -1: not ours */
    long long n;
    for (size_t k = 0; ok < 0 && k < sizeof strs / sizeof *strs; k++)
        if (!strcmp(a, strs[k].name)) *strs[k].dst = v, ok = 1;
    for (size_t k = 0; ok < 0 && k < sizeof ints / sizeof *ints; k++)
        if (!strcmp(a, ints[k].name) && (ok = int_opt(a, v, ints[k].lo, ints[k].hi, &n)))
            *ints[k].dst = (int)n;
    for (size_t k = 0; ok < 0 && k < sizeof nums / sizeof *nums; k++)
        if (!strcmp(a, nums[k].name)) ok = num_opt(a, v, nums[k].lo, nums[k].hi, nums[k].dst);
    if (ok < 0 && !strcmp(a, "--max-pixels")) ok = int_opt(a, v, 1, 1LL << 28, &o->max_pixels);
    if (ok < 0 && !strcmp(a, "--max-body")) {
        ok = !tta_parse_memory_size(v, &o->max_body) && o->max_body <= ((size_t)1 << 31);
        if (!ok)
            fprintf(
                stderr,
                "tta: serve: --max-body: expected a size such as 65536, 512K or 8M (at most 2G), got '%s'\n",
                v);
    }
    if (ok < 0) return 0;
    if (!ok) return -1;
    ++*i;
    return 1;
}

/* The model file's base name, for responses and metrics. */
static const char *base_name(const char *path) {
    const char *s = strrchr(path, '/');
    return s ? s + 1 : path;
}

/* A mid-grey image of the model's input size (64 x 64 for dynamic sizes) to run once before
 * serving: it checks that the policy fits the model and learns the class count. */
static int warm_up(serve_task *task, const tta_model *m) {
    tta_input_format f;
    int h = 64, w = 64, c = 3;
    if (tta_input_format_from_model(m, &f) == TTA_OK) {
        if (f.height > 0 && f.width > 0) h = f.height, w = f.width;
        if (f.batch.channels > 0) c = f.batch.channels;
    }
    serve_job job = {0};
    job.images = calloc(1, sizeof(tta_image));
    if (!job.images || tta_image_init(&job.images[0], h, w, c, TTA_DTYPE_UINT8)) {
        free(job.images);
        fprintf(stderr, "tta: serve: out of memory\n");
        return 1;
    }
    memset(job.images[0].data, 128, tta_image_nbytes(&job.images[0]));
    job.n_images = 1;
    serve_params_default(&job.params);
    serve_job *jobs[1] = {&job};
    tta_status st = task->run(task, jobs, 1);
    int rc = 0;
    if (st) {
        fprintf(stderr, "tta: serve: the model does not run with this policy on a %dx%d image: %s\n", h, w,
                tta_last_error());
        rc = 1;
    }
    free(job.body);
    serve_job_free_images(&job);
    return rc;
}

/* GET /v1/model: what is served. */
static char *model_json(const serve_opts *o, const char *task, const tta_policy *pol, const tta_model *m,
                        const char *const *names, int k) {
    serve_buf b = {0};
    size_t plen = tta_policy_format(pol, NULL, 0);
    char *ptext = malloc(plen + 1);
    if (ptext) tta_policy_format(pol, ptext, plen + 1);
    serve_buf_puts(&b, "{\"model\": ");
    serve_buf_json_str(&b, base_name(o->model));
    serve_buf_puts(&b, ", \"task\": ");
    serve_buf_json_str(&b, task);
    serve_buf_puts(&b, ", \"policy\": ");
    serve_buf_json_str(&b, ptext ? ptext : "");
    serve_buf_printf(&b, ", \"views\": %d", pol->n_views);
    tta_input_format f;
    if (tta_input_format_from_model(m, &f) == TTA_OK)
        serve_buf_printf(&b, ", \"input\": {\"height\": %d, \"width\": %d, \"channels\": %d}", f.height,
                         f.width, f.batch.channels);
    if (k > 0) {
        serve_buf_printf(&b, ", \"classes\": %d, \"labels\": [", k);
        for (int c = 0; c < k; c++) {
            if (c) serve_buf_puts(&b, ", ");
            if (names && names[c])
                serve_buf_json_str(&b, names[c]);
            else
                serve_buf_puts(&b, "null");
        }
        serve_buf_puts(&b, "]");
    }
    serve_buf_printf(&b, ", \"max_batch\": %d, \"max_wait_ms\": %g, \"queue\": %d", o->max_batch,
                     o->max_wait_ms, o->queue);
    if (o->adaptive_thr >= 0)
        serve_buf_printf(&b, ", \"adaptive_threshold\": %g", o->adaptive_thr);
    else if (o->adaptive_cost > 1)
        serve_buf_printf(&b, ", \"adaptive_cost\": %g", o->adaptive_cost);
    serve_buf_printf(&b, ", \"limits\": {\"max_body\": %zu, \"max_images\": %d, \"max_pixels\": %lld}}\n",
                     o->max_body, o->max_images, o->max_pixels);
    free(ptext);
    return serve_buf_take(&b, NULL);
}

/* Waits for SIGTERM or SIGINT (blocked by the caller in every thread). */
static int wait_signal(void) {
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    int sig = 0;
    while (sigwait(&set, &sig) != 0) {
    }
    return sig;
}

static void sleep_ms(int ms) {
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

int tta_cmd_serve(int argc, char **argv) {
    serve_opts o = {.host = "127.0.0.1",
                    .port = 8080,
                    .http_threads = 2,
                    .max_batch = 8,
                    .max_wait_ms = 5,
                    .max_images = 16,
                    .max_pixels = 4194304,
                    .read_timeout = 30,
                    .idle_timeout = 15,
                    .max_conn = 256,
                    .drain_timeout = 30,
                    .max_body = 8u << 20,
                    .adaptive_thr = -1};
    cli_format fmt = {0};
    det_cli dc;
    seg_cli sc;
    det_cli_init(&dc);
    seg_cli_init(&sc);
    /* the task first: which engine's flags the rest of the command line may hold */
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) return usage(stdout, 0);
        if (!strcmp(argv[i], "--task") && i + 1 < argc) o.task = argv[i + 1];
    }
    if (o.task && strcmp(o.task, "classify") && strcmp(o.task, "detect") && strcmp(o.task, "segment")) {
        fprintf(stderr, "tta: serve: --task: expected classify, detect or segment, got '%s'\n", o.task);
        return 2;
    }
    int merge_given = 0;
    for (int i = 1; i < argc; i++) {
        int r = serve_flag(argc, argv, &i, &o);
        if (r < 0) return 2;
        if (r) continue;
        const char *a = argv[i];
        if (!strcmp(a, "--merge") && i + 1 < argc) merge_given = 1;
        if ((!o.task || !strcmp(o.task, "classify")) && !strcmp(a, "--merge") && i + 1 < argc) {
            o.merge = argv[++i];
            continue;
        }
        if (cli_format_flag(argc, argv, &i, &fmt)) continue;
        if (o.task && !strcmp(o.task, "detect")) {
            int d = det_cli_flag(argc, argv, &i, &dc);
            if (d < 0) return 2;
            if (d) continue;
        }
        if (o.task && !strcmp(o.task, "segment")) {
            int s = seg_cli_flag(argc, argv, &i, &sc);
            if (s < 0) return 2;
            if (s) continue;
        }
        fprintf(stderr, "tta: serve: unknown or incomplete option '%s'%s\n", a,
                !o.task ? " (detector and segmenter options need --task)" : "");
        return usage(stderr, 2);
    }
    if (!o.model || !o.policy) {
        fprintf(stderr, "tta: serve: --model and --policy are required\n");
        return usage(stderr, 2);
    }
    if (!o.queue) o.queue = 4 * o.max_batch;
    if (o.max_images > o.max_batch) o.max_images = o.max_batch; /* a request fits in one batch */

    tta_model *m = NULL;
    tta_classifier *cls = NULL;
    tta_detector *det = NULL;
    tta_segmenter *seg = NULL;
    tta_policy pol = {0};
    serve_task *task = NULL;
    char **names = NULL;
    char *mjson = NULL;
    int k = 0, rc = 1;
    serve_queue q;
    serve_metrics metrics;
    int q_ok = 0, m_ok = 0;
    serve_worker worker = {0};
    serve_http *http = NULL;
    sigset_t sigs, old_sigs;
    sigemptyset(&sigs);
    sigaddset(&sigs, SIGTERM);
    sigaddset(&sigs, SIGINT);

    if (tta_model_load(o.model, cli_model_options(), &m)) {
        cli_fail();
        goto done;
    }
    if (!o.task) {
        const char *t = tta_model_metadata(m, "tta.task");
        o.task = t && !strcmp(t, "detection")      ? "detect"
                 : t && !strcmp(t, "segmentation") ? "segment"
                                                   : "classify";
    }
    int is_cls = !strcmp(o.task, "classify"), is_det = !strcmp(o.task, "detect");
    if (!is_cls && (o.adaptive_cost > 1 || o.adaptive_thr >= 0 || o.merge)) {
        fprintf(stderr,
                "tta: serve: --adaptive-cost, --adaptive-threshold and --merge%s are for --task classify\n",
                is_det ? "" : " (segment: its own --merge)");
        rc = 2;
        goto done;
    }
    tta_input_format f;
    const tta_input_format *fp = NULL;
    if (fmt.layout || fmt.size || fmt.scale || fmt.mean || fmt.std) {
        if (tta_input_format_from_model(m, &f) ||
            tta_input_format_set(&f, fmt.layout, fmt.size, fmt.scale, fmt.mean, fmt.std)) {
            cli_fail();
            goto done;
        }
        fp = &f;
    }
    /* the policy (a detection policy may carry its merge rule), then the metrics, the engine with
     * its model-run batch large enough for a whole batch's views, and the task */
    tta_merge cls_merge = TTA_MERGE_MEAN, seg_merge = sc.merge;
    tta_fuse_options fuse;
    if (is_cls && o.merge && tta_merge_parse(o.merge, &cls_merge)) {
        cli_fail();
        goto done;
    }
    if (is_det ? det_cli_load_policy(o.policy, &pol, &dc, &fuse) : cli_load_policy(o.policy, &pol)) goto done;
    if (!is_cls && !is_det && !merge_given && seg_cli_policy_merge(o.policy, sc.merge, &seg_merge)) goto done;
    if (serve_metrics_init(&metrics, base_name(o.model), o.task, pol.n_views, o.queue)) {
        fprintf(stderr, "tta: serve: cannot make the metrics lock\n");
        goto done;
    }
    m_ok = 1;
    serve_task_config cfg = {
        .model_name = base_name(o.model), .policy = &pol, .metrics = &metrics, .max_batch = o.max_batch};
    if (is_cls) {
        if (cli_classifier_new(&cls, m, &fmt, o.threads, o.max_batch * pol.n_views)) goto done;
        task = serve_task_classify_new(&cfg, cls, cls_merge, NULL, o.adaptive_cost, o.adaptive_thr);
    } else if (is_det) {
        dc.o.n_threads = o.threads;
        if (dc.o.score_thr < 0) dc.o.score_thr = 0.25f; /* as `tta detect predict`: boxes worth showing */
        dc.o.max_batch = o.max_batch * pol.n_views;
        dc.o.format = fp;
        if (tta_detector_new(&det, m, &dc.o)) {
            fprintf(stderr, "tta: %s: %s\n", o.model, tta_last_error());
            goto done;
        }
        task = serve_task_detect_new(&cfg, det, &fuse);
    } else {
        sc.o.n_threads = o.threads;
        sc.o.max_batch = o.max_batch * pol.n_views;
        sc.o.format = fp;
        if (tta_segmenter_new(&seg, m, &sc.o)) {
            fprintf(stderr, "tta: %s: %s\n", o.model, tta_last_error());
            goto done;
        }
        task = serve_task_segment_new(&cfg, seg, seg_merge);
    }
    if (!task) {
        fprintf(stderr, "tta: serve: out of memory\n");
        goto done;
    }
    if (warm_up(task, m)) goto done;
    if (is_cls) { /* again with the class names, now that the class count is known */
        k = tta_classifier_n_classes(cls);
        names = cli_class_names(m, k);
        task->free(task);
        task = serve_task_classify_new(&cfg, cls, cls_merge, (const char *const *)names, o.adaptive_cost,
                                       o.adaptive_thr);
        if (!task) {
            fprintf(stderr, "tta: serve: out of memory\n");
            goto done;
        }
    } else {
        k = is_det ? tta_detector_n_classes(det) : tta_segmenter_n_classes(seg);
    }
    if (!is_cls) { /* the names the engine knows, for /v1/model */
        names = calloc((size_t)(k > 0 ? k : 1), sizeof(char *));
        for (int c = 0; names && c < k; c++) {
            const char *s = is_det ? tta_detector_class_name(det, c) : tta_segmenter_class_name(seg, c);
            names[c] = s ? strdup(s) : NULL;
        }
    }
    mjson = model_json(&o, o.task, &pol, m, (const char *const *)names, k);
    if (serve_queue_init(&q, o.queue)) {
        fprintf(stderr, "tta: serve: cannot make the queue's lock\n");
        goto done;
    }
    q_ok = 1;

    /* every thread made from here on inherits the blocked signals; the main thread takes them */
    signal(SIGPIPE, SIG_IGN);
    pthread_sigmask(SIG_BLOCK, &sigs, &old_sigs);
    worker = (serve_worker){.queue = &q,
                            .task = task,
                            .metrics = &metrics,
                            .max_batch = o.max_batch,
                            .max_wait = o.max_wait_ms / 1000.0};
    if (serve_worker_start(&worker)) {
        fprintf(stderr, "tta: serve: cannot start the worker thread\n");
        goto unblock;
    }
    serve_http_config hc = {.host = o.host,
                            .port = o.port,
                            .threads = o.http_threads,
                            .max_connections = o.max_conn,
                            .max_body = o.max_body,
                            .read_timeout = o.read_timeout,
                            .idle_timeout = o.idle_timeout,
                            .limits = {.max_images = o.max_images, .max_pixels = o.max_pixels},
                            .model_json = mjson};
    char err[256];
    if (serve_http_start(&http, &hc, &q, &metrics, err, sizeof err)) {
        fprintf(stderr, "tta: serve: %s\n", err);
        serve_queue_close(&q);
        serve_worker_join(&worker);
        goto unblock;
    }
    if (!o.quiet) {
        printf("tta serve: %s (%s, %d view%s", base_name(o.model), o.task, pol.n_views,
               pol.n_views > 1 ? "s" : "");
        if (o.adaptive_thr >= 0 && pol.n_views > 1)
            printf(", adaptive below confidence %g", o.adaptive_thr);
        else if (o.adaptive_cost > 1 && pol.n_views > 1)
            printf(", adaptive at %g passes per image", o.adaptive_cost);
        printf(") on http://%s:%d/, batches of up to %d images within %g ms\n", o.host, serve_http_port(http),
               o.max_batch, o.max_wait_ms);
        fflush(stdout);
    }

    int sig = wait_signal();
    if (!o.quiet) {
        fprintf(stderr, "tta serve: %s: draining %d request%s in progress\n",
                sig == SIGINT ? "SIGINT" : "SIGTERM", serve_http_active(http),
                serve_http_active(http) == 1 ? "" : "s");
    }
    serve_http_drain(http);
    for (int waited = 0; serve_http_active(http) > 0 && waited < o.drain_timeout * 1000; waited += 10)
        sleep_ms(10);
    serve_queue_close(&q);
    serve_worker_join(&worker); /* completes whatever is still queued */
    for (int waited = 0; serve_http_active(http) > 0 && waited < 2000; waited += 10)
        sleep_ms(10); /* last sends */
    serve_http_stop(http);
    http = NULL;
    if (!o.quiet) fprintf(stderr, "tta serve: stopped\n");
    rc = 0;
unblock:
    pthread_sigmask(SIG_SETMASK, &old_sigs, NULL);
done:
    if (q_ok) serve_queue_destroy(&q);
    if (task) task->free(task);
    if (m_ok) serve_metrics_destroy(&metrics);
    free(mjson);
    if (names) cli_free_names(names, k > 0 ? k : 1);
    tta_classifier_free(cls);
    tta_detector_free(det);
    tta_segmenter_free(seg);
    tta_policy_destroy(&pol);
    tta_model_free(m);
    return rc;
}
