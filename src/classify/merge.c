/* merge.c - turning a view's raw output into probabilities, and the streaming merger that
 * combines views (mean, mean of logits, geometric mean, max, vote, weighted mean) in memory
 * that does not grow with the number of views. Logs are taken of probabilities floored at
 * 1e-30 so that no merge produces NaN or -inf from a zero probability. */
#include <float.h>
#include <math.h>
#include <string.h>

#include "core/alloc.h"
#include "core/error.h"
#include "tta/classify.h"

#define LOG_FLOOR 1e-30

static const char *merge_names[] = {"mean", "logits", "geometric", "max", "vote", "weighted"};

const char *tta_merge_name(tta_merge m) {
    return (unsigned)m < sizeof merge_names / sizeof merge_names[0] ? merge_names[m] : "unknown";
}

tta_status tta_merge_parse(const char *name, tta_merge *out) {
    for (size_t i = 0; i < sizeof merge_names / sizeof merge_names[0]; i++)
        if (!strcmp(name, merge_names[i])) {
            *out = (tta_merge)i;
            return TTA_OK;
        }
    if (!strcmp(name, "geomean")) {
        *out = TTA_MERGE_GEOMETRIC;
        return TTA_OK;
    }
    return tta_errorf(TTA_ERR_INVALID_ARG, "unknown merge '%s' (known: mean, logits, geometric, max, vote, weighted)",
                      name);
}

const char *tta_activation_name(tta_activation a) {
    switch (a) {
    case TTA_ACT_AUTO: return "auto";
    case TTA_ACT_LOGITS: return "logits";
    case TTA_ACT_SOFTMAX: return "softmax";
    case TTA_ACT_SIGMOID: return "sigmoid";
    }
    return "unknown";
}

tta_status tta_scores_to_probs(float *s, int k, tta_activation act) {
    for (int i = 0; i < k; i++)
        if (isnan(s[i])) return tta_errorf(TTA_ERR_INVALID_ARG, "model output has NaN at class %d", i);
    if (act == TTA_ACT_LOGITS) {
        float mx = -FLT_MAX;
        for (int i = 0; i < k; i++) mx = s[i] > mx ? s[i] : mx;
        double sum = 0;
        for (int i = 0; i < k; i++) sum += exp((double)s[i] - mx);
        for (int i = 0; i < k; i++) s[i] = (float)(exp((double)s[i] - mx) / sum);
    } else if (act == TTA_ACT_SIGMOID) {
        for (int i = 0; i < k; i++) s[i] = (float)(1.0 / (1.0 + exp(-(double)s[i])));
    } else {
        for (int i = 0; i < k; i++) s[i] = s[i] < 0 ? 0 : s[i] > 1 ? 1 : s[i];
    }
    return TTA_OK;
}

tta_status tta_merger_init(tta_merger *m, tta_merge method, int k) {
    memset(m, 0, sizeof *m);
    if (k <= 0) return tta_errorf(TTA_ERR_INVALID_ARG, "merger: %d classes", k);
    if ((unsigned)method > TTA_MERGE_WEIGHTED) return tta_errorf(TTA_ERR_INVALID_ARG, "merger: unknown method %d", method);
    m->method = method;
    m->k = k;
    m->acc = tta_calloc((size_t)k, sizeof(double));
    m->aux = tta_calloc((size_t)k, sizeof(double));
    if (!m->acc || !m->aux) {
        tta_merger_destroy(m);
        return tta_errorf(TTA_ERR_NOMEM, "out of memory");
    }
    return TTA_OK;
}

void tta_merger_reset(tta_merger *m) {
    m->n_added = 0;
    m->weight_sum = 0;
    for (int i = 0; i < m->k; i++) m->acc[i] = m->aux[i] = 0;
}

void tta_merger_add(tta_merger *m, const float *p, double weight) {
    int k = m->k;
    double w = m->method == TTA_MERGE_WEIGHTED ? weight : 1.0;
    switch (m->method) {
    case TTA_MERGE_MEAN:
    case TTA_MERGE_WEIGHTED:
        for (int i = 0; i < k; i++) m->acc[i] += w * p[i];
        break;
    case TTA_MERGE_LOGITS:
    case TTA_MERGE_GEOMETRIC:
        /* log p is the logit up to a per-view constant, which softmax removes: both merges are
         * the normalised geometric mean of the probabilities. */
        for (int i = 0; i < k; i++) m->acc[i] += log(p[i] > LOG_FLOOR ? p[i] : LOG_FLOOR);
        break;
    case TTA_MERGE_MAX:
        for (int i = 0; i < k; i++)
            if (m->n_added == 0 || p[i] > m->acc[i]) m->acc[i] = p[i];
        break;
    case TTA_MERGE_VOTE: {
        int best = 0;
        for (int i = 1; i < k; i++)
            if (p[i] > p[best]) best = i;
        m->acc[best] += 1;
        for (int i = 0; i < k; i++) m->aux[i] += p[i];
        break;
    }
    }
    m->weight_sum += w;
    m->n_added++;
}

tta_status tta_merger_result(const tta_merger *m, float *out) {
    int k = m->k;
    if (m->n_added == 0) return tta_errorf(TTA_ERR_INVALID_ARG, "merger: no views added");
    double sum = 0;
    switch (m->method) {
    case TTA_MERGE_MEAN:
    case TTA_MERGE_WEIGHTED:
        if (!(m->weight_sum > 0)) return tta_errorf(TTA_ERR_INVALID_ARG, "merger: view weights sum to %g", m->weight_sum);
        for (int i = 0; i < k; i++) out[i] = (float)(m->acc[i] / m->weight_sum);
        return TTA_OK;
    case TTA_MERGE_LOGITS:
    case TTA_MERGE_GEOMETRIC: {
        double mx = -DBL_MAX;
        for (int i = 0; i < k; i++) mx = m->acc[i] / m->n_added > mx ? m->acc[i] / m->n_added : mx;
        for (int i = 0; i < k; i++) sum += exp(m->acc[i] / m->n_added - mx);
        for (int i = 0; i < k; i++) out[i] = (float)(exp(m->acc[i] / m->n_added - mx) / sum);
        return TTA_OK;
    }
    case TTA_MERGE_MAX:
        for (int i = 0; i < k; i++) sum += m->acc[i];
        for (int i = 0; i < k; i++) out[i] = (float)(sum > 0 ? m->acc[i] / sum : 1.0 / k);
        return TTA_OK;
    case TTA_MERGE_VOTE: {
        /* vote fractions; a tiny share of the mean probability breaks ties and keeps every
         * class's probability above zero (so NLL stays finite) without changing the winner
         * of a clear vote: it moves a probability by at most 1e-3. */
        const double eps = 1e-3;
        for (int i = 0; i < k; i++)
            out[i] = (float)((1 - eps) * m->acc[i] / m->n_added + eps * m->aux[i] / m->n_added);
        return TTA_OK;
    }
    }
    return tta_errorf(TTA_ERR_INTERNAL, "merger: bad method");
}

void tta_merger_destroy(tta_merger *m) {
    tta_free(m->acc);
    tta_free(m->aux);
    m->acc = m->aux = NULL;
}
