/* svg_plot.c - line/point plots and horizontal bar charts as SVG (svg_plot.h).
 *
 * Layout: a title line, the plot area with ticks and grid, the axis labels under and left of
 * it, and the legend in a column on the right whose width follows the longest entry, or under
 * the plot when its entries are long (text widths are estimated at 7 px per character of the
 * 12 px font, so nothing overlaps). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "report/html.h"
#include "report/svg_plot.h"

#define CHAR_W 7.0 /* estimated width of a character at font-size 12 */
#define MAX_TICKS 64
#define LEGEND_CHARS 44 /* longer legend entries are cut with "..." */

static const char *palette[8] = {"#1f77b4", "#d62728", "#2ca02c", "#9467bd",
                                 "#ff7f0e", "#8c564b", "#e377c2", "#17becf"};

const char *tta_plot_colour(int i) { return palette[(i % 8 + 8) % 8]; }

/* m x 10^e without the rounding error of multiplying by a negative power of ten */
static double nice_value(long long k, double e10, int e) {
    return e >= 0 ? (double)k * e10 : (double)k / e10;
}

int tta_nice_ticks(double lo, double hi, int max_ticks, int integer_only, double *ticks, int cap,
                   double *step) {
    static const int mant[3] = {1, 2, 5};
    if (!(hi > lo) || max_ticks < 2) {
        if (cap > 0) ticks[0] = lo;
        *step = 1;
        return cap > 0;
    }
    int e = (int)floor(log10((hi - lo) / max_ticks)) - 1;
    if (integer_only && e < 0) e = 0;
    for (;; e++) {
        double e10 = pow(10, abs(e));
        for (int m = 0; m < 3; m++) {
            double s = nice_value(mant[m], e10, e);
            long long first = (long long)ceil(lo / s - 1e-9), last = (long long)floor(hi / s + 1e-9);
            if (last - first + 1 > max_ticks) continue;
            int n = 0;
            for (long long k = first; k <= last && n < cap; k++)
                ticks[n++] = nice_value(k * mant[m], e10, e);
            *step = s;
            return n;
        }
    }
}

int tta_tick_decimals(double step) {
    int d = 0;
    while (d < 9 && fabs(step * pow(10, d) - round(step * pow(10, d))) > 1e-9 * pow(10, d))
        d++;
    return d;
}

int tta_log_ticks(double lo, double hi, double *ticks, int cap) {
    int n = 0, e0 = (int)floor(log10(lo)), e1 = (int)ceil(log10(hi));
    int fine = e1 - e0 <= 3;
    for (int e = e0; e <= e1; e++)
        for (int m = 1; m <= 5; m++) {
            if (m != 1 && !(fine && (m == 2 || m == 5))) continue;
            double v = e >= 0 ? m * pow(10, e) : m / pow(10, -e);
            if (v >= lo * (1 - 1e-12) && v <= hi * (1 + 1e-12) && n < cap) ticks[n++] = v;
        }
    return n;
}

tta_plot tta_plot_default(const char *id, const char *title, const char *x_label, const char *y_label) {
    tta_plot p;
    memset(&p, 0, sizeof p);
    p.id = id, p.title = title, p.x_label = x_label, p.y_label = y_label;
    p.x_min = p.x_max = p.y_min = p.y_max = NAN;
    return p;
}

tta_bars tta_bars_default(const char *id, const char *title, const char *value_label) {
    tta_bars b;
    memset(&b, 0, sizeof b);
    b.id = id, b.title = title, b.value_label = value_label;
    b.v_min = b.v_max = NAN;
    b.decimals = 4;
    return b;
}

/* text cut to at most max characters, with "..." when cut */
static void cut_text(FILE *f, const char *s, int max) {
    char buf[256];
    size_t n = strlen(s);
    if ((int)n <= max || max < 4 || max >= (int)sizeof buf) {
        tta_html_escape(f, s);
        return;
    }
    memcpy(buf, s, (size_t)max - 3);
    memcpy(buf + max - 3, "...", 4);
    tta_html_escape(f, buf);
}

