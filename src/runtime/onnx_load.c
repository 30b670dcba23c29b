/* onnx_load.c - ONNX ModelProto (protobuf-c, generated at build time from Debian's onnx.proto)
 * -> the graph IR of graph.h. The protobuf structures are freed before returning, so weights
 * are held once. Every node is checked against the kernel table here, and all unsupported nodes
 * are reported together in one message. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/error.h"
#include "core/file_key.h"
#include "io/onnx_tensor.h"
#include "onnx.pb-c.h"
#include "runtime/model.h"
#include "runtime/op.h"
#include "runtime/rewrite.h"
#include "tta/tensor_io.h"

/* ---- name -> value index map (open addressing) */
typedef struct name_map {
    int *slots; /* value index + 1, 0 = empty */
    size_t cap;
} name_map;

static uint64_t hash_str(const char *s) {
    uint64_t h = 1469598103934665603ull;
    for (; *s; s++) h = (h ^ (unsigned char)*s) * 1099511628211ull;
    return h;
}

static int map_find(const name_map *m, const tta_graph *g, const char *name) {
    for (size_t i = hash_str(name) & (m->cap - 1);; i = (i + 1) & (m->cap - 1)) {
        int s = m->slots[i];
        if (!s) return -1;
        if (!strcmp(g->values[s - 1].name, name)) return s - 1;
    }
}

static void map_put(name_map *m, const char *name, int index) {
    size_t i = hash_str(name) & (m->cap - 1);
    while (m->slots[i]) i = (i + 1) & (m->cap - 1);
    m->slots[i] = index + 1;
}

typedef struct loader {
    const char *file;
    tta_graph *g;
    name_map map;
    int values_cap;
} loader;

static tta_status new_value(loader *L, const char *name, int *index) {
    tta_graph *g = L->g;
    if (g->n_values == L->values_cap) {
        /* capacity is fixed up front (see load_graph), so this is a bug */
        return tta_errorf(TTA_ERR_INTERNAL, "%s: value table overflow", L->file);
    }
    tta_value *v = &g->values[g->n_values];
    memset(v, 0, sizeof *v);
    v->name = tta_strdup(name);
    if (!v->name) return tta_errorf(TTA_ERR_NOMEM, "out of memory");
    v->ndim = -1;
    map_put(&L->map, name, g->n_values);
    *index = g->n_values++;
    return TTA_OK;
}

static void apply_value_info(tta_value *v, const Onnx__ValueInfoProto *vi) {
    if (!vi->type || vi->type->value_case != ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE) return;
    const Onnx__TypeProto__Tensor *tt = vi->type->tensor_type;
    if (!tt) return;
    if (tt->has_elem_type) v->dtype = (tta_dtype)tt->elem_type;
    if (!tt->shape || tt->shape->n_dim > TTA_MAX_DIMS) return;
    /* a value described twice (graph output and value_info, say): the later shape replaces
       the earlier, whose symbolic names are freed (fuzz finding F6: they leaked) */
    for (int d = 0; d < v->ndim && d < TTA_MAX_DIMS; d++) {
        tta_free(v->dims[d].param);
        v->dims[d].param = NULL;
    }
    v->ndim = (int)tt->shape->n_dim;
    for (size_t d = 0; d < tt->shape->n_dim; d++) {
        const Onnx__TensorShapeProto__Dimension *dim = tt->shape->dim[d];
        v->dims[d].value = -1;
        v->dims[d].param = NULL;
        if (dim->value_case == ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE && dim->dim_value >= 0)
            v->dims[d].value = dim->dim_value;
        else if (dim->value_case == ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_PARAM && dim->dim_param &&
                 dim->dim_param[0])
            v->dims[d].param = tta_strdup(dim->dim_param);
    }
}

