/* conv_winograd.c - Winograd convolution F(2x2,3x3) and F(4x4,3x3) on channel-blocked tensors
 * (see conv_winograd.h), for the 3x3 convs oneDNN 2.6 only does directly on AVX2.
 *
 * Per m x m output tile (m = 2 or 4, input patch alpha = m + 2): V = B^T d B (d the alpha x
 * alpha input patch), M_p = sum_ic V_p U_p for each of the P = alpha^2 positions p (U = G g G^T,
 * transformed once at create), Y = A^T M A. The tiles of all images are numbered in one
 * sequence and cut into chunks whose V fits in L2; each thread takes whole chunks: it transforms
 * the chunk's input into V[tile][p][ic] (8 channels per AVX2 vector), then for each group of
 * 8/16/24 output channels and each row block of MR tiles runs the P small GEMMs in registers
 * (an MR x NW micro-kernel over K = ic, U packed per group) into a few KB that stay in L1, and
 * at once applies the output transform with bias, Z and the activation, writing the blocked
 * output. So the GEMM result never goes to memory and the input is read once. This fused
 * micro-kernel beats P dnnl_sgemm calls per chunk because K (= ic) is small here. Input patches
 * and output lines are prefetched a few tiles ahead: their first touch would miss the cache.
 *
 * The kernels are compiled for AVX2+FMA (GCC target pragma, or clang's attribute pragma) and used only where tta_cpu_isa() says
 * AVX2 (the CPU has it and TTA_MAX_ISA allows it); tta_wino_worth is false elsewhere, and the
 * caller keeps oneDNN's convolution. Off x86 the file compiles to that refusal alone.
 */
#include <stddef.h>

#include "core/alloc.h"
#include "core/cpu.h"
#include "core/error.h"
#include "runtime/ops/conv_winograd.h"

#if !(defined(__x86_64__) || defined(__i386__))
bool tta_wino_worth(const tta_wino_params *p) {
    (void)p;
    return false;
}
tta_status tta_wino_create(const tta_wino_params *p, const float *w, tta_wino **out) {
    (void)p, (void)w;
    if (out) *out = NULL;
    return tta_errorf(TTA_ERR_UNSUPPORTED, "winograd conv: needs an x86-64 CPU with AVX2 and FMA");
}
tta_status tta_wino_run(tta_wino *w, const float *x, const float *bias, const float *z, float *y) {
    (void)w, (void)x, (void)bias, (void)z, (void)y;
    return tta_errorf(TTA_ERR_UNSUPPORTED, "winograd conv: needs an x86-64 CPU with AVX2 and FMA");
}
void tta_wino_free(tta_wino *w) { (void)w; }
size_t tta_wino_bytes(const tta_wino *w) {
    (void)w;
    return 0;
}
#else
#include <immintrin.h>
#include <math.h>
#include <omp.h>
#include <string.h>

#include "runtime/op.h"
#include "tta/tensor.h"

/* Bytes of V per chunk: chunk = V_BYTES / (4 * P * ic) tiles, a multiple of CHUNK_ALIGN. */
#define TTA_WINO_V_BYTES (192 * 1024)
#define CHUNK_ALIGN 24 /* a multiple of every micro-kernel's MR */
#define MAX_NW 24      /* widest output-channel group */
#define MAX_MR 8
#define MAX_P 36
#define K_BLOCK 32       /* input channels summed in registers before adding to the partial result */
#define PREFETCH_TILES 2 /* input patches are prefetched this many tiles ahead */

/* A group of output channels [o0, o0 + 8*nb) computed by one micro-kernel shape. */
typedef struct wino_group {
    int64_t o0;
    int nb, mr; /* nb vectors of 8 channels, mr tiles per register block */
} wino_group;

struct tta_wino {
    tta_wino_params p;
    int64_t B, oh, ow, th, tw, tiles, chunk;
    int m, alpha, P; /* output tile m x m, input patch alpha x alpha, P = alpha^2 */
    int n_groups;
    wino_group groups[64];
    wino_group *gbig; /* groups when they do not fit in `groups` */
    float *u;         /* packed U: group g at P*ic*o0, laid out [P][ic][8*nb] */
    void *u_mem;
    float *scratch; /* per thread: V [chunk][P][ic], M [P][MAX_MR][MAX_NW], tile positions */
    void *scratch_mem;
    int64_t scratch_floats; /* per thread */
};

static float *align64(void *p) { return (float *)(((uintptr_t)p + 63) & ~(uintptr_t)63); }

static const wino_group *groups_of(const tta_wino *w) { return w->gbig ? w->gbig : w->groups; }

/* Where the tiles of a chunk are: image n and top-left output pixel (oy, ox), found once per chunk
 * so that the transforms do no division. */
typedef struct tile_pos {
    int64_t n;
    int32_t oy, ox;
} tile_pos;

