/* test_nodes.h - building one node by hand for kernel tests (attributes stored in the builder,
 * inputs numbered 0.., outputs 10..), and pseudo-random tensors from a fixed-seed generator.
 * Shared by the kernel tests that drive kernels directly (test_dnnl_ops, test_dnnl_deconv,
 * test_resize_fast); each test binary has its own generator state. */
#ifndef TTA_TEST_NODES_H
#define TTA_TEST_NODES_H

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "runtime/op.h"
#include "test.h"

typedef struct node_builder {
    tta_node node;
    tta_attr attrs[12];
    int inputs[8], outputs[4];
    int64_t ints[12][12];
    float floats[12][8];
} node_builder;

static inline void nb_init(node_builder *b, const char *op, int opset, int n_in, int n_out) {
    memset(b, 0, sizeof *b);
    b->node.name = "t";
    b->node.op_type = (char *)op;
    b->node.domain = "";
    b->node.opset = opset;
    b->node.n_inputs = n_in;
    b->node.n_outputs = n_out;
    for (int i = 0; i < 8; i++) b->inputs[i] = i;
    for (int i = 0; i < 4; i++) b->outputs[i] = 10 + i;
    b->node.inputs = b->inputs;
    b->node.outputs = b->outputs;
    b->node.attrs = b->attrs;
}
static inline tta_attr *nb_attr(node_builder *b, const char *name, tta_attr_type type) {
    tta_attr *a = &b->attrs[b->node.n_attrs++];
    a->name = (char *)name;
    a->type = type;
    return a;
}
static inline void nb_int(node_builder *b, const char *name, int64_t v) { nb_attr(b, name, TTA_ATTR_INT)->i = v; }
static inline void nb_float(node_builder *b, const char *name, float v) { nb_attr(b, name, TTA_ATTR_FLOAT)->f = v; }
static inline void nb_str(node_builder *b, const char *name, const char *v) {
    nb_attr(b, name, TTA_ATTR_STRING)->s = (char *)v;
}
static inline void nb_ints(node_builder *b, const char *name, int n, const int64_t *v) {
    int slot = b->node.n_attrs;
    tta_attr *a = nb_attr(b, name, TTA_ATTR_INTS);
    memcpy(b->ints[slot], v, (size_t)n * sizeof(int64_t));
    a->ints = b->ints[slot];
    a->n = n;
}
static inline void nb_floats(node_builder *b, const char *name, int n, const float *v) {
    int slot = b->node.n_attrs;
    tta_attr *a = nb_attr(b, name, TTA_ATTR_FLOATS);
    memcpy(b->floats[slot], v, (size_t)n * sizeof(float));
    a->floats = b->floats[slot];
    a->n = n;
}
#define INTS(...) (int)(sizeof((int64_t[]){__VA_ARGS__}) / sizeof(int64_t)), (int64_t[]){__VA_ARGS__}

/* Uniform in [-1, 1), from a linear congruential generator with a fixed start. */
static uint32_t test_rng_state = 20240611u;
static inline float frand(void) {
    test_rng_state = test_rng_state * 1664525u + 1013904223u;
    return (float)((test_rng_state >> 8) & 0xffff) / 32768.0f - 1.0f;
}

/* An owned tensor of the given dtype and dims filled with frand(). */
static inline tta_tensor rand_tensor(tta_dtype dt, int ndim, const int64_t *dims) {
    tta_tensor t = {0};
    if (tta_tensor_resize(&t, dt, ndim, dims) != TTA_OK) return t;
    for (int64_t i = 0; i < tta_tensor_numel(&t); i++) tta_set_f64(&t, i, frand());
    return t;
}
#define RAND(dt, ...)                                                                                        \
    rand_tensor(dt, (int)(sizeof((int64_t[]){__VA_ARGS__}) / sizeof(int64_t)), (int64_t[]){__VA_ARGS__})

/* got against the C kernel's ref: same dtype and dims, |got - ref| <= 1e-4 * (1 + |ref|);
 * the first mismatches are printed. */
static inline void check_close(const tta_tensor *got, const tta_tensor *ref, const char *what) {
    CHECK_EQ_INT(got->dtype, ref->dtype);
    CHECK_EQ_INT(got->ndim, ref->ndim);
    for (int i = 0; i < got->ndim && i < ref->ndim; i++) CHECK_EQ_INT(got->dims[i], ref->dims[i]);
    if (tta_tensor_numel(got) != tta_tensor_numel(ref) || got->dtype != ref->dtype) return;
    int bad = 0;
    for (int64_t i = 0; i < tta_tensor_numel(ref); i++) {
        double a = tta_get_f64(got, i), b = tta_get_f64(ref, i);
        if (!(fabs(a - b) <= 1e-4 * (1.0 + fabs(b))) && bad++ < 3)
            fprintf(stderr, "  %s: element %lld is %.9g, C kernel gives %.9g\n", what, (long long)i, a, b);
    }
    if (bad) fprintf(stderr, "  %s: %d of %lld elements differ\n", what, bad, (long long)tta_tensor_numel(ref));
    CHECK_EQ_INT(bad, 0);
}

/* A float32 [N,C,H,W] converted to the blocked layout (blocked = 1) or back (0). Element
 * (n,c,h,w) of a blocked tensor sits at ((n*Cp/B + c/B)*H*W + h*W + w)*B + c%B, Cp = C rounded up
 * to a multiple of B = tta_layout_block(); the padding channels are zeros (the buffer has room
 * for them; dims[1] stays C). */
static inline tta_tensor to_layout(const tta_tensor *t, int blocked) {
    tta_tensor b = {0};
    int64_t B = tta_layout_block(), N = t->dims[0], C = t->dims[1], HW = t->dims[2] * t->dims[3];
    int64_t Cp = (C + B - 1) / B * B, dims[4] = {N, Cp, t->dims[2], t->dims[3]};
    CHECK(tta_tensor_resize(&b, t->dtype, t->ndim, dims) == TTA_OK);
    memset(b.data, 0, b.capacity);
    b.dims[1] = C;
    const float *x = t->data;
    float *y = b.data;
    for (int64_t n = 0; n < N; n++)
        for (int64_t c = 0; c < C; c++)
            for (int64_t i = 0; i < HW; i++) {
                int64_t plain = (n * C + c) * HW + i, blk = ((n * (Cp / B) + c / B) * HW + i) * B + c % B;
                if (blocked) y[blk] = x[plain];
                else y[plain] = x[blk];
            }
    return b;
}

#endif
