/* coco_data.c - COCO annotation files and "coco:" data specs (detect.h): parsing the JSON with
 * jansson, checking every field with messages that name the file, array, index and field,
 * grouping the annotations by image, slicing, decoding the images, and id -> index lookups.
 *
 * Ids are looked up through a table sorted once per load (binary search), so a 25 MB
 * val2017 file costs O(n log n); nothing here compares all pairs. The JSON helpers at the top
 * are shared with coco_results.c (declared there). */
#include <errno.h>
#include <jansson.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/error.h"
#include "data/dataset_internal.h"
#include "data/range.h"
#include "tta/detect.h"
#include "tta/tensor.h"

/* ---- JSON helpers (also used by coco_results.c) ------------------------------------------- */

tta_status tta_coco_json_load(const char *path, json_t **out);
tta_status tta_coco_json_field_error(tta_status st, const char *path, const char *array, size_t i,
                                     const char *field, const json_t *v, const char *expected);
int tta_coco_json_int64(const json_t *v, int64_t *out);
int tta_coco_json_bbox(const json_t *v, double bbox[4]);

/* Reads the whole file and parses it (duplicate keys rejected). The file is read into memory
 * first: jansson's stream reader goes a byte at a time, several times slower on large files. */
tta_status tta_coco_json_load(const char *path, json_t **out) {
    *out = NULL;
    if (tta_data_is_dir(path)) return tta_errorf(TTA_ERR_IO, "%s: is a folder, not a file", path);
    FILE *f = fopen(path, "rb");
    if (!f) return tta_errorf(TTA_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
    size_t cap = 1 << 16, n = 0;
    char *buf = tta_malloc(cap);
    tta_status st = buf ? TTA_OK : tta_errorf(TTA_ERR_NOMEM, "%s: out of memory reading the file", path);
    while (st == TTA_OK) {
        if (n == cap) {
            char *nb = cap < SIZE_MAX / 2 ? tta_realloc(buf, cap * 2) : NULL;
            if (!nb) {
                st = tta_errorf(TTA_ERR_NOMEM, "%s: out of memory reading the file", path);
                break;
            }
            buf = nb;
            cap *= 2;
        }
        size_t got = fread(buf + n, 1, cap - n, f);
        n += got;
        if (got == 0) {
            if (ferror(f)) st = tta_errorf(TTA_ERR_IO, "%s: read error", path);
            break;
        }
    }
    fclose(f);
    if (st == TTA_OK) {
        json_error_t e;
        *out = json_loadb(buf, n, JSON_REJECT_DUPLICATES, &e);
        if (!*out)
            st = json_error_code(&e) == json_error_out_of_memory
                     ? tta_errorf(TTA_ERR_NOMEM, "%s: out of memory parsing the JSON", path)
                     : tta_errorf(TTA_ERR_PARSE, "%s:%d:%d: %s", path, e.line, e.column, e.text);
    }
    tta_free(buf);
    return st;
}

/* "FILE: images[3].width: missing (expected an integer)" or "...: expected an integer"; an
 * empty `array` names an element of the top-level array: "FILE: [3].score: ...". */
tta_status tta_coco_json_field_error(tta_status st, const char *path, const char *array, size_t i,
                                     const char *field, const json_t *v, const char *expected) {
    return tta_errorf(st, "%s: %s[%zu].%s: %s%s%s", path, array, i, field,
                      v ? "expected " : "missing (expected ", expected, v ? "" : ")");
}

/* A JSON integer, or a real with an integral value in range (some writers print ids as 1.0). */
int tta_coco_json_int64(const json_t *v, int64_t *out) {
    if (json_is_integer(v)) {
        *out = (int64_t)json_integer_value(v);
        return 1;
    }
    if (json_is_real(v)) {
        double d = json_real_value(v);
        if (!(d == floor(d) && d >= -9.2e18 && d <= 9.2e18)) return 0;
        *out = (int64_t)d;
        return 1;
    }
    return 0;
}

/* An array of exactly 4 numbers. */
int tta_coco_json_bbox(const json_t *v, double bbox[4]) {
    if (!json_is_array(v) || json_array_size(v) != 4) return 0;
    for (size_t k = 0; k < 4; k++) {
        const json_t *x = json_array_get(v, k);
        if (!json_is_number(x)) return 0;
        bbox[k] = json_number_value(x);
    }
    return 1;
}

/* ---- the lookup table ----------------------------------------------------------------------- */

typedef struct id_pos {
    int64_t id;
    int pos;
} id_pos;

/* Images' and categories' ids sorted, with their positions: c->index. */
typedef struct coco_index {
    int n_images, n_categories;
    id_pos *images, *categories;
    id_pos entries[];
} coco_index;

static int cmp_id_pos(const void *a, const void *b) {
    const id_pos *x = a, *y = b;
    if (x->id != y->id) return x->id < y->id ? -1 : 1;
    return (x->pos > y->pos) - (x->pos < y->pos);
}

/* Among equal ids in a sorted table, the duplicate that comes first in the file: its position
 * in *later and the first occurrence's in *earlier. Returns 0 when all ids differ. */
static int find_duplicate(const id_pos *t, int n, int *earlier, int *later) {
    int found = 0;
    for (int k = 1; k < n; k++) {
        if (t[k].id != t[k - 1].id) continue;
        /* t[k - 1] is the earliest of its run only at the run's start; keep the run's first */
        int first = k - 1;
        while (first > 0 && t[first - 1].id == t[k].id)
            first--;
        if (!found || t[k].pos < *later) {
            *earlier = t[first].pos;
            *later = t[k].pos;
            found = 1;
        }
    }
    return found;
}

static int search(const id_pos *t, int n, int64_t id) {
    int lo = 0, hi = n;
    while (lo < hi) {
        int mid = lo + (hi - lo) / 2;
        if (t[mid].id < id)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < n && t[lo].id == id ? t[lo].pos : -1;
}

/* A table of images[begin, end) (positions relative to begin) and all categories. */
static tta_status build_index(const tta_coco *c, int begin, int end, coco_index **out) {
    int ni = end - begin, nc = c->n_categories;
    coco_index *x = tta_malloc(sizeof *x + ((size_t)ni + (size_t)nc) * sizeof(id_pos));
    if (!x)
        return tta_errorf(TTA_ERR_NOMEM, "%s: out of memory for the id table", c->name ? c->name : "coco");
    x->n_images = ni;
    x->n_categories = nc;
    x->images = x->entries;
    x->categories = x->entries + ni;
    for (int i = 0; i < ni; i++)
        x->images[i] = (id_pos){c->images[begin + i].id, i};
    for (int k = 0; k < nc; k++)
        x->categories[k] = (id_pos){c->categories[k].id, k};
    qsort(x->images, (size_t)ni, sizeof(id_pos), cmp_id_pos);
    qsort(x->categories, (size_t)nc, sizeof(id_pos), cmp_id_pos);
    *out = x;
    return TTA_OK;
}

/* The table when it matches the struct (a hand-made or edited struct may have none). */
static const coco_index *index_of(const tta_coco *c) {
    const coco_index *x = c->index;
    return x && x->n_images == c->n_images && x->n_categories == c->n_categories ? x : NULL;
}

int tta_coco_image_index(const tta_coco *c, int64_t image_id) {
    if (!c) return -1;
    const coco_index *x = index_of(c);
    if (x) return search(x->images, x->n_images, image_id);
    for (int i = 0; i < c->n_images; i++)
        if (c->images[i].id == image_id) return i;
    return -1;
}

int tta_coco_category_index(const tta_coco *c, int64_t category_id) {
    if (!c) return -1;
    const coco_index *x = index_of(c);
    if (x) return search(x->categories, x->n_categories, category_id);
    for (int k = 0; k < c->n_categories; k++)
        if (c->categories[k].id == category_id) return k;
    return -1;
}

/* ---- parsing ------------------------------------------------------------------------------ */

/* The loader's state for messages. */
typedef struct parser {
    const char *path;
    const char *array; /* "images", "categories", "annotations" */
    size_t i;          /* element index */
} parser;

static tta_status bad(const parser *p, const char *field, const json_t *v, const char *expected) {
    return tta_coco_json_field_error(TTA_ERR_PARSE, p->path, p->array, p->i, field, v, expected);
}

static tta_status get_id(const parser *p, const json_t *obj, const char *field, int64_t *out) {
    const json_t *v = json_object_get(obj, field);
    if (!tta_coco_json_int64(v, out)) return bad(p, field, v, "an integer");
    return TTA_OK;
}

/* An optional size field (0 when absent). */
static tta_status get_size(const parser *p, const json_t *obj, const char *field, int *out) {
    const json_t *v = json_object_get(obj, field);
    int64_t x = 0;
    if (v && !tta_coco_json_int64(v, &x)) return bad(p, field, v, "an integer");
    if (x < 0 || x > INT_MAX)
        return tta_errorf(TTA_ERR_INVALID_ARG, "%s: %s[%zu].%s: %lld is not a size in 0..%d", p->path,
                          p->array, p->i, field, (long long)x, INT_MAX);
    *out = (int)x;
    return TTA_OK;
}

static tta_status get_string(const parser *p, const json_t *obj, const char *field, char **out) {
    const json_t *v = json_object_get(obj, field);
    if (!json_is_string(v)) return bad(p, field, v, "a string");
    *out = tta_strdup(json_string_value(v));
    if (!*out) return tta_errorf(TTA_ERR_NOMEM, "%s: out of memory", p->path);
    return TTA_OK;
}

/* The top-level array `name`; *n its length. */
static tta_status get_array(const char *path, const json_t *root, const char *name, const json_t **arr,
                            int *n) {
    const json_t *v = json_object_get(root, name);
    if (!v) return tta_errorf(TTA_ERR_PARSE, "%s: %s: missing (expected an array)", path, name);
    if (!json_is_array(v)) return tta_errorf(TTA_ERR_PARSE, "%s: %s: expected an array", path, name);
    if (json_array_size(v) > INT_MAX - 1)
        return tta_errorf(TTA_ERR_INVALID_ARG, "%s: %s: more than %d entries", path, name, INT_MAX - 1);
    *arr = v;
    *n = (int)json_array_size(v);
    return TTA_OK;
}

static tta_status element(parser *p, const json_t *arr, size_t i, const json_t **obj) {
    p->i = i;
    *obj = json_array_get(arr, i);
    if (!json_is_object(*obj))
        return tta_errorf(TTA_ERR_PARSE, "%s: %s[%zu]: expected an object", p->path, p->array, i);
    return TTA_OK;
}

static tta_status parse_images(tta_coco *c, const char *path, const json_t *root) {
    const json_t *arr;
    int n;
    TTA_TRY(get_array(path, root, "images", &arr, &n));
    c->images = tta_calloc(n ? (size_t)n : 1, sizeof *c->images);
    if (!c->images) return tta_errorf(TTA_ERR_NOMEM, "%s: out of memory for %d images", path, n);
    c->n_images = n; /* file_names are NULL until set: destroy copes */
    parser p = {path, "images", 0};
    for (int i = 0; i < n; i++) {
        const json_t *o;
        tta_coco_image *im = &c->images[i];
        TTA_TRY(element(&p, arr, (size_t)i, &o));
        TTA_TRY(get_id(&p, o, "id", &im->id));
        TTA_TRY(get_string(&p, o, "file_name", &im->file_name));
        TTA_TRY(get_size(&p, o, "width", &im->width));
        TTA_TRY(get_size(&p, o, "height", &im->height));
    }
    return TTA_OK;
}

static tta_status parse_categories(tta_coco *c, const char *path, const json_t *root) {
    const json_t *arr;
    int n;
    TTA_TRY(get_array(path, root, "categories", &arr, &n));
    c->categories = tta_calloc(n ? (size_t)n : 1, sizeof *c->categories);
    if (!c->categories) return tta_errorf(TTA_ERR_NOMEM, "%s: out of memory for %d categories", path, n);
    c->n_categories = n;
    parser p = {path, "categories", 0};
    for (int k = 0; k < n; k++) {
        const json_t *o;
        TTA_TRY(element(&p, arr, (size_t)k, &o));
        TTA_TRY(get_id(&p, o, "id", &c->categories[k].id));
        TTA_TRY(get_string(&p, o, "name", &c->categories[k].name));
    }
    return TTA_OK;
}

static tta_status parse_ann(const parser *p, const json_t *o, tta_coco_ann *a) {
    TTA_TRY(get_id(p, o, "id", &a->id));
    TTA_TRY(get_id(p, o, "image_id", &a->image_id));
    TTA_TRY(get_id(p, o, "category_id", &a->category_id));
    const json_t *v = json_object_get(o, "bbox");
    if (!tta_coco_json_bbox(v, a->bbox)) return bad(p, "bbox", v, "an array of 4 numbers");
    /* jansson never yields NaN or infinities; the test guards hand-built callers all the same */
    if (!isfinite(a->bbox[0]) || !isfinite(a->bbox[1]) || !(a->bbox[2] >= 0) || !(a->bbox[3] >= 0) ||
        !isfinite(a->bbox[2]) || !isfinite(a->bbox[3]))
        return tta_errorf(TTA_ERR_INVALID_ARG,
                          "%s: %s[%zu].bbox: [%g, %g, %g, %g] has a negative or non-finite size", p->path,
                          p->array, p->i, a->bbox[0], a->bbox[1], a->bbox[2], a->bbox[3]);
    v = json_object_get(o, "area");
    if (!v)
        a->area = a->bbox[2] * a->bbox[3];
    else if (!json_is_number(v))
        return bad(p, "area", v, "a number");
    else if (!((a->area = json_number_value(v)) >= 0))
        return tta_errorf(TTA_ERR_INVALID_ARG, "%s: %s[%zu].area: %g is negative", p->path, p->array, p->i,
                          a->area);
    v = json_object_get(o, "iscrowd");
    int64_t crowd = 0;
    if (json_is_boolean(v))
        crowd = json_is_true(v);
    else if (v && (!tta_coco_json_int64(v, &crowd) || (crowd != 0 && crowd != 1)))
        return bad(p, "iscrowd", v, "0 or 1");
    a->iscrowd = (int)crowd;
    return TTA_OK;
}

static tta_status check_unique(const char *path, const char *array, id_pos *t, int n) {
    qsort(t, (size_t)n, sizeof *t, cmp_id_pos);
    int earlier, later;
    if (find_duplicate(t, n, &earlier, &later)) {
        int64_t id = 0;
        for (int k = 0; k < n; k++)
            if (t[k].pos == later) id = t[k].id;
        return tta_errorf(TTA_ERR_INVALID_ARG, "%s: %s[%d]: duplicate id %lld (also %s[%d])", path, array,
                          later, (long long)id, array, earlier);
    }
    return TTA_OK;
}

/* Parses the annotations in file order, checks their ids and references, and stores them
 * grouped by image (a stable counting sort, so the file order is kept within an image). */
static tta_status parse_annotations(tta_coco *c, const char *path, const json_t *root) {
    const json_t *arr;
    int n;
    TTA_TRY(get_array(path, root, "annotations", &arr, &n));
    size_t m = n ? (size_t)n : 1;
    tta_coco_ann *tmp = tta_malloc(m * sizeof *tmp);
    int *img = tta_malloc(m * sizeof *img);
    id_pos *ids = tta_malloc(m * sizeof *ids);
    c->ann_first = tta_calloc((size_t)c->n_images + 1, sizeof *c->ann_first);
    c->anns = tta_malloc(m * sizeof *c->anns);
    tta_status st = TTA_OK;
    if (!tmp || !img || !ids || !c->ann_first || !c->anns)
        st = tta_errorf(TTA_ERR_NOMEM, "%s: out of memory for %d annotations", path, n);
    parser p = {path, "annotations", 0};
    const coco_index *x = c->index;
    for (int i = 0; i < n && st == TTA_OK; i++) {
        const json_t *o;
        st = element(&p, arr, (size_t)i, &o);
        if (st == TTA_OK) st = parse_ann(&p, o, &tmp[i]);
        if (st != TTA_OK) break;
        ids[i] = (id_pos){tmp[i].id, i};
        img[i] = search(x->images, x->n_images, tmp[i].image_id);
        if (img[i] < 0)
            st = tta_errorf(TTA_ERR_INVALID_ARG, "%s: annotations[%d]: image_id %lld is not among the images",
                            path, i, (long long)tmp[i].image_id);
        else if (search(x->categories, x->n_categories, tmp[i].category_id) < 0)
            st = tta_errorf(TTA_ERR_INVALID_ARG,
                            "%s: annotations[%d]: category_id %lld is not among the categories", path, i,
                            (long long)tmp[i].category_id);
    }
    if (st == TTA_OK) st = check_unique(path, "annotations", ids, n);
    if (st == TTA_OK) {
        int *first = c->ann_first;
        for (int i = 0; i < n; i++)
            first[img[i] + 1]++;
        for (int i = 0; i < c->n_images; i++)
            first[i + 1] += first[i];
        /* place with a moving cursor per image */
        int *next = tta_malloc(((size_t)c->n_images + 1) * sizeof *next);
        if (!next)
            st = tta_errorf(TTA_ERR_NOMEM, "%s: out of memory for %d images", path, c->n_images);
        else {
            memcpy(next, first, (size_t)c->n_images * sizeof *next);
            for (int i = 0; i < n; i++)
                c->anns[next[img[i]]++] = tmp[i];
            c->n_anns = n;
        }
        tta_free(next);
    }
    tta_free(tmp);
    tta_free(img);
    tta_free(ids);
    return st;
}

/* The folder of `path` ("." when it has none). */
static char *folder_of(const char *path) {
    const char *slash = strrchr(path, '/');
    if (!slash) return tta_strdup(".");
    size_t n = slash == path ? 1 : (size_t)(slash - path);
    char *s = tta_malloc(n + 1);
    if (s) {
        memcpy(s, path, n);
        s[n] = '\0';
    }
    return s;
}

tta_status tta_coco_load(tta_coco *c, const char *annotations_json, const char *image_dir) {
    if (!c || !annotations_json) return tta_errorf(TTA_ERR_INVALID_ARG, "tta_coco_load: NULL argument");
    const char *path = annotations_json;
    c->name = tta_strdup(path);
    c->image_dir = image_dir ? tta_strdup(image_dir) : folder_of(path);
    if (!c->name || !c->image_dir) return tta_errorf(TTA_ERR_NOMEM, "out of memory");
    json_t *root = NULL;
    TTA_TRY(tta_coco_json_load(path, &root));
    tta_status st = TTA_OK;
    if (!json_is_object(root))
        st = tta_errorf(TTA_ERR_PARSE, "%s: expected a JSON object with images, categories and annotations",
                        path);
    if (st == TTA_OK) st = parse_images(c, path, root);
    if (st == TTA_OK) st = parse_categories(c, path, root);
    if (st == TTA_OK) {
        /* check the ids before the annotations refer to them */
        coco_index *x = NULL;
        st = build_index(c, 0, c->n_images, &x);
        c->index = x;
        int earlier, later;
        if (st == TTA_OK && find_duplicate(x->images, x->n_images, &earlier, &later))
            st = tta_errorf(TTA_ERR_INVALID_ARG, "%s: images[%d]: duplicate id %lld (also images[%d])", path,
                            later, (long long)c->images[later].id, earlier);
        if (st == TTA_OK && find_duplicate(x->categories, x->n_categories, &earlier, &later))
            st =
                tta_errorf(TTA_ERR_INVALID_ARG, "%s: categories[%d]: duplicate id %lld (also categories[%d])",
                           path, later, (long long)c->categories[later].id, earlier);
    }
    if (st == TTA_OK) st = parse_annotations(c, path, root);
    json_decref(root);
    return st;
}

void tta_coco_destroy(tta_coco *c) {
    if (!c) return;
    for (int i = 0; c->images && i < c->n_images; i++)
        tta_free(c->images[i].file_name);
    for (int k = 0; c->categories && k < c->n_categories; k++)
        tta_free(c->categories[k].name);
    tta_free(c->images);
    tta_free(c->categories);
    tta_free(c->anns);
    tta_free(c->ann_first);
    tta_free(c->index);
    tta_free(c->name);
    tta_free(c->image_dir);
    memset(c, 0, sizeof *c);
}

tta_status tta_coco_slice(tta_coco *c, int begin, int end) {
    if (!c) return tta_errorf(TTA_ERR_INVALID_ARG, "tta_coco_slice: NULL argument");
    if (begin < 0 || end < begin || end > c->n_images)
        return tta_errorf(TTA_ERR_INVALID_ARG, "%s: slice [%d, %d) is not within its %d images",
                          c->name ? c->name : "coco", begin, end, c->n_images);
    if (!c->ann_first)
        return tta_errorf(TTA_ERR_INVALID_ARG, "tta_coco_slice: the set has no annotation index");
    if (begin == 0 && end == c->n_images) return TTA_OK;
    coco_index *x = NULL;
    TTA_TRY(build_index(c, begin, end, &x)); /* the only step that can fail: before any change */
    for (int i = 0; i < c->n_images; i++)
        if (i < begin || i >= end) tta_free(c->images[i].file_name);
    memmove(c->images, c->images + begin, (size_t)(end - begin) * sizeof *c->images);
    int a0 = c->ann_first[begin], a1 = c->ann_first[end];
    memmove(c->anns, c->anns + a0, (size_t)(a1 - a0) * sizeof *c->anns);
    for (int i = begin; i <= end; i++)
        c->ann_first[i - begin] = c->ann_first[i] - a0;
    c->n_images = end - begin;
    c->n_anns = a1 - a0;
    tta_free(c->index);
    c->index = x;
    return TTA_OK;
}

tta_status tta_coco_read_image(const tta_coco *c, int i, tta_image *img) {
    if (!c || !img) return tta_errorf(TTA_ERR_INVALID_ARG, "tta_coco_read_image: NULL argument");
    if (i < 0 || i >= c->n_images)
        return tta_errorf(TTA_ERR_INVALID_ARG, "%s: image %d is out of range (%d images)",
                          c->name ? c->name : "coco", i, c->n_images);
    const tta_coco_image *im = &c->images[i];
    char *path = tta_data_join(c->image_dir, im->file_name);
    if (!path) return tta_errorf(TTA_ERR_NOMEM, "out of memory");
    tta_status st = tta_image_read(img, path);
    if (st == TTA_OK &&
        ((im->width > 0 && img->width != im->width) || (im->height > 0 && img->height != im->height)))
        st = tta_errorf(TTA_ERR_SHAPE, "%s: image is %dx%d (width x height), the annotations say %dx%d", path,
                        img->width, img->height, im->width, im->height);
    tta_free(path);
    return st;
}

/* ---- specs ---------------------------------------------------------------------------------- */

/* Opens the files a spec body (without "coco:" and the range) names. */
static tta_status open_files(tta_coco *c, const char *spec, char *body) {
    if (!*body)
        return tta_errorf(TTA_ERR_INVALID_ARG,
                          "data spec '%s': coco needs DIR or IMAGES_DIR,ANNOTATIONS.json after the colon",
                          spec);
    char *comma = strchr(body, ',');
    if (comma) {
        *comma = '\0';
        const char *images = body, *json = comma + 1;
        if (!*images || !*json || strchr(json, ','))
            return tta_errorf(TTA_ERR_INVALID_ARG, "data spec '%s': write coco:IMAGES_DIR,ANNOTATIONS.json",
                              spec);
        if (!tta_data_is_dir(images))
            return tta_errorf(TTA_ERR_IO, "%s: no such folder (images of %s)", images, spec);
        return tta_coco_load(c, json, images);
    }
    if (!tta_data_is_dir(body)) return tta_errorf(TTA_ERR_IO, "%s: no such folder (%s)", body, spec);
    char *images = tta_data_join(body, "images"), *json = tta_data_join(body, "annotations.json");
    tta_status st = images && json ? TTA_OK : tta_errorf(TTA_ERR_NOMEM, "out of memory");
    if (st == TTA_OK && !tta_data_is_dir(images))
        st = tta_errorf(TTA_ERR_IO, "%s: no such folder (%s expects DIR/images and DIR/annotations.json)",
                        images, spec);
    if (st == TTA_OK && !tta_data_is_file(json))
        st = tta_errorf(TTA_ERR_IO, "%s: no such file (%s expects DIR/images and DIR/annotations.json)", json,
                        spec);
    if (st == TTA_OK) st = tta_coco_load(c, json, images);
    tta_free(images);
    tta_free(json);
    return st;
}

tta_status tta_coco_open(tta_coco *c, const char *spec) {
    if (!c || !spec) return tta_errorf(TTA_ERR_INVALID_ARG, "tta_coco_open: NULL argument");
    if (strncmp(spec, "coco:", 5) != 0)
        return tta_errorf(
            TTA_ERR_INVALID_ARG,
            "data spec '%s' is not a COCO set: write coco:DIR or coco:IMAGES_DIR,ANNOTATIONS.json", spec);
    char *body = tta_strdup(spec + 5);
    if (!body) return tta_errorf(TTA_ERR_NOMEM, "out of memory");
    /* cut off the range suffix (a final [..]) and check it before reading anything */
    tta_range r;
    memset(&r, 0, sizeof r);
    tta_status st = TTA_OK;
    size_t n = strlen(body);
    if (n > 0 && body[n - 1] == ']') {
        char *lb = strrchr(body, '[');
        if (!lb)
            st = tta_errorf(TTA_ERR_INVALID_ARG, "data spec '%s': ']' without '['", spec);
        else {
            r.at = 5 + (size_t)(lb - body);
            st = tta_range_parse(spec + r.at, &r);
            *lb = '\0';
        }
    }
    if (st == TTA_OK) st = open_files(c, spec, body);
    tta_free(body);
    if (st == TTA_OK && r.present) {
        int64_t begin = 0, end = 0;
        char what[256];
        snprintf(what, sizeof what, "%.*s", (int)(r.at < 200 ? r.at : 200), spec);
        st = tta_range_resolve(&r, c->n_images, what, &begin, &end);
        if (st == TTA_OK) st = tta_coco_slice(c, (int)begin, (int)end);
    }
    if (st == TTA_OK) {
        char *name = tta_strdup(spec);
        if (!name) return tta_errorf(TTA_ERR_NOMEM, "out of memory");
        tta_free(c->name);
        c->name = name;
    }
    return st;
}
