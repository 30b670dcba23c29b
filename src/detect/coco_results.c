/* coco_results.c - COCO results files (detect.h): the JSON array of detections that
 * pycocotools' loadRes reads, written and read back.
 *
 * Writing goes through stdio, not a jansson tree: a run over val2017 gives ~500k detections,
 * and each number is printed with the fewest digits that read back as the same float (or
 * double), which jansson's fixed precision cannot do. The file is written to a temporary name
 * in the same folder and renamed, so readers never see half a file and an error leaves none.
 * Reading uses jansson (through coco_data.c's loader, for FILE:LINE:COLUMN messages). */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <math.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/alloc.h"
#include "core/error.h"
#include "tta/detect.h"
#include "tta/tensor.h"

/* defined in coco_data.c */
tta_status tta_coco_json_load(const char *path, json_t **out);
tta_status tta_coco_json_field_error(tta_status st, const char *path, const char *array, size_t i,
                                     const char *field, const json_t *v, const char *expected);
int tta_coco_json_int64(const json_t *v, int64_t *out);
int tta_coco_json_bbox(const json_t *v, double bbox[4]);

/* ---- writing ------------------------------------------------------------------------------- */

/* Writes v (finite) into buf with the fewest significant digits that parse back to the same
 * float when v is a float, else to the same double. Rounding to more digits only gets closer,
 * so a binary search over the digit count finds the shortest. */
static void format_number(char *buf, size_t size, double v) {
    if (v == 0) {
        snprintf(buf, size, "0");
        return;
    }
    if (fabs(v) < 1e15 && v == (double)(long long)v) {
        snprintf(buf, size, "%lld", (long long)v);
        return;
    }
    int is_float = fabs(v) <= 3.4e38 && (double)(float)v == v;
    int lo = 1, hi = is_float ? 9 : 17;
    while (lo < hi) {
        int mid = (lo + hi) / 2;
        snprintf(buf, size, "%.*g", mid, v);
        int same = is_float ? strtof(buf, NULL) == (float)v : strtod(buf, NULL) == v;
        if (same)
            hi = mid;
        else
            lo = mid + 1;
    }
    snprintf(buf, size, "%.*g", lo, v);
}

static tta_status check_det(const tta_coco_det *d, int i) {
    for (int k = 0; k < 4; k++)
        if (!isfinite(d->bbox[k]))
            return tta_errorf(TTA_ERR_INVALID_ARG, "detection %d: bbox[%d] is not finite", i, k);
    if (d->bbox[2] < 0 || d->bbox[3] < 0)
        return tta_errorf(TTA_ERR_INVALID_ARG, "detection %d: negative size %gx%g", i, d->bbox[2],
                          d->bbox[3]);
    if (!isfinite(d->score)) return tta_errorf(TTA_ERR_INVALID_ARG, "detection %d: score is not finite", i);
    if (d->support < 0)
        return tta_errorf(TTA_ERR_INVALID_ARG, "detection %d: negative support %d", i, d->support);
    return TTA_OK;
}

static void write_det(FILE *f, const tta_coco_det *d, int first) {
    char num[5][40];
    for (int k = 0; k < 4; k++)
        format_number(num[k], sizeof num[k], d->bbox[k]);
    format_number(num[4], sizeof num[4], d->score);
    fprintf(f, "%s\n{\"image_id\": %lld, \"category_id\": %lld, \"bbox\": [%s, %s, %s, %s], \"score\": %s",
            first ? "" : ",", (long long)d->image_id, (long long)d->category_id, num[0], num[1], num[2],
            num[3], num[4]);
    if (d->support) fprintf(f, ", \"support\": %d", d->support);
    fputc('}', f);
}

/* Creates PATH.tmp.XXXXXX exclusively (mode 0666 less the umask, as a plain fopen would give). */
static tta_status create_temp(const char *path, char *tmp, size_t size, FILE **out) {
    static atomic_uint counter;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    for (int attempt = 0; attempt < 100; attempt++) {
        unsigned x = (unsigned)getpid() * 2654435761u ^ (unsigned)ts.tv_nsec ^
                     (atomic_fetch_add(&counter, 1) + 1) * 40503u;
        snprintf(tmp, size, "%s.tmp.%06x", path, x & 0xffffff);
        int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
        if (fd < 0 && errno == EEXIST) continue;
        if (fd < 0) return tta_errorf(TTA_ERR_IO, "%s: cannot create %s: %s", path, tmp, strerror(errno));
        *out = fdopen(fd, "w");
        if (!*out) {
            int e = errno;
            close(fd);
            unlink(tmp);
            return tta_errorf(TTA_ERR_IO, "%s: cannot open %s: %s", path, tmp, strerror(e));
        }
        return TTA_OK;
    }
    return tta_errorf(TTA_ERR_IO, "%s: cannot find a free temporary name", path);
}

