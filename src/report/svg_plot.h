/* svg_plot.h - small SVG plots for reports and `tta frontier --plot`: lines and points with
 * error bars on linear or log axes (ticks at nice numbers, axis labels with units, a legend,
 * tooltips), and horizontal bar charts for values with long names. The output is well-formed
 * XML (text escaped), inline in HTML or a standalone .svg file. Internal to tta. */
#ifndef TTA_REPORT_SVG_PLOT_H
#define TTA_REPORT_SVG_PLOT_H

#include <stdio.h>

typedef enum { TTA_MARK_NONE, TTA_MARK_CIRCLE, TTA_MARK_SQUARE, TTA_MARK_DIAMOND } tta_plot_marker;

typedef struct tta_plot_series {
    const char *name; /* legend entry; NULL: none */
    int n;
    const double *x, *y;
    const double *lo, *hi;     /* optional: an interval around each y, drawn as an error bar */
    const char *const *titles; /* optional: a tooltip per point (each marker a <g> with <title>) */
    const char *const *notes;  /* optional: a short label beside each point */
    const char *colour;        /* NULL: the next colour of the palette */
    double line_width;         /* 0: no line through the points */
    int dashed;
    tta_plot_marker marker;
    double marker_size; /* radius in pixels; 0: 4 */
} tta_plot_series;

typedef struct tta_plot {
    const char *id;                        /* the <svg> element's id, e.g. "plot-cumulative" */
    const char *title, *x_label, *y_label; /* labels say the unit */
    int width, height;                     /* 0: 880 x 420 */
    int log_x;                             /* x on a log scale (all x > 0) */
    int integer_x;                         /* x ticks at whole numbers only */
    double x_min, x_max, y_min, y_max;     /* the axes' range; NAN: from the data, padded */
    int diagonal;                          /* the line y = x, dashed (reliability diagrams) */
    int zero_line;                         /* the line y = 0, when inside the range */
} tta_plot;

/* A plot with its defaults: every range NAN (from the data), no options set. */
tta_plot tta_plot_default(const char *id, const char *title, const char *x_label, const char *y_label);

/* Writes the plot as one <svg class="plot"> element, with the SVG namespace so that it is also
 * a file of its own. Series are drawn in order, later ones on top; the legend lists the named
 * ones. */
void tta_plot_write(FILE *f, const tta_plot *p, const tta_plot_series *s, int n_series);

/* Horizontal bars, one per name, for values with long labels (each view's accuracy, each
 * policy's gain with its interval). */
typedef struct tta_bars {
    const char *id, *title, *value_label;
    int n;
    const char *const *labels;
    const double *values;
    const double *lo, *hi;             /* optional intervals, drawn as error bars */
    const int *highlight;              /* optional: non-zero bars in the second colour */
    const char *highlight_name, *name; /* legend text for the two colours (NULL: no legend) */
    double v_min, v_max;               /* the value axis; NAN: from the data (and 0) */
    int has_ref;                       /* a dashed reference line at ref, labelled */
    double ref;
    const char *ref_label;
    int decimals; /* of the value printed at the end of each bar */
} tta_bars;

tta_bars tta_bars_default(const char *id, const char *title, const char *value_label);
void tta_bars_write(FILE *f, const tta_bars *b);

/* Ticks at nice numbers (1, 2 or 5 x 10^e) inside [lo, hi]: the smallest such step giving at
 * most max_ticks ticks (at least 1 when integer_only). Writes up to cap ticks, returns their
 * count; *step receives the step. */
int tta_nice_ticks(double lo, double hi, int max_ticks, int integer_only, double *ticks, int cap,
                   double *step);
/* Decimals that print ticks of this step exactly (0.005 -> 3, 0.2 -> 1, 5 -> 0). */
int tta_tick_decimals(double step);

/* Ticks of a log axis over [lo, hi] (lo > 0): 1, 2 and 5 x 10^e when the range spans at most
 * 3 decades, else 10^e only. Returns the count (up to cap). */
int tta_log_ticks(double lo, double hi, double *ticks, int cap);

/* A palette colour ("#1f77b4", ...), i taken modulo the palette's 8 colours. */
const char *tta_plot_colour(int i);

#endif
