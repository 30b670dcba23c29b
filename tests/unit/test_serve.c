/* test_serve.c - the server's pure pieces: base64 (RFC 4648 vectors and refusals), the bounded
 * queue (FIFO, capacity, batch take by images, the wait after the oldest job, close), the
 * metrics page (exact text for a hand-made set of observations), JSON responses (exact text),
 * and request validation (raw and JSON bodies, limits, malformed input). The HTTP front end
 * itself is tested end to end by tests/cli/test_serve.sh. */
#include <pthread.h>
#include <stdint.h>
#include <time.h>
#include <unistd.h>

#include "serve/base64.h"
#include "serve/buf.h"
#include "serve/metrics.h"
#include "serve/queue.h"
#include "serve/request.h"
#include "serve/response.h"
#include "test.h"
#include "tta/image.h"
#include "tta/tensor.h"

/* ---- base64 ------------------------------------------------------------------------------ */

static const char *const b64_plain[] = {"", "f", "fo", "foo", "foob", "fooba", "foobar"};
static const char *const b64_text[] = {"", "Zg==", "Zm8=", "Zm9v", "Zm9vYg==", "Zm9vYmE=", "Zm9vYmFy"};

static int decode_str(const char *in, char *out, size_t *n, char *why) {
    int rc = serve_base64_decode(in, strlen(in), (unsigned char *)out, n, why, 160);
    if (!rc) out[*n] = '\0';
    return rc;
}

TEST(base64_rfc4648_vectors) {
    for (int i = 0; i < 7; i++) {
        char enc[32], dec[32], why[160];
        size_t n = 99;
        CHECK_EQ_INT(serve_base64_encode((const unsigned char *)b64_plain[i], strlen(b64_plain[i]), enc),
                     strlen(b64_text[i]));
        CHECK(!strcmp(enc, b64_text[i]));
        CHECK_EQ_INT(serve_base64_encoded_len(strlen(b64_plain[i])), strlen(b64_text[i]));
        CHECK_EQ_INT(decode_str(b64_text[i], dec, &n, why), 0);
        CHECK_EQ_INT(n, strlen(b64_plain[i]));
        CHECK(!strcmp(dec, b64_plain[i]));
        CHECK(serve_base64_decoded_max(strlen(b64_text[i])) >= n);
    }
}

TEST(base64_unpadded_and_whitespace) {
    char dec[32], why[160];
    size_t n;
    CHECK_EQ_INT(decode_str("Zm9vYg", dec, &n, why), 0);
    CHECK(!strcmp(dec, "foob"));
    CHECK_EQ_INT(decode_str("Zm9vYmE", dec, &n, why), 0);
    CHECK(!strcmp(dec, "fooba"));
    CHECK_EQ_INT(decode_str(" Zm9v\r\nYmFy\n", dec, &n, why), 0); /* MIME line breaks */
    CHECK(!strcmp(dec, "foobar"));
    /* all 256 byte values survive a round trip */
    unsigned char all[256], back[300];
    char enc[400];
    for (int i = 0; i < 256; i++)
        all[i] = (unsigned char)i;
    serve_base64_encode(all, 256, enc);
    CHECK_EQ_INT(serve_base64_decode(enc, strlen(enc), back, &n, why, sizeof why), 0);
    CHECK_EQ_INT(n, 256);
    CHECK(!memcmp(all, back, 256));
}

TEST(base64_refusals) {
    char dec[64], why[160];
    size_t n;
    CHECK(decode_str("Zm9v!", dec, &n, why) != 0);
    CHECK_STR_CONTAINS(why, "invalid base64 character 0x21 at offset 4");
    CHECK(decode_str("Zm9-", dec, &n, why) != 0); /* base64url's alphabet is not accepted */
    CHECK(decode_str("Zg==Zg==", dec, &n, why) != 0);
    CHECK_STR_CONTAINS(why, "after '=' padding");
    CHECK(decode_str("=Zg", dec, &n, why) != 0);
    CHECK(decode_str("Z===", dec, &n, why) != 0);
    CHECK(decode_str("Zg=", dec, &n, why) != 0);
    CHECK_STR_CONTAINS(why, "padding");
    CHECK(decode_str("Zm9vY", dec, &n, why) != 0); /* 1 mod 4: a lone character */
    CHECK_STR_CONTAINS(why, "lone character");
    CHECK(decode_str("Zh==", dec, &n, why) != 0); /* 'f' is Zg: h leaves unused bits set */
    CHECK_STR_CONTAINS(why, "non-zero unused bits");
    CHECK(decode_str("Zm9=", dec, &n, why) != 0);
}

