/* rewrite.c - graph rewrites applied once after loading, each a small rule with a condition
 * and an apply step (as in ONNX Runtime's optimisers):
 *
 *   constant     Constant nodes with a tensor or number value become initializers, so that
 *                the rules below see their values.
 *   identity     Identity, Dropout in inference, and Pad by all-zero pads removed: consumers
 *                read the input.
 *   bn-fold      BatchNormalization after a Conv with constant weights folded into the Conv's
 *                weights and bias (new initializers; the originals may be shared).
 *   silu-fuse    Conv whose output X feeds exactly Sigmoid(X) and Mul(X, Sigmoid(X)) (SiLU,
 *                as PyTorch exports it) becomes FusedConv with activation "Swish" (tta's
 *                addition to ONNX Runtime's list); with HardSigmoid(X, 1/6, 1/2) in place of
 *                Sigmoid (hardswish as PyTorch exports it before opset 14), "HardSwish".
 *   act-fuse     Conv followed by Relu, LeakyRelu, Sigmoid, Tanh, HardSigmoid, HardSwish or
 *                Clip (constant bounds) becomes one com.microsoft FusedConv node, which the
 *                oneDNN kernel runs as a convolution with a post-op.
 *   bn-relu      BatchNormalization (inference) that is not folded, followed by Relu, becomes
 *                tta's BatchNormRelu (domain "tta"): one pass over the tensor.
 *   layernorm    LayerNorm over the last axis as PyTorch decomposes it before opset 17
 *                (ReduceMean, Sub, Pow, ReduceMean, Add, Sqrt, Div, Mul, Add) becomes one
 *                LayerNormalization node (ConvNeXt, vision transformers).
 *   gelu         GELU as PyTorch exports it before opset 20 (Div by sqrt 2, Erf, Add 1, Mul x,
 *                Mul 0.5) becomes one Gelu node.
 *
 * A rule fires only where the intermediate value has exactly one consumer and is not a graph
 * output, so the model's outputs and their names never change. The model option no_rewrites
 * (TTA_NO_REWRITES=1 on the command line) turns them off; tests run the whole models both ways.
 *
 * Cost: each rule makes one pass over the nodes. The use counts and the reader and producer of
 * each value are kept in an index (rw_index) built once per pass and updated by every rewrite,
 * so a pass is linear in the graph (a chain of 100,000 Identity nodes loads in well under a
 * second; recounting after every firing made it quadratic). Dead nodes stay in the graph, and
 * in the counts, until the pass ends.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/error.h"
#include "runtime/op.h"
#include "runtime/rewrite.h"

/* The index one rule pass works on, kept exact by every rewrite:
 *   ix->uses[v]    number of node input slots reading value v (dead nodes' too, until the pass
 *              ends), plus 1,000,000 per graph output naming v (never rewritten away);
 *   head[v]    a list of (node, slot) entries, one per slot that reads v. Entries go stale when
 *              the slot is redirected; they are dropped lazily, when the list is walked, so each
 *              is looked at O(1) times after it goes stale;
 *   prod[v]    the node whose first output is v (-1 if none). */
typedef struct rw_reader {
    int node, slot, next;
} rw_reader;

typedef struct rw_index {
    int *uses, *head, *prod;
    int cap_values;
    rw_reader *rd;
    int n_rd, cap_rd;
} rw_index;

static void ix_free(rw_index *ix) {
    tta_free(ix->uses);
    tta_free(ix->head);
    tta_free(ix->prod);
    tta_free(ix->rd);
    memset(ix, 0, sizeof *ix);
}

/* Makes room for values up to n_values (new ones have no uses, readers or producer). */
static tta_status ix_grow(rw_index *ix, int n_values) {
    if (n_values <= ix->cap_values) return TTA_OK;
    int cap = ix->cap_values ? ix->cap_values : 16;
    while (cap < n_values) cap = cap > (1 << 29) ? n_values : 2 * cap;
    int *u = tta_realloc(ix->uses, sizeof(int) * (size_t)cap);
    if (u) ix->uses = u;
    int *h = u ? tta_realloc(ix->head, sizeof(int) * (size_t)cap) : NULL;
    if (h) ix->head = h;
    int *p = h ? tta_realloc(ix->prod, sizeof(int) * (size_t)cap) : NULL;
    if (!p) return tta_errorf(TTA_ERR_NOMEM, "out of memory");
    ix->prod = p;
    for (int v = ix->cap_values; v < cap; v++) ix->uses[v] = 0, ix->head[v] = ix->prod[v] = -1;
    ix->cap_values = cap;
    return TTA_OK;
}

static tta_status ix_add_reader(rw_index *ix, int v, int node, int slot) {
    if (ix->n_rd == ix->cap_rd) {
        int cap = ix->cap_rd ? 2 * ix->cap_rd : 64;
        rw_reader *rd = tta_realloc(ix->rd, sizeof *rd * (size_t)cap);
        if (!rd) return tta_errorf(TTA_ERR_NOMEM, "out of memory");
        ix->rd = rd;
        ix->cap_rd = cap;
    }
    ix->rd[ix->n_rd] = (rw_reader){node, slot, ix->head[v]};
    ix->head[v] = ix->n_rd++;
    return TTA_OK;
}

