/* cmd_bench.c - `tta bench MODEL --batch B [--threads T] [--seconds S] [--shape ...] [--json]`:
 * times the runtime on one model at one batch size.
 *
 * A plan is built for the model's inputs with dim 0 (the batch) set to B and the other dims
 * taken from the model (a symbolic one needs --shape). The inputs hold deterministic
 * pseudo-random data (uint8 in 0..255, floats in [0, 1)). After a warm-up, the plan runs
 * repeatedly for S seconds; the report gives the median and 90th-percentile latency per batch,
 * images per second at the median latency, and the process's peak resident memory (which
 * includes the model, the plan's arena and the inputs). --json prints the same as one object;
 * scripts/bench.sh compares it with bench/ort_bench.js, which prints the same keys. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli_util.h"
#include "cli/commands.h"
#include "tta/runtime.h"

#define MAX_INPUTS 16
#define MAX_SHAPES 16
#define MAX_REPEATS 1000000

static int usage(FILE *f, int code) {
    fprintf(f,
            "usage: tta bench MODEL.onnx [--batch B] [--threads T] [--seconds S] [--shape [NAME=]D0,D1,...]\n"
            "                 [--json] [--profile] [--max-memory BYTES]\n\n"
            "Times the model at batch size B: builds a plan with dim 0 of every input\n"
            "set to B, fills the inputs with fixed pseudo-random data (uint8 0..255, floats in\n"
            "[0, 1)), warms up, then runs for S seconds (default 3). Prints images per second (at\n"
            "the median latency), the median and 90th-percentile latency per batch, the peak\n"
            "resident memory of the process, the plan's arena of intermediate tensors, and the\n"
            "instruction sets in use (TTA_MAX_ISA=generic|avx2|avx512 caps them).\n\n"
            "  --batch B      batch size: dim 0 of every input (default: the model's, else 1)\n"
            "  --threads T    threads (default 0: TTA_THREADS, else OMP_NUM_THREADS, else all cores)\n"
            "  --seconds S    how long to time, after the warm-up (default 3)\n"
            "  --shape SPEC   full shape of an input whose other dims are symbolic, e.g.\n"
            "                 --shape 1,3,224,224 (first input) or --shape image=1,3,224,224;\n"
            "                 dim 0 is replaced by B\n"
            "  --json         print one JSON object: model, batch, threads, seconds, repeats,\n"
            "                 images_per_s, latency_ms (median), latency_p90_ms, latency_mean_ms,\n"
            "                 peak_rss_mb, load_rss_mb, arena_mb, isa\n"
            "  --profile      also time every step: prints the time per run by operator and\n"
            "                 backend, and the slowest nodes (to stderr with --json)\n"
            "  --max-memory BYTES  refuse a model whose tensors need more (e.g. 512M, 4G; default\n"
            "                 TTA_MAX_MEMORY, else the smaller of 4G and half the RAM)\n");
    return code;
}

static double peak_rss_mb(void) {
    struct rusage ru;
    if (getrusage(RUSAGE_SELF, &ru) != 0) return -1.0;
    return (double)ru.ru_maxrss / 1024.0; /* Linux: kilobytes */
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Quantile q in [0, 1] of sorted v[n] (linear interpolation between order statistics). */
static double quantile(const double *v, int n, double q) {
    double pos = q * (double)(n - 1);
    int lo = (int)floor(pos);
    int hi = lo + 1 < n ? lo + 1 : lo;
    return v[lo] + (pos - (double)lo) * (v[hi] - v[lo]);
}

/* xorshift64*: the same data every run. */
static uint64_t next_rand(uint64_t *s) {
    *s ^= *s >> 12;
    *s ^= *s << 25;
    *s ^= *s >> 27;
    return *s * 0x2545F4914F6CDD1DULL;
}

static int fill_random(tta_tensor *t, uint64_t seed) {
    int64_t n = tta_tensor_numel(t);
    uint64_t s = seed * 0x9E3779B97F4A7C15ULL + 1;
    switch (t->dtype) {
    case TTA_DTYPE_FLOAT32: {
        float *d = t->data;
        for (int64_t i = 0; i < n; i++) d[i] = (float)(next_rand(&s) >> 40) * (1.0f / 16777216.0f);
        return 0;
    }
    case TTA_DTYPE_FLOAT64: {
        double *d = t->data;
        for (int64_t i = 0; i < n; i++) d[i] = (double)(next_rand(&s) >> 11) * (1.0 / 9007199254740992.0);
        return 0;
    }
    case TTA_DTYPE_UINT8: {
        uint8_t *d = t->data;
        for (int64_t i = 0; i < n; i++) d[i] = (uint8_t)(next_rand(&s) >> 56);
        return 0;
    }
    default:
        return -1;
    }
}

