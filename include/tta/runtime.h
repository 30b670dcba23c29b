/* runtime.h - loading ONNX models and running them on the CPU.
 *
 *   tta_model *m;                       load once: parse, check every op is supported
 *   tta_model_load("net.onnx", NULL, &m); NULL: the default options
 *   tta_tensor in = {...};              a [N,C,H,W] input the caller owns
 *   tta_plan *p;                        a plan binds the model to concrete input shapes:
 *   tta_plan_new(m, &in, 1, NULL, &p);  shapes inferred, constants folded, kernels prepared
 *   tta_plan_run(p, &in, 1);            run as often as needed (no allocation in steady state)
 *   const tta_tensor *out = tta_plan_output(p, 0);   owned by the plan, valid until next run
 *   tta_plan_free(p); tta_model_free(m);
 *
 * A plan's inputs must have the dtypes and shapes it was made for; a model's symbolic dims
 * (batch, height, width) are bound by the shapes passed to tta_plan_new. Every unsupported node
 * of a model is reported by tta_model_load in one message.
 *
 * Threads. A loaded tta_model is read-only: any number of threads may make plans from it and
 * read it at once (keep it alive until every plan made from it is freed). A tta_plan is not:
 * one thread at a time may run it (a plan per thread, or a lock around the run); the plan itself
 * spreads each run over its n_threads (OpenMP). Everything built on a plan follows the same
 * rule: tta_classifier, tta_detector, tta_segmenter and tta_seg_merger are one per thread.
 * Errors are per thread (tta_last_error). Checked by tests/tsan under ThreadSanitizer, including
 * that sharing one plan between threads is reported as a race.
 */
#ifndef TTA_RUNTIME_H
#define TTA_RUNTIME_H

#include "tta/tensor.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct tta_model tta_model;
typedef struct tta_plan tta_plan;

/* Description of a graph input or output. dims[i] is -1 for a symbolic or unknown dim, whose
 * name (if any) is dim_names[i]; ndim is -1 when the rank is not declared. */
typedef struct tta_io_info {
    const char *name;
    tta_dtype dtype;
    int ndim;
    int64_t dims[TTA_MAX_DIMS];
    const char *dim_names[TTA_MAX_DIMS];
} tta_io_info;

/* Loading options. A zeroed struct (or NULL) gives the defaults. */
typedef struct tta_model_options {
    int no_rewrites; /* keep the graph as written: no BatchNorm folding or activation fusion */
} tta_model_options;
/* Loads an ONNX file (opts may be NULL). */
TTA_API tta_status tta_model_load(const char *path, const tta_model_options *opts, tta_model **out);
/* The same from memory; `name` is used in messages. The buffer is not kept. */
TTA_API tta_status tta_model_load_buffer(const void *data, size_t size, const char *name, const tta_model_options *opts,
                                         tta_model **out);
TTA_API void tta_model_free(tta_model *model);

TTA_API int tta_model_n_inputs(const tta_model *model);
TTA_API int tta_model_n_outputs(const tta_model *model);
TTA_API tta_status tta_model_input(const tta_model *model, int i, tta_io_info *info);
TTA_API tta_status tta_model_output(const tta_model *model, int i, tta_io_info *info);
/* metadata_props value for key, or NULL. */
TTA_API const char *tta_model_metadata(const tta_model *model, const char *key);
/* op_type of the node that produces graph output i ("" if it is an input or initializer). */
TTA_API const char *tta_model_output_producer(const tta_model *model, int i);
/* Summary figures for `tta info`. */
typedef struct tta_model_stats {
    int n_nodes;
    int64_t n_parameters;   /* elements in initializers */
    int n_opsets;
    const char *opset_domains[16];
    int64_t opset_versions[16];
    int64_t ir_version;
    const char *producer;
} tta_model_stats;
TTA_API void tta_model_stats_get(const tta_model *model, tta_model_stats *stats);
/* Op counts: distinct op types in first-seen order; returns the count and fills up to max. */
TTA_API int tta_model_op_counts(const tta_model *model, const char **ops, int *counts, int max);

