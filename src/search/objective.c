/* objective.c - what the search optimises, and scoring a policy on a prediction table.
 *
 * Three objectives: accuracy (ties broken by NLL, so that among policies with equal accuracy
 * the better calibrated one wins), NLL, and calibrated NLL: the NLL after the temperature that
 * minimises it on the same data, as GPS chooses its policies (an ensemble of views is usually
 * under-confident, which raw NLL punishes and a temperature fixes). The temperature is fitted
 * by Newton's method on 1/T, which the search calls a thousand times; it converges in a few
 * passes (fewer from the temperature of a similar policy) where the golden-section search of
 * tta_fit_temperature takes sixty. */
#include <float.h>
#include <math.h>
#include <string.h>

#include "core/error.h"
#include "search/internal.h"
#include "tta/classify.h"
#include "tta/search.h"

#define P_FLOOR 1e-7    /* as tta_metrics_compute */
#define LOG_FLOOR 1e-30 /* as tta_fit_temperature */
#define BETA_MIN (1.0 / 20)
#define BETA_MAX 20.0

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

/* The log-probabilities of a table of probabilities, prepared once per fit: d (n x k) is each
 * log minus the image's largest (the softmax's shift for any beta > 0, so that the
 * exponentials never overflow), dy the true class's. Double precision throughout: near the
 * optimum f changes by less than single-precision exponentials would blur it. */
typedef struct logs {
    int n, k;
    double *d, *dy;
} logs;

/* f(beta) = mean NLL of softmax(beta * l), with its first and second derivatives (f is convex
 * in beta: f'' is the mean variance of l under the softmax). */
static double nll_beta(const logs *L, double beta, double *g, double *h) {
    double f = 0, gs = 0, hs = 0;
    for (int i = 0; i < L->n; i++) {
        const double *di = L->d + (size_t)i * L->k;
        double s = 0, e1 = 0, e2 = 0;
        for (int c = 0; c < L->k; c++) {
            double w = exp(beta * di[c]);
            s += w;
            e1 += w * di[c];
            e2 += w * di[c] * di[c];
        }
        e1 /= s;
        e2 /= s;
        f += log(s) - beta * L->dy[i];
        gs += e1 - L->dy[i];
        hs += e2 - e1 * e1;
    }
    if (g) *g = gs / L->n;
    if (h) *h = hs / L->n;
    return f / L->n;
}

/* f(beta) straight from the probabilities, without a buffer of logs. */
static double nll_at(const float *probs, const int *labels, int n, int k, double beta) {
    double f = 0;
    for (int i = 0; i < n; i++) {
        const float *p = probs + (size_t)i * k;
        double mx = -DBL_MAX, s = 0;
        for (int c = 0; c < k; c++) {
            double z = beta * log(p[c] > LOG_FLOOR ? p[c] : LOG_FLOOR);
            if (z > mx) mx = z;
        }
        for (int c = 0; c < k; c++) s += exp(beta * log(p[c] > LOG_FLOOR ? p[c] : LOG_FLOOR) - mx);
        f += mx + log(s) - beta * log(p[labels[i]] > LOG_FLOOR ? p[labels[i]] : LOG_FLOOR);
    }
    return f / n;
}

double search_fit_temperature(const float *probs, const int *labels, int n, int k, double t0, double *nll) {
    if (n <= 0 || k <= 0) {
        if (nll) *nll = 0;
        return 1;
    }
    logs L = {n, k, tta_malloc(sizeof(double) * (size_t)n * (k + 1)), NULL};
    if (!L.d) { /* no memory for the logs: the slower fit that needs none */
        double t = tta_fit_temperature(probs, labels, n, k);
        if (nll) *nll = nll_at(probs, labels, n, k, 1 / t);
        return t;
    }
    L.dy = L.d + (size_t)n * k;
    for (int i = 0; i < n; i++) {
        double *di = L.d + (size_t)i * k, mx = -DBL_MAX;
        for (int c = 0; c < k; c++) {
            float p = probs[(size_t)i * k + c];
            di[c] = log(p > LOG_FLOOR ? p : LOG_FLOOR);
            mx = di[c] > mx ? di[c] : mx;
        }
        for (int c = 0; c < k; c++) di[c] -= mx;
        L.dy[i] = di[labels[i]];
    }
    double beta = t0 > 0 ? 1 / t0 : 1;
    if (beta < BETA_MIN) beta = BETA_MIN;
    if (beta > BETA_MAX) beta = BETA_MAX;
    double g, h, f = nll_beta(&L, beta, &g, &h);
    /* Newton steps, halved while one overshoots; a step below 1e-7 beta ends the search */
    for (int it = 0; it < 50; it++) {
        double step = h > 1e-12 ? -g / h : -g;
        double nb = beta + step;
        if (nb < BETA_MIN) nb = BETA_MIN;
        if (nb > BETA_MAX) nb = BETA_MAX;
        if (fabs(nb - beta) < 1e-7 * beta) break;
        double ng, nh, nf = nll_beta(&L, nb, &ng, &nh);
        for (int back = 0; back < 30 && nf > f; back++) {
            nb = beta + (nb - beta) / 2;
            nf = nll_beta(&L, nb, &ng, &nh);
        }
        if (nf > f) break;
        beta = nb, f = nf, g = ng, h = nh;
    }
    tta_free(L.d);
    if (nll) *nll = f;
    return 1 / beta;
}

double tta_temperature_fit_newton(const float *probs, const int *labels, int n, int k, double *nll) {
    return search_fit_temperature(probs, labels, n, k, 1, nll);
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
        out->temperature = search_fit_temperature(probs, labels, n, k, t0, &out->calibrated_nll);
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