static tta_status ix_build(rw_index *ix, const tta_graph *g) {
    TTA_TRY(ix_grow(ix, g->n_values + 1));
    for (int v = 0; v < ix->cap_values; v++) ix->uses[v] = 0, ix->head[v] = ix->prod[v] = -1;
    ix->n_rd = 0;
    /* added in reverse so that each list starts in node order (not needed for correctness) */
    for (int i = g->n_nodes - 1; i >= 0; i--) {
        const tta_node *n = &g->nodes[i];
        for (int k = n->n_inputs - 1; k >= 0; k--)
            if (n->inputs[k] >= 0) {
                ix->uses[n->inputs[k]]++;
                TTA_TRY(ix_add_reader(ix, n->inputs[k], i, k));
            }
        if (n->op_type[0] && n->n_outputs > 0 && n->outputs[0] >= 0) ix->prod[n->outputs[0]] = i;
    }
    for (int i = 0; i < g->n_outputs; i++) ix->uses[g->outputs[i]] += 1000000;
    return TTA_OK;
}

/* Walks v's reader list, dropping stale entries; stores up to `max` live (node, slot) pairs,
 * sorted by node then slot, and returns how many there are in all. */
static int ix_readers(rw_index *ix, const tta_graph *g, int v, rw_reader *out, int max) {
    int n = 0;
    for (int *link = &ix->head[v]; *link >= 0;) {
        rw_reader *r = &ix->rd[*link];
        const tta_node *nd = &g->nodes[r->node];
        if (r->slot >= nd->n_inputs || nd->inputs[r->slot] != v) {
            *link = r->next; /* stale: the slot now reads another value */
            continue;
        }
        bool dup = false;
        for (int j = 0; j < n && j < max; j++) dup |= out[j].node == r->node && out[j].slot == r->slot;
        if (!dup) {
            if (n < max) out[n] = *r;
            n++;
        }
        link = &r->next;
    }
    for (int i = 1; i < n && i < max; i++) /* insertion sort: the lists asked for are tiny */
        for (int j = i; j > 0 && (out[j - 1].node > out[j].node ||
                                  (out[j - 1].node == out[j].node && out[j - 1].slot > out[j].slot));
             j--) {
            rw_reader t = out[j];
            out[j] = out[j - 1];
            out[j - 1] = t;
        }
    return n;
}

/* Points input slot k of node n at value v, keeping the index exact. */
static tta_status ix_set_input(rw_index *ix, tta_graph *g, tta_node *n, int k, int v) {
    int old = n->inputs[k];
    if (old == v) return TTA_OK;
    if (old >= 0) ix->uses[old]--;
    n->inputs[k] = v;
    if (v < 0) return TTA_OK;
    ix->uses[v]++;
    return ix_add_reader(ix, v, (int)(n - g->nodes), k);
}

/* Makes node n write value v as its first output. */
static void ix_set_output0(rw_index *ix, tta_graph *g, tta_node *n, int v) {
    n->outputs[0] = v;
    if (v >= 0) ix->prod[v] = (int)(n - g->nodes);
}

static bool is_op(const tta_node *n, const char *op) { return !n->domain[0] && !strcmp(n->op_type, op); }

static const tta_tensor *constant_of(const tta_graph *g, const tta_node *n, int k) {
    if (k >= n->n_inputs || n->inputs[k] < 0) return NULL;
    return g->values[n->inputs[k]].constant;
}

/* The only node reading value v, dead or alive (NULL when v has another consumer or is a graph
 * output). */
static tta_node *sole_consumer(tta_graph *g, rw_index *ix, int v) {
    if (v < 0 || ix->uses[v] != 1) return NULL;
    rw_reader r;
    return ix_readers(ix, g, v, &r, 1) >= 1 ? &g->nodes[r.node] : NULL;
}

static void mark_dead(tta_node *n) { n->op_type[0] = '\0'; }

/* Every slot reading `from` (dead nodes' too) reads `to` instead. */
static tta_status replace_uses(tta_graph *g, rw_index *ix, int from, int to) {
    if (from == to) return TTA_OK;
    for (int e = ix->head[from]; e >= 0; e = ix->rd[e].next) {
        tta_node *n = &g->nodes[ix->rd[e].node];
        int k = ix->rd[e].slot;
        if (k < n->n_inputs && n->inputs[k] == from) TTA_TRY(ix_set_input(ix, g, n, k, to));
    }
    ix->head[from] = -1; /* every entry moved or stale */
    return TTA_OK;
}

