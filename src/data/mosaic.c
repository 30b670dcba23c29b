/* mosaic.c - synthetic detection/segmentation canvases made of Fashion-MNIST items (mosaic.h):
 * loading a split from the gzipped IDX files, the seeded PRNG, placement, resizing, max-blend
 * pasting and the per-item boxes and masks. Writing a data set to disk is mosaic_coco.c.
 *
 * Everything here is integer arithmetic on a PRNG of our own, so the output is the same on every
 * build (optimised, sanitized) and platform, which is what "same seed, same bytes" needs. */
#include <stdio.h>
#include <string.h>
#include <zlib.h>

#include "core/alloc.h"
#include "core/error.h"
#include "tta/mosaic.h"

const char *const tta_mosaic_class_names[TTA_MOSAIC_NUM_CLASSES] = {
    "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot",
};

enum { TRAIN_END = 55000, PLACE_TRIES = 32, MOSAIC_TRIES = 100 };

/* ---- Fashion-MNIST IDX files (gzipped, big-endian header) ---- */

static uint32_t be32(const unsigned char *p) {
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | (uint32_t)p[3];
}

/* Reads `n` bytes, or fails with PARSE naming the file. */
static tta_status gz_read_exact(gzFile f, void *buf, size_t n, const char *path) {
    unsigned char *p = buf;
    while (n > 0) {
        unsigned chunk = n > (1u << 30) ? (1u << 30) : (unsigned)n;
        int got = gzread(f, p, chunk);
        if (got <= 0) {
            int zerr = 0;
            const char *msg = gzerror(f, &zerr);
            if (zerr != Z_OK && zerr != Z_BUF_ERROR)
                return tta_errorf(TTA_ERR_PARSE, "%s: corrupt gzip data (%s)", path, msg);
            return tta_errorf(TTA_ERR_PARSE, "%s: truncated", path);
        }
        p += got;
        n -= (size_t)got;
    }
    return TTA_OK;
}

/* Skips `n` bytes of decompressed data. */
static tta_status gz_skip(gzFile f, size_t n, const char *path) {
    unsigned char buf[16384];
    while (n > 0) {
        size_t k = n < sizeof buf ? n : sizeof buf;
        TTA_TRY(gz_read_exact(f, buf, k, path));
        n -= k;
    }
    return TTA_OK;
}

/* Opens an IDX file of unsigned bytes with `ndim` dimensions and reads its dimensions. */
static tta_status idx_open(const char *path, int ndim, uint32_t *dims, gzFile *out) {
    gzFile f = gzopen(path, "rb");
    if (!f) return tta_errorf(TTA_ERR_IO, "%s: cannot open", path);
    unsigned char head[16];
    tta_status st = gz_read_exact(f, head, 4 + 4 * (size_t)ndim, path);
    if (st == TTA_OK && (head[0] || head[1] || head[2] != 0x08 || head[3] != ndim))
        st = tta_errorf(TTA_ERR_PARSE, "%s: not an IDX file of %d-dimensional unsigned bytes", path, ndim);
    if (st != TTA_OK) {
        gzclose(f);
        return st;
    }
    for (int d = 0; d < ndim; d++)
        dims[d] = be32(head + 4 + 4 * d);
    *out = f;
    return TTA_OK;
}

/* Reads records [first, first + count) of an IDX file whose records are `record` bytes. */
static tta_status idx_read_range(gzFile f, const char *path, size_t record, int first, int count,
                                 uint8_t *dst) {
    TTA_TRY(gz_skip(f, record * (size_t)first, path));
    return gz_read_exact(f, dst, record * (size_t)count, path);
}

