/* fuzz_model.c - libFuzzer target: ONNX model bytes -> tta_model_load_buffer, the queries
 * `tta info` makes, a plan on small generated inputs and one run.
 *
 * The inputs are derived from the input's size (same generator as the harness that found the
 * issue 14 crashes, so those files replay the same way): declared dims are kept up to 64 with at
 * most 2^16 elements per input, unknown dims become 2, values are small and sometimes negative
 * (indices), with the odd huge int. A mismatch with the model must be reported by tta_plan_new. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_common.h"
#include "tta/runtime.h"

#define MAX_IN 8
#define MAX_ELEMS (1 << 16)

static uint64_t mix(uint64_t x) {
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdull;
    x ^= x >> 33;
    x *= 0xc4ceb9fe1a85ec53ull;
    x ^= x >> 33;
    return x;
}

int LLVMFuzzerInitialize(int *argc, char ***argv) {
    (void)argc;
    (void)argv;
    setenv("OMP_NUM_THREADS", "1", 1);
    setenv("TTA_THREADS", "1", 1);
    return 0;
}

static void fill(tta_tensor *t, uint64_t seed) {
    int64_t n = tta_tensor_numel(t);
    for (int64_t i = 0; i < n; i++) {
        uint64_t r = mix(seed + (uint64_t)i);
        int v = (int)(r % 7) - 3;
        switch (t->dtype) {
        case TTA_DTYPE_FLOAT32: ((float *)t->data)[i] = (float)((int)(r % 2001) - 1000) / 250.0f; break;
        case TTA_DTYPE_FLOAT64: ((double *)t->data)[i] = (double)((int)(r % 2001) - 1000) / 250.0; break;
        case TTA_DTYPE_FLOAT16: ((uint16_t *)t->data)[i] = (uint16_t)(0x3c00 ^ (r & 0x83ff)); break;
        case TTA_DTYPE_INT64: ((int64_t *)t->data)[i] = (r & 0xff) == 0 ? (int64_t)(r >> 8) : v; break;
        case TTA_DTYPE_INT32: ((int32_t *)t->data)[i] = (r & 0xff) == 0 ? (int32_t)(r >> 8) : v; break;
        case TTA_DTYPE_UINT64: ((uint64_t *)t->data)[i] = r % 5; break;
        case TTA_DTYPE_UINT32: ((uint32_t *)t->data)[i] = (uint32_t)(r % 5); break;
        case TTA_DTYPE_INT16: ((int16_t *)t->data)[i] = (int16_t)v; break;
        case TTA_DTYPE_UINT16: ((uint16_t *)t->data)[i] = (uint16_t)(r % 5); break;
        case TTA_DTYPE_INT8: ((int8_t *)t->data)[i] = (int8_t)v; break;
        case TTA_DTYPE_UINT8: ((uint8_t *)t->data)[i] = (uint8_t)r; break;
        case TTA_DTYPE_BOOL: ((uint8_t *)t->data)[i] = (uint8_t)(r & 1); break;
        default: break;
        }
    }
}

static void run_plan(tta_model *m, tta_tensor *in, int n_in) {
    /* 64 MB: the default limit (up to 4 GiB) lets a 120-byte model fill gigabytes legitimately,
       which under ASan takes longer than the fuzzer's timeout; the limit itself is what is fuzzed.
       256 MB was still too much: a broadcast Sub over a 60 M-element ConstantOfShape took 2.3 s of
       CPU under ASan and timed out on a busy machine (F10) */
    tta_plan_options po = {.n_threads = 1, .max_memory = (size_t)64 << 20};
    tta_plan *p = NULL;
    if (tta_plan_new(m, in, n_in, &po, &p) != TTA_OK) return;
    if (tta_plan_run(p, in, n_in) == TTA_OK) {
        for (int o = 0; o < tta_plan_n_outputs(p); o++) {
            const tta_tensor *t = tta_plan_output(p, o);
            fuzz_touch(t->data, tta_tensor_nbytes(t));
        }
        tta_step_info si;
        for (int s = 0; s < tta_plan_n_steps(p); s++) tta_plan_step_info(p, s, &si);
    }
    tta_plan_free(p);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    tta_model *m = NULL;
    if (tta_model_load_buffer(data, size, "fuzz.onnx", NULL, &m) != TTA_OK) return 0;
    tta_model_stats st;
    tta_model_stats_get(m, &st);
    const char *ops[64];
    int counts[64];
    tta_model_op_counts(m, ops, counts, 64);
    (void)tta_model_metadata(m, "x");
    int n_in = tta_model_n_inputs(m), n_out = tta_model_n_outputs(m);
    for (int i = 0; i < n_out; i++) {
        tta_io_info io;
        tta_model_output(m, i, &io);
        (void)tta_model_output_producer(m, i);
    }
    if (n_in > MAX_IN) goto out;
    tta_tensor in[MAX_IN];
    memset(in, 0, sizeof in);
    uint64_t seed = mix(size);
    int ok = 1;
    for (int i = 0; i < n_in && ok; i++) {
        tta_io_info io;
        if (tta_model_input(m, i, &io) != TTA_OK) {
            ok = 0;
            break;
        }
        tta_dtype dt = io.dtype ? io.dtype : TTA_DTYPE_FLOAT32;
        if (dt == TTA_DTYPE_STRING || dt > TTA_DTYPE_UINT64) dt = TTA_DTYPE_FLOAT32;
        int nd = io.ndim < 0 ? 4 : io.ndim;
        int64_t dims[TTA_MAX_DIMS], total = 1;
        for (int d = 0; d < nd; d++) {
            int64_t v = io.ndim < 0 || io.dims[d] < 0 ? 2 : io.dims[d];
            if (v > 64) v = 64;
            if (total * (v ? v : 1) > MAX_ELEMS) v = 1;
            dims[d] = v;
            total *= v ? v : 1;
        }
        if (tta_tensor_resize(&in[i], dt, nd, dims) != TTA_OK) {
            ok = 0;
            break;
        }
        fill(&in[i], seed + 1000003u * (uint64_t)i);
    }
    if (ok) run_plan(m, in, n_in);
    for (int i = 0; i < n_in; i++) tta_tensor_destroy(&in[i]);
out:
    tta_model_free(m);
    return 0;
}
