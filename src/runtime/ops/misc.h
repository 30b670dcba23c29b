/* misc.h - private header of the 'misc' operator family: the kernel entry points that
 * table_misc.c puts in the kernel table, and a few small helpers shared by the misc_*.c files.
 *
 *   misc_reduce.c   Reduce{Mean,Max,Min,Sum,Prod,L1,L2,LogSum,LogSumExp,SumSquare}, ArgMax/ArgMin
 *   misc_softmax.c  Softmax, LogSoftmax, Hardmax
 *   misc_resize.c   Resize (opsets 10, 11, 13, 18, 19) and Upsample (7, 9)
 *   misc_select.c   TopK, NonMaxSuppression
 *   misc_loss.c     NegativeLogLikelihoodLoss, SoftmaxCrossEntropyLoss
 *
 * Each kernel keeps its parsed attributes in ctx->state (set by prepare, freed by release);
 * states that need temporary memory keep a growable scratch buffer there so that steady-state
 * runs do not allocate.
 */
#ifndef TTA_RUNTIME_OPS_MISC_H
#define TTA_RUNTIME_OPS_MISC_H

#include <stddef.h>

#include "core/alloc.h"
#include "runtime/op.h"

/* ---- kernel entry points */
tta_status tta_misc_reduce_prepare(tta_op_ctx *ctx);
tta_status tta_misc_reduce_infer(tta_op_ctx *ctx);
tta_status tta_misc_reduce_compute(tta_op_ctx *ctx);
unsigned tta_misc_reduce_layouts(const tta_op_ctx *ctx); /* blocked input for a spatial pool */
tta_status tta_misc_arg_prepare(tta_op_ctx *ctx);
tta_status tta_misc_arg_infer(tta_op_ctx *ctx);
tta_status tta_misc_arg_compute(tta_op_ctx *ctx);

tta_status tta_misc_softmax_prepare(tta_op_ctx *ctx);
tta_status tta_misc_softmax_infer(tta_op_ctx *ctx);
tta_status tta_misc_softmax_compute(tta_op_ctx *ctx);

tta_status tta_misc_resize_prepare(tta_op_ctx *ctx);
tta_status tta_misc_resize_infer(tta_op_ctx *ctx);
tta_status tta_misc_resize_compute(tta_op_ctx *ctx);

tta_status tta_misc_topk_prepare(tta_op_ctx *ctx);
tta_status tta_misc_topk_infer(tta_op_ctx *ctx);
tta_status tta_misc_topk_compute(tta_op_ctx *ctx);
tta_status tta_misc_nms_prepare(tta_op_ctx *ctx);
tta_status tta_misc_nms_infer(tta_op_ctx *ctx);
tta_status tta_misc_nms_compute(tta_op_ctx *ctx);
void tta_misc_nms_release(tta_op_ctx *ctx);

tta_status tta_misc_loss_prepare(tta_op_ctx *ctx);
tta_status tta_misc_loss_infer(tta_op_ctx *ctx);
tta_status tta_misc_loss_compute(tta_op_ctx *ctx);

/* Frees ctx->state when it is a plain struct whose first member is a misc_scratch. */
void tta_misc_release(tta_op_ctx *ctx);

/* ---- helpers */

/* A growable buffer owned by a kernel state. */
typedef struct misc_scratch {
    void *p;
    size_t cap;
} misc_scratch;

/* Returns a buffer of at least `size` bytes (contents not kept), or NULL when out of memory. */
static inline void *misc_scratch_get(misc_scratch *s, size_t size) {
    if (size == 0) size = 1;
    if (s->cap < size) {
        void *p = tta_malloc(size);
        if (!p) return NULL;
        tta_free(s->p);
        s->p = p;
        s->cap = size;
    }
    return s->p;
}

static inline void misc_scratch_free(misc_scratch *s) {
    tta_free(s->p);
    s->p = NULL;
    s->cap = 0;
}

static inline int misc_threads(const tta_op_ctx *ctx) { return ctx->n_threads > 0 ? ctx->n_threads : 1; }

/* Product of dims[from..to). */
static inline int64_t misc_prod(const int64_t *dims, int from, int to) {
    int64_t p = 1;
    for (int i = from; i < to; i++) p *= dims[i];
    return p;
}

/* Whether the kernel computes on this dtype: numeric types (float16 through conversion). */
static inline bool misc_numeric(tta_dtype d) { return tta_dtype_is_float(d) || tta_dtype_is_int(d); }

/* ---- Resize: extra entry points (misc_resize.c) and the 2-D fast path (misc_resize_fast.c) */

/* Frees the Resize state (its scratch and the fast path's cached tap tables). */
void tta_misc_resize_release(tta_op_ctx *ctx);
/* The `layouts` callback: input 0 may be blocked (output follows) when the fast path applies. */
unsigned tta_misc_resize_layouts(const tta_op_ctx *ctx);
/* The generic n-D kernel alone, never the fast path (plain layouts only): for tests. */
tta_status tta_misc_resize_compute_generic(tta_op_ctx *ctx);

/* Taps of a 2-D resize: for each output row (oh) and column (ow), two input indices and their
 * weights; nearest uses row0/col0 only. See misc_resize_fast.c for the formula. */
typedef struct tta_resize2d {
    int64_t ih, iw, oh, ow;
    bool linear;
    const int64_t *row0, *row1, *col0, *col1;
    const double *rw0, *rw1, *cw0, *cw1;
} tta_resize2d;

/* Scratch bytes per thread tta_resize2d_run needs for pixels of B floats. */
size_t tta_resize2d_scratch(const tta_resize2d *r, int64_t B);
/* Resizes `planes` planes of ih x iw pixels of B floats (x) into oh x ow (y); scratch holds
 * nt * tta_resize2d_scratch(r, B) bytes (may be NULL when that is 0). */
void tta_resize2d_run(const tta_resize2d *r, const float *x, float *y, int64_t planes, int64_t B, void *scratch,
                      int nt);

#endif
