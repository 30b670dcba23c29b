/* misc_resize_fast.c - the Resize fast path: 2-D nearest / bilinear resampling of a stack of
 * planes whose pixels are short vectors of B floats.
 *
 * misc_resize.c decides when a Resize only resizes H and W of a float32 [N,C,H,W] tensor and
 * fills a tta_resize2d with the per-row and per-column taps it derives from its own coordinate
 * code, once per shape. This file knows nothing of ONNX: it runs those taps over `planes`
 * planes of oh x ow pixels, a pixel being B consecutive floats. Plain NCHW is B = 1 with N*C
 * planes; the blocked layout [N][C/B][H][W][B] is N*C/B planes with B = tta_layout_block().
 *
 * Bilinear evaluates exactly the generic kernel's expression, in double:
 *     y = (float)(rw0 * (cw0 * x[r0][c0] + cw1 * x[r0][c1]) + rw1 * (cw0 * x[r1][c0] + cw1 * x[r1][c1]))
 * so both paths give the same bits. The inner sums are the horizontal pass over input rows r0
 * and r1; each such row is computed once into a double buffer and reused by the consecutive
 * output rows that need it (two slots per thread), which leaves one blend per output element.
 * Work is split over planes, and over bands of output rows when there are few planes.
 */
#include <string.h>

#include "runtime/ops/misc.h"

#ifdef _OPENMP
#include <omp.h>
static int rs2d_thread_id(void) { return omp_get_thread_num(); }
#else
static int rs2d_thread_id(void) { return 0; }
#endif

size_t tta_resize2d_scratch(const tta_resize2d *r, int64_t B) {
    return r->linear ? 2 * (size_t)r->ow * (size_t)B * sizeof(double) : 0;
}

/* Horizontal pass of input row xr (iw pixels) into h (ow pixels, double). */
static inline __attribute__((always_inline)) void rs2d_hpass(const tta_resize2d *r, const float *xr, double *h,
                                                            int64_t B) {
    for (int64_t j = 0; j < r->ow; j++) {
        const float *p0 = xr + r->col0[j] * B, *p1 = xr + r->col1[j] * B;
        double a = r->cw0[j], b = r->cw1[j];
        double *hj = h + j * B;
        for (int64_t l = 0; l < B; l++) hj[l] = a * (double)p0[l] + b * (double)p1[l];
    }
}

/* The vertical pass: one output row from two horizontally resampled input rows. */
static inline void rs2d_blend(float *restrict y, const double *restrict a, const double *restrict b, double w0,
                              double w1, int64_t n) {
#pragma omp simd
    for (int64_t k = 0; k < n; k++) y[k] = (float)(w0 * a[k] + w1 * b[k]);
}

/* Output rows [h0, h1) of one plane. buf: 2 * ow * B doubles (linear only). B is a constant
 * at each call site below so that the pixel loops unroll and vectorise. */
static inline __attribute__((always_inline)) void rs2d_band(const tta_resize2d *r, const float *xp, float *yp,
                                                           int64_t h0, int64_t h1, int64_t B, double *buf) {
    const int64_t in_row = r->iw * B, out_row = r->ow * B;
    if (!r->linear) {
        for (int64_t o = h0; o < h1; o++) {
            float *yr = yp + o * out_row;
            if (o > h0 && r->row0[o] == r->row0[o - 1]) { /* same source row: copy the output row */
                memcpy(yr, yr - out_row, (size_t)out_row * sizeof(float));
                continue;
            }
            const float *xr = xp + r->row0[o] * in_row;
            for (int64_t j = 0; j < r->ow; j++) {
                const float *p = xr + r->col0[j] * B;
                float *q = yr + j * B;
                for (int64_t l = 0; l < B; l++) q[l] = p[l];
            }
        }
        return;
    }
    double *slot[2] = {buf, buf + out_row};
    int64_t held[2] = {-1, -1};
    for (int64_t o = h0; o < h1; o++) {
        int64_t rows[2] = {r->row0[o], r->row1[o]};
        const double *hv[2];
        for (int k = 0; k < 2; k++) {
            int s;
            if (held[0] == rows[k]) s = 0;
            else if (held[1] == rows[k]) s = 1;
            else {
                /* evict the slot that does not hold the other row this output row needs */
                s = held[0] == rows[1 - k] ? 1 : 0;
                rs2d_hpass(r, xp + rows[k] * in_row, slot[s], B);
                held[s] = rows[k];
            }
            hv[k] = slot[s];
        }
        rs2d_blend(yp + o * out_row, hv[0], hv[1], r->rw0[o], r->rw1[o], out_row);
    }
}

static void rs2d_band_any(const tta_resize2d *r, const float *xp, float *yp, int64_t h0, int64_t h1, int64_t B,
                          double *buf) {
    switch (B) {
    case 1: rs2d_band(r, xp, yp, h0, h1, 1, buf); break;
    case 8: rs2d_band(r, xp, yp, h0, h1, 8, buf); break;
    case 16: rs2d_band(r, xp, yp, h0, h1, 16, buf); break;
    default: rs2d_band(r, xp, yp, h0, h1, B, buf); break;
    }
}

void tta_resize2d_run(const tta_resize2d *r, const float *x, float *y, int64_t planes, int64_t B, void *scratch,
                      int nt) {
    if (planes <= 0 || r->oh <= 0 || r->ow <= 0) return;
    if (nt < 1) nt = 1;
    /* bands of rows only when the planes alone cannot keep the threads busy */
    int64_t bands = 1;
    if (nt > 1 && planes < 4 * (int64_t)nt) {
        bands = (4 * (int64_t)nt + planes - 1) / planes;
        if (bands > r->oh) bands = r->oh;
    }
    int64_t units = planes * bands;
    int64_t in_plane = r->ih * r->iw * B, out_plane = r->oh * r->ow * B;
    size_t per_thread = tta_resize2d_scratch(r, B) / sizeof(double);
    bool par = nt > 1 && units > 1 && planes * out_plane >= 32768;
#pragma omp parallel for num_threads(nt) if (par) schedule(static)
    for (int64_t u = 0; u < units; u++) {
        int64_t p = u / bands, k = u % bands;
        int tid = par ? rs2d_thread_id() : 0;
        double *buf = scratch ? (double *)scratch + (size_t)tid * per_thread : NULL;
        rs2d_band_any(r, x + p * in_plane, y + p * out_plane, k * r->oh / bands, (k + 1) * r->oh / bands, B, buf);
    }
}