/* Parses "D0,D1,..." into dims; returns the rank or -1. */
static int parse_dims(const char *s, int64_t *dims) {
    int n = 0;
    while (*s) {
        char *end;
        long long v = strtoll(s, &end, 10);
        if (end == s || v <= 0 || n == TTA_MAX_DIMS) return -1;
        dims[n++] = v;
        s = end;
        if (*s == ',' || *s == 'x') s++;
        else if (*s) return -1;
    }
    return n;
}

typedef struct op_time {
    const char *op, *backend;
    double ms;
    int nodes;
} op_time;

static int by_ms_desc(const void *a, const void *b) {
    double x = ((const op_time *)a)->ms, y = ((const op_time *)b)->ms;
    return (x < y) - (x > y);
}

/* Time per run by (operator, backend), then the slowest steps. Runs include the warm-up. */
static void print_profile(FILE *f, const tta_plan *p) {
    int n = tta_plan_n_steps(p);
    op_time *ops = calloc((size_t)n + 1, sizeof *ops), *steps = calloc((size_t)n + 1, sizeof *steps);
    if (!ops || !steps) {
        free(ops);
        free(steps);
        return;
    }
    int n_ops = 0;
    double total = 0;
    for (int i = 0; i < n; i++) {
        tta_step_info s;
        if (tta_plan_step_info(p, i, &s) || s.runs == 0) continue;
        double ms = s.total_ms / (double)s.runs;
        total += ms;
        steps[i] = (op_time){s.name && *s.name ? s.name : s.op_type, s.op_type, ms, i};
        int k = 0;
        while (k < n_ops && (strcmp(ops[k].op, s.op_type) || strcmp(ops[k].backend, s.backend))) k++;
        if (k == n_ops) ops[n_ops++] = (op_time){s.op_type, s.backend, 0, 0};
        ops[k].ms += ms;
        ops[k].nodes++;
    }
    qsort(ops, (size_t)n_ops, sizeof *ops, by_ms_desc);
    fprintf(f, "\nprofile: %.3f ms per run in %d steps (sum of the steps' times)\n", total, n);
    fprintf(f, "  %-22s %-6s %6s %10s %7s\n", "operator", "kernel", "nodes", "ms/run", "share");
    for (int k = 0; k < n_ops; k++)
        fprintf(f, "  %-22s %-6s %6d %10.3f %6.1f%%\n", ops[k].op, ops[k].backend, ops[k].nodes, ops[k].ms,
                total > 0 ? 100 * ops[k].ms / total : 0.0);
    qsort(steps, (size_t)n, sizeof *steps, by_ms_desc);
    fprintf(f, "  slowest steps (step, node, operator, ms/run):\n");
    for (int i = 0; i < n && i < 10; i++)
        fprintf(f, "  %4d %-32.32s %-18s %10.3f\n", steps[i].nodes, steps[i].op, steps[i].backend, steps[i].ms);
    free(ops);
    free(steps);
}

static int resolved_threads(int threads) {
    if (threads > 0) return threads;
    const char *e = getenv("TTA_THREADS");
    if (!e || !*e) e = getenv("OMP_NUM_THREADS");
    if (e && atoi(e) > 0) return atoi(e);
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n > 0 ? (int)n : 1;
}

