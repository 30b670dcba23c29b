/* plan.c - binding a model to concrete input shapes, and running it.
 *
 * tta_plan_new walks the nodes once in topological order: symbolic input dims are bound, every
 * kernel is prepared, shapes are inferred, and nodes whose inputs are all known (initializers,
 * Constant outputs, and Shape/Size of tensors whose shape is known) are computed right away and
 * become constants of the plan: shape-only subgraphs are folded. What is left is the run list.
 * tta_plan_run re-infers each step's shapes (cheap; exact for data-dependent ops such as
 * NonMaxSuppression), grows output buffers only when needed, and computes.
 *
 * Memory: intermediate tensors whose shapes are known at plan time share one arena, placed by
 * liveness (a value lives from the step that writes it to the last step that reads it; two
 * values may overlap in the arena only if their lifetimes do not), so steady-state runs
 * allocate nothing and peak memory stays near the largest live set. Graph outputs, and values
 * whose shape is only known at run time, keep their own buffers.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#ifdef _OPENMP
#include <omp.h>
#endif

#include "core/alloc.h"
#include "core/cpu.h"
#include "core/error.h"
#include "runtime/model.h"
#include "runtime/op.h"
#include "runtime/plan.h"

static int default_threads(void) {
    const char *e = getenv("TTA_THREADS");
    if (!e || !*e) e = getenv("OMP_NUM_THREADS");
    if (e && atoi(e) > 0) return atoi(e);
#ifdef _OPENMP
    return omp_get_num_procs();
#else
    return 1;
#endif
}

static double now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return 1e3 * (double)ts.tv_sec + 1e-6 * (double)ts.tv_nsec;
}

/* Kernels name the node in their messages already; this adds the model file. */
static tta_status model_context(const tta_plan *p, tta_status st) {
    return tta_error_context(st, "%s", p->model->name);
}

static tta_status bind_inputs(tta_plan *p, const tta_tensor *inputs, int n_inputs) {
    const tta_graph *g = &p->model->graph;
    if (n_inputs != g->n_inputs)
        return tta_errorf(TTA_ERR_INVALID_ARG, "%s: the model has %d input%s, %d given", p->model->name, g->n_inputs,
                          g->n_inputs == 1 ? "" : "s", n_inputs);
    /* symbolic dims: the same name must get the same value everywhere */
    const char *sym_names[64];
    int64_t sym_values[64];
    int n_sym = 0;
    for (int i = 0; i < n_inputs; i++) {
        const tta_value *v = &g->values[g->inputs[i]];
        const tta_tensor *t = &inputs[i];
        char got[128];
        if (v->dtype != TTA_DTYPE_UNDEFINED && tta_dtype_size(v->dtype) == 0)
            return tta_errorf(TTA_ERR_UNSUPPORTED, "%s: input '%s' has dtype %s, which tta does not support",
                              p->model->name, v->name, tta_dtype_name(v->dtype));
        if (v->dtype != TTA_DTYPE_UNDEFINED && t->dtype != v->dtype)
            return tta_errorf(TTA_ERR_SHAPE, "%s: input '%s' must be %s, got %s", p->model->name, v->name,
                              tta_dtype_name(v->dtype), tta_dtype_name(t->dtype));
        if (tta_dtype_size(t->dtype) == 0)
            return tta_errorf(TTA_ERR_UNSUPPORTED, "%s: input '%s' has unsupported dtype %s", p->model->name, v->name,
                              tta_dtype_name(t->dtype));
        if (v->ndim >= 0 && t->ndim != v->ndim)
            return tta_errorf(TTA_ERR_SHAPE, "%s: input '%s' must have rank %d, got shape %s", p->model->name, v->name,
                              v->ndim, tta_shape_str(t, got, sizeof got));
        for (int d = 0; v->ndim >= 0 && d < v->ndim; d++) {
            if (v->dims[d].value >= 0 && t->dims[d] != v->dims[d].value)
                return tta_errorf(TTA_ERR_SHAPE, "%s: input '%s' dim %d must be %lld, got shape %s", p->model->name,
                                  v->name, d, (long long)v->dims[d].value, tta_shape_str(t, got, sizeof got));
            if (v->dims[d].param) {
                int k = 0;
                while (k < n_sym && strcmp(sym_names[k], v->dims[d].param)) k++;
                if (k < n_sym && sym_values[k] != t->dims[d])
                    return tta_errorf(TTA_ERR_SHAPE, "%s: input '%s' dim %d ('%s') is %lld but another input binds it to %lld",
                                      p->model->name, v->name, d, v->dims[d].param, (long long)t->dims[d],
                                      (long long)sym_values[k]);
                if (k == n_sym && n_sym < 64) {
                    sym_names[n_sym] = v->dims[d].param;
                    sym_values[n_sym++] = t->dims[d];
                }
            }
        }
        tta_tensor *pv = &p->values[g->inputs[i]];
        TTA_TRY(tta_set_shape(pv, t->dtype, t->ndim, t->dims));
        pv->data = NULL;
        pv->capacity = 0;
        p->shaped[g->inputs[i]] = true;
    }
    return TTA_OK;
}

