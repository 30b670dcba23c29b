/* plan.h - the plan's private structure, shared by plan.c (binding, running, memory) and
 * layout.c (which tensors travel blocked, and the Reorder steps that convert them). */
#ifndef TTA_RUNTIME_PLAN_H
#define TTA_RUNTIME_PLAN_H

#include <stdbool.h>

#include "runtime/model.h"
#include "runtime/op.h"

typedef struct plan_step {
    const tta_node *node;
    const tta_kernel *kernel;
    tta_op_ctx ctx;
    bool prepared;
    unsigned char *in_layout, *out_layout; /* owned; ctx points at them once layouts are set */
    unsigned caps;   /* what the kernel's `layouts` answered at plan time (TTA_LAYOUT_*, TTA_SUM_IN_PLACE) */
    double total_ms; /* profiling */
    long runs;
} plan_step;

struct tta_plan {
    const tta_model *model;
    int n_values;        /* graph values, then the plain copies layout.c adds */
    int cap_values;      /* room in values/known/shaped/layout: twice the graph's values */
    tta_tensor *values;  /* one per value; constants borrow the model's data */
    bool *known;         /* data known at plan time (constant or folded) */
    bool *shaped;        /* shape known at plan time */
    unsigned char *layout; /* TTA_LAYOUT_* of each value */
    int n_steps;         /* steps[0..n_steps) run each time; folded nodes are not in the list */
    plan_step **steps;
    int n_all;           /* every prepared step, including folded ones (released on free) */
    int cap_all;
    plan_step *all;
    tta_node *extra_nodes; /* the Reorder nodes layout.c adds (n_extra of them) */
    int n_extra;
    tta_node *fused_nodes; /* the FusedConv nodes plan_fuse.c makes (n_fused of them) */
    int n_fused;
    int n_threads;
    bool profile;
    bool no_blocked; /* tta_plan_options.no_blocked: layout.c keeps everything plain */
    unsigned op_flags; /* given to every step's ctx.flags (TTA_OP_*) */
    unsigned char *arena; /* intermediate tensors, placed by liveness; 64-byte aligned */
    void *arena_mem;      /* the allocation arena points into */
    size_t arena_bytes;
    bool *in_arena;       /* value lives in the arena (its capacity is its slot size) */
    bool *shared;         /* its slot is shared with a view or an in-place sum */
    /* bytes the plan may allocate (plan_memory.c), and those counted so far: folded constants,
     * the arena, run-time buffers and the kernels' own buffers */
    tta_mem_budget mem;
};

/* plan.c: finds the kernel for n, points the step's inputs and outputs at the plan's values and
 * prepares the kernel (no shape inference). */
tta_status tta_plan_step_init(tta_plan *p, plan_step *s, const tta_node *n);

/* plan_fuse.c: a Conv whose output only feeds an Add with a same-shape tensor computed earlier
 * (a residual connection), and that Add's sole consumer Relu, become one FusedConv step. */
tta_status tta_plan_fuse(tta_plan *p);
void tta_plan_fuse_free(tta_plan *p);

/* layout.c: decides the layout of every value the steps write, sets each step's in/out layouts
 * and inserts a Reorder step before the first consumer that needs a blocked value plain. */
tta_status tta_plan_layouts(tta_plan *p);
void tta_plan_layouts_free(tta_plan *p);

/* plan_memory.c: the memory limit. init resolves it (options, TTA_MAX_MEMORY, default);
 * check_outputs refuses an output of step c whose element count or bytes overflow or exceed the
 * limit (called right after each infer); claim counts `bytes` about to be allocated for t
 * (TTA_ERR_NOMEM naming t's producer, t and the sizes when over the limit). */
tta_status tta_plan_memory_init(tta_plan *p, const tta_plan_options *opts);
tta_status tta_plan_check_outputs(const tta_plan *p, const tta_op_ctx *c);
tta_status tta_plan_memory_claim(tta_plan *p, const tta_op_ctx *c, const tta_tensor *t, size_t bytes);
const char *tta_plan_value_name(const tta_plan *p, int v);

/* Sets each step's ctx.n_threads: 1 for steps too small to share (plan_threads.c), else the
 * plan's. Called once the shapes and layouts are final. */
void tta_plan_threads(tta_plan *p);

#endif