/* ---- queue -------------------------------------------------------------------------------- */

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

TEST(queue_bounded_fifo) {
    serve_queue q;
    CHECK_EQ_INT(serve_queue_init(&q, 3), 0);
    serve_job j[5];
    memset(j, 0, sizeof j);
    for (int i = 0; i < 5; i++)
        j[i].n_images = 1;
    CHECK_EQ_INT(serve_queue_push(&q, &j[0]), SERVE_QUEUE_OK);
    CHECK_EQ_INT(serve_queue_push(&q, &j[1]), SERVE_QUEUE_OK);
    CHECK_EQ_INT(serve_queue_push(&q, &j[2]), SERVE_QUEUE_OK);
    CHECK_EQ_INT(serve_queue_push(&q, &j[3]), SERVE_QUEUE_FULL); /* refuses, does not grow */
    CHECK_EQ_INT(serve_queue_depth(&q), 3);
    CHECK(j[0].t_enqueued > 0 && j[0].t_enqueued <= j[2].t_enqueued);
    serve_job *got[8];
    CHECK_EQ_INT(serve_queue_take(&q, got, 8, 2, 10.0), 2); /* two images' worth, at once: enough queued */
    CHECK(got[0] == &j[0] && got[1] == &j[1]);
    CHECK_EQ_INT(serve_queue_push(&q, &j[3]), SERVE_QUEUE_OK); /* room again */
    serve_queue_close(&q); /* from here on no take blocks, even if one above took too much */
    CHECK_EQ_INT(serve_queue_take(&q, got, 1, 100, 0.0), 1); /* max_jobs caps it */
    CHECK(got[0] == &j[2]);
    CHECK_EQ_INT(serve_queue_take(&q, got, 8, 100, 0.0), 1);
    CHECK(got[0] == &j[3]);
    CHECK_EQ_INT(serve_queue_depth(&q), 0);
    serve_queue_destroy(&q);
}

TEST(queue_take_by_images) {
    serve_queue q;
    CHECK_EQ_INT(serve_queue_init(&q, 8), 0);
    serve_job a = {.n_images = 3}, b = {.n_images = 2}, c = {.n_images = 1}, big = {.n_images = 9};
    serve_queue_push(&q, &a);
    serve_queue_push(&q, &b);
    serve_queue_push(&q, &c);
    serve_job *got[8];
    /* 3 + 2 = 5 fit in 5; c would make 6: left for the next batch (FIFO: no skipping ahead) */
    CHECK_EQ_INT(serve_queue_take(&q, got, 8, 5, 0.0), 2);
    CHECK(got[0] == &a && got[1] == &b);
    serve_queue_push(&q, &big);
    serve_queue_close(&q); /* no take below blocks, whatever the ones above took */
    CHECK_EQ_INT(serve_queue_take(&q, got, 8, 5, 0.0), 1);
    CHECK(got[0] == &c);
    CHECK_EQ_INT(serve_queue_take(&q, got, 8, 5, 0.0), 1); /* larger than a batch: taken alone */
    CHECK(got[0] == &big);
    serve_queue_destroy(&q);
}

TEST(queue_waits_after_oldest_then_takes_what_there_is) {
    serve_queue q;
    CHECK_EQ_INT(serve_queue_init(&q, 8), 0);
    serve_job a = {.n_images = 1};
    serve_queue_push(&q, &a);
    serve_job *got[8];
    double t0 = now_s();
    CHECK_EQ_INT(serve_queue_take(&q, got, 8, 4, 0.05), 1); /* only one arrives within the wait */
    CHECK(now_s() - t0 < 30);
    CHECK(got[0] == &a);
    serve_queue_destroy(&q);
}

typedef struct pusher {
    serve_queue *q;
    serve_job *jobs;
    int n;
} pusher;