static bool is_shape_only_op(const tta_node *n) {
    return !n->domain[0] && (!strcmp(n->op_type, "Shape") || !strcmp(n->op_type, "Size"));
}

static tta_status size_outputs(tta_plan *p, tta_op_ctx *ctx) {
    for (int o = 0; o < ctx->n_out; o++) {
        tta_tensor *t = ctx->out[o];
        if (!t) continue;
        if (t->dtype == TTA_DTYPE_UNDEFINED)
            return tta_op_error(ctx, TTA_ERR_INTERNAL, "kernel did not set the dtype of output %d", o);
        int v = (int)(t - p->values);
        if (p->in_arena && p->in_arena[v] && tta_layout_nbytes(t, p->layout[v]) > t->capacity) {
            /* larger than planned (cannot happen for plan-time shapes): leave the arena, unless
             * the value is blocked or shares its slot, which the plan fixed for that shape */
            if (p->layout[v] != TTA_LAYOUT_PLAIN || p->shared[v])
                return tta_op_error(ctx, TTA_ERR_INTERNAL, "output %d outgrew its planned buffer", o);
            p->in_arena[v] = false;
            t->data = NULL;
            t->capacity = 0;
        }
        size_t want = tta_tensor_nbytes(t); /* checked by tta_plan_check_outputs */
        if (want > t->capacity && !(p->in_arena && p->in_arena[v]))
            TTA_TRY(tta_plan_memory_claim(p, ctx, t, want - t->capacity));
        TTA_TRY(tta_tensor_resize(t, t->dtype, t->ndim, t->dims));
    }
    return TTA_OK;
}

typedef struct arena_item {
    int value, first, last;
    size_t size, offset;
} arena_item;

static int by_size_desc(const void *a, const void *b) {
    const arena_item *x = a, *y = b;
    return x->size < y->size ? 1 : x->size > y->size ? -1 : x->value - y->value;
}

static bool is_view_op(const tta_node *n) {
    static const char *const ops[] = {"Reshape", "Flatten", "Squeeze", "Unsqueeze", "Identity"};
    if (n->domain[0] || n->n_outputs != 1) return false;
    for (size_t i = 0; i < sizeof ops / sizeof ops[0]; i++)
        if (!strcmp(n->op_type, ops[i])) return true;
    return false;
}

/* Path halving: a chain of 100,000 views would otherwise make the walks quadratic. Roots (and
 * which values are roots) never change. */
static int root_of(int *alias, int v) {
    while (alias[v] >= 0) {
        if (alias[alias[v]] >= 0) alias[v] = alias[alias[v]];
        v = alias[v];
    }
    return v;
}

/* Whether value v may share an arena slot: computed at run time into the arena, not a graph
 * input or output, not a constant. */
static bool sharable(const tta_plan *p, int v) {
    const tta_graph *g = &p->model->graph;
    if (p->known[v] || !p->shaped[v]) return false;
    if (v < g->n_values && (g->values[v].is_output || g->values[v].is_input)) return false;
    return tta_layout_nbytes(&p->values[v], p->layout[v]) > 0;
}

/* Places every intermediate value with a plan-time shape in one arena (greedy by size, lowest
 * offset that overlaps no value whose lifetime intersects). */