tta_status tta_coco_results_write(const char *path, const tta_coco_det *dets, int n) {
    if (!path || n < 0 || (n > 0 && !dets))
        return tta_errorf(TTA_ERR_INVALID_ARG, "tta_coco_results_write: bad arguments");
    for (int i = 0; i < n; i++) {
        tta_status bad = check_det(&dets[i], i);
        if (bad != TTA_OK) return tta_error_context(bad, "%s", path); /* before creating any file */
    }
    size_t size = strlen(path) + 32;
    char *tmp = tta_malloc(size);
    if (!tmp) return tta_errorf(TTA_ERR_NOMEM, "out of memory");
    FILE *f = NULL;
    tta_status st = create_temp(path, tmp, size, &f);
    if (st != TTA_OK) {
        tta_free(tmp);
        return st;
    }
    fputc('[', f);
    for (int i = 0; i < n; i++)
        write_det(f, &dets[i], i == 0);
    fputs(n ? "\n]\n" : "]\n", f);
    int bad = ferror(f) != 0;
    int e = errno;
    if (fclose(f) != 0 && !bad) {
        bad = 1;
        e = errno;
    }
    if (bad)
        st = tta_errorf(TTA_ERR_IO, "%s: write failed: %s", tmp, strerror(e));
    else if (rename(tmp, path) != 0)
        st = tta_errorf(TTA_ERR_IO, "%s: cannot rename %s to it: %s", path, tmp, strerror(errno));
    if (st != TTA_OK) unlink(tmp);
    tta_free(tmp);
    return st;
}

/* ---- reading ------------------------------------------------------------------------------- */

static tta_status parse_det(const char *path, size_t i, const json_t *o, tta_coco_det *d) {
    if (!json_is_object(o)) return tta_errorf(TTA_ERR_PARSE, "%s: [%zu]: expected an object", path, i);
    const json_t *v = json_object_get(o, "image_id");
    if (!tta_coco_json_int64(v, &d->image_id))
        return tta_coco_json_field_error(TTA_ERR_PARSE, path, "", i, "image_id", v, "an integer");
    v = json_object_get(o, "category_id");
    if (!tta_coco_json_int64(v, &d->category_id))
        return tta_coco_json_field_error(TTA_ERR_PARSE, path, "", i, "category_id", v, "an integer");
    v = json_object_get(o, "bbox");
    if (!tta_coco_json_bbox(v, d->bbox))
        return tta_coco_json_field_error(TTA_ERR_PARSE, path, "", i, "bbox", v, "an array of 4 numbers");
    v = json_object_get(o, "score");
    if (!json_is_number(v))
        return tta_coco_json_field_error(TTA_ERR_PARSE, path, "", i, "score", v, "a number");
    d->score = json_number_value(v);
    v = json_object_get(o, "support");
    int64_t support = 0;
    if (v && !tta_coco_json_int64(v, &support))
        return tta_coco_json_field_error(TTA_ERR_PARSE, path, "", i, "support", v, "an integer");
    if (support < 0 || support > 1000000000)
        return tta_errorf(TTA_ERR_INVALID_ARG, "%s: [%zu].support: %lld is not a count", path, i,
                          (long long)support);
    d->support = (int)support;
    /* jansson yields no NaN or infinity; the checks guard against a future parser all the same */
    if (!isfinite(d->score)) return tta_errorf(TTA_ERR_INVALID_ARG, "%s: [%zu].score: not finite", path, i);
    if (!isfinite(d->bbox[0]) || !isfinite(d->bbox[1]) || !(d->bbox[2] >= 0) || !(d->bbox[3] >= 0) ||
        !isfinite(d->bbox[2]) || !isfinite(d->bbox[3]))
        return tta_errorf(TTA_ERR_INVALID_ARG,
                          "%s: [%zu].bbox: [%g, %g, %g, %g] has a negative or non-finite size", path, i,
                          d->bbox[0], d->bbox[1], d->bbox[2], d->bbox[3]);
    return TTA_OK;
}

tta_status tta_coco_results_read(const char *path, tta_coco_det **dets, int *n) {
    if (!path || !dets || !n) return tta_errorf(TTA_ERR_INVALID_ARG, "tta_coco_results_read: NULL argument");
    *dets = NULL;
    *n = 0;
    json_t *root = NULL;
    TTA_TRY(tta_coco_json_load(path, &root));
    tta_status st = TTA_OK;
    size_t count = json_array_size(root);
    if (!json_is_array(root))
        st = tta_errorf(TTA_ERR_PARSE, "%s: expected a JSON array of detections", path);
    else if (count > INT32_MAX)
        st = tta_errorf(TTA_ERR_INVALID_ARG, "%s: more than %d detections", path, (int)INT32_MAX);
    tta_coco_det *out = NULL;
    if (st == TTA_OK && count > 0) {
        out = tta_calloc(count, sizeof *out);
        if (!out) st = tta_errorf(TTA_ERR_NOMEM, "%s: out of memory for %zu detections", path, count);
    }
    for (size_t i = 0; st == TTA_OK && i < count; i++)
        st = parse_det(path, i, json_array_get(root, i), &out[i]);
    json_decref(root);
    if (st != TTA_OK) {
        tta_free(out);
        return st;
    }
    *dets = out;
    *n = (int)count;
    return TTA_OK;
}
