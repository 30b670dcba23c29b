/* cmd_augment.c - `tta augment --policy P IMAGE -o GRID.png`: every view of a policy applied to
 * one image, drawn as a labelled grid so that a person can check what the model will see.
 * Also `--print` (the policy in canonical form) and `--bench N` (the time the batch writer
 * takes per image, to compare with the time of the model on the same batch). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/cli_util.h"
#include "cli/commands.h"
#include "image/draw.h"
#include "tta/augment.h"
#include "tta/image.h"

static int usage(FILE *f, int code) {
    fprintf(f, "usage: tta augment --policy P IMAGE -o GRID.png [--size HxW] [--zoom K] [--cols N]\n"
               "       tta augment --policy P --print\n"
               "       tta augment --policy P IMAGE --bench N [--size HxW]\n\n"
               "Applies every view of policy P to IMAGE (PNG or JPEG) and writes them side by side,\n"
               "each labelled with its number and its transforms, for a person to check.\n"
               "P is a preset (seed, flip, d4, five-crop, ten-crop, multiscale), policy text such as\n"
               "\"hflip; shift(3, 0, wrap); hflip > rotate(10)\" (views separated by ';' or new lines,\n"
               "transforms chained with '>'), or a policy file (\"@FILE\" forces a file). View 0 is\n"
               "always the unchanged image.\n\n"
               "options:\n"
               "  -o, --output FILE  the grid, a PNG\n"
               "  --size HxW     resize every view to H x W, as done for a model with that input size\n"
               "  --zoom K       enlarge views K times (default: views at least 128 pixels wide)\n"
               "  --cols N       views per row (default: a roughly square grid)\n"
               "  --print        print the policy in canonical form, one view per line, and exit\n"
               "  --bench N      time N runs of the batch writer on all views (NCHW float32) and\n"
               "                 print the time per image\n");
    return code;
}

static int parse_size(const char *s, int *h, int *w) {
    char x;
    return sscanf(s, "%d%c%d", h, &x, w) == 3 && (x == 'x' || x == 'X') && *h > 0 && *w > 0 && *h <= 65536 &&
           *w <= 65536;
}

/* the grid is RGB: gray views are repeated into the three channels, alpha is dropped */
static void blit(tta_image *grid, const tta_image *view, int x0, int y0, int zoom) {
    const uint8_t *s = view->data;
    uint8_t *d = grid->data;
    const int C = view->channels;
    for (int r = 0; r < view->height * zoom; r++) {
        int y = y0 + r;
        if (y < 0 || y >= grid->height) continue;
        for (int c = 0; c < view->width * zoom; c++) {
            int x = x0 + c;
            if (x < 0 || x >= grid->width) continue;
            const uint8_t *p = s + ((size_t)(r / zoom) * view->width + c / zoom) * C;
            uint8_t *q = d + ((size_t)y * grid->width + x) * 3;
            q[0] = p[0];
            q[1] = C >= 3 ? p[1] : p[0];
            q[2] = C >= 3 ? p[2] : p[0];
        }
    }
}

/* splits text into lines of at most `width` characters, preferring to break after a space or
 * a comma; returns the number of lines (writes them into lines[] if not NULL) */
static int wrap_text(const char *text, int width, char lines[][256], int max_lines) {
    int n = 0;
    size_t len = strlen(text), pos = 0;
    if (width < 4) width = 4;
    if (width > 255) width = 255;
    while (pos < len && n < max_lines) {
        while (text[pos] == ' ')
            pos++;
        size_t take = len - pos;
        if (take > (size_t)width) {
            take = (size_t)width;
            for (size_t k = take; k > (size_t)width / 2; k--)
                if (text[pos + k - 1] == ' ' || text[pos + k - 1] == ',') {
                    take = k;
                    break;
                }
        }
        if (lines) {
            memcpy(lines[n], text + pos, take);
            lines[n][take] = '\0';
        }
        n++;
        pos += take;
    }
    return n;
}

#define MAX_LABEL_LINES 6

