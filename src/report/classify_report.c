/* classify_report.c - the HTML reports of `tta eval` and `tta search` (report.h): tables of the
 * printed figures; accuracy as views are added and of each view alone; a reliability diagram
 * of one pass and of TTA; the images TTA corrected and broke, each view beside the original;
 * the search's budgets against validation, honest and test figures with intervals; adaptive
 * TTA's cost against accuracy. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "report/html.h"
#include "report/report.h"
#include "report/svg_plot.h"

#define PICTURE_SIDE 96 /* pictures enlarged to at least this many pixels */

/* The reliability diagram: accuracy against mean confidence per bin, one pass and TTA, with the
 * diagonal of perfect calibration; each point's tooltip gives its bin's count. */
static void reliability_plot(FILE *f, const tta_reliability *a, const char *a_name, const tta_reliability *b,
                             const char *b_name, const char *split) {
    double x[2][TTA_RELIABILITY_MAX_BINS], y[2][TTA_RELIABILITY_MAX_BINS];
    char tip[2][TTA_RELIABILITY_MAX_BINS][96], name[2][160];
    const char *tips[2][TTA_RELIABILITY_MAX_BINS];
    tta_plot_series s[2];
    memset(s, 0, sizeof s);
    const tta_reliability *r[2] = {a, b};
    const char *names[2] = {a_name, b_name};
    for (int j = 0; j < 2; j++) {
        int n = 0;
        for (int i = 0; i < r[j]->n_bins; i++) {
            if (!r[j]->count[i]) continue;
            x[j][n] = r[j]->confidence[i], y[j][n] = r[j]->accuracy[i];
            snprintf(tip[j][n], sizeof tip[j][n], "%s: confidence %.2f-%.2f, %d images, accuracy %.3f",
                     names[j], (double)i / r[j]->n_bins, (double)(i + 1) / r[j]->n_bins, r[j]->count[i],
                     r[j]->accuracy[i]);
            tips[j][n] = tip[j][n];
            n++;
        }
        snprintf(name[j], sizeof name[j], "%s (ECE %.4f)", names[j], r[j]->ece);
        s[j] = (tta_plot_series){.name = name[j],
                                 .n = n,
                                 .x = x[j],
                                 .y = y[j],
                                 .titles = tips[j],
                                 .line_width = 2,
                                 .marker = j ? TTA_MARK_DIAMOND : TTA_MARK_CIRCLE,
                                 .dashed = j == 0};
    }
    char title[160];
    snprintf(title, sizeof title, "Reliability: accuracy against confidence (%s, %d bins)", split, a->n_bins);
    tta_plot p = tta_plot_default("plot-reliability", title, "confidence: top probability (mean in each bin)",
                                  "accuracy in the bin (share of images)");
    p.x_min = 0, p.x_max = 1, p.y_min = 0, p.y_max = 1, p.diagonal = 1, p.height = 480;
    tta_plot_write(f, &p, s, 2);
}

static tta_status example_strip(FILE *f, const tta_report_example *e, const char *what) {
    char head[512];
    snprintf(head, sizeof head, "image %d (%s): true %s; one pass %s; TTA %s", e->index, what, e->truth,
             e->single, e->merged);
    tta_html_strip_begin(f, "example", head);
    for (int v = 0; v < e->n_views; v++) {
        tta_html_item_begin(f);
        TTA_TRY(tta_html_png(f, &e->views[v], PICTURE_SIDE, e->view_names[v]));
        tta_html_item_caption(f, "%s", e->view_names[v]);
        tta_html_item_caption(f, "%s", e->view_preds[v]);
        tta_html_item_end(f);
    }
    tta_html_strip_end(f);
    return TTA_OK;
}

static tta_status examples(FILE *f, const tta_report_example *ex, int n, int total, const char *what,
                           const char *focus) {
    char id[64];
    snprintf(id, sizeof id, "images-%s", what);
    tta_html_h2(f, id, !strcmp(what, "corrected") ? "Images TTA corrected" : "Images TTA broke");
    if (!total) {
        tta_html_p(f, "%s %s no image.", focus, what);
        return TTA_OK;
    }
    tta_html_p(
        f,
        "%s %s %d image%s; the first %d in data order, each shown as the model saw every view, with that "
        "view's own prediction under it.",
        focus, what, total, total > 1 ? "s" : "", n);
    for (int i = 0; i < n; i++)
        TTA_TRY(example_strip(f, &ex[i], what));
    return TTA_OK;
}

