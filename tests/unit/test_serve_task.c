/* test_serve_task.c - the server's batching worker and classification task without HTTP: a
 * batch that fails as a whole is re-run job by job so that only the bad job gets the error;
 * every job is completed once; tta_classify_view_range gives the rows tta_classify_views gives;
 * the classify task answers each job with its own images' results, in request order, batched
 * with other jobs; adaptive TTA runs the other views only for images below the threshold. */
#include <stdint.h>

#include "serve/response.h"
#include "serve/task.h"
#include "serve/worker.h"
#include "test.h"
#include "tta/classify.h"
#include "tta/tensor.h"

/* ---- the worker with a fake task ------------------------------------------------------------ */

typedef struct fake_task {
    serve_task base;
    int runs, largest;
} fake_task;

/* Fails any batch holding a job of 2 images; answers others {"n": images}. */
static tta_status fake_run(serve_task *t, serve_job **jobs, int n) {
    fake_task *f = (fake_task *)t;
    f->runs++;
    if (n > f->largest) f->largest = n;
    for (int j = 0; j < n; j++)
        if (jobs[j]->n_images == 2) return TTA_ERR_SHAPE;
    for (int j = 0; j < n; j++) {
        serve_buf b = {0};
        serve_buf_printf(&b, "{\"n\": %d}", jobs[j]->n_images);
        jobs[j]->passes = 3 * jobs[j]->n_images;
        serve_job_finish(jobs[j], &b);
    }
    return TTA_OK;
}

static int completions[8];
static void count_done(serve_job *job) { completions[(intptr_t)job->user]++; }

TEST(worker_isolates_a_failing_job) {
    fake_task f = {.base = {.name = "fake", .n_views = 3, .run = fake_run}};
    serve_metrics m;
    CHECK_EQ_INT(serve_metrics_init(&m, "fake", "classify", 3, 8), 0);
    serve_worker w = {.task = &f.base, .metrics = &m, .max_batch = 8};
    serve_job jobs[3] = {{.n_images = 1}, {.n_images = 2}, {.n_images = 1}};
    serve_job *ptrs[3];
    for (int j = 0; j < 3; j++) {
        jobs[j].done = count_done;
        jobs[j].user = (void *)(intptr_t)j;
        ptrs[j] = &jobs[j];
    }
    memset(completions, 0, sizeof completions);
    serve_worker_run_batch(&w, ptrs, 3);
    CHECK_EQ_INT(f.runs, 4); /* the batch, then each job alone */
    CHECK_EQ_INT(jobs[0].status, 200);
    CHECK_EQ_INT(jobs[2].status, 200);
    CHECK_EQ_INT(jobs[1].status, 400); /* a shape error: the input did not fit */
    CHECK(jobs[0].body && !strcmp(jobs[0].body, "{\"n\": 1}"));
    CHECK_STR_CONTAINS(jobs[1].body, "{\"error\": {\"code\": 400, \"message\": \"the model run failed: ");
    for (int j = 0; j < 3; j++)
        CHECK_EQ_INT(completions[j], 1);
    CHECK_EQ_INT(m.errors[SERVE_ERR_MODEL], 1);
    CHECK_EQ_INT(m.batch.count, 1);
    CHECK_NEAR(m.batch.sum, 4, 0);
    CHECK_EQ_INT(m.passes.count, 2); /* the two images answered, 3 passes each */
    CHECK_NEAR(m.passes.sum, 6, 0);
    for (int j = 0; j < 3; j++)
        free(jobs[j].body);
    serve_metrics_destroy(&m);
}

TEST(worker_thread_drains_the_queue_on_close) {
    fake_task f = {.base = {.name = "fake", .n_views = 3, .run = fake_run}};
    serve_queue q;
    CHECK_EQ_INT(serve_queue_init(&q, 8), 0);
    serve_worker w = {.queue = &q, .task = &f.base, .max_batch = 4, .max_wait = 0.001};
    serve_job jobs[5];
    memset(jobs, 0, sizeof jobs);
    memset(completions, 0, sizeof completions);
    for (int j = 0; j < 5; j++) {
        jobs[j].n_images = 1;
        jobs[j].done = count_done;
        jobs[j].user = (void *)(intptr_t)j;
        CHECK_EQ_INT(serve_queue_push(&q, &jobs[j]), SERVE_QUEUE_OK);
    }
    CHECK_EQ_INT(serve_worker_start(&w), 0);
    serve_queue_close(&q); /* the worker still completes what was queued, then ends */
    serve_worker_join(&w);
    for (int j = 0; j < 5; j++) {
        CHECK_EQ_INT(completions[j], 1);
        CHECK_EQ_INT(jobs[j].status, 200);
        free(jobs[j].body);
    }
    CHECK(f.largest <= 4);
    serve_queue_destroy(&q);
}

/* ---- the classify task with a callback model --------------------------------------------- */

