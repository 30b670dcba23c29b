/* search_cli.c - what `tta search` and `tta frontier` share: every view of a pool run over a data
 * split through the prediction cache (search_cli.h). Under mpirun rank 0 alone reads and writes
 * the cache and sends what it found to the others; each rank runs the missing views on its
 * chunks of images and every rank receives the whole table (dist.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli_util.h"
#include "cli/dist.h"
#include "cli/progress.h"
#include "cli/search_cli.h"
#include "core/file_key.h"

#define CHUNK 500

static uint64_t labels_hash(const int *labels, int n) { return tta_hash64(labels, sizeof(int) * (size_t)n, 0x7461); }

int search_fill_split(split *s, const char *name, tta_classifier *cls, const tta_policy *pool, int k,
                      tta_pred_cache *cache, const char *model_path) {
    int V = pool->n_views, n = s->n, quiet = dist_rank() != 0;
    uint64_t lh = labels_hash(s->labels, n);
    size_t block = (size_t)n * k;
    s->probs = malloc(sizeof(float) * block * V);
    int *missing = malloc(sizeof(int) * (size_t)V * 2), *cached = missing ? missing + V : NULL;
    tta_policy run = {0};
    float *out = NULL;
    tta_image *imgs = calloc(CHUNK, sizeof(tta_image));
    int rc = 0, n_missing = 0;
    int64_t b, e; /* this rank's images */
    dist_range(n, CHUNK, &b, &e);
    if (!s->probs || !missing || !imgs) {
        fprintf(stderr, "tta: out of memory for %d views x %d images\n", V, n);
        rc = 1;
    }
    if (dist_any_failed(rc, "search")) {
        rc = 1;
        goto done;
    }
    if (quiet) cache = NULL; /* rank 0's alone */
    for (int v = 0; v < V; v++) {
        char text[512];
        tta_view_format(&pool->views[v], text, sizeof text);
        const float *c = cache ? tta_pred_cache_find(cache, s->spec, text, n, k, lh) : NULL;
        if (c) memcpy(s->probs + v * block, c, sizeof(float) * block);
        cached[v] = c != NULL;
    }
    if (dist_bcast(cached, sizeof(int) * V)) {
        rc = 1;
        goto done;
    }
    for (int v = 0; v < V; v++) {
        if (!cached[v])
            missing[n_missing++] = v;
        else if (dist_bcast(s->probs + v * block, sizeof(float) * block)) {
            rc = 1;
            goto done;
        }
    }
    if (!quiet)
        fprintf(stderr, "%s %s: %d images, %d views: %d from the cache, %d to run\n", name, s->spec, n, V,
                V - n_missing, n_missing);
    if (n_missing) {
        /* the views to run, the identity first (every policy has it) */
        if (tta_policy_init(&run)) {
            rc = cli_fail();
            goto done;
        }
        int *map = missing; /* run view r -> pool view */
        int have_identity = missing[0] == 0;
        for (int j = have_identity; j < n_missing && !rc; j++)
            if (tta_policy_add_view(&run, &pool->views[missing[j]])) rc = cli_fail();
        if (rc) goto done;
        int R = run.n_views; /* = n_missing + (identity run only for the model's sake) */
        out = malloc(sizeof(float) * CHUNK * (size_t)R * k);
        if (!out) {
            fprintf(stderr, "tta: out of memory\n");
            rc = 1;
        }
        cli_progress pg;
        cli_progress_start_views(&pg, s->spec, R, e - b);
        for (int s0 = (int)b; s0 < e && !rc; s0 += CHUNK) {
            int cnt = e - s0 < CHUNK ? (int)e - s0 : CHUNK;
            for (int i = 0; i < cnt && !rc; i++)
                if (tta_dataset_get(s->ds, s0 + i, &imgs[i], NULL)) rc = cli_fail();
            if (!rc && tta_classify_views(cls, &run, imgs, cnt, out, NULL)) {
                fprintf(stderr, "tta: %s on %s: %s\n", model_path, s->spec, tta_last_error());
                rc = 1;
            }
            for (int r = 0; r < R && !rc; r++) {
                int v = have_identity ? map[r] : (r == 0 ? -1 : map[r - 1]);
                if (v < 0) continue;
                for (int i = 0; i < cnt; i++)
                    memcpy(s->probs + v * block + (size_t)(s0 + i) * k, out + ((size_t)i * R + r) * k,
                           sizeof(float) * k);
            }
            if (!rc) cli_progress_update(&pg, s0 + cnt - b);
        }
        cli_progress_end(&pg);
        if (dist_any_failed(rc, "search")) {
            rc = 1;
            goto done;
        }
        for (int j = 0; j < n_missing && !rc; j++)
            rc = dist_allgather_rows(s->probs + missing[j] * block, sizeof(float) * k, n, CHUNK);
        for (int j = 0; j < n_missing && !rc && cache; j++) {
            char text[512];
            tta_view_format(&pool->views[missing[j]], text, sizeof text);
            if (tta_pred_cache_put(cache, s->spec, text, n, k, lh, s->probs + missing[j] * block)) rc = cli_fail();
        }
        if (!rc && cache && tta_pred_cache_save(cache))
            fprintf(stderr, "tta: warning: %s; going on without saving the cache\n", tta_last_error());
    }
    s->t = (tta_pred_table){n, k, V, s->probs, s->labels};
done:
    for (int i = 0; imgs && i < CHUNK; i++) tta_image_destroy(&imgs[i]);
    free(imgs);
    free(out);
    free(missing);
    tta_policy_destroy(&run);
    return rc;
}

void search_policy_line(const tta_policy *pool, const int *views, const double *weights, int m, char *buf,
                        size_t size) {
    size_t len = 0;
    buf[0] = '\0';
    for (int j = 0; j < m && len < size; j++) {
        char text[512];
        tta_view_format(&pool->views[views[j]], text, sizeof text);
        if (weights)
            len += (size_t)snprintf(buf + len, size - len, "%s%s @ %.6g", j ? "; " : "", text, weights[j]);
        else
            len += (size_t)snprintf(buf + len, size - len, "%s%s", j ? "; " : "", text);
    }
}

