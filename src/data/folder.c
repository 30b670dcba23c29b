/* folder.c - a folder of images with one subfolder per class (DIR/CLASS/IMAGE.png), as
 * torchvision's ImageFolder lays them out. Only names are collected here; tta_dataset_get
 * decodes each file when it is asked for.
 *
 * Class names are the subfolder names sorted by byte value and files are sorted by name within
 * a class, so item i is the same file on every machine whatever order readdir returns. Names
 * starting with '.' are skipped (.git, .DS_Store, editor files); so are files that are not
 * .png/.jpg/.jpeg. */
#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/alloc.h"
#include "core/error.h"
#include "data/dataset_internal.h"
#include "tta/tensor.h"

typedef tta_name_list name_list;

void tta_name_list_free(name_list *l) {
    for (size_t i = 0; i < l->n; i++)
        tta_free(l->v[i]);
    tta_free(l->v);
    memset(l, 0, sizeof *l);
}

static int names_push(name_list *l, const char *s) {
    if (l->n == l->cap) {
        size_t ncap = l->cap ? l->cap * 2 : 16;
        char **nv = tta_realloc(l->v, ncap * sizeof *nv);
        if (!nv) return -1;
        l->v = nv;
        l->cap = ncap;
    }
    if (!(l->v[l->n] = tta_strdup(s))) return -1;
    l->n++;
    return 0;
}

static int cmp_str(const void *a, const void *b) {
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static int is_image_name(const char *name) {
    const char *dot = strrchr(name, '.');
    if (!dot || dot == name) return 0;
    return strcasecmp(dot, ".png") == 0 || strcasecmp(dot, ".jpg") == 0 || strcasecmp(dot, ".jpeg") == 0;
}

tta_status tta_data_list_dir(const char *dir, int want_dirs, name_list *out) {
    memset(out, 0, sizeof *out);
    DIR *d = opendir(dir);
    if (!d) return tta_errorf(TTA_ERR_IO, "%s: cannot open folder: %s", dir, strerror(errno));
    tta_status st = TTA_OK;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.') continue;
        if (!want_dirs && !is_image_name(e->d_name)) continue;
        char *full = tta_data_join(dir, e->d_name);
        if (!full) {
            st = tta_errorf(TTA_ERR_NOMEM, "%s: out of memory listing the folder", dir);
            break;
        }
        int keep = want_dirs ? tta_data_is_dir(full) : tta_data_is_file(full);
        tta_free(full);
        if (keep && names_push(out, e->d_name) != 0) {
            st = tta_errorf(TTA_ERR_NOMEM, "%s: out of memory listing the folder", dir);
            break;
        }
    }
    closedir(d);
    if (st != TTA_OK) {
        tta_name_list_free(out);
        return st;
    }
    if (out->n > 1) qsort(out->v, out->n, sizeof *out->v, cmp_str);
    return TTA_OK;
}

tta_status tta_dataset_open_folder(tta_dataset **out, const char *dir) {
    if (!out || !dir || !dir[0]) return tta_errorf(TTA_ERR_INVALID_ARG, "tta_dataset_open_folder: no folder");
    *out = NULL;
    if (!tta_data_is_dir(dir)) {
        if (tta_data_is_file(dir))
            return tta_errorf(TTA_ERR_IO, "%s: is a file, not a folder of class subfolders", dir);
        return tta_errorf(TTA_ERR_IO, "%s: no such folder", dir);
    }
    name_list classes;
    TTA_TRY(tta_data_list_dir(dir, 1, &classes));
    if (classes.n == 0) {
        tta_name_list_free(&classes);
        return tta_errorf(TTA_ERR_PARSE, "%s: no class subfolders (expected %s/CLASS/IMAGE.png)", dir, dir);
    }
    if (classes.n > 1000000) {
        tta_name_list_free(&classes);
        return tta_errorf(TTA_ERR_PARSE, "%s: too many class subfolders", dir);
    }
    tta_dataset *ds = NULL;
    tta_status st = tta_data_new(&ds, dir);
    if (st == TTA_OK) st = tta_data_set_class_names(ds, (const char *const *)classes.v, (int)classes.n);
    size_t cap = 0;
    for (size_t k = 0; k < classes.n && st == TTA_OK; k++) {
        char *sub = tta_data_join(dir, classes.v[k]);
        if (!sub) {
            st = tta_errorf(TTA_ERR_NOMEM, "%s: out of memory", dir);
            break;
        }
        name_list files;
        st = tta_data_list_dir(sub, 0, &files);
        for (size_t j = 0; j < files.n && st == TTA_OK; j++) {
            if ((size_t)ds->count == cap) {
                size_t ncap = cap ? cap * 2 : 64;
                char **np = tta_realloc(ds->paths, ncap * sizeof *np);
                int *nl = np ? tta_realloc(ds->labels, ncap * sizeof *nl) : NULL;
                if (np) ds->paths = np;
                if (nl) ds->labels = nl;
                if (!np || !nl) {
                    st = tta_errorf(TTA_ERR_NOMEM, "%s: out of memory listing images", dir);
                    break;
                }
                cap = ncap;
            }
            char *path = tta_data_join(sub, files.v[j]);
            if (!path) {
                st = tta_errorf(TTA_ERR_NOMEM, "%s: out of memory listing images", dir);
                break;
            }
            ds->paths[ds->count] = path;
            ds->labels[ds->count] = (int)k;
            ds->count++;
        }
        tta_name_list_free(&files);
        tta_free(sub);
    }
    tta_name_list_free(&classes);
    if (st == TTA_OK && ds->count == 0)
        st = tta_errorf(TTA_ERR_PARSE, "%s: no .png, .jpg or .jpeg files in its %d class subfolders", dir,
                        ds->num_classes);
    if (st != TTA_OK) {
        tta_dataset_free(ds);
        return st;
    }
    *out = ds;
    return TTA_OK;
}