static void svg_open(FILE *f, const char *id, double w, double h, const char *title) {
    fprintf(f, "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"plot\" id=\"");
    tta_html_escape(f, id);
    fprintf(f,
            "\" width=\"%.0f\" height=\"%.0f\" viewBox=\"0 0 %.0f %.0f\" font-family=\"sans-serif\" "
            "font-size=\"12\" role=\"img\">\n",
            w, h, w, h);
    fprintf(
        f,
        "<rect width=\"100%%\" height=\"100%%\" fill=\"white\"/>\n<text x=\"12\" y=\"22\" font-size=\"15\" "
        "font-weight=\"bold\">");
    tta_html_escape(f, title);
    fprintf(f, "</text>\n");
}

static void marker_svg(FILE *f, tta_plot_marker m, double x, double y, double r, const char *col) {
    switch (m) {
    case TTA_MARK_SQUARE:
        fprintf(f, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"%s\"/>", x - r, y - r,
                2 * r, 2 * r, col);
        break;
    case TTA_MARK_DIAMOND:
        fprintf(f, "<path d=\"M%.1f %.1fL%.1f %.1fL%.1f %.1fL%.1f %.1fZ\" fill=\"%s\"/>", x, y - r * 1.3,
                x + r * 1.3, y, x, y + r * 1.3, x - r * 1.3, y, col);
        break;
    case TTA_MARK_CIRCLE:
    default: fprintf(f, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"%.1f\" fill=\"%s\"/>", x, y, r, col); break;
    }
}

/* ---- line and point plots ---- */

typedef struct frame {
    double L, T, R, B; /* plot area corners */
    double x0, x1, y0, y1;
    int log_x;
} frame;

static double fx(const frame *fr, double x) {
    double a = fr->log_x ? log10(x) : x, b0 = fr->log_x ? log10(fr->x0) : fr->x0,
           b1 = fr->log_x ? log10(fr->x1) : fr->x1;
    return fr->L + (a - b0) / (b1 - b0) * (fr->R - fr->L);
}
static double fy(const frame *fr, double y) {
    return fr->B - (y - fr->y0) / (fr->y1 - fr->y0) * (fr->B - fr->T);
}

/* the range of the data on one axis, padded, where the plot did not fix it (whole numbers: half
 * a step beyond the first and last) */
static void data_range(const tta_plot_series *s, int ns, int axis, int log, int integer, double *lo,
                       double *hi) {
    double a = INFINITY, b = -INFINITY;
    for (int i = 0; i < ns; i++)
        for (int j = 0; j < s[i].n; j++) {
            double v = axis ? s[i].y[j] : s[i].x[j];
            if (!isfinite(v) || (log && v <= 0)) continue;
            a = fmin(a, v), b = fmax(b, v);
            if (axis && s[i].lo && isfinite(s[i].lo[j])) a = fmin(a, s[i].lo[j]);
            if (axis && s[i].hi && isfinite(s[i].hi[j])) b = fmax(b, s[i].hi[j]);
        }
    if (!isfinite(a)) a = log ? 1 : 0, b = log ? 10 : 1;
    if (integer) {
        a = round(a) - 0.5, b = round(b) + 0.5;
    } else if (log) {
        double la = log10(a) - 0.08, lb = log10(b) + 0.08;
        if (lb - la < 0.5) la -= 0.25, lb += 0.25;
        a = pow(10, la), b = pow(10, lb);
    } else {
        double pad = b > a ? (b - a) * 0.06 : (fabs(a) > 0 ? fabs(a) * 0.05 : 0.5);
        a -= pad, b += pad;
    }
    if (isnan(*lo)) *lo = a;
    if (isnan(*hi)) *hi = b;
}

