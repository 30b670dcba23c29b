/* list.c - a list file of "path,label" lines: images anywhere on disk with their labels. Only
 * names are read here (and each file's existence checked, so a typo fails at open time with
 * its line number); tta_dataset_get decodes each file when it is asked for.
 *
 * A line is split at its last comma, so paths may contain commas. Labels are all integers, or
 * all class names, which are numbered in sorted order as a folder set's subfolders are. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/error.h"
#include "data/dataset_internal.h"
#include "tta/tensor.h"

static char *trim(char *s) {
    while (*s == ' ' || *s == '\t')
        s++;
    size_t n = strlen(s);
    while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r' || s[n - 1] == '\n'))
        s[--n] = '\0';
    return s;
}

/* 1 and the value when s is a whole non-negative decimal integer that fits an int. */
static int parse_label_int(const char *s, int *value) {
    if (!*s) return 0;
    for (const char *p = s; *p; p++)
        if (*p < '0' || *p > '9') return 0;
    errno = 0;
    long v = strtol(s, NULL, 10);
    if (errno || v >= INT_MAX) return 0;
    *value = (int)v;
    return 1;
}

static int cmp_str(const void *a, const void *b) {
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Reads the whole (small) text file. */
static tta_status read_text(const char *path, char **out) {
    if (tta_data_is_dir(path)) return tta_errorf(TTA_ERR_IO, "%s: is a folder, not a list file", path);
    FILE *f = fopen(path, "rb");
    if (!f) return tta_errorf(TTA_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
    size_t len = 0, cap = 4096;
    char *buf = tta_malloc(cap);
    tta_status st = TTA_OK;
    while (buf) {
        if (cap - len < 2) {
            char *nb = tta_realloc(buf, cap * 2);
            if (!nb) {
                tta_free(buf);
                buf = NULL;
                break;
            }
            buf = nb;
            cap *= 2;
        }
        size_t k = fread(buf + len, 1, cap - len - 1, f);
        len += k;
        if (k == 0) {
            if (ferror(f)) st = tta_errorf(TTA_ERR_IO, "%s: read error", path);
            break;
        }
    }
    fclose(f);
    if (!buf) return tta_errorf(TTA_ERR_NOMEM, "%s: out of memory reading the list", path);
    if (st != TTA_OK) {
        tta_free(buf);
        return st;
    }
    buf[len] = '\0';
    if (memchr(buf, '\0', len)) {
        tta_free(buf);
        return tta_errorf(TTA_ERR_PARSE, "%s: contains NUL bytes: not a text list of \"path,label\" lines",
                          path);
    }
    *out = buf;
    return TTA_OK;
}

/* The folder part of a path ("" for a bare name), in a new string. */
static char *dir_of(const char *path) {
    const char *slash = strrchr(path, '/');
    size_t n = slash ? (size_t)(slash - path) : 0;
    if (slash == path) n = 1; /* "/list.txt" */
    char *d = tta_malloc(n + 1);
    if (!d) return NULL;
    memcpy(d, path, n);
    d[n] = '\0';
    return d;
}

tta_status tta_dataset_open_list(tta_dataset **out, const char *path) {
    if (!out || !path || !path[0]) return tta_errorf(TTA_ERR_INVALID_ARG, "tta_dataset_open_list: no file");
    *out = NULL;
    char *text = NULL, *dir = NULL;
    char **label_text = NULL; /* the label field of each entry, pointing into text */
    char **sorted = NULL;
    tta_dataset *ds = NULL;
    TTA_TRY(read_text(path, &text));
    tta_status st = tta_data_new(&ds, path);
    if (st != TTA_OK) goto done;
    dir = dir_of(path);
    if (!dir) {
        st = tta_errorf(TTA_ERR_NOMEM, "%s: out of memory", path);
        goto done;
    }

    size_t lines = 1;
    for (const char *p = text; *p; p++)
        lines += *p == '\n';
    ds->paths = tta_calloc(lines, sizeof *ds->paths);
    ds->labels = tta_calloc(lines, sizeof *ds->labels);
    label_text = tta_calloc(lines, sizeof *label_text);
    if (!ds->paths || !ds->labels || !label_text) {
        st = tta_errorf(TTA_ERR_NOMEM, "%s: out of memory", path);
        goto done;
    }

    int n_int = 0, n_name = 0, first_int_line = 0, first_name_line = 0, seen_entry = 0;
    char *line = text;
    for (int lineno = 1; line && st == TTA_OK; lineno++) {
        char *next = strchr(line, '\n');
        if (next) *next++ = '\0';
        char *s = trim(line);
        line = next;
        if (!*s || *s == '#') continue;
        if (!seen_entry && strcmp(s, "path,label") == 0) {
            seen_entry = 1;
            continue;
        }
        seen_entry = 1;
        char *comma = strrchr(s, ',');
        if (!comma) {
            st = tta_errorf(TTA_ERR_PARSE, "%s line %d: expected \"path,label\", got \"%.80s\"", path, lineno,
                            s);
            break;
        }
        *comma = '\0';
        char *file = trim(s), *lab = trim(comma + 1);
        if (!*file || !*lab) {
            st = tta_errorf(TTA_ERR_PARSE, "%s line %d: empty %s", path, lineno, *file ? "label" : "path");
            break;
        }
        int v;
        if (parse_label_int(lab, &v)) {
            ds->labels[ds->count] = v;
            if (!n_int++) first_int_line = lineno;
        } else {
            if (lab[0] == '-' && lab[1] >= '0' && lab[1] <= '9') {
                st = tta_errorf(TTA_ERR_PARSE, "%s line %d: label %s is negative", path, lineno, lab);
                break;
            }
            label_text[ds->count] = lab;
            if (!n_name++) first_name_line = lineno;
        }
        if (n_int && n_name) {
            st = tta_errorf(TTA_ERR_PARSE,
                            "%s line %d: labels mix numbers (first on line %d) and class names "
                            "(first on line %d); use one or the other",
                            path, lineno, first_int_line, first_name_line);
            break;
        }
        char *full = tta_data_join(dir, file);
        if (!full) {
            st = tta_errorf(TTA_ERR_NOMEM, "%s: out of memory", path);
            break;
        }
        ds->paths[ds->count++] = full;
        if (!tta_data_is_file(full)) {
            st = tta_errorf(TTA_ERR_IO, "%s line %d: image '%s' not found (looked for %s)", path, lineno,
                            file, full);
            break;
        }
    }
    if (st != TTA_OK) goto done;
    if (ds->count == 0) {
        st = tta_errorf(TTA_ERR_PARSE, "%s: no \"path,label\" lines", path);
        goto done;
    }

    if (n_name) {
        /* class names: distinct label strings in sorted order */
        sorted = tta_malloc((size_t)ds->count * sizeof *sorted);
        if (!sorted) {
            st = tta_errorf(TTA_ERR_NOMEM, "%s: out of memory", path);
            goto done;
        }
        memcpy(sorted, label_text, (size_t)ds->count * sizeof *sorted);
        qsort(sorted, (size_t)ds->count, sizeof *sorted, cmp_str);
        size_t k = 0;
        for (size_t i = 0; i < (size_t)ds->count; i++)
            if (k == 0 || strcmp(sorted[k - 1], sorted[i]) != 0) sorted[k++] = sorted[i];
        st = tta_data_set_class_names(ds, (const char *const *)sorted, (int)k);
        if (st != TTA_OK) goto done;
        for (int64_t i = 0; i < ds->count; i++) {
            const char *const *hit = bsearch(&label_text[i], sorted, k, sizeof *sorted, cmp_str);
            ds->labels[i] = (int)(hit - (const char *const *)sorted);
        }
    } else {
        tta_data_count_classes(ds);
    }
done:
    tta_free(sorted);
    tta_free(label_text);
    tta_free(dir);
    tta_free(text);
    if (st != TTA_OK) {
        tta_dataset_free(ds);
        return st;
    }
    *out = ds;
    return TTA_OK;
}