static void *push_later(void *arg) {
    pusher *p = arg;
    for (int i = 0; i < p->n; i++) {
        usleep(2000);
        serve_queue_push(p->q, &p->jobs[i]);
    }
    return NULL;
}

TEST(queue_full_batch_ends_the_wait) {
    serve_queue q;
    CHECK_EQ_INT(serve_queue_init(&q, 8), 0);
    serve_job j[4];
    memset(j, 0, sizeof j);
    for (int i = 0; i < 4; i++)
        j[i].n_images = 1;
    pusher p = {&q, j, 4};
    pthread_t th;
    pthread_create(&th, NULL, push_later, &p);
    serve_job *got[8];
    double t0 = now_s();
    /* a wait of 60 s: the batch of 4 images (pushed 2 ms apart) completes long before it, and the
     * take returns then */
    int n = serve_queue_take(&q, got, 8, 4, 60.0);
    CHECK_EQ_INT(n, 4); /* one take: it waited for the pushes to fill the batch */
    pthread_join(th, NULL);
    serve_queue_close(&q); /* the takes below return what is left, never block */
    for (int more = 1; n < 4 && more;)
        n += more = serve_queue_take(&q, got + n, 8 - n, 4 - n, 0.0);
    CHECK_EQ_INT(n, 4);
    CHECK(now_s() - t0 < 30);
    for (int i = 0; i < 4; i++)
        CHECK(got[i] == &j[i]);
    serve_queue_destroy(&q);
}

TEST(queue_close_drains_then_ends) {
    serve_queue q;
    CHECK_EQ_INT(serve_queue_init(&q, 4), 0);
    serve_job a = {.n_images = 1}, b = {.n_images = 1};
    serve_queue_push(&q, &a);
    serve_queue_close(&q);
    CHECK_EQ_INT(serve_queue_push(&q, &b), SERVE_QUEUE_CLOSED);
    serve_job *got[4];
    double t0 = now_s();
    CHECK_EQ_INT(serve_queue_take(&q, got, 4, 8, 60.0), 1); /* closed: no waiting for more */
    CHECK(now_s() - t0 < 30);
    CHECK(got[0] == &a);
    CHECK_EQ_INT(serve_queue_take(&q, got, 4, 8, 60.0), 0);
    serve_queue_destroy(&q);
}

/* ---- metrics ------------------------------------------------------------------------------ */

