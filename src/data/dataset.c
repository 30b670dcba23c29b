/* dataset.c - the tta_dataset object (dataset.h): construction, random access, slicing,
 * accessors, and the file helpers the format readers share (idx.c, cifar.c, folder.c,
 * list.c; spec.c parses the command line's data specs).
 *
 * Two storage kinds: in-memory sets keep every image in one contiguous uint8 HWC buffer and
 * hand out borrowed views; file-backed sets keep paths and decode on demand. Labels are always
 * in memory, so metrics never need to decode an image. */
#include <errno.h>
#include <limits.h>
#include <string.h>
#include <sys/stat.h>

#include "core/alloc.h"
#include "core/error.h"
#include "data/dataset_internal.h"
#include "tta/tensor.h"

/* ---- construction ---------------------------------------------------------------------- */

tta_status tta_data_new(tta_dataset **out, const char *name) {
    tta_dataset *ds = tta_calloc(1, sizeof *ds);
    if (!ds) return tta_errorf(TTA_ERR_NOMEM, "out of memory for a data set");
    ds->name = tta_strdup(name ? name : "(data set)");
    if (!ds->name) {
        tta_free(ds);
        return tta_errorf(TTA_ERR_NOMEM, "out of memory for a data set");
    }
    *out = ds;
    return TTA_OK;
}

static void free_names(char **names, int n) {
    if (!names) return;
    for (int k = 0; k < n; k++)
        tta_free(names[k]);
    tta_free(names);
}

tta_status tta_data_set_class_names(tta_dataset *ds, const char *const *names, int n) {
    char **copy = tta_calloc((size_t)n, sizeof *copy);
    if (!copy) return tta_errorf(TTA_ERR_NOMEM, "%s: out of memory for class names", ds->name);
    for (int k = 0; k < n; k++) {
        copy[k] = tta_strdup(names[k] ? names[k] : "");
        if (!copy[k]) {
            free_names(copy, k);
            return tta_errorf(TTA_ERR_NOMEM, "%s: out of memory for class names", ds->name);
        }
    }
    free_names(ds->class_names, ds->num_classes);
    ds->class_names = copy;
    ds->num_classes = n;
    return TTA_OK;
}

void tta_data_count_classes(tta_dataset *ds) {
    int top = 0;
    for (int64_t i = 0; i < ds->count; i++)
        if (ds->labels[i] > top) top = ds->labels[i];
    ds->num_classes = top + 1;
}

void tta_dataset_free(tta_dataset *ds) {
    if (!ds) return;
    if (ds->paths)
        for (int64_t i = 0; i < ds->count; i++)
            tta_free(ds->paths[i]);
    tta_free(ds->paths);
    tta_free(ds->pixels);
    tta_free(ds->labels);
    free_names(ds->class_names, ds->num_classes);
    tta_free(ds->name);
    tta_free(ds);
}

tta_status tta_dataset_new_memory(tta_dataset **out, const char *name, int64_t count, int height, int width,
                                  int channels, const uint8_t *pixels, const int *labels, int num_classes,
                                  const char *const *class_names) {
    if (!out || !pixels || !labels)
        return tta_errorf(TTA_ERR_INVALID_ARG, "tta_dataset_new_memory: NULL argument");
    *out = NULL;
    if (count <= 0 || height <= 0 || width <= 0 || channels <= 0)
        return tta_errorf(TTA_ERR_INVALID_ARG,
                          "tta_dataset_new_memory: %lld images of %dx%dx%d is not a data set",
                          (long long)count, height, width, channels);
    size_t per = (size_t)height * width * channels;
    if ((double)per * count > (double)SIZE_MAX / 2 || (uint64_t)count > SIZE_MAX / sizeof(int))
        return tta_errorf(TTA_ERR_INVALID_ARG, "tta_dataset_new_memory: data set too large");
    if (class_names && num_classes <= 0)
        return tta_errorf(TTA_ERR_INVALID_ARG,
                          "tta_dataset_new_memory: class names given without num_classes");
    for (int64_t i = 0; i < count; i++) {
        if (labels[i] < 0 || (num_classes > 0 && labels[i] >= num_classes))
            return tta_errorf(TTA_ERR_INVALID_ARG,
                              "tta_dataset_new_memory: label %d of item %lld is outside [0, %d)", labels[i],
                              (long long)i, num_classes > 0 ? num_classes : INT_MAX);
    }
    tta_dataset *ds;
    TTA_TRY(tta_data_new(&ds, name ? name : "(memory)"));
    ds->count = count;
    ds->height = height;
    ds->width = width;
    ds->channels = channels;
    ds->labels = tta_malloc((size_t)count * sizeof *ds->labels);
    ds->pixels = tta_malloc(per * (size_t)count);
    if (!ds->labels || !ds->pixels) {
        tta_dataset_free(ds);
        return tta_errorf(TTA_ERR_NOMEM, "out of memory for %lld images", (long long)count);
    }
    memcpy(ds->labels, labels, (size_t)count * sizeof *ds->labels);
    memcpy(ds->pixels, pixels, per * (size_t)count);
    if (class_names) {
        tta_status st = tta_data_set_class_names(ds, class_names, num_classes);
        if (st != TTA_OK) {
            tta_dataset_free(ds);
            return st;
        }
    } else if (num_classes > 0) {
        ds->num_classes = num_classes;
    } else {
        tta_data_count_classes(ds);
    }
    *out = ds;
    return TTA_OK;
}

