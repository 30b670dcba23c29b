/* spec.c - data spec strings ("fashion-mnist:val[0:1000]", "cifar10:a.bin,b.bin", ...): the
 * command line's way to name a data set (syntax in dataset.h). Parses the kind, its
 * arguments and an optional [a:b] range, opens the set with the format's reader, applies the
 * project's fixed Fashion-MNIST/MNIST split and then the range.
 *
 * The spec's syntax (kind, split, range) is checked before any file is read, so a typo costs no
 * loading time; the range's bounds are checked after, against the real size. */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/error.h"
#include "data/dataset_internal.h"
#include "data/range.h"
#include "tta/tensor.h"

#define KNOWN_KINDS "fashion-mnist, mnist, idx, cifar10, cifar100, folder, list"
#define MAX_FILES 64

enum { MNIST_TRAIN_END = 55000, MNIST_TRAIN_COUNT = 60000 };

static const char *const fashion_names[10] = {
    "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot",
};
static const char *const digit_names[10] = {"0", "1", "2", "3", "4", "5", "6", "7", "8", "9"};

const char *tta_dataset_spec_help(void) {
    return "data specs (any may end with a range [a:b], python-slice-like, applied after the split):\n"
           "  fashion-mnist:test      the 10,000 Fashion-MNIST test images\n"
           "  fashion-mnist:train     training images 0..54999 (the project's fixed split)\n"
           "  fashion-mnist:val       training images 55000..59999 (for policy search and tuning)\n"
           "  mnist:test|train|val    the same for MNIST, if installed\n"
           "  idx:IMAGES,LABELS       idx3-ubyte images and idx1-ubyte labels, gzipped or not\n"
           "  cifar10:FILE[,FILE...]  CIFAR-10 binary batches\n"
           "  cifar100:FILE[,FILE...] CIFAR-100 binary files (fine labels)\n"
           "  folder:DIR              DIR/CLASS/IMAGE.png|jpg, classes in sorted order\n"
           "  list:FILE               lines \"path,label\" (paths relative to FILE's folder)\n"
           "  e.g. fashion-mnist:test[0:1000], cifar10:test_batch.bin[-500:]\n";
}

/* ---- named data sets (fashion-mnist, mnist) --------------------------------------------------- */

typedef struct named_set {
    const char *kind;    /* "fashion-mnist" */
    const char *env;     /* folder override */
    const char *dir;     /* default folder */
    const char *package; /* Debian package that installs it, or NULL */
    const char *const *names;
} named_set;

static const named_set named_sets[] = {
    {"fashion-mnist", "TTA_FASHION_DIR", "/usr/share/datasets/fashion-mnist", "dataset-fashion-mnist",
     fashion_names},
    {"mnist", "TTA_MNIST_DIR", "/usr/share/datasets/mnist", NULL, digit_names},
};

/* dir/stem.gz when it exists, else dir/stem when it exists; NULL (message set) otherwise. */
static tta_status find_idx(const named_set *ns, const char *dir, const char *stem, char **out) {
    char name[128];
    snprintf(name, sizeof name, "%s.gz", stem);
    for (int plain = 0; plain < 2; plain++) {
        char *p = tta_data_join(dir, plain ? stem : name);
        if (!p) return tta_errorf(TTA_ERR_NOMEM, "out of memory");
        if (tta_data_is_file(p)) {
            *out = p;
            return TTA_OK;
        }
        tta_free(p);
    }
    char hint[160] = "";
    if (ns->package)
        snprintf(hint, sizeof hint, " (install the Debian package %s, or set %s)", ns->package, ns->env);
    else
        snprintf(hint, sizeof hint, " (set %s to the folder holding its IDX files)", ns->env);
    return tta_errorf(TTA_ERR_IO, "%s: %s/%s[.gz] not found%s", ns->kind, dir, stem, hint);
}