static void tile_positions(const tta_wino *w, int64_t t0, int64_t nt, tile_pos *tp) {
    int64_t per_img = w->th * w->tw, n = t0 / per_img, r = t0 % per_img, ty = r / w->tw, tx = r % w->tw;
    for (int64_t t = 0; t < nt; t++) {
        tp[t] = (tile_pos){n, (int32_t)(w->m * ty), (int32_t)(w->m * tx)};
        if (++tx == w->tw) {
            tx = 0;
            if (++ty == w->th) ty = 0, n++;
        }
    }
}

/* ---- AVX2 kernels (GCC's target pragma; clang applies the same attribute to each function) */
#if defined(__clang__)
#pragma clang attribute push(__attribute__((target("avx2,fma,prfchw"))), apply_to = function)
#else
#pragma GCC push_options
#pragma GCC target("avx2,fma,prfchw")
#endif

#define INLINE static inline __attribute__((always_inline))

/* exp(x) for float lanes, |rel err| ~ 2e-7; clamps to [-87.3, 88.7]. */
INLINE __m256 exp8(__m256 x) {
    x = _mm256_min_ps(_mm256_max_ps(x, _mm256_set1_ps(-87.3f)), _mm256_set1_ps(88.7f));
    __m256 n = _mm256_round_ps(_mm256_mul_ps(x, _mm256_set1_ps(1.44269504088896341f)),
                               _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    __m256 r = _mm256_fnmadd_ps(n, _mm256_set1_ps(0.693359375f), x);
    r = _mm256_fnmadd_ps(n, _mm256_set1_ps(-2.12194440e-4f), r);
    __m256 q = _mm256_set1_ps(1.9875691500e-4f);
    q = _mm256_fmadd_ps(q, r, _mm256_set1_ps(1.3981999507e-3f));
    q = _mm256_fmadd_ps(q, r, _mm256_set1_ps(8.3334519073e-3f));
    q = _mm256_fmadd_ps(q, r, _mm256_set1_ps(4.1665795894e-2f));
    q = _mm256_fmadd_ps(q, r, _mm256_set1_ps(1.6666665459e-1f));
    q = _mm256_fmadd_ps(q, r, _mm256_set1_ps(5.0000001201e-1f));
    q = _mm256_fmadd_ps(q, _mm256_mul_ps(r, r), _mm256_add_ps(r, _mm256_set1_ps(1.0f)));
    __m256i e = _mm256_slli_epi32(_mm256_add_epi32(_mm256_cvtps_epi32(n), _mm256_set1_epi32(127)), 23);
    return _mm256_mul_ps(q, _mm256_castsi256_ps(e));
}

INLINE __m256 sigmoid8(__m256 x) {
    __m256 one = _mm256_set1_ps(1.0f);
    return _mm256_div_ps(one, _mm256_add_ps(one, exp8(_mm256_sub_ps(_mm256_setzero_ps(), x))));
}

INLINE __m256 clamp8(__m256 v, float lo, float hi) {
    return _mm256_min_ps(_mm256_max_ps(v, _mm256_set1_ps(lo)), _mm256_set1_ps(hi));
}

INLINE __m256 act8(__m256 v, tta_wino_act act, float a, float b) {
    switch (act) {
    case TTA_WINO_RELU: return _mm256_max_ps(v, _mm256_setzero_ps());
    case TTA_WINO_LEAKYRELU:
        return _mm256_blendv_ps(v, _mm256_mul_ps(v, _mm256_set1_ps(a)),
                                _mm256_cmp_ps(v, _mm256_setzero_ps(), _CMP_LT_OQ));
    case TTA_WINO_CLIP: return clamp8(v, a, b);
    case TTA_WINO_SIGMOID: return sigmoid8(v);
    case TTA_WINO_TANH: { /* tanh(v) = 1 - 2 / (exp(2v) + 1); exact enough near 0 for 1e-4 abs */
        __m256 e = exp8(_mm256_add_ps(v, v)), one = _mm256_set1_ps(1.0f);
        return _mm256_sub_ps(one, _mm256_div_ps(_mm256_set1_ps(2.0f), _mm256_add_ps(e, one)));
    }
    case TTA_WINO_HARDSIGMOID:
        return clamp8(_mm256_fmadd_ps(v, _mm256_set1_ps(a), _mm256_set1_ps(b)), 0.0f, 1.0f);
    case TTA_WINO_HARDSWISH:
        return _mm256_mul_ps(
            v, clamp8(_mm256_fmadd_ps(v, _mm256_set1_ps(1.0f / 6.0f), _mm256_set1_ps(0.5f)), 0.0f, 1.0f));
    case TTA_WINO_SWISH: return _mm256_mul_ps(v, sigmoid8(v));
    default: return v;
    }
}

/* Loads of an input patch: element (i, j) is x[off + i*rs + j*cs]; with `border`, only rows
 * [i0, i1) and columns [j0, j1) exist and the others are zeros (padding). Offsets rather than
 * pointers, so that nothing points outside x. */
#define PATCH_LOAD(i, j)                                                                                     \
    (!border || ((i) >= i0 && (i) < i1 && (j) >= j0 && (j) < j1)                                             \
         ? _mm256_loadu_ps(x + off + (i)*rs + (j)*cs)                                                        \
         : _mm256_setzero_ps())

/* F(2x2,3x3): V = B^T d B of one 4x4 patch of 8 channels; V[p] to o + p*ldp.
 * B^T = [1 0 -1 0; 0 1 1 0; 0 -1 1 0; 0 1 0 -1]. */
INLINE void in_tile4(const float *x, int64_t off, int64_t rs, int64_t cs, float *o, int64_t ldp,
                     const bool border, int i0, int i1, int j0, int j1) {
    __m256 r[4][4]; /* r = d B, row by row */
#pragma GCC unroll 4
    for (int i = 0; i < 4; i++) {
        __m256 d0 = PATCH_LOAD(i, 0), d1 = PATCH_LOAD(i, 1), d2 = PATCH_LOAD(i, 2), d3 = PATCH_LOAD(i, 3);
        r[i][0] = d0 - d2;
        r[i][1] = d1 + d2;
        r[i][2] = d2 - d1;
        r[i][3] = d1 - d3;
    }
#pragma GCC unroll 4
    for (int j = 0; j < 4; j++) { /* V = B^T r, column by column */
        _mm256_storeu_ps(o + (0 + j) * ldp, r[0][j] - r[2][j]);
        _mm256_storeu_ps(o + (4 + j) * ldp, r[1][j] + r[2][j]);
        _mm256_storeu_ps(o + (8 + j) * ldp, r[2][j] - r[1][j]);
        _mm256_storeu_ps(o + (12 + j) * ldp, r[1][j] - r[3][j]);
    }
}

/* The 1-D F(4,3) input transform B^T d of 6 vectors, for the interpolation points 0, 1, -1,
 * 1/2, -2 (and infinity), which give about 4x smaller float errors than the usual 0, +-1, +-2.
 * B^T = [2 -3 -4 3 2 0; 0 -2 1 5 2 0; 0 2 -5 1 2 0; 0 -2 -1 2 1 0; 0 1 -2 -1 2 0; 0 2 -3 -4 3 2]. */
INLINE void bt6(const __m256 d[6], __m256 t[6]) {
    const __m256 c2 = _mm256_set1_ps(2.0f), c3 = _mm256_set1_ps(3.0f);
    __m256 e = d[4] - d[2], f = d[3] - d[1];
    t[0] = _mm256_fmadd_ps(c2, d[0] + e - d[2], c3 * f);
    t[1] = _mm256_fmadd_ps(c2, e + f, c3 * (d[2] + d[3]));
    t[2] = _mm256_fmadd_ps(c2, e - f, c3 * (d[3] - d[2]));
    t[3] = _mm256_fmadd_ps(c2, f, e);
    t[4] = _mm256_fmsub_ps(c2, e, f);
    t[5] = _mm256_fmadd_ps(c2, d[5] - f - d[3], c3 * e);
}

/* F(4x4,3x3): V of one 6x6 patch of 8 channels (as in_tile4). */
INLINE void in_tile6(const float *x, int64_t off, int64_t rs, int64_t cs, float *o, int64_t ldp,
                     const bool border, int i0, int i1, int j0, int j1) {
    __m256 r[6][6]; /* r = d B, row by row */
#pragma GCC unroll 6
    for (int i = 0; i < 6; i++) {
        __m256 d[6];
#pragma GCC unroll 6
        for (int j = 0; j < 6; j++)
            d[j] = PATCH_LOAD(i, j);
        bt6(d, r[i]);
    }
#pragma GCC unroll 6
    for (int j = 0; j < 6; j++) {
        __m256 c[6], v[6];
#pragma GCC unroll 6
        for (int i = 0; i < 6; i++)
            c[i] = r[i][j];
        bt6(c, v);
#pragma GCC unroll 6
        for (int i = 0; i < 6; i++)
            _mm256_storeu_ps(o + (i * 6 + j) * ldp, v[i]);
    }
}

/* V of the chunk's tiles into v[t][p][ic] (p stride ic). */
static void input_transform(const tta_wino *w, const float *x, const tile_pos *tp, int64_t nt, float *v) {
    const tta_wino_params *p = &w->p;
    const int64_t B = w->B, ic = p->ic, H = p->h, W = p->w, HW = H * W, ldt = (int64_t)w->P * ic;
    const int al = w->alpha;
    for (int64_t t = 0; t < nt; t++) {
        int64_t iy0 = tp[t].oy - p->pad_t, ix0 = tp[t].ox - p->pad_l;
        bool inside = iy0 >= 0 && ix0 >= 0 && iy0 + al <= H && ix0 + al <= W;
        const float *xn = x + tp[t].n * ic * HW;
        float *vt = v + t * ldt;
        if (t + PREFETCH_TILES < nt) { /* the patch of a tile ahead, whose first touch would miss */
            const tile_pos *f = &tp[t + PREFETCH_TILES];
            int64_t fy = f->oy - p->pad_t, fx = f->ox - p->pad_l;
            fy = fy + al > H ? H - al : fy;
            fx = fx + al > W ? W - al : fx;
            fy = fy < 0 ? 0 : fy;
            fx = fx < 0 ? 0 : fx;
            int rows = al < H ? al : (int)H, cols = al < W ? al : (int)W;
            const char *fb = (const char *)(x + f->n * ic * HW + (fy * W + fx) * B);
            for (int64_t c = 0; c < ic; c += B)
                for (int i = 0; i < rows; i++) {
                    const char *q = fb + (c * HW + i * W * B) * (int64_t)sizeof(float);
                    for (int64_t k = 0; k < cols * B * (int64_t)sizeof(float); k += 64)
                        _mm_prefetch(q + k, _MM_HINT_T0);
                }
        }
        const int64_t off = (iy0 * W + ix0) * B, rs = W * B;
        const int i0 = iy0 < 0 ? (int)-iy0 : 0, i1 = iy0 + al > H ? (int)(H - iy0) : al;
        const int j0 = ix0 < 0 ? (int)-ix0 : 0, j1 = ix0 + al > W ? (int)(W - ix0) : al;
        for (int64_t c = 0; c < ic; c += 8) {
            const float *xp = xn + (c & -B) * HW + (c & (B - 1));
            if (al == 4) {
                if (inside)
                    in_tile4(xp, off, rs, B, vt + c, ic, false, 0, 4, 0, 4);
                else
                    in_tile4(xp, off, rs, B, vt + c, ic, true, i0, i1, j0, j1);
            } else {
                if (inside)
                    in_tile6(xp, off, rs, B, vt + c, ic, false, 0, 6, 0, 6);
                else
                    in_tile6(xp, off, rs, B, vt + c, ic, true, i0, i1, j0, j1);
            }
        }
    }
}

/* c[MR][NB*8] = a[MR rows, stride lda][K] x b[K][NB*8], in registers. K is summed in blocks of
 * K_BLOCK whose partial sums are then added: with F(4x4,3x3) the float error of the long sum over
 * ic dominates (a double sum makes it 4x smaller), and blocking cuts it 1.5x at ic = 96, 3x at
 * ic = 256, for no measurable time. */
INLINE void micro(const int MR, const int NB, const float *a, int64_t lda, const float *b, int64_t K,
                  float *c) {
    for (int64_t k0 = 0; k0 < K; k0 += K_BLOCK) {
        const int64_t k1 = K - k0 < K_BLOCK ? K : k0 + K_BLOCK;
        __m256 acc[MAX_MR][3];
#pragma GCC unroll 8
        for (int i = 0; i < MR; i++)
#pragma GCC unroll 3
            for (int j = 0; j < NB; j++)
                acc[i][j] = _mm256_setzero_ps();
        for (int64_t k = k0; k < k1; k++) {
            __m256 bv[3];
#pragma GCC unroll 3
            for (int j = 0; j < NB; j++)
                bv[j] = _mm256_load_ps(b + (k * NB + j) * 8);
#pragma GCC unroll 8
            for (int i = 0; i < MR; i++) {
                __m256 av = _mm256_broadcast_ss(a + i * lda + k);
#pragma GCC unroll 3
                for (int j = 0; j < NB; j++)
                    acc[i][j] = _mm256_fmadd_ps(av, bv[j], acc[i][j]);
            }
        }
        if (k0 == 0) {
#pragma GCC unroll 8
            for (int i = 0; i < MR; i++)
#pragma GCC unroll 3
                for (int j = 0; j < NB; j++)
                    _mm256_store_ps(c + (i * NB + j) * 8, acc[i][j]);
        } else {
#pragma GCC unroll 8
            for (int i = 0; i < MR; i++)
#pragma GCC unroll 3
                for (int j = 0; j < NB; j++) {
                    float *q = c + (i * NB + j) * 8;
                    _mm256_store_ps(q, _mm256_load_ps(q) + acc[i][j]);
                }
        }
    }
}

/* The P products of one row block: m[p][MR][NB*8] from MR tiles of v and the group's U. */
#define DEF_GEMM(MR, NB)                                                                                     \
    static void gemm_##MR##x##NB(int P, const float *v, int64_t ic, const float *u, float *m) {              \
        for (int p = 0; p < P; p++)                                                                          \
            micro(MR, NB, v + p * ic, P * ic, u + p * ic * (NB * 8), ic, m + p * (MR * NB * 8));             \
    }