static tta_status convert_attr(loader *L, const Onnx__NodeProto *np, const Onnx__AttributeProto *ap, tta_attr *a) {
    memset(a, 0, sizeof *a);
    a->name = tta_strdup(ap->name ? ap->name : "");
    if (!a->name) return tta_errorf(TTA_ERR_NOMEM, "out of memory");
    int type = ap->has_type ? ap->type : 0;
    if (type == 0) { /* IR < 0.0.2 models may omit it: infer from the set field */
        if (ap->has_f) type = TTA_ATTR_FLOAT;
        else if (ap->has_i) type = TTA_ATTR_INT;
        else if (ap->has_s) type = TTA_ATTR_STRING;
        else if (ap->t) type = TTA_ATTR_TENSOR;
        else if (ap->g) type = TTA_ATTR_GRAPH;
        else if (ap->n_floats) type = TTA_ATTR_FLOATS;
        else if (ap->n_ints) type = TTA_ATTR_INTS;
        else if (ap->n_strings) type = TTA_ATTR_STRINGS;
    }
    a->type = (tta_attr_type)type;
    switch (type) {
    case TTA_ATTR_FLOAT: a->f = ap->f; break;
    case TTA_ATTR_INT: a->i = ap->i; break;
    case TTA_ATTR_STRING:
        a->s = tta_malloc(ap->s.len + 1);
        if (!a->s) return tta_errorf(TTA_ERR_NOMEM, "out of memory");
        if (ap->s.len) memcpy(a->s, ap->s.data, ap->s.len);
        a->s[ap->s.len] = '\0';
        break;
    case TTA_ATTR_TENSOR: {
        if (!ap->t) return tta_errorf(TTA_ERR_PARSE, "%s: node '%s' (%s): attribute '%s' has no tensor", L->file,
                                      np->name ? np->name : "", np->op_type, a->name);
        a->t = tta_calloc(1, sizeof *a->t);
        if (!a->t) return tta_errorf(TTA_ERR_NOMEM, "out of memory");
        char what[256];
        snprintf(what, sizeof what, "%s: node '%s' (%s) attribute '%s'", L->file, np->name ? np->name : "",
                 np->op_type, a->name);
        tta_status st = tta_tensor_from_proto(ap->t, a->t, what);
        if (st) {
            tta_free(a->t);
            a->t = NULL;
            /* keep string tensors loadable: the kernel reports them when asked to use them */
            if (st == TTA_ERR_UNSUPPORTED && ap->t->data_type == TTA_DTYPE_STRING) a->type = TTA_ATTR_STRINGS;
            else return st;
        }
        break;
    }
    case TTA_ATTR_FLOATS:
        a->n = (int)ap->n_floats;
        a->floats = tta_malloc(sizeof(float) * (ap->n_floats + 1));
        if (!a->floats) return tta_errorf(TTA_ERR_NOMEM, "out of memory");
        if (ap->n_floats) memcpy(a->floats, ap->floats, sizeof(float) * ap->n_floats);
        break;
    case TTA_ATTR_INTS:
        a->n = (int)ap->n_ints;
        a->ints = tta_malloc(sizeof(int64_t) * (ap->n_ints + 1));
        if (!a->ints) return tta_errorf(TTA_ERR_NOMEM, "out of memory");
        if (ap->n_ints) memcpy(a->ints, ap->ints, sizeof(int64_t) * ap->n_ints);
        break;
    case TTA_ATTR_STRINGS:
        a->n = (int)ap->n_strings;
        a->strings = tta_calloc(ap->n_strings + 1, sizeof(char *));
        if (!a->strings) return tta_errorf(TTA_ERR_NOMEM, "out of memory");
        for (size_t i = 0; i < ap->n_strings; i++) {
            a->strings[i] = tta_malloc(ap->strings[i].len + 1);
            if (!a->strings[i]) return tta_errorf(TTA_ERR_NOMEM, "out of memory");
            if (ap->strings[i].len) memcpy(a->strings[i], ap->strings[i].data, ap->strings[i].len);
            a->strings[i][ap->strings[i].len] = '\0';
        }
        break;
    default: /* graphs, sparse tensors, type protos: kept as a typed marker only */
        break;
    }
    return TTA_OK;
}

static int64_t opset_for(const tta_graph *g, const char *domain) {
    const char *d = (!domain || !strcmp(domain, "ai.onnx")) ? "" : domain;
    for (int i = 0; i < g->n_opsets; i++) {
        const char *od = !strcmp(g->opsets[i].domain, "ai.onnx") ? "" : g->opsets[i].domain;
        if (!strcmp(od, d)) return g->opsets[i].version;
    }
    return -1;
}