static tta_status plan_arena(tta_plan *p) {
    const tta_graph *g = &p->model->graph;
    int nv = p->n_values;
    int *first = tta_malloc(sizeof(int) * ((size_t)nv + 1)), *last = tta_malloc(sizeof(int) * ((size_t)nv + 1));
    arena_item *items = tta_malloc(sizeof(arena_item) * ((size_t)nv + 1));
    p->in_arena = tta_calloc((size_t)nv + 1, sizeof(bool));
    p->shared = tta_calloc((size_t)nv + 1, sizeof(bool));
    if (!first || !last || !items || !p->in_arena || !p->shared) {
        tta_free(first);
        tta_free(last);
        tta_free(items);
        return tta_errorf(TTA_ERR_NOMEM, "out of memory");
    }
    for (int v = 0; v < nv; v++) first[v] = last[v] = -1;
    for (int i = 0; i < p->n_steps; i++) { /* the values a step reads and writes (after layout.c's redirects) */
        const tta_op_ctx *c = &p->steps[i]->ctx;
        for (int k = 0; k < c->n_in; k++)
            if (c->in[k]) last[c->in[k] - p->values] = i;
        for (int k = 0; k < c->n_out; k++)
            if (c->out[k] && first[c->out[k] - p->values] < 0) first[c->out[k] - p->values] = i;
    }
    /* Shared buffers. A view (Reshape, Flatten, Squeeze, Unsqueeze, Identity) reuses its input's
     * bytes; a residual sum computed in place (a kernel saying TTA_SUM_IN_PLACE) writes its
     * output over Z when nothing reads Z's buffer afterwards. Such values form a group placed as
     * one item (its root, the first value) living until the last read of any member. */
    int *alias = tta_malloc(sizeof(int) * ((size_t)nv + 1));
    if (!alias) {
        tta_free(first);
        tta_free(last);
        tta_free(items);
        return tta_errorf(TTA_ERR_NOMEM, "out of memory");
    }
    for (int v = 0; v < nv; v++) alias[v] = -1;
    for (int i = 0; i < p->n_steps; i++) {
        const tta_op_ctx *c = &p->steps[i]->ctx;
        int src = -1;
        if (c->n_out < 1 || !c->out[0]) continue;
        if (is_view_op(c->node) && c->n_in >= 1 && c->in[0]) src = (int)(c->in[0] - p->values);
        else if ((p->steps[i]->caps & TTA_SUM_IN_PLACE) && c->n_in >= 4 && c->in[3]) src = (int)(c->in[3] - p->values);
        if (src < 0) continue;
        int y = (int)(c->out[0] - p->values), r = root_of(alias, src);
        bool ok = alias[y] < 0 && r != root_of(alias, y) && sharable(p, src) && sharable(p, y) &&
                  p->layout[src] == p->layout[y] &&
                  tta_layout_nbytes(&p->values[src], p->layout[src]) == tta_layout_nbytes(&p->values[y], p->layout[y]);
        if (ok && !is_view_op(c->node)) { /* in place: the group dies here, and no other input is in it */
            ok = last[r] == i;
            for (int k = 0; ok && k < c->n_in; k++)
                if (k != 3 && c->in[k] && root_of(alias, (int)(c->in[k] - p->values)) == r) ok = false;
        }
        if (!ok) continue;
        alias[y] = src;
        if (last[y] > last[r]) last[r] = last[y];
        if (i > last[r]) last[r] = i;
    }
    int n_items = 0;
    for (int v = 0; v < nv; v++) {
        if (first[v] < 0 || alias[v] >= 0 || p->known[v] || !p->shaped[v] ||
            (v < g->n_values && g->values[v].is_output))
            continue;
        size_t bytes = tta_layout_nbytes(&p->values[v], p->layout[v]); /* padded when blocked */
        if (bytes == 0) continue;
        arena_item *it = &items[n_items++];
        it->value = v;
        it->first = first[v];
        it->last = last[v] < first[v] ? first[v] : last[v];
        it->size = (bytes + 63) & ~(size_t)63;
        it->offset = 0;
    }
    qsort(items, (size_t)n_items, sizeof *items, by_size_desc);
    size_t total = 0;
    for (int i = 0; i < n_items; i++) {
        size_t off = 0;
        for (bool moved = true; moved;) { /* first fit among the placed items that live at the same time */
            moved = false;
            for (int j = 0; j < i; j++) {
                if (items[j].last < items[i].first || items[i].last < items[j].first) continue;
                if (off < items[j].offset + items[j].size && items[j].offset < off + items[i].size) {
                    off = items[j].offset + items[j].size;
                    moved = true;
                }
            }
        }
        items[i].offset = off;
        if (off + items[i].size > total) total = off + items[i].size;
    }
    tta_status st = TTA_OK;
    if (total && (total > p->mem.limit || p->mem.used > p->mem.limit - total))
        st = tta_errorf(TTA_ERR_NOMEM,
                        "%s: the plan needs a %zu-byte arena (largest tensor '%s', %zu bytes) besides %zu bytes "
                        "of folded constants, more than the memory limit of %zu bytes (--max-memory, TTA_MAX_MEMORY)",
                        p->model->name, total, tta_plan_value_name(p, items[0].value), items[0].size, p->mem.used,
                        p->mem.limit);
    if (total && !st) {
        p->mem.used += total;
        /* aligned to a cache line: oneDNN kernels may use aligned (non-temporal) stores */
        p->arena_mem = tta_malloc(total + 64);
        p->arena = p->arena_mem ? (unsigned char *)(((uintptr_t)p->arena_mem + 63) & ~(uintptr_t)63) : NULL;
        if (!p->arena) st = tta_errorf(TTA_ERR_NOMEM, "out of memory allocating a %zu-byte arena", total);
        p->arena_bytes = total;
    }
    for (int i = 0; !st && i < n_items; i++) {
        tta_tensor *t = &p->values[items[i].value];
        t->data = p->arena + items[i].offset;
        t->capacity = items[i].size;
        p->in_arena[items[i].value] = true;
    }
    for (int v = 0; !st && v < nv; v++) { /* the members of a group share its root's slot */
        int r = root_of(alias, v);
        if (r == v || !p->in_arena[r]) continue;
        p->values[v].data = p->values[r].data;
        p->values[v].capacity = p->values[r].capacity;
        p->in_arena[v] = true;
        p->shared[v] = p->shared[r] = true;
    }
    tta_free(alias);
    tta_free(first);
    tta_free(last);
    tta_free(items);
    return st;
}

