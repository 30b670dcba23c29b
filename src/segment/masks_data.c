/* masks_data.c - image/mask data sets for segmentation (segment.h): "masks:DIR" (DIR/images and
 * DIR/masks, the layout `tta data mosaic` writes) or "masks:IMAGES_DIR,MASKS_DIR", with the
 * optional [a:b] range of every data spec (data/range.h, so the same ranges are accepted and
 * refused with the same messages as dataset.h's and the COCO specs).
 *
 * Images are the .png/.jpg/.jpeg files (any case; names starting with '.' skipped) of the
 * images folder, sorted by byte value, so item i is the same file on every machine. Each image
 * x.ext pairs with the mask masks/x.ext, or masks/x.png when that is missing (a JPEG image with
 * a PNG mask). Pairs are checked when the set is opened, but only for the images the range
 * keeps: a missing mask is an IO error naming the path where it was expected.
 *
 * Masks must be 8-bit one-channel (gray) PNGs: a JPEG would blur the labels at every edge, and a
 * palette, 1/2/4-bit or 16-bit PNG would be expanded or scaled by the decoder into other
 * numbers, so these are refused by a look at the PNG header before the file is decoded. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>


#include "core/alloc.h"
#include "core/error.h"
#include "data/dataset_internal.h"
#include "data/range.h"
#include "tta/segment.h"
#include "tta/tensor.h"

struct tta_mask_set {
    char *name; /* the spec, for messages */
    int count;
    char **images; /* count owned paths */
    char **masks;  /* count owned paths */
    char **names;  /* count owned file names (of the images) */
};

/* The image files of `dir`, sorted (as a folder data set lists them). */
static tta_status list_images(const char *dir, tta_name_list *out) {
    TTA_TRY(tta_data_list_dir(dir, 0, out));
    if (out->n > (size_t)1 << 30) {
        tta_name_list_free(out);
        return tta_errorf(TTA_ERR_INVALID_ARG, "%s: more than %d images", dir, 1 << 30);
    }
    return TTA_OK;
}

void tta_mask_set_free(tta_mask_set *ms) {
    if (!ms) return;
    for (int i = 0; i < ms->count; i++) {
        tta_free(ms->images[i]);
        tta_free(ms->masks[i]);
        tta_free(ms->names[i]);
    }
    tta_free(ms->images);
    tta_free(ms->masks);
    tta_free(ms->names);
    tta_free(ms->name);
    tta_free(ms);
}

int tta_mask_set_count(const tta_mask_set *ms) { return ms ? ms->count : 0; }

const char *tta_mask_set_name(const tta_mask_set *ms, int i) {
    return ms && i >= 0 && i < ms->count ? ms->names[i] : NULL;
}

/* The mask of image `name`: masks_dir/name, else masks_dir/STEM.png. */
static tta_status find_mask(const char *masks_dir, const char *images_dir, const char *name, char **out) {
    *out = NULL;
    char *path = tta_data_join(masks_dir, name);
    if (!path) return tta_errorf(TTA_ERR_NOMEM, "out of memory");
    if (tta_data_is_file(path)) {
        *out = path;
        return TTA_OK;
    }
    const char *dot = strrchr(name, '.');
    if (strcmp(dot, ".png") != 0) {
        size_t stem = (size_t)(dot - name);
        char *alt = tta_malloc(stem + 5);
        if (!alt) {
            tta_free(path);
            return tta_errorf(TTA_ERR_NOMEM, "out of memory");
        }
        memcpy(alt, name, stem);
        memcpy(alt + stem, ".png", 5);
        char *alt_path = tta_data_join(masks_dir, alt);
        tta_free(alt);
        if (!alt_path) {
            tta_free(path);
            return tta_errorf(TTA_ERR_NOMEM, "out of memory");
        }
        if (tta_data_is_file(alt_path)) {
            tta_free(path);
            *out = alt_path;
            return TTA_OK;
        }
        tta_status st = tta_errorf(TTA_ERR_IO, "%s: no such mask (nor %s) for image %s/%s", path, alt_path,
                                   images_dir, name);
        tta_free(alt_path);
        tta_free(path);
        return st;
    }
    tta_status st = tta_errorf(TTA_ERR_IO, "%s: no such mask for image %s/%s", path, images_dir, name);
    tta_free(path);
    return st;
}

