/* layout.c - which tensors of a plan travel in oneDNN's blocked layout, and where the plan
 * converts them back to plain (see TTA_LAYOUT_* in op.h).
 *
 * Convolutions run fastest on channel-blocked data (nChw8c on AVX2, nChw16c on AVX-512), and so
 * do pooling and everything element-wise. Reordering to plain NCHW and back around every node
 * costs as much as the pooling itself, so the plan keeps a tensor blocked from the kernel that
 * writes it through every consumer that can take it so, and converts it to plain once, in an
 * inserted Reorder step (domain "tta"), before the first consumer that cannot.
 *
 * One forward pass over the steps decides the layout of each step's output 0:
 *   - kernels with a `layouts` callback say which inputs they read blocked and whether output 0
 *     may be blocked always (OUT_ANY: convolutions; blocked then if some reader could take it
 *     so) or when input 0 is (OUT_FOLLOW: pooling);
 *   - element-wise ops (unary, and binary ones whose inputs all have the output's shape or are
 *     scalars) are blocked when every full-size input is: they work on flat arrays; so are
 *     per-channel scales and shifts X op S[N, C, 1, 1] of a blocked X (squeeze-and-excitation);
 *   - Concat along the channels is blocked when every input is: per image, a blocked tensor is
 *     one contiguous run of C*H*W floats, as a plain one is; so is Split along the channels of a
 *     blocked input into whole blocks (YOLOv8's C2f blocks), every output then blocked.
 * A value can be blocked only if it is a float32 [N,C,H,W] with H*W above 1 (with H*W == 1 both
 * layouts are the same bytes), C above half the block, and not a graph output. When C is not a
 * multiple of the block the tensor is padded (larger): element-wise ops and Concat, which work
 * on flat arrays, then want it plain, as do kernels without TTA_LAYOUT_PADDED.
 * The plan option no_blocked keeps every tensor plain (for comparisons).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "runtime/plan.h"

static bool is_pointwise(const tta_node *n) {
    static const char *const ops[] = {
        "Relu", "LeakyRelu", "Sigmoid", "Tanh", "Clip", "HardSigmoid", "HardSwish", "Elu", "Selu", "Celu",
        "Softplus", "Softsign", "Exp", "Log", "Neg", "Abs", "Sqrt", "Reciprocal", "Floor", "Ceil", "Round",
        "Erf", "Mish", "Gelu", "ThresholdedRelu", "Sign", "Identity", "Add", "Sub", "Mul", "Div", "Max", "Min",
        "Sum", "Mean", "Pow", "PRelu",
    };
    if (n->domain[0] || n->n_outputs != 1) return false;
    for (size_t i = 0; i < sizeof ops / sizeof ops[0]; i++)
        if (!strcmp(n->op_type, ops[i])) return true;
    return false;
}

static int value_of(const tta_plan *p, const tta_tensor *t) { return (int)(t - p->values); }

/* Whether value v could be stored blocked. */
static bool blockable(const tta_plan *p, int v) {
    const tta_graph *g = &p->model->graph;
    const tta_tensor *t = &p->values[v];
    if (!p->shaped[v] || p->known[v] || (v < g->n_values && g->values[v].is_output)) return false;
    return t->dtype == TTA_DTYPE_FLOAT32 && t->ndim == 4 && t->dims[0] > 0 && t->dims[1] > tta_layout_block() / 2 &&
           t->dims[2] > 0 && t->dims[3] > 0 && (t->dims[2] > 1 || t->dims[3] > 1); /* no products: dims may be huge */
}

static bool padded(const tta_tensor *t) { return t->ndim == 4 && t->dims[1] % tta_layout_block() != 0; }

size_t tta_layout_nbytes(const tta_tensor *t, int layout) {
    size_t n = tta_tensor_nbytes(t);
    if (layout != TTA_LAYOUT_BLOCKED || !padded(t) || t->dims[1] <= 0) return n;
    int64_t b = tta_layout_block(), cp = (t->dims[1] + b - 1) / b * b;
    return n / (size_t)t->dims[1] * (size_t)cp;
}