DEF_GEMM(4, 3)
DEF_GEMM(6, 2)
DEF_GEMM(8, 1)

/* F(2x2,3x3): Y = A^T M A of one tile for 8 channels, M[p] at m + p*ldm, out the 2x2 pixels
 * row-major. A^T = [1 1 1 0; 0 1 -1 -1]. */
INLINE void out_tile2(const float *m, int64_t ldm, __m256 out[4]) {
    __m256 t0[4], t1[4]; /* t = A^T M, column by column */
#pragma GCC unroll 4
    for (int c = 0; c < 4; c++) {
        __m256 m0 = _mm256_load_ps(m + c * ldm), m1 = _mm256_load_ps(m + (4 + c) * ldm);
        __m256 m2 = _mm256_load_ps(m + (8 + c) * ldm), m3 = _mm256_load_ps(m + (12 + c) * ldm);
        t0[c] = m0 + m1 + m2;
        t1[c] = m1 - m2 - m3;
    }
    out[0] = t0[0] + t0[1] + t0[2];
    out[1] = t0[1] - t0[2] - t0[3];
    out[2] = t1[0] + t1[1] + t1[2];
    out[3] = t1[1] - t1[2] - t1[3];
}

/* The 1-D F(4,3) output transform A^T m of 6 vectors (points as in bt6). A^T = [1 1 1 1 1 0;
 * 0 1 -1 1/2 -2 0; 0 1 1 1/4 4 0; 0 1 -1 1/8 -8 1]. */