tta_status tta_plan_step_init(tta_plan *p, plan_step *s, const tta_node *n) {
    s->node = n;
    /* Every operator's first output is required (ONNX makes only later ones optional); kernels
     * write it without checking. */
    if (n->n_outputs < 1 || n->outputs[0] < 0)
        return tta_errorf(TTA_ERR_SHAPE, "%s: node '%s' (%s): its first output is omitted (empty name)", p->model->name,
                          n->name, n->op_type);
    s->kernel = tta_kernel_find(n);
    if (!s->kernel)
        return tta_errorf(TTA_ERR_UNSUPPORTED, "%s: node '%s' (%s v%d) is not supported", p->model->name, n->name,
                          n->op_type, n->opset);
    tta_op_ctx *c = &s->ctx;
    c->node = n;
    c->n_in = n->n_inputs;
    c->n_out = n->n_outputs;
    c->in = tta_calloc((size_t)n->n_inputs + 1, sizeof(tta_tensor *));
    c->out = tta_calloc((size_t)n->n_outputs + 1, sizeof(tta_tensor *));
    if (!c->in || !c->out) return tta_errorf(TTA_ERR_NOMEM, "out of memory");
    for (int i = 0; i < n->n_inputs; i++) c->in[i] = n->inputs[i] >= 0 ? &p->values[n->inputs[i]] : NULL;
    for (int i = 0; i < n->n_outputs; i++) c->out[i] = n->outputs[i] >= 0 ? &p->values[n->outputs[i]] : NULL;
    c->n_threads = p->n_threads;
    c->budget = &p->mem;
    c->flags = p->op_flags;
    if (s->kernel->prepare) {
        tta_status st = s->kernel->prepare(c);
        if (st) {
            /* prepare may fail half-way (a bad attribute found after its state was allocated):
             * release what it made now, since tta_plan_free releases prepared steps only.
             * Every release takes a partial (calloc'd) state. */
            if (s->kernel->release) s->kernel->release(c);
            c->state = NULL;
            return model_context(p, st);
        }
    }
    s->prepared = true;
    return TTA_OK;
}

static tta_status plan_node(tta_plan *p, const tta_node *n, plan_step *s) {
    TTA_TRY(tta_plan_step_init(p, s, n));
    tta_op_ctx *c = &s->ctx;

    bool all_known = true, all_shaped = true;
    for (int i = 0; i < n->n_inputs; i++) {
        if (n->inputs[i] < 0) continue;
        all_known &= p->known[n->inputs[i]];
        all_shaped &= p->shaped[n->inputs[i]];
    }
    if (!all_shaped) return TTA_OK; /* inferred at run time */
    tta_status st = s->kernel->infer(c);
    if (st == TTA_DEFER) return TTA_OK;
    if (!st) st = tta_plan_check_outputs(p, c);
    if (st) return model_context(p, st);
    for (int o = 0; o < n->n_outputs; o++)
        if (n->outputs[o] >= 0) p->shaped[n->outputs[o]] = true;
    if (all_known || is_shape_only_op(n)) {
        st = size_outputs(p, c);
        if (!st) st = s->kernel->compute(c);
        if (st) return model_context(p, st);
        for (int o = 0; o < n->n_outputs; o++)
            if (n->outputs[o] >= 0) p->known[n->outputs[o]] = true;
        return TTA_OK;
    }
    return TTA_OK;
}