static tta_status load_graph(loader *L, const Onnx__ModelProto *mp) {
    tta_graph *g = L->g;
    const Onnx__GraphProto *gp = mp->graph;
    if (!gp) return tta_errorf(TTA_ERR_PARSE, "%s: the model has no graph", L->file);
    if (gp->n_sparse_initializer)
        return tta_errorf(TTA_ERR_UNSUPPORTED, "%s: sparse initializers are not supported", L->file);

    g->ir_version = mp->has_ir_version ? mp->ir_version : 0;
    g->producer = tta_strdup(mp->producer_name ? mp->producer_name : "");
    g->name = tta_strdup(gp->name ? gp->name : "");
    g->opsets = tta_calloc(mp->n_opset_import + 1, sizeof *g->opsets);
    if (!g->producer || !g->name || !g->opsets) return tta_errorf(TTA_ERR_NOMEM, "out of memory");
    for (size_t i = 0; i < mp->n_opset_import; i++) {
        g->n_opsets++;
        g->opsets[i].domain = tta_strdup(mp->opset_import[i]->domain ? mp->opset_import[i]->domain : "");
        if (!g->opsets[i].domain) return tta_errorf(TTA_ERR_NOMEM, "out of memory");
        g->opsets[i].version = mp->opset_import[i]->has_version ? mp->opset_import[i]->version : 1;
    }
    g->metadata_keys = tta_calloc(mp->n_metadata_props + 1, sizeof(char *));
    g->metadata_values = tta_calloc(mp->n_metadata_props + 1, sizeof(char *));
    if (!g->metadata_keys || !g->metadata_values) return tta_errorf(TTA_ERR_NOMEM, "out of memory");
    for (size_t i = 0; i < mp->n_metadata_props; i++) {
        const Onnx__StringStringEntryProto *e = mp->metadata_props[i];
        g->n_metadata++;
        g->metadata_keys[i] = tta_strdup(e->key ? e->key : "");
        g->metadata_values[i] = tta_strdup(e->value ? e->value : "");
        if (!g->metadata_keys[i] || !g->metadata_values[i]) return tta_errorf(TTA_ERR_NOMEM, "out of memory");
    }

    size_t max_values = gp->n_initializer + gp->n_input;
    for (size_t i = 0; i < gp->n_node; i++) max_values += gp->node[i]->n_output;
    L->values_cap = (int)max_values;
    g->values = tta_calloc(max_values + 1, sizeof *g->values);
    L->map.cap = 16;
    while (L->map.cap < 2 * max_values + 2) L->map.cap <<= 1;
    L->map.slots = tta_calloc(L->map.cap, sizeof(int));
    g->inputs = tta_calloc(gp->n_input + 1, sizeof(int));
    g->outputs = tta_calloc(gp->n_output + 1, sizeof(int));
    g->nodes = tta_calloc(gp->n_node + 1, sizeof *g->nodes);
    if (!g->values || !L->map.slots || !g->inputs || !g->outputs || !g->nodes)
        return tta_errorf(TTA_ERR_NOMEM, "out of memory");

    for (size_t i = 0; i < gp->n_initializer; i++) {
        const Onnx__TensorProto *tp = gp->initializer[i];
        const char *name = tp->name ? tp->name : "";
        if (map_find(&L->map, g, name) >= 0)
            return tta_errorf(TTA_ERR_PARSE, "%s: initializer '%s' is defined twice", L->file, name);
        int vi;
        TTA_TRY(new_value(L, name, &vi));
        tta_value *v = &g->values[vi];
        v->constant = tta_calloc(1, sizeof *v->constant);
        if (!v->constant) return tta_errorf(TTA_ERR_NOMEM, "out of memory");
        char what[300];
        snprintf(what, sizeof what, "%s: initializer '%s'", L->file, name);
        TTA_TRY(tta_tensor_from_proto(tp, v->constant, what));
        v->dtype = v->constant->dtype;
        v->ndim = v->constant->ndim;
        for (int d = 0; d < v->ndim; d++) v->dims[d].value = v->constant->dims[d];
    }
    for (size_t i = 0; i < gp->n_input; i++) {
        const Onnx__ValueInfoProto *vi = gp->input[i];
        const char *name = vi->name ? vi->name : "";
        int idx = map_find(&L->map, g, name);
        if (idx >= 0 && g->values[idx].constant) continue; /* an initializer listed as input (IR < 4) */
        if (idx >= 0) return tta_errorf(TTA_ERR_PARSE, "%s: graph input '%s' is declared twice", L->file, name);
        TTA_TRY(new_value(L, name, &idx));
        g->values[idx].is_input = true;
        apply_value_info(&g->values[idx], vi);
        g->inputs[g->n_inputs++] = idx;
    }
    for (size_t i = 0; i < gp->n_node; i++) {
        const Onnx__NodeProto *np = gp->node[i];
        tta_node *n = &g->nodes[g->n_nodes++];
        n->name = tta_strdup(np->name ? np->name : "");
        n->op_type = tta_strdup(np->op_type ? np->op_type : "");
        n->domain = tta_strdup(np->domain ? np->domain : "");
        n->inputs = tta_malloc(sizeof(int) * (np->n_input + 1));
        n->outputs = tta_malloc(sizeof(int) * (np->n_output + 1));
        n->attrs = tta_calloc(np->n_attribute + 1, sizeof *n->attrs);
        if (!n->name || !n->op_type || !n->domain || !n->inputs || !n->outputs || !n->attrs)
            return tta_errorf(TTA_ERR_NOMEM, "out of memory");
        if (!n->op_type[0]) return tta_errorf(TTA_ERR_PARSE, "%s: node %zu has no op_type", L->file, i);
        int64_t ver = opset_for(g, n->domain);
        if (ver < 0) {
            if (g->n_opsets == 0 && !n->domain[0]) ver = 1;
            else
                return tta_errorf(TTA_ERR_PARSE, "%s: node '%s' (%s) uses domain '%s', which the model does not import",
                                  L->file, n->name, n->op_type, n->domain);
        }
        n->opset = (int)ver;
        for (size_t a = 0; a < np->n_attribute; a++) {
            n->n_attrs++; /* counted first so that a partly converted attribute is freed too */
            TTA_TRY(convert_attr(L, np, np->attribute[a], &n->attrs[n->n_attrs - 1]));
        }
        n->n_inputs = (int)np->n_input;
        for (size_t k = 0; k < np->n_input; k++) {
            const char *in = np->input[k] ? np->input[k] : "";
            if (!in[0]) {
                n->inputs[k] = -1;
                continue;
            }
            int idx = map_find(&L->map, g, in);
            if (idx < 0)
                return tta_errorf(TTA_ERR_PARSE,
                                  "%s: node '%s' (%s) reads '%s', which no earlier node, initializer or graph "
                                  "input defines (nodes must be in topological order)",
                                  L->file, n->name, n->op_type, in);
            n->inputs[k] = idx;
        }
        n->n_outputs = (int)np->n_output;
        for (size_t k = 0; k < np->n_output; k++) {
            const char *out = np->output[k] ? np->output[k] : "";
            if (!out[0]) {
                n->outputs[k] = -1;
                continue;
            }
            if (map_find(&L->map, g, out) >= 0)
                return tta_errorf(TTA_ERR_PARSE, "%s: node '%s' (%s) writes '%s', which is already defined",
                                  L->file, n->name, n->op_type, out);
            int idx;
            TTA_TRY(new_value(L, out, &idx));
            n->outputs[k] = idx;
        }
    }
    for (size_t i = 0; i < gp->n_value_info; i++) {
        int idx = map_find(&L->map, g, gp->value_info[i]->name ? gp->value_info[i]->name : "");
        if (idx >= 0 && !g->values[idx].constant && !g->values[idx].is_input)
            apply_value_info(&g->values[idx], gp->value_info[i]);
    }
    for (size_t i = 0; i < gp->n_output; i++) {
        const char *name = gp->output[i]->name ? gp->output[i]->name : "";
        int idx = map_find(&L->map, g, name);
        if (idx < 0)
            return tta_errorf(TTA_ERR_PARSE, "%s: graph output '%s' is not produced by any node", L->file, name);
        g->values[idx].is_output = true;
        if (!g->values[idx].constant && !g->values[idx].is_input) apply_value_info(&g->values[idx], gp->output[i]);
        g->outputs[g->n_outputs++] = idx;
    }
    return TTA_OK;
}

