/* reliability.h - the figures of a reliability diagram: predictions put in equal-width bins of
 * their confidence (the top probability), each bin's count, mean confidence and accuracy, and
 * the expected calibration error (ECE) they add up to. With 15 bins the ECE is the one
 * tta_metrics_compute reports (the same bins), so a report's diagram and table agree. */
#ifndef TTA_REPORT_RELIABILITY_H
#define TTA_REPORT_RELIABILITY_H

#define TTA_RELIABILITY_MAX_BINS 32

typedef struct tta_reliability {
    int n_bins, n;
    int count[TTA_RELIABILITY_MAX_BINS];
    double confidence[TTA_RELIABILITY_MAX_BINS]; /* mean top probability in the bin (0 if empty) */
    double accuracy[TTA_RELIABILITY_MAX_BINS];   /* share of right predictions in the bin (0 if empty) */
    double ece;                                  /* sum over bins of count / n x |accuracy - confidence| */
} tta_reliability;

/* probs: n x k, labels: n. Bin b holds confidences in [b / n_bins, (b + 1) / n_bins), the last
 * bin also 1. n_bins is clamped to 1..TTA_RELIABILITY_MAX_BINS. */
void tta_reliability_compute(const float *probs, const int *labels, int n, int k, int n_bins,
                             tta_reliability *out);

#endif