tta_status tta_mosaic_source_load(tta_mosaic_source *src, const char *data_dir, const char *split) {
    if (!src || !split) return tta_errorf(TTA_ERR_INVALID_ARG, "tta_mosaic_source_load: NULL argument");
    memset(src, 0, sizeof *src);
    if (!data_dir) data_dir = TTA_MOSAIC_DEFAULT_DATA_DIR;
    const char *part;
    if (!strcmp(split, "train") || !strcmp(split, "val"))
        part = "train";
    else if (!strcmp(split, "test"))
        part = "t10k";
    else
        return tta_errorf(TTA_ERR_INVALID_ARG, "unknown split '%s' (train, val or test)", split);

    char ipath[4096], lpath[4096];
    snprintf(ipath, sizeof ipath, "%s/%s-images-idx3-ubyte.gz", data_dir, part);
    snprintf(lpath, sizeof lpath, "%s/%s-labels-idx1-ubyte.gz", data_dir, part);
    uint32_t idims[3], ldims[1];
    gzFile fi = NULL, fl = NULL;
    tta_status st = idx_open(ipath, 3, idims, &fi);
    if (st == TTA_OK) st = idx_open(lpath, 1, ldims, &fl);
    if (st == TTA_OK && (idims[1] != idims[2] || idims[1] < 1 || idims[1] > 1024))
        st = tta_errorf(TTA_ERR_PARSE, "%s: images are %ux%u, expected square images", ipath, idims[1],
                        idims[2]);
    if (st == TTA_OK && idims[0] != ldims[0])
        st =
            tta_errorf(TTA_ERR_PARSE, "%s: %u images but %s has %u labels", ipath, idims[0], lpath, ldims[0]);
    int first = 0, count = (int)idims[0];
    if (st == TTA_OK && !strcmp(split, "train")) count = TRAIN_END;
    if (st == TTA_OK && !strcmp(split, "val")) first = TRAIN_END, count = (int)idims[0] - TRAIN_END;
    if (st == TTA_OK && (idims[0] > 10000000u || count <= 0 || (uint32_t)(first + count) > idims[0]))
        st = tta_errorf(TTA_ERR_PARSE, "%s: %u images, too few for the %s split", ipath, idims[0], split);
    size_t record = 0;
    if (st == TTA_OK) {
        record = (size_t)idims[1] * idims[2];
        src->pixels = tta_malloc(record * (size_t)count);
        src->labels = tta_malloc((size_t)count);
        if (!src->pixels || !src->labels)
            st = tta_errorf(TTA_ERR_NOMEM, "out of memory for the %s split", split);
    }
    if (st == TTA_OK) st = idx_read_range(fi, ipath, record, first, count, src->pixels);
    if (st == TTA_OK) st = idx_read_range(fl, lpath, 1, first, count, src->labels);
    for (int i = 0; st == TTA_OK && i < count; i++)
        if (src->labels[i] >= TTA_MOSAIC_NUM_CLASSES)
            st = tta_errorf(TTA_ERR_PARSE, "%s: label %d of record %d is not a class 0..9", lpath,
                            src->labels[i], first + i);
    if (fi) gzclose(fi);
    if (fl) gzclose(fl);
    if (st != TTA_OK) {
        tta_free(src->pixels);
        tta_free(src->labels);
        memset(src, 0, sizeof *src);
        return st;
    }
    src->count = count;
    src->item_size = (int)idims[1];
    src->first_index = first;
    snprintf(src->split, sizeof src->split, "%s", split);
    src->owned = 1;
    return TTA_OK;
}

void tta_mosaic_source_destroy(tta_mosaic_source *src) {
    if (!src) return;
    if (src->owned) {
        tta_free(src->pixels);
        tta_free(src->labels);
    }
    memset(src, 0, sizeof *src);
}

/* ---- options ---- */

void tta_mosaic_options_default(tta_mosaic_options *opt) {
    *opt = (tta_mosaic_options){.size = 64,
                                .min_items = 1,
                                .max_items = TTA_MOSAIC_MAX_ITEMS,
                                .min_scale = 0.75,
                                .max_scale = 1.5,
                                .threshold = 30,
                                .noise = 0,
                                .max_overlap = 0.25};
}