tta_status tta_plan_new(const tta_model *model, const tta_tensor *inputs, int n_inputs,
                             const tta_plan_options *opts, tta_plan **out) {
    if (!model || !out || (n_inputs && !inputs))
        return tta_errorf(TTA_ERR_INVALID_ARG, "tta_plan_new: NULL argument");
    *out = NULL;
    TTA_TRY(tta_cpu_check()); /* a bad TTA_MAX_ISA or TTA_BLOCK is an error, not silently ignored */
    const tta_graph *g = &model->graph;
    tta_plan *p = tta_calloc(1, sizeof *p);
    if (!p) return tta_errorf(TTA_ERR_NOMEM, "out of memory");
    p->model = model;
    p->n_values = g->n_values;
    p->cap_values = 2 * g->n_values + 1;
    p->cap_all = 2 * g->n_nodes + g->n_values + 1;
    p->n_threads = opts && opts->n_threads > 0 ? opts->n_threads : default_threads();
    p->profile = opts && opts->profile;
    p->no_blocked = opts && opts->no_blocked;
    p->op_flags = opts && opts->no_winograd ? TTA_OP_NO_WINOGRAD : 0;
    tta_status mst = tta_plan_memory_init(p, opts);
    if (mst) {
        tta_free(p);
        return mst;
    }
    p->values = tta_calloc((size_t)p->cap_values, sizeof *p->values);
    p->known = tta_calloc((size_t)p->cap_values, sizeof *p->known);
    p->shaped = tta_calloc((size_t)p->cap_values, sizeof *p->shaped);
    p->layout = tta_calloc((size_t)p->cap_values, sizeof *p->layout);
    p->all = tta_calloc((size_t)p->cap_all, sizeof *p->all);
    p->steps = tta_calloc((size_t)p->cap_all, sizeof *p->steps);
    if (!p->values || !p->known || !p->shaped || !p->layout || !p->all || !p->steps) {
        tta_plan_free(p);
        return tta_errorf(TTA_ERR_NOMEM, "out of memory");
    }
    for (int i = 0; i < g->n_values; i++) {
        const tta_tensor *c = g->values[i].constant;
        if (!c) continue;
        p->values[i] = *c;
        p->values[i].capacity = 0; /* borrowed from the model */
        p->known[i] = p->shaped[i] = true;
    }
    tta_status st = bind_inputs(p, inputs, n_inputs);
    for (int i = 0; st == TTA_OK && i < g->n_nodes; i++) {
        plan_step *s = &p->all[p->n_all++];
        st = plan_node(p, &g->nodes[i], s);
        if (st == TTA_OK) {
            bool folded = true;
            for (int o = 0; o < g->nodes[i].n_outputs; o++)
                if (g->nodes[i].outputs[o] >= 0 && !p->known[g->nodes[i].outputs[o]]) folded = false;
            if (!folded || g->nodes[i].n_outputs == 0) p->steps[p->n_steps++] = s;
        }
    }
    if (!st) st = tta_plan_fuse(p);
    if (!st) st = tta_plan_layouts(p);
    if (!st) st = plan_arena(p);
    if (!st) tta_plan_threads(p);
    if (st) {
        tta_plan_free(p);
        return st;
    }
    *out = p;
    return TTA_OK;
}

static tta_status run_steps(tta_plan *p);

