/* cmd_info.c - `tta info MODEL`: inputs and outputs with shapes and dtypes, opsets, operator
 * counts and the parameter count of an ONNX model. */
#include <stdio.h>
#include <string.h>

#include "cli/commands.h"
#include "tta/runtime.h"

static void print_io(const char *kind, const tta_io_info *io) {
    printf("  %s %-20s %-8s [", kind, io->name, tta_dtype_name(io->dtype));
    for (int d = 0; d < io->ndim; d++) {
        if (d) printf(", ");
        if (io->dims[d] >= 0) printf("%lld", (long long)io->dims[d]);
        else printf("%s", io->dim_names[d] ? io->dim_names[d] : "?");
    }
    printf("%s\n", io->ndim < 0 ? "unknown rank]" : "]");
}

int tta_cmd_info(int argc, char **argv) {
    if (argc != 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
        fprintf(argc == 2 ? stdout : stderr, "usage: tta info MODEL.onnx\n\n"
                                             "Prints the model's inputs and outputs (dtype, shape; symbolic dims by name),\n"
                                             "opset imports, operator counts, parameter count and metadata.\n");
        return argc == 2 ? 0 : 2;
    }
    tta_model *m;
    tta_model_options mo = {.no_rewrites = 1}; /* describe the model as written */
    if (tta_model_load(argv[1], &mo, &m)) {
        fprintf(stderr, "tta: %s\n", tta_last_error());
        return 1;
    }
    tta_model_stats s;
    tta_model_stats_get(m, &s);
    printf("model: %s\n", argv[1]);
    printf("producer: %s, ir_version %lld\n", s.producer[0] ? s.producer : "(none)", (long long)s.ir_version);
    printf("opsets:");
    for (int i = 0; i < s.n_opsets; i++)
        printf(" %s=%lld", s.opset_domains[i][0] ? s.opset_domains[i] : "ai.onnx", (long long)s.opset_versions[i]);
    printf("\ninputs:\n");
    for (int i = 0; i < tta_model_n_inputs(m); i++) {
        tta_io_info io;
        tta_model_input(m, i, &io);
        print_io("in ", &io);
    }
    printf("outputs:\n");
    for (int i = 0; i < tta_model_n_outputs(m); i++) {
        tta_io_info io;
        tta_model_output(m, i, &io);
        print_io("out", &io);
    }
    const char *ops[256];
    int counts[256];
    int n = tta_model_op_counts(m, ops, counts, 256);
    printf("operators: %d nodes\n", s.n_nodes);
    for (int i = 0; i < n; i++) printf("  %-24s %d\n", ops[i], counts[i]);
    printf("parameters: %lld\n", (long long)s.n_parameters);
    tta_model_free(m);
    return 0;
}