TEST(metrics_text_exact) {
    serve_metrics m;
    CHECK_EQ_INT(serve_metrics_init(&m, "m \"x\".onnx", "classify", 4, 32), 0);
    serve_metrics_request(&m, "/v1/predict", 200, 0.003);  /* le 0.005 */
    serve_metrics_request(&m, "/v1/predict", 200, 0.2);    /* le 0.25 */
    serve_metrics_request(&m, "/healthz", 200, -1);        /* no latency */
    serve_metrics_request(&m, "/v1/predict", 400, 0.0005); /* le 0.001 */
    serve_metrics_request(&m, "/weird", 404, -1);          /* "other" */
    serve_metrics_error(&m, SERVE_ERR_BAD_REQUEST);
    serve_metrics_error(&m, SERVE_ERR_NOT_FOUND);
    int p[3] = {1, 4, 4};
    serve_metrics_batch(&m, 3, p, 3);
    serve_metrics_queue(&m, 2);
    serve_metrics_in_flight(&m, 1);
    serve_buf b = {0};
    serve_metrics_format(&m, &b);
    const char *want = "# HELP tta_model_info The model served: file, task and views of the TTA policy.\n"
                       "# TYPE tta_model_info gauge\n"
                       "tta_model_info{model=\"m \\\"x\\\".onnx\",task=\"classify\",views=\"4\"} 1\n"
                       "# HELP tta_requests_total HTTP requests answered, by path and status code.\n"
                       "# TYPE tta_requests_total counter\n"
                       "tta_requests_total{path=\"/healthz\",code=\"200\"} 1\n"
                       "tta_requests_total{path=\"/v1/predict\",code=\"200\"} 2\n"
                       "tta_requests_total{path=\"/v1/predict\",code=\"400\"} 1\n"
                       "tta_requests_total{path=\"other\",code=\"404\"} 1\n"
                       "# HELP tta_errors_total Requests refused or failed, by kind.\n"
                       "# TYPE tta_errors_total counter\n"
                       "tta_errors_total{kind=\"bad_request\"} 1\n"
                       "tta_errors_total{kind=\"too_large\"} 0\n"
                       "tta_errors_total{kind=\"media_type\"} 0\n"
                       "tta_errors_total{kind=\"not_found\"} 1\n"
                       "tta_errors_total{kind=\"queue_full\"} 0\n"
                       "tta_errors_total{kind=\"shutting_down\"} 0\n"
                       "tta_errors_total{kind=\"read_timeout\"} 0\n"
                       "tta_errors_total{kind=\"model\"} 0\n"
                       "# HELP tta_request_duration_seconds Time from the start of a /v1/predict request to "
                       "its response, queueing and batching included.\n"
                       "# TYPE tta_request_duration_seconds histogram\n"
                       "tta_request_duration_seconds_bucket{le=\"0.001\"} 1\n"
                       "tta_request_duration_seconds_bucket{le=\"0.0025\"} 1\n"
                       "tta_request_duration_seconds_bucket{le=\"0.005\"} 2\n"
                       "tta_request_duration_seconds_bucket{le=\"0.01\"} 2\n"
                       "tta_request_duration_seconds_bucket{le=\"0.025\"} 2\n"
                       "tta_request_duration_seconds_bucket{le=\"0.05\"} 2\n"
                       "tta_request_duration_seconds_bucket{le=\"0.1\"} 2\n"
                       "tta_request_duration_seconds_bucket{le=\"0.25\"} 3\n"
                       "tta_request_duration_seconds_bucket{le=\"0.5\"} 3\n"
                       "tta_request_duration_seconds_bucket{le=\"1\"} 3\n"
                       "tta_request_duration_seconds_bucket{le=\"2.5\"} 3\n"
                       "tta_request_duration_seconds_bucket{le=\"5\"} 3\n"
                       "tta_request_duration_seconds_bucket{le=\"10\"} 3\n"
                       "tta_request_duration_seconds_bucket{le=\"+Inf\"} 3\n"
                       "tta_request_duration_seconds_sum 0.2035\n"
                       "tta_request_duration_seconds_count 3\n"
                       "# HELP tta_batch_size Images per batch run through the model together.\n"
                       "# TYPE tta_batch_size histogram\n"
                       "tta_batch_size_bucket{le=\"1\"} 0\n"
                       "tta_batch_size_bucket{le=\"2\"} 0\n"
                       "tta_batch_size_bucket{le=\"4\"} 1\n"
                       "tta_batch_size_bucket{le=\"8\"} 1\n"
                       "tta_batch_size_bucket{le=\"16\"} 1\n"
                       "tta_batch_size_bucket{le=\"32\"} 1\n"
                       "tta_batch_size_bucket{le=\"64\"} 1\n"
                       "tta_batch_size_bucket{le=\"128\"} 1\n"
                       "tta_batch_size_bucket{le=\"256\"} 1\n"
                       "tta_batch_size_bucket{le=\"+Inf\"} 1\n"
                       "tta_batch_size_sum 3\n"
                       "tta_batch_size_count 1\n"
                       "# HELP tta_passes_per_image Forward passes (views) run per image; adaptive TTA runs "
                       "the other views only for unsure images.\n"
                       "# TYPE tta_passes_per_image histogram\n"
                       "tta_passes_per_image_bucket{le=\"1\"} 1\n"
                       "tta_passes_per_image_bucket{le=\"2\"} 1\n"
                       "tta_passes_per_image_bucket{le=\"3\"} 1\n"
                       "tta_passes_per_image_bucket{le=\"4\"} 3\n"
                       "tta_passes_per_image_bucket{le=\"6\"} 3\n"
                       "tta_passes_per_image_bucket{le=\"8\"} 3\n"
                       "tta_passes_per_image_bucket{le=\"12\"} 3\n"
                       "tta_passes_per_image_bucket{le=\"16\"} 3\n"
                       "tta_passes_per_image_bucket{le=\"32\"} 3\n"
                       "tta_passes_per_image_bucket{le=\"+Inf\"} 3\n"
                       "tta_passes_per_image_sum 9\n"
                       "tta_passes_per_image_count 3\n"
                       "# HELP tta_batches_total Batches run.\n"
                       "# TYPE tta_batches_total counter\n"
                       "tta_batches_total 1\n"
                       "# HELP tta_queue_depth Requests waiting for the batching worker.\n"
                       "# TYPE tta_queue_depth gauge\n"
                       "tta_queue_depth 2\n"
                       "# HELP tta_queue_capacity Requests the queue holds before answering 503.\n"
                       "# TYPE tta_queue_capacity gauge\n"
                       "tta_queue_capacity 32\n"
                       "# HELP tta_requests_in_flight Requests being read, queued, run or answered.\n"
                       "# TYPE tta_requests_in_flight gauge\n"
                       "tta_requests_in_flight 1\n";
    CHECK(b.data && !strcmp(b.data, want));
    if (b.data && strcmp(b.data, want)) fprintf(stderr, "got:\n%s", b.data);
    serve_buf_free(&b);
    serve_metrics_destroy(&m);
}