static bool same_dims(const tta_tensor *a, const tta_tensor *b) {
    if (a->ndim != b->ndim) return false;
    for (int d = 0; d < a->ndim; d++)
        if (a->dims[d] != b->dims[d]) return false;
    return true;
}

/* Element-wise step: blocked when every full-size input is blocked (scalars are fine too). */
static bool pointwise_blocked(const tta_plan *p, const tta_op_ctx *c) {
    bool any = false;
    for (int i = 0; i < c->n_in; i++) {
        const tta_tensor *t = c->in[i];
        if (!t || (p->shaped[value_of(p, t)] && tta_tensor_numel(t) == 1)) continue;
        if (!same_dims(t, c->out[0]) || p->layout[value_of(p, t)] != TTA_LAYOUT_BLOCKED || padded(t)) return false;
        any = true;
    }
    return any;
}

/* A per-channel scale or shift of a blocked tensor, X op S with S of shape [N or 1, C, 1, 1] (or
 * [C, 1, 1]; as squeeze-and-excitation blocks write it): blocked like X when the oneDNN binary
 * kernel runs it (it has the loop for it, see dnnl_binary.c); S stays plain. */
static bool channel_bcast_blocked(const tta_plan *p, const plan_step *s) {
    const tta_op_ctx *c = &s->ctx;
    const tta_node *n = c->node;
    if (n->domain[0] || n->opset < 7 || c->n_in != 2 || strcmp(s->kernel->backend, "dnnl") ||
        (strcmp(n->op_type, "Add") && strcmp(n->op_type, "Sub") && strcmp(n->op_type, "Mul") &&
         strcmp(n->op_type, "Div")))
        return false;
    const tta_tensor *y = c->out[0];
    for (int k = 0; k < 2; k++) {
        const tta_tensor *x = c->in[k], *v = c->in[1 - k];
        if (!x || !v || !same_dims(x, y) || p->layout[value_of(p, x)] != TTA_LAYOUT_BLOCKED || padded(x)) continue;
        if (!p->shaped[value_of(p, v)] || v->ndim < 3 || v->ndim > 4 || y->ndim != 4) continue;
        const int64_t *d = v->dims + v->ndim - 3;
        bool lead_ok = v->ndim == 3 || v->dims[0] == 1 || v->dims[0] == y->dims[0];
        if (lead_ok && d[0] == y->dims[1] && d[1] == 1 && d[2] == 1) return true;
    }
    return false;
}

static bool concat_blocked(const tta_plan *p, const tta_op_ctx *c) {
    if (strcmp(c->node->op_type, "Concat") || c->node->domain[0]) return false;
    int64_t axis = tta_attr_int(c->node, "axis", 1);
    if (axis != 1 && axis != -3) return false;
    for (int i = 0; i < c->n_in; i++)
        if (!c->in[i] || p->layout[value_of(p, c->in[i])] != TTA_LAYOUT_BLOCKED || padded(c->in[i])) return false;
    return c->n_in > 0;
}

/* Split along the channels of a blocked, unpadded X into parts of whole blocks, each part
 * blockable: the same bytes move as in NCHW (per image, a contiguous run per part). */
static bool split_blocked(const tta_plan *p, const tta_op_ctx *c) {
    if (strcmp(c->node->op_type, "Split") || c->node->domain[0] || c->n_in < 1 || !c->in[0]) return false;
    int64_t axis = tta_attr_int(c->node, "axis", 0);
    if ((axis != 1 && axis != -3) || c->in[0]->ndim != 4 || p->layout[value_of(p, c->in[0])] != TTA_LAYOUT_BLOCKED ||
        padded(c->in[0]))
        return false;
    for (int o = 0; o < c->n_out; o++)
        if (!c->out[o] || !blockable(p, value_of(p, c->out[o])) || padded(c->out[o])) return false;
    return c->n_out > 0;
}

/* Whether a step after `from` that reads value v could read it blocked (else a kernel that may
 * write either layout writes it plain: one conversion fewer). */
