/* cifar.c - CIFAR-10 and CIFAR-100 binary batches into an in-memory data set of 32x32x3 HWC
 * images.
 *
 * A CIFAR-10 record is 1 label byte (0..9) and 3072 pixel bytes: the 1024 red values of the
 * 32x32 image row by row, then the green, then the blue (CHW). A CIFAR-100 record has two label
 * bytes, coarse (0..19) then fine (0..99); we use the fine one. Files carry no header, so the
 * checks are the file size (a whole number of records) and the label ranges, which is also
 * what catches a CIFAR-100 file opened as CIFAR-10 and garbage. Files may be gzipped. */
#include <string.h>

#include "core/alloc.h"
#include "core/error.h"
#include "data/dataset_internal.h"
#include "tta/tensor.h"

enum { SIDE = 32, PLANE = SIDE * SIDE, PIXELS = 3 * PLANE };

static const char *const cifar10_names[10] = {
    "airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck",
};

/* The fine label names of CIFAR-100, in label order (alphabetical), as in its
 * fine_label_names.txt. */
static const char *const cifar100_names[100] = {
    "apple",      "aquarium_fish", "baby",         "bear",       "beaver",      "bed",         "bee",
    "beetle",     "bicycle",       "bottle",       "bowl",       "boy",         "bridge",      "bus",
    "butterfly",  "camel",         "can",          "castle",     "caterpillar", "cattle",      "chair",
    "chimpanzee", "clock",         "cloud",        "cockroach",  "couch",       "crab",        "crocodile",
    "cup",        "dinosaur",      "dolphin",      "elephant",   "flatfish",    "forest",      "fox",
    "girl",       "hamster",       "house",        "kangaroo",   "keyboard",    "lamp",        "lawn_mower",
    "leopard",    "lion",          "lizard",       "lobster",    "man",         "maple_tree",  "motorcycle",
    "mountain",   "mouse",         "mushroom",     "oak_tree",   "orange",      "orchid",      "otter",
    "palm_tree",  "pear",          "pickup_truck", "pine_tree",  "plain",       "plate",       "poppy",
    "porcupine",  "possum",        "rabbit",       "raccoon",    "ray",         "road",        "rocket",
    "rose",       "sea",           "seal",         "shark",      "shrew",       "skunk",       "skyscraper",
    "snail",      "snake",         "spider",       "squirrel",   "streetcar",   "sunflower",   "sweet_pepper",
    "table",      "tank",          "telephone",    "television", "tiger",       "tractor",     "train",
    "trout",      "tulip",         "turtle",       "wardrobe",   "whale",       "willow_tree", "wolf",
    "woman",      "worm",
};

