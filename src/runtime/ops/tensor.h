/* tensor.h - private header of the 'tensor' operator family (reshaping, data movement and
 * indexing: tensor_shape.c, tensor_move.c, tensor_index.c, listed in table_tensor.c).
 *
 * These ops move bytes without computing on values, so most kernels work for every dtype by
 * element size. The shared helpers below are a strided copy (the engine behind Transpose,
 * Expand, Slice, Tile, DepthToSpace and SpaceToDepth) and readers for the small integer inputs
 * that decide shapes (Reshape's shape, Slice's starts, ...). Those inputs are read in infer with
 * TTA_NEED_DATA, so shape-only subgraphs fold at plan time.
 *
 * Symbols are prefixed tta_tt_ ("tensor family"); nothing here is public API.
 */
#ifndef TTA_RUNTIME_OPS_TENSOR_H
#define TTA_RUNTIME_OPS_TENSOR_H

#include <stddef.h>
#include <stdint.h>

#include "runtime/op.h"

/* Requires output i to be present (the executor gives NULL only for omitted optional outputs). */
#define TTA_TT_NEED_OUTPUT(ctx, i)                                                                           \
    do {                                                                                                     \
        if ((ctx)->n_out <= (i) || !(ctx)->out[(i)])                                                         \
            return tta_op_error((ctx), TTA_ERR_SHAPE, "missing required output %d", (int)(i));               \
    } while (0)

/* Loop rank of the strided copy: Tile interleaves a repeat dim with each data dim. */
#define TTA_TT_MAX_LOOP (2 * TTA_MAX_DIMS)

/* dst[i] = src[sum_d idx_d * src_strides[d]] over the row-major index space `dims` (nd dims);
 * strides are in elements and may be 0 (broadcast) or negative (reversed). dst is contiguous.
 * Adjacent dims are merged where possible and contiguous inner runs are copied with memcpy. */
void tta_tt_strided_copy(void *dst, const void *src, size_t esize, int nd, const int64_t *dims,
                         const int64_t *src_strides, int n_threads);

/* Row-major element strides of a shape. */
void tta_tt_strides(int ndim, const int64_t *dims, int64_t *strides);
/* Product of dims[from..to-1] (1 when empty). */
int64_t tta_tt_prod(const int64_t *dims, int from, int to);
/* Copies src's bytes into dst's buffer (same element count and size assumed); no-op when they
 * share the buffer or are empty. */
void tta_tt_copy_bytes(tta_tensor *dst, const tta_tensor *src);
/* Threads to use for `bytes` of data movement: 1 for small jobs. */
int tta_tt_threads(const tta_op_ctx *ctx, int64_t bytes);

/* Reads an integer input (rank 0 or 1, any integer dtype) whose data is present into vals.
 * `what` names it in errors; more than `max` values is an error. */
tta_status tta_tt_read_ints(const tta_op_ctx *ctx, const tta_tensor *t, const char *what, int64_t *vals,
                            int max, int *n);
/* Checks that an index tensor has an integer dtype (int32 or int64 in ONNX). */
tta_status tta_tt_check_index_dtype(const tta_op_ctx *ctx, const tta_tensor *t, const char *what);
/* Index element i of an int32/int64 tensor, negative values wrapped by `dim`; returns false when
 * the result is outside [0, dim). */
static inline bool tta_tt_index(const tta_tensor *t, int64_t i, int64_t dim, int64_t *out) {
    int64_t v = t->dtype == TTA_DTYPE_INT32 ? ((const int32_t *)t->data)[i] : tta_get_i64(t, i);
    if (v < 0) v += dim;
    *out = v;
    return v >= 0 && v < dim;
}

