/* main.c - the `tta` command: dispatches to one function per subcommand (commands.h). Under
 * mpirun (dist.h) the commands that split their images across ranks run on every rank; the
 * others refuse, rather than each rank doing the whole job and writing the same files. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/commands.h"
#include "cli/dist.h"
#include "cli/progress.h"
#include "tta/runtime.h"


static const struct {
    const char *name;
    int (*fn)(int, char **);
    const char *help;
} commands[] = {
    {"info", tta_cmd_info, "describe an ONNX model: inputs, outputs, opsets, operators, parameters"},
    {"run", tta_cmd_run, "run an ONNX model on tensors (.pb or .npy) and write its outputs"},
    {"conformance", tta_cmd_conformance, "run the ONNX backend test suite (or other case folders)"},
    {"eval", tta_cmd_eval, "score TTA policies on a labelled data set (the reference table)"},
    {"predict", tta_cmd_predict, "classify images with test-time augmentation"},
    {"detect", tta_cmd_detect, "object detection with TTA: predict, eval (COCO mAP), fuse, search, bench"},
    {"segment", tta_cmd_segment, "semantic segmentation with TTA: predict, eval (mIoU, uncertainty), search, bench"},
    {"search", tta_cmd_search, "find the best TTA policy within a budget of passes per image"},
    {"frontier", tta_cmd_frontier, "when TTA pays: models, their TTA and ensembles by cost against test accuracy"},
    {"compare", tta_cmd_compare, "compare two tensor files with the ONNX test tolerance"},
    {"serve", tta_cmd_serve, "an HTTP model server: TTA predictions with batching, /metrics, limits"},
    {"bench", tta_cmd_bench, "time a model at a batch size: images/s, latency, peak memory"},
    {"augment", tta_cmd_augment, "show the views of an augmentation policy on an image, as a grid"},
    {"data", tta_cmd_data, "make a data set: Fashion-MNIST mosaics with boxes and masks"},
};

static void usage(FILE *f) {
    fprintf(f, "usage: tta COMMAND [ARGS...]\n\ncommands:\n");
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        fprintf(f, "  %-12s %s\n", commands[i].name, commands[i].help);
    fprintf(f, "\n`tta COMMAND --help` describes a command; `tta --isa` the instruction sets in use;\n"
               "  `tta --version` the version; --quiet anywhere silences the progress lines.\n");
}

/* How OpenMP threads wait between parallel regions (every oneDNN primitive is one). Threads that
 * sleep at once pay a wake-up in every region, which at batch 1 is most of a small model's time;
 * threads that spin long take a core from any other busy process. 30,000 spins bridge the gaps
 * between the steps of one run and give the core back soon after (bench/README.md, "Measured
 * choices"). libgomp reads these only
 * at start-up, so the command re-executes itself once with them set, unless the user chose a
 * policy or a spin count. */
static void prefer_short_spin(char **argv) {
    if (getenv("OMP_WAIT_POLICY") || getenv("GOMP_SPINCOUNT") || getenv("TTA_NO_REEXEC")) return;
    setenv("GOMP_SPINCOUNT", "30000", 1);
    setenv("TTA_NO_REEXEC", "1", 1);
    execv("/proc/self/exe", argv); /* returns only on failure: then run as we are */
}

/* The commands that split their images across MPI ranks. (Not frontier, though it shares search's
 * tables: its cost column is each model's time measured here, which ranks sharing the cores
 * would skew.) */
static int runs_distributed(int argc, char **argv) {
    const char *c = argv[1], *sub = argc > 2 ? argv[2] : "";
    if (!strcmp(c, "eval") || !strcmp(c, "search")) return 1;
    return (!strcmp(c, "detect") || !strcmp(c, "segment")) && !strcmp(sub, "eval");
}

static int run(int argc, char **argv) {
    /* --quiet, wherever it is, silences progress (cli/progress.h) and is not passed on */
    int kept = 1;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--quiet")) cli_quiet = true;
        else argv[kept++] = argv[i];
    }
    argc = kept;
    argv[argc] = NULL;
    if (dist_rank() != 0) cli_quiet = true; /* under mpirun rank 0 alone shows progress */
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    if (!strcmp(argv[1], "--version") || !strcmp(argv[1], "-V")) {
        printf("tta %s (library %s)\n", TTA_VERSION, tta_version());
        return 0;
    }
    if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help") || !strcmp(argv[1], "help")) {
        usage(stdout);
        return 0;
    }
    if (!strcmp(argv[1], "--isa")) { /* oneDNN's level, our kernels' level, the channel block */
        printf("%s\n", tta_runtime_isa());
        return 0;
    }
    if (dist_size() > 1 && !runs_distributed(argc, argv)) {
        if (dist_rank() == 0)
            fprintf(stderr,
                    "tta: %s: not split across MPI ranks (eval, search, detect eval and segment eval are): "
                    "run it without mpirun\n",
                    argv[1]);
        return 2;
    }
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        if (!strcmp(argv[1], commands[i].name)) return commands[i].fn(argc - 1, argv + 1);
    fprintf(stderr, "tta: unknown command '%s'\n", argv[1]);
    usage(stderr);
    return 2;
}

int main(int argc, char **argv) {
    prefer_short_spin(argv); /* before MPI starts: it re-executes the process */
    if (dist_init(&argc, &argv)) return 1;
    return dist_finish(run(argc, argv));
}