/* All unsupported nodes in one message: "3 unsupported nodes: Loop (node 'l1'), Foo x2 (...)". */
static tta_status check_kernels(const char *file, const tta_graph *g) {
    char msg[900];
    int n_bad = 0, used = 0, n_kinds = 0;
    const char *kinds[64];
    for (int i = 0; i < g->n_nodes; i++) {
        const tta_node *n = &g->nodes[i];
        if (tta_kernel_find(n)) continue;
        n_bad++;
        int seen = 0;
        for (int k = 0; k < n_kinds; k++) seen |= !strcmp(kinds[k], n->op_type);
        if (seen || n_kinds == 64) continue;
        kinds[n_kinds++] = n->op_type;
        int count = 0;
        for (int j = 0; j < g->n_nodes; j++)
            if (!strcmp(g->nodes[j].op_type, n->op_type) && !tta_kernel_find(&g->nodes[j])) count++;
        const char *why = tta_kernel_known_op(n->domain, n->op_type) ? " at this opset or with these attributes" : "";
        char where[160];
        if (n->name[0]) snprintf(where, sizeof where, "node '%.128s'", n->name);
        else snprintf(where, sizeof where, "node #%d", i);
        if (used < (int)sizeof msg - 1)
            used += snprintf(msg + used, sizeof msg - (size_t)used, "%s%s%s%s v%d%s x%d (first: %s)",
                             n_kinds > 1 ? ", " : "", n->domain[0] ? n->domain : "", n->domain[0] ? "." : "",
                             n->op_type, n->opset, why, count, where);
    }
    if (!n_bad) return TTA_OK;
    return tta_errorf(TTA_ERR_UNSUPPORTED, "%s: %d unsupported node%s: %s", file, n_bad, n_bad == 1 ? "" : "s", msg);
}