static bool some_reader_takes_blocked(const tta_plan *p, const unsigned *caps, int from, int v) {
    bool pad = padded(&p->values[v]);
    for (int j = from + 1; j < p->n_steps; j++) {
        const tta_op_ctx *c = &p->steps[j]->ctx;
        for (int k = 0; k < c->n_in; k++) {
            if (!c->in[k] || value_of(p, c->in[k]) != v) continue;
            if ((caps[j] & TTA_LAYOUT_IN(k)) && (!pad || (caps[j] & TTA_LAYOUT_PADDED))) return true;
            if (!caps[j] && !pad &&
                (is_pointwise(c->node) || !strcmp(c->node->op_type, "Concat") || !strcmp(c->node->op_type, "Split")))
                return true;
        }
    }
    return false;
}

/* The plain copy of blocked value v, made by a new Reorder step appended to out_steps. */
static tta_status plain_copy(tta_plan *p, int v, int *copy_of, plan_step **out_steps, int *n_out) {
    if (copy_of[v] >= 0) return TTA_OK;
    if (p->n_values >= p->cap_values || p->n_all >= p->cap_all || p->n_extra >= p->model->graph.n_values)
        return tta_errorf(TTA_ERR_INTERNAL, "%s: too many layout conversions", p->model->name);
    int c = p->n_values++;
    tta_tensor *src = &p->values[v];
    TTA_TRY(tta_set_shape(&p->values[c], src->dtype, src->ndim, src->dims));
    p->shaped[c] = true;
    p->layout[c] = TTA_LAYOUT_PLAIN;

    tta_node *n = &p->extra_nodes[p->n_extra++];
    const char *vname = v < p->model->graph.n_values ? p->model->graph.values[v].name : "?";
    size_t len = strlen(vname) + 16;
    n->name = tta_malloc(len);
    n->inputs = tta_malloc(2 * sizeof(int));
    if (!n->name || !n->inputs) return tta_errorf(TTA_ERR_NOMEM, "out of memory");
    snprintf(n->name, len, "to_plain:%s", vname);
    n->op_type = "Reorder";
    n->domain = "tta";
    n->opset = 1;
    n->n_inputs = n->n_outputs = 1;
    n->inputs[0] = v;
    n->outputs = n->inputs + 1;
    n->outputs[0] = c;

    plan_step *s = &p->all[p->n_all++];
    memset(s, 0, sizeof *s);
    s->node = n;
    s->kernel = &tta_layout_reorder_kernel;
    s->ctx.node = n;
    s->ctx.n_in = s->ctx.n_out = 1;
    s->ctx.n_threads = p->n_threads;
    s->ctx.budget = &p->mem;
    s->ctx.flags = p->op_flags;
    s->ctx.in = tta_calloc(2, sizeof(tta_tensor *));
    s->ctx.out = tta_calloc(2, sizeof(tta_tensor *));
    s->in_layout = tta_calloc(2, 1);
    s->out_layout = tta_calloc(2, 1);
    if (!s->ctx.in || !s->ctx.out || !s->in_layout || !s->out_layout) return tta_errorf(TTA_ERR_NOMEM, "out of memory");
    s->ctx.in[0] = src;
    s->ctx.out[0] = &p->values[c];
    s->in_layout[0] = TTA_LAYOUT_BLOCKED;
    s->ctx.in_layout = s->in_layout;
    s->ctx.out_layout = s->out_layout;
    if (s->kernel->prepare) TTA_TRY(s->kernel->prepare(&s->ctx));
    s->prepared = true;
    copy_of[v] = c;
    out_steps[(*n_out)++] = s;
    return TTA_OK;
}

