/* dataset_internal.h - the tta_dataset struct and the helpers the format readers share (dataset.c):
 * building a data set, and reading (optionally gzipped) files through zlib without trusting
 * the sizes their headers promise. */
#ifndef TTA_DATA_DATASET_INTERNAL_H
#define TTA_DATA_DATASET_INTERNAL_H

#include <stddef.h>
#include <stdint.h>
#include <zlib.h>

#include "tta/dataset.h"

struct tta_dataset {
    char *name;         /* spec or path, for messages */
    int64_t count;      /* items */
    int64_t first;      /* source index of item 0 (advanced by slicing) */
    int *labels;        /* count labels */
    int num_classes;    /* every label is in [0, num_classes) */
    char **class_names; /* num_classes owned strings, or NULL */
    /* in-memory sets (IDX, CIFAR, memory): count images of height x width x channels, HWC */
    uint8_t *pixels;
    int height, width, channels;
    /* file-backed sets (folder, list): count owned paths, decoded on demand */
    char **paths;
};

/* A zeroed data set named `name`. */
tta_status tta_data_new(tta_dataset **out, const char *name);

/* Copies n class names into ds (replacing any) and sets num_classes = n. */
tta_status tta_data_set_class_names(tta_dataset *ds, const char *const *names, int n);

/* num_classes = largest label + 1 (at least 1). */
void tta_data_count_classes(tta_dataset *ds);

/* Opens a file for reading through zlib (gzipped or plain, told apart by its first bytes).
 * Errors: IO naming the file. */
tta_status tta_data_open(gzFile *f, const char *path);

/* Reads up to n bytes into buf; *got < n means the file ended. Errors: IO for a read error,
 * PARSE for corrupt or truncated gzip data; both name the file. */
tta_status tta_data_read(gzFile f, const char *path, void *buf, size_t n, size_t *got);

/* Reads up to `want` bytes into a new tta_malloc'd buffer that grows as data arrives, so a
 * header that promises gigabytes in a short file costs no large allocation. *got < want means
 * the file ended first. The buffer is sized to *got (and non-NULL even when *got == 0). */
tta_status tta_data_read_growing(gzFile f, const char *path, size_t want, uint8_t **out, size_t *got);

/* Counts the bytes left in f (reading them). */
tta_status tta_data_count_rest(gzFile f, const char *path, uint64_t *rest);

/* "DIR/NAME" in a new tta_malloc'd string (NAME alone when it is absolute or DIR is empty). */
char *tta_data_join(const char *dir, const char *name);

/* A list of owned names (tta_data_list_dir), freed with tta_name_list_free. */
typedef struct tta_name_list {
    char **v;
    size_t n, cap;
} tta_name_list;
void tta_name_list_free(tta_name_list *l);

/* The entries of `dir` that are folders (want_dirs) or image files (.png, .jpg, .jpeg in any
 * case; names starting with '.' are skipped), sorted by byte value so that the order is the
 * same on every machine. Errors: IO (cannot open), NOMEM, both naming the folder. */
tta_status tta_data_list_dir(const char *dir, int want_dirs, tta_name_list *out);

/* Whether `path` names a regular file / a directory (following symbolic links). */
int tta_data_is_file(const char *path);
int tta_data_is_dir(const char *path);

#endif
