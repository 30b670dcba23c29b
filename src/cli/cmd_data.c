/* cmd_data.c - `tta data mosaic ...`: writes a synthetic detection and segmentation data set of
 * Fashion-MNIST mosaics (PNG canvases, PNG class masks, COCO boxes); the generator itself is
 * the library's (include/tta/mosaic.h). */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/commands.h"
#include "tta/mosaic.h"

static int usage(FILE *f, int code) {
    fprintf(f, "usage: tta data mosaic --split S --count K -o DIR [--seed N] [--size P] [options]\n\n"
               "Writes K canvases of P x P pixels, each with 1 to 5 Fashion-MNIST items of split S\n"
               "(train = training images 0..54999, val = 55000..59999, test = the 10,000 t10k images)\n"
               "at random positions and scales, pasted with max blending on a black background:\n"
               "  DIR/images/000000.png ...   the canvases (8-bit grayscale)\n"
               "  DIR/masks/000000.png ...    class id + 1 per pixel (0 = background)\n"
               "  DIR/annotations.json        COCO boxes [x, y, w, h] of each item's mask pixels,\n"
               "                              category_id = class id + 1, area, iscrowd 0\n"
               "The same seed and options give the same files byte for byte.\n\n"
               "  --split S          train, val or test (required)\n"
               "  --count K          number of canvases, 1..1000000 (required)\n"
               "  -o, --out DIR      output directory, created if missing (required)\n"
               "  --seed N           PRNG seed, 0..2^64-1 (default 1)\n"
               "  --size P           canvas side in pixels, 8..4096 (default 64)\n"
               "  --min-items N      fewest items per canvas (default 1)\n"
               "  --max-items N      most items per canvas, at most 5 (default 5)\n"
               "  --min-scale X      smallest item scale, relative to 28 px (default 0.75)\n"
               "  --max-scale X      largest item scale (default 1.5; clamped to the canvas)\n"
               "  --max-overlap X    fraction of an item's square others may cover (default 0.25)\n"
               "  --threshold T      foreground = pixel value > T (default 30)\n"
               "  --noise A          background noise, uniform in [0, A], A <= T (default 0)\n"
               "  --data-dir D       Fashion-MNIST .gz files (default " TTA_MOSAIC_DEFAULT_DATA_DIR ")\n"
               "  -q, --quiet        no progress on stderr\n");
    return code;
}

static int parse_int(const char *flag, const char *s, long lo, long hi, int *out) {
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || end == s || *end || v < lo || v > hi) {
        fprintf(stderr, "tta: data mosaic: %s: '%s' is not an integer in %ld..%ld\n", flag, s, lo, hi);
        return 0;
    }
    *out = (int)v;
    return 1;
}

static int parse_double(const char *flag, const char *s, double *out) {
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || end == s || *end || !(v == v)) {
        fprintf(stderr, "tta: data mosaic: %s: '%s' is not a number\n", flag, s);
        return 0;
    }
    *out = v;
    return 1;
}

static int parse_seed(const char *s, uint64_t *out) {
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || end == s || *end || s[0] == '-' || s[0] == '+' || s[0] == ' ') {
        fprintf(stderr, "tta: data mosaic: --seed: '%s' is not an integer in 0..18446744073709551615\n", s);
        return 0;
    }
    *out = (uint64_t)v;
    return 1;
}

/* Progress on stderr: a line at every tenth of a large run. */
static void progress(void *user, int done, int total) {
    int *last = user;
    int tenth = (int)((long long)done * 10 / total);
    if (total >= 1000 && tenth > *last) {
        *last = tenth;
        fprintf(stderr, "mosaic: %d/%d\n", done, total);
    }
}

