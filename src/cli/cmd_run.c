/* cmd_run.c - `tta run MODEL --input FILE [--input FILE...] --output-dir DIR`: runs a model on
 * tensors read from TensorProto .pb or NumPy .npy files (in graph-input order) and writes
 * output_0.pb, output_1.pb, ... in graph-output order. Nothing is written when a run fails. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli/cli_util.h"
#include "cli/commands.h"
#include "tta/runtime.h"
#include "tta/tensor_io.h"

#define MAX_INPUTS 64

static int usage(FILE *f, int code) {
    fprintf(f, "usage: tta run MODEL.onnx --input FILE [--input FILE...] --output-dir DIR [--threads N]\n"
               "               [--max-memory BYTES]\n\n"
               "Inputs are TensorProto .pb files (as in the ONNX test suite) or NumPy .npy files,\n"
               "given in the order of the model's inputs. Writes DIR/output_0.pb, output_1.pb, ...\n"
               "in the order of the model's outputs.\n\n"
               "--max-memory BYTES  refuse a model whose tensors need more (e.g. 512M, 4G; default\n"
               "                    TTA_MAX_MEMORY, else the smaller of 4G and half the RAM)\n");
    return code;
}

int tta_cmd_run(int argc, char **argv) {
    const char *model_path = NULL, *out_dir = NULL;
    const char *input_paths[MAX_INPUTS];
    int n_in = 0, threads = 0;
    size_t max_memory = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) return usage(stdout, 0);
        if (!strcmp(argv[i], "--input") && i + 1 < argc) {
            if (n_in == MAX_INPUTS) {
                fprintf(stderr, "tta: too many inputs (max %d)\n", MAX_INPUTS);
                return 2;
            }
            input_paths[n_in++] = argv[++i];
        } else if (!strcmp(argv[i], "--output-dir") && i + 1 < argc) {
            out_dir = argv[++i];
        } else if (!strcmp(argv[i], "--threads") && i + 1 < argc) {
            threads = atoi(argv[++i]);
        } else if (!strcmp(argv[i], "--max-memory") && i + 1 < argc) {
            if (tta_parse_memory_size(argv[++i], &max_memory)) {
                fprintf(stderr, "tta: run: --max-memory: %s\n", tta_last_error());
                return 2;
            }
        } else if (argv[i][0] == '-') {
            fprintf(stderr, "tta: run: unknown or incomplete option '%s'\n", argv[i]);
            return usage(stderr, 2);
        } else if (!model_path) {
            model_path = argv[i];
        } else {
            fprintf(stderr, "tta: run: unexpected argument '%s'\n", argv[i]);
            return usage(stderr, 2);
        }
    }
    if (!model_path || !out_dir) return usage(stderr, 2);

    int rc = 1;
    tta_model *m = NULL;
    tta_plan *p = NULL;
    tta_tensor inputs[MAX_INPUTS];
    memset(inputs, 0, sizeof inputs);
    int loaded = 0;
    if (tta_model_load(model_path, cli_model_options(), &m)) {
        fprintf(stderr, "tta: %s\n", tta_last_error());
        goto done;
    }
    if (n_in != tta_model_n_inputs(m)) {
        fprintf(stderr, "tta: %s: the model has %d input%s, %d given with --input\n", model_path, tta_model_n_inputs(m),
                tta_model_n_inputs(m) == 1 ? "" : "s", n_in);
        goto done;
    }
    for (; loaded < n_in; loaded++) {
        if (tta_tensor_read_file(input_paths[loaded], &inputs[loaded])) {
            fprintf(stderr, "tta: %s\n", tta_last_error());
            goto done;
        }
    }
    tta_plan_options opts = {.n_threads = threads, .max_memory = max_memory};
    cli_plan_switches(&opts);
    if (tta_plan_new(m, inputs, n_in, &opts, &p) || tta_plan_run(p, inputs, n_in)) {
        fprintf(stderr, "tta: %s\n", tta_last_error());
        goto done;
    }
    if (mkdir(out_dir, 0777) != 0 && errno != EEXIST) {
        fprintf(stderr, "tta: %s: cannot create directory: %s\n", out_dir, strerror(errno));
        goto done;
    }
    int n_out = tta_plan_n_outputs(p);
    for (int o = 0; o < n_out; o++) {
        char path[4096];
        tta_io_info io;
        tta_model_output(m, o, &io);
        snprintf(path, sizeof path, "%s/output_%d.pb", out_dir, o);
        if (tta_tensor_write_pb(path, tta_plan_output(p, o), io.name)) {
            fprintf(stderr, "tta: %s\n", tta_last_error());
            for (int k = 0; k < o; k++) { /* no partial output left behind */
                snprintf(path, sizeof path, "%s/output_%d.pb", out_dir, k);
                remove(path);
            }
            goto done;
        }
    }
    rc = 0;
done:
    for (int i = 0; i < loaded; i++) tta_tensor_destroy(&inputs[i]);
    tta_plan_free(p);
    tta_model_free(m);
    return rc;
}
