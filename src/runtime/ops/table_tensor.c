/* table_tensor.c - the kernel table of the 'tensor' operator family (see registry.c): reshaping
 * and shape ops (tensor_shape.c), data movement (tensor_move.c) and indexing (tensor_index.c).
 *
 * One entry per op from its first opset on; the kernels branch on the node's opset where the
 * op changed (attributes that became inputs, new attributes, new modes). */
#include "runtime/ops/tensor.h"

#define C_KERNEL(op, since_, prepare_, infer_, compute_)                                                     \
    {                                                                                                        \
        .domain = "", .op_type = op, .since = since_, .until = 0, .backend = "c", .prepare = prepare_,       \
        .infer = infer_, .compute = compute_                                                                 \
    }

const tta_kernel tta_kernels_tensor[] = {
    /* tensor_shape.c */
    C_KERNEL("Constant", 1, tta_tt_constant_prepare, tta_tt_constant_infer, tta_tt_constant_compute),
    C_KERNEL("Identity", 1, NULL, tta_tt_identity_infer, tta_tt_identity_compute),
    C_KERNEL("Dropout", 1, NULL, tta_tt_dropout_infer, tta_tt_dropout_compute),
    C_KERNEL("Shape", 1, NULL, tta_tt_shape_infer, tta_tt_shape_compute),
    C_KERNEL("Size", 1, NULL, tta_tt_size_infer, tta_tt_size_compute),
    C_KERNEL("Reshape", 1, NULL, tta_tt_reshape_infer, tta_tt_view_compute),
    C_KERNEL("Flatten", 1, NULL, tta_tt_flatten_infer, tta_tt_view_compute),
    C_KERNEL("Squeeze", 1, NULL, tta_tt_squeeze_infer, tta_tt_view_compute),
    C_KERNEL("Unsqueeze", 1, NULL, tta_tt_unsqueeze_infer, tta_tt_view_compute),
    C_KERNEL("Expand", 8, NULL, tta_tt_expand_infer, tta_tt_expand_compute),
    C_KERNEL("ConstantOfShape", 9, tta_tt_constantofshape_prepare, tta_tt_constantofshape_infer,
             tta_tt_constantofshape_compute),
    C_KERNEL("Range", 11, NULL, tta_tt_range_infer, tta_tt_range_compute),
    C_KERNEL("EyeLike", 9, NULL, tta_tt_eyelike_infer, tta_tt_eyelike_compute),
    /* tensor_move.c */
    C_KERNEL("Transpose", 1, NULL, tta_tt_transpose_infer, tta_tt_transpose_compute),
    C_KERNEL("Concat", 1, NULL, tta_tt_concat_infer, tta_tt_concat_compute),
    C_KERNEL("Split", 1, NULL, tta_tt_split_infer, tta_tt_split_compute),
    C_KERNEL("Slice", 1, NULL, tta_tt_slice_infer, tta_tt_slice_compute),
    C_KERNEL("Tile", 1, NULL, tta_tt_tile_infer, tta_tt_tile_compute),
    C_KERNEL("Pad", 1, tta_tt_pad_prepare, tta_tt_pad_infer, tta_tt_pad_compute),
    C_KERNEL("DepthToSpace", 1, tta_tt_space_prepare, tta_tt_depthtospace_infer, tta_tt_depthtospace_compute),
    C_KERNEL("SpaceToDepth", 1, tta_tt_space_prepare, tta_tt_spacetodepth_infer, tta_tt_spacetodepth_compute),
    C_KERNEL("Trilu", 14, NULL, tta_tt_trilu_infer, tta_tt_trilu_compute),
    C_KERNEL("CumSum", 11, NULL, tta_tt_cumsum_infer, tta_tt_cumsum_compute),
    C_KERNEL("ReverseSequence", 10, NULL, tta_tt_reversesequence_infer, tta_tt_reversesequence_compute),
    /* tensor_index.c */
    C_KERNEL("Gather", 1, NULL, tta_tt_gather_infer, tta_tt_gather_compute),
    C_KERNEL("GatherElements", 11, NULL, tta_tt_gatherelements_infer, tta_tt_gatherelements_compute),
    C_KERNEL("GatherND", 11, NULL, tta_tt_gathernd_infer, tta_tt_gathernd_compute),
    C_KERNEL("ScatterElements", 11, tta_tt_scatter_prepare, tta_tt_scatter_infer,
             tta_tt_scatterelements_compute),
    C_KERNEL("Scatter", 9, tta_tt_scatter_prepare, tta_tt_scatter_infer, tta_tt_scatterelements_compute),
    C_KERNEL("ScatterND", 11, tta_tt_scatter_prepare, tta_tt_scatter_infer, tta_tt_scatternd_compute),
    C_KERNEL("OneHot", 9, NULL, tta_tt_onehot_infer, tta_tt_onehot_compute),
    C_KERNEL("Compress", 9, NULL, tta_tt_compress_infer, tta_tt_compress_compute),
    C_KERNEL("NonZero", 9, NULL, tta_tt_nonzero_infer, tta_tt_nonzero_compute),
};
const int tta_kernels_tensor_count = (int)(sizeof tta_kernels_tensor / sizeof tta_kernels_tensor[0]);
