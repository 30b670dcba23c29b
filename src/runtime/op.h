/* op.h - the kernel interface: every operator implementation has the same four-phase shape.
 *
 *   prepare(ctx)  once per plan: read and validate attributes, allocate ctx->state.
 *   infer(ctx)    set dtype and shape of each output from the inputs. Called at plan time with
 *                 the inputs' shapes (data only for constants: an input whose data is needed
 *                 but is NULL -> return TTA_DEFER) and again at run time, when all data is there.
 *   compute(ctx)  fill the outputs; the executor has already sized their buffers from infer.
 *   release(ctx)  free ctx->state.
 *
 * Kernels are registered in one table (registry.c) by (domain, op, first opset, last opset)
 * in priority order: oneDNN kernels before the plain C ones; a kernel's `accepts` may decline
 * a node (e.g. an unsupported mode) so that the next one is tried. The plain C kernels are the
 * fallback and the test oracle.
 */
#ifndef TTA_RUNTIME_OP_H
#define TTA_RUNTIME_OP_H

#include <stdbool.h>
#include <stdint.h>

#include "core/error.h"
#include "runtime/graph.h"
#include "tta/tensor.h"

/* Returned by infer when it needs the data of an input that is not known at plan time. Not an
 * error: the shape is then inferred at run time. Never escapes the runtime. */
#define TTA_DEFER ((tta_status)100)

/* Memory layouts of the 4-D float32 tensors [N, C, H, W] a plan passes between kernels.
 * TTA_LAYOUT_BLOCKED is oneDNN's nChw8c (nChw16c on AVX-512 machines): memory order
 * [N][Cp/B][H][W][B] with B = tta_layout_block() and Cp = C rounded up to a multiple of B; the
 * padding channels hold zeros (or values no kernel reads back into real channels). When C is a
 * multiple of B a blocked tensor has the plain one's byte size; otherwise ("padded") it is
 * larger, and only kernels whose `layouts` says TTA_LAYOUT_PADDED see such tensors.
 * Graph inputs and outputs, constants, and everything else are plain. */
enum { TTA_LAYOUT_PLAIN = 0, TTA_LAYOUT_BLOCKED = 1 };
int tta_layout_block(void); /* ops/dnnl_isa.c */

/* What a kernel's `layouts` callback returns: bit i set = input i may be blocked (the kernel
 * reads ctx->in_layout[i]), plus one of the output rules below for output 0. */
#define TTA_LAYOUT_IN(i) (1u << (i))
#define TTA_LAYOUT_OUT_FOLLOW (1u << 16) /* output 0 is blocked exactly when input 0 is */
#define TTA_LAYOUT_OUT_ANY (1u << 17)    /* output 0 may be blocked whatever the inputs are */
#define TTA_LAYOUT_PADDED (1u << 18)     /* blocked inputs/output 0 may have C % B != 0 */
#define TTA_SUM_IN_PLACE (1u << 19)      /* output 0 may share input 3's buffer (a residual sum) */
/* Bytes of t's data in the given layout (the padded size for a padded blocked tensor). */
size_t tta_layout_nbytes(const tta_tensor *t, int layout);

/* The plan's memory limit and what is counted against it so far (plan_memory.c). */
typedef struct tta_mem_budget {
    size_t limit, used;
} tta_mem_budget;

typedef struct tta_op_ctx {
    const tta_node *node;
    int n_in, n_out;
    tta_tensor **in;   /* n_in entries; NULL for an omitted optional input */
    tta_tensor **out;  /* n_out entries; NULL for an omitted optional output */
    void *state;       /* kernel-private, set by prepare */
    int n_threads;     /* threads the kernel may use */
    /* Layout of each input / output (TTA_LAYOUT_*), set by the plan before the first run;
     * NULL means all plain (always so at plan time and for kernels without `layouts`). */
    const unsigned char *in_layout, *out_layout;
    /* The plan's memory budget, which a kernel's own large buffers (packed weights, scratch,
     * oneDNN's scratchpad) are counted against with tta_op_reserve; NULL: no limit. */
    tta_mem_budget *budget;
    unsigned flags; /* the plan's options for kernels: TTA_OP_* */
} tta_op_ctx;

#define TTA_OP_NO_WINOGRAD 1u /* tta_plan_options.no_winograd */

/* Layout of input i / output o (plain when the plan gave none). */
static inline int tta_in_layout(const tta_op_ctx *ctx, int i) { return ctx->in_layout ? ctx->in_layout[i] : 0; }
static inline int tta_out_layout(const tta_op_ctx *ctx, int o) { return ctx->out_layout ? ctx->out_layout[o] : 0; }