/* Adds a constant value owning `t` (moved in). */
static tta_status add_constant(tta_graph *g, const char *name, tta_tensor *t, int *index) {
    tta_value *vals = tta_realloc(g->values, sizeof(tta_value) * ((size_t)g->n_values + 2));
    if (!vals) return tta_errorf(TTA_ERR_NOMEM, "out of memory");
    g->values = vals;
    tta_value *v = &g->values[g->n_values];
    memset(v, 0, sizeof *v);
    v->name = tta_strdup(name);
    v->constant = tta_malloc(sizeof(tta_tensor));
    if (!v->name || !v->constant) {
        tta_free(v->name);
        tta_free(v->constant);
        return tta_errorf(TTA_ERR_NOMEM, "out of memory");
    }
    *v->constant = *t;
    memset(t, 0, sizeof *t);
    v->dtype = v->constant->dtype;
    v->ndim = v->constant->ndim;
    for (int d = 0; d < v->ndim; d++) v->dims[d].value = v->constant->dims[d];
    *index = g->n_values++;
    return TTA_OK;
}

static tta_status add_attr(tta_node *n, tta_attr *a) {
    tta_attr *attrs = tta_realloc(n->attrs, sizeof(tta_attr) * ((size_t)n->n_attrs + 2));
    if (!attrs) return tta_errorf(TTA_ERR_NOMEM, "out of memory");
    n->attrs = attrs;
    n->attrs[n->n_attrs++] = *a;
    return TTA_OK;
}

/* ---- constant: a Constant node's value becomes the constant of its output value */
static tta_status rule_constant(tta_graph *g, rw_index *ix, tta_node *n, int *fired) {
    (void)ix;
    if (!is_op(n, "Constant") || n->n_outputs != 1 || n->outputs[0] < 0 || n->n_attrs != 1) return TTA_OK;
    const tta_attr *a = &n->attrs[0];
    tta_tensor t = {0};
    int64_t one[1] = {1}, len[1] = {a->n};
    if (!strcmp(a->name, "value") && a->type == TTA_ATTR_TENSOR && a->t) {
        TTA_TRY(tta_tensor_copy(&t, a->t));
    } else if (!strcmp(a->name, "value_float") && a->type == TTA_ATTR_FLOAT) {
        TTA_TRY(tta_tensor_resize(&t, TTA_DTYPE_FLOAT32, 0, one));
        *(float *)t.data = a->f;
    } else if (!strcmp(a->name, "value_int") && a->type == TTA_ATTR_INT) {
        TTA_TRY(tta_tensor_resize(&t, TTA_DTYPE_INT64, 0, one));
        *(int64_t *)t.data = a->i;
    } else if (!strcmp(a->name, "value_floats") && a->type == TTA_ATTR_FLOATS) {
        TTA_TRY(tta_tensor_resize(&t, TTA_DTYPE_FLOAT32, 1, len));
        if (a->n) memcpy(t.data, a->floats, sizeof(float) * (size_t)a->n);
    } else if (!strcmp(a->name, "value_ints") && a->type == TTA_ATTR_INTS) {
        TTA_TRY(tta_tensor_resize(&t, TTA_DTYPE_INT64, 1, len));
        if (a->n) memcpy(t.data, a->ints, sizeof(int64_t) * (size_t)a->n);
    } else {
        return TTA_OK; /* sparse or string values: left to the Constant kernel to report */
    }
    tta_value *v = &g->values[n->outputs[0]];
    v->constant = tta_malloc(sizeof(tta_tensor));
    if (!v->constant) {
        tta_tensor_destroy(&t);
        return tta_errorf(TTA_ERR_NOMEM, "out of memory");
    }
    *v->constant = t;
    v->dtype = t.dtype;
    v->ndim = t.ndim;
    for (int d = 0; d < t.ndim; d++) v->dims[d].value = t.dims[d];
    mark_dead(n);
    (*fired)++;
    return TTA_OK;
}

/* Pad whose pads are all zero (PyTorch exports AvgPool2d so, before DenseNet's transitions): an
 * identity in every mode. */
static bool is_zero_pad(const tta_graph *g, const tta_node *n) {
    if (!is_op(n, "Pad") || n->n_outputs != 1) return false;
    if (n->opset < 11) {
        const int64_t *pads;
        int np = tta_attr_ints(n, "pads", &pads);
        if (np == 0) np = tta_attr_ints(n, "paddings", &pads);
        for (int i = 0; i < np; i++)
            if (pads[i]) return false;
        return np > 0;
    }
    const tta_tensor *pads = constant_of(g, n, 1);
    if (!pads || !tta_dtype_is_int(pads->dtype) || tta_tensor_numel(pads) == 0) return false;
    for (int64_t i = 0; i < tta_tensor_numel(pads); i++)
        if (tta_get_i64(pads, i)) return false;
    return true;
}

