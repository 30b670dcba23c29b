/* dataset.h - labelled image data sets: IDX (MNIST, Fashion-MNIST), CIFAR-10/100 binary batches,
 * folders of images with one subfolder per class, list files, and the data spec strings of the
 * command line.
 *
 * A tta_dataset holds N labelled images, uint8 HWC (see image.h), with integer labels in
 * [0, num_classes) and, when known, a name per class. Images are fetched one at a time by index:
 *
 *   - IDX and CIFAR sets are decoded once into one contiguous uint8 buffer; tta_dataset_get
 *     hands out *borrowed* views of it (no copy).
 *   - Folder and list sets keep only the file names and labels; tta_dataset_get decodes the
 *     PNG or JPEG file on demand into an *owned* image.
 * Either way the caller writes the same loop and destroys the image once at the end:
 *
 *     tta_dataset *ds;
 *     if (tta_dataset_open(&ds, "fashion-mnist:val[0:1000]") != TTA_OK)
 *         fprintf(stderr, "%s\n", tta_last_error());
 *     tta_image img = {0};
 *     for (int64_t i = 0; i < tta_dataset_count(ds); i++) {
 *         int label;
 *         if (tta_dataset_get(ds, i, &img, &label) != TTA_OK) break;   // names the file
 *         ... read img (never write to it), label, tta_dataset_class_name(ds, label) ...
 *     }
 *     tta_image_destroy(&img);
 *     tta_dataset_free(ds);
 *
 * Data specs (tta_dataset_open):
 *     fashion-mnist:test         the 10,000 Fashion-MNIST test images (t10k files)
 *     fashion-mnist:train        training images 0..54999    } the project's fixed split:
 *     fashion-mnist:val          training images 55000..59999 } never train on val
 *     mnist:test|train|val       the same for MNIST, when its files are on the machine
 *     idx:IMAGES,LABELS          an idx3-ubyte images file and an idx1-ubyte labels file
 *     cifar10:FILE[,FILE...]     CIFAR-10 binary batches, concatenated in the order given
 *     cifar100:FILE[,FILE...]    CIFAR-100 binary files (the fine labels)
 *     folder:DIR                 DIR/CLASS/IMAGE.{png,jpg,jpeg}
 *     list:FILE                  lines "path,label"
 * Any spec may end with a range [a:b], applied after the split: items a..b-1, python-slice-like
 * (either side optional, negative numbers count from the end), e.g. fashion-mnist:test[0:500],
 * cifar10:test_batch.bin[-100:]. Unlike a python slice, a range that runs past either end of
 * the data set or selects nothing is an error, so that a typo does not silently shrink a run.
 * (A path that itself ends in ']' needs an explicit range: folder:shots[2][:].)
 * Fashion-MNIST files are looked up in /usr/share/datasets/fashion-mnist (Debian package
 * dataset-fashion-mnist) unless the environment variable TTA_FASHION_DIR names another folder;
 * MNIST in /usr/share/datasets/mnist or TTA_MNIST_DIR. Each file may be gzipped or not.
 *
 * Formats:
 *   - IDX: big-endian magic 0x00000803 (images: count, rows, cols) and 0x00000801 (labels:
 *     count), unsigned bytes, gzipped or not; images become rows x cols x 1. Counts must agree
 *     and the files must hold exactly the bytes their headers promise. Without class names;
 *     num_classes is the largest label + 1 (10 with names for fashion-mnist and mnist).
 *   - CIFAR-10: records of 1 label byte + 3072 pixel bytes (1024 red, 1024 green, 1024 blue,
 *     each row-major 32x32), converted to 32x32x3 HWC; labels 0..9, with the standard names.
 *     CIFAR-100: records of 2 label bytes (coarse 0..19, fine 0..99) + 3072 pixel bytes; the
 *     fine label is used, with the standard 100 fine names.
 *   - Folder: one subfolder per class; class names are the subfolder names sorted by byte value
 *     (as torchvision's ImageFolder), label k is the k-th name; within a class the files are
 *     sorted by name too, so the order is the same on every machine. Files ending in .png, .jpg
 *     or .jpeg (any case) are images; other files and names starting with '.' are ignored;
 *     subfolders are not searched recursively. An empty class subfolder still counts as a
 *     class.
 *   - List: one "path,label" line per image (split at the last comma; blank lines and lines
 *     starting with '#' are skipped, and so is a first line "path,label"). Relative paths are
 *     relative to the list file's folder. Labels are either all integers >= 0 (num_classes =
 *     largest + 1, no names) or all class names, which are then sorted by byte value and
 *     numbered as in a folder set (so a list that lacks a class numbers the others
 *     differently: prefer integer labels for partial lists). Every file must exist when the
 *     list is opened; decoding happens in tta_dataset_get.
 *
 * Errors: every call that can fail returns a tta_status and sets tta_last_error() to one line
 * naming the file (and line or record) or the part of the spec that is wrong. IO: a file or
 * folder cannot be opened or read. PARSE: a file is truncated, garbage, or not of the expected
 * format. INVALID_ARG: a bad spec, range or argument. NOMEM: out of memory.
 *
 * Thread safety: a dataset is immutable after it is opened (except for tta_dataset_slice), so
 * several threads may call tta_dataset_get on the same dataset at once, each with its own image.
 */
