/* test_nodes.h - building one node by hand for kernel tests (attributes stored in the builder,
 * inputs numbered 0.., outputs 10..), and pseudo-random tensors from a fixed-seed generator.
 * Shared by the kernel tests that drive kernels directly (test_dnnl_ops, test_dnnl_deconv,
 * test_resize_fast); each test binary has its own generator state. */
#ifndef TTA_TEST_NODES_H
#define TTA_TEST_NODES_H

#include <stdint.h>
#include <string.h>

#include "runtime/op.h"

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

#endif