/* ---- identity: Identity, inference-mode Dropout, and Pad by zero */
static tta_status rule_identity(tta_graph *g, rw_index *ix, tta_node *n, int *fired) {
    if (!is_op(n, "Identity") && !is_op(n, "Dropout") && !is_zero_pad(g, n)) return TTA_OK;
    if (n->n_inputs < 1 || n->inputs[0] < 0 || n->n_outputs < 1 || n->outputs[0] < 0) return TTA_OK;
    if (is_op(n, "Dropout")) {
        for (int o = 1; o < n->n_outputs; o++) /* the mask must be unused */
            if (n->outputs[o] >= 0 && ix->uses[n->outputs[o]]) return TTA_OK;
        const tta_tensor *train = constant_of(g, n, 2);
        if (n->n_inputs > 2 && n->inputs[2] >= 0 && (!train || tta_get_i64(train, 0) != 0)) return TTA_OK;
        if (tta_attr_int(n, "is_test", 1) == 0 && n->opset < 7) return TTA_OK;
    }
    int out = n->outputs[0];
    if (ix->uses[out] >= 1000000) return TTA_OK; /* a graph output keeps its name */
    TTA_TRY(replace_uses(g, ix, out, n->inputs[0]));
    mark_dead(n);
    (*fired)++;
    return TTA_OK;
}

/* ---- bn-fold: Conv (constant W, B) -> BatchNormalization (constant parameters) */
static tta_status rule_bn_fold(tta_graph *g, rw_index *ix, tta_node *conv, int *fired) {
    if (!is_op(conv, "Conv") || conv->n_outputs != 1) return TTA_OK;
    const tta_tensor *w = constant_of(g, conv, 1), *b = constant_of(g, conv, 2);
    if (!w || w->dtype != TTA_DTYPE_FLOAT32 || w->ndim < 3) return TTA_OK;
    if (conv->n_inputs > 2 && conv->inputs[2] >= 0 && (!b || b->dtype != TTA_DTYPE_FLOAT32)) return TTA_OK;
    tta_node *bn = sole_consumer(g, ix, conv->outputs[0]);
    if (!bn || !is_op(bn, "BatchNormalization") || bn->inputs[0] != conv->outputs[0] || bn->n_inputs < 5) return TTA_OK;
    if (tta_attr_int(bn, "training_mode", 0) != 0 || tta_attr_int(bn, "spatial", 1) != 1) return TTA_OK;
    if (bn->opset < 7 && tta_attr_int(bn, "is_test", 0) == 0) return TTA_OK;
    for (int o = 1; o < bn->n_outputs; o++)
        if (bn->outputs[o] >= 0 && ix->uses[bn->outputs[o]]) return TTA_OK;
    const tta_tensor *sc = constant_of(g, bn, 1), *bi = constant_of(g, bn, 2), *mu = constant_of(g, bn, 3),
                     *var = constant_of(g, bn, 4);
    int64_t m = w->dims[0];
    const tta_tensor *ps[4] = {sc, bi, mu, var};
    for (int i = 0; i < 4; i++)
        if (!ps[i] || ps[i]->dtype != TTA_DTYPE_FLOAT32 || tta_tensor_numel(ps[i]) != m) return TTA_OK;
    if (b && tta_tensor_numel(b) != m) return TTA_OK;
    double eps = tta_attr_float(bn, "epsilon", 1e-5f);

    tta_tensor nw = {0}, nb = {0};
    int64_t bdim[1] = {m};
    TTA_TRY(tta_tensor_copy(&nw, w));
    tta_status st = tta_tensor_resize(&nb, TTA_DTYPE_FLOAT32, 1, bdim);
    if (st) {
        tta_tensor_destroy(&nw);
        return st;
    }
    int64_t per = tta_tensor_numel(w) / m;
    for (int64_t c = 0; c < m; c++) {
        double f = ((const float *)sc->data)[c] / sqrt((double)((const float *)var->data)[c] + eps);
        float *wc = (float *)nw.data + c * per;
        for (int64_t i = 0; i < per; i++) wc[i] = (float)(wc[i] * f);
        double b0 = b ? ((const float *)b->data)[c] : 0.0;
        ((float *)nb.data)[c] = (float)((b0 - ((const float *)mu->data)[c]) * f + ((const float *)bi->data)[c]);
    }
    char name[512];
    int wi, bi_idx;
    snprintf(name, sizeof name, "%s/bn_folded_weight", g->values[bn->outputs[0]].name);
    st = add_constant(g, name, &nw, &wi);
    snprintf(name, sizeof name, "%s/bn_folded_bias", g->values[bn->outputs[0]].name);
    if (!st) st = add_constant(g, name, &nb, &bi_idx);
    tta_tensor_destroy(&nw);
    tta_tensor_destroy(&nb);
    if (st) return st;
    TTA_TRY(ix_grow(ix, g->n_values));
    if (conv->n_inputs < 3) {
        int *in = tta_realloc(conv->inputs, sizeof(int) * 3);
        if (!in) return tta_errorf(TTA_ERR_NOMEM, "out of memory");
        conv->inputs = in;
        conv->inputs[2] = -1;
        conv->n_inputs = 3;
    }
    TTA_TRY(ix_set_input(ix, g, conv, 1, wi));
    TTA_TRY(ix_set_input(ix, g, conv, 2, bi_idx));
    ix_set_output0(ix, g, conv, bn->outputs[0]);
    mark_dead(bn);
    (*fired)++;
    return TTA_OK;
}