tta_status tta_report_eval_write(FILE *f, const tta_report_eval *r) {
    char sub[1024];
    snprintf(sub, sizeof sub, "data %s: %d images; merge %s; %d model%s: %s%s", r->data, r->n_images,
             r->merge, r->n_models, r->n_models > 1 ? "s" : "", r->models[0],
             r->n_models > 1 ? " and others" : "");
    tta_html_begin(f, "tta eval: test-time augmentation policies", sub);

    tta_html_h2(f, "policies", "Policies");
    static const char *h[] = {"policy", "views", "accuracy", "NLL", "ECE", "corrected", "broken", "seconds"};
    tta_html_table_begin(f, "table-policies",
                         "every row as tta eval prints it; corrected and broken against the "
                         "identity view of the first model",
                         8, h);
    for (int i = 0; i < r->n_rows; i++) {
        const tta_report_eval_row *w = &r->rows[i];
        tta_html_row_begin(f);
        tta_html_cell_text(f, "%s%s", w->name, w->is_model ? " (model alone)" : "");
        tta_html_cell(f, "%d", w->views);
        tta_html_cell(f, "%.4f", w->accuracy);
        tta_html_cell(f, "%.4f", w->nll);
        tta_html_cell(f, "%.4f", w->ece);
        tta_html_cell(f, "%d", w->corrected);
        tta_html_cell(f, "%d", w->broken);
        tta_html_cell(f, "%.2f", w->seconds);
        tta_html_row_end(f);
    }
    tta_html_table_end(f);

    /* accuracy as views are added: one line per policy */
    tta_html_h2(f, "cumulative", "Accuracy as views are added");
    int ns = 0;
    for (int i = 0; i < r->n_rows; i++)
        ns += r->rows[i].cumulative != NULL;
    tta_plot_series *s = calloc((size_t)ns + 1, sizeof *s);
    double *xs = malloc(sizeof(double) * 64);
    if (!s || !xs) {
        free(s), free(xs);
        return tta_errorf(TTA_ERR_NOMEM, "report: out of memory");
    }
    for (int j = 0; j < 64; j++)
        xs[j] = j + 1;
    ns = 0;
    for (int i = 0; i < r->n_rows; i++) {
        const tta_report_eval_row *w = &r->rows[i];
        if (!w->cumulative) continue;
        s[ns++] = (tta_plot_series){.name = w->name,
                                    .n = w->n_cumulative < 64 ? w->n_cumulative : 64,
                                    .x = xs,
                                    .y = w->cumulative,
                                    .line_width = 2,
                                    .marker = TTA_MARK_CIRCLE};
    }
    if (r->random_accuracy)
        s[ns++] = (tta_plot_series){.name = "random views, averaged",
                                    .n = r->random_k < 64 ? r->random_k : 64,
                                    .x = xs,
                                    .y = r->random_accuracy,
                                    .line_width = 1.5,
                                    .dashed = 1,
                                    .marker = TTA_MARK_SQUARE,
                                    .colour = "#777777"};
    tta_plot p =
        tta_plot_default("plot-cumulative", "Accuracy after the first n views of each policy (merged)",
                         "views merged (forward passes per image)", "top-1 accuracy (share of images)");
    p.integer_x = 1;
    tta_plot_write(f, &p, s, ns);
    free(s);
    free(xs);
    tta_html_p(
        f,
        "Views are added in the policy's order, the identity first; with several models, the first model's "
        "views.%s",
        r->random_accuracy
            ? " Grey: one random augmentation per image, then the mean of 2, 3, ... random ones."
            : "");

    /* each view alone */
    tta_html_h2(f, "views", "Each view alone");
    tta_bars b = tta_bars_default("plot-views", "Top-1 accuracy of each view on its own (first model)",
                                  "top-1 accuracy (share of images)");
    b.n = r->n_views, b.labels = r->view_names, b.values = r->view_accuracy;
    b.has_ref = r->n_views > 0, b.ref = r->n_views ? r->view_accuracy[0] : 0, b.ref_label = "identity";
    double lo = 1;
    for (int i = 0; i < r->n_views; i++)
        lo = fmin(lo, r->view_accuracy[i]);
    b.v_min = fmax(0, floor((lo - 0.05) * 20) / 20);
    tta_bars_write(f, &b);
    tta_html_p(f, "A view far below the identity (dashed line) can pull the merged prediction down.");

    /* calibration */
    tta_html_h2(f, "reliability", "Calibration without and with TTA");
    char tname[256];
    snprintf(tname, sizeof tname, "TTA: %s", r->focus);
    reliability_plot(f, &r->rel_single, "one pass (identity)", &r->rel_tta, tname, "evaluation data");
    tta_html_p(
        f, "Points on the dashed diagonal are perfectly calibrated: below it the model is over-confident. "
           "The ECE in the legend is the table's.");

    TTA_TRY(examples(f, r->corrected, r->n_corrected, r->total_corrected, "corrected", r->focus));
    TTA_TRY(examples(f, r->broken, r->n_broken, r->total_broken, "broke", r->focus));
    tta_html_end(f);
    return TTA_OK;
}