static int write_grid(tta_aug_plan *plan, const tta_image *img, const char *image_path, const char *out,
                      int zoom, int cols) {
    const int V = tta_aug_plan_n_views(plan);
    tta_image *views = calloc((size_t)V, sizeof *views);
    tta_image grid = {0};
    int rc = 1, max_h = 0, max_w = 0;
    if (!views) {
        fprintf(stderr, "tta: out of memory\n");
        return 1;
    }
    for (int v = 0; v < V; v++) {
        if (tta_augment_view(plan, v, img, TTA_DTYPE_UINT8, &views[v])) {
            fprintf(stderr, "tta: %s: %s\n", image_path, tta_last_error());
            goto done;
        }
        if (views[v].height > max_h) max_h = views[v].height;
        if (views[v].width > max_w) max_w = views[v].width;
    }
    if (zoom <= 0) {
        zoom = (128 + max_w - 1) / max_w;
        zoom = zoom < 1 ? 1 : zoom > 8 ? 8 : zoom;
    }
    if (cols <= 0) cols = (int)ceil(sqrt((double)V));
    if (cols > V) cols = V;
    const int rows = (V + cols - 1) / cols, pad = 8;
    const int cell_w = max_w * zoom < 16 * TTA_FONT_ADVANCE ? 16 * TTA_FONT_ADVANCE : max_w * zoom;
    const int chars = cell_w / TTA_FONT_ADVANCE;
    int label_lines = 1;
    for (int v = 0; v < V; v++) {
        char text[1024], label[1100];
        tta_view_format(tta_aug_plan_view(plan, v), text, sizeof text);
        snprintf(label, sizeof label, "%d: %s", v, text);
        int n = wrap_text(label, chars, NULL, MAX_LABEL_LINES);
        if (n > label_lines) label_lines = n;
    }
    const int label_h = label_lines * TTA_FONT_LINE + 4, title_h = TTA_FONT_LINE + pad;
    const int cell_h = max_h * zoom + label_h;
    if (tta_image_init(&grid, title_h + pad + rows * (cell_h + pad), pad + cols * (cell_w + pad), 3,
                       TTA_DTYPE_UINT8)) {
        fprintf(stderr, "tta: %s\n", tta_last_error());
        goto done;
    }
    static const uint8_t bg[3] = {32, 32, 36}, frame[3] = {64, 64, 70}, ink[3] = {235, 235, 235},
                         dim[3] = {160, 160, 170};
    tta_draw_rect(&grid, 0, 0, grid.width, grid.height, bg);
    char title[512];
    snprintf(title, sizeof title, "%s: %d view%s, %dx%d", image_path, V, V == 1 ? "" : "s", img->height,
             img->width);
    tta_draw_text(&grid, pad, pad, title, dim, 1);
    for (int v = 0; v < V; v++) {
        int x = pad + (v % cols) * (cell_w + pad), y = title_h + pad + (v / cols) * (cell_h + pad);
        tta_draw_rect(&grid, x, y, cell_w, max_h * zoom, frame);
        blit(&grid, &views[v], x + (cell_w - views[v].width * zoom) / 2,
             y + (max_h - views[v].height) * zoom / 2, zoom);
        char text[1024], label[1100], lines[MAX_LABEL_LINES][256];
        tta_view_format(tta_aug_plan_view(plan, v), text, sizeof text);
        snprintf(label, sizeof label, "%d: %s", v, text);
        int n = wrap_text(label, chars, lines, MAX_LABEL_LINES);
        for (int l = 0; l < n; l++)
            tta_draw_text(&grid, x, y + max_h * zoom + 3 + l * TTA_FONT_LINE, lines[l], ink, 1);
    }
    if (tta_image_write_png(&grid, out)) {
        fprintf(stderr, "tta: %s\n", tta_last_error());
        goto done;
    }
    printf("%s: %d views, %dx%d grid\n", out, V, grid.height, grid.width);
    rc = 0;
done:
    for (int v = 0; v < V; v++)
        tta_image_destroy(&views[v]);
    free(views);
    tta_image_destroy(&grid);
    return rc;
}

