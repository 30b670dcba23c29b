/* conv_winograd.h - 3x3, stride-1, dilation-1, group-1 convolution by Winograd (F(4x4,3x3) or
 * F(2x2,3x3)) on channel-blocked float32 tensors (TTA_LAYOUT_BLOCKED, [N][C/B][H][W][B]), with
 * bias, a residual input Z and an activation fused, for the oneDNN Conv kernel (dnnl_conv.c) to
 * call where oneDNN has no Winograd (oneDNN 2.6 has it for AVX-512 only). Needs AVX2 and FMA.
 * About 2x faster than oneDNN's jit:avx2 direct conv on this project's 3x3 convs; errors
 * |got - ref| <= 6e-5 * (1 + |ref|) for inputs and weights in [-1, 1] (measured up to ic = 1024).
 *
 *     tta_wino_params p = {.n = 64, .ic = 32, .oc = 32, .h = 28, .w = 28, .pad_t = 1, .pad_l = 1,
 *                          .pad_b = 1, .pad_r = 1, .act = TTA_WINO_RELU, .n_threads = 2};
 *     if (tta_wino_worth(&p)) {
 *         tta_wino *wg;
 *         TTA_TRY(tta_wino_create(&p, w_onnx, &wg));       // once: transforms the weights
 *         TTA_TRY(tta_wino_run(wg, x, bias, z, y));         // per run, no allocation
 *         tta_wino_free(wg);
 *     }
 */
#ifndef TTA_RUNTIME_OPS_CONV_WINOGRAD_H
#define TTA_RUNTIME_OPS_CONV_WINOGRAD_H

#include <stdbool.h>
#include <stdint.h>

#include "tta/status.h"

typedef enum tta_wino_act {
    TTA_WINO_NONE,
    TTA_WINO_RELU,
    TTA_WINO_LEAKYRELU, /* alpha = act_a */
    TTA_WINO_CLIP,      /* [act_a, act_b] */
    TTA_WINO_SIGMOID,
    TTA_WINO_TANH,
    TTA_WINO_HARDSIGMOID, /* clip(act_a * x + act_b, 0, 1) */
    TTA_WINO_HARDSWISH,   /* x * clip(x / 6 + 0.5, 0, 1) */
    TTA_WINO_SWISH        /* x * sigmoid(x) */
} tta_wino_act;

typedef struct tta_wino_params {
    int64_t n, ic, oc, h, w;            /* input [n, ic, h, w]; output [n, oc, oh, ow] */
    int64_t pad_t, pad_l, pad_b, pad_r; /* oh = h + pad_t + pad_b - 2, ow = w + pad_l + pad_r - 2 */
    tta_wino_act act;
    float act_a, act_b; /* ONNX meanings, see tta_wino_act */
    int n_threads;      /* OpenMP threads a run may use (>= 1) */
    int block;          /* channel block B of x, y and z; 0 = tta_layout_block() */
    int tile;           /* output tile: 2 = F(2x2,3x3), 4 = F(4x4,3x3), 0 = measured choice */
} tta_wino_params;

typedef struct tta_wino tta_wino;

/* True when Winograd applies to these shapes (the caller has checked 3x3, stride 1, dilation 1,
 * group 1), the CPU has AVX2+FMA, and it is expected to beat oneDNN's direct kernel (rules
 * measured on 2 threads: an output of at least 2x2 pixels, and at least 16 output tiles per
 * thread; see conv_winograd.c and the timing table of tests/unit/test_winograd.c). */
bool tta_wino_worth(const tta_wino_params *p);

/* Transforms the ONNX weights w [oc, ic, 3, 3] (not kept: create again when they change) and
 * allocates the per-thread scratch. ic and oc must be multiples of B, pads 0..2. Errors:
 * TTA_ERR_INVALID_ARG (bad shapes, pads, block, tile or thread count), TTA_ERR_UNSUPPORTED
 * (no AVX2/FMA), TTA_ERR_NOMEM. */
tta_status tta_wino_create(const tta_wino_params *p, const float *w, tta_wino **out);

/* y = act(conv(x, w) + bias + z) for the shapes given at create. x is [n][ic/B][h][w][B],
 * y and z are [n][oc/B][oh][ow][B]; bias [oc] and z may be NULL; z may alias y (x must not).
 * Allocates nothing; runs on up to n_threads OpenMP threads. One run at a time per tta_wino
 * (the scratch is in it). */
tta_status tta_wino_run(tta_wino *w, const float *x, const float *bias, const float *z, float *y);

void tta_wino_free(tta_wino *w);
/* Bytes w holds: the transformed weights and the threads' scratch. */
size_t tta_wino_bytes(const tta_wino *w);

#endif