static tta_status open_named(tta_dataset **out, const named_set *ns, const char *split) {
    int part; /* 0 train, 1 val, 2 test */
    if (strcmp(split, "train") == 0)
        part = 0;
    else if (strcmp(split, "val") == 0)
        part = 1;
    else if (strcmp(split, "test") == 0)
        part = 2;
    else
        return tta_errorf(TTA_ERR_INVALID_ARG, "unknown split '%s' of %s; known: train, val, test", split,
                          ns->kind);
    const char *dir = getenv(ns->env);
    if (!dir || !dir[0]) dir = ns->dir;
    const char *prefix = part == 2 ? "t10k" : "train";
    char stem[64];
    char *images = NULL, *labels = NULL;
    snprintf(stem, sizeof stem, "%s-images-idx3-ubyte", prefix);
    tta_status st = find_idx(ns, dir, stem, &images);
    snprintf(stem, sizeof stem, "%s-labels-idx1-ubyte", prefix);
    if (st == TTA_OK) st = find_idx(ns, dir, stem, &labels);
    tta_dataset *ds = NULL;
    if (st == TTA_OK) st = tta_dataset_open_idx(&ds, images, labels);
    if (st == TTA_OK && part != 2 && ds->count != MNIST_TRAIN_COUNT)
        st = tta_errorf(TTA_ERR_PARSE, "%s: %s holds %lld images; the train/val split needs %d", ns->kind,
                        images, (long long)ds->count, MNIST_TRAIN_COUNT);
    for (int64_t i = 0; st == TTA_OK && i < ds->count; i++)
        if (ds->labels[i] >= 10)
            st = tta_errorf(TTA_ERR_PARSE, "%s: %s: label %d of item %lld is not a class 0..9", ns->kind,
                            labels, ds->labels[i], (long long)i);
    if (st == TTA_OK) st = tta_data_set_class_names(ds, ns->names, 10);
    if (st == TTA_OK && part == 0) st = tta_dataset_slice(ds, 0, MNIST_TRAIN_END);
    if (st == TTA_OK && part == 1) st = tta_dataset_slice(ds, MNIST_TRAIN_END, MNIST_TRAIN_COUNT);
    tta_free(images);
    tta_free(labels);
    if (st != TTA_OK) {
        tta_dataset_free(ds);
        return st;
    }
    *out = ds;
    return TTA_OK;
}

/* ---- the spec -------------------------------------------------------------------------------- */

/* Splits a comma-separated file list in place. */
static tta_status split_files(char *args, const char *kind, const char **files, int *count) {
    int n = 0;
    for (char *p = args;;) {
        char *comma = strchr(p, ',');
        if (comma) *comma = '\0';
        if (!*p) return tta_errorf(TTA_ERR_INVALID_ARG, "%s: empty file name in the list of files", kind);
        if (n == MAX_FILES) return tta_errorf(TTA_ERR_INVALID_ARG, "%s: more than %d files", kind, MAX_FILES);
        files[n++] = p;
        if (!comma) break;
        p = comma + 1;
    }
    *count = n;
    return TTA_OK;
}

