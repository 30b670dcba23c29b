/* task_report.c - the HTML reports of `tta detect eval|search` and `tta segment eval|search`
 * (report.h): the table of rows as printed, the main metric and the gains with their
 * intervals, the search's steps and budgets, the uncertainty maps' AUROC, and the pictures. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "report/html.h"
#include "report/report.h"
#include "report/svg_plot.h"
#include "report/task_pictures.h"

#define MIN_SCORE 0.3 /* boxes drawn */

static void rows_table(FILE *f, const tta_report_task *r) {
    const char *h[16];
    int n = 0;
    h[n++] = "policy", h[n++] = "views", h[n++] = "merge";
    for (int i = 0; i < r->n_metrics && n < 12; i++)
        h[n++] = r->metric_names[i];
    h[n++] = "gain", h[n++] = "95% interval", h[n++] = "model s";
    char cap[256];
    snprintf(cap, sizeof cap,
             "as printed; gain: %s points over one pass, 95%% paired bootstrap interval over images",
             r->metric);
    tta_html_table_begin(f, "table-rows", cap, n, h);
    for (int i = 0; i < r->n_rows; i++) {
        const tta_report_task_row *w = &r->rows[i];
        tta_html_row_begin(f);
        tta_html_cell_text(f, "%s", w->name);
        tta_html_cell(f, "%d", w->views);
        tta_html_cell_text(f, "%s", w->merge);
        for (int m = 0; m < r->n_metrics && m < 9; m++)
            tta_html_cell(f, "%.4f", w->metric[m]);
        if (w->has_gain) {
            tta_html_cell(f, "%+.4f", w->gain);
            tta_html_cell(f, "[%+.4f, %+.4f]", w->lo, w->hi);
        } else {
            tta_html_cell(f, "-");
            tta_html_cell(f, "-");
        }
        if (w->seconds >= 0)
            tta_html_cell(f, "%.1f", w->seconds);
        else
            tta_html_cell(f, "-"); /* not measured */
        tta_html_row_end(f);
    }
    tta_html_table_end(f);
}

static tta_status eval_plots(FILE *f, const tta_report_task *r) {
    int n = r->n_rows;
    const char **labels = calloc((size_t)n, sizeof *labels);
    double *v = calloc((size_t)n * 4, sizeof *v);
    int *hl = calloc((size_t)n, sizeof *hl);
    if (!labels || !v || !hl) {
        free(labels), free(v), free(hl);
        return tta_errorf(TTA_ERR_NOMEM, "report: out of memory");
    }
    char id[64], title[160], axis[160];
    for (int i = 0; i < n; i++)
        labels[i] = r->rows[i].name, v[i] = r->rows[i].metric[0], hl[i] = i == 0;
    snprintf(id, sizeof id, "plot-%s-metric", r->kind);
    snprintf(title, sizeof title, "%s of each policy", r->metric);
    snprintf(axis, sizeof axis, "%s (0 to 1)", r->metric);
    tta_bars b = tta_bars_default(id, title, axis);
    b.n = n, b.labels = labels, b.values = v, b.highlight = hl, b.name = "TTA policy",
    b.highlight_name = "one pass";
    tta_bars_write(f, &b);
    if (n > 1) {
        for (int i = 1; i < n; i++)
            v[n + i - 1] = r->rows[i].gain, v[2 * n + i - 1] = r->rows[i].lo,
                      v[3 * n + i - 1] = r->rows[i].hi;
        snprintf(id, sizeof id, "plot-%s-gain", r->kind);
        snprintf(title, sizeof title, "%s gain over one pass, with its 95%% interval", r->metric);
        snprintf(axis, sizeof axis, "%s gain (points of 0 to 1)", r->metric);
        b = tta_bars_default(id, title, axis);
        b.n = n - 1, b.labels = labels + 1, b.values = v + n, b.lo = v + 2 * n, b.hi = v + 3 * n;
        b.has_ref = 1, b.ref = 0, b.ref_label = "one pass";
        tta_bars_write(f, &b);
    }
    free(labels), free(v), free(hl);
    return TTA_OK;
}