/* Turns conv into FusedConv with the given activation, writing out (the activation's output). */
static tta_status make_fused(tta_graph *g, rw_index *ix, tta_node *conv, const char *name, const float *params,
                             int np, int out, bool *done);

/* HardSigmoid with PyTorch's hardswish constants: x * HardSigmoid(x) is HardSwish(x). */
static bool is_hardswish_gate(const tta_node *n) {
    return is_op(n, "HardSigmoid") && fabsf(tta_attr_float(n, "alpha", 0.2f) - 1.0f / 6.0f) < 1e-7f &&
           tta_attr_float(n, "beta", 0.5f) == 0.5f;
}

/* ---- silu-fuse: Conv -> X; Sigmoid(X) -> S; Mul(X, S) becomes FusedConv "Swish"; the same with
 * HardSigmoid(X, 1/6, 1/2) (hardswish as PyTorch exports it before opset 14) "HardSwish" */
static tta_status rule_silu_fuse(tta_graph *g, rw_index *ix, tta_node *conv, int *fired) {
    if (!is_op(conv, "Conv") || conv->n_outputs != 1) return TTA_OK;
    int x = conv->outputs[0];
    if (x < 0 || ix->uses[x] != 2) return TTA_OK;
    tta_node *sig = NULL, *mul = NULL;
    rw_reader rd[2];
    int nr = ix_readers(ix, g, x, rd, 2);
    for (int i = 0; i < nr && i < 2; i++) { /* in node order, dead nodes too */
        tta_node *n = &g->nodes[rd[i].node];
        if ((is_op(n, "Sigmoid") || is_hardswish_gate(n)) && n->n_inputs == 1 && n->n_outputs == 1) sig = n;
        else if (is_op(n, "Mul") && n->n_inputs == 2 && n->n_outputs == 1) mul = n;
    }
    if (!sig || !mul || sole_consumer(g, ix, sig->outputs[0]) != mul) return TTA_OK;
    int other = mul->inputs[0] == x ? mul->inputs[1] : mul->inputs[0];
    if (other != sig->outputs[0]) return TTA_OK;
    bool done = false;
    TTA_TRY(make_fused(g, ix, conv, is_op(sig, "Sigmoid") ? "Swish" : "HardSwish", NULL, 0, mul->outputs[0], &done));
    if (!done) return TTA_OK;
    mark_dead(sig);
    mark_dead(mul);
    (*fired)++;
    return TTA_OK;
}

/* ---- act-fuse: Conv -> activation becomes FusedConv */
static tta_status rule_act_fuse(tta_graph *g, rw_index *ix, tta_node *conv, int *fired) {
    if (!is_op(conv, "Conv") || conv->n_outputs != 1) return TTA_OK;
    tta_node *act = sole_consumer(g, ix, conv->outputs[0]);
    if (!act || act->n_inputs < 1 || act->inputs[0] != conv->outputs[0] || act->n_outputs != 1) return TTA_OK;
    float params[2];
    int np = 0;
    const char *name = NULL;
    if (is_op(act, "Relu") || is_op(act, "Sigmoid") || is_op(act, "Tanh") || is_op(act, "HardSwish")) {
        name = act->op_type;
    } else if (is_op(act, "LeakyRelu")) {
        name = "LeakyRelu";
        params[np++] = tta_attr_float(act, "alpha", 0.01f);
    } else if (is_op(act, "HardSigmoid")) {
        name = "HardSigmoid";
        params[np++] = tta_attr_float(act, "alpha", 0.2f);
        params[np++] = tta_attr_float(act, "beta", 0.5f);
    } else if (is_op(act, "Clip")) {
        name = "Clip";
        if (act->opset < 11) {
            params[np++] = tta_attr_float(act, "min", -INFINITY);
            params[np++] = tta_attr_float(act, "max", INFINITY);
        } else {
            const tta_tensor *lo = constant_of(g, act, 1), *hi = constant_of(g, act, 2);
            if ((act->n_inputs > 1 && act->inputs[1] >= 0 && !lo) || (act->n_inputs > 2 && act->inputs[2] >= 0 && !hi))
                return TTA_OK; /* bounds computed at run time */
            params[np++] = lo ? (float)tta_get_f64(lo, 0) : -INFINITY;
            params[np++] = hi ? (float)tta_get_f64(hi, 0) : INFINITY;
        }
    }
    if (!name) return TTA_OK;
    bool done = false;
    TTA_TRY(make_fused(g, ix, conv, name, params, np, act->outputs[0], &done));
    if (!done) return TTA_OK;
    mark_dead(act);
    (*fired)++;
    return TTA_OK;
}

/* ---- bn-relu: inference BatchNormalization -> Relu becomes tta's BatchNormRelu (one pass over the
 * tensor instead of two; pre-activation networks such as DenseNet have one before every conv) */
