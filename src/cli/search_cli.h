/* search_cli.h - what `tta search` and `tta frontier` share: a data split with the per-view
 * predictions of a candidate pool (view-major, as the search reads them), filled through the
 * prediction cache, and a policy of pool views written as one line. */
#ifndef TTA_CLI_SEARCH_CLI_H
#define TTA_CLI_SEARCH_CLI_H

#include "tta/classify.h"
#include "tta/dataset.h"
#include "tta/search.h"

typedef struct split {
    const char *spec;
    tta_dataset *ds;
    int n;
    const int *labels;
    float *probs; /* view-major: V x n x k */
    tta_pred_table t;
} split;

/* Fills s->probs (malloc'd; the caller frees it) for every view of the pool: from the cache
 * (may be NULL) where it has them, else by running the model on the missing views (the
 * identity first, as every policy), with progress on stderr under `name`. 0 or 1 (the error
 * printed). */
int search_fill_split(split *s, const char *name, tta_classifier *cls, const tta_policy *pool, int k,
                      tta_pred_cache *cache, const char *model_path);

/* "identity; hflip; ..." for views[0..m) of the pool, with " @ W" after each when weights. */
void search_policy_line(const tta_policy *pool, const int *views, const double *weights, int m, char *buf,
                        size_t size);

#endif
