/* dnnl_common.h - shared plumbing of the oneDNN-backed kernels (family "dnnl"): the process-wide
 * CPU engine, streams, error translation, plain (row-major) memory descriptors, and the fallback
 * to the plain C kernel of the same op when oneDNN cannot do a node exactly as ONNX does (other
 * dtypes, ranks or modes).
 */
#ifndef TTA_RUNTIME_OPS_DNNL_COMMON_H
#define TTA_RUNTIME_OPS_DNNL_COMMON_H

#include <stdbool.h>
#include <stddef.h>

#include <oneapi/dnnl/dnnl.h>

#include "runtime/op.h"

/* Applies TTA_MAX_ISA to oneDNN (dnnl_set_max_cpu_isa) once per process, before oneDNN is first
 * used; every path into oneDNN calls it (engine creation and tta_layout_block do). */
void tta_dnnl_isa_init(void);

/* The CPU engine, created once per process (thread-safe). */
tta_status tta_dnnl_engine(const tta_op_ctx *ctx, dnnl_engine_t *out);
/* A new in-order stream on the engine; the caller destroys it with dnnl_stream_destroy. */
tta_status tta_dnnl_stream_new(const tta_op_ctx *ctx, dnnl_stream_t *out);

/* Translates a oneDNN status into a tta_status with a message naming the node and `what`
 * (TTA_OK for dnnl_success). */
tta_status tta_dnnl_error(const tta_op_ctx *ctx, dnnl_status_t s, const char *what);
#define TTA_DNNL_TRY(ctx, call, what)                                                          \
    do {                                                                                       \
        dnnl_status_t tta_dnnl_s_ = (call);                                                    \
        if (tta_dnnl_s_ != dnnl_success) return tta_dnnl_error((ctx), tta_dnnl_s_, (what));    \
    } while (0)

/* A float32 memory descriptor with row-major strides for dims[0..ndim). */
dnnl_status_t tta_dnnl_plain_md(dnnl_memory_desc_t *md, int ndim, const int64_t *dims);

/* A float32 descriptor for a tensor in the given TTA_LAYOUT_* (blocked: 4-D, nChw8c/nChw16c). */
dnnl_status_t tta_dnnl_layout_md(dnnl_memory_desc_t *md, int ndim, const int64_t *dims, int layout);

/* Memory object for `md` with no buffer yet (set per run with dnnl_memory_set_data_handle). */
tta_status tta_dnnl_memory(const tta_op_ctx *ctx, const dnnl_memory_desc_t *md, dnnl_memory_t *out);

/* Copies `src` (with descriptor src_md) into `dst` (dst_md), converting the layout. */
tta_status tta_dnnl_reorder(const tta_op_ctx *ctx, const dnnl_memory_desc_t *src_md, void *src,
                            const dnnl_memory_desc_t *dst_md, void *dst);

/* A cached reorder between two layouts of the same tensor: memories without buffers, set per run
 * by tta_dnnl_reorder_run. */
typedef struct tta_dnnl_reo {
    dnnl_primitive_t prim;
    dnnl_memory_t from, to;
} tta_dnnl_reo;
tta_status tta_dnnl_reo_init(const tta_op_ctx *ctx, tta_dnnl_reo *r, const dnnl_memory_desc_t *from,
                             const dnnl_memory_desc_t *to);
tta_status tta_dnnl_reo_run(const tta_op_ctx *ctx, tta_dnnl_reo *r, dnnl_stream_t stream, void *from, void *to);
void tta_dnnl_reo_free(tta_dnnl_reo *r);

/* Creates a primitive for `op_desc` with `attr` (may be NULL); returns dnnl's status so callers
 * can fall back to the C kernel on dnnl_unimplemented. dnnl_out_of_memory, before anything is
 * allocated, when the primitive's scratchpad does not fit in what is left of ctx's memory budget
 * (the caller then counts it with tta_op_reserve, beside its own buffers). */
dnnl_status_t tta_dnnl_primitive(const tta_op_ctx *ctx, const void *op_desc, const_dnnl_primitive_attr_t attr,
                                 dnnl_primitive_desc_t *pd, dnnl_primitive_t *prim);
/* Bytes of the scratchpad a primitive descriptor asks for (0 for none or NULL). */
size_t tta_dnnl_scratchpad_bytes(const_dnnl_primitive_desc_t pd);

/* ---- Fallback to the plain C kernel of the same op (found in the given C family tables).
 * A dnnl kernel keeps one of these at the start of its state; prepare/infer/compute/release
 * of the C kernel then run with the C kernel's own state. */
typedef struct tta_dnnl_fallback {
    const tta_kernel *ck; /* the C kernel for this node */
    void *cstate;         /* its state */
} tta_dnnl_fallback;

/* Finds the C kernel for ctx->node's op and opset and runs its prepare. */
tta_status tta_dnnl_fallback_prepare(tta_op_ctx *ctx, tta_dnnl_fallback *fb, const char *op_type);
tta_status tta_dnnl_fallback_infer(tta_op_ctx *ctx, tta_dnnl_fallback *fb);
tta_status tta_dnnl_fallback_compute(tta_op_ctx *ctx, tta_dnnl_fallback *fb);
void tta_dnnl_fallback_release(tta_op_ctx *ctx, tta_dnnl_fallback *fb);

/* The end of every dnnl kernel's release: destroys the stream (may be NULL), releases the C
 * fallback's state, frees ctx->state (which holds fb) and clears it. */
void tta_dnnl_state_free(tta_op_ctx *ctx, tta_dnnl_fallback *fb, dnnl_stream_t stream);

/* Whether the input tensor is present, float32 and of rank `ndim` (any rank when ndim < 0). */
bool tta_dnnl_is_f32(const tta_tensor *t, int ndim);

/* ---- Kernel entry points (registered in table_dnnl.c) */

/* dnnl_conv.c: Conv and com.microsoft FusedConv */
bool tta_dnnl_fusedconv_accepts(const tta_node *node);
tta_status tta_dnnl_conv_prepare(tta_op_ctx *ctx);
tta_status tta_dnnl_conv_infer(tta_op_ctx *ctx);
tta_status tta_dnnl_conv_compute(tta_op_ctx *ctx);
void tta_dnnl_conv_release(tta_op_ctx *ctx);
unsigned tta_dnnl_conv_layouts(const tta_op_ctx *ctx);

/* dnnl_pool.c: MaxPool (without Indices), AveragePool */
bool tta_dnnl_pool_accepts(const tta_node *node);
tta_status tta_dnnl_pool_prepare(tta_op_ctx *ctx);
tta_status tta_dnnl_pool_infer(tta_op_ctx *ctx);
tta_status tta_dnnl_pool_compute(tta_op_ctx *ctx);
void tta_dnnl_pool_release(tta_op_ctx *ctx);
unsigned tta_dnnl_pool_layouts(const tta_op_ctx *ctx);
/* GlobalAveragePool, GlobalMaxPool (same file) */
tta_status tta_dnnl_global_pool_prepare(tta_op_ctx *ctx);

/* dnnl_matmul.c: Gemm, MatMul (any rank, numpy broadcasting; tiny batched products on C) */
tta_status tta_dnnl_matmul_prepare(tta_op_ctx *ctx);
tta_status tta_dnnl_matmul_infer(tta_op_ctx *ctx);
tta_status tta_dnnl_matmul_compute(tta_op_ctx *ctx);
void tta_dnnl_matmul_release(tta_op_ctx *ctx);

#endif