INLINE void at6(const __m256 m[6], __m256 y[4]) {
    __m256 a = m[1] + m[2], b = m[1] - m[2];
    y[0] = m[0] + a + m[3] + m[4];
    y[1] = _mm256_fmadd_ps(_mm256_set1_ps(0.5f), m[3], _mm256_fnmadd_ps(_mm256_set1_ps(2.0f), m[4], b));
    y[2] = _mm256_fmadd_ps(_mm256_set1_ps(0.25f), m[3], _mm256_fmadd_ps(_mm256_set1_ps(4.0f), m[4], a));
    y[3] =
        _mm256_fmadd_ps(_mm256_set1_ps(0.125f), m[3], _mm256_fnmadd_ps(_mm256_set1_ps(8.0f), m[4], b)) + m[5];
}

/* F(4x4,3x3): the 4x4 pixels of one tile, row-major. */
INLINE void out_tile4(const float *m, int64_t ldm, __m256 out[16]) {
    __m256 t[4][6]; /* t = A^T M, column by column */
#pragma GCC unroll 6
    for (int c = 0; c < 6; c++) {
        __m256 col[6], y[4];
#pragma GCC unroll 6
        for (int i = 0; i < 6; i++)
            col[i] = _mm256_load_ps(m + (i * 6 + c) * ldm);
        at6(col, y);
#pragma GCC unroll 4
        for (int i = 0; i < 4; i++)
            t[i][c] = y[i];
    }
#pragma GCC unroll 4
    for (int i = 0; i < 4; i++)
        at6(t[i], out + 4 * i);
}