/* 2 classes on 1 x 4 gray images (NCHW float in [0, 1]): p(class 1) = the mean of the left
 * half, so the identity and its mirror differ for lopsided images. Softmax output. */
static int model_calls, model_items;
static tta_status half_model(void *user, const tta_tensor *in, tta_tensor *out) {
    (void)user;
    int64_t b = in->dims[0], dims[2] = {b, 2};
    model_calls++;
    model_items += (int)b;
    tta_status st = tta_tensor_resize(out, TTA_DTYPE_FLOAT32, 2, dims);
    if (st) return st;
    const float *x = in->data;
    float *o = out->data;
    for (int64_t i = 0; i < b; i++) {
        float p = 0.5f * (x[i * 4] + x[i * 4 + 1]);
        p = p < 0.01f ? 0.01f : p > 0.99f ? 0.99f : p;
        o[i * 2] = 1 - p;
        o[i * 2 + 1] = p;
    }
    return TTA_OK;
}

static tta_classifier *half_classifier(void) {
    tta_input_format f = {{TTA_LAYOUT_NCHW, TTA_DTYPE_FLOAT32, 1, 1.0f, {0}, {1, 1, 1, 1}}, 1, 4};
    tta_classifier_options o = {.max_batch = 64, .activation = TTA_ACT_SOFTMAX};
    tta_classifier *c = NULL;
    CHECK(tta_classifier_new_callback(&c, half_model, NULL, 2, &f, &o) == TTA_OK);
    return c;
}

TEST(classify_view_range_matches_views) {
    tta_classifier *c = half_classifier();
    tta_policy pol;
    CHECK(tta_policy_parse(&pol, "hflip; vflip", NULL) == TTA_OK);
    uint8_t px[2][4] = {{255, 200, 0, 10}, {0, 50, 255, 255}};
    tta_image imgs[2];
    memset(imgs, 0, sizeof imgs);
    for (int i = 0; i < 2; i++)
        tta_image_wrap(&imgs[i], 1, 4, 1, TTA_DTYPE_UINT8, px[i]);
    float all[2 * 3 * 2], rest[2 * 2 * 2], first[2 * 2];
    CHECK(tta_classify_views(c, &pol, imgs, 2, all, NULL) == TTA_OK);
    CHECK(tta_classify_view_range(c, &pol, imgs, 2, 1, 2, rest) == TTA_OK);
    CHECK(tta_classify_view_range(c, &pol, imgs, 2, 0, 1, first) == TTA_OK);
    for (int i = 0; i < 2; i++)
        for (int x = 0; x < 2; x++) {
            CHECK_NEAR(first[i * 2 + x], all[(i * 3 + 0) * 2 + x], 0);
            for (int v = 1; v < 3; v++)
                CHECK_NEAR(rest[(i * 2 + v - 1) * 2 + x], all[(i * 3 + v) * 2 + x], 0);
        }
    CHECK(tta_classify_view_range(c, &pol, imgs, 2, 2, 2, rest) == TTA_ERR_INVALID_ARG); /* past the end */
    CHECK(tta_classify_view_range(c, &pol, imgs, 2, 0, 0, rest) == TTA_ERR_INVALID_ARG);
    tta_policy_destroy(&pol);
    tta_classifier_free(c);
}

static serve_job make_job(uint8_t (*px)[4], int n) {
    serve_job j = {0};
    j.images = calloc((size_t)n, sizeof(tta_image));
    for (int i = 0; i < n; i++) {
        tta_image_init(&j.images[i], 1, 4, 1, TTA_DTYPE_UINT8);
        memcpy(j.images[i].data, px[i], 4);
    }
    j.n_images = n;
    serve_params_default(&j.params);
    return j;
}

TEST(classify_task_batches_jobs_in_request_order) {
    tta_classifier *c = half_classifier();
    tta_policy pol;
    CHECK(tta_policy_parse(&pol, "hflip", NULL) == TTA_OK);
    const char *names[2] = {"left-dark", "left-bright"};
    serve_task_config cfg = {.model_name = "half", .policy = &pol};
    serve_task *t = serve_task_classify_new(&cfg, c, TTA_MERGE_MEAN, names, 0, -1);
    CHECK(t != NULL);
    uint8_t a[2][4] = {{255, 255, 0, 0}, {0, 0, 255, 255}}, b[1][4] = {{255, 255, 255, 255}};
    serve_job ja = make_job(a, 2), jb = make_job(b, 1);
    serve_job *jobs[2] = {&ja, &jb};
    model_calls = model_items = 0;
    CHECK(t->run(t, jobs, 2) == TTA_OK);
    CHECK_EQ_INT(model_calls, 1); /* 3 images x 2 views in one forward pass, */
    CHECK_EQ_INT(model_items, 8); /* padded to 4 images (serve_pad_batch) */
    CHECK_EQ_INT(ja.status, 200);
    CHECK_EQ_INT(ja.passes, 4);
    CHECK_EQ_INT(jb.passes, 2);
    /* image a0: identity p1 = 0.99, mirror 0.01: mean 0.5 each, class 0 on the tie */
    CHECK_STR_CONTAINS(ja.body,
                       "\"results\": [{\"class\": 0, \"label\": \"left-dark\", \"probability\": 0.5,");
    CHECK_STR_CONTAINS(ja.body, "\"agreement\": 0.5");
    CHECK_STR_CONTAINS(jb.body,
                       "\"results\": [{\"class\": 1, \"label\": \"left-bright\", \"probability\": 0.99,");
    CHECK_STR_CONTAINS(jb.body, "\"agreement\": 1, \"views_agreeing\": 2, \"passes\": 2}]}");
    free(ja.body), free(jb.body);
    serve_job_free_images(&ja), serve_job_free_images(&jb);
    t->free(t);
    tta_policy_destroy(&pol);
    tta_classifier_free(c);
}

