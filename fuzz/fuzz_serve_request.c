/* fuzz_serve_request.c - libFuzzer target: a /v1/predict request body as `tta serve` parses it
 * (src/serve/request.c, base64.c; internal headers). The first byte picks the Content-Type
 * (JSON, PNG, none, multipart, curl's form default), the rest is the body:
 *   - serve_request_parse with small limits (4 images, 64 x 64 pixels): a success must give 1..4
 *     images within the limits, each read whole; a failure a status of 400, 415 or 500 and a
 *     message;
 *   - serve_image_size on the body: a size it reports must be positive;
 *   - serve_base64_decode on the body: a success must stay within serve_base64_decoded_max, and
 *     encoding the bytes back must give the input without its whitespace and padding (the
 *     decoder accepts canonical text only);
 *   - serve_params_set with the body split at its first '=' as key and value. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_common.h"
#include "serve/base64.h"
#include "serve/request.h"

int LLVMFuzzerInitialize(int *argc, char ***argv) {
    (void)argc;
    (void)argv;
    setenv("OMP_NUM_THREADS", "1", 1);
    return 0;
}

static void check_parse(const uint8_t *body, size_t n, const char *ct) {
    serve_limits lim = {.max_images = 4, .max_pixels = 64 * 64};
    serve_params p;
    serve_params_default(&p);
    tta_image *imgs = NULL;
    int count = 0;
    char msg[512] = "";
    int rc = serve_request_parse(body, n, ct, &lim, &p, &imgs, &count, msg, sizeof msg);
    if (rc == 0) {
        if (count < 1 || count > 4 || !imgs) {
            fprintf(stderr, "parse: %d images\n", count);
            abort();
        }
        for (int i = 0; i < count; i++) {
            if ((int64_t)imgs[i].width * imgs[i].height > lim.max_pixels || imgs[i].width < 1) {
                fprintf(stderr, "parse: image %d is %dx%d\n", i, imgs[i].width, imgs[i].height);
                abort();
            }
            fuzz_touch(imgs[i].data, tta_image_nbytes(&imgs[i]));
        }
        serve_job j = {.images = imgs, .n_images = count};
        serve_job_free_images(&j);
    } else if ((rc != 400 && rc != 415 && rc != 500) || !msg[0] || imgs || count) {
        fprintf(stderr, "parse: status %d, message '%s'\n", rc, msg);
        abort();
    }
}

static void check_base64(const uint8_t *d, size_t n) {
    unsigned char *out = malloc(serve_base64_decoded_max(n));
    size_t len = 0;
    char why[160];
    if (serve_base64_decode((const char *)d, n, out, &len, why, sizeof why) == 0) {
        if (len > serve_base64_decoded_max(n)) abort();
        char *enc = malloc(serve_base64_encoded_len(len) + 1), *in = malloc(n + 1);
        serve_base64_encode(out, len, enc);
        size_t a = 0, b = 0;
        for (size_t i = 0; i < n; i++)
            if (!strchr(" \t\r\n=", d[i])) in[a++] = (char)d[i];
        for (size_t i = 0; enc[i]; i++)
            if (enc[i] != '=') enc[b++] = enc[i];
        if (a != b || memcmp(in, enc, a)) {
            fprintf(stderr, "base64: decoding then encoding does not give the input back\n");
            abort();
        }
        free(enc);
        free(in);
    }
    free(out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 1 || size > (1 << 20)) return 0;
    static const char *const types[] = {"application/json", "image/png", NULL,
                                        "multipart/form-data; boundary=x",
                                        "application/x-www-form-urlencoded"};
    const char *ct = types[data[0] % 5];
    const uint8_t *body = data + 1;
    size_t n = size - 1;
    uint8_t *copy = malloc(n ? n : 1); /* an exact-size heap copy: ASan sees any read past the end */
    memcpy(copy, body, n);
    check_parse(copy, n, ct);
    int64_t w, h;
    if (serve_image_size(copy, n, &w, &h) == 0 && (w <= 0 || h <= 0)) abort();
    check_base64(copy, n);
    char kv[128];
    size_t m = n < sizeof kv - 1 ? n : sizeof kv - 1;
    memcpy(kv, copy, m);
    kv[m] = '\0';
    char *eq = strchr(kv, '=');
    if (eq) {
        *eq = '\0';
        serve_params p;
        serve_params_default(&p);
        char msg[256];
        if (serve_params_set(&p, kv, eq + 1, msg, sizeof msg) == 0 && (p.top < 1 || !(p.min_score >= 0)))
            abort();
    }
    free(copy);
    return 0;
}