/* Output transform of `rows` tiles for channels [o0, o0 + 8*nb) from m[p][mr][nb*8], with bias,
 * z and the activation, into y; prefetches the lines of the next n_next tiles (tp[mr + i]). */
INLINE void output_transform(const int ms, const tta_wino *w, const float *m, int mr, int nb, int rows,
                             const tile_pos *tp, int n_next, int64_t o0, const float *bias, const float *z,
                             float *y) {
    const tta_wino_params *p = &w->p;
    const int64_t B = w->B, oc = p->oc, OH = w->oh, OW = w->ow, img = oc * OH * OW;
    const int nw = nb * 8, npx = ms * ms;
    const tta_wino_act act = p->act;
    const float a = p->act_a, b = p->act_b;
    for (int i = 0; i < rows; i++) {
        const int64_t oy = tp[i].oy, ox = tp[i].ox;
        const bool full = oy + ms <= OH && ox + ms <= OW;
        float *yn = y + tp[i].n * img;
        const float *zn = z ? z + tp[i].n * img : NULL;
        if (i < n_next) { /* the output (and z) lines of a tile ahead: stores would miss */
            const tile_pos *f = &tp[mr + i];
            int64_t off = f->n * img + (f->oy * OW + f->ox) * B, cols = OW - f->ox < ms ? OW - f->ox : ms;
            for (int j = 0; j < nb; j++) {
                int64_t o = o0 + 8 * j, at = off + (o & -B) * OH * OW + (o & (B - 1));
                for (int k = 0; k < ms && f->oy + k < OH; k++) {
                    int64_t q = at + k * OW * B;
                    for (int64_t e = 0; e < cols * B; e += 16)
                        __builtin_prefetch(y + q + e, 1, 3);
                    __builtin_prefetch(y + q + cols * B - 1, 1, 3);
                    if (z) {
                        for (int64_t e = 0; e < cols * B; e += 16)
                            __builtin_prefetch(z + q + e, 0, 3);
                        __builtin_prefetch(z + q + cols * B - 1, 0, 3);
                    }
                }
            }
        }
        for (int j = 0; j < nb; j++) {
            const int64_t o = o0 + 8 * j;
            __m256 out[16];
            if (ms == 2)
                out_tile2(m + i * nw + 8 * j, (int64_t)mr * nw, out);
            else
                out_tile4(m + i * nw + 8 * j, (int64_t)mr * nw, out);
            const __m256 bv = bias ? _mm256_loadu_ps(bias + o) : _mm256_setzero_ps();
            const int64_t base = (o & -B) * OH * OW + (o & (B - 1)) + (oy * OW + ox) * B;
#pragma GCC unroll 16
            for (int k = 0; k < npx; k++) {
                const int dy = k / ms, dx = k % ms;
                if (!full && (oy + dy >= OH || ox + dx >= OW)) continue;
                int64_t at = base + (dy * OW + dx) * B;
                __m256 val = out[k] + bv;
                if (zn) val = val + _mm256_loadu_ps(zn + at);
                if (act != TTA_WINO_NONE) val = act8(val, act, a, b);
                _mm256_storeu_ps(yn + at, val);
            }
        }
    }
}