tta_status tta_plan_layouts(tta_plan *p) {
    if (p->no_blocked) return TTA_OK;
    int nv = p->model->graph.n_values;
    p->extra_nodes = tta_calloc((size_t)nv + 1, sizeof *p->extra_nodes);
    int *copy_of = tta_malloc(sizeof(int) * ((size_t)p->cap_values));
    plan_step **steps = tta_malloc(sizeof(plan_step *) * ((size_t)p->cap_all));
    tta_status st = TTA_OK;
    if (!p->extra_nodes || !copy_of || !steps) st = tta_errorf(TTA_ERR_NOMEM, "out of memory");
    for (int v = 0; !st && v < p->cap_values; v++) copy_of[v] = -1;
    unsigned *all_caps = tta_calloc((size_t)p->n_steps + 1, sizeof(unsigned));
    if (!all_caps) st = tta_errorf(TTA_ERR_NOMEM, "out of memory");
    for (int i = 0; !st && i < p->n_steps; i++) { /* what each step could take blocked */
        tta_op_ctx *c = &p->steps[i]->ctx;
        bool all_shaped = true;
        for (int k = 0; k < c->n_in; k++)
            if (c->in[k] && !p->shaped[value_of(p, c->in[k])]) all_shaped = false;
        if (p->steps[i]->kernel->layouts && all_shaped) all_caps[i] = p->steps[i]->kernel->layouts(c);
        p->steps[i]->caps = all_caps[i];
    }
    int n = 0;
    for (int i = 0; !st && i < p->n_steps; i++) {
        plan_step *s = p->steps[i];
        tta_op_ctx *c = &s->ctx;
        s->in_layout = tta_calloc((size_t)c->n_in + 1, 1);
        s->out_layout = tta_calloc((size_t)c->n_out + 1, 1);
        if (!s->in_layout || !s->out_layout) {
            st = tta_errorf(TTA_ERR_NOMEM, "out of memory");
            break;
        }
        unsigned caps = all_caps[i];
        int out = c->n_out > 0 && c->out[0] ? value_of(p, c->out[0]) : -1;
        bool blocked = false, elementwise = false, split = !caps && split_blocked(p, c);
        if (split) {
            blocked = elementwise = true; /* every output, see below */
        } else if (out >= 0 && blockable(p, out) && (!padded(&p->values[out]) || (caps & TTA_LAYOUT_PADDED))) {
            if (caps & TTA_LAYOUT_OUT_ANY) blocked = some_reader_takes_blocked(p, all_caps, i, out);
            else if (caps & TTA_LAYOUT_OUT_FOLLOW)
                blocked = c->in[0] && p->layout[value_of(p, c->in[0])] == TTA_LAYOUT_BLOCKED;
            else if (!caps && (is_pointwise(c->node) || concat_blocked(p, c)))
                blocked = elementwise =
                    is_pointwise(c->node) ? pointwise_blocked(p, c) || channel_bcast_blocked(p, s) : true;
        }
        for (int k = 0; k < c->n_in; k++) {
            if (!c->in[k]) continue;
            int v = value_of(p, c->in[k]);
            if (p->layout[v] != TTA_LAYOUT_BLOCKED) continue;
            bool pad_ok = !padded(c->in[k]) || (caps & TTA_LAYOUT_PADDED);
            bool ok = (elementwise && !padded(c->in[k])) ||
                      (pad_ok && (caps & TTA_LAYOUT_IN(k)) &&
                       !(k == 0 && (caps & TTA_LAYOUT_OUT_FOLLOW) && !blocked));
            if (ok) {
                s->in_layout[k] = TTA_LAYOUT_BLOCKED;
                continue;
            }
            st = plain_copy(p, v, copy_of, steps, &n);
            if (st) break;
            c->in[k] = &p->values[copy_of[v]];
        }
        if (st) break;
        for (int o = 0; blocked && o < (split ? c->n_out : 1); o++) {
            p->layout[value_of(p, c->out[o])] = TTA_LAYOUT_BLOCKED;
            s->out_layout[o] = TTA_LAYOUT_BLOCKED;
        }
        c->in_layout = s->in_layout;
        c->out_layout = s->out_layout;
        steps[n++] = s;
    }
    if (!st) {
        memcpy(p->steps, steps, sizeof(plan_step *) * (size_t)n);
        p->n_steps = n;
    }
    tta_free(copy_of);
    tta_free(steps);
    tta_free(all_caps);
    return st;
}

void tta_plan_layouts_free(tta_plan *p) {
    for (int i = 0; p->extra_nodes && i < p->n_extra; i++) {
        tta_free(p->extra_nodes[i].name);
        tta_free(p->extra_nodes[i].inputs);
    }
    tta_free(p->extra_nodes);
    p->extra_nodes = NULL;
}