/* ---- access ------------------------------------------------------------------------------- */

tta_status tta_dataset_slice(tta_dataset *ds, int64_t begin, int64_t end) {
    if (!ds) return tta_errorf(TTA_ERR_INVALID_ARG, "tta_dataset_slice: NULL data set");
    if (begin < 0 || end > ds->count || begin >= end)
        return tta_errorf(TTA_ERR_INVALID_ARG, "%s: slice [%lld:%lld] is not inside its %lld images",
                          ds->name, (long long)begin, (long long)end, (long long)ds->count);
    int64_t n = end - begin;
    memmove(ds->labels, ds->labels + begin, (size_t)n * sizeof *ds->labels);
    int *labels = tta_realloc(ds->labels, (size_t)n * sizeof *ds->labels);
    if (labels) ds->labels = labels; /* shrinking cannot really fail; if it does keep the old block */
    if (ds->pixels) {
        size_t per = (size_t)ds->height * ds->width * ds->channels;
        memmove(ds->pixels, ds->pixels + per * (size_t)begin, per * (size_t)n);
        uint8_t *pixels = tta_realloc(ds->pixels, per * (size_t)n);
        if (pixels) ds->pixels = pixels;
    }
    if (ds->paths) {
        for (int64_t i = 0; i < ds->count; i++)
            if (i < begin || i >= end) tta_free(ds->paths[i]);
        memmove(ds->paths, ds->paths + begin, (size_t)n * sizeof *ds->paths);
        char **paths = tta_realloc(ds->paths, (size_t)n * sizeof *ds->paths);
        if (paths) ds->paths = paths;
    }
    ds->count = n;
    ds->first += begin;
    return TTA_OK;
}

int64_t tta_dataset_count(const tta_dataset *ds) { return ds ? ds->count : 0; }

tta_status tta_dataset_get(const tta_dataset *ds, int64_t i, tta_image *img, int *label) {
    if (!ds) return tta_errorf(TTA_ERR_INVALID_ARG, "tta_dataset_get: NULL data set");
    if (i < 0 || i >= ds->count)
        return tta_errorf(TTA_ERR_INVALID_ARG, "%s: item %lld is out of range (%lld images)", ds->name,
                          (long long)i, (long long)ds->count);
    if (img) {
        if (ds->pixels) {
            size_t per = (size_t)ds->height * ds->width * ds->channels;
            /* the view is read-only by contract; tta_image has no const variant */
            TTA_TRY(tta_image_wrap(img, ds->height, ds->width, ds->channels, TTA_DTYPE_UINT8,
                                   ds->pixels + per * (size_t)i));
        } else {
            if (img->capacity == 0) *img = (tta_image){0}; /* drop a borrowed view, never free it */
            TTA_TRY(tta_image_read(img, ds->paths[i]));
        }
    }
    if (label) *label = ds->labels[i];
    return TTA_OK;
}

const int *tta_dataset_labels(const tta_dataset *ds) { return ds ? ds->labels : NULL; }

int tta_dataset_num_classes(const tta_dataset *ds) { return ds ? ds->num_classes : 0; }

const char *tta_dataset_class_name(const tta_dataset *ds, int label) {
    if (!ds || !ds->class_names || label < 0 || label >= ds->num_classes) return NULL;
    return ds->class_names[label];
}