static void output_transform2(const tta_wino *w, const float *m, int mr, int nb, int rows, const tile_pos *tp,
                              int n_next, int64_t o0, const float *bias, const float *z, float *y) {
    output_transform(2, w, m, mr, nb, rows, tp, n_next, o0, bias, z, y);
}
static void output_transform4(const tta_wino *w, const float *m, int mr, int nb, int rows, const tile_pos *tp,
                              int n_next, int64_t o0, const float *bias, const float *z, float *y) {
    output_transform(4, w, m, mr, nb, rows, tp, n_next, o0, bias, z, y);
}

/* One chunk of tiles [t0, t0 + nt) on one thread, with its scratch s. */
static void __attribute__((noinline)) run_chunk(const tta_wino *w, float *s, int64_t t0, int64_t nt,
                                                const float *x, const float *bias, const float *z, float *y) {
    const int64_t ic = w->p.ic;
    const int P = w->P;
    float *v = s, *m = s + P * ic * w->chunk;
    tile_pos *tp = (tile_pos *)(m + MAX_P * MAX_MR * MAX_NW);
    tile_positions(w, t0, nt, tp);
    input_transform(w, x, tp, nt, v);
    const wino_group *gs = groups_of(w);
    for (int gi = 0; gi < w->n_groups; gi++) {
        const wino_group *g = &gs[gi];
        const float *u = w->u + P * ic * g->o0;
        for (int64_t r = 0; r < nt; r += g->mr) {
            const float *vr = v + r * P * ic;
            if (g->nb == 3)
                gemm_4x3(P, vr, ic, u, m);
            else if (g->nb == 2)
                gemm_6x2(P, vr, ic, u, m);
            else
                gemm_8x1(P, vr, ic, u, m);
            int rows = nt - r < g->mr ? (int)(nt - r) : g->mr;
            int64_t next = nt - r - rows < g->mr ? nt - r - rows : g->mr;
            if (w->m == 2)
                output_transform2(w, m, g->mr, g->nb, rows, tp + r, (int)next, g->o0, bias, z, y);
            else
                output_transform4(w, m, g->mr, g->nb, rows, tp + r, (int)next, g->o0, bias, z, y);
        }
    }
}

#if defined(__clang__)
#pragma clang attribute pop
#else
#pragma GCC pop_options
#endif

/* ---- setup */

/* AVX2 and FMA, unless TTA_MAX_ISA caps our kernels below that (then oneDNN convolves). */
static bool cpu_ok(void) { return tta_cpu_isa() >= TTA_ISA_AVX2; }

static int64_t out_h(const tta_wino_params *p) { return p->h + p->pad_t + p->pad_b - 2; }
static int64_t out_w(const tta_wino_params *p) { return p->w + p->pad_l + p->pad_r - 2; }
static int64_t block_of(const tta_wino_params *p) { return p->block ? p->block : tta_layout_block(); }

static bool params_ok(const tta_wino_params *p) {
    int64_t B = block_of(p);
    return p->n > 0 && p->ic > 0 && p->oc > 0 && p->h > 0 && p->w > 0 && p->pad_t >= 0 && p->pad_l >= 0 &&
           p->pad_b >= 0 && p->pad_r >= 0 && p->pad_t < 3 && p->pad_l < 3 && p->pad_b < 3 && p->pad_r < 3 &&
           out_h(p) > 0 && out_w(p) > 0 && (B == 8 || B == 16) && p->ic % B == 0 && p->oc % B == 0 &&
           p->n_threads >= 1 && (unsigned)p->act <= TTA_WINO_SWISH &&
           (p->tile == 0 || p->tile == 2 || p->tile == 4);
}