typedef struct tta_plan_options {
    int n_threads; /* 0: TTA_THREADS, else OMP_NUM_THREADS, else all cores */
    int profile;   /* time every step of every run (read with tta_plan_step_info) */
    size_t max_memory; /* bytes the plan may allocate (tensors and kernels' buffers); 0:
                        * TTA_MAX_MEMORY, else tta_default_max_memory(). See below. */
    int no_blocked;    /* keep every tensor in plain NCHW (no channel-blocked layouts), for comparisons */
    int no_winograd;   /* run 3x3 convolutions through oneDNN, never as Winograd, for comparisons */
} tta_plan_options;

/* The memory limit. A plan checks every output shape as soon as it is inferred and counts every
 * tensor it allocates (constants folded at plan time, the arena, buffers sized at run time) and
 * the kernels' own large buffers (weights reordered or transformed for a kernel, im2col and
 * packing scratch, oneDNN's scratchpads) before allocating: a shape whose element count or byte
 * size overflows int64 fails with TTA_ERR_SHAPE, and going over the limit with TTA_ERR_NOMEM,
 * both naming the node and the sizes. The model's own weights are not counted (they are as large
 * as the file they came from). The default is the smaller of 4 GiB and half the machine's
 * physical memory. */
TTA_API size_t tta_default_max_memory(void);
/* Parses a byte count such as "1073741824", "512M", "4G", "2GiB" (K, M, G, T are powers of 1024)
 * into *out; TTA_ERR_INVALID_ARG for anything else, zero included. Also the syntax of
 * TTA_MAX_MEMORY. */
TTA_API tta_status tta_parse_memory_size(const char *s, size_t *out);

/* inputs: one per graph input, in graph-input order; only dtype and dims are read. opts may be
 * NULL (the defaults). */
TTA_API tta_status tta_plan_new(const tta_model *model, const tta_tensor *inputs, int n_inputs,
                                const tta_plan_options *opts, tta_plan **out);
/* Runs the plan. Inputs must match the plan's dtypes and shapes. */
TTA_API tta_status tta_plan_run(tta_plan *plan, const tta_tensor *inputs, int n_inputs);
TTA_API int tta_plan_n_outputs(const tta_plan *plan);
/* Output i after a run; owned by the plan, valid until the next run or tta_plan_free. */
TTA_API const tta_tensor *tta_plan_output(const tta_plan *plan, int i);
TTA_API void tta_plan_free(tta_plan *plan);

/* The steps a run executes, in order (folded constants are not steps; layout conversions the
 * plan inserted are, with op_type "Reorder" and domain "tta"). Time is summed over runs when the
 * plan was made with options.profile, else 0. Strings are owned by the model/plan. */
typedef struct tta_step_info {
    const char *name, *op_type, *domain;
    const char *backend; /* "c", "dnnl" */
    double total_ms;
    long runs;
} tta_step_info;
/* The instruction sets the runtime uses, e.g. "avx512_core (oneDNN), avx512 (tta), block 16": oneDNN's
 * level, the level of tta's own kernels, and the channel block of blocked tensors. Capped by
 * TTA_MAX_ISA=generic|avx2|avx512 (both) or ONEDNN_MAX_CPU_ISA (oneDNN's names); TTA_BLOCK=8|16
 * forces the block. A static string. */
TTA_API const char *tta_runtime_isa(void);
/* Bytes of the plan's arena: every intermediate tensor with a plan-time shape, placed by
 * liveness (kernels' own buffers, such as reordered weights, are not counted). */
TTA_API size_t tta_plan_arena_bytes(const tta_plan *plan);
/* Multiply-adds per run: the convolutions (Conv, fused ones, ConvTranspose) and matrix products
 * (Gemm, MatMul) of the steps, from the plan-time shapes (steps whose shapes are known only at
 * run time count 0). The usual cost figure of a model card; element-wise work is not counted. */
TTA_API double tta_plan_multiply_adds(const tta_plan *plan);
TTA_API int tta_plan_n_steps(const tta_plan *plan);
TTA_API tta_status tta_plan_step_info(const tta_plan *plan, int i, tta_step_info *info);

#ifdef __cplusplus
}
#endif
#endif
