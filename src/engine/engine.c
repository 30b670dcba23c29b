/* engine.c - see engine.h: the plan cache and class-name lists the task engines share. */
#include <string.h>

#include "core/alloc.h"
#include "core/error.h"
#include "engine/engine.h"

tta_status tta_plan_cache_run(tta_plan_cache *c, const tta_model *model, const tta_tensor *input, int n_threads,
                              tta_plan **plan) {
    tta_plan *p = NULL;
    for (int i = 0; i < TTA_PLAN_CACHE_SLOTS; i++)
        if (c->slot[i].plan && !memcmp(c->slot[i].dims, input->dims, sizeof c->slot[i].dims)) p = c->slot[i].plan;
    if (!p) {
        tta_plan_options po = {.n_threads = n_threads};
        TTA_TRY(tta_plan_new(model, input, 1, &po, &p));
        int k = c->next++ % TTA_PLAN_CACHE_SLOTS;
        tta_plan_free(c->slot[k].plan);
        c->slot[k].plan = p;
        memcpy(c->slot[k].dims, input->dims, sizeof c->slot[k].dims);
    }
    TTA_TRY(tta_plan_run(p, input, 1));
    *plan = p;
    return TTA_OK;
}

void tta_plan_cache_destroy(tta_plan_cache *c) {
    for (int i = 0; i < TTA_PLAN_CACHE_SLOTS; i++) tta_plan_free(c->slot[i].plan);
    memset(c, 0, sizeof *c);
}

void tta_names_free(char **names, int n) {
    for (int i = 0; names && i < n; i++) tta_free(names[i]);
    tta_free(names);
}

tta_status tta_names_split(const char *text, char ***names, int *n) {
    *names = NULL;
    *n = 0;
    if (!text || !*text) return TTA_OK;
    int count = 1;
    for (const char *p = text; *p; p++) count += *p == ',';
    char **out = tta_calloc((size_t)count, sizeof *out);
    if (!out) return tta_errorf(TTA_ERR_NOMEM, "out of memory");
    const char *s = text;
    for (int i = 0; i < count; i++) {
        const char *e = strchr(s, ',');
        size_t len = e ? (size_t)(e - s) : strlen(s);
        out[i] = tta_malloc(len + 1);
        if (!out[i]) {
            tta_names_free(out, i);
            return tta_errorf(TTA_ERR_NOMEM, "out of memory");
        }
        memcpy(out[i], s, len);
        out[i][len] = 0;
        s = e ? e + 1 : s + len;
    }
    *names = out;
    *n = count;
    return TTA_OK;
}