static double seconds(clockid_t clock) {
    struct timespec ts;
    clock_gettime(clock, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static int bench(tta_aug_plan *plan, const tta_image *img, int n) {
    const int V = tta_aug_plan_n_views(plan);
    tta_batch_format fmt = {TTA_LAYOUT_NCHW, TTA_DTYPE_FLOAT32};
    size_t bytes = tta_batch_bytes(plan, 1, 0, V, &fmt, img->channels);
    float *buf = malloc(bytes ? bytes : 1);
    if (!buf) {
        fprintf(stderr, "tta: out of memory for a batch of %zu bytes\n", bytes);
        return 1;
    }
    /* warm up: scratch memory is allocated on the first call */
    if (tta_augment_batch(plan, img, 1, 0, V, &fmt, buf, bytes)) {
        free(buf);
        return cli_fail();
    }
    double t0 = seconds(CLOCK_MONOTONIC), c0 = seconds(CLOCK_PROCESS_CPUTIME_ID);
    for (int i = 0; i < n; i++)
        tta_augment_batch(plan, img, 1, 0, V, &fmt, buf, bytes);
    double per = (seconds(CLOCK_MONOTONIC) - t0) / n, cpu = (seconds(CLOCK_PROCESS_CPUTIME_ID) - c0) / n;
    int h, w;
    tta_aug_plan_view_size(plan, 0, &h, &w);
    printf("augment: %d views of %dx%dx%d -> %dx%d float32 NCHW: %.2f us per image (%.2f us per view, "
           "%.2f ns per value), %.2f us of CPU time per image\n",
           V, img->height, img->width, img->channels, h, w, per * 1e6, per * 1e6 / V,
           per * 1e9 / ((double)V * h * w * img->channels), cpu * 1e6);
    free(buf);
    return 0;
}

int tta_cmd_augment(int argc, char **argv) {
    const char *policy = NULL, *image_path = NULL, *out = NULL;
    int size_h = 0, size_w = 0, zoom = 0, cols = 0, print = 0, bench_n = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) return usage(stdout, 0);
        if (!strcmp(a, "--policy") && i + 1 < argc) {
            policy = argv[++i];
        } else if ((!strcmp(a, "-o") || !strcmp(a, "--output")) && i + 1 < argc) {
            out = argv[++i];
        } else if (!strcmp(a, "--size") && i + 1 < argc) {
            if (!parse_size(argv[++i], &size_h, &size_w)) {
                fprintf(stderr, "tta: augment: --size wants HxW, e.g. 224x224, not '%s'\n", argv[i]);
                return 2;
            }
        } else if (!strcmp(a, "--zoom") && i + 1 < argc) {
            zoom = atoi(argv[++i]);
            if (zoom < 1 || zoom > 64) {
                fprintf(stderr, "tta: augment: --zoom wants a whole number from 1 to 64\n");
                return 2;
            }
        } else if (!strcmp(a, "--cols") && i + 1 < argc) {
            cols = atoi(argv[++i]);
            if (cols < 1) {
                fprintf(stderr, "tta: augment: --cols wants a positive number\n");
                return 2;
            }
        } else if (!strcmp(a, "--bench") && i + 1 < argc) {
            bench_n = atoi(argv[++i]);
            if (bench_n < 1) {
                fprintf(stderr, "tta: augment: --bench wants a positive number of runs\n");
                return 2;
            }
        } else if (!strcmp(a, "--print")) {
            print = 1;
        } else if (a[0] == '-' && a[1]) {
            fprintf(stderr, "tta: augment: unknown or incomplete option '%s'\n", a);
            return usage(stderr, 2);
        } else if (!image_path) {
            image_path = a;
        } else {
            fprintf(stderr, "tta: augment: unexpected argument '%s'\n", a);
            return usage(stderr, 2);
        }
    }
    if (!policy) {
        fprintf(stderr, "tta: augment: --policy is required\n");
        return usage(stderr, 2);
    }
    if (!print && (!image_path || (!out && !bench_n))) return usage(stderr, 2);

    int rc = 1;
    tta_policy pol = {0};
    tta_image img = {0};
    tta_aug_plan *plan = NULL;
    if (cli_load_policy(policy, &pol)) goto done;
    if (print) {
        size_t n = tta_policy_format(&pol, NULL, 0);
        char *text = malloc(n + 1);
        if (!text) goto done;
        tta_policy_format(&pol, text, n + 1);
        fputs(text, stdout);
        free(text);
        if (!image_path) {
            rc = 0;
            goto done;
        }
    }
    if (!image_path || (!out && !bench_n)) {
        rc = 0;
        goto done;
    }
    if (tta_image_read(&img, image_path)) { /* the message names the file */
        cli_fail();
        goto done;
    }
    if (tta_aug_plan_new(&plan, &pol, img.height, img.width, size_h, size_w)) {
        fprintf(stderr, "tta: %s: %s\n", image_path, tta_last_error());
        goto done;
    }
    rc = 0;
    if (out) rc = write_grid(plan, &img, image_path, out, zoom, cols);
    if (rc == 0 && bench_n) rc = bench(plan, &img, bench_n);
done:
    tta_aug_plan_free(plan);
    tta_image_destroy(&img);
    tta_policy_destroy(&pol);
    return rc;
}
