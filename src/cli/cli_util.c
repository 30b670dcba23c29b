/* cli_util.c - see cli_util.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli/cli_util.h"
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

static double number(const char *s, int *ok) {
    char *end;
    double a = strtod(s, &end);
    if (end == s) *ok = 0;
    if (*end == '/') {
        const char *d = end + 1;
        double b = strtod(d, &end);
        if (end == d || b == 0) *ok = 0;
        else a /= b;
    }
    if (*end && *end != ',') *ok = 0;
    return a;
}

static int per_channel(const char *s, float *out, const char *flag) {
    int n = 0, ok = 1;
    while (s && *s && n < 4) {
        out[n++] = (float)number(s, &ok);
        const char *c = strchr(s, ',');
        s = c ? c + 1 : NULL;
    }
    if (!ok || n == 0) {
        fprintf(stderr, "tta: %s: expected a number or a comma-separated list of numbers\n", flag);
        return -1;
    }
    for (int i = n; i < 4; i++) out[i] = out[n - 1];
    return 0;
}

int cli_classifier_new(tta_classifier **out, const tta_model *m, const cli_format *f, int threads, int max_batch) {
    tta_classifier_options o = {.n_threads = threads, .max_batch = max_batch};
    *out = NULL;
    if (tta_classifier_new(out, m, &o)) return cli_fail();
    if (!f || !(f->layout || f->size || f->scale || f->mean || f->std)) return 0;
    tta_input_format fmt = *tta_classifier_format(*out);
    tta_classifier_free(*out);
    *out = NULL;
    if (f->layout) {
        if (!strcmp(f->layout, "NCHW")) fmt.batch.layout = TTA_LAYOUT_NCHW;
        else if (!strcmp(f->layout, "NHWC")) fmt.batch.layout = TTA_LAYOUT_NHWC;
        else {
            fprintf(stderr, "tta: --layout: expected NCHW or NHWC, got '%s'\n", f->layout);
            return 1;
        }
    }
    if (f->size && (sscanf(f->size, "%dx%d", &fmt.height, &fmt.width) != 2 || fmt.height <= 0 || fmt.width <= 0)) {
        fprintf(stderr, "tta: --input-size: expected HxW such as 224x224, got '%s'\n", f->size);
        return 1;
    }
    if (f->scale) {
        int ok = 1;
        double v = number(f->scale, &ok);
        if (!ok || v <= 0) {
            fprintf(stderr, "tta: --scale: expected a positive number such as 1/255, got '%s'\n", f->scale);
            return 1;
        }
        fmt.batch.scale = (float)(255.0 * v);
    }
    if (f->mean && per_channel(f->mean, fmt.batch.mean, "--mean")) return 1;
    if (f->std && per_channel(f->std, fmt.batch.std, "--std")) return 1;
    for (int c = 0; c < 4; c++)
        if (fmt.batch.std[c] == 0) {
            fprintf(stderr, "tta: --std: a standard deviation of 0\n");
            return 1;
        }
    o.format = &fmt;
    if (tta_classifier_new(out, m, &o)) return cli_fail();
    return 0;
}
