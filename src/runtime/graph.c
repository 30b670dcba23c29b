/* graph.c - freeing the graph IR (building it is onnx_load.c's job). */
#include "runtime/graph.h"

static void attr_free(tta_attr *a) {
    tta_free(a->name);
    tta_free(a->s);
    tta_free(a->floats);
    tta_free(a->ints);
    for (int i = 0; a->strings && i < a->n; i++) tta_free(a->strings[i]);
    tta_free(a->strings);
    if (a->t) {
        tta_tensor_destroy(a->t);
        tta_free(a->t);
    }
}

void tta_node_destroy(tta_node *n) {
    tta_free(n->name);
    tta_free(n->op_type);
    tta_free(n->domain);
    tta_free(n->inputs);
    tta_free(n->outputs);
    for (int a = 0; a < n->n_attrs; a++) attr_free(&n->attrs[a]);
    tta_free(n->attrs);
}

void tta_graph_free(tta_graph *g) {
    if (!g) return;
    for (int i = 0; i < g->n_values; i++) {
        tta_value *v = &g->values[i];
        tta_free(v->name);
        for (int d = 0; d < TTA_MAX_DIMS; d++) tta_free(v->dims[d].param);
        if (v->constant) {
            tta_tensor_destroy(v->constant);
            tta_free(v->constant);
        }
    }
    tta_free(g->values);
    for (int i = 0; i < g->n_nodes; i++) tta_node_destroy(&g->nodes[i]);
    tta_free(g->nodes);
    tta_free(g->inputs);
    tta_free(g->outputs);
    for (int i = 0; i < g->n_opsets; i++) tta_free(g->opsets[i].domain);
    tta_free(g->opsets);
    for (int i = 0; i < g->n_metadata; i++) {
        tta_free(g->metadata_keys[i]);
        tta_free(g->metadata_values[i]);
    }
    tta_free(g->metadata_keys);
    tta_free(g->metadata_values);
    tta_free(g->name);
    tta_free(g->producer);
}
