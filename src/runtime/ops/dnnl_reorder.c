/* dnnl_reorder.c - the Reorder step the plan inserts (domain "tta", see layout.c): copies a
 * tensor from its input's layout to its output's (blocked to plain in practice) through a cached
 * oneDNN reorder primitive. */
#include <string.h>

#include "core/alloc.h"
#include "runtime/ops/dnnl_common.h"

typedef struct reorder_state {
    tta_dnnl_reo reo;
    dnnl_stream_t stream;
    bool built;
    int64_t key[4];
} reorder_state;

static tta_status reorder_prepare(tta_op_ctx *ctx) {
    reorder_state *st = tta_calloc(1, sizeof *st);
    if (!st) return tta_op_error(ctx, TTA_ERR_NOMEM, "out of memory");
    ctx->state = st;
    return tta_dnnl_stream_new(ctx, &st->stream);
}

static tta_status reorder_infer(tta_op_ctx *ctx) {
    const tta_tensor *x = ctx->in[0];
    return tta_set_shape(ctx->out[0], x->dtype, x->ndim, x->dims);
}

static tta_status reorder_compute(tta_op_ctx *ctx) {
    reorder_state *st = ctx->state;
    const tta_tensor *x = ctx->in[0];
    tta_tensor *y = ctx->out[0];
    int from = tta_in_layout(ctx, 0), to = tta_out_layout(ctx, 0);
    if (from == to || tta_tensor_numel(x) == 0) {
        memcpy(y->data, x->data, tta_tensor_nbytes(x));
        return TTA_OK;
    }
    if (x->dtype != TTA_DTYPE_FLOAT32 || x->ndim != 4)
        return tta_op_error(ctx, TTA_ERR_INTERNAL, "a layout conversion needs a float32 4-D tensor");
    if (!st->built || memcmp(st->key, x->dims, sizeof st->key)) {
        tta_dnnl_reo_free(&st->reo);
        st->built = false;
        dnnl_memory_desc_t a, b;
        TTA_DNNL_TRY(ctx, tta_dnnl_layout_md(&a, 4, x->dims, from), "source descriptor");
        TTA_DNNL_TRY(ctx, tta_dnnl_layout_md(&b, 4, x->dims, to), "destination descriptor");
        TTA_TRY(tta_dnnl_reo_init(ctx, &st->reo, &a, &b));
        memcpy(st->key, x->dims, sizeof st->key);
        st->built = true;
    }
    TTA_TRY(tta_dnnl_reo_run(ctx, &st->reo, st->stream, x->data, y->data));
    TTA_DNNL_TRY(ctx, dnnl_stream_wait(st->stream), "stream wait");
    return TTA_OK;
}

static void reorder_release(tta_op_ctx *ctx) {
    reorder_state *st = ctx->state;
    if (!st) return;
    tta_dnnl_reo_free(&st->reo);
    if (st->stream) dnnl_stream_destroy(st->stream);
    tta_free(st);
    ctx->state = NULL;
}

const tta_kernel tta_layout_reorder_kernel = {"tta", "Reorder", 1, 0, "dnnl", NULL, reorder_prepare, reorder_infer,
                                            reorder_compute, reorder_release, NULL};
