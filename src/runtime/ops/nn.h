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

/* Y[M,N] = alpha * A[M,K] B[K,N] (+ bias[N] per row, when given) for a few rows (M <= 8) by a
 * constant B packed once (nn_gemv.c): the same bits at every ISA level and thread count. */
int64_t tta_gemv_packed_floats(int64_t K, int64_t N);
void tta_gemv_pack(const float *B, int64_t K, int64_t N, bool trans_b, float *packed);
void tta_gemv_run(int M, int64_t K, int64_t N, const float *A, int64_t lda, const float *packed, const float *bias,
                  float alpha, float *Y, int n_threads);

/* ---- sgemm (nn_gemm.c)
 *
 * C[M,N] = alpha * op(A)[M,K] * op(B)[K,N] + beta * C, row-major with leading dimensions
 * lda/ldb/ldc (op(X) = X^T when trans). beta == 0 never reads C (so C may hold garbage).
 * Cache-blocked with packed panels; up to n_threads threads each compute a slice of C, and the
 * result does not depend on the thread count. `work` is scratch of
 * tta_sgemm_work_floats(M, N, K, n_threads) floats (about 1 MB per thread at most), or NULL to
 * have the call allocate (and free) its own. Returns TTA_ERR_NOMEM only when it has to
 * allocate and cannot. */
size_t tta_sgemm_work_floats(int64_t M, int64_t N, int64_t K, int n_threads);
tta_status tta_sgemm(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, float alpha, const float *A,
                     int64_t lda, const float *B, int64_t ldb, float beta, float *C, int64_t ldc, float *work,
                     int n_threads);

/* A growable scratch buffer kept in a kernel's state, so steady-state runs do not allocate. */
typedef struct tta_nn_scratch {
    void *ptr;
    size_t bytes;
} tta_nn_scratch;
/* Sets *out to a buffer of at least `bytes` (contents undefined), grown within the plan's memory
 * budget (tta_op_reserve); TTA_ERR_NOMEM naming the node and `what` when it cannot be. */
tta_status tta_nn_scratch_get(const tta_op_ctx *ctx, tta_nn_scratch *s, size_t bytes, const char *what, void **out);
void tta_nn_scratch_free(tta_nn_scratch *s);

/* ---- Sliding-window geometry shared by Conv and the pools (nn_conv.c) */
#define TTA_NN_MAX_SPATIAL (TTA_MAX_DIMS - 2)

typedef enum tta_nn_autopad {
    TTA_NN_PAD_NOTSET,
    TTA_NN_PAD_SAME_UPPER,
    TTA_NN_PAD_SAME_LOWER,
    TTA_NN_PAD_VALID
} tta_nn_autopad;

/* The window attributes as given (counts are 0 when an attribute is absent). */
typedef struct tta_nn_window {
    tta_nn_autopad auto_pad;
    int n_kernel, n_strides, n_dilations, n_pads;
    int64_t kernel[TTA_NN_MAX_SPATIAL], strides[TTA_NN_MAX_SPATIAL], dilations[TTA_NN_MAX_SPATIAL];
    int64_t pads[2 * TTA_NN_MAX_SPATIAL];
} tta_nn_window;

/* The window resolved for one input: per spatial axis the input size, kernel, stride, dilation,
 * begin/end pads and output size. */
typedef struct tta_nn_geom {
    int ns;
    int64_t in[TTA_NN_MAX_SPATIAL], k[TTA_NN_MAX_SPATIAL], s[TTA_NN_MAX_SPATIAL], d[TTA_NN_MAX_SPATIAL];
    int64_t pb[TTA_NN_MAX_SPATIAL], pe[TTA_NN_MAX_SPATIAL], out[TTA_NN_MAX_SPATIAL];
} tta_nn_geom;

/* Reads auto_pad, kernel_shape, strides, dilations and pads (TTA_ERR_ATTR on bad values). */
tta_status tta_nn_window_parse(tta_op_ctx *ctx, tta_nn_window *w);
/* Output size and pads for `ns` spatial axes of sizes in[] and kernel k[]. ceil_mode (pools)
 * rounds the window count up but never starts a window in the end padding. */
/* ConvTranspose's pads and output size per spatial axis, as ONNX defines them (output_padding
 * out_pad and output_shape oshape may be NULL; attribute lengths already checked). False when
 * an output size would be negative. */
bool tta_nn_convt_axes(const tta_nn_window *win, int ns, const int64_t *in_dims, const int64_t *k_dims,
                       const int64_t *out_pad, const int64_t *oshape, tta_nn_geom *g);
tta_status tta_nn_window_resolve(tta_op_ctx *ctx, const tta_nn_window *w, int ns, const int64_t *in,
                                 const int64_t *k, bool ceil_mode, tta_nn_geom *g);

/* ---- Kernel entry points (registered in table_nn.c). prepare parses attributes into
 * ctx->state; the matching release frees it. */
/* nn_gemm.c: Gemm, MatMul */
tta_status tta_nn_gemm_prepare(tta_op_ctx *ctx);
tta_status tta_nn_gemm_infer(tta_op_ctx *ctx);
tta_status tta_nn_gemm_compute(tta_op_ctx *ctx);
tta_status tta_nn_matmul_prepare(tta_op_ctx *ctx);
tta_status tta_nn_matmul_infer(tta_op_ctx *ctx);
tta_status tta_nn_matmul_compute(tta_op_ctx *ctx);
void tta_nn_gemm_release(tta_op_ctx *ctx);

/* nn_conv.c: Conv, ConvTranspose */
tta_status tta_nn_conv_prepare(tta_op_ctx *ctx);
tta_status tta_nn_conv_infer(tta_op_ctx *ctx);
tta_status tta_nn_conv_compute(tta_op_ctx *ctx);
tta_status tta_nn_convtranspose_prepare(tta_op_ctx *ctx);
tta_status tta_nn_convtranspose_infer(tta_op_ctx *ctx);
tta_status tta_nn_convtranspose_compute(tta_op_ctx *ctx);
void tta_nn_conv_release(tta_op_ctx *ctx);

/* nn_pool.c: MaxPool, AveragePool, LpPool (one kernel), Global*Pool, MaxUnpool */
tta_status tta_nn_pool_prepare(tta_op_ctx *ctx);
tta_status tta_nn_pool_infer(tta_op_ctx *ctx);
tta_status tta_nn_pool_compute(tta_op_ctx *ctx);
tta_status tta_nn_global_pool_infer(tta_op_ctx *ctx);
tta_status tta_nn_global_pool_compute(tta_op_ctx *ctx);
tta_status tta_nn_maxunpool_prepare(tta_op_ctx *ctx);
tta_status tta_nn_maxunpool_infer(tta_op_ctx *ctx);
tta_status tta_nn_maxunpool_compute(tta_op_ctx *ctx);
void tta_nn_pool_release(tta_op_ctx *ctx);
unsigned tta_nn_pool_layouts(const tta_op_ctx *ctx); /* blocked 2-D float32 MaxPool/AveragePool */

/* nn_norm.c: BatchNormalization, InstanceNormalization, LayerNormalization, LRN, MVN */
tta_status tta_nn_batchnorm_prepare(tta_op_ctx *ctx);
tta_status tta_nn_batchnorm_infer(tta_op_ctx *ctx);
tta_status tta_nn_batchnorm_compute(tta_op_ctx *ctx);
unsigned tta_nn_batchnorm_layouts(const tta_op_ctx *ctx);
tta_status tta_nn_instancenorm_prepare(tta_op_ctx *ctx);
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
void tta_nn_norm_release(tta_op_ctx *ctx);

#endif