tta_status tta_mosaic_options_check(const tta_mosaic_options *opt) {
    if (!opt) return tta_errorf(TTA_ERR_INVALID_ARG, "mosaic options are NULL");
    if (opt->size < 8 || opt->size > 4096)
        return tta_errorf(TTA_ERR_INVALID_ARG, "mosaic size %d is outside 8..4096", opt->size);
    if (opt->min_items < 1 || opt->max_items > TTA_MOSAIC_MAX_ITEMS || opt->min_items > opt->max_items)
        return tta_errorf(TTA_ERR_INVALID_ARG, "mosaic items %d..%d: need 1 <= min <= max <= %d",
                          opt->min_items, opt->max_items, TTA_MOSAIC_MAX_ITEMS);
    if (!(opt->min_scale > 0) || !(opt->max_scale <= 64) || !(opt->min_scale <= opt->max_scale))
        return tta_errorf(TTA_ERR_INVALID_ARG, "mosaic scales %g..%g: need 0 < min <= max <= 64",
                          opt->min_scale, opt->max_scale);
    if (opt->threshold < 0 || opt->threshold > 254)
        return tta_errorf(TTA_ERR_INVALID_ARG, "mosaic threshold %d is outside 0..254", opt->threshold);
    if (opt->noise < 0 || opt->noise > opt->threshold)
        return tta_errorf(TTA_ERR_INVALID_ARG, "mosaic noise %d is outside 0..threshold (%d)", opt->noise,
                          opt->threshold);
    if (!(opt->max_overlap >= 0 && opt->max_overlap <= 1))
        return tta_errorf(TTA_ERR_INVALID_ARG, "mosaic max overlap %g is outside 0..1", opt->max_overlap);
    return TTA_OK;
}

/* ---- PRNG: xoshiro256** seeded by splitmix64 ---- */

typedef struct rng {
    uint64_t s[4];
} rng;