/* Lists the images, keeps the range's slice and pairs each kept image with its mask. */
static tta_status build(tta_mask_set *ms, const char *spec, const char *images_dir, const char *masks_dir,
                        const tta_range *r) {
    tta_name_list files;
    TTA_TRY(list_images(images_dir, &files));
    tta_status st = TTA_OK;
    if (files.n == 0)
        st = tta_errorf(TTA_ERR_PARSE, "%s: no .png, .jpg or .jpeg files (images of %s)", images_dir, spec);
    int64_t begin = 0, end = (int64_t)files.n;
    if (st == TTA_OK && r->present) {
        /* name the set without its range in the message */
        char what[256];
        snprintf(what, sizeof what, "%.*s", (int)(r->at < 200 ? r->at : 200), spec);
        st = tta_range_resolve(r, (int64_t)files.n, what, &begin, &end);
    }
    int n = (int)(end - begin);
    if (st == TTA_OK) {
        ms->images = tta_calloc((size_t)n, sizeof *ms->images);
        ms->masks = tta_calloc((size_t)n, sizeof *ms->masks);
        ms->names = tta_calloc((size_t)n, sizeof *ms->names);
        if (!ms->images || !ms->masks || !ms->names)
            st = tta_errorf(TTA_ERR_NOMEM, "%s: out of memory", spec);
    }
    for (int i = 0; i < n && st == TTA_OK; i++) {
        const char *name = files.v[begin + i];
        ms->names[i] = tta_strdup(name);
        ms->images[i] = tta_data_join(images_dir, name);
        ms->count = i + 1; /* so that _free releases what is set */
        if (!ms->names[i] || !ms->images[i])
            st = tta_errorf(TTA_ERR_NOMEM, "%s: out of memory", spec);
        else
            st = find_mask(masks_dir, images_dir, name, &ms->masks[i]);
    }
    tta_name_list_free(&files);
    return st;
}

/* Opens the folders a spec body (without "masks:" and the range) names. */
static tta_status open_dirs(tta_mask_set *ms, const char *spec, char *body, const tta_range *r) {
    if (!*body)
        return tta_errorf(TTA_ERR_INVALID_ARG,
                          "data spec '%s': masks needs DIR or IMAGES_DIR,MASKS_DIR after the colon", spec);
    char *comma = strchr(body, ',');
    if (comma) {
        *comma = '\0';
        const char *images = body, *masks = comma + 1;
        if (!*images || !*masks || strchr(masks, ','))
            return tta_errorf(TTA_ERR_INVALID_ARG, "data spec '%s': write masks:IMAGES_DIR,MASKS_DIR", spec);
        if (!tta_data_is_dir(images))
            return tta_errorf(TTA_ERR_IO, "%s: no such folder (images of %s)", images, spec);
        if (!tta_data_is_dir(masks))
            return tta_errorf(TTA_ERR_IO, "%s: no such folder (masks of %s)", masks, spec);
        return build(ms, spec, images, masks, r);
    }
    if (!tta_data_is_dir(body)) return tta_errorf(TTA_ERR_IO, "%s: no such folder (%s)", body, spec);
    char *images = tta_data_join(body, "images"), *masks = tta_data_join(body, "masks");
    tta_status st = images && masks ? TTA_OK : tta_errorf(TTA_ERR_NOMEM, "out of memory");
    if (st == TTA_OK && !tta_data_is_dir(images))
        st = tta_errorf(TTA_ERR_IO, "%s: no such folder (%s expects DIR/images and DIR/masks)", images, spec);
    if (st == TTA_OK && !tta_data_is_dir(masks))
        st = tta_errorf(TTA_ERR_IO, "%s: no such folder (%s expects DIR/images and DIR/masks)", masks, spec);
    if (st == TTA_OK) st = build(ms, spec, images, masks, r);
    tta_free(images);
    tta_free(masks);
    return st;
}