TEST(metrics_adaptive_and_overflowing_series) {
    serve_metrics m;
    CHECK_EQ_INT(serve_metrics_init(&m, "x", "classify", 4, 8), 0);
    m.adaptive = 1;
    m.target_cost = 1.5;
    serve_metrics_threshold(&m, 0.875);
    for (int code = 100; code < 100 + SERVE_REQ_SLOTS + 5; code++)
        serve_metrics_request(&m, "/v1/predict", code, -1);
    serve_buf b = {0};
    serve_metrics_format(&m, &b);
    CHECK_STR_CONTAINS(b.data, "# TYPE tta_adaptive_threshold gauge\ntta_adaptive_threshold 0.875\n");
    CHECK_STR_CONTAINS(b.data, "tta_adaptive_target_passes 1.5\n");
    /* the slots ran out: the rest are counted under code 0, nothing is lost or overwritten */
    CHECK_STR_CONTAINS(b.data, "tta_requests_total{path=\"/v1/predict\",code=\"0\"} 6\n");
    CHECK_STR_CONTAINS(b.data, "tta_requests_total{path=\"/v1/predict\",code=\"146\"} 1\n");
    serve_buf_free(&b);
    serve_metrics_destroy(&m);
}

/* ---- JSON responses ----------------------------------------------------------------------- */

TEST(json_error_escapes) {
    serve_buf b = {0};
    serve_json_error(&b, 400, "image: \"bad\"\\ \n\x01 end");
    CHECK(!strcmp(b.data,
                  "{\"error\": {\"code\": 400, \"message\": \"image: \\\"bad\\\"\\\\ \\n\\u0001 end\"}}\n"));
    serve_buf_free(&b);
}

TEST(json_classify_exact) {
    const float probs[4] = {0.1f, 0.6f, 0.25f, 0.05f};
    const char *names[4] = {"cat", "dog", NULL, "eel"};
    serve_class_result r = {.k = 4,
                            .probs = probs,
                            .names = names,
                            .top = 3,
                            .entropy = 1.0,
                            .agree = 3,
                            .n_views = 4,
                            .confidence = -1};
    serve_buf b = {0};
    serve_json_begin(&b, "net.onnx", "classify");
    serve_json_classify(&b, &r);
    serve_json_next(&b);
    r.top = 1;
    r.names = NULL;
    r.confidence = 0.5;
    r.n_views = 1;
    r.agree = 1;
    serve_json_classify(&b, &r);
    serve_json_end(&b);
    const char *want =
        "{\"model\": \"net.onnx\", \"task\": \"classify\", \"results\": ["
        "{\"class\": 1, \"label\": \"dog\", \"probability\": 0.6, \"top\": [{\"class\": 1, \"label\": "
        "\"dog\", "
        "\"probability\": 0.6}, {\"class\": 2, \"probability\": 0.25}, {\"class\": 0, \"label\": \"cat\", "
        "\"probability\": 0.1}], \"entropy\": 1, \"agreement\": 0.75, \"views_agreeing\": 3, \"passes\": 4}, "
        "{\"class\": 1, \"probability\": 0.6, \"top\": [{\"class\": 1, \"probability\": 0.6}], \"entropy\": "
        "1, "
        "\"agreement\": 1, \"views_agreeing\": 1, \"passes\": 1, \"identity_confidence\": 0.5}]}\n";
    CHECK(!strcmp(b.data, want));
    if (strcmp(b.data, want)) fprintf(stderr, "got:  %s\nwant: %s", b.data, want);
    serve_buf_free(&b);
}