/* The output tile when the caller leaves it to us: F(4x4,3x3) needs 2.25 products per output
 * pixel against 4 for F(2x2,3x3), but rounds the output up to multiples of 4 and has larger float
 * errors: with inputs and weights uniform in [-1, 1] its worst |err| / (1 + |ref|) is 3e-5 at
 * ic = 64..128, 6e-5 at ic = 256..512 (F(2x2,3x3): 1e-5, 1.4e-5). So: F(4x4) when ic <= 256 and
 * its products (36 per 4x4 tile) are fewer than F(2x2)'s (16 per 2x2 tile). */
static int auto_tile(const tta_wino_params *p) {
    int64_t oh = out_h(p), ow = out_w(p);
    int64_t cost4 = 36 * ((oh + 3) / 4) * ((ow + 3) / 4), cost2 = 16 * ((oh + 1) / 2) * ((ow + 1) / 2);
    return p->ic <= 256 && cost4 < cost2 ? 4 : 2;
}

/* Measured against oneDNN 2.6's jit:avx2 direct conv on nChw8c (batch 64, 2 threads; the table
 * of tests/unit/test_winograd.c): Winograd was faster for every shape tried with an output of at
 * least 2x2 pixels (ic, oc 8..256, 2x2..56x56 outputs; 1.1x for 8->128 @14x14, 1.3x for 8->8
 * @28x28, 1.7-2.8x from 16 channels up) and 2x slower for a 1x1 output. With few tiles the
 * transformed weights are read for too little work: at batch 1 (ResNet-18 and SqueezeNet at
 * 96x96, AVX-512 and AVX2, 2 threads) Winograd everywhere lost 20-50% against none, and with at
 * least 16 tiles per thread it won 5-10% at batch 1 and kept its 30% at batch 64 (medians of 3
 * alternating runs; 64 and 256 tiles per thread did no better). */
#define MIN_TILES_PER_THREAD 16
bool tta_wino_worth(const tta_wino_params *p) {
    if (!params_ok(p) || !cpu_ok() || out_h(p) < 2 || out_w(p) < 2) return false;
    int m = p->tile ? p->tile : auto_tile(p);
    int64_t tiles = p->n * ((out_h(p) + m - 1) / m) * ((out_w(p) + m - 1) / m);
    return tiles >= MIN_TILES_PER_THREAD * p->n_threads;
}

/* Splits oc into groups of 24 (4x3 kernel) or 16 (6x2) channels, 8 (8x1) for what is left. */
static int make_groups(int64_t oc, wino_group *g) {
    int64_t nb8 = oc / 8, o = 0;
    int n = 0;
    while (nb8 > 0) {
        int nb = nb8 % 3 == 0 || nb8 == 5 || nb8 == 7 ? 3 : nb8 >= 2 ? 2 : 1;
        if (nb8 == 4) nb = 2;
        g[n].o0 = o;
        g[n].nb = nb;
        g[n].mr = nb == 3 ? 4 : nb == 2 ? 6 : 8;
        o += 8 * nb;
        nb8 -= nb;
        n++;
    }
    return n;
}

/* U = G g G^T for every (oc, ic), packed per group as [P][ic][8*nb]. */
static void transform_weights(tta_wino *w, const float *wt) {
    static const double G2[4][3] = {{1, 0, 0}, {0.5, 0.5, 0.5}, {0.5, -0.5, 0.5}, {0, 0, 1}};
    static const double G4[6][3] = {{1.0 / 2, 0, 0},
                                    {1.0 / 6, 1.0 / 6, 1.0 / 6},
                                    {-1.0 / 6, 1.0 / 6, -1.0 / 6},
                                    {-16.0 / 15, -8.0 / 15, -4.0 / 15},
                                    {1.0 / 30, -1.0 / 15, 2.0 / 15},
                                    {0, 0, 1.0 / 2}};
    const int al = w->alpha, P = w->P;
    const double(*G)[3] = al == 4 ? G2 : G4;
    const int64_t ic = w->p.ic;
    const wino_group *gs = groups_of(w);
    for (int gi = 0; gi < w->n_groups; gi++) {
        int64_t o0 = gs[gi].o0, nw = 8 * gs[gi].nb;
        float *ug = w->u + P * ic * o0;
        for (int64_t o = o0; o < o0 + nw; o++)
            for (int64_t k = 0; k < ic; k++) {
                const float *g = wt + (o * ic + k) * 9;
                double gg[6][3]; /* G g */
                for (int i = 0; i < al; i++)
                    for (int j = 0; j < 3; j++)
                        gg[i][j] = G[i][0] * g[j] + G[i][1] * g[3 + j] + G[i][2] * g[6 + j];
                for (int i = 0; i < al; i++)
                    for (int j = 0; j < al; j++) {
                        double u = gg[i][0] * G[j][0] + gg[i][1] * G[j][1] + gg[i][2] * G[j][2];
                        ug[((i * al + j) * ic + k) * nw + (o - o0)] = (float)u;
                    }
            }
    }
}

