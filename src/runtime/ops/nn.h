/* nn.h - private declarations of the 'nn' operator family (Conv, pooling, normalisation,
 * Gemm, MatMul): the kernel entry points collected in table_nn.c, and the shared sgemm that
 * Conv, Gemm and MatMul all use.
 */
#ifndef TTA_RUNTIME_OPS_NN_H
#define TTA_RUNTIME_OPS_NN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "runtime/op.h"

/* ---- sgemm (nn_gemm.c)
 *
 * C[M,N] = alpha * op(A)[M,K] * op(B)[K,N] + beta * C, row-major with leading dimensions
 * lda/ldb/ldc (op(X) = X^T when trans). beta == 0 never reads C (so C may hold garbage).
 * Cache-blocked with packed panels; threads split the output tiles, so the result does not
 * depend on the thread count. `work` is scratch of tta_sgemm_work_floats(M, N, K) floats,
 * or NULL to have the call allocate (and free) its own. Returns TTA_ERR_NOMEM only when it
 * has to allocate and cannot. */
size_t tta_sgemm_work_floats(int64_t M, int64_t N, int64_t K);
tta_status tta_sgemm(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, float alpha, const float *A,
                     int64_t lda, const float *B, int64_t ldb, float beta, float *C, int64_t ldc, float *work,
                     int n_threads);

/* A growable scratch buffer kept in a kernel's state, so steady-state runs do not allocate. */
typedef struct tta_nn_scratch {
    void *ptr;
    size_t bytes;
} tta_nn_scratch;
/* Returns a buffer of at least `bytes` (contents undefined), or NULL when out of memory. */
void *tta_nn_scratch_get(tta_nn_scratch *s, size_t bytes);
void tta_nn_scratch_free(tta_nn_scratch *s);

/* ---- Kernel entry points. Each op's prepare parses attributes into ctx->state; release
 * frees it. */
/* nn_gemm.c */
tta_status tta_nn_gemm_prepare(tta_op_ctx *ctx);
tta_status tta_nn_gemm_infer(tta_op_ctx *ctx);
tta_status tta_nn_gemm_compute(tta_op_ctx *ctx);
tta_status tta_nn_matmul_prepare(tta_op_ctx *ctx);
tta_status tta_nn_matmul_infer(tta_op_ctx *ctx);
tta_status tta_nn_matmul_compute(tta_op_ctx *ctx);
void tta_nn_scratch_release(tta_op_ctx *ctx); /* state is a bare tta_nn_scratch-led struct */

/* nn_conv.c */
tta_status tta_nn_conv_prepare(tta_op_ctx *ctx);
tta_status tta_nn_conv_infer(tta_op_ctx *ctx);
tta_status tta_nn_conv_compute(tta_op_ctx *ctx);
tta_status tta_nn_convtranspose_prepare(tta_op_ctx *ctx);
tta_status tta_nn_convtranspose_infer(tta_op_ctx *ctx);
tta_status tta_nn_convtranspose_compute(tta_op_ctx *ctx);
void tta_nn_conv_release(tta_op_ctx *ctx);

/* nn_pool.c */
tta_status tta_nn_pool_prepare(tta_op_ctx *ctx); /* MaxPool, AveragePool, LpPool */
tta_status tta_nn_pool_infer(tta_op_ctx *ctx);
tta_status tta_nn_pool_compute(tta_op_ctx *ctx);
tta_status tta_nn_global_pool_infer(tta_op_ctx *ctx); /* GlobalAveragePool, GlobalMaxPool, GlobalLpPool */
tta_status tta_nn_global_pool_compute(tta_op_ctx *ctx);
tta_status tta_nn_maxunpool_prepare(tta_op_ctx *ctx);
tta_status tta_nn_maxunpool_infer(tta_op_ctx *ctx);
tta_status tta_nn_maxunpool_compute(tta_op_ctx *ctx);
void tta_nn_free_state(tta_op_ctx *ctx); /* tta_free(ctx->state) */

/* nn_norm.c */
tta_status tta_nn_batchnorm_prepare(tta_op_ctx *ctx);
tta_status tta_nn_batchnorm_infer(tta_op_ctx *ctx);
tta_status tta_nn_batchnorm_compute(tta_op_ctx *ctx);
tta_status tta_nn_instancenorm_infer(tta_op_ctx *ctx);
tta_status tta_nn_instancenorm_compute(tta_op_ctx *ctx);
tta_status tta_nn_layernorm_prepare(tta_op_ctx *ctx);
tta_status tta_nn_layernorm_infer(tta_op_ctx *ctx);
tta_status tta_nn_layernorm_compute(tta_op_ctx *ctx);
tta_status tta_nn_lrn_prepare(tta_op_ctx *ctx);
tta_status tta_nn_lrn_infer(tta_op_ctx *ctx);
tta_status tta_nn_lrn_compute(tta_op_ctx *ctx);
tta_status tta_nn_mvn_prepare(tta_op_ctx *ctx);
tta_status tta_nn_mvn_infer(tta_op_ctx *ctx);
tta_status tta_nn_mvn_compute(tta_op_ctx *ctx);

#endif
