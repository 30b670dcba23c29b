/* model_info.c - read-only queries on a loaded model: inputs, outputs, metadata, statistics. */
#include <string.h>

#include "core/error.h"
#include "runtime/model.h"

int tta_model_n_inputs(const tta_model *m) { return m ? m->graph.n_inputs : 0; }
int tta_model_n_outputs(const tta_model *m) { return m ? m->graph.n_outputs : 0; }

static void fill_info(const tta_value *v, tta_io_info *info) {
    memset(info, 0, sizeof *info);
    info->name = v->name;
    info->dtype = v->dtype;
    info->ndim = v->ndim;
    for (int d = 0; d < v->ndim && d < TTA_MAX_DIMS; d++) {
        info->dims[d] = v->dims[d].value;
        info->dim_names[d] = v->dims[d].param;
    }
}

tta_status tta_model_input(const tta_model *m, int i, tta_io_info *info) {
    if (!m || !info || i < 0 || i >= m->graph.n_inputs)
        return tta_errorf(TTA_ERR_INVALID_ARG, "tta_model_input: no input %d", i);
    fill_info(&m->graph.values[m->graph.inputs[i]], info);
    return TTA_OK;
}

tta_status tta_model_output(const tta_model *m, int i, tta_io_info *info) {
    if (!m || !info || i < 0 || i >= m->graph.n_outputs)
        return tta_errorf(TTA_ERR_INVALID_ARG, "tta_model_output: no output %d", i);
    fill_info(&m->graph.values[m->graph.outputs[i]], info);
    return TTA_OK;
}

const char *tta_model_metadata(const tta_model *m, const char *key) {
    if (!m || !key) return NULL;
    for (int i = 0; i < m->graph.n_metadata; i++)
        if (!strcmp(m->graph.metadata_keys[i], key)) return m->graph.metadata_values[i];
    return NULL;
}

void tta_model_stats_get(const tta_model *m, tta_model_stats *s) {
    memset(s, 0, sizeof *s);
    const tta_graph *g = &m->graph;
    s->n_nodes = g->n_nodes;
    for (int i = 0; i < g->n_values; i++)
        if (g->values[i].constant) s->n_parameters += tta_tensor_numel(g->values[i].constant);
    for (int i = 0; i < g->n_opsets && i < 16; i++) {
        s->opset_domains[i] = g->opsets[i].domain;
        s->opset_versions[i] = g->opsets[i].version;
        s->n_opsets++;
    }
    s->ir_version = g->ir_version;
    s->producer = g->producer;
}

int tta_model_op_counts(const tta_model *m, const char **ops, int *counts, int max) {
    int n = 0;
    for (int i = 0; i < m->graph.n_nodes; i++) {
        const char *op = m->graph.nodes[i].op_type;
        int k = 0;
        while (k < n && strcmp(ops[k], op)) k++;
        if (k < n) {
            counts[k]++;
        } else if (n < max) {
            ops[n] = op;
            counts[n++] = 1;
        }
    }
    return n;
}

const char *tta_model_output_producer(const tta_model *m, int i) {
    if (!m || i < 0 || i >= m->graph.n_outputs) return "";
    int v = m->graph.outputs[i];
    for (int n = m->graph.n_nodes - 1; n >= 0; n--)
        for (int o = 0; o < m->graph.nodes[n].n_outputs; o++)
            if (m->graph.nodes[n].outputs[o] == v) return m->graph.nodes[n].op_type;
    return "";
}