tta_status tta_mask_set_open(tta_mask_set **out, const char *spec) {
    if (!out || !spec) return tta_errorf(TTA_ERR_INVALID_ARG, "tta_mask_set_open: NULL argument");
    *out = NULL;
    if (strncmp(spec, "masks:", 6) != 0)
        return tta_errorf(
            TTA_ERR_INVALID_ARG,
            "data spec '%s' is not an image/mask set: write masks:DIR or masks:IMAGES_DIR,MASKS_DIR", spec);
    tta_mask_set *ms = tta_calloc(1, sizeof *ms);
    char *body = tta_strdup(spec + 6);
    if (ms) ms->name = tta_strdup(spec);
    if (!ms || !body || !ms->name) {
        tta_free(body);
        tta_mask_set_free(ms);
        return tta_errorf(TTA_ERR_NOMEM, "out of memory");
    }
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
            r.at = 6 + (size_t)(lb - body);
            st = tta_range_parse(spec + r.at, &r);
            *lb = '\0';
        }
    }
    if (st == TTA_OK) st = open_dirs(ms, spec, body, &r);
    tta_free(body);
    if (st != TTA_OK) {
        tta_mask_set_free(ms);
        return st;
    }
    *out = ms;
    return TTA_OK;
}

/* Reads the PNG header of a mask: refuses what is not an 8-bit gray PNG before decoding. */
static tta_status check_mask_header(const char *path) {
    FILE *f = fopen(path, "rb");
    if (!f) return tta_errorf(TTA_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
    unsigned char h[26];
    size_t got = fread(h, 1, sizeof h, f);
    fclose(f);
    static const unsigned char sig[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
    if (got < 8 || memcmp(h, sig, 8) != 0)
        return tta_errorf(TTA_ERR_PARSE, "%s: mask is not a PNG (masks are 8-bit gray PNGs of class ids)",
                          path);
    if (got < sizeof h || memcmp(h + 12, "IHDR", 4) != 0)
        return tta_errorf(TTA_ERR_PARSE, "%s: truncated or corrupt PNG (no IHDR chunk)", path);
    int depth = h[24], type = h[25];
    if (type == 3)
        return tta_errorf(TTA_ERR_PARSE, "%s: mask is a palette PNG; masks are 8-bit gray PNGs of class ids",
                          path);
    int channels = type == 0 ? 1 : type == 2 ? 3 : type == 4 ? 2 : type == 6 ? 4 : 0;
    if (channels == 0) return tta_errorf(TTA_ERR_PARSE, "%s: bad PNG colour type %d", path, type);
    if (channels != 1)
        return tta_errorf(TTA_ERR_SHAPE,
                          "%s: mask has %d channels, expected 1 (an 8-bit gray PNG of class ids)", path,
                          channels);
    if (depth != 8)
        return tta_errorf(TTA_ERR_PARSE,
                          "%s: mask is a %d-bit PNG, expected 8-bit (gray, one class id per pixel)", path,
                          depth);
    return TTA_OK;
}

tta_status tta_mask_set_read(const tta_mask_set *ms, int i, tta_image *image, tta_image *mask) {
    if (!ms || !image || !mask) return tta_errorf(TTA_ERR_INVALID_ARG, "tta_mask_set_read: NULL argument");
    if (i < 0 || i >= ms->count)
        return tta_errorf(TTA_ERR_INVALID_ARG, "%s: pair %d is out of range (%d pairs)", ms->name, i,
                          ms->count);
    const char *ipath = ms->images[i], *mpath = ms->masks[i];
    TTA_TRY(tta_image_read(image, ipath));
    TTA_TRY(check_mask_header(mpath));
    TTA_TRY(tta_image_read(mask, mpath));
    if (mask->channels != 1 || mask->dtype != TTA_DTYPE_UINT8)
        return tta_errorf(TTA_ERR_SHAPE,
                          "%s: mask has %d channels, expected 1 (an 8-bit gray PNG of class ids)", mpath,
                          mask->channels);
    if (mask->width != image->width || mask->height != image->height)
        return tta_errorf(TTA_ERR_SHAPE, "%s: mask is %dx%d (width x height), its image %s is %dx%d", mpath,
                          mask->width, mask->height, ipath, image->width, image->height);
    return TTA_OK;
}
