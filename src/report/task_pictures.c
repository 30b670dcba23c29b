/* task_pictures.c - the pictures of the detection and segmentation reports (task_pictures.h):
 * images with their boxes drawn as SVG over the embedded PNG (labels stay sharp at any
 * zoom), and masks and entropy maps turned into coloured PNGs with their colour keys. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "report/html.h"
#include "report/task_pictures.h"

#define DET_SIDE 320 /* detection pictures enlarged to at least this many pixels */
#define SEG_SIDE 160 /* segmentation pictures */

static const uint8_t box_palette[8][3] = {{230, 25, 75},  {60, 180, 75},  {255, 225, 25}, {0, 130, 200},
                                          {245, 130, 48}, {145, 30, 180}, {70, 240, 240}, {240, 50, 230}};

/* the class colours of `tta segment predict` (class 0, the background, black) */
static const uint8_t class_palette[12][3] = {{0, 0, 0},      {230, 25, 75},  {60, 180, 75},   {255, 225, 25},
                                             {0, 130, 200},  {245, 130, 48}, {145, 30, 180},  {70, 240, 240},
                                             {240, 50, 230}, {210, 245, 60}, {250, 190, 212}, {0, 128, 128}};

/* a perceptually ordered colour map (viridis, 5 stops, linear between them) */
static const uint8_t heat_stops[5][3] = {
    {68, 1, 84}, {59, 82, 139}, {33, 145, 140}, {94, 201, 98}, {253, 231, 37}};

void tta_report_heat_colour(double t, uint8_t *rgb) {
    t = t < 0 ? 0 : t > 1 ? 1 : t;
    double x = t * 4;
    int i = (int)x < 4 ? (int)x : 3;
    double u = x - i;
    for (int c = 0; c < 3; c++)
        rgb[c] = (uint8_t)lround(heat_stops[i][c] * (1 - u) + heat_stops[i + 1][c] * u);
}

void tta_report_class_colour(int c, uint8_t *rgb) { memcpy(rgb, class_palette[(c % 12 + 12) % 12], 3); }

static const char *class_label(const char *const *names, int n, int c, char *buf, size_t size) {
    if (names && c >= 0 && c < n && names[c]) return names[c];
    snprintf(buf, size, "class %d", c);
    return buf;
}

/* one panel: the picture and its boxes of at least min_score, best drawn last */
static tta_status det_panel(FILE *f, const tta_image *img, const tta_box *b, int n, int n_views,
                            const char *title, const char *const *names, int n_classes, double min_score) {
    char *uri = NULL;
    size_t uri_size = 0;
    FILE *m = open_memstream(&uri, &uri_size);
    int w = 0, h = 0;
    if (!m) return tta_errorf(TTA_ERR_NOMEM, "report: out of memory for a picture");
    tta_status st = tta_html_png_uri(m, img, DET_SIDE, &w, &h);
    fclose(m);
    if (st) {
        free(uri);
        return st;
    }
    double k = (double)w / img->width;
    fprintf(f,
            "<div class=\"item\"><svg xmlns=\"http://www.w3.org/2000/svg\" class=\"detections\" width=\"%d\" "
            "height=\"%d\" viewBox=\"0 0 %d %d\" font-family=\"sans-serif\" font-size=\"11\">",
            w, h + 4, w, h + 4);
    fprintf(
        f,
        "<image href=\"%s\" x=\"0\" y=\"0\" width=\"%d\" height=\"%d\" style=\"image-rendering:pixelated\"/>",
        uri, w, h);
    free(uri);
    for (int i = n - 1; i >= 0; i--) {
        const tta_box *x = &b[i];
        if (x->score < min_score) continue;
        const uint8_t *c = box_palette[(x->label % 8 + 8) % 8];
        double x1 = x->x1 * k, y1 = x->y1 * k, bw = (x->x2 - x->x1) * k, bh = (x->y2 - x->y1) * k;
        char lab[160], tmp[32];
        snprintf(lab, sizeof lab, "%s %.2f %d/%d", class_label(names, n_classes, x->label, tmp, sizeof tmp),
                 x->score, x->support, n_views);
        double lw = 6.2 * (double)strlen(lab) + 4, ly = y1 >= 14 ? y1 - 14 : y1;
        fprintf(f, "<g><title>");
        tta_html_escape(f, lab);
        fprintf(f,
                " (score, views that found it / views)</title><rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" "
                "height=\"%.1f\" fill=\"none\" stroke=\"rgb(%d,%d,%d)\" stroke-width=\"2\"/>",
                x1, y1, bw, bh, c[0], c[1], c[2]);
        fprintf(f,
                "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"14\" fill=\"rgb(%d,%d,%d)\" "
                "fill-opacity=\"0.85\"/>"
                "<text x=\"%.1f\" y=\"%.1f\" fill=\"black\">",
                x1, ly, lw, c[0], c[1], c[2], x1 + 2, ly + 11);
        tta_html_escape(f, lab);
        fprintf(f, "</text></g>\n");
    }
    fprintf(f, "</svg><span>");
    tta_html_escape(f, title);
    fprintf(f, "</span></div>\n");
    return TTA_OK;
}