TEST(json_detect_exact) {
    tta_box boxes[3] = {
        {1, 2, 10.5f, 20, 0.9f, 1, 0, 2}, {0, 0, 5, 5, 0.1f, 0, 0, 1}, {3, 3, 4, 4, 0.5f, 7, 1, 1}};
    const char *names[2] = {"a", "b\"q"};
    serve_buf b = {0};
    serve_json_detect(&b, boxes, 3, names, 2, 64, 48, 0.25f, 2);
    const char *want =
        "{\"width\": 64, \"height\": 48, \"passes\": 2, \"boxes\": ["
        "{\"box\": [1, 2, 10.5, 20], \"score\": 0.9, \"class\": 1, \"label\": \"b\\\"q\", "
        "\"support\": 2}, {\"box\": [3, 3, 4, 4], \"score\": 0.5, \"class\": 7, \"support\": 1}]}";
    CHECK(!strcmp(b.data, want));
    if (strcmp(b.data, want)) fprintf(stderr, "got:  %s\nwant: %s\n", b.data, want);
    serve_buf_free(&b);
}

TEST(json_segment_exact_and_nonfinite) {
    const int64_t counts[3] = {10, 0, 6};
    const char *names[3] = {"background", "x", "y"};
    serve_seg_result r = {.width = 4,
                          .height = 4,
                          .classes = 3,
                          .passes = 2,
                          .names = names,
                          .class_pixels = counts,
                          .uncertainty = 0.125,
                          .disagreement = NAN,
                          .mask_png = "QUJD"};
    serve_buf b = {0};
    serve_json_segment(&b, &r);
    const char *want = "{\"width\": 4, \"height\": 4, \"classes\": 3, \"passes\": 2, \"uncertainty\": 0.125, "
                       "\"disagreement\": null, \"class_pixels\": {\"background\": 10, \"y\": 6}, "
                       "\"mask_png\": \"QUJD\"}";
    CHECK(!strcmp(b.data, want));
    if (strcmp(b.data, want)) fprintf(stderr, "got:  %s\nwant: %s\n", b.data, want);
    serve_buf_free(&b);
}

/* ---- request validation ----------------------------------------------------------------------- */

/* A PNG of h x w gray pixels in memory (tta_malloc'd). */
static void *make_png(int h, int w, size_t *size) {
    tta_image img = {0};
    tta_image_init(&img, h, w, 1, TTA_DTYPE_UINT8);
    for (size_t i = 0; i < tta_image_nbytes(&img); i++)
        ((uint8_t *)img.data)[i] = (uint8_t)(i * 7);
    void *png = NULL;
    CHECK(tta_image_encode_png(&img, &png, size) == TTA_OK);
    tta_image_destroy(&img);
    return png;
}

static char *json_of(const char *fmt, const void *png, size_t size) {
    char *b64 = malloc(serve_base64_encoded_len(size) + 1);
    serve_base64_encode(png, size, b64);
    size_t n = strlen(fmt) + 3 * strlen(b64) + 1;
    char *out = malloc(n);
    snprintf(out, n, fmt, b64, b64, b64);
    free(b64);
    return out;
}

static int parse(const void *body, size_t n, const char *ct, serve_params *p, tta_image **imgs, int *count,
                 char *msg) {
    serve_limits lim = {.max_images = 2, .max_pixels = 64 * 64};
    return serve_request_parse(body, n, ct, &lim, p, imgs, count, msg, 256);
}

static void free_images(tta_image *imgs, int n) {
    serve_job j = {.images = imgs, .n_images = n};
    serve_job_free_images(&j);
}