int tta_dataset_image_shape(const tta_dataset *ds, int *height, int *width, int *channels) {
    int known = ds && ds->pixels;
    if (height) *height = known ? ds->height : 0;
    if (width) *width = known ? ds->width : 0;
    if (channels) *channels = known ? ds->channels : 0;
    return known;
}

const char *tta_dataset_name(const tta_dataset *ds) { return ds ? ds->name : NULL; }

const char *tta_dataset_item_path(const tta_dataset *ds, int64_t i) {
    if (!ds || !ds->paths || i < 0 || i >= ds->count) return NULL;
    return ds->paths[i];
}

int64_t tta_dataset_source_index(const tta_dataset *ds, int64_t i) {
    if (!ds || i < 0 || i >= ds->count) return -1;
    return ds->first + i;
}

/* ---- files -------------------------------------------------------------------------------- */

tta_status tta_data_open(gzFile *f, const char *path) {
    if (tta_data_is_dir(path)) return tta_errorf(TTA_ERR_IO, "%s: is a folder, not a file", path);
    errno = 0;
    *f = gzopen(path, "rb");
    if (!*f)
        return tta_errorf(TTA_ERR_IO, "%s: cannot open: %s", path, errno ? strerror(errno) : "out of memory");
    return TTA_OK;
}

tta_status tta_data_read(gzFile f, const char *path, void *buf, size_t n, size_t *got) {
    unsigned char *p = buf;
    size_t done = 0;
    while (done < n) {
        size_t left = n - done;
        unsigned chunk = left > (1u << 30) ? (1u << 30) : (unsigned)left;
        int k = gzread(f, p + done, chunk);
        if (k <= 0) break;
        done += (size_t)k;
    }
    /* zlib reports a gzip stream cut short as a short read with Z_BUF_ERROR pending */
    int zerr = 0;
    const char *msg = gzerror(f, &zerr);
    if (zerr == Z_ERRNO) return tta_errorf(TTA_ERR_IO, "%s: read error: %s", path, strerror(errno));
    if (zerr == Z_BUF_ERROR)
        return tta_errorf(TTA_ERR_PARSE, "%s: truncated gzip data (zlib: %s)", path, msg);
    if (zerr != Z_OK) return tta_errorf(TTA_ERR_PARSE, "%s: corrupt gzip data (zlib: %s)", path, msg);
    *got = done;
    return TTA_OK;
}

tta_status tta_data_read_growing(gzFile f, const char *path, size_t want, uint8_t **out, size_t *got) {
    size_t cap = want < (1u << 20) ? want : (1u << 20), len = 0;
    uint8_t *buf = tta_malloc(cap ? cap : 1);
    if (!buf) return tta_errorf(TTA_ERR_NOMEM, "%s: out of memory reading the file", path);
    for (;;) {
        size_t k = 0;
        tta_status st = tta_data_read(f, path, buf + len, cap - len, &k);
        if (st != TTA_OK) {
            tta_free(buf);
            return st;
        }
        len += k;
        if (len < cap || cap == want) break; /* the file ended, or we have all we wanted */
        size_t ncap = cap > want / 2 ? want : cap * 2;
        uint8_t *nb = tta_realloc(buf, ncap);
        if (!nb) {
            tta_free(buf);
            return tta_errorf(TTA_ERR_NOMEM, "%s: out of memory reading %zu bytes", path, ncap);
        }
        buf = nb;
        cap = ncap;
    }
    if (len < cap && len > 0) {
        uint8_t *nb = tta_realloc(buf, len);
        if (nb) buf = nb;
    }
    *out = buf;
    *got = len;
    return TTA_OK;
}

tta_status tta_data_count_rest(gzFile f, const char *path, uint64_t *rest) {
    unsigned char scratch[16384];
    uint64_t total = 0;
    for (;;) {
        size_t k = 0;
        TTA_TRY(tta_data_read(f, path, scratch, sizeof scratch, &k));
        total += k;
        if (k < sizeof scratch) break;
    }
    *rest = total;
    return TTA_OK;
}

char *tta_data_join(const char *dir, const char *name) {
    if (name[0] == '/' || !dir || !dir[0]) return tta_strdup(name);
    size_t a = strlen(dir), b = strlen(name);
    int slash = dir[a - 1] != '/';
    char *s = tta_malloc(a + slash + b + 1);
    if (!s) return NULL;
    memcpy(s, dir, a);
    if (slash) s[a] = '/';
    memcpy(s + a + slash, name, b + 1);
    return s;
}

int tta_data_is_file(const char *path) {
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

int tta_data_is_dir(const char *path) {
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}