tta_status tta_wino_create(const tta_wino_params *p, const float *wt, tta_wino **out) {
    if (!out) return tta_errorf(TTA_ERR_INVALID_ARG, "winograd conv: NULL result pointer");
    *out = NULL;
    if (!p || !wt || !params_ok(p))
        return tta_errorf(TTA_ERR_INVALID_ARG, "winograd conv: bad shapes or pads");
    if (!cpu_ok()) return tta_errorf(TTA_ERR_UNSUPPORTED, "winograd conv: needs AVX2 and FMA");
    tta_wino *w = tta_calloc(1, sizeof *w);
    if (!w) return tta_errorf(TTA_ERR_NOMEM, "winograd conv: out of memory");
    w->p = *p;
    w->B = block_of(p);
    w->m = p->tile ? p->tile : auto_tile(p);
    w->alpha = w->m + 2;
    w->P = w->alpha * w->alpha;
    w->oh = out_h(p);
    w->ow = out_w(p);
    w->th = (w->oh + w->m - 1) / w->m;
    w->tw = (w->ow + w->m - 1) / w->m;
    w->tiles = p->n * w->th * w->tw;
    const int64_t ic = p->ic, oc = p->oc, P = w->P;
    int64_t chunk = TTA_WINO_V_BYTES / (4 * P * ic) / CHUNK_ALIGN * CHUNK_ALIGN;
    if (chunk < CHUNK_ALIGN) chunk = CHUNK_ALIGN;
    /* enough chunks for the threads to share */
    int64_t want = (w->tiles + 4 * p->n_threads - 1) / (4 * p->n_threads);
    want = (want + CHUNK_ALIGN - 1) / CHUNK_ALIGN * CHUNK_ALIGN;
    if (p->n_threads > 1 && want < chunk) chunk = want;
    w->chunk = chunk;

    wino_group *gs = w->groups;
    if (oc / 8 > 64) {
        gs = w->gbig = tta_malloc((size_t)(oc / 8) * sizeof *gs);
        if (!gs) goto nomem;
    }
    w->n_groups = make_groups(oc, gs);
    w->u_mem = tta_malloc((size_t)(P * ic * oc) * sizeof(float) + 64);
    if (!w->u_mem) goto nomem;
    w->u = align64(w->u_mem);
    transform_weights(w, wt);

    w->scratch_floats =
        P * chunk * ic + MAX_P * MAX_MR * MAX_NW + chunk * (int64_t)(sizeof(tile_pos) / sizeof(float));
    w->scratch_floats = (w->scratch_floats + 15) / 16 * 16;
    w->scratch_mem = tta_calloc((size_t)(w->scratch_floats * p->n_threads) + 16, sizeof(float));
    if (!w->scratch_mem) goto nomem;
    w->scratch = align64(w->scratch_mem);
    *out = w;
    return TTA_OK;
nomem:
    tta_wino_free(w);
    return tta_errorf(TTA_ERR_NOMEM, "winograd conv: out of memory");
}

size_t tta_wino_bytes(const tta_wino *w) {
    if (!w) return 0;
    size_t groups = w->gbig ? (size_t)(w->p.oc / 8) * sizeof *w->gbig : 0;
    return groups + (size_t)(w->P * w->p.ic * w->p.oc) * sizeof(float) + 64 +
           ((size_t)(w->scratch_floats * w->p.n_threads) + 16) * sizeof(float);
}

tta_status tta_wino_run(tta_wino *w, const float *x, const float *bias, const float *z, float *y) {
    if (!w || !x || !y) return tta_errorf(TTA_ERR_INVALID_ARG, "winograd conv: NULL tensor");
    const int64_t n_chunks = (w->tiles + w->chunk - 1) / w->chunk;
    int nt = n_chunks < w->p.n_threads ? (int)n_chunks : w->p.n_threads;
#pragma omp parallel for num_threads(nt) schedule(dynamic, 1) if (nt > 1)
    for (int64_t c = 0; c < n_chunks; c++) {
        int64_t t0 = c * w->chunk, cnt = w->tiles - t0 < w->chunk ? w->tiles - t0 : w->chunk;
        run_chunk(w, w->scratch + omp_get_thread_num() * w->scratch_floats, t0, cnt, x, bias, z, y);
    }
    return TTA_OK;
}

void tta_wino_free(tta_wino *w) {
    if (!w) return;
    tta_free(w->u_mem);
    tta_free(w->scratch_mem);
    tta_free(w->gbig);
    tta_free(w);
}
#endif /* x86 */
