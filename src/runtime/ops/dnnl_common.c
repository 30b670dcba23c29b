/* dnnl_common.c - oneDNN plumbing shared by the dnnl_*.c kernels: the engine (one per process,
 * created under pthread_once), streams, status translation, plain memory descriptors, reorders,
 * primitive creation, and the fallback to the plain C kernel of the same op. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "core/cpu.h"
#include "runtime/ops/dnnl_common.h"

TTA_KERNEL_LIST(tta_kernels_nn)
TTA_KERNEL_LIST(tta_kernels_math)
TTA_KERNEL_LIST(tta_kernels_tensor)
TTA_KERNEL_LIST(tta_kernels_misc)

static pthread_once_t engine_once = PTHREAD_ONCE_INIT;
static dnnl_engine_t engine;
static dnnl_status_t engine_status = dnnl_runtime_error;

/* TTA_MAX_ISA caps oneDNN too (ONEDNN_MAX_CPU_ISA, when set, is oneDNN's own and wins). Must run
 * before oneDNN first dispatches, so every entry into oneDNN goes through here first. */
static pthread_once_t isa_once = PTHREAD_ONCE_INIT;
static void isa_init(void) {
    const char *own = getenv("ONEDNN_MAX_CPU_ISA"), *old = getenv("DNNL_MAX_CPU_ISA");
    if ((own && *own) || (old && *old)) return;
    tta_isa isa = tta_cpu_isa();
    if (isa == tta_cpu_isa_hardware()) return;
    dnnl_set_max_cpu_isa(isa == TTA_ISA_AVX2 ? dnnl_cpu_isa_avx2 : isa == TTA_ISA_GENERIC ? dnnl_cpu_isa_sse41 : dnnl_cpu_isa_all);
}
void tta_dnnl_isa_init(void) { pthread_once(&isa_once, isa_init); }

static void engine_init(void) {
    tta_dnnl_isa_init();
    engine_status = dnnl_engine_create(&engine, dnnl_cpu, 0);
}

static const char *status_text(dnnl_status_t s) {
    switch (s) {
    case dnnl_success: return "success";
    case dnnl_out_of_memory: return "out of memory";
    case dnnl_invalid_arguments: return "invalid arguments";
    case dnnl_unimplemented: return "no implementation for these parameters";
    case dnnl_iterator_ends: return "iterator ends";
    case dnnl_runtime_error: return "runtime error";
    case dnnl_not_required: return "not required";
    default: return "unknown error";
    }
}

tta_status tta_dnnl_error(const tta_op_ctx *ctx, dnnl_status_t s, const char *what) {
    if (s == dnnl_success) return TTA_OK;
    tta_status st = s == dnnl_out_of_memory ? TTA_ERR_NOMEM
                    : s == dnnl_unimplemented ? TTA_ERR_UNSUPPORTED
                                              : TTA_ERR_INTERNAL;
    if (s == dnnl_out_of_memory && ctx && ctx->budget)
        return tta_op_error(ctx, st, "oneDNN %s failed: out of memory or over the memory limit of %zu bytes "
                                     "(--max-memory, TTA_MAX_MEMORY)", what, ctx->budget->limit);
    return tta_op_error(ctx, st, "oneDNN %s failed: %s (status %d)", what, status_text(s), (int)s);
}

tta_status tta_dnnl_engine(const tta_op_ctx *ctx, dnnl_engine_t *out) {
    pthread_once(&engine_once, engine_init);
    *out = engine_status == dnnl_success ? engine : NULL;
    return tta_dnnl_error(ctx, engine_status, "CPU engine creation");
}

tta_status tta_dnnl_stream_new(const tta_op_ctx *ctx, dnnl_stream_t *out) {
    dnnl_engine_t eng;
    TTA_TRY(tta_dnnl_engine(ctx, &eng));
    TTA_DNNL_TRY(ctx, dnnl_stream_create(out, eng, dnnl_stream_in_order), "stream creation");
    return TTA_OK;
}

dnnl_status_t tta_dnnl_plain_md(dnnl_memory_desc_t *md, int ndim, const int64_t *dims) {
    dnnl_dims_t d, s;
    int64_t stride = 1;
    for (int i = ndim - 1; i >= 0; i--) {
        d[i] = dims[i];
        s[i] = stride;
        if (__builtin_mul_overflow(stride, dims[i] > 0 ? dims[i] : 1, &stride)) return dnnl_invalid_arguments;
    }
    return dnnl_memory_desc_init_by_strides(md, ndim, d, dnnl_f32, s);
}