#ifndef TTA_DATASET_H
#define TTA_DATASET_H

#include <stdint.h>

#include "tta/image.h"
#include "tta/status.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct tta_dataset tta_dataset;

/* ---- opening ----------------------------------------------------------------------------- */

/* Opens the data set a spec string names (see the top of this file), range included. The
 * dataset's name (tta_dataset_name) is the spec. Errors: INVALID_ARG for a bad spec ("unknown
 * data set 'foo'; known: ...", "range [5:2] is empty"), and those of the format's opener. */
TTA_API tta_status tta_dataset_open(tta_dataset **out, const char *spec);

/* An idx3-ubyte images file and an idx1-ubyte labels file, each gzipped or not. */
TTA_API tta_status tta_dataset_open_idx(tta_dataset **out, const char *images_path, const char *labels_path);

/* CIFAR-10 / CIFAR-100 binary files (count >= 1), concatenated in the order given. */
TTA_API tta_status tta_dataset_open_cifar10(tta_dataset **out, const char *const *paths, int count);
TTA_API tta_status tta_dataset_open_cifar100(tta_dataset **out, const char *const *paths, int count);

/* A folder with one subfolder of PNG/JPEG files per class. */
TTA_API tta_status tta_dataset_open_folder(tta_dataset **out, const char *dir);

/* A list file of "path,label" lines. */
TTA_API tta_status tta_dataset_open_list(tta_dataset **out, const char *path);

/* A data set made from memory (for tests and embedding programs): `count` images of
 * height x width x channels uint8 HWC, stored one after another in `pixels`, and `count`
 * labels. Both are copied. num_classes <= 0 means largest label + 1; class_names (may be NULL)
 * has num_classes entries, copied. `name` (may be NULL) is used in messages. Errors:
 * INVALID_ARG (bad sizes, a label outside [0, num_classes)), NOMEM. */
TTA_API tta_status tta_dataset_new_memory(tta_dataset **out, const char *name, int64_t count, int height, int width,
                                  int channels, const uint8_t *pixels, const int *labels, int num_classes,
                                  const char *const *class_names);

/* Frees the data set and everything it owns. Borrowed images handed out by tta_dataset_get
 * become invalid. Safe on NULL. */
TTA_API void tta_dataset_free(tta_dataset *ds);

/* Keeps only items [begin, end) (0 <= begin < end <= count), in place; item `begin` becomes
 * item 0. In-memory sets give back the memory of the dropped images. Borrowed images handed
 * out earlier become invalid. Errors: INVALID_ARG. */
TTA_API tta_status tta_dataset_slice(tta_dataset *ds, int64_t begin, int64_t end);

/* ---- reading ------------------------------------------------------------------------------ */

/* Number of images (>= 1 for any opened data set). */
TTA_API int64_t tta_dataset_count(const tta_dataset *ds);

/* Fetches item i (0 <= i < count). `img` must be zeroed or a valid image; on return it is
 * either a borrowed view into the data set (IDX, CIFAR, memory: valid until the data set is
 * freed or sliced; do not write to it) or an owned decoded image (folder, list: its buffer is
 * reused from call to call when large enough). A previously owned buffer of `img` is freed
 * when it becomes a view. tta_image_destroy(img) is right in both cases. `img` or `label` may
 * be NULL to fetch only the other. Errors: INVALID_ARG (bad index), and for folder and list
 * sets those of tta_image_read (IO, PARSE, UNSUPPORTED; the message names the file). */
TTA_API tta_status tta_dataset_get(const tta_dataset *ds, int64_t i, tta_image *img, int *label);

/* All `count` labels, item order; valid until the data set is freed or sliced. */
TTA_API const int *tta_dataset_labels(const tta_dataset *ds);

/* Number of classes: every label is in [0, num_classes). Slicing does not change it. */
TTA_API int tta_dataset_num_classes(const tta_dataset *ds);

/* Name of class `label`, or NULL when the data set has no class names or label is out of
 * range. */
TTA_API const char *tta_dataset_class_name(const tta_dataset *ds, int label);

/* 1 and the shape when every image has the same known shape (IDX, CIFAR, memory); 0 and zeros
 * when images are decoded from files and may differ (folder, list). Any pointer may be NULL. */
TTA_API int tta_dataset_image_shape(const tta_dataset *ds, int *height, int *width, int *channels);

/* The spec or path the data set was opened from, for messages and reports. */
TTA_API const char *tta_dataset_name(const tta_dataset *ds);

/* The image file of item i for folder and list sets; NULL for in-memory sets or a bad index. */
TTA_API const char *tta_dataset_item_path(const tta_dataset *ds, int64_t i);

/* Position of item i in the underlying file(s) before any split or range: e.g. item 0 of
 * fashion-mnist:val[10:] is training image 55010. -1 for a bad index. */
TTA_API int64_t tta_dataset_source_index(const tta_dataset *ds, int64_t i);

/* A few lines describing the spec syntax, for command-line help. Static storage. */
TTA_API const char *tta_dataset_spec_help(void);

#ifdef __cplusplus
}
#endif
#endif