static int cmd_mosaic(int argc, char **argv) {
    tta_mosaic_options opt;
    tta_mosaic_options_default(&opt);
    const char *split = NULL, *out = NULL, *data_dir = NULL;
    uint64_t seed = 1;
    int count = 0, quiet = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) return usage(stdout, 0);
        if (!strcmp(a, "-q") || !strcmp(a, "--quiet")) {
            quiet = 1;
            continue;
        }
        if (a[0] != '-') {
            fprintf(stderr, "tta: data mosaic: unexpected argument '%s'\n", a);
            return 2;
        }
        if (i + 1 >= argc) {
            fprintf(stderr, "tta: data mosaic: %s needs a value\n", a);
            return 2;
        }
        const char *v = argv[++i];
        int ok = 1;
        if (!strcmp(a, "--split"))
            split = v;
        else if (!strcmp(a, "-o") || !strcmp(a, "--out"))
            out = v;
        else if (!strcmp(a, "--data-dir"))
            data_dir = v;
        else if (!strcmp(a, "--seed"))
            ok = parse_seed(v, &seed);
        else if (!strcmp(a, "--count"))
            ok = parse_int(a, v, 1, 1000000, &count);
        else if (!strcmp(a, "--size"))
            ok = parse_int(a, v, 8, 4096, &opt.size);
        else if (!strcmp(a, "--min-items"))
            ok = parse_int(a, v, 1, TTA_MOSAIC_MAX_ITEMS, &opt.min_items);
        else if (!strcmp(a, "--max-items"))
            ok = parse_int(a, v, 1, TTA_MOSAIC_MAX_ITEMS, &opt.max_items);
        else if (!strcmp(a, "--threshold"))
            ok = parse_int(a, v, 0, 254, &opt.threshold);
        else if (!strcmp(a, "--noise"))
            ok = parse_int(a, v, 0, 254, &opt.noise);
        else if (!strcmp(a, "--min-scale"))
            ok = parse_double(a, v, &opt.min_scale);
        else if (!strcmp(a, "--max-scale"))
            ok = parse_double(a, v, &opt.max_scale);
        else if (!strcmp(a, "--max-overlap"))
            ok = parse_double(a, v, &opt.max_overlap);
        else {
            fprintf(stderr, "tta: data mosaic: unknown option '%s'\n", a);
            return usage(stderr, 2);
        }
        if (!ok) return 2;
    }
    if (!split || !count || !out) {
        fprintf(stderr, "tta: data mosaic: %s is required\n",
                !split   ? "--split"
                : !count ? "--count"
                         : "-o DIR");
        return 2;
    }
    if (strcmp(split, "train") && strcmp(split, "val") && strcmp(split, "test")) {
        fprintf(stderr, "tta: data mosaic: --split: '%s' is not train, val or test\n", split);
        return 2;
    }
    if (tta_mosaic_options_check(&opt) != TTA_OK) {
        fprintf(stderr, "tta: data mosaic: %s\n", tta_last_error());
        return 2;
    }
    tta_mosaic_source src = {0};
    if (tta_mosaic_source_load(&src, data_dir, split) != TTA_OK) {
        fprintf(stderr, "tta: %s\n", tta_last_error());
        return 1;
    }
    int last = 0;
    tta_status st = tta_mosaic_write_dataset(&src, &opt, seed, count, out, quiet ? NULL : progress, &last);
    tta_mosaic_source_destroy(&src);
    if (st != TTA_OK) {
        fprintf(stderr, "tta: %s\n", tta_last_error());
        return 1;
    }
    printf("wrote %d mosaics of %dx%d (split %s, seed %llu) to %s\n", count, opt.size, opt.size, split,
           (unsigned long long)seed, out);
    return 0;
}

int tta_cmd_data(int argc, char **argv) {
    if (argc < 2 || !strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
        FILE *f = argc < 2 ? stderr : stdout;
        fprintf(f, "usage: tta data mosaic [OPTIONS]   (`tta data mosaic --help` for the options)\n\n"
                   "Makes data sets. mosaic: Fashion-MNIST items on canvases, with boxes (COCO JSON) and\n"
                   "class masks (PNG), for detection and segmentation.\n");
        return argc < 2 ? 2 : 0;
    }
    if (!strcmp(argv[1], "mosaic")) return cmd_mosaic(argc - 1, argv + 1);
    fprintf(stderr, "tta: data: unknown data set '%s' (known: mosaic)\n", argv[1]);
    return 2;
}
