/* graph.h - the project's own graph IR, built from an ONNX ModelProto by onnx_load.c.
 *
 * A graph is a list of values (every tensor name: inputs, initializers, node outputs) and a
 * list of nodes in topological order. Nodes refer to values by index; an omitted optional
 * input is index -1. Initializers and Constant-like data are held once, in value->constant.
 * The protobuf structures are freed once the graph is built.
 */
#ifndef TTA_RUNTIME_GRAPH_H
#define TTA_RUNTIME_GRAPH_H

#include <stdbool.h>
#include <stdint.h>

#include "tta/tensor.h"

typedef enum tta_attr_type {
    TTA_ATTR_FLOAT = 1,
    TTA_ATTR_INT = 2,
    TTA_ATTR_STRING = 3,
    TTA_ATTR_TENSOR = 4,
    TTA_ATTR_GRAPH = 5,
    TTA_ATTR_FLOATS = 6,
    TTA_ATTR_INTS = 7,
    TTA_ATTR_STRINGS = 8,
    TTA_ATTR_TENSORS = 9,
    TTA_ATTR_GRAPHS = 10
} tta_attr_type;

typedef struct tta_attr {
    char *name;
    tta_attr_type type;
    float f;
    int64_t i;
    char *s;          /* STRING: NUL-terminated copy */
    int n;            /* FLOATS / INTS / STRINGS count */
    float *floats;
    int64_t *ints;
    char **strings;
    tta_tensor *t;    /* TENSOR: owned */
} tta_attr;

/* Symbolic dim from the model: a name (e.g. "batch") or unknown; bound when a plan is made. */
typedef struct tta_dim {
    int64_t value;    /* >= 0 when known, -1 otherwise */
    char *param;      /* dim_param name, or NULL */
} tta_dim;

typedef struct tta_value {
    char *name;
    tta_dtype dtype;          /* declared (graph inputs/outputs, initializers) or UNDEFINED */
    int ndim;                 /* declared rank, -1 if not declared */
    tta_dim dims[TTA_MAX_DIMS];
    tta_tensor *constant;     /* owned; non-NULL for initializers */
    bool is_input;            /* a graph input that is not an initializer */
    bool is_output;
} tta_value;

typedef struct tta_node {
    char *name;       /* may be "" */
    char *op_type;
    char *domain;     /* "" for the default ONNX domain */
    int opset;        /* opset version in force for this node's domain */
    int n_inputs, n_outputs;
    int *inputs;      /* value indices, -1 for omitted optional inputs */
    int *outputs;     /* value indices, -1 for omitted optional outputs */
    int n_attrs;
    tta_attr *attrs;
} tta_node;

typedef struct tta_opset_import {
    char *domain;
    int64_t version;
} tta_opset_import;

typedef struct tta_graph {
    char *name;
    int n_values, n_nodes;
    tta_value *values;
    tta_node *nodes;
    int n_inputs, n_outputs;
    int *inputs;      /* value indices of graph inputs (initializers excluded) */
    int *outputs;     /* value indices of graph outputs */
    int n_opsets;
    tta_opset_import *opsets;
    int n_metadata;
    char **metadata_keys;
    char **metadata_values;
    int64_t ir_version;
    char *producer;
} tta_graph;

void tta_graph_free(tta_graph *g);
/* Frees what a node owns (names, edges, attributes), not the node itself. */
void tta_node_destroy(tta_node *n);

/* Attribute lookup on a node; NULL when absent. */
const tta_attr *tta_node_attr(const tta_node *node, const char *name);

#endif