static tta_status rule_bn_relu(tta_graph *g, rw_index *ix, tta_node *bn, int *fired) {
    if (!is_op(bn, "BatchNormalization") || bn->n_outputs != 1 || bn->outputs[0] < 0 ||
        tta_attr_int(bn, "training_mode", 0) != 0 || (bn->opset < 9 && tta_attr_int(bn, "spatial", 1) != 1))
        return TTA_OK;
    tta_node *relu = sole_consumer(g, ix, bn->outputs[0]);
    if (!relu || !is_op(relu, "Relu") || relu->n_outputs != 1 || relu->inputs[0] != bn->outputs[0]) return TTA_OK;
    char *op = tta_strdup("BatchNormRelu"), *dom = tta_strdup("tta");
    if (!op || !dom) {
        tta_free(op);
        tta_free(dom);
        return tta_errorf(TTA_ERR_NOMEM, "out of memory");
    }
    tta_free(bn->op_type);
    tta_free(bn->domain);
    bn->op_type = op;
    bn->domain = dom; /* the opset stays BatchNormalization's: the kernel reads it */
    ix_set_output0(ix, g, bn, relu->outputs[0]);
    mark_dead(relu);
    (*fired)++;
    return TTA_OK;
}

/* A ReduceMean over the last axis only, keeping it (axes [-1] as an attribute or constant input). */
static bool mean_last_axis(const tta_graph *g, const tta_node *n) {
    if (!is_op(n, "ReduceMean") || n->n_outputs != 1 || tta_attr_int(n, "keepdims", 1) != 1) return false;
    const int64_t *axes;
    int na = tta_attr_ints(n, "axes", &axes);
    if (na == 1) return axes[0] == -1 && n->n_inputs == 1;
    const tta_tensor *a = constant_of(g, n, 1);
    return na == 0 && a && tta_tensor_numel(a) == 1 && tta_dtype_is_int(a->dtype) && tta_get_i64(a, 0) == -1;
}

/* A float scalar constant input k of n (any shape with one element), or NAN. */
static double scalar_of(const tta_graph *g, const tta_node *n, int k) {
    const tta_tensor *t = constant_of(g, n, k);
    return t && tta_tensor_numel(t) == 1 && tta_dtype_is_float(t->dtype) ? tta_get_f64(t, 0) : NAN;
}

/* The first live node other than `self` that reads value v, as its input k (for two-reader
 * values: asked only when uses[v] is 2, so the list has two live entries at most). */
static tta_node *reader(tta_graph *g, rw_index *ix, int v, const tta_node *self, int *k) {
    rw_reader rd[4];
    int nr = ix_readers(ix, g, v, rd, 4);
    for (int i = 0; i < nr && i < 4; i++) {
        tta_node *n = &g->nodes[rd[i].node];
        if (n == self || !n->op_type[0]) continue;
        *k = rd[i].slot;
        return n;
    }
    return NULL;
}

/* ---- layernorm: the decomposition PyTorch exports before opset 17,
 *   m = ReduceMean(x, [-1]); d = x - m; v = ReduceMean(d ^ 2, [-1]);
 *   y = d / Sqrt(v + eps) * gamma + beta
 * becomes one LayerNormalization(x, gamma, beta, axis -1, epsilon eps) (constant gamma, beta). */
