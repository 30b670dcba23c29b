/* objective.c - what the search optimises, and scoring a policy on a prediction table.
 *
 * Three objectives: accuracy (ties broken by NLL, so that among policies with equal accuracy
 * the better calibrated one wins), NLL, and calibrated NLL: the NLL after the temperature that
 * minimises it on the same data, as GPS chooses its policies (an ensemble of views is usually
 * under-confident, which raw NLL punishes and a temperature fixes). The temperature is fitted
 * by Newton's method on 1/T (classify/temperature.c), warm-started from the temperature of a
 * similar policy, since the search fits a thousand of them. */
#include <float.h>
#include <math.h>
#include <string.h>

#include "classify/temperature.h"
#include "core/error.h"
#include "search/internal.h"
#include "tta/classify.h"
#include "tta/search.h"

#define P_FLOOR 1e-7    /* as tta_metrics_compute */

static const char *objective_names[] = {"accuracy", "nll", "calibrated-nll"};

const char *tta_objective_name(tta_objective o) {
    return (unsigned)o < sizeof objective_names / sizeof objective_names[0] ? objective_names[o] : "unknown";
}

tta_status tta_objective_parse(const char *name, tta_objective *out) {
    for (size_t i = 0; name && i < sizeof objective_names / sizeof objective_names[0]; i++)
        if (!strcmp(name, objective_names[i])) {
            *out = (tta_objective)i;
            return TTA_OK;
        }
    return tta_errorf(TTA_ERR_INVALID_ARG, "unknown objective '%s' (known: accuracy, nll, calibrated-nll)",
                      name ? name : "(null)");
}

void search_objective_eval(tta_objective obj, const float *probs, const int *labels, int n, int k, double t0,
                           tta_objective_value *out) {
    memset(out, 0, sizeof *out);
    out->temperature = 1;
    if (n <= 0) return;
    int correct = 0;
    double nll = 0;
    for (int i = 0; i < n; i++) {
        const float *p = probs + (size_t)i * k;
        correct += tta_argmax(p, k) == labels[i];
        double py = p[labels[i]];
        nll -= log(py > P_FLOOR ? py : P_FLOOR);
    }
    out->accuracy = (double)correct / n;
    out->nll = out->calibrated_nll = nll / n;
    if (obj == TTA_OBJECTIVE_CALIBRATED_NLL)
        out->temperature = tta_fit_temperature_from(probs, labels, n, k, t0, &out->calibrated_nll);
    out->loss = obj == TTA_OBJECTIVE_ACCURACY ? 1 - out->accuracy
                : obj == TTA_OBJECTIVE_NLL    ? out->nll
                                              : out->calibrated_nll;
}

void tta_objective_eval(tta_objective obj, const float *probs, const int *labels, int n, int k,
                        tta_objective_value *out) {
    search_objective_eval(obj, probs, labels, n, k, 1, out);
}

int tta_objective_compare(tta_objective obj, const tta_objective_value *a, const tta_objective_value *b) {
    /* NLLs within 1e-9 are equal: the same policy fitted from two starting temperatures
     * differs in the last digits */
    double tol = obj == TTA_OBJECTIVE_ACCURACY ? 0 : 1e-9 * (fabs(a->loss) > 1 ? fabs(a->loss) : 1);
    if (a->loss < b->loss - tol) return -1;
    if (a->loss > b->loss + tol) return 1;
    double sa = obj == TTA_OBJECTIVE_ACCURACY ? a->nll : -a->accuracy;
    double sb = obj == TTA_OBJECTIVE_ACCURACY ? b->nll : -b->accuracy;
    return sa < sb ? -1 : sa > sb ? 1 : 0;
}

tta_status tta_pred_table_merge(const tta_pred_table *t, const int *views, const double *weights, int m,
                                float *out) {
    if (!t || !views || !out || m <= 0 || t->n <= 0 || t->k <= 0)
        return tta_errorf(TTA_ERR_INVALID_ARG, "merge: empty table or no views");
    for (int j = 0; j < m; j++)
        if (views[j] < 0 || views[j] >= t->n_views)
            return tta_errorf(TTA_ERR_INVALID_ARG, "merge: view %d is not in the table of %d views", views[j],
                              t->n_views);
    tta_merger mg;
    TTA_TRY(tta_merger_init(&mg, weights ? TTA_MERGE_WEIGHTED : TTA_MERGE_MEAN, t->k));
    tta_status st = TTA_OK;
    size_t block = (size_t)t->n * t->k;
    for (int i = 0; i < t->n && !st; i++) {
        tta_merger_reset(&mg);
        for (int j = 0; j < m; j++)
            tta_merger_add(&mg, t->probs + views[j] * block + (size_t)i * t->k, weights ? weights[j] : 1.0);
        st = tta_merger_result(&mg, out + (size_t)i * t->k);
    }
    tta_merger_destroy(&mg);
    return st;
}