/* Appends the records of one file to ds (labels and pixels grown to hold them). */
static tta_status cifar_load_file(tta_dataset *ds, const char *path, int fine) {
    const char *kind = fine ? "CIFAR-100" : "CIFAR-10";
    size_t head = fine ? 2 : 1, rec = head + PIXELS, other = fine ? 1 + PIXELS : 2 + PIXELS;
    gzFile f;
    TTA_TRY(tta_data_open(&f, path));
    uint8_t *buf = NULL;
    size_t size = 0;
    tta_status st = tta_data_read_growing(f, path, SIZE_MAX / 4, &buf, &size);
    gzclose(f);
    if (st != TTA_OK) return st;
    if (size == 0) {
        st = tta_errorf(TTA_ERR_PARSE, "%s: empty file, not a %s batch", path, kind);
        goto done;
    }
    if (size % rec != 0) {
        const char *hint = size % other == 0 ? (fine ? " (a CIFAR-10 file? its records are 3073 bytes)"
                                                     : " (a CIFAR-100 file? its records are 3074 bytes)")
                                             : " (truncated, or not a CIFAR batch?)";
        st = tta_errorf(TTA_ERR_PARSE, "%s: %zu bytes is not a whole number of %zu-byte %s records%s", path,
                        size, rec, kind, hint);
        goto done;
    }
    size_t n = size / rec;
    if ((uint64_t)ds->count + n > (uint64_t)INT32_MAX) {
        st = tta_errorf(TTA_ERR_PARSE, "%s: too many records", path);
        goto done;
    }
    /* check every label before converting anything */
    for (size_t r = 0; r < n; r++) {
        const uint8_t *p = buf + r * rec;
        if (!fine && p[0] >= 10) {
            st = tta_errorf(TTA_ERR_PARSE,
                            "%s: record %zu has label %d; CIFAR-10 labels are 0..9 (a CIFAR-100 "
                            "file, or not a CIFAR batch?)",
                            path, r, p[0]);
            goto done;
        }
        if (fine && (p[0] >= 20 || p[1] >= 100)) {
            st = tta_errorf(TTA_ERR_PARSE,
                            "%s: record %zu has labels %d (coarse) and %d (fine); CIFAR-100 "
                            "labels are 0..19 and 0..99 (a CIFAR-10 file, or not a CIFAR batch?)",
                            path, r, p[0], p[1]);
            goto done;
        }
    }
    size_t total = (size_t)ds->count + n;
    int *labels = tta_realloc(ds->labels, total * sizeof *labels);
    if (!labels) {
        st = tta_errorf(TTA_ERR_NOMEM, "%s: out of memory for %zu labels", path, total);
        goto done;
    }
    ds->labels = labels;
    uint8_t *pixels = tta_realloc(ds->pixels, total * PIXELS);
    if (!pixels) {
        st = tta_errorf(TTA_ERR_NOMEM, "%s: out of memory for %zu images", path, total);
        goto done;
    }
    ds->pixels = pixels;
    for (size_t r = 0; r < n; r++) {
        const uint8_t *p = buf + r * rec;
        uint8_t *dst = pixels + ((size_t)ds->count + r) * PIXELS;
        labels[ds->count + (int64_t)r] = p[head - 1];
        const uint8_t *chw = p + head;
        for (int i = 0; i < PLANE; i++) {
            dst[3 * i + 0] = chw[i];
            dst[3 * i + 1] = chw[PLANE + i];
            dst[3 * i + 2] = chw[2 * PLANE + i];
        }
    }
    ds->count += (int64_t)n;
done:
    tta_free(buf);
    return st;
}

static tta_status cifar_open(tta_dataset **out, const char *const *paths, int count, int fine) {
    const char *fn = fine ? "tta_dataset_open_cifar100" : "tta_dataset_open_cifar10";
    if (!out || !paths || count < 1) return tta_errorf(TTA_ERR_INVALID_ARG, "%s: no files", fn);
    *out = NULL;
    for (int k = 0; k < count; k++)
        if (!paths[k] || !paths[k][0])
            return tta_errorf(TTA_ERR_INVALID_ARG, "%s: file %d has no name", fn, k + 1);
    tta_dataset *ds;
    TTA_TRY(tta_data_new(&ds, paths[0]));
    ds->height = SIDE;
    ds->width = SIDE;
    ds->channels = 3;
    tta_status st = TTA_OK;
    for (int k = 0; k < count && st == TTA_OK; k++)
        st = cifar_load_file(ds, paths[k], fine);
    if (st == TTA_OK)
        st = fine ? tta_data_set_class_names(ds, cifar100_names, 100)
                  : tta_data_set_class_names(ds, cifar10_names, 10);
    if (st != TTA_OK) {
        tta_dataset_free(ds);
        return st;
    }
    *out = ds;
    return TTA_OK;
}

tta_status tta_dataset_open_cifar10(tta_dataset **out, const char *const *paths, int count) {
    return cifar_open(out, paths, count, 0);
}

tta_status tta_dataset_open_cifar100(tta_dataset **out, const char *const *paths, int count) {
    return cifar_open(out, paths, count, 1);
}
