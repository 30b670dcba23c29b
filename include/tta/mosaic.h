/* mosaic.h - synthetic detection and segmentation data: Fashion-MNIST items on a canvas.
 *
 * A mosaic is a square grayscale canvas (P x P, uint8) with 1 to 5 Fashion-MNIST items of one
 * split pasted at random positions and scales. Everything is drawn from a seeded PRNG of our own
 * (xoshiro256**, seeded through splitmix64 from the seed and the mosaic's index), so a mosaic
 * depends only on (source split, options, seed, index): the same seed gives the same files byte
 * for byte, and mosaic k is the same whether 10 or 10,000 are generated.
 *
 * How a mosaic is made:
 *   1. n = uniform in [min_items, max_items]; for each item: a random image of the split, a
 *      random side s (pixels) in [round(28 min_scale), round(28 max_scale)] (at most P), and up
 *      to 32 random positions, the first one kept where the item's square keeps at most
 *      `max_overlap` of its area covered by other items' squares and leaves that much uncovered
 *      of theirs; an item that finds no such position is left out.
 *   2. Background: 0, or uniform noise in [0, noise] per pixel.
 *   3. Each item is resized to s x s (bilinear, pixel centres aligned, integer arithmetic) and
 *      pasted with max blending: canvas = max(background, items).
 *   4. An item's foreground is its resized pixels above `threshold`. Where foregrounds overlap,
 *      the pixel belongs to the brighter item (the earlier one on a tie). Each item's box and
 *      area are those of the pixels it owns, so a box encloses exactly its item's mask pixels.
 *      Items left with no pixels are dropped.
 *
 * Coordinates follow SPEC.md: pixel column j spans [j, j + 1], so a box [x, y, w, h] covers
 * columns x .. x + w - 1 and rows y .. y + h - 1.
 *
 * Example:
 *     tta_mosaic_source src = {0};
 *     tta_mosaic_options opt;
 *     tta_mosaic_options_default(&opt);
 *     if (tta_mosaic_source_load(&src, NULL, "val") ||
 *         tta_mosaic_write_dataset(&src, &opt, 1, 100, "out", NULL, NULL))
 *         fprintf(stderr, "%s\n", tta_last_error());
 *     tta_mosaic_source_destroy(&src);
 */
#ifndef TTA_MOSAIC_H
#define TTA_MOSAIC_H

#include <stdint.h>

#include "tta/image.h"
#include "tta/status.h"