TEST(request_raw_png_and_jpeg) {
    size_t size;
    void *png = make_png(5, 7, &size);
    serve_params p;
    serve_params_default(&p);
    tta_image *imgs = NULL;
    int n = 0;
    char msg[256];
    CHECK_EQ_INT(parse(png, size, "image/png", &p, &imgs, &n, msg), 0);
    CHECK_EQ_INT(n, 1);
    CHECK(imgs && imgs[0].height == 5 && imgs[0].width == 7 && imgs[0].channels == 1);
    free_images(imgs, n);
    /* curl's default form content type: the bytes decide */
    CHECK_EQ_INT(parse(png, size, "application/x-www-form-urlencoded", &p, &imgs, &n, msg), 0);
    free_images(imgs, n);
    int64_t w = 0, h = 0;
    CHECK_EQ_INT(serve_image_size(png, size, &w, &h), 0);
    CHECK(w == 7 && h == 5);
    tta_free(png);
    FILE *f = fopen("tests/data/datasets/folder/bird/x.jpg", "rb");
    CHECK(f != NULL);
    if (f) {
        unsigned char jpg[65536];
        size_t jn = fread(jpg, 1, sizeof jpg, f);
        fclose(f);
        CHECK_EQ_INT(serve_image_size(jpg, jn, &w, &h), 0);
        CHECK(w == 16 && h == 8);
        CHECK_EQ_INT(parse(jpg, jn, NULL, &p, &imgs, &n, msg), 0);
        CHECK(n == 1 && imgs[0].width == 16 && imgs[0].height == 8);
        free_images(imgs, n);
        CHECK(serve_image_size(jpg, 20, &w, &h) != 0); /* header cut before the frame */
    }
}

TEST(request_malformed_bodies) {
    size_t size;
    void *png = make_png(5, 7, &size);
    serve_params p;
    serve_params_default(&p);
    tta_image *imgs = NULL;
    int n = 0;
    char msg[256];
    CHECK_EQ_INT(parse("", 0, NULL, &p, &imgs, &n, msg), 400);
    CHECK_STR_CONTAINS(msg, "empty");
    CHECK_EQ_INT(parse("garbage bytes", 13, "image/png", &p, &imgs, &n, msg), 400);
    CHECK_STR_CONTAINS(msg, "not a PNG or JPEG");
    CHECK_EQ_INT(parse(png, 30, "image/png", &p, &imgs, &n, msg), 400); /* header whole, data cut */
    CHECK_STR_CONTAINS(msg, "truncated");
    CHECK_EQ_INT(parse(png, 12, "image/png", &p, &imgs, &n, msg), 400); /* header cut */
    CHECK_EQ_INT(parse(png, size, "multipart/form-data; boundary=x", &p, &imgs, &n, msg), 415);
    CHECK(imgs == NULL && n == 0);
    tta_free(png);
    /* more pixels than the limit, refused from the header before decoding */
    png = make_png(65, 64, &size);
    CHECK_EQ_INT(parse(png, size, NULL, &p, &imgs, &n, msg), 400);
    CHECK_STR_CONTAINS(msg, "64 x 65 pixels is more than the limit of 4096");
    tta_free(png);
    /* a PNG header claiming 100000 x 100000 pixels and nothing after it */
    unsigned char fake[33] = {0x89, 'P', 'N', 'G',  '\r', '\n', 0x1a, '\n', 0,    0, 0, 13, 'I', 'H', 'D',
                              'R',  0,   1,   0x86, 0xa0, 0,    1,    0x86, 0xa0, 8, 0, 0,  0,   0};
    CHECK_EQ_INT(parse(fake, sizeof fake, NULL, &p, &imgs, &n, msg), 400);
    CHECK_STR_CONTAINS(msg, "more than the limit");
    /* 4294967295 x 4294967295: the product would overflow int64 (found by fuzz_serve_request) */
    memset(fake + 16, 0xff, 8);
    CHECK_EQ_INT(parse(fake, sizeof fake, NULL, &p, &imgs, &n, msg), 400);
    CHECK_STR_CONTAINS(msg, "4294967295 x 4294967295 pixels is more than the limit");
}