static uint64_t splitmix64(uint64_t *x) {
    uint64_t z = (*x += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

/* The stream of mosaic `index` of `seed`: independent of how many mosaics are generated. */
static void rng_init(rng *r, uint64_t seed, uint64_t index) {
    uint64_t x = seed;
    uint64_t a = splitmix64(&x);
    x = index ^ 0x6A09E667F3BCC909ull;
    uint64_t b = splitmix64(&x);
    x = a ^ (b * 0xD1342543DE82EF95ull);
    for (int i = 0; i < 4; i++)
        r->s[i] = splitmix64(&x);
}

static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

static uint64_t rng_next(rng *r) {
    uint64_t *s = r->s;
    uint64_t out = rotl(s[1] * 5, 7) * 9, t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return out;
}

/* Uniform integer in [lo, hi] (inclusive), without modulo bias (rejection). */
static int rng_int(rng *r, int lo, int hi) {
    uint64_t span = (uint64_t)((int64_t)hi - lo) + 1, limit = UINT64_MAX - UINT64_MAX % span, v;
    do
        v = rng_next(r);
    while (v >= limit);
    return lo + (int)(v % span);
}

/* ---- resizing and pasting ---- */

/* Bilinear resize of an n x n uint8 image to s x s with aligned pixel centres (source coordinate
 * (o + 0.5) n / s - 0.5, clamped at the borders), in 16.16 fixed point, rounded to nearest. */
static void resize_bilinear(const uint8_t *src, int n, uint8_t *dst, int s) {
    int32_t pos[4096 + 1];
    for (int o = 0; o < s; o++) {
        int64_t p = ((int64_t)(2 * o + 1) * n * 65536) / (2 * s) - 32768;
        pos[o] = (int32_t)(p < 0 ? 0 : p > (int64_t)(n - 1) * 65536 ? (int64_t)(n - 1) * 65536 : p);
    }
    for (int oy = 0; oy < s; oy++) {
        int y0 = pos[oy] >> 16, y1 = y0 + 1 < n ? y0 + 1 : n - 1;
        int64_t fy = pos[oy] & 0xFFFF;
        for (int ox = 0; ox < s; ox++) {
            int x0 = pos[ox] >> 16, x1 = x0 + 1 < n ? x0 + 1 : n - 1;
            int64_t fx = pos[ox] & 0xFFFF;
            int64_t top = src[y0 * n + x0] * (65536 - fx) + src[y0 * n + x1] * fx;
            int64_t bot = src[y1 * n + x0] * (65536 - fx) + src[y1 * n + x1] * fx;
            int64_t v = (top * (65536 - fy) + bot * fy + ((int64_t)1 << 31)) >> 32;
            dst[oy * s + ox] = (uint8_t)(v > 255 ? 255 : v);
        }
    }
}

static int64_t inter_area(int ax, int ay, int as, int bx, int by, int bs) {
    int x0 = ax > bx ? ax : bx, y0 = ay > by ? ay : by;
    int x1 = ax + as < bx + bs ? ax + as : bx + bs, y1 = ay + as < by + bs ? ay + as : by + bs;
    return x1 > x0 && y1 > y0 ? (int64_t)(x1 - x0) * (y1 - y0) : 0;
}

/* Draws the items' sources, sides and positions (step 1 of mosaic.h). Returns how many. */
static int place_items(rng *r, const tta_mosaic_source *src, const tta_mosaic_options *opt,
                       tta_mosaic_item *items) {
    int n = rng_int(r, opt->min_items, opt->max_items), count = 0;
    int smin = (int)(opt->min_scale * src->item_size + 0.5),
        smax = (int)(opt->max_scale * src->item_size + 0.5);
    if (smin < 1) smin = 1;
    if (smax > opt->size) smax = opt->size;
    if (smin > smax) smin = smax;
    int64_t covered[TTA_MOSAIC_MAX_ITEMS] = {0};
    for (int k = 0; k < n; k++) {
        int j = rng_int(r, 0, src->count - 1);
        int s = rng_int(r, smin, smax);
        for (int t = 0; t < PLACE_TRIES; t++) {
            int x = rng_int(r, 0, opt->size - s), y = rng_int(r, 0, opt->size - s);
            int64_t mine = 0, area = (int64_t)s * s;
            int ok = 1;
            for (int i = 0; i < count && ok; i++) {
                int64_t a = inter_area(x, y, s, items[i].x, items[i].y, items[i].side);
                mine += a;
                ok = covered[i] + a <= opt->max_overlap * items[i].side * items[i].side;
            }
            if (!ok || mine > opt->max_overlap * area) continue;
            for (int i = 0; i < count; i++)
                covered[i] += inter_area(x, y, s, items[i].x, items[i].y, items[i].side);
            covered[count] = mine;
            /* source_index is relative to src here; made absolute when the item is kept */
            items[count++] =
                (tta_mosaic_item){.label = src->labels[j], .source_index = j, .x = x, .y = y, .side = s};
            break;
        }
    }
    return count;
}

tta_status tta_mosaic_generate(tta_mosaic *m, const tta_mosaic_source *src, const tta_mosaic_options *opt,
                               uint64_t seed, uint64_t index) {
    if (!m || !src) return tta_errorf(TTA_ERR_INVALID_ARG, "tta_mosaic_generate: NULL argument");
    TTA_TRY(tta_mosaic_options_check(opt));
    if (src->count <= 0 || !src->pixels || !src->labels || src->item_size < 1 || src->item_size > 4096)
        return tta_errorf(TTA_ERR_INVALID_ARG, "mosaic source is empty");
    const int P = opt->size, n = src->item_size;
    TTA_TRY(tta_image_init(&m->image, P, P, 1, TTA_DTYPE_UINT8));
    TTA_TRY(tta_image_init(&m->mask, P, P, 1, TTA_DTYPE_UINT8));
    TTA_TRY(tta_image_init(&m->instance, P, P, 1, TTA_DTYPE_UINT8));
    uint8_t *img = m->image.data, *mask = m->mask.data, *inst = m->instance.data;
    uint8_t *scaled = tta_malloc((size_t)P * P);
    if (!scaled) return tta_errorf(TTA_ERR_NOMEM, "out of memory for a %dx%d mosaic", P, P);

    rng r;
    rng_init(&r, seed, index);
    for (int attempt = 0; attempt < MOSAIC_TRIES; attempt++) {
        tta_mosaic_item items[TTA_MOSAIC_MAX_ITEMS];
        int count = place_items(&r, src, opt, items);
        for (int i = 0; i < P * P; i++)
            img[i] = opt->noise ? (uint8_t)rng_int(&r, 0, opt->noise) : 0;
        memset(inst, 0, (size_t)P * P);
        for (int k = 0; k < count; k++) {
            tta_mosaic_item *it = &items[k];
            if (it->label < 0 || it->label >= TTA_MOSAIC_NUM_CLASSES) {
                tta_free(scaled);
                return tta_errorf(TTA_ERR_INVALID_ARG, "mosaic source: label %d of image %d is not 0..9",
                                  it->label, it->source_index);
            }
            int s = it->side;
            resize_bilinear(src->pixels + (size_t)it->source_index * n * n, n, scaled, s);
            for (int yy = 0; yy < s; yy++) {
                uint8_t *row = img + (size_t)(it->y + yy) * P + it->x,
                        *irow = inst + (size_t)(it->y + yy) * P + it->x;
                const uint8_t *srow = scaled + (size_t)yy * s;
                for (int xx = 0; xx < s; xx++) {
                    uint8_t v = srow[xx];
                    /* the pixel goes to the brighter foreground; before the max, row[] still
                     * holds the owner's value wherever there is an owner */
                    if (v > opt->threshold && (!irow[xx] || v > row[xx])) irow[xx] = (uint8_t)(k + 1);
                    if (v > row[xx]) row[xx] = v;
                }
            }
        }
        /* boxes and areas of the owned pixels; drop items that own nothing */
        int x0[TTA_MOSAIC_MAX_ITEMS], y0[TTA_MOSAIC_MAX_ITEMS], x1[TTA_MOSAIC_MAX_ITEMS],
            y1[TTA_MOSAIC_MAX_ITEMS];
        int area[TTA_MOSAIC_MAX_ITEMS] = {0};
        for (int k = 0; k < count; k++)
            x0[k] = y0[k] = P, x1[k] = y1[k] = -1;
        for (int y = 0; y < P; y++)
            for (int x = 0; x < P; x++) {
                int k = inst[y * P + x] - 1;
                if (k < 0) continue;
                area[k]++;
                if (x < x0[k]) x0[k] = x;
                if (x > x1[k]) x1[k] = x;
                if (y < y0[k]) y0[k] = y;
                if (y > y1[k]) y1[k] = y;
            }
        uint8_t renum[TTA_MOSAIC_MAX_ITEMS + 1] = {0};
        memset(m->items, 0, sizeof m->items);
        m->count = 0;
        for (int k = 0; k < count; k++) {
            if (!area[k]) continue;
            tta_mosaic_item it = items[k];
            it.source_index += src->first_index;
            it.bbox[0] = x0[k], it.bbox[1] = y0[k], it.bbox[2] = x1[k] - x0[k] + 1,
            it.bbox[3] = y1[k] - y0[k] + 1;
            it.area = area[k];
            m->items[m->count++] = it;
            renum[k + 1] = (uint8_t)m->count;
        }
        if (m->count == 0) continue; /* only blank items: draw again from the same stream */
        for (int i = 0; i < P * P; i++) {
            inst[i] = renum[inst[i]];
            mask[i] = inst[i] ? (uint8_t)(m->items[inst[i] - 1].label + 1) : 0;
        }
        tta_free(scaled);
        return TTA_OK;
    }
    tta_free(scaled);
    return tta_errorf(TTA_ERR_INTERNAL,
                      "mosaic %llu: no item has a pixel above %d in %d attempts (blank source?)",
                      (unsigned long long)index, opt->threshold, MOSAIC_TRIES);
}

void tta_mosaic_destroy(tta_mosaic *m) {
    if (!m) return;
    tta_image_destroy(&m->image);
    tta_image_destroy(&m->mask);
    tta_image_destroy(&m->instance);
    memset(m, 0, sizeof *m);
}
