/* response.h - the JSON bodies of the server: errors, and per image the result of each task
 * (classes with probabilities and the views' agreement; boxes with their support; a label-mask
 * PNG in base64 with uncertainty scores). A predict response wraps one result per image of the
 * request:
 *     {"model": "fashion_cnn.onnx", "task": "classify", "results": [ {...}, ... ]}
 * Numbers have 6 significant digits; anything not finite is null. Pure formatting. */
#ifndef TTA_SERVE_RESPONSE_H
#define TTA_SERVE_RESPONSE_H

#include <stdint.h>

#include "serve/buf.h"
#include "tta/detect.h"

/* {"error": {"code": 400, "message": "..."}} and a newline. */
void serve_json_error(serve_buf *b, int code, const char *message);

/* The envelope around a request's results: begin, then each result with serve_json_next
 * before all but the first, then end. */
void serve_json_begin(serve_buf *b, const char *model, const char *task);
void serve_json_next(serve_buf *b);
void serve_json_end(serve_buf *b);

typedef struct serve_class_result {
    int k;
    const float *probs;       /* k merged probabilities */
    const char *const *names; /* k class names, or NULL (entries may be NULL) */
    int top;                  /* classes listed, best first (ties: the lower index first) */
    double entropy;           /* of the merged distribution, nats */
    int agree, n_views;       /* views whose own top class is the merged one, out of views run */
    double confidence;        /* identity view's top probability under adaptive TTA; < 0: not shown */
} serve_class_result;

/* {"class": C, "label": NAME, "probability": P, "top": [{"class", "label", "probability"}, ...],
 *  "entropy": E, "agreement": A/V, "views_agreeing": A, "passes": V[, "identity_confidence": X]} */
void serve_json_classify(serve_buf *b, const serve_class_result *r);

/* {"width": W, "height": H, "passes": V, "boxes": [{"box": [x1, y1, x2, y2], "score": S,
 *  "class": C, "label": NAME, "support": N}, ...]}: boxes scoring at least min_score, in
 * their order. names: n_names class names or NULL. */
void serve_json_detect(serve_buf *b, const tta_box *boxes, int n, const char *const *names, int n_names,
                       int width, int height, float min_score, int passes);

typedef struct serve_seg_result {
    int width, height, classes, passes;
    const char *const *names;    /* classes names or NULL */
    const int64_t *class_pixels; /* classes counts of the label mask */
    double uncertainty;          /* mean predictive entropy over the pixels, nats */
    double disagreement;         /* mean share of views disagreeing with the merged label */
    const char *mask_png;        /* base64 PNG: one 8-bit channel, pixel = class */
    const char *uncertainty_png; /* base64 PNG of the entropy map scaled to 0..255 (by log C), or NULL */
} serve_seg_result;

/* {"width", "height", "classes", "passes", "uncertainty", "disagreement", "class_pixels": {NAME:
 *  N, ...} (classes with pixels only), "mask_png"[, "uncertainty_png"]} */
void serve_json_segment(serve_buf *b, const serve_seg_result *r);

#endif
