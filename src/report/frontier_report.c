/* frontier_report.c - the picture and page of `tta frontier` (report.h): every model, its TTA at
 * each budget and the ensembles by measured cost per image against test accuracy, with the
 * Pareto front, the table of points and the verdicts as printed. */
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "report/html.h"
#include "report/report.h"
#include "report/svg_plot.h"

#define MAX_SERIES 16

void tta_report_frontier_plot(FILE *f, const tta_report_frontier *r) {
    int n = r->n_points;
    double *buf = malloc(sizeof(double) * (size_t)(6 * n + 2));
    char(*tip)[224] = malloc(sizeof *tip * (size_t)(n + 1));
    char(*note)[16] = malloc(sizeof *note * (size_t)(n + 1));
    const char **tips = malloc(sizeof *tips * (size_t)(n + 1)),
               **notes = malloc(sizeof *notes * (size_t)(n + 1));
    int *order = malloc(sizeof(int) * (size_t)(n + 1));
    if (!buf || !tip || !note || !tips || !notes || !order) goto done;
    double *px = buf, *py = buf + n, *sx = buf + 2 * n, *sy = buf + 4 * n; /* points; the staircase (2n) */
    tta_plot_series s[MAX_SERIES];
    memset(s, 0, sizeof s);
    int ns = 0, at = 0;
    /* the Pareto front as a staircase through its points by cost */
    int m = 0;
    for (int i = 0; i < n; i++)
        if (r->points[i].pareto) order[m++] = i;
    for (int a = 1; a < m; a++)
        for (int b = a; b > 0 && r->points[order[b]].ms < r->points[order[b - 1]].ms; b--) {
            int t = order[b];
            order[b] = order[b - 1], order[b - 1] = t;
        }
    int k = 0;
    for (int a = 0; a < m; a++) {
        const tta_report_point *p = &r->points[order[a]];
        if (a) sx[k] = p->ms, sy[k++] = r->points[order[a - 1]].test_accuracy;
        sx[k] = p->ms, sy[k++] = p->test_accuracy;
    }
    s[ns++] = (tta_plot_series){
        .name = "Pareto front", .n = k, .x = sx, .y = sy, .colour = "#bbbbbb", .line_width = 6};
    /* each model's budgets, joined, then the ensembles */
    for (int mi = 0; mi <= r->n_models && ns < MAX_SERIES; mi++) {
        int first = at;
        for (int i = 0; i < n; i++) {
            const tta_report_point *p = &r->points[i];
            if (mi < r->n_models ? p->model != mi : p->kind != TTA_REPORT_POINT_ENSEMBLE) continue;
            px[at] = p->ms, py[at] = p->test_accuracy;
            snprintf(tip[at], sizeof tip[at], "%s: %.3f ms, accuracy %.4f", p->label, p->ms,
                     p->test_accuracy);
            snprintf(note[at], sizeof note[at], "%d", p->passes);
            tips[at] = tip[at];
            notes[at] = p->kind == TTA_REPORT_POINT_TTA ? note[at] : NULL;
            at++;
        }
        if (at == first) continue;
        int ens = mi == r->n_models;
        s[ns++] = (tta_plot_series){.name = ens ? "ensemble of models" : r->model_names[mi],
                                    .n = at - first,
                                    .x = px + first,
                                    .y = py + first,
                                    .titles = tips + first,
                                    .notes = notes + first,
                                    .colour = ens ? "#555555" : tta_plot_colour(mi),
                                    .line_width = ens ? 0 : 1.5,
                                    .marker = ens ? TTA_MARK_SQUARE : TTA_MARK_CIRCLE};
    }
    char title[160];
    snprintf(title, sizeof title,
             "Test accuracy against cost per image (%d test images; numbers: passes of TTA)", r->n_test);
    tta_plot p =
        tta_plot_default("plot-frontier", title, "cost: milliseconds per image on this machine (log scale)",
                         "test accuracy (share of images)");
    p.log_x = 1, p.height = 460;
    tta_plot_write(f, &p, s, ns);
done:
    free(buf), free(tip), free(note), free(tips), free(notes), free(order);
}

tta_status tta_report_frontier_write(FILE *f, const tta_report_frontier *r) {
    char sub[1024];
    snprintf(sub, sizeof sub,
             "%d models; validation %s (%d images), test %s (%d images); policies searched on validation "
             "(objective %s)",
             r->n_models, r->val, r->n_val, r->test, r->n_test, r->objective);
    tta_html_begin(f, "tta frontier: when TTA pays", sub);
    tta_html_h2(f, "frontier", "Cost against accuracy");
    tta_report_frontier_plot(f, r);
    tta_html_p(
        f, "A point is on the Pareto front when no other point is as cheap and at least as accurate. Cost is "
           "measured here: passes x the model's time per image; hover a point for its policy.");
    tta_html_h2(f, "points", "Every point");
    static const char *h[] = {"kind",     "passes",   "ms/image", "mult-adds", "val acc",
                              "test acc", "test NLL", "Pareto",   "what"};
    tta_html_table_begin(f, "table-points", "as tta frontier prints them", 9, h);
    for (int i = 0; i < r->n_points; i++) {
        const tta_report_point *p = &r->points[i];
        tta_html_row_begin(f);
        tta_html_cell_text(f, "%s",
                           p->kind == TTA_REPORT_POINT_MODEL ? "model"
                           : p->kind == TTA_REPORT_POINT_TTA ? "TTA"
                                                             : "ensemble");
        tta_html_cell(f, "%d", p->passes);
        tta_html_cell(f, "%.4f", p->ms);
        tta_html_cell(f, "%.4g", p->macs);
        tta_html_cell(f, "%.4f", p->val_accuracy);
        tta_html_cell(f, "%.4f", p->test_accuracy);
        tta_html_cell(f, "%.4f", p->test_nll);
        tta_html_cell_text(f, "%s", p->pareto ? "yes" : "");
        tta_html_cell_text(f, "%s", p->label);
        tta_html_row_end(f);
    }
    tta_html_table_end(f);
    if (r->verdicts) {
        tta_html_h2(f, "verdicts", "TTA, a bigger model or an ensemble?");
        tta_html_pre(f, r->verdicts);
    }
    tta_html_end(f);
    return TTA_OK;
}
