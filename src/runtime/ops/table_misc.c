/* table_misc.c - the kernel table of the 'misc' operator family (see registry.c): reductions,
 * softmax, Resize/Upsample, TopK, NonMaxSuppression and the two losses. The kernels live in
 * misc_*.c; an opset range appears here only where the kernels do not branch on the opset
 * themselves (Upsample ends at 9: it was removed from the default domain in opset 10).
 */
#include "runtime/ops/misc.h"

void tta_misc_release(tta_op_ctx *ctx) {
    misc_scratch *s = ctx->state; /* every misc state starts with its scratch buffer */
    if (!s) return;
    misc_scratch_free(s);
    tta_free(s);
    ctx->state = NULL;
}

#define REDUCE(op) {"", op, 1, 0, "c", NULL, tta_misc_reduce_prepare, tta_misc_reduce_infer, tta_misc_reduce_compute, tta_misc_release, tta_misc_reduce_layouts}
#define SOFTMAX(op) {"", op, 1, 0, "c", NULL, tta_misc_softmax_prepare, tta_misc_softmax_infer, tta_misc_softmax_compute, tta_misc_release}
#define ARG(op) {"", op, 1, 0, "c", NULL, tta_misc_arg_prepare, tta_misc_arg_infer, tta_misc_arg_compute, tta_misc_release}
#define LOSS(op) {"", op, 12, 0, "c", NULL, tta_misc_loss_prepare, tta_misc_loss_infer, tta_misc_loss_compute, tta_misc_release}

const tta_kernel tta_kernels_misc[] = {
    REDUCE("ReduceMean"),
    REDUCE("ReduceMax"),
    REDUCE("ReduceMin"),
    REDUCE("ReduceSum"),
    REDUCE("ReduceProd"),
    REDUCE("ReduceL1"),
    REDUCE("ReduceL2"),
    REDUCE("ReduceLogSum"),
    REDUCE("ReduceLogSumExp"),
    REDUCE("ReduceSumSquare"),
    ARG("ArgMax"),
    ARG("ArgMin"),
    SOFTMAX("Softmax"),
    SOFTMAX("LogSoftmax"),
    SOFTMAX("Hardmax"),
    {"", "Resize", 10, 0, "c", NULL, tta_misc_resize_prepare, tta_misc_resize_infer, tta_misc_resize_compute, tta_misc_resize_release, tta_misc_resize_layouts},
    {"", "Upsample", 7, 9, "c", NULL, tta_misc_resize_prepare, tta_misc_resize_infer, tta_misc_resize_compute, tta_misc_resize_release, tta_misc_resize_layouts},
    {"", "TopK", 1, 0, "c", NULL, tta_misc_topk_prepare, tta_misc_topk_infer, tta_misc_topk_compute, tta_misc_release},
    {"", "NonMaxSuppression", 10, 0, "c", NULL, tta_misc_nms_prepare, tta_misc_nms_infer, tta_misc_nms_compute, tta_misc_nms_release},
    LOSS("NegativeLogLikelihoodLoss"),
    LOSS("SoftmaxCrossEntropyLoss"),
};
const int tta_kernels_misc_count = (int)(sizeof tta_kernels_misc / sizeof tta_kernels_misc[0]);