dnnl_status_t tta_dnnl_layout_md(dnnl_memory_desc_t *md, int ndim, const int64_t *dims, int layout) {
    if (layout != TTA_LAYOUT_BLOCKED) return tta_dnnl_plain_md(md, ndim, dims);
    if (ndim != 4) return dnnl_invalid_arguments;
    dnnl_dims_t d = {dims[0], dims[1], dims[2], dims[3]};
    return dnnl_memory_desc_init_by_tag(md, 4, d, dnnl_f32, tta_layout_block() == 16 ? dnnl_nChw16c : dnnl_nChw8c);
}

tta_status tta_dnnl_memory(const tta_op_ctx *ctx, const dnnl_memory_desc_t *md, dnnl_memory_t *out) {
    dnnl_engine_t eng;
    TTA_TRY(tta_dnnl_engine(ctx, &eng));
    TTA_DNNL_TRY(ctx, dnnl_memory_create(out, md, eng, DNNL_MEMORY_NONE), "memory creation");
    return TTA_OK;
}

size_t tta_dnnl_scratchpad_bytes(const_dnnl_primitive_desc_t pd) {
    const dnnl_memory_desc_t *md = pd ? dnnl_primitive_desc_query_md(pd, dnnl_query_scratchpad_md, 0) : NULL;
    return md ? dnnl_memory_desc_get_size(md) : 0;
}

dnnl_status_t tta_dnnl_primitive(const tta_op_ctx *ctx, const void *op_desc, const_dnnl_primitive_attr_t attr,
                                 dnnl_primitive_desc_t *pd, dnnl_primitive_t *prim) {
    *pd = NULL;
    *prim = NULL;
    pthread_once(&engine_once, engine_init);
    if (engine_status != dnnl_success) return engine_status;
    dnnl_status_t s = dnnl_primitive_desc_create(pd, op_desc, attr, engine, NULL);
    /* the scratchpad is allocated with the primitive: checked against the budget before */
    const tta_mem_budget *b = ctx ? ctx->budget : NULL;
    if (s == dnnl_success && b && tta_dnnl_scratchpad_bytes(*pd) > b->limit - b->used) s = dnnl_out_of_memory;
    if (s == dnnl_success) s = dnnl_primitive_create(prim, *pd);
    if (s != dnnl_success) {
        if (*pd) dnnl_primitive_desc_destroy(*pd);
        *pd = NULL;
        *prim = NULL;
    }
    return s;
}

tta_status tta_dnnl_reorder(const tta_op_ctx *ctx, const dnnl_memory_desc_t *src_md, void *src,
                            const dnnl_memory_desc_t *dst_md, void *dst) {
    dnnl_engine_t eng;
    TTA_TRY(tta_dnnl_engine(ctx, &eng));
    dnnl_primitive_desc_t pd = NULL;
    dnnl_primitive_t prim = NULL;
    dnnl_memory_t ms = NULL, md = NULL;
    dnnl_stream_t stream = NULL;
    dnnl_status_t s = dnnl_reorder_primitive_desc_create(&pd, src_md, eng, dst_md, eng, NULL);
    if (s == dnnl_success) s = dnnl_primitive_create(&prim, pd);
    if (s == dnnl_success) s = dnnl_memory_create(&ms, src_md, eng, src);
    if (s == dnnl_success) s = dnnl_memory_create(&md, dst_md, eng, dst);
    if (s == dnnl_success) s = dnnl_stream_create(&stream, eng, dnnl_stream_in_order);
    if (s == dnnl_success) {
        dnnl_exec_arg_t args[2] = {{DNNL_ARG_FROM, ms}, {DNNL_ARG_TO, md}};
        s = dnnl_primitive_execute(prim, stream, 2, args);
    }
    if (s == dnnl_success) s = dnnl_stream_wait(stream);
    if (stream) dnnl_stream_destroy(stream);
    if (md) dnnl_memory_destroy(md);
    if (ms) dnnl_memory_destroy(ms);
    if (prim) dnnl_primitive_destroy(prim);
    if (pd) dnnl_primitive_desc_destroy(pd);
    return tta_dnnl_error(ctx, s, "reorder");
}

tta_status tta_dnnl_reo_init(const tta_op_ctx *ctx, tta_dnnl_reo *r, const dnnl_memory_desc_t *from,
                             const dnnl_memory_desc_t *to) {
    dnnl_engine_t eng;
    TTA_TRY(tta_dnnl_engine(ctx, &eng));
    dnnl_primitive_desc_t pd = NULL;
    dnnl_status_t s = dnnl_reorder_primitive_desc_create(&pd, from, eng, to, eng, NULL);
    if (s == dnnl_success) s = dnnl_primitive_create(&r->prim, pd);
    if (pd) dnnl_primitive_desc_destroy(pd);
    if (s == dnnl_success) s = dnnl_memory_create(&r->from, from, eng, DNNL_MEMORY_NONE);
    if (s == dnnl_success) s = dnnl_memory_create(&r->to, to, eng, DNNL_MEMORY_NONE);
    return tta_dnnl_error(ctx, s, "reorder creation");
}

