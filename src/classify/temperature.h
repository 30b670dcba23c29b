/* temperature.h - the library's temperature fitting behind tta_fit_temperature (classify.h):
 * a warm-started Newton fit for the search, and the golden-section fit kept as the fallback and
 * the tests' independent check. Internal to tta. */
#ifndef TTA_CLASSIFY_TEMPERATURE_H
#define TTA_CLASSIFY_TEMPERATURE_H

#include "tta/classify.h"

/* tta_fit_temperature starting from T = t0 (a similar policy's). */
double tta_fit_temperature_from(const float *probs, const int *labels, int n, int k, double t0, double *nll);
/* The same minimum by golden-section search over log T in [1/20, 20] (no allocation). */
double tta_fit_temperature_golden(const float *probs, const int *labels, int n, int k);

#endif