tta_status tta_report_det_pictures(FILE *f, const tta_report_det_image *im, int n, const char *focus,
                                   const char *const *names, int n_classes, double min_score) {
    for (int i = 0; i < n; i++) {
        char head[256], t2[256];
        snprintf(head, sizeof head,
                 "%s: boxes of score %.2f or more, labelled class, score and support (views that "
                 "found the box / views)",
                 im[i].name, min_score);
        tta_html_strip_begin(f, "detection", head);
        TTA_TRY(det_panel(f, im[i].image, im[i].single, im[i].n_single, 1, "one pass (identity, NMS)", names,
                          n_classes, min_score));
        snprintf(t2, sizeof t2, "TTA: %s", focus);
        TTA_TRY(det_panel(f, im[i].image, im[i].tta, im[i].n_tta, im[i].n_views, t2, names, n_classes,
                          min_score));
        tta_html_strip_end(f);
    }
    return TTA_OK;
}

/* labels as a colour picture (values >= classes, e.g. an ignore value, grey) */
static tta_status label_picture(FILE *f, const uint8_t *lab, int h, int w, int classes, const char *alt) {
    tta_image img = {0};
    TTA_TRY(tta_image_init(&img, h, w, 3, TTA_DTYPE_UINT8));
    uint8_t *d = img.data;
    for (size_t i = 0; i < (size_t)h * w; i++) {
        if (lab[i] < classes)
            tta_report_class_colour(lab[i], d + 3 * i);
        else
            d[3 * i] = d[3 * i + 1] = d[3 * i + 2] = 128;
    }
    tta_status st = tta_html_png(f, &img, SEG_SIDE, alt);
    tta_image_destroy(&img);
    return st;
}

static tta_status heat_picture(FILE *f, const float *v, int h, int w, double vmax, const char *alt) {
    tta_image img = {0};
    TTA_TRY(tta_image_init(&img, h, w, 3, TTA_DTYPE_UINT8));
    uint8_t *d = img.data;
    for (size_t i = 0; i < (size_t)h * w; i++)
        tta_report_heat_colour(vmax > 0 ? v[i] / vmax : 0, d + 3 * i);
    tta_status st = tta_html_png(f, &img, SEG_SIDE, alt);
    tta_image_destroy(&img);
    return st;
}

/* the colour keys: each class's colour, and the entropy scale as a gradient */
static void seg_keys(FILE *f, const char *const *names, int classes, double vmax) {
    fprintf(f, "<div class=\"keys\">");
    for (int c = 0; c < classes; c++) {
        uint8_t rgb[3];
        char tmp[32];
        tta_report_class_colour(c, rgb);
        fprintf(f, "<span class=\"key\"><span class=\"swatch\" style=\"background:rgb(%d,%d,%d)\"></span>",
                rgb[0], rgb[1], rgb[2]);
        tta_html_escape(f, class_label(names, classes, c, tmp, sizeof tmp));
        fprintf(f, "</span>");
    }
    fprintf(f, "<span class=\"key\"><span class=\"swatch\" "
               "style=\"background:rgb(128,128,128)\"></span>ignored</span>");
    fprintf(f,
            "</div>\n<div class=\"keys\"><span class=\"key\">entropy (nats): 0</span><svg "
            "xmlns=\"http://www.w3.org/"
            "2000/svg\" class=\"colourbar\" width=\"240\" height=\"14\"><defs><linearGradient id=\"heat\">");
    for (int i = 0; i < 5; i++) {
        uint8_t rgb[3];
        tta_report_heat_colour(i / 4.0, rgb);
        fprintf(f, "<stop offset=\"%d%%\" stop-color=\"rgb(%d,%d,%d)\"/>", i * 25, rgb[0], rgb[1], rgb[2]);
    }
    fprintf(f,
            "</linearGradient></defs><rect width=\"240\" height=\"14\" fill=\"url(#heat)\"/></svg><span "
            "class=\"key\">%.2f = log %d classes (most uncertain)</span></div>\n",
            vmax, classes);
}

tta_status tta_report_seg_pictures(FILE *f, const tta_report_seg_image *im, int n, const char *focus,
                                   const char *const *names, int classes) {
    double vmax = log(classes > 1 ? classes : 2);
    seg_keys(f, names, classes, vmax);
    for (int i = 0; i < n; i++) {
        const tta_report_seg_image *s = &im[i];
        char head[256];
        snprintf(head, sizeof head, "%s", s->name);
        tta_html_strip_begin(f, "segmentation", head);
        tta_html_item_begin(f);
        TTA_TRY(tta_html_png(f, s->image, SEG_SIDE, "image"));
        tta_html_item_caption(f, "image");
        tta_html_item_end(f);
        const uint8_t *labs[3] = {s->truth, s->single, s->tta};
        const char *caps[3] = {"true mask", "one pass", focus};
        for (int j = 0; j < 3; j++) {
            tta_html_item_begin(f);
            TTA_TRY(label_picture(f, labs[j], s->height, s->width, classes, caps[j]));
            tta_html_item_caption(f, "%s%s", j == 2 ? "TTA: " : "", caps[j]);
            tta_html_item_end(f);
        }
        tta_html_item_begin(f);
        TTA_TRY(heat_picture(f, s->entropy, s->height, s->width, vmax, "entropy"));
        tta_html_item_caption(f, "TTA's predictive entropy");
        tta_html_item_end(f);
        tta_html_strip_end(f);
    }
    return TTA_OK;
}
