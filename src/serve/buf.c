/* buf.c - see buf.h. Plain malloc: a response body is handed to libmicrohttpd, which frees it
 * with free(). */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "serve/buf.h"

static int reserve(serve_buf *b, size_t extra) {
    if (b->oom) return 0;
    if (b->len + extra + 1 <= b->cap) return 1;
    size_t cap = b->cap ? b->cap : 256;
    while (cap < b->len + extra + 1) {
        if (cap > (size_t)-1 / 2) {
            b->oom = 1;
            return 0;
        }
        cap *= 2;
    }
    char *d = realloc(b->data, cap);
    if (!d) {
        b->oom = 1;
        return 0;
    }
    b->data = d;
    b->cap = cap;
    return 1;
}

void serve_buf_put(serve_buf *b, const char *s, size_t n) {
    if (!reserve(b, n)) return;
    memcpy(b->data + b->len, s, n);
    b->len += n;
    b->data[b->len] = '\0';
}

void serve_buf_puts(serve_buf *b, const char *s) { serve_buf_put(b, s, strlen(s)); }

void serve_buf_printf(serve_buf *b, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0 || !reserve(b, (size_t)n)) return;
    va_start(ap, fmt);
    vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
}

void serve_buf_json_str(serve_buf *b, const char *s) {
    serve_buf_put(b, "\"", 1);
    const char *run = s;
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c != '"' && c != '\\' && c >= 0x20) continue;
        serve_buf_put(b, run, (size_t)(s - run));
        if (c == '"')
            serve_buf_put(b, "\\\"", 2);
        else if (c == '\\')
            serve_buf_put(b, "\\\\", 2);
        else if (c == '\n')
            serve_buf_put(b, "\\n", 2);
        else
            serve_buf_printf(b, "\\u%04x", c);
        run = s + 1;
    }
    serve_buf_put(b, run, (size_t)(s - run));
    serve_buf_put(b, "\"", 1);
}

void serve_buf_json_num(serve_buf *b, double v) {
    if (isfinite(v))
        serve_buf_printf(b, "%.6g", v == 0 ? 0.0 : v); /* no "-0" */
    else
        serve_buf_puts(b, "null");
}

char *serve_buf_take(serve_buf *b, size_t *len) {
    if (b->oom) {
        serve_buf_free(b);
        if (len) *len = 0;
        return NULL;
    }
    if (!b->data && !reserve(b, 0)) return NULL;
    if (!b->len) b->data[0] = '\0';
    char *d = b->data;
    if (len) *len = b->len;
    b->data = NULL;
    b->len = b->cap = 0;
    return d;
}

void serve_buf_free(serve_buf *b) {
    free(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
    b->oom = 0;
}