/* ---- tensor_shape.c */
tta_status tta_tt_constant_prepare(tta_op_ctx *ctx);
tta_status tta_tt_constant_infer(tta_op_ctx *ctx);
tta_status tta_tt_constant_compute(tta_op_ctx *ctx);
tta_status tta_tt_identity_infer(tta_op_ctx *ctx);
tta_status tta_tt_identity_compute(tta_op_ctx *ctx);
tta_status tta_tt_dropout_infer(tta_op_ctx *ctx);
tta_status tta_tt_dropout_compute(tta_op_ctx *ctx);
tta_status tta_tt_shape_infer(tta_op_ctx *ctx);
tta_status tta_tt_shape_compute(tta_op_ctx *ctx);
tta_status tta_tt_size_infer(tta_op_ctx *ctx);
tta_status tta_tt_size_compute(tta_op_ctx *ctx);
tta_status tta_tt_reshape_infer(tta_op_ctx *ctx);
tta_status tta_tt_flatten_infer(tta_op_ctx *ctx);
tta_status tta_tt_squeeze_infer(tta_op_ctx *ctx);
tta_status tta_tt_unsqueeze_infer(tta_op_ctx *ctx);
tta_status tta_tt_view_compute(tta_op_ctx *ctx); /* Reshape/Flatten/Squeeze/Unsqueeze: copy */
tta_status tta_tt_expand_infer(tta_op_ctx *ctx);
tta_status tta_tt_expand_compute(tta_op_ctx *ctx);
tta_status tta_tt_constantofshape_prepare(tta_op_ctx *ctx);
tta_status tta_tt_constantofshape_infer(tta_op_ctx *ctx);
tta_status tta_tt_constantofshape_compute(tta_op_ctx *ctx);
tta_status tta_tt_range_infer(tta_op_ctx *ctx);
tta_status tta_tt_range_compute(tta_op_ctx *ctx);
tta_status tta_tt_eyelike_infer(tta_op_ctx *ctx);
tta_status tta_tt_eyelike_compute(tta_op_ctx *ctx);

/* ---- tensor_move.c */
tta_status tta_tt_transpose_infer(tta_op_ctx *ctx);
tta_status tta_tt_transpose_compute(tta_op_ctx *ctx);
tta_status tta_tt_concat_infer(tta_op_ctx *ctx);
tta_status tta_tt_concat_compute(tta_op_ctx *ctx);
tta_status tta_tt_split_infer(tta_op_ctx *ctx);
tta_status tta_tt_split_compute(tta_op_ctx *ctx);
tta_status tta_tt_slice_infer(tta_op_ctx *ctx);
tta_status tta_tt_slice_compute(tta_op_ctx *ctx);
tta_status tta_tt_tile_infer(tta_op_ctx *ctx);
tta_status tta_tt_tile_compute(tta_op_ctx *ctx);
tta_status tta_tt_pad_prepare(tta_op_ctx *ctx);
tta_status tta_tt_pad_infer(tta_op_ctx *ctx);
tta_status tta_tt_pad_compute(tta_op_ctx *ctx);
tta_status tta_tt_space_prepare(tta_op_ctx *ctx); /* DepthToSpace and SpaceToDepth */
tta_status tta_tt_depthtospace_infer(tta_op_ctx *ctx);
tta_status tta_tt_depthtospace_compute(tta_op_ctx *ctx);
tta_status tta_tt_spacetodepth_infer(tta_op_ctx *ctx);
tta_status tta_tt_spacetodepth_compute(tta_op_ctx *ctx);
tta_status tta_tt_trilu_infer(tta_op_ctx *ctx);
tta_status tta_tt_trilu_compute(tta_op_ctx *ctx);
tta_status tta_tt_cumsum_infer(tta_op_ctx *ctx);
tta_status tta_tt_cumsum_compute(tta_op_ctx *ctx);
tta_status tta_tt_reversesequence_infer(tta_op_ctx *ctx);
tta_status tta_tt_reversesequence_compute(tta_op_ctx *ctx);

/* ---- tensor_index.c */
tta_status tta_tt_gather_infer(tta_op_ctx *ctx);
tta_status tta_tt_gather_compute(tta_op_ctx *ctx);
tta_status tta_tt_gatherelements_infer(tta_op_ctx *ctx);
tta_status tta_tt_gatherelements_compute(tta_op_ctx *ctx);
tta_status tta_tt_gathernd_infer(tta_op_ctx *ctx);
tta_status tta_tt_gathernd_compute(tta_op_ctx *ctx);
tta_status tta_tt_scatter_prepare(tta_op_ctx *ctx); /* ScatterElements, Scatter and ScatterND */
tta_status tta_tt_scatter_infer(tta_op_ctx *ctx);
tta_status tta_tt_scatterelements_compute(tta_op_ctx *ctx);
tta_status tta_tt_scatternd_compute(tta_op_ctx *ctx);
tta_status tta_tt_onehot_infer(tta_op_ctx *ctx);
tta_status tta_tt_onehot_compute(tta_op_ctx *ctx);
tta_status tta_tt_compress_infer(tta_op_ctx *ctx);
tta_status tta_tt_compress_compute(tta_op_ctx *ctx);
tta_status tta_tt_nonzero_infer(tta_op_ctx *ctx);
tta_status tta_tt_nonzero_compute(tta_op_ctx *ctx);

#endif