typedef struct tta_kernel {
    const char *domain;  /* "" for ai.onnx */
    const char *op_type;
    int since, until;    /* opset range, inclusive; until == 0 means open-ended */
    const char *backend; /* "c" or "dnnl" */
    bool (*accepts)(const tta_node *node); /* optional */
    tta_status (*prepare)(tta_op_ctx *ctx); /* optional */
    tta_status (*infer)(tta_op_ctx *ctx);
    tta_status (*compute)(tta_op_ctx *ctx);
    void (*release)(tta_op_ctx *ctx); /* optional */
    /* Optional: called once at plan time after infer (shapes known, data only for constants);
     * returns which inputs may be blocked and the rule for output 0 (TTA_LAYOUT_* bits), 0 for
     * plain only. A kernel that says so must honour whatever layouts the plan then sets. */
    unsigned (*layouts)(const tta_op_ctx *ctx);
} tta_kernel;

/* Kernel lookup: first registered kernel matching domain, op and opset that accepts the node. */
const tta_kernel *tta_kernel_find(const tta_node *node);
/* The plan's layout conversion step (a blocked tensor to plain; domain "tta", op "Reorder"),
 * which layout.c inserts; not in the kernel table, so no model can name it. */
extern const tta_kernel tta_layout_reorder_kernel;
/* Whether any kernel exists for (domain, op) at any opset, for error messages. */
bool tta_kernel_known_op(const char *domain, const char *op_type);

/* ---- Attribute helpers (defaults when absent; type mismatches are reported as TTA_ERR_ATTR) */
int64_t tta_attr_int(const tta_node *node, const char *name, int64_t def);
float tta_attr_float(const tta_node *node, const char *name, float def);
const char *tta_attr_string(const tta_node *node, const char *name, const char *def);
/* Returns the count (0 when absent) and sets *vals (borrowed). */
int tta_attr_ints(const tta_node *node, const char *name, const int64_t **vals);
int tta_attr_floats(const tta_node *node, const char *name, const float **vals);
const tta_tensor *tta_attr_tensor(const tta_node *node, const char *name);

/* ---- Tensor helpers for kernels */
/* Element i of an integer or float tensor, converted. */
int64_t tta_get_i64(const tta_tensor *t, int64_t i);
double tta_get_f64(const tta_tensor *t, int64_t i);
void tta_set_f64(tta_tensor *t, int64_t i, double v);
void tta_set_i64(tta_tensor *t, int64_t i, int64_t v);
bool tta_dtype_is_float(tta_dtype d);
bool tta_dtype_is_int(tta_dtype d); /* signed or unsigned integers, not bool */

/* Numpy-style broadcast of a and b shapes into out (ndim/dims only). */
tta_status tta_broadcast_shape(const tta_tensor *a, const tta_tensor *b, tta_tensor *out);
/* Sets the shape (and dtype) of an output tensor without allocating (infer uses this). */
tta_status tta_set_shape(tta_tensor *t, tta_dtype dtype, int ndim, const int64_t *dims);
/* Normalises a possibly negative axis for a rank; error if out of range. */
tta_status tta_norm_axis(const tta_op_ctx *ctx, int64_t axis, int rank, int *out);
/* Convenience error with node context: "node 'name' (Op): message". */
tta_status tta_op_error(const tta_op_ctx *ctx, tta_status st, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Sets what this kernel holds against the plan's memory budget to `bytes` (`*held` is the kernel's
 * count so far, kept in its state; the budget changes by the difference). Call it before
 * allocating; TTA_ERR_NOMEM naming the node and `what` when the limit would be passed (`*held`
 * then stays as it was). Always TTA_OK without a budget. */
tta_status tta_op_reserve(const tta_op_ctx *ctx, size_t *held, size_t bytes, const char *what);

/* Requires input i to be present. */
#define TTA_NEED_INPUT(ctx, i)                                                                 \
    do {                                                                                       \
        if ((ctx)->n_in <= (i) || !(ctx)->in[(i)])                                             \
            return tta_op_error((ctx), TTA_ERR_SHAPE, "missing required input %d", (int)(i));  \
    } while (0)

/* Infer needs input i's data: defers at plan time when it is not known yet. */
#define TTA_NEED_DATA(ctx, i)                                                                  \
    do {                                                                                       \
        TTA_NEED_INPUT(ctx, i);                                                                \
        if (!(ctx)->in[(i)]->data) return TTA_DEFER;                                           \
    } while (0)

/* Each ops file exposes its kernels as an array and count, collected in registry.c. */
#define TTA_KERNEL_LIST(name) extern const tta_kernel name[]; extern const int name##_count;

#endif
