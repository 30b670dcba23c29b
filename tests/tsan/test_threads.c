/* test_threads.c - one model run from several threads at once, built with ThreadSanitizer by
 * tests/tsan/run.sh (part of `make test`): the loaded model is shared read-only, each thread has
 * its own plan (and its own classifier for the TTA part), and every thread's outputs must equal,
 * bit for bit, those of the same plan run alone beforehand. The thread-safety rules this checks
 * are stated in include/tta/runtime.h and classify.h. Ends "N passed, N failed". */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tta/classify.h"
#include "tta/runtime.h"

#define THREADS 4
#define ROUNDS 3

static tta_model *model;
static tta_tensor input;
static tta_tensor reference;
static float ref_probs[10 * 8];
static tta_image images[8];

typedef struct job {
    int id, ok;
    char msg[256];
} job;

#ifdef SHARED_PLAN
static tta_plan *shared_plan; /* the negative control: one plan run by every thread, a race */
#endif

static void *worker(void *arg) {
    job *j = arg;
    j->ok = 1;
    for (int r = 0; r < ROUNDS && j->ok; r++) {
        /* the runtime: a plan of its own on the shared model */
        tta_plan_options po = {.n_threads = 1};
        tta_plan *plan = NULL;
#ifdef SHARED_PLAN
        if (tta_plan_run(shared_plan, &input, 1)) {
            j->ok = 0;
        }
        continue;
#endif
        if (tta_plan_new(model, &input, 1, &po, &plan) || tta_plan_run(plan, &input, 1)) {
            snprintf(j->msg, sizeof j->msg, "thread %d: %s", j->id, tta_last_error());
            j->ok = 0;
        } else {
            const tta_tensor *y = tta_plan_output(plan, 0);
            if (tta_tensor_nbytes(y) != tta_tensor_nbytes(&reference) ||
                memcmp(y->data, reference.data, tta_tensor_nbytes(y))) {
                snprintf(j->msg, sizeof j->msg, "thread %d: plan output differs from the single-thread run", j->id);
                j->ok = 0;
            }
        }
        tta_plan_free(plan);
        /* TTA: a classifier of its own, the same policy */
        tta_classifier *cls = NULL;
        tta_classifier_options co = {.n_threads = 1};
        tta_policy pol;
        float probs[10 * 8];
        if (j->ok && (tta_policy_parse(&pol, "hflip; shift(1, 0, wrap)", NULL) || tta_classifier_new(&cls, model, &co) ||
                      tta_classify(cls, &pol, images, 8, TTA_MERGE_MEAN, NULL, probs, NULL))) {
            snprintf(j->msg, sizeof j->msg, "thread %d: %s", j->id, tta_last_error());
            j->ok = 0;
        } else if (j->ok && memcmp(probs, ref_probs, sizeof probs)) {
            snprintf(j->msg, sizeof j->msg, "thread %d: TTA probabilities differ from the single-thread run", j->id);
            j->ok = 0;
        }
        if (j->ok) tta_policy_destroy(&pol);
        tta_classifier_free(cls);
    }
    return NULL;
}

int main(int argc, char **argv) {
    const char *path = argc > 1 ? argv[1] : "models/fashion_cnn.onnx";
    int passed = 0, failed = 0;
    if (tta_model_load(path, NULL, &model)) {
        fprintf(stderr, "%s\n0 passed, 1 failed\n", tta_last_error());
        return 1;
    }
    /* eight 28x28 gray images with a pattern each, as a batch and as images */
    int64_t dims[4] = {8, 1, 28, 28};
    tta_tensor_resize(&input, TTA_DTYPE_UINT8, 4, dims);
    uint8_t *px = input.data;
    for (int i = 0; i < 8 * 28 * 28; i++) px[i] = (uint8_t)((i * 37 + (i / 28) * 11) % 251);
    for (int k = 0; k < 8; k++) {
        tta_image_init(&images[k], 28, 28, 1, TTA_DTYPE_UINT8);
        memcpy(images[k].data, px + k * 28 * 28, 28 * 28);
    }
    /* the single-thread references */
    tta_plan_options po = {.n_threads = 1};
    tta_plan *plan = NULL;
    tta_classifier *cls = NULL;
    tta_classifier_options co = {.n_threads = 1};
    tta_policy pol;
    if (tta_plan_new(model, &input, 1, &po, &plan) || tta_plan_run(plan, &input, 1) ||
        tta_tensor_copy(&reference, tta_plan_output(plan, 0)) || tta_policy_parse(&pol, "hflip; shift(1, 0, wrap)", NULL) ||
        tta_classifier_new(&cls, model, &co) || tta_classify(cls, &pol, images, 8, TTA_MERGE_MEAN, NULL, ref_probs, NULL)) {
        fprintf(stderr, "reference run: %s\n0 passed, 1 failed\n", tta_last_error());
        return 1;
    }
#ifdef SHARED_PLAN
    shared_plan = plan;
#else
    tta_plan_free(plan);
#endif
    tta_classifier_free(cls);
    tta_policy_destroy(&pol);

    pthread_t th[THREADS];
    job jobs[THREADS];
    for (int t = 0; t < THREADS; t++) {
        jobs[t] = (job){.id = t};
        pthread_create(&th[t], NULL, worker, &jobs[t]);
    }
    for (int t = 0; t < THREADS; t++) pthread_join(th[t], NULL);
    for (int t = 0; t < THREADS; t++) {
        if (jobs[t].ok) passed++;
        else {
            failed++;
            printf("FAIL %s\n", jobs[t].msg);
        }
    }
    for (int k = 0; k < 8; k++) tta_image_destroy(&images[k]);
    tta_tensor_destroy(&input);
    tta_tensor_destroy(&reference);
    tta_model_free(model);
    printf("%d passed, %d failed\n", passed, failed);
    return failed ? 1 : 0;
}