int tta_cmd_bench(int argc, char **argv) {
    const char *model_path = NULL;
    const char *shape_specs[MAX_SHAPES];
    int n_shapes = 0, threads = 0, json = 0, batch_given = 0, profile = 0;
    long batch = 1;
    double seconds = 3.0;
    size_t max_memory = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        char *end;
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) return usage(stdout, 0);
        if (!strcmp(a, "--json")) {
            json = 1;
        } else if (!strcmp(a, "--profile")) {
            profile = 1;
        } else if (!strcmp(a, "--batch") && i + 1 < argc) {
            batch = strtol(argv[++i], &end, 10);
            batch_given = 1;
            if (*end || batch < 1) {
                fprintf(stderr, "tta: bench: --batch wants a positive integer, not '%s'\n", argv[i]);
                return 2;
            }
        } else if (!strcmp(a, "--threads") && i + 1 < argc) {
            long t = strtol(argv[++i], &end, 10);
            if (*end || t < 0 || t > 4096) {
                fprintf(stderr, "tta: bench: --threads wants an integer >= 0, not '%s'\n", argv[i]);
                return 2;
            }
            threads = (int)t;
        } else if (!strcmp(a, "--seconds") && i + 1 < argc) {
            seconds = strtod(argv[++i], &end);
            if (*end || !(seconds > 0) || seconds > 86400) {
                fprintf(stderr, "tta: bench: --seconds wants a positive number, not '%s'\n", argv[i]);
                return 2;
            }
        } else if (!strcmp(a, "--max-memory") && i + 1 < argc) {
            if (tta_parse_memory_size(argv[++i], &max_memory)) {
                fprintf(stderr, "tta: bench: --max-memory: %s\n", tta_last_error());
                return 2;
            }
        } else if (!strcmp(a, "--shape") && i + 1 < argc) {
            if (n_shapes == MAX_SHAPES) {
                fprintf(stderr, "tta: bench: too many --shape options (max %d)\n", MAX_SHAPES);
                return 2;
            }
            shape_specs[n_shapes++] = argv[++i];
        } else if (a[0] == '-') {
            fprintf(stderr, "tta: bench: unknown or incomplete option '%s'\n", a);
            return usage(stderr, 2);
        } else if (!model_path) {
            model_path = a;
        } else {
            fprintf(stderr, "tta: bench: unexpected argument '%s'\n", a);
            return usage(stderr, 2);
        }
    }
    if (!model_path) return usage(stderr, 2);

    int rc = 1, n_in = 0;
    tta_model *m = NULL;
    tta_plan *p = NULL;
    tta_tensor inputs[MAX_INPUTS];
    memset(inputs, 0, sizeof inputs);
    double *lat = NULL;

    if (tta_model_load(model_path, cli_model_options(), &m)) {
        fprintf(stderr, "tta: %s\n", tta_last_error());
        goto done;
    }
    double load_rss = peak_rss_mb();
    n_in = tta_model_n_inputs(m);
    if (n_in < 1 || n_in > MAX_INPUTS) {
        fprintf(stderr, "tta: %s: bench handles models with 1 to %d inputs, this one has %d\n", model_path,
                MAX_INPUTS, n_in);
        n_in = 0;
        goto done;
    }
    /* Match each --shape to an input: NAME=dims, or dims for the first input. */
    int64_t given[MAX_INPUTS][TTA_MAX_DIMS];
    int given_rank[MAX_INPUTS];
    for (int k = 0; k < MAX_INPUTS; k++) given_rank[k] = -1;
    for (int s = 0; s < n_shapes; s++) {
        const char *spec = shape_specs[s], *eq = strchr(spec, '=');
        int which = eq ? -1 : 0;
        if (eq) {
            for (int k = 0; k < n_in; k++) {
                tta_io_info io;
                if (!tta_model_input(m, k, &io) && io.name && strlen(io.name) == (size_t)(eq - spec) &&
                    !strncmp(io.name, spec, (size_t)(eq - spec)))
                    which = k;
            }
            if (which < 0) {
                fprintf(stderr, "tta: %s: --shape %s: the model has no input named '%.*s'\n", model_path, spec,
                        (int)(eq - spec), spec);
                goto done;
            }
        }
        given_rank[which] = parse_dims(eq ? eq + 1 : spec, given[which]);
        if (given_rank[which] < 1) {
            fprintf(stderr, "tta: bench: --shape '%s': expected [NAME=]D0,D1,... with positive dims\n", spec);
            goto done;
        }
    }
    for (int k = 0; k < n_in; k++) {
        tta_io_info io;
        if (tta_model_input(m, k, &io)) {
            fprintf(stderr, "tta: %s\n", tta_last_error());
            goto done;
        }
        const char *name = io.name ? io.name : "?";
        int64_t dims[TTA_MAX_DIMS];
        int ndim;
        if (given_rank[k] > 0) {
            ndim = given_rank[k];
            if (io.ndim >= 0 && ndim != io.ndim) {
                fprintf(stderr, "tta: %s: --shape for input '%s' has %d dims, the model says %d\n", model_path,
                        name, ndim, io.ndim);
                goto done;
            }
            memcpy(dims, given[k], sizeof dims);
            for (int d = 1; d < ndim && io.ndim >= 0; d++) {
                if (io.dims[d] >= 0 && io.dims[d] != dims[d]) {
                    fprintf(stderr, "tta: %s: --shape for input '%s': dim %d is %lld in the model, not %lld\n",
                            model_path, name, d, (long long)io.dims[d], (long long)dims[d]);
                    goto done;
                }
            }
        } else {
            if (io.ndim < 1) {
                fprintf(stderr, "tta: %s: input '%s' has %s; give its shape with --shape %s=D0,D1,...\n",
                        model_path, name, io.ndim < 0 ? "no declared rank" : "no batch dim (a scalar)", name);
                goto done;
            }
            ndim = io.ndim;
            for (int d = 1; d < ndim; d++) {
                if (io.dims[d] < 0) {
                    fprintf(stderr, "tta: %s: input '%s' dim %d (%s) is symbolic; give its shape with --shape %s=D0,D1,...\n",
                            model_path, name, d, io.dim_names[d] ? io.dim_names[d] : "unnamed", name);
                    goto done;
                }
                dims[d] = io.dims[d];
            }
        }
        if (!batch_given && k == 0 && io.ndim >= 1 && io.dims[0] > 0) batch = (long)io.dims[0];
        if (io.ndim >= 1 && io.dims[0] >= 0 && io.dims[0] != batch) {
            fprintf(stderr, "tta: %s: input '%s' has a fixed batch of %lld; --batch %ld is not possible\n",
                    model_path, name, (long long)io.dims[0], batch);
            goto done;
        }
        dims[0] = batch;
        if (tta_tensor_resize(&inputs[k], io.dtype, ndim, dims)) {
            fprintf(stderr, "tta: %s: input '%s': %s\n", model_path, name, tta_last_error());
            goto done;
        }
        if (fill_random(&inputs[k], (uint64_t)k + 1)) {
            fprintf(stderr, "tta: %s: input '%s' is %s; bench fills only float32, float64 and uint8 inputs\n",
                    model_path, name, tta_dtype_name(io.dtype));
            goto done;
        }
    }

    tta_plan_options opts = {.n_threads = threads, .profile = profile, .max_memory = max_memory};
    cli_plan_switches(&opts);
    if (tta_plan_new(m, inputs, n_in, &opts, &p)) {
        fprintf(stderr, "tta: %s\n", tta_last_error());
        goto done;
    }
    /* Warm-up: at least two runs and at least a tenth of the timed period (at most 1 s). */
    double warm = seconds / 10 < 1.0 ? seconds / 10 : 1.0;
    double t0 = cli_now();
    for (int w = 0; w < 2 || cli_now() - t0 < warm; w++) {
        if (tta_plan_run(p, inputs, n_in)) {
            fprintf(stderr, "tta: %s\n", tta_last_error());
            goto done;
        }
    }
    int cap = 1024, n = 0;
    lat = malloc((size_t)cap * sizeof *lat);
    if (!lat) {
        fprintf(stderr, "tta: bench: out of memory\n");
        goto done;
    }
    double start = cli_now(), total = 0;
    while (n < 3 || (cli_now() - start < seconds && n < MAX_REPEATS)) {
        double a = cli_now();
        if (tta_plan_run(p, inputs, n_in)) {
            fprintf(stderr, "tta: %s\n", tta_last_error());
            goto done;
        }
        double b = cli_now();
        if (n == cap) {
            double *more = realloc(lat, (size_t)cap * 2 * sizeof *lat);
            if (!more) break;
            lat = more;
            cap *= 2;
        }
        lat[n++] = (b - a) * 1e3;
        total += b - a;
    }
    qsort(lat, (size_t)n, sizeof *lat, cmp_double);
    double med = quantile(lat, n, 0.5), p90 = quantile(lat, n, 0.9), mean = total * 1e3 / n;
    double ips = (double)batch * 1e3 / med, rss = peak_rss_mb();
    int nt = resolved_threads(threads);
    if (json) {
        printf("{\"runtime\": \"tta\", \"model\": ");
        cli_json_str(stdout, model_path);
        printf(", \"batch\": %ld, \"threads\": %d, \"seconds\": %.3f, \"repeats\": %d, \"images_per_s\": %.3f, "
               "\"latency_ms\": %.4f, \"latency_p90_ms\": %.4f, \"latency_mean_ms\": %.4f, \"peak_rss_mb\": %.1f, "
               "\"load_rss_mb\": %.1f, \"arena_mb\": %.1f, \"isa\": ",
               batch, nt, total, n, ips, med, p90, mean, rss, load_rss, tta_plan_arena_bytes(p) / 1e6);
        cli_json_str(stdout, tta_runtime_isa());
        printf("}\n");
    } else {
        printf("model:        %s\n", model_path);
        printf("batch:        %ld\n", batch);
        printf("threads:      %d\n", nt);
        printf("repeats:      %d in %.2f s\n", n, total);
        printf("images/s:     %.1f (at the median latency)\n", ips);
        printf("latency:      %.3f ms per batch (median), %.3f ms p90, %.3f ms mean\n", med, p90, mean);
        printf("peak RSS:     %.1f MB (%.1f MB after loading the model, %.1f MB of intermediate tensors)\n", rss,
               load_rss, tta_plan_arena_bytes(p) / 1e6);
        printf("ISA:          %s\n", tta_runtime_isa());
    }
    if (profile) print_profile(json ? stderr : stdout, p);
    rc = 0;
done:
    free(lat);
    for (int k = 0; k < n_in; k++) tta_tensor_destroy(&inputs[k]);
    tta_plan_free(p);
    tta_model_free(m);
    return rc;
}
