/* request.h - a /v1/predict request body made into images: a PNG or JPEG body as it is, or
 * JSON {"image": BASE64} / {"images": [BASE64, ...]} with optional "top", "min_score" and
 * "maps"; query-string options; and the limits checked before anything large is allocated
 * (images per request, pixels per image, read from the PNG/JPEG header before decoding).
 * Every refusal is an HTTP status (400 or 415; 500 when memory runs out) with a one-line message for the JSON
 * error. Pure functions: no I/O, no global state (fuzz/fuzz_serve_request.c drives them). */
#ifndef TTA_SERVE_REQUEST_H
#define TTA_SERVE_REQUEST_H

#include <stddef.h>
#include <stdint.h>

#include "serve/job.h"
#include "tta/image.h"

typedef struct serve_limits {
    int max_images;     /* images per request (JSON "images") */
    int64_t max_pixels; /* width x height of one image */
} serve_limits;

/* Width and height from a PNG (IHDR) or JPEG (first SOFn marker) header, without decoding.
 * Returns 0, or -1 when the bytes are not a PNG or JPEG header that gives a non-zero size. */
int serve_image_size(const unsigned char *data, size_t n, int64_t *width, int64_t *height);

/* Decodes one image after checking its header against max_pixels. `what` names it in
 * messages ("image", "image 2"). Returns 0 or 400 with msg. */
int serve_decode_image(const unsigned char *data, size_t n, const char *what, const serve_limits *lim,
                       tta_image *img, char *msg, size_t msg_size);

/* Parses a request body of n bytes. content_type may be NULL (then JSON is recognised by a
 * leading '{'); multipart/form-data is refused with 415. On success returns 0 with *images a
 * malloc'd array of *n_images owned images (serve_job_free_images frees them as a job's) and
 * params updated from JSON fields; on failure returns 400 or 415 with msg, and nothing to free. */
int serve_request_parse(const void *body, size_t n, const char *content_type, const serve_limits *lim,
                        serve_params *params, tta_image **images, int *n_images, char *msg, size_t msg_size);

/* One query-string option (top=N, min_score=X, maps=0|1). Returns 0, or 400 with msg for an
 * unknown key or a bad value. */
int serve_params_set(serve_params *p, const char *key, const char *value, char *msg, size_t msg_size);

#endif
