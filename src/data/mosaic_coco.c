/* mosaic_coco.c - writes a mosaic data set to disk (mosaic.h): the canvases and class masks as
 * PNG, and the boxes as a COCO annotations.json. The JSON holds nothing that varies between
 * runs (no dates, no paths), so the same seed gives the same files byte for byte. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "core/error.h"
#include "core/file_out.h"
#include "tta/mosaic.h"

/* mkdir -p */
static tta_status make_dirs(const char *dir) {
    char path[4096];
    size_t n = strlen(dir);
    if (n == 0 || n >= sizeof path) return tta_errorf(TTA_ERR_INVALID_ARG, "bad output directory '%s'", dir);
    memcpy(path, dir, n + 1);
    for (size_t i = 1; i <= n; i++) {
        if (path[i] != '/' && path[i] != '\0') continue;
        char c = path[i];
        path[i] = '\0';
        struct stat st;
        if (mkdir(path, 0755) != 0 && !(errno == EEXIST && stat(path, &st) == 0 && S_ISDIR(st.st_mode)))
            return tta_errorf(TTA_ERR_IO, "%s: cannot create directory (%s)", path, strerror(errno));
        path[i] = c;
    }
    return TTA_OK;
}

/* Writes a JSON string literal (the class names need no more than quote and backslash escapes). */
static void json_string(FILE *f, const char *s) {
    fputc('"', f);
    for (; *s; s++) {
        if (*s == '"' || *s == '\\') fputc('\\', f);
        fputc(*s, f);
    }
    fputc('"', f);
}

static void write_header(FILE *f, const tta_mosaic_source *src, const tta_mosaic_options *opt, uint64_t seed,
                         int count) {
    fprintf(f,
            "{\n\"info\": {\"description\": \"Fashion-MNIST mosaics\", \"generator\": \"tta data mosaic\", "
            "\"version\": 1, \"split\": ");
    json_string(f, src->split);
    fprintf(f,
            ", \"seed\": %llu, \"count\": %d, \"size\": %d, \"min_items\": %d, \"max_items\": %d, "
            "\"min_scale\": %g, \"max_scale\": %g, \"threshold\": %d, \"noise\": %d, \"max_overlap\": %g, "
            "\"mask\": \"masks/<file_name>: category_id per pixel, 0 = background\", "
            "\"bbox\": \"[x, y, w, h] in pixels; pixel column j spans [j, j+1]\"},\n",
            (unsigned long long)seed, count, opt->size, opt->min_items, opt->max_items, opt->min_scale,
            opt->max_scale, opt->threshold, opt->noise, opt->max_overlap);
    fprintf(f, "\"categories\": [");
    for (int c = 0; c < TTA_MOSAIC_NUM_CLASSES; c++) {
        fprintf(f, "%s\n  {\"id\": %d, \"name\": ", c ? "," : "", c + 1);
        json_string(f, tta_mosaic_class_names[c]);
        fprintf(f, ", \"supercategory\": \"fashion\"}");
    }
    fprintf(f, "\n],\n\"annotations\": [");
}

tta_status tta_mosaic_write_dataset(const tta_mosaic_source *src, const tta_mosaic_options *opt,
                                    uint64_t seed, int count, const char *dir,
                                    tta_mosaic_progress_fn progress, void *user) {
    if (!src || !dir) return tta_errorf(TTA_ERR_INVALID_ARG, "tta_mosaic_write_dataset: NULL argument");
    TTA_TRY(tta_mosaic_options_check(opt));
    if (count < 1 || count > 1000000)
        return tta_errorf(TTA_ERR_INVALID_ARG, "mosaic count %d is outside 1..1000000", count);
    char path[4200];
    snprintf(path, sizeof path, "%s/images", dir);
    TTA_TRY(make_dirs(path));
    snprintf(path, sizeof path, "%s/masks", dir);
    TTA_TRY(make_dirs(path));
    snprintf(path, sizeof path, "%s/annotations.json", dir);
    tta_file_out out; /* annotations.json appears whole, after every image, or not at all */
    TTA_TRY(tta_file_out_open(&out, path, "w"));
    FILE *f = out.f;
    write_header(f, src, opt, seed, count);

    tta_mosaic m = {0};
    tta_status st = TTA_OK;
    long ann_id = 0;
    for (int i = 0; i < count && st == TTA_OK; i++) {
        st = tta_mosaic_generate(&m, src, opt, seed, (uint64_t)i);
        if (st != TTA_OK) break;
        char png[4300];
        snprintf(png, sizeof png, "%s/images/%06d.png", dir, i);
        st = tta_image_write_png(&m.image, png);
        if (st != TTA_OK) break;
        snprintf(png, sizeof png, "%s/masks/%06d.png", dir, i);
        st = tta_image_write_png(&m.mask, png);
        if (st != TTA_OK) break;
        for (int k = 0; k < m.count; k++) {
            const tta_mosaic_item *it = &m.items[k];
            fprintf(f,
                    "%s\n  {\"id\": %ld, \"image_id\": %d, \"category_id\": %d, \"bbox\": [%d, %d, %d, %d], "
                    "\"area\": %d, \"iscrowd\": 0, \"source_index\": %d}",
                    ann_id ? "," : "", ann_id + 1, i, it->label + 1, it->bbox[0], it->bbox[1], it->bbox[2],
                    it->bbox[3], it->area, it->source_index);
            ann_id++;
        }
        if (progress) progress(user, i + 1, count);
    }
    tta_mosaic_destroy(&m);
    if (st == TTA_OK) {
        fprintf(f, "\n],\n\"images\": [");
        for (int i = 0; i < count; i++)
            fprintf(f, "%s\n  {\"id\": %d, \"file_name\": \"%06d.png\", \"width\": %d, \"height\": %d}",
                    i ? "," : "", i, i, opt->size, opt->size);
        fprintf(f, "\n]\n}\n");
    }
    int bad = ferror(f);
    tta_status fin = tta_file_out_finish(&out, st == TTA_OK && !bad);
    if (st == TTA_OK && bad) st = tta_errorf(TTA_ERR_IO, "%s: write failed", path);
    return st ? st : fin;
}
