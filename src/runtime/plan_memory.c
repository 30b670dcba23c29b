/* plan_memory.c - the plan's memory limit.
 *
 * A model of a hundred bytes can declare ConstantOfShape([2^31]) or Expand to [2^20, 2^20]: sizes
 * come from strangers, so a plan checks them before it allocates. Every inferred output is
 * checked as soon as its shape is known (an element count or byte size that overflows int64 is
 * refused, and so is a single tensor larger than the limit), and every tensor allocation the plan
 * makes is counted against one budget before it happens: constants folded at plan time, the
 * arena of intermediate tensors, and the buffers of values sized at run time (graph outputs,
 * data-dependent shapes), and the kernels' own large buffers (weights reordered or transformed
 * for a kernel, per-call scratch and oneDNN's scratchpad, counted through tta_op_reserve). The
 * model's own weights are not: they are as large as the file they were read from.
 *
 * The limit is tta_plan_options.max_memory, else TTA_MAX_MEMORY (bytes, or with a K/M/G/T
 * suffix), else the smaller of 4 GiB and half the machine's physical memory.
 */
#include <ctype.h>
#include <stdlib.h>
#include <unistd.h>

#include "core/checked.h"
#include "core/error.h"
#include "runtime/plan.h"

#define DEFAULT_CAP ((size_t)4 << 30)

tta_status tta_parse_memory_size(const char *s, size_t *out) {
    if (!s || !out) return tta_errorf(TTA_ERR_INVALID_ARG, "tta_parse_memory_size: NULL argument");
    const char *p = s;
    while (isspace((unsigned char)*p)) p++;
    if (!isdigit((unsigned char)*p)) goto bad;
    unsigned long long v = 0;
    for (; isdigit((unsigned char)*p); p++) {
        if (v > (~0ull - 9) / 10) goto bad;
        v = v * 10 + (unsigned)(*p - '0');
    }
    unsigned shift = 0;
    switch (toupper((unsigned char)*p)) {
    case 'K': shift = 10; break;
    case 'M': shift = 20; break;
    case 'G': shift = 30; break;
    case 'T': shift = 40; break;
    default: break;
    }
    if (shift) {
        p++;
        if (toupper((unsigned char)*p) == 'I') p++; /* KiB, MiB, ... */
        if (toupper((unsigned char)*p) == 'B') p++;
    } else if (toupper((unsigned char)*p) == 'B') {
        p++;
    }
    if (*p || v == 0 || v > (SIZE_MAX >> shift)) goto bad;
    *out = (size_t)v << shift;
    return TTA_OK;
bad:
    return tta_errorf(TTA_ERR_INVALID_ARG, "bad memory size '%s' (expected a positive number of bytes, e.g. 4G, 512M)",
                      s);
}

size_t tta_default_max_memory(void) {
    long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGE_SIZE);
    if (pages <= 0 || page <= 0) return DEFAULT_CAP;
    uint64_t half = (uint64_t)pages / 2 * (uint64_t)page;
    return half < DEFAULT_CAP ? (size_t)half : DEFAULT_CAP;
}

tta_status tta_plan_memory_init(tta_plan *p, const tta_plan_options *opts) {
    p->mem.used = 0;
    if (opts && opts->max_memory) {
        p->mem.limit = opts->max_memory;
        return TTA_OK;
    }
    const char *e = getenv("TTA_MAX_MEMORY");
    if (e && *e) {
        tta_status st = tta_parse_memory_size(e, &p->mem.limit);
        return st ? tta_error_context(st, "TTA_MAX_MEMORY") : TTA_OK;
    }
    p->mem.limit = tta_default_max_memory();
    return TTA_OK;
}

const char *tta_plan_value_name(const tta_plan *p, int v) {
    const tta_graph *g = &p->model->graph;
    return v >= 0 && v < g->n_values && g->values[v].name ? g->values[v].name : "(layout copy)";
}

tta_status tta_plan_check_outputs(const tta_plan *p, const tta_op_ctx *c) {
    for (int o = 0; o < c->n_out; o++) {
        const tta_tensor *t = c->out[o];
        if (!t) continue;
        const char *name = tta_plan_value_name(p, (int)(t - p->values));
        int64_t n, bytes;
        char shape[200];
        if (tta_numel_overflows(t->ndim, t->dims, &n) ||
            tta_nbytes_overflows(t->ndim, t->dims, tta_dtype_size(t->dtype), &bytes))
            return tta_op_error(c, TTA_ERR_SHAPE, "output '%s' of shape %s would have more elements than int64 counts",
                                name, tta_shape_str(t, shape, sizeof shape));
        if ((uint64_t)bytes > p->mem.limit)
            return tta_op_error(c, TTA_ERR_NOMEM,
                                "output '%s' of shape %s would have %lld elements (%lld bytes), more than the memory "
                                "limit of %zu bytes (--max-memory, TTA_MAX_MEMORY)",
                                name, tta_shape_str(t, shape, sizeof shape), (long long)n, (long long)bytes,
                                p->mem.limit);
    }
    return TTA_OK;
}

tta_status tta_plan_memory_claim(tta_plan *p, const tta_op_ctx *c, const tta_tensor *t, size_t bytes) {
    if (bytes <= p->mem.limit && p->mem.used <= p->mem.limit - bytes) {
        p->mem.used += bytes;
        return TTA_OK;
    }
    const char *name = tta_plan_value_name(p, (int)(t - p->values));
    char shape[200];
    return tta_op_error(c, TTA_ERR_NOMEM,
                        "output '%s' of shape %s needs %zu more bytes with %zu already in use, more than the memory "
                        "limit of %zu bytes (--max-memory, TTA_MAX_MEMORY)",
                        name, tta_shape_str(t, shape, sizeof shape), bytes, p->mem.used, p->mem.limit);
}

tta_status tta_op_reserve(const tta_op_ctx *c, size_t *held, size_t bytes, const char *what) {
    tta_mem_budget *b = c->budget;
    if (!b) {
        *held = bytes;
        return TTA_OK;
    }
    size_t others = b->used - *held; /* everything but this kernel's current share */
    if (bytes > b->limit || others > b->limit - bytes)
        return tta_op_error(c, TTA_ERR_NOMEM,
                            "%s need %zu bytes with %zu already in use, more than the memory limit of %zu bytes "
                            "(--max-memory, TTA_MAX_MEMORY)",
                            what, bytes, others, b->limit);
    b->used = others + bytes;
    *held = bytes;
    return TTA_OK;
}