#ifdef __cplusplus
extern "C" {
#endif

#define TTA_MOSAIC_MAX_ITEMS 5
#define TTA_MOSAIC_NUM_CLASSES 10
#define TTA_MOSAIC_DEFAULT_DATA_DIR "/usr/share/datasets/fashion-mnist"

/* The Fashion-MNIST class names, index = label (0..9). */
extern const char *const tta_mosaic_class_names[TTA_MOSAIC_NUM_CLASSES];

/* Labelled square item images to paste: `count` images of item_size x item_size, row-major. */
typedef struct tta_mosaic_source {
    int count;
    int item_size;   /* 28 for Fashion-MNIST */
    int first_index; /* index of pixels[0] in its IDX file (train 0, val 55000, test 0) */
    char split[8];   /* "train", "val", "test" (or anything for a hand-made source) */
    uint8_t *pixels; /* count * item_size * item_size */
    uint8_t *labels; /* count, each 0..9 */
    int owned;       /* 1 when loaded by tta_mosaic_source_load (freed by _destroy) */
} tta_mosaic_source;

/* Loads a split of Fashion-MNIST from data_dir (NULL: TTA_MOSAIC_DEFAULT_DATA_DIR), reading the
 * gzipped IDX files: "train" = training images 0..54999, "val" = training images 55000..59999,
 * "test" = the 10,000 t10k images. `src` must be zeroed. Errors: INVALID_ARG (unknown split),
 * IO (a file cannot be opened), PARSE (bad magic, wrong sizes, truncated; names the file),
 * NOMEM. */
TTA_API tta_status tta_mosaic_source_load(tta_mosaic_source *src, const char *data_dir, const char *split);

/* Frees what _load allocated and zeroes the struct (hand-made sources are only zeroed). */
TTA_API void tta_mosaic_source_destroy(tta_mosaic_source *src);

typedef struct tta_mosaic_options {
    int size;           /* canvas side P; default 64 */
    int min_items;      /* default 1 */
    int max_items;      /* default 5 (at most TTA_MOSAIC_MAX_ITEMS) */
    double min_scale;   /* item side relative to the source image; default 0.75 */
    double max_scale;   /* default 1.5 (sides are clamped to P) */
    int threshold;      /* foreground: pixel value > threshold; default 30 */
    int noise;          /* background noise amplitude, 0..threshold; default 0 */
    double max_overlap; /* fraction of an item's square other squares may cover; default 0.25 */
} tta_mosaic_options;

TTA_API void tta_mosaic_options_default(tta_mosaic_options *opt);

/* Checks every field; INVALID_ARG with a message naming the field. */
TTA_API tta_status tta_mosaic_options_check(const tta_mosaic_options *opt);

typedef struct tta_mosaic_item {
    int label;        /* Fashion-MNIST class 0..9; the COCO category_id and mask value are label + 1 */
    int source_index; /* index of the item's image in its IDX file */
    int x, y, side;   /* where its scaled square was pasted */
    int bbox[4];      /* x, y, w, h of the pixels it owns (see the coordinate note above) */
    int area;         /* number of pixels it owns */
} tta_mosaic_item;

typedef struct tta_mosaic {
    int count;                                   /* items kept, 1..max_items */
    tta_mosaic_item items[TTA_MOSAIC_MAX_ITEMS]; /* in pasting order */
    tta_image image;                             /* P x P x 1 uint8: the canvas */
    tta_image mask;     /* P x P x 1 uint8: label + 1 of the pixel's owner, 0 = background */
    tta_image instance; /* P x P x 1 uint8: item index + 1 of the pixel's owner, 0 = background */
} tta_mosaic;

/* Generates mosaic number `index` of the stream `seed` into `m` (zeroed, or a mosaic from an
 * earlier call whose buffers are reused). Errors: INVALID_ARG (bad options, empty source or
 * labels outside 0..9), NOMEM, INTERNAL (no item with a foreground pixel after 100 attempts:
 * the source images are blank). */
TTA_API tta_status tta_mosaic_generate(tta_mosaic *m, const tta_mosaic_source *src, const tta_mosaic_options *opt,
                               uint64_t seed, uint64_t index);

TTA_API void tta_mosaic_destroy(tta_mosaic *m);

/* Called after each written mosaic by tta_mosaic_write_dataset (may be NULL). */
typedef void (*tta_mosaic_progress_fn)(void *user, int done, int total);

/* Writes mosaics 0 .. count-1 of stream `seed` as a data set in `dir` (created if missing):
 *     dir/images/000000.png ...   the canvases (8-bit grayscale PNG)
 *     dir/masks/000000.png ...    label + 1 per pixel, 0 = background (8-bit grayscale PNG)
 *     dir/annotations.json        COCO: images (id = the file number, file_name "000000.png",
 *                                 found under images/ and masks/), annotations (id from 1,
 *                                 image_id, category_id = label + 1, bbox [x, y, w, h], area,
 *                                 iscrowd 0, source_index), categories (id 1..10 with the
 *                                 Fashion-MNIST names), info (split, seed, options).
 * count is 1..1,000,000. Errors: INVALID_ARG, IO (names the file), NOMEM. */
TTA_API tta_status tta_mosaic_write_dataset(const tta_mosaic_source *src, const tta_mosaic_options *opt,
                                    uint64_t seed, int count, const char *dir,
                                    tta_mosaic_progress_fn progress, void *user);

#ifdef __cplusplus
}
#endif
#endif