tta_status tta_dnnl_reo_run(const tta_op_ctx *ctx, tta_dnnl_reo *r, dnnl_stream_t stream, void *from, void *to) {
    TTA_DNNL_TRY(ctx, dnnl_memory_set_data_handle(r->from, from), "set reorder source");
    TTA_DNNL_TRY(ctx, dnnl_memory_set_data_handle(r->to, to), "set reorder destination");
    dnnl_exec_arg_t args[2] = {{DNNL_ARG_FROM, r->from}, {DNNL_ARG_TO, r->to}};
    TTA_DNNL_TRY(ctx, dnnl_primitive_execute(r->prim, stream, 2, args), "reorder");
    return TTA_OK;
}

void tta_dnnl_reo_free(tta_dnnl_reo *r) {
    if (r->prim) dnnl_primitive_destroy(r->prim);
    if (r->from) dnnl_memory_destroy(r->from);
    if (r->to) dnnl_memory_destroy(r->to);
    r->prim = NULL;
    r->from = r->to = NULL;
}

/* ---- Fallback to the plain C kernel */

static const tta_kernel *find_c_kernel(const tta_node *node, const char *op_type) {
    const struct {
        const tta_kernel *k;
        const int *n;
    } tables[] = {{tta_kernels_nn, &tta_kernels_nn_count},
                  {tta_kernels_math, &tta_kernels_math_count},
                  {tta_kernels_tensor, &tta_kernels_tensor_count},
                  {tta_kernels_misc, &tta_kernels_misc_count}};
    for (size_t t = 0; t < sizeof tables / sizeof tables[0]; t++)
        for (int i = 0; i < *tables[t].n; i++) {
            const tta_kernel *k = &tables[t].k[i];
            if (!k->op_type || strcmp(k->op_type, op_type) || (k->domain && k->domain[0])) continue;
            if (node->opset < k->since || (k->until && node->opset > k->until)) continue;
            if (k->accepts && !k->accepts(node)) continue;
            return k;
        }
    return NULL;
}

tta_status tta_dnnl_fallback_prepare(tta_op_ctx *ctx, tta_dnnl_fallback *fb, const char *op_type) {
    fb->ck = find_c_kernel(ctx->node, op_type);
    fb->cstate = NULL;
    if (!fb->ck)
        return tta_op_error(ctx, TTA_ERR_INTERNAL, "no plain C kernel for %s v%d to fall back on", op_type,
                            ctx->node->opset);
    if (!fb->ck->prepare) return TTA_OK;
    tta_op_ctx c = *ctx;
    c.state = NULL;
    tta_status st = fb->ck->prepare(&c);
    fb->cstate = c.state;
    return st;
}

tta_status tta_dnnl_fallback_infer(tta_op_ctx *ctx, tta_dnnl_fallback *fb) {
    tta_op_ctx c = *ctx;
    c.state = fb->cstate;
    tta_status st = fb->ck->infer(&c);
    fb->cstate = c.state;
    return st;
}

tta_status tta_dnnl_fallback_compute(tta_op_ctx *ctx, tta_dnnl_fallback *fb) {
    tta_op_ctx c = *ctx;
    c.state = fb->cstate;
    tta_status st = fb->ck->compute(&c);
    fb->cstate = c.state;
    return st;
}

void tta_dnnl_fallback_release(tta_op_ctx *ctx, tta_dnnl_fallback *fb) {
    if (!fb->ck || !fb->ck->release) return;
    tta_op_ctx c = *ctx;
    c.state = fb->cstate;
    fb->ck->release(&c);
    fb->cstate = NULL;
}

bool tta_dnnl_is_f32(const tta_tensor *t, int ndim) {
    return t && t->dtype == TTA_DTYPE_FLOAT32 && (ndim < 0 || t->ndim == ndim);
}

void tta_dnnl_state_free(tta_op_ctx *ctx, tta_dnnl_fallback *fb, dnnl_stream_t stream) {
    if (stream) dnnl_stream_destroy(stream);
    tta_dnnl_fallback_release(ctx, fb);
    tta_free(ctx->state);
    ctx->state = NULL;
}
