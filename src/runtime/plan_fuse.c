/* plan_fuse.c - fusions that need the shapes a plan knows: a residual connection
 *
 *     Y = Relu(Conv(X, W, B) + R)      (the Relu optional)
 *
 * becomes one com.microsoft FusedConv step with R as its Z input, which oneDNN runs as a
 * convolution with a sum post-op (and a Relu one): the Add and the Relu no longer read and write
 * the whole tensor again. The graph rewrites (rewrite.c) cannot do this: whether R has the
 * convolution's shape (rather than broadcasting, or widening the result) is only known here.
 *
 * Conditions: the Conv's output feeds only the Add and is not a graph output; R has exactly the
 * output's dtype and dims and is computed before the Conv runs (a constant, a graph input or the
 * output of an earlier step); the same for the Relu and the Add's output. Off when the model was
 * loaded without rewrites.
 */
#include <string.h>

#include "core/alloc.h"
#include "runtime/plan.h"

static bool is_op(const tta_node *n, const char *op) { return !n->domain[0] && !strcmp(n->op_type, op); }

static int value_of(const tta_plan *p, const tta_tensor *t) { return (int)(t - p->values); }

static bool same_tensor_shape(const tta_tensor *a, const tta_tensor *b) {
    if (a->dtype != b->dtype || a->ndim != b->ndim) return false;
    for (int d = 0; d < a->ndim; d++)
        if (a->dims[d] != b->dims[d]) return false;
    return true;
}

/* The index of the only run step reading value v, or -1 (several readers, or a graph output). */
static int sole_reader(const tta_plan *p, int v) {
    const tta_graph *g = &p->model->graph;
    if (v < g->n_values && g->values[v].is_output) return -1;
    int found = -1;
    for (int i = 0; i < p->n_steps; i++) {
        const tta_op_ctx *c = &p->steps[i]->ctx;
        for (int k = 0; k < c->n_in; k++)
            if (c->in[k] && value_of(p, c->in[k]) == v) {
                if (found >= 0) return -1; /* a second reader, or read twice by one step */
                found = i;
            }
    }
    return found;
}

/* Step index that writes value v (-1: a constant, a graph input, or nobody). */
static int writer(const tta_plan *p, int v) {
    for (int i = 0; i < p->n_steps; i++) {
        const tta_op_ctx *c = &p->steps[i]->ctx;
        for (int k = 0; k < c->n_out; k++)
            if (c->out[k] && value_of(p, c->out[k]) == v) return i;
    }
    return -1;
}

static tta_status fuse_one(tta_plan *p, int ci, bool *fused) {
    *fused = false;
    plan_step *conv = p->steps[ci];
    const tta_node *cn = conv->node;
    if (!is_op(cn, "Conv") || strcmp(conv->kernel->backend, "dnnl") || cn->n_outputs != 1 || !conv->ctx.out[0])
        return TTA_OK;
    int x = value_of(p, conv->ctx.out[0]);
    if (!p->shaped[x]) return TTA_OK;
    int ai = sole_reader(p, x);
    if (ai < 0) return TTA_OK;
    plan_step *add = p->steps[ai];
    if (!is_op(add->node, "Add") || add->ctx.n_in != 2 || add->ctx.n_out != 1 || !add->ctx.out[0]) return TTA_OK;
    tta_tensor *r = add->ctx.in[0] == conv->ctx.out[0] ? add->ctx.in[1] : add->ctx.in[0];
    if (!r || r == conv->ctx.out[0] || !p->shaped[value_of(p, r)] || !same_tensor_shape(r, conv->ctx.out[0]) ||
        !same_tensor_shape(add->ctx.out[0], conv->ctx.out[0]))
        return TTA_OK;
    int rw = writer(p, value_of(p, r));
    if (rw >= ci) return TTA_OK; /* R is computed after the Conv */
    int y = value_of(p, add->ctx.out[0]), ri = sole_reader(p, y);
    plan_step *relu = ri >= 0 && is_op(p->steps[ri]->node, "Relu") && p->steps[ri]->ctx.out[0] ? p->steps[ri] : NULL;
    if (relu && !same_tensor_shape(relu->ctx.out[0], add->ctx.out[0])) relu = NULL;
    if (p->n_all >= p->cap_all || p->n_fused >= p->model->graph.n_nodes) return TTA_OK;

    /* the new node: the Conv's attributes and inputs, Z = R, and the activation */
    tta_node *n = &p->fused_nodes[p->n_fused];
    memset(n, 0, sizeof *n);
    n->name = cn->name;
    n->op_type = "FusedConv";
    n->domain = "com.microsoft";
    n->opset = 1;
    n->n_inputs = 4;
    n->n_outputs = 1;
    n->inputs = tta_malloc(5 * sizeof(int));
    n->attrs = tta_malloc(((size_t)cn->n_attrs + 1) * sizeof(tta_attr));
    if (!n->inputs || !n->attrs) {
        tta_free(n->inputs);
        tta_free(n->attrs);
        return tta_errorf(TTA_ERR_NOMEM, "out of memory");
    }
    p->n_fused++;
    for (int k = 0; k < 3; k++) n->inputs[k] = k < cn->n_inputs ? cn->inputs[k] : -1;
    n->inputs[3] = value_of(p, r);
    n->outputs = n->inputs + 4;
    n->outputs[0] = value_of(p, (relu ? relu : add)->ctx.out[0]);
    memcpy(n->attrs, cn->attrs, (size_t)cn->n_attrs * sizeof(tta_attr));
    n->n_attrs = cn->n_attrs;
    tta_attr *act = &n->attrs[n->n_attrs++];
    memset(act, 0, sizeof *act);
    act->name = "activation";
    act->type = TTA_ATTR_STRING;
    act->s = relu ? "Relu" : "";

    plan_step *s = &p->all[p->n_all++];
    memset(s, 0, sizeof *s);
    tta_status st = tta_plan_step_init(p, s, n);
    if (st) return st;
    /* the Conv's inputs may have been redirected already; keep them */
    for (int k = 0; k < 3 && k < conv->ctx.n_in; k++) s->ctx.in[k] = conv->ctx.in[k];
    st = s->kernel->infer(&s->ctx);
    if (st) return st;
    p->steps[ci] = s;
    int drop[2] = {ai, relu ? ri : -1}, k = 0;
    for (int i = 0; i < p->n_steps; i++)
        if (i != drop[0] && i != drop[1]) p->steps[k++] = p->steps[i];
    p->n_steps = k;
    *fused = true;
    return TTA_OK;
}

tta_status tta_plan_fuse(tta_plan *p) {
    if (!p->model->rewrites) return TTA_OK;
    p->fused_nodes = tta_calloc((size_t)p->model->graph.n_nodes + 1, sizeof *p->fused_nodes);
    if (!p->fused_nodes) return tta_errorf(TTA_ERR_NOMEM, "out of memory");
    for (int i = 0; i < p->n_steps; i++) {
        bool fused;
        TTA_TRY(fuse_one(p, i, &fused));
    }
    return TTA_OK;
}

void tta_plan_fuse_free(tta_plan *p) {
    for (int i = 0; p->fused_nodes && i < p->n_fused; i++) {
        tta_free(p->fused_nodes[i].inputs);
        tta_free(p->fused_nodes[i].attrs); /* the attributes' contents belong to the Conv node */
    }
    tta_free(p->fused_nodes);
    p->fused_nodes = NULL;
}