static tta_status rule_layernorm(tta_graph *g, rw_index *ix, tta_node *mean, int *fired) {
    if (!mean_last_axis(g, mean) || mean->inputs[0] < 0) return TTA_OK;
    int x = mean->inputs[0], m = mean->outputs[0];
    tta_node *sub = sole_consumer(g, ix, m);
    if (!sub || !is_op(sub, "Sub") || sub->n_inputs != 2 || sub->inputs[0] != x || sub->inputs[1] != m) return TTA_OK;
    int d = sub->outputs[0];
    if (d < 0 || ix->uses[d] != 2) return TTA_OK;
    int k1, k2;
    tta_node *pw = reader(g, ix, d, NULL, &k1), *dv = pw ? reader(g, ix, d, pw, &k2) : NULL;
    if (pw && is_op(pw, "Div")) { /* either order */
        tta_node *t = pw;
        pw = dv;
        dv = t;
        int tk = k1;
        k1 = k2;
        k2 = tk;
    }
    if (!pw || !dv || !is_op(pw, "Pow") || k1 != 0 || scalar_of(g, pw, 1) != 2.0 || !is_op(dv, "Div") || k2 != 0)
        return TTA_OK;
    tta_node *var = sole_consumer(g, ix, pw->outputs[0]);
    if (!var || !mean_last_axis(g, var) || var->inputs[0] != pw->outputs[0]) return TTA_OK;
    tta_node *add = sole_consumer(g, ix, var->outputs[0]);
    if (!add || !is_op(add, "Add") || add->n_inputs != 2 || add->inputs[0] != var->outputs[0]) return TTA_OK;
    double eps = scalar_of(g, add, 1);
    tta_node *sq = sole_consumer(g, ix, add->outputs[0]);
    if (!(eps >= 0) || !sq || !is_op(sq, "Sqrt") || sole_consumer(g, ix, sq->outputs[0]) != dv ||
        dv->inputs[1] != sq->outputs[0])
        return TTA_OK;
    tta_node *mul = sole_consumer(g, ix, dv->outputs[0]);
    if (!mul || !is_op(mul, "Mul") || mul->n_inputs != 2 || mul->inputs[0] != dv->outputs[0]) return TTA_OK;
    const tta_tensor *gamma = constant_of(g, mul, 1);
    tta_node *badd = sole_consumer(g, ix, mul->outputs[0]);
    if (!gamma || gamma->ndim != 1 || !badd || !is_op(badd, "Add") || badd->n_inputs != 2 ||
        badd->inputs[0] != mul->outputs[0])
        return TTA_OK;
    const tta_tensor *beta = constant_of(g, badd, 1);
    if (!beta || beta->ndim != 1 || beta->dims[0] != gamma->dims[0] || beta->dtype != gamma->dtype) return TTA_OK;
    /* the ReduceMean node becomes LayerNormalization(x, gamma, beta) writing badd's output */
    int *in = tta_malloc(3 * sizeof(int));
    char *op = tta_strdup("LayerNormalization");
    tta_attr ax = {0}, ep = {0};
    ax.name = tta_strdup("axis");
    ax.type = TTA_ATTR_INT;
    ax.i = -1;
    ep.name = tta_strdup("epsilon");
    ep.type = TTA_ATTR_FLOAT;
    ep.f = (float)eps;
    if (!in || !op || !ax.name || !ep.name) {
        tta_free(in);
        tta_free(op);
        tta_free(ax.name);
        tta_free(ep.name);
        return tta_errorf(TTA_ERR_NOMEM, "out of memory");
    }
    TTA_TRY(add_attr(mean, &ax)); /* ReduceMean's own attributes stay; LayerNormalization ignores them */
    TTA_TRY(add_attr(mean, &ep));
    for (int k = 0; k < mean->n_inputs; k++) /* the old slots stop reading (their list entries go stale) */
        if (mean->inputs[k] >= 0) ix->uses[mean->inputs[k]]--;
    int ins[3] = {x, mul->inputs[1], badd->inputs[1]};
    for (int k = 0; k < 3; k++) in[k] = -1;
    tta_free(mean->inputs);
    mean->inputs = in;
    mean->n_inputs = 3;
    for (int k = 0; k < 3; k++) TTA_TRY(ix_set_input(ix, g, mean, k, ins[k]));
    tta_free(mean->op_type);
    mean->op_type = op;
    ix_set_output0(ix, g, mean, badd->outputs[0]);
    tta_node *dead[] = {sub, pw, var, add, sq, dv, mul, badd};
    for (size_t i = 0; i < sizeof dead / sizeof dead[0]; i++) mark_dead(dead[i]);
    (*fired)++;
    return TTA_OK;
}

/* The live node writing value v as its first output, or NULL. */
static tta_node *producer(tta_graph *g, rw_index *ix, int v) {
    if (v < 0 || ix->prod[v] < 0) return NULL;
    tta_node *n = &g->nodes[ix->prod[v]];
    return n->op_type[0] && n->n_outputs > 0 && n->outputs[0] == v ? n : NULL;
}

/* For a binary node n with input `v` on one side and a constant scalar on the other: the scalar
 * (NAN when it is not so). */
static double other_scalar(const tta_graph *g, const tta_node *n, int v) {
    if (n->n_inputs != 2) return NAN;
    if (n->inputs[0] == v) return scalar_of(g, n, 1);
    if (n->inputs[1] == v) return scalar_of(g, n, 0);
    return NAN;
}

/* ---- gelu: GELU as PyTorch exports it before opset 20, Mul(Mul(x, Add(Erf(Div(x, sqrt 2)), 1)),
 * 0.5) (either operand order of the Adds and Muls), becomes one Gelu node: one pass over the
 * tensor instead of five (ConvNeXt, vision transformers). */