TEST(request_json_bodies) {
    size_t size;
    void *png = make_png(3, 4, &size);
    serve_params p;
    serve_params_default(&p);
    tta_image *imgs = NULL;
    int n = 0;
    char msg[256];
    char *one = json_of("{\"image\": \"%s\", \"top\": 2, \"min_score\": 0.5, \"maps\": true}", png, size);
    CHECK_EQ_INT(parse(one, strlen(one), "application/json", &p, &imgs, &n, msg), 0);
    CHECK(n == 1 && imgs[0].width == 4 && p.top == 2 && p.min_score == 0.5f && p.maps == 1);
    free_images(imgs, n);
    free(one);
    char *two = json_of(" {\"images\": [\"%s\", \"%s\"]}", png, size);
    serve_params_default(&p);
    CHECK_EQ_INT(parse(two, strlen(two), NULL, &p, &imgs, &n, msg), 0);
    CHECK(n == 2 && p.top == 5);
    free_images(imgs, n);
    free(two);
    char *three = json_of("{\"images\": [\"%s\", \"%s\", \"%s\"]}", png, size);
    CHECK_EQ_INT(parse(three, strlen(three), NULL, &p, &imgs, &n, msg), 400);
    CHECK_STR_CONTAINS(msg, "more than 2 images");
    free(three);
    char *both = json_of("{\"image\": \"%s\", \"images\": [\"%s\"]}", png, size);
    CHECK_EQ_INT(parse(both, strlen(both), NULL, &p, &imgs, &n, msg), 400);
    CHECK_STR_CONTAINS(msg, "not both");
    free(both);
    struct {
        const char *body, *want;
    } bad[] = {
        {"{\"image\": \"Zm9v!\"}", "invalid base64 character"},
        {"{\"image\": \"Zm9v\"}", "not a PNG or JPEG"},
        {"{\"image\": \"\"}", "empty"},
        {"{\"image\": 5}", "expected a base64 string"},
        {"{\"images\": []}", "empty array"},
        {"{\"images\": \"x\"}", "expected an array"},
        {"{\"img\": \"x\"}", "unknown field 'img'"},
        {"{\"image\": \"x\", \"image\": \"y\"}", "malformed JSON"},
        {"{\"image\": \"Zm9v\"", "malformed JSON"},
        {"[1, 2]", "expected a JSON object"},
        {"{}", "no \"image\""},
        {"{\"image\": \"Zm9v\", \"top\": 0}", "top: bad value"},
        {"{\"image\": \"Zm9v\", \"top\": \"3\"}", "expected a number"},
        {"{\"image\": \"Zm9v\", \"min_score\": 2}", "min_score: bad value"},
        {"{\"image\": \"Zm9v\", \"maps\": 1}", "true or false"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        msg[0] = '\0';
        int rc = parse(bad[i].body, strlen(bad[i].body), "application/json", &p, &imgs, &n, msg);
        CHECK_EQ_INT(rc, 400);
        CHECK_STR_CONTAINS(msg, bad[i].want);
    }
    tta_free(png);
}

TEST(request_query_options) {
    serve_params p;
    serve_params_default(&p);
    char msg[256];
    CHECK_EQ_INT(serve_params_set(&p, "top", "3", msg, sizeof msg), 0);
    CHECK_EQ_INT(p.top, 3);
    CHECK_EQ_INT(serve_params_set(&p, "min_score", "0.125", msg, sizeof msg), 0);
    CHECK(p.min_score == 0.125f);
    CHECK_EQ_INT(serve_params_set(&p, "maps", "1", msg, sizeof msg), 0);
    CHECK_EQ_INT(p.maps, 1);
    CHECK_EQ_INT(serve_params_set(&p, "top", "3x", msg, sizeof msg), 400);
    CHECK_EQ_INT(serve_params_set(&p, "top", NULL, msg, sizeof msg), 400);
    CHECK_EQ_INT(serve_params_set(&p, "min_score", "nan", msg, sizeof msg), 400);
    CHECK_EQ_INT(serve_params_set(&p, "colour", "red", msg, sizeof msg), 400);
    CHECK_STR_CONTAINS(msg, "unknown option 'colour'");
    CHECK_EQ_INT(p.top, 3); /* refused values leave it alone */
}