static tta_status open_spec(tta_dataset **out, const char *spec, char *body, tta_range *r) {
    /* cut off the range suffix (a final [..]); it is parsed once the kind is known to be good */
    const char *range_text = NULL;
    size_t n = strlen(body);
    if (n > 0 && body[n - 1] == ']') {
        char *lb = strrchr(body, '[');
        if (!lb) return tta_errorf(TTA_ERR_INVALID_ARG, "data spec '%s': ']' without '['", spec);
        r->at = (size_t)(lb - body);
        range_text = spec + r->at;
        *lb = '\0';
    }
    char *colon = strchr(body, ':');
    if (!colon) {
        for (size_t k = 0; k < sizeof named_sets / sizeof *named_sets; k++)
            if (strcmp(body, named_sets[k].kind) == 0)
                return tta_errorf(TTA_ERR_INVALID_ARG,
                                  "data set '%s' needs a split: %s:test, %s:val or %s:train", body, body,
                                  body, body);
        if (strcmp(body, "idx") == 0 || strcmp(body, "cifar10") == 0 || strcmp(body, "cifar100") == 0 ||
            strcmp(body, "folder") == 0 || strcmp(body, "list") == 0)
            return tta_errorf(TTA_ERR_INVALID_ARG, "data set '%s' needs its files: %s:...", body, body);
        return tta_errorf(TTA_ERR_INVALID_ARG,
                          "data spec '%s' has no kind: write KIND:ARGS with KIND one of %s", spec,
                          KNOWN_KINDS);
    }
    *colon = '\0';
    const char *kind = body;
    char *args = colon + 1;

    const named_set *ns = NULL;
    for (size_t k = 0; k < sizeof named_sets / sizeof *named_sets; k++)
        if (strcmp(kind, named_sets[k].kind) == 0) ns = &named_sets[k];
    int is_idx = strcmp(kind, "idx") == 0, is_c10 = strcmp(kind, "cifar10") == 0,
        is_c100 = strcmp(kind, "cifar100") == 0, is_folder = strcmp(kind, "folder") == 0,
        is_list = strcmp(kind, "list") == 0;
    if (!ns && !is_idx && !is_c10 && !is_c100 && !is_folder && !is_list)
        return tta_errorf(TTA_ERR_INVALID_ARG, "unknown data set '%s'; known: %s", kind, KNOWN_KINDS);
    if (!*args) {
        const char *need = ns          ? "a split (test, val or train)"
                           : is_idx    ? "IMAGES,LABELS"
                           : is_folder ? "DIR"
                           : is_list   ? "FILE"
                                       : "FILE[,FILE...]";
        return tta_errorf(TTA_ERR_INVALID_ARG, "data set '%s' needs %s after the colon", kind, need);
    }
    if (range_text) TTA_TRY(tta_range_parse(range_text, r));

    if (ns) return open_named(out, ns, args);
    if (is_folder) return tta_dataset_open_folder(out, args);
    if (is_list) return tta_dataset_open_list(out, args);
    const char *files[MAX_FILES];
    int count = 0;
    TTA_TRY(split_files(args, kind, files, &count));
    if (is_idx) {
        if (count != 2)
            return tta_errorf(TTA_ERR_INVALID_ARG, "idx needs two files, IMAGES,LABELS; got %d", count);
        return tta_dataset_open_idx(out, files[0], files[1]);
    }
    return is_c10 ? tta_dataset_open_cifar10(out, files, count)
                  : tta_dataset_open_cifar100(out, files, count);
}

tta_status tta_dataset_open(tta_dataset **out, const char *spec) {
    if (!out) return tta_errorf(TTA_ERR_INVALID_ARG, "tta_dataset_open: NULL argument");
    *out = NULL;
    if (!spec || !spec[0])
        return tta_errorf(TTA_ERR_INVALID_ARG,
                          "empty data spec; write KIND:ARGS, e.g. fashion-mnist:test (known: %s)",
                          KNOWN_KINDS);
    char *body = tta_strdup(spec);
    if (!body) return tta_errorf(TTA_ERR_NOMEM, "out of memory");
    tta_range r;
    memset(&r, 0, sizeof r);
    tta_dataset *ds = NULL;
    tta_status st = open_spec(&ds, spec, body, &r);
    tta_free(body);
    if (st == TTA_OK && r.present) {
        int64_t begin = 0, end = 0;
        /* name the set without its range in the message */
        char what[256];
        size_t keep = r.at;
        snprintf(what, sizeof what, "%.*s", (int)(keep < 200 ? keep : 200), spec);
        st = tta_range_resolve(&r, ds->count, what, &begin, &end);
        if (st == TTA_OK && (begin != 0 || end != ds->count)) st = tta_dataset_slice(ds, begin, end);
    }
    if (st == TTA_OK) {
        char *name = tta_strdup(spec);
        if (!name)
            st = tta_errorf(TTA_ERR_NOMEM, "out of memory");
        else {
            tta_free(ds->name);
            ds->name = name;
        }
    }
    if (st != TTA_OK) {
        tta_dataset_free(ds);
        return st;
    }
    *out = ds;
    return TTA_OK;
}
