/* cli_util.c - see cli_util.h. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "cli/cli_util.h"
#include "core/file_key.h"
#include "core/stats_util.h"
#include "tta/tensor_io.h"

void cli_json_str(FILE *f, const char *s) {
    fputc('"', f);
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\') fprintf(f, "\\%c", c);
        else if (c < 0x20) fprintf(f, "\\u%04x", c);
        else fputc(c, f);
    }
    fputc('"', f);
}

double cli_now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

double cli_median(double *v, int n) {
    qsort(v, (size_t)n, sizeof *v, tta_cmp_double);
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

static int env_on(const char *name) {
    const char *v = getenv(name);
    return v && v[0] && strcmp(v, "0") != 0;
}

const tta_model_options *cli_model_options(void) {
    static tta_model_options o;
    o.no_rewrites = env_on("TTA_NO_REWRITES");
    return &o;
}

void cli_plan_switches(tta_plan_options *opts) {
    opts->no_blocked = env_on("TTA_NO_BLOCKED");
    opts->no_winograd = env_on("TTA_NO_WINOGRAD");
}

int cli_fail(void) {
    fprintf(stderr, "tta: %s\n", tta_last_error());
    return 1;
}

int cli_load_policy(const char *arg, tta_policy *pol) {
    struct stat st;
    const char *path = arg[0] == '@' ? arg + 1 : NULL;
    if (!path && !tta_policy_preset(arg) && stat(arg, &st) == 0 && S_ISREG(st.st_mode)) path = arg;
    if (path) {
        void *buf;
        size_t size;
        if (tta_read_file(path, &buf, &size)) return cli_fail();
        ((char *)buf)[size] = '\0';
        tta_status s = tta_policy_parse(pol, buf, path);
        tta_free(buf);
        return s ? cli_fail() : 0;
    }
    return tta_policy_parse(pol, arg, NULL) ? cli_fail() : 0;
}

const char *cli_policy_name(const char *arg, char **name) {
    const char *eq = strchr(arg, '=');
    size_t plain = strspn(arg, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-+, ");
    if (eq && eq > arg && (size_t)(eq - arg) == plain) {
        *name = strndup(arg, plain);
        return eq + 1;
    }
    *name = strdup(arg);
    return arg;
}

char **cli_class_names(const tta_model *m, int k) {
    char **names = calloc((size_t)k + 1, sizeof(char *));
    const char *s = m ? tta_model_metadata(m, "tta.class_names") : NULL;
    for (int i = 0; s && names && i < k; i++) {
        const char *end = strchr(s, ',');
        size_t n = end ? (size_t)(end - s) : strlen(s);
        names[i] = strndup(s, n);
        s = end ? end + 1 : NULL;
    }
    return names;
}

void cli_free_names(char **names, int k) {
    for (int i = 0; names && i < k; i++) free(names[i]);
    free(names);
}

const char *cli_format_help =
    "preprocessing (default: the model's metadata_props and input shape):\n"
    "  --layout NCHW|NHWC   --input-size HxW   --scale S (applied to 0..255 pixels, e.g. 1/255)\n"
    "  --mean M[,M,M]       --std S[,S,S]      model input = (pixel * scale - mean) / std\n";

int cli_format_flag(int argc, char **argv, int *i, cli_format *f) {
    static const char *flags[] = {"--layout", "--input-size", "--scale", "--mean", "--std"};
    for (int k = 0; k < 5; k++) {
        if (strcmp(argv[*i], flags[k]) || *i + 1 >= argc) continue;
        const char *v = argv[++*i];
        const char **slot[] = {&f->layout, &f->size, &f->scale, &f->mean, &f->std};
        *slot[k] = v;
        return 1;
    }
    return 0;
}

int cli_classifier_new(tta_classifier **out, const tta_model *m, const cli_format *f, int threads, int max_batch) {
    tta_classifier_options o = {.n_threads = threads, .max_batch = max_batch};
    *out = NULL;
    const char *task = tta_model_metadata(m, "tta.task");
    if (task && (!strcmp(task, "detection") || !strcmp(task, "segmentation"))) {
        fprintf(stderr, "tta: the model is a %s model (metadata tta.task): use `tta %s`\n", task,
                !strcmp(task, "detection") ? "detect predict|eval|search" : "segment predict|eval|search");
        return 1;
    }
    if (tta_classifier_new(out, m, &o)) return cli_fail();
    if (!f || !(f->layout || f->size || f->scale || f->mean || f->std)) return 0;
    tta_input_format fmt = *tta_classifier_format(*out);
    tta_classifier_free(*out);
    *out = NULL;
    if (tta_input_format_set(&fmt, f->layout, f->size, f->scale, f->mean, f->std)) return cli_fail();
    o.format = &fmt;
    if (tta_classifier_new(out, m, &o)) return cli_fail();
    return 0;
}

FILE *cli_output_open(const char *path, char **tmp) {
    *tmp = malloc(strlen(path) + 6);
    if (!*tmp) {
        fprintf(stderr, "tta: out of memory\n");
        return NULL;
    }
    sprintf(*tmp, "%s.part", path);
    FILE *f = fopen(*tmp, "w");
    if (!f) {
        fprintf(stderr, "tta: %s: cannot create (cannot write %s: %s)\n", path, *tmp, strerror(errno));
        free(*tmp);
        *tmp = NULL;
    }
    return f;
}

int cli_output_commit(FILE *f, const char *tmp, const char *path) {
    if (cli_close_output(f, tmp)) return 1;
    if (rename(tmp, path) != 0) {
        fprintf(stderr, "tta: %s: cannot write (%s)\n", path, strerror(errno));
        remove(tmp);
        return 1;
    }
    return 0;
}

int cli_close_output(FILE *f, const char *path) {
    if (fclose(f) == 0) return 0;
    fprintf(stderr, "tta: %s: write failed\n", path);
    remove(path);
    return 1;
}
