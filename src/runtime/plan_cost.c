/* plan_cost.c - the multiply-adds a plan runs (runtime.h, tta_plan_multiply_adds): the
 * convolutions and matrix products of its steps, from the plan-time shapes of their inputs,
 * weights and outputs. Element-wise work, pooling and data movement are not counted (they are
 * few operations per value), as model cards and benchmark tables count. */
#include <string.h>

#include "runtime/plan.h"

static const tta_tensor *value(const tta_plan *p, const tta_node *n, int in, int out) {
    int v = in >= 0 ? (in < n->n_inputs ? n->inputs[in] : -1) : (out < n->n_outputs ? n->outputs[out] : -1);
    return v >= 0 && v < p->n_values && p->shaped[v] ? &p->values[v] : NULL;
}

static double numel(const tta_tensor *t) {
    double m = 1;
    for (int d = 0; d < t->ndim; d++) m *= (double)t->dims[d];
    return m;
}

double tta_plan_multiply_adds(const tta_plan *plan) {
    if (!plan) return 0;
    double total = 0;
    for (int s = 0; s < plan->n_steps; s++) {
        const tta_node *n = plan->steps[s]->node;
        const char *op = n->op_type;
        const tta_tensor *x = value(plan, n, 0, 0), *w = value(plan, n, 1, 0), *y = value(plan, n, -1, 0);
        if (!x || !w || !y || w->ndim < 2 || x->ndim < 2) continue;
        if (!strcmp(op, "Conv") || !strcmp(op, "FusedConv")) {
            /* each output value: C/group x kernel products; W is [M, C/group, k...] */
            if (w->dims[0] > 0) total += numel(y) * (numel(w) / (double)w->dims[0]);
        } else if (!strcmp(op, "ConvTranspose")) {
            /* each input value feeds M/group x kernel outputs; W is [C, M/group, k...] */
            if (w->dims[0] > 0) total += numel(x) * (numel(w) / (double)w->dims[0]);
        } else if (!strcmp(op, "Gemm")) {
            int trans_a = 0;
            for (int a = 0; a < n->n_attrs; a++)
                if (!strcmp(n->attrs[a].name, "transA")) trans_a = (int)n->attrs[a].i;
            total += numel(y) * (double)(trans_a ? x->dims[0] : x->dims[1]);
        } else if (!strcmp(op, "MatMul")) {
            total += numel(y) * (double)x->dims[x->ndim - 1];
        }
    }
    return total;
}
