/* request.c - see request.h. JSON is parsed by jansson (duplicate keys refused); base64 by
 * base64.c; images by tta_image_decode after serve_image_size has read their header. */
#include <ctype.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "serve/base64.h"
#include "serve/request.h"
#include "tta/status.h"

static int64_t be16(const unsigned char *p) { return (int64_t)p[0] << 8 | p[1]; }
static int64_t be32(const unsigned char *p) {
    return (int64_t)p[0] << 24 | (int64_t)p[1] << 16 | (int64_t)p[2] << 8 | p[3];
}

int serve_image_size(const unsigned char *d, size_t n, int64_t *w, int64_t *h) {
    static const unsigned char png[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
    if (n >= 24 && !memcmp(d, png, 8)) {
        if (be32(d + 8) != 13 || memcmp(d + 12, "IHDR", 4)) return -1;
        *w = be32(d + 16);
        *h = be32(d + 20);
        return *w > 0 && *h > 0 ? 0 : -1;
    }
    if (n < 4 || d[0] != 0xFF || d[1] != 0xD8) return -1;
    size_t i = 2;
    while (i < n) {
        if (d[i] != 0xFF) { /* libjpeg skips stray bytes between markers; so do we */
            i++;
            continue;
        }
        while (i < n && d[i] == 0xFF)
            i++; /* fill bytes */
        if (i >= n) return -1;
        unsigned m = d[i++];
        if (m == 0xD8 || m == 0x01 || (m >= 0xD0 && m <= 0xD7)) continue; /* no length */
        if (m == 0xD9 || m == 0xDA) return -1; /* end of image or scan data before any frame */
        if (i + 2 > n) return -1;
        int64_t len = be16(d + i);
        if (len < 2) return -1;
        if (m >= 0xC0 && m <= 0xCF && m != 0xC4 && m != 0xC8 && m != 0xCC) {
            if (len < 7 || i + 7 > n) return -1;
            *h = be16(d + i + 3);
            *w = be16(d + i + 5);
            return *w > 0 && *h > 0 ? 0 : -1;
        }
        i += (size_t)len;
    }
    return -1;
}

int serve_decode_image(const unsigned char *data, size_t n, const char *what, const serve_limits *lim,
                       tta_image *img, char *msg, size_t msg_size) {
    int64_t w = 0, h = 0;
    if (n == 0) {
        snprintf(msg, msg_size, "%s: empty, expected a PNG or JPEG image", what);
        return 400;
    }
    /* w and h are below 2^32: each is checked alone first, so that w * h cannot overflow */
    if (serve_image_size(data, n, &w, &h) != 0) {
        snprintf(msg, msg_size, "%s: not a PNG or JPEG image, or its header is truncated or corrupt", what);
        return 400;
    }
    if (w > lim->max_pixels || h > lim->max_pixels || w * h > lim->max_pixels) {
        snprintf(msg, msg_size, "%s: %lld x %lld pixels is more than the limit of %lld pixels", what,
                 (long long)w, (long long)h, (long long)lim->max_pixels);
        return 400;
    }
    if (tta_image_decode(img, data, n, what) != TTA_OK) {
        snprintf(msg, msg_size, "%s", tta_last_error());
        return 400;
    }
    if ((int64_t)img->width * img->height > lim->max_pixels) { /* a header we misread: still refused */
        snprintf(msg, msg_size, "%s: %d x %d pixels is more than the limit of %lld pixels", what, img->width,
                 img->height, (long long)lim->max_pixels);
        tta_image_destroy(img);
        return 400;
    }
    return 0;
}

int serve_params_set(serve_params *p, const char *key, const char *value, char *msg, size_t msg_size) {
    char *end = NULL;
    if (!value) value = "";
    if (!strcmp(key, "top")) {
        long v = strtol(value, &end, 10);
        if (end == value || *end || v < 1 || v > 1000) goto bad;
        p->top = (int)v;
    } else if (!strcmp(key, "min_score")) {
        double v = strtod(value, &end);
        if (end == value || *end || !(v >= 0 && v <= 1)) goto bad;
        p->min_score = (float)v;
    } else if (!strcmp(key, "maps")) {
        if (!strcmp(value, "1") || !strcmp(value, "true"))
            p->maps = 1;
        else if (!strcmp(value, "0") || !strcmp(value, "false"))
            p->maps = 0;
        else
            goto bad;
    } else {
        snprintf(msg, msg_size, "unknown option '%.64s' (top, min_score, maps)", key);
        return 400;
    }
    return 0;
bad:
    snprintf(msg, msg_size, "option %s: bad value '%.64s'", key, value);
    return 400;
}

/* The media type of a Content-Type header, lowercased, without parameters. */
static void media_type(const char *ct, char *out, size_t size) {
    size_t o = 0;
    while (ct && (*ct == ' ' || *ct == '\t'))
        ct++;
    for (; ct && *ct && *ct != ';' && *ct != ' ' && o + 1 < size; ct++)
        out[o++] = (char)tolower((unsigned char)*ct);
    out[o] = '\0';
}

/* One base64 string of the JSON body into images[i]. */
static int json_image(json_t *s, int i, int many, const serve_limits *lim, tta_image *img, char *msg,
                      size_t msg_size) {
    char what[32];
    if (many)
        snprintf(what, sizeof what, "image %d", i + 1);
    else
        snprintf(what, sizeof what, "image");
    if (!json_is_string(s)) {
        snprintf(msg, msg_size, "%s: expected a base64 string", what);
        return 400;
    }
    size_t len = json_string_length(s);
    unsigned char *raw = malloc(serve_base64_decoded_max(len));
    if (!raw) {
        snprintf(msg, msg_size, "%s: out of memory", what);
        return 500;
    }
    size_t n = 0;
    char why[160];
    int rc = 0;
    if (serve_base64_decode(json_string_value(s), len, raw, &n, why, sizeof why)) {
        snprintf(msg, msg_size, "%s: %s", what, why);
        rc = 400;
    } else {
        rc = serve_decode_image(raw, n, what, lim, img, msg, msg_size);
    }
    free(raw);
    return rc;
}

static int parse_json(const void *body, size_t n, const serve_limits *lim, serve_params *params,
                      tta_image **images, int *n_images, char *msg, size_t msg_size) {
    json_error_t err;
    json_t *root = json_loadb(body, n, JSON_REJECT_DUPLICATES, &err);
    if (!root) {
        snprintf(msg, msg_size, "malformed JSON at line %d, column %d: %s", err.line, err.column, err.text);
        return 400;
    }
    int rc = 0;
    json_t *one = NULL, *many = NULL;
    serve_params p = *params;
    tta_image *imgs = NULL;
    int count = 0;
    const char *key;
    json_t *v;
    if (!json_is_object(root)) {
        snprintf(msg, msg_size, "expected a JSON object {\"image\": BASE64} or {\"images\": [BASE64, ...]}");
        rc = 400;
        goto done;
    }
    json_object_foreach(root, key, v) {
        if (!strcmp(key, "image"))
            one = v;
        else if (!strcmp(key, "images"))
            many = v;
        else if (!strcmp(key, "top") || !strcmp(key, "min_score")) {
            char text[64];
            if (!json_is_number(v)) {
                snprintf(msg, msg_size, "field %s: expected a number", key);
                rc = 400;
                goto done;
            }
            if (json_is_integer(v))
                snprintf(text, sizeof text, "%lld", (long long)json_integer_value(v));
            else
                snprintf(text, sizeof text, "%.17g", json_real_value(v));
            if ((rc = serve_params_set(&p, key, text, msg, msg_size))) goto done;
        } else if (!strcmp(key, "maps")) {
            if (!json_is_boolean(v)) {
                snprintf(msg, msg_size, "field maps: expected true or false");
                rc = 400;
                goto done;
            }
            p.maps = json_is_true(v);
        } else {
            snprintf(msg, msg_size, "unknown field '%.64s' (image, images, top, min_score, maps)", key);
            rc = 400;
            goto done;
        }
    }
    if (!one == !many) {
        snprintf(msg, msg_size,
                 one ? "give \"image\" or \"images\", not both" : "no \"image\" or \"images\" field");
        rc = 400;
        goto done;
    }
    if (many && !json_is_array(many)) {
        snprintf(msg, msg_size, "field images: expected an array of base64 strings");
        rc = 400;
        goto done;
    }
    count = one ? 1
                : (int)(json_array_size(many) < (size_t)lim->max_images + 1 ? json_array_size(many)
                                                                            : (size_t)lim->max_images + 1);
    if (count == 0 || count > lim->max_images) {
        snprintf(msg, msg_size, count ? "more than %d images in one request" : "field images: empty array",
                 lim->max_images);
        rc = 400;
        goto done;
    }
    imgs = calloc((size_t)count, sizeof *imgs);
    if (!imgs) {
        snprintf(msg, msg_size, "out of memory");
        rc = 500;
        goto done;
    }
    for (int i = 0; i < count && !rc; i++)
        rc = json_image(one ? one : json_array_get(many, (size_t)i), i, many != NULL, lim, &imgs[i], msg,
                        msg_size);
done:
    json_decref(root);
    if (rc) {
        for (int i = 0; imgs && i < count; i++)
            tta_image_destroy(&imgs[i]);
        free(imgs);
        return rc;
    }
    *params = p;
    *images = imgs;
    *n_images = count;
    return 0;
}

int serve_request_parse(const void *body, size_t n, const char *content_type, const serve_limits *lim,
                        serve_params *params, tta_image **images, int *n_images, char *msg, size_t msg_size) {
    char mt[64];
    media_type(content_type, mt, sizeof mt);
    *images = NULL;
    *n_images = 0;
    if (!strncmp(mt, "multipart/", 10)) {
        snprintf(msg, msg_size,
                 "%s bodies are not accepted: send the image bytes as they are (image/png, "
                 "image/jpeg) or JSON with base64 images",
                 mt);
        return 415;
    }
    const unsigned char *b = body;
    size_t lead = 0;
    while (lead < n && (b[lead] == ' ' || b[lead] == '\t' || b[lead] == '\r' || b[lead] == '\n'))
        lead++;
    int json = !strcmp(mt, "application/json") || (lead < n && b[lead] == '{');
    if (json) return parse_json(body, n, lim, params, images, n_images, msg, msg_size);
    tta_image *img = calloc(1, sizeof *img);
    if (!img) {
        snprintf(msg, msg_size, "out of memory");
        return 500;
    }
    int rc = serve_decode_image(body, n, "image", lim, img, msg, msg_size);
    if (rc) {
        free(img);
        return rc;
    }
    *images = img;
    *n_images = 1;
    return 0;
}