static tta_status search_plots(FILE *f, const tta_report_task *r) {
    char id[64], title[200], axis[160];
    snprintf(id, sizeof id, "plot-%s-step1", r->kind);
    snprintf(title, sizeof title, "Step 1: each view with the identity (validation %s)", r->metric);
    snprintf(axis, sizeof axis, "validation %s (0 to 1)", r->metric);
    tta_bars b = tta_bars_default(id, title, axis);
    b.n = r->n_steps, b.labels = r->step_views, b.values = r->step_values;
    b.has_ref = 1, b.ref = r->base_val, b.ref_label = "one pass";
    double lo = r->base_val;
    for (int i = 0; i < r->n_steps; i++)
        lo = fmin(lo, r->step_values[i]);
    b.v_min = fmax(0, floor((lo - 0.02) * 50) / 50);
    tta_bars_write(f, &b);

    int n = r->n_sizes;
    double *x = malloc(sizeof(double) * (size_t)(n + 2));
    char(*notes)[48] = malloc(sizeof *notes * (size_t)(n + 1));
    const char **np = malloc(sizeof *np * (size_t)(n + 1));
    if (!x || !notes || !np) {
        free(x), free(notes), free(np);
        return tta_errorf(TTA_ERR_NOMEM, "report: out of memory");
    }
    for (int i = 0; i < n; i++) {
        x[i] = i + 1;
        snprintf(notes[i], sizeof notes[i], "%s", r->size_merges ? r->size_merges[i] : "");
        np[i] = notes[i];
    }
    double tx[2] = {1, r->chosen_size}, ty[2] = {r->test_base, r->test_value},
           tlo[2] = {NAN, r->test_base + r->test_lo}, thi[2] = {NAN, r->test_base + r->test_hi};
    char vname[96], tname[160];
    snprintf(vname, sizeof vname, "validation %s, best policy of each size", r->metric);
    snprintf(tname, sizeof tname, "test %s: one pass, and the chosen policy (95%% interval of its gain)",
             r->metric);
    tta_plot_series s[2] = {{.name = vname,
                             .n = n,
                             .x = x,
                             .y = r->size_values,
                             .notes = np,
                             .line_width = 2,
                             .dashed = 1,
                             .marker = TTA_MARK_SQUARE},
                            {.name = tname,
                             .n = 2,
                             .x = tx,
                             .y = ty,
                             .lo = tlo,
                             .hi = thi,
                             .marker = TTA_MARK_DIAMOND,
                             .marker_size = 6}};
    snprintf(id, sizeof id, "plot-%s-budget", r->kind);
    snprintf(title, sizeof title, "%s against the budget (validation), and the chosen policy on test",
             r->metric);
    snprintf(axis, sizeof axis, "%s (0 to 1)", r->metric);
    tta_plot p = tta_plot_default(id, title, "views (forward passes per image)", axis);
    p.integer_x = 1;
    tta_plot_write(f, &p, s, 2);
    free(x), free(notes), free(np);
    return TTA_OK;
}

tta_status tta_report_task_write(FILE *f, const tta_report_task *r) {
    tta_html_begin(f, r->title, r->subtitle);
    if (r->n_steps) {
        tta_html_h2(f, "search", "The search, on validation");
        TTA_TRY(search_plots(f, r));
        tta_html_p(
            f,
            "Labels beside the validation points: the merge rule of each size. The chosen policy: %d view%s; "
            "on test %s %.4f against %.4f for one pass, a gain of %+.4f [%+.4f, %+.4f].",
            r->chosen_size, r->chosen_size > 1 ? "s" : "", r->metric, r->test_value, r->test_base,
            r->test_value - r->test_base, r->test_lo, r->test_hi);
    }
    if (r->n_rows) {
        tta_html_h2(f, "policies", r->n_steps ? "The chosen policy on test" : "Policies");
        rows_table(f, r);
        if (!r->n_steps) TTA_TRY(eval_plots(f, r));
    }
    if (r->n_unc) {
        tta_html_h2(f, "uncertainty", "Uncertainty maps: finding the wrong pixels");
        int *hl = calloc((size_t)r->n_unc, sizeof *hl);
        if (!hl) return tta_errorf(TTA_ERR_NOMEM, "report: out of memory");
        hl[r->n_unc - 1] = 1;
        char title[200];
        snprintf(title, sizeof title, "AUROC of each uncertainty map of %s at finding its wrong pixels",
                 r->focus);
        tta_bars b = tta_bars_default("plot-segment-uncertainty", title, "AUROC (0.5: chance, 1: perfect)");
        b.n = r->n_unc, b.labels = r->unc_names, b.values = r->unc_auroc, b.highlight = hl;
        b.name = "TTA's maps", b.highlight_name = "one pass's own entropy";
        b.has_ref = 1, b.ref = 0.5, b.ref_label = "chance", b.v_min = 0, b.v_max = 1;
        tta_bars_write(f, &b);
        free(hl);
    }
    if (r->n_det) {
        tta_html_h2(f, "detections", "Detections");
        TTA_TRY(
            tta_report_det_pictures(f, r->det, r->n_det, r->focus, r->class_names, r->n_classes, MIN_SCORE));
    }
    if (r->n_seg) {
        tta_html_h2(f, "masks", "Masks and uncertainty");
        tta_html_p(
            f,
            "Each image, its true mask, the masks of one pass and of TTA (%s), and the entropy of TTA's "
            "merged prediction per pixel.",
            r->focus);
        TTA_TRY(tta_report_seg_pictures(f, r->seg, r->n_seg, r->focus, r->class_names, r->n_classes));
    }
    tta_html_end(f);
    return TTA_OK;
}
