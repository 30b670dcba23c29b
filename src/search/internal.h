/* internal.h - what the search files share beyond include/tta/search.h: objectives with a
 * warm start for the temperature (the search scores many similar policies in a row, whose
 * temperatures are close). Not part of the public API. */
#ifndef TTA_SEARCH_INTERNAL_H
#define TTA_SEARCH_INTERNAL_H

#include "tta/search.h"

/* tta_objective_eval with the fit starting from temperature t0. */
void search_objective_eval(tta_objective obj, const float *probs, const int *labels, int n, int k, double t0,
                           tta_objective_value *out);

#endif