TEST(classify_task_adaptive_runs_extra_views_for_unsure_images_only) {
    tta_classifier *c = half_classifier();
    tta_policy pol;
    CHECK(tta_policy_parse(&pol, "hflip; vflip; rot90(1)", NULL) == TTA_OK);
    serve_metrics m;
    CHECK_EQ_INT(serve_metrics_init(&m, "half", "classify", 4, 8), 0);
    serve_task_config cfg = {.model_name = "half", .policy = &pol, .metrics = &m, .max_batch = 8};
    /* fixed threshold 0.9: confident (p 0.99) images get the identity alone */
    serve_task *t = serve_task_classify_new(&cfg, c, TTA_MERGE_MEAN, NULL, 2, 0.9);
    CHECK(m.adaptive == 1);
    uint8_t px[3][4] = {{255, 255, 0, 0}, {128, 140, 0, 0}, {0, 0, 0, 0}};
    serve_job j = make_job(px, 3);
    serve_job *jobs[1] = {&j};
    model_calls = model_items = 0;
    CHECK(t->run(t, jobs, 1) == TTA_OK);
    CHECK_EQ_INT(model_calls, 2);     /* the identity of all, then the rest of the unsure one */
    CHECK_EQ_INT(model_items, 4 + 3); /* 3 identities (padded to 4) + 3 other views of image 1 */
    CHECK_EQ_INT(j.passes, 1 + 4 + 1);
    CHECK_STR_CONTAINS(j.body, "\"passes\": 1, \"identity_confidence\": 0.99}");
    CHECK_STR_CONTAINS(j.body, "\"passes\": 4, \"identity_confidence\": 0.52549");
    CHECK_NEAR(m.threshold, 0.9, 0);
    free(j.body);
    serve_job_free_images(&j);
    t->free(t);
    /* online threshold for a mean of 2 passes of 4: a third of the images get the extra views */
    t = serve_task_classify_new(&cfg, c, TTA_MERGE_MEAN, NULL, 2, -1);
    uint8_t many[6][4] = {{255, 255, 0, 0}, {0, 0, 0, 0}, {128, 128, 0, 0},
                          {250, 250, 0, 0}, {5, 5, 0, 0}, {120, 130, 0, 0}};
    serve_job k = make_job(many, 6);
    jobs[0] = &k;
    CHECK(t->run(t, jobs, 1) == TTA_OK);
    CHECK_EQ_INT(k.passes, 4 * 1 + 2 * 4); /* 4 sure images x 1 pass + 2 unsure x 4 */
    free(k.body);
    serve_job_free_images(&k);
    t->free(t);
    serve_metrics_destroy(&m);
    tta_policy_destroy(&pol);
    tta_classifier_free(c);
}

TEST(pad_batch_to_few_shapes) {
    uint8_t px[4] = {0};
    tta_image imgs[16], other;
    memset(imgs, 0, sizeof imgs);
    for (int i = 0; i < 8; i++)
        tta_image_wrap(&imgs[i], 1, 4, 1, TTA_DTYPE_UINT8, px);
    CHECK_EQ_INT(serve_pad_batch(imgs, 1, 8), 1);
    CHECK_EQ_INT(serve_pad_batch(imgs, 3, 8), 4);
    CHECK(imgs[3].data == imgs[2].data && imgs[3].width == 4); /* the last image repeated */
    CHECK_EQ_INT(serve_pad_batch(imgs, 5, 8), 8);
    CHECK_EQ_INT(serve_pad_batch(imgs, 5, 6), 6); /* capped at the largest batch */
    CHECK_EQ_INT(serve_pad_batch(imgs, 5, 0), 8);
    memset(&other, 0, sizeof other);
    tta_image_wrap(&other, 2, 4, 1, TTA_DTYPE_UINT8, px);
    imgs[1] = other;
    CHECK_EQ_INT(serve_pad_batch(imgs, 3, 8), 3); /* two sizes: left alone */
}