void tta_plot_write(FILE *f, const tta_plot *p, const tta_plot_series *s, int ns) {
    double W = p->width > 0 ? p->width : 880, H = p->height > 0 ? p->height : 420;
    int legend_chars = 0;
    for (int i = 0; i < ns; i++)
        if (s[i].name) {
            int n = (int)strlen(s[i].name);
            legend_chars = n > legend_chars ? n : legend_chars;
        }
    /* a legend of long entries goes under the plot, one entry a line, else in a right column */
    int named = 0;
    for (int i = 0; i < ns; i++)
        named += s[i].name != NULL;
    int below = CHAR_W * legend_chars > 0.3 * W;
    if (!below && legend_chars > LEGEND_CHARS) legend_chars = LEGEND_CHARS;
    double legend_w = legend_chars && !below ? 44 + CHAR_W * legend_chars : 0;
    frame fr = {.L = 78, .T = 40, .R = W - 24 - legend_w, .B = H - 58, .log_x = p->log_x};
    fr.x0 = p->x_min, fr.x1 = p->x_max, fr.y0 = p->y_min, fr.y1 = p->y_max;
    data_range(s, ns, 0, p->log_x, p->integer_x && !p->log_x, &fr.x0, &fr.x1);
    data_range(s, ns, 1, 0, 0, &fr.y0, &fr.y1);

    svg_open(f, p->id, W, below ? H + 20 * named + 4 : H, p->title);
    /* grid and ticks */
    double t[MAX_TICKS], step;
    int nt = p->log_x ? tta_log_ticks(fr.x0, fr.x1, t, MAX_TICKS)
                      : tta_nice_ticks(fr.x0, fr.x1, 9, p->integer_x, t, MAX_TICKS, &step);
    int dec = p->log_x ? 0 : tta_tick_decimals(step);
    fprintf(f, "<g class=\"grid\" stroke=\"#e6e6e6\">");
    for (int i = 0; i < nt; i++)
        fprintf(f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>", fx(&fr, t[i]), fr.T,
                fx(&fr, t[i]), fr.B);
    double ty[MAX_TICKS], ystep;
    int nty = tta_nice_ticks(fr.y0, fr.y1, 8, 0, ty, MAX_TICKS, &ystep);
    int ydec = tta_tick_decimals(ystep);
    for (int i = 0; i < nty; i++)
        fprintf(f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>", fr.L, fy(&fr, ty[i]), fr.R,
                fy(&fr, ty[i]));
    fprintf(f, "</g>\n<g class=\"ticks\" fill=\"#333\">");
    for (int i = 0; i < nt; i++) {
        if (p->log_x)
            fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">%g</text>", fx(&fr, t[i]),
                    fr.B + 16, t[i]);
        else
            fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">%.*f</text>", fx(&fr, t[i]),
                    fr.B + 16, dec, t[i]);
    }
    for (int i = 0; i < nty; i++)
        fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\">%.*f</text>", fr.L - 6,
                fy(&fr, ty[i]) + 4, ydec, ty[i]);
    fprintf(
        f,
        "</g>\n<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"none\" stroke=\"#888\"/>\n",
        fr.L, fr.T, fr.R - fr.L, fr.B - fr.T);
    fprintf(f, "<text class=\"xlabel\" x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">", (fr.L + fr.R) / 2,
            H - 16);
    tta_html_escape(f, p->x_label);
    fprintf(f,
            "</text>\n<text class=\"ylabel\" transform=\"translate(20 %.1f) rotate(-90)\" "
            "text-anchor=\"middle\">",
            (fr.T + fr.B) / 2);
    tta_html_escape(f, p->y_label);
    fprintf(f, "</text>\n");
    /* reference lines */
    if (p->diagonal) {
        double a = fmax(fr.x0, fr.y0), b = fmin(fr.x1, fr.y1);
        if (b > a)
            fprintf(f,
                    "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#999\" "
                    "stroke-dasharray=\"5 4\"/>\n",
                    fx(&fr, a), fy(&fr, a), fx(&fr, b), fy(&fr, b));
    }
    if (p->zero_line && fr.y0 < 0 && fr.y1 > 0)
        fprintf(
            f,
            "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#555\" stroke-width=\"1.2\"/>\n",
            fr.L, fy(&fr, 0), fr.R, fy(&fr, 0));
    /* the series */
    int auto_colour = 0;
    const char *cols[64];
    for (int i = 0; i < ns; i++) {
        const tta_plot_series *q = &s[i];
        const char *col = q->colour ? q->colour : palette[auto_colour++ % 8];
        if (i < 64) cols[i] = col;
        double r = q->marker_size > 0 ? q->marker_size : 4;
        fprintf(f, "<g class=\"series\">");
        if (q->line_width > 0 && q->n > 1) {
            fprintf(f,
                    "<polyline fill=\"none\" stroke=\"%s\" stroke-width=\"%.1f\" stroke-linejoin=\"round\"%s "
                    "points=\"",
                    col, q->line_width, q->dashed ? " stroke-dasharray=\"6 4\"" : "");
            for (int j = 0; j < q->n; j++)
                if (isfinite(q->y[j]) && (!p->log_x || q->x[j] > 0))
                    fprintf(f, "%.1f,%.1f ", fx(&fr, q->x[j]), fy(&fr, q->y[j]));
            fprintf(f, "\"/>");
        }
        for (int j = 0; j < q->n; j++) {
            if (!isfinite(q->y[j]) || (p->log_x && q->x[j] <= 0)) continue;
            double x = fx(&fr, q->x[j]), y = fy(&fr, q->y[j]);
            if (q->lo && q->hi && isfinite(q->lo[j]) && isfinite(q->hi[j])) {
                double a = fy(&fr, q->lo[j]), b = fy(&fr, q->hi[j]);
                fprintf(f,
                        "<path d=\"M%.1f %.1fV%.1fM%.1f %.1fH%.1fM%.1f %.1fH%.1f\" stroke=\"%s\" "
                        "stroke-width=\"1.5\"/>",
                        x, a, b, x - 4, a, x + 4, x - 4, b, x + 4, col);
            }
            if (q->marker == TTA_MARK_NONE) continue;
            if (q->titles) {
                fprintf(f, "<g><title>");
                tta_html_escape(f, q->titles[j]);
                fprintf(f, "</title>");
            }
            marker_svg(f, q->marker, x, y, r, col);
            if (q->titles) fprintf(f, "</g>\n"); /* one point a line */
        }
        for (int j = 0; q->notes && j < q->n; j++) {
            if (!isfinite(q->y[j]) || !q->notes[j] || (p->log_x && q->x[j] <= 0)) continue;
            fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" font-size=\"10\" fill=\"#444\">",
                    fx(&fr, q->x[j]) + r + 2, fy(&fr, q->y[j]) - r);
            tta_html_escape(f, q->notes[j]);
            fprintf(f, "</text>");
        }
        fprintf(f, "</g>\n");
    }
    /* the legend */
    double lx = below ? fr.L : fr.R + 16, ly = below ? H + 6 : fr.T + 10;
    fprintf(f, "<g class=\"legend\">");
    for (int i = 0; i < ns && i < 64; i++) {
        const tta_plot_series *q = &s[i];
        if (!q->name) continue;
        if (q->line_width > 0)
            fprintf(f,
                    "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"%s\" "
                    "stroke-width=\"%.1f\"%s/>",
                    lx, ly, lx + 28, ly, cols[i], q->line_width < 6 ? q->line_width : 6,
                    q->dashed ? " stroke-dasharray=\"6 4\"" : "");
        if (q->marker != TTA_MARK_NONE) marker_svg(f, q->marker, lx + 14, ly, 4, cols[i]);
        fprintf(f, "<text x=\"%.1f\" y=\"%.1f\">", lx + 36, ly + 4);
        cut_text(f, q->name, below ? 100 : LEGEND_CHARS);
        fprintf(f, "</text>");
        ly += 20;
    }
    fprintf(f, "</g>\n</svg>\n");
}