/* Loads from a buffer; with `owned`, frees it as soon as it is parsed (the file, the parsed message
 * and the model's tensors are each about the size of the weights: so at most two are alive). */
static tta_status load_buffer(void *owned, const void *data, size_t size, const char *name,
                              const tta_model_options *opts, tta_model **out) {
    if (!out) {
        tta_free(owned);
        return tta_errorf(TTA_ERR_INVALID_ARG, "tta_model_load: out is NULL");
    }
    *out = NULL;
    if (!data && size) return tta_errorf(TTA_ERR_INVALID_ARG, "tta_model_load: data is NULL");
    const char *file = name ? name : "<memory>";
    if (size == 0) {
        tta_free(owned);
        return tta_errorf(TTA_ERR_PARSE, "%s: empty file, not an ONNX model", file);
    }
    Onnx__ModelProto *mp = onnx__model_proto__unpack(NULL, size, data);
    tta_free(owned);
    if (!mp) return tta_errorf(TTA_ERR_PARSE, "%s: not a valid ONNX model (truncated or garbage protobuf)", file);
    tta_model *m = tta_calloc(1, sizeof *m);
    if (!m) {
        onnx__model_proto__free_unpacked(mp, NULL);
        return tta_errorf(TTA_ERR_NOMEM, "out of memory");
    }
    m->name = tta_strdup(file);
    loader L = {.file = file, .g = &m->graph};
    tta_status st = m->name ? load_graph(&L, mp) : tta_errorf(TTA_ERR_NOMEM, "out of memory");
    tta_free(L.map.slots);
    onnx__model_proto__free_unpacked(mp, NULL);
    m->rewrites = !(opts && opts->no_rewrites);
    if (st == TTA_OK && m->rewrites) {
        st = tta_graph_rewrite(&m->graph, NULL);
        if (st) st = tta_error_context(st, "%s: graph rewrites", file);
    }
    if (st == TTA_OK) st = check_kernels(file, &m->graph);
    if (st) {
        tta_model_free(m);
        return st;
    }
    *out = m;
    return TTA_OK;
}

tta_status tta_model_load_buffer(const void *data, size_t size, const char *name, const tta_model_options *opts,
                                      tta_model **out) {
    return load_buffer(NULL, data, size, name, opts, out);
}

tta_status tta_model_load(const char *path, const tta_model_options *opts, tta_model **out) {
    void *buf;
    size_t size;
    if (out) *out = NULL;
    TTA_TRY(tta_read_file(path, &buf, &size));
    return load_buffer(buf, buf, size, path, opts, out); /* frees buf */
}

void tta_model_free(tta_model *m) {
    if (!m) return;
    tta_graph_free(&m->graph);
    tta_free(m->name);
    tta_free(m);
}
