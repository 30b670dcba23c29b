/* html.c - the HTML page, escaping, tables, base64 and embedded PNG pictures (html.h). */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "image/codec.h"
#include "report/html.h"

void tta_html_escape(FILE *f, const char *s) {
    for (; s && *s; s++) {
        switch (*s) {
        case '&': fputs("&amp;", f); break;
        case '<': fputs("&lt;", f); break;
        case '>': fputs("&gt;", f); break;
        case '"': fputs("&quot;", f); break;
        case '\'': fputs("&#39;", f); break;
        default: fputc(*s, f);
        }
    }
}

size_t tta_base64_size(size_t n) { return (n + 2) / 3 * 4 + 1; }

size_t tta_base64_encode(const unsigned char *in, size_t n, char *out) {
    static const char abc[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    size_t o = 0, i = 0;
    for (; i + 2 < n; i += 3) {
        unsigned v = (unsigned)in[i] << 16 | (unsigned)in[i + 1] << 8 | in[i + 2];
        out[o++] = abc[v >> 18 & 63], out[o++] = abc[v >> 12 & 63];
        out[o++] = abc[v >> 6 & 63], out[o++] = abc[v & 63];
    }
    if (n - i == 1) {
        unsigned v = (unsigned)in[i] << 16;
        out[o++] = abc[v >> 18 & 63], out[o++] = abc[v >> 12 & 63], out[o++] = '=', out[o++] = '=';
    } else if (n - i == 2) {
        unsigned v = (unsigned)in[i] << 16 | (unsigned)in[i + 1] << 8;
        out[o++] = abc[v >> 18 & 63], out[o++] = abc[v >> 12 & 63], out[o++] = abc[v >> 6 & 63],
        out[o++] = '=';
    }
    out[o] = '\0';
    return o;
}

/* The style: system fonts, tables with right-aligned numbers, pictures in wrapping rows. */
static const char *style =
    "body{font-family:sans-serif;font-size:14px;color:#222;margin:24px auto;max-width:1180px;padding:0 "
    "16px}\n"
    "h1{font-size:22px;margin-bottom:4px}h2{font-size:18px;margin-top:32px;border-bottom:1px solid #ddd}\n"
    "p.sub{color:#555;margin-top:0}\n"
    "div.scroll{overflow-x:auto;max-width:100%}table{border-collapse:collapse;margin:4px 0 "
    "16px;font-size:13px}\n"
    "p.caption{color:#555;margin-bottom:2px}\n"
    "th,td{padding:3px 6px;border-bottom:1px solid #e4e4e4}th{background:#f4f4f4;text-align:center}\n"
    "td{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}td.t{text-align:left;white-"
    "space:normal}\n"
    "svg.plot{display:block;margin:8px 0 20px;background:#fff}\n"
    ".strip{display:flex;flex-wrap:wrap;gap:6px;align-items:flex-start;margin:6px 0 14px;padding:6px;"
    "border:1px solid #eee}\n"
    ".strip h3{width:100%;font-size:14px;margin:0 0 4px}\n"
    ".item{display:flex;flex-direction:column;align-items:center;font-size:11px;max-width:200px}\n"
    ".strip.detection .item{max-width:none}\n"
    ".item img{image-rendering:pixelated;border:1px solid #ccc}\n"
    ".item span{text-align:center}\n"
    ".keys{display:flex;flex-wrap:wrap;gap:10px;align-items:center;font-size:12px;margin:4px 0}\n"
    ".swatch{display:inline-block;width:12px;height:12px;border:1px solid "
    "#999;margin-right:4px;vertical-align:middle}\n"
    "pre{background:#f8f8f8;padding:8px;overflow-x:auto;font-size:12px}\n"
    "#report-status{color:#888;font-size:12px;margin-top:40px}\n";

/* Counts what rendered; a test reads the status it sets (and any script error it records). */
static const char *script = "window.addEventListener('error', function (e) {\n"
                            "  document.body.setAttribute('data-error', String(e.message));\n"
                            "});\n"
                            "window.addEventListener('load', function () {\n"
                            "  var plots = document.querySelectorAll('svg.plot').length;\n"
                            "  var pics = document.querySelectorAll('img, svg.detections').length;\n"
                            "  var s = document.getElementById('report-status');\n"
                            "  s.textContent = 'rendered: ' + plots + ' plots, ' + pics + ' pictures';\n"
                            "  document.body.setAttribute('data-rendered', String(plots));\n"
                            "});\n";

void tta_html_begin(FILE *f, const char *title, const char *subtitle) {
    fputs("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\"/>\n<title>", f);
    tta_html_escape(f, title);
    fprintf(f, "</title>\n<style>\n%s</style>\n<script>\n%s</script>\n</head>\n<body>\n<h1>", style, script);
    tta_html_escape(f, title);
    fputs("</h1>\n", f);
    if (subtitle) {
        fputs("<p class=\"sub\">", f);
        tta_html_escape(f, subtitle);
        fputs("</p>\n", f);
    }
}

void tta_html_end(FILE *f) {
    fputs("<p id=\"report-status\">written by tta; the page runs no code beyond counting what it shows</p>\n"
          "</body>\n</html>\n",
          f);
}

void tta_html_h2(FILE *f, const char *id, const char *text) {
    fputs("<h2 id=\"", f);
    tta_html_escape(f, id);
    fputs("\">", f);
    tta_html_escape(f, text);
    fputs("</h2>\n", f);
}

void tta_html_pre(FILE *f, const char *text) {
    fputs("<pre>", f);
    tta_html_escape(f, text);
    fputs("</pre>\n", f);
}

static void escaped_vf(FILE *f, const char *fmt, va_list ap) {
    char small[1024], *buf = small;
    va_list ap2;
    va_copy(ap2, ap);
    int n = vsnprintf(small, sizeof small, fmt, ap);
    if (n >= (int)sizeof small && (buf = malloc((size_t)n + 1)) != NULL)
        vsnprintf(buf, (size_t)n + 1, fmt, ap2);
    va_end(ap2);
    tta_html_escape(f, buf ? buf : small);
    if (buf != small) free(buf);
}

void tta_html_p(FILE *f, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    fputs("<p>", f);
    escaped_vf(f, fmt, ap);
    fputs("</p>\n", f);
    va_end(ap);
}

void tta_html_table_begin(FILE *f, const char *id, const char *caption, int n, const char *const *headers) {
    if (caption) { /* a paragraph, not a <caption>: that would wrap to the table's width */
        fputs("<p class=\"caption\">", f);
        tta_html_escape(f, caption);
        fputs("</p>\n", f);
    }
    fputs("<div class=\"scroll\"><table id=\"", f);
    tta_html_escape(f, id);
    fputs("\">\n", f);
    fputs("<tr>", f);
    for (int i = 0; i < n; i++) {
        fputs("<th>", f);
        tta_html_escape(f, headers[i]);
        fputs("</th>", f);
    }
    fputs("</tr>\n", f);
}

void tta_html_row_begin(FILE *f) { fputs("<tr>", f); }
void tta_html_row_end(FILE *f) { fputs("</tr>\n", f); }
void tta_html_table_end(FILE *f) { fputs("</table></div>\n", f); }

void tta_html_cell(FILE *f, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    fputs("<td>", f);
    escaped_vf(f, fmt, ap);
    fputs("</td>", f);
    va_end(ap);
}

void tta_html_cell_text(FILE *f, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    fputs("<td class=\"t\">", f);
    escaped_vf(f, fmt, ap);
    fputs("</td>", f);
    va_end(ap);
}

/* img enlarged by a whole factor (nearest neighbour) to a longer side of at least min_side. */
static tta_status enlarge(const tta_image *img, int min_side, tta_image *out, const tta_image **use) {
    int side = img->height > img->width ? img->height : img->width;
    int k = min_side > side && side > 0 ? (min_side + side - 1) / side : 1;
    *use = img;
    if (k == 1) return TTA_OK;
    tta_image u8 = {0};
    const tta_image *s = img;
    if (img->dtype != TTA_DTYPE_UINT8) {
        TTA_TRY(tta_image_convert(&u8, img, TTA_DTYPE_UINT8));
        s = &u8;
    }
    tta_status st = tta_image_init(out, s->height * k, s->width * k, s->channels, TTA_DTYPE_UINT8);
    if (!st) {
        const uint8_t *p = s->data;
        uint8_t *d = out->data;
        int c = s->channels;
        for (int y = 0; y < out->height; y++)
            for (int x = 0; x < out->width; x++)
                memcpy(d + ((size_t)y * out->width + x) * c, p + ((size_t)(y / k) * s->width + x / k) * c,
                       (size_t)c);
        *use = out;
    }
    tta_image_destroy(&u8);
    return st;
}

tta_status tta_html_png_uri(FILE *f, const tta_image *img, int min_side, int *width, int *height) {
    tta_image big = {0};
    const tta_image *use;
    TTA_TRY(enlarge(img, min_side, &big, &use));
    void *png = NULL;
    size_t size = 0;
    tta_status st = tta_image_encode_png(use, &png, &size);
    *width = use->width, *height = use->height;
    tta_image_destroy(&big);
    if (st) return st;
    char *b64 = malloc(tta_base64_size(size));
    if (!b64) {
        tta_free(png);
        return tta_errorf(TTA_ERR_NOMEM, "report: out of memory for a picture of %zu bytes", size);
    }
    tta_base64_encode(png, size, b64);
    fputs("data:image/png;base64,", f);
    fputs(b64, f);
    free(b64);
    tta_free(png);
    return TTA_OK;
}

tta_status tta_html_png(FILE *f, const tta_image *img, int min_side, const char *alt) {
    int w, h;
    fputs("<img src=\"", f);
    TTA_TRY(tta_html_png_uri(f, img, min_side, &w, &h));
    fprintf(f, "\" width=\"%d\" height=\"%d\" alt=\"", w, h);
    tta_html_escape(f, alt);
    fputs("\"/>", f);
    return TTA_OK;
}

void tta_html_strip_begin(FILE *f, const char *cls, const char *heading) {
    fputs("<div class=\"strip ", f);
    tta_html_escape(f, cls);
    fputs("\">", f);
    if (heading) {
        fputs("<h3>", f);
        tta_html_escape(f, heading);
        fputs("</h3>", f);
    }
    fputs("\n", f);
}

void tta_html_item_begin(FILE *f) { fputs("<div class=\"item\">", f); }

void tta_html_item_caption(FILE *f, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    fputs("<span>", f);
    escaped_vf(f, fmt, ap);
    fputs("</span>", f);
    va_end(ap);
}

void tta_html_item_end(FILE *f) { fputs("</div>\n", f); }
void tta_html_strip_end(FILE *f) { fputs("</div>\n", f); }