/* ---- horizontal bars ---- */

void tta_bars_write(FILE *f, const tta_bars *b) {
    int label_chars = 8;
    for (int i = 0; i < b->n; i++) {
        int n = (int)strlen(b->labels[i]);
        label_chars = n > label_chars ? n : label_chars;
    }
    if (label_chars > 40) label_chars = 40;
    double W = 760, row = 22, L = 16 + CHAR_W * label_chars, R = W - 70, T = 40 + (b->name ? 22 : 0);
    double B = T + row * b->n + 6, H = B + 52;
    double v0 = b->v_min, v1 = b->v_max, a = INFINITY, c = -INFINITY;
    for (int i = 0; i < b->n; i++) {
        a = fmin(a, b->values[i]), c = fmax(c, b->values[i]);
        if (b->lo) a = fmin(a, b->lo[i]);
        if (b->hi) c = fmax(c, b->hi[i]);
    }
    if (b->has_ref) a = fmin(a, b->ref), c = fmax(c, b->ref);
    if (!isfinite(a)) a = 0, c = 1;
    a = fmin(a, 0), c = fmax(c, 0);
    double pad = c > a ? (c - a) * 0.04 : 0.5;
    if (isnan(v0)) v0 = a < 0 ? a - pad : 0;
    if (isnan(v1)) v1 = c + pad;
    frame fr = {.L = L, .T = T, .R = R, .B = B, .x0 = v0, .x1 = v1, .y0 = 0, .y1 = 1};
    svg_open(f, b->id, W, H, b->title);
    double t[MAX_TICKS], step;
    int nt = tta_nice_ticks(v0, v1, 9, 0, t, MAX_TICKS, &step), dec = tta_tick_decimals(step);
    fprintf(f, "<g class=\"grid\" stroke=\"#e6e6e6\">");
    for (int i = 0; i < nt; i++)
        fprintf(f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>", fx(&fr, t[i]), T, fx(&fr, t[i]),
                B);
    fprintf(f, "</g>\n<g class=\"ticks\" fill=\"#333\">");
    for (int i = 0; i < nt; i++)
        fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">%.*f</text>", fx(&fr, t[i]), B + 16,
                dec, t[i]);
    fprintf(f, "</g>\n<text class=\"xlabel\" x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">", (L + R) / 2,
            H - 14);
    tta_html_escape(f, b->value_label);
    fprintf(f, "</text>\n");
    double base = fx(&fr, v0 < 0 && v1 > 0 ? 0 : v0);
    for (int i = 0; i < b->n; i++) {
        double y = T + row * i + 3, v = fx(&fr, b->values[i]);
        const char *col = b->highlight && b->highlight[i] ? palette[1] : palette[0];
        fprintf(f, "<g class=\"bar\"><title>");
        tta_html_escape(f, b->labels[i]);
        fprintf(f, ": %.*f</title><text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\">", b->decimals,
                b->values[i], L - 6, y + 12);
        cut_text(f, b->labels[i], 40);
        fprintf(f,
                "</text><rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"%s\" "
                "fill-opacity=\"0.8\"/>",
                fmin(base, v), y, fabs(v - base), row - 6, col);
        double end = v;
        if (b->lo && b->hi) {
            double p = fx(&fr, b->lo[i]), q = fx(&fr, b->hi[i]), m = y + (row - 6) / 2;
            fprintf(f,
                    "<path d=\"M%.1f %.1fH%.1fM%.1f %.1fV%.1fM%.1f %.1fV%.1f\" stroke=\"#222\" "
                    "stroke-width=\"1.3\"/>",
                    p, m, q, p, m - 5, m + 5, q, m - 5, m + 5);
            end = fmax(end, q);
        }
        fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" font-size=\"11\" fill=\"#333\">%.*f</text></g>\n",
                fmax(end, base) + 4, y + 12, b->decimals, b->values[i]);
    }
    fprintf(f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#888\"/>\n", base, T, base, B);
    if (b->has_ref) {
        double x = fx(&fr, b->ref);
        fprintf(f,
                "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#444\" stroke-dasharray=\"5 "
                "4\"/>",
                x, T - 4, x, B);
        if (b->ref_label) {
            fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" font-size=\"11\" text-anchor=\"middle\" fill=\"#444\">",
                    x, T - 8);
            tta_html_escape(f, b->ref_label);
            fprintf(f, "</text>");
        }
        fprintf(f, "\n");
    }
    if (b->name) {
        double x = L;
        fprintf(f,
                "<g class=\"legend\"><rect x=\"%.1f\" y=\"32\" width=\"12\" height=\"12\" fill=\"%s\"/><text "
                "x=\"%.1f\" "
                "y=\"42\">",
                x, palette[0], x + 16);
        tta_html_escape(f, b->name);
        fprintf(f, "</text>");
        if (b->highlight_name) {
            x += 40 + CHAR_W * (double)strlen(b->name);
            fprintf(f,
                    "<rect x=\"%.1f\" y=\"32\" width=\"12\" height=\"12\" fill=\"%s\"/><text x=\"%.1f\" "
                    "y=\"42\">",
                    x, palette[1], x + 16);
            tta_html_escape(f, b->highlight_name);
            fprintf(f, "</text>");
        }
        fprintf(f, "</g>\n");
    }
    fprintf(f, "</svg>\n");
}
