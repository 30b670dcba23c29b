/* plan_threads.c - how many threads each step of a plan runs on.
 *
 * Every parallel step is an OpenMP fork and join. For a small step (a convolution of a
 * 3x3-pixel image at batch 1, a scale of 96 channels) the join costs more than the work saves:
 * the other thread has gone to sleep and must be woken (tens of microseconds in a VM), or spins
 * and takes a core from whoever else is running. So a step whose work is below a threshold runs
 * on one thread: kernels see ctx->n_threads == 1, and the executor sets OpenMP's thread count to 1
 * around it, which oneDNN reads when it builds and runs the step's primitive.
 *
 * Work is counted in multiply-adds for Conv, ConvTranspose, Gemm and MatMul, and in elements
 * read and written for everything else. TTA_SERIAL_MACS and TTA_SERIAL_ELEMS override the
 * thresholds (0 = never serial), for measurements.
 */
#include <stdlib.h>
#include <string.h>

#include "runtime/plan.h"

/* Small: with threads that spin between regions (the CLI's GOMP_SPINCOUNT, see main.c) a fork and
 * join costs a few microseconds, so only tiny steps gain by running alone (bench/README.md,
 * "Measured choices"). */
#define SERIAL_MACS (1L << 15)
#define SERIAL_ELEMS (1L << 12)

static double numel(const tta_tensor *t) { return t ? (double)tta_tensor_numel(t) : 0.0; }

static bool is(const tta_node *n, const char *op) { return !n->domain[0] && !strcmp(n->op_type, op); }

/* Multiply-adds of a step, or -1 when it is not a product. */
static double macs(const tta_op_ctx *c) {
    const tta_node *n = c->node;
    const tta_tensor *w = c->n_in > 1 ? c->in[1] : NULL, *y = c->n_out > 0 ? c->out[0] : NULL;
    if (!w || !y || w->ndim < 2) return -1;
    if (is(n, "Conv") || !strcmp(n->op_type, "FusedConv")) return numel(y) * (numel(w) / (double)w->dims[0]);
    if (is(n, "ConvTranspose")) return numel(c->in[0]) * (numel(w) / (double)w->dims[0]);
    if (is(n, "Gemm") || is(n, "MatMul")) return numel(y) * (double)w->dims[w->ndim - 2];
    return -1;
}

static long env_long(const char *name, long def) {
    const char *e = getenv(name);
    return e && *e ? strtol(e, NULL, 10) : def;
}

void tta_plan_threads(tta_plan *p) {
    long lim_macs = env_long("TTA_SERIAL_MACS", SERIAL_MACS), lim_elems = env_long("TTA_SERIAL_ELEMS", SERIAL_ELEMS);
    for (int i = 0; i < p->n_steps; i++) {
        tta_op_ctx *c = &p->steps[i]->ctx;
        c->n_threads = p->n_threads;
        if (p->n_threads <= 1) continue;
        bool shaped = true;
        double elems = 0;
        for (int k = 0; k < c->n_in; k++) {
            if (!c->in[k]) continue;
            shaped = shaped && p->shaped[c->in[k] - p->values];
            elems += numel(c->in[k]);
        }
        for (int k = 0; k < c->n_out; k++) {
            if (!c->out[k]) continue;
            shaped = shaped && p->shaped[c->out[k] - p->values];
            elems += numel(c->out[k]);
        }
        if (!shaped) continue; /* sizes known only at run time: keep every thread */
        double m = macs(c);
        if (m >= 0 ? m < (double)lim_macs : elems < (double)lim_elems) c->n_threads = 1;
    }
}
