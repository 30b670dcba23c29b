/* engine.h - what the task engines (detector.c, segmenter.c) share: the plans a model keeps per
 * input shape, and the class names a model's metadata lists. Internal to the library. */
#ifndef TTA_ENGINE_ENGINE_H
#define TTA_ENGINE_ENGINE_H

#include <stdint.h>

#include "tta/runtime.h"

#define TTA_PLAN_CACHE_SLOTS 8

/* Plans of one model by input shape (batch, then the rest): views of several sizes and last
 * batches of another size each get one; the oldest is dropped when all slots are taken. A
 * zeroed struct is empty. */
typedef struct tta_plan_cache {
    struct {
        int64_t dims[4];
        tta_plan *plan;
    } slot[TTA_PLAN_CACHE_SLOTS];
    int next;
} tta_plan_cache;

/* Runs `model` on `input` (a rank-4 batch) with the cached plan for its shape, made on first
 * use with n_threads; *plan receives it (its outputs hold the results). */
tta_status tta_plan_cache_run(tta_plan_cache *c, const tta_model *model, const tta_tensor *input, int n_threads,
                              tta_plan **plan);
void tta_plan_cache_destroy(tta_plan_cache *c);

/* Splits comma-separated names ("a,b,c") into *names (n tta_malloc'd strings in a tta_malloc'd
 * array; NULL and 0 for NULL or empty text). Free with tta_names_free. */
tta_status tta_names_split(const char *text, char ***names, int *n);
void tta_names_free(char **names, int n);

#endif