tta_status tta_plan_run(tta_plan *p, const tta_tensor *inputs, int n_inputs) {
    if (!p || (n_inputs && !inputs)) return tta_errorf(TTA_ERR_INVALID_ARG, "tta_plan_run: NULL argument");
    const tta_graph *g = &p->model->graph;
    if (n_inputs != g->n_inputs)
        return tta_errorf(TTA_ERR_INVALID_ARG, "%s: the model has %d inputs, %d given", p->model->name, g->n_inputs,
                          n_inputs);
    for (int i = 0; i < n_inputs; i++) {
        tta_tensor *pv = &p->values[g->inputs[i]];
        const tta_tensor *t = &inputs[i];
        bool same = t->dtype == pv->dtype && t->ndim == pv->ndim;
        for (int d = 0; same && d < t->ndim; d++) same = t->dims[d] == pv->dims[d];
        if (!same) {
            char want[128], got[128];
            return tta_errorf(TTA_ERR_SHAPE, "%s: input '%s' is %s %s but the plan was made for %s %s", p->model->name,
                              g->values[g->inputs[i]].name, tta_dtype_name(t->dtype), tta_shape_str(t, got, sizeof got),
                              tta_dtype_name(pv->dtype), tta_shape_str(pv, want, sizeof want));
        }
        if (!t->data && tta_tensor_numel(t) > 0)
            return tta_errorf(TTA_ERR_INVALID_ARG, "%s: input '%s' has no data", p->model->name, g->values[g->inputs[i]].name);
        pv->data = t->data; /* borrowed for the duration of the run */
        pv->capacity = 0;
    }
    /* OpenMP's thread count is the calling thread's setting: set for the run, then given back */
#ifdef _OPENMP
    int caller_threads = omp_get_max_threads();
    omp_set_num_threads(p->n_threads);
#endif
    tta_status st = run_steps(p);
#ifdef _OPENMP
    omp_set_num_threads(caller_threads);
#endif
    return st;
}

static tta_status run_steps(tta_plan *p) {
    for (int i = 0; i < p->n_steps; i++) {
        plan_step *s = p->steps[i];
        double t0 = p->profile ? now_ms() : 0;
        tta_status st = s->kernel->infer(&s->ctx);
        if (st == TTA_DEFER) st = tta_op_error(&s->ctx, TTA_ERR_INTERNAL, "shape still unknown at run time");
        if (!st) st = tta_plan_check_outputs(p, &s->ctx);
        if (!st) st = size_outputs(p, &s->ctx);
#ifdef _OPENMP
        if (s->ctx.n_threads != p->n_threads) omp_set_num_threads(s->ctx.n_threads); /* see plan_threads.c */
#endif
        if (!st) st = s->kernel->compute(&s->ctx);
#ifdef _OPENMP
        if (s->ctx.n_threads != p->n_threads) omp_set_num_threads(p->n_threads);
#endif
        if (st) return model_context(p, st);
        if (p->profile) {
            s->total_ms += now_ms() - t0;
            s->runs++;
        }
    }
    return TTA_OK;
}

int tta_plan_n_steps(const tta_plan *p) { return p ? p->n_steps : 0; }

size_t tta_plan_arena_bytes(const tta_plan *p) { return p ? p->arena_bytes : 0; }

tta_status tta_plan_step_info(const tta_plan *p, int i, tta_step_info *info) {
    if (!p || !info || i < 0 || i >= p->n_steps)
        return tta_errorf(TTA_ERR_INVALID_ARG, "tta_plan_step_info: no step %d", i);
    const plan_step *s = p->steps[i];
    info->name = s->node->name;
    info->op_type = s->node->op_type;
    info->domain = s->node->domain;
    info->backend = s->kernel->backend;
    info->total_ms = s->total_ms;
    info->runs = s->runs;
    return TTA_OK;
}

int tta_plan_n_outputs(const tta_plan *p) { return p ? p->model->graph.n_outputs : 0; }

const tta_tensor *tta_plan_output(const tta_plan *p, int i) {
    if (!p || i < 0 || i >= p->model->graph.n_outputs) return NULL;
    return &p->values[p->model->graph.outputs[i]];
}

void tta_plan_free(tta_plan *p) {
    if (!p) return;
    for (int i = 0; i < p->n_all; i++) {
        plan_step *s = &p->all[i];
        if (s->prepared && s->kernel->release) s->kernel->release(&s->ctx);
        tta_free(s->ctx.in);
        tta_free(s->ctx.out);
        tta_free(s->in_layout);
        tta_free(s->out_layout);
    }
    tta_plan_layouts_free(p);
    tta_plan_fuse_free(p);
    for (int i = 0; p->values && i < p->n_values; i++)
        if (p->values[i].capacity && !(p->in_arena && p->in_arena[i])) tta_tensor_destroy(&p->values[i]);
    tta_free(p->arena_mem);
    tta_free(p->in_arena);
    tta_free(p->shared);
    tta_free(p->values);
    tta_free(p->known);
    tta_free(p->shaped);
    tta_free(p->layout);
    tta_free(p->all);
    tta_free(p->steps);
    tta_free(p);
}