static tta_status rule_gelu(tta_graph *g, rw_index *ix, tta_node *erf, int *fired) {
    if (!is_op(erf, "Erf") || erf->n_inputs != 1 || erf->n_outputs != 1 || erf->outputs[0] < 0) return TTA_OK;
    tta_node *div = producer(g, ix, erf->inputs[0]);
    if (!div || !is_op(div, "Div") || div->n_inputs != 2 || sole_consumer(g, ix, div->outputs[0]) != erf ||
        !(fabs(scalar_of(g, div, 1) - 1.4142135623730951) < 1e-6))
        return TTA_OK;
    int x = div->inputs[0];
    tta_node *add = sole_consumer(g, ix, erf->outputs[0]);
    if (!add || !is_op(add, "Add") || other_scalar(g, add, erf->outputs[0]) != 1.0) return TTA_OK;
    tta_node *mul = sole_consumer(g, ix, add->outputs[0]);
    if (!mul || !is_op(mul, "Mul") || mul->n_inputs != 2 ||
        !((mul->inputs[0] == x && mul->inputs[1] == add->outputs[0]) ||
          (mul->inputs[1] == x && mul->inputs[0] == add->outputs[0])))
        return TTA_OK;
    tta_node *half = sole_consumer(g, ix, mul->outputs[0]);
    if (!half || !is_op(half, "Mul") || other_scalar(g, half, mul->outputs[0]) != 0.5) return TTA_OK;
    char *op = tta_strdup("Gelu");
    if (!op) return tta_errorf(TTA_ERR_NOMEM, "out of memory");
    tta_free(erf->op_type);
    erf->op_type = op;
    TTA_TRY(ix_set_input(ix, g, erf, 0, x));
    ix_set_output0(ix, g, erf, half->outputs[0]);
    mark_dead(div);
    mark_dead(add);
    mark_dead(mul);
    mark_dead(half);
    (*fired)++;
    return TTA_OK;
}

static tta_status make_fused(tta_graph *g, rw_index *ix, tta_node *conv, const char *name, const float *params,
                             int np, int out, bool *done) {
    const tta_kernel *probe;
    tta_attr a = {0};
    a.name = tta_strdup("activation");
    a.type = TTA_ATTR_STRING;
    a.s = tta_strdup(name);
    if (!a.name || !a.s) {
        tta_free(a.name);
        tta_free(a.s);
        return tta_errorf(TTA_ERR_NOMEM, "out of memory");
    }
    TTA_TRY(add_attr(conv, &a));
    if (np) {
        tta_attr p = {0};
        p.name = tta_strdup("activation_params");
        p.type = TTA_ATTR_FLOATS;
        p.n = np;
        p.floats = tta_malloc(sizeof(float) * (size_t)np);
        if (!p.name || !p.floats) {
            tta_free(p.name);
            tta_free(p.floats);
            return tta_errorf(TTA_ERR_NOMEM, "out of memory");
        }
        memcpy(p.floats, params, sizeof(float) * (size_t)np);
        TTA_TRY(add_attr(conv, &p));
    }
    char *op = tta_strdup("FusedConv"), *dom = tta_strdup("com.microsoft");
    if (!op || !dom) {
        tta_free(op);
        tta_free(dom);
        return tta_errorf(TTA_ERR_NOMEM, "out of memory");
    }
    char *old_op = conv->op_type, *old_dom = conv->domain;
    int old_opset = conv->opset;
    conv->op_type = op;
    conv->domain = dom;
    conv->opset = 1;
    probe = tta_kernel_find(conv);
    if (!probe) { /* no FusedConv kernel for this node: undo (the new attributes are harmless) */
        conv->op_type = old_op;
        conv->domain = old_dom;
        conv->opset = old_opset;
        tta_free(op);
        tta_free(dom);
        return TTA_OK;
    }
    tta_free(old_op);
    tta_free(old_dom);
    ix_set_output0(ix, g, conv, out);
    *done = true;
    return TTA_OK;
}

typedef tta_status (*rule_fn)(tta_graph *g, rw_index *ix, tta_node *n, int *fired);

static void compact(tta_graph *g) {
    int k = 0;
    for (int i = 0; i < g->n_nodes; i++) {
        if (g->nodes[i].op_type[0]) {
            g->nodes[k++] = g->nodes[i];
            continue;
        }
        tta_node_destroy(&g->nodes[i]);
    }
    g->n_nodes = k;
}

tta_status tta_graph_rewrite(tta_graph *g, tta_rewrite_stats *stats) {
    static const rule_fn rules[] = {rule_constant, rule_identity, rule_bn_fold, rule_silu_fuse, rule_act_fuse,
                                    rule_bn_relu, rule_layernorm, rule_gelu};
    int *fired[8];
    tta_rewrite_stats local = {0};
    if (!stats) stats = &local;
    memset(stats, 0, sizeof *stats);
    fired[0] = &stats->constants_inlined;
    fired[1] = &stats->identity_removed;
    fired[2] = &stats->bn_folded;
    fired[3] = &stats->activations_fused;
    fired[4] = &stats->activations_fused;
    fired[5] = &stats->activations_fused;
    fired[6] = &stats->activations_fused;
    fired[7] = &stats->activations_fused;
    rw_index ix = {0};
    for (size_t r = 0; r < sizeof rules / sizeof rules[0]; r++) {
        tta_status st = ix_build(&ix, g); /* node indices change when the pass ends (compact) */
        for (int i = 0; i < g->n_nodes && !st; i++) {
            if (!g->nodes[i].op_type[0]) continue;
            st = rules[r](g, &ix, &g->nodes[i], fired[r]);
        }
        compact(g);
        if (st) {
            ix_free(&ix);
            return st;
        }
    }
    ix_free(&ix);
    return TTA_OK;
}