tta_status tta_report_search_write(FILE *f, const tta_report_search *r) {
    char sub[1024];
    snprintf(sub, sizeof sub,
             "model %s; validation %s (%d images), test %s (%d images); pool of %d views; objective %s",
             r->model, r->val, r->n_val, r->test, r->n_test, r->pool_views, r->objective);
    tta_html_begin(f, "tta search: the best policy within a budget", sub);
    tta_html_h2(f, "chosen", "Chosen policy");
    tta_html_p(f, "Budget %d: %s (written to %s).", r->chosen_budget, r->chosen_policy, r->policy_file);

    tta_html_h2(f, "budgets", "Best policy for each budget");
    static const char *h[] = {"budget",    "views",    "method",        "val acc",  "val NLL",
                              "test acc",  "test NLL", "gain",          "95% CI",   "McNemar p",
                              "corrected", "broken",   "held-out gain", "interval", "supported"};
    int honest = r->n_rows > 0 && r->rows[0].has_honest;
    tta_html_table_begin(
        f, "table-budgets",
        honest ? "chosen on validation; test gain against the identity with its 95% paired bootstrap "
                 "interval; held out: the honest estimate from validation alone"
               : "chosen on validation; test gain against the identity with its 95% paired bootstrap "
                 "interval (no honest estimate was made)",
        honest ? 15 : 12, h);
    for (int i = 0; i < r->n_rows; i++) {
        const tta_report_budget_row *w = &r->rows[i];
        tta_html_row_begin(f);
        tta_html_cell(f, "%d%s", w->budget, w->budget == r->chosen_budget ? " (chosen)" : "");
        tta_html_cell(f, "%d", w->views);
        tta_html_cell_text(f, "%s", w->method);
        tta_html_cell(f, "%.4f", w->val_accuracy);
        tta_html_cell(f, "%.4f", w->val_nll);
        tta_html_cell(f, "%.4f", w->test_accuracy);
        tta_html_cell(f, "%.4f", w->test_nll);
        tta_html_cell(f, "%+.4f", w->gain);
        tta_html_cell(f, "[%+.4f, %+.4f]", w->gain_lo, w->gain_hi);
        tta_html_cell(f, "%.3g", w->mcnemar_p);
        tta_html_cell(f, "%d", w->corrected);
        tta_html_cell(f, "%d", w->broken);
        if (honest) {
            tta_html_cell(f, "%+.4f", w->held_gain);
            tta_html_cell(f, "[%+.4f, %+.4f]", w->held_lo, w->held_hi);
            tta_html_cell_text(f, "%s", w->budget == 1 ? "-" : w->supported ? "yes" : "no");
        }
        tta_html_row_end(f);
    }
    tta_html_table_end(f);
    static const char *hp[] = {"budget", "policy (cost = views = passes per image)"};
    tta_html_table_begin(f, "table-budget-policies", NULL, 2, hp);
    for (int i = 0; i < r->n_rows; i++) {
        tta_html_row_begin(f);
        tta_html_cell(f, "%d", r->rows[i].budget);
        tta_html_cell_text(f, "%s", r->rows[i].policy);
        tta_html_row_end(f);
    }
    tta_html_table_end(f);

    /* budgets: the gains with their intervals */
    int n = r->n_rows;
    double *buf = malloc(sizeof(double) * (size_t)n * 11);
    if (!buf) return tta_errorf(TTA_ERR_NOMEM, "report: out of memory");
    double *x = buf, *vg = buf + n, *hg = buf + 2 * n, *hlo = buf + 3 * n, *hhi = buf + 4 * n,
           *tg = buf + 5 * n, *tlo = buf + 6 * n, *thi = buf + 7 * n, *va = buf + 8 * n, *ta = buf + 9 * n,
           *xo = buf + 10 * n;
    int have_honest = 0;
    for (int i = 0; i < n; i++) {
        const tta_report_budget_row *w = &r->rows[i];
        x[i] = w->budget;
        vg[i] = w->val_accuracy - r->rows[0].val_accuracy;
        hg[i] = w->has_honest ? w->held_gain : NAN, hlo[i] = w->held_lo, hhi[i] = w->held_hi;
        have_honest |= w->has_honest;
        tg[i] = w->gain, tlo[i] = w->gain_lo, thi[i] = w->gain_hi;
        va[i] = w->val_accuracy, ta[i] = w->test_accuracy;
    }
    for (int i = 0; i < n; i++)
        xo[i] = x[i] + 0.1;
    double *xh = malloc(sizeof(double) * (size_t)n);
    if (!xh) {
        free(buf);
        return tta_errorf(TTA_ERR_NOMEM, "report: out of memory");
    }
    for (int i = 0; i < n; i++)
        xh[i] = x[i] - 0.1;
    tta_plot_series s[3] = {{.name = "validation gain (the search's own, optimistic)",
                             .n = n,
                             .x = x,
                             .y = vg,
                             .line_width = 1.5,
                             .dashed = 1,
                             .marker = TTA_MARK_SQUARE},
                            {.name = "honest estimate, held out (95% interval)",
                             .n = have_honest ? n : 0,
                             .x = xh,
                             .y = hg,
                             .lo = hlo,
                             .hi = hhi,
                             .marker = TTA_MARK_DIAMOND},
                            {.name = "test gain (95% bootstrap interval)",
                             .n = n,
                             .x = xo,
                             .y = tg,
                             .lo = tlo,
                             .hi = thi,
                             .line_width = 2,
                             .marker = TTA_MARK_CIRCLE}};
    tta_html_h2(f, "budget-plots", "Budget against validation and test");
    tta_plot p =
        tta_plot_default("plot-budget-gain", "Accuracy gain over the identity at each budget",
                         "budget (forward passes per image)", "top-1 accuracy gain (share of images)");
    p.integer_x = 1, p.zero_line = 1;
    if (!have_honest) s[1] = s[2]; /* no estimate (--honest-repeats 0): validation and test only */
    tta_plot_write(f, &p, s, have_honest ? 3 : 2);
    tta_plot_series acc[2] = {
        {.name = "validation accuracy",
         .n = n,
         .x = x,
         .y = va,
         .line_width = 2,
         .dashed = 1,
         .marker = TTA_MARK_SQUARE},
        {.name = "test accuracy", .n = n, .x = x, .y = ta, .line_width = 2, .marker = TTA_MARK_CIRCLE}};
    p = tta_plot_default("plot-budget-accuracy", "Accuracy of each budget's best policy",
                         "budget (forward passes per image)", "top-1 accuracy (share of images)");
    p.integer_x = 1;
    tta_plot_write(f, &p, acc, 2);
    tta_html_p(
        f,
        "The search picks on validation, so its validation gain is optimistic (the winner's curse); the "
        "honest estimate scores each budget's search on validation images it did not see. Test is looked at "
        "only after the choice.");
    free(xh);
    free(buf);

    /* adaptive TTA */
    tta_html_h2(f, "adaptive", "Adaptive TTA: cost against accuracy");
    if (r->adaptive) {
        int m = r->n_adaptive;
        double *ab = malloc(sizeof(double) * (size_t)m * 4);
        if (!ab) return tta_errorf(TTA_ERR_NOMEM, "report: out of memory");
        for (int i = 0; i < m; i++) {
            ab[i] = r->adaptive[i].val_cost, ab[m + i] = r->adaptive[i].val_accuracy;
            ab[2 * m + i] = r->adaptive[i].test_cost, ab[3 * m + i] = r->adaptive[i].test_accuracy;
        }
        double ax = r->adaptive_at.test_cost, ay = r->adaptive_at.test_accuracy;
        char at[160];
        snprintf(at, sizeof at, "test at the target of %.2f passes (threshold %.4f)", r->adaptive_at.target,
                 r->adaptive_at.threshold);
        tta_plot_series as[3] = {{.name = "validation (thresholds chosen here)",
                                  .n = m,
                                  .x = ab,
                                  .y = ab + m,
                                  .line_width = 1.5,
                                  .dashed = 1,
                                  .marker = TTA_MARK_SQUARE},
                                 {.name = "test",
                                  .n = m,
                                  .x = ab + 2 * m,
                                  .y = ab + 3 * m,
                                  .line_width = 2,
                                  .marker = TTA_MARK_CIRCLE},
                                 {.name = at,
                                  .n = 1,
                                  .x = &ax,
                                  .y = &ay,
                                  .marker = TTA_MARK_DIAMOND,
                                  .marker_size = 7,
                                  .colour = "#000000"}};
        p = tta_plot_default("plot-adaptive", "Adaptive TTA: extra views only below a confidence threshold",
                             "mean cost (forward passes per image)", "top-1 accuracy (share of images)");
        tta_plot_write(f, &p, as, 3);
        free(ab);
        tta_html_p(
            f,
            "The identity runs on every image; the other views of the chosen policy only when the identity's "
            "top probability is below a threshold chosen on validation for each target cost.");
    } else {
        tta_html_p(f, "The identity alone was chosen: there is no adaptive TTA to show.");
    }
    tta_html_h2(f, "reliability", "Calibration without and with TTA (test)");
    reliability_plot(f, &r->rel_single, "one pass (identity)", &r->rel_tta, "chosen policy", "test data");
    tta_html_end(f);
    return TTA_OK;
}
